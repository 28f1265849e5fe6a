"""The manual-grading pass: a static HTML page to mark by hand, and merging its scores.

    python -m nnlearn.grading.manual page SUBMISSIONS/ [--solutions solutions] [--output grades/]
    python -m nnlearn.grading.manual merge manual-scores-ASSIGNMENT.json [--solutions solutions] [--output grades/]

`page` writes grades/manual-ASSIGNMENT.html: per student, each rubric item's answer (from the
notebook, see nnlearn.grading.rubric) beside its criteria, the reference answer and a comment
box. It needs no server: its button downloads the scores file

    {"format": "nnlearn-manual-scores", "version": 1, "assignment": "ch01_perceptron",
     "scores": {"alice": {"P1.1": {"criteria": {"identity": 1, "bound": 0.5}, "comment": "…"}}}}

(students by their report name, as in grades/reports/NAME.json). `merge` checks it against the
rubric and adds it to grades/manual-scores.json (an item marked again replaces the old mark), then
rewrites gradebook.csv and the feedback. Re-running the autograder never touches that file.
Every student text on the page is HTML-escaped, and the page's Content-Security-Policy runs its
own script only (by hash), so a submission cannot script the instructor's browser.
"""
import argparse
import base64
import hashlib
import html
import json
import sys
from pathlib import Path

from .files import FileRefused, output_name, read_submission
from .gradebook import MANUAL_FILE, finish, read_json
from .output import Signer, private_dir, write_private
from .rubric import find_answers, load_rubrics

FORMAT, VERSION = "nnlearn-manual-scores", 1
SCRIPT = """document.getElementById("download").addEventListener("click", function () {
  var scores = {}, mark = function (el) {
    var s = el.dataset.student, i = el.dataset.item;
    scores[s] = scores[s] || {};
    return scores[s][i] = scores[s][i] || {criteria: {}, comment: ""};
  };
  document.querySelectorAll("input[data-criterion]").forEach(function (el) {
    if (el.value !== "") { mark(el).criteria[el.dataset.criterion] = Number(el.value); }
  });
  document.querySelectorAll("textarea[data-item]").forEach(function (el) {
    if (el.value !== "") { mark(el).comment = el.value; }
  });
  var assignment = document.body.dataset.assignment;
  var data = {format: "nnlearn-manual-scores", version: 1, assignment: assignment, scores: scores};
  var a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 1)], {type: "application/json"}));
  a.download = "manual-scores-" + assignment + ".json";
  a.click();
});"""
CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-"
       + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode() + "'")
STYLE = ("body{font-family:sans-serif;max-width:70em;margin:auto} .item{display:grid;grid-template-columns:1fr 1fr;"
         "gap:1em;border-top:1px solid #ccc;padding:.5em 0} pre{white-space:pre-wrap;background:#f4f4f4;padding:.5em}"
         " input{width:4em} textarea{width:100%}")


def class_answers(folder, rubric):
    """{student: {item: answer text}} for every notebook file of the folder."""
    from .grade import GradingError, read_notebook
    out = {}
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith(".")):
        try:
            out[output_name(path)] = find_answers(read_notebook(read_submission(path)), rubric)
        except (GradingError, FileRefused):
            out[output_name(path)] = {}
    return out


def page_html(rubric, answers, existing=None):
    """The marking page (every string from a student or a file name is escaped)."""
    e = lambda text: html.escape(str(text), quote=True)
    existing = (existing or {}).get("scores", {})
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><meta http-equiv='Content-Security-Policy' "
             f"content=\"{CSP}\"><title>Marking {e(rubric['assignment'])}</title><style>{STYLE}</style></head>"
             f"<body data-assignment=\"{e(rubric['assignment'])}\"><h1>Marking {e(rubric['assignment'])}</h1>"
             "<p>Score each criterion (blank = not marked yet), then download the scores file and run "
             "<code>python -m nnlearn.grading.manual merge FILE</code>.</p><button id='download'>Download scores</button>"]
    for student, found in answers.items():
        parts.append(f"<h2>{e(student)}</h2>")
        for item_id, item in rubric["items"].items():
            old = existing.get(student, {}).get(item_id, {})
            answer = found.get(item_id)
            shown = f"<pre>{e(answer)}</pre>" if answer else "<p><em>no answer in the notebook</em></p>"
            inputs = "".join(
                f"<li><label><input type='number' min='0' max='{c['points']:g}' step='0.25' data-student=\"{e(student)}\" "
                f"data-item=\"{e(item_id)}\" data-criterion=\"{e(c['id'])}\" value=\"{e(old.get('criteria', {}).get(c['id'], ''))}\">"
                f" / {c['points']:g} {e(c['text'])}</label></li>" for c in item["criteria"])
            parts.append(f"<div class='item'><div><h3>{e(item_id)}: {e(item['title'])}</h3>{shown}</div><div><ul>{inputs}"
                         f"</ul><textarea rows='2' placeholder='comment for the student' data-student=\"{e(student)}\" "
                         f"data-item=\"{e(item_id)}\">{e(old.get('comment', ''))}</textarea><details><summary>reference"
                         f"</summary><pre>{e(item['reference'])}</pre></details></div></div>")
    parts.append(f"<script>{SCRIPT}</script></body></html>\n")
    return "".join(parts)


class ScoresError(ValueError):
    """A scores file that does not fit its rubric."""


def check_scores(data, rubric, students):
    """{student: {item: {criteria, comment, points}}} from a downloaded scores file, checked."""
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise ScoresError(f"not a scores file of this grader (expected format {FORMAT!r}, version {VERSION})")
    if data.get("assignment") != rubric["assignment"]:
        raise ScoresError(f"scores for assignment {data.get('assignment')!r}, rubric for {rubric['assignment']!r}")
    checked = {}
    for student, items in (data.get("scores") or {}).items():
        if student not in students:
            raise ScoresError(f"no graded submission named {student!r} (expected one of grades/reports/*.json)")
        for item_id, mark in items.items():
            item = rubric["items"].get(item_id)
            if item is None or not isinstance(mark, dict) or not isinstance(mark.get("criteria", {}), dict):
                raise ScoresError(f"{student}: {item_id!r} is not an item of the rubric, or its mark is malformed")
            limits = {c["id"]: c["points"] for c in item["criteria"]}
            for cid, points in mark.get("criteria", {}).items():
                if cid not in limits or isinstance(points, bool) or not isinstance(points, (int, float)) \
                        or not 0 <= points <= limits[cid]:
                    raise ScoresError(f"{student}, {item_id}, criterion {cid!r}: {points!r} is not a score "
                                      f"between 0 and {limits.get(cid, '?')}")
            comment = mark.get("comment", "")
            if not isinstance(comment, str) or len(comment) > 4000:
                raise ScoresError(f"{student}, {item_id}: the comment must be text of at most 4000 characters")
            checked.setdefault(student, {})[item_id] = {"criteria": dict(mark.get("criteria", {})), "comment": comment,
                                                        "points": float(sum(mark.get("criteria", {}).values()))}
    return checked


def signed_reports(out_dir):
    """The reports in out_dir/reports this grader signed, {report name: Report}."""
    from .batch import report_from_dict
    from .grade import Report
    signer, reports = Signer(out_dir), {}
    for path in sorted((Path(out_dir) / "reports").glob("*.json")):
        saved = json.loads(path.read_text(encoding="utf-8"))
        if signer.verify({k: v for k, v in saved.items() if k != "signature"}, saved.get("signature")):
            reports[path.stem] = report_from_dict({k: v for k, v in saved.items() if k in Report.__dataclass_fields__})
    return reports


def merge(out_dir, scores, rubric):
    """Add a downloaded scores file (dict) to out_dir's manual scores; rewrite gradebook and feedback."""
    from .batch import feedback_markdown
    reports = signed_reports(out_dir)
    checked = check_scores(scores, rubric, reports)
    merged = read_json(Path(out_dir) / MANUAL_FILE, {})
    if merged.get("assignment") not in (None, rubric["assignment"]):
        raise ScoresError(f"{out_dir} holds manual scores of {merged['assignment']!r}; use another output folder")
    merged |= {"assignment": rubric["assignment"], "items": {i: {"title": v["title"], "points": v["points"]}
                                                             for i, v in rubric["items"].items()}}
    for student, items in checked.items():
        merged.setdefault("scores", {}).setdefault(student, {}).update(items)
    write_private(Path(out_dir) / MANUAL_FILE, json.dumps(merged, indent=1, ensure_ascii=False) + "\n")
    return finish(out_dir, reports, feedback_markdown)


def declared_assignment(folder):
    """The assignment that the first readable notebook of the folder declares, or None."""
    from .grade import GradingError, read_notebook
    for path in sorted(Path(folder).glob("*.ipynb")):
        try:
            meta = read_notebook(read_submission(path)).metadata.get("nnlearn", {})
        except (GradingError, FileRefused):
            continue
        if isinstance(meta, dict) and isinstance(meta.get("assignment"), str):
            return meta["assignment"]
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["page", "merge"])
    parser.add_argument("path", help="page: the submissions folder; merge: the downloaded scores file")
    parser.add_argument("--solutions", default="solutions", help="folder with rubrics/ (default: solutions)")
    parser.add_argument("--assignment", help="assignment (default: the only rubric, or the scores file's)")
    parser.add_argument("--output", help="grades folder (default: grades/ beside the submissions, or ./grades)")
    args = parser.parse_args(argv)
    rubrics = load_rubrics(Path(args.solutions) / "rubrics")
    data = json.loads(Path(args.path).read_text(encoding="utf-8")) if args.command == "merge" else None
    name = args.assignment or (data or {}).get("assignment") or (declared_assignment(args.path) if data is None else None)
    if name not in rubrics:
        print(f"error: no rubric for assignment {name!r}; pass --assignment, one of {sorted(rubrics)}", file=sys.stderr)
        return 2
    if args.command == "page":
        out = Path(args.output or Path(args.path) / "grades")
        private_dir(out, parents=True)
        page = out / f"manual-{name}.html"
        write_private(page, page_html(rubrics[name], class_answers(args.path, rubrics[name]), read_json(out / MANUAL_FILE, {})))
        print(f"Open {page} in a browser, mark, and download the scores file.")
        return 0
    try:
        rows = merge(Path(args.output or "grades"), data, rubrics[name])
    except ScoresError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Merged; gradebook rewritten ({len(rows)} submissions).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
