"""nnlearn-grade: grade one submission or a folder of them.

    nnlearn-grade SUBMISSION.ipynb [--gradescope results.json]
    nnlearn-grade SUBMISSIONS/ [--workers N] [--shard i/n]

A folder is graded in parallel with a progress bar. The output folder (default:
grades/ beside the submissions) receives reports/NAME.json, feedback/NAME.md for the
student, gradebook.csv and an append-only grading-log.jsonl, all readable by the grader's
user only. Re-running skips every submission whose content, instructor notebook and
grader version are unchanged and whose report this grader signed, so an interrupted batch
resumes where it stopped.
"""
import argparse
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
from . import gradebook, late
from .files import file_sha256, instructor_notebooks, output_name
from .output import Signer, append_private, private_dir, write_private
from .runner import NOT_RUN
from .sandbox import Limits
from .text import clean, escape, short


def atomic_write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, text)


def tidy(data):
    """Every string of a report without control characters or terminal escapes."""
    if isinstance(data, str):
        return clean(data)
    if isinstance(data, dict):
        return {k: tidy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [tidy(v) for v in data]
    return data


def report_from_dict(d):
    exercises = [ExerciseResult(**e) for e in d.get("exercises", [])]
    return Report(**{**d, "exercises": exercises})


# --- outputs ---------------------------------------------------------------------------

def _checks_to_list(result):
    """The checks worth a line of their own: those that ran, of an exercise with several checks
    that was at least partly answered."""
    if len(result.checks) < 2 or result.message.startswith("not answered yet"):
        return []
    return [c for c in result.checks if c.get("message") != NOT_RUN]


def feedback_markdown(report):
    lines = [f"# Feedback: {Path(report.submission).name}", "",
             f"**Score: {report.points:g} / {report.max_points:g}**", ""]
    if report.message:
        lines += [f"> {report.message}", ""]
    if report.status == "timed-out":
        lines += ["> Your notebook used up its time limit; look for infinite loops or very slow code.", ""]
    cell = lambda text: str(text).replace("|", "\\|")
    lines += ["| exercise | points | result |", "|---|---|---|"]
    for r in report.exercises:
        checks = _checks_to_list(r)
        result = "passed" if r.passed else (f"{sum(c['passed'] for c in checks)} of {len(r.checks)} checks passed"
                                            if checks else r.message)
        lines.append(f"| {r.id} {cell(r.title)} | {r.points:g} / {r.max_points:g} | {cell(result)} |")
        for c in checks if not r.passed else ():
            lines.append(f"| &nbsp;&nbsp;↳ {cell(c['name'])} | {c['points']:g} / {c['max_points']:g} | "
                         f"{cell(c['message'])} |")
    lines += ["", "Each exercise is graded by named checks, each worth its own points. Hidden tests use "
              "fresh random inputs each time; a failed check means your code gave a wrong result, raised, "
              "or was too slow on one of them."]
    return "\n".join(lines) + "\n"


def gradescope_results(report):
    """Gradescope's results.json: one test per check of every exercise (one per exercise
    where the notebook declares no checks)."""
    tests = []
    for r in report.exercises:
        for c in r.checks or [None]:
            name = f"Exercise {r.id}: {r.title}" + (f" — {c['name']}" if c else "")
            ran = c is not None and c["message"] != NOT_RUN
            tests.append({"name": name, "score": c["points"] if c else r.points,
                          "max_score": c["max_points"] if c else r.max_points,
                          "status": "passed" if (c["passed"] if c else r.passed) else "failed",
                          "output": c["message"] if ran else r.message, "visibility": "visible"})
    return {
        "score": report.points,
        "execution_time": report.seconds,
        "output": report.message or f"{report.points:g} / {report.max_points:g} points",
        "tests": tests,
    }


def print_report(report, out=sys.stdout):
    print(f"{report.submission}: {report.points:g} / {report.max_points:g} points ({report.status})", file=out)
    if report.message:
        print(f"  {report.message}", file=out)
    for r in report.exercises:
        print(f"  [{'PASS' if r.passed else 'FAIL'}] Exercise {r.id} ({r.points:g}/{r.max_points:g}) {r.title}: "
              f"{r.message}", file=out)
        for c in _checks_to_list(r) if not r.passed else ():
            print(f"      [{'pass' if c['passed'] else 'FAIL'}] {c['name']} ({c['points']:g}/{c['max_points']:g})"
                  + ("" if c["passed"] else f": {c['message']}"), file=out)


# --- batch -------------------------------------------------------------------------------

def list_submissions(folder):
    """Every entry of the folder but hidden ones and real subfolders (e.g. grades/): a link, a
    FIFO or a device is listed too, and gets a report saying why it was not graded."""
    return sorted(Path(e.path) for e in os.scandir(folder)
                  if not e.name.startswith(".") and not e.is_dir(follow_symlinks=False))


def in_shard(path, shard):
    index, count = shard
    return zlib.crc32(os.fsencode(path.name)) % count == index - 1


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
        return tidy(grade_submission(path, **options).to_dict())
    except Exception as exc:   # a grader bug must not lose the batch
        return tidy(Report(submission=escape(path), assignment=options.get("assignment"), sha256=file_sha256(path),
                           status="error", message=f"internal grader error: {type(exc).__name__}: {short(exc)}").to_dict())


class Batch:
    def __init__(self, out_dir, solutions, options):
        self.out_dir, self.solutions, self.options = Path(out_dir), Path(solutions), options
        self.signer, self.graded = None, {}    # graded: {report name: Report} of the last run

    def prepare(self):
        """The output folders, private to the grader's user, and the key that signs reports."""
        private_dir(self.out_dir, parents=True)
        private_dir(self.out_dir / "reports")
        private_dir(self.out_dir / "feedback")
        self.signer = self.signer or Signer(self.out_dir)

    def instructor_sha(self, report_or_assignment):
        name = report_or_assignment if isinstance(report_or_assignment, str) else report_or_assignment.assignment
        path = instructor_notebooks(self.solutions).get(name) if isinstance(name, str) else None
        return file_sha256(path) if path else ""

    def report_path(self, submission):
        return self.out_dir / "reports" / f"{output_name(submission)}.json"

    def feedback_path(self, submission):
        return self.out_dir / "feedback" / f"{output_name(submission)}.md"

    def up_to_date(self, submission):
        """The saved report of an unchanged submission, if this grader signed it; else None."""
        try:
            saved = json.loads(self.report_path(submission).read_text(encoding="utf-8"))
            signature = saved.pop("signature")
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            return None
        if not self.signer.verify(saved, signature) or saved.get("output_name") != output_name(submission):
            return None      # forged, edited, or another submission's report: grade again
        same = (saved.get("sha256") == file_sha256(submission) and saved.get("grader_version") == GRADER_VERSION
                and saved.get("instructor_sha256") == self.instructor_sha(saved.get("assignment") or "")
                and saved.get("status") != "error")
        return report_from_dict({k: v for k, v in saved.items() if k in Report.__dataclass_fields__}) if same else None

    def save(self, submission, report):
        data = report.to_dict() | {"grader_version": GRADER_VERSION, "instructor_sha256": self.instructor_sha(report),
                                   "output_name": output_name(submission)}
        data["signature"] = self.signer.sign(data)
        write_private(self.report_path(submission), json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        write_private(self.feedback_path(submission), feedback_markdown(report))
        append_private(self.out_dir / "grading-log.jsonl", json.dumps({
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "submission": report.submission, "sha256": report.sha256,
            "status": report.status, "points": report.points, "max_points": report.max_points,
            "seconds": report.seconds, "isolation": report.isolation}, ensure_ascii=False) + "\n")

    def run(self, paths, workers, progress=True):
        """([Report], number unchanged); self.graded: {report name: Report} of this run."""
        self.prepare()
        reports, todo = [], []
        self.graded = {}
        for path in paths:
            done = self.up_to_date(path)
            (reports.append(done) if done else todo.append(path))
            if done:
                self.graded[output_name(path)] = done
        skipped = len(reports)
        if len(todo) == 1 or workers <= 1:
            for path in tqdm(todo, desc="grading", unit="notebook", disable=not progress or len(todo) == 1):
                report = report_from_dict(_grade_job(str(path), self.options))
                self.save(path, report)
                reports.append(report)
                self.graded[output_name(path)] = report
        elif todo:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context) as pool:
                futures = {pool.submit(_grade_job, str(p), self.options): p for p in todo}
                bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress)
                for future in as_completed(futures):
                    report = report_from_dict(future.result())
                    self.save(futures[future], report)
                    reports.append(report)
                    self.graded[output_name(futures[future])] = report
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
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                        help="memory of a submission's kernel and all it starts, in MB")
    parser.add_argument("--seed", type=int, help="seed of the hidden tests' random inputs, to repeat a grading "
                                       "(default: fresh for every submission; each report records its seed)")
    parser.add_argument("--due", help="deadline, ISO 8601 with UTC offset (kept in the output folder's roster.json)")
    parser.add_argument("--late-policy", help="e.g. 10%%/day,grace=15m,zero-after=7d (default: none)")
    parser.add_argument("--manifest", help="CSV: file,student_id,submitted_at[,name,email,sis_user_id,…]")
    parser.add_argument("--submitted-from", choices=["manifest", "mtime"], default="manifest",
                        help="submission times from the manifest or the files' modification times")
    parser.add_argument("--gradescope", metavar="RESULTS_JSON", help="also write Gradescope's results.json (one file)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def write_roster(out_dir, paths, args):
    """roster.json: due date, policy and each submission's student id and time (a re-run without
    these options keeps the last ones)."""
    if not (args.due or args.manifest or args.late_policy or args.submitted_from == "mtime"):
        return
    old = gradebook.read_json(out_dir / gradebook.ROSTER_FILE, {})
    due = args.due or old.get("due")
    policy = args.late_policy or old.get("policy") or "none"
    late.Policy.parse(policy)
    if due:
        late.parse_time(due, "--due")
    manifest = late.read_manifest(args.manifest) if args.manifest else None
    students = old.get("students", {}) | {output_name(p): late.roster_entry(p, manifest, args.submitted_from)
                                          for p in paths if manifest or args.submitted_from == "mtime"}
    write_private(out_dir / gradebook.ROSTER_FILE, json.dumps({"due": due, "policy": policy, "students": students},
                                                              indent=1, ensure_ascii=False) + "\n")


def main(argv=None):
    args = build_parser().parse_args(argv)
    target = Path(args.submission)
    if not Path(args.solutions).is_dir():
        print(f"error: solutions folder {escape(args.solutions)} not found (use --solutions)", file=sys.stderr)
        return 2
    if not os.path.lexists(target) and not args.gradescope:
        print(f"error: {escape(target)} does not exist", file=sys.stderr)
        return 2
    options = {"solutions_dir": str(Path(args.solutions).resolve()), "assignment": args.assignment,
               "cell_timeout": args.cell_timeout, "total_timeout": args.timeout,
               "limits": Limits(memory_mb=args.memory_mb, cpu_seconds=int(args.timeout) + 60), "seed": args.seed}
    out_dir = Path(args.output) if args.output else (target if target.is_dir() else target.parent) / "grades"
    batch = Batch(out_dir, args.solutions, options)
    try:
        batch.prepare()
    except OSError as exc:      # e.g. a folder of another user
        print(f"error: output folder {escape(out_dir)}: {short(exc)}", file=sys.stderr)
        return 2

    if target.is_dir():
        paths = list_submissions(target)
        if args.shard:
            paths = [p for p in paths if in_shard(p, args.shard)]
        try:
            write_roster(out_dir, paths, args)
        except (late.LateError, OSError) as exc:
            print(f"error: {short(exc)}", file=sys.stderr)
            return 2
        reports, skipped = batch.run(paths, args.workers, progress=not args.no_progress)
        name = f"gradebook-shard-{args.shard[0]}-of-{args.shard[1]}.csv" if args.shard else "gradebook.csv"
        gradebook.finish(out_dir, batch.graded, feedback_markdown, name)
        failed = sum(r.status == "error" for r in reports)
        print(f"Graded {len(reports) - skipped} submission(s), {skipped} unchanged since the last run; "
              f"gradebook: {escape(out_dir / name)}" + (f"; {failed} internal error(s), see the reports" if failed else ""))
        return 0

    if os.path.lexists(target):
        reports, _ = batch.run([target], 1, progress=False)
        report = reports[0]
    else:
        report = Report(submission=escape(target), assignment=args.assignment, status="invalid",
                        message="no notebook was submitted")
    print_report(report)
    if args.gradescope:
        atomic_write(args.gradescope, json.dumps(gradescope_results(report), indent=2, ensure_ascii=False) + "\n")
    print(f"Report: {escape(batch.report_path(target))}; feedback: {escape(batch.feedback_path(target))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
