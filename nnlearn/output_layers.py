"""Output layers (chapter 5): the softmax Jacobian, its product with a vector, and label smoothing.

For o = softmax(a) the Jacobian is J = diag(o) - o o^T (symmetric, rank K - 1, J 1 = 0), so
J v = o * (v - <o, v>) costs O(K) and never forms the K x K matrix; J^T v is the same product.
Label smoothing replaces one-hot targets y by (1 - eps) y + eps / K (softmax, torch's
`label_smoothing=eps`) or binary targets by (1 - eps) y + eps / 2 (independent sigmoids); the
losses and gradients are then those of nnlearn.losses with the smoothed targets. float32 in,
float32 out.
"""
import numpy as np

from .losses import _row_max, _log_softmax
from .validate import check_array, check_number


def _probabilities(Z):
    return np.exp(_log_softmax(*_row_max(Z)))


def softmax_jacobian(Z):
    """d softmax(a)_i / d a_j = o_i ([i = j] - o_j): shape (K, K) for logits of shape (K,), one
    matrix per row, (n, K, K), for logits of shape (n, K)."""
    O = _probabilities(Z)
    eye = np.eye(O.shape[-1], dtype=O.dtype)
    return O[..., :, None] * eye - O[..., :, None] * O[..., None, :]


def softmax_jvp(Z, V):
    """J v = o * (v - <o, v>) for every row, without forming J (O(K) memory and time); since J
    is symmetric this is also v^T J, the backward pass of softmax."""
    Z, V = check_array("Z", Z, ndim=(1, 2), finite="no-nan"), check_array("V", V)
    if V.shape != Z.shape:
        raise ValueError(f"expected V of the shape of Z {Z.shape}, got shape {V.shape}")
    O = _probabilities(Z)
    return O * (V.astype(O.dtype, copy=False) - np.sum(O * V, axis=-1, keepdims=True))


def _smoothing(eps):
    return check_number("eps", eps, low=0, high=1)


def smooth_labels(Y, eps):
    """(1 - eps) Y + eps / K for targets Y of shape (n, K) (one-hot rows or probabilities): the
    targets of label smoothing for a softmax output, torch's cross_entropy(..., label_smoothing=eps)."""
    Y, eps = check_array("Y", Y, ndim=2), _smoothing(eps)
    if Y.min() < 0 or not np.allclose(Y.sum(axis=1), 1.0, atol=1e-5):
        raise ValueError(f"expected the rows of Y to be probabilities (>= 0, summing to 1), got row sums from "
                         f"{Y.sum(axis=1).min():.3g} to {Y.sum(axis=1).max():.3g} and smallest entry {Y.min():.3g}")
    return ((1 - eps) * Y + eps / Y.shape[1]).astype(Y.dtype, copy=False)


def smooth_binary_targets(Y, eps):
    """(1 - eps) Y + eps / 2 for binary targets Y in [0, 1] of independent sigmoid outputs: 1 becomes
    1 - eps/2 and 0 becomes eps/2."""
    Y, eps = check_array("Y", Y, min_ndim=1), _smoothing(eps)
    if Y.min() < 0 or Y.max() > 1:
        raise ValueError(f"expected Y to hold targets in [0, 1], got values from {Y.min()} to {Y.max()}")
    return ((1 - eps) * Y + eps / 2).astype(Y.dtype, copy=False)


def smoothed_optimal_logit_gap(n_classes, eps):
    """The logit gap a_y - a_j (j != y) that minimises the label-smoothed cross-entropy of one
    example: log((1 - eps + eps/K) / (eps/K)) = log(1 + K (1 - eps) / eps); infinite for eps = 0."""
    K = check_number("n_classes", n_classes, low=2, integer=True)
    eps = _smoothing(eps)
    return np.inf if eps == 0 else float(np.log1p(K * (1 - eps) / eps))
