"""Pair STDP, voltage STDP, dendritic prediction, burst-dependent plasticity and segregated dendrites
on the Figure 10 protocol.

Guerguiev, Lillicrap & Richards (2017), eLife 6:e22901 (doi:10.7554/eLife.22901), Figure 10,
compared with Song, Miller & Abbott (2000), Clopath et al. (2010), Urbanczik & Senn (2014) and
Payeur et al. (2021).
The classic models are the files in ``equations/plasticity/``; the mapping of the protocol onto
each and the deviations from the papers are in :mod:`brian_segdend.studies.compare`.

Run from the project folder (``pip install -e .`` first)::

    python experiments/compare_plasticity_models.py [output folder]   # default results/compare

``python -m brian_segdend compare --help`` runs the same comparison with every option.
"""

import sys
from pathlib import Path

from brian_segdend.studies.compare import ProtocolConfig, compare_models, comparison_markdown, write_outputs

# ----------------------------------------------------------------------------- parameters
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/compare")
cfg = ProtocolConfig(seed=1)              # Figure 10's protocol, same numbers for every model
models = ("stdp", "clopath", "urbanczik_senn", "payeur", "segdend")

# ----------------------------------------------------------------------------- models and run
results = compare_models(cfg, models=models)

# ----------------------------------------------------------------------------- plot
print(comparison_markdown(results))
for path in write_outputs(results, out):
    print(f"wrote {path}")
