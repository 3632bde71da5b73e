"""Smoke test of the gallery examples: each examples/plot_*.py runs to completion.

The examples are also executed by the documentation build (sphinx-gallery); this test
catches a broken example without building the site.  Matplotlib's non-interactive Agg
backend is used, so no window opens; SciPy is needed by one example.
"""

from __future__ import annotations

import runpy
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


def test_there_are_gallery_examples():
    names = {path.name for path in EXAMPLES}
    assert {
        "plot_tanh_derivatives.py",
        "plot_logistic_regression.py",
        "plot_newton_rosenbrock.py",
    } <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_runs(path, capsys):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    source = path.read_text(encoding="utf-8")
    if "scipy" in source:
        pytest.importorskip("scipy")
    if "sklearn" in source:
        pytest.importorskip("sklearn")
    try:
        with warnings.catch_warnings():
            # plt.show() on the Agg backend only says that it cannot show anything.
            warnings.filterwarnings("ignore", message=".*non-interactive.*", category=UserWarning)
            namespace = runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
    assert capsys.readouterr().out.strip(), f"{path.name} printed nothing"
    check = RESULT_CHECKS.get(path.name)
    if check is not None:
        check(namespace)


def _check_tanh(namespace):
    x = namespace["x"]
    first = namespace["functions"][1](x)
    np.testing.assert_allclose(first, 1.0 - np.tanh(x) ** 2, atol=1e-12)


def _check_logistic(namespace):
    assert namespace["result"].success
    assert namespace["accuracy"] > 0.85
    assert namespace["error"] < 1e-5


def _check_newton(namespace):
    np.testing.assert_allclose(namespace["x"], [1.0, 1.0], atol=1e-8)
    assert len(namespace["path"]) < 40


def _check_graph(namespace):
    names = [node.primitive.name for node in namespace["graph"].nodes]
    assert names.count("input") == 4 and names[-1] == "mean"


def _check_mlp(namespace):
    assert namespace["accuracy"] > 0.9
    assert namespace["losses"][-1] < namespace["losses"][0] / 3


def _check_custom_primitive(namespace):
    assert abs(namespace["dE_dM"] - namespace["fd_M"]) < 1e-7
    assert abs(namespace["dE_de"] - namespace["fd_e"]) < 1e-7
    assert abs(namespace["forward"] - namespace["dE_dM"]) < 1e-12


#: What each example must have computed (beyond running without an error).
def _check_per_example(namespace):
    assert namespace["same"]  # vmap(grad) equals the loop of grad
    assert namespace["found"] >= 0.75 * len(namespace["flipped"])


RESULT_CHECKS = {
    "plot_tanh_derivatives.py": _check_tanh,
    "plot_logistic_regression.py": _check_logistic,
    "plot_newton_rosenbrock.py": _check_newton,
    "plot_graph.py": _check_graph,
    "plot_custom_primitive.py": _check_custom_primitive,
    "plot_mlp_digits.py": _check_mlp,
    "plot_per_example_gradients.py": _check_per_example,
}
