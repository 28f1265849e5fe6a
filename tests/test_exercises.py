import shutil

import nbformat
import pytest

from nnlearn.grading.colab import HEADER_ROLE, repository_info
from nnlearn.grading.exercises import (ExerciseFormatError, cell_info, generate, main, student_copy, stub_answer,
                               validate)
from nnlearn.grading.penpaper import rubric_items


def test_exercises_folder_is_what_the_generator_writes(root):
    stale = generate(root, check=True)
    assert stale == [], f"out of date (run `python -m nnlearn.grading.exercises`): {stale}"


def test_stub_keeps_the_signature_and_names_the_exercise():
    source = "def f(x):\n    y = x\n    ### BEGIN SOLUTION\n    return y + 1\n    ### END SOLUTION\n"
    stub, top_level = stub_answer(source, "9.1", "add one")
    assert stub == 'def f(x):\n    y = x\n    raise NotImplementedError("Exercise 9.1: add one")'
    assert not top_level
    stub, top_level = stub_answer("### BEGIN SOLUTION\nW = 1\n### END SOLUTION", "9.2", "pick W")
    assert stub == 'raise NotImplementedError("Exercise 9.2: pick W")' and top_level


@pytest.mark.parametrize("source, problem", [
    ("x = 1", "no ### BEGIN SOLUTION marker"),
    ("### BEGIN SOLUTION\nx = 1", "without ### END SOLUTION"),
    ("x = 1\n### END SOLUTION", "without ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
])
def test_malformed_solution_markers_are_reported(source, problem):
    with pytest.raises(ExerciseFormatError, match=problem):
        stub_answer(source, "9.3", "t")


def test_student_copy_hides_solutions_and_instructor_tests(root):
    solution = nbformat.read(root / "solutions" / "ch01_perceptron.ipynb", as_version=4)
    meta = validate(solution)
    student = student_copy(solution, root, root / "exercises" / "ch01_perceptron.ipynb")
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "Instructor tests" not in text
    roles = [cell_info(c).get("role") for c in student.cells]
    assert "hidden-tests" not in roles
    assert roles[:2] == [HEADER_ROLE, HEADER_ROLE]
    assert roles[-9:] == ["pen-and-paper"] + ["pen-and-paper", "manual"] * 3 + ["check-my-work"] * 2
    assert student.cells[-9].source.startswith("## Pen-and-paper problems (marked by hand)")
    for ex, spec in meta["exercises"].items():
        assert f'raise NotImplementedError("Exercise {ex}: {spec["title"]}")' in text
        assert any(cell_info(c) == {"exercise": ex, "role": "answer"} for c in student.cells)
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            if cell_info(cell).get("role") == "public-tests":
                assert "raises-exception" in cell.metadata["tags"]


def test_header_derives_from_the_repository_url(root, tmp_path):
    for part in ("_config.yml", "solutions", "notebooks", "book"):
        (shutil.copytree if (root / part).is_dir() else shutil.copy)(root / part, tmp_path / part)
    config = tmp_path / "_config.yml"
    config.write_text(config.read_text().replace(repository_info(root)[0], "https://github.com/someone/fork"))
    assert main([str(tmp_path)]) == 0
    nb = nbformat.read(tmp_path / "exercises" / "ch01_perceptron.ipynb", as_version=4)
    badge, install = nb.cells[0].source, nb.cells[1].source
    assert "colab.research.google.com/github/someone/fork/blob/main/exercises/ch01_perceptron.ipynb" in badge
    assert '"google.colab" in sys.modules' in install and "git+https://github.com/someone/fork@main" in install
    assert "--no-deps" in install
    lecture = nbformat.read(tmp_path / "notebooks" / "ch01_perceptron.ipynb", as_version=4)
    assert "someone/fork/blob/main/notebooks/ch01_perceptron.ipynb" in lecture.cells[0].source
    assert main([str(tmp_path), "--check"]) == 0


def test_check_mode_reports_stale_copies(root, tmp_path, capsys):
    for part in ("_config.yml", "solutions", "notebooks", "book"):
        (shutil.copytree if (root / part).is_dir() else shutil.copy)(root / part, tmp_path / part)
    assert main([str(tmp_path), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert not (tmp_path / "exercises").exists()


def _copy_rubric_and_page(root, tmp_path, edit_rubric=None, edit_page=None):
    (tmp_path / "book").mkdir()
    (tmp_path / "solutions" / "rubrics").mkdir(parents=True)
    page, rubric = root / "book" / "ch02_mlp.md", root / "solutions" / "rubrics" / "ch02_mlp.yml"
    (tmp_path / "book" / page.name).write_text((edit_page or str)(page.read_text()))
    (tmp_path / "solutions" / "rubrics" / rubric.name).write_text((edit_rubric or str)(rubric.read_text()))


def _drop_last_item(text):
    return text[: text.index("  P2.4:")]


@pytest.mark.parametrize("edit_rubric, edit_page, problem", [
    (None, None, None),
    (_drop_last_item, None, r"page problems without a rubric item: P2.4 \(ex-batch-cost\); rubric items without "
                            r"that problem: none"),
    (lambda t: t.replace("#ex-batch-cost", "#ex-gone"), None, r"item P2.4's source 'book/ch02_mlp.md#ex-gone' is not a problem"),
    (None, lambda t: t.replace(":label: ex-step-binary", ":label: ex-step-binary-2"), "item P2.3's source"),
    (lambda t: t.replace("P2.3", "P2.9"), None, r"without a rubric item: P2.3 \(ex-step-binary\); rubric items "
                                                 r"without that problem: P2.9 \(ex-step-binary\)"),
])
def test_the_rubric_and_the_lecture_page_must_agree(root, tmp_path, edit_rubric, edit_page, problem):
    _copy_rubric_and_page(root, tmp_path, edit_rubric, edit_page)
    if problem is None:
        assert list(rubric_items(tmp_path, "ch02_mlp")) == ["P2.1", "P2.2", "P2.3", "P2.4"]
        return
    with pytest.raises(ExerciseFormatError, match=problem):
        rubric_items(tmp_path, "ch02_mlp")


def test_a_page_with_problems_needs_a_rubric_and_check_mode_fails(root, tmp_path, capsys):
    for part in ("_config.yml", "solutions", "notebooks", "book", "exercises"):
        (shutil.copytree if (root / part).is_dir() else shutil.copy)(root / part, tmp_path / part)
    assert main([str(tmp_path), "--check"]) == 0
    (tmp_path / "solutions" / "rubrics" / "ch02_mlp.yml").unlink()
    assert main([str(tmp_path), "--check"]) == 2
    assert "book/ch02_mlp.md has problems (P2.1, P2.2, P2.3, P2.4) but there is no rubric" in capsys.readouterr().err


def test_validation_names_the_missing_piece(root):
    solution = nbformat.read(root / "solutions" / "ch01_perceptron.ipynb", as_version=4)
    solution.cells = [c for c in solution.cells if cell_info(c).get("exercise") != "1.2"
                      or cell_info(c).get("role") != "hidden-tests"]
    with pytest.raises(ExerciseFormatError, match="exercise 1.2 has no hidden-tests cell"):
        validate(solution)


def _cells(nb, ex, role):
    return [c for c in nb.cells if cell_info(c).get("exercise") == ex and cell_info(c).get("role") == role]


def _break_points(nb):
    _cells(nb, "1.4", "hidden-tests")[0].metadata["nnlearn"]["points"] = 2


def _duplicate_check(nb):
    checks = _cells(nb, "1.4", "hidden-tests")
    checks[1].metadata["nnlearn"]["check"] = checks[0].metadata["nnlearn"]["check"]


def _unnamed_check(nb):
    del _cells(nb, "1.4", "hidden-tests")[0].metadata["nnlearn"]["check"]


def _own_randomness(nb):
    _cells(nb, "1.4", "hidden-tests")[0].source += "\nrng = np.random.default_rng()\n"


def _global_randomness(nb):
    _cells(nb, "1.4", "hidden-tests")[0].source += "\nx = np.random.rand(3)\n"


def _mutant_as_code(nb):
    mutant = _cells(nb, "1.4", "mutant")[0]
    nb.cells[nb.cells.index(mutant)] = nbformat.v4.new_code_cell(mutant.source, metadata=mutant.metadata)


def _unknown_check_in_fails(nb):
    _cells(nb, "1.4", "mutant")[0].metadata["nnlearn"]["fails"] = ["no such check"]


def _too_few_mutants(nb):
    for mutant in _cells(nb, "1.4", "mutant")[2:]:
        nb.cells.remove(mutant)


def _no_mutant_passes_the_self_checks(nb):
    for mutant in _cells(nb, "1.4", "mutant"):
        mutant.metadata["nnlearn"].pop("passes_public_tests", None)


def _mutant_not_python(nb):
    _cells(nb, "1.4", "mutant")[0].source = "def collapse_affine(weights, biases)\n    return 1\n"


def _forbidden_not_names(nb):
    nb.metadata["nnlearn"]["exercises"]["1.4"]["forbidden"] = "nnlearn.perceptron"


@pytest.mark.parametrize("breaks, problem", [
    (_break_points, "the points of its checks sum to 4, the exercise is worth 3"),
    (_duplicate_check, "two checks are named"),
    (_unnamed_check, "needs a 'check' name"),
    (_own_randomness, "makes its own randomness .*default_rng\\(\\) without a seed"),
    (_global_randomness, "makes its own randomness .*np.random.rand"),
    (_mutant_as_code, "a mutant cell must be a raw cell"),
    (_unknown_check_in_fails, "'fails' must list checks of the exercise"),
    (_too_few_mutants, "declares 2 mutants; at least 3"),
    (_no_mutant_passes_the_self_checks, "no mutant is marked passes_public_tests"),
    (_mutant_not_python, "is not valid Python"),
    (_forbidden_not_names, "'forbidden' must be a list of dotted names"),
])
def test_validation_of_checks_and_mutants(root, breaks, problem):
    solution = nbformat.read(root / "solutions" / "ch01_perceptron.ipynb", as_version=4)
    validate(solution)
    breaks(solution)
    with pytest.raises(ExerciseFormatError, match=f"exercise 1.4.*{problem}"):
        validate(solution)


def test_student_copy_has_no_instructor_cells_and_keeps_the_forbidden_names(root):
    for path in sorted((root / "solutions").glob("*.ipynb")):
        solution = nbformat.read(path, as_version=4)
        student = student_copy(solution, root, root / "exercises" / path.name)
        roles = {cell_info(c).get("role") for c in student.cells}
        assert not roles & {"hidden-tests", "hidden-setup", "mutant"}, path
        assert all(c.cell_type != "raw" for c in student.cells), path
        text = "\n".join(c.source for c in student.cells)
        assert "assert_close" not in text and "rng = np.random.default_rng()" not in text, path
        for ex, spec in student.metadata["nnlearn"]["exercises"].items():
            assert "forbidden" in spec and all(isinstance(n, str) for n in spec["forbidden"]), (path, ex)


def test_lecture_notebooks_start_with_the_colab_header_and_use_no_repo_paths(root):
    for path in sorted((root / "notebooks").glob("*.ipynb")) + sorted((root / "exercises").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert [cell_info(c).get("role") for c in nb.cells[:2]] == [HEADER_ROLE, HEADER_ROLE], path
        for cell in nb.cells[2:]:
            if cell.cell_type == "code":
                assert "../" not in cell.source and "sys.path" not in cell.source, f"{path}: repo-relative path"


def test_committed_notebooks_carry_no_outputs(root):
    """Outputs come from execution (the book build, nbval, Colab), never from the repository."""
    for folder in ("notebooks", "solutions", "exercises"):
        for path in sorted((root / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            stale = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
            assert not stale, f"{path}: cells {stale} have outputs; clear them before committing"
