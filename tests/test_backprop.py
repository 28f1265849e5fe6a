import itertools

import numpy as np
import pytest
import torch

from nnlearn.backprop import (backward, dense_backward, dense_forward, forward, loss_and_gradients, path_counts,
                              train)
from nnlearn.checks import numerical_gradient
from nnlearn.data import one_hot
from nnlearn.losses import get_loss
from nnlearn.mlp import forward as mlp_forward
from nnlearn.mlp import init_parameters, to_sequential
from nnlearn.optim import minibatches

TORCH_PHI = {"identity": lambda t: t, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
             "hard_tanh": torch.nn.functional.hardtanh}


@pytest.mark.parametrize("activation", list(TORCH_PHI))
def test_dense_backward_matches_torch_autograd_on_random_shapes(activation):
    rng = np.random.default_rng(len(activation))
    for _ in range(10):
        n, n_in, n_out = (int(k) for k in rng.integers(1, 12, size=3))
        X, W, b = rng.standard_normal((n, n_in)), rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
        dH = rng.standard_normal((n, n_out))                   # an arbitrary upstream gradient dL/dH
        A, H = dense_forward(X, W, b, activation)
        dX, dW, db = dense_backward(dH, X, W, A, activation)
        Xt, Wt, bt = (torch.tensor(v, requires_grad=True) for v in (X, W, b))
        Ht = TORCH_PHI[activation](Xt @ Wt.T + bt)
        (Ht * torch.tensor(dH)).sum().backward()               # L = <H, dH> has dL/dH = dH
        np.testing.assert_allclose(H, Ht.detach().numpy(), rtol=1e-12, atol=1e-12)
        for mine, ref in ((dX, Xt), (dW, Wt), (db, bt)):
            assert mine.shape == ref.shape
            np.testing.assert_allclose(mine, ref.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_dense_backward_matches_finite_differences():
    rng = np.random.default_rng(1)
    X, W, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    dH = rng.standard_normal((5, 3))
    A, _ = dense_forward(X, W, b, "tanh")
    dX, dW, db = dense_backward(dH, X, W, A, "tanh")
    loss = lambda X_, W_, b_: float(np.sum(dense_forward(X_, W_, b_, "tanh")[1] * dH))
    np.testing.assert_allclose(dX, numerical_gradient(lambda v: loss(v, W, b), X), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dW, numerical_gradient(lambda v: loss(X, v, b), W), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(db, numerical_gradient(lambda v: loss(X, W, v), b), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("trial", range(12))
def test_network_gradients_match_torch_on_random_architectures(trial):
    rng = np.random.default_rng(100 + trial)
    widths = [int(k) for k in rng.integers(1, 9, size=rng.integers(2, 6))]
    activation = ["relu", "sigmoid", "tanh", "hard_tanh"][trial % 4]
    loss = ["softmax_cross_entropy", "quadratic"][trial % 2]
    output_activation = "identity" if loss == "softmax_cross_entropy" else ["identity", "sigmoid"][trial % 3 == 0]
    weights, biases = init_parameters(widths, rng)
    n = int(rng.integers(1, 20))
    X = rng.standard_normal((n, widths[0]))
    labels = rng.integers(0, widths[-1], size=n)
    Y = one_hot(labels, widths[-1]).astype(float) if loss == "softmax_cross_entropy" else rng.standard_normal((n, widths[-1]))
    cost, dWs, dbs = loss_and_gradients(X, Y, weights, biases, loss, activation, output_activation)

    model = to_sequential(weights, biases, activation, output_activation, dtype=torch.float64)
    out = model(torch.tensor(X))
    if loss == "softmax_cross_entropy":
        ref = torch.nn.functional.cross_entropy(out, torch.tensor(labels))
    else:
        ref = ((out - torch.tensor(Y)) ** 2).sum() / (2 * n)
    ref.backward()
    assert cost == pytest.approx(ref.item(), rel=1e-12)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for p, layer in enumerate(linears):
        np.testing.assert_allclose(dWs[p], layer.weight.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"dW_{p + 1}")
        np.testing.assert_allclose(dbs[p], layer.bias.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"db_{p + 1}")


def test_network_gradients_match_finite_differences_and_forward_matches_mlp():
    rng = np.random.default_rng(7)
    widths = [3, 5, 4, 2]
    weights, biases = init_parameters(widths, rng)
    X, Y = rng.standard_normal((6, 3)), one_hot(rng.integers(0, 2, size=6), 2).astype(float)
    out, cache = forward(X, weights, biases, "sigmoid")
    np.testing.assert_array_equal(out, mlp_forward(X, weights, biases, "sigmoid"))
    assert [H.shape for H, _ in cache] == [(6, 3), (6, 5), (6, 4)]
    _, dWs, dbs = loss_and_gradients(X, Y, weights, biases, activation="sigmoid")

    def cost(params):
        return get_loss("softmax_cross_entropy")(mlp_forward(X, params[:3], params[3:], "sigmoid"), Y)

    for p in range(3):
        for grads, params_index, array in ((dWs, p, weights[p]), (dbs, 3 + p, biases[p])):
            def f(v, i=params_index):
                params = list(weights) + list(biases)
                params[i] = v
                return cost(params)
            np.testing.assert_allclose(grads[p], numerical_gradient(f, array), rtol=1e-6, atol=1e-9)


def test_backward_returns_the_gradient_for_the_inputs_too():
    rng = np.random.default_rng(8)
    weights, biases = init_parameters([4, 6, 3], rng)
    X = rng.standard_normal((5, 4))
    dOut = rng.standard_normal((5, 3))
    out, cache = forward(X, weights, biases, "tanh")
    _, _, dX = backward(dOut, weights, cache, "tanh")
    np.testing.assert_allclose(dX, numerical_gradient(lambda v: float(np.sum(forward(v, weights, biases, "tanh")[0] * dOut)), X),
                               rtol=1e-6, atol=1e-9)


def count_paths_by_enumeration(widths, layer):
    """Paths from one weight of `layer` (any: by symmetry all have the same count) to an output."""
    later = widths[layer + 1:]
    return sum(1 for _ in itertools.product(*[range(n) for n in later]))


def count_paths_by_dynamic_programming(widths, layer):
    """Walk the directed graph edge by edge: paths(unit) = sum of paths(successors), 1 at an output."""
    paths = np.ones(widths[-1], dtype=object)
    for p in range(len(widths) - 1, layer, -1):
        paths = np.array([sum(paths) for _ in range(widths[p - 1])], dtype=object)
    return paths[0]                                          # paths from one unit of `layer` on


def test_path_counts_by_enumeration():
    assert path_counts([2, 2, 2]) == [2, 1]
    assert path_counts([2, 2, 2, 2]) == [4, 2, 1]
    rng = np.random.default_rng(9)
    for _ in range(30):
        widths = [int(k) for k in rng.integers(1, 5, size=rng.integers(2, 7))]
        counts = path_counts(widths)
        assert len(counts) == len(widths) - 1
        for layer in range(1, len(widths)):
            assert counts[layer - 1] == count_paths_by_enumeration(widths, layer)
            assert counts[layer - 1] == count_paths_by_dynamic_programming(widths, layer)
    assert path_counts([10] * 31)[0] == 10 ** 29              # exact integers, no overflow


def test_numpy_sgd_follows_torch_sgd_step_by_step():
    """Same initial weights, same mini-batches, float64: the trajectories agree to rounding error."""
    rng = np.random.default_rng(10)
    widths, n = [8, 16, 12, 4], 60
    weights, biases = init_parameters(widths, rng)
    X, labels = rng.standard_normal((n, 8)), rng.integers(0, 4, size=n)
    Y = one_hot(labels, 4).astype(float)
    W_np, b_np, history = train(X, Y, weights, biases, epochs=3, lr=0.2, batch_size=16,
                                rng=np.random.default_rng(11), activation="tanh")
    assert len(history) == 3 and history[-1] < history[0]

    model = to_sequential(weights, biases, "tanh", dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    order_rng = np.random.default_rng(11)
    for _ in range(3):
        for idx in minibatches(n, 16, order_rng):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(torch.tensor(X[idx])), torch.tensor(labels[idx])).backward()
            optimizer.step()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for W, b, layer in zip(W_np, b_np, linears):
        np.testing.assert_allclose(W, layer.weight.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, layer.bias.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert not np.allclose(W_np[0], weights[0])                # it did move, and the inputs are untouched
    assert np.array_equal(weights[0], init_parameters(widths, np.random.default_rng(10))[0][0])
