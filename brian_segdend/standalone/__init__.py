"""Brian2 cpp_standalone machinery: build cache, compiled-network lifecycle, dense kernels, fast RNG.

buildcache  Build folders, locks, completion markers, atomic run inputs, ccache.
compiled    One lifecycle for every compiled network (build key, generate, build, run).
dense       All-to-all spike delivery and weight updates as contiguous C++ loops.
fastrng     Optional xoshiro256+ ``rand()`` (C++ header in ``cpp/``).
"""

from .. import _brian  # noqa: F401  (before any module of this package imports Brian2: no leftover temporary files)
