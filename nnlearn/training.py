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
    if any(p.device.type != "cpu" for p in model.parameters()):
        raise ValueError("reset the parameters on the CPU, then move the model to its device")
    with torch.random.fork_rng(devices=[]):        # restores the CPU generator afterwards
        torch.default_generator.manual_seed(seed)   # the CPU generator only: GPU states stay untouched
        for module in model.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return model


def _model_device_dtype(model):
    p = next(model.parameters())
    return p.device, p.dtype


def _inputs(X, device, dtype):
    return torch.as_tensor(X if torch.is_tensor(X) else np.asarray(X), device=device).to(dtype)


def _targets(y, device, dtype):
    """Float targets in the model's dtype; anything else becomes int64 class labels."""
    t = torch.as_tensor(y if torch.is_tensor(y) else np.asarray(y), device=device)
    return t.to(dtype) if t.is_floating_point() else t.long()


def outputs(model, X, batch_size=4096):
    """The model's outputs for X as a numpy array, computed without gradients, batch by batch."""
    device, dtype = _model_device_dtype(model)
    X = _inputs(X, device, dtype)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
    model.train(was_training)
    return out.cpu().numpy()


def predict(model, X, batch_size=4096):
    """Predicted class of every row of X: the index of the largest output."""
    return outputs(model, X, batch_size).argmax(axis=1)


def accuracy(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, n_classes):
    """C[i, j] = number of examples of true class i predicted as class j (rows sum to class sizes)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return np.bincount(n_classes * y_true + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def fit(model, X, y, *, epochs, lr=None, optimizer=None, batch_size=None, loss_fn=None, seed=0,
        X_val=None, y_val=None, progress=True, desc="training"):
    """Train `model` in place for `epochs` passes over (X, y) and return a History.

    batch_size=None trains on the full batch, in order; otherwise each epoch visits the examples
    in a fresh random order (from a torch.Generator seeded with `seed`) in batches of batch_size.
    `optimizer` is a torch.optim optimizer over model.parameters(); without one, plain SGD with
    learning rate `lr`. `loss_fn(outputs, targets)` defaults to cross-entropy for integer labels
    and to the mean squared error for float targets; accuracies are recorded for integer labels.
    The model is left in eval mode.
    """
    device, dtype = _model_device_dtype(model)
    X, y = _inputs(X, device, dtype), _targets(y, device, dtype)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    classify = not y.is_floating_point()
    loss_fn = loss_fn or (F.cross_entropy if classify else F.mse_loss)
    if optimizer is None:
        if lr is None:
            raise ValueError("give a learning rate lr or an optimizer")
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    validate = X_val is not None
    if validate:
        X_val, y_val = _inputs(X_val, device, dtype), _targets(y_val, device, dtype)
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
