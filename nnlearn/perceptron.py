"""The perceptron f(w.x + b), its learning rule, and linear separability.

Labels are +1 / -1. Shapes: X is (n_samples, n_features), y is (n_samples,).
"""
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

from .activations import elementwise
from .validate import (check_array, check_callable, check_labels, check_number, check_positive, check_rng,
                       check_same_length, check_type)


@elementwise
def step(v):
    """Heaviside step: 1 where v > 0, else 0 (the 0/1 twin of sign)."""
    return (v > 0).astype(v.dtype)


def _data(X, y):
    """X (n, d), finite and non-empty, and labels y (n,) in {-1, +1}."""
    X = check_array("X", X, shape=("n", "d"))
    y = check_labels("y", y, values=(-1, 1))
    check_same_length("X", X, "y", y)
    return X, y


@dataclass
class PerceptronResult:
    w: np.ndarray
    b: float
    mistakes_per_epoch: list = field(default_factory=list)

    @property
    def converged(self):
        return bool(self.mistakes_per_epoch) and self.mistakes_per_epoch[-1] == 0

    @property
    def n_updates(self):
        return int(sum(self.mistakes_per_epoch))


def perceptron_predict(X, w, b):
    """sign(X w + b), with 0 mapped to -1 so every point gets a class."""
    X = check_array("X", X, shape=("n", "d"), nonempty=False)
    w = check_array("w", w, shape=(X.shape[1],))
    return np.where(X @ w + check_number("b", b) > 0, 1, -1)


def train_perceptron(X, y, lr=1.0, max_epochs=100, rng=None, w0=None, b0=0.0):
    """Rosenblatt's rule: for each misclassified (x_i, y_i), i.e. y_i (w.x_i + b) <= 0,
    set w <- w + lr y_i x_i and b <- b + lr y_i.  Visits examples in order, or in a
    fresh random order each epoch when `rng` is given.  Stops after the first epoch
    without a mistake (convergence) or after `max_epochs`.
    """
    X, y = _data(X, y)
    lr, max_epochs = check_positive("lr", lr), check_positive("max_epochs", max_epochs, integer=True)
    if rng is not None:
        check_rng("rng", rng)
    w = np.zeros(X.shape[1], X.dtype) if w0 is None else check_array("w0", w0, shape=(X.shape[1],)).copy()
    b = check_number("b0", b0)
    result = PerceptronResult(w, b)
    for _ in range(max_epochs):
        order = rng.permutation(len(X)) if rng is not None else range(len(X))
        mistakes = 0
        for i in order:
            if y[i] * (X[i] @ w + b) <= 0:
                w += lr * y[i] * X[i]
                b += lr * y[i]
                mistakes += 1
        result.mistakes_per_epoch.append(mistakes)
        if mistakes == 0:
            break
    result.w, result.b = w, b
    return result


def separating_hyperplane(X, y):
    """A separating (w, b) with a large margin, or None when the data are not linearly separable.

    Solves the linear program: maximise t subject to y_i (w.x_i + b) >= t and every
    component of (w, b) in [-1, 1]. The data are separable exactly when the optimum t > 0.
    """
    X, y = _data(X, y)
    n, d = X.shape
    # Variables z = (w, b, t); minimise -t; constraints t - y_i (x_i, 1).(w, b) <= 0.
    A_ub = np.hstack([-y[:, None] * np.hstack([X, np.ones((n, 1))]), np.ones((n, 1))])
    c = np.zeros(d + 2)
    c[-1] = -1.0
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(n), bounds=[(-1, 1)] * (d + 1) + [(None, 1)], method="highs")
    if res.status != 0 or res.x[-1] <= 1e-9:
        return None
    return res.x[:d], float(res.x[d])


def is_linearly_separable(X, y):
    return separating_hyperplane(X, y) is not None


def novikoff_bound(X, y, w, b):
    """Upper bound (R / gamma)^2 on the number of perceptron updates (started from zero),
    from Novikoff's theorem, using the separating hyperplane (w, b) for the margin
    gamma and R = max ||(x_i, 1)|| (the bias is the weight of a constant input 1)."""
    X, y = _data(X, y)
    u = np.append(check_array("w", w, shape=(X.shape[1],)), check_number("b", b))
    if not np.any(u):
        raise ValueError("(w, b) is zero: it defines no hyperplane")
    Xa = np.hstack([X, np.ones((len(X), 1), X.dtype)])
    u = u / np.linalg.norm(u)
    gamma = np.min(y * (Xa @ u))
    if gamma <= 0:
        raise ValueError("(w, b) does not separate the data")
    R = np.max(np.linalg.norm(Xa, axis=1))
    return (R / gamma) ** 2


def two_layer_forward(X, W1, b1, W2, b2, phi=step):
    """h = phi(X W1^T + b1), out = phi(h W2^T + b2): a network with one hidden layer.
    W1 is (n_hidden, n_in), W2 is (n_out, n_hidden); rows of X are examples."""
    X = check_array("X", X, shape=("n", "n_in"), nonempty=False)
    W1 = check_array("W1", W1, shape=("n_hidden", X.shape[1]))
    b1 = check_array("b1", b1, shape=(W1.shape[0],))
    W2 = check_array("W2", W2, shape=("n_out", W1.shape[0]))
    b2 = check_array("b2", b2, shape=(W2.shape[0],))
    check_callable("phi", phi)
    return phi(phi(X @ W1.T + b1) @ W2.T + b2)


def collapse_linear_layers(weights):
    """W* = W_L ... W_2 W_1 for weights [W_1, ..., W_L] (W_1 is applied first)."""
    check_type("weights", weights, (list, tuple), "a list of weight matrices [W_1, ..., W_L]")
    if not weights:
        raise ValueError("expected weights to hold at least one matrix, got an empty list")
    W = check_array("weights[0]", weights[0], ndim=2)
    for p, W_next in enumerate(weights[1:], start=1):
        W = check_array(f"weights[{p}]", W_next, shape=("n_out", W.shape[0])) @ W
    return W
