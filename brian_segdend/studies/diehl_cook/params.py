"""Diehl & Cook's parameters: :class:`DiehlCookParams` (paper values, Brian units).

The paper's values live once, as ``#: param NAME = value`` lines in
``equations/diehl_cook/*.eqs``; :func:`file_params` reads them and the fields marked
``_paper(...)`` take their defaults from there (so the files and the network cannot drift).
The other fields are values the paper leaves to its published code or choices of this
implementation. Also the layer sizes fixed by MNIST (:data:`N_INPUT`, :data:`N_CLASSES`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields

import brian2 as b2
import numpy as np
from brian2 import ms, mV
from brian2.units.fundamentalunits import get_dimensions

from ...model.equations import EquationFileError, read_equation_file
from .files import DIRECTIVES, default_equation_dir

__all__ = ["N_INPUT", "N_CLASSES", "PARAM_FILES", "file_params", "DiehlCookParams"]


N_INPUT = 784
N_CLASSES = 10

#: the files whose ``#: param`` lines give the paper's values
PARAM_FILES = ("excitatory", "inhibitory", "input", "stdp")


@functools.cache
def file_params() -> dict:
    """Name -> value of every ``#: param`` line of the Diehl & Cook files (default folder).

    A name given in several files (``E_exc``, ``tau_ge``, ``tau_gi``) must have one value;
    otherwise an :class:`~brian_segdend.model.equations.EquationFileError` names both lines.
    """
    out, where = {}, {}
    for name in PARAM_FILES:
        read = read_equation_file(default_equation_dir() / f"{name}.eqs", DIRECTIVES, params=True)
        for key, (value, line, _expr, _comment) in read.params.items():
            if key in out and not (get_dimensions(out[key]) == get_dimensions(value) and float(out[key]) == float(value)):
                raise EquationFileError(f"{read.path}:{line}: parameter '{key}' = {value} differs from "
                                        f"{where[key]} ({out[key]})")
            out.setdefault(key, value)
            where.setdefault(key, f"{read.path}:{line}")
    return out


def _paper(name: str, kind=None):
    """A field defaulting to the ``#: param`` value ``name`` of the files (``kind``: e.g. float)."""
    def default():
        try:
            value = file_params()[name]
        except KeyError:
            raise EquationFileError(f"{default_equation_dir()}: no '#: param {name} = ...' line in "
                                    f"{', '.join(n + '.eqs' for n in PARAM_FILES)}") from None
        return kind(value) if kind is not None else value
    return field(default_factory=default)


def _q(value):
    """A dataclass field defaulting to a Brian quantity (quantities are not hashable)."""
    return field(default_factory=lambda: value)


@dataclass(frozen=True)
class DiehlCookParams:
    """Parameters of Diehl & Cook (2015), paper values, Brian units.

    Fields defaulting to ``_paper(NAME)`` read the ``#: param NAME`` line of the equation files
    (:func:`file_params`); the others are set here.
    """

    # --- excitatory neurons
    v_rest_e: b2.Quantity = _paper("v_rest_e")         # resting potential
    v_reset_e: b2.Quantity = _paper("v_reset_e")       # reset potential
    v_thresh_e: b2.Quantity = _paper("v_thresh_e")     # threshold before adaptation
    refrac_e: b2.Quantity = _paper("refrac_e")         # refractory period
    tau_e: b2.Quantity = _paper("tau_e")               # membrane time constant
    E_inh_e: b2.Quantity = _paper("E_inh_e")           # inhibitory reversal potential
    theta_plus: b2.Quantity = _paper("theta_plus")     # threshold increase per spike
    tau_theta: b2.Quantity = _paper("tau_theta")       # threshold decay time constant
    # --- inhibitory neurons
    v_rest_i: b2.Quantity = _paper("v_rest_i")         # resting potential
    v_reset_i: b2.Quantity = _paper("v_reset_i")       # reset potential
    v_thresh_i: b2.Quantity = _paper("v_thresh_i")     # threshold
    refrac_i: b2.Quantity = _paper("refrac_i")         # refractory period
    tau_i: b2.Quantity = _paper("tau_i")               # membrane time constant
    E_inh_i: b2.Quantity = _paper("E_inh_i")           # inhibitory reversal potential
    # --- both
    E_exc: b2.Quantity = _paper("E_exc")               # excitatory reversal potential
    tau_ge: b2.Quantity = _paper("tau_ge")             # excitatory conductance decay
    tau_gi: b2.Quantity = _paper("tau_gi")             # inhibitory conductance decay
    v_init_offset: b2.Quantity = _q(-40 * mV)          # initial v = rest + offset (published code)
    # --- connections
    w_exc_inh: float = 10.4                            # excitatory -> inhibitory weight (one-to-one)
    w_inh_exc: float = 17.0                            # inhibitory -> excitatory weight (all but self)
    w_init_max: float = 0.3                            # initial input weights ~ U(0.003, 0.303)
    max_delay: b2.Quantity = _q(10 * ms)               # input -> excitatory delays ~ U(0, max_delay)
    # --- STDP
    tau_pre: b2.Quantity = _paper("tau_pre")           # presynaptic trace
    tau_post1: b2.Quantity = _paper("tau_post1")       # postsynaptic trace (depression)
    tau_post2: b2.Quantity = _paper("tau_post2")       # slow postsynaptic trace (potentiation)
    nu_pre: float = _paper("nu_pre", float)            # depression rate
    nu_post: float = _paper("nu_post", float)          # potentiation rate
    w_max: float = _paper("w_max", float)              # weight bound
    w_total: float = 78.0                              # summed input weight of a neuron after normalisation
    # --- input and schedule (runtime: changing them does not recompile)
    rate_max: b2.Quantity = _paper("rate_max")         # rate of a white pixel
    rate_step: b2.Quantity = _paper("rate_step")       # increase of rate_max per repeat
    min_spikes: int = 5                                # fewer excitatory spikes than this -> repeat
    t_present: b2.Quantity = _q(350 * ms)              # image presentation
    t_rest: b2.Quantity = _q(150 * ms)                 # rest without input
    dt: b2.Quantity = _q(0.5 * ms)                     # time step (published code)

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
