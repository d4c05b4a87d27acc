"""Figure 9 of the paper: apical segregation (784-500-100-10 with g_a = 0, 0.05 and 0.6 per ms).

``python -m brian_segdend paper fig9`` trains the two-hidden-layer network with the apical
dendrite-to-soma conductance g_a = 0 (total segregation, the default), 0.05 (partial, twelve
times the attenuation of the basal input) and 0.6 = g_b (none) for ``--epochs`` (default 60)
on all 60,000 training images, testing on all 10,000 after every epoch, each for every seed
(default 1,2,3; the same seeds, hence the same initial weights, images and order for every
g_a), on the sweep engine. g_a is a run argument: all runs share one compiled network.

Layout (runs started by hand with ``train --hidden 500,100 --g-a 0.05 --out <out>/g_a=0.05/seed1``
are collected too)::

    <out>/g_a=0/seed1/results.json   (or checkpoint.npz while unfinished)
    <out>/g_a=0.05/seed1/...
    <out>/fig9.json, <out>/fig9.png

Claims (printed with PASS/FAIL and the numbers, at the last epoch every compared run reached):

1. g_a = 0.05 learns like g_a = 0: the difference of the mean test errors over seeds is within
   ``max(0.5 pp, 15% of the g_a = 0 error)`` (the paper: "very little difference"; 0.5 pp at the
   paper's 3.2%, proportionally more for the larger errors of short runs);
2. g_a = 0.6 is significantly worse than g_a = 0: the seed-paired difference (same seeds) is
   positive and a one-sided paired t-test over seeds gives p < 0.05 (t above the 5% critical
   value for n - 1 degrees of freedom); with one seed it is not judged (the difference is shown).
"""

from __future__ import annotations

import time

from ..model.params import ParameterError
from . import paper_study as S

__all__ = ["G_A_VALUES", "check_claims", "main", "variant_name"]

G_A_VALUES = (0.0, 0.05, 0.6)
PAPER_HIDDEN = (500, 100)
QUICK = {"hidden": (50, 20), "train_size": 3000, "test_size": 500, "epochs": 2, "seeds": "1,2,3"}
#: the same network's error after 60 epochs with g_a = 0 (Figure 6B; Figure 9's text gives no numbers)
PAPER_G0_ERROR = 3.2
SIMILAR_PP = 0.5
SIMILAR_REL = 0.15


def variant_name(g_a: float) -> str:
    """Folder name of a g_a value: ``g_a=0``, ``g_a=0.05``, ``g_a=0.6``."""
    return f"g_a={format(float(g_a), 'g')}"


def _label(name):
    return name.replace("g_a=", "g_a = ") + " /ms"


def parser():
    return S.study_parser("python -m brian_segdend paper fig9",
                          "Figure 9: 784-500-100-10 with apical conductance g_a = 0, 0.05 and 0.6 /ms, on the "
                          "sweep engine, checked against the paper.", PAPER_HIDDEN, QUICK, varied="g_a")


def check_claims(entries: dict) -> list[dict]:
    """Figure 9's two claims on collected variants keyed by :func:`variant_name`."""
    ref, part, full = (entries.get(variant_name(g)) for g in G_A_VALUES)
    claims = []
    text = "g_a = 0.05 learns like g_a = 0 (total segregation)"
    paper = "very little difference"
    if not ref or not part or not ref["mean_percent"] or not part["mean_percent"]:
        claims.append(S.claim(text, paper, "not judged", "not judged: g_a = 0 or 0.05 has no finished epoch"))
    else:
        n = min(ref["epochs_reached"], part["epochs_reached"])
        v0, v1 = S.value_at(ref, n), S.value_at(part, n)
        tol = max(SIMILAR_PP, SIMILAR_REL * v0)
        pd = S.paired_difference(ref, part, n)
        pair = (f"; paired over {len(pd['seeds'])} seed(s): {pd['mean']:+.2f}"
                + (f" ± {pd['sem']:.2f} pp" if pd["sem"] else " pp")) if pd else ""
        claims.append(S.claim(text, paper, "PASS" if abs(v1 - v0) <= tol else "FAIL",
                              f"epoch {n}: g_a = 0.05 {v1:.2f}% vs g_a = 0 {v0:.2f}% (difference {v1 - v0:+.2f} pp, "
                              f"tolerance {tol:.2f} pp = max({SIMILAR_PP}, {SIMILAR_REL:g} x {v0:.2f}){pair})",
                              value=f"{v1:.2f}% vs {v0:.2f}%", epochs=n, seeds=pd["seeds"] if pd else None))
    text = "g_a = 0.6 = g_b learns significantly worse than g_a = 0 (one-sided paired t-test over seeds, p < 0.05)"
    paper = "learning significantly impaired"
    pd = S.paired_difference(ref, full) if ref and full else None
    if pd is None:
        claims.append(S.claim(text, paper, "not judged", "not judged: g_a = 0 or 0.6 has no finished epoch"))
    else:
        n = pd["epoch"]
        v0, v1 = S.value_at(ref, n), S.value_at(full, n)
        per_seed = ", ".join(f"{d:+.2f}" for d in pd["differences"])
        base = (f"epoch {n}: g_a = 0.6 {v1:.2f}% vs g_a = 0 {v0:.2f}%; paired differences (pp) per seed "
                f"{per_seed}")
        if len(pd["seeds"]) < 2:
            claims.append(S.claim(text, paper, "not judged", base + "; not judged: a paired test needs >= 2 seeds",
                                  value=f"{v1:.2f}% vs {v0:.2f}%", epochs=n, seeds=pd["seeds"]))
        else:
            ok = S.significantly_positive(pd)
            t = "undefined (the same difference on every seed)" if pd["t"] is None else f"{pd['t']:.2f}"
            claims.append(S.claim(text, paper, "PASS" if ok else "FAIL",
                                  base + f"; mean {pd['mean']:+.2f} ± {pd['sem']:.2f} pp, t = {t} "
                                  f"(critical {pd['t_crit']:.3f}, df {len(pd['seeds']) - 1})",
                                  value=f"{v1:.2f}% vs {v0:.2f}% ({pd['mean']:+.2f} pp, t = {t})",
                                  epochs=n, seeds=pd["seeds"]))
    return claims


def plot(entries: dict, path, note=""):
    import matplotlib  # noqa: PLC0415 (start-up cost: matplotlib is imported only when a figure is drawn)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (start-up cost: matplotlib is imported only when a figure is drawn)
    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    marks = {variant_name(0.0): (S.PAPER_EPOCHS, PAPER_G0_ERROR)}
    colors = {variant_name(0.0): "0.35", variant_name(0.05): "tab:red", variant_name(0.6): "tab:blue"}
    S.plot_variant_curves(ax, entries, {n: _label(n) for n in entries}, marks,
                          "Figure 9B: test error per epoch, mean ± SEM over seeds\n(paper: g_a = 0 after 60 epochs, "
                          "from Fig. 6B)" + note, colors)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None) -> int:
    """``python -m brian_segdend paper fig9 [options]``."""
    ap = parser()
    ap.add_argument("--g-a-values", default="0,0.05,0.6",
                    help="apical conductances in 1/ms (default 0,0.05,0.6; the claims use 0, 0.05 and 0.6)")
    args = S.parse_study_args(ap, argv, QUICK, PAPER_HIDDEN)
    try:
        values = [float(v) for v in args.g_a_values.split(",") if v.strip()]
    except ValueError:
        raise ParameterError(f"--g-a-values: expected comma-separated numbers, got {args.g_a_values!r}") from None
    if not values or any(not (v >= 0) or v != v or v == float("inf") for v in values):
        raise ParameterError(f"--g-a-values: expected finite numbers >= 0, got {args.g_a_values!r}")
    names = [variant_name(v) for v in values]
    if len(set(names)) != len(names):
        raise ParameterError(f"--g-a-values: values must be distinct, got {args.g_a_values!r}")
    if not args.hidden:
        raise ParameterError("--hidden: Figure 9 needs at least one hidden layer (g_a acts on hidden neurons)")
    if (args.feedback or "").startswith("symmetric") and len(args.hidden) > 1:
        raise ParameterError("--feedback: symmetric feedback is implemented for one hidden layer only")
    args.out = args.out or "results/fig9"
    t0 = time.perf_counter()
    out, config = S.run_study(args, {variant_name(v): {"g_a": v} for v in values}, "Figure 9")
    entries = S.collect_variants(out, names)
    claims = check_claims(entries)
    prog = S.progress(entries, config.get("epochs"), config.get("train_size"))
    networks, paper_scale = S.scale(entries, "784-500-100-10")
    doc = {"figure": "9", "title": "apical segregation", "config": config, "g_a_values": values,
           "paper_g_a_0_percent_after_60_epochs": PAPER_G0_ERROR,
           "claim_tolerances": {"similar_pp": SIMILAR_PP, "similar_relative": SIMILAR_REL,
                                "significance": "one-sided paired t-test over seeds, alpha 0.05"},
           "networks": networks, "paper_scale": paper_scale,
           "variants": entries, "progress": prog, "claims": claims,
           "provenance": S.provenance(argv, "python -m brian_segdend paper fig9"),
           "wall_s": time.perf_counter() - t0}
    out.mkdir(parents=True, exist_ok=True)
    S.write_json(out / "fig9.json", doc)
    net = config.get("network") or ", ".join(sorted({str(r['network']) for e in entries.values()
                                                      for r in e['seeds'].values()}))
    plot(entries, out / "fig9.png", f"; {net}" + (" (quick)" if args.quick else ""))
    print(f"\nFigure 9 ({net}), test error (%) at the last epoch every seed reached (mean ± SEM over seeds):")
    print("\n".join(S.progress_lines(entries, prog, {n: _label(n) for n in names})))
    S.print_claims(claims)
    print(f"written: {out / 'fig9.json'}, {out / 'fig9.png'}")
    return 0
