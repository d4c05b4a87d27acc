"""Figure 6B of Guerguiev, Lillicrap & Richards (2017), eLife 6:e22901: depth.

Networks with no, one and two hidden layers (784-10, 784-500-10, 784-500-100-10) learn MNIST
with the segregated-dendrite learning rule (Table 1 parameters). The paper, after 60 epochs:
8.3%, 4.1% and 3.2% test error: every hidden layer helps, so the rule uses depth.

    python experiments/fig6_depth.py           # the paper's size: 3 networks x 3 seeds x 60 epochs (weeks on 2 cores)
    python experiments/fig6_depth.py --quick   # 784-10, 784-50-10, 784-50-20-10 on 1,000 images, 2 epochs (minutes)

Running it again continues unfinished runs from their checkpoints and reads finished ones back.
``python -m brian_segdend paper fig6`` runs the same study on the sweep engine (many cores,
SLURM) and checks the paper's numbers.
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
ap = argparse.ArgumentParser(description="Figure 6B: 0, 1 and 2 hidden layers.")
ap.add_argument("--quick", action="store_true", help="small networks on 1,000 images for 2 epochs, one seed")
ap.add_argument("--out", type=Path, help="output folder (default results/fig6_script, or ..._quick)")
args = ap.parse_args()

PAPER_ERROR = {(): 8.3, (500,): 4.1, (500, 100): 3.2}   # % after 60 epochs (Figure 6B)
if args.quick:
    networks, train_size, test_size, epochs, seeds = [(), (50,), (50, 20)], 1_000, 500, 2, [1]
else:
    networks, train_size, test_size, epochs, seeds = list(PAPER_ERROR), 60_000, 10_000, 60, [1, 2, 3]
out = args.out or Path("results/fig6_script" + ("_quick" if args.quick else ""))


def name(hidden) -> str:
    """784-500-10 etc."""
    return "-".join(map(str, (784, *hidden, 10)))


# ----------------------------------------------------------------------------- model and run
def train(config: bs.TrainConfig) -> dict:
    """Train one network (or continue it from its checkpoint); a finished run is read back."""
    done = Path(config.out) / "results.json"
    if done.exists():
        res = json.loads(done.read_text())
        if res.get("finished") and len(res["epochs"]) >= config.epochs:
            return res
    return bs.train_run(config, resume=True)


errors = {}                                     # network -> test error in % (seeds x epochs 0..N)
for hidden in networks:
    runs = []
    for seed in seeds:
        config = bs.TrainConfig(hidden=hidden, train_size=train_size, test_size=test_size, epochs=epochs,
                                seed=seed, out=str(out / name(hidden) / f"seed{seed}"))
        res = train(config)
        runs.append([res["initial_test_error"]] + [e["test_error"] for e in res["epochs"]])
    errors[hidden] = 100 * np.array(runs)

# ----------------------------------------------------------------------------- plot
fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
for hidden, err in errors.items():
    mean = err.mean(axis=0)
    sem = err.std(axis=0, ddof=1) / np.sqrt(len(err)) if len(err) > 1 else np.zeros_like(mean)
    x = np.arange(len(mean))
    line, = ax.plot(x, mean, marker="o", ms=3, label=name(hidden))
    ax.fill_between(x, mean - sem, mean + sem, alpha=0.25, color=line.get_color())
    if hidden in PAPER_ERROR and not args.quick:
        ax.plot([60], [PAPER_ERROR[hidden]], "*", ms=10, color=line.get_color())   # the paper's value
    paper = f"; paper {PAPER_ERROR[hidden]}% after 60" if hidden in PAPER_ERROR and not args.quick else ""
    print(f"{name(hidden):15s} test error {mean[-1]:.2f}% after {len(mean) - 1} epoch(s) "
          f"(mean over {len(err)} seed(s)){paper}")
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set(xlabel="epoch", ylabel="test error (%)",
       title="Figure 6B: test error by depth\nmean ± SEM over seeds (stars: the paper after 60 epochs)")
ax.legend()
fig.savefig(out / "fig6_script.png", dpi=130)
print(f"wrote {out / 'fig6_script.png'}")
