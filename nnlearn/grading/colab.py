"""The header every student-facing notebook starts with: an "Open in Colab" badge and an
install cell that runs only in Colab. Both derive from the repository URL set once in
`_config.yml` (`repository.url`, `repository.branch`). A notebook that needs a package Colab
does not ship declares it in its metadata, `nnlearn.requires: ["optuna>=3"]`, and the install
cell installs it too (with its dependencies; the course package itself with --no-deps)."""
from pathlib import Path

import nbformat
import yaml

HEADER_ROLE = "colab-header"


def repository_info(root):
    """(url, branch) from root/_config.yml, with the url's trailing slash and .git removed."""
    config_path = Path(root) / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    if not repo.get("url"):
        raise ValueError(f"{config_path}: repository.url is not set")
    url = repo["url"].rstrip("/").removesuffix(".git")
    return url, repo.get("branch", "main")


def github_location(root, notebook_path):
    """(owner/name, branch, path of the notebook in the repository), for launch links."""
    url, branch = repository_info(root)
    rel = Path(notebook_path).resolve().relative_to(Path(root).resolve()).as_posix()
    return url.split("github.com/", 1)[1], branch, rel


def colab_url(root, notebook_path):
    github_path, branch, rel = github_location(root, notebook_path)
    return f"https://colab.research.google.com/github/{github_path}/blob/{branch}/{rel}"


def requirements(nb, notebook_path="notebook"):
    """The extra packages nb declares in metadata.nnlearn.requires, checked to be plain requirements."""
    from packaging.requirements import InvalidRequirement, Requirement

    requires = nb.get("metadata", {}).get("nnlearn", {}).get("requires", [])
    if not isinstance(requires, list):
        raise ValueError(f"{notebook_path}: metadata.nnlearn.requires must be a list of requirement "
                         f"strings such as [\"optuna>=3\"], got {type(requires).__name__}")
    for entry in requires:
        try:
            req = Requirement(entry) if isinstance(entry, str) else None
        except InvalidRequirement:
            req = None
        if req is None or req.url or req.marker or '"' in entry or "\\" in entry:
            raise ValueError(f"{notebook_path}: metadata.nnlearn.requires entry {entry!r} is not a plain "
                             "requirement such as \"optuna>=3\" (no URL, marker or quotes)")
    return list(requires)


def header_cells(root, notebook_path, requires=()):
    """[badge markdown cell, install code cell] for a notebook at notebook_path in the repo at root;
    the install cell also installs the extra packages `requires`."""
    url, branch = repository_info(root)
    badge = nbformat.v4.new_markdown_cell(
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({colab_url(root, notebook_path)})")
    extra = "".join(f"    %pip install --quiet \"{req}\"\n" for req in requires)
    install = nbformat.v4.new_code_cell(
        "# In Google Colab, install the course package (numpy, torch and ipywidgets come with Colab).\n"
        + ("# This notebook also needs packages Colab does not ship.\n" if requires else "")
        + "import sys\n"
        "if \"google.colab\" in sys.modules:\n"
        + extra
        + f"    %pip install --quiet --no-deps \"nnlearn @ git+{url}@{branch}\"")
    for cell in (badge, install):
        cell.metadata["nnlearn"] = {"role": HEADER_ROLE}
        cell.metadata["tags"] = ["remove-cell"]
    for cell in (badge, install):
        cell.pop("id", None)
    return [badge, install]


def with_header(nb, root, notebook_path):
    """A copy of nb whose first cells are the current Colab header (any old header replaced)."""
    nb = nbformat.from_dict(nb)
    body = [c for c in nb.cells if c.get("metadata", {}).get("nnlearn", {}).get("role") != HEADER_ROLE]
    nb.cells = header_cells(root, notebook_path, requirements(nb, notebook_path)) + body
    return nb
