"""Similar answer cells across a class: a flag for a human, never a penalty.

    python -m nnlearn.grading.similarity SUBMISSIONS/ [--solutions solutions] [--output grades/similarity.html]

Each answer is normalised (parsed and unparsed, so comments, blank lines, quotes and layout vanish;
then every identifier becomes `V`, every number `N`, every string `S`), cut into k-grams of
tokens, hashed, and winnowed as in MOSS (Schleimer, Wilkerson and Aiken, SIGMOD 2003): of every
window of w consecutive hashes the smallest is kept. Fingerprints of the reference answer and
of the stub the students were given are removed, so what everybody must write counts for
nothing. Two answers' similarity is the share of the smaller fingerprint set found in the other
(containment). Pairs are ranked by their highest similarity over the exercises; the report
shows each flagged pair side by side. Calibration: benchmarks/similarity_calibration.py.
"""
import argparse
import ast
import html
import io
import itertools
import keyword
import sys
import tokenize
import zlib
from pathlib import Path

K, WINDOW = 8, 4          # k-gram length (tokens) and winnowing window, chosen by the calibration
THRESHOLD = 0.6           # pairs at or above it are flagged for a human look
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}


def normalise(source):
    """The token stream of `source` with layout, comments and names erased."""
    try:
        source = ast.unparse(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError):
        pass                                   # tokenise what is there
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in _SKIP:
                continue
            if tok.type == tokenize.NAME:
                out.append(tok.string if keyword.iskeyword(tok.string) else "V")
            elif tok.type == tokenize.NUMBER:
                out.append("N")
            elif tok.type == tokenize.STRING or tokenize.tok_name[tok.type] == "FSTRING_START":
                out.append("S")
            elif tokenize.tok_name[tok.type].startswith("FSTRING"):
                continue
            else:
                out.append(tok.string if tok.type == tokenize.OP else tokenize.tok_name[tok.type])
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def fingerprints(source, k=K, window=WINDOW):
    """The winnowed hashes of the k-grams of `source`'s normalised tokens (a set)."""
    tokens = normalise(source)
    hashes = [zlib.crc32(" ".join(tokens[i:i + k]).encode()) for i in range(len(tokens) - k + 1)]
    if len(hashes) <= window:
        return set(hashes)
    return {min(hashes[i:i + window]) for i in range(len(hashes) - window + 1)}


def similarity(a, b):
    """Containment of the smaller fingerprint set in the larger: 0 (nothing shared) to 1."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def rank_pairs(answers, excluded=None, threshold=THRESHOLD, k=K, window=WINDOW):
    """answers: {student: {exercise: source}}; excluded: {exercise: [sources]} whose fingerprints
    count for nothing (the reference, the stub). Returns [(score, a, b, {exercise: score})],
    highest first, for every pair sharing anything."""
    excluded = excluded or {}
    drop = {ex: set().union(*(fingerprints(s, k, window) for s in srcs)) for ex, srcs in excluded.items()}
    prints = {who: {ex: fingerprints(src, k, window) - drop.get(ex, set()) for ex, src in cells.items()}
              for who, cells in answers.items()}
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        scores = {ex: round(similarity(prints[a][ex], prints[b][ex]), 3)
                  for ex in sorted(prints[a].keys() & prints[b].keys())}
        best = max(scores.values(), default=0.0)
        if best > 0:
            pairs.append((best, a, b, scores))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return pairs


# --- the class and the report ---------------------------------------------------------------

def class_answers(folder, solutions):
    """({student: {exercise: source}}, {exercise: [reference, stub]}) of a folder of submissions."""
    import nbformat
    from .exercises import stub_answer
    from .files import FileRefused, output_name, read_submission
    from .grade import GradingError, answer_cells, find_instructor_notebook, read_notebook
    from .rules import assignment_info, cell_info
    answers, excluded = {}, {}
    for path in sorted(p for p in Path(folder).iterdir() if p.suffix == ".ipynb" and p.is_file()):
        try:
            nb = read_notebook(read_submission(path))
            instructor_path = find_instructor_notebook(nb, path, solutions)
        except (GradingError, FileRefused):
            continue
        instructor = nbformat.read(instructor_path, as_version=4)
        if not excluded:
            titles = assignment_info(instructor, instructor_path)["exercises"]
            for cell in instructor.cells:
                info = cell_info(cell)
                if info.get("role") == "answer":
                    ex = info["exercise"]
                    excluded.setdefault(ex, []).extend(
                        [cell.source, stub_answer(cell.source, ex, titles[ex]["title"])[0]])
        answers[output_name(path)] = {ex: "\n".join(srcs) for ex, srcs in answer_cells(nb, instructor).items()}
    return answers, excluded


def report_html(pairs, answers, threshold=THRESHOLD):
    """A static page: the ranked pairs, then each flagged pair's answers side by side (escaped)."""
    e = html.escape
    rows = "".join(f"<tr><td>{s:.2f}</td><td>{e(a)}</td><td>{e(b)}</td><td>"
                   + ", ".join(f"{e(ex)}: {v:.2f}" for ex, v in per.items()) + "</td></tr>" for s, a, b, per in pairs)
    sides = []
    for s, a, b, per in (p for p in pairs if p[0] >= threshold):
        for ex, v in per.items():
            if v >= threshold:
                sides.append(f"<h3>{e(a)} / {e(b)}: exercise {e(ex)} ({v:.2f})</h3><div class='pair'>"
                             f"<pre>{e(answers[a][ex])}</pre><pre>{e(answers[b][ex])}</pre></div>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><meta http-equiv='Content-Security-Policy' "
            "content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>Similarity report</title><style>"
            ".pair{display:grid;grid-template-columns:1fr 1fr;gap:1em} pre{background:#f4f4f4;padding:.5em;"
            "overflow:auto} td{padding:0 .6em}</style></head><body><h1>Similar answers</h1>"
            f"<p>A flag for a human look, never a penalty: short correct answers written independently are "
            f"often alike. Pairs at or above {threshold:g} are shown side by side.</p>"
            "<table><tr><th>highest</th><th>student</th><th>student</th><th>per exercise</th></tr>"
            f"{rows}</table>{''.join(sides)}</body></html>\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", help="folder of submitted notebooks")
    parser.add_argument("--solutions", default="solutions")
    parser.add_argument("--output", help="HTML report (default: grades/similarity.html beside the submissions)")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args(argv)
    answers, excluded = class_answers(args.submissions, args.solutions)
    pairs = rank_pairs(answers, excluded)
    out = Path(args.output or Path(args.submissions) / "grades" / "similarity.html")
    from .output import private_dir, write_private
    private_dir(out.parent, parents=True)
    write_private(out, report_html(pairs, answers, args.threshold))
    flagged = [p for p in pairs if p[0] >= args.threshold]
    for s, a, b, _ in flagged[:20]:
        print(f"{s:.2f}  {a}  {b}")
    print(f"{len(flagged)} pair(s) at or above {args.threshold:g} of {len(pairs)}; report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
