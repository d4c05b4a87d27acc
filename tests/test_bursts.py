"""Burst-coded plateaus (ModelParams.plateau_code = 'burst', issue 19).

Each plateau emits N ~ Poisson(k alpha) spikes, a basal memory M adds them with the phase sign,
and the hidden update uses M / k = (N^t - N^f) / k in place of alpha^t - alpha^f. Checked here:
options and validation (no compile), the NumPy reference (the mean of many burst-coded updates
is the exact rule's update within its standard error, with variance (alpha^t + alpha^f) / k),
the training network's compiled code on Brian2's runtime device (no compile), and once through a
compiled cpp_standalone build (Figure 10's population, many repetitions on one build, k a run
argument, seeds).
"""

import numpy as np
import pytest
from brian2 import ms

from brian_segdend.cli import config_from_args, train_parser
from brian_segdend.model.contract import validation_namespace
from brian_segdend.model.equations import EquationFileError, default_equation_dir, load_all
from brian_segdend.model.network import SegDendNetwork, initial_weights
from brian_segdend.model.numpy_reference import NumpyNetwork
from brian_segdend.model.params import ModelParams, ParameterError
from brian_segdend.model.schedule import pack_chunk
from brian_segdend.studies import sweep
from brian_segdend.studies.fig10 import (
    Fig10Config,
    Fig10Model,
    burst_statistics,
    run_bursts,
    sign_significance,
    trial_seeds,
)
from brian_segdend.studies.fig10 import main as fig10_main
from brian_segdend.training.train import config_key

SMALL = ModelParams(n_input=8, hidden=(5,), n_output=3)


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------- options (no compile)
def test_plateau_code_and_burst_scale_are_validated():
    p = ModelParams(plateau_code="burst", burst_scale=8)
    assert p.burst_scale == 8.0 and isinstance(p.burst_scale, float)
    assert ModelParams().plateau_code == "rate"
    for bad in (0, -1.0, float("nan"), float("inf"), "4", True, 1e7):
        with pytest.raises(ParameterError, match="^parameter 'burst_scale': "):
            ModelParams(burst_scale=bad)
    with pytest.raises(ParameterError, match="^parameter 'plateau_code': "):
        ModelParams(plateau_code="bursts")
    q = ModelParams.from_mapping({"plateau_code": "burst", "burst_scale": 2})
    assert (q.plateau_code, q.burst_scale) == ("burst", 2.0)
    assert {"plateau_code": "burst", "burst_scale": 2.0}.items() <= q.to_mapping().items()


def test_train_sweep_and_fig10_options(capsys):
    args = train_parser().parse_args(["--plateau-code", "burst", "--burst-scale", "8", "--hidden", "20"])
    p = config_from_args(args).model_params()
    assert (p.plateau_code, p.burst_scale) == ("burst", 8.0)
    assert sweep.canonical_param("plateau-code") == "plateau_code"
    assert sweep.canonical_param("burst_scale") == "burst_scale"
    cfg = sweep.apply_params({"hidden": [20]}, {"plateau_code": "burst", "burst_scale": 16})
    assert cfg["model"]["plateau_code"] == "burst" and cfg["model"]["burst_scale"] == 16
    # --burst-scale alone does not silently run the rate code
    assert fig10_main(["--burst-scale", "4", "--no-figures"]) == 2
    assert "needs --plateau-code burst" in capsys.readouterr().err


def test_rate_runs_keep_their_resume_key():
    """Checkpoints of rate-coded runs written before the option existed still resume."""
    eff = ModelParams().to_mapping()
    old = {k: v for k, v in eff.items() if k not in ("plateau_code", "burst_scale")}
    base = {"hidden": [500], "seed": 1}
    assert config_key({**base, "effective_model": eff}) == config_key({**base, "effective_model": old})
    burst = ModelParams(plateau_code="burst").to_mapping()
    assert config_key({**base, "effective_model": burst}) != config_key({**base, "effective_model": eff})
    k8 = ModelParams(plateau_code="burst", burst_scale=8).to_mapping()
    assert config_key({**base, "effective_model": k8}) != config_key({**base, "effective_model": burst})


def test_burst_file_is_a_variant_checked_against_the_contract(tmp_path):
    ns = validation_namespace()
    assert "hidden_burst" not in load_all(ns)                 # the default build never reads it
    files = load_all(ns, variants=("hidden_burst",))
    assert "poisson(burst_scale*plateau)" in files["hidden_burst"].directives["on_plateau"]
    src = default_equation_dir()
    for f in src.glob("*.eqs"):
        (tmp_path / f.name).write_text(f.read_text())
    path = tmp_path / "hidden_burst.eqs"
    path.write_text(path.read_text().replace("#: output M : 1", "#: output Mem : 1"))
    with pytest.raises(EquationFileError, match=rf"^{path}:\d+: 'Mem' is declared as an output"):
        load_all(ns, tmp_path, variants=("hidden_burst",))


def test_sign_significance():
    x = np.array([-0.7, 1.3] * 1000)                    # mean 0.3, sd 1.0
    s = sign_significance(x)
    assert s["significant"] and s["p_value"] < 1e-6
    assert s["pairings"] == 74                          # ceil((2.5758 * 1.0003 / 0.3)^2)
    assert sign_significance(np.zeros(50))["pairings"] is None            # nothing to test
    zero_mean = sign_significance(np.array([1.0, -1.0] * 50))
    assert zero_mean["p_value"] > 0.5 and not zero_mean["significant"] and zero_mean["pairings"] is None


# ---------------------------------------------------------------------------- NumPy reference
def test_numpy_burst_updates_average_to_the_exact_rule():
    """Many repetitions of one example: burst-coded updates against the exact rule on the same recorded averages."""
    k = 4.0
    p = SMALL.replace(plateau_code="burst", burst_scale=k)
    state = initial_weights(SMALL, np.random.default_rng(3))
    img = np.random.default_rng(4).uniform(size=(1, SMALL.n_input))
    lengths = np.array([[60, 60]])
    dW_burst, dW_exact, r, var = [], [], [], []
    eta, P0 = p.learning_rates[0], float(p.P_hidden_factor) / float(p.phi_max * ms)
    for rep in range(300):
        net = NumpyNetwork(p, state)
        h = net.run(img, [1], lengths, np.random.default_rng(rep), record=True)["records"]["hidden"][0]
        a_f, a_t, M, V = h["alpha_f"][0], h["alpha_t"][0], h["M"][0], h["Vbar_f"][0]
        kb = p.k_b
        phi = float(p.phi_max * ms)
        np.testing.assert_allclose(h["E"][0], -kb * phi * (M / k) * sig(V) * (1 - sig(V)), rtol=1e-12)
        assert np.all(M == np.round(M))
        E_exact = -kb * phi * (a_t - a_f) * sig(V) * (1 - sig(V))
        dW_burst.append(-eta * P0 * h["E"][0])     # per unit presynaptic average: the factor both share
        dW_exact.append(-eta * P0 * E_exact)
        r.append(M / k - (a_t - a_f))
        var.append((a_t + a_f) / k)
    d = np.array(dW_burst) - np.array(dW_exact)
    sem = d.std(axis=0, ddof=1) / np.sqrt(len(d))
    assert np.all(np.abs(d.mean(axis=0)) < 4 * sem), (d.mean(axis=0), sem)
    r, var = np.array(r), np.array(var)
    np.testing.assert_allclose((r ** 2).mean(axis=0), var.mean(axis=0), rtol=0.3)   # Var = (alpha^t + alpha^f)/k


# ---------------------------------------------------------------------------- training network, runtime device
@pytest.fixture
def restore_brian():
    import brian2 as b2
    saved = b2.prefs.codegen.target
    yield
    b2.prefs.codegen.target = saved


def test_training_network_burst_code(tmp_path, restore_brian):
    """The training network's generated code: memory = N^t - N^f, E from M / k, the default build untouched."""
    rate = SegDendNetwork(SMALL, chunk_steps=200, build_dir=tmp_path / "rate")
    p = SMALL.replace(plateau_code="burst", burst_scale=3.0)
    burst_hash = SegDendNetwork(p, chunk_steps=200, build_dir=tmp_path / "b").build_hash
    assert "hidden_burst" not in rate.files and burst_hash != rate.build_hash
    net = SegDendNetwork(p, chunk_steps=400, device="runtime", record=True)
    state = initial_weights(p, np.random.default_rng(1))
    rng = np.random.default_rng(2)
    images, labels = rng.uniform(size=(3, p.n_input)), np.array([0, 1, 2])
    sch = pack_chunk(np.array([[60, 60]] * 3), 400, 30, train=True)
    _, res = net.run_chunk(state, images, labels, sch, seed=5)
    h = res.records["hidden0"]
    M, N_t = h["M"], h["N_burst"]
    assert M.size == 3 * p.hidden[0] and np.all(M == np.round(M))
    assert np.all(N_t >= 0) and np.all(N_t - M >= 0)            # N^f = N^t - M is a count too
    sp = sig(h["Vbar_f"])
    E = h["E"] / 1000.0                                        # Hz -> 1/ms
    np.testing.assert_allclose(E, -p.k_b * float(p.phi_max * ms) * (M / 3.0) * sp * (1 - sp), rtol=1e-9, atol=1e-15)
    assert np.any(M != 0)


# ---------------------------------------------------------------------------- compiled (cpp_standalone), one build
@pytest.fixture(scope="module")
def burst_fig10(tmp_path_factory):
    cfg = Fig10Config(n_neurons=40, trials=2, g_a_sweep=(0.0,), basal_rate_sweep=(), sweep_step_ms=50.0,
                      map_step_ms=50.0)
    params = ModelParams(hidden=(1,), timing="paper", plateau_code="burst", burst_scale=4.0)
    model = Fig10Model(cfg, params, build_dir=tmp_path_factory.mktemp("bursts") / "fig10", record_conditions=False)
    model.build()
    return {"cfg": cfg, "params": params, "model": model}


@pytest.mark.slow
def test_compiled_burst_updates_average_to_the_exact_rule(burst_fig10):
    model, params = burst_fig10["model"], burst_fig10["params"]
    states, _ = trial_seeds(burst_fig10["cfg"], model)
    binary = model.build_dir / "main"
    mtime = binary.stat().st_mtime_ns
    out = {}
    for k in (1.0, 16.0):                       # a run argument: the same binary
        model.params = params.replace(burst_scale=k)
        runs = [model.run_trial(100 + s, 0.0, states[0]) for s in range(6)]
        M = np.concatenate([r["M"] for r in runs])
        a_f, a_t = (np.concatenate([r[v] for r in runs]) for v in ("alpha_f", "alpha_t"))
        V, E = np.concatenate([r["Vbar_f"] for r in runs]), np.concatenate([r["E"] for r in runs]) / 1000.0
        sp = sig(V)
        np.testing.assert_allclose(E, -params.k_b * 0.2 * (M / k) * sp * (1 - sp), rtol=1e-9, atol=1e-15)
        assert np.all(np.concatenate([r["N_f"] for r in runs]) >= 0)
        st = burst_statistics(M, a_f, a_t, k)
        assert abs(st["residual_mean"]) < 4 * st["residual_sem"], st
        assert 0.8 < st["residual_var"] / st["expected_var"] < 1.25, st
        out[k] = st
    assert out[1.0]["expected_var"] > 10 * out[16.0]["expected_var"]
    assert binary.stat().st_mtime_ns == mtime
    model.params = params


@pytest.mark.slow
def test_compiled_bursts_seed_reproducibility_and_fig10_outputs(burst_fig10):
    model, cfg, params = burst_fig10["model"], burst_fig10["cfg"], burst_fig10["params"]
    states, _ = trial_seeds(cfg, model)
    a, b, c = (model.run_trial(s, 0.0, states[0])["M"] for s in (7, 7, 8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    res = run_bursts(cfg, params, [16.0], model=model, log=lambda m: None)
    row = res["by_scale"][0]
    conds = row["conditions"]
    assert conds["late_apical"]["dw_mean"] > 0 > conds["early_apical"]["dw_mean"]
    for name in conds:
        assert {"dw_mean", "dw_sem", "sign_p_value", "sign_pairings"} <= conds[name].keys()
    assert conds["late_apical"]["sign_pairings"] is not None
    assert [r["onset_ms"] for r in row["onset_sweep"]] == [0.0, 50.0]
