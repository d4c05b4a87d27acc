"""Figure 10's configuration and stimulation protocols.

Holds :class:`Fig10Config` (population, rates, phases, sweeps), the four conditions
(:data:`CONDITIONS`), :class:`Protocol` and :func:`make_protocols` (every condition and
sweep point as one protocol), the onset x offset map grid (:func:`map_onsets`,
:func:`map_offsets`) and :func:`apical_schedule` (the per-step on/off table of the apical
afferents, one column per protocol).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2 import Hz, ms

from ...model.params import ModelParams, ParameterError

__all__ = ["CONDITIONS", "Fig10Config", "Protocol", "make_protocols", "map_onsets", "map_offsets", "apical_schedule"]


#: the four conditions of the figure: name -> apical on (start, stop) in units of the phase length
CONDITIONS = {
    "early_apical": (0, 1),       # apical with the forward phase only
    "late_apical": (1, 2),        # apical with the target phase only
    "no_apical": None,            # basal input alone
    "sustained_apical": (0, 2),   # apical during both phases
}


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
    for on in map_onsets(cfg):
        for off in map_offsets(cfg):
            if off > on:
                out.append(Protocol("map", f"map_{on:g}_{off:g}", float(on), float(off)))
    for r in cfg.basal_rate_sweep:
        for name in ("early_apical", "late_apical"):
            a, b_ = CONDITIONS[name]
            out.append(Protocol("rate", f"{name}@{r:g}Hz", a * P, b_ * P, basal_rate=r))
    return out


def map_onsets(cfg):
    """Apical onsets (ms) of the onset x offset map: 0, ``map_step_ms``, ... before the trial end."""
    return [float(x) for x in np.arange(0.0, cfg.trial_ms - 1e-9, cfg.map_step_ms)]


def map_offsets(cfg):
    """Apical offsets (ms) of the onset x offset map: ``map_step_ms``, ... up to the trial end."""
    return [float(x) for x in np.arange(cfg.map_step_ms, cfg.trial_ms + 1e-9, cfg.map_step_ms)]


def apical_schedule(protocols, steps: int, dt_ms: float) -> np.ndarray:
    """(steps, n_protocols) array: 1 where a protocol's apical afferents are on."""
    t = np.arange(steps) * dt_ms
    out = np.zeros((steps, len(protocols)))
    for k, p in enumerate(protocols):
        if p.onset_ms is not None:
            out[:, k] = (t >= p.onset_ms - 1e-9) & (t < p.offset_ms - 1e-9)
    return out
