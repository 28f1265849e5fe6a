"""One-line numerical checks for learners: finite differences and `compare`."""
import numpy as np


def central_difference(f, x, h=1e-5):
    """Elementwise derivative of an elementwise function f at x: (f(x+h) - f(x-h)) / 2h."""
    x = np.asarray(x, dtype=float)
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function f at array x by central differences, one coordinate at a time."""
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def compare(name, mine, reference, rtol=1e-5, atol=1e-7, verbose=True):
    """Print `name | exact | approximate | maxdiff` and return True when approximately equal.

    `reference` may be a torch tensor; it is converted with `.detach().cpu().numpy()`.
    """
    def as_array(a):
        if hasattr(a, "detach"):
            a = a.detach().cpu().numpy()
        return np.asarray(a, dtype=float)

    mine, reference = as_array(mine), as_array(reference)
    if mine.shape != reference.shape:
        if verbose:
            print(f"{name:24s} | shape mismatch: {mine.shape} vs {reference.shape}")
        return False
    exact = bool(np.array_equal(mine, reference))
    approx = bool(np.allclose(mine, reference, rtol=rtol, atol=atol))
    maxdiff = float(np.max(np.abs(mine - reference))) if mine.size else 0.0
    if verbose:
        print(f"{name:24s} | exact: {exact!s:5} | approximate: {approx!s:5} | maxdiff: {maxdiff:.2e}")
    return approx


def compare_grads(mine, reference, rtol=1e-5, atol=1e-7, verbose=True):
    """Compare gradients with `compare`, one line per parameter; True when all agree.

    Pass two arrays (or tensors), or two dicts {name: gradient} with the same names, e.g. your
    gradients against {name: p.grad for name, p in model.named_parameters()}.
    """
    if not isinstance(mine, dict) and not isinstance(reference, dict):
        return compare("gradient", mine, reference, rtol, atol, verbose)
    if not (isinstance(mine, dict) and isinstance(reference, dict)) or set(mine) != set(reference):
        if verbose:
            names = lambda d: sorted(d) if isinstance(d, dict) else "an array, not a dict"
            print(f"{'names':24s} | mismatch: {names(mine)} vs {names(reference)}")
        return False
    return all([compare(name, mine[name], reference[name], rtol, atol, verbose) for name in reference])
