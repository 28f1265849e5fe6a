"""The "Check my work" table: nnlearn.selfcheck on its own, and the generated last cell of a real
student copy, run against the reference answers, the stubs and known-wrong answers."""
import html.parser
from pathlib import Path

import matplotlib
import nbformat
import pytest

from nnlearn.grading.guide import CHECK_ROLE, GUIDE_ROLE
from nnlearn.grading.rules import cell_info
from nnlearn.selfcheck import check_my_work

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def statuses(report):
    return {r.exercise: r.status for r in report}


def test_each_outcome_gets_its_status_and_advice():
    namespace = {"x": 1, "todo": lambda: (_ for _ in ()).throw(NotImplementedError("Exercise 1.2: write it"))}
    report = check_my_work(namespace, [
        ("1.1", "passes", 2, ["assert x == 1", "print('passed')"]),
        ("1.2", "stub", 3, ["todo()"]),
        ("1.3", "missing", 1, ["assert W1 is not None"]),
        ("1.4", "wrong", 2, ["assert x == 2, 'x should be 2, got 1'"]),
        ("1.7", "bare assert", 1, ["y = 2\nassert x == y"]),
        ("1.5", "crashes", 1, ["[][3]"]),
        ("1.6", "exits", 1, ["raise SystemExit(3)"]),
    ])
    assert statuses(report) == {"1.1": "passed", "1.2": "not done", "1.3": "not run", "1.4": "failed",
                                "1.5": "failed", "1.6": "failed", "1.7": "failed"}
    messages = {r.exercise: r.message for r in report}
    assert "W1" in messages["1.3"] and "run the cells above" in messages["1.3"]
    assert messages["1.4"] == "x should be 2, got 1"
    assert messages["1.5"].startswith("IndexError")
    assert messages["1.7"] == "this check fails: assert x == y"
    text = str(report)
    assert "2 of 8 points" not in text and "1 of 7 exercises pass" in text and "(2 of 11 points' worth)" in text
    assert text.splitlines()[1].startswith("✓  1.1")


def test_the_checks_run_on_a_copy_and_share_it_in_order():
    namespace = {"values": [1, 2]}
    report = check_my_work(namespace, [("1", "defines", 1, ["values.append(3)\nnew = 5"]),
                                       ("2", "uses what 1 defined", 1, ["assert new == 5"])])
    assert statuses(report) == {"1": "passed", "2": "passed"}
    assert "new" not in namespace            # the learner's namespace gains nothing ...
    assert namespace["values"] == [1, 2, 3]  # ... though, as in the notebook, objects are shared


def test_figures_a_check_draws_are_closed_and_the_learners_are_kept():
    mine = plt.figure()
    before = set(plt.get_fignums())          # mine, and any an earlier test left open
    check_my_work({"plt": plt}, [("1", "plots", 1, ["plt.figure(); plt.plot([1, 2])"])])
    assert mine.number in before and set(plt.get_fignums()) == before
    plt.close("all")


def test_the_html_table_escapes_what_a_check_says():
    report = check_my_work({}, [("<b>1</b>", "<i>t</i>", 1, ["assert False, '<script>alert(1)</script>'"])])
    tags = []

    class Tags(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)

    Tags().feed(report._repr_html_())
    assert set(tags) <= {"table", "thead", "tbody", "tr", "th", "td", "p"}
    assert "&lt;script&gt;" in report._repr_html_()


@pytest.mark.parametrize("bad, message", [("not a dict", "namespace"), ([("1", "t", 1)], "exercises[0]"),
                                          ([("1", "t", 1, "assert True")], "exercises[0]")])
def test_bad_arguments_name_themselves(bad, message):
    kwargs = {"namespace": {}, "exercises": []}
    kwargs["namespace" if message == "namespace" else "exercises"] = bad
    with pytest.raises(TypeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_my_work(**kwargs)


def run_cells(sources):
    """Run cells like a learner's *Run all* that carries on after errors; the namespace."""
    namespace = {"__name__": "__main__"}
    for source in sources:
        try:
            exec(compile(source, "<cell>", "exec"), namespace)
        except Exception:
            pass
    return namespace


def table_of(check_source, namespace):
    exec(compile(check_source.replace("check_my_work(globals()", "REPORT = check_my_work(globals()"),
                 "<check>", "exec"), namespace)
    plt.close("all")
    return statuses(namespace["REPORT"])


def test_the_generated_cell_of_a_real_copy_tells_reference_stubs_and_mutants_apart():
    student = nbformat.read(ROOT / "exercises" / "ch01_perceptron.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / "ch01_perceptron.ipynb", as_version=4)
    roles = [cell_info(c).get("role") for c in student.cells]
    assert roles[3] == GUIDE_ROLE and roles[-2:] == [CHECK_ROLE, CHECK_ROLE]   # under the title; at the end
    check = student.cells[-1]
    assert check.metadata["cellView"] == "form" and "hide-input" in check.metadata["tags"]

    def learner_cells(nb, exercise=None, answer=None):
        """The code a learner runs; with `answer` in place of `exercise`'s reference answer."""
        out = []
        for cell in nb.cells:
            info = cell_info(cell)
            if cell.cell_type == "code" and info.get("role") in (None, "answer", "public-tests"):
                replaced = info.get("exercise") == exercise and info.get("role") == "answer"
                out.append(answer if replaced else cell.source)
        return out

    assert set(table_of(check.source, run_cells(learner_cells(solution))).values()) == {"passed"}
    stubs = table_of(check.source, run_cells(learner_cells(student)))
    assert stubs == {"1.1": "not done", "1.2": "not done", "1.3": "not run", "1.4": "not done"}
    for mutant in (c for c in solution.cells if cell_info(c).get("role") == "mutant"):
        info = cell_info(mutant)
        got = table_of(check.source, run_cells(learner_cells(solution, info["exercise"], mutant.source)))
        expected = "passed" if info.get("passes_public_tests") else "failed"
        assert got == {ex: expected if ex == info["exercise"] else "passed" for ex in got}, info["name"]
