"""Figure 5: does the hidden layer's local loss L0 go with the output loss L1?

Trains 784-500-10 with every learning step recorded (a ``learning_records`` build), computes per
example L0 = ||alpha^t - alpha^f||^2 and L1 = ||phi1* - phi_max sigma(Vbar1^f)||^2 from the
recorded averages, and the Pearson r between them for each digit and epoch against shuffled
pairings. The same as ``python -m brian_segdend paper fig5`` (which also writes fig5.json/png)::

    python experiments/fig5_credit.py --quick          # 784-50-10, 1,500 images, 2 epochs: minutes
    python experiments/fig5_credit.py                  # 784-500-10, 60,000 images, 2 epochs: hours
"""

import sys

import numpy as np

from brian_segdend.studies import credit_run, fig5
from brian_segdend.studies.paper_study import print_claims
from brian_segdend.training.data import load_mnist
from brian_segdend.training.train import TrainConfig

quick = "--quick" in sys.argv
scale = fig5.QUICK if quick else fig5.FULL
params = TrainConfig(hidden=scale["hidden"]).model_params()          # the library's defaults
run = credit_run.train_recorded(params, load_mnist(), scale["train_size"], scale["test_size"],
                                scale["epochs"], seed=1, chunk_steps=50_000)
cor = fig5.correlations(run, shuffles=200)
for e, row in enumerate(cor["r"]):
    print(f"epoch {e + 1}: r per digit {np.round(row, 2)}; shuffled mean "
          f"{np.nanmean(cor['r_shuffled'][e]):+.3f}")
print_claims(fig5.check_claims(cor))
