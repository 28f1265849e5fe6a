""""Check my work": the last cell of every exercise notebook runs all the public self-checks
again and shows one row per exercise, so a learner sees at a glance what is done, what fails and
why, without scrolling back through the notebook. Nothing is sent anywhere, and a passing
self-check is not the grade: the grader's hidden tests use new inputs.

The cell is generated from the solution notebook (nnlearn.grading.exercises): it passes the
notebook's globals() and, per exercise, its id, title, points and the self-check sources.
"""
import contextlib
import html
import io
import sys
import time
from dataclasses import dataclass

from .validate import check_type

__all__ = ["SelfCheckResult", "SelfCheckReport", "check_my_work"]

_MARKS = {"passed": "✓", "failed": "✗", "not done": "…", "not run": "?"}
_MESSAGE_LENGTH = 160


@dataclass
class SelfCheckResult:
    exercise: str
    title: str
    points: float
    status: str          # "passed", "failed", "not done" (still a stub) or "not run" (a name is missing)
    message: str
    seconds: float


class SelfCheckReport(list):
    """The results, one per exercise; shown as a table in Jupyter (HTML) and as text elsewhere."""

    def summary(self):
        done = sum(r.status == "passed" for r in self)
        points = sum(r.points for r in self if r.status == "passed")
        return (f"{done} of {len(self)} exercises pass their self-checks ({points:g} of "
                f"{sum(r.points for r in self):g} points' worth). The grade comes from hidden tests on new "
                "inputs: a passing self-check is necessary, not sufficient.")

    def __str__(self):
        rows = [("", "Exercise", "Points", "Self-check", "Time", "What to do")]
        rows += [(_MARKS[r.status], r.exercise, f"{r.points:g}", r.status, f"{r.seconds:.1f} s", r.message)
                 for r in self]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[5] for row in rows]
        return "\n".join(lines + ["", self.summary()])

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        colours = {"passed": "#1a7f37", "failed": "#cf222e", "not done": "#9a6700", "not run": "#6e7781"}
        body = "".join(
            f"<tr><td>{html.escape(r.exercise)}</td><td>{html.escape(r.title)}</td><td>{r.points:g}</td>"
            f"<td style='color:{colours[r.status]};font-weight:bold'>{_MARKS[r.status]} {r.status}</td>"
            f"<td>{r.seconds:.1f} s</td><td>{html.escape(r.message)}</td></tr>" for r in self)
        return ("<table class='nnlearn-selfcheck'><thead><tr><th>Exercise</th><th>Title</th><th>Points</th>"
                "<th>Self-check</th><th>Time</th><th>What to do</th></tr></thead>"
                f"<tbody>{body}</tbody></table><p>{html.escape(self.summary())}</p>")


def _first_line(exc):
    text = str(exc).strip().splitlines()
    text = text[0] if text else ""
    text = "".join(ch for ch in text if ch.isprintable())
    return text if len(text) <= _MESSAGE_LENGTH else text[:_MESSAGE_LENGTH - 1] + "…"


def _failing_line(exc, sources):
    """The self-check line an exception came from, or ""."""
    tb, line = exc.__traceback__, ""
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith("<self-check ") and name[12:-1].isdigit():
            lines = sources[int(name[12:-1])].splitlines()
            line = lines[tb.tb_lineno - 1].strip() if 0 < tb.tb_lineno <= len(lines) else ""
        tb = tb.tb_next
    return line


def _classify(exc, sources):
    """(status, advice) for an exception a self-check raised."""
    if isinstance(exc, NotImplementedError):
        return "not done", "replace the `raise NotImplementedError(...)` line with your answer"
    if isinstance(exc, NameError):
        return "not run", f"{_first_line(exc)}: run the cells above it (your answer included) first"
    if isinstance(exc, AssertionError):
        line = _failing_line(exc, sources)
        where = f"this check fails: {line}" if line else "an assertion failed (run its self-check cell to see which)"
        return "failed", _first_line(exc) or _first_line(where)
    return "failed", f"{type(exc).__name__}: {_first_line(exc)}"


def _run(sources, namespace):
    """Run one exercise's self-check sources in namespace; (status, message)."""
    open_figures = set()
    if "matplotlib.pyplot" in sys.modules:
        open_figures = set(sys.modules["matplotlib.pyplot"].get_fignums())
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for i, source in enumerate(sources):
                exec(compile(source, f"<self-check {i}>", "exec"), namespace)
        return "passed", "nothing: it passes"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:   # a learner's code may raise anything, SystemExit included
        return _classify(exc, sources)
    finally:
        if "matplotlib.pyplot" in sys.modules:   # figures a self-check drew are not shown again here
            plt = sys.modules["matplotlib.pyplot"]
            for number in set(plt.get_fignums()) - open_figures:
                plt.close(number)


def check_my_work(namespace, exercises):
    """Run every exercise's self-checks against the notebook's namespace (pass globals()) and
    return a SelfCheckReport. `exercises` lists (id, title, points, [self-check source, ...]).
    The checks run in order on a copy of the namespace, so they change none of your variables."""
    check_type("namespace", namespace, dict, "a dict (pass globals())")
    check_type("exercises", exercises, (list, tuple), "a list of (id, title, points, sources) tuples")
    entries = []
    for i, entry in enumerate(exercises):
        ok = (isinstance(entry, (list, tuple)) and len(entry) == 4 and isinstance(entry[3], (list, tuple))
              and all(isinstance(s, str) for s in entry[3]))
        if not ok:
            raise TypeError(f"expected exercises[{i}] to be a tuple (id, title, points, [source, ...]), got "
                            f"{type(entry).__name__} {entry!r:.60}")
        entries.append(entry)
    scratch = dict(namespace)
    report = SelfCheckReport()
    for exercise, title, points, sources in entries:
        start = time.perf_counter()
        status, message = _run(sources, scratch)
        report.append(SelfCheckResult(str(exercise), str(title), float(points), status, message,
                                      time.perf_counter() - start))
    return report
