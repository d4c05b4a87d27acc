"""Figure 10 with burst-coded plateaus: whether the sign prediction survives a few spikes per plateau.

:func:`run_bursts` runs the four conditions and the onset sweep of the Figure 10 protocol with
``plateau_code = 'burst'`` (``equations/segdend/hidden_burst.eqs``) for several burst scales k
on one compiled build (k is a run argument), with the trial seeds and initial weights of
:func:`~.experiment.run_experiment` (the same configuration gives the same afferent weights).
Per condition: mean weight change ± SEM and the number of pairings until its sign is
significant at p < 0.01 (:func:`~.analysis.sign_significance`); per scale: how the burst-coded
teaching signal M / k = (N^t - N^f) / k compares with the exact alpha^t - alpha^f of the same
neurons (:func:`burst_statistics`).
"""

from __future__ import annotations

import time

import numpy as np

from ...model.params import ModelParams
from .analysis import per_neuron, summarize
from .model import Fig10Model
from .protocol import CONDITIONS, Fig10Config

__all__ = ["run_bursts", "burst_statistics", "trial_seeds"]


def trial_seeds(cfg: Fig10Config, model: Fig10Model) -> tuple[list, list]:
    """Initial states and C++ seeds of the trials, exactly as :func:`~.experiment.run_experiment` draws them."""
    seqs = np.random.SeedSequence(cfg.seed).spawn(cfg.trials)
    states = [model.initial_state(np.random.default_rng(sq)) for sq in seqs]
    seeds = [int(sq.generate_state(1)[0] % (2 ** 31)) for sq in seqs]
    return states, seeds


def burst_statistics(M, alpha_f, alpha_t, k: float) -> dict:
    """The burst-coded signal M / k against the exact alpha^t - alpha^f of the same updates.

    Given the plateaus, N^f ~ Poisson(k alpha^f) and N^t ~ Poisson(k alpha^t) are independent, so
    the residual r = M / k - (alpha^t - alpha^f) has mean 0 and variance (alpha^t + alpha^f) / k.
    Returns the mean residual, its SEM and z-score, the observed and expected variance, and the
    variance of the exact signal (the noise-to-signal ratio is their quotient).
    """
    M, a_f, a_t = (np.asarray(v, float).ravel() for v in (M, alpha_f, alpha_t))
    r = M / k - (a_t - a_f)
    n = len(r)
    sem = float(r.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    exact = a_t - a_f
    return {
        "n": int(n), "burst_scale": float(k),
        "mean_signal_burst": float(np.mean(M / k)), "mean_signal_exact": float(np.mean(exact)),
        "residual_mean": float(r.mean()), "residual_sem": sem,
        "residual_z": float(r.mean() / sem) if sem > 0 else None,
        "residual_var": float(np.mean(r ** 2)), "expected_var": float(np.mean((a_t + a_f) / k)),
        "exact_signal_var": float(np.var(exact)),
        "mean_spikes_forward": float(np.mean(k * a_f)), "mean_spikes_target": float(np.mean(k * a_t)),
    }


def _collect(model: Fig10Model, results: list) -> list:
    n = model.cfg.n_neurons
    per = [per_neuron(r, model.cfg) for r in results]
    return [{key: np.concatenate([pn[key][k * n:(k + 1) * n] for pn in per]) for key in per[0]}
            for k in range(model.K)]


def run_bursts(cfg: Fig10Config, params: ModelParams, scales, model: Fig10Model | None = None,
               log=print) -> dict:
    """Conditions and onset sweep at ``cfg.g_a`` with burst-coded plateaus, for each k in ``scales``.

    ``params`` gives everything but the plateau code (set to ``'burst'`` here) and the scale.
    ``model``: a burst-coded :class:`Fig10Model` of the same configuration to reuse.
    Returns the JSON-ready ``bursts`` entry of ``fig10.json``.
    """
    t0 = time.perf_counter()
    scales = [float(k) for k in scales]
    base = params.replace(plateau_code="burst", burst_scale=scales[0])
    if model is None:
        model = Fig10Model(cfg, base, record_conditions=False)
    elif model.params.plateau_code != "burst" or model.cfg.build_key() != cfg.build_key():
        raise ValueError("run_bursts: the model must be a burst-coded build of the same configuration")
    model.cfg = cfg
    model.build()
    states, seeds = trial_seeds(cfg, model)
    idx = {pr.name: k for k, pr in enumerate(model.protocols)}
    rows = []
    for k in scales:
        model.params = base.replace(burst_scale=k)   # a run argument: no rebuild
        results = [model.run_trial(seeds[t], cfg.g_a, states[t]) for t in range(cfg.trials)]
        by_p = _collect(model, results)
        conditions = {name: summarize(by_p[idx[name]]) for name in CONDITIONS}
        onset = [{"onset_ms": pr.onset_ms, "offset_ms": pr.offset_ms, **summarize(by_p[j])}
                 for j, pr in enumerate(model.protocols) if pr.kind == "onset"]
        allp = {key: np.concatenate([res[key] for res in results]) for key in ("M", "alpha_f", "alpha_t")}
        rows.append({"burst_scale": k, "conditions": conditions, "onset_sweep": onset,
                     "burst_statistics": burst_statistics(allp["M"], allp["alpha_f"], allp["alpha_t"], k),
                     "burst_statistics_by_condition": {
                         name: burst_statistics(by_p[idx[name]]["M"], by_p[idx[name]]["alpha_f"],
                                                by_p[idx[name]]["alpha_t"], k) for name in CONDITIONS}})
        c = conditions
        log(f"fig10 bursts: k = {k:g} done (early {c['early_apical']['dw_mean']:+.2e}, late "
            f"{c['late_apical']['dw_mean']:+.2e} ms; {time.perf_counter() - t0:.1f} s)")
    model.params = base
    return {
        "note": ("burst-coded plateaus (plateau_code = 'burst'): each plateau emits N ~ Poisson(k alpha) spikes, "
                 "the update uses (N^t - N^f)/k in place of alpha^t - alpha^f; same trial seeds and initial "
                 "weights as the rate-coded results; 'sign_pairings': pairings until the sign of the mean "
                 "change is significant at p < 0.01 (normal approximation), null where the measured sign "
                 "is not significant"),
        "g_a_per_ms": cfg.g_a, "scales": scales, "by_scale": rows,
        "build_dir": str(model.build_dir), "timing": {"compile_s": model.timings.get("build_s"),
                                                      "total_s": time.perf_counter() - t0},
    }
