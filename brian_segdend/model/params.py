"""Model parameters (Table 1 of Guerguiev, Lillicrap & Richards 2017) with Brian2 units.

Unit conventions (docs/MODEL.md): the paper works in ms, spikes/ms and dimensionless
voltages with C_m = 1 and V_R = 0.  Here

* time is a Brian2 time (``ms``), rates are ``Hz`` (0.2 /ms == 200 Hz);
* voltages are dimensionless numbers, as in the paper;
* conductances are conductance / C_m, in ``1/ms`` (g_l = 0.1/ms gives tau = 10 ms);
* weights W, Y are in ``ms`` so that ``W * s`` (s a rate) is a voltage;
* P_0 = 20/phi_max is in ms, P_1 = 20/phi_max**2 in ms**2;
* learning rates carry ``ms**2`` so that ``eta * P * E * s`` has the unit of W
  (the paper's numbers, e.g. 0.21, are their values in ms**2).

With these choices every number in Table 1 is the same as in the paper, which
``tests/test_params.py`` checks.

All quantities are validated by :func:`ModelParams.validate`; errors name the field.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from brian2 import Hz, Quantity, ms
from brian2.units.fundamentalunits import DimensionMismatchError, fail_for_dimension_mismatch, get_dimensions

from .contract import QUANTITY_FIELDS
from .quantities import QuantityParseError, format_quantity, parse_quantity

__all__ = ["ModelParams", "ParameterError", "default_learning_rates", "FEEDBACK_VARIANTS", "FEEDBACK_SIGNALS", "RATE_PRESETS",
           "DEFAULT_RATES", "KERNELS", "KERNEL_CUTOFF", "TIMING_PRESETS", "DEFAULT_TIMING", "PAPER_SETTLE",
           "DEPTH_SETTLE_STEP", "AVERAGING_WINDOW", "default_settle", "is_number", "is_integer",
           "layer_sizes_tuple", "PLATEAU_CODES", "DEFAULT_BURST_SCALE", "MAX_BURST_SCALE"]

#: Feedback weights Y (Fig. 8): random; sparse (80% zeros, the rest x 5); sparse_noscale (80% zeros,
#: not rescaled: Fig. 8 supplement 1); symmetric (Y = W_top^T, following it); symmetric plus noise.
FEEDBACK_VARIANTS = ("random", "sparse", "sparse_noscale", "symmetric", "symmetric_noise")
#: what the output layer sends back through Y (Figure 7): its filtered spike trains (the model) or
#: its instantaneous rates phi_max sigma(V) (the paper's Figure 7A red line; its own build)
FEEDBACK_SIGNALS = ("spikes", "rates")

#: How a hidden neuron's plateau reaches its basal synapses (docs/MODEL.md, "Burst-coded plateaus"):
#:
#: * ``"rate"`` (default): the update uses the plateau difference alpha^t - alpha^f itself (the paper's rule).
#: * ``"burst"``: each plateau emits N ~ Poisson(burst_scale * alpha) spikes; a basal memory M integrates
#:   them with the phase sign (-N^f, +N^t) and the update uses M / burst_scale = (N^t - N^f) / k in place
#:   of alpha^t - alpha^f (the sketch of the paper's Methods, Eq. 36-37). Its own build
#:   (``equations/segdend/hidden_burst.eqs``); ``burst_scale`` is a run argument.
PLATEAU_CODES = ("rate", "burst")
#: Mean spikes per burst of a full plateau (alpha = 1) when a run names none.
DEFAULT_BURST_SCALE = 4.0
#: Above this many spikes per plateau the counts no longer fit the compiled int32 Poisson draw.
MAX_BURST_SCALE = 1e6

#: Learning-rate presets: factor applied to Table 1's rates when ``eta`` is not given.
#:
#: * ``"table1"``: Table 1's numbers as printed. They were tuned on the original code's kernel,
#:   truncated after 10 ms (:data:`KERNEL_CUTOFF`), which keeps about 51% of kappa's area.
#: * ``"kernel"``: Table 1 x 0.25, kernel-consistent rates for the exact kernel (area 1): its
#:   filtered trains are about 1/0.51 times larger and a weight step moves a voltage by about
#:   eta P E |s|^2, so the same eta gives about (1/0.51)^2 = 3.8 times the original's step.
#:   Measured (docs/RESULTS.md, Figure 6B): 784-500-10 keeps improving to 5.64% after 60 epochs
#:   (6.59% at epoch 10) where Table 1's rates level off near 8.3% after 2-3 epochs. The default,
#:   as a deviation from Table 1 for that reason (docs/MODEL.md, deviation 2).
RATE_PRESETS = {"table1": 1.0, "kernel": 0.25}
#: The preset used when a run names none.
DEFAULT_RATES = "kernel"

#: ``"exact"``: kappa(t) = (exp(-t/tau_L) - exp(-t/tau_s))/(tau_L - tau_s), area 1 (docs/MODEL.md).
#: ``"truncated"``: the original code's kernel, each spike's kappa cut after KERNEL_CUTOFF
#: (its samples at 1, 2, ..., 10 ms after the spike are kept: 51.0% of the area with dt = 1 ms).
KERNELS = ("exact", "truncated")
#: Where the truncated kernel ends (part of the build: a delayed synaptic pathway).
KERNEL_CUTOFF = 10 * ms


#: Phase timing presets, used for ``settle`` and ``phase_min`` where a run does not set them:
#:
#: * ``"paper"``: Table 1's settle time (30 ms) and 50 ms phases for every architecture.
#: * ``"depth"`` (the default): settle 30 ms + 15 ms per hidden layer, phases settle + 20 ms
#:   (784-10: 30/50 ms, 784-500-10: 45/65 ms, 784-500-100-10: 60/80 ms). With the exact kernel
#:   (its tail is not cut after 10 ms as in the original code) each layer adds a delay, and after
#:   the paper's 30 ms the previous image still makes up about 3% / 16% / 40% of the forward
#:   averages of 784-10 / 784-500-10 / 784-500-100-10 (about 3 / 5 / 6% with this preset; the
#:   original's truncated kernel: 0%). The deep network then learns from a mixture of two images
#:   and falls behind the one-hidden-layer network (docs/MODEL.md, deviation 10; docs/RESULTS.md).
TIMING_PRESETS = ("depth", "paper")
#: The preset used when a run names none.
DEFAULT_TIMING = "depth"
#: Table 1's settle time (Delta t_s).
PAPER_SETTLE = 30 * ms
#: Settle time added per hidden layer by the ``"depth"`` preset.
DEPTH_SETTLE_STEP = 15 * ms
#: Averaging window of each training phase (phase_min - settle) in both presets: Table 1's 20 ms.
AVERAGING_WINDOW = 20 * ms


def default_settle(n_hidden_layers: int, timing: str = DEFAULT_TIMING) -> Quantity:
    """Settle time of a timing preset (:data:`TIMING_PRESETS`) for a number of hidden layers."""
    if timing not in TIMING_PRESETS:
        raise ParameterError(f"parameter 'timing': must be one of {TIMING_PRESETS}, got {timing!r}")
    if timing == "paper":
        return PAPER_SETTLE
    return PAPER_SETTLE + DEPTH_SETTLE_STEP * int(n_hidden_layers)


def _q(value):
    """Default for a Quantity field (Quantities are mutable, so dataclasses need a factory)."""
    return field(default_factory=lambda: value)


class ParameterError(ValueError):
    """A parameter has a wrong type, unit, range or relation to another one."""


# Limits beyond which a value is not a model any more (documented in the README). Conductances
# above MAX_CONDUCTANCE (time constants under a nanosecond) are numerically instantaneous; a
# plateau sd this many times plateau_max gives the same (uniform) truncated distribution.
MAX_CONDUCTANCE = 1e6 / ms
MAX_PLATEAU_SD_RATIO = 1e6


def is_number(value) -> bool:
    """A real number: int or float (numpy's too), not bool, not a string, not a Quantity with units."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, Quantity):
        return value.is_dimensionless and np.ndim(value) == 0
    return isinstance(value, (int, float, np.integer, np.floating))


def is_integer(value) -> bool:
    """An int (numpy's too), not bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _user_values(values) -> dict:
    """``user_params`` with every value parsed (:func:`~brian_segdend.model.quantities.parse_quantity`)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ParameterError(f"parameter 'user_params': must be a table of name = value, got {values!r}")
    out = {}
    for name, value in values.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ParameterError(f"parameter 'user_params': {name!r} is not a parameter name")
        try:
            out[name] = parse_quantity(value)
        except QuantityParseError as e:
            raise ParameterError(f"parameter '{name}': {e}") from None
    return out


def layer_sizes_tuple(value, name: str = "hidden") -> tuple:
    """Hidden layer sizes from an int (0: none) or a list of ints; anything else is a ParameterError.

    A string is refused (``"55"`` must not become two layers of 5).
    """
    if is_integer(value):
        return () if int(value) == 0 else (int(value),)
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise ParameterError(f"parameter '{name}': must be a list of layer sizes (integers), got {value!r}")
    sizes = []
    for k, h in enumerate(value):
        if not is_integer(h):
            raise ParameterError(f"parameter '{name}[{k}]': layer size must be an integer, got {h!r}")
        if h < 1:
            raise ParameterError(f"parameter '{name}[{k}]': layer size must be at least 1, got {h}")
        sizes.append(int(h))
    return tuple(sizes)


def default_learning_rates(n_hidden_layers: int) -> tuple[float, ...]:
    """Table 1 learning rates (numbers in ms**2), one per weight layer, bottom to top."""
    table = {0: (0.19,), 1: (0.21, 0.21), 2: (0.23, 0.23, 0.12)}
    if n_hidden_layers in table:
        return table[n_hidden_layers]
    # Not in the paper: reuse the two-hidden-layer rates for the extra layers.
    return (0.23,) * n_hidden_layers + (0.12,)


def _rate_tuple(name: str, value):
    """``None`` or a tuple of floats from a number or a list of numbers; anything else is named."""
    if value is None:
        return None
    rates = (value,) if is_number(value) else value
    if isinstance(rates, (str, bytes, dict)) or not isinstance(rates, (list, tuple, np.ndarray)):
        raise ParameterError(f"parameter '{name}': must be a list of numbers, got {value!r}")
    for k, e in enumerate(rates):
        if not is_number(e):
            raise ParameterError(f"parameter '{name}[{k}]': learning rate must be a number, got {e!r}")
    return tuple(float(e) for e in rates)

@dataclass
class ModelParams:
    """Every parameter of the model, with docs/MODEL.md's names and Brian2 units.

    Parameters
    ----------
    hidden : tuple of int
        Hidden layer sizes, bottom to top; ``()`` for no hidden layer.
    eta : tuple of float or None
        Learning rates (in ms**2, see module docstring), one per weight layer
        bottom to top. ``None`` takes Table 1's values for the depth times the factor of
        the ``rates`` preset.
    eta_bias : tuple of float or None
        Bias learning rates, one per weight layer (b <- b - eta_bias P E). ``None``: equal to
        the weight learning rates (the paper's rule). A run argument (no recompile).
    rates : {'table1', 'kernel'}
        Preset for the default learning rates (:data:`RATE_PRESETS`): Table 1 as printed, or
        Table 1 x 0.25 (consistent with the exact kernel's area). Ignored where ``eta`` is given.
    kernel : {'exact', 'truncated'}
        Synaptic kernel: exact (area 1) or the original code's, cut after
        :data:`KERNEL_CUTOFF` (area 0.51). A build option (compiles its own binary).
    init_weight_scale : float
        Factor on the initial feedforward and feedback weights of the recipe (biases not
        scaled); 0.49 gives the original code's voltage ranges with the exact kernel.
    test_reset : bool
        Reset the dynamic state (somatic voltages, kernel and dendrite variables) to 0 at the
        start of each test image, as the original code does. A run argument.
    plateau_code : {'rate', 'burst'}
        How the plateaus reach the hidden update (:data:`PLATEAU_CODES`): the plateau
        difference itself, or Poisson bursts counted by a basal memory. A build option.
    burst_scale : float
        With ``plateau_code = 'burst'``: k, the mean number of spikes in the burst of a full
        plateau (N ~ Poisson(k alpha)); the update divides the memory by k. A run argument.
    """

    # architecture
    n_input: int = 784
    hidden: tuple = (500,)
    n_output: int = 10
    # Table 1
    dt: Quantity = _q(1 * ms)                # simulation time step
    phi_max: Quantity = _q(200 * Hz)          # maximum firing rate
    tau_s: Quantity = _q(3 * ms)              # short synaptic time constant
    tau_L: Quantity = _q(10 * ms)             # long synaptic time constant
    settle: Quantity | None = None         # Delta t_s: settle time before averaging (None: from 'timing')
    g_l: Quantity = _q(0.1 / ms)              # leak conductance / C_m
    g_b: Quantity = _q(0.6 / ms)              # hidden: basal -> soma
    g_a: Quantity = _q(0.0 / ms)              # hidden: apical -> soma
    g_d: Quantity = _q(0.6 / ms)              # output: dendrite -> soma
    E_E: float = 8.0                      # excitatory teaching reversal potential
    E_I: float = -8.0                     # inhibitory teaching reversal potential
    P_hidden_factor: float = 20.0         # P_0 = factor / phi_max
    P_output_factor: float = 20.0         # P_1 = factor / phi_max**2
    eta: tuple | None = None              # learning rates (ms**2), bottom to top
    eta_bias: tuple | None = None         # bias learning rates (ms**2); None: = the weight rates
    rates: str = DEFAULT_RATES            # default-rate preset: table1 | kernel (RATE_PRESETS)
    kernel: str = "exact"                 # exact | truncated (after KERNEL_CUTOFF, as the original code)
    # phases
    phase_min: Quantity | None = None      # fixed part of each training phase (None: settle + 20 ms)
    timing: str = DEFAULT_TIMING          # depth | paper: where settle / phase_min come from (TIMING_PRESETS)
    wald_mean: Quantity = _q(2 * ms)          # extra phase length ~ Wald(mean, scale)
    wald_scale: Quantity = _q(1 * ms)
    test_duration: Quantity = _q(250 * ms)    # forward phase used for classification
    # plateau-time variant (Fig. 6 supplement); plateau_sd = 0 disables it
    plateau_sd: Quantity = _q(0 * ms)         # sd of the folded normal (paper: sqrt(3) ms)
    plateau_max: Quantity = _q(5 * ms)        # truncation of the folded normal
    plateau_window: Quantity = _q(30 * ms)    # apical averaging window before the plateau
    # feedback and initial weights
    feedback: str = "random"              # random | sparse | sparse_noscale | symmetric | symmetric_noise
    feedback_noise: float = 0.05          # sd of the noise (fraction of W_sd) for symmetric_noise
    feedback_signal: str = "spikes"       # spikes | rates: what Y carries (Fig. 7's rate-feedback variant)
    init_V_avg: float = 3.0               # initial-weight recipe (docs/MODEL.md)
    init_V_sd: float = 3.0
    init_b_avg: float = 0.8
    init_b_sd: float = 0.001
    init_rate_frac: float = 0.25          # nu = init_rate_frac * phi_max * kernel area (1)
    # nu for layers fed by a hidden layer: the mean filtered rate of a hidden layer at the start,
    # measured on MNIST with the exact kernel (132-138 Hz of phi_max = 200 Hz). The literal recipe
    # (0.25) saturates deeper layers: docs/MODEL.md asks to calibrate for the exact kernel (README)
    init_rate_frac_hidden: float = 0.66
    init_weight_scale: float = 1.0        # factor on initial W and Y (0.49: the original's voltages)
    # test phase
    test_reset: bool = False              # reset the dynamic state at the start of each test image
    # burst-coded plateaus (PLATEAU_CODES): "rate" (the paper's rule) or "burst" (own build)
    plateau_code: str = "rate"
    burst_scale: float = DEFAULT_BURST_SCALE   # k: mean spikes of a burst at alpha = 1 (run argument)
    # parameters declared in the equation files (NAME : unit (shared, constant) + '#: param NAME = value'):
    # name -> value (Quantity, number or text such as "0.02/ms"); names and units are checked against the
    # files when a network is made (equations.resolve_user_params)
    user_params: dict = field(default_factory=dict)

    def __post_init__(self):
        self.hidden = layer_sizes_tuple(self.hidden)
        # settle / phase_min left at None follow the timing preset (and follow it again in replace())
        auto = set()
        if self.settle is None or self.phase_min is None:
            if not isinstance(self.timing, str) or self.timing not in TIMING_PRESETS:
                raise ParameterError(f"parameter 'timing': must be one of {TIMING_PRESETS}, got {self.timing!r}")
        if self.settle is None:
            self.settle = default_settle(len(self.hidden), self.timing)
            auto.add("settle")
        if self.phase_min is None:
            # (a settle of the wrong type is reported by validate(), below)
            settle = self.settle if isinstance(self.settle, Quantity) else default_settle(
                len(self.hidden), self.timing)
            self.phase_min = settle + AVERAGING_WINDOW
            auto.add("phase_min")
        object.__setattr__(self, "_auto_timing", frozenset(auto))
        for name in ("eta", "eta_bias"):
            setattr(self, name, _rate_tuple(name, getattr(self, name)))
        self.user_params = _user_values(self.user_params)
        self.validate()

    # ------------------------------------------------------------------ derived
    @property
    def learning_rates(self) -> tuple:
        """Weight learning rates: ``eta``, or Table 1's times the ``rates`` preset's factor."""
        if self.eta is not None:
            return self.eta
        factor = RATE_PRESETS[self.rates]
        return tuple(e * factor for e in default_learning_rates(len(self.hidden)))

    @property
    def bias_learning_rates(self) -> tuple:
        """Bias learning rates: ``eta_bias``, or the weight learning rates."""
        return self.eta_bias if self.eta_bias is not None else self.learning_rates

    @property
    def layer_sizes(self) -> tuple:
        """All layer sizes, input to output."""
        return (self.n_input,) + self.hidden + (self.n_output,)

    @property
    def P_0(self) -> Quantity:
        """P_0 = P_hidden_factor / phi_max (ms)."""
        return self.P_hidden_factor / self.phi_max

    @property
    def P_1(self) -> Quantity:
        """P_1 = P_output_factor / phi_max**2 (ms**2)."""
        return self.P_output_factor / self.phi_max ** 2

    @property
    def k_b(self) -> float:
        """k_b = g_b / (g_l + g_b + g_a)."""
        return float(self.g_b / (self.g_l + self.g_b + self.g_a))

    @property
    def k_d(self) -> float:
        """k_d = g_d / (g_l + g_d)."""
        return float(self.g_d / (self.g_l + self.g_d))

    # --------------------------------------------------------------- validation
    def validate(self) -> ModelParams:
        """Check types, units, ranges and relations; raise ParameterError naming the field."""
        for name, unit in QUANTITY_FIELDS.items():
            value = getattr(self, name)
            if not (isinstance(value, Quantity) and np.ndim(value) == 0) and not is_number(value):
                raise ParameterError(f"parameter '{name}': expected a scalar quantity in {unit}, got {value!r}")
            try:
                fail_for_dimension_mismatch(value, unit)   # float() of a Quantity does not check
                number = float(value / unit)
            except DimensionMismatchError:
                raise ParameterError(
                    f"parameter '{name}': expected units of {unit!r} ({get_dimensions(unit)}), "
                    f"got {value!r}") from None
            if not math.isfinite(number):
                raise ParameterError(f"parameter '{name}': must be finite, got {value!r}")
            if number < 0:
                raise ParameterError(f"parameter '{name}': must not be negative, got {value!r}")
        for name in ("dt", "phi_max", "tau_s", "tau_L", "g_l", "phase_min", "test_duration",
                     "plateau_window"):
            if float(getattr(self, name) / QUANTITY_FIELDS[name]) <= 0:
                raise ParameterError(f"parameter '{name}': must be positive, got {getattr(self, name)!r}")
        for name in ("g_l", "g_b", "g_a", "g_d"):
            if getattr(self, name) > MAX_CONDUCTANCE:
                raise ParameterError(f"parameter '{name}': {getattr(self, name)} is beyond any model "
                                     f"(at most {MAX_CONDUCTANCE}, a time constant of 1 ns)")
        if self.plateau_max > 0 * ms and self.plateau_sd > MAX_PLATEAU_SD_RATIO * self.plateau_max:
            raise ParameterError(f"parameter 'plateau_sd': {self.plateau_sd} is more than {MAX_PLATEAU_SD_RATIO:g} "
                                 f"times 'plateau_max' ({self.plateau_max}); the truncated distribution is "
                                 f"uniform long before that")
        if abs(float(self.tau_s / ms) - float(self.tau_L / ms)) < 1e-9:
            raise ParameterError("parameters 'tau_s' and 'tau_L': must differ (the kernel divides by tau_L - tau_s)")
        if self.settle >= self.phase_min:
            raise ParameterError(
                f"parameter 'settle' ({self.settle}) must be shorter than the phase "
                f"'phase_min' ({self.phase_min}): no time would be left to average")
        if self.test_duration <= self.settle:
            raise ParameterError(
                f"parameter 'test_duration' ({self.test_duration}) must be longer than 'settle' ({self.settle})")
        for name in ("n_input", "n_output"):
            if not is_integer(getattr(self, name)):
                raise ParameterError(f"parameter '{name}': layer size must be an integer, got {getattr(self, name)!r}")
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"parameter '{name}': layer size must be at least 1, got {getattr(self, name)}")
        for k, h in enumerate(self.hidden):
            if h < 1:
                raise ParameterError(f"parameter 'hidden[{k}]': layer size must be at least 1, got {h}")
        for name in ("E_E", "E_I", "P_hidden_factor", "P_output_factor", "feedback_noise",
                     "init_V_avg", "init_V_sd", "init_b_avg", "init_b_sd", "init_rate_frac",
                     "init_rate_frac_hidden", "init_weight_scale"):
            v = getattr(self, name)
            if not is_number(v):
                raise ParameterError(f"parameter '{name}': must be a plain number, got {v!r}")
            if not math.isfinite(float(v)):
                raise ParameterError(f"parameter '{name}': must be finite, got {v!r}")
        if self.E_E <= self.E_I:
            raise ParameterError(f"parameters 'E_E' ({self.E_E}) must exceed 'E_I' ({self.E_I})")
        self._check_steps()
        if not isinstance(self.feedback, str) or self.feedback not in FEEDBACK_VARIANTS:
            raise ParameterError(f"parameter 'feedback': must be one of {FEEDBACK_VARIANTS}, got {self.feedback!r}")
        if not isinstance(self.feedback_signal, str) or self.feedback_signal not in FEEDBACK_SIGNALS:
            raise ParameterError(f"parameter 'feedback_signal': must be one of {FEEDBACK_SIGNALS}, "
                                 f"got {self.feedback_signal!r}")
        if self.feedback_signal == "rates" and self.feedback in ("symmetric", "symmetric_noise"):
            raise ParameterError("parameter 'feedback_signal': 'rates' is implemented for fixed feedback weights "
                                 f"(random, sparse, sparse_noscale), not feedback = {self.feedback!r}")
        n_layers = len(self.hidden) + 1
        for name in ("eta", "eta_bias"):
            rates = getattr(self, name)
            if rates is None:
                continue
            if len(rates) != n_layers:
                raise ParameterError(
                    f"parameter '{name}': need {n_layers} learning rates (one per weight layer), got {len(rates)}")
            for k, e in enumerate(rates):
                if not math.isfinite(e):
                    raise ParameterError(f"parameter '{name}[{k}]': learning rate must be finite, got {e}")
                if e < 0:
                    raise ParameterError(f"parameter '{name}[{k}]': learning rate must not be negative, got {e}")
        if not isinstance(self.rates, str) or self.rates not in RATE_PRESETS:
            raise ParameterError(f"parameter 'rates': must be one of {tuple(RATE_PRESETS)}, got {self.rates!r}")
        if not isinstance(self.timing, str) or self.timing not in TIMING_PRESETS:
            raise ParameterError(f"parameter 'timing': must be one of {TIMING_PRESETS}, got {self.timing!r}")
        if not isinstance(self.kernel, str) or self.kernel not in KERNELS:
            raise ParameterError(f"parameter 'kernel': must be one of {KERNELS}, got {self.kernel!r}")
        if not self.init_weight_scale >= 0:
            raise ParameterError(f"parameter 'init_weight_scale': must not be negative, got {self.init_weight_scale!r}")
        if not isinstance(self.test_reset, (bool, np.bool_)):
            raise ParameterError(f"parameter 'test_reset': true or false, got {self.test_reset!r}")
        if not isinstance(self.plateau_code, str) or self.plateau_code not in PLATEAU_CODES:
            raise ParameterError(f"parameter 'plateau_code': must be one of {PLATEAU_CODES}, got {self.plateau_code!r}")
        if not is_number(self.burst_scale) or not math.isfinite(float(self.burst_scale)) \
                or not 0 < float(self.burst_scale) <= MAX_BURST_SCALE:
            raise ParameterError(f"parameter 'burst_scale': must be a number in (0, {MAX_BURST_SCALE:g}] "
                                 f"(mean spikes of a full plateau's burst), got {self.burst_scale!r}")
        self.burst_scale = float(self.burst_scale)
        if self.plateau_max < 0 * ms:
            raise ParameterError("parameter 'plateau_max' must not be negative")
        return self

    def steps(self, name: str) -> int:
        """A duration parameter in whole time steps, as the network rounds it."""
        return int(round(float(getattr(self, name) / self.dt)))

    def _check_steps(self):
        """The durations, rounded to time steps of ``dt``, must leave time to average."""
        settle = self.steps("settle")
        for name in ("phase_min", "test_duration"):
            n = self.steps(name)
            if n <= settle:
                raise ParameterError(
                    f"parameter 'dt' ({self.dt}): '{name}' ({getattr(self, name)}) is {n} step(s) and 'settle' "
                    f"({self.settle}) {settle}; a phase needs more steps than the settle time (choose a smaller dt)")
        if self.steps("plateau_window") < 1:
            raise ParameterError(f"parameter 'dt' ({self.dt}): 'plateau_window' ({self.plateau_window}) is "
                                 f"less than one step")

    # ---------------------------------------------------------------- construct
    def replace(self, **changes) -> ModelParams:
        """A copy with some fields changed (validated).

        ``settle`` and ``phase_min`` that came from the timing preset are derived again (from the
        new ``hidden`` or ``timing``) unless ``changes`` sets them.
        """
        for name in getattr(self, "_auto_timing", ()):
            if name not in changes:
                changes[name] = None
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str = "configuration") -> ModelParams:
        """Build from plain numbers (as in a TOML/YAML file): units are added from the table.

        Unknown keys raise a ParameterError naming the key and the source.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(f"{source}: unknown parameter(s) {unknown}; known: {sorted(known)}")
        kwargs = {}
        for key, value in values.items():
            if key in QUANTITY_FIELDS and not isinstance(value, Quantity):
                if not is_number(value):
                    raise ParameterError(f"{source}: parameter '{key}' must be a number (in {QUANTITY_FIELDS[key]}), "
                                         f"got {value!r}")
                try:
                    value = float(value) * QUANTITY_FIELDS[key]
                except (TypeError, ValueError):
                    raise ParameterError(f"{source}: parameter '{key}' must be a number (in {QUANTITY_FIELDS[key]}), "
                                         f"got {value!r}") from None
            kwargs[key] = value
        try:
            return cls(**kwargs)
        except ParameterError as e:
            raise ParameterError(f"{source}: {e}") from None

    def to_mapping(self) -> dict:
        """Plain-number dictionary (units as in the module docstring), JSON-ready."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in QUANTITY_FIELDS:
                v = float(v / QUANTITY_FIELDS[f.name])
            elif isinstance(v, tuple):
                v = list(v)
            elif f.name == "user_params":
                v = {k: format_quantity(q) for k, q in sorted(v.items())}
            out[f.name] = v
        out["learning_rates"] = list(self.learning_rates)
        out["units"] = {k: str(u) for k, u in QUANTITY_FIELDS.items()}
        return out
