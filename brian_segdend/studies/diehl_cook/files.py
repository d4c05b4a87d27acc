"""Diehl & Cook's equation files: ``equations/diehl_cook/*.eqs``.

:class:`EquationFile` and :func:`load_equation_file`, read in the project's dialect
(:func:`brian_segdend.model.equations.read_equation_file`); errors are
:class:`~brian_segdend.model.equations.EquationFileError` naming ``path:line:``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import brian2 as b2

from ...model.equations import EquationFileError, equation_root, read_equation_file

__all__ = ["EquationFile", "DIRECTIVES", "default_equation_dir", "load_equation_file"]


@dataclass
class EquationFile:
    """One ``equations/diehl_cook/*.eqs`` file: raw text, equations, ``#:`` directives and the paper's parameter values (``#: param``)."""

    path: Path
    text: str
    eq_text: str
    directives: dict
    params: dict = field(default_factory=dict)   # name -> Quantity or number

    @property
    def equations(self) -> b2.Equations:
        """The Brian2 equations of the file."""
        return b2.Equations(self.eq_text)


#: the directives a Diehl & Cook file may set
DIRECTIVES = ("method", "threshold", "reset", "refractory", "on_pre", "on_post")


def default_equation_dir() -> Path:
    """Diehl & Cook's files: ``<equation_root()>/diehl_cook``."""
    return equation_root() / "diehl_cook"


def load_equation_file(name: str, directory=None) -> EquationFile:
    """Read ``<directory>/<name>.eqs`` in the project's dialect (:func:`brian_segdend.model.equations.read_equation_file`).

    Errors are :class:`~brian_segdend.model.equations.EquationFileError` naming ``path:line:``.
    """
    read = read_equation_file(Path(directory or default_equation_dir()) / f"{name}.eqs", DIRECTIVES, params=True)
    section = read.sections[""]
    try:
        b2.Equations(section.eq_text)
    except Exception as e:  # Brian2 raises several types
        raise EquationFileError(f"{read.path}:1: cannot parse the equations: {e}") from e
    return EquationFile(path=read.path, text=read.text, eq_text=section.eq_text,
                        directives={k: v[0] for k, v in section.directives.items()},
                        params={k: v[0] for k, v in read.params.items()})
