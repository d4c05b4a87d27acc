"""The package's public entry points, and the README's Python example run as written."""

import ast
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


def _private_uses(path: Path) -> list:
    """``file:line: name`` for every import of, or attribute access to, a ``_private`` name of
    brian_segdend in one test file (dunder names such as ``__all__`` are public)."""

    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))

    tree = ast.parse(path.read_text(), str(path))
    ours = set()    # local names bound to brian_segdend modules or objects
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "brian_segdend":
                    if any(private(part) for part in a.name.split(".")):
                        found.append((node.lineno, a.name))
                    ours.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "brian_segdend":
            for part in node.module.split("."):
                if private(part):
                    found.append((node.lineno, node.module))
            for a in node.names:
                if private(a.name):
                    found.append((node.lineno, f"{node.module}.{a.name}"))
                ours.add(a.asname or a.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in ours:
                found.append((node.lineno, f"{root.id}...{node.attr}"))
    return [f"{path.name}:{line}: {what}" for line, what in sorted(found)]


def test_tests_use_public_names_only():
    offenders = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        offenders += _private_uses(path)
    assert not offenders, "tests reach private names of brian_segdend:\n" + "\n".join(offenders)


def test_private_name_check_finds_imports_and_attributes(tmp_path):
    bad = tmp_path / "test_bad.py"
    bad.write_text("import os\nfrom brian_segdend.training import data\nfrom brian_segdend.standalone.buildcache import _x\n"
                   "data._sha256('f')\nos._exit\ndata.__all__\n")
    assert _private_uses(bad) == ["test_bad.py:3: brian_segdend.standalone.buildcache._x",
                                  "test_bad.py:4: data..._sha256"]


def test_modules_import_no_private_names_of_other_modules():
    """No module of the package imports another module's ``_private`` names (private submodules
    such as ``_brian``, imported for their side effects, are modules, not names)."""
    package = Path(brian_segdend.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("brian_segdend")):
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__") \
                            and not (package / f"{a.name}.py").exists():
                        offenders.append(f"{path.relative_to(package.parent)}:{node.lineno}: {a.name}")
    assert not offenders, "\n".join(offenders)
