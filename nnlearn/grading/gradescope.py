"""Package an assignment as a Gradescope autograder zip.

    nnlearn-gradescope ASSIGNMENT [--solutions solutions] [--output autograder_ASSIGNMENT.zip]

The zip holds Gradescope's setup.sh and run_autograder, the instructor notebook, and the
source of this package, so the autograder needs nothing from this repository. On
Gradescope, run_autograder grades the first .ipynb of the submission with
`nnlearn-grade --gradescope /autograder/results/results.json`.
"""
import argparse
import sys
import zipfile
from pathlib import Path

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update && apt-get install -y python3 python3-pip python3-venv util-linux bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
# The CPU build of torch: Gradescope's machines have no GPU.
/autograder/venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch
/autograder/venv/bin/pip install /autograder/source/nnlearn-src
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
submission=$(find "$ROOT/submission" -type f -name '*.ipynb' -print0 | sort -z | head -z -n 1 | tr -d '\\0')
"$PYTHON" -m nnlearn.grading "${{submission:-$ROOT/submission/missing.ipynb}}" \\
    --solutions "$ROOT/source/solutions" --assignment {assignment} --output "$ROOT/grades" \\
    --no-progress --gradescope "$ROOT/results/results.json"
"""


def package(assignment, solutions, output, package_root):
    solutions, package_root = Path(solutions), Path(package_root)
    notebook = solutions / f"{assignment}.ipynb"
    if not notebook.is_file():
        raise FileNotFoundError(f"no instructor notebook {notebook}")
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER.format(assignment=assignment))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            z.writestr(info, text)
        z.write(notebook, f"solutions/{notebook.name}")
        z.write(package_root / "pyproject.toml", "nnlearn-src/pyproject.toml")
        for path in sorted((package_root / "nnlearn").rglob("*.py")):
            z.write(path, f"nnlearn-src/{path.relative_to(package_root).as_posix()}")
    return Path(output)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nnlearn-gradescope", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="e.g. ch01_perceptron")
    parser.add_argument("--solutions", default="solutions")
    parser.add_argument("--output", help="zip file (default: autograder_ASSIGNMENT.zip)")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    try:
        out = package(args.assignment, args.solutions, args.output or f"autograder_{args.assignment}.zip", root)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {out}: upload it as the autograder of the Gradescope assignment.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
