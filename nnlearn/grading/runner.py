"""Run one submission: the instructor's setup and the student's answers go to a session (the
sandboxed kernel, or an in-process stand-in); each exercise's hidden tests run here, in the
grader's process, against proxies of the student's functions and variables (judge.py).

An exercise's hidden tests are named checks with points (metadata.nnlearn "check", "points").
A check earns its points when it passes; an answer cell that fails earns nothing. Each check
runs in a fresh namespace holding the instructor's setup, the proxies, and `rng`: a numpy
Generator seeded from the submission's seed, the exercise and the check.

A session has run(source, timeout) -> a result with ok, ename, evalue, error, payload,
timed_out, died; restart(); and, where it can be lost without dying (a kernel killed after
ignoring an interrupt), alive() or a `km` that is None once lost.
"""
import secrets
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from . import judge
from .rules import cell_info
from .text import short

NOT_RUN = "not run"


# --- the plan ---------------------------------------------------------------------------

@dataclass
class Check:
    name: str
    points: float
    source: str


@dataclass
class Exercise:
    id: str
    answers: list
    checks: list = field(default_factory=list)      # Check, run in the grader
    setup: list = field(default_factory=list)       # hidden-setup sources, run in the grader
    functions: set = field(default_factory=set)
    variables: set = field(default_factory=set)


def plan(instructor, answers):
    """(setup sources for the kernel, exercises in order) from the instructor notebook.
    Hidden-setup cells without an exercise belong to every exercise after them."""
    setup, exercises, shared = [], {}, []
    for cell in instructor.cells:
        if cell.cell_type != "code":
            continue
        info = cell_info(cell)
        role, ex = info.get("role"), info.get("exercise")
        if role is None:
            setup.append(cell.source)
            continue
        if role == "hidden-setup" and ex is None:
            shared.append(cell.source)
            continue
        if ex not in exercises:
            exercises[ex] = Exercise(ex, answers.get(ex, []), setup=list(shared))
        entry = exercises[ex]
        if role == "answer":
            functions, variables = judge.defined_names(cell.source)
            entry.functions |= functions
            entry.variables |= variables
        elif role == "hidden-setup":
            entry.setup.append(cell.source)
        elif role == "hidden-tests":
            entry.checks.append(Check(info.get("check", "hidden tests"), float(info.get("points", 0)), cell.source))
    return setup, list(exercises.values())


def check_rng(seed, exercise, check):
    """The generator a check gets: a function of the submission's seed, the exercise and the
    check only, so that one seed reproduces a grading."""
    return np.random.default_rng([seed, zlib.crc32(exercise.encode()), zlib.crc32(check.encode())])


def _alive(session):
    alive = getattr(session, "alive", None)
    if callable(alive):
        return alive()
    return getattr(session, "km", True) is not None


# --- judging ------------------------------------------------------------------------------

class Judge:
    """Runs one submission: the session plus the grader-side namespaces.

    seed: the seed of every check's rng (default: fresh from `secrets`, so hard-coding is
    useless). refused: {exercise id: message} of exercises that earn nothing whatever their
    checks say (answers that use a forbidden name); their answers still run, for the ones after."""

    def __init__(self, session, setup, exercises, cell_timeout, deadline, seed=None, refused=None):
        self.session, self.setup, self.exercises = session, setup, exercises
        self.cell_timeout, self.deadline = cell_timeout, deadline
        self.seed = secrets.randbits(64) if seed is None else int(seed)
        self.refused = dict(refused or {})
        self.replay = []            # answers that ran fine, re-run after a kernel restart
        self.status = "graded"
        self.functions = set().union(*(e.functions for e in exercises))
        self.variables = set().union(*(e.variables for e in exercises))
        self.base_namespace = {"__name__": "__grader__"}
        for source in setup:        # instructor code: the imports and helpers the checks use
            try:
                exec(compile(source, "<instructor setup>", "exec"), self.base_namespace)
            except Exception:
                pass

    def time_left(self):
        return self.deadline - time.monotonic()

    def run(self, source):
        left = self.time_left()
        if left <= 0:
            self.status = "timed-out"
            return None
        result = self.session.run(source, min(self.cell_timeout, left))
        if result.timed_out:
            self.status = "timed-out"
        if result.died or not _alive(self.session):
            self.status = "kernel-died" if not result.timed_out else self.status
            self.recover()
        return result

    def recover(self):
        """A fresh kernel with the state of everything that ran fine so far."""
        if self.time_left() <= 0:
            return
        self.session.restart()
        for source in self.setup + self.replay:    # within --timeout: a replay never runs past it
            if self.time_left() <= 0:
                self.status = "timed-out"
                return
            replayed = self.session.run(source, min(self.cell_timeout, self.time_left()))
            if replayed.died or self.session.km is None:   # no second try: the next request says so
                return

    def start(self):
        for source in self.setup:
            self.run(source)

    def grade_all(self, results, only=None):
        """Grade every exercise (or those in `only`; the others' answers still run)."""
        self.start()
        for ex in self.exercises:
            if only is None or ex.id in only:
                self.grade_exercise(ex, results[ex.id])
            elif ex.answers and all(getattr(self.run(s), "ok", False) for s in ex.answers):
                self.replay.extend(ex.answers)

    def ask(self, name, call, args=(), kwargs=None, capture_warnings=False):
        try:
            source = judge.request_source(name, call, args, kwargs, capture_warnings)
        except judge.NotPlainData as exc:
            raise RuntimeError(f"instructor test passes unsupported data to {name}: {exc}") from None
        result = self.run(source)
        if result is None:
            raise judge.StudentError("not run: the time limit for this submission was used up")
        if not result.ok:
            what = f"calling {name}" if call else f"reading {name}"
            raise judge.StudentError(f"{what} failed: {short(result.error, 200)}"
                                     + (f" (limit {self.cell_timeout:g} s)" if result.timed_out else ""))
        if result.payload is None:
            raise judge.StudentError(f"{name} returned nothing the grader could read")
        try:
            return judge.decode(result.payload)
        except Exception:
            raise judge.StudentError(f"{name} returned a value that is not plain data") from None

    def grade_exercise(self, ex, result):
        result.checks = [{"name": c.name, "points": 0.0, "max_points": c.points, "passed": False,
                          "message": NOT_RUN} for c in ex.checks]
        if not ex.answers:
            result.message = "no answer cell found for this exercise"
            return
        for source in ex.answers:
            run = self.run(source)
            if run is None:
                result.message = "not graded: the time limit for this submission was used up"
                return
            if not run.ok:
                error = run.error + (f" after {self.cell_timeout:g} s" if run.timed_out else "")
                if run.ename == "NotImplementedError":
                    result.message = f"not answered yet ({short(error)})"
                else:
                    result.message = f"your answer cell failed: {short(error)}"
                return
        self.replay.extend(ex.answers)
        if ex.id in self.refused:
            result.message = short(self.refused[ex.id])
            return
        namespace, problem = self.exercise_namespace(ex)
        for check, record in zip(ex.checks, result.checks):
            failure = problem or self.check(check, ex, namespace)
            record["passed"] = failure is None
            record["points"] = check.points if failure is None else 0.0
            record["message"] = "passed" if failure is None else failure
        result.points = sum(r["points"] for r in result.checks)
        result.passed = all(r["passed"] for r in result.checks)
        result.message = summary(result.checks)

    def exercise_namespace(self, ex):
        """The instructor's setup, proxies of the student's functions (which hidden-setup helpers
        may call) and the exercise's hidden setup; and a problem message if that setup fails."""
        namespace = dict(self.base_namespace)
        for name in self.functions:
            namespace[name] = judge.FunctionProxy(name, self.ask)
        try:
            for source in ex.setup:
                exec(compile(source, f"<hidden setup {ex.id}>", "exec"), namespace)
        except Exception as exc:
            return namespace, f"grader problem, please tell your instructor: hidden setup failed: {short(exc)}"
        return namespace, None

    def check(self, check, ex, base):
        namespace = dict(base)
        namespace["rng"] = check_rng(self.seed, ex.id, check.name)
        try:
            for name in self.variables & judge.used_names(check.source):
                namespace[name] = self.ask(name, False)
            exec(compile(check.source, f"<hidden tests {ex.id}: {check.name}>", "exec"), namespace)
        except judge.StudentError as exc:
            if "NotImplementedError" in str(exc):
                return f"not answered yet ({str(exc).split('failed: ', 1)[-1]})"
            return f"a test failed: {exc}"
        except AssertionError as exc:
            return f"a test failed: {short(exc)}" if str(exc) else "a hidden test failed"
        except (NameError, ImportError, SyntaxError, RuntimeError) as exc:
            if isinstance(exc, RuntimeError) and "instructor test" not in str(exc):
                return f"a test failed: {type(exc).__name__}"
            # a bug in the instructor notebook, not the student's fault
            return f"grader problem, please tell your instructor: {type(exc).__name__}: {short(exc)}"
        except Exception as exc:   # e.g. the student's result has the wrong shape or type
            return f"a test failed: {type(exc).__name__} while checking your result"
        return None


def summary(checks):
    """One line for an exercise from its checks' records."""
    failed = [c for c in checks if not c["passed"]]
    if not failed:
        return "passed"
    if len(checks) == 1:
        return failed[0]["message"]
    if len(failed) == len(checks) and all(c["message"].startswith("not answered yet") for c in failed):
        return failed[0]["message"]
    passed = len(checks) - len(failed)
    return short(f"{passed} of {len(checks)} checks passed; "
                 + "; ".join(f"{c['name']}: {c['message']}" for c in failed), 600)
