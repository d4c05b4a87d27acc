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
