"""Figure 8: 784-500-10 with random, sparse (x5), sparse unscaled, symmetric and symmetric+noise feedback.

Usage (options as for ``python -m brian_segdend paper fig8``)::

    python experiments/fig8_feedback.py --out results/fig8                  # 60 epochs x 5 variants x 3 seeds
    python experiments/fig8_feedback.py --out results/fig8 --resume         # after any interruption
    python experiments/fig8_feedback.py --quick --out results/fig8_quick    # minutes
    python experiments/fig8_feedback.py --from-runs results/fig8            # only collect and plot

Writes ``fig8.json`` and ``fig8.png`` and prints the paper's claims with PASS/FAIL.
"""

import sys

from brian_segdend.cli import main

if __name__ == "__main__":
    sys.exit(main(["paper", "fig8", *sys.argv[1:]]))
