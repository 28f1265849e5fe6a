"""FedAvg's training loop (McMahan et al. 2017, Algorithm 1), simulated in one process.

Each round the server samples clients, sends each the global model, every client trains a copy
on its own data for a few local epochs of SGD (local_update), and the server replaces the global
model by the size-weighted average of what comes back (nnlearn.federated.fedavg). FedSGD is the
special case of one full-batch step per client and all clients in every round.
"""
import copy

import torch
from tqdm.auto import tqdm

from .federated import fedavg, state_bytes
from .training import _model, accuracy, fit, predict
from .validate import (check_array, check_labels, check_number, check_positive, check_rng, check_same_length,
                       check_type, describe)


def local_update(model, X, y, *, epochs, lr, batch_size, seed):
    """A client's work: a copy of `model` trained with plain SGD on the cross-entropy of (X, y), y
    class labels, for `epochs` epochs of batch_size examples (None: one full-batch step per epoch),
    visiting order from torch seed `seed`. Returns (state_dict, n_k); `model` is left unchanged."""
    X, y = check_array("X", X, min_ndim=2), check_labels("y", y)
    local = copy.deepcopy(_model(model))
    fit(local, X, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=False)
    return local.state_dict(), len(X)


def run_fedavg(model, clients, X_test, y_test, *, rounds, clients_per_round, local_epochs, lr, batch_size, rng,
               progress=True):
    """Train `model` in place by FedAvg and return {"accuracy": test accuracy before round 1 and
    after every round, "bytes": bytes sent per round (the model down to and back from each
    sampled client)}.

    clients: a list of (X_k, y_k) pairs. Each round samples clients_per_round distinct clients
    uniformly with `rng`, among those that hold data; their SGD seeds come from `rng` too.
    """
    _model(model)
    if isinstance(clients, (str, bytes, dict)) or not isinstance(clients, (list, tuple)) or not clients or \
            not all(isinstance(c, (list, tuple)) and len(c) == 2 for c in clients):
        raise TypeError(f"expected clients to be a non-empty list of (X_k, y_k) pairs, got {describe(clients)}")
    X_test, y_test = check_array("X_test", X_test, min_ndim=2), check_labels("y_test", y_test)
    check_same_length("X_test", X_test, "y_test", y_test)
    rounds = check_number("rounds", rounds, low=0, integer=True)
    active = [k for k, (Xk, _) in enumerate(clients) if len(Xk) > 0]
    m = check_number("clients_per_round", clients_per_round, low=1, high=max(len(active), 1), integer=True)
    if not active:
        raise ValueError("expected clients to hold data, got only empty clients")
    local_epochs, lr = check_positive("local_epochs", local_epochs, integer=True), check_positive("lr", lr)
    if batch_size is not None:
        check_positive("batch_size", batch_size, integer=True)
    rng = check_rng("rng", rng)
    check_type("progress", progress, bool, "True or False")
    try:
        history = {"accuracy": [accuracy(y_test, predict(model, X_test))], "bytes": []}
    except ValueError as exc:
        raise ValueError(f"expected X_test to fit the model: {exc}") from None
    size = state_bytes(model.state_dict())
    for _ in tqdm(range(rounds), desc="FedAvg rounds", disable=not progress, leave=False):
        chosen = rng.choice(active, size=m, replace=False)
        updates = [local_update(model, *clients[k], epochs=local_epochs, lr=lr, batch_size=batch_size,
                                seed=int(rng.integers(2**31))) for k in chosen]
        with torch.no_grad():
            model.load_state_dict(fedavg([s for s, _ in updates], [n for _, n in updates]))
        history["accuracy"].append(accuracy(y_test, predict(model, X_test)))
        history["bytes"].append(2 * m * size)
    return history
