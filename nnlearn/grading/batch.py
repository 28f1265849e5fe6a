"""nnlearn-grade: grade one submission or a folder of them.

    nnlearn-grade SUBMISSION.ipynb [--gradescope results.json]
    nnlearn-grade SUBMISSIONS/ [--workers N] [--shard i/n]

A folder is graded in parallel with a progress bar. The output folder (default:
grades/ beside the submissions) receives reports/NAME.json, feedback/NAME.md for the
student, gradebook.csv and an append-only grading-log.jsonl. Re-running skips every
submission whose content, instructor notebook and grader version are unchanged, so an
interrupted batch resumes where it stopped.
"""
import argparse
import csv
import hashlib
import json
import multiprocessing
import os
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from tqdm.auto import tqdm

from .grade import (DEFAULT_CELL_TIMEOUT, DEFAULT_TOTAL_TIMEOUT, GRADER_VERSION, ExerciseResult, Report,
                    grade_submission)
from .sandbox import Limits


def atomic_write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def file_sha256(path):
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def report_from_dict(d):
    exercises = [ExerciseResult(**e) for e in d.get("exercises", [])]
    return Report(**{**d, "exercises": exercises})


# --- outputs ---------------------------------------------------------------------------

def feedback_markdown(report):
    lines = [f"# Feedback: {Path(report.submission).name}", "",
             f"**Score: {report.points:g} / {report.max_points:g}**", ""]
    if report.message:
        lines += [f"> {report.message}", ""]
    if report.status == "timed-out":
        lines += ["> Your notebook used up its time limit; look for infinite loops or very slow code.", ""]
    lines += ["| exercise | points | result |", "|---|---|---|"]
    for r in report.exercises:
        result = "passed" if r.passed else r.message.replace("|", "\\|")
        lines.append(f"| {r.id} {r.title} | {r.points:g} / {r.max_points:g} | {result} |")
    lines += ["", "Hidden tests use fresh random inputs each time; a failed check means your code "
              "gave a wrong result, raised, or was too slow on one of them."]
    return "\n".join(lines) + "\n"


def gradescope_results(report):
    return {
        "score": report.points,
        "execution_time": report.seconds,
        "output": report.message or f"{report.points:g} / {report.max_points:g} points",
        "tests": [{"name": f"Exercise {r.id}: {r.title}", "score": r.points, "max_score": r.max_points,
                   "status": "passed" if r.passed else "failed", "output": r.message, "visibility": "visible"}
                  for r in report.exercises],
    }


def write_gradebook(path, reports):
    ids = []
    for rep in reports:
        ids += [r.id for r in rep.exercises if r.id not in ids]
    rows = [["submission", "assignment", "points", "max_points", "status", "sha256"] + [f"ex {i}" for i in ids]]
    for rep in sorted(reports, key=lambda r: r.submission):
        points = {r.id: r.points for r in rep.exercises}
        rows.append([Path(rep.submission).name, rep.assignment or "", f"{rep.points:g}", f"{rep.max_points:g}",
                     rep.status, rep.sha256] + [f"{points[i]:g}" if i in points else "" for i in ids])
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    os.replace(tmp, path)


def print_report(report, out=sys.stdout):
    print(f"{report.submission}: {report.points:g} / {report.max_points:g} points ({report.status})", file=out)
    if report.message:
        print(f"  {report.message}", file=out)
    for r in report.exercises:
        print(f"  [{'PASS' if r.passed else 'FAIL'}] Exercise {r.id} ({r.points:g}/{r.max_points:g}) {r.title}: "
              f"{r.message}", file=out)


# --- batch -------------------------------------------------------------------------------

def list_submissions(folder):
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))


def in_shard(path, shard):
    index, count = shard
    return zlib.crc32(path.name.encode("utf-8")) % count == index - 1


def parse_shard(text):
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError("--shard takes i/n, e.g. 2/8") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError("--shard i/n needs 1 <= i <= n")
    return index, count


def _grade_job(path, options):
    """Runs in a worker process; never raises."""
    try:
        return grade_submission(path, **options).to_dict()
    except Exception as exc:   # a grader bug must not lose the batch
        return Report(submission=str(path), assignment=options.get("assignment"), sha256=file_sha256(path),
                      status="error", message=f"internal grader error: {type(exc).__name__}: {exc}").to_dict()


class Batch:
    def __init__(self, out_dir, solutions, options):
        self.out_dir, self.solutions, self.options = Path(out_dir), Path(solutions), options

    def instructor_sha(self, report_or_assignment):
        name = report_or_assignment if isinstance(report_or_assignment, str) else report_or_assignment.assignment
        return file_sha256(self.solutions / f"{name}.ipynb") if name else ""

    def report_path(self, submission):
        return self.out_dir / "reports" / f"{Path(submission).stem}.json"

    def up_to_date(self, submission):
        try:
            saved = json.loads(self.report_path(submission).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        same = (saved.get("sha256") == file_sha256(submission) and saved.get("grader_version") == GRADER_VERSION
                and saved.get("instructor_sha256") == self.instructor_sha(saved.get("assignment") or "")
                and saved.get("status") != "error")
        return report_from_dict({k: v for k, v in saved.items() if k in Report.__dataclass_fields__}) if same else None

    def save(self, report):
        data = report.to_dict() | {"grader_version": GRADER_VERSION, "instructor_sha256": self.instructor_sha(report)}
        atomic_write(self.report_path(report.submission), json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        atomic_write(self.out_dir / "feedback" / f"{Path(report.submission).stem}.md", feedback_markdown(report))
        with open(self.out_dir / "grading-log.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "submission": report.submission,
                                  "sha256": report.sha256, "status": report.status, "points": report.points,
                                  "max_points": report.max_points, "seconds": report.seconds,
                                  "isolation": report.isolation}, ensure_ascii=False) + "\n")

    def run(self, paths, workers, progress=True):
        self.out_dir.mkdir(parents=True, exist_ok=True)
        reports, todo = [], []
        for path in paths:
            done = self.up_to_date(path)
            (reports.append(done) if done else todo.append(path))
        skipped = len(reports)
        if len(todo) == 1 or workers <= 1:
            for path in tqdm(todo, desc="grading", unit="notebook", disable=not progress or len(todo) == 1):
                report = report_from_dict(_grade_job(str(path), self.options))
                self.save(report)
                reports.append(report)
        elif todo:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context) as pool:
                futures = {pool.submit(_grade_job, str(p), self.options): p for p in todo}
                bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress)
                for future in as_completed(futures):
                    report = report_from_dict(future.result())
                    self.save(report)
                    reports.append(report)
                    bar.update(1)
                    bar.set_postfix_str(f"{Path(report.submission).name}: {report.points:g}/{report.max_points:g}")
                bar.close()
        return reports, skipped


# --- command line --------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(prog="nnlearn-grade", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("submission", help="a submitted .ipynb, or a folder of them")
    parser.add_argument("--solutions", default="solutions", help="folder of instructor notebooks (default: solutions)")
    parser.add_argument("--assignment", help="assignment name (default: what each notebook says)")
    parser.add_argument("--output", help="folder for the results (default: grades/ beside the submissions)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel kernels (default: cores)")
    parser.add_argument("--shard", type=parse_shard, help="grade only part i of n of the folder (1-based, by file name)")
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT, help="seconds per cell or call")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TOTAL_TIMEOUT, help="seconds per submission")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="address space of a kernel")
    parser.add_argument("--gradescope", metavar="RESULTS_JSON", help="also write Gradescope's results.json (one file)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    target = Path(args.submission)
    if not Path(args.solutions).is_dir():
        print(f"error: solutions folder {args.solutions} not found (use --solutions)", file=sys.stderr)
        return 2
    if not target.exists() and not args.gradescope:
        print(f"error: {target} does not exist", file=sys.stderr)
        return 2
    options = {"solutions_dir": str(Path(args.solutions).resolve()), "assignment": args.assignment,
               "cell_timeout": args.cell_timeout, "total_timeout": args.timeout,
               "limits": Limits(memory_mb=args.memory_mb, cpu_seconds=int(args.timeout) + 60)}
    out_dir = Path(args.output) if args.output else (target if target.is_dir() else target.parent) / "grades"
    batch = Batch(out_dir, args.solutions, options)

    if target.is_dir():
        paths = list_submissions(target)
        if args.shard:
            paths = [p for p in paths if in_shard(p, args.shard)]
        reports, skipped = batch.run(paths, args.workers, progress=not args.no_progress)
        name = f"gradebook-shard-{args.shard[0]}-of-{args.shard[1]}.csv" if args.shard else "gradebook.csv"
        write_gradebook(out_dir / name, reports)
        failed = sum(r.status == "error" for r in reports)
        print(f"Graded {len(reports) - skipped} submission(s), {skipped} unchanged since the last run; "
              f"gradebook: {out_dir / name}" + (f"; {failed} internal error(s), see the reports" if failed else ""))
        return 0

    if target.exists():
        reports, _ = batch.run([target], 1, progress=False)
        report = reports[0]
    else:
        report = Report(submission=str(target), assignment=args.assignment, status="invalid",
                        message="no notebook was submitted")
    print_report(report)
    if args.gradescope:
        atomic_write(args.gradescope, json.dumps(gradescope_results(report), indent=2, ensure_ascii=False) + "\n")
    print(f"Report: {batch.report_path(target)}; feedback: {out_dir / 'feedback' / (target.stem + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
