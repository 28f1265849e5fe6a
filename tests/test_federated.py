"""Chapter 10, federated learning: the Dirichlet split, FedAvg's weighted average (and its rule for
integer buffers), FedSGD = one step of centralised full-batch gradient descent, the bytes of a
round, and clipping + noise."""
import numpy as np
import pytest
import torch
from torch import nn

from nnlearn.federated import clip_and_noise, dirichlet_split, fedavg, state_bytes
from nnlearn.federated_training import local_update, run_fedavg


def bn_net(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))


def random_states(rng, k):
    """k state dicts of bn_net with random floats and random num_batches_tracked counters."""
    states = []
    for i in range(k):
        s = {name: torch.as_tensor(rng.standard_normal(t.shape), dtype=t.dtype) if t.is_floating_point()
             else torch.tensor(int(rng.integers(0, 500)), dtype=t.dtype) for name, t in bn_net(i).state_dict().items()}
        states.append(s)
    return states


@pytest.mark.parametrize("alpha", [0.05, 1.0, 1000.0])
def test_dirichlet_split_keeps_every_example_exactly_once(alpha):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, size=1003)
    parts = dirichlet_split(y, 9, alpha, np.random.default_rng(1))
    assert len(parts) == 9 and all(p.dtype == np.int64 for p in parts)
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(len(y)))


def test_dirichlet_alpha_controls_the_skew():
    """Large alpha: every client holds about 1/K of each class; small alpha: a class sits on one client."""
    y = np.repeat(np.arange(5), 2000)

    def top_share(alpha):
        parts = dirichlet_split(y, 10, alpha, np.random.default_rng(2))
        counts = np.array([[np.sum(y[p] == c) for p in parts] for c in range(5)])     # (classes, clients)
        return (counts.max(axis=1) / counts.sum(axis=1)).mean()

    assert top_share(1e4) < 0.13                      # 1/10 plus sampling noise
    assert top_share(0.01) > 0.9


def test_dirichlet_split_follows_its_recipe():
    """The documented order of draws: per class, the Dirichlet shares, then the permutation."""
    y = np.array([1, 0, 1, 1, 0, 2, 2, 1, 0, 1])
    rng = np.random.default_rng(5)
    expected = [[] for _ in range(3)]
    for c in range(3):
        p = rng.dirichlet(np.full(3, 0.5))
        rows = rng.permutation(np.flatnonzero(y == c))
        for k, piece in enumerate(np.split(rows, np.floor(np.cumsum(p)[:-1] * len(rows)).astype(int))):
            expected[k] += piece.tolist()
    got = dirichlet_split(y, 3, 0.5, np.random.default_rng(5))
    assert [p.tolist() for p in got] == [sorted(e) for e in expected]


def test_fedavg_is_the_size_weighted_mean_with_rounded_counters():
    rng = np.random.default_rng(3)
    states, sizes = random_states(rng, 4), np.array([7, 1, 30, 12])
    out = fedavg(states, sizes)
    w = sizes / sizes.sum()
    for name, t in out.items():
        assert t.dtype == states[0][name].dtype and t.shape == states[0][name].shape
        mean = sum(wk * s[name].double() for wk, s in zip(w, states))
        if t.is_floating_point():
            np.testing.assert_allclose(t.numpy(), mean.numpy(), rtol=1e-6, atol=1e-7)
        else:                                          # num_batches_tracked: weighted mean, rounded
            assert t.item() == round(float(mean)) and t.dtype == torch.int64


def test_fedavg_counter_rounding_is_half_to_even_and_equal_weights_give_the_plain_mean():
    s = [{"n": torch.tensor(2)}, {"n": torch.tensor(3)}]
    assert fedavg(s, [1, 1])["n"].item() == 2                     # 2.5 -> 2 (half to even)
    assert fedavg(s, [1, 3])["n"].item() == 3                     # 2.75 -> 3
    a = {"w": torch.tensor([1.0, 2.0], dtype=torch.float32)}
    b = {"w": torch.tensor([3.0, 6.0], dtype=torch.float32)}
    out = fedavg([a, b], [5, 5])["w"]
    assert out.dtype == torch.float32 and out.tolist() == [2.0, 4.0]
    assert fedavg([a, b], [0, 4])["w"].tolist() == [3.0, 6.0]     # a client without data has no weight


def test_fedsgd_round_equals_one_centralised_full_batch_gd_step():
    """sum_k (n_k/n) (theta - lr grad L_k) = theta - lr grad L on the union, for mean losses L_k."""
    g = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((53, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=53)
    sizes = [7, 20, 1, 25]
    bounds = np.cumsum([0] + sizes)
    clients = [(X[a:b], y[a:b]) for a, b in zip(bounds, bounds[1:])]
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    central = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    central.load_state_dict(model.state_dict())
    opt = torch.optim.SGD(central.parameters(), lr=0.3)
    loss = nn.functional.cross_entropy(central(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    opt.step()
    run_fedavg(model, clients, X, y, rounds=1, clients_per_round=4, local_epochs=1, lr=0.3, batch_size=None,
               rng=np.random.default_rng(1), progress=False)
    for (name, p), q in zip(model.named_parameters(), central.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_local_update_leaves_the_global_model_alone_and_rounds_report_bytes():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=40)
    model = nn.Linear(3, 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state, n = local_update(model, X, y, epochs=2, lr=0.5, batch_size=8, seed=0)
    assert n == 40 and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not torch.equal(state["weight"], before["weight"])
    clients = [(X[:10], y[:10]), (X[10:10], y[10:10]), (X[10:], y[10:])]       # one client holds no data
    h = run_fedavg(model, clients, X, y, rounds=3, clients_per_round=2, local_epochs=1, lr=0.5, batch_size=4,
                   rng=np.random.default_rng(0), progress=False)
    assert len(h["accuracy"]) == 4 and h["bytes"] == [2 * 2 * (3 * 2 + 2) * 4] * 3
    assert state_bytes(model.state_dict()) == (3 * 2 + 2) * 4
    assert state_bytes({"n": torch.tensor(0, dtype=torch.int64)}) == 8


def test_clip_and_noise():
    rng = np.random.default_rng(6)
    U = rng.standard_normal((5, 40)) * np.array([[0.01], [3], [0.2], [10], [1]])
    norms = np.linalg.norm(U, axis=1)
    out = clip_and_noise(U, 1.0, 0.0, np.random.default_rng(0))
    expected = (U * np.minimum(1, 1.0 / norms)[:, None]).mean(axis=0)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert np.all(np.linalg.norm(U * np.minimum(1, 1.0 / norms)[:, None], axis=1) <= 1 + 1e-12)
    noisy = clip_and_noise(U, 1.0, 2.0, np.random.default_rng(0))
    np.testing.assert_allclose(noisy - out, np.random.default_rng(0).standard_normal(40) * 2.0 / 5, rtol=1e-12)
    assert clip_and_noise(U.astype(np.float32), 1.0, 1.0, rng).dtype == np.float32
    # the noise's standard deviation over many coordinates (chi-square: 6 sigma is far below 1e-6)
    big = clip_and_noise(np.zeros((4, 200_000)), 0.5, 1.5, rng)
    assert abs(big.std() / (1.5 * 0.5 / 4) - 1) < 6 * np.sqrt(1 / (2 * 200_000))


def test_dirichlet_share_moments():
    """E[q_k] = 1/J and Var[q_k] = (J - 1) / (J^2 (J alpha + 1)) (the page's eq-dirichlet), by sampling:
    200 000 draws put the estimates within a few 0.1% (tolerances are > 10 standard errors)."""
    J, alpha = 7, 0.4
    q = np.random.default_rng(0).dirichlet(np.full(J, alpha), size=200_000)
    np.testing.assert_allclose(q.mean(axis=0), 1 / J, rtol=0.01)
    np.testing.assert_allclose(q.var(axis=0), (J - 1) / (J**2 * (J * alpha + 1)), rtol=0.03)


def test_one_example_update_gives_the_input_back():
    """x = (Delta W)_i / (Delta b)_i for the first layer after one SGD step on one example (eq-leak)."""
    from nnlearn.transfer import make_net

    x = np.random.default_rng(1).random((1, 12)).astype(np.float32)
    model = make_net(12, [6], 3, seed=0)
    state, _ = local_update(model, x, np.array([2]), epochs=1, lr=0.1, batch_size=None, seed=0)
    dW = state["body.0.weight"] - model.state_dict()["body.0.weight"]
    db = state["body.0.bias"] - model.state_dict()["body.0.bias"]
    i = int(db.abs().argmax())
    assert db[i] != 0
    np.testing.assert_allclose((dW[i] / db[i]).numpy(), x[0], rtol=1e-4, atol=1e-5)


def test_unweighted_fedsgd_is_a_step_on_the_loss_that_overweights_small_clients():
    """Problem 10.1: (1/2) sum_k (theta - lr grad L_k) = theta - lr grad L~, L~ = (L_1 + L_2)/2, which
    weighs client k's examples 1/(2 n_k) (1/180 and 1/20 for n = 90, 10) instead of 1/100: it is not
    the pooled step of eq-fedsgd."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((100, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=100)
    clients = [(X[:90], y[:90]), (X[90:], y[90:])]
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    ups = [local_update(model, Xk, yk, epochs=1, lr=0.5, batch_size=None, seed=0) for Xk, yk in clients]
    unweighted = fedavg([s for s, _ in ups], [1, 1])
    per_example = np.r_[np.full(90, 1 / 180), np.full(10, 1 / 20)]
    for weights, should_match in ((per_example, True), (np.full(100, 1 / 100), False)):
        ref = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
        ref.load_state_dict(model.state_dict())
        losses = nn.functional.cross_entropy(ref(torch.from_numpy(X)), torch.from_numpy(y), reduction="none")
        (losses * torch.as_tensor(weights, dtype=torch.float32)).sum().backward()
        with torch.no_grad():
            for p in ref.parameters():
                p -= 0.5 * p.grad
        gap = max(float((unweighted[k] - v).abs().max()) for k, v in ref.state_dict().items())
        assert (gap < 1e-5) == should_match, (should_match, gap)


def test_bytes_per_round_of_the_page_and_its_problem():
    """eq-bytes: 4 bytes per parameter in float32, 2 in float16; the chapter's 784-64-10 MLP has
    P = 50 890; Problem 10.2's arithmetic."""
    from nnlearn.transfer import make_net

    model = make_net(784, [64], 10, seed=0)
    P = 784 * 64 + 64 + 64 * 10 + 10
    assert P == 50_890 == sum(p.numel() for p in model.parameters())
    assert state_bytes(model.state_dict()) == 4 * P == 203_560
    assert state_bytes({k: v.half() for k, v in model.state_dict().items()}) == 2 * P
    assert 2 * 5 * 4 * P == 2_035_600                                     # a round with J_r = 5: 2.04 MB
    assert 2 * 100 * 11_000_000 * 4 == 8.8e9 and 500 * 8.8e9 == 4.4e12
    assert 100 * 11_000_000 * (4 + 1) * 500 == 2.75e12                     # 4-byte downloads, 1-byte uploads


def test_dirichlet_alpha_that_makes_the_share_sd_equal_its_mean():
    """Problem 10.3: sd[s_k] = E[s_k] = 1/J at alpha = (J - 2)/J (0.8 for J = 10), by sampling."""
    J = 10
    alpha = (J - 2) / J
    assert alpha == 0.8 and np.isclose((J - 1) / (J**2 * (J * alpha + 1)), 1 / J**2)
    s = np.random.default_rng(1).dirichlet(np.full(J, alpha), size=100_000)
    np.testing.assert_allclose(s.std(axis=0), 1 / J, rtol=0.03)
