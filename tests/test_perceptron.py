import numpy as np
import pytest
import torch

from nnlearn.data import make_blobs
from nnlearn.perceptron import (collapse_linear_layers, is_linearly_separable, novikoff_bound,
                                perceptron_predict, separating_hyperplane, train_perceptron,
                                two_layer_forward)

X_BITS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def separable_blobs(seed):
    rng = np.random.default_rng(seed)
    X, labels = make_blobs(40, centers=[[0.5, 1.5], [2.0, 2.5]], std=0.35, rng=rng)
    y = np.where(labels == 1, 1, -1)
    return X, y


def test_rule_converges_on_separable_data_and_classifies_all():
    X, y = separable_blobs(1)
    assert is_linearly_separable(X, y)
    result = train_perceptron(X, y, max_epochs=1000)
    assert result.converged and result.n_updates > 1
    assert np.array_equal(perceptron_predict(X, result.w, result.b), y)


def test_single_update_follows_the_rule():
    result = train_perceptron(np.array([[2.0, -1.0]]), np.array([-1]), lr=0.5, max_epochs=1)
    np.testing.assert_allclose(result.w, [-1.0, 0.5])
    assert result.b == -0.5 and result.mistakes_per_epoch == [1]


@pytest.mark.parametrize("seed", range(5))
def test_updates_never_exceed_novikoffs_bound(seed):
    X, y = separable_blobs(seed + 10)
    if not is_linearly_separable(X, y):
        pytest.skip("this draw is not separable")
    bound = novikoff_bound(X, y, *separating_hyperplane(X, y))
    for order_seed in range(20):
        result = train_perceptron(X, y, rng=np.random.default_rng(order_seed), max_epochs=10_000)
        assert result.converged and result.n_updates <= bound


def test_learning_rate_only_scales_weights_from_zero():
    X, y = separable_blobs(2)
    base = train_perceptron(X, y)
    for lr in (0.01, 3.0):
        r = train_perceptron(X, y, lr=lr)
        assert r.mistakes_per_epoch == base.mistakes_per_epoch
        np.testing.assert_allclose(r.w, lr * base.w)
        assert r.b == pytest.approx(lr * base.b)


def test_xor_is_not_separable_and_the_rule_never_converges():
    y_xor = np.array([-1, 1, 1, -1])
    assert not is_linearly_separable(X_BITS, y_xor)
    assert not train_perceptron(X_BITS, y_xor, max_epochs=200).converged
    assert is_linearly_separable(X_BITS, np.array([-1, -1, -1, 1]))      # AND
    assert is_linearly_separable(X_BITS, np.array([-1, 1, 1, 1]))        # OR
    lifted = np.column_stack([X_BITS, X_BITS[:, 0] * X_BITS[:, 1]])
    assert is_linearly_separable(lifted, y_xor)


def test_hand_made_hidden_layer_computes_xor():
    out = two_layer_forward(X_BITS, [[1, 1], [1, 1]], [-0.5, -1.5], [[1, -1]], [-0.5])
    np.testing.assert_array_equal(out.ravel(), [0, 1, 1, 0])


def test_labels_must_be_plus_minus_one():
    with pytest.raises(ValueError, match=r"y to hold only the labels \[-1, 1\]"):
        train_perceptron(X_BITS, np.array([0, 1, 1, 0]))


def test_novikoff_bound_rejects_a_non_separating_hyperplane():
    with pytest.raises(ValueError, match="does not separate"):
        novikoff_bound(X_BITS, np.array([-1, 1, 1, -1]), np.array([1.0, 1.0]), -0.5)


@pytest.mark.parametrize("seed", range(4))
def test_collapsed_linear_layers_match_torch(seed):
    g = torch.Generator().manual_seed(seed)
    widths = torch.randint(1, 8, (5,), generator=g).tolist()
    net = torch.nn.Sequential(*[torch.nn.Linear(a, b, bias=False).double() for a, b in zip(widths, widths[1:])])
    W_star = collapse_linear_layers([layer.weight.detach().numpy() for layer in net])
    x = torch.randn(6, widths[0], dtype=torch.float64, generator=g)
    assert W_star.shape == (widths[-1], widths[0])
    np.testing.assert_allclose(x.numpy() @ W_star.T, net(x).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_affine_collapse_formula_of_the_lecture_matches_torch():
    """b* = sum_p W_L ... W_{p+1} b_p  (equation eq-linear-collapse)."""
    torch.manual_seed(5)
    widths = [4, 6, 3, 5]
    net = torch.nn.Sequential(*[torch.nn.Linear(a, b).double() for a, b in zip(widths, widths[1:])])
    Ws = [layer.weight.detach().numpy() for layer in net]
    bs = [layer.bias.detach().numpy() for layer in net]
    W_star = collapse_linear_layers(Ws)
    b_star = sum((collapse_linear_layers(Ws[p + 1:]) if p + 1 < len(Ws) else np.eye(widths[-1])) @ bs[p]
                 for p in range(len(Ws)))
    x = torch.randn(8, widths[0], dtype=torch.float64)
    np.testing.assert_allclose(x.numpy() @ W_star.T + b_star, net(x).detach().numpy(), rtol=1e-10, atol=1e-12)
