"""ModelParams: Table 1 numbers with units, and validation messages that name the field."""

from __future__ import annotations

import math

import pytest
from brian2 import Hz, ms, mV, second

from brian_segdend.model.params import ModelParams, ParameterError, default_learning_rates, default_settle


# ----------------------------------------------------------------------------- Table 1
def test_table1_numbers_carry_over_with_units():
    p = ModelParams(timing="paper")
    assert float(p.dt / ms) == 1.0
    assert float(p.phi_max * ms) == pytest.approx(0.2)           # 200 Hz = 0.2 /ms
    assert float(p.tau_s / ms) == 3.0 and float(p.tau_L / ms) == 10.0
    assert float(p.settle / ms) == 30.0
    assert float(p.g_l * ms) == pytest.approx(0.1)
    assert float(1 / (p.g_l * ms)) == pytest.approx(10.0)         # tau = C_m / g_l = 10 ms
    assert float(p.g_b * ms) == pytest.approx(0.6)
    assert float(p.g_a * ms) == 0.0
    assert float(p.g_d * ms) == pytest.approx(0.6)
    assert (p.E_E, p.E_I) == (8.0, -8.0)
    assert float(p.P_0 / ms) == pytest.approx(100.0)              # 20 / phi_max
    assert float(p.P_1 / ms ** 2) == pytest.approx(500.0)         # 20 / phi_max**2
    assert p.k_b == pytest.approx(0.6 / 0.7)
    assert p.k_d == pytest.approx(0.6 / 0.7)
    assert p.layer_sizes == (784, 500, 10)
    assert p.learning_rates == pytest.approx((0.0525, 0.0525))   # Table 1 x 0.25: the default preset
    assert ModelParams(rates="table1").learning_rates == (0.21, 0.21)
    assert float(p.phase_min / ms) == 50.0 and float(p.test_duration / ms) == 250.0


@pytest.mark.parametrize("hidden, settle, phase", [((), 30, 50), ((500,), 45, 65), ((500, 100), 60, 80),
                                                   ((20, 20, 20), 75, 95)])
def test_depth_timing_grows_the_settle_time_with_each_hidden_layer(hidden, settle, phase):
    p = ModelParams(hidden=hidden)
    assert p.timing == "depth"
    assert (float(p.settle / ms), float(p.phase_min / ms)) == (settle, phase)
    paper = ModelParams(hidden=hidden, timing="paper")
    assert (float(paper.settle / ms), float(paper.phase_min / ms)) == (30, 50)
    assert float(default_settle(len(hidden)) / ms) == settle


def test_timing_preset_values_follow_replace_but_explicit_ones_stay():
    p = ModelParams(hidden=())
    deep = p.replace(hidden=(500, 100))
    assert (float(deep.settle / ms), float(deep.phase_min / ms)) == (60, 80)
    assert float(deep.replace(timing="paper").settle / ms) == 30
    q = ModelParams(hidden=(), settle=40 * ms)                 # phase_min follows an explicit settle
    assert float(q.phase_min / ms) == 60
    q2 = q.replace(hidden=(500, 100))
    assert (float(q2.settle / ms), float(q2.phase_min / ms)) == (40, 60)
    r = ModelParams(hidden=(500,), settle=45 * ms, phase_min=90 * ms)
    assert float(r.replace(hidden=(500, 100)).phase_min / ms) == 90
    # a mapping written by to_mapping() gives back the same parameters
    assert ModelParams.from_mapping({k: v for k, v in deep.to_mapping().items()
                                     if k not in ("learning_rates", "units")}) == deep


def test_default_learning_rates_per_depth():
    assert default_learning_rates(0) == (0.19,)
    assert default_learning_rates(1) == (0.21, 0.21)
    assert default_learning_rates(2) == (0.23, 0.23, 0.12)
    assert ModelParams(hidden=(), rates="table1").learning_rates == (0.19,)
    assert ModelParams(hidden=(500, 100), rates="table1").learning_rates == (0.23, 0.23, 0.12)
    assert ModelParams(hidden=(500, 100)).learning_rates == pytest.approx((0.0575, 0.0575, 0.03))
    assert ModelParams(hidden=(), eta_bias=(0.01,)).bias_learning_rates == (0.01,)


def test_g_a_variants_and_k_b():
    assert ModelParams(g_a=0.05 / ms).k_b == pytest.approx(0.6 / 0.75)
    assert ModelParams(g_a=0.6 / ms).k_b == pytest.approx(0.6 / 1.3)


def test_equivalent_units_are_accepted():
    p = ModelParams(g_l=100 * Hz, tau_L=0.01 * second, phi_max=0.2 / ms)
    assert float(p.g_l * ms) == pytest.approx(0.1)
    assert float(p.tau_L / ms) == pytest.approx(10.0)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("changes,field", [
    (dict(g_l=-0.1 / ms), "g_l"),
    (dict(g_b=-0.6 / ms), "g_b"),
    (dict(g_a=-0.05 / ms), "g_a"),
    (dict(g_d=-0.6 / ms), "g_d"),
    (dict(phi_max=-200 * Hz), "phi_max"),
    (dict(phi_max=0 * Hz), "phi_max"),
    (dict(g_l=0 / ms), "g_l"),
    (dict(dt=0 * ms), "dt"),
    (dict(tau_s=-3 * ms), "tau_s"),
    (dict(tau_s=10 * ms), "tau_s"),                     # equal to tau_L
    (dict(tau_L=3 * ms), "tau_L"),                      # equal to tau_s
    (dict(g_l=0.1 * mV), "g_l"),                        # wrong units
    (dict(g_b=0.6), "g_b"),                             # a plain number is not a conductance
    (dict(tau_s=3 * Hz), "tau_s"),
    (dict(phi_max=200 * ms), "phi_max"),
    (dict(settle=float("nan") * ms), "settle"),
    (dict(g_l=float("inf") / ms), "g_l"),
    (dict(settle=50 * ms, phase_min=50 * ms), "settle"),   # phase not longer than the settle time
    (dict(timing="fast"), "timing"),
    (dict(timing="fast", settle=30 * ms, phase_min=50 * ms), "timing"),
    (dict(phase_min=20 * ms), "phase_min"),
    (dict(test_duration=30 * ms), "test_duration"),
    (dict(n_input=0), "n_input"),
    (dict(n_output=0), "n_output"),
    (dict(hidden=(500, 0)), "hidden[1]"),
    (dict(hidden=(-3,)), "hidden[0]"),
    (dict(eta=(0.21, float("nan"))), "eta[1]"),
    (dict(eta=(float("inf"), 0.21)), "eta[0]"),
    (dict(eta=(0.21, -0.1)), "eta[1]"),
    (dict(eta=(0.21,)), "eta"),                         # wrong number of learning rates
    (dict(eta=(0.21, 0.21, 0.12)), "eta"),
    (dict(hidden=(), eta=(0.2, 0.2)), "eta"),
    (dict(E_E=-8.0, E_I=8.0), "E_E"),
    (dict(E_E=float("nan")), "E_E"),
    (dict(P_hidden_factor=float("inf")), "P_hidden_factor"),
    (dict(init_V_sd=float("nan")), "init_V_sd"),
    (dict(feedback="mirror"), "feedback"),
    (dict(plateau_max=-1 * ms), "plateau_max"),
    (dict(wald_mean=-2 * ms), "wald_mean"),
])
def test_invalid_values_name_the_field(changes, field):
    with pytest.raises(ParameterError) as err:
        ModelParams(**changes)
    assert f"'{field}'" in str(err.value), str(err.value)


def test_tau_s_equal_tau_L_message_says_why():
    with pytest.raises(ParameterError, match=r"tau_L - tau_s"):
        ModelParams(tau_s=10 * ms, tau_L=10 * ms)


def test_wrong_units_message_names_the_expected_unit():
    with pytest.raises(ParameterError) as err:
        ModelParams(g_l=0.1 * mV)
    msg = str(err.value)
    assert "'g_l'" in msg and "expected units" in msg


def test_replace_validates():
    p = ModelParams(hidden=(5,), n_input=8, n_output=3)
    with pytest.raises(ParameterError, match="'g_b'"):
        p.replace(g_b=-1 / ms)


# ----------------------------------------------------------------------------- config files
def test_from_mapping_adds_units_and_round_trips():
    p = ModelParams.from_mapping({"g_l": 0.1, "tau_L": 10, "phi_max": 200, "hidden": [500, 100],
                                  "eta": [0.2, 0.2, 0.1]})
    assert float(p.g_l * ms) == pytest.approx(0.1)
    assert float(p.tau_L / ms) == pytest.approx(10.0)
    assert p.hidden == (500, 100) and p.eta == (0.2, 0.2, 0.1)
    m = p.to_mapping()
    q = ModelParams.from_mapping({k: v for k, v in m.items() if k not in ("learning_rates", "units")})
    assert q == p or all(getattr(q, k) == getattr(p, k) for k in ("hidden", "eta", "E_E", "feedback"))
    assert m["g_l"] == pytest.approx(0.1) and m["phi_max"] == pytest.approx(200.0)


def test_from_mapping_unknown_key_names_key_and_source():
    with pytest.raises(ParameterError) as err:
        ModelParams.from_mapping({"g_leak": 0.1, "tau_L": 10}, source="config.toml")
    msg = str(err.value)
    assert "config.toml" in msg and "g_leak" in msg


def test_from_mapping_bad_value_names_key_and_source():
    with pytest.raises(ParameterError) as err:
        ModelParams.from_mapping({"g_l": "fast"}, source="run.yaml")
    assert "run.yaml" in str(err.value) and "'g_l'" in str(err.value)
    with pytest.raises(ParameterError) as err:
        ModelParams.from_mapping({"g_b": -0.6}, source="run.yaml")
    assert "run.yaml" in str(err.value) and "'g_b'" in str(err.value)
    with pytest.raises(ParameterError) as err:
        ModelParams.from_mapping({"hidden": [500], "eta": [0.1]}, source="run.yaml")
    assert "'eta'" in str(err.value)


def test_from_mapping_scalar_eta_for_no_hidden_layer():
    p = ModelParams.from_mapping({"hidden": [], "eta": 0.19})
    assert p.learning_rates == (0.19,)
    assert math.isfinite(p.learning_rates[0])
