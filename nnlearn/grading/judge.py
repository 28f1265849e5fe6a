"""The kernel answers, the grader judges.

Instructor tests run in the grader's own process. Each name that an exercise's answer
defines (a function or a variable) is bound there to a proxy: calling the proxy sends the
arguments to the student's kernel as plain data, runs the student's function there, and
brings the result back as plain data. Comparisons therefore use the grader's own, clean
numpy; nothing a student redefines, patches or prints can reach them.

Plain data: None, bool, int, float, complex-free numbers, str, lists, tuples, dicts with
string keys, and numpy arrays of numeric or bool dtype (torch tensors are sent as numpy
arrays). The wire format is JSON with arrays as base64 bytes; the decoder accepts nothing
else, so a payload can never become code.
"""
import ast
import base64
import contextlib
import json

import numpy as np

MIME = "application/x-nnlearn-result+json"
MAX_PAYLOAD_BYTES = 16 << 20   # a result from the kernel (an 8 MB float64 array is ~11 MB here)
_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64"}


class NotPlainData(TypeError):
    pass


def to_plain(value, depth=0):
    if depth > 20:
        raise NotPlainData("data nested more than 20 levels deep")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return {"int": str(int(value))}
    if isinstance(value, (float, np.floating)):
        return {"float": repr(float(value))}
    if isinstance(value, np.bool_):
        return bool(value)
    if hasattr(value, "detach") and hasattr(value, "numpy"):     # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.name not in _DTYPES:
            raise NotPlainData(f"an array of dtype {value.dtype} is not plain data")
        data = np.ascontiguousarray(value)          # (1-d for a 0-d array: keep value's shape)
        return {"ndarray": base64.b64encode(data.tobytes()).decode("ascii"), "dtype": data.dtype.name,
                "shape": list(value.shape)}
    if isinstance(value, (list, tuple)):
        items = [to_plain(v, depth + 1) for v in value]
        return {"tuple": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise NotPlainData("dict keys must be strings")
        return {"dict": {k: to_plain(v, depth + 1) for k, v in value.items()}}
    raise NotPlainData(f"a value of type {type(value).__name__} is not plain data "
                       "(numbers, strings, lists, tuples, dicts and numpy arrays are)")


def from_plain(obj, depth=0):
    if depth > 22:
        raise ValueError("data nested too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, list):
        return [from_plain(v, depth + 1) for v in obj]
    if isinstance(obj, dict) and len(obj) == 1:
        (kind, v), = obj.items()
        if kind == "int" and isinstance(v, str):
            return int(v)
        if kind == "float" and isinstance(v, str):
            return float(v)
        if kind == "tuple" and isinstance(v, list):
            return tuple(from_plain(x, depth + 1) for x in v)
        if kind == "dict" and isinstance(v, dict):
            return {str(k): from_plain(x, depth + 1) for k, x in v.items()}
    if isinstance(obj, dict) and set(obj) == {"ndarray", "dtype", "shape"}:
        if obj["dtype"] not in _DTYPES or not all(isinstance(n, int) and n >= 0 for n in obj["shape"]):
            raise ValueError("bad array header")
        raw = base64.b64decode(obj["ndarray"], validate=True)
        array = np.frombuffer(raw, dtype=np.dtype(obj["dtype"]))
        if array.size != int(np.prod(obj["shape"], dtype=np.int64)):
            raise ValueError("array size does not match its shape")
        return array.reshape(obj["shape"]).copy()
    raise ValueError("not plain data")


def encode(value):
    return json.dumps(to_plain(value))


MAX_CONTAINERS = 100_000       # lists, tuples and dicts in one result: arrays travel as bytes


def decode(text):
    """The value of a payload, within a memory bound: at most MAX_PAYLOAD_BYTES of text and
    MAX_CONTAINERS containers (a million empty lists would cost the grader far more than their text)."""
    if len(text) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"result larger than {MAX_PAYLOAD_BYTES >> 20} MB")
    if text.count("[") + text.count("{") > 2 * MAX_CONTAINERS:   # each tagged value is a {...}
        raise ValueError(f"result with more than {MAX_CONTAINERS} lists, tuples or dicts")
    return from_plain(json.loads(text))


# --- kernel side -------------------------------------------------------------------

_sinks = []     # where serve() puts its results instead of displaying them (in-process sessions)


@contextlib.contextmanager
def collecting(sink):
    """Within this block serve() hands each result, as encoded text, to sink(text) instead of
    displaying it: how an in-process stand-in for the kernel (nnlearn.grading.mutants) reads it."""
    _sinks.append(sink)
    try:
        yield
    finally:
        _sinks.pop()


def serve(namespace, name, payload):
    """Run in the student's kernel: call namespace[name](*args, **kwargs) or read a variable,
    and display the result as plain data under MIME. With "warnings" set, the result is
    {"value": result, "warnings": [messages of the warnings the call raised]}."""
    import warnings

    request = decode(payload)
    if name not in namespace:
        raise NameError(f"name '{name}' is not defined")
    target = namespace[name]
    if not request["call"]:
        result = target
    elif request.get("warnings"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = target(*request["args"], **request["kwargs"])
        result = {"value": value, "warnings": [str(w.message) for w in caught]}
    else:
        result = target(*request["args"], **request["kwargs"])
    text = encode(result)
    if _sinks:
        _sinks[-1](text)
    else:
        from IPython.display import display
        display({MIME: text}, raw=True)


def request_source(name, call, args=(), kwargs=None, capture_warnings=False):
    """The code the grader sends to the kernel for one call or variable read."""
    payload = encode({"call": call, "args": list(args), "kwargs": dict(kwargs or {}), "warnings": capture_warnings})
    return f"from nnlearn.grading.judge import serve as _nnlearn_serve\n_nnlearn_serve(globals(), {name!r}, {payload!r})"


def warnings_raised(function, *args, **kwargs):
    """(result, [warning messages]) of function(*args, **kwargs). Works the same in a notebook,
    where function is the real thing, and in the grader, where it is a FunctionProxy."""
    if isinstance(function, FunctionProxy):
        out = function._ask(function.name, True, args, kwargs, capture_warnings=True)
        return out["value"], out["warnings"]
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = function(*args, **kwargs)
    return value, [str(w.message) for w in caught]


# --- grader side -------------------------------------------------------------------

class StudentError(Exception):
    """The student's code raised, timed out or returned something that is not plain data."""


def defined_names(source):
    """(functions, variables) that a piece of code defines at top level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(), set()
    functions, variables = set(), set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            functions.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        variables.add(sub.id)
    return functions, variables - functions


def used_names(source):
    try:
        return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


class FunctionProxy:
    """Stands in, in the grader, for a student's function living in the kernel."""

    def __init__(self, name, ask):
        self.name, self._ask = name, ask

    def __call__(self, *args, **kwargs):
        return self._ask(self.name, True, args, kwargs)

    def __repr__(self):
        return f"<student function {self.name}>"


# --- comparing a student's result with the reference ------------------------------------

_KINDS = {"f": ("numbers", "fiu"), "i": ("integers", "iu"), "u": ("integers", "iu"), "b": ("booleans", "b")}


def _describe_shape(shape):
    return "a single number" if shape == () else f"an array of shape {tuple(shape)}"


def _got_array(what, got):
    if got is None:
        raise AssertionError(f"{what}: expected a result, got None (does your function return it?)")
    if isinstance(got, (dict, str)):
        raise AssertionError(f"{what}: expected numbers, got a {type(got).__name__}")
    try:
        array = np.asarray(got)
    except (ValueError, TypeError):
        raise AssertionError(f"{what}: expected an array of numbers, got a nested list of uneven lengths") from None
    if array.dtype.kind not in "biuf":
        raise AssertionError(f"{what}: expected numbers, got values that are not numbers")
    return array


def _assert_exact_ints(what, got, expected, hint):
    """Python integers of any size (counts that overflow int64), one or a list."""
    hint = f"; {hint}" if hint else ""
    if isinstance(expected, int):
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            raise AssertionError(f"{what}: expected an integer, got {type(got).__name__}{hint}")
        assert int(got) == expected, f"{what}: wrong value{hint}"
        return
    if not isinstance(got, (list, tuple, np.ndarray)) or len(got) != len(expected):
        n = len(got) if isinstance(got, (list, tuple, np.ndarray)) else None
        raise AssertionError(f"{what}: expected {len(expected)} integers, got "
                             + (f"{n}" if n is not None else f"a {type(got).__name__}") + hint)
    for i, (mine, ref) in enumerate(zip(got, expected)):
        _assert_exact_ints(f"{what}, entry {i}", mine, ref, hint[2:])


def assert_close(what, got, expected, rtol=1e-9, atol=1e-12, hint=""):
    """The comparison every hidden test uses: `got` (the student's result) against `expected`
    (the reference), in this order:

      shape      exact: an array of shape (0, 3) is not a (5, 3) answer;
      kind       floats expected: real numbers (float or int, not bool); integers expected:
                 integers (compared exactly, tolerances ignored); booleans expected: booleans;
      finiteness where the reference is finite, the result must be; nan/inf must match;
      values     |got - expected| <= atol + rtol |expected| everywhere.

    A failure raises AssertionError whose message names `what` and the kind of mismatch,
    never the hidden inputs or the reference values; `hint`, if given, is appended."""
    if isinstance(expected, int) and not isinstance(expected, bool) or (
            isinstance(expected, (list, tuple)) and expected and all(
                isinstance(e, int) and not isinstance(e, bool) for e in expected)):
        return _assert_exact_ints(what, got, list(expected) if isinstance(expected, tuple) else expected, hint)
    expected = np.asarray(expected)
    array = _got_array(what, got)
    if array.shape != expected.shape:
        raise AssertionError(f"{what}: expected {_describe_shape(expected.shape)}, got {_describe_shape(array.shape)}"
                             + (f"; {hint}" if hint else ""))
    wanted, allowed = _KINDS[expected.dtype.kind]
    if array.dtype.kind not in allowed:
        raise AssertionError(f"{what}: expected {wanted}, got {_KINDS[array.dtype.kind][0]} (dtype {array.dtype})")
    if expected.dtype.kind in "iub":
        wrong = array != expected
    else:
        array = array.astype(float)
        finite = np.isfinite(expected)
        bad = finite & ~np.isfinite(array)
        if bad.any():
            raise AssertionError(f"{what}: {int(bad.sum())} of {bad.size} entries are nan or inf, "
                                 "where finite values are expected")
        wrong = ~np.isclose(array, expected, rtol=rtol, atol=atol, equal_nan=True)
    if wrong.any():
        first = tuple(int(i) for i in np.argwhere(wrong)[0])
        detail = f"wrong values at {int(wrong.sum())} of {wrong.size} entries"
        if expected.shape:
            detail += f", the first at index {first if len(first) > 1 else first[0]}"
        if expected.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                error = np.nanmax(np.where(wrong, np.abs(array - expected), 0.0))
            detail += f" (largest error {error:.2g}; tolerance {atol:g} + {rtol:g} |expected|)"
        raise AssertionError(f"{what}: {detail}" + (f"; {hint}" if hint else ""))
