"""Parameters declared in the equation files (issue 16): a user adds ``g_la : 1/second (shared,
constant)`` and ``#: param g_la = 0/ms`` to a copy of the equations, uses it in an equation, and sets
it per run with ``--set g_la=...`` or a ``[model]`` key: no Python edited, no rebuild."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import ms, mV

from brian_segdend.model.contract import validation_namespace
from brian_segdend.model.equations import EquationFileError, equation_root, load_all, resolve_user_params
from brian_segdend.model.params import ParameterError
from brian_segdend.model.quantities import QuantityParseError, format_quantity, parse_quantity
from brian_segdend.training.train import TrainConfig, load_checkpoint, load_weights

CLI = [sys.executable, "-m", "brian_segdend"]
SMALL = ["--hidden", "20", "--train-size", "150", "--test-size", "60", "--epochs", "1", "--seed", "4",
         "--chunk-steps", "4000"]
DECLARATION = "g_la : 1/second (shared, constant)   # my apical leak\n"
VALUE = "#: param g_la = 0 /ms                 # default: no extra leak\n"


def user_tree(root: Path, declaration=DECLARATION, value=VALUE) -> Path:
    """A copy of the equations with an apical leak ``- g_la*y_a`` in ``hidden_apical.eqs``;
    returns the tree (for ``BRIAN_SEGDEND_EQUATIONS``)."""
    eqs = root / "equations"
    shutil.copytree(equation_root(), eqs)
    apical = eqs / "segdend" / "hidden_apical.eqs"
    text = apical.read_text()
    old = "dy_a/dt = (x_a - y_a)/tau_L : 1\n"
    assert old in text
    apical.write_text(text.replace(old, "dy_a/dt = (x_a - y_a)/tau_L - g_la*y_a : 1\n" + declaration + value))
    return eqs


def line_of(path: Path, start: str) -> int:
    return next(k for k, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def run_cli(args, eqs, timeout=900):
    env = dict(os.environ, BRIAN_SEGDEND_EQUATIONS=str(eqs))
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=timeout, env=env)


# ---------------------------------------------------------------- values with units, without eval
def test_quantities_parse_with_units_and_round_trip():
    assert parse_quantity("0.02/ms") == 0.02 / ms
    assert parse_quantity("0.02 /ms") == 0.02 / ms
    assert parse_quantity("-65*mV") == -65 * mV
    assert parse_quantity("3") == 3.0
    for q in (0.02 / ms, -65 * mV, 0.123456789123 * ms, 2.5):
        assert parse_quantity(format_quantity(q)) == q
    for bad in ("__import__('os').system('true')", "ms.dim", "foo*ms", "1/0", "2**ms", "", "1e999*ms"):
        with pytest.raises(QuantityParseError):
            parse_quantity(bad)


# ---------------------------------------------------------------- errors before anything is built
def test_a_declared_parameter_without_a_value_names_file_and_line(tmp_path):
    eqs = user_tree(tmp_path, value="")
    apical = eqs / "segdend" / "hidden_apical.eqs"
    with pytest.raises(EquationFileError) as err:
        load_all(validation_namespace(), eqs / "segdend")
    assert f"{apical}:{line_of(apical, 'g_la :')}:" in str(err.value)
    assert "#: param g_la =" in str(err.value)


def test_a_default_with_the_wrong_unit_names_file_and_line(tmp_path):
    eqs = user_tree(tmp_path, value="#: param g_la = 5*mV\n")
    apical = eqs / "segdend" / "hidden_apical.eqs"
    with pytest.raises(EquationFileError, match=rf"{apical}:{line_of(apical, '#: param')}: parameter 'g_la'"):
        load_all(validation_namespace(), eqs / "segdend")


def test_a_value_without_a_declaration_is_an_error(tmp_path):
    eqs = user_tree(tmp_path, declaration="")
    with pytest.raises(EquationFileError, match=r"hidden_apical\.eqs:\d+: '#: param g_la'.*not declared"):
        load_all(validation_namespace(), eqs / "segdend")


def test_resolve_checks_names_and_units(tmp_path):
    files = load_all(validation_namespace(), user_tree(tmp_path) / "segdend")
    assert resolve_user_params(files) == {"g_la": 0 / ms}
    assert resolve_user_params(files, {"g_la": "0.02/ms"}) == {"g_la": 0.02 / ms}
    with pytest.raises(ParameterError, match=r"'g_lb'.*declared there: g_la"):
        resolve_user_params(files, {"g_lb": "0.02/ms"})
    with pytest.raises(ParameterError, match=r"parameter 'g_la'.*hidden_apical\.eqs:\d+ declares it"):
        resolve_user_params(files, {"g_la": "2*mV"})


def test_command_line_errors_name_the_parameter(tmp_path):
    eqs = user_tree(tmp_path)
    out = ["--out", str(tmp_path / "run")]
    unknown = run_cli(["train", *SMALL, *out, "--set", "g_lb=0.02/ms"], eqs, timeout=120)
    assert unknown.returncode == 2 and "'g_lb'" in unknown.stderr and "declared there: g_la" in unknown.stderr
    wrong = run_cli(["train", *SMALL, *out, "--set", "g_la=0.02*mV"], eqs, timeout=120)
    assert wrong.returncode == 2 and "parameter 'g_la'" in wrong.stderr and "hidden_apical.eqs" in wrong.stderr
    code = run_cli(["train", *SMALL, *out, "--set", "g_la=__import__('os')"], eqs, timeout=120)
    assert code.returncode == 2 and "not a number with units" in code.stderr
    assert not (tmp_path / "run" / "results.json").exists()


def test_a_config_file_key_is_the_same_as_set(tmp_path, monkeypatch):
    eqs = user_tree(tmp_path)
    monkeypatch.setenv("BRIAN_SEGDEND_EQUATIONS", str(eqs))
    from_file = TrainConfig.from_dict({"model": {"g_la": "0.5/ms"}})
    from_set = TrainConfig.from_dict({"model": {"user_params": {"g_la": "500*Hz"}}})
    assert from_file.model == from_set.model == {"user_params": {"g_la": format_quantity(0.5 / ms)}}
    with pytest.raises(ParameterError, match=r"unknown model parameter\(s\) \['g_lx'\].*g_la"):
        TrainConfig.from_dict({"model": {"g_lx": "0.5/ms"}})


# ---------------------------------------------------------------- runs (one build)
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The default value, --set g_la=0.5/ms twice: three runs of one build."""
    root = tmp_path_factory.mktemp("user")
    eqs = user_tree(root)
    out = {}
    for name, extra in (("default", []), ("leak", ["--set", "g_la=0.5/ms"]), ("leak_again", ["--set", "g_la=0.5/ms"])):
        r = run_cli(["train", *SMALL, "--out", str(root / name), *extra], eqs)
        assert r.returncode == 0, r.stderr
        out[name] = root / name
    return eqs, out


def weights(folder):
    with np.load(folder / "weights.npz") as z:
        return {k: z[k] for k in z.files if not k.startswith(("__", "dyn:"))}


@pytest.mark.slow
def test_a_parameter_set_from_the_command_line_changes_the_result_without_a_rebuild(runs):
    _, out = runs
    base, leak, again = (json.loads((out[k] / "results.json").read_text()) for k in ("default", "leak", "leak_again"))
    assert base["user_params"] == {"g_la": format_quantity(0 / ms)}
    assert leak["user_params"] == {"g_la": format_quantity(0.5 / ms)}
    assert base["provenance"]["build"] == leak["provenance"]["build"]            # a run argument: same build
    w0, w1, w2 = weights(out["default"]), weights(out["leak"]), weights(out["leak_again"])
    assert not np.array_equal(w0["W0"], w1["W0"])                              # the leak changes learning
    for k in w1:
        np.testing.assert_array_equal(w1[k], w2[k])                            # the same value: the same run


@pytest.mark.slow
def test_values_are_recorded_and_part_of_the_resume_key(runs):
    eqs, out = runs
    _, meta = load_weights(out["leak"] / "weights.npz")
    assert meta["config"]["effective_model"]["user_params"] == {"g_la": format_quantity(0.5 / ms)}
    _, ck = load_checkpoint(out["leak"] / "checkpoint.npz")
    assert ck["config"]["model"]["user_params"] == {"g_la": format_quantity(0.5 / ms)}
    other = run_cli(["train", "--out", str(out["leak"]), "--resume", "--epochs", "2", "--set", "g_la=0.2/ms"], eqs,
                    timeout=300)
    assert other.returncode == 1
    assert "different configuration" in other.stderr and "user_params.g_la" in other.stderr


@pytest.mark.slow
def test_evaluate_uses_the_recorded_value(runs):
    eqs, out = runs
    res = json.loads((out["leak"] / "results.json").read_text())
    r = run_cli(["evaluate", "--weights", str(out["leak"] / "weights.npz"), "--out", str(out["leak"] / "ev")], eqs,
                timeout=300)
    assert r.returncode == 0, r.stderr
    ev = json.loads((out["leak"] / "ev" / "evaluate.json").read_text())
    assert ev["test_error"] == res["final_test_error"] and ev["user_params"] == res["user_params"]
