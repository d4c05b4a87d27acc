"""Figure 7: how close is the local rule's hidden update to backpropagation's?

From a run with every learning step recorded: per example the angle between dW0 of the rule and
dW0_BP (backprop's error through the current W1, the same recorded averages), smoothed; then the
receptive fields (rows of W0) against a rate-based NumPy backprop network trained on the same
images in the same order. The same as ``python -m brian_segdend paper fig7``::

    python experiments/fig7_backprop.py --quick        # 784-50-10, 1,500 images, 2 epochs: minutes
    python experiments/fig7_backprop.py                # 784-500-10, 60,000 images, 2 epochs: hours
    python experiments/fig7_backprop.py --quick --rates   # also the output rates (not spikes) fed back through Y
"""

import sys

import numpy as np

from brian_segdend.studies import credit_run, fig5, fig7
from brian_segdend.studies.paper_study import print_claims
from brian_segdend.training.data import load_mnist
from brian_segdend.training.train import TrainConfig

quick = "--quick" in sys.argv
rates = "--rates" in sys.argv
scale = fig5.QUICK if quick else fig5.FULL
data = load_mnist()
params = TrainConfig(hidden=scale["hidden"]).model_params()
run = credit_run.train_recorded(params, data, scale["train_size"], scale["test_size"], scale["epochs"],
                                seed=1, chunk_steps=50_000)
n = len(run["angle"])
angles = fig7.smooth(run["angle"], max(1, min(1000, n // 20)))
print(f"angle: first window {angles[0]:.1f} deg, minimum {np.nanmin(angles):.1f}, last {angles[-1]:.1f}")
bp = fig7.train_backprop(data.train_images, data.train_labels, run["order"], run["W0"].shape[0], seed=1001)
rf = fig7.max_correlations(run["W0"], bp["W0"])
rf_shuffled = fig7.max_correlations(run["W0"], bp["W0"], shuffle_seed=1)
print(f"receptive fields: median max r {np.median(rf):.3f}, shuffled {np.median(rf_shuffled):.3f}")
print_claims(fig7.check_claims(angles, float(np.nanmean(run["angle"][n // 2:])), rf, rf_shuffled,
                               int(run["epoch"].max())))

if rates:   # the paper's red line: the same network with the output rates sent back through Y
    params_r = TrainConfig(hidden=scale["hidden"], model={"feedback_signal": "rates"}).model_params()
    run_r = credit_run.train_recorded(params_r, data, scale["train_size"], scale["test_size"], scale["epochs"],
                                      seed=1, chunk_steps=50_000)
    window = max(1, min(1000, n // 20))
    spikes_s, rates_s = fig7.angle_summary(run, window), fig7.angle_summary(run_r, window)
    print(f"rate feedback: angle per epoch {', '.join(f'{a:.1f}' for a in rates_s['per_epoch'])} deg "
          f"(spikes: {', '.join(f'{a:.1f}' for a in spikes_s['per_epoch'])}; paper: about 35-40 vs 65-70)")
    print_claims([fig7.rate_claim(spikes_s, rates_s, int(run_r["epoch"].max()))])
