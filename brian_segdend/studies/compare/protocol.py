"""Figure 10's protocol on the point models and on this model.

:class:`ProtocolConfig` (defaults from Figure 10's configuration), the four conditions
(:data:`CONDITION_NAMES`), each model's apical drive (:data:`APICAL_DRIVE`),
:func:`condition_schedule`, :func:`run_protocol` (one point model, all conditions) and
:func:`run_segdend` (the segregated-dendrite model through Figure 10's own experiment).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import brian2 as b2
import numpy as np
from brian2 import Hz, ms

from ...model.params import ModelParams
from ..fig10 import Fig10Config, apical_schedule, make_protocols, run_experiment
from .models import load_model_file, neuron_group, synapses, use_runtime_device

__all__ = ["CONDITION_NAMES", "APICAL_DRIVE", "TAIL_MS", "ProtocolConfig", "condition_schedule", "run_protocol", "run_segdend"]


CONDITION_NAMES = ("early_apical", "late_apical", "no_apical", "sustained_apical")


#: protocol choices per point model: apical synapse statement, its weight, initial basal weight,
#: weight unit, time step, state variable names to read. Not from the papers (see the docstring).
APICAL_DRIVE = {
    "stdp": dict(on_pre="g_ex_post += w_apical", w_apical=0.07, w0=0.5, unit="g_max", dt=0.1 * ms,
                 weight="w", init={"v": "E_L"}),
    "clopath": dict(on_pre="I_syn_post += w_apical", w_apical=200e-12 * b2.amp, w0=0.5, unit="w", dt=0.1 * ms,
                    weight="w", init={"u": "E_L", "u_minus": "E_L", "u_plus": "E_L", "V_T": "V_T_rest"}),
    "urbanczik_senn": dict(on_pre="g_E_post += w_apical", w_apical=0.03 / ms, w0=1.0 * ms, unit="ms",
                           dt=0.1 * ms, weight="W"),
    "payeur": dict(on_pre="ge_d_post += w_apical", w_apical=0.2, w0=0.08, unit="g_L", dt=0.1 * ms, weight="w",
                   init={"V_s": "E_L", "V_d": "E_L", "V_thr": "V_T", "Ebar": "E0", "Bbar": "P0*E0"},
                   counts=("n_events", "n_bursts")),
}


TAIL_MS = 100.0   # input-free time after the trial for the point models (traces, PSPs decay)


@dataclass
class ProtocolConfig:
    """The Figure 10 protocol for the point models; defaults from :class:`fig10.Fig10Config`."""

    n_neurons: int = 100
    trials: int = 5
    seed: int = 1
    n_basal: int = 20
    n_silent: int = 5
    basal_rate: float = 50.0      # Hz
    n_apical: int = 10
    apical_rate: float = 100.0    # Hz
    phase_ms: float = 50.0

    @classmethod
    def from_fig10(cls, cfg) -> ProtocolConfig:
        """The protocol of a :class:`fig10.Fig10Config`."""
        return cls(n_neurons=cfg.n_neurons, trials=cfg.trials, seed=cfg.seed, n_basal=cfg.n_basal,
                   n_silent=cfg.n_silent, basal_rate=cfg.basal_rate, n_apical=cfg.n_apical,
                   apical_rate=cfg.apical_rate, phase_ms=cfg.phase_ms)

    def fig10_config(self, **changes):
        """The :class:`fig10.Fig10Config` of the same protocol, with the sweeps cut to the minimum."""
        base = dict(n_neurons=self.n_neurons, trials=self.trials, seed=self.seed, n_basal=self.n_basal,
                    n_silent=self.n_silent, basal_rate=self.basal_rate, n_apical=self.n_apical,
                    apical_rate=self.apical_rate, phase_ms=self.phase_ms, g_a_sweep=(0.0,),
                    sweep_step_ms=self.phase_ms, map_step_ms=self.phase_ms, basal_rate_sweep=(self.basal_rate,))
        base.update(changes)
        return Fig10Config(**base)


def condition_schedule(cfg: ProtocolConfig, steps: int, dt_ms: float) -> np.ndarray:
    """(steps, 4) apical on/off of the four conditions, from :mod:`fig10`'s own protocol code."""
    protos = [p for p in make_protocols(cfg.fig10_config()) if p.kind == "condition"]
    if [p.name for p in protos] != list(CONDITION_NAMES):
        raise RuntimeError(f"fig10 conditions changed: {[p.name for p in protos]}")
    return apical_schedule(protos, steps, dt_ms)


def run_protocol(model: str, cfg: ProtocolConfig, directory=None) -> dict:
    """The four conditions for one point model, all neurons in one run.

    Returns per condition the per-neuron ``dw`` (mean change of the active basal weights),
    the silent synapses' largest |change| and the postsynaptic rate while apical input is on;
    for a model with ``counts`` in :data:`APICAL_DRIVE` (the burst-dependent rule) also the
    events and bursts per neuron and the burst fraction (bursts / events).
    """
    mf = load_model_file(model, directory)
    drive = APICAL_DRIVE[model]
    dt = drive["dt"]
    use_runtime_device(dt)
    b2.seed(cfg.seed)
    dt_ms = float(dt / ms)
    trial_ms = 2 * cfg.phase_ms
    steps = int(round((trial_ms + TAIL_MS) / dt_ms))
    basal_on = (np.arange(steps) * dt_ms < trial_ms - 1e-9).astype(float)
    sch_basal = b2.TimedArray(basal_on, dt=dt)
    sch_apical = b2.TimedArray(condition_schedule(cfg, steps, dt_ms), dt=dt)
    K = len(CONDITION_NAMES)
    n = cfg.n_neurons * cfg.trials
    N = K * n
    nb, na = cfg.n_basal, cfg.n_apical
    ns = dict(mf.params)
    ns.update(sch_basal=sch_basal, sch_apical=sch_apical, w_apical=drive["w_apical"])
    cond = np.repeat(np.arange(K), n)
    basal = b2.NeuronGroup(N * nb, "rate : Hz (constant)", threshold="rand() < rate*sch_basal(t)*dt",
                           namespace=ns, name="basal_aff")
    active = np.tile(np.arange(nb) < nb - cfg.n_silent, N)
    basal.rate = cfg.basal_rate * Hz * active
    apical = b2.NeuronGroup(N * na, "cond : integer (constant)", namespace=ns, name="apical_aff",
                            threshold=f"rand() < {cfg.apical_rate}*Hz*sch_apical(t, cond)*dt")
    apical.cond = np.repeat(cond, na)
    post = neuron_group(mf, N, ns, name="post")
    for var, expr in drive.get("init", {}).items():
        setattr(post, var, ns[expr] if expr in ns else expr)   # a parameter, or an expression of parameters
    S = synapses(mf, basal, post, ns, name="basal_syn")
    S.connect(i=np.arange(N * nb), j=np.repeat(np.arange(N), nb))
    w0 = drive["w0"]
    setattr(S, drive["weight"], w0)
    A = b2.Synapses(apical, post, on_pre=drive["on_pre"], namespace=ns, name="apical_syn")
    A.connect(i=np.arange(N * na), j=np.repeat(np.arange(N), na))
    spikes = b2.SpikeMonitor(post, name="post_spikes")
    net = b2.Network(basal, apical, post, S, A, spikes)
    t0 = time.perf_counter()
    net.run(steps * dt, namespace=ns)
    wall = time.perf_counter() - t0
    w1 = np.asarray(getattr(S, drive["weight"])[:])
    w0v = np.asarray(w0 / (ms if drive["unit"] == "ms" else 1))
    if drive["unit"] == "ms":
        w1 = w1 / float(ms)
    dW = (w1 - float(w0v)).reshape(N, nb)
    n_act = nb - cfg.n_silent
    counts = np.bincount(np.asarray(spikes.i[:]), minlength=N)
    sched = condition_schedule(cfg, steps, dt_ms)
    si, st = np.asarray(spikes.i[:]), np.round(np.asarray(spikes.t / dt)).astype(int)
    on_counts = np.bincount(si[sched[np.minimum(st, steps - 1), cond[si]] > 0.5], minlength=N)
    out = {}
    for k, name in enumerate(CONDITION_NAMES):
        sl = slice(k * n, (k + 1) * n)
        on_ms = sched[:, k].sum() * dt_ms
        out[name] = {
            "dw": dW[sl, :n_act].mean(axis=1),
            "silent_max_abs": float(np.abs(dW[sl, n_act:]).max()) if cfg.n_silent else 0.0,
            "post_rate_hz": float(counts[sl].mean() / ((trial_ms + TAIL_MS) / 1000.0)),
            "post_rate_apical_on_hz": (float(on_counts[sl].mean() / (on_ms / 1000.0)) if on_ms else None),
            "apical_on_ms": float(on_ms),
        }
        if "counts" in drive:   # burst-dependent model: events and bursts per neuron, burst fraction
            ev, bu = (np.asarray(getattr(post, name)[:])[sl] for name in drive["counts"])
            out[name].update(events_per_neuron=float(ev.mean()), bursts_per_neuron=float(bu.mean()),
                             burst_fraction=(float(bu.sum() / ev.sum()) if ev.sum() else None))
    out["_timing"] = {"run_s": wall, "neurons": N, "synapses": N * nb, "dt_ms": dt_ms, "steps": steps}
    return out


def run_segdend(cfg: ProtocolConfig, log=print) -> dict:
    """The segregated-dendrite model's numbers on the four conditions (:func:`fig10.run_experiment`)."""
    t0 = time.perf_counter()
    res, _ = run_experiment(cfg.fig10_config(), ModelParams(hidden=(1,), timing="paper"), log=log)
    out = {name: {"dw_mean": c["dw_mean"], "dw_sem": c["dw_sem"], "n": c["n"],
                  "silent_max_abs": c["dw_silent_max_abs"],
                  "alpha_f": c["alpha_f_mean"], "alpha_t": c["alpha_t_mean"]}
           for name, c in res["conditions"].items()}
    out["_timing"] = {**res["timing"], "total_s": time.perf_counter() - t0}
    return out
