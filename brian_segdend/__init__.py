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

__version__ = "0.1.0"
