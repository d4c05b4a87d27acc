"""Diehl & Cook's compiled network: :class:`DiehlCookNetwork` and :class:`PassResult`.

One ``cpp_standalone`` binary per configuration hash; a compiled state machine
(``dc_schedule``) runs the presentation/rest/repeat protocol without Python per example.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import brian2 as b2
import numpy as np
from brian2 import second

from ...standalone.compiled import CompiledNetwork, UsesCompiledNetwork, stop_function
from .files import load_equation_file
from .params import N_INPUT, DiehlCookParams

__all__ = ["PassResult", "DiehlCookNetwork"]


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
