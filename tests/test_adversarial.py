"""An adversarial corpus: every case gets a score and a clear message, the batch goes on,
no case crashes or hangs the grader, and no case scores more than it earned.

Each case starts from a submission with correct answers to exercises 1.2-1.4 (8 points),
then breaks or abuses something; an honest grader gives 8 (or 0 for an unreadable file).
"""
import os
from pathlib import Path

import nbformat
import pytest

from nnlearn.grading.exercises import cell_info
from nnlearn.grading.grade import grade_submission
from nnlearn.grading.sandbox import probe_isolation
from grading_helpers import answer_source, submit

ROOT = Path(__file__).resolve().parents[1]
ISOLATION = probe_isolation()
# Attacks on the operating system itself are tried in tests/test_isolation.py; these check the
# grader's whole path under whatever isolation this machine has (full isolation in CI).
isolated = pytest.mark.skipif(not ISOLATION.full and os.environ.get("CI") != "true",
                              reason=f"NOT TESTED HERE — needs full isolation: {ISOLATION.summary()}")

ANSWER_11 = "# Exercise 1.1: sigmoid and its derivative\n"

# name -> (source of the 1.1 answer cell, expected status or None, a phrase the 1.1 message must contain)
CELL_CASES = {
    "syntax_error": (ANSWER_11 + "def sigmoid(v):\n    return 1 / (1 + np.exp(-v)\n", None, "SyntaxError"),
    "import_error": (ANSWER_11 + "import numpy_but_faster\n", None, "ModuleNotFoundError"),
    "sys_exit": (ANSWER_11 + "import sys\nsys.exit(0)\n", None, "SystemExit"),
    "raise_systemexit": (ANSWER_11 + "raise SystemExit(3)\n", None, "SystemExit"),
    "os_exit": (ANSWER_11 + "import os\nos._exit(1)\n", "kernel-died", "kernel died"),
    "infinite_loop": (ANSWER_11 + "while True:\n    pass\n", "timed-out", "timed out"),
    "ignores_interrupt": (ANSWER_11 + "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n"
                          "    pass\n", "timed-out", "timed out"),
    "memory_bomb": (ANSWER_11 + "blob = bytearray(64 * 2**30)\n", None, "MemoryError"),
    "gigabyte_print": (ANSWER_11 + "for _ in range(10**7):\n    print('x' * 100)\n", None, "printed more than"),
    "loop_inside_function": (ANSWER_11 + "def sigmoid(v):\n    while True:\n        pass\n\n"
                             "def sigmoid_derivative(v):\n    return v\n", "timed-out", "timed out"),
    "deletes_working_directory": (ANSWER_11 + "import os, shutil\nshutil.rmtree(os.getcwd(), ignore_errors=True)\n"
                                  "def sigmoid(v):\n    return v\n", None, "a test failed"),
    # cheats
    "always_equal_object": (ANSWER_11 + "class Anything:\n    def __eq__(self, other):\n        return True\n"
                            "    __array__ = None\ndef sigmoid(v):\n    return Anything()\n"
                            "def sigmoid_derivative(v):\n    return Anything()\n", None, "not plain data"),
    "patches_numpy_and_prints_success": (ANSWER_11 + "import numpy\nnumpy.allclose = lambda *a, **k: True\n"
                                         "numpy.isclose = lambda *a, **k: True\nprint('All tests passed')\n"
                                         "def sigmoid(v):\n    return numpy.zeros_like(v)\n"
                                         "def sigmoid_derivative(v):\n    return numpy.zeros_like(v)\n",
                                         None, "a test failed"),
    "hard_codes_the_self_check": (ANSWER_11 + "def sigmoid(v):\n    v = np.asarray(v, float)\n"
                                  "    return np.where(v > 0, 0.88079708, np.where(v < 0, 0.11920292, 0.5))\n"
                                  "def sigmoid_derivative(v):\n    return np.full(np.shape(v), 0.25)\n",
                                  None, "a test failed"),
    "fakes_the_judge": (ANSWER_11 + "import nnlearn.grading.judge as j\nj.encode = lambda value: '{\"fake\": true}'\n"
                        "def sigmoid(v):\n    return v\ndef sigmoid_derivative(v):\n    return v\n",
                        None, "not plain data"),
    "writes_fake_results": (ANSWER_11 + "import json\nfor name in ['results.json', 'report.json', 'grades.csv']:\n"
                            "    open(name, 'w').write(json.dumps({'score': 100, 'points': 100}))\n", None, "a test failed"),
}


@pytest.mark.parametrize("case", list(CELL_CASES))
def test_adversarial_answer_cell(case, student, solution, tmp_path):
    source, status, phrase = CELL_CASES[case]
    path = submit(student, solution, tmp_path, answered=["1.2", "1.3", "1.4"], replace={"1.1": source})
    report = grade_submission(path, ROOT / "solutions", cell_timeout=3, total_timeout=90)
    results = {r.id: r for r in report.exercises}
    assert results["1.1"].points == 0 and phrase in results["1.1"].message, results["1.1"].message
    if case == "fakes_the_judge":   # breaks the kernel for everything after it: no gain, possibly loss
        assert report.points <= 8
    else:
        assert report.points == 8, [(r.id, r.message) for r in report.exercises]
    if status:
        assert report.status == status
    assert report.seconds < 60


@isolated
def test_fork_bomb_is_contained(student, solution, tmp_path):
    source = ANSWER_11 + "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    path = submit(student, solution, tmp_path, answered=["1.2", "1.3", "1.4"], replace={"1.1": source})
    report = grade_submission(path, ROOT / "solutions", cell_timeout=3, total_timeout=90)
    assert report.points == 8 and report.status in ("timed-out", "kernel-died")


@isolated
def test_instructor_files_cannot_be_read(student, solution, tmp_path):
    # Reads the reference answer out of the instructor notebook and runs it.
    steal = ANSWER_11 + (f"import json\nnb = json.load(open({str(ROOT / 'solutions' / 'ch01_perceptron.ipynb')!r}))\n"
                         "src = [''.join(c['source']) for c in nb['cells'] if 'def sigmoid' in ''.join(c['source'])][0]\n"
                         "exec(src.replace('### BEGIN SOLUTION', '').replace('### END SOLUTION', ''))\n")
    path = submit(student, solution, tmp_path, answered=["1.2", "1.3", "1.4"], replace={"1.1": steal})
    report = grade_submission(path, ROOT / "solutions")
    assert report.points == 8 and "FileNotFoundError" in report.exercises[0].message


@isolated
def test_other_submissions_cannot_be_read_or_changed(student, solution, tmp_path):
    other = tmp_path / "classmate.ipynb"
    other.write_text("classmate's work")
    source = ANSWER_11 + f"print(open({str(other)!r}).read())\nopen({str(other)!r}, 'w').write('gone')\n"
    path = submit(student, solution, tmp_path, answered=["1.2", "1.3", "1.4"], replace={"1.1": source})
    report = grade_submission(path, ROOT / "solutions")
    assert report.points == 8 and other.read_text() == "classmate's work"


@isolated
def test_no_network(student, solution, tmp_path):
    source = ANSWER_11 + "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=2)\n"
    path = submit(student, solution, tmp_path, answered=["1.2", "1.3", "1.4"], replace={"1.1": source})
    report = grade_submission(path, ROOT / "solutions", cell_timeout=10)
    assert report.points == 8 and ("ConnectionRefused" in report.exercises[0].message
                                   or "unreachable" in report.exercises[0].message.lower())


def write_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("name, content, phrase", [
    ("invalid.ipynb", b'{"cells": [', "not a readable Jupyter notebook"),
    ("empty.ipynb", b"", "the file is empty"),
    ("binary.ipynb", bytes(range(256)) * 40, "binary"),
    ("essay.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "binary"),
    ("script.py", b"def sigmoid(v):\n    return v\n", "not a readable Jupyter notebook"),
    ("json_not_notebook.ipynb", b'{"name": "Alice", "answers": [1, 2, 3]}', "not a readable Jupyter notebook"),
])
def test_unreadable_files_get_zero_and_a_message(name, content, phrase, tmp_path):
    report = grade_submission(write_file(tmp_path, name, content), ROOT / "solutions", assignment="ch01_perceptron")
    assert report.status == "invalid" and report.points == 0 and report.max_points == 10
    assert phrase in report.message
    assert all(phrase in r.message for r in report.exercises)


def test_unknown_assignment_without_a_hint(tmp_path):
    report = grade_submission(write_file(tmp_path, "x.ipynb", b""), ROOT / "solutions")
    assert report.status == "invalid" and "cannot tell which assignment" in report.message


def test_notebook_of_another_assignment(student, solution, tmp_path):
    path = submit(student, solution, tmp_path, answered=["1.1", "1.2", "1.3", "1.4"])
    nb = nbformat.read(path, as_version=4)
    nb.metadata["nnlearn"]["assignment"] = "ch02_mlp"
    nbformat.write(nb, path)
    report = grade_submission(path, ROOT / "solutions", assignment="ch01_perceptron")
    assert report.status == "invalid" and report.points == 0 and "belongs to assignment 'ch02_mlp'" in report.message


def test_old_nbformat_is_converted_and_graded(student, solution, tmp_path):
    path = submit(student, solution, tmp_path, answered=["1.1", "1.2", "1.3", "1.4"])
    old = nbformat.convert(nbformat.read(path, as_version=4), 3)
    path.write_text(nbformat.writes(old, version=3))
    assert nbformat.reads(path.read_text(), as_version=nbformat.NO_CONVERT).nbformat == 3
    assert grade_submission(path, ROOT / "solutions").points == 10


def test_missing_and_deleted_cells(student, solution, tmp_path):
    path = submit(student, solution, tmp_path, answered=["1.1", "1.2", "1.3", "1.4"])
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if cell_info(c) != {"exercise": "1.2", "role": "answer"}
                and cell_info(c).get("role") != "public-tests"]          # tests deleted: irrelevant
    nbformat.write(nb, path)
    report = grade_submission(path, ROOT / "solutions")
    results = {r.id: r for r in report.exercises}
    assert report.points == 7 and results["1.2"].message == "no answer cell found for this exercise"


def test_edited_public_tests_change_nothing(student, solution, tmp_path):
    path = submit(student, solution, tmp_path, answered=["1.1"])
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell_info(cell).get("role") == "public-tests":
            cell.source = "print('All tests passed')"
    nbformat.write(nb, path)
    assert grade_submission(path, ROOT / "solutions").points == 2


def test_whole_notebook_time_limit(student, solution, tmp_path):
    slow = {ex: f"# Exercise {ex}: slow\nimport time\ntime.sleep(4)\n" + answer_source(solution, ex) for ex in
            ("1.1", "1.2", "1.3", "1.4")}
    path = submit(student, solution, tmp_path, replace=slow)
    report = grade_submission(path, ROOT / "solutions", cell_timeout=30, total_timeout=6)
    assert report.status == "timed-out" and report.seconds < 20
    assert report.points < 10 and any("time limit" in r.message for r in report.exercises)


def test_grader_process_survives_and_leaves_no_processes(student, solution, tmp_path):
    before = {p for p in os.listdir("/proc") if p.isdigit()}
    path = submit(student, solution, tmp_path, answered=["1.2"], replace={
        "1.1": ANSWER_11 + "import subprocess\nsubprocess.Popen(['sleep', '300'])\n"})
    grade_submission(path, ROOT / "solutions")
    leftovers = []
    for pid in {p for p in os.listdir("/proc") if p.isdigit()} - before:
        try:
            leftovers.append(Path(f"/proc/{pid}/cmdline").read_bytes())
        except OSError:
            pass
    assert not [c for c in leftovers if b"sleep" in c]


def test_cpu_time_limit_stops_a_busy_kernel(student, solution, tmp_path):
    from nnlearn.grading.sandbox import Limits

    source = ANSWER_11 + "x = 0\nwhile True:\n    x += 1\n"
    path = submit(student, solution, tmp_path, answered=["1.2", "1.3", "1.4"], replace={"1.1": source})
    report = grade_submission(path, ROOT / "solutions", cell_timeout=60, total_timeout=120,
                              limits=Limits(cpu_seconds=6))
    assert report.status == "kernel-died" and report.points == 8 and report.seconds < 40
