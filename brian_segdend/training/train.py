"""Training runs: epochs of compiled chunks, checkpoints, resume, results.

A run trains the network of :mod:`brian_segdend.model.network` on an MNIST subset. Each epoch is
the training set shuffled (seeded) and shown once; after each epoch the test set is
classified. The compiled binary runs in chunks of a few thousand examples; between
chunks the weights come back to Python, the run reports progress and writes an atomic,
checksummed checkpoint. Killing the process at any moment and starting it again with
``resume=True`` continues from the last checkpoint and ends with the same numbers as an
uninterrupted run: every random number depends only on (seed, epoch, chunk), never on
where a run was stopped.

Output folder
-------------
``results.json``       config, initial_test_error, epochs [...], examples_per_second, ...
``weights.npz``        final W0.., b0.., Y0.. (ms and plain numbers) and the run's configuration and
                       provenance (:func:`load_weights`)
``learning_curve.png`` test error per epoch
``checkpoint.npz``     last chunk boundary (``checkpoint.prev.npz``: the one before)
``run.lock``           locked (flock) while a run owns the folder
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import socket
import sys
import time
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path

import brian2
import numpy as np
import tomllib
import yaml

from .. import __version__
from ..model.contract import validation_namespace
from ..model.equations import default_equation_dir, load_all, resolve_user_params, user_params
from ..model.network import SegDendNetwork, initial_weights
from ..model.params import ModelParams, ParameterError, is_integer, is_number, layer_sizes_tuple
from ..model.quantities import format_quantity
from ..model.schedule import pack_chunk, phase_lengths
from .checkpoints import load_checkpoint, save_checkpoint, state_arrays, state_from_arrays
from .data import load_mnist, subset, subset_indices
from .errors import CheckpointError, DivergenceError, RunLockedError, TrainingError
from .lock import RunLock
from .options import MAX_SEED
from .safeio import atomic_open, atomic_write_text, open_nofollow, remove_file, savefig_atomic

__all__ = ["TrainConfig", "TrainingError", "CheckpointError", "RunLockedError", "DivergenceError",
           "train_run", "check_output_folder", "load_config_file", "classify", "save_checkpoint", "load_checkpoint",
           "seed_for", "config_key", "load_weights", "evaluate", "provenance", "check_provenance",
           "check_resume_config", "config_differences", "data_digest", "effective_params", "recorded_config", "write_results_text",
           "write_weights", "format_duration", "save_learning_curve"]


# -------------------------------------------------------------------------- configuration
MAX_EXAMPLES = 10 ** 11    # epochs x train_size: about 3 years at 1,000 examples/s

_OPTIONS = {"train_size": "--train-size", "test_size": "--test-size", "chunk_steps": "--chunk-steps",
            "data_source": "--data", "fast_rng": "--fast-rng"}


def _opt(name: str) -> str:
    """A parameter's name with its command-line option: ``'train_size' (--train-size)``."""
    return f"'{name}' ({_OPTIONS.get(name, '--' + name.replace('_', '-'))})"


def _available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_output_folder(out) -> Path:
    """``--out`` must be a folder that can be created and written; raise ParameterError if not."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{out} (--out): exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ParameterError(f"{out} (--out): cannot create the output folder ({e.strerror or e})") from None
    probe = out / f".write-test-{os.getpid()}"
    try:
        fd = open_nofollow(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ParameterError(f"{out} (--out): output folder is not writable ({e.strerror or e})") from None
    return out


@dataclass
class TrainConfig:
    """Everything that defines a training run (the effective configuration is saved)."""

    hidden: tuple = (500,)
    train_size: int = 10_000
    test_size: int = 2_000
    epochs: int = 1
    seed: int = 1
    out: str = "results/train"
    device: str = "cpp_standalone"
    chunk_steps: int = 300_000        # ~2,900 training examples per compiled run
    data_source: str | None = None    # directory of IDX files (default: embedded MNIST)
    precision: str = "float64"        # float32: ~13% faster compiled code (SegDendNetwork)
    fast_rng: bool = False            # opt-in xoshiro256+ rand() (brian_segdend.standalone.fastrng)
    divergence_limit: float = 1e4     # |W| or |V| above this stops the run
    monitor_size: int = 0             # >0: test on this many held-out test images after every chunk
    model: dict = field(default_factory=dict)   # ModelParams fields (plain numbers, docs/MODEL.md units)

    def __post_init__(self):
        self.hidden = layer_sizes_tuple(self.hidden)
        for name in ("train_size", "test_size", "epochs", "chunk_steps"):
            v = getattr(self, name)
            if not is_integer(v) or v < 1:
                raise ParameterError(f"parameter {_opt(name)}: must be a positive integer, got {v!r}")
        if not is_integer(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise ParameterError(f"parameter {_opt('seed')}: must be an integer in 0 .. 2**63 - 1, got {self.seed!r}")
        if self.epochs * self.train_size > MAX_EXAMPLES:
            raise ParameterError(
                f"parameters {_opt('epochs')} x {_opt('train_size')}: {self.epochs * self.train_size:.3g} training "
                f"examples would take about {self.epochs * self.train_size / 1000 / 3.156e7:.3g} years at "
                f"1,000 examples/s (at most {MAX_EXAMPLES:.3g})")
        for name in ("out", "data_source"):
            v = getattr(self, name)
            if not (v is None and name == "data_source") and (not isinstance(v, (str, os.PathLike)) or str(v) == ""):
                raise ParameterError(f"parameter {_opt(name)}: must be a folder name, got {v!r}")
        if not is_number(self.divergence_limit) or not (0 < float(self.divergence_limit) < math.inf):
            raise ParameterError(f"parameter 'divergence_limit': must be a positive finite number, "
                                 f"got {self.divergence_limit!r}")
        if self.device not in ("cpp_standalone", "runtime"):
            raise ParameterError(f"parameter {_opt('device')}: 'cpp_standalone' or 'runtime', got {self.device!r}")
        if self.precision not in ("float64", "float32"):
            raise ParameterError(f"parameter {_opt('precision')}: 'float64' or 'float32', got {self.precision!r}")
        if not isinstance(self.fast_rng, bool):
            raise ParameterError(f"parameter {_opt('fast_rng')}: true or false, got {self.fast_rng!r}")
        if self.device == "runtime" and (self.precision != "float64" or self.fast_rng):
            raise ParameterError("parameters 'precision'/'fast_rng': float32 and the fast generator need "
                                 "device cpp_standalone")
        if not is_integer(self.monitor_size) or isinstance(self.monitor_size, bool) or self.monitor_size < 0:
            raise ParameterError(f"parameter {_opt('monitor_size')}: must be a non-negative integer, "
                                 f"got {self.monitor_size!r}")
        if not isinstance(self.model, dict):
            raise ParameterError(f"parameter 'model': must be a table of model parameters, got {self.model!r}")
        params = self.model_params()
        self.check_chunk(params)
        if "user_params" in self.model:      # one spelling per value (the resume key compares them)
            self.model["user_params"] = {k: format_quantity(v) for k, v in sorted(params.user_params.items())}

    def check_chunk(self, params: ModelParams):
        """A compiled chunk must hold at least one training example and one test example."""
        test = params.steps("test_duration")
        # a training example: two phases of phase_min plus a Wald-distributed extra each; the
        # extra is checked against the drawn lengths too (train_run), this is the typical size
        train = 2 * (params.steps("phase_min") + int(math.ceil(float(params.wald_mean / params.dt))))
        for what, n in (("test example ('test_duration')", test), ("training example (2 x 'phase_min')", train)):
            if n > self.chunk_steps:
                raise ParameterError(
                    f"parameter {_opt('chunk_steps')}: a {what} needs {n} time steps but a chunk has only "
                    f"{self.chunk_steps}; a chunk must hold at least one example")

    def estimate_memory(self, params: ModelParams | None = None) -> int:
        """Rough peak bytes of a run besides the data set: synapses and chunk schedules.

        Each weight (W and the feedback Y) costs about 56 bytes: float64 values in the Python
        state, in the state a compiled run returns, in the checkpoint being written and in the
        compiled program (4 x 8), the program's pre/post indices (2 x 4) and Brian2's int64
        index arrays while the synapses are created (2 x 8). Each time step of a chunk has ten
        float64 schedule entries, in Python and in the compiled program; each example of a
        chunk an image row, likewise.
        """
        params = params or self.model_params()
        sizes = params.layer_sizes
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        feedback = sum(sizes[k] * sizes[-1] for k in range(1, len(sizes) - 1))
        capacity = self.chunk_steps // max(1, 2 * params.steps("phase_min")) + 1
        return int(56 * (weights + feedback) + 2 * 8 * (10 * self.chunk_steps + capacity * sizes[0]))

    def check_resources(self, data, available: int | None = None):
        """Sizes against the data set and memory; raise ParameterError before anything is built."""
        params = self.model_params()
        for name, n, have in (("train_size", self.train_size, len(data.train_labels)),
                              ("test_size", self.test_size, len(data.test_labels)),
                              ("monitor_size", self.monitor_size, len(data.test_labels))):
            if n > have:
                raise ParameterError(f"parameter {_opt(name)}: {n} images asked for, the data set "
                                     f"({data.source}) has {have}")
        n_pixels = data.train_images.shape[1]
        n_classes = int(max(data.train_labels.max(), data.test_labels.max())) + 1
        if params.n_input != n_pixels:
            raise ParameterError(f"parameter 'n_input': {params.n_input}, but the images have {n_pixels} pixels")
        if params.n_output != n_classes:
            raise ParameterError(f"parameter 'n_output': {params.n_output}, but the data has {n_classes} classes "
                                 f"(one output neuron per class)")
        need = self.estimate_memory(params)
        available = _available_memory() if available is None else available
        if available is not None and need > available:
            raise ParameterError(
                f"parameters {_opt('hidden')}/{_opt('chunk_steps')}: network "
                f"{'-'.join(map(str, params.layer_sizes))} with {self.chunk_steps} steps per chunk needs about "
                f"{need / 2**30:.1f} GiB of memory, {available / 2**30:.1f} GiB is available")

    def model_params(self) -> ModelParams:
        """The ModelParams of this configuration (units added, validated)."""
        values = dict(self.model)
        values["hidden"] = self.hidden
        return ModelParams.from_mapping(values, source="model parameters")

    def to_dict(self) -> dict:
        """A JSON-ready dictionary (also the checkpoint's configuration)."""
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict, source: str = "configuration") -> TrainConfig:
        """A TrainConfig from a dictionary; unknown or ill-typed keys raise ParameterError naming ``source``."""
        known = {f.name for f in fields(cls)}
        model_known = {f.name for f in fields(ModelParams)}
        top, model = {}, dict(d.get("model", {}) or {})
        for key, value in d.items():
            if key == "model":
                continue
            if key in known:
                top[key] = value
            elif key in model_known:
                model[key] = value        # model parameters may also be given at top level
            else:
                raise ParameterError(f"{source}: unknown parameter '{key}'")
        unknown = sorted(set(model) - model_known)
        if unknown:
            # parameters declared in the equation files ([model] g_la = "0.02/ms")
            declared = user_params(load_all(validation_namespace(), default_equation_dir()))
            if set(unknown) - set(declared):
                listed = ", ".join(f"{n} ({up.where})" for n, up in sorted(declared.items())) or "none"
                raise ParameterError(f"{source}: unknown model parameter(s) {sorted(set(unknown) - set(declared))} "
                                     f"(neither a ModelParams field nor declared in an equation file; "
                                     f"declared in the equation files: {listed})")
            own = dict(model.get("user_params") or {})
            for k in unknown:
                own[k] = model.pop(k)
            model["user_params"] = own
        try:
            return cls(**top, model=model)
        except ParameterError as e:
            raise ParameterError(f"{source}: {e}") from None
        except TypeError as e:
            raise ParameterError(f"{source}: {e}") from None


def load_config_file(path) -> dict:
    """Read a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file into a dict."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ParameterError(f"{path}: cannot read configuration file: {e.strerror}") from None
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(raw.decode("utf-8")) or {}
        else:
            raise ParameterError(f"{path}: configuration files must end in .toml, .yaml or .yml")
    except ParameterError:
        raise
    except Exception as e:   # parse errors of either format, or bad encoding
        raise ParameterError(f"{path}: cannot parse configuration: {e}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: configuration must be a table of key = value pairs")
    return data


# -------------------------------------------------------------------------- running
def seed_for(seed: int, *keys) -> int:
    """A 31-bit seed that depends only on the run seed and the keys (epoch, chunk, ...)."""
    ints = [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return int(np.random.SeedSequence([int(seed), *ints]).generate_state(1)[0] % (2 ** 31))


def classify(net, state: dict, images: np.ndarray, labels: np.ndarray, seed: int, tag) -> tuple[float, np.ndarray]:
    """Test error and predictions with a forward phase of ``test_duration`` per image (no learning)."""
    p = net.params
    steps = int(round(float(p.test_duration / p.dt)))
    settle = int(round(float(p.settle / p.dt)))
    preds = np.zeros(len(images), dtype=np.int64)
    done, chunk = 0, 0
    while done < len(images):
        sch = pack_chunk(np.full(len(images) - done, steps), net.chunk_steps, settle, train=False)
        sl = slice(done, done + sch.n_examples)
        _, res = net.run_chunk(state, images[sl], labels[sl], sch, seed=seed_for(seed, "test", tag, chunk))
        preds[sl] = np.argmax(res.out_Vbar_f, axis=1)
        done += sch.n_examples
        chunk += 1
    return float(np.mean(preds != labels)), preds


def _check_finite(state: dict, limit: float, where: str):
    for key in ("W", "b", "Y"):
        for k, a in enumerate(state[key]):
            if not np.all(np.isfinite(a)):
                raise DivergenceError(f"{key}{k} became NaN/inf {where}")
            m = float(np.abs(a).max()) if a.size else 0.0
            if m > limit:
                raise DivergenceError(f"{key}{k} exploded (max |{key}{k}| = {m:.3g} > {limit:g}) {where}")
    for name, a in state.get("dynamic", {}).items():
        if not np.all(np.isfinite(a)):
            raise DivergenceError(f"state variable {name} became NaN/inf {where}")


def format_duration(s: float) -> str:
    """A duration in seconds as ``12m05s`` or ``3h07m05s``."""
    s = max(0, int(s))
    return f"{s // 3600}h{(s % 3600) // 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def train_run(config: TrainConfig, resume: bool = False, force: bool = False, log=print, data=None,
              stop_after_chunks: int | None = None, reuse_network: bool = False) -> dict:
    """Run (or resume) a training run; returns the results dict (also written to results.json).

    Parameters
    ----------
    resume : bool
        Continue from ``checkpoint.npz`` in the output folder (falls back to the previous
        checkpoint if the last one is damaged).
    force : bool
        Start afresh even if the folder holds a finished run or a checkpoint.
    data : MNIST, optional
        Already loaded data (default: :func:`brian_segdend.training.data.load_mnist`).
    stop_after_chunks : int, optional
        For tests: raise KeyboardInterrupt after this many training chunks (as a kill would).
    reuse_network : bool
        Keep the compiled network in this process and reuse it for the next run with the same
        architecture, chunking and equation files (only the run-time values change): saves
        Brian2's code generation, several seconds per run. For processes that run many
        trainings one after another (the sweep's workers); results are identical.
    """
    # everything that can be checked is checked before anything is built (issue 13)
    config.check_chunk(config.model_params())
    effective_params(config)       # equation files and their parameters: file:line errors first
    out = check_output_folder(config.out)
    if data is None:
        data = load_mnist(source=config.data_source)
    config.check_resources(data)
    with RunLock(out):
        return _train_locked(config, out, resume, force, log, data, stop_after_chunks, reuse_network)


_KEPT_NETWORK = {}     # reuse_network: the last network of this process and what it was built for


def _network_key(params: ModelParams, config: TrainConfig):
    """Everything that fixes a compiled network besides run-time values (for reuse_network)."""
    texts = tuple(sorted((p.name, p.read_bytes()) for p in default_equation_dir().glob("*.eqs")))
    shape = json.dumps([params.layer_sizes, *(str(getattr(params, k)) for k in ("dt", "test_duration", "phase_min",
                                                                               "feedback", "feedback_signal",
                                                                               "kernel", "plateau_code")),
                        config.chunk_steps, config.device, config.precision, config.fast_rng])
    return shape, texts


def _network_for(params: ModelParams, config: TrainConfig, log, reuse: bool):
    key = _network_key(params, config) if reuse else None
    if reuse and _KEPT_NETWORK.get("key") == key:
        kept = _KEPT_NETWORK["net"]
        active = SegDendNetwork._active() if SegDendNetwork._active is not None else None
        if active is kept and not kept._released:
            kept.set_params(params)
            log("reusing the compiled network of the previous run in this process")
            return kept
    _KEPT_NETWORK.clear()
    net = SegDendNetwork(params, chunk_steps=config.chunk_steps, device=config.device,
                         precision=config.precision, fast_rng=config.fast_rng)
    if reuse:
        _KEPT_NETWORK.update(net=net, key=key)
    return net


def _train_locked(config, out, resume, force, log, data, stop_after_chunks, reuse_network=False):

    results_path = out / "results.json"
    ckpt = out / "checkpoint.npz"
    if results_path.exists() and not force:
        try:
            previous = json.loads(results_path.read_text())
        except ValueError:
            previous = {}
        if previous.get("finished", False):
            done_epochs = len(previous.get("epochs", []))
            if not resume or config.epochs <= done_epochs:
                raise TrainingError(
                    f"{results_path}: this folder holds a finished run of {done_epochs} epoch(s); "
                    f"extend it with --resume --epochs N (N > {done_epochs}), overwrite it with --force, "
                    f"or choose another --out")
            log(f"extending the finished run from {done_epochs} to {config.epochs} epochs")
    if ckpt.exists() and not resume and not force:
        raise TrainingError(f"{ckpt}: this folder holds an unfinished run; use --resume to continue it "
                            f"or --force to start again")
    if force:
        for f in (results_path, ckpt, ckpt.with_name("checkpoint.prev.npz")):
            remove_file(f)      # a link is removed, not followed

    params = effective_params(config)
    cfg_dict = config.to_dict()
    cfg_dict["effective_model"] = params.to_mapping()

    # training images are indexed per chunk (no copy of the training set: memory)
    tr_idx = subset_indices(data.train_labels, config.train_size, seed=config.seed)
    tr_x, tr_y = data.train_images, data.train_labels
    te_x, te_y, te_idx = subset(data.test_images, data.test_labels, config.test_size, seed=config.seed + 1)
    mon_x = mon_y = None
    if config.monitor_size:
        # a fixed held-out subset for tests during an epoch: test images outside the test subset
        # when there are enough (else the first of the test subset), as the authors' code tested
        # every 1,000 examples on 100 images
        rest = np.setdiff1d(np.arange(len(data.test_labels)), te_idx)
        pick = rest if len(rest) >= config.monitor_size else np.arange(len(data.test_labels))
        pick = np.sort(np.random.default_rng(seed_for(config.seed, "monitor")).choice(
            pick, size=min(config.monitor_size, len(pick)), replace=False))
        mon_x, mon_y = data.test_images[pick], data.test_labels[pick]

    # ------------------------------------------------------------------ state
    meta = None
    if resume and (ckpt.exists() or ckpt.with_name("checkpoint.prev.npz").exists()):
        for candidate in (ckpt, ckpt.with_name("checkpoint.prev.npz")):
            if not candidate.exists():
                continue
            try:
                state, meta = load_checkpoint(candidate)
                if candidate != ckpt:
                    log(f"warning: {ckpt} is missing or damaged; resuming from the previous checkpoint {candidate}")
                break
            except CheckpointError as e:
                log(f"warning: {e}")
                state, meta = None, None
        if meta is None:
            raise CheckpointError(f"{ckpt}: no usable checkpoint to resume from (all are damaged); "
                                  f"use --force to start again")
        check_resume_config(meta, cfg_dict, ckpt)
        log(f"resuming from epoch {meta['epoch']}, example {meta['position']} of {config.train_size}")
    elif resume:
        log("no checkpoint found: starting a new run")

    net = _network_for(params, config, log, reuse_network)
    prov = provenance(net, data, config)       # equation files are read: checked before the build
    if meta is not None:
        check_provenance(meta.get("provenance"), prov, ckpt, log)
        meta["config_key"] = config_key(cfg_dict)
        meta["config"] = cfg_dict
        meta["provenance"] = _meta_provenance(prov)
    t_build = time.perf_counter()
    net.build(log=log)
    build_s = time.perf_counter() - t_build

    if meta is None:
        rng = np.random.default_rng(seed_for(config.seed, "init"))
        state = initial_weights(params, rng)
        log(f"network {'-'.join(map(str, params.layer_sizes))}, {config.train_size} training / "
            f"{config.test_size} test images, {config.epochs} epoch(s), seed {config.seed}")
        t0 = time.perf_counter()
        err0, _ = classify(net, state, te_x, te_y, config.seed, "initial")
        log(f"initial test error {err0:.4f} ({time.perf_counter() - t0:.1f} s)")
        meta = {"config_key": config_key(cfg_dict), "config": cfg_dict, "provenance": _meta_provenance(prov),
                "epoch": 0, "position": 0, "chunk": 0,
                "initial_test_error": err0, "epochs": [], "train_wrong": 0, "train_seen": 0,
                "train_wall_s": 0.0, "examples_trained": 0}
        save_checkpoint(ckpt, state, meta)

    settle = int(round(float(params.settle / params.dt)))
    min_steps = int(round(float(params.phase_min / params.dt)))
    wald_mean = float(params.wald_mean / params.dt)
    wald_scale = float(params.wald_scale / params.dt)
    chunks_run = 0
    while meta["epoch"] < config.epochs:
        e = meta["epoch"]
        order = np.random.default_rng(seed_for(config.seed, "order", e)).permutation(config.train_size)
        lengths = phase_lengths(config.train_size, np.random.default_rng(seed_for(config.seed, "phases", e)),
                                min_steps, wald_mean, wald_scale)
        longest = int(lengths.sum(axis=1).max()) if len(lengths) else 0
        if longest > config.chunk_steps:
            raise TrainingError(f"epoch {e + 1}: a training example of {longest} steps (phase lengths drawn "
                                f"from the Wald distribution) does not fit a chunk of {config.chunk_steps} "
                                f"steps; use a larger --chunk-steps")
        epoch_t0 = time.perf_counter()
        while meta["position"] < config.train_size:
            pos = meta["position"]
            sch = pack_chunk(lengths[pos:], config.chunk_steps, settle, train=True)
            idx = tr_idx[order[pos:pos + sch.n_examples]]
            t0 = time.perf_counter()
            new_state, res = net.run_chunk(state, tr_x[idx], tr_y[idx], sch,
                                           seed=seed_for(config.seed, "train", e, meta["chunk"]))
            wall = time.perf_counter() - t0
            where = f"in epoch {e + 1}, examples {pos + 1}-{pos + sch.n_examples}"
            _check_finite(new_state, config.divergence_limit, where)
            state = new_state
            wrong = int(np.sum(np.argmax(res.out_Vbar_f, axis=1) != tr_y[idx]))
            meta["position"] = pos + sch.n_examples
            meta["chunk"] += 1
            meta["train_wrong"] += wrong
            meta["train_seen"] += sch.n_examples
            meta["train_wall_s"] += wall
            meta["examples_trained"] += sch.n_examples
            point = {"examples": e * config.train_size + meta["position"],
                     "train_error": wrong / max(sch.n_examples, 1)}
            if mon_x is not None:
                point["monitor_error"], _ = classify(net, state, mon_x, mon_y, config.seed,
                                                     f"monitor{e}-{meta['chunk']}")
            meta.setdefault("chunks", []).append(point)
            save_checkpoint(ckpt, state, meta)
            rate = meta["examples_trained"] / max(meta["train_wall_s"], 1e-9)
            left = (config.epochs - e) * config.train_size - meta["position"]
            log(f"epoch {e + 1}/{config.epochs}: {meta['position']}/{config.train_size} examples, "
                f"{sch.n_examples / wall:.0f} ex/s, ETA {format_duration(left / rate)}, "
                f"running training error {meta['train_wrong'] / meta['train_seen']:.4f}"
                + (f", monitor test error {point['monitor_error']:.4f} ({len(mon_y)} images)"
                   if mon_x is not None else ""))
            chunks_run += 1
            if stop_after_chunks is not None and chunks_run >= stop_after_chunks:
                raise KeyboardInterrupt(f"stopped after {chunks_run} chunks (test hook)")
        t0 = time.perf_counter()
        test_err, _ = classify(net, state, te_x, te_y, config.seed, e)
        test_wall = time.perf_counter() - t0
        meta["epochs"].append({"epoch": e + 1, "examples": (e + 1) * config.train_size, "test_error": test_err,
                               "train_error": meta["train_wrong"] / max(meta["train_seen"], 1),
                               "wall_s": time.perf_counter() - epoch_t0, "test_wall_s": test_wall})
        log(f"epoch {e + 1}: test error {test_err:.4f} (test {len(te_y)} images in {test_wall:.1f} s, "
            f"{len(te_y) / test_wall:.0f} images/s)")
        meta.update(epoch=e + 1, position=0, train_wrong=0, train_seen=0)
        save_checkpoint(ckpt, state, meta)

    results = {
        "config": cfg_dict,
        "initial_test_error": meta["initial_test_error"],
        "epochs": meta["epochs"],
        "chunks": meta.get("chunks", []),
        "examples_per_second": meta["examples_trained"] / max(meta["train_wall_s"], 1e-9),
        "final_test_error": meta["epochs"][-1]["test_error"] if meta["epochs"] else meta["initial_test_error"],
        "build_s": build_s,
        "network": "-".join(map(str, params.layer_sizes)),
        "user_params": params.to_mapping()["user_params"],
        "provenance": prov,
        "finished": True,
    }
    write_weights(out / "weights.npz", state, {"config": cfg_dict, "provenance": _meta_provenance(prov)})
    write_results_text(results_path, json.dumps(results, indent=2))
    save_learning_curve(results, out / "learning_curve.png")
    log(f"results in {out}")
    return results


#: Configuration entries that may differ when a run is resumed: where it is written, and how
#: many epochs it runs (a finished run is extended with more).
_RESUME_FREE = ("out", "epochs")


def config_key(cfg_dict: dict, legacy: bool = False) -> str:
    """What must match for a checkpoint to be resumed (everything but :data:`_RESUME_FREE`).

    ``legacy``: the key of checkpoints written before session 4, which included ``epochs``.
    """
    free = ("out",) if legacy else _RESUME_FREE
    d = {k: v for k, v in cfg_dict.items() if k not in free}
    # options added later leave the key of runs that use their defaults unchanged
    for k, default in (("precision", "float64"), ("fast_rng", False), ("monitor_size", 0)):
        if d.get(k, default) == default:
            d.pop(k, None)
    # model parameters added later (issue 14), likewise
    if isinstance(d.get("model"), dict) and not d["model"].get("user_params", True):
        d["model"] = {k: v for k, v in d["model"].items() if k != "user_params"}
    eff = d.get("effective_model")
    if isinstance(eff, dict):
        eff = dict(eff)
        if not eff.get("user_params", True):      # no parameters declared in the equation files
            eff.pop("user_params")
        for k, default in (("eta_bias", None), ("rates", "table1"), ("kernel", "exact"),
                           ("init_weight_scale", 1.0), ("test_reset", False), ("plateau_code", "rate")):
            if eff.get(k, default) == default:
                eff.pop(k, None)
        if eff.get("plateau_code", "rate") == "rate":   # (issue 19) burst_scale plays no part in the rate code
            eff.pop("burst_scale", None)
        if eff.get("eta") is not None:      # explicit rates: the preset plays no part
            eff.pop("rates", None)
        # the timing preset only chooses settle / phase_min, which the key holds themselves
        eff.pop("timing", None)
        d["effective_model"] = eff
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()


def check_resume_config(meta: dict, cfg_dict: dict, ckpt) -> None:
    """Raise :class:`CheckpointError` naming each differing entry (both values) if the checkpoint was written by another configuration.

    Checkpoints written before the key left out ``epochs`` are recognised for any epoch count
    (so they can be extended too).
    """
    if meta.get("config_key") == config_key(cfg_dict):
        return
    if "config" not in meta:      # an older checkpoint: its key counted epochs
        for epochs in range(1, 10_001):
            if config_key({**cfg_dict, "epochs": epochs}, legacy=True) == meta.get("config_key"):
                return
        raise CheckpointError(f"{ckpt}: checkpoint belongs to a different configuration (it predates the "
                              f"record of its configuration, so the differences cannot be named); resume "
                              f"with the options it was started with, or use --force")
    diffs = config_differences(meta["config"], cfg_dict)
    raise CheckpointError(f"{ckpt}: checkpoint belongs to a different configuration: "
                          + "; ".join(f"{k}: checkpoint {a!r}, now {b!r}" for k, a, b in diffs)
                          + ". Resume with the checkpoint's values or use --force to start again")


def config_differences(stored: dict, now: dict, prefix: str = "") -> list:
    """``(key, stored value, current value)`` for every entry that differs.

    Nested dicts are flattened as ``effective_model.g_a``; :data:`_RESUME_FREE` is ignored.
    """
    out = []
    for k in sorted(set(stored) | set(now)):
        if not prefix and k in _RESUME_FREE:
            continue
        a, b = stored.get(k), now.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += config_differences(a, b, f"{prefix}{k}.")
        elif json.dumps(a, sort_keys=True, default=str) != json.dumps(b, sort_keys=True, default=str):
            out.append((prefix + k, a, b))
    return out


_DATA_DIGESTS = {}


def data_digest(data) -> str:
    """SHA-256 of the four MNIST arrays (cached per data object: sweeps reuse it)."""
    key = id(data)
    if key not in _DATA_DIGESTS:
        h = hashlib.sha256()
        for a in (data.train_images, data.train_labels, data.test_images, data.test_labels):
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(a.tobytes())
        _DATA_DIGESTS.clear()
        _DATA_DIGESTS[key] = (data, h.hexdigest())   # keep data alive: the id stays unique
    return _DATA_DIGESTS[key][1]


def _git_commit() -> str | None:
    head = Path(__file__).resolve().parents[1] / ".git"
    try:
        if head.is_file():                       # a worktree: "gitdir: <path>"
            head = Path(head.read_text().split(":", 1)[1].strip())
        ref = (head / "HEAD").read_text().strip()
        if ref.startswith("ref: "):
            ref_file = head / ref[5:]
            if ref_file.exists():
                return ref_file.read_text().strip()
            common = head / "commondir"
            base = (head / common.read_text().strip()).resolve() if common.exists() else head
            packed = base / "packed-refs"
            ref_file = base / ref[5:]
            if ref_file.exists():
                return ref_file.read_text().strip()
            for line in packed.read_text().splitlines() if packed.exists() else []:
                if line.endswith(" " + ref[5:]):
                    return line.split()[0]
            return None
        return ref
    except (OSError, IndexError):
        return None


def provenance(net, data, config) -> dict:
    """Where a run's numbers come from.

    Equation files (path, SHA-256, text), data (source, SHA-256), the compiled build, package
    versions, git commit, command line and seed.
    """
    return {
        "equation_files": {name: {"path": str(f.path), "sha256": hashlib.sha256(f.text.encode()).hexdigest(),
                                  "text": f.text} for name, f in sorted(net.files.items())},
        "data": {"source": str(getattr(data, "source", "unknown")), "sha256": data_digest(data)},
        "build": getattr(net, "build_hash", None),
        "versions": {"brian_segdend": __version__, "brian2": brian2.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "git_commit": _git_commit(),
        "command": list(sys.argv),
        "seed": config.seed,
        "host": socket.gethostname(),
    }


def _meta_provenance(prov: dict) -> dict:
    """The provenance stored in checkpoints and weights: without the equation files' text."""
    out = dict(prov)
    out["equation_files"] = {n: {k: v for k, v in f.items() if k != "text"} for n, f in prov["equation_files"].items()}
    return out


def check_provenance(stored: dict | None, now: dict, ckpt, log=print) -> None:
    """Refuse to resume with other equation files or other data than the checkpoint's."""
    if not stored:
        log(f"warning: {ckpt} predates provenance records: equation files and data are not checked")
        return
    changed = []
    old_files, new_files = stored.get("equation_files", {}), now["equation_files"]
    for name in sorted(set(old_files) | set(new_files)):
        a, b = old_files.get(name, {}).get("sha256"), new_files.get(name, {}).get("sha256")
        if a != b:
            path = new_files.get(name, old_files.get(name, {})).get("path", name)
            changed.append(f"equation file {path} changed (SHA-256 {str(a)[:12]} -> {str(b)[:12]})")
    if stored.get("data", {}).get("sha256") != now["data"]["sha256"]:
        changed.append(f"data changed ({stored.get('data', {}).get('source')} -> {now['data']['source']}, "
                       f"SHA-256 {str(stored.get('data', {}).get('sha256'))[:12]} -> {now['data']['sha256'][:12]})")
    if changed:
        raise CheckpointError(f"{ckpt}: cannot resume: " + "; ".join(changed)
                              + ". Restore them, or use --force to start again")


def recorded_config(weights, meta: dict, user_params: dict | None, what: str) -> dict:
    """The training configuration a weights file records (``TrainConfig.from_dict`` form).

    ``user_params`` (name -> value) override the run's own values of the parameters declared in
    the equation files; ``what`` names the command in the error for a file without a record.
    """
    stored = dict(meta.get("config") or {})
    if not stored:
        raise TrainingError(f"{weights}: this weights file does not record its configuration (written before "
                            f"provenance records); {what} needs a weights.npz from a current training run")
    effective = stored.pop("effective_model", None) or {}
    recorded = {**(effective.get("user_params") or {}), **(user_params or {})}
    if recorded:
        stored["model"] = {**(stored.get("model") or {}), "user_params": recorded}
    return stored


def evaluate(weights, test_size: int | None = None, seed: int | None = None, data=None, log=print,
             user_params: dict | None = None) -> dict:
    """Test a saved network (``weights.npz`` of a training run) on the MNIST test set.

    With the defaults (the run's own test size and seed) the test images, the random streams
    and the starting state are those of the run's final test, so the test error equals the one
    ``results.json`` reports. Returns ``test_error``, ``per_class_error`` (10 values),
    ``confusion`` (10 x 10 counts, rows: true digit, columns: answer), ``n``, the run's
    configuration and the weights file. ``user_params`` (name -> value) changes parameters declared in
    the equation files; by default the run's own values are used.
    """
    state, meta = load_weights(weights)
    stored = recorded_config(weights, meta, user_params, "evaluate")
    if test_size is not None:
        stored["test_size"] = test_size
    if seed is not None:
        stored["seed"] = seed
    config = TrainConfig.from_dict(stored, source=f"{weights} (recorded configuration)")
    if data is None:
        data = load_mnist(source=config.data_source)
    if config.test_size > len(data.test_labels):
        raise ParameterError(f"--test-size: at most {len(data.test_labels)} test images, got {config.test_size}")
    params = effective_params(config)
    net = SegDendNetwork(params, chunk_steps=config.chunk_steps, device=config.device,
                         precision=config.precision, fast_rng=config.fast_rng)
    net.build(log=log)
    te_x, te_y, _ = subset(data.test_images, data.test_labels, config.test_size, seed=config.seed + 1)
    tag = config.epochs - 1          # the tag of the run's final test
    err, preds = classify(net, state, te_x, te_y, config.seed, tag)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (te_y, preds), 1)
    per_class = [float(1 - confusion[k, k] / max(confusion[k].sum(), 1)) for k in range(10)]
    return {"weights": str(weights), "test_error": err, "n": int(len(te_y)), "per_class_error": per_class,
            "confusion": confusion.tolist(), "config": config.to_dict(), "seed": config.seed,
            "user_params": params.to_mapping()["user_params"]}


def effective_params(config: TrainConfig) -> ModelParams:
    """The run's ModelParams with the value of every parameter declared in the equation files.

    ``config.model['user_params']`` over the files' ``#: param`` defaults.

    Raises EquationFileError (``file:line``) for a broken equation file or a declared parameter
    without a value, ParameterError for an undeclared name or a value with the wrong units.
    """
    params = config.model_params()
    files = load_all(validation_namespace(), default_equation_dir())
    values = resolve_user_params(files, params.user_params, "--set / [model]")
    return params.replace(user_params=values)


def write_results_text(path: Path, text: str):
    """Write a run's text output (``results.json``) atomically through ``<path>.tmp``."""
    atomic_write_text(path, text, tmp=path.with_suffix(path.suffix + ".tmp"))


def write_weights(path: Path, state: dict, meta: dict | None = None):
    """``weights.npz``.

    W0.., b0.., Y0.., the network's dynamic state at the end of training
    (``dyn:<group>.<variable>``, so that an evaluation reproduces the final test exactly) and,
    under ``__meta__``, the run's configuration and provenance as JSON (uint8 bytes;
    :func:`load_weights` reads all of it).
    """
    arrays = dict(state_arrays(state))       # with the dynamic state: evaluation continues from it
    if meta is not None:
        arrays["__meta__"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    with atomic_open(path, tmp=path.with_suffix(".tmp")) as f:
        np.savez(f, **arrays)


def load_weights(path) -> tuple[dict, dict]:
    """Read ``weights.npz``: ``({"W": [...], "b": [...], "Y": [...]}, meta)``.

    ``meta`` holds the run's ``config`` and ``provenance`` (empty for files written before they
    were recorded).
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise TrainingError(f"{path}: weights file not found") from None
    except Exception as e:
        raise TrainingError(f"{path}: weights file is damaged or not an .npz file ({type(e).__name__}: {e})") from None
    meta = {}
    if "__meta__" in arrays:
        try:
            meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
        except ValueError:
            raise TrainingError(f"{path}: weights file metadata is damaged") from None
    state = state_from_arrays(arrays)
    if not state["W"]:
        raise TrainingError(f"{path}: no weight matrices W0, W1, ... in this file")
    return state, meta


def save_learning_curve(results: dict, path: Path):
    """Draw ``learning_curve.png`` (test error per epoch) from a run's results."""
    import matplotlib  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)

    from ..plotting import plot_learning_curve  # noqa: PLC0415 (lazy: matplotlib is imported only when a figure is drawn; start-up cost)
    fig, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
    plot_learning_curve(ax, results)
    try:
        savefig_atomic(fig, path, dpi=120)
    finally:
        plt.close(fig)
