"""Figure 10 of Guerguiev, Lillicrap & Richards (2017), eLife 6:e22901 (doi:10.7554/eLife.22901).

The model's experimental prediction: the timing of apical input relative to basal input sets
the sign of basal plasticity (early apical -> LTD, late apical -> LTP). The simulation,
its options and its deviations from the paper are in :mod:`brian_segdend.fig10`;
this script is the same as ``python -m brian_segdend fig10``.

Examples
--------
    python experiments/fig10_ltp_ltd.py --out results/fig10
    python experiments/fig10_ltp_ltd.py --quick --out /tmp/fig10
    python experiments/fig10_ltp_ltd.py --g-a 0.6 --basal-rate 100 --trials 10
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout without installing

from brian_segdend.fig10 import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
