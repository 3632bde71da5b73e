"""Bad and unusual inputs: each works as NumPy would, or raises an error naming the argument.

The table ``CASES`` pairs an input with what each entry point does with it: ``grad``,
``vjp``, ``jvp``, ``elementwise_grad``, ``hessian`` (all of ``sin(x) * x``, summed where
a scalar is needed) and the imperative layer (``nd.array`` + ``record`` + ``backward``).
``WORKS`` means: the same values (NaN where NumPy gives NaN), the shape and dtype of the
input, compared with the derivative formula evaluated by NumPy.  Otherwise the entry is
the exception type and a pattern its message must match.  ``docs/guides/bad_inputs.md``
shows the same table.
"""

from __future__ import annotations

import decimal
import fractions
import warnings

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun import autograd, nd

WORKS = "works"
TRANSFORMS = ("grad", "vjp", "jvp", "elementwise_grad", "hessian", "nd")

_NOT_FLOAT = r"{}: argument 0 is an? {}"


def _refused(kind, pattern):
    """The functional transforms refuse the input with ``kind`` and ``pattern``."""
    return {name: (kind, pattern.format(name)) for name in TRANSFORMS if name != "nd"}


def _row(functional, imperative=WORKS):
    row = (
        dict(functional)
        if isinstance(functional, dict)
        else dict.fromkeys(TRANSFORMS[:-1], functional)
    )
    row["nd"] = imperative
    return row


CASES = {
    "nan": (np.array([1.0, np.nan]), _row(WORKS)),
    "inf": (np.array([1.0, np.inf, -np.inf]), _row(WORKS)),
    "empty (0,)": (np.zeros((0,)), _row(WORKS)),
    "empty (3, 0)": (np.zeros((3, 0)), _row(WORKS)),
    "0-d array": (np.array(2.0), _row(WORKS)),
    "Python float": (2.0, _row(WORKS)),
    "1e308": (np.array([1e308, -1e308, 1.0]), _row(WORKS)),
    "float16": (np.array([0.5, 2.0], np.float16), _row(WORKS)),
    "float32": (np.array([0.5, 2.0], np.float32), _row(WORKS)),
    "object array": (
        np.array([0.5, 2.0], dtype=object),
        _row(_refused(TypeError, r"{}: argument 0 has dtype object")),
    ),
    "int array": (np.array([1, 2]), _row(_refused(TypeError, r"{}: argument 0 has dtype int"))),
    "Python int": (3, _row(_refused(TypeError, _NOT_FLOAT.format("{}", "integer")))),
    "bool": (True, _row(_refused(TypeError, _NOT_FLOAT.format("{}", "boolean")))),
    "complex": (
        1.5j,
        _row(
            {
                # The convention of HIPS autograd and JAX: a complex output needs
                # holomorphic=True (grad, elementwise_grad, hessian); vjp and jvp give f'(z).
                "grad": (TypeError, r"grad: the output of _scalar is complex \(complex128\)"),
                "vjp": WORKS,
                "jvp": WORKS,
                "elementwise_grad": (
                    TypeError,
                    r"elementwise_grad: the output of _elementwise is complex \(complex128\)",
                ),
                "hessian": (TypeError, r"hessian: the output of _scalar is complex"),
            },
            (TypeError, r"adfun\.nd\.array: source_array"),
        ),
    ),
    "list of floats": ([0.5, 2.0], _row(_refused(TypeError, r"adfun\.numpy\.stack"))),
    "str": (
        "abc",
        _row(
            _refused(TypeError, r"{}: argument 0 is a str"),
            (ValueError, r"adfun\.nd\.array: source_array \(str 'abc'\)"),
        ),
    ),
    "None": (
        None,
        _row(
            _refused(TypeError, r"{}: argument 0 is a NoneType"),
            (TypeError, r"adfun\.nd\.array: source_array is or contains None"),
        ),
    ),
    "Decimal": (decimal.Decimal("1.5"), _row(_refused(TypeError, r"{}: argument 0 is a Decimal"))),
    "Fraction": (
        fractions.Fraction(3, 2),
        _row(_refused(TypeError, r"{}: argument 0 is a Fraction")),
    ),
}


def _elementwise(x):
    return anp.sin(x) * x


def _scalar(x):
    return anp.sum(anp.sin(x) * x)


def _imperative_gradient(x):
    variable = nd.array(x)
    variable.attach_grad()
    with autograd.record():
        y = (nd.sin(variable) * variable).sum()
    y.backward()
    return variable, variable.grad.asnumpy()


def _run(transform, x):
    if transform == "grad":
        return ad.grad(_scalar)(x)
    if transform == "vjp":
        out, vjp_fn = ad.vjp(_elementwise, x)
        (gradient,) = vjp_fn(np.ones_like(out) if isinstance(out, np.ndarray) else 1.0)
        return gradient
    if transform == "jvp":
        tangent = np.ones_like(x) if isinstance(x, np.ndarray) else 1.0
        return ad.jvp(_elementwise, (x,), (tangent,))
    if transform == "elementwise_grad":
        return ad.elementwise_grad(_elementwise)(x)
    if transform == "hessian":
        return ad.hessian(_scalar)(x)
    return _imperative_gradient(x)


def _tolerance(dtype):
    return {np.float16: 2e-3, np.float32: 2e-6}.get(dtype.type, 1e-12)


def _check_like_numpy(transform, x, result):
    if transform == "nd":
        variable, gradient = result
        a = variable.asnumpy()  # float32, shape (1,) for a scalar: MXNet's conventions
        expected = np.cos(a) * a + np.sin(a)
        assert gradient.shape == a.shape and gradient.dtype == np.float32
        np.testing.assert_allclose(gradient, expected, rtol=_tolerance(a.dtype), equal_nan=True)
        return
    a = x if isinstance(x, np.ndarray) else np.asarray(x)[()]  # float64 or complex128
    value = np.sin(a) * a
    derivative = np.cos(a) * a + np.sin(a)
    if transform == "jvp":
        out, tangent = result
        _same_kind(out, a, value)
        _same_kind(tangent, a, derivative)
    elif transform == "hessian":
        second = 2 * np.cos(a) - np.sin(a) * a
        assert np.shape(result) == np.shape(a) * 2 and result.dtype == a.dtype
        square = np.reshape(result, (a.size, a.size))
        np.testing.assert_allclose(
            np.diagonal(square), np.ravel(second), rtol=_tolerance(a.dtype), equal_nan=True
        )
        finite = np.isfinite(np.ravel(a))
        off_diagonal = square[np.ix_(finite, finite)].copy()
        np.fill_diagonal(off_diagonal, 0.0)
        np.testing.assert_array_equal(off_diagonal, 0.0)
    else:
        _same_kind(result, a, derivative)


def _same_kind(result, a, expected):
    assert np.shape(result) == np.shape(a)
    assert result.dtype == a.dtype
    if isinstance(a, np.ndarray) and a.ndim and a.size:
        assert isinstance(result, np.ndarray)
    np.testing.assert_allclose(result, expected, rtol=_tolerance(a.dtype), equal_nan=True)


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_table(case, transform):
    x, row = CASES[case]
    expected = row[transform]
    if expected == WORKS:
        with np.errstate(all="ignore"):  # NumPy's own warnings (sin(inf), overflow): below
            result = _run(transform, x)
            _check_like_numpy(transform, x, result)
    else:
        kind, pattern = expected
        with pytest.raises(kind, match=pattern):
            _run(transform, x)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_numpy_warnings_come_through_as_numpy_gives_them(transform):
    """sin(inf) is NaN with NumPy's RuntimeWarning, under every transform (as in NumPy)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="invalid value encountered in sin"):
            np.sin(np.array([np.inf]))
        with pytest.raises(RuntimeWarning, match="invalid value encountered in sin"):
            _run(transform, np.array([1.0, np.inf]))


def test_nan_only_spoils_the_entries_that_depend_on_it():
    gradient = ad.grad(_scalar)(np.array([1.0, np.nan, 2.0]))
    assert np.isnan(gradient[1]) and np.isfinite(gradient[[0, 2]]).all()


# --- empty arrays through reductions, products and Jacobians ----------------------------

EMPTY = [
    ("sum axis=0", lambda x: anp.sum(anp.sum(x, axis=0) ** 2), (3, 0)),
    ("sum axis=1", lambda x: anp.sum(anp.sum(x, axis=1) ** 2), (3, 0)),
    ("matmul", lambda x: anp.sum(x @ np.ones((0, 2))), (3, 0)),
    ("tanh", lambda x: anp.sum(anp.tanh(x)), (0,)),
    ("exp", lambda x: anp.sum(anp.exp(x)), (0, 4)),
]


@pytest.mark.parametrize(("name", "fun", "shape"), EMPTY, ids=[row[0] for row in EMPTY])
def test_empty_arrays_through_operations(name, fun, shape):
    for dtype in (np.float64, np.float32):
        x = np.zeros(shape, dtype)
        gradient = ad.grad(fun)(x)
        assert gradient.shape == shape and gradient.dtype == dtype
        assert ad.jvp(fun, (x,), (x,))[1] == 0


def test_jacobians_of_empty_arrays_have_empty_shapes():
    x = np.zeros((3, 0))
    assert ad.jacrev(lambda v: v * 2.0)(x).shape == (3, 0, 3, 0)
    assert ad.jacfwd(lambda v: v * 2.0)(x).shape == (3, 0, 3, 0)
    assert ad.jacobian(lambda v: anp.sum(v, axis=1))(x).shape == (3, 3, 0)


# --- mixed dtypes -----------------------------------------------------------------------


def test_float32_with_float64_constant_keeps_float32_gradient():
    x32 = np.array([1.0, 2.0], np.float32)
    x64 = np.array([3.0, 4.0])
    gradient = ad.grad(lambda a, b: anp.sum(a * b))(x32, x64)
    assert gradient.dtype == np.float32
    np.testing.assert_array_equal(gradient, [3.0, 4.0])
    both = ad.grad(lambda a, b: anp.sum(a * b), argnums=(0, 1))(x32, x64)
    assert [g.dtype for g in both] == [np.float32, np.float64]


def test_float_with_integer_constant():
    gradient = ad.grad(lambda a, b: anp.sum(a * b))(np.ones(2, np.float32), np.array([1, 2]))
    assert gradient.dtype == np.float32
    np.testing.assert_array_equal(gradient, [1.0, 2.0])
    assert ad.grad(lambda a, b: a * b)(2.0, 3) == 3.0


def test_jvp_promotes_like_numpy():
    x32 = np.array([1.0, 2.0], np.float32)
    x64 = np.array([3.0, 4.0])
    out, tangent = ad.jvp(lambda a, b: a * b, (x32, x64), (x32, x64))
    assert out.dtype == tangent.dtype == np.result_type(x32, x64)
    np.testing.assert_array_equal(tangent, 2 * x32 * x64)


def test_jvp_tangent_of_other_precision_is_refused():
    with pytest.raises(
        TypeError,
        match=r"jvp: tangent 0 has dtype float32, but its primal has "
        r"dtype float64",
    ):
        ad.jvp(_elementwise, (np.ones(2),), (np.ones(2, np.float32),))


def test_vjp_cotangent_of_object_dtype_is_refused():
    _, vjp_fn = ad.vjp(_elementwise, np.ones(2))
    with pytest.raises(TypeError, match="vjp_fn: cotangent has dtype object"):
        vjp_fn(np.ones(2, dtype=object))


def test_object_array_as_a_constant_argument_works():
    gradient = ad.grad(lambda x, c: anp.sum(x * c))(np.ones(2), np.array([2.0, 3.0], object))
    np.testing.assert_array_equal(gradient, [2.0, 3.0])


def test_list_arguments_are_pytrees_not_arrays():
    assert ad.grad(lambda xs: xs[0] * xs[1])([1.0, 2.0]) == [2.0, 1.0]
    stacked = ad.grad(lambda xs: anp.sum(anp.stack(xs) ** 2))([1.0, 2.0])
    assert stacked == [2.0, 4.0]


# --- the imperative layer ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_nd_gradient_keeps_a_requested_dtype(dtype):
    variable = nd.array([0.5, 2.0], dtype=dtype)
    variable.attach_grad()
    with autograd.record():
        y = variable * variable
    y.backward()
    assert variable.grad.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(variable.grad.asnumpy(), [1.0, 4.0])


def test_nd_empty_array_backward():
    variable = nd.array(np.zeros((3, 0)))
    variable.attach_grad()
    with autograd.record():
        y = (variable * 2).sum()
    y.backward()
    assert y.shape == (1,) and variable.grad.shape == (3, 0)
