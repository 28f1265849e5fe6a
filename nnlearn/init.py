"""Weight initialisation for dense layers, and how variance travels through a deep network.

Shapes as in torch.nn.Linear: W has shape (n_out, n_in), so fan_in = n_in and fan_out = n_out.
Every scheme draws entries with mean 0; their variances (gain g, default in SCHEMES):

    standard        U[-1/sqrt(n_in), 1/sqrt(n_in)]        1 / (3 n_in)   torch.nn.Linear's default
    lecun           N(0, g^2 / n_in)                      g^2 / n_in
    glorot_uniform  U[-a, a], a = g sqrt(6 / (n_in + n_out))  2 g^2 / (n_in + n_out)
    glorot_normal   N(0, 2 g^2 / (n_in + n_out))          2 g^2 / (n_in + n_out)
    he_normal       N(0, g^2 / n_in), g = sqrt(2)         2 / n_in
    he_uniform      U[-a, a], a = g sqrt(3 / n_in)        2 / n_in
    orthogonal      g Q, Q with orthonormal rows or columns (torch.nn.init.orthogonal_)

Variance propagation (zero-mean independent weights of variance v_l, independent of the inputs):
    Var[a_1] = N_0 v_1 E[x^2],   Var[a_l] = N_{l-1} v_l c Var[a_{l-1}]    (forward)
    Var[d_l] = N_{l+1} v_{l+1} c Var[d_{l+1}]                              (backward, d = dL/da)
with c = E[phi(a)^2] / Var[a] = E[phi'(a)^2]: 1 for the identity, 1/2 for ReLU (a symmetric about 0).
"""
import math

import numpy as np

from .validate import check_choice, check_dtype, check_number, check_positive, check_rng, check_widths, describe

SCHEMES = {"standard": None, "lecun": 1.0, "glorot_uniform": 1.0, "glorot_normal": 1.0,
           "he_normal": math.sqrt(2.0), "he_uniform": math.sqrt(2.0), "orthogonal": 1.0}
GAINS = {"identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0)}
VARIANCE_FACTORS = {"identity": 1.0, "relu": 0.5}     # c = E[phi(a)^2] / Var[a] = E[phi'(a)^2]


def activation_gain(activation):
    """The gain torch.nn.init.calculate_gain recommends: 1 (identity, sigmoid), 5/3 (tanh), sqrt(2) (ReLU)."""
    return GAINS[check_choice("activation", activation, GAINS)]


def _gain(scheme, gain):
    scheme = check_choice("scheme", scheme, SCHEMES)
    if gain is None:
        return scheme, SCHEMES[scheme]
    if scheme == "standard":
        raise ValueError("expected gain=None for scheme 'standard' (its bound 1/sqrt(n_in) has no gain), "
                         f"got gain = {gain}")
    return scheme, check_positive("gain", gain)


def weight_std(scheme, n_out, n_in, gain=None):
    """The standard deviation of every entry of W (n_out, n_in) under `scheme` (table above)."""
    scheme, g = _gain(scheme, gain)
    n_out, n_in = check_positive("n_out", n_out, integer=True), check_positive("n_in", n_in, integer=True)
    if scheme == "standard":
        return 1.0 / math.sqrt(3 * n_in)
    if scheme.startswith("glorot"):
        return g * math.sqrt(2.0 / (n_in + n_out))
    if scheme == "orthogonal":
        return g / math.sqrt(max(n_out, n_in))        # rows (or columns) of unit length
    return g / math.sqrt(n_in)                        # lecun, he_normal, he_uniform


def _orthogonal(n_out, n_in, rng):
    """torch.nn.init.orthogonal_: QR of a Gaussian matrix, signs fixed so that Q is Haar-distributed."""
    flat = rng.standard_normal((n_out, n_in))
    if n_out < n_in:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    return q.T if n_out < n_in else q


def init_weights(scheme, n_out, n_in, rng, gain=None, dtype=np.float64):
    """W of shape (n_out, n_in) drawn with `rng` under `scheme` (module doc); stored as `dtype`."""
    std = weight_std(scheme, n_out, n_in, gain)
    rng, dtype = check_rng("rng", rng), check_dtype("dtype", dtype)
    if scheme == "orthogonal":
        W = _orthogonal(n_out, n_in, rng) * std * math.sqrt(max(n_out, n_in))
    elif scheme in ("standard", "glorot_uniform", "he_uniform"):
        bound = math.sqrt(3.0) * std                  # U[-a, a] has variance a^2 / 3
        W = rng.uniform(-bound, bound, size=(n_out, n_in))
    else:
        W = rng.standard_normal((n_out, n_in)) * std
    return W.astype(dtype, copy=False)


def init_network(widths, scheme, rng, gain=None, dtype=np.float64):
    """([W_1, ..., W_L], [b_1, ..., b_L]) for layer widths [N_0, ..., N_L]: every W_l drawn by
    init_weights, every bias zero (symmetry is broken by the weights alone)."""
    widths = check_widths(widths)
    weights = [init_weights(scheme, n_out, n_in, rng, gain, dtype) for n_in, n_out in zip(widths, widths[1:])]
    return weights, [np.zeros(n_out, dtype=dtype) for n_out in widths[1:]]


def _variances(widths, weight_variances):
    widths = check_widths(widths)
    if isinstance(weight_variances, (str, bytes)) or not hasattr(weight_variances, "__len__"):
        raise TypeError(f"expected weight_variances to be a list of numbers, one per layer, got {describe(weight_variances)}")
    if len(weight_variances) != len(widths) - 1:
        raise ValueError(f"expected weight_variances to hold one variance per layer ({len(widths) - 1}), "
                         f"got {len(weight_variances)}")
    return widths, [check_number(f"weight_variances[{l}]", v, low=0) for l, v in enumerate(weight_variances)]


def forward_variances(widths, weight_variances, input_second_moment=1.0, activation="identity"):
    """[Var[a_1], ..., Var[a_L]] in closed form (module doc), for `activation` in every layer."""
    widths, vs = _variances(widths, weight_variances)
    c = VARIANCE_FACTORS[check_choice("activation", activation, VARIANCE_FACTORS)]
    second = check_number("input_second_moment", input_second_moment, low=0)
    out = []
    for n_in, v in zip(widths, vs):
        out.append(n_in * v * second)
        second = c * out[-1]                          # E[h_l^2] = c Var[a_l]
    return out


def backward_variances(widths, weight_variances, output_variance=1.0, activation="identity"):
    """[Var[d_1], ..., Var[d_L]] with d_l = dL/da_l, given Var[d_L] = output_variance (module doc)."""
    widths, vs = _variances(widths, weight_variances)
    c = VARIANCE_FACTORS[check_choice("activation", activation, VARIANCE_FACTORS)]
    out = [check_number("output_variance", output_variance, low=0)]
    for l in range(len(vs) - 1, 0, -1):               # Var[d_l] from Var[d_{l+1}] through W_{l+1}
        out.append(widths[l + 1] * vs[l] * c * out[-1])
    return out[::-1]
