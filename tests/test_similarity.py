"""The similarity report: calibrated on independently written correct answers (false positives)
and on disguised copies (detection), then run on a synthetic class of chapter-1 notebooks."""
import importlib.util
from html.parser import HTMLParser
from pathlib import Path

from nnlearn.grading import similarity
from grading_helpers import submit

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("similarity_calibration", ROOT / "benchmarks" / "similarity_calibration.py")
calibration = importlib.util.module_from_spec(spec)
spec.loader.exec_module(calibration)


def test_the_calibration_class_is_large_enough():
    answers = calibration.load_class()
    assert len(answers) >= 3 and all(len(named) >= 6 for named in answers.values())
    sizes = sorted(max(len(s.splitlines()) for s in named.values()) for named in answers.values())
    assert sizes[0] < sizes[-1]                                   # exercises of different sizes


def test_detection_and_false_positives_on_the_calibration_class():
    results, total = calibration.measure(copies=3)
    assert total["detected"] / total["copies"] >= 0.95, results          # renamed/reordered copies are flagged
    assert total["false_positives"] / total["pairs"] <= 0.05, results    # independent answers are not
    for r in results.values():
        assert r["max_independent"] < r["min_copy"], r                   # every copy ranks above every honest pair


def test_normalisation_ignores_names_comments_and_layout():
    a = "def f(x):\n    total = 0\n    for v in x:\n        total += v * 2\n    return total\n"
    b = "def f(x):\n\n    # sum it\n    acc=0\n    for item in x:  # loop\n        acc += item*2\n    return acc"
    assert similarity.normalise(a) == similarity.normalise(b)
    assert similarity.similarity(similarity.fingerprints(a), similarity.fingerprints(b)) == 1.0
    assert similarity.normalise("def f(:\n  'x") is not None                 # broken code still tokenises


def test_a_synthetic_class_ranks_the_copy_first_and_excludes_reference_and_stub(student, solution, tmp_path):
    answers = calibration.load_class()
    folder = tmp_path / "subs"
    folder.mkdir()
    honest = dict(zip(["ana", "ben", "cho"], ["augmented", "index-loop", "dict-state"]))
    for who, name in honest.items():
        submit(student, solution, folder, replace={"1.2": answers["1.2"][name]}, name=f"{who}.ipynb")
    submit(student, solution, folder, replace={"1.2": calibration.disguise(answers["1.2"]["index-loop"], 7)},
           name="dan.ipynb")                                               # ben's, renamed and reordered
    submit(student, solution, folder, answered=["1.1", "1.2", "1.3", "1.4"], name="eve.ipynb")   # the reference
    submit(student, solution, folder, answered=["1.2"], name="fay.ipynb")                        # the reference too
    submit(student, solution, folder, name="gus.ipynb")                    # empty: the stubs only
    class_, excluded = similarity.class_answers(folder, ROOT / "solutions")
    pairs = similarity.rank_pairs(class_, excluded)
    top = pairs[0]
    assert (top[1], top[2]) == ("ben", "dan") and top[3]["1.2"] >= similarity.THRESHOLD
    flagged = {(a, b) for s, a, b, _ in pairs if s >= similarity.THRESHOLD}
    assert flagged == {("ben", "dan")}, pairs           # the reference and the stubs count for nothing
    assert not any("gus" in (a, b) for _, a, b, _ in pairs)


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def test_the_report_escapes_student_code():
    evil = "x = '</pre><script>alert(1)</script><img src=x onerror=alert(2)>'\ny = x * 2 + 1\nz = y - 3\n"
    class_ = {"a": {"1.1": evil}, "b": {"1.1": evil}}
    page = similarity.report_html(similarity.rank_pairs(class_), class_)
    parser = Tags()
    parser.feed(page)
    assert not {t for t, _ in parser.tags} & {"script", "img"}
    assert "&lt;script&gt;" in page and "never a penalty" in page
