"""Numbers with Brian2 units from text, without ``eval``: ``0.02/ms``, ``-65*mV``, ``1e7 * ms``.

:func:`parse_quantity` reads the value of a ``#: param`` line of an equation file, of
``--set NAME=VALUE`` and of a configuration file's string value. The text is parsed with
Python's :mod:`ast` and evaluated by a small interpreter that knows only numbers, Brian2's
unit names (``brian2.core.namespace.DEFAULT_UNITS``), ``*``, ``/``, ``**`` (a number as the
exponent), unary ``+``/``-`` and parentheses: nothing else can run. :func:`format_quantity`
writes a value back as such text, exactly (``parse_quantity(format_quantity(q)) == q``).
"""

from __future__ import annotations

import ast
import math

import numpy as np
from brian2 import Quantity
from brian2.core.namespace import DEFAULT_UNITS
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

__all__ = ["QuantityParseError", "parse_quantity", "format_quantity"]


class QuantityParseError(ValueError):
    """Text that is not a number with Brian2 units."""


def _value(node, text):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id in DEFAULT_UNITS:
            return DEFAULT_UNITS[node.id]
        raise QuantityParseError(f"unknown unit {node.id!r} in {text!r}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _value(node.operand, text)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div, ast.Pow)):
        left = _value(node.left, text)
        right = _value(node.right, text)
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if not isinstance(right, Quantity) and right == 0:
                raise QuantityParseError(f"division by zero in {text!r}")
            return left / right
        if isinstance(right, Quantity) and get_dimensions(right) is not DIMENSIONLESS:
            raise QuantityParseError(f"an exponent must be a plain number in {text!r}")
        return left ** float(right)
    raise QuantityParseError(f"{text!r} is not a number with units (allowed: numbers, Brian2 unit names, "
                             f"*, /, ** and parentheses, e.g. 0.02/ms)")


def parse_quantity(text) -> Quantity | float:
    """A number with Brian2 units from ``text`` (a plain float when it has no units).

    Parameters
    ----------
    text : str, int or float
        E.g. ``"0.02/ms"``, ``"0.02 /ms"``, ``"-65*mV"``, ``"20 * hertz"``, ``"3"``.

    Returns
    -------
    Quantity or float

    Raises
    ------
    QuantityParseError
        Anything else (other names, calls, attributes, non-finite values), naming the text.

    Examples
    --------
    >>> from brian2 import ms
    >>> parse_quantity("0.02/ms") == 0.02 / ms
    True
    """
    if isinstance(text, bool):
        raise QuantityParseError(f"expected a number with units, got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    elif isinstance(text, Quantity):
        value = text
    else:
        if not isinstance(text, str) or not text.strip():
            raise QuantityParseError(f"expected a number with units, got {text!r}")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError:
            raise QuantityParseError(f"cannot parse {text!r} as a number with units (e.g. 0.02/ms)") from None
        value = _value(tree.body, text)
    if isinstance(value, Quantity) and get_dimensions(value) is DIMENSIONLESS:
        value = float(value)
    if not math.isfinite(float(np.asarray(value))):
        raise QuantityParseError(f"{text!r} is not finite")
    return value


def format_quantity(value) -> str:
    """``value`` as text that :func:`parse_quantity` reads back exactly (``'20.0 * hertz'``, ``'3.0'``)."""
    if not isinstance(value, Quantity) or get_dimensions(value) is DIMENSIONLESS:
        return repr(float(value))
    unit = value.get_best_unit()
    return f"{float(value / unit)!r} * {unit!r}"
