"""Cost (loss) functions C(A, Y) of a network's outputs A for targets Y, with their gradient dC/dA.

Rows are examples: A and Y have shape (n, k) (or (n,) for one output). Every cost here is an
average over the examples of a per-example cost, C = (1/n) sum_x C_x, so each row of dC/dA
carries a factor 1/n. Each cost is a `Loss(name, per_example, gradient, unchecked)`; `LOSSES`
maps names to them, and calling a Loss gives the average cost. `unchecked(A, Y)` returns
(C, dC/dA) without argument checks, for inner loops. float32 in, float32 out.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .validate import check_array, check_choice, check_same_length


@dataclass(frozen=True)
class Loss:
    name: str
    per_example: Callable[[np.ndarray, np.ndarray], np.ndarray]   # (A, Y) -> (n,) costs C_x
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]      # (A, Y) -> dC/dA, shape of A
    unchecked: Callable                                            # (A, Y) -> (C, dC/dA), no checks

    def __call__(self, A, Y):
        return float(np.mean(self.per_example(A, Y)))


def _check(A, Y, a="A", logits=False):
    """A and Y of the same shape (n, ...), non-empty; finite, except that logits may be -inf (masked)."""
    A = check_array(a, A, finite=not logits)
    Y = check_array("Y", Y)
    if A.ndim == 0 or Y.ndim == 0:
        raise ValueError(f"expected {a} and Y to have the same shape (n, ...) with a batch axis, "
                         f"got {a} {A.shape} and Y {Y.shape}")
    check_same_length(a, A, "Y", Y)
    if A.shape != Y.shape:
        raise ValueError(f"expected {a} and Y to have the same shape, got {a} {A.shape} and Y {Y.shape}")
    return A, Y


def _quadratic(A, Y):
    D = A - Y
    return 0.5 * np.sum(D * D) / len(A), D / len(A)


def quadratic_cost_per_example(A, Y):
    """C_x = ||y(x) - a||^2 / 2 for every example (row)."""
    A, Y = _check(A, Y)
    return 0.5 * np.sum((Y - A).reshape(len(A), -1) ** 2, axis=1)


def quadratic_cost(A, Y):
    """C = 1/(2n) sum_x ||y(x) - a||^2, the quadratic cost (mean squared error up to a factor)."""
    return float(np.mean(quadratic_cost_per_example(A, Y)))


def quadratic_cost_gradient(A, Y):
    """dC/dA = (A - Y) / n for C = 1/(2n) sum_x ||y(x) - a||^2."""
    A, Y = _check(A, Y)
    return (A - Y) / len(A)


LOSSES = {"quadratic": Loss("quadratic", quadratic_cost_per_example, quadratic_cost_gradient, _quadratic)}


def get_loss(name: str) -> Loss:
    return LOSSES[check_choice("loss name", name, LOSSES)]


# --- softmax and cross-entropy (chapter 4) ------------------------------------------

def _row_max(Z):
    """max of every row of the logits Z (..., k). Masked logits (-inf) are fine as long as every row
    keeps a finite one; NaN, +inf and rows that are all -inf are refused."""
    Z = check_array("Z", Z, ndim=(1, 2), finite=False)
    m = Z.max(axis=-1, keepdims=True)
    if not np.isfinite(m).all():
        if np.isnan(m).any() or np.isposinf(m).any():
            raise ValueError(f"expected Z without NaN or +inf (-inf masks an entry), got {int(np.isnan(Z).sum())} "
                             f"NaN and {int(np.isposinf(Z).sum())} +inf entries")
        rows = np.flatnonzero(np.isneginf(m))
        raise ValueError(f"expected every row of Z to keep at least one finite logit, got {len(rows)} row(s) that "
                         f"are all -inf (fully masked), the first is row {rows[0]}")
    return Z, m


def _log_softmax(Z, m):
    shifted = Z - m
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _cross_entropy(logp, Y):
    """-sum_i y_i log o_i per row, where a masked o_i = 0 (log o_i = -inf) with y_i = 0 adds 0, not NaN."""
    with np.errstate(invalid="ignore"):
        return -np.sum(np.where(Y == 0, 0, Y * logp), axis=1)


def _softmax_cross_entropy(Z, Y):
    logp = _log_softmax(Z, Z.max(axis=1, keepdims=True))
    return np.mean(_cross_entropy(logp, Y)), (np.exp(logp) * Y.sum(axis=1, keepdims=True) - Y) / len(Z)


def log_softmax(Z):
    """log softmax(Z) row by row, computed as (Z - max) - log sum exp(Z - max): no overflow.
    A logit of -inf (a masked entry) gets log-probability -inf."""
    return _log_softmax(*_row_max(Z))


def softmax(Z):
    """o_i = e^{z_i} / sum_j e^{z_j} for every row of Z (shifting a row by a constant changes nothing)."""
    return np.exp(log_softmax(Z))


def _check_logits(Z, Y):
    Z, Y = _check(Z, Y, "Z", logits=True)
    if Z.ndim != 2:
        raise ValueError(f"expected Z and Y of shape (n, k), got Z {Z.shape} and Y {Y.shape}")
    return _row_max(Z)[0], Y


def softmax_cross_entropy_per_example(Z, Y):
    """C_x = -sum_i y_i log o_i with o = softmax(z), for logits Z and targets Y of shape (n, k)."""
    Z, Y = _check_logits(Z, Y)
    return _cross_entropy(_log_softmax(Z, Z.max(axis=1, keepdims=True)), Y)


def softmax_cross_entropy(Z, Y):
    """C = (1/n) sum_x C_x: torch's F.cross_entropy(Z, labels) when the rows of Y are one-hot."""
    return float(np.mean(softmax_cross_entropy_per_example(Z, Y)))


def softmax_cross_entropy_gradient(Z, Y):
    """dC/dZ = (o sum_i y_i - y) / n, row by row: (o - y) / n when every row of Y sums to 1
    (one-hot labels or probabilities)."""
    return _softmax_cross_entropy(*_check_logits(Z, Y))[1]


LOSSES["softmax_cross_entropy"] = Loss("softmax_cross_entropy", softmax_cross_entropy_per_example,
                                       softmax_cross_entropy_gradient, _softmax_cross_entropy)


# --- sigmoid and binary cross-entropy (chapter 5) -------------------------------------

def _softplus(Z):
    """log(1 + e^z) without overflow: max(z, 0) + log(1 + e^{-|z|})."""
    return np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z)))


def _sigmoid_cross_entropy(Z, Y):
    """-[y log sigma(z) + (1 - y) log(1 - sigma(z))] = softplus(z) - y z, summed over the outputs
    of a row and averaged over the rows; gradient (sigma(z) - y) / n, computed as
    (1 - y) sigma(z) - y sigma(-z) (no cancellation when sigma(z) is close to y = 1)."""
    per_example = (_softplus(Z) - Y * Z).reshape(len(Z), -1).sum(axis=1)
    return np.mean(per_example), ((1 - Y) * np.exp(-_softplus(-Z)) - Y * np.exp(-_softplus(Z))) / len(Z)


def _check_binary(Z, Y):
    Z, Y = _check(Z, Y, "Z")
    if Y.size and (Y.min() < 0 or Y.max() > 1):
        raise ValueError(f"expected Y to hold targets in [0, 1] (probabilities of the positive class), "
                         f"got values from {Y.min()} to {Y.max()}")
    return Z, Y.astype(Z.dtype, copy=False)


def sigmoid_cross_entropy_per_example(Z, Y):
    """C_x = sum_i softplus(z_i) - y_i z_i: binary cross-entropy of o = sigma(z) for every row,
    summed over independent sigmoid outputs, stable for any finite logits Z."""
    Z, Y = _check_binary(Z, Y)
    return (_softplus(Z) - Y * Z).reshape(len(Z), -1).sum(axis=1)


def sigmoid_cross_entropy(Z, Y):
    """C = (1/n) sum_x C_x: k times torch's F.binary_cross_entropy_with_logits(Z, Y) for k outputs."""
    return float(np.mean(sigmoid_cross_entropy_per_example(Z, Y)))


def sigmoid_cross_entropy_gradient(Z, Y):
    """dC/dZ = (sigma(Z) - Y) / n: 'output minus target', as for softmax with cross-entropy."""
    return _sigmoid_cross_entropy(*_check_binary(Z, Y))[1]


LOSSES["sigmoid_cross_entropy"] = Loss("sigmoid_cross_entropy", sigmoid_cross_entropy_per_example,
                                       sigmoid_cross_entropy_gradient, _sigmoid_cross_entropy)
