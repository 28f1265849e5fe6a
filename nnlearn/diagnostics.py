"""Layer by layer: what a network's activations and gradients look like (chapters 4 and 6).

`layer_signals` runs one batch forward and backward and keeps, for every layer l = 1..L, the
activations H_l and the error signals D_l = dL_r/dA_l of every example r (the gradient of that
example's own loss, so the batch size does not scale them). `gradient_norms` gives
||dL/dW_l|| for the mean loss; `plot_per_layer` draws one number per layer on a log scale.
"""
import numpy as np

from .backprop import _data, _forward, _phis, loss_and_gradients
from .losses import get_loss
from .validate import check_choice, check_type, describe


def layer_signals(X, Y, weights, biases, activation="relu", output_activation="identity",
                  loss="softmax_cross_entropy"):
    """([H_1, ..., H_L], [D_1, ..., D_L]) for the batch X (n, N_0) with targets Y (n, N_L):
    H_l = phi(A_l) and D_l = dL_r/dA_l row by row, both (n, N_l)."""
    X, Y, weights, biases = _data(X, Y, weights, biases)
    phis = _phis(len(weights), activation, output_activation)
    out, cache = _forward(X, weights, biases, phis)
    _, dH = get_loss(loss).unchecked(out, Y)
    dH = dH * len(X)                                  # the mean's 1/n undone: per-example gradients
    deltas = []
    for W, (_, A), phi in zip(reversed(weights), reversed(cache), reversed(phis)):
        deltas.append(dH * phi.df.kernel(A))          # D_l = dL/dH_l * phi'(A_l)
        dH = deltas[-1] @ W                           # dL/dH_{l-1} = D_l W_l
    return [H for H, _ in cache[1:]] + [out], deltas[::-1]


def gradient_norms(X, Y, weights, biases, activation="relu", output_activation="identity",
                   loss="softmax_cross_entropy"):
    """[||dL/dW_1||, ..., ||dL/dW_L||] (Frobenius norms) for the mean loss on the batch X, Y."""
    _, dWs, _ = loss_and_gradients(X, Y, weights, biases, loss, activation, output_activation)
    return np.array([np.linalg.norm(dW) for dW in dWs])


def plot_per_layer(ax, values, ylabel, title=None, marker="o-"):
    """Draw {label: one number per layer} against the layer index 1..L on a log scale."""
    if not hasattr(ax, "semilogy"):
        raise TypeError(f"expected ax to be a matplotlib Axes, got {describe(ax)}")
    check_type("values", values, dict, "a dict {label: one number per layer}")
    check_type("ylabel", ylabel, str, "a string")
    if title is not None:
        check_type("title", title, str, "a string or None")
    check_choice("marker", marker, ("o-", "s-", "o--", ".-"))
    if not values:
        raise ValueError("expected values to hold at least one curve, got an empty dict")
    for label, ys in values.items():
        ys = np.asarray(ys, dtype=float)
        if ys.ndim != 1 or ys.size == 0:
            raise ValueError(f"expected values[{label!r}] to hold one number per layer, got shape {ys.shape}")
        ax.semilogy(np.arange(1, len(ys) + 1), ys, marker, ms=4, label=str(label))
    ax.set_xlabel("layer l (1 = next to the input)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=9)
    return ax
