"""Figure 8 of the paper: learning with different feedback weights Y (784-500-10).

``python -m brian_segdend paper fig8`` trains the one-hidden-layer network with five feedback
variants for ``--epochs`` (default 60) on all 60,000 training images, testing on all 10,000
after every epoch, each for every seed (default 1,2,3), on the sweep engine
(:mod:`brian_segdend.studies.sweep`), and checks the paper's claims:

* ``random``: Y drawn from the weight recipe (the paper's default; 4.1% after 60 epochs);
* ``sparse``: 80% of Y set to zero, the rest x 5 (3.7%, slightly better than random);
* ``sparse_noscale``: 80% zeros, not rescaled (Figure 8 supplement 1: worse);
* ``symmetric``: Y = W1^T, following W1 as it learns (3.6%, faster);
* ``symmetric_noise``: W1^T plus fixed noise (slightly worse than random).

Layout (as ``paper fig6``; runs started by hand with ``train --feedback ... --out
<out>/<variant>/seed<k>`` are collected too)::

    <out>/random/seed1/results.json   (or checkpoint.npz while unfinished)
    <out>/sparse/seed1/...
    <out>/fig8.json, <out>/fig8.png

Claims (printed with PASS/FAIL and the numbers; the comparisons are judged on the mean over seeds
at the last epoch every compared variant reached, with the seed-paired difference and its SEM
reported alongside; values against the paper's only after 60 epochs of the paper's configuration):

1. sparse (x5) <= random;  2. sparse without rescaling > sparse (x5);
3. symmetric <= random at the last epoch;  4. symmetric < random after the first epoch (faster);
5. symmetric + noise > random;  6-8. random / sparse / symmetric within 0.5 pp of 4.1 / 3.7 / 3.6%.
"""

from __future__ import annotations

import time

from ..model.params import ParameterError
from . import paper_study as S

__all__ = ["VARIANTS", "PAPER_ERROR", "check_claims", "main"]

VARIANTS = ("random", "sparse", "sparse_noscale", "symmetric", "symmetric_noise")
LABELS = {"random": "random Y", "sparse": "sparse Y (80% zeros, x5)", "sparse_noscale": "sparse Y, not rescaled",
          "symmetric": "symmetric Y = W1^T", "symmetric_noise": "symmetric Y + noise"}
COLORS = {"random": "0.35", "sparse": "tab:red", "sparse_noscale": "tab:orange", "symmetric": "tab:red",
          "symmetric_noise": "tab:blue"}
#: the paper's test error (%) after 60 epochs (text of Figure 8)
PAPER_ERROR = {"random": 4.1, "sparse": 3.7, "symmetric": 3.6}
PAPER_HIDDEN = (500,)
QUICK = {"hidden": (50,), "train_size": 3000, "test_size": 500, "epochs": 2, "seeds": "1,2"}
PAPER_TOLERANCE_PP = 0.5


def parser():
    return S.study_parser("python -m brian_segdend paper fig8",
                          "Figure 8: 784-500-10 with random, sparse (x5), sparse unscaled, symmetric and "
                          "symmetric+noise feedback weights, on the sweep engine, checked against the paper.",
                          PAPER_HIDDEN, QUICK, varied="feedback")


def _compare(entries, a, b, text, paper, better: str, epoch=None):
    """Claim that b's error is lower ('lt'/'le') or higher ('gt') than a's, by the mean over seeds."""
    ea, eb = entries.get(a), entries.get(b)
    if not ea or not eb or not ea["mean_percent"] or not eb["mean_percent"]:
        missing = [n for n, e in ((a, ea), (b, eb)) if not e or not e["mean_percent"]]
        return S.claim(text, paper, "not judged", f"not judged: no finished epoch of {', '.join(missing)}")
    n = min(ea["epochs_reached"], eb["epochs_reached"]) if epoch is None else epoch
    if n < 1 or n > min(ea["epochs_reached"], eb["epochs_reached"]):
        return S.claim(text, paper, "not judged", f"not judged: epoch {n} not reached by both")
    va, vb = S.value_at(ea, n), S.value_at(eb, n)
    ok = {"le": vb <= va, "lt": vb < va, "gt": vb > va}[better]
    pd = S.paired_difference(ea, eb, n)
    pair = ""
    if pd is not None:
        pair = f"; paired over {len(pd['seeds'])} seed(s): {pd['mean']:+.2f}" + (
            " pp" if pd["sem"] is None else f" ± {pd['sem']:.2f} pp (t = {pd['t']:.2f})" if pd["t"] is not None
            else " ± 0.00 pp (the same on every seed)")
    detail = (f"epoch {n}: {b} {vb:.2f}% vs {a} {va:.2f}% (difference {vb - va:+.2f} pp, mean over "
              f"{min(ea['n_seeds'], eb['n_seeds'])} seed(s){pair})")
    return S.claim(text, paper, "PASS" if ok else "FAIL", detail, value=f"{b} {vb:.2f}% vs {a} {va:.2f}%",
                   epochs=n, seeds=pd["seeds"] if pd else None)


def check_claims(entries: dict, paper_config: bool) -> list[dict]:
    """The paper's Figure 8 claims on collected variants (mean over seeds, percent)."""
    c = [
        _compare(entries, "random", "sparse", "sparse Y (80% zeros, x5) learns at least as well as random Y",
                 "3.7% vs 4.1% at epoch 60", "le"),
        _compare(entries, "sparse", "sparse_noscale", "sparse Y without rescaling learns worse than rescaled",
                 "worse (Fig. 8 supplement 1)", "gt"),
        _compare(entries, "random", "symmetric", "symmetric Y = W1^T learns at least as well as random Y",
                 "3.6% vs 4.1% at epoch 60", "le"),
        _compare(entries, "random", "symmetric", "symmetric Y learns faster: lower error than random after epoch 1",
                 "rapid decrease of the test error", "lt", epoch=1),
        _compare(entries, "random", "symmetric_noise", "symmetric Y plus noise is worse than random Y",
                 "slightly worse than random", "gt"),
    ]
    for name, paper in PAPER_ERROR.items():
        text = f"{name} within {PAPER_TOLERANCE_PP} pp of the paper's {paper}% after {S.PAPER_EPOCHS} epochs"
        e = entries.get(name)
        reached = e["epochs_reached"] if e else 0
        if not paper_config:
            c.append(S.claim(text, f"{paper}%", "not judged", "not judged: not the paper's configuration "
                             "(784-500-10, 60,000 training and 10,000 test images)", epochs=reached))
        elif reached < S.PAPER_EPOCHS:
            c.append(S.claim(text, f"{paper}%", "not judged", f"not judged: reached {reached} epoch(s)",
                             epochs=reached))
        else:
            v = S.value_at(e, S.PAPER_EPOCHS)
            c.append(S.claim(text, f"{paper}%", "PASS" if abs(v - paper) <= PAPER_TOLERANCE_PP else "FAIL",
                             f"{v:.2f}% (paper {paper}%, difference {v - paper:+.2f} pp, {e['n_seeds']} seed(s))",
                             value=f"{v:.2f}%", epochs=S.PAPER_EPOCHS,
                             seeds=[s for s, r in e["seeds"].items() if r["test_error"]]))
    return c


def plot(entries: dict, path, title_note=""):
    import matplotlib  # noqa: PLC0415 (start-up cost: matplotlib is imported only when a figure is drawn)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (start-up cost: matplotlib is imported only when a figure is drawn)
    marks = {n: (S.PAPER_EPOCHS, v) for n, v in PAPER_ERROR.items()}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    S.plot_variant_curves(axes[0], {n: entries.get(n) for n in ("random", "sparse", "sparse_noscale")},
                          LABELS, marks, "B: sparse feedback (and supplement 1)", COLORS)
    S.plot_variant_curves(axes[1], {n: entries.get(n) for n in ("random", "symmetric", "symmetric_noise")},
                          LABELS, marks, "D: symmetric feedback", COLORS)
    fig.suptitle("Figure 8: test error per epoch, mean ± SEM over seeds (the paper's values after 60 epochs as "
                 "stars, or dotted lines for short runs)"
                 + title_note, fontsize=10)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None) -> int:
    """``python -m brian_segdend paper fig8 [options]``."""
    ap = parser()
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"which feedback variants (default all: "
                    f"{','.join(VARIANTS)})")
    from ..training.options import nonneg_float  # noqa: PLC0415 (start-up cost: matplotlib is imported only when a figure is drawn)
    ap.add_argument("--feedback-noise", type=nonneg_float,
                    help="symmetric_noise: sd of the fixed noise added to W1^T, as a fraction of the recipe's "
                         "feedback sd (default: the library's feedback_noise, 0.05)")
    args = S.parse_study_args(ap, argv, QUICK, PAPER_HIDDEN)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants or len(set(variants)) != len(variants):
        raise ParameterError(f"--variants: choose distinct ones from {', '.join(VARIANTS)}, got {args.variants!r}")
    if len(args.hidden) != 1 and any(v.startswith("symmetric") for v in variants):
        raise ParameterError("--hidden: symmetric feedback is implemented for one hidden layer only")
    args.out = args.out or "results/fig8"
    t0 = time.perf_counter()
    models = {v: {"feedback": v} for v in variants}
    if args.feedback_noise is not None and "symmetric_noise" in models:
        models["symmetric_noise"]["feedback_noise"] = args.feedback_noise
    out, config = S.run_study(args, models, "Figure 8")
    entries = S.collect_variants(out, variants)
    networks, paper_scale = S.scale(entries, "784-500-10")
    if paper_scale is None and not args.from_runs:   # unfinished runs: their configuration is this command's
        paper_scale = (tuple(args.hidden) == PAPER_HIDDEN and args.train_size == 60_000 and args.test_size == 10_000)
    claims = check_claims(entries, bool(paper_scale))
    prog = S.progress(entries, config.get("epochs"), config.get("train_size"))
    doc = {"figure": "8", "title": "feedback weights", "config": config,
           "paper_percent_after_60_epochs": PAPER_ERROR, "networks": networks, "paper_scale": paper_scale,
           "variants": entries, "progress": prog, "claims": claims,
           "provenance": S.provenance(argv, "python -m brian_segdend paper fig8"),
           "wall_s": time.perf_counter() - t0}
    out.mkdir(parents=True, exist_ok=True)
    S.write_json(out / "fig8.json", doc)
    net = config.get("network") or ", ".join(sorted({str(r['network']) for e in entries.values()
                                                      for r in e['seeds'].values()}))
    plot(entries, out / "fig8.png", f"\n{net}" + (" (quick)" if args.quick else ""))
    print(f"\nFigure 8 ({net}), test error (%) at the last epoch every seed reached (mean ± SEM over seeds):")
    print("\n".join(S.progress_lines(entries, prog, LABELS, PAPER_ERROR)))
    S.print_claims(claims)
    print(f"written: {out / 'fig8.json'}, {out / 'fig8.png'}")
    return 0
