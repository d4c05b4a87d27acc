"""Looking into a network (issue 16): receptive fields of the first layer; recordings declared before
the build, with Brian2 units."""

import json

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, second
from brian2.units.fundamentalunits import get_dimensions

from brian_segdend.cli import main
from brian_segdend.model.network import SegDendNetwork, initial_weights
from brian_segdend.model.params import ModelParams
from brian_segdend.model.recording import LateAdditionError, Recording
from brian_segdend.model.schedule import pack_chunk, phase_lengths
from brian_segdend.plotting import receptive_field_mosaic


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
    rec = Recording().state("hidden0_soma", ["V", "V_a", "k_L"], neurons=[0, 1, 2]).spikes("hidden0").spikes("output")
    net = SegDendNetwork(p, chunk_steps=150, recording=rec)
    rng = np.random.default_rng(3)
    state = initial_weights(p, rng)
    sch = pack_chunk(phase_lengths(2, rng, 50, 2.0, 1.0), 150, 30, train=True)
    _, res = net.run_chunk(state, mnist.test_images[3:4], mnist.test_labels[3:4], sch, seed=3)
    return net, res


@pytest.mark.slow
def test_recorded_traces_have_brian2_units(recorded_run):
    _, res = recorded_run
    st = res.recorded.state["hidden0_soma"]
    assert get_dimensions(st.t) == get_dimensions(second) and get_dimensions(st.k_L) == get_dimensions(Hz)
    assert st.V.shape == st.V_a.shape == (3, len(st.t)) and list(st.neurons) == [0, 1, 2]
    sp = res.recorded.spikes["output_soma"]
    assert get_dimensions(sp.t) == get_dimensions(second) and len(sp.t) == len(sp.i) == sp.count.sum() > 0


@pytest.mark.slow
def test_recorded_spike_count_equals_the_networks_own_count(recorded_run):
    """Each spike of a hidden soma raises its own filtered train's k_L (kernel.eqs' on_spike) and
    nothing else does: the recorded spikes and the jumps of the recorded k_L agree neuron by neuron."""
    _, res = recorded_run
    k = np.asarray(res.recorded.state["hidden0_soma"].k_L / Hz)
    jumps = (np.diff(np.concatenate([np.zeros((3, 1)), k], axis=1), axis=1) > 0).sum(axis=1)
    counts = res.recorded.spikes["hidden0_soma"].count[:3]
    assert counts.sum() > 0
    np.testing.assert_array_equal(jumps, counts)


@pytest.mark.slow
def test_adding_a_monitor_after_the_build_raises(recorded_run):
    net, _ = recorded_run
    with pytest.raises(LateAdditionError, match=r"Declare recordings before the build: SegDendNetwork\(params, recording="):
        net.net.add(b2.SpikeMonitor(net.out_soma, name="late_monitor"))
