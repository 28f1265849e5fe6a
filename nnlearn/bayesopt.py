"""Bayesian optimisation with a Gaussian-process surrogate and expected improvement, in numpy.

We minimise f on the unit cube. The GP has prior mean 0 and the squared-exponential (RBF) kernel
k(x, x') = variance exp(-|x - x'|^2 / (2 length_scale^2)); observations carry Gaussian noise of
variance `noise`. `bayes_opt` standardises the observed losses before fitting, picks the length
scale by the marginal likelihood on a small grid, and maximises EI over random candidates.
"""
import math

import numpy as np
from scipy.special import ndtr

from .validate import check_array, check_callable, check_number, check_positive, check_rng


def rbf_kernel(A, B, length_scale=0.2, variance=1.0):
    """K[i, j] = variance exp(-|A_i - B_j|^2 / (2 length_scale^2)) for rows A (n, d) and B (m, d)."""
    A = check_array("A", A, ndim=2)
    B = check_array("B", B, shape=(None, A.shape[1]), match=f"A of shape {A.shape}")
    length_scale = check_positive("length_scale", length_scale)
    variance = check_positive("variance", variance)
    return _rbf(A, B, length_scale, variance)


def _rbf(A, B, length_scale, variance):
    sq = (A ** 2).sum(1)[:, None] + (B ** 2).sum(1)[None, :] - 2 * A @ B.T
    return variance * np.exp(-np.maximum(sq, 0) / (2 * length_scale ** 2))


def gp_posterior(X, y, X_star, length_scale=0.2, variance=1.0, noise=1e-6):
    """Posterior mean and standard deviation of f at the rows of X_star, given y = f(X) + noise:
    mean = k*^T (K + noise I)^-1 y, var = k(x*, x*) - k*^T (K + noise I)^-1 k* (noise-free f)."""
    X = check_array("X", X, ndim=2)
    y = check_array("y", y, shape=(len(X),), match=f"X of shape {X.shape}")
    X_star = check_array("X_star", X_star, shape=(None, X.shape[1]), match=f"X of shape {X.shape}")
    length_scale, variance = check_positive("length_scale", length_scale), check_positive("variance", variance)
    noise = check_number("noise", noise, low=0)
    return _posterior(X, y, X_star, length_scale, variance, noise)[:2]


def _posterior(X, y, X_star, length_scale, variance, noise):
    """(mean, std, log marginal likelihood), through the Cholesky factor of K + noise I."""
    K = _rbf(X, X, length_scale, variance) + (noise + 1e-10 * variance) * np.eye(len(X))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    K_star = _rbf(X, X_star, length_scale, variance)
    V = np.linalg.solve(L, K_star)
    mean = K_star.T @ alpha
    std = np.sqrt(np.maximum(variance - (V ** 2).sum(0), 0.0))
    log_ml = -0.5 * y @ alpha - np.log(np.diag(L)).sum() - 0.5 * len(X) * math.log(2 * math.pi)
    return mean, std, log_ml


def expected_improvement(mu, sigma, best, xi=0.0):
    """E[max(best - xi - F, 0)] for F ~ N(mu, sigma^2), for minimisation: with z = (best - xi - mu) / sigma,
    EI = (best - xi - mu) Phi(z) + sigma phi(z); where sigma = 0 it is the limit max(best - xi - mu, 0)."""
    mu = check_array("mu", mu)
    sigma = check_array("sigma", sigma, shape=mu.shape, match=f"mu of shape {mu.shape}")
    if (sigma < 0).any():
        raise ValueError(f"expected sigma >= 0 (a standard deviation), got a minimum of {sigma.min()}")
    best = check_number("best", best)
    xi = check_number("xi", xi, low=0)
    return _ei(mu, sigma, best - xi)


def _ei(mu, sigma, target):
    gain = target - mu
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, gain / np.where(sigma > 0, sigma, 1), 0.0)
    cdf = ndtr(z)                                   # Phi(z), the standard normal CDF
    pdf = np.exp(-0.5 * z ** 2) / math.sqrt(2 * math.pi)
    ei = np.where(sigma > 0, gain * cdf + sigma * pdf, np.maximum(gain, 0))
    return np.maximum(ei, 0).astype(mu.dtype, copy=False)


LENGTH_SCALES = (0.05, 0.1, 0.2, 0.4, 0.8)


def fit_gp(X, y, noise=1e-4):
    """(length_scale, mean, scale): the length scale of LENGTH_SCALES with the largest marginal
    likelihood for the standardised losses (y - mean) / scale, with variance 1."""
    X = check_array("X", X, ndim=2)
    y = check_array("y", y, shape=(len(X),), match=f"X of shape {X.shape}")
    noise = check_positive("noise", noise)
    mean, scale = float(y.mean()), float(y.std()) or 1.0
    z = (y - mean) / scale
    scores = [_posterior(X, z, X[:1], ls, 1.0, noise)[2] for ls in LENGTH_SCALES]
    return LENGTH_SCALES[int(np.argmax(scores))], mean, scale


def bayes_opt(objective, d, n_init, n_iter, rng, n_candidates=2000, noise=1e-4):
    """Minimise objective(u) -> float over [0, 1]^d: n_init random points, then n_iter points, each
    the maximiser of EI among n_candidates random ones. Returns (U, losses) in evaluation order."""
    check_callable("objective", objective)
    d, n_init = check_positive("d", d, integer=True), check_positive("n_init", n_init, integer=True)
    n_iter = check_number("n_iter", n_iter, low=0, integer=True)
    check_rng("rng", rng)
    n_candidates, noise = check_positive("n_candidates", n_candidates, integer=True), check_positive("noise", noise)
    U = rng.random((n_init, d))
    losses = [float(objective(u)) for u in U]
    for _ in range(n_iter):
        y = np.array(losses)
        ls, mean, scale = fit_gp(U, y, noise)
        C = rng.random((n_candidates, d))
        mu, sd, _ = _posterior(U, (y - mean) / scale, C, ls, 1.0, noise)
        u = C[np.argmax(_ei(mu, sd, (y.min() - mean) / scale))]
        U = np.vstack([U, u])
        losses.append(float(objective(u)))
    return U, np.array(losses)
