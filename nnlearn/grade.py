"""Grade exercise submissions against the instructor tests in solutions/.

    nnlearn-grade SUBMISSION.ipynb            # one notebook: prints and writes a JSON report
    nnlearn-grade SUBMISSIONS_DIR/            # a folder: one report each plus gradebook.csv

Only the student's answer cells are taken (found by the exercise ids the generator put in
cell metadata, or by their first line when an editor dropped the metadata). They run in a
fresh kernel, in an empty temporary directory, between the instructor's setup cells and the
instructor's public and hidden tests, each cell under a timeout and the whole run under a
wall-clock limit. An exercise scores its points when its answer runs and all its tests pass.
"""
import argparse
import csv
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from .exercises import assignment_info, cell_info

DEFAULT_CELL_TIMEOUT = 30
DEFAULT_TOTAL_TIMEOUT = 300


@dataclass
class ExerciseResult:
    id: str
    title: str
    max_points: float
    points: float = 0.0
    passed: bool = False
    message: str = "not run"


@dataclass
class Report:
    submission: str
    assignment: str | None
    points: float = 0.0
    max_points: float = 0.0
    status: str = "graded"          # graded | timed-out | kernel-died | invalid
    message: str = ""
    seconds: float = 0.0
    exercises: list = field(default_factory=list)

    def to_dict(self):
        return asdict(self)


class GradingError(Exception):
    """The submission cannot be graded at all (unreadable, unknown assignment)."""


# --- reading the submission ------------------------------------------------------

def read_notebook(path):
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:
        raise GradingError(f"not a readable Jupyter notebook ({type(exc).__name__}: {exc})") from None


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
    found = {}
    code_cells = [c for c in submission.cells if c.get("cell_type") == "code"]
    for cell in code_cells:
        info = cell_info(cell)
        if info.get("role") == "answer" and info.get("exercise") in wanted:
            found.setdefault(info["exercise"], []).append(cell.source)
    for ex, first_lines in wanted.items():
        if ex in found:
            continue
        for cell in code_cells:  # metadata lost: match the answer cell's first line
            if first_line(cell.source) in first_lines and not cell_info(cell).get("role"):
                found.setdefault(ex, []).append(cell.source)
    return found


# --- running ---------------------------------------------------------------------

def build_program(instructor, answers):
    """[(kind, exercise, source)] in the instructor notebook's order, answers substituted."""
    program, placed = [], set()
    for cell in instructor.cells:
        if cell.cell_type != "code":
            continue
        info = cell_info(cell)
        role, ex = info.get("role"), info.get("exercise")
        if role is None:
            program.append(("setup", None, cell.source))
        elif role == "answer":
            if ex not in placed:
                placed.add(ex)
                program.extend(("answer", ex, src) for src in answers.get(ex, []))
        elif role in ("public-tests", "hidden-tests"):
            program.append(("test", ex, cell.source))
    return program


def _kill_after(client, seconds):
    """Kill the kernel process after `seconds` unless cancelled: a hard stop for anything
    that ignores the interrupt nbclient sends on a cell timeout."""
    def kill():
        pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    timer = threading.Timer(seconds, kill)
    timer.daemon = True
    timer.start()
    return timer


def run_program(program, cell_timeout, total_timeout):
    """Run the cells in one fresh kernel; return ([error or None per cell], run status)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for _, _, src in program]
    errors = ["not run"] * len(program)
    status = "graded"
    with tempfile.TemporaryDirectory(prefix="nnlearn-grade-") as workdir:
        client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", interrupt_on_timeout=True,
                                allow_errors=False, resources={"metadata": {"path": workdir}})
        client.log.setLevel(logging.CRITICAL)
        start = time.monotonic()
        with client.setup_kernel(cwd=workdir):
            watchdog = _kill_after(client, total_timeout + 10)
            try:
                for i, cell in enumerate(nb.cells):
                    if time.monotonic() - start > total_timeout:
                        status = "timed-out"
                        errors[i:] = [f"not run: the time limit of {total_timeout} s was used up"] * (len(nb.cells) - i)
                        break
                    try:
                        client.execute_cell(cell, i)
                        errors[i] = None
                    except CellExecutionError as exc:
                        if exc.ename == "KeyboardInterrupt":
                            errors[i] = f"timed out after {cell_timeout} s"
                            status = "timed-out"
                        else:
                            errors[i] = f"{exc.ename}: {exc.evalue}".strip()
                    except (CellTimeoutError, DeadKernelError, RuntimeError) as exc:
                        status = "timed-out" if time.monotonic() - start > total_timeout else "kernel-died"
                        reason = ("the kernel was stopped at the time limit" if status == "timed-out"
                                  else f"the kernel died ({type(exc).__name__})")
                        errors[i:] = [reason] * (len(nb.cells) - i)
                        break
            finally:
                watchdog.cancel()
    return errors, status


# --- grading ---------------------------------------------------------------------

def find_instructor_notebook(submission_nb, submission_path, solutions_dir, assignment=None):
    solutions_dir = Path(solutions_dir)
    if assignment is None and submission_nb is not None:
        assignment = submission_nb.metadata.get("nnlearn", {}).get("assignment")
    candidates = [assignment] if assignment else []
    candidates.append(Path(submission_path).stem)
    for name in candidates:
        path = solutions_dir / f"{name}.ipynb"
        if path.is_file():
            return path
    available = sorted(p.stem for p in solutions_dir.glob("*.ipynb"))
    raise GradingError(f"cannot tell which assignment this is (tried {candidates}); "
                       f"pass --assignment, one of {available}")


def grade_submission(path, solutions_dir="solutions", assignment=None,
                     cell_timeout=DEFAULT_CELL_TIMEOUT, total_timeout=DEFAULT_TOTAL_TIMEOUT):
    """Grade one submission; never raises for a bad submission, returns a Report."""
    path = Path(path)
    start = time.monotonic()
    report = Report(submission=str(path), assignment=assignment)
    submission = None
    try:
        submission = read_notebook(path)
    except GradingError as exc:
        report.status, report.message = "invalid", str(exc)
    try:
        instructor_path = find_instructor_notebook(submission, path, solutions_dir, assignment)
    except GradingError as exc:
        report.status = "invalid"
        report.message = "; ".join(m for m in (report.message, str(exc)) if m)
        return report
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

    answers = answer_cells(submission, instructor)
    program = build_program(instructor, answers)
    errors, report.status = run_program(program, cell_timeout, total_timeout)

    setup_errors = [e for (kind, _, _), e in zip(program, errors) if kind == "setup" and e]
    for ex, result in results.items():
        if ex not in answers:
            result.message = "no answer cell found for this exercise"
            continue
        failure = None
        for (kind, cell_ex, _), error in zip(program, errors):
            if cell_ex == ex and error:
                if error.startswith("NotImplementedError"):
                    failure = f"not answered yet ({error})"
                else:
                    failure = f"{'your answer' if kind == 'answer' else 'a test'} failed: {error}"
                break
        if failure is None and setup_errors:
            failure = f"the notebook's setup failed: {setup_errors[0]}"
        result.passed = failure is None
        result.points = result.max_points if result.passed else 0.0
        result.message = "passed" if result.passed else failure
    report.points = sum(r.points for r in results.values())
    report.seconds = round(time.monotonic() - start, 2)
    return report


# --- command line ------------------------------------------------------------------

def print_report(report, out=sys.stdout):
    print(f"{report.submission}: {report.points:g} / {report.max_points:g} points ({report.status})", file=out)
    if report.message:
        print(f"  {report.message}", file=out)
    for r in report.exercises:
        mark = "PASS" if r.passed else "FAIL"
        print(f"  [{mark}] Exercise {r.id} ({r.points:g}/{r.max_points:g}) {r.title}: {r.message}", file=out)


def write_json(path, data):
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_gradebook(path, reports):
    ids = []
    for rep in reports:
        ids += [r.id for r in rep.exercises if r.id not in ids]
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "assignment", "points", "max_points", "status"] + [f"ex {i}" for i in ids])
        for rep in reports:
            by_id = {r.id: r.points for r in rep.exercises}
            writer.writerow([rep.submission, rep.assignment or "", f"{rep.points:g}", f"{rep.max_points:g}",
                             rep.status] + [f"{by_id[i]:g}" if i in by_id else "" for i in ids])
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nnlearn-grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("submission", help="a submitted .ipynb, or a folder of them")
    parser.add_argument("--solutions", default="solutions", help="folder of instructor notebooks (default: solutions)")
    parser.add_argument("--assignment", help="assignment name, when the submission does not say")
    parser.add_argument("--output", help="folder for reports (default: grades/ beside the submission(s))")
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT, help="seconds per cell")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TOTAL_TIMEOUT, help="seconds per submission")
    args = parser.parse_args(argv)

    target = Path(args.submission)
    if not target.exists():
        print(f"error: {target} does not exist", file=sys.stderr)
        return 2
    if not Path(args.solutions).is_dir():
        print(f"error: solutions folder {args.solutions} not found (use --solutions)", file=sys.stderr)
        return 2
    paths = sorted(p for p in target.iterdir() if p.is_file() and p.suffix == ".ipynb") if target.is_dir() else [target]
    out_dir = Path(args.output) if args.output else (target if target.is_dir() else target.parent) / "grades"
    out_dir.mkdir(parents=True, exist_ok=True)

    reports = []
    for path in paths:
        report = grade_submission(path, args.solutions, args.assignment, args.cell_timeout, args.timeout)
        reports.append(report)
        print_report(report)
        write_json(out_dir / f"{path.stem}.json", report.to_dict())
    if target.is_dir():
        write_gradebook(out_dir / "gradebook.csv", reports)
        print(f"Graded {len(reports)} submission(s); gradebook: {out_dir / 'gradebook.csv'}")
    else:
        print(f"Report: {out_dir / (target.stem + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
