"""Studies built on the model: paper figures, comparisons, sweeps.

fig10/         Figure 10: basal LTP/LTD predicted from the timing of apical input
               (protocol, model, analysis, experiment, figures, cli).
fig6           Figure 6: depth (0-3 hidden layers), the paper's study.
fig8           Figure 8: feedback weights (random, sparse, sparse unscaled, symmetric, symmetric + noise).
fig9           Figure 9: apical conductance g_a (0, 0.05, 0.6).
paper_study    What the figure studies share (runs on the sweep engine, claims, progress).
paper_summary  All figures' claims in one table (``paper summary``).
compare/       Figure 10's protocol on classic plasticity models (equations/plasticity/)
               (models, protocol, signatures, analysis, report, figures, cli).
compare_mnist  MNIST accuracy of this model next to Diehl & Cook.
diehl_cook/    Diehl & Cook (2015) unsupervised STDP network (equations/diehl_cook/)
               (params, files, analysis, network, experiment).
common         What the studies share: strict JSON helpers, mean +- SEM.
sweep          Parameter sweeps on Dask (local, scheduler, SLURM).
"""

from .. import _brian  # noqa: F401  (before any module of this package imports Brian2: no leftover temporary files)
