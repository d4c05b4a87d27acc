"""Diehl & Cook's parameters: :class:`DiehlCookParams` (paper values, Brian units).

Also the layer sizes fixed by MNIST (:data:`N_INPUT`, :data:`N_CLASSES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, mV

__all__ = ["N_INPUT", "N_CLASSES", "DiehlCookParams"]


N_INPUT = 784


N_CLASSES = 10


def _q(value):
    """A dataclass field defaulting to a Brian quantity (quantities are not hashable)."""
    return field(default_factory=lambda: value)


@dataclass(frozen=True)
class DiehlCookParams:
    """Parameters of Diehl & Cook (2015), paper values, Brian units."""

    # --- excitatory neurons
    v_rest_e: b2.Quantity = _q(-65 * mV)       # resting potential
    v_reset_e: b2.Quantity = _q(-65 * mV)      # reset potential
    v_thresh_e: b2.Quantity = _q(-52 * mV)     # threshold before adaptation
    refrac_e: b2.Quantity = _q(5 * ms)         # refractory period
    tau_e: b2.Quantity = _q(100 * ms)          # membrane time constant
    E_inh_e: b2.Quantity = _q(-100 * mV)       # inhibitory reversal potential
    theta_plus: b2.Quantity = _q(0.05 * mV)    # threshold increase per spike
    tau_theta: b2.Quantity = _q(1e7 * ms)      # threshold decay time constant
    # --- inhibitory neurons
    v_rest_i: b2.Quantity = _q(-60 * mV)       # resting potential
    v_reset_i: b2.Quantity = _q(-45 * mV)      # reset potential
    v_thresh_i: b2.Quantity = _q(-40 * mV)     # threshold
    refrac_i: b2.Quantity = _q(2 * ms)         # refractory period
    tau_i: b2.Quantity = _q(10 * ms)           # membrane time constant
    E_inh_i: b2.Quantity = _q(-85 * mV)        # inhibitory reversal potential
    # --- both
    E_exc: b2.Quantity = _q(0 * mV)            # excitatory reversal potential
    tau_ge: b2.Quantity = _q(1 * ms)           # excitatory conductance decay
    tau_gi: b2.Quantity = _q(2 * ms)           # inhibitory conductance decay
    v_init_offset: b2.Quantity = _q(-40 * mV)  # initial v = rest + offset (published code)
    # --- connections
    w_exc_inh: float = 10.4                # excitatory -> inhibitory weight (one-to-one)
    w_inh_exc: float = 17.0                # inhibitory -> excitatory weight (all but self)
    w_init_max: float = 0.3                # initial input weights ~ U(0.003, 0.303)
    max_delay: b2.Quantity = _q(10 * ms)       # input -> excitatory delays ~ U(0, max_delay)
    # --- STDP
    tau_pre: b2.Quantity = _q(20 * ms)         # presynaptic trace
    tau_post1: b2.Quantity = _q(20 * ms)       # postsynaptic trace (depression)
    tau_post2: b2.Quantity = _q(40 * ms)       # slow postsynaptic trace (potentiation)
    nu_pre: float = 0.0001                 # depression rate
    nu_post: float = 0.01                  # potentiation rate
    w_max: float = 1.0                     # weight bound
    w_total: float = 78.0                  # summed input weight of a neuron after normalisation
    # --- input and schedule (runtime: changing them does not recompile)
    rate_max: b2.Quantity = _q(63.75 * Hz)     # rate of a white pixel
    rate_step: b2.Quantity = _q(32 * Hz)       # increase of rate_max per repeat
    min_spikes: int = 5                    # fewer excitatory spikes than this -> repeat
    t_present: b2.Quantity = _q(350 * ms)      # image presentation
    t_rest: b2.Quantity = _q(150 * ms)         # rest without input
    dt: b2.Quantity = _q(0.5 * ms)             # time step (published code)

    #: fields that are run_args of the compiled binary (not part of the build hash)
    RUNTIME = ("rate_max", "rate_step", "min_spikes", "t_present", "t_rest", "w_total")

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, b2.Quantity) and not np.isfinite(float(v)):
                raise ValueError(f"parameter {f.name!r} must be finite, got {v}")
        for name in ("t_present", "t_rest", "dt", "tau_e", "tau_i", "tau_ge", "tau_gi"):
            if float(getattr(self, name)) <= 0:
                raise ValueError(f"parameter {name!r} must be positive")
        if self.min_spikes < 0:
            raise ValueError("parameter 'min_spikes' must be >= 0")

    def steps(self, name) -> int:
        """A duration parameter in whole time steps."""
        return int(round(float(getattr(self, name) / self.dt)))

    def compiled(self) -> dict:
        """Name -> printable value of every parameter baked into the C++ code."""
        return {f.name: repr(getattr(self, f.name)) for f in fields(self) if f.name not in self.RUNTIME}

    def namespace(self) -> dict:
        """Compiled-in parameters for Brian2 groups."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in self.RUNTIME + ("dt",)}
