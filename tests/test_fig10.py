"""Figure 10 experiment: sign of basal plasticity from apical timing, with a tiny population.

One compiled build is shared by the whole module (fixture ``fig10``); every test reads its
results or runs the same binary again with other run-time arguments.
"""

import json

import numpy as np
import pytest
from brian2 import ms

from brian_segdend.model.params import ModelParams, ParameterError
from brian_segdend.studies.fig10 import (
    CONDITIONS,
    Fig10Config,
    Fig10Model,
    config_from_args,
    make_protocols,
    parser,
    run_experiment,
    write_outputs,
)

pytestmark = pytest.mark.slow

SMALL = dict(n_neurons=20, trials=3, sweep_step_ms=25.0, map_step_ms=50.0, basal_rate_sweep=(50.0,),
             g_a_sweep=(0.0, 0.6))


@pytest.fixture(scope="module")
def fig10():
    params = ModelParams(hidden=(1,))
    cfg = Fig10Config(**SMALL)
    model = Fig10Model(cfg, params)
    results, extras = run_experiment(cfg, params, model=model, log=lambda m: None)
    return {"model": model, "params": params, "cfg": cfg, "results": results, "extras": extras}


def _away_from_zero(stats, sign):
    assert np.sign(stats["dw_mean"]) == sign, stats
    assert abs(stats["dw_mean"]) > 3 * stats["dw_sem"], stats
    assert np.sign(stats["dw_percent_mean"]) == sign, stats
    assert abs(stats["dw_percent_mean"]) > 3 * stats["dw_percent_sem"], stats


def test_early_apical_ltd_late_apical_ltp(fig10):
    c = fig10["results"]["conditions"]
    assert c["early_apical"]["n"] == SMALL["n_neurons"] * SMALL["trials"]
    _away_from_zero(c["early_apical"], -1)
    _away_from_zero(c["late_apical"], +1)
    # the plateaus behind it: alpha^f > alpha^t early, alpha^f < alpha^t late
    assert c["early_apical"]["alpha_f_mean"] > c["early_apical"]["alpha_t_mean"]
    assert c["late_apical"]["alpha_f_mean"] < c["late_apical"]["alpha_t_mean"]


def test_no_apical_gives_exactly_zero(fig10):
    c = fig10["results"]["conditions"]["no_apical"]
    assert c["dw_mean"] == 0.0 and c["dw_sem"] == 0.0
    assert c["dw_percent_mean"] == 0.0
    assert c["E_mean_hz"] == 0.0
    assert c["alpha_f_mean"] == c["alpha_t_mean"] == 0.5


def test_silent_afferents_do_not_change(fig10):
    r = fig10["results"]
    for name, c in r["conditions"].items():
        assert c["dw_silent_mean"] == 0.0 and c["dw_silent_max_abs"] == 0.0, name
    for row in r["onset_sweep"] + r["offset_sweep"]:
        assert row["dw_silent_max_abs"] == 0.0
    for g in r["g_a_sweep"]:
        for c in g["conditions"].values():
            assert c["dw_silent_max_abs"] == 0.0


def test_large_g_a_shrinks_the_early_late_difference(fig10):
    """Measured direction: g_a = 0.6/ms shrinks both LTD and LTP, so late - early shrinks."""
    sweep = {g["g_a_per_ms"]: g for g in fig10["results"]["g_a_sweep"]}
    g0, g6 = sweep[0.0], sweep[0.6]

    def diff_sem(g):
        c = g["conditions"]
        return np.hypot(c["late_apical"]["dw_sem"], c["early_apical"]["dw_sem"])

    assert g6["late_minus_early"] < g0["late_minus_early"] - 3 * np.hypot(diff_sem(g0), diff_sem(g6))
    assert g6["k_b"] < g0["k_b"]
    for name in ("early_apical", "late_apical"):
        assert abs(g6["conditions"][name]["dw_mean"]) < abs(g0["conditions"][name]["dw_mean"]), name
    # mechanism: with early apical input the soma is depolarised in the forward window,
    # so Vbar^f rises and sigma'(Vbar^f) falls; the plateaus themselves do not depend on g_a
    e0, e6 = g0["conditions"]["early_apical"], g6["conditions"]["early_apical"]
    assert e6["Vbar_f_mean"] > e0["Vbar_f_mean"]
    assert e6["sigma_prime_mean"] < e0["sigma_prime_mean"]
    assert e6["alpha_f_mean"] == pytest.approx(e0["alpha_f_mean"], abs=0.02)


def test_weight_change_is_the_hidden_layer_rule(fig10):
    """dW_ij = eta P_0 k_b phi_max (alpha^t - alpha^f) sigma'(Vbar^f) sbar_j, per synapse."""
    model, p = fig10["model"], fig10["params"]
    state = model.initial_state(np.random.default_rng(7))
    for g_a in (0.0, 0.6):
        res = model.run_trial(1234, g_a, state)
        sp = 1 / (1 + np.exp(-res["Vbar_f"]))
        g_l, g_b, phi_max = float(p.g_l * ms), float(p.g_b * ms), float(p.phi_max * ms)   # per ms
        k_b = g_b / (g_l + g_b + g_a)
        E = -k_b * phi_max * (res["alpha_t"] - res["alpha_f"]) * sp * (1 - sp)   # per ms
        eta, P0 = p.learning_rates[0], float(p.P_0 / ms)                         # ms**2, ms
        expected = -eta * P0 * E[:, None] * res["sbar_pre"] / 1000.0             # sbar in Hz -> per ms
        np.testing.assert_allclose(res["dW"], expected, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(res["E"], E * 1000.0, rtol=1e-9, atol=1e-12)
        # bias: b -= eta P_0 E
        np.testing.assert_allclose(res["b1"] - res["b0"], -eta * P0 * E, rtol=1e-6, atol=1e-12)


def test_same_seed_reproduces_other_seed_differs(fig10):
    model = fig10["model"]
    state = model.initial_state(np.random.default_rng(3))
    a = model.run_trial(11, 0.0, state)
    b = model.run_trial(11, 0.0, state)
    c = model.run_trial(12, 0.0, state)
    assert np.array_equal(a["dW"], b["dW"])
    assert not np.array_equal(a["dW"], c["dW"])


def test_run_arguments_are_checked(fig10):
    model = fig10["model"]
    state = model.initial_state(np.random.default_rng(0))
    with pytest.raises(ValueError, match="protocol columns"):
        model.run_trial(1, 0.0, state, protocols=model.protocols[:-1])
    with pytest.raises(ValueError, match="basal_rates"):
        model.run_trial(1, 0.0, state, basal_rates=np.ones(model.K + 1))
    bad = dict(state, W=np.ones((model.N + 1, model.cfg.n_basal)))
    with pytest.raises(ValueError, match="W_basal.w"):
        model.run_trial(1, 0.0, bad)
    with pytest.raises(ParameterError, match="phi_max"):
        model.run_trial(1, 0.0, state, basal_rates=np.full(model.K, 500.0))


def test_sweeps_and_outputs(fig10, tmp_path):
    r = fig10["results"]
    on = {row["onset_ms"]: row for row in r["onset_sweep"]}
    assert on[0.0]["dw_mean"] < 0 < on[50.0]["dw_mean"]          # pulse with the forward phase: LTD; after: LTP
    grid = r["onset_offset_map"]
    assert len(grid["dw_mean"]) == len(grid["onset_ms"]) and len(grid["dw_mean"][0]) == len(grid["offset_ms"])
    assert grid["dw_mean"][1][0] is None                           # onset 50, offset 50: no apical input
    assert [row["basal_rate_hz"] for row in r["basal_rate_sweep"]] == [50.0]
    paths = write_outputs(r, fig10["extras"], tmp_path)
    data = json.loads((tmp_path / "fig10.json").read_text())
    for name in CONDITIONS:
        for key in ("dw_mean", "dw_sem", "n", "dw_percent_mean", "dw_percent_sem", "dw_silent_mean",
                    "dw_silent_max_abs"):
            assert key in data["conditions"][name], (name, key)
    for key in ("onset_sweep", "onset_offset_map", "g_a_sweep", "basal_rate_sweep", "config"):
        assert key in data
    assert {p.name for p in paths} == {"fig10.json", "fig10.png", "fig10_sweep.png"}
    assert all(p.stat().st_size > 10_000 for p in paths if p.suffix == ".png")


def test_command_line_and_validation():
    cfg = config_from_args(parser().parse_args(["--quick", "--g-a", "0.05", "--basal-rate", "100", "--seed", "4"]))
    assert (cfg.n_neurons, cfg.g_a, cfg.basal_rate, cfg.seed) == (20, 0.05, 100.0, 4)
    cfg = config_from_args(parser().parse_args(["--n-neurons", "7", "--trials", "2"]))
    assert (cfg.n_neurons, cfg.trials) == (7, 2)
    protos = make_protocols(cfg)
    assert [p.name for p in protos[:4]] == list(CONDITIONS)
    with pytest.raises(ParameterError, match="n_silent"):
        Fig10Config(n_basal=5, n_silent=5)
    with pytest.raises(ParameterError, match="phi_max"):
        Fig10Config(basal_rate=300.0).validate(ModelParams(hidden=(1,)))
    with pytest.raises(ParameterError, match="phase_ms"):
        Fig10Config(phase_ms=20.0).validate(ModelParams(hidden=(1,)))


def test_json_records_the_effective_parameters(fig10):
    """config.params holds what the run used, not the model defaults it overrode."""
    cfg, params = fig10["cfg"], fig10["params"]
    p = fig10["results"]["config"]["params"]
    assert p["g_a"] == cfg.g_a and p["phase_min"] == cfg.phase_ms
    assert p["eta_hidden"] == params.learning_rates[0]
    assert "hidden" not in p and "test_duration" not in p
    changed = Fig10Config(**{**SMALL, "g_a": 0.05, "phase_ms": 80.0})
    from brian_segdend.studies.fig10 import effective_params
    q = effective_params(params, changed, 0.1)
    assert q["g_a"] == 0.05 and q["phase_min"] == 80.0 and q["eta_hidden"] == 0.1
