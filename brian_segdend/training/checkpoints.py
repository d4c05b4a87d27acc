"""Checkpoints of a training run: weights, biases and dynamic state with metadata and a checksum.

A checkpoint is one ``.npz`` written atomically (temporary file, fsync, rename); the previous one
is kept as ``<name>.prev.npz``. Loading verifies the SHA-256 of the arrays and the metadata.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .errors import CheckpointError
from .safeio import atomic_open, remove_file

__all__ = ["save_checkpoint", "load_checkpoint", "state_arrays", "state_from_arrays"]


def state_arrays(state: dict) -> dict:
    """The state as named float64 arrays (``W0``, ``b0``, ``Y0``, ..., ``dyn:<group>.<variable>``)."""
    arrays = {}
    for key in ("W", "b", "Y"):
        for k, a in enumerate(state[key]):
            arrays[f"{key}{k}"] = np.asarray(a, dtype=np.float64)
    for name, a in state.get("dynamic", {}).items():
        arrays[f"dyn:{name}"] = np.asarray(a, dtype=np.float64)
    return arrays


def state_from_arrays(arrays: dict) -> dict:
    """The inverse of :func:`state_arrays`: ``{"W": [...], "b": [...], "Y": [...], "dynamic": {...}}``."""
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
    arrays = state_arrays(state)
    meta_s = json.dumps(meta, sort_keys=True)
    digest = _digest(arrays, meta_s)
    prev = path.with_name(path.stem + ".prev.npz")
    # the new file is complete (and on disk) under checkpoint.tmp before it is renamed onto
    # checkpoint.npz; renames replace links, never write through them (safeio)
    with atomic_open(path, tmp=path.with_suffix(".tmp"), fsync=True) as f:
        np.savez(f, __meta__=np.frombuffer(meta_s.encode(), dtype=np.uint8),
                 __sha256__=np.frombuffer(digest.encode(), dtype=np.uint8), **arrays)
        if os.path.lexists(path):
            _keep_previous(path, prev)


def _keep_previous(path: Path, prev: Path):
    """Make ``prev`` the current ``path`` while ``path`` stays in place.

    A hard link is renamed onto ``prev``, so that a checkpoint exists at every moment; a file
    system without hard links gets a rename (``path`` is then missing until the new one is
    renamed in).
    """
    tmp = prev.with_name(prev.name + ".tmp")
    remove_file(tmp)
    try:
        os.link(path, tmp, follow_symlinks=False)
        os.replace(tmp, prev)
    except OSError:
        remove_file(tmp)
        os.replace(path, prev)


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
    return state_from_arrays(arrays), json.loads(meta_s)
