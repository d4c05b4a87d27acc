"""Depth diagnostics (:mod:`brian_segdend.studies.depth_diagnostics`): backprop's errors through
several hidden layers are the gradient of the output loss, the test-retest signal share measures
what it claims, and the saturation read-out counts the right pairs. NumPy only; the compiled,
frozen-weight run is tested in tests/test_learning_records.py."""

import numpy as np
import pytest
from brian2 import ms

from brian_segdend.model.params import ModelParams
from brian_segdend.studies.depth_diagnostics import backprop_errors, saturation, signal_share


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_backprop_errors_are_the_loss_gradient():
    """E_k^BP = (k_b / 2) dL/dVbar_k for L = ||phi* - phi_max sigma(Vbar_out)||^2 through the mean-field map."""
    p = ModelParams(hidden=(5, 4), n_input=6, n_output=3)
    phi = float(p.phi_max * ms)
    g_l, g_b, g_a, g_d = (float(g * ms) for g in (p.g_l, p.g_b, p.g_a, p.g_d))
    k_b, k_d = g_b / (g_l + g_b + g_a), g_d / (g_l + g_d)
    rng = np.random.default_rng(3)
    W = [rng.normal(0, 2, (5, 6)), rng.normal(0, 2, (4, 5)), rng.normal(0, 2, (3, 4))]
    b = [rng.normal(0, 0.5, n) for n in (5, 4, 3)]
    target = np.array([phi, 0.0, 0.0])
    V0 = k_b * (W[0] @ rng.uniform(0, phi, 6) + b[0])

    def up(V, k):
        """Voltages of the layers above hidden layer k and the loss."""
        Vs = {k: V}
        for j in range(k + 1, 2):
            Vs[j] = k_b * (W[j] @ (phi * sig(Vs[j - 1])) + b[j])
        Vout = k_d * (W[2] @ (phi * sig(Vs[1])) + b[2])
        return Vs, Vout, np.sum((target - phi * sig(Vout)) ** 2)

    Vs, Vout, _ = up(V0, 0)
    s = sig(Vout)
    E_out = -k_d * phi * (target - phi * s) * s * (1 - s)
    bp = backprop_errors([Vs[0], Vs[1]], E_out, W, p)
    for k in (0, 1):
        grad = np.empty_like(Vs[k])
        for i in range(len(grad)):
            h = 1e-6
            Vp, Vm = Vs[k].copy(), Vs[k].copy()
            Vp[i] += h
            Vm[i] -= h
            grad[i] = (up(Vp, k)[2] - up(Vm, k)[2]) / (2 * h)
        np.testing.assert_allclose(bp[k], k_b / 2 * grad, rtol=1e-5, atol=1e-9 * np.abs(grad).max())
        assert np.abs(grad).max() > 0
    # rows: one example per row gives the same numbers
    rows = backprop_errors([np.vstack([Vs[0], Vs[0]]), np.vstack([Vs[1], Vs[1]])], np.vstack([E_out, E_out]), W, p)
    np.testing.assert_allclose(rows[0][1], bp[0])


def test_signal_share():
    rng = np.random.default_rng(0)
    signal = rng.normal(0, 1, (4000, 20)) + rng.normal(0, 5, 20)     # unit means do not count
    assert signal_share(signal, signal) == pytest.approx(1.0)
    noise_sd = np.sqrt(3.0)                                           # var(s) / var(d) = 1 / 4
    d1 = signal + rng.normal(0, noise_sd, signal.shape)
    d2 = signal + rng.normal(0, noise_sd, signal.shape)
    assert signal_share(d1, d2) == pytest.approx(0.25, abs=0.02)
    assert abs(signal_share(rng.normal(size=(4000, 20)), rng.normal(size=(4000, 20)))) < 0.02
    assert np.isnan(signal_share(np.ones((5, 3)), np.ones((5, 3))))
    with pytest.raises(ValueError, match="shape"):
        signal_share(np.ones((5, 3)), np.ones((5, 4)))


def test_saturation_counts_flat_sigmoid_pairs():
    V = np.array([[0.0, 10.0], [-10.0, 2.0]])      # sigma' 0.25, 4.5e-5, 4.5e-5, 0.105
    r = saturation(V)
    assert r["saturated"] == 0.5
    assert r["mean_sigma_prime"] == pytest.approx(np.mean(sig(V) * (1 - sig(V))))
    assert r["V_sd"] == pytest.approx(np.std(V))
