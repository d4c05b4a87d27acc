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
sweep          many training runs (grid/list of configurations x seeds) on Dask distributed
paper fig6     Figure 6B: 784-10, 784-500-10, 784-500-100-10 trained for 60 epochs (on the sweep engine)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main", "train_parser", "config_from_args"]


def _int_list(text: str) -> tuple:
    text = text.strip()
    if text in ("0", "", "none"):
        return ()
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _float_list(text: str) -> tuple:
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def train_parser(prog="python -m brian_segdend train") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description="Train the segregated-dendrite network on MNIST "
                                 "(compiled with Brian2 cpp_standalone; checkpoints after every chunk).")
    ap.add_argument("--config", help="TOML or YAML file with parameters (command-line options override it)")
    ap.add_argument("--hidden", type=_int_list, help="hidden layer sizes, e.g. 500 or 500,100; 0 for none (default 500)")
    ap.add_argument("--train-size", type=int, help="training images (class-stratified subset; default 10000)")
    ap.add_argument("--test-size", type=int, help="test images (default 2000)")
    ap.add_argument("--epochs", type=int, help="epochs (default 1)")
    ap.add_argument("--seed", type=int, help="seed for everything (default 1)")
    ap.add_argument("--out", help="output folder (default results/train)")
    ap.add_argument("--resume", action="store_true", help="continue from the folder's last checkpoint")
    ap.add_argument("--force", action="store_true", help="overwrite a finished run or a checkpoint in the folder")
    ap.add_argument("--eta", type=_float_list, help="learning rates bottom to top, e.g. 0.21,0.21 (default: Table 1)")
    ap.add_argument("--g-a", type=float, help="apical -> soma conductance in 1/ms (default 0; paper: 0, 0.05, 0.6)")
    ap.add_argument("--feedback", choices=["random", "sparse", "symmetric", "symmetric_noise"],
                    help="feedback weights Y (default random)")
    ap.add_argument("--test-duration", type=float, help="test phase per image in ms (default 250; paper 500)")
    ap.add_argument("--plateau-sd", type=float, help="sd in ms of per-neuron plateau times (0 = off; paper sqrt(3))")
    ap.add_argument("--device", choices=["cpp_standalone", "runtime"], help="Brian2 device (runtime: debugging)")
    ap.add_argument("--chunk-steps", type=int, help="time steps per compiled run (default 300000)")
    ap.add_argument("--data", help="directory of MNIST IDX files (default: $BRIAN_SEGDEND_MNIST or the embedded copy)")
    ap.add_argument("--precision", choices=["float64", "float32"],
                    help="floating-point type of the compiled simulation (default float64; float32 is ~13%% faster)")
    ap.add_argument("--fast-rng", action="store_true", default=None,
                    help="xoshiro256+ instead of Brian2's generator for rand() (~3%% faster; another random stream)")
    return ap


def config_from_args(args) -> "TrainConfig":
    from .train import TrainConfig, load_config_file
    values = load_config_file(args.config) if args.config else {}
    model = dict(values.pop("model", {}) or {})
    direct = {"hidden": args.hidden, "train_size": args.train_size, "test_size": args.test_size,
              "epochs": args.epochs, "seed": args.seed, "out": args.out, "device": args.device,
              "chunk_steps": args.chunk_steps, "data_source": args.data, "precision": args.precision,
              "fast_rng": args.fast_rng}
    for k, v in direct.items():
        if v is not None:
            values[k] = v
    model_opts = {"eta": args.eta, "g_a": args.g_a, "feedback": args.feedback,
                  "test_duration": args.test_duration, "plateau_sd": args.plateau_sd}
    for k, v in model_opts.items():
        if v is not None:
            model[k] = list(v) if isinstance(v, tuple) else v
    values["model"] = model
    return TrainConfig.from_dict(values, source=args.config or "command line")


def _sigterm_as_interrupt():
    """SIGTERM ends a run like Ctrl-C: the lock is released, the last checkpoint kept."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)


def cmd_train(argv) -> int:
    from .train import train_run
    _sigterm_as_interrupt()
    args = train_parser().parse_args(argv)
    config = config_from_args(args)
    res = train_run(config, resume=args.resume, force=args.force)
    print(f"final test error {100 * res['final_test_error']:.2f}% ({res['examples_per_second']:.0f} examples/s)")
    return 0


def cmd_main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m brian_segdend main",
                                 description="The main job: train 784-500-10 for one epoch of 10,000 images, "
                                             "test on 2,000, and run the Figure 10 experiment.")
    ap.add_argument("--out", default="results", help="output folder (default results)")
    ap.add_argument("--train-size", type=int, default=10_000)
    ap.add_argument("--test-size", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-fig10", action="store_true")
    args = ap.parse_args(argv)
    from .train import TrainConfig, train_run
    out = Path(args.out)
    t0 = time.perf_counter()
    cfg = TrainConfig(hidden=(500,), train_size=args.train_size, test_size=args.test_size, epochs=1,
                      seed=args.seed, out=str(out / "train"))
    res = train_run(cfg, force=True)
    summary = [f"784-500-10, {args.train_size} training images, 1 epoch: test error "
               f"{100 * res['initial_test_error']:.1f}% before, {100 * res['final_test_error']:.1f}% after "
               f"({res['examples_per_second']:.0f} training examples/s) -> {out / 'train'}"]
    if not args.skip_fig10:
        from . import fig10
        fig10.main(["--out", str(out / "fig10"), "--seed", str(args.seed)])
        import json
        f = json.loads((out / "fig10" / "fig10.json").read_text())["conditions"]
        summary.append("Figure 10 prediction (basal weight change, % of initial): " + ", ".join(
            f"{k.replace('_', ' ')} {v['dw_percent_mean']:+.2f} ± {v['dw_percent_sem']:.2f}" for k, v in f.items())
            + f" -> {out / 'fig10'}")
    print("\n".join(["", "summary:"] + summary + [f"total {time.perf_counter() - t0:.0f} s"]))
    return 0


def cmd_data(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m brian_segdend data",
                                 description="Summary of the MNIST data the loader finds.")
    ap.add_argument("--data", help="directory of IDX files (default: $BRIAN_SEGDEND_MNIST or the embedded copy)")
    args = ap.parse_args(argv)
    from .data import load_mnist
    print(load_mnist(source=args.data).summary())
    return 0


def _delegate(module: str, func: str = "main"):
    def run(argv):
        import importlib
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
    "fig10": _delegate("brian_segdend.fig10"),
    "compare": _delegate("brian_segdend.compare"),
    "compare-mnist": _delegate("brian_segdend.compare_mnist"),
    "data": cmd_data,
    "sweep": _delegate("brian_segdend.sweep"),
    "paper": _delegate("brian_segdend.fig6", "paper_main"),
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__.strip())
        if argv and argv[0] not in ("-h", "--help"):
            print(f"\nerror: unknown command {argv[0]!r}", file=sys.stderr)
            return 2
        return 0
    from .equations import EquationFileError
    from .params import ParameterError
    from .train import TrainingError
    from .data import DataError
    try:
        return COMMANDS[argv[0]](argv[1:])
    except (EquationFileError, ParameterError, TrainingError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; the last checkpoint is kept (run again with --resume)", file=sys.stderr)
        return 130
