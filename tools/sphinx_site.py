"""A local Sphinx extension of the book (`_config.yml`: sphinx.local_extensions).

Jupyter Book 1 registers some inline scripts twice (sphinx-thebe's `const THEBE_JS_URL = ...`,
sphinx-togglebutton's settings), and the second `const` is a SyntaxError in the console of every
page: each page keeps the first copy of every script. The saved ipywidgets state (the live
playgrounds' first figures) is dropped: the book loads no widget manager to read it, and it shows
the static twins of the playgrounds (nnlearn.playground)."""

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


def setup(app):
    app.connect("html-page-context", _scripts_once, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
