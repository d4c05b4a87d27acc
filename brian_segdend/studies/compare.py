"""Other plasticity models on the Figure 10 protocol: which experiments tell them apart.

The segregated-dendrite model (Guerguiev, Lillicrap & Richards 2017, eLife 6:e22901,
doi:10.7554/eLife.22901) predicts that the sign of basal plasticity follows the timing of
apical input (Figure 10, :mod:`brian_segdend.studies.fig10`). This module runs the same four
conditions through three published plasticity models and this one, and lists the
conditions where they disagree: the experiments that would discriminate them.

Models (equations and the papers' parameters in ``equations/plasticity/*.eqs``)
-------------------------------------------------------------------
* ``stdp`` -- pair-based STDP, Song, Miller & Abbott (2000) Nat. Neurosci. 3:919
  (``stdp_song2000.eqs``), on the paper's conductance-based integrate-and-fire neuron.
* ``clopath`` -- voltage-based STDP, Clopath et al. (2010) Nat. Neurosci. 13:344
  (``clopath2010.eqs``), on the paper's adaptive exponential integrate-and-fire neuron
  with spike after-depolarisation and adaptive threshold.
* ``urbanczik_senn`` -- dendritic prediction of somatic spiking, Urbanczik & Senn (2014)
  Neuron 81:521 (``urbanczik_senn2014.eqs``): plastic synapses on a dendrite, a spiking soma.
* ``segdend`` -- this model, run by :func:`brian_segdend.studies.fig10.run_experiment` itself
  (the same compiled build as ``python -m brian_segdend fig10``), not re-implemented.

The protocol (:mod:`brian_segdend.studies.fig10`, same numbers for every model)
----------------------------------------------------------------------
One trial: basal afferents on for two phases of ``phase_ms`` (default 50 + 50 ms);
``n_basal`` = 20 Poisson afferents per neuron at ``basal_rate`` (50 Hz), of which the last
``n_silent`` = 5 are never stimulated; ``n_apical`` = 10 apical afferents at ``apical_rate``
(100 Hz) switched on by the condition: ``early_apical`` (first phase), ``late_apical``
(second phase), ``no_apical``, ``sustained_apical`` (both). The schedules are
:func:`brian_segdend.studies.fig10.apical_schedule` of :func:`brian_segdend.studies.fig10.make_protocols`.
The measured quantity is ``dw``: per neuron, the mean weight change of its active basal
synapses after one trial (plus a 100 ms tail without input for the models whose weights
keep changing after the input stops), in the model's own weight unit; ``n_neurons x
trials`` independent neurons per condition.

Mapping of the protocol onto each model
---------------------------------------
=================  ==============================  ====================================  ===============================
model              'basal' (plastic, measured)     'apical'                              plateau
=================  ==============================  ====================================  ===============================
segdend            basal-dendrite synapses W0      apical-dendrite synapses (feedback)   the model's own: alpha^f, alpha^t
stdp               excitatory synapses onto the    non-plastic excitatory conductance    none: the apical drive makes the
                   point neuron (plastic, STDP)    onto the same point neuron            soma fire (~40 Hz) while on
clopath            excitatory current synapses     non-plastic excitatory current onto   none: the apical drive depolarises
                   onto the point neuron           the point neuron                      the soma and makes it fire
urbanczik_senn     dendritic synapses (V_w)        somatic excitatory teacher            none: the teacher conductance
                                                   conductance g_E (the 'nudging'        raises U above the dendritic
                                                   input of the paper)                   prediction, as the plateau does
=================  ==============================  ====================================  ===============================

A point neuron has no apical dendrite: 'apical' becomes an extra, non-plastic input that
depolarises the soma, which is what back-propagating or plateau-driven depolarisation does
at the basal synapses of a real neuron. In the Urbanczik-Senn neuron, the somatic teacher
input plays the role the apical plateau plays here (the teaching signal). The apical drive
strength of each point model is a protocol choice (``APICAL_DRIVE``), chosen so the neuron
fires at a few tens of Hz while apical input is on and is nearly silent with basal input
alone.

Signature checks (``tests/test_compare.py``)
--------------------------------------------
Before its protocol numbers mean anything, each model reproduces its own paper's
signature: :func:`stdp_window` (Song et al. Fig. 1: LTP for pre-before-post, LTD for
post-before-pre, magnitudes exp(-|dt|/tau)), :func:`clopath_frequency` (Clopath et al.
Fig. 2b, the Sjostrom et al. 2001 protocol: post-before-pre pairs give LTD at low pairing
frequency and LTP at high frequency; pre-before-post potentiation grows with frequency)
and :func:`urbanczik_teacher` (Urbanczik & Senn Fig. 1: under a somatic teacher the
dendritic prediction of the rate converges to the somatic rate).

Devices and run time
--------------------
The three comparison models are small and run once per condition set, so they use
Brian2's runtime device with the ``numpy`` target: no compilation, 2-3 s each for the
default 2,000 neurons and 40,000 plastic synapses (2,000 steps of 0.1 ms), less than a
compiled build would take to compile. The segregated-dendrite model runs through
:mod:`brian_segdend.studies.fig10`, compiled with ``cpp_standalone`` under
:func:`brian_segdend.standalone.buildcache.build_root` after
:func:`brian_segdend.standalone.buildcache.configure_compiler_cache`: about 30 s to compile a new
size (with ccache), then under 0.1 s per trial; an existing build folder is reused.

Deviations from the papers
--------------------------
* Clopath et al.: no homeostatic scaling of A_LTD (fixed at its reference value, as for
  a neuron at its reference depolarisation); the protocol's synapses are current-based
  (``tau_syn``, ``J_syn``, not specified for this neuron in the paper). Signature check:
  postsynaptic spikes are forced at the chosen times (the paper used brief current
  pulses); the 0.1 Hz point is one isolated pairing times five (pairings 10 s apart do
  not interact).
* Urbanczik & Senn: the low-pass filter of the weight change (tau_Delta = 100 ms) is left
  out; it delays but conserves the integrated change, which is what is read out. The
  learning rate ``eta`` is chosen for these simulations (the paper's Fig. 1 value is in
  different units); the comparison normalises each model anyway.
* Song et al.: a single neuron with the protocol's afferents instead of 1000 inputs; the
  apical drive replaces the background input that made the neuron fire.
* segdend: as in :mod:`brian_segdend.studies.fig10` (dt = 1 ms, fixed phases, one pairing).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second

from ..model.equations import EquationFileError, equation_root, read_equation_file
from ..model.equations import default_equation_dir as segdend_equation_dir
from ..model.params import ModelParams
from ..training.options import OneLineParser, positive_int, seed_int
from ..training.safeio import atomic_write_text, savefig_atomic
from .fig10 import (  # strict JSON (NaN -> null, numpy -> Python)
    CONDITIONS,
    Fig10Config,
    _finite,
    _json_default,
    apical_schedule,
    make_protocols,
    run_experiment,
)

__all__ = ["MODELS", "ModelFile", "load_model_file", "ProtocolConfig", "run_protocol", "run_segdend",
           "stdp_window", "clopath_frequency", "urbanczik_teacher", "sign_of", "compare_models",
           "write_outputs", "models_markdown", "comparison_markdown", "parser", "main"]

CONDITION_NAMES = ("early_apical", "late_apical", "no_apical", "sustained_apical")

#: model key -> (equation file, label, citation)
MODELS = {
    "segdend": (None, "Segregated dendrites (this model)",
                "Guerguiev, Lillicrap & Richards (2017) eLife 6:e22901, doi:10.7554/eLife.22901"),
    "stdp": ("stdp_song2000.eqs", "Pair STDP (Song et al. 2000)",
             "Song, Miller & Abbott (2000) Nat. Neurosci. 3:919, doi:10.1038/78829"),
    "clopath": ("clopath2010.eqs", "Voltage STDP (Clopath et al. 2010)",
                "Clopath, Buesing, Vasilaki & Gerstner (2010) Nat. Neurosci. 13:344, doi:10.1038/nn.2479"),
    "urbanczik_senn": ("urbanczik_senn2014.eqs", "Dendritic prediction (Urbanczik & Senn 2014)",
                       "Urbanczik & Senn (2014) Neuron 81:521, doi:10.1016/j.neuron.2013.11.030"),
}

#: protocol choices per point model: apical synapse statement, its weight, initial basal weight,
#: weight unit, time step, state variable names to read. Not from the papers (see the docstring).
APICAL_DRIVE = {
    "stdp": dict(on_pre="g_ex_post += w_apical", w_apical=0.07, w0=0.5, unit="g_max", dt=0.1 * ms,
                 weight="w", init={"v": "E_L"}),
    "clopath": dict(on_pre="I_syn_post += w_apical", w_apical=200e-12 * b2.amp, w0=0.5, unit="w", dt=0.1 * ms,
                    weight="w", init={"u": "E_L", "u_minus": "E_L", "u_plus": "E_L", "V_T": "V_T_rest"}),
    "urbanczik_senn": dict(on_pre="g_E_post += w_apical", w_apical=0.03 / ms, w0=1.0 * ms, unit="ms",
                           dt=0.1 * ms, weight="W"),
}

TAIL_MS = 100.0   # input-free time after the trial for the point models (traces, PSPs decay)


# ----------------------------------------------------------------------------- equation files
@dataclass
class ModelFile:
    """One ``equations/plasticity/<model>.eqs`` file: parameters, sections (neuron, synapse), raw text."""

    path: Path
    text: str
    params: dict                      # name -> Quantity (Brian units)
    param_lines: list                 # (name, expression, comment) in file order
    sections: dict                    # name -> {"eqs": str, "directives": {...}, "events": {}, "on_event": {}}

    def equations(self, section: str) -> b2.Equations:
        """The Brian2 equations of ``section``."""
        return b2.Equations(self.sections[section]["eqs"])

    def directive(self, section: str, key: str, default=None):
        """A directive of ``section`` (``default`` if absent)."""
        return self.sections[section]["directives"].get(key, default)


_ALLOWED = ("method", "threshold", "reset", "refractory", "on_pre", "on_post")
_REQUIRED = {"stdp": {"neuron": {"v", "g_ex"}, "synapse": {"w"}},
             "clopath": {"neuron": {"u", "I_syn", "u_minus", "u_plus"}, "synapse": {"w"}},
             "urbanczik_senn": {"neuron": {"U", "V_w", "g_E", "phi_U", "phi_star"}, "synapse": {"W", "PSP"}}}


def default_equation_dir() -> Path:
    """The comparison models' files: ``<equation_root()>/plasticity``."""
    return equation_root() / "plasticity"


def load_model_file(model: str, directory: Path | None = None) -> ModelFile:
    """Read, parse and check ``equations/plasticity/<file>`` of a comparison model.

    Checks: every ``#: param`` evaluates to a number or Brian quantity (units only, no
    other names); the ``[neuron]`` and ``[synapse]`` sections exist, parse as Brian2
    equations and define the names the comparison reads; directives are known.
    Raises :class:`brian_segdend.model.equations.EquationFileError` naming ``path:line``.
    """
    fname = MODELS[model][0]
    path = Path(directory or default_equation_dir()) / fname
    read = read_equation_file(path, _ALLOWED, sections=True, params=True)
    params = {name: v[0] for name, v in read.params.items()}
    plines = [(name, v[2], v[3]) for name, v in read.params.items()]
    sections = {}
    for name, sec in read.sections.items():
        if not name:
            if sec.directives or sec.events or sec.on_event:
                line = min(v[1] for v in (*sec.directives.values(), *sec.events.values(), *sec.on_event.values()))
                raise EquationFileError(f"{path}:{line}: directive outside a section")
            continue
        sections[name] = {"eqs": sec.eq_text, "line": sec.line,
                          "directives": {k: v[0] for k, v in sec.directives.items()},
                          "events": {k: v[0] for k, v in sec.events.items()},
                          "on_event": {k: v[0] for k, v in sec.on_event.items()}}
    for name in ("neuron", "synapse"):
        if name not in sections:
            raise EquationFileError(f"{path}:1: missing section '#: [{name}]'")
        sec = sections[name]
        missing = _REQUIRED[model][name] - set(read.sections[name].lines)
        if missing:
            raise EquationFileError(f"{path}:{sec['line']}: section [{name}] must define {', '.join(sorted(missing))}")
        try:
            b2.Equations(sec["eqs"])
        except Exception as e:
            raise EquationFileError(f"{path}:{sec['line']}: section [{name}] does not parse: {e}") from e
    return ModelFile(path, read.text, params, plines, sections)


def _neuron_group(mf: ModelFile, n: int, ns: dict, extra: str = "", name=None, threshold_extra=None):
    sec = mf.sections["neuron"]
    d = sec["directives"]
    thr = d.get("threshold")
    if threshold_extra:
        thr = f"({thr}) or ({threshold_extra})"
    kw = dict(method=d.get("method", "euler"), namespace=ns, threshold=thr, reset=d.get("reset"))
    if "refractory" in d:
        kw["refractory"] = d["refractory"]
    if sec["events"]:
        kw["events"] = dict(sec["events"])
    if name:
        kw["name"] = name
    g = b2.NeuronGroup(n, b2.Equations(sec["eqs"] + "\n" + extra), **kw)
    for ev, stmts in sec["on_event"].items():
        # custom events end a spike: check and act at the start of the step, before the
        # state update integrates from the held spike potential
        g.run_on_event(ev, stmts, when="before_groups", order=1)
        g.thresholder[ev].when = "before_groups"
        g.thresholder[ev].order = 0
    return g


def _synapses(mf: ModelFile, pre, post, ns: dict, name=None):
    d = mf.sections["synapse"]["directives"]
    on_pre = d.get("on_pre")
    on_post = d.get("on_post")
    kw = dict(model=mf.sections["synapse"]["eqs"], on_pre=on_pre, namespace=ns,
              method=d.get("method", "euler"))
    if on_post:
        kw["on_post"] = on_post
    if name:
        kw["name"] = name
    return b2.Synapses(pre, post, **kw)


def _runtime(dt):
    """Runtime device, numpy target, fresh clock: the comparison models need no compilation."""
    b2.set_device("runtime")
    b2.device.reinit()
    b2.device.activate()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = dt
    b2.start_scope()


# ----------------------------------------------------------------------------- the protocol
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
    the silent synapses' largest |change| and the postsynaptic rate while apical input is on.
    """
    mf = load_model_file(model, directory)
    drive = APICAL_DRIVE[model]
    dt = drive["dt"]
    _runtime(dt)
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
    post = _neuron_group(mf, N, ns, name="post")
    for var, expr in drive.get("init", {}).items():
        setattr(post, var, ns[expr])
    S = _synapses(mf, basal, post, ns, name="basal_syn")
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


def sign_of(mean: float, sem: float) -> int:
    """-1, 0 or 1; 0 when the mean is exactly 0 or within 2 standard errors of 0."""
    if mean == 0 or not np.isfinite(mean) or (np.isfinite(sem) and abs(mean) < 2 * sem):
        return 0
    return int(np.sign(mean))


def _stats(x) -> tuple[float, float]:
    x = np.asarray(x, float)
    sem = float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")
    return float(x.mean()), sem


# ----------------------------------------------------------------------------- signature checks
def _pair_groups(mf, n, pre_times_ms, post_times_ms, ns, dt):
    """Presynaptic spike generator -> one postsynaptic neuron each, postsynaptic spikes forced."""
    pre_i = np.concatenate([[k] * len(t) for k, t in enumerate(pre_times_ms)]).astype(int)
    pre_t = np.concatenate([np.asarray(t, float) for t in pre_times_ms])
    pre = b2.SpikeGeneratorGroup(n, pre_i, pre_t * ms, name="pre_gen")
    t_end = max(max(np.max(t) for t in pre_times_ms if len(t)), max(np.max(t) for t in post_times_ms if len(t)))
    steps = int(round(t_end / float(dt / ms))) + 2
    force = np.zeros((steps, n))
    for k, ts in enumerate(post_times_ms):
        force[np.round(np.asarray(ts) / float(dt / ms)).astype(int), k] = 1
    ns["sch_force"] = b2.TimedArray(force, dt=dt)
    post = _neuron_group(mf, n, ns, name="post", threshold_extra="sch_force(t, i) > 0.5")
    S = _synapses(mf, pre, post, ns, name="syn")
    S.connect(j="i")
    return pre, post, S, t_end


def stdp_window(dts_ms=(-60, -40, -20, -10, -5, 5, 10, 20, 40, 60), directory=None) -> dict:
    """Song et al. (2000) Fig. 1: the weight change of one pre/post pair against dt = t_post - t_pre.

    One synapse per dt, isolated pair, no other input. Returns ``dt_ms`` and ``dw`` (in
    units of g_max) and the paper's window ``expected`` (A_plus e^{-dt/tau_plus} for dt > 0,
    -A_minus e^{dt/tau_minus} for dt < 0).
    """
    mf = load_model_file("stdp", directory)
    dt = 0.1 * ms
    _runtime(dt)
    ns = dict(mf.params)
    dts = np.asarray(dts_ms, float)
    t_ref = 100.0
    pre_t = [[t_ref] for _ in dts]
    post_t = [[t_ref + d] for d in dts]
    pre, post, S, t_end = _pair_groups(mf, len(dts), pre_t, post_t, ns, dt)
    S.w = 0.5
    post.v = ns["E_L"]
    net = b2.Network(pre, post, S)
    net.run((t_end + 50) * ms, namespace=ns)
    p = mf.params
    expected = np.where(dts > 0, p["A_plus"] * np.exp(-dts / float(p["tau_plus"] / ms)),
                        -p["A_minus"] * np.exp(dts / float(p["tau_minus"] / ms)))
    return {"dt_ms": dts.tolist(), "dw": (np.asarray(S.w[:]) - 0.5).tolist(), "expected": expected.tolist()}


def clopath_frequency(freqs_hz=(0.1, 10.0, 20.0, 40.0, 50.0), n_pairs=5, delay_ms=10.0, directory=None) -> dict:
    """Clopath et al. (2010) Fig. 2b (Sjostrom et al. 2001): five pairings at each frequency.

    Pre-post (post ``delay_ms`` after pre) and post-pre (pre ``delay_ms`` after post).
    Frequencies below 5 Hz: one isolated pairing, change times ``n_pairs`` (the model's
    traces have decayed long before the next pairing). Returns percent weight change
    (initial weight 0.5) per frequency for both orders.
    """
    mf = load_model_file("clopath", directory)
    dt = 0.1 * ms
    _runtime(dt)
    ns = dict(mf.params)
    w0 = 0.5
    pre_t, post_t, meta = [], [], []
    start = 20.0
    for order in ("pre_post", "post_pre"):
        for f in freqs_hz:
            reps = n_pairs if f >= 5 else 1
            period = 1000.0 / f
            base = start + np.arange(reps) * period
            if order == "pre_post":
                pre_t.append(base), post_t.append(base + delay_ms)
            else:
                post_t.append(base), pre_t.append(base + delay_ms)
            meta.append((order, f, n_pairs / reps))
    pre, post, S, t_end = _pair_groups(mf, len(meta), pre_t, post_t, ns, dt)
    S.w = w0
    for var, expr in APICAL_DRIVE["clopath"]["init"].items():
        setattr(post, var, ns[expr])
    net = b2.Network(pre, post, S)
    net.run((t_end + 300) * ms, namespace=ns)
    w = np.asarray(S.w[:])
    out = {"freq_hz": list(freqs_hz), "pre_post": [], "post_pre": []}
    for k, (order, _f, mult) in enumerate(meta):
        out[order].append(float(100.0 * (w[k] - w0) * mult / w0))
    return out


def urbanczik_teacher(n_neurons=20, n_inputs=50, duration_s=6.0, seed=3, U_M=(1.0, 0.0), g_teach=1 / ms,
                      window_ms=400.0, directory=None) -> dict:
    """Urbanczik & Senn (2014) Fig. 1: a somatic teacher, dendritic synapses learn its rate.

    Inputs alternate every 100 ms between two patterns (pattern A: the first half of the
    afferents at 40 Hz, the rest at 2 Hz; pattern B: the reverse). The teacher's somatic
    conductances (total ``g_teach``) impose the matching potential ``U_M[p]`` of the pattern
    (``g_E = g_teach (U_M - E_I)/(E_E - E_I)``, ``g_I = g_teach - g_E``). Returns, for the
    first and the last ``window_ms`` and each pattern: the mean rates phi(U) (somatic, nudged
    by the teacher) and phi(V*_w) (dendritic prediction), ``error_hz`` = |mean phi(V*_w) - mean
    phi(U)| (after the first 20 ms of each block), and phi(U_M), the rate the teacher asks for.
    """
    mf = load_model_file("urbanczik_senn", directory)
    dt = 0.2 * ms
    _runtime(dt)
    b2.seed(seed)
    ns = dict(mf.params)
    p = mf.params
    block = 100 * ms
    n_blocks = int(round(duration_s * 1000 / 100))
    pattern = np.arange(n_blocks) % 2
    ns["sch_pat"] = b2.TimedArray(pattern, dt=block)
    gE = [g_teach * (u - p["E_I"]) / (p["E_E"] - p["E_I"]) for u in U_M]
    ns.update(g_E_A=gE[0], g_E_B=gE[1], g_teach=g_teach)
    rng = np.random.default_rng(seed)
    inp = b2.NeuronGroup(n_neurons * n_inputs, "group_a : 1 (constant)", namespace=ns, name="inp",
                         threshold="rand() < (2*Hz + 38*Hz*(group_a*(1 - sch_pat(t)) + (1 - group_a)*sch_pat(t)))*dt")
    inp.group_a = np.tile(np.arange(n_inputs) < n_inputs // 2, n_neurons).astype(float)
    post = _neuron_group(mf, n_neurons, ns, name="post")
    post.run_regularly("g_E = g_E_A*(1 - sch_pat(t)) + g_E_B*sch_pat(t)\ng_I = g_teach - g_E", when="start")
    S = _synapses(mf, inp, post, ns, name="syn")
    S.connect(i=np.arange(n_neurons * n_inputs), j=np.repeat(np.arange(n_neurons), n_inputs))
    S.W = rng.uniform(0.0, 0.4, size=n_neurons * n_inputs) * ms
    mon = b2.StateMonitor(post, ["phi_U", "phi_star"], record=True, dt=1 * ms, name="mon")
    net = b2.Network(inp, post, S, mon)
    net.run(duration_s * second, namespace=ns)
    t = np.asarray(mon.t / ms)
    phiU, phiS = np.asarray(mon.phi_U / Hz), np.asarray(mon.phi_star / Hz)
    pat = pattern[np.minimum((t // 100).astype(int), n_blocks - 1)]
    settle = (t % 100) >= 20   # leave out the first 20 ms of each block (PSPs still change)

    def phi(u):
        return float(p["phi_max"] / Hz) / (1 + p["k"] * np.exp(p["beta"] * (p["theta"] - u)))

    def window(lo, hi):
        res = {}
        for q, name in ((0, "A"), (1, "B")):
            m = settle & (pat == q) & (t >= lo) & (t < hi)
            res[name] = {"error_hz": float(abs(phiS[:, m].mean() - phiU[:, m].mean())),
                         "phi_U_hz": float(phiU[:, m].mean()), "phi_star_hz": float(phiS[:, m].mean()),
                         "phi_target_hz": phi(U_M[q])}
        res["error_hz"] = 0.5 * (res["A"]["error_hz"] + res["B"]["error_hz"])
        return res
    T = duration_s * 1000
    return {"first": window(0, window_ms), "last": window(T - window_ms, T), "duration_s": duration_s}


# ----------------------------------------------------------------------------- comparison
def compare_models(cfg: ProtocolConfig, models=("stdp", "clopath", "urbanczik_senn", "segdend"), log=print) -> dict:
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
                mean, sem = _stats(c["dw"])
                extra = {"n": int(len(c["dw"])), "post_rate_hz": c["post_rate_hz"]}
            else:
                mean, sem = c["dw_mean"], c["dw_sem"]
                extra = {"n": c["n"], "alpha_f": c["alpha_f"], "alpha_t": c["alpha_t"]}
            conds[name] = {"dw_mean": mean, "dw_sem": sem, "sign": sign_of(mean, sem),
                           "silent_max_abs": c["silent_max_abs"], **extra}
        out["models"][m] = {"label": MODELS[m][1], "citation": MODELS[m][2], "equations": MODELS[m][0],
                            "weight_unit": unit, "conditions": conds, "run": timing}
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
    """Conditions where the models disagree: in sign (``kind`` "sign"), or, with the same sign,
    in relative magnitude by more than :data:`MAGNITUDE_GAP` (``kind`` "magnitude"; e.g. a
    model whose weights barely move under sustained apical input next to one whose weights
    change as much as in its strongest condition). Each entry has the signs and the
    normalised changes of every model."""
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


# ----------------------------------------------------------------------------- outputs
_SIGN = {-1: "LTD", 0: "0", 1: "LTP"}


def comparison_markdown(results: dict) -> str:
    """The comparison as Markdown: per condition, each model's mean weight change (± SEM) and its sign."""
    models = list(results["models"])
    lines = ["# Plasticity models on the Figure 10 protocol", "",
             f"Basal: {results['protocol']['basal']}; apical: {results['protocol']['apical']}. "
             f"{results['protocol']['neurons_per_condition']} independent neurons per condition "
             f"({results['protocol']['n_neurons']} x {results['protocol']['trials']} trials), seed "
             f"{results['protocol']['seed']}. dw: mean change of a neuron's active basal weights after one "
             "trial (± SEM over neurons), in each model's weight unit. Sign 0: |mean| < 2 SEM or exactly 0.", "",
             "| condition | " + " | ".join(f"{results['models'][m]['label']} [{results['models'][m]['weight_unit']}]"
                                        for m in models) + " |",
             "|---|" + "---|" * len(models)]
    for name in CONDITION_NAMES:
        cells = []
        for m in models:
            c = results["models"][m]["conditions"][name]
            cells.append(f"{c['dw_mean']:+.3g} ± {c['dw_sem']:.2g} ({_SIGN[c['sign']]})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Normalised (each model's mean divided by its largest |mean| over the conditions):", "",
              "| condition | " + " | ".join(results["models"][m]["label"] for m in models) + " |",
              "|---|" + "---|" * len(models)]
    for name in CONDITION_NAMES:
        cells = []
        for m in models:
            c = results["models"][m]["conditions"]
            scale = max(abs(c[n]["dw_mean"]) for n in CONDITION_NAMES) or 1.0
            cells.append(f"{c[name]['dw_mean'] / scale:+.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Where the models disagree (discriminating experiments)", ""]
    dis = results["disagreements"]
    if not dis:
        lines.append("All models predict the same sign in every condition.")
    for d in dis:
        label = results["models"]
        if d.get("kind", "sign") == "sign":
            groups = {}
            for m, s in d["signs"].items():
                groups.setdefault(_SIGN[s], []).append(f"{label[m]['label']} ({d['normalised'][m]:+.2f})"
                                                      if "normalised" in d else label[m]["label"])
            lines.append(f"- **{d['condition']}** (sign): " + "; ".join(f"{k}: {', '.join(v)}" for k, v in groups.items()))
        else:
            lines.append(f"- **{d['condition']}** (magnitude; normalised change): "
                         + ", ".join(f"{label[m]['label']} {v:+.2f}" for m, v in d["normalised"].items()))
    lines += ["", "## Timing contrast (late minus early apical)", "",
              "Only a model whose sign flips between early and late apical input predicts the "
              "timing dependence of Figure 10.", ""]
    for m in models:
        c = results["models"][m]["conditions"]
        e, l_ = c["early_apical"], c["late_apical"]
        flip = e["sign"] != l_["sign"]
        lines.append(f"- {results['models'][m]['label']}: early {_SIGN[e['sign']]}, late {_SIGN[l_['sign']]}"
                     + (" — sign depends on apical timing" if flip else " — same sign"))
    lines += ["", "Run times (s): " + ", ".join(f"{m} {t:.1f}" for m, t in results["timing_s"].items()), ""]
    return "\n".join(lines)


def make_figure(results: dict, path: Path) -> Path:
    """Grouped bars: conditions x models, each model normalised so its largest |mean| is 1."""
    import matplotlib  # lazy: matplotlib is imported only when a figure is drawn (start-up cost)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib is imported only when a figure is drawn (start-up cost)
    models = list(results["models"])
    colors = {"segdend": "#1b7837", "stdp": "#2166ac", "clopath": "#b2182b", "urbanczik_senn": "#e08214"}
    fig, ax = plt.subplots(figsize=(10, 5.6), constrained_layout=True)
    width = 0.8 / len(models)
    x = np.arange(len(CONDITION_NAMES))
    for k, m in enumerate(models):
        r = results["models"][m]
        c = r["conditions"]
        mean = np.array([c[n]["dw_mean"] for n in CONDITION_NAMES])
        sem = np.nan_to_num(np.array([c[n]["dw_sem"] for n in CONDITION_NAMES]))
        scale = np.max(np.abs(mean)) or 1.0
        pos = x - 0.4 + width * (k + 0.5)
        ax.bar(pos, mean / scale, width * 0.9, yerr=sem / scale, capsize=3, color=colors.get(m),
               label=f"{r['label']}   (1 = {scale:.2g} {r['weight_unit']})", error_kw={"elinewidth": 1})
        for p_, n in zip(pos, CONDITION_NAMES):
            ax.text(p_, 1.25, _SIGN[c[n]["sign"]], ha="center", va="center", fontsize=7.5, rotation=90,
                    color=colors.get(m, "k"), fontweight="bold")
    ax.axhline(0, color="k", lw=0.8)
    for xi in x[:-1] + 0.5:
        ax.axvline(xi, color="0.85", lw=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels([n.replace("_", " ") for n in CONDITION_NAMES], fontsize=11)
    ax.set_xlim(-0.5, len(CONDITION_NAMES) - 0.5)
    ax.set_ylim(-1.2, 1.42)
    ax.set_ylabel("basal weight change after one trial\n(per model: largest |mean| = 1)")
    ax.set_title("Figure 10 protocol: predicted basal plasticity (mean ± SEM over "
                 f"{results['protocol']['neurons_per_condition']} neurons; sign above: |mean| > 2 SEM)", fontsize=10)
    ax.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, frameon=False)
    savefig_atomic(fig, path, dpi=130)
    plt.close(fig)
    return path


def models_markdown(directory=None) -> str:
    """Each model's equations (file text and LaTeX from ``Equations._repr_latex_``) and parameters."""
    lines = ["# Models compared on the Figure 10 protocol", "",
             "Generated from the equation files by `brian_segdend.studies.compare.models_markdown()`.", ""]
    for key, (fname, label, cite) in MODELS.items():
        lines += [f"## {label}", "", f"{cite}", ""]
        if fname is None:
            lines += _segdend_markdown()
            continue
        mf = load_model_file(key, directory)
        lines += [f"File: `equations/plasticity/{fname}`", "", "| parameter | value | meaning |", "|---|---|---|"]
        lines += [f"| `{n}` | `{e}` | {c} |" for n, e, c in mf.param_lines]
        for sec in ("neuron", "synapse"):
            d = mf.sections[sec]
            lines += ["", f"### {sec}", "", "$$", _latex(mf.equations(sec)), "$$", ""]
            for k, v in list(d["directives"].items()) + [(f"event {a}", b) for a, b in d["events"].items()] + \
                    [(f"on_event {a}", b) for a, b in d["on_event"].items()]:
                lines.append(f"- {k}: `{v}`")
        lines += ["", "Protocol mapping (not from the paper): " + _mapping_text(key), "",
                  "<details><summary>equation file</summary>", "", "```", mf.text.rstrip(), "```", "", "</details>", ""]
    return "\n".join(lines)


def _latex(eqs) -> str:
    """``Equations._repr_latex_()``; Brian2 prints dimensionless units as 'rad', shown here as 1."""
    return eqs._repr_latex_().replace(r"\mathrm{rad}", "1")


def _mapping_text(key):
    d = APICAL_DRIVE[key]
    return (f"apical input `{d['on_pre']}` per apical spike with `w_apical = {d['w_apical']}`; "
            f"initial basal weight {d['w0']}; dt = {d['dt']}.")


def _segdend_markdown() -> list:
    p = ModelParams(hidden=(1,), timing="paper").to_mapping()
    units = p.pop("units", {})
    lines = ["Files: `equations/segdend/hidden_basal.eqs`, `hidden_apical.eqs`, `hidden_soma.eqs`, `kernel.eqs`, "
             "`input_poisson.eqs`; learning rule in `brian_segdend/model/learning.py` (docs/MODEL.md Eq. 31-35).", "",
             "| parameter | value | unit |", "|---|---|---|"]
    lines += [f"| `{k}` | `{v}` | {units.get(k, '')} |" for k, v in p.items()]
    for f in ("hidden_basal", "hidden_apical", "hidden_soma", "kernel", "input_poisson"):
        text = (segdend_equation_dir() / f"{f}.eqs").read_text()
        body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        lines += ["", f"### {f}", ""]
        try:
            lines += ["$$", _latex(b2.Equations(body)), "$$"]
        except Exception:
            pass
        lines += ["", "```", text.rstrip(), "```"]
    return lines + [""]




def write_outputs(results: dict, out: Path) -> list:
    """Write ``comparison.json``, ``comparison.md``, ``comparison.png`` and ``models.md`` into ``out``; returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "comparison.json", out / "comparison.md", out / "comparison.png", out / "models.md"]
    atomic_write_text(paths[0], json.dumps(_finite(results), indent=1, default=_json_default))
    atomic_write_text(paths[1], comparison_markdown(results))
    make_figure(results, paths[2])
    atomic_write_text(paths[3], models_markdown())
    return paths


# ----------------------------------------------------------------------------- command line
def parser() -> argparse.ArgumentParser:
    """The options of ``python -m brian_segdend compare``."""
    d = ProtocolConfig()
    ap = OneLineParser(prog="python -m brian_segdend compare",
                                 description="Pair STDP, Clopath voltage STDP, Urbanczik-Senn dendritic prediction "
                                             "and the segregated-dendrite model on the Figure 10 protocol. Writes "
                                             "comparison.json, comparison.md, comparison.png and models.md.")
    ap.add_argument("--out", type=Path, default=Path("results/compare"), help="output folder (default: %(default)s)")
    ap.add_argument("--n-neurons", type=positive_int, default=None,
                    help=f"neurons per condition and trial (default {d.n_neurons}; quick 20)")
    ap.add_argument("--trials", type=positive_int, default=None, help=f"trials (default {d.trials}; quick 2)")
    ap.add_argument("--seed", type=seed_int, default=d.seed, help="seed (default: %(default)s)")
    ap.add_argument("--models", nargs="+", default=["stdp", "clopath", "urbanczik_senn", "segdend"],
                    choices=list(MODELS), help="models to run (default: all)")
    ap.add_argument("--quick", action="store_true", help="small populations (smoke test)")
    return ap


def main(argv=None) -> int:
    """Command line: ``python -m brian_segdend compare [options]``."""
    args = parser().parse_args(argv)
    n = args.n_neurons if args.n_neurons is not None else (20 if args.quick else ProtocolConfig.n_neurons)
    trials = args.trials if args.trials is not None else (2 if args.quick else ProtocolConfig.trials)
    if n < 1 or trials < 1 or (n * trials < 2):
        print("compare: error: --n-neurons and --trials must be >= 1, with at least 2 neurons in all", file=sys.stderr)
        return 2
    cfg = ProtocolConfig(n_neurons=n, trials=trials, seed=args.seed)
    t0 = time.perf_counter()
    results = compare_models(cfg, models=tuple(args.models), log=lambda m: print(m, file=sys.stderr))
    results["timing_s"]["total"] = time.perf_counter() - t0
    paths = write_outputs(results, args.out)
    print(comparison_markdown(results))
    for p in paths:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
