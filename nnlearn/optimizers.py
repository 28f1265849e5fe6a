"""First-order optimizers from scratch in numpy, one shared interface, PyTorch's conventions.

    opt = Adam(lr=1e-3)
    for ...:
        loss, grads = ...                      # one gradient per parameter array
        opt.step(params, grads)                # updates every array of params in place

State (momentum buffers, running averages) is kept per parameter array, keyed by its position
in the list, so pass the same list in the same order at every step. `lr` is a number or a
schedule k -> lr_k (k = 0, 1, ...: the step about to be taken, as torch's lr_scheduler sets it).
Each rule is written as torch.optim writes it (where weight decay enters, where eps sits,
the first momentum buffer), so the two agree step for step; tests/test_optimizers.py proves it.
A float32 parameter stays float32. NaN from a diverging run propagates: it is a result.
"""
import numpy as np

from .optim import as_schedule
from .validate import check_number, check_type, describe


class Optimizer:
    """The shared interface; subclasses write `_update(p, g, state, lr)` for one array."""

    def __init__(self, lr, weight_decay=0.0):
        self.lr = as_schedule(lr)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0)
        self.state, self.t = {}, 0                     # per-array state; steps taken

    def step(self, params, grads):
        """One step on every array of `params` (updated in place and returned)."""
        check_type("params", params, (list, tuple), "a list of float arrays, e.g. [W_1, W_2, b_1, b_2]")
        check_type("grads", grads, (list, tuple), "a list of gradients, one per parameter")
        if len(grads) != len(params) or not params:
            raise ValueError(f"expected grads to hold one gradient per parameter ({len(params)} in params), "
                             f"got {len(grads)}")
        if self.state and len(self.state) != len(params):
            raise ValueError(f"expected params to hold the {len(self.state)} arrays of the first step, got {len(params)}")
        for i, (p, g) in enumerate(zip(params, grads)):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"expected params[{i}] to be a float numpy array (updated in place), got {describe(p)}")
            if np.shape(g) != p.shape:
                raise ValueError(f"expected grads[{i}] of shape {p.shape} (the shape of params[{i}]), "
                                 f"got shape {np.shape(g)}")
        lr = check_number(f"lr (the schedule's lr_{self.t})", self.lr(self.t), low=0, low_open=True)
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            g = np.asarray(g, dtype=p.dtype)
            if self.weight_decay and not getattr(self, "decoupled", False):
                g = g + self.weight_decay * p              # L2 penalty wd |p|^2 / 2 in the gradient
            self._update(p, g, self.state.setdefault(i, {}), lr)
        return params


class SGD(Optimizer):
    """buf = momentum buf + (1 - dampening) g (buf = g at the first step); p -= lr (g + momentum buf)
    with nesterov, else p -= lr buf. The learning rate multiplies the buffer, not the gradient."""

    def __init__(self, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_open=True)
        self.dampening = check_number("dampening", dampening, low=0, high=1)
        self.nesterov = check_type("nesterov", nesterov, bool, "True or False")
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(f"Nesterov momentum needs momentum > 0 and dampening = 0, got momentum = {momentum}, "
                             f"dampening = {dampening}")

    def _update(self, p, g, state, lr):
        if self.momentum:
            if "buf" not in state:
                state["buf"] = g.copy()
            else:
                state["buf"] = self.momentum * state["buf"] + (1 - self.dampening) * g
            g = g + self.momentum * state["buf"] if self.nesterov else state["buf"]
        p -= lr * g


class HeavyBall(Optimizer):
    """The textbook form of momentum (Polyak 1964; Rumelhart et al. 1986): v = momentum v - lr g,
    p += v. With a constant lr it is torch's SGD(momentum) with v = -lr buf; with a schedule it
    is not: here old velocities keep the old learning rates."""

    def __init__(self, lr, momentum=0.9):
        super().__init__(lr)
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_open=True)

    def _update(self, p, g, state, lr):
        state["v"] = self.momentum * state.get("v", 0.0) - lr * g
        p += state["v"]


class Adagrad(Optimizer):
    """sum += g^2 (from initial_accumulator_value); p -= lr_k g / (sqrt(sum) + eps) with
    lr_k = lr / (1 + (t - 1) lr_decay) at step t = 1, 2, ... (Duchi et al. 2011)."""

    def __init__(self, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(lr, weight_decay)
        self.lr_decay = check_number("lr_decay", lr_decay, low=0)
        self.initial = check_number("initial_accumulator_value", initial_accumulator_value, low=0)
        self.eps = check_number("eps", eps, low=0)

    def _update(self, p, g, state, lr):
        if "sum" not in state:
            state["sum"] = np.full_like(p, self.initial)
        state["sum"] = state["sum"] + g * g
        p -= lr / (1 + (self.t - 1) * self.lr_decay) * g / (np.sqrt(state["sum"]) + self.eps)


class RMSprop(Optimizer):
    """sq = alpha sq + (1 - alpha) g^2; centered: avg_g = alpha avg_g + (1 - alpha) g and the
    denominator is sqrt(sq - avg_g^2) + eps, else sqrt(sq) + eps (Hinton 2012, Graves 2013);
    with momentum buf = momentum buf + g / denominator and p -= lr buf, else p -= lr g / denominator."""

    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(lr, weight_decay)
        self.alpha = check_number("alpha", alpha, low=0, high=1)
        self.eps = check_number("eps", eps, low=0)
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_open=True)
        self.centered = check_type("centered", centered, bool, "True or False")

    def _update(self, p, g, state, lr):
        a = self.alpha
        state["sq"] = a * state.get("sq", 0.0) + (1 - a) * g * g
        if self.centered:
            state["avg_g"] = a * state.get("avg_g", 0.0) + (1 - a) * g
            denominator = np.sqrt(state["sq"] - state["avg_g"] ** 2) + self.eps
        else:
            denominator = np.sqrt(state["sq"]) + self.eps
        if self.momentum:
            state["buf"] = self.momentum * state.get("buf", 0.0) + g / denominator
            p -= lr * state["buf"]
        else:
            p -= lr * g / denominator


class Adadelta(Optimizer):
    """sq = rho sq + (1 - rho) g^2; delta = sqrt(acc + eps) / sqrt(sq + eps) g;
    acc = rho acc + (1 - rho) delta^2; p -= lr delta (Zeiler 2012, whose lr is 1)."""

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.rho = check_number("rho", rho, low=0, high=1)
        self.eps = check_number("eps", eps, low=0, low_open=True)

    def _update(self, p, g, state, lr):
        rho = self.rho
        state["sq"] = rho * state.get("sq", 0.0) + (1 - rho) * g * g
        delta = np.sqrt(state.get("acc", 0.0) + self.eps) / np.sqrt(state["sq"] + self.eps) * g
        state["acc"] = rho * state.get("acc", 0.0) + (1 - rho) * delta * delta
        p -= lr * delta


class Adam(Optimizer):
    """m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t),
    p -= lr m_hat / (sqrt(v_hat) + eps) (Kingma and Ba 2015). weight_decay adds wd p to g (L2,
    then rescaled by 1 / sqrt(v_hat) like the rest of g); decoupled=True (AdamW) shrinks p by
    (1 - lr wd) instead, before the step (Loshchilov and Hutter 2019)."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        super().__init__(lr, weight_decay)
        check_type("betas", betas, (tuple, list), "a pair (beta1, beta2)")
        if len(betas) != 2:
            raise ValueError(f"expected betas to be a pair (beta1, beta2), got {len(betas)} numbers")
        self.betas = tuple(check_number(f"betas[{i}]", b, low=0, high=1, high_open=True) for i, b in enumerate(betas))
        self.eps = check_number("eps", eps, low=0)
        self.decoupled = check_type("decoupled", decoupled, bool, "True or False")

    def _update(self, p, g, state, lr):
        (b1, b2), t = self.betas, self.t
        if self.decoupled:
            p *= 1 - lr * self.weight_decay
        state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        m_hat, v_hat = state["m"] / (1 - b1 ** t), state["v"] / (1 - b2 ** t)
        p -= lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr wd, then the Adam step on the loss alone."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(lr, betas, eps, weight_decay, decoupled=True)


OPTIMIZERS = {"sgd": SGD, "heavy_ball": HeavyBall, "adagrad": Adagrad, "rmsprop": RMSprop, "adadelta": Adadelta,
              "adam": Adam, "adamw": AdamW}
