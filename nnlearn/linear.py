"""A linear model a = W x + b trained with the quadratic cost: the smallest "network" to
train by gradient descent.

Shapes: X is (n, d) with one example per row, W is (k, d) like `torch.nn.Linear.weight`,
b is (k,), outputs A and targets Y are (n, k). Parameters travel as a list `[W, b]`.
float32 in, float32 out.
"""
import numpy as np

from .losses import LOSSES
from .validate import (check_array, check_labels, check_number, check_positive, check_rng, check_same_length,
                       check_type)


def _params(params, d=None):
    """[W (k, d), b (k,)] checked; d is the number of input features when known."""
    check_type("params", params, (list, tuple), "a list [W, b]")
    if len(params) != 2:
        raise ValueError(f"expected params to be [W, b], got a list of {len(params)} items")
    W = check_array("W (params[0])", params[0], shape=("k", "d" if d is None else d))
    return W, check_array("b (params[1])", params[1], shape=(W.shape[0],))


def _data(X, Y, d=None, k=None):
    X = check_array("X", X, shape=("n", "d" if d is None else d))
    Y = check_array("Y", Y, shape=("n", "k" if k is None else k))
    check_same_length("X", X, "Y", Y)
    return X, Y


def init_params(d, k, rng, scale=0.01):
    """[W, b]: W with small Gaussian entries (std `scale`), b = 0."""
    d, k = check_positive("d", d, integer=True), check_positive("k", k, integer=True)
    return [check_number("scale", scale, low=0) * check_rng("rng", rng).standard_normal((k, d)), np.zeros(k)]


def forward(X, W, b):
    """A = X W^T + b, shape (n, k)."""
    W, b = _params([W, b])
    return check_array("X", X, shape=("n", W.shape[1]), nonempty=False, match=f"W of shape {W.shape}") @ W.T + b


def backward(X, dA):
    """Given dC/dA (n, k), return (dC/dW, dC/db) = (dA^T X, sum of the rows of dA)."""
    X = check_array("X", X, shape=("n", "d"))
    dA = check_array("dA", dA, shape=("n", "k"))
    check_same_length("X", X, "dA", dA)
    return dA.T @ X, dA.sum(axis=0)


def _cost_and_gradients(W, b, X, Y):
    value, dA = LOSSES["quadratic"].unchecked(X @ W.T + b, Y)
    return float(value), [dA.T @ X, dA.sum(axis=0)]


def cost_and_gradients(params, X, Y):
    """(C, [dC/dW, dC/db]) for C = 1/(2n) sum_x ||y(x) - (W x + b)||^2 on the rows of X, Y."""
    W, b = _params(params)
    return _cost_and_gradients(W, b, *_data(X, Y, W.shape[1], W.shape[0]))


def batch_gradient_fn(X, Y):
    """grad_fn(params, idx) -> (C, grads) on the examples X[idx], Y[idx]: what `optim.sgd_epoch` calls.
    X and Y are checked here, once; each call checks only the shapes of params."""
    X, Y = _data(X, Y)

    def grad_fn(params, idx):
        W, b = params
        if np.shape(W) != (Y.shape[1], X.shape[1]) or np.shape(b) != (Y.shape[1],):
            raise ValueError(f"expected params [W, b] of shapes ({Y.shape[1]}, {X.shape[1]}) and ({Y.shape[1]},), "
                             f"got {np.shape(W)} and {np.shape(b)}")
        return _cost_and_gradients(W, b, X[idx], Y[idx])
    return grad_fn


def per_example_gradients(params, X, Y):
    """Row i is the gradient of C_{x_i} = ||y_i - a_i||^2 / 2, flattened as (dW.ravel(), db).
    Shape (n, k * (d + 1)); the mean of the rows is the full gradient of C."""
    W, b = _params(params)
    X, Y = _data(X, Y, W.shape[1], W.shape[0])
    dA = X @ W.T + b - Y                                        # dC_x/da for each example
    dW = dA[:, :, None] * X[:, None, :]                        # (n, k, d): outer(dA_i, x_i)
    return np.concatenate([dW.reshape(len(X), -1), dA], axis=1)


def flatten(params):
    """All parameters in one vector (W row by row, then b)."""
    check_type("params", params, (list, tuple), "a list of arrays, e.g. [W, b]")
    if not params:
        raise ValueError("expected params to hold at least one array, got an empty list")
    return np.concatenate([np.ravel(check_array(f"params[{i}]", p)) for i, p in enumerate(params)])


def hessian(X):
    """(1/n) X~^T X~ with X~ = [X, 1]: the Hessian of C with respect to (w_j, b_j), the weights
    and bias of any one output j. The cost is an exact quadratic bowl in the parameters; the
    outputs do not interact, so the full Hessian is k copies of this block."""
    X = check_array("X", X, shape=("n", "d"))
    Xa = np.hstack([X, np.ones((len(X), 1), X.dtype)])
    return Xa.T @ Xa / len(X)


def predict(X, W, b):
    """The class with the largest output."""
    return forward(X, W, b).argmax(axis=1)


def accuracy(X, y, W, b):
    """The fraction of the rows of X whose predicted class is the label in y."""
    W, b = _params([W, b])
    X, y = check_array("X", X, shape=("n", W.shape[1])), check_labels("y", y, n_classes=W.shape[0])
    check_same_length("X", X, "y", y)
    return float(np.mean(predict(X, W, b) == y))
