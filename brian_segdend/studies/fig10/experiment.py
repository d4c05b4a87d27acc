"""Figure 10's experiment: every protocol for every g_a and trial.

:func:`run_experiment` runs the compiled :class:`~.model.Fig10Model` and assembles the
JSON-ready results (conditions, onset/offset sweeps, onset x offset map, g_a and basal-rate
sweeps); :func:`effective_params` lists the model parameters the experiment ran with.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
from brian2 import ms

from ...model.params import ModelParams
from .analysis import per_neuron, summarize
from .model import Fig10Model
from .protocol import CONDITIONS, Fig10Config, map_offsets, map_onsets

__all__ = ["run_experiment", "effective_params"]


def _collect(model: Fig10Model, results: list) -> list:
    """Per protocol: per-neuron samples concatenated over trials."""
    n = model.cfg.n_neurons
    per = [per_neuron(r, model.cfg) for r in results]
    out = []
    for k in range(model.K):
        sl = slice(k * n, (k + 1) * n)
        out.append({key: np.concatenate([pn[key][sl] for pn in per]) for key in per[0]})
    return out


def run_experiment(cfg: Fig10Config, params: ModelParams | None = None, model: Fig10Model | None = None,
                   log=print) -> tuple[dict, dict]:
    """Run every protocol for every g_a and trial; return (JSON-ready results, raw extras for plotting)."""
    t_start = time.perf_counter()
    if model is None:
        model = Fig10Model(cfg, params)
    elif model.cfg.build_key() != cfg.build_key():
        raise ValueError("the model was built for another configuration (sizes or sweep grids differ)")
    model.cfg = cfg
    p = model.params
    t0 = time.perf_counter()
    model.build()
    build_s = time.perf_counter() - t0
    g_values = list(dict.fromkeys([cfg.g_a] + list(cfg.g_a_sweep)))
    ss = np.random.SeedSequence(cfg.seed)
    trial_seqs = ss.spawn(cfg.trials)
    states = [model.initial_state(np.random.default_rng(sq)) for sq in trial_seqs]
    cpp_seeds = [int(sq.generate_state(1)[0] % (2 ** 31)) for sq in trial_seqs]
    by_g, traces = {}, {}
    run_s, n_runs = 0.0, 0
    for g in g_values:
        results = []
        for trial in range(cfg.trials):
            res = model.run_trial(cpp_seeds[trial], g, states[trial])
            run_s += res["wall_s"]
            n_runs += 1
            results.append(res)
        by_g[g] = _collect(model, results)
        if "trace_t" in results[0]:
            traces[g] = {k: np.mean([r[k] for r in results], axis=0) for k in ("trace_V", "trace_V_a", "trace_V_b")}
            traces[g]["t"] = results[0]["trace_t"]
        log(f"fig10: g_a = {g:g}/ms done ({cfg.trials} trials, {time.perf_counter() - t_start:.1f} s)")

    protos = model.protocols
    idx = {pr.name: k for k, pr in enumerate(protos)}

    def stats(g, name):
        return summarize(by_g[g][idx[name]])

    main_g = cfg.g_a
    conditions = {name: stats(main_g, name) for name in CONDITIONS}

    def sweep(g, kind):
        rows = []
        for k, pr in enumerate(protos):
            if pr.kind == kind:
                s = summarize(by_g[g][k])
                rows.append({"onset_ms": pr.onset_ms, "offset_ms": pr.offset_ms, **s})
        return rows

    ons, offs = map_onsets(cfg), map_offsets(cfg)
    grid = {key: [[None] * len(offs) for _ in ons] for key in ("dw_mean", "dw_sem", "dw_percent_mean", "dw_percent_sem")}
    for a, on in enumerate(ons):
        for c, off in enumerate(offs):
            name = f"map_{on:g}_{off:g}"
            if name in idx:
                s = summarize(by_g[main_g][idx[name]])
                for key in grid:
                    grid[key][a][c] = s[key]
    g_a_sweep = []
    for g in cfg.g_a_sweep:
        conds = {name: stats(g, name) for name in CONDITIONS}
        g_a_sweep.append({
            "g_a_per_ms": g, "k_b": float(p.g_b / (p.g_l + p.g_b + g / ms)),
            "conditions": conds,
            "late_minus_early": conds["late_apical"]["dw_mean"] - conds["early_apical"]["dw_mean"],
            "late_minus_early_percent": conds["late_apical"]["dw_percent_mean"] - conds["early_apical"]["dw_percent_mean"],
            "onset_sweep": sweep(g, "onset"), "offset_sweep": sweep(g, "offset"),
        })
    rate_sweep = []
    for r in cfg.basal_rate_sweep:
        rate_sweep.append({"basal_rate_hz": r,
                           "early_apical": stats(main_g, f"early_apical@{r:g}Hz"),
                           "late_apical": stats(main_g, f"late_apical@{r:g}Hz")})
    total_s = time.perf_counter() - t_start
    eta = p.learning_rates[0] if cfg.eta is None else cfg.eta
    out = {
        "figure": "Guerguiev, Lillicrap & Richards (2017) eLife 6:e22901, Figure 10 (predicted basal plasticity)",
        "units": {"dw": "ms (basal weight; V_b = sum w s + b, s in spikes/ms)",
                  "dw_percent": "percent of the summed initial weight of the neuron's active basal synapses",
                  "time": "ms", "rates": "Hz", "g_a": "1/ms", "E": "Hz"},
        "conditions": conditions,
        "onset_sweep": sweep(main_g, "onset"),
        "offset_sweep": sweep(main_g, "offset"),
        "onset_offset_map": {"onset_ms": ons, "offset_ms": offs, **grid,
                             "note": "rows: onset, columns: offset; null where offset <= onset (no apical input)"},
        "g_a_sweep": g_a_sweep,
        "basal_rate_sweep": rate_sweep,
        "config": {**asdict(cfg), "pulse_ms": cfg.pulse, "eta": eta, "n_protocols": model.K,
                   "neurons_total": model.N, "steps_per_trial": model.steps,
                   "cpp_seeds": cpp_seeds, "apical_weight_ms": states[0]["w_apical"],
                   "forward_window_ms": [float(p.settle / ms), cfg.phase_ms],
                   "target_window_ms": [cfg.phase_ms + float(p.settle / ms), cfg.trial_ms],
                   "params": effective_params(p, cfg, eta), "build_dir": str(model.build_dir)},
        "timing": {"codegen_s": model.timings.get("codegen_s"), "build_s": build_s,
                   "compile_s": model.timings.get("build_s"), "runs": n_runs, "run_s": run_s,
                   "per_run_s": run_s / max(n_runs, 1), "experiment_s": total_s - build_s},
    }
    extras = {"traces": traces, "protocols": protos, "schedules": model.schedules()}
    return out, extras


def effective_params(p: ModelParams, cfg: Fig10Config, eta: float) -> dict:
    """The model parameters this experiment ran with (plain numbers in docs/MODEL.md's units).

    The protocol's own values replace the model defaults they override (``g_a``, the phase
    length, the hidden learning rate); training-only entries (layer sizes, Wald phase extras,
    test duration, feedback variant, learning rates of other layers) are left out: here every
    neuron is an independent hidden neuron and both phases last exactly ``phase_ms``.
    """
    eff = p.to_mapping()
    for key in ("n_input", "hidden", "n_output", "wald_mean", "wald_scale", "test_duration", "feedback",
                "feedback_noise", "eta", "learning_rates", "init_rate_frac_hidden"):
        eff.pop(key, None)
        eff.get("units", {}).pop(key, None)
    eff["g_a"] = float(cfg.g_a)
    eff["phase_min"] = float(cfg.phase_ms)
    eff["eta_hidden"] = float(eta)
    return eff
