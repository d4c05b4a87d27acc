"""Sweeps on Dask distributed: grids x seeds, aggregation, an existing cluster, dying workers, resume.

Every test runs the same tiny configurations (784-20-10, 150 training / 100 test images, two
epochs), so each run's numbers can be compared with the undisturbed reference sweep. The
compiled build lives in one folder for the whole file (``$BRIAN_SEGDEND_BUILD_DIR``).
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from brian_segdend.model.params import ParameterError
from brian_segdend.studies.sweep import (
    Engine,
    aggregate,
    apply_params,
    expand_points,
    paper_grid_axes,
    parse_grid_option,
    read_run,
    run_sweep,
)

pytestmark = pytest.mark.slow

BASE = {"hidden": [20], "train_size": 150, "test_size": 100, "epochs": 2, "chunk_steps": 4000}
TRAIN_ARGS = ["--hidden", "20", "--train-size", "150", "--test-size", "100", "--epochs", "2",
              "--chunk-steps", "4000"]


def sigint_default():
    """In a child process: SIGINT's default handling, as a terminal gives it (a suite started in
    the background hands its children SIGINT ignored, which the package keeps by design)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def quiet(*args, **kwargs):
    pass


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    """One build folder for the file, inherited by every worker started here."""
    folder = tmp_path_factory.mktemp("builds")
    old = os.environ.get("BRIAN_SEGDEND_BUILD_DIR")
    os.environ["BRIAN_SEGDEND_BUILD_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("BRIAN_SEGDEND_BUILD_DIR", None)
    else:
        os.environ["BRIAN_SEGDEND_BUILD_DIR"] = old


@pytest.fixture(scope="module")
def reference(build_dir, tmp_path_factory):
    """eta 0.1, 0.2 x seeds 1, 2 on a LocalCluster of two workers."""
    out = tmp_path_factory.mktemp("ref")
    points = expand_points(BASE, {"eta": [0.1, 0.2]}, None, [1, 2], out=out)
    doc = run_sweep(points, out, Engine(workers=2, dashboard=":0"), log=quiet)
    return out, doc


def _weights(folder):
    with np.load(Path(folder) / "weights.npz") as z:
        return {k: z[k] for k in z.files if not k.startswith("__")}


def assert_same_runs(out, ref_out, names):
    for name in names:
        got, want = read_run(Path(out) / name), read_run(Path(ref_out) / name)
        assert got["status"] == "finished", (name, got)
        assert got["test_error"] == want["test_error"], name
        assert got["initial_test_error"] == want["initial_test_error"], name
        w, w_ref = _weights(Path(out) / name), _weights(Path(ref_out) / name)
        for k in w_ref:
            np.testing.assert_array_equal(w[k], w_ref[k])


def test_grid_runs_and_aggregates(reference):
    out, doc = reference
    names = sorted(r["name"] for r in doc["runs"])
    assert names == ["eta=0.1_seed1", "eta=0.1_seed2", "eta=0.2_seed1", "eta=0.2_seed2"]
    assert all(r["status"] == "finished" and len(r["test_error"]) == 2 for r in doc["runs"])
    for r in doc["runs"]:
        res = json.loads((out / r["name"] / "results.json").read_text())
        assert res["config"]["model"]["eta"] == [r["params"]["eta"]] * 2 and res["config"]["seed"] == r["seed"]
        assert (out / r["name"] / "checkpoint.npz").exists() and not (out / r["name"] / "run.lock").exists()
    # seeds differ, so the runs differ
    assert _weights(out / "eta=0.1_seed1")["W0"].tolist() != _weights(out / "eta=0.1_seed2")["W0"].tolist()
    assert len(doc["aggregates"]) == 2
    for a in doc["aggregates"]:
        runs = [r for r in doc["runs"] if r["params"] == a["params"]]
        assert sorted(a["seeds"]) == [1, 2] and a["n"] == 2
        finals = np.array([r["final_test_error"] for r in runs])
        assert a["final_test_error_mean"] == pytest.approx(finals.mean(), abs=1e-15)
        assert a["final_test_error_sem"] == pytest.approx(finals.std(ddof=1) / np.sqrt(2), abs=1e-15)
        curves = np.array([r["test_error"] for r in runs])
        np.testing.assert_allclose(a["test_error_mean"], curves.mean(axis=0), atol=1e-15)
        np.testing.assert_allclose(a["test_error_sem"], curves.std(axis=0, ddof=1) / np.sqrt(2), atol=1e-15)
    saved = json.loads((out / "sweep.json").read_text())
    assert saved["aggregates"] == doc["aggregates"]
    rows = (out / "sweep.csv").read_text().splitlines()
    assert rows[0].startswith("name,eta,seed,status,final_test_error") and len(rows) == 5
    assert (out / "sweep_curves.png").stat().st_size > 1000


def test_existing_scheduler_and_workers(reference, build_dir, tmp_path):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1; the sweep goes through --scheduler."""
    ref_out, _ = reference
    dask = str(Path(sys.executable).parent / "dask")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    sched_file = tmp_path / "scheduler.json"
    procs = []
    try:
        procs.append(subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                       "--scheduler-file", str(sched_file)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.time() + 60
        while not sched_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for _ in range(2):
            procs.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard",
                                           "--host", "127.0.0.1"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        out = tmp_path / "sweep"
        done = subprocess.run([sys.executable, "-m", "brian_segdend", "sweep", *TRAIN_ARGS, "--grid", "eta=0.1,0.2",
                               "--seeds", "1", "--scheduler", address, "--out", str(out)],
                              env=env, capture_output=True, text=True, timeout=400)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "[2/2]" in done.stdout and "progress: 2/2" in done.stdout
        assert_same_runs(out, ref_out, ["eta=0.1_seed1", "eta=0.2_seed1"])
        hosts = {r["name"]: r for r in json.loads((out / "sweep.json").read_text())["runs"]}
        assert len(hosts) == 2
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _first_running(out, names, min_chunk=1):
    """(folder, pid) of a run holding its lock with at least ``min_chunk`` chunks done."""
    from brian_segdend.training.train import CheckpointError, load_checkpoint
    for name in names:
        folder = out / name
        lock, ckpt = folder / "run.lock", folder / "checkpoint.npz"
        if lock.exists() and ckpt.exists():
            try:
                _, meta = load_checkpoint(ckpt)
                pid = json.loads(lock.read_text())["pid"]
            except (CheckpointError, ValueError, KeyError, OSError):
                continue
            if meta["chunk"] >= min_chunk and meta["epoch"] < BASE["epochs"]:
                return folder, pid
    return None


def test_killed_worker_task_is_resumed(reference, build_dir, tmp_path):
    """SIGKILL the worker process in the middle of a task: the task runs again (on a new worker
    process), resumes from its checkpoint and ends with the numbers of the undisturbed sweep."""
    ref_out, _ = reference
    out = tmp_path / "sweep"
    points = expand_points(BASE, {"eta": [0.1, 0.2]}, None, [1], out=out)
    names = [p.name for p in points]
    result, errors = {}, []

    def target():
        try:
            result["doc"] = run_sweep(points, out, Engine(workers=2, dashboard=":0"), log=quiet)
        except Exception as e:   # pragma: no cover - reported below
            errors.append(e)

    th = threading.Thread(target=target)
    th.start()
    killed = None
    deadline = time.time() + 240
    while killed is None and th.is_alive() and time.time() < deadline:
        found = _first_running(out, names)
        if found:
            folder, pid = found
            assert pid != os.getpid()
            os.kill(pid, signal.SIGKILL)
            killed = folder
        time.sleep(0.02)
    th.join(timeout=300)
    assert not th.is_alive() and not errors, errors
    assert killed is not None, "no task was caught while running"
    log = (killed / "train.log").read_text()
    assert log.count("task started") >= 2 and "resuming from epoch" in log
    assert [r["status"] for r in result["doc"]["runs"]] == ["finished", "finished"]
    assert_same_runs(out, ref_out, names)


def _task_starts(out, names) -> int:
    logs = [out / n / "train.log" for n in names]
    return sum(p.read_text().count("task started") for p in logs if p.exists())


def test_sweep_resume_after_client_killed(reference, build_dir, tmp_path):
    """kill -9 of the sweep (client, scheduler and workers), then Ctrl-C of a resumed sweep (exit
    130, no worker tracebacks); `sweep --resume` finishes the runs with the numbers of an
    undisturbed sweep and skips the finished ones."""
    ref_out, _ = reference
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "brian_segdend", "sweep", *TRAIN_ARGS, "--grid", "eta=0.1,0.2", "--seeds", "1",
           "--workers", "2", "--dashboard", ":0", "--out", str(out)]
    names = ["eta=0.1_seed1", "eta=0.2_seed1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=sigint_default)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None and not _first_running(out, names):
            time.sleep(0.02)
        assert proc.poll() is None, "sweep ended before it could be killed"
    finally:
        # the whole process group: the client and the worker processes it started
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "--resume" in again.stderr
    starts = _task_starts(out, names)
    # Ctrl-C in a terminal: SIGINT to the whole process group (client and workers) stops the
    # sweep with exit 130 and no worker tracebacks; the runs keep their checkpoints
    proc = subprocess.Popen(cmd + ["--resume"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, preexec_fn=sigint_default)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and _task_starts(out, names) <= starts:
        time.sleep(0.05)
    time.sleep(1.0)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode in (130, 0), output[-3000:]     # 0 only if the sweep finished first
    assert "Traceback" not in output, output[-3000:]
    done = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same_runs(out, ref_out, names)
    # a finished sweep is only re-collected
    last = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=120)
    assert last.returncode == 0 and "2 of 2 run(s) already finished" in last.stdout
    assert "dask scheduler" not in last.stdout           # nothing started: only collected


def test_points_names_and_options(tmp_path, capsys):
    """Grid parsing, folder names, per-layer rates, sweep files, and one-line errors for bad options."""
    assert parse_grid_option("eta=0.05,0.1") == ("eta", [0.05, 0.1])
    assert parse_grid_option("hidden=500,500/100") == ("hidden", [500, [500, 100]])
    assert parse_grid_option("g-a=0,0.05") == ("g_a", [0, 0.05])
    with pytest.raises(ParameterError, match="unknown parameter 'learning_rate'"):
        parse_grid_option("learning_rate=0.1")
    with pytest.raises(ParameterError, match="--seeds"):
        parse_grid_option("seed=1,2")
    cfg = apply_params({"hidden": [500, 100], "model": {}}, {"eta1": 0.5, "eta_scale": 2})
    assert cfg["model"]["eta"] == [0.115, 1.0, 0.06]      # the default preset's rates (Table 1 x 0.25) x 2
    cfg = apply_params({"hidden": [500, 100], "model": {"rates": "table1"}}, {"eta1": 0.5, "eta_scale": 2})
    assert cfg["model"]["eta"] == [0.46, 1.0, 0.24]
    pts = expand_points(BASE, {"hidden": [20, [20, 10]], "eta_scale": [0.5]}, [{"g_a": 0.05}], [3, 4], out=tmp_path)
    assert [p.name for p in pts] == ["hidden=20_eta_scale=0.5_seed3", "hidden=20_eta_scale=0.5_seed4",
                                     "hidden=20-10_eta_scale=0.5_seed3", "hidden=20-10_eta_scale=0.5_seed4",
                                     "g_a=0.05_seed3", "g_a=0.05_seed4"]
    assert pts[2].config["model"]["eta"] == [0.02875, 0.02875, 0.015] and pts[2].config["hidden"] == [20, 10]
    assert pts[0].group == pts[1].group != pts[2].group
    with pytest.raises(ParameterError, match="eta"):
        expand_points(BASE, {"eta2": [0.1]}, None, [1], out=tmp_path)
    axes = paper_grid_axes(2, scale=0.25)
    assert list(axes) == ["eta0", "eta1"] and len(axes["eta0"]) == 11
    assert axes["eta0"][0] == 0.025 and axes["eta0"][-1] == 0.075
    # sweep file + command line through the CLI's parser
    from brian_segdend.studies.sweep import points_from_args, sweep_parser
    f = tmp_path / "s.toml"
    f.write_text('seeds = [1, 2]\n[base]\nhidden = [20]\ntrain_size = 300\n[base.model]\ng_a = 0.05\n'
                 '[grid]\neta = [0.1, 0.2]\n[[list]]\nhidden = [30]\n')
    args = sweep_parser().parse_args(["--sweep", str(f), "--train-size", "200", "--out", str(tmp_path / "o")])
    points, base, out = points_from_args(args)
    assert len(points) == 6 and base["train_size"] == 200 and base["model"]["g_a"] == 0.05
    assert points[-1].config["hidden"] == [30] and points[-1].config["model"]["g_a"] == 0.05
    assert Path(points[0].config["out"]).parent == tmp_path / "o"
    from brian_segdend.cli import main
    bad = tmp_path / "bad.toml"
    bad.write_text("[grids]\neta = [0.1]\n")
    for argv, msg in ((["sweep", "--sweep", str(bad)], "unknown key"), (["sweep", "--grid", "eta"], "NAME=VALUE"),
                      (["sweep", "--workers", "0"], "--workers"), (["sweep", "--seeds", "a"], "--seeds")):
        assert main(argv) == 2                     # a configuration error: exit 2, nothing run
        assert msg in capsys.readouterr().err


def test_aggregate_partial_and_single_seed():
    runs = [{"group": "g", "params": {"x": 1}, "seed": s, "status": st, "test_error": te, "final_test_error": fe,
             "initial_test_error": 0.9, "examples_per_second": 10.0, "run_wall_s": 1.0}
            for s, st, te, fe in ((1, "finished", [0.5, 0.4], 0.4), (2, "partial", [0.6], None))]
    a, = aggregate(runs)
    assert a["epochs"] == 1 and a["test_error_mean"] == [pytest.approx(0.55)] and a["n_finished"] == 1
    assert a["final_test_error_mean"] == 0.4 and a["final_test_error_sem"] is None


def test_paper_grid_search(reference, build_dir, tmp_path):
    """--paper-grid on a 2 x 2 coarse grid (each layer's rate) then the fine stage around the best."""
    ref_out, ref_doc = reference
    out = tmp_path / "pg"
    done = subprocess.run([sys.executable, "-m", "brian_segdend", "sweep", *TRAIN_ARGS, "--seed", "1",
                           "--paper-grid", "--paper-range", "0.1,0.2,0.1", "--paper-fine-span", "0",
                           "--workers", "2", "--dashboard", ":0", "--out", str(out)],
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    res = json.loads((out / "paper_grid.json").read_text())
    coarse = json.loads((out / "coarse" / "sweep.json").read_text())
    assert sorted(r["name"] for r in coarse["runs"]) == [f"eta0={a}_eta1={b}_seed1" for a in (0.1, 0.2)
                                                        for b in (0.1, 0.2)]
    best = min(coarse["aggregates"], key=lambda a: a["final_test_error_mean"])
    assert res["stages"]["coarse"]["best"]["rates"] == best["params"]
    assert res["best_rates"] == [best["params"]["eta0"], best["params"]["eta1"]]
    # equal rates on both layers are the reference sweep's eta=0.1 / eta=0.2 runs
    for eta in (0.1, 0.2):
        got = read_run(out / "coarse" / f"eta0={eta}_eta1={eta}_seed1")["test_error"]
        assert got == read_run(ref_out / f"eta={eta}_seed1")["test_error"]
    assert "use --eta" in done.stdout and (out / "coarse" / "sweep_heatmap.png").exists()


def test_refusal_names_the_sweep_folder_for_nested_layouts(tmp_path):
    """Paper studies lay runs out as <out>/<variant>/seed<k>: the refusal names <out>."""
    from brian_segdend.studies.sweep import SweepPoint, check_folders
    from brian_segdend.training.errors import TrainingError
    out = tmp_path / "fig8"
    points = [SweepPoint(name=f"{v}/seed{s}", group=v, params={}, seed=s,
                         config={"out": str(out / v / f"seed{s}")}) for v in ("random", "sparse") for s in (1, 2)]
    (out / "sparse" / "seed2").mkdir(parents=True)
    (out / "sparse" / "seed2" / "checkpoint.npz").write_bytes(b"x")
    check_folders(points, resume=True)                    # resuming: nothing refused
    with pytest.raises(TrainingError, match=rf"^{out}: 1 run folder\(s\) already hold runs \(e\.g\. sparse/seed2\)"):
        check_folders(points, resume=False)
