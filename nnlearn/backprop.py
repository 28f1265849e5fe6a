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
"""
import math

import numpy as np

from .activations import get_activation
from .losses import get_loss
from .optim import sgd_epoch


def dense_forward(X, W, b, activation="identity"):
    """(A, H): the pre-activation A = X W^T + b and the output H = phi(A), both (n, N_out),
    for inputs X (n, N_in), W (N_out, N_in), b (N_out,)."""
    A = np.asarray(X, dtype=float) @ np.asarray(W, dtype=float).T + b
    return A, get_activation(activation)(A)


def dense_backward(dH, X, W, A, activation="identity"):
    """(dX, dW, db) of the layer H = phi(X W^T + b) given dH = dL/dH (n, N_out), its inputs X
    (n, N_in), W (N_out, N_in) and its pre-activation A (n, N_out); shapes are those of X, W, b."""
    dA = np.asarray(dH, dtype=float) * get_activation(activation).df(A)
    return dA @ W, dA.T @ np.asarray(X, dtype=float), dA.sum(axis=0)


def layer_activations(n_layers, activation="relu", output_activation="identity"):
    """[phi_1, ..., phi_L] by name: `activation` for the hidden layers, `output_activation` last."""
    return [activation] * (n_layers - 1) + [output_activation]


def forward(X, weights, biases, activation="relu", output_activation="identity"):
    """(H_L, cache): the network's output (n, N_L) and, per layer, the (H_{p-1}, A_p) that
    `backward` needs — the forward pass runs left to right and remembers its intermediates."""
    H, cache = np.asarray(X, dtype=float), []
    for W, b, phi in zip(weights, biases, layer_activations(len(weights), activation, output_activation)):
        A, H_next = dense_forward(H, W, b, phi)
        cache.append((H, A))
        H = H_next
    return H, cache


def backward(dOut, weights, cache, activation="relu", output_activation="identity"):
    """(dWs, dbs, dX) given dOut = dL/dH_L (n, N_L): the layers in reverse order, each passing
    dL/dH_{p-1} = (dL/dA_p) W_p on to the layer before it — right to left."""
    phis = layer_activations(len(weights), activation, output_activation)
    dWs, dbs, dH = [None] * len(weights), [None] * len(weights), np.asarray(dOut, dtype=float)
    for p in reversed(range(len(weights))):
        H_prev, A = cache[p]
        dH, dWs[p], dbs[p] = dense_backward(dH, H_prev, weights[p], A, phis[p])
    return dWs, dbs, dH


def loss_and_gradients(X, Y, weights, biases, loss="softmax_cross_entropy", activation="relu",
                       output_activation="identity"):
    """(L, dWs, dbs) for the average loss L of the network's outputs on the rows of X against the
    targets Y (one-hot rows for classification); `loss` is a name from nnlearn.losses."""
    cost = get_loss(loss)
    out, cache = forward(X, weights, biases, activation, output_activation)
    dWs, dbs, _ = backward(cost.gradient(out, Y), weights, cache, activation, output_activation)
    return cost(out, Y), dWs, dbs


def path_counts(widths):
    """For layers l = 1..L: how many paths lead from one weight w_{l,ij} (the edge from unit j
    of layer l-1 to unit i of layer l) to the outputs, prod_{p=l+1}^{L} N_p. Writing dL/dw_{l,ij}
    as a sum over paths (the chain rule unrolled) has this many terms, one per path."""
    widths = [int(n) for n in widths]
    return [math.prod(widths[l + 1:]) for l in range(1, len(widths))]


def train(X, Y, weights, biases, *, epochs, lr, batch_size, rng, loss="softmax_cross_entropy",
          activation="relu", output_activation="identity"):
    """Mini-batch SGD with backpropagated gradients (nnlearn.optim.sgd_epoch). Returns new
    (weights, biases) and the mean batch loss of every epoch; the inputs are not modified."""
    X, Y, L = np.asarray(X, dtype=float), np.asarray(Y, dtype=float), len(weights)

    def grad_fn(params, idx):
        cost, dWs, dbs = loss_and_gradients(X[idx], Y[idx], params[:L], params[L:], loss, activation,
                                            output_activation)
        return cost, dWs + dbs

    params, history = list(weights) + list(biases), []
    for _ in range(epochs):
        params, costs = sgd_epoch(params, grad_fn, len(X), batch_size, lr, rng)
        history.append(float(np.mean(costs)))
    return params[:L], params[L:], history
