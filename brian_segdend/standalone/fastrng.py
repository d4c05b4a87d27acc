"""A faster uniform generator for ``rand()`` in the network's compiled code.

Brian2 2.9's C++ ``rand()`` builds each double from two ``std::mt19937`` outputs. The
network draws ~70,000 of them per training example (Poisson thresholds of the input and
hidden layers), which made the hidden layer's threshold the most expensive code object
after the dense kernels (:mod:`brian_segdend.standalone.dense`). :func:`fast_rand` makes ``rand()``
in the code generated inside it call ``segdend::rng_uniform()`` (xoshiro256+, header
``cpp/segdend_rng.h``) instead; the distribution (uniform on [0, 1), 53 bits) is the same,
the stream for a given seed differs from Brian2's.

The generator is seeded in the compiled ``main`` from the same run-time seed as Brian2's own
generator (:func:`brian_segdend.standalone.buildcache.apply_run_args_and_seed`), which stays in use for
anything else (``randn()``). Only Brian2's ``rand`` implementation for the standalone device
is swapped, and only while the network's code is generated; other Brian2 code in the same
process is unaffected. Single-threaded builds only (one global state).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import brian2
from brian2.core.functions import DEFAULT_FUNCTIONS, FunctionImplementation
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

__all__ = ["HEADER_DIR", "HEADER", "header_text", "fast_rand", "use_header"]

HEADER_DIR = Path(__file__).parent / "cpp"
HEADER = "segdend_rng.h"

_RAND_CODE = """
static inline double _rand(const int _vectorisation_idx) {
    return segdend::rng_uniform();
}
"""


def header_text() -> str:
    """The C++ header of the generator (part of the build hash)."""
    return (HEADER_DIR / HEADER).read_text()


def use_header() -> None:
    """Make the current standalone device include the generator's header everywhere (main too)."""
    name = f'"{HEADER}"'
    if name not in brian2.device.headers:
        brian2.device.headers.append(name)
    if str(HEADER_DIR) not in brian2.device.include_dirs:
        brian2.device.include_dirs.append(str(HEADER_DIR))


@contextmanager
def fast_rand():
    """Within this block, generated standalone code implements ``rand()`` with the fast generator."""
    impls = DEFAULT_FUNCTIONS["rand"].implementations._implementations
    previous = impls[CPPStandaloneCodeObject]
    impls[CPPStandaloneCodeObject] = FunctionImplementation(name="_rand", code=_RAND_CODE, dependencies={})
    try:
        yield
    finally:
        impls[CPPStandaloneCodeObject] = previous
