"""The caller's floating dtype is kept: float32 in, float32 out (and float64 in, float64 out)
through activations, losses, mlp, backprop, optim and linear; integers become float64. float32
results agree with the float64 ones to float32 precision. (Gradient checks against finite
differences and torch stay in float64, in the modules' own tests.)"""
import numpy as np
import pytest

from nnlearn import backprop, linear, losses, mlp, optim
from nnlearn.activations import ACTIVATIONS
from nnlearn.data import one_hot

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-15)}
GRAD_TOL = {np.float32: dict(rtol=1e-4, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-15)}


def agree(ours, reference, dtype, tol=TOL):
    """ours has dtype `dtype` and matches the float64 reference to that dtype's precision."""
    assert np.asarray(ours).dtype == dtype, f"got {np.asarray(ours).dtype}, expected {np.dtype(dtype)}"
    np.testing.assert_allclose(ours, reference, **tol[dtype])


def problem(dtype, widths=(6, 8, 5, 3), n=16, seed=0):
    rng = np.random.default_rng(seed)
    weights, biases = mlp.init_parameters(list(widths), rng)
    X, labels = rng.standard_normal((n, widths[0])), rng.integers(0, widths[-1], n)
    Y = one_hot(labels, widths[-1], dtype=np.float64)
    cast = lambda arrays: [a.astype(dtype) for a in arrays]                              # noqa: E731
    return (X.astype(dtype), Y.astype(dtype), cast(weights), cast(biases)), (X, Y, weights, biases)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_keep_the_dtype(name, dtype):
    v = np.random.default_rng(1).uniform(-3, 3, size=(4, 5))
    act = ACTIVATIONS[name]
    agree(act.f(v.astype(dtype)), act.f(v), dtype)
    agree(act.df(v.astype(dtype)), act.df(v), dtype)
    assert act.f(np.arange(-2, 3)).dtype == np.float64                  # integers become float64


@pytest.mark.parametrize("dtype", DTYPES)
def test_losses_keep_the_dtype(dtype):
    rng = np.random.default_rng(2)
    Z, A = rng.standard_normal((7, 4)), rng.standard_normal((7, 4))
    Y = one_hot(rng.integers(0, 4, 7), 4, dtype=np.float64)
    z, a, y = Z.astype(dtype), A.astype(dtype), Y.astype(dtype)
    agree(losses.softmax(z), losses.softmax(Z), dtype)
    agree(losses.log_softmax(z), losses.log_softmax(Z), dtype)
    agree(losses.softmax_cross_entropy_per_example(z, y), losses.softmax_cross_entropy_per_example(Z, Y), dtype)
    agree(losses.softmax_cross_entropy_gradient(z, y), losses.softmax_cross_entropy_gradient(Z, Y), dtype)
    agree(losses.quadratic_cost_per_example(a, y), losses.quadratic_cost_per_example(A, Y), dtype)
    agree(losses.quadratic_cost_gradient(a, y), losses.quadratic_cost_gradient(A, Y), dtype)
    np.testing.assert_allclose(losses.softmax_cross_entropy(z, y), losses.softmax_cross_entropy(Z, Y), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_and_backprop_keep_the_dtype(dtype):
    (X, Y, W, b), (X64, Y64, W64, b64) = problem(dtype)
    for ours, reference in zip(mlp.forward_layers(X, W, b, "tanh"), mlp.forward_layers(X64, W64, b64, "tanh")):
        agree(ours, reference, dtype)
    for activation in ("relu", "sigmoid"):
        cost, dWs, dbs = backprop.loss_and_gradients(X, Y, W, b, activation=activation)
        cost64, dWs64, dbs64 = backprop.loss_and_gradients(X64, Y64, W64, b64, activation=activation)
        np.testing.assert_allclose(cost, cost64, **TOL[dtype])
        for ours, reference in zip(dWs + dbs, dWs64 + dbs64):
            agree(ours, reference, dtype, GRAD_TOL)
    out, cache = backprop.forward(X, W, b)
    dWs, dbs, dX = backprop.backward(np.ones_like(out), W, cache)
    assert {a.dtype for a in [out, dX, *dWs, *dbs, *(m for pair in cache for m in pair)]} == {np.dtype(dtype)}
    assert mlp.init_parameters([3, 2], np.random.default_rng(0), dtype=dtype)[0][0].dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_training_keeps_the_dtype(dtype):
    (X, Y, W, b), (X64, Y64, W64, b64) = problem(dtype, n=40)
    kwargs = dict(epochs=3, lr=0.1, batch_size=8, activation="tanh")
    W1, b1, history = backprop.train(X, Y, W, b, rng=np.random.default_rng(3), **kwargs)
    W1_64, b1_64, history64 = backprop.train(X64, Y64, W64, b64, rng=np.random.default_rng(3), **kwargs)
    for ours, reference in zip(W1 + b1, W1_64 + b1_64):
        agree(ours, reference, dtype, GRAD_TOL)
    np.testing.assert_allclose(history, history64, **GRAD_TOL[dtype])
    assert all(p.dtype == dtype for p in W + b), "the inputs are untouched"
    # optim: a step, an epoch of SGD on the linear model, a path of gradient descent
    v, g = np.arange(3.0).astype(dtype), np.ones(3, dtype)
    agree(optim.gd_step(v, g, 0.1), np.arange(3.0) - 0.1, dtype)
    params = [W[0][:3], b[0][:3]]
    Xl, Yl = X[:, :W[0].shape[1]], X[:, :3]
    new, costs = optim.sgd_epoch(params, linear.batch_gradient_fn(Xl, Yl), len(X), 8, 0.1, np.random.default_rng(4))
    new64, costs64 = optim.sgd_epoch([p.astype(np.float64) for p in params],
                                     linear.batch_gradient_fn(Xl.astype(np.float64), Yl.astype(np.float64)),
                                     len(X), 8, 0.1, np.random.default_rng(4))
    for ours, reference in zip(new, new64):
        agree(ours, reference, dtype, GRAD_TOL)
    bowl = optim.QuadraticBowl(1.0, 3.0)
    agree(optim.gradient_descent(bowl.grad, np.array([1.0, -1.0], dtype), 0.1, 20),
          optim.gradient_descent(bowl.grad, np.array([1.0, -1.0]), 0.1, 20), dtype)
    agree(linear.forward(Xl, *params), linear.forward(Xl.astype(np.float64), *[p.astype(np.float64) for p in params]),
          dtype)
