"""Rubrics for what is graded by hand: the book's pen-and-paper problems and any free-text or
derivation answer of an exercise notebook.

A rubric file solutions/rubrics/ASSIGNMENT.yml:

    assignment: ch01_perceptron
    items:
      P1.1:                                   # "Problem 1.1" of the book; an exercise id for a notebook cell
        title: tanh from the sigmoid
        source: book/ch01_perceptron.md#ex-tanh-sigmoid
        reference: |                          # the model answer shown to the grader (default: the
          2 sigma(2a) - 1 = ...               #   book's {solution} block of `source`)
        criteria:                             # each earns up to its points
          - {id: identity, points: 1, text: shows tanh(a) = 2 sigma(2a) - 1}
          - {id: bound, points: 1, text: tanh' = 1 - tanh^2 <= 1}

A student answers item P1.1 in a cell (Markdown or code) of the submitted notebook whose first
line names it ("## Problem 1.1", "**Problem 1.1**"), or that carries the metadata
nnlearn = {"exercise": "P1.1", "role": "manual"}, as the student copies' "Pen-and-paper problems"
cells do (nnlearn.grading.penpaper); such a cell left as generated is no answer. An item's points
are its criteria's sum.
"""
import re
from pathlib import Path

import yaml


class RubricError(ValueError):
    """A rubric file that breaks the format above."""


def load_rubric(path):
    """{assignment, items: {id: {title, source, reference, criteria: [{id, points, text}], points}}}."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), dict) or not data["items"]:
        raise RubricError(f"{path}: expected 'assignment' and a mapping 'items' of rubric items")
    assignment = data.get("assignment") or path.stem
    items = {}
    for item_id, item in data["items"].items():
        where = f"{path}: item {item_id}"
        if not isinstance(item, dict) or not isinstance(item.get("criteria"), list) or not item["criteria"]:
            raise RubricError(f"{where}: needs a non-empty list 'criteria'")
        seen, criteria = set(), []
        for c in item["criteria"]:
            if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not isinstance(c.get("text"), str):
                raise RubricError(f"{where}: every criterion needs an 'id' and a 'text', got {c!r}")
            if not isinstance(c.get("points"), (int, float)) or isinstance(c["points"], bool) or c["points"] <= 0:
                raise RubricError(f"{where}, criterion {c['id']}: 'points' must be a positive number, got {c.get('points')!r}")
            if c["id"] in seen:
                raise RubricError(f"{where}: criterion id {c['id']!r} is used twice")
            seen.add(c["id"])
            criteria.append({"id": c["id"], "points": float(c["points"]), "text": c["text"]})
        reference = item.get("reference") or book_solution(path.resolve().parents[2], str(item.get("source", "")))
        items[str(item_id)] = {"title": str(item.get("title", item_id)), "source": str(item.get("source", "")),
                               "reference": str(reference), "criteria": criteria,
                               "points": sum(c["points"] for c in criteria)}
    return {"assignment": assignment, "items": items}


def book_problems(page):
    """[(label, problem text, solution text)] of a book page's {exercise} blocks, in order."""
    text = Path(page).read_text(encoding="utf-8")
    solutions = dict(re.findall(r"```\{solution\} (\S+)\n(?::[^\n]*\n)*(.*?)```", text, re.S))
    return [(label, body.strip(), solutions.get(label, "").strip())
            for label, body in re.findall(r"```\{exercise\}\n:label: (\S+)\n(.*?)```", text, re.S)]


def book_solution(root, source):
    """The book's solution of the problem at source ('book/PAGE.md#label'); '' if none."""
    page, _, label = source.partition("#")
    if not page or not (Path(root) / page).is_file():
        return ""
    return next((sol for lab, _, sol in book_problems(Path(root) / page) if lab == label), "")


def load_rubrics(folder):
    """{assignment: rubric} of every .yml file in folder (none if it does not exist)."""
    folder = Path(folder)
    rubrics = {}
    for path in sorted(folder.glob("*.yml")) if folder.is_dir() else []:
        rubric = load_rubric(path)
        rubrics[rubric["assignment"]] = rubric
    return rubrics


ANSWER_PROMPT = "*Replace this line with your answer.*"


def _label(item_id):
    return f"Problem {item_id[1:]}" if re.fullmatch(r"P\d+\.\d+", item_id) else f"Exercise {item_id}"


def answer_heading(item_id):
    """The first line of the answer cell of a student copy ("## Problem 1.1 — your answer")."""
    return f"## {_label(item_id)} — your answer"


def find_answers(nb, rubric):
    """{item id: text} of the student's answers to the rubric's items in notebook nb."""
    found = {}
    for cell in nb.get("cells", []):
        source = cell.get("source") if isinstance(cell, dict) else None
        if not isinstance(source, str):
            continue
        meta = cell.get("metadata", {}).get("nnlearn", {}) if isinstance(cell.get("metadata"), dict) else {}
        first = next((line for line in source.splitlines() if line.strip()), "")
        for item_id in rubric["items"]:
            tagged = isinstance(meta, dict) and meta.get("role") == "manual" and meta.get("exercise") == item_id
            named = re.match(rf"^\W*{re.escape(_label(item_id))}(?![\d.]*\d)", first, re.IGNORECASE)
            if (tagged or named) and source.strip() not in (answer_heading(item_id),
                                                            f"{answer_heading(item_id)}\n\n{ANSWER_PROMPT}"):
                found[item_id] = (found.get(item_id, "") + "\n\n" + source).strip()
    return found
