"""MNIST: Diehl & Cook (2015) next to the segregated-dendrite network, on the same images.

Diehl P.U. & Cook M. (2015) Front. Comput. Neurosci. 9:99 (files in ``equations/diehl_cook/``)
and Guerguiev, Lillicrap & Richards (2017) eLife 6:e22901 (784-500-10), both compiled with
Brian2's cpp_standalone device. Details: :mod:`brian_segdend.studies.compare_mnist`.

Run from the project folder (``pip install -e .`` first)::

    python experiments/compare_diehl_cook.py [output folder]   # default results/compare_diehl_cook

``python -m brian_segdend compare-mnist --help`` runs the same comparison with every option.
"""

import json
import sys
from pathlib import Path

from brian_segdend.studies.compare_mnist import DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZES, plot, run_comparison, write_markdown
from brian_segdend.training.safeio import atomic_write_text

# ----------------------------------------------------------------------------- parameters
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/compare_diehl_cook")
train_sizes = list(DEFAULT_TRAIN_SIZES)   # training images (class-stratified subsets): 1,000 and 10,000
test_size = DEFAULT_TEST_SIZE             # test images (1,000)
n_exc = 100                               # Diehl & Cook excitatory neurons
seed = 0

# ----------------------------------------------------------------------------- models and run
result = run_comparison(train_sizes, test_size, n_exc, seed)

# ----------------------------------------------------------------------------- plot
out.mkdir(parents=True, exist_ok=True)
atomic_write_text(out / "mnist_comparison.json", json.dumps(result, indent=2))
write_markdown(result, out / "mnist_comparison.md")
plot(result, out / "mnist_comparison.png")
print(f"wrote {out}/mnist_comparison.{{json,md,png}}")
