"""Other plasticity models on the Figure 10 protocol: which experiments tell them apart.

The segregated-dendrite model (Guerguiev, Lillicrap & Richards 2017, eLife 6:e22901,
doi:10.7554/eLife.22901) predicts that the sign of basal plasticity follows the timing of
apical input (Figure 10, :mod:`brian_segdend.studies.fig10`). This module runs the same four
conditions through four published plasticity models and this one, and lists the
conditions where they disagree: the experiments that would discriminate them.

Models (equations and the papers' parameters in ``equations/plasticity/*.eqs``)
-------------------------------------------------------------------
* ``stdp`` -- pair-based STDP, Song, Miller & Abbott (2000) Nat. Neurosci. 3:919
  (``stdp_song2000.eqs``), on the paper's conductance-based integrate-and-fire neuron.
* ``clopath`` -- voltage-based STDP, Clopath et al. (2010) Nat. Neurosci. 13:344
  (``clopath2010.eqs``), on the paper's adaptive exponential integrate-and-fire neuron
  with spike after-depolarisation and adaptive threshold.
* ``urbanczik_senn`` -- dendritic prediction of somatic spiking, Urbanczik & Senn (2014)
  Neuron 81:521 (``urbanczik_senn2014.eqs``): plastic synapses on a dendrite, a spiking soma.
* ``payeur`` -- burst-dependent plasticity, Payeur, Guerguiev, Zenke, Richards & Naud (2021)
  Nat. Neurosci. 24:1010 (``payeur2021.eqs``), the successor of this model: the two-compartment
  pyramidal neuron of Naud & Sprekeler (2018), whose apical plateaus turn somatic spikes into
  bursts, and the rule dw/dt = eta (B - Pbar E) Etilde_pre (B bursts, E events, Pbar the running
  burst fraction, Etilde_pre a presynaptic event trace).
* ``segdend`` -- this model, run by :func:`brian_segdend.studies.fig10.run_experiment` itself
  (the same compiled build as ``python -m brian_segdend fig10``), not re-implemented.

The protocol (:mod:`brian_segdend.studies.fig10`, same numbers for every model)
----------------------------------------------------------------------
One trial: basal afferents on for two phases of ``phase_ms`` (default 50 + 50 ms);
``n_basal`` = 20 Poisson afferents per neuron at ``basal_rate`` (50 Hz), of which the last
``n_silent`` = 5 are never stimulated; ``n_apical`` = 10 apical afferents at ``apical_rate``
(100 Hz) switched on by the condition: ``early_apical`` (first phase), ``late_apical``
(second phase), ``no_apical``, ``sustained_apical`` (both). The schedules are
:func:`brian_segdend.studies.fig10.apical_schedule` of :func:`brian_segdend.studies.fig10.make_protocols`.
The measured quantity is ``dw``: per neuron, the mean weight change of its active basal
synapses after one trial (plus a 100 ms tail without input for the models whose weights
keep changing after the input stops), in the model's own weight unit; ``n_neurons x
trials`` independent neurons per condition.

Mapping of the protocol onto each model
---------------------------------------
=================  ==============================  ====================================  ===============================
model              'basal' (plastic, measured)     'apical'                              plateau
=================  ==============================  ====================================  ===============================
segdend            basal-dendrite synapses W0      apical-dendrite synapses (feedback)   the model's own: alpha^f, alpha^t
stdp               excitatory synapses onto the    non-plastic excitatory conductance    none: the apical drive makes the
                   point neuron (plastic, STDP)    onto the same point neuron            soma fire (~40 Hz) while on
clopath            excitatory current synapses     non-plastic excitatory current onto   none: the apical drive depolarises
                   onto the point neuron           the point neuron                      the soma and makes it fire
urbanczik_senn     dendritic synapses (V_w)        somatic excitatory teacher            none: the teacher conductance
                                                   conductance g_E (the 'nudging'        raises U above the dendritic
                                                   input of the paper)                   prediction, as the plateau does
payeur             excitatory conductance          non-plastic excitatory conductance    the model's own: the dendritic
                   synapses onto the soma          onto the apical dendrite (ge_d)       nonlinearity f(V_d); a plateau
                   (plastic, burst rule)                                                 turns somatic spikes into bursts
=================  ==============================  ====================================  ===============================

A point neuron has no apical dendrite: 'apical' becomes an extra, non-plastic input that
depolarises the soma, which is what back-propagating or plateau-driven depolarisation does
at the basal synapses of a real neuron. In the Urbanczik-Senn neuron, the somatic teacher
input plays the role the apical plateau plays here (the teaching signal). The apical drive
strength of each point model is a protocol choice (``APICAL_DRIVE``), chosen so the neuron
fires at a few tens of Hz while apical input is on and is nearly silent with basal input
alone.

Signature checks (``tests/test_compare.py``)
--------------------------------------------
Before its protocol numbers mean anything, each model reproduces its own paper's
signature: :func:`stdp_window` (Song et al. Fig. 1: LTP for pre-before-post, LTD for
post-before-pre, magnitudes exp(-|dt|/tau)), :func:`clopath_frequency` (Clopath et al.
Fig. 2b, the Sjostrom et al. 2001 protocol: post-before-pre pairs give LTD at low pairing
frequency and LTP at high frequency; pre-before-post potentiation grows with frequency)
:func:`urbanczik_teacher` (Urbanczik & Senn Fig. 1: under a somatic teacher the
dendritic prediction of the rate converges to the somatic rate) and :func:`burst_rule`
(Payeur et al. Fig. 2: a postsynaptic burst after presynaptic input potentiates, an isolated
event depresses by Pbar times as much; dendritic input raises the burst fraction, and the
weights grow where it exceeds the running estimate Pbar and shrink where it falls below;
every weight change equals the NumPy oracle :func:`burst_rule_reference` on the recorded spikes).

Devices and run time
--------------------
The four point models are small and run once per condition set, so they use
Brian2's runtime device with the ``numpy`` target: no compilation, 2-3 s each for the
default 2,000 neurons and 40,000 plastic synapses (2,000 steps of 0.1 ms), less than a
compiled build would take to compile. The segregated-dendrite model runs through
:mod:`brian_segdend.studies.fig10`, compiled with ``cpp_standalone`` under
:func:`brian_segdend.standalone.buildcache.build_root` after
:func:`brian_segdend.standalone.buildcache.configure_compiler_cache`: about 30 s to compile a new
size (with ccache), then under 0.1 s per trial; an existing build folder is reused.

Deviations from the papers
--------------------------
* Clopath et al.: no homeostatic scaling of A_LTD (fixed at its reference value, as for
  a neuron at its reference depolarisation); the protocol's synapses are current-based
  (``tau_syn``, ``J_syn``, not specified for this neuron in the paper). Signature check:
  postsynaptic spikes are forced at the chosen times (the paper used brief current
  pulses); the 0.1 Hz point is one isolated pairing times five (pairings 10 s apart do
  not interact).
* Urbanczik & Senn: the low-pass filter of the weight change (tau_Delta = 100 ms) is left
  out; it delays but conserves the integrated change, which is what is read out. The
  learning rate ``eta`` is chosen for these simulations (the paper's Fig. 1 value is in
  different units); the comparison normalises each model anyway.
* Song et al.: a single neuron with the protocol's afferents instead of 1000 inputs; the
  apical drive replaces the background input that made the neuron fire.
* Payeur et al.: one neuron per synapse group instead of their recurrent network; no
  short-term plasticity, no homeostatic term (the authors' simulator adds one that keeps the
  event rate within bounds); the moving averages start at a history (Ebar = E0, Pbar = P0 =
  0.2, protocol choices) because one 200 ms trial is far shorter than tau_avg = 4 s; Pbar is
  the ratio of the averages, as in the paper (the authors' simulator multiplies the rule by
  Ebar, which only rescales the learning rate per neuron). Burst window 16 ms, tau_pre = 20 ms.
* segdend: as in :mod:`brian_segdend.studies.fig10` (dt = 1 ms, fixed phases, one pairing).

Package layout
--------------
models      :data:`MODELS`, :func:`load_model_file` and the Brian2 builders of the point models.
protocol    :class:`ProtocolConfig`, :func:`run_protocol`, :func:`run_segdend` (the four conditions).
signatures  :func:`stdp_window`, :func:`clopath_frequency`, :func:`urbanczik_teacher`, :func:`burst_rule`,
            :func:`burst_rule_reference`.
analysis    :func:`compare_models`, :func:`sign_of`, :func:`normalised_changes`, :func:`disagreements`.
report      :func:`comparison_markdown`, :func:`models_markdown`.
figures     :func:`make_figure`.
cli         :func:`parser`, :func:`write_outputs`, :func:`main` (``python -m brian_segdend compare``).
"""

from brian2 import ms  # noqa: F401  (``compare.ms`` as before the split: the tests read it)

from .analysis import MAGNITUDE_GAP, SIGN_LABEL, compare_models, disagreements, normalised_changes, sign_of
from .cli import main, parser, write_outputs
from .figures import make_figure
from .models import MODELS, ModelFile, default_equation_dir, load_model_file, neuron_group, synapses, use_runtime_device
from .protocol import APICAL_DRIVE, CONDITION_NAMES, TAIL_MS, ProtocolConfig, condition_schedule, run_protocol, run_segdend
from .report import comparison_markdown, models_markdown
from .signatures import BURST_PAIRINGS, burst_rule, burst_rule_reference, clopath_frequency, stdp_window, urbanczik_teacher

__all__ = ["MODELS", "ModelFile", "load_model_file", "ProtocolConfig", "run_protocol", "run_segdend",
           "stdp_window", "clopath_frequency", "urbanczik_teacher", "burst_rule", "burst_rule_reference",
           "BURST_PAIRINGS", "sign_of", "compare_models",
           "write_outputs", "models_markdown", "comparison_markdown", "parser", "main",
           "CONDITION_NAMES", "APICAL_DRIVE", "TAIL_MS", "MAGNITUDE_GAP", "SIGN_LABEL", "condition_schedule",
           "normalised_changes", "disagreements", "make_figure", "default_equation_dir", "neuron_group", "synapses",
           "use_runtime_device"]
