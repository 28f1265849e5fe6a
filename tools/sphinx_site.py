"""A local Sphinx extension of the book (`_config.yml`: sphinx.local_extensions).

- Jupyter Book 1 registers some inline scripts twice (sphinx-thebe's `const THEBE_JS_URL = ...`,
  sphinx-togglebutton's settings), and the second `const` is a SyntaxError in the console of
  every page: each page keeps the first copy of every script.
- The saved ipywidgets state (the live playgrounds' first figures) is dropped: the book loads no
  widget manager to read it, and it shows the static twins of the playgrounds (nnlearn.playground).
- After every build, even one with nothing to rewrite, the files `tools/site_assets.py` put in
  _build/vendor (MathJax, /favicon.ico) are copied into the site, and _build/html/.built is touched.
"""
import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _scripts_once(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # The copies differ only in the file name of an inline script: None or "".
        key = (str(getattr(script, "filename", script) or ""),
               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen and getattr(script, "attributes", {}).get("type") != WIDGET_STATE:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _copy_vendor(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    vendor = Path(app.confdir) / "_build" / "vendor"
    if not (vendor / "_static" / "mathjax").is_dir():
        raise ExtensionError(f"{vendor} has no MathJax: build the book with `make book` "
                             "(it runs npm ci and tools/site_assets.py)")
    shutil.copytree(vendor, app.outdir, dirs_exist_ok=True)
    (Path(app.outdir) / ".built").touch()


def setup(app):
    app.connect("html-page-context", _scripts_once, priority=900)
    app.connect("build-finished", _copy_vendor)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
