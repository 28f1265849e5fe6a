"""IPython's % commands in an answer, as the forbidden-name analysis (dataflow.py) sees them.

IPython runs `%name line` (or a one-line cell `name line`, by automagic) as
`get_ipython().run_line_magic('name', 'line')`, and a `%%name line` cell as
`run_cell_magic('name', 'line', body)`. Three kinds:
- timing (`%time`, `%timeit`, `%%time`, `%%timeit`, with their options): `code` gives the
  Python they run, split from the options by IPython's own parsers, for the analysis to read
  like any other code;
- harmless: commands that run no answer code and import nothing (`%matplotlib inline`,
  `%precision 3`, `%who`, `%config InlineBackend.figure_format = 'svg'`, `%load_ext autoreload`,
  `%autoreload 2`), each only with plain arguments: IPython evaluates `{expr}` and `$name` in
  most lines, `%config` runs its value as Python, `%load_ext x` imports x, `%matplotlib
  module://x` imports x;
- everything else (`%run`, `%load`, `%%bash`, `!cmd`, ...) is code the analysis cannot follow.
"""
import ast
import builtins
import functools
import keyword
import re

TIMING = frozenset({"time", "timeit"})
_PLAIN = {   # harmless commands: the arguments each may have
    "matplotlib": re.compile(r"\s*(inline|widget|ipympl|notebook|nbagg|agg|svg|pdf|auto)?\s*\Z"),
    "precision": re.compile(r"\s*(\d{1,2}|%\.\d{1,2}[efg])?\s*\Z"),
    "who": re.compile(r"[\w\s]*\Z"),
    "whos": re.compile(r"[\w\s]*\Z"),
    "load_ext": re.compile(r"\s*autoreload\s*\Z"),
    "autoreload": re.compile(r"\s*(0|1|2|3|off|explicit|all|complete|now)?(\s+(-p|--print|-l|--log|--hide-errors))*\s*\Z"),
    "config": re.compile(r"\s*((InlineBackend\.figure_formats?|(IP)?Completer\.use_jedi)\s*=\s*"
                         r"('[a-z]+'|\"[a-z]+\"|True|False|\[('[a-z]+',?\s*)+\]))?\s*\Z"),
}


def parts(node):
    """(name, line, cell body or None) of `get_ipython().run_line_magic(name, line)` or
    `.run_cell_magic(name, line, body)` with constant strings, else None."""
    func, n = node.func, 2 if getattr(node.func, "attr", "") == "run_line_magic" else 3
    if not (isinstance(func, ast.Attribute) and func.attr in ("run_line_magic", "run_cell_magic")
            and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "get_ipython" and not func.value.args and not func.value.keywords
            and len(node.args) == n and not node.keywords
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)):
        return None
    values = [a.value for a in node.args]
    return values[0], values[1], values[2] if n == 3 else None


def harmless(name, line, cell):
    return cell is None and name in _PLAIN and bool(_PLAIN[name].match(line))


def code(name, line, cell):
    """The sources a timing command runs (timeit's setup first), split from its options as
    IPython splits them; None if IPython would refuse the options."""
    try:
        if name == "timeit":
            from IPython.core.magic import Magics
            shell = type("Options", (), {"options_table": {}})()   # a kernel's table is empty unless set
            _, stmt = Magics.parse_options(shell, line, "n:r:tcp:qov:", posix=False, strict=False,
                                           preserve_non_opts=True)
            return [stmt] if cell is None else [stmt, cell]
        from IPython.core.magic_arguments import parse_argstring
        from IPython.core.magics.execution import ExecutionMagics
        if re.search(r"(^|\s)-(h|-h)", line):   # --help prints and exits
            return None
        _, extra = parse_argstring(ExecutionMagics.time, line, partial=True)
        return [" ".join(extra)] + ([] if cell is None else [cell])
    except (Exception, SystemExit):   # an option IPython rejects: nothing runs, but do not guess
        return None


@functools.cache
def _names():
    """Every line command a kernel may have, for automagic."""
    from IPython.core import magics
    from IPython.core.alias import default_aliases
    from IPython.core.magic import Magics
    classes = [getattr(magics, f"{n}Magics", Magics) for n in ("Auto", "Basic", "Async", "Code", "Config", "Display",
               "Execution", "Extension", "History", "Logging", "Namespace", "OS", "Packaging", "Pylab", "Script")]
    for module, name in (("ipykernel.zmqshell", "KernelMagics"), ("IPython.extensions.autoreload", "AutoreloadMagics"),
                         ("IPython.extensions.storemagic", "StoreMagics")):
        try:
            classes.append(getattr(__import__(module, fromlist=[name]), name))
        except Exception:   # not installed: the kernel lacks it too
            pass
    names = {n for c in classes for n in getattr(c, "magics", {}).get("line", {})}
    return frozenset(names | {alias for alias, _ in default_aliases()})


def automagic(source):
    """A one-line cell IPython runs as a % command (`run -mfoo`, `timeit f(x)`: automagic), as the
    source of that command, or None. Whether a variable of that name shadows the command is
    not known before the cell runs, so callers read both meanings."""
    if len(source.splitlines()) != 1:
        return None
    try:
        from IPython.core.splitinput import LineInfo
        info = LineInfo(source.rstrip("\n"))
        head = info.ifun.split(".", 1)[0]
        if (info.ifun not in _names() or (info.the_rest[:1] in ("=", ",")) or hasattr(builtins, head)
                or keyword.iskeyword(head)):
            return None
    except Exception:   # no IPython: no automagic either
        return None
    return f"get_ipython().run_line_magic({info.ifun!r}, {info.the_rest!r})\n"
