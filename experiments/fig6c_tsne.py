"""Figure 6C: t-SNE of the test set's activity at the input and the hidden layers.

Reads a trained 784-500-100-10 network (``train --hidden 500,100 ... --out R`` writes
``R/weights.npz``; a ``checkpoint.npz`` works too), computes each layer's activity by the rate
read-out (docs/MODEL.md's forward-phase steady state), embeds it with the NumPy t-SNE and scores the
digits' separation (silhouette and 5-NN accuracy in the embedding). The same as
``python -m brian_segdend paper fig6c --weights W``::

    python experiments/fig6c_tsne.py R/weights.npz [--quick]
"""

import sys

from brian_segdend.model.params import ModelParams
from brian_segdend.studies import fig6c
from brian_segdend.studies.paper_study import print_claims
from brian_segdend.training.data import load_mnist, subset
from brian_segdend.training.train import load_weights

weights = sys.argv[1]
n = 300 if "--quick" in sys.argv else 2000
state, _ = load_weights(weights)
params = ModelParams(hidden=tuple(W.shape[0] for W in state["W"][:-1]))   # default parameters
data = load_mnist()
images, labels, _ = subset(data.test_images, data.test_labels, n, seed=1)
scores = []
for name, activity in zip(["input", "hidden 1", "hidden 2"], fig6c.layer_activities(state, params, images)):
    Y = fig6c.tsne(activity, iterations=300 if n <= 300 else 750, seed=1)
    scores.append({"layer": name, "silhouette": fig6c.silhouette(Y, labels), "knn_accuracy": fig6c.knn_accuracy(Y, labels)})
    print(f"{name}: silhouette {scores[-1]['silhouette']:.3f}, 5-NN accuracy {scores[-1]['knn_accuracy']:.3f}")
print_claims(fig6c.check_claims(scores))
