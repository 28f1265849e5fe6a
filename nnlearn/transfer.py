"""Transfer learning: reuse a trained body for a new task.

A transfer model is an nn.Sequential with two named children, `body` (the layers that make the
features) and `head` (the last, task-specific layer), so that "the head" is a name:

    source = make_net(784, [256, 64], 5, seed=0)       # trained on the source task
    model = adapt(source, X, y, 5, "features", epochs=100, lr=1e-2)

- feature extraction ("features"): the source body frozen, a new head trained;
- fine-tuning ("finetune"): source body and new head both trained, the body at a smaller rate;
- from scratch ("scratch"): the same layout, fresh weights, everything trained.
"""
import copy
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from .training import _model, fit, reset_parameters
from .validate import (check_array, check_choice, check_labels, check_number, check_positive, check_rng,
                       check_same_length, check_type, describe)

MODES = ("features", "finetune", "scratch")


def make_net(n_in, hidden, n_out, seed):
    """body: Linear-ReLU for each width in `hidden`; head: Linear(hidden[-1], n_out); weights from torch seed."""
    n_in, n_out = check_positive("n_in", n_in, integer=True), check_positive("n_out", n_out, integer=True)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (list, tuple)):
        raise TypeError(f"expected hidden to be a list of layer widths, got {describe(hidden)}")
    if not hidden:
        raise ValueError("expected hidden to list at least one layer width (the body), got []")
    widths = [n_in] + [check_positive(f"hidden[{i}]", h, integer=True) for i, h in enumerate(hidden)]
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(OrderedDict(body=nn.Sequential(*layers), head=nn.Linear(widths[-1], n_out)))
    return reset_parameters(model, seed)


def count_parameters(model, trainable=True):
    """Number of scalar parameters: those with requires_grad (trainable=True) or all of them."""
    check_type("trainable", trainable, bool, "True or False")
    return sum(p.numel() for p in _model(model).parameters() if p.requires_grad or not trainable)


def _head(model, head):
    check_type("head", head, str, "the name of a child module, e.g. 'head'")
    children = dict(_model(model).named_children())
    if head not in children:
        raise ValueError(f"expected head to name a child module of model, one of {sorted(children)}, got {head!r}")
    return children[head]


def freeze_all_but(model, head):
    """Freeze every parameter outside the child module `head` (requires_grad=False), unfreeze those
    inside; returns the number of trainable parameters left."""
    keep = {id(p) for p in _head(model, head).parameters()}
    for p in model.parameters():
        p.requires_grad_(id(p) in keep)
    return count_parameters(model)


def param_groups(model, head, lr_body, lr_head):
    """Two parameter groups for a torch.optim optimizer: the body at lr_body, the head at lr_head."""
    lr_body, lr_head = check_positive("lr_body", lr_body), check_positive("lr_head", lr_head)
    keep = {id(p) for p in _head(model, head).parameters()}
    return [{"params": [p for p in model.parameters() if id(p) not in keep], "lr": lr_body},
            {"params": [p for p in model.parameters() if id(p) in keep], "lr": lr_head}]


def few_shot(y, n_per_class, rng):
    """Sorted indices of n_per_class examples of every class in y, drawn without replacement with rng."""
    y = check_array("y", check_labels("y", y), kind="int")          # non-empty
    n_per_class, rng = check_positive("n_per_class", n_per_class, integer=True), check_rng("rng", rng)
    picked = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        if len(rows) < n_per_class:
            raise ValueError(f"expected n_per_class <= {len(rows)}, the examples of class {c} in y, got {n_per_class}")
        picked.append(rng.choice(rows, size=n_per_class, replace=False))
    return np.sort(np.concatenate(picked))


def adapt(source, X, y, n_classes, mode, *, epochs, lr, body_lr_factor=0.1, seed=0):
    """A model for the target task (X, y) built from `source` (make_net's layout), trained full batch
    with Adam for `epochs` steps. mode: "features" (source body frozen, new head at lr), "finetune"
    (source body at lr * body_lr_factor, new head at lr) or "scratch" (fresh weights, all at lr).
    The new head and a fresh body are drawn from torch seed `seed`; `source` is left unchanged."""
    check_type("source", source, nn.Module, "a torch.nn.Module with children body and head (make_net)")
    children = dict(source.named_children())
    if not {"body", "head"} <= set(children) or not isinstance(children["head"], nn.Linear):
        raise TypeError(f"expected source to have children body and head = nn.Linear (make_net's layout), got "
                        f"{type(source).__name__} with children {sorted(children)}")
    head = children["head"]
    check_choice("mode", mode, MODES)
    n_classes = check_positive("n_classes", n_classes, integer=True)
    X, y = check_array("X", X, min_ndim=2), check_labels("y", y, n_classes)
    check_same_length("X", X, "y", y)
    lr = check_positive("lr", lr)
    factor = check_number("body_lr_factor", body_lr_factor, low=0, high=1, low_open=True)
    model = copy.deepcopy(source)
    model.head = reset_parameters(nn.Linear(head.in_features, n_classes), seed)
    if mode == "scratch":
        reset_parameters(model.body, seed + 1)
    p = next(source.parameters())
    model.to(p.device)
    if mode == "features":
        freeze_all_but(model, "head")
        groups = [{"params": list(model.head.parameters()), "lr": lr}]
    else:
        groups = param_groups(model, "head", lr * factor if mode == "finetune" else lr, lr)
    fit(model, X, y, epochs=epochs, optimizer=_adam(groups), seed=seed, progress=False)
    return model


def _adam(groups):
    """torch.optim.Adam, fused (one kernel for all parameters: about twice as fast for these small
    models on a CPU) where this torch supports it; the plain implementation otherwise."""
    try:
        return torch.optim.Adam(groups, fused=True)
    except (RuntimeError, TypeError):                   # torch < 2.4 on a CPU
        return torch.optim.Adam(groups)


def body_features(model, X):
    """The body's outputs (the features the head sees) for X, as a numpy array."""
    body = dict(_model(model).named_children()).get("body")
    if body is None:
        raise ValueError(f"expected model to have a child module 'body' (make_net's layout), got {type(model).__name__}")
    p = next(model.parameters())
    n_in = next(m.in_features for m in body.modules() if isinstance(m, nn.Linear))
    X = torch.as_tensor(check_array("X", X, shape=("n", n_in), match="the body's first layer"), dtype=p.dtype,
                        device=p.device)
    with torch.no_grad():
        return body(X).cpu().numpy()


def pca_2d(F):
    """Coordinates of the rows of F on their first two principal axes (centred; each axis signed
    so that its largest-magnitude loading is positive, as scikit-learn's PCA does)."""
    F = check_array("F", F, ndim=2)
    if F.shape[0] < 2 or F.shape[1] < 2:
        raise ValueError(f"expected F of shape (n, d) with n, d >= 2, got shape {F.shape}")
    C = F - F.mean(axis=0)
    _, _, Vt = np.linalg.svd(C, full_matrices=False)
    V = Vt[:2]
    V = V * np.sign(V[np.arange(2), np.abs(V).argmax(axis=1)])[:, None]
    return C @ V.T
