"""Figure 10's analysis: per-neuron weight changes and per-protocol statistics.

:func:`per_neuron` turns one run's raw arrays into per-neuron measurements;
:func:`summarize` gives the mean, SEM and averages of one protocol's samples.
"""

from __future__ import annotations

import numpy as np

from ..common import mean_sem
from .protocol import Fig10Config

__all__ = ["per_neuron", "summarize"]


def per_neuron(res: dict, cfg: Fig10Config) -> dict:
    """Per-neuron measurements: mean change of active / silent basal weights, percent change."""
    n_act = cfg.n_basal - cfg.n_silent
    dW = res["dW"]   # exact: computed on the stored SI numbers, so "no change" is exactly 0
    w0_act = res["W0"][:, :n_act].sum(axis=1)
    out = {
        "dw": dW[:, :n_act].mean(axis=1),                                   # ms, mean over active synapses
        "dw_percent": 100.0 * dW[:, :n_act].sum(axis=1) / w0_act,           # change of the stimulated pathway
        "dw_silent_mean": dW[:, n_act:].mean(axis=1) if cfg.n_silent else np.zeros(len(dW)),
        "dw_silent_max_abs": np.abs(dW[:, n_act:]).max(axis=1) if cfg.n_silent else np.zeros(len(dW)),
    }
    for k in ("alpha_f", "alpha_t", "Vbar_f", "E"):
        out[k] = res[k]
    return out


def summarize(samples: dict) -> dict:
    """Statistics of one protocol from concatenated per-neuron samples (neurons x trials)."""
    m, s = mean_sem(samples["dw"])
    pm, ps = mean_sem(samples["dw_percent"])
    sp = 1 / (1 + np.exp(-samples["Vbar_f"]))
    return {
        "dw_mean": m, "dw_sem": s, "n": int(len(samples["dw"])),
        "dw_percent_mean": pm, "dw_percent_sem": ps,
        "dw_silent_mean": float(np.mean(samples["dw_silent_mean"])),
        "dw_silent_max_abs": float(np.max(samples["dw_silent_max_abs"])),
        "alpha_f_mean": float(np.mean(samples["alpha_f"])), "alpha_t_mean": float(np.mean(samples["alpha_t"])),
        "Vbar_f_mean": float(np.mean(samples["Vbar_f"])), "sigma_prime_mean": float(np.mean(sp * (1 - sp))),
        "E_mean_hz": float(np.mean(samples["E"])),
    }
