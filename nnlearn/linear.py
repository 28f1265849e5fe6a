"""A linear model a = W x + b trained with the quadratic cost: the smallest "network" to
train by gradient descent.

Shapes: X is (n, d) with one example per row, W is (k, d) like `torch.nn.Linear.weight`,
b is (k,), outputs A and targets Y are (n, k). Parameters travel as a list `[W, b]`.
"""
import numpy as np

from .losses import quadratic_cost, quadratic_cost_gradient


def init_params(d, k, rng, scale=0.01):
    """[W, b]: W with small Gaussian entries (std `scale`), b = 0."""
    return [scale * rng.standard_normal((k, d)), np.zeros(k)]


def forward(X, W, b):
    """A = X W^T + b, shape (n, k)."""
    return np.asarray(X, dtype=float) @ np.asarray(W).T + b


def backward(X, dA):
    """Given dC/dA (n, k), return (dC/dW, dC/db) = (dA^T X, sum of the rows of dA)."""
    return dA.T @ np.asarray(X, dtype=float), dA.sum(axis=0)


def cost_and_gradients(params, X, Y):
    """(C, [dC/dW, dC/db]) for C = 1/(2n) sum_x ||y(x) - (W x + b)||^2 on the rows of X, Y."""
    W, b = params
    A = forward(X, W, b)
    dW, db = backward(X, quadratic_cost_gradient(A, Y))
    return quadratic_cost(A, Y), [dW, db]


def batch_gradient_fn(X, Y):
    """grad_fn(params, idx) -> (C, grads) on the examples X[idx], Y[idx]: what `optim.sgd_epoch` calls."""
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    return lambda params, idx: cost_and_gradients(params, X[idx], Y[idx])


def per_example_gradients(params, X, Y):
    """Row i is the gradient of C_{x_i} = ||y_i - a_i||^2 / 2, flattened as (dW.ravel(), db).
    Shape (n, k * (d + 1)); the mean of the rows is the full gradient of C."""
    W, b = params
    X = np.asarray(X, dtype=float)
    dA = forward(X, W, b) - Y                                   # dC_x/da for each example
    dW = dA[:, :, None] * X[:, None, :]                        # (n, k, d): outer(dA_i, x_i)
    return np.concatenate([dW.reshape(len(X), -1), dA], axis=1)


def flatten(params):
    return np.concatenate([np.ravel(p) for p in params])


def hessian(X):
    """(1/n) X~^T X~ with X~ = [X, 1]: the Hessian of C with respect to (w_j, b_j), the weights
    and bias of any one output j. The cost is an exact quadratic bowl in the parameters; the
    outputs do not interact, so the full Hessian is k copies of this block."""
    X = np.asarray(X, dtype=float)
    Xa = np.hstack([X, np.ones((len(X), 1))])
    return Xa.T @ Xa / len(X)


def predict(X, W, b):
    """The class with the largest output."""
    return forward(X, W, b).argmax(axis=1)


def accuracy(X, y, W, b):
    return float(np.mean(predict(X, W, b) == np.asarray(y)))
