"""Chapter 5: output layers and losses, each checked against torch (autograd, torch.func,
torch.distributions, F.*) and central differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import entropy

from nnlearn.calibration import expected_calibration_error, plot_reliability_diagram, reliability_bins
from nnlearn.checks import numerical_gradient
from nnlearn.data import one_hot
from nnlearn.losses import (get_loss, sigmoid_cross_entropy, sigmoid_cross_entropy_gradient,
                            sigmoid_cross_entropy_per_example, softmax, softmax_cross_entropy,
                            softmax_cross_entropy_gradient)
from nnlearn.output_layers import (smooth_binary_targets, smooth_labels, smoothed_optimal_logit_gap, softmax_jacobian,
                                   softmax_jvp)
from nnlearn.regression_losses import absolute_cost, absolute_cost_gradient, huber_cost, huber_cost_gradient


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# --- losses are negative log-likelihoods ---------------------------------------------------

def test_losses_are_negative_log_likelihoods_of_torch_distributions():
    rng = np.random.default_rng(0)
    o, y = rng.standard_normal(50), rng.standard_normal(50)
    nll = -torch.distributions.Normal(t(o), 1.0).log_prob(t(y)).numpy()
    np.testing.assert_allclose(nll, 0.5 * (o - y) ** 2 + 0.5 * np.log(2 * np.pi), rtol=1e-12)
    nll = -torch.distributions.Laplace(t(o), 1.0).log_prob(t(y)).numpy()
    np.testing.assert_allclose(nll, np.abs(o - y) + np.log(2), rtol=1e-12)
    Z, Yb = rng.standard_normal((50, 1)) * 5, rng.integers(0, 2, size=(50, 1)).astype(float)
    nll = -torch.distributions.Bernoulli(logits=t(Z)).log_prob(t(Yb)).numpy()[:, 0]
    np.testing.assert_allclose(sigmoid_cross_entropy_per_example(Z, Yb), nll, rtol=1e-10)
    Z, labels = rng.standard_normal((50, 7)) * 3, rng.integers(0, 7, size=50)
    nll = -torch.distributions.Categorical(logits=t(Z)).log_prob(torch.tensor(labels)).mean().item()
    assert softmax_cross_entropy(Z, one_hot(labels, 7, np.float64)) == pytest.approx(nll, rel=1e-12)


def test_cross_entropy_is_entropy_plus_kl():
    rng = np.random.default_rng(1)
    Z, P = rng.standard_normal((6, 5)), rng.dirichlet(np.ones(5), size=6)
    Q = softmax(Z)
    per_row = [entropy(p) + entropy(p, q) for p, q in zip(P, Q)]        # H(p) + KL(p || q)
    assert softmax_cross_entropy(Z, P) == pytest.approx(np.mean(per_row), rel=1e-12)
    # minimised over the logits at q = p, where it equals the entropy of p
    assert softmax_cross_entropy(np.log(P), P) == pytest.approx(np.mean([entropy(p) for p in P]), rel=1e-12)


# --- sigmoid + binary cross-entropy ----------------------------------------------------------

@pytest.mark.parametrize("n, k", [(1, 1), (9, 1), (8, 4)])
def test_sigmoid_cross_entropy_matches_torch_and_its_gradient_is_o_minus_y(n, k):
    rng = np.random.default_rng(n + k)
    Z, Y = rng.standard_normal((n, k)) * 4, rng.uniform(0, 1, size=(n, k))      # soft targets too
    Zt = t(Z, grad=True)
    loss = F.binary_cross_entropy_with_logits(Zt, t(Y), reduction="sum") / n
    loss.backward()
    assert sigmoid_cross_entropy(Z, Y) == pytest.approx(loss.item(), rel=1e-12)
    assert sigmoid_cross_entropy(Z, Y) == pytest.approx(k * F.binary_cross_entropy_with_logits(t(Z), t(Y)).item(),
                                                        rel=1e-12)
    grad = sigmoid_cross_entropy_gradient(Z, Y)
    np.testing.assert_allclose(grad, (torch.sigmoid(t(Z)).numpy() - Y) / n, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad, Zt.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grad, numerical_gradient(lambda z: sigmoid_cross_entropy(z, Y), Z), rtol=1e-6, atol=1e-9)
    assert get_loss("sigmoid_cross_entropy")(Z, Y) == pytest.approx(loss.item(), rel=1e-12)
    value, g = get_loss("sigmoid_cross_entropy").unchecked(Z, Y)
    assert value == pytest.approx(loss.item(), rel=1e-12) and np.allclose(g, grad, rtol=1e-12, atol=0)


def test_sigmoid_cross_entropy_is_stable_for_huge_logits_and_keeps_float32():
    Z = np.array([[1000.0, -1000.0, 1000.0, -1000.0, 30.0]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0, 1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):      # e^-1000 may underflow to 0
        per_example = sigmoid_cross_entropy_per_example(Z, Y)
        grad = sigmoid_cross_entropy_gradient(Z, Y)
    # right and sure: log(1 + e^-1000) = 0; wrong and sure: 1000; softplus(-30) = log1p(e^-30)
    np.testing.assert_allclose(per_example, [2000.0 + np.log1p(np.exp(-30.0))], rtol=1e-15)
    np.testing.assert_allclose(grad, [[0.0, 0.0, 1.0, -1.0, -1 / (1 + np.exp(30.0))]], rtol=1e-12, atol=1e-300)
    ref = F.binary_cross_entropy_with_logits(t(Z), t(Y), reduction="sum").item()
    assert sigmoid_cross_entropy(Z, Y) == pytest.approx(ref, rel=1e-12)
    Z32, Y32 = Z.astype(np.float32), Y.astype(np.float32)
    assert sigmoid_cross_entropy_per_example(Z32, Y32).dtype == np.float32
    assert sigmoid_cross_entropy_gradient(Z32, Y).dtype == np.float32           # float64 targets do not upcast
    with pytest.raises(ValueError, match=r"Y to hold targets in \[0, 1\]"):
        sigmoid_cross_entropy(Z, 2 * Y - 1)                                     # -1/+1 labels


# --- the softmax Jacobian ----------------------------------------------------------------

def test_softmax_jacobian_matches_jacrev_is_symmetric_and_has_rank_k_minus_1():
    rng = np.random.default_rng(2)
    for K in (2, 3, 10):
        a = rng.standard_normal(K)
        J = softmax_jacobian(a)
        ref = torch.func.jacrev(lambda z: torch.softmax(z, dim=0))(t(a)).numpy()
        np.testing.assert_allclose(J, ref, rtol=1e-12, atol=1e-15)
        o = softmax(a)
        np.testing.assert_allclose(J, np.diag(o) - np.outer(o, o), rtol=1e-14, atol=1e-16)
        np.testing.assert_allclose(J, J.T, rtol=0, atol=0)
        np.testing.assert_allclose(J @ np.ones(K), 0, atol=1e-15)              # shifting all logits changes nothing
        assert np.linalg.matrix_rank(J, tol=1e-10) == K - 1
        assert np.linalg.eigvalsh(J).min() > -1e-15                             # positive semi-definite
    Z = rng.standard_normal((4, 5))
    batched = torch.func.vmap(torch.func.jacrev(lambda z: torch.softmax(z, dim=0)))(t(Z)).numpy()
    np.testing.assert_allclose(softmax_jacobian(Z), batched, rtol=1e-12, atol=1e-15)


def test_softmax_jvp_matches_torch_func_jvp_and_vjp_without_forming_the_matrix():
    rng = np.random.default_rng(3)
    Z, V = rng.standard_normal((6, 8)) * 3, rng.standard_normal((6, 8))
    _, jvp = torch.func.jvp(lambda z: torch.softmax(z, dim=1), (t(Z),), (t(V),))
    _, vjp_fn = torch.func.vjp(lambda z: torch.softmax(z, dim=1), t(Z))
    np.testing.assert_allclose(softmax_jvp(Z, V), jvp.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(softmax_jvp(Z, V), vjp_fn(t(V))[0].numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(softmax_jvp(Z, V), np.einsum("nij,nj->ni", softmax_jacobian(Z), V), rtol=1e-12,
                               atol=1e-15)
    K = 1_000_000                                  # a K x K float64 matrix would take 8 TB
    a, v = rng.standard_normal(K), rng.standard_normal(K)
    out = softmax_jvp(a, v)
    assert out.shape == (K,) and abs(out.sum()) < 1e-12
    assert softmax_jvp(a.astype(np.float32), v.astype(np.float32)).dtype == np.float32
    masked = np.array([[0.0, -np.inf, 1.0]])
    assert not np.isnan(softmax_jvp(masked, np.ones((1, 3)))).any()
    with pytest.raises(ValueError, match="V of the shape of Z"):
        softmax_jvp(Z, V[:, :3])


# --- label smoothing -----------------------------------------------------------------

@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_label_smoothing_matches_torch_cross_entropy(eps):
    rng = np.random.default_rng(4)
    n, K = 7, 5
    Z, labels = rng.standard_normal((n, K)) * 3, rng.integers(0, K, size=n)
    Y = smooth_labels(one_hot(labels, K, np.float64), eps)
    np.testing.assert_allclose(Y.sum(axis=1), 1.0)
    assert np.allclose(Y[np.arange(n), labels], 1 - eps + eps / K)
    Zt = t(Z, grad=True)
    ref = F.cross_entropy(Zt, torch.tensor(labels), label_smoothing=eps)
    ref.backward()
    assert softmax_cross_entropy(Z, Y) == pytest.approx(ref.item(), rel=1e-12)
    grad = softmax_cross_entropy_gradient(Z, Y)
    np.testing.assert_allclose(grad, (softmax(Z) - Y) / n, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(grad, Zt.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert smooth_labels(one_hot(labels, K), eps).dtype == np.float32


def test_label_smoothing_bounds_the_logits():
    K, eps = 10, 0.1
    gap = smoothed_optimal_logit_gap(K, eps)
    assert gap == pytest.approx(np.log(91.0), rel=1e-14)
    # the minimiser of the smoothed loss of one example, by gradient descent from zero logits
    Y = smooth_labels(np.eye(K)[[3]], eps)
    a = np.zeros((1, K))
    for _ in range(5000):
        a -= 2.0 * softmax_cross_entropy_gradient(a, Y)
    others = np.delete(a[0], 3)
    assert np.allclose(a[0, 3] - others, gap, rtol=1e-6)
    # without smoothing the loss keeps decreasing as the gap grows: no finite minimiser
    assert smoothed_optimal_logit_gap(K, 0.0) == np.inf
    hard = [softmax_cross_entropy(np.array([[g] + [0.0] * (K - 1)]), np.eye(K)[[0]]) for g in (5, 10, 20, 30)]
    assert np.all(np.diff(hard) < 0) and hard[-1] > 0


def test_binary_label_smoothing_matches_torch_and_its_optimum_is_the_logit_of_the_target():
    rng = np.random.default_rng(5)
    eps, Yb = 0.2, rng.integers(0, 2, size=(6, 3)).astype(float)
    Ys = smooth_binary_targets(Yb, eps)
    assert set(np.unique(Ys)) == {eps / 2, 1 - eps / 2}
    Z = rng.standard_normal((6, 3))
    ref = F.binary_cross_entropy_with_logits(t(Z), t(Ys), reduction="sum").item() / 6
    assert sigmoid_cross_entropy(Z, Ys) == pytest.approx(ref, rel=1e-12)
    best = np.log(Ys / (1 - Ys))                                              # sigma(best) = target
    np.testing.assert_allclose(sigmoid_cross_entropy_gradient(best, Ys), 0, atol=1e-15)
    with pytest.raises(ValueError, match=r"rows of Y to be probabilities"):
        smooth_labels(np.ones((2, 3)), 0.1)
    with pytest.raises(ValueError, match=r"eps in \[0, 1\]"):
        smooth_labels(np.eye(3), 1.5)


# --- regression losses ---------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 3])
def test_l1_and_huber_match_torch_and_their_gradients(k):
    rng = np.random.default_rng(6 + k)
    n, c = 11, 0.7
    A, Y = rng.standard_normal((n, k)) * 2, rng.standard_normal((n, k))
    for mine, grad_fn, ref_fn in ((lambda a: absolute_cost(a, Y), absolute_cost_gradient(A, Y), F.l1_loss),
                                  (lambda a: huber_cost(a, Y, threshold=c), huber_cost_gradient(A, Y, threshold=c),
                                   lambda x, y: F.huber_loss(x, y, delta=c))):
        At = t(A, grad=True)
        ref = ref_fn(At, t(Y)) * k                                            # torch: mean over all n k entries
        ref.backward()
        assert mine(A) == pytest.approx(ref.item(), rel=1e-12)
        np.testing.assert_allclose(grad_fn, At.grad.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grad_fn, numerical_gradient(mine, A), rtol=1e-6, atol=1e-9)
    # Huber is the quadratic cost inside the threshold and c |r| - c^2 / 2 outside; its gradient is clipped
    R = np.array([[0.1], [-0.3], [2.0], [-5.0]])
    assert huber_cost(R, np.zeros_like(R), threshold=1.0) == pytest.approx((0.005 + 0.045 + 1.5 + 4.5) / 4)
    np.testing.assert_allclose(huber_cost_gradient(R, 0 * R, threshold=1.0), [[0.025], [-0.075], [0.25], [-0.25]])
    assert absolute_cost_gradient(np.zeros((2, 1)), np.zeros((2, 1))).tolist() == [[0.0], [0.0]]
    assert huber_cost_gradient(A.astype(np.float32), Y).dtype == np.float32


# --- calibration ---------------------------------------------------------------------

def test_ece_by_hand_and_bins_match_sklearn_calibration_curve():
    from sklearn.calibration import calibration_curve

    # four predictions: confidences 0.6 (right), 0.6 (wrong), 0.9 (right), 0.9 (right); 2 bins (0, .5], (.5, 1]
    P = np.array([[0.6, 0.4], [0.6, 0.4], [0.1, 0.9], [0.9, 0.1]])
    y = np.array([0, 1, 1, 0])
    assert expected_calibration_error(P, y, n_bins=2) == pytest.approx(abs(0.75 - 0.75))
    # 10 bins: (0.5, 0.6] holds the two 0.6s at accuracy 1/2; (0.8, 0.9] the 0.9s at accuracy 1
    assert expected_calibration_error(P, y, n_bins=10) == pytest.approx(0.5 * 0.1 + 0.5 * 0.1)
    rng = np.random.default_rng(7)
    P = rng.dirichlet(np.ones(4) * 0.3, size=2000)
    y = rng.integers(0, 4, size=2000)
    bins = reliability_bins(P, y, n_bins=12)
    conf, correct = P.max(axis=1), (P.argmax(axis=1) == y)
    acc_ref, conf_ref = calibration_curve(correct, conf, n_bins=12, strategy="uniform")
    used = bins.count > 0
    np.testing.assert_allclose(bins.accuracy[used], acc_ref, rtol=1e-12)
    np.testing.assert_allclose(bins.confidence[used], conf_ref, rtol=1e-12)
    assert bins.count.sum() == 2000
    # labels drawn from the model's own probabilities: calibrated, ECE only sampling noise
    y_cal = np.array([rng.choice(4, p=p) for p in P])
    assert expected_calibration_error(P, y_cal) < 0.04 < expected_calibration_error(P, y)


def test_reliability_diagram_draws_and_returns_the_ece():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(8)
    P, y = rng.dirichlet(np.ones(3), size=300), rng.integers(0, 3, size=300)
    fig, ax = plt.subplots()
    assert plot_reliability_diagram(ax, P, y, n_bins=10) == pytest.approx(expected_calibration_error(P, y, 10))
    assert ax.get_xlabel().startswith("confidence")
    plt.close(fig)
    with pytest.raises(ValueError, match="rows of P to be probabilities"):
        expected_calibration_error(P * 2, y)
