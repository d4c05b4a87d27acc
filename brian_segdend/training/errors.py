"""The errors of a training run (the command line reports each in one line, exit status 1)."""

__all__ = ["TrainingError", "CheckpointError", "RunLockedError", "DivergenceError"]


class TrainingError(RuntimeError):
    """A run cannot start or continue."""


class CheckpointError(TrainingError):
    """A checkpoint file is damaged, truncated or from another configuration."""


class RunLockedError(TrainingError):
    """Another live process owns the output folder."""


class DivergenceError(TrainingError):
    """Weights or voltages became NaN or exploded."""
