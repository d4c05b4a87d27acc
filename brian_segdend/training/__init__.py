"""Training runs: configuration, MNIST data, checkpoints, run lock, safe output files, options.

train    TrainConfig and train_run (chunks, checkpoints, resume, run lock, results).
data     MNIST loading (user IDX files, local cache, embedded copy) with checks.
safeio   Atomic, no-follow output files.
options  Typed command-line option parsers shared by the commands.
"""
