"""The linters pass: ``ruff check``, ``ruff format --check`` and ``mypy adfun``.

They are pinned in the ``lint`` extra (``python -m pip install -e ".[test,lint]"``) and
configured in ``pyproject.toml``; without them installed this test is skipped.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _skip_without(module: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None,
        reason=f'{module} is not installed (python -m pip install -e ".[lint]")',
    )


COMMANDS = [
    pytest.param(["ruff", "check", "adfun", "tests"], id="ruff-check", marks=_skip_without("ruff")),
    pytest.param(
        ["ruff", "format", "--check", "adfun", "tests"],
        id="ruff-format",
        marks=_skip_without("ruff"),
    ),
    pytest.param(["mypy", "adfun"], id="mypy", marks=_skip_without("mypy")),
]


@pytest.mark.parametrize("command", COMMANDS)
def test_linter_passes(command):
    result = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"`python -m {' '.join(command)}` failed (exit {result.returncode}):\n"
        f"{result.stdout}{result.stderr}"
    )
