"""Run one submission: the instructor's setup and the student's answers go to the sandboxed
kernel; each exercise's hidden tests run here, in the grader's process, against proxies of
the student's functions and variables (nnlearn.grading.judge)."""
import time
from dataclasses import dataclass

from . import judge
from .exercises import cell_info
from .text import short


# --- the plan ---------------------------------------------------------------------------

@dataclass
class Exercise:
    id: str
    answers: list
    checks: list           # hidden-test sources, run in the grader
    functions: set
    variables: set


def plan(instructor, answers):
    """(setup sources, exercises in order) from the instructor notebook."""
    setup, exercises = [], {}
    for cell in instructor.cells:
        if cell.cell_type != "code":
            continue
        info = cell_info(cell)
        role, ex = info.get("role"), info.get("exercise")
        if role is None:
            setup.append(cell.source)
            continue
        entry = exercises.setdefault(ex, Exercise(ex, answers.get(ex, []), [], set(), set()))
        if role == "answer":
            functions, variables = judge.defined_names(cell.source)
            entry.functions |= functions
            entry.variables |= variables
        elif role == "hidden-tests":
            entry.checks.append(cell.source)
    return setup, list(exercises.values())


# --- judging ------------------------------------------------------------------------------

class Judge:
    """Runs one submission: the kernel session plus the grader-side namespaces."""

    def __init__(self, session, setup, exercises, cell_timeout, deadline):
        self.session, self.setup, self.exercises = session, setup, exercises
        self.cell_timeout, self.deadline = cell_timeout, deadline
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
        if result.died or self.session.km is None:
            self.status = "kernel-died" if not result.timed_out else self.status
            self.recover()
        return result

    def recover(self):
        """A fresh kernel with the state of everything that ran fine so far."""
        self.session.restart()
        for source in self.setup + self.replay:
            self.session.run(source, min(self.cell_timeout, max(self.time_left(), 1)))

    def start(self):
        for source in self.setup:
            self.run(source)

    def grade_all(self, results):
        self.start()
        for ex in self.exercises:
            self.grade_exercise(ex, results[ex.id])

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
        for number, check in enumerate(ex.checks, 1):
            failure = self.check(check, ex)
            if failure:
                result.message = failure if len(ex.checks) == 1 else f"check {number}: {failure}"
                return
        result.passed, result.points, result.message = True, result.max_points, "passed"

    def check(self, source, ex):
        namespace = dict(self.base_namespace)
        for name in self.functions:
            namespace[name] = judge.FunctionProxy(name, self.ask)
        try:
            for name in self.variables & judge.used_names(source):
                namespace[name] = self.ask(name, False)
            exec(compile(source, f"<hidden tests {ex.id}>", "exec"), namespace)
        except judge.StudentError as exc:
            if "NotImplementedError" in str(exc):
                return f"not answered yet ({str(exc).split('failed: ', 1)[-1]})"
            return f"a test failed: {exc}"
        except AssertionError as exc:
            return f"a test failed: {short(exc)}" if str(exc) else "a hidden test failed"
        except RuntimeError as exc:
            if "instructor test" in str(exc):   # a bug in the instructor notebook, not the student's fault
                return f"grader problem, please tell your instructor: {short(exc)}"
            return f"a test failed: {type(exc).__name__}"
        except Exception as exc:   # e.g. the student's result has the wrong shape or type
            return f"a test failed: {type(exc).__name__} while checking your result"
        return None
