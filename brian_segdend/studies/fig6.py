"""Figure 6B of the paper: test error per epoch of 784-10, 784-500-10 and 784-500-100-10.

``python -m brian_segdend paper fig6`` trains the three networks for ``--epochs`` (default 60)
on all 60,000 training images, tests on all 10,000 after every epoch, on the sweep engine
(:mod:`brian_segdend.studies.sweep`: one Dask task per network and seed), and compares with the paper.

Folder layout (also for runs started by hand with ``python -m brian_segdend train``)::

    <out>/784-10/seed1/results.json          (or checkpoint.npz while unfinished)
    <out>/784-500-10/seed1/...
    <out>/784-500-100-10/seed2/...
    <out>/fig6b.json, <out>/fig6b.png, <out>/fig6b_table.md (test error per epoch, per network and seed)

A run folder's progress is read from ``results.json`` when finished, else from the epochs
recorded in its checkpoint (:func:`brian_segdend.training.train.load_checkpoint`), so partial runs are
plotted too. ``--from-runs DIR`` only collects and plots (every seed found, or those of ``--seeds``
if given); ``--resume`` continues unfinished
runs and re-collects finished ones without training.

Claims checked (printed with PASS/FAIL and the numbers)
-------------------------------------------------------
1. the shallow network has levelled off: its test error changes by less than 0.3 percentage
   points over its last 10 epochs;
2. the deep networks still improve: their test error falls over their last 10 epochs;
3. two hidden layers do at least as well as one at the last epoch;
4. each last-epoch error is within 0.5 points of the paper's (8.3 / 4.1 / 3.2 %), judged only
   when 60 epochs were reached.

Supplement (``--supplement``): the same networks and seeds again with per-neuron random plateau
times (``plateau_sd``, default the paper's sqrt(3) ms; ``--plateau-sd``), in
``<out>/plateau_sd/<arch>/seed<k>/``, drawn dashed next to the main curves, with

5. similar curves: per network, the mean test error at the last epoch both variants reached differs
   by at most 1 percentage point (the paper: "similar" curves, Figure 6 supplement).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import time
from pathlib import Path

import numpy as np
from brian2 import ms

from ..model.params import DEFAULT_RATES, DEFAULT_TIMING, RATE_PRESETS, TIMING_PRESETS, ParameterError, default_learning_rates
from ..training.train import TrainConfig
from .sweep import SweepPoint, add_engine_options, engine_from_args, read_run, run_points

__all__ = ["ARCHITECTURES", "PAPER_ERROR", "collect", "check_claims", "table_markdown", "supplement_claims", "main", "paper_main"]

#: name -> hidden layers (the paper's networks)
ARCHITECTURES = {"784-10": (), "784-500-10": (500,), "784-500-100-10": (500, 100)}
#: the paper's test error (%) after 60 epochs (Fig. 6B)
PAPER_ERROR = {"784-10": 8.3, "784-500-10": 4.1, "784-500-100-10": 3.2}
PAPER_EPOCHS = 60
QUICK_HIDDEN = {"784-10": (), "784-500-10": (50,), "784-500-100-10": (50, 20)}
ASYMPTOTE_PP = 0.3      # claim 1: change over the last 10 epochs below this
SUPPLEMENT_PP = 1.0     # claim 5: |plateau-time variant - default| at the last common epoch
PAPER_PLATEAU_SD_MS = math.sqrt(3.0)
SUPPLEMENT_DIR = "plateau_sd"
PAPER_TOLERANCE_PP = 0.5
WINDOW = 10


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m brian_segdend paper fig6",
                                 description="Figure 6B: test error per epoch of 784-10, 784-500-10 and "
                                             "784-500-100-10, trained on the sweep engine, checked against the paper.")
    ap.add_argument("--out", default="results/fig6", help="output folder (default results/fig6)")
    ap.add_argument("--epochs", type=int, default=PAPER_EPOCHS, help="epochs (default 60)")
    ap.add_argument("--train-size", type=int, default=60_000, help="training images (default 60000)")
    ap.add_argument("--test-size", type=int, default=10_000, help="test images, after every epoch (default 10000)")
    ap.add_argument("--seeds", default="1", help="seeds, e.g. 1,2,3 (default 1)")
    ap.add_argument("--architectures", default=",".join(ARCHITECTURES),
                    help="which networks (default all three)")
    ap.add_argument("--rates", choices=list(RATE_PRESETS), default=DEFAULT_RATES,
                    help=f"learning-rate preset (default {DEFAULT_RATES}: Table 1 x {RATE_PRESETS['kernel']}, "
                         f"consistent with the exact kernel; table1: as printed)")
    ap.add_argument("--timing", choices=list(TIMING_PRESETS), default=DEFAULT_TIMING,
                    help=f"settle time and phase length (default {DEFAULT_TIMING}: settle 30 ms + 15 ms per "
                         f"hidden layer; paper: 30 / 50 ms for every network)")
    ap.add_argument("--eta-scale", type=float, default=1.0, help="factor on every network's learning rates")
    for name in ARCHITECTURES:
        ap.add_argument(f"--eta-{name}", dest=f"eta_{name}", help=f"learning rates of {name}, bottom to top "
                        f"(default: the --rates preset; Table 1: "
                        f"{','.join(map(str, default_learning_rates(len(ARCHITECTURES[name]))))})")
    ap.add_argument("--chunk-steps", type=int, help="time steps per compiled run (default: the library's)")
    ap.add_argument("--resume", action="store_true", help="continue unfinished runs; finished ones are only collected")
    ap.add_argument("--from-runs", metavar="DIR",
                    help="only collect and plot the runs in DIR (no training; every seed found unless --seeds is given)")
    ap.add_argument("--supplement", action="store_true",
                    help="also train the per-neuron random plateau-time variant (Figure 6 supplement) in "
                         "<out>/plateau_sd/ and compare its curves with the main ones")
    ap.add_argument("--plateau-sd", type=float, default=None,
                    help=f"sd in ms of the supplement's plateau times (default the paper's sqrt(3) = "
                         f"{PAPER_PLATEAU_SD_MS:.3f}; implies --supplement)")
    ap.add_argument("--quick", action="store_true", help="a quick check: hidden layers 50 and 50-20, "
                    "1,000 training and 500 test images, 2 epochs (unless given)")
    add_engine_options(ap)
    return ap


def _rates(args, name: str, n_hidden: int) -> list | None:
    """Explicit learning rates for one network, or None where the rate preset gives them unchanged."""
    text = getattr(args, f"eta_{name}")
    if text is not None:
        try:
            rates = [float(x) for x in text.split(",")]
        except ValueError:
            raise ParameterError(f"--eta-{name}: expected comma-separated numbers, got {text!r}") from None
        if len(rates) != n_hidden + 1:
            raise ParameterError(f"--eta-{name}: need {n_hidden + 1} learning rate(s), got {len(rates)}")
    elif args.eta_scale == 1.0:
        return None
    else:
        rates = [r * RATE_PRESETS[args.rates] for r in default_learning_rates(n_hidden)]
    return [round(r * args.eta_scale, 12) for r in rates]


def points(args, out: Path, plateau_sd_ms: float | None = None):
    """One :class:`~brian_segdend.studies.sweep.SweepPoint` per network and seed (folders ``<arch>/seed<k>``).

    ``plateau_sd_ms``: the supplement's runs (per-neuron plateau times of that sd; group names
    ``<arch> plateau_sd``), in ``out`` (the caller passes ``<out>/plateau_sd``).
    """
    hidden_of = QUICK_HIDDEN if args.quick else ARCHITECTURES
    pts = []
    for name in args.architectures:
        hidden = hidden_of[name]
        for seed in args.seeds:
            cfg = {"hidden": list(hidden), "train_size": args.train_size, "test_size": args.test_size,
                   "epochs": args.epochs, "seed": seed, "out": str(out / name / f"seed{seed}"),
                   "model": {"rates": args.rates, "timing": args.timing}}
            if plateau_sd_ms is not None:
                cfg["model"]["plateau_sd"] = plateau_sd_ms
            eta = _rates(args, name, len(hidden))
            if eta is not None:
                cfg["model"]["eta"] = eta
            if args.chunk_steps:
                cfg["chunk_steps"] = args.chunk_steps
            tc = TrainConfig.from_dict(cfg, source=f"fig6 {name}")
            sup = "" if plateau_sd_ms is None else f" {SUPPLEMENT_DIR}"
            pts.append(SweepPoint(params={"network": name, "plateau_sd_ms": plateau_sd_ms or 0.0}, seed=seed,
                                  name=f"{name}{sup}/seed{seed}", config=tc.to_dict(), group=name + sup))
    return pts


def collect(folder, architectures=tuple(ARCHITECTURES), seeds=None) -> dict:
    """Every ``<folder>/<arch>/seed*/`` run (only ``seeds`` if given): per architecture and seed the test error per epoch."""
    folder = Path(folder)
    out = {}
    for name in architectures:
        runs = {}
        for d in sorted((folder / name).glob("seed*"), key=lambda p: (len(p.name), p.name)):
            seed = int(d.name[4:]) if d.name[4:].isdigit() else d.name
            if seeds is not None and seed not in seeds:
                continue
            r = read_run(d)
            if r["status"] == "missing":
                continue
            runs[str(seed)] = {"status": r["status"], "epochs_done": r["epochs_done"],
                               "initial_test_error": r["initial_test_error"], "test_error": r["test_error"],
                               "examples_per_second": r["examples_per_second"], "run_wall_s": r["run_wall_s"],
                               "network": (("-".join(map(str, [784, *r["config"]["hidden"], 10])))
                                           if r.get("config") else None)}
        out[name] = _summarise(runs)
    return out


def _summarise(runs: dict) -> dict:
    done = [r for r in runs.values() if r["test_error"]]
    n_ep = min((len(r["test_error"]) for r in done), default=0)
    curves = np.array([r["test_error"][:n_ep] for r in done], float).reshape(len(done), n_ep) * 100
    sem = (curves.std(axis=0, ddof=1) / math.sqrt(len(done))).tolist() if len(done) > 1 else [None] * n_ep
    inits = [r["initial_test_error"] for r in done if r["initial_test_error"] is not None]
    return {"seeds": runs, "epochs_reached": n_ep,
            "epochs_reached_max": max((len(r["test_error"]) for r in done), default=0),
            "mean_percent": curves.mean(axis=0).tolist() if len(done) else [],
            "sem_percent": sem, "initial_percent": 100 * float(np.mean(inits)) if inits else None}


def table_markdown(arch: dict) -> str:
    """A Markdown table of the test error (%) after every epoch: one column per network and seed."""
    cols = [(name, seed, run["test_error"]) for name, a in arch.items() for seed, run in a["seeds"].items()
            if run["test_error"]]
    if not cols:
        return "No epoch finished yet.\n"
    last = max(len(c[2]) for c in cols)
    lines = ["| epoch | " + " | ".join(f"{name} (seed {seed})" for name, seed, _ in cols) + " |",
             "|" + "---|" * (len(cols) + 1)]
    for e in range(last):
        lines.append(f"| {e + 1} | " + " | ".join(f"{100 * c[2][e]:.2f}" if e < len(c[2]) else "" for c in cols) + " |")
    lines.append(f"| paper, {PAPER_EPOCHS} epochs | " + " | ".join(f"{PAPER_ERROR[name]}" for name, _, _ in cols) + " |")
    return "\n".join(lines) + "\n"


def check_claims(arch: dict) -> list[dict]:
    """The paper's four claims on the collected curves (mean over seeds, in percent)."""
    claims = []

    def curve(name):
        a = arch.get(name)
        return a["mean_percent"] if a else []

    def not_judged(text, reached):
        return {"claim": text, "result": "not judged", "detail": f"not judged: reached {reached} epoch(s)"}

    shallow, one, two = curve("784-10"), curve("784-500-10"), curve("784-500-100-10")
    text = f"784-10 levels off (|change over its last {WINDOW} epochs| < {ASYMPTOTE_PP} pp)"
    if len(shallow) > WINDOW:
        d = shallow[-1] - shallow[-1 - WINDOW]
        claims.append({"claim": text, "result": "PASS" if abs(d) < ASYMPTOTE_PP else "FAIL",
                       "detail": f"{shallow[-1 - WINDOW]:.2f}% -> {shallow[-1]:.2f}% (change {d:+.2f} pp)"})
    else:
        claims.append(not_judged(text, len(shallow)))
    text = f"the deep networks still improve over their last {WINDOW} epochs"
    if len(one) > WINDOW and len(two) > WINDOW:
        d1, d2 = one[-1] - one[-1 - WINDOW], two[-1] - two[-1 - WINDOW]
        claims.append({"claim": text, "result": "PASS" if d1 < 0 and d2 < 0 else "FAIL",
                       "detail": f"784-500-10 {d1:+.2f} pp, 784-500-100-10 {d2:+.2f} pp"})
    else:
        claims.append(not_judged(text, min(len(one), len(two))))
    text = "two hidden layers <= one hidden layer at the last epoch"
    n = min(len(one), len(two))
    if n:
        claims.append({"claim": text, "result": "PASS" if two[n - 1] <= one[n - 1] else "FAIL",
                       "detail": f"epoch {n}: 784-500-100-10 {two[n - 1]:.2f}% vs 784-500-10 {one[n - 1]:.2f}%"})
    else:
        claims.append(not_judged(text, 0))
    for name, paper in PAPER_ERROR.items():
        text = f"{name} within {PAPER_TOLERANCE_PP} pp of the paper's {paper}% after {PAPER_EPOCHS} epochs"
        c = curve(name)
        if len(c) >= PAPER_EPOCHS:
            v = c[PAPER_EPOCHS - 1]
            claims.append({"claim": text, "result": "PASS" if abs(v - paper) <= PAPER_TOLERANCE_PP else "FAIL",
                           "detail": f"{v:.2f}% (paper {paper}%, difference {v - paper:+.2f} pp)"})
        else:
            claims.append(not_judged(text, len(c)))
    return claims


def _recorded_plateau_sd(folder: Path) -> float | None:
    """The plateau_sd (ms) in the configuration of the first finished run under ``folder`` (None if none says)."""
    for path in sorted(Path(folder).glob("*/seed*/results.json")):
        try:
            cfg = json.loads(path.read_text()).get("config") or {}
        except (OSError, ValueError):
            continue
        for model in (cfg.get("effective_model") or {}, cfg.get("model") or {}):
            if model.get("plateau_sd") is not None:
                return float(model["plateau_sd"])
    return None


def supplement_claims(arch: dict, sup: dict, plateau_sd_ms) -> list[dict]:
    """Claim 5: the plateau-time variant's curve is within SUPPLEMENT_PP of the default's at the last common epoch."""
    claims = []
    sd = f"{plateau_sd_ms:.3g} ms" if plateau_sd_ms is not None else "?"
    for name in arch:
        a, b = arch[name]["mean_percent"], (sup.get(name) or {}).get("mean_percent") or []
        text = (f"{name}: per-neuron random plateau times (sd {sd}) give a similar curve "
                f"(|difference| <= {SUPPLEMENT_PP:g} pp at the last common epoch)")
        n = min(len(a), len(b))
        if not ARCHITECTURES.get(name, (1,)):
            claims.append({"claim": text, "result": "not judged",
                           "detail": "not judged: no hidden layer, so no plateaus (the same run by construction)"})
            continue
        if not n:
            claims.append({"claim": text, "result": "not judged", "detail": "not judged: no common epoch"})
            continue
        d = b[n - 1] - a[n - 1]
        claims.append({"claim": text, "result": "PASS" if abs(d) <= SUPPLEMENT_PP else "FAIL",
                       "detail": f"epoch {n}: {b[n - 1]:.2f}% with random plateau times vs {a[n - 1]:.2f}% "
                                 f"(difference {d:+.2f} pp)"})
    return claims


def plot(arch: dict, path, quick_names=None, supplement=None):
    import matplotlib  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)

    from ..plotting import plot_error_bands  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    series, marks = {}, {}
    for name, a in arch.items():
        if not a["mean_percent"]:
            continue
        label = (quick_names or {}).get(name, name)
        n_seeds = len([s for s in a["seeds"].values() if s["test_error"]])
        label += f" (n={n_seeds})" if n_seeds > 1 else ""
        series[label] = {"mean": [x / 100 for x in a["mean_percent"]],
                         "sem": [None if s is None else s / 100 for s in a["sem_percent"]],
                         "initial": None}
        marks[label] = (PAPER_EPOCHS, PAPER_ERROR[name])
    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    plot_error_bands(ax, series, marks)
    colors = {line.get_label(): line.get_color() for line in ax.get_lines()}
    for name, a in (supplement or {}).items():
        if not a["mean_percent"]:
            continue
        main_label = next((lab for lab in colors if lab.startswith((quick_names or {}).get(name, name))), None)
        ax.plot(range(1, len(a["mean_percent"]) + 1), a["mean_percent"], ls="--", marker="x", ms=4,
                color=colors.get(main_label, "0.3"), label=f"{name}, random plateau times")
    if supplement:
        ax.legend(fontsize=7, frameon=False)
    ax.set_xlim(0, PAPER_EPOCHS + 2)
    top = max([max(a["mean_percent"][min(1, len(a["mean_percent"]) - 1):] or [10]) for a in arch.values()
               if a["mean_percent"]] + [10])
    ax.set_ylim(0, min(top * 1.15, 100))
    ax.set_title("Figure 6B: test error per epoch (stars: the paper after 60 epochs)", fontsize=10)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _seeds(text):
    try:
        seeds = [int(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        raise ParameterError(f"--seeds: expected comma-separated integers, got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise ParameterError(f"--seeds: expected non-negative integers, got {text!r}")
    return seeds


def main(argv=None) -> int:
    """``python -m brian_segdend paper fig6 [options]``."""
    ap = parser()
    given = set()
    argv = list(argv or [])
    for a in argv:
        if a.startswith("--"):
            given.add(a[2:].split("=", 1)[0].replace("-", "_"))
    args = ap.parse_args(argv)
    args.seeds = _seeds(args.seeds)
    args.architectures = [a.strip() for a in args.architectures.split(",") if a.strip()]
    unknown = [a for a in args.architectures if a not in ARCHITECTURES]
    if unknown or not args.architectures:
        raise ParameterError(f"--architectures: choose from {', '.join(ARCHITECTURES)}, got {unknown or 'none'}")
    if args.quick:
        for k, v in (("train_size", 1000), ("test_size", 500), ("epochs", 2)):
            if k not in given:
                setattr(args, k, v)
    if args.eta_scale <= 0:
        raise ParameterError(f"--eta-scale: must be positive, got {args.eta_scale}")
    if args.plateau_sd is not None:
        if not (math.isfinite(args.plateau_sd) and args.plateau_sd > 0):
            raise ParameterError(f"--plateau-sd: must be a positive number of ms, got {args.plateau_sd}")
        args.supplement = True
    plateau_sd_ms = (args.plateau_sd if args.plateau_sd is not None else PAPER_PLATEAU_SD_MS) if args.supplement else None
    t0 = time.perf_counter()
    if args.from_runs:
        out = Path(args.from_runs)
        if not out.is_dir():
            raise ParameterError(f"--from-runs {out}: no such folder")
        config = {}
        try:       # keep what an earlier run of this folder recorded (epochs, seeds, quick, rates)
            config = dict(json.loads((out / "fig6b.json").read_text()).get("config") or {})
        except (OSError, ValueError):
            pass
        config["from_runs"] = str(out)
        if "seeds" in given:
            config["collected_seeds"] = args.seeds
    else:
        out = Path(args.out)
        engine = engine_from_args(args)
        pts = points(args, out)
        if plateau_sd_ms is not None:
            pts += points(args, out / SUPPLEMENT_DIR, plateau_sd_ms)
        print(f"Figure 6B: {len(pts)} run(s) ({', '.join(args.architectures)}; seeds "
              f"{','.join(map(str, args.seeds))}; {args.epochs} epochs of {args.train_size} images) in {out}")
        run_points(pts, engine, resume=args.resume)
        config = {"epochs": args.epochs, "train_size": args.train_size, "test_size": args.test_size,
                  "seeds": args.seeds, "quick": args.quick, "eta_scale": args.eta_scale,
                  "supplement_plateau_sd_ms": plateau_sd_ms,
                  "rates": args.rates, "timing": args.timing,
                  "networks": {}}
        for p in pts:
            mp = TrainConfig.from_dict(p.config, source=p.name).model_params()
            config["networks"][p.group] = {"hidden": p.config["hidden"], "eta": list(mp.learning_rates),
                                           "settle_ms": float(mp.settle / ms), "phase_min_ms": float(mp.phase_min / ms)}
    arch = collect(out, args.architectures, seeds=args.seeds if (args.from_runs and "seeds" in given) else None)
    claims = check_claims(arch)
    sup = None
    if plateau_sd_ms is not None or (args.from_runs and (out / SUPPLEMENT_DIR).is_dir()):
        sup = collect(out / SUPPLEMENT_DIR, args.architectures)
        if plateau_sd_ms is None:
            plateau_sd_ms = _recorded_plateau_sd(out / SUPPLEMENT_DIR)
        claims += supplement_claims(arch, sup, plateau_sd_ms)
    quick_names = None
    if args.quick or any(a["seeds"] and next(iter(a["seeds"].values()))["network"] not in (None, n)
                         for n, a in arch.items()):
        quick_names = {n: f"{n} role ({next(iter(a['seeds'].values()))['network']})" for n, a in arch.items()
                       if a["seeds"]}
    doc = {"config": config, "paper_percent_after_60_epochs": PAPER_ERROR, "architectures": arch,
           "progress": {n: {"epochs_reached": a["epochs_reached"], "target_epochs": config.get("epochs"),
                            "finished_seeds": [s for s, r in a["seeds"].items() if r["status"] == "finished"]}
                        for n, a in arch.items()},
           "claims": claims, "wall_s": time.perf_counter() - t0}
    if sup is not None:
        doc["supplement"] = {"what": "per-neuron random plateau times (Figure 6 supplement)",
                             "plateau_sd_ms": plateau_sd_ms, "folder": str(out / SUPPLEMENT_DIR), "architectures": sup,
                             "progress": {n: {"epochs_reached": a["epochs_reached"]} for n, a in sup.items()}}
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "fig6b.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2))
    tmp.replace(out / "fig6b.json")
    plot(arch, out / "fig6b.png", quick_names, supplement=sup)
    (out / "fig6b_table.md").write_text(table_markdown(arch))
    print("\nFigure 6B, test error (%) at the last epoch reached (mean over seeds):")
    for name, a in arch.items():
        if a["mean_percent"]:
            sem = a["sem_percent"][-1]
            print(f"  {name:15s} epoch {a['epochs_reached']:3d}: {a['mean_percent'][-1]:6.2f}"
                  + (f" ± {sem:.2f}" if sem is not None else "") + f"   (paper after 60 epochs: {PAPER_ERROR[name]}%)")
        else:
            print(f"  {name:15s} no epoch finished yet")
    if sup is not None:
        print(f"supplement, per-neuron random plateau times (sd {plateau_sd_ms} ms):")
        for name, a in sup.items():
            if a["mean_percent"]:
                print(f"  {name:15s} epoch {a['epochs_reached']:3d}: {a['mean_percent'][-1]:6.2f}")
    print("claims:")
    for c in claims:
        print(f"  [{c['result'] if c['result'] != 'not judged' else 'N/A'}] {c['claim']}: {c['detail']}")
    print(f"written: {out / 'fig6b.json'}, {out / 'fig6b.png'}, {out / 'fig6b_table.md'}")
    return 0


def paper_main(argv=None) -> int:
    """``python -m brian_segdend paper <figure> [options]``: the paper's experiments (fig5-fig9, summary)."""
    def lazy(module):
        def run(options):
            return importlib.import_module(f"brian_segdend.studies.{module}").main(options)
        return run
    figures = {"fig5": lazy("fig5"), "fig6": main, "fig6c": lazy("fig6c"), "fig7": lazy("fig7"), "fig8": lazy("fig8"), "fig9": lazy("fig9"),
               "summary": lazy("paper_summary")}
    ap = argparse.ArgumentParser(prog="python -m brian_segdend paper",
                                 description="The paper's experiments; '<figure> --help' for its options.")
    ap.add_argument("figure", choices=sorted(figures),
                    help="fig5: Figure 5 (credit assignment, L0 vs L1); fig6: Figure 6B (network depth); fig6c: Figure 6C "
                    "(t-SNE per layer); fig7: "
                    "Figure 7 (relation to backprop); fig8: Figure 8 "
                    "(feedback weights); fig9: Figure 9 (apical segregation); summary: every figure's claims "
                    "found under --out in one table")
    ap.add_argument("options", nargs=argparse.REMAINDER, help="the figure's options")
    args = ap.parse_args(list(argv or []))
    return figures[args.figure](args.options)
