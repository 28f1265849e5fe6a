"""Grader cost: time per submission against bare execution of the same notebook, and
throughput of a batch with several workers.

    python benchmarks/grader_overhead.py [--repeats 5] [--batch 8] [--workers 2]

Bare execution = nbclient running the reference solution notebook top to bottom in a fresh
kernel (what a student's "Restart & Run All" costs). Grading = nnlearn's grader on the same
notebook: a sandboxed kernel, the setup and answer cells, and every hidden test judged in
the grader's process. Target: grading <= 1.3 x bare execution.
"""
import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnlearn.grading.batch import Batch  # noqa: E402
from nnlearn.grading.grade import grade_submission  # noqa: E402
from nnlearn.grading.sandbox import Limits, probe_isolation  # noqa: E402


def bare(path):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as cwd:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
    return time.perf_counter() - start


def graded(path):
    start = time.perf_counter()
    report = grade_submission(path, ROOT / "solutions")
    assert report.points == report.max_points, report
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--notebook", default=str(ROOT / "solutions" / "ch01_perceptron.ipynb"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"isolation: {probe_isolation().summary()}")
    bare(args.notebook)                       # warm the file cache
    bare_times, grade_times = [], []
    for _ in range(args.repeats):             # interleaved, so drift hits both alike
        bare_times.append(bare(args.notebook))
        grade_times.append(graded(args.notebook))
    b, g = statistics.median(bare_times), statistics.median(grade_times)
    print(f"bare nbclient execution: median {b:.2f} s  ({', '.join(f'{t:.2f}' for t in bare_times)})")
    print(f"grading:                 median {g:.2f} s  ({', '.join(f'{t:.2f}' for t in grade_times)})")
    print(f"overhead: {g / b:.2f}x  (target <= 1.30x)")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        for i in range(args.batch):
            shutil.copy(args.notebook, folder / f"student{i:03d}.ipynb")
        options = {"solutions_dir": str(ROOT / "solutions"), "assignment": None, "cell_timeout": 30,
                   "total_timeout": 300, "limits": Limits()}
        start = time.perf_counter()
        reports, _ = Batch(Path(tmp) / "out", ROOT / "solutions", options).run(sorted(folder.iterdir()),
                                                                               args.workers, progress=False)
        elapsed = time.perf_counter() - start
        assert all(r.points == r.max_points for r in reports)
    print(f"batch of {args.batch} with {args.workers} workers: {elapsed:.1f} s, "
          f"{args.batch / elapsed * 60:.0f} submissions/minute, {elapsed / args.batch:.2f} s each")


if __name__ == "__main__":
    main()
