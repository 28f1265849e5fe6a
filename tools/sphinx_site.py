"""A local Sphinx extension of the book (`_config.yml`: sphinx.local_extensions).

Jupyter Book 1 registers some inline scripts twice (sphinx-thebe's `const THEBE_JS_URL = ...`,
sphinx-togglebutton's settings), and the second `const` is a SyntaxError in the console of every
page. Each page keeps the first copy of every script."""


def _scripts_once(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (str(script), tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _scripts_once, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
