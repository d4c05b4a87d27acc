"""Layer builders shared by the training network and Figure 10.

A :class:`Builder` makes the Brian2 groups of one model from the equation files and the
contract (:mod:`brian_segdend.model.contract`): each group is the files of its
:data:`~brian_segdend.model.contract.GROUPS` entry plus the equations the model adds, with the
shared run-time parameters its code reads declared ``(shared, constant)``. The layer
functions add the compiled learning code of :mod:`brian_segdend.model.learning`:

* :func:`input_layer` -- Poisson units with their filtered trains and forward averages;
* :func:`hidden_layer` -- dendrites (order 0) and somas (order 1), plateaus, errors, biases;
* :func:`output_layer` -- the output dendrites and somas with the teaching conductances;
* :func:`projection` -- synapses with spike delivery and (optionally) the weight update,
  as :mod:`brian_segdend.standalone.dense` loops where possible.

Order within a step of a phase end (docs/MODEL.md's update order): ``groups`` (dendrites, then
somas), ``after_groups`` (window accumulators), ``thresholds`` (spikes, ``end_f``/``end_t``),
``after_resets`` order 0 (window means, plateaus, errors), ``after_resets`` order 2 (weight
and bias updates).
"""

from __future__ import annotations

import re

import brian2 as b2
from brian2.utils.stringtools import get_identifiers

from ..standalone import dense as D
from . import learning as L
from .contract import (
    END_EVENTS,
    EXTRAS,
    GROUPS,
    SHARED_PARAMS,
    STIMULI,
    SYNAPSE_MODELS,
    hidden_soma_kind,
    shared_declarations,
)
from .equations import EquationFileError
from .params import KERNEL_CUTOFF

__all__ = ["build_group", "Builder", "input_layer", "hidden_layer", "output_layer", "projection", "rate_projection",
           "kernel_cutoffs", "cutoff_statements", "TEST_RESET_EVENT"]

#: the custom event of a test reset (schedule array ``reset``, run argument ``test_reset``)
TEST_RESET_EVENT = "sch_reset(t)*test_reset > 0.5"


def build_group(files: dict, name: str, n: int, file_names, extra_eqs: str, events: dict, method: str,
                namespace: dict, threshold=None, reset=None, order=0):
    """A NeuronGroup from equation files plus model-supplied lines.

    The shared run-time parameters the code uses (:data:`brian_segdend.model.contract.SHARED_PARAMS`)
    are declared as ``(shared, constant)`` variables, so they are set per run through
    ``run_args``.

    Returns
    -------
    group : NeuronGroup
    names : list of str
        The shared run-time parameters of the group (the model's and the files' user parameters).
    """
    texts = [files[f].eq_text for f in file_names]
    ids = get_identifiers("\n".join(texts) + "\n" + extra_eqs + " "
                          + " ".join(v for f in file_names for v in files[f].directives.values())
                          + " " + " ".join(events.values()))
    rt = [k for k in SHARED_PARAMS if k in ids]
    eqs = b2.Equations("\n".join(texts)) + b2.Equations(extra_eqs + "\n" + shared_declarations(rt))
    # user parameters: declared (shared, constant) by the files themselves, set per run like the others
    rt += [k for f in file_names for k in files[f].user_params]
    kwargs = dict(method=method, name=name, namespace=namespace, order=order,
                  events=dict(events))   # NeuronGroup modifies the dict it is given
    if threshold:
        kwargs["threshold"] = threshold
        if reset:
            kwargs["reset"] = reset
    try:
        g = b2.NeuronGroup(n, eqs, **kwargs)
    except Exception as e:
        paths = ", ".join(str(files[f].path) for f in file_names)
        raise EquationFileError(f"{paths}: Brian2 rejected the combined equations of group '{name}': {e}") from e
    return g, rt


def cutoff_statements(cfile, key: str) -> str:
    """The truncated kernel's statements of ``cfile``'s directive ``key`` as code of a delayed pathway.

    Targets as ``_post`` names, each term applied only to spikes emitted after the postsynaptic
    group's last test reset (``t_reset``; the spike was emitted at ``t - kernel_cutoff``).
    """
    if key not in cfile.directives:
        raise EquationFileError(f"{cfile.path}:1: kernel = 'truncated' needs the directive "
                                f"'#: {key} = ...' in this file")
    gate = "int(t - kernel_cutoff > t_reset_post - 0.5*dt)"
    out = []
    for stmt in re.split(r"[;\n]", cfile.directives[key]):
        stmt = stmt.strip()
        if not stmt:
            continue
        target, op, expr = re.match(r"^([A-Za-z_]\w*)\s*([+\-*/]?=)\s*(.+)$", stmt).groups()
        if not target.endswith("_post"):
            target += "_post"
        out.append(f"{target} {op} ({expr})*{gate}")
    return "\n".join(out)


class Builder:
    """Makes the groups and synapses of one model; collects its Brian2 objects.

    Parameters
    ----------
    files : dict
        Name -> :class:`~brian_segdend.model.equations.CompartmentFile` (from ``load_all``).
    namespace : dict
        Namespace of the generated code (schedule arrays, functions, constants).
    dense : bool
        Spike delivery and weight updates as :mod:`brian_segdend.standalone.dense` loops where possible.
    truncated : bool
        The truncated kernel: delayed cutoff pathways, ``t_reset`` in every group.
    test_reset : bool
        Groups get the ``test_reset`` event and its handler (:meth:`add_test_reset`).
    phase_events : dict, optional
        Extra custom events (name -> condition) added to every group that has the phase-end
        events (``end_f`` and ``end_t``: the input layer and the hidden and output somas), e.g. the
        learning-record event of ``SegDendNetwork(learning_records=True)``. Default: none.
    """

    def __init__(self, files: dict, namespace: dict, dense: bool = False, truncated: bool = False,
                 test_reset: bool = False, phase_events: dict | None = None):
        self.files = files
        self.phase_events = dict(phase_events or {})
        self.namespace = namespace
        self.dense = dense
        self.truncated = truncated
        self.test_reset = test_reset
        self.objects = []       # every Brian2 object made, in order
        self.shared = []        # (group, name) of every (shared, constant) run-time parameter
        self.sizes = {}         # object name -> number of neurons or synapses
        self.dense_paths = {}   # pathway name -> "dense" or "generic"

    def group(self, kind: str, name: str, n: int, events: dict, stimulus: str | None = None,
              extras=(), order: int = 0) -> b2.NeuronGroup:
        """A group of kind ``kind`` (a key of :data:`~brian_segdend.model.contract.GROUPS`).

        ``stimulus`` (a key of :data:`~brian_segdend.model.contract.STIMULI`) defines ``pixel``;
        ``extras`` are keys of :data:`~brian_segdend.model.contract.EXTRAS`. A group whose first
        file has a threshold spikes; with the kernel file, its spikes reset the kernel.
        """
        spec = GROUPS[kind]
        first = self.files[spec.files[0]]
        threshold = first.directives.get("threshold")
        reset = self.files["kernel"].directives["on_spike"] if threshold and "kernel" in spec.files else None
        adds = ([STIMULI[stimulus]] if stimulus else []) + [spec.adds] + [EXTRAS[e] for e in extras]
        if threshold and self.dense:
            adds.append(EXTRAS["dense"])
        if self.truncated:
            adds.append(EXTRAS["truncated"])
        if self.test_reset:
            events = dict(events, test_reset=TEST_RESET_EVENT)
        if self.phase_events and "end_f" in events and "end_t" in events:
            events = dict(events, **self.phase_events)
        g, rt = build_group(self.files, name, n, spec.files, "\n".join(adds), events, first.directives["method"],
                            self.namespace, threshold=threshold, reset=reset, order=order)
        self.shared += [(g, r) for r in rt]
        self.objects.append(g)
        self.sizes[name] = n
        if self.test_reset:
            self.add_test_reset(g)
        return g

    def add_test_reset(self, g):
        """Clear ``g``'s state at the first step of each test example when ``test_reset`` is on.

        At the first step of each test example (schedule array ``reset``) with ``test_reset``
        on, set every state variable with a differential equation of ``g`` to 0 before the step's
        update (``start`` slot; the event is detected there too), as the original code clears
        its layers before each test image. With the truncated kernel, ``t_reset`` records the time,
        so that the delayed cutoffs of spikes from before the reset are skipped.
        """
        names = [n for n, eq in g.equations.items() if eq.type == "differential equation"]
        code = [f"{n} = {n}*0" for n in names]
        if self.truncated:
            code.append("t_reset = t")
        if not code:
            return
        g.thresholder["test_reset"].when = "start"
        g.thresholder["test_reset"].order = -1
        g.run_on_event("test_reset", "\n".join(code), when="start", order=0)


def input_layer(b: Builder, name: str, n: int, stimulus: str, stop: bool = False) -> b2.NeuronGroup:
    """Poisson units (``input_poisson.eqs`` + ``kernel.eqs``) with their forward-window averages.

    ``stop``: the group also ends the compiled run at the chunk's idle tail (schedule array
    ``stop``, :func:`brian_segdend.standalone.compiled.stop_function` as ``stop_simulation``).
    """
    g = b.group("input", name, n, END_EVENTS, stimulus=stimulus, extras=("stop",) if stop else ())
    g.run_regularly(L.INPUT_ACCUMULATE, when="after_groups", name=f"{name}_accumulate")
    g.run_on_event("end_f", L.INPUT_END_F, when="after_resets", order=0)
    if stop:
        g.run_regularly("stop_flag = stop_simulation(sch_stop(t))", when="end", name="chunk_stop")
    return g


def hidden_layer(b: Builder, name: str, n: int, rate_feedback: bool = False, plateau_code: str = "rate"):
    """One layer of hidden neurons.

    The dendrite group (basal + apical files, order 0; ``rate_feedback``: the apical file of the
    rate-feedback variant, ``hidden_apical_rates.eqs``) and the soma group (soma + kernel files,
    order 1), linked both ways, with the plateau and learning code of
    :mod:`brian_segdend.model.learning`. With ``plateau_code='burst'`` the somas also get
    ``hidden_burst.eqs`` (which ``b.files`` must hold) and the burst-coded plateau code.
    Returns (dendrites, somas).
    """
    d = b.group("hidden_dend_rates" if rate_feedback else "hidden_dend", f"{name}_dend", n, {"end_t": END_EVENTS["end_t"]}, order=0)
    s = b.group(hidden_soma_kind(plateau_code), f"{name}_soma", n, END_EVENTS, order=1)
    s.V_b = b2.linked_var(d, "V_b")
    s.V_a = b2.linked_var(d, "V_a")
    d.E = b2.linked_var(s, "E")
    d.sbar = b2.linked_var(s, "sbar")
    s.run_regularly(L.HIDDEN_ACCUMULATE, when="after_groups", name=f"{name}_accumulate")
    if plateau_code == "burst":
        on_plateau = b.files["hidden_burst"].directives["on_plateau"]
        s.run_on_event("end_f", L.hidden_end_f_burst(on_plateau), when="after_resets", order=0)
        s.run_on_event("end_t", L.hidden_end_t_burst(on_plateau), when="after_resets", order=0)
    else:
        s.run_on_event("end_f", L.HIDDEN_END_F, when="after_resets", order=0)
        s.run_on_event("end_t", L.HIDDEN_END_T, when="after_resets", order=0)
    d.run_on_event("end_t", L.BIAS_UPDATE, when="after_resets", order=2)
    return d, s


def output_layer(b: Builder, n: int):
    """The output layer: dendrites (order 0) and somas with the teaching conductances (order 1). Returns (dendrites, somas)."""
    d = b.group("output_dend", "output_dend", n, {"end_t": END_EVENTS["end_t"]}, order=0)
    s = b.group("output_soma", "output_soma", n, END_EVENTS, order=1)
    s.V_b = b2.linked_var(d, "V_b")
    d.E = b2.linked_var(s, "E")
    s.run_regularly(L.OUTPUT_ACCUMULATE, when="after_groups", name="output_accumulate")
    s.run_on_event("end_f", L.OUTPUT_END_F, when="after_resets", order=0)
    s.run_on_event("end_t", L.OUTPUT_END_T, when="after_resets", order=0)
    d.run_on_event("end_t", L.BIAS_UPDATE, when="after_resets", order=2)
    return d, s


def projection(b: Builder, name: str, src, tgt, model: str, on_pre: str, learn: str | None = None,
               cutoff: str | None = None, i=None, j=None) -> b2.Synapses:
    """Synapses ``name`` from ``src`` to ``tgt`` (all-to-all, or ``connect(i=i, j=j)``).

    Spike delivery ``on_pre`` and, if ``learn`` is given, that weight update on the source's
    ``end_t`` event (after the errors, ``after_resets`` order 2). ``model`` is a key of
    :data:`~brian_segdend.model.contract.SYNAPSE_MODELS`. With ``b.dense``, each of the two that has
    the form :mod:`brian_segdend.standalone.dense` handles runs as one contiguous loop per presynaptic
    neuron; the other keeps Brian2's generic pathway (``b.dense_paths`` records which).
    ``cutoff`` (truncated kernel): statements of a second pathway, delayed by
    :data:`~brian_segdend.model.params.KERNEL_CUTOFF`, always Brian2's generic one.
    """
    model = SYNAPSE_MODELS[model]
    ns = b.namespace
    plan_pre = D.delivery_plan(on_pre, tgt) if b.dense else None
    plan_learn = D.learning_plan(learn, model, src, tgt, ns) if (b.dense and learn is not None) else None
    pathways, events = {}, {}
    if plan_pre is None:
        pathways["pre"], events["pre"] = on_pre, "spike"
    if learn is not None and plan_learn is None:
        pathways["learn"], events["learn"] = learn, "end_t"
    delay = None
    if cutoff is not None:
        pathways["cutoff"], events["cutoff"] = cutoff, "spike"
        delay = {"cutoff": KERNEL_CUTOFF}
        b.dense_paths[f"{name}.cutoff"] = "generic"
    S = b2.Synapses(src, tgt, model=model, on_pre=pathways or None, on_event=events or "spike",
                    delay=delay, name=name, namespace=ns)
    if "learn" in pathways:
        S.learn.when = "after_resets"
        S.learn.order = 2
    if plan_pre is not None:
        ns[f"dense_pre_{name}"] = D.make_delivery_function(f"dense_pre_{name}", S, src, tgt, plan_pre)
        src.run_regularly(f"dense_ret = dense_pre_{name}(t)", when="synapses", name=f"{name}_dense_pre")
    if plan_learn is not None:
        ns[f"dense_learn_{name}"] = D.make_learning_function(f"dense_learn_{name}", S, src, tgt, plan_learn,
                                                             ns, "end_t")
        src.run_regularly(f"dense_ret = dense_learn_{name}(t)", when="after_resets", order=2,
                          name=f"{name}_dense_learn")
    b.dense_paths[f"{name}.pre"] = "generic" if "pre" in pathways else "dense"
    if learn is not None:
        b.dense_paths[f"{name}.learn"] = "generic" if "learn" in pathways else "dense"
    if i is None:
        S.connect()
        b.sizes[name] = len(src) * len(tgt)
    else:
        S.connect(i=i, j=j)
        b.sizes[name] = len(i)
    b.objects.append(S)
    return S


def rate_projection(b: Builder, name: str, src, tgt) -> b2.Synapses:
    """All-to-all feedback synapses ``name`` carrying ``src``'s rates ``phi`` (rate feedback).

    Model :data:`~brian_segdend.model.contract.SYNAPSE_MODELS` ``"Y_rates"``: the summed variable
    ``fb_rate`` of ``tgt`` = sum over synapses of ``w * phi_pre``, updated by Brian2 in the
    ``groups`` slot just before ``tgt`` (order ``tgt.order - 1``). No spike pathway.
    """
    S = b2.Synapses(src, tgt, model=SYNAPSE_MODELS["Y_rates"], name=name, namespace=b.namespace)
    S.connect()
    b.sizes[name] = len(src) * len(tgt)
    b.objects.append(S)
    return S


def kernel_cutoffs(b: Builder, groups) -> list:
    """Truncated kernel.

    Each spiking group's own filtered train (``kernel.eqs``) ends after
    :data:`~brian_segdend.model.params.KERNEL_CUTOFF` too (a delayed one-to-one pathway).
    """
    own = cutoff_statements(b.files["kernel"], "on_spike_cutoff")
    out = []
    for g in groups:
        S = b2.Synapses(g, g, on_pre=own, delay=KERNEL_CUTOFF, name=f"{g.name}_cutoff", namespace=b.namespace)
        S.connect(j="i")
        b.dense_paths[f"{g.name}_cutoff.pre"] = "generic"
        b.objects.append(S)
        out.append(S)
    return out
