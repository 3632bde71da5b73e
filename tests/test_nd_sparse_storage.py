"""``csr`` arrays are stored by SciPy: compressed in memory, with MXNet's interface and
the gradients of ``nd.dot`` unchanged."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun
from adfun import autograd, nd
from adfun.testing import check_grads

# a dense float32 array of this shape would take 160 GB
HUGE = (200_000, 200_000)


def _huge_csr():
    return nd.sparse.csr_matrix(([1.0, 2.0, 3.0], [7, 0, 199_999], [0, 1] + [3] * 199_999), HUGE)


def test_a_huge_csr_array_holds_only_its_stored_values():
    a = _huge_csr()
    assert isinstance(a._storage(), scipy.sparse.csr_matrix)
    assert (a.stype, a.shape, a.dtype, a.ndim, a.size, len(a)) == (
        "csr",
        HUGE,
        np.float32,
        2,
        HUGE[0] * HUGE[1],
        HUGE[0],
    )
    assert repr(a) == "\n<CSRNDArray 200000x200000 @cpu(0)>"
    assert a.context == adfun.cpu()
    assert a.data.asnumpy().tolist() == [1.0, 2.0, 3.0]
    assert a.indices.asnumpy().tolist() == [7, 0, 199_999]
    assert a.indptr.shape == (HUGE[0] + 1,)
    row = a[1]
    assert row.stype == "csr" and row.shape == (1, HUGE[1]) and row.indices.shape == (2,)
    assert a.asscipy().nnz == 3
    a.check_format()
    assert nd.sparse.zeros("csr", HUGE).data.shape == (0,)
    coordinates = nd.sparse.csr_matrix(([5.0, 6.0], ([9, 2], [4, 4])), shape=HUGE)
    assert coordinates.indptr.asnumpy()[[2, 3, 9, 10]].tolist() == [0, 1, 1, 2]
    assert nd.sparse.csr_matrix(a.asscipy()).asscipy().nnz == 3


def test_making_a_csr_array_allocates_memory_for_its_stored_values_only():
    dense_bytes = 4000 * 4000 * 4
    tracemalloc.start()
    try:
        a = nd.sparse.csr_matrix(([1.0] * 10, ([0] * 10, list(range(10)))), shape=(4000, 4000))
        copy = a.tostype("csr")
        zeros = nd.sparse.zeros("csr", (4000, 4000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < dense_bytes / 100
    assert copy.data.shape == (10,) and zeros.indptr.shape == (4001,)


def test_dot_of_a_huge_csr_array_and_its_gradient_never_make_it_dense():
    a = _huge_csr()
    weight = nd.ones((HUGE[1], 2))
    weight.attach_grad()
    with autograd.record():
        y = nd.dot(a, weight)
        total = nd.sum(y)
    total.backward()
    assert y.shape == (HUGE[0], 2) and y[0].asnumpy().tolist() == [1.0, 1.0]
    assert y[1].asnumpy().tolist() == [5.0, 5.0]
    assert weight.grad[7].asnumpy().tolist() == [1.0, 1.0]
    assert weight.grad[199_999].asnumpy().tolist() == [3.0, 3.0]
    assert float(weight.grad.sum().asscalar()) == 12.0
    transposed = nd.sparse.dot(a, nd.ones(HUGE[0]), transpose_a=True)
    assert transposed.stype == "row_sparse" and transposed.indices.asnumpy().tolist() == [
        0,
        7,
        199_999,
    ]


def test_csr_writes_gradients_and_conversions_keep_the_storage():
    a = nd.array([[0, 1, 0], [2, 0, 0]]).tostype("csr")
    a[:] = nd.array([[0, 0, 4], [0, 0, 0]])
    assert a.asnumpy().tolist() == [[0, 0, 4], [0, 0, 0]]
    assert isinstance(a._storage(), scipy.sparse.csr_matrix) and a.data.shape == (1,)
    a[1, 0] = 5
    assert a.indices.asnumpy().tolist() == [2, 0]
    detached = a.detach()
    assert detached.stype == "csr" and detached.asnumpy().tolist() == a.asnumpy().tolist()
    # a csr variable takes part in a recording through its dense values
    a.attach_grad()
    assert a.grad.stype == "csr" and a.grad.data.shape == (0,)
    with autograd.record():
        y = nd.sum(a * a)
    y.backward()
    assert a.grad.stype == "csr" and isinstance(a.grad._storage(), scipy.sparse.csr_matrix)
    assert a.grad.asnumpy().tolist() == [[0, 0, 8], [10, 0, 0]]
    assert nd.sparse.array(a).asscipy().nnz == 2
    assert a.tostype("row_sparse").indices.asnumpy().tolist() == [0, 1]
    # float16 has no SciPy sparse matrix: held densely, same interface
    half = nd.array([[0, 1]], dtype="float16").tostype("csr")
    assert half._storage() is None and half.dtype == np.float16
    assert half.indices.asnumpy().tolist() == [1] and half.indptr.asnumpy().tolist() == [0, 1]


def test_csr_coordinate_errors_name_the_function_and_the_fix():
    with pytest.raises(ValueError, match=r"csr_matrix: \(data, \(row, col\)\) needs one row"):
        nd.sparse.csr_matrix(([1.0, 2.0], ([0], [0, 1])), shape=(2, 2))
    with pytest.raises(ValueError, match=r"csr_matrix: the coordinates \(rows up to 2, col"):
        nd.sparse.csr_matrix(([1.0], ([2], [0])), shape=(2, 2))
    with pytest.raises(ValueError, match=r"csr_matrix: a csr array must be 2-D"):
        nd.sparse.csr_matrix(([1.0], ([0], [0])), shape=(2, 2, 2))
    with pytest.raises(ValueError, match=r"csr_matrix: shape \(3, 3\) differs from the data"):
        nd.sparse.csr_matrix(scipy.sparse.eye(2, format="csr"), shape=(3, 3))


def test_scipy_is_imported_only_when_a_csr_array_is_made():
    code = (
        "import sys\n"
        "from adfun import nd, autograd\n"
        "x = nd.ones((2, 2)).tostype('row_sparse')\n"
        "assert 'scipy.sparse' not in sys.modules, 'imported early'\n"
        "y = x.tostype('csr')\n"
        "assert 'scipy.sparse' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_without_scipy_csr_arrays_are_held_densely_with_the_same_interface():
    code = (
        "import sys\n"
        "sys.modules['scipy'] = None  # as if SciPy were not installed\n"
        "from adfun import autograd, nd\n"
        "a = nd.sparse.csr_matrix(([1.0, 2.0], [1, 0], [0, 1, 2]), shape=(2, 2))\n"
        "assert a._storage() is None and a.stype == 'csr'\n"
        "assert a.indptr.asnumpy().tolist() == [0, 1, 2]\n"
        "w = nd.ones((2, 1))\n"
        "w.attach_grad()\n"
        "with autograd.record():\n"
        "    y = nd.dot(a, w)\n"
        "y.backward()\n"
        "assert w.grad.asnumpy().tolist() == [[2.0], [1.0]]\n"
        "try:\n"
        "    nd.LeakyReLU(nd.ones(2), act_type='gelu')\n"
        "except ImportError as error:\n"
        "    assert 'pip install scipy' in str(error)\n"
        "else:\n"
        "    raise AssertionError('gelu without SciPy')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def _csr_and_dense(rows, columns):
    values = hnp.arrays(np.float64, (rows, columns), elements=st.floats(-2, 2, width=32))
    mask = hnp.arrays(np.bool_, (rows, columns))
    return st.tuples(values, mask).map(lambda pair: np.where(pair[1], pair[0], 0.0))


@given(
    matrix=_csr_and_dense(3, 4),
    weight=hnp.arrays(np.float64, (4, 2), elements=st.floats(-2, 2, width=32)),
    vector=hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2, width=32)),
)
def test_csr_dot_values_and_gradients_match_the_dense_product(matrix, weight, vector):
    a = nd.array(matrix).tostype("csr")
    dense = a.asnumpy().astype(np.float64)
    for rhs, transpose_a in ((weight, False), (vector, True), (weight[:, 0], False)):
        product = nd.dot(a, nd.array(rhs, dtype="float64"), transpose_a=transpose_a)
        expected = (dense.T if transpose_a else dense) @ rhs
        np.testing.assert_allclose(product.asnumpy(), expected, rtol=1e-6, atol=1e-12)

        def fun(value, transpose_a=transpose_a):
            with autograd.record():
                out = nd.dot(a, value, transpose_a=transpose_a)
            return out._tracer if out._tracer is not None else out._value

        check_grads(fun, (rhs,), order=1, rtol=1e-4, atol=1e-6)
        variable = nd.array(rhs, dtype="float64")
        variable.attach_grad()
        head = np.linspace(-1, 1, expected.size).reshape(expected.shape)
        with autograd.record():
            out = nd.dot(a, variable, transpose_a=transpose_a)
        out.backward(nd.array(head, dtype="float64"))
        reverse = (dense if transpose_a else dense.T) @ head
        np.testing.assert_allclose(variable.grad.asnumpy(), reverse, rtol=1e-6, atol=1e-12)
