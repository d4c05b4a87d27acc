"""The comparison's Markdown: the result table and the models' equations.

:func:`comparison_markdown` (``comparison.md``) and :func:`models_markdown` (each model's
equation file, its LaTeX and its protocol mapping).
"""

from __future__ import annotations

import brian2 as b2

from ...model.equations import default_equation_dir as segdend_equation_dir
from ...model.params import ModelParams
from .analysis import SIGN_LABEL
from .models import MODELS, load_model_file
from .protocol import APICAL_DRIVE, CONDITION_NAMES

__all__ = ["comparison_markdown", "models_markdown"]


def comparison_markdown(results: dict) -> str:
    """The comparison as Markdown: per condition, each model's mean weight change (± SEM) and its sign."""
    models = list(results["models"])
    lines = ["# Plasticity models on the Figure 10 protocol", "",
             f"Basal: {results['protocol']['basal']}; apical: {results['protocol']['apical']}. "
             f"{results['protocol']['neurons_per_condition']} independent neurons per condition "
             f"({results['protocol']['n_neurons']} x {results['protocol']['trials']} trials), seed "
             f"{results['protocol']['seed']}. dw: mean change of a neuron's active basal weights after one "
             "trial (± SEM over neurons), in each model's weight unit. Sign 0: |mean| < 2 SEM or exactly 0.", "",
             "| condition | " + " | ".join(f"{results['models'][m]['label']} [{results['models'][m]['weight_unit']}]"
                                        for m in models) + " |",
             "|---|" + "---|" * len(models)]
    for name in CONDITION_NAMES:
        cells = []
        for m in models:
            c = results["models"][m]["conditions"][name]
            cells.append(f"{c['dw_mean']:+.3g} ± {c['dw_sem']:.2g} ({SIGN_LABEL[c['sign']]})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Normalised (each model's mean divided by its largest |mean| over the conditions):", "",
              "| condition | " + " | ".join(results["models"][m]["label"] for m in models) + " |",
              "|---|" + "---|" * len(models)]
    for name in CONDITION_NAMES:
        cells = []
        for m in models:
            c = results["models"][m]["conditions"]
            scale = max(abs(c[n]["dw_mean"]) for n in CONDITION_NAMES) or 1.0
            cells.append(f"{c[name]['dw_mean'] / scale:+.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for m in models:
        r = results["models"][m]
        if "Pbar_start" not in r:
            continue
        c = r["conditions"]
        lines += ["", f"{r['label']}: events and bursts per neuron and trial, and the burst fraction (bursts / "
                  f"events; the running estimate Pbar starts at {r['Pbar_start']:g}: bursts above it potentiate, "
                  "events depress):", "",
                  "| condition | events | bursts | burst fraction |", "|---|---|---|---|"]
        for name in CONDITION_NAMES:
            bf = c[name].get("burst_fraction")
            lines.append(f"| {name} | {c[name]['events_per_neuron']:.2f} | {c[name]['bursts_per_neuron']:.2f} | "
                         + ("-" if bf is None else f"{bf:.2f}") + " |")
    lines += ["", "## Where the models disagree (discriminating experiments)", ""]
    dis = results["disagreements"]
    if not dis:
        lines.append("All models predict the same sign in every condition.")
    for d in dis:
        label = results["models"]
        if d.get("kind", "sign") == "sign":
            groups = {}
            for m, s in d["signs"].items():
                groups.setdefault(SIGN_LABEL[s], []).append(f"{label[m]['label']} ({d['normalised'][m]:+.2f})"
                                                      if "normalised" in d else label[m]["label"])
            lines.append(f"- **{d['condition']}** (sign): " + "; ".join(f"{k}: {', '.join(v)}" for k, v in groups.items()))
        else:
            lines.append(f"- **{d['condition']}** (magnitude; normalised change): "
                         + ", ".join(f"{label[m]['label']} {v:+.2f}" for m, v in d["normalised"].items()))
    lines += ["", "## Timing contrast (late minus early apical)", "",
              "Only a model whose sign flips between early and late apical input predicts the "
              "timing dependence of Figure 10.", ""]
    for m in models:
        c = results["models"][m]["conditions"]
        e, l_ = c["early_apical"], c["late_apical"]
        flip = e["sign"] != l_["sign"]
        lines.append(f"- {results['models'][m]['label']}: early {SIGN_LABEL[e['sign']]}, late {SIGN_LABEL[l_['sign']]}"
                     + (" — sign depends on apical timing" if flip else " — same sign"))
    lines += ["", "Run times (s): " + ", ".join(f"{m} {t:.1f}" for m, t in results["timing_s"].items()), ""]
    return "\n".join(lines)


def models_markdown(directory=None) -> str:
    """Each model's equations (file text and LaTeX from ``Equations._repr_latex_``) and parameters."""
    lines = ["# Models compared on the Figure 10 protocol", "",
             "Generated from the equation files by `brian_segdend.studies.compare.models_markdown()`.", ""]
    for key, (fname, label, cite) in MODELS.items():
        lines += [f"## {label}", "", f"{cite}", ""]
        if fname is None:
            lines += _segdend_markdown()
            continue
        mf = load_model_file(key, directory)
        lines += [f"File: `equations/plasticity/{fname}`", "", "| parameter | value | meaning |", "|---|---|---|"]
        lines += [f"| `{n}` | `{e}` | {c} |" for n, e, c in mf.param_lines]
        for sec in ("neuron", "synapse"):
            d = mf.sections[sec]
            lines += ["", f"### {sec}", "", "$$", _latex(mf.equations(sec)), "$$", ""]
            for k, v in list(d["directives"].items()) + [(f"event {a}", b) for a, b in d["events"].items()] + \
                    [(f"on_event {a}", b) for a, b in d["on_event"].items()]:
                lines.append(f"- {k}: `{v}`")
        lines += ["", "Protocol mapping (not from the paper): " + _mapping_text(key), "",
                  "<details><summary>equation file</summary>", "", "```", mf.text.rstrip(), "```", "", "</details>", ""]
    return "\n".join(lines)


def _latex(eqs) -> str:
    """``Equations._repr_latex_()``; Brian2 prints dimensionless units as 'rad', shown here as 1."""
    return eqs._repr_latex_().replace(r"\mathrm{rad}", "1")


def _mapping_text(key):
    d = APICAL_DRIVE[key]
    return (f"apical input `{d['on_pre']}` per apical spike with `w_apical = {d['w_apical']}`; "
            f"initial basal weight {d['w0']}; dt = {d['dt']}.")


def _segdend_markdown() -> list:
    p = ModelParams(hidden=(1,), timing="paper").to_mapping()
    units = p.pop("units", {})
    lines = ["Files: `equations/segdend/hidden_basal.eqs`, `hidden_apical.eqs`, `hidden_soma.eqs`, `kernel.eqs`, "
             "`input_poisson.eqs`; learning rule in `brian_segdend/model/learning.py` (docs/MODEL.md Eq. 31-35).", "",
             "| parameter | value | unit |", "|---|---|---|"]
    lines += [f"| `{k}` | `{v}` | {units.get(k, '')} |" for k, v in p.items()]
    for f in ("hidden_basal", "hidden_apical", "hidden_soma", "kernel", "input_poisson"):
        text = (segdend_equation_dir() / f"{f}.eqs").read_text()
        body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        lines += ["", f"### {f}", ""]
        try:
            lines += ["$$", _latex(b2.Equations(body)), "$$"]
        except Exception:
            pass
        lines += ["", "```", text.rstrip(), "```"]
    return lines + [""]
