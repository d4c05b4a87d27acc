"""The segregated-dendrite model: parameters, equation files, contract, learning rule, network.

params     Table 1 parameters as one validated structure with Brian2 units.
equations  Loader and validator of the editable equation files (``equations/segdend/``).
contract   One table: run-time parameters, equation files, groups and what the model adds.
learning   The learning rule as compiled Brian2 code (windows, plateaus, errors, updates).
schedule   Per-step phase schedules (which example, which phase, which window).
layers     Layer builders shared by the training network and Figure 10.
network    The compiled training network (SegDendNetwork) and the initial weights.
"""

from .. import _brian  # noqa: F401  (before any module of this package imports Brian2: no leftover temporary files)
