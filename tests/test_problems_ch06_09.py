"""The worked solutions of the pen-and-paper problems of chapters 6-9 (the {solution} blocks of
book/ch06_initialization.md, ch07_optimizers.md, ch08_regularization.md, ch09_hyperparameters.md),
checked by code: every formula, number and claim, one test per problem, named after its label.
Chapter 10's problems are checked in tests/test_federated.py."""
import math
from fractions import Fraction as F

import numpy as np
import pytest
import scipy.integrate
import scipy.stats
import torch

from nnlearn.bayesopt import expected_improvement
from nnlearn.init import backward_variances, forward_variances, weight_std
from nnlearn.optimizers import HeavyBall
from nnlearn.regularization import dropout_mask, ridge_solution, soft_threshold
from nnlearn.search import grid_points, hyperband, hyperband_schedule, log_uniform
from nnlearn.second_order import bfgs_update, newton_step

DT = torch.float64


def within_se(samples, expected, k=5):
    """The sample mean is within k standard errors of `expected` (k = 5: a false alarm is < 1e-6),
    or within rounding error when the samples are constant."""
    samples = np.asarray(samples, dtype=float)
    return abs(samples.mean() - expected) <= k * samples.std() / math.sqrt(samples.size) + 1e-12 * abs(expected)


# ----------------------------------------------------------------------------------------- chapter 6

def test_ex_he_uniform():
    """Problem 6.1: U[-r, r] has variance r^2/3, so r = sqrt(6/N_in) for He's 2/N_in; with a gain g the
    std is g/sqrt(N_in) and r = sqrt(3) g/sqrt(N_in); a = sqrt(5) gives g = 1/sqrt(3), r = 1/sqrt(N_in)
    (eq-torch-default). Checked against scipy, torch.nn.init and nn.Linear."""
    n_out, n_in = 400, 600
    r_he = math.sqrt(6 / n_in)
    assert scipy.stats.uniform(-r_he, 2 * r_he).var() == pytest.approx(2 / n_in, rel=1e-12)
    assert weight_std("he_uniform", n_out, n_in) * math.sqrt(3) == pytest.approx(r_he, rel=1e-12)
    g = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
    assert g == pytest.approx(math.sqrt(2 / (1 + 5))) and g == pytest.approx(1 / math.sqrt(3))
    assert math.sqrt(3) * g / math.sqrt(n_in) == pytest.approx(1 / math.sqrt(n_in))
    torch.manual_seed(0)
    for fill, r in [(lambda W: torch.nn.init.kaiming_uniform_(W, nonlinearity="relu"), r_he),
                    (lambda W: torch.nn.init.kaiming_uniform_(W, a=math.sqrt(5)), 1 / math.sqrt(n_in))]:
        W = fill(torch.empty(n_out, n_in, dtype=DT))
        assert W.abs().max() <= r and W.abs().max() > 0.999 * r          # 240 000 draws reach the bound
        assert W.var().item() == pytest.approx(r ** 2 / 3, rel=0.02)      # ~0.4% standard error
    layer = torch.nn.Linear(n_in, n_out)
    assert layer.weight.abs().max() <= 1 / math.sqrt(n_in) and layer.bias.abs().max() <= 1 / math.sqrt(n_in)


def test_ex_relu_half():
    """Problem 6.2: E[max(a, 0)^2] = E[a^2]/2 and E[relu'(a)^2] = P(a > 0) = 1/2 for a symmetric about 0
    (several densities, relu' by autograd); not for an asymmetric one. a = sum_j w_j h_j with symmetric
    weights independent of h is symmetric even for ReLU outputs h >= 0: w -> -w flips a."""
    rng = np.random.default_rng(0)
    n = 100_000
    symmetric = {"normal": rng.standard_normal(n), "laplace": rng.laplace(size=n),
                 "uniform": rng.uniform(-1, 3, n) - 1, "t9": rng.standard_t(9, n),
                 "mixture": rng.standard_normal(n) + rng.choice([-2.0, 2.0], n)}
    for name, a in symmetric.items():
        at = torch.tensor(a, requires_grad=True)
        torch.relu(at).sum().backward()
        relu2 = torch.relu(at).detach().numpy() ** 2
        assert within_se(relu2 - 0.5 * a ** 2, 0.0), name
        assert within_se(at.grad.numpy() ** 2, 0.5), name                # relu'(a)^2 = 1[a > 0]
    skewed = rng.exponential(size=n) - 0.5                              # mean 0, not symmetric
    assert not within_se(np.maximum(skewed, 0) ** 2 - 0.5 * skewed ** 2, 0.0)
    # a_{l,i} over the weights, for a fixed vector of ReLU outputs h (all >= 0, mean > 0)
    h = np.maximum(rng.standard_normal(50) + 0.5, 0)
    w = rng.standard_normal((n, 50)) * math.sqrt(2 / 50)
    a = w @ h
    np.testing.assert_array_equal((-w) @ h, -a)
    assert within_se(a > 0, 0.5) and within_se(np.maximum(a, 0) ** 2 - 0.5 * a ** 2, 0.0)
    assert within_se(a ** 3, 0.0)                                       # third moment 0


def test_ex_torch_default_depth():
    """Problem 6.3: ten ReLU layers with PyTorch's default Var[w] = 1/(3 N_in): Var[a_1] = E[x^2]/3, each
    later layer multiplies by (1/2) N (1/(3N)) = 1/6, factor (1/3) 6^-9 ~ 3.3e-8; He's 2/N: 2 E[x^2].
    Exactly, with nnlearn.init.forward_variances, and by simulating torch's nn.Linear layers."""
    N0, N = 10, 500
    factor = F(1, 3) * (F(1, 2) * N * F(1, 3 * N)) ** 9
    assert N0 * F(1, 3 * N0) == F(1, 3) and F(1, 2) * N * F(1, 3 * N) == F(1, 6)
    assert factor == F(1, 3 * 6 ** 9) and f"{float(factor):.1e}" == "3.3e-08"
    widths = [N0] + [N] * 10
    default = forward_variances(widths, [1 / (3 * N0)] + [1 / (3 * N)] * 9, 1.0, "relu")
    he = forward_variances(widths, [2 / N0] + [2 / N] * 9, 1.0, "relu")
    assert default[-1] == pytest.approx(float(factor), rel=1e-12)
    assert he[0] == pytest.approx(2.0) and he[-1] == pytest.approx(2.0, rel=1e-12)
    # E[mean a_10^2] is the formula at any width (given h_{l-1}, a_l is symmetric with variance
    # Var[w] ||h_{l-1}||^2), so 1000 small networks (batched, torch's own init functions) estimate it
    K, n, batch = 1000, 16, 4
    torch.manual_seed(0)
    x = torch.randn(K, batch, N0, dtype=DT)
    for fill, expected in [(lambda W: torch.nn.init.kaiming_uniform_(W, a=math.sqrt(5)), float(factor)),
                           (lambda W: torch.nn.init.kaiming_normal_(W, nonlinearity="relu"), 2.0)]:
        h = x
        for l in range(10):
            n_in = N0 if l == 0 else n
            W = fill(torch.empty(K * n, n_in, dtype=DT)).reshape(K, n, n_in)     # K layers nn.Linear(n_in, n)
            a = h @ W.transpose(1, 2)                                            # zero biases
            h = torch.relu(a)
        assert (a ** 2).mean().item() / (x ** 2).mean().item() == pytest.approx(expected, rel=0.35)   # sd ~ 8%


def test_ex_zero_sigmoid():
    """Problem 6.4: all-zero sigmoid network with softmax: h_1 = 1/2, W_2 (equal columns) and b_2 get
    nonzero gradients, delta_1 = 0 so W_1, b_1 do not move at the first step; later the hidden units
    get equal error signals and stay equal forever (one hidden unit, repeated)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Sigmoid(), torch.nn.Linear(6, 3)).to(DT)
    for p in net.parameters():
        torch.nn.init.zeros_(p)
    X, y = torch.randn(30, 4, dtype=DT), torch.randint(0, 3, (30,))
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    W1, b1, W2, b2 = net[0].weight, net[0].bias, net[2].weight, net[2].bias
    torch.testing.assert_close(net[1](net[0](X)), torch.full((30, 6), 0.5, dtype=DT))
    moved_first_layer = []
    for step in range(15):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(X), y).backward()
        if step == 0:
            assert W2.grad.abs().max() > 0 and b2.grad.abs().max() > 0
            torch.testing.assert_close(W2.grad, W2.grad[:, :1].expand(3, 6), rtol=0, atol=0)
            assert not W1.grad.any() and not b1.grad.any()
        moved_first_layer.append(W1.grad.abs().max().item() > 0)
        opt.step()
        for P in (W1, b1[:, None], W2.T):                                # rows = hidden units
            torch.testing.assert_close(P, P[:1].expand_as(P), rtol=1e-12, atol=1e-14)
    assert moved_first_layer[0] is False and all(moved_first_layer[1:])
    H = net[1](net[0](X))
    torch.testing.assert_close(H, H[:, :1].expand_as(H), rtol=1e-12, atol=1e-14)


def test_ex_telescope():
    """Problem 6.5: He's forward condition Var[w_l] = 2/N_{l-1}: backward factors N_l/N_{l-1}, product
    Var[delta_1]/Var[delta_L] = N_L/N_1 whatever the depth; backward condition 2/N_l: forward factors
    N_{l-1}/N_l for l >= 2, product N_1/N_L (not N_1/N_{L-1}). Exact fractions and nnlearn.init."""
    rng = np.random.default_rng(0)
    for L in (2, 3, 5, 12):
        N = [int(n) for n in rng.integers(3, 400, size=L + 1)]
        N[-1] = N[-2] + 7                                                # so that N_L != N_{L-1}
        back = 1
        for l in range(2, L + 1):
            factor = F(1, 2) * N[l] * F(2, N[l - 1])
            assert factor == F(N[l], N[l - 1])
            back *= factor
        assert back == F(N[L], N[1])
        fwd = 1
        for l in range(2, L + 1):
            fwd *= F(1, 2) * N[l - 1] * F(2, N[l])
        assert fwd == F(N[1], N[L]) and fwd != F(N[1], N[L - 1])
        d = backward_variances(N, [2 / N[l - 1] for l in range(1, L + 1)], 1.0, "relu")
        assert d[0] / d[-1] == pytest.approx(N[L] / N[1], rel=1e-12)
        a = forward_variances(N, [2 / N[l] for l in range(1, L + 1)], 1.0, "relu")
        assert a[-1] / a[0] == pytest.approx(N[1] / N[L], rel=1e-12)


# ----------------------------------------------------------------------------------------- chapter 7

def test_ex_momentum_terminal():
    """Problem 7.1: with a constant gradient, v_k = -eta g sum_{i<k} mu^i -> -eta g/(1 - mu), the
    effective learning rate eta/(1 - mu): 10 eta for mu = 0.9, 100 eta for mu = 0.99. Checked against
    torch.optim.SGD(momentum) and nnlearn's HeavyBall step by step."""
    assert 1 / (1 - F(9, 10)) == 10 and 1 / (1 - F(99, 100)) == 100
    eta, g = 0.01, torch.tensor([2.0, -0.5, 3.0], dtype=DT)
    for mu in (0.9, 0.99):
        w = torch.zeros(3, dtype=DT, requires_grad=True)
        opt = torch.optim.SGD([w], lr=eta, momentum=mu)
        hb, p = HeavyBall(eta, momentum=mu), np.zeros(3)
        for k in range(1, 201):
            before = w.detach().clone()
            opt.zero_grad()
            (w * g).sum().backward()                                     # gradient g everywhere
            opt.step()
            v_k = -eta * g * sum(mu ** i for i in range(k))
            torch.testing.assert_close(w.detach() - before, v_k, rtol=1e-10, atol=1e-14)
            q = p.copy()
            hb.step([p], [g.numpy()])
            np.testing.assert_allclose(p - q, v_k.numpy(), rtol=1e-10)
        k = 20_000
        assert -eta * (1 - mu ** k) / (1 - mu) == pytest.approx(-eta / (1 - mu), rel=1e-12)
    assert eta / (1 - 0.9) == pytest.approx(10 * eta) and eta / (1 - 0.99) == pytest.approx(100 * eta)


def test_ex_adam_first_step():
    """Problem 7.2: m_1 = (1 - b1) g, v_1 = (1 - b2) g^2, so m^ = g, v^ = g^2 and Adam's first step is
    -eta g/(|g| + eps) for every b1, b2 (torch.optim.Adam); without the correction and the defaults,
    -eta 0.1 g/(sqrt(0.001)|g|) ~ -3.16 eta sign(g), more than three times too large."""
    rng = np.random.default_rng(0)
    for _ in range(5):
        b1, b2 = rng.uniform(0.01, 0.999, 2)
        eta, eps = rng.uniform(1e-3, 1.0), 10 ** rng.uniform(-8, -1)
        g = torch.tensor(rng.standard_normal(7) * 10 ** rng.uniform(-3, 2, 7), dtype=DT)
        w = torch.tensor(rng.standard_normal(7), dtype=DT, requires_grad=True)
        before = w.detach().clone()
        opt = torch.optim.Adam([w], lr=eta, betas=(b1, b2), eps=eps)
        w.grad = g.clone()
        opt.step()
        m1, v1 = (1 - b1) * g, (1 - b2) * g ** 2
        torch.testing.assert_close(m1 / (1 - b1), g) and torch.testing.assert_close(v1 / (1 - b2), g ** 2)
        torch.testing.assert_close(w.detach() - before, -eta * g / (g.abs() + eps), rtol=1e-12, atol=1e-15)
    g = torch.tensor([5.0, -0.2, 1e-2], dtype=DT)                       # |g| >> eps = 1e-8
    uncorrected = (1 - 0.9) * g / (torch.sqrt((1 - 0.999) * g ** 2) + 1e-8)
    torch.testing.assert_close(uncorrected, 0.1 / math.sqrt(0.001) * torch.sign(g), rtol=1e-4, atol=0)
    assert f"{0.1 / math.sqrt(0.001):.2f}" == "3.16" and 0.1 / math.sqrt(0.001) > 3


def test_ex_newton_saddle():
    """Problem 7.3: for L = x^2/2 + y^4/4 - y^2/2, g = (x, y^3 - y), H = diag(1, 3y^2 - 1) (autograd),
    Newton goes to (0, 2y^3/(3y^2 - 1)); for |y| < 1/sqrt(3) it flips the sign of y, shrinks |y| exactly
    when |y| < 1/sqrt(5) (then converges cubically to the saddle) and grows it for 1/sqrt(5) < |y| <
    1/sqrt(3); gradient descent multiplies small y by 1 + eta and escapes."""
    def loss(p):
        return p[0] ** 2 / 2 + p[1] ** 4 / 4 - p[1] ** 2 / 2

    rng = np.random.default_rng(0)
    for x, y in zip(rng.uniform(-3, 3, 20), rng.uniform(-1, 1, 20) / math.sqrt(3)):
        p = torch.tensor([x, y], dtype=DT)
        g = torch.autograd.functional.jacobian(loss, p)
        H = torch.autograd.functional.hessian(loss, p)
        torch.testing.assert_close(g, torch.tensor([x, y ** 3 - y], dtype=DT))
        torch.testing.assert_close(H, torch.diag(torch.tensor([1.0, 3 * y ** 2 - 1], dtype=DT)))
        new = p.numpy() + newton_step(g.numpy(), H.numpy())
        np.testing.assert_allclose(new, [0.0, 2 * y ** 3 / (3 * y ** 2 - 1)], rtol=1e-12, atol=1e-15)
        assert torch.linalg.eigvalsh(H).min() < 0                       # a saddle region
    ys = np.linspace(1e-3, 1 / math.sqrt(3) - 1e-3, 2001)
    ys = np.concatenate([ys, -ys])
    y_new = 2 * ys ** 3 / (3 * ys ** 2 - 1)
    assert np.all(np.sign(y_new) == -np.sign(ys))
    np.testing.assert_array_equal(np.abs(y_new) < np.abs(ys), np.abs(ys) < 1 / math.sqrt(5))
    y = 0.44                                                             # just below 1/sqrt(5) = 0.447
    for _ in range(6):
        y_next = 2 * y ** 3 / (3 * y ** 2 - 1)
        assert abs(y_next) < abs(y)
        y_prev, y = y, y_next
    assert abs(y) < 1e-30 and y / y_prev ** 3 == pytest.approx(-2, rel=1e-12)  # cubic: y_+ ~ -2 y^3
    eta, y = 0.1, 1e-4
    assert (y - eta * (y ** 3 - y)) / y == pytest.approx(1 + eta, rel=1e-7)
    for _ in range(300):
        y = y - eta * (y ** 3 - y)
    assert y == pytest.approx(1.0, rel=1e-6)                             # escaped to the minimum y = 1


def test_ex_bfgs_secant():
    """Problem 7.4: (I - rho y s^T) y = 0, so G_{k+1} y = rho s (s^T y) = s (eq-bfgs, nnlearn's bfgs_update);
    the notes' G' = G + y y^T/(y^T s) - G s s^T G/(s^T G s) gives G' s = y but not G' y = s: it is the
    update of the Hessian approximation B (B' s = y), and B' is the inverse of the BFGS G_{k+1}."""
    rng = np.random.default_rng(0)
    n, I = 6, np.eye(6)
    for _ in range(5):
        A = rng.standard_normal((n, n))
        G = A @ A.T + n * I
        s = rng.standard_normal(n)
        y = rng.standard_normal(n)
        if y @ s < 0:
            y = -y
        rho = 1 / (y @ s)
        np.testing.assert_allclose((I - rho * np.outer(y, s)) @ y, 0, atol=1e-12)
        G_new = (I - rho * np.outer(s, y)) @ G @ (I - rho * np.outer(y, s)) + rho * np.outer(s, s)
        np.testing.assert_allclose(G_new, bfgs_update(G, s, y), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(G_new @ y, s, rtol=1e-10, atol=1e-12)
        assert np.linalg.eigvalsh(G_new).min() > 0
        notes = G + np.outer(y, y) / (y @ s) - G @ np.outer(s, s) @ G / (s @ G @ s)
        np.testing.assert_allclose(notes @ s, y, rtol=1e-10, atol=1e-12)
        assert np.linalg.norm(notes @ y - s) > 1e-3 * np.linalg.norm(s)
        B = np.linalg.inv(G)                                             # the same formula applied to B = G^-1
        B_new = B + np.outer(y, y) / (y @ s) - B @ np.outer(s, s) @ B / (s @ B @ s)
        np.testing.assert_allclose(B_new @ s, y, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.linalg.inv(B_new), G_new, rtol=1e-8, atol=1e-10)


def test_ex_clip_direction():
    """Problem 7.5: g = (3, 0.1) clipped by value at 1 is (1, 0.1), turned by about 3.8 degrees; clipped by
    norm at 1, ||g|| = sqrt(9.01) ~ 3.0017 and g/3.0017 ~ (0.9994, 0.0333): same direction, length 1.
    Checked with torch.nn.utils.clip_grad_value_ and clip_grad_norm_."""
    g = torch.tensor([3.0, 0.1], dtype=DT)
    p = torch.zeros(2, dtype=DT, requires_grad=True)
    p.grad = g.clone()
    torch.nn.utils.clip_grad_value_([p], 1.0)
    torch.testing.assert_close(p.grad, torch.tensor([1.0, 0.1], dtype=DT))
    angle = math.degrees(math.atan2(0.1, 1.0) - math.atan2(0.1, 3.0))
    assert f"{angle:.1f}" == "3.8"
    p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_([p], 1.0)
    assert total.item() == pytest.approx(math.sqrt(9.01)) and f"{total.item():.4f}" == "3.0017"
    assert [f"{v:.4f}" for v in p.grad.tolist()] == ["0.9994", "0.0333"]
    assert torch.dot(p.grad, g) / (p.grad.norm() * g.norm()) == pytest.approx(1.0, abs=1e-15)
    assert p.grad.norm().item() == pytest.approx(1.0, abs=1e-6)         # torch divides by ||g|| + 1e-6


# ----------------------------------------------------------------------------------------- chapter 8

def test_ex_decay_steps():
    """Problem 8.1: SGD with eta = 0.1, lambda = 5e-4 multiplies an untouched weight by 1 - 5e-5 per step
    (torch.optim.SGD(weight_decay)); halving takes ln 2/(-ln(1 - 5e-5)) ~ ln 2/5e-5 ~ 13 863 steps. Without
    the 1/2 the gradient is 2 lambda W (autograd), the factor 1 - 2 eta lambda: about 6931 steps, half
    as many, the same as lambda doubled."""
    eta, lam = 0.1, 5e-4
    w = torch.tensor([0.7, -2.0], dtype=DT, requires_grad=True)
    opt = torch.optim.SGD([w], lr=eta, weight_decay=lam)
    w.grad = torch.zeros(2, dtype=DT)                                   # the loss does not touch it
    before = w.detach().clone()
    opt.step()
    torch.testing.assert_close(w.detach() / before, torch.full((2,), 1 - 5e-5, dtype=DT), rtol=1e-15, atol=0)

    def steps_to_halve(factor):
        k, v = 0, 1.0
        while v > 0.5:
            v, k = v * factor, k + 1
        return k

    k1 = math.log(2) / -math.log(1 - eta * lam)
    assert round(k1) == 13863 and round(math.log(2) / (eta * lam)) == 13863
    assert steps_to_halve(1 - eta * lam) == 13863
    W = torch.tensor([0.3, -1.2], dtype=DT, requires_grad=True)
    (lam * (W ** 2).sum()).backward()
    torch.testing.assert_close(W.grad, 2 * lam * W.detach())
    k2 = math.log(2) / -math.log(1 - 2 * eta * lam)
    assert round(k2) == 6931 and steps_to_halve(1 - 2 * eta * lam) == 6932       # k2 = 6931.1: "about"
    assert k2 / k1 == pytest.approx(0.5, rel=1e-4)
    v = torch.tensor([0.7], dtype=DT, requires_grad=True)                # weight_decay = 2 lambda: same step
    opt2 = torch.optim.SGD([v], lr=eta, weight_decay=2 * lam)
    v.grad = torch.zeros(1, dtype=DT)
    opt2.step()
    assert v.item() == pytest.approx(0.7 * (1 - 2 * eta * lam), rel=1e-15)


def test_ex_prox():
    """Problem 8.2: sign(v) max(|v| - t, 0) minimises (z - v)^2/2 + t|z| (against a fine grid); for
    |v| <= t it is 0 and 0 lies in [v - t, v + t]; the subgradient step v - t sign(v) hits 0 only at
    |v| = t, keeps the sign for |v| > t, crosses zero for 0 < |v| < t, and repeated steps oscillate."""
    rng = np.random.default_rng(0)
    grid = np.linspace(-6, 6, 120_001)
    for v, t in zip(rng.uniform(-4, 4, 40), rng.uniform(0, 3, 40)):
        z = np.sign(v) * max(abs(v) - t, 0)
        assert soft_threshold(np.array([v]), t)[0] == z
        objective = 0.5 * (grid - v) ** 2 + t * np.abs(grid)
        assert 0.5 * (z - v) ** 2 + t * abs(z) <= objective.min() + 1e-12
        assert abs(grid[objective.argmin()] - z) <= 2e-4
        if abs(v) <= t:
            assert z == 0 and v - t <= 0 <= v + t
        else:
            assert z == (v - t if v > t else v + t)
        step = v - t * np.sign(v)
        if abs(v) > t:
            assert np.sign(step) == np.sign(v)
        elif abs(v) < t:
            assert np.sign(step) == -np.sign(v)
    assert 0.5 - 0.5 * np.sign(0.5) == 0.0
    z, signs = 0.37, []                                                  # repeated subgradient steps, t = 0.1
    for _ in range(200):
        z = z - 0.1 * np.sign(z)
        signs.append(np.sign(z))
        assert z != 0 and abs(z) <= 0.37
    assert signs[-20:] == [(-1.0) ** k * signs[-20] for k in range(20)]   # alternates around 0
    assert soft_threshold(np.array([0.07]), 0.1)[0] == 0.0


def test_ex_map_n():
    """Problem 8.3: nu = 0.5, nu_w = 0.1, n = 1000: lambda = nu^2/(n nu_w^2) = 0.025; n = 100 000: 2.5e-4.
    The ridge solution with that lambda (mean loss (1/2n) sum (...)^2) maximises the posterior written
    with torch.distributions: its gradient vanishes there, and not for lambda * 10."""
    nu, nu_w = F(1, 2), F(1, 10)
    assert nu ** 2 / (1000 * nu_w ** 2) == F(25, 1000) and nu ** 2 / (100_000 * nu_w ** 2) == F(25, 100_000)
    rng = np.random.default_rng(0)
    for n in (1000, 100_000):
        X = rng.standard_normal((n, 4))
        y = X @ rng.normal(0, 0.1, 4) + 0.3 + rng.normal(0, 0.5, n)
        lam = float(nu ** 2 / (n * nu_w ** 2))
        grads = []
        for scale in (1, 10):
            w, b = ridge_solution(X, y, scale * lam)
            wt = torch.tensor(w, requires_grad=True)
            bt = torch.tensor(b, requires_grad=True)
            mean = torch.from_numpy(X) @ wt + bt
            log_post = (torch.distributions.Normal(mean, 0.5).log_prob(torch.from_numpy(y)).sum()
                        + torch.distributions.Normal(0.0, 0.1).log_prob(wt).sum())   # b: flat prior
            log_post.backward()
            grads.append(math.hypot(wt.grad.norm().item(), bt.grad.item()))
        assert grads[0] < 1e-6 * n and grads[1] > 1e3 * grads[0]


def test_ex_dropout_variance():
    """Problem 8.4: m = 1/(1 - p) with probability 1 - p, else 0: E[m h] = h, E[(m h)^2] = h^2/(1 - p),
    Var[m h] = h^2 p/(1 - p), which diverges as p -> 1. Exact fractions, and by sampling
    torch.nn.functional.dropout and nnlearn's dropout_mask."""
    for p in (F(1, 10), F(1, 2), F(4, 5), F(99, 100)):
        m = 1 / (1 - p)
        mean, second = (1 - p) * m, (1 - p) * m ** 2
        assert mean == 1 and second == 1 / (1 - p) and second - mean ** 2 == p / (1 - p)
    assert F(99, 100) / (1 - F(99, 100)) == 99 and F(999, 1000) / (1 - F(999, 1000)) == 999
    h, n = -1.7, 400_000
    torch.manual_seed(0)
    for p in (0.2, 0.5, 0.8):
        for out in (torch.nn.functional.dropout(torch.full((n,), h, dtype=DT), p, training=True).numpy(),
                    h * dropout_mask((n,), p, np.random.default_rng(1))):
            assert within_se(out, h)
            centred = (out - h) ** 2
            assert within_se(centred, h ** 2 * p / (1 - p))
            assert not within_se(centred, h ** 2 * p)                    # a plausible wrong answer fails


def test_ex_ensemble_variance():
    """Problem 8.5: Q errors with E[d_i^2] = V, E[d_i d_j] = zeta V: E[(mean d)^2] = (Q V + Q(Q-1) zeta V)/Q^2
    = zeta V + (1 - zeta) V/Q, exactly from the covariance matrix and by sampling; -> zeta V as Q -> inf."""
    V = F(3, 2)
    for zeta in (F(0), F(1, 3), F(9, 10), F(1)):
        for Q in range(1, 9):
            cov = [[V if i == j else zeta * V for j in range(Q)] for i in range(Q)]
            exact = sum(sum(row) for row in cov) / Q ** 2                # 1^T C 1 / Q^2
            assert exact == (Q * V + Q * (Q - 1) * zeta * V) / Q ** 2 == zeta * V + (1 - zeta) * V / Q
        big = zeta * V + (1 - zeta) * V / 10 ** 9
        assert abs(big - zeta * V) <= V / 10 ** 9
    rng = np.random.default_rng(0)
    Q, zeta, V = 5, 0.3, 2.0
    C = V * ((1 - zeta) * np.eye(Q) + zeta * np.ones((Q, Q)))
    d = rng.multivariate_normal(np.zeros(Q), C, size=200_000)
    assert within_se(d.mean(axis=1) ** 2, zeta * V + (1 - zeta) * V / Q)
    assert not within_se(d.mean(axis=1) ** 2, V / Q)                    # independence would be wrong


# ----------------------------------------------------------------------------------------- chapter 9

def test_ex_grid_values():
    """Problem 9.1: a grid of 3 values over d = 5 costs 3^5 = 243 trainings and tries 3 values of each
    hyperparameter, each 81 times; random search with 243 trainings tries 243 distinct values of each."""
    G = grid_points(3, 5)
    assert G.shape == (243, 5) and 3 ** 5 == 243
    for j in range(5):
        values, counts = np.unique(G[:, j], return_counts=True)
        assert len(values) == 3 and counts.tolist() == [81] * 3
    U = np.random.default_rng(0).random((243, 5))
    assert all(len(np.unique(U[:, j])) == 243 for j in range(5))
    L = log_uniform(1e-4, 1e-1, 243, np.random.default_rng(1))
    assert len(np.unique(L)) == 243


def test_ex_hb_27():
    """Problem 9.2: R = 27, chi = 3: s_max = 3, B = 108; brackets (27,1)(9,3)(3,9)(1,27), (12,3)(4,9)(1,27),
    (6,9)(2,27), (4,27) with budgets 108, 99, 108, 108, 423 units in all. An exact-fraction transcription
    of Algorithm 1, nnlearn's hyperband_schedule, and the evaluations of nnlearn's hyperband."""
    R, chi = 27, 3
    s_max = max(s for s in range(10) if chi ** s <= R)
    B = (s_max + 1) * R
    assert (s_max, B) == (3, 108)
    brackets = []
    for s in range(s_max, -1, -1):
        q = F(B, R) * F(chi ** s, s + 1)
        assert q.denominator == 1                                        # for R = 27 no rounding up happens
        n = q.numerator // q.denominator + (q.denominator != 1)          # ceil
        r = F(R, chi ** s)
        brackets.append([(int(F(n, chi ** i)), r * chi ** i) for i in range(s + 1)])   # int() floors n >= 0
    expected = [[(27, 1), (9, 3), (3, 9), (1, 27)], [(12, 3), (4, 9), (1, 27)], [(6, 9), (2, 27)], [(4, 27)]]
    assert brackets == expected
    assert [[(n, float(r)) for n, r in b] for b in hyperband_schedule(R, chi)] == expected
    budgets = [sum(n * r for n, r in b) for b in brackets]
    assert budgets == [108, 99, 108, 108] and sum(budgets) == 423
    assert [36 + 36 + 27, 54 + 54] == [99, 108]
    counter = iter(range(10 ** 6))
    rng = np.random.default_rng(0)
    ids, spent, losses = hyperband(lambda n: [next(counter) for _ in range(n)],
                                   lambda ids, budget: rng.random(len(ids)), R, chi)
    assert spent.sum() == 423


def test_ex_ei_limit():
    """Problem 9.3: EI = (f* - mu) Psi(z) + nu psi(z) (against the integral) tends to max(f* - mu, 0) as
    nu -> 0 (mu < f*, mu > f*, and nu psi(0) -> 0 at mu = f*), and dEI/dnu = psi(z) > 0 (autograd and
    central differences), so EI increases with nu."""
    def ei(mu, nu, best):
        z = (best - mu) / nu
        return (best - mu) * torch.special.ndtr(z) + nu * torch.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi)

    best = 0.4
    for mu, nu in [(0.1, 0.3), (0.9, 0.2), (0.4, 1.5), (-2.0, 0.05)]:
        integral = scipy.integrate.quad(lambda f: (best - f) * scipy.stats.norm.pdf(f, mu, nu), -np.inf, best)[0]
        assert ei(torch.tensor(mu, dtype=DT), torch.tensor(nu, dtype=DT), best).item() == pytest.approx(integral,
                                                                                                          rel=1e-8)
        assert expected_improvement(np.array([mu]), np.array([nu]), best)[0] == pytest.approx(integral, rel=1e-8)
    for mu in (0.1, 0.9, best):
        for nu in (1e-3, 1e-6, 1e-9):
            value = ei(torch.tensor(mu, dtype=DT), torch.tensor(nu, dtype=DT), best).item()
            if mu == best:
                assert value == pytest.approx(nu * scipy.stats.norm.pdf(0), rel=1e-12)
            else:
                assert value == pytest.approx(max(best - mu, 0), abs=2 * nu)
        assert expected_improvement(np.array([mu]), np.array([0.0]), best)[0] == max(best - mu, 0)
    rng = np.random.default_rng(0)
    for mu, nu in zip(rng.uniform(-2, 2, 20), rng.uniform(0.01, 3, 20)):
        mu_t, nu_t = torch.tensor(mu, dtype=DT), torch.tensor(nu, dtype=DT, requires_grad=True)
        ei(mu_t, nu_t, best).backward()
        z = (best - mu) / nu
        psi = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        h = 1e-6 * nu
        fd = (ei(mu_t, nu_t.detach() + h, best) - ei(mu_t, nu_t.detach() - h, best)).item() / (2 * h)
        assert nu_t.grad.item() == pytest.approx(psi, rel=1e-9, abs=1e-300) and fd == pytest.approx(psi, rel=1e-5)
        assert psi > 0
    curve = ei(torch.tensor(0.7, dtype=DT), torch.linspace(0.01, 5, 500, dtype=DT), best)
    assert torch.all(torch.diff(curve) > 0)


def test_ex_loguniform_median():
    """Problem 9.4: the median of a log-uniform rate on [1e-4, 1e-1] is 10^-2.5 ~ 3.2e-3, the geometric
    mean of the ends (scipy.stats.loguniform, and nnlearn's log_uniform by sampling); of a uniform one,
    the arithmetic mean 0.05005, in the top decade [1e-2, 1e-1]."""
    median = scipy.stats.loguniform(1e-4, 1e-1).median()
    assert median == pytest.approx(10 ** -2.5, rel=1e-12) and median == pytest.approx(math.sqrt(1e-4 * 1e-1))
    assert f"{median:.1e}" == "3.2e-03"
    draws = log_uniform(1e-4, 1e-1, 100_000, np.random.default_rng(0))
    assert within_se(draws < 10 ** -2.5, 0.5)
    mid = (F(1, 10_000) + F(1, 10)) / 2
    assert mid == F(5005, 100_000) and scipy.stats.uniform(1e-4, 0.1 - 1e-4).median() == pytest.approx(0.05005)
    assert F(1, 100) <= mid <= F(1, 10)
    assert within_se(np.random.default_rng(1).uniform(1e-4, 1e-1, 100_000) < 0.05005, 0.5)
