"""Generate the student copies in exercises/ from the solution notebooks in solutions/.

A solution notebook is the single source of an assignment. Its metadata
`nnlearn.exercises` maps exercise ids to {"title", "points", "forbidden"} (forbidden: fully
qualified names an answer must not use, e.g. "nnlearn.activations.sigmoid"; a module or
attribute prefix forbids everything under it). Each cell that belongs to an exercise
carries `metadata.nnlearn = {"exercise": id, "role": role, ...}` with role one of:

  answer        the reference solution between `### BEGIN SOLUTION` / `### END SOLUTION`
  public-tests  self-checks the student sees
  hidden-tests  one named check of the instructor tests: "check": name, "points": p; the
                checks' points sum to the exercise's; they use the judge's `rng`
  hidden-setup  instructor code the checks share (without "exercise": all exercises after it)
  mutant        a raw cell: a known-wrong answer, "name": ..., "fails": [checks it must fail],
                "passes_public_tests": true for one that the self-checks accept

Every role but answer and public-tests is removed from the student copy, which gains a
"how to work on this notebook" cell under its title, the book problems' answer cells marked by
hand (nnlearn.grading.penpaper) and a "Check my work" table at its end (nnlearn.grading.guide).

Usage: python -m nnlearn.grading.exercises [--check] [ROOT]
"""
import argparse
import sys
from pathlib import Path

import nbformat

from .colab import HEADER_ROLE, with_header
from .guide import check_my_work_cells, how_to_cell
from .penpaper import pen_and_paper_cells
from .rules import STUDENT_ROLES, ExerciseFormatError, assignment_info, cell_info, validate

__all__ = ["ExerciseFormatError", "assignment_info", "cell_info", "validate",      # from .rules, for callers here
           "stub_answer", "student_copy", "render", "generate", "main"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
EXPECTED_ERROR_TAG = "raises-exception"  # understood by nbval and myst-nb


def stub_answer(source, exercise_id, title):
    """Replace every solution region with a NotImplementedError stub at the marker's indent.
    Returns (new_source, raises_at_top_level)."""
    out, inside, top_level, found = [], False, False, False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ExerciseFormatError(f"exercise {exercise_id}: nested {BEGIN}")
            inside, found = True, True
            indent = line[: len(line) - len(line.lstrip())]
            top_level |= indent == ""
            out.append(f'{indent}raise NotImplementedError("Exercise {exercise_id}: {title}")')
        elif stripped == END:
            if not inside:
                raise ExerciseFormatError(f"exercise {exercise_id}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ExerciseFormatError(f"exercise {exercise_id}: {BEGIN} without {END}")
    if not found:
        raise ExerciseFormatError(f"exercise {exercise_id}: answer cell has no {BEGIN} marker")
    return "\n".join(out), top_level


def student_copy(nb, root, target_path):
    """The student notebook for solution notebook nb, to be written at target_path."""
    meta = validate(nb)
    nb = nbformat.from_dict(nb)
    cells = []
    for cell in nb.cells:
        info = cell_info(cell)
        if info.get("role") == HEADER_ROLE or info.get("role", "answer") not in STUDENT_ROLES:
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            tags = [t for t in cell.metadata.get("tags", []) if t != EXPECTED_ERROR_TAG]
            raises = info.get("role") == "public-tests"
            if info.get("role") == "answer":
                ex = info["exercise"]
                cell.source, raises = stub_answer(cell.source, ex, meta["exercises"][ex]["title"])
            if raises:
                tags.append(EXPECTED_ERROR_TAG)
            cell.metadata["tags"] = tags
            if not tags:
                del cell.metadata["tags"]
        cell.metadata.pop("execution", None)
        cells.append(cell)
    titled = next((i + 1 for i, c in enumerate(cells) if c.cell_type == "markdown"
                   and c.source.lstrip().startswith("# ")), 0)
    cells.insert(titled, how_to_cell(root, target_path))
    nb.cells = cells + pen_and_paper_cells(root, meta["assignment"], target_path) + check_my_work_cells(nb, meta)
    nb = with_header(nb, root, target_path)
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating gives identical files
        cell["id"] = f"cell-{i:03d}"
    nb.metadata.pop("widgets", None)
    return nb


def render(nb):
    return nbformat.writes(nb) + "\n"


def generate(root, check=False):
    """Write (or, with check=True, compare) exercises/ for every notebook in solutions/.
    Returns the list of paths that were (or would be) changed."""
    root = Path(root)
    changed = []
    for solution in sorted((root / "solutions").glob("*.ipynb")):
        nb = nbformat.read(solution, as_version=4)
        target = root / "exercises" / solution.name
        text = render(student_copy(nb, root, target))
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            changed.append(target)
            if not check:
                target.parent.mkdir(exist_ok=True)
                target.write_text(text, encoding="utf-8")
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        old = notebook.read_text(encoding="utf-8")
        nb = with_header(nbformat.reads(old, as_version=4), root, notebook)
        for i, cell in enumerate(nb.cells[:2]):
            cell["id"] = f"colab-header-{i}"
        text = render(nb)
        if text != old:
            changed.append(notebook)
            if not check:
                notebook.write_text(text, encoding="utf-8")
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description="Regenerate exercises/ from solutions/ and refresh "
                                     "the Colab header of notebooks/.")
    parser.add_argument("root", nargs="?", default=".", help="repository root (default: .)")
    parser.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    try:
        changed = generate(args.root, check=args.check)
    except ExerciseFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in changed:
        print(("out of date: " if args.check else "wrote: ") + str(path))
    if args.check and changed:
        print("Run `python -m nnlearn.grading.exercises` to regenerate.", file=sys.stderr)
        return 1
    if not changed:
        print("exercises/ and notebook headers are up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
