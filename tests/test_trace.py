"""simulate(weights, image) and the trace command (issue 16): one example through a trained network,
as a user would look at it. A 784-5-10 network trained on 20 images keeps the builds small."""

import json

import numpy as np
import pytest
from brian2 import Hz, ms, second
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

import brian_segdend
from brian_segdend.cli import main

IMAGE = 3
NEURONS = [0, 2, 4]


def quiet(*_):
    pass


@pytest.fixture(scope="module")
def weights(tmp_path_factory, mnist):
    out = tmp_path_factory.mktemp("trace") / "run"
    cfg = brian_segdend.TrainConfig(hidden=(5,), train_size=20, test_size=10, epochs=1, seed=2, chunk_steps=2000,
                                    out=str(out))
    brian_segdend.train_run(cfg, log=quiet, data=mnist)
    return out / "weights.npz"


@pytest.fixture(scope="module")
def sim(weights, mnist):
    return brian_segdend.simulate(weights, image=IMAGE, neurons=NEURONS, data=mnist, log=None)


def window(res, name):
    """Samples inside a documented half-open window [start, end) of res.t."""
    a, b = res.phases[name]
    half = res.dt / 2
    return np.asarray((res.t > a - half) & (res.t < b - half))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.slow
def test_simulate_returns_brian2_quantities_of_the_right_shapes(sim, weights, mnist):
    p = sim.params
    phase = int(round(float(p.phase_min / p.dt)))
    assert get_dimensions(sim.t) == get_dimensions(second) and len(sim.t) == 2 * phase
    h = sim.hidden[0]
    assert list(h.neurons) == NEURONS
    for v in (h.V, h.V_b, h.V_a):
        assert v.shape == (3, len(sim.t)) and get_dimensions(v) is DIMENSIONLESS
    assert get_dimensions(h.k_L) == get_dimensions(Hz)
    assert get_dimensions(h.spike_t) == get_dimensions(second) and len(h.spike_t) == len(h.spike_i) == h.spike_count.sum()
    assert sim.output.V.shape == (10, len(sim.t)) and len(sim.output.spike_count) == 10
    # phases from the weights' own configuration (depth timing for one hidden layer: settle 45 ms, phases 65 ms)
    assert p.settle == 45 * ms and p.phase_min == 65 * ms
    f0, f1 = sim.phases["forward"]
    t0, t1 = sim.phases["target"]
    assert f0 == 0 * ms and f1 == t0 == p.phase_min and t1 == 2 * p.phase_min
    assert sim.phases["forward_window"] == (p.settle, p.phase_min)
    assert sim.phases["target_window"] == (p.phase_min + p.settle, 2 * p.phase_min)
    assert h.alpha_f.shape == h.alpha_t.shape == (3,) and np.all((h.alpha_f > 0) & (h.alpha_f < 1))
    assert sim.label == int(mnist.test_labels[IMAGE]) and sim.image == IMAGE and 0 <= sim.predicted < 10
    assert sim.predicted == int(np.argmax(sim.output_Vbar_f))
    state, _ = brian_segdend.load_weights(weights)
    for a, b in zip(sim.weights["W"], state["W"]):      # learn=False: the weights are not changed
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_recorded_spike_counts_equal_the_networks_own_count(sim):
    """Each spike raises the neuron's own k_L (kernel.eqs on_spike) and nothing else does."""
    h = sim.hidden[0]
    k = np.asarray(h.k_L / Hz)
    jumps = (np.diff(k, axis=1) > 0).sum(axis=1)
    later = np.asarray(h.spike_t > sim.t[0])           # spikes after the first sample
    counts = np.bincount(h.spike_i[later], minlength=len(h.spike_count))[NEURONS]
    np.testing.assert_array_equal(jumps, counts)
    assert counts.sum() > 0 and sim.output.spike_count.sum() > 0
    assert h.spike_count.sum() == len(h.spike_t) and sim.output.k_L is None


@pytest.mark.slow
def test_plateaus_are_the_sigmoid_of_the_mean_apical_potential_over_the_windows(sim):
    h = sim.hidden[0]
    V_a = np.asarray(h.V_a)
    for name, alpha in (("forward_window", h.alpha_f), ("target_window", h.alpha_t)):
        m = window(sim, name)
        assert m.sum() == int(round(float(sim.params.phase_min - sim.params.settle) / float(sim.dt)))
        np.testing.assert_allclose(sigmoid(V_a[:, m].mean(axis=1)), alpha, rtol=0, atol=1e-9)
    assert np.any(h.alpha_t != h.alpha_f)


@pytest.mark.slow
def test_learning_and_test_presentation_use_the_same_build(sim, weights, mnist):
    learned = brian_segdend.simulate(weights, image=IMAGE, neurons=NEURONS, data=mnist, log=None, learn=True)
    np.testing.assert_allclose(learned.hidden[0].alpha_f, sim.hidden[0].alpha_f, rtol=0, atol=0)  # same run
    assert not np.array_equal(learned.weights["W"][1], sim.weights["W"][1])
    test = brian_segdend.simulate(weights, image=IMAGE, mode="test", data=mnist, log=None)
    p = test.params
    assert len(test.t) == int(round(float(p.test_duration / p.dt))) and "target" not in test.phases
    assert test.hidden[0].alpha_t is None and test.hidden[0].V.shape == (5, len(test.t))


@pytest.mark.slow
def test_trace_command_writes_the_figure_and_its_numbers(sim, weights, tmp_path, capsys):
    out = tmp_path / "tr"
    assert main(["trace", "--weights", str(weights), "--image", str(IMAGE), "--neurons", "0,2", "--out", str(out)]) == 0
    assert (out / "trace.png").stat().st_size > 10_000
    info = json.loads((out / "trace.json").read_text())
    assert info["image"] == IMAGE and info["label"] == sim.label and info["predicted"] == sim.predicted
    assert info["hidden"][0]["neurons"] == [0, 2]
    np.testing.assert_allclose(info["hidden"][0]["alpha_f"], sim.hidden[0].alpha_f[:2], rtol=0, atol=1e-12)
    assert info["config"]["hidden"] == [5] and info["phases_ms"]["target_window"] == [110.0, 130.0]
    assert "wrote" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("argv, option", [
    (["--image", "10000"], "--image"),
    (["--image", "1", "--neurons", "0,7"], "--neurons"),
    (["--image", "1", "--neurons", "a"], "--neurons"),
    (["--image", "1", "--label", "12"], "--label"),
    (["--image", "1", "--layer", "1"], "--layer"),
])
def test_trace_bad_index_names_the_option(weights, tmp_path, capsys, argv, option):
    assert main(["trace", "--weights", str(weights), "--out", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and option in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_simulate_bad_image_raises_a_parameter_error(weights, mnist):
    with pytest.raises(brian_segdend.ParameterError, match=r"'image' \(--image\): index -1 is outside the test set"):
        brian_segdend.simulate(weights, image=-1, data=mnist, log=None)
    with pytest.raises(brian_segdend.ParameterError, match=r"neuron 5 does not exist in hidden layer 0 \(5 neurons"):
        brian_segdend.simulate(weights, image=0, neurons=[5], data=mnist, log=None)
