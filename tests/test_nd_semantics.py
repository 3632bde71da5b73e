"""MXNet semantics of adfun.nd: views, in-place writes, dtypes, ties, sparse, get_symbol."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adfun import autograd, nd


def _variable(values, dtype=None):
    x = nd.array(values, dtype=dtype)
    x.attach_grad()
    return x


# --- views -------------------------------------------------------------------------------


def test_basic_slicing_returns_a_view_that_writes_through():
    x = nd.arange(6).reshape((2, 3))
    y = x[0]
    y[:] = 9
    assert x.asnumpy().tolist() == [[9, 9, 9], [3, 4, 5]]
    x[1, 2] = -1  # and the other way round
    z = x[1]
    assert z.asnumpy().tolist() == [3, 4, -1]
    y += 1
    assert x.asnumpy()[0].tolist() == [10, 10, 10]


def test_reshape_is_a_view_and_a_transpose_or_strided_slice_is_a_copy():
    x = nd.zeros((2, 3))
    x.reshape((3, 2))[0] = 7
    assert x.asnumpy()[0, :2].tolist() == [7, 7]
    t = x.T
    t[:] = 5
    column = x[:, 1]  # not contiguous: a copy, as in MXNet
    column[:] = 3
    every_other = x.reshape(-1)[::2]
    every_other[:] = 4
    assert x.asnumpy().tolist() == [[7, 7, 0], [0, 0, 0]]


def test_results_of_operations_do_not_share_buffers():
    x = nd.ones(3)
    y = x.copy()
    z = x.reshape((3,)).detach()
    y[:] = 2
    assert x.asnumpy().tolist() == [1, 1, 1]
    z[:] = 4  # detach shares the buffer, as in MXNet
    assert x.asnumpy().tolist() == [4, 4, 4]


def test_a_recording_keeps_the_values_it_captured():
    x = _variable([1.0, 2.0])
    c = nd.array([3.0, 4.0])
    view = x[0:1]
    with autograd.record():
        y = x * c
    c[:] = 100  # a constant of the recording, changed before backward
    x[:] = 50  # a variable, changed before backward
    view[:] = -7
    y.backward()
    assert x.grad.asnumpy().tolist() == [3.0, 4.0]
    assert x.asnumpy().tolist() == [50.0, 50.0]


def test_in_place_write_inside_record_is_an_error_also_through_a_view():
    x = _variable([1.0, 2.0])
    y = x[0:1]
    with autograd.record():
        with pytest.raises(RuntimeError, match=r"is a view of an array that takes part"):
            y[:] = 1
        with pytest.raises(RuntimeError, match=r"NDArray.__iadd__ .*computational graph"):
            x += 1
        z = nd.zeros(2)
        z[:] = 3  # an array not in the graph can be written
    assert z.asnumpy().tolist() == [3, 3]


def test_gradient_buffer_can_be_cleared_in_place_after_backward():
    x = _variable([1.0, 2.0])
    for _ in range(2):
        with autograd.record():
            y = (x * x).sum()
        y.backward()
        assert x.grad.asnumpy().tolist() == [2.0, 4.0]
        x.grad[:] = 0
        x[:] = x - 0.0  # an SGD-style update outside record()


# --- dtypes ------------------------------------------------------------------------------


def test_integer_arithmetic_stays_integer_as_in_mxnet():
    x = nd.array([1, 2], dtype="int32")
    product = x * 1.5
    assert product.dtype == np.int32 and product.asnumpy().tolist() == [1, 2]
    assert (x / 2).asnumpy().tolist() == [0, 1]
    assert (nd.array([-3, 3], dtype="int32") / 2).asnumpy().tolist() == [-1, 1]
    assert (7 / x).asnumpy().tolist() == [7, 3]
    x += 2.7
    assert x.asnumpy().tolist() == [3, 4] and x.dtype == np.int32


def test_integer_reductions_keep_the_dtype():
    x = nd.array([[-3, 1], [4, 4]], dtype="int32")
    assert nd.mean(x).dtype == np.int32
    assert nd.mean(x).asnumpy().tolist() == [1]
    assert nd.mean(x, axis=1).asnumpy().tolist() == [-1, 4]
    assert nd.sum(x).dtype == np.int32 and nd.max(x).asnumpy().tolist() == [4]


def test_scalar_to_integer_array_must_be_finite():
    with pytest.raises(ValueError, match=r"scalar nan cannot be converted to the integer dtype"):
        nd.array([1], dtype="int32") * float("nan")


def test_float32_math_is_correctly_rounded_like_mxnet():
    e = nd.exp(nd.ones(1))
    assert e.dtype == np.float32
    assert e.asscalar() == np.float32(np.exp(1.0))
    assert (nd.ones(1) * 0.1).dtype == np.float32


def test_float16_prints_as_mxnet():
    x = nd.array([1.5, 2.25, 0.001], dtype="float16")
    assert str(x * 2) == "\n[3.0e+00 4.5e+00 2.0e-03]\n<NDArray 3 @cpu(0)>"
    assert (x * 2.0).dtype == np.float16


# --- ties and clip -----------------------------------------------------------------------


def test_ties_of_max_and_maximum_get_the_whole_gradient():
    x = _variable([1.0, 3.0, 3.0])
    y = _variable([1.0, 0.0, 5.0])
    with autograd.record():
        total = nd.max(x) + nd.maximum(x, y).sum()
    total.backward()
    assert x.grad.asnumpy().tolist() == [1.0, 2.0, 1.0]  # max: [0, 1, 1]
    assert y.grad.asnumpy().tolist() == [0.0, 0.0, 1.0]


def test_clip_with_reversed_bounds_is_mxnets():
    x = _variable([0.0, 2.0, 5.0])
    with autograd.record():
        y = nd.clip(x, 3.0, 1.0)
    y.backward()
    assert y.asnumpy().tolist() == [3.0, 1.0, 1.0]  # numpy.clip: [1, 1, 1]
    assert x.grad.asnumpy().tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"adfun.nd.clip: pass a_min or a_max"):
        nd.clip(x, None, None)


@given(
    st.permutations(range(4)),
    st.integers(-5, 5),
    st.integers(-20, 0),
    st.integers(0, 20),
)
def test_clip_max_and_maximum_gradients_match_finite_differences(order, shift, low, high):
    eps = 1e-4
    # distinct values, never within 1e-3 of a bound or of the other operand: no ties
    values = np.array(order) * 0.37 + 0.0123 + shift / 10
    other = values[::-1].copy() + 0.003
    low, high = low / 10, high / 10

    def f(v):
        return nd.clip(v, low, high).sum() + nd.max(v) + nd.maximum(v, nd.array(other)).sum()

    x = _variable(values, dtype="float64")
    with autograd.record():
        y = f(x)
    y.backward()
    numeric = [
        (
            f(nd.array(values + eps * e, dtype="float64"))
            - f(nd.array(values - eps * e, dtype="float64"))
        ).asscalar()
        / (2 * eps)
        for e in np.eye(4)
    ]
    np.testing.assert_allclose(x.grad.asnumpy(), numeric, atol=1e-6)


# --- _fresh_grad -------------------------------------------------------------------------


def test_fresh_grad_follows_backward_and_detach():
    x = _variable([1.0])
    assert x._fresh_grad is False
    with autograd.record():
        (x * 2).backward()
    assert x._fresh_grad is True
    x._fresh_grad = False
    with autograd.record():
        y = x.detach() * 2 + _variable([0.0])
    y.backward()
    assert x._fresh_grad is False
    assert nd.ones(1)._fresh_grad is False


# --- sparse ------------------------------------------------------------------------------


def test_csr_matrix_forms_and_compressed_arrays():
    dense = [[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]]
    a = nd.sparse.csr_matrix(([1.0, 2.0, 3.0], [1, 0, 2], [0, 1, 3]), shape=(2, 3))
    b = nd.sparse.csr_matrix(([1.0, 2.0, 3.0], ([0, 1, 1], [1, 0, 2])), shape=(2, 3))
    c = nd.array(dense).tostype("csr")
    for m in (a, b, c):
        assert m.stype == "csr" and m.asnumpy().tolist() == dense
        assert m.data.asnumpy().tolist() == [1.0, 2.0, 3.0]
        assert m.indices.asnumpy().tolist() == [1, 0, 2]
        assert m.indptr.asnumpy().tolist() == [0, 1, 3]
    assert repr(a) == "\n<CSRNDArray 2x3 @cpu(0)>"
    assert a[1].asnumpy().tolist() == [dense[1]] and a[1].stype == "csr"
    assert a.tostype("default").stype == "default"
    assert nd.sparse.csr_matrix((2, 2)).asnumpy().sum() == 0


def test_row_sparse_array_and_retain():
    a = nd.sparse.row_sparse_array(([[1.0, 2.0], [3.0, 4.0]], [0, 2]), shape=(4, 2))
    assert a.stype == "row_sparse" and a.indices.asnumpy().tolist() == [0, 2]
    assert a.data.asnumpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert a.retain(nd.array([2])).indices.asnumpy().tolist() == [2]
    assert (a * 2).stype == "row_sparse" and (a + a).stype == "row_sparse"
    assert (a + nd.ones((4, 2))).stype == "default"


def test_sparse_errors_name_the_function_and_the_fix():
    with pytest.raises(ValueError, match=r"csr_matrix: indptr must start at 0"):
        nd.sparse.csr_matrix(([1.0], [0], [1, 1]), shape=(1, 1))
    with pytest.raises(ValueError, match=r"a csr array must be 2-D"):
        nd.ones(3).tostype("csr")
    with pytest.raises(ValueError, match=r"stype must be 'default', 'csr' or 'row_sparse'"):
        nd.ones(3).attach_grad(stype="coo")
    with pytest.raises(ValueError, match=r"row_sparse_array: data must have one row per index"):
        nd.sparse.row_sparse_array(([[1.0]], [0, 1]), shape=(2, 1))
    with pytest.raises(ValueError, match=r"CSRNDArray.__getitem__: only rows"):
        nd.ones((2, 2)).tostype("csr")[:, 0]
    with pytest.raises(NotImplementedError, match=r"cannot be reshaped"):
        nd.ones((2, 2)).tostype("csr").reshape(4)
    with pytest.raises(TypeError, match=r"sparse.array: source_array must be a sparse NDArray"):
        nd.sparse.array([1, 2])


def test_sparse_dot_gradient_is_row_sparse():
    lhs = nd.array([[0, 1, 0, 2], [0, 0, 0, 3]]).tostype("csr")
    for weight in (nd.ones((4, 3)).tostype("row_sparse"), nd.ones((4, 3))):
        weight.attach_grad(stype="row_sparse")
        with autograd.record():
            y = nd.dot(lhs, weight)
        y.backward()
        assert weight.grad.stype == "row_sparse"
        np.testing.assert_allclose(weight.grad.asnumpy(), lhs.asnumpy().T @ np.ones((2, 3)))
        assert weight.grad.indices.asnumpy().tolist() == [1, 3]
    assert nd.sparse.dot(lhs, nd.ones((2, 3)), transpose_a=True).stype == "row_sparse"
    assert nd.zeros((2, 2), stype="csr").stype == "csr"


# --- get_symbol --------------------------------------------------------------------------


def test_get_symbol_lists_arguments_outputs_and_json():
    x = _variable([1.0])
    z = _variable([2.0])
    with autograd.record():
        y = x * x + 2 * z - 1
    symbol = autograd.get_symbol(y)
    assert symbol.list_arguments() == ["var0", "var1"]
    assert symbol.list_outputs() == ["node_3_output"]
    document = json.loads(symbol.tojson())
    assert [node["op"] for node in document["nodes"]][-1] == "subtract"
    assert document["heads"] == [[len(document["nodes"]) - 1, 0, 0]]
    assert repr(symbol) == "<Symbol node_3>"
    assert "node_0 = multiply(var0, var0)" in str(symbol)
    assert symbol.graph(np.float32([3.0]), np.float32([1.0])).tolist() == [10.0]
    with pytest.raises(RuntimeError, match=r"autograd.get_symbol: the array is not in a recorded"):
        autograd.get_symbol(nd.ones(1))
