"""MNIST comparison: Diehl & Cook (2015) STDP network vs the segregated-dendrite network.

Diehl P.U. & Cook M. (2015) Unsupervised learning of digit recognition using
spike-timing-dependent plasticity. Front. Comput. Neurosci. 9:99. doi:10.3389/fncom.2015.00099
Guerguiev J., Lillicrap T.P. & Richards B.A. (2017) Towards deep learning with segregated
dendrites. eLife 6:e22901. doi:10.7554/eLife.22901

Both models are trained on the same class-stratified MNIST subsets of each size
(``subset(train, n, seed)``) for one pass and tested on the same test subset
(``subset(test, n_test, seed + 1)``). Diehl & Cook's one pass is its STDP pass; its
label-assignment pass over the same images is timed separately (``assign_wall_s``). The
segregated-dendrite network is the paper's 784-500-10 network with
``brian_segdend.training.train.train_run``'s defaults, one epoch. Writes to ``--out``:

* ``mnist_comparison.json``: per model and training size: test error, training wall
  time, examples/s, neurons, synapses (and whatever else the model reports);
* ``mnist_comparison.md``: a table and a plain statement of where each model wins;
* ``mnist_comparison.png``: test error vs training examples and vs training wall time.

Defaults (:data:`DEFAULT_TRAIN_SIZES`, :data:`DEFAULT_TEST_SIZE`): 1,000 and 10,000 training
images, 1,000 test images: the regime where both models have learned (at 100-400 images this
model is still near chance, 89-90% error, a supervised spiking network that has not started
learning). ``--quick`` is the small check of :data:`QUICK` (100 and 400 images, 500 test images).

Usage (``experiments/compare_diehl_cook.py`` runs the defaults)::

    .venv/bin/python -m brian_segdend compare-mnist --seed 0 --out results/compare_diehl_cook
    .venv/bin/python -m brian_segdend compare-mnist --quick        # a minute: 100 and 400 images
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from brian_segdend.studies.diehl_cook import DiehlCookNetwork, train_and_test
from brian_segdend.training.data import load_mnist
from brian_segdend.training.train import TrainConfig, train_run

from ..training.options import OneLineParser, add_set_option, fail, positive_int, seed_int
from ..training.safeio import atomic_write_text, savefig_atomic
from ..training.train import check_output_folder

__all__ = ["main", "run_comparison", "write_markdown", "plot", "DEFAULT_TRAIN_SIZES", "DEFAULT_TEST_SIZE", "QUICK"]

#: Training sizes by default: where both models have learned (this one needs thousands of images).
DEFAULT_TRAIN_SIZES = (1_000, 10_000)
#: Test images by default.
DEFAULT_TEST_SIZE = 1_000
#: ``--quick``: the small sizes of the earlier default (a minute; this model is then near chance).
QUICK = {"train_sizes": (100, 400), "test_size": 500}

MODELS = {"diehl_cook": "Diehl & Cook 2015 (STDP, unsupervised)",
          "segdend": "Segregated dendrites (Guerguiev et al. 2017)"}
KEYS = ("test_error", "train_wall_s", "train_examples_per_s", "neurons", "synapses")


# ----------------------------------------------------------------------------- models
def _run_diehl_cook(train_size, test_size, seed, n_exc, mnist, cache):
    result = train_and_test(train_size, test_size, n_exc=n_exc, seed=seed, mnist=mnist,
                            network=cache.get("diehl_cook"))
    return result


def _run_segdend(train_size, test_size, seed, mnist=None, out=None, hidden=(500,), user_params=None):
    """One segregated-dendrite run (one epoch); returns a dict with at least :data:`KEYS`.

    Calls ``brian_segdend.training.train.train_run`` (one hidden layer of 500 neurons, the paper's
    MNIST network) with the same class-stratified subsets as the Diehl & Cook runs:
    training ``subset(..., seed)`` and test ``subset(..., seed + 1)``.
    """
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="segdend_"))
    config = TrainConfig(hidden=tuple(hidden), train_size=train_size, test_size=test_size, epochs=1,
                         seed=seed, out=str(folder), model={"user_params": dict(user_params)} if user_params else {})
    res = train_run(config, force=True, log=lambda *a: None, data=mnist)
    params = config.model_params()
    sizes = list(params.layer_sizes)
    ff = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))          # W
    fb = sum(h * params.n_output for h in params.hidden)           # Y (feedback to every hidden layer)
    eps = res["examples_per_second"]
    return {"n_train": train_size, "n_test": test_size, "seed": seed,
            "test_error": res["final_test_error"], "initial_test_error": res["initial_test_error"],
            "train_wall_s": train_size / eps, "train_examples_per_s": eps,
            "neurons": int(sum(sizes)), "synapses": int(ff + fb), "network": res["network"],
            "build_s": res.get("build_s"), "out": str(folder)}


def run_comparison(train_sizes, test_size, n_exc, seed, mnist=None, log=print, user_params=None) -> dict:
    """Run both models at every training size; returns the JSON structure.

    ``user_params``: values of parameters declared in the segregated-dendrite equation files (``--set``).
    """
    data = mnist if mnist is not None else load_mnist()
    out = {"train_sizes": list(train_sizes), "test_size": test_size, "seed": seed, "n_exc": n_exc,
           "models": {}}
    # --- Diehl & Cook: one compiled binary for every size
    t0 = time.perf_counter()
    cache = {"diehl_cook": DiehlCookNetwork(n_exc=n_exc, seed=seed)}
    dc = {"label": MODELS["diehl_cook"], "build_s": time.perf_counter() - t0, "runs": []}
    for n in train_sizes:
        log(f"diehl_cook: n_train={n} n_test={test_size} n_exc={n_exc}")
        r = _run_diehl_cook(n, test_size, seed, n_exc, data, cache)
        log(f"  test error {r['test_error']:.3f}, train {r['train_wall_s']:.1f} s "
            f"({r['train_examples_per_s']:.1f} ex/s)")
        dc["runs"].append(r)
    out["models"]["diehl_cook"] = dc
    # --- segregated dendrites
    seg = {"label": MODELS["segdend"], "runs": []}
    for n in train_sizes:
        log(f"segdend: n_train={n} n_test={test_size}")
        try:
            r = _run_segdend(n, test_size, seed, mnist=data, user_params=user_params)
            log(f"  test error {r['test_error']:.3f}, train {r['train_wall_s']:.1f} s "
                f"({r['train_examples_per_s']:.1f} ex/s)")
            seg["runs"].append(r)
        except NotImplementedError as e:
            seg["unavailable"] = str(e)
            log(f"  not run: {e}")
            break
        except Exception as e:   # keep the Diehl & Cook numbers if the other model fails
            seg["unavailable"] = f"failed: {type(e).__name__}: {e}"
            log(f"  failed: {type(e).__name__}: {e}")
            break
    out["models"]["segdend"] = seg
    return out


# ----------------------------------------------------------------------------- outputs
def _winner_lines(result) -> list[str]:
    models = {k: v for k, v in result["models"].items() if v.get("runs")}
    lines = []
    if len(models) < 2:
        for _k, v in result["models"].items():
            if not v.get("runs"):
                lines.append(f"- {v['label']}: no numbers ({v.get('unavailable', 'not run')}).")
        lines.append("- No comparison can be stated until both models have numbers.")
        return lines
    a, b = list(models)
    by_size = {k: {r["n_train"] if "n_train" in r else r.get("train_size"): r for r in v["runs"]}
               for k, v in models.items()}
    for n in result["train_sizes"]:
        ra, rb = by_size[a].get(n), by_size[b].get(n)
        if ra is None or rb is None:
            continue
        r = {a: ra, b: rb}
        err_win = a if ra["test_error"] < rb["test_error"] else b
        speed_win = a if ra["train_examples_per_s"] > rb["train_examples_per_s"] else b
        err_lose, speed_lose = (b if err_win == a else a), (b if speed_win == a else a)
        # each comparison: the winner's number first
        lines.append(f"- {n} training images: lower test error: {models[err_win]['label']} "
                     f"({r[err_win]['test_error']:.3f} vs {r[err_lose]['test_error']:.3f}); faster training: "
                     f"{models[speed_win]['label']} ({r[speed_win]['train_examples_per_s']:.1f} vs "
                     f"{r[speed_lose]['train_examples_per_s']:.1f} examples/s).")
    return lines


def write_markdown(result, path: Path) -> None:
    """A Markdown table of the comparison, written to ``path``."""
    lines = ["# MNIST: Diehl & Cook (2015) vs segregated dendrites",
             "",
             f"Test set: {result['test_size']} images; seed {result['seed']}; Diehl & Cook with "
             f"{result['n_exc']} excitatory neurons. Training wall time excludes compilation.",
             "",
             "| model | training images | test error | training wall time (s) | examples/s | neurons | synapses |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for _key, m in result["models"].items():
        if not m.get("runs"):
            lines.append(f"| {m['label']} | - | not run | | | | |")
        for r in m.get("runs", []):
            n = r.get("n_train", r.get("train_size"))
            lines.append(f"| {m['label']} | {n} | {r['test_error']:.3f} | {r['train_wall_s']:.1f} | "
                         f"{r['train_examples_per_s']:.1f} | {r['neurons']} | {r['synapses']} |")
    dc = result["models"].get("diehl_cook", {})
    extra = [f"{r['n_train']} images: {r['assign_wall_s']:.1f} s" for r in dc.get("runs", []) if "assign_wall_s" in r]
    if extra:
        lines += ["", "Diehl & Cook also needs a label-assignment pass over the training images (learning "
                  "off) before it can classify; not included in its training time above: " + "; ".join(extra) + "."]
    lines += ["", "## Where each model wins", ""] + _winner_lines(result) + [""]
    atomic_write_text(path, "\n".join(lines))


def plot(result, path: Path) -> None:
    """Test error against training examples and training wall time, written to ``path``."""
    import matplotlib  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    for _key, m in result["models"].items():
        runs = m.get("runs", [])
        if not runs:
            continue
        n = [r.get("n_train", r.get("train_size")) for r in runs]
        err = [100 * r["test_error"] for r in runs]
        wall = [r["train_wall_s"] for r in runs]
        ax1.plot(n, err, "o-", label=m["label"])
        ax2.plot(wall, err, "o-", label=m["label"])
    from matplotlib.ticker import NullFormatter, ScalarFormatter  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn)
    ax1.set(xscale="log", xlabel="training examples", ylabel="test error (%)")
    ax2.set(xscale="log", xlabel="training wall time (s, excluding compilation)", ylabel="test error (%)")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.axhline(90, color="0.7", lw=0.8, ls="--")
        ax.text(1.0, 90, "chance ", transform=ax.get_yaxis_transform(), ha="right", va="bottom",
                fontsize=7, color="0.5")
        ax.set_ylim(0, 100)
    ax1.legend(fontsize=7, frameon=False)
    fig.suptitle(f"MNIST, {result['test_size']} test images", fontsize=9)
    fig.tight_layout()
    savefig_atomic(fig, path, dpi=150)
    plt.close(fig)


# ----------------------------------------------------------------------------- CLI
def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("training sizes must be positive")
    return sizes


def main(argv=None) -> int:
    """``python -m brian_segdend compare-mnist [options]``; returns the exit status."""
    ap = OneLineParser(prog="python -m brian_segdend compare-mnist", description=__doc__.split("\n\n")[0])
    ap.add_argument("--train-sizes", type=_sizes, default=None,
                    help=f"comma-separated (default {','.join(map(str, DEFAULT_TRAIN_SIZES))}: both models have learned; "
                         f"--quick {','.join(map(str, QUICK['train_sizes']))})")
    ap.add_argument("--test-size", type=positive_int, default=None,
                    help=f"test images (default {DEFAULT_TEST_SIZE}; --quick {QUICK['test_size']})")
    ap.add_argument("--quick", action="store_true",
                    help="a quick check at small sizes (this model is then still near chance)")
    ap.add_argument("--n-exc", type=positive_int, default=100, help="Diehl & Cook excitatory neurons")
    ap.add_argument("--seed", type=seed_int, default=0)
    ap.add_argument("--out", type=Path, default=Path("results/compare_diehl_cook"))
    add_set_option(ap)
    args = ap.parse_args(argv)
    if args.train_sizes is None:
        args.train_sizes = list(QUICK["train_sizes"] if args.quick else DEFAULT_TRAIN_SIZES)
    if args.test_size is None:
        args.test_size = QUICK["test_size"] if args.quick else DEFAULT_TEST_SIZE
    # MNIST's sizes (both models draw class-stratified subsets of the standard sets)
    if max(args.train_sizes) > 60_000:
        return fail(f"--train-sizes: {max(args.train_sizes)} images asked for, MNIST has 60000 training images")
    if args.test_size > 10_000:
        return fail(f"--test-size: {args.test_size} images asked for, MNIST has 10000 test images")
    check_output_folder(args.out)
    result = run_comparison(args.train_sizes, args.test_size, args.n_exc, args.seed,
                            user_params=dict(args.user_params or []))
    atomic_write_text(args.out / "mnist_comparison.json", json.dumps(result, indent=2))
    write_markdown(result, args.out / "mnist_comparison.md")
    plot(result, args.out / "mnist_comparison.png")
    print(f"wrote {args.out}/mnist_comparison.{{json,md,png}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
