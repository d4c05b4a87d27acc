"""The segregated-dendrite network in Brian2, with the whole training loop compiled.

Structure (MODEL.md): input Poisson layer -> hidden layers of three-compartment neurons
(basal dendrite, apical dendrite, soma) -> output layer of two-compartment neurons
(dendrite, soma with teaching conductances).  Every hidden layer gets direct, fixed
feedback ``Y`` from the output layer onto its apical dendrites.

Brian2 objects per layer
------------------------
* ``input``            NeuronGroup: ``input_poisson.eqs`` + ``kernel.eqs``
* ``hidden{k}_dend``   NeuronGroup: ``hidden_basal.eqs`` + ``hidden_apical.eqs`` (exact kernels)
* ``hidden{k}_soma``   NeuronGroup: ``hidden_soma.eqs`` + ``kernel.eqs``
* ``output_dend``      NeuronGroup: ``output_dendrite.eqs``
* ``output_soma``      NeuronGroup: ``output_soma.eqs``
* ``W{k}``             Synapses from layer k's spiking group to layer k+1's dendrites
* ``Y{k}``             Synapses from the output soma to hidden layer k's apical dendrites

Dendrites update before somas in each step (``order``), so a soma integrates the
dendritic potential of the same step (MODEL.md's update order).

Phases, averages, plateaus and learning are compiled Brian2 operations: per-step
schedule arrays (:mod:`brian_segdend.schedule`) drive ``run_regularly`` accumulators and
custom events (``end_f``, ``end_t``) whose ``run_on_event`` handlers compute window
averages, plateaus and errors, and whose Synapses pathways apply the weight updates.
The order within the step of a phase end is explicit:

1. ``groups``: state updates (dendrites, then somas)
2. ``after_groups``: window accumulators
3. ``thresholds``: spikes and the ``end_f`` / ``end_t`` events
4. ``after_resets`` order 0: window means, plateaus alpha^f / alpha^t, errors E
5. ``after_resets`` order 2: weight (Synapses pathway) and bias updates

All parameters that a sweep or a training run may change (conductances, learning rates,
P factors, plateau variant, seed, weights, images) are passed at run time through
``device.run(run_args=...)``: the binary is compiled once per architecture.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import brian2 as b2
from brian2 import Hz, ms, second

from .equations import CompartmentFile, EquationFileError, load_all, default_equation_dir
from .params import ModelParams, ParameterError, KERNEL_CUTOFF
from .schedule import SCHEDULE_ARRAYS, ChunkSchedule, pack_chunk
from . import learning as L
from . import fastrng
from .learning import RULE_UNIT

__all__ = ["SegDendNetwork", "initial_weights", "weight_recipe", "build_group", "build_hidden_layer", "RULE_UNIT", "sigmoid"]

# (shared, constant) runtime parameters of every group, by name -> unit
_RUNTIME_UNITS = {
    "phi_max": Hz, "tau_s": ms, "tau_L": ms, "g_l": 1 / ms, "g_b": 1 / ms, "g_a": 1 / ms,
    "g_d": 1 / ms, "E_E": 1, "E_I": 1, "g_teach": 1 / ms, "test_reset": 1,
}

_RUNTIME_UNIT_STR = {"phi_max": "Hz", "tau_s": "second", "tau_L": "second", "g_l": "1/second",
                     "g_b": "1/second", "g_a": "1/second", "g_d": "1/second", "E_E": "1", "E_I": "1",
                     "g_teach": "1/second", "test_reset": "1"}


def build_group(files: dict, name: str, n: int, file_names, extra_eqs: str, events: dict, method: str,
                namespace: dict, threshold=None, reset=None, order=0):
    """A NeuronGroup from equation files plus network-supplied lines.

    The runtime parameters the code uses (:data:`_RUNTIME_UNITS` names) are declared as
    ``(shared, constant)`` variables, so they are set per run through ``run_args``.
    Returns the group and the list of those parameter names.
    """
    from brian2.utils.stringtools import get_identifiers
    texts = [files[f].eq_text for f in file_names]
    ids = get_identifiers("\n".join(texts) + "\n" + extra_eqs + " "
                          + " ".join(v for f in file_names for v in files[f].directives.values())
                          + " " + " ".join(events.values()))
    rt = [k for k in _RUNTIME_UNITS if k in ids]
    shared = "\n".join(f"{k} : {_RUNTIME_UNIT_STR[k]} (shared, constant)" for k in rt)
    eqs = b2.Equations("\n".join(texts)) + b2.Equations(extra_eqs + "\n" + shared)
    kwargs = dict(method=method, name=name, namespace=namespace, order=order,
                  events=dict(events))   # NeuronGroup modifies the dict it is given
    if threshold:
        kwargs["threshold"] = threshold
        if reset:
            kwargs["reset"] = reset
    try:
        g = b2.NeuronGroup(n, eqs, **kwargs)
    except Exception as e:
        paths = ", ".join(str(files[f].path) for f in file_names)
        raise EquationFileError(f"{paths}: Brian2 rejected the combined equations of group '{name}': {e}") from e
    return g, rt


@b2.implementation("cpp", """
double stop_simulation(double flag) {
    if (flag > 0.5) Network::_globally_stopped = true;
    return flag;
}
""", headers=['"network.h"'])
@b2.check_units(flag=1, result=1)
def stop_simulation(flag):
    """Ends a compiled run early (the chunk's idle tail). A no-op in runtime mode."""
    return flag


def build_hidden_layer(make_group, files: dict, name: str, n: int, end_events: dict):
    """One layer of hidden neurons: the dendrite group (basal + apical files, order 0) and the
    soma group (soma + kernel files, order 1), linked both ways, with the plateau and learning
    code of :mod:`brian_segdend.learning`. ``make_group`` is a :func:`build_group` wrapper.
    Returns (dendrites, somas)."""
    soma_extra = "V_b : 1 (linked)\nV_a : 1 (linked)\n" + L.HIDDEN_SOMA_VARS
    dend_extra = "E : Hz (linked)\nsbar : Hz (linked)\neta_b : 1 (shared, constant)\nP_b : second (shared, constant)\n"
    d = make_group(f"{name}_dend", n, ["hidden_basal", "hidden_apical"], dend_extra,
                   {"end_t": end_events["end_t"]}, files["hidden_basal"].directives["method"], order=0)
    s_file = files["hidden_soma"]
    s = make_group(f"{name}_soma", n, ["hidden_soma", "kernel"], soma_extra, end_events,
                   s_file.directives["method"], threshold=s_file.directives["threshold"],
                   reset=files["kernel"].directives["on_spike"], order=1)
    s.V_b = b2.linked_var(d, "V_b")
    s.V_a = b2.linked_var(d, "V_a")
    d.E = b2.linked_var(s, "E")
    d.sbar = b2.linked_var(s, "sbar")
    s.run_regularly(L.HIDDEN_ACCUMULATE, when="after_groups", name=f"{name}_accumulate")
    s.run_on_event("end_f", L.HIDDEN_END_F, when="after_resets", order=0)
    s.run_on_event("end_t", L.HIDDEN_END_T, when="after_resets", order=0)
    d.run_on_event("end_t", L.BIAS_UPDATE, when="after_resets", order=2)
    return d, s


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ----------------------------------------------------------------------------- weights
def weight_recipe(n_in: int, params: ModelParams, rate_frac: float | None = None) -> tuple[float, float]:
    """MODEL.md's initial-weight recipe: (W_avg, W_sd) in ms for a layer with n_in inputs.

    nu = rate_frac * phi_max * (kernel area = 1), in spikes/ms; ``rate_frac`` defaults to
    ``params.init_rate_frac``.
    """
    V_avg, V_sd, b_avg = params.init_V_avg, params.init_V_sd, params.init_b_avg
    frac = params.init_rate_frac if rate_frac is None else rate_frac
    nu = frac * float(params.phi_max / (1 / ms))   # per ms, area of kappa = 1
    N = n_in
    V_sm = V_sd ** 2 + V_avg ** 2
    W_avg = (V_avg - b_avg) / (nu * N * V_avg)
    W_sm = (V_sm + nu ** 2 * (N - N ** 2) * W_avg ** 2 * V_avg ** 2
            - 2 * N * nu * b_avg * V_avg * W_avg - b_avg ** 2) / (N * nu ** 2 * V_sm)
    W_sd = np.sqrt(W_sm - W_avg ** 2)
    return W_avg, W_sd


def initial_weights(params: ModelParams, rng: np.random.Generator) -> dict:
    """Initial W (list, ms numbers, shape (n_post, n_pre)), b (list), Y (list, (n_hidden, n_out)).

    Feedback to a hidden layer of size N_h uses the recipe's W_avg, W_sd for N = N_h
    (MODEL.md). A layer fed by the input layer uses nu = ``init_rate_frac`` phi_max (the
    recipe's 0.25); a layer fed by a hidden layer uses ``init_rate_frac_hidden`` (0.66, the
    measured mean rate of a hidden layer with the exact kernel), so its voltages start in the
    recipe's range instead of saturating (README, "Initial weights"). Variants (Fig. 8): sparse (80% zeros, rest x5), sparse_noscale (80% zeros, not
    rescaled), symmetric (Y = W_top^T), symmetric plus noise. ``init_weight_scale`` multiplies W and Y (not the biases).
    """
    sizes = params.layer_sizes
    scale = float(params.init_weight_scale)
    W, b = [], []
    for k in range(len(sizes) - 1):
        n_in, n_out = sizes[k], sizes[k + 1]
        W_avg, W_sd = weight_recipe(n_in, params, None if k == 0 else params.init_rate_frac_hidden)
        W.append(scale * (W_avg + 3.465 * W_sd * rng.uniform(-1, 1, size=(n_out, n_in))))
        b.append(params.init_b_avg + 3.465 * params.init_b_sd * rng.uniform(-1, 1, size=n_out))
    Y = []
    for k, n_h in enumerate(params.hidden):
        Y_avg, Y_sd = weight_recipe(n_h, params)
        Yk = scale * (Y_avg + 3.465 * Y_sd * rng.uniform(-1, 1, size=(n_h, params.n_output)))
        if params.feedback in ("sparse", "sparse_noscale"):
            # 80% zeros; "sparse" rescales the rest by 5 (same expected sum), "sparse_noscale" does not
            Yk = Yk * (rng.uniform(size=Yk.shape) >= 0.8) * (5.0 if params.feedback == "sparse" else 1.0)
        elif params.feedback in ("symmetric", "symmetric_noise"):
            Yk = W[-1].T.copy()
            if params.feedback == "symmetric_noise":
                Yk = Yk + scale * params.feedback_noise * Y_sd * rng.standard_normal(Yk.shape)
        Y.append(Yk)
    return {"W": W, "b": b, "Y": Y}


# ----------------------------------------------------------------------------- helpers
def _with_unroll(flags) -> list:
    flags = list(flags)
    return flags if "-funroll-loops" in flags else flags + ["-funroll-loops"]


def _hash_build(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class ChunkResult:
    """What one compiled run returns."""
    schedule: ChunkSchedule
    out_Vbar_f: np.ndarray        # (n_examples, n_output) forward-window mean somatic voltage
    wall_s: float
    records: dict = field(default_factory=dict)   # optional verification records


class SegDendNetwork:
    """A compiled network of fixed architecture, run in chunks of ``chunk_steps`` steps.

    Parameters
    ----------
    params : ModelParams
        Architecture and default parameter values. Everything except the sizes, dt,
        ``test_duration``/``phase_min`` (which set the chunk capacity) and the feedback
        variant can be changed per run via :meth:`set_params`.
    chunk_steps : int
        Time steps per compiled run.
    device : {'cpp_standalone', 'runtime'}
        ``runtime`` runs the same objects through Brian2's runtime (for debugging).
    build_dir : path, optional
        Where the standalone project lives; default: a folder per build hash under
        :func:`brian_segdend.buildcache.build_root`.
    record : bool
        Also record per-example window averages, plateaus and errors at each learning
        step (used by the verification tests).
    equation_dir : path, optional
        Folder with the ``.eqs`` files.
    dense : bool, optional
        All-to-all spike delivery and weight updates as contiguous loops
        (:mod:`brian_segdend.dense`; about 2x faster training). Default: on for
        ``cpp_standalone`` (the only device that has them).
    fast_rng : bool
        Opt-in: ``rand()`` from :mod:`brian_segdend.fastrng` (xoshiro256+) instead of Brian2's
        generator (cpp_standalone only; +3% measured).
    precision : {'float64', 'float32'}
        Floating-point type of every state variable, weight and parameter in the compiled code
        (Brian2's ``core.default_float_dtype``). float32 trains about 13% faster (memory traffic
        of the weight rows); the compiled rule then matches NumPy to float32 rounding
        (``tests/test_network.py``). cpp_standalone only.
    """

    def __init__(self, params: ModelParams, chunk_steps: int = 100_000, device: str = "cpp_standalone",
                 build_dir=None, record: bool = False, equation_dir=None, record_state: bool = False,
                 dense: bool | None = None, fast_rng: bool = False, precision: str = "float64"):
        if params.feedback in ("symmetric", "symmetric_noise") and len(params.hidden) > 1:
            raise ParameterError("parameter 'feedback': symmetric feedback is implemented for one hidden layer only")
        if device not in ("cpp_standalone", "runtime"):
            raise ParameterError(f"parameter 'device': must be 'cpp_standalone' or 'runtime', got {device!r}")
        self.params = params
        self.device_name = device
        self.chunk_steps = int(chunk_steps)
        self.record = record
        self.record_state = record_state
        # dense all-to-all kernels (brian_segdend.dense): compiled code only
        self.dense = (device == "cpp_standalone") if dense is None else bool(dense)
        if self.dense and device != "cpp_standalone":
            raise ParameterError("parameter 'dense': the dense kernels exist only on the cpp_standalone device")
        self.dense_paths = {}   # pathway name -> "dense" or "generic"
        # opt-in: rand() from brian_segdend.fastrng (xoshiro256+) instead of Brian2's mt19937
        # (+3% training speed measured, benchmarks/RESULTS.md; off by default: it swaps Brian2's
        # rand implementation while the code is generated)
        self.fast_rng = bool(fast_rng)
        if self.fast_rng and device != "cpp_standalone":
            raise ParameterError("parameter 'fast_rng': the fast generator exists only on the cpp_standalone device")
        if precision not in ("float64", "float32"):
            raise ParameterError(f"parameter 'precision': 'float64' or 'float32', got {precision!r}")
        if precision == "float32" and device != "cpp_standalone":
            raise ParameterError("parameter 'precision': float32 is available on the cpp_standalone device only")
        self.precision = precision
        self.dt = params.dt
        self.settle_steps = int(round(float(params.settle / params.dt)))
        min_example = min(int(round(float(params.test_duration / params.dt))),
                          2 * int(round(float(params.phase_min / params.dt))))
        self.capacity = self.chunk_steps // min_example + 1
        self.equation_dir = Path(equation_dir) if equation_dir else default_equation_dir()
        namespace = self._namespace_for_validation()
        self.files = load_all(namespace, self.equation_dir)   # raises EquationFileError before any codegen
        self.runtime_values = self._runtime_defaults(params)
        self._built = False
        self._n_runs = 0
        payload = {
            "sizes": params.layer_sizes, "dt": float(params.dt / ms), "steps": self.chunk_steps,
            "capacity": self.capacity, "record": record, "record_state": record_state, "dense": self.dense,
            "fast_rng": fastrng.header_text() if self.fast_rng else False, "precision": precision,
            "files": {n: f.text for n, f in self.files.items()},
            "brian2": b2.__version__, "device": device,
            # the flags the build will use: configure_standalone_build adds -funroll-loops once per
            # process, so add it here only where it is missing (else the first network of a process
            # and the later ones got two hashes, two folders and two compiles of one network)
            "compile_args": _with_unroll(b2.prefs.codegen.cpp.extra_compile_args_gcc),
            "kernel": params.kernel if params.kernel == "exact" else [params.kernel, float(KERNEL_CUTOFF / ms)],
        }
        if params.feedback in ("symmetric", "symmetric_noise"):
            # learned feedback compiles a Y update the fixed variants lack: its own build folder, so
            # that parallel runs of both kinds never rebuild a folder under each other's feet
            # (only added here, so the fixed variants keep their existing build hashes)
            payload["feedback"] = "learned"
        self.build_hash = _hash_build(payload)
        if build_dir is None:
            from .buildcache import build_root
            build_dir = Path(build_root()) / f"net-{self.build_hash}"
        self.build_dir = Path(build_dir)
        self.timings = {}
        self._setup()

    # ------------------------------------------------------------------ parameters
    def _namespace_for_validation(self) -> dict:
        """Runtime parameters as seen by the equation-file checker (only their units matter)."""
        return {k: 1.0 * u for k, u in _RUNTIME_UNITS.items()}

    @staticmethod
    def _runtime_defaults(p: ModelParams) -> dict:
        plateau = L.plateau_offset_cdf(p.plateau_sd, p.plateau_max, p.dt)
        return {
            "phi_max": p.phi_max, "tau_s": p.tau_s, "tau_L": p.tau_L, "g_l": p.g_l, "g_b": p.g_b,
            "g_a": p.g_a, "g_d": p.g_d, "E_E": float(p.E_E), "E_I": float(p.E_I), "g_teach": 1 / ms,
            "eta": list(p.learning_rates), "eta_bias": list(p.bias_learning_rates),
            "P_hidden": p.P_0, "P_output": p.P_1, "test_reset": float(bool(p.test_reset)),
            "plateau_variant": 1.0 if float(p.plateau_sd / ms) > 0 else 0.0,
            "plateau_window": float(p.plateau_window / p.dt), "plateau_cdf": plateau,
        }

    def set_params(self, params: ModelParams):
        """Change runtime parameters (no recompile). Sizes and dt must not change."""
        if params.layer_sizes != self.params.layer_sizes or params.dt != self.params.dt:
            raise ParameterError("set_params: layer sizes and dt are fixed by the build; make a new network")
        if params.feedback != self.params.feedback:
            raise ParameterError("set_params: the feedback variant is fixed by the build; make a new network")
        if params.kernel != self.params.kernel:
            raise ParameterError("set_params: the kernel is fixed by the build; make a new network")
        self.settle_steps = int(round(float(params.settle / params.dt)))
        self.params = params
        self.runtime_values = self._runtime_defaults(params)

    # ------------------------------------------------------------------ construction
    _active = None   # the network that currently owns Brian2's device (weak reference)

    def release(self):
        """Drop this network's Brian2 objects, so that a new network gets the same object
        names (and so the same generated code, and no recompile). Called automatically
        when another network is created in the same process."""
        for attr in ("net", "input", "dend", "soma", "out_dend", "out_soma", "W", "Y", "ta", "images",
                     "labels", "mon_out_f", "rec", "state_mon", "_shared_vars", "_dynamic_vars", "namespace"):
            if hasattr(self, attr):
                setattr(self, attr, None)
        self._released = True
        import gc
        gc.collect()

    def _setup(self):
        import weakref
        previous = SegDendNetwork._active() if SegDendNetwork._active is not None else None
        if previous is not None and previous is not self:
            previous.release()
        SegDendNetwork._active = weakref.ref(self)
        self._released = False
        p = self.params
        if self.device_name == "cpp_standalone":
            from .buildcache import fresh_standalone_device
            fresh_standalone_device(self.build_dir, float_dtype=np.dtype(self.precision).type)
        else:
            b2.prefs.core.default_float_dtype = np.float64
            b2.device.reinit()
            b2.set_device("runtime")
            b2.prefs.codegen.target = "numpy"
            b2.prefs.core.stop_on_keyboard_interrupt = False   # Ctrl-C interrupts (see buildcache)
        import gc
        gc.collect()   # after the device forgot the previous network's code objects: free their names
        b2.defaultclock.dt = p.dt
        dt = p.dt
        n_steps = self.chunk_steps
        # --- schedule and stimulus arrays (values replaced on every run)
        self.ta = {name: b2.TimedArray(np.zeros(n_steps), dt=dt, name=f"sch_{name}") for name in SCHEDULE_ARRAYS}
        self.images = b2.TimedArray(np.zeros((self.capacity, p.n_input)), dt=1 * second, name="stim_images")
        self.labels = b2.TimedArray(np.zeros(self.capacity), dt=1 * second, name="stim_labels")
        ns = {f"sch_{k}": v for k, v in self.ta.items()}
        ns.update(stim_images=self.images, stim_labels=self.labels, RULE_UNIT=RULE_UNIT, stop_simulation=stop_simulation,
                  kernel_cutoff=KERNEL_CUTOFF)
        truncated = p.kernel == "truncated"
        self.namespace = ns
        self._shared_vars = []   # (group, name) of every (shared, constant) runtime parameter
        objs = []

        def make_group(name, n, file_names, extra_eqs, events, method, threshold=None, reset=None, order=0):
            if threshold and self.dense:   # a source of synapses: return value of the dense kernels
                extra_eqs = extra_eqs + "\ndense_ret : 1 (shared)\n"
            if truncated:   # time of the last test reset: delayed cutoffs of earlier spikes are skipped
                extra_eqs = extra_eqs + "\nt_reset : second\n"
            events = dict(events, test_reset="sch_reset(t)*test_reset > 0.5")
            g, rt = build_group(self.files, name, n, file_names, extra_eqs, events, method, ns,
                                threshold=threshold, reset=reset, order=order)
            self._shared_vars += [(g, r) for r in rt]
            objs.append(g)
            self._add_test_reset(g, truncated)
            return g

        end_events = {"end_f": "sch_end_f(t) > 0.5", "end_t": "sch_end_t(t) > 0.5"}
        kern = self.files["kernel"]

        # ---------------- input layer
        inp_file = self.files["input_poisson"]
        extra = ("pixel = stim_images(sch_ex(t)*second, i) : 1\nrng_seed : 1 (shared, constant)\n"
                 "stop_flag : 1 (shared)\n" + L.INPUT_VARS)
        self.input = make_group("input", p.n_input, ["input_poisson", "kernel"], extra, end_events,
                                inp_file.directives["method"], threshold=inp_file.directives["threshold"],
                                reset=kern.directives["on_spike"])
        self.input.run_regularly(L.INPUT_ACCUMULATE, when="after_groups", name="input_accumulate")
        self.input.run_on_event("end_f", L.INPUT_END_F, when="after_resets", order=0)
        # stop the compiled run at the chunk's idle tail (no Python involved)
        self.input.run_regularly("stop_flag = stop_simulation(sch_stop(t))", when="end", name="chunk_stop")

        # ---------------- hidden layers
        self.dend, self.soma = [], []
        for k, n_h in enumerate(p.hidden):
            d, s = build_hidden_layer(make_group, self.files, f"hidden{k}", n_h, end_events)
            self.dend.append(d)
            self.soma.append(s)

        # ---------------- output layer
        od_extra = "E : Hz**2 (linked)\neta_b : 1 (shared, constant)\nP_b : second**2 (shared, constant)\n"
        self.out_dend = make_group("output_dend", p.n_output, ["output_dendrite"], od_extra, {"end_t": end_events["end_t"]},
                                   self.files["output_dendrite"].directives["method"], order=0)
        os_file = self.files["output_soma"]
        os_extra = """
V_b : 1 (linked)
label = int(stim_labels(sch_ex(t)*second) + 0.5) : integer (constant over dt)
g_E = g_teach*sch_teach(t)*int(i == label) : 1/second
g_I = g_teach*sch_teach(t)*int(i != label) : 1/second
""" + L.OUTPUT_SOMA_VARS
        self.out_soma = make_group("output_soma", p.n_output, ["output_soma"], os_extra, end_events,
                                   os_file.directives["method"], threshold=os_file.directives["threshold"], order=1)
        self.out_soma.V_b = b2.linked_var(self.out_dend, "V_b")
        self.out_dend.E = b2.linked_var(self.out_soma, "E")
        self.out_soma.run_regularly(L.OUTPUT_ACCUMULATE, when="after_groups", name="output_accumulate")
        self.out_soma.run_on_event("end_f", L.OUTPUT_END_F, when="after_resets", order=0)
        self.out_soma.run_on_event("end_t", L.OUTPUT_END_T, when="after_resets", order=0)
        self.out_dend.run_on_event("end_t", L.BIAS_UPDATE, when="after_resets", order=2)

        # ---------------- synapses
        spiking = [self.input] + self.soma
        targets = self.dend + [self.out_dend]
        self.W = []
        self._n_syn = {}
        for k, (src, tgt) in enumerate(zip(spiking, targets)):
            on_pre_file = self.files["hidden_basal" if k < len(p.hidden) else "output_dendrite"]
            P_unit = "second" if k < len(p.hidden) else "second**2"
            S = self._projection(f"W{k}", src, tgt, f"w : second\neta_w : 1 (shared, constant)\nP_w : {P_unit} (shared, constant)",
                                 on_pre_file.directives["on_pre"], L.WEIGHT_UPDATE, ns,
                                 cutoff=self.cutoff_statements(on_pre_file, "on_pre_cutoff") if truncated else None)
            S.connect()
            self._n_syn[S.name] = len(src) * len(tgt)
            self.W.append(S)
            objs.append(S)
        self.Y = []
        symmetric = p.feedback in ("symmetric", "symmetric_noise")
        for k, d in enumerate(self.dend):
            model = "w : second"
            if symmetric:
                model += "\neta_w : 1 (shared, constant)\nP_w : second**2 (shared, constant)"
            S = self._projection(f"Y{k}", self.out_soma, d, model, self.files["hidden_apical"].directives["on_pre"],
                                 L.FEEDBACK_UPDATE if symmetric else None, ns,
                                 cutoff=(self.cutoff_statements(self.files["hidden_apical"], "on_pre_cutoff")
                                         if truncated else None))
            S.connect()
            self._n_syn[S.name] = len(self.out_soma) * len(d)
            self.Y.append(S)
            objs.append(S)
        if truncated:   # each spiking group's own filtered train s (kernel.eqs) ends after the cutoff too
            own = self.cutoff_statements(self.files["kernel"], "on_spike_cutoff")
            for g in spiking:
                S = b2.Synapses(g, g, on_pre=own, delay=KERNEL_CUTOFF, name=f"{g.name}_cutoff", namespace=ns)
                S.connect(j="i")
                self.dense_paths[f"{g.name}_cutoff.pre"] = "generic"
                objs.append(S)

        # ---------------- monitors
        self.mon_out_f = b2.EventMonitor(self.out_soma, "end_f", variables=["Vbar_f"], when="end", name="mon_out_f")
        objs.append(self.mon_out_f)
        self.rec = {}
        if self.record:
            for k, s in enumerate(self.soma):
                self.rec[f"hidden{k}"] = b2.EventMonitor(s, "end_t", variables=["Vbar_f", "alpha_f", "alpha_t", "sbar", "E"],
                                                         when="end", name=f"rec_hidden{k}")
            self.rec["input"] = b2.EventMonitor(self.input, "end_t", variables=["sbar"], when="end", name="rec_input")
            self.rec["output"] = b2.EventMonitor(self.out_soma, "end_t", variables=["Vbar_f", "phi_star", "E"],
                                                 when="end", name="rec_output")
            objs.extend(self.rec.values())
        self.state_mon = {}
        if self.record_state:
            self.state_mon["output"] = b2.StateMonitor(self.out_soma, ["V", "V_b"], record=True, name="st_output", when="after_groups")
            for k, (d, s) in enumerate(zip(self.dend, self.soma)):
                self.state_mon[f"hidden{k}"] = b2.StateMonitor(s, ["V", "V_b", "V_a"], record=True, name=f"st_hidden{k}", when="after_groups")
            self.state_mon["input"] = b2.StateMonitor(self.input, ["s"], record=True, name="st_input", when="after_groups")
            objs.extend(self.state_mon.values())

        self.net = b2.Network(objs)
        self._dynamic_vars = self._collect_dynamic_vars()
        if self.device_name == "cpp_standalone":
            from .buildcache import apply_run_args_and_seed
            apply_run_args_and_seed(self.input.variables["rng_seed"], fast_rng=self.fast_rng)
            t0 = time.perf_counter()
            if self.fast_rng:
                fastrng.use_header()
                with fastrng.fast_rand():
                    self.net.run(self.chunk_steps * dt, namespace=ns)
            else:
                self.net.run(self.chunk_steps * dt, namespace=ns)
            self.timings["codegen_s"] = time.perf_counter() - t0
        else:
            self.net.store("start")


    @staticmethod
    def cutoff_statements(cfile, key):
        """The truncated kernel's statements of ``cfile``'s directive ``key`` as code of a delayed
        pathway: targets as ``_post`` names, each term applied only to spikes emitted after the
        postsynaptic group's last test reset (``t_reset``; the spike was emitted at
        ``t - kernel_cutoff``)."""
        if key not in cfile.directives:
            raise EquationFileError(f"{cfile.path}:1: kernel = 'truncated' needs the directive "
                                    f"'#: {key} = ...' in this file")
        gate = "int(t - kernel_cutoff > t_reset_post - 0.5*dt)"
        out = []
        for stmt in re.split(r"[;\n]", cfile.directives[key]):
            stmt = stmt.strip()
            if not stmt:
                continue
            target, op, expr = re.match(r"^([A-Za-z_]\w*)\s*([+\-*/]?=)\s*(.+)$", stmt).groups()
            if not target.endswith("_post"):
                target += "_post"
            out.append(f"{target} {op} ({expr})*{gate}")
        return "\n".join(out)

    def _add_test_reset(self, g, truncated: bool):
        """At the first step of each test example (schedule array ``reset``) with ``test_reset``
        on, set every state variable with a differential equation of ``g`` to 0 before the step's
        update (``start`` slot; the event is detected there too), as the original code clears
        its layers before each test image. With the truncated kernel, ``t_reset`` records the time,
        so that the delayed cutoffs of spikes from before the reset are skipped."""
        names = [n for n, eq in g.equations.items() if eq.type == "differential equation"]
        code = [f"{n} = {n}*0" for n in names]
        if truncated:
            code.append("t_reset = t")
        if not code:
            return
        g.thresholder["test_reset"].when = "start"
        g.thresholder["test_reset"].order = -1
        g.run_on_event("test_reset", "\n".join(code), when="start", order=0)

    def _projection(self, name, src, tgt, model, on_pre, learn, ns, cutoff=None):
        """All-to-all Synapses ``name`` from ``src`` to ``tgt``: spike delivery ``on_pre`` and, if
        ``learn`` is given, that weight update on the source's ``end_t`` event (after the errors,
        ``after_resets`` order 2). With ``self.dense``, each of the two that has the form
        :mod:`brian_segdend.dense` handles runs as one contiguous loop per presynaptic neuron;
        the other keeps Brian2's generic pathway. ``self.dense_paths`` records which.
        ``cutoff`` (truncated kernel): statements of a second pathway, delayed by
        :data:`~brian_segdend.params.KERNEL_CUTOFF`, always Brian2's generic one."""
        from . import dense as D
        plan_pre = D.delivery_plan(on_pre, tgt) if self.dense else None
        plan_learn = D.learning_plan(learn, model, src, tgt, ns) if (self.dense and learn is not None) else None
        pathways, events = {}, {}
        if plan_pre is None:
            pathways["pre"], events["pre"] = on_pre, "spike"
        if learn is not None and plan_learn is None:
            pathways["learn"], events["learn"] = learn, "end_t"
        delay = None
        if cutoff is not None:
            pathways["cutoff"], events["cutoff"] = cutoff, "spike"
            delay = {"cutoff": KERNEL_CUTOFF}
            self.dense_paths[f"{name}.cutoff"] = "generic"
        S = b2.Synapses(src, tgt, model=model, on_pre=pathways or None, on_event=events or "spike",
                        delay=delay, name=name, namespace=ns)
        if "learn" in pathways:
            S.learn.when = "after_resets"
            S.learn.order = 2
        if plan_pre is not None:
            ns[f"dense_pre_{name}"] = D.make_delivery_function(f"dense_pre_{name}", S, src, tgt, plan_pre)
            src.run_regularly(f"dense_ret = dense_pre_{name}(t)", when="synapses", name=f"{name}_dense_pre")
        if plan_learn is not None:
            ns[f"dense_learn_{name}"] = D.make_learning_function(f"dense_learn_{name}", S, src, tgt, plan_learn,
                                                                 ns, "end_t")
            src.run_regularly(f"dense_ret = dense_learn_{name}(t)", when="after_resets", order=2,
                              name=f"{name}_dense_learn")
        self.dense_paths[f"{name}.pre"] = "generic" if "pre" in pathways else "dense"
        if learn is not None:
            self.dense_paths[f"{name}.learn"] = "generic" if "learn" in pathways else "dense"
        return S

    def _collect_dynamic_vars(self):
        """(group, name) of every state variable with a differential equation (carried between chunks)."""
        out = []
        for g in [self.input] + self.dend + self.soma + [self.out_dend, self.out_soma]:
            for name, eq in g.equations.items():
                if eq.type == "differential equation":
                    out.append((g, name))
        return out

    # ------------------------------------------------------------------ building
    def build(self, log=print):
        """Generate and compile the C++ project (cached: unchanged code does not recompile).

        ``log`` receives a line before a first build in this folder and its time after
        (``None``: silent).
        """
        if self.device_name != "cpp_standalone" or self._built:
            return
        from .buildcache import build_standalone
        self.timings["build_s"] = build_standalone(self.build_dir, log=log)
        self._built = True

    # ------------------------------------------------------------------ running
    def _runtime_param_values(self) -> dict:
        rv = self.runtime_values
        out = {}
        for g, name in self._shared_vars:
            out[(g, name)] = rv[name]
        return out

    def run_chunk(self, state: dict, images: np.ndarray, labels: np.ndarray, schedule: ChunkSchedule,
                  seed: int) -> tuple[dict, ChunkResult]:
        """Run one chunk from ``state`` (weights, biases, dynamic variables); return the new state.

        ``images`` must hold at least ``schedule.n_examples`` rows (the rest is blanked).
        """
        if self._released:
            raise RuntimeError("this network was released because another one was created; make it again")
        p = self.params
        n = schedule.n_examples
        if n + 1 > self.capacity:
            raise ValueError(f"chunk holds {n} examples but the build has room for {self.capacity - 1}")
        img = np.zeros((self.capacity, p.n_input))
        img[:n] = images[:n]
        lab = np.zeros(self.capacity)
        lab[:n] = labels[:n]
        values = {}   # key -> value, key is a VariableView or TimedArray
        for name, ta in self.ta.items():
            arr = schedule.arrays[name]
            if arr.shape != (self.chunk_steps,):
                raise ValueError(f"schedule array '{name}' has shape {arr.shape}, the build needs ({self.chunk_steps},)")
            values[ta] = arr
        values[self.images] = img
        values[self.labels] = lab
        assignments = []   # (group, var, value)
        for (g, name), v in self._runtime_param_values().items():
            assignments.append((g, name, v))
        rv = self.runtime_values
        for k, S in enumerate(self.W):
            eta = rv["eta"][k]
            P = rv["P_hidden"] if k < len(p.hidden) else rv["P_output"]
            assignments += [(S, "eta_w", eta), (S, "P_w", P), (S, "w", self._flat(state["W"][k], S) * ms)]
            tgt = (self.dend + [self.out_dend])[k]
            assignments += [(tgt, "eta_b", rv["eta_bias"][k]), (tgt, "P_b", P),
                            (tgt, "b", np.asarray(state["b"][k], float))]
        for k, S in enumerate(self.Y):
            assignments.append((S, "w", self._flat(state["Y"][k], S) * ms))
            if "eta_w" in S.variables:   # symmetric feedback learns
                assignments += [(S, "eta_w", rv["eta"][-1]), (S, "P_w", rv["P_output"])]
        for s in self.soma:
            assignments += [(s, "plateau_variant", rv["plateau_variant"]), (s, "plateau_window", rv["plateau_window"])]
            assignments += [(s, f"pc{j}", float(rv["plateau_cdf"][j])) for j in range(L.N_PLATEAU_STEPS)]
        assignments.append((self.input, "rng_seed", float(seed % (2 ** 31))))
        dyn = state.get("dynamic", {})
        for g, name in self._dynamic_vars:
            key = f"{g.name}.{name}"
            if key in dyn:
                assignments.append((g, name, np.asarray(dyn[key], float) * g.variables[name].unit))
        t0 = time.perf_counter()
        if self.device_name == "cpp_standalone":
            self.build()
            # Brian2 refuses run_args for TimedArrays no code reads (e.g. sch_to_end without hidden layers)
            run_args = {k: v for k, v in values.items()
                        if not isinstance(k, b2.TimedArray) or k in b2.device.timed_arrays}
            for g, name, v in assignments:
                view = getattr(g, name)
                self._check_size(g, name, v)
                run_args[view] = v
            from .buildcache import run_compiled
            run_compiled(self.build_dir, run_args)
        else:
            self.net.restore("start")
            self._runtime_set_timedarrays(values)
            for g, name, v in assignments:
                setattr(g, name, v)
            b2.seed(seed % (2 ** 31))
            self.net.run(self.chunk_steps * self.dt, namespace=self.namespace)
        wall = time.perf_counter() - t0
        self._n_runs += 1
        new_state = self._read_state()
        result = ChunkResult(schedule=schedule, out_Vbar_f=self._read_out_f(schedule), wall_s=wall)
        if np.isnan(result.out_Vbar_f).any():
            # e.g. the binary got Ctrl-C (Brian2 then ends the run early but "normally")
            raise RuntimeError("the compiled run stopped before the end of its chunk (interrupted?); "
                               "its results are discarded")
        if self.record:
            result.records = self._read_records()
        if self.record_state:
            result.records["state"] = {k: {v: np.array(getattr(m, v)) for v in m.record_variables} | {"t": np.array(m.t / ms)}
                                       for k, m in self.state_mon.items()}
        return new_state, result

    def _runtime_set_timedarrays(self, values):
        for ta, arr in values.items():
            arr = np.asarray(arr, float)
            if ta.values.shape != arr.shape:
                raise ValueError(f"TimedArray {ta.name}: shape {arr.shape} != {ta.values.shape}")
            ta.values[...] = arr

    def _check_size(self, g, name, v):
        var = g.variables[name]
        size = np.size(v)
        if size == 1:
            return
        expected = self._n_syn[g.name] if isinstance(g, b2.Synapses) else len(g)
        if getattr(var, "scalar", False):
            raise ValueError(f"run argument {g.name}.{name} is shared; got an array of size {size}")
        if size != expected:
            raise ValueError(f"run argument {g.name}.{name}: expected {expected} values, got {size}")

    @staticmethod
    def _flat(M, S):
        """Matrix (n_post, n_pre) -> synapse order of S (all-to-all)."""
        # connect() creates all-to-all synapses ordered by presynaptic, then postsynaptic
        # index; _matrix() checks this order on the indices each run returns.
        return np.asarray(M, float).T.reshape(-1)

    def _read_state(self) -> dict:
        p = self.params
        W = [self._matrix(S, p.layer_sizes[k + 1], p.layer_sizes[k]) for k, S in enumerate(self.W)]
        b = [np.array(g.b[:]) for g in self.dend + [self.out_dend]]
        Y = [self._matrix(S, n_h, p.n_output) for S, n_h in zip(self.Y, p.hidden)]
        dyn = {f"{g.name}.{name}": np.array(getattr(g, name)[:] / g.variables[name].unit) for g, name in self._dynamic_vars}
        return {"W": W, "b": b, "Y": Y, "dynamic": dyn}

    @staticmethod
    def _matrix(S, n_post, n_pre):
        i, j = np.asarray(S.i[:]), np.asarray(S.j[:])
        if not (np.array_equal(i, np.repeat(np.arange(n_pre), n_post)) and np.array_equal(j, np.tile(np.arange(n_post), n_pre))):
            raise RuntimeError(f"synapses {S.name}: unexpected synapse order; weights cannot be mapped")
        return np.asarray(S.w[:] / ms).reshape(n_pre, n_post).T.copy()

    def _read_out_f(self, schedule: ChunkSchedule) -> np.ndarray:
        n_out = self.params.n_output
        t = np.round(np.asarray(self.mon_out_f.t_) / float(self.dt)).astype(np.int64)
        i = np.asarray(self.mon_out_f.i)
        v = np.asarray(self.mon_out_f.Vbar_f)
        out = np.full((schedule.n_examples, n_out), np.nan)
        pos = {int(s): k for k, s in enumerate(schedule.end_f_steps)}
        for tt, ii, vv in zip(t, i, v):
            k = pos.get(int(tt))
            if k is not None:
                out[k, ii] = vv
        return out

    def _read_records(self) -> dict:
        out = {}
        for name, mon in self.rec.items():
            d = {"t": np.round(np.asarray(mon.t_) / float(self.dt)).astype(np.int64), "i": np.asarray(mon.i)}
            for v in mon.record_variables:
                if v not in ("t", "i"):
                    d[v] = np.asarray(getattr(mon, v))
            out[name] = d
        return out

