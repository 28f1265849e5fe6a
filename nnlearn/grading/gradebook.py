"""The gradebook: each submission's autograded points, the points marked by hand, the late
penalty and the final score, one row per submission.

Two instructor files in the output folder feed it besides the reports, and no re-run of the
autograder touches them:
  manual-scores.json  scores merged from the manual-grading page (nnlearn.grading.manual)
  roster.json         due date, late policy, and per submission its student id, roster fields
                      and submission time (written by `nnlearn-grade --due/--manifest`)
final = max(0, points + manual_points - late_penalty); the penalty is the late policy applied
to points + manual_points out of max_points + manual_max.
"""
import csv
import io
import json
from pathlib import Path

from .files import output_name
from .late import Policy, seconds_late
from .output import write_private

MANUAL_FILE, ROSTER_FILE = "manual-scores.json", "roster.json"
COLUMNS = ["submission", "student_id", "assignment", "points", "max_points", "manual_points", "manual_max",
           "late_penalty", "final_points", "final_max", "submitted_at", "hours_late", "status", "sha256"]


def read_json(path, default):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


def _spreadsheet_safe(text):
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text   # no formulas in a spreadsheet


def named(reports):
    """{report name: report}. Give a dict of the names the reports were saved under (the grader's
    reports/NAME.json); a plain list falls back to rebuilding each name from its submission, which
    is only right for plain names: an odd file name is escaped in the report."""
    return dict(reports) if isinstance(reports, dict) else {output_name(Path(r.submission).name): r for r in reports}


def final_rows(reports, manual=None, roster=None):
    """One dict per report (sorted by submission name) with COLUMNS, 'ex ID' per exercise and
    'manual ID' per hand-marked item; reports: {report name: Report} (see named())."""
    manual, roster = manual or {}, roster or {}
    items = manual.get("items", {})
    policy = Policy.parse(roster.get("policy"))
    rows = []
    for key, rep in sorted(named(reports).items(), key=lambda kv: (kv[1].submission, kv[0])):
        marked = manual.get("scores", {}).get(key, {})
        who = roster.get("students", {}).get(key, {})
        manual_points = sum(m["points"] for m in marked.values())
        manual_max = sum(i["points"] for i in items.values()) if manual.get("assignment") in (None, rep.assignment) else 0
        late = seconds_late(who.get("submitted_at"), roster.get("due"))
        earned, possible = rep.points + manual_points, rep.max_points + manual_max
        penalty = policy.penalty(late, earned, possible)
        row = {"submission": Path(rep.submission).name, "student_id": who.get("student_id", ""),
               "assignment": rep.assignment or "", "points": rep.points, "max_points": rep.max_points,
               "manual_points": manual_points, "manual_max": manual_max, "late_penalty": penalty,
               "final_points": round(max(0.0, earned - penalty), 4), "final_max": possible,
               "submitted_at": who.get("submitted_at", ""), "status": rep.status, "sha256": rep.sha256,
               "hours_late": "unknown" if late is None else f"{late / 3600:.2f}", "roster": who}
        row |= {f"ex {r.id}": r.points for r in rep.exercises}
        row |= {f"manual {i}": marked[i]["points"] if i in marked else "" for i in items}
        row["_marked"], row["_late"], row["_name"] = marked, late, key
        rows.append(row)
    return rows


def _cell(value):
    return f"{value:g}" if isinstance(value, float) else _spreadsheet_safe(value)


def write_gradebook(path, reports, manual=None, roster=None):
    rows = final_rows(reports, manual, roster)
    extra = []
    for row in rows:
        extra += [k for k in row if k.startswith(("ex ", "manual ")) and k not in extra and k not in COLUMNS]
    header = COLUMNS + sorted(k for k in extra if k.startswith("ex ")) + [k for k in extra if k.startswith("manual ")]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows([_cell(row.get(k, "")) for k in header] for row in rows)
    write_private(path, text.getvalue())
    return rows


def feedback_extra(row, manual, roster):
    """The feedback's sections on hand-marked items and lateness ('' when there are none)."""
    cell = lambda text: " ".join(str(text).split()).replace("|", "\\|")
    lines = []
    if row["_marked"]:
        lines += ["", "## Marked by hand", "", "| item | points | comment |", "|---|---|---|"]
        for item_id, mark in row["_marked"].items():
            info = manual.get("items", {}).get(item_id, {})
            lines.append(f"| {cell(item_id)} {cell(info.get('title', ''))} | {mark['points']:g} / "
                         f"{info.get('points', 0):g} | {cell(mark.get('comment', ''))} |")
    if roster.get("due"):
        late = row["_late"]
        lines += ["", "## Deadline", "", f"Due {roster['due']}; "
                  + ("no submission time was recorded, so no late penalty was applied." if late is None else
                     "handed in on time." if late == 0 else
                     f"handed in {late / 3600:.1f} hours late: {row['late_penalty']:g} point(s) off "
                     f"(policy: {roster.get('policy') or 'none'}).")]
    if lines:
        lines += ["", f"**Final score: {row['final_points']:g} / {row['final_max']:g}**"]
    return "\n".join(lines) + ("\n" if lines else "")


def finish(out_dir, reports, feedback, name="gradebook.csv"):
    """Write the gradebook, and every feedback file with its hand-marked and late sections
    (reports: {report name: Report}; feedback: report -> the autograder's Markdown)."""
    out_dir = Path(out_dir)
    manual, roster = read_json(out_dir / MANUAL_FILE, {}), read_json(out_dir / ROSTER_FILE, {})
    reports = named(reports)
    rows = write_gradebook(out_dir / name, reports, manual, roster)
    if manual or roster.get("due"):
        for row in rows:
            write_private(out_dir / "feedback" / f"{row['_name']}.md",
                          feedback(reports[row["_name"]]) + feedback_extra(row, manual, roster))
    return rows
