"""The manual-grading pass: rubrics for the book's problems, an escaped marking page, scores
that merge into the gradebook and the feedback and survive a re-run of the autograder."""
import base64
import csv
import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from nnlearn.grading import manual
from nnlearn.grading.batch import main as grade_main
from nnlearn.grading.files import output_name
from nnlearn.grading.grade import answer_cells
from nnlearn.grading.rubric import RubricError, book_problems, find_answers, load_rubric, load_rubrics
from grading_helpers import submit

ROOT = Path(__file__).resolve().parents[1]
RUBRICS = load_rubrics(ROOT / "solutions" / "rubrics")


def test_every_problem_of_every_chapter_has_a_rubric_in_book_order():
    pages = [p.stem for p in sorted((ROOT / "book").glob("ch*.md")) if book_problems(p)]
    assert len(pages) >= 9 and set(RUBRICS) == set(pages)
    for page in pages:
        n = int(page[2:4])
        problems = book_problems(ROOT / "book" / f"{page}.md")
        items = RUBRICS[page]["items"]
        assert list(items) == [f"P{n}.{k}" for k in range(1, len(problems) + 1)]
        for (label, _, solution), item in zip(problems, items.values()):
            assert item["source"] == f"book/{page}.md#{label}" and item["reference"] == solution != ""
            assert item["points"] == sum(c["points"] for c in item["criteria"]) > 0


def test_a_broken_rubric_is_a_clear_error(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text("assignment: x\nitems:\n  P1.1:\n    criteria:\n      - {id: a, points: -1, text: t}\n")
    with pytest.raises(RubricError, match="criterion a: 'points' must be a positive number, got -1"):
        load_rubric(path)


def test_answers_are_found_by_their_first_line_or_metadata():
    nb = nbformat.v4.new_notebook(cells=[new_markdown_cell("## Problem 1.1\nmine"), new_markdown_cell("Problem 1.10: no"),
                                         new_markdown_cell("x", metadata={"nnlearn": {"exercise": "P1.3", "role": "manual"}})])
    assert find_answers(nb, RUBRICS["ch01_perceptron"]) == {"P1.1": "## Problem 1.1\nmine", "P1.3": "x"}


EVIL = ('## Problem 1.1\n<script>alert("x")</script>\n" onmouseover="alert(1)" x=\'\n</textarea></pre></details>'
        '<img src=x onerror=alert(2)><a href="javascript:alert(3)">click</a><!-- --><style>body{display:none}</style>')


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)
            self._in_script = False


def test_the_page_escapes_every_student_string(student, solution, tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    nb = nbformat.from_dict(student)
    nb.cells.append(new_markdown_cell(EVIL))
    nbformat.write(nb, folder / "alice.ipynb")
    (folder / '"><script>alert(4)<\\script>.ipynb').write_text("not a notebook")
    answers = manual.class_answers(folder, RUBRICS["ch01_perceptron"])
    page = manual.page_html(RUBRICS["ch01_perceptron"], answers)
    parsed = Collect()
    parsed.feed(page)
    tags = [t for t, _ in parsed.tags]
    assert tags.count("script") == 1 and parsed.scripts == [manual.SCRIPT]       # only the page's own script
    assert not {"img", "a"} & set(tags) and tags.count("style") == 1 and tags.count("textarea") == 2 * 3   # 2 students, 3 items
    for _, attrs in parsed.tags:
        assert not any(name.startswith("on") or name == "href" or name == "x" for name in attrs), attrs
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page and "&lt;/textarea&gt;" in page
    digest = base64.b64encode(hashlib.sha256(manual.SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page                                # nothing else may run


def scores_file(scores):
    return {"format": manual.FORMAT, "version": 1, "assignment": "ch01_perceptron", "scores": scores}


def test_a_scores_file_that_does_not_fit_the_rubric_is_refused():
    rubric, students = RUBRICS["ch01_perceptron"], {"alice": None}
    for scores, message in [({"alice": {"P1.1": {"criteria": {"identity": 2}}}}, "between 0 and 1"),
                            ({"alice": {"P1.1": {"criteria": {"nope": 1}}}}, "criterion 'nope'"),
                            ({"alice": {"P9.9": {"criteria": {}}}}, "not an item"),
                            ({"mallory": {"P1.1": {"criteria": {}}}}, "no graded submission")]:
        with pytest.raises(manual.ScoresError, match=message):
            manual.check_scores(scores_file(scores), rubric, students)
    with pytest.raises(manual.ScoresError, match="assignment"):
        manual.check_scores(scores_file({}) | {"assignment": "ch02_mlp"}, rubric, students)


def gradebook(out):
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def test_manual_scores_and_late_penalties_merge_and_survive_a_regrade(student, solution, tmp_path, capsys):
    """Real grading: a synthetic class (reference, partial, late, invalid) marked by hand."""
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    submit(student, solution, subs, answered=["1.1", "1.2", "1.3", "1.4"], name="alice.ipynb")
    submit(student, solution, subs, answered=["1.2"], name="bob.ipynb")
    (subs / "carol.ipynb").write_text("{}")
    (tmp_path / "manifest.csv").write_text("file,student_id,submitted_at\nalice.ipynb,a1,2025-03-07T22:00:00+01:00\n"
                                       "bob.ipynb,b2,2025-03-09T01:00:00+01:00\ncarol.ipynb,c3,\n")
    args = [str(subs), "--solutions", str(ROOT / "solutions"), "--output", str(out), "--assignment", "ch01_perceptron",
            "--workers", "1", "--no-progress"]
    assert grade_main(args + ["--due", "2025-03-07T23:59:00+01:00", "--late-policy", "10%/day",
                              "--manifest", str(tmp_path / "manifest.csv")]) == 0
    scores = scores_file({"alice": {"P1.1": {"criteria": {"identity": 1, "derivative": 0.5}, "comment": "no maximum"}},
                          "bob": {"P1.2": {"criteria": {"claim": 0.5, "induction": 1, "base": 0.5}}}})
    (tmp_path / "scores.json").write_text(json.dumps(scores))
    assert manual.main(["merge", str(tmp_path / "scores.json"), "--solutions", str(ROOT / "solutions"),
                        "--output", str(out)]) == 0
    rows = gradebook(out)
    alice, bob = rows["alice.ipynb"], rows["bob.ipynb"]
    assert (alice["points"], alice["manual_points"], alice["late_penalty"], alice["final_points"]) == ("10", "1.5", "0", "11.5")
    assert alice["manual_max"] == "6.5" and alice["final_max"] == "16.5" and alice["student_id"] == "a1"
    # bob: 1 h 1 min late on the second day -> 2 started days, 20 % of 16.5 points
    assert (bob["points"], bob["manual_points"], bob["hours_late"], bob["late_penalty"]) == ("3", "2", "25.02", "3.3")
    assert bob["final_points"] == "1.7" and bob["manual P1.2"] == "2" and bob["manual P1.1"] == ""
    assert rows["carol.ipynb"]["hours_late"] == "unknown" and rows["carol.ipynb"]["late_penalty"] == "0"
    feedback = (out / "feedback" / "alice.md").read_text()
    assert "## Marked by hand" in feedback and "| 1.5 / 2 | no maximum |" in feedback and "Final score: 11.5 / 16.5" in feedback

    # bob resubmits more answers: the autograder re-runs; the manual scores stay
    submit(student, solution, subs, answered=["1.1", "1.2"], name="bob.ipynb")
    capsys.readouterr()
    assert grade_main(args) == 0
    assert "Graded 1 submission(s), 2 unchanged" in capsys.readouterr().out
    rows = gradebook(out)
    assert (rows["bob.ipynb"]["points"], rows["bob.ipynb"]["manual_points"]) == ("5", "2")
    assert rows["alice.ipynb"]["manual_points"] == "1.5" and (rows["bob.ipynb"]["late_penalty"], rows["bob.ipynb"]["final_points"]) == ("3.3", "3.7")
    assert "## Marked by hand" in (out / "feedback" / "bob.md").read_text()


def test_the_page_in_a_headless_browser_runs_only_its_own_script(student, tmp_path):
    """No alert, no console error (a wrong CSP hash would block the page's script and log one), and the
    button yields the scores file with what was typed."""
    import site_browser
    binaries = site_browser.browser_binaries()
    if binaries is None:
        pytest.skip("chromium and chromedriver are not installed")
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    nb = nbformat.from_dict(student)
    nb.cells.append(new_markdown_cell(EVIL))
    (tmp_path / "subs").mkdir()
    nbformat.write(nb, tmp_path / "subs" / "alice.ipynb")
    page = tmp_path / "page.html"
    page.write_text(manual.page_html(RUBRICS["ch01_perceptron"], manual.class_answers(tmp_path / "subs",
                                                                                          RUBRICS["ch01_perceptron"])))
    driver = site_browser.start_chromium(*binaries, tmp_path / "netlog.json")
    try:
        driver.get(page.as_uri())
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text
        driver.find_element(By.CSS_SELECTOR, "input[data-criterion='identity']").send_keys("1")
        driver.find_element(By.CSS_SELECTOR, "textarea[data-item='P1.1']").send_keys('ok </textarea>')
        driver.execute_script("const create = URL.createObjectURL; URL.createObjectURL = (b) => "
                              "{ window.scoresBlob = b; return create(b); }; HTMLAnchorElement.prototype.click = () => {};")
        driver.find_element(By.ID, "download").click()
        text = driver.execute_async_script("window.scoresBlob.text().then(arguments[0]);")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        site_browser.stop_chromium(driver)
    assert errors == []
    data = json.loads(text)
    assert data["assignment"] == "ch01_perceptron"
    assert data["scores"] == {"alice": {"P1.1": {"criteria": {"identity": 1}, "comment": "ok </textarea>"}}}
    assert manual.check_scores(data, RUBRICS["ch01_perceptron"], {"alice"})["alice"]["P1.1"]["points"] == 1


def test_a_pen_and_paper_answer_from_the_student_copy_to_the_gradebook(student, solution, tmp_path):
    """The generated answer cell, filled in, under an odd file name that the manifest lists: the
    autograder ignores it, the marking page shows it escaped beside the criteria and the reference,
    and the merged scores reach that submission's gradebook row and feedback."""
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    odd = "\u202eodd.ipynb"                        # a right-to-left override: escaped in the report
    nb = nbformat.from_dict(student)
    cell = next(c for c in nb.cells if c.metadata.get("nnlearn") == {"exercise": "P1.1", "role": "manual"})
    assert cell.source.startswith("## Problem 1.1 — your answer")
    cell.source += "\n\ntanh(a) = 2 sigma(2a) - 1 <script>alert(1)</script>"
    nbformat.write(nb, subs / odd)
    nbformat.write(nbformat.from_dict(student), subs / "plain.ipynb")          # answer cells left as generated
    assert answer_cells(nb, solution).keys() == answer_cells(nbformat.from_dict(student), solution).keys()
    assert "P1.1" not in answer_cells(nb, solution)
    (tmp_path / "manifest.csv").write_text(f"file,student_id,submitted_at\n{odd},s-odd,2025-03-07T22:00:00Z\n"
                                           "plain.ipynb,s-plain,2025-03-07T22:00:00Z\n", encoding="utf-8")
    assert grade_main([str(subs), "--solutions", str(ROOT / "solutions"), "--output", str(out), "--workers", "1",
                       "--no-progress", "--due", "2025-03-08T00:00:00Z", "--manifest", str(tmp_path / "manifest.csv")]) == 0
    name = output_name(subs / odd)
    report = json.loads((out / "reports" / f"{name}.json").read_text(encoding="utf-8"))
    assert report["submission"].endswith("\\u202eodd.ipynb") and report["points"] == 0
    assert output_name(Path(report["submission"]).name) != name        # rebuilt from the report, the name differs
    assert gradebook(out)[Path(report["submission"]).name]["student_id"] == "s-odd"

    rubric = RUBRICS["ch01_perceptron"]
    answers = manual.class_answers(subs, rubric)
    assert set(answers) == {name, "plain"} and answers["plain"] == {} and set(answers[name]) == {"P1.1"}
    page = manual.page_html(rubric, answers)
    assert "sigma(2a) - 1 &lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert rubric["items"]["P1.1"]["criteria"][0]["text"].replace('"', "&quot;") in page
    assert manual.html.escape(rubric["items"]["P1.1"]["reference"].splitlines()[0]) in page

    scores = scores_file({name: {"P1.1": {"criteria": {"identity": 1, "derivative": 0.5}, "comment": "max?"}}})
    (tmp_path / "scores.json").write_text(json.dumps(scores))
    assert manual.main(["merge", str(tmp_path / "scores.json"), "--solutions", str(ROOT / "solutions"),
                        "--output", str(out)]) == 0
    row = gradebook(out)[Path(report["submission"]).name]
    assert (row["student_id"], row["manual_points"], row["manual P1.1"], row["final_points"]) == ("s-odd", "1.5", "1.5", "1.5")
    assert row["hours_late"] == "0.00" and gradebook(out)["plain.ipynb"]["student_id"] == "s-plain"
    assert "| 1.5 / 2 | max? |" in (out / "feedback" / f"{name}.md").read_text(encoding="utf-8")


def test_student_copies_carry_no_criteria_or_reference(root):
    for path in sorted((root / "exercises").glob("*.ipynb")):
        rubric = RUBRICS.get(path.stem)
        if rubric is None:
            continue
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in nb.cells)
        manual_cells = [c for c in nb.cells if c.metadata.get("nnlearn", {}).get("role") == "manual"]
        assert [c.metadata["nnlearn"]["exercise"] for c in manual_cells] == list(rubric["items"]), path
        for item_id, item in rubric["items"].items():
            assert f"](#{item['source'].partition('#')[2]})" in text and f"](../{item['source'].partition('#')[0]})" in text
            assert not [c["text"] for c in item["criteria"] if c["text"] in text], (path, item_id)
            assert not [line for line in item["reference"].splitlines() if len(line) >= 24 and line in text], (path, item_id)
