"""Dense kernels for all-to-all projections in the compiled network.

Brian2's generic synapse machinery handles any connectivity: a spike is pushed into a
queue, and a loop then visits each of the source's synapses through an index array.
For the all-to-all projections of this model that generality costs most of the training
time (input -> hidden: ~1,900 spikes x 500 synapses and, once per example, 392,000 weight
updates). This module generates, from the same Brian2 statements, small C++ functions that
do the same arithmetic as one contiguous loop over a presynaptic neuron's row of weights,
called once per time step (``run_regularly``) and looping over the neurons in the source
group's spike (or event) list of that step:

* **delivery**: an ``on_pre`` statement of the form ``<var>_post += w * c`` (``c`` built from
  numbers and ``(shared, constant)`` variables of the postsynaptic group, e.g.
  ``x_b_post += w/tau_s``) becomes ``x[j] += c * w[i, j]`` for all j and each presynaptic
  neuron i that spiked in this step (in the ``synapses`` slot, like Brian2's pathway);
* **learning**: a statement ``w -= r * q`` where ``r`` uses only presynaptic variables
  (``_pre``), shared variables of the Synapses object and constants, and ``q`` only
  postsynaptic ones (``_post``) -- :data:`brian_segdend.model.learning.WEIGHT_UPDATE` -- becomes
  ``w[i, j] -= r_i * q_j`` for all j and each presynaptic neuron i with the learning event
  in this step.

Both are used only when the statement has exactly that form; anything else (an edited
``on_pre`` with a nonlinear or postsynaptic-state-dependent term, say) silently keeps
Brian2's generic pathway, which computes the same thing more slowly. The generic pathway
is also used on the runtime device. ``tests/test_network.py`` checks that both give the
same trajectories.

The functions address Brian2's own arrays by the names the standalone device gives them
(``device.get_array_name``) and rely on the synapse order that ``connect()`` creates for
all-to-all connectivity (by presynaptic, then postsynaptic index, which
:meth:`SegDendNetwork._matrix` checks after every run).
"""

from __future__ import annotations

import re

import brian2 as b2
import numpy as np
import sympy
from brian2.codegen.generators.cpp_generator import c_data_type
from brian2.core.variables import ArrayVariable
from brian2.parsing.rendering import CPPNodeRenderer
from brian2.parsing.statements import parse_statement
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str

__all__ = ["delivery_plan", "learning_plan", "make_delivery_function", "make_learning_function"]

_IDENT = re.compile(r"\b[A-Za-z_]\w*\b")


def _is_shared_constant(group, name) -> bool:
    var = group.variables.get(name)
    return isinstance(var, ArrayVariable) and var.scalar and var.constant and not var.dynamic


def _is_neuron_array(group, name) -> bool:
    """A per-neuron variable stored in an array (not a subexpression or a shared value)."""
    var = group.variables.get(name)
    return isinstance(var, ArrayVariable) and not var.scalar


def _single_statement(code: str):
    lines = [ln.split("#", 1)[0].strip() for ln in code.replace(";", "\n").splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines) != 1:
        return None
    try:
        return parse_statement(lines[0])
    except Exception:
        return None


def delivery_plan(on_pre: str, post_group):
    """(target variable, factor expression) if ``on_pre`` is ``<var>_post += w * factor``; else None.

    The factor may contain numbers and ``(shared, constant)`` variables of ``post_group``.
    """
    st = _single_statement(on_pre)
    if st is None:
        return None
    var, op, expr, _ = st
    if op != "+=" or not var.endswith("_post"):
        return None
    target = var[:-len("_post")]
    if not _is_neuron_array(post_group, target) or post_group.variables[target].read_only:
        return None
    try:
        e = str_to_sympy(expr)
    except Exception:
        return None
    w = sympy.Symbol("w", real=True)
    syms = {s.name: s for s in e.free_symbols}
    if "w" not in syms:
        return None
    e = e.subs(syms["w"], w)
    factor = sympy.simplify(e / w)
    if w in factor.free_symbols:
        return None
    for s in factor.free_symbols:
        name = s.name[:-len("_post")] if s.name.endswith("_post") else s.name
        if not _is_shared_constant(post_group, name):
            return None
    return target, sympy_to_str(factor)


def learning_plan(code: str, synapse_model: str, pre_group, post_group, namespace: dict):
    """(row factor, column factor) if ``code`` is ``w -= r * q`` as described in the module doc; else None.

    ``synapse_model`` is the Synapses model string (its ``(shared, constant)`` parameters may
    appear in ``r``).
    """
    eqs = b2.Equations(synapse_model)
    shared = {name for name, eq in eqs.items() if {"shared", "constant"} <= set(eq.flags)}
    st = _single_statement(code)
    if st is None:
        return None
    var, op, expr, _ = st
    if var != "w" or op != "-=":
        return None
    try:
        e = str_to_sympy(expr)
    except Exception:
        return None
    row, col = [], []
    for f in sympy.Mul.make_args(e):
        names = {s.name for s in f.free_symbols}
        post = {n for n in names if n.endswith("_post")}
        if post and post != names:
            return None
        for n in names - post:
            if n.endswith("_pre"):
                if not _is_neuron_array(pre_group, n[:-4]):
                    return None
            elif not (n in shared or _constant_value(n, namespace) is not None):
                return None
        if not all(_is_neuron_array(post_group, n[:-5]) for n in post):
            return None
        (col if post else row).append(f)
    if not col:
        return None
    return sympy_to_str(sympy.Mul(*row)), sympy_to_str(sympy.Mul(*col))


def _constant_value(name, namespace):
    v = namespace.get(name)
    if v is None:
        return None
    try:
        return float(np.asarray(v))   # a Quantity gives its SI value, as in the generated code
    except (TypeError, ValueError):
        return None


def _render(expr: str, subst: dict) -> str:
    """C++ for a Brian2 expression, identifiers replaced by ``subst`` (name -> C++ text)."""
    cpp = CPPNodeRenderer().render_expr(expr)
    return _IDENT.sub(lambda m: subst.get(m.group(0), m.group(0)), cpp)


def _array(var) -> str:
    return "brian::" + b2.get_device().get_array_name(var, access_data=True)


def _weights(synapses) -> tuple[str, str]:
    var = synapses.variables["w"]
    name = b2.get_device().get_array_name(var, access_data=False)
    return f"(&brian::{name}[0])", c_data_type(var.dtype)


def _function(name: str, code: str):
    f = b2.Function(_no_python(name), arg_units=[b2.second], return_unit=1, arg_types=["float"],
                    return_type="float", stateless=False)
    f.implementations.add_implementation("cpp", code, name=name)
    return f


def _no_python(name):
    def f(t):
        raise NotImplementedError(f"{name} exists only in compiled (cpp_standalone) code")
    f.__name__ = name
    return f


def _event_loop(group, event: str, body: str) -> str:
    """C++ running ``body`` for each neuron ``_i`` of ``group`` with ``event`` in this step."""
    space = _array(group.variables[f"_{event}space"])
    n = len(group)
    return f"""const int32_t* _space = {space};
    const int32_t _count = _space[{n}];
    for (int32_t _k = 0; _k < _count; _k++) {{
        const int32_t _i = _space[_k];
{body}
    }}"""


def make_delivery_function(fname: str, synapses, pre_group, post_group, plan):
    """A Brian2 Function ``fname(t)``.

    For each presynaptic spike of this step, add the spiking neuron's row of weights (times the
    factor) to the target variable.
    """
    target, factor = plan
    tvar = post_group.variables[target]
    n_post = len(post_group)
    subst = {}
    for s in _IDENT.findall(factor):
        name = s[:-len("_post")] if s.endswith("_post") else s
        if name in post_group.variables:
            subst[s] = _array(post_group.variables[name]) + "[0]"
    c = _render(factor, subst)
    wptr, wtype = _weights(synapses)
    ttype = c_data_type(tvar.dtype)
    body = f"""        const {wtype}* __restrict _w = _w0 + (size_t)_i * {n_post};
        for (size_t _j = 0; _j < {n_post}; _j++)
            _x[_j] += _c * _w[_j];"""
    code = f"""
double {fname}(const double _t) {{
    // dense form of {synapses.name}'s on_pre: {target}_post += w * ({factor})
    const {ttype} _c = {c};
    const {wtype}* const _w0 = {wptr};
    {ttype}* __restrict _x = {_array(tvar)};
    {_event_loop(pre_group, "spike", body)}
    return 0.0;
}}
"""
    return _function(fname, code)


def make_learning_function(fname: str, synapses, pre_group, post_group, plan, namespace: dict, event: str):
    """A Brian2 Function ``fname(t)``: for each presynaptic neuron with ``event`` in this step, apply the update to its row of weights."""
    row, col = plan
    n_post = len(post_group)
    # row = (shared and constant factors) * (presynaptic factors); the kernel computes
    # shared * (pre_i * post_j), so W and a symmetric Y (pre and post exchanged) round alike
    row_shared, row_pre = [], []
    for f in sympy.Mul.make_args(str_to_sympy(row)):
        (row_pre if any(s.name.endswith("_pre") for s in f.free_symbols) else row_shared).append(f)
    row_shared, row_pre = sympy_to_str(sympy.Mul(*row_shared)), sympy_to_str(sympy.Mul(*row_pre))
    subst = {}
    for s in set(_IDENT.findall(row)) | set(_IDENT.findall(col)):
        if s.endswith("_pre"):
            subst[s] = _array(pre_group.variables[s[:-4]]) + "[_i]"
        elif s.endswith("_post"):
            subst[s] = _array(post_group.variables[s[:-5]]) + "[_j]"
        elif s in synapses.variables:
            subst[s] = _array(synapses.variables[s]) + "[0]"
        elif _constant_value(s, namespace) is not None:
            subst[s] = repr(_constant_value(s, namespace))
    c, r, q = _render(row_shared, subst), _render(row_pre, subst), _render(col, subst)
    wptr, wtype = _weights(synapses)
    body = f"""        const double _r = {r};
        {wtype}* __restrict _w = _w0 + (size_t)_i * {n_post};
        for (size_t _j = 0; _j < {n_post}; _j++)
            _w[_j] -= _c * (_r * ({q}));"""
    code = f"""
double {fname}(const double _t) {{
    // dense form of {synapses.name}'s learning statement: w -= ({row_shared}) * ({row_pre}) * ({col})
    const double _c = {c};
    {wtype}* const _w0 = {wptr};
    {_event_loop(pre_group, event, body)}
    return 0.0;
}}
"""
    return _function(fname, code)
