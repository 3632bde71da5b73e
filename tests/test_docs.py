"""The documentation site builds with warnings as errors, and its doctests pass.

Needs the ``docs`` extra (``pip install -e ".[test,docs]"``, as the README's set-up does);
skipped when Sphinx is not installed.
"""

from __future__ import annotations

import html as html_module
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

pytest.importorskip("sphinx")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("myst_parser")
pytest.importorskip("furo")
pytest.importorskip("sphinx_copybutton")
if __import__("importlib.util").util.find_spec("sphinx-mathjax-offline") is None:
    pytest.skip("needs sphinx-mathjax-offline (the docs extra)", allow_module_level=True)


def _sphinx(builder: str, output: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", *options, "-b", builder, str(DOCS), str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_environment(),
    )


def _environment() -> dict:
    import os

    environment = dict(os.environ)
    environment["MPLBACKEND"] = "Agg"
    return environment


@pytest.mark.slow
def test_html_site_builds_without_warnings(tmp_path):
    result = _sphinx("html", tmp_path / "html", "-W", "--keep-going", "-n", "-q")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    html = tmp_path / "html"
    assert (html / "index.html").exists()
    assert (html / "coverage.html").exists()
    # Math renders offline: MathJax is served from the site itself.
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    conventions = (html / "conventions.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in conventions
    assert "cdn.jsdelivr" not in conventions
    # Copy buttons that strip prompts.
    assert (html / "_static" / "copybutton.js").is_file()
    assert ">>> |" in (html / "_static" / "copybutton.js").read_text(encoding="utf-8")
    # One page per function; the rule table's pages show their rules and an example.
    sin = (html / "api" / "generated" / "adfun.numpy.sin.html").read_text(encoding="utf-8")
    text = html_module.unescape(re.sub(r"<[^>]+>", "", sin))
    assert "Derivative rules" in text and "def derivative(ans, x):" in text
    assert "Example" in text and "ad.grad(lambda x: anp.sum(anp.sin(x)))(x)" in text
    grad = (html / "api" / "generated" / "adfun.grad.html").read_text(encoding="utf-8")
    assert "See also" in grad or "See Also" in grad
    assert "adfun.value_and_grad.html" in grad
    # The composites have rows in the coverage table.
    coverage = (html / "coverage.html").read_text(encoding="utf-8")
    assert "rule-table check" in coverage and "adfun.numpy.var.html" in coverage
    # The extras table comes from pyproject.toml; long error messages wrap.
    installation = (html / "installation.html").read_text(encoding="utf-8")
    assert "sphinx-mathjax-offline" in installation
    assert "adfun-wrap" in (html / "errors.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_doctests_of_pages_and_docstrings_pass(tmp_path):
    result = _sphinx("doctest", tmp_path / "doctest", "-q")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = (tmp_path / "doctest" / "output.txt").read_text()
    assert "0 failures in tests" in report
