"""Optimizers on a real network: chapter 4's numpy MLP trained with any optimizer of
nnlearn.optimizers, the step-for-step check against torch.optim, and a fair race (each
optimizer's learning rate tuned on a validation split, then several seeds).

Parameters are the list [W_1, ..., W_L, b_1, ..., b_L] of nnlearn.backprop.
"""
import numpy as np

from .backprop import _forward, _loss_and_gradients, _phis
from .losses import get_loss
from .mlp import init_parameters
from .optim import minibatches
from .stabilizers import clip_by_global_norm
from .validate import (check_array, check_callable, check_choice, check_labels, check_number, check_positive, check_rng,
                       check_same_length, check_type, check_widths, describe)


def _check_optimizer(optimizer):
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"expected optimizer to be an nnlearn.optimizers optimizer, got {describe(optimizer)}")


def step_for_step(optimizer, make_torch, widths, n_steps, rng, n=37, batch_size=8, max_norm=None,
                  activation="tanh"):
    """Train an MLP of `widths` in float64 twice on the same mini-batches of a random problem: with
    `optimizer` (ours; gradients from nnlearn.backprop) and with make_torch(params), a torch.optim
    optimizer over the torch copies (gradients from torch.autograd); with `max_norm`, gradients
    clipped by global norm on both sides (clip_grad_norm_ for torch). Returns the largest
    |ours - torch| over all parameters after each step, an array of n_steps numbers."""
    import torch

    _check_optimizer(optimizer)
    check_callable("make_torch", make_torch)
    widths, rng = check_widths(widths), check_rng("rng", rng)
    n_steps, n = check_positive("n_steps", n_steps, integer=True), check_positive("n", n, integer=True)
    batch_size = check_number("batch_size", batch_size, low=1, high=n, integer=True)
    if max_norm is not None:
        check_positive("max_norm", max_norm)
    activation = check_choice("activation", activation, ("tanh", "relu"))
    X, labels = rng.standard_normal((n, widths[0])), rng.integers(0, widths[-1], n)
    Y = np.eye(widths[-1])[labels]
    weights, biases = init_parameters(widths, rng)
    ours = [p.copy() for p in weights + biases]
    theirs = [torch.tensor(p, requires_grad=True) for p in weights + biases]
    torch_opt, L = make_torch(theirs), len(weights)
    cost, phis = get_loss("softmax_cross_entropy"), _phis(L, activation, "identity")
    act = {"tanh": torch.tanh, "relu": torch.relu}[activation]
    diffs, batches = [], []
    while len(batches) < n_steps:
        batches += list(minibatches(n, batch_size, rng))
    for idx in batches[:n_steps]:
        _, dWs, dbs = _loss_and_gradients(X[idx], Y[idx], ours[:L], ours[L:], cost, phis)
        grads = dWs + dbs
        if max_norm is not None:
            grads, _ = clip_by_global_norm(grads, max_norm)
        optimizer.step(ours, grads)
        torch_opt.zero_grad()
        H = torch.from_numpy(X[idx])
        for p in range(L):
            H = H @ theirs[p].T + theirs[L + p]
            H = act(H) if p < L - 1 else H
        torch.nn.functional.cross_entropy(H, torch.from_numpy(labels[idx])).backward()
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(theirs, max_norm)
        torch_opt.step()
        diffs.append(max(float(np.max(np.abs(a - b.detach().numpy()))) for a, b in zip(ours, theirs)))
    return np.array(diffs)


def train_mlp(X, y, X_val, y_val, widths, optimizer, *, epochs, batch_size, rng, activation="relu"):
    """Train a fresh MLP (init from `rng`) with `optimizer` on (X, y), integer labels; returns
    {"train_loss": mean batch loss per epoch, "val_loss", "val_accuracy": after each epoch}. A run
    whose loss becomes NaN or inf stops and reports inf."""
    widths, rng = check_widths(widths), check_rng("rng", rng)
    _check_optimizer(optimizer)
    X, X_val = check_array("X", X, shape=("n", widths[0])), check_array("X_val", X_val, shape=("n", widths[0]))
    y, y_val = check_labels("y", y, n_classes=widths[-1]), check_labels("y_val", y_val, n_classes=widths[-1])
    check_same_length("X", X, "y", y)
    check_same_length("X_val", X_val, "y_val", y_val)
    activation = check_choice("activation", activation, ("tanh", "relu"))
    epochs, batch_size = check_positive("epochs", epochs, integer=True), check_positive("batch_size", batch_size, integer=True)
    eye = np.eye(widths[-1], dtype=X.dtype)
    Y, Y_val = eye[y], eye[y_val]
    weights, biases = init_parameters(widths, rng, dtype=X.dtype)
    params, L = weights + biases, len(weights)
    cost, phis = get_loss("softmax_cross_entropy"), _phis(L, activation, "identity")
    history = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    for _ in range(epochs):
        losses = []
        for idx in minibatches(len(X), batch_size, rng):
            value, dWs, dbs = _loss_and_gradients(X[idx], Y[idx], params[:L], params[L:], cost, phis)
            optimizer.step(params, dWs + dbs)
            losses.append(value)
        with np.errstate(all="ignore"):
            H = _forward(X_val, params[:L], params[L:], phis)[0]
            val_loss = float(cost.unchecked(H, Y_val)[0])
        ok = np.isfinite(val_loss) and np.isfinite(np.mean(losses))
        history["train_loss"].append(float(np.mean(losses)) if ok else np.inf)
        history["val_loss"].append(val_loss if ok else np.inf)
        history["val_accuracy"].append(float(np.mean(H.argmax(axis=1) == y_val)) if ok else 0.0)
        if not ok:
            break
    while len(history["val_loss"]) < epochs:                 # a diverged run: pad
        for key, value in (("train_loss", np.inf), ("val_loss", np.inf), ("val_accuracy", 0.0)):
            history[key].append(value)
    return history


def race(X, y, X_val, y_val, widths, candidates, *, sweep_epochs, epochs, batch_size, seeds, progress=True):
    """For every name -> (make(lr), learning rates) in `candidates`: the learning rate with the
    lowest validation loss after `sweep_epochs` (seed 0), then a run of `epochs` for each seed.
    Returns {name: {"lr": best lr, "sweep": {lr: final val loss}, "runs": [history per seed]}}."""
    from tqdm.auto import tqdm

    sweep_epochs, epochs = check_positive("sweep_epochs", sweep_epochs, integer=True), check_positive("epochs", epochs, integer=True)
    check_type("candidates", candidates, dict, "a dict {name: (make(lr), learning rates)}")
    if not candidates:
        raise ValueError("expected candidates to hold at least one optimizer, got an empty dict")
    for name, pair in candidates.items():
        if not (isinstance(pair, tuple) and len(pair) == 2 and callable(pair[0]) and len(pair[1]) > 0):
            raise TypeError(f"expected candidates[{name!r}] to be a pair (make(lr), a list of learning rates), "
                             f"got {describe(pair)}")
    check_type("seeds", seeds, (list, tuple), "a list of seeds")
    seeds = [check_number(f"seeds[{i}]", s, low=0, integer=True) for i, s in enumerate(seeds)]
    check_type("progress", progress, bool, "True or False")
    jobs = sum(len(lrs) + len(seeds) for _, lrs in candidates.values())
    bar, results = tqdm(total=jobs, desc="race", disable=not progress), {}
    for name, (make, lrs) in candidates.items():
        sweep = {}
        for lr in lrs:
            h = train_mlp(X, y, X_val, y_val, widths, make(lr), epochs=sweep_epochs, batch_size=batch_size,
                          rng=np.random.default_rng(0))
            sweep[lr] = h["val_loss"][-1]
            bar.update()
        best = min(sweep, key=sweep.get)
        runs = []
        for seed in seeds:
            runs.append(train_mlp(X, y, X_val, y_val, widths, make(best), epochs=epochs, batch_size=batch_size,
                                  rng=np.random.default_rng(seed + 1)))
            bar.update()
        results[name] = {"lr": best, "sweep": sweep, "runs": runs}
    bar.close()
    return results
