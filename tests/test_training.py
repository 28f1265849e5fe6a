import numpy as np
import pytest
import torch

from nnlearn.data import make_blobs
from nnlearn.mlp import make_mlp
from nnlearn.training import accuracy, confusion_matrix, fit, outputs, predict, reset_parameters


def blobs(seed, n=60):
    X, y = make_blobs(n, centers=[[0, 0], [3, 0], [0, 3]], std=0.5, rng=np.random.default_rng(seed))
    return X.astype(np.float32), y


def test_confusion_matrix_and_accuracy_by_hand():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 3), [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 7, 500), rng.integers(0, 7, 500)
    C = confusion_matrix(a, b, 7)
    assert C.sum() == 500 and np.trace(C) == np.sum(a == b)
    np.testing.assert_array_equal(C.sum(axis=1), np.bincount(a, minlength=7))
    with pytest.raises(ValueError, match=r"Expected y_true batch_size \(500\) to match y_pred batch_size \(3\)"):
        accuracy(a, b[:3])


def test_fit_learns_blobs_and_records_history():
    X, y = blobs(0)
    X_val, y_val = blobs(1)
    model = make_mlp([2, 16, 3], np.random.default_rng(0))
    history = fit(model, X, y, epochs=30, lr=0.1, batch_size=16, X_val=X_val, y_val=y_val, progress=False)
    assert len(history.loss) == len(history.train_accuracy) == len(history.val_accuracy) == 30
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert accuracy(y_val, predict(model, X_val)) >= 0.95
    assert history.val_accuracy[-1] == pytest.approx(accuracy(y_val, predict(model, X_val)))
    assert not model.training


def test_full_batch_fit_is_plain_gradient_descent():
    X, y = blobs(2, n=10)
    model = make_mlp([2, 5, 3], np.random.default_rng(1))
    reference = make_mlp([2, 5, 3], np.random.default_rng(1))
    fit(model, X, y, epochs=3, lr=0.3, progress=False)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(3):  # w <- w - lr * dL/dw, by hand, on the full batch
        reference.zero_grad()
        torch.nn.functional.cross_entropy(reference(Xt), yt).backward()
        with torch.no_grad():
            for p in reference.parameters():
                p -= 0.3 * p.grad
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p, q)


def test_the_seed_fixes_the_batch_order_and_the_result():
    X, y = blobs(3)
    results = []
    for seed in (0, 0, 1):
        model = make_mlp([2, 8, 3], np.random.default_rng(0))
        fit(model, X, y, epochs=2, lr=0.1, batch_size=7, seed=seed, progress=False)
        results.append(outputs(model, X))
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.allclose(results[0], results[2])


def test_regression_targets_use_the_squared_error_and_a_given_optimizer():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (200, 3)).astype(np.float32)
    Y = X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)
    model = make_mlp([3, 1], rng)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    history = fit(model, X, Y, epochs=100, optimizer=optimizer, batch_size=50, progress=False)
    assert history.train_accuracy == [] and history.loss[-1] < 1e-3
    assert history.loss[-1] == pytest.approx(float(np.mean((outputs(model, X) - Y) ** 2)), rel=0.5, abs=1e-4)
    with pytest.raises(ValueError, match="learning rate"):
        fit(model, X, Y, epochs=1)


def test_reset_parameters_is_seeded_and_leaves_global_state_alone():
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    state = torch.random.get_rng_state()
    first = [p.clone() for p in reset_parameters(model, seed=3).parameters()]
    second = [p.clone() for p in reset_parameters(model, seed=3).parameters()]
    third = [p.clone() for p in reset_parameters(model, seed=4).parameters()]
    assert torch.equal(state, torch.random.get_rng_state())
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not torch.equal(first[0], third[0])
    torch.manual_seed(3)  # the same draws as constructing the layers after torch.manual_seed(3)
    fresh = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    assert all(torch.equal(a, b) for a, b in zip(first, fresh.parameters()))


def test_fit_runs_on_the_picked_device():
    from nnlearn.device import pick_device

    device = pick_device(verbose=False)
    X, y = blobs(5)
    model = make_mlp([2, 8, 3], np.random.default_rng(0)).to(device)
    fit(model, X, y, epochs=2, lr=0.1, batch_size=32, progress=False)
    assert next(model.parameters()).device.type == device.type
    assert predict(model, torch.from_numpy(X)).shape == (len(X),)
