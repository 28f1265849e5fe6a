"""Chapter 10's exploratory transfer measurements, which the book build does not run: feature
extraction, fine-tuning and training from scratch on Fashion-MNIST's related and dissimilar
splits, for other bodies than the page's MLP, scored on a validation split of the target
training images (never the test images). The page's discussion of "the same measurements" rests
on these runs; each design takes minutes on a CPU.

    python benchmarks/transfer_designs.py --body 256 --seeds 5                 # the page's MLP
    python benchmarks/transfer_designs.py --body 256,64 --seeds 5              # two hidden layers
    python benchmarks/transfer_designs.py --body 512,256 --seeds 5
    python benchmarks/transfer_designs.py --cnn 8,16,64 --seeds 3              # a small CNN
    python benchmarks/transfer_designs.py --body 256 --n-train 0 --seeds 5     # all 60 000 images
"""
import argparse
import time
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from nnlearn.data import load_mnist
from nnlearn.training import accuracy, fit, predict, reset_parameters
from nnlearn.transfer import adapt, few_shot, make_net

SPLITS = {"related": ([0, 2, 5, 8, 9], [1, 3, 4, 6, 7]), "dissimilar": ([0, 1, 2, 3, 4], [5, 6, 7, 8, 9])}
SHOTS = [1, 5, 20, 100]
METHODS = ("features", "finetune", "scratch")


def make_cnn(channels_1, channels_2, features, seed):
    body = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, channels_1, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(channels_1, channels_2, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(channels_2 * 16, features), nn.ReLU())
    return reset_parameters(nn.Sequential(OrderedDict(body=body, head=nn.Linear(features, 5))), seed)


def relabel(y, classes):
    return np.searchsorted(np.array(classes), y)       # classes are sorted: class c -> its index


def measure(X, y, source_classes, target_classes, new_source, seeds, pre_epochs):
    """{method: array (len(SHOTS), seeds) of validation accuracies}, and the source's accuracy."""
    s, t = np.isin(y, source_classes), np.isin(y, target_classes)
    Xs, ys = X[s], relabel(y[s], source_classes)
    Xt, yt = X[t], relabel(y[t], target_classes)
    order = np.random.default_rng(5).permutation(len(Xt))
    n_val = min(2000, len(Xt) // 3)
    val, pool = order[:n_val], order[n_val:]
    source = new_source()
    fit(source, Xs[1000:], ys[1000:], epochs=pre_epochs, optimizer=torch.optim.Adam(source.parameters(), lr=1e-3),
        batch_size=128, seed=0, progress=False)
    source_accuracy = accuracy(ys[:1000], predict(source, Xs[:1000]))
    scores = {m: np.zeros((len(SHOTS), seeds)) for m in METHODS}
    for i, n in enumerate(SHOTS):
        for j in range(seeds):
            chosen = few_shot(yt[pool], n, np.random.default_rng(100 + j))
            for method in METHODS:
                model = adapt(source, Xt[pool][chosen], yt[pool][chosen], 5, method, epochs=100, lr=1e-2, seed=j)
                scores[method][i, j] = accuracy(yt[val], predict(model, Xt[val]))
    return scores, source_accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--body", default="256", help="hidden widths of the MLP body, e.g. 256,64")
    parser.add_argument("--cnn", help="a small CNN instead: channels_1,channels_2,features, e.g. 8,16,64")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pre-epochs", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=20000, help="training images to subsample (0: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y = load_mnist("fashion-mnist", "train")
    if args.n_train:
        keep = np.random.default_rng(0).choice(len(X), args.n_train, replace=False)
        X, y = X[keep], y[keep]
    X = X.reshape(len(X), -1)
    if args.cnn:
        c1, c2, f = (int(v) for v in args.cnn.split(","))
        new_source, design = (lambda: make_cnn(c1, c2, f, seed=0)), f"CNN {args.cnn}"
    else:
        widths = [int(v) for v in args.body.split(",")]
        new_source, design = (lambda: make_net(784, widths, 5, seed=0)), f"MLP 784-{args.body.replace(',', '-')}-5"
    for split, (source_classes, target_classes) in SPLITS.items():
        start = time.perf_counter()
        scores, source_accuracy = measure(X, y, source_classes, target_classes, new_source, args.seeds,
                                          args.pre_epochs)
        print(f"== {design}, {len(X)} images, {split} split: source accuracy {source_accuracy:.3f} "
              f"({time.perf_counter() - start:.0f} s); validation accuracy, mean ± sd over {args.seeds} seeds")
        for method, s in scores.items():
            print(f"  {method:9s} " + "  ".join(f"n={n}: {m:.3f}±{d:.3f}" for n, m, d in zip(SHOTS, s.mean(1), s.std(1))))


if __name__ == "__main__":
    main()
