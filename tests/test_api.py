"""The package's public entry points, and the README's Python example run as written."""

import os
import re
from pathlib import Path

import pytest

import brian_segdend

README = Path(__file__).resolve().parents[1] / "README.md"


def test_entry_points_are_listed_and_documented():
    names = [n for n in dir(brian_segdend) if not n.startswith("_")]
    for name in ("ModelParams", "SegDendNetwork", "TrainConfig", "train_run", "evaluate", "load_mnist",
                 "load_weights", "EquationFileError", "simulate"):
        assert name in names and name in brian_segdend.__all__
        assert getattr(brian_segdend, name).__doc__, name
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        brian_segdend.nonexistent  # noqa: B018


@pytest.mark.slow
def test_readme_python_example_runs(tmp_path, capsys):
    text = README.read_text()
    block = re.search(r"<!-- api-example -->\n```python\n(.*?)```", text, re.S)
    assert block, "the README's Python example is missing"
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(block.group(1), "README.md (api-example)", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "% after one epoch" in out and "[20]" in out
    assert (tmp_path / "results" / "api_example" / "weights.npz").exists()
