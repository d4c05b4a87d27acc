"""Figure 10: the model's prediction of basal LTP/LTD from the timing of apical input.

Guerguiev J, Lillicrap TP, Richards BA (2017). Towards deep learning with segregated
dendrites. eLife 6:e22901. https://doi.org/10.7554/eLife.22901 -- Figure 10 and the
Discussion: "if apical and basal inputs arrive at the same time, but the apical inputs
disappear before the basal inputs do [...] the basal synapses should engage in LTD. [...]
if the apical inputs only arrive after the basal inputs have been active for some period
of time [...] the basal synapses should engage in LTP."

What is simulated
-----------------
A population of independent hidden-layer neurons, each built from the same equation files
as the training network (``hidden_basal.eqs`` + ``hidden_apical.eqs`` for the dendrites,
``hidden_soma.eqs`` + ``kernel.eqs`` for the soma) and run through the same compiled
learning code (:mod:`brian_segdend.model.learning`: window accumulators, plateaus at the phase
ends, ``E0``, weight and bias updates). Every neuron has its own afferents, so neurons are
statistically independent:

* ``n_basal`` Poisson afferents (``input_poisson.eqs`` + ``kernel.eqs``) onto the basal
  dendrite, on throughout the trial at ``basal_rate``; the last ``n_silent`` of them are
  never stimulated (input specificity: their ``sbar`` is 0, so their weights cannot move);
* ``n_apical`` Poisson afferents onto the apical dendrite (stand-in for stimulated
  feedback axons), switched on and off per time step by a protocol.

One trial = a forward phase and a target phase of ``phase`` each (no teaching signal
exists here: the "target" phase is just the second half of the stimulus), with plateaus
alpha^f, alpha^t computed exactly as in training; basal weights change once, at the end of
the trial, by dW = -eta P_0 E0 sbar_pre^f, E0 = -k_b phi_max (alpha^t - alpha^f) sigma'(Vbar^f).

Every protocol (the four conditions, every point of the onset, offset and onset x offset
sweeps and of the basal-rate sweep) is one column of a two-dimensional apical schedule
``TimedArray`` (steps x protocols); every neuron and its afferents carry a protocol index.
So one compiled ``cpp_standalone`` binary runs all protocols at once, and trials (C++ RNG
seeds), g_a, rates, weights and the schedules themselves are ``run_args``: no recompile per
condition, sweep point, trial or conductance.

Deviations from the paper
-------------------------
* The paper's Fig. 10 is a schematic; the numbers here are the model's predictions.
* Phases have a fixed length (``phase``, default 50 ms, no Wald-distributed extra) so that
  onset/offset times mean the same thing in every trial.
* One pairing per trial (one forward + target phase from rest); ``dw`` is the change that
  one pairing predicts. A protocol of many pairings would add up such changes.
* Apical synaptic weights are chosen so that the mean apical voltage with the afferents on
  is ``apical_v``. Basal weights are all excitatory, as for stimulated afferents in a slice:
  the mean of docs/MODEL.md's initial-weight recipe for the active afferents
  (``weight_recipe(n_basal - n_silent)``) times ``1 + weight_jitter * U(-1, 1)`` (the
  recipe's spread gives mixed signs, for which a percent change is meaningless); biases
  ``init_b_avg`` as in the recipe.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second

from ..model import learning as L
from ..model.contract import run_values, validation_namespace
from ..model.equations import default_equation_dir, load_all, resolve_user_params
from ..model.layers import Builder, hidden_layer, input_layer, projection
from ..model.network import weight_recipe
from ..model.params import ModelParams, ParameterError
from ..model.schedule import pack_chunk
from ..standalone.compiled import CompiledNetwork, UsesCompiledNetwork
from ..training.options import OneLineParser, add_set_option, finite_float, nonneg_int, positive_int, seed_int
from ..training.safeio import atomic_write_text, savefig_atomic

__all__ = ["Fig10Config", "Protocol", "CONDITIONS", "make_protocols", "apical_schedule", "Fig10Model",
           "run_experiment", "summarize", "effective_params", "make_figures", "write_outputs", "parser", "config_from_args", "main"]

#: the four conditions of the figure: name -> apical on (start, stop) in units of the phase length
CONDITIONS = {
    "early_apical": (0, 1),       # apical with the forward phase only
    "late_apical": (1, 2),        # apical with the target phase only
    "no_apical": None,            # basal input alone
    "sustained_apical": (0, 2),   # apical during both phases
}

#: schedule arrays the learning code reads (see :mod:`brian_segdend.model.schedule`)
_LEARNING_SCHEDULE = ("win_f", "win_t", "n_f", "to_end", "end_f", "end_t")


# ----------------------------------------------------------------------------- configuration
@dataclass
class Fig10Config:
    """Protocol and population of the Figure 10 experiment (numbers in ms, Hz, 1/ms).

    Build-time fields (changing them compiles a new binary): ``n_neurons``, ``n_basal``,
    ``n_apical``, ``phase_ms``, the sweep grids (they set the number of protocols).
    Everything else is passed at run time.
    """

    n_neurons: int = 100            # neurons per protocol (condition or sweep point)
    n_basal: int = 20               # basal afferents per neuron
    n_silent: int = 5               # of which never stimulated (input specificity)
    basal_rate: float = 50.0        # Hz, rate of the active basal afferents
    n_apical: int = 10              # apical afferents per neuron
    apical_rate: float = 100.0      # Hz, rate of the apical afferents while on
    apical_v: float = 3.0           # mean apical voltage while the apical afferents are on
    phase_ms: float = 50.0          # length of each phase (forward, target)
    g_a: float = 0.0                # 1/ms, apical -> soma conductance for the main conditions
    g_a_sweep: tuple = (0.0, 0.05, 0.6)          # 1/ms
    basal_rate_sweep: tuple = (10.0, 25.0, 50.0, 100.0, 200.0)   # Hz
    pulse_ms: float | None = None   # apical pulse length in the onset sweep (default: phase_ms)
    sweep_step_ms: float = 5.0      # onset / offset sweep spacing
    map_step_ms: float = 10.0       # onset x offset map spacing
    trials: int = 5                 # repetitions, each with its own C++ RNG seed
    seed: int = 1                   # master seed (weights, trial seeds)
    eta: float | None = None        # hidden learning rate (ms**2); default Table 1's one-hidden-layer eta_0
    weight_jitter: float = 0.2      # initial basal weights W_avg * (1 + jitter * U(-1, 1)), all excitatory

    def __post_init__(self):
        self.g_a_sweep = tuple(float(g) for g in self.g_a_sweep)
        self.basal_rate_sweep = tuple(float(r) for r in self.basal_rate_sweep)
        self.validate()

    @property
    def pulse(self) -> float:
        """Apical pulse length in the onset sweep (ms)."""
        return self.phase_ms if self.pulse_ms is None else self.pulse_ms

    @property
    def trial_ms(self) -> float:
        """One trial: forward plus target phase (ms)."""
        return 2 * self.phase_ms

    def validate(self, params: ModelParams | None = None) -> Fig10Config:
        """Raise ParameterError naming the field."""
        for name in ("n_neurons", "n_basal", "n_apical", "trials"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"fig10 parameter '{name}': must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.n_silent < self.n_basal:
            raise ParameterError(f"fig10 parameter 'n_silent': must be in [0, n_basal) = [0, {self.n_basal}), "
                                 f"got {self.n_silent}")
        for name in ("basal_rate", "apical_rate", "phase_ms", "sweep_step_ms", "map_step_ms"):
            if not float(getattr(self, name)) > 0:
                raise ParameterError(f"fig10 parameter '{name}': must be positive, got {getattr(self, name)}")
        if self.pulse <= 0:
            raise ParameterError(f"fig10 parameter 'pulse_ms': must be positive, got {self.pulse_ms}")
        for g in (self.g_a,) + self.g_a_sweep:
            if not g >= 0:
                raise ParameterError(f"fig10 parameter 'g_a': must not be negative, got {g}")
        for r in self.basal_rate_sweep:
            if not r > 0:
                raise ParameterError(f"fig10 parameter 'basal_rate_sweep': rates must be positive, got {r}")
        if not 0 <= self.weight_jitter < 1:
            raise ParameterError(f"fig10 parameter 'weight_jitter': must be in [0, 1) (weights stay positive), "
                                 f"got {self.weight_jitter}")
        if self.eta is not None and not self.eta >= 0:
            raise ParameterError(f"fig10 parameter 'eta': must not be negative, got {self.eta}")
        if params is not None:
            phi_max = float(params.phi_max / Hz)
            for name, r in [("basal_rate", self.basal_rate), ("apical_rate", self.apical_rate)] + \
                           [("basal_rate_sweep", r) for r in self.basal_rate_sweep]:
                if r > phi_max:
                    raise ParameterError(f"fig10 parameter '{name}': {r} Hz exceeds phi_max = {phi_max} Hz "
                                         "(the Poisson equation file takes rate = phi_max * pixel, pixel <= 1)")
            settle = float(params.settle / ms)
            if self.phase_ms <= settle:
                raise ParameterError(f"fig10 parameter 'phase_ms' ({self.phase_ms}) must be longer than the "
                                     f"settle time ({settle} ms)")
            dt = float(params.dt / ms)
            for name in ("phase_ms", "sweep_step_ms", "map_step_ms"):
                v = float(getattr(self, name))
                if abs(v / dt - round(v / dt)) > 1e-9:
                    raise ParameterError(f"fig10 parameter '{name}' ({v} ms) must be a whole number of steps (dt = {dt} ms)")
        return self

    @classmethod
    def quick(cls, **changes) -> Fig10Config:
        """A small, fast configuration (smoke tests, ``--quick``)."""
        base = dict(n_neurons=20, trials=3, sweep_step_ms=10.0, map_step_ms=20.0,
                    basal_rate_sweep=(25.0, 50.0, 100.0))
        base.update(changes)
        return cls(**base)

    def build_key(self) -> dict:
        """The fields that change the compiled binary."""
        return {"n_neurons": self.n_neurons, "n_basal": self.n_basal, "n_apical": self.n_apical,
                "phase_ms": self.phase_ms, "n_protocols": len(make_protocols(self))}


@dataclass(frozen=True)
class Protocol:
    """One apical/basal stimulation protocol (one column of the apical schedule)."""

    kind: str                   # 'condition', 'onset', 'offset', 'map', 'rate'
    name: str
    onset_ms: float | None      # apical afferents on at steps [onset, offset); None: never
    offset_ms: float | None
    basal_rate: float | None = None   # Hz; None: the configuration's basal_rate


def make_protocols(cfg: Fig10Config) -> list[Protocol]:
    """Every protocol of the experiment, in column order (the four conditions first)."""
    T, P = cfg.trial_ms, cfg.phase_ms
    out = []
    for name, span in CONDITIONS.items():
        if span is None:
            out.append(Protocol("condition", name, None, None))
        else:
            out.append(Protocol("condition", name, span[0] * P, span[1] * P))
    for on in np.arange(0.0, T - 1e-9, cfg.sweep_step_ms):
        out.append(Protocol("onset", f"onset_{on:g}", float(on), float(min(on + cfg.pulse, T))))
    for off in np.arange(cfg.sweep_step_ms, T + 1e-9, cfg.sweep_step_ms):
        out.append(Protocol("offset", f"offset_{off:g}", 0.0, float(off)))
    for on in _map_onsets(cfg):
        for off in _map_offsets(cfg):
            if off > on:
                out.append(Protocol("map", f"map_{on:g}_{off:g}", float(on), float(off)))
    for r in cfg.basal_rate_sweep:
        for name in ("early_apical", "late_apical"):
            a, b_ = CONDITIONS[name]
            out.append(Protocol("rate", f"{name}@{r:g}Hz", a * P, b_ * P, basal_rate=r))
    return out


def _map_onsets(cfg):
    return [float(x) for x in np.arange(0.0, cfg.trial_ms - 1e-9, cfg.map_step_ms)]


def _map_offsets(cfg):
    return [float(x) for x in np.arange(cfg.map_step_ms, cfg.trial_ms + 1e-9, cfg.map_step_ms)]


def apical_schedule(protocols, steps: int, dt_ms: float) -> np.ndarray:
    """(steps, n_protocols) array: 1 where a protocol's apical afferents are on."""
    t = np.arange(steps) * dt_ms
    out = np.zeros((steps, len(protocols)))
    for k, p in enumerate(protocols):
        if p.onset_ms is not None:
            out[:, k] = (t >= p.onset_ms - 1e-9) & (t < p.offset_ms - 1e-9)
    return out


# ----------------------------------------------------------------------------- the model
class Fig10Model(UsesCompiledNetwork):
    """Independent hidden-type neurons with basal and apical Poisson afferents, compiled once.

    Neuron ``n`` belongs to protocol ``n // cfg.n_neurons``; its basal afferents are
    ``n*n_basal ... (n+1)*n_basal - 1`` (the last ``n_silent`` silent), its apical afferents
    ``n*n_apical ...``. Groups: ``basal_aff``, ``apical_aff``, ``hidden_dend``,
    ``hidden_soma``; Synapses ``W_basal`` (learnt, :data:`learning.WEIGHT_UPDATE`) and
    ``Y_apical`` (fixed).
    """

    def __init__(self, cfg: Fig10Config, params: ModelParams | None = None, build_dir=None,
                 equation_dir=None, record_conditions: bool = True):
        self.params = params if params is not None else ModelParams(hidden=(1,), timing="paper")
        self.cfg = cfg.validate(self.params)
        p = self.params
        self.dt_ms = float(p.dt / ms)
        self.phase_steps = int(round(cfg.phase_ms / self.dt_ms))
        self.steps = 2 * self.phase_steps
        self.settle_steps = int(round(float(p.settle / p.dt)))
        self.protocols = make_protocols(cfg)
        self.K = len(self.protocols)
        self.N = self.K * cfg.n_neurons
        self.record_conditions = record_conditions
        self.equation_dir = Path(equation_dir) if equation_dir else default_equation_dir()
        self.files = load_all(validation_namespace(), self.equation_dir)   # validated before any codegen
        self.user_values = resolve_user_params(self.files, self.params.user_params)   # the files' own parameters
        payload = {"fig10": cfg.build_key(), "dt": self.dt_ms, "record": record_conditions,
                   "files": {n: f.build_text for n, f in self.files.items()}, "brian2": b2.__version__,
                   "learning": [getattr(L, n) for n in L.__all__ if isinstance(getattr(L, n), str)]}
        self.compiled = CompiledNetwork("fig10", payload, build_dir)
        self._setup()

    # ------------------------------------------------------------------ construction
    def _setup(self):
        p, cfg = self.params, self.cfg
        self.compiled.start()
        b2.defaultclock.dt = p.dt
        dt, steps = p.dt, self.steps
        # schedule arrays (names and meaning as in the training network) + stimulus schedules
        self.ta = {name: b2.TimedArray(np.zeros(steps), dt=dt, name=f"sch_{name}") for name in _LEARNING_SCHEDULE}
        self.ta["basal"] = b2.TimedArray(np.zeros(steps), dt=dt, name="sch_basal")
        self.ta["apical"] = b2.TimedArray(np.zeros((steps, self.K)), dt=dt, name="sch_apical")
        ns = {f"sch_{k}": v for k, v in self.ta.items()}
        ns["RULE_UNIT"] = L.RULE_UNIT
        self.namespace = ns
        b = Builder(self.files, ns)
        nb, na = cfg.n_basal, cfg.n_apical

        # ---------------- afferents, hidden-type neurons (as the training network builds them)
        self.basal_aff = input_layer(b, "basal_aff", self.N * nb, "basal")
        self.apical_aff = b.group("afferent", "apical_aff", self.N * na, {}, stimulus="apical")
        d, s = hidden_layer(b, "hidden", self.N)
        self.dend, self.soma = d, s

        # ---------------- synapses: one private afferent bundle per neuron
        self.W = projection(b, "W_basal", self.basal_aff, d, "W_hidden", self.files["hidden_basal"].directives["on_pre"],
                            L.WEIGHT_UPDATE, i=np.arange(self.N * nb), j=np.repeat(np.arange(self.N), nb))
        self.Y = projection(b, "Y_apical", self.apical_aff, d, "Y", self.files["hidden_apical"].directives["on_pre"],
                            i=np.arange(self.N * na), j=np.repeat(np.arange(self.N), na))
        self._shared_vars = b.shared
        self.compiled.sizes.update(b.sizes)
        objs = b.objects

        # ---------------- traces of the four conditions (for the protocol panel)
        self.state_mon = None
        if self.record_conditions:
            n_cond = len(CONDITIONS)
            self.state_mon = b2.StateMonitor(s, ["V", "V_a", "V_b"], record=np.arange(n_cond * cfg.n_neurons),
                                             name="st_conditions")
            objs.append(self.state_mon)

        self.net = b2.Network(objs)
        self.compiled.generate(self.net, self.steps * dt, ns, self.basal_aff.variables["rng_seed"])

    # ------------------------------------------------------------------ build and run
    def build(self):
        """Generate and compile the C++ project once (ccache makes a rebuild of unchanged code cheap)."""
        self.compiled.build(log=print)

    def schedules(self, protocols=None) -> dict:
        """Per-step arrays of one trial: the learning schedule, basal on, apical (steps x K)."""
        ps = self.phase_steps
        ch = pack_chunk(np.array([[ps, ps]]), self.steps, self.settle_steps, train=True)
        arrays = {name: ch.arrays[name] for name in _LEARNING_SCHEDULE}
        arrays["basal"] = np.ones(self.steps)
        arrays["apical"] = apical_schedule(self.protocols if protocols is None else protocols, self.steps, self.dt_ms)
        return arrays

    def initial_state(self, rng: np.random.Generator) -> dict:
        """Basal weights (ms, shape (N, n_basal)) by docs/MODEL.md's recipe, biases, apical weight (ms)."""
        p, cfg = self.params, self.cfg
        W_avg, _ = weight_recipe(cfg.n_basal - cfg.n_silent, p)
        W = W_avg * (1 + cfg.weight_jitter * rng.uniform(-1, 1, size=(self.N, cfg.n_basal)))
        b = p.init_b_avg + 3.465 * p.init_b_sd * rng.uniform(-1, 1, size=self.N)
        w_apical = cfg.apical_v / (cfg.n_apical * cfg.apical_rate / 1000.0)   # mean V_a = w * n * rate
        return {"W": W, "b": b, "w_apical": w_apical}

    def run_trial(self, seed: int, g_a: float, state: dict, basal_rates=None, protocols=None) -> dict:
        """One trial of every protocol at once; returns per-neuron results.

        Parameters
        ----------
        seed : int
            Seed of the C++ random generator (Poisson spikes).
        g_a : float
            Apical -> soma conductance in 1/ms.
        state : dict
            From :meth:`initial_state`.
        basal_rates : array (K,), optional
            Basal rate (Hz) per protocol; default from the protocols and the configuration.
        protocols : list of Protocol, optional
            Replace the apical schedule (same number of protocols as the build).
        """
        p, cfg = self.params, self.cfg
        protocols = self.protocols if protocols is None else protocols
        if len(protocols) != self.K:
            raise ValueError(f"the build has {self.K} protocol columns, got {len(protocols)} protocols")
        if basal_rates is None:
            basal_rates = [cfg.basal_rate if pr.basal_rate is None else pr.basal_rate for pr in protocols]
        basal_rates = np.asarray(basal_rates, float)
        if basal_rates.shape != (self.K,):
            raise ValueError(f"basal_rates: expected shape ({self.K},), got {basal_rates.shape}")
        phi_max = float(p.phi_max / Hz)
        nb, na, n = cfg.n_basal, cfg.n_apical, cfg.n_neurons
        neuron_protocol = np.repeat(np.arange(self.K), n)
        active = np.tile(np.arange(nb) < nb - cfg.n_silent, self.N)
        basal_level = np.repeat(basal_rates[neuron_protocol], nb) / phi_max * active
        if np.any(basal_level > 1) or np.any(basal_level < 0):
            raise ParameterError(f"basal rates must lie in [0, phi_max = {phi_max} Hz]")
        eta = p.learning_rates[0] if cfg.eta is None else cfg.eta
        rt = run_values(p) | self.user_values
        rt["g_a"] = g_a / ms
        values = [(g, k, rt[k]) for g, k in self._shared_vars]
        values += [
            (self.basal_aff, "level", basal_level),
            (self.basal_aff, "rng_seed", float(seed % (2 ** 31))),
            (self.apical_aff, "level", cfg.apical_rate / phi_max),
            (self.apical_aff, "protocol", np.repeat(neuron_protocol, na).astype(np.int32)),
            (self.W, "w", self._w_si(state["W"]).reshape(-1) * second),
            (self.W, "eta_w", eta), (self.W, "P_w", p.P_0),
            (self.dend, "b", np.asarray(state["b"], float)),
            (self.dend, "eta_b", eta), (self.dend, "P_b", p.P_0),
            (self.Y, "w", state["w_apical"] * ms),
            (self.soma, "plateau_variant", rt["plateau_variant"]),
            (self.soma, "plateau_window", rt["plateau_window"]),
        ]
        values += [(self.soma, f"pc{j}", float(rt["plateau_cdf"][j])) for j in range(L.N_PLATEAU_STEPS)]
        sched = self.schedules(protocols)
        run_args = self.compiled.run_args(values, {ta: sched[name] for name, ta in self.ta.items()})
        self.build()
        wall = self.compiled.run(run_args)
        return self._read(state, wall)

    @staticmethod
    def _w_si(W_ms) -> np.ndarray:
        """Weights in ms -> the seconds the binary stores (changes are measured on these exact numbers)."""
        return np.asarray(W_ms, float) * float(ms)

    def _read(self, state, wall) -> dict:
        cfg = self.cfg
        nb = cfg.n_basal
        i, j = np.asarray(self.W.i[:]), np.asarray(self.W.j[:])
        if not (np.array_equal(i, np.arange(self.N * nb)) and np.array_equal(j, np.repeat(np.arange(self.N), nb))):
            raise RuntimeError("W_basal: unexpected synapse order; weights cannot be mapped to neurons")
        w0 = self._w_si(state["W"])
        w1 = np.asarray(self.W.w_[:]).reshape(self.N, nb)
        out = {
            "W0": np.asarray(state["W"], float), "W1": w1 / float(ms), "dW": (w1 - w0) / float(ms),
            "b0": np.asarray(state["b"], float), "b1": np.asarray(self.dend.b[:]),
            "alpha_f": np.asarray(self.soma.alpha_f[:]), "alpha_t": np.asarray(self.soma.alpha_t[:]),
            "Vbar_f": np.asarray(self.soma.Vbar_f[:]), "E": np.asarray(self.soma.E[:] / Hz),
            "sbar_pre": np.asarray(self.basal_aff.sbar[:] / Hz).reshape(self.N, nb),
            "wall_s": wall,
        }
        if self.state_mon is not None:
            out["trace_t"] = np.asarray(self.state_mon.t / ms)
            for v in ("V", "V_a", "V_b"):
                out[f"trace_{v}"] = np.asarray(getattr(self.state_mon, v))
        return out


# ----------------------------------------------------------------------------- analysis
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


def _stats(x) -> tuple[float, float]:
    x = np.asarray(x, float)
    sem = float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")
    return float(x.mean()), sem


def summarize(samples: dict) -> dict:
    """Statistics of one protocol from concatenated per-neuron samples (neurons x trials)."""
    m, s = _stats(samples["dw"])
    pm, ps = _stats(samples["dw_percent"])
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

    ons, offs = _map_onsets(cfg), _map_offsets(cfg)
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


# ----------------------------------------------------------------------------- figures
def make_figures(results: dict, extras: dict, out_dir: Path) -> list[Path]:
    """``fig10.png`` (protocol and conditions) and ``fig10_sweep.png`` (timing curves, map, rates)."""
    import matplotlib  # lazy: matplotlib is imported only when a figure is drawn (start-up cost)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib is imported only when a figure is drawn (start-up cost)

    from .. import plotting as P  # lazy: matplotlib is imported only when a figure is drawn (start-up cost)

    cfg = results["config"]
    fw, tw = cfg["forward_window_ms"], cfg["target_window_ms"]
    g_main = cfg["g_a"]
    fig = plt.figure(figsize=(8.5, 9.0), constrained_layout=True)
    gs = fig.add_gridspec(3, 1, height_ratios=[1.2, 1.0, 1.4])
    ax0 = fig.add_subplot(gs[0])
    P.plot_protocol_timeline(ax=ax0, conditions=CONDITIONS, phase_ms=cfg["phase_ms"], forward_window=fw,
                             target_window=tw, labels=P.CONDITION_LABELS)
    ax0.set_title("A  Protocol (bars: afferents on; grey: averaging windows)", loc="left")
    ax1 = fig.add_subplot(gs[1], sharex=ax0)
    tr = extras["traces"].get(g_main)
    if tr is not None:
        P.plot_condition_traces(ax=ax1, t=tr["t"], V_a=tr["trace_V_a"], n_per=cfg["n_neurons"],
                                names=list(CONDITIONS), labels=P.CONDITION_LABELS,
                                forward_window=fw, target_window=tw, conditions=results["conditions"])
    ax1.set_title(f"B  Mean apical voltage and plateaus (g_a = {g_main:g}/ms)", loc="left")
    ax2 = fig.add_subplot(gs[2])
    P.plot_condition_changes(ax=ax2, conditions=results["conditions"], labels=P.CONDITION_LABELS)
    ax2.set_title(f"C  Predicted basal weight change after one pairing\n"
                  f"    (active afferents, mean ± SEM over n = {results['conditions']['early_apical']['n']} "
                  f"neurons x trials)", loc="left")
    paths = [out_dir / "fig10.png", out_dir / "fig10_sweep.png"]
    savefig_atomic(fig, paths[0], dpi=130)
    plt.close(fig)

    fig, axs = plt.subplots(2, 2, figsize=(12, 9), constrained_layout=True)
    P.plot_timing_curve(ax=axs[0, 0], sweeps={f"g_a = {g['g_a_per_ms']:g}/ms": g["onset_sweep"] for g in results["g_a_sweep"]},
                        x="onset_ms", phase_ms=cfg["phase_ms"], forward_window=fw, target_window=tw)
    axs[0, 0].set_xlabel(f"apical onset after basal onset (ms); apical pulse {cfg['pulse_ms']:g} ms")
    axs[0, 0].set_title("A  Timing: apical pulse onset", loc="left")
    P.plot_timing_curve(ax=axs[0, 1], sweeps={f"g_a = {g['g_a_per_ms']:g}/ms": g["offset_sweep"] for g in results["g_a_sweep"]},
                        x="offset_ms", phase_ms=cfg["phase_ms"], forward_window=fw, target_window=tw)
    axs[0, 1].set_xlabel("apical offset (ms); apical on from basal onset (0 ms)")
    axs[0, 1].set_title("B  Timing: apical offset", loc="left")
    P.plot_onset_offset_map(ax=axs[1, 0], grid=results["onset_offset_map"], phase_ms=cfg["phase_ms"])
    axs[1, 0].set_title(f"C  Onset x offset (g_a = {g_main:g}/ms)", loc="left")
    P.plot_rate_sweep(ax=axs[1, 1], rows=results["basal_rate_sweep"], labels=P.CONDITION_LABELS)
    axs[1, 1].set_title(f"D  Basal rate (g_a = {g_main:g}/ms)", loc="left")
    savefig_atomic(fig, paths[1], dpi=110)
    plt.close(fig)
    return paths


# ----------------------------------------------------------------------------- command line
def parser() -> argparse.ArgumentParser:
    """The options of ``python -m brian_segdend fig10``."""
    d = Fig10Config()
    ap = OneLineParser(
        prog="python -m brian_segdend fig10",
        description="Figure 10 of Guerguiev et al. (2017): predicted basal LTP/LTD against the timing of "
                    "apical input. Writes fig10.json, fig10.png and fig10_sweep.png.")
    ap.add_argument("--out", type=Path, default=Path("results/fig10"), help="output folder (default: %(default)s)")
    ap.add_argument("--n-neurons", type=positive_int, default=None, help=f"neurons per protocol (default {d.n_neurons}; quick 20)")
    ap.add_argument("--trials", type=positive_int, default=None, help=f"trials, each with its own RNG seed (default {d.trials}; quick 3)")
    ap.add_argument("--seed", type=seed_int, default=d.seed, help="master seed (default: %(default)s)")
    ap.add_argument("--g-a", type=finite_float, default=d.g_a,
                    help="apical->soma conductance (1/ms) for the conditions (default: %(default)s)")
    ap.add_argument("--g-a-sweep", type=finite_float, nargs="+", default=list(d.g_a_sweep), help="g_a values (1/ms) of the sweep")
    ap.add_argument("--basal-rate", type=finite_float, default=d.basal_rate, help="active basal afferent rate, Hz (default: %(default)s)")
    ap.add_argument("--basal-rate-sweep", type=finite_float, nargs="+", default=None, help="basal rates (Hz) of the sweep")
    ap.add_argument("--n-basal", type=positive_int, default=d.n_basal, help="basal afferents per neuron (default: %(default)s)")
    ap.add_argument("--n-silent", type=nonneg_int, default=d.n_silent, help="silent basal afferents per neuron (default: %(default)s)")
    ap.add_argument("--n-apical", type=positive_int, default=d.n_apical, help="apical afferents per neuron (default: %(default)s)")
    ap.add_argument("--apical-rate", type=finite_float, default=d.apical_rate,
                    help="apical afferent rate when on, Hz (default: %(default)s)")
    ap.add_argument("--apical-v", type=finite_float, default=d.apical_v, help="mean apical voltage when on (default: %(default)s)")
    ap.add_argument("--phase-ms", type=finite_float, default=d.phase_ms, help="length of each phase, ms (default: %(default)s)")
    ap.add_argument("--pulse-ms", type=finite_float, default=None, help="apical pulse length in the onset sweep (default: phase length)")
    ap.add_argument("--sweep-step-ms", type=finite_float, default=None, help=f"onset/offset spacing (default {d.sweep_step_ms}; quick 10)")
    ap.add_argument("--map-step-ms", type=finite_float, default=None,
                    help=f"onset x offset map spacing (default {d.map_step_ms}; quick 20)")
    ap.add_argument("--eta", type=finite_float, default=None, help="hidden learning rate, ms^2 (default: Table 1, 0.21)")
    ap.add_argument("--quick", action="store_true", help="small population, coarse sweeps (smoke test)")
    add_set_option(ap)
    ap.add_argument("--no-figures", action="store_true", help="write fig10.json only")
    return ap


def config_from_args(args) -> Fig10Config:
    """A Fig10Config from parsed ``fig10`` options (``--quick`` gives the small defaults)."""
    changes = dict(seed=args.seed, g_a=args.g_a, g_a_sweep=tuple(args.g_a_sweep), basal_rate=args.basal_rate,
                   n_basal=args.n_basal, n_silent=args.n_silent, n_apical=args.n_apical,
                   apical_rate=args.apical_rate, apical_v=args.apical_v, phase_ms=args.phase_ms,
                   pulse_ms=args.pulse_ms, eta=args.eta)
    for name in ("n_neurons", "trials", "sweep_step_ms", "map_step_ms"):
        v = getattr(args, name)
        if v is not None:
            changes[name] = v
    if args.basal_rate_sweep is not None:
        changes["basal_rate_sweep"] = tuple(args.basal_rate_sweep)
    return Fig10Config.quick(**changes) if args.quick else Fig10Config(**changes)


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _finite(o):
    """NaN -> None for strict JSON."""
    if isinstance(o, float):
        return o if np.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def write_outputs(results: dict, extras: dict, out: Path, figures: bool = True) -> list[Path]:
    """Write ``fig10.json`` (NaN as null) and, unless ``figures`` is False, the two PNGs."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "fig10.json"
    atomic_write_text(path, json.dumps(_finite(results), indent=1, default=_json_default))
    written = [path]
    if figures:
        written += make_figures(results, extras, out)
    return written


def main(argv=None) -> int:
    """Command line: ``python -m brian_segdend fig10 [options]``."""
    args = parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
        params = ModelParams(hidden=(1,), timing="paper", user_params=dict(args.user_params or []))
        cfg.validate(params)
    except ParameterError as e:
        print(f"fig10: error: {e}", file=sys.stderr)
        return 2
    results, extras = run_experiment(cfg, params, log=lambda m: print(m, file=sys.stderr))
    written = write_outputs(results, extras, Path(args.out), figures=not args.no_figures)
    c = results["conditions"]
    tm = results["timing"]
    print(f"fig10: compile {tm['compile_s'] or 0:.1f} s (cached builds are fast), experiment {tm['experiment_s']:.1f} s "
          f"({tm['runs']} runs, {tm['per_run_s']:.2f} s each)")
    for name, s in c.items():
        print(f"  {name:17s} dw = {s['dw_percent_mean']:+.3f} ± {s['dw_percent_sem']:.3f} % "
              f"({s['dw_mean']:+.3e} ± {s['dw_sem']:.1e} ms), silent max |dw| = {s['dw_silent_max_abs']:.1e}")
    for pth in written:
        print(f"  wrote {pth}")
    return 0


if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
