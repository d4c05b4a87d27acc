"""Signature checks: each point model reproduces its own paper's key result.

:func:`stdp_window` (Song et al. 2000, Fig. 1), :func:`clopath_frequency` (Clopath et al.
2010, Fig. 2b), :func:`urbanczik_teacher` (Urbanczik & Senn 2014, Fig. 1) and
:func:`burst_rule` (Payeur et al. 2021, Fig. 2; NumPy oracle :func:`burst_rule_reference`).
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second

from .models import load_model_file, neuron_group, synapses, use_runtime_device
from .protocol import APICAL_DRIVE

__all__ = ["stdp_window", "clopath_frequency", "urbanczik_teacher", "burst_rule", "burst_rule_reference", "BURST_PAIRINGS"]


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


#: postsynaptic spike patterns of :func:`burst_rule` (ms after the presynaptic spike)
BURST_PAIRINGS = {"event": (5.0,), "burst": (5.0, 10.0), "burst3": (5.0, 10.0, 15.0), "two_events": (5.0, 40.0)}


def burst_rule_reference(pre_s, post_s, params, P_start=None, E_start=None) -> float:
    """The burst-dependent rule evaluated in NumPy on given spike trains (one synapse).

    ``pre_s``, ``post_s``: spike times (in seconds, as floats) of the presynaptic afferent and
    the postsynaptic neuron, starting from a neuron with Ebar = ``E_start`` and Bbar =
    ``P_start*E_start`` (default: the file's E0, P0) and no earlier spikes. A spike is an event
    when the previous spike of the same train is at least T_burst earlier (or there is none);
    the next spike of the train is a burst, later spikes of the burst count for nothing.
    Returns the total weight change: eta times the sum, over postsynaptic bursts, of
    Etilde_pre, minus eta times the sum, over postsynaptic events, of Pbar Etilde_pre, where
    Etilde_pre is the presynaptic event trace (tau_pre; a presynaptic spike in the same time
    step counts) and Pbar = Bbar/Ebar just before the spike (no clipping). Ebar and Bbar decay
    exactly here; the equation file integrates them with Euler steps (relative difference in
    the changes below 1e-5 over a second at dt = 0.1 ms).
    """
    p = params
    T_b, tau_pre, tau_avg = (float(p[k]) for k in ("T_burst", "tau_pre", "tau_avg"))
    P0 = float(p["P0"] if P_start is None else P_start)
    E0 = float(p["E0"] if E_start is None else E_start)
    pre = np.sort(np.asarray(pre_s, float))
    keep = np.ones(len(pre), bool)
    keep[1:] = pre[1:] >= pre[:-1] + T_b          # the same arithmetic as the equation file
    pre_ev = pre[keep]
    e_bar, b_bar, last, in_burst, t_last, dw = E0, P0 * E0, -np.inf, False, 0.0, 0.0
    for t in np.sort(np.asarray(post_s, float)):
        decay = np.exp(-(t - t_last) / tau_avg)
        e_bar, b_bar, t_last = e_bar * decay, b_bar * decay, t
        is_event = bool(t >= last + T_b)
        is_burst = not is_event and not in_burst
        x = np.exp(-(t - pre_ev[pre_ev <= t]) / tau_pre).sum()
        dw += float(p["eta"]) * (float(is_burst) - (b_bar / e_bar) * float(is_event)) * x
        e_bar += is_event / tau_avg
        b_bar += is_burst / tau_avg
        in_burst, last = not is_event, t
    return float(dw)


def burst_rule(pairings=None, levels_hz=(0.0, 30.0, 100.0), n_neurons=20, duration_ms=500.0, n_pre=20,
               pre_rate_hz=50.0, w_soma=0.08, n_dend=10, w_dend=0.1, seed=2, directory=None) -> dict:
    """Payeur et al. (2021), Fig. 2: bursts above the expected burst fraction potentiate, events depress.

    One run of ``equations/plasticity/payeur2021.eqs`` with two parts.

    * ``pairings``: one presynaptic spike at 20 ms, then forced postsynaptic spikes at the
      given delays (:data:`BURST_PAIRINGS`): an isolated event depresses by eta*Pbar*Etilde_pre,
      a burst potentiates (a third spike within the burst adds nothing), two separate events
      depress twice. No other input.
    * ``levels_hz``: the neuron's own dynamics. Per level, ``n_neurons`` neurons receive
      ``n_pre`` Poisson afferents at ``pre_rate_hz`` on plastic somatic synapses (weight
      ``w_soma``) and ``n_dend`` Poisson afferents at the level's rate on the dendrite (weight
      ``w_dend``), for ``duration_ms``; Pbar starts at the file's P0. Dendritic input raises
      the burst fraction; the weights grow where it exceeds Pbar and shrink where it falls below.

    Every weight change is also recomputed in NumPy from the recorded spike trains
    (:func:`burst_rule_reference`): ``dw`` and ``expected`` per pairing, ``dw_max_error`` over all
    synapses of the second part. Returns per level the mean events and bursts per neuron, the
    burst fraction (bursts / events), the mean change of a neuron's weights (mean, SEM) and
    the final Pbar.
    """
    mf = load_model_file("payeur", directory)
    dt = 0.1 * ms
    use_runtime_device(dt)
    b2.seed(seed)
    ns = dict(mf.params)
    pairings = dict(BURST_PAIRINGS if pairings is None else pairings)
    n_pair, L = len(pairings), len(levels_hz)
    N = n_pair + L * n_neurons
    t_pre = 20.0
    steps = int(round(duration_ms / float(dt / ms)))
    force = np.zeros((steps, N))
    for k, delays in enumerate(pairings.values()):
        force[np.round((t_pre + np.asarray(delays)) / float(dt / ms)).astype(int), k] = 1
    ns["sch_force"] = b2.TimedArray(force, dt=dt)
    post = neuron_group(mf, N, ns, name="post", threshold_extra="sch_force(t, i) > 0.5")
    for var, expr in APICAL_DRIVE["payeur"]["init"].items():
        setattr(post, var, ns[expr] if expr in ns else expr)
    gen = b2.SpikeGeneratorGroup(n_pair, np.arange(n_pair), np.full(n_pair, t_pre) * ms, name="pre_gen")
    S_pair = synapses(mf, gen, post, ns, name="syn_pair")
    S_pair.connect(j="i")
    S_pair.w = w_soma
    n_b = L * n_neurons
    pre = b2.NeuronGroup(n_b * n_pre, "", threshold=f"rand() < {pre_rate_hz}*Hz*dt", name="pre_poisson")
    dend = b2.NeuronGroup(n_b * n_dend, "rate : Hz (constant)", threshold="rand() < rate*dt", name="dend_poisson")
    dend.rate = np.repeat(np.repeat(np.asarray(levels_hz, float), n_neurons), n_dend) * Hz
    S = synapses(mf, pre, post, ns, name="syn")
    S.connect(i=np.arange(n_b * n_pre), j=n_pair + np.repeat(np.arange(n_b), n_pre))
    S.w = w_soma
    D = b2.Synapses(dend, post, on_pre="ge_d_post += w_dend", namespace={"w_dend": w_dend}, name="dend_syn")
    D.connect(i=np.arange(n_b * n_dend), j=n_pair + np.repeat(np.arange(n_b), n_dend))
    m_post = b2.SpikeMonitor(post, name="post_spikes")
    m_pre = b2.SpikeMonitor(pre, name="pre_spikes")
    m_gen = b2.SpikeMonitor(gen, name="gen_spikes")
    net = b2.Network(post, gen, S_pair, pre, dend, S, D, m_post, m_pre, m_gen)
    net.run(duration_ms * ms, namespace=ns)

    def trains(mon, n):
        i, t = np.asarray(mon.i[:]), np.asarray(mon.t_[:])
        return [t[i == k] for k in range(n)]
    post_t, pre_t, gen_t = trains(m_post, N), trains(m_pre, n_b * n_pre), trains(m_gen, n_pair)
    ev, bu = np.asarray(post.n_events[:]), np.asarray(post.n_bursts[:])
    w_pair = np.asarray(S_pair.w[:]) - w_soma
    out = {"pairings": {}, "levels": {}}
    for k, name in enumerate(pairings):
        out["pairings"][name] = {"post_ms": (post_t[k] * 1000.0 - t_pre).tolist(), "events": int(ev[k]),
                                 "bursts": int(bu[k]), "dw": float(w_pair[k]),
                                 "expected": burst_rule_reference(gen_t[k], post_t[k], mf.params)}
    dW = np.asarray(S.w[:]) - w_soma
    ref = np.array([burst_rule_reference(pre_t[s], post_t[n_pair + s // n_pre], mf.params) for s in range(n_b * n_pre)])
    out["dw_max_error"] = float(np.abs(dW - ref).max())
    out["dw_max_abs"] = float(np.abs(dW).max())
    per_neuron = dW.reshape(n_b, n_pre).mean(axis=1)
    pbar = np.asarray(post.Pbar[:])
    for k, lv in enumerate(levels_hz):
        sl = slice(n_pair + k * n_neurons, n_pair + (k + 1) * n_neurons)
        d = per_neuron[k * n_neurons:(k + 1) * n_neurons]
        out["levels"][float(lv)] = {"events": float(ev[sl].mean()), "bursts": float(bu[sl].mean()),
                                    "burst_fraction": float(bu[sl].sum() / max(ev[sl].sum(), 1)),
                                    "dw_mean": float(d.mean()), "dw_sem": float(d.std(ddof=1) / np.sqrt(len(d))),
                                    "Pbar_end": float(pbar[sl].mean())}
    out["P0"] = float(mf.params["P0"])
    return out
