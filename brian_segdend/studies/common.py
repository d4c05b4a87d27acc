"""Helpers the studies share: strict JSON output and mean +- SEM.

:func:`finite` turns NaN into ``None`` (strict JSON has no NaN), :func:`json_default`
turns NumPy scalars and arrays into Python numbers and lists for :func:`json.dumps`, and
:func:`mean_sem` gives the mean and standard error of a sample.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mean_sem", "json_default", "finite"]


def mean_sem(x) -> tuple[float, float]:
    """Mean and standard error of the mean (NaN SEM for fewer than two values)."""
    x = np.asarray(x, float)
    sem = float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")
    return float(x.mean()), sem


def json_default(o):
    """``default=`` for :func:`json.dumps`: NumPy scalars -> Python numbers, arrays -> lists, else ``str``."""
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def finite(o):
    """NaN -> None for strict JSON."""
    if isinstance(o, float):
        return o if np.isfinite(o) else None
    if isinstance(o, dict):
        return {k: finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [finite(v) for v in o]
    return o
