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

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

import brian2
import numpy as np
from brian2.core.variables import VariableView

from ..training.data import default_cache_dir

__all__ = ["ENV_BUILD_DIR", "BUILD_MARKER", "BuildError", "BuildWarning", "build_root", "build_lock",
           "build_standalone", "cache_report", "check_build", "clean_cache", "configure_compiler_cache",
           "run_compiled", "lock_path", "write_marker", "write_array_atomic", "touch_build"]

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


def configure_standalone_build() -> None:
    """Brian2 cpp_standalone build settings for this project.

    * compiles go through ccache (:func:`configure_compiler_cache`);
    * ``make`` is run by :func:`build_standalone` itself (``-j<cores>``, output to ``compile.log``
      in the build folder, interruptible), so a failed compile is reported as one message naming
      that log (see :func:`compile_error`).
    """
    configure_compiler_cache()
    # Ctrl-C must interrupt (KeyboardInterrupt; the checkpoint of the last chunk is kept), not
    # make Brian2 end the run early "successfully" with a partial chunk
    brian2.prefs.core.stop_on_keyboard_interrupt = False
    # Brian2's defaults (-O3 -ffast-math -march=native ...) plus loop unrolling: +4% measured
    flags = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    if "-funroll-loops" not in flags:
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = flags + ["-funroll-loops"]


def compile_error(build_dir, error: Exception) -> BuildError:
    """A :class:`BuildError` for a failed standalone compile that names the compiler log."""
    log = Path(build_dir) / COMPILE_LOG
    tail = ""
    try:
        text = log.read_text(errors="replace").splitlines()
        lines = [ln for ln in text if "error" in ln.lower()]
        if lines:
            tail = "; first error: " + lines[0].strip()[:300]
        else:   # no compiler message (a killed compiler, an empty log): its last lines
            last = [ln.strip() for ln in text if ln.strip()][-3:]
            tail = "; last lines: " + (" | ".join(last)[:300] if last else "(empty)")
    except OSError:
        pass
    return BuildError(f"C++ compilation failed ({error}); the compiler's output is in {log}{tail}")


def fresh_standalone_device(directory, float_dtype=None) -> None:
    """Make Brian2's cpp_standalone device current and empty, building into ``directory``.

    ``float_dtype`` (default float64) becomes Brian2's ``core.default_float_dtype``: it is set
    on every call, so a float32 network never leaves its precision to the next build.

    ``brian2.device.reinit()`` acts on whichever device is current, so after a runtime-device
    simulation it would leave the standalone device's old state (e.g. "apply_run_args() can
    only be called once"). This selects the standalone device first, then resets it.
    """
    configure_standalone_build()
    brian2.prefs.core.default_float_dtype = np.float64 if float_dtype is None else float_dtype
    brian2.set_device("cpp_standalone", build_on_run=False, directory=str(directory))
    brian2.device.reinit()
    brian2.set_device("cpp_standalone", build_on_run=False, directory=str(directory))


def apply_run_args_and_seed(seed_variable, fast_rng: bool = False) -> None:
    """Apply ``run_args`` here in the generated ``main`` and re-seed the C++ random generator.

    The seed comes from ``seed_variable`` (a ``(shared, constant)`` variable set through
    ``run_args``).

    Brian2's ``seed()`` is compiled into the binary, so every run of one build would draw the
    same random numbers; this makes the seed a run-time argument. Single-threaded builds only
    (generator 0). With ``fast_rng``, the generator of :mod:`brian_segdend.standalone.fastrng` is seeded
    from the same value.
    """
    brian2.device.apply_run_args()
    arr = brian2.device.get_array_name(seed_variable)
    brian2.device.insert_code("main", f"brian::_random_generators[0].seed((unsigned long){arr}[0]);")
    if fast_rng:
        brian2.device.insert_code("main", f"segdend::rng_seed((uint64_t){arr}[0]);")


# ----------------------------------------------------------------------------- integrity
#: file (inside a build folder) written only after a build completed; see :func:`build_standalone`
BUILD_MARKER = "BUILD_COMPLETE.json"
#: sub-folder (inside a build folder) holding each run's input arrays; removed after each run
RUN_INPUTS = "run_inputs"


class BuildError(RuntimeError):
    """A build folder cannot be built, or a run of it went wrong (names the folder or file)."""


def lock_path(build_dir) -> Path:
    """The lock file of a build folder: ``<folder>.lock`` next to it (see :func:`build_lock`)."""
    build_dir = Path(build_dir)
    return build_dir.with_name(build_dir.name + ".lock")


@contextlib.contextmanager
def build_lock(build_dir, exclusive: bool):
    """Reader/writer lock on a build folder (``flock`` on ``<folder>.lock`` next to it).

    A build holds it exclusively; every run of the binary holds it shared, so a build (or the
    removal of a damaged folder) never happens under a running binary, and two processes
    never build the same folder at the same moment. The kernel drops the lock with the
    process, so a killed holder leaves nothing stale behind.
    """
    path = lock_path(build_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)   # releases the lock


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _build_files(build_dir: Path) -> dict:
    """Files whose damage would make the binary compute something else.

    The binary itself and the arrays it reads at start (``static_arrays/``, except run-argument
    files that older versions let Brian2 write there), with their sizes.
    """
    files = {"main": (build_dir / "main").stat().st_size}
    static = build_dir / "static_arrays"
    if static.is_dir():
        for p in sorted(static.iterdir()):
            if not p.name.startswith("init_") and not p.name.endswith(".lock"):
                files[f"static_arrays/{p.name}"] = p.stat().st_size
    return files


def write_marker(build_dir: Path) -> None:
    """Write :data:`BUILD_MARKER` (sizes of the build's files, SHA-256 of ``main``) atomically.

    From then on :func:`check_build` treats the folder as complete.
    """
    info = {"files": _build_files(build_dir), "main_sha256": _sha256_file(build_dir / "main")}
    tmp = build_dir / (BUILD_MARKER + f".tmp{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(info, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, build_dir / BUILD_MARKER)


def check_build(build_dir, full: bool = False) -> str | None:
    """Why the build folder is not complete and intact, or None if it is.

    Compares the binary and its start-up arrays with the sizes (and, with ``full``, the
    binary's SHA-256) recorded when the build completed.
    """
    build_dir = Path(build_dir)
    marker = build_dir / BUILD_MARKER
    try:
        info = json.loads(marker.read_text())
        recorded = info["files"]
    except FileNotFoundError:
        return f"no {BUILD_MARKER} (the build did not complete)"
    except (OSError, ValueError, KeyError, TypeError) as e:
        return f"{marker} is unreadable ({e})"
    for name, size in recorded.items():
        p = build_dir / name
        try:
            actual = p.stat().st_size
        except OSError:
            return f"{p} is missing"
        if actual != size:
            return f"{p} has {actual} bytes, the completed build had {size}"
    if full and _sha256_file(build_dir / "main") != info.get("main_sha256"):
        return f"{build_dir / 'main'} differs from the completed build (checksum)"
    return None


def _remove_stale_run_files(build_dir: Path) -> None:
    """Remove what runs of dead processes and older versions left in a build folder.

    That is: run inputs and result folders of processes that no longer exist, and the
    ``init_*`` argument files older versions let Brian2 write into ``static_arrays``.
    """
    def dead(pid_text):
        try:
            os.kill(int(pid_text), 0)
        except (ValueError, ProcessLookupError):
            return True
        except PermissionError:
            return False
        return False
    for d in list((build_dir / RUN_INPUTS).glob("*")) if (build_dir / RUN_INPUTS).is_dir() else []:
        if dead(d.name.split("-")[0]):
            shutil.rmtree(d, ignore_errors=True)
    for d in build_dir.glob("results_*"):
        if d.is_dir() and dead(d.name[len("results_"):]):
            shutil.rmtree(d, ignore_errors=True)
    static = build_dir / "static_arrays"
    if static.is_dir():
        for p in static.glob("init_*"):
            p.unlink(missing_ok=True)


def _run_make(build_dir: Path, jobs: int) -> None:
    """``make`` in its own process group, output to ``compile.log``.

    Brian2 compiles through ``os.system``, which ignores SIGINT in the calling process while make
    runs (``kill -INT`` was lost) and turns Ctrl-C into "compilation failed". Here an interrupt
    or SIGTERM kills the whole make process group and propagates as KeyboardInterrupt.
    """
    make = brian2.prefs.devices.cpp_standalone.make_cmd_unix
    with open(build_dir / COMPILE_LOG, "wb") as log:
        proc = subprocess.Popen([make, f"-j{jobs}"], cwd=build_dir, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = proc.wait()
        except BaseException:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
            raise
    if code != 0:
        raise compile_error(build_dir, RuntimeError(f"make exited with {code}"))


def build_standalone(build_dir, log=None) -> float:
    """Generate and compile the current cpp_standalone project in ``build_dir`` (no run).

    A folder counts as built only once :data:`BUILD_MARKER` records its binary and start-up
    arrays. A folder without it (a build killed half-way: a 0-byte ``main``, a truncated object
    file) or whose files no longer match it is removed with a warning and built again, never
    run. Unchanged code is not recompiled (Brian2 rewrites only changed files; ccache serves the
    rest). Holds the folder's exclusive :func:`build_lock`. ``log`` (e.g. ``print``) receives a
    line before a first build of these equations and its time after. Returns the seconds it
    took; a failed compile raises :func:`compile_error`.
    """
    build_dir = Path(build_dir)
    t0 = time.perf_counter()
    with build_lock(build_dir, exclusive=True):
        fresh = not build_dir.exists()
        if not fresh:
            problem = check_build(build_dir, full=True)
            if problem is not None:
                warnings.warn(f"build folder {build_dir} is incomplete or damaged ({problem}); "
                              f"removing it and building again", BuildWarning, stacklevel=2)
                shutil.rmtree(build_dir)
                fresh = True
            else:
                _remove_stale_run_files(build_dir)
        if fresh and log is not None:
            log(f"compiling {build_dir.name} (first build of this network here: up to a minute; "
                f"seconds if ccache has it) ...")
        build_dir.mkdir(parents=True, exist_ok=True)
        (build_dir / BUILD_MARKER).unlink(missing_ok=True)
        brian2.device.build(run=False, directory=str(build_dir), compile=False, with_output=False)
        _run_make(build_dir, _jobs())
        if not (build_dir / "main").is_file() or (build_dir / "main").stat().st_size == 0:
            raise compile_error(build_dir, RuntimeError("no binary after make"))
        write_marker(build_dir)
        touch_build(build_dir)
    took = time.perf_counter() - t0
    if fresh and log is not None:
        log(f"compiled {build_dir.name} in {took:.0f} s")
    return took


class BuildWarning(UserWarning):
    """A build folder was found incomplete or damaged and is rebuilt."""


#: what the binary prints when an input file is missing or has the wrong size (it then runs on)
_BINARY_INPUT_ERRORS = ("does not match expected size", "Could not read", "Error reading")


@contextlib.contextmanager
def _capture_stderr(path: Path):
    """Send file descriptor 2 (inherited by the binary) to ``path`` for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)


def write_array_atomic(path: Path, arr) -> None:
    """Write ``arr``'s raw bytes to ``path`` through ``<path>.part`` (never through a planted link.

    A short write is a :class:`BuildError`), then rename it into place.
    """
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(memoryview(np.ascontiguousarray(arr)).cast("B"))
    if tmp.stat().st_size != arr.nbytes:
        raise BuildError(f"{tmp}: wrote {tmp.stat().st_size} of {arr.nbytes} bytes")
    os.replace(tmp, path)


_RESULT_DIRS: set = set()


def _remove_result_dirs():
    for d in list(_RESULT_DIRS):
        shutil.rmtree(d, ignore_errors=True)
        _RESULT_DIRS.discard(d)


atexit.register(_remove_result_dirs)


def run_compiled(build_dir, run_args: dict) -> float:
    """Run the built binary of the current standalone device with ``run_args``; return seconds.

    Instead of letting Brian2 write each argument array into the shared ``static_arrays/``
    (non-atomically, and skipping names that exist, so a file cut short by a kill or a full disk
    was silently reused by every later run), each array is written here to a temporary name,
    checked for its size and renamed, inside a folder private to this run
    (``run_inputs/<pid>-<random>/``), and that folder is removed after the run: a build folder
    does not grow with the number of runs. The binary's results go to ``results_<pid>/``, reused
    by every run of this process and removed when it exits. A binary that reports an input file
    of the wrong size (Brian2's binary warns and runs on) raises :class:`BuildError`, as does a
    build folder whose binary no longer matches its completed build.
    """
    dev = brian2.get_device()
    build_dir = Path(build_dir)
    token = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    rel = Path(RUN_INPUTS) / token
    inputs = build_dir / rel
    results = f"results_{os.getpid()}"
    _RESULT_DIRS.add(str(build_dir / results))
    t0 = time.perf_counter()
    with build_lock(build_dir, exclusive=False):
        touch_build(build_dir)
        problem = check_build(build_dir)
        if problem is not None:
            raise BuildError(f"build folder {build_dir} is damaged ({problem}); it is rebuilt the next "
                             f"time the network is created")
        inputs.mkdir(parents=True)
        try:
            args = []
            for key, value in run_args.items():
                if isinstance(key, VariableView):
                    name, string_value, fname, arr = dev._prepare_variableview_run_arg(key, value)
                elif isinstance(key, brian2.TimedArray):
                    name, string_value, fname, arr = dev._prepare_timed_array_run_arg(key, value)
                else:
                    raise TypeError(f"run_args keys must be variables or TimedArrays, got {type(key).__name__}")
                if fname:
                    write_array_atomic(inputs / fname, arr)
                    string_value = str(rel / fname)
                args.append(f"{name}={string_value}")
            err_path = inputs / "stderr.txt"
            # (Brian2's check for huge values after a run compares float32 arrays with 1e50,
            # which numpy reports as an overflow)
            with _capture_stderr(err_path), np.errstate(over="ignore"):
                dev.run(directory=str(build_dir), results_directory=results, with_output=False, run_args=args)
            err = err_path.read_text(errors="replace")
        finally:
            shutil.rmtree(inputs, ignore_errors=True)
    bad = [line for line in err.splitlines() if any(s in line for s in _BINARY_INPUT_ERRORS)]
    if bad:
        raise BuildError(f"the compiled run in {build_dir} could not read its inputs: {bad[0].strip()}")
    if err.strip():
        sys.stderr.write(err)
    return time.perf_counter() - t0


def _jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


# ----------------------------------------------------------------------------- cache command
def _folder_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def _last_used(folder: Path) -> float:
    """When a build folder was last built or run (the mtime of its lock file, touched by both)."""
    for p in (lock_path(folder), folder / BUILD_MARKER, folder):
        try:
            return p.stat().st_mtime
        except OSError:
            continue
    return 0.0


def cache_report(root=None) -> list[dict]:
    """One entry per build folder under :func:`build_root`: name, bytes, last use, state."""
    root = Path(root) if root is not None else build_root(create=False)
    out = []
    if not root.is_dir():
        return out
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        problem = check_build(d)
        out.append({"name": d.name, "path": str(d), "bytes": _folder_size(d), "last_used": _last_used(d),
                    "state": "complete" if problem is None else f"incomplete ({problem})"})
    return out


def clean_cache(root=None, older_than_days: float | None = None, log=print) -> int:
    """Remove build folders (all, or those unused for ``older_than_days``); return bytes freed.

    A folder in use (its lock held by a build or a run) is skipped, never removed under a
    running binary.
    """
    root = Path(root) if root is not None else build_root(create=False)
    freed = 0
    now = time.time()
    for entry in cache_report(root):
        d = Path(entry["path"])
        if older_than_days is not None and now - entry["last_used"] < older_than_days * 86400:
            continue
        fd = os.open(lock_path(d), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log(f"skipped {d.name} (in use)")
                continue
            shutil.rmtree(d, ignore_errors=True)
            lock_path(d).unlink(missing_ok=True)
            freed += entry["bytes"]
            log(f"removed {d.name} ({entry['bytes'] / 1e6:.1f} MB)")
        finally:
            os.close(fd)
    return freed


def touch_build(build_dir: Path) -> None:
    """Mark a build folder as just used (the time stamp of its lock file, which :func:`clean_cache` reads); errors are ignored."""
    try:
        os.utime(lock_path(build_dir))
    except OSError:
        pass
