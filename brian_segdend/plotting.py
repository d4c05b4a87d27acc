"""Plot helpers for the experiments. Each takes ``ax=`` (a Matplotlib Axes), draws on it and returns it.

No figure-level state and no import-time side effects: the caller picks the backend,
creates the figure and saves it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CONDITION_LABELS", "CONDITION_COLORS", "plot_protocol_timeline", "plot_condition_traces",
           "plot_condition_changes", "plot_timing_curve", "plot_onset_offset_map", "plot_rate_sweep",
           "plot_learning_curve", "plot_error_bands", "receptive_field_mosaic", "plot_receptive_fields",
           "plot_phases", "plot_compartments", "plot_output_voltages", "plot_raster"]

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


def receptive_field_mosaic(W, max_panels: int | None = 100, shape=(28, 28), gap: int = 1):
    """The rows of a first-layer weight matrix as images, tiled into one array.

    Parameters
    ----------
    W : array, shape (n_units, n_pixels)
        ``W0`` of a trained network (rows: the units of the first layer above the input).
    max_panels : int, optional
        At most this many rows (the first ones); ``None``: all.
    shape : (int, int)
        Image shape of a row (MNIST: 28 x 28).
    gap : int
        Blank pixels (NaN) between panels.

    Returns
    -------
    mosaic : ndarray
        The panels, each scaled by its largest absolute weight (values in [-1, 1]), NaN between them.
    n_panels : int
    grid : (int, int)
        Rows and columns of panels.
    """
    W = np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape[1] != shape[0] * shape[1]:
        raise ValueError(f"receptive fields: expected a matrix with {shape[0] * shape[1]} columns "
                         f"({shape[0]} x {shape[1]} images), got shape {W.shape}")
    n = W.shape[0] if max_panels is None else min(W.shape[0], int(max_panels))
    cols = max(1, int(np.ceil(np.sqrt(n))))
    rows = max(1, int(np.ceil(n / cols)))
    h, w = shape
    mosaic = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        field = W[k].reshape(shape)
        scale = np.abs(field).max()
        mosaic[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = field / scale if scale > 0 else field
    return mosaic, n, (rows, cols)


def plot_receptive_fields(ax, W, max_panels: int | None = 100, shape=(28, 28), title: str | None = None):
    """Draw :func:`receptive_field_mosaic` of ``W`` on ``ax``; returns ``ax``.

    Red: positive weights, blue: negative; each panel scaled to its own largest weight.
    """
    mosaic, n, _ = receptive_field_mosaic(W, max_panels, shape)
    ax.imshow(np.ma.masked_invalid(mosaic), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or f"receptive fields: {n} of {np.shape(W)[0]} rows of W0", fontsize=9)
    return ax


# ----------------------------------------------------------------------------- mechanism (trace command)
def plot_phases(ax, phases: dict, label=False):
    """Shade the averaging windows and mark the phase boundaries.

    ``phases``: name -> (start, end) in ms (``forward``, ``forward_window``, optionally
    ``target``, ``target_window``, as ``simulate`` gives them).
    """
    for name in ("forward_window", "target_window"):
        if name in phases:
            a, b = phases[name]
            ax.axvspan(a, b, color=_WINDOW_COLOR, zorder=0, lw=0)
            if label:
                ax.text((a + b) / 2, 0.98, name.replace("_", " "), transform=ax.get_xaxis_transform(), ha="center",
                        va="top", fontsize=7, color="0.35")
    if "target" in phases:
        ax.axvline(phases["target"][0], color="0.5", lw=0.8, ls="--", zorder=1)
    return ax


def plot_compartments(ax, t_ms, V, V_b, V_a, phases: dict, alpha_f=None, alpha_t=None, title=None):
    """Plot one hidden neuron's potentials and plateaus.

    Somatic ``V``, basal ``V_b`` and apical ``V_a`` over the phases, the averaging windows shaded,
    and the plateaus alpha^f / alpha^t (right axis, 0-1) drawn over their windows.
    """
    plot_phases(ax, phases, label=title is not None and "neuron 0" in str(title))
    ax.plot(t_ms, V_b, color="tab:blue", lw=0.9, label="basal $V^b$")
    ax.plot(t_ms, V_a, color="tab:red", lw=0.9, label="apical $V^a$")
    ax.plot(t_ms, V, color="k", lw=1.1, label="soma $V$")
    ax.set_ylabel("potential")
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    right = ax.twinx()
    right.set_ylim(-0.03, 1.1)
    right.set_ylabel("plateau", color="tab:purple", fontsize=8)
    right.tick_params(axis="y", colors="tab:purple", labelsize=7)
    for name, value, sym in (("forward_window", alpha_f, "f"), ("target_window", alpha_t, "t")):
        if value is not None and name in phases:
            a, b = phases[name]
            right.plot([a, b], [value, value], color="tab:purple", lw=2.5, solid_capstyle="butt")
            right.text(b, value, f" $\\alpha^{sym}$={value:.3f}", color="tab:purple", fontsize=7, va="center")
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncol=3)
    return ax


def plot_output_voltages(ax, t_ms, V, phases: dict, label=None, predicted=None):
    """The output somas' potentials; the target unit (teaching signal's label) bold and named."""
    plot_phases(ax, phases)
    for i, v in enumerate(np.atleast_2d(V)):
        if i == label:
            continue
        ax.plot(t_ms, v, color="0.6", lw=0.7)
    if label is not None:
        ax.plot(t_ms, np.atleast_2d(V)[label], color="tab:green", lw=1.6, label=f"target unit {label}")
    text = [] if label is None else [f"target {label}"]
    if predicted is not None:
        text.append(f"answer {predicted} (largest mean $V$ in the forward window)")
    ax.set_title("output somas: " + ", ".join(text), fontsize=9, loc="left")
    ax.set_ylabel("potential $V$")
    if label is not None:
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    return ax


def plot_raster(ax, t_ms, i, n, phases: dict, title=None, highlight=None):
    """Spike raster of a layer of ``n`` neurons; ``highlight``: neurons drawn in colour."""
    plot_phases(ax, phases)
    t_ms, i = np.asarray(t_ms), np.asarray(i)
    marked = np.isin(i, [] if highlight is None else list(highlight))
    ax.plot(t_ms[~marked], i[~marked], "|", color="k", ms=3 if n > 50 else 6, mew=0.7)
    if marked.any():
        ax.plot(t_ms[marked], i[marked], "|", color="tab:orange", ms=6, mew=1.2)
    ax.set_ylim(-0.5, n - 0.5)
    ax.set_ylabel("neuron")
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return ax
