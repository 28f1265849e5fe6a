"""Regression losses beyond the quadratic (chapter 5): absolute error (L1) and Huber.

Conventions of nnlearn.losses: outputs A and targets Y of the same shape (n, ...), a cost per
example summed over its outputs, and the cost the mean over examples, so each row of a gradient
carries 1/n. For one output per example these are torch's F.l1_loss and F.huber_loss(delta=c).
The quadratic cost (with its factor 1/2) is nnlearn.losses.quadratic_cost. float32 in, float32 out.
"""
import numpy as np

from .losses import _check
from .validate import check_positive


def _per_example(values, n):
    return values.reshape(n, -1).sum(axis=1)


def absolute_cost(A, Y):
    """C = (1/n) sum_x ||a - y(x)||_1: the negative log-likelihood of a Laplace model, up to constants."""
    A, Y = _check(A, Y)
    return float(np.mean(_per_example(np.abs(A - Y), len(A))))


def absolute_cost_gradient(A, Y):
    """dC/dA = sign(A - Y) / n (0 where A = Y, as torch has it)."""
    A, Y = _check(A, Y)
    return (np.sign(A - Y) / len(A)).astype(A.dtype, copy=False)


def _huber(R, c):
    small = np.abs(R) <= c
    return np.where(small, 0.5 * R * R, c * (np.abs(R) - 0.5 * c))


def huber_cost(A, Y, threshold=1.0):
    """C = (1/n) sum_x sum_i huber(a_i - y_i): r^2 / 2 for |r| <= c, c (|r| - c/2) beyond, c = threshold."""
    A, Y = _check(A, Y)
    c = check_positive("threshold", threshold)
    return float(np.mean(_per_example(_huber(A - Y, c), len(A))))


def huber_cost_gradient(A, Y, threshold=1.0):
    """dC/dA = clip(A - Y, -c, c) / n: the residual, clipped at the threshold c."""
    A, Y = _check(A, Y)
    c = check_positive("threshold", threshold)
    return (np.clip(A - Y, -c, c) / len(A)).astype(A.dtype, copy=False)
