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
from brian_segdend.model.params import ModelParams
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
