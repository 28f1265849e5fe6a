"""Calibrate the similarity report (nnlearn.grading.similarity) on a class of answers.

    .venv/bin/python benchmarks/similarity_calibration.py [--verify] [--copies 5]

benchmarks/similarity_class/EX.txt holds independently written correct answers to exercise EX
(blocks starting `# === answer: NAME`), genuinely different implementations of the same
function. False positives: the share of pairs of these independent answers that reach the flag
threshold. Detection: each answer is disguised (local names renamed, independent adjacent
statements swapped, comments and blank lines added) with several seeds, and a copy counts as
detected when its pair with the original reaches the threshold. --verify first judges every
answer in-process with the exercise's hidden tests (all must get full marks).
"""
import argparse
import ast
import builtins
import itertools
import random
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nnlearn.grading.exercises import stub_answer          # noqa: E402
from nnlearn.grading.rules import assignment_info, cell_info  # noqa: E402
from nnlearn.grading import similarity                     # noqa: E402

CLASS = Path(__file__).with_name("similarity_class")
NOTEBOOKS = {"1": "ch01_perceptron", "4": "ch04_backpropagation"}


def load_class(folder=CLASS):
    """{exercise: {name: source}}."""
    out = {}
    for path in sorted(folder.glob("*.txt")):
        blocks = path.read_text(encoding="utf-8").split("# === answer: ")[1:]
        out[path.stem] = {b.split("\n", 1)[0].strip(): b.split("\n", 1)[1] for b in blocks}
    return out


def instructor(ex):
    path = ROOT / "solutions" / f"{NOTEBOOKS[ex.split('.')[0]]}.ipynb"
    return nbformat.read(path, as_version=4)


def excluded(ex):
    """[reference answer, the stub students were given] of exercise ex."""
    nb = instructor(ex)
    title = assignment_info(nb)["exercises"][ex]["title"]
    ref = "\n".join(c.source for c in nb.cells if cell_info(c) == {"exercise": ex, "role": "answer"})
    return [ref, stub_answer(ref, ex, title)[0]]


# --- disguised copies -----------------------------------------------------------------------

def _names(node, ctx):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        node.id = self.mapping.get(node.id, node.id)
        return node


def _swap_independent(body, rng):
    """Swap adjacent simple statements that neither read nor write what the other writes."""
    simple = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)
    i = 0
    while i < len(body) - 1:
        a, b = body[i], body[i + 1]
        if isinstance(a, simple) and isinstance(b, simple) and rng.random() < 0.8:
            wa, wb = _names(a, ast.Store), _names(b, ast.Store)
            ra, rb = _names(a, ast.Load), _names(b, ast.Load)
            if not (wa & (rb | wb) or wb & ra) and not isinstance(a, ast.AugAssign | ast.Expr):
                body[i], body[i + 1] = b, a
                i += 2
                continue
        i += 1
    for node in body:
        for field in ("body", "orelse"):
            if isinstance(getattr(node, field, None), list):
                _swap_independent(getattr(node, field), rng)


def disguise(source, seed=0):
    """A copy of source with its local names renamed, independent statements reordered, and
    comments and blank lines added: what a student hiding a copy would do."""
    rng = random.Random(seed)
    tree = ast.parse(source)
    api = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    params = {a.arg for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) for a in n.args.args}
    local = sorted(_names(tree, ast.Store) - api - params - set(dir(builtins)))
    words = ["tmp", "val", "acc", "res", "item", "thing", "q", "z", "buf", "cur", "arr", "part"]
    mapping = {name: f"{rng.choice(words)}_{i}" for i, name in enumerate(local)}
    tree = _Rename(mapping).visit(tree)
    _swap_independent(tree.body, rng)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            _swap_independent(node.body, rng)
    lines = []
    for line in ast.unparse(tree).splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        if rng.random() < 0.3:
            lines.append(f"{indent}# {rng.choice(['now the next step', 'compute this', 'see the notes', 'ok'])}")
        lines.append(line)
        if rng.random() < 0.2:
            lines.append("")
    return "# " + source.splitlines()[0].lstrip("# ") + "\n" + "\n".join(lines) + "\n"


# --- measuring ---------------------------------------------------------------------------------

def measure(answers=None, copies=5, threshold=similarity.THRESHOLD, k=similarity.K, window=similarity.WINDOW):
    """{exercise: {pairs, false_positives, max_independent, copies, detected, min_copy}} and totals."""
    answers = answers or load_class()
    results = {}
    for ex, named in answers.items():
        drop = set().union(*(similarity.fingerprints(s, k, window) for s in excluded(ex)))
        prints = {n: similarity.fingerprints(s, k, window) - drop for n, s in named.items()}
        independent = [similarity.similarity(prints[a], prints[b]) for a, b in itertools.combinations(prints, 2)]
        copy_scores = [similarity.similarity(prints[n], similarity.fingerprints(disguise(s, seed), k, window) - drop)
                       for n, s in named.items() for seed in range(copies)]
        results[ex] = {"answers": len(named), "lines": round(sum(len(s.splitlines()) for s in named.values()) / len(named)),
                       "pairs": len(independent), "false_positives": sum(s >= threshold for s in independent),
                       "max_independent": max(independent), "copies": len(copy_scores),
                       "detected": sum(s >= threshold for s in copy_scores), "min_copy": min(copy_scores)}
    total = {key: sum(r[key] for r in results.values()) for key in ("pairs", "false_positives", "copies", "detected")}
    return results, total


def verify(answers):
    """Every answer of the class gets full marks from the hidden tests (in-process judge)."""
    from nnlearn.grading.mutants import judge_in_process
    bad = []
    for ex, named in answers.items():
        for name, source in named.items():
            result = judge_in_process(instructor(ex), replace={ex: source}, seed=1, only={ex})[ex]
            if result.points != result.max_points:
                bad.append(f"{ex} {name}: {result.points}/{result.max_points} {result.message}")
    return bad


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verify", action="store_true", help="judge every answer with the hidden tests first")
    parser.add_argument("--copies", type=int, default=5, help="disguised copies per answer")
    args = parser.parse_args(argv)
    answers = load_class()
    if args.verify:
        bad = verify(answers)
        print("every answer gets full marks" if not bad else "NOT CORRECT:\n  " + "\n  ".join(bad))
    print(f"k = {similarity.K} tokens, window = {similarity.WINDOW}, flag threshold = {similarity.THRESHOLD}")
    print("| exercise | answers | lines | independent pairs flagged | highest independent | copies detected | lowest copy |")
    print("|---|---|---|---|---|---|---|")
    results, total = measure(answers, args.copies)
    for ex, r in results.items():
        print(f"| {ex} | {r['answers']} | {r['lines']} | {r['false_positives']} / {r['pairs']} | {r['max_independent']:.2f} "
              f"| {r['detected']} / {r['copies']} | {r['min_copy']:.2f} |")
    print(f"| all | | | {total['false_positives']} / {total['pairs']} | | {total['detected']} / {total['copies']} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
