"""The model's contract, in one table: run-time parameters, equation files and groups.

Everything that used to be kept in sync by hand lives here once:

* :data:`QUANTITY_FIELDS` -- the unit of every :class:`~brian_segdend.model.params.ModelParams`
  field that is a Brian2 quantity (the unit a configuration file's plain number is read in).
* :data:`RUN_PARAMS` -- every value a compiled network receives at run time
  (``device.run(run_args=...)``): its name, its unit and where its value comes from.
  The ``shared`` ones are the parameters the equation files may read; each group declares
  those its code uses as ``(shared, constant)`` variables.
* :data:`COMPARTMENTS` -- what the network needs from each equation file and supplies to it.
* :data:`GROUPS` -- which equation files make up each group, and the equations the model
  adds to it (from :mod:`brian_segdend.model.learning` and the layer builders).
* :data:`STIMULI`, :data:`EXTRAS`, :data:`SYNAPSE_MODELS` -- the other equations the
  builders add (stimulus definitions, optional feature variables, synapse models).

:func:`added_names` derives the names the model adds to its groups by parsing all of those
equations with Brian2 (an equation file must not define them); no second list exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from brian2 import Equations, Hz, ms
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

from . import learning as L

__all__ = ["QUANTITY_FIELDS", "RunParam", "RUN_PARAMS", "SHARED_PARAMS", "run_values", "validation_namespace",
           "unit_string", "shared_declarations", "Spec", "COMPARTMENTS", "GroupSpec", "GROUPS", "STIMULI",
           "EXTRAS", "SYNAPSE_MODELS", "OPTIONAL_COMPARTMENTS", "END_EVENTS", "CONSTANTS", "added_names",
           "VARIANT_COMPARTMENTS", "compartment_spec", "PLATEAU_CODE_FILES", "hidden_soma_kind"]

#: Unit of each quantity field of ModelParams (configuration files give plain numbers in it).
QUANTITY_FIELDS = {
    "dt": ms, "phi_max": Hz, "tau_s": ms, "tau_L": ms, "settle": ms,
    "g_l": 1 / ms, "g_b": 1 / ms, "g_a": 1 / ms, "g_d": 1 / ms,
    "phase_min": ms, "wald_mean": ms, "wald_scale": ms,
    "test_duration": ms, "plateau_sd": ms, "plateau_max": ms, "plateau_window": ms,
}


@dataclass(frozen=True)
class RunParam:
    """One value a compiled network receives at run time.

    Attributes
    ----------
    name : str
        Name in the compiled code (and key of :func:`run_values`).
    unit : Unit or int
        Brian2 unit of the value (``1``: dimensionless).
    source : str
        Where the value comes from (a ModelParams field or a derivation), for readers.
    value : callable
        ``ModelParams -> value``.
    shared : bool
        A parameter the equation files may read: declared ``(shared, constant)`` in every
        group whose code uses it. Otherwise a per-layer value the run packs itself.
    """

    name: str
    unit: Any
    source: str
    value: Callable
    shared: bool = True


def _field(name: str) -> RunParam:
    """A shared parameter taken unchanged from the ModelParams field of the same name."""
    unit = QUANTITY_FIELDS.get(name, 1)
    getter = (lambda p: getattr(p, name)) if name in QUANTITY_FIELDS else (lambda p: float(getattr(p, name)))
    return RunParam(name, unit, f"ModelParams.{name}", getter)


def _plateau_cdf(p):
    return L.plateau_offset_cdf(p.plateau_sd, p.plateau_max, p.dt)


#: Every run-time value, in the order the groups declare them.
RUN_PARAMS = (
    _field("phi_max"), _field("tau_s"), _field("tau_L"), _field("g_l"), _field("g_b"), _field("g_a"),
    _field("g_d"), _field("E_E"), _field("E_I"),
    RunParam("g_teach", 1 / ms, "constant: teaching conductance while the target is shown", lambda p: 1 / ms),
    RunParam("test_reset", 1, "ModelParams.test_reset (0 or 1)", lambda p: float(bool(p.test_reset))),
    RunParam("burst_scale", 1, "ModelParams.burst_scale (read by hidden_burst.eqs only)", lambda p: float(p.burst_scale)),
    # per layer (packed by the run itself, not declared by the groups)
    RunParam("eta", 1, "ModelParams.learning_rates, one per weight layer", lambda p: list(p.learning_rates), False),
    RunParam("eta_bias", 1, "ModelParams.bias_learning_rates", lambda p: list(p.bias_learning_rates), False),
    RunParam("P_hidden", ms, "ModelParams.P_0 = P_hidden_factor / phi_max", lambda p: p.P_0, False),
    RunParam("P_output", ms ** 2, "ModelParams.P_1 = P_output_factor / phi_max**2", lambda p: p.P_1, False),
    RunParam("plateau_variant", 1, "1 if ModelParams.plateau_sd > 0",
             lambda p: 1.0 if float(p.plateau_sd / ms) > 0 else 0.0, False),
    RunParam("plateau_window", 1, "ModelParams.plateau_window in whole steps (ModelParams.steps)",
             lambda p: float(p.steps("plateau_window")), False),
    RunParam("plateau_cdf", 1, "learning.plateau_offset_cdf(plateau_sd, plateau_max, dt)", _plateau_cdf, False),
)

#: The shared parameters (name -> RunParam) the equation files may read.
SHARED_PARAMS = {r.name: r for r in RUN_PARAMS if r.shared}


def run_values(params) -> dict:
    """Name -> value of every :data:`RUN_PARAMS` entry for ``params`` (a ModelParams)."""
    return {r.name: r.value(params) for r in RUN_PARAMS}


def validation_namespace() -> dict:
    """The shared parameters as the equation-file checker sees them (only their units matter)."""
    return {name: 1.0 * r.unit for name, r in SHARED_PARAMS.items()}


def unit_string(unit) -> str:
    """A Brian2 unit as equation text (``'1'`` for dimensionless)."""
    dim = get_dimensions(unit)
    return "1" if dim is DIMENSIONLESS else dim._str_representation(python_code=True)


def shared_declarations(names) -> str:
    """``name : unit (shared, constant)`` lines for the shared parameters ``names``."""
    return "\n".join(f"{k} : {unit_string(SHARED_PARAMS[k].unit)} (shared, constant)" for k in names)


# ----------------------------------------------------------------------------- equation files
@dataclass(frozen=True)
class Spec:
    """What the network needs from one equation file and what it supplies to it."""

    provides: dict            # name -> unit the network relies on
    uses: dict                # name -> unit supplied by the network (or another compartment)
    directives: tuple         # directives that must be present
    method_required: bool = False


#: The contract between the layer builders and the files of ``equations/``.
COMPARTMENTS = {
    "kernel": Spec(provides={"s": Hz, "k_L": Hz, "k_s": Hz}, uses={}, directives=("on_spike",)),
    "input_poisson": Spec(provides={"rate": Hz}, uses={"pixel": 1},
                          directives=("threshold",), method_required=True),
    "hidden_basal": Spec(provides={"V_b": 1, "b": 1}, uses={"w": ms},
                         directives=("on_pre",), method_required=True),
    "hidden_apical": Spec(provides={"V_a": 1}, uses={"w": ms},
                          directives=("on_pre",), method_required=True),
    # the apical dendrite of the rate-feedback variant (ModelParams.feedback_signal = 'rates', its own
    # build; OPTIONAL_COMPARTMENTS): fb_rate = sum_j Y_ij phi1_j is the feedback synapses' summed variable
    "hidden_apical_rates": Spec(provides={"V_a": 1}, uses={"fb_rate": 1}, directives=(), method_required=True),
    "hidden_soma": Spec(provides={"V": 1, "phi": Hz}, uses={"V_b": 1, "V_a": 1},
                        directives=("threshold",), method_required=True),
    "output_dendrite": Spec(provides={"V_b": 1, "b": 1}, uses={"w": ms},
                            directives=("on_pre",), method_required=True),
    "output_soma": Spec(provides={"V": 1, "phi": Hz, "g_E": 1 / ms, "g_I": 1 / ms},
                        uses={"V_b": 1, "label": 1, "teach": 1},
                        directives=("threshold",), method_required=True),
}

#: Equation files of optional variants, loaded only by the builds that use them (so the default
#: build's files, and its hash, stay as they are): name -> Spec, as :data:`COMPARTMENTS`.
VARIANT_COMPARTMENTS = {
    # burst-coded plateaus (ModelParams.plateau_code = 'burst'): run at each plateau with the
    # plateau level and the phase sign; the network reads the memory M at the target plateau
    "hidden_burst": Spec(provides={"M": 1, "N_burst": 1}, uses={"plateau": 1, "phase_sign": 1},
                         directives=("on_plateau",)),
}

#: The variant files each ModelParams.plateau_code needs.
PLATEAU_CODE_FILES = {"rate": (), "burst": ("hidden_burst",)}


def compartment_spec(name: str) -> Spec:
    """The :class:`Spec` of a compartment file or a variant file (KeyError for an unknown name)."""
    return COMPARTMENTS[name] if name in COMPARTMENTS else VARIANT_COMPARTMENTS[name]


def hidden_soma_kind(plateau_code: str) -> str:
    """The :data:`GROUPS` key of the hidden somas for a ModelParams.plateau_code."""
    return "hidden_soma_burst" if plateau_code == "burst" else "hidden_soma"


#: Files the default network does not use: loaded when present, part of a build only where used
#: (so that the default build's hash does not depend on them).
OPTIONAL_COMPARTMENTS = ("hidden_apical_rates",)


@dataclass(frozen=True)
class GroupSpec:
    """One kind of NeuronGroup: its equation files (a name may be defined in only one of them) and the equations the model adds to them."""

    label: str                # for messages
    files: tuple              # keys of COMPARTMENTS
    adds: str                 # Brian2 equations added by the model


#: Every kind of group of the models (training network and Figure 10).
GROUPS = {
    "input": GroupSpec("input", ("input_poisson", "kernel"), "rng_seed : 1 (shared, constant)\n" + L.INPUT_VARS),
    "hidden_dend": GroupSpec("hidden dendrites", ("hidden_basal", "hidden_apical"),
                             "E : Hz (linked)\nsbar : Hz (linked)\neta_b : 1 (shared, constant)\n"
                             "P_b : second (shared, constant)\n"),
    "hidden_dend_rates": GroupSpec("hidden dendrites (rate feedback)", ("hidden_basal", "hidden_apical_rates"),
                                   "E : Hz (linked)\nsbar : Hz (linked)\neta_b : 1 (shared, constant)\n"
                                   "P_b : second (shared, constant)\nfb_rate : 1\n"),
    "hidden_soma": GroupSpec("hidden soma", ("hidden_soma", "kernel"),
                             "V_b : 1 (linked)\nV_a : 1 (linked)\n" + L.HIDDEN_SOMA_VARS),
    # burst-coded plateaus: the soma with the burst memory (hidden_burst.eqs); ``plateau`` is set to
    # alpha^f / alpha^t before the file's on_plateau statements run, ``phase_sign`` is the global
    # phase signal (-1 in the forward phase, +1 in the target phase)
    "hidden_soma_burst": GroupSpec("hidden soma (burst-coded plateaus)", ("hidden_soma", "kernel", "hidden_burst"),
                                   "V_b : 1 (linked)\nV_a : 1 (linked)\n" + L.HIDDEN_SOMA_VARS + L.BURST_SOMA_VARS),
    "output_dend": GroupSpec("output dendrite", ("output_dendrite",),
                             "E : Hz**2 (linked)\neta_b : 1 (shared, constant)\nP_b : second**2 (shared, constant)\n"),
    "output_soma": GroupSpec("output soma", ("output_soma",), """
V_b : 1 (linked)
label = int(stim_labels(sch_ex(t)*second) + 0.5) : integer (constant over dt)
teach = sch_teach(t) : 1
""" + L.OUTPUT_SOMA_VARS),
    # Figure 10's apical afferents: Poisson units without a kernel (nothing reads their trains)
    "afferent": GroupSpec("afferent", ("input_poisson",), ""),
}

#: Definitions of ``pixel`` (the input file's drive) by stimulus.
STIMULI = {
    "images": "pixel = stim_images(sch_ex(t)*second, i) : 1",
    "basal": "pixel = level*sch_basal(t) : 1\nlevel : 1 (constant)",
    "apical": "pixel = level*sch_apical(t, protocol) : 1\nlevel : 1 (constant)\nprotocol : integer (constant)",
}

#: Optional variables the builders add for a feature.
EXTRAS = {
    "stop": "stop_flag : 1 (shared)",           # the chunk's idle tail ends the compiled run
    "dense": "dense_ret : 1 (shared)",           # return value of the dense kernels (a source of synapses)
    "truncated": "t_reset : second",             # time of the last test reset (truncated kernel)
}

#: Synapse models: feedforward weights onto hidden / output dendrites, feedback weights.
SYNAPSE_MODELS = {
    "W_hidden": "w : second\neta_w : 1 (shared, constant)\nP_w : second (shared, constant)",
    "W_output": "w : second\neta_w : 1 (shared, constant)\nP_w : second**2 (shared, constant)",
    "Y": "w : second",
    # rate feedback (feedback_signal = 'rates'): the output somas' rates through Y, summed every step
    "Y_rates": "w : second\nfb_rate_post = w*phi_pre : 1 (summed)",
    "Y_symmetric": "w : second\neta_w : 1 (shared, constant)\nP_w : second**2 (shared, constant)",
}

#: Custom events at the ends of the forward and target phases (schedule arrays).
END_EVENTS = {"end_f": "sch_end_f(t) > 0.5", "end_t": "sch_end_t(t) > 0.5"}

#: Constants the builders put in the namespace of the generated code.
CONSTANTS = {"kernel_cutoff": "where the truncated kernel ends (params.KERNEL_CUTOFF), in the cutoff directives"}

_added = None


def added_names() -> frozenset:
    """Every name the model adds to a group or synapse, parsed from the equations above with Brian2.

    Includes the ``uses`` of :data:`COMPARTMENTS` (names the model supplies to the files).
    """
    global _added
    if _added is None:
        texts = [g.adds for g in GROUPS.values()] + list(STIMULI.values()) + list(EXTRAS.values()) \
            + list(SYNAPSE_MODELS.values())
        names = set()
        for text in texts:
            names.update(Equations(text).names)
        for spec in (*COMPARTMENTS.values(), *VARIANT_COMPARTMENTS.values()):
            names.update(spec.uses)
        names.update(CONSTANTS)
        _added = frozenset(names)
    return _added
