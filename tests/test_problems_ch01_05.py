"""The worked solutions of the pen-and-paper problems of chapters 1-5, checked by code.

One test per problem, named after its label in book/ch0N_*.md. Every formula, number and claim of
the worked solution is recomputed: exact arithmetic (fractions, integers) where the solution gives
exact numbers, torch.autograd and finite differences for derivatives, enumeration for expectations,
random instances for identities, and the nnlearn functions the chapters use.
"""
import itertools
import math
from fractions import Fraction as F

import numpy as np
import torch

from nnlearn.activations import sigmoid, sigmoid_derivative, tanh_derivative
from nnlearn.backprop import loss_and_gradients, path_counts
from nnlearn.linear import cost_and_gradients, hessian
from nnlearn.losses import (
    sigmoid_cross_entropy_gradient,
    sigmoid_cross_entropy_per_example,
    softmax_cross_entropy_gradient,
)
from nnlearn.mlp import binary_code, count_parameters, layer_shapes, preactivation_range
from nnlearn.mlp import init_parameters as mlp_init
from nnlearn.output_layers import (
    smooth_binary_targets,
    smooth_labels,
    smoothed_optimal_logit_gap,
    softmax_jvp,
)
from nnlearn.perceptron import collapse_linear_layers, train_perceptron
from nnlearn.regression_losses import (
    absolute_cost_gradient,
    huber_cost,
    huber_cost_gradient,
)

EPS64 = np.finfo(np.float64).eps


def grad(f, x):
    """df/dx by torch.autograd at the float64 point x (a number or an array)."""
    x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(f(x), x)
    return g.numpy()


# --- chapter 1 ------------------------------------------------------------------------------

def test_ex_tanh_sigmoid():
    """tanh(a) = 2 sigma(2a) - 1 = (1 - e^{-2a})/(1 + e^{-2a}) = (e^{2a} - 1)/(e^{2a} + 1);
    tanh' = 1 - tanh^2 <= 1, with equality exactly at a = 0, where tanh(0) = 0."""
    a = np.linspace(-8, 8, 1601)
    e = np.exp(-2 * a)
    np.testing.assert_allclose(2 * sigmoid(2 * a) - 1, np.tanh(a), atol=1e-15)
    np.testing.assert_allclose((1 - e) / (1 + e), np.tanh(a), atol=1e-15)
    np.testing.assert_allclose((np.exp(2 * a) - 1) / (np.exp(2 * a) + 1), np.tanh(a), atol=1e-15)
    d = grad(lambda t: torch.tanh(t).sum(), a)
    np.testing.assert_allclose(d, 1 - np.tanh(a) ** 2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tanh_derivative(a), d, rtol=1e-12, atol=1e-15)
    assert np.all(d <= 1) and np.tanh(0.0) == 0.0 and d[a == 0] == 1
    assert np.all(d[a != 0] < 1) and a[np.argmax(d)] == 0


def test_ex_learning_rate():
    """From w = 0, b = 0 the perceptron with rate eta keeps the weights at eta times those of eta = 1,
    so it makes the same predictions and the same number of updates for every eta > 0."""
    rng = np.random.default_rng(0)
    for separable in (True, False):
        X = rng.integers(-4, 5, size=(30, 3)).astype(float)      # integers: every margin is exact
        y = np.where(X @ [1.0, -2.0, 0.5] + 1.0 > 0, 1, -1)
        if not separable:
            y[:4] = -y[:4]
        ref = train_perceptron(X, y, lr=1.0, max_epochs=15, rng=np.random.default_rng(1))
        assert ref.n_updates > 0 and ref.converged == separable
        for eta in (0.125, 0.5, 3.0, 64.0):
            res = train_perceptron(X, y, lr=eta, max_epochs=15, rng=np.random.default_rng(1))
            assert res.mistakes_per_epoch == ref.mistakes_per_epoch
            np.testing.assert_array_equal(res.w, eta * ref.w)
            assert res.b == eta * ref.b
            np.testing.assert_array_equal(np.sign(X @ res.w + res.b), np.sign(X @ ref.w + ref.b))
    # the base case matters: from a nonzero start the rate does change the run
    w0 = np.array([1.0, 0.0, 0.0])
    runs = [train_perceptron(X, y, lr=eta, max_epochs=15, w0=w0).mistakes_per_epoch for eta in (0.125, 64.0)]
    assert runs[0] != runs[1]


def test_ex_parameters_layers():
    """4-5-2-3 linear: 5(4+1) + 2(5+1) + 3(2+1) = 25 + 12 + 9 = 46 parameters; the collapsed layer has
    3(4+1) = 15; W* = W3 W2 W1 has rank at most 2, so a rank-3 map R^4 -> R^3 is out of reach."""
    assert [5 * (4 + 1), 2 * (5 + 1), 3 * (2 + 1)] == [25, 12, 9]
    assert count_parameters([4, 5, 2, 3]) == 46 and count_parameters([4, 3]) == 15
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 2), torch.nn.Linear(2, 3))
    assert sum(p.numel() for p in net.parameters()) == 46
    rng = np.random.default_rng(2)
    for _ in range(20):
        Ws = [rng.standard_normal(s) for s in ((5, 4), (2, 5), (3, 2))]
        bs = [rng.standard_normal(n) for n in (5, 2, 3)]
        W = collapse_linear_layers(Ws)
        np.testing.assert_allclose(W, Ws[2] @ Ws[1] @ Ws[0])
        b = Ws[2] @ Ws[1] @ bs[0] + Ws[2] @ bs[1] + bs[2]             # eq-linear-collapse
        x = rng.standard_normal(4)
        np.testing.assert_allclose(Ws[2] @ (Ws[1] @ (Ws[0] @ x + bs[0]) + bs[1]) + bs[2], W @ x + b)
        assert np.linalg.matrix_rank(W) == 2
    assert np.linalg.matrix_rank(rng.standard_normal((3, 4))) == 3      # rank-3 maps exist


# --- chapter 2 ------------------------------------------------------------------------------

def test_ex_count_deep():
    """784-100-100-10: 78 500 + 10 100 + 1 010 = 89 610, 87.6 % in the first layer; 784-200-10:
    157 000 + 2 010 = 159 010, 98.7 % in the first layer; same hidden units, little more than half."""
    deep, wide = [784, 100, 100, 10], [784, 200, 10]
    assert [s["parameters"] for s in layer_shapes(deep, 1)] == [78_500, 10_100, 1_010]
    assert [s["parameters"] for s in layer_shapes(wide, 1)] == [157_000, 2_010]
    assert count_parameters(deep) == 89_610 and count_parameters(wide) == 159_010
    assert round(100 * 78_500 / 89_610, 1) == 87.6 and round(100 * 157_000 / 159_010, 1) == 98.7
    assert sum(deep[1:-1]) == sum(wide[1:-1]) == 200
    assert 0.5 < 89_610 / 159_010 < 0.6


def test_ex_batch_shapes():
    """784-128-64-10 on 32 images: X 32x784; W1 128x784, b1 128, H1 32x128; W2 64x128, b2 64, H2 32x64;
    W3 10x64, b3 10, H3 32x10; broadcasting b adds 1_32 b^T, the bias copied into every row."""
    expected = [((128, 784), (128,), (32, 128)), ((64, 128), (64,), (32, 64)), ((10, 64), (10,), (32, 10))]
    shapes = layer_shapes([784, 128, 64, 10], 32)
    assert [(s["weight"], s["bias"], s["output"]) for s in shapes] == expected
    g = torch.Generator().manual_seed(0)
    H = torch.randn(32, 784, generator=g, dtype=torch.float64)
    for W_shape, b_shape, H_shape in expected:
        W, b = torch.randn(W_shape, generator=g, dtype=torch.float64), torch.randn(b_shape, generator=g,
                                                                                   dtype=torch.float64)
        out = H @ W.T + b
        np.testing.assert_allclose(out, H @ W.T + torch.ones(32, 1, dtype=torch.float64) @ b[None, :], rtol=1e-12)
        np.testing.assert_allclose(out, torch.nn.functional.linear(H, W, b), rtol=1e-12, atol=1e-12)
        H = torch.relu(out)
        assert tuple(H.shape) == H_shape


def test_ex_step_binary():
    """0/1 weights, step units: need -0.99 < b_j <= -0.01 K_{j,1}: (-0.99, -0.05] for unit 0, (-0.99, -0.04]
    for units 1 and 2, (-0.99, -0.02] for unit 3; any common bias in (-0.99, -0.05] works; the midpoint
    -0.52 leaves the largest margin, 0.47."""
    bits = binary_code(np.arange(10), 4)                          # (10, 4): bit j of digit d
    W = bits.T                                                    # (4, 10): weight 1 from digits with bit j
    assert bits.sum(axis=0).tolist() == [5, 4, 4, 2]              # K_{j,1}
    # every corner of the box in thousandths: h_d in {990, 1000}, every other h_k in {0, 10}
    corners, labels = [], []
    for d in range(10):
        for choice in itertools.product((0, 1), repeat=10):
            h = np.where(np.arange(10) == d, 990 + 10 * np.array(choice), 10 * np.array(choice))
            corners.append(h)
            labels.append(d)
    A = np.array(corners) @ W.T                                   # pre-activations without bias, exact
    on = bits[labels] == 1                                        # (corner, unit): the bit to produce
    lo_on = np.where(on, A, 10**9).min(axis=0)                    # smallest a where the bit is 1: 990
    hi_off = np.where(on, -10**9, A).max(axis=0)                  # largest a where it is 0: 10 K_{j,1}
    assert lo_on.tolist() == [990] * 4 and hi_off.tolist() == [50, 40, 40, 20]
    z_min, z_max = preactivation_range(W.astype(float), np.zeros(4))   # the package's exact extremes
    np.testing.assert_allclose(np.where(bits == 1, z_min, np.inf).min(axis=0), 0.99)
    np.testing.assert_allclose(np.where(bits == 1, -np.inf, z_max).max(axis=0), [0.05, 0.04, 0.04, 0.02])
    b = np.arange(-1500, 501)                                     # biases in thousandths
    works = (lo_on[None] + b[:, None] > 0) & (hi_off[None] + b[:, None] <= 0)   # step(a) = [a > 0]
    for j, top in enumerate((-50, -40, -40, -20)):
        assert b[works[:, j]].tolist() == list(range(-989, top + 1))         # (-0.99, top/1000]
    assert b[works.all(axis=1)].tolist() == list(range(-989, -49))          # common: (-0.99, -0.05]
    margin = np.minimum((lo_on[None] + b[:, None]).min(axis=1), -(hi_off[None] + b[:, None]).max(axis=1))
    assert b[np.argmax(margin)] == -520 and margin.max() == 470


def test_ex_batch_cost():
    """t(n) = 20 + 0.05 n microseconds: t(1)/1 = 20.05, t(1000)/1000 = 0.07, about 290 times less; the fixed
    cost is at most 10 % of the call from n = 9 * 20 / 0.05 = 3600 on."""
    t0, c = F(20), F(5, 100)
    t = lambda n: t0 + c * n
    assert t(1) / 1 == F(2005, 100) and t(1000) / 1000 == F(7, 100)
    assert round((t(1) / (t(1000) / 1000)) / 10) * 10 == 290
    ok = [n for n in range(1, 10_000) if t0 <= F(1, 10) * t(n)]
    assert ok[0] == 9 * t0 / c == 3600 and ok == list(range(3600, 10_000))


# --- chapter 3 ------------------------------------------------------------------------------

def test_ex_one_variable():
    """Steps of length 0.1 on v^2/2 from 0.25: 0.25, 0.15, 0.05, -0.05, 0.05, ... forever; gradient descent
    v_k = (1 - eta)^k v_0 -> 0 for every v_0 iff 0 < eta < 2; v^3 has L'(0) = 0 and L < 0 for v < 0;
    -v^2 has a maximum at 0."""
    v, path = F(1, 4), [F(1, 4)]
    for _ in range(12):
        v -= F(1, 10) * (1 if v > 0 else -1)                       # -eps grad/|grad| = -eps sign(v)
        path.append(v)
    assert path[:5] == [F(1, 4), F(3, 20), F(1, 20), F(-1, 20), F(1, 20)]
    assert path[3:] == [F((-1) ** k, 20) for k in range(1, 11)]
    for eta in (-0.5, 0.0, 0.3, 1.0, 1.7, 1.99, 2.0, 2.5):
        v0, v = 0.7, 0.7
        for k in range(1, 31):
            v = v - eta * grad(lambda t: t**2 / 2, v).item()
            assert math.isclose(v, (1 - eta) ** k * v0, rel_tol=1e-12, abs_tol=1e-300)
        assert (abs(1 - eta) < 1) == (0 < eta < 2)
        log_v = 5000 * np.log(abs(1 - eta)) if eta != 1 else -np.inf     # log |v_5000 / v_0|
        assert (log_v < np.log(1e-12)) == (0 < eta < 2)
    assert grad(lambda t: t**3, 0.0) == 0 and all(u**3 < 0 for u in (-1e-3, -0.5, -2.0))
    assert grad(lambda t: -t**2, 0.0) == 0 and all(-u**2 < 0 for u in (-1.0, 1e-3, 2.0))


def test_ex_best_rate():
    """max(|1 - eta l1|, |1 - eta l2|) is 1 - eta l1 for eta <= 1/l2, eta l2 - 1 for eta >= 1/l1, smallest at
    eta* = 2/(l1 + l2) with value (l2 - l1)/(l2 + l1) = (kappa - 1)/(kappa + 1); kappa = 1: one step."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        l1, l2 = np.sort(rng.uniform(0.1, 10, size=2))
        eta = np.linspace(0, 2.5 / l1, 200_001)
        f = np.maximum(np.abs(1 - eta * l1), np.abs(1 - eta * l2))
        np.testing.assert_allclose(f[eta <= 1 / l2], (1 - eta * l1)[eta <= 1 / l2])
        np.testing.assert_allclose(f[eta >= 1 / l1], (eta * l2 - 1)[eta >= 1 / l1])
        kappa = l2 / l1
        assert abs(eta[np.argmin(f)] - 2 / (l1 + l2)) <= eta[1]
        assert f.min() >= (kappa - 1) / (kappa + 1) - 1e-12
        assert f.min() <= (kappa - 1) / (kappa + 1) + l2 * eta[1]
    for l1, l2 in ((F(1), F(3)), (F(2, 7), F(5)), (F(4), F(4))):
        e = 2 / (l1 + l2)
        assert 1 - e * l1 == e * l2 - 1 == (l2 / l1 - 1) / (l2 / l1 + 1)
    l = F(7, 3)                                                    # round bowl: eta* = 1/l lands on 0
    v = [F(5), F(-2)]
    assert [x - 2 / (l + l) * l * x for x in v] == [0, 0]


def test_ex_variance():
    """E||g_m - g||^2 = V/m with replacement and (V/m)(n - m)/(n - 1) without, exactly, by enumerating every
    draw; along the way E Z_i = m/n, E Z_i Z_j = m(m-1)/(n(n-1)) and sum_{i != j} d_i . d_j = -nV."""
    rng = np.random.default_rng(4)
    n = 5
    G = [tuple(F(int(v)) for v in row) for row in rng.integers(-9, 10, size=(n, 3))]
    g = tuple(sum(c) / n for c in zip(*G))
    D = [tuple(a - b for a, b in zip(gi, g)) for gi in G]
    dot = lambda u, w: sum(a * b for a, b in zip(u, w))
    V = sum(dot(d, d) for d in D) / n
    assert V > 0 and sum(dot(D[i], D[j]) for i in range(n) for j in range(n) if i != j) == -n * V

    def sq_err(batch):
        mean = tuple(sum(c) / len(batch) for c in zip(*(G[i] for i in batch)))
        return dot(*(tuple(a - b for a, b in zip(mean, g)),) * 2)
    for m in range(1, n + 1):
        draws = list(itertools.product(range(n), repeat=m))
        assert sum(sq_err(b) for b in draws) / len(draws) == V / m
        subsets = list(itertools.combinations(range(n), m))
        assert sum(sq_err(b) for b in subsets) / len(subsets) == V / m * F(n - m, n - 1)
        assert F(sum(0 in s for s in subsets), len(subsets)) == F(m, n)
        assert F(sum(0 in s and 1 in s for s in subsets), len(subsets)) == F(m * (m - 1), n * (n - 1))
        lhs = F(m, n) * n * V - F(m * (m - 1), n * (n - 1)) * n * V
        assert lhs == m * V * (1 - F(m - 1, n - 1)) == m * V * F(n - m, n - 1)
        sums = [tuple(sum(D[i][c] for i in s) for c in range(3)) for s in subsets]   # sum_i Z_i d_i
        assert sum(dot(v, v) for v in sums) / len(subsets) == lhs


def test_ex_exp_decay():
    """eta_j = eta0 e^{-rho j}, t_j = eta0 lambda e^{-rho j}: ln(v_k/v_0) >= -sum t_j/(1 - eta0 lambda)
    >= -eta0 lambda/((1 - eta0 lambda)(1 - e^{-rho})) for every k, so |v_k| stays above a positive bound;
    the hint ln(1 - t) >= -t/(1 - t) follows from -ln(1 - t) = sum t^k/k <= t/(1 - t)."""
    for c, rho in ((0.5, 0.1), (0.9, 0.01), (0.1, 1.0), (0.99, 0.5)):   # c = eta0 * lambda
        j = np.arange(int(40 / rho))                               # t_j < e^{-40}: the tail is negligible
        t = c * np.exp(-rho * j)
        assert np.all((t > 0) & (t <= c))
        log_ratio = np.cumsum(np.log1p(-t))                        # ln(v_k/v_0), k = 1, 2, ...
        v = 0.8 * np.cumprod(1 - t)                                # eq-decay-limit with v_0 = 0.8
        np.testing.assert_allclose(np.log(v / 0.8), log_ratio, rtol=1e-9)
        assert np.all(np.log1p(-t) >= -t / (1 - c))
        assert np.all(log_ratio >= -np.cumsum(t) / (1 - c) - 1e-12)
        bound = c / ((1 - c) * (1 - np.exp(-rho)))
        assert np.cumsum(t)[-1] <= c / (1 - np.exp(-rho)) * (1 + 1e-12) and np.all(log_ratio >= -bound)
        assert np.log(v[-1] / 0.8) >= -bound and np.isfinite(bound)   # |v_k| >= |v_0| e^{-bound} > 0
        assert np.any(log_ratio < -np.cumsum(t))                   # the factor 1/(1 - c) is needed
    s = np.linspace(0, 0.999, 1000)                               # s[:901] <= 0.9: 600 terms suffice
    assert np.all(np.log1p(-s) >= -s / (1 - s))
    k, s = np.arange(1, 601)[:, None], s[:901]
    series = (s ** k / k).sum(axis=0)
    np.testing.assert_allclose(series, -np.log1p(-s), rtol=1e-12)
    assert np.all(series <= s / (1 - s) + 1e-15)


def test_ex_linear_hessian():
    """C = sum_j (1/2n)||X~ w~_j - y_j||^2 with outputs not interacting; gradient (1/n) X~^T (X~ w~_j - y_j);
    Hessian (1/n) X~^T X~, PSD (u^T H u = ||X~ u||^2/n); singular iff X~ u = 0 for some u != 0 (a pixel 0
    in every image, or n < d + 1); along such u the cost is constant and gradient descent never moves."""
    rng = np.random.default_rng(5)
    n, d, k = 12, 4, 3
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((n, k))
    X[:, 2] = 0.0                                                  # a pixel that is 0 in every image
    W, b = rng.standard_normal((k, d)), rng.standard_normal(k)
    Xt = np.hstack([X, np.ones((n, 1))])
    C, (dW, db) = cost_and_gradients([W, b], X, Y)
    Wt = np.hstack([W, b[:, None]])                                # row j is w~_j
    assert math.isclose(C, sum(np.sum((Xt @ Wt[j] - Y[:, j]) ** 2) / (2 * n) for j in range(k)))
    for j in range(k):
        np.testing.assert_allclose(np.append(dW[j], db[j]), Xt.T @ (Xt @ Wt[j] - Y[:, j]) / n)
    H_full = torch.autograd.functional.hessian(
        lambda p: 0.5 * torch.sum((torch.tensor(Xt) @ p.reshape(k, d + 1).T - torch.tensor(Y)) ** 2) / n,
        torch.tensor(Wt.ravel())).numpy()
    H = hessian(X)
    np.testing.assert_allclose(H, Xt.T @ Xt / n)
    np.testing.assert_allclose(H_full, np.kron(np.eye(k), H), atol=1e-12)   # outputs do not interact
    for u in rng.standard_normal((10, d + 1)):
        assert math.isclose(u @ H @ u, np.sum((Xt @ u) ** 2) / n, rel_tol=1e-12)
    assert np.linalg.eigvalsh(H).min() >= -1e-12
    u = np.eye(d + 1)[2]                                           # the dead pixel's direction
    assert np.allclose(H @ u, 0) and np.linalg.matrix_rank(H) == d
    for s in (-3.0, 0.7, 10.0):
        assert math.isclose(cost_and_gradients([W + s * u[:d], b], X, Y)[0], C, rel_tol=1e-14)
    Wk, bk = W.copy(), b.copy()
    for _ in range(50):
        _, (gW, gb) = cost_and_gradients([Wk, bk], X, Y)
        assert np.all(gW[:, 2] == 0)
        Wk, bk = Wk - 0.3 * gW, bk - 0.3 * gb
    np.testing.assert_array_equal(Wk[:, 2], W[:, 2])              # never moved along u
    Xs = rng.standard_normal((3, d))                              # fewer examples than parameters
    Hs = hessian(Xs)
    assert np.linalg.matrix_rank(Hs) == 3 < d + 1
    u = np.linalg.svd(np.hstack([Xs, np.ones((3, 1))]))[2][-1]    # X~ u = 0
    _, (gW, gb) = cost_and_gradients([W, b], Xs, Y[:3])
    np.testing.assert_allclose(np.hstack([gW, gb[:, None]]) @ u, 0, atol=1e-12)
    assert np.linalg.matrix_rank(hessian(rng.standard_normal((n, d)))) == d + 1   # otherwise regular


# --- chapter 4 ------------------------------------------------------------------------------

def test_ex_222_delta():
    """dL/dw_{1,12} = (o1 - y1) s'(a21) w_{2,11} s'(a11) x2 + (o2 - y2) s'(a22) w_{2,21} s'(a11) x2
    = delta_{1,1} x2 with delta_{1,1} = s'(a11)(w_{2,11} delta_{2,1} + w_{2,21} delta_{2,2}) = s'(a11)(W2^T delta2)_1."""
    rng = np.random.default_rng(6)
    for _ in range(10):
        x, y = rng.standard_normal(2), rng.uniform(0, 1, 2)
        W1, b1, W2, b2 = rng.standard_normal((2, 2)), rng.standard_normal(2), rng.standard_normal((2, 2)), \
            rng.standard_normal(2)
        a1 = W1 @ x + b1
        h1 = sigmoid(a1)
        a2 = W2 @ h1 + b2
        o = sigmoid(a2)
        s1, s2 = sigmoid_derivative(a1), sigmoid_derivative(a2)
        paths = (o[0] - y[0]) * s2[0] * W2[0, 0] * s1[0] * x[1] + (o[1] - y[1]) * s2[1] * W2[1, 0] * s1[0] * x[1]
        delta2 = (o - y) * s2
        delta11 = s1[0] * (W2[0, 0] * delta2[0] + W2[1, 0] * delta2[1])
        assert math.isclose(delta11, s1[0] * (W2.T @ delta2)[0], rel_tol=1e-12)
        t = [torch.tensor(v) for v in (x, y, b1, W2, b2)]
        g = grad(lambda w, t=t: 0.5 * torch.sum((torch.sigmoid(t[3] @ torch.sigmoid(w @ t[0] + t[2]) + t[4])
                                                  - t[1]) ** 2), W1)
        assert math.isclose(paths, g[0, 1], rel_tol=1e-10, abs_tol=1e-15)
        assert math.isclose(delta11 * x[1], g[0, 1], rel_tol=1e-10, abs_tol=1e-15)
        _, dWs, _ = loss_and_gradients(x[None], y[None], [W1, W2], [b1, b2], loss="quadratic",
                                       activation="sigmoid", output_activation="sigmoid")
        np.testing.assert_allclose(dWs[0], g, rtol=1e-10, atol=1e-15)


def test_ex_count_terms():
    """Path sum: 784-30-10 has 30*784*10 + 10*30*1 = 235 500 terms, 784-100-100-10 has 78 400 000 + 100 000
    + 1 000 = 78 501 000; backprop needs M + (M - N1 N0) + M multiplications: 47 940 and 189 800
    (M = 23 820 and 89 400); each path term has up to 2L + 1 factors."""
    from nnlearn import backprop

    class Counted(np.ndarray):
        """An array that counts the scalar multiplications of every matrix product it takes part in."""
        n = 0

        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            plain = [np.asarray(x) for x in inputs]
            if ufunc is np.matmul:
                (m, k), (_, n) = plain[0].shape, plain[1].shape
                Counted.n += m * k * n
            if "out" in kwargs:
                kwargs["out"] = tuple(np.asarray(x) for x in kwargs["out"])
            out = getattr(ufunc, method)(*plain, **kwargs)
            return out.view(Counted) if isinstance(out, np.ndarray) else out

    for widths, T, M, total in (([784, 30, 10], 235_500, 23_820, 47_940),
                                ([784, 100, 100, 10], 78_501_000, 89_400, 189_800)):
        edges = [n_in * n_out for n_in, n_out in itertools.pairwise(widths)]
        assert sum(e * t for e, t in zip(edges, path_counts(widths))) == T
        assert sum(edges) == M and M + (M - edges[0]) + M == total
        # what nnlearn's backprop multiplies for one example: W h, then W^T delta and delta h^T
        weights, biases = (list(p) for p in mlp_init(widths, np.random.default_rng(12)))
        phis = backprop._phis(len(weights), "sigmoid", "identity")
        Counted.n = 0
        out, cache = backprop._forward(np.ones((1, widths[0])), [W.view(Counted) for W in weights], biases, phis)
        assert Counted.n == M
        backprop._backward(np.ones_like(out).view(Counted), [W.view(Counted) for W in weights], cache, phis,
                           need_dX=False)
        assert Counted.n == total
    assert [784 * 100 * 100 * 10, 100 * 100 * 10, 10 * 100] == [78_400_000, 100_000, 1_000]
    L = 3                                                          # factors of a first-layer term
    assert 1 + 1 + 2 * (L - 1) + 1 == 2 * L + 1                    # h_{0,j}, Phi_1', (w, Phi') per layer, dL/do


def test_ex_softmax_sum():
    """Softmax + cross-entropy, one-hot target: sum_i (o_i - y_i) = 1 - 1 = 0; L(a + xi 1) = L(a), so
    grad_a L . 1 = 0; a bias added equally to all logits receives no gradient."""
    rng = np.random.default_rng(7)
    for _ in range(10):
        K = int(rng.integers(2, 8))
        a, label = rng.standard_normal(K) * 3, int(rng.integers(K))
        y = np.eye(K)[label]
        ce = lambda z, label=label: torch.nn.functional.cross_entropy(z[None], torch.tensor([label]))
        delta = grad(ce, a)
        o = np.exp(a) / np.exp(a).sum()
        np.testing.assert_allclose(delta, o - y, atol=1e-12)
        np.testing.assert_allclose(softmax_cross_entropy_gradient(a[None], y[None])[0], delta, atol=1e-12)
        assert abs(delta.sum()) < 1e-12
        for xi in (-5.0, 0.3, 40.0):
            assert math.isclose(ce(torch.tensor(a + xi)).item(), ce(torch.tensor(a)).item(), rel_tol=1e-12)
        assert abs(grad(lambda s, ce=ce, a=a: ce(torch.tensor(a) + s), 0.0)) < 1e-12      # d/dxi at 0
        h, W = torch.tensor(rng.standard_normal(3)), torch.tensor(rng.standard_normal((K, 3)))
        assert abs(grad(lambda beta, ce=ce, W=W, h=h: ce(W @ h + beta), 0.7)) < 1e-12          # a shared bias
    # the direct argument needs sum_i y_i = 1; the invariance argument holds for every target
    a, y = np.array([[0.0, 1.0, 2.0]]), np.array([[0.5, 0.5, 0.5]])
    o = np.exp(a) / np.exp(a).sum()
    assert math.isclose((o - y).sum(), -0.5) and abs(softmax_cross_entropy_gradient(a, y).sum()) < 1e-15


def test_ex_modes():
    """R^1000 -> R^10: the full Jacobian takes 1000 forward-mode passes (one column each) or 10 reverse-mode
    passes (one row each); a scalar loss of a million parameters: one reverse pass, a million forward ones."""
    g = torch.Generator().manual_seed(8)
    A = torch.randn(10, 1000, generator=g, dtype=torch.float64) / 30
    f = lambda x: torch.tanh(A @ x) ** 2
    x = torch.randn(1000, generator=g, dtype=torch.float64)
    u = torch.tanh(A @ x)
    J = (2 * u * (1 - u**2))[:, None] * A                          # the Jacobian by hand
    xr = x.clone().requires_grad_(True)
    fx = f(xr)
    rows = [torch.autograd.grad(fx, xr, grad_outputs=e, retain_graph=True)[0] for e in torch.eye(10).double()]
    assert all(r.shape == (1000,) for r in rows)                   # one reverse pass: one output's row
    np.testing.assert_allclose(torch.stack(rows), J, rtol=1e-12, atol=1e-15)

    def f_forward_mode(x, dx):
        """One forward-mode pass: the values and their tangents along dx, operation by operation."""
        v, dv = A @ x, A @ dx                                      # linear map
        v, dv = torch.tanh(v), (1 - torch.tanh(v) ** 2) * dv       # tanh
        return v**2, 2 * v * dv                                    # square
    cols = [f_forward_mode(x, e)[1] for e in torch.eye(1000, dtype=torch.float64)]
    assert all(c.shape == (10,) for c in cols)                     # one forward pass per input: a column
    np.testing.assert_allclose(torch.stack(cols, dim=1), J, rtol=1e-12, atol=1e-15)
    h = 1e-6                                                       # finite differences: a column, with error
    fd = (f(x + h * torch.eye(1000, dtype=torch.float64)[0]) - f(x - h * torch.eye(1000, dtype=torch.float64)[0]))
    assert 0 < (fd / (2 * h) - J[:, 0]).abs().max() < 1e-8
    n = 1_000_000
    c = torch.arange(n, dtype=torch.float64) / n
    p = torch.randn(n, generator=g, dtype=torch.float64, requires_grad=True)
    (gp,) = torch.autograd.grad(torch.sum(torch.sin(p) * c), p)
    assert gp.shape == (n,)                                        # all partials from one reverse pass
    q = p.detach()
    for i in (0, 17, n - 1):                                       # a forward pass gives one of them
        dq = torch.zeros(n, dtype=torch.float64)
        dq[i] = 1
        tangent = torch.sum(torch.cos(q) * dq * c)                 # sin, product, sum: tangents
        assert tangent.shape == () and torch.isclose(tangent, gp[i], rtol=1e-12, atol=0)


def test_ex_sigmoid_chain():
    """Sigmoid chain, L = 10, w_s = 1, a_s = 0: dL/dw_1 / dL/dw_10 = (x/h_9) 4^{-9}, h_9 = 1/2, so for x of the
    size of the hidden values the ratio is 4^{-9} ~ 1/2.6e5; ReLU with a_s > 0: the ratio is x/h_9."""
    def grads(phi, x, b):
        w = torch.ones(10, dtype=torch.float64, requires_grad=True)
        h, hs = torch.tensor(x, dtype=torch.float64), []
        for s in range(10):
            hs.append(h)
            h = phi(w[s] * h + b[s])
        (g,) = torch.autograd.grad(0.5 * (h - 3.0) ** 2, w)
        return g, [v.item() for v in hs]
    for x in (0.5, 0.2, 2.0):
        g, hs = grads(torch.sigmoid, x, [-x] + [-0.5] * 9)        # b_1 = -x, b_s = -h_{s-1} = -1/2
        assert hs[1:] == [0.5] * 9                                 # every h_s = sigma(0) = 1/2
        assert math.isclose((g[0] / g[9]).item(), x / hs[9] * 4.0**-9, rel_tol=1e-12)
    assert math.isclose(4**9, 2.6e5, rel_tol=0.01) and x / 0.5 * 4.0**-9 == 4.0**-8
    for x in (0.5, 2.0):
        g, hs = grads(torch.relu, x, [0.1] * 10)                   # a_s = h_{s-1} + 0.1 > 0
        assert math.isclose((g[0] / g[9]).item(), x / hs[9], rel_tol=1e-12)


def test_ex_best_step():
    """E(h) = h^2/6 |f'''| + eps |f|/h is smallest at h*^3 = 3 eps |f|/|f'''|; exp at 0 in float64:
    h* ~ 8.7e-6, E(h*) ~ 1.3e-11 + 2.5e-11 ~ 3.8e-11; forward difference h|f''|/2 + 2 eps |f|/h: best at
    2 sqrt(eps |f|/|f''|) ~ 3e-8 with error ~ 3e-8, about 800 times worse."""
    E = lambda h: h**2 / 6 + EPS64 / h
    h_star = (3 * EPS64) ** (1 / 3)
    assert math.isclose(3 * EPS64, 6.7e-16, rel_tol=0.01) and math.isclose(h_star, 8.7e-6, rel_tol=0.01)
    assert abs(grad(lambda h: h**2 / 6 + EPS64 / h, h_star)) < 1e-12 * EPS64 / h_star**2
    hs = h_star * np.exp(np.linspace(-3, 3, 6001))
    assert math.isclose(hs[np.argmin(E(hs))], h_star, rel_tol=2e-3)
    assert [round(v, 12) for v in (h_star**2 / 6, EPS64 / h_star, E(h_star))] == [1.3e-11, 2.5e-11, 3.8e-11]
    Ef = lambda h: h / 2 + 2 * EPS64 / h
    hf = 2 * np.sqrt(EPS64)
    assert math.isclose(hf, 3e-8, rel_tol=0.01) and math.isclose(Ef(hf), 3e-8, rel_tol=0.01)
    hs = hf * np.exp(np.linspace(-3, 3, 6001))
    assert math.isclose(hs[np.argmin(Ef(hs))], hf, rel_tol=2e-3)
    assert math.isclose(Ef(hf) / E(h_star), 800, rel_tol=0.05)
    # the models against float64: at their best steps the real errors stay below the models' bounds
    x = np.linspace(-0.1, 0.1, 201)
    central = lambda h: np.abs((np.exp(x + h) - np.exp(x - h)) / (2 * h) - np.exp(x))
    forward = lambda h: np.abs((np.exp(x + h) - np.exp(x)) / h - np.exp(x))
    assert central(h_star).max() <= 1.2 * E(h_star) and forward(hf).max() <= 1.2 * Ef(hf)
    assert central(1e-9).max() > 10 * E(h_star)                    # round-off dominates below h*
    np.testing.assert_allclose(central(1e-3), np.exp(x) * 1e-6 / 6, rtol=1e-3)   # truncation above it


# --- chapter 5 ------------------------------------------------------------------------------

def test_ex_bce_by_hand():
    """L = -g log o - (1 - g) log(1 - o); dL/do = (o - g)/(o(1 - o)); dL/dz = o - g; z = 2, g = 0:
    o = sigma(2) ~ 0.8808, L = log(1 + e^2) ~ 2.1269, dL/dz ~ 0.8808."""
    bce = lambda o, g: -g * torch.log(o) - (1 - g) * torch.log(1 - o)
    rng = np.random.default_rng(9)
    for z, g in zip(rng.standard_normal(20) * 3, rng.integers(0, 2, 20)):
        o = sigmoid(z)
        assert math.isclose(grad(lambda t, g=g: bce(t, g), o), (o - g) / (o * (1 - o)), rel_tol=1e-10)
        assert math.isclose(grad(lambda t, g=g: bce(torch.sigmoid(t), g), z), o - g, rel_tol=1e-9, abs_tol=1e-15)
        assert math.isclose(sigmoid_cross_entropy_per_example([[z]], [[g]])[0], bce(torch.tensor(o), g).item(),
                            rel_tol=1e-10)
    o = float(sigmoid(2.0))
    assert round(o, 4) == 0.8808 and math.isclose(-np.log(1 - o), np.log(1 + np.e**2), rel_tol=1e-14)
    assert round(np.log(1 + np.e**2), 4) == 2.1269
    assert round(sigmoid_cross_entropy_per_example([[2.0]], [[0.0]])[0], 4) == 2.1269
    assert round(sigmoid_cross_entropy_gradient([[2.0]], [[0.0]])[0, 0], 4) == 0.8808


def test_ex_softmax_mse():
    """L = ||o - y||^2/2 with o = softmax(a): dL/da = J r = o * (r - (o.r) 1), r = o - y; logits (0, 10),
    y = (1, 0): o ~ (4.54e-5, 0.99995), r ~ (-0.99995, 0.99995), o.r ~ 0.99986, dL/da ~ (-9.1e-5, 9.1e-5);
    cross-entropy's o - y is about 1e4 times larger."""
    mse = lambda a, y: 0.5 * torch.sum((torch.softmax(a, 0) - torch.tensor(y)) ** 2)
    rng = np.random.default_rng(10)
    for _ in range(10):
        K = int(rng.integers(2, 7))
        a, y = rng.standard_normal(K) * 2, np.eye(K)[rng.integers(K)]
        o = np.exp(a) / np.exp(a).sum()
        r = o - y
        formula = o * (r - (o @ r))
        np.testing.assert_allclose(grad(lambda t, y=y: mse(t, y), a), formula, atol=1e-13)
        np.testing.assert_allclose(softmax_jvp(a, r), formula, atol=1e-13)
    a, y = np.array([0.0, 10.0]), np.array([1.0, 0.0])
    o = np.exp(a) / np.exp(a).sum()
    r = o - y
    g = grad(lambda t: mse(t, y), a)
    assert math.isclose(o[0], 4.54e-5, rel_tol=1e-3) and round(o[1], 5) == 0.99995
    assert np.round(r, 5).tolist() == [-0.99995, 0.99995] and round(o @ r, 5) == 0.99986
    assert np.allclose(g, [-9.1e-5, 9.1e-5], rtol=0.01)
    ce = softmax_cross_entropy_gradient(a[None], y[None])[0]
    assert np.round(ce, 5).tolist() == [-0.99995, 0.99995]
    assert round(math.log10(np.abs(ce[1] / g[1]))) == 4


def test_ex_temperature_gradient():
    """o = softmax(a/tau), L = -sum y log o with sum_j y_j = 1: dL/da = (o - y)/tau; as tau grows o -> uniform,
    o - y stays bounded and the gradient vanishes like 1/tau."""
    rng = np.random.default_rng(11)
    ce = lambda a, y, tau: -torch.sum(torch.tensor(y) * torch.log_softmax(a / tau, 0))
    for _ in range(10):
        K, tau = int(rng.integers(2, 7)), float(rng.uniform(0.1, 10))
        a = rng.standard_normal(K) * 3
        for y in (np.eye(K)[rng.integers(K)], rng.dirichlet(np.ones(K))):   # one-hot and a distribution
            o = np.exp(a / tau) / np.exp(a / tau).sum()
            np.testing.assert_allclose(grad(lambda t, y=y, tau=tau: ce(t, y, tau), a), (o - y) / tau, atol=1e-13)
    y = np.full(3, 0.5)                                            # sum_j y_j = 1.5: the formula needs sum 1
    o = np.exp(a[:3]) / np.exp(a[:3]).sum()
    assert not np.allclose(grad(lambda t: ce(t, y, 1.0), a[:3]), o - y)
    a, y = np.array([2.0, -1.0, 0.5]), np.array([0.0, 1.0, 0.0])
    scaled = [tau * np.linalg.norm(grad(lambda t, tau=tau: ce(t, y, tau), a)) for tau in (1e2, 1e3, 1e4, 1e5)]
    limit = np.linalg.norm(np.full(3, 1 / 3) - y)                  # o - y -> 1/K - y, bounded
    np.testing.assert_allclose(scaled[-1], limit, rtol=1e-4)
    assert all(abs(s - limit) < 0.1 for s in scaled)


def test_ex_gap():
    """At o = y~, a_j = log y~_j + xi; gap log((1 - eps + eps/K)/(eps/K)) = log(1 + K(1 - eps)/eps) = log 9001
    ~ 9.105 for K = 1000, eps = 0.1; sigmoid: sigma(a*) = 1 - eps/2 gives a* = log(2/eps - 1) = log 19 ~ 2.944."""
    for K, eps in ((1000, 0.1), (10, 0.1), (5, 0.3)):
        y = np.eye(K)[[1]]
        yt = smooth_labels(y, eps)[0]
        for xi in (0.0, 3.7):
            a = np.log(yt) + xi
            np.testing.assert_allclose(np.exp(a) / np.exp(a).sum(), yt, rtol=1e-12)
            g = grad(lambda t, e=eps: torch.nn.functional.cross_entropy(t[None], torch.tensor([1]), label_smoothing=e), a)
            assert np.abs(g).max() < 1e-12                         # the smoothed loss is stationary there
            gap = a[1] - a[0]
            assert math.isclose(gap, np.log((1 - eps + eps / K) / (eps / K)), rel_tol=1e-12)
            assert math.isclose(gap, np.log(1 + K * (1 - eps) / eps), rel_tol=1e-12)
            assert math.isclose(gap, smoothed_optimal_logit_gap(K, eps), rel_tol=1e-12)
    assert 1 + 1000 * 0.9 / 0.1 == 9001 and round(np.log(9001), 3) == 9.105
    for eps in (0.1, 0.02, 0.5):
        a_star = np.log(2 / eps - 1)
        assert math.isclose(a_star, np.log((1 - eps / 2) / (eps / 2)), rel_tol=1e-12)
        assert math.isclose(sigmoid(a_star), 1 - eps / 2, rel_tol=1e-12)
        targets = smooth_binary_targets(np.array([[1.0, 0.0]]), eps)
        assert np.abs(sigmoid_cross_entropy_gradient(np.array([[a_star, -a_star]]), targets)).max() < 1e-12
    assert round(np.log(19), 3) == 2.944


def test_ex_huber_continuous():
    """Huber: at |r| = c the pieces agree (c^2/2 = c(c - c/2)) and both derivatives equal c (-c at -c); the
    second derivative jumps from 1 to 0; L1's gradient is sign(r), magnitude 1 however small r is."""
    for c in (0.3, 1.0, 2.5):
        assert math.isclose(0.5 * c * c, c * (c - 0.5 * c))
        huber = lambda r, c=c: huber_cost(np.array([[r]]), np.zeros((1, 1)), threshold=c)
        tl = lambda r, c=c: torch.nn.functional.huber_loss(r, torch.zeros_like(r), delta=c)
        for sign in (1, -1):
            edge, inside = sign * c, -sign                         # `inside` points towards |r| < c
            assert math.isclose(huber(edge), 0.5 * c * c, rel_tol=1e-14)
            for s in (1e-4, 1e-6):                                 # value and slope from both sides
                assert abs(huber(edge + sign * s) - huber(edge)) <= 1.01 * c * s
                assert abs(huber(edge + inside * s) - huber(edge)) <= 1.01 * c * s
                assert huber_cost_gradient([[edge + sign * s]], [[0.0]], c)[0, 0] == sign * c
                assert abs(huber_cost_gradient([[edge + inside * s]], [[0.0]], c)[0, 0] - sign * c) <= 1.01 * s
                slope_out = (huber(edge + sign * s) - huber(edge)) / (sign * s)
                slope_in = (huber(edge) - huber(edge + inside * s)) / (sign * s)
                assert math.isclose(slope_out, sign * c, rel_tol=1e-3) and math.isclose(slope_in, sign * c,
                                                                                           rel_tol=1e-3)
            for r, second in ((edge + inside * 1e-3, 1.0), (edge + sign * 1e-3, 0.0)):
                t = torch.tensor(r, dtype=torch.float64, requires_grad=True)
                (d1,) = torch.autograd.grad(tl(t), t, create_graph=True)
                (d2,) = torch.autograd.grad(d1, t)
                assert d2.item() == second
    r = np.array([[1e-8, -1e-8, 0.5, -3.0]])
    np.testing.assert_array_equal(absolute_cost_gradient(r, np.zeros_like(r)), np.sign(r))
    np.testing.assert_allclose(huber_cost_gradient(r, np.zeros_like(r), 1.0), np.clip(r, -1, 1))
