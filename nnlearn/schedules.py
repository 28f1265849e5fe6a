"""Learning-rate schedules k -> lr_k, k = 0, 1, ... the index of the step about to be taken.

Each equals a torch.optim.lr_scheduler stepped once after every optimizer step (tested):
step_decay = StepLR, cosine_decay = CosineAnnealingLR, linear_warmup = LinearLR; the
exponential and 1/t schedules of chapter 3 live in nnlearn.optim (ExponentialLR, LambdaLR).
Any of them can be passed as `lr` to an optimizer of nnlearn.optimizers.
"""
import math

from .optim import exponential_decay, inverse_decay
from .validate import check_number, check_positive

__all__ = ["step_decay", "cosine_decay", "linear_warmup", "exponential_decay", "inverse_decay"]


def step_decay(lr0, step_size, gamma=0.1):
    """lr_k = lr0 gamma^floor(k / step_size): multiplied by gamma every step_size steps."""
    lr0, step_size = check_positive("lr0", lr0), check_positive("step_size", step_size, integer=True)
    gamma = check_number("gamma", gamma, low=0, high=1, low_open=True)
    return lambda k: lr0 * gamma ** (k // step_size)


def cosine_decay(lr0, n_steps, lr_min=0.0):
    """lr_k = lr_min + (lr0 - lr_min) (1 + cos(pi k / n_steps)) / 2: from lr0 at k = 0 down to
    lr_min at k = n_steps, along half a cosine (Loshchilov and Hutter 2017, without restarts)."""
    lr0, n_steps = check_positive("lr0", lr0), check_positive("n_steps", n_steps, integer=True)
    lr_min = check_number("lr_min", lr_min, low=0, high=lr0)
    return lambda k: lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * k / n_steps)) / 2


def linear_warmup(lr0, n_steps, start_factor=1 / 3):
    """lr_k = lr0 (s + (1 - s) min(k, n_steps) / n_steps) with s = start_factor: a linear ramp
    from s lr0 to lr0 over the first n_steps steps, then constant (Goyal et al. 2017)."""
    lr0, n_steps = check_positive("lr0", lr0), check_positive("n_steps", n_steps, integer=True)
    s = check_number("start_factor", start_factor, low=0, high=1, low_open=True)
    return lambda k: lr0 * (s + (1 - s) * min(k, n_steps) / n_steps)
