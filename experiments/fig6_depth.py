"""Figure 6B: 784-10, 784-500-10 and 784-500-100-10 trained for 60 epochs on all of MNIST.

Usage (options as for ``python -m brian_segdend paper fig6``)::

    python experiments/fig6_depth.py --out results/fig6                 # days on 2 cores
    python experiments/fig6_depth.py --out results/fig6 --resume        # after any interruption
    python experiments/fig6_depth.py --quick --out results/fig6_quick   # minutes
    python experiments/fig6_depth.py --from-runs results/fig6           # only collect and plot

Writes ``fig6b.json`` and ``fig6b.png`` and prints the paper's claims with PASS/FAIL.
"""

import sys

from brian_segdend.cli import main

if __name__ == "__main__":
    sys.exit(main(["paper", "fig6", *sys.argv[1:]]))
