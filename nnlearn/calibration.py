"""Calibration of a classifier's probabilities (chapter 5): reliability bins, expected
calibration error (ECE) and the reliability diagram.

The confidence of a prediction is its largest probability. Predictions are grouped by confidence
into U bins of equal width, ((u-1)/U, u/U]; a calibrated model's accuracy in every bin equals its
mean confidence there. ECE = sum_u (|B_u| / n) |acc(B_u) - conf(B_u)| (Naeini et al. 2015,
Guo et al. 2017).
"""
from dataclasses import dataclass

import numpy as np

from .validate import check_array, check_labels, check_positive, check_same_length, check_type


@dataclass(frozen=True)
class ReliabilityBins:
    edges: np.ndarray        # (U + 1,) bin edges from 0 to 1
    count: np.ndarray        # (U,) predictions per bin
    confidence: np.ndarray   # (U,) mean confidence per bin (NaN where empty)
    accuracy: np.ndarray     # (U,) fraction correct per bin (NaN where empty)


def _check(P, y, n_bins):
    P = check_array("P", P, ndim=2)
    if P.min() < 0 or not np.allclose(P.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(f"expected the rows of P to be probabilities (>= 0, summing to 1), got row sums from "
                         f"{P.sum(axis=1).min():.3g} to {P.sum(axis=1).max():.3g}")
    y = check_labels("y", y, P.shape[1])
    check_same_length("P", P, "y", y)
    return P, y, check_positive("n_bins", n_bins, integer=True)


def reliability_bins(P, y, n_bins=15):
    """Bin the predictions of probabilities P (n, K) for labels y (n,) by confidence max_k P[r, k]."""
    P, y, n_bins = _check(P, y, n_bins)
    confidence, correct = P.max(axis=1).astype(np.float64), (P.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges[1:-1], confidence, side="left"), 0, n_bins - 1)   # (lo, hi]
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(which, confidence, n_bins) / count
        acc = np.bincount(which, correct, n_bins) / count
    return ReliabilityBins(edges, count, conf, acc)


def expected_calibration_error(P, y, n_bins=15):
    """ECE = sum over non-empty bins of (share of predictions) * |accuracy - mean confidence|."""
    bins = reliability_bins(P, y, n_bins)
    used = bins.count > 0
    return float(np.sum(bins.count[used] / bins.count.sum() * np.abs(bins.accuracy[used] - bins.confidence[used])))


def plot_reliability_diagram(ax, P, y, n_bins=15, title=None):
    """Accuracy per confidence bin as bars against the diagonal of perfect calibration; the gap to
    the bin's mean confidence shaded; ECE in the legend."""
    if not hasattr(ax, "bar"):
        raise TypeError(f"expected ax to be a matplotlib Axes, got {type(ax).__name__}")
    if title is not None:
        check_type("title", title, str, "a string or None")
    bins = reliability_bins(P, y, n_bins)
    ece = expected_calibration_error(P, y, n_bins)
    width, centers, used = np.diff(bins.edges), bins.edges[:-1] + np.diff(bins.edges) / 2, bins.count > 0
    ax.bar(centers[used], bins.accuracy[used], width=width[used], edgecolor="k", color="C0", alpha=0.8,
           label=f"accuracy per bin (ECE = {ece:.3f})")
    low = np.minimum(bins.accuracy[used], bins.confidence[used])
    ax.bar(centers[used], np.abs(bins.confidence[used] - bins.accuracy[used]), bottom=low, width=width[used],
           facecolor="none", edgecolor="C3", hatch="//", label="gap to the mean confidence")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (largest predicted probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(title or "Reliability diagram")
    ax.legend(loc="upper left", fontsize=8)
    return ece
