"""Gradient descent (GD) and mini-batch stochastic gradient descent (SGD) from scratch in numpy,
learning-rate schedules, and the model problem for learning rates: the quadratic bowl.

Parameters are numpy arrays; SGD works on a list of them (e.g. `[W, b]`). Every function
returns new arrays and leaves its inputs unchanged. Randomness comes from an explicit
`rng = np.random.default_rng(seed)`.
"""
import math
from dataclasses import dataclass

import numpy as np


# --- gradient descent --------------------------------------------------------------

def gd_step(v, grad, lr):
    """One step downhill: v - lr * grad."""
    return np.asarray(v, dtype=float) - lr * np.asarray(grad, dtype=float)


def as_schedule(lr):
    """A learning rate as a schedule k -> lr_k (a number becomes a constant schedule)."""
    return lr if callable(lr) else (lambda k: float(lr))


def gradient_descent(grad, v0, lr, n_steps):
    """The iterates v_0, ..., v_{n_steps} of v_{k+1} = v_k - lr_k grad(v_k), stacked into an
    array of shape (n_steps + 1, *v0.shape). `lr` is a number or a schedule k -> lr_k."""
    schedule = as_schedule(lr)
    points = [np.array(v0, dtype=float)]
    for k in range(n_steps):
        points.append(gd_step(points[-1], grad(points[-1]), schedule(k)))
    return np.stack(points)


def exponential_decay(lr0, rate):
    """lr_k = lr0 exp(-rate k). The rates sum to lr0 / (1 - exp(-rate)) < infinity."""
    return lambda k: lr0 * math.exp(-rate * k)


def inverse_decay(lr0, rate):
    """lr_k = lr0 / (1 + rate k). The rates sum to infinity, their squares do not."""
    return lambda k: lr0 / (1.0 + rate * k)


def steepest_descent_step(grad, eps):
    """-eps grad / ||grad||: of all steps of length eps, the one along which the linearised
    change grad . dv is most negative (by Cauchy-Schwarz it equals -eps ||grad||)."""
    grad = np.asarray(grad, dtype=float)
    norm = np.linalg.norm(grad)
    if norm == 0:
        raise ValueError("the gradient is zero: a stationary point, no direction is downhill")
    return -eps * grad / norm


# --- stochastic gradient descent -------------------------------------------------------

def minibatches(n, batch_size, rng, drop_last=False):
    """Index arrays of one epoch: a random permutation of range(n) cut into consecutive chunks
    of `batch_size`; the last chunk is smaller when batch_size does not divide n (dropped
    with drop_last=True). Each example is used exactly once per epoch."""
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and n = {n}, got {batch_size}")
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        if drop_last and len(idx) < batch_size:
            return
        yield idx


def sgd_epoch(params, grad_fn, n, batch_size, lr, rng, trace=None):
    """One epoch of mini-batch SGD: for every mini-batch B from `minibatches(n, batch_size, rng)`,
    p <- p - lr * dC_B/dp for each parameter p, where C_B is the cost averaged over B.
    `grad_fn(params, idx)` returns (C_B, [dC_B/dp for p in params]). Returns (new params, list
    of the batch costs C_B, each before its step). Pass a list as `trace` to collect the
    parameters after every step."""
    params = [np.array(p, dtype=float) for p in params]
    costs = []
    for idx in minibatches(n, batch_size, rng):
        cost, grads = grad_fn(params, idx)
        params = [gd_step(p, g, lr) for p, g in zip(params, grads)]
        costs.append(float(cost))
        if trace is not None:
            trace.append(list(params))
    return params, costs


def minibatch_variance(sigma2, n, m, replace=False):
    """E ||g_B - g||^2 for the mean g_B of m of n per-example gradients g_i, where g is their
    mean and sigma2 = (1/n) sum_i ||g_i - g||^2: sigma2 / m when the m are drawn with
    replacement, sigma2 / m * (n - m) / (n - 1) without (the finite-population correction)."""
    if m < 1 or (m > n and not replace):
        raise ValueError(f"the batch size m must be between 1 and n = {n}, got {m}")
    if replace:
        return sigma2 / m
    return 0.0 if m == n else sigma2 / m * (n - m) / (n - 1)


# --- the model problem: a quadratic bowl ------------------------------------------------

@dataclass(frozen=True)
class QuadraticBowl:
    """L(x, y) = (alpha x^2 + beta y^2) / 2 with alpha, beta > 0; its minimum is L(0, 0) = 0.

    GD multiplies the coordinates by (1 - lr alpha) and (1 - lr beta) at every step, so it
    converges from every start iff 0 < lr < 2 / max(alpha, beta)."""
    alpha: float
    beta: float

    def __call__(self, v):
        v = np.asarray(v, dtype=float)
        return 0.5 * (self.alpha * v[..., 0] ** 2 + self.beta * v[..., 1] ** 2)

    def grad(self, v):
        v = np.asarray(v, dtype=float)
        return np.stack([self.alpha * v[..., 0], self.beta * v[..., 1]], axis=-1)

    @property
    def hessian(self):
        return np.diag([float(self.alpha), float(self.beta)])

    @property
    def max_stable_lr(self):
        """2 / max(alpha, beta): GD diverges for larger learning rates."""
        return 2.0 / max(self.alpha, self.beta)

    @property
    def best_lr(self):
        """2 / (alpha + beta), the constant rate whose slower contraction factor is smallest."""
        return 2.0 / (self.alpha + self.beta)

    def contraction(self, lr):
        """(|1 - lr alpha|, |1 - lr beta|): the factors by which |x| and |y| change per step."""
        return abs(1 - lr * self.alpha), abs(1 - lr * self.beta)
