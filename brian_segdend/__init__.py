"""brian-segdend: Guerguiev, Lillicrap & Richards (2017), eLife 6:e22901, in Brian2.

"Towards deep learning with segregated dendrites", https://doi.org/10.7554/eLife.22901

Packages
--------
model       The model: parameters, equation files, contract, learning rule, layers, network.
standalone  Brian2 cpp_standalone machinery: build cache, compiled lifecycle, dense kernels, RNG.
training    Training runs: configuration, data, checkpoints, run lock, safe output files.
studies     Paper figures (fig6, fig10), plasticity comparisons, Diehl & Cook, sweeps.
cli         ``python -m brian_segdend <command>``.
"""

import importlib

__version__ = "0.1.0"

#: The documented entry points, importable as ``brian_segdend.<name>``. They are loaded on first
#: use (module ``__getattr__``), so ``python -m brian_segdend --help`` does not pay Brian2's import.
_API = {
    "ModelParams": "model.params",           # Table 1 parameters with units, validated
    "ParameterError": "model.params",
    "EquationFileError": "model.equations",
    "SegDendNetwork": "model.network",       # the compiled network (run chunks of examples)
    "initial_weights": "model.network",
    "Recording": "model.recording",          # what a network records, declared before its build
    "LateAdditionError": "model.recording",
    "TrainConfig": "training.train",         # everything that defines a training run
    "train_run": "training.train",           # train (or resume / extend) a run in a folder
    "evaluate": "training.train",            # test a saved network (weights.npz)
    "load_weights": "training.train",
    "simulate": "training.simulate",         # one example through a saved network, all voltages recorded
    "SimulationResult": "training.simulate",
    "load_checkpoint": "training.train",
    "TrainingError": "training.train",
    "load_mnist": "training.data",           # MNIST from IDX files, the cache or the embedded copy
}

__all__ = ["__version__", *_API]


def __getattr__(name):
    if name in _API:
        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
