"""Build folders are either complete or not used; runs leave nothing behind.

Each test damages a real build folder the way a kill, a full disk or a stray edit would
(truncated or zero-length binary, objects, start-up arrays, run inputs) and checks that the
next run gives the same numbers as a clean folder, or a clear error, and never exit 0 with
different numbers.
"""

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from brian2 import ms

from brian_segdend.model.network import SegDendNetwork, initial_weights
from brian_segdend.model.params import ModelParams
from brian_segdend.model.schedule import pack_chunk
from brian_segdend.standalone import buildcache
from brian_segdend.standalone.buildcache import BUILD_MARKER, BuildError, BuildWarning, check_build

pytestmark = pytest.mark.slow

N_IMAGES = 12
STEPS = 40


def sigint_default():
    """In a child process: SIGINT's default handling, as a terminal gives it (a suite started in
    the background hands its children SIGINT ignored, which the package keeps by design)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _net(build_dir):
    return SegDendNetwork(ModelParams(hidden=(6,), test_duration=STEPS * ms, timing="paper"), chunk_steps=N_IMAGES * STEPS,
                          build_dir=build_dir)


def _outputs(net, images):
    """Forward-window output voltages for ``images`` (one compiled run, fixed seed)."""
    state = initial_weights(net.params, np.random.default_rng(3))
    sch = pack_chunk(np.full(len(images), STEPS), net.chunk_steps, net.settle_steps, train=False)
    _, res = net.run_chunk(state, images, np.zeros(len(images)), sch, seed=5)
    return res.out_Vbar_f


@pytest.fixture(scope="module")
def images(mnist):
    return mnist.test_images[:N_IMAGES]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, images):
    folder = tmp_path_factory.mktemp("ref") / "net"
    net = _net(folder)
    net.build()
    out = _outputs(net, images)
    assert np.isfinite(out).all()
    return folder, out


def _rebuilt_outputs(folder, images):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = _net(folder)
        net.build()
    out = _outputs(net, images)
    return out, [w for w in caught if issubclass(w.category, BuildWarning)]


def test_complete_build_is_marked_and_runs_leave_no_inputs(reference):
    folder, _ = reference
    assert check_build(folder, full=True) is None
    assert (folder / BUILD_MARKER).is_file()
    leftovers = list((folder / buildcache.RUN_INPUTS).glob("*"))
    assert leftovers == []
    assert not list((folder / "static_arrays").glob("init_*"))


@pytest.mark.parametrize("damage", ["main_empty", "main_truncated", "objects_truncated_no_marker",
                                    "static_array_truncated", "marker_missing", "marker_garbage"])
def test_damaged_build_is_rebuilt_with_same_numbers(reference, images, damage):
    folder, expected = reference
    if damage == "main_empty":
        (folder / "main").write_bytes(b"")
    elif damage == "main_truncated":
        data = (folder / "main").read_bytes()
        (folder / "main").write_bytes(data[: len(data) // 2])
    elif damage == "objects_truncated_no_marker":
        # a kill while linking: objects cut short, an empty binary newer than them, no marker
        obj = folder / "objects.o"
        obj.write_bytes(obj.read_bytes()[:100])
        (folder / "main").write_bytes(b"")
        (folder / BUILD_MARKER).unlink()
    elif damage == "static_array_truncated":
        victim = sorted((folder / "static_arrays").glob("sch_*"))[0]
        victim.write_bytes(victim.read_bytes()[:8])
    elif damage == "marker_missing":
        (folder / BUILD_MARKER).unlink()
    elif damage == "marker_garbage":
        (folder / BUILD_MARKER).write_text("{not json")
    assert check_build(folder, full=True) is not None
    out, warned = _rebuilt_outputs(folder, images)
    assert warned, "a damaged build folder must be reported"
    np.testing.assert_array_equal(out, expected)
    assert check_build(folder, full=True) is None


def test_stale_argument_files_of_older_versions_are_ignored(reference, images):
    """A zero-length run-argument file under the name Brian2 would use is never read."""
    folder, expected = reference
    net = _net(folder)
    net.build()
    # plant empty files under every name Brian2 would give this run's arrays in static_arrays/
    import brian2
    state = initial_weights(net.params, np.random.default_rng(3))
    sch = pack_chunk(np.full(len(images), STEPS), net.chunk_steps, net.settle_steps, train=False)
    real = buildcache.write_array_atomic
    planted = []

    def plant_and_write(path, arr):
        stale = folder / "static_arrays" / path.name
        stale.write_bytes(b"")
        planted.append(stale)
        real(path, arr)

    buildcache.write_array_atomic = plant_and_write
    try:
        _, res = net.run_chunk(state, images, np.zeros(len(images)), sch, seed=5)
    finally:
        buildcache.write_array_atomic = real
    assert planted
    np.testing.assert_array_equal(res.out_Vbar_f, expected)
    del brian2


def test_truncated_run_input_is_an_error_not_a_result(reference, images, monkeypatch):
    """If an input file reaches the binary with the wrong size, the run fails loudly."""
    folder, _ = reference
    net = _net(folder)
    net.build()
    real = buildcache.write_array_atomic

    def truncated(path, arr):
        real(path, arr)
        if "images" in path.name:
            with open(path, "r+b") as f:
                f.truncate(0)

    monkeypatch.setattr(buildcache, "write_array_atomic", truncated)
    with pytest.raises(BuildError, match="could not read its inputs"):
        _outputs(net, images)
    assert list((folder / buildcache.RUN_INPUTS).glob("*")) == []


def test_folder_damaged_after_build_refuses_to_run(reference, images):
    folder, expected = reference
    net = _net(folder)
    net.build()
    main = folder / "main"
    data = main.read_bytes()
    main.write_bytes(data[:1000])
    try:
        with pytest.raises(BuildError, match="damaged"):
            _outputs(net, images)
    finally:
        main.write_bytes(data)
        os.chmod(main, 0o755)
    np.testing.assert_array_equal(_outputs(net, images), expected)


def test_stale_results_of_dead_processes_are_removed(reference):
    folder, _ = reference
    ctx = mp.get_context("fork")
    p = ctx.Process(target=os._exit, args=(0,))
    p.start()
    p.join()
    dead = folder / f"results_{p.pid}"
    (dead / "sub").mkdir(parents=True)
    inputs = folder / buildcache.RUN_INPUTS / f"{p.pid}-abc"
    inputs.mkdir(parents=True)
    net = _net(folder)
    net.build()
    assert not dead.exists() and not inputs.exists()


def _hold_build_lock(folder, exclusive, log, pause):
    import time
    with buildcache.build_lock(folder, exclusive=exclusive):
        with open(log, "a") as f:
            f.write(f"+{'x' if exclusive else 's'}\n")
        time.sleep(pause)
        with open(log, "a") as f:
            f.write(f"-{'x' if exclusive else 's'}\n")


def test_build_lock_excludes_builds_from_runs(tmp_path):
    """Readers may overlap each other; a writer never overlaps anyone."""
    folder = tmp_path / "b"
    log = tmp_path / "log"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_hold_build_lock, args=(folder, k % 3 == 0, log, 0.05)) for k in range(12)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    readers = writers = 0
    for line in log.read_text().split():
        kind = line[1]
        if line[0] == "+":
            if kind == "x":
                assert readers == 0 and writers == 0
                writers += 1
            else:
                assert writers == 0
                readers += 1
        else:
            if kind == "x":
                writers -= 1
            else:
                readers -= 1
    assert readers == 0 and writers == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_interrupt_during_compile_stops_make_and_next_run_rebuilds(tmp_path, sig):
    """``kill -INT``/``-TERM`` while make runs ends the run at once (exit 130 / 143),
    leaves no compiler behind, and the half-built folder is
    rebuilt by the next run, never used."""
    env = dict(os.environ, BRIAN_SEGDEND_BUILD_DIR=str(tmp_path / "builds"))
    cmd = [sys.executable, "-m", "brian_segdend", "train", "--hidden", "7", "--train-size", "30",
           "--test-size", "20", "--chunk-steps", "3000", "--out", str(tmp_path / "run")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=sigint_default)
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "builds").glob("*/compile.log")):
        time.sleep(0.05)
    assert list((tmp_path / "builds").glob("*/compile.log")), "make did not start"
    time.sleep(0.3)
    proc.send_signal(sig)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the run ignored the signal during the compile") from None
    err = proc.stderr.read().decode()
    assert code in (130, 143), err
    assert "compilation failed" not in err
    folder = next(p for p in (tmp_path / "builds").glob("net-*") if p.is_dir())
    if not (folder / BUILD_MARKER).exists():
        # no compiler of that build still running (the make process group was killed)
        busy = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True).stdout.split()
        assert busy == []
    done = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert check_build(folder, full=True) is None


def _fake_build(root, name, age_days=0.0):
    d = root / name
    (d / "static_arrays").mkdir(parents=True)
    (d / "main").write_bytes(b"\x7fELF" + b"x" * 1000)
    (d / "static_arrays" / "sch_ex_values").write_bytes(b"y" * 800)
    buildcache.write_marker(d)
    buildcache.touch_build(d)
    lock = buildcache.lock_path(d)
    lock.touch()
    t = time.time() - age_days * 86400
    os.utime(lock, (t, t))
    return d


def test_cache_command_reports_and_cleans(tmp_path, monkeypatch, capsys):
    from brian_segdend.cli import main
    root = tmp_path / "builds"
    old = _fake_build(root, "net-old", age_days=10)
    new = _fake_build(root, "net-new", age_days=0)
    broken = _fake_build(root, "net-broken", age_days=0)
    (broken / "main").write_bytes(b"")
    monkeypatch.setenv(buildcache.ENV_BUILD_DIR, str(root))
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert "net-old" in out and "net-new" in out and "3 build folder(s)" in out
    assert "net-broken" in out and "incomplete" in out
    assert main(["cache", "--clean", "--unused-days", "5"]) == 0
    assert not old.exists() and new.exists() and broken.exists()
    # a folder in use (its lock held, as during a run) is never removed
    with buildcache.build_lock(new, exclusive=False):
        assert main(["cache", "--clean"]) == 0
    assert new.exists() and not broken.exists()
    assert "skipped net-new (in use)" in capsys.readouterr().out
    assert main(["cache", "--clean"]) == 0
    assert not new.exists()
