"""Figures 5, 6C and 7: the NumPy t-SNE and separation scores on known clusters, and the quick
studies end to end with the direction of each claim (L0-L1 correlation above shuffled pairings,
update angle below 90 deg after learning starts, receptive fields above shuffled, separation
scores finite) and their rows in ``paper summary``."""

import json

import numpy as np
import pytest
from brian2 import ms

from brian_segdend.model import credit
from brian_segdend.model.network import initial_weights
from brian_segdend.model.params import ModelParams, ParameterError
from brian_segdend.studies import fig5, fig6c, fig7, paper_summary


def blobs(n_per=30, dims=20, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (3, dims))
    X = np.concatenate([c + rng.normal(0, 1, (n_per, dims)) for c in centres])
    return X, np.repeat(np.arange(3), n_per)


def test_tsne_separates_known_clusters():
    X, y = blobs()
    Y = fig6c.tsne(X, perplexity=10, iterations=250, seed=1)
    assert Y.shape == (90, 2) and np.all(np.isfinite(Y))
    assert fig6c.silhouette(Y, y) > 0.5
    assert fig6c.knn_accuracy(Y, y) == 1.0
    # random labels: no separation
    shuffled = np.random.default_rng(2).permutation(y)
    assert fig6c.silhouette(Y, shuffled) < 0.1
    assert fig6c.knn_accuracy(Y, shuffled) < 0.7


def test_pearson_and_max_correlations():
    a = np.arange(10.0)
    assert fig5.pearson(a, 2 * a + 1) == pytest.approx(1.0)
    assert fig5.pearson(a, -a) == pytest.approx(-1.0)
    A = np.random.default_rng(0).normal(size=(5, 40))
    np.testing.assert_allclose(fig7.max_correlations(A, A), 1.0)
    assert fig7.max_correlations(A, A, shuffle_seed=1).max() < 0.9
    np.testing.assert_allclose(fig7.smooth([1, 2, 3, np.nan, 5], 2), [1.5, 2.5, 3.0, 5.0])


def test_fig7_rate_feedback_claim():
    """Claim 4: the rate-feedback angle (second-half mean) must be below the spiking one."""
    rng = np.random.default_rng(0)
    n = 400
    spikes = {"angle": 80 + rng.normal(0, 2, n), "epoch": np.repeat([1, 2], n // 2)}
    rates = {"angle": 50 + rng.normal(0, 2, n), "epoch": np.repeat([1, 2], n // 2)}
    a, b = fig7.angle_summary(spikes, 20), fig7.angle_summary(rates, 20)
    assert a["late"] == pytest.approx(np.mean(spikes["angle"][n // 2:])) and len(a["per_epoch"]) == 2
    assert fig7.rate_claim(a, b, 2)["result"] == "PASS"
    assert fig7.rate_claim(b, a, 2)["result"] == "FAIL"
    assert "35" in fig7.rate_claim(a, b, 2)["paper"]


def test_fig6c_quick(tmp_path):
    p = ModelParams(hidden=(30, 20))
    st = initial_weights(p, np.random.default_rng(1))
    w = tmp_path / "weights.npz"
    np.savez(w, **{f"{k}{i}": np.asarray(a) for k in ("W", "b", "Y") for i, a in enumerate(st[k])})
    out = tmp_path / "fig6c"
    assert fig6c.main(["--weights", str(w), "--quick", "--test-size", "120", "--iterations", "120",
                       "--activity", "rate", "--out", str(out)]) == 0
    doc = json.loads((out / "fig6c.json").read_text())
    assert [s["layer"] for s in doc["scores"]] == ["input", "hidden layer 1", "hidden layer 2"]
    for s in doc["scores"]:
        assert np.isfinite(s["silhouette"]) and 0 <= s["knn_accuracy"] <= 1
    assert len(doc["claims"]) == 2 and (out / "fig6c.png").stat().st_size > 0


@pytest.mark.slow
def test_fig5_fig7_quick(tmp_path):
    d5, d7 = tmp_path / "fig5", tmp_path / "fig7"
    assert fig5.main(["--quick", "--out", str(d5), "--shuffles", "50"]) == 0
    doc5 = json.loads((d5 / "fig5.json").read_text())
    assert doc5["epochs_reached"] == 2 and doc5["examples"] == 2 * fig5.QUICK["train_size"]
    r, p99 = np.array(doc5["r"]), np.array(doc5["r_shuffled_p99"])
    # L0 and L1 correlate above shuffled pairings (mean over digits, every epoch)
    assert np.all(np.nanmean(r, axis=1) > np.nanmean(p99, axis=1))
    assert doc5["claims"][0]["result"] == "PASS"
    assert fig7.main(["--quick", "--from-run", str(d5 / "fig5_run.npz"), "--out", str(d7)]) == 0
    doc7 = json.loads((d7 / "fig7.json").read_text())
    assert doc7["angle_second_half_mean_deg"] < 90           # below orthogonal once learning started
    assert doc7["rf_max_corr"]["median"] > doc7["rf_max_corr"]["shuffled_p99"]
    rows, sources = paper_summary.collect_rows(tmp_path)
    figures = {r["figure"] for r in rows}
    assert {"5 (quick)", "7 (quick)"} <= figures, figures
    assert len(sources) == 2


def test_theorem1_eigenvalue():
    p = ModelParams(hidden=(3,))
    rng = np.random.default_rng(0)
    V1, a = rng.normal(size=2), rng.uniform(0.1, 0.9, 3)
    W1, Y = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    assert credit.theorem1_eigenvalue(V1, a, np.zeros((2, 3)), Y, p) == pytest.approx(1.0)
    phi_max = float(p.phi_max * ms)
    k_d = float(p.g_d / (p.g_l + p.g_d))
    s = 1 / (1 + np.exp(-V1))
    M = np.eye(2) - np.diag(k_d * phi_max * s * (1 - s)) @ W1 @ np.diag(a * (1 - a)) @ Y
    assert credit.theorem1_eigenvalue(V1, a, W1, Y, p) == pytest.approx(np.linalg.eigvalsh(M.T @ M).max())


def _fake_cor(r_epochs, seed):
    """A :func:`fig5.correlations`-shaped result: r constant per epoch, shuffled r's around 0."""
    rng = np.random.default_rng(seed)
    r = np.repeat(np.asarray(r_epochs, float)[:, None], 10, axis=1)
    return {"r": r, "r_shuffled": rng.normal(0, 0.05, (len(r_epochs), 10, 50)), "n": np.full((len(r_epochs), 10), 30)}


def test_fig5_seeds_combined_mean_sem_and_claims_on_the_mean():
    """Several seeds: r and its SEM over seeds, and the claims judged on the mean, not on one seed."""
    a, b = _fake_cor([0.5, 0.4], 1), _fake_cor([0.1, 0.3], 2)
    assert fig5.check_claims(a)[3]["result"] == "FAIL"            # seed 1 alone: epoch 1 above epoch 2
    c = fig5.combine_correlations([a, b])
    np.testing.assert_allclose(c["r"], np.repeat([[0.3], [0.35]], 10, axis=1))
    np.testing.assert_allclose(c["r_sem"], np.repeat([[0.2], [0.05]], 10, axis=1))
    np.testing.assert_allclose(c["mean_r_sem"], [0.2, 0.05])
    np.testing.assert_allclose(c["r_shuffled"], (a["r_shuffled"] + b["r_shuffled"]) / 2)
    assert c["n"][0, 0] == 60
    claims = fig5.check_claims(c)
    assert [k["result"] for k in claims[:4]] == ["PASS", "PASS", "PASS", "PASS"]
    assert "r = 0.350 ± 0.050" in claims[1]["detail"] and "2 seeds" in claims[1]["detail"]
    assert "epoch 1 0.300 ± 0.200 vs epoch 2 0.350 ± 0.050" in claims[3]["detail"]
    eig = fig5.combine_eigenvalues([{"example": [0], "mu": [2.0], "start": 2.0, "epoch1_last_tenth_median": 0.8},
                                    {"example": [0], "mu": [3.0], "start": 3.0, "epoch1_last_tenth_median": 1.0}])
    assert eig["epoch1_last_tenth_median"] == pytest.approx(0.9) and eig["start"] == pytest.approx(2.5)
    assert eig["epoch1_last_tenth_median_sem"] == pytest.approx(0.1)
    assert fig5.check_claims(c, eig)[4]["result"] == "PASS"
    assert fig5.mean_sem([1.0]) == (1.0, None)
    args = fig5.parser().parse_args(["--seeds", "2,1", "--from-run", "x.npz"])
    with pytest.raises(ParameterError, match="--from-run"):
        fig5.seed_list(args)
    assert fig5.seed_list(fig5.parser().parse_args(["--seed", "4"])) == [4]
    with pytest.raises(ParameterError, match="--seeds"):
        fig5.seed_list(fig5.parser().parse_args(["--seeds", "1,1"]))


def test_fig7_seeds_combined_mean_sem_and_claims_on_the_mean():
    n = 400
    runs = [{"angle": np.r_[np.full(n // 2, 90.0), np.full(n // 2, late)], "epoch": np.repeat([1, 2], n // 2)}
            for late in (60.0, 100.0)]
    ang = fig7.combine_angles([fig7.angle_summary(r, 20) for r in runs])
    assert ang["late"] == pytest.approx(80.0) and ang["late_sem"] == pytest.approx(20.0)
    np.testing.assert_allclose(ang["smoothed"][-1], 80.0)
    np.testing.assert_allclose(ang["smoothed_sem"][-1], 20.0)
    assert ang["first"] == pytest.approx(90.0) and ang["first_sem"] == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    fld = fig7.combine_fields([np.full(5, 0.6), np.full(5, 0.2)], [rng.uniform(0, 0.3, 50), rng.uniform(0, 0.3, 50)])
    assert fld["rf_median"] == pytest.approx(0.4) and fld["rf_median_sem"] == pytest.approx(0.2)
    claims = fig7.check_claims(ang["smoothed"], ang["late"], None, None, 2, seeds={**ang, **fld, "seeds": [1, 2]})
    # seed 2 alone would fail both (second half 100 deg, fields 0.2 below the shuffled 99th pct)
    assert [c["result"] for c in claims] == ["PASS", "PASS", "PASS"]
    assert "80.0 ± 20.0" in claims[1]["detail"] and "0.400 ± 0.200" in claims[2]["detail"]
    with pytest.raises(ParameterError, match="one seed"):
        fig7.main(["--seeds", "1,2", "--feedback-signal", "rates", "--quick"])
