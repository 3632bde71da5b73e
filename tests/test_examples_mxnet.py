"""The MXNet-style examples run and print what MXNet prints."""

from __future__ import annotations

import pathlib
import re
import runpy

import numpy as np

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"

# What MXNet 1.x prints for the deterministic part of its autograd tutorial.
EXPECTED_START = (
    "\n[[ 4.  8.]\n [12. 16.]]\n<NDArray 2x2 @cpu(0)>\n"
    "\n[10.]\n<NDArray 1 @cpu(0)>\n"
    "\n[[40.    8.  ]\n [ 1.2   0.16]]\n<NDArray 2x2 @cpu(0)>\n"
)


def test_mxnet_tutorial_prints_what_mxnet_prints(capsys):
    namespace = runpy.run_path(str(EXAMPLES / "mxnet_tutorial.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert out.startswith(EXPECTED_START)
    rest = out[len(EXPECTED_START) :]
    # The control-flow part depends on random numbers: check it against head * c / a.
    a, c, head = namespace["a"], namespace["c"], namespace["head_gradient"]
    expected_grad = head.asnumpy() * c.asnumpy() / a.asnumpy()
    np.testing.assert_allclose(a.grad.asnumpy(), expected_grad, rtol=1e-5)
    assert rest == f"{a.grad}\n{head * c / a}\n"
    blocks = re.findall(r"\n(\[[^<]*\])\n<NDArray 3 @cpu\(0\)>\n", rest)
    assert len(blocks) == 2
    printed = np.array(blocks[0].strip("[]").split(), dtype=np.float32)
    np.testing.assert_allclose(printed, expected_grad, rtol=1e-3)
    # the loop ran until the norm reached 1000, and the branch chose 1 or 100
    assert np.linalg.norm(namespace["b"].asnumpy()) >= 1000
    ratio = c.asnumpy() / a.asnumpy()
    assert np.allclose(ratio, ratio[0]) and ratio[0] >= 2


def test_linear_regression_example_fits_and_the_loss_falls(capsys):
    namespace = runpy.run_path(
        str(EXAMPLES / "linear_regression_mxnet_style.py"), run_name="__main__"
    )
    out = capsys.readouterr().out
    losses = [float(value) for value in re.findall(r"epoch \d+, loss ([0-9.e-]+)", out)]
    assert len(losses) == 3
    assert losses[0] > losses[1] > losses[2]
    assert losses[-1] < 1e-3
    np.testing.assert_allclose(namespace["w"].asnumpy().ravel(), [2, -3.4], atol=0.01)
    assert abs(namespace["b"].asscalar() - 4.2) < 0.01
