"""Time one SGD training step of chapter 4's from-scratch numpy MLP (`nnlearn.backprop.train`)
against the same network in PyTorch on the CPU, and print the ratio.

Both start from the same weights (`nnlearn.mlp.init_parameters`, stored in the chosen dtype) and
train on the same mini-batches of the same data (ReLU hidden layers, softmax cross-entropy, plain
SGD); the script first checks that the two trained networks agree. It runs one thread and all
threads (numpy's BLAS through threadpoolctl, torch through set_num_threads), alternating numpy and
torch runs and reporting the best of `--repeats` (other processes only ever slow a run down).
It prints which BLAS library and kernel ran and whether OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE were
set: on machines that set them, compare with a run of `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
python benchmarks/numpy_vs_torch_mlp.py`. Timings are printed, never asserted. Target: numpy
float32 within 1.2x of torch float32 at 784-256-10 and 784-1024-1024-10, batch 128.

    python benchmarks/numpy_vs_torch_mlp.py [--sizes 784-256-10 784-1024-1024-10] [--dtype float32]
        [--batch-size 128] [--steps 40] [--repeats 7] [--threads 1 all]
"""
import argparse
import os
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from nnlearn.backprop import train
from nnlearn.mlp import init_parameters, to_sequential
from nnlearn.optim import minibatches

TOLERANCE = {"float32": 2e-4, "float64": 1e-10}     # largest weight difference after the check run


def problem(widths, dtype, batch_size, steps, seed=0):
    """Data of `steps` full batches (pixels in [0, 1) like MNIST), labels, one-hot targets, weights."""
    rng = np.random.default_rng(seed)
    n = batch_size * steps
    X = rng.uniform(0, 1, size=(n, widths[0])).astype(dtype)
    labels = rng.integers(0, widths[-1], size=n)
    Y = np.eye(widths[-1], dtype=dtype)[labels]
    weights, biases = init_parameters(widths, rng, dtype=dtype)
    return X, labels, Y, weights, biases


def numpy_steps(X, Y, weights, biases, batch_size, lr, seed):
    return train(X, Y, weights, biases, epochs=1, lr=lr, batch_size=batch_size, rng=np.random.default_rng(seed))


def torch_steps(X, labels, weights, biases, batch_size, lr, seed, dtype):
    model = to_sequential(weights, biases, dtype=getattr(torch, dtype))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    X, labels = torch.from_numpy(X), torch.from_numpy(labels)
    for idx in minibatches(len(X), batch_size, np.random.default_rng(seed)):     # the batches train() draws
        idx = torch.from_numpy(idx)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(X[idx]), labels[idx]).backward()
        optimizer.step()
    return model


def check_agreement(widths, dtype, batch_size, lr, seed):
    X, labels, Y, weights, biases = problem(widths, dtype, batch_size, 5, seed)
    W_np, b_np, _ = numpy_steps(X, Y, weights, biases, batch_size, lr, seed)
    model = torch_steps(X, labels, weights, biases, batch_size, lr, seed, dtype)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    gap = max(float(np.max(np.abs(p - q.detach().numpy()))) for W, b, m in zip(W_np, b_np, linears)
              for p, q in ((W, m.weight), (b, m.bias)))
    if gap > TOLERANCE[dtype] or W_np[0].dtype != np.dtype(dtype):
        raise AssertionError(f"numpy and torch disagree after 5 steps: max difference {gap:.1e}, dtype {W_np[0].dtype}")
    return gap


def time_per_step(widths, dtype, batch_size, steps, repeats, threads, lr=0.05, seed=0):
    """{"numpy": (wall, cpu), "torch": (wall, cpu)} seconds per SGD step, each the best of `repeats`
    alternating runs. cpu is the process's CPU time: on a busy machine it still measures the work
    of a one-thread run (waiting for a core is not counted), while wall time measures speed."""
    X, labels, Y, weights, biases = problem(widths, dtype, batch_size, steps, seed)
    runs = {"numpy": lambda: numpy_steps(X, Y, weights, biases, batch_size, lr, seed),
            "torch": lambda: torch_steps(X, labels, weights, biases, batch_size, lr, seed, dtype)}
    best = {name: [float("inf"), float("inf")] for name in runs}
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            for fn in runs.values():                                   # warm-up
                fn()
            for _ in range(repeats):
                for name, fn in runs.items():
                    start, cpu = time.perf_counter(), time.process_time()
                    fn()
                    wall, cpu = (time.perf_counter() - start) / steps, (time.process_time() - cpu) / steps
                    best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    finally:
        torch.set_num_threads(before)
    return best


def blas_report():
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    lines = ["environment: " + ", ".join(f"{k}={v}" if v is not None else f"{k} unset" for k, v in env.items())]
    for info in threadpool_info():
        if info["user_api"] == "blas":
            lines.append(f"numpy BLAS: {info['internal_api']} {info.get('version')}, kernel "
                         f"{info.get('architecture')}, {info['num_threads']} threads "
                         f"({os.path.basename(info['filepath'])})")
    lines.append(f"torch {torch.__version__}: MKL {torch.backends.mkl.is_available()}, oneDNN "
                 f"{torch.backends.mkldnn.is_available()}, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["784-256-10", "784-1024-1024-10"],
                        help="layer widths N_0-N_1-...-N_L, one network per argument")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=40, help="SGD steps per timed run")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", nargs="+", default=["1", "all"], help="thread counts; 'all' = every CPU")
    args = parser.parse_args()
    all_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(blas_report())
    print(f"{args.dtype}, batch {args.batch_size}, wall time per SGD step (forward, backward, update), "
          f"best of {args.repeats}; load average {os.getloadavg()[0]:.1f} on {all_cpus} CPUs:")
    for sizes in args.sizes:
        widths = [int(w) for w in sizes.split("-")]
        gap = check_agreement(widths, args.dtype, args.batch_size, 0.05, 1)
        for threads in args.threads:
            n = all_cpus if threads == "all" else int(threads)
            best = time_per_step(widths, args.dtype, args.batch_size, args.steps, args.repeats, n)
            (wall_np, cpu_np), (wall_torch, cpu_torch) = best["numpy"], best["torch"]
            print(f"  {sizes:>18s}, {n:2d} thread{'s' if n > 1 else ' '}: numpy {1e3 * wall_np:7.3f} ms, "
                  f"torch {1e3 * wall_torch:7.3f} ms, numpy / torch = {wall_np / wall_torch:.2f}"
                  f"   (CPU time: {1e3 * cpu_np:.3f} / {1e3 * cpu_torch:.3f} ms = {cpu_np / cpu_torch:.2f}; "
                  f"weights agree to {gap:.0e})")


if __name__ == "__main__":
    main()
