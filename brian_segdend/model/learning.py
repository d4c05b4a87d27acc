"""The learning rule of docs/MODEL.md as compiled Brian2 code: one place for windows, plateaus, errors, updates.

Every string here is Brian2 abstract code run by ``run_regularly`` (window accumulators),
``run_on_event`` (phase ends) or a Synapses pathway (weight updates). They are used by
:mod:`brian_segdend.model.network` (training) and :mod:`brian_segdend.studies.fig10` (the LTP/LTD
prediction), so both run exactly the same rule.

Notation (docs/MODEL.md): a bar is a window average; superscript f/t the forward/target window.

Hidden layer (Eq. 5, 31-35), per neuron i:
    alpha^f = sigma(mean V_a over the forward window)     (at the end of the forward phase)
    alpha^t = sigma(mean V_a over the target window)      (at the end of the target phase)
    E0 = -k_b phi_max (alpha^t - alpha^f) sigma'(Vbar^f),  k_b = g_b / (g_l + g_b + g_a)
    W0 <- W0 - eta_0 P_0 E0 sbar_in^f ;  b0 <- b0 - eta_0 P_0 E0
Output layer (Eq. 6, 23-29):
    phi1* = mean phi1 over the target window
    E1 = -k_d phi_max (phi1* - phi_max sigma(Vbar^f)) sigma'(Vbar^f),  k_d = g_d / (g_l + g_d)
    W1 <- W1 - eta_1 P_1 E1 sbar0^f ;  b1 <- b1 - eta_1 P_1 E1

Burst-coded plateaus (``ModelParams.plateau_code = 'burst'``; docs/MODEL.md): at each plateau the
statements of ``hidden_burst.eqs``'s ``#: on_plateau`` directive run with ``plateau`` = alpha^f or
alpha^t and ``phase_sign`` = -1 / +1 (the global phase signal); the file's default draws
N ~ Poisson(burst_scale * plateau) and adds phase_sign * N to the memory M. M is cleared just
before the forward plateau, so at the target plateau M = N^t - N^f, and
    E0 = -k_b phi_max (M / burst_scale) sigma'(Vbar^f)
replaces alpha^t - alpha^f by M / k (same expectation, variance (alpha^t + alpha^f) / k).

Plateau-time variant (Fig. 6 supplement): each neuron's plateau comes ``delta`` steps before
the phase end, ``delta`` drawn per neuron and phase from a folded normal truncated at
``plateau_max``, and the apical average is taken over the ``plateau_window`` steps before it.
"""

from __future__ import annotations

from math import erf, sqrt

import numpy as np
from brian2 import ms

__all__ = ["RULE_UNIT", "N_PLATEAU_STEPS", "plateau_offset_cdf", "INPUT_VARS", "INPUT_ACCUMULATE",
           "INPUT_END_F", "HIDDEN_SOMA_VARS", "HIDDEN_ACCUMULATE", "HIDDEN_END_F", "HIDDEN_END_T",
           "OUTPUT_SOMA_VARS", "OUTPUT_ACCUMULATE", "OUTPUT_END_F", "OUTPUT_END_T", "BIAS_UPDATE",
           "WEIGHT_UPDATE", "FEEDBACK_UPDATE", "BURST_SOMA_VARS", "hidden_end_f_burst", "hidden_end_t_burst",
           "burst_file_statements"]

#: The paper's weight update eta * P * E * s is written for numbers in ms-based units.
#: P * E is dimensionless and s a rate, so the update has unit Hz while W is in ms; this
#: factor (1 in the paper's units) makes the conversion explicit.
RULE_UNIT = ms ** 2

#: plateau offsets are whole steps 0 .. N_PLATEAU_STEPS - 1
N_PLATEAU_STEPS = 16


def plateau_offset_cdf(plateau_sd, plateau_max, dt) -> np.ndarray:
    """Cumulative probabilities of the plateau offset in whole steps (0 .. N_PLATEAU_STEPS-1).

    Offset = |X| rounded to steps, X ~ N(0, plateau_sd^2) truncated at plateau_max.
    All ones (offset always 0) when ``plateau_sd`` is 0.
    """
    step = float(dt / ms)
    sd, m = float(plateau_sd / ms), float(plateau_max / ms)
    if sd <= 0 or m <= 0:
        return np.ones(N_PLATEAU_STEPS)
    F = lambda x: erf(min(x, m) / (sd * sqrt(2))) / erf(m / (sd * sqrt(2)))
    c = np.array([F((k + 0.5) * step) for k in range(N_PLATEAU_STEPS)])
    c = np.minimum(c, 1.0)
    c[-1] = 1.0
    return c


# ---------------------------------------------------------------- input layer (presynaptic averages)
INPUT_VARS = """
sum_s : Hz     # sum of s over the forward window
sbar : Hz      # forward-window mean of s
"""
INPUT_ACCUMULATE = "sum_s += sch_win_f(t)*s"
INPUT_END_F = """
sbar = sum_s/sch_n_f(t)
sum_s = 0*Hz
"""

# ---------------------------------------------------------------- hidden somas
HIDDEN_SOMA_VARS = """
sum_V : 1      # sum of V over the forward window
sum_Va : 1     # sum of V_a over the current plateau window
cnt_a : 1      # steps in that sum
sum_s : Hz     # sum of the own filtered train over the forward window
Vbar_f : 1     # forward-window mean somatic voltage
alpha_f : 1    # forward plateau
alpha_t : 1    # target plateau
sbar : Hz      # forward-window mean filtered train
E : Hz         # error term E0
delta : 1      # plateau offset (steps before the phase end) for the current phase
plateau_variant : 1 (shared, constant)
plateau_window : 1 (shared, constant)
""" + "\n".join(f"pc{j} : 1 (shared, constant)" for j in range(N_PLATEAU_STEPS))

_DRAW_DELTA = ("u = rand()\ndelta = plateau_variant*("
               + " + ".join(f"int(u > pc{j})" for j in range(N_PLATEAU_STEPS - 1)) + ")")

HIDDEN_ACCUMULATE = """
sum_V += sch_win_f(t)*V
sum_s += sch_win_f(t)*s
wa = (1 - plateau_variant)*(sch_win_f(t) + sch_win_t(t)) + plateau_variant*int(sch_to_end(t) >= delta)*int(sch_to_end(t) < delta + plateau_window)
sum_Va += wa*V_a
cnt_a += wa
"""
HIDDEN_END_F = f"""
Vbar_f = sum_V/sch_n_f(t)
sbar = sum_s/sch_n_f(t)
alpha_f = 1/(1 + exp(-sum_Va/cnt_a))
sum_V = 0
sum_s = 0*Hz
sum_Va = 0
cnt_a = 0
{_DRAW_DELTA}
"""
HIDDEN_END_T = f"""
alpha_t = 1/(1 + exp(-sum_Va/cnt_a))
sum_Va = 0
cnt_a = 0
sp = 1/(1 + exp(-Vbar_f))
E = -(g_b/(g_l + g_b + g_a))*phi_max*(alpha_t - alpha_f)*sp*(1 - sp)
{_DRAW_DELTA}
"""

# ---------------------------------------------------------------- burst-coded plateaus
#: added to the hidden somas of the burst variant (GROUPS['hidden_soma_burst']); the update below
#: also reads burst_scale (a shared run argument, declared with the file that uses it)
BURST_SOMA_VARS = """
plateau : 1    # the plateau of the current phase end (alpha_f or alpha_t); the update reads M/burst_scale
phase_sign = 2*sch_teach(t) - 1 : 1   # global phase signal: -1 in the forward phase, +1 in the target phase
"""


def burst_file_statements(directive: str) -> str:
    """The ``#: on_plateau`` directive of ``hidden_burst.eqs`` as lines of Brian2 code."""
    return "\n".join(stmt.strip() for stmt in directive.replace("\n", ";").split(";") if stmt.strip())


def hidden_end_f_burst(on_plateau: str) -> str:
    """:data:`HIDDEN_END_F` plus the forward burst: M cleared, then the file's ``on_plateau`` with alpha^f."""
    return HIDDEN_END_F + "M = 0\nplateau = alpha_f\n" + burst_file_statements(on_plateau) + "\n"


def hidden_end_t_burst(on_plateau: str) -> str:
    """:data:`HIDDEN_END_T` with the target burst, and M / burst_scale in place of alpha^t - alpha^f."""
    return f"""
alpha_t = 1/(1 + exp(-sum_Va/cnt_a))
sum_Va = 0
cnt_a = 0
plateau = alpha_t
{burst_file_statements(on_plateau)}
sp = 1/(1 + exp(-Vbar_f))
E = -(g_b/(g_l + g_b + g_a))*phi_max*(M/burst_scale)*sp*(1 - sp)
{_DRAW_DELTA}
"""


# ---------------------------------------------------------------- output somas
OUTPUT_SOMA_VARS = """
sum_V : 1      # sum of V over the forward window
sum_phi : Hz   # sum of phi over the target window
Vbar_f : 1     # forward-window mean somatic voltage (also the class score)
phi_star : Hz  # target rate phi1*
E : Hz**2      # error term E1
"""
OUTPUT_ACCUMULATE = """
sum_V += sch_win_f(t)*V
sum_phi += sch_win_t(t)*phi
"""
OUTPUT_END_F = """
Vbar_f = sum_V/sch_n_f(t)
sum_V = 0
"""
OUTPUT_END_T = """
phi_star = sum_phi/sch_n_t(t)
sum_phi = 0*Hz
sp = 1/(1 + exp(-Vbar_f))
E = -(g_d/(g_l + g_d))*phi_max*(phi_star - phi_max*sp)*sp*(1 - sp)
"""

# ---------------------------------------------------------------- updates
#: on a dendrite group (E and eta_b, P_b available there)
BIAS_UPDATE = "b -= eta_b*P_b*E"
#: feedforward Synapses: presynaptic forward average, postsynaptic error
WEIGHT_UPDATE = "w -= eta_w*P_w*E_post*sbar_pre*RULE_UNIT"
#: symmetric feedback Y = W^T: the same update with pre and post exchanged
FEEDBACK_UPDATE = "w -= eta_w*P_w*E_pre*sbar_post*RULE_UNIT"
