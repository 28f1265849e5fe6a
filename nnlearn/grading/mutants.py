"""Prove that the hidden tests reject known-wrong answers: judge every mutant of a solution
notebook in-process (no kernel) under fixed seeds.

An in-process session stands in for the kernel: it runs the answers in a fresh namespace of
this process, and the judge still reaches them only through the plain-data round trip
(judge.serve -> encode -> decode), exactly as in grading. It has no sandbox: use it only on
the instructor's own code.

    python -m nnlearn.grading.mutants solutions/ch03_gradient_descent.ipynb [--seeds 5]

prints each mutant's score and exits with 1 when a mutant gets full marks, earns the points of
a check it must fail, or the reference misses a point.
"""
import argparse
import contextlib
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass

import nbformat

from . import judge
from .rules import assignment_info, cell_info
from .grade import ExerciseResult
from .runner import Judge, plan
from .text import short


@dataclass
class Result:
    ok: bool
    ename: str = ""
    evalue: str = ""
    payload: str | None = None
    timed_out: bool = False
    died: bool = False

    @property
    def error(self):
        return "timed out" if self.timed_out else (f"{self.ename}: {self.evalue}" if not self.ok else None)


class _TimedOut(BaseException):
    pass


@contextlib.contextmanager
def _time_limit(seconds):
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def stop(*_):
        raise _TimedOut

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class InProcessSession:
    """The kernel session's interface (run, restart, alive), run in this process."""

    def __init__(self):
        self.namespace = {"__name__": "__main__"}

    def alive(self):
        return True

    def restart(self):
        self.namespace = {"__name__": "__main__"}

    def run(self, source, timeout):
        payloads = []
        try:
            with judge.collecting(payloads.append), _time_limit(timeout), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(source, "<answer>", "exec"), self.namespace)
        except _TimedOut:
            return Result(ok=False, timed_out=True)
        except (Exception, SystemExit) as exc:
            return Result(ok=False, ename=type(exc).__name__, evalue=str(exc)[:500])
        return Result(ok=True, payload=payloads[0] if payloads else None)


# --- the notebook's answers and mutants ------------------------------------------------------

def answers(nb):
    """{exercise: [reference answer sources]}."""
    found = {}
    for cell in nb.cells:
        info = cell_info(cell)
        if info.get("role") == "answer" and cell.cell_type == "code":
            found.setdefault(info["exercise"], []).append(cell.source)
    return found


def mutants(nb):
    """[{exercise, name, fails, passes_public_tests, source}] in notebook order."""
    return [{"passes_public_tests": False, **cell_info(c), "source": c.source} for c in nb.cells
            if cell_info(c).get("role") == "mutant"]


def judge_in_process(nb, replace=None, seed=0, only=None, cell_timeout=60):
    """{exercise: ExerciseResult} for the reference answers with `replace` = {exercise: source}
    swapped in, judged in-process with `seed` (only the exercises in `only`, if given)."""
    meta = assignment_info(nb)
    sources = answers(nb) | {ex: [src] for ex, src in (replace or {}).items()}
    setup, exercises = plan(nb, sources)
    results = {ex: ExerciseResult(ex, spec["title"], float(spec["points"])) for ex, spec in meta["exercises"].items()}
    runner = Judge(InProcessSession(), setup, exercises, cell_timeout, time.monotonic() + 3600, seed=seed)
    runner.grade_all(results, only=only)
    return results


def passes_public_tests(nb, exercise, source):
    """(True, "") when the public-tests cells of `exercise` pass with `source` as its answer
    (run in-process in notebook order, after the setup and the reference answers before it),
    else (False, why)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    session, ran_public = InProcessSession(), False
    for cell in nb.cells:
        info = cell_info(cell)
        role, ex = info.get("role"), info.get("exercise")
        if cell.cell_type != "code" or role not in (None, "answer", "public-tests"):
            continue
        if ran_public and ex != exercise:
            break                       # past the exercise: nothing after it matters
        if role == "public-tests" and ex != exercise:
            continue
        code = source if (role == "answer" and ex == exercise) else cell.source
        with contextlib.redirect_stdout(None):
            result = session.run(code, 120)
        plt.close("all")
        if not result.ok:
            return False, f"{role or 'setup'} cell of {ex or 'the notebook'} failed: {short(result.error)}"
        ran_public |= role == "public-tests"
    return ran_public, "" if ran_public else "no public-tests cell"


def audit(nb, seeds):
    """Problems (strings) with the notebook's checks under the given seeds: a mutant with full
    marks or with the points of a check it must fail; a reference answer that misses a point."""
    problems = []
    for seed in seeds:
        for ex, result in judge_in_process(nb, seed=seed).items():
            if result.points != result.max_points:
                problems.append(f"seed {seed}: the reference answer of {ex} gets {result.points:g} / "
                                f"{result.max_points:g}: {result.message}")
        for m in mutants(nb):
            result = judge_in_process(nb, {m["exercise"]: m["source"]}, seed=seed, only={m["exercise"]})[m["exercise"]]
            earned = [c["name"] for c in result.checks if c["passed"] and c["name"] in m["fails"]]
            if result.points >= result.max_points:
                problems.append(f"seed {seed}: mutant {m['exercise']} {m['name']!r} gets full marks")
            elif earned:
                problems.append(f"seed {seed}: mutant {m['exercise']} {m['name']!r} passes {earned}, "
                                "checks it must fail")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nnlearn.grading.mutants", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help="solution notebooks")
    parser.add_argument("--seeds", type=int, default=5, help="judge under seeds 0 .. N-1 (default 5)")
    args = parser.parse_args(argv)
    failed = False
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        for m in mutants(nb):
            result = judge_in_process(nb, {m["exercise"]: m["source"]}, only={m["exercise"]})[m["exercise"]]
            print(f"{path} {m['exercise']} {m['name']}: {result.points:g} / {result.max_points:g}; "
                  f"fails {[c['name'] for c in result.checks if not c['passed']]}")
        problems = audit(nb, range(args.seeds))
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
