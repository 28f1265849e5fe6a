import numpy as np
import pytest
import torch

from nnlearn.activations import ACTIVATIONS, get_activation
from nnlearn.checks import central_difference

TORCH = {"identity": lambda t: t, "sign": torch.sign, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
         "relu": torch.relu, "hard_tanh": torch.nn.functional.hardtanh}


def away_from_kinks(rng, shape):
    v = rng.uniform(-5, 5, size=shape)
    bad = (np.abs(v) < 1e-3) | (np.abs(np.abs(v) - 1) < 1e-3)
    v[bad] += 0.01
    return v


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_derivative_matches_finite_differences(name):
    act = ACTIVATIONS[name]
    v = away_from_kinks(np.random.default_rng(0), (4, 50))
    np.testing.assert_allclose(act.df(v), central_difference(act.f, v), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_function_and_derivative_match_torch(name):
    act = ACTIVATIONS[name]
    v = away_from_kinks(np.random.default_rng(1), (3, 7, 11))
    t = torch.tensor(v, requires_grad=True)
    out = TORCH[name](t)
    out.sum().backward()
    np.testing.assert_allclose(act.f(v), out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(act.df(v), t.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert act.f(v).shape == v.shape and act.df(v).shape == v.shape


@pytest.mark.parametrize("name", ["relu", "hard_tanh", "sign"])
def test_derivative_at_kinks_follows_torch(name):
    v = np.array([-1.0, 0.0, 1.0])
    t = torch.tensor(v, requires_grad=True)
    TORCH[name](t).sum().backward()
    np.testing.assert_array_equal(ACTIVATIONS[name].df(v), t.grad.numpy())


def test_sigmoid_is_stable_for_large_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        s = ACTIVATIONS["sigmoid"].f(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]))
        ds = ACTIVATIONS["sigmoid"].df(np.array([-1000.0, 1000.0]))
    np.testing.assert_allclose(s, [0, 1.9287498479639178e-22, 0.5, 1, 1], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(ds, [0, 0])


def test_identities_from_the_lecture():
    v = np.linspace(-8, 8, 2001)
    sigmoid, tanh = ACTIVATIONS["sigmoid"], ACTIVATIONS["tanh"]
    np.testing.assert_allclose(tanh.f(v), 2 * sigmoid.f(2 * v) - 1, atol=1e-15)
    np.testing.assert_allclose(tanh.df(v), 4 * np.exp(2 * v) / (np.exp(2 * v) + 1) ** 2, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(sigmoid.df(v), np.exp(-v) / (1 + np.exp(-v)) ** 2, rtol=1e-10, atol=1e-15)
    assert sigmoid.df(v).max() == pytest.approx(0.25) and v[sigmoid.df(v).argmax()] == pytest.approx(0)


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown activation name 'swish'"):
        get_activation("swish")
    assert get_activation("relu") is ACTIVATIONS["relu"]
