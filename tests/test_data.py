"""Tests for brian_segdend.training.data: MNIST loading, IDX files, corrupt inputs, cache, subsets."""

import gzip
import os
import pickle
import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

from brian_segdend.standalone.buildcache import ENV_BUILD_DIR, build_root, configure_compiler_cache
from brian_segdend.training import data
from brian_segdend.training.data import (
    ENV_SOURCE,
    DataError,
    DataWarning,
    load_embedded,
    load_idx_dir,
    load_mnist,
    read_idx,
    subset,
    validate,
    validate_images,
    validate_labels,
    write_idx,
)

TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def make_idx_dir(folder, n_train=30, n_test=12, gz=False, dotted=False, seed=0):
    """Write four small MNIST-like IDX files; return the images and labels written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for key, stem in data.IDX_STEMS.items():
        name = stem.replace("-idx", ".idx") if dotted else stem
        write_idx(folder / (name + (".gz" if gz else "")), arrays[key])
    return arrays


# ----------------------------------------------------------------------------- the real data


def test_shapes_dtypes_ranges(mnist):
    assert mnist.train_images.shape == (60000, 784)
    assert mnist.test_images.shape == (10000, 784)
    assert mnist.train_labels.shape == (60000,)
    assert mnist.test_labels.shape == (10000,)
    for x in (mnist.train_images, mnist.test_images):
        assert x.dtype == np.float32
        assert x.min() == 0.0 and 0.99 < x.max() <= 1.0
        assert np.isfinite(x).all()
    for y in (mnist.train_labels, mnist.test_labels):
        assert y.dtype == np.int64
        assert set(np.unique(y)) == set(range(10))
    assert isinstance(mnist.source, str) and mnist.source


def test_class_counts(mnist):
    assert np.bincount(mnist.test_labels, minlength=10).tolist() == TEST_COUNTS
    train_counts = np.bincount(mnist.train_labels, minlength=10)
    assert train_counts.sum() == 60000
    assert train_counts.min() > 5000


def test_embedded_copy_found_without_import():
    path = data.embedded_path()
    assert path is not None and path.name == "mnist.pkl.gz"
    assert "mnist" not in sys.modules


def test_summary_command(tmp_path):
    folder = tmp_path / "idx"
    make_idx_dir(folder)
    env = dict(os.environ, **{ENV_SOURCE: str(folder)})
    out = subprocess.run(
        [sys.executable, "-m", "brian_segdend.training.data"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert str(folder) in out and "(30, 784)" in out and "class counts" in out


# ----------------------------------------------------------------------------- IDX files


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    rng = np.random.default_rng(1)
    array = (rng.random((5, 3, 4)) * 100).astype(dtype)
    path = write_idx(tmp_path / f"a-idx3-ubyte{suffix}", array)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_idx_header_bytes(tmp_path):
    path = write_idx(tmp_path / "labels", np.array([1, 2, 3], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3])


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dotted", [False, True])
def test_load_idx_dir(tmp_path, gz, dotted):
    arrays = make_idx_dir(tmp_path / "idx", gz=gz, dotted=dotted)
    d = load_idx_dir(tmp_path / "idx")
    assert d.train_images.shape == (30, 784) and d.test_images.shape == (12, 784)
    assert d.train_images.dtype == np.float32 and d.train_labels.dtype == np.int64
    np.testing.assert_allclose(d.train_images, arrays["train_images"].reshape(30, 784) / 255, rtol=1e-7, atol=0)
    np.testing.assert_array_equal(d.test_labels, arrays["test_labels"])
    assert str(tmp_path / "idx") in d.source


# ----------------------------------------------------------------------------- corrupt inputs


def test_hash_mismatch_names_file(tmp_path):
    copy = tmp_path / "mnist.pkl.gz"
    shutil.copyfile(data.embedded_path(), copy)
    with open(copy, "r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(DataError, match="SHA-256 mismatch") as err:
        load_embedded(copy)
    assert str(copy) in str(err.value)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hash_checked_before_unpickling(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "mnist.pkl.gz"
    with gzip.open(evil, "wb") as f:
        pickle.dump(_Evil(marker), f)
    with pytest.raises(DataError, match="SHA-256 mismatch"):
        load_embedded(evil)
    assert not marker.exists()
    # even with a matching hash, only numpy arrays may be unpickled
    with pytest.raises(DataError, match="cannot read pickle"):
        load_embedded(evil, sha256=data.file_sha256(evil))
    assert not marker.exists()


def test_truncated_gzip(tmp_path):
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((50, 28, 28), np.uint8))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="truncated gzip") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_truncated_idx(tmp_path):
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((50, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated IDX") as err:
        read_idx(path)
    assert str(path) in str(err.value)
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(DataError, match="truncated IDX"):
        read_idx(path)


def test_wrong_magic(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((2, 28, 28), np.uint8))
    path.write_bytes(b"\x12\x34" + path.read_bytes()[2:])
    with pytest.raises(DataError, match="wrong magic number 0x12340803") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_labels_where_images_expected(tmp_path):
    folder = tmp_path / "idx"
    make_idx_dir(folder)
    shutil.copyfile(folder / "train-labels-idx1-ubyte", folder / "train-images-idx3-ubyte")
    with pytest.raises(DataError, match="wrong magic number 0x00000801") as err:
        load_idx_dir(folder)
    assert "train-images-idx3-ubyte" in str(err.value)


def test_wrong_image_size(tmp_path):
    folder = tmp_path / "idx"
    make_idx_dir(folder)
    write_idx(folder / "t10k-images-idx3-ubyte", np.zeros((12, 27, 28), np.uint8))
    with pytest.raises(DataError, match="wrong image size 27x28") as err:
        load_idx_dir(folder)
    assert "t10k-images-idx3-ubyte" in str(err.value)


def test_labels_outside_range(tmp_path):
    folder = tmp_path / "idx"
    make_idx_dir(folder)
    labels = np.arange(30, dtype=np.uint8) % 10
    labels[3] = 10
    write_idx(folder / "train-labels-idx1-ubyte", labels)
    with pytest.raises(DataError, match=r"labels outside 0-9: \[10\]") as err:
        load_idx_dir(folder)
    assert "train-labels-idx1-ubyte" in str(err.value)


def test_count_mismatch(tmp_path):
    folder = tmp_path / "idx"
    make_idx_dir(folder)
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(29, np.uint8))
    with pytest.raises(DataError, match="count mismatch: 30 images, 29 labels") as err:
        load_idx_dir(folder)
    assert "train-images-idx3-ubyte" in str(err.value)


def test_missing_files_listed(tmp_path):
    folder = tmp_path / "idx"
    make_idx_dir(folder)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    (folder / "train-images-idx3-ubyte").unlink()
    with pytest.raises(DataError, match="missing MNIST IDX files") as err:
        load_idx_dir(folder)
    msg = str(err.value)
    assert str(folder) in msg
    assert "t10k-labels-idx1-ubyte" in msg and "train-images-idx3-ubyte" in msg
    assert "train-labels" not in msg


@pytest.mark.parametrize("bad, match", [(np.nan, "NaN"), (1.5, "outside"), (-0.1, "outside")])
def test_validator_values(bad, match):
    images = np.zeros((3, 784))
    images[1, 5] = bad
    with pytest.raises(DataError, match=match) as err:
        validate_images(images, "some/file.npz")
    assert "some/file.npz" in str(err.value)


def test_validator_shapes_and_labels():
    with pytest.raises(DataError, match="wrong image size"):
        validate_images(np.zeros((3, 783)), "f")
    with pytest.raises(DataError, match="outside 0-9"):
        validate_labels(np.array([0, -1, 3]), "f")
    with pytest.raises(DataError, match="count mismatch"):
        validate(np.zeros((3, 784)), np.zeros(2, dtype=np.int64), "f")
    validate(np.zeros((3, 784)), np.zeros(3, dtype=np.int64), "f")


# ----------------------------------------------------------------------------- sources and cache


def test_env_var_selects_idx_dir(tmp_path, tmp_cache, monkeypatch):
    make_idx_dir(tmp_path / "a", n_train=20, seed=1)
    make_idx_dir(tmp_path / "b", n_train=40, seed=2, gz=True)
    monkeypatch.setenv(ENV_SOURCE, str(tmp_path / "a"))
    d = load_mnist()
    assert d.train_images.shape == (20, 784) and str(tmp_path / "a") in d.source
    d = load_mnist(source=tmp_path / "b")  # the argument wins over the variable
    assert d.train_images.shape == (40, 784)
    assert not any(tmp_cache.iterdir())  # user data is not cached


def test_named_source_has_no_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_SOURCE, str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="not a directory"):
        load_mnist(cache_dir=tmp_path)


def test_cache_written_reused_and_rebuilt(tmp_cache, mnist, monkeypatch):
    monkeypatch.delenv(ENV_SOURCE, raising=False)
    first = load_mnist()
    assert "wheel" in first.source
    cache = tmp_cache / data.CACHE_NAME
    assert cache.is_file() and (tmp_cache / (data.CACHE_NAME + ".sha256")).is_file()

    second = load_mnist()
    assert "cache" in second.source and str(cache) in second.source
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        a, b = getattr(first, name), getattr(second, name)
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, getattr(mnist, name))

    with open(cache, "r+b") as f:  # damage the cache
        f.seek(cache.stat().st_size // 2)
        f.write(b"\xff" * 16)
    with pytest.warns(DataWarning, match=f"damaged MNIST cache.*{re.escape(str(cache))}.*SHA-256 mismatch"):
        third = load_mnist()
    assert "wheel" in third.source
    np.testing.assert_array_equal(third.test_images, first.test_images)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "cache" in load_mnist().source  # rebuilt and valid again


def test_cache_without_sidecar_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_SOURCE, raising=False)
    (tmp_path / data.CACHE_NAME).write_bytes(b"not an npz")
    with pytest.warns(DataWarning, match="no checksum file"):
        d = load_mnist(cache_dir=tmp_path)
    assert "wheel" in d.source
    assert (tmp_path / (data.CACHE_NAME + ".sha256")).is_file()


# ----------------------------------------------------------------------------- subsets


def test_subset_stratified(mnist):
    x, y, idx = subset(mnist.train_images, mnist.train_labels, 1000, seed=3)
    assert x.shape == (1000, 784) and y.shape == (1000,) and idx.shape == (1000,)
    assert len(np.unique(idx)) == 1000
    np.testing.assert_array_equal(y, mnist.train_labels[idx])
    np.testing.assert_array_equal(x, mnist.train_images[idx])
    expected = 1000 * np.bincount(mnist.train_labels, minlength=10) / 60000
    counts = np.bincount(y, minlength=10)
    assert np.all(np.abs(counts - expected) < 1)
    assert not np.all(np.diff(y) >= 0)  # shuffled, not grouped by class


def test_subset_deterministic(mnist):
    y = mnist.test_labels
    x = mnist.test_images
    _, _, a = subset(x, y, 200, seed=7)
    _, _, b = subset(x, y, 200, seed=7)
    _, _, c = subset(x, y, 200, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_subset_edges(mnist):
    x, y = mnist.test_images, mnist.test_labels
    with pytest.raises(ValueError, match="n=10001.*only 10000 available"):
        subset(x, y, 10001, seed=0)
    _, ys, _ = subset(x, y, 10000, seed=0)
    assert np.bincount(ys, minlength=10).tolist() == TEST_COUNTS
    _, ys, idx = subset(x, y, 0, seed=0)
    assert len(ys) == 0 and idx.dtype == np.int64
    _, ys, _ = subset(x, y, 7, seed=0)
    assert len(ys) == 7 and len(np.unique(ys)) == 7


# ----------------------------------------------------------------------------- cache folders


def test_build_root_and_compiler_cache(tmp_path, tmp_cache, monkeypatch):
    monkeypatch.delenv(ENV_BUILD_DIR, raising=False)
    assert build_root() == tmp_cache / "builds" and (tmp_cache / "builds").is_dir()
    monkeypatch.setenv(ENV_BUILD_DIR, str(tmp_path / "b"))
    assert build_root() == tmp_path / "b"
    monkeypatch.setenv("CXX", "g++")
    monkeypatch.delenv("CC", raising=False)
    if configure_compiler_cache():
        assert os.environ["CXX"].split()[1:] == ["g++"]
        assert os.environ["CC"].split()[1:] == ["gcc"]
        before = dict(os.environ)
        configure_compiler_cache()  # idempotent
        assert os.environ["CXX"] == before["CXX"] and os.environ["CC"] == before["CC"]
    else:
        assert os.environ["CXX"] == "g++"


# ----------------------------------------------------------------------------- issue 13: limits
def _gzip_idx(path, header: bytes, body_bytes: int):
    """A gzip file: ``header`` then ``body_bytes`` zero bytes, written in blocks."""
    with gzip.open(path, "wb", compresslevel=1) as g:
        g.write(header)
        block = bytes(1 << 22)
        while body_bytes > 0:
            g.write(block[:min(body_bytes, len(block))])
            body_bytes -= len(block)
    return path


def _idx_header(code, *shape):
    return bytes([0, 0, code, len(shape)]) + b"".join(int(n).to_bytes(4, "big") for n in shape)


def test_gzip_stream_longer_than_header_stops_early(tmp_path):
    """Header says 10 images; the stream holds 400 MB. Measured with a 3 MB gzip file of 3 GB
    (header: 60,000 images): before, 40.6 s and 5.8 GB peak memory; now 0.42 s and 87 MB."""
    import tracemalloc
    path = _gzip_idx(tmp_path / "t10k-images-idx3-ubyte.gz", _idx_header(0x08, 10, 28, 28), 400_000_000)
    assert path.stat().st_size < 5_000_000
    tracemalloc.start()
    with pytest.raises(DataError, match="longer than its header says") as err:
        read_idx(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(path) in str(err.value)
    assert peak < 20_000_000                              # stopped while streaming, not after inflating


@pytest.mark.parametrize("shape", [(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (1 << 31, 28, 28), (0x10000, 0x10000)])
def test_header_sizes_that_overflow_or_are_huge(tmp_path, shape):
    path = _gzip_idx(tmp_path / "x.gz", _idx_header(0x08, *shape), 1000)
    with pytest.raises(DataError, match="more than the .* bytes an IDX file may have") as err:
        read_idx(path)
    assert str(path) in str(err.value)
    plain = tmp_path / "y"
    plain.write_bytes(_idx_header(0x0C, *shape) + bytes(100))
    with pytest.raises(DataError, match=r"y: header says shape"):
        read_idx(plain)


def test_binary_uint8_images_refused(tmp_path):
    folder = tmp_path / "idx"
    arrays = make_idx_dir(folder)
    write_idx(folder / "train-images-idx3-ubyte", (arrays["train_images"] > 127).astype(np.uint8))
    with pytest.raises(DataError, match="only 0 and 1 .*makes no sense") as err:
        load_idx_dir(folder)
    assert "train-images-idx3-ubyte" in str(err.value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_idx_images(tmp_path, dtype):
    folder = tmp_path / "idx"
    arrays = make_idx_dir(folder)
    x = (arrays["train_images"] / 255.0).astype(dtype)
    write_idx(folder / "train-images-idx3-ubyte", x)
    got = load_idx_dir(folder)
    np.testing.assert_allclose(got.train_images, x.reshape(len(x), 784), rtol=1e-6)
    assert got.train_images.dtype == np.float32
    write_idx(folder / "train-images-idx3-ubyte", (x * 255).astype(dtype))     # 0-255 floats
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte \(float.. IDX images, values must be in "
                                        r"\[0, 1\]\).*outside \[0, 1\]"):
        load_idx_dir(folder)


def test_other_idx_types_named(tmp_path):
    folder = tmp_path / "idx"
    arrays = make_idx_dir(folder)
    write_idx(folder / "train-images-idx3-ubyte", arrays["train_images"].astype(np.int16))
    with pytest.raises(DataError, match="int16 IDX images are not supported"):
        load_idx_dir(folder)
    make_idx_dir(folder)
    write_idx(folder / "t10k-labels-idx1-ubyte", arrays["test_labels"].astype(np.float32))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte: float32 IDX labels are not supported"):
        load_idx_dir(folder)
    bad = tmp_path / "z"
    bad.write_bytes(bytes([0, 0, 0x0A, 1, 0, 0, 0, 1, 0]))
    with pytest.raises(DataError, match="z: unknown IDX element type 0x0A"):
        read_idx(bad)
