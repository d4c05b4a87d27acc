"""Figure 10 of Guerguiev, Lillicrap & Richards (2017), eLife 6:e22901 (doi:10.7554/eLife.22901).

The model's experimental prediction: the timing of apical input relative to basal input sets
the sign of basal plasticity (early apical -> LTD, late apical -> LTP). Independent hidden-type
neurons (the training network's equation files and learning code) get basal Poisson input for
two phases and apical input at different times; one compiled binary runs every protocol.
Protocol, deviations from the paper and analysis: :mod:`brian_segdend.studies.fig10`.

Run from the project folder (``pip install -e .`` first)::

    python experiments/fig10_ltp_ltd.py [output folder]        # default results/fig10

``python -m brian_segdend fig10 --help`` runs the same experiment with every option.
"""

import sys
from pathlib import Path

from brian_segdend.model.params import ModelParams
from brian_segdend.studies.fig10 import Fig10Config, run_experiment, write_outputs

# ----------------------------------------------------------------------------- parameters
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/fig10")
params = ModelParams(hidden=(1,))         # Table 1 (one hidden-layer neuron type)
cfg = Fig10Config(
    n_neurons=100,                        # neurons per protocol
    n_basal=20, n_silent=5,               # basal afferents per neuron, of which never stimulated
    basal_rate=50.0,                      # Hz
    n_apical=10, apical_rate=100.0,       # apical afferents per neuron, Hz while on
    phase_ms=50.0,                        # forward and target phase
    g_a=0.0,                              # 1/ms, apical -> soma (Table 1)
    trials=5, seed=1,
)

# ----------------------------------------------------------------------------- model and run
results, extras = run_experiment(cfg, params)

# ----------------------------------------------------------------------------- plot
for path in write_outputs(results, extras, out):
    print(f"wrote {path}")
for name, s in results["conditions"].items():
    print(f"{name:17s} dw = {s['dw_percent_mean']:+.3f} ± {s['dw_percent_sem']:.3f} %")
