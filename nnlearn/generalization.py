"""Measuring generalization (chapter 8): three-way splits, k-fold indices, early stopping,
ensemble averaging, polynomial features with a bias-variance decomposition, and digit augmentation.

Randomness is explicit: every function that shuffles takes a numpy Generator `rng`.
"""
import copy

import numpy as np

from .validate import check_array, check_number, check_positive, check_rng, check_same_length


def train_val_test_split(X, y, val_fraction, test_fraction, rng):
    """Shuffle with `rng`; return (X_train, y_train), (X_val, y_val), (X_test, y_test)."""
    X = check_array("X", X, min_ndim=1, kind="number")
    y = check_array("y", y, min_ndim=1, kind="number")
    check_same_length("X", X, "y", y)
    fv = check_number("val_fraction", val_fraction, low=0, high=1, low_open=True, high_open=True)
    ft = check_number("test_fraction", test_fraction, low=0, high=1, low_open=True, high_open=True)
    n = len(X)
    n_val, n_test = max(1, round(fv * n)), max(1, round(ft * n))
    if n_val + n_test >= n:
        raise ValueError(f"expected val_fraction + test_fraction to leave training examples, got {fv} + {ft} "
                         f"of X with {n} rows")
    order = check_rng("rng", rng).permutation(n)
    val, test, train = order[:n_val], order[n_val:n_val + n_test], order[n_val + n_test:]
    return (X[train], y[train]), (X[val], y[val]), (X[test], y[test])


def kfold_indices(n, k, rng=None):
    """k folds of range(n) (shuffled by `rng` if given): a list of (train_idx, test_idx). Every index
    is in exactly one test fold; the first n % k folds have one example more than the others."""
    n = check_positive("n", n, integer=True)
    k = check_number("k", k, low=2, high=n, integer=True)
    order = np.arange(n) if rng is None else check_rng("rng", rng).permutation(n)
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [(np.concatenate([order[:a], order[b:]]), order[a:b]) for a, b in zip(bounds, bounds[1:])]


class EarlyStopping:
    """Stop when the validation loss has not improved for `patience` epochs in a row.

    An epoch improves when its loss is below best - min_delta; it then becomes the best and a deep
    copy of `state` (weights, a state_dict) is kept. `update` returns True when training should stop,
    i.e. after `patience` consecutive epochs without improvement. Restore `best_state` afterwards."""

    def __init__(self, patience, min_delta=0.0):
        self.patience = check_positive("patience", patience, integer=True)
        self.min_delta = check_number("min_delta", min_delta, low=0)
        self.best_loss, self.best_state, self.best_epoch = np.inf, None, -1
        self.epoch, self.wait = -1, 0

    def update(self, loss, state):
        """Record the validation `loss` of the next epoch with the model's `state`; True = stop now."""
        loss = check_number("loss", loss)
        self.epoch += 1
        if loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.wait = loss, self.epoch, 0
            self.best_state = copy.deepcopy(state)
        else:
            self.wait += 1
        return self.wait >= self.patience


def ensemble_average(probabilities):
    """Average the class probabilities of M models, shape (M, n, K) -> (n, K)."""
    P = check_array("probabilities", probabilities, ndim=3)
    if P.min() < 0 or not np.allclose(P.sum(axis=2), 1, atol=1e-4):
        raise ValueError("expected probabilities to hold probability rows (>= 0, summing to 1) of shape (M, n, K)")
    return P.mean(axis=0)


def polynomial_features(x, degree):
    """Columns x, x^2, ..., x^degree of a 1-D x (no constant column: the bias is separate)."""
    x = check_array("x", x, ndim=1)
    degree = check_positive("degree", degree, integer=True)
    return x[:, None] ** np.arange(1, degree + 1)


def bias_variance(predictions, target):
    """predictions (R, m): R models (trained on R data sets) at m points; target (m,): the true
    function there. Returns (bias^2, variance), each averaged over the points; their sum plus the
    noise variance is the expected squared test error."""
    P = check_array("predictions", predictions, ndim=2)
    f = check_array("target", target, shape=(P.shape[1],), match=f"predictions of shape {P.shape}")
    mean = P.mean(axis=0)
    return float(np.mean((mean - f) ** 2)), float(np.mean(P.var(axis=0)))


def augment_images(images, rng, max_shift=2, max_angle=10.0):
    """Each image (n, h, w) shifted by whole pixels in [-max_shift, max_shift] along both axes and
    rotated by an angle in [-max_angle, max_angle] degrees about its centre (bilinear, zero
    padding), at random; one batched torch grid_sample for the whole stack."""
    import torch
    import torch.nn.functional as F

    X = check_array("images", images, ndim=3)
    rng = check_rng("rng", rng)
    max_shift = check_number("max_shift", max_shift, low=0, integer=True)
    max_angle = check_number("max_angle", max_angle, low=0, high=180)
    n, h, w = X.shape
    angle = np.deg2rad(rng.uniform(-max_angle, max_angle, size=n))
    shift = rng.integers(-max_shift, max_shift + 1, size=(n, 2)).astype(np.float64)     # (dx, dy) in pixels
    R = np.stack([np.stack([np.cos(angle), -np.sin(angle)], -1), np.stack([np.sin(angle), np.cos(angle)], -1)], -2)
    D = np.diag([w / 2, h / 2])                          # normalised (x, y) -> centred pixels
    Dinv = np.diag([2 / w, 2 / h])
    # output pixel q reads the input at R (q - shift): in normalised coordinates Dinv R (D q - shift)
    theta = np.concatenate([Dinv @ R @ D, (-Dinv @ R @ shift[:, :, None])], axis=2)
    grid = F.affine_grid(torch.as_tensor(theta), (n, 1, h, w), align_corners=False)
    out = F.grid_sample(torch.as_tensor(X, dtype=torch.float64)[:, None], grid, mode="bilinear",
                        padding_mode="zeros", align_corners=False)
    return out[:, 0].numpy().astype(X.dtype)
