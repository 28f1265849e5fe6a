import numpy as np
import pytest
import torch

from nnlearn import linear
from nnlearn.checks import numerical_gradient


def random_problem(seed, n=11, d=4, k=3):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((n, k))
    params = [rng.standard_normal((k, d)), rng.standard_normal(k)]
    return X, Y, params


def test_forward_matches_torch_linear():
    X, _, (W, b) = random_problem(0)
    layer = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(W))
        layer.bias.copy_(torch.tensor(b))
    np.testing.assert_allclose(linear.forward(X, W, b), layer(torch.tensor(X)).detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_gradients_match_finite_differences_and_autograd(seed):
    X, Y, params = random_problem(seed, n=int(5 + seed), d=int(2 + seed), k=int(1 + seed))
    cost, (dW, db) = linear.cost_and_gradients(params, X, Y)
    W, b = params
    np.testing.assert_allclose(dW, numerical_gradient(lambda w: linear.cost_and_gradients([w, b], X, Y)[0], W),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(db, numerical_gradient(lambda c: linear.cost_and_gradients([W, c], X, Y)[0], b),
                               rtol=1e-6, atol=1e-9)
    Wt, bt = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    loss = ((torch.tensor(X) @ Wt.T + bt - torch.tensor(Y)) ** 2).sum() / (2 * len(X))
    loss.backward()
    assert cost == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_per_example_gradients_average_to_the_full_gradient():
    X, Y, params = random_problem(4)
    G = linear.per_example_gradients(params, X, Y)
    assert G.shape == (11, 3 * (4 + 1))
    _, grads = linear.cost_and_gradients(params, X, Y)
    np.testing.assert_allclose(G.mean(axis=0), linear.flatten(grads), rtol=1e-12, atol=1e-14)
    for i in (0, 5, 10):   # row i is the gradient of the cost of example i alone
        _, grads_i = linear.cost_and_gradients(params, X[i:i + 1], Y[i:i + 1])
        np.testing.assert_allclose(G[i], linear.flatten(grads_i), rtol=1e-12, atol=1e-14)


def test_batch_gradient_fn_uses_only_the_batch():
    X, Y, params = random_problem(5)
    idx = np.array([7, 2, 3])
    cost, grads = linear.batch_gradient_fn(X, Y)(params, idx)
    ref_cost, ref_grads = linear.cost_and_gradients(params, X[idx], Y[idx])
    assert cost == ref_cost
    for g, r in zip(grads, ref_grads):
        np.testing.assert_array_equal(g, r)


def test_the_cost_is_an_exact_quadratic_with_the_stated_hessian():
    X, Y, params = random_problem(6, n=8, d=3, k=2)
    H = linear.hessian(X)
    assert H.shape == (4, 4) and np.allclose(H, H.T) and np.linalg.eigvalsh(H).min() >= -1e-12
    # against torch: the Hessian with respect to (w_j, b_j) of output j, for j = 0 and 1
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    for j in range(2):
        def cost_j(theta):
            out = Xt @ theta[:-1] + theta[-1]
            return ((out - Yt[:, j]) ** 2).sum() / (2 * len(X))
        theta = torch.tensor(np.append(params[0][j], params[1][j]))
        np.testing.assert_allclose(torch.autograd.functional.hessian(cost_j, theta).numpy(), H, rtol=1e-12)
    # a second-order Taylor expansion is exact: C(p + t) = C(p) + g.t + t^T H_full t / 2
    rng = np.random.default_rng(0)
    t = [rng.standard_normal(p.shape) for p in params]
    c0, g = linear.cost_and_gradients(params, X, Y)
    c1, _ = linear.cost_and_gradients([p + s for p, s in zip(params, t)], X, Y)
    T = np.hstack([t[0], t[1][:, None]])                        # row j is (t_W[j], t_b[j])
    quadratic = 0.5 * sum(T[j] @ H @ T[j] for j in range(2))
    assert c1 == pytest.approx(c0 + linear.flatten(g) @ linear.flatten(t) + quadratic, rel=1e-10)


def test_init_predict_and_accuracy():
    rng = np.random.default_rng(7)
    W, b = linear.init_params(5, 3, rng, scale=0.1)
    assert W.shape == (3, 5) and b.shape == (3,) and np.all(b == 0) and 0.05 < W.std() < 0.2
    X = np.eye(3, 5)
    W, b = np.eye(3, 5), np.zeros(3)
    np.testing.assert_array_equal(linear.predict(X, W, b), [0, 1, 2])
    assert linear.accuracy(X, [0, 1, 0], W, b) == pytest.approx(2 / 3)
