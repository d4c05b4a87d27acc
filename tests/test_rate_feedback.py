"""Figure 7's rate-feedback variant (``ModelParams.feedback_signal = 'rates'``).

The apical potential of every hidden neuron is sum_j Y_ij phi1_j with phi1_j = phi_max sigma(V1_j)
the output somas' rates of the previous step (``equations/segdend/hidden_apical_rates.eqs``).
Checked against NumPy on the recorded output voltages of a tiny network on Brian2's runtime
device (the same objects as the compiled network, no compile).
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import ms

from brian_segdend.model.network import SegDendNetwork, initial_weights, sigmoid
from brian_segdend.model.params import ModelParams, ParameterError
from brian_segdend.model.schedule import pack_chunk, phase_lengths

STEPS = 130


@pytest.mark.parametrize("hidden", [(6,), (5, 4)])
def test_apical_potential_is_the_output_rates_through_Y(mnist, hidden):
    p = ModelParams(hidden=hidden, n_input=784, timing="paper", feedback_signal="rates")
    net = SegDendNetwork(p, chunk_steps=STEPS, record_state=True, device="runtime")
    rng = np.random.default_rng(5)
    state = initial_weights(p, rng)
    sch = pack_chunk(phase_lengths(2, rng, 50, 2.0, 1.0), STEPS, 30, train=True)
    new, res = net.run_chunk(state, mnist.test_images[:1], mnist.test_labels[:1], sch, seed=5)
    st = res.records["state"]
    V_out = np.asarray(st["output"]["V"])            # (n_output, steps), after each step's update
    phi = float(p.phi_max * ms) * sigmoid(V_out)     # per ms
    for k in range(len(hidden)):
        Va = np.asarray(st[f"hidden{k}"]["V_a"])      # (n_hidden, steps)
        want = np.asarray(state["Y"][k]) @ phi[:, :-1]   # the previous step's output rates
        assert np.std(want) > 1e-3                    # the feedback changes over the run
        np.testing.assert_allclose(Va[:, 1:], want, rtol=1e-9, atol=1e-12)
    # the hidden layer learns from these plateaus
    assert np.abs(new["W"][0] - state["W"][0]).max() > 0


def test_feedback_signal_is_validated():
    with pytest.raises(ParameterError, match="feedback_signal"):
        ModelParams(feedback_signal="rate")
    with pytest.raises(ParameterError, match="feedback_signal.*symmetric"):
        ModelParams(feedback_signal="rates", feedback="symmetric")
