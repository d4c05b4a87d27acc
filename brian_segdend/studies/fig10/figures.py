"""Figure 10's figures: ``fig10.png`` and ``fig10_sweep.png``.

matplotlib is imported inside :func:`make_figures` only (start-up cost).
"""

from __future__ import annotations

from pathlib import Path

from ...training.safeio import savefig_atomic
from .protocol import CONDITIONS

__all__ = ["make_figures", "make_burst_figure"]


def make_figures(results: dict, extras: dict, out_dir: Path) -> list[Path]:
    """``fig10.png`` (protocol and conditions) and ``fig10_sweep.png`` (timing curves, map, rates)."""
    import matplotlib  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)

    from ... import plotting as P  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)

    cfg = results["config"]
    fw, tw = cfg["forward_window_ms"], cfg["target_window_ms"]
    g_main = cfg["g_a"]
    fig = plt.figure(figsize=(8.5, 9.0), constrained_layout=True)
    gs = fig.add_gridspec(3, 1, height_ratios=[1.2, 1.0, 1.4])
    ax0 = fig.add_subplot(gs[0])
    P.plot_protocol_timeline(ax=ax0, conditions=CONDITIONS, phase_ms=cfg["phase_ms"], forward_window=fw,
                             target_window=tw, labels=P.CONDITION_LABELS)
    ax0.set_title("A  Protocol (bars: afferents on; grey: averaging windows)", loc="left")
    ax1 = fig.add_subplot(gs[1], sharex=ax0)
    tr = extras["traces"].get(g_main)
    if tr is not None:
        P.plot_condition_traces(ax=ax1, t=tr["t"], V_a=tr["trace_V_a"], n_per=cfg["n_neurons"],
                                names=list(CONDITIONS), labels=P.CONDITION_LABELS,
                                forward_window=fw, target_window=tw, conditions=results["conditions"])
    ax1.set_title(f"B  Mean apical voltage and plateaus (g_a = {g_main:g}/ms)", loc="left")
    ax2 = fig.add_subplot(gs[2])
    P.plot_condition_changes(ax=ax2, conditions=results["conditions"], labels=P.CONDITION_LABELS)
    ax2.set_title(f"C  Predicted basal weight change after one pairing\n"
                  f"    (active afferents, mean ± SEM over n = {results['conditions']['early_apical']['n']} "
                  f"neurons x trials)", loc="left")
    paths = [out_dir / "fig10.png", out_dir / "fig10_sweep.png"]
    savefig_atomic(fig, paths[0], dpi=130)
    plt.close(fig)

    fig, axs = plt.subplots(2, 2, figsize=(12, 9), constrained_layout=True)
    P.plot_timing_curve(ax=axs[0, 0], sweeps={f"g_a = {g['g_a_per_ms']:g}/ms": g["onset_sweep"] for g in results["g_a_sweep"]},
                        x="onset_ms", phase_ms=cfg["phase_ms"], forward_window=fw, target_window=tw)
    axs[0, 0].set_xlabel(f"apical onset after basal onset (ms); apical pulse {cfg['pulse_ms']:g} ms")
    axs[0, 0].set_title("A  Timing: apical pulse onset", loc="left")
    P.plot_timing_curve(ax=axs[0, 1], sweeps={f"g_a = {g['g_a_per_ms']:g}/ms": g["offset_sweep"] for g in results["g_a_sweep"]},
                        x="offset_ms", phase_ms=cfg["phase_ms"], forward_window=fw, target_window=tw)
    axs[0, 1].set_xlabel("apical offset (ms); apical on from basal onset (0 ms)")
    axs[0, 1].set_title("B  Timing: apical offset", loc="left")
    P.plot_onset_offset_map(ax=axs[1, 0], grid=results["onset_offset_map"], phase_ms=cfg["phase_ms"])
    axs[1, 0].set_title(f"C  Onset x offset (g_a = {g_main:g}/ms)", loc="left")
    P.plot_rate_sweep(ax=axs[1, 1], rows=results["basal_rate_sweep"], labels=P.CONDITION_LABELS)
    axs[1, 1].set_title(f"D  Basal rate (g_a = {g_main:g}/ms)", loc="left")
    savefig_atomic(fig, paths[1], dpi=110)
    plt.close(fig)
    return paths


def make_burst_figure(results: dict, out_dir: Path) -> Path:
    """``fig10_bursts.png``: conditions and onset sweep, rate-coded against each burst scale."""
    import matplotlib  # noqa: PLC0415 (lazy: start-up cost)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (lazy: start-up cost)
    import numpy as np  # noqa: PLC0415

    from ... import plotting as P  # noqa: PLC0415 (lazy: start-up cost)

    bursts = results["bursts"]
    code = results["config"]["params"].get("plateau_code", "rate")
    series = [(f"{code} (main)", results["conditions"], results["onset_sweep"])]
    series += [(f"burst, k = {row['burst_scale']:g}", row["conditions"], row["onset_sweep"]) for row in bursts["by_scale"]]
    names = list(CONDITIONS)
    fig, axs = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    width = 0.8 / len(series)
    for j, (label, conds, _) in enumerate(series):
        x = np.arange(len(names)) + (j - (len(series) - 1) / 2) * width
        axs[0].bar(x, [conds[n]["dw_percent_mean"] for n in names], width,
                   yerr=[conds[n]["dw_percent_sem"] for n in names], capsize=2, label=label)
        for xx, n in zip(x, names):
            k = conds[n].get("sign_pairings")
            if k is not None:
                axs[0].annotate(str(k), (xx, 0), fontsize=6, ha="center", va="bottom" if conds[n]["dw_mean"] < 0 else "top",
                                rotation=90)
    axs[0].axhline(0, color="k", lw=0.6)
    axs[0].set_xticks(np.arange(len(names)), [P.CONDITION_LABELS.get(n, n) for n in names], fontsize=8)
    axs[0].set_ylabel("weight change after one pairing (%)")
    axs[0].set_title("A  Conditions, mean ± SEM (numbers: pairings until p < 0.01)", loc="left", fontsize=10)
    axs[0].legend(fontsize=7)
    for label, _, onset in series:
        x = [r["onset_ms"] for r in onset]
        y = np.array([r["dw_percent_mean"] for r in onset])
        e = np.array([r["dw_percent_sem"] for r in onset])
        axs[1].plot(x, y, marker="o", ms=3, label=label)
        axs[1].fill_between(x, y - e, y + e, alpha=0.2)
    axs[1].axhline(0, color="k", lw=0.6)
    axs[1].axvline(results["config"]["phase_ms"], color="grey", lw=0.6, ls="--")
    axs[1].set_xlabel("apical pulse onset (ms)")
    axs[1].set_ylabel("weight change (%)")
    axs[1].set_title(f"B  Onset sweep (g_a = {bursts['g_a_per_ms']:g}/ms)", loc="left", fontsize=10)
    axs[1].legend(fontsize=7)
    path = out_dir / "fig10_bursts.png"
    savefig_atomic(fig, path, dpi=110)
    plt.close(fig)
    return path
