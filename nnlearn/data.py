"""Data sets: generated 2-D toy sets, scikit-learn's bundled 8x8 digits, and MNIST /
Fashion-MNIST from IDX files.

Every generator takes an explicit `rng = np.random.default_rng(seed)`. Every loader
says on screen what it loaded (pass verbose=False to silence it).
"""
import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from .validate import (check_array, check_choice, check_labels, check_number, check_positive, check_rng,
                       check_same_length, check_type)

DATA_DIR_ENV = "NNLEARN_DATA_DIR"


def _path(name, path):
    return Path(check_type(name, path, (str, os.PathLike), "a file path (str or pathlib.Path)"))


def _noise(name, value):
    return check_number(name, value, low=0)


# --- generated 2-D sets: X is (n, 2), y holds integer labels -----------------

def make_blobs(n_per_class, centers, std, rng):
    """n_per_class Gaussian points (standard deviation std) around each row of centers (k, d)."""
    n_per_class, std = check_positive("n_per_class", n_per_class, integer=True), _noise("std", std)
    centers, rng = check_array("centers", centers, ndim=2), check_rng("rng", rng)
    X = np.concatenate([c + std * rng.standard_normal((n_per_class, centers.shape[1])) for c in centers])
    y = np.repeat(np.arange(len(centers)), n_per_class)
    return X, y


def make_xor(n, rng, noise=0.1):
    """Points around the four corners of [-1, 1]^2; label 1 where the signs of x1 and x2 differ."""
    n, rng, noise = check_positive("n", n, integer=True), check_rng("rng", rng), _noise("noise", noise)
    corners = rng.choice([-1.0, 1.0], size=(n, 2))
    X = corners + noise * rng.standard_normal((n, 2))
    y = (corners[:, 0] != corners[:, 1]).astype(int)
    return X, y


def make_moons(n, rng, noise=0.1):
    """Two interleaved half circles, n points in all; label 0 for the upper moon, 1 for the lower."""
    n, rng, noise = check_positive("n", n, integer=True), check_rng("rng", rng), _noise("noise", noise)
    half = n // 2
    t = rng.uniform(0, np.pi, n)
    upper = np.stack([np.cos(t[:half]), np.sin(t[:half])], axis=1)
    lower = np.stack([1 - np.cos(t[half:]), 0.5 - np.sin(t[half:])], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(half, int), np.ones(n - half, int)])
    return X, y


def make_spirals(n_per_class, n_classes, rng, noise=0.2):
    """n_classes interleaved spiral arms of n_per_class points each."""
    n_per_class, n_classes = check_positive("n_per_class", n_per_class, integer=True), \
        check_positive("n_classes", n_classes, integer=True)
    rng, noise = check_rng("rng", rng), _noise("noise", noise)
    X, y = [], []
    for k in range(n_classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        theta = np.linspace(0, 4, n_per_class) + 2 * np.pi * k / n_classes + noise * rng.standard_normal(n_per_class)
        X.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        y.append(np.full(n_per_class, k))
    return np.concatenate(X), np.concatenate(y)


# --- scikit-learn's bundled digits: works offline ------------------------------

def load_digits(verbose=True):
    """1797 images of 8x8 digits shipped with scikit-learn: X (1797, 64) in [0, 1], y (1797,)."""
    from sklearn.datasets import load_digits as sk_load_digits

    check_type("verbose", verbose, bool, "True or False")
    bunch = sk_load_digits()
    X = bunch.data.astype(np.float32) / 16.0
    if verbose:
        print(f"Loaded scikit-learn's bundled 8x8 digits: {X.shape[0]} images, 64 pixels each.")
    return X, bunch.target.astype(np.int64)


# --- IDX files (the MNIST format) ---------------------------------------------

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read an IDX file (optionally gzipped) into a numpy array of its stated shape."""
    path = _path("path", path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        header = f.read(4)
        if len(header) < 4 or header[0] != 0 or header[1] != 0:
            raise ValueError(f"{path}: not an IDX file (bad magic number {header!r})")
        dtype, ndim = header[2], header[3]
        if dtype not in _IDX_TYPES:
            raise ValueError(f"{path}: unknown IDX data type 0x{dtype:02x}")
        shape = struct.unpack(f">{ndim}I", f.read(4 * ndim))
        data = np.frombuffer(f.read(), dtype=np.dtype(_IDX_TYPES[dtype]))
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} but the file holds {data.size} values")
    return data.reshape(shape).astype(data.dtype.newbyteorder("="))


def write_idx(path, array):
    """Write a uint8/int8/int16/int32/float32/float64 array as an IDX file (gzipped if path ends in .gz)."""
    array = check_array("array", array, kind="number", finite=False, nonempty=False)
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
    if array.dtype not in codes:
        raise TypeError(f"expected array of a dtype IDX can store ({', '.join(str(d) for d in codes)}), "
                        f"got {array.dtype}")
    code = codes[array.dtype]
    path = _path("path", path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(bytes([0, 0, code, array.ndim]))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.astype(np.dtype(_IDX_TYPES[code])).tobytes())


# --- MNIST and Fashion-MNIST ----------------------------------------------------

MNIST_SETS = {
    "mnist": {
        "urls": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"],
        "md5": {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
                "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
                "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"},
    },
    "fashion-mnist": {
        "urls": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        "md5": {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
                "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
                "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"},
    },
}


class DataUnavailableError(RuntimeError):
    """The requested data set is neither on disk nor downloadable."""


def default_cache_dir():
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nnlearn"


def md5sum(path):
    path = _path("path", path)
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _find_local(name, filename):
    """A file from $NNLEARN_DATA_DIR: DIR/filename, DIR/name/filename, or either without .gz."""
    root = os.environ.get(DATA_DIR_ENV)
    if not root:
        return None
    for folder in (Path(root), Path(root) / name):
        for candidate in (folder / filename, folder / filename.removesuffix(".gz")):
            if candidate.is_file():
                return candidate
    return None


def _download(urls, filename, md5, target):
    """Download to a temporary file, check the md5, then move into place: no partial files."""
    errors = []
    target.parent.mkdir(parents=True, exist_ok=True)
    for base in urls:
        url = base + filename
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{filename}.")
        try:
            with os.fdopen(fd, "wb") as tmp, urllib.request.urlopen(url, timeout=30) as response:
                shutil.copyfileobj(response, tmp)
            if md5sum(tmp_name) != md5:
                raise ValueError(f"checksum mismatch (expected md5 {md5})")
            os.replace(tmp_name, target)
            return target
        except Exception as exc:  # try the next mirror, remember why this one failed
            errors.append(f"{url}: {exc}")
        finally:
            Path(tmp_name).unlink(missing_ok=True)
    raise DataUnavailableError("could not download " + filename + ":\n  " + "\n  ".join(errors))


def mnist_file(name, filename, cache_dir=None, download=True):
    """Path of one MNIST-format file: from $NNLEARN_DATA_DIR, the cache, or a checked download."""
    spec = MNIST_SETS[check_choice("name", name, MNIST_SETS)]
    check_choice("filename", filename, spec["md5"])
    check_type("download", download, bool, "True or False")
    if cache_dir is not None:
        _path("cache_dir", cache_dir)
    local = _find_local(name, filename)
    if local is not None:
        return local
    cached = Path(cache_dir or default_cache_dir()) / name / filename
    if cached.is_file() and md5sum(cached) == spec["md5"][filename]:
        return cached
    if not download:
        raise DataUnavailableError(
            f"{name} file {filename} not found: put the IDX files in a folder and set "
            f"{DATA_DIR_ENV} to it, or allow download=True.")
    try:
        return _download(spec["urls"], filename, spec["md5"][filename], cached)
    except DataUnavailableError as exc:
        raise DataUnavailableError(
            f"{exc}\nOffline? Put the four {name} IDX files in a folder and set {DATA_DIR_ENV} to it.") from None


def load_mnist(name="mnist", split="train", cache_dir=None, download=True, verbose=True):
    """Images as float32 in [0, 1] with shape (n, 28, 28), labels as int64 (n,).
    `name` is "mnist" or "fashion-mnist", `split` is "train" or "test"."""
    check_choice("name", name, MNIST_SETS)
    prefix = {"train": "train", "test": "t10k"}[check_choice("split", split, ("train", "test"))]
    check_type("verbose", verbose, bool, "True or False")
    images_path = mnist_file(name, f"{prefix}-images-idx3-ubyte.gz", cache_dir, download)
    labels_path = mnist_file(name, f"{prefix}-labels-idx1-ubyte.gz", cache_dir, download)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if len(images) != len(labels):
        raise ValueError(f"{name} {split}: {len(images)} images but {len(labels)} labels")
    if verbose:
        print(f"Loaded {name} ({split}): {len(images)} images of {images.shape[1]}x{images.shape[2]} "
              f"from {images_path.parent}")
    return images.astype(np.float32) / 255.0, labels.astype(np.int64)


def load_mnist_or_digits(split="train", download=True, verbose=True):
    """MNIST if available, else the bundled 8x8 digits; says which on screen.
    Returns (X flattened to (n, n_pixels), y, name_of_data_used)."""
    check_choice("split", split, ("train", "test"))
    try:
        X, y = load_mnist("mnist", split, download=download, verbose=verbose)
        return X.reshape(len(X), -1), y, "mnist"
    except DataUnavailableError as exc:
        print(f"MNIST is not available ({str(exc).splitlines()[0]}).\n"
              "Falling back to scikit-learn's bundled 8x8 digits (all 1797 images, no train/test split).")
        X, y = load_digits(verbose=verbose)
        return X, y, "digits-8x8"


# --- small utilities every chapter uses ------------------------------------------

def train_test_split(X, y, test_fraction, rng):
    """Shuffle with `rng` and split into (X_train, X_test, y_train, y_test); dtypes are kept."""
    X = check_array("X", X, min_ndim=1, kind="number")
    y = check_array("y", y, min_ndim=1, kind="number")
    check_same_length("X", X, "y", y)
    test_fraction = check_number("test_fraction", test_fraction, low=0, high=1, low_open=True, high_open=True)
    order = check_rng("rng", rng).permutation(len(X))
    n_test = max(1, int(round(test_fraction * len(X))))
    if n_test == len(X):
        raise ValueError(f"expected test_fraction to leave training examples, got test_fraction = {test_fraction} "
                         f"of X with {len(X)} rows")
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def one_hot(y, n_classes, dtype=np.float32):
    """Integer labels (n,) -> one-hot rows (n, n_classes), float32 unless `dtype` says otherwise."""
    y = check_labels("y", y, check_positive("n_classes", n_classes, integer=True))
    out = np.zeros((len(y), n_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1.0
    return out
