"""Looking into a network (issue 16): receptive fields of the first layer; recordings declared before
the build, with Brian2 units."""

import json

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms, second
from brian2.units.fundamentalunits import get_dimensions

from brian_segdend.cli import main
from brian_segdend.model.network import SegDendNetwork, initial_weights
from brian_segdend.model.params import ModelParams
from brian_segdend.model.recording import LateAdditionError, Recording
from brian_segdend.model.schedule import pack_chunk, phase_lengths
from brian_segdend.plotting import receptive_field_mosaic
from brian_segdend.studies import fig6c


def fake_weights(path, n_hidden=20, seed=0):
    """A weights.npz as train writes it (W0, b0, W1, b1, Y0), random numbers."""
    rng = np.random.default_rng(seed)
    np.savez(path, W0=rng.normal(size=(n_hidden, 784)), b0=rng.normal(size=n_hidden),
             W1=rng.normal(size=(10, n_hidden)), b1=rng.normal(size=10), Y0=rng.normal(size=(n_hidden, 10)))
    return path


@pytest.mark.parametrize("max_panels, panels, grid", [(None, 20, (4, 5)), (12, 12, (3, 4)), (100, 20, (4, 5))])
def test_receptive_fields_command_writes_one_panel_per_unit(tmp_path, max_panels, panels, grid, capsys):
    w = fake_weights(tmp_path / "weights.npz")
    argv = ["receptive-fields", "--weights", str(w), "--out", str(tmp_path / "rf")]
    if max_panels is not None:
        argv += ["--max-panels", str(max_panels)]
    assert main(argv) == 0
    assert (tmp_path / "rf" / "receptive_fields.png").stat().st_size > 1000
    info = json.loads((tmp_path / "rf" / "receptive_fields.json").read_text())
    assert info["panels"] == panels and tuple(info["grid"]) == grid and info["rows_of_W0"] == 20
    assert f"({panels} of 20 units)" in capsys.readouterr().out


def test_receptive_field_mosaic_holds_each_row_as_an_image():
    W = np.arange(3 * 784, dtype=float).reshape(3, 784) + 1
    mosaic, n, grid = receptive_field_mosaic(W, shape=(28, 28))
    assert n == 3 and grid == (2, 2)
    np.testing.assert_allclose(mosaic[:28, :28], W[0].reshape(28, 28) / W[0].max())
    np.testing.assert_allclose(mosaic[29:57, :28], W[2].reshape(28, 28) / W[2].max())
    assert np.isnan(mosaic[29:57, 29:57]).all()                 # the fourth cell is empty
    with pytest.raises(ValueError, match="784 columns"):
        receptive_field_mosaic(np.zeros((3, 100)))


# ---------------------------------------------------------------- recording in Brian2's terms
@pytest.fixture(scope="module")
def recorded_run(mnist):
    p = ModelParams(hidden=(10,))
    rec = (Recording().state("hidden0_soma", ["V", "V_a", "k_L"], neurons=[0, 1, 2]).spikes("hidden0").spikes("output")
           .events("hidden0_soma", "end_f", ["sbar", "Vbar_f"]))
    net = SegDendNetwork(p, chunk_steps=150, recording=rec)
    rng = np.random.default_rng(3)
    state = initial_weights(p, rng)
    sch = pack_chunk(phase_lengths(2, rng, 50, 2.0, 1.0), 150, 30, train=True)
    _, res = net.run_chunk(state, mnist.test_images[3:4], mnist.test_labels[3:4], sch, seed=3)
    # test-time activity (Figure 6C): one test image per run, as long as the training example above
    # (a StateMonitor's results are read back with the first run's length: Brian2 standalone)
    settle = int(round(float(p.settle / p.dt)))
    length = int(sch.end_t_steps[0]) + 1
    tests = []
    for img in (0, 1):
        tsch = pack_chunk(np.array([length]), 150, settle, train=False)
        _, tres = net.run_chunk(state, mnist.test_images[img:img + 1], mnist.test_labels[img:img + 1], tsch, seed=7 + img)
        tests.append((img, tsch, tres))
    return net, res, state, tests


@pytest.mark.slow
def test_recorded_traces_have_brian2_units(recorded_run):
    _, res, _, _ = recorded_run
    st = res.recorded.state["hidden0_soma"]
    assert get_dimensions(st.t) == get_dimensions(second) and get_dimensions(st.k_L) == get_dimensions(Hz)
    assert st.V.shape == st.V_a.shape == (3, len(st.t)) and list(st.neurons) == [0, 1, 2]
    sp = res.recorded.spikes["output_soma"]
    assert get_dimensions(sp.t) == get_dimensions(second) and len(sp.t) == len(sp.i) == sp.count.sum() > 0


@pytest.mark.slow
def test_recorded_spike_count_equals_the_networks_own_count(recorded_run):
    """Each spike of a hidden soma raises its own filtered train's k_L (kernel.eqs' on_spike) and
    nothing else does: the recorded spikes and the jumps of the recorded k_L agree neuron by neuron."""
    _, res, _, _ = recorded_run
    k = np.asarray(res.recorded.state["hidden0_soma"].k_L / Hz)
    jumps = (np.diff(np.concatenate([np.zeros((3, 1)), k], axis=1), axis=1) > 0).sum(axis=1)
    counts = res.recorded.spikes["hidden0_soma"].count[:3]
    assert counts.sum() > 0
    np.testing.assert_array_equal(jumps, counts)


@pytest.mark.slow
def test_adding_a_monitor_after_the_build_raises(recorded_run):
    net, _, _, _ = recorded_run
    with pytest.raises(LateAdditionError, match=r"Declare recordings before the build: SegDendNetwork\(params, recording="):
        net.net.add(b2.SpikeMonitor(net.out_soma, name="late_monitor"))


@pytest.mark.slow
def test_recorded_test_activity_agrees_with_the_rate_readout(recorded_run, mnist):
    """Window means recorded at the end of a test image's forward phase (Recording.events, the
    compiled read-out of ``paper fig6c``) against the rate read-out of the weights (fig6c.layer_activities).

    Tolerances from the Poisson noise of a window of T = length - settle steps: the mean of an input's
    filtered train (kernel area 1) has variance r_j / T, so Vbar_f has sd
    k_b sqrt(sum_j W_ij^2 r_j / T) around k_b (W r + b): each unit within 5 sd (about 0.3 here; the
    settle time leaves a transient of e^(-settle/tau_L) ~ 1%). The hidden units' own spikes: their
    summed window-mean rate is a Poisson count over T, within 4 sd of the summed read-out rates."""
    net, _, state, tests = recorded_run
    p = net.params
    T = int(tests[0][1].end_f_steps[0]) + 1 - int(round(float(p.settle / p.dt)))
    assert T > 40
    k_b = float(p.g_b / (p.g_l + p.g_b + p.g_a))
    W, b = np.asarray(state["W"][0]), np.asarray(state["b"][0])
    for img, tsch, tres in tests:
        ev = tres.recorded.events["hidden0_soma.end_f"]
        assert len(ev.i) == 10 and np.all(np.round(np.asarray(ev.t / ms)) == tsch.end_f_steps[0])
        order = np.argsort(ev.i)
        vbar = np.asarray(ev.Vbar_f)[order]
        sbar = np.asarray(ev.sbar / Hz)[order] / 1000.0        # 1/ms
        x = mnist.test_images[img:img + 1]
        rates = fig6c.layer_activities(state, p, x)[1][0]      # phi_max sigma(V), 1/ms
        r_in = float(p.phi_max * ms) * np.asarray(x[0], float)
        V = k_b * (W @ r_in + b)
        sd = k_b * np.sqrt((W ** 2) @ r_in / T)
        assert np.all(np.abs(vbar - V) <= 5 * sd), (vbar - V) / sd
        assert abs(sbar.sum() - rates.sum()) <= 4 * np.sqrt(rates.sum() / T), (sbar.sum(), rates.sum())
