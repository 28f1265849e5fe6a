"""Chapter 10: Flower's own FedAvg aggregation, applied to the same client updates, equals
nnlearn.federated.fedavg on every floating entry; on integer buffers (num_batches_tracked) Flower
returns the float weighted mean, which our rule rounds to the nearest integer.

Flower (flwr, pinned in requirements.txt) is required under CI=true; elsewhere the test is
skipped when it is missing."""
import os

import numpy as np
import pytest
import torch
from torch import nn

from nnlearn.federated import fedavg

try:
    import flwr
    from flwr.app import ArrayRecord, MetricRecord, RecordDict
    from flwr.server.strategy.aggregate import aggregate as legacy_aggregate
    from flwr.serverapp.strategy import FedAvg
    from flwr.serverapp.strategy.strategy_utils import aggregate_arrayrecords
except ImportError as exc:                                          # pragma: no cover - depends on the machine
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise ImportError(f"CI=true: Flower (flwr, pinned in requirements.txt) must be installed: {exc}") from None
    pytest.skip(f"Flower (flwr) is not installed: {exc}", allow_module_level=True)


def net():
    return nn.Sequential(nn.Linear(5, 7), nn.BatchNorm1d(7), nn.ReLU(), nn.Linear(7, 3))


def client_updates(seed, k=5):
    """k random client state dicts of net() (floats and counters) and their sizes n_k, none tied
    at .5 so that rounding the counters' mean is unambiguous."""
    rng = np.random.default_rng(seed)
    while True:
        states = [{name: torch.as_tensor(rng.standard_normal(t.shape), dtype=t.dtype) if t.is_floating_point()
                   else torch.tensor(int(rng.integers(0, 1000)), dtype=t.dtype)
                   for name, t in net().state_dict().items()} for _ in range(k)]
        sizes = rng.integers(1, 500, size=k)
        mean = sum(n * s["1.num_batches_tracked"].item() for n, s in zip(sizes, states)) / sizes.sum()
        if abs(mean - np.floor(mean) - 0.5) > 1e-6:
            return states, sizes


def flower_records(states, sizes):
    """What Flower's FedAvg receives from each client: an ArrayRecord and its num-examples."""
    return [RecordDict({"arrays": ArrayRecord(s), "metrics": MetricRecord({"num-examples": int(n)})})
            for s, n in zip(states, sizes)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flower_fedavg_matches_ours(seed):
    states, sizes = client_updates(seed)
    ours = fedavg(states, sizes)
    assert FedAvg().weighted_by_key == "num-examples"      # the key the strategy weights by, by default
    theirs = aggregate_arrayrecords(flower_records(states, sizes), "num-examples").to_torch_state_dict()
    assert list(theirs) == list(ours)
    for name, t in ours.items():
        if t.is_floating_point():
            assert theirs[name].dtype == t.dtype
            np.testing.assert_allclose(theirs[name].numpy(), t.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
        else:
            # Flower: a float64 weighted mean; ours: that mean rounded, kept int64
            assert theirs[name].dtype == torch.float64 and t.dtype == torch.int64
            assert t.item() == round(theirs[name].item()) and theirs[name].item() != t.item()
            assert abs(theirs[name].item() - t.item()) <= 0.5


def test_flower_legacy_aggregate_matches_ours():
    """The NumPy-list API of Flower 1.x strategies (flwr.server.strategy.aggregate.aggregate)."""
    states, sizes = client_updates(3)
    ours = fedavg(states, sizes)
    theirs = legacy_aggregate([([t.numpy() for t in s.values()], int(n)) for s, n in zip(states, sizes)])
    for (name, t), a in zip(ours.items(), theirs):
        if t.is_floating_point():
            np.testing.assert_allclose(a, t.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
        else:
            assert np.asarray(a).dtype == np.float64 and t.item() == round(float(a))


def test_loading_flowers_counter_truncates():
    """load_state_dict copies Flower's float counter into the int64 buffer, truncating toward zero:
    3.9 becomes 3, where our rule gives 4. Floats are loaded unchanged."""
    states, sizes = client_updates(4)
    theirs = aggregate_arrayrecords(flower_records(states, sizes), "num-examples").to_torch_state_dict()
    model = net()
    model.load_state_dict(theirs)
    counter = model.state_dict()["1.num_batches_tracked"]
    assert counter.dtype == torch.int64 and counter.item() == int(theirs["1.num_batches_tracked"].item())
    assert flwr.__version__ == "1.42.0", "the page describes Flower 1.42; re-read its aggregation when upgrading"
