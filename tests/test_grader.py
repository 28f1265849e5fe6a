"""The grader on real submissions, each run in a real kernel."""
import csv
import json
import subprocess
import sys

import nbformat
import pytest

from nnlearn.exercises import cell_info
from nnlearn.grade import grade_submission, main

EXERCISES = ["1.1", "1.2", "1.3", "1.4"]


@pytest.fixture
def solution(root):
    return nbformat.read(root / "solutions" / "ch01_perceptron.ipynb", as_version=4)


@pytest.fixture
def student(root):
    return nbformat.read(root / "exercises" / "ch01_perceptron.ipynb", as_version=4)


def answer_source(nb, ex):
    return next(c.source for c in nb.cells if cell_info(c) == {"exercise": ex, "role": "answer"})


def submit(student, solution, tmp_path, answered=(), replace=None, name="ch01_perceptron.ipynb"):
    """A copy of the student notebook with the reference answers of `answered` filled in and
    `replace` = {exercise: source} for anything else."""
    nb = nbformat.from_dict(student)
    for cell in nb.cells:
        ex = cell_info(cell).get("exercise")
        if cell_info(cell).get("role") == "answer":
            if ex in (replace or {}):
                cell.source = replace[ex]
            elif ex in answered:
                cell.source = answer_source(solution, ex)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def by_id(report):
    return {r.id: r for r in report.exercises}


def test_reference_solutions_get_full_marks(root):
    report = grade_submission(root / "solutions" / "ch01_perceptron.ipynb", root / "solutions")
    assert report.status == "graded" and report.points == report.max_points == 10
    assert all(r.passed and r.message == "passed" for r in report.exercises)


def test_untouched_student_copy_gets_zero_with_a_message_per_exercise(root):
    report = grade_submission(root / "exercises" / "ch01_perceptron.ipynb", root / "solutions")
    assert report.points == 0 and report.max_points == 10
    for ex, result in by_id(report).items():
        assert not result.passed and result.points == 0
        assert result.message.startswith("not answered yet") and f"Exercise {ex}:" in result.message


def test_each_exercise_is_scored_on_its_own(root, student, solution, tmp_path):
    path = submit(student, solution, tmp_path, answered=["1.2", "1.3"])
    report = grade_submission(path, root / "solutions")
    results = by_id(report)
    assert report.points == 5 and [results[e].passed for e in EXERCISES] == [False, True, True, False]


def test_wrong_answers_fail_the_hidden_tests(root, student, solution, tmp_path):
    wrong = {
        # overflows and warns for large |v|
        "1.1": "def sigmoid(v):\n    return 1 / (1 + np.exp(-np.asarray(v, float)))\n\n"
               "def sigmoid_derivative(v):\n    return sigmoid(v) * (1 - sigmoid(v))\n",
        # forgets the bias update
        "1.2": "def train_perceptron(X, y, lr=1.0, max_epochs=100):\n    w = np.zeros(np.shape(X)[1])\n"
               "    counts = []\n    for _ in range(max_epochs):\n        m = 0\n"
               "        for x_i, y_i in zip(np.asarray(X, float), y):\n            if y_i * (x_i @ w) <= 0:\n"
               "                w = w + lr * y_i * x_i\n                m += 1\n        counts.append(m)\n"
               "        if m == 0:\n            break\n    return w, 0.0, counts\n",
        # the layers multiplied in the wrong order
        "1.4": "def collapse_affine(weights, biases):\n    W = np.eye(np.shape(weights[0])[1])\n"
               "    b = np.zeros(np.shape(weights[0])[1])\n    for Wp, bp in zip(weights, biases):\n"
               "        W = W @ Wp if W.shape[1] == Wp.shape[0] else Wp @ W\n        b = Wp @ b + bp\n    return W, b\n",
    }
    report = grade_submission(submit(student, solution, tmp_path, answered=["1.3"], replace=wrong), root / "solutions")
    results = by_id(report)
    assert report.points == 2 and results["1.3"].passed
    for ex in ("1.1", "1.2", "1.4"):
        assert not results[ex].passed and results[ex].message.startswith("a test failed"), results[ex].message


def test_an_infinite_loop_times_out_and_the_rest_is_still_graded(root, student, solution, tmp_path):
    path = submit(student, solution, tmp_path, answered=["1.2", "1.3", "1.4"],
                  replace={"1.1": "# Exercise 1.1: sigmoid and its derivative\nwhile True:\n    pass\n"})
    report = grade_submission(path, root / "solutions", cell_timeout=3, total_timeout=60)
    results = by_id(report)
    assert report.status == "timed-out" and report.seconds < 45
    assert "timed out after 3" in results["1.1"].message and results["1.1"].points == 0
    assert report.points == 8


def test_a_dying_kernel_is_reported(root, student, solution, tmp_path):
    path = submit(student, solution, tmp_path, answered=["1.1"],
                  replace={"1.2": "# Exercise 1.2: the perceptron learning rule\nimport os\nos._exit(3)\n"})
    report = grade_submission(path, root / "solutions", cell_timeout=10, total_timeout=60)
    assert report.status == "kernel-died" and report.points == 2
    assert "kernel died" in by_id(report)["1.2"].message


def test_answers_are_found_when_an_editor_dropped_the_metadata(root, student, solution, tmp_path):
    path = submit(student, solution, tmp_path, answered=EXERCISES)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata = {}
    nbformat.write(nb, path)
    assert grade_submission(path, root / "solutions").points == 10


def test_unreadable_files_are_graded_zero_without_crashing(root, tmp_path):
    (tmp_path / "ch01_perceptron.ipynb").write_text("{ this is not json")
    report = grade_submission(tmp_path / "ch01_perceptron.ipynb", root / "solutions")
    assert report.status == "invalid" and report.points == 0 and report.max_points == 10
    assert "not a readable Jupyter notebook" in report.message
    (tmp_path / "essay.ipynb").write_bytes(b"")
    report = grade_submission(tmp_path / "essay.ipynb", root / "solutions")
    assert report.status == "invalid" and "cannot tell which assignment" in report.message
    report = grade_submission(tmp_path / "essay.ipynb", root / "solutions", assignment="ch01_perceptron")
    assert report.status == "invalid" and report.max_points == 10


def test_a_folder_gives_reports_and_a_gradebook(root, student, solution, tmp_path, capsys):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    submit(student, solution, submissions, answered=EXERCISES, name="alice.ipynb")
    submit(student, solution, submissions, answered=["1.4"], name="bob smith ü.ipynb")
    (submissions / "carol.ipynb").write_text("garbage")
    out = tmp_path / "out"
    assert main([str(submissions), "--solutions", str(root / "solutions"), "--output", str(out),
                 "--assignment", "ch01_perceptron"]) == 0
    with open(out / "gradebook.csv", newline="") as f:
        rows = {row["submission"].split("/")[-1]: row for row in csv.DictReader(f)}
    assert rows["alice.ipynb"]["points"] == "10" and rows["bob smith ü.ipynb"]["points"] == "3"
    assert rows["carol.ipynb"]["points"] == "0" and rows["carol.ipynb"]["status"] == "invalid"
    assert rows["bob smith ü.ipynb"]["ex 1.4"] == "3" and rows["bob smith ü.ipynb"]["ex 1.1"] == "0"
    report = json.loads((out / "alice.json").read_text())
    assert report["points"] == 10 and {e["id"] for e in report["exercises"]} == set(EXERCISES)
    assert "Graded 3 submission(s)" in capsys.readouterr().out


def test_console_script_grades_one_file(root, tmp_path):
    bindir = __import__("pathlib").Path(sys.executable).parent
    result = subprocess.run([str(bindir / "nnlearn-grade"), str(root / "solutions" / "ch01_perceptron.ipynb"),
                             "--solutions", str(root / "solutions"), "--output", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "10 / 10 points" in result.stdout
    assert json.loads((tmp_path / "ch01_perceptron.json").read_text())["points"] == 10


def test_missing_submission_is_a_clear_error(root, tmp_path, capsys):
    assert main([str(tmp_path / "nope.ipynb"), "--solutions", str(root / "solutions")]) == 2
    assert "does not exist" in capsys.readouterr().err
