"""Multilayer perceptrons in plain numpy: shapes, parameter counts, a batched forward pass,
the layer that turns one-hot digit outputs into binary code, and copies to and from
`torch.nn.Sequential`.

Conventions (the same as `torch.nn.Linear`): `widths = [N_0, ..., N_L]` lists the N_0 inputs
and the widths of layers 1..L; `W_p` has shape (N_p, N_{p-1}) and `b_p` shape (N_p,); a batch
`X` has shape (n, N_0), one example per row, and layer p computes
`H_p = phi(H_{p-1} W_p^T + b_p)` of shape (n, N_p). torch is imported only by the functions
that need it.
"""
import numpy as np

from .activations import ACTIVATIONS
from .validate import (check_array, check_choice, check_dtype, check_labels, check_layers, check_number, check_positive,
                       check_rng, check_type, check_widths, describe)


def _check_levels(high, low):
    """0 <= low < high <= 1: a_d in [high, 1] for the labelled class, the others in [0, low]."""
    high, low = check_number("high", high, low=0, high=1), check_number("low", low, low=0, high=1)
    if not low < high:
        raise ValueError(f"expected low < high, got low = {low} and high = {high}")
    return high, low


def count_parameters(widths):
    """sum_{p=1}^{L} N_p (N_{p-1} + 1): each of the N_p units of layer p has N_{p-1} weights and a bias."""
    widths = check_widths(widths)
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(widths, widths[1:]))


def layer_shapes(widths, batch_size):
    """For layers p = 1..L: shapes of W_p, b_p and of the output H_p for a batch, and N_p (N_{p-1} + 1)."""
    widths, batch_size = check_widths(widths), check_positive("batch_size", batch_size, integer=True)
    return [{"weight": (n_out, n_in), "bias": (n_out,), "output": (batch_size, n_out),
             "parameters": n_out * (n_in + 1)} for n_in, n_out in zip(widths, widths[1:])]


def init_parameters(widths, rng, dtype=np.float64):
    """([W_1, ..., W_L], [b_1, ..., b_L]) drawn like torch.nn.Linear's default initialisation:
    every entry uniform in [-1/sqrt(N_{p-1}), 1/sqrt(N_{p-1})]. The numbers are drawn in float64
    (the same for every dtype) and stored as `dtype` (e.g. np.float32)."""
    widths, rng, dtype = check_widths(widths), check_rng("rng", rng), check_dtype("dtype", dtype)
    weights, biases = [], []
    for n_in, n_out in zip(widths, widths[1:]):
        bound = 1.0 / np.sqrt(n_in)
        weights.append(rng.uniform(-bound, bound, size=(n_out, n_in)).astype(dtype))
        biases.append(rng.uniform(-bound, bound, size=n_out).astype(dtype))
    return weights, biases


def forward_layers(X, weights, biases, activation="relu", output_activation="identity"):
    """[H_0 = X, H_1, ..., H_L] with H_p = phi(H_{p-1} W_p^T + b_p); phi is `activation` for the
    hidden layers and `output_activation` for layer L (names from nnlearn.activations).
    The dtype follows numpy's rules: float32 X and weights give float32 layers."""
    weights, biases = check_layers(weights, biases)
    H = check_array("X", X, shape=("n", weights[0].shape[1]), nonempty=False, match=f"W_1 of shape {weights[0].shape}")
    hidden = ACTIVATIONS[check_choice("activation", activation, ACTIVATIONS)]
    output = ACTIVATIONS[check_choice("output_activation", output_activation, ACTIVATIONS)]
    layers = [H]
    for p, (W, b) in enumerate(zip(weights, biases), start=1):
        A = H @ W.T
        A += b
        H = (output if p == len(weights) else hidden).f.kernel(A)
        layers.append(H)
    return layers


def forward(X, weights, biases, activation="relu", output_activation="identity"):
    """The network's output H_L, shape (n, N_L), for a batch X of shape (n, N_0)."""
    return forward_layers(X, weights, biases, activation, output_activation)[-1]


# --- one-hot outputs -> binary code ---------------------------------------------------

def binary_code(labels, n_bits):
    """Bits of integer labels, least significant first: column j is bit j (worth 2**j)."""
    n_bits = check_positive("n_bits", n_bits, integer=True)
    labels = check_labels("labels", labels)
    if labels.size and (labels.min() < 0 or labels.max() >= 2 ** n_bits):
        raise ValueError(f"expected labels in 0..{2 ** n_bits - 1} to fit in n_bits = {n_bits} bits, "
                         f"got labels from {labels.min()} to {labels.max()}")
    return (labels[:, None] >> np.arange(n_bits)) & 1


def binary_output_layer(n_classes=10, scale=10.0):
    """(W, b) of a sigmoid layer that reads one-hot class activations and outputs the class in
    binary, bit j in unit j: W[j, d] = +scale where bit j of d is 1 and -scale where it is 0, b = 0.
    With a_d >= 0.99 and a_k <= 0.01 (k != d) every pre-activation is at least 0.9 * scale from 0
    on the correct side; scale = 10 makes every output within 1.3e-4 of its bit."""
    n_classes, scale = check_positive("n_classes", n_classes, integer=True), check_positive("scale", scale)
    n_bits = max(1, int(n_classes - 1).bit_length())
    W = scale * (2.0 * binary_code(np.arange(n_classes), n_bits).T - 1.0)
    return W, np.zeros(n_bits)


def preactivation_range(W, b, high=0.99, low=0.01):
    """Exact (z_min, z_max), each (n_classes, n_out): the extremes of z = W a + b over all activation
    vectors a of class d, meaning a_d in [high, 1] and a_k in [0, low] for k != d. z is linear in a
    and the constraints form a box, so each extreme is attained coordinate by coordinate at a corner."""
    W = check_array("W", W, shape=("n_out", "n_classes"))
    b = check_array("b", b, shape=(W.shape[0],))
    high, low = _check_levels(high, low)
    n_classes = W.shape[1]
    lo = np.where(np.eye(n_classes, dtype=bool), high, 0.0)      # row d: bounds for class d
    hi = np.where(np.eye(n_classes, dtype=bool), 1.0, low)
    at_lo, at_hi = lo[:, None, :] * W[None], hi[:, None, :] * W[None]   # (class, unit, input)
    return b + np.minimum(at_lo, at_hi).sum(-1), b + np.maximum(at_lo, at_hi).sum(-1)


def noisy_one_hot(labels, n_classes, rng, high=0.99, low=0.01):
    """Random activation vectors of the labelled classes: a_d uniform in [high, 1], the others in [0, low]."""
    n_classes = check_positive("n_classes", n_classes, integer=True)
    labels, rng = check_labels("labels", labels, n_classes), check_rng("rng", rng)
    high, low = _check_levels(high, low)
    A = rng.uniform(0.0, low, size=(len(labels), n_classes))
    A[np.arange(len(labels)), labels] = rng.uniform(high, 1.0, size=len(labels))
    return A


# --- numpy <-> torch.nn.Sequential --------------------------------------------------

TORCH_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "hard_tanh": "Hardtanh"}


def _check_torch_activation(arg, name):
    if check_choice(arg, name, ACTIVATIONS) != "identity" and name not in TORCH_ACTIVATIONS:
        raise ValueError(f"no torch module for {arg} {name!r}; choose identity or one of {sorted(TORCH_ACTIVATIONS)}")
    return name


def to_sequential(weights, biases, activation="relu", output_activation="identity", dtype=None):
    """torch.nn.Sequential(Linear, phi, ..., Linear[, phi_out]) holding copies of the given weights
    (float32 unless `dtype` says otherwise); no random numbers are drawn."""
    import torch

    weights, biases = check_layers(weights, biases)
    _check_torch_activation("activation", activation)
    _check_torch_activation("output_activation", output_activation)
    dtype = dtype or torch.float32
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"expected dtype to be a floating torch dtype such as torch.float64, got {describe(dtype)}")
    layers = []
    for p, (W, b) in enumerate(zip(weights, biases), start=1):
        linear = torch.nn.utils.skip_init(torch.nn.Linear, W.shape[1], W.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(W, dtype=dtype))
            linear.bias.copy_(torch.as_tensor(b, dtype=dtype))
        layers.append(linear)
        name = output_activation if p == len(weights) else activation
        if name != "identity":
            layers.append(getattr(torch.nn, TORCH_ACTIVATIONS[name])())
    return torch.nn.Sequential(*layers)


def from_sequential(model):
    """([W_1, ..., W_L], [b_1, ..., b_L]) as float64 numpy copies of the model's Linear layers, in order."""
    import torch

    check_type("model", model, torch.nn.Module, "a torch.nn.Module")
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise ValueError("expected model to contain torch.nn.Linear layers, found none")
    if any(m.bias is None for m in linears):
        raise ValueError("expected every Linear layer of model to have a bias (bias=True)")
    weights = [m.weight.detach().cpu().double().numpy().copy() for m in linears]
    biases = [m.bias.detach().cpu().double().numpy().copy() for m in linears]
    return weights, biases


def make_mlp(widths, rng, activation="relu", output_activation="identity", dtype=None):
    """A torch MLP of the given widths whose initial weights come from the numpy generator `rng`."""
    _check_torch_activation("activation", activation)
    _check_torch_activation("output_activation", output_activation)
    return to_sequential(*init_parameters(widths, rng), activation, output_activation, dtype)
