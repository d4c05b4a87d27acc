"""Why does a network learn as it does? Per-layer diagnostics of a saved network (issue 14).

:func:`diagnose` loads a training run's ``checkpoint.npz`` or ``weights.npz`` (or takes the
initial weights of a run's configuration and seed), freezes the weights (learning rates 0, so
every presentation sees the same network) and presents ``n_images`` training images twice through
a compiled ``SegDendNetwork(learning_records=True)`` build, with the training schedule (settle,
phases of random length, plateaus) and fresh spike noise each time. From the recorded averages
it reports per layer (docs/MODEL.md's equations, :mod:`brian_segdend.model.credit`):

* **saturation**: the fraction of (unit, image) pairs whose forward-phase somatic average has
  sigma'(Vbar^f) < 0.01, where the rule's factor sigma' all but stops learning, and the mean
  sigma';
* **the learning signal's share of variance** (hidden layers): the test-retest correlation of
  the plateau difference alpha^t - alpha^f between the two presentations of the same images
  (:func:`signal_share`): the part of its variance that the image determines, against spike
  and phase-length noise. The same for the hidden error E (the difference times sigma');
* **the angle to backprop** (hidden layers): per image the angle between the rule's update
  dW_k = -eta P E_k sbar^T and backprop's, E_k^BP from the output error E1 carried down through
  the forward weights and each layer's sigma' (:func:`backprop_errors`); its mean and median
  over images, and the angle between the summed updates over all images (a batch).

``python experiments/depth_diagnostics.py RUN_FOLDER ... --images 500`` writes the numbers as JSON.

:func:`continue_with_smaller_steps` asks whether the step size sets a trained network's noise
floor: it continues a saved network for a few epochs with every learning rate scaled (``eta_scale``)
and tests after each (``python experiments/depth_diagnostics.py RUN --anneal 0.25 --anneal-epochs 2``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..model import credit
from ..model.network import SegDendNetwork, initial_weights
from ..model.schedule import pack_chunk, phase_lengths
from ..training.checkpoints import load_checkpoint
from ..training.data import load_mnist, subset, subset_indices
from ..training.errors import TrainingError
from ..training.train import TrainConfig, classify, effective_params, load_weights, recorded_config, seed_for

__all__ = ["backprop_errors", "signal_share", "saturation", "layer_diagnostics", "diagnose", "load_state",
           "continue_with_smaller_steps"]

SATURATED = 0.01     # sigma'(V) below this: the rule's factor all but stops learning (max 0.25)


def backprop_errors(Vbar_f: list, E_out: np.ndarray, W: list, params) -> list:
    """Backprop's error for every hidden layer, bottom to top, from the output error ``E_out``.

    ``Vbar_f``: the hidden layers' forward somatic averages (each (n, n_units) or (n_units,));
    ``W``: all weight matrices bottom to top (ms), ``W[k + 1]`` carrying hidden layer k up.
    The top hidden layer's error is :func:`brian_segdend.model.credit.backprop_hidden_error`
    (k_b phi_max sigma'(Vbar^f) W_out^T E1); each layer below gets the one above carried down
    through its forward weights, E_k^BP = k_b phi_max sigma'(Vbar_k^f) W_{k+1}^T E_{k+1}^BP. With
    the rule's mean-field forward map (Vbar_{k+1} = k_b (W_{k+1} phi_max sigma(Vbar_k) + b)) this is
    (k_b / 2) times the gradient of the output loss ||phi* - phi_max sigma(Vbar_out)||^2 with respect
    to Vbar_k: the direction backprop would move each layer.
    """
    errs = [None] * len(Vbar_f)
    below = E_out
    for k in range(len(Vbar_f) - 1, -1, -1):
        below = credit.backprop_hidden_error(Vbar_f[k], below, W[k + 1], params)
        errs[k] = below
    return errs


def signal_share(d1: np.ndarray, d2: np.ndarray) -> float:
    """Test-retest share of variance: corr(d1, d2) over all (image, unit) pairs, each unit centred.

    ``d1``, ``d2`` (n_images, n_units): the same quantity on two presentations of the same images
    to the same frozen network. With d = s + noise (s set by the image, noise independent between
    presentations, equal variance) this estimates var(s) / var(d): 1 for a noise-free signal, 0
    for pure noise. Units whose values never vary are left out (nan if none varies).
    """
    d1 = np.asarray(d1, float)
    d2 = np.asarray(d2, float)
    if d1.shape != d2.shape or d1.ndim != 2:
        raise ValueError(f"signal_share needs two arrays of the same (images, units) shape, got {d1.shape} and {d2.shape}")
    a = d1 - d1.mean(axis=0)
    b = d2 - d2.mean(axis=0)
    va, vb = np.sum(a * a), np.sum(b * b)
    if va == 0 or vb == 0:
        return float("nan")
    return float(np.sum(a * b) / np.sqrt(va * vb))


def saturation(Vbar_f: np.ndarray) -> dict:
    """Fraction of (image, unit) pairs with sigma'(Vbar^f) < 0.01, the mean sigma', mean and sd of Vbar^f."""
    s = credit.sigmoid(np.asarray(Vbar_f, float))
    ds = s * (1 - s)
    return {"saturated": float(np.mean(ds < SATURATED)), "mean_sigma_prime": float(ds.mean()),
            "V_mean": float(np.mean(Vbar_f)), "V_sd": float(np.std(Vbar_f))}


def layer_diagnostics(rec1: dict, rec2: dict, W: list, params) -> dict:
    """The numbers of :func:`diagnose` from two learning-records dicts of the same images (frozen weights)."""
    n_h = len(rec1["hidden"])
    out = {"output": saturation(rec1["output"]["Vbar_f"]), "hidden": []}
    E1 = credit.output_error(rec1, params)
    bp = backprop_errors([h["Vbar_f"] for h in rec1["hidden"]], E1, W, params) if n_h else []
    for k in range(n_h):
        h1, h2 = rec1["hidden"][k], rec2["hidden"][k]
        d1, d2 = h1["alpha_t"] - h1["alpha_f"], h2["alpha_t"] - h2["alpha_f"]
        E = credit.hidden_error(rec1, params, k)
        E_2 = credit.hidden_error(rec2, params, k)
        angles = credit.update_angles(E, bp[k])
        below = rec1["input"]["sbar"] if k == 0 else rec1["hidden"][k - 1]["sbar"]
        batch = credit.angle_degrees(E.T @ below, bp[k].T @ below)
        out["hidden"].append({
            **saturation(h1["Vbar_f"]),
            "signal_share_plateau_difference": signal_share(d1, d2),
            "signal_share_E": signal_share(E, E_2),
            "plateau_difference_rms": float(np.sqrt(np.mean(d1 ** 2))),
            "angle_mean_deg": float(np.nanmean(angles)), "angle_median_deg": float(np.nanmedian(angles)),
            "angle_batch_deg": batch,
        })
    out["output"]["signal_share_E"] = signal_share(E1, credit.output_error(rec2, params))
    return out


def load_state(path) -> tuple[dict, TrainConfig]:
    """Weights and the training configuration of a ``checkpoint.npz`` or ``weights.npz`` (or a run folder).

    The state's ``epoch`` is the number of epochs completed (a checkpoint may be part-way into the next).
    """
    path = Path(path)
    if path.is_dir():
        for name in ("weights.npz", "checkpoint.npz"):
            if (path / name).exists():
                path = path / name
                break
        else:
            raise TrainingError(f"{path}: no weights.npz or checkpoint.npz in this folder")
    if path.name.startswith("checkpoint"):
        state, meta = load_checkpoint(path)
    else:
        state, meta = load_weights(path)
    stored = recorded_config(path, meta, None, "the depth diagnostics")
    config = TrainConfig.from_dict(stored, source=f"{path} (recorded configuration)")
    done = meta.get("epochs")
    epoch = len(done) if isinstance(done, list) else (config.epochs if meta.get("finished", True) else None)
    return {"W": state["W"], "b": state["b"], "Y": state["Y"], "epoch": epoch}, config


def diagnose(path=None, n_images: int = 500, seed: int = 1, initial: bool = False, data=None, log=print,
             config: TrainConfig | None = None) -> dict:
    """Diagnostics of a saved network (``path``) or, with ``initial``, of its run's initial weights.

    ``n_images`` training images (stratified, fixed by ``seed``) are each presented twice with
    the weights frozen. Returns ``network``, ``epoch`` (of the checkpoint; 0 for the initial
    weights), ``n_images``, ``output`` and ``hidden`` (list, bottom to top) as in
    :func:`layer_diagnostics`, ``wall_s``.
    """
    t0 = time.perf_counter()
    if path is not None:
        state, config = load_state(path)
    elif config is None:
        raise ValueError("diagnose needs a checkpoint path or a configuration")
    params = effective_params(config)
    n_w = len(params.hidden) + 1
    params = params.replace(eta=(0.0,) * n_w, eta_bias=(0.0,) * n_w)
    if initial or path is None:
        state = initial_weights(params, np.random.default_rng(seed_for(config.seed, "init")))
        state["epoch"] = 0
    if data is None:
        data = load_mnist(source=config.data_source)
    idx = subset_indices(data.train_labels, n_images, seed=seed + 1000)
    net = SegDendNetwork(params, chunk_steps=config.chunk_steps, learning_records=True)
    net.build(log=log)
    settle = int(round(float(params.settle / params.dt)))
    min_steps = int(round(float(params.phase_min / params.dt)))
    wald = (float(params.wald_mean / params.dt), float(params.wald_scale / params.dt))
    W = [np.asarray(w, float) for w in state["W"]]
    run_state = {k: state[k] for k in ("W", "b", "Y")}
    recs = []
    for rep in range(2):
        rng = np.random.default_rng(seed_for(seed, "diagnose-phases", rep))
        lengths = phase_lengths(n_images, rng, min_steps, *wald)
        parts = []
        pos = 0
        while pos < n_images:
            sch = pack_chunk(lengths[pos:], config.chunk_steps, settle, train=True)
            sel = idx[pos:pos + sch.n_examples]
            run_state, res = net.run_chunk(run_state, data.train_images[sel], data.train_labels[sel], sch,
                                           seed=seed_for(seed, "diagnose", rep, pos))
            parts.append(res.records["learning"])
            pos += sch.n_examples
        recs.append(_concat(parts))
    for k in range(n_w):      # frozen: learning rates 0 leave the weights as they were
        if not np.allclose(np.asarray(run_state["W"][k], float), W[k], rtol=1e-12, atol=0):
            raise RuntimeError(f"weight layer {k} changed during a frozen diagnostic run")
    out = layer_diagnostics(recs[0], recs[1], W, params)
    net.release()
    out.update(network="-".join(map(str, params.layer_sizes)), epoch=state.get("epoch"), n_images=int(n_images),
               source=str(path) if path is not None else "initial weights", wall_s=time.perf_counter() - t0)
    return out


def continue_with_smaller_steps(path, eta_scale: float, epochs: int = 2, data=None, log=print) -> dict:
    """Continue a saved run for ``epochs`` epochs with every learning rate times ``eta_scale``.

    The run's own training subset, test subset and seed; new shuffles and noise (keyed
    ``"anneal"``), so the saved run is not replayed. The test error on the run's test subset is
    measured first (the saved weights, this function's test noise) and after every epoch.
    Returns ``network``, ``epoch`` (of the checkpoint), ``eta_scale``, ``eta``, ``test_error``
    (list: before, then after each epoch), ``max_weight_change`` (largest |dW| over all weights, ms),
    ``wall_s``.
    """
    if not (eta_scale >= 0 and np.isfinite(eta_scale)):
        raise ValueError(f"eta_scale: must be a non-negative number, got {eta_scale}")
    t0 = time.perf_counter()
    state, config = load_state(path)
    params = effective_params(config)
    params = params.replace(eta=tuple(e * eta_scale for e in params.learning_rates),
                            eta_bias=tuple(e * eta_scale for e in params.bias_learning_rates))
    if data is None:
        data = load_mnist(source=config.data_source)
    seed = config.seed
    tr_idx = subset_indices(data.train_labels, config.train_size, seed=seed)
    te_x, te_y, _ = subset(data.test_images, data.test_labels, config.test_size, seed=seed + 1)
    net = SegDendNetwork(params, chunk_steps=config.chunk_steps)
    net.build(log=log)
    run_state = {k: state[k] for k in ("W", "b", "Y")}
    errors = [classify(net, run_state, te_x, te_y, seed, "anneal-before")[0]]
    if log:
        log(f"{path}: epoch {state.get('epoch')}, test error {100 * errors[0]:.2f}% before; rates x {eta_scale}")
    settle = int(round(float(params.settle / params.dt)))
    min_steps = int(round(float(params.phase_min / params.dt)))
    wald = (float(params.wald_mean / params.dt), float(params.wald_scale / params.dt))
    n = len(tr_idx)
    for e in range(epochs):
        order = np.random.default_rng(seed_for(seed, "anneal-order", e)).permutation(n)
        lengths = phase_lengths(n, np.random.default_rng(seed_for(seed, "anneal-phases", e)), min_steps, *wald)
        pos, chunk = 0, 0
        while pos < n:
            sch = pack_chunk(lengths[pos:], config.chunk_steps, settle, train=True)
            sel = tr_idx[order[pos:pos + sch.n_examples]]
            run_state, _ = net.run_chunk(run_state, data.train_images[sel], data.train_labels[sel], sch,
                                         seed=seed_for(seed, "anneal", e, chunk))
            pos += sch.n_examples
            chunk += 1
        errors.append(classify(net, run_state, te_x, te_y, seed, f"anneal{e}")[0])
        if log:
            log(f"  epoch +{e + 1}: test error {100 * errors[-1]:.2f}%")
    net.release()
    change = max(float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float)))) for a, b in zip(run_state["W"], state["W"]))
    return {"network": "-".join(map(str, params.layer_sizes)), "source": str(path), "epoch": state.get("epoch"),
            "eta_scale": float(eta_scale), "eta": list(params.learning_rates), "test_error": errors,
            "max_weight_change": change,
            "test_size": int(config.test_size), "wall_s": time.perf_counter() - t0}


def _concat(parts: list) -> dict:
    """Join the learning records of consecutive chunks row-wise."""
    if len(parts) == 1:
        return parts[0]

    def join(key_path):
        arrs = []
        for p in parts:
            x = p
            for k in key_path:
                x = x[k]
            arrs.append(x)
        return np.concatenate(arrs)

    first = parts[0]
    return {"input": {"sbar": join(("input", "sbar"))},
            "output": {k: join(("output", k)) for k in first["output"]},
            "hidden": [{k: join(("hidden", i, k)) for k in h} for i, h in enumerate(first["hidden"])]}
