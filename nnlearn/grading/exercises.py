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

Every role but answer and public-tests is removed from the student copy.

Usage: python -m nnlearn.grading.exercises [--check] [ROOT]
"""
import argparse
import ast
import math
import re
import sys
from pathlib import Path

import nbformat

from .colab import HEADER_ROLE, with_header

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
ROLES = ("answer", "public-tests", "hidden-tests", "hidden-setup", "mutant")
STUDENT_ROLES = ("answer", "public-tests")
MIN_MUTANTS = 3
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_SEEDED_RANDOMNESS = {"default_rng", "Generator", "SeedSequence", "PCG64", "Philox", "SFC64"}
EXPECTED_ERROR_TAG = "raises-exception"  # understood by nbval and myst-nb


class ExerciseFormatError(ValueError):
    """A solution notebook breaks the exercise conventions."""


def cell_info(cell):
    return cell.get("metadata", {}).get("nnlearn", {})


def assignment_info(nb, path="notebook"):
    meta = nb.metadata.get("nnlearn", {})
    if "assignment" not in meta or not meta.get("exercises"):
        raise ExerciseFormatError(f"{path}: metadata.nnlearn needs 'assignment' and 'exercises'")
    return meta


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


def _call_name(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def rng_problems(source):
    """Ways in which hidden-test code makes randomness of its own instead of using the judge's
    `rng`: an unseeded default_rng(), numpy's global generator, torch's or Python's."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node.func)
        if name.endswith("default_rng") and not node.args and not node.keywords:
            problems.append("default_rng() without a seed")
        elif re.match(r"^(np|numpy)\.random\.", name) and name.split(".")[-1] not in _SEEDED_RANDOMNESS:
            problems.append(f"{name}() (numpy's global generator)")
        elif re.match(r"^(torch\.(rand|randn|randint|randperm|manual_seed)$|random\.)", name):
            problems.append(f"{name}()")
    return problems


def _validate_exercise(path, ex, spec, cells):
    where = f"{path}: exercise {ex}"
    points = spec.get("points")
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
        raise ExerciseFormatError(f"{where}: 'points' must be a positive number, got {points!r}")
    forbidden = spec.get("forbidden", [])
    if not isinstance(forbidden, list) or not all(isinstance(n, str) and _DOTTED.match(n) for n in forbidden):
        raise ExerciseFormatError(f"{where}: 'forbidden' must be a list of dotted names like 'nnlearn.mlp.forward'")
    roles = [cell_info(c)["role"] for c in cells]
    for needed in ("answer", "hidden-tests"):
        if needed not in roles:
            raise ExerciseFormatError(f"{where} has no {needed} cell")
    checks = {}
    for cell in cells:
        info = cell_info(cell)
        if info["role"] != "hidden-tests":
            continue
        name, p = info.get("check"), info.get("points")
        if not isinstance(name, str) or not name.strip():
            raise ExerciseFormatError(f"{where}: every hidden-tests cell needs a 'check' name")
        if name in checks:
            raise ExerciseFormatError(f"{where}: two checks are named {name!r}")
        if not isinstance(p, (int, float)) or isinstance(p, bool) or p <= 0:
            raise ExerciseFormatError(f"{where}: check {name!r} needs positive 'points', got {p!r}")
        problems = rng_problems(cell.source)
        if problems:
            raise ExerciseFormatError(f"{where}: check {name!r} makes its own randomness ({', '.join(problems)}); "
                                      "use the judge's `rng`")
        checks[name] = p
    if not math.isclose(sum(checks.values()), points, abs_tol=1e-9):
        raise ExerciseFormatError(f"{where}: the points of its checks sum to {sum(checks.values()):g}, "
                                  f"the exercise is worth {points:g} ({', '.join(f'{n}: {p:g}' for n, p in checks.items())})")
    mutants = [cell_info(c) | {"source": c.source} for c in cells if cell_info(c)["role"] == "mutant"]
    names = set()
    for m in mutants:
        name, fails = m.get("name"), m.get("fails")
        if not isinstance(name, str) or not name.strip() or name in names:
            raise ExerciseFormatError(f"{where}: every mutant needs a 'name' of its own, got {name!r}")
        names.add(name)
        if not isinstance(fails, list) or not fails or set(fails) - set(checks):
            raise ExerciseFormatError(f"{where}: mutant {name!r}: 'fails' must list checks of the exercise "
                                      f"(one of {sorted(checks)}), got {fails!r}")
        try:
            ast.parse(m["source"])
        except SyntaxError as exc:
            raise ExerciseFormatError(f"{where}: mutant {name!r} is not valid Python: {exc}") from None
    if len(mutants) < MIN_MUTANTS:
        raise ExerciseFormatError(f"{where} declares {len(mutants)} mutants; at least {MIN_MUTANTS} known-wrong "
                                  "answers must show that the checks reject them")
    if not any(m.get("passes_public_tests") for m in mutants):
        raise ExerciseFormatError(f"{where}: no mutant is marked passes_public_tests; declare one wrong answer "
                                  "that the self-checks accept (the hidden tests must catch it)")


def validate(nb, path="notebook"):
    meta = assignment_info(nb, path)
    cells = {ex: [] for ex in meta["exercises"]}
    for cell in nb.cells:
        info = cell_info(cell)
        role = info.get("role")
        if (role is None and "exercise" not in info) or (role == "hidden-setup" and "exercise" not in info):
            if role == "hidden-setup" and cell.cell_type != "code":
                raise ExerciseFormatError(f"{path}: a hidden-setup cell must be a code cell")
            continue
        ex = info.get("exercise")
        if ex not in cells:
            raise ExerciseFormatError(f"{path}: cell for unknown exercise {ex!r}")
        if role not in ROLES:
            raise ExerciseFormatError(f"{path}: exercise {ex}: unknown role {role!r}")
        kind = "raw" if role == "mutant" else "code"
        if cell.cell_type != kind:
            raise ExerciseFormatError(f"{path}: exercise {ex}: a {role} cell must be a {kind} cell"
                                      + (" (so that running the notebook does not run it)" if kind == "raw" else ""))
        cells[ex].append(cell)
    for ex, spec in meta["exercises"].items():
        _validate_exercise(path, ex, spec, cells[ex])
    return meta


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
    nb.cells = cells
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
