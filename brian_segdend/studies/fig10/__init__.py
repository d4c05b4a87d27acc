"""Figure 10: the model's prediction of basal LTP/LTD from the timing of apical input.

Guerguiev J, Lillicrap TP, Richards BA (2017). Towards deep learning with segregated
dendrites. eLife 6:e22901. https://doi.org/10.7554/eLife.22901 -- Figure 10 and the
Discussion: "if apical and basal inputs arrive at the same time, but the apical inputs
disappear before the basal inputs do [...] the basal synapses should engage in LTD. [...]
if the apical inputs only arrive after the basal inputs have been active for some period
of time [...] the basal synapses should engage in LTP."

What is simulated
-----------------
A population of independent hidden-layer neurons, each built from the same equation files
as the training network (``hidden_basal.eqs`` + ``hidden_apical.eqs`` for the dendrites,
``hidden_soma.eqs`` + ``kernel.eqs`` for the soma) and run through the same compiled
learning code (:mod:`brian_segdend.model.learning`: window accumulators, plateaus at the phase
ends, ``E0``, weight and bias updates). Every neuron has its own afferents, so neurons are
statistically independent:

* ``n_basal`` Poisson afferents (``input_poisson.eqs`` + ``kernel.eqs``) onto the basal
  dendrite, on throughout the trial at ``basal_rate``; the last ``n_silent`` of them are
  never stimulated (input specificity: their ``sbar`` is 0, so their weights cannot move);
* ``n_apical`` Poisson afferents onto the apical dendrite (stand-in for stimulated
  feedback axons), switched on and off per time step by a protocol.

One trial = a forward phase and a target phase of ``phase`` each (no teaching signal
exists here: the "target" phase is just the second half of the stimulus), with plateaus
alpha^f, alpha^t computed exactly as in training; basal weights change once, at the end of
the trial, by dW = -eta P_0 E0 sbar_pre^f, E0 = -k_b phi_max (alpha^t - alpha^f) sigma'(Vbar^f).

Every protocol (the four conditions, every point of the onset, offset and onset x offset
sweeps and of the basal-rate sweep) is one column of a two-dimensional apical schedule
``TimedArray`` (steps x protocols); every neuron and its afferents carry a protocol index.
So one compiled ``cpp_standalone`` binary runs all protocols at once, and trials (C++ RNG
seeds), g_a, rates, weights and the schedules themselves are ``run_args``: no recompile per
condition, sweep point, trial or conductance.

Deviations from the paper
-------------------------
* The paper's Fig. 10 is a schematic; the numbers here are the model's predictions.
* Phases have a fixed length (``phase``, default 50 ms, no Wald-distributed extra) so that
  onset/offset times mean the same thing in every trial.
* One pairing per trial (one forward + target phase from rest); ``dw`` is the change that
  one pairing predicts. A protocol of many pairings would add up such changes.
* Apical synaptic weights are chosen so that the mean apical voltage with the afferents on
  is ``apical_v``. Basal weights are all excitatory, as for stimulated afferents in a slice:
  the mean of docs/MODEL.md's initial-weight recipe for the active afferents
  (``weight_recipe(n_basal - n_silent)``) times ``1 + weight_jitter * U(-1, 1)`` (the
  recipe's spread gives mixed signs, for which a percent change is meaningless); biases
  ``init_b_avg`` as in the recipe.

Package layout
--------------
protocol    :class:`Fig10Config`, :data:`CONDITIONS`, :class:`Protocol`, :func:`make_protocols`,
            :func:`apical_schedule` (configuration and stimulation protocols).
model       :class:`Fig10Model` (the compiled population).
analysis    :func:`per_neuron`, :func:`summarize` (weight changes and statistics).
experiment  :func:`run_experiment`, :func:`effective_params` (every protocol, g_a and trial).
bursts      :func:`run_bursts`, :func:`burst_statistics` (the conditions and onset sweep with
            burst-coded plateaus, ``plateau_code = 'burst'``, for several burst scales).
figures     :func:`make_figures` (``fig10.png``, ``fig10_sweep.png``), :func:`make_burst_figure`
            (``fig10_bursts.png``).
cli         :func:`parser`, :func:`config_from_args`, :func:`write_outputs`, :func:`main`
            (``python -m brian_segdend fig10``).
"""

from .analysis import SIGNIFICANCE_P, per_neuron, sign_significance, summarize
from .bursts import burst_statistics, run_bursts, trial_seeds
from .cli import config_from_args, main, parser, write_outputs
from .experiment import effective_params, run_experiment
from .figures import make_burst_figure, make_figures
from .model import Fig10Model
from .protocol import CONDITIONS, Fig10Config, Protocol, apical_schedule, make_protocols, map_offsets, map_onsets

__all__ = ["Fig10Config", "Protocol", "CONDITIONS", "make_protocols", "apical_schedule", "Fig10Model",
           "run_experiment", "summarize", "effective_params", "make_figures", "write_outputs", "parser", "config_from_args", "main",
           "per_neuron", "map_onsets", "map_offsets", "run_bursts", "burst_statistics", "trial_seeds",
           "sign_significance", "SIGNIFICANCE_P", "make_burst_figure"]
