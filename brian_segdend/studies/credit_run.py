"""A training run that records the rule's quantities at every learning step (Figures 5 and 7).

:func:`train_recorded` trains like ``python -m brian_segdend train`` (the same subsets, orders,
phase lengths and per-chunk seeds for a seed, :func:`brian_segdend.training.train.seed_for`)
through a ``SegDendNetwork(learning_records=True)`` build, and reduces each chunk's records at
once to per-example numbers (:mod:`brian_segdend.model.credit`, docs/MODEL.md's equations), so
memory does not grow with the records:

* ``L0`` (first hidden layer) and ``L1``: the local losses of the paper's Eq. 7-8;
* ``angle``: the angle in degrees between the top hidden layer's update of the local rule and
  the update that backpropagating the output error through the current top weights would give.
  The top weights before each example's update are rebuilt exactly from the chunk's start and
  the recorded output updates of the earlier examples (every example is recorded);
* ``mu``: every ``eig_every``-th example, the largest eigenvalue of Theorem 1's condition
  (:func:`brian_segdend.model.credit.theorem1_eigenvalue`; nan in between).

It is not resumable (a study run is minutes to hours); ``save``/``load`` keep its arrays.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..model import credit
from ..model.network import SegDendNetwork, initial_weights
from ..model.schedule import pack_chunk, phase_lengths
from ..training.data import subset, subset_indices
from ..training.train import classify, seed_for

__all__ = ["train_recorded", "save", "load"]


def train_recorded(params, data, train_size: int, test_size: int, epochs: int, seed: int,
                   chunk_steps: int = 300_000, log=print, eig_every: int = 50) -> dict:
    """Train ``epochs`` epochs with every learning step recorded; per-example losses and angles.

    Returns
    -------
    dict
        ``epoch``, ``label``, ``L0``, ``L1``, ``angle``, ``mu`` (one entry per training example in order),
        ``test_error`` (after each epoch), ``initial_test_error``, ``W0``/``W0_init`` (first
        weight matrix after / before training), ``order`` (training-set indices shown, per epoch),
        ``wall_s``.
    """
    t0 = time.perf_counter()
    net = SegDendNetwork(params, chunk_steps=chunk_steps, learning_records=True)
    net.build(log=log)
    c = credit.constants(params)
    tr_idx = subset_indices(data.train_labels, train_size, seed=seed)
    te_x, te_y, _ = subset(data.test_images, data.test_labels, test_size, seed=seed + 1)
    state = initial_weights(params, np.random.default_rng(seed_for(seed, "init")))
    W0_init = state["W"][0].copy()
    err0, _ = classify(net, state, te_x, te_y, seed, "initial")
    log(f"initial test error {100 * err0:.2f}%")
    settle = int(round(float(params.settle / params.dt)))
    min_steps = int(round(float(params.phase_min / params.dt)))
    wald = (float(params.wald_mean / params.dt), float(params.wald_scale / params.dt))
    cols = {k: [] for k in ("epoch", "label", "L0", "L1", "angle", "mu")}
    seen = 0
    orders, test_err = [], []
    chunk = 0
    top = len(params.hidden) - 1
    for e in range(epochs):
        order = np.random.default_rng(seed_for(seed, "order", e)).permutation(train_size)
        lengths = phase_lengths(train_size, np.random.default_rng(seed_for(seed, "phases", e)), min_steps, *wald)
        orders.append(tr_idx[order])
        pos = 0
        while pos < train_size:
            sch = pack_chunk(lengths[pos:], chunk_steps, settle, train=True)
            idx = tr_idx[order[pos:pos + sch.n_examples]]
            W_top = np.array(state["W"][-1], float)
            state, res = net.run_chunk(state, data.train_images[idx], data.train_labels[idx], sch,
                                       seed=seed_for(seed, "train", e, chunk))
            rec = res.records["learning"]
            L = credit.losses(rec, params)
            cols["L1"].append(L["L1"])
            cols["L0"].append(L["L0"][0] if L["L0"] else np.full(sch.n_examples, np.nan))
            cols["epoch"].append(np.full(sch.n_examples, e + 1))
            cols["label"].append(np.asarray(data.train_labels[idx], int))
            if top >= 0:
                E1 = credit.output_error(rec, params)
                h = rec["hidden"][top]
                ang = np.empty(sch.n_examples)
                mu = np.full(sch.n_examples, np.nan)
                Y_top = np.asarray(state["Y"][top], float)     # fixed (random and sparse feedback)
                for n in range(sch.n_examples):
                    bp = credit.backprop_hidden_error(h["Vbar_f"][n], E1[n], W_top, params)
                    ang[n] = credit.update_angles(h["E"][n], bp)[0]
                    if (seen + n) % eig_every == 0:
                        mu[n] = credit.theorem1_eigenvalue(rec["output"]["Vbar_f"][n], h["alpha_f"][n], W_top, Y_top,
                                                           params)
                    W_top -= c["eta"][-1] * c["P"][-1] * np.outer(E1[n], h["sbar"][n])
                cols["angle"].append(ang)
                cols["mu"].append(mu)
            else:
                cols["angle"].append(np.full(sch.n_examples, np.nan))
                cols["mu"].append(np.full(sch.n_examples, np.nan))
            seen += sch.n_examples
            pos += sch.n_examples
            chunk += 1
        err, _ = classify(net, state, te_x, te_y, seed, f"epoch{e + 1}")
        test_err.append(err)
        log(f"epoch {e + 1}: test error {100 * err:.2f}% ({time.perf_counter() - t0:.0f} s)")
    out = {k: np.concatenate(v) for k, v in cols.items()}
    out.update(network="-".join(map(str, params.layer_sizes)), feedback_signal=params.feedback_signal,
               test_error=np.array(test_err),
               initial_test_error=err0, W0=np.array(state["W"][0]), W0_init=W0_init,
               order=np.array(orders), wall_s=time.perf_counter() - t0)
    net.release()
    return out


def save(path, run: dict):
    """Write a :func:`train_recorded` result as ``.npz``."""
    np.savez_compressed(Path(path), **{k: np.asarray(v) for k, v in run.items()})


def load(path) -> dict:
    """Read a result written by :func:`save`."""
    with np.load(Path(path)) as f:
        return {k: (f[k].item() if f[k].ndim == 0 else f[k]) for k in f.files}
