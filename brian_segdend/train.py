"""Training runs: epochs of compiled chunks, checkpoints, resume, results.

A run trains the network of :mod:`brian_segdend.network` on an MNIST subset. Each epoch is
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
``weights.npz``        final W0.., b0.., Y0.. (ms and plain numbers)
``learning_curve.png`` test error per epoch
``checkpoint.npz``     last chunk boundary (``checkpoint.prev.npz``: the one before)
``run.lock``           present while a run owns the folder
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import socket
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
from brian2 import ms

from .params import ModelParams, ParameterError
from .schedule import pack_chunk, phase_lengths

__all__ = ["TrainConfig", "TrainingError", "CheckpointError", "RunLockedError", "DivergenceError",
           "train_run", "load_config_file", "classify", "save_checkpoint", "load_checkpoint"]


class TrainingError(RuntimeError):
    """A run cannot start or continue."""


class CheckpointError(TrainingError):
    """A checkpoint file is damaged, truncated or from another configuration."""


class RunLockedError(TrainingError):
    """Another live process owns the output folder."""


class DivergenceError(TrainingError):
    """Weights or voltages became NaN or exploded."""


# -------------------------------------------------------------------------- configuration
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
    fast_rng: bool = False            # opt-in xoshiro256+ rand() (brian_segdend.fastrng)
    divergence_limit: float = 1e4     # |W| or |V| above this stops the run
    model: dict = field(default_factory=dict)   # ModelParams fields (plain numbers, MODEL.md units)

    def __post_init__(self):
        if isinstance(self.hidden, (int, np.integer)):
            self.hidden = () if int(self.hidden) == 0 else (int(self.hidden),)
        self.hidden = tuple(int(h) for h in self.hidden)
        for name in ("train_size", "test_size", "epochs", "chunk_steps"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ParameterError(f"parameter '{name}': must be a positive integer, got {v!r}")
        if not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ParameterError(f"parameter 'seed': must be a non-negative integer, got {self.seed!r}")
        if self.device not in ("cpp_standalone", "runtime"):
            raise ParameterError(f"parameter 'device': 'cpp_standalone' or 'runtime', got {self.device!r}")
        if self.precision not in ("float64", "float32"):
            raise ParameterError(f"parameter 'precision': 'float64' or 'float32', got {self.precision!r}")
        if not isinstance(self.fast_rng, bool):
            raise ParameterError(f"parameter 'fast_rng': true or false, got {self.fast_rng!r}")
        if self.device == "runtime" and (self.precision != "float64" or self.fast_rng):
            raise ParameterError("parameters 'precision'/'fast_rng': float32 and the fast generator need "
                                 "device cpp_standalone")
        self.model_params()   # validates the model part

    def model_params(self) -> ModelParams:
        values = dict(self.model)
        values["hidden"] = self.hidden
        return ModelParams.from_mapping(values, source="model parameters")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict, source: str = "configuration") -> "TrainConfig":
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
            raise ParameterError(f"{source}: unknown model parameter(s) {unknown}")
        if "hidden" in top and isinstance(top["hidden"], list):
            top["hidden"] = tuple(top["hidden"])
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
            import tomllib
            data = tomllib.loads(raw.decode("utf-8"))
        elif path.suffix in (".yaml", ".yml"):
            import yaml
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


# -------------------------------------------------------------------------- checkpoints
def _state_arrays(state: dict) -> dict:
    arrays = {}
    for key in ("W", "b", "Y"):
        for k, a in enumerate(state[key]):
            arrays[f"{key}{k}"] = np.asarray(a, dtype=np.float64)
    for name, a in state.get("dynamic", {}).items():
        arrays[f"dyn:{name}"] = np.asarray(a, dtype=np.float64)
    return arrays


def _state_from_arrays(arrays: dict) -> dict:
    state = {"W": [], "b": [], "Y": [], "dynamic": {}}
    for key in ("W", "b", "Y"):
        k = 0
        while f"{key}{k}" in arrays:
            state[key].append(arrays[f"{key}{k}"])
            k += 1
    for name, a in arrays.items():
        if name.startswith("dyn:"):
            state["dynamic"][name[4:]] = a
    return state


def _digest(arrays: dict, meta: str) -> str:
    h = hashlib.sha256(meta.encode())
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arrays[name]).tobytes())
    return h.hexdigest()


def save_checkpoint(path, state: dict, meta: dict):
    """Write ``state`` and ``meta`` atomically (temporary file, fsync, rename), with a checksum.

    The previous checkpoint is kept as ``<name>.prev.npz``.
    """
    path = Path(path)
    arrays = _state_arrays(state)
    meta_s = json.dumps(meta, sort_keys=True)
    digest = _digest(arrays, meta_s)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, __meta__=np.frombuffer(meta_s.encode(), dtype=np.uint8),
                 __sha256__=np.frombuffer(digest.encode(), dtype=np.uint8), **arrays)
        f.flush()
        os.fsync(f.fileno())
    if path.exists():
        os.replace(path, path.with_name(path.stem + ".prev.npz"))
    os.replace(tmp, path)
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
    except OSError:
        pass


def load_checkpoint(path) -> tuple[dict, dict]:
    """Read and verify a checkpoint; raise CheckpointError naming the file if it is damaged."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint not found") from None
    except Exception as e:
        raise CheckpointError(f"{path}: checkpoint is damaged or truncated ({type(e).__name__}: {e})") from None
    if "__meta__" not in arrays or "__sha256__" not in arrays:
        raise CheckpointError(f"{path}: not a brian-segdend checkpoint (no metadata or checksum)")
    meta_s = arrays.pop("__meta__").tobytes().decode("utf-8", "replace")
    expected = arrays.pop("__sha256__").tobytes().decode("ascii", "replace")
    if _digest(arrays, meta_s) != expected:
        raise CheckpointError(f"{path}: checkpoint checksum does not match its contents (file damaged)")
    return _state_from_arrays(arrays), json.loads(meta_s)


# -------------------------------------------------------------------------- lock
class RunLock:
    """``run.lock`` holding host and pid; a lock whose process is gone is stale and replaced."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / "run.lock"
        self.held = False

    def acquire(self):
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                other = self._read()
                if other and self._alive(other):
                    raise RunLockedError(
                        f"{self.path}: another run (pid {other.get('pid')} on {other.get('host')}) is using "
                        f"this output folder; wait for it or choose another --out") from None
                print(f"note: removing stale lock {self.path} (pid {other.get('pid') if other else '?'} is gone)",
                      file=sys.stderr)
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return self
        raise RunLockedError(f"{self.path}: could not take the lock")

    def _read(self):
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _alive(info) -> bool:
        if info.get("host") != socket.gethostname():
            return True      # cannot tell for another machine: assume alive
        try:
            os.kill(int(info["pid"]), 0)
        except (ProcessLookupError, ValueError, KeyError, TypeError):
            return False
        except PermissionError:
            return True
        return True

    def release(self):
        if self.held:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


# -------------------------------------------------------------------------- running
def _seed_for(seed: int, *keys) -> int:
    """A 31-bit seed that depends only on the run seed and the keys (epoch, chunk, ...)."""
    import zlib   # a stable hash: Python's hash() of a str changes between processes
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
        _, res = net.run_chunk(state, images[sl], labels[sl], sch, seed=_seed_for(seed, "test", tag, chunk))
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


def _fmt_time(s: float) -> str:
    s = max(0, int(s))
    return f"{s // 3600}h{(s % 3600) // 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def train_run(config: TrainConfig, resume: bool = False, force: bool = False, log=print, data=None,
              stop_after_chunks: int | None = None) -> dict:
    """Run (or resume) a training run; returns the results dict (also written to results.json).

    Parameters
    ----------
    resume : bool
        Continue from ``checkpoint.npz`` in the output folder (falls back to the previous
        checkpoint if the last one is damaged).
    force : bool
        Start afresh even if the folder holds a finished run or a checkpoint.
    data : MNIST, optional
        Already loaded data (default: :func:`brian_segdend.data.load_mnist`).
    stop_after_chunks : int, optional
        For tests: raise KeyboardInterrupt after this many training chunks (as a kill would).
    """
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):
        return _train_locked(config, out, resume, force, log, data, stop_after_chunks)


def _train_locked(config, out, resume, force, log, data, stop_after_chunks):
    from .data import load_mnist, subset, subset_indices
    from .network import SegDendNetwork, initial_weights

    results_path = out / "results.json"
    ckpt = out / "checkpoint.npz"
    if results_path.exists() and not force:
        try:
            done = json.loads(results_path.read_text()).get("finished", False)
        except ValueError:
            done = False
        if done:
            raise TrainingError(f"{results_path}: this folder holds a finished run; use --force to overwrite "
                                f"it or choose another --out")
    if ckpt.exists() and not resume and not force:
        raise TrainingError(f"{ckpt}: this folder holds an unfinished run; use --resume to continue it "
                            f"or --force to start again")
    if force:
        for f in (results_path, ckpt, ckpt.with_name("checkpoint.prev.npz")):
            if f.exists():
                f.unlink()

    params = config.model_params()
    cfg_dict = config.to_dict()
    cfg_dict["effective_model"] = params.to_mapping()

    if data is None:
        data = load_mnist(source=config.data_source)
    # training images are indexed per chunk (no copy of the training set: memory)
    tr_idx = subset_indices(data.train_labels, config.train_size, seed=config.seed)
    tr_x, tr_y = data.train_images, data.train_labels
    te_x, te_y, _ = subset(data.test_images, data.test_labels, config.test_size, seed=config.seed + 1)

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
        if meta["config_key"] != _config_key(cfg_dict):
            raise CheckpointError(f"{ckpt}: checkpoint belongs to a different configuration; "
                                  f"resume with the same options or use --force")
        log(f"resuming from epoch {meta['epoch']}, example {meta['position']} of {config.train_size}")
    elif resume:
        log("no checkpoint found: starting a new run")

    net = SegDendNetwork(params, chunk_steps=config.chunk_steps, device=config.device,
                         precision=config.precision, fast_rng=config.fast_rng)
    t_build = time.perf_counter()
    net.build()
    build_s = time.perf_counter() - t_build

    if meta is None:
        rng = np.random.default_rng(_seed_for(config.seed, "init"))
        state = initial_weights(params, rng)
        log(f"network {'-'.join(map(str, params.layer_sizes))}, {config.train_size} training / "
            f"{config.test_size} test images, {config.epochs} epoch(s), seed {config.seed}")
        t0 = time.perf_counter()
        err0, _ = classify(net, state, te_x, te_y, config.seed, "initial")
        log(f"initial test error {err0:.4f} ({time.perf_counter() - t0:.1f} s)")
        meta = {"config_key": _config_key(cfg_dict), "epoch": 0, "position": 0, "chunk": 0,
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
        order = np.random.default_rng(_seed_for(config.seed, "order", e)).permutation(config.train_size)
        lengths = phase_lengths(config.train_size, np.random.default_rng(_seed_for(config.seed, "phases", e)),
                                min_steps, wald_mean, wald_scale)
        epoch_t0 = time.perf_counter()
        while meta["position"] < config.train_size:
            pos = meta["position"]
            sch = pack_chunk(lengths[pos:], config.chunk_steps, settle, train=True)
            idx = tr_idx[order[pos:pos + sch.n_examples]]
            t0 = time.perf_counter()
            new_state, res = net.run_chunk(state, tr_x[idx], tr_y[idx], sch,
                                           seed=_seed_for(config.seed, "train", e, meta["chunk"]))
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
            save_checkpoint(ckpt, state, meta)
            rate = meta["examples_trained"] / max(meta["train_wall_s"], 1e-9)
            left = (config.epochs - e) * config.train_size - meta["position"]
            log(f"epoch {e + 1}/{config.epochs}: {meta['position']}/{config.train_size} examples, "
                f"{sch.n_examples / wall:.0f} ex/s, ETA {_fmt_time(left / rate)}, "
                f"running training error {meta['train_wrong'] / meta['train_seen']:.4f}")
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
        "examples_per_second": meta["examples_trained"] / max(meta["train_wall_s"], 1e-9),
        "final_test_error": meta["epochs"][-1]["test_error"] if meta["epochs"] else meta["initial_test_error"],
        "build_s": build_s,
        "network": "-".join(map(str, params.layer_sizes)),
        "finished": True,
    }
    _write_weights(out / "weights.npz", state)
    _atomic_write_text(results_path, json.dumps(results, indent=2))
    _save_learning_curve(results, out / "learning_curve.png")
    log(f"results in {out}")
    return results


def _config_key(cfg_dict: dict) -> str:
    """What must match for a checkpoint to be resumed (everything but the output folder and chunking of logs)."""
    d = {k: v for k, v in cfg_dict.items() if k not in ("out",)}
    # options added later leave the key of runs that use their defaults unchanged
    for k, default in (("precision", "float64"), ("fast_rng", False)):
        if d.get(k, default) == default:
            d.pop(k, None)
    # model parameters added later (issue 14), likewise
    eff = d.get("effective_model")
    if isinstance(eff, dict):
        eff = dict(eff)
        for k, default in (("eta_bias", None), ("rates", "table1"), ("kernel", "exact"),
                           ("init_weight_scale", 1.0), ("test_reset", False)):
            if eff.get(k, default) == default:
                eff.pop(k, None)
        d["effective_model"] = eff
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()


def _atomic_write_text(path: Path, text: str):
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _write_weights(path: Path, state: dict):
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **{k: v for k, v in _state_arrays(state).items() if not k.startswith("dyn:")})
    os.replace(tmp, path)


def _save_learning_curve(results: dict, path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from .plotting import plot_learning_curve
    fig, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
    plot_learning_curve(ax, results)
    fig.savefig(path, dpi=120)
    plt.close(fig)
