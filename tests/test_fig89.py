"""Figures 8 and 9 and ``paper summary``: the sparse_noscale feedback variant, the build of learned
feedback, the claim statistics, quick studies end to end (on the sweep engine) and the summary table."""

import json
import math
import subprocess
import sys
import time

import numpy as np
import pytest

from brian_segdend.model.network import SegDendNetwork, initial_weights, weight_recipe
from brian_segdend.model.params import ModelParams, ParameterError
from brian_segdend.studies import fig9 as F9
from brian_segdend.studies.paper_study import paired_difference, t_critical_one_sided


# ---------------------------------------------------------------------------- feedback variants
def test_sparse_noscale_feedback_statistics():
    """Same seed: W and b equal for all variants; sparse_noscale = random Y with 80% zeroed; sparse = 5 x that."""
    ws = {fb: initial_weights(ModelParams(hidden=(500,), feedback=fb), np.random.default_rng(3))
          for fb in ("random", "sparse", "sparse_noscale")}
    for fb in ("sparse", "sparse_noscale"):
        for k in range(2):
            np.testing.assert_array_equal(ws[fb]["W"][k], ws["random"]["W"][k])
            np.testing.assert_array_equal(ws[fb]["b"][k], ws["random"]["b"][k])
    Yr, Ys, Yn = (ws[fb]["Y"][0] for fb in ("random", "sparse", "sparse_noscale"))
    assert Yn.shape == Yr.shape == (500, 10)
    assert np.count_nonzero(Yr) == Yr.size                  # random: dense
    keep = Yn != 0
    assert abs(keep.mean() - 0.2) < 0.03, keep.mean()        # 80% zeros (5,000 entries: sd 0.006)
    np.testing.assert_array_equal(Yn[keep], Yr[keep])        # the survivors are not rescaled
    np.testing.assert_array_equal(Ys, 5.0 * Yn)              # sparse: the same mask, x 5
    # means: sparse keeps the recipe's mean (x5 compensates the zeros), noscale has a fifth of it
    # (each within 4 standard errors of the mean over the 5,000 entries)
    Y_avg, _ = weight_recipe(500, ModelParams(hidden=(500,)))
    for Y, expect in ((Yr, Y_avg), (Ys, Y_avg), (Yn, 0.2 * Y_avg)):
        assert abs(Y.mean() - expect) < 4 * Y.std() / math.sqrt(Y.size), (Y.mean(), expect)
    # second moments: noscale carries a fifth of random's feedback power, sparse five times it
    m2 = (Yr ** 2).mean()
    assert abs((Yn ** 2).mean() / m2 - 0.2) < 0.03
    assert abs((Ys ** 2).mean() / m2 - 5.0) < 0.75
    assert abs(Yn[keep].std() / Yr.std() - 1.0) < 0.1       # survivors keep the random spread


def test_feedback_variant_validation():
    assert ModelParams(feedback="sparse_noscale").feedback == "sparse_noscale"
    with pytest.raises(ParameterError, match="feedback"):
        ModelParams(feedback="sparse-noscale")


def test_learned_feedback_has_its_own_build():
    """symmetric feedback compiles a Y update: another build folder than the fixed variants share."""
    hashes = {}
    for fb in ("random", "sparse_noscale", "symmetric", "symmetric_noise"):
        net = SegDendNetwork(ModelParams(hidden=(20,), feedback=fb), chunk_steps=300)
        hashes[fb] = net.build_hash
        net.release()
    assert hashes["random"] == hashes["sparse_noscale"]
    assert hashes["symmetric"] == hashes["symmetric_noise"] != hashes["random"]


def test_build_hash_does_not_depend_on_the_process_history():
    """The first network of a process (before -funroll-loops is in Brian2's prefs) and later ones share a hash."""
    import brian2
    flags = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    hashes = []
    try:
        for f in ([x for x in flags if x != "-funroll-loops"], flags + ["-funroll-loops"] * ("-funroll-loops" not in flags)):
            brian2.prefs.codegen.cpp.extra_compile_args_gcc = f
            net = SegDendNetwork(ModelParams(hidden=(20,)), chunk_steps=300)
            hashes.append(net.build_hash)
            net.release()
    finally:
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = flags
    assert hashes[0] == hashes[1]


# ---------------------------------------------------------------------------- statistics and claims
def _entry(curves: dict):
    """A collect_variants entry from {seed: [test error fraction per epoch]}."""
    seeds = {str(s): {"status": "finished", "test_error": c, "initial_test_error": 0.9, "images_trained": 10,
                      "network": "784-50-20-10"} for s, c in curves.items()}
    n = min(len(c) for c in curves.values())
    arr = 100 * np.array([c[:n] for c in curves.values()])
    sem = (arr.std(axis=0, ddof=1) / math.sqrt(len(arr))).tolist() if len(arr) > 1 else [None] * n
    return {"seeds": seeds, "n_seeds": len(arr), "epochs_reached": n, "epochs_reached_max": n,
            "mean_percent": arr.mean(axis=0).tolist(), "sem_percent": sem, "initial_percent": 90.0}


def test_paired_difference_and_fig9_claims():
    g0 = _entry({1: [0.30, 0.20], 2: [0.32, 0.22], 3: [0.28, 0.21]})
    g05 = _entry({1: [0.31, 0.21], 2: [0.33, 0.23], 3: [0.27, 0.215]})
    g6 = _entry({1: [0.40, 0.30], 2: [0.45, 0.35], 3: [0.38, 0.29]})
    pd = paired_difference(g0, g6)
    d = np.array([10.0, 13.0, 8.0])
    assert pd["epoch"] == 2 and pd["seeds"] == [1, 2, 3]
    np.testing.assert_allclose(pd["differences"], d)
    np.testing.assert_allclose(pd["sem"], d.std(ddof=1) / math.sqrt(3))
    np.testing.assert_allclose(pd["t"], d.mean() / (d.std(ddof=1) / math.sqrt(3)))
    assert pd["t_crit"] == t_critical_one_sided(2) == 2.920
    claims = F9.check_claims({"g_a=0": g0, "g_a=0.05": g05, "g_a=0.6": g6})
    assert [c["result"] for c in claims] == ["PASS", "PASS"]
    # g_a = 0.6 better on one seed, worse on others: the paired test does not reach significance
    g6b = _entry({1: [0.40, 0.30], 2: [0.45, 0.12], 3: [0.38, 0.29]})
    g05b = _entry({1: [0.5, 0.5], 2: [0.5, 0.5], 3: [0.5, 0.5]})
    claims = F9.check_claims({"g_a=0": g0, "g_a=0.05": g05b, "g_a=0.6": g6b})
    assert [c["result"] for c in claims] == ["FAIL", "FAIL"]
    # the same difference on every seed: t undefined (None in the JSON, not inf), counted as significant
    same = F9.check_claims({"g_a=0": g0, "g_a=0.6": _entry({1: [0.40, 0.25], 2: [0.45, 0.27], 3: [0.38, 0.26]})})
    pd = paired_difference(g0, _entry({1: [0.40, 0.25], 2: [0.45, 0.27], 3: [0.38, 0.26]}))
    assert pd["sem"] == 0.0 and pd["t"] is None and same[1]["result"] == "PASS"
    json.dumps(same, allow_nan=False)
    claims = F9.check_claims({"g_a=0": _entry({1: [0.3]}), "g_a=0.6": _entry({1: [0.4]})})
    assert claims[0]["result"] == "not judged" and claims[1]["result"] == "not judged"
    assert "needs >= 2 seeds" in claims[1]["detail"]


def test_summary_rows_of_fig6b_and_fig10(tmp_path):
    """Figure 6B's claims get the paper's values and per-claim epochs; Figure 10's signs are judged."""
    from brian_segdend.studies.fig6 import check_claims as fig6_claims
    from brian_segdend.studies.paper_summary import collect_rows
    curves = {"784-10": [9.0] * 12, "784-500-10": list(np.linspace(8, 5, 60)), "784-500-100-10": list(np.linspace(7, 4, 30))}
    arch = {n: {"mean_percent": c, "seeds": {"1": {"test_error": [x / 100 for x in c]}}} for n, c in curves.items()}
    doc6 = {"claims": fig6_claims(arch), "architectures": arch,
            "progress": {n: {"epochs_reached": len(c), "finished_seeds": ["1"]} for n, c in curves.items()}}
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "fig6b.json").write_text(json.dumps(doc6))
    cond = {"early_apical": {"dw_percent_mean": -1.2, "dw_percent_sem": 0.02, "n": 60},
            "late_apical": {"dw_percent_mean": 0.01, "dw_percent_sem": 0.02, "n": 60},
            "no_apical": {"dw_percent_mean": 0.0, "dw_percent_sem": 0.0, "n": 60}}
    (tmp_path / "fig10.json").write_text(json.dumps({"conditions": cond}))
    rows, sources = collect_rows(tmp_path)
    assert [r["figure"] for r in rows] == ["6B"] * 6 + ["10"] * 3 and len(sources) == 2
    by = {r["claim"].split(" within")[0]: r for r in rows if r["figure"] == "6B" and " within" in r["claim"]}
    assert by["784-500-10"]["paper"] == "4.1%" and by["784-500-10"]["epochs"] == 60
    assert by["784-500-10"]["result"] == "FAIL" and by["784-500-100-10"]["epochs"] == 30
    assert by["784-500-100-10"]["result"] == "not judged"
    assert [r["result"] for r in rows if r["figure"] == "10"] == ["PASS", "FAIL", "PASS"]   # late: not > 2 SEM


# ---------------------------------------------------------------------------- quick studies end to end
def _run(args, timeout=900):
    cmd = [sys.executable, "-m", "brian_segdend", "paper", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    root = tmp_path_factory.mktemp("paper")
    t0 = time.time()
    f9 = _run(["fig9", "--quick", "--g-a-values", "0,0.6", "--seeds", "1,2", "--workers", "2", "--dashboard", ":0",
               "--out", str(root / "fig9")])
    f8 = _run(["fig8", "--quick", "--train-size", "300", "--test-size", "100", "--epochs", "2", "--seeds", "1",
               "--workers", "2", "--dashboard", ":0", "--out", str(root / "fig8")])
    return {"root": root, "fig9": f9, "fig8": f8, "wall_s": time.time() - t0}


@pytest.mark.slow
def test_quick_fig9_apical_conductance_impairs_learning(studies):
    out = studies["root"] / "fig9"
    doc = json.loads((out / "fig9.json").read_text())
    assert (out / "fig9.png").stat().st_size > 1000
    v = doc["variants"]
    assert set(v) == {"g_a=0", "g_a=0.6"}
    for name in v:
        assert v[name]["n_seeds"] == 2 and v[name]["epochs_reached"] == doc["config"]["epochs"]
        assert doc["progress"][name]["finished_seeds"] == ["1", "2"]
    assert doc["config"]["variants"]["g_a=0.6"]["model"]["g_a"] == 0.6
    assert v["g_a=0.6"]["seeds"]["1"]["g_a"] == 0.6 and v["g_a=0"]["seeds"]["1"]["g_a"] == 0.0
    # the paper's direction on the same seeds: g_a = 0.6 ends worse than g_a = 0 for every seed
    for s in ("1", "2"):
        assert v["g_a=0.6"]["seeds"][s]["test_error"][-1] > v["g_a=0"]["seeds"][s]["test_error"][-1] + 0.02, s
    pd = paired_difference(v["g_a=0"], v["g_a=0.6"])
    assert pd["mean"] > 2.0
    assert doc["claims"][0]["result"] == "not judged"        # no g_a = 0.05 here
    assert "g_a = 0.6" in studies["fig9"].stdout and doc["provenance"]["versions"]["brian2"]


@pytest.mark.slow
def test_quick_fig8_all_variants(studies):
    out = studies["root"] / "fig8"
    doc = json.loads((out / "fig8.json").read_text())
    assert (out / "fig8.png").stat().st_size > 1000
    assert list(doc["variants"]) == ["random", "sparse", "sparse_noscale", "symmetric", "symmetric_noise"]
    for name, a in doc["variants"].items():
        assert a["epochs_reached"] == 2 and len(a["mean_percent"]) == 2, name
        assert all(math.isfinite(x) and 0 <= x <= 100 for x in a["mean_percent"]), name
        assert a["seeds"]["1"]["feedback"] == name and a["seeds"]["1"]["network"] == "784-50-10"
        res = json.loads((out / name / "seed1" / "results.json").read_text())
        assert a["mean_percent"] == [100 * e["test_error"] for e in res["epochs"]]
    assert len(doc["claims"]) == 8
    assert [c["result"] for c in doc["claims"][5:]] == ["not judged"] * 3     # quick: not the paper's scale
    assert all(c["result"] in ("PASS", "FAIL") for c in doc["claims"][:5])
    assert doc["provenance"]["command"].startswith("python -m brian_segdend paper fig8")
    assert "[PASS]" in studies["fig8"].stdout or "[FAIL]" in studies["fig8"].stdout
    # finished: --resume only collects (no cluster, no training), same numbers
    again = _run(["fig8", "--quick", "--train-size", "300", "--test-size", "100", "--epochs", "2", "--seeds", "1",
                  "--out", str(out), "--resume"], timeout=300)
    assert "5 of 5 run(s) already finished" in again.stdout and "dask scheduler" not in again.stdout
    assert json.loads((out / "fig8.json").read_text())["variants"] == doc["variants"]


@pytest.mark.slow
def test_summary_collects_the_figures(studies):
    root = studies["root"]
    done = _run(["summary", "--out", str(root)], timeout=120)
    doc = json.loads((root / "summary.json").read_text())
    figs = [r["figure"] for r in doc["rows"]]
    assert figs.count("8 (quick)") == 8 and figs.count("9 (quick)") == 2
    assert sorted(doc["sources"]) == sorted(str(root / f) for f in ("fig8/fig8.json", "fig9/fig9.json"))
    f9 = json.loads((root / "fig9" / "fig9.json").read_text())
    row = [r for r in doc["rows"] if r["figure"] == "9 (quick)"][1]
    assert row["result"] == f9["claims"][1]["result"] and row["seeds"] == [1, 2]
    assert sum(doc["counts"].values()) == len(doc["rows"])
    md = (root / "summary.md").read_text()
    assert md.count("\n| 8 (quick) |") == 8 and "| figure | claim | paper |" in md
    assert "PASS" in done.stdout or "FAIL" in done.stdout
