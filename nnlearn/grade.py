"""Grade one exercise submission against the instructor notebook in solutions/.

Only the student's answer cells are taken (found by the exercise ids the generator put in
cell metadata, or by their first line when an editor dropped the metadata). They run in a
sandboxed kernel (nnlearn.kernel) between the instructor's setup cells. The instructor's
hidden tests run in *this* process against proxies of the student's functions and
variables (nnlearn.judge): the kernel answers, the grader judges. An exercise scores its
points when its answer runs and all its hidden tests pass. Command line: nnlearn.batch.
"""
import hashlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from . import judge
from .exercises import assignment_info, cell_info
from .kernel import KernelSession
from .sandbox import Limits, probe_isolation

GRADER_VERSION = "2"
DEFAULT_CELL_TIMEOUT = 30
DEFAULT_TOTAL_TIMEOUT = 300
MAX_MESSAGE = 300


@dataclass
class ExerciseResult:
    id: str
    title: str
    max_points: float
    points: float = 0.0
    passed: bool = False
    message: str = "not graded"


@dataclass
class Report:
    submission: str
    assignment: str | None
    sha256: str = ""
    points: float = 0.0
    max_points: float = 0.0
    status: str = "graded"          # graded | timed-out | kernel-died | invalid | error
    message: str = ""
    seconds: float = 0.0
    isolation: str = ""
    exercises: list = field(default_factory=list)

    def to_dict(self):
        return asdict(self)


class GradingError(Exception):
    """The submission cannot be graded at all (unreadable, unknown assignment)."""


def short(text, limit=MAX_MESSAGE):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- reading -------------------------------------------------------------------------

def read_notebook(data):
    if not data.strip():
        raise GradingError("the file is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise GradingError("not a Jupyter notebook (the file is binary, not UTF-8 JSON)") from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:
        raise GradingError(f"not a readable Jupyter notebook ({type(exc).__name__}: {short(exc, 120)})") from None
    if not isinstance(nb.get("cells"), list):
        raise GradingError("not a Jupyter notebook (no list of cells)")
    return nb


def first_line(source):
    for line in source.splitlines():
        if line.strip():
            return line.strip()
    return ""


def answer_cells(submission, instructor):
    """{exercise id: [source, ...]} of the student's answers, by metadata, else by first line."""
    wanted = {}
    for cell in instructor.cells:
        info = cell_info(cell)
        if info.get("role") == "answer":
            wanted.setdefault(info["exercise"], []).append(first_line(cell.source))
    code_cells = [c for c in submission.cells if isinstance(c, dict) and c.get("cell_type") == "code"
                  and isinstance(c.get("source"), str)]
    found = {}
    for cell in code_cells:
        info = cell_info(cell) if isinstance(cell.get("metadata"), dict) else {}
        if isinstance(info, dict) and info.get("role") == "answer" and info.get("exercise") in wanted:
            found.setdefault(info["exercise"], []).append(cell.source)
    for ex, first_lines in wanted.items():
        if ex not in found:   # metadata lost: match the answer cell's first line
            found_here = [c.source for c in code_cells if first_line(c.source) in first_lines]
            if found_here:
                found[ex] = found_here
    return found


def find_instructor_notebook(submission_nb, submission_path, solutions_dir, assignment=None):
    solutions_dir = Path(solutions_dir)
    declared = None
    if submission_nb is not None:
        meta = submission_nb.metadata.get("nnlearn", {})
        declared = meta.get("assignment") if isinstance(meta, dict) else None
    if assignment and declared and declared != assignment:
        raise GradingError(f"this notebook belongs to assignment {declared!r}, not {assignment!r}")
    for name in filter(None, [assignment, declared, Path(submission_path).stem]):
        path = solutions_dir / f"{name}.ipynb"
        if path.is_file():
            return path
    available = sorted(p.stem for p in solutions_dir.glob("*.ipynb"))
    raise GradingError(f"cannot tell which assignment this is; pass --assignment, one of {available}")


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


def grade_submission(path, solutions_dir="solutions", assignment=None, cell_timeout=DEFAULT_CELL_TIMEOUT,
                     total_timeout=DEFAULT_TOTAL_TIMEOUT, limits=None, hide_paths=(), isolation=None):
    """Grade one submission; never raises for anything in the submission, returns a Report."""
    path = Path(path)
    start = time.monotonic()
    isolation = isolation or probe_isolation()
    report = Report(submission=str(path), assignment=assignment, isolation=isolation.summary())
    submission = None
    try:
        data = path.read_bytes()
        report.sha256 = hashlib.sha256(data).hexdigest()
        submission = read_notebook(data)
    except (GradingError, OSError) as exc:
        report.status, report.message = "invalid", short(exc)
    try:
        instructor_path = find_instructor_notebook(submission, path, solutions_dir, assignment)
    except GradingError as exc:
        report.status = "invalid"
        report.message = "; ".join(m for m in (report.message, str(exc)) if m)
        if "belongs to assignment" not in str(exc):
            return report
        instructor_path, submission = Path(solutions_dir) / f"{assignment}.ipynb", None
    instructor = nbformat.read(instructor_path, as_version=4)
    meta = assignment_info(instructor, instructor_path)
    report.assignment = meta["assignment"]
    results = {ex: ExerciseResult(ex, spec["title"], float(spec["points"])) for ex, spec in meta["exercises"].items()}
    report.exercises = list(results.values())
    report.max_points = sum(r.max_points for r in results.values())
    if submission is None:
        for r in results.values():
            r.message = report.message
        report.seconds = round(time.monotonic() - start, 2)
        return report

    setup, exercises = plan(instructor, answer_cells(submission, instructor))
    hide = [Path(solutions_dir).resolve(), path.resolve().parent, *hide_paths]
    with KernelSession(limits or Limits(), hide_paths=hide, isolation=isolation) as session:
        runner = Judge(session, setup, exercises, cell_timeout, start + total_timeout)
        runner.grade_all(results)
        report.status = runner.status
    report.points = sum(r.points for r in results.values())
    report.seconds = round(time.monotonic() - start, 2)
    return report


if __name__ == "__main__":   # python -m nnlearn.grade works like nnlearn-grade
    import sys

    from .batch import main

    sys.exit(main())
