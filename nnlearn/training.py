"""A small, device-agnostic training loop for torch models, and the numbers we judge them by.

`fit` runs mini-batch gradient descent with a progress bar; it trains on the device the model's
parameters live on. Randomness is explicit: the visiting order comes from a torch.Generator
seeded with `seed`, and `reset_parameters` draws initial weights from its own seed without
touching torch's global random state.
"""
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .validate import (check_array, check_callable, check_labels, check_number, check_positive, check_same_length,
                       check_tensor, check_type)


@dataclass
class History:
    loss: list = field(default_factory=list)             # mean training loss of each epoch
    train_accuracy: list = field(default_factory=list)   # accuracy on the batches as they were trained on
    val_loss: list = field(default_factory=list)         # after each epoch, when validation data are given
    val_accuracy: list = field(default_factory=list)
    seconds: float = 0.0


def reset_parameters(model, seed):
    """Re-draw every parameter with its module's default initialisation, from torch seed `seed`.
    Call it on the CPU, before moving the model: the same seed then gives the same weights on
    every device. torch's global random state is left as it was."""
    seed = check_number("seed", seed, low=0, integer=True)
    if any(p.device.type != "cpu" for p in _model(model).parameters()):
        raise ValueError("reset the parameters on the CPU, then move the model to its device")
    with torch.random.fork_rng(devices=[]):        # restores the CPU generator afterwards
        torch.default_generator.manual_seed(seed)   # the CPU generator only: GPU states stay untouched
        for module in model.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return model


def _model(model):
    check_type("model", model, torch.nn.Module, "a torch.nn.Module")
    if next(model.parameters(), None) is None:
        raise ValueError("expected model to have parameters, got a module without any")
    return model


def _model_device_dtype(model):
    p = next(_model(model).parameters())
    return p.device, p.dtype


def _tensor(name, X, device, min_ndim=1, kind="number"):
    """X (a numpy array, a list or a tensor on any device) checked: numbers, at least `min_ndim`
    axes, non-empty, finite; returned as a tensor on `device`."""
    if not torch.is_tensor(X):
        X = check_array(name, X, kind=kind)
        X = torch.as_tensor(X.astype(np.int64) if X.dtype.kind in "bu" else X)
    elif X.is_complex() or X.dtype == torch.bool:
        raise TypeError(f"expected {name} to hold real numbers, got a tensor of dtype {X.dtype}")
    return check_tensor(name, X, min_ndim=min_ndim).to(device)


def _inputs(X, device, dtype, name="X"):
    return _tensor(name, X, device, min_ndim=2).to(dtype)


def _targets(y, device, dtype, name="y"):
    """Float targets in the model's dtype; anything else becomes int64 class labels."""
    t = _tensor(name, y, device)
    return t.to(dtype) if t.is_floating_point() else t.long()


def outputs(model, X, batch_size=4096):
    """The model's outputs for X as a numpy array, computed without gradients, batch by batch."""
    device, dtype = _model_device_dtype(model)
    X, batch_size = _inputs(X, device, dtype), check_positive("batch_size", batch_size, integer=True)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = torch.cat([model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
    except RuntimeError as exc:
        raise ValueError(f"the model cannot take X of shape {tuple(X.shape)}: {exc}") from None
    finally:
        model.train(was_training)
    return out.cpu().numpy()


def predict(model, X, batch_size=4096):
    """Predicted class of every row of X: the index of the largest output."""
    return outputs(model, X, batch_size).argmax(axis=1)


def _pair(y_true, y_pred, kind="number"):
    y_true = check_array("y_true", y_true, ndim=1, kind=kind)
    y_pred = check_array("y_pred", y_pred, ndim=1, kind=kind)
    check_same_length("y_true", y_true, "y_pred", y_pred)
    return y_true, y_pred


def accuracy(y_true, y_pred):
    """The fraction of positions where y_true and y_pred agree."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, n_classes):
    """C[i, j] = number of examples of true class i predicted as class j (rows sum to class sizes)."""
    n_classes = check_positive("n_classes", n_classes, integer=True)
    y_true, y_pred = _pair(y_true, y_pred, kind="int")
    y_true, y_pred = check_labels("y_true", y_true, n_classes), check_labels("y_pred", y_pred, n_classes)
    return np.bincount(n_classes * y_true + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _check_targets(model, X, y, name, default_loss):
    """Run the model on one example (eval mode, no gradients) and check that y fits its outputs:
    class labels in 0..n_out-1, or float targets of the output's shape (F.mse_loss would broadcast)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(X[:1])
    except RuntimeError as exc:
        raise ValueError(f"the model cannot take X of shape {tuple(X.shape)}: {exc}") from None
    finally:
        model.train(was_training)
    if not default_loss:
        return
    if not y.is_floating_point():
        if y.dim() != 1 or out.dim() != 2:
            raise ValueError(f"expected class labels {name} of shape (n,) for outputs (n, n_classes), "
                             f"got {name} {tuple(y.shape)} and outputs {tuple(out.shape)}")
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= out.shape[1]:
            raise ValueError(f"expected {name} to hold labels in 0..{out.shape[1] - 1} (the model has {out.shape[1]} "
                             f"outputs), got labels from {low} to {high}")
    elif tuple(y.shape[1:]) != tuple(out.shape[1:]):
        raise ValueError(f"expected float targets {name} of shape (n, {', '.join(map(str, out.shape[1:]))}) like the "
                         f"model's outputs, got {tuple(y.shape)}")


def fit(model, X, y, *, epochs, lr=None, optimizer=None, batch_size=None, loss_fn=None, seed=0,
        X_val=None, y_val=None, progress=True, desc="training"):
    """Train `model` in place for `epochs` passes over (X, y) and return a History.

    batch_size=None trains on the full batch, in order; otherwise each epoch visits the examples
    in a fresh random order (from a torch.Generator seeded with `seed`) in batches of batch_size.
    `optimizer` is a torch.optim optimizer over model.parameters(); without one, plain SGD with
    learning rate `lr`. `loss_fn(outputs, targets)` defaults to cross-entropy for integer labels
    and to the mean squared error for float targets; accuracies are recorded for integer labels.
    The model is left in eval mode. Every argument is checked here, before the first step.
    """
    device, dtype = _model_device_dtype(model)
    X, y = _inputs(X, device, dtype), _targets(y, device, dtype)
    check_same_length("X", X, "y", y)
    epochs, seed = check_positive("epochs", epochs, integer=True), check_number("seed", seed, low=0, integer=True)
    if batch_size is not None:
        batch_size = check_positive("batch_size", batch_size, integer=True)
    if loss_fn is not None:
        check_callable("loss_fn", loss_fn)
    check_type("progress", progress, bool, "True or False")
    check_type("desc", desc, str, "a string")
    _check_targets(model, X, y, "y", loss_fn is None)
    if (X_val is None) != (y_val is None):
        raise ValueError("expected X_val and y_val together (both or neither), got only "
                         + ("X_val" if y_val is None else "y_val"))
    if X_val is not None:
        X_val, y_val = _inputs(X_val, device, dtype, "X_val"), _targets(y_val, device, dtype, "y_val")
        check_same_length("X_val", X_val, "y_val", y_val)
        if X_val.shape[1:] != X.shape[1:] or y_val.is_floating_point() != y.is_floating_point():
            raise ValueError(f"expected X_val of shape (n, {', '.join(map(str, X.shape[1:]))}) like X and y_val of the "
                             f"kind of y, got X_val {tuple(X_val.shape)}, y_val of dtype {y_val.dtype}")
        _check_targets(model, X_val, y_val, "y_val", loss_fn is None)
    classify = not y.is_floating_point()
    loss_fn = loss_fn or (F.cross_entropy if classify else F.mse_loss)
    if optimizer is None:
        if lr is None:
            raise ValueError("give a learning rate lr or an optimizer")
        optimizer = torch.optim.SGD(model.parameters(), lr=check_positive("lr", lr))
    elif check_type("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim optimizer or None") \
            and lr is not None:
        raise ValueError(f"give a learning rate lr or an optimizer, not both (got lr = {lr}; the optimizer "
                         "has its own)")
    validate = X_val is not None
    n = len(X)
    batch_size = n if batch_size is None else int(batch_size)
    generator = torch.Generator().manual_seed(seed)
    history = History()
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=False)
    model.train()
    for _ in bar:
        order = torch.randperm(n, generator=generator).to(device) if batch_size < n else None
        total_loss, correct = 0.0, 0
        for i in range(0, n, batch_size):
            if order is None:                                  # full batch: no copy, no shuffle
                xb, yb = X, y
            else:
                rows = order[i:i + batch_size]
                xb, yb = X[rows], y[rows]
            optimizer.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            optimizer.step()
            total_loss += loss.detach() * len(xb)
            if classify:
                correct += (out.detach().argmax(1) == yb).sum()
        history.loss.append(float(total_loss) / n)
        postfix = {"loss": f"{history.loss[-1]:.4f}"}
        if classify:
            history.train_accuracy.append(int(correct) / n)
        if validate:
            model.eval()
            with torch.no_grad():
                out = model(X_val)
                history.val_loss.append(loss_fn(out, y_val).item())
                if classify:
                    history.val_accuracy.append((out.argmax(1) == y_val).float().mean().item())
                    postfix["val_acc"] = f"{history.val_accuracy[-1]:.3f}"
            model.train()
        if progress:
            bar.set_postfix(postfix, refresh=False)
    model.eval()
    history.seconds = time.perf_counter() - start
    return history
