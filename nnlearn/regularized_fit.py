"""One training loop with every regularizer of chapter 8 as an option, for comparing them fairly.

`fit_regularized` trains a torch classifier with Adam on mini-batches and records the training and
validation loss and accuracy of every epoch. Options: `weight_decay` (L2 in the gradient, Adam's
`weight_decay`), `l1` (lam ||W||_1 over the weight matrices, added to the loss), `label_smoothing`,
`augment(X, rng)` (a new training set every epoch: input noise, shifts and rotations), `patience`
(early stopping on the validation loss; the best weights are restored). Dropout lives in the model.
"""
import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .generalization import EarlyStopping
from .validate import check_array, check_callable, check_number, check_positive, check_same_length, check_type


def _weights(model):
    return [p for name, p in model.named_parameters() if name.endswith("weight")]


def fit_regularized(model, X, y, X_val, y_val, *, epochs, lr=1e-3, batch_size=100, seed=0, weight_decay=0.0, l1=0.0,
                    label_smoothing=0.0, augment=None, patience=None, progress=False):
    """Train `model` in place; return a dict of per-epoch lists ('loss', 'accuracy', 'val_loss',
    'val_accuracy') and 'best_epoch' (the epoch whose weights the model ends with). The mini-batch
    order (torch.Generator) and `augment`'s rng both derive from `seed`."""
    check_type("model", model, torch.nn.Module, "a torch.nn.Module")
    X, X_val = check_array("X", X, ndim=2), check_array("X_val", X_val, ndim=2)
    y, y_val = check_array("y", y, ndim=1, kind="int"), check_array("y_val", y_val, ndim=1, kind="int")
    check_same_length("X", X, "y", y)
    check_same_length("X_val", X_val, "y_val", y_val)
    epochs, batch_size = check_positive("epochs", epochs, integer=True), check_positive("batch_size", batch_size, True)
    lr, seed = check_positive("lr", lr), check_number("seed", seed, low=0, integer=True)
    weight_decay, l1 = check_number("weight_decay", weight_decay, low=0), check_number("l1", l1, low=0)
    label_smoothing = check_number("label_smoothing", label_smoothing, low=0, high=1)
    if augment is not None:
        check_callable("augment", augment)
    stopper = None if patience is None else EarlyStopping(check_positive("patience", patience, integer=True))
    check_type("progress", progress, bool, "True or False")
    p0 = next(model.parameters())
    device, dtype = p0.device, p0.dtype
    as_x = lambda A: torch.as_tensor(np.asarray(A), dtype=dtype, device=device)
    Xv, yv, yt = as_x(X_val), torch.as_tensor(y_val, device=device), torch.as_tensor(y, device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    generator, rng = torch.Generator().manual_seed(seed), np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": [], "best_epoch": epochs - 1}
    for epoch in tqdm(range(epochs), desc="training", disable=not progress, leave=False):
        Xt = as_x(X if augment is None else augment(X, rng))
        model.train()
        order = torch.randperm(len(X), generator=generator).to(device)
        for i in range(0, len(X), batch_size):
            rows = order[i:i + batch_size]
            loss = F.cross_entropy(model(Xt[rows]), yt[rows], label_smoothing=label_smoothing)
            if l1:
                loss = loss + l1 * sum(W.abs().sum() for W in _weights(model))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for key, (A, t) in (("", (as_x(X), yt)), ("val_", (Xv, yv))):
                out = model(A)
                history[key + "loss"].append(F.cross_entropy(out, t).item())
                history[key + "accuracy"].append((out.argmax(1) == t).float().mean().item())
        if stopper is not None and stopper.update(history["val_loss"][-1], model.state_dict()):
            break
    if stopper is not None:
        model.load_state_dict(stopper.best_state)
        history["best_epoch"] = stopper.best_epoch
    model.eval()
    return history
