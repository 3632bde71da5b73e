"""adfun.nd's MXNet operators: values MXNet 1.9.1 gives (from its operator docs and
definitions), argument errors, and derivatives against finite differences in both modes.

The derivative checks call the public ``nd`` functions on plain float64 arrays: there the
operators run on ``adfun.numpy``'s traced values, so ``check_grads`` sees exactly the
computation that ``autograd.record()`` records.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun
import adfun.numpy as anp
from adfun import autograd, nd
from adfun.testing import check_grads


def functional(op, *constants, **params):
    """``op`` as a function of plain arrays (the first output when it returns a list)."""

    def fun(*arrays):
        # recording, so that NDArrays computed inside ``op`` hand on their traced values
        with autograd.record(train_mode=autograd.is_training()):
            out = op(*arrays, *constants, **params)
        if isinstance(out, list):
            out = out[0]
        return out._tracer if out._tracer is not None else out._value

    return fun


def check(op, *arrays, constants=(), **params):
    check_grads(functional(op, *constants, **params), arrays, order=1, rtol=1e-4, atol=1e-6)


def arrays(shape, low=-2.0, high=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high, width=32))


def distinct(shape):
    """Values at least 0.01 apart and away from 0 (no ties, no kink at 0)."""
    size = int(np.prod(shape))
    return st.lists(
        st.integers(-300, 300).filter(lambda i: i != 0),
        min_size=size,
        max_size=size,
        unique=True,
    ).map(lambda items: np.array(items, dtype=np.float64).reshape(shape) / 100.0)


# --- broadcast_* and elemwise_* ----------------------------------------------------------


def test_broadcast_family_values_and_dtypes():
    a, b = nd.array([[1], [2]]), nd.array([1, 3, 4])
    assert nd.broadcast_add(a, b).asnumpy().tolist() == [[2, 4, 5], [3, 5, 6]]
    assert nd.broadcast_plus(a, b).shape == (2, 3)
    assert nd.broadcast_sub(a, b).asnumpy().tolist() == [[0, -2, -3], [1, -1, -2]]
    assert nd.broadcast_minus(a, b).asnumpy().tolist() == [[0, -2, -3], [1, -1, -2]]
    assert nd.broadcast_mul(a, b).asnumpy().tolist() == [[1, 3, 4], [2, 6, 8]]
    assert nd.broadcast_div(a, b).asnumpy()[1].tolist() == pytest.approx([2, 2 / 3, 0.5])
    assert nd.broadcast_mod(nd.array([-3, 5]), nd.array([2, -3])).asnumpy().tolist() == [1, -1]
    assert nd.broadcast_power(a, b).asnumpy().tolist() == [[1, 1, 1], [2, 8, 16]]
    assert nd.broadcast_maximum(a, b).asnumpy().tolist() == [[1, 3, 4], [2, 3, 4]]
    assert nd.broadcast_minimum(a, b).asnumpy().tolist() == [[1, 1, 1], [1, 2, 2]]
    assert nd.broadcast_hypot(nd.array([3]), nd.array([4])).asnumpy().tolist() == [5]
    equal = nd.broadcast_equal(a, nd.array([1, 2]))
    assert equal.asnumpy().tolist() == [[1, 0], [0, 1]] and equal.dtype is np.float32
    assert nd.broadcast_not_equal(a, nd.array([1, 2])).asnumpy().tolist() == [[0, 1], [1, 0]]
    assert nd.broadcast_greater(a, nd.array([1])).asnumpy().tolist() == [[0], [1]]
    assert nd.broadcast_greater_equal(a, nd.array([2])).asnumpy().tolist() == [[0], [1]]
    assert nd.broadcast_lesser(a, nd.array([2])).asnumpy().tolist() == [[1], [0]]
    assert nd.broadcast_lesser_equal(a, nd.array([1])).asnumpy().tolist() == [[1], [0]]
    zero_one = nd.array([0, 1, 2])
    assert nd.broadcast_logical_and(zero_one, nd.array([1])).asnumpy().tolist() == [0, 1, 1]
    assert nd.broadcast_logical_or(zero_one, nd.array([0])).asnumpy().tolist() == [0, 1, 1]
    assert nd.broadcast_logical_xor(zero_one, nd.array([1])).asnumpy().tolist() == [1, 0, 0]
    assert nd.broadcast_equal(nd.array([1], dtype="float64"), 1.0).dtype is np.float64


def test_elemwise_family_needs_equal_shapes():
    a, b = nd.array([4, 6]), nd.array([2, 3])
    assert nd.elemwise_add(a, b).asnumpy().tolist() == [6, 9]
    assert nd.elemwise_sub(a, b).asnumpy().tolist() == [2, 3]
    assert nd.elemwise_mul(a, b).asnumpy().tolist() == [8, 18]
    assert nd.elemwise_div(a, b).asnumpy().tolist() == [2, 2]
    with pytest.raises(
        ValueError,
        match=r"elemwise_add: the operands must have the same "
        r"shape, got \(2,\) and \(1, 2\); use broadcast_add",
    ):
        nd.elemwise_add(a, nd.ones((1, 2)))


@pytest.mark.parametrize(
    "name",
    [
        "broadcast_add",
        "broadcast_sub",
        "broadcast_mul",
        "broadcast_div",
        "broadcast_power",
        "broadcast_hypot",
        "broadcast_mod",
        "broadcast_maximum",
        "broadcast_minimum",
    ],
)
@given(lhs=distinct((2, 1)), rhs=distinct((1, 3)))
def test_broadcast_gradients(name, lhs, rhs):
    rhs = rhs + 0.005  # never equal to an entry of lhs: no ties for maximum / minimum
    if name == "broadcast_power":
        lhs = np.abs(lhs) + 0.5
    if name == "broadcast_mod":
        # stay away from the jumps of the remainder
        lhs, rhs = np.abs(lhs) * 0.2 + 0.3, np.abs(rhs) + 1.0
    check(getattr(nd, name), lhs, rhs)


@pytest.mark.parametrize("name", ["elemwise_add", "elemwise_sub", "elemwise_mul"])
@given(lhs=arrays((2, 3)), rhs=arrays((2, 3)))
def test_elemwise_gradients(name, lhs, rhs):
    check(getattr(nd, name), lhs, rhs)


# --- dot ---------------------------------------------------------------------------------


def test_dot_transposes_follow_mxnet_for_n_d_operands():
    a = nd.arange(24).reshape((2, 3, 4))
    b = nd.arange(8).reshape((2, 4))
    # transpose_a contracts the first axis; the others stay in order: (3, 4) x (2, 4)->(3,4,4)
    out = nd.dot(a, b, transpose_a=True)
    assert out.shape == (3, 4, 4)
    expected = np.tensordot(np.moveaxis(a.asnumpy(), 0, -1), b.asnumpy(), 1)
    np.testing.assert_allclose(out.asnumpy(), expected)
    assert nd.dot(b, a.reshape((4, 6)).T, transpose_b=True).shape == (2, 6)
    c = nd.arange(24).reshape((3, 2, 4))
    out = nd.dot(b, c, transpose_b=True)
    assert out.shape == (2, 3, 2)
    np.testing.assert_allclose(out.asnumpy(), np.einsum("ik,abk->iab", b.asnumpy(), c.asnumpy()))
    assert nd.dot(nd.ones(3), nd.ones(3)).shape == (1,)
    with pytest.raises(ValueError, match=r"dot: cannot transpose the 1-D lhs"):
        nd.dot(nd.ones(3), nd.ones((3, 2)), transpose_a=True)


@given(a=arrays((3, 2, 2)), b=arrays((3, 2)))
def test_dot_gradients(a, b):
    check(nd.dot, a, b, transpose_a=True)
    check(nd.dot, b.T, a)
    check(nd.dot, b.T, a.reshape((3, 4)).T, transpose_b=True)


# --- neural network layers ---------------------------------------------------------------


def test_fully_connected_shapes_values_and_errors():
    x = nd.arange(24).reshape((2, 3, 4))
    w = nd.ones((5, 12))
    out = nd.FullyConnected(x, w, nd.arange(5), num_hidden=5)
    assert out.shape == (2, 5)
    assert out.asnumpy()[0].tolist() == [66, 67, 68, 69, 70]
    out = nd.FullyConnected(x, nd.ones((2, 4)), no_bias=True, num_hidden=2, flatten=False)
    assert out.shape == (2, 3, 2) and out.asnumpy()[0, 0].tolist() == [6, 6]
    with pytest.raises(
        ValueError,
        match=r"FullyConnected: weight has shape \(5, 4\), "
        r"expected \(5, 12\)",
    ):
        nd.FullyConnected(x, nd.ones((5, 4)), nd.zeros(5), num_hidden=5)
    with pytest.raises(
        TypeError,
        match=r"FullyConnected: the input bias \(or pass "
        r"no_bias=True\) is required",
    ):
        nd.FullyConnected(x, w, num_hidden=5)
    with pytest.raises(TypeError, match=r"FullyConnected: num_hidden is required"):
        nd.FullyConnected(x, w, nd.zeros(5))
    with pytest.raises(ValueError, match=r"FullyConnected: bias has shape \(4,\), expected"):
        nd.FullyConnected(x, w, nd.zeros(4), num_hidden=5)


@given(x=arrays((2, 3, 2)), w=arrays((4, 6)), b=arrays((4,)))
def test_fully_connected_gradients(x, w, b):
    check(nd.FullyConnected, x, w, b, num_hidden=4)
    check(nd.FullyConnected, x, w[:, :2], num_hidden=4, no_bias=True, flatten=False)


def test_activation_values():
    x = nd.array([-1, 0, 2])
    got = {
        act: nd.Activation(x, act_type=act).asnumpy().tolist()
        for act in ("relu", "sigmoid", "tanh", "softrelu", "softsign")
    }
    assert got["relu"] == [0, 0, 2]
    np.testing.assert_allclose(got["sigmoid"], 1 / (1 + np.exp([1.0, 0, -2])), rtol=1e-6)
    np.testing.assert_allclose(got["tanh"], np.tanh([-1.0, 0, 2]), rtol=1e-6)
    np.testing.assert_allclose(got["softrelu"], np.log1p(np.exp([-1.0, 0, 2])), rtol=1e-6)
    np.testing.assert_allclose(got["softsign"], [-0.5, 0, 2 / 3], rtol=1e-6)
    assert nd.Activation(nd.array([1e4]), act_type="softrelu").asnumpy().tolist() == [1e4]
    with pytest.raises(ValueError, match=r"Activation: act_type must be one of "):
        nd.Activation(x, act_type="swish")


@pytest.mark.parametrize("act_type", ["relu", "sigmoid", "tanh", "softrelu", "softsign"])
@given(x=distinct((2, 3)))
def test_activation_gradients(act_type, x):
    check(nd.Activation, x, act_type=act_type)


def test_relu_gradient_at_zero_is_zero():
    x = nd.array([0.0, 1.0])
    x.attach_grad()
    with autograd.record():
        y = nd.Activation(x, act_type="relu")
    y.backward()
    assert x.grad.asnumpy().tolist() == [0, 1]


def test_leaky_relu_values():
    x = nd.array([-2.0, -0.5, 1.5])
    assert nd.LeakyReLU(x).asnumpy().tolist() == [-0.5, -0.125, 1.5]
    elu = nd.LeakyReLU(x, act_type="elu", slope=0.5).asnumpy()
    np.testing.assert_allclose(elu, [0.5 * np.expm1(-2), 0.5 * np.expm1(-0.5), 1.5], rtol=1e-6)
    selu = nd.LeakyReLU(x, act_type="selu").asnumpy()
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    np.testing.assert_allclose(
        selu, scale * np.array([alpha * np.expm1(-2), alpha * np.expm1(-0.5), 1.5]), rtol=1e-6
    )
    gelu = nd.LeakyReLU(x, act_type="gelu").asnumpy()
    # MXNet's gelu is the exact (erf) form, not the tanh approximation
    exact = 0.5 * np.array([-2, -0.5, 1.5]) * (1 + special.erf(np.array([-2, -0.5, 1.5]) / 2**0.5))
    np.testing.assert_allclose(gelu, exact, rtol=1e-6)
    data = nd.array([[[-1.0, 2.0]], [[-3.0, -4.0]]]).reshape((2, 2, 1))
    prelu = nd.LeakyReLU(data, nd.array([0.1, 0.5]), act_type="prelu")
    np.testing.assert_allclose(prelu.asnumpy().reshape(2, 2), [[-0.1, 2.0], [-0.3, -2.0]], 1e-6)
    assert nd.LeakyReLU(x, act_type="rrelu").asnumpy().tolist() == pytest.approx(
        [-2 * 0.2295, -0.5 * 0.2295, 1.5]
    )


def test_leaky_relu_rrelu_draws_slopes_while_training():
    adfun.random.seed(0)
    x = nd.full((200,), -1.0)
    with autograd.train_mode():
        slopes = -nd.LeakyReLU(x, act_type="rrelu", lower_bound=0.1, upper_bound=0.3).asnumpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.01


def test_leaky_relu_errors():
    with pytest.raises(ValueError, match=r"LeakyReLU: act_type must be 'leaky', 'prelu'"):
        nd.LeakyReLU(nd.ones(2), act_type="swish")
    with pytest.raises(TypeError, match=r"LeakyReLU: the input gamma \(act_type='prelu'\)"):
        nd.LeakyReLU(nd.ones(2), act_type="prelu")
    with pytest.raises(
        ValueError,
        match=r"LeakyReLU: gamma of shape \(3,\) cannot be "
        r"broadcast to data of shape \(2, 2\)",
    ):
        nd.LeakyReLU(nd.ones((2, 2)), nd.ones(3), act_type="prelu")


@pytest.mark.parametrize("act_type", ["leaky", "elu", "selu", "gelu"])
@given(x=distinct((2, 3)))
def test_leaky_relu_gradients(act_type, x):
    check(nd.LeakyReLU, x, act_type=act_type)


@given(x=distinct((2, 3, 2)), gamma=arrays((3,), 0.0, 1.0))
def test_prelu_gradients(x, gamma):
    check(nd.LeakyReLU, x, gamma, act_type="prelu")


def test_softmax_output_forward_and_mxnet_gradient():
    x = nd.array([[1, 2, 3], [1, 1, 1]])
    x.attach_grad()
    with autograd.record():
        p = nd.SoftmaxOutput(x, nd.array([2, 0]))
    p.backward()
    expected = np.exp([[1, 2, 3], [1, 1, 1]]) / np.exp([[1, 2, 3], [1, 1, 1]]).sum(1, keepdims=True)
    np.testing.assert_allclose(p.asnumpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), expected - [[0, 0, 1], [1, 0, 0]], rtol=1e-6)
    # the head gradient is ignored (as MXNet's SoftmaxOutput ignores it) unless out_grad
    with autograd.record():
        p = nd.SoftmaxOutput(x, nd.array([2, 0]), grad_scale=2.0, normalization="batch")
    p.backward(nd.full((2, 3), 5.0))
    np.testing.assert_allclose(x.grad.asnumpy(), expected - [[0, 0, 1], [1, 0, 0]], rtol=1e-6)
    with autograd.record():
        p = nd.SoftmaxOutput(x, nd.array([2, 0]), out_grad=True)
    p.backward(nd.full((2, 3), 5.0))
    np.testing.assert_allclose(x.grad.asnumpy(), 5 * (expected - [[0, 0, 1], [1, 0, 0]]), rtol=1e-6)


def test_softmax_output_options():
    x = nd.array([[1, 2, 3], [1, 1, 1], [0, 0, 0]])
    labels = nd.array([2, -1, 0])
    x.attach_grad()
    with autograd.record():
        p = nd.SoftmaxOutput(x, labels, use_ignore=True, normalization="valid")
    p.backward()
    soft = p.asnumpy()
    grad = x.grad.asnumpy()
    np.testing.assert_allclose(grad[1], 0)
    np.testing.assert_allclose(grad[0], (soft[0] - [0, 0, 1]) / 2, rtol=1e-6)
    with autograd.record():
        p = nd.SoftmaxOutput(x, labels, smooth_alpha=0.2)
    p.backward()
    np.testing.assert_allclose(x.grad.asnumpy()[0], soft[0] - [0.1, 0.1, 0.8], rtol=1e-5)
    # multi_output: softmax over axis 1 of (batch, classes, positions)
    y = nd.array(np.arange(12).reshape((2, 3, 2)))
    y.attach_grad()
    with autograd.record():
        q = nd.SoftmaxOutput(y, nd.array([[0, 1], [2, 2]]), multi_output=True)
    q.backward()
    assert q.shape == (2, 3, 2)
    np.testing.assert_allclose(q.asnumpy().sum(axis=1), 1, rtol=1e-6)
    hot = np.zeros((2, 3, 2))
    hot[0, 0, 0] = hot[0, 1, 1] = hot[1, 2, 0] = hot[1, 2, 1] = 1
    np.testing.assert_allclose(y.grad.asnumpy(), (q.asnumpy() - hot) / 2, rtol=1e-5)
    # preserve_shape: the last axis; probabilities as labels
    z = nd.array(np.arange(12).reshape((2, 2, 3)))
    out = nd.SoftmaxOutput(z, nd.zeros((2, 2)), preserve_shape=True)
    np.testing.assert_allclose(out.asnumpy().sum(axis=-1), 1, rtol=1e-6)
    assert nd.SoftmaxOutput(x, nd.ones((3, 3)) / 3).shape == (3, 3)
    with pytest.raises(ValueError, match=r"SoftmaxOutput: label has shape \(2,\) \(2 labels\)"):
        nd.SoftmaxOutput(x, nd.array([0, 1]))
    with pytest.raises(ValueError, match=r"SoftmaxOutput: normalization must be"):
        nd.SoftmaxOutput(x, labels, normalization="mean")


def test_softmax_output_forward_mode_uses_the_same_matrix():
    x = np.array([[1.0, 2.0, 3.0]])
    value, tangent = adfun.jvp(functional(nd.SoftmaxOutput, np.array([1.0])), (x,), (x * 0 + 1,))
    np.testing.assert_allclose(tangent, value - [[0, 1, 0]], rtol=1e-12)


def test_embedding():
    weight = nd.array([[0, 1], [2, 3], [4, 5]])
    weight.attach_grad()
    with autograd.record():
        out = nd.Embedding(nd.array([[2, 0], [7, 2]]), weight, input_dim=3, output_dim=2)
    out.backward()
    assert out.shape == (2, 2, 2)
    assert out.asnumpy().tolist() == [[[4, 5], [0, 1]], [[4, 5], [4, 5]]]  # 7 is clipped
    assert weight.grad.asnumpy().tolist() == [[1, 1], [0, 0], [3, 3]]
    with pytest.raises(ValueError, match=r"Embedding: weight has shape \(3, 2\), expected"):
        nd.Embedding(nd.array([0]), weight, input_dim=4, output_dim=2)
    with pytest.raises(TypeError, match=r"Embedding: input_dim and output_dim are required"):
        nd.Embedding(nd.array([0]), weight)


@given(weight=arrays((4, 3)))
def test_embedding_gradients(weight):
    indices = np.array([[3.0, 0.0], [1.0, 3.0]])
    check(lambda w: nd.Embedding(indices, w, input_dim=4, output_dim=3), weight)


def test_l2_normalization_modes():
    x = nd.array(np.arange(1, 9).reshape((2, 2, 2)))
    values = x.asnumpy().astype(np.float64)
    for mode, axes in (("instance", (1, 2)), ("channel", (1,)), ("spatial", (2,))):
        expected = values / np.sqrt((values**2).sum(axis=axes, keepdims=True) + 1e-10)
        np.testing.assert_allclose(nd.L2Normalization(x, mode=mode).asnumpy(), expected, 1e-6)
    with pytest.raises(ValueError, match=r"L2Normalization: mode must be 'instance'"):
        nd.L2Normalization(x, mode="batch")
    with pytest.raises(ValueError, match=r"mode='spatial' needs data with at least 3"):
        nd.L2Normalization(nd.ones((2, 2)), mode="spatial")


@pytest.mark.parametrize("mode", ["instance", "channel", "spatial"])
@given(x=arrays((2, 2, 3), 0.125, 2.0))
def test_l2_normalization_gradients(mode, x):
    check(nd.L2Normalization, x, mode=mode)


def test_layer_norm_values_and_outputs():
    x = nd.array([[1, 2, 3], [2, 2, 5]])
    out, mean, std = nd.LayerNorm(x, nd.array([1, 2, 3]), nd.array([0, 1, 0]), output_mean_var=True)
    values = x.asnumpy().astype(np.float64)
    norm = (values - values.mean(1, keepdims=True)) / np.sqrt(values.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out.asnumpy(), norm * [1, 2, 3] + [0, 1, 0], rtol=1e-5)
    assert mean.shape == std.shape == (2, 1)
    np.testing.assert_allclose(std.asnumpy()[:, 0], np.sqrt(values.var(1) + 1e-5), rtol=1e-6)
    assert nd.LayerNorm(x, nd.ones(2), nd.zeros(2), axis=0).shape == (2, 3)
    with pytest.raises(ValueError, match=r"LayerNorm: gamma has shape \(2,\), expected \(3,\)"):
        nd.LayerNorm(x, nd.ones(2), nd.zeros(3))
    with pytest.raises(ValueError, match=r"LayerNorm: axis 2 is out of range"):
        nd.LayerNorm(x, nd.ones(3), nd.zeros(3), axis=2)


@given(x=distinct((2, 4)), gamma=arrays((4,)), beta=arrays((4,)))
def test_layer_norm_gradients(x, gamma, beta):
    check(nd.LayerNorm, x, gamma, beta)
    check(nd.LayerNorm, x.T, gamma, beta, axis=0)


def test_batch_norm_training_and_prediction_modes():
    x = nd.array(np.arange(12, dtype=np.float32).reshape((2, 3, 2)) ** 1.5)
    gamma, beta = nd.array([1, 2, 3]), nd.array([0, 1, 0])
    mean, var = nd.zeros(3), nd.ones(3)
    values = x.asnumpy().astype(np.float64)
    batch_mean, batch_var = values.mean(axis=(0, 2)), values.var(axis=(0, 2))
    # prediction mode (outside record, or record(train_mode=False)): the moving statistics
    predicted = nd.BatchNorm(x, gamma, beta, mean, var, fix_gamma=False)
    np.testing.assert_allclose(
        predicted.asnumpy(),
        values / np.sqrt(1 + 1e-3) * [[1], [2], [3]] + [[0], [1], [0]],
        rtol=1e-5,
    )
    with autograd.record(train_mode=False):
        again = nd.BatchNorm(x, gamma, beta, mean, var)
    assert mean.asnumpy().tolist() == [0, 0, 0]  # not updated in prediction mode
    np.testing.assert_allclose(
        again.asnumpy(), values / np.sqrt(1 + 1e-3) + [[0], [1], [0]], rtol=1e-5
    )
    # training mode: batch statistics, moving statistics updated with momentum
    with autograd.record():
        out, used_mean, inverse_std = nd.BatchNorm(
            x, gamma, beta, mean, var, momentum=0.8, output_mean_var=True
        )
    normalized = (values - batch_mean[:, None]) / np.sqrt(batch_var[:, None] + 1e-3)
    np.testing.assert_allclose(out.asnumpy(), normalized + [[0], [1], [0]], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mean.asnumpy(), 0.2 * batch_mean, rtol=1e-6)
    np.testing.assert_allclose(var.asnumpy(), 0.8 + 0.2 * batch_var, rtol=1e-6)
    np.testing.assert_allclose(used_mean.asnumpy(), batch_mean, rtol=1e-6)
    np.testing.assert_allclose(inverse_std.asnumpy(), 1 / np.sqrt(batch_var + 1e-3), rtol=1e-6)
    # use_global_stats: the moving statistics even while training
    with autograd.record():
        fixed = nd.BatchNorm(x, gamma, beta, nd.zeros(3), nd.ones(3), use_global_stats=True)
    np.testing.assert_allclose(
        fixed.asnumpy(), values / np.sqrt(1 + 1e-3) + [[0], [1], [0]], rtol=1e-5
    )


def test_batch_norm_gradient_and_errors():
    x = nd.array([[1, 2], [3, 6], [2, 1]])
    gamma = nd.array([2, 3])
    gamma.attach_grad()
    x.attach_grad()
    with autograd.record():
        y = nd.BatchNorm(x, gamma, nd.zeros(2), nd.zeros(2), nd.ones(2), axis=-1)
        z = y * nd.array([[1, 2], [3, 4], [5, 6]])
    z.backward()
    assert gamma.grad.asnumpy().tolist() == [0, 0]  # fix_gamma=True: gamma is 1
    np.testing.assert_allclose(x.grad.asnumpy().sum(axis=0), 0, atol=1e-5)
    with pytest.raises(ValueError, match=r"BatchNorm: moving_var has shape \(3,\), expected"):
        nd.BatchNorm(x, gamma, nd.zeros(2), nd.zeros(2), nd.ones(3), axis=1)
    with pytest.raises(ValueError, match=r"BatchNorm: axis 2 is out of range"):
        nd.BatchNorm(x, gamma, nd.zeros(2), nd.zeros(2), nd.ones(2), axis=2)


@given(x=distinct((3, 2, 2)), gamma=arrays((2,)), beta=arrays((2,)))
def test_batch_norm_gradients_in_both_modes(x, gamma, beta):
    stats = (nd.zeros(2, dtype="float64"), nd.ones(2, dtype="float64"))

    def batch_norm(data, scale, shift):
        return nd.BatchNorm(data, scale, shift, *stats, fix_gamma=False)

    check(batch_norm, x, gamma, beta)  # prediction mode
    with autograd.train_mode():
        check(batch_norm, x, gamma, beta)  # batch statistics


def test_dropout_follows_training_mode():
    adfun.random.seed(1)
    x = nd.ones((1000,))
    assert nd.Dropout(x, p=0.5).asnumpy().tolist() == [1] * 1000
    with autograd.record(train_mode=False):
        assert nd.Dropout(x, p=0.5).asnumpy().tolist() == [1] * 1000
    with autograd.record():
        dropped = nd.Dropout(x, p=0.5).asnumpy()
    assert set(np.unique(dropped).tolist()) == {0.0, 2.0}
    with autograd.predict_mode():
        assert set(np.unique(nd.Dropout(x, p=0.5, mode="always").asnumpy())) == {0.0, 2.0}


# --- Convolution and Pooling -------------------------------------------------------------


def _reference_convolution(x, w, b, stride, pad, dilate, groups):
    """A direct loop over every output element (the definition)."""
    n, c, h, width = x.shape
    f, _, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - dilate[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (width + 2 * pad[1] - dilate[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, f, oh, ow))
    per_group, filters_per_group = c // groups, f // groups
    for batch in range(n):
        for filt in range(f):
            group = filt // filters_per_group
            channels = slice(group * per_group, (group + 1) * per_group)
            for i in range(oh):
                for j in range(ow):
                    rows = i * stride[0] + dilate[0] * np.arange(kh)
                    cols = j * stride[1] + dilate[1] * np.arange(kw)
                    patch = x[batch, channels][:, rows][:, :, cols]
                    out[batch, filt, i, j] = (patch * w[filt]).sum() + b[filt]
    return out


@pytest.mark.parametrize(
    "stride, pad, dilate, groups",
    [((1, 1), (0, 0), (1, 1), 1), ((2, 1), (1, 2), (1, 1), 1), ((1, 2), (1, 0), (2, 1), 2)],
)
def test_convolution_matches_the_definition(stride, pad, dilate, groups):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 6, 5))
    w = rng.normal(size=(6, 4 // groups, 3, 2))
    b = rng.normal(size=6)
    out = nd.Convolution(
        nd.array(x, dtype="float64"),
        nd.array(w, dtype="float64"),
        nd.array(b, dtype="float64"),
        kernel=(3, 2),
        stride=stride,
        pad=pad,
        dilate=dilate,
        num_filter=6,
        num_group=groups,
    )
    expected = _reference_convolution(x, w, b, stride, pad, dilate, groups)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-10, atol=1e-10)


def test_convolution_1d_3d_and_errors():
    out = nd.Convolution(
        nd.ones((1, 2, 5)), nd.ones((3, 2, 2)), kernel=(2,), num_filter=3, no_bias=True
    )
    assert out.shape == (1, 3, 4) and out.asnumpy().tolist() == [[[4] * 4] * 3]
    out = nd.Convolution(
        nd.ones((1, 1, 3, 3, 3)),
        nd.ones((2, 1, 2, 2, 2)),
        nd.zeros(2),
        kernel=(2, 2, 2),
        num_filter=2,
        pad=(1, 1, 1),
    )
    assert out.shape == (1, 2, 4, 4, 4) and out.asnumpy()[0, 0, 0, 0, 0] == 1
    x, w = nd.ones((1, 2, 4, 4)), nd.ones((3, 2, 2, 2))
    with pytest.raises(
        ValueError,
        match=r"Convolution: weight has shape \(3, 2, 2, 2\), "
        r"expected \(4, 1, 2, 2\)",
    ):
        nd.Convolution(x, w, kernel=(2, 2), num_filter=4, num_group=2, no_bias=True)
    with pytest.raises(ValueError, match=r"Convolution: num_group=3 must divide"):
        nd.Convolution(x, w, kernel=(2, 2), num_filter=3, num_group=3, no_bias=True)
    with pytest.raises(ValueError, match=r"Convolution: kernel=\(2, 2, 2\) must have 2 entries"):
        nd.Convolution(x, w, kernel=(2, 2, 2), num_filter=3, no_bias=True)
    with pytest.raises(TypeError, match=r"Convolution: kernel and num_filter are required"):
        nd.Convolution(x, w, no_bias=True)
    with pytest.raises(ValueError, match=r"Convolution: layout='NHWC' is not supported"):
        nd.Convolution(x, w, kernel=(2, 2), num_filter=3, no_bias=True, layout="NHWC")
    with pytest.raises(ValueError, match=r"Convolution: the dilated kernel"):
        nd.Convolution(x, w, kernel=(2, 2), num_filter=3, no_bias=True, dilate=(4, 4))
    with pytest.raises(ValueError, match=r"Convolution: data must be 3-D, 4-D or 5-D"):
        nd.Convolution(nd.ones((2, 2)), w, kernel=(2, 2), num_filter=3, no_bias=True)


@settings(max_examples=8)
@given(x=arrays((1, 2, 4, 3)), w=arrays((2, 1, 2, 2)), b=arrays((2,)))
def test_convolution_gradients(x, w, b):
    check(
        nd.Convolution,
        x,
        w,
        b,
        kernel=(2, 2),
        num_filter=2,
        num_group=2,
        pad=(1, 0),
        stride=(2, 1),
        dilate=(1, 2),
    )


def test_pooling_values_from_the_definition():
    x = nd.arange(25).reshape((1, 1, 5, 5))
    assert nd.Pooling(x, kernel=(2, 2), stride=(2, 2)).asnumpy()[0, 0].tolist() == [
        [6, 8],
        [16, 18],
    ]
    full = nd.Pooling(x, kernel=(2, 2), stride=(2, 2), pooling_convention="full")
    assert full.asnumpy()[0, 0].tolist() == [[6, 8, 9], [16, 18, 19], [21, 23, 24]]
    # average with padding: MXNet divides by the window clipped to the padded input
    avg = nd.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg")
    values = x.asnumpy()[0, 0]
    assert avg.asnumpy()[0, 0, 0, 0] == pytest.approx(values[:2, :2].sum() / 9)
    excluded = nd.Pooling(
        x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", count_include_pad=False
    )
    assert excluded.asnumpy()[0, 0, 0, 0] == pytest.approx(values[:2, :2].mean())
    avg_full = nd.Pooling(
        x, kernel=(2, 2), stride=(2, 2), pool_type="avg", pooling_convention="full"
    )
    assert avg_full.asnumpy()[0, 0, 2, 2] == 24  # a 1x1 window at the corner
    assert nd.Pooling(x, kernel=(2, 2), pool_type="sum").asnumpy()[0, 0, 0, 0] == 12
    lp = nd.Pooling(x, kernel=(2, 2), pool_type="lp", p_value=2).asnumpy()[0, 0, 0, 0]
    assert lp == pytest.approx(np.sqrt(0 + 1 + 25 + 36))
    glob = nd.Pooling(x, kernel=(1, 1), global_pool=True, pool_type="avg")
    assert glob.shape == (1, 1, 1, 1) and glob.asscalar() == 12
    assert nd.Pooling(nd.ones((2, 3, 7)), kernel=(3,), stride=(2,)).shape == (2, 3, 3)
    assert nd.Pooling(nd.ones((1, 1, 4, 4, 4)), kernel=(2, 2, 2)).shape == (1, 1, 3, 3, 3)


def test_max_pooling_gradient_goes_to_the_first_maximum():
    x = nd.array([[[[1, 3], [3, 0]]]])
    x.attach_grad()
    with autograd.record():
        y = nd.Pooling(x, kernel=(2, 2), pool_type="max")
    y.backward()
    assert x.grad.asnumpy()[0, 0].tolist() == [[0, 1], [0, 0]]
    # padding never wins: a negative input still gives its own maximum
    negative = nd.Pooling(nd.full((1, 1, 1, 1), -5.0), kernel=(3, 3), pad=(1, 1))
    assert negative.asscalar() == -5


def test_pooling_errors():
    x = nd.ones((1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"Pooling: pool_type must be 'max', 'avg', 'sum'"):
        nd.Pooling(x, kernel=(2, 2), pool_type="median")
    with pytest.raises(ValueError, match=r"Pooling: pooling_convention must be 'valid' or"):
        nd.Pooling(x, kernel=(2, 2), pooling_convention="same")
    with pytest.raises(ValueError, match=r"Pooling: kernel size 6 exceeds the input size 4"):
        nd.Pooling(x, kernel=(6, 2))
    with pytest.raises(TypeError, match=r"Pooling: kernel is required unless global_pool"):
        nd.Pooling(x)
    with pytest.raises(ValueError, match=r"Pooling: pool_type='lp' needs p_value 1, 2 or 3"):
        nd.Pooling(x, kernel=(2, 2), pool_type="lp")
    with pytest.raises(ValueError, match=r"Pooling: data must be 3-D, 4-D or 5-D"):
        nd.Pooling(nd.ones((2, 2)), kernel=(2,))


@pytest.mark.parametrize(
    "params",
    [
        {"kernel": (2, 2), "pool_type": "max"},
        {
            "kernel": (3, 2),
            "stride": (2, 1),
            "pad": (1, 1),
            "pool_type": "max",
            "pooling_convention": "full",
        },
        {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg"},
        {
            "kernel": (2, 2),
            "stride": (2, 2),
            "pool_type": "avg",
            "pooling_convention": "full",
            "count_include_pad": False,
        },
        {"kernel": (2, 2), "pool_type": "sum", "global_pool": True},
        {"kernel": (2, 2), "pool_type": "lp", "p_value": 2},
    ],
)
@settings(max_examples=8)
@given(x=distinct((1, 2, 4, 3)))
def test_pooling_gradients(params, x):
    check(nd.Pooling, x, **params)


# --- layout and indexing -----------------------------------------------------------------


def test_take_matches_mxnet_docs():
    x = nd.array([[1, 2], [3, 4], [5, 6]])
    assert nd.take(x, nd.array([[0, 1], [1, 2]])).asnumpy().tolist() == [
        [[1, 2], [3, 4]],
        [[3, 4], [5, 6]],
    ]
    assert nd.take(x, nd.array([[0, 3], [-1, -2]]), axis=1, mode="wrap").asnumpy().tolist() == [
        [[1, 2], [2, 1]],
        [[3, 4], [4, 3]],
        [[5, 6], [6, 5]],
    ]
    assert nd.take(x, nd.array([5, -3])).asnumpy().tolist() == [[5, 6], [1, 2]]  # clip
    with pytest.raises(IndexError, match=r"take: index 3 is out of range for an axis of size 3"):
        nd.take(x, nd.array([3]), mode="raise")
    with pytest.raises(ValueError, match=r"take: mode must be 'clip', 'wrap' or 'raise'"):
        nd.take(x, nd.array([0]), mode="fill")
    with pytest.raises(ValueError, match=r"take: axis=2 is out of range"):
        nd.take(x, nd.array([0]), axis=2)


@given(x=arrays((3, 4)))
def test_take_gradients(x):
    check(nd.take, x, constants=(np.array([[0.0, 2.0], [2.0, 5.0]]),), axis=1)


def test_topk_matches_mxnet_docs():
    x = nd.array([[0.3, 0.2, 0.4], [0.1, 0.3, 0.2]])
    indices = nd.topk(x)
    assert indices.shape == (2, 1) and indices.asnumpy().tolist() == [[2], [1]]
    np.testing.assert_allclose(
        nd.topk(x, ret_typ="value", k=2).asnumpy(), [[0.4, 0.3], [0.3, 0.2]], rtol=1e-6
    )
    np.testing.assert_allclose(
        nd.topk(x, ret_typ="value", k=2, is_ascend=True).asnumpy(),
        [[0.2, 0.3], [0.1, 0.2]],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        nd.topk(x, axis=0, ret_typ="value", k=2).asnumpy(),
        [[0.3, 0.3, 0.4], [0.1, 0.2, 0.2]],
        rtol=1e-6,
    )
    values, positions = nd.topk(x, ret_typ="both", k=2)
    assert positions.asnumpy().tolist() == [[2, 0], [1, 2]]
    assert nd.topk(x, k=2, dtype="int32").dtype is np.int32
    assert nd.topk(x, axis=None, k=2).asnumpy().tolist() == [2, 0]
    mask = nd.topk(x, k=2, ret_typ="mask")
    assert mask.asnumpy().tolist() == [[1, 0, 1], [0, 1, 1]] and mask.dtype is np.float32
    assert nd.topk(x, k=0, ret_typ="value").shape == (2, 3)
    with pytest.raises(ValueError, match=r"topk: k=4 is larger than the 3 elements"):
        nd.topk(x, k=4)
    with pytest.raises(ValueError, match=r"topk: ret_typ must be 'indices', 'value'"):
        nd.topk(x, ret_typ="values")


def test_sort_and_argsort_match_mxnet_docs():
    x = nd.array([[1, 4], [3, 1]])
    assert nd.sort(x).asnumpy().tolist() == [[1, 4], [1, 3]]
    assert nd.sort(x, axis=None).asnumpy().tolist() == [1, 1, 3, 4]
    assert nd.sort(x, axis=0).asnumpy().tolist() == [[1, 1], [3, 4]]
    assert nd.sort(x, is_ascend=False).asnumpy().tolist() == [[4, 1], [3, 1]]
    y = nd.array([[0.3, 0.2, 0.4], [0.1, 0.3, 0.2]])
    assert nd.argsort(y).asnumpy().tolist() == [[1, 0, 2], [0, 2, 1]]
    assert nd.argsort(y, axis=0).asnumpy().tolist() == [[1, 0, 1], [0, 1, 0]]
    assert nd.argsort(y, axis=None).asnumpy().tolist() == [3, 1, 5, 0, 4, 2]
    assert nd.argsort(y, dtype="int64").dtype is np.int64


@given(x=distinct((3, 4)))
def test_sort_and_topk_gradients(x):
    check(nd.sort, x, axis=0, is_ascend=False)
    check(nd.sort, x, axis=None)
    check(nd.topk, x, k=2, ret_typ="value")
    check(nd.topk, x, k=2, ret_typ="both", axis=0)


def test_split():
    x = nd.arange(12).reshape((2, 6))
    parts = nd.split(x, num_outputs=3)
    assert [part.asnumpy().tolist() for part in parts] == [
        [[0, 1], [6, 7]],
        [[2, 3], [8, 9]],
        [[4, 5], [10, 11]],
    ]
    rows = nd.split(x, num_outputs=2, axis=0, squeeze_axis=True)
    assert [row.shape for row in rows] == [(6,), (6,)]
    assert isinstance(nd.split(x, num_outputs=1), nd.NDArray)
    assert nd.SliceChannel is nd.split
    with pytest.raises(ValueError, match=r"split: num_outputs=4 must be positive and divide"):
        nd.split(x, num_outputs=4)
    with pytest.raises(ValueError, match=r"split: squeeze_axis=True needs parts of size 1"):
        nd.split(x, num_outputs=3, squeeze_axis=True)


@given(x=arrays((2, 6)))
def test_split_gradients(x):
    check(lambda a: nd.concat(*reversed(nd.split(a, 3)), dim=1), x)
    check(lambda a: nd.split(a, 2, axis=0, squeeze_axis=True)[1], x)


def test_slices_match_mxnet_docs():
    x = nd.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    assert nd.slice(x, begin=(0, 1), end=(2, 4)).asnumpy().tolist() == [[2, 3, 4], [6, 7, 8]]
    assert nd.slice(x, begin=(None, 0), end=(None, 3), step=(-1, 2)).asnumpy().tolist() == [
        [9, 11],
        [5, 7],
        [1, 3],
    ]
    assert nd.slice(x, begin=(1,), end=(2,)).asnumpy().tolist() == [[5, 6, 7, 8]]
    assert nd.slice_axis(x, axis=0, begin=1, end=3).asnumpy().tolist() == [
        [5, 6, 7, 8],
        [9, 10, 11, 12],
    ]
    assert nd.slice_axis(x, axis=1, begin=0, end=2).asnumpy().tolist() == [[1, 2], [5, 6], [9, 10]]
    assert nd.slice_axis(x, axis=1, begin=-3, end=-1).asnumpy().tolist() == [
        [2, 3],
        [6, 7],
        [10, 11],
    ]
    like = nd.zeros((2, 3))
    assert nd.slice_like(x, like).asnumpy().tolist() == [[1, 2, 3], [5, 6, 7]]
    assert nd.slice_like(x, like, axes=(0,)).shape == (2, 4)
    assert nd.slice_like(x, like, axes=(-1,)).shape == (3, 3)
    with pytest.raises(ValueError, match=r"slice: begin \(0,\), end \(1, 2\) and step"):
        nd.slice(x, begin=(0,), end=(1, 2))
    with pytest.raises(ValueError, match=r"slice: step cannot be 0"):
        nd.slice(x, begin=(0,), end=(1,), step=(0,))
    with pytest.raises(ValueError, match=r"slice: begin has 3 entries but the array has only"):
        nd.slice(x, begin=(0, 0, 0), end=(1, 1, 1))
    with pytest.raises(ValueError, match=r"slice_like: shape_like \(4, 3\) is larger than"):
        nd.slice_like(x, nd.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"slice_like: shape_like has 1 dimension"):
        nd.slice_like(x, nd.zeros(3))


@given(x=arrays((3, 4)))
def test_slice_gradients(x):
    check(nd.slice, x, begin=(None, 3), end=(None, 0), step=(2, -2))
    check(nd.slice_axis, x, axis=1, begin=1, end=None)
    check(lambda a: nd.slice_like(a, nd.zeros((2, 2))), x)


def test_squeeze_flip_tile_repeat():
    assert nd.squeeze(nd.zeros((1, 3, 1))).shape == (3,)
    assert nd.squeeze(nd.zeros((1, 3, 1)), axis=2).shape == (1, 3)
    assert nd.squeeze(nd.zeros((1, 1))).shape == (1,)
    with pytest.raises(ValueError, match=r"squeeze: axis 1 has size 3"):
        nd.squeeze(nd.zeros((1, 3)), axis=1)
    x = nd.array([[1, 2], [3, 4]])
    assert nd.flip(x, axis=0).asnumpy().tolist() == [[3, 4], [1, 2]]
    assert nd.reverse(x, axis=(0, 1)).asnumpy().tolist() == [[4, 3], [2, 1]]
    assert nd.tile(x, reps=(2, 3)).shape == (4, 6)
    assert nd.tile(x, reps=(2,)).asnumpy().tolist() == [[1, 2, 1, 2], [3, 4, 3, 4]]
    assert nd.tile(x, reps=(2, 1, 1)).shape == (2, 2, 2)
    assert nd.repeat(x, repeats=2).asnumpy().tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert nd.repeat(x, repeats=2, axis=0).asnumpy().tolist() == [[1, 2], [1, 2], [3, 4], [3, 4]]
    with pytest.raises(ValueError, match=r"repeat: repeats must be an int >= 0"):
        nd.repeat(x, repeats=-1)
    with pytest.raises(ValueError, match=r"tile: reps must not be negative"):
        nd.tile(x, reps=(-1,))
    with pytest.raises(TypeError, match=r"tile: reps must be an int or a tuple of ints"):
        nd.tile(x, reps="x")
    with pytest.raises(TypeError, match=r"flip: axis must be an int"):
        nd.flip(x, axis=0.5)


@given(x=arrays((2, 1, 3)))
def test_squeeze_flip_tile_repeat_gradients(x):
    check(nd.squeeze, x)
    check(nd.flip, x, axis=(0, 2))
    check(nd.tile, x, reps=(2, 1, 2))
    check(nd.repeat, x, repeats=3, axis=2)
    check(nd.repeat, x, repeats=2)


def test_pad_matches_mxnet_docs():
    x = nd.array(
        [
            [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]],
            [[[11, 12, 13], [14, 15, 16]], [[17, 18, 19], [20, 21, 22]]],
        ]
    )
    edge = nd.pad(x, mode="edge", pad_width=(0, 0, 0, 0, 1, 1, 1, 1))
    assert edge.shape == (2, 2, 4, 5)
    assert edge.asnumpy()[0, 0].tolist() == [
        [1, 1, 2, 3, 3],
        [1, 1, 2, 3, 3],
        [4, 4, 5, 6, 6],
        [4, 4, 5, 6, 6],
    ]
    constant = nd.pad(x, mode="constant", constant_value=0, pad_width=(0, 0, 0, 0, 1, 1, 1, 1))
    assert constant.asnumpy()[1, 1].tolist() == [
        [0, 0, 0, 0, 0],
        [0, 17, 18, 19, 0],
        [0, 20, 21, 22, 0],
        [0, 0, 0, 0, 0],
    ]
    reflect = nd.pad(x, mode="reflect", pad_width=(0, 0, 0, 0, 1, 1, 2, 0))
    assert reflect.asnumpy()[0, 0].tolist() == [
        [6, 5, 4, 5, 6],
        [3, 2, 1, 2, 3],
        [6, 5, 4, 5, 6],
        [3, 2, 1, 2, 3],
    ]
    with pytest.raises(ValueError, match=r"pad: data must be 4-D or 5-D"):
        nd.pad(nd.ones((2, 2)), pad_width=(0, 0, 1, 1))
    with pytest.raises(ValueError, match=r"pad: pad_width must have 2 \* ndim = 8 entries"):
        nd.pad(x, pad_width=(0, 0, 1, 1))
    with pytest.raises(ValueError, match=r"pad: pad_width .* must be non-negative and 0 for"):
        nd.pad(x, pad_width=(1, 0, 0, 0, 1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"pad: mode must be 'constant', 'edge' or 'reflect'"):
        nd.pad(x, mode="wrap", pad_width=(0,) * 8)
    with pytest.raises(ValueError, match=r"pad: reflect padding of 2 on axis 2"):
        nd.pad(x, mode="reflect", pad_width=(0, 0, 0, 0, 2, 0, 0, 0))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
@given(x=arrays((1, 2, 3, 3)))
def test_pad_gradients(mode, x):
    check(nd.pad, x, mode=mode, pad_width=(0, 0, 0, 0, 2, 1, 0, 2), constant_value=1.5)


def test_broadcast_axis_and_like():
    x = nd.array([[[1], [2]]])
    assert nd.broadcast_axis(x, axis=(0, 2), size=(2, 3)).shape == (2, 2, 3)
    assert nd.broadcast_axes is nd.broadcast_axis
    assert nd.broadcast_like(nd.ones((1, 3)), nd.zeros((2, 3))).shape == (2, 3)
    out = nd.broadcast_like(x, nd.zeros((4, 5)), lhs_axes=(2,), rhs_axes=(1,))
    assert out.shape == (1, 2, 5)
    with pytest.raises(ValueError, match=r"broadcast_axis: axis 1 has size 2; only axes of"):
        nd.broadcast_axis(x, axis=1, size=4)
    with pytest.raises(ValueError, match=r"broadcast_axis: axis \(0,\) and size \(\) must"):
        nd.broadcast_axis(x, axis=0)


@given(x=arrays((1, 2, 1)))
def test_broadcast_axis_gradients(x):
    check(nd.broadcast_axis, x, axis=(0, 2), size=(2, 3))
    check(lambda a: nd.broadcast_like(a, nd.zeros((3, 2, 2))), x)


def test_where_with_a_row_condition():
    x, y = nd.array([[1, 2], [3, 4]]), nd.array([[5, 6], [7, 8]])
    assert nd.where(nd.array([1, 0]), x, y).asnumpy().tolist() == [[1, 2], [7, 8]]


def test_sum_mean_max_min_exclude():
    x = nd.arange(24).reshape((2, 3, 4))
    assert nd.sum(x, axis=1, exclude=True).asnumpy().tolist() == [60, 92, 124]
    assert nd.mean(x, axis=(0, 2), exclude=True).shape == (2, 4)
    assert nd.max(x, axis=0, exclude=True, keepdims=True).shape == (2, 1, 1)
    assert nd.min(x, axis=0, exclude=True).asnumpy().tolist() == [0, 12]


def test_operators_record_inside_autograd():
    w = nd.array(np.arange(6).reshape((2, 3)) / 10)
    w.attach_grad()
    x = nd.array(np.arange(12).reshape((4, 3)) / 10)
    with autograd.record():
        hidden = nd.FullyConnected(x, w, nd.zeros(2), num_hidden=2)
        out = nd.sum(nd.LeakyReLU(hidden, act_type="elu") * nd.flip(hidden, axis=1))
    out.backward()

    def functional_loss(weights):
        hidden = anp.matmul(x.asnumpy().astype(np.float64), weights.T)
        elu = anp.where(hidden > 0, hidden, 0.25 * anp.expm1(anp.minimum(hidden, 0)))
        return anp.sum(elu * hidden[:, ::-1])

    expected = adfun.grad(functional_loss)(w.asnumpy().astype(np.float64))
    np.testing.assert_allclose(w.grad.asnumpy(), expected, rtol=1e-5)


@pytest.mark.parametrize(
    "source, codes, reverse, expected",
    [
        ((2, 3, 4), (4, 0, 2), False, (4, 3, 2)),
        ((2, 3, 4), (2, 0, 0), False, (2, 3, 4)),
        ((2, 3, 4), (6, 1, -1), False, (6, 1, 4)),
        ((2, 3, 4), (3, -1, 8), False, (3, 1, 8)),
        ((2, 3, 4), (-1,), False, (24,)),
        ((2, 3, 4), (-2,), False, (2, 3, 4)),
        ((2, 3, 4), (2, -2), False, (2, 3, 4)),
        ((2, 3, 4), (-2, 1, 1), False, (2, 3, 4, 1, 1)),
        ((2, 3, 4), (-3, 4), False, (6, 4)),
        ((2, 3, 4, 5), (-3, -3), False, (6, 20)),
        ((2, 3, 4), (0, -3), False, (2, 12)),
        ((2, 3, 4), (-3, -2), False, (6, 4)),
        ((2, 3, 4), (-4, 1, 2, -2), False, (1, 2, 3, 4)),
        ((2, 3, 4), (2, -4, -1, 3, -2), False, (2, 1, 3, 4)),
        ((10, 5, 4), (-1, 0), False, (40, 5)),
        ((10, 5, 4), (-1, 0), True, (50, 4)),
    ],
)
def test_reshape_codes_match_mxnet_docs(source, codes, reverse, expected):
    assert nd.reshape(nd.zeros(source), codes, reverse=reverse).shape == expected


def test_diag_ravel_multi_index_unravel_index_match_mxnet_docs():
    x = nd.array([[1, 2, 3], [4, 5, 6]])
    assert nd.diag(x).asnumpy().tolist() == [1, 5]
    assert nd.diag(x, k=1).asnumpy().tolist() == [2, 6]
    assert nd.diag(x, k=-1).asnumpy().tolist() == [4]
    assert nd.diag(nd.array([1, 2]), k=-1).asnumpy().tolist() == [[0, 0, 0], [1, 0, 0], [0, 2, 0]]
    cube = nd.arange(24).reshape((2, 3, 4))
    np.testing.assert_array_equal(
        nd.diag(cube, k=1, axis1=0, axis2=2).asnumpy(),
        np.diagonal(np.arange(24, dtype=np.float32).reshape(2, 3, 4), 1, 0, 2),
    )
    assert nd.diag(nd.array([1, 2], dtype="int32")).dtype == np.int32
    with pytest.raises(TypeError, match=r"adfun.nd.diag: k must be an int, got 0.5"):
        nd.diag(x, k=0.5)
    with pytest.raises(ValueError, match=r"adfun.nd.diag: axis1 and axis2 must be different"):
        nd.diag(cube, axis1=1, axis2=-2)
    with pytest.raises(ValueError, match=r"adfun.nd.diag: data must have at least 1 axis"):
        nd.diag(nd.array(1.0).reshape(()))

    flat = nd.ravel_multi_index(nd.array([[3, 6, 6], [4, 5, 1]]), shape=(7, 6))
    assert flat.asnumpy().tolist() == [22, 41, 37] and flat.dtype == np.float32
    back = nd.unravel_index(nd.array([22, 41, 37], dtype="int32"), shape=(7, 6))
    assert back.asnumpy().tolist() == [[3, 6, 6], [4, 5, 1]] and back.dtype == np.int32
    with pytest.raises(ValueError, match=r"ravel_multi_index: data must have shape \(2, ...\)"):
        nd.ravel_multi_index(nd.array([1, 2, 3]), shape=(7, 6))
    with pytest.raises(ValueError, match=r"unravel_index: shape must be a non-empty tuple"):
        nd.unravel_index(nd.array([1]), shape=())


@given(
    indices=st.lists(st.integers(0, 59), min_size=1, max_size=6),
    shape=st.sampled_from([(60,), (6, 10), (3, 4, 5)]),
)
def test_unravel_index_inverts_ravel_multi_index(indices, shape):
    flat = nd.array(indices, dtype="int64")
    rows = nd.unravel_index(flat, shape=shape)
    np.testing.assert_array_equal(rows.asnumpy(), np.unravel_index(indices, shape))
    assert nd.ravel_multi_index(rows, shape=shape).asnumpy().tolist() == indices


@given(matrix=arrays((3, 4)), vector=arrays((3,)))
def test_diag_gradients(matrix, vector):
    check(nd.diag, matrix)
    check(nd.diag, matrix, k=-2)
    check(nd.diag, vector, k=1)
    check(nd.diag, matrix.reshape(3, 2, 2), k=0, axis1=2, axis2=0)
