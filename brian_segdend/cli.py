"""Command line: ``python -m brian_segdend <command> [options]``.

Commands
--------
main           the README's main job: train 784-500-10 on 10,000 images for one epoch,
               test on 2,000, run the Figure 10 experiment; everything under ``results/``
train          a training run (options or a TOML/YAML config file; options win)
fig10          the Figure 10 LTP/LTD prediction experiment
compare        other plasticity models on the Figure 10 protocol
compare-mnist  this model and Diehl & Cook (2015) on the same MNIST subsets
data           summary of the MNIST data the loader finds
evaluate       test a trained network (weights.npz): test error, per-digit errors, confusion matrix,
               receptive fields
receptive-fields  the rows of W0 of a trained network as 28x28 images (PNG grid)
trace          one example through a trained network: somatic, basal and apical voltages, plateaus and
               spike rasters (the mechanism figure, paper Fig. 3-4 style)
cache          sizes of the compiled-network cache; --clean [--unused-days N] removes builds
sweep          many training runs (grid/list of configurations x seeds) on Dask distributed
paper fig5     Figure 5: hidden loss L0 vs output loss L1 per digit and epoch, against shuffled pairings
paper fig6     Figure 6B: 784-10, 784-500-10, 784-500-100-10 trained for 60 epochs (on the sweep engine)
paper fig6c    Figure 6C: t-SNE of the test set's activity per layer of a trained network, separation per layer
paper fig7     Figure 7: angle of the hidden update vs backprop's, receptive fields vs a backprop network
paper fig8     Figure 8: 784-500-10 with random, sparse, sparse unscaled, symmetric, symmetric+noise feedback
paper fig9     Figure 9: 784-500-100-10 with apical conductance g_a = 0, 0.05, 0.6 /ms
paper summary  every figure's claims (fig5-fig10 JSON under --out) in one table
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import time

# Imports of the package and of heavy libraries are inside the command functions on purpose:
# `--help`, option and configuration errors answer without importing Brian2, NumPy or Dask.
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from .training.options import (
    OneLineParser,
    add_set_option,
    fail,
    float_list,
    int_list,
    nonneg_float,
    nonneg_int,
    positive_float,
    positive_int,
    seed_int,
)

if TYPE_CHECKING:   # only for the annotation; importing training at start-up costs Brian2's import time
    from .training.train import TrainConfig

__all__ = ["main", "train_parser", "config_from_args", "write_receptive_fields", "write_trace"]


def train_parser(prog="python -m brian_segdend train") -> argparse.ArgumentParser:
    """The options of ``python -m brian_segdend train`` (also the base of ``sweep``'s)."""
    from .model.params import FEEDBACK_VARIANTS  # noqa: PLC0415 (lazy: Brian2's import time)
    ap = OneLineParser(prog=prog, description="Train the segregated-dendrite network on MNIST "
                                 "(compiled with Brian2 cpp_standalone; checkpoints after every chunk).")
    ap.add_argument("--config", help="TOML or YAML file with parameters (command-line options override it)")
    ap.add_argument("--hidden", type=int_list, help="hidden layer sizes, e.g. 500 or 500,100; 0 for none (default 500)")
    ap.add_argument("--train-size", type=positive_int, help="training images (class-stratified subset; default 10000)")
    ap.add_argument("--test-size", type=positive_int, help="test images (default 2000)")
    ap.add_argument("--epochs", type=positive_int, help="epochs (default 1)")
    ap.add_argument("--seed", type=seed_int, help="seed for everything (default 1)")
    ap.add_argument("--out", help="output folder (default results/train)")
    ap.add_argument("--resume", action="store_true", help="continue from the folder's last checkpoint")
    ap.add_argument("--force", action="store_true", help="overwrite a finished run or a checkpoint in the folder")
    ap.add_argument("--eta", type=float_list, help="learning rates bottom to top, e.g. 0.21,0.21 (default: Table 1)")
    ap.add_argument("--eta-bias", type=float_list,
                    help="bias learning rates bottom to top (default: equal to the weight learning rates)")
    ap.add_argument("--rates", choices=["table1", "kernel"],
                    help="default learning rates when --eta is not given: Table 1 as printed, or x 0.25 "
                         "(consistent with the exact kernel's area; see brian_segdend.model.params.RATE_PRESETS)")
    ap.add_argument("--kernel", choices=["exact", "truncated"],
                    help="synaptic kernel: exact (default) or cut after 10 ms as in the original code (own build)")
    ap.add_argument("--timing", choices=["depth", "paper"],
                    help="settle time and phase length: depth (default: settle 30 ms + 15 ms per hidden layer, "
                         "phases settle + 20 ms) or paper (30 / 50 ms for every architecture); see "
                         "brian_segdend.model.params.TIMING_PRESETS")
    ap.add_argument("--init-weight-scale", type=positive_float,
                    help="factor on the initial weights W and Y (default 1; 0.49: the original code's voltages)")
    ap.add_argument("--test-reset", action=argparse.BooleanOptionalAction, default=None,
                    help="reset the network's state at the start of each test image (as the original code)")
    ap.add_argument("--g-a", type=nonneg_float, help="apical -> soma conductance in 1/ms (default 0; paper: 0, 0.05, 0.6)")
    ap.add_argument("--feedback", choices=list(FEEDBACK_VARIANTS),
                    help="feedback weights Y (default random; sparse: 80%% zeros, rest x5; sparse_noscale: "
                         "80%% zeros, not rescaled; symmetric: Y = W_top^T)")
    ap.add_argument("--feedback-signal", choices=["spikes", "rates"],
                    help="what the output layer sends back through Y: its filtered spike trains (default) or its "
                         "rates phi_max sigma(V) (the paper's Figure 7 variant; its own build)")
    ap.add_argument("--test-duration", type=positive_float, help="test phase per image in ms (default 250; paper 500)")
    ap.add_argument("--plateau-sd", type=nonneg_float, help="sd in ms of per-neuron plateau times (0 = off; paper sqrt(3))")
    ap.add_argument("--plateau-code", choices=["rate", "burst"],
                    help="how plateaus reach the hidden update: rate (default: alpha^t - alpha^f) or burst "
                         "(Poisson bursts of mean burst_scale * alpha counted by a basal memory; own build)")
    ap.add_argument("--burst-scale", type=positive_float,
                    help="with --plateau-code burst: mean spikes in the burst of a full plateau (default 4)")
    ap.add_argument("--device", choices=["cpp_standalone", "runtime"], help="Brian2 device (runtime: debugging)")
    ap.add_argument("--chunk-steps", type=positive_int, help="time steps per compiled run (default 300000)")
    ap.add_argument("--data", help="directory of MNIST IDX files (default: $BRIAN_SEGDEND_MNIST or the embedded copy)")
    ap.add_argument("--precision", choices=["float64", "float32"],
                    help="floating-point type of the compiled simulation (default float64; float32 is ~13%% faster)")
    ap.add_argument("--monitor-size", type=nonneg_int,
                    help="test on this many held-out test images after every chunk (default 0: off)")
    ap.add_argument("--fast-rng", action="store_true", default=None,
                    help="xoshiro256+ instead of Brian2's generator for rand() (~3%% faster; another random stream)")
    add_set_option(ap)
    return ap


def _checkpoint_config(out) -> dict:
    """The configuration stored in the output folder's checkpoint (``{}`` if there is none or it predates the record).

    A damaged checkpoint is left for ``train_run`` to report.
    """
    from .training.train import CheckpointError, load_checkpoint  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    folder = Path(out)
    for name in ("checkpoint.npz", "checkpoint.prev.npz"):
        if (folder / name).exists():
            try:
                _, meta = load_checkpoint(folder / name)
            except CheckpointError:
                continue
            stored = dict(meta.get("config") or {})
            stored.pop("effective_model", None)
            return stored
    return {}


def config_from_args(args) -> TrainConfig:
    """The run's configuration.

    The checkpoint's (with ``--resume``), then the config file, then the options given on the
    command line, each overriding the one before.
    """
    from .training.train import TrainConfig, load_config_file  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    values = load_config_file(args.config) if args.config else {}
    if getattr(args, "resume", False):
        out = args.out or values.get("out") or TrainConfig().out
        stored = _checkpoint_config(out)
        if stored:
            stored_model = dict(stored.pop("model", None) or {})
            file_model = values.pop("model", None) or {}
            if isinstance(file_model, dict):
                stored_model.update(file_model)
                values = {**stored, **values, "model": stored_model}
            else:
                values = {**stored, **values, "model": file_model}
    model = values.pop("model", None) or {}
    if not isinstance(model, dict):
        from .model.params import ParameterError  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
        raise ParameterError(f"{args.config}: parameter 'model': must be a table of model parameters, got {model!r}")
    model = dict(model)
    direct = {"hidden": args.hidden, "train_size": args.train_size, "test_size": args.test_size,
              "epochs": args.epochs, "seed": args.seed, "out": args.out, "device": args.device,
              "chunk_steps": args.chunk_steps, "data_source": args.data, "precision": args.precision,
              "fast_rng": args.fast_rng, "monitor_size": args.monitor_size}
    for k, v in direct.items():
        if v is not None:
            values[k] = v
    model_opts = {"eta": args.eta, "g_a": args.g_a, "feedback": args.feedback,
                  "feedback_signal": args.feedback_signal,
                  "test_duration": args.test_duration, "plateau_sd": args.plateau_sd,
                  "eta_bias": args.eta_bias, "rates": args.rates, "kernel": args.kernel,
                  "timing": args.timing,
                  "init_weight_scale": args.init_weight_scale, "test_reset": args.test_reset,
                  "plateau_code": args.plateau_code, "burst_scale": args.burst_scale}
    for k, v in model_opts.items():
        if v is not None:
            model[k] = list(v) if isinstance(v, tuple) else v
    if getattr(args, "user_params", None):
        model["user_params"] = {**(model.get("user_params") or {}), **dict(args.user_params)}
    values["model"] = model
    return TrainConfig.from_dict(values, source=args.config or "command line")


class Terminated(KeyboardInterrupt):
    """SIGTERM (or another stop signal) ends the command like Ctrl-C; ``signum`` gives the exit code."""

    def __init__(self, signum: int):
        super().__init__(f"signal {signum}")
        self.signum = signum


def _install_signal_handlers():
    """SIGTERM stops a run like Ctrl-C (lock released, last checkpoint kept), exit code 143.

    A process started with SIGINT ignored (``nohup``, a background job of a script) keeps
    ignoring it: Brian2 replaces the SIGINT handler when it is imported with one that calls
    the previous handler, which fails when that was "ignore"; so Brian2 is imported here and
    "ignore" is put back.
    """
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def on_term(signum, frame):
        signal.signal(signum, signal.SIG_IGN)     # a second SIGTERM does not interrupt the clean-up
        raise Terminated(signum)
    signal.signal(signal.SIGTERM, on_term)
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        import brian2  # noqa: F401, PLC0415 (installs its handler; imported only here: start-up cost)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return previous


def _restore_signal_handlers(previous):
    """Put back the handlers :func:`_install_signal_handlers` found (cli.main called in-process)."""
    for sig, handler in previous.items():
        if handler is not None:
            signal.signal(sig, handler)


def cmd_train(argv) -> int:
    from .training.train import train_run  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    args = train_parser().parse_args(argv)
    config = config_from_args(args)
    res = train_run(config, resume=args.resume, force=args.force)
    print(f"final test error {100 * res['final_test_error']:.2f}% ({res['examples_per_second']:.0f} examples/s)")
    return 0


def cmd_main(argv) -> int:
    ap = OneLineParser(prog="python -m brian_segdend main",
                                 description="The main job: train 784-500-10 for one epoch of 10,000 images, "
                                             "test on 2,000, and run the Figure 10 experiment.")
    ap.add_argument("--out", default="results", help="output folder (default results)")
    ap.add_argument("--train-size", type=positive_int, default=10_000)
    ap.add_argument("--test-size", type=positive_int, default=2_000)
    ap.add_argument("--seed", type=seed_int, default=1)
    ap.add_argument("--skip-fig10", action="store_true")
    ap.add_argument("--resume", action="store_true",
                    help="continue an interrupted main job (a finished training part is kept)")
    add_set_option(ap)
    args = ap.parse_args(argv)
    from .training.train import TrainConfig, train_run  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    out = Path(args.out)
    t0 = time.perf_counter()
    user = dict(args.user_params or [])
    cfg = TrainConfig(hidden=(500,), train_size=args.train_size, test_size=args.test_size, epochs=1,
                      seed=args.seed, out=str(out / "train"), model={"user_params": user} if user else {})
    results_file = out / "train" / "results.json"
    res = None
    if args.resume and results_file.exists():
        try:
            previous = json.loads(results_file.read_text())
        except ValueError:
            previous = {}
        if previous.get("finished") and previous.get("config", {}).get("train_size") == args.train_size \
                and previous.get("config", {}).get("test_size") == args.test_size \
                and previous.get("config", {}).get("seed") == args.seed \
                and (previous.get("config", {}).get("model") or {}).get("user_params", {}) == cfg.model.get("user_params", {}):
            print(f"training part already finished: {results_file}")
            res = previous
    if res is None:
        res = train_run(cfg, resume=args.resume, force=not args.resume)
    summary = [f"784-500-10, {args.train_size} training images, 1 epoch: test error "
               f"{100 * res['initial_test_error']:.1f}% before, {100 * res['final_test_error']:.1f}% after "
               f"({res['examples_per_second']:.0f} training examples/s) -> {out / 'train'}"]
    if not args.skip_fig10:
        from .studies import fig10  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
        fig10.main(["--out", str(out / "fig10"), "--seed", str(args.seed)]
                   + [f"--set={k}={v}" for k, v in cfg.model.get("user_params", {}).items()])
        f = json.loads((out / "fig10" / "fig10.json").read_text())["conditions"]
        summary.append("Figure 10 prediction (basal weight change, % of initial): " + ", ".join(
            f"{k.replace('_', ' ')} {v['dw_percent_mean']:+.3f} ± {v['dw_percent_sem']:.3f}" for k, v in f.items())
            + f" -> {out / 'fig10'}")
    print("\n".join(["", "summary:"] + summary + [f"total {time.perf_counter() - t0:.0f} s"]))
    return 0


def cmd_evaluate(argv) -> int:
    ap = OneLineParser(prog="python -m brian_segdend evaluate",
                       description="Test a trained network (weights.npz of a training run) on the MNIST test set: "
                                   "test error, per-digit errors, confusion matrix (JSON and PNG).")
    ap.add_argument("--weights", required=True, help="weights.npz written by train (it records its configuration)")
    ap.add_argument("--test-size", type=positive_int, help="test images (default: the run's own)")
    ap.add_argument("--seed", type=seed_int, help="test seed (default: the run's; then the error equals its final one)")
    ap.add_argument("--out", help="output folder (default: evaluate/ next to the weights file)")
    add_set_option(ap)
    args = ap.parse_args(argv)

    from .training.safeio import atomic_write_text  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    from .training.train import evaluate  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    res = evaluate(args.weights, test_size=args.test_size, seed=args.seed, user_params=dict(args.user_params or []))
    out = Path(args.out) if args.out else Path(args.weights).resolve().parent / "evaluate"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "evaluate.json", json.dumps(res, indent=2), tmp=out / "evaluate.json.tmp")
    _plot_confusion(res, out / "confusion.png")
    from .training.train import load_weights  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    state, _ = load_weights(args.weights)
    n = write_receptive_fields(state["W"][0], out, max_panels=100)
    print(f"test error {100 * res['test_error']:.2f}% on {res['n']} test images (seed {res['seed']})")
    print("per digit: " + "  ".join(f"{k}: {100 * e:.1f}%" for k, e in enumerate(res["per_class_error"])))
    print(f"wrote {out / 'evaluate.json'}, {out / 'confusion.png'}, {out / 'receptive_fields.png'} ({n} panels)")
    return 0


def write_receptive_fields(W0, out, max_panels: int | None = 100) -> int:
    """Write ``receptive_fields.png`` and ``receptive_fields.json`` into the folder ``out``.

    The PNG shows the rows of ``W0`` as 28 x 28 images, the JSON the panel count and grid.
    Returns the number of panels.
    """
    # lazy (as everywhere in this module): matplotlib only when a figure is drawn

    import matplotlib  # noqa: PLC0415 (start-up cost: matplotlib only when a figure is drawn)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (start-up cost: matplotlib only when a figure is drawn)

    from .plotting import plot_receptive_fields, receptive_field_mosaic  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    from .training.safeio import atomic_write_text, savefig_atomic  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _, n, grid = receptive_field_mosaic(W0, max_panels)
    fig, ax = plt.subplots(figsize=(min(12, 1 + 0.6 * grid[1]), min(12, 1 + 0.6 * grid[0])), constrained_layout=True)
    plot_receptive_fields(ax, W0, max_panels)
    try:
        savefig_atomic(fig, out / "receptive_fields.png", dpi=120)
    finally:
        plt.close(fig)
    info = {"panels": n, "rows_of_W0": int(len(W0)), "grid": list(grid), "shape": [28, 28],
            "scaling": "each panel by its largest absolute weight; red positive, blue negative"}
    atomic_write_text(out / "receptive_fields.json", json.dumps(info, indent=2), tmp=out / "receptive_fields.json.tmp")
    return n


def cmd_receptive_fields(argv) -> int:
    ap = OneLineParser(prog="python -m brian_segdend receptive-fields",
                       description="The first layer's receptive fields of a trained network: the rows of W0 "
                                   "as 28 x 28 images in a grid (PNG, and the panel count in JSON).")
    ap.add_argument("--weights", required=True, help="weights.npz written by train")
    ap.add_argument("--max-panels", type=positive_int, default=100, help="at most this many units (default 100)")
    ap.add_argument("--out", help="output folder (default: the weights file's folder)")
    args = ap.parse_args(argv)
    from .training.train import load_weights  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    state, _ = load_weights(args.weights)
    out = Path(args.out) if args.out else Path(args.weights).resolve().parent
    n = write_receptive_fields(state["W"][0], out, max_panels=args.max_panels)
    print(f"wrote {out / 'receptive_fields.png'} ({n} of {len(state['W'][0])} units)")
    return 0


def _neuron_indices(text: str) -> tuple:
    """``--neurons 0,1,2``: non-negative neuron indices (a ParameterError names the option)."""
    from .model.params import ParameterError  # noqa: PLC0415 (lazy: Brian2's import time)
    try:
        out = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ParameterError(f"parameter 'neurons' (--neurons): comma-separated neuron indices, got {text!r}") from None
    if not out or min(out) < 0:
        raise ParameterError(f"parameter 'neurons' (--neurons): comma-separated indices >= 0, got {text!r}")
    return out


def write_trace(res, out, layer: int = 0, weights=None) -> dict:
    """Write ``trace.png`` and ``trace.json`` into the folder ``out``; returns the JSON data.

    The PNG is the mechanism figure of a :func:`brian_segdend.simulate` result, the JSON its
    numbers, configuration and image.

    Panels: for each returned neuron of hidden layer ``layer`` its somatic, basal and apical
    potentials with the averaging windows shaded and the plateaus alpha^f / alpha^t; the output
    somas' potentials with the target unit; spike rasters of the hidden layer and the output layer.
    """
    # lazy (as everywhere in this module): NumPy, Brian2 and matplotlib only when a figure is drawn
    import json  # noqa: PLC0415 (lazy, see above)

    import matplotlib  # noqa: PLC0415 (lazy, see above)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (lazy, see above)
    import numpy as np  # noqa: PLC0415 (lazy, see above)
    from brian2 import ms  # noqa: PLC0415 (lazy, see above)

    from .plotting import plot_compartments, plot_output_voltages, plot_raster  # noqa: PLC0415 (lazy, see above)
    from .training.safeio import atomic_write_text, savefig_atomic  # noqa: PLC0415 (lazy, see above)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t = np.asarray(res.t / ms)
    phases = {k: (float(a / ms), float(b / ms)) for k, (a, b) in res.phases.items()}
    h = res.hidden[layer] if res.hidden else None
    rows = (len(h.neurons) if h is not None else 0) + 1 + (1 if h is not None else 0) + 1
    heights = [2.2] * (len(h.neurons) if h is not None else 0) + [2.2] + ([1.8] if h is not None else []) + [1.4]
    fig, axes = plt.subplots(rows, 1, figsize=(9, sum(heights) + 0.6), sharex=True, constrained_layout=True,
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    axes = axes[:, 0]
    a = 0
    if h is not None:
        for r, n in enumerate(h.neurons):
            plot_compartments(axes[a], t, np.asarray(h.V[r]), np.asarray(h.V_b[r]), np.asarray(h.V_a[r]), phases,
                              alpha_f=float(h.alpha_f[r]),
                              alpha_t=None if h.alpha_t is None else float(h.alpha_t[r]),
                              title=f"hidden layer {layer}, neuron {n} ({int(h.spike_count[n])} spikes)")
            a += 1
    plot_output_voltages(axes[a], t, np.asarray(res.output.V), phases, label=res.label if res.mode == "train" else None,
                         predicted=res.predicted)
    a += 1
    if h is not None:
        plot_raster(axes[a], np.asarray(h.spike_t / ms), h.spike_i, len(h.spike_count), phases,
                    title=f"hidden layer {layer} spikes (shown neurons in colour)", highlight=h.neurons)
        a += 1
    plot_raster(axes[a], np.asarray(res.output.spike_t / ms), res.output.spike_i, len(res.output.spike_count), phases,
                title="output layer spikes" + (f" (target {res.label} in colour)" if res.mode == "train" else ""),
                highlight=[res.label] if res.mode == "train" else None)
    axes[a].set_xlabel("time (ms)")
    image = f"test image {res.image}" if res.image is not None else "given pixels"
    fig.suptitle(f"{image}, label {res.label}, {'training example' if res.mode == 'train' else 'test presentation'}; "
                 f"answer {res.predicted}", fontsize=10)
    try:
        savefig_atomic(fig, out / "trace.png", dpi=110)
    finally:
        plt.close(fig)
    info = {
        "weights": None if weights is None else str(weights), "image": res.image, "label": res.label,
        "mode": res.mode, "predicted": res.predicted, "seed": res.seed, "layer": layer,
        "output_Vbar_f": [float(v) for v in res.output_Vbar_f],
        "phases_ms": {k: list(v) for k, v in phases.items()},
        "settle_ms": float(res.params.settle / ms), "dt_ms": float(res.dt / ms),
        "output_spike_count": [int(c) for c in res.output.spike_count],
        "hidden": [{"layer": k, "neurons": [int(n) for n in L.neurons],
                    "alpha_f": [float(x) for x in L.alpha_f],
                    "alpha_t": None if L.alpha_t is None else [float(x) for x in L.alpha_t],
                    "spike_count": [int(L.spike_count[n]) for n in L.neurons],
                    "layer_spikes": int(L.spike_count.sum())} for k, L in enumerate(res.hidden)],
        "config": res.config,
    }
    atomic_write_text(out / "trace.json", json.dumps(info, indent=2), tmp=out / "trace.json.tmp")
    return info


def cmd_trace(argv) -> int:
    ap = OneLineParser(prog="python -m brian_segdend trace",
                       description="One example through a trained network (weights.npz): the somatic, basal and "
                                   "apical potentials of chosen hidden neurons over the forward and target phases "
                                   "with the averaging windows and plateaus, the output somas with the target, and "
                                   "spike rasters (trace.png, trace.json).")
    ap.add_argument("--weights", required=True, help="weights.npz written by train (it records its configuration)")
    ap.add_argument("--image", required=True, type=nonneg_int, help="index of the image in the MNIST test set")
    ap.add_argument("--label", type=nonneg_int, help="target of the teaching signal (default: the image's label)")
    ap.add_argument("--neurons", default="0,1,2", help="hidden neurons to show, e.g. 0,1,2 (default)")
    ap.add_argument("--layer", type=nonneg_int, default=0, help="hidden layer whose neurons are shown (default 0)")
    ap.add_argument("--mode", choices=["train", "test"], default="train",
                    help="train: forward then target phase (default); test: one forward phase of test_duration")
    ap.add_argument("--seed", type=seed_int, help="seed of the input spikes (default: the run's)")
    ap.add_argument("--from-rest", action="store_true", help="start from rest instead of the state saved with the weights")
    ap.add_argument("--out", help="output folder (default: trace/ next to the weights file)")
    add_set_option(ap)
    args = ap.parse_args(argv)
    from .model.params import ParameterError  # noqa: PLC0415 (lazy: Brian2's import time)
    from .training.simulate import simulate  # noqa: PLC0415 (lazy: Brian2's import time)
    from .training.train import load_weights  # noqa: PLC0415 (lazy: Brian2's import time)
    neurons = _neuron_indices(args.neurons)
    loaded = load_weights(args.weights)
    n_hidden = len(loaded[0]["W"]) - 1
    if n_hidden and args.layer >= n_hidden:
        raise ParameterError(f"parameter 'layer' (--layer): the network has {n_hidden} hidden layer(s) "
                             f"(0 .. {n_hidden - 1}), got {args.layer}")
    res = simulate(loaded, args.image, label=args.label, mode=args.mode,
                   neurons={args.layer: neurons} if n_hidden else None, seed=args.seed,
                   from_rest=args.from_rest, user_params=dict(args.user_params or []))
    out = Path(args.out) if args.out else Path(args.weights).resolve().parent / "trace"
    info = write_trace(res, out, layer=args.layer, weights=args.weights)
    for h in info["hidden"]:
        print(f"hidden layer {h['layer']}: neurons {h['neurons']}, alpha_f {[round(x, 4) for x in h['alpha_f']]}"
              + (f", alpha_t {[round(x, 4) for x in h['alpha_t']]}" if h["alpha_t"] else ""))
    print(f"test image {args.image}, label {res.label}: answer {res.predicted}")
    print(f"wrote {out / 'trace.png'}, {out / 'trace.json'}")
    return 0


def _plot_confusion(res: dict, path: Path):
    import matplotlib  # noqa: PLC0415 (start-up cost: matplotlib is imported only when a figure is drawn)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (start-up cost: matplotlib is imported only when a figure is drawn)
    import numpy as np  # noqa: PLC0415 (start-up cost: --help stays free of NumPy)

    from .training.safeio import savefig_atomic  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    c = np.asarray(res["confusion"], dtype=float)
    frac = c / np.maximum(c.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5, 4.2), constrained_layout=True)
    im = ax.imshow(frac, cmap="viridis", vmin=0, vmax=1)
    for i in range(10):
        for j in range(10):
            if c[i, j]:
                ax.text(j, i, f"{int(c[i, j])}", ha="center", va="center", fontsize=6,
                        color="black" if frac[i, j] > 0.5 else "white")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("network's answer")
    ax.set_ylabel("true digit")
    ax.set_title(f"test error {100 * res['test_error']:.2f}% (n = {res['n']})")
    fig.colorbar(im, ax=ax, label="fraction of the digit's images")
    try:
        savefig_atomic(fig, path, dpi=120)
    finally:
        plt.close(fig)


def cmd_data(argv) -> int:
    ap = OneLineParser(prog="python -m brian_segdend data",
                                 description="Summary of the MNIST data the loader finds.")
    ap.add_argument("--data", help="directory of IDX files (default: $BRIAN_SEGDEND_MNIST or the embedded copy)")
    args = ap.parse_args(argv)
    from .training.data import load_mnist  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    print(load_mnist(source=args.data).summary())
    return 0


def cmd_cache(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m brian_segdend cache",
                                 description="Sizes of the compiled-network cache ($BRIAN_SEGDEND_BUILD_DIR, "
                                             "default ~/.cache/brian_segdend/builds), and cleaning it.")
    ap.add_argument("--clean", action="store_true", help="remove build folders (all, or see --unused-days)")
    ap.add_argument("--unused-days", type=float, metavar="N",
                    help="with --clean: only folders not built or run for N days")
    args = ap.parse_args(argv)
    from .standalone.buildcache import build_root, cache_report, clean_cache  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    if args.unused_days is not None and not (args.unused_days >= 0):
        ap.error("--unused-days: must be a number >= 0")
    root = build_root(create=False)
    if args.clean:
        freed = clean_cache(root, older_than_days=args.unused_days)
        print(f"freed {freed / 1e6:.1f} MB in {root}")
        return 0
    entries = cache_report(root)
    now = time.time()
    for e in entries:
        print(f"{e['bytes'] / 1e6:9.1f} MB  {(now - e['last_used']) / 86400:6.1f} days  {e['name']}  {e['state']}")
    print(f"{sum(e['bytes'] for e in entries) / 1e6:9.1f} MB  in {len(entries)} build folder(s) under {root}")
    return 0


def _delegate(module: str, func: str = "main"):
    def run(argv):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            print(f"error: this command is not available yet ({e})", file=sys.stderr)
            return 2
        return getattr(mod, func)(argv) or 0
    return run


COMMANDS = {
    "main": cmd_main,
    "train": cmd_train,
    "fig10": _delegate("brian_segdend.studies.fig10"),
    "compare": _delegate("brian_segdend.studies.compare"),
    "compare-mnist": _delegate("brian_segdend.studies.compare_mnist"),
    "data": cmd_data,
    "evaluate": cmd_evaluate,
    "receptive-fields": cmd_receptive_fields,
    "trace": cmd_trace,
    "cache": cmd_cache,
    "sweep": _delegate("brian_segdend.studies.sweep"),
    "paper": _delegate("brian_segdend.studies.fig6", "paper_main"),
}


def main(argv=None) -> int:
    """``python -m brian_segdend <command> [options]``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__.strip())
        if argv and argv[0] not in ("-h", "--help"):
            print(f"\nerror: unknown command {argv[0]!r}", file=sys.stderr)
            return 2
        return 0
    previous = _install_signal_handlers()
    try:
        return _run_command(argv)
    finally:
        _restore_signal_handlers(previous)


def _run_command(argv) -> int:
    from .model.equations import EquationFileError  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    from .model.params import ParameterError  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    from .standalone.buildcache import BuildError  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    from .training.data import DataError  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    from .training.train import TrainingError  # noqa: PLC0415 (start-up cost: --help stays free of Brian2)
    try:
        return COMMANDS[argv[0]](argv[1:])
    except (ParameterError, EquationFileError) as e:
        return fail(_one_line(e))                 # configuration: exit 2, before anything is built
    except BuildError as e:                       # compiler or binary problem: the message names the log
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (TrainingError, DataError, OSError) as e:
        what = f"{e.filename}: {e.strerror}" if isinstance(e, OSError) and e.filename and e.strerror else e
        print(f"error: {_one_line(what)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        code = 128 + e.signum if isinstance(e, Terminated) else 130
        what = "terminated" if isinstance(e, Terminated) else "interrupted"
        print(f"\n{what}; the last checkpoint is kept (run again with --resume)", file=sys.stderr)
        return code
    except Exception:   # a bug: show it, but caught here Brian2 does not leave crash reports in /tmp
        traceback.print_exc()
        print("error: unexpected internal error (traceback above); please report it", file=sys.stderr)
        return 1


def _one_line(e) -> str:
    return " ".join(str(e).split("\n"))
