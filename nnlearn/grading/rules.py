"""The rules a solution notebook follows (see nnlearn.grading.exercises for the roles): its
metadata, the roles of its cells, named checks whose points add up, hidden tests that take their
randomness from the judge, at least MIN_MUTANTS known-wrong answers per exercise, and lists of
forbidden names. validate() says which rule a notebook breaks."""
import ast
import math
import re

ROLES = ("answer", "public-tests", "hidden-tests", "hidden-setup", "mutant")
STUDENT_ROLES = ("answer", "public-tests")
MIN_MUTANTS = 3
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_SEEDED_RANDOMNESS = {"default_rng", "Generator", "SeedSequence", "PCG64", "Philox", "SFC64"}


class ExerciseFormatError(ValueError):
    """A solution notebook breaks the exercise conventions."""


def cell_info(cell):
    return cell.get("metadata", {}).get("nnlearn", {})


def assignment_info(nb, path="notebook"):
    meta = nb.metadata.get("nnlearn", {})
    if "assignment" not in meta or not meta.get("exercises"):
        raise ExerciseFormatError(f"{path}: metadata.nnlearn needs 'assignment' and 'exercises'")
    return meta


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
