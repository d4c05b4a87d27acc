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
cache          sizes of the compiled-network cache; --clean [--unused-days N] removes builds
sweep          many training runs (grid/list of configurations x seeds) on Dask distributed
paper fig6     Figure 6B: 784-10, 784-500-10, 784-500-100-10 trained for 60 epochs (on the sweep engine)
"""

from __future__ import annotations

# Imports of the package and of heavy libraries are inside the command functions on purpose:
# `--help`, option and configuration errors answer without importing Brian2, NumPy or Dask.
import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .training.options import OneLineParser, fail, float_list, int_list, nonneg_float, positive_float, positive_int, seed_int

if TYPE_CHECKING:   # only for the annotation; importing training at start-up costs Brian2's import time
    from .training.train import TrainConfig

__all__ = ["main", "train_parser", "config_from_args"]


def train_parser(prog="python -m brian_segdend train") -> argparse.ArgumentParser:
    """The options of ``python -m brian_segdend train`` (also the base of ``sweep``'s)."""
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
    ap.add_argument("--init-weight-scale", type=positive_float,
                    help="factor on the initial weights W and Y (default 1; 0.49: the original code's voltages)")
    ap.add_argument("--test-reset", action=argparse.BooleanOptionalAction, default=None,
                    help="reset the network's state at the start of each test image (as the original code)")
    ap.add_argument("--g-a", type=nonneg_float, help="apical -> soma conductance in 1/ms (default 0; paper: 0, 0.05, 0.6)")
    ap.add_argument("--feedback", choices=["random", "sparse", "symmetric", "symmetric_noise"],
                    help="feedback weights Y (default random)")
    ap.add_argument("--test-duration", type=positive_float, help="test phase per image in ms (default 250; paper 500)")
    ap.add_argument("--plateau-sd", type=nonneg_float, help="sd in ms of per-neuron plateau times (0 = off; paper sqrt(3))")
    ap.add_argument("--device", choices=["cpp_standalone", "runtime"], help="Brian2 device (runtime: debugging)")
    ap.add_argument("--chunk-steps", type=positive_int, help="time steps per compiled run (default 300000)")
    ap.add_argument("--data", help="directory of MNIST IDX files (default: $BRIAN_SEGDEND_MNIST or the embedded copy)")
    ap.add_argument("--precision", choices=["float64", "float32"],
                    help="floating-point type of the compiled simulation (default float64; float32 is ~13%% faster)")
    ap.add_argument("--fast-rng", action="store_true", default=None,
                    help="xoshiro256+ instead of Brian2's generator for rand() (~3%% faster; another random stream)")
    return ap


def config_from_args(args) -> TrainConfig:
    """A TrainConfig from parsed ``train`` options (a ``--config`` file first, options over it)."""
    from .training.train import TrainConfig, load_config_file
    values = load_config_file(args.config) if args.config else {}
    model = values.pop("model", None) or {}
    if not isinstance(model, dict):
        from .model.params import ParameterError
        raise ParameterError(f"{args.config}: parameter 'model': must be a table of model parameters, got {model!r}")
    model = dict(model)
    direct = {"hidden": args.hidden, "train_size": args.train_size, "test_size": args.test_size,
              "epochs": args.epochs, "seed": args.seed, "out": args.out, "device": args.device,
              "chunk_steps": args.chunk_steps, "data_source": args.data, "precision": args.precision,
              "fast_rng": args.fast_rng}
    for k, v in direct.items():
        if v is not None:
            values[k] = v
    model_opts = {"eta": args.eta, "g_a": args.g_a, "feedback": args.feedback,
                  "test_duration": args.test_duration, "plateau_sd": args.plateau_sd,
                  "eta_bias": args.eta_bias, "rates": args.rates, "kernel": args.kernel,
                  "init_weight_scale": args.init_weight_scale, "test_reset": args.test_reset}
    for k, v in model_opts.items():
        if v is not None:
            model[k] = list(v) if isinstance(v, tuple) else v
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
    import signal
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def on_term(signum, frame):
        signal.signal(signum, signal.SIG_IGN)     # a second SIGTERM does not interrupt the clean-up
        raise Terminated(signum)
    signal.signal(signal.SIGTERM, on_term)
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        import brian2  # noqa: F401  (installs its handler)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return previous


def _restore_signal_handlers(previous):
    """Put back the handlers :func:`_install_signal_handlers` found (cli.main called in-process)."""
    import signal
    for sig, handler in previous.items():
        if handler is not None:
            signal.signal(sig, handler)


def cmd_train(argv) -> int:
    from .training.train import train_run
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
    args = ap.parse_args(argv)
    from .training.train import TrainConfig, train_run
    out = Path(args.out)
    t0 = time.perf_counter()
    cfg = TrainConfig(hidden=(500,), train_size=args.train_size, test_size=args.test_size, epochs=1,
                      seed=args.seed, out=str(out / "train"))
    res = train_run(cfg, force=True)
    summary = [f"784-500-10, {args.train_size} training images, 1 epoch: test error "
               f"{100 * res['initial_test_error']:.1f}% before, {100 * res['final_test_error']:.1f}% after "
               f"({res['examples_per_second']:.0f} training examples/s) -> {out / 'train'}"]
    if not args.skip_fig10:
        from .studies import fig10
        fig10.main(["--out", str(out / "fig10"), "--seed", str(args.seed)])
        import json
        f = json.loads((out / "fig10" / "fig10.json").read_text())["conditions"]
        summary.append("Figure 10 prediction (basal weight change, % of initial): " + ", ".join(
            f"{k.replace('_', ' ')} {v['dw_percent_mean']:+.2f} ± {v['dw_percent_sem']:.2f}" for k, v in f.items())
            + f" -> {out / 'fig10'}")
    print("\n".join(["", "summary:"] + summary + [f"total {time.perf_counter() - t0:.0f} s"]))
    return 0


def cmd_data(argv) -> int:
    ap = OneLineParser(prog="python -m brian_segdend data",
                                 description="Summary of the MNIST data the loader finds.")
    ap.add_argument("--data", help="directory of IDX files (default: $BRIAN_SEGDEND_MNIST or the embedded copy)")
    args = ap.parse_args(argv)
    from .training.data import load_mnist
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
    from .standalone.buildcache import build_root, cache_report, clean_cache
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
    "fig10": _delegate("brian_segdend.studies.fig10"),
    "compare": _delegate("brian_segdend.studies.compare"),
    "compare-mnist": _delegate("brian_segdend.studies.compare_mnist"),
    "data": cmd_data,
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
    from .model.equations import EquationFileError
    from .model.params import ParameterError
    from .standalone.buildcache import BuildError
    from .training.data import DataError
    from .training.train import TrainingError
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
        import traceback
        traceback.print_exc()
        print("error: unexpected internal error (traceback above); please report it", file=sys.stderr)
        return 1


def _one_line(e) -> str:
    return " ".join(str(e).split("\n"))
