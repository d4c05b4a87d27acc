"""The comparison's point models: their equation files and Brian2 objects.

:data:`MODELS` (key -> file, label, citation), :class:`ModelFile` and
:func:`load_model_file` (``equations/plasticity/<model>.eqs`` in the project's dialect,
errors :class:`~brian_segdend.model.equations.EquationFileError` with ``path:line:``), and
the builders of a model's neurons (:func:`neuron_group`) and plastic synapses
(:func:`synapses`) on Brian2's runtime device (:func:`use_runtime_device`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import brian2 as b2

from ...model.equations import EquationFileError, equation_root, read_equation_file

__all__ = ["MODELS", "ModelFile", "default_equation_dir", "load_model_file", "neuron_group", "synapses", "use_runtime_device"]


#: model key -> (equation file, label, citation)
MODELS = {
    "segdend": (None, "Segregated dendrites (this model)",
                "Guerguiev, Lillicrap & Richards (2017) eLife 6:e22901, doi:10.7554/eLife.22901"),
    "stdp": ("stdp_song2000.eqs", "Pair STDP (Song et al. 2000)",
             "Song, Miller & Abbott (2000) Nat. Neurosci. 3:919, doi:10.1038/78829"),
    "clopath": ("clopath2010.eqs", "Voltage STDP (Clopath et al. 2010)",
                "Clopath, Buesing, Vasilaki & Gerstner (2010) Nat. Neurosci. 13:344, doi:10.1038/nn.2479"),
    "urbanczik_senn": ("urbanczik_senn2014.eqs", "Dendritic prediction (Urbanczik & Senn 2014)",
                       "Urbanczik & Senn (2014) Neuron 81:521, doi:10.1016/j.neuron.2013.11.030"),
    "payeur": ("payeur2021.eqs", "Burst-dependent (Payeur et al. 2021)",
               "Payeur, Guerguiev, Zenke, Richards & Naud (2021) Nat. Neurosci. 24:1010, doi:10.1038/s41593-021-00857-x"),
}


@dataclass
class ModelFile:
    """One ``equations/plasticity/<model>.eqs`` file: parameters, sections (neuron, synapse), raw text."""

    path: Path
    text: str
    params: dict                      # name -> Quantity (Brian units)
    param_lines: list                 # (name, expression, comment) in file order
    sections: dict                    # name -> {"eqs": str, "directives": {...}, "events": {}, "on_event": {}}

    def equations(self, section: str) -> b2.Equations:
        """The Brian2 equations of ``section``."""
        return b2.Equations(self.sections[section]["eqs"])

    def directive(self, section: str, key: str, default=None):
        """A directive of ``section`` (``default`` if absent)."""
        return self.sections[section]["directives"].get(key, default)


_ALLOWED = ("method", "threshold", "reset", "refractory", "on_pre", "on_post")


_REQUIRED = {"stdp": {"neuron": {"v", "g_ex"}, "synapse": {"w"}},
             "clopath": {"neuron": {"u", "I_syn", "u_minus", "u_plus"}, "synapse": {"w"}},
             "urbanczik_senn": {"neuron": {"U", "V_w", "g_E", "phi_U", "phi_star"}, "synapse": {"W", "PSP"}},
             "payeur": {"neuron": {"V_s", "V_d", "ge_s", "ge_d", "is_event", "is_burst", "Pbar", "Ebar", "Bbar",
                                   "n_events", "n_bursts"}, "synapse": {"w", "xe"}}}


def default_equation_dir() -> Path:
    """The comparison models' files: ``<equation_root()>/plasticity``."""
    return equation_root() / "plasticity"


def load_model_file(model: str, directory: Path | None = None) -> ModelFile:
    """Read, parse and check ``equations/plasticity/<file>`` of a comparison model.

    Checks: every ``#: param`` evaluates to a number or Brian quantity (units only, no
    other names); the ``[neuron]`` and ``[synapse]`` sections exist, parse as Brian2
    equations and define the names the comparison reads; directives are known.
    Raises :class:`brian_segdend.model.equations.EquationFileError` naming ``path:line``.
    """
    fname = MODELS[model][0]
    path = Path(directory or default_equation_dir()) / fname
    read = read_equation_file(path, _ALLOWED, sections=True, params=True)
    params = {name: v[0] for name, v in read.params.items()}
    plines = [(name, v[2], v[3]) for name, v in read.params.items()]
    sections = {}
    for name, sec in read.sections.items():
        if not name:
            if sec.directives or sec.events or sec.on_event:
                line = min(v[1] for v in (*sec.directives.values(), *sec.events.values(), *sec.on_event.values()))
                raise EquationFileError(f"{path}:{line}: directive outside a section")
            continue
        sections[name] = {"eqs": sec.eq_text, "line": sec.line,
                          "directives": {k: v[0] for k, v in sec.directives.items()},
                          "events": {k: v[0] for k, v in sec.events.items()},
                          "on_event": {k: v[0] for k, v in sec.on_event.items()}}
    for name in ("neuron", "synapse"):
        if name not in sections:
            raise EquationFileError(f"{path}:1: missing section '#: [{name}]'")
        sec = sections[name]
        missing = _REQUIRED[model][name] - set(read.sections[name].lines)
        if missing:
            raise EquationFileError(f"{path}:{sec['line']}: section [{name}] must define {', '.join(sorted(missing))}")
        try:
            b2.Equations(sec["eqs"])
        except Exception as e:
            raise EquationFileError(f"{path}:{sec['line']}: section [{name}] does not parse: {e}") from e
    return ModelFile(path, read.text, params, plines, sections)


def neuron_group(mf: ModelFile, n: int, ns: dict, extra: str = "", name=None, threshold_extra=None):
    """The model's ``[neuron]`` section as a NeuronGroup of ``n`` neurons.

    ``extra`` equations are added, ``threshold_extra`` is or-ed into the threshold; custom
    events act at the start of the step.
    """
    sec = mf.sections["neuron"]
    d = sec["directives"]
    thr = d.get("threshold")
    if threshold_extra:
        thr = f"({thr}) or ({threshold_extra})"
    kw = dict(method=d.get("method", "euler"), namespace=ns, threshold=thr, reset=d.get("reset"))
    if "refractory" in d:
        kw["refractory"] = d["refractory"]
    if sec["events"]:
        kw["events"] = dict(sec["events"])
    if name:
        kw["name"] = name
    g = b2.NeuronGroup(n, b2.Equations(sec["eqs"] + "\n" + extra), **kw)
    for ev, stmts in sec["on_event"].items():
        # custom events end a spike: check and act at the start of the step, before the
        # state update integrates from the held spike potential
        g.run_on_event(ev, stmts, when="before_groups", order=1)
        g.thresholder[ev].when = "before_groups"
        g.thresholder[ev].order = 0
    return g


def synapses(mf: ModelFile, pre, post, ns: dict, name=None):
    """The model's ``[synapse]`` section as Synapses from ``pre`` to ``post``."""
    d = mf.sections["synapse"]["directives"]
    on_pre = d.get("on_pre")
    on_post = d.get("on_post")
    kw = dict(model=mf.sections["synapse"]["eqs"], on_pre=on_pre, namespace=ns,
              method=d.get("method", "euler"))
    if on_post:
        kw["on_post"] = on_post
    if name:
        kw["name"] = name
    return b2.Synapses(pre, post, **kw)


def use_runtime_device(dt):
    """Runtime device, numpy target, fresh clock: the comparison models need no compilation."""
    b2.set_device("runtime")
    b2.device.reinit()
    b2.device.activate()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = dt
    b2.start_scope()
