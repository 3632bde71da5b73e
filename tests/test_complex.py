"""Complex numbers in the transforms: HIPS autograd's and JAX's convention.

For a real-valued ``f`` of ``z = x + iy``, ``grad(f)(z) = df/dx - i df/dy``; with
``holomorphic=True`` the gradient of a holomorphic ``f`` is ``f'(z)``; real inputs keep
real gradients through complex intermediates.  Checked against finite differences of
the real and imaginary parts, in both modes, under ``jit``, and by ``check_grads`` on
complex values (Hypothesis-drawn with ``adfun.testing.strategies.complex_arrays``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import adfun as ad
import adfun.numpy as anp
from adfun.testing import check_grads
from adfun.testing import strategies as ads

RNG = np.random.default_rng(17)
Z = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)


def _partials(f, z, eps=1e-6):
    """``(df/dx, df/dy)`` of a real function of complex ``z`` by central differences."""
    z = np.asarray(z, dtype=complex)
    dx = np.zeros(z.shape)
    dy = np.zeros(z.shape)
    for index in np.ndindex(*z.shape):
        step = np.zeros(z.shape, dtype=complex)
        step[index] = eps
        dx[index] = (f(z + step) - f(z - step)) / (2 * eps)
        dy[index] = (f(z + 1j * step) - f(z - 1j * step)) / (2 * eps)
    return dx, dy


def _real_function(z):
    return anp.sum(anp.abs(anp.sin(z)) ** 2 + anp.real(z * anp.exp(z)) * anp.angle(z + 3.0))


# --- the convention -----------------------------------------------------------------------


def test_grad_of_a_real_function_is_df_dx_minus_i_df_dy():
    gradient = ad.grad(_real_function)(Z)
    dx, dy = _partials(lambda z: float(_real_function(z)), Z)
    assert gradient.dtype == np.complex128 and gradient.shape == Z.shape
    np.testing.assert_allclose(gradient, dx - 1j * dy, rtol=1e-7, atol=1e-8)


def test_the_jax_example_abs_squared():
    # JAX's documentation: grad(lambda z: abs(z)**2)(3+4j) == 6-8j.
    np.testing.assert_allclose(ad.grad(lambda z: anp.abs(z) ** 2)(3.0 + 4.0j), 6.0 - 8.0j)


def test_python_complex_scalars_give_complex128_gradients():
    gradient = ad.grad(lambda z: anp.real(z * anp.conj(z)))(1.0 + 2.0j)
    assert type(gradient) is np.complex128 and gradient == 2.0 - 4.0j


def test_gradients_keep_complex64():
    z = Z.astype(np.complex64)
    gradient = ad.grad(lambda z: anp.sum(anp.abs(z) ** 2))(z)
    assert gradient.dtype == np.complex64
    np.testing.assert_allclose(gradient, 2 * np.conj(z), rtol=1e-6)


def test_real_inputs_keep_real_gradients_through_complex_intermediates():
    x = np.array([0.3, -1.2, 2.0])

    def f(x):
        spectrum = anp.fft.fft(x * anp.exp(0.5j * x))
        return anp.sum(anp.abs(spectrum) ** 2 + anp.angle(spectrum + 10.0))

    gradient = ad.grad(f)(x)
    assert gradient.dtype == np.float64
    check_grads(f, (x,))


@pytest.mark.parametrize("x", [0.3, -0.7, 1.5])
def test_angle_of_a_complex_intermediate_is_not_a_constant(x):
    # d/dx atan2(0.5, x) = -0.5 / (x**2 + 0.25): -1.4706 at 0.3 (was silently 0).
    gradient = ad.grad(lambda x: anp.angle(x + 0.5j))(x)
    np.testing.assert_allclose(gradient, -0.5 / (x * x + 0.25))
    degrees = ad.grad(lambda x: anp.angle(x + 0.5j, deg=True))(x)
    np.testing.assert_allclose(degrees, np.degrees(-0.5 / (x * x + 0.25)))


def test_angle_and_sign_of_reals_are_piecewise_constant():
    x = np.array([-2.0, 0.0, 3.0])
    assert np.all(ad.elementwise_grad(anp.angle)(x) == 0.0)
    assert np.all(ad.elementwise_grad(anp.sign)(x) == 0.0)


def test_the_sign_of_complex_values_is_differentiated():
    check_grads(lambda z: anp.sign(z), (Z,))
    # At 0, numpy.sign gives 0: the derivative is taken as 0 there.
    np.testing.assert_array_equal(ad.grad(lambda z: anp.real(anp.sign(z)))(0j), 0j)


def test_real_if_close():
    assert ad.grad(lambda z: anp.real_if_close(z * anp.conj(z)))(1.0 + 2.0j) == 2.0 - 4.0j
    value, gradient = ad.value_and_grad(lambda z: anp.real_if_close(z * z).real)(1.0 + 2.0j)
    assert value == -3.0 and gradient == 2.0 + 4.0j  # d Re(z**2) = 2x dx - 2y dy
    with pytest.raises(ad.StagingError, match=r"adfun.numpy.real_if_close: the result depends"):
        ad.jit(lambda z: anp.real_if_close(z * anp.conj(z)))(1.0 + 2.0j)


# --- holomorphic -----------------------------------------------------------------------------


def _holomorphic(z):
    return anp.sin(z) * anp.exp(z) / (z + 3.0)


def _derivative(z):
    return (np.cos(z) * np.exp(z) + np.sin(z) * np.exp(z)) / (z + 3.0) - np.sin(z) * np.exp(z) / (
        z + 3.0
    ) ** 2


def test_holomorphic_grad_is_the_complex_derivative():
    for z in Z:
        np.testing.assert_allclose(ad.grad(_holomorphic, holomorphic=True)(z), _derivative(z))
    value, gradient = ad.value_and_grad(_holomorphic, holomorphic=True)(Z[0])
    np.testing.assert_allclose(value, _holomorphic(Z[0]))
    np.testing.assert_allclose(gradient, _derivative(Z[0]))


@pytest.mark.parametrize("jacobian", [ad.jacrev, ad.jacfwd, ad.jacobian])
def test_holomorphic_jacobians(jacobian):
    result = jacobian(_holomorphic, holomorphic=True)(Z)
    np.testing.assert_allclose(result, np.diag(_derivative(Z)), atol=1e-12)


def test_holomorphic_hessian():
    result = ad.hessian(lambda z: anp.sum(z**3), holomorphic=True)(Z)
    np.testing.assert_allclose(result, np.diag(6.0 * Z), atol=1e-12)


@pytest.mark.parametrize("jacobian", [ad.jacrev, ad.jacfwd])
def test_jacobians_of_real_outputs_of_complex_inputs_follow_grad(jacobian):
    def f(z):
        return anp.stack([anp.sum(anp.abs(z) ** 2), anp.real(z[0] * z[1]), anp.imag(z[2])])

    result = jacobian(f)(Z)
    assert result.shape == (3, 3) and result.dtype == np.complex128
    for row in range(3):
        np.testing.assert_allclose(result[row], ad.grad(lambda z, row=row: f(z)[row])(Z))


# --- forward mode, hvp, jit -------------------------------------------------------------------


def test_jvp_with_complex_tangents():
    tangent = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    out, out_tangent = ad.jvp(_holomorphic, (Z,), (tangent,))
    np.testing.assert_allclose(out_tangent, _derivative(Z) * tangent)
    # A Python complex tangent for a 0-d complex primal takes its dtype.
    _, scalar_tangent = ad.jvp(_holomorphic, (Z[0],), (1j,))
    np.testing.assert_allclose(scalar_tangent, _derivative(Z[0]) * 1j)


def test_hvp_of_a_real_function_of_complex_input():
    v = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    result = ad.hvp(_real_function)(Z, v)
    eps = 1e-6
    gradient = ad.grad(_real_function)
    expected = (gradient(Z + eps * v) - gradient(Z - eps * v)) / (2 * eps)
    assert result.dtype == np.complex128
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-7)


def test_jit_of_complex_gradients():
    staged = ad.jit(ad.grad(_real_function))
    for z in (Z, 2 * Z + 0.5j):
        np.testing.assert_allclose(staged(z), ad.grad(_real_function)(z), rtol=1e-13)
    holomorphic = ad.jit(ad.grad(_holomorphic, holomorphic=True))
    np.testing.assert_allclose(holomorphic(Z[1]), _derivative(Z[1]))


def test_vjp_of_a_complex_output_takes_a_complex_cotangent():
    out, vjp_fn = ad.vjp(_holomorphic, Z)
    cotangent = np.conj(Z)
    (gradient,) = vjp_fn(cotangent)
    np.testing.assert_allclose(gradient, cotangent * _derivative(Z))


# --- check_grads and strategies on complex values --------------------------------------------


@given(
    ads.complex_arrays(
        shape=st.sampled_from([(), (2,), (2, 3)]),
        elements=st.complex_numbers(
            min_magnitude=0.3, max_magnitude=3.0, allow_nan=False, allow_infinity=False
        ),
    )
)
def test_check_grads_on_complex_values(z):
    check_grads(lambda z: anp.abs(z) * anp.exp(0.3j * z) + anp.conj(z) ** 2, (z,))
    check_grads(lambda z, x: anp.sum(anp.angle(z + 4.0) * x), (z, 1.5))


def test_complex64_arrays_are_drawn():
    @given(ads.complex_arrays((2,), dtype=np.complex64))
    def draw(z):
        assert z.dtype == np.complex64 and np.all(np.isfinite(z))

    draw()


def test_complex_arrays_refuse_real_dtypes():
    with pytest.raises(ValueError, match=r"complex_arrays: dtype must be a complex dtype"):
        ads.complex_arrays(dtype=np.float64)
