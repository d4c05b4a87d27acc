"""Phase schedules: which example is on, which phase, which averaging window, per time step.

A compiled network runs a fixed number of steps per call (a *chunk*). The schedule of a
chunk is a set of per-step arrays (fed to Brian2 ``TimedArray`` objects through
``run_args``), so the C++ code knows at every step which example is shown, whether the
teaching signal is on, whether the step is inside an averaging window, and whether it
ends a phase. Examples never straddle chunks; steps after the last example are idle
(no input image, no windows, no events).

Step conventions (dt = 1 ms by default): a phase of ``L`` steps covers steps
``t0 .. t0+L-1``; its averaging window is the steps with ``step - t0 >= settle/dt``
(docs/MODEL.md Eq. 22: ``[t0 + Delta t_s, t1]``), i.e. ``L - settle/dt`` steps; the plateau
and the learning step happen at the phase's last step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SCHEDULE_ARRAYS", "ChunkSchedule", "phase_lengths", "pack_chunk"]

# name -> meaning; every array has one float entry per time step of the chunk
SCHEDULE_ARRAYS = {
    "ex": "row of the chunk's image/label arrays shown at this step",
    "teach": "1 in the target phase (teaching conductances on)",
    "win_f": "1 inside the forward averaging window",
    "win_t": "1 inside the target averaging window",
    "end_f": "1 at the last step of a forward phase",
    "end_t": "1 at the last step of a target phase (learning step)",
    "n_f": "length in steps of the current example's forward window",
    "n_t": "length in steps of the current example's target window",
    "to_end": "steps left until the end of the current phase (0 at its last step)",
    "stop": "1 from the first idle step after the last example: the compiled run stops there",
    "reset": "1 at the first step of each test example (the state is reset there if test_reset is on)",
}


def phase_lengths(n: int, rng: np.random.Generator, min_steps: int, wald_mean: float,
                  wald_scale: float) -> np.ndarray:
    """Forward and target phase lengths in steps, shape (n, 2).

    Length = min_steps + Wald(mean, scale) rounded to whole steps (docs/MODEL.md: 50 ms plus an
    extra drawn from a Wald distribution of mean 2 ms and scale 1).
    """
    if wald_mean > 0:
        extra = rng.wald(wald_mean, wald_scale, size=(n, 2))
    else:
        extra = np.zeros((n, 2))
    return (min_steps + np.round(extra)).astype(np.int64)


@dataclass
class ChunkSchedule:
    """Per-step arrays of one chunk, plus the bookkeeping to read its results."""

    arrays: dict            # name -> float64 array of length steps
    n_examples: int         # examples packed into the chunk
    starts: np.ndarray      # first step of each example
    end_f_steps: np.ndarray  # last step of each forward phase
    end_t_steps: np.ndarray  # last step of each target phase (-1 for test examples)


def pack_chunk(lengths: np.ndarray, steps: int, settle_steps: int, train: bool) -> ChunkSchedule:
    """Lay out as many examples as fit into ``steps`` steps.

    Parameters
    ----------
    lengths : array of int, shape (n, 2) for training (forward, target) or (n,) for testing
        Phase lengths in steps, in presentation order. Only a prefix may fit.
    steps : int
        Steps in the chunk (fixed by the compiled build).
    settle_steps : int
        Steps at the start of each phase excluded from the averages.
    train : bool
        Training examples have a target phase; test examples only a forward phase.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if not train:
        lengths = np.stack([lengths.reshape(-1), np.zeros(len(lengths), dtype=np.int64)], axis=1)
    if np.any(lengths[:, 0] <= settle_steps) or (train and np.any(lengths[:, 1] <= settle_steps)):
        raise ValueError("every phase must be longer than the settle time")
    totals = lengths.sum(axis=1)
    n = int(np.searchsorted(np.cumsum(totals), steps, side="right"))
    if n == 0 and len(lengths):
        raise ValueError(f"one example needs {totals[0]} steps but a chunk has only {steps}")
    arr = {name: np.zeros(steps) for name in SCHEDULE_ARRAYS}
    starts = np.zeros(n, dtype=np.int64)
    end_f = np.zeros(n, dtype=np.int64)
    end_t = np.full(n, -1, dtype=np.int64)
    pos = 0
    for k in range(n):
        lf, lt = int(lengths[k, 0]), int(lengths[k, 1])
        starts[k] = pos
        f = slice(pos, pos + lf)
        arr["ex"][pos:pos + lf + lt] = k
        arr["win_f"][pos + settle_steps:pos + lf] = 1
        arr["n_f"][pos:pos + lf + lt] = lf - settle_steps
        arr["to_end"][f] = np.arange(lf - 1, -1, -1)
        arr["end_f"][pos + lf - 1] = 1
        end_f[k] = pos + lf - 1
        if not train:
            arr["reset"][pos] = 1
        if lt:
            g = slice(pos + lf, pos + lf + lt)
            arr["teach"][g] = 1
            arr["win_t"][pos + lf + settle_steps:pos + lf + lt] = 1
            arr["n_t"][pos:pos + lf + lt] = lt - settle_steps
            arr["to_end"][g] = np.arange(lt - 1, -1, -1)
            arr["end_t"][pos + lf + lt - 1] = 1
            end_t[k] = pos + lf + lt - 1
        pos += lf + lt
    # idle tail: show the row after the last example (kept blank by the caller)
    arr["ex"][pos:] = n
    arr["n_f"][pos:] = 1
    arr["n_t"][pos:] = 1
    arr["stop"][pos:] = 1
    return ChunkSchedule(arrays=arr, n_examples=n, starts=starts, end_f_steps=end_f, end_t_steps=end_t)
