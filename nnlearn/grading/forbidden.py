"""Answers that use what the exercise asks them to write earn nothing.

Each exercise lists forbidden names in its metadata (`"forbidden": ["nnlearn.perceptron.train_perceptron",
"torch.optim"]`): the course's own implementation of what it asks and the library equivalents. A
name forbids itself and everything under it. `violations` reads the submission's answers with the
static analysis of dataflow.py and refuses an exercise whose answer uses one of its own forbidden
names: directly, through an alias, or through a function or class of any answer (a wrapper
written in another exercise counts). A name matches by its dotted prefix and by object identity,
so re-exports count (`nnlearn.linear.quadratic_cost` is `nnlearn.losses.quadratic_cost`); objects
are looked up only in modules already loaded, in the course package and in the modules the
forbidden names themselves name, never by importing what a student wrote. Code the analysis
cannot follow (eval, getattr with a computed name, globals(), importlib, ...) counts as use.
Names the setup binds stay usable though they sit under a forbidden module, unless the bound
name itself is forbidden. A forbidden method (`torch.Tensor.sigmoid`) is matched by name on a
value whose provenance includes its package (`torch.as_tensor(v).sigmoid()`), types being unknown.

Limits: constant strings are not folded (`getattr(m, "a" + "b")` counts as dynamic), and a module
file the notebook writes under the name of an installed package it has not imported yet is only
kept out if the kernel has no writable folder on sys.path (`python -P`).
"""
import functools
import importlib
import inspect
import pkgutil
import sys
import types

from .dataflow import MAX_SOURCE, Analysis, parse

DYNAMIC = (  # objects whose use hides what code does or where a value comes from
    "builtins.eval", "builtins.exec", "builtins.compile", "builtins.__import__", "builtins.globals",
    "builtins.locals", "builtins.vars", "builtins.getattr", "builtins.setattr", "builtins.delattr",
    "builtins.breakpoint", "builtins.__build_class__", "importlib", "imp", "pkgutil", "zipimport", "runpy",
    "code", "codeop", "ctypes", "cffi", "inspect", "gc", "pickle", "_pickle", "marshal", "shelve", "dill",
    "cloudpickle", "joblib", "copyreg", "site", "__main__", "IPython", "ipykernel", "jupyter_client",
    "sys.modules", "sys.path", "sys.meta_path", "sys.path_hooks", "sys.path_importer_cache", "sys._getframe",
    "sys.settrace", "sys.setprofile", "sys.exc_info", "sys.exception", "sys.last_traceback", "sys.last_value",
    "sys._current_frames", "types.FunctionType", "types.CodeType", "types.LambdaType", "types.ModuleType",
    "operator.attrgetter", "operator.methodcaller", "string.Formatter", "subprocess", "multiprocessing",
    "concurrent.futures.process", "pty", "os.system", "os.popen", "os.execv", "os.execve", "os.execl",
    "os.execle", "os.execlp", "os.execlpe", "os.execvp", "os.execvpe", "os.spawnv", "os.spawnve", "os.spawnl",
    "os.spawnle", "os.spawnlp", "os.spawnlpe", "os.spawnvp", "os.spawnvpe", "os.posix_spawn", "os.posix_spawnp",
    "numpy.load", "torch.load", "torch.hub", "torch.package", "torch.jit.load", "pandas.read_pickle")
_MISSING = object()


def violations(setup, answers, forbidden, resolver=None):
    """{exercise id: message} for each exercise whose answer uses one of its forbidden names.
    setup: the instructor's kernel setup sources; answers: [(exercise id, [sources])] in the
    order the grader runs them; forbidden: {exercise id: [qualified names]}."""
    resolver = resolver or Resolver()
    cells, total = [], 0
    for ex, sources in [(None, setup), *answers]:
        for source in sources:
            total += len(source)
            tree = parse(source) if total <= MAX_SOURCE else None
            reason = "answers too long for the grader to read" if total > MAX_SOURCE else "code the grader cannot parse"
            cells.append((ex, tree if tree is not None else reason))
    found, count = {}, len(cells) - len(answers)
    for ex, sources in answers:
        count += len(sources)
        names = list(forbidden.get(ex) or [])
        if not names:
            continue
        try:
            message = verdict(Analysis(cells[:count]), ex, names, resolver)   # the kernel's state when ex is graded
        except Exception as exc:   # a bug of the analysis must not let an answer through
            message = (f"the grader could not check this answer for forbidden names ({type(exc).__name__}), "
                       "so it earns no points for now: please tell your instructor")
        if message:
            found[ex] = message
    return found


def verdict(analysis, ex, names, resolver):
    """The message refusing exercise ex, or None."""
    given, rules = analysis.given(), {}
    for kind, what, name, origin, hop in analysis.events(ex):
        key = (kind, what, origin if kind == "method" else None)
        if key not in rules:
            rules[key] = _rule(kind, what, origin, names, given, resolver)
        if rules[key]:
            head, tail = rules[key]
            return head + _how(what, name, origin if kind == "use" else None, hop, ex) + tail
    return None


def _rule(kind, what, origin, names, given, resolver):
    """(message before, message after the 'through ...' part) if the event is refused, else None."""
    if kind == "dyn":
        return f"uses {what}", _DYNAMIC
    if kind == "star":
        hit = next((f for f in names if resolver.under(what, f) or resolver.under(f, what)), None)
        return (f"imports everything from {what}", f", {hit} included{_REFUSED}") if hit else None
    if kind == "method":   # origin: the packages the object's value came from
        hit = next((f for f in names if f.rpartition(".")[2] == what and f.split(".")[0] in origin
                    and resolver.is_class(f.rpartition(".")[0])), None)
        return (f"uses {hit} as the method `.{what}`", _REFUSED) if hit else None
    if kind != "use":
        return None
    if any(resolver.under(what, d) for d in DYNAMIC):
        return f"uses `{what.removeprefix('builtins.')}`", _DYNAMIC
    for f in names:
        if resolver.under(what, f) and not any(resolver.under(what, g) and resolver.under(g, f)
                                               and not resolver.same(g, f) for g in given):
            return f"uses {f}", _REFUSED
    return None


_DYNAMIC = (", which the grader cannot check for forbidden names: write the answer without it "
            "(as it is, it earns no points)")
_REFUSED = ": this exercise asks you to write it yourself, so it earns no points"


def _how(what, name, origin, hop, ex):
    if hop is not None:
        return f" (through `{hop[0]}`, defined in the answer to {hop[1]})"
    if origin and origin[1] not in (None, ex):
        return f" (through `{name}`, {origin[0]} in the answer to {origin[1]})"
    plain = name in ("", "*") or name in str(what).replace("`", ".").split(".")
    return "" if plain else f" (through `{name}`)"


# --- names and objects --------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def course_modules():
    import nnlearn
    return frozenset(m.name for m in pkgutil.iter_modules(nnlearn.__path__)
                     if m.name != "grading" and not m.name.startswith("_"))


class Resolver:
    """`under(q, f)`: q is f or lies under it, by dotted prefix or because the object q names
    is reached through the object f names (a re-export, a module alias)."""

    def __init__(self):
        self._chains, self._objects = {}, {}

    def under(self, q, f):
        if q == f or q.startswith(f + "."):
            return True
        self.chain(q)             # loads the course module q names, if any
        top = f.split(".")[0]
        if top != q.split(".")[0] and top not in sys.modules:
            return False        # nothing loaded can be f: its package is not
        target = self.object(f)
        return target is not None and any(o is target for o in self.chain(q))

    def same(self, a, b):
        return a == b or (self.object(a) is not None and self.object(a) is self.object(b))

    def is_class(self, qual):
        obj = self.object(qual) if qual else None
        return isinstance(obj, type) if obj is not None else qual.rpartition(".")[2][:1].isupper()

    def chain(self, qual, trusted=False):
        """The objects the prefixes of qual name, as far as they are found without running code
        (a trusted name may import its module)."""
        stamp = len(sys.modules)
        cached = self._chains.get((qual, trusted))
        if cached is None or cached[0] != stamp:
            parts = qual.split(".")
            _load(parts, trusted)
            objects, obj = [], sys.modules.get(parts[0], _MISSING)
            for part in parts[1:] + [None]:
                if obj is _MISSING:
                    break
                objects.append(obj)
                obj = _member(obj, part) if part else _MISSING
            cached = self._chains[(qual, trusted)] = (len(sys.modules), tuple(objects))
        return cached[1]

    def object(self, qual):
        """The object a trusted name (the instructor's, or the policy's) names, or None."""
        chain = self.chain(qual, trusted=True)
        return chain[-1] if len(chain) == qual.count(".") + 1 else None


def _load(parts, trusted):
    """Import what a name needs: a course module; for a trusted name, its longest importable prefix."""
    names = [f"nnlearn.{parts[1]}"] if parts[0] == "nnlearn" and len(parts) > 1 and parts[1] in course_modules() else []
    if trusted:
        names += [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
    for name in names:
        if name in sys.modules:
            break
        try:
            importlib.import_module(name)
            break
        except Exception:   # not a module (an attribute), or one that fails to import here
            continue


def _member(obj, name):
    if isinstance(obj, types.ModuleType):
        namespace = vars(obj)
        value = namespace.get(name, _MISSING)
        if value is _MISSING and isinstance(namespace.get("__name__"), str):
            value = sys.modules.get(f"{namespace['__name__']}.{name}", _MISSING)
        return value
    if isinstance(obj, type):
        value = inspect.getattr_static(obj, name, _MISSING)
        return value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
    return _MISSING
