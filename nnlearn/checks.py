"""One-line numerical checks for learners: finite differences and `compare`.

Finite differences are computed in float64 whatever the dtype of x: they are the oracle.
"""
import numpy as np

from .validate import check_array, check_callable, check_number, check_positive, check_type, describe


def _scalar(value, where):
    if np.ndim(value) != 0 and np.size(value) != 1:
        raise ValueError(f"expected f to return a number, got shape {np.shape(value)} {where}")
    return value


def central_difference(f, x, h=1e-5):
    """Elementwise derivative of an elementwise function f at x: (f(x+h) - f(x-h)) / 2h."""
    check_callable("f", f)
    x, h = check_array("x", x).astype(np.float64), check_positive("h", h)
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function f at array x by central differences, one coordinate at a time."""
    check_callable("f", f)
    x, h = check_array("x", x).astype(np.float64), check_positive("h", h)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = _scalar(f(x), f"at x + h e_{i}")
        x[i] = old - h
        f_minus = _scalar(f(x), f"at x - h e_{i}")
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def compare(name, mine, reference, rtol=1e-5, atol=1e-7, verbose=True):
    """Print `name | exact | approximate | maxdiff` and return True when approximately equal.

    `reference` may be a torch tensor; it is converted with `.detach().cpu().numpy()`. NaN or inf
    entries are allowed: they compare as unequal to anything finite.
    """
    def as_array(arg, a):
        if hasattr(a, "detach"):
            a = a.detach().cpu().numpy()
        return check_array(arg, a, finite=False, nonempty=False)

    check_type("name", name, str, "a string")
    rtol, atol = check_number("rtol", rtol, low=0), check_number("atol", atol, low=0)
    check_type("verbose", verbose, bool, "True or False")
    mine, reference = as_array("mine", mine), as_array("reference", reference)
    if mine.shape != reference.shape:
        if verbose:
            print(f"{name:24s} | shape mismatch: {mine.shape} vs {reference.shape}")
        return False
    exact = bool(np.array_equal(mine, reference))
    approx = bool(np.allclose(mine, reference, rtol=rtol, atol=atol))
    with np.errstate(invalid="ignore"):
        maxdiff = float(np.max(np.abs(mine - reference))) if mine.size else 0.0
    if verbose:
        print(f"{name:24s} | exact: {exact!s:5} | approximate: {approx!s:5} | maxdiff: {maxdiff:.2e}")
    return approx


def compare_grads(mine, reference, rtol=1e-5, atol=1e-7, verbose=True):
    """Compare gradients with `compare`, one line per parameter; True when all agree.

    Pass two arrays (or tensors), or two dicts {name: gradient} with the same names, e.g. your
    gradients against {name: p.grad for name, p in model.named_parameters()}.
    """
    rtol, atol = check_number("rtol", rtol, low=0), check_number("atol", atol, low=0)
    check_type("verbose", verbose, bool, "True or False")
    for arg, value in (("mine", mine), ("reference", reference)):
        if isinstance(value, (str, bytes)) or value is None:
            raise TypeError(f"expected {arg} to be a dict of gradients or an array, got {describe(value)}")
    if not isinstance(mine, dict) and not isinstance(reference, dict):
        return compare("gradient", mine, reference, rtol, atol, verbose)
    if not (isinstance(mine, dict) and isinstance(reference, dict)) or set(mine) != set(reference):
        if verbose:
            names = lambda d: sorted(d) if isinstance(d, dict) else "an array, not a dict"
            print(f"{'names':24s} | mismatch: {names(mine)} vs {names(reference)}")
        return False
    return all([compare(name, mine[name], reference[name], rtol, atol, verbose) for name in reference])
