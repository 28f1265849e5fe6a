"""Chapter 9: hyperparameter search (nnlearn.search, nnlearn.bayesopt, nnlearn.genetic) against
independent oracles: Table 1 of Li et al. (2018), scipy's loguniform, scikit-learn's Gaussian
process, numerical integration and Monte Carlo for expected improvement, and hand-made cases."""
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import kstest, loguniform, norm

from nnlearn import bayesopt, genetic, search


def algorithm_1(R, eta):
    """Li et al. (2018), Algorithm 1, transcribed with exact fractions (an independent oracle)."""
    from fractions import Fraction
    s_max = max(s for s in range(64) if eta ** s <= R)
    B = (s_max + 1) * Fraction(R)
    out = []
    for s in range(s_max, -1, -1):
        n = math.ceil(B / Fraction(R) * Fraction(eta) ** s / (s + 1))
        r = Fraction(R) / Fraction(eta) ** s
        out.append([(math.floor(Fraction(n) / Fraction(eta) ** i), float(r * Fraction(eta) ** i)) for i in range(s + 1)])
    return out


def test_hyperband_schedule_is_table_1_of_li_et_al():
    assert search.hyperband_schedule(81, 3) == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)], [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)], [(8, 27), (2, 81)], [(5, 81)]]


@pytest.mark.parametrize("R, eta", [(81, 3), (27, 3), (100, 3), (8, 2), (9, 2), (50, 4), (1, 3), (2, 2), (243, 3),
                                    (1000, 10), (12.5, 2)])
def test_hyperband_schedule_follows_algorithm_1(R, eta):
    mine = search.hyperband_schedule(R, eta)
    ref = algorithm_1(R, eta)
    assert [[n for n, _ in b] for b in mine] == [[n for n, _ in b] for b in ref]
    np.testing.assert_allclose([r for b in mine for _, r in b], [r for b in ref for _, r in b], rtol=1e-12)


def test_successive_halving_keeps_the_best_third():
    losses = np.array([5.0, 1.0, 4.0, 0.5, 3.0, 2.0, 6.0, 7.0, 0.1])     # fixed per configuration
    calls = []

    def evaluate(ids, budget):
        calls.append((ids.tolist(), budget))
        return losses[ids] / budget

    ids, budgets, out = search.successive_halving(evaluate, np.arange(9), 1, 3, 3)
    assert calls == [(list(range(9)), 1.0), ([8, 3, 1], 3.0), ([8], 9.0)]
    assert len(ids) == len(budgets) == len(out) == 13


def test_hyperband_spends_the_schedule():
    counter = {"n": 0}

    def sample(n):
        counter["n"] += n
        return np.arange(counter["n"] - n, counter["n"])

    rng = np.random.default_rng(0)
    ids, budgets, losses = search.hyperband(sample, lambda ids, b: rng.random(len(ids)), 81, 3)
    assert budgets.sum() == sum(n * r for b in search.hyperband_schedule(81, 3) for n, r in b) == 1902
    assert counter["n"] == 81 + 34 + 15 + 8 + 5


def test_best_so_far_counts_resumed_budget():
    ids, budgets, losses = np.array([0, 1, 0, 2]), np.array([1.0, 1.0, 3.0, 3.0]), np.array([0.5, 0.4, 0.3, 0.2])
    spent, inc, best = search.best_so_far(ids, budgets, losses, 3, resume=True)
    np.testing.assert_array_equal(spent, [1, 2, 4, 7])
    np.testing.assert_array_equal(inc, [-1, -1, 0, 2])
    np.testing.assert_array_equal(best, [np.inf, np.inf, 0.3, 0.2])
    assert search.best_so_far(ids, budgets, losses, 3)[0][-1] == 8


def test_log_uniform_matches_scipy():
    x = search.log_uniform(1e-4, 1e-1, 20_000, np.random.default_rng(0))
    assert x.min() >= 1e-4 and x.max() <= 1e-1
    assert kstest(x, loguniform(1e-4, 1e-1).cdf).pvalue > 1e-4


def test_grid_points():
    G = search.grid_points(3, 2)
    assert G.shape == (9, 2) and np.allclose(np.unique(G[:, 0]), [1 / 6, 1 / 2, 5 / 6])


def test_toy_loss_bias_vanishes_and_noise_shrinks():
    U = np.random.default_rng(1).random((5, 4))
    c, w = np.full(4, 0.5), np.array([1.0, 0.5, 0.02, 0.02])
    exact = search.toy_loss(U, 81, c, w, 81, np.random.default_rng(0), noise=0.0)
    np.testing.assert_allclose(exact, search.toy_true_loss(U, c, w), rtol=1e-12)
    rng = np.random.default_rng(2)
    spread = [np.std([search.toy_loss(U[:1], r, c, w, 81, rng)[0] for _ in range(4000)]) for r in (1, 81)]
    np.testing.assert_allclose(spread, [0.1, 0.1 / 9], rtol=0.1)


@pytest.mark.parametrize("d, n, ls, var, noise", [(1, 4, 0.2, 1.0, 1e-6), (3, 15, 0.5, 2.0, 1e-2), (6, 40, 1.0, 0.3, 0.0)])
def test_gp_posterior_matches_sklearn(d, n, ls, var, noise):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel

    rng = np.random.default_rng(d)
    X, y, Xs = rng.random((n, d)), rng.standard_normal(n), rng.random((30, d))
    mean, std = bayesopt.gp_posterior(X, y, Xs, ls, var, noise)
    gp = GaussianProcessRegressor(ConstantKernel(var, "fixed") * RBF(ls, "fixed"), alpha=max(noise, 1e-10),
                                  optimizer=None).fit(X, y)
    mean_ref, std_ref = gp.predict(Xs, return_std=True)
    np.testing.assert_allclose(mean, mean_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, std_ref, rtol=1e-5, atol=1e-5)


def test_rbf_kernel_is_the_formula():
    A, B = np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0]])
    np.testing.assert_allclose(bayesopt.rbf_kernel(A, B, 0.5, 2.0)[:, 0], 2 * np.exp(-np.array([1.0, 2.0]) / 0.5))


def test_expected_improvement_against_integral_and_monte_carlo():
    mu, sigma, best = np.array([0.3, -1.0, 2.0, 0.0, 0.2]), np.array([0.5, 2.0, 0.1, 1.0, 1e-3]), 0.2
    ei = bayesopt.expected_improvement(mu, sigma, best)
    ref = [quad(lambda f: (best - f) * norm.pdf(f, m, s), min(m - 40 * s, best - 1), best, points=[m] if m < best else None)[0] for m, s in zip(mu, sigma)]
    np.testing.assert_allclose(ei, ref, rtol=1e-7, atol=1e-12)
    draws = mu + sigma * np.random.default_rng(0).standard_normal((400_000, 5))
    imp = np.maximum(best - draws, 0)
    assert np.all(np.abs(imp.mean(0) - ei) < 5 * imp.std(0) / np.sqrt(len(draws)) + 1e-12)
    np.testing.assert_array_equal(bayesopt.expected_improvement(np.array([1.0, -1.0]), np.zeros(2), 0.0), [0.0, 1.0])
    assert bayesopt.expected_improvement(np.ones(3, np.float32), np.ones(3, np.float32), 0.0).dtype == np.float32


def test_bayes_opt_beats_random_on_a_smooth_function():
    f = lambda u: float(np.sum((u - 0.3) ** 2))
    wins = 0
    for seed in range(5):
        rng = np.random.default_rng(seed)
        _, bo = bayesopt.bayes_opt(f, 2, 4, 16, rng, n_candidates=500)
        wins += bo.min() < min(f(u) for u in np.random.default_rng(50 + seed).random((20, 2)))
    assert wins >= 4


def test_next_generation_elitism_selection_crossover_mutation():
    P = np.array([[0.1, 0.2], [0.9, 0.8], [0.5, 0.5], [0.3, 0.7]])
    losses = np.array([3.0, 1.0, 2.0, 4.0])
    T = np.array([[[0, 2], [3, 0]], [[1, 3], [3, 3]]])        # winners: 2 and 0; 1 and 3
    masks = np.array([[True, False], [False, True]])
    noise = np.array([[0.0, 0.0], [0.5, -0.05]])
    out = genetic.next_generation(P, losses, 2, T, masks, noise)
    np.testing.assert_allclose(out, [[0.9, 0.8], [0.5, 0.5], [0.5, 0.2], [0.3 + 0.5, 0.8 - 0.05]])
    clipped = genetic.next_generation(P, losses, 3, T[:1], masks[:1], np.array([[1.0, -1.0]]))
    np.testing.assert_allclose(clipped[3], [1.0, 0.0])


def test_genetic_search_never_loses_its_best():
    f = lambda u: float(np.sum((u - 0.7) ** 2))
    U, losses = genetic.genetic_search(f, 3, 6, 8, np.random.default_rng(0))
    assert len(losses) == 6 + 8 * 5
    firsts = [losses[:6].min()] + [losses[: 6 + 5 * g].min() for g in range(1, 9)]
    assert firsts == sorted(firsts, reverse=True) and losses.min() < losses[:6].min()
