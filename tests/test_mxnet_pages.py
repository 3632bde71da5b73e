"""MXNet's "crash course" autograd page and NDArray gotchas page, run against adfun.

The snippets of MXNet 1.9.1's ``getting-started/crash-course/3-autograd.md`` and
``packages/ndarray/gotchas_numpy_in_mxnet.md`` are rewritten here as small functions that
print what the pages print, and the captured text is compared with what MXNet 1.x prints
(the pages' own output lines, or the output MXNet's notebook build shows for them).
Where a page draws random numbers the check is on the structure of the text and on the
values the page's prose promises.  The gotchas page's Gluon loop (``LossBuffer``) uses
``gluon.nn.Dense``, ``SoftmaxCELoss``, ``DataLoader`` and ``Trainer``, which adfun does
not have; it is rewritten with the ``nd`` operators those Gluon blocks stand for.
"""

from __future__ import annotations

import re

import numpy as np

import adfun
from adfun import autograd, nd

NDARRAY_TEXT = re.compile(r"\n(\[[^<]*\])\n<NDArray (\d+(?:x\d+)*) @cpu\(0\)>")


def _values(text: str) -> np.ndarray:
    return np.array(text.replace("[", " ").replace("]", " ").split(), dtype=np.float32)


# -- crash course: automatic differentiation with autograd ---------------------------


def test_crash_course_basic_usage_prints_what_mxnet_prints(capsys):
    x = nd.array([[1, 2], [3, 4]])
    print(repr(x))
    x.attach_grad()
    with autograd.record():
        y = 2 * x * x
    y.backward()
    print(repr(x.grad))
    assert capsys.readouterr().out == (
        "\n[[1. 2.]\n [3. 4.]]\n<NDArray 2x2 @cpu(0)>\n"
        "\n[[ 4.  8.]\n [12. 16.]]\n<NDArray 2x2 @cpu(0)>\n"
    )


def _double_until_large(a):
    # the page's ``f``: double until the norm reaches 1000, then pick by the sum's sign
    b = a * 2
    while b.norm().asscalar() < 1000:
        b = b * 2
    c = b[0] if b.sum().asscalar() >= 0 else b[1]
    return b, c


def test_crash_course_control_flow_prints_what_mxnet_prints(capsys):
    adfun.random.seed(7)
    a = nd.random.uniform(shape=2)
    a.attach_grad()
    with autograd.record():
        b, c = _double_until_large(a)
    c.backward()
    print([a.grad, c / a])
    out = capsys.readouterr().out
    # MXNet prints a list of two NDArrays: "[<repr>, <repr>]"
    assert out.startswith("[\n[") and out.endswith("<NDArray 2 @cpu(0)>]\n")
    assert ", \n[" in out
    blocks = NDARRAY_TEXT.findall(out)
    assert [shape for _, shape in blocks] == ["2", "2"]
    # indexing a 1-D NDArray with an int gives shape (1,), as in MXNet 1.x
    assert c.shape == (1,)
    assert np.linalg.norm(b.asnumpy()) >= 1000
    grad, ratio = _values(blocks[0][0]), _values(blocks[1][0])
    # the page: the gradient is [c/a[0], 0] or [0, c/a[1]]
    chosen = 0 if b.sum().asscalar() >= 0 else 1
    np.testing.assert_allclose(grad[chosen], ratio[chosen], rtol=1e-4)
    assert grad[1 - chosen] == 0
    assert np.log2(grad[chosen]) == np.round(np.log2(grad[chosen]))


def test_autograd_package_page_nd_snippets_print_what_mxnet_prints(capsys):
    x = nd.array([1, 2, 3])
    x.attach_grad()
    with autograd.record():
        y = 2 * x**2
    y.backward()
    print(x.grad)

    x = nd.array([2])
    x.attach_grad()
    with autograd.record():
        y = x**3
    head = nd.array(2 * y.asnumpy())  # dz/dy for z = y**2, computed outside autograd
    y.backward(head)
    print(x.grad)
    assert capsys.readouterr().out == (
        "\n[ 4.  8. 12.]\n<NDArray 3 @cpu(0)>\n\n[192.]\n<NDArray 1 @cpu(0)>\n"
    )


def test_autograd_package_page_piecewise_polynomial_gradients():
    def piecewise(x):
        y = x
        if x < 0.75:
            for _ in range(int(np.floor(1 / (1 - x.asscalar())))):
                y = y * x
        else:
            y = y * 0
        return y

    grads = []
    for x in nd.arange(0.0, 1.0, step=0.1):
        x.attach_grad()
        with autograd.record():
            y = piecewise(x)
        y.backward()
        grads.append(x.grad.asscalar())
    # the page: 2x, then 3x^2 (1.08 at 0.6), 4x^3, then flat
    np.testing.assert_allclose(
        grads, [0.0, 0.2, 0.4, 0.6, 0.8, 0.75, 1.08, 1.372, 0.0, 0.0], rtol=1e-5, atol=1e-6
    )
    assert all(isinstance(value, np.float32) for value in grads)


# -- gotchas using NumPy in MXNet -----------------------------------------------------


def test_gotchas_full_like_replacement_prints_true(capsys):
    numpy_filled = np.full_like(np.arange(6, dtype=int), fill_value=10)
    nd_filled = nd.ones(shape=(6,)) * 10
    print(np.array_equal(numpy_filled, nd_filled.asnumpy()))
    assert capsys.readouterr().out == "True\n"


def _pad_to(data, max_length):
    # nd.pad only takes 4-D (or 5-D) input: lift, pad the last axis, drop the extra axes
    lifted = data.reshape(1, 1, 1, data.shape[0])
    widths = [0, 0, 0, 0, 0, 0, 0, max_length - data.shape[0]]
    return nd.pad(lifted, mode="constant", pad_width=widths, constant_value=0).reshape(max_length)


def test_gotchas_pad_array_prints_what_mxnet_prints(capsys):
    print(repr(_pad_to(nd.array([1, 2, 3]), max_length=10)))
    # the page shows NumPy < 1.14's spacing ("[ 1.  2. ...]"); MXNet on NumPy >= 1.14
    # prints the same values without the leading space, as here
    assert capsys.readouterr().out == ("\n[1. 2. 3. 0. 0. 0. 0. 0. 0. 0.]\n<NDArray 10 @cpu(0)>\n")


def test_gotchas_loss_buffer_loop_prints_one_loss_per_batch_after_the_first(capsys):
    class LossBuffer:
        def __init__(self):
            self._loss = None

        def new_loss(self, loss):
            previous, self._loss = self._loss, loss
            return previous

        @property
        def loss(self):
            return self._loss

    adfun.random.seed(0)
    generator = np.random.default_rng(0)
    data = nd.random.uniform(shape=(1024, 100))
    label = nd.array(generator.integers(0, 10, (1024,)), dtype="int32")
    # gluon.nn.Dense(10) initialised as Gluon does (uniform(-0.07, 0.07), zero bias)
    weight = nd.random.uniform(-0.07, 0.07, shape=(10, 100))
    bias = nd.zeros(10)
    for parameter in (weight, bias):
        parameter.attach_grad()
    buffer = LossBuffer()
    order = generator.permutation(1024)
    for start in range(0, 1024, 128):
        rows = nd.array(order[start : start + 128], dtype="int32")
        batch, batch_label = nd.take(data, rows), nd.take(label, rows)
        with autograd.record():
            out = nd.FullyConnected(batch, weight, bias, num_hidden=10)
            # gluon.loss.SoftmaxCELoss: -log softmax at the label
            previous = buffer.new_loss(-nd.pick(nd.log_softmax(out), batch_label))
        buffer.loss.backward()
        for parameter in (weight, bias):  # Trainer.step with sgd, rescaled by batch size
            parameter[:] = parameter - 0.01 * parameter.grad / batch.shape[0]
        if previous is not None:
            print(f"Loss: {np.mean(previous.asnumpy())}")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7
    losses = [float(line.removeprefix("Loss: ")) for line in lines]
    assert all(line.startswith("Loss: ") for line in lines)
    # ten classes, near-zero weights: the loss sits near log(10), as the page shows
    np.testing.assert_allclose(losses, np.log(10), atol=0.1)


def test_gotchas_blocking_calls_exist_and_return_the_values():
    # the page names the calls that wait for MXNet's engine; adfun is eager, they return
    c = nd.array([1.5, 2.5]) * nd.array([2, 2])
    c.wait_to_read()
    assert nd.waitall() is None
    assert c.asnumpy().tolist() == [3.0, 5.0] and c[1].asscalar() == np.float32(5.0)
    # the operators the page points to as NumPy's near-equivalents
    assert nd.ravel_multi_index(nd.array([[1], [2]]), shape=(3, 4)).asnumpy().tolist() == [6]
    assert [part.shape for part in nd.split(nd.ones((2, 6)), num_outputs=3)] == [(2, 2)] * 3
    assert nd.diag(nd.array([[1, 2], [3, 4]])).asnumpy().tolist() == [1, 4]
