"""Chapter 8: penalties, proximal steps, dropout, max-norm, ridge, convolution as a dense layer,
splits, k-fold, early stopping, ensembles, bias-variance, augmentation; each against an oracle
(torch autograd / optim / nn, sklearn, central differences, brute force)."""
import numpy as np
import pytest
import torch

from nnlearn import generalization as gen
from nnlearn import regularization as reg
from nnlearn.checks import numerical_gradient


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("seed", range(3))
def test_l2_and_l1_gradients_against_autograd_and_finite_differences(seed):
    W = rng(seed).standard_normal((4, 3))
    W[0, 0] = 0.0                                                    # the kink of |w|
    lam = 0.3
    t = torch.tensor(W, requires_grad=True)
    (lam / 2 * (t ** 2).sum()).backward()
    np.testing.assert_allclose(reg.l2_gradient(W, lam), t.grad.numpy(), rtol=1e-12)
    assert reg.l2_penalty(W, lam) == pytest.approx(lam / 2 * np.sum(W ** 2))
    np.testing.assert_allclose(reg.l2_gradient(W, lam), numerical_gradient(lambda v: reg.l2_penalty(v, lam), W),
                               rtol=1e-7, atol=1e-9)
    t = torch.tensor(W, requires_grad=True)
    (lam * t.abs().sum()).backward()
    np.testing.assert_allclose(reg.l1_subgradient(W, lam), t.grad.numpy(), rtol=1e-12)   # 0 at 0, like torch
    away = W.copy()
    away[0, 0] = 0.5
    np.testing.assert_allclose(reg.l1_subgradient(away, lam),
                               numerical_gradient(lambda v: reg.l1_penalty(v, lam), away), rtol=1e-7)


def test_soft_threshold_is_the_proximal_step_of_l1():
    W = rng(1).standard_normal(50) * 2
    t = 0.7
    Z = reg.soft_threshold(W, t)
    np.testing.assert_allclose(Z, torch.nn.functional.softshrink(torch.tensor(W), t).numpy(), rtol=1e-12)
    grid = np.linspace(-6, 6, 120001)                                 # brute force: argmin (z - w)^2 / 2 + t |z|
    for w, z in zip(W, Z):
        assert abs(grid[np.argmin((grid - w) ** 2 / 2 + t * np.abs(grid))] - z) < 2e-4
    assert np.all(Z[np.abs(W) <= t] == 0) and np.all(Z[np.abs(W) > t] != 0)


def test_sgd_weight_decay_matches_torch_step_for_step():
    g = rng(2)
    W0, targets, lr, lam = g.standard_normal((3, 4)), g.standard_normal((10, 3, 4)), 0.1, 0.05
    W = W0.copy()
    p = torch.nn.Parameter(torch.tensor(W0))
    opt = torch.optim.SGD([p], lr=lr, weight_decay=lam)
    for T in targets:                                                 # loss 1/2 ||W - T||^2: gradient W - T
        W = reg.sgd_weight_decay_step(W, W - T, lr, lam)
        opt.zero_grad()
        (0.5 * ((p - torch.tensor(T)) ** 2).sum()).backward()
        opt.step()
        np.testing.assert_allclose(W, p.detach().numpy(), rtol=1e-12, atol=1e-14)
    # without a loss gradient, weight decay is multiplicative: (1 - lr lam)^k
    np.testing.assert_allclose(reg.sgd_weight_decay_step(W0, np.zeros_like(W0), lr, lam), (1 - lr * lam) * W0)


def test_max_norm_matches_torch_renorm():
    W = rng(3).standard_normal((6, 5)) * np.array([[0.1], [1], [3], [0.2], [5], [1]])
    out = reg.max_norm(W, 1.5)
    ref = torch.renorm(torch.tensor(W), p=2, dim=0, maxnorm=1.5).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-6)
    assert np.all(np.linalg.norm(out, axis=1) <= 1.5 + 1e-12)
    small = np.linalg.norm(W, axis=1) <= 1.5
    np.testing.assert_array_equal(out[small], W[small])


def test_dropout_statistics_match_torch_dropout():
    """Over 200 000 units: the fraction dropped is p and the kept ones equal 1/(1-p), as in
    torch.nn.Dropout; E[output] = input. Hoeffding: P(|mean - p| > 0.01) < 2 exp(-2 n 1e-4) ~ 4e-18."""
    p, shape = 0.3, (400, 500)
    H = np.ones(shape)
    out, mask = reg.dropout_forward(H, p, rng(4))
    torch.manual_seed(0)
    ref = torch.nn.Dropout(p).train()(torch.ones(shape)).numpy()
    for a in (out, ref):
        assert abs(np.mean(a == 0) - p) < 0.01
        np.testing.assert_allclose(np.unique(a[a != 0]), 1 / (1 - p), rtol=1e-6)
        assert abs(a.mean() - 1) < 0.02
    ev, ones = reg.dropout_forward(H, p, rng(4), train=False)
    assert ev is H and np.all(ones == 1)
    np.testing.assert_array_equal(torch.nn.Dropout(p).eval()(torch.ones(3)).numpy(), np.ones(3))


def test_dropout_backward_with_a_given_mask_is_autograd():
    g = rng(5)
    H, dOut = g.standard_normal((5, 7)), g.standard_normal((5, 7))
    out, mask = reg.dropout_forward(H, 0.5, g)
    t = torch.tensor(H, requires_grad=True)
    (t * torch.tensor(mask) * torch.tensor(dOut)).sum().backward()
    np.testing.assert_allclose(reg.dropout_backward(dOut, mask), t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(out, H * mask)


def test_dropout_keeps_float32():
    H = np.ones((3, 4), np.float32)
    out, mask = reg.dropout_forward(H, 0.2, rng())
    assert out.dtype == mask.dtype == np.float32 and reg.dropout_backward(H, mask).dtype == np.float32
    for f in (reg.l2_gradient, reg.l1_subgradient, reg.soft_threshold):
        assert f(H, 0.1).dtype == np.float32


def test_ridge_matches_sklearn_and_gaussian_input_noise():
    from sklearn.linear_model import Ridge

    g = rng(6)
    n, d, lam = 40, 3, 0.2
    X, y = g.standard_normal((n, d)), g.standard_normal(n)
    w, b = reg.ridge_solution(X, y, lam)
    ref = Ridge(alpha=n * lam).fit(X, y)                              # sklearn: ||r||^2 + alpha ||w||^2
    np.testing.assert_allclose(w, ref.coef_, rtol=1e-10)
    assert b == pytest.approx(ref.intercept_, rel=1e-10)
    # noise of variance s^2 on the inputs adds exactly (s^2 / 2) ||w||^2 to the expected cost (1/2n)||r||^2
    s = 0.3
    eps = g.standard_normal((20000, n, d)) * s
    noisy = np.mean(np.mean(((X + eps) @ w + b - y) ** 2, axis=1) / 2)
    clean = np.mean((X @ w + b - y) ** 2) / 2
    assert noisy == pytest.approx(clean + s ** 2 / 2 * w @ w, rel=2e-3)


def test_conv2d_as_matrix_is_torch_conv2d_and_counts():
    g = rng(7)
    K, image = g.standard_normal((3, 2)), g.standard_normal((6, 5))
    M = reg.conv2d_as_matrix(K, 6, 5)
    ref = torch.nn.functional.conv2d(torch.tensor(image)[None, None], torch.tensor(K)[None, None])[0, 0]
    np.testing.assert_allclose(M @ image.ravel(), ref.numpy().ravel(), rtol=1e-12)
    assert M.shape == (4 * 4, 30) and np.count_nonzero(M) == 16 * 6
    conv = torch.nn.Conv2d(1, 1, (3, 2))
    dense = torch.nn.Linear(30, 16)
    assert sum(p.numel() for p in conv.parameters()) == K.size + 1
    assert sum(p.numel() for p in dense.parameters()) == M.size + 16


@pytest.mark.parametrize("n, k", [(10, 3), (7, 7), (12, 4), (23, 5)])
def test_kfold_indices(n, k):
    from sklearn.model_selection import KFold

    folds = gen.kfold_indices(n, k)
    ref = list(KFold(n_splits=k).split(np.zeros(n)))
    for (tr, te), (rtr, rte) in zip(folds, ref):
        np.testing.assert_array_equal(np.sort(te), rte)
        np.testing.assert_array_equal(np.sort(tr), rtr)
    shuffled = gen.kfold_indices(n, k, rng(8))
    tests = np.concatenate([te for _, te in shuffled])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n))       # each index in exactly one test fold
    sizes = [len(te) for _, te in shuffled]
    assert max(sizes) - min(sizes) <= 1
    for tr, te in shuffled:
        assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == n


def test_train_val_test_split():
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20)
    (Xa, ya), (Xv, yv), (Xt, yt) = gen.train_val_test_split(X, y, 0.2, 0.25, rng())
    assert (len(ya), len(yv), len(yt)) == (11, 4, 5)
    np.testing.assert_array_equal(np.sort(np.concatenate([ya, yv, yt])), y)
    np.testing.assert_array_equal(Xa[:, 0], 2 * ya)
    with pytest.raises(ValueError, match="val_fraction"):
        gen.train_val_test_split(X, y, 0.5, 0.5, rng())


def run_early_stopping(losses, patience, min_delta):
    stopper, weights = gen.EarlyStopping(patience, min_delta), np.zeros(2)
    for epoch, loss in enumerate(losses):
        weights += 1                                                  # in place: a reference would follow
        if stopper.update(loss, weights):
            break
    return stopper, epoch


def test_early_stopping_semantics():
    s, stopped = run_early_stopping([5, 4, 3, 3.5, 3.2, 3.1, 1.0], patience=3, min_delta=0.0)
    assert (s.best_epoch, stopped, s.best_loss) == (2, 5, 3)
    np.testing.assert_array_equal(s.best_state, [3, 3])              # a copy from epoch 2, not the last weights
    s, stopped = run_early_stopping([5, 4, 3.95, 3.9, 3.0], patience=2, min_delta=0.1)
    assert (s.best_epoch, stopped) == (1, 3)                          # 3.95 and 3.9 improve by < 0.1
    s, stopped = run_early_stopping([3, 2, 1], patience=1, min_delta=0.0)
    assert (s.best_epoch, stopped) == (2, 2)                          # never stopped: the loop ended
    s, stopped = run_early_stopping([1, 1, 1], patience=1, min_delta=0.0)
    assert (s.best_epoch, stopped) == (0, 1)                          # equal is no improvement


def test_ensemble_average_and_bias_variance():
    P = rng(9).dirichlet(np.ones(4), size=(3, 5))
    np.testing.assert_allclose(gen.ensemble_average(P), P.mean(axis=0))
    with pytest.raises(ValueError, match="probabilities"):
        gen.ensemble_average(P * 2)
    preds, f = rng(10).standard_normal((30, 8)), rng(11).standard_normal(8)
    b2, var = gen.bias_variance(preds, f)
    assert b2 + var == pytest.approx(np.mean((preds - f) ** 2))      # the decomposition is exact
    np.testing.assert_allclose(gen.polynomial_features(np.array([2.0, 3.0]), 3), [[2, 4, 8], [3, 9, 27]])


def test_augment_images_shift_and_identity():
    X = rng(12).uniform(size=(3, 8, 8))
    np.testing.assert_allclose(gen.augment_images(X, rng(), max_shift=0, max_angle=0.0), X, atol=1e-12)
    out = gen.augment_images(X, rng(13), max_shift=2, max_angle=0.0)
    for a, b in zip(X, out):                                           # a whole-pixel shift of each image
        found = any(np.allclose(b[max(dy, 0):8 + min(dy, 0), max(dx, 0):8 + min(dx, 0)],
                                a[max(-dy, 0):8 - max(dy, 0), max(-dx, 0):8 - max(dx, 0)])
                    for dy in range(-2, 3) for dx in range(-2, 3))
        assert found
    rotated = gen.augment_images(X, rng(14), max_shift=0, max_angle=10.0)
    assert rotated.shape == X.shape and not np.allclose(rotated, X)
