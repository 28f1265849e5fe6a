import itertools
import math

import numpy as np
import pytest
import torch

from nnlearn import linear
from nnlearn.checks import numerical_gradient
from nnlearn.optim import (QuadraticBowl, exponential_decay, gd_step, gradient_descent, inverse_decay,
                           minibatch_variance, minibatches, sgd_epoch, steepest_descent_step)


# --- gradient descent on the quadratic bowl ---------------------------------------------

def test_gd_step_returns_a_new_array():
    v = np.array([1.0, -2.0])
    out = gd_step(v, np.array([0.5, 0.5]), 0.1)
    np.testing.assert_allclose(out, [0.95, -2.05])
    np.testing.assert_array_equal(v, [1.0, -2.0])


def test_bowl_gradient_and_hessian():
    bowl = QuadraticBowl(0.7, 5.0)
    v = np.random.default_rng(0).standard_normal(2)
    np.testing.assert_allclose(bowl.grad(v), numerical_gradient(bowl, v), rtol=1e-7)
    np.testing.assert_allclose(bowl.grad(v), bowl.hessian @ v)
    grid = np.random.default_rng(1).standard_normal((4, 5, 2))       # works on grids of points
    assert bowl(grid).shape == (4, 5) and bowl.grad(grid).shape == (4, 5, 2)


def test_first_order_change_and_its_exact_remainder():
    """On a quadratic, L(v + dv) - L(v) = grad . dv + dv^T H dv / 2 exactly; with dv = -lr grad
    the change is -lr ||grad||^2 + O(lr^2) and negative for small lr."""
    rng = np.random.default_rng(2)
    bowl = QuadraticBowl(*rng.uniform(0.1, 10, size=2))
    for _ in range(20):
        v, dv = rng.standard_normal(2), rng.standard_normal(2) * rng.uniform(1e-4, 1)
        change = bowl(v + dv) - bowl(v)
        assert change == pytest.approx(bowl.grad(v) @ dv + 0.5 * dv @ bowl.hessian @ dv, rel=1e-9, abs=1e-15)
        g, lr = bowl.grad(v), 1e-4
        change = bowl(v - lr * g) - bowl(v)
        assert change < 0 and change == pytest.approx(-lr * g @ g, rel=1e-2)


def test_gd_on_the_bowl_follows_the_closed_form():
    bowl, lr = QuadraticBowl(1.0, 8.0), 0.2
    points = gradient_descent(bowl.grad, [3.0, -1.0], lr, 30)
    assert points.shape == (31, 2)
    k = np.arange(31)
    np.testing.assert_allclose(points[:, 0], 3.0 * (1 - lr * 1.0) ** k, rtol=1e-12)
    np.testing.assert_allclose(points[:, 1], -1.0 * (1 - lr * 8.0) ** k, rtol=1e-12)
    assert bowl.contraction(lr) == pytest.approx((0.8, 0.6))


@pytest.mark.parametrize("seed", range(5))
def test_divergence_threshold_is_two_over_the_largest_curvature(seed):
    rng = np.random.default_rng(seed)
    bowl = QuadraticBowl(*rng.uniform(0.1, 20, size=2))
    threshold = 2 / max(bowl.alpha, bowl.beta)
    assert bowl.max_stable_lr == pytest.approx(threshold)
    v0 = rng.standard_normal(2)
    below = gradient_descent(bowl.grad, v0, 0.99 * threshold, 3000)
    above = gradient_descent(bowl.grad, v0, 1.01 * threshold, 3000)
    at = gradient_descent(bowl.grad, v0, threshold, 200)
    assert np.linalg.norm(below[-1]) < 1e-3 * np.linalg.norm(v0)
    assert np.linalg.norm(above[-1]) > 1e3 * np.linalg.norm(v0)
    stiff = int(np.argmax([bowl.alpha, bowl.beta]))       # at the threshold: an oscillation that never decays
    np.testing.assert_allclose(np.abs(at[:, stiff]), abs(v0[stiff]), rtol=1e-9)


def test_best_constant_learning_rate():
    bowl = QuadraticBowl(1.0, 10.0)
    kappa = bowl.beta / bowl.alpha
    rates = np.linspace(1e-3, bowl.max_stable_lr, 20001)
    worst = [max(bowl.contraction(lr)) for lr in rates]
    assert rates[int(np.argmin(worst))] == pytest.approx(bowl.best_lr, abs=2e-4)
    assert max(bowl.contraction(bowl.best_lr)) == pytest.approx((kappa - 1) / (kappa + 1))


# --- learning-rate schedules ---------------------------------------------------------------

def test_schedules_match_torch_schedulers():
    lr0, rate = 0.3, 0.1
    param = torch.zeros(1, requires_grad=True)
    opt_exp, opt_inv = torch.optim.SGD([param], lr=lr0), torch.optim.SGD([param], lr=lr0)
    sched_exp = torch.optim.lr_scheduler.ExponentialLR(opt_exp, gamma=math.exp(-rate))
    sched_inv = torch.optim.lr_scheduler.LambdaLR(opt_inv, lambda k: 1 / (1 + rate * k))
    ours_exp, ours_inv = exponential_decay(lr0, rate), inverse_decay(lr0, rate)
    for k in range(50):
        assert ours_exp(k) == pytest.approx(opt_exp.param_groups[0]["lr"], rel=1e-12)
        assert ours_inv(k) == pytest.approx(opt_inv.param_groups[0]["lr"], rel=1e-12)
        opt_exp.step(), opt_inv.step()
        sched_exp.step(), sched_inv.step()


def test_exponential_decay_stalls_where_inverse_decay_does_not():
    """GD on L = x^2 / 2 gives x_k = x_0 prod_j (1 - lr_j): the product stays away from 0 when
    sum lr_j < infinity (exponential decay) and tends to 0 when the sum diverges (inverse)."""
    bowl = QuadraticBowl(1.0, 1.0)
    exp_sched, inv_sched = exponential_decay(0.1, 0.2), inverse_decay(0.1, 0.2)
    stalled = gradient_descent(bowl.grad, [1.0, 1.0], exp_sched, 2000)[-1, 0]
    limit = np.prod([1 - exp_sched(k) for k in range(2000)])
    assert stalled == pytest.approx(limit) and stalled > 0.5
    assert sum(exp_sched(k) for k in range(2000)) == pytest.approx(0.1 / (1 - math.exp(-0.2)))
    # inverse decay: log x_k = sum log(1 - lr_j) ~ -(0.1 / 0.2) log(1 + 0.2 k), so x_k -> 0 like k^(-1/2)
    inverse = gradient_descent(bowl.grad, [1.0, 1.0], inv_sched, 20000)[:, 0]
    assert inverse[2000] < 0.1 and inverse[20000] < inverse[2000] / 3
    assert inverse[20000] * np.sqrt(1 + 0.2 * 20000) == pytest.approx(inverse[2000] * np.sqrt(1 + 0.2 * 2000), rel=0.01)


# --- steepest descent -----------------------------------------------------------------------

def test_steepest_descent_step_beats_every_random_step_of_the_same_length():
    rng = np.random.default_rng(3)
    for d in (1, 2, 10, 100):
        g, eps = rng.standard_normal(d), rng.uniform(0.01, 2)
        best = steepest_descent_step(g, eps)
        assert np.linalg.norm(best) == pytest.approx(eps)
        assert g @ best == pytest.approx(-eps * np.linalg.norm(g))
        u = rng.standard_normal((5000, d))
        random_steps = eps * u / np.linalg.norm(u, axis=1, keepdims=True)
        changes = random_steps @ g
        assert np.all(changes >= g @ best - 1e-12)
        assert np.all(np.abs(changes) <= eps * np.linalg.norm(g) + 1e-12)     # Cauchy-Schwarz
    assert steepest_descent_step(np.array([-3.0]), 0.5) == pytest.approx([0.5])   # 1-D: -eps sign(C')
    with pytest.raises(ValueError, match="stationary point"):
        steepest_descent_step(np.zeros(3), 0.1)


# --- mini-batches and SGD ---------------------------------------------------------------------

@pytest.mark.parametrize("n, m", [(10, 3), (12, 4), (7, 7), (5, 1)])
def test_minibatches_partition_the_data(n, m):
    batches = list(minibatches(n, m, np.random.default_rng(0)))
    assert sorted(np.concatenate(batches).tolist()) == list(range(n))
    assert [len(b) for b in batches] == [m] * (n // m) + ([n % m] if n % m else [])
    again = list(minibatches(n, m, np.random.default_rng(0)))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    dropped = list(minibatches(n, m, np.random.default_rng(0), drop_last=True))
    assert len(dropped) == n // m and all(len(b) == m for b in dropped)


def test_minibatches_are_shuffled_and_reject_bad_sizes():
    orders = {tuple(np.concatenate(list(minibatches(6, 2, np.random.default_rng(s))))) for s in range(30)}
    assert len(orders) > 20
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(5, 0, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(5, 6, np.random.default_rng(0)))


def test_sgd_with_one_batch_is_a_gradient_descent_step():
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    params = linear.init_params(3, 2, rng, scale=1.0)
    new, costs = sgd_epoch(params, linear.batch_gradient_fn(X, Y), 20, 20, 0.3, rng)
    cost, grads = linear.cost_and_gradients(params, X, Y)
    assert costs == [pytest.approx(cost)]
    for p, q, g in zip(params, new, grads):
        np.testing.assert_allclose(q, p - 0.3 * g, rtol=1e-12, atol=1e-14)


def test_sgd_epoch_matches_torch_optim_sgd_step_by_step():
    rng = np.random.default_rng(5)
    n, d, k, m, lr = 53, 6, 3, 8, 0.1
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((n, k))
    params = linear.init_params(d, k, rng, scale=0.5)
    W, b = (torch.tensor(p, requires_grad=True) for p in params)
    optimizer = torch.optim.SGD([W, b], lr=lr)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    max_diff, steps = 0.0, 0
    for epoch in range(3):
        trace = []
        params, _ = sgd_epoch(params, linear.batch_gradient_fn(X, Y), n, m, lr, np.random.default_rng(epoch), trace)
        for idx, (W_np, b_np) in zip(minibatches(n, m, np.random.default_rng(epoch)), trace):
            optimizer.zero_grad()
            i = torch.from_numpy(idx)
            loss = ((Xt[i] @ W.T + b - Yt[i]) ** 2).sum() / (2 * len(idx))
            loss.backward()
            optimizer.step()
            max_diff = max(max_diff, np.abs(W_np - W.detach().numpy()).max(), np.abs(b_np - b.detach().numpy()).max())
            steps += 1
    assert steps == 3 * math.ceil(n / m)
    assert max_diff < 1e-12


# --- the variance of the mini-batch gradient ----------------------------------------------------

def test_minibatch_variance_is_exact_by_enumeration():
    rng = np.random.default_rng(6)
    n = 6
    G = rng.standard_normal((n, 3))
    g = G.mean(axis=0)
    sigma2 = np.mean(np.sum((G - g) ** 2, axis=1))
    for m in range(1, n + 1):   # all subsets of size m, each equally likely: sampling without replacement
        exact = np.mean([np.sum((G[list(s)].mean(axis=0) - g) ** 2) for s in itertools.combinations(range(n), m)])
        assert minibatch_variance(sigma2, n, m) == pytest.approx(exact, abs=1e-12)
        assert minibatch_variance(sigma2, n, m) == pytest.approx(sigma2 / m * (n - m) / (n - 1), abs=1e-12)
    for m in range(1, 5):       # all ordered m-tuples: sampling with replacement
        exact = np.mean([np.sum((G[list(s)].mean(axis=0) - g) ** 2) for s in itertools.product(range(n), repeat=m)])
        assert minibatch_variance(sigma2, n, m, replace=True) == pytest.approx(exact, rel=1e-12)
    # unbiased: averaged over all subsets, the mini-batch gradient is the full gradient
    mean = np.mean([G[list(s)].mean(axis=0) for s in itertools.combinations(range(n), 3)], axis=0)
    np.testing.assert_allclose(mean, g, atol=1e-14)
    with pytest.raises(ValueError):
        minibatch_variance(sigma2, n, n + 1)


def test_minibatch_variance_matches_simulation():
    rng = np.random.default_rng(7)
    n = 200
    G = rng.standard_normal((n, 5)) * [1, 2, 3, 4, 5]
    g = G.mean(axis=0)
    sigma2 = np.mean(np.sum((G - g) ** 2, axis=1))
    for m in (1, 10, 100, 190):
        for replace in (False, True):
            draws = [G[rng.choice(n, m, replace=replace)].mean(axis=0) for _ in range(4000)]
            simulated = np.mean(np.sum((np.array(draws) - g) ** 2, axis=1))
            assert simulated == pytest.approx(minibatch_variance(sigma2, n, m, replace), rel=0.1)
