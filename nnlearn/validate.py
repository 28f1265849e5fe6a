"""Argument checks for nnlearn's public functions: one home, one style of message.

Every check names the argument, says what was expected and what arrived, the way PyTorch does
("Expected input batch_size (3) to match target batch_size (4)"), raises ValueError for a wrong
value and TypeError for a wrong type, and returns the checked value. Arrays are not copied: a
floating array keeps its dtype (float32 stays float32); integers and booleans become float64
where numbers are needed. Public functions check once, at entry; inner loops call unchecked code.
"""
import math
import numbers

import numpy as np


def describe(value):
    """A short account of what arrived: 'int 3', 'str 'a'', 'array of shape (2, 3) and dtype float64'."""
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, type):
        return f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def shape_str(shape):
    """(None, 3, 'n') -> '(*, 3, n)': a shape with named or free dimensions."""
    parts = ["*" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _nonfinite(a, allow_inf=False):
    """Indices of bad entries (NaN, and inf unless allowed); a cheap sum first, no copy when all is well."""
    if a.dtype.kind != "f" or a.size == 0:
        return None
    with np.errstate(all="ignore"):
        total = a.sum()
    if np.isfinite(total):
        return None
    bad = np.isnan(a) if allow_inf else ~np.isfinite(a)
    return np.argwhere(bad) if bad.any() else None


def check_finite(name, a, allow_inf=False):
    """Raise ValueError when the array `a` holds NaN (or +-inf unless `allow_inf`)."""
    bad = _nonfinite(a, allow_inf)
    if bad is not None:
        n_nan, n_inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
        where = tuple(int(i) for i in bad[0])
        what = "no NaN" if allow_inf else "finite (no NaN or inf)"
        raise ValueError(f"expected {name} to be {what}, got {n_nan} NaN and {n_inf} inf entries "
                         f"(the first at index {where if a.ndim else '()'})")
    return a


def check_array(name, value, *, shape=None, ndim=None, min_ndim=0, kind="float", finite=True, nonempty=True,
                match=None):
    """`value` as a numpy array, checked.

    shape: a tuple of ints (exact), None (any size) or names like "n" (any size, named in the
        message), e.g. ("n", 784); `match` says where it comes from ("W of shape (2, 4)").
        ndim: an int or a tuple of allowed ints; min_ndim: at least so many.
    kind: "float" (numbers; the result is floating), "int" (integers, e.g. class labels) or
        "number" (any real numbers, kept as they are).
    finite: True (no NaN or inf), "no-nan" (+-inf allowed) or False. nonempty: refuse size 0.
    """
    try:
        a = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"expected {name} to be an array of numbers, got {describe(value)} ({exc})") from None
    if kind == "int":
        if a.dtype.kind not in "iu" and not (a.dtype.kind == "b" and a.size == 0):
            raise TypeError(f"expected {name} to hold integers, got dtype {a.dtype}"
                            + (" (use .astype(int))" if a.dtype.kind == "f" else ""))
    elif a.dtype.kind not in "biuf":
        raise TypeError(f"expected {name} to be an array of real numbers, got {describe(value)}")
    if kind == "float" and a.dtype.kind != "f":
        a = a.astype(np.float64)
    if shape is not None:
        fits = a.ndim == len(shape) and all(s is None or isinstance(s, str) or s == k for s, k in zip(shape, a.shape))
        if not fits:
            raise ValueError(f"expected {name} of shape {shape_str(shape)}" + (f" to match {match}" if match else "")
                             + f", got shape {a.shape}")
    elif ndim is not None and a.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        want = ndim if isinstance(ndim, int) else " or ".join(map(str, ndim))
        raise ValueError(f"expected {name} to be a {want}-D array, got {a.ndim}-D of shape {a.shape}")
    if a.ndim < min_ndim:
        raise ValueError(f"expected {name} to have at least {min_ndim} axes (one row per example), got shape {a.shape}")
    if nonempty and a.size == 0:
        raise ValueError(f"expected {name} to be non-empty, got shape {a.shape}")
    if finite:
        check_finite(name, a, allow_inf=finite == "no-nan")
    return a


def check_labels(name, value, n_classes=None, values=None):
    """Integer class labels of shape (n,), each in 0..n_classes-1; or labels of any numeric dtype
    whose values all lie in `values` (e.g. (-1, 1) for the perceptron)."""
    y = check_array(name, value, ndim=1, kind="int" if values is None else "number", nonempty=False)
    if values is not None:
        bad = np.setdiff1d(y, values)
        if bad.size:
            raise ValueError(f"expected {name} to hold only the labels {sorted(values)}, got {bad[:5].tolist()}")
    elif n_classes is not None and y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"expected {name} to hold labels in 0..{n_classes - 1} (n_classes = {n_classes}), "
                         f"got labels from {y.min()} to {y.max()}")
    return y


def check_same_length(name_a, a, name_b, b):
    """Equal numbers of rows (the batch size); `a` and `b` are arrays or lengths."""
    la, lb = (x if isinstance(x, numbers.Integral) else len(x) for x in (a, b))
    if la != lb:
        raise ValueError(f"Expected {name_a} batch_size ({la}) to match {name_b} batch_size ({lb})")


def _interval(low, high, low_open, high_open):
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    return f"{'>' if low_open else '>='} {low}" if high is None else f"{'<' if high_open else '<='} {high}"


def check_number(name, value, *, low=None, high=None, low_open=False, high_open=False, integer=False):
    """A finite real number (an int when `integer`) in [low, high] (open ends with low_open /
    high_open); bools are refused. Returns a Python int or float, so that float32 arrays stay float32."""
    kinds = "iu" if integer else "iuf"
    if isinstance(value, bool) or np.ndim(value) != 0 or np.asarray(value).dtype.kind not in kinds:
        raise TypeError(f"expected {name} to be {'an integer' if integer else 'a real number'}, got {describe(value)}")
    value = int(value) if integer else float(value)
    if not math.isfinite(value):
        raise ValueError(f"expected {name} to be a finite number, got {value}")
    if (low is not None and (value <= low if low_open else value < low)) or \
            (high is not None and (value >= high if high_open else value > high)):
        raise ValueError(f"expected {name} {_interval(low, high, low_open, high_open)}, got {value}")
    return value


def check_positive(name, value, integer=False):
    """A number > 0 (learning rates, step sizes) or an int >= 1 (sizes, counts)."""
    if integer:
        return check_number(name, value, low=1, integer=True)
    return check_number(name, value, low=0, low_open=True)


def check_choice(name, value, choices):
    """One of `choices` (strings); ValueError listing them."""
    if not isinstance(value, str):
        raise TypeError(f"expected {name} to be one of {sorted(choices)}, got {describe(value)}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {sorted(choices)}")
    return value


def check_type(name, value, types, what):
    """isinstance(value, types), else TypeError saying `what` was expected."""
    if not isinstance(value, types):
        raise TypeError(f"expected {name} to be {what}, got {describe(value)}")
    return value


def check_callable(name, value):
    if not callable(value):
        raise TypeError(f"expected {name} to be a function, got {describe(value)}")
    return value


def check_dtype(name, value, kinds="f"):
    """A numpy dtype (or anything np.dtype accepts) of one of the `kinds` ("f": floating)."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in kinds:
        want = "a floating dtype such as np.float32" if kinds == "f" else f"a dtype of kind {kinds!r}"
        raise TypeError(f"expected {name} to be {want}, got {describe(value)}")
    return dtype


def check_rng(name, value):
    return check_type(name, value, np.random.Generator, "a numpy Generator, e.g. np.random.default_rng(seed)")


def check_widths(widths):
    """Layer widths [N_0, ..., N_L]: at least two integers, all >= 1; returns a list of ints."""
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or \
            any(isinstance(n, bool) or np.ndim(n) or np.asarray(n).dtype.kind not in "iu" for n in widths):
        raise TypeError(f"expected widths to be a list of integers [N_0, ..., N_L], got {describe(widths)}")
    widths = [int(n) for n in widths]
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"expected widths to list N_0 inputs and at least one layer, all >= 1; got {widths}")
    return widths


def check_layers(weights, biases=None, n_in=None):
    """Weight matrices W_p (N_p, N_{p-1}) and biases b_p (N_p,) that chain into a network taking
    n_in inputs; returns them as lists of floating arrays (no copies). biases=None: weights only."""
    for name, layers in (("weights", weights), ("biases", biases)):
        if layers is None and name == "biases":
            continue
        if isinstance(layers, np.ndarray) or not hasattr(layers, "__len__"):
            raise TypeError(f"expected {name} to be a list of arrays, one per layer, got {describe(layers)}")
    if len(weights) == 0 or (biases is not None and len(weights) != len(biases)):
        raise ValueError(f"expected weights and biases to list the same number of layers (at least one), got "
                         f"{len(weights)} weight matrices and {0 if biases is None else len(biases)} bias vectors")
    Ws, bs = [], []
    for p, W in enumerate(weights, start=1):
        W = check_array(f"weights[{p - 1}] (W_{p})", W, shape=(f"N_{p}", f"N_{p - 1}" if n_in is None else n_in))
        Ws.append(W)
        if biases is not None:
            bs.append(check_array(f"biases[{p - 1}] (b_{p})", biases[p - 1], shape=(W.shape[0],)))
        n_in = W.shape[0]
    return Ws, (bs if biases is not None else None)


def check_tensor(name, t, *, min_ndim=1, finite=True):
    """A torch tensor (duck-typed: no torch import here): ndim, non-empty, finite."""
    if t.dim() < min_ndim:
        raise ValueError(f"expected {name} to have at least {min_ndim} dimension(s), got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"expected {name} to be non-empty, got shape {tuple(t.shape)}")
    if finite and t.is_floating_point() and not bool(t.isfinite().all()):
        raise ValueError(f"expected {name} to be finite (no NaN or inf), got {int(t.isnan().sum())} NaN and "
                         f"{int(t.isinf().sum())} inf entries")
    return t
