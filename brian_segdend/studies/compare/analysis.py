"""The comparison's analysis: signs, normalised changes and disagreements.

:func:`compare_models` runs every model on the four conditions and collects mean +- SEM
and sign per condition; :func:`normalised_changes` and :func:`disagreements` compare the
models with each other.
"""

from __future__ import annotations

import time

import brian2 as b2
import numpy as np

from ..common import mean_sem
from ..fig10 import CONDITIONS
from .models import MODELS, load_model_file
from .protocol import APICAL_DRIVE, CONDITION_NAMES, ProtocolConfig, run_protocol, run_segdend

__all__ = ["sign_of", "compare_models", "MAGNITUDE_GAP", "normalised_changes", "disagreements", "SIGN_LABEL"]


def sign_of(mean: float, sem: float) -> int:
    """-1, 0 or 1; 0 when the mean is exactly 0 or within 2 standard errors of 0."""
    if mean == 0 or not np.isfinite(mean) or (np.isfinite(sem) and abs(mean) < 2 * sem):
        return 0
    return int(np.sign(mean))


def compare_models(cfg: ProtocolConfig, models=("stdp", "clopath", "urbanczik_senn", "payeur", "segdend"),
                   log=print) -> dict:
    """Run every model on the four conditions; JSON-ready summary."""
    out = {"protocol": {"conditions": {n: _condition_span(cfg, n) for n in CONDITION_NAMES},
                        "basal": f"{cfg.n_basal - cfg.n_silent} active + {cfg.n_silent} silent afferents at "
                                 f"{cfg.basal_rate:g} Hz for {2 * cfg.phase_ms:g} ms",
                        "apical": f"{cfg.n_apical} afferents at {cfg.apical_rate:g} Hz while on",
                        "neurons_per_condition": cfg.n_neurons * cfg.trials,
                        "n_neurons": cfg.n_neurons, "trials": cfg.trials, "seed": cfg.seed},
           "models": {}, "timing_s": {}}
    for m in models:
        t0 = time.perf_counter()
        if m == "segdend":
            try:
                r = run_segdend(cfg, log=log)
            finally:
                b2.set_device("runtime")   # leave the process on the default device
            unit = "ms"
        else:
            r = run_protocol(m, cfg)
            unit = APICAL_DRIVE[m]["unit"]
        timing = r.pop("_timing")
        conds = {}
        for name in CONDITION_NAMES:
            c = r[name]
            if "dw" in c:
                mean, sem = mean_sem(c["dw"])
                extra = {"n": int(len(c["dw"])), "post_rate_hz": c["post_rate_hz"],
                         **{k: c[k] for k in ("events_per_neuron", "bursts_per_neuron", "burst_fraction") if k in c}}
            else:
                mean, sem = c["dw_mean"], c["dw_sem"]
                extra = {"n": c["n"], "alpha_f": c["alpha_f"], "alpha_t": c["alpha_t"]}
            conds[name] = {"dw_mean": mean, "dw_sem": sem, "sign": sign_of(mean, sem),
                           "silent_max_abs": c["silent_max_abs"], **extra}
        out["models"][m] = {"label": MODELS[m][1], "citation": MODELS[m][2], "equations": MODELS[m][0],
                            "weight_unit": unit, "conditions": conds, "run": timing}
        if any("burst_fraction" in c for c in conds.values()):
            # the burst-dependent rule's reference: its running estimate of the burst fraction starts at P0
            out["models"][m]["Pbar_start"] = float(load_model_file(m).params["P0"])
        out["timing_s"][m] = time.perf_counter() - t0
        log(f"compare: {m} done in {out['timing_s'][m]:.1f} s")
    out["disagreements"] = disagreements(out)
    return out


def _condition_span(cfg, name):
    span = CONDITIONS[name]
    return None if span is None else [span[0] * cfg.phase_ms, span[1] * cfg.phase_ms]


#: Two models disagree in magnitude on a condition when their normalised changes (each model's
#: mean divided by its largest |mean| over the conditions) differ by more than this.
MAGNITUDE_GAP = 0.5


def normalised_changes(results: dict) -> dict:
    """Model -> condition -> mean change divided by the model's largest |mean| over the conditions."""
    out = {}
    for m, r in results["models"].items():
        c = r["conditions"]
        scale = max(abs(c[n]["dw_mean"]) for n in CONDITION_NAMES) or 1.0
        out[m] = {n: c[n]["dw_mean"] / scale for n in CONDITION_NAMES}
    return out


def disagreements(results: dict) -> list:
    """Conditions where the models disagree.

    In sign (``kind`` "sign"), or, with the same sign, in relative magnitude by more than
    :data:`MAGNITUDE_GAP` (``kind`` "magnitude"; e.g. a model whose weights barely move under
    sustained apical input next to one whose weights change as much as in its strongest
    condition). Each entry has the signs and the normalised changes of every model.
    """
    out = []
    models = list(results["models"])
    norm = normalised_changes(results)
    for name in CONDITION_NAMES:
        signs = {m: results["models"][m]["conditions"][name]["sign"] for m in models}
        rel = {m: norm[m][name] for m in models}
        if len(set(signs.values())) > 1:
            out.append({"condition": name, "kind": "sign", "signs": signs, "normalised": rel})
        elif len(models) > 1 and max(abs(v) for v in rel.values()) - min(abs(v) for v in rel.values()) > MAGNITUDE_GAP:
            out.append({"condition": name, "kind": "magnitude", "signs": signs, "normalised": rel})
    return out


#: sign -> its label in tables and figures
SIGN_LABEL = {-1: "LTD", 0: "0", 1: "LTP"}
