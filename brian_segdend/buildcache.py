"""Reuse compiled code between runs: ccache for the compiler, a fixed home for builds.

Brian2's cpp_standalone device writes a ``makefile`` whose rules call ``$(CXX)`` (and
make's built-in ``$(CC)`` rule for the bundled ``randomkit.c``) and runs ``make -j``
with the caller's environment. Setting ``CC``/``CXX`` to ``ccache gcc``/``ccache g++``
in this process therefore routes every standalone compilation through ccache; the
runtime (Cython) target reads the same variables through setuptools. ccache keys on the
preprocessed source and the flags, not on the folder, so the same network compiled in a
fresh build folder is served from the cache.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .data import default_cache_dir

__all__ = ["ENV_BUILD_DIR", "build_root", "configure_compiler_cache"]

ENV_BUILD_DIR = "BRIAN_SEGDEND_BUILD_DIR"


def configure_compiler_cache() -> bool:
    """Make C/C++ compilation in this process (and its children) go through ccache.

    Wraps ``$CC``/``$CXX`` (default ``gcc``/``g++``) as ``ccache <compiler>``. Does nothing
    if ccache is not on ``PATH`` or a variable already uses it; safe to call repeatedly.

    Returns
    -------
    bool
        True if ccache is in use.
    """
    ccache = shutil.which("ccache")
    if ccache is None:
        return False
    for var, default in (("CC", "gcc"), ("CXX", "g++")):
        current = os.environ.get(var, "").strip() or default
        if Path(current.split()[0]).name != "ccache":
            os.environ[var] = f"{ccache} {current}"
    return True


def build_root(create: bool = True) -> Path:
    """Folder holding the standalone build folders, so builds are reused between runs.

    ``$BRIAN_SEGDEND_BUILD_DIR`` if set, else ``<cache>/builds`` where ``<cache>`` is
    ``$BRIAN_SEGDEND_CACHE`` or ``~/.cache/brian_segdend``.
    """
    env = os.environ.get(ENV_BUILD_DIR)
    root = Path(env).expanduser() if env else default_cache_dir() / "builds"
    if create:
        root.mkdir(parents=True, exist_ok=True)
    return root


#: file (inside a standalone build folder) that receives the compiler's output
COMPILE_LOG = "compile.log"


def configure_standalone_build(jobs: int | None = None) -> None:
    """Brian2 cpp_standalone build settings for this project.

    * compiles go through ccache (:func:`configure_compiler_cache`);
    * ``make`` runs with ``-j<cores>`` (Brian2's default ``-j`` has no limit) and its output
      goes to ``compile.log`` in the build folder instead of the terminal, so a failed
      compile is reported as one message naming that log (see :func:`compile_error`).
    """
    import brian2
    configure_compiler_cache()
    jobs = jobs or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    # Brian2 runs "make <args>" through the shell, so a redirection here captures the output.
    brian2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{jobs}", f">{COMPILE_LOG}", "2>&1"]
    # Ctrl-C must interrupt (KeyboardInterrupt; the checkpoint of the last chunk is kept), not
    # make Brian2 end the run early "successfully" with a partial chunk
    brian2.prefs.core.stop_on_keyboard_interrupt = False
    # Brian2's defaults (-O3 -ffast-math -march=native ...) plus loop unrolling: +4% measured
    flags = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    if "-funroll-loops" not in flags:
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = flags + ["-funroll-loops"]


def compile_error(build_dir, error: Exception) -> RuntimeError:
    """A RuntimeError for a failed standalone compile that names the compiler log."""
    log = Path(build_dir) / COMPILE_LOG
    tail = ""
    try:
        lines = [l for l in log.read_text(errors="replace").splitlines() if "error" in l.lower()]
        if lines:
            tail = "; first error: " + lines[0].strip()[:300]
    except OSError:
        pass
    return RuntimeError(f"C++ compilation failed; the compiler's output is in {log}{tail}")


def fresh_standalone_device(directory, float_dtype=None) -> None:
    """Make Brian2's cpp_standalone device current and empty, building into ``directory``.

    ``float_dtype`` (default float64) becomes Brian2's ``core.default_float_dtype``: it is set
    on every call, so a float32 network never leaves its precision to the next build.

    ``brian2.device.reinit()`` acts on whichever device is current, so after a runtime-device
    simulation it would leave the standalone device's old state (e.g. "apply_run_args() can
    only be called once"). This selects the standalone device first, then resets it.
    """
    import brian2
    import numpy as np
    configure_standalone_build()
    brian2.prefs.core.default_float_dtype = np.float64 if float_dtype is None else float_dtype
    brian2.set_device("cpp_standalone", build_on_run=False, directory=str(directory))
    brian2.device.reinit()
    brian2.set_device("cpp_standalone", build_on_run=False, directory=str(directory))


def build_standalone(build_dir) -> float:
    """Generate and compile the current cpp_standalone project in ``build_dir`` (no run).

    Unchanged code is not recompiled (Brian2 rewrites only changed files; ccache serves the
    rest). Returns the seconds it took; a failed compile raises :func:`compile_error`.
    """
    import time
    import brian2
    t0 = time.perf_counter()
    try:
        brian2.device.build(run=False, directory=str(build_dir), compile=True, with_output=False)
    except RuntimeError as e:
        raise compile_error(build_dir, e) from e
    return time.perf_counter() - t0


def apply_run_args_and_seed(seed_variable, fast_rng: bool = False) -> None:
    """Apply ``run_args`` here in the generated ``main`` and re-seed the C++ random generator
    from ``seed_variable`` (a ``(shared, constant)`` variable set through ``run_args``).

    Brian2's ``seed()`` is compiled into the binary, so every run of one build would draw the
    same random numbers; this makes the seed a run-time argument. Single-threaded builds only
    (generator 0). With ``fast_rng``, the generator of :mod:`brian_segdend.fastrng` is seeded
    from the same value.
    """
    import brian2
    brian2.device.apply_run_args()
    arr = brian2.device.get_array_name(seed_variable)
    brian2.device.insert_code("main", f"brian::_random_generators[0].seed((unsigned long){arr}[0]);")
    if fast_rng:
        brian2.device.insert_code("main", f"segdend::rng_seed((uint64_t){arr}[0]);")
