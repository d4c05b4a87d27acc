"""Figure 5 of the paper: credit assignment, the hidden-layer loss L0 against the output loss L1.

``python -m brian_segdend paper fig5`` trains 784-500-10 (``--hidden``) with every learning step
recorded (:func:`brian_segdend.studies.credit_run.train_recorded`), computes per training example
the local losses of the paper's Eq. 7-8 from the recorded averages (docs/MODEL.md, "Learning rule";
:func:`brian_segdend.model.credit.losses`): L1 = ||phi1* - phi_max sigma(Vbar1^f)||^2 and
L0 = ||alpha^t - alpha^f||^2, and for the images of each digit in each epoch the Pearson r between
L0 and L1, against the same r on shuffled pairings (L1 permuted among the digit's images of that
epoch, ``--shuffles`` times). Writes ``fig5.json`` (numbers, configuration, provenance),
``fig5.png`` (B: L0 vs L1 for the '2's of epoch 2; C: r per digit and epoch vs shuffled) and
``fig5_run.npz`` (per-example losses; ``--from-run`` reuses it, as does ``paper fig7``).
``--seeds 1,2,3`` records one run per seed as a task on the sweep engine (``--workers``,
``--scheduler``; ``<out>/seed<k>/fig5_run.npz``, reused when present) and judges the claims below
on the mean over seeds, with the SEM over seeds shown (:func:`combine_correlations`).

Claims (PASS/FAIL with the numbers):

1. L0 and L1 are correlated far above shuffled pairings: the mean r over digits in every epoch is
   above the 99th percentile of the shuffled r's mean;
2. the '2's in epoch 2 (the paper: r = 0.61): r above the shuffled 99th percentile (the value is
   shown next to the paper's);
3. most r between 0.2 and 0.6 (epochs >= 2): the median r of those digits and epochs lies in
   [0.2, 0.6] (not judged with one epoch);
4. smaller in epoch 1: the mean r over digits in epoch 1 is below that of epoch 2 (not judged with
   one epoch);
5. (supplement 1) Theorem 1's condition is met during the first epoch: the largest eigenvalue mu
   of (I - J_beta J_gamma)^T (I - J_beta J_gamma) (every 50th example,
   :func:`brian_segdend.model.credit.theorem1_eigenvalue`) has a median below 1 over the last
   tenth of epoch 1 (the value at the start is shown).
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib
import numpy as np

from ..model.params import ParameterError
from ..training.data import load_mnist
from ..training.options import OneLineParser, int_list, positive_int
from ..training.train import TrainConfig
from . import credit_run
from . import paper_study as S

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after selecting the Agg backend)

__all__ = ["correlations", "eigenvalue_summary", "paper_scale", "check_claims", "main", "QUICK", "run_or_load",
           "seed_list", "run_or_load_seeds", "combine_correlations", "combine_eigenvalues", "mean_sem"]

PAPER_R_TWOS_EPOCH2 = 0.61
PAPER_RANGE = (0.2, 0.6)
QUICK = {"hidden": (50,), "train_size": 1500, "test_size": 300, "epochs": 2}
FULL = {"hidden": (500,), "train_size": 60_000, "test_size": 10_000, "epochs": 2}


def pearson(a, b) -> float:
    """Pearson correlation coefficient (nan when either is constant)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a - a.mean(), b - b.mean()
    d = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / d) if d > 0 else float("nan")


def correlations(run: dict, shuffles: int = 200, seed: int = 0) -> dict:
    """r(L0, L1) per epoch and digit, and the r's of ``shuffles`` shuffled pairings.

    Returns ``{"r": (epochs, 10), "r_shuffled": (epochs, 10, shuffles), "n": (epochs, 10)}``.
    """
    rng = np.random.default_rng(seed)
    epochs = int(run["epoch"].max())
    r = np.full((epochs, 10), np.nan)
    rs = np.full((epochs, 10, shuffles), np.nan)
    n = np.zeros((epochs, 10), int)
    for e in range(epochs):
        for d in range(10):
            m = (run["epoch"] == e + 1) & (run["label"] == d)
            n[e, d] = int(m.sum())
            if n[e, d] < 3:
                continue
            L0, L1 = run["L0"][m], run["L1"][m]
            r[e, d] = pearson(L0, L1)
            rs[e, d] = [pearson(L0, rng.permutation(L1)) for _ in range(shuffles)]
    return {"r": r, "r_shuffled": rs, "n": n}


def eigenvalue_summary(run: dict) -> dict | None:
    """Summary of Theorem 1's eigenvalue mu (None when the run has none).

    The recorded examples, the first value and the median over the last tenth of epoch 1.
    """
    mu = np.asarray(run.get("mu", []), float)
    ok = np.isfinite(mu)
    if not ok.any():
        return None
    idx = np.flatnonzero(ok)
    first = idx[run["epoch"][idx] == 1]
    tail = first[first >= first.min() + 0.9 * (first.max() - first.min())] if len(first) else first
    return {"example": idx.tolist(), "mu": mu[idx].tolist(), "start": float(mu[idx[0]]),
            "epoch1_last_tenth_median": float(np.median(mu[tail])) if len(tail) else None}


def check_claims(cor: dict, eig: dict | None = None) -> list[dict]:
    """Figure 5's claims on :func:`correlations`' result (and :func:`eigenvalue_summary`'s)."""
    r, rs = cor["r"], cor["r_shuffled"]
    epochs = r.shape[0]
    claims = []
    mean_r = np.nanmean(r, axis=1)
    shuf99 = np.nanpercentile(np.nanmean(rs, axis=1), 99, axis=1)     # per epoch: mean over digits
    ok = bool(np.all(mean_r > shuf99))
    k = int(cor.get("seeds", 1))
    msem = cor.get("mean_r_sem") or [None] * epochs
    over = f" (mean ± SEM over {k} seeds)" if k > 1 else ""
    claims.append(S.claim("L0 and L1 correlated far above shuffled pairings (mean r over digits per epoch)",
                          "most r 0.2-0.6, far above shuffled",
                          "PASS" if ok else "FAIL",
                          "; ".join(f"epoch {e + 1}: mean r {_pm(mean_r[e], msem[e])} vs shuffled 99th pct "
                                    f"{shuf99[e]:.3f}" for e in range(epochs)) + over,
                          value=", ".join(f"{m:.2f}" for m in mean_r), epochs=epochs, seeds=cor.get("seed_list")))
    text = "r(L0, L1) of the '2's in epoch 2"
    if epochs < 2:
        claims.append(S.claim(text, f"r = {PAPER_R_TWOS_EPOCH2}", "not judged", "not judged: one epoch"))
    else:
        v, q = r[1, 2], np.nanpercentile(rs[1, 2], 99)
        vsem = cor["r_sem"][1, 2] if k > 1 else None
        claims.append(S.claim(text, f"r = {PAPER_R_TWOS_EPOCH2}", "PASS" if v > q else "FAIL",
                              f"r = {_pm(v, vsem)} (n = {cor['n'][1, 2]}) vs shuffled 99th pct {q:.3f}{over}",
                              value=f"{v:.2f}", epochs=epochs, seeds=cor.get("seed_list")))
    text = "most r between 0.2 and 0.6 (epochs >= 2)"
    if epochs < 2:
        claims.append(S.claim(text, "0.2-0.6", "not judged", "not judged: one epoch"))
    else:
        later = r[1:].ravel()
        med = float(np.nanmedian(later))
        inside = float(np.nanmean((later >= PAPER_RANGE[0]) & (later <= PAPER_RANGE[1])))
        claims.append(S.claim(text, "0.2-0.6", "PASS" if PAPER_RANGE[0] <= med <= PAPER_RANGE[1] else "FAIL",
                              f"median r {med:.3f}, {100 * inside:.0f}% of the digit-epochs inside [0.2, 0.6]",
                              value=f"median {med:.2f}", epochs=epochs, seeds=cor.get("seed_list")))
    text = "r smaller in epoch 1 than in epoch 2 (mean over digits)"
    if epochs < 2:
        claims.append(S.claim(text, "smaller in epoch 1", "not judged", "not judged: one epoch"))
    else:
        claims.append(S.claim(text, "smaller in epoch 1", "PASS" if mean_r[0] < mean_r[1] else "FAIL",
                              f"epoch 1 {_pm(mean_r[0], msem[0])} vs epoch 2 {_pm(mean_r[1], msem[1])}{over}",
                              value=f"{mean_r[0]:.2f} vs {mean_r[1]:.2f}", epochs=epochs, seeds=cor.get("seed_list")))
    text = "Theorem 1's eigenvalue mu falls below 1 during the first epoch (supplement 1)"
    if not eig or eig["epoch1_last_tenth_median"] is None:
        claims.append(S.claim(text, "below 1 during epoch 1", "not judged", "not judged: no eigenvalues recorded"))
    else:
        m = eig["epoch1_last_tenth_median"]
        claims.append(S.claim(text, "below 1 during epoch 1", "PASS" if m < 1 else "FAIL",
                              f"start {eig['start']:.3f}, median over the last tenth of epoch 1 "
                              f"{_pm(m, eig.get('epoch1_last_tenth_median_sem'))}"
                              + (f" (mean over {eig['seeds']} seeds)" if eig.get("seeds", 1) > 1 else ""),
                              value=f"{eig['start']:.2f} -> {m:.2f}", epochs=epochs, seeds=cor.get("seed_list")))
    return claims


def plot(run: dict, cor: dict, path, note="", eig: dict | None = None):
    """Draw the figure's panels.

    B (L0 vs L1, the '2's of epoch 2 or the last epoch), C (r per digit and epoch vs shuffled)
    and, with eigenvalues, supplement 1 (Theorem 1's mu per example).
    """
    fig, axes = plt.subplots(1, 3 if eig else 2, figsize=(15 if eig else 10, 4.2), constrained_layout=True)
    ax1, ax2 = axes[0], axes[1]
    if eig:
        axes[2].plot(eig["example"], eig["mu"], ".", ms=3)
        axes[2].axhline(1.0, c="tab:red", ls="--", lw=0.8, label="1 (Theorem 1's condition)")
        axes[2].set_xlabel("training example")
        axes[2].set_ylabel("largest eigenvalue mu")
        axes[2].set_title("supplement 1: (I - J_b J_g)^T (I - J_b J_g)")
        axes[2].legend(fontsize=7)
    e = min(2, int(run["epoch"].max()))
    m = (run["epoch"] == e) & (run["label"] == 2)
    ax1.scatter(run["L0"][m], run["L1"][m], s=6, alpha=0.6)
    ax1.set_xlabel("hidden loss L0 = ||alpha^t - alpha^f||^2")
    ax1.set_ylabel("output loss L1 (1/ms^2)")
    k = int(cor.get("seeds", 1))
    first = f" (seed {cor['seed_list'][0]})" if k > 1 and cor.get("seed_list") else ""
    mean = f"mean r over {k} seeds" if k > 1 else "r"
    ax1.set_title(f"B: the '2's of epoch {e}{first}, {mean} = {cor['r'][e - 1, 2]:.2f} (paper, epoch 2: 0.61)",
                  fontsize=9)
    if eig and first:
        axes[2].set_title(f"supplement 1{first}: (I - J_b J_g)^T (I - J_b J_g)")
    r, rs = cor["r"], cor["r_shuffled"]
    for k in range(r.shape[0]):
        x = np.arange(10) + 0.25 * k
        ax2.scatter(x, r[k], label=f"epoch {k + 1}", s=20)
        if cor.get("seeds", 1) > 1:
            ax2.errorbar(x, r[k], yerr=cor["r_sem"][k], fmt="none", ecolor="0.3", lw=0.8)
        ax2.scatter(x, np.nanmean(rs[k], axis=1), marker="x", c="0.5", s=16,
                    label="shuffled (mean)" if k == 0 else None)
    ax2.axhspan(*PAPER_RANGE, color="0.9", zorder=-1, label="paper: most r 0.2-0.6")
    ax2.plot([2 + 0.25], [PAPER_R_TWOS_EPOCH2], "r*", ms=10, label="paper: '2's, epoch 2")
    ax2.set_xticks(range(10))
    ax2.set_xlabel("digit")
    ax2.set_ylabel("Pearson r(L0, L1)")
    ax2.set_title("C: r per digit and epoch" + note)
    ax2.legend(fontsize=7)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def parser():
    ap = OneLineParser(prog="python -m brian_segdend paper fig5",
                       description="Figure 5: correlation of the hidden and output losses L0, L1 per digit and "
                                   "epoch against shuffled pairings, from a run with every learning step recorded.")
    ap.add_argument("--out", default="results/fig5", help="output folder (default results/fig5)")
    ap.add_argument("--hidden", type=int_list, help="hidden layer sizes (default 500; --quick 50)")
    ap.add_argument("--train-size", type=positive_int, help="training images (default 60000; --quick 1500)")
    ap.add_argument("--test-size", type=positive_int, help="test images after every epoch (default 10000; --quick 300)")
    ap.add_argument("--epochs", type=positive_int, help="epochs (default 2, the paper's Fig. 5B; --quick 2)")
    ap.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    ap.add_argument("--seeds", help="several seeds, e.g. 1,2,3: one recorded run per seed, each a task on the sweep "
                    "engine (<out>/seed<k>/, reused when present); the claims are judged on the mean over seeds "
                    "(default: --seed alone, run here)")
    ap.add_argument("--chunk-steps", type=positive_int, default=50_000, help="steps per compiled run (default 50000)")
    ap.add_argument("--shuffles", type=positive_int, default=200, help="shuffled pairings per digit and epoch")
    ap.add_argument("--from-run", metavar="NPZ", help="reuse a recorded run (fig5_run.npz or fig7_run.npz)")
    ap.add_argument("--quick", action="store_true", help="hidden 50, 1,500 training / 300 test images, 2 epochs")
    from .sweep import add_engine_options  # noqa: PLC0415 (start-up cost: Dask only where a study runs)
    add_engine_options(ap)
    return ap


def seed_list(args) -> list[int]:
    """The seeds of ``--seeds`` (``[--seed]`` when not given); a one-line error on bad input."""
    if not getattr(args, "seeds", None):
        return [int(args.seed)]
    seeds = S._seed_list(args.seeds)
    if len(seeds) > 1 and args.from_run:
        raise ParameterError("--from-run: one recorded run; not with several --seeds")
    return seeds


def mean_sem(values) -> tuple[float, float | None]:
    """Mean over seeds (nan entries skipped) and its standard error (None with one value)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan"), None
    return float(v.mean()), (float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else None)


def _pm(m: float, s: float | None, fmt: str = ".3f") -> str:
    return f"{m:{fmt}}" + ("" if s is None or not np.isfinite(s) else f" ± {s:{fmt}}")


def combine_eigenvalues(eigs: list) -> dict | None:
    """:func:`eigenvalue_summary` of several seeds: the mean (and SEM) over seeds of the start and epoch-1 tail."""
    eigs = [e for e in eigs if e and e["epoch1_last_tenth_median"] is not None]
    if not eigs:
        return None
    m, s = mean_sem([e["epoch1_last_tenth_median"] for e in eigs])
    return {"example": eigs[0]["example"], "mu": eigs[0]["mu"], "start": mean_sem([e["start"] for e in eigs])[0],
            "epoch1_last_tenth_median": m, "epoch1_last_tenth_median_sem": s, "seeds": len(eigs),
            "per_seed": [{"start": e["start"], "epoch1_last_tenth_median": e["epoch1_last_tenth_median"]}
                         for e in eigs]}


def combine_correlations(cors: list[dict]) -> dict:
    """:func:`correlations` of several seeds combined: the claims' input, judged on the mean over seeds.

    ``r``: mean over seeds per epoch and digit (``r_sem`` its SEM); ``r_shuffled``: per shuffle the
    mean over seeds of the shuffled r's (the null distribution of a mean over seeds); ``n``: summed;
    ``mean_r_seeds``: per seed the mean r over digits per epoch (seeds, epochs), ``mean_r_sem`` the
    SEM over seeds of that mean.
    """
    r = np.array([c["r"] for c in cors], float)
    rs = np.array([c["r_shuffled"] for c in cors], float)
    per_seed = np.nanmean(r, axis=2)
    k = len(cors)
    sem = np.nanstd(r, axis=0, ddof=1) / np.sqrt(k) if k > 1 else np.full(r.shape[1:], np.nan)
    return {"r": np.nanmean(r, axis=0), "r_sem": sem, "r_shuffled": np.nanmean(rs, axis=0),
            "n": np.sum([c["n"] for c in cors], axis=0), "mean_r_seeds": per_seed,
            "mean_r_sem": [mean_sem(per_seed[:, e])[1] for e in range(per_seed.shape[1])],
            "r_seeds": r, "seeds": k}


def _one_hidden(run: dict) -> str:
    """The network of a run saved without its name (the first version of the run file): one hidden layer."""
    return f"784-{run['W0'].shape[0]}-10"


def paper_scale(cfg: dict) -> bool:
    """Whether a run is at the paper's scale (784-500-10, 60,000 training images per epoch)."""
    return cfg.get("network") == "784-500-10" and cfg.get("train_size") == 60_000 and not cfg.get("quick")


def run_or_load(args, name: str, log=print, model: dict | None = None, from_run: str | None = None) -> tuple[dict, dict]:
    """(run, configuration): the recorded run of ``--from-run``, or a new one saved as ``<out>/<name>``.

    ``model``: model parameters of the new run (e.g. ``{"feedback_signal": "rates"}``; default the
    library's); ``from_run``: a recorded run to use instead of ``args.from_run``.
    """
    from_run = from_run if from_run is not None else args.from_run
    defaults = QUICK if args.quick else FULL
    cfg = {k: (getattr(args, k) if getattr(args, k) is not None else v) for k, v in defaults.items()}
    cfg.update(seed=args.seed, chunk_steps=args.chunk_steps, quick=bool(args.quick))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if from_run:
        run = credit_run.load(from_run)
        # what the recorded run was (not the options' defaults)
        net = str(run.get("network") or _one_hidden(run))
        cfg.update(from_run=str(from_run), network=net, feedback_signal=str(run.get("feedback_signal", "spikes")),
                   hidden=[int(h) for h in net.split("-")[1:-1]],
                   train_size=len(run["order"][0]), epochs=int(run["epoch"].max()), test_size=None)
        return run, cfg
    params = TrainConfig(hidden=tuple(cfg["hidden"]), model=dict(model or {})).model_params()
    cfg["network"] = "-".join(map(str, params.layer_sizes))
    cfg["feedback_signal"] = params.feedback_signal
    run = credit_run.train_recorded(params, load_mnist(), cfg["train_size"], cfg["test_size"], cfg["epochs"],
                                    cfg["seed"], chunk_steps=cfg["chunk_steps"], log=log)
    credit_run.save(out / name, run)
    return run, cfg


def credit_task(cfg: dict, model: dict, path: str) -> str:
    """One recorded run (:func:`credit_run.train_recorded`) saved to ``path``; runs as a task on a Dask worker."""
    import os  # noqa: PLC0415 (only on a worker)
    os.environ["OMP_NUM_THREADS"] = "1"
    params = TrainConfig(hidden=tuple(cfg["hidden"]), model=dict(model or {})).model_params()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(Path(path).parent / "train.log", "a") as logf:
        def log(msg):
            logf.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}\n")
            logf.flush()
        run = credit_run.train_recorded(params, load_mnist(), cfg["train_size"], cfg["test_size"], cfg["epochs"],
                                        cfg["seed"], chunk_steps=cfg["chunk_steps"], log=log)
    tmp = Path(path).with_name(Path(path).stem + ".part.npz")
    credit_run.save(tmp, run)
    tmp.replace(path)        # complete files only: a killed task leaves nothing to reuse by mistake
    return str(path)


def run_or_load_seeds(args, name: str, seeds: list[int], log=print, model: dict | None = None) -> list[tuple[dict, dict]]:
    """(run, configuration) per seed: ``<out>/seed<k>/<name>``, reused when present.

    The missing runs are recorded as tasks on the sweep engine (``--workers``, ``--scheduler``; a
    LocalCluster by default), one per seed.
    """
    from .sweep import engine_from_args  # noqa: PLC0415 (start-up cost: Dask only where a study runs)
    defaults = QUICK if args.quick else FULL
    base = {k: (getattr(args, k) if getattr(args, k) is not None else v) for k, v in defaults.items()}
    base.update(chunk_steps=args.chunk_steps, quick=bool(args.quick))
    params = TrainConfig(hidden=tuple(base["hidden"]), model=dict(model or {})).model_params()
    base.update(network="-".join(map(str, params.layer_sizes)), feedback_signal=params.feedback_signal,
                hidden=list(base["hidden"]))
    out = Path(args.out)
    cfgs = {s: dict(base, seed=s) for s in seeds}
    paths = {s: out / f"seed{s}" / name for s in seeds}
    todo = [s for s in seeds if not paths[s].exists()]
    for s in seeds:
        if s not in todo:
            log(f"seed {s}: reusing {paths[s]}")
    if todo:
        engine = engine_from_args(args)
        client = cluster = None
        t0 = time.perf_counter()
        try:
            client, cluster = engine.start(log)
            log(f"dask scheduler {client.scheduler.address}: {len(todo)} recorded run(s) (seeds "
                f"{', '.join(map(str, todo))}); dashboard {client.dashboard_link}")
            futures = {s: client.submit(credit_task, cfgs[s], dict(model or {}), str(paths[s]),
                                        key=f"credit-{name}-seed{s}-{time.time_ns()}", retries=engine.retries,
                                        pure=False) for s in todo}
            for s, f in futures.items():
                f.result()
                log(f"seed {s}: recorded ({time.perf_counter() - t0:.0f} s elapsed)")
        finally:
            engine.stop(client, cluster)
    return [(credit_run.load(paths[s]), dict(cfgs[s], run_file=str(paths[s]))) for s in seeds]


def main_seeds(args, argv, seeds: list[int]) -> int:
    """Figure 5 over several seeds: per-seed numbers, claims on the mean over seeds (SEM printed)."""
    t0 = time.perf_counter()
    pairs = run_or_load_seeds(args, "fig5_run.npz", seeds)
    cors = [correlations(run, shuffles=args.shuffles, seed=s) for s, (run, _) in zip(seeds, pairs)]
    eigs = [eigenvalue_summary(run) for run, _ in pairs]
    cor = combine_correlations(cors)
    cor["seed_list"] = seeds
    eig = combine_eigenvalues(eigs)
    claims = check_claims(cor, eig)
    out = Path(args.out)
    cfg = {k: v for k, v in pairs[0][1].items() if k not in ("seed", "run_file")}
    cfg["seeds"] = seeds
    r_mean = [mean_sem(cor["mean_r_seeds"][:, e]) for e in range(cor["r"].shape[0])]
    twos = [mean_sem(cor["r_seeds"][:, 1, 2])] if cor["r"].shape[0] >= 2 else []
    doc = {"figure": "5", "title": "credit assignment: hidden loss L0 vs output loss L1", "config": cfg,
           "paper": {"r_twos_epoch2": PAPER_R_TWOS_EPOCH2, "most_r": list(PAPER_RANGE)},
           "epochs_reached": min(int(run["epoch"].max()) for run, _ in pairs),
           "examples": int(len(pairs[0][0]["epoch"])), "seeds": seeds,
           "networks": [cfg.get("network")], "paper_scale": paper_scale(cfg),
           "r": cor["r"].tolist(), "r_sem": cor["r_sem"].tolist(),
           "r_shuffled_mean": np.nanmean(cor["r_shuffled"], axis=2).tolist(),
           "r_shuffled_p99": np.nanpercentile(cor["r_shuffled"], 99, axis=2).tolist(), "n": cor["n"].tolist(),
           "mean_r_per_epoch": [{"mean": m, "sem": s} for m, s in r_mean],
           "r_twos_epoch2": {"mean": twos[0][0], "sem": twos[0][1]} if twos else None,
           "theorem1_eigenvalue": {k: v for k, v in eig.items() if k not in ("example", "mu")} if eig else None,
           "per_seed": {str(s): {"run_file": c["run_file"], "r": co["r"].tolist(),
                                 "mean_r_per_epoch": np.nanmean(co["r"], axis=1).tolist(),
                                 "r_shuffled_p99": np.nanpercentile(co["r_shuffled"], 99, axis=2).tolist(),
                                 "test_error_percent": [100 * float(e) for e in run["test_error"]],
                                 "theorem1_eigenvalue": ({k: v for k, v in e.items() if k not in ("example", "mu")}
                                                         if e else None),
                                 "run_wall_s": float(run.get("wall_s", 0.0))}
                        for s, (run, c), co, e in zip(seeds, pairs, cors, eigs)},
           "claims": claims,
           "provenance": S.provenance(argv, "python -m brian_segdend paper fig5"), "wall_s": time.perf_counter() - t0}
    S.write_json(out / "fig5.json", doc)
    plot(pairs[0][0], cor, out / "fig5.png", f" (mean ± SEM, seeds {','.join(map(str, seeds))})"
         + (" (quick)" if cfg.get("quick") else ""), eig)
    print(f"\nFigure 5: r(L0, L1) per digit (rows: epochs), mean over seeds {', '.join(map(str, seeds))}")
    for e, row in enumerate(cor["r"]):
        print(f"  epoch {e + 1}: " + " ".join(f"{v:5.2f}" for v in row) + f"   mean {_pm(*r_mean[e])}")
    if twos:
        print(f"  r('2', epoch 2) = {_pm(*twos[0])} (paper {PAPER_R_TWOS_EPOCH2})")
    S.print_claims(claims)
    print(f"written: {out / 'fig5.json'}, {out / 'fig5.png'}")
    return 0


def main(argv=None) -> int:
    """``python -m brian_segdend paper fig5 [options]``."""
    argv = list(argv or [])
    args = parser().parse_args(argv)
    seeds = seed_list(args)
    if len(seeds) > 1:
        return main_seeds(args, argv, seeds)
    args.seed = seeds[0]
    t0 = time.perf_counter()
    run, cfg = run_or_load(args, "fig5_run.npz")
    cor = correlations(run, shuffles=args.shuffles, seed=args.seed)
    eig = eigenvalue_summary(run)
    claims = check_claims(cor, eig)
    out = Path(args.out)
    doc = {"figure": "5", "title": "credit assignment: hidden loss L0 vs output loss L1", "config": cfg,
           "paper": {"r_twos_epoch2": PAPER_R_TWOS_EPOCH2, "most_r": list(PAPER_RANGE)},
           "epochs_reached": int(run["epoch"].max()), "examples": int(len(run["epoch"])),
           "networks": [cfg.get("network")], "paper_scale": paper_scale(cfg),
           "test_error_percent": [100 * float(e) for e in run["test_error"]],
           "r": cor["r"].tolist(), "r_shuffled_mean": np.nanmean(cor["r_shuffled"], axis=2).tolist(),
           "r_shuffled_p99": np.nanpercentile(cor["r_shuffled"], 99, axis=2).tolist(), "n": cor["n"].tolist(),
           "theorem1_eigenvalue": eig,
           "claims": claims, "run_wall_s": float(run.get("wall_s", 0.0)),
           "provenance": S.provenance(argv, "python -m brian_segdend paper fig5"), "wall_s": time.perf_counter() - t0}
    S.write_json(out / "fig5.json", doc)
    plot(run, cor, out / "fig5.png", " (quick)" if cfg.get("quick") else "", eig)
    print(f"\nFigure 5: r(L0, L1) per digit (rows: epochs), {len(run['epoch'])} recorded examples")
    for e, row in enumerate(cor["r"]):
        print(f"  epoch {e + 1}: " + " ".join(f"{v:5.2f}" for v in row))
    S.print_claims(claims)
    print(f"written: {out / 'fig5.json'}, {out / 'fig5.png'}")
    return 0
