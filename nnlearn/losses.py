"""Cost (loss) functions C(A, Y) of a network's outputs A for targets Y, with their gradient dC/dA.

Rows are examples: A and Y have shape (n, k) (or (n,) for one output). Every cost here is an
average over the examples of a per-example cost, C = (1/n) sum_x C_x, so each row of dC/dA
carries a factor 1/n. Each cost is a `Loss(name, per_example, gradient)`; `LOSSES` maps names
to them, and calling a Loss gives the average cost.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Loss:
    name: str
    per_example: Callable[[np.ndarray, np.ndarray], np.ndarray]   # (A, Y) -> (n,) costs C_x
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]      # (A, Y) -> dC/dA, shape of A

    def __call__(self, A, Y):
        return float(np.mean(self.per_example(A, Y)))


def _check(A, Y):
    A, Y = np.asarray(A, dtype=float), np.asarray(Y, dtype=float)
    if A.shape != Y.shape or A.ndim == 0:
        raise ValueError(f"outputs and targets need the same shape (n, ...), got {A.shape} and {Y.shape}")
    return A, Y


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


LOSSES = {
    loss.name: loss
    for loss in [
        Loss("quadratic", quadratic_cost_per_example, quadratic_cost_gradient),
    ]
}


def get_loss(name: str) -> Loss:
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None


# --- softmax and cross-entropy (chapter 4) ------------------------------------------

def log_softmax(Z):
    """log softmax(Z) row by row, computed as (Z - max) - log sum exp(Z - max): no overflow."""
    Z = np.asarray(Z, dtype=float)
    shifted = Z - Z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(Z):
    """o_i = e^{z_i} / sum_j e^{z_j} for every row of Z (shifting a row by a constant changes nothing)."""
    return np.exp(log_softmax(Z))


def softmax_cross_entropy_per_example(Z, Y):
    """C_x = -sum_i y_i log o_i with o = softmax(z), for logits Z and targets Y of shape (n, k)."""
    Z, Y = _check(Z, Y)
    if Z.ndim != 2:
        raise ValueError(f"logits and targets need shape (n, k), got {Z.shape}")
    return -np.sum(Y * log_softmax(Z), axis=1)


def softmax_cross_entropy(Z, Y):
    """C = (1/n) sum_x C_x: torch's F.cross_entropy(Z, labels) when the rows of Y are one-hot."""
    return float(np.mean(softmax_cross_entropy_per_example(Z, Y)))


def softmax_cross_entropy_gradient(Z, Y):
    """dC/dZ = (o sum_i y_i - y) / n, row by row: (o - y) / n when every row of Y sums to 1
    (one-hot labels or probabilities)."""
    Z, Y = _check(Z, Y)
    return (softmax(Z) * Y.sum(axis=-1, keepdims=True) - Y) / len(Z)


LOSSES["softmax_cross_entropy"] = Loss("softmax_cross_entropy", softmax_cross_entropy_per_example,
                                       softmax_cross_entropy_gradient)
