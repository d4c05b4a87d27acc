"""Plot helpers for the experiments. Each takes ``ax=`` (a Matplotlib Axes), draws on it and returns it.

No figure-level state and no import-time side effects: the caller picks the backend,
creates the figure and saves it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CONDITION_LABELS", "CONDITION_COLORS", "plot_protocol_timeline", "plot_condition_traces",
           "plot_condition_changes", "plot_timing_curve", "plot_onset_offset_map", "plot_rate_sweep",
           "plot_learning_curve", "plot_error_bands"]

CONDITION_LABELS = {
    "early_apical": "early apical",
    "late_apical": "late apical",
    "no_apical": "no apical",
    "sustained_apical": "sustained apical",
}
CONDITION_COLORS = {
    "early_apical": "tab:blue",
    "late_apical": "tab:red",
    "no_apical": "0.45",
    "sustained_apical": "tab:purple",
}
_WINDOW_COLOR = "0.92"


def _shade_windows(ax, forward_window, target_window, label=True):
    for (a, b), name in ((forward_window, "forward window"), (target_window, "target window")):
        ax.axvspan(a, b, color=_WINDOW_COLOR, zorder=0, lw=0)
        if label:
            ax.text((a + b) / 2, 0.01, name, transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=8, color="0.35")


def plot_protocol_timeline(ax, conditions, phase_ms, forward_window, target_window, labels=None):
    """Timeline of the stimulation protocol: basal bar, one apical bar per condition, phases, windows.

    Parameters
    ----------
    conditions : dict
        name -> (start, stop) of the apical input in phase lengths, or None.
    phase_ms : float
        Phase length; the trial is two phases.
    forward_window, target_window : (float, float)
        Averaging windows (ms) in which the plateaus are computed.
    """
    labels = labels or {}
    T = 2 * phase_ms
    names = list(conditions)
    rows = ["basal afferents (all)"] + [f"apical: {labels.get(n, n)}" for n in names]
    _shade_windows(ax, forward_window, target_window)
    ax.broken_barh([(0, T)], (len(names) - 0.35, 0.7), color="tab:green", alpha=0.8)
    for r, name in enumerate(names):
        y = len(names) - 1 - r
        span = conditions[name]
        if span is not None:
            ax.broken_barh([(span[0] * phase_ms, (span[1] - span[0]) * phase_ms)], (y - 0.35, 0.7),
                           color=CONDITION_COLORS.get(name, "k"), alpha=0.85)
        else:
            ax.text(T / 2, y, "off", ha="center", va="center", fontsize=8, color="0.4")
    ax.axvline(phase_ms, color="k", lw=1, ls="--")
    ax.text(phase_ms / 2, -0.75, "forward phase: plateau alpha^f", ha="center", va="center", fontsize=9)
    ax.text(1.5 * phase_ms, -0.75, "target phase: plateau alpha^t", ha="center", va="center", fontsize=9)
    ax.set_yticks(range(len(names), -1, -1))
    ax.set_yticklabels(rows)
    ax.set_ylim(-1.6, len(names) + 0.5)
    ax.set_xlim(0, T)
    ax.set_xlabel("time from basal onset (ms)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax


def plot_condition_traces(ax, t, V_a, n_per, names, labels=None, forward_window=None, target_window=None,
                          conditions=None):
    """Mean apical voltage per condition (rows of ``V_a`` grouped by ``n_per`` in ``names`` order).

    With ``conditions`` (summary statistics with ``alpha_f_mean``, ``alpha_t_mean``) the
    window means logit(alpha) are drawn as horizontal segments over the windows.
    """
    labels = labels or {}
    if forward_window is not None:
        _shade_windows(ax, forward_window, target_window, label=False)
    for k, name in enumerate(names):
        m = np.asarray(V_a[k * n_per:(k + 1) * n_per]).mean(axis=0)
        c = CONDITION_COLORS.get(name, None)
        ax.plot(t, m, color=c, lw=1.5, label=labels.get(name, name))
        if conditions is not None and forward_window is not None:
            s = conditions[name]
            for (a, b), alpha in ((forward_window, s["alpha_f_mean"]), (target_window, s["alpha_t_mean"])):
                v = np.log(alpha / (1 - alpha))
                ax.plot([a, b], [v, v], color=c, lw=4, alpha=0.45, solid_capstyle="butt")
    ax.set_ylabel("apical voltage V_a")
    ax.set_xlabel("time from basal onset (ms)")
    if conditions is not None and forward_window is not None:
        ax.plot([], [], color="0.5", lw=4, alpha=0.45, label="window mean\n(= logit of the plateau)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    return ax


def plot_condition_changes(ax, conditions, labels=None, key="dw_percent"):
    """Bars of the mean weight change per condition with SEM error bars, silent synapses as markers."""
    labels = labels or {}
    names = list(conditions)
    means = [conditions[n][f"{key}_mean"] for n in names]
    sems = [conditions[n][f"{key}_sem"] for n in names]
    x = np.arange(len(names))
    ax.bar(x, means, yerr=sems, capsize=5, color=[CONDITION_COLORS.get(n, "k") for n in names], alpha=0.85,
           label="stimulated (active) afferents")
    if all("dw_silent_mean" in conditions[n] for n in names):
        # the silent synapses' change in percent of their own weight is 0 when their dw is 0
        ax.plot(x + 0.3, [0.0 if conditions[n]["dw_silent_max_abs"] == 0 else np.nan for n in names], "kx",
                ms=7, label="silent afferents (max |dw| = 0)")
    ax.axhline(0, color="k", lw=0.8)
    for xi, m, s in zip(x, means, sems):
        ax.text(xi, m + (s if m >= 0 else -s) + 0.04 * (1 if m >= 0 else -1) * max(abs(np.array(means))),
                f"{m:+.2f}%", ha="center", va="bottom" if m >= 0 else "top", fontsize=9)
    ax.set_xticks(x)
    ax.set_xticklabels([labels.get(n, n) for n in names])
    ax.set_ylabel("basal weight change (% of initial)")
    lim = max(abs(np.array(means)) + np.nan_to_num(np.array(sems))) * 1.35
    if lim > 0:
        ax.set_ylim(-lim, lim)
    ax.text(0.01, 0.97, "LTP", transform=ax.transAxes, va="top", fontsize=9, color="tab:red")
    ax.text(0.01, 0.03, "LTD", transform=ax.transAxes, va="bottom", fontsize=9, color="tab:blue")
    ax.legend(fontsize=8, loc="upper right", frameon=False)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    return ax


def plot_timing_curve(ax, sweeps, x="onset_ms", key="dw_percent", phase_ms=None, forward_window=None,
                      target_window=None):
    """Weight change against apical onset (or offset) time, mean ± SEM band, one line per sweep.

    ``sweeps`` maps a label to a list of rows with ``x``, ``{key}_mean`` and ``{key}_sem``.
    """
    if forward_window is not None:
        _shade_windows(ax, forward_window, target_window)
    for label, rows in sweeps.items():
        xs = np.array([r[x] for r in rows], float)
        m = np.array([r[f"{key}_mean"] for r in rows], float)
        s = np.array([r[f"{key}_sem"] for r in rows], float)
        line, = ax.plot(xs, m, marker="o", ms=3, label=label)
        ax.fill_between(xs, m - s, m + s, color=line.get_color(), alpha=0.25, lw=0)
    ax.axhline(0, color="k", lw=0.8)
    if phase_ms is not None:
        ax.axvline(phase_ms, color="k", lw=1, ls="--")
        ax.set_xlim(0, 2 * phase_ms)
    ax.set_ylabel("basal weight change (% of initial)")
    ax.legend(fontsize=8, frameon=False)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    return ax


def plot_onset_offset_map(ax, grid, key="dw_percent_mean", phase_ms=None, cmap="RdBu_r"):
    """Heat map of the weight change over apical onset (y) and offset (x); grey where offset <= onset."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    ons = np.asarray(grid["onset_ms"], float)
    offs = np.asarray(grid["offset_ms"], float)
    Z = np.array([[np.nan if v is None else v for v in row] for row in grid[key]], float)
    lim = np.nanmax(np.abs(Z)) if np.isfinite(Z).any() else 1.0
    step_on = ons[1] - ons[0] if len(ons) > 1 else 1.0
    step_off = offs[1] - offs[0] if len(offs) > 1 else 1.0
    extent = [offs[0] - step_off / 2, offs[-1] + step_off / 2, ons[0] - step_on / 2, ons[-1] + step_on / 2]
    ax.set_facecolor("0.85")
    im = ax.imshow(np.ma.masked_invalid(Z), origin="lower", extent=extent, aspect="auto", cmap=cmap,
                   vmin=-lim, vmax=lim, interpolation="nearest")
    cb = plt.colorbar(im, ax=ax)
    cb.set_label("basal weight change (% of initial)" if key.startswith("dw_percent") else key)
    if phase_ms is not None:
        ax.axvline(phase_ms, color="k", lw=0.8, ls="--")
        ax.axhline(phase_ms, color="k", lw=0.8, ls="--")
    ax.set_xlabel("apical offset (ms after basal onset)")
    ax.set_ylabel("apical onset (ms after basal onset)")
    ax.text(0.03, 0.95, "grey: offset <= onset\n(no apical input)", transform=ax.transAxes, ha="left", va="top",
            fontsize=8, color="0.25")
    return ax


def plot_rate_sweep(ax, rows, labels=None, key="dw_percent", conditions=("early_apical", "late_apical")):
    """Weight change against basal afferent rate for the given conditions (mean ± SEM)."""
    labels = labels or {}
    for name in conditions:
        r = np.array([row["basal_rate_hz"] for row in rows], float)
        m = np.array([row[name][f"{key}_mean"] for row in rows], float)
        s = np.array([row[name][f"{key}_sem"] for row in rows], float)
        ax.errorbar(r, m, yerr=s, marker="o", capsize=3, color=CONDITION_COLORS.get(name), label=labels.get(name, name))
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks([row["basal_rate_hz"] for row in rows])
    ax.set_xticklabels([f"{row['basal_rate_hz']:g}" for row in rows])
    ax.set_xlabel("basal afferent rate (Hz)")
    ax.set_ylabel("basal weight change (% of initial)")
    ax.legend(fontsize=8, frameon=False)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    return ax


def plot_learning_curve(ax, results: dict):
    """A training run's learning curve against training examples shown.

    The test error before training (at 0 examples) and after each epoch, the training error of
    each compiled chunk (the network's answer in the forward phase of each training example, as
    it learns), and, for runs with ``monitor_size``, the test error on the held-out monitor set
    after every chunk; a one-epoch run is a curve, not a dot.
    """
    epochs = results.get("epochs", [])
    chunks = results.get("chunks", [])
    if chunks:
        ax.plot([c["examples"] for c in chunks], [100 * c["train_error"] for c in chunks], "-", color="0.65",
                lw=1, label="training error per chunk")
        mon = [(c["examples"], 100 * c["monitor_error"]) for c in chunks if "monitor_error" in c]
        if mon:
            ax.plot(*zip(*mon), ".-", color="C1", lw=1, ms=3, label="test error, monitor images")
    x = [e["examples"] for e in epochs]
    y = [100 * e["test_error"] for e in epochs]
    if results.get("initial_test_error") is not None:
        x, y = [0] + x, [100 * results["initial_test_error"]] + y
    ax.plot(x, y, "o-", color="C0", label="test error (before training, after each epoch)")
    ax.set_xlim(left=0)
    ax.set_xlabel("training examples shown")
    ax.set_ylabel("error (%)")
    ax.set_title(f"{results.get('network', '')}: final test error "
                 f"{100 * results.get('final_test_error', float('nan')):.1f}%", fontsize=10)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_error_bands(ax, series: dict, marks: dict | None = None):
    """Test error (percent) against epoch, one line per series with a mean ± SEM band.

    Parameters
    ----------
    series : dict
        label -> {"mean": [per epoch, fraction], "sem": [per epoch or None], "initial": fraction or None}.
        The error before training (``initial``) is drawn at epoch 0.
    marks : dict, optional
        label -> (epoch, percent): reference values (e.g. a paper's) drawn as open stars in the
        colour of the series with the same label.
    """
    colors = {}
    for label, s in series.items():
        m = [100 * x for x in s["mean"]]
        sem = [0.0 if v is None else 100 * v for v in (s.get("sem") or [None] * len(m))]
        x = list(range(1, len(m) + 1))
        if s.get("initial") is not None:
            x, m, sem = [0] + x, [100 * s["initial"]] + m, [0.0] + sem
        line, = ax.plot(x, m, marker="o", ms=3, label=label)
        colors[label] = line.get_color()
        m, sem = np.asarray(m), np.asarray(sem)
        if np.any(sem > 0):
            ax.fill_between(x, m - sem, m + sem, color=line.get_color(), alpha=0.25, lw=0)
    for label, (ep, val) in (marks or {}).items():
        ax.plot([ep], [val], marker="*", ms=12, mfc="none", mew=1.5, color=colors.get(label, "k"),
                ls="none", label=f"paper: {val:g}% at epoch {ep}")
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test error (%)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    return ax
