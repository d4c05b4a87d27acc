"""Shared machinery of the paper's learning-curve studies (Figures 8 and 9).

A study is a set of *variants* (e.g. feedback weights, or apical conductances) of one network,
each trained for every seed on the sweep engine (:func:`brian_segdend.studies.sweep.run_points`: one Dask
task per variant and seed, resumable), in the folder layout of ``paper fig6``::

    <out>/<variant>/seed<k>/results.json     (or checkpoint.npz while unfinished)

Runs started by hand with ``python -m brian_segdend train --out <out>/<variant>/seed<k>`` are
collected too. This module holds the options every study shares (sizes, seeds, quick mode,
training options passed through to every run, the engine), the collection of the run folders
(finished runs from ``results.json``, unfinished ones from their checkpoint), the statistics
(mean and SEM over seeds, paired differences over seeds with a one-sided paired t-test), the
provenance written into each ``figN.json`` and the plot of the curves.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from ..model.params import ParameterError

__all__ = ["TRAIN_PASSTHROUGH", "study_parser", "parse_study_args", "make_points", "collect_variants",
           "paired_difference", "significantly_positive", "t_critical_one_sided", "provenance", "write_json", "plot_variant_curves",
           "progress_lines", "print_claims", "run_study"]

#: train options every run of a study receives unchanged (``dest`` names of ``train_parser``)
TRAIN_PASSTHROUGH = ("eta", "eta_bias", "rates", "kernel", "timing", "init_weight_scale", "test_reset", "test_duration",
                     "plateau_sd", "g_a", "feedback", "feedback_signal", "chunk_steps", "precision", "fast_rng", "data", "user_params")
_DIRECT = {"chunk_steps": "chunk_steps", "precision": "precision", "fast_rng": "fast_rng", "data": "data_source"}

PAPER_EPOCHS = 60


# -------------------------------------------------------------------------- options
def _seed_list(text):
    try:
        seeds = [int(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        raise ParameterError(f"--seeds: expected comma-separated integers, got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise ParameterError(f"--seeds: expected distinct non-negative integers, got {text!r}")
    return seeds


def study_parser(prog: str, description: str, paper_hidden, quick: dict, varied: str, seeds="1,2,3"):
    """The options of a study; ``varied`` (a train option's dest) is the study's own axis, not passed through."""
    from ..cli import train_parser  # noqa: PLC0415 (start-up cost: Brian2 only when a study runs)
    from ..training.options import OneLineParser, int_list, positive_int  # noqa: PLC0415 (start-up cost: Brian2 only when a study runs)
    from .sweep import add_engine_options  # noqa: PLC0415 (start-up cost: Brian2 only when a study runs)
    ap = OneLineParser(prog=prog, description=description)
    ap.add_argument("--out", help="output folder (default results/<figure>)")
    ap.add_argument("--epochs", type=positive_int, default=PAPER_EPOCHS, help="epochs (default 60)")
    ap.add_argument("--train-size", type=positive_int, default=60_000, help="training images (default 60000)")
    ap.add_argument("--test-size", type=positive_int, default=10_000,
                    help="test images, tested after every epoch (default 10000)")
    ap.add_argument("--seeds", default=seeds, help=f"seeds, e.g. 1,2,3 (default {seeds}); the same seeds for "
                    "every variant (same initial weights where the variant allows, same images, same order)")
    ap.add_argument("--hidden", type=int_list, help="hidden layer sizes (default the paper's "
                    f"{','.join(map(str, paper_hidden))}; --quick: {','.join(map(str, quick['hidden']))})")
    ap.add_argument("--resume", action="store_true", help="continue unfinished runs; finished ones are only collected")
    ap.add_argument("--from-runs", metavar="DIR", help="only collect and plot the runs in DIR (no training)")
    ap.add_argument("--quick", action="store_true",
                    help=f"a quick check: hidden {','.join(map(str, quick['hidden']))}, {quick['train_size']:,} "
                         f"training and {quick['test_size']:,} test images, {quick['epochs']} epoch(s), seeds "
                         f"{quick['seeds']} (each unless given)")
    g = ap.add_argument_group("training options (passed to every run; default: the train command's)")
    for action in train_parser()._actions:
        if action.dest in TRAIN_PASSTHROUGH and action.dest != varied:
            g._add_action(action)
    add_engine_options(ap)
    return ap


def parse_study_args(ap, argv, quick: dict, paper_hidden):
    """Parsed options with the quick defaults applied where not given; ``args.given`` the given names."""
    argv = list(argv or [])
    args = ap.parse_args(argv)
    given = {a[2:].split("=", 1)[0].replace("-", "_") for a in argv if a.startswith("--")}
    args.given = given
    if args.quick:
        for k, v in quick.items():
            if k not in given:
                setattr(args, k, v)
    args.seeds = _seed_list(args.seeds)
    if args.hidden is None:
        args.hidden = tuple(paper_hidden)
    args.hidden = tuple(int(h) for h in args.hidden if int(h) > 0)
    return args


def train_overrides(args) -> tuple[dict, dict]:
    """(TrainConfig options, model options) given on the command line for every run."""
    direct, model = {}, {}
    for dest in TRAIN_PASSTHROUGH:
        v = getattr(args, dest, None)
        if v is None:
            continue
        v = list(v) if isinstance(v, tuple) else v
        if dest == "user_params":      # --set NAME=VALUE pairs
            v = dict(v)
        if dest in _DIRECT:
            direct[_DIRECT[dest]] = v
        else:
            model[dest] = v
    return direct, model


def make_points(args, out: Path, variants: dict, source: str):
    """One :class:`~brian_segdend.studies.sweep.SweepPoint` per variant and seed (``<out>/<variant>/seed<k>``).

    ``variants``: folder name -> model parameters of that variant (over the passed-through ones).
    Every configuration is checked before anything runs.
    """
    from ..training.train import TrainConfig  # noqa: PLC0415 (start-up cost: Brian2 only when a study runs)
    from .sweep import SweepPoint  # noqa: PLC0415 (start-up cost: Brian2 only when a study runs)
    direct, model = train_overrides(args)
    pts = []
    for name, vmodel in variants.items():
        for seed in args.seeds:
            cfg = {"hidden": list(args.hidden), "train_size": args.train_size, "test_size": args.test_size,
                   "epochs": args.epochs, "seed": seed, "out": str(out / name / f"seed{seed}"), **direct,
                   "model": {**model, **vmodel}}
            tc = TrainConfig.from_dict(cfg, source=f"{source} {name}")
            pts.append(SweepPoint(params={"variant": name}, seed=seed, name=f"{name}/seed{seed}",
                                  config=tc.to_dict(), group=name))
    return pts


# -------------------------------------------------------------------------- collecting
def _seed_of(d: Path):
    s = d.name[4:]
    return int(s) if s.isdigit() else s


def _images_trained(folder: Path, status: str, epochs_done: int, config: dict | None) -> int | None:
    """Training images seen so far (from the checkpoint of an unfinished run)."""
    if status == "finished" and config:
        return int(config.get("train_size", 0)) * int(config.get("epochs", epochs_done))
    from ..training.train import CheckpointError, load_checkpoint  # noqa: PLC0415 (start-up cost: Brian2 only when a study runs)
    for name in ("checkpoint.npz", "checkpoint.prev.npz"):
        p = folder / name
        if p.exists():
            try:
                _, meta = load_checkpoint(p)
            except CheckpointError:
                continue
            return int(meta.get("examples_trained", 0))
    return None


def collect_variants(folder, names) -> dict:
    """Every ``<folder>/<name>/seed*/`` run: per variant the seeds' curves and mean ± SEM (percent).

    The mean and SEM (sample sd / sqrt(n)) are over the seeds with at least one finished epoch,
    for the epochs every one of them reached (``epochs_reached``).
    """
    from .sweep import read_run  # noqa: PLC0415 (start-up cost: Brian2 only when a study runs)
    folder = Path(folder)
    out = {}
    for name in names:
        runs = {}
        for d in sorted((folder / name).glob("seed*"), key=lambda p: (len(p.name), p.name)):
            r = read_run(d)
            if r["status"] == "missing":
                continue
            cfg = r.get("config") or {}          # finished runs (results.json); unfinished: unknown
            eff = cfg.get("effective_model") or {}
            runs[str(_seed_of(d))] = {
                "status": r["status"], "epochs_done": r["epochs_done"],
                "images_trained": _images_trained(d, r["status"], r["epochs_done"], cfg),
                "initial_test_error": r["initial_test_error"], "test_error": r["test_error"],
                "examples_per_second": r["examples_per_second"], "run_wall_s": r["run_wall_s"],
                "network": "-".join(map(str, [784, *cfg["hidden"], 10])) if "hidden" in cfg else None,
                "train_size": cfg.get("train_size"), "test_size": cfg.get("test_size"),
                "feedback": eff.get("feedback"), "g_a": eff.get("g_a")}
        out[name] = _summarise(runs)
    return out


def _summarise(runs: dict) -> dict:
    done = {s: r for s, r in runs.items() if r["test_error"]}
    n_ep = min((len(r["test_error"]) for r in done.values()), default=0)
    curves = np.array([r["test_error"][:n_ep] for r in done.values()], float).reshape(len(done), n_ep) * 100
    sem = (curves.std(axis=0, ddof=1) / math.sqrt(len(done))).tolist() if len(done) > 1 else [None] * n_ep
    inits = [r["initial_test_error"] for r in done.values() if r["initial_test_error"] is not None]
    return {"seeds": runs, "n_seeds": len(done), "epochs_reached": n_ep,
            "epochs_reached_max": max((len(r["test_error"]) for r in done.values()), default=0),
            "mean_percent": curves.mean(axis=0).tolist() if done else [],
            "sem_percent": sem, "initial_percent": 100 * float(np.mean(inits)) if inits else None}


# -------------------------------------------------------------------------- statistics
#: one-sided 5% critical values of Student's t, df 1..30 (beyond: 1.645)
_T05 = [6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761,
        1.753, 1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701,
        1.699, 1.697]


def t_critical_one_sided(df: int) -> float:
    """The one-sided 5% critical value of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("df must be at least 1")
    return _T05[df - 1] if df <= len(_T05) else 1.645


def paired_difference(a: dict, b: dict, epoch: int | None = None) -> dict | None:
    """Seed-paired difference b - a of the test error (percent) at ``epoch`` (default: the last common one).

    ``a`` and ``b`` are :func:`collect_variants` entries. Returns ``epoch``, ``seeds``,
    ``differences``, ``mean``, ``sem`` (None for one seed), ``t`` (mean / sem) and
    ``t_crit`` (one-sided 5%, df = n - 1), or None when no seed has that epoch in both.
    """
    if epoch is None:
        epoch = min(a["epochs_reached"], b["epochs_reached"])
    if epoch < 1:
        return None
    seeds = [s for s in a["seeds"] if s in b["seeds"] and len(a["seeds"][s]["test_error"]) >= epoch
             and len(b["seeds"][s]["test_error"]) >= epoch]
    if not seeds:
        return None
    d = np.array([100 * (b["seeds"][s]["test_error"][epoch - 1] - a["seeds"][s]["test_error"][epoch - 1])
                  for s in seeds])
    n = len(d)
    sem = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else None
    if sem is not None and sem < 1e-9:     # the same difference on every seed (up to rounding)
        sem = 0.0
    # t is None where undefined: one seed, or every seed with the same difference (sem 0)
    t = float(d.mean()) / sem if sem else None
    return {"epoch": epoch, "seeds": [int(s) if str(s).isdigit() else s for s in seeds],
            "differences": d.tolist(), "mean": float(d.mean()), "sem": sem, "t": t,
            "t_crit": t_critical_one_sided(n - 1) if n > 1 else None}


def significantly_positive(pd: dict) -> bool:
    """One-sided paired t-test at 5%: mean difference > 0 and t above the critical value (>= 2 seeds).

    Equal positive differences on every seed (sem 0) count as significant.
    """
    if pd is None or len(pd["seeds"]) < 2 or pd["mean"] <= 0:
        return False
    return pd["t"] is None or pd["t"] > pd["t_crit"]


def value_at(entry: dict, epoch: int) -> float | None:
    """Mean test error (percent) over seeds at ``epoch`` (1-based), or None."""
    if entry and 1 <= epoch <= len(entry["mean_percent"]):
        return entry["mean_percent"][epoch - 1]
    return None


# -------------------------------------------------------------------------- provenance, output
def _git_commit() -> dict:
    root = Path(__file__).resolve().parent.parent
    out = {"commit": None, "dirty": None}
    try:
        out["commit"] = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                       text=True, timeout=10).stdout.strip() or None
        if out["commit"]:
            st = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10).stdout
            out["dirty"] = bool(st.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def provenance(argv, prog: str) -> dict:
    """Command line, git commit (if the package is in a git checkout), package versions, host, time."""
    versions = {"python": platform.python_version()}
    for pkg in ("brian2", "numpy", "distributed", "dask", "matplotlib", "brian-segdend"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"command": " ".join([prog, *map(str, argv or [])]), "argv": [sys.executable, *sys.argv],
            "git": _git_commit(), "versions": versions, "host": platform.node(), "cpus": os.cpu_count(),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def write_json(path: Path, doc: dict):
    """Atomic write (temporary file, rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str))
    tmp.replace(path)


def plot_variant_curves(ax, entries: dict, labels: dict, marks: dict | None = None, title: str = "",
                        colors: dict | None = None):
    """Mean ± SEM test error per epoch of ``entries`` (name -> collect_variants entry) on ``ax``.

    ``marks``: name -> (epoch, percent), the paper's values: open stars at that epoch when the
    curves get within 10 epochs of it, else dotted horizontal lines (so they show on short runs).
    """
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415 (start-up cost: Brian2 only when a study runs)
    entries = {n: a for n, a in entries.items() if a and a["mean_percent"]}
    n_max = max((a["epochs_reached"] for a in entries.values()), default=1)
    far = bool(marks) and n_max < max(ep for ep, _ in marks.values()) - 10
    top = 5.0
    for k, (name, a) in enumerate(entries.items()):
        color = (colors or {}).get(name, f"C{k}")
        m = np.asarray(a["mean_percent"])
        sem = np.asarray([0.0 if v is None else v for v in a["sem_percent"]])
        x = np.arange(1, len(m) + 1)
        label = labels.get(name, name) + (f" (n={a['n_seeds']})" if a["n_seeds"] > 1 else "")
        ax.plot(x, m, marker="o", ms=3, color=color, label=label)
        if np.any(sem > 0):
            ax.fill_between(x, m - sem, m + sem, color=color, alpha=0.2, lw=0)
        top = max(top, float(np.max(m + sem)))
        if marks and name in marks:
            ep, val = marks[name]
            if far:
                ax.axhline(val, color=color, ls=":", lw=1.2, label=f"paper: {val:g}% at epoch {ep}")
            else:
                ax.plot([ep], [val], marker="*", ms=12, mfc="none", mew=1.5, color=color, ls="none",
                        label=f"paper: {val:g}% at epoch {ep}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test error (%)")
    ax.set_xlim(0.5, n_max + 0.5 if (far or not marks) else PAPER_EPOCHS + 2)
    ax.set_ylim(0, min(top * 1.1, 100))
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def scale(entries: dict, paper_network: str) -> tuple[list, bool | None]:
    """(networks of the collected runs, whether every run is at the paper's scale: its network, all 60,000 training and 10,000 test images.

    None where a run's configuration is unknown, e.g. unfinished).
    """
    runs = [r for e in entries.values() for r in e["seeds"].values()]
    nets = sorted({str(r["network"]) for r in runs if r.get("network")})
    if not runs or any(r.get("network") is None for r in runs):
        return nets, None
    return nets, all(r["network"] == paper_network and r.get("train_size") == 60_000 and r.get("test_size") == 10_000
                     for r in runs)


def progress(entries: dict, target_epochs, train_size) -> dict:
    """How far each variant got: epochs reached (all seeds / any seed), images per seed, finished seeds."""
    out = {}
    for name, a in entries.items():
        out[name] = {"target_epochs": target_epochs, "epochs_reached": a["epochs_reached"],
                     "epochs_reached_max": a["epochs_reached_max"],
                     "images_trained_per_seed": {s: r["images_trained"] for s, r in a["seeds"].items()},
                     "train_size": train_size,
                     "finished_seeds": [s for s, r in a["seeds"].items() if r["status"] == "finished"],
                     "seeds_with_epochs": [s for s, r in a["seeds"].items() if r["test_error"]]}
    return out


def progress_lines(entries: dict, prog: dict, labels: dict, paper: dict | None = None) -> list[str]:
    """One line per variant: last mean error (± SEM), epochs and seeds reached, the paper's value."""
    lines = []
    for name, a in entries.items():
        p = prog[name]
        label = labels.get(name, name)
        imgs = [v for v in p["images_trained_per_seed"].values() if v is not None]
        got = (f"epoch {a['epochs_reached']}/{p['target_epochs'] or '?'}, {len(p['finished_seeds'])}/"
               f"{len(a['seeds'])} seed(s) finished, {min(imgs) if imgs else 0:,} images/seed at least")
        if a["mean_percent"]:
            sem = a["sem_percent"][-1]
            val = f"{a['mean_percent'][-1]:6.2f}" + (f" ± {sem:.2f}" if sem is not None else "       ")
        elif not a["seeds"]:
            lines.append(f"  {label:28s}    no runs in this folder")
            continue
        else:
            val = "   no epoch finished"
        ref = f"   (paper after 60 epochs: {paper[name]}%)" if paper and name in paper else ""
        lines.append(f"  {label:28s} {val}  [{got}]{ref}")
    return lines


def print_claims(claims: list[dict]):
    """Print each claim as ``[PASS|FAIL|N/A] claim: detail``."""
    print("claims:")
    for c in claims:
        tag = c["result"] if c["result"] != "not judged" else "N/A"
        print(f"  [{tag}] {c['claim']}: {c['detail']}")


def claim(text: str, paper: str, result: str, detail: str, value: str | None = None, epochs=None, seeds=None):
    """A claim record (printed and summarised by ``paper summary``)."""
    return {"claim": text, "paper": paper, "value": value if value is not None else detail, "result": result,
            "detail": detail, "epochs": epochs, "seeds": seeds}


def run_study(args, variants: dict, source: str) -> tuple[Path, dict]:
    """Train the study's runs on the sweep engine (or only collect with ``--from-runs``).

    Returns (folder to collect, the configuration part of the JSON).
    """
    from ..training.train import TrainConfig  # noqa: PLC0415 (start-up cost: Brian2 only when a study runs)
    from .sweep import engine_from_args, run_points  # noqa: PLC0415 (start-up cost: Brian2 only when a study runs)
    if args.from_runs:
        out = Path(args.from_runs)
        if not out.is_dir():
            raise ParameterError(f"--from-runs {out}: no such folder")
        return out, {"from_runs": str(out)}
    out = Path(args.out)
    engine = engine_from_args(args)
    pts = make_points(args, out, variants, source)
    net = "-".join(map(str, (784, *args.hidden, 10)))
    print(f"{source}: {len(pts)} run(s) ({len(variants)} variant(s) x seeds {','.join(map(str, args.seeds))}; "
          f"{net}, {args.epochs} epoch(s) of {args.train_size:,} images, {args.test_size:,} test images) in {out}")
    run_points(pts, engine, resume=args.resume)
    direct, model = train_overrides(args)
    first = {p.group: p for p in pts}
    config = {"network": net, "hidden": list(args.hidden), "epochs": args.epochs, "train_size": args.train_size,
              "test_size": args.test_size, "seeds": args.seeds, "quick": bool(args.quick),
              "train_options": {**direct, "model": model},
              "variants": {g: {"model": p.config["model"], "learning_rates": list(
                  TrainConfig.from_dict(p.config, source=g).model_params().learning_rates)} for g, p in first.items()},
              "engine": {"workers": args.workers, "scheduler": args.scheduler, "slurm": args.slurm}}
    return out, config
