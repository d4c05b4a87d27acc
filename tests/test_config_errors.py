"""Issue 13: every wrong configuration is a one-line ``error: ...`` with exit code 2, found
before anything is built (fast: nothing here compiles; a build would fail the test)."""

import math

import pytest

from brian_segdend.cli import main
from brian_segdend.model import network
from brian_segdend.model.params import ModelParams, ParameterError
from brian_segdend.training.train import TrainConfig


@pytest.fixture(autouse=True)
def no_build(tmp_path, monkeypatch):
    """Any build fails the test; the build folder must stay empty."""
    builds = tmp_path / "builds"
    monkeypatch.setenv("BRIAN_SEGDEND_BUILD_DIR", str(builds))

    def refuse(self, *a, **k):
        raise AssertionError("a network was built for a wrong configuration")
    monkeypatch.setattr(network.SegDendNetwork, "__init__", refuse)
    monkeypatch.setattr(network.SegDendNetwork, "build", refuse)
    yield
    assert not builds.exists() or not any(builds.iterdir())


def run_cli(argv, capsys):
    """Exit code and stderr of ``python -m brian_segdend <argv>`` run in this process."""
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


def assert_one_line_error(code, err, *words):
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for w in words:
        assert w in lines[0], (w, lines[0])


# -------------------------------------------------------------------------- config files
CONFIG_CASES = {
    'hidden = "55"': "'hidden'",
    "hidden = 5.5": "'hidden'",
    "hidden = [10, true]": "'hidden[1]'",
    "hidden = [10, -3]": "'hidden[1]'",
    'E_E = "9"': "'E_E'",
    '[model]\nE_I = "10"': "'E_I'",
    "E_E = true": "'E_E'",
    "n_output = 5": "'n_output': 5, but the data has 10 classes",
    "n_input = 100": "'n_input'",
    "seed = true": "'seed'",
    "seed = -1": "'seed'",
    "seed = 1.5": "'seed'",
    'divergence_limit = "abc"': "'divergence_limit'",
    "divergence_limit = nan": "'divergence_limit'",
    "divergence_limit = 0": "'divergence_limit'",
    "dt = 200": "'dt' (200. ms)",
    "dt = 1e-9": "'chunk_steps'",
    'dt = "1"': "'dt'",
    "dt = inf": "'dt'",
    'train_size = "100"': "'train_size'",
    "train_size = 1000000000": "60000",
    "test_size = 20000": "10000",
    "epochs = 1.5": "'epochs'",
    "epochs = 0": "'epochs'",
    "chunk_steps = 1": "at least one example",
    "test_duration = 1e9": "at least one example",
    "test_duration = -5": "'test_duration'",
    "g_a = nan": "'g_a'",
    "g_a = 1e300": "'g_a'",
    "plateau_sd = 1e300": "'plateau_sd'",
    'feedback = 3': "'feedback'",
    'eta = ["0.1", 0.2]': "'eta[0]'",
    'eta = "0.1,0.2"': "'eta'",
    "eta = [0.1, nan]": "'eta[1]'",
    "fast_rng = 1": "'fast_rng'",
    "out = 5": "'out'",
    "model = 3": "'model'",
    "learning_rate = 0.1": "learning_rate",
}


@pytest.mark.parametrize("text", list(CONFIG_CASES), ids=list(CONFIG_CASES))
def test_config_file_errors(text, tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text(text + "\n")
    out = [] if text.startswith("out") else ["--out", str(tmp_path / "out")]   # options win over the file
    code, err = run_cli(["train", "--config", str(cfg)] + out, capsys)
    assert_one_line_error(code, err, CONFIG_CASES[text])
    assert not (tmp_path / "out" / "run.lock").exists()


def test_yaml_string_hidden(tmp_path, capsys):
    cfg = tmp_path / "run.yaml"
    cfg.write_text('hidden: "55"\n')
    code, err = run_cli(["train", "--config", str(cfg), "--out", str(tmp_path / "out")], capsys)
    assert_one_line_error(code, err, "run.yaml", "'hidden'")


def test_config_file_missing_or_unreadable(tmp_path, capsys):
    code, err = run_cli(["train", "--config", str(tmp_path / "nope.toml")], capsys)
    assert_one_line_error(code, err, "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("hidden = [10\n")
    code, err = run_cli(["train", "--config", str(bad)], capsys)
    assert_one_line_error(code, err, "bad.toml")


# -------------------------------------------------------------------------- every option of train
BAD = {   # option -> values that must be refused (wrong type, negative, zero, huge, NaN)
    "--hidden": ["abc", "55x", "-5", "10,0", "10000000", "nan", "1.5"],
    "--train-size": ["abc", "-5", "0", "1000000000", "nan", "1e3"],
    "--test-size": ["abc", "-5", "0", "20000", "nan"],
    "--epochs": ["abc", "-1", "0", str(10 ** 12), "nan"],
    "--seed": ["abc", "-1", str(2 ** 64), "nan", "1.5"],
    "--eta": ["abc", "-0.1", "0.1,-0.2", "nan", "inf", "0.1", "0.1,0.1,0.1"],
    "--g-a": ["abc", "-1", "1e300", "nan", "inf"],
    "--test-duration": ["abc", "-1", "0", "1e9", "nan", "inf", "10"],
    "--plateau-sd": ["abc", "-1", "1e300", "nan", "inf"],
    "--chunk-steps": ["abc", "-1", "0", "1", str(10 ** 12), "nan"],
    "--feedback": ["bogus", "1"],
    "--device": ["bogus"],
    "--precision": ["float16"],
}
OPTION_CASES = [(opt, v) for opt, values in BAD.items() for v in values]


@pytest.mark.parametrize("option,value", OPTION_CASES, ids=[f"{o}={v}" for o, v in OPTION_CASES])
def test_every_train_option_checked(option, value, tmp_path, capsys):
    argv = ["train", "--out", str(tmp_path / "out"), "--hidden", "10", option, value]
    code, err = run_cli(argv, capsys)
    assert_one_line_error(code, err)
    assert option in err or option.lstrip("-").replace("-", "_") in err


def test_out_is_a_file_or_not_writable(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    code, err = run_cli(["train", "--hidden", "10", "--out", str(f)], capsys)
    assert_one_line_error(code, err, str(f), "not a folder")
    code, err = run_cli(["train", "--hidden", "10", "--out", str(f / "sub")], capsys)
    assert_one_line_error(code, err, "--out")
    # /proc refuses new files even to root (chmod does not stop root)
    code, err = run_cli(["train", "--hidden", "10", "--out", "/proc/brian-segdend-test"], capsys)
    assert_one_line_error(code, err, "/proc/brian-segdend-test", "--out")


def test_other_commands(tmp_path, capsys):
    for argv, word in ((["compare-mnist", "--n-exc", "0"], "--n-exc"),
                       (["compare-mnist", "--test-size", "20000"], "10000"),
                       (["compare-mnist", "--train-sizes", "100,70000"], "60000"),
                       (["fig10", "--apical-v", "nan"], "--apical-v"),
                       (["fig10", "--n-neurons", "-3"], "--n-neurons"),
                       (["compare", "--trials", "0"], "--trials"),
                       (["main", "--train-size", "0"], "--train-size"),
                       (["main", "--train-size", "1000000000", "--out", str(tmp_path / "m")], "60000")):
        code, err = run_cli(argv, capsys)
        assert_one_line_error(code, err, word)


# -------------------------------------------------------------------------- the classes themselves
def test_classes_refuse_wrong_types():
    with pytest.raises(ParameterError, match="'hidden'"):
        TrainConfig(hidden="55")
    with pytest.raises(ParameterError, match="'hidden'"):
        ModelParams(hidden="55")
    with pytest.raises(ParameterError, match="'E_E'"):
        ModelParams(E_E="9")
    with pytest.raises(ParameterError, match="'seed'"):
        TrainConfig(seed=True)
    with pytest.raises(ParameterError, match="'divergence_limit'"):
        TrainConfig(divergence_limit="abc")
    with pytest.raises(ParameterError, match="'n_output'"):
        ModelParams(n_output=5.0)
    assert TrainConfig(hidden=0).hidden == () and TrainConfig(hidden=[20, 10]).hidden == (20, 10)
    assert TrainConfig(model={"eta": 0.0}, hidden=0).model_params().learning_rates == (0.0,)
    assert math.isclose(TrainConfig(model={"dt": 0.5}).model_params().steps("phase_min"), 130)   # depth timing
    assert math.isclose(TrainConfig(model={"dt": 0.5, "timing": "paper"}).model_params().steps("phase_min"), 100)
