"""nnlearn.init against torch.nn.init (by moments on large samples) and the variance formulas
against simulation; nnlearn.diagnostics against torch.autograd."""
import math

import numpy as np
import pytest
import torch

from nnlearn.diagnostics import gradient_norms, layer_signals
from nnlearn.init import (activation_gain, backward_variances, forward_variances, init_network, init_weights,
                          weight_std)
from nnlearn.mlp import to_sequential

SHAPE = (300, 700)                                   # (n_out, n_in): non-square, so fan-in and fan-out differ


def torch_sample(fill, shape=SHAPE, seed=0):
    torch.manual_seed(seed)
    W = torch.empty(shape, dtype=torch.float64)
    fill(W)
    return W.numpy()


def moments(W):
    """(variance, kurtosis, max |w|): the kurtosis tells uniform (1.8) from normal (3)."""
    w = W.ravel() - W.mean()
    var = w.var()
    return var, np.mean(w ** 4) / var ** 2, np.abs(W).max()


TORCH = {
    "standard": lambda W: torch.nn.init.kaiming_uniform_(W, a=math.sqrt(5)),      # nn.Linear.reset_parameters
    "glorot_uniform": torch.nn.init.xavier_uniform_,
    "glorot_normal": torch.nn.init.xavier_normal_,
    "he_normal": lambda W: torch.nn.init.kaiming_normal_(W, nonlinearity="relu"),
    "he_uniform": lambda W: torch.nn.init.kaiming_uniform_(W, nonlinearity="relu"),
    "lecun": lambda W: torch.nn.init.normal_(W, std=1 / math.sqrt(W.shape[1])),
    "orthogonal": torch.nn.init.orthogonal_,
}


@pytest.mark.parametrize("scheme", sorted(TORCH))
def test_schemes_match_torch_by_moments(scheme):
    mine = init_weights(scheme, *SHAPE, np.random.default_rng(1))
    ref = torch_sample(TORCH[scheme])
    (v, k, m), (v_ref, k_ref, m_ref) = moments(mine), moments(ref)
    # 210 000 entries: the sample variance is within ~1% (4 standard errors) of the truth
    assert v == pytest.approx(v_ref, rel=0.02) and v == pytest.approx(weight_std(scheme, *SHAPE) ** 2, rel=0.02)
    assert k == pytest.approx(k_ref, abs=0.1)
    if scheme in ("standard", "glorot_uniform", "he_uniform"):
        assert m <= math.sqrt(3) * weight_std(scheme, *SHAPE) and m == pytest.approx(m_ref, rel=0.01)
    assert abs(mine.mean()) < 4 * math.sqrt(v / mine.size)


def test_the_formulas_in_closed_form():
    n_out, n_in = SHAPE
    assert weight_std("glorot_uniform", n_out, n_in) * math.sqrt(3) == pytest.approx(math.sqrt(6 / (n_in + n_out)))
    assert weight_std("glorot_normal", n_out, n_in) ** 2 == pytest.approx(2 / (n_in + n_out))
    assert weight_std("he_normal", n_out, n_in) ** 2 == pytest.approx(2 / n_in)
    assert weight_std("standard", n_out, n_in) * math.sqrt(3) == pytest.approx(1 / math.sqrt(n_in))
    for name in ("identity", "sigmoid", "tanh", "relu"):
        torch_name = "linear" if name == "identity" else name
        assert activation_gain(name) == pytest.approx(torch.nn.init.calculate_gain(torch_name))
    # torch's default for Linear: kaiming_uniform with a = sqrt(5) is gain sqrt(2 / (1 + 5)) = 1/sqrt(3)
    assert torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(1 / math.sqrt(3))
    layer = torch.nn.Linear(n_in, n_out)
    assert layer.weight.abs().max().item() <= 1 / math.sqrt(n_in)


def test_orthogonal_is_orthogonal_and_keeps_the_dtype():
    for shape in [(30, 70), (70, 30), (40, 40)]:
        W = init_weights("orthogonal", *shape, np.random.default_rng(2), gain=2.0, dtype=np.float32)
        assert W.dtype == np.float32
        gram = W @ W.T if shape[0] <= shape[1] else W.T @ W
        np.testing.assert_allclose(gram, 4 * np.eye(min(shape)), atol=1e-5)
    weights, biases = init_network([5, 4, 3], "he_normal", np.random.default_rng(0), dtype=np.float32)
    assert [W.dtype for W in weights] == [np.float32] * 2 and all(not b.any() for b in biases)


def test_the_same_rng_gives_the_same_weights():
    a = init_weights("glorot_normal", 4, 6, np.random.default_rng(5))
    b = init_weights("glorot_normal", 4, 6, np.random.default_rng(5))
    assert np.array_equal(a, b)


@pytest.mark.parametrize("activation, scheme", [("identity", "lecun"), ("identity", "standard"),
                                                ("relu", "he_normal"), ("relu", "glorot_normal")])
def test_forward_and_backward_variances_match_simulation(activation, scheme):
    """The formulas are expectations over the weights: average the simulated variances over 10
    draws (one draw of a ReLU net fluctuates by ~sqrt(2 / N) per layer, as the inputs are correlated)."""
    rng = np.random.default_rng(3)
    widths = [400, 300, 500, 300, 400, 200]
    vs = [weight_std(scheme, n_out, n_in) ** 2 for n_in, n_out in zip(widths, widths[1:])]
    forward, backward = [], []
    for _ in range(10):
        weights, _ = init_network(widths, scheme, rng)
        H, pre = rng.standard_normal((500, widths[0])), []
        for W in weights:
            pre.append(H @ W.T)
            H = np.maximum(pre[-1], 0) if activation == "relu" else pre[-1]
        deltas = [rng.standard_normal((500, widths[-1]))]        # Var[d_L] = 1, independent of the weights
        for W, A in zip(weights[:0:-1], pre[-2::-1]):
            deltas.append((deltas[-1] @ W) * (A > 0 if activation == "relu" else 1.0))
        forward.append([A.var() for A in pre])
        backward.append([d.var() for d in deltas[::-1]])
    np.testing.assert_allclose(np.mean(forward, 0), forward_variances(widths, vs, 1.0, activation), rtol=0.06)
    np.testing.assert_allclose(np.mean(backward, 0), backward_variances(widths, vs, 1.0, activation), rtol=0.06)


def test_closed_forms_by_hand():
    assert forward_variances([10, 20, 30], [0.1, 0.05], 2.0, "identity") == pytest.approx([2.0, 2.0])
    assert forward_variances([10, 20, 30], [0.2, 0.1], 1.0, "relu") == pytest.approx([2.0, 2.0])
    assert backward_variances([10, 20, 30], [0.1, 0.1], 1.0, "relu") == pytest.approx([1.5, 1.0])
    with pytest.raises(ValueError, match="weight_variances"):
        forward_variances([10, 20, 30], [0.1])


def torch_signals(X, Y, weights, biases, activation):
    model = to_sequential(weights, biases, activation, "identity", dtype=torch.float64)
    pre, post, h = [], [], torch.tensor(X)
    for m in model:
        h = m(h)
        if isinstance(m, torch.nn.Linear):
            h.retain_grad()
            pre.append(h)
        else:
            post.append(h)
    loss = torch.nn.functional.cross_entropy(h, torch.tensor(Y.argmax(1)), reduction="sum")  # per-example grads
    loss.backward()
    return post + [pre[-1]], [a.grad for a in pre]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_layer_signals_match_torch_autograd(activation):
    rng = np.random.default_rng(4)
    widths = [6, 5, 7, 4]
    weights, biases = init_network(widths, "glorot_normal", rng)
    biases = [rng.standard_normal(b.shape) for b in biases]
    X, Y = rng.standard_normal((9, 6)), np.eye(4)[rng.integers(0, 4, 9)]
    Hs, Ds = layer_signals(X, Y, weights, biases, activation)
    Hs_ref, Ds_ref = torch_signals(X, Y, weights, biases, activation)
    for mine, ref in zip(Hs + Ds, Hs_ref + Ds_ref):
        np.testing.assert_allclose(mine, ref.detach().numpy(), rtol=1e-10, atol=1e-13)
    norms = gradient_norms(X, Y, weights, biases, activation)
    model = to_sequential(weights, biases, activation, "identity", dtype=torch.float64)
    torch.nn.functional.cross_entropy(model(torch.tensor(X)), torch.tensor(Y.argmax(1))).backward()
    ref = [m.weight.grad.norm().item() for m in model if isinstance(m, torch.nn.Linear)]
    np.testing.assert_allclose(norms, ref, rtol=1e-10)


def test_constant_weights_keep_hidden_units_identical():
    """Symmetry: with all weights of a layer equal, its units get equal gradients at every step."""
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((20, 5)), np.eye(3)[rng.integers(0, 3, 20)]
    weights = [np.full((4, 5), 0.3), np.full((3, 4), -0.2)]
    biases = [np.zeros(4), np.zeros(3)]
    _, Ds = layer_signals(X, Y, weights, biases, "tanh")
    assert np.allclose(Ds[0], Ds[0][:, :1])             # all hidden units: one error signal
    from nnlearn.backprop import train
    W_end, _, _ = train(X, Y, weights, biases, epochs=5, lr=0.5, batch_size=5, rng=rng, activation="tanh")
    assert np.allclose(W_end[0], W_end[0][:1]) and np.allclose(W_end[1], W_end[1][:, :1])
    assert not np.allclose(W_end[0], 0.3)               # they moved, but together
