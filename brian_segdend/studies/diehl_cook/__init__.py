"""Diehl & Cook (2015): unsupervised STDP network for MNIST, compiled with cpp_standalone.

Diehl P.U. & Cook M. (2015) Unsupervised learning of digit recognition using
spike-timing-dependent plasticity. *Front. Comput. Neurosci.* 9:99.
doi:10.3389/fncom.2015.00099

Used here as a baseline for the segregated-dendrite model (issue 9).

Network
-------
784 Poisson input neurons -> ``n_exc`` excitatory neurons (all-to-all, plastic, random
delays up to 10 ms) -> ``n_exc`` inhibitory neurons (one-to-one) -> back to every
excitatory neuron except the one that drives it (lateral inhibition). Excitatory neurons
have an adaptive threshold ``theta``. The equations are the editable files
``equations/diehl_cook/{excitatory,inhibitory,input,stdp}.eqs``.

Protocol (paper)
----------------
Each image is shown for 350 ms at a rate ``pixel * 63.75 Hz`` (pixel in 0..1), followed by
150 ms without input. If the excitatory layer fires fewer than 5 spikes while the image
is shown, the maximum rate is raised by 32 Hz and the image is shown again (after the
rest); this rule applies to training and testing alike. Before each new training image
the incoming weights of every excitatory neuron are scaled to sum to 78 (published
code). After training, learning and ``theta`` are frozen, each neuron
is assigned the class for which its mean response over one more pass of the training
set is highest, and a test image is classified as the class whose assigned neurons have
the highest mean response.

Compiled schedule
-----------------
No Python runs per example. A one-neuron group ``dc_schedule`` is a state machine
updated at the start of every step (``run_regularly``): it counts steps in the current
presentation, counts excitatory spikes (a Synapses pathway from the excitatory layer),
decides at the end of the presentation whether it is accepted, and at the end of the
rest either moves to the next image or repeats it with a higher rate. The other groups
read its state through linked variables; custom events (``fresh``, ``accept``) on the
excitatory group trigger the weight normalisation (Synapses pathways plus
``run_on_event``) and the recording of the response. When the last image's rest is
over, a small C++ function sets Brian2's ``Network::_globally_stopped`` so the binary
stops at once instead of idling to the end of the compiled duration. Images, their
number, presentation and rest lengths, rates, the learning switch, the seed, the
weights, delays and thresholds are all ``run_args`` of one compiled binary (one build
folder per configuration hash under :func:`brian_segdend.standalone.buildcache.build_root`), so
training, label assignment and testing of any size reuse it. A run shows at most
``capacity`` images; longer passes are split into several runs that carry the weights
and thresholds over.

Deviations from the paper
-------------------------
* STDP rule: the paper's Methods present several trace-based rules; we use the one in
  the authors' published simulation code (and Brian2's ``Diehl_Cook_2015`` example):
  depression ``nu_pre * x_post1`` at each presynaptic spike, potentiation
  ``nu_post * x_pre * x_post2`` at each postsynaptic spike, with hard bounds [0, 1].
* Refractoriness: the paper's 5 ms (excitatory) and 2 ms (inhibitory) periods. The
  published code additionally blocks excitatory spikes with a slowly growing timer (an
  effective ~50 ms refractoriness); not reproduced.
* The membrane state (``v``, conductances, traces) is re-initialised at the start of
  every run of the binary (every ``capacity`` images); the 150 ms rest makes this a
  small change. Weights and ``theta`` are carried over exactly.
* Weight normalisation happens before each new image, not before repeats of the same
  image (as in the published code).
* If a run reaches its compiled length before its last image is accepted (only with
  an extreme number of repeats), the unfinished image is shown again in the next run.
* Parameters the paper leaves to its published code are taken from there: dt = 0.5 ms,
  input delays U(0, 10 ms), weights exc->inh 10.4 and inh->exc 17, initial input weights
  U(0.003, 0.303), initial v 40 mV below rest, normalisation sum 78. The published code
  starts theta at 20 mV and subtracts a 20 mV offset in the threshold; here theta starts
  at 0 with no offset (the same threshold).
* Input delays are drawn once per network in NumPy (from ``seed``) and passed to the
  binary as the synaptic variable ``d_syn``, copied into the pathway delays at start-up:
  Brian2 cannot take pathway delays as ``run_args``.
* Sizes: the paper trains 100-6400 neurons on 60,000 images for 1-3 epochs; here the
  defaults are small (100 neurons, a few hundred to thousand images), so the error is
  much higher than the paper's 5-17%.

Package layout
--------------
params      :class:`DiehlCookParams` (paper values from the files' ``#: param`` lines), :data:`N_INPUT`,
            :data:`N_CLASSES`.
files       :class:`EquationFile`, :func:`load_equation_file` (``equations/diehl_cook/``).
analysis    :func:`assign_labels`, :func:`classify`.
network     :class:`DiehlCookNetwork`, :class:`PassResult` (the compiled network).
experiment  :func:`train_and_test`.
"""

from .analysis import assign_labels, classify
from .experiment import train_and_test
from .files import DIRECTIVES, EquationFile, default_equation_dir, load_equation_file
from .network import DiehlCookNetwork, PassResult
from .params import N_CLASSES, N_INPUT, PARAM_FILES, DiehlCookParams, file_params

__all__ = ["DiehlCookParams", "DiehlCookNetwork", "PassResult", "EquationFile", "load_equation_file",
           "assign_labels", "classify", "train_and_test", "N_INPUT", "N_CLASSES", "DIRECTIVES", "default_equation_dir",
           "PARAM_FILES", "file_params"]
