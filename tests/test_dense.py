"""Which Brian2 statements the dense all-to-all kernels take over (brian_segdend.standalone.dense).

A statement of another form must keep Brian2's generic pathway (so an edited ``on_pre`` is
never silently mistranslated); the compiled equality of both paths is tested in
tests/test_network.py::test_dense_kernels_equal_brian2_generic_pathways.
"""

import brian2 as b2
import pytest

from brian_segdend.model.learning import FEEDBACK_UPDATE, RULE_UNIT, WEIGHT_UPDATE
from brian_segdend.standalone.dense import delivery_plan, learning_plan


@pytest.fixture(scope="module")
def groups():
    b2.start_scope()
    post = b2.NeuronGroup(3, """dx_b/dt = -x_b/tau_s : 1
                                dy/dt = -y/tau_s : 1
                                V_b = x_b + b : 1
                                b : 1
                                E : Hz
                                sbar : Hz
                                tau_s : second (shared, constant)
                                scale : 1 (shared)
                                k : 1""")
    pre = b2.NeuronGroup(2, "sbar : Hz\nE : Hz\nv : 1")
    b2.BrianLogger.suppress_name("unused_brian_object")   # the groups are never simulated
    return pre, post


@pytest.mark.parametrize("on_pre, expected", [
    ("x_b_post += w/tau_s", ("x_b", "1/tau_s")),
    ("x_b_post += 2*w", ("x_b", "2")),
    ("y_post += w/(2*tau_s)  # comment", ("y", None)),
])
def test_additive_on_pre_is_dense(groups, on_pre, expected):
    pre, post = groups
    plan = delivery_plan(on_pre, post)
    assert plan is not None and plan[0] == expected[0]
    if expected[1] is not None:
        assert plan[1].replace(" ", "") == expected[1]


@pytest.mark.parametrize("on_pre", [
    "x_b_post += w*w/tau_s",                  # not linear in w
    "x_b_post += w/tau_s*x_b_post",           # depends on postsynaptic state
    "x_b_post += w*k_post",                   # per-neuron factor
    "x_b_post += w*scale",                    # shared but not constant
    "x_b_post += w/tau_s\ny_post += w/tau_s",  # two statements
    "x_b_post = w/tau_s",                     # not an increment
    "x_b_post -= w/tau_s",                    # (kept generic: only += is translated)
    "x_b_post += 1/tau_s",                    # no weight
    "V_b_post += w",                          # a subexpression, not a variable
    "x_b_post += w/tau_s + v_pre",            # presynaptic term
    "x_b_post += (",                          # unparsable: Brian2 reports it later
])
def test_other_on_pre_keeps_generic_pathway(groups, on_pre):
    pre, post = groups
    assert delivery_plan(on_pre, post) is None


MODEL = "w : second\neta_w : 1 (shared, constant)\nP_w : second (shared, constant)\nfree : 1"


def test_learning_rules_of_the_model_are_dense(groups):
    pre, post = groups
    ns = {"RULE_UNIT": RULE_UNIT}
    row, col = learning_plan(WEIGHT_UPDATE, MODEL, pre, post, ns)
    assert set(row.replace(" ", "").split("*")) == {"P_w", "RULE_UNIT", "eta_w", "sbar_pre"}
    assert col == "E_post"
    row, col = learning_plan(FEEDBACK_UPDATE, MODEL, pre, post, ns)
    assert "E_pre" in row and col == "sbar_post"


@pytest.mark.parametrize("code", [
    "w -= eta_w*(E_post + sbar_pre)",          # not a product
    "w -= eta_w*E_post*sbar_pre*free",         # per-synapse factor
    "w -= eta_w*sbar_pre",                     # no postsynaptic factor
    "w += eta_w*E_post*sbar_pre*RULE_UNIT",    # sign convention: only -= is translated
    "w -= eta_w*E_post*sbar_pre*unknown",      # unknown name
])
def test_other_learning_statements_keep_generic_pathway(groups, code):
    pre, post = groups
    assert learning_plan(code, MODEL, pre, post, {"RULE_UNIT": RULE_UNIT}) is None
