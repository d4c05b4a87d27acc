"""Figure 8 of Guerguiev, Lillicrap & Richards (2017), eLife 6:e22901: feedback weights.

The network 784-500-10 learns MNIST with five kinds of feedback weights Y onto the apical
dendrites: random (Table 1), sparse (80% zeros, the rest scaled x5), sparse and not rescaled
(Figure 8 supplement 1), symmetric (Y = W1^T, updated with W1) and symmetric plus fixed noise.
The paper: sparse feedback learns as well as random feedback, symmetric feedback slightly better,
sparse feedback without rescaling worse.

    python experiments/fig8_feedback.py           # the paper's size: 5 variants x 3 seeds x 60 epochs (weeks on 2 cores)
    python experiments/fig8_feedback.py --quick   # 784-50-10, 1,000 images, 2 epochs, 1 seed (minutes)

Running it again continues unfinished runs from their checkpoints and reads finished ones back.
``python -m brian_segdend paper fig8`` runs the same study on the sweep engine (many cores,
SLURM) and checks the paper's claims with statistics.
"""

import argparse
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

import brian_segdend as bs

plt.switch_backend("Agg")

# ----------------------------------------------------------------------------- parameters
ap = argparse.ArgumentParser(description="Figure 8: random, sparse and symmetric feedback weights.")
ap.add_argument("--quick", action="store_true", help="a small network on 1,000 images for 2 epochs, one seed")
ap.add_argument("--out", type=Path, help="output folder (default results/fig8_script, or ..._quick)")
args = ap.parse_args()

FEEDBACK = {                                    # ModelParams.feedback -> label
    "random": "random Y (Table 1)",
    "sparse": "sparse Y (80% zeros, x5)",
    "sparse_noscale": "sparse Y, not rescaled",
    "symmetric": "symmetric Y = W1^T",
    "symmetric_noise": "symmetric Y + noise",
}
if args.quick:
    hidden, train_size, test_size, epochs, seeds = (50,), 1_000, 500, 2, [1]
else:
    hidden, train_size, test_size, epochs, seeds = (500,), 60_000, 10_000, 60, [1, 2, 3]
out = args.out or Path("results/fig8_script" + ("_quick" if args.quick else ""))


# ----------------------------------------------------------------------------- model and run
def train(config: bs.TrainConfig) -> dict:
    """Train one network (or continue it from its checkpoint); a finished run is read back."""
    done = Path(config.out) / "results.json"
    if done.exists():
        res = json.loads(done.read_text())
        if res.get("finished") and len(res["epochs"]) >= config.epochs:
            return res
    return bs.train_run(config, resume=True, reuse_network=True)


errors = {}                                     # variant -> test error in % (seeds x epochs 0..N)
for variant in FEEDBACK:
    runs = []
    for seed in seeds:                          # the same seeds: the same W, images and order for every variant
        config = bs.TrainConfig(hidden=hidden, train_size=train_size, test_size=test_size, epochs=epochs,
                                seed=seed, out=str(out / variant / f"seed{seed}"), model={"feedback": variant})
        res = train(config)
        runs.append([res["initial_test_error"]] + [e["test_error"] for e in res["epochs"]])
    errors[variant] = 100 * np.array(runs)

# ----------------------------------------------------------------------------- plot
fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
for variant, err in errors.items():
    mean = err.mean(axis=0)
    sem = err.std(axis=0, ddof=1) / np.sqrt(len(err)) if len(err) > 1 else np.zeros_like(mean)
    x = np.arange(len(mean))
    ax.plot(x, mean, marker="o", ms=3, label=FEEDBACK[variant])
    ax.fill_between(x, mean - sem, mean + sem, alpha=0.25)
    print(f"{FEEDBACK[variant]:24s} test error {mean[-1]:.2f}% after {len(mean) - 1} epoch(s) "
          f"(mean over {len(err)} seed(s))")
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set(xlabel="epoch", ylabel="test error (%)",
       title=f"Figure 8: 784-{'-'.join(map(str, hidden))}-10, mean ± SEM over seeds")
ax.legend()
fig.savefig(out / "fig8_script.png", dpi=130)
print(f"wrote {out / 'fig8_script.png'}")
