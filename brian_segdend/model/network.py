"""The segregated-dendrite network in Brian2, with the whole training loop compiled.

Structure (docs/MODEL.md): input Poisson layer -> hidden layers of three-compartment neurons
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
* ``Y{k}``             Synapses from the output soma to hidden layer k's apical dendrites (spikes;
  with ``feedback_signal = 'rates'`` a summed variable of the output rates, ``hidden_apical_rates.eqs``)

Dendrites update before somas in each step (``order``), so a soma integrates the
dendritic potential of the same step (docs/MODEL.md's update order).

Phases, averages, plateaus and learning are compiled Brian2 operations: per-step
schedule arrays (:mod:`brian_segdend.model.schedule`) drive ``run_regularly`` accumulators and
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

import gc
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import brian2 as b2
import numpy as np
from brian2 import ms, second

from ..standalone import fastrng
from ..standalone.compiled import CompiledNetwork, UsesCompiledNetwork, stop_function
from . import learning as L
from .contract import OPTIONAL_COMPARTMENTS, PLATEAU_CODE_FILES, run_values, validation_namespace
from .equations import default_equation_dir, load_all, resolve_user_params
from .layers import Builder, cutoff_statements, hidden_layer, input_layer, kernel_cutoffs, output_layer, projection, rate_projection
from .learning import RULE_UNIT
from .params import KERNEL_CUTOFF, ModelParams, ParameterError
from .recording import Recorded, Recording, SealedNetwork
from .schedule import SCHEDULE_ARRAYS, ChunkSchedule

__all__ = ["SegDendNetwork", "ChunkResult", "initial_weights", "weight_recipe", "RULE_UNIT", "sigmoid",
           "LEARNING_RECORD_EVENT", "LEARNING_RECORD_VARS"]

#: the custom event of ``SegDendNetwork(learning_records=True)``: a selected example's learning step
LEARNING_RECORD_EVENT = "rec_t"
#: what the learning records hold per layer (docs/MODEL.md names)
LEARNING_RECORD_VARS = {"hidden": ("Vbar_f", "alpha_f", "alpha_t", "sbar", "E"), "input": ("sbar",),
                        "output": ("Vbar_f", "phi_star", "E")}

def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x))."""
    return 1.0 / (1.0 + np.exp(-x))


# ----------------------------------------------------------------------------- weights
def weight_recipe(n_in: int, params: ModelParams, rate_frac: float | None = None) -> tuple[float, float]:
    """docs/MODEL.md's initial-weight recipe: (W_avg, W_sd) in ms for a layer with n_in inputs.

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
    (docs/MODEL.md). A layer fed by the input layer uses nu = ``init_rate_frac`` phi_max (the
    recipe's 0.25); a layer fed by a hidden layer uses ``init_rate_frac_hidden`` (0.66, the
    measured mean rate of a hidden layer with the exact kernel), so its voltages start in the
    recipe's range instead of saturating (README, "Initial weights"). Variants (Fig. 8): sparse (80% zeros,
    rest x5), sparse_noscale (80% zeros, not rescaled), symmetric (Y = W_top^T), symmetric plus noise.
    ``init_weight_scale`` multiplies W and Y (not the biases).
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
    for _k, n_h in enumerate(params.hidden):
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


@dataclass
class ChunkResult:
    """What one compiled run returns."""

    schedule: ChunkSchedule
    out_Vbar_f: np.ndarray        # (n_examples, n_output) forward-window mean somatic voltage
    wall_s: float
    records: dict = field(default_factory=dict)   # optional verification records
    recorded: Recorded | None = None              # what the network's Recording declared (with units)


class SegDendNetwork(UsesCompiledNetwork):
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
        :func:`brian_segdend.standalone.buildcache.build_root`.
    record : bool
        Also record per-example window averages, plateaus and errors at each learning
        step (used by the verification tests).
    equation_dir : path, optional
        Folder with the ``.eqs`` files.
    dense : bool, optional
        All-to-all spike delivery and weight updates as contiguous loops
        (:mod:`brian_segdend.standalone.dense`; about 2x faster training). Default: on for
        ``cpp_standalone`` (the only device that has them).
    fast_rng : bool
        Opt-in: ``rand()`` from :mod:`brian_segdend.standalone.fastrng` (xoshiro256+) instead of Brian2's
        generator (cpp_standalone only; +3% measured).
    precision : {'float64', 'float32'}
        Floating-point type of every state variable, weight and parameter in the compiled code
        (Brian2's ``core.default_float_dtype``). float32 trains about 13% faster (memory traffic
        of the weight rows); the compiled rule then matches NumPy to float32 rounding
        (``tests/test_network.py``). cpp_standalone only.
    recording : Recording, optional
        State variables and spikes to record (:mod:`brian_segdend.model.recording`), declared
        before the build; each run's values come back in ``ChunkResult.recorded`` with units.
        Adding a Brian2 object to ``net`` after the build raises ``LateAdditionError``.
    learning_records : bool
        Opt-in (its own build; the default build is unchanged): record, at the end of the target
        phase of the chunk rows chosen per run (``run_chunk(..., record_rows=...)``, default all),
        each hidden layer's alpha^f, alpha^t, forward averages Vbar^f and sbar^f and error E, the
        input layer's sbar^f and the output layer's Vbar^f, target phi^1* and error E. Compiled:
        a custom event ``rec_t`` (``end_t`` and the row selected) with EventMonitors in the
        ``end`` slot, after the weight updates. Returned in ``ChunkResult.records["learning"]``
        (:meth:`read_learning_records`).
    """

    def __init__(self, params: ModelParams, chunk_steps: int = 100_000, device: str = "cpp_standalone",
                 build_dir=None, record: bool = False, equation_dir=None, record_state: bool = False,
                 dense: bool | None = None, fast_rng: bool = False, precision: str = "float64",
                 recording: Recording | None = None, learning_records: bool = False):
        if params.feedback in ("symmetric", "symmetric_noise") and len(params.hidden) > 1:
            raise ParameterError("parameter 'feedback': symmetric feedback is implemented for one hidden layer only")
        if device not in ("cpp_standalone", "runtime"):
            raise ParameterError(f"parameter 'device': must be 'cpp_standalone' or 'runtime', got {device!r}")
        self.params = params
        self.device_name = device
        self.chunk_steps = int(chunk_steps)
        self.record = record
        self.record_state = record_state
        self.recording = recording if recording else None
        self.learning_records = bool(learning_records)
        # dense all-to-all kernels (brian_segdend.standalone.dense): compiled code only
        self.dense = (device == "cpp_standalone") if dense is None else bool(dense)
        if self.dense and device != "cpp_standalone":
            raise ParameterError("parameter 'dense': the dense kernels exist only on the cpp_standalone device")
        self.dense_paths = {}   # pathway name -> "dense" or "generic"
        # opt-in: rand() from brian_segdend.standalone.fastrng (xoshiro256+) instead of Brian2's mt19937
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
        # EquationFileError before any codegen; a plateau code's variant files only where it is used
        self.files = load_all(validation_namespace(), self.equation_dir, PLATEAU_CODE_FILES[params.plateau_code])
        # parameters declared in the files: run arguments like the model's own (ParameterError before any codegen)
        self.user_values = resolve_user_params(self.files, params.user_params, "user_params")
        self.runtime_values = run_values(params) | self.user_values
        if params.feedback_signal == "rates" and "hidden_apical_rates" not in self.files:
            raise ParameterError(f"parameter 'feedback_signal': 'rates' needs {self.equation_dir / 'hidden_apical_rates.eqs'}"
                                 f", which is missing")
        self._n_runs = 0
        payload = {
            "sizes": params.layer_sizes, "dt": float(params.dt / ms), "steps": self.chunk_steps,
            "capacity": self.capacity, "record": record, "record_state": record_state, "dense": self.dense,
            "fast_rng": fastrng.header_text() if self.fast_rng else False, "precision": precision,
            # without '#: param' values; an optional file only where this build uses it
            "files": {n: f.build_text for n, f in self.files.items() if n in self._used_files()},
            "brian2": b2.__version__, "device": device,
            # the flags the build will use: configure_standalone_build adds -funroll-loops once per
            # process, so add it here only where it is missing (else the first network of a process
            # and the later ones got two hashes, two folders and two compiles of one network)
            "compile_args": _with_unroll(b2.prefs.codegen.cpp.extra_compile_args_gcc),
            "kernel": params.kernel if params.kernel == "exact" else [params.kernel, float(KERNEL_CUTOFF / ms)],
        }
        if self.recording is not None:       # its own build (no key: existing builds keep their hashes)
            payload["recording"] = self.recording.key()
        if params.feedback in ("symmetric", "symmetric_noise"):
            # learned feedback compiles a Y update the fixed variants lack: its own build folder, so
            # that parallel runs of both kinds never rebuild a folder under each other's feet
            # (only added here, so the fixed variants keep their existing build hashes)
            payload["feedback"] = "learned"
        if self.learning_records:
            payload["learning_records"] = True   # only added when on: the default build keeps its hash
        if params.feedback_signal != "spikes":
            payload["feedback_signal"] = params.feedback_signal   # only added when not the default
        if params.plateau_code != "rate":
            payload["plateau_code"] = params.plateau_code   # likewise (its file is in "files" too)
        self.compiled = CompiledNetwork("net", payload, build_dir)
        self._setup()

    def _used_files(self) -> set:
        """The equation files this build uses (the optional ones only where its options need them)."""
        used = set(self.files) - set(OPTIONAL_COMPARTMENTS)
        if self.params.feedback_signal == "rates" and self.params.hidden:
            used = (used - {"hidden_apical"}) | {"hidden_apical_rates"}
        return used & set(self.files)

    # ------------------------------------------------------------------ parameters
    def set_params(self, params: ModelParams):
        """Change runtime parameters (no recompile). Sizes and dt must not change."""
        if params.layer_sizes != self.params.layer_sizes or params.dt != self.params.dt:
            raise ParameterError("set_params: layer sizes and dt are fixed by the build; make a new network")
        if params.feedback != self.params.feedback:
            raise ParameterError("set_params: the feedback variant is fixed by the build; make a new network")
        if params.feedback_signal != self.params.feedback_signal:
            raise ParameterError("set_params: the feedback signal (spikes or rates) is fixed by the build; make a new network")
        if params.kernel != self.params.kernel:
            raise ParameterError("set_params: the kernel is fixed by the build; make a new network")
        if params.plateau_code != self.params.plateau_code:
            raise ParameterError("set_params: the plateau code is fixed by the build; make a new network")
        user_values = resolve_user_params(self.files, params.user_params, "user_params")
        self.settle_steps = int(round(float(params.settle / params.dt)))
        self.params = params
        self.user_values = user_values
        self.runtime_values = run_values(params) | user_values

    # ------------------------------------------------------------------ construction
    _active = None   # the network that currently owns Brian2's device (weak reference)

    def release(self):
        """Drop this network's Brian2 objects.

        A new network then gets the same object names (and so the same generated code, and no
        recompile). Called automatically
        when another network is created in the same process.
        """
        for attr in ("net", "input", "dend", "soma", "out_dend", "out_soma", "W", "Y", "ta", "images",
                     "labels", "mon_out_f", "rec", "state_mon", "user_mon", "rec_select", "lrec", "_shared_vars",
                     "_dynamic_vars", "namespace"):
            if hasattr(self, attr):
                setattr(self, attr, None)
        self._released = True
        gc.collect()

    def _setup(self):
        previous = SegDendNetwork._active() if SegDendNetwork._active is not None else None
        if previous is not None and previous is not self:
            previous.release()
        SegDendNetwork._active = weakref.ref(self)
        self._released = False
        p = self.params
        if self.device_name == "cpp_standalone":
            self.compiled.start(float_dtype=np.dtype(self.precision).type)
        else:
            b2.prefs.core.default_float_dtype = np.float64
            b2.device.reinit()
            b2.set_device("runtime")
            b2.prefs.codegen.target = "numpy"
            b2.prefs.core.stop_on_keyboard_interrupt = False   # Ctrl-C interrupts (see buildcache)
        gc.collect()   # after the device forgot the previous network's code objects: free their names
        b2.defaultclock.dt = p.dt
        dt = p.dt
        n_steps = self.chunk_steps
        # --- schedule and stimulus arrays (values replaced on every run)
        self.ta = {name: b2.TimedArray(np.zeros(n_steps), dt=dt, name=f"sch_{name}") for name in SCHEDULE_ARRAYS}
        self.images = b2.TimedArray(np.zeros((self.capacity, p.n_input)), dt=1 * second, name="stim_images")
        self.labels = b2.TimedArray(np.zeros(self.capacity), dt=1 * second, name="stim_labels")
        ns = {f"sch_{k}": v for k, v in self.ta.items()}
        ns.update(stim_images=self.images, stim_labels=self.labels, RULE_UNIT=RULE_UNIT,
                  stop_simulation=stop_function("stop_simulation"), kernel_cutoff=KERNEL_CUTOFF)
        truncated = p.kernel == "truncated"
        self.namespace = ns
        phase_events = None
        if self.learning_records:
            # one entry per chunk row: 1 = record this example's learning step (run_chunk's record_rows)
            self.rec_select = b2.TimedArray(np.zeros(self.capacity), dt=1 * second, name="rec_select")
            ns["rec_select"] = self.rec_select
            phase_events = {LEARNING_RECORD_EVENT: "sch_end_t(t) > 0.5 and rec_select(sch_ex(t)*second) > 0.5"}
        b = Builder(self.files, ns, dense=self.dense, truncated=truncated, test_reset=True, phase_events=phase_events)
        self.dense_paths = b.dense_paths
        self.input = input_layer(b, "input", p.n_input, "images", stop=True)
        self.dend, self.soma = [], []
        for k, n_h in enumerate(p.hidden):
            d, s = hidden_layer(b, f"hidden{k}", n_h, rate_feedback=p.feedback_signal == "rates",
                                plateau_code=p.plateau_code)
            self.dend.append(d)
            self.soma.append(s)
        self.out_dend, self.out_soma = output_layer(b, p.n_output)

        # ---------------- synapses
        spiking = [self.input] + self.soma
        targets = self.dend + [self.out_dend]
        self.W = []
        for k, (src, tgt) in enumerate(zip(spiking, targets)):
            on_pre_file = self.files["hidden_basal" if k < len(p.hidden) else "output_dendrite"]
            self.W.append(projection(b, f"W{k}", src, tgt, "W_hidden" if k < len(p.hidden) else "W_output",
                                     on_pre_file.directives["on_pre"], L.WEIGHT_UPDATE,
                                     cutoff=cutoff_statements(on_pre_file, "on_pre_cutoff") if truncated else None))
        self.Y = []
        symmetric = p.feedback in ("symmetric", "symmetric_noise")
        apical = self.files["hidden_apical"]
        for k, d in enumerate(self.dend):
            if p.feedback_signal == "rates":
                # rate feedback: no spikes travel; the summed variable fb_rate = sum_j Y_ij phi1_j
                # is recomputed every step (hidden_apical_rates.eqs)
                self.Y.append(rate_projection(b, f"Y{k}", self.out_soma, d))
                continue
            self.Y.append(projection(b, f"Y{k}", self.out_soma, d, "Y_symmetric" if symmetric else "Y",
                                     apical.directives["on_pre"], L.FEEDBACK_UPDATE if symmetric else None,
                                     cutoff=cutoff_statements(apical, "on_pre_cutoff") if truncated else None))
        if truncated:   # each spiking group's own filtered train s (kernel.eqs) ends after the cutoff too
            kernel_cutoffs(b, spiking)
        self._shared_vars = b.shared
        self.compiled.sizes.update(b.sizes)
        objs = b.objects

        # ---------------- monitors
        self.mon_out_f = b2.EventMonitor(self.out_soma, "end_f", variables=["Vbar_f"], when="end", name="mon_out_f")
        objs.append(self.mon_out_f)
        self.rec = {}
        if self.record:
            for k, s in enumerate(self.soma):
                self.rec[f"hidden{k}"] = b2.EventMonitor(s, "end_t", variables=["Vbar_f", "alpha_f", "alpha_t", "sbar", "E"]
                                                         + (["M", "N_burst"] if p.plateau_code == "burst" else []),
                                                         when="end", name=f"rec_hidden{k}")
            self.rec["input"] = b2.EventMonitor(self.input, "end_t", variables=["sbar"], when="end", name="rec_input")
            self.rec["output"] = b2.EventMonitor(self.out_soma, "end_t", variables=["Vbar_f", "phi_star", "E"],
                                                 when="end", name="rec_output")
            objs.extend(self.rec.values())
        self.lrec = {}
        if self.learning_records:
            objs.extend(self._learning_monitors())
        self.state_mon = {}
        if self.record_state:
            self.state_mon["output"] = b2.StateMonitor(self.out_soma, ["V", "V_b"], record=True, name="st_output", when="after_groups")
            for k, (_d, s) in enumerate(zip(self.dend, self.soma)):
                self.state_mon[f"hidden{k}"] = b2.StateMonitor(s, ["V", "V_b", "V_a"], record=True, name=f"st_hidden{k}",
                                                               when="after_groups")
            self.state_mon["input"] = b2.StateMonitor(self.input, ["s"], record=True, name="st_input", when="after_groups")
            objs.extend(self.state_mon.values())

        self.user_mon = {}
        if self.recording is not None:
            groups = {g.name: g for g in [self.input, *self.dend, *self.soma, self.out_dend, self.out_soma]}
            self.user_mon = self.recording.monitors(groups, dt)
            objs.extend(self.user_mon.values())

        self.net = SealedNetwork(objs)
        self._dynamic_vars = self._collect_dynamic_vars()
        if self.device_name == "cpp_standalone":
            self.compiled.generate(self.net, self.chunk_steps * dt, ns, self.input.variables["rng_seed"],
                                   fast_rng=self.fast_rng)
        else:
            self.net.store("start")
        self.net.seal("the network's code is generated when it is made, so an object added later would never "
                      "run (a SpikeMonitor would record nothing). Declare recordings before the build: "
                      "SegDendNetwork(params, recording=Recording().state('hidden0_soma', ['V'], neurons=[0, 1])"
                      ".spikes('output')) and read ChunkResult.recorded after run_chunk")

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
        if self.device_name == "cpp_standalone":
            self.compiled.build(log=log)

    # ------------------------------------------------------------------ running
    def _runtime_param_values(self) -> dict:
        rv = self.runtime_values
        out = {}
        for g, name in self._shared_vars:
            out[(g, name)] = rv[name]
        return out

    def run_chunk(self, state: dict, images: np.ndarray, labels: np.ndarray, schedule: ChunkSchedule,
                  seed: int, record_rows=None) -> tuple[dict, ChunkResult]:
        """Run one chunk from ``state`` (weights, biases, dynamic variables); return the new state.

        ``images`` must hold at least ``schedule.n_examples`` rows (the rest is blanked).
        ``record_rows`` (a ``learning_records`` build only): the chunk rows whose learning step is
        recorded (default: every row).
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
        if self.learning_records:
            self._selection = self._record_selection(n, record_rows)
            values[self.rec_select] = self._selection
        elif record_rows is not None:
            raise ParameterError("run_chunk: record_rows needs a network built with learning_records=True")
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
            # (Brian2 refuses run_args for TimedArrays no code reads, e.g. sch_to_end without hidden layers)
            self.compiled.run(self.compiled.run_args(assignments, values))
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
        if self.recording is not None:
            result.recorded = self.recording.read(self.user_mon)
        if self.learning_records:
            result.records["learning"] = self.read_learning_records(schedule)
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


    # ------------------------------------------------------------------ learning records (opt-in)
    def _learning_monitors(self) -> list:
        """EventMonitors of the ``rec_t`` event (``learning_records=True``), in the ``end`` slot."""
        extra = ["M", "N_burst"] if self.params.plateau_code == "burst" else []   # burst memory at the update
        for k, s in enumerate(self.soma):
            self.lrec[f"hidden{k}"] = b2.EventMonitor(s, LEARNING_RECORD_EVENT,
                                                      variables=list(LEARNING_RECORD_VARS["hidden"]) + extra,
                                                      when="end", name=f"lrec_hidden{k}")
        self.lrec["input"] = b2.EventMonitor(self.input, LEARNING_RECORD_EVENT, variables=list(LEARNING_RECORD_VARS["input"]),
                                             when="end", name="lrec_input")
        self.lrec["output"] = b2.EventMonitor(self.out_soma, LEARNING_RECORD_EVENT,
                                              variables=list(LEARNING_RECORD_VARS["output"]), when="end", name="lrec_output")
        return list(self.lrec.values())

    def _record_selection(self, n: int, rows) -> np.ndarray:
        sel = np.zeros(self.capacity)
        if rows is None:
            sel[:n] = 1.0
        else:
            rows = np.asarray(rows, dtype=np.int64).reshape(-1)
            if rows.size and (rows.min() < 0 or rows.max() >= n):
                raise ParameterError(f"run_chunk: record_rows must be chunk rows 0..{n - 1}")
            sel[rows] = 1.0
        return sel

    def read_learning_records(self, schedule: ChunkSchedule) -> dict:
        """The last run's learning records (``learning_records=True``), one row per recorded example.

        Returns
        -------
        dict
            ``rows`` (chunk rows recorded, ascending), ``steps`` (their learning steps),
            ``hidden`` (list per hidden layer of dicts ``Vbar_f``, ``alpha_f``, ``alpha_t``,
            ``sbar``, ``E``, each (n_recorded, n_units)), ``input`` (``sbar``) and ``output``
            (``Vbar_f``, ``phi_star``, ``E``). Numbers in the paper's units (docs/MODEL.md):
            voltages and plateaus plain, rates and hidden E in 1/ms, the output E in 1/ms^2,
            so that ``eta * P * E * sbar`` is a weight change in ms.
        """
        rows = np.flatnonzero(self._selection[:schedule.n_examples] > 0.5)
        steps = schedule.end_t_steps[rows]
        pos = {int(st): r for r, st in enumerate(steps)}
        out = {"rows": rows, "steps": steps, "hidden": []}
        for name, mon in self.lrec.items():
            t = np.round(np.asarray(mon.t_) / float(self.dt)).astype(np.int64)
            i = np.asarray(mon.i)
            r = np.array([pos.get(int(tt), -1) for tt in t], dtype=np.int64)
            if np.any(r < 0):
                raise RuntimeError(f"learning record {name}: an event outside the selected learning steps")
            d = {}
            for v in mon.record_variables:
                q = getattr(mon, v)
                time_dim = b2.get_dimensions(q).get_dimension("s")   # rates: -1, output E: -2
                vals = np.asarray(q) * (1e-3 ** -time_dim if time_dim else 1.0)   # SI -> per ms
                arr = np.full((len(rows), mon.source.N), np.nan)
                arr[r, i] = vals
                d[v] = arr
            if name.startswith("hidden"):
                out["hidden"].append(d)
            else:
                out[name] = d
        return out
