"""Due dates, the submission manifest and late-penalty policies (no grading: on gradebook rows)."""
import math
import os

import pytest

from nnlearn.grading import late
from nnlearn.grading.batch import main as grade_main
from nnlearn.grading.grade import ExerciseResult, Report
from nnlearn.grading.gradebook import final_rows

DAY, HOUR = 86400, 3600


@pytest.mark.parametrize("text, seconds, earned, expected", [
    ("none", 30 * DAY, 8, 0),
    ("10%/day", 0, 8, 0),                         # on time
    ("10%/day", 1, 8, 1),                         # one started day: 10 % of 10 points
    ("10%/day", DAY + 1, 8, 2),
    ("10%/day", 12 * DAY, 8, 8),                  # never below zero
    ("2%/hour,grace=15m", 14 * 60, 8, 0),         # inside the grace period
    ("2%/hour,grace=15m", 16 * 60, 8, 0.2),
    ("2%/hour,grace=15m", HOUR + 15 * 60 + 1, 8, 0.4),
    ("10%/day,zero-after=7d", 6 * DAY, 8, 6),
    ("10%/day,zero-after=7d", 7 * DAY + 1, 8, 8),
    ("zero", 1, 8, 8),
    ("10%/day", None, 8, 0),                      # unknown time: no penalty
])
def test_policies(text, seconds, earned, expected):
    assert math.isclose(late.Policy.parse(text).penalty(seconds, earned, 10), expected)


@pytest.mark.parametrize("text, message", [("10/day", "expected 'none'"), ("10%/week", "expected 'none'"),
                                           ("10%/day,grace=soon", "duration 'soon'"), ("5%/day,cap=2", "only grace")])
def test_bad_policies_are_clear_errors(text, message):
    with pytest.raises(late.LateError, match=message):
        late.Policy.parse(text)


def test_times_need_a_utc_offset():
    assert late.seconds_late("2025-03-08T00:00:00Z", "2025-03-07T23:00:00+00:00") == HOUR
    assert late.seconds_late("2025-03-07T23:30:00+01:00", "2025-03-07T23:00:00+00:00") == 0
    with pytest.raises(late.LateError, match="no UTC offset"):
        late.parse_time("2025-03-07T23:59")
    with pytest.raises(late.LateError, match="not an ISO 8601 time"):
        late.parse_time("next Friday")


def test_the_manifest_maps_files_to_students_and_times(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("file,student_id,submitted_at,name,email\nalice.ipynb,a1,2025-03-07T22:00:00Z,\"Liddell, Alice\","
                    "a@x.org\nbob.ipynb,b2,,,\n", encoding="utf-8")
    entries = late.read_manifest(path)
    assert entries["alice.ipynb"]["student_id"] == "a1" and entries["alice.ipynb"]["name"] == "Liddell, Alice"
    assert entries["bob.ipynb"]["submitted_at"] == ""
    path.write_text("file,student\nalice.ipynb,a1\n")
    with pytest.raises(late.LateError, match="missing column.*student_id, submitted_at"):
        late.read_manifest(path)
    path.write_text("file,student_id,submitted_at\nalice.ipynb,a1,yesterday\n")
    with pytest.raises(late.LateError, match="line 2: submitted_at 'yesterday'"):
        late.read_manifest(path)
    path.write_text("file,student_id,submitted_at\na.ipynb,a1,\na.ipynb,a2,\n")
    with pytest.raises(late.LateError, match="listed twice"):
        late.read_manifest(path)


def test_file_times_as_the_instructor_chooses(tmp_path):
    path = tmp_path / "alice.ipynb"
    path.write_text("{}")
    os.utime(path, (0, 1741388400))                     # 2025-03-07T23:00:00Z
    manifest = {"alice.ipynb": {"student_id": "a1", "submitted_at": "2025-03-01T00:00:00Z"}}
    assert late.roster_entry(path, manifest, "mtime") == {"student_id": "a1", "submitted_at": "2025-03-07T23:00:00+00:00"}
    assert late.roster_entry(path, manifest, "manifest")["submitted_at"] == "2025-03-01T00:00:00Z"


def report(name, points):
    return Report(submission=name, assignment="ch01_perceptron", points=points, max_points=10,
                  exercises=[ExerciseResult("1.1", "sigmoid", 10, points)])


def test_the_gradebook_shows_the_penalty_and_the_final_score():
    roster = {"due": "2025-03-07T23:59:00+01:00", "policy": "10%/day",
              "students": {"late": {"student_id": "s1", "submitted_at": "2025-03-09T12:00:00+01:00"},
                           "early": {"student_id": "s2", "submitted_at": "2025-03-01T12:00:00+01:00"}}}
    rows = {r["submission"]: r for r in final_rows([report("late.ipynb", 9), report("early.ipynb", 9),
                                                     report("unknown.ipynb", 9)], None, roster)}
    assert (rows["late.ipynb"]["late_penalty"], rows["late.ipynb"]["final_points"]) == (2.0, 7.0)   # 2 started days
    assert rows["late.ipynb"]["hours_late"] == "36.02"
    assert (rows["early.ipynb"]["late_penalty"], rows["early.ipynb"]["final_points"]) == (0.0, 9.0)
    assert rows["unknown.ipynb"]["hours_late"] == "unknown" and rows["unknown.ipynb"]["final_points"] == 9.0


def test_a_bad_due_date_or_policy_stops_before_grading(root, tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    common = [str(tmp_path / "subs"), "--solutions", str(root / "solutions"), "--output", str(tmp_path / "out")]
    assert grade_main(common + ["--due", "2025-03-07"]) == 2
    assert "no UTC offset" in capsys.readouterr().err
    assert grade_main(common + ["--due", "2025-03-07T23:59Z", "--late-policy", "lots"]) == 2
    assert "late policy 'lots'" in capsys.readouterr().err
