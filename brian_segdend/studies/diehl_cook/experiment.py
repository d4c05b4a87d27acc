"""Diehl & Cook's experiment: :func:`train_and_test` (train, assign labels, test)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from brian2 import second

from ...training.data import load_mnist, subset
from ...training.safeio import atomic_open, atomic_write_text
from .analysis import assign_labels, classify
from .network import DiehlCookNetwork
from .params import N_CLASSES, N_INPUT, DiehlCookParams

__all__ = ["train_and_test"]


def train_and_test(n_train: int, n_test: int, n_exc: int = 100, seed: int = 0, out_dir=None,
                   params: DiehlCookParams | None = None, mnist=None, network: DiehlCookNetwork | None = None,
                   capacity: int = 500) -> dict:
    """Train on ``n_train`` MNIST images, assign labels on the same images, test on ``n_test``.

    Parameters
    ----------
    n_train, n_test : int
        Images drawn class-stratified (:func:`brian_segdend.training.data.subset`) from the training
        set (with ``seed``) and the test set (with ``seed + 1``, as :mod:`brian_segdend.training.train`).
    n_exc : int
        Excitatory neurons (default 100; the paper uses 100-6400).
    seed : int
        Data subset, initial weights, delays and Poisson input.
    out_dir : path, optional
        If given, ``diehl_cook_<n_exc>_<n_train>.json`` (the returned numbers) and an
        ``.npz`` with weights, thresholds and assignments are written there.
    params : DiehlCookParams, optional
        E.g. a shorter ``t_present`` for smoke tests (runtime parameters do not recompile).
    mnist : MNIST, optional
        Preloaded data (default :func:`brian_segdend.training.data.load_mnist`).
    network : DiehlCookNetwork, optional
        A compiled network to reuse (same ``n_exc`` and compiled parameters); its weights,
        delays and thresholds are re-initialised from ``seed``.

    Returns
    -------
    dict with ``test_error``, ``train_error`` (on the assignment pass), ``train_wall_s``,
    ``train_examples_per_s``, ``assign_wall_s``, ``test_wall_s``, ``build_s``, neuron and
    synapse counts, mean repeats, ``theta_mean_mV``, and the sizes and seed.
    """
    if n_train < 1 or n_test < 1:
        raise ValueError("n_train and n_test must be positive")
    data = mnist if mnist is not None else load_mnist()
    x_tr, y_tr, _ = subset(data.train_images, data.train_labels, n_train, seed)
    x_te, y_te, _ = subset(data.test_images, data.test_labels, n_test, seed + 1)   # as brian_segdend.training.train
    t_build = time.perf_counter()
    if (network is None or network.n_exc != n_exc
            or (params is not None and network.params.compiled() != params.compiled())):
        network = DiehlCookNetwork(n_exc=n_exc, params=params, capacity=capacity, seed=seed)
    else:
        if params is not None:   # only runtime parameters differ: same binary
            network.params = params
        rng = np.random.default_rng(seed)
        p = network.params
        network.w = (rng.random((N_INPUT, network.n_exc)) + 0.01) * p.w_init_max
        network.delay = rng.random((N_INPUT, network.n_exc)) * float(p.max_delay / second)
        network.theta = np.zeros(network.n_exc)
    build_s = time.perf_counter() - t_build
    w0 = network.w.copy()
    train = network.present(x_tr, plastic=True, seed=seed)
    assign = network.present(x_tr, plastic=False, seed=seed + 1)
    assignments = assign_labels(assign.responses, y_tr)
    test = network.present(x_te, plastic=False, seed=seed + 2)
    pred = classify(test.responses, assignments)
    train_pred = classify(assign.responses, assignments)
    result = {
        "model": "diehl_cook",
        "n_train": int(n_train), "n_test": int(n_test), "n_exc": int(n_exc), "seed": int(seed),
        "test_error": float(np.mean(pred != y_te)),
        "train_error": float(np.mean(train_pred != y_tr)),
        "train_wall_s": train.wall_s,
        "train_examples_per_s": n_train / train.wall_s,
        "assign_wall_s": assign.wall_s, "test_wall_s": test.wall_s,
        "build_s": build_s,
        "train_sim_s": train.sim_s, "train_runs": train.runs,
        "mean_repeats_train": float(train.repeats.mean()), "mean_repeats_test": float(test.repeats.mean()),
        "weight_change_mean_abs": float(np.abs(network.w - w0).mean()),
        "theta_mean_mV": float(network.theta.mean() * 1e3),
        "assignments_per_class": np.bincount(assignments, minlength=N_CLASSES).tolist(),
        "build_hash": network.build_hash,
        **network.counts,
    }
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"diehl_cook_{n_exc}_{n_train}"
        atomic_write_text(out / f"{stem}.json", json.dumps(result, indent=2))
        with atomic_open(out / f"{stem}.npz") as f:
            np.savez_compressed(f, w=network.w, theta=network.theta, assignments=assignments,
                                test_pred=pred, test_labels=y_te)
    return result
