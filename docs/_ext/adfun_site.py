"""Site-wide pieces of the adfun documentation that are not pages.

* **Math without network.**  MathJax 3 is copied into the built site (``_static/mathjax/``)
  from the ``sphinx-mathjax-offline`` package (a dependency of the ``docs`` extra), and
  ``mathjax_path`` points at the copy: the formulas render from a laptop with no
  connection, or from a file system.  Only what ``tex-chtml.js`` loads is copied (its
  fonts, TeX extensions loaded on demand, the menu and accessibility parts), not the
  package's 24 MB.
* **Long lines wrap on the Errors page.**  Its code blocks show whole error messages;
  they get the ``adfun-wrap`` class (``_static/adfun.css`` wraps them) instead of a
  horizontal scroll bar.
* **The extras table** of the installation page (``adfun-extras`` directive) is read
  from ``pyproject.toml``, so it cannot drift from what ``pip install -e ".[...]"``
  installs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.fileutil import copy_asset

logger = logging.getLogger(__name__)

#: The distribution that ships MathJax, and the parts of it the site needs.
MATHJAX_PACKAGE = "sphinx-mathjax-offline"
MATHJAX_PARTS = [
    "tex-chtml.js",
    "output/chtml",
    "input/tex/extensions",
    "ui",
    "a11y",
    "adaptors",
]
#: Pages whose code blocks wrap long lines.
WRAPPED_PAGES = {"errors"}
#: What each extra is for (the packages themselves come from pyproject.toml).
EXTRA_PURPOSES = {
    "test": "`python -m pytest`, and `adfun.testing.strategies` (Hypothesis)",
    "docs": "building this site: Sphinx and its extensions, and what the gallery runs",
    "lint": "`ruff` and `mypy`, pinned, as `tests/test_lint.py` runs them",
    "bench": "the benchmark suite's peers and its progress bars",
}


def mathjax_directory() -> Path:
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            f"adfun_site: the documentation renders its math offline with MathJax from the "
            f"{MATHJAX_PACKAGE} package, which is not installed; install the docs extra: "
            f'python -m pip install -e ".[docs]"'
        )
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"


def copy_mathjax(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_directory()
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        path = source / part
        if path.is_dir():
            copy_asset(path, target / part)
        else:
            target.mkdir(parents=True, exist_ok=True)
            copy_asset(path, target)


def wrap_long_lines(app: Any, doctree: nodes.document, docname: str) -> None:
    if docname not in WRAPPED_PAGES:
        return
    blocks = (nodes.literal_block, nodes.doctest_block)
    for node in doctree.findall(lambda node: isinstance(node, blocks)):
        node["classes"].append("adfun-wrap")


def read_pyproject(root: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Sphinx 9 needs Python 3.11; kept for older Sphinx
        import tomli as tomllib
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


class ExtrasDirective(SphinxDirective):
    """``adfun-extras``: the optional dependencies of ``pyproject.toml`` as a table."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.srcdir).parent
        self.env.note_dependency(str(root / "pyproject.toml"))
        extras = read_pyproject(root)["project"].get("optional-dependencies", {})
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 12 50 38",
            "",
            "   * - extra",
            "     - installs",
            "     - for",
        ]
        for name, requirements in extras.items():
            lines += [
                f"   * - ``{name}``",
                "     - " + ", ".join(f"``{requirement}``" for requirement in requirements),
                "     - " + EXTRA_PURPOSES.get(name, "").replace("`", "``"),
            ]
        container = nodes.container(classes=["adfun-extras"])
        self.state.nested_parse(StringList(lines, source="pyproject.toml"), self.content_offset,
                                container)
        return [container]


def configure_mathjax(app: Any, config: Any) -> None:
    mathjax_directory()  # fail early, with the advice, when MathJax is not installed
    config.mathjax_path = "mathjax/tex-chtml.js"


def setup(app: Any) -> dict:
    app.connect("config-inited", configure_mathjax)
    app.connect("build-finished", copy_mathjax)
    app.connect("doctree-resolved", wrap_long_lines)
    app.add_directive("adfun-extras", ExtrasDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
