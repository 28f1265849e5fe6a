"""A genetic algorithm on the unit cube: tournament selection, uniform crossover, Gaussian
mutation and elitism. `next_generation` is the deterministic core (the random draws are its
arguments); `ga_generation` draws them from a generator; `genetic_search` runs generations.
We minimise: the fittest individual has the lowest loss.
"""
import numpy as np

from .validate import check_array, check_callable, check_number, check_positive, check_rng


def next_generation(population, losses, n_elite, tournaments, masks, noise):
    """The next population (n, d): first the n_elite rows with the lowest losses, best first; then
    one child per row c of tournaments (n - n_elite, 2, k): parent j is the contestant of
    tournaments[c, j] with the lowest loss, the child takes parent 1's gene where masks[c] is True
    and parent 2's elsewhere, plus noise[c], clipped to [0, 1]."""
    P = check_array("population", population, ndim=2)
    n, d = P.shape
    losses = check_array("losses", losses, shape=(n,), match=f"population of shape {P.shape}", finite="no-nan")
    n_elite = check_number("n_elite", n_elite, low=0, high=n, integer=True)
    T = check_array("tournaments", tournaments, shape=(n - n_elite, 2, None), kind="int", nonempty=False,
                    match=f"{n - n_elite} children of a population of {n} with n_elite = {n_elite}")
    if T.shape[2] < 1 or T.size and (T.min() < 0 or T.max() >= n):
        raise ValueError(f"expected tournaments to hold at least one contestant per parent, indices in 0..{n - 1}, "
                         f"got shape {T.shape}" + (f" and indices {T.min()}..{T.max()}" if T.size else ""))
    masks = check_array("masks", masks, shape=(n - n_elite, d), kind="number", nonempty=False)
    if masks.dtype.kind != "b":
        raise TypeError(f"expected masks to be a boolean array, got dtype {masks.dtype}")
    noise = check_array("noise", noise, shape=(n - n_elite, d), nonempty=False)
    elite = np.argsort(losses, kind="stable")[:n_elite]
    winners = np.take_along_axis(T, np.argmin(losses[T], axis=2)[..., None], axis=2)[..., 0]
    children = np.where(masks, P[winners[:, 0]], P[winners[:, 1]]) + noise
    return np.vstack([P[elite], np.clip(children, 0.0, 1.0)]).astype(P.dtype, copy=False)


def ga_generation(population, losses, rng, n_elite=1, tournament_size=3, mutation_rate=0.2, mutation_scale=0.1):
    """One generation with random draws from rng: contestants uniform with replacement, crossover
    masks fair coins, each gene mutated with probability mutation_rate by N(0, mutation_scale^2)."""
    P = check_array("population", population, ndim=2)
    check_rng("rng", rng)
    n, d = P.shape
    n_elite = check_number("n_elite", n_elite, low=0, high=n, integer=True)
    k = check_positive("tournament_size", tournament_size, integer=True)
    rate = check_number("mutation_rate", mutation_rate, low=0, high=1)
    scale = check_number("mutation_scale", mutation_scale, low=0)
    m = n - n_elite
    tournaments = rng.integers(0, n, size=(m, 2, k))
    masks = rng.random((m, d)) < 0.5
    noise = rng.normal(0.0, scale, size=(m, d)) * (rng.random((m, d)) < rate)
    return next_generation(P, losses, n_elite, tournaments, masks, noise)


def genetic_search(objective, d, pop_size, n_generations, rng, n_elite=1, tournament_size=3, mutation_rate=0.2,
                   mutation_scale=0.1):
    """Minimise objective(u) -> float on [0, 1]^d. Elites are not evaluated again (their losses are
    kept). Returns (U, losses) of every evaluation, in order: pop_size + n_generations (pop_size - n_elite)."""
    check_callable("objective", objective)
    d, pop_size = check_positive("d", d, integer=True), check_positive("pop_size", pop_size, integer=True)
    n_generations = check_number("n_generations", n_generations, low=0, integer=True)
    check_rng("rng", rng)
    n_elite = check_number("n_elite", n_elite, low=0, high=pop_size, integer=True)
    P = rng.random((pop_size, d))
    losses = np.array([float(objective(u)) for u in P])
    all_U, all_losses = [P], [losses]
    for _ in range(n_generations):
        elite_losses = np.sort(losses, kind="stable")[:n_elite]
        P = ga_generation(P, losses, rng, n_elite, tournament_size, mutation_rate, mutation_scale)
        new = np.array([float(objective(u)) for u in P[n_elite:]])
        losses = np.concatenate([elite_losses, new])
        all_U.append(P[n_elite:])
        all_losses.append(new)
    return np.vstack(all_U), np.concatenate(all_losses)
