"""Pair STDP, voltage STDP, dendritic prediction and segregated dendrites on the Figure 10 protocol.

Guerguiev, Lillicrap & Richards (2017), eLife 6:e22901 (doi:10.7554/eLife.22901), Figure 10,
compared with Song, Miller & Abbott (2000), Clopath et al. (2010) and Urbanczik & Senn (2014).
The models, the mapping of the protocol onto each and the deviations from the papers are in
:mod:`brian_segdend.compare`; this script is the same as ``python -m brian_segdend compare``.

Examples
--------
    python experiments/compare_plasticity_models.py --out results/compare
    python experiments/compare_plasticity_models.py --quick --out /tmp/compare
    python experiments/compare_plasticity_models.py --models stdp clopath --trials 10
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout without installing

from brian_segdend.compare import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
