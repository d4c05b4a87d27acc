"""The command line: every command answers --help, errors are one line with exit code 1 (runtime) or 2
(usage/configuration)."""

import pytest

from brian_segdend.cli import COMMANDS, main


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage" in capsys.readouterr().out.lower()


def test_unknown_command(capsys):
    assert main(["bogus"]) == 2
    assert "unknown command 'bogus'" in capsys.readouterr().err


def test_data_summary(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "980 1135 1032 1010 982 892 958 1028 974 1009" in out


def test_bad_input_is_one_line_error(tmp_path, capsys):
    assert main(["data", "--data", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing" in err
    with pytest.raises(SystemExit) as info:       # a usage error: argparse's exit code 2, one line
        main(["train", "--hidden", "10", "--eta", "0.1,nan", "--out", str(tmp_path / "r")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --eta: ") and err.count("\n") == 1
