"""Parameter sweeps: many training runs on Dask distributed, one output folder per run.

A sweep is a set of configurations (a grid, a list, or both, each times a set of seeds) laid
over a base configuration. Every configuration is one :func:`brian_segdend.training.train.train_run`
in its own folder under the sweep's output folder, with the usual ``results.json``,
checkpoints and ``run.lock``. Tasks call ``train_run(config, resume=True)``, so a task that is
run again (after its worker died, or by ``sweep --resume``) continues from its checkpoint and
ends with exactly the numbers of an undisturbed run.

Engines
-------
* one machine: ``distributed.LocalCluster`` with ``--workers N`` single-threaded worker
  processes (default: the number of cores);
* an existing cluster: ``--scheduler tcp://host:port`` (``dask scheduler`` and
  ``dask worker tcp://host:port --nthreads 1`` started by hand);
* SLURM: ``--slurm`` builds a ``dask_jobqueue.SLURMCluster`` (the optional extra
  ``pip install brian-segdend[slurm]``), one single-core job per worker.

The output folder and the build cache (``$BRIAN_SEGDEND_BUILD_DIR``) must be on a file system
that every worker sees. Workers compiling the same network at the same moment are serialised by
the build cache's own lock (:func:`brian_segdend.standalone.buildcache.build_lock`: exclusive ``fcntl.flock``
on ``<build root>/<build folder name>.lock`` for a build, shared while a binary runs).

Output
------
``<out>/<name>/``    one run folder per configuration and seed (``train.log``: its log)
``sweep.json``       every run (parameters, seed, test error per epoch, wall time, examples/s)
                     and the aggregates over seeds per configuration (mean ± SEM)
``sweep.csv``        one row per run
``sweep_curves.png`` test error against epoch per configuration, mean ± SEM band
``sweep_heatmap.png`` final test error over a two-parameter grid

Sweep files
-----------
TOML or YAML::

    seeds = [1, 2, 3]
    [base]                 # train options as in a train --config file ([base.model] allowed)
    hidden = [500]
    train_size = 10000
    [grid]                 # one list per varied parameter; the sweep is their product
    eta = [0.05, 0.1]      # a single number for eta: the same rate for every layer
    g_a = [0.0, 0.05]
    [[list]]               # optional explicit configurations (each over the base)
    hidden = [500, 100]
    eta = [0.23, 0.23, 0.12]

Parameter names are :class:`~brian_segdend.training.train.TrainConfig` fields, model parameters
(:class:`~brian_segdend.model.params.ModelParams`), ``eta0``, ``eta1``, ... (one layer's rate) and
``eta_scale`` (a factor on the rates).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import itertools
import json
import math
import os
import re
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from ..cli import train_parser
from ..model.equations import EquationFileError
from ..model.params import DEFAULT_RATES, RATE_PRESETS, ModelParams, ParameterError, default_learning_rates
from ..standalone.buildcache import ENV_BUILD_DIR
from ..training.data import DataError, load_mnist
from ..training.train import (
    CheckpointError,
    RunLockedError,
    TrainConfig,
    TrainingError,
    format_duration,
    load_checkpoint,
    load_config_file,
    train_run,
)

__all__ = ["SweepPoint", "Engine", "parse_grid_option", "expand_points", "read_run", "aggregate",
           "run_points", "run_sweep", "run_task", "paper_grid_axes", "main"]

#: parameters a sweep may vary besides TrainConfig and ModelParams fields
_EXTRA_PARAMS = ("eta_scale",)
_ETA_LAYER = re.compile(r"^eta(\d+)$")


# -------------------------------------------------------------------------- parameters
def _train_fields() -> set:
    return {f.name for f in fields(TrainConfig)} - {"model", "out"}


def _model_fields() -> set:
    return {f.name for f in fields(ModelParams)}


def canonical_param(name: str, source: str = "sweep") -> str:
    """The parameter's name with ``_`` for ``-``; a ParameterError for an unknown name."""
    key = name.strip().replace("-", "_")
    if key in ("seed", "seeds"):
        raise ParameterError(f"{source}: give seeds with --seeds (or 'seeds = [...]' in a sweep file), "
                             f"not as a grid parameter")
    if key == "out":
        raise ParameterError(f"{source}: 'out' cannot be varied (each run gets its own folder under --out)")
    if key in _train_fields() or key in _model_fields() or key in _EXTRA_PARAMS or _ETA_LAYER.match(key):
        return key
    raise ParameterError(f"{source}: unknown parameter '{name}' (TrainConfig options, model parameters, "
                         f"eta0, eta1, ... or eta_scale)")


def parse_value(text: str):
    """A command-line grid value: number, true/false, ``a/b/c`` (a list) or a string."""
    text = text.strip()
    if "/" in text:
        return [parse_value(t) for t in text.split("/") if t.strip()]
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def parse_grid_option(text: str) -> tuple[str, list]:
    """``'eta=0.05,0.1'`` -> ``('eta', [0.05, 0.1])``; lists inside a value with ``/`` (``hidden=500/100``)."""
    if "=" not in text:
        raise ParameterError(f"--grid {text!r}: expected NAME=VALUE,VALUE,... (e.g. eta=0.05,0.1)")
    name, values = text.split("=", 1)
    vals = [parse_value(v) for v in values.split(",") if v.strip()]
    if not vals:
        raise ParameterError(f"--grid {text!r}: no values")
    return canonical_param(name, "--grid"), vals


def _fmt_value(v) -> str:
    if isinstance(v, (list, tuple)):
        return "-".join(_fmt_value(x) for x in v) if v else "none"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return format(v, ".10g")
    return str(v)


def point_name(params: dict, seed: int) -> str:
    """Folder name from the varied values and the seed, e.g. ``eta=0.1_hidden=500-100_seed3``."""
    parts = [f"{k}={_fmt_value(v)}" for k, v in params.items()] + [f"seed{seed}"]
    name = re.sub(r"[^A-Za-z0-9._=+-]", "_", "_".join(parts))
    if len(name) > 120:   # keep folder names short, still unique and deterministic
        digest = hashlib.sha256(json.dumps([params, seed], sort_keys=True, default=str).encode()).hexdigest()[:12]
        name = f"{name[:100]}_{digest}_seed{seed}"
    return name


def apply_params(base: dict, params: dict, source: str = "sweep") -> dict:
    """A TrainConfig dict: ``base`` (``TrainConfig.from_dict`` form) with ``params`` applied.

    ``eta`` as one number and ``eta_scale`` apply to every layer; ``etaK`` sets layer K.
    """
    cfg = json.loads(json.dumps(base))          # deep copy of plain data
    model = dict(cfg.pop("model", {}) or {})
    # model parameters given at the top level of the base go to the model table
    for k in list(cfg):
        if k in _model_fields() and k not in _train_fields():
            model[k] = cfg.pop(k)
    layer_rates, scale = {}, None
    for key, value in params.items():
        if key in _train_fields():
            cfg[key] = value
        elif key == "eta_scale":
            scale = float(value)
        elif _ETA_LAYER.match(key):
            layer_rates[int(_ETA_LAYER.match(key).group(1))] = float(value)
        else:
            model[key] = value
    hidden = cfg.get("hidden", (500,))
    if isinstance(hidden, int):
        hidden = () if hidden == 0 else (hidden,)
    n_layers = len(hidden) + 1
    eta = model.get("eta")
    if eta is not None and np.isscalar(eta):
        eta = [float(eta)] * n_layers
    if layer_rates or scale is not None:
        if eta is None:     # the rates the run would get: Table 1 times the model's preset's factor
            preset = model.get("rates", DEFAULT_RATES)
            if preset not in RATE_PRESETS:
                raise ParameterError(f"{source}: parameter 'rates': must be one of {tuple(RATE_PRESETS)}, "
                                     f"got {preset!r}")
            eta = [e * RATE_PRESETS[preset] for e in default_learning_rates(len(hidden))]
        for k, v in layer_rates.items():
            if k >= n_layers:
                raise ParameterError(f"{source}: 'eta{k}' but the network has {n_layers} weight layers")
            eta[k] = v
        if scale is not None:
            eta = [round(e * scale, 12) for e in eta]
    if eta is not None:
        model["eta"] = [float(e) for e in eta]
    cfg["model"] = model
    return cfg


@dataclass
class SweepPoint:
    """One run of a sweep: the varied values, the seed, its folder name and full configuration."""

    params: dict
    seed: int
    name: str
    config: dict                 # TrainConfig.to_dict() form, with 'out' set
    group: str = ""              # configuration without the seed (aggregation key)

    def to_dict(self) -> dict:
        """A JSON-ready dictionary."""
        return {"name": self.name, "params": self.params, "seed": self.seed, "group": self.group}


def expand_points(base: dict, grid: dict | None = None, explicit: list | None = None, seeds=None,
                  out=".", source: str = "sweep") -> list[SweepPoint]:
    """All runs of a sweep: (grid product + explicit list, or the base alone) times the seeds.

    Every configuration is checked (``TrainConfig.from_dict``) before anything runs.
    """
    grid = {canonical_param(k, source): list(v) if isinstance(v, (list, tuple)) else [v]
            for k, v in (grid or {}).items()}
    combos = []
    if grid:
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            combos.append(dict(zip(keys, values)))
    for k, entry in enumerate(explicit or []):
        if not isinstance(entry, dict):
            raise ParameterError(f"{source}: list entry {k + 1} must be a table of parameters")
        combos.append({canonical_param(key, source): v for key, v in entry.items()})
    if not combos:
        combos = [{}]
    seeds = list(seeds) if seeds else [int(base.get("seed", 1))]
    points, seen = [], set()
    for params in combos:
        group = point_name(params, 0)[:-len("_seed0")] if params else "base"
        for seed in seeds:
            name = point_name(params, int(seed))
            if name in seen:
                continue
            seen.add(name)
            cfg = apply_params(base, params, source)
            cfg["seed"] = int(seed)
            cfg["out"] = str(Path(out) / name)
            tc = TrainConfig.from_dict(cfg, source=f"{source} ({name})")
            points.append(SweepPoint(params=params, seed=int(seed), name=name, config=tc.to_dict(), group=group))
    return points


# -------------------------------------------------------------------------- reading runs
def read_run(folder) -> dict:
    """What a run folder holds: ``results.json`` if finished, else the checkpoint's progress.

    Returns
    -------
    dict
        ``status`` ('finished', 'partial' or 'missing'), ``epochs_done``, ``test_error``
        (one per finished epoch), ``initial_test_error``, ``final_test_error``,
        ``examples_per_second``, ``run_wall_s`` (training and testing time summed over the
        epochs) and ``config`` (where known).
    """
    folder = Path(folder)
    out = {"status": "missing", "epochs_done": 0, "test_error": [], "initial_test_error": None,
           "final_test_error": None, "examples_per_second": None, "run_wall_s": None, "config": None}
    res_path = folder / "results.json"
    if res_path.exists():
        try:
            res = json.loads(res_path.read_text())
        except (OSError, ValueError):
            res = None
        if res and res.get("finished"):
            ep = res.get("epochs", [])
            out.update(status="finished", epochs_done=len(ep), test_error=[e["test_error"] for e in ep],
                       initial_test_error=res.get("initial_test_error"),
                       final_test_error=res.get("final_test_error"),
                       examples_per_second=res.get("examples_per_second"),
                       run_wall_s=float(sum(e.get("wall_s", 0.0) for e in ep)), config=res.get("config"))
            return out
    for name in ("checkpoint.npz", "checkpoint.prev.npz"):
        p = folder / name
        if not p.exists():
            continue
        try:
            _, meta = load_checkpoint(p)
        except CheckpointError:
            continue
        ep = meta.get("epochs", [])
        rate = meta["examples_trained"] / meta["train_wall_s"] if meta.get("train_wall_s") else None
        out.update(status="partial", epochs_done=len(ep), test_error=[e["test_error"] for e in ep],
                   initial_test_error=meta.get("initial_test_error"),
                   final_test_error=ep[-1]["test_error"] if ep else None, examples_per_second=rate,
                   run_wall_s=float(sum(e.get("wall_s", 0.0) for e in ep)))
        return out
    return out


def _sem(values) -> float | None:
    v = np.asarray(values, float)
    return float(np.std(v, ddof=1) / math.sqrt(len(v))) if len(v) > 1 else None


def aggregate(runs: list[dict]) -> list[dict]:
    """Mean ± SEM over seeds per configuration (``group``), per epoch and at the end.

    Only epochs every seed of a configuration has reached are aggregated. SEM is the sample
    standard deviation (ddof 1) over the square root of the number of seeds; None for one seed.
    """
    groups = {}
    for r in runs:
        groups.setdefault(r["group"], []).append(r)
    out = []
    for group, rs in groups.items():
        done = [r for r in rs if r["test_error"]]
        n_ep = min((len(r["test_error"]) for r in done), default=0)
        curves = np.array([r["test_error"][:n_ep] for r in done], float).reshape(len(done), n_ep)
        finals = [r["final_test_error"] for r in rs if r["status"] == "finished"]
        eps = [r["examples_per_second"] for r in rs if r.get("examples_per_second")]
        walls = [r["run_wall_s"] for r in rs if r.get("run_wall_s") is not None]
        out.append({
            "group": group, "params": rs[0]["params"], "seeds": [r["seed"] for r in rs], "n": len(rs),
            "n_finished": len(finals), "epochs": n_ep,
            "test_error_mean": [float(x) for x in curves.mean(axis=0)] if len(done) else [],
            "test_error_sem": [_sem(curves[:, k]) for k in range(n_ep)] if len(done) else [],
            "initial_test_error_mean": (float(np.mean([r["initial_test_error"] for r in done]))
                                        if done and all(r["initial_test_error"] is not None for r in done) else None),
            "final_test_error_mean": float(np.mean(finals)) if finals else None,
            "final_test_error_sem": _sem(finals) if finals else None,
            "run_wall_s_mean": float(np.mean(walls)) if walls else None,
            "examples_per_second_mean": float(np.mean(eps)) if eps else None,
        })
    return out


# -------------------------------------------------------------------------- the task
_PROCESS_LOCK = threading.Lock()   # one training per worker process (Brian2's device is global)
_DATA = {}


def _load_data(source):
    if source not in _DATA:
        _DATA.clear()
        _DATA[source] = load_mnist(source=source)
    return _DATA[source]


def run_task(config: dict, lock_wait_s: float = 300.0) -> dict:
    """Run one configuration to the end (resuming its checkpoint); runs on a Dask worker.

    Returns :func:`read_run`'s summary of the folder plus ``task_wall_s``, ``host``, ``pid``
    and, for a run that cannot be done (bad option, divergence, ...), ``error``. A folder
    locked by another live process is waited for (``lock_wait_s``), e.g. an orphaned worker of
    a killed sweep finishing its chunk.
    """
    os.environ["OMP_NUM_THREADS"] = "1"
    t0 = time.perf_counter()
    out = Path(config["out"])
    out.mkdir(parents=True, exist_ok=True)
    error = None
    with _PROCESS_LOCK, open(out / "train.log", "a") as logf:
        def log(msg):
            logf.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}\n")
            logf.flush()
        log(f"task started on {socket.gethostname()} pid {os.getpid()}")
        deadline = time.monotonic() + lock_wait_s
        while read_run(out)["status"] != "finished":
            try:
                cfg = TrainConfig.from_dict(config, source=str(out))
                train_run(cfg, resume=True, log=log, data=_load_data(cfg.data_source), reuse_network=True)
            except RunLockedError as e:
                if time.monotonic() > deadline:
                    error = str(e)
                    break
                time.sleep(2.0)
                continue
            except (TrainingError, ParameterError, EquationFileError, DataError) as e:
                error = f"{type(e).__name__}: {e}"
                log(f"error: {error}")
                break
    summary = read_run(out)
    summary.update(task_wall_s=time.perf_counter() - t0, host=socket.gethostname(), pid=os.getpid(),
                   error=error)
    return summary


# -------------------------------------------------------------------------- engines
@dataclass
class Engine:
    """Where the tasks run: a LocalCluster, an existing scheduler, or SLURM.

    Parameters
    ----------
    workers : int, optional
        LocalCluster worker processes (default: the cores of this machine), or SLURM jobs.
    scheduler : str, optional
        Address of a running ``dask scheduler`` (``tcp://host:port``).
    slurm : bool
        Start workers as SLURM jobs (needs ``dask-jobqueue``).
    dashboard : str
        Dashboard address of a LocalCluster/SLURMCluster scheduler (``:8787``; ``:0`` any port).
    retries : int
        How often a task that raised is submitted again.
    """

    workers: int | None = None
    scheduler: str | None = None
    slurm: bool = False
    dashboard: str = ":8787"
    retries: int = 3
    slurm_options: dict = field(default_factory=dict)

    def start(self, log=print):
        """(client, cluster or None) ready for tasks."""
        from distributed import Client  # noqa: PLC0415 (lazy: Dask is needed only when a sweep runs; optional SLURM extra; start-up cost)
        if self.scheduler:
            try:
                client = Client(self.scheduler, timeout="30s")
            except (OSError, TimeoutError) as e:
                raise TrainingError(f"--scheduler {self.scheduler}: cannot connect ({e})") from None
            return client, None
        if self.slurm:
            cluster = _slurm_cluster(self.slurm_options, self.dashboard)
            cluster.scale(jobs=self.workers or 1)
            return Client(cluster), cluster
        from distributed import LocalCluster  # noqa: PLC0415 (lazy: Dask is needed only when a sweep runs; optional SLURM extra; start-up cost)
        n = self.workers or _cores()
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=self.dashboard,
                               env={"OMP_NUM_THREADS": "1"}, silence_logs=40,
                               preload=["brian_segdend._dask_worker"])   # workers ignore Ctrl-C
        return Client(cluster), cluster

    @staticmethod
    def stop(client, cluster):
        """Close what :meth:`start` returned (either may be None); errors while closing are ignored."""
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=10)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=20)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _slurm_cluster(opts: dict, dashboard: str):
    try:
        from dask_jobqueue import SLURMCluster  # noqa: PLC0415 (lazy: Dask is needed only when a sweep runs; optional SLURM extra; start-up cost)
    except ImportError:
        raise ParameterError("--slurm needs dask-jobqueue: pip install 'brian-segdend[slurm]' "
                             "(dask-jobqueue==0.9.0)") from None
    prologue = ["export OMP_NUM_THREADS=1"]
    if os.environ.get(ENV_BUILD_DIR):
        prologue.append(f"export {ENV_BUILD_DIR}={os.environ[ENV_BUILD_DIR]}")
    prologue += list(opts.get("prologue") or [])
    kw = dict(cores=1, processes=1, memory=opts.get("memory") or "4GB", walltime=opts.get("walltime") or "24:00:00",
              job_script_prologue=prologue, job_extra_directives=list(opts.get("extra") or []),
              scheduler_options={"dashboard_address": dashboard})
    for key in ("queue", "account", "python"):
        if opts.get(key):
            kw[key] = opts[key]
    return SLURMCluster(**kw)


def add_engine_options(ap: argparse.ArgumentParser):
    """The options that choose and size the Dask engine (shared by sweep and paper fig6)."""
    g = ap.add_argument_group("engine")
    g.add_argument("--workers", type=int, help="LocalCluster worker processes, one thread each "
                   "(default: the cores of this machine); with --slurm: SLURM jobs")
    g.add_argument("--scheduler", help="address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 "
                   "(start workers with: dask worker tcp://... --nthreads 1)")
    g.add_argument("--dashboard", default=":8787", help="dashboard address of a cluster started here "
                   "(default :8787; :0 for any free port)")
    g.add_argument("--retries", type=int, default=3, help="resubmissions of a task that raised (default 3)")
    g.add_argument("--slurm", action="store_true", help="workers as SLURM jobs (needs dask-jobqueue)")
    g.add_argument("--slurm-queue", help="SLURM partition")
    g.add_argument("--slurm-account", help="SLURM account")
    g.add_argument("--slurm-walltime", default="24:00:00", help="per job (default 24:00:00)")
    g.add_argument("--slurm-memory", default="4GB", help="per job (default 4GB)")
    g.add_argument("--slurm-python", help="python on the compute nodes (default: this one)")
    g.add_argument("--slurm-extra", action="append", default=[], help="extra #SBATCH option, e.g. "
                   "--slurm-extra='--qos=long' (repeatable)")
    g.add_argument("--slurm-prologue", action="append", default=[], help="shell line run before each "
                   "worker, e.g. 'module load gcc' (repeatable)")


def engine_from_args(args) -> Engine:
    if args.workers is not None and args.workers < 1:
        raise ParameterError(f"--workers: must be at least 1, got {args.workers}")
    if args.retries < 0:
        raise ParameterError(f"--retries: must not be negative, got {args.retries}")
    if args.scheduler and args.slurm:
        raise ParameterError("--scheduler and --slurm exclude each other")
    if args.scheduler and not re.match(r"^[a-z]+://", args.scheduler):
        raise ParameterError(f"--scheduler: expected an address like tcp://host:8786, got {args.scheduler!r}")
    return Engine(workers=args.workers, scheduler=args.scheduler, slurm=args.slurm, dashboard=args.dashboard,
                  retries=args.retries,
                  slurm_options={"queue": args.slurm_queue, "account": args.slurm_account,
                                 "walltime": args.slurm_walltime, "memory": args.slurm_memory,
                                 "python": args.slurm_python, "extra": args.slurm_extra,
                                 "prologue": args.slurm_prologue})


# -------------------------------------------------------------------------- running
def _param_text(params: dict) -> str:
    return ", ".join(f"{k}={_fmt_value(v)}" for k, v in params.items()) or "base"


def check_folders(points: list[SweepPoint], resume: bool):
    """Refuse to start over runs already in the folders unless resuming."""
    if resume:
        return
    taken = [Path(p.config["out"]) for p in points if any((Path(p.config["out"]) / f).exists()
                                                          for f in ("results.json", "checkpoint.npz"))]
    if taken:
        outs = [str(Path(p.config["out"])) for p in points]
        root = Path(os.path.commonpath(outs)) if len(outs) > 1 else Path(outs[0]).parent
        raise TrainingError(f"{root}: {len(taken)} run folder(s) already hold runs (e.g. "
                            f"{taken[0].relative_to(root)}); use --resume to continue them or choose another --out")


def run_points(points: list[SweepPoint], engine: Engine, resume: bool = False, log=print) -> list[dict]:
    """Run every point (finished ones are skipped) and return one summary per point, in order.

    Ctrl-C cancels the tasks, closes the client and the cluster and re-raises KeyboardInterrupt.
    """
    check_folders(points, resume)
    summaries = {}
    todo = []
    for p in points:
        s = read_run(p.config["out"])
        if s["status"] == "finished":
            s.update(task_wall_s=0.0, error=None, skipped=True)
            summaries[p.name] = s
        else:
            todo.append(p)
    if len(todo) < len(points):
        log(f"{len(points) - len(todo)} of {len(points)} run(s) already finished: skipped")
    if todo:
        _run_on_dask(todo, engine, summaries, log)
    return [dict(summaries[p.name], **p.to_dict(), folder=p.config["out"]) for p in points]


def _run_on_dask(todo, engine: Engine, summaries: dict, log):
    from distributed import as_completed  # noqa: PLC0415 (lazy: Dask is needed only when a sweep runs; optional SLURM extra; start-up cost)
    client = cluster = None
    t_start = time.perf_counter()
    futures = []
    try:
        client, cluster = engine.start(log)
        info = client.scheduler_info()
        n_workers = len(info.get("workers", {}))
        log(f"dask scheduler {client.scheduler.address}, {n_workers} worker(s) so far; "
            f"dashboard: {client.dashboard_link}")
        by_key = {}
        for p in todo:
            f = client.submit(run_task, p.config, key=f"train-{p.name}-{uuid.uuid4().hex[:8]}",
                              retries=engine.retries, pure=False)
            by_key[f.key] = p
            futures.append(f)
        done = 0
        for f in as_completed(futures):
            p = by_key[f.key]
            try:
                s = f.result()
            except Exception as e:   # the task failed on every try (or its workers kept dying)
                s = read_run(p.config["out"])
                s.update(task_wall_s=None, error=f"{type(e).__name__}: {e}")
            summaries[p.name] = s
            done += 1
            elapsed = time.perf_counter() - t_start
            err = s.get("final_test_error")
            state = f"test error {100 * err:.2f}%" if s["status"] == "finished" and err is not None \
                else f"FAILED ({s.get('error')})"
            wall = s.get("task_wall_s")
            log(f"[{done}/{len(todo)}] {_param_text(p.params)}, seed {p.seed}: {state}, "
                f"{'?' if wall is None else f'{wall:.1f} s'}")
            eta = elapsed / done * (len(todo) - done)
            log(f"progress: {done}/{len(todo)} runs done, {format_duration(elapsed)} elapsed, ETA {format_duration(eta)}")
    except KeyboardInterrupt:
        log("interrupted: stopping the tasks (finished runs are kept, unfinished ones keep their checkpoints; "
            "run again with --resume)")
        for f in futures:
            f.cancel()
        raise
    finally:
        engine.stop(client, cluster)


# -------------------------------------------------------------------------- writing results
def write_results(out, runs: list[dict], meta: dict) -> dict:
    """``sweep.json``, ``sweep.csv``, ``sweep_curves.png`` and (two varied parameters) ``sweep_heatmap.png``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    aggregates = aggregate(runs)
    keep = ("name", "group", "params", "seed", "folder", "status", "epochs_done", "initial_test_error",
            "test_error", "final_test_error", "run_wall_s", "task_wall_s", "examples_per_second", "error")
    doc = {"sweep": meta, "runs": [{k: r.get(k) for k in keep} for r in runs], "aggregates": aggregates}
    _atomic_write(out / "sweep.json", json.dumps(doc, indent=2, default=str))
    varied = list(meta.get("varied", []))
    n_ep = max((len(r["test_error"]) for r in runs), default=0)
    tmp = out / "sweep.csv.tmp"
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", *varied, "seed", "status", "final_test_error", "initial_test_error",
                    *[f"test_error_epoch{k + 1}" for k in range(n_ep)], "run_wall_s", "task_wall_s",
                    "examples_per_second"])
        for r in runs:
            w.writerow([r["name"], *[_fmt_value(r["params"][k]) if k in r["params"] else "" for k in varied],
                        r["seed"], r["status"], _num(r["final_test_error"]), _num(r["initial_test_error"]),
                        *[_num(r["test_error"][k]) if k < len(r["test_error"]) else "" for k in range(n_ep)],
                        _num(r.get("run_wall_s")), _num(r.get("task_wall_s")), _num(r.get("examples_per_second"))])
    os.replace(tmp, out / "sweep.csv")
    _plot_curves(aggregates, out / "sweep_curves.png")
    if len(varied) == 2:
        _plot_heatmap(aggregates, varied, out / "sweep_heatmap.png")
    return doc


def _num(v):
    return "" if v is None else (f"{v:.6g}" if isinstance(v, float) else v)


def _atomic_write(path: Path, text: str):
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _plot_curves(aggregates, path):
    import matplotlib  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)

    from ..plotting import plot_error_bands  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
    series = {}
    for a in aggregates:
        if not a["test_error_mean"]:
            continue
        label = _param_text(a["params"]) + (f" (n={a['n']})" if a["n"] > 1 else "")
        series[label] = {"mean": a["test_error_mean"], "sem": a["test_error_sem"],
                         "initial": a["initial_test_error_mean"]}
    plot_error_bands(ax, series)
    ax.set_title("sweep: test error per epoch (mean ± SEM over seeds)", fontsize=10)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_heatmap(aggregates, varied, path):
    import matplotlib  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    xk, yk = varied[1], varied[0]
    xs = sorted({_fmt_value(a["params"].get(xk)) for a in aggregates}, key=_sort_key)
    ys = sorted({_fmt_value(a["params"].get(yk)) for a in aggregates}, key=_sort_key)
    Z = np.full((len(ys), len(xs)), np.nan)
    for a in aggregates:
        if a["final_test_error_mean"] is None or xk not in a["params"] or yk not in a["params"]:
            continue
        Z[ys.index(_fmt_value(a["params"][yk])), xs.index(_fmt_value(a["params"][xk]))] = 100 * a["final_test_error_mean"]
    fig, ax = plt.subplots(figsize=(max(4.0, 2.0 + 0.7 * len(xs)), max(3.0, 1.2 + 0.5 * len(ys))),
                           constrained_layout=True)
    im = ax.imshow(np.ma.masked_invalid(Z), origin="lower", aspect="auto", cmap="viridis_r")
    mid = np.nanmean(Z) if np.isfinite(Z).any() else 0.0
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(Z[i, j]):
                ax.text(j, i, f"{Z[i, j]:.1f}", ha="center", va="center", fontsize=7,
                        color="k" if Z[i, j] < mid else "w")
    ax.set_xticks(range(len(xs)), xs, rotation=45, fontsize=8)
    ax.set_yticks(range(len(ys)), ys, fontsize=8)
    ax.set_xlabel(xk)
    ax.set_ylabel(yk)
    plt.colorbar(im, ax=ax).set_label("final test error (%)")
    ax.set_title("mean over seeds", fontsize=9)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _sort_key(text):
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def run_sweep(points: list[SweepPoint], out, engine: Engine, resume: bool = False, meta: dict | None = None,
              log=print) -> dict:
    """Run the points and write the sweep's results; returns the ``sweep.json`` document."""
    t0 = time.perf_counter()
    runs = run_points(points, engine, resume=resume, log=log)
    meta = dict(meta or {})
    meta.setdefault("varied", _varied(points))
    meta.update(n_runs=len(points), seeds=sorted({p.seed for p in points}), wall_s=time.perf_counter() - t0,
                engine={"workers": engine.workers, "scheduler": engine.scheduler, "slurm": engine.slurm})
    doc = write_results(out, runs, meta)
    failed = [r for r in runs if r["status"] != "finished"]
    best = min((a for a in doc["aggregates"] if a["final_test_error_mean"] is not None),
               key=lambda a: a["final_test_error_mean"], default=None)
    if best is not None:
        sem = best["final_test_error_sem"]
        log(f"best: {_param_text(best['params'])}: final test error {100 * best['final_test_error_mean']:.2f}%"
            + (f" ± {100 * sem:.2f}" if sem is not None else "") + f" over {best['n_finished']} seed(s)")
    log(f"{len(runs) - len(failed)} of {len(runs)} run(s) finished in {format_duration(meta['wall_s'])}; "
        f"results in {Path(out) / 'sweep.json'}")
    return doc


def _varied(points) -> list:
    keys = []
    for p in points:
        for k in p.params:
            if k not in keys:
                keys.append(k)
    return keys


# -------------------------------------------------------------------------- the paper's grid search
def paper_grid_axes(n_layers: int, start=0.1, stop=0.3, step=0.02, scale=1.0) -> dict:
    """``{'eta0': [...], 'eta1': [...], ...}``: each layer's rate from ``start`` to ``stop`` by ``step``, times ``scale``."""
    n = int(round((stop - start) / step)) + 1
    values = [round((start + k * step) * scale, 10) for k in range(n)]
    return {f"eta{k}": list(values) for k in range(n_layers)}


def fine_axes(best: dict, step=0.01, span=2, scale=1.0) -> dict:
    """Around the best rates: ``span`` steps of ``step`` (times ``scale``) on each side, positive only."""
    axes = {}
    for k, v in best.items():
        vals = [round(v + j * step * scale, 10) for j in range(-span, span + 1)]
        axes[k] = [x for x in vals if x > 0]
    return axes


def _paper_grid(args, base, out, engine, log) -> dict:
    hidden = base.get("hidden", (500,))
    n_layers = len(hidden) + 1
    start, stop, step = args.paper_range
    stages = {}
    axes = paper_grid_axes(n_layers, start, stop, step, args.grid_scale)
    best = None
    for stage in ("coarse", "fine"):
        if stage == "fine":
            axes = fine_axes(best["rates"], args.paper_fine_step, args.paper_fine_span, args.grid_scale)
        pts = expand_points(base, axes, None, args.seeds, out=Path(out) / stage, source=f"paper grid ({stage})")
        log(f"paper grid, {stage} stage: {len(pts)} run(s) over " +
            ", ".join(f"{k} in [{_fmt_value(v[0])}..{_fmt_value(v[-1])}]" for k, v in axes.items()))
        doc = run_sweep(pts, Path(out) / stage, engine, resume=args.resume, log=log,
                        meta={"base": base, "grid": axes, "stage": stage})
        cands = [a for a in doc["aggregates"] if a["final_test_error_mean"] is not None]
        if not cands:
            raise ParameterError("paper grid: no run finished; nothing to choose from")
        a = min(cands, key=lambda a: a["final_test_error_mean"])
        best = {"rates": {k: a["params"][k] for k in sorted(a["params"])}, "final_test_error_mean": a["final_test_error_mean"],
                "final_test_error_sem": a["final_test_error_sem"]}
        stages[stage] = {"grid": axes, "best": best, "runs": len(pts)}
    rates = [best["rates"][f"eta{k}"] for k in range(n_layers)]
    result = {"network": "-".join(map(str, (784, *hidden, 10))), "grid_scale": args.grid_scale,
              "stages": stages, "best_rates": rates, "best_final_test_error": best["final_test_error_mean"]}
    _atomic_write(Path(out) / "paper_grid.json", json.dumps(result, indent=2))
    log(f"paper grid: best learning rates {','.join(_fmt_value(r) for r in rates)} "
        f"(test error {100 * best['final_test_error_mean']:.2f}%); use --eta {','.join(_fmt_value(r) for r in rates)}")
    return result


# -------------------------------------------------------------------------- command line
def sweep_parser() -> argparse.ArgumentParser:
    ap = train_parser(prog="python -m brian_segdend sweep")
    ap.description = ("Run many training runs (a grid or list of configurations times seeds) on Dask "
                      "distributed. The train options are the base configuration.")
    ap.add_argument("--sweep", metavar="FILE", help="sweep file (TOML/YAML: base, grid, list, seeds)")
    ap.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                    help="a varied parameter (repeatable); lists inside a value with '/', e.g. hidden=500,500/100")
    ap.add_argument("--seeds", help="seeds, e.g. 1,2,3 (default: --seed)")
    ap.add_argument("--paper-grid", action="store_true",
                    help="the paper's learning-rate search: each layer's rate over [0.1, 0.3] by 0.02, then "
                         "by 0.01 around the best")
    ap.add_argument("--grid-scale", type=float, default=1.0,
                    help="factor on the --paper-grid rates (this project's exact kernel wants about 0.25)")
    ap.add_argument("--paper-range", default="0.1,0.3,0.02", help="coarse grid START,STOP,STEP (default 0.1,0.3,0.02)")
    ap.add_argument("--paper-fine-step", type=float, default=0.01, help="fine grid step (default 0.01)")
    ap.add_argument("--paper-fine-span", type=int, default=2, help="fine grid steps each side of the best (default 2)")
    add_engine_options(ap)
    return ap


def _seeds(text):
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ParameterError(f"--seeds: expected comma-separated integers, got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise ParameterError(f"--seeds: expected non-negative integers, got {text!r}")
    return seeds


def _train_options(args) -> dict:
    """The train options given on the command line (as in ``cli.config_from_args``)."""
    direct = {"hidden": args.hidden, "train_size": args.train_size, "test_size": args.test_size,
              "epochs": args.epochs, "seed": args.seed, "device": args.device, "chunk_steps": args.chunk_steps,
              "data_source": args.data, "precision": args.precision, "fast_rng": args.fast_rng}
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in direct.items() if v is not None}


def _model_options(args) -> dict:
    opts = {"eta": args.eta, "g_a": args.g_a, "feedback": args.feedback, "test_duration": args.test_duration,
            "plateau_sd": args.plateau_sd, "plateau_code": args.plateau_code, "burst_scale": args.burst_scale,
            "user_params": dict(args.user_params) if getattr(args, "user_params", None) else None}
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.items() if v is not None}


def points_from_args(args) -> tuple[list[SweepPoint], dict, Path]:
    """The sweep's points, its base configuration and output folder from the parsed options."""
    file_doc = {}
    if args.sweep:
        file_doc = load_config_file(args.sweep)
        unknown = sorted(set(file_doc) - {"base", "grid", "list", "seeds"})
        if unknown:
            raise ParameterError(f"{args.sweep}: unknown key(s) {unknown} (base, grid, list, seeds)")
    # base: the file's base table (and --config), overridden by the ordinary train options
    base = dict(file_doc.get("base", {}) or {})
    if args.config:
        base.update(load_config_file(args.config))
    base_model = dict(base.pop("model", {}) or {})
    for k, v in _train_options(args).items():
        base[k] = v
    for k, v in _model_options(args).items():
        base_model[k] = v
    base["model"] = base_model
    out = Path(args.out or base.get("out") or "results/sweep")
    base.pop("out", None)
    grid = dict(file_doc.get("grid", {}) or {})
    for g in args.grid:
        k, v = parse_grid_option(g)
        grid[k] = v
    seeds = _seeds(args.seeds) if args.seeds else file_doc.get("seeds")
    if seeds is not None and not isinstance(seeds, list):
        seeds = [seeds]
    source = args.sweep or "sweep"
    points = expand_points(base, grid, file_doc.get("list"), seeds, out=out, source=source)
    return points, base, out


def main(argv=None) -> int:
    """``python -m brian_segdend sweep``."""
    ap = sweep_parser()
    args = ap.parse_args(argv)
    if args.force:
        raise ParameterError("--force is not available for sweeps: choose another --out, or --resume")
    engine = engine_from_args(args)
    if args.paper_grid:
        try:
            args.paper_range = [float(x) for x in args.paper_range.split(",")]
            assert len(args.paper_range) == 3 and args.paper_range[2] > 0
        except (ValueError, AssertionError):
            raise ParameterError(f"--paper-range: expected START,STOP,STEP, got {args.paper_range!r}") from None
        if args.grid or args.sweep:
            raise ParameterError("--paper-grid makes its own grid: leave out --grid and --sweep")
        if args.grid_scale <= 0:
            raise ParameterError(f"--grid-scale: must be positive, got {args.grid_scale}")
        args.seeds = _seeds(args.seeds) if args.seeds else None
        points, base, out = points_from_args(argparse.Namespace(**{**vars(args), "seeds": None}))
        _paper_grid(args, base, out, engine, print)
        return 0
    points, base, out = points_from_args(args)
    print(f"sweep: {len(points)} run(s) in {out}")
    doc = run_sweep(points, out, engine, resume=args.resume, meta={"base": base, "varied": _varied(points)})
    return _report_failures(doc["runs"])


def _report_failures(runs) -> int:
    failed = [r for r in runs if r["status"] != "finished"]
    if failed:
        r = failed[0]
        print(f"error: {len(failed)} of {len(runs)} run(s) did not finish, e.g. {r['name']}: "
              f"{r.get('error') or r['status']}", file=sys.stderr)
        return 1
    return 0
