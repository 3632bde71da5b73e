"""Complex numbers at the edges: powers of negative real bases, ``elementwise_grad``'s
``holomorphic``, ``jit`` and second derivatives on complex code, and the real-only
imperative layer (``adfun.nd``, ``adfun.autograd``: MXNet 1.x has no complex autograd).

The convention (HIPS autograd's and JAX's) is that of tests/test_complex.py: for a
real-valued ``f`` of ``z = x + iy``, ``grad(f)(z) = df/dx - i df/dy``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import adfun as ad
import adfun.numpy as anp
from adfun import autograd, nd
from adfun.nd._ndarray import _new
from adfun.testing import check_grads
from adfun.testing import strategies as ads

RNG = np.random.default_rng(1717)
Z = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
W = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)

_NEGATIVE = ads.arrays(
    shape=st.sampled_from([(), (3,)]),
    elements=st.floats(-3.0, -0.3, allow_nan=False, allow_infinity=False),
)
_EXPONENT = ads.complex_arrays(
    shape=st.just((3,)),
    elements=st.complex_numbers(max_magnitude=2.0, allow_nan=False, allow_infinity=False),
)


def _real_and_imaginary_partials(f, z, eps=1e-6):
    """``(df/dx, df/dy)`` of a real function of complex ``z`` by central differences."""
    dx = np.zeros(z.shape)
    dy = np.zeros(z.shape)
    for index in np.ndindex(*z.shape):
        step = np.zeros(z.shape, dtype=complex)
        step[index] = eps
        dx[index] = (f(z + step) - f(z - step)) / (2 * eps)
        dy[index] = (f(z + 1j * step) - f(z - 1j * step)) / (2 * eps)
    return dx, dy


# --- power: a negative real base under a complex exponent ---------------------------------


def test_power_of_a_negative_base_has_numpys_value_and_the_principal_log():
    y = np.array([0.5 + 0.3j, -1.2 + 0.0j, 2.0 - 0.7j])
    x = np.array([-2.0, -0.5, 1.5])
    np.testing.assert_allclose(anp.power(x, y), np.power(x, y), rtol=1e-14)
    # d(x**y)/dy = x**y * log(x), log on the principal branch: log|x| + i pi for x < 0
    expected = np.power(x + 0j, y) * np.log(x + 0j)
    derivative = ad.elementwise_grad(lambda y: anp.power(x, y), holomorphic=True)(y)
    np.testing.assert_allclose(derivative, expected, rtol=1e-13)
    scalar = ad.grad(lambda y: anp.power(-2.0, y), holomorphic=True)(0.5 + 0.3j)
    np.testing.assert_allclose(scalar, (-2.0 + 0j) ** (0.5 + 0.3j) * (np.log(2.0) + 1j * np.pi))
    _, tangent = ad.jvp(lambda y: anp.power(-2.0, y), (0.5 + 0.3j,), (1.0 + 0j,))
    np.testing.assert_allclose(tangent, scalar)


@given(_NEGATIVE, _EXPONENT)
def test_power_of_a_negative_base_against_finite_differences(x, y):
    # both arguments, both modes, second order: the real base gets a real gradient
    check_grads(anp.power, (x, y))
    check_grads(lambda x, y: anp.sum(anp.abs(anp.power(x, y)) ** 2), (x, y))


def test_power_of_a_negative_base_of_a_real_function_of_complex_exponent():
    def f(y):
        return float(np.sum(np.abs(np.power(-1.5, y)) ** 2))

    y = np.array([0.4 + 0.3j, -0.8 - 0.2j, 1.1 + 0.1j])
    gradient = ad.grad(lambda y: anp.sum(anp.abs(anp.power(-1.5, y)) ** 2))(y)
    dx, dy = _real_and_imaginary_partials(f, y)
    np.testing.assert_allclose(gradient, dx - 1j * dy, rtol=1e-7, atol=1e-8)


def test_power_of_a_negative_base_is_right_under_jit():
    staged = ad.jit(ad.grad(lambda y: anp.power(-2.0, y), holomorphic=True))
    for y in (0.5 + 0.3j, 1.5 - 0.2j):
        np.testing.assert_allclose(staged(y), (-2.0 + 0j) ** y * np.log(-2.0 + 0j))
    base = ad.jit(ad.grad(lambda x: anp.real(anp.power(x, 0.5 + 0.3j))))
    for x in (-2.0, -0.7):
        eps = 1e-6
        fd = (np.power(x + eps, 0.5 + 0.3j) - np.power(x - eps, 0.5 + 0.3j)).real / (2 * eps)
        np.testing.assert_allclose(base(x), fd, rtol=1e-7)


def test_power_of_zero_under_a_complex_exponent():
    # 0**y = 0 for Re(y) > 0, a constant in y: the derivative in y is 0, not NaN
    y = np.array([0.5 + 0.3j, 2.0 - 1.0j])
    derivative = ad.elementwise_grad(lambda y: anp.power(np.zeros(2), y), holomorphic=True)(y)
    np.testing.assert_array_equal(derivative, np.zeros(2, complex))


def test_power_keeps_its_complex64():
    y = np.array([0.5 + 0.3j], np.complex64)
    derivative = ad.elementwise_grad(lambda y: anp.power(np.float32(-2.0), y), holomorphic=True)(y)
    assert derivative.dtype == np.complex64
    np.testing.assert_allclose(derivative, np.power(-2 + 0j, y) * np.log(-2 + 0j), rtol=1e-5)


def test_power_of_a_negative_base_on_other_array_libraries():
    xp = pytest.importorskip("array_api_strict")
    x = np.array([-2.0, 3.0])
    y = np.array([0.5 + 0.3j, 1.0 - 0.2j])

    def f(x, y):
        return anp.sum(anp.abs(anp.power(x, y)) ** 2)

    expected = ad.grad(f, argnums=(0, 1))(x, y)
    result = ad.grad(f, argnums=(0, 1))(xp.asarray(x), xp.asarray(y))
    for got, want in zip(result, expected):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-13)


def test_real_powers_keep_their_real_behaviour():
    # a real exponent: NumPy's real power, NaN derivative in y at a negative base
    with np.errstate(invalid="ignore"):
        assert np.isnan(ad.grad(lambda y: anp.power(-2.0, y))(2.0))
    assert ad.grad(lambda x: anp.power(x, 2.0))(-2.0) == -4.0
    assert ad.grad(lambda x: anp.power(x, 3))(-2.0) == 12.0
    assert ad.grad(lambda y: anp.power(0.0, y))(2.0) == 0.0
    assert ad.grad(lambda x: anp.power(x, 0.0))(0.0) == 0.0
    gradient = ad.grad(lambda y: anp.power(2.0, y))(1.5)
    assert type(gradient) is np.float64
    np.testing.assert_allclose(gradient, 2.0**1.5 * np.log(2.0))


# --- elementwise_grad(..., holomorphic=True) ------------------------------------------------


def test_elementwise_grad_holomorphic_is_the_complex_derivative():
    derivative = ad.elementwise_grad(lambda z: anp.sin(z) * anp.exp(z), holomorphic=True)(Z)
    np.testing.assert_allclose(derivative, np.cos(Z) * np.exp(Z) + np.sin(Z) * np.exp(Z))
    assert derivative.dtype == np.complex128
    dz, dw = ad.elementwise_grad(lambda z, w: z * w**2, argnums=(0, 1), holomorphic=True)(Z, W)
    np.testing.assert_allclose(dz, W**2)
    np.testing.assert_allclose(dw, 2 * Z * W)
    scalar = ad.elementwise_grad(lambda z: z**3, holomorphic=True)(1.0 + 2.0j)
    np.testing.assert_allclose(scalar, 3 * (1.0 + 2.0j) ** 2)


def test_elementwise_grad_of_real_outputs_follows_grad():
    # real outputs of complex inputs: df/dx - i df/dy at every point, as grad of the sum
    result = ad.elementwise_grad(lambda z: anp.abs(z) ** 2)(Z)
    np.testing.assert_allclose(result, 2 * np.conj(Z))
    x = np.array([0.3, -1.2])
    real = ad.elementwise_grad(lambda x: anp.real(anp.exp(1j * x)))(x)
    assert real.dtype == np.float64
    np.testing.assert_allclose(real, -np.sin(x))


def test_elementwise_grad_refuses_complex_outputs_without_holomorphic():
    with pytest.raises(
        TypeError,
        match=r"elementwise_grad: the output of <lambda> is complex \(complex128\); a complex "
        r"output is differentiated only with holomorphic=True",
    ):
        ad.elementwise_grad(lambda z: z**2)(Z)


def test_elementwise_grad_holomorphic_refuses_a_real_output():
    with pytest.raises(
        TypeError,
        match=r"elementwise_grad\(\.\.\., holomorphic=True\): the output of <lambda> has dtype "
        r"float64, but holomorphic differentiation needs a complex output",
    ):
        ad.elementwise_grad(lambda z: anp.abs(z), holomorphic=True)(Z)


def test_elementwise_grad_holomorphic_refuses_a_real_input():
    with pytest.raises(
        TypeError,
        match=r"elementwise_grad\(\.\.\., holomorphic=True\): argument 0 has dtype float64, "
        r"but holomorphic differentiation needs complex inputs; convert it with "
        r"x.astype\(complex\)",
    ):
        ad.elementwise_grad(lambda x: x * 1j, holomorphic=True)(np.ones(2))


def test_elementwise_grad_holomorphic_is_keyword_only():
    with pytest.raises(TypeError, match=r"takes from 1 to 2 positional arguments"):
        ad.elementwise_grad(anp.sin, 0, True)  # type: ignore[misc]


# --- jit on complex code ------------------------------------------------------------------


def _mixed(z):
    return anp.exp(z) * anp.conj(z) + anp.abs(z) * anp.angle(z) + z**2


def _real_function(z):
    return anp.sum(anp.abs(anp.sin(z)) ** 2 + anp.real(z * anp.exp(z)) * anp.angle(z + 3.0))


def test_jit_staged_on_one_complex_input_replays_on_another():
    staged = ad.jit(_mixed)
    for z in (Z, W, 3 * W - 1j):
        np.testing.assert_allclose(staged(z), _mixed(z), rtol=1e-13)
    # other dtypes are other signatures: staged again, not replayed with a wrong dtype
    single = Z.astype(np.complex64)
    assert staged(single).dtype == np.complex64
    np.testing.assert_allclose(staged(single), _mixed(single), rtol=1e-5)
    real = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(staged(real), _mixed(real), rtol=1e-13)


def test_jit_of_grad_with_complex_arguments():
    staged = ad.jit(ad.grad(_real_function))
    for z in (Z, W):
        dx, dy = _real_and_imaginary_partials(lambda z: float(_real_function(z)), z)
        np.testing.assert_allclose(staged(z), dx - 1j * dy, rtol=1e-6, atol=1e-7)
    outer = ad.grad(ad.jit(_real_function))
    np.testing.assert_allclose(outer(W), ad.grad(_real_function)(W), rtol=1e-13)
    two = ad.jit(ad.grad(lambda z, w: anp.real(anp.sum(z * anp.conj(w))), argnums=(0, 1)))
    dz, dw = two(Z, W)
    # Re(z conj(w)) = x u + y v for z = x + iy, w = u + iv: d/dx - i d/dy = u - iv
    np.testing.assert_allclose(dz, np.conj(W))
    np.testing.assert_allclose(dw, np.conj(Z))


def test_jit_of_holomorphic_derivatives_and_jvp():
    staged = ad.jit(ad.elementwise_grad(anp.sin, holomorphic=True))
    for z in (Z, W):
        np.testing.assert_allclose(staged(z), np.cos(z))
    pushed = ad.jit(lambda z, t: ad.jvp(anp.exp, (z,), (t,))[1])
    for z, t in ((Z, W), (W, Z)):
        np.testing.assert_allclose(pushed(z, t), np.exp(z) * t)


# --- second derivatives of real functions of complex input --------------------------------


def _second_partials(f, z, v, eps=1e-4):
    """The derivative of ``(df/dx, df/dy)`` along the complex direction ``v``, by central
    differences of ``f`` alone (no gradient of adfun involved)."""

    def partials(point):
        return _real_and_imaginary_partials(f, point, eps)

    plus_x, plus_y = partials(z + eps * v)
    minus_x, minus_y = partials(z - eps * v)
    return (plus_x - minus_x) / (2 * eps), (plus_y - minus_y) / (2 * eps)


def test_hvp_of_a_real_function_of_complex_input_against_finite_differences():
    def f(z):
        return float(_real_function(z))

    for z, v in ((Z, W), (W, Z + 0.5)):
        result = ad.hvp(_real_function)(z, v)
        dxx, dyy = _second_partials(f, z, v)
        assert result.dtype == np.complex128
        np.testing.assert_allclose(result, dxx - 1j * dyy, rtol=1e-4, atol=1e-5)
        staged = ad.jit(ad.hvp(_real_function))(z, v)
        np.testing.assert_allclose(staged, result, rtol=1e-12)


def test_hessian_of_a_real_function_of_real_input_through_complex_intermediates():
    def f(x):
        spectrum = anp.fft.fft(x * anp.exp(0.5j * x))
        return anp.sum(anp.abs(spectrum) ** 2 * anp.cos(anp.angle(spectrum + 4.0)))

    x = np.array([0.3, -1.2, 0.7])
    hessian = ad.hessian(f)(x)
    assert hessian.dtype == np.float64
    eps = 1e-5
    columns = []
    for index in range(3):
        step = np.zeros(3)
        step[index] = eps
        columns.append((ad.grad(f)(x + step) - ad.grad(f)(x - step)) / (2 * eps))
    np.testing.assert_allclose(hessian, np.stack(columns, axis=1), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ad.jit(ad.hessian(f))(x), hessian, rtol=1e-12)


def test_hessian_of_a_real_function_of_complex_input_is_refused():
    with pytest.raises(
        TypeError,
        match=r"hessian: the gradient of _real_function is complex, as its argument is: "
        r"the Hessian of a real-valued function of complex input is a real-linear map .* "
        r"Use adfun.hvp\(f\)\(z, v\)",
    ):
        ad.hessian(_real_function)(Z)


# --- the imperative layer stays real ------------------------------------------------------

_MXNET = (
    r"but adfun.nd and adfun.autograd follow MXNet 1.x, which has no complex dtypes and no "
    r"complex autograd. Differentiate complex code with adfun.numpy and adfun.grad"
)


def _setitem():
    x = nd.zeros(2)
    x[:] = np.array([1j, 2.0])


def _iadd():
    x = nd.zeros(2)
    x += 1j


_REFUSED = [
    (lambda: nd.array([1 + 2j, 3j]), r"adfun.nd.array: source_array is complex \(complex128\)"),
    (lambda: nd.array(np.array([[1j]])), r"adfun.nd.array: source_array is complex"),
    (lambda: nd.array([[np.complex64(1)]]), r"adfun.nd.array: source_array is complex \(complex64"),
    (lambda: nd.array([1.0], dtype=complex), r"adfun.nd.array: dtype is complex \(complex128\)"),
    (lambda: nd.array(nd.ones(1), dtype="complex64"), r"adfun.nd.array: dtype is complex"),
    (lambda: nd.zeros(2, dtype="complex64"), r"adfun.nd.zeros: dtype is complex \(complex64\)"),
    (lambda: nd.ones(2, dtype=complex), r"adfun.nd.ones: dtype is complex"),
    (lambda: nd.full(2, 1j), r"adfun.nd.full: val is complex"),
    (lambda: nd.full(2, 1.0, dtype=complex), r"adfun.nd.full: dtype is complex"),
    (lambda: nd.arange(3, dtype=complex), r"adfun.nd.arange: dtype is complex"),
    (lambda: nd.random_normal(shape=2, dtype=complex), r"adfun.nd.random_normal: dtype is"),
    (lambda: nd.random_uniform(shape=2, dtype=complex), r"adfun.nd.random_uniform: dtype is"),
    (lambda: nd.NDArray(np.array([1j])), r"NDArray: value is complex"),
    (lambda: nd.ones(2).astype(complex), r"NDArray.astype: dtype is complex"),
    (lambda: nd.ones(2) + 1j, r"NDArray.__add__: the other operand is complex \(complex128\)"),
    (lambda: 1j * nd.ones(2), r"NDArray.__rmul__: the other operand is complex"),
    (lambda: nd.ones(2) * np.complex64(1j), r"NDArray.__mul__: the other operand is complex"),
    (lambda: nd.ones(2) - np.array([1j, 1]), r"NDArray.__sub__: the other operand is complex"),
    (lambda: np.array([1j, 1]) / nd.ones(2), r"NDArray.__rtruediv__: the other operand is"),
    (_iadd, r"NDArray.__iadd__: the other operand is complex"),
    (_setitem, r"NDArray.__setitem__: the value written is complex"),
    (
        lambda: nd.dot(nd.ones(2), np.array([1j, 1])),
        r"adfun.nd: the result of an operation on a complex NumPy array is complex",
    ),
    (
        lambda: nd.sparse.csr_matrix(np.array([[1j, 0]])),
        r"adfun.nd.sparse.csr_matrix: the data is complex",
    ),
    (
        lambda: nd.sparse.row_sparse_array(np.ones((1, 2)), dtype=complex),
        r"adfun.nd.sparse.row_sparse_array: dtype is complex",
    ),
    (lambda: nd.sparse.zeros("csr", (2, 2), dtype=complex), r"adfun.nd.sparse.zeros: dtype is"),
]


@pytest.mark.parametrize(("make", "message"), _REFUSED)
def test_the_imperative_layer_refuses_complex_values(make, message):
    with pytest.raises(TypeError, match=message + r".* " + _MXNET):
        make()


def test_complex_head_gradients_are_refused():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * 2
    message = r"backward: head_grads\[0\] is complex \(complex128\), " + _MXNET
    with pytest.raises(TypeError, match=message):
        y.backward(np.array([1j, 1.0]))
    with pytest.raises(TypeError, match=message):
        autograd.backward([y], [np.array([1j, 1.0])])
    with pytest.raises(TypeError, match=r"autograd.grad: head_grads\[0\] is complex"):
        autograd.grad(y, [x], head_grads=[np.array([1j, 1.0])])
    y.backward()  # the graph was left untouched by the refusals
    np.testing.assert_array_equal(x.grad.asnumpy(), [2.0, 2.0])


# The public constructors refuse complex values, so a complex NDArray exists only when
# made from a value directly (``_new``); the autograd entry points refuse it too.
def test_attach_grad_refuses_a_complex_array():
    with pytest.raises(TypeError, match=r"NDArray.attach_grad: the array is complex \(complex128"):
        _new(np.array([1j])).attach_grad()
    with pytest.raises(TypeError, match=r"NDArray.attach_grad: the array is complex .* " + _MXNET):
        _new(np.array([1j], np.complex64)).attach_grad()


def test_mark_variables_refuses_complex_arrays():
    with pytest.raises(
        TypeError, match=r"autograd.mark_variables: variables\[0\] is complex .* " + _MXNET
    ):
        autograd.mark_variables(_new(np.array([1j])), nd.zeros(1))
    with pytest.raises(TypeError, match=r"autograd.mark_variables: gradients\[0\] is complex"):
        autograd.mark_variables(nd.zeros(1), _new(np.array([1j])))


def test_backward_through_a_complex_array_is_refused():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * 2
    head = _new(y._value.astype(complex), y._tracer)
    message = r"backward: the array you called backward on is complex \(complex128\), "
    with pytest.raises(TypeError, match=message + _MXNET):
        head.backward()
    with pytest.raises(TypeError, match=message):
        autograd.backward(head)
    with pytest.raises(TypeError, match=r"autograd.grad: the array you called backward on"):
        autograd.grad(head, [x])
    with pytest.raises(TypeError, match=r"backward: heads\[1\] is complex \(complex128\)"):
        autograd.backward([y, head])
