"""The perceptron f(w.x + b), its learning rule, and linear separability.

Labels are +1 / -1. Shapes: X is (n_samples, n_features), y is (n_samples,).
"""
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog


def step(v):
    """Heaviside step: 1 where v > 0, else 0 (the 0/1 twin of sign)."""
    return (np.asarray(v, dtype=float) > 0).astype(float)


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
    return np.where(np.asarray(X, dtype=float) @ w + b > 0, 1, -1)


def train_perceptron(X, y, lr=1.0, max_epochs=100, rng=None, w0=None, b0=0.0):
    """Rosenblatt's rule: for each misclassified (x_i, y_i), i.e. y_i (w.x_i + b) <= 0,
    set w <- w + lr y_i x_i and b <- b + lr y_i.  Visits examples in order, or in a
    fresh random order each epoch when `rng` is given.  Stops after the first epoch
    without a mistake (convergence) or after `max_epochs`.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if set(np.unique(y)) - {-1, 1}:
        raise ValueError("train_perceptron expects labels -1 and +1")
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    b = float(b0)
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
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
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
    Xa = np.hstack([np.asarray(X, dtype=float), np.ones((len(X), 1))])
    u = np.append(w, b)
    u = u / np.linalg.norm(u)
    gamma = np.min(np.asarray(y) * (Xa @ u))
    if gamma <= 0:
        raise ValueError("(w, b) does not separate the data")
    R = np.max(np.linalg.norm(Xa, axis=1))
    return (R / gamma) ** 2


def two_layer_forward(X, W1, b1, W2, b2, phi=step):
    """h = phi(X W1^T + b1), out = phi(h W2^T + b2): a network with one hidden layer.
    W1 is (n_hidden, n_in), W2 is (n_out, n_hidden); rows of X are examples."""
    h = phi(np.asarray(X, dtype=float) @ np.asarray(W1).T + b1)
    return phi(h @ np.asarray(W2).T + b2)


def collapse_linear_layers(weights):
    """W* = W_L ... W_2 W_1 for weights [W_1, ..., W_L] (W_1 is applied first)."""
    W = np.asarray(weights[0], dtype=float)
    for W_next in weights[1:]:
        W = np.asarray(W_next, dtype=float) @ W
    return W
