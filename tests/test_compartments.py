"""The equation files themselves, simulated with Brian2's runtime device (numpy target).

Groups are made exactly as the network makes them (:func:`brian_segdend.model.network.build_group`
on the files returned by :func:`brian_segdend.model.equations.load_all`), with the runtime
parameters taken from :class:`ModelParams` (docs/MODEL.md's Table 1).

Step alignment (Brian2 runs, in every step n at time t_n = n dt: state update from t_n to
t_{n+1}, thresholds, synaptic events, resets). A spike emitted at step n0 -- by a
threshold or by a SpikeGeneratorGroup at t_n0 -- increments the state *after* the state
update of step n0, i.e. the increment lands on the state of time t_{n0+1}. A StateMonitor
recording at ``when='start'`` of step n sees the state of time t_n, so it reads
kappa(t_n - t_{n0+1}): zero up to and including step n0+1, then kappa(dt), kappa(2 dt), ...
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms, second
from brian2.devices.device import reset_device

from brian_segdend.model import equations
from brian_segdend.model.contract import run_values, validation_namespace
from brian_segdend.model.layers import build_group, cutoff_statements
from brian_segdend.model.params import KERNEL_CUTOFF, ModelParams


# ----------------------------------------------------------------------------- device
@pytest.fixture(scope="module", autouse=True)
def runtime_numpy():
    """Runtime device + numpy target for this module; restores the previous device and prefs.

    A standalone device used by an earlier test keeps its state (it is not reinitialised
    here), so a network built before this module is not disturbed.
    """
    saved_target = b2.prefs.codegen.target
    saved_dt = b2.defaultclock.dt
    b2.set_device("runtime")
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 1 * ms
    yield
    b2.prefs.codegen.target = saved_target
    b2.defaultclock.dt = saved_dt
    reset_device()


P = ModelParams(hidden=(5,), n_input=8, n_output=3)


def namespace() -> dict:
    """The namespace the network validates the files with."""
    return validation_namespace()


@pytest.fixture(scope="module")
def files():
    return equations.load_all(namespace())


def make(files, name, n, file_names, extra="", threshold=None, reset=None, p=P, method=None,
         **overrides):
    """A group as the network makes it, runtime parameters set from ``p`` (or ``overrides``)."""
    method = method or files[file_names[0]].directives["method"]
    g, rt = build_group(files, name, n, file_names, extra, {}, method, {},
                        threshold=threshold, reset=reset)
    values = run_values(p)
    values.update(overrides)
    for r in rt:
        setattr(g, r, values[r])
    return g


def kappa(t, p=P):
    """docs/MODEL.md's kernel in 1/ms, t in ms (numbers); zero for t < 0."""
    tL, ts = float(p.tau_L / ms), float(p.tau_s / ms)
    t = np.asarray(t, float)
    return np.where(t >= 0, (np.exp(-t / tL) - np.exp(-t / ts)) / (tL - ts), 0.0)


# ----------------------------------------------------------------------------- units
def test_parameters_reach_the_groups_with_the_paper_numbers(files):
    """The Table 1 numbers survive the trip into a group's (shared, constant) variables."""
    soma = make(files, "units_soma", 1, ["hidden_soma", "kernel"], "V_b : 1\nV_a : 1")
    assert float(soma.g_l[:] * ms) == pytest.approx(0.1, rel=1e-12)
    assert float(1 / (soma.g_l[:] * ms)) == pytest.approx(10.0, rel=1e-12)   # tau = C_m/g_l
    assert float(soma.g_b[:] * ms) == pytest.approx(0.6, rel=1e-12)
    assert float(soma.g_a[:] * ms) == 0.0
    assert float(soma.phi_max[:] * ms) == pytest.approx(0.2, rel=1e-12)
    assert float(soma.tau_s[:] / ms) == pytest.approx(3.0, rel=1e-12)
    assert float(soma.tau_L[:] / ms) == pytest.approx(10.0, rel=1e-12)
    assert float(P.P_0 / ms) == pytest.approx(100.0, rel=1e-12)              # 20 / phi_max
    assert float(P.P_1 / ms ** 2) == pytest.approx(500.0, rel=1e-12)         # 20 / phi_max**2
    assert P.k_b == pytest.approx(0.6 / 0.7, rel=1e-12)
    assert P.k_d == pytest.approx(0.6 / 0.7, rel=1e-12)


def test_leak_time_constant_is_10_ms(files):
    """With only the leak (g_b = g_a = 0), V decays as exp(-t / 10 ms): tau = C_m / g_l."""
    g = make(files, "leak_soma", 1, ["hidden_soma"], "V_b : 1\nV_a : 1", g_b=0 / ms, g_a=0 / ms)
    g.V = 1.0
    mon = b2.StateMonitor(g, "V", record=0, when="start")
    b2.Network(g, mon).run(50 * ms)
    t = np.asarray(mon.t / ms)
    np.testing.assert_allclose(mon.V[0], np.exp(-t / 10.0), rtol=1e-12, atol=0)


# ----------------------------------------------------------------------------- kernel
N_KERNEL_STEPS = 120


def test_own_filtered_train_is_kappa(files):
    """kernel.eqs with its on_spike directive as the reset: one spike gives s = kappa."""
    n0 = 7
    g = make(files, "own_kernel", 1, ["kernel"], "",
             threshold=f"abs(t - {n0}*dt) < 0.5*dt", reset=files["kernel"].directives["on_spike"],
             method="exact")
    mon = b2.StateMonitor(g, "s", record=0, when="start")
    spikes = b2.SpikeMonitor(g)
    b2.Network(g, mon, spikes).run(N_KERNEL_STEPS * ms)
    assert np.round(np.asarray(spikes.t / ms)).tolist() == [n0]
    steps = np.arange(N_KERNEL_STEPS)
    expected = kappa(steps - (n0 + 1))                # 1/ms
    got = np.asarray(mon.s[0] * ms)                   # 1/ms
    assert np.all(got[: n0 + 2] == 0)
    peak = float(np.max(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * peak)
    # the area (Lemma 1's premise): the step sum of kappa is ~1 (Riemann sum, tail < 1e-5)
    assert float(np.sum(got)) == pytest.approx(1.0, abs=2e-2)


@pytest.mark.parametrize("dendrite,file_names,var", [
    ("basal", ["hidden_basal", "hidden_apical"], "V_b"),
    ("apical", ["hidden_basal", "hidden_apical"], "V_a"),
    ("output", ["output_dendrite"], "V_b"),
])
def test_dendritic_cascade_is_w_kappa(files, dendrite, file_names, var):
    """One synaptic event of weight w through the file's on_pre: V - b = w kappa."""
    n0, w, b = 5, 2.5, 0.8
    on_pre_file = {"basal": "hidden_basal", "apical": "hidden_apical", "output": "output_dendrite"}[dendrite]
    d = make(files, f"cascade_{dendrite}", 1, file_names)
    if "b" in d.variables:
        d.b = b
    src = b2.SpikeGeneratorGroup(1, [0], [n0] * ms)
    S = b2.Synapses(src, d, model="w : second", on_pre=files[on_pre_file].directives["on_pre"])
    S.connect()
    S.w = w * ms
    mon = b2.StateMonitor(d, var, record=0, when="start")
    b2.Network(d, src, S, mon).run(N_KERNEL_STEPS * ms)
    offset = b if var == "V_b" else 0.0
    got = np.asarray(getattr(mon, var)[0]) - offset
    expected = w * kappa(np.arange(N_KERNEL_STEPS) - (n0 + 1))
    peak = float(np.max(np.abs(expected)))
    assert np.all(np.abs(got[: n0 + 2]) <= 1e-15)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * peak)


# ----------------------------------------------------------------------------- steady states
V_B = np.array([-3.0, -0.5, 0.0, 1.0, 4.0])
V_A = np.array([2.0, -1.0, 5.0, 0.3, -6.0])


def settle(g, duration=200 * ms):
    b2.Network(g).run(duration)
    return np.asarray(g.V[:])


def test_hidden_soma_steady_state_without_apical(files):
    g = make(files, "ss_hidden0", len(V_B), ["hidden_soma", "kernel"], "V_b : 1\nV_a : 1")
    g.V_b, g.V_a = V_B, V_A
    np.testing.assert_allclose(settle(g), P.k_b * V_B, rtol=1e-6, atol=1e-6)


def test_hidden_soma_steady_state_with_apical(files):
    p = P.replace(g_a=0.6 / ms)
    g = make(files, "ss_hidden1", len(V_B), ["hidden_soma", "kernel"], "V_b : 1\nV_a : 1", p=p)
    g.V_b, g.V_a = V_B, V_A
    gl, gb, ga = 0.1, 0.6, 0.6
    expected = (gb * V_B + ga * V_A) / (gl + gb + ga)
    V = settle(g)
    np.testing.assert_allclose(V, expected, rtol=1e-6, atol=1e-6)
    assert p.k_b == pytest.approx(gb / (gl + gb + ga))
    np.testing.assert_allclose(V, p.k_b * V_B + ga * V_A / (gl + gb + ga), rtol=1e-6, atol=1e-6)


# what the network supplies to output_soma.eqs: the dendrite, the example's class, the teaching switch
OUT_EXTRA = "V_b : 1\nlabel : integer\nteach : 1"


def test_output_soma_steady_state_forward(files):
    g = make(files, "ss_out0", len(V_B), ["output_soma"], OUT_EXTRA)
    g.V_b = V_B
    g.teach = 0   # forward phase: no teaching conductance
    np.testing.assert_allclose(np.asarray(g.g_E[:] * ms), 0.0)
    np.testing.assert_allclose(np.asarray(g.g_I[:] * ms), 0.0)
    np.testing.assert_allclose(settle(g), P.k_d * V_B, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("gE,gI", [(1.0, 0.0), (0.0, 1.0)])
def test_output_soma_teaching_fixed_point(files, gE, gI):
    g = make(files, f"ss_out_{int(gE)}{int(gI)}", len(V_B), ["output_soma"], OUT_EXTRA)
    g.V_b = V_B
    g.teach = 1   # target phase, g_teach = 1/ms: every unit the correct class (g_E) or none (g_I)
    g.label = np.arange(len(V_B)) if gE else -1
    np.testing.assert_allclose(np.asarray(g.g_E[:] * ms), gE)
    np.testing.assert_allclose(np.asarray(g.g_I[:] * ms), gI)
    gl, gd = 0.1, 0.6
    expected = (gd * V_B + gE * P.E_E + gI * P.E_I) / (gl + gd + gE + gI)
    np.testing.assert_allclose(settle(g), expected, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- Lemma 1
def test_lemma1_mean_filtered_train_is_the_rate(files):
    """Poisson input at 20 Hz (pixel 0.1 * phi_max): mean of s over 1 s within 5% of 20 Hz."""
    n = 1000
    inp = files["input_poisson"]
    g = make(files, "lemma1", n, ["input_poisson", "kernel"], "pixel : 1",
             threshold=inp.directives["threshold"], reset=files["kernel"].directives["on_spike"])
    g.pixel = 0.1
    assert float(g.rate[0] / Hz) == pytest.approx(20.0)
    mon = b2.PopulationRateMonitor(g)
    b2.seed(20170101)
    net = b2.Network(g, mon)
    means = []

    @b2.network_operation(when="start")
    def record_mean():
        means.append(float(np.mean(g.s[:] / Hz)))
    net.add(record_mean)
    net.run(1 * second)
    s_mean = float(np.mean(means))
    spike_rate = float(np.mean(mon.rate / Hz))
    assert spike_rate == pytest.approx(20.0, rel=0.03)     # the Poisson source itself
    assert s_mean == pytest.approx(20.0, rel=0.05)
    # tighter: the filtered train carries the realised spikes, less the kernel tail cut at 1 s
    # (about tau_L + tau_s = 13 ms of the last spikes' area)
    assert s_mean == pytest.approx(spike_rate * (1 - 0.013), rel=0.01)


# ----------------------------------------------------------------------------- truncated kernel
# kernel = 'truncated' (the original code's): each spike's kappa ends KERNEL_CUTOFF after it. The
# original's filter weights a spike by kappa(1 ms), ..., kappa(10 ms) in the 10 steps from the one
# it is drawn in; here the model's computations (somas, window accumulators) read the state after
# each step's update, and see kappa(1 ms) .. kappa(10 ms) too: the 10 ms sample is included.
# (A monitor at 'start' reads one step earlier: kappa(0) .. kappa(9 ms), then 0.)

def truncated(t, p=P):
    """The original code's kernel: kappa for 0 <= t <= 10 ms, 0 after (1/ms; t in ms)."""
    t = np.asarray(t, float)
    return np.where(t <= float(KERNEL_CUTOFF / ms) + 1e-9, kappa(t, p), 0.0)


def _expect_truncated(got, expected, cut_index):
    peak = float(np.max(np.abs(expected)))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * peak)
    # after the cutoff: zero up to the rounding of the subtraction (measured: about 4e-16 of the peak)
    assert np.all(np.abs(got[cut_index:]) <= 1e-15 * peak), np.abs(got[cut_index:]).max() / peak


def test_truncated_own_filtered_train(files):
    """kernel.eqs's on_spike plus its on_spike_cutoff on a self-synapse delayed by KERNEL_CUTOFF,
    as the network builds it: s equals kappa for 10 ms, then 0; its area is 0.510."""
    n0 = 7
    g = make(files, "own_kernel_cut", 1, ["kernel"], "t_reset : second",
             threshold=f"abs(t - {n0}*dt) < 0.5*dt", reset=files["kernel"].directives["on_spike"],
             method="exact")
    g.t_reset = -1 * second
    S = b2.Synapses(g, g, on_pre=cutoff_statements(files["kernel"], "on_spike_cutoff"),
                    delay=KERNEL_CUTOFF, namespace={"kernel_cutoff": KERNEL_CUTOFF})
    S.connect(j="i")
    start = b2.StateMonitor(g, "s", record=0, when="start")
    seen = b2.StateMonitor(g, "s", record=0, when="after_groups")   # what the model reads
    b2.Network(g, S, start, seen).run(N_KERNEL_STEPS * ms)
    steps = np.arange(N_KERNEL_STEPS)
    age = steps - (n0 + 1)
    _expect_truncated(np.asarray(start.s[0] * ms), truncated(age) * (age < 10), n0 + 11)
    model = np.asarray(seen.s[0] * ms)
    _expect_truncated(model, truncated(steps - n0), n0 + 11)
    assert np.count_nonzero(np.abs(model) > 1e-12) == 10        # kappa(1 ms) .. kappa(10 ms)
    # area: 0.5104 of the exact kernel's (the step sum of kappa(1..10 ms))
    assert float(np.sum(model)) == pytest.approx(0.5104, abs=1e-4)


@pytest.mark.parametrize("dendrite,file_names,var", [
    ("basal", ["hidden_basal", "hidden_apical"], "V_b"),
    ("apical", ["hidden_basal", "hidden_apical"], "V_a"),
    ("output", ["output_dendrite"], "V_b"),
])
def test_truncated_dendritic_cascade(files, dendrite, file_names, var):
    """on_pre plus the file's on_pre_cutoff on a pathway delayed by KERNEL_CUTOFF: V - b = w kappa
    for 10 ms, then w * 0 (both stages of the cascade lose the event's whole contribution)."""
    n0, w, b = 5, 2.5, 0.8
    f = files[{"basal": "hidden_basal", "apical": "hidden_apical", "output": "output_dendrite"}[dendrite]]
    d = make(files, f"cascade_cut_{dendrite}", 1, file_names, "t_reset : second")
    d.t_reset = -1 * second
    if "b" in d.variables:
        d.b = b
    src = b2.SpikeGeneratorGroup(1, [0], [n0] * ms)
    S = b2.Synapses(src, d, model="w : second",
                    on_pre={"pre": f.directives["on_pre"],
                            "cutoff": cutoff_statements(f, "on_pre_cutoff")},
                    delay={"cutoff": KERNEL_CUTOFF}, namespace={"kernel_cutoff": KERNEL_CUTOFF})
    S.connect()
    S.w = w * ms
    seen = b2.StateMonitor(d, var, record=0, when="after_groups")
    b2.Network(d, src, S, seen).run(N_KERNEL_STEPS * ms)
    got = np.asarray(getattr(seen, var)[0]) - (b if var == "V_b" else 0.0)
    steps = np.arange(N_KERNEL_STEPS)
    _expect_truncated(got, w * truncated(steps - n0), n0 + 11)
    assert float(np.sum(got)) / w == pytest.approx(0.5104, abs=1e-4)


def test_truncated_cutoff_skips_spikes_before_a_test_reset(files):
    """A spike emitted before the group's last reset (t_reset) gets no cutoff: the reset already
    removed it, and subtracting would leave a negative trace."""
    g = make(files, "own_kernel_reset", 1, ["kernel"], "t_reset : second",
             threshold="abs(t - 3*dt) < 0.5*dt", reset=files["kernel"].directives["on_spike"],
             method="exact")
    S = b2.Synapses(g, g, on_pre=cutoff_statements(files["kernel"], "on_spike_cutoff"),
                    delay=KERNEL_CUTOFF, namespace={"kernel_cutoff": KERNEL_CUTOFF})
    S.connect(j="i")
    g.run_regularly("k_L = k_L*int(abs(t - 8*dt) > 0.5*dt)\nk_s = k_s*int(abs(t - 8*dt) > 0.5*dt)\n"
                    "t_reset = t_reset + (t - t_reset)*int(abs(t - 8*dt) < 0.5*dt)", when="start")
    mon = b2.StateMonitor(g, "s", record=0, when="after_groups")
    b2.Network(g, S, mon).run(40 * ms)
    assert np.all(mon.s[0][8:] == 0)
