"""Data sets: generated 2-D toy sets, scikit-learn's bundled 8x8 digits, and real 28x28 images
(MNIST, else Fashion-MNIST; the files are found or downloaded by nnlearn.mnist).

Every generator takes an explicit `rng = np.random.default_rng(seed)`. Every loader
says on screen what it loaded and from where (pass verbose=False to silence it).
"""
import os

import numpy as np

from .idx import read_idx, write_idx  # noqa: F401  (re-exported: nnlearn.data is what learners import)
from .mnist import DATA_DIR_ENV, MNIST_SETS, DataUnavailableError, load_mnist  # noqa: F401
from .validate import (check_array, check_choice, check_dtype, check_labels, check_number, check_positive,
                       check_rng, check_same_length, check_type)


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


# --- real 28x28 images: MNIST, else Fashion-MNIST (nnlearn.mnist finds the files) -----

REAL_IMAGE_SETS = ("mnist", "fashion-mnist")           # in order of preference
# Test accuracy a one-hidden-layer MLP reaches when trained on the full training set.
MLP_ACCURACY_TARGETS = {"mnist": 0.97, "fashion-mnist": 0.88}
CLASS_NAMES = {"mnist": [str(d) for d in range(10)],
               "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]}


def running_in_ci():
    """True when the environment variable CI is set to true (as CI services do)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _subsample(X, y, n, rng, arg):
    if n is None:
        return X, y
    keep = np.sort(rng.choice(len(X), size=check_number(arg, n, low=1, high=len(X), integer=True), replace=False))
    return X[keep], y[keep]


def load_real_images(n_train=None, n_test=None, rng=None, flatten=False, cache_dir=None,
                     download=True, verbose=True):
    """Real 28x28 images: MNIST where available, otherwise Fashion-MNIST; never the 8x8 digits.

    Returns (X_train, y_train), (X_test, y_test), name: X float32 in [0, 1] of shape (n, 28, 28)
    ((n, 784) when `flatten`), y int64 in 0..9, name "mnist" or "fashion-mnist" (for
    MLP_ACCURACY_TARGETS[name] and CLASS_NAMES[name]). n_train / n_test: a random subsample of
    that many images, drawn with `rng`, for a CPU budget; None keeps all 60000 / 10000.
    Raises DataUnavailableError, saying how to get the data, when neither set is available.
    """
    for arg, n in (("n_train", n_train), ("n_test", n_test)):
        if n is not None:
            check_positive(arg, n, integer=True)
            if rng is None:
                raise ValueError(f"expected rng = np.random.default_rng(seed) to draw the subsample {arg} = {n}, got None")
    if rng is not None:
        check_rng("rng", rng)
    for arg, value in (("flatten", flatten), ("download", download), ("verbose", verbose)):
        check_type(arg, value, bool, "True or False")
    reasons = []
    for name in REAL_IMAGE_SETS:
        if reasons and verbose:
            print(f"MNIST is not available, so this run tries {name} (the same format: 28x28 grey images, "
                  f"10 classes, 60000 + 10000 images). Why: {reasons[-1]}")
        try:
            train = load_mnist(name, "train", cache_dir, download, verbose)
            test = load_mnist(name, "test", cache_dir, download, verbose)
            break
        except DataUnavailableError as exc:
            reasons.append(str(exc))
    else:
        ci = " Under CI=true this is an error, never a fallback." if running_in_ci() else ""
        raise DataUnavailableError("No real 28x28 images (MNIST or Fashion-MNIST) are available." + ci
                                   + "\n" + "\n".join(reasons))
    (X_train, y_train), (X_test, y_test) = _subsample(*train, n_train, rng, "n_train"), \
        _subsample(*test, n_test, rng, "n_test")
    if verbose and (n_train is not None or n_test is not None):
        print(f"Using a random subsample of {name}: {len(X_train)} training and {len(X_test)} test images.")
    if flatten:
        X_train, X_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    return (X_train, y_train), (X_test, y_test), name


def load_mnist_or_digits(split="train", download=True, verbose=True):
    """MNIST if available, else the bundled 8x8 digits, saying so; under CI=true no fallback.
    Returns (X flattened to (n, n_pixels), y, name_of_data_used). For real images use
    load_real_images, which falls back to Fashion-MNIST instead."""
    check_choice("split", split, ("train", "test"))
    try:
        X, y = load_mnist("mnist", split, download=download, verbose=verbose)
        return X.reshape(len(X), -1), y, "mnist"
    except DataUnavailableError as exc:
        if running_in_ci():
            raise DataUnavailableError(f"CI=true: no fallback to the 8x8 digits. {exc}") from None
        print(f"MNIST is not available. {exc}\n"
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
    out = np.zeros((len(y), n_classes), dtype=check_dtype("dtype", dtype, "biuf"))
    out[np.arange(len(y)), y] = 1.0
    return out
