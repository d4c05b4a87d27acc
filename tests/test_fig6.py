"""``paper fig6``: the quick mode end to end, resume without training, and collecting hand-started runs."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from brian_segdend.studies.fig6 import check_claims, collect
from brian_segdend.training.train import save_checkpoint

pytestmark = pytest.mark.slow


def test_quick_fig6_end_to_end(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig6")
    env = dict(os.environ, BRIAN_SEGDEND_BUILD_DIR=os.environ.get("BRIAN_SEGDEND_BUILD_DIR")
               or str(tmp_path_factory.mktemp("builds")))
    cmd = [sys.executable, "-m", "brian_segdend", "paper", "fig6", "--quick", "--train-size", "200",
           "--test-size", "100", "--chunk-steps", "8000", "--workers", "2", "--dashboard", ":0", "--out", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads((out / "fig6b.json").read_text())
    assert (out / "fig6b.png").stat().st_size > 1000
    for name in ("784-10", "784-500-10", "784-500-100-10"):
        a = doc["architectures"][name]
        assert a["epochs_reached"] == 2 and len(a["mean_percent"]) == 2
        res = json.loads((out / name / "seed1" / "results.json").read_text())
        assert a["mean_percent"] == [100 * e["test_error"] for e in res["epochs"]]
        assert doc["progress"][name]["finished_seeds"] == ["1"]
    assert doc["config"]["networks"]["784-500-100-10"]["hidden"] == [50, 20]
    assert [c["result"] for c in doc["claims"]][:2] == ["not judged", "not judged"]
    assert "not judged: reached 2 epoch(s)" in done.stdout and "two hidden layers" in done.stdout
    assert doc["claims"][2]["result"] in ("PASS", "FAIL")
    # finished: --resume only collects (no cluster, no training)
    again = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "3 of 3 run(s) already finished" in again.stdout
    assert "dask scheduler" not in again.stdout          # nothing started: only collected
    # --from-runs: the same numbers, no training
    coll = subprocess.run([sys.executable, "-m", "brian_segdend", "paper", "fig6", "--from-runs", str(out)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert coll.returncode == 0, coll.stderr
    assert json.loads((out / "fig6b.json").read_text())["architectures"] == doc["architectures"]


def test_collect_partial_runs_and_claims(tmp_path):
    """Runs started by hand: a finished results.json and an unfinished run's checkpoint epochs."""
    curves = {"784-10": 9 - 0.01 * np.arange(60), "784-500-10": 6 - 0.03 * np.arange(60),
              "784-500-100-10": 5.5 - 0.04 * np.arange(60)}
    for name, c in curves.items():
        for seed, shift in ((1, 0.0), (2, 0.2)):
            folder = tmp_path / name / f"seed{seed}"
            folder.mkdir(parents=True)
            epochs = [{"epoch": k + 1, "examples": 60000 * (k + 1), "test_error": (v + shift) / 100,
                       "train_error": 0.1, "wall_s": 1.0} for k, v in enumerate(c)]
            if seed == 1:
                (folder / "results.json").write_text(json.dumps(
                    {"config": {"hidden": []}, "epochs": epochs, "initial_test_error": 0.9, "finished": True,
                     "final_test_error": epochs[-1]["test_error"], "examples_per_second": 100.0}))
            else:   # unfinished: 40 epochs recorded in the checkpoint
                save_checkpoint(folder / "checkpoint.npz", {"W": [np.zeros((2, 2))], "b": [np.zeros(2)], "Y": []},
                                {"epochs": epochs[:40], "initial_test_error": 0.9, "examples_trained": 10,
                                 "train_wall_s": 1.0})
    arch = collect(tmp_path)
    a = arch["784-500-10"]
    assert a["seeds"]["1"]["status"] == "finished" and a["seeds"]["2"]["status"] == "partial"
    assert a["epochs_reached"] == 40 and a["epochs_reached_max"] == 60
    np.testing.assert_allclose(a["mean_percent"], curves["784-500-10"][:40] + 0.1)
    np.testing.assert_allclose(a["sem_percent"], [0.1] * 40)
    claims = check_claims(arch)
    assert [c["result"] for c in claims[:3]] == ["PASS", "PASS", "PASS"]
    assert all(c["detail"] == "not judged: reached 40 epoch(s)" for c in claims[3:])


def _finished_run(folder, errors_percent, hidden=()):
    folder.mkdir(parents=True)
    epochs = [{"epoch": k + 1, "examples": 1000 * (k + 1), "test_error": v / 100, "train_error": 0.1, "wall_s": 1.0}
              for k, v in enumerate(errors_percent)]
    (folder / "results.json").write_text(json.dumps(
        {"config": {"hidden": list(hidden)}, "epochs": epochs, "initial_test_error": 0.9, "finished": True,
         "final_test_error": epochs[-1]["test_error"], "examples_per_second": 100.0}))


@pytest.mark.parametrize("shift, expected", [(0.5, "PASS"), (1.5, "FAIL")])
def test_plateau_time_supplement_is_collected_and_judged(tmp_path, shift, expected):
    """``paper fig6 --from-runs`` finds <out>/plateau_sd/ (the supplement) and judges its curves per network;
    ``paper summary`` lists those claims with the paper's 'similar curves'."""
    from brian_segdend.studies import fig6, paper_summary

    for name, hidden in fig6.ARCHITECTURES.items():
        _finished_run(tmp_path / name / "seed1", [20.0, 12.0, 10.0], hidden)
        _finished_run(tmp_path / fig6.SUPPLEMENT_DIR / name / "seed1", [20.0, 13.0, 10.0 + shift], hidden)
    assert fig6.main(["--from-runs", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "fig6b.json").read_text())
    assert doc["supplement"]["architectures"]["784-500-10"]["mean_percent"] == pytest.approx([20.0, 13.0, 10.0 + shift])
    sup = [c for c in doc["claims"] if "random plateau times" in c["claim"]]
    assert len(sup) == 3 and [c["result"] for c in sup] == ["not judged", expected, expected], sup
    assert "no hidden layer" in sup[0]["detail"] and f"{shift:+.2f} pp" in sup[1]["detail"]
    rows, _ = paper_summary.collect_rows(tmp_path)
    sup_rows = [r for r in rows if "random plateau times" in r["claim"]]
    assert len(sup_rows) == 3 and all(r["paper"] == "similar curves (Fig. 6 supplement)" for r in sup_rows)
    assert all(r["epochs"] == 3 for r in sup_rows)


def test_from_runs_chosen_seeds_table_and_kept_config(tmp_path):
    """``--from-runs DIR --seeds 1`` judges seed 1 alone (a slower seed 2 does not hold the claims back),
    writes the per-epoch table, and keeps the configuration an earlier run of the folder recorded."""
    from brian_segdend.studies import fig6

    for name, hidden in fig6.ARCHITECTURES.items():
        _finished_run(tmp_path / name / "seed1", list(9.0 - 0.01 * np.arange(60)), hidden)
    _finished_run(tmp_path / "784-500-10" / "seed2", [20.0, 12.0], (500,))
    (tmp_path / "fig6b.json").write_text(json.dumps({"config": {"quick": True, "epochs": 60}}))
    assert fig6.main(["--from-runs", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "fig6b.json").read_text())
    assert doc["config"]["quick"] is True and doc["config"]["from_runs"] == str(tmp_path)
    assert doc["architectures"]["784-500-10"]["epochs_reached"] == 2          # both seeds: the mean stops at 2
    assert fig6.main(["--from-runs", str(tmp_path), "--seeds", "1"]) == 0
    doc = json.loads((tmp_path / "fig6b.json").read_text())
    assert list(doc["architectures"]["784-500-10"]["seeds"]) == ["1"]
    assert doc["architectures"]["784-500-10"]["epochs_reached"] == 60 and doc["config"]["collected_seeds"] == [1]
    judged = [c for c in doc["claims"] if "after 60 epochs" in c["claim"]]
    assert [c["result"] for c in judged] == ["PASS", "FAIL", "FAIL"]          # 8.41% against 8.3 / 4.1 / 3.2
    assert "8.41%" in judged[0]["detail"]
    table = (tmp_path / "fig6b_table.md").read_text().splitlines()
    assert table[0] == "| epoch | 784-10 (seed 1) | 784-500-10 (seed 1) | 784-500-100-10 (seed 1) |"
    assert table[2] == "| 1 | 9.00 | 9.00 | 9.00 |" and table[61] == "| 60 | 8.41 | 8.41 | 8.41 |"
    assert table[62] == "| paper, 60 epochs | 8.3 | 4.1 | 3.2 |"
