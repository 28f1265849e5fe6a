"""Canvas and Moodle grade-import files from a grades folder (signed reports, no grading)."""
import csv
import io
import json

from nnlearn.grading import lms
from nnlearn.grading.batch import Batch
from nnlearn.grading.files import output_name
from nnlearn.grading.grade import ExerciseResult, Report


def grades_folder(root, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    batch = Batch(out, root / "solutions", {})
    batch.prepare()
    for name, points in [("alice", 10), ("bob", 4), ("=cmd", 3), ("nobody", 1)]:
        path = subs / f"{name}.ipynb"
        path.write_text("{}")
        batch.save(path, Report(submission=str(path), assignment="ch01_perceptron", points=points, max_points=10,
                                exercises=[ExerciseResult("1.1", "t", 10, points)]))
    roster = {"due": "2025-03-07T23:59:00Z", "policy": "10%/day", "students": {
        "alice": {"student_id": "101", "submitted_at": "2025-03-07T20:00:00Z", "name": "Liddell, Alice",
                  "sis_user_id": "S101", "sis_login_id": "alice", "section": "A", "email": "alice@uni.example"},
        "bob": {"student_id": "102", "submitted_at": "2025-03-08T03:00:00Z", "name": "Builder, Bob", "email": "bob@uni.example"}}}
    roster["students"][output_name(subs / "=cmd.ipynb")] = {"student_id": "103", "name": "=HYPERLINK(\"x\")"}
    (out / "roster.json").write_text(json.dumps(roster))
    (out / "manual-scores.json").write_text(json.dumps({"assignment": "ch01_perceptron",
                                                         "items": {"P1.1": {"title": "t", "points": 2}},
                                                         "scores": {"alice": {"P1.1": {"points": 1.5, "criteria": {}}}}}))
    return out


def read(text):
    return list(csv.reader(io.StringIO(text)))


def test_canvas_import_columns(root, tmp_path):
    text, missing = lms.export(grades_folder(root, tmp_path), "canvas", "Chapter 1 (4711)")
    rows = read(text)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Chapter 1 (4711)"]
    body = {r[1]: r for r in rows[1:]}
    assert body["101"] == ["Liddell, Alice", "101", "S101", "alice", "A", "11.5"]     # 10 + 1.5 by hand
    assert body["102"][-1] == "2.8"                                                   # 4 - 10 % of 12 points
    assert body["103"][0] == "'=HYPERLINK(\"x\")"                                     # no formula in a spreadsheet
    assert missing == ["nobody.ipynb"]                                                # no student id: left out, named


def test_moodle_import_columns(root, tmp_path):
    text, _ = lms.export(grades_folder(root, tmp_path), "moodle", "Chapter 1")
    rows = read(text)
    assert rows[0] == ["Full name", "ID number", "Email address", "Chapter 1", "Chapter 1 (feedback)"]
    alice = next(r for r in rows if r[2] == "alice@uni.example")
    assert alice[1] == "S101" and alice[3] == "11.5" and alice[4] == "autograded 10/10; marked by hand 1.5/2"
    bob = next(r for r in rows if r[2] == "bob@uni.example")
    assert bob[1] == "102" and bob[4].endswith("late penalty -1.2")


def test_the_command_writes_a_private_file(root, tmp_path, capsys):
    out = grades_folder(root, tmp_path)
    assert lms.main(["canvas", str(out), "--column", "Chapter 1"]) == 0
    assert (out / "canvas-import.csv").stat().st_mode & 0o077 == 0
    assert "nobody.ipynb" in capsys.readouterr().err
