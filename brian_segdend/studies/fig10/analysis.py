"""Figure 10's analysis: per-neuron weight changes and per-protocol statistics.

:func:`per_neuron` turns one run's raw arrays into per-neuron measurements;
:func:`summarize` gives the mean, SEM and averages of one protocol's samples.
"""

from __future__ import annotations

import math

import numpy as np

from ..common import mean_sem
from .protocol import Fig10Config

__all__ = ["per_neuron", "summarize", "sign_significance", "SIGNIFICANCE_P"]

#: significance level of the "pairings until the sign is significant" estimate
SIGNIFICANCE_P = 0.01


def _z_two_sided(p: float) -> float:
    """The z with P(|Z| > z) = p for a standard normal Z (bisection on erfc)."""
    lo, hi = 0.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if math.erfc(mid / math.sqrt(2)) > p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def sign_significance(x, p: float = SIGNIFICANCE_P) -> dict:
    """Whether the sign of the mean of ``x`` (one value per pairing) is significant, and after how many pairings.

    Two-sided test of mean 0 with the normal approximation (z = mean / SEM; n is in the
    hundreds here). ``pairings`` estimates the number of independent pairings whose mean would
    reach significance at level ``p``: ceil((z_p sd / |mean|)^2), from the measured mean and sd;
    ``None`` where the measured sign is itself not significant (a mean near 0 gives no estimate)
    or every value is equal (all 0: no change to test).
    """
    x = np.asarray(x, float)
    n = len(x)
    m = float(x.mean()) if n else float("nan")
    sd = float(x.std(ddof=1)) if n > 1 else float("nan")
    if n < 2 or not sd > 0:
        return {"p_value": None, "significant": False, "pairings": None, "sd": sd if n > 1 else None}
    z = m / (sd / math.sqrt(n))
    pval = math.erfc(abs(z) / math.sqrt(2))
    significant = pval < p
    need = math.ceil((_z_two_sided(p) * sd / abs(m)) ** 2) if significant else None
    return {"p_value": pval, "significant": bool(significant), "pairings": need, "sd": sd}


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
    for k in ("M", "N_f", "N_t"):     # burst-coded plateaus (plateau_code = 'burst')
        if k in res:
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
        # sign of dw: p-value and pairings needed at p < SIGNIFICANCE_P (sign_significance)
        **{f"sign_{k}": v for k, v in sign_significance(samples["dw"]).items() if k != "sd"},
    }
