"""The comparison's figure (matplotlib imported inside :func:`make_figure` only: start-up cost)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...training.safeio import savefig_atomic
from .analysis import SIGN_LABEL
from .protocol import CONDITION_NAMES

__all__ = ["make_figure"]


def make_figure(results: dict, path: Path) -> Path:
    """Grouped bars: conditions x models, each model normalised so its largest |mean| is 1."""
    import matplotlib  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    models = list(results["models"])
    colors = {"segdend": "#1b7837", "stdp": "#2166ac", "clopath": "#b2182b", "urbanczik_senn": "#e08214", "payeur": "#762a83"}
    fig, ax = plt.subplots(figsize=(10, 5.6), constrained_layout=True)
    width = 0.8 / len(models)
    x = np.arange(len(CONDITION_NAMES))
    for k, m in enumerate(models):
        r = results["models"][m]
        c = r["conditions"]
        mean = np.array([c[n]["dw_mean"] for n in CONDITION_NAMES])
        sem = np.nan_to_num(np.array([c[n]["dw_sem"] for n in CONDITION_NAMES]))
        scale = np.max(np.abs(mean)) or 1.0
        pos = x - 0.4 + width * (k + 0.5)
        ax.bar(pos, mean / scale, width * 0.9, yerr=sem / scale, capsize=3, color=colors.get(m),
               label=f"{r['label']}   (1 = {scale:.2g} {r['weight_unit']})", error_kw={"elinewidth": 1})
        for p_, n in zip(pos, CONDITION_NAMES):
            ax.text(p_, 1.25, SIGN_LABEL[c[n]["sign"]], ha="center", va="center", fontsize=7.5, rotation=90,
                    color=colors.get(m, "k"), fontweight="bold")
    ax.axhline(0, color="k", lw=0.8)
    for xi in x[:-1] + 0.5:
        ax.axvline(xi, color="0.85", lw=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels([n.replace("_", " ") for n in CONDITION_NAMES], fontsize=11)
    ax.set_xlim(-0.5, len(CONDITION_NAMES) - 0.5)
    ax.set_ylim(-1.2, 1.42)
    ax.set_ylabel("basal weight change after one trial\n(per model: largest |mean| = 1)")
    ax.set_title("Figure 10 protocol: predicted basal plasticity (mean ± SEM over "
                 f"{results['protocol']['neurons_per_condition']} neurons; sign above: |mean| > 2 SEM)", fontsize=10)
    ax.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, frameon=False)
    savefig_atomic(fig, path, dpi=130)
    plt.close(fig)
    return path
