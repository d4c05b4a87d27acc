"""Command-line option types and a parser whose errors are one line with exit code 2.

Every numeric option is checked when it is parsed: a wrong type, NaN, infinity, a negative
or zero value where none makes sense give ``error: --option: ...`` and exit code 2 before
anything is loaded, built or run.
"""

from __future__ import annotations

import argparse
import math
import sys

__all__ = ["OneLineParser", "positive_int", "nonneg_int", "positive_float", "nonneg_float", "finite_float",
           "int_list", "float_list", "seed_int", "MAX_SEED", "set_pair", "add_set_option", "SET_HELP"]

MAX_SEED = 2 ** 63 - 1


class OneLineParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose usage errors are one line: ``error: --opt: ...`` (exit 2)."""

    def error(self, message):
        """Print a one-line usage error and exit with status 2."""
        if message.startswith("argument "):
            message = message[len("argument "):]
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip().replace("_", ""))
    except (ValueError, AttributeError):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def positive_int(text: str) -> int:
    """An integer >= 1."""
    v = _int(text, "a positive integer")
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {v}")
    return v


def nonneg_int(text: str) -> int:
    """An integer >= 0."""
    v = _int(text, "a non-negative integer")
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {v}")
    return v


def seed_int(text: str) -> int:
    """A seed: an integer in 0 .. 2**63 - 1."""
    v = nonneg_int(text)
    if v > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be at most 2**63 - 1, got {v}")
    return v


def finite_float(text: str) -> float:
    """A finite number (NaN and infinities are refused)."""
    try:
        v = float(text)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return v


def nonneg_float(text: str) -> float:
    """A finite number >= 0."""
    v = finite_float(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
    return v


def positive_float(text: str) -> float:
    """A finite number > 0."""
    v = finite_float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return v


def int_list(text: str) -> tuple:
    """Comma-separated positive integers; ``0``, ``none`` or nothing for an empty tuple."""
    text = text.strip()
    if text.lower() in ("0", "", "none"):
        return ()
    return tuple(positive_int(x) for x in text.split(","))


def float_list(text: str) -> tuple:
    """Comma-separated non-negative finite numbers."""
    return tuple(nonneg_float(x) for x in text.split(","))


def set_pair(text: str) -> tuple:
    """``NAME=VALUE`` of ``--set`` as ``(name, value text)``.

    The value's units are checked later, against the parameter's declaration in the equation files.
    """
    name, sep, value = str(text).partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name.isidentifier() or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with units, e.g. g_la=0.02/ms, got {text!r}")
    return name, value


SET_HELP = ("set a parameter declared in an equation file (NAME : unit (shared, constant) plus "
            "'#: param NAME = default'), e.g. --set g_la=0.02/ms; repeatable; a run argument (no rebuild)")


def add_set_option(ap):
    """Add the repeatable ``--set NAME=VALUE`` option (``args.user_params``: a list of pairs or None)."""
    ap.add_argument("--set", dest="user_params", type=set_pair, action="append", metavar="NAME=VALUE", help=SET_HELP)


def fail(message: str) -> int:
    """Print ``error: message`` on stderr and return exit code 2 (a usage/configuration error)."""
    print(f"error: {message}", file=sys.stderr)
    return 2
