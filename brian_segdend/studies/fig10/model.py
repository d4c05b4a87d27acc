"""Figure 10's compiled model: :class:`Fig10Model`.

Independent hidden-type neurons with basal and apical Poisson afferents, built from the
training network's equation files and layer builders and compiled once with
``cpp_standalone``; protocols, trials, g_a, rates and weights are ``run_args``.
"""

from __future__ import annotations

from pathlib import Path

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second

from ...model import learning as L
from ...model.contract import OPTIONAL_COMPARTMENTS, PLATEAU_CODE_FILES, run_values, validation_namespace
from ...model.equations import default_equation_dir, load_all, resolve_user_params
from ...model.layers import Builder, hidden_layer, input_layer, projection
from ...model.network import weight_recipe
from ...model.params import ModelParams, ParameterError
from ...model.schedule import pack_chunk
from ...standalone.compiled import CompiledNetwork, UsesCompiledNetwork
from .protocol import CONDITIONS, Fig10Config, apical_schedule, make_protocols

__all__ = ["Fig10Model"]


#: schedule arrays the learning code reads (see :mod:`brian_segdend.model.schedule`)
_LEARNING_SCHEDULE = ("win_f", "win_t", "n_f", "to_end", "end_f", "end_t")
#: the burst variant's code in :mod:`brian_segdend.model.learning` (its build key only)
_BURST_CODE = ("BURST_SOMA_VARS",)


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
        self.burst = p.plateau_code == "burst"
        # validated before any codegen; a plateau code's variant files only where it is used
        self.files = load_all(validation_namespace(), self.equation_dir, PLATEAU_CODE_FILES[p.plateau_code])
        self.user_values = resolve_user_params(self.files, self.params.user_params)   # the files' own parameters
        payload = {"fig10": cfg.build_key(), "dt": self.dt_ms, "record": record_conditions,
                   "files": {n: f.build_text for n, f in self.files.items() if n not in OPTIONAL_COMPARTMENTS},
                   "brian2": b2.__version__,
                   "learning": [getattr(L, n) for n in L.__all__
                                if isinstance(getattr(L, n), str) and n not in _BURST_CODE]}
        if self.burst:   # only added for the burst build: the default build keeps its hash
            on_plateau = self.files["hidden_burst"].directives["on_plateau"]
            payload["plateau_code"] = [p.plateau_code, *(getattr(L, n) for n in _BURST_CODE),
                                       L.hidden_end_f_burst(on_plateau), L.hidden_end_t_burst(on_plateau)]
        self.compiled = CompiledNetwork("fig10", payload, build_dir)
        self._setup()

    # ------------------------------------------------------------------ construction
    def _setup(self):
        p, cfg = self.params, self.cfg
        self.compiled.start()
        b2.defaultclock.dt = p.dt
        dt, steps = p.dt, self.steps
        # schedule arrays (names and meaning as in the training network) + stimulus schedules
        # (burst-coded plateaus also read the phase signal, schedule array 'teach')
        names = _LEARNING_SCHEDULE + (("teach",) if self.burst else ())
        self.ta = {name: b2.TimedArray(np.zeros(steps), dt=dt, name=f"sch_{name}") for name in names}
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
        d, s = hidden_layer(b, "hidden", self.N, plateau_code=p.plateau_code)
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
        arrays = {name: ch.arrays[name] for name in _LEARNING_SCHEDULE + (("teach",) if self.burst else ())}
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
        if self.burst:   # the memory at the update (N^t - N^f) and the target burst N^t
            out["M"] = np.asarray(self.soma.M[:])
            out["N_t"] = np.asarray(self.soma.N_burst[:])
            out["N_f"] = out["N_t"] - out["M"]
        if self.state_mon is not None:
            out["trace_t"] = np.asarray(self.state_mon.t / ms)
            for v in ("V", "V_a", "V_b"):
                out[f"trace_{v}"] = np.asarray(getattr(self.state_mon, v))
        return out
