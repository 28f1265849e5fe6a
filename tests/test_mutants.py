"""The hidden tests of every exercise reject its known-wrong answers (the mutants declared beside
the reference in solutions/) and give the reference full marks, under fixed seeds.

Mutants are judged in-process (nnlearn.grading.mutants: the answers run in a namespace of this
process, the checks reach them through the same plain-data round trip as in grading); one
submission per assignment then goes through the real, sandboxed grader."""
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

from grading_helpers import submit
from nnlearn.grading.exercises import cell_info, stub_answer, validate
from nnlearn.grading.grade import grade_submission
from nnlearn.grading.mutants import audit, judge_in_process, mutants, passes_public_tests
from nnlearn.grading.rules import MIN_MUTANTS

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
SEEDS = range(5)


def solution(assignment):
    return nbformat.read(ROOT / "solutions" / f"{assignment}.ipynb", as_version=4)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The checks call torch and numpy on tiny arrays: threads only cost time here."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_mutant_fails_and_every_reference_passes(assignment):
    problems = audit(solution(assignment), SEEDS)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_mutants_one_of_which_the_self_checks_miss(assignment):
    nb = solution(assignment)
    meta = validate(nb)
    by_exercise = defaultdict(list)
    for m in mutants(nb):
        by_exercise[m["exercise"]].append(m)
    for ex, spec in meta["exercises"].items():
        assert len(by_exercise[ex]) >= MIN_MUTANTS, f"exercise {ex} has {len(by_exercise[ex])} mutants"
        flagged = [m for m in by_exercise[ex] if m["passes_public_tests"]]
        assert flagged, f"exercise {ex}: no mutant passes the self-checks"
        for m in flagged:
            ok, why = passes_public_tests(nb, ex, m["source"])
            assert ok, f"exercise {ex}, mutant {m['name']!r} is marked as passing the self-checks but: {why}"
        # control: the same run rejects the student's stub
        answer = next(c.source for c in nb.cells if cell_info(c) == {"exercise": ex, "role": "answer"})
        assert not passes_public_tests(nb, ex, stub_answer(answer, ex, spec["title"])[0])[0]


def test_in_process_judging_uses_the_plain_data_round_trip():
    nb = solution("ch01_perceptron")
    cheat = ("class Anything:\n    def __eq__(self, other):\n        return True\n"
             "def sigmoid(v):\n    return Anything()\n\ndef sigmoid_derivative(v):\n    return Anything()\n")
    result = judge_in_process(nb, {"1.1": cheat}, seed=0, only={"1.1"})["1.1"]
    assert result.points == 0 and "not plain data" in result.message
    empty = "def sigmoid(v):\n    return np.zeros((0,))\n\ndef sigmoid_derivative(v):\n    return np.zeros((0,))\n"
    result = judge_in_process(nb, {"1.1": empty}, seed=0, only={"1.1"})["1.1"]
    assert result.points == 0 and "got an array of shape (0,)" in result.message


def test_the_seed_fixes_the_hidden_inputs():
    nb = solution("ch03_gradient_descent")
    wrong = next(m for m in mutants(nb) if m["name"] == "every gradient at the starting parameters")
    messages = [judge_in_process(nb, {"3.4": wrong["source"]}, seed=s, only={"3.4"})["3.4"].message for s in (7, 7, 8)]
    assert messages[0] == messages[1] != messages[2]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_sandboxed_grader_rejects_one_mutant_per_exercise(assignment, tmp_path):
    nb = solution(assignment)
    student = nbformat.read(ROOT / "exercises" / f"{assignment}.ipynb", as_version=4)
    chosen = {}
    for m in mutants(nb):       # a mutant the self-checks miss: the interesting case
        if m["passes_public_tests"]:
            chosen.setdefault(m["exercise"], m)
    path = submit(student, nb, tmp_path, replace={ex: m["source"] for ex, m in chosen.items()},
                  name=f"{assignment}.ipynb")
    report = grade_submission(path, ROOT / "solutions")
    assert report.status == "graded", report.message
    assert {r.id for r in report.exercises} == set(chosen)
    for result in report.exercises:
        m = chosen[result.id]
        failed = {c["name"] for c in result.checks if not c["passed"]}
        assert result.points < result.max_points and set(m["fails"]) <= failed, (result.id, m["name"], result.message)
        assert sum(c["points"] for c in result.checks) == result.points
