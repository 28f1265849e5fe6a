"""Hyperparameter search from scratch: grid, random (log-uniform), successive halving, Hyperband.

Configurations live in the unit cube [0, 1]^d; a chapter maps each coordinate to a hyperparameter
(a learning rate as 10**(-4 + 3u), a width as round(2**(4 + 4u)), ...). Every search returns its
trace: three arrays `ids, budgets, losses`, one entry per evaluation, in the order they ran. We
minimise: a loss is a validation loss or error, lower is better.
"""
import itertools

import numpy as np

from .validate import check_array, check_callable, check_number, check_positive, check_rng, check_type


def log_uniform(low, high, size, rng):
    """`size` numbers whose logarithm is uniform on [log low, log high] (0 < low < high)."""
    low = check_number("low", low, low=0, low_open=True)
    high = check_number("high", high, low=low, low_open=True)
    check_positive("size", size, integer=True)
    check_rng("rng", rng)
    return np.exp(rng.uniform(np.log(low), np.log(high), size=size))


def grid_points(levels, d):
    """The full grid of `levels`**d points in [0, 1]^d, every axis at the cell centres (i + 1/2) / levels."""
    check_positive("levels", levels, integer=True)
    check_positive("d", d, integer=True)
    axis = (np.arange(levels) + 0.5) / levels
    return np.array(list(itertools.product(axis, repeat=d)))


def hyperband_schedule(R, eta=3):
    """The brackets of Hyperband (Li et al. 2018, Algorithm 1) for maximum budget R and ratio eta.

    s_max = floor(log_eta R), B = (s_max + 1) R; bracket s = s_max, ..., 0 starts n = ceil(B eta^s / (R (s + 1)))
    configurations at budget r = R eta^-s; rung i = 0..s evaluates n_i = floor(n eta^-i) of them at
    r_i = r eta^i. Returns [[(n_0, r_0), ..., (n_s, r_s)] for s = s_max, ..., 0], with integer n_i."""
    R = check_number("R", R, low=1)
    eta = check_number("eta", eta, low=2, integer=True)
    s_max = 0
    while eta ** (s_max + 1) <= R * (1 + 1e-12):          # floor(log_eta R) without rounding error
        s_max += 1
    brackets = []
    for s in range(s_max, -1, -1):
        n = -(-(s_max + 1) * eta ** s // (s + 1))          # ceil((B / R) eta^s / (s + 1)), in integers
        brackets.append([(n // eta ** i, R * float(eta) ** (i - s)) for i in range(s + 1)])
    return brackets


def successive_halving(evaluate, ids, r, eta, n_rungs):
    """One bracket: evaluate all `ids` at budget r, keep the floor(n_i / eta) with the lowest losses,
    evaluate them at r eta, ... for n_rungs rungs. `evaluate(ids, budget)` returns their losses.
    Returns the trace (ids, budgets, losses) of every evaluation."""
    check_callable("evaluate", evaluate)
    ids = check_array("ids", ids, ndim=1, kind="int")
    r = check_number("r", r, low=0, low_open=True)
    eta = check_number("eta", eta, low=2, integer=True)
    n_rungs = check_positive("n_rungs", n_rungs, integer=True)
    return _successive_halving(evaluate, ids, r, eta, n_rungs)


def _successive_halving(evaluate, ids, r, eta, n_rungs):
    trace = ([], [], [])
    for i in range(n_rungs):
        if len(ids) == 0:
            break
        budget = r * float(eta) ** i
        losses = np.asarray(evaluate(ids, budget), dtype=float)
        for part, values in zip(trace, (ids, np.full(len(ids), budget), losses)):
            part.append(values)
        ids = ids[np.argsort(losses, kind="stable")[:len(ids) // eta]]
    return tuple(np.concatenate(part) for part in trace)


def hyperband(sample, evaluate, R, eta=3):
    """All brackets of Hyperband, most aggressive first. `sample(n)` draws n new configurations and
    returns their integer ids; `evaluate(ids, budget)` returns losses. Returns the trace."""
    check_callable("sample", sample)
    check_callable("evaluate", evaluate)
    traces = []
    for bracket in hyperband_schedule(R, eta):
        (n, r) = bracket[0]
        ids = np.asarray(sample(n), dtype=int)
        traces.append(_successive_halving(evaluate, ids, r, eta, len(bracket)))
    return tuple(np.concatenate([t[k] for t in traces]) for k in range(3))


def best_so_far(ids, budgets, losses, R, resume=False):
    """(spent, incumbent, best): after each evaluation, the budget spent so far, the id of the
    configuration with the lowest loss among those evaluated at the full budget R (-1 before the
    first) and that loss (inf before). With resume=True an evaluation costs only the budget beyond
    the same id's last one (training continued); otherwise it costs its whole budget."""
    ids = check_array("ids", ids, ndim=1, kind="int")
    budgets = check_array("budgets", budgets, shape=(len(ids),))
    losses = check_array("losses", losses, shape=(len(ids),), finite="no-nan")
    R = check_number("R", R, low=0, low_open=True)
    check_type("resume", resume, bool, "True or False")
    last, cost = {}, np.empty(len(ids))
    for k, (i, b) in enumerate(zip(ids.tolist(), budgets)):
        cost[k] = b - last.get(i, 0.0) if resume else b
        last[i] = b
    incumbent, best = np.full(len(ids), -1), np.full(len(ids), np.inf)
    current, value = -1, np.inf
    for k in range(len(ids)):
        if budgets[k] >= R * (1 - 1e-9) and losses[k] < value:
            current, value = int(ids[k]), float(losses[k])
        incumbent[k], best[k] = current, value
    return np.cumsum(cost), incumbent, best


def toy_true_loss(U, center, weights):
    """The loss a configuration reaches with the full budget: sum_k weights_k (u_k - center_k)^2."""
    U = check_array("U", U, ndim=2)
    center = check_array("center", center, shape=(U.shape[1],), match=f"U of shape {U.shape}")
    weights = check_array("weights", weights, shape=(U.shape[1],), match=f"U of shape {U.shape}")
    if (weights < 0).any():
        raise ValueError(f"expected weights >= 0, got {weights}")
    return ((U - center) ** 2) @ weights


def toy_loss(U, budget, center, weights, R, rng, noise=0.1):
    """A noisy learning-curve stand-in: the loss of configurations U after `budget` units of training,
    true loss + 0.5 u_0 (budget^-1/2 - R^-1/2) + noise budget^-1/2 * N(0, 1). The bias vanishes at
    budget R; the noise shrinks with the budget, as an estimate from more training does."""
    g = toy_true_loss(U, center, weights)
    budget = check_number("budget", budget, low=0, low_open=True)
    R = check_number("R", R, low=budget)
    check_rng("rng", rng)
    noise = check_number("noise", noise, low=0)
    U = np.asarray(U, dtype=float)
    return g + 0.5 * U[:, 0] * (budget ** -0.5 - R ** -0.5) + noise * budget ** -0.5 * rng.standard_normal(len(U))
