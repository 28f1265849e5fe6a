"""The cells that guide a learner through a student copy: "how to work on this notebook" right
under its title (open it in Colab, Binder or locally; check; hand in) and "Check my work" at its
end, which re-runs every public self-check through nnlearn.selfcheck and prints a table."""
import ast
from pathlib import Path

import nbformat

from .colab import colab_url, github_location
from .rules import cell_info

GUIDE_ROLE, CHECK_ROLE = "how-to", "check-my-work"


def binder_url(root, notebook_path):
    github_path, branch, rel = github_location(root, notebook_path)
    return f"https://mybinder.org/v2/gh/{github_path}/{branch}?urlpath=tree/{rel}"


def how_to_cell(root, notebook_path):
    name = Path(notebook_path).name
    cell = nbformat.v4.new_markdown_cell(
        f"**How to work on this notebook.** Open it in [Colab]({colab_url(root, notebook_path)}) "
        f"(nothing to install), in [Binder]({binder_url(root, notebook_path)}) (no account; it forgets "
        f"everything when the tab closes) or on your own machine (`jupyter lab exercises/{name}` after "
        "[setting up](../book/setup.md)). Then:\n\n"
        "1. Write each answer where the notebook says `raise NotImplementedError(...)` and run the "
        "self-check cell below it.\n"
        "2. Run the last cell, **Check my work**: it re-runs every self-check and shows a table of what "
        "passes, what fails and why.\n"
        f"3. Hand it in: download the notebook as an `.ipynb` file (Colab: *File → Download → Download "
        f".ipynb*; JupyterLab: *File → Download*), keep its name `{name}`, and give it to your instructor "
        "or upload it to Gradescope, as your course says. The grader runs only your answer cells, on new "
        "inputs. More in [Doing the exercises](../book/exercises_howto.md).")
    cell.metadata["nnlearn"] = {"role": GUIDE_ROLE}
    return cell


def _literal(source):
    """source as a readable Python string literal (raw triple-quoted where that is exact)."""
    if "'''" in source or source.endswith(("\\", "'")):
        text = repr(source)
    else:
        text = "r'''" + source + "'''"
    assert ast.literal_eval(text) == source
    return text


def check_my_work_cells(nb, meta):
    """[markdown, code]: the "Check my work" section that ends a student copy."""
    sources = {ex: [] for ex in meta["exercises"]}
    for cell in nb.cells:
        info = cell_info(cell)
        if info.get("role") == "public-tests" and info.get("exercise") in sources:
            sources[info["exercise"]].append(cell.source)
    entries = "".join(
        f"    ({ex!r}, {spec['title']!r}, {spec['points']!r}, [{', '.join(_literal(s) for s in sources[ex])}]),\n"
        for ex, spec in meta["exercises"].items())
    intro = nbformat.v4.new_markdown_cell(
        "## Check my work\n\nRun the next cell last (or after *Run all*). It runs the self-check of every "
        "exercise again, on a copy of your variables, and shows one row per exercise: passed, failed "
        "(with the first line of the message), not done yet, or not run (a cell above it has not been "
        "run). Nothing is sent anywhere, and the grade comes from hidden tests on new inputs.")
    code = nbformat.v4.new_code_cell(
        "#@title Check my work: re-runs every self-check above and shows a table\n"
        "from nnlearn.selfcheck import check_my_work\n\n"
        f"check_my_work(globals(), [\n{entries}])")
    code.metadata.update({"cellView": "form", "jupyter": {"source_hidden": True}, "tags": ["hide-input"]})
    for cell in (intro, code):
        cell.metadata["nnlearn"] = {"role": CHECK_ROLE}
    return [intro, code]
