"""Training runs: configuration, MNIST data, checkpoints, run lock, safe output files, options.

train        TrainConfig and train_run (chunks, resume, evaluation, results).
checkpoints  Atomic, checksummed checkpoints (the previous one kept).
lock         The run lock: one live process per output folder.
errors       TrainingError and its kinds (checkpoint, lock, divergence).
data         MNIST loading (user IDX files, local cache, embedded copy) with checks.
safeio       Atomic, no-follow output files.
options      Typed command-line option parsers shared by the commands.
"""

from .. import _brian  # noqa: F401  (before any module of this package imports Brian2: no leftover temporary files)
