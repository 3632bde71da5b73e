"""adfun.nd: MXNet's NDArray conventions (dtype, shapes, printing) and every function's
gradient compared with the functional core on the same computation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun
import adfun.numpy as anp
from adfun import autograd, nd

# --- creation and dtypes -----------------------------------------------------------------


def test_array_defaults_to_float32_even_for_float64_numpy_input():
    assert nd.array([[1, 2], [3, 4]]).dtype is np.float32
    assert nd.array(np.array([1.0, 2.0], dtype=np.float64)).dtype is np.float32
    assert nd.array(np.array([1, 2], dtype=np.int64)).dtype is np.float32
    assert nd.array([1, 2], dtype="float64").dtype is np.float64


def test_array_of_an_ndarray_keeps_its_dtype_and_copies():
    source = nd.array([1, 2], dtype=np.float64)
    copy = nd.array(source)
    assert copy.dtype is np.float64
    source[:] = 7
    assert copy.asnumpy().tolist() == [1.0, 2.0]


def test_array_copies_numpy_input():
    values = np.array([1.0, 2.0])
    array = nd.array(values)
    values[0] = 99
    assert array.asnumpy().tolist() == [1.0, 2.0]
    exported = array.asnumpy()
    exported[0] = 42
    assert array.asnumpy().tolist() == [1.0, 2.0]


def test_a_scalar_becomes_shape_1():
    assert nd.array(3).shape == (1,)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: nd.zeros((2, 3)), (2, 3)),
        (lambda: nd.ones(4), (4,)),
        (lambda: nd.full((2,), 7), (2,)),
        (lambda: nd.arange(5), (5,)),
        (lambda: nd.arange(1, 3, 0.5, repeat=2), (8,)),
        (lambda: nd.random_normal(shape=(2, 2)), (2, 2)),
        (lambda: nd.random_uniform(shape=3), (3,)),
        (lambda: nd.random.normal(0, 1, shape=(3,)), (3,)),
        (lambda: nd.random.uniform(-1, 1, shape=(1, 4)), (1, 4)),
        (lambda: nd.random.normal(), (1,)),
    ],
)
def test_creation_functions_give_float32(make, shape):
    array = make()
    assert array.shape == shape
    assert array.dtype is np.float32


def test_arange_values():
    assert nd.arange(1, 3, 0.5, repeat=2).asnumpy().tolist() == [1, 1, 1.5, 1.5, 2, 2, 2.5, 2.5]


def test_like_functions_keep_dtype():
    base = nd.array([1, 2], dtype="float64")
    assert nd.zeros_like(base).dtype is np.float64
    assert nd.ones_like(base).asnumpy().tolist() == [1.0, 1.0]


def test_seed_makes_random_arrays_reproducible():
    adfun.random.seed(3)
    first = nd.random_normal(shape=5).asnumpy()
    adfun.random.seed(3)
    assert np.array_equal(first, nd.random.normal(shape=5).asnumpy())
    uniform = nd.random.uniform(2, 3, shape=100).asnumpy()
    assert uniform.min() >= 2 and uniform.max() < 3


def test_context():
    assert repr(adfun.cpu()) == "cpu(0)"
    assert nd.zeros(1).context == adfun.cpu(0)
    assert nd.zeros(1, ctx=adfun.cpu()).ctx == adfun.cpu()
    assert adfun.cpu(i=0) == adfun.cpu(device_id=0) == adfun.cpu()
    with pytest.raises(ValueError, match=r"adfun\.cpu: there is a single CPU context"):
        adfun.cpu(1)
    with pytest.raises(ValueError, match=r"device_id=2"):
        adfun.cpu(i=2)


# --- printing ----------------------------------------------------------------------------


def test_print_matches_mxnet_byte_for_byte(capsys):
    print(nd.array([[4, 8], [12, 16]]))
    print(nd.sum(nd.array([[1, 2], [3, 4]])))
    print(nd.array([20, 2, 0.2, 0.02]))
    assert capsys.readouterr().out == (
        "\n[[ 4.  8.]\n [12. 16.]]\n<NDArray 2x2 @cpu(0)>\n"
        "\n[10.]\n<NDArray 1 @cpu(0)>\n"
        "\n[20.    2.    0.2   0.02]\n<NDArray 4 @cpu(0)>\n"
    )


def test_repr_is_str():
    array = nd.ones((2, 1, 3))
    assert repr(array) == str(array)
    assert str(array).endswith("<NDArray 2x1x3 @cpu(0)>")


# --- MXNet shape conventions ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "norm"])
def test_full_reductions_have_shape_1(name):
    x = nd.array([[1, 2], [3, 4]])
    assert getattr(nd, name)(x).shape == (1,)
    assert getattr(x, name)().shape == (1,)


def test_reduction_axis_keepdims_exclude():
    x = nd.arange(24).reshape((2, 3, 4))
    assert nd.sum(x, axis=1).shape == (2, 4)
    assert nd.sum(x, axis=(0, 2), keepdims=True).shape == (1, 3, 1)
    assert nd.sum(x, axis=1, exclude=True).shape == (3,)
    assert nd.sum(nd.ones(3), axis=0).shape == (1,)
    assert nd.prod(nd.array([[1, 2, 3], [4, 5, 6]]), axis=1).asnumpy().tolist() == [6, 120]
    with pytest.raises(ValueError, match=r"adfun\.nd\.sum: axis 3 is out of range"):
        nd.sum(x, axis=3)
    with pytest.raises(TypeError, match=r"adfun\.nd\.mean: axis must be an int"):
        nd.mean(x, axis="0")


def test_indexing_a_single_element_gives_shape_1():
    x = nd.array([[1, 2], [3, 4]])
    assert x[1, 0].shape == (1,)
    assert x[1, 0].asscalar() == 3
    assert x[1].shape == (2,)
    assert x[nd.array([1, 0])].asnumpy().tolist() == [[3, 4], [1, 2]]
    assert [row.shape for row in x] == [(2,), (2,)]


def test_comparisons_return_0_1_arrays_of_the_input_dtype():
    x = nd.array([1, 2, 3])
    for result, expected in [
        (x > 1, [0, 1, 1]),
        (x >= 2, [0, 1, 1]),
        (x < 2, [1, 0, 0]),
        (x <= 1, [1, 0, 0]),
        (x == 2, [0, 1, 0]),
        (x != 2, [1, 0, 1]),
        (x == nd.array([1, 0, 3]), [1, 0, 1]),
    ]:
        assert result.dtype is np.float32
        assert result.asnumpy().tolist() == expected
    assert (nd.array([1, 2], dtype="float64") > 1).dtype is np.float64


def test_reshape_codes():
    x = nd.zeros((2, 3, 4))
    assert nd.reshape(x, (0, -1)).shape == (2, 12)
    assert nd.reshape(x, (-2,)).shape == (2, 3, 4)
    assert nd.reshape(x, (-3, 4)).shape == (6, 4)
    assert nd.reshape(x, (0, 0, -4, 2, -1)).shape == (2, 3, 2, 2)
    assert x.reshape(4, 6).shape == (4, 6)
    assert x.reshape((24,)).shape == (24,)
    assert nd.reshape(x, (-1, 0), reverse=True).shape == (6, 4)
    with pytest.raises(ValueError, match=r"adfun\.nd\.reshape: the shape codes"):
        nd.reshape(nd.zeros(3), (0, 0))


def test_shape_functions():
    x = nd.zeros((2, 3, 4))
    assert nd.flatten(x).shape == (2, 12)
    assert nd.flatten(nd.zeros(3)).shape == (3, 1)
    assert nd.transpose(x).shape == (4, 3, 2)
    assert x.transpose((1, 0, 2)).shape == (3, 2, 4)
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)
    assert x.T.shape == (4, 3, 2)
    assert nd.expand_dims(x, 1).shape == (2, 1, 3, 4)
    assert nd.broadcast_to(nd.ones((1, 4)), (3, 0)).shape == (3, 4)
    assert nd.concat(nd.ones((2, 1)), nd.ones((2, 2))).shape == (2, 3)
    assert nd.concat(nd.ones((2, 1)), nd.ones((3, 1)), dim=0).shape == (5, 1)
    assert nd.stack(nd.ones(2), nd.ones(2), axis=1).shape == (2, 2)
    assert nd.dot(nd.ones((2, 3, 4)), nd.ones((4, 5))).shape == (2, 3, 5)
    assert nd.dot(nd.ones(3), nd.ones(3)).shape == (1,)
    assert nd.dot(nd.ones((3, 2)), nd.ones((3, 4)), transpose_a=True).shape == (2, 4)
    assert nd.batch_dot(nd.ones((5, 2, 3)), nd.ones((5, 2, 3)), transpose_b=True).shape == (5, 2, 2)
    with pytest.raises(ValueError, match=r"adfun\.nd\.concat: pass at least one array"):
        nd.concat()


def test_asscalar():
    value = nd.array([2.5]).asscalar()
    assert value == 2.5 and isinstance(value, np.float32)
    with pytest.raises(ValueError, match=r"asscalar: the array has shape \(2,\)"):
        nd.array([1, 2]).asscalar()


def test_truth_value_and_conversions():
    assert bool(nd.array([1])) and not bool(nd.array([0]))
    assert float(nd.array([1.5])) == 1.5 and int(nd.array([2])) == 2
    with pytest.raises(ValueError, match=r"truth value of an NDArray with 2 elements"):
        bool(nd.array([1, 2]))
    assert len(nd.zeros((3, 2))) == 3
    assert nd.array([1, 2]).tolist() == [1.0, 2.0]
    assert np.asarray(nd.array([1, 2])).tolist() == [1.0, 2.0]


def test_arithmetic_keeps_float32_and_mixes_with_numpy():
    x = nd.array([1, 2])
    for result in (
        x + 1,
        1 + x,
        x * 2.5,
        x / 2,
        2 / x,
        x - 1,
        1 - x,
        x**2,
        2**x,
        -x,
        abs(x),
        x % 2,
        x // 2,
        x + np.float32(1),
        np.ones(2) * x,
    ):
        assert isinstance(result, nd.NDArray)
    assert (x * 2.5).dtype is np.float32
    assert (x * np.float64(2.5)).dtype is np.float32  # a scalar keeps the array's dtype
    assert (np.float64(2.5) - x).dtype is np.float32
    assert (np.float64(2) * x).asnumpy().tolist() == [2, 4]
    assert (x @ nd.array([1, 1])).asnumpy().tolist() == 3.0


def test_where_clip_maximum_minimum_values():
    x = nd.array([-2, 0.5, 3])
    assert nd.clip(x, -1, 1).asnumpy().tolist() == [-1, 0.5, 1]
    assert nd.maximum(x, 0).asnumpy().tolist() == [0, 0.5, 3]
    assert nd.minimum(x, nd.array([0, 0, 0])).asnumpy().tolist() == [-2, 0, 0]
    assert nd.where(x > 0, x, -x).asnumpy().tolist() == [2, 0.5, 3]
    assert nd.relu(x).asnumpy().tolist() == [0, 0.5, 3]


def test_elementwise_values_match_numpy():
    values = np.array([0.1, 0.5, 2.0], np.float32)
    x = nd.array(values)
    for name, reference in [
        ("exp", np.exp),
        ("log", np.log),
        ("sqrt", np.sqrt),
        ("square", np.square),
        ("sin", np.sin),
        ("cos", np.cos),
        ("tanh", np.tanh),
    ]:
        assert np.allclose(getattr(nd, name)(x).asnumpy(), reference(values), rtol=1e-6)
        assert np.allclose(getattr(x, name)().asnumpy(), reference(values), rtol=1e-6)
    assert np.allclose(nd.sigmoid(x).asnumpy(), 1 / (1 + np.exp(-values)), rtol=1e-6)
    big = nd.sigmoid(nd.array([-1000, 1000])).asnumpy()
    assert big.tolist() == [0.0, 1.0]
    assert np.allclose(nd.softmax(x).asnumpy(), np.exp(values) / np.exp(values).sum())
    assert np.allclose(nd.log_softmax(nd.array([1000, 0])).asnumpy(), [0, -1000])
    assert np.allclose(nd.softmax(x, temperature=2.0).asnumpy().sum(), 1)


def test_dropout_is_active_only_while_training():
    x = nd.ones((100,))
    assert nd.Dropout(x, 0.5).asnumpy().tolist() == [1.0] * 100
    with autograd.train_mode():
        dropped = nd.Dropout(x, 0.5).asnumpy()
    assert set(np.unique(dropped)) <= {0.0, 2.0} and 0 < (dropped == 0).sum() < 100
    with autograd.record():
        assert (nd.Dropout(x, 0.5).asnumpy() == 0).any()
    with autograd.record(train_mode=False):
        assert nd.Dropout(x, 0.5).asnumpy().tolist() == [1.0] * 100
    assert (nd.Dropout(x, 1.0, mode="always").asnumpy() == 0).all()
    shared = nd.Dropout(nd.ones((4, 50)), 0.5, mode="always", axes=(0,)).asnumpy()
    assert (shared == shared[0]).all()
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\]"):
        nd.Dropout(x, 1.5)
    with pytest.raises(ValueError, match=r"Dropout: mode must be"):
        nd.Dropout(x, 0.5, mode="sometimes")


def test_dropout_gradient_uses_the_same_mask():
    x = nd.ones(50)
    x.attach_grad()
    with autograd.record():
        y = nd.Dropout(x, 0.5)
    y.backward()
    assert np.array_equal(x.grad.asnumpy(), y.asnumpy())


def test_norm_options():
    x = nd.array([[3, -4], [0, 0]])
    assert nd.norm(x, ord=1).asscalar() == 7
    assert nd.norm(x, axis=1).asnumpy().tolist() == [5, 0]
    with pytest.raises(ValueError, match=r"adfun\.nd\.norm: ord must be 1 or 2"):
        nd.norm(x, ord=3)


def test_copy_detach_astype():
    x = nd.array([1, 2])
    assert x.copy() is not x and x.copy().asnumpy().tolist() == [1, 2]
    assert x.astype("float64").dtype is np.float64
    assert x.astype(np.float32, copy=False) is x
    assert x.detach().asnumpy().tolist() == [1, 2]
    target = nd.zeros(2)
    assert x.copyto(target) is target and target.asnumpy().tolist() == [1, 2]
    assert x.as_in_context(adfun.cpu()) is x
    x.wait_to_read()


def test_in_place_changes_outside_record_work():
    x = nd.array([1, 2, 3])
    alias = x
    x[:] = 5
    assert alias.asnumpy().tolist() == [5, 5, 5]
    x[0] = nd.array([1])
    x += 1
    x *= 2
    x -= nd.array([1, 1, 1])
    x /= 1
    assert x.asnumpy().tolist() == [3, 11, 11]
    assert x.dtype is np.float32
    with pytest.raises(ValueError, match=r"__iadd__: the result has shape \(2, 3\)"):
        x += nd.ones((2, 3))


# --- gradients of every function, against the functional core -----------------------------


def _functional(fun):
    """The gradient of sum(fun(x)) with adfun.grad on plain float64 arrays."""
    return adfun.grad(lambda value: anp.sum(fun(value)))


CASES = {
    # name: (nd computation, the same computation with adfun.numpy)
    "exp": (nd.exp, anp.exp),
    "log": (lambda x: nd.log(x * x + 1), lambda x: anp.log(x * x + 1)),
    "sqrt": (lambda x: nd.sqrt(x * x + 1), lambda x: anp.sqrt(x * x + 1)),
    "square": (nd.square, anp.square),
    "abs": (nd.abs, anp.abs),
    "sin": (nd.sin, anp.sin),
    "cos": (nd.cos, anp.cos),
    "tanh": (nd.tanh, anp.tanh),
    "sigmoid": (nd.sigmoid, lambda x: 1 / (1 + anp.exp(-x))),
    "relu": (nd.relu, lambda x: x * (x > 0)),
    "softmax": (
        lambda x: nd.softmax(x) * nd.arange(x.shape[-1]),
        lambda x: anp.exp(x) / anp.sum(anp.exp(x), axis=-1, keepdims=True) * np.arange(x.shape[-1]),
    ),
    "log_softmax": (
        lambda x: nd.log_softmax(x, axis=0) * nd.arange(x.shape[1]),
        lambda x: (x - anp.log(anp.sum(anp.exp(x), axis=0, keepdims=True))) * np.arange(x.shape[1]),
    ),
    "sum_axis": (lambda x: nd.sum(x * x, axis=1), lambda x: anp.sum(x * x, axis=1)),
    "mean": (lambda x: nd.mean(x * x, axis=0, keepdims=True), lambda x: anp.mean(x * x, 0)),
    "max": (lambda x: nd.max(x, axis=1), lambda x: anp.max(x, axis=1)),
    "min": (lambda x: x.min(), anp.min),
    "prod": (lambda x: nd.prod(x, axis=1), lambda x: x[:, 0] * x[:, 1] * x[:, 2]),
    "prod_all": (
        lambda x: x.prod(),
        lambda x: x[0, 0] * x[0, 1] * x[0, 2] * x[1, 0] * x[1, 1] * x[1, 2],
    ),
    "norm": (nd.norm, lambda x: anp.sqrt(anp.sum(x * x))),
    "dot": (lambda x: nd.dot(x, x, transpose_b=True), lambda x: anp.dot(x, x.T)),
    "batch_dot": (
        lambda x: nd.batch_dot(x.reshape((1, 2, 3)), x.reshape((1, 3, 2))),
        lambda x: anp.matmul(x.reshape((1, 2, 3)), x.reshape((1, 3, 2))),
    ),
    "transpose": (lambda x: nd.transpose(x) * nd.arange(2), lambda x: x.T * np.arange(2)),
    "reshape_flatten": (
        lambda x: nd.flatten(x.reshape((3, 2))) * nd.arange(2),
        lambda x: x.reshape((3, 2)) * np.arange(2),
    ),
    "expand_broadcast": (
        lambda x: nd.broadcast_to(nd.expand_dims(x, 0), (3, 0, 0)) * x,
        lambda x: anp.broadcast_to(x, (3, 2, 3)) * x,
    ),
    "clip": (lambda x: nd.clip(x, -0.5, 0.5) * x, lambda x: anp.clip(x, -0.5, 0.5) * x),
    "maximum": (lambda x: nd.maximum(x, x * x), lambda x: anp.maximum(x, x * x)),
    "minimum": (lambda x: nd.minimum(x, 0.25), lambda x: anp.minimum(x, 0.25)),
    "where": (lambda x: nd.where(x > 0, x * x, -x), lambda x: anp.where(x > 0, x * x, -x)),
    "concat_stack": (
        lambda x: nd.stack(nd.concat(x, x * 2), nd.concat(x * x, x)),
        lambda x: anp.stack([anp.concatenate([x, x * 2], 1), anp.concatenate([x * x, x], 1)]),
    ),
    "getitem": (lambda x: x[1, 1:] * x[0, :2], lambda x: x[1, 1:] * x[0, :2]),
    "operators": (
        lambda x: (2 - x) / (x * x + 1) + x**3 - 1 / (3 + x),
        lambda x: (2 - x) / (x * x + 1) + x**3 - 1 / (3 + x),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=hnp.arrays(np.float64, (2, 3), elements=st.floats(-2, 2, width=32)))
def test_gradient_matches_the_functional_core(name, data):
    imperative, functional = CASES[name]
    # keep away from kinks (abs, relu, where, clip, max ties) where subgradients differ
    data = np.where(np.abs(data) < 0.05, 0.3, data)
    data = np.where(np.abs(np.abs(data) - 0.5) < 0.05, 0.7, data)
    data = data + np.arange(6).reshape(2, 3) * 1e-3
    x = nd.array(data)
    x.attach_grad()
    with autograd.record():
        y = imperative(x)
    y.backward()
    assert x.grad.dtype is np.float32
    expected = _functional(functional)(data.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(x.grad.asnumpy(), expected, rtol=2e-4, atol=2e-4)


def test_norm_gradient_at_zero_is_zero():
    x = nd.zeros(3)
    x.attach_grad()
    with autograd.record():
        y = nd.norm(x)
    y.backward()
    assert x.grad.asnumpy().tolist() == [0, 0, 0]


def test_prod_gradient_with_zeros():
    x = nd.array([0, 2, 3, 0.5, 4])
    x.attach_grad()
    with autograd.record():
        y = nd.prod(x)
    y.backward()
    assert x.grad.asnumpy().tolist() == [12, 0, 0, 0, 0]
    assert nd.prod(nd.zeros((2, 0)), axis=1).asnumpy().tolist() == [1, 1]


def test_argmax_argmin_are_constants_of_the_input_dtype():
    x = nd.array([[1, 5], [7, 2]])
    assert nd.argmax(x, axis=1).asnumpy().tolist() == [1, 0]
    assert x.argmin(axis=0).asnumpy().tolist() == [0, 1]
    assert nd.argmax(x).shape == (1,) and nd.argmax(x).asscalar() == 2
    assert nd.argmax(x, axis=1, keepdims=True).shape == (2, 1)
    assert nd.argmax(x, axis=1).dtype is np.float32


def test_pick_and_its_gradient():
    x = nd.array([[1, 2, 3], [4, 5, 6]])
    x.attach_grad()
    with autograd.record():
        picked = nd.pick(x, nd.array([2, 0]))
    picked.backward(nd.array([10, 20]))
    assert picked.asnumpy().tolist() == [3, 4]
    assert x.grad.asnumpy().tolist() == [[0, 0, 10], [20, 0, 0]]
    assert nd.pick(x, nd.array([1, 1, 0]), axis=0).asnumpy().tolist() == [4, 5, 3]
    assert x.pick(nd.array([5, -1]), keepdims=True).asnumpy().tolist() == [[3], [4]]
    assert nd.pick(x, nd.array([4, -1]), mode="wrap").asnumpy().tolist() == [2, 6]
    with pytest.raises(ValueError, match=r"pick: index has shape \(3,\), but data of shape"):
        nd.pick(x, nd.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"pick: mode must be 'clip' or 'wrap'"):
        nd.pick(x, nd.array([0, 1]), mode="raise")


def test_one_hot():
    hot = nd.one_hot(nd.array([2, 0]), 3, on_value=5, off_value=-1)
    assert hot.asnumpy().tolist() == [[-1, -1, 5], [5, -1, -1]]
    assert hot.dtype is np.float32
