"""Diehl & Cook (2015) baseline: label assignment, classification, and a compiled smoke run."""

import shutil

import numpy as np
import pytest
from brian2 import ms

from brian_segdend.model.equations import EquationFileError
from brian_segdend.studies.diehl_cook import (
    N_INPUT,
    DiehlCookNetwork,
    DiehlCookParams,
    assign_labels,
    classify,
    default_equation_dir,
    file_params,
    load_equation_file,
    train_and_test,
)

SHORT = DiehlCookParams(t_present=100 * ms, t_rest=50 * ms)   # runtime parameters: same binary as default


def test_assign_labels_picks_class_with_highest_mean_response():
    labels = np.array([0, 0, 1, 1, 2, 2])
    responses = np.array([
        # neuron:  0  1  2  3
        [5, 0, 1, 0],
        [3, 0, 1, 0],    # class 0: means 4, 0, 1, 0
        [0, 9, 1, 0],
        [0, 1, 1, 0],    # class 1: means 0, 5, 1, 0
        [1, 0, 8, 0],
        [1, 8, 0, 0],    # class 2: means 1, 4, 4, 0
    ], dtype=float)
    # neuron 1: class 1 (mean 5) beats class 2 (mean 4) although class 2 has the single largest count
    assert assign_labels(responses, labels, n_classes=3).tolist()[:3] == [0, 1, 2]
    # classes absent from the labels are never assigned, even to a silent neuron
    assert assign_labels(responses, labels, n_classes=10)[3] in (0, 1, 2)


def test_classify_uses_mean_response_of_assigned_neurons():
    assignments = np.array([0, 0, 1, 2])
    responses = np.array([[4, 0, 3, 0],     # class 0 mean 2, class 1 mean 3 -> 1
                          [4, 4, 3, 0],     # class 0 mean 4 -> 0
                          [0, 0, 0, 1]])    # -> 2
    assert classify(responses, assignments, n_classes=3).tolist() == [1, 0, 2]
    with pytest.raises(ValueError):
        assign_labels(np.zeros((3, 2)), np.zeros(4, dtype=int))


def test_equation_files_load():
    for name in ("excitatory", "inhibitory", "input", "stdp"):
        f = load_equation_file(name)
        assert "doi:10.3389/fncom.2015.00099" in f.text
    assert "theta" in load_equation_file("excitatory").equations.names


def test_equation_file_parameters_are_the_ones_the_network_uses():
    """The paper values written in the files (``#: param``) are DiehlCookParams' defaults."""
    p = DiehlCookParams()
    seen = set()
    for name in ("excitatory", "inhibitory", "input", "stdp"):
        for key, value in load_equation_file(name).params.items():
            assert float(value) == pytest.approx(float(getattr(p, key)), rel=1e-12), (name, key)
            seen.add(key)
    assert {"v_rest_e", "tau_e", "theta_plus", "rate_max", "nu_post", "w_max"} <= seen


@pytest.fixture
def own_equation_root(tmp_path, monkeypatch):
    """A copy of equations/ under tmp_path, used for the defaults of DiehlCookParams."""
    root = tmp_path / "equations"
    shutil.copytree(default_equation_dir().parent, root)
    monkeypatch.setenv("BRIAN_SEGDEND_EQUATIONS", str(root))
    file_params.cache_clear()
    yield root / "diehl_cook"
    file_params.cache_clear()


def test_parameter_defaults_come_from_the_files(own_equation_root):
    f = own_equation_root / "excitatory.eqs"
    f.write_text(f.read_text().replace("#: param tau_e = 100*ms", "#: param tau_e = 50*ms"))
    assert DiehlCookParams().tau_e == 50 * ms
    assert DiehlCookParams().tau_i == 10 * ms


def test_parameter_given_twice_with_two_values_names_both_lines(own_equation_root):
    f = own_equation_root / "inhibitory.eqs"
    f.write_text(f.read_text().replace("#: param E_exc = 0*mV", "#: param E_exc = 5*mV"))
    with pytest.raises(EquationFileError, match=r"inhibitory\.eqs:\d+: parameter 'E_exc' = 5\. mV differs from \S+excitatory\.eqs:\d+"):
        DiehlCookParams()


def test_broken_equation_file_names_path_and_line(tmp_path):
    src = load_equation_file("excitatory")
    (tmp_path / "excitatory.eqs").write_text(src.text.replace("#: refractory = refrac_e", "#: refractor = refrac_e"))
    with pytest.raises(EquationFileError, match=r"excitatory\.eqs:\d+: unknown directive 'refractor'"):
        load_equation_file("excitatory", tmp_path)
    (tmp_path / "excitatory.eqs").write_text(src.text.replace("dge/dt = -ge/tau_ge : 1", "dge/dt = -ge/tau_ge : 1 +"))
    with pytest.raises(EquationFileError, match=r"excitatory\.eqs:\d+: cannot parse"):
        load_equation_file("excitatory", tmp_path)


@pytest.mark.slow
def test_smoke_training_changes_weights_and_theta(mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("BRIAN_SEGDEND_BUILD_DIR", str(tmp_path.parent / "dc_builds"))
    net = DiehlCookNetwork(n_exc=20, params=SHORT, capacity=16, seed=3)
    w0, theta0 = net.w.copy(), net.theta.copy()
    images = mnist.train_images[:20]
    train = net.present(images, plastic=True, seed=3)       # 16 + 4: two runs, state carried over
    assert train.runs == 2
    assert train.responses.shape == (20, 20)
    assert train.repeats.shape == (20,)
    # accepted presentations have at least min_spikes excitatory spikes
    assert np.all(train.responses.sum(axis=1) >= SHORT.min_spikes)
    # compiled early stop: far less simulated time than the compiled run length
    assert train.sim_s < 2 * net.max_steps * float(SHORT.dt / ms) * 1e-3
    assert np.abs(net.w - w0).max() > 1e-3, "STDP did not change the weights"
    assert net.w.min() >= 0 and net.w.max() <= SHORT.w_max
    assert np.all(net.theta >= theta0) and net.theta.max() > theta0.max(), "theta did not grow"
    # normalisation before each image: sums stay near w_total (one image of STDP since)
    assert np.allclose(net.w.sum(axis=0), SHORT.w_total, rtol=0.2)
    w1, th1 = net.w.copy(), net.theta.copy()
    frozen = net.present(mnist.test_images[:5], plastic=False, seed=4)
    assert frozen.responses.shape == (5, 20)
    assert np.array_equal(net.w, w1) and np.array_equal(net.theta, th1)

    result = train_and_test(20, 20, n_exc=20, seed=3, params=SHORT, mnist=mnist, network=net,
                            out_dir=tmp_path)
    for key in ("test_error", "train_wall_s", "train_examples_per_s", "neurons", "synapses"):
        assert key in result
    assert 0.0 <= result["test_error"] <= 1.0
    assert result["neurons"] == N_INPUT + 40
    assert result["synapses"] == N_INPUT * 20 + 20 + 20 * 19
    assert result["weight_change_mean_abs"] > 0 and result["theta_mean_mV"] > 0
    assert (tmp_path / "diehl_cook_20_20.json").exists()


def _compare_module():
    from brian_segdend.studies import compare_mnist
    return compare_mnist


def test_comparison_outputs_from_hand_made_results(tmp_path):
    cmp = _compare_module()
    run = lambda n, err, eps: {"n_train": n, "test_error": err, "train_wall_s": n / eps,
                               "train_examples_per_s": eps, "neurons": 984, "synapses": 88400}
    result = {"train_sizes": [100, 400], "test_size": 50, "seed": 0, "n_exc": 100, "models": {
        "diehl_cook": {"label": cmp.MODELS["diehl_cook"], "runs": [run(100, 0.6, 80.0), run(400, 0.5, 75.0)]},
        "segdend": {"label": cmp.MODELS["segdend"], "runs": [run(100, 0.4, 2.0), run(400, 0.3, 2.0)]}}}
    cmp.write_markdown(result, tmp_path / "m.md")
    text = (tmp_path / "m.md").read_text()
    assert "| 400 | 0.500 |" in text
    assert "400 training images: lower test error: Segregated dendrites (Guerguiev et al. 2017) (0.300 vs 0.500)" in text
    assert "faster training: Diehl & Cook 2015 (STDP, unsupervised) (75.0 vs 2.0 examples/s)" in text
    cmp.plot(result, tmp_path / "m.png")
    assert (tmp_path / "m.png").stat().st_size > 1000
    result["models"]["segdend"] = {"label": cmp.MODELS["segdend"], "runs": [], "unavailable": "missing"}
    cmp.write_markdown(result, tmp_path / "m2.md")
    assert "No comparison can be stated" in (tmp_path / "m2.md").read_text()


def test_comparison_defaults_reach_thousands_of_images_and_quick_stays_small(tmp_path, monkeypatch):
    """Issue 16: by default both models see 1,000 and 10,000 images (this model has learned there);
    --quick keeps the small check."""
    cmp = _compare_module()
    calls = []

    def fake(train_sizes, test_size, n_exc, seed, mnist=None, log=print, user_params=None):
        calls.append((list(train_sizes), test_size, user_params))
        run = {"n_train": 1, "test_error": 0.5, "train_wall_s": 1.0, "train_examples_per_s": 1.0,
               "neurons": 1, "synapses": 1}
        return {"train_sizes": list(train_sizes), "test_size": test_size, "seed": seed, "n_exc": n_exc,
                "models": {k: {"label": cmp.MODELS[k], "runs": [dict(run, n_train=n) for n in train_sizes]}
                           for k in cmp.MODELS}}
    monkeypatch.setattr(cmp, "run_comparison", fake)
    assert cmp.main(["--out", str(tmp_path / "a")]) == 0
    assert cmp.main(["--quick", "--out", str(tmp_path / "b")]) == 0
    assert calls[0][:2] == ([1000, 10000], 1000)
    assert calls[1][:2] == ([100, 400], 500)
    assert (tmp_path / "a" / "mnist_comparison.md").exists()
