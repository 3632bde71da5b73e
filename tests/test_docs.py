"""The documentation site builds with warnings as errors, and its doctests pass.

Needs the ``docs`` extra (``pip install -e ".[test,docs]"``, as the README's set-up does);
skipped when Sphinx is not installed.
"""

from __future__ import annotations

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
    assert (tmp_path / "html" / "index.html").exists()
    assert (tmp_path / "html" / "coverage.html").exists()


@pytest.mark.slow
def test_doctests_of_pages_and_docstrings_pass(tmp_path):
    result = _sphinx("doctest", tmp_path / "doctest", "-q")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = (tmp_path / "doctest" / "output.txt").read_text()
    assert "0 failures in tests" in report
