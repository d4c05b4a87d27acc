"""MNIST: Diehl & Cook (2015) next to the segregated-dendrite network.

The same as ``python -m brian_segdend compare-mnist``; see :mod:`brian_segdend.compare_mnist`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout without installing

from brian_segdend.compare_mnist import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
