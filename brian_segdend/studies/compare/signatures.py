"""Signature checks: each point model reproduces its own paper's key result.

:func:`stdp_window` (Song et al. 2000, Fig. 1), :func:`clopath_frequency` (Clopath et al.
2010, Fig. 2b) and :func:`urbanczik_teacher` (Urbanczik & Senn 2014, Fig. 1).
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second

from .models import load_model_file, neuron_group, synapses, use_runtime_device
from .protocol import APICAL_DRIVE

__all__ = ["stdp_window", "clopath_frequency", "urbanczik_teacher"]


def _pair_groups(mf, n, pre_times_ms, post_times_ms, ns, dt):
    """Presynaptic spike generator -> one postsynaptic neuron each, postsynaptic spikes forced."""
    pre_i = np.concatenate([[k] * len(t) for k, t in enumerate(pre_times_ms)]).astype(int)
    pre_t = np.concatenate([np.asarray(t, float) for t in pre_times_ms])
    pre = b2.SpikeGeneratorGroup(n, pre_i, pre_t * ms, name="pre_gen")
    t_end = max(max(np.max(t) for t in pre_times_ms if len(t)), max(np.max(t) for t in post_times_ms if len(t)))
    steps = int(round(t_end / float(dt / ms))) + 2
    force = np.zeros((steps, n))
    for k, ts in enumerate(post_times_ms):
        force[np.round(np.asarray(ts) / float(dt / ms)).astype(int), k] = 1
    ns["sch_force"] = b2.TimedArray(force, dt=dt)
    post = neuron_group(mf, n, ns, name="post", threshold_extra="sch_force(t, i) > 0.5")
    S = synapses(mf, pre, post, ns, name="syn")
    S.connect(j="i")
    return pre, post, S, t_end


def stdp_window(dts_ms=(-60, -40, -20, -10, -5, 5, 10, 20, 40, 60), directory=None) -> dict:
    """Song et al. (2000) Fig. 1: the weight change of one pre/post pair against dt = t_post - t_pre.

    One synapse per dt, isolated pair, no other input. Returns ``dt_ms`` and ``dw`` (in
    units of g_max) and the paper's window ``expected`` (A_plus e^{-dt/tau_plus} for dt > 0,
    -A_minus e^{dt/tau_minus} for dt < 0).
    """
    mf = load_model_file("stdp", directory)
    dt = 0.1 * ms
    use_runtime_device(dt)
    ns = dict(mf.params)
    dts = np.asarray(dts_ms, float)
    t_ref = 100.0
    pre_t = [[t_ref] for _ in dts]
    post_t = [[t_ref + d] for d in dts]
    pre, post, S, t_end = _pair_groups(mf, len(dts), pre_t, post_t, ns, dt)
    S.w = 0.5
    post.v = ns["E_L"]
    net = b2.Network(pre, post, S)
    net.run((t_end + 50) * ms, namespace=ns)
    p = mf.params
    expected = np.where(dts > 0, p["A_plus"] * np.exp(-dts / float(p["tau_plus"] / ms)),
                        -p["A_minus"] * np.exp(dts / float(p["tau_minus"] / ms)))
    return {"dt_ms": dts.tolist(), "dw": (np.asarray(S.w[:]) - 0.5).tolist(), "expected": expected.tolist()}


def clopath_frequency(freqs_hz=(0.1, 10.0, 20.0, 40.0, 50.0), n_pairs=5, delay_ms=10.0, directory=None) -> dict:
    """Clopath et al. (2010) Fig. 2b (Sjostrom et al. 2001): five pairings at each frequency.

    Pre-post (post ``delay_ms`` after pre) and post-pre (pre ``delay_ms`` after post).
    Frequencies below 5 Hz: one isolated pairing, change times ``n_pairs`` (the model's
    traces have decayed long before the next pairing). Returns percent weight change
    (initial weight 0.5) per frequency for both orders.
    """
    mf = load_model_file("clopath", directory)
    dt = 0.1 * ms
    use_runtime_device(dt)
    ns = dict(mf.params)
    w0 = 0.5
    pre_t, post_t, meta = [], [], []
    start = 20.0
    for order in ("pre_post", "post_pre"):
        for f in freqs_hz:
            reps = n_pairs if f >= 5 else 1
            period = 1000.0 / f
            base = start + np.arange(reps) * period
            if order == "pre_post":
                pre_t.append(base), post_t.append(base + delay_ms)
            else:
                post_t.append(base), pre_t.append(base + delay_ms)
            meta.append((order, f, n_pairs / reps))
    pre, post, S, t_end = _pair_groups(mf, len(meta), pre_t, post_t, ns, dt)
    S.w = w0
    for var, expr in APICAL_DRIVE["clopath"]["init"].items():
        setattr(post, var, ns[expr])
    net = b2.Network(pre, post, S)
    net.run((t_end + 300) * ms, namespace=ns)
    w = np.asarray(S.w[:])
    out = {"freq_hz": list(freqs_hz), "pre_post": [], "post_pre": []}
    for k, (order, _f, mult) in enumerate(meta):
        out[order].append(float(100.0 * (w[k] - w0) * mult / w0))
    return out


def urbanczik_teacher(n_neurons=20, n_inputs=50, duration_s=6.0, seed=3, U_M=(1.0, 0.0), g_teach=1 / ms,
                      window_ms=400.0, directory=None) -> dict:
    """Urbanczik & Senn (2014) Fig. 1: a somatic teacher, dendritic synapses learn its rate.

    Inputs alternate every 100 ms between two patterns (pattern A: the first half of the
    afferents at 40 Hz, the rest at 2 Hz; pattern B: the reverse). The teacher's somatic
    conductances (total ``g_teach``) impose the matching potential ``U_M[p]`` of the pattern
    (``g_E = g_teach (U_M - E_I)/(E_E - E_I)``, ``g_I = g_teach - g_E``). Returns, for the
    first and the last ``window_ms`` and each pattern: the mean rates phi(U) (somatic, nudged
    by the teacher) and phi(V*_w) (dendritic prediction), ``error_hz`` = |mean phi(V*_w) - mean
    phi(U)| (after the first 20 ms of each block), and phi(U_M), the rate the teacher asks for.
    """
    mf = load_model_file("urbanczik_senn", directory)
    dt = 0.2 * ms
    use_runtime_device(dt)
    b2.seed(seed)
    ns = dict(mf.params)
    p = mf.params
    block = 100 * ms
    n_blocks = int(round(duration_s * 1000 / 100))
    pattern = np.arange(n_blocks) % 2
    ns["sch_pat"] = b2.TimedArray(pattern, dt=block)
    gE = [g_teach * (u - p["E_I"]) / (p["E_E"] - p["E_I"]) for u in U_M]
    ns.update(g_E_A=gE[0], g_E_B=gE[1], g_teach=g_teach)
    rng = np.random.default_rng(seed)
    inp = b2.NeuronGroup(n_neurons * n_inputs, "group_a : 1 (constant)", namespace=ns, name="inp",
                         threshold="rand() < (2*Hz + 38*Hz*(group_a*(1 - sch_pat(t)) + (1 - group_a)*sch_pat(t)))*dt")
    inp.group_a = np.tile(np.arange(n_inputs) < n_inputs // 2, n_neurons).astype(float)
    post = neuron_group(mf, n_neurons, ns, name="post")
    post.run_regularly("g_E = g_E_A*(1 - sch_pat(t)) + g_E_B*sch_pat(t)\ng_I = g_teach - g_E", when="start")
    S = synapses(mf, inp, post, ns, name="syn")
    S.connect(i=np.arange(n_neurons * n_inputs), j=np.repeat(np.arange(n_neurons), n_inputs))
    S.W = rng.uniform(0.0, 0.4, size=n_neurons * n_inputs) * ms
    mon = b2.StateMonitor(post, ["phi_U", "phi_star"], record=True, dt=1 * ms, name="mon")
    net = b2.Network(inp, post, S, mon)
    net.run(duration_s * second, namespace=ns)
    t = np.asarray(mon.t / ms)
    phiU, phiS = np.asarray(mon.phi_U / Hz), np.asarray(mon.phi_star / Hz)
    pat = pattern[np.minimum((t // 100).astype(int), n_blocks - 1)]
    settle = (t % 100) >= 20   # leave out the first 20 ms of each block (PSPs still change)

    def phi(u):
        return float(p["phi_max"] / Hz) / (1 + p["k"] * np.exp(p["beta"] * (p["theta"] - u)))

    def window(lo, hi):
        res = {}
        for q, name in ((0, "A"), (1, "B")):
            m = settle & (pat == q) & (t >= lo) & (t < hi)
            res[name] = {"error_hz": float(abs(phiS[:, m].mean() - phiU[:, m].mean())),
                         "phi_U_hz": float(phiU[:, m].mean()), "phi_star_hz": float(phiS[:, m].mean()),
                         "phi_target_hz": phi(U_M[q])}
        res["error_hz"] = 0.5 * (res["A"]["error_hz"] + res["B"]["error_hz"])
        return res
    T = duration_s * 1000
    return {"first": window(0, window_ms), "last": window(T - window_ms, T), "duration_s": duration_s}
