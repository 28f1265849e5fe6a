import numpy as np
import pytest
import torch

from nnlearn.activations import ACTIVATIONS
from nnlearn.mlp import (binary_code, binary_output_layer, count_parameters, forward, forward_layers,
                         from_sequential, init_parameters, layer_shapes, make_mlp, noisy_one_hot,
                         preactivation_range, to_sequential)


def random_widths(rng, max_depth=5, max_width=40):
    return [int(n) for n in rng.integers(1, max_width, size=rng.integers(2, max_depth + 2))]


def test_parameter_count_matches_torch_for_random_architectures():
    rng = np.random.default_rng(0)
    for _ in range(300):
        widths = [int(n) for n in rng.integers(1, 2000, size=rng.integers(2, 8))]
        model = torch.nn.Sequential(*[torch.nn.Linear(a, b, device="meta") for a, b in zip(widths, widths[1:])])
        assert count_parameters(widths) == sum(p.numel() for p in model.parameters()), widths
        assert count_parameters(widths) == sum(s["parameters"] for s in layer_shapes(widths, 1))


def test_parameter_count_worked_examples_from_the_lecture():
    assert count_parameters([784, 30, 10]) == 30 * 785 + 10 * 31 == 23860
    assert count_parameters([784, 100, 10]) == 79510
    assert count_parameters([784, 128, 64, 10]) == 109386
    assert count_parameters([64, 32, 10]) == 2410
    assert count_parameters([5, 1]) == 6                      # one perceptron: n + 1
    with pytest.raises(ValueError, match="at least one layer"):
        count_parameters([784])
    with pytest.raises(ValueError, match="all >= 1"):
        count_parameters([3, 0, 2])


def test_layer_shapes_are_torch_shapes():
    widths, n = [7, 5, 3], 11
    model = to_sequential(*init_parameters(widths, np.random.default_rng(0)))
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    h = torch.zeros(n, widths[0])
    for shapes, linear in zip(layer_shapes(widths, n), linears):
        h = linear(h)
        assert shapes["weight"] == tuple(linear.weight.shape) and shapes["bias"] == tuple(linear.bias.shape)
        assert shapes["output"] == tuple(h.shape)


def test_init_parameters_follows_torch_default_bounds_and_the_rng():
    widths = [400, 50, 3]
    weights, biases = init_parameters(widths, np.random.default_rng(1))
    again, _ = init_parameters(widths, np.random.default_rng(1))
    for W, b, n_in, n_out in zip(weights, biases, widths, widths[1:]):
        assert W.shape == (n_out, n_in) and b.shape == (n_out,)
        assert np.abs(W).max() <= 1 / np.sqrt(n_in) and np.abs(W).max() > 0.9 / np.sqrt(n_in)
    np.testing.assert_array_equal(weights[0], again[0])


@pytest.mark.parametrize("hidden", ["relu", "sigmoid", "tanh", "hard_tanh", "identity"])
@pytest.mark.parametrize("output", ["identity", "sigmoid"])
def test_numpy_forward_equals_torch_sequential(hidden, output):
    rng = np.random.default_rng(2)
    for _ in range(10):
        widths = random_widths(rng)
        weights, biases = init_parameters(widths, rng)
        X = rng.standard_normal((int(rng.integers(1, 30)), widths[0]))
        model = to_sequential(weights, biases, hidden, output, dtype=torch.float64)
        np.testing.assert_allclose(forward(X, weights, biases, hidden, output),
                                   model(torch.from_numpy(X)).detach().numpy(), rtol=1e-12, atol=1e-12)


def test_forward_by_hand_one_example_at_a_time():
    rng = np.random.default_rng(3)
    widths = [6, 4, 5, 2]
    weights, biases = init_parameters(widths, rng)
    X = rng.standard_normal((9, 6))
    relu = ACTIVATIONS["relu"].f
    for x, out in zip(X, forward(X, weights, biases)):
        h = x
        for p, (W, b) in enumerate(zip(weights, biases)):
            h = W @ h + b                                   # h_{p+1} = Phi(W_{p+1} h_p + b_{p+1})
            h = relu(h) if p < len(weights) - 1 else h
        np.testing.assert_allclose(out, h, rtol=1e-12, atol=1e-14)
    layers = forward_layers(X, weights, biases)
    assert [H.shape for H in layers] == [(9, 6), (9, 4), (9, 5), (9, 2)]


def test_forward_rejects_wrong_shapes_clearly():
    weights, biases = init_parameters([3, 4, 2], np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 3\) to match W_1 of shape \(4, 3\), got shape \(3,\)"):
        forward(np.zeros(3), weights, biases)
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 3\) to match W_1 of shape \(4, 3\), got shape \(5, 4\)"):
        forward(np.zeros((5, 4)), weights, biases)
    with pytest.raises(ValueError, match=r"weights\[1\] \(W_2\) of shape \(N_2, 4\), got shape \(4, 2\)"):
        forward(np.zeros((5, 3)), [weights[0], weights[1].T], biases)
    with pytest.raises(ValueError, match="2 weight matrices and 1 bias vectors"):     # zip would drop a layer
        forward(np.zeros((5, 3)), weights, biases[:1])


def test_torch_round_trip_and_no_global_randomness():
    rng = np.random.default_rng(4)
    state = torch.random.get_rng_state()
    model = make_mlp([8, 16, 16, 3], rng, activation="tanh")
    assert torch.equal(state, torch.random.get_rng_state()), "to_sequential must not draw random numbers"
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    weights, biases = from_sequential(model)
    model2 = to_sequential(weights, biases, "tanh")
    x = torch.randn(5, 8)
    assert torch.equal(model(x), model2(x))
    torch_model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    weights, biases = from_sequential(torch_model)
    X = rng.standard_normal((7, 8))
    np.testing.assert_allclose(forward(X, weights, biases), torch_model(torch.tensor(X, dtype=torch.float32)).detach(),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="bias"):
        from_sequential(torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False)))
    with pytest.raises(ValueError, match="no torch module"):
        to_sequential(weights, biases, activation="sign")


def test_binary_code_is_least_significant_bit_first():
    np.testing.assert_array_equal(binary_code(np.array([0, 1, 6, 9]), 4),
                                  [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [1, 0, 0, 1]])
    digits = np.arange(16)
    np.testing.assert_array_equal(binary_code(digits, 4) @ (2 ** np.arange(4)), digits)


def test_binary_layer_is_correct_for_every_digit_in_the_worst_case():
    W, b = binary_output_layer(10, scale=10.0)
    assert W.shape == (4, 10) and b.shape == (4,)
    z_min, z_max = preactivation_range(W, b)
    bits = binary_code(np.arange(10), 4)
    margin = np.where(bits == 1, z_min, -z_max)              # distance to the threshold 0, worst case
    assert margin.min() == pytest.approx(0.91 * 10)         # 0.99 w - 8 * 0.01 w (bit 3 of 8 and 9)
    sigmoid = ACTIVATIONS["sigmoid"].f
    assert np.all(np.where(bits == 1, sigmoid(z_min), 1 - sigmoid(z_max)) >= 0.9998)


def test_preactivation_range_is_attained_and_never_exceeded():
    rng = np.random.default_rng(5)
    W, b = rng.standard_normal((3, 6)), rng.standard_normal(3)
    z_min, z_max = preactivation_range(W, b, high=0.9, low=0.1)
    labels = rng.integers(0, 6, size=20000)
    Z = noisy_one_hot(labels, 6, rng, high=0.9, low=0.1) @ W.T + b
    assert np.all(Z >= z_min[labels] - 1e-12) and np.all(Z <= z_max[labels] + 1e-12)
    for d in range(6):  # the corner that minimises unit j: a_k at the bound that makes W[j, k] a_k smallest
        for j in range(3):
            a = np.where(W[j] > 0, 0.0, 0.1)
            a[d] = 0.9 if W[j, d] > 0 else 1.0
            assert W[j] @ a + b[j] == pytest.approx(z_min[d, j])


def test_binary_layer_on_noisy_activations_and_the_sloppy_hint_fails():
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 10, size=50000)
    A = noisy_one_hot(labels, 10, rng)
    assert A[np.arange(len(labels)), labels].min() >= 0.99 and np.sort(A, axis=1)[:, -2].max() <= 0.01
    W, b = binary_output_layer()
    out = ACTIVATIONS["sigmoid"].f(A @ W.T + b)
    np.testing.assert_array_equal(out > 0.5, binary_code(labels, 4) == 1)
    assert np.abs(out - binary_code(labels, 4)).max() < 1.2e-4
    # "weight 1 from the digits with the bit, 0 from the others, bias 0.99" fires for every digit
    W_hint = binary_code(np.arange(10), 4).T.astype(float)
    assert np.all(preactivation_range(W_hint, np.full(4, 0.99))[0] > 0)
    # with bias -0.99 the threshold sits exactly on the worst case: no margin left
    assert preactivation_range(W_hint, np.full(4, -0.99))[0][binary_code(np.arange(10), 4) == 1].min() == pytest.approx(0)
    # the midpoint bias between 0.05 (at most five 0.01s) and 0.99 works for a step unit
    z_min, z_max = preactivation_range(W_hint, np.full(4, -0.52))
    bits = binary_code(np.arange(10), 4)
    assert np.all(z_min[bits == 1] > 0) and np.all(z_max[bits == 0] < 0)


def test_binary_layer_for_other_numbers_of_classes():
    for n_classes in (2, 3, 5, 16, 33):
        W, b = binary_output_layer(n_classes, scale=20.0)
        bits = binary_code(np.arange(n_classes), W.shape[0])
        assert W.shape[0] == max(1, int(np.ceil(np.log2(n_classes))))
        z_min, z_max = preactivation_range(W, b)
        assert np.all(z_min[bits == 1] > 0) and np.all(z_max[bits == 0] < 0)


def test_the_numbers_stated_in_the_lecture():
    bits = binary_code(np.arange(10), 4)
    Z, O = (bits == 0).sum(axis=0), (bits == 1).sum(axis=0)
    np.testing.assert_array_equal(Z, [5, 6, 6, 8])
    np.testing.assert_array_equal(O, [5, 4, 4, 2])
    w = 10.0
    z_min, z_max = preactivation_range(*binary_output_layer(10, scale=w))
    for j in range(4):  # the proposition's bounds, per unit, are attained
        assert z_min[bits[:, j] == 1, j].min() == pytest.approx((0.99 - 0.01 * Z[j]) * w)
        assert z_max[bits[:, j] == 0, j].max() == pytest.approx(-(0.99 - 0.01 * O[j]) * w)
    assert ACTIVATIONS["sigmoid"].f(np.array(-9.1)) < 1.2e-4
    # step units with 0/1 weights work exactly for -0.99 < b_j <= -0.01 O_j (tested on a grid off the ends)
    W01 = bits.T.astype(float)
    for j in range(4):
        for b, works in [(-0.99 + 1e-9, True), (-0.99 - 1e-9, False), (-0.01 * O[j] - 1e-9, True),
                         (-0.01 * O[j] + 1e-9, False), (-0.52, True)]:
            lo, hi = preactivation_range(W01[j:j + 1], np.array([b]))
            ok = np.all(lo[bits[:, j] == 1] > 0) and np.all(hi[bits[:, j] == 0] <= 0)
            assert ok == works, (j, b)
    assert np.log(99) / 0.47 == pytest.approx(9.78, abs=0.01)
    # parameter counts of the exercises and the table
    assert count_parameters([784, 100, 100, 10]) == 89610 and count_parameters([784, 200, 10]) == 159010
    assert count_parameters([64, 64, 10]) == 4810
    assert round(100 * 23550 / 23860, 1) == 98.7 and round(100 * 78500 / 89610, 1) == 87.6
    assert round(100 * 157000 / 159010, 1) == 98.7
    t0, c = 20.0, 0.05  # the batch-cost exercise, in microseconds
    assert (t0 + c * 1000) / 1000 == pytest.approx(0.07) and round((t0 + c) / 0.07) == 286
    n = 9 * t0 / c
    assert n == pytest.approx(3600) and t0 / (t0 + c * n) == pytest.approx(0.1)
