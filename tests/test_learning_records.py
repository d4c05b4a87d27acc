"""Learning records (``SegDendNetwork(learning_records=True)``): what they hold reproduces the
compiled rule's weight change through a plain NumPy computation of docs/MODEL.md's equations,
recording does not change the trained weights, the default build is untouched, and the
credit-assignment quantities of :mod:`brian_segdend.model.credit` agree with direct formulas."""

import numpy as np
import pytest
from brian2 import ms

from brian_segdend.model import credit
from brian_segdend.model.network import SegDendNetwork, initial_weights
from brian_segdend.model.params import ModelParams, ParameterError
from brian_segdend.model.schedule import pack_chunk, phase_lengths

pytestmark = pytest.mark.slow

HIDDEN = (20, 15)
STEPS = 800


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def schedule(p, seed):
    settle = int(round(float(p.settle / p.dt)))
    phase = int(round(float(p.phase_min / p.dt)))
    lengths = phase_lengths(10, np.random.default_rng(seed), phase, float(p.wald_mean / p.dt), float(p.wald_scale / p.dt))
    return pack_chunk(lengths, STEPS, settle, train=True)


def numpy_rule(p, rec):
    """docs/MODEL.md's rule in plain NumPy (paper units) on the records: summed dW and db per layer."""
    phi_max = float(p.phi_max * ms)
    g_l, g_b, g_a, g_d = (float(g * ms) for g in (p.g_l, p.g_b, p.g_a, p.g_d))
    k_b, k_d = g_b / (g_l + g_b + g_a), g_d / (g_l + g_d)
    P0, P1 = 20.0 / phi_max, 20.0 / phi_max ** 2
    eta = p.learning_rates
    o = rec["output"]
    E1 = -k_d * phi_max * (o["phi_star"] - phi_max * sig(o["Vbar_f"])) * sig(o["Vbar_f"]) * (1 - sig(o["Vbar_f"]))
    errors, below = [], [rec["input"]["sbar"]]
    for h in rec["hidden"]:
        errors.append(-k_b * phi_max * (h["alpha_t"] - h["alpha_f"]) * sig(h["Vbar_f"]) * (1 - sig(h["Vbar_f"])))
        below.append(h["sbar"])
    errors.append(E1)
    Ps = [P0] * len(rec["hidden"]) + [P1]
    dW = [-eta[k] * Ps[k] * sum(np.outer(errors[k][n], below[k][n]) for n in range(len(errors[k])))
          for k in range(len(errors))]
    db = [-eta[k] * Ps[k] * errors[k].sum(axis=0) for k in range(len(errors))]
    return dW, db, errors


@pytest.fixture(scope="module")
def runs(mnist):
    """The same chunk (same state, images, phases, seed) through a recording and a plain build."""
    p = ModelParams(hidden=HIDDEN)
    state = initial_weights(p, np.random.default_rng(4))
    sch = schedule(p, 4)
    assert sch.n_examples >= 3
    img, lab = mnist.train_images[:sch.n_examples], mnist.train_labels[:sch.n_examples]
    out = {}
    net = SegDendNetwork(p, chunk_steps=STEPS, learning_records=True)
    out["hash_rec"] = net.build_hash
    out["all"] = net.run_chunk(state, img, lab, sch, seed=11)
    out["some"] = net.run_chunk(state, img, lab, sch, seed=11, record_rows=[0, 2])
    net.release()
    plain = SegDendNetwork(p, chunk_steps=STEPS)
    out["hash_plain"] = plain.build_hash
    out["plain"] = plain.run_chunk(state, img, lab, sch, seed=11)
    with pytest.raises(ParameterError, match="learning_records"):
        plain.run_chunk(state, img, lab, sch, seed=11, record_rows=[0])
    plain.release()
    return p, state, sch, out


def test_records_reproduce_the_compiled_weight_change(runs):
    p, state, sch, out = runs
    new, res = out["all"]
    rec = res.records["learning"]
    assert list(rec["rows"]) == list(range(sch.n_examples))
    np.testing.assert_array_equal(rec["steps"], sch.end_t_steps)
    for d in rec["hidden"] + [rec["input"], rec["output"]]:
        for v in d.values():
            assert v.shape[0] == sch.n_examples and np.all(np.isfinite(v))
    dW, db, errors = numpy_rule(p, rec)
    for k in range(len(HIDDEN) + 1):
        got = new["W"][k] - state["W"][k]
        assert np.abs(got).max() > 0
        np.testing.assert_allclose(got, dW[k], rtol=1e-9, atol=1e-12 * np.abs(dW[k]).max())
        np.testing.assert_allclose(new["b"][k] - state["b"][k], db[k], rtol=1e-9, atol=1e-15)
    # the recorded errors are the errors of the equations (the compiled rule used them)
    for k, h in enumerate(rec["hidden"]):
        np.testing.assert_allclose(h["E"], errors[k], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(rec["output"]["E"], errors[-1], rtol=1e-12, atol=1e-18)
    # the library's NumPy version (used by the figures) agrees
    for a, b in zip(credit.weight_changes(rec, p), dW):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15 * np.abs(b).max())


def test_recording_does_not_change_training(runs):
    _, _, _, out = runs
    assert out["hash_rec"] != out["hash_plain"]
    for key in ("W", "b", "Y"):
        for a, b, c in zip(out["all"][0][key], out["plain"][0][key], out["some"][0][key]):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(c, b)
    np.testing.assert_array_equal(out["all"][1].out_Vbar_f, out["plain"][1].out_Vbar_f)


def test_chosen_rows_only(runs):
    _, _, sch, out = runs
    full, some = out["all"][1].records["learning"], out["some"][1].records["learning"]
    assert list(some["rows"]) == [0, 2]
    np.testing.assert_array_equal(some["steps"], sch.end_t_steps[[0, 2]])
    for layer in range(len(HIDDEN)):
        for v, arr in some["hidden"][layer].items():
            np.testing.assert_array_equal(arr, full["hidden"][layer][v][[0, 2]])
    np.testing.assert_array_equal(some["input"]["sbar"], full["input"]["sbar"][[0, 2]])


def test_credit_quantities(runs):
    p, state, _, out = runs
    rec = out["all"][1].records["learning"]
    L = credit.losses(rec, p)
    for k, h in enumerate(rec["hidden"]):
        np.testing.assert_allclose(L["L0"][k], ((h["alpha_t"] - h["alpha_f"]) ** 2).sum(axis=1))
    phi_max = float(p.phi_max * ms)
    o = rec["output"]
    np.testing.assert_allclose(L["L1"], ((o["phi_star"] - phi_max * sig(o["Vbar_f"])) ** 2).sum(axis=1))
    # backprop's hidden error on the top hidden layer and the angle between the two flat updates
    top = len(HIDDEN) - 1
    h = rec["hidden"][top]
    W1 = state["W"][-1]
    E1 = credit.output_error(rec, p)
    bp = credit.backprop_hidden_error(h["Vbar_f"][0], E1[0], W1, p)
    k_b = float(p.g_b / (p.g_l + p.g_b + p.g_a))
    direct = k_b * phi_max * sig(h["Vbar_f"][0]) * (1 - sig(h["Vbar_f"][0])) * (W1.T @ E1[0])
    np.testing.assert_allclose(bp, direct, rtol=1e-12)
    s = rec["hidden"][top - 1]["sbar"][0]
    flat = credit.angle_degrees(np.outer(h["E"][0], s), np.outer(bp, s))
    np.testing.assert_allclose(credit.update_angles(h["E"][:1], bp[None, :])[0], flat, atol=1e-6)
    assert 0 <= flat <= 180


def test_frozen_weights_diagnostics(runs, mnist):
    """Learning rates 0 (run-time values: the same build) freeze the network; the depth diagnostics
    on two presentations are exact for identical noise and below 1 for fresh noise."""
    from brian_segdend.studies.depth_diagnostics import layer_diagnostics

    p, state, sch, out = runs
    frozen = p.replace(eta=(0.0,) * 3, eta_bias=(0.0,) * 3)
    net = SegDendNetwork(frozen, chunk_steps=STEPS, learning_records=True)
    assert net.build_hash == out["hash_rec"]
    img, lab = mnist.train_images[:sch.n_examples], mnist.train_labels[:sch.n_examples]
    new, a = net.run_chunk(state, img, lab, sch, seed=11)
    _, b = net.run_chunk(state, img, lab, sch, seed=11)
    _, c = net.run_chunk(state, img, lab, sch, seed=12)
    net.release()
    for k in range(3):
        np.testing.assert_allclose(new["W"][k], state["W"][k], rtol=1e-12, atol=0)
        np.testing.assert_allclose(new["b"][k], state["b"][k], rtol=1e-12, atol=0)
    ra, rb, rc = (r.records["learning"] for r in (a, b, c))
    # the first example sees the same network as in the learning run
    learning = out["all"][1].records["learning"]
    np.testing.assert_allclose(ra["hidden"][0]["alpha_t"][0], learning["hidden"][0]["alpha_t"][0], rtol=1e-12)
    same = layer_diagnostics(ra, rb, state["W"], frozen)
    fresh = layer_diagnostics(ra, rc, state["W"], frozen)
    for h_same, h_fresh in zip(same["hidden"], fresh["hidden"]):
        assert h_same["signal_share_plateau_difference"] == pytest.approx(1.0, abs=1e-12)
        assert h_fresh["signal_share_plateau_difference"] < 0.999
        assert 0 <= h_fresh["saturated"] <= 1
        assert 0 < h_fresh["angle_mean_deg"] < 180 and 0 < h_fresh["angle_batch_deg"] < 180
    assert same["output"]["signal_share_E"] == pytest.approx(1.0, abs=1e-12)
