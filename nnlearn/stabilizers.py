"""What any optimizer can be combined with: gradient clipping and Polyak averaging.

Clipping acts on the *gradients* (never on the parameters), before the optimizer's step:
by value, each component into [-clip_value, clip_value] (torch.nn.utils.clip_grad_value_);
by global norm, all gradients scaled together by min(1, max_norm / (||g|| + eps)), where ||g||
is the norm of all of them concatenated (torch.nn.utils.clip_grad_norm_, eps = 1e-6). Both
return new arrays. Polyak averaging averages the *iterates* an optimizer visits: uniformly
(Polyak and Juditsky 1992; torch.optim.swa_utils.AveragedModel) or exponentially
(get_ema_multi_avg_fn): the first average is the first iterate.
"""
import numpy as np

from .validate import check_array, check_number, check_type


def _grad_list(grads):
    check_type("grads", grads, (list, tuple), "a list of gradient arrays, one per parameter")
    if not grads:
        raise ValueError("expected grads to hold at least one array, got an empty list")
    return [check_array(f"grads[{i}]", g, finite=False) for i, g in enumerate(grads)]


def clip_by_value(grads, clip_value):
    """Every component of every gradient clipped into [-clip_value, clip_value]."""
    grads, c = _grad_list(grads), check_number("clip_value", clip_value, low=0, low_open=True)
    return [np.clip(g, -c, c) for g in grads]


def global_norm(grads):
    """||g||_2 of all gradients concatenated into one vector."""
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in _grad_list(grads))))


def clip_by_global_norm(grads, max_norm, eps=1e-6):
    """(clipped gradients, the norm before clipping): every gradient times
    min(1, max_norm / (||g|| + eps)), so the direction of the whole gradient is kept."""
    grads = _grad_list(grads)
    max_norm, eps = check_number("max_norm", max_norm, low=0, low_open=True), check_number("eps", eps, low=0)
    norm = global_norm(grads)
    scale = min(1.0, max_norm / (norm + eps))
    return [g * np.asarray(scale, dtype=g.dtype) for g in grads], norm


def polyak_averages(iterates, beta=None):
    """Running averages of the iterates w_1, ..., w_k (stacked along axis 0), same shape:
    beta=None: the uniform mean (w_1 + ... + w_j) / j; a beta in [0, 1): the exponential average
    a_1 = w_1, a_j = beta a_{j-1} + (1 - beta) w_j."""
    W = check_array("iterates", iterates, min_ndim=1, finite=False)
    if beta is None:
        shape = (-1,) + (1,) * (W.ndim - 1)
        return np.cumsum(W, axis=0) / np.arange(1, len(W) + 1, dtype=W.dtype).reshape(shape)
    beta = check_number("beta", beta, low=0, high=1, high_open=True)
    out = np.empty_like(W)
    out[0] = W[0]
    for j in range(1, len(W)):
        out[j] = beta * out[j - 1] + (1 - beta) * W[j]
    return out


class ParameterAverage:
    """Polyak averaging of a list of parameter arrays, updated after every optimizer step:
    `avg.update(params)`; `avg.average` is the list of averages (None before the first update)."""

    def __init__(self, beta=None):
        self.beta = None if beta is None else check_number("beta", beta, low=0, high=1, high_open=True)
        self.average, self.n = None, 0

    def update(self, params):
        check_type("params", params, (list, tuple), "a list of parameter arrays")
        params = [check_array(f"params[{i}]", p, finite=False) for i, p in enumerate(params)]
        if self.average is None:
            self.average = [p.copy() for p in params]
        else:
            if len(params) != len(self.average) or any(p.shape != a.shape for p, a in zip(params, self.average)):
                raise ValueError(f"expected the shapes of the first update {[a.shape for a in self.average]}, "
                                 f"got {[p.shape for p in params]}")
            for a, p in zip(self.average, params):
                a += (p - a) / (self.n + 1) if self.beta is None else (1 - self.beta) * (p - a)
        self.n += 1
        return self.average
