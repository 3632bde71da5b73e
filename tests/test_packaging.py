"""What a packager gets: one version, the license in both archives, an sdist whose tests run.

The archives are built in-process with the installed setuptools (no network, no build
isolation); these tests are skipped, with the reason, where it is older than the
``build-system`` table asks for.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import adfun

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"

pytestmark = pytest.mark.skipif(
    not PYPROJECT.is_file(), reason="needs the source tree (pyproject.toml is not here)"
)


def _pyproject() -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def test_version_has_one_source():
    project = _pyproject()
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "adfun.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", adfun.__version__)


def test_license_is_an_spdx_expression_with_its_file():
    project = _pyproject()["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")


def test_no_message_or_page_advises_installing_adfun_from_an_index():
    # adfun is installed from a clone; "pip install adfun[...]" would fetch nothing (or
    # someone else's package). Name what to install instead.
    pattern = re.compile(r"pip install\s+[\"']?adfun\b")
    offenders = []
    for folder in ("adfun", "docs", "examples", "benchmarks"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".rst"} and "_build" not in path.parts:
                if pattern.search(path.read_text(encoding="utf-8")):
                    offenders.append(str(path.relative_to(ROOT)))
    for name in ("README.md", "CONTRIBUTING.md"):
        if pattern.search((ROOT / name).read_text(encoding="utf-8")):
            offenders.append(name)
    assert offenders == []


def _setuptools_is_recent() -> bool:
    import setuptools

    major = int(setuptools.__version__.split(".")[0])
    return major >= 77


needs_setuptools = pytest.mark.skipif(
    not _setuptools_is_recent(),
    reason="building the archives needs setuptools>=77 (the license is an SPDX expression); "
    "pip install 'setuptools>=77'",
)


def _build(kind: str, directory: Path) -> Path:
    """Build the sdist or the wheel into ``directory`` with the installed setuptools."""
    code = (
        "import sys\nfrom setuptools import build_meta\n"
        f"print(build_meta.build_{kind}(sys.argv[1]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(directory)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return directory / result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> Path:
    return _build("sdist", tmp_path_factory.mktemp("sdist"))


@needs_setuptools
def test_wheel_carries_license_types_and_version(tmp_path):
    wheel = _build("wheel", tmp_path)
    assert wheel.name.startswith(f"adfun-{adfun.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = archive.read(metadata_name).decode()
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "adfun/py.typed" in names
    assert "License-Expression: MIT" in metadata
    assert f"Version: {adfun.__version__}" in metadata
    assert not any(name.startswith("tests/") for name in names)


@needs_setuptools
def test_sdist_carries_what_the_tests_read(sdist):
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for required in (
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "CONTRIBUTING.md",
        "pyproject.toml",
        "adfun/py.typed",
        "tests/conftest.py",
        "docs/conf.py",
        "docs/_static/benchmarks.json",
        "examples/quickstart.py",
        "benchmarks/suite.py",
    ):
        assert required in names, required
    assert not any(name.startswith(("docs/_build/", "docs/api/")) for name in names)


@needs_setuptools
@pytest.mark.slow
def test_tests_pass_from_the_extracted_sdist(sdist, tmp_path):
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    (source,) = tmp_path.iterdir()
    environment = {**os.environ, "PYTHONPATH": str(source)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_packaging.py",
            "tests/test_flatten.py",
            "-k",
            "not extracted_sdist",
        ],
        cwd=source,
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout
    # The adfun of the extracted archive was tested, not this checkout's.
    check = subprocess.run(
        [sys.executable, "-c", "import adfun; print(adfun.__file__)"],
        cwd=source,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert check.stdout.strip().startswith(str(source))
