"""Train the same MLP on the same mini-batches with the numpy backpropagation of chapter 4
(`nnlearn.backprop`) and with PyTorch on the CPU, and print the time ratio.

Both run single-threaded (numpy's BLAS through threadpoolctl, torch through set_num_threads) in
float64, from the same initial weights, on the same batches; the script also checks that the two
trained networks agree. Timings depend on the machine and are printed, never asserted.

    python benchmarks/numpy_vs_torch_mlp.py [--hidden 64] [--batch-size 32] [--epochs 20] [--repeats 3]
"""
import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from nnlearn.backprop import train
from nnlearn.data import load_digits, one_hot
from nnlearn.mlp import init_parameters, to_sequential
from nnlearn.optim import minibatches


def torch_epochs(X, labels, weights, biases, batches, lr):
    model = to_sequential(weights, biases, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    X, labels = torch.from_numpy(X), torch.from_numpy(labels)
    for idx in batches:
        idx = torch.from_numpy(idx)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(X[idx]), labels[idx]).backward()
        optimizer.step()
    return model


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def run(hidden=64, batch_size=32, epochs=20, lr=0.1, repeats=3, seed=0, verbose=True):
    """(numpy seconds, torch seconds, number of SGD steps): best of `repeats` runs of each."""
    X, labels = load_digits(verbose=verbose)
    X, Y = X.astype(np.float64), one_hot(labels, 10).astype(np.float64)
    weights, biases = init_parameters([X.shape[1], hidden, 10], np.random.default_rng(seed))
    order = np.random.default_rng(seed + 1)               # train() draws the same batches from the same seed
    batches = [idx for _ in range(epochs) for idx in minibatches(len(X), batch_size, order)]

    def numpy_run(n_epochs):
        return train(X, Y, weights, biases, epochs=n_epochs, lr=lr, batch_size=batch_size,
                     rng=np.random.default_rng(seed + 1))

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            numpy_run(1)                                                    # warm-up
            torch_epochs(X, labels, weights, biases, batches[:20], lr)
            t_numpy, (W_np, b_np, _) = best_time(lambda: numpy_run(epochs), repeats)
            t_torch, model = best_time(lambda: torch_epochs(X, labels, weights, biases, batches, lr), repeats)
    finally:
        torch.set_num_threads(threads)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    gap = max(float(np.max(np.abs(W - m.weight.detach().numpy()))) for W, m in zip(W_np, linears))
    if gap > 1e-8:
        raise AssertionError(f"numpy and torch training diverged (max weight difference {gap:.1e})")
    return t_numpy, t_torch, len(batches)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    t_numpy, t_torch, steps = run(args.hidden, args.batch_size, args.epochs, repeats=args.repeats)
    print(f"64-{args.hidden}-10 MLP, batch {args.batch_size}, {steps} SGD steps, float64, 1 thread each:")
    print(f"  numpy (nnlearn.backprop): {t_numpy:.3f} s  ({1e6 * t_numpy / steps:.0f} µs per step)")
    print(f"  torch (autograd + SGD):   {t_torch:.3f} s  ({1e6 * t_torch / steps:.0f} µs per step)")
    print(f"  ratio numpy / torch: {t_numpy / t_torch:.2f}")


if __name__ == "__main__":
    main()
