"""Credit assignment, computed in NumPy from the learning records of a compiled run.

``SegDendNetwork(..., learning_records=True)`` records, at the learning step of chosen
examples, every average the rule uses (:meth:`~brian_segdend.model.network.SegDendNetwork.read_learning_records`:
the paper's units, rates in 1/ms). This module evaluates docs/MODEL.md's equations on those
records:

* the errors E of the rule ("Learning rule"): output
  E1 = -k_d phi_max (phi1* - phi_max sigma(Vbar1^f)) sigma'(Vbar1^f), hidden
  E0 = -k_b phi_max (alpha^t - alpha^f) sigma'(Vbar0^f);
* the weight changes dW = -eta P E sbar_below^T (:func:`weight_changes`);
* the local losses (the paper's Eq. 7-8): output L1 = ||phi1* - phi_max sigma(Vbar1^f)||^2 and
  hidden L0 = ||phi0* - phibar0^f||^2 = ||alpha^t - alpha^f||^2 (:func:`losses`), in (1/ms)^2 and
  plain numbers;
* the hidden error that backpropagating the output error through the forward weights would give
  (Figure 7): with Vbar1^f = k_d (W1 sbar0^f + b1) and sbar0^f = phi_max sigma(Vbar0^f),
  dL1/dVbar0^f gives E0_BP = k_b phi_max sigma'(Vbar0^f) (W1^T E1) (:func:`backprop_hidden_error`);
  the backprop weight change is -eta P E0_BP sbar_in^T. Both updates are outer products with the
  same presynaptic vector, so the angle between dW0 and dW0_BP equals the angle between E0 and
  E0_BP (:func:`update_angles`);
* the condition of the paper's Theorem 1 (Figure 5, supplement 1): the largest eigenvalue of
  (I - J_beta J_gamma)^T (I - J_beta J_gamma), with J_beta = diag(k_d phi_max sigma'(Vbar1^f)) W1
  the Jacobian of the forward map from hidden rates to output rates and
  J_gamma = diag(sigma'(mean V_a^f)) Y = diag(alpha^f (1 - alpha^f)) Y that of the feedback map
  from output rates to the plateaus (:func:`theorem1_eigenvalue`).
"""

from __future__ import annotations

import numpy as np
from brian2 import ms

__all__ = ["constants", "sigmoid", "output_error", "hidden_error", "weight_changes", "losses",
           "backprop_hidden_error", "update_angles", "angle_degrees", "theorem1_eigenvalue"]


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x))."""
    return 1.0 / (1.0 + np.exp(-x))


def constants(params) -> dict:
    """The rule's constants in the paper's units: phi_max (1/ms), k_b, k_d, P per layer, eta, eta_bias."""
    phi_max = float(params.phi_max * ms)
    g_l, g_b, g_a, g_d = (float(g * ms) for g in (params.g_l, params.g_b, params.g_a, params.g_d))
    n_w = len(params.hidden) + 1
    P0 = float(params.P_hidden_factor) / phi_max
    P1 = float(params.P_output_factor) / phi_max ** 2
    return {"phi_max": phi_max, "k_b": g_b / (g_l + g_b + g_a), "k_d": g_d / (g_l + g_d),
            "P": [P0] * (n_w - 1) + [P1], "eta": list(params.learning_rates)}


def output_error(rec: dict, params) -> np.ndarray:
    """E1 (n_recorded, n_output) from the output's forward average and target (docs/MODEL.md)."""
    c = constants(params)
    s = sigmoid(rec["output"]["Vbar_f"])
    return -c["k_d"] * c["phi_max"] * (rec["output"]["phi_star"] - c["phi_max"] * s) * s * (1 - s)


def hidden_error(rec: dict, params, layer: int = 0) -> np.ndarray:
    """E of hidden layer ``layer`` (n_recorded, n_units) from its plateaus and forward average."""
    c = constants(params)
    h = rec["hidden"][layer]
    s = sigmoid(h["Vbar_f"])
    return -c["k_b"] * c["phi_max"] * (h["alpha_t"] - h["alpha_f"]) * s * (1 - s)


def _below(rec: dict, k: int) -> np.ndarray:
    return rec["input"]["sbar"] if k == 0 else rec["hidden"][k - 1]["sbar"]


def weight_changes(rec: dict, params) -> list:
    """Per weight layer (bottom to top), the sum over the recorded examples of dW = -eta P E sbar^T (ms).

    When every example of a chunk is recorded this is the chunk's whole weight change (the rule
    is additive: each example's E and sbar are fixed before its update).
    """
    c = constants(params)
    n_h = len(rec["hidden"])
    errors = [hidden_error(rec, params, k) for k in range(n_h)] + [output_error(rec, params)]
    return [-c["eta"][k] * c["P"][k] * errors[k].T @ _below(rec, k) for k in range(n_h + 1)]


def losses(rec: dict, params) -> dict:
    """Per recorded example the local losses: ``L1`` (n,) and ``L0`` (list per hidden layer of (n,)).

    L1 = sum_i (phi1*_i - phi_max sigma(Vbar1^f_i))^2 ((1/ms)^2), L0 = sum_i (alpha^t_i - alpha^f_i)^2
    (the paper's Eq. 7-8 with phi0* - phibar0^f = alpha^t - alpha^f).
    """
    c = constants(params)
    o = rec["output"]
    L1 = np.sum((o["phi_star"] - c["phi_max"] * sigmoid(o["Vbar_f"])) ** 2, axis=1)
    L0 = [np.sum((h["alpha_t"] - h["alpha_f"]) ** 2, axis=1) for h in rec["hidden"]]
    return {"L1": L1, "L0": L0}


def backprop_hidden_error(Vbar0_f: np.ndarray, E1: np.ndarray, W1: np.ndarray, params) -> np.ndarray:
    """Backprop's hidden error E0_BP = k_b phi_max sigma'(Vbar0^f) * (W1^T E1) (one example or rows).

    ``W1`` (n_output, n_hidden) is the top weight matrix in ms before the example's update;
    ``E1`` the output error in 1/ms^2. Returns the same shape as ``Vbar0_f``.
    """
    c = constants(params)
    s = sigmoid(Vbar0_f)
    return c["k_b"] * c["phi_max"] * s * (1 - s) * (np.asarray(E1) @ np.asarray(W1))


def angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """Angle in degrees between two arrays taken as flat vectors (nan if either is zero)."""
    a, b = np.ravel(a), np.ravel(b)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return float("nan")
    return float(np.degrees(np.arccos(np.clip(a @ b / (na * nb), -1.0, 1.0))))


def update_angles(E0: np.ndarray, E0_bp: np.ndarray) -> np.ndarray:
    """Per row the angle (degrees) between dW0 = -eta P E0 s^T and dW0_BP = -eta P E0_BP s^T.

    With the same presynaptic s (non-zero) this is the angle between E0 and E0_BP.
    """
    E0, E0_bp = np.atleast_2d(E0), np.atleast_2d(E0_bp)
    return np.array([angle_degrees(a, b) for a, b in zip(E0, E0_bp)])


def theorem1_eigenvalue(Vbar1_f, alpha_f, W1, Y, params) -> float:
    """Largest eigenvalue of (I - J_beta J_gamma)^T (I - J_beta J_gamma) for one example.

    ``Vbar1_f`` (n_output,) output forward average, ``alpha_f`` (n_hidden,) forward plateaus of the
    top hidden layer, ``W1`` (n_output, n_hidden) and ``Y`` (n_hidden, n_output) in ms. Below 1 is
    the condition of the paper's Theorem 1.
    """
    c = constants(params)
    s = sigmoid(np.asarray(Vbar1_f, float))
    J_beta = (c["k_d"] * c["phi_max"] * s * (1 - s))[:, None] * np.asarray(W1, float)
    a = np.asarray(alpha_f, float)
    J_gamma = (a * (1 - a))[:, None] * np.asarray(Y, float)
    M = np.eye(len(s)) - J_beta @ J_gamma
    return float(np.linalg.eigvalsh(M.T @ M).max())
