"""Gradient descent (GD) and mini-batch stochastic gradient descent (SGD) from scratch in numpy,
learning-rate schedules, and the model problem for learning rates: the quadratic bowl.

Parameters are numpy arrays; SGD works on a list of them (e.g. `[W, b]`). Every function
returns new arrays and leaves its inputs unchanged; a float32 parameter stays float32.
Randomness comes from an explicit `rng = np.random.default_rng(seed)`.
"""
import math
from dataclasses import dataclass

import numpy as np

from .validate import check_array, check_callable, check_number, check_positive, check_rng, check_type


# --- gradient descent --------------------------------------------------------------

def gd_step(v, grad, lr):
    """One step downhill: v - lr * grad."""
    v = check_array("v", v)
    return v - check_positive("lr", lr) * check_array("grad", grad, shape=v.shape, match=f"v of shape {v.shape}")


def as_schedule(lr):
    """A learning rate as a schedule k -> lr_k (a number > 0 becomes a constant schedule)."""
    if callable(lr):
        return lr
    lr = check_positive("lr", lr)
    return lambda k: lr


def _grad_shape_error(what, got, want):
    return ValueError(f"expected {what} of shape {want} (the shape of the parameter), got shape {got}")


def gradient_descent(grad, v0, lr, n_steps):
    """The iterates v_0, ..., v_{n_steps} of v_{k+1} = v_k - lr_k grad(v_k), stacked into an
    array of shape (n_steps + 1, *v0.shape). `lr` is a number or a schedule k -> lr_k."""
    check_callable("grad", grad)
    schedule, v = as_schedule(lr), check_array("v0", v0).copy()
    points = [v]
    for k in range(check_number("n_steps", n_steps, low=0, integer=True)):
        g = np.asarray(grad(v))
        if g.shape != v.shape:                                 # O(1) checks at every step
            raise _grad_shape_error(f"grad(v) at step {k}", g.shape, v.shape)
        v = v - check_positive(f"lr (the schedule's lr_{k})", schedule(k)) * g
        points.append(v)
    return np.stack(points)


def exponential_decay(lr0, rate):
    """lr_k = lr0 exp(-rate k). The rates sum to lr0 / (1 - exp(-rate)) < infinity."""
    lr0, rate = check_positive("lr0", lr0), check_number("rate", rate, low=0)
    return lambda k: lr0 * math.exp(-rate * k)


def inverse_decay(lr0, rate):
    """lr_k = lr0 / (1 + rate k). The rates sum to infinity, their squares do not."""
    lr0, rate = check_positive("lr0", lr0), check_number("rate", rate, low=0)
    return lambda k: lr0 / (1.0 + rate * k)


def steepest_descent_step(grad, eps):
    """-eps grad / ||grad||: of all steps of length eps, the one along which the linearised
    change grad . dv is most negative (by Cauchy-Schwarz it equals -eps ||grad||)."""
    grad, eps = check_array("grad", grad), check_positive("eps", eps)
    norm = np.linalg.norm(grad)
    if norm == 0:
        raise ValueError("expected grad to be nonzero, got the zero gradient: a stationary point, "
                         "no direction is downhill")
    return -eps * grad / norm


# --- stochastic gradient descent -------------------------------------------------------

def minibatches(n, batch_size, rng, drop_last=False):
    """Index arrays of one epoch: a random permutation of range(n) cut into consecutive chunks
    of `batch_size`; the last chunk is smaller when batch_size does not divide n (dropped
    with drop_last=True). Each example is used exactly once per epoch. The arguments are checked
    at the call, not at the first batch."""
    n = check_positive("n", n, integer=True)
    batch_size = check_number("batch_size", batch_size, low=1, high=n, integer=True)
    return _minibatches(n, batch_size, check_rng("rng", rng), check_type("drop_last", drop_last, bool, "True or False"))


def _minibatches(n, batch_size, rng, drop_last):
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
    check_type("params", params, (list, tuple), "a list of arrays, e.g. [W, b]")
    if not params:
        raise ValueError("expected params to hold at least one array, got an empty list")
    params = [check_array(f"params[{i}]", p).copy() for i, p in enumerate(params)]   # updated in place below
    check_callable("grad_fn", grad_fn)
    lr, batches = check_positive("lr", lr), minibatches(n, batch_size, rng)
    if trace is not None:
        check_type("trace", trace, list, "a list or None")
    return params, _sgd_steps(params, grad_fn, batches, lr, trace)


def _sgd_steps(params, grad_fn, batches, lr, trace=None):
    """The unchecked engine of sgd_epoch (nnlearn.backprop.train calls it too): p -= lr * dC_B/dp
    in place, for every index batch B; returns the batch costs."""
    scratch, costs = [np.empty_like(p) for p in params], []
    for idx in batches:
        cost, grads = grad_fn(params, idx)
        if len(grads) != len(params):
            raise ValueError(f"expected grad_fn to return one gradient per parameter ({len(params)}), got {len(grads)}")
        for i, (p, g, step) in enumerate(zip(params, grads, scratch)):
            if np.shape(g) != p.shape:                         # O(1) checks at every step
                raise _grad_shape_error(f"the gradient grads[{i}] from grad_fn", np.shape(g), p.shape)
            np.multiply(g, lr, out=step, casting="same_kind")
            p -= step
        costs.append(float(cost))
        if trace is not None:
            trace.append([p.copy() for p in params])
    return costs


def minibatch_variance(sigma2, n, m, replace=False):
    """E ||g_B - g||^2 for the mean g_B of m of n per-example gradients g_i, where g is their
    mean and sigma2 = (1/n) sum_i ||g_i - g||^2: sigma2 / m when the m are drawn with
    replacement, sigma2 / m * (n - m) / (n - 1) without (the finite-population correction)."""
    sigma2, n = check_number("sigma2", sigma2, low=0), check_positive("n", n, integer=True)
    replace = check_type("replace", replace, bool, "True or False")
    m = check_number("m", m, low=1, high=None if replace else n, integer=True)
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

    def __post_init__(self):
        object.__setattr__(self, "alpha", check_positive("alpha", self.alpha))
        object.__setattr__(self, "beta", check_positive("beta", self.beta))

    @staticmethod
    def _points(v):
        v = check_array("v", v, finite=False)                  # inf and NaN propagate: divergence is a result
        if v.ndim == 0 or v.shape[-1] != 2:
            raise ValueError(f"expected v of shape (..., 2), points (x, y), got shape {v.shape}")
        return v

    def __call__(self, v):
        v = self._points(v)
        return 0.5 * (self.alpha * v[..., 0] ** 2 + self.beta * v[..., 1] ** 2)

    def grad(self, v):
        v = self._points(v)
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
        lr = check_positive("lr", lr)
        return abs(1 - lr * self.alpha), abs(1 - lr * self.beta)
