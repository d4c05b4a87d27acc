"""Diehl & Cook's read-out: neuron labels from responses and the classification of examples."""

from __future__ import annotations

import numpy as np

from .params import N_CLASSES

__all__ = ["assign_labels", "classify"]


def assign_labels(responses, labels, n_classes: int = N_CLASSES) -> np.ndarray:
    """Class of each neuron: the class with its highest mean response (paper, "Training").

    Parameters
    ----------
    responses : array (n_examples, n_neurons)
        Spike counts during the presentation of each example.
    labels : array (n_examples,)

    Returns
    -------
    array (n_neurons,) of int; classes absent from ``labels`` are never chosen.
    """
    responses = np.asarray(responses, dtype=float)
    labels = np.asarray(labels)
    if responses.ndim != 2 or len(responses) != len(labels):
        raise ValueError(f"responses {responses.shape} and labels {labels.shape} do not match")
    mean = np.full((n_classes, responses.shape[1]), -np.inf)
    for c in range(n_classes):
        sel = labels == c
        if sel.any():
            mean[c] = responses[sel].mean(axis=0)
    return np.argmax(mean, axis=0)


def classify(responses, assignments, n_classes: int = N_CLASSES) -> np.ndarray:
    """Predicted class per example: the class whose assigned neurons respond most on average."""
    responses = np.asarray(responses, dtype=float)
    assignments = np.asarray(assignments)
    score = np.full((len(responses), n_classes), -np.inf)
    for c in range(n_classes):
        sel = assignments == c
        if sel.any():
            score[:, c] = responses[:, sel].mean(axis=1)
    return np.argmax(score, axis=1)
