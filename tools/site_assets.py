"""Build steps around `jupyter-book build` (run by `make book`).

  python tools/site_assets.py assets    copy the pinned MathJax 3 from node_modules/ (npm ci,
                                        package-lock.json) into _build/vendor/_static/mathjax and
                                        draw _build/vendor/favicon.ico; tools/sphinx_site.py
                                        copies them into the site: no CDN
  python tools/site_assets.py timings   print how long each notebook took to execute, from the
                                        book's execution cache, slowest first
"""
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "_build" / "vendor" / "_static"
# MathJax's own loader fetches its components (TeX extensions, fonts, menu, a11y) relative to the
# main script, so the tree is copied whole but for the combined files the book does not load.
MATHJAX_UNUSED = ["mml-chtml.js", "mml-svg.js", "tex-chtml-full-speech.js", "tex-chtml-full.js",
                  "tex-mml-svg.js", "tex-svg-full.js", "tex-svg.js", "node-main.js", "latest.js"]


def assets():
    source = ROOT / "node_modules" / "mathjax"
    if not (source / "es5" / "tex-mml-chtml.js").is_file():
        sys.exit(f"{source} is missing: run `npm ci` in {ROOT} (make book does)")
    target = VENDOR / "mathjax"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source / "es5", target, ignore=shutil.ignore_patterns(*MATHJAX_UNUSED))
    shutil.copy2(source / "LICENSE", target / "LICENSE")
    version = __import__("json").loads((source / "package.json").read_text())["version"]
    print(f"MathJax {version} copied to {target.relative_to(ROOT)}")
    favicon_ico(VENDOR.parent / "favicon.ico")


def favicon_ico(path):
    """/favicon.ico, which browsers ask for on pages without an icon link (the root redirect page):
    the picture of _static/favicon.svg, drawn with Pillow."""
    from PIL import Image, ImageDraw
    size, scale = 32, 4
    image = Image.new("RGBA", (size * scale,) * 2, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([0, 0, size * scale - 1, size * scale - 1], radius=6 * scale, fill="#1f4e79")
    nodes = {"a": (8, 9), "b": (8, 23), "h": (16, 16), "o": (24, 16)}
    for u, v in ["ao", "bo", "ah", "bh"]:
        draw.line([tuple(c * scale for c in nodes[u]), tuple(c * scale for c in nodes[v])], fill="white", width=2 * scale)
    for (x, y), r in zip(nodes.values(), (3, 3, 2.5, 3)):
        draw.ellipse([(x - r) * scale, (y - r) * scale, (x + r) * scale, (y + r) * scale], fill="white")
    image.resize((size, size), Image.LANCZOS).save(path, sizes=[(16, 16), (32, 32)])


def timings(cache=ROOT / "_build" / ".jupyter_cache"):
    from jupyter_cache import get_cache
    latest = {}                                   # the newest record of each notebook
    for record in get_cache(cache).list_cache_records():
        if record.uri not in latest or record.created > latest[record.uri].created:
            latest[record.uri] = record
    rows = [((r.data or {}).get("execution_seconds", float("nan")), Path(r.uri)) for r in latest.values()
            if Path(r.uri).exists()]
    if not rows:
        print(f"no executed notebooks in {cache}")
        return
    print("notebook execution, seconds (latest run of each, from the execution cache):")
    for seconds, path in sorted(rows, key=lambda row: -row[0]):
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"  {seconds:7.1f} s  {name}")
    print(f"  {sum(s for s, _ in rows):7.1f} s  total")


if __name__ == "__main__":
    commands = {"assets": assets, "timings": timings}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]]()
