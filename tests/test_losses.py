import numpy as np
import pytest
import torch

from nnlearn.checks import numerical_gradient
from nnlearn.losses import (LOSSES, get_loss, quadratic_cost, quadratic_cost_gradient,
                            quadratic_cost_per_example)


def test_quadratic_cost_by_hand():
    A = np.array([[0.5, 0.5], [1.0, 0.0]])
    Y = np.array([[1.0, 0.0], [1.0, 0.0]])
    # C_x = ||y - a||^2 / 2: (0.25 + 0.25) / 2 = 0.25 and 0; C = mean = 0.125
    np.testing.assert_allclose(quadratic_cost_per_example(A, Y), [0.25, 0.0])
    assert quadratic_cost(A, Y) == pytest.approx(0.125)
    np.testing.assert_allclose(quadratic_cost_gradient(A, Y), [[-0.25, 0.25], [0.0, 0.0]])


@pytest.mark.parametrize("shape", [(1, 1), (7,), (5, 3), (4, 2, 3)])
def test_gradient_matches_finite_differences_and_autograd(shape):
    rng = np.random.default_rng(0)
    A, Y = rng.standard_normal(shape), rng.standard_normal(shape)
    grad = quadratic_cost_gradient(A, Y)
    assert grad.shape == A.shape
    np.testing.assert_allclose(grad, numerical_gradient(lambda a: quadratic_cost(a, Y), A), rtol=1e-6, atol=1e-9)
    At = torch.tensor(A, requires_grad=True)
    loss = ((torch.tensor(Y) - At) ** 2).reshape(shape[0], -1).sum() / (2 * shape[0])
    loss.backward()
    assert quadratic_cost(A, Y) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(grad, At.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_relation_to_torch_mse_loss():
    """torch's MSELoss averages over all n*k numbers and has no 1/2: C = (k/2) * mse_loss."""
    rng = np.random.default_rng(1)
    n, k = 13, 10
    A, Y = rng.standard_normal((n, k)), rng.standard_normal((n, k))
    mse = torch.nn.functional.mse_loss(torch.tensor(A), torch.tensor(Y)).item()
    total = torch.nn.functional.mse_loss(torch.tensor(A), torch.tensor(Y), reduction="sum").item()
    assert quadratic_cost(A, Y) == pytest.approx(k / 2 * mse, rel=1e-12)
    assert quadratic_cost(A, Y) == pytest.approx(total / (2 * n), rel=1e-12)


def test_cost_is_nonnegative_and_zero_only_at_the_targets():
    rng = np.random.default_rng(2)
    Y = rng.standard_normal((6, 4))
    assert quadratic_cost(Y, Y) == 0.0
    for _ in range(100):
        A = Y + rng.standard_normal(Y.shape) * rng.uniform(1e-6, 3)
        assert quadratic_cost(A, Y) > 0
    # C <= eps implies every output within sqrt(2 n eps) of its target
    A = Y + 1e-3 * rng.standard_normal(Y.shape)
    assert np.max(np.abs(A - Y)) <= np.sqrt(2 * len(Y) * quadratic_cost(A, Y))
    # ... and every ||y(x) - a|| <= delta implies C <= delta^2 / 2
    delta = np.max(np.linalg.norm(A - Y, axis=1))
    assert quadratic_cost(A, Y) <= delta**2 / 2


def test_cost_is_the_mean_of_the_per_example_costs():
    rng = np.random.default_rng(3)
    A, Y = rng.standard_normal((9, 3)), rng.standard_normal((9, 3))
    per_example = quadratic_cost_per_example(A, Y)
    assert per_example.shape == (9,)
    assert quadratic_cost(A, Y) == pytest.approx(per_example.mean())
    assert LOSSES["quadratic"](A, Y) == pytest.approx(quadratic_cost(A, Y))


def test_shape_mismatch_and_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match=r"Expected A batch_size \(3\) to match Y batch_size \(2\)"):
        quadratic_cost(np.zeros((3, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"same shape, got A \(3, 2\) and Y \(3, 1\)"):
        quadratic_cost_gradient(np.zeros((3, 2)), np.zeros((3, 1)))     # would broadcast silently
    with pytest.raises(ValueError, match="unknown loss name 'hinge'"):
        get_loss("hinge")
    assert get_loss("quadratic") is LOSSES["quadratic"]


# --- softmax and cross-entropy (chapter 4) ------------------------------------------

def test_softmax_rows_are_probabilities_and_stable():
    from nnlearn.losses import log_softmax, softmax

    rng = np.random.default_rng(4)
    Z = rng.standard_normal((6, 5)) * 3
    P = softmax(Z)
    assert np.all(P > 0) and np.allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(P, torch.softmax(torch.tensor(Z), dim=1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(softmax(Z + rng.standard_normal((6, 1)) * 100), P, rtol=1e-10)  # shift-invariant
    huge = np.array([[1000.0, 0.0, -1000.0]])                 # exp(1000) overflows; the result must not
    np.testing.assert_allclose(softmax(huge), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(log_softmax(huge), [[0.0, -1000.0, -2000.0]])
    assert np.all(np.isfinite(log_softmax(huge)))


@pytest.mark.parametrize("n, k", [(1, 2), (7, 3), (32, 10)])
def test_softmax_cross_entropy_matches_torch_and_its_gradient_is_o_minus_y_over_n(n, k):
    from nnlearn.data import one_hot
    from nnlearn.losses import softmax, softmax_cross_entropy, softmax_cross_entropy_gradient

    rng = np.random.default_rng(n * k)
    Z, labels = rng.standard_normal((n, k)) * 2, rng.integers(0, k, size=n)
    Y = one_hot(labels, k).astype(float)
    Zt = torch.tensor(Z, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(Zt, torch.tensor(labels))
    loss.backward()
    assert softmax_cross_entropy(Z, Y) == pytest.approx(loss.item(), rel=1e-12)
    grad = softmax_cross_entropy_gradient(Z, Y)
    np.testing.assert_allclose(grad, (softmax(Z) - Y) / n, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(grad, Zt.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grad, numerical_gradient(lambda z: softmax_cross_entropy(z, Y), Z),
                               rtol=1e-6, atol=1e-9)
    assert get_loss("softmax_cross_entropy")(Z, Y) == pytest.approx(loss.item(), rel=1e-12)


def test_softmax_cross_entropy_gradient_for_targets_that_are_not_one_hot():
    from nnlearn.losses import softmax_cross_entropy, softmax_cross_entropy_gradient

    rng = np.random.default_rng(5)
    Z, Y = rng.standard_normal((4, 3)), rng.uniform(0, 2, size=(4, 3))     # rows do not sum to 1
    Zt = torch.tensor(Z, requires_grad=True)
    (-(torch.tensor(Y) * torch.log_softmax(Zt, dim=1)).sum(dim=1).mean()).backward()
    np.testing.assert_allclose(softmax_cross_entropy_gradient(Z, Y), Zt.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(softmax_cross_entropy_gradient(Z, Y),
                               numerical_gradient(lambda z: softmax_cross_entropy(z, Y), Z), rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="shape"):
        softmax_cross_entropy(np.zeros(3), np.zeros(3))
