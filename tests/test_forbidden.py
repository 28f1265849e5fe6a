"""Forbidden names: an answer that uses the reference implementation (or a library's) earns
nothing, whichever way it reaches it; an honest answer is never refused."""

import sys
import types
from pathlib import Path

import nbformat
import pytest

from nnlearn.grading.forbidden import Resolver, violations
from nnlearn.grading.grade import grade_submission
from nnlearn.grading.runner import plan

ROOT = Path(__file__).resolve().parents[1]
SETUP = ["import numpy as np\n\nfrom nnlearn.perceptron import step"]
FORBIDDEN = {
    "1.2": [
        "nnlearn.perceptron.train_perceptron",
        "torch.optim",
        "torch.nn.functional.log_softmax",
        "torch.Tensor.log_softmax",
        "scipy.special.expit",
    ],
    "1.4": ["nnlearn.perceptron.collapse_linear_layers"],
}
DEF = "def train_perceptron(X, y, lr=1.0, max_epochs=100):\n"
OWN = DEF + (
    "    X = np.asarray(X, dtype=float)\n    w, b, counts = np.zeros(X.shape[1]), 0.0, []\n"
    "    for _ in range(max_epochs):\n        m = 0\n        for x_i, y_i in zip(X, y):\n"
    "            if y_i * (x_i @ w + b) <= 0:\n                w, b, m = w + lr * y_i * x_i, b + lr * y_i, m + 1\n"
    "        counts.append(m)\n        if m == 0:\n            break\n    return w, float(b), counts\n"
)
P = "import nnlearn.perceptron as p\n"
TP = "from nnlearn.perceptron import train_perceptron as tp\n"
RUN = "tp(np.eye(2), np.ones(2))\n"


def refused(*answers, forbidden=FORBIDDEN, setup=SETUP):
    """violations() for answers given as (exercise, source) pairs, in grading order."""
    return violations(setup, [(ex, [source]) for ex, source in answers], forbidden)


# name -> (answers, a phrase the message for 1.2 must contain)
CAUGHT = {
    # imports, resolved to qualified names
    "import_as": (
        [("1.2", P + DEF + "    return p.train_perceptron(X, y)\n")],
        "nnlearn.perceptron.train_perceptron (through `p`)",
    ),
    "from_package_import_module": (
        [("1.2", "from nnlearn import perceptron\ntrain_perceptron = perceptron.train_perceptron\n")],
        "uses nnlearn.perceptron.train_perceptron",
    ),
    "from_import_as": (
        [("1.2", "from nnlearn.perceptron import train_perceptron as tp\n" + DEF + "    return tp(X, y)\n")],
        "(through `tp`)",
    ),
    "package_then_attributes": (
        [("1.2", "import nnlearn\n" + DEF + "    return nnlearn.perceptron.train_perceptron(X, y)\n")],
        "uses nnlearn.perceptron.train_perceptron",
    ),
    "from_torch_import_optim": (
        [("1.2", "from torch import optim\n" + DEF + "    return optim.Adam\n")],
        "uses torch.optim",
    ),
    "functional_alias": (
        [("1.2", "import torch.nn.functional as F\n" + DEF + "    return F.log_softmax(X, 1)\n")],
        "uses torch.nn.functional.log_softmax (through `F`)",
    ),
    "star_import": ([("1.2", "from nnlearn.perceptron import *\n")], "imports everything from nnlearn.perceptron"),
    "star_import_of_a_submodule": ([("1.2", "from torch.optim.sgd import *\n")], "torch.optim included"),
    "star_import_in_another_exercise": (
        [
            ("1.1", "from nnlearn.perceptron import *\n"),
            ("1.2", "reference = train_perceptron\n" + DEF + "    return reference(X, y)\n"),
        ],
        "(through `train_perceptron`, imported in the answer to 1.1)",
    ),
    # aliases and values
    "assignment_chain": (
        [("1.1", P + "f = p.train_perceptron\ng = f\n"), ("1.2", DEF + "    return g(X, y)\n")],
        "(through `g`, imported in the answer to 1.1)",
    ),
    "default_argument": (
        [
            ("1.1", "from nnlearn.perceptron import train_perceptron as _tp\n"),
            ("1.2", "def train_perceptron(X, y, lr=1.0, max_epochs=100, impl=_tp):\n    return impl(X, y)\n"),
        ],
        "uses nnlearn.perceptron.train_perceptron",
    ),
    "lambda": (
        [("1.2", P + "train_perceptron = lambda X, y, lr=1.0, max_epochs=100: p.train_perceptron(X, y)\n")],
        "uses nnlearn.perceptron.train_perceptron",
    ),
    "lambda_of_another_exercise": (
        [("1.1", P + "fit = lambda X, y: p.train_perceptron(X, y)\n"), ("1.2", DEF + "    return fit(X, y)\n")],
        "(through `fit`, defined in the answer to 1.1)",
    ),
    "class_attribute": (
        [
            ("1.1", P + "class Reference:\n    fit = staticmethod(p.train_perceptron)\n"),
            ("1.2", DEF + "    return Reference.fit(X, y)\n"),
        ],
        "(through `Reference`, defined in the answer to 1.1)",
    ),
    "method": (
        [
            (
                "1.1",
                (
                    "class Trainer:\n    def run(self, X, y):\n        from nnlearn.perceptron import train_perceptron\n"
                    "        return train_perceptron(X, y)\n"
                ),
            ),
            ("1.2", DEF + "    return Trainer().run(X, y)\n"),
        ],
        "train_perceptron (through `Trainer`",
    ),
    "instance_attribute": (
        [
            ("1.1", P + "class Box:\n    def __init__(self):\n        self.fit = p.train_perceptron\nbox = Box()\n"),
            ("1.2", DEF + "    return box.fit(X, y)\n"),
        ],
        "uses nnlearn.perceptron.train_perceptron",
    ),
    "decorator": (
        [
            ("1.1", P + "def use_reference(f):\n    return p.train_perceptron\n"),
            ("1.2", "@use_reference\n" + DEF + "    return None\n"),
        ],
        "(through `use_reference`, defined in the answer to 1.1)",
    ),
    "transitive_wrappers": (
        [
            (
                "1.1",
                (
                    "from nnlearn import perceptron as _p\n\ndef inner(X, y):\n    return _p.train_perceptron(X, y)\n\n"
                    "def outer(X, y):\n    return inner(X, y)\n"
                ),
            ),
            ("1.2", DEF + "    return outer(X, y)\n"),
        ],
        "(through `outer`, defined in the answer to 1.1)",
    ),
    "function_returning_it": (
        [("1.1", P + "def pick():\n    return p.train_perceptron\n"), ("1.2", DEF + "    return pick()(X, y)\n")],
        "(through `pick`, defined in the answer to 1.1)",
    ),
    "identity_function_on_the_package": (
        [
            ("1.1", "import nnlearn\nmod = (lambda m: m)(nnlearn)\n"),
            ("1.2", DEF + "    return mod.perceptron.train_perceptron(X, y)\n"),
        ],
        "uses nnlearn.perceptron.train_perceptron (through `mod`",
    ),
    "getattr_with_a_constant": (
        [("1.2", P + "train_perceptron = getattr(p, 'train_perceptron')\n")],
        "uses nnlearn.perceptron.train_perceptron",
    ),
    "list": (
        [
            ("1.1", "from nnlearn.perceptron import train_perceptron as tp\nTOOLS = [tp]\n"),
            ("1.2", DEF + "    return TOOLS[0](X, y)\n"),
        ],
        "(through `TOOLS`, imported in the answer to 1.1)",
    ),
    "append": (
        [("1.1", P + "TOOLS = []\nTOOLS.append(p.train_perceptron)\n"), ("1.2", DEF + "    return TOOLS[0](X, y)\n")],
        "(through `TOOLS`",
    ),
    "dict_item": (
        [("1.1", P + "REG = {}\nREG['fit'] = p.train_perceptron\n"), ("1.2", DEF + "    return REG['fit'](X, y)\n")],
        "(through `REG`",
    ),
    "attribute_of_a_module": (
        [("1.1", P + "np.fit = p.train_perceptron\n"), ("1.2", DEF + "    return np.fit(X, y)\n")],
        "uses nnlearn.perceptron.train_perceptron",
    ),
    "setattr_with_a_constant": (
        [
            ("1.1", P + "import numpy\nsetattr(numpy, 'fit', p.train_perceptron)\n"),
            ("1.2", DEF + "    return np.fit(X, y)\n"),
        ],
        "uses nnlearn.perceptron.train_perceptron",
    ),
    "new_builtin": (
        [("1.1", P + "import builtins\nbuiltins.fit = p.train_perceptron\n"), ("1.2", DEF + "    return fit(X, y)\n")],
        "(through `fit`, imported in the answer to 1.1)",
    ),
    "global_statement": (
        [
            (
                "1.1",
                "def load():\n    global fit\n    from nnlearn.perceptron import train_perceptron as fit\nload()\n",
            ),
            ("1.2", DEF + "    return fit(X, y)\n"),
        ],
        "(through `fit`, imported in the answer to 1.1)",
    ),
    "free_name_that_looks_local": (
        [
            ("1.1", "from nnlearn.perceptron import train_perceptron as tp\n"),
            ("1.2", DEF + "    def unused():\n        tp = None\n    return tp(X, y)\n"),
        ],
        "(through `tp`, imported in the answer to 1.1)",
    ),
    "walrus": (
        [("1.1", P + "if (fit := p.train_perceptron):\n    pass\n"), ("1.2", DEF + "    return fit(X, y)\n")],
        "`fit`",
    ),
    "for_target": (
        [("1.1", P + "for fit in [p.train_perceptron]:\n    pass\n"), ("1.2", DEF + "    return fit(X, y)\n")],
        "`fit`",
    ),
    "tuple_unpacking": (
        [("1.1", P + "fit, other = p.train_perceptron, 1\n"), ("1.2", DEF + "    return fit(X, y)\n")],
        "`fit`",
    ),
    "bound_on_one_branch": (
        [
            ("1.1", P + "fit = None\nif len('x') > 0:\n    fit = p.train_perceptron\n"),
            ("1.2", DEF + "    return fit(X, y)\n"),
        ],
        "`fit`",
    ),
    "rebound_after_the_definition": (
        [("1.2", DEF + "    return helper(X, y)\n\nfrom nnlearn.perceptron import train_perceptron as helper\n")],
        "(through `helper`)",
    ),
    "library_method": (
        [("1.2", "import torch\n" + DEF + "    t = torch.as_tensor(X)\n    return t.log_softmax(1)\n")],
        "uses torch.Tensor.log_softmax as the method `.log_softmax` (through `t`)",
    ),
    "library_method_in_a_helper": (
        [
            ("1.1", "def helper(t):\n    return t.log_softmax(1)\n"),
            ("1.2", "import torch\n" + DEF + "    return helper(torch.as_tensor(X))\n"),
        ],
        "as the method `.log_softmax` (through `helper`, defined in the answer to 1.1)",
    ),
    "library_method_on_what_a_helper_returns": (
        [
            ("1.1", "import torch\ndef make(v):\n    return torch.as_tensor(v)\n"),
            ("1.2", DEF + "    return make(X).log_softmax(1)\n"),
        ],
        "uses torch.Tensor.log_softmax",
    ),
    # code the analysis cannot follow
    "eval": ([("1.2", "train_perceptron = eval('nnlearn.perceptron.train_perceptron')\n")], "uses `eval`"),
    "exec": ([("1.2", "exec('from nnlearn.perceptron import train_perceptron')\n")], "uses `exec`"),
    "compile": ([("1.2", "code = compile('x = 1', 'f', 'exec')\n")], "uses `compile`"),
    "__import__": ([("1.2", "m = __import__('nnlearn.perceptron')\n")], "uses `__import__`"),
    "importlib": (
        [("1.2", "import importlib\nm = importlib.import_module('nnlearn.perceptron')\n")],
        "uses `importlib`",
    ),
    "globals": ([("1.2", DEF + "    return globals()['fit'](X, y)\n")], "uses `globals`"),
    "locals": ([("1.2", "names = locals()\n")], "uses `locals`"),
    "vars": ([("1.2", P + "fit = vars(p)['train_' + 'perceptron']\n")], "uses `vars`"),
    "getattr_computed": ([("1.2", P + "fit = getattr(p, 'train_' + 'perceptron')\n")], "uses `getattr`"),
    "getattr_as_a_value": (
        [("1.2", "from functools import reduce\nfit = reduce(getattr, ['a', 'b'], np)\n")],
        "uses `getattr`",
    ),
    "__dict__": ([("1.2", P + "fit = p.__dict__['train_perceptron']\n")], "uses `.__dict__`"),
    "__builtins__": ([("1.2", "b = __builtins__\n")], "uses `__builtins__`"),
    "sys.modules": (
        [("1.2", "import sys\nfit = sys.modules['nnlearn.perceptron'].train_perceptron\n")],
        "uses `sys.modules`",
    ),
    "__subclasses__": ([("1.2", "classes = object.__subclasses__()\n")], "uses `.__subclasses__`"),
    "__globals__": ([("1.2", "def f():\n    pass\nns = f.__globals__\n")], "uses `.__globals__`"),
    "__getattribute__": (
        [("1.2", P + "fit = object.__getattribute__(p, 'train_perceptron')\n")],
        "`.__getattribute__`",
    ),
    "pickle": ([("1.2", "import pickle\nfit = pickle.loads(b'')\n")], "uses `pickle`"),
    "marshal": ([("1.2", "from marshal import loads\n")], "uses `marshal.loads`"),
    "runpy": ([("1.2", "import runpy\nns = runpy.run_module('nnlearn.perceptron')\n")], "uses `runpy`"),
    "ctypes": ([("1.2", "import ctypes\n")], "uses `ctypes`"),
    "FunctionType": ([("1.2", "from types import FunctionType\n")], "uses `types.FunctionType`"),
    "frame": ([("1.2", "import sys\nframe = sys._getframe()\n")], "uses `sys._getframe`"),
    "main_module": ([("1.2", "import __main__\nfit = __main__.fit\n")], "uses `__main__`"),
    "ipython_history": ([("1.2", DEF + "    return Out[3](X, y)\n")], "uses `Out`"),
    "magic": ([("1.2", "%run -m nnlearn.perceptron\n")], "uses a % or ! command"),
    "shell_command": ([("1.2", "!python -c 'import nnlearn'\n")], "uses a % or ! command"),
    "module_the_notebook_wrote": (
        [("1.2", "import my_copy_of_the_reference\n")],
        "the module `my_copy_of_the_reference`",
    ),
    "subprocess": ([("1.2", "import subprocess\n")], "uses `subprocess`"),
    "dynamic_inside_a_wrapper": (
        [("1.1", "def helper(name):\n    return eval(name)\n"), ("1.2", DEF + "    return helper('nnlearn')(X, y)\n")],
        "uses `eval` (through `helper`, defined in the answer to 1.1)",
    ),
    "unreadable_cell": ([("1.2", "def train_perceptron(X, y:\n")], "code the grader cannot parse"),
    # timing commands: the code they run is read like any other
    "timeit_with_options": ([("1.1", TP), ("1.2", OWN + "%timeit -n 10 -r 3 " + RUN)], "(through `tp`, imported in"),
    "timeit_returning_its_result": ([("1.2", P + OWN + "r = %timeit -o -q p.train_perceptron(X, y)\n")], "(through `p`)"),
    "name_bound_by_time_flows_on": ([("1.1", P + "%time tp = p.train_perceptron\n"), ("1.2", DEF + "    return tp(X, y)\n")],
                                    "(through `tp`, imported in the answer to 1.1)"),
    "value_of_time_with_an_option": ([("1.1", P + "fit = %time --no-raise-error p.train_perceptron\n"),
                                      ("1.2", DEF + "    return fit(X, y)\n")], "(through `fit`, imported in"),
    "time_cell": ([("1.2", "%%time\nfrom nnlearn.perceptron import train_perceptron\n")], "uses nnlearn.perceptron.train_perceptron"),
    "timeit_cell_setup_line": ([("1.2", "%%timeit -n 1 -r 1 " + TP + RUN)], "(through `tp`)"),
    "string_the_command_runs": ([("1.2", "get_ipython().run_line_magic('time', " + repr(TP) + ")\n")],
                                "uses nnlearn.perceptron.train_perceptron"),
    "dynamic_code_inside_time": ([("1.2", P + "%time fit = eval('p.train_perceptron')\n")], "uses `eval`"),
    "command_inside_time": ([("1.2", "%time %run -m nnlearn.perceptron\n")], "a % or ! command (`%run`)"),
    "one_line_cell_run_by_automagic": ([("1.2", "run -mnnlearn.perceptron\n")], "a % or ! command (`%run`)"),
    "one_line_timeit_by_automagic": ([("1.1", TP), ("1.2", "timeit " + RUN)], "(through `tp`, imported in"),
    "timing_command_in_a_function": ([("1.2", DEF + "    %time w = 1\n    return w\n")], "inside a function or class"),
    # commands that look harmless but run code or import a module
    "expanded_magic_line": ([("1.2", "%precision {__import__('nnlearn.perceptron')}\n")], "(`%precision`)"),
    "dollar_expansion": ([("1.2", P + "%who $p\n")], "(`%who`)"),
    "load_ext_of_another_module": ([("1.2", "%load_ext nnlearn.perceptron\n")], "(`%load_ext`)"),
    "config_runs_its_value": ([("1.2", "%config InlineBackend.figure_format = __import__('nnlearn')\n")], "(`%config`)"),
    "config_reads_the_namespace": ([("1.2", "%config InteractiveShell.user_ns\n")], "(`%config`)"),
    "matplotlib_backend_module": ([("1.2", "%matplotlib module://nnlearn.perceptron\n")], "(`%matplotlib`)"),
    "aimport": ([("1.2", "%aimport nnlearn.perceptron\n")], "(`%aimport`)"),
    "writefile": ([("1.2", "%%writefile m.py\nfrom nnlearn.perceptron import *\n")], "(`%%writefile`)"),
    "bash_cell": ([("1.2", "%%bash\npython -c 'import nnlearn'\n")], "(`%%bash`)"),
}


@pytest.mark.parametrize("case", list(CAUGHT))
def test_each_way_of_reaching_a_forbidden_name_is_caught(case):
    answers, phrase = CAUGHT[case]
    found = refused(*answers)
    assert set(found) == {"1.2"}, found
    assert phrase in found["1.2"], found["1.2"]
    assert "earns no points" in found["1.2"] and found["1.2"].isprintable()


def test_names_the_setup_gives_stay_usable_unless_forbidden_themselves():
    whole_module = {"1.3": ["nnlearn.perceptron"]}
    answer = ("1.3", "W1 = np.ones((2, 2))\nhidden = step(np.array([0.5, -0.5]))\n")
    assert refused(answer, forbidden=whole_module) == {}
    assert (
        refused(("1.3", "from nnlearn.perceptron import step as H\nout = H(np.ones(2))\n"), forbidden=whole_module)
        == {}
    )
    # ... but not its siblings, nor the given name when it is itself forbidden
    assert "nnlearn.perceptron" in refused(("1.3", P + "out = p.train_perceptron\n"), forbidden=whole_module)["1.3"]
    found = refused(answer, forbidden={"1.3": ["nnlearn.perceptron.step"]})
    assert "uses nnlearn.perceptron.step:" in found["1.3"]


NOT_FLAGGED = {
    "own_function_of_the_same_name": [("1.2", OWN)],
    "own_function_replaces_an_earlier_import": [
        ("1.1", "from nnlearn.perceptron import train_perceptron\n"),
        ("1.2", OWN + "w, b, counts = train_perceptron(np.eye(2), np.array([1, -1]))\n"),
    ],
    "numpy_and_torch_tensors": [
        (
            "1.2",
            "import torch\n" + DEF + "    X = np.asarray(X, dtype=float)\n"
            "    w = torch.zeros(X.shape[1], dtype=torch.float64)\n    n = getattr(X, 'shape')[0]\n"
            "    return w.detach().numpy(), 0.0, [n]\n",
        )
    ],
    "forbidden_elsewhere_used_legitimately": [
        ("1.1", "from nnlearn.perceptron import collapse_linear_layers\n"),
        ("1.2", OWN),
        (
            "1.4",
            (
                "from nnlearn.perceptron import train_perceptron as tp\n"
                "def collapse_affine(weights, biases):\n    return tp, biases\n"
            ),
        ),
    ],
    "wrapper_that_the_answer_does_not_reach": [
        ("1.1", P + "def cheat(X, y):\n    return p.train_perceptron(X, y)\ndef helper(s):\n    return eval(s)\n"),
        ("1.2", OWN),
    ],
    "locals_named_like_builtins": [
        ("1.2", DEF + "    compile = np.zeros(2)\n    vars = [compile]\n    return compile, 0.0, vars\n")
    ],
    "matplotlib_magic": [("1.2", "%matplotlib inline\n" + OWN)],
    "timing_commands_around_own_code": [
        ("1.2", OWN + "%timeit -n 10 -r 3 " + RUN.replace("tp", "train_perceptron") + "r = %timeit -o -q train_perceptron(np.eye(2), np.ones(2))\n"
         "%time w, b, counts = train_perceptron(np.eye(2), np.ones(2))\nw2 = %time train_perceptron(np.eye(2), np.ones(2))\n"),
        ("1.4", "%%timeit -n 1 -r 1 X = np.eye(2)\ntrain_perceptron(X, np.ones(2))\n"),
    ],
    "time_cell_around_the_answer": [("1.2", "%%time\n" + OWN + "w = train_perceptron(np.eye(2), np.ones(2))\n")],
    "harmless_commands": [
        ("1.2", "%precision 3\n%who\n%whos\n%config InlineBackend.figure_format = 'svg'\n%load_ext autoreload\n"
         "%autoreload 2\n%matplotlib inline\n" + OWN),
        ("1.2", "who\n"),
    ],
    # a method of the same name as a forbidden one, on a value that did not come from torch
    "method_named_like_a_forbidden_one": [
        ("1.1", "class Value:\n    def log_softmax(self, axis):\n        return self\n"),
        ("1.2", DEF + "    v = Value()\n    return v.log_softmax(1), X.log_softmax(1)\n"),
    ],
}


@pytest.mark.parametrize("case", list(NOT_FLAGGED))
def test_honest_answers_are_not_refused(case):
    assert refused(*NOT_FLAGGED[case]) == {}


def test_only_an_exercises_own_list_counts():
    cheat = [("1.1", "from nnlearn.perceptron import train_perceptron as tp\n"), ("1.4", "fit = tp\n")]
    assert refused(*cheat) == {}
    assert set(refused(*cheat, forbidden={"1.4": ["nnlearn.perceptron.train_perceptron"]})) == {"1.4"}


def test_later_answers_cannot_taint_an_exercise_graded_before_them():
    # 1.2's own function is what the grader calls; 1.4 rebinding the name later changes nothing for 1.2
    answers = [
        ("1.2", OWN + "def fit(X, y):\n    return train_perceptron(X, y)\n"),
        ("1.4", "from nnlearn.perceptron import train_perceptron\n"),
    ]
    assert refused(*answers) == {}


def test_reexports_and_module_aliases_match_by_identity(monkeypatch):
    # a package whose `helpers` re-exports `core.fit` and names the module `core` `F`
    core, helpers, package = (types.ModuleType(n) for n in ("course.core", "course.helpers", "course"))

    def fit(X, y):
        return X

    fit.__module__, core.fit, package.core, package.helpers = "course.core", fit, core, helpers
    helpers.fit, helpers.F = fit, core
    for module in (package, core, helpers):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    rules = {"1.2": ["course.core.fit"]}
    assert "uses course.core.fit" in refused(("1.2", "from course.helpers import fit\n"), forbidden=rules)["1.2"]
    assert (
        "uses course.core.fit" in refused(("1.2", "from course.helpers import F\ng = F.fit\n"), forbidden=rules)["1.2"]
    )
    assert refused(("1.2", "from course import helpers\n"), forbidden=rules) == {}
    resolver = Resolver()
    assert resolver.under("course.helpers.fit", "course.core.fit") and not resolver.under(
        "course.helpers", "course.core"
    )


def test_messages_are_short_and_printable():
    found = refused(("1.2", P + "x = getattr(p, '\\x1b[2J\\n' * 5)\n"))
    assert found["1.2"].isprintable() and len(found["1.2"]) < 300


def test_reference_solutions_and_their_mutants_use_nothing_they_forbid():
    """The reference answers and the known-wrong answers beside them (honest mistakes) are
    never refused; importing each exercise's first forbidden name instead always is."""
    lists = mutants = 0
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        answers, wrong = {}, []
        for cell in nb.cells:
            info = cell.metadata.get("nnlearn", {})
            if info.get("role") == "answer":
                answers.setdefault(info["exercise"], []).append(cell.source)
            elif info.get("role") == "mutant":
                wrong.append((info["exercise"], cell.source))
        setup, exercises = plan(nb, answers)
        forbidden = {ex: spec.get("forbidden", []) for ex, spec in nb.metadata["nnlearn"]["exercises"].items()}
        lists += sum(bool(v) for v in forbidden.values())

        def replaced(ex, source):
            return [(e.id, [source] if e.id == ex else e.answers) for e in exercises]

        assert violations(setup, [(e.id, e.answers) for e in exercises], forbidden) == {}, path.name
        for ex, source in wrong:
            assert violations(setup, replaced(ex, source), {ex: forbidden[ex]}) == {}, (path.name, ex, source)
        mutants += len(wrong)
        for ex, names in forbidden.items():
            if names:
                module, _, name = names[0].rpartition(".")
                assert ex in violations(setup, replaced(ex, f"from {module} import {name}\n"), {ex: names}), ex
    assert lists > 0 and mutants > 0


# --- end to end, through the grader and a real kernel -------------------------------------


def toy_assignment(folder, forbidden):
    """An instructor notebook: exercise 1 asks for a step function (nnlearn has one), exercise
    2 for a function that uses the student's step."""

    def cell(source, **info):
        return nbformat.v4.new_code_cell(source, metadata={"nnlearn": info} if info else {})

    nb = nbformat.v4.new_notebook()
    nb.metadata["nnlearn"] = {
        "assignment": "toy",
        "exercises": {
            "1": {"title": "a step function", "points": 2, "forbidden": forbidden},
            "2": {"title": "twice the step", "points": 1, "forbidden": []},
        },
    }
    nb.cells = [
        cell("import numpy as np"),
        cell(
            "def heaviside(v):\n    ### BEGIN SOLUTION\n    return (np.asarray(v) > 0).astype(float)\n"
            "    ### END SOLUTION\n",
            exercise="1",
            role="answer",
        ),
        cell(
            "assert np.array_equal(heaviside(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])",
            exercise="1",
            role="hidden-tests",
            check="values",
            points=2,
        ),
        cell(
            "def twice(v):\n    ### BEGIN SOLUTION\n    return 2 * heaviside(v)\n    ### END SOLUTION\n",
            exercise="2",
            role="answer",
        ),
        cell(
            "assert np.array_equal(twice(np.array([-1.0, 3.0])), [0.0, 2.0])",
            exercise="2",
            role="hidden-tests",
            check="values",
            points=1,
        ),
    ]
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "toy.ipynb")
    return nb


def test_grader_gives_nothing_for_an_answer_that_imports_the_reference(tmp_path):
    nb = toy_assignment(tmp_path / "solutions", ["nnlearn.perceptron.step"])
    toy_assignment(tmp_path / "no_rules", [])
    student = nbformat.from_dict(nb)
    student.cells = [c for c in student.cells if c.metadata.get("nnlearn", {}).get("role") != "hidden-tests"]
    student.cells[1].source = "from nnlearn.perceptron import step as heaviside\n"
    student.cells[2].source = "def twice(v):\n    return 2 * heaviside(v)\n"
    (tmp_path / "work").mkdir()
    path = tmp_path / "work" / "toy.ipynb"
    nbformat.write(student, path)

    report = grade_submission(path, tmp_path / "solutions", cell_timeout=20)
    results = {r.id: r for r in report.exercises}
    assert results["1"].points == 0 and "uses nnlearn.perceptron.step (through `heaviside`)" in results["1"].message
    assert results["2"].points == 1, results["2"].message  # the refused answer still ran for the next one
    # positive control: without the list the same answer earns full points
    control = grade_submission(path, tmp_path / "no_rules", cell_timeout=20)
    assert control.points == 3, [(r.id, r.message) for r in control.exercises]


def test_timing_commands_in_a_correct_answer_keep_full_points(tmp_path):
    """The kernel runs them, the analysis reads the code they run, and a function %%time
    defines is there for the next exercise."""
    nb = toy_assignment(tmp_path / "solutions", ["nnlearn.perceptron.step"])
    student = nbformat.from_dict(nb)
    student.cells = [c for c in student.cells if c.metadata.get("nnlearn", {}).get("role") != "hidden-tests"]
    student.cells[1].source = (
        "def heaviside(v):\n    return (np.asarray(v) > 0).astype(float)\n"
        "%timeit -n 5 -r 2 heaviside(np.array([1.0, -1.0]))\nr = %timeit -o -q -n 5 -r 2 heaviside(np.ones(3))\n"
        "%time out = heaviside(np.ones(2))\n"
    )
    student.cells[2].source = "%%time\ndef twice(v):\n    return 2 * heaviside(v)\n"
    (tmp_path / "work").mkdir()
    nbformat.write(student, tmp_path / "work" / "toy.ipynb")
    report = grade_submission(tmp_path / "work" / "toy.ipynb", tmp_path / "solutions", cell_timeout=20)
    assert report.points == 3, [(r.id, r.message) for r in report.exercises]


def test_a_failure_of_the_analysis_refuses_instead_of_letting_the_answer_through(monkeypatch):
    import nnlearn.grading.forbidden as forbidden

    def broken(cells):
        raise RecursionError("deep")

    monkeypatch.setattr(forbidden, "Analysis", broken)
    found = refused(("1.1", "x = 1\n"), ("1.2", OWN))
    assert set(found) == {"1.2"} and "please tell your instructor" in found["1.2"]
