"""The grader on real submissions, each run in a real sandboxed kernel."""
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat

from nnlearn.grading.batch import feedback_markdown, gradescope_results, main, print_report
from nnlearn.grading.grade import grade_submission
from grading_helpers import submit

EXERCISES = ["1.1", "1.2", "1.3", "1.4"]


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
    report = grade_submission(submit(student, solution, tmp_path, answered=["1.2", "1.3"]), root / "solutions")
    results = by_id(report)
    assert report.points == 5 and [results[e].passed for e in EXERCISES] == [False, True, True, False]


WRONG = {
    # correct values but overflows (with a warning) for large |v|
    "1.1": "def sigmoid(v):\n    return 1 / (1 + np.exp(-np.asarray(v, float)))\n\n"
           "def sigmoid_derivative(v):\n    return sigmoid(v) * (1 - sigmoid(v))\n",
    # forgets the bias update
    "1.2": "def train_perceptron(X, y, lr=1.0, max_epochs=100):\n    w = np.zeros(np.shape(X)[1])\n"
           "    counts = []\n    for _ in range(max_epochs):\n        m = 0\n"
           "        for x_i, y_i in zip(np.asarray(X, float), y):\n            if y_i * (x_i @ w) <= 0:\n"
           "                w = w + lr * y_i * x_i\n                m += 1\n        counts.append(m)\n"
           "        if m == 0:\n            break\n    return w, 0.0, counts\n",
    # thresholds without margin: right on the corners, wrong for noisy inputs
    "1.3": "W1 = np.array([[1.0, 1.0], [1.0, 1.0]])\nb1 = np.array([-0.99, -1.99])\n"
           "W2 = np.array([[1.0, -1.0]])\nb2 = np.array([-0.5])\n",
    # multiplies the layers in the wrong order
    "1.4": "def collapse_affine(weights, biases):\n    W = np.eye(np.shape(weights[0])[1])\n"
           "    b = np.zeros(np.shape(weights[0])[1])\n    for Wp, bp in zip(weights, biases):\n"
           "        W = W @ Wp if W.shape[1] == Wp.shape[0] else Wp @ W\n        b = Wp @ b + bp\n    return W, b\n",
}


# the check each wrong answer above must fail
FAILS = {"1.1": "no overflow for large |v|", "1.2": "weights and bias after training", "1.3": "XOR with a margin of 0.1",
         "1.4": "W_star on random networks"}


def test_wrong_answers_fail_the_hidden_tests(root, student, solution, tmp_path):
    report = grade_submission(submit(student, solution, tmp_path, replace=WRONG), root / "solutions")
    assert report.points < report.max_points
    for result in report.exercises:
        checks = {c["name"]: c for c in result.checks}
        assert not result.passed and result.points < result.max_points, result.message
        assert not checks[FAILS[result.id]]["passed"] and checks[FAILS[result.id]]["points"] == 0
        assert "a test failed" in checks[FAILS[result.id]]["message"] and "a test failed" in result.message
        assert result.points == sum(c["points"] for c in result.checks if c["passed"])
    assert "overflows" in by_id(report)["1.1"].message


def test_partial_credit_check_by_check(root, student, solution, tmp_path):
    """A sigmoid that silences the overflow warning: right everywhere but where e^v is subnormal."""
    silenced = ("def sigmoid(v):\n    with np.errstate(over='ignore'):\n        return 1 / (1 + np.exp(-np.asarray(v, float)))\n\n"
                "def sigmoid_derivative(v):\n    return sigmoid(v) * (1 - sigmoid(v))\n")
    report = grade_submission(submit(student, solution, tmp_path, replace={"1.1": silenced}), root / "solutions",
                              seed=12345)
    result = by_id(report)["1.1"]
    assert report.seed == "12345" and result.points == 1.5 and result.max_points == 2
    assert [(c["name"], c["passed"]) for c in result.checks] == [
        ("sigmoid on random inputs", True), ("sigmoid_derivative on random inputs", True),
        ("no overflow for large |v|", True), ("accuracy for very negative v", False)]
    assert result.message.startswith("3 of 4 checks passed; accuracy for very negative v: a test failed")
    feedback = feedback_markdown(report)
    assert "| 1.1 a numerically stable sigmoid and its derivative | 1.5 / 2 | 3 of 4 checks passed |" in feedback
    assert "↳ accuracy for very negative v | 0 / 0.5 | a test failed" in feedback
    console = io.StringIO()
    print_report(report, out=console)
    assert "[FAIL] accuracy for very negative v (0/0.5)" in console.getvalue()
    tests = gradescope_results(report)["tests"]
    assert len(tests) == sum(len(r.checks) for r in report.exercises)
    assert sum(t["score"] for t in tests) == report.points


def test_answers_are_found_when_an_editor_dropped_the_metadata(root, student, solution, tmp_path):
    path = submit(student, solution, tmp_path, answered=EXERCISES)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata = {}
    nbformat.write(nb, path)
    assert grade_submission(path, root / "solutions").points == 10


def test_a_folder_gives_reports_feedback_log_and_a_gradebook(root, student, solution, tmp_path, capsys):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    submit(student, solution, submissions, answered=EXERCISES, name="alice.ipynb")
    submit(student, solution, submissions, answered=["1.4"], name="bob smith ü.ipynb")
    (submissions / "carol.ipynb").write_text("garbage")
    out = tmp_path / "out"
    args = [str(submissions), "--solutions", str(root / "solutions"), "--output", str(out),
            "--assignment", "ch01_perceptron", "--workers", "2", "--no-progress"]
    assert main(args) == 0
    with open(out / "gradebook.csv", newline="") as f:
        rows = {row["submission"]: row for row in csv.DictReader(f)}
    assert rows["alice.ipynb"]["points"] == "10" and rows["bob smith ü.ipynb"]["points"] == "3"
    assert rows["carol.ipynb"]["points"] == "0" and rows["carol.ipynb"]["status"] == "invalid"
    assert rows["bob smith ü.ipynb"]["ex 1.4"] == "3" and rows["bob smith ü.ipynb"]["ex 1.1"] == "0"
    report = json.loads((out / "reports" / "alice.json").read_text())
    assert report["points"] == 10 and {e["id"] for e in report["exercises"]} == set(EXERCISES)
    feedback = (out / "feedback" / "bob smith ü.md").read_text()
    assert "Score: 3 / 10" in feedback and "not answered yet" in feedback
    assert "Graded 3 submission(s), 0 unchanged" in capsys.readouterr().out
    log = [json.loads(line) for line in (out / "grading-log.jsonl").read_text().splitlines()]
    assert len(log) == 3

    # A second run resumes: nothing changed, nothing is re-graded; a changed file is.
    assert main(args) == 0
    assert "Graded 0 submission(s), 3 unchanged" in capsys.readouterr().out
    submit(student, solution, submissions, answered=["1.1", "1.4"], name="bob smith ü.ipynb")
    assert main(args) == 0
    assert "Graded 1 submission(s), 2 unchanged" in capsys.readouterr().out
    with open(out / "gradebook.csv", newline="") as f:
        assert {r["submission"]: r["points"] for r in csv.DictReader(f)}["bob smith ü.ipynb"] == "5"


def test_shards_split_a_batch_deterministically(root, student, solution, tmp_path):
    submissions = tmp_path / "subs"
    submissions.mkdir()
    for i in range(6):
        (submissions / f"s{i}.ipynb").write_text("not a notebook")   # quick to grade
    seen = []
    for i in (1, 2, 3):
        out = tmp_path / f"out{i}"
        assert main([str(submissions), "--solutions", str(root / "solutions"), "--output", str(out),
                     "--assignment", "ch01_perceptron", "--shard", f"{i}/3", "--no-progress"]) == 0
        with open(out / f"gradebook-shard-{i}-of-3.csv", newline="") as f:
            seen.append(sorted(r["submission"] for r in csv.DictReader(f)))
    assert sorted(sum(seen, [])) == [f"s{i}.ipynb" for i in range(6)]          # a partition
    assert main([str(submissions), "--solutions", str(root / "solutions"), "--output", str(tmp_path / "again"),
                 "--assignment", "ch01_perceptron", "--shard", "2/3", "--no-progress"]) == 0
    with open(tmp_path / "again" / "gradebook-shard-2-of-3.csv", newline="") as f:
        assert sorted(r["submission"] for r in csv.DictReader(f)) == seen[1]   # deterministic


def test_gradescope_results_and_package(root, student, solution, tmp_path):
    # The package, unpacked into a fake /autograder, grades a submission with its own files.
    from nnlearn.grading.gradescope import main as package_main
    zip_path = tmp_path / "autograder.zip"
    assert package_main(["ch01_perceptron", "--solutions", str(root / "solutions"), "--output", str(zip_path)]) == 0
    import zipfile
    autograder = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "solutions/ch01_perceptron.ipynb", "nnlearn-src/nnlearn/grading/grade.py",
                "nnlearn-src/pyproject.toml"} <= names
        z.extractall(autograder / "source")
    (autograder / "submission").mkdir()
    submit(student, solution, autograder / "submission", answered=["1.1", "1.3"], name="my work.ipynb")
    env = {"AUTOGRADER_ROOT": str(autograder), "AUTOGRADER_PYTHON": sys.executable, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(["bash", str(autograder / "source" / "run_autograder")], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    results = json.loads((autograder / "results" / "results.json").read_text())
    assert results["score"] == 4
    status = {}                                        # one test per check: an exercise passes if all its do
    for t in results["tests"]:
        status.setdefault(t["name"].split(":")[0], []).append(t["status"])
    assert {ex: set(s) for ex, s in status.items()} == {"Exercise 1.1": {"passed"}, "Exercise 1.2": {"failed"},
                                                        "Exercise 1.3": {"passed"}, "Exercise 1.4": {"failed"}}
    assert all(t["max_score"] > 0 and t["name"].startswith("Exercise 1.") for t in results["tests"])
    assert sum(t["max_score"] for t in results["tests"]) == 10


def test_missing_submission_and_solutions_are_clear_errors(root, tmp_path, capsys):
    assert main([str(tmp_path / "nope.ipynb"), "--solutions", str(root / "solutions")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([str(tmp_path), "--solutions", str(tmp_path / "missing")]) == 2
    assert "solutions folder" in capsys.readouterr().err


def test_console_script_grades_one_file(root, tmp_path):
    bindir = Path(sys.executable).parent
    result = subprocess.run([str(bindir / "nnlearn-grade"), str(root / "solutions" / "ch01_perceptron.ipynb"),
                             "--solutions", str(root / "solutions"), "--output", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "10 / 10 points" in result.stdout
    assert json.loads((tmp_path / "reports" / "ch01_perceptron.json").read_text())["points"] == 10


def test_without_isolation_the_grader_still_works(root, student, solution, tmp_path):
    """The path taken on machines where the grader is not root (or unshare is refused)."""
    from nnlearn.grading.sandbox import Isolation

    plain = Isolation("none", "same user", "resource limits only (test)")
    path = submit(student, solution, tmp_path, answered=["1.1", "1.4"], replace={"1.2": "while True:\n    pass\n"})
    report = grade_submission(path, root / "solutions", isolation=plain, cell_timeout=3)
    assert report.points == 5 and report.isolation == plain.summary()
    full = grade_submission(root / "solutions" / "ch01_perceptron.ipynb", root / "solutions", isolation=plain)
    assert full.points == 10


def test_a_seed_repeats_a_grading(root, tmp_path):
    notebook = root / "solutions" / "ch01_perceptron.ipynb"
    reports = []
    for run in ("a", "b"):
        assert main([str(notebook), "--solutions", str(root / "solutions"), "--output", str(tmp_path / run),
                     "--seed", "12345", "--no-progress"]) == 0
        reports.append(json.loads((tmp_path / run / "reports" / "ch01_perceptron.json").read_text()))
    assert reports[0]["seed"] == reports[1]["seed"] == "12345"
    assert reports[0]["points"] == reports[0]["max_points"]
