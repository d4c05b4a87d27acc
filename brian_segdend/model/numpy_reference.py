"""The segregated-dendrite network as a plain NumPy time-stepped simulation (benchmark baseline).

This is the network of ``brian_segdend.model.network`` written the way a careful user would write
it without Brian2: state vectors, one dense matrix-vector product per weight matrix and
step, in-place updates. It follows docs/MODEL.md and the equation files step for step:

* numbers in the paper's units (ms, spikes/ms, plain voltages), float64;
* exact kernel as two decaying variables per dendrite (``x`` -> ``y`` cascade, the
  ``exact`` solution of ``hidden_basal.eqs``) and per spiking neuron (``k_L``, ``k_s``,
  ``kernel.eqs``);
* somas by exponential Euler (exact for the linear ODE with the dendrites held constant
  over the step), as Brian2 integrates ``hidden_soma.eqs`` / ``output_soma.eqs``;
* Brian2's order within a step: state updates (dendrites, then somas), window
  accumulators, thresholds (Poisson spikes), synaptic increments, kernel resets, then at a
  phase's last step: window means, plateaus, errors, and the bias and weight updates;
* the same phases (forward, then target with teaching conductances), windows (settle, then
  to the phase end), plateaus (sigmoid of the window-mean apical voltage) and learning rule
  (``brian_segdend.model.learning``). The plateau-time variant is not implemented (default off).

Random numbers come from NumPy, so runs agree with Brian2 in distribution, not bitwise
(``tests/test_numpy_reference.py`` checks summary statistics).
"""

from __future__ import annotations

import numpy as np
from brian2 import ms

__all__ = ["NumpyNetwork"]


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


class NumpyNetwork:
    """Plain NumPy simulation of the segregated-dendrite network.

    Parameters
    ----------
    params : brian_segdend.model.params.ModelParams
    state : dict
        ``{"W": [...], "b": [...], "Y": [...]}`` as returned by
        :func:`brian_segdend.model.network.initial_weights` (W in ms, shape (n_post, n_pre)).
        Copied; the dynamic state starts at zero (as in a fresh Brian2 run).
    """

    def __init__(self, params, state):
        p = params
        if float(p.plateau_sd / ms) > 0:
            raise NotImplementedError("the plateau-time variant is not implemented in the NumPy reference")
        self.p = p
        self.dt = dt = float(p.dt / ms)
        self.phi_max = float(p.phi_max * ms)                # spikes per ms
        self.tau_s, self.tau_L = float(p.tau_s / ms), float(p.tau_L / ms)
        self.g_l, self.g_b, self.g_a, self.g_d = (float(g * ms) for g in (p.g_l, p.g_b, p.g_a, p.g_d))
        self.E_E, self.E_I = float(p.E_E), float(p.E_I)
        self.settle = int(round(float(p.settle / p.dt)))
        self.eta = list(p.learning_rates)
        # burst-coded plateaus (plateau_code = 'burst'): N ~ Poisson(k alpha) per plateau, drawn from the run's rng
        self.burst = p.plateau_code == "burst"
        self.k_burst = float(p.burst_scale)
        self.P0 = float(p.P_hidden_factor) / self.phi_max
        self.P1 = float(p.P_output_factor) / self.phi_max ** 2
        self.W = [np.array(w, dtype=np.float64) for w in state["W"]]
        self.b = [np.array(b, dtype=np.float64) for b in state["b"]]
        self.Y = [np.array(y, dtype=np.float64) for y in state["Y"]]
        self.n_hidden = len(p.hidden)
        self.sizes = p.layer_sizes
        # exact decay factors of the kernel cascade (x -> y) and of the kernel pair (k_L, k_s)
        self.ds = np.exp(-dt / self.tau_s)
        self.dL = np.exp(-dt / self.tau_L)
        self.cxy = self.tau_s * (np.exp(-dt / self.tau_L) - np.exp(-dt / self.tau_s)) / (self.tau_L - self.tau_s)
        self.kinc = 1.0 / (self.tau_L - self.tau_s)
        # dynamic state
        nh = p.hidden
        self.in_kL = np.zeros(p.n_input)
        self.in_ks = np.zeros(p.n_input)
        self.h = [dict(xb=np.zeros(n), yb=np.zeros(n), xa=np.zeros(n), ya=np.zeros(n), V=np.zeros(n),
                       kL=np.zeros(n), ks=np.zeros(n)) for n in nh]
        self.o = dict(xb=np.zeros(p.n_output), yb=np.zeros(p.n_output), V=np.zeros(p.n_output))
        self.counts = {"input_spikes": 0, "hidden_spikes": [0] * len(nh), "output_spikes": 0, "steps": 0}

    def state(self) -> dict:
        """Weights and biases in the format of :func:`brian_segdend.model.network.initial_weights`."""
        return {"W": [w.copy() for w in self.W], "b": [b.copy() for b in self.b], "Y": [y.copy() for y in self.Y]}

    # ------------------------------------------------------------------ one example
    def run(self, images, labels, lengths, rng: np.random.Generator, train: bool = True, record: bool = False) -> dict:
        """Present examples one after the other (no gap), as a compiled chunk does.

        ``lengths``: (n, 2) forward/target steps for training, (n,) forward steps for testing.
        Returns ``out_Vbar_f`` (n, n_output) and, with ``record``, per-example window
        averages, plateaus and errors (docs/MODEL.md names, ms-based units).
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        if not train:
            lengths = np.stack([lengths.reshape(-1), np.zeros(len(lengths), np.int64)], axis=1)
        n = len(lengths)
        nh, nk = self.p.hidden, self.n_hidden
        out_f = np.zeros((n, self.p.n_output))
        rec = None
        if record:
            rec = {"hidden": [{k: [] for k in ("Vbar_f", "alpha_f", "alpha_t", "sbar", "E")} for _ in nh],
                   "output": {k: [] for k in ("Vbar_f", "phi_star", "E")}, "input": {"sbar": []}}
        dt, phi_max, tau_s = self.dt, self.phi_max, self.tau_s
        ds, dL, cxy, kinc = self.ds, self.dL, self.cxy, self.kinc
        Gh = self.g_l + self.g_b + self.g_a
        eh = np.exp(-Gh * dt)
        n_out = self.p.n_output
        # per-layer scratch
        Ws = [w / tau_s for w in self.W]       # weights scaled for the x increment (w / tau_s)
        Ys = [y / tau_s for y in self.Y]
        h, o = self.h, self.o
        for ex in range(n):
            pix_rate = phi_max * np.asarray(images[ex], dtype=np.float64) * dt    # spike probability per step
            label = int(labels[ex])
            lf, lt = int(lengths[ex, 0]), int(lengths[ex, 1])
            # window sums
            in_sum_s = np.zeros(self.sizes[0])
            hs = [dict(sum_V=np.zeros(m), sum_s=np.zeros(m), sum_Va=np.zeros(m)) for m in nh]
            cnt_a = 0
            o_sum_V = np.zeros(n_out)
            o_sum_phi = np.zeros(n_out)
            alpha_f = [None] * nk
            N_f = [None] * nk     # forward burst counts (burst-coded plateaus)
            for phase, L in ((0, lf), (1, lt)):
                if L == 0:
                    continue
                teach = phase == 1
                if teach:
                    gE = np.zeros(n_out); gE[label] = 1.0        # g_teach = 1/ms
                    gI = 1.0 - gE
                    Go = self.g_l + self.g_d + gE + gI
                    Vinf_teach = gE * self.E_E + gI * self.E_I
                else:
                    Go = self.g_l + self.g_d
                    Vinf_teach = 0.0
                eo = np.exp(-Go * dt)
                for step in range(L):
                    in_win = step >= self.settle
                    # --- state updates: input kernel, dendrites (exact), somas (exponential Euler)
                    self.in_kL *= dL
                    self.in_ks *= ds
                    for k in range(nk):
                        H = h[k]
                        H["yb"] *= dL; H["yb"] += cxy * H["xb"]; H["xb"] *= ds
                        H["ya"] *= dL; H["ya"] += cxy * H["xa"]; H["xa"] *= ds
                        H["kL"] *= dL; H["ks"] *= ds
                    o["yb"] *= dL; o["yb"] += cxy * o["xb"]; o["xb"] *= ds
                    for k in range(nk):
                        H = h[k]
                        Vinf = (self.g_b * (H["yb"] + self.b[k]) + self.g_a * H["ya"]) / Gh
                        H["V"] = Vinf + (H["V"] - Vinf) * eh
                    Vinf_o = (self.g_d * (o["yb"] + self.b[-1]) + Vinf_teach) / Go
                    o["V"] = Vinf_o + (o["V"] - Vinf_o) * eo
                    # --- window accumulators
                    if in_win:
                        if not teach:
                            in_sum_s += self.in_kL - self.in_ks
                            for k in range(nk):
                                hs[k]["sum_V"] += h[k]["V"]
                                hs[k]["sum_s"] += h[k]["kL"] - h[k]["ks"]
                            o_sum_V += o["V"]
                        else:
                            o_sum_phi += phi_max * _sig(o["V"])
                        for k in range(nk):
                            hs[k]["sum_Va"] += h[k]["ya"]
                        cnt_a += 1
                    # --- thresholds: Poisson spikes
                    sp_in = (rng.random(self.sizes[0]) < pix_rate).astype(np.float64)
                    sp_h = [(rng.random(m) < phi_max * _sig(h[k]["V"]) * dt).astype(np.float64) for k, m in enumerate(nh)]
                    sp_o = (rng.random(n_out) < phi_max * _sig(o["V"]) * dt).astype(np.float64)
                    # --- synapses (dense matrix-vector products)
                    below = [sp_in] + sp_h
                    for k in range(nk):
                        h[k]["xb"] += Ws[k] @ below[k]
                        h[k]["xa"] += Ys[k] @ sp_o
                    o["xb"] += Ws[-1] @ below[-1]
                    # --- kernel resets of the spiking neurons
                    self.in_kL += kinc * sp_in
                    self.in_ks += kinc * sp_in
                    for k in range(nk):
                        h[k]["kL"] += kinc * sp_h[k]
                        h[k]["ks"] += kinc * sp_h[k]
                    self.counts["input_spikes"] += int(sp_in.sum())
                    for k in range(nk):
                        self.counts["hidden_spikes"][k] += int(sp_h[k].sum())
                    self.counts["output_spikes"] += int(sp_o.sum())
                    self.counts["steps"] += 1
                # --- end of phase (after resets)
                nw = L - self.settle
                if not teach:
                    in_sbar = in_sum_s / nw
                    Vbar_h = [hs[k]["sum_V"] / nw for k in range(nk)]
                    sbar_h = [hs[k]["sum_s"] / nw for k in range(nk)]
                    for k in range(nk):
                        alpha_f[k] = _sig(hs[k]["sum_Va"] / cnt_a)
                        hs[k]["sum_Va"][:] = 0
                        if self.burst and train:
                            N_f[k] = rng.poisson(self.k_burst * alpha_f[k])
                    cnt_a = 0
                    Vbar_o = o_sum_V / nw
                    out_f[ex] = Vbar_o
                else:
                    alpha_t = [_sig(hs[k]["sum_Va"] / cnt_a) for k in range(nk)]
                    phi_star = o_sum_phi / nw
                    sp = _sig(Vbar_o)
                    E1 = -(self.g_d / (self.g_l + self.g_d)) * phi_max * (phi_star - phi_max * sp) * sp * (1 - sp)
                    E0, M = [], []
                    for k in range(nk):
                        sh = _sig(Vbar_h[k])
                        if self.burst:   # the basal memory M = N^t - N^f, divided by k
                            M.append(rng.poisson(self.k_burst * alpha_t[k]) - N_f[k])
                            signal = M[k] / self.k_burst
                        else:
                            signal = alpha_t[k] - alpha_f[k]
                        E0.append(-(self.g_b / Gh) * phi_max * signal * sh * (1 - sh))
                    # updates: W <- W - eta P E sbar_pre^T ; b <- b - eta P E
                    s_pre = [in_sbar] + sbar_h
                    for k in range(nk):
                        c = self.eta[k] * self.P0
                        self.W[k] -= c * np.outer(E0[k], s_pre[k])
                        self.b[k] -= c * E0[k]
                    c = self.eta[-1] * self.P1
                    self.W[-1] -= c * np.outer(E1, s_pre[-1])
                    self.b[-1] -= c * E1
                    Ws = [w / tau_s for w in self.W]
                    if record:
                        for k in range(nk):
                            R = rec["hidden"][k]
                            R["Vbar_f"].append(Vbar_h[k]); R["alpha_f"].append(alpha_f[k]); R["alpha_t"].append(alpha_t[k])
                            R["sbar"].append(sbar_h[k]); R["E"].append(E0[k])
                            if self.burst:
                                R.setdefault("M", []).append(M[k])
                        rec["output"]["Vbar_f"].append(Vbar_o); rec["output"]["phi_star"].append(phi_star)
                        rec["output"]["E"].append(E1)
                        rec["input"]["sbar"].append(in_sbar)
        result = {"out_Vbar_f": out_f}
        if record:
            result["records"] = {
                "hidden": [{k: np.array(v) for k, v in R.items()} for R in rec["hidden"]],
                "output": {k: np.array(v) for k, v in rec["output"].items()},
                "input": {k: np.array(v) for k, v in rec["input"].items()},
            }
        return result
