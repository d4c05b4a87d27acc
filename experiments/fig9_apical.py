"""Figure 9: 784-500-100-10 with apical conductance g_a = 0, 0.05 and 0.6 per ms.

Usage (options as for ``python -m brian_segdend paper fig9``)::

    python experiments/fig9_apical.py --out results/fig9                    # 60 epochs x 3 values x 3 seeds
    python experiments/fig9_apical.py --out results/fig9 --resume           # after any interruption
    python experiments/fig9_apical.py --quick --out results/fig9_quick      # minutes
    python experiments/fig9_apical.py --from-runs results/fig9              # only collect and plot

Writes ``fig9.json`` and ``fig9.png`` and prints the paper's claims with PASS/FAIL.
"""

import sys

from brian_segdend.cli import main

if __name__ == "__main__":
    sys.exit(main(["paper", "fig9", *sys.argv[1:]]))
