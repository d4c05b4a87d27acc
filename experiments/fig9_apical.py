"""Figure 9 of Guerguiev, Lillicrap & Richards (2017), eLife 6:e22901: apical segregation.

The network 784-500-100-10 learns MNIST with the apical dendrite electrotonically segregated
from the soma (g_a = 0, Table 1), partially coupled (g_a = 0.05/ms) or not segregated at all
(g_a = 0.6/ms = g_b). The paper: g_a = 0.05 learns like g_a = 0; g_a = 0.6 learns significantly
worse. g_a is a run argument of the compiled network, so every run shares one build.

    python experiments/fig9_apical.py           # the paper's size: 3 g_a x 3 seeds x 60 epochs (weeks on 2 cores)
    python experiments/fig9_apical.py --quick   # 784-50-20-10, 1,000 images, 2 epochs, 1 seed (minutes)

Running it again continues unfinished runs from their checkpoints and reads finished ones back.
``python -m brian_segdend paper fig9`` runs the same study on the sweep engine (many cores,
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
ap = argparse.ArgumentParser(description="Figure 9: apical segregation (g_a = 0, 0.05, 0.6 per ms).")
ap.add_argument("--quick", action="store_true", help="a small network on 1,000 images for 2 epochs, one seed")
ap.add_argument("--out", type=Path, help="output folder (default results/fig9_script, or ..._quick)")
args = ap.parse_args()

G_A = [0.0, 0.05, 0.6]                          # apical -> soma conductance, 1/ms (Table 1: 0; g_b = 0.6)
if args.quick:
    hidden, train_size, test_size, epochs, seeds = (50, 20), 1_000, 500, 2, [1]
else:
    hidden, train_size, test_size, epochs, seeds = (500, 100), 60_000, 10_000, 60, [1, 2, 3]
out = args.out or Path("results/fig9_script" + ("_quick" if args.quick else ""))


# ----------------------------------------------------------------------------- model and run
def train(config: bs.TrainConfig) -> dict:
    """Train one network (or continue it from its checkpoint); a finished run is read back."""
    done = Path(config.out) / "results.json"
    if done.exists():
        res = json.loads(done.read_text())
        if res.get("finished") and len(res["epochs"]) >= config.epochs:
            return res
    return bs.train_run(config, resume=True, reuse_network=True)


errors = {}                                     # g_a -> test error in % (seeds x epochs 0..N)
for g_a in G_A:
    runs = []
    for seed in seeds:                          # the same seeds: the same initial weights and images for every g_a
        config = bs.TrainConfig(hidden=hidden, train_size=train_size, test_size=test_size, epochs=epochs,
                                seed=seed, out=str(out / f"g_a={g_a:g}" / f"seed{seed}"), model={"g_a": g_a})
        res = train(config)
        runs.append([res["initial_test_error"]] + [e["test_error"] for e in res["epochs"]])
    errors[g_a] = 100 * np.array(runs)

# ----------------------------------------------------------------------------- plot
fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
for g_a, err in errors.items():
    mean = err.mean(axis=0)
    sem = err.std(axis=0, ddof=1) / np.sqrt(len(err)) if len(err) > 1 else np.zeros_like(mean)
    x = np.arange(len(mean))
    ax.plot(x, mean, marker="o", ms=3, label=f"g_a = {g_a:g} /ms")
    ax.fill_between(x, mean - sem, mean + sem, alpha=0.25)
    print(f"g_a = {g_a:<4g}/ms: test error {mean[-1]:.2f}% after {len(mean) - 1} epoch(s) "
          f"(mean over {len(err)} seed(s))")
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set(xlabel="epoch", ylabel="test error (%)",
       title=f"Figure 9: 784-{'-'.join(map(str, hidden))}-10, mean ± SEM over seeds")
ax.legend()
fig.savefig(out / "fig9_script.png", dpi=130)
print(f"wrote {out / 'fig9_script.png'}")
