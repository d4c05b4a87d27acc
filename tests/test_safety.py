"""Issue 13: the run lock under races, and no output written through a symbolic link.

Fast: nothing here compiles a network.
"""

import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np
import pytest

from brian_segdend.training import safeio
from brian_segdend.training.train import (
    RunLock,
    RunLockedError,
    TrainingError,
    load_checkpoint,
    save_checkpoint,
    save_learning_curve,
    write_results_text,
    write_weights,
)


# -------------------------------------------------------------------------- run lock
def _race(folder, log, start_at, attempts):
    """Try to take the lock ``attempts`` times; while holding it, log +pid and -pid."""
    while time.time() < start_at:
        pass
    held = 0
    for _ in range(attempts):
        lock = RunLock(Path(folder))
        try:
            lock.acquire()
        except RunLockedError:
            continue
        fd = os.open(log, os.O_WRONLY | os.O_APPEND)
        os.write(fd, f"+{os.getpid()}\n".encode())
        time.sleep(0.001)
        os.write(fd, f"-{os.getpid()}\n".encode())
        os.close(fd)
        lock.release()
        held += 1
    return held


def test_lock_has_one_holder_under_a_race(tmp_path):
    """16 processes x 5 rounds x 20 attempts on one folder: never two holders at once.

    Measured with the lock this replaced (O_EXCL file, stale-lock removal): 16 of 30 rounds
    had two holders at once; with flock: 0 of 30.
    """
    ctx = mp.get_context("fork")
    with ctx.Pool(16) as pool:
        for r in range(5):
            folder = tmp_path / f"round{r}"
            folder.mkdir()
            log = folder / "holders.log"
            log.write_text("")
            held = pool.starmap(_race, [(str(folder), str(log), time.time() + 0.3, 20)] * 16)
            depth, worst, pids = 0, 0, []
            for line in log.read_text().split():
                depth += 1 if line[0] == "+" else -1
                worst = max(worst, depth)
                pids.append(line[1:])
            assert worst == 1, f"round {r}: {worst} holders at once"
            assert sum(held) >= 1 and sum(held) * 2 == len(pids)
            assert all(pids[i] == pids[i + 1] for i in range(0, len(pids), 2))
            assert not (folder / "run.lock").exists()


def test_lock_names_the_holder_and_survives_an_empty_file(tmp_path):
    (tmp_path / "run.lock").write_text("")      # an empty (or stale) file is not a lock
    with RunLock(tmp_path):
        with pytest.raises(RunLockedError, match=f"pid {os.getpid()} on"):
            RunLock(tmp_path).acquire()
    with RunLock(tmp_path):                     # released: can be taken again
        pass


def test_lock_of_a_killed_process_is_taken_over(tmp_path):
    ctx = mp.get_context("fork")
    p = ctx.Process(target=_hold_and_die, args=(str(tmp_path),))
    p.start()
    p.join()
    assert (tmp_path / "run.lock").exists() and json.loads((tmp_path / "run.lock").read_text())["pid"] == p.pid
    with RunLock(tmp_path):
        assert json.loads((tmp_path / "run.lock").read_text())["pid"] == os.getpid()


def _hold_and_die(folder):
    RunLock(Path(folder)).acquire()
    os._exit(0)          # no release: as kill -9


# -------------------------------------------------------------------------- symbolic links
OUTPUT_NAMES = ["checkpoint.npz", "checkpoint.tmp", "checkpoint.prev.npz", "weights.npz", "weights.tmp",
                "results.json", "results.json.tmp", "learning_curve.png", "learning_curve.png.tmp",
                "checkpoint.prev.npz.tmp"]


def _plant_links(folder: Path, outside: Path) -> dict:
    outside.mkdir()
    targets = {}
    for name in OUTPUT_NAMES:
        target = outside / f"victim-{name}"
        target.write_bytes(b"precious " + name.encode())
        (folder / name).symlink_to(target)
        targets[name] = target
    return targets


def _state():
    rng = np.random.default_rng(0)
    return {"W": [rng.normal(size=(3, 4))], "b": [np.ones(3)], "Y": [], "dynamic": {"h.V": np.zeros(3)}}


def test_outputs_never_written_through_links(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    targets = _plant_links(out, tmp_path / "outside")
    state = _state()
    save_checkpoint(out / "checkpoint.npz", state, {"epoch": 0})
    save_checkpoint(out / "checkpoint.npz", state, {"epoch": 1})
    write_weights(out / "weights.npz", state)
    write_results_text(out / "results.json", json.dumps({"finished": True}))
    save_learning_curve({"initial_test_error": 0.9, "epochs": [{"epoch": 1, "examples": 10, "test_error": 0.5}]},
                         out / "learning_curve.png")
    for name, target in targets.items():
        assert target.read_bytes() == b"precious " + name.encode(), name
    for name in ("checkpoint.npz", "checkpoint.prev.npz", "weights.npz", "results.json", "learning_curve.png"):
        assert (out / name).is_file() and not (out / name).is_symlink(), name
    for name in ("checkpoint.tmp", "weights.tmp", "results.json.tmp", "learning_curve.png.tmp",
                 "checkpoint.prev.npz.tmp"):
        assert not os.path.lexists(out / name), name      # stale temporary links removed, nothing left
    assert load_checkpoint(out / "checkpoint.npz")[1] == {"epoch": 1}
    assert load_checkpoint(out / "checkpoint.prev.npz")[1] == {"epoch": 0}


def test_lock_refuses_a_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.lock").symlink_to(victim)
    with pytest.raises(TrainingError, match="run.lock.*symbolic link"):
        RunLock(out).acquire()
    assert victim.read_text() == "precious"


def test_output_folder_may_be_a_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    safeio.atomic_write_text(tmp_path / "link" / "a.txt", "x")
    assert (real / "a.txt").read_text() == "x"


def test_temporary_file_raced_in_is_not_followed(tmp_path, monkeypatch):
    """A link planted between the removal of the stale temporary file and its creation."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    real_remove = safeio.remove_file

    def remove_then_plant(path):
        real_remove(path)
        os.symlink(victim, path)
    monkeypatch.setattr(safeio, "remove_file", remove_then_plant)
    with pytest.raises(OSError):
        safeio.atomic_write_text(tmp_path / "f.txt", "x")
    assert victim.read_text() == "precious"


def test_fig10_and_figure_writers_replace_links(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from brian_segdend.studies import fig10
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("fig10.json", "fig10.json.tmp", "plot.png", "plot.png.tmp"):
        (out / name).symlink_to(victim)
    fig10.write_outputs({"conditions": {}, "x": float("nan")}, {}, out, figures=False)
    fig, ax = plt.subplots()
    safeio.savefig_atomic(fig, out / "plot.png")
    plt.close(fig)
    assert victim.read_text() == "precious"
    assert json.loads((out / "fig10.json").read_text())["x"] is None
    assert (out / "plot.png").read_bytes()[:4] == b"\x89PNG"


# -------------------------------------------------------------------------- signals
_SLOW_TRAIN = """
import sys, time
import brian_segdend.training.data as d
real = d.load_mnist
def slow(*a, **k):
    print("ready", flush=True)
    time.sleep(4)
    return real(*a, **k)
d.load_mnist = slow
from brian_segdend.cli import main
sys.exit(main(["train", "--hidden", "10", "--train-size", "70000", "--out", sys.argv[1]]))
"""


def _start_slow_train(tmp_path, ignore_int=False):
    """A train command that waits 4 s while loading data, then stops on a configuration error
    (--train-size 70000 > 60000): a signal arrives while it waits, nothing is ever built."""
    import signal
    import subprocess
    import sys

    def preexec():
        if ignore_int:
            signal.signal(signal.SIGINT, signal.SIG_IGN)    # as nohup / a background job inherits it
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_TRAIN, str(tmp_path / "out")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=preexec)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_sigint_ignored_by_the_parent_stays_ignored(tmp_path):
    """Before: Brian2's handler called the inherited SIG_IGN and crashed (TypeError, exit 1)."""
    import signal
    proc = _start_slow_train(tmp_path, ignore_int=True)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err                      # went on to the configuration error
    assert "Traceback" not in err and "60000" in err


@pytest.mark.parametrize("sig,code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_interrupt_exit_codes(tmp_path, sig, code):
    import signal
    proc = _start_slow_train(tmp_path)
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "the last checkpoint is kept" in err
