"""Federated averaging (McMahan et al. 2017): how clients' data are split, how their models are
averaged, what a round costs, and a differentially private variant of the average.

    parts = dirichlet_split(y, n_clients=10, alpha=0.3, rng=rng)   # label skew, every example once
    state = fedavg([client_a.state_dict(), client_b.state_dict()], sizes=[120, 80])

The aggregation rule (fedavg): every floating entry of the state dicts becomes the weighted mean
sum_k (n_k / n) theta_k, in its own dtype; an integer entry (a counter such as BatchNorm's
num_batches_tracked) becomes the weighted mean rounded to the nearest integer (half to even), in
its own integer dtype.
"""
import numpy as np
import torch

from .validate import check_array, check_labels, check_number, check_positive, check_rng, check_type, describe


def dirichlet_split(y, n_clients, alpha, rng):
    """Label-skewed partition of range(len(y)) into n_clients sorted index arrays.

    For each class c in increasing order: draw shares p ~ Dirichlet(alpha, ..., alpha) with rng,
    shuffle the indices of class c with rng.permutation, and cut them at floor(cumsum(p) * n_c),
    client k taking the k-th piece. Small alpha: each class lands on few clients; large alpha:
    every client gets about n_c / n_clients of it. Every example goes to exactly one client
    (a client may get none)."""
    y = check_array("y", check_labels("y", y), kind="int")          # non-empty
    n_clients = check_positive("n_clients", n_clients, integer=True)
    alpha, rng = check_positive("alpha", alpha), check_rng("rng", rng)
    parts = [[] for _ in range(n_clients)]
    for c in np.unique(y):
        p = rng.dirichlet(np.full(n_clients, alpha))
        rows = rng.permutation(np.flatnonzero(y == c))
        cuts = np.floor(np.cumsum(p)[:-1] * len(rows)).astype(int)
        for k, piece in enumerate(np.split(rows, cuts)):
            parts[k].append(piece)
    return [np.sort(np.concatenate(piece)).astype(np.int64) for piece in parts]


def _states(states):
    if isinstance(states, dict) or not isinstance(states, (list, tuple)):
        raise TypeError(f"expected states to be a list of state dicts, one per client, got {describe(states)}")
    if not states:
        raise ValueError("expected states to hold at least one client's state dict, got []")
    first = states[0]
    for k, state in enumerate(states):
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise TypeError(f"expected states[{k}] to be a state dict {{name: tensor}}, got {describe(state)}")
        if list(state) != list(first):
            raise ValueError(f"expected states[{k}] to have the keys of states[0] {list(first)}, got {list(state)}")
        for name, t in state.items():
            if t.shape != first[name].shape or t.dtype != first[name].dtype:
                raise ValueError(f"expected states[{k}][{name!r}] of shape {tuple(first[name].shape)} and dtype "
                                 f"{first[name].dtype} like states[0], got {tuple(t.shape)} and {t.dtype}")
            if t.is_floating_point() and not bool(t.isfinite().all()):
                raise ValueError(f"expected states[{k}][{name!r}] to be finite (no NaN or inf)")
    return states


def fedavg(states, sizes):
    """The weighted average of client state dicts, weights n_k / sum(n): see the module docstring
    for the rule. states: a list of state dicts with the same keys, shapes and dtypes; sizes: the
    number of training examples n_k of each client (integers >= 0, not all zero)."""
    states = _states(states)
    sizes = check_array("sizes", sizes, shape=(len(states),), kind="int", match=f"states ({len(states)} clients)")
    if (sizes < 0).any() or sizes.sum() == 0:
        raise ValueError(f"expected sizes to be >= 0 and not all zero, got {sizes.tolist()}")
    out = {}
    for name, ref in states[0].items():
        w = torch.as_tensor(sizes / sizes.sum(), dtype=torch.float64, device=ref.device)
        mean = torch.tensordot(w, torch.stack([s[name].to(torch.float64) for s in states]), dims=1)
        out[name] = mean.to(ref.dtype) if ref.is_floating_point() else torch.round(mean).to(ref.dtype)
    return out


def state_bytes(state):
    """Bytes needed to send a state dict's tensors (numel * element size, summed)."""
    check_type("state", state, dict, "a state dict {name: tensor}")
    if not all(isinstance(t, torch.Tensor) for t in state.values()):
        raise TypeError(f"expected state to be a state dict {{name: tensor}}, got {describe(state)}")
    return int(sum(t.numel() * t.element_size() for t in state.values()))


def clip_and_noise(updates, clip, noise_multiplier, rng):
    """Differentially private aggregation of K client updates (rows of `updates`, shape (K, d)):
    scale each row to L2 norm at most `clip` (u * min(1, clip / ||u||)), average the rows, add
    Gaussian noise of standard deviation noise_multiplier * clip / K to every coordinate, drawn as
    rng.standard_normal(d). The dtype of `updates` is kept."""
    U = check_array("updates", updates, ndim=2)
    clip = check_positive("clip", clip)
    sigma = check_number("noise_multiplier", noise_multiplier, low=0)
    rng = check_rng("rng", rng)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    clipped = U * np.minimum(1.0, clip / np.maximum(norms, np.finfo(U.dtype).tiny))
    noise = rng.standard_normal(U.shape[1]) * (sigma * clip / len(U))
    return (clipped.mean(axis=0) + noise).astype(U.dtype)
