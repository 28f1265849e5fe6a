"""Backpropagation for multilayer perceptrons in plain numpy.

Conventions of nnlearn.mlp: W_p has shape (N_p, N_{p-1}) like torch.nn.Linear.weight, b_p has
shape (N_p,), and a batch X has shape (n, N_0), one example per row. Layer p computes the
pre-activation A_p = H_{p-1} W_p^T + b_p and the activation H_p = phi_p(A_p). A gradient is named
after what it differentiates: dA = dL/dA, dW = dL/dW, and so on.

Backward through one layer, given dH = dL/dH_p (the row form of delta_p = phi'(a_p) * (W_{p+1}^T
delta_{p+1}); the transpose moves because examples are rows):

    dA = dH * phi'(A)      (n, N_p)        the error signals delta, one row per example
    dX = dA @ W            (n, N_{p-1})    = (W^T delta)^T, passed on to layer p - 1
    dW = dA.T @ X          (N_p, N_{p-1})  dL/dW_ij = sum over examples of delta_i h_j
    db = dA.sum(axis=0)    (N_p,)

The public functions check their arguments once; the `_` functions below them do the arithmetic
and are what `train` runs at every step. float32 in, float32 out.
"""
import math

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .losses import get_loss
from .optim import _sgd_steps, minibatches
from .validate import (check_array, check_choice, check_layers, check_positive, check_rng, check_same_length,
                       check_type, check_widths)


def _dense_forward(X, W, b, phi):
    A = X @ W.T
    A += b
    return A, phi.f.kernel(A)


def _dense_backward(dH, X, W, A, phi, need_dX=True):
    dA = dH * phi.df.kernel(A)
    return (dA @ W if need_dX else None), dA.T @ X, dA.sum(axis=0)


def dense_forward(X, W, b, activation="identity"):
    """(A, H): the pre-activation A = X W^T + b and the output H = phi(A), both (n, N_out),
    for inputs X (n, N_in), W (N_out, N_in), b (N_out,)."""
    W = check_array("W", W, shape=("N_out", "N_in"))
    X = check_array("X", X, shape=("n", W.shape[1]), nonempty=False, match=f"W of shape {W.shape}")
    return _dense_forward(X, W, check_array("b", b, shape=(W.shape[0],)), get_activation(activation))


def dense_backward(dH, X, W, A, activation="identity"):
    """(dX, dW, db) of the layer H = phi(X W^T + b) given dH = dL/dH (n, N_out), its inputs X
    (n, N_in), W (N_out, N_in) and its pre-activation A (n, N_out); shapes are those of X, W, b."""
    W = check_array("W", W, shape=("N_out", "N_in"))
    X = check_array("X", X, shape=("n", W.shape[1]), match=f"W of shape {W.shape}")
    dH = check_array("dH", dH, shape=(len(X), W.shape[0]), match=f"X {X.shape} and W {W.shape}")
    return _dense_backward(dH, X, W, check_array("A", A, shape=dH.shape), get_activation(activation))


def layer_activations(n_layers, activation="relu", output_activation="identity"):
    """[phi_1, ..., phi_L] by name: `activation` for the hidden layers, `output_activation` last."""
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("output_activation", output_activation, ACTIVATIONS)
    return [activation] * (check_positive("n_layers", n_layers, integer=True) - 1) + [output_activation]


def _phis(n_layers, activation, output_activation):
    return [get_activation(name) for name in layer_activations(n_layers, activation, output_activation)]


def _forward(X, weights, biases, phis):
    H, cache = X, []
    for W, b, phi in zip(weights, biases, phis):
        A, H_next = _dense_forward(H, W, b, phi)
        cache.append((H, A))
        H = H_next
    return H, cache


def _backward(dOut, weights, cache, phis, need_dX=True):
    dWs, dbs, dH = [None] * len(weights), [None] * len(weights), dOut
    for p in reversed(range(len(weights))):
        H_prev, A = cache[p]
        dH, dWs[p], dbs[p] = _dense_backward(dH, H_prev, weights[p], A, phis[p], need_dX or p > 0)
    return dWs, dbs, dH


def _network(X, weights, biases, nonempty=False):
    weights, biases = check_layers(weights, biases)
    X = check_array("X", X, shape=("n", weights[0].shape[1]), nonempty=nonempty,
                    match=f"W_1 of shape {weights[0].shape}")
    return X, weights, biases


def forward(X, weights, biases, activation="relu", output_activation="identity"):
    """(H_L, cache): the network's output (n, N_L) and, per layer, the (H_{p-1}, A_p) that
    `backward` needs — the forward pass runs left to right and remembers its intermediates."""
    X, weights, biases = _network(X, weights, biases)
    return _forward(X, weights, biases, _phis(len(weights), activation, output_activation))


def backward(dOut, weights, cache, activation="relu", output_activation="identity"):
    """(dWs, dbs, dX) given dOut = dL/dH_L (n, N_L): the layers in reverse order, each passing
    dL/dH_{p-1} = (dL/dA_p) W_p on to the layer before it — right to left."""
    weights = check_layers(weights)[0]
    check_type("cache", cache, (list, tuple), "the list of (H_{p-1}, A_p) pairs that forward returned")
    if len(cache) != len(weights):
        raise ValueError(f"expected cache to hold one (H, A) pair per layer ({len(weights)}), got {len(cache)}")
    dOut = check_array("dOut", dOut, shape=("n", weights[-1].shape[0]), match=f"W_L of shape {weights[-1].shape}")
    checked = []
    for p, (W, pair) in enumerate(zip(weights, cache)):
        H, A = pair
        check_same_length("dOut", dOut, f"cache[{p}][0] (H_{p})", H)
        checked.append((check_array(f"cache[{p}][0] (H_{p})", H, shape=(len(dOut), W.shape[1])),
                        check_array(f"cache[{p}][1] (A_{p + 1})", A, shape=(len(dOut), W.shape[0]))))
    return _backward(dOut, weights, checked, _phis(len(weights), activation, output_activation))


def _loss_and_gradients(X, Y, weights, biases, cost, phis, need_dX=False):
    out, cache = _forward(X, weights, biases, phis)
    value, dOut = cost.unchecked(out, Y)
    dWs, dbs, _ = _backward(dOut, weights, cache, phis, need_dX)
    return float(value), dWs, dbs


def _data(X, Y, weights, biases):
    X, weights, biases = _network(X, weights, biases, nonempty=True)
    Y = check_array("Y", Y, shape=("n", weights[-1].shape[0]))
    check_same_length("X", X, "Y", Y)
    return X, Y, weights, biases


def loss_and_gradients(X, Y, weights, biases, loss="softmax_cross_entropy", activation="relu",
                       output_activation="identity"):
    """(L, dWs, dbs) for the average loss L of the network's outputs on the rows of X against the
    targets Y (one-hot rows for classification); `loss` is a name from nnlearn.losses."""
    X, Y, weights, biases = _data(X, Y, weights, biases)
    return _loss_and_gradients(X, Y, weights, biases, get_loss(loss),
                               _phis(len(weights), activation, output_activation))


def path_counts(widths):
    """For layers l = 1..L: how many paths lead from one weight w_{l,ij} (the edge from unit j
    of layer l-1 to unit i of layer l) to the outputs, prod_{p=l+1}^{L} N_p. Writing dL/dw_{l,ij}
    as a sum over paths (the chain rule unrolled) has this many terms, one per path."""
    widths = check_widths(widths)
    return [math.prod(widths[l + 1:]) for l in range(1, len(widths))]


def train(X, Y, weights, biases, *, epochs, lr, batch_size, rng, loss="softmax_cross_entropy",
          activation="relu", output_activation="identity"):
    """Mini-batch SGD with backpropagated gradients (the steps of nnlearn.optim.sgd_epoch). Returns
    new (weights, biases) and the mean batch loss of every epoch; the inputs are not modified.
    Everything is checked here, once; the steps run unchecked."""
    X, Y, weights, biases = _data(X, Y, weights, biases)
    epochs, lr = check_positive("epochs", epochs, integer=True), check_positive("lr", lr)
    minibatches(len(X), batch_size, check_rng("rng", rng))             # checks batch_size against n
    cost, phis, L = get_loss(loss), _phis(len(weights), activation, output_activation), len(weights)

    def grad_fn(params, idx):
        value, dWs, dbs = _loss_and_gradients(X[idx], Y[idx], params[:L], params[L:], cost, phis)
        return value, dWs + dbs

    params, history = [p.copy() for p in weights + biases], []
    for _ in range(epochs):
        costs = _sgd_steps(params, grad_fn, minibatches(len(X), batch_size, rng), lr)
        history.append(float(np.mean(costs)))
    return params[:L], params[L:], history
