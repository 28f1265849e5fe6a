"""Nothing a submission names is a file the grader opens, no file breaks a batch, and the
output folder is private and trusted only where the grader signed it (failure classes 2,
4 — another student's report — and 6 of the hostile-class review).

Each defence comes with a positive control showing the attack would have worked without
it. Most cases are files the grader refuses before any kernel starts; four tests grade
for real in a sandboxed kernel (marked "real grading").
"""
import csv
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from nnlearn.grading import batch
from nnlearn.grading.batch import main, report_from_dict
from nnlearn.grading.gradebook import write_gradebook
from nnlearn.grading.output import KEY_FILE, Signer
from nnlearn.grading.grade import GradingError, Report, grade_submission, read_notebook
from nnlearn.grading.sandbox import probe_isolation
from grading_helpers import submit

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
ANSWER_11 = "# Exercise 1.1: sigmoid and its derivative\n"


def grade_folder(folder, out, *extra):
    return main([str(folder), "--solutions", str(SOLUTIONS), "--output", str(out), "--assignment", "ch01_perceptron",
                 "--workers", "1", "--no-progress", *extra])


def gradebook(out, name="gradebook.csv"):
    with open(out / name, newline="", encoding="utf-8") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def grade_one(path, out, *extra):
    """The command line in its own process, as an instructor's terminal shows it."""
    result = subprocess.run([sys.executable, "-m", "nnlearn.grading", os.fsencode(path), "--solutions", SOLUTIONS,
                             "--output", out, *extra], capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8")


def everything_written(out):
    """Every file the grader wrote there but its (binary) signing key."""
    return b"".join(p.read_bytes() for p in sorted(Path(out).rglob("*")) if p.is_file() and p.name != KEY_FILE)


# --- class 2: the assignment names one of the instructor's notebooks, nothing else -----------

def evil_notebook(marker):
    """A notebook shaped like an instructor's whose setup cell, run by the grader, leaves a marker."""
    nb = new_notebook(metadata={"nnlearn": {"assignment": "evil", "exercises": {"1.1": {"title": "x", "points": 1}}}})
    nb.cells = [new_code_cell(f"open({str(marker)!r}, 'w').write('student code ran in the grader')"),
                new_code_cell("# Exercise 1.1: x\nx = 1\n", metadata={"nnlearn": {"exercise": "1.1", "role": "answer"}}),
                new_code_cell("assert x == 1\n", metadata={"nnlearn": {"exercise": "1.1", "role": "hidden-tests"}})]
    return nb


@pytest.fixture
def traversal(tmp_path, student, solution):
    """solutions/ beside evil notebooks that each bad name reaches when joined to solutions/."""
    course = tmp_path / "course"
    solutions = course / "solutions"
    (solutions / "ch01_perceptron").mkdir(parents=True)        # lets ch01_perceptron/../../ resolve
    shutil.copy(SOLUTIONS / "ch01_perceptron.ipynb", solutions)
    marker = tmp_path / "MARKER"
    (tmp_path / "abs").mkdir()
    names = {"../x": course / "x.ipynb", str(tmp_path / "abs" / "path"): tmp_path / "abs" / "path.ipynb",
             "ch01_perceptron/../../evil": course / "evil.ipynb"}
    for target in names.values():
        nbformat.write(evil_notebook(marker), target)
    (tmp_path / "sub").mkdir()
    path = submit(student, solution, tmp_path / "sub", answered=["1.1", "1.2", "1.3", "1.4"])
    return solutions, names, marker, path


def declare(path, assignment):
    nb = nbformat.read(path, as_version=4)
    nb.metadata["nnlearn"]["assignment"] = assignment
    nbformat.write(nb, path)


def test_assignment_path_traversal_is_rejected(traversal):
    solutions, names, marker, path = traversal
    for name, evil in names.items():
        assert (solutions / f"{name}.ipynb").resolve() == evil.resolve()    # control: the old join reached it
        declare(path, name)
        by_metadata = grade_submission(path, solutions)
        by_option = grade_submission(path, solutions, assignment=name)
        both = grade_submission(path, solutions, assignment="ch01_perceptron")
        for report, where in ((by_metadata, "metadata.nnlearn.assignment"), (by_option, "--assignment"),
                              (both, "metadata.nnlearn.assignment")):
            assert report.status == "invalid" and report.points == 0, report.message
            assert where in report.message and "not a plain name" in report.message and repr(name) in report.message
        assert by_metadata.max_points == 0 and both.max_points == 10     # a known --assignment lists its exercises
        assert not marker.exists()


@pytest.mark.parametrize("declared", [7, ["../x"], {"path": "/etc"}, ".hidden", "ch01_perceptron\0"])
def test_assignment_that_is_not_a_name_is_rejected(declared, traversal):
    solutions, _, marker, path = traversal
    declare(path, declared)
    report = grade_submission(path, solutions, assignment="ch01_perceptron")
    assert report.status == "invalid" and report.points == 0 and "metadata.nnlearn.assignment" in report.message
    assert not marker.exists()


def test_unknown_assignment_option_is_not_guessed(traversal):
    solutions, _, _, path = traversal
    report = grade_submission(path, solutions, assignment="ch01_perceptrn")       # a typo
    assert report.status == "invalid" and "unknown assignment 'ch01_perceptrn'" in report.message
    assert "ch01_perceptron" in report.message


def test_positive_control_an_instructor_notebook_runs_in_the_grader(traversal):
    """Real grading: what the attacker's notebook would have done had it been accepted."""
    solutions, names, marker, _ = traversal
    shutil.copy(names["../x"], solutions / "evil.ipynb")
    answer = nbformat.read(names["../x"], as_version=4)
    answer.cells = answer.cells[1:2]
    nbformat.write(answer, solutions.parent / "answer.ipynb")
    assert grade_submission(solutions.parent / "answer.ipynb", solutions, assignment="evil").exercises[0].passed
    assert marker.exists()


# --- class 6: links, FIFOs and odd names -----------------------------------------------------

def test_a_symlink_is_invalid_and_leaks_nothing(tmp_path, capfd):
    secret = f"SECRET-{uuid.uuid4().hex}"
    (tmp_path / "secret.txt").write_text(secret + " and more private text\n")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "mallory.ipynb").symlink_to(tmp_path / "secret.txt")
    (subs / "copycat.ipynb").symlink_to(SOLUTIONS / "ch01_perceptron.ipynb")     # the reference answers
    (subs / "folder.ipynb").symlink_to(tmp_path)
    os.mkfifo(subs / "pipe.ipynb")
    # control: through the link the grader can read the secret, and the old reader echoed it
    with pytest.raises(GradingError, match=secret[:10]):
        read_notebook((subs / "mallory.ipynb").read_bytes())
    out = tmp_path / "out"
    assert grade_folder(subs, out) == 0
    assert main([str(subs / "mallory.ipynb"), "--solutions", str(SOLUTIONS), "--output", str(tmp_path / "one"),
                 "--gradescope", str(tmp_path / "results.json")]) == 0
    rows = gradebook(out)
    for name in ("mallory.ipynb", "copycat.ipynb", "folder.ipynb", "pipe.ipynb"):
        assert rows[name]["status"] == "invalid" and rows[name]["points"] == "0"
    assert "symbolic link" in json.loads((out / "reports" / "mallory.json").read_text())["message"]
    written = everything_written(out) + everything_written(tmp_path / "one") + (tmp_path / "results.json").read_bytes()
    console = capfd.readouterr()
    assert secret[:10] not in written.decode() + console.out + console.err


def test_a_fifo_is_invalid_and_does_not_hang(tmp_path):
    fifo = tmp_path / "pipe.ipynb"
    os.mkfifo(fifo)
    # control: a plain read of the FIFO blocks until someone writes
    plain = threading.Thread(target=fifo.read_bytes, daemon=True)
    plain.start()
    plain.join(0.5)
    blocked = plain.is_alive()
    with open(fifo, "wb"):                # releases the blocked reader
        pass
    plain.join(10)
    assert blocked
    result = {}
    grader = threading.Thread(target=lambda: result.update(
        report=grade_submission(fifo, SOLUTIONS, assignment="ch01_perceptron")), daemon=True)
    grader.start()
    grader.join(120)                      # a guard against a hang, not a speed target
    assert not grader.is_alive(), "grading a FIFO hung"
    assert result["report"].status == "invalid" and "FIFO" in result["report"].message


ODD_NAMES = [os.fsdecode(b"caf\xe9.ipynb"), "new\nline\x1b[31mred\x07.ipynb", "-rf.ipynb", "=1+1.ipynb",
             "\u202egnp.ipynb", "x" * 249 + ".ipynb", "bob smith \u00fc.ipynb", "bob smith u\u0308.ipynb"]


def test_odd_file_names_get_reports_and_print_safely(tmp_path, capfd):
    subs = tmp_path / "subs"
    subs.mkdir()
    for i, name in enumerate(ODD_NAMES):
        (subs / name).write_text(f"not a notebook {i}")
    # control: a raw non-UTF-8 name cannot even be written as UTF-8 (the old batch died here)
    with pytest.raises(UnicodeEncodeError):
        json.dumps(str(subs / ODD_NAMES[0]), ensure_ascii=False).encode("utf-8")
    out = tmp_path / "out"
    assert grade_folder(subs, out, "--workers", "2") == 0
    assert grade_folder(subs, out, "--shard", "1/2") == 0
    rows = gradebook(out)
    assert len(rows) == len(ODD_NAMES) and all(r["status"] == "invalid" for r in rows.values())
    assert {"caf\\xe9.ipynb", "new\\nline\\x1b[31mred\\x07.ipynb", "'-rf.ipynb", "'=1+1.ipynb",
            "\\u202egnp.ipynb"} <= set(rows)
    reports = list((out / "reports").iterdir())
    assert len(reports) == len(ODD_NAMES) and len(list((out / "feedback").iterdir())) == len(ODD_NAMES)
    assert all(len(os.fsencode(p.name)) < 200 for p in reports)
    printed = capfd.readouterr().out + grade_one(subs / ODD_NAMES[1], out / "one") + grade_one(subs / ODD_NAMES[0], out / "one")
    assert "new\\nline\\x1b[31mred\\x07.ipynb" in printed
    text = (everything_written(out).decode("utf-8") + printed).replace("\r\n", "\n")   # CSV line ends
    assert not any(c in text for c in "\x1b\x07\u202e\r") and "\udce9" not in text


def test_same_stem_files_get_separate_reports(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    contents = {"alice.ipynb": "A1", "alice.txt": "A2", "alice": "A3", "a b?.txt": "B1", "a b*.txt": "B2"}
    for name, text in contents.items():
        (subs / name).write_text(text)
    out = tmp_path / "out"
    assert grade_folder(subs, out) == 0
    # control: named by stem, as before, the three alices shared one report; sanitised alone,
    # the two 'a b' names would share one too
    assert len({Path(n).stem for n in contents if n.startswith("alice")}) == 1
    assert len({n.replace("?", "_").replace("*", "_") for n in contents if n.startswith("a b")}) == 1
    reports = [json.loads(p.read_text()) for p in (out / "reports").iterdir()]
    assert len(reports) == len(contents) == len(list((out / "feedback").iterdir()))
    assert {r["sha256"] for r in reports} == {hashlib.sha256(t.encode()).hexdigest() for t in contents.values()}
    assert (out / "reports" / "alice.json").exists()     # a plainly named notebook keeps its name


def test_a_notebook_with_a_byte_order_mark_is_graded(tmp_path, student, solution):
    """Real grading."""
    plain = submit(student, solution, tmp_path, answered=["1.2", "1.4"])
    data = plain.read_bytes()
    bom = tmp_path / "bom.ipynb"
    bom.write_bytes(b"\xef\xbb\xbf" + data)
    with pytest.raises(ValueError):                       # control: how the old reader saw it
        nbformat.reads(bom.read_bytes().decode("utf-8"), as_version=4)
    assert read_notebook(bom.read_bytes()) == read_notebook(data)
    report = grade_submission(bom, SOLUTIONS, assignment="ch01_perceptron")
    assert report.status == "graded" and report.points == 6


def test_terminal_escapes_in_a_message_never_reach_the_console_or_files(tmp_path, student, solution):
    """Real grading: the student's exception text travels (positive control), its escapes do not."""
    source = ANSWER_11 + "raise ValueError('\\x1b[2J\\x1b[31mPWNED\\x07\\rOVERWRITTEN\\x1b]0;title\\x07')\n"
    path = submit(student, solution, tmp_path, answered=["1.2"], replace={"1.1": source}, name="ansi.ipynb")
    out = tmp_path / "out"
    printed = grade_one(path, out, "--gradescope", out / "results.json")
    saved = json.loads((out / "reports" / "ansi.json").read_text())
    report = report_from_dict({k: v for k, v in saved.items() if k in Report.__dataclass_fields__})
    write_gradebook(out / "gradebook.csv", [report])
    assert "PWNED" in printed and "OVERWRITTEN" in report.exercises[0].message and report.points == 3
    written = everything_written(out)
    for text in (printed, written.decode("utf-8").replace("\r\n", "\n")):
        assert not any(c in text for c in "\x1b\x07\r") and "\\u001b" not in text


def test_a_grader_error_on_one_file_does_not_stop_the_batch(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("a.ipynb", "b.ipynb", "c.ipynb"):
        (subs / name).write_text("not a notebook")
    real = batch.grade_submission

    def flaky(path, **options):
        if Path(path).name == "b.ipynb":
            raise KeyError("\x1b[2Jboom")
        return real(path, **options)

    monkeypatch.setattr(batch, "grade_submission", flaky)
    out = tmp_path / "out"
    assert grade_folder(subs, out) == 0
    rows = gradebook(out)
    assert [rows[n]["status"] for n in ("a.ipynb", "b.ipynb", "c.ipynb")] == ["invalid", "error", "invalid"]
    message = json.loads((out / "reports" / "b.json").read_text())["message"]
    assert "boom" in message and "\x1b" not in message


# --- class 4, second half: output folders are private, reports the grader's own -----------

@pytest.fixture
def open_base():
    """A folder any user may traverse, as a shared /srv would be (tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="nnlearn-out-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base)


def as_nobody(*argv):
    return subprocess.run(argv, user=65534, group=65534, capture_output=True, text=True, timeout=30)


def test_output_folders_are_private(open_base, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "carol.ipynb").write_text("carol's work")
    out = open_base / "grades"
    assert grade_folder(subs, out) == 0
    for folder in (out, out / "reports", out / "feedback"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 5 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    # an output folder left by an older grader: its subfolders are made private too
    older = open_base / "older"
    (older / "reports").mkdir(parents=True, mode=0o755)
    (older / "reports").chmod(0o755)
    assert grade_folder(subs, older) == 0
    assert stat.S_IMODE((older / "reports").stat().st_mode) == 0o700
    if os.geteuid() != 0:
        pytest.skip("checking what another user can read needs root")
    # an output folder of another user is refused
    foreign = open_base / "foreign"
    foreign.mkdir()
    os.chown(foreign, 65534, 65534)
    assert grade_folder(subs, foreign) == 2 and not (foreign / "reports").exists()
    # control: another user reads a report written the old way (0644 in a 0755 folder) ...
    old = open_base / "old-grades"
    old.mkdir(mode=0o755)
    shutil.copy(out / "reports" / "carol.json", old / "carol.json")
    (old / "carol.json").chmod(0o644)
    assert as_nobody("cat", str(old / "carol.json")).returncode == 0
    # ... but neither lists nor reads the grader's private folders
    assert as_nobody("cat", str(out / "reports" / "carol.json")).returncode != 0
    assert as_nobody("ls", str(out / "reports")).returncode != 0
    assert as_nobody("cat", str(out / "gradebook.csv")).returncode != 0


def test_a_submission_cannot_read_another_report(open_base, tmp_path, student, solution):
    """Real grading: from inside the kernel, a classmate's report in the output folder."""
    if not getattr(probe_isolation(), "full", False) and os.environ.get("CI") != "true":
        pytest.skip(f"NOT TESTED HERE — needs full isolation: {probe_isolation().summary()}")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "carol.ipynb").write_text("carol's work")
    out = open_base / "grades"
    assert grade_folder(subs, out) == 0
    carol = json.loads((out / "reports" / "carol.json").read_text())["sha256"]
    steal = ANSWER_11 + f"raise ValueError('LEAK ' + open({str(out / 'reports' / 'carol.json')!r}).read())\n"
    submit(student, solution, subs, answered=["1.2"], replace={"1.1": steal}, name="mallory.ipynb")
    assert grade_folder(subs, out) == 0
    mallory = json.loads((out / "reports" / "mallory.json").read_text())
    message = mallory["exercises"][0]["message"]
    assert "LEAK" not in message and ("PermissionError" in message or "FileNotFoundError" in message), message
    assert carol not in json.dumps(mallory)
    assert mallory["points"] == 3


def test_a_tampered_or_forged_report_is_graded_again(tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("carol.ipynb", "dave.ipynb", "erin.ipynb"):
        (subs / name).write_text(f"{name} is not a notebook")
    out = tmp_path / "out"
    assert grade_folder(subs, out) == 0
    assert grade_folder(subs, out) == 0           # control: an untouched re-run trusts its own reports
    assert "Graded 0 submission(s), 3 unchanged" in capsys.readouterr().out

    carol = out / "reports" / "carol.json"
    data = json.loads(carol.read_text())
    carol.write_text(json.dumps(data | {"points": 10.0, "status": "graded"}))          # tampered, old signature
    dave = out / "reports" / "dave.json"
    dave.write_text(json.dumps({k: v for k, v in json.loads(dave.read_text()).items() if k != "signature"}
                               | {"points": 10.0}))                                   # no signature at all
    erin = out / "reports" / "erin.json"
    forged = json.loads(erin.read_text()) | {"points": 10.0}
    forged["signature"] = Signer(tmp_path).sign({k: v for k, v in forged.items() if k != "signature"})
    erin.write_text(json.dumps(forged))                                               # signed with another key
    assert grade_folder(subs, out) == 0
    assert "Graded 3 submission(s), 0 unchanged" in capsys.readouterr().out
    assert all(row["points"] == "0" for row in gradebook(out).values())

    # another submission's genuine report, copied over: not trusted either
    (subs / "dave.ipynb").write_text("carol.ipynb is not a notebook")      # even with the same content
    assert grade_folder(subs, out) == 0
    capsys.readouterr()
    shutil.copy(out / "reports" / "carol.json", out / "reports" / "dave.json")
    assert grade_folder(subs, out) == 0
    assert "Graded 1 submission(s), 2 unchanged" in capsys.readouterr().out
    assert "dave" in json.loads((out / "reports" / "dave.json").read_text())["submission"]
    # a key file someone else could have read or replaced: every report is graded again
    (out / ".grader-key").chmod(0o644)
    assert grade_folder(subs, out) == 0
    assert "Graded 3 submission(s), 0 unchanged" in capsys.readouterr().out
    assert stat.S_IMODE((out / ".grader-key").stat().st_mode) == 0o600
