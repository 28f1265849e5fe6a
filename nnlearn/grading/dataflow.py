"""What an exercise's answer reaches: a static analysis (ast) of a notebook's answers.

The cells run in one namespace, the instructor's setup first, then the answers in grading
order. Top-level code is followed statement by statement (a plain rebinding replaces what a
name held; one inside `if`, `for`, `try` adds to it). A function, class or lambda defined at
the top of an answer is a unit: its body is read when something reaches it, with each global
name meaning anything it is bound to from the definition on. Values are sets of atoms: a Ref
names an object outside the answers ('nnlearn.perceptron.train_perceptron'), a Unit is an
answer's definition, GIVEN an opaque value the setup defines. Attribute and container stores
(`np.f = g`, `fs.append(g)`, `self.f = g`) are kept per attribute name, so reading them back
finds them. Each answer yields events: ("use", qualified name), ("reach", unit),
("star", module), ("method", attribute name) read from a value of unknown type, and
("dyn", what): code the analysis cannot follow.
"""
import ast
import builtins
import copy
import functools
import importlib.machinery
import os
import re
import sys
from dataclasses import dataclass, replace

from . import magics

DYNAMIC_ATTRS = frozenset({
    "__dict__", "__globals__", "__builtins__", "__code__", "__closure__", "__subclasses__", "__import__",
    "__loader__", "__spec__", "__getattribute__", "__getattr__", "__setattr__", "__delattr__", "__self__",
    "__reduce__", "__reduce_ex__", "__defaults__", "__kwdefaults__", "__annotations__", "__file__", "__path__",
    "__cached__", "f_globals", "f_locals", "f_back", "f_builtins", "f_code", "tb_frame", "gi_frame", "cr_frame",
    "ag_frame", "co_code", "co_consts", "__traceback__"})
# IPython's history (Out[3] holds what a cell showed) and the namespace's own entries
DYNAMIC_GLOBALS = re.compile(r"(In|Out|_ih|_oh|_dh|_i{1,3}|_{1,3}|_i?\d+|get_ipython|exit|quit"
                             r"|__builtins__|__loader__|__spec__)\Z")
ATTR_FUNCTIONS = {"builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.hasattr"}
MAX_MAGIC_DEPTH = 3      # % commands inside the code a timing command runs
MAX_PARTS, MAX_ROUNDS, MAX_READS, MAX_SOURCE = 10, 12, 20_000, 500_000
SETUP, BUILTIN = ("given by the setup", None), ("built in", None)
GIVEN = "given"
EMPTY = frozenset()
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
          ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Ref:
    qual: str
    direct: bool           # the object itself, not what calling or indexing it gave
    origin: tuple          # (how it entered the notebook, exercise id or None)


class Unit:
    def __init__(self, node, name, exercise):
        self.node, self.name, self.exercise = node, name, exercise
        self.pos, self.snapshot = 0, {}


def derive(atoms):
    if not any(isinstance(a, Ref) and a.direct for a in atoms):
        return atoms
    return frozenset(Ref(a.qual, False, a.origin) if isinstance(a, Ref) else a for a in atoms)


def attribute(ref, name):
    return ref if ref.qual.count(".") + 1 >= MAX_PARTS else replace(ref, qual=f"{ref.qual}.{name}")


def root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
        if isinstance(node, ast.Call):
            node = node.args[0] if not isinstance(node.func, ast.Attribute) and node.args else node.func
        else:
            node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def parse(source):
    """The cell as IPython runs it (magics become get_ipython() calls); None if unreadable.
    A one-line cell that automagic may run as a % command is read both ways."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        source = TransformerManager().transform_cell(source)
    except Exception:   # no IPython, or a cell it cannot transform: read the cell as it is
        pass
    trees = []
    for text in (source, magics.automagic(source)):
        try:
            trees.append(ast.parse(text) if text is not None else None)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            trees.append(None)
    if trees[1] is not None:
        return ast.Module((trees[0].body if trees[0] else []) + trees[1].body, [])
    return trees[0]


@functools.cache
def installed(top):
    """Whether a top-level module is part of Python or installed (not a file a notebook wrote)."""
    if top in sys.builtin_module_names or top in sys.stdlib_module_names or top in sys.modules:
        return True
    path = [p for p in sys.path if p and os.path.abspath(p) != os.getcwd()]
    for finder in sys.meta_path:
        try:
            if finder.find_spec(top, path if finder is importlib.machinery.PathFinder else None):
                return True
        except Exception:   # a broken finder of some package says nothing about this one
            pass
    return False


def bound_names(node):
    """(names a scope binds, names it declares global); nested scopes are skipped."""
    bound, declared, nonlocal_ = set(), set(), set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = node.args
        bound |= {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if x}
        todo = list(node.body) if isinstance(node.body, list) else [node.body]
    else:
        todo = list(node.body) if isinstance(node, ast.ClassDef) else [g.target for g in node.generators]
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
            continue
        if isinstance(n, SCOPES):
            continue
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            bound.add(n.id)
        elif isinstance(n, ast.alias) and n.name != "*":
            bound.add(n.asname or n.name.split(".")[0])
        elif isinstance(n, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and n.name:
            bound.add(n.name)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            bound.add(n.rest)
        elif isinstance(n, ast.Global):
            declared |= set(n.names)
        elif isinstance(n, ast.Nonlocal):
            nonlocal_ |= set(n.names)
        todo.extend(ast.iter_child_nodes(n))
    return bound - declared - nonlocal_, declared


# --- namespaces -------------------------------------------------------------------------

class Top:
    """The notebook's global namespace, statement by statement."""

    def __init__(self, analysis):
        self.a, self.env = analysis, {}

    def lookup(self, name):
        extra = self.a.get("globals", name)
        return (True, self.env[name] | extra) if name in self.env else (False, extra)

    def store(self, name, atoms, weak):
        if weak:   # bound on some paths only: what it held (or the builtin) stays possible
            atoms = atoms | self.env.get(name, self.a.fallback(name))
        self.env[name] = frozenset(atoms)
        self.a.log.setdefault(name, []).append((self.a.pos, self.env[name]))

    def stars(self):
        return self.env.get("*", EMPTY)


class ModuleView:
    """The global namespace as a unit's body sees it: anything bound from its definition on."""

    def __init__(self, analysis, unit):
        self.a, self.unit = analysis, unit

    def lookup(self, name):
        atoms = self.a.later(name, self.unit.pos) | self.a.get("globals", name)
        snapshot = self.unit.snapshot
        return (True, snapshot[name] | atoms) if name in snapshot else (False, atoms)

    def store(self, name, atoms, weak):
        self.a.grow("globals", name, atoms)

    def stars(self):
        return self.unit.snapshot.get("*", EMPTY) | self.a.later("*", self.unit.pos)


class Scope:
    """A function, class or comprehension scope; its names are flow-insensitive."""

    def __init__(self, analysis, node, kind):
        self.a, self.kind, self.parent = analysis, kind, None
        self.bound, self.declared = bound_names(node)

    def module(self):
        s = self
        while isinstance(s, Scope):
            s = s.parent
        return s

    def lookup(self, name):
        s, first = self, True
        while isinstance(s, Scope) and name not in s.declared:
            if name in s.bound and (first or s.kind != "class"):   # methods do not see class names
                atoms = self.a.get("locals", (s, name))
                return (True, atoms | self.module().lookup(name)[1]) if s.kind == "class" else (True, atoms)
            s, first = s.parent, False
        return self.module().lookup(name)

    def store(self, name, atoms, weak=True):
        s = self
        while isinstance(s, Scope) and name not in s.declared:
            if name in s.bound:
                return self.a.grow("locals", (s, name), atoms)
            s = s.parent
        self.module().store(name, atoms, True)

    def stars(self):
        return self.module().stars()


# --- the walker ---------------------------------------------------------------------------

class Walker:
    def __init__(self, analysis, scope, sink, exercise, unit=None):
        self.a, self.scope, self.sink, self.ex, self.unit = analysis, scope, sink, exercise, unit
        self.top = isinstance(scope, Top)
        self.setup = exercise is None

    def child(self, scope):
        return Walker(self.a, scope, self.sink, self.ex, self.unit)

    def note(self, atoms, name):
        for x in atoms:
            if isinstance(x, Ref):
                self.sink[("use", x.qual, name, x.origin)] = None
            elif isinstance(x, Unit):
                self.sink[("reach", x, name, None)] = None

    def dyn(self, what, name):
        self.sink[("dyn", what, name, None)] = None

    # statements
    def body(self, stmts, weak):
        for s in stmts:
            self.stmt(s, weak)

    def stmt(self, node, weak=False):
        if self.top:
            self.a.pos += 1
        weak = weak or not self.top
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.define(node, weak)
        elif isinstance(node, ast.Import):
            for al in node.names:
                self.import_(al.name, al.asname or al.name.split(".")[0], al.name if al.asname
                             else al.name.split(".")[0], weak)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for al in node.names:
                if al.name == "*":
                    self.check_installed(module)
                    self.sink[("star", module, "*", ("imported", self.ex))] = None
                    self.scope.store("*", {Ref(module, True, SETUP if self.setup else ("imported", self.ex))}, True)
                else:
                    self.import_(f"{module}.{al.name}", al.asname or al.name, f"{module}.{al.name}", weak)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            atoms = self.expr(node.value)
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if node.value is not None:
                    self.assign(target, atoms, weak)
        elif isinstance(node, ast.AugAssign):
            load = self.expr(_as_load(node.target))
            self.assign(node.target, derive(load | self.expr(node.value)), True)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            for _ in range(2):   # a value can take a second turn to reach a name
                if isinstance(node, ast.While):
                    self.expr(node.test)
                else:
                    self.assign(node.target, derive(self.expr(node.iter)), True)
                self.body(node.body, True)
            self.body(node.orelse, True)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                atoms = derive(self.expr(item.context_expr))
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, atoms, True)
            self.body(node.body, weak)
        elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            self.body(node.body, True)
            for handler in node.handlers:
                atoms = derive(self.expr(handler.type))
                if handler.name:
                    self.scope.store(handler.name, atoms, True)
                self.body(handler.body, True)
            self.body(node.orelse, True)
            self.body(node.finalbody, weak)
        elif isinstance(node, ast.If):
            self.expr(node.test)
            self.body(node.body, True)
            self.body(node.orelse, True)
        elif isinstance(node, ast.Match):
            atoms = derive(self.expr(node.subject))
            for case in node.cases:
                for n in ast.walk(case.pattern):
                    if isinstance(n, ast.expr):
                        self.expr(n)
                    name = getattr(n, "name", None) or getattr(n, "rest", None)
                    if isinstance(name, str):
                        self.scope.store(name, atoms, True)
                self.expr(case.guard)
                self.body(case.body, True)
        elif isinstance(node, ast.Return) and self.unit is not None:
            self.a.grow("returns", self.unit, self.expr(node.value))
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in DYNAMIC_ATTRS:
                    self.dyn(f"`.{target.attr}`", root_name(target))
        else:   # Expr, Return, Raise, Assert, Global, Pass, ...
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)

    def import_(self, qual, name, value, weak):
        self.check_installed(qual)
        self.sink[("use", qual, name, ("imported", self.ex))] = None   # importing runs the module
        self.scope.store(name, {Ref(value, True, SETUP if self.setup else ("imported", self.ex))}, weak)

    def check_installed(self, qual):
        top = qual.split(".")[0]
        if not top:
            self.dyn(f"a relative import (`{qual}`)", "")
        elif not installed(top):
            self.dyn(f"the module `{top}`, not an installed one (a file the notebook wrote?)", top)

    def define(self, node, weak):
        decorators = self.exprs(node.decorator_list)
        if isinstance(node, ast.ClassDef):
            self.exprs(node.bases + [k.value for k in node.keywords])
        if self.top and self.setup:
            value = {GIVEN}
        elif self.top:
            unit = self.a.unit(node, node.name, self.ex)
            value = {unit} | derive(decorators)
        else:   # nested in a unit: read here, with the unit
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            child = self.a.scope(node, self.scope, kind)
            if kind == "function":
                self.defaults(node.args, child)
            self.child(child).body(node.body, True)
            value = derive(decorators) | ({self.unit} if self.unit else set())
        self.scope.store(node.name, frozenset(value), weak)
        if self.top and not self.setup:
            unit.pos, unit.snapshot = self.a.pos, dict(self.scope.env)

    def defaults(self, args, scope):
        positional = args.posonlyargs + args.args
        pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        for arg, default in pairs:
            scope.store(arg.arg, self.expr(default), True)

    def assign(self, target, atoms, weak):
        if isinstance(target, ast.Name):
            self.scope.store(target.id, atoms, weak)
        elif isinstance(target, ast.Attribute):
            if target.attr in DYNAMIC_ATTRS:
                self.dyn(f"`.{target.attr}`", root_name(target))
            self.store_attr(self.expr(target.value), target.attr, atoms)
        elif isinstance(target, ast.Subscript):
            self.expr(target.slice)
            self.expr(target.value)
            self.store_into(target.value, atoms)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.assign(element, atoms, weak)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, atoms, weak)

    def store_attr(self, objects, name, atoms):
        for key in {f"*.{name}"} | {f"{x.qual}.{name}" for x in objects if isinstance(x, Ref)}:
            self.a.grow("stores", key, atoms)

    def store_into(self, node, atoms):
        """A value put into a container (x[i] = v, x.append(v)) is what x may give back."""
        if isinstance(node, ast.Name):
            self.scope.store(node.id, atoms, True)
        elif isinstance(node, ast.Attribute):
            self.store_attr(self.expr(node.value, False), node.attr, atoms)
        elif isinstance(node, (ast.Subscript, ast.Starred)):
            self.store_into(node.value, atoms)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                self.store_into(element, atoms)

    # expressions
    def exprs(self, nodes):
        atoms = EMPTY
        for node in nodes:
            atoms |= self.expr(node)
        return atoms

    def expr(self, node, record=True):
        if node is None or isinstance(node, ast.Constant):
            return EMPTY
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                return EMPTY
            bound, atoms = self.scope.lookup(node.id)
            if not bound:
                atoms = atoms | self.unbound(node.id, record)
            if record:
                self.note(atoms, node.id)
            return atoms
        if isinstance(node, ast.Attribute):
            return self.attr(self.expr(node.value, record), node.attr, root_name(node), record)
        if isinstance(node, ast.Call):
            return self.call(node, record)
        if isinstance(node, ast.Lambda):
            return self.lambda_(node)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return self.comprehension(node)
        if isinstance(node, ast.NamedExpr):
            atoms = self.expr(node.value, record)
            self.scope.store(node.target.id, atoms, True)
            return atoms
        atoms = EMPTY
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                atoms |= self.expr(child, record)
        return derive(atoms)

    def unbound(self, name, record):
        if record and DYNAMIC_GLOBALS.match(name):
            self.dyn("a % or ! command (`get_ipython`)" if name == "get_ipython" else f"`{name}`", name)
        return self.a.fallback(name) | frozenset(attribute(s, name) for s in self.scope.stars() if isinstance(s, Ref))

    def attr(self, objects, name, root, record):
        if record and name in DYNAMIC_ATTRS:
            self.dyn(f"`.{name}`", root)
        if record and not all(isinstance(x, Ref) and x.direct for x in objects):
            # x.sigmoid() may be torch.Tensor.sigmoid: the packages x's value came from
            tops = frozenset(x.qual.split(".")[0] for x in objects if isinstance(x, Ref))
            self.sink[("method", name, root, tops)] = None
        out = set(self.a.get("stores", f"*.{name}"))
        for x in objects:
            if isinstance(x, Ref):
                out.add(attribute(x, name))
                out |= self.a.get("stores", f"{x.qual}.{name}")
            else:
                out.add(x)      # an attribute of an answer's class is part of that class
        if record:
            self.note(out, root)
        return frozenset(out)

    def call(self, node, record):
        func, args = node.func, node.args
        magic = magics.parts(node)
        if magic and self.scope.lookup("get_ipython")[1] <= {Ref("builtins.get_ipython", True, BUILTIN)}:
            return self.magic(node, *magic)
        callee = self.expr(func, False)
        kinds = {x.qual for x in callee if isinstance(x, Ref) and x.direct}
        if (len(kinds) == 1 and kinds <= ATTR_FUNCTIONS and len(callee) == 1 and len(args) >= 2
                and not node.keywords and not any(isinstance(a, ast.Starred) for a in args)
                and isinstance(args[1], ast.Constant) and isinstance(args[1].value, str)):
            # getattr(x, "name") is x.name; setattr(x, "name", v) is x.name = v
            objects, rest = self.expr(args[0], record), [self.expr(a, record) for a in args[2:]]
            if kinds == {"builtins.getattr"}:
                return self.attr(objects, args[1].value, root_name(args[0]), record) | (rest[0] if rest else EMPTY)
            if kinds == {"builtins.setattr"} and rest:
                self.store_attr(objects, args[1].value, rest[0])
            return EMPTY
        callee = self.expr(func, record)
        values = self.exprs(args) | self.exprs([k.value for k in node.keywords])
        if isinstance(func, ast.Attribute) and values:   # x.append(v), d.update(k=v)
            receiver = self.expr(func.value, False)
            if not receiver or not all(isinstance(x, Ref) and x.direct for x in receiver):
                self.store_into(func.value, values)
        # what a call gives: an answer's function its return values, an answer's class an
        # instance (the class itself), anything else may hand back its arguments
        result = set() if callee and all(isinstance(x, Unit) for x in callee) else set(values)
        for x in callee:
            if isinstance(x, Unit) and not isinstance(x.node, ast.ClassDef):
                self.pass_arguments(x, node)
                result |= self.a.get("returns", x)
            else:
                result.add(x)
        return derive(frozenset(result))

    def magic(self, node, name, line, cell):
        """A % command: a timing one is read as the code it runs (a value flows out of `%time`),
        at the top of a cell only: inside a function its names live elsewhere."""
        if magics.harmless(name, line, cell):
            return EMPTY
        sources = magics.code(name, line, cell) if name in magics.TIMING else None
        if sources is None or not self.top or self.a.magic_depth >= MAX_MAGIC_DEPTH:
            where = "" if sources is None or self.top else " inside a function or class"
            self.dyn(f"a % or ! command (`%{'%' if cell is not None else ''}{name}`{where})", "")
            return EMPTY
        value, self.a.magic_depth = EMPTY, self.a.magic_depth + 1
        try:
            for i, source in enumerate(sources):
                key = (node, i)
                if key not in self.a.magic_trees:   # parsed once: its definitions stay the same units
                    self.a.magic_trees[key] = parse(source)
                tree = self.a.magic_trees[key]
                if tree is None:
                    self.dyn(f"code the grader cannot parse (in `%{name}`)", "")
                    continue
                for stmt in tree.body:
                    if isinstance(stmt, ast.Expr):
                        self.a.pos += 1
                        value = self.expr(stmt.value)   # %time gives the value of a last expression
                    else:
                        self.stmt(stmt, True)   # %timeit binds in a function of its own: may, not must
                        value = EMPTY
        finally:
            self.a.magic_depth -= 1
        return value if name == "time" else EMPTY

    def pass_arguments(self, unit, call):
        """What a call gives a unit's parameters, found by position or keyword (all of them
        for *args or **kwargs)."""
        if isinstance(unit.node, ast.ClassDef):
            return
        a = unit.node.args
        positional = [x.arg for x in a.posonlyargs + a.args]
        names = positional + [x.arg for x in a.kwonlyargs] + [x.arg for x in (a.vararg, a.kwarg) if x]
        spread = any(isinstance(x, ast.Starred) for x in call.args) or any(k.arg is None for k in call.keywords)
        for i, arg in enumerate(call.args):
            atoms = self.expr(arg, False)
            targets = names if spread else positional[i:i + 1] or [x.arg for x in (a.vararg,) if x]
            for name in targets:
                self.a.grow("arguments", (unit, name), atoms)
        for keyword in call.keywords:
            atoms = self.expr(keyword.value, False)
            targets = names if keyword.arg is None else [keyword.arg] if keyword.arg in names else \
                [x.arg for x in (a.kwarg,) if x]
            for name in targets:
                self.a.grow("arguments", (unit, name), atoms)

    def lambda_(self, node):
        if self.top and self.setup:
            return frozenset({GIVEN})
        if self.top:
            unit = self.a.unit(node, "lambda", self.ex)
            self.exprs(node.args.defaults + [d for d in node.args.kw_defaults if d is not None])
            unit.pos, unit.snapshot = self.a.pos, dict(self.scope.env)
            return frozenset({unit})
        child = self.a.scope(node, self.scope, "function")
        self.defaults(node.args, child)
        return derive(self.child(child).expr(node.body)) | ({self.unit} if self.unit else EMPTY)

    def comprehension(self, node):
        child = self.a.scope(node, self.scope, "comprehension")
        inner = self.child(child)
        for generator in node.generators:
            inner.assign(generator.target, derive(inner.expr(generator.iter)), True)
            inner.exprs(generator.ifs)
        parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        return derive(inner.exprs(parts))


def _as_load(target):
    node = copy.deepcopy(target)
    for n in ast.walk(node):
        if hasattr(n, "ctx"):
            n.ctx = ast.Load()
    return node


# --- the analysis ------------------------------------------------------------------------

class Analysis:
    """Runs the cells [(exercise id or None for the setup, tree or why it is unreadable)] until
    nothing new flows. Flows between units go through tables (attribute stores, globals set by
    functions, return values, arguments, locals); reading an entry registers the reader, and an
    entry that grows queues its readers again (or the top-level pass, for another round)."""

    def __init__(self, cells):
        self.cells, self.units, self.scopes = cells, {}, {}
        self.magic_trees, self.magic_depth = {}, 0
        self.tables = {name: {} for name in ("stores", "globals", "returns", "arguments", "locals")}
        self.readers, self.unit_events = {}, {}
        for _ in range(MAX_ROUNDS):
            self.top_dirty, self.reading, self.queue = False, None, {}
            self.run()
            self.queue.update(dict.fromkeys(self.units.values()))
            reads = 0
            while self.queue and reads < MAX_READS:
                self.reading = next(iter(self.queue))
                del self.queue[self.reading]
                self.unit_events[self.reading] = self.read(self.reading)
                reads += 1
            if not self.top_dirty:
                break

    def run(self):
        self.pos, self.log, self.top_events = 0, {}, {}
        top = Top(self)
        for ex, tree in self.cells:
            sink = self.top_events.setdefault(ex, {})
            if not isinstance(tree, ast.Module):
                sink[("dyn", tree, "", None)] = None
                continue
            walker = Walker(self, top, sink, ex)
            for stmt in tree.body:
                try:
                    walker.stmt(stmt)
                except RecursionError:
                    sink[("dyn", "code nested too deeply", "", None)] = None
            if ex is None:
                self.given_env = dict(top.env)

    def read(self, unit):
        sink, node = {}, unit.node
        view = ModuleView(self, unit)
        outer = Walker(self, view, sink, unit.exercise, unit)
        try:
            outer.exprs(getattr(node, "decorator_list", []))
            if isinstance(node, ast.ClassDef):
                outer.exprs(node.bases + [k.value for k in node.keywords])
                outer.child(self.scope(node, view, "class")).body(node.body, True)
            else:
                scope = self.scope(node, view, "function")
                outer.defaults(node.args, scope)
                for name in scope.bound:
                    scope.store(name, self.get("arguments", (unit, name)))
                inner = outer.child(scope)
                if isinstance(node, ast.Lambda):
                    self.grow("returns", unit, inner.expr(node.body))
                else:
                    inner.body(node.body, True)
        except RecursionError:
            sink[("dyn", "code nested too deeply", unit.name, None)] = None
        return sink

    # shared state
    def unit(self, node, name, exercise):
        if node not in self.units:
            self.units[node] = Unit(node, name, exercise)
        return self.units[node]

    def scope(self, node, parent, kind):
        if node not in self.scopes:
            self.scopes[node] = Scope(self, node, kind)
        self.scopes[node].parent = parent
        return self.scopes[node]

    def get(self, table, key):
        self.readers.setdefault((table, key), set()).add(self.reading)
        return self.tables[table].get(key, EMPTY)

    def grow(self, table, key, atoms):
        old = self.tables[table].get(key, EMPTY)
        if atoms <= old:
            return
        self.tables[table][key] = old | frozenset(atoms)
        for reader in self.readers.get((table, key), ()):
            if reader is None:
                self.top_dirty = True
            else:
                self.queue[reader] = None

    def later(self, name, pos):
        return frozenset().union(*(atoms for p, atoms in self.log.get(name, ()) if p > pos))

    def fallback(self, name):
        """What an unbound name means: the builtin, and whatever an answer stored there."""
        atoms = self.get("stores", f"builtins.{name}")
        return atoms | {Ref(f"builtins.{name}", True, BUILTIN)} if hasattr(builtins, name) else atoms

    # results
    def given(self):
        """Qualified names the setup binds."""
        env = getattr(self, "given_env", {})
        return {x.qual for atoms in env.values() for x in atoms if isinstance(x, Ref)}

    def events(self, ex):
        """Events of ex's answers and of every unit they reach, in order, each with the first
        hop into another exercise's unit: (the name it was reached by, that exercise), or None."""
        todo = [(e, None) for e in self.top_events.get(ex, {})]
        todo += [(e, None) for u, events in self.unit_events.items() if u.exercise == ex for e in events]
        seen, out = {u for u in self.unit_events if u.exercise == ex}, []
        while todo:
            event, hop = todo.pop(0)
            out.append((*event, hop))
            unit = event[1]
            if event[0] == "reach" and unit not in seen:
                seen.add(unit)
                hop = hop or ((event[2] or unit.name, unit.exercise) if unit.exercise != ex else None)
                todo += [(e, hop) for e in self.unit_events.get(unit, {})]
        return out
