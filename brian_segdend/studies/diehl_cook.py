"""Diehl & Cook (2015): unsupervised STDP network for MNIST, compiled with cpp_standalone.

Diehl P.U. & Cook M. (2015) Unsupervised learning of digit recognition using
spike-timing-dependent plasticity. *Front. Comput. Neurosci.* 9:99.
doi:10.3389/fncom.2015.00099

Used here as a baseline for the segregated-dendrite model (issue 9).

Network
-------
784 Poisson input neurons -> ``n_exc`` excitatory neurons (all-to-all, plastic, random
delays up to 10 ms) -> ``n_exc`` inhibitory neurons (one-to-one) -> back to every
excitatory neuron except the one that drives it (lateral inhibition). Excitatory neurons
have an adaptive threshold ``theta``. The equations are the editable files
``equations/diehl_cook/{excitatory,inhibitory,input,stdp}.eqs``.

Protocol (paper)
----------------
Each image is shown for 350 ms at a rate ``pixel * 63.75 Hz`` (pixel in 0..1), followed by
150 ms without input. If the excitatory layer fires fewer than 5 spikes while the image
is shown, the maximum rate is raised by 32 Hz and the image is shown again (after the
rest); this rule applies to training and testing alike. Before each new training image
the incoming weights of every excitatory neuron are scaled to sum to 78 (published
code). After training, learning and ``theta`` are frozen, each neuron
is assigned the class for which its mean response over one more pass of the training
set is highest, and a test image is classified as the class whose assigned neurons have
the highest mean response.

Compiled schedule
-----------------
No Python runs per example. A one-neuron group ``dc_schedule`` is a state machine
updated at the start of every step (``run_regularly``): it counts steps in the current
presentation, counts excitatory spikes (a Synapses pathway from the excitatory layer),
decides at the end of the presentation whether it is accepted, and at the end of the
rest either moves to the next image or repeats it with a higher rate. The other groups
read its state through linked variables; custom events (``fresh``, ``accept``) on the
excitatory group trigger the weight normalisation (Synapses pathways plus
``run_on_event``) and the recording of the response. When the last image's rest is
over, a small C++ function sets Brian2's ``Network::_globally_stopped`` so the binary
stops at once instead of idling to the end of the compiled duration. Images, their
number, presentation and rest lengths, rates, the learning switch, the seed, the
weights, delays and thresholds are all ``run_args`` of one compiled binary (one build
folder per configuration hash under :func:`brian_segdend.standalone.buildcache.build_root`), so
training, label assignment and testing of any size reuse it. A run shows at most
``capacity`` images; longer passes are split into several runs that carry the weights
and thresholds over.

Deviations from the paper
-------------------------
* STDP rule: the paper's Methods present several trace-based rules; we use the one in
  the authors' published simulation code (and Brian2's ``Diehl_Cook_2015`` example):
  depression ``nu_pre * x_post1`` at each presynaptic spike, potentiation
  ``nu_post * x_pre * x_post2`` at each postsynaptic spike, with hard bounds [0, 1].
* Refractoriness: the paper's 5 ms (excitatory) and 2 ms (inhibitory) periods. The
  published code additionally blocks excitatory spikes with a slowly growing timer (an
  effective ~50 ms refractoriness); not reproduced.
* The membrane state (``v``, conductances, traces) is re-initialised at the start of
  every run of the binary (every ``capacity`` images); the 150 ms rest makes this a
  small change. Weights and ``theta`` are carried over exactly.
* Weight normalisation happens before each new image, not before repeats of the same
  image (as in the published code).
* If a run reaches its compiled length before its last image is accepted (only with
  an extreme number of repeats), the unfinished image is shown again in the next run.
* Parameters the paper leaves to its published code are taken from there: dt = 0.5 ms,
  input delays U(0, 10 ms), weights exc->inh 10.4 and inh->exc 17, initial input weights
  U(0.003, 0.303), initial v 40 mV below rest, normalisation sum 78. The published code
  starts theta at 20 mV and subtracts a 20 mV offset in the threshold; here theta starts
  at 0 with no offset (the same threshold).
* Input delays are drawn once per network in NumPy (from ``seed``) and passed to the
  binary as the synaptic variable ``d_syn``, copied into the pathway delays at start-up:
  Brian2 cannot take pathway delays as ``run_args``.
* Sizes: the paper trains 100-6400 neurons on 60,000 images for 1-3 epochs; here the
  defaults are small (100 neurons, a few hundred to thousand images), so the error is
  much higher than the paper's 5-17%.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, mV, second

from ..model.equations import EquationFileError, equation_root, read_equation_file
from ..standalone.compiled import CompiledNetwork, UsesCompiledNetwork, stop_function
from ..training.data import load_mnist, subset
from ..training.safeio import atomic_open, atomic_write_text

__all__ = ["DiehlCookParams", "DiehlCookNetwork", "PassResult", "EquationFile", "load_equation_file",
           "assign_labels", "classify", "train_and_test", "N_INPUT", "N_CLASSES"]

N_INPUT = 784
N_CLASSES = 10


# ============================================================================ parameters
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


# ============================================================================ equation files
@dataclass
class EquationFile:
    """One ``equations/diehl_cook/*.eqs`` file: raw text, equations, ``#:`` directives and the
    paper's parameter values (``#: param``)."""

    path: Path
    text: str
    eq_text: str
    directives: dict
    params: dict = field(default_factory=dict)   # name -> Quantity or number

    @property
    def equations(self) -> b2.Equations:
        """The Brian2 equations of the file."""
        return b2.Equations(self.eq_text)


_DIRECTIVES = ("method", "threshold", "reset", "refractory", "on_pre", "on_post")


def default_equation_dir() -> Path:
    """Diehl & Cook's files: ``<equation_root()>/diehl_cook``."""
    return equation_root() / "diehl_cook"


def load_equation_file(name: str, directory=None) -> EquationFile:
    """Read ``<directory>/<name>.eqs`` in the project's dialect
    (:func:`brian_segdend.model.equations.read_equation_file`); errors are
    :class:`~brian_segdend.model.equations.EquationFileError` naming ``path:line:``."""
    read = read_equation_file(Path(directory or default_equation_dir()) / f"{name}.eqs", _DIRECTIVES, params=True)
    section = read.sections[""]
    try:
        b2.Equations(section.eq_text)
    except Exception as e:  # Brian2 raises several types
        raise EquationFileError(f"{read.path}:1: cannot parse the equations: {e}") from e
    return EquationFile(path=read.path, text=read.text, eq_text=section.eq_text,
                        directives={k: v[0] for k, v in section.directives.items()},
                        params={k: v[0] for k, v in read.params.items()})


# ============================================================================ analysis
def assign_labels(responses, labels, n_classes: int = N_CLASSES) -> np.ndarray:
    """Class of each neuron: the class with its highest mean response (paper, "Training").

    Parameters
    ----------
    responses : array (n_examples, n_neurons)
        Spike counts during the presentation of each example.
    labels : array (n_examples,)

    Returns
    -------
    array (n_neurons,) of int; classes absent from ``labels`` are never chosen.
    """
    responses = np.asarray(responses, dtype=float)
    labels = np.asarray(labels)
    if responses.ndim != 2 or len(responses) != len(labels):
        raise ValueError(f"responses {responses.shape} and labels {labels.shape} do not match")
    mean = np.full((n_classes, responses.shape[1]), -np.inf)
    for c in range(n_classes):
        sel = labels == c
        if sel.any():
            mean[c] = responses[sel].mean(axis=0)
    return np.argmax(mean, axis=0)


def classify(responses, assignments, n_classes: int = N_CLASSES) -> np.ndarray:
    """Predicted class per example: the class whose assigned neurons respond most on average."""
    responses = np.asarray(responses, dtype=float)
    assignments = np.asarray(assignments)
    score = np.full((len(responses), n_classes), -np.inf)
    for c in range(n_classes):
        sel = assignments == c
        if sel.any():
            score[:, c] = responses[:, sel].mean(axis=1)
    return np.argmax(score, axis=1)


# ============================================================================ network
_SCHEDULE_CODE = """
wrap = int(k >= n_present + n_rest)
ex += wrap*ok
boost = (1 - wrap)*boost + wrap*(1 - ok)*(boost + 1)
n_spikes = (1 - wrap)*n_spikes
k = (1 - wrap)*k
ok = (1 - wrap)*ok
begin = int(wrap + int(t < 0.5*dt) > 0)
done = int(ex >= n_examples)
fresh = begin*int(boost < 0.5)*(1 - done)
present = int(k < n_present)*(1 - done)
accept = int(k == n_present)*int(n_spikes >= min_spikes)
ok += accept
halted = dc_stop(done)
k += 1
"""


@dataclass
class PassResult:
    """What one pass (several runs of the binary) over a set of images returns."""

    responses: np.ndarray   # (n_images, n_exc) spike counts of the accepted presentation
    repeats: np.ndarray     # (n_images,) number of repeats before acceptance
    wall_s: float           # wall time of the runs (binary + argument files + reading results)
    sim_s: float            # simulated time
    runs: int


class DiehlCookNetwork(UsesCompiledNetwork):
    """The compiled Diehl & Cook network; one binary reused for every pass.

    Parameters
    ----------
    n_exc : int
        Excitatory (and inhibitory) neurons.
    params : DiehlCookParams, optional
    capacity : int
        Images per run of the binary (compiled array size).
    max_attempts : float
        The compiled run length is ``capacity * max_attempts`` presentations (an upper bound;
        the binary stops as soon as its images are done).
    build_dir : path, optional
        Default: ``build_root()/diehl-cook-<hash>``.
    equation_dir : path, optional
    seed : int
        Initial weights and delays.
    """

    def __init__(self, n_exc: int = 100, params: DiehlCookParams | None = None, capacity: int = 500,
                 max_attempts: float = 8.0, build_dir=None, equation_dir=None, seed: int = 0):
        self.n_exc = int(n_exc)
        if self.n_exc < 2:
            raise ValueError("n_exc must be at least 2")
        self.params = params or DiehlCookParams()
        self.capacity = int(capacity)
        self.files = {n: load_equation_file(n, equation_dir) for n in ("excitatory", "inhibitory", "input", "stdp")}
        p = self.params
        self.max_steps = int(self.capacity * max_attempts * (p.steps("t_present") + p.steps("t_rest")))
        payload = {"n_exc": self.n_exc, "capacity": self.capacity, "max_steps": self.max_steps,
                   "params": p.compiled(), "files": {n: f.text for n, f in self.files.items()},
                   "brian2": b2.__version__}
        self.compiled = CompiledNetwork("diehl-cook", payload, build_dir)
        self.compiled.sizes.update({"dc_input_exc": N_INPUT * self.n_exc, "dc_exc": self.n_exc})
        rng = np.random.default_rng(seed)
        self.n_syn = N_INPUT * self.n_exc
        # weight matrix convention: (n_input, n_exc), w[i, j] from pixel i to neuron j
        self.w = (rng.random((N_INPUT, self.n_exc)) + 0.01) * p.w_init_max
        self.delay = rng.random((N_INPUT, self.n_exc)) * float(p.max_delay / second)
        self.theta = np.zeros(self.n_exc)
        self._syn_order = None
        self._setup()
        self.compiled.build(log=print)

    # ------------------------------------------------------------------ construction
    def _setup(self):
        p = self.params
        self.compiled.start()
        b2.defaultclock.dt = p.dt
        self.stim = b2.TimedArray(np.zeros((self.capacity, N_INPUT)), dt=1 * second, name="dc_stim")
        ns = p.namespace()
        ns.update(dc_stim=self.stim, dc_stop=stop_function("dc_stop", stateless=False))
        F = self.files

        # --- the schedule (state machine, one neuron)
        self.ctrl = b2.NeuronGroup(1, """
ex : 1          # image being shown (row of dc_stim)
k : 1           # steps done in the current presentation + rest
boost : 1       # repeats of the current image so far
n_spikes : 1    # excitatory spikes while the image is shown
ok : 1          # current presentation accepted
accept : 1      # 1 at the step the presentation is judged and accepted
fresh : 1       # 1 at the first step of a new image
begin : 1       # 1 at the first step of every presentation
present : 1     # 1 while the image is shown
done : 1
halted : 1
n_examples : 1 (shared, constant)
n_present : 1 (shared, constant)
n_rest : 1 (shared, constant)
min_spikes : 1 (shared, constant)
rng_seed : 1 (shared, constant)
""", events={"accept": "accept > 0.5"}, namespace=ns, name="dc_schedule")
        self.ctrl.run_regularly(_SCHEDULE_CODE, when="start", order=0, name="dc_schedule_step")
        zeros = lambda n: np.zeros(n, dtype=int)

        # --- input
        fi = F["input"]
        self.inp = b2.NeuronGroup(N_INPUT, fi.eq_text + """
pixel = dc_stim(ex_s*second, i) : 1
ex_s : 1 (linked)
present : 1 (linked)
boost : 1 (linked)
rate_max : Hz (shared, constant)
rate_step : Hz (shared, constant)
""", threshold=fi.directives["threshold"], method=fi.directives["method"], namespace=ns, name="dc_input")
        self.inp.ex_s = b2.linked_var(self.ctrl, "ex", index=zeros(N_INPUT))
        self.inp.present = b2.linked_var(self.ctrl, "present", index=zeros(N_INPUT))
        self.inp.boost = b2.linked_var(self.ctrl, "boost", index=zeros(N_INPUT))

        # --- excitatory
        fe = F["excitatory"]
        self.exc = b2.NeuronGroup(self.n_exc, fe.eq_text + """
resp : 1         # spikes during the current presentation
wsum : 1         # summed input weight (normalisation)
wscale : 1
present : 1 (linked)
fresh_s : 1 (linked)
begin_s : 1 (linked)
accept_s : 1 (linked)
plastic : 1 (shared, constant)
w_total : 1 (shared, constant)
""", threshold=fe.directives["threshold"], reset=fe.directives["reset"],
            refractory=fe.directives["refractory"], method=fe.directives["method"],
            events={"fresh": "fresh_s > 0.5 and plastic > 0.5", "accept": "accept_s > 0.5"},
            namespace=ns, name="dc_exc")
        for var, src in (("present", "present"), ("fresh_s", "fresh"), ("begin_s", "begin"), ("accept_s", "accept")):
            setattr(self.exc, var, b2.linked_var(self.ctrl, src, index=zeros(self.n_exc)))
        self.exc.v = p.v_rest_e + p.v_init_offset
        self.exc.run_regularly("resp = resp*(1 - begin_s)", when="start", order=1, name="dc_exc_count_reset")
        self.exc.run_on_event("fresh", "wscale = w_total/wsum\nwsum = 0", when="after_thresholds", order=2)

        # --- inhibitory
        fh = F["inhibitory"]
        self.inh = b2.NeuronGroup(self.n_exc, fh.eq_text, threshold=fh.directives["threshold"],
                                  reset=fh.directives["reset"], refractory=fh.directives["refractory"],
                                  method=fh.directives["method"], namespace=ns, name="dc_inh")
        self.inh.v = p.v_rest_i + p.v_init_offset

        # --- synapses
        fs = F["stdp"]
        self.S_in = b2.Synapses(self.inp, self.exc, fs.eq_text + "\nd_syn : second  # delay (run_args)",
                                on_pre=fs.directives["on_pre"],
                                on_post={"post": fs.directives["on_post"], "wsum": "wsum_post += w",
                                         "norm": "w = w*wscale_post"},
                                on_event={"pre": "spike", "post": "spike", "wsum": "fresh", "norm": "fresh"},
                                method="exact", namespace=ns, name="dc_input_exc")
        self.S_in.connect()
        self.S_in.wsum.when, self.S_in.wsum.order = "after_thresholds", 1
        self.S_in.norm.when, self.S_in.norm.order = "after_thresholds", 3
        self.S_ei = b2.Synapses(self.exc, self.inh, on_pre="ge_post += w_exc_inh", namespace=ns, name="dc_exc_inh")
        self.S_ei.connect(j="i")
        self.S_ie = b2.Synapses(self.inh, self.exc, on_pre="gi_post += w_inh_exc", namespace=ns, name="dc_inh_exc")
        self.S_ie.connect("i != j")
        self.S_count = b2.Synapses(self.exc, self.ctrl, on_pre="n_spikes_post += present_post",
                                   namespace=ns, name="dc_count")
        self.S_count.connect()

        # --- monitors
        self.mon_resp = b2.EventMonitor(self.exc, "accept", variables=["resp"], name="dc_mon_resp")
        self.mon_boost = b2.EventMonitor(self.ctrl, "accept", variables=["boost"], name="dc_mon_boost")

        self.net = b2.Network(self.ctrl, self.inp, self.exc, self.inh, self.S_in, self.S_ei, self.S_ie,
                              self.S_count, self.mon_resp, self.mon_boost)

        def delays_from_run_args():
            # pathway delays cannot be run_args; copy them from a synaptic variable that can
            self.S_in.delay = "d_syn"

        self.compiled.generate(self.net, self.max_steps * p.dt, {}, self.ctrl.variables["rng_seed"],
                               after_run_args=delays_from_run_args)

    # ------------------------------------------------------------------ running
    @property
    def counts(self) -> dict:
        """Neuron and synapse counts."""
        return {"neurons": N_INPUT + 2 * self.n_exc, "neurons_input": N_INPUT, "neurons_exc": self.n_exc,
                "neurons_inh": self.n_exc, "synapses": self.n_syn + self.n_exc + self.n_exc * (self.n_exc - 1),
                "synapses_plastic": self.n_syn}

    def _to_syn(self, matrix) -> np.ndarray:
        if self._syn_order is None:   # connect() order: pre-major; verified after the first run
            return np.asarray(matrix).reshape(-1)
        i, j = self._syn_order
        return np.asarray(matrix)[i, j]

    def _run(self, images, plastic: bool, seed: int) -> tuple[int, np.ndarray, np.ndarray, float]:
        p = self.params
        n = len(images)
        stim = np.zeros((self.capacity, N_INPUT))
        stim[:n] = images
        w_syn, d_syn = self._to_syn(self.w), self._to_syn(self.delay)
        # (sizes checked by the lifecycle: Brian2 does not reject a wrong-sized run_args array)
        args = self.compiled.run_args([
            (self.ctrl, "n_examples", float(n)), (self.ctrl, "n_present", float(p.steps("t_present"))),
            (self.ctrl, "n_rest", float(p.steps("t_rest"))), (self.ctrl, "min_spikes", float(p.min_spikes)),
            (self.ctrl, "rng_seed", float(seed % (2 ** 31))),
            (self.inp, "rate_max", p.rate_max), (self.inp, "rate_step", p.rate_step),
            (self.exc, "plastic", float(plastic)), (self.exc, "w_total", p.w_total),
            (self.exc, "theta", self.theta * b2.volt),
            (self.S_in, "w", w_syn), (self.S_in, "d_syn", d_syn * second),
        ], {self.stim: stim})
        self.compiled.run(args)
        if self._syn_order is None:
            i, j = np.asarray(self.S_in.i[:]), np.asarray(self.S_in.j[:])
            if not (np.array_equal(i, np.repeat(np.arange(N_INPUT), self.n_exc))
                    and np.array_equal(j, np.tile(np.arange(self.n_exc), N_INPUT))):
                raise RuntimeError("unexpected synapse order; cannot map weights")
            self._syn_order = (i, j)
        done = int(round(float(self.ctrl.ex[0])))
        resp_i = np.asarray(self.mon_resp.i[:])
        resp_c = np.asarray(self.mon_resp.resp[:])
        n_acc = len(resp_i) // self.n_exc
        responses = np.zeros((n_acc, self.n_exc))
        responses[np.repeat(np.arange(n_acc), self.n_exc), resp_i[:n_acc * self.n_exc]] = resp_c[:n_acc * self.n_exc]
        boosts = np.asarray(self.mon_boost.boost[:])[:done]
        if plastic:
            w = np.zeros((N_INPUT, self.n_exc))
            w[self._syn_order] = np.asarray(self.S_in.w[:])
            self.w = w
            self.theta = np.asarray(self.exc.theta[:] / b2.volt)
        sim_s = float(b2.defaultclock.t / second)
        return done, responses[:done], boosts, sim_s

    def present(self, images, plastic: bool, seed: int = 0) -> PassResult:
        """Show ``images`` in order (training if ``plastic``), in runs of ``capacity`` images."""
        images = np.asarray(images, dtype=float)
        if images.ndim != 2 or images.shape[1] != N_INPUT:
            raise ValueError(f"images must have shape (n, {N_INPUT}), got {images.shape}")
        ss = np.random.SeedSequence([int(seed), int(plastic)])
        pos, runs, sim_s = 0, 0, 0.0
        resp, reps = [], []
        t0 = time.perf_counter()
        while pos < len(images):
            batch = images[pos:pos + self.capacity]
            run_seed = int(ss.spawn(1)[0].generate_state(1)[0])
            done, r, b, s = self._run(batch, plastic, run_seed)
            if done == 0:
                raise RuntimeError("a run of the binary finished no image; raise max_attempts")
            resp.append(r)
            reps.append(b)
            pos += done
            runs += 1
            sim_s += s
        wall = time.perf_counter() - t0
        return PassResult(responses=np.concatenate(resp), repeats=np.concatenate(reps), wall_s=wall,
                          sim_s=sim_s, runs=runs)


# ============================================================================ public entry point
def train_and_test(n_train: int, n_test: int, n_exc: int = 100, seed: int = 0, out_dir=None,
                   params: DiehlCookParams | None = None, mnist=None, network: DiehlCookNetwork | None = None,
                   capacity: int = 500) -> dict:
    """Train on ``n_train`` MNIST images, assign labels on the same images, test on ``n_test``.

    Parameters
    ----------
    n_train, n_test : int
        Images drawn class-stratified (:func:`brian_segdend.training.data.subset`) from the training
        set (with ``seed``) and the test set (with ``seed + 1``, as :mod:`brian_segdend.training.train`).
    n_exc : int
        Excitatory neurons (default 100; the paper uses 100-6400).
    seed : int
        Data subset, initial weights, delays and Poisson input.
    out_dir : path, optional
        If given, ``diehl_cook_<n_exc>_<n_train>.json`` (the returned numbers) and an
        ``.npz`` with weights, thresholds and assignments are written there.
    params : DiehlCookParams, optional
        E.g. a shorter ``t_present`` for smoke tests (runtime parameters do not recompile).
    mnist : MNIST, optional
        Preloaded data (default :func:`brian_segdend.training.data.load_mnist`).
    network : DiehlCookNetwork, optional
        A compiled network to reuse (same ``n_exc`` and compiled parameters); its weights,
        delays and thresholds are re-initialised from ``seed``.

    Returns
    -------
    dict with ``test_error``, ``train_error`` (on the assignment pass), ``train_wall_s``,
    ``train_examples_per_s``, ``assign_wall_s``, ``test_wall_s``, ``build_s``, neuron and
    synapse counts, mean repeats, ``theta_mean_mV``, and the sizes and seed.
    """
    if n_train < 1 or n_test < 1:
        raise ValueError("n_train and n_test must be positive")
    data = mnist if mnist is not None else load_mnist()
    x_tr, y_tr, _ = subset(data.train_images, data.train_labels, n_train, seed)
    x_te, y_te, _ = subset(data.test_images, data.test_labels, n_test, seed + 1)   # as brian_segdend.training.train
    t_build = time.perf_counter()
    if (network is None or network.n_exc != n_exc
            or (params is not None and network.params.compiled() != params.compiled())):
        network = DiehlCookNetwork(n_exc=n_exc, params=params, capacity=capacity, seed=seed)
    else:
        if params is not None:   # only runtime parameters differ: same binary
            network.params = params
        rng = np.random.default_rng(seed)
        p = network.params
        network.w = (rng.random((N_INPUT, network.n_exc)) + 0.01) * p.w_init_max
        network.delay = rng.random((N_INPUT, network.n_exc)) * float(p.max_delay / second)
        network.theta = np.zeros(network.n_exc)
    build_s = time.perf_counter() - t_build
    w0 = network.w.copy()
    train = network.present(x_tr, plastic=True, seed=seed)
    assign = network.present(x_tr, plastic=False, seed=seed + 1)
    assignments = assign_labels(assign.responses, y_tr)
    test = network.present(x_te, plastic=False, seed=seed + 2)
    pred = classify(test.responses, assignments)
    train_pred = classify(assign.responses, assignments)
    result = {
        "model": "diehl_cook",
        "n_train": int(n_train), "n_test": int(n_test), "n_exc": int(n_exc), "seed": int(seed),
        "test_error": float(np.mean(pred != y_te)),
        "train_error": float(np.mean(train_pred != y_tr)),
        "train_wall_s": train.wall_s,
        "train_examples_per_s": n_train / train.wall_s,
        "assign_wall_s": assign.wall_s, "test_wall_s": test.wall_s,
        "build_s": build_s,
        "train_sim_s": train.sim_s, "train_runs": train.runs,
        "mean_repeats_train": float(train.repeats.mean()), "mean_repeats_test": float(test.repeats.mean()),
        "weight_change_mean_abs": float(np.abs(network.w - w0).mean()),
        "theta_mean_mV": float(network.theta.mean() * 1e3),
        "assignments_per_class": np.bincount(assignments, minlength=N_CLASSES).tolist(),
        "build_hash": network.build_hash,
        **network.counts,
    }
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"diehl_cook_{n_exc}_{n_train}"
        atomic_write_text(out / f"{stem}.json", json.dumps(result, indent=2))
        with atomic_open(out / f"{stem}.npz") as f:
            np.savez_compressed(f, w=network.w, theta=network.theta, assignments=assignments,
                                test_pred=pred, test_labels=y_te)
    return result
