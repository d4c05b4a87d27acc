"""One lifecycle for every compiled (``cpp_standalone``) network of the project.

The training network (:class:`brian_segdend.model.network.SegDendNetwork`), Figure 10
(:class:`brian_segdend.studies.fig10.Fig10Model`) and Diehl & Cook
(:class:`brian_segdend.studies.diehl_cook.DiehlCookNetwork`) all go through the same steps:

1. **build key -> folder**: a hash of everything that changes the generated code names a
   folder under :func:`brian_segdend.standalone.buildcache.build_root` (:func:`build_hash`);
2. **start**: a fresh standalone device building into that folder;
3. **generate**: the objects' code, with run arguments applied and the C++ generator
   re-seeded from a run-time variable (so every run value is a ``run_args`` entry);
4. **build**: compile once (cache integrity, locks and the completion marker belong to
   :func:`brian_segdend.standalone.buildcache.build_standalone`);
5. **run**: with ``run_args`` (size-checked here: Brian2 does not reject a wrong-sized
   array), through :func:`brian_segdend.standalone.buildcache.run_compiled`, which writes the inputs
   atomically into a private folder and removes it afterwards.

A compiled run can end itself early through :func:`stop_function` (the C++ stop flag).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import brian2 as b2
import numpy as np
from brian2.core.variables import VariableView

from . import fastrng
from .buildcache import apply_run_args_and_seed, build_root, build_standalone, fresh_standalone_device, run_compiled

__all__ = ["build_hash", "stop_function", "CompiledNetwork", "UsesCompiledNetwork"]


def build_hash(payload: dict) -> str:
    """16 hex digits identifying a build: SHA-256 of the payload as sorted JSON."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stop_function(name: str = "stop_simulation", stateless: bool = True) -> b2.Function:
    """``name(flag)``: in C++, ends the current compiled run after this step when flag > 0.5 (Brian2's ``Network::_globally_stopped``).

    Returns ``flag``. A no-op in runtime mode.

    ``stateless=False`` keeps Brian2 from treating the call as a pure function of its argument.
    """
    code = f"""
double {name}(double flag) {{
    if (flag > 0.5) Network::_globally_stopped = true;
    return flag;
}}
"""

    def pyfunc(flag):
        return flag

    f = b2.Function(pyfunc, arg_units=[1], arg_names=["flag"], return_unit=1, stateless=stateless)
    f.implementations.add_implementation("cpp", code=code, name=name,
                                      compiler_kwds={"headers": ['"network.h"']})
    return f


class CompiledNetwork:
    """The build folder, device, code generation, build and runs of one compiled network.

    Parameters
    ----------
    prefix : str
        Folder name prefix (``<prefix>-<hash>``).
    payload : dict
        Everything that changes the generated code (JSON-serialisable, or ``str()``-able).
    build_dir : path, optional
        Where the standalone project lives; default ``build_root()/<prefix>-<hash>``.
    """

    def __init__(self, prefix: str, payload: dict, build_dir=None):
        self.build_hash = build_hash(payload)
        self.build_dir = Path(build_dir) if build_dir else Path(build_root()) / f"{prefix}-{self.build_hash}"
        self.timings = {}
        self.sizes = {}     # object name -> number of neurons / synapses (run-argument checks)
        self.built = False

    def start(self, float_dtype=None) -> None:
        """Make a fresh standalone device, building into :attr:`build_dir`."""
        fresh_standalone_device(self.build_dir, float_dtype=float_dtype)

    def generate(self, net: b2.Network, duration, namespace: dict, seed_variable, fast_rng: bool = False,
                 after_run_args=None) -> None:
        """Generate the code of ``net`` run for ``duration``.

        Run arguments are applied at the start of ``main`` and the C++ random generator is
        seeded from ``seed_variable`` (a ``(shared, constant)`` variable). ``after_run_args``
        (optional callable) runs in between, for code that must see the run arguments.
        ``fast_rng``: ``rand()`` from :mod:`brian_segdend.standalone.fastrng`.
        """
        apply_run_args_and_seed(seed_variable, fast_rng=fast_rng)
        if after_run_args is not None:
            after_run_args()
        t0 = time.perf_counter()
        if fast_rng:
            fastrng.use_header()
            with fastrng.fast_rand():
                net.run(duration, namespace=namespace)
        else:
            net.run(duration, namespace=namespace)
        self.timings["codegen_s"] = time.perf_counter() - t0

    def build(self, log=print) -> None:
        """Compile the generated project (cached: unchanged code does not recompile)."""
        if self.built:
            return
        self.timings["build_s"] = build_standalone(self.build_dir, log=log)
        self.built = True

    def check_size(self, obj, name: str, value) -> None:
        """Raise ValueError if ``value`` does not fit the variable ``obj.name``.

        A shared variable takes one value, any other as many as the object has elements.
        """
        size = np.size(value)
        if size == 1:
            return
        if getattr(obj.variables[name], "scalar", False):
            raise ValueError(f"run argument {obj.name}.{name} is shared; got an array of size {size}")
        expected = self.sizes[obj.name]
        if size != expected:
            raise ValueError(f"run argument {obj.name}.{name}: expected {expected} values, got {size}")

    def run_args(self, assignments, arrays: dict | None = None) -> dict:
        """``run_args`` from (object, variable name, value) triples and TimedArray values.

        TimedArrays that no compiled code reads are left out (Brian2 refuses them); every
        array must have the shape of the build.
        """
        out = {}
        for ta, value in (arrays or {}).items():
            if ta not in b2.device.timed_arrays:
                continue
            arr = np.ascontiguousarray(value, dtype=float)
            if arr.shape != ta.values.shape:
                raise ValueError(f"TimedArray {ta.name}: shape {arr.shape}, the build needs {ta.values.shape}")
            out[ta] = arr
        for obj, name, value in assignments:
            self.check_size(obj, name, value)
            out[getattr(obj, name)] = value
        return out

    def run(self, run_args: dict, log=print) -> float:
        """Build if needed, then run the binary with ``run_args``; returns the wall time in seconds."""
        for key in run_args:
            if not isinstance(key, (VariableView, b2.TimedArray)):
                raise TypeError(f"run_args keys must be variables or TimedArrays, got {type(key).__name__}")
        self.build(log=log)
        t0 = time.perf_counter()
        run_compiled(self.build_dir, run_args)
        return time.perf_counter() - t0


class UsesCompiledNetwork:
    """Mixin for a model that keeps its :class:`CompiledNetwork` in ``self.compiled``.

    The build's hash, folder and timings as the model's own attributes.
    """

    @property
    def build_hash(self) -> str:
        """Hash of everything that changes the generated code."""
        return self.compiled.build_hash

    @property
    def build_dir(self) -> Path:
        """The standalone project's folder."""
        return self.compiled.build_dir

    @property
    def timings(self) -> dict:
        """Seconds spent generating (``codegen_s``) and building (``build_s``)."""
        return self.compiled.timings
