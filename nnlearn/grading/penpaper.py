"""The "Pen-and-paper problems" section of a student copy: for each rubric item of the assignment
(solutions/rubrics/ASSIGNMENT.yml) a cell naming the book's problem, with links to it, and an
answer cell marked by hand (nnlearn.grading.manual finds it by its metadata and first line).

The rubric and the lecture page must agree: every book problem of book/ASSIGNMENT.md has an item
P<chapter>.<k> in page order, and every item's source names a problem of its page. Only the
problem's title and links reach the student copy, never the rubric's criteria or reference.
"""
import os
import re
from pathlib import Path

import nbformat

from .rubric import ANSWER_PROMPT, RubricError, answer_heading, book_problems, load_rubric
from .rules import ExerciseFormatError

SECTION_ROLE = "pen-and-paper"


def _expected(root, assignment):
    """[(item id, label)] the page's problems call for, in order ([] without a page)."""
    page = Path(root) / "book" / f"{assignment}.md"
    chapter = re.match(r"ch0*(\d+)", assignment)
    labels = [label for label, _, _ in book_problems(page)] if page.is_file() else []
    if labels and not chapter:
        raise ExerciseFormatError(f"{page}: cannot number its problems (its name does not start with chNN)")
    return [(f"P{chapter.group(1)}.{k}", label) for k, label in enumerate(labels, 1)]


def rubric_items(root, assignment):
    """{item id: item} of the assignment's book problems, checked against the lecture page."""
    root, path = Path(root), Path(root) / "solutions" / "rubrics" / f"{assignment}.yml"
    expected = _expected(root, assignment)
    if not path.is_file():
        if expected:
            raise ExerciseFormatError(f"book/{assignment}.md has problems ({', '.join(i for i, _ in expected)}) "
                                      f"but there is no rubric {path.relative_to(root)}")
        return {}
    try:
        rubric = load_rubric(path)
    except RubricError as exc:
        raise ExerciseFormatError(str(exc)) from None
    items = {i: item for i, item in rubric["items"].items() if re.fullmatch(r"P\d+\.\d+", i)}
    for item_id, item in items.items():
        page, _, label = item["source"].partition("#")
        if not (root / page).is_file() or label not in [lab for lab, _, _ in book_problems(root / page)]:
            raise ExerciseFormatError(f"{path.relative_to(root)}: item {item_id}'s source {item['source']!r} "
                                      "is not a problem on that page (expected book/PAGE.md#label)")
    found = [(i, item["source"].partition("#")[2]) for i, item in items.items()
             if item["source"].partition("#")[0] == f"book/{assignment}.md"]
    if found != expected:
        missing = [f"{i} ({label})" for i, label in expected if (i, label) not in found]
        extra = [f"{i} ({label})" for i, label in found if (i, label) not in expected]
        raise ExerciseFormatError(f"{path.relative_to(root)} does not match the problems of book/{assignment}.md in "
                                  f"order: page problems without a rubric item: {', '.join(missing) or 'none'}; "
                                  f"rubric items without that problem: {', '.join(extra) or 'none'}")
    return items


def pen_and_paper_cells(root, assignment, target_path):
    """The section's cells ([] when the assignment has no book problems)."""
    items = rubric_items(root, assignment)
    if not items:
        return []
    cells = [nbformat.v4.new_markdown_cell(
        "## Pen-and-paper problems (marked by hand)\n\nThese problems from the lecture page are not checked by "
        "the computer: your instructor reads and marks them. Write each answer in the cell under its problem "
        "in Markdown (formulas between `$...$`); keep the cell's first line as it is, so that the grader "
        "finds your answer.")]
    for item_id, item in items.items():
        page, _, label = item["source"].partition("#")
        link = Path(os.path.relpath(Path(root) / page, Path(target_path).parent)).as_posix()
        number = item_id[1:]
        cells.append(nbformat.v4.new_markdown_cell(
            f"### {number} · {item['title']}\n\nSee [Problem {number}](#{label}) on the "
            f"[lecture page]({link}); write your answer in the next cell."))
        cells.append(nbformat.v4.new_markdown_cell(f"{answer_heading(item_id)}\n\n{ANSWER_PROMPT}",
                                                   metadata={"nnlearn": {"exercise": item_id, "role": "manual"}}))
    for cell in cells[:1] + cells[1::2]:
        cell.metadata["nnlearn"] = {"role": SECTION_ROLE}
    return cells
