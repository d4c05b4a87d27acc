"""Figure 7 of the paper: the local rule's hidden update against backpropagation's.

``python -m brian_segdend paper fig7`` trains 784-500-10 (``--hidden``) with every learning step
recorded (:func:`brian_segdend.studies.credit_run.train_recorded`; ``--from-run`` reuses the
``fig5_run.npz`` or ``fig7_run.npz`` of an earlier run) and computes:

* **A**: per training example the angle between the hidden-layer update of the local rule,
  dW0 = -eta P E0 sbar_in^T, and the update that backpropagating the output error through the
  current W1 would give, dW0_BP (:func:`brian_segdend.model.credit.backprop_hidden_error`, from the
  same recorded averages; docs/MODEL.md's rule), smoothed by a moving average (``--smooth``);
* **B/C**: the receptive fields (rows of W0) after training against those of a small rate-based
  NumPy network of the same architecture trained by backprop on the same images in the same
  order (:func:`train_backprop`, own random initial weights); per field of the spiking network the
  largest Pearson correlation with any backprop field, against the same with every backprop field's
  pixels shuffled.

Writes ``fig7.json``, ``fig7.png`` and ``fig7_run.npz``. ``--seeds 1,2,3``: one run per seed on the
sweep engine (as ``paper fig5 --seeds``), the claims on the mean over seeds (smoothed curve, its
minimum and second-half mean, the per-seed median field correlation), with the SEM shown. Claims (PASS/FAIL with the numbers):

1. the angle starts near 90 deg: the mean over the first smoothing window is within 90 +- 10 deg;
2. the angle falls below 90 deg once learning starts (the paper: to about 65 deg, then about
   70 deg): the mean over the second half of the examples is below 85 deg (shown next to the
   paper's values);
3. the receptive fields resemble backprop's: the median of the fields' maximum correlation is above
   the 99th percentile of the shuffled fields' maximum correlations.

``--feedback-signal rates`` also trains the rate-feedback variant (the paper's Figure 7A red line:
the output layer's rates phi_max sigma(V) instead of its spikes sent back through Y,
``ModelParams.feedback_signal = "rates"``, its own build) with the same seed, images and order
(saved as ``fig7_rates_run.npz``; ``--from-run-rates`` reuses one), draws both angle curves with
the paper's 35 and 40 deg marked, and checks

4. rate feedback gives a smaller angle than spiking feedback: the mean over the second half of the
   examples is lower with rates (the paper: about 35 then 40 deg, against 65 then 70 deg).
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib
import numpy as np

from ..model.params import ParameterError
from ..training.data import load_mnist
from . import fig5
from . import paper_study as S

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after selecting the Agg backend)

__all__ = ["smooth", "train_backprop", "max_correlations", "check_claims", "rate_claim", "angle_summary", "main",
           "combine_angles", "combine_fields"]

PAPER_ANGLE_MIN, PAPER_ANGLE_LATE = 65.0, 70.0
#: the paper's angles with rate feedback (Figure 7A, red line): about 35 deg, then about 40 deg
PAPER_RATES_MIN, PAPER_RATES_LATE = 35.0, 40.0
START_TOL = 10.0
BELOW = 85.0


def smooth(x, window: int) -> np.ndarray:
    """Moving average over ``window`` examples (valid part only; nan entries skipped)."""
    x = np.asarray(x, float)
    ok = np.isfinite(x)
    c = np.convolve(np.where(ok, x, 0.0), np.ones(window), "valid")
    n = np.convolve(ok.astype(float), np.ones(window), "valid")
    with np.errstate(invalid="ignore", divide="ignore"):
        return c / n


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def train_backprop(images, labels, orders, n_hidden: int, seed: int, lr: float = 0.05) -> dict:
    """A rate-based 784-n_hidden-10 sigmoid network trained online by backprop (squared error to one-hot).

    ``orders``: per epoch the image indices in presentation order (the spiking run's). Initial
    weights uniform in +-1/sqrt(n_in), biases 0 (its own random generator). Returns W0, W1.
    """
    rng = np.random.default_rng(seed)
    n_in = images.shape[1]
    W0 = rng.uniform(-1, 1, (n_hidden, n_in)) / np.sqrt(n_in)
    W1 = rng.uniform(-1, 1, (10, n_hidden)) / np.sqrt(n_hidden)
    b0, b1 = np.zeros(n_hidden), np.zeros(10)
    scale = 255.0 if np.asarray(images[:1]).max() > 1 else 1.0
    for order in orders:
        for i in order:
            x = np.asarray(images[i], float) / scale
            t = np.zeros(10)
            t[int(labels[i])] = 1.0
            h = _sig(W0 @ x + b0)
            y = _sig(W1 @ h + b1)
            d1 = (y - t) * y * (1 - y)
            d0 = (W1.T @ d1) * h * (1 - h)
            W1 -= lr * np.outer(d1, h)
            b1 -= lr * d1
            W0 -= lr * np.outer(d0, x)
            b0 -= lr * d0
    return {"W0": W0, "W1": W1}


def _z(rows):
    rows = np.asarray(rows, float)
    rows = rows - rows.mean(axis=1, keepdims=True)
    sd = rows.std(axis=1, keepdims=True)
    return rows / np.where(sd > 0, sd, 1.0)


def max_correlations(A, B, shuffle_seed: int | None = None) -> np.ndarray:
    """For each row of A, the largest Pearson correlation with any row of B.

    Each B row's entries are permuted independently first when ``shuffle_seed`` is given.
    """
    B = np.asarray(B, float)
    if shuffle_seed is not None:
        rng = np.random.default_rng(shuffle_seed)
        B = np.array([rng.permutation(b) for b in B])
    return (_z(A) @ _z(B).T / A.shape[1]).max(axis=1)


def check_claims(angles_smooth, mean_late: float, rf: np.ndarray, rf_shuffled: np.ndarray, epochs: int,
                 seeds: dict | None = None) -> list[dict]:
    """Figure 7's claims (angle start, angle after learning starts, receptive fields vs shuffled).

    ``seeds``: several seeds combined (:func:`combine_angles` and :func:`combine_fields` merged):
    ``angles_smooth`` and ``mean_late`` are then the means over seeds, the fields' claim compares the
    mean over seeds of the per-seed medians with the mean of the per-seed shuffled 99th percentiles
    (``rf``/``rf_shuffled`` unused), and the SEMs are shown.
    """
    claims = []
    sd = seeds or {}
    over = f" (mean ± SEM over {sd['n_seeds']} seeds)" if sd else ""
    a0 = float(angles_smooth[0]) if len(angles_smooth) else float("nan")
    claims.append(S.claim("update angle dW0 vs dW0_BP starts near 90 deg", "about 90 deg at the start",
                          "PASS" if abs(a0 - 90) <= START_TOL else "FAIL",
                          f"first window {fig5._pm(a0, sd.get('first_sem'), '.1f')} deg (tolerance +-{START_TOL:g})"
                          + over, value=f"{a0:.1f} deg", epochs=epochs, seeds=sd.get("seeds")))
    low = float(np.nanmin(angles_smooth)) if len(angles_smooth) else float("nan")
    if sd:
        low_text = f"per-seed smoothed minimum {fig5._pm(sd['min'], sd.get('min_sem'), '.1f')} deg"
    else:
        low_text = f"smoothed minimum {low:.1f} deg"
    claims.append(S.claim("update angle falls below 90 deg once learning starts (mean over the second half)",
                          f"falls to about {PAPER_ANGLE_MIN:g} deg, then about {PAPER_ANGLE_LATE:g} deg",
                          "PASS" if mean_late < BELOW else "FAIL",
                          f"second half {fig5._pm(mean_late, sd.get('late_sem'), '.1f')} deg (threshold {BELOW:g}); "
                          f"{low_text}{over}", value=f"{mean_late:.1f} deg (min {sd.get('min', low):.1f})",
                          epochs=epochs, seeds=sd.get("seeds")))
    if sd:
        med, q, qmed = sd["rf_median"], sd["rf_shuffled_p99"], sd["rf_shuffled_median"]
    else:
        med, q, qmed = float(np.median(rf)), float(np.percentile(rf_shuffled, 99)), float(np.median(rf_shuffled))
    claims.append(S.claim("receptive fields: max correlation with backprop's fields above shuffled fields",
                          "much higher than shuffled", "PASS" if med > q else "FAIL",
                          f"median max r {fig5._pm(med, sd.get('rf_median_sem'))} vs shuffled 99th pct {q:.3f} "
                          f"(shuffled median {qmed:.3f}){over}", value=f"{med:.2f} vs {q:.2f}", epochs=epochs,
                          seeds=sd.get("seeds")))
    return claims


def combine_angles(summaries: list[dict]) -> dict:
    """:func:`angle_summary` of several seeds combined.

    The smoothed curve's mean and SEM over seeds (on the examples all seeds have), and the mean ±
    SEM over seeds of the first window, the smoothed minimum, the second-half mean and the
    per-epoch means.
    """
    n = min(len(a["smoothed"]) for a in summaries)
    curves = np.array([a["smoothed"][:n] for a in summaries], float)
    k = len(summaries)
    out = {"x": np.asarray(summaries[0]["x"][:n]), "smoothed": curves.mean(axis=0),
           "smoothed_sem": curves.std(axis=0, ddof=1) / np.sqrt(k) if k > 1 else np.zeros(n), "n_seeds": k}
    for key in ("first", "min", "late"):
        out[key], out[f"{key}_sem"] = fig5.mean_sem([a[key] for a in summaries])
    epochs = min(len(a["per_epoch"]) for a in summaries)
    out["per_epoch"] = [fig5.mean_sem([a["per_epoch"][e] for a in summaries])[0] for e in range(epochs)]
    out["per_epoch_sem"] = [fig5.mean_sem([a["per_epoch"][e] for a in summaries])[1] for e in range(epochs)]
    return out


def combine_fields(rfs: list, rf_shuffled: list) -> dict:
    """The receptive-field numbers of several seeds.

    Per seed the median max correlation (and the shuffled median and 99th percentile), their mean
    over seeds and the median's SEM.
    """
    med = [float(np.median(r)) for r in rfs]
    q = [float(np.percentile(r, 99)) for r in rf_shuffled]
    qm = [float(np.median(r)) for r in rf_shuffled]
    m, s = fig5.mean_sem(med)
    return {"rf_median": m, "rf_median_sem": s, "rf_shuffled_p99": fig5.mean_sem(q)[0],
            "rf_shuffled_median": fig5.mean_sem(qm)[0], "rf_median_per_seed": med, "rf_shuffled_p99_per_seed": q}


def angle_summary(run: dict, window: int) -> dict:
    """Smoothed angle curve (moving average over ``window`` examples) and its summary numbers."""
    n = len(run["angle"])
    sm = smooth(run["angle"], window)
    epochs = int(run["epoch"].max())
    return {"smoothed": sm, "x": np.arange(len(sm)) + window, "late": float(np.nanmean(run["angle"][n // 2:])),
            "first": float(sm[0]) if len(sm) else float("nan"),
            "min": float(np.nanmin(sm)) if len(sm) else float("nan"),
            "per_epoch": [float(np.nanmean(run["angle"][run["epoch"] == e + 1])) for e in range(epochs)]}


def rate_claim(spikes: dict, rates: dict, epochs: int) -> dict:
    """Claim 4: the angle with rate feedback is below the angle with spiking feedback (second-half means)."""
    ok = np.isfinite(rates["late"]) and rates["late"] < spikes["late"]
    return S.claim("rate feedback angle below spiking feedback angle (mean over the second half)",
                   f"about {PAPER_RATES_MIN:g} then {PAPER_RATES_LATE:g} deg with rates vs about "
                   f"{PAPER_ANGLE_MIN:g} then {PAPER_ANGLE_LATE:g} deg with spikes",
                   "PASS" if ok else "FAIL",
                   f"rates {rates['late']:.1f} deg (smoothed min {rates['min']:.1f}) vs spikes {spikes['late']:.1f} deg "
                   f"(smoothed min {spikes['min']:.1f})",
                   value=f"{rates['late']:.1f} vs {spikes['late']:.1f} deg", epochs=epochs)


def plot(x, angles_smooth, W0, W0_bp, rf, rf_shuffled, path, note="", rates=None, band=None):
    """A: smoothed angle (and the rate-feedback one); B: example receptive fields of both; C: max-correlation histograms.

    ``band``: the SEM over seeds of ``angles_smooth`` (a mean over seeds), drawn as a band.
    """
    fig = plt.figure(figsize=(12, 4.2), constrained_layout=True)
    gs = fig.add_gridspec(1, 3)
    ax = fig.add_subplot(gs[0])
    ax.plot(x, angles_smooth, lw=1, color="tab:blue", label="spiking feedback" + (" (mean ± SEM)" if band is not None
                                                                                  else ""))
    if band is not None:
        ax.fill_between(x, angles_smooth - band, angles_smooth + band, color="tab:blue", alpha=0.25, lw=0)
    ax.axhline(90, c="0.6", ls=":")
    ax.axhline(PAPER_ANGLE_MIN, c="tab:blue", ls="--", lw=0.8, label=f"paper, spikes: about {PAPER_ANGLE_MIN:g} then")
    ax.axhline(PAPER_ANGLE_LATE, c="tab:cyan", ls="--", lw=0.8, label=f"about {PAPER_ANGLE_LATE:g} deg")
    if rates is not None:
        ax.plot(rates["x"], rates["smoothed"], lw=1, color="tab:red", label="rate feedback")
        ax.axhline(PAPER_RATES_MIN, c="tab:red", ls="--", lw=0.8, label=f"paper, rates: about {PAPER_RATES_MIN:g} then")
        ax.axhline(PAPER_RATES_LATE, c="tab:orange", ls="--", lw=0.8, label=f"about {PAPER_RATES_LATE:g} deg")
        ax.set_ylim(0, 100)
    ax.set_xlabel("training example")
    ax.set_ylabel("angle dW0 vs dW0_BP (deg)")
    ax.set_title("A: update angle (moving average)" + note)
    ax.legend(fontsize=7)
    sub = gs[1].subgridspec(2, 4)
    for k in range(4):
        for row, (W, name) in enumerate(((W0, "this rule"), (W0_bp, "backprop"))):
            a = fig.add_subplot(sub[row, k])
            a.imshow(W[k].reshape(28, 28), cmap="gray")
            a.set_xticks([])
            a.set_yticks([])
            if k == 0:
                a.set_ylabel(name, fontsize=7)
    ax = fig.add_subplot(gs[2])
    bins = np.linspace(min(rf_shuffled.min(), rf.min()), max(rf_shuffled.max(), rf.max()), 30)
    ax.hist(rf_shuffled, bins=bins, alpha=0.6, label="shuffled", color="0.5")
    ax.hist(rf, bins=bins, alpha=0.6, label="this rule vs backprop")
    ax.set_xlabel("max correlation of a field")
    ax.set_title("C: receptive-field similarity")
    ax.legend(fontsize=7)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def parser():
    ap = fig5.parser()
    ap.prog = "python -m brian_segdend paper fig7"
    ap.description = ("Figure 7: angle between the local rule's and backprop's hidden updates, and receptive fields "
                      "vs a rate-based backprop network, from a run with every learning step recorded.")
    ap.set_defaults(out="results/fig7")
    ap.add_argument("--smooth", type=int, help="moving-average window in examples (default min(1000, examples/20))")
    ap.add_argument("--bp-lr", type=float, default=0.05, help="learning rate of the backprop network (default 0.05)")
    ap.add_argument("--feedback-signal", choices=["spikes", "rates"], default="spikes",
                    help="spikes (default): the model's spiking feedback only; rates: also train the variant that "
                         "sends the output rates back through Y (same seed and images) and compare the angles")
    ap.add_argument("--from-run-rates", metavar="NPZ", help="reuse a recorded rate-feedback run (fig7_rates_run.npz)")
    return ap


def main(argv=None) -> int:
    """``python -m brian_segdend paper fig7 [options]``."""
    argv = list(argv or [])
    args = parser().parse_args(argv)
    seeds = fig5.seed_list(args)
    if len(seeds) > 1:
        return main_seeds(args, argv, seeds)
    args.seed = seeds[0]
    t0 = time.perf_counter()
    if args.from_run_rates and args.feedback_signal != "rates":
        raise ParameterError("--from-run-rates needs --feedback-signal rates")
    run, cfg = fig5.run_or_load(args, "fig7_run.npz")
    if str(run.get("feedback_signal", "spikes")) != "spikes":
        raise ParameterError(f"--from-run {args.from_run}: a rate-feedback run; give it as --from-run-rates")
    rates_run = rates_cfg = None
    if args.feedback_signal == "rates":
        rates_run, rates_cfg = fig5.run_or_load(args, "fig7_rates_run.npz", model={"feedback_signal": "rates"},
                                                from_run=args.from_run_rates or "")
        if str(rates_run.get("feedback_signal", "spikes")) != "rates":
            raise ParameterError(f"--from-run-rates {args.from_run_rates}: not a rate-feedback run")
    n = len(run["angle"])
    window = args.smooth or max(1, min(1000, n // 20))
    spk = angle_summary(run, window)
    sm, x, late = spk["smoothed"], spk["x"], spk["late"]
    rts = angle_summary(rates_run, window) if rates_run is not None else None
    data = load_mnist()
    bp = train_backprop(data.train_images, data.train_labels, run["order"], run["W0"].shape[0], seed=args.seed + 1000,
                        lr=args.bp_lr)
    rf = max_correlations(run["W0"], bp["W0"])
    rf_sh = max_correlations(run["W0"], bp["W0"], shuffle_seed=args.seed)
    rf_learned = max_correlations(run["W0"] - run["W0_init"], bp["W0"])
    epochs = int(run["epoch"].max())
    claims = check_claims(sm, late, rf, rf_sh, epochs)
    if rts is not None:
        claims.append(rate_claim(spk, rts, min(epochs, int(rates_run["epoch"].max()))))
    out = Path(args.out)
    step = max(1, len(sm) // 2000)
    doc = {"figure": "7", "title": "relation to backprop", "config": {**cfg, "smooth": window, "bp_lr": args.bp_lr},
           "paper": {"angle_min_deg": PAPER_ANGLE_MIN, "angle_late_deg": PAPER_ANGLE_LATE},
           "epochs_reached": epochs, "examples": n, "networks": [cfg.get("network")],
           "paper_scale": fig5.paper_scale(cfg), "test_error_percent": [100 * float(e) for e in run["test_error"]],
           "angle_smoothed": {"example": x[::step].tolist(), "deg": sm[::step].tolist()},
           "angle_first_window_deg": float(sm[0]), "angle_second_half_mean_deg": late,
           "angle_per_epoch_mean_deg": [float(np.nanmean(run["angle"][run["epoch"] == e + 1])) for e in range(epochs)],
           "rf_max_corr": {"median": float(np.median(rf)), "mean": float(rf.mean()),
                           "shuffled_median": float(np.median(rf_sh)), "shuffled_p99": float(np.percentile(rf_sh, 99)),
                           "learned_change_median": float(np.median(rf_learned))},
           "claims": claims, "run_wall_s": float(run.get("wall_s", 0.0)),
           "provenance": S.provenance(argv, "python -m brian_segdend paper fig7"), "wall_s": time.perf_counter() - t0}
    if rts is not None:
        rstep = max(1, len(rts["smoothed"]) // 2000)
        doc["paper"].update(rates_angle_min_deg=PAPER_RATES_MIN, rates_angle_late_deg=PAPER_RATES_LATE)
        doc["rate_feedback"] = {
            "config": rates_cfg, "examples": int(len(rates_run["angle"])),
            "epochs_reached": int(rates_run["epoch"].max()),
            "test_error_percent": [100 * float(e) for e in rates_run["test_error"]],
            "angle_smoothed": {"example": rts["x"][::rstep].tolist(), "deg": rts["smoothed"][::rstep].tolist()},
            "angle_first_window_deg": rts["first"], "angle_second_half_mean_deg": rts["late"],
            "angle_smoothed_min_deg": rts["min"], "angle_per_epoch_mean_deg": rts["per_epoch"],
            "run_wall_s": float(rates_run.get("wall_s", 0.0))}
        doc["angle_smoothed_min_deg"] = spk["min"]
        doc["networks"] = sorted({cfg.get("network"), rates_cfg.get("network")})
    S.write_json(out / "fig7.json", doc)
    plot(x, sm, run["W0"], bp["W0"], rf, rf_sh, out / "fig7.png", " (quick)" if cfg.get("quick") else "", rates=rts)
    print(f"\nFigure 7: {n} recorded examples; angle per epoch (mean): "
          + ", ".join(f"{v:.1f}" for v in doc["angle_per_epoch_mean_deg"])
          + f" deg; receptive fields median max r {doc['rf_max_corr']['median']:.3f} "
            f"(shuffled {doc['rf_max_corr']['shuffled_median']:.3f})")
    if rts is not None:
        print("rate feedback: angle per epoch (mean): " + ", ".join(f"{v:.1f}" for v in rts["per_epoch"])
              + f" deg; smoothed {rts['first']:.1f} -> minimum {rts['min']:.1f} deg; test error "
              + ", ".join(f"{100 * float(e):.2f}" for e in rates_run["test_error"]) + "%")
    S.print_claims(claims)
    print(f"written: {out / 'fig7.json'}, {out / 'fig7.png'}")
    return 0


def main_seeds(args, argv, seeds: list[int]) -> int:
    """Figure 7 over several seeds: per-seed numbers, claims on the mean over seeds (SEM printed)."""
    if args.feedback_signal == "rates" or args.from_run_rates:
        raise ParameterError("--feedback-signal rates: one seed only (give --seed, not several --seeds)")
    t0 = time.perf_counter()
    pairs = fig5.run_or_load_seeds(args, "fig7_run.npz", seeds)
    n = min(len(run["angle"]) for run, _ in pairs)
    window = args.smooth or max(1, min(1000, n // 20))
    data = load_mnist()
    summaries, rfs, rf_shs, bps, per_seed = [], [], [], [], {}
    for s, (run, c) in zip(seeds, pairs):
        a = angle_summary(run, window)
        bp = train_backprop(data.train_images, data.train_labels, run["order"], run["W0"].shape[0], seed=s + 1000,
                            lr=args.bp_lr)
        rf = max_correlations(run["W0"], bp["W0"])
        rf_sh = max_correlations(run["W0"], bp["W0"], shuffle_seed=s)
        summaries.append(a)
        rfs.append(rf)
        rf_shs.append(rf_sh)
        bps.append(bp)
        per_seed[str(s)] = {"run_file": c["run_file"], "test_error_percent": [100 * float(e) for e in run["test_error"]],
                            "angle_first_window_deg": a["first"], "angle_smoothed_min_deg": a["min"],
                            "angle_second_half_mean_deg": a["late"], "angle_per_epoch_mean_deg": a["per_epoch"],
                            "rf_max_corr": {"median": float(np.median(rf)), "mean": float(rf.mean()),
                                            "shuffled_median": float(np.median(rf_sh)),
                                            "shuffled_p99": float(np.percentile(rf_sh, 99))},
                            "run_wall_s": float(run.get("wall_s", 0.0))}
    ang = combine_angles(summaries)
    fld = combine_fields(rfs, rf_shs)
    epochs = min(int(run["epoch"].max()) for run, _ in pairs)
    claims = check_claims(ang["smoothed"], ang["late"], rfs[0], rf_shs[0], epochs,
                          seeds={**ang, **fld, "seeds": seeds})
    cfg = {k: v for k, v in pairs[0][1].items() if k not in ("seed", "run_file")}
    cfg.update(seeds=seeds, smooth=window, bp_lr=args.bp_lr)
    sm, x = ang["smoothed"], ang["x"]
    step = max(1, len(sm) // 2000)
    out = Path(args.out)
    doc = {"figure": "7", "title": "relation to backprop", "config": cfg, "seeds": seeds,
           "paper": {"angle_min_deg": PAPER_ANGLE_MIN, "angle_late_deg": PAPER_ANGLE_LATE},
           "epochs_reached": epochs, "examples": n, "networks": [cfg.get("network")],
           "paper_scale": fig5.paper_scale(cfg),
           "angle_smoothed": {"example": x[::step].tolist(), "deg": sm[::step].tolist(),
                              "sem": ang["smoothed_sem"][::step].tolist()},
           "angle_first_window_deg": ang["first"], "angle_first_window_sem": ang["first_sem"],
           "angle_smoothed_min_deg": ang["min"], "angle_smoothed_min_sem": ang["min_sem"],
           "angle_second_half_mean_deg": ang["late"], "angle_second_half_sem": ang["late_sem"],
           "angle_per_epoch_mean_deg": ang["per_epoch"], "angle_per_epoch_sem": ang["per_epoch_sem"],
           "rf_max_corr": {"median": fld["rf_median"], "median_sem": fld["rf_median_sem"],
                           "shuffled_median": fld["rf_shuffled_median"], "shuffled_p99": fld["rf_shuffled_p99"]},
           "per_seed": per_seed, "claims": claims,
           "provenance": S.provenance(argv, "python -m brian_segdend paper fig7"), "wall_s": time.perf_counter() - t0}
    S.write_json(out / "fig7.json", doc)
    plot(x, sm, pairs[0][0]["W0"], bps[0]["W0"], rfs[0], rf_shs[0], out / "fig7.png",
         f" (seeds {','.join(map(str, seeds))})" + (" (quick)" if cfg.get("quick") else ""), band=ang["smoothed_sem"])
    print(f"\nFigure 7: seeds {', '.join(map(str, seeds))}, {n} recorded examples each; angle per epoch "
          "(mean ± SEM over seeds): " + ", ".join(fig5._pm(m, e, ".1f") for m, e in zip(ang["per_epoch"],
                                                                                     ang["per_epoch_sem"]))
          + f" deg; smoothed minimum {fig5._pm(ang['min'], ang['min_sem'], '.1f')} deg; receptive fields median "
            f"max r {fig5._pm(fld['rf_median'], fld['rf_median_sem'])} (shuffled {fld['rf_shuffled_median']:.3f})")
    S.print_claims(claims)
    print(f"written: {out / 'fig7.json'}, {out / 'fig7.png'}")
    return 0
