"""Grade one exercise submission against the instructor notebook in solutions/.

Only the student's answer cells are taken (found by the exercise ids the generator put in
cell metadata, or by their first line when an editor dropped the metadata). They run in a
sandboxed kernel (nnlearn.grading.kernel) between the instructor's setup cells. The instructor's
hidden tests run in *this* process against proxies of the student's functions and
variables (nnlearn.grading.judge): the kernel answers, the grader judges. An exercise scores its
points check by check: its hidden tests are named checks, each earning its own points
when it passes (nnlearn.grading.runner). Command line: nnlearn.grading.batch.
"""
import hashlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .exercises import assignment_info, cell_info
from .files import FileRefused, bad_assignment_name, instructor_notebooks, read_submission
from .forbidden import violations
from .kernel import KernelSession
from .runner import Judge, plan
from .sandbox import Limits, probe_isolation
from .text import escape, short

GRADER_VERSION = "3"
DEFAULT_CELL_TIMEOUT = 30
DEFAULT_TOTAL_TIMEOUT = 300


@dataclass
class ExerciseResult:
    id: str
    title: str
    max_points: float
    points: float = 0.0
    passed: bool = False
    message: str = "not graded"
    checks: list = field(default_factory=list)   # {name, points, max_points, passed, message} per check


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
    seed: str = ""                  # of the checks' random inputs: the same seed reproduces them
    exercises: list = field(default_factory=list)

    def to_dict(self):
        return asdict(self)


class GradingError(Exception):
    """The submission cannot be graded at all (unreadable, unknown assignment)."""


# --- reading -------------------------------------------------------------------------

def read_notebook(data):
    if data.startswith(b"\xef\xbb\xbf"):     # a UTF-8 byte-order mark, as some editors save
        data = data[3:]
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
    """The instructor notebook for a submission: `assignment`, else the notebook's
    metadata.nnlearn.assignment, else the file's stem. Each is only ever compared with the
    names of the notebooks in solutions_dir; no path is built from it."""
    notebooks = instructor_notebooks(solutions_dir)
    declared = None
    if submission_nb is not None:
        meta = submission_nb.metadata.get("nnlearn", {})
        declared = meta.get("assignment") if isinstance(meta, dict) else None
    for where, name in (("--assignment", assignment), ("metadata.nnlearn.assignment", declared)):
        why = None if name is None else bad_assignment_name(name)
        if why:
            raise GradingError(f"{where} {short(repr(name), 80)} {why}")
    if assignment is not None and assignment not in notebooks:
        raise GradingError(f"unknown assignment {assignment!r}; one of {sorted(notebooks)}")
    if assignment and declared and declared != assignment:
        raise GradingError(f"this notebook belongs to assignment {short(repr(declared), 80)}, not {assignment!r}")
    for name in filter(None, [assignment, declared, Path(submission_path).stem]):
        if name in notebooks:
            return notebooks[name]
    raise GradingError(f"cannot tell which assignment this is; pass --assignment, one of {sorted(notebooks)}")


def grade_submission(path, solutions_dir="solutions", assignment=None, cell_timeout=DEFAULT_CELL_TIMEOUT,
                     total_timeout=DEFAULT_TOTAL_TIMEOUT, limits=None, isolation=None, seed=None):
    """Grade one submission; never raises for anything in the submission, returns a Report.
    seed: of the hidden tests' random inputs (default: fresh for every submission)."""
    path = Path(path)
    start = time.monotonic()
    isolation = isolation or probe_isolation()
    report = Report(submission=escape(path), assignment=assignment, isolation=isolation.summary())
    submission = None
    try:
        data = read_submission(path)        # no links, FIFOs or devices; at most 20 MB
        report.sha256 = hashlib.sha256(data).hexdigest()
        submission = read_notebook(data)
    except (GradingError, FileRefused) as exc:
        report.status, report.message = "invalid", short(exc)
    try:
        instructor_path = find_instructor_notebook(submission, path, solutions_dir, assignment)
    except GradingError as exc:
        report.status = "invalid"
        report.message = short("; ".join(m for m in (report.message, str(exc)) if m))
        # with a known --assignment the report still lists its exercises, at 0 points
        instructor_path = instructor_notebooks(solutions_dir).get(assignment) if isinstance(assignment, str) else None
        if instructor_path is None:
            return report
        submission = None
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
    # answers that use a name their exercise forbids earn nothing (their cells still run)
    refused = violations(setup, [(e.id, e.answers) for e in exercises],
                         {ex: spec.get("forbidden", []) for ex, spec in meta["exercises"].items()})
    with KernelSession(limits or Limits(), isolation=isolation) as session:
        runner = Judge(session, setup, exercises, cell_timeout, start + total_timeout, seed=seed, refused=refused)
        report.seed = str(runner.seed)
        runner.grade_all(results)
        report.status = runner.status
    report.points = sum(r.points for r in results.values())
    report.seconds = round(time.monotonic() - start, 2)
    return report
