"""mypy checks user code against adfun's annotations.

The transforms that return a function taking ``fun``'s arguments (``grad``,
``value_and_grad``, ``elementwise_grad``, ``jacobian``, ``jacrev``, ``jacfwd``,
``hessian``, ``checkpoint``, ``jit``, ``primitive``) are typed with ``ParamSpec``: a
misspelt keyword is an error, and the result is a callable with ``fun``'s parameters,
not ``Any``.  One mypy run checks two small programs (one with deliberate errors, one
correct) that import adfun from this checkout; errors inside adfun itself are the
business of ``tests/test_lint.py``, so they are silenced here (``--follow-imports=silent``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason='mypy is not installed (python -m pip install -e ".[lint]")',
)

BAD = """\
import numpy as np

import adfun as ad


def f(x: float, y: int = 0) -> float:
    return x * 2.0


ad.grad(f, argnum=0)  # line 10: misspelt keyword of the transform
reveal_type(ad.grad(f))  # line 11
reveal_type(ad.jit(f))  # line 12
ad.grad(f)(1.0, z=3)  # line 13: a keyword f does not have
ad.jacobian(f)("one")  # line 14: an argument of the wrong type
reveal_type(ad.value_and_grad(f))  # line 15
"""

GOOD = """\
from typing import Any

import numpy as np

import adfun as ad
import adfun.numpy as anp


def loss(w: np.ndarray, x: np.ndarray, *, scale: float = 1.0) -> Any:
    return anp.sum(anp.tanh(x @ w) ** 2) * scale


def pair(w: np.ndarray, x: np.ndarray) -> Any:
    return loss(w, x), anp.sum(w)


w = np.ones(3)
x = np.ones((2, 3))
g = ad.grad(loss)(w, x, scale=2.0)
gw, gx = ad.grad(loss, argnums=(0, 1))(w, x)
value, gradient = ad.value_and_grad(loss)(w, x)
(value, aux), gradient = ad.value_and_grad(pair, has_aux=True)(w, x)
e = ad.elementwise_grad(anp.sin)(w)
j = ad.jacobian(loss)(w, x)
jr = ad.jacrev(loss, 1)(w, x, scale=0.5)
jf = ad.jacfwd(loss)(w, x)
h = ad.hessian(loss)(w, x)
block = ad.checkpoint(loss)
total = ad.grad(lambda v: block(v, x))(w)
fast = ad.jit(loss)
out = fast(w, x, scale=3.0)
info = fast.cache_info()
staged = ad.jit(ad.grad(loss))(w, x)


@ad.primitive
def cube(t: np.ndarray) -> np.ndarray:
    return t**3


cube.defvjp(lambda g, ans, t: g * 3 * t**2)
c = cube(w)
"""


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """mypy's messages for each program, by file name (``bad.py``, ``good.py``)."""
    folder = tmp_path_factory.mktemp("typing")
    (folder / "bad.py").write_text(BAD)
    (folder / "good.py").write_text(GOOD)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            os.devnull,
            "--ignore-missing-imports",
            "--follow-imports=silent",
            "--show-error-codes",
            "--no-error-summary",
            "--cache-dir",
            str(folder / "cache"),
            str(folder / "bad.py"),
            str(folder / "good.py"),
        ],
        cwd=folder,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), f"mypy crashed:\n{result.stdout}{result.stderr}"
    messages: dict[str, list[str]] = {"bad.py": [], "good.py": []}
    for line in result.stdout.splitlines():
        name = Path(line.split(":", 1)[0]).name
        assert name in messages, f"unexpected mypy output:\n{result.stdout}"
        messages[name].append(line)
    return messages


def _at(messages: list[str], line: int) -> list[str]:
    """The messages about ``line``, with ``builtins.`` dropped (mypy versions differ)."""
    return [
        message.replace("builtins.", "")
        for message in messages
        if re.match(rf"[^:]*:{line}: ", message)
    ]


def test_misspelt_keyword_of_a_transform_is_an_error(mypy_output):
    found = _at(mypy_output["bad.py"], 10)
    assert any(": error: " in message and '"argnum"' in message for message in found), found


def test_transformed_function_keeps_the_parameters(mypy_output):
    (grad_type,) = _at(mypy_output["bad.py"], 11)
    assert 'Revealed type is "def (x: float, y: int =) -> Any"' in grad_type
    (jit_type,) = _at(mypy_output["bad.py"], 12)
    assert "Jitted[[x: float, y: int =], float]" in jit_type
    (value_and_grad_type,) = _at(mypy_output["bad.py"], 15)
    assert "def (x: float, y: int =) -> tuple[Any, Any]" in value_and_grad_type


def test_calls_of_the_transformed_function_are_checked(mypy_output):
    bad = mypy_output["bad.py"]
    assert any('Unexpected keyword argument "z"' in message for message in _at(bad, 13)), bad
    assert any("[arg-type]" in message for message in _at(bad, 14)), bad


def test_correct_program_type_checks_cleanly(mypy_output):
    assert mypy_output["good.py"] == []


def test_only_the_deliberate_mistakes_are_reported(mypy_output):
    assert all(
        int(message.split(":")[1]) in (10, 11, 12, 13, 14, 15) for message in mypy_output["bad.py"]
    )
