"""adfun.scipy.special on complex values: HIPS autograd's and JAX's convention.

Where SciPy defines a special function for complex arguments, adfun differentiates it
there (the rule-table test, tests/test_complex_rules.py, checks every ``complex_domain``
against finite differences in both modes); here: the set of complex-capable functions
agrees with SciPy's own loops, holomorphic derivatives, real-valued functions of complex
input (``check_grads``, ``hvp``, ``jit``), the non-holomorphic ``ive``, the complex
``logsumexp`` with ``return_sign``, the complex polygamma series behind the derivatives
of ``gamma`` and ``digamma``, and the ``TypeError`` of every function SciPy defines for
real values only.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

scipy = pytest.importorskip("scipy")
mpmath = pytest.importorskip("mpmath")
import scipy.special as sp  # noqa: E402

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402
from adfun.numpy._declare import REGISTRY  # noqa: E402
from adfun.scipy import special  # noqa: E402
from adfun.scipy._polygamma import complex_polygamma  # noqa: E402
from adfun.testing import check_grads  # noqa: E402
from adfun.testing import strategies as ads  # noqa: E402

from _checking import check  # noqa: E402

RNG = np.random.default_rng(1717)
#: Off the real axis, where no special function here has a pole or a branch cut.
Z = np.array([0.7 + 0.4j, -1.3 + 0.9j, 2.1 - 1.2j])
SQRT_PI = np.sqrt(np.pi)

#: SciPy's functions that are not ufuncs, and whether they take complex values.
_NOT_UFUNCS = {
    "logsumexp": True,
    "softmax": True,
    "log_softmax": True,
    "polygamma": False,
    "spherical_jn": True,
    "spherical_yn": True,
    "spherical_in": True,
    "spherical_kn": True,
}


def _special_primitives():
    return sorted(
        name[len("special.") :]
        for name, fun in REGISTRY.items()
        if name.startswith("special.") and not fun.primitive.nondiff
    )


def _scipy_takes_complex(name):
    fun = getattr(sp, name)
    if not isinstance(fun, np.ufunc):
        return _NOT_UFUNCS[name]
    return any("D" in signature.split("->")[0] for signature in fun.types)


# --- which functions are complex ---------------------------------------------------------


def test_complex_domains_are_exactly_scipys_complex_functions():
    declared = {
        name
        for name in _special_primitives()
        if REGISTRY["special." + name].primitive.complex_domain is not None
    }
    scipy_complex = {name for name in _special_primitives() if _scipy_takes_complex(name)}
    assert declared == scipy_complex
    assert {"erf", "gamma", "loggamma", "digamma", "jv", "wofz", "logsumexp"} <= declared


# --- holomorphic derivatives --------------------------------------------------------------

_HOLOMORPHIC = {
    "gamma": (special.gamma, lambda z: sp.gamma(z) * sp.digamma(z)),
    "rgamma": (special.rgamma, lambda z: -sp.rgamma(z) * sp.digamma(z)),
    "loggamma": (special.loggamma, sp.digamma),
    "digamma": (
        special.digamma,
        lambda z: np.array([complex(mpmath.psi(1, complex(w))) for w in np.ravel(z)]),
    ),
    "erf": (special.erf, lambda z: 2.0 / SQRT_PI * np.exp(-z * z)),
    "erfcx": (special.erfcx, lambda z: 2.0 * z * sp.erfcx(z) - 2.0 / SQRT_PI),
    "wofz": (special.wofz, lambda z: 2j / SQRT_PI - 2.0 * z * sp.wofz(z)),
    "exp1": (special.exp1, lambda z: -np.exp(-z) / z),
    "log_ndtr": (
        special.log_ndtr,
        lambda z: np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi) / sp.ndtr(z),
    ),
    "jv": (
        lambda z: special.jv(1.5, z),
        lambda z: 0.5 * (sp.jv(0.5, z) - sp.jv(2.5, z)),
    ),
    "hankel1": (
        lambda z: special.hankel1(1.0, z),
        lambda z: 0.5 * (sp.hankel1(0.0, z) - sp.hankel1(2.0, z)),
    ),
    "kve": (
        lambda z: special.kve(0.5, z),
        lambda z: sp.kve(0.5, z) - 0.5 * (sp.kve(-0.5, z) + sp.kve(1.5, z)),
    ),
    "xlogy": (lambda z: special.xlogy(2.0 - 1.0j, z), lambda z: (2.0 - 1.0j) / z),
    "spherical_yn": (
        lambda z: special.spherical_yn(2, z),
        lambda z: sp.spherical_yn(2, z, derivative=True),
    ),
    # The derivative of spherical_in's derivative, from the modified Bessel equation.
    "spherical_in'": (
        lambda z: special.spherical_in(1, z, derivative=True),
        lambda z: (
            -2.0 * sp.spherical_in(1, z, derivative=True) / z
            + (2.0 / (z * z) + 1.0) * sp.spherical_in(1, z)
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(_HOLOMORPHIC))
def test_holomorphic_grad_and_jvp_are_the_complex_derivative(name):
    fun, derivative = _HOLOMORPHIC[name]
    z = Z[Z.real > 0] if name in ("jv", "hankel1", "kve", "spherical_yn") else Z
    expected = derivative(z)
    gradients = np.array([ad.grad(fun, holomorphic=True)(w) for w in z])
    np.testing.assert_allclose(gradients, expected, rtol=1e-9, atol=1e-12)
    tangent = RNG.standard_normal(z.shape) + 1j * RNG.standard_normal(z.shape)
    _, out_tangent = ad.jvp(fun, (z,), (tangent,))
    np.testing.assert_allclose(out_tangent, expected * tangent, rtol=1e-9, atol=1e-12)
    # The reverse rule multiplies by f'(z) (no conjugate: the cotangent convention).
    _, vjp_fn = ad.vjp(fun, z)
    cotangent = np.conj(tangent)
    np.testing.assert_allclose(vjp_fn(cotangent)[0], cotangent * expected, rtol=1e-9)


def test_holomorphic_second_derivative_of_gamma():
    z = 1.3 + 0.6j
    second = ad.grad(ad.grad(special.gamma, holomorphic=True), holomorphic=True)(z)
    expected = sp.gamma(z) * (sp.digamma(z) ** 2 + complex(mpmath.psi(1, z)))
    np.testing.assert_allclose(second, expected, rtol=1e-10)


# --- real-valued functions of complex input ------------------------------------------------


def _partials(f, z, eps=1e-6):
    """``df/dx - i df/dy`` of a real function of complex ``z``, by central differences."""
    result = np.zeros(z.shape, dtype=complex)
    for index in np.ndindex(*z.shape):
        step = np.zeros(z.shape, dtype=complex)
        step[index] = eps
        dx = (f(z + step) - f(z - step)) / (2 * eps)
        dy = (f(z + 1j * step) - f(z - 1j * step)) / (2 * eps)
        result[index] = dx - 1j * dy
    return result


def _abs_gamma_squared(z):
    return anp.sum(anp.abs(special.gamma(z)) ** 2)


def test_grad_of_abs_gamma_squared_is_df_dx_minus_i_df_dy():
    gradient = ad.grad(_abs_gamma_squared)(Z)
    expected = _partials(lambda z: float(np.sum(np.abs(sp.gamma(z)) ** 2)), Z)
    assert gradient.dtype == np.complex128
    np.testing.assert_allclose(gradient, expected, rtol=1e-6)
    check_grads(_abs_gamma_squared, (Z,), order=2)


def test_hvp_and_jit_of_a_real_function_of_complex_input():
    def loss(z):
        return anp.sum(anp.abs(special.erf(z)) ** 2 + anp.real(special.loggamma(z)))

    v = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    gradient = ad.grad(loss)
    eps = 1e-6
    expected = (gradient(Z + eps * v) - gradient(Z - eps * v)) / (2 * eps)
    np.testing.assert_allclose(ad.hvp(loss)(Z, v), expected, rtol=1e-6, atol=1e-7)
    staged = ad.jit(gradient)
    for z in (Z, 0.5 * Z + 0.3j):
        np.testing.assert_allclose(staged(z), gradient(z), rtol=1e-13)


def test_scipy_ufuncs_on_complex_traced_values_dispatch_here():
    def loss(z):
        return anp.sum(anp.abs(sp.gamma(z)) ** 2)

    np.testing.assert_allclose(ad.grad(loss)(Z), ad.grad(_abs_gamma_squared)(Z))


def test_complex64_gradients_stay_complex64():
    z = np.complex64(0.7 + 0.4j)
    gradient = ad.grad(lambda z: anp.abs(special.erf(z)) ** 2)(z)
    assert gradient.dtype == np.complex64


def test_real_inputs_keep_real_gradients_through_complex_special_functions():
    def loss(x):
        return anp.abs(special.xlogy(x, 1.0 + 1.0j)) ** 2 + anp.real(special.wofz(x))

    gradient = ad.grad(loss)(0.7)
    eps = 1e-6
    expected = (loss(0.7 + eps) - loss(0.7 - eps)) / (2 * eps)
    assert isinstance(gradient, float | np.floating)
    np.testing.assert_allclose(gradient, expected, rtol=1e-7)


_OFF_AXIS = st.complex_numbers(min_magnitude=0.3, max_magnitude=3.0).filter(
    lambda z: abs(z.imag) > 0.3 and abs(z.real) > 0.2
)


@settings(max_examples=30)
@given(z=ads.complex_arrays(shape=st.sampled_from([(), (2,), (2, 2)]), elements=_OFF_AXIS))
def test_check_grads_of_real_losses_on_drawn_complex_values(z):
    check_grads(lambda z: anp.sum(anp.abs(special.gamma(z)) ** 2), (z,), order=2)
    check_grads(lambda z: anp.sum(anp.real(special.digamma(z) * special.erf(z))), (z,))
    check_grads(lambda z: anp.sum(anp.angle(special.yv(1.0, z))), (z,))
    check_grads(lambda z: anp.sum(anp.abs(special.ive(0.5, z)) ** 2), (z,), order=2)


# --- ive, which is not holomorphic ---------------------------------------------------------


@pytest.mark.parametrize("order", [0.0, 1.0, 2.5])
def test_ive_of_complex_values_on_both_sides_of_the_imaginary_axis(order):
    z = np.array([0.8 + 0.5j, -1.1 + 0.7j, -2.0 - 1.5j, 1.5 - 0.4j])
    check(lambda z: special.ive(order, z), (z,), order=2)
    # ive = iv exp(-|Re z|): not holomorphic, so grad(holomorphic=True) is not iv'.
    gradient = ad.grad(lambda z: anp.sum(anp.real(special.ive(order, z))))(z)
    expected = _partials(lambda w: float(np.sum(np.real(sp.ive(order, w)))), z)
    np.testing.assert_allclose(gradient, expected, rtol=1e-7)


# --- logsumexp, softmax ----------------------------------------------------------------------


def test_complex_logsumexp_matches_scipy():
    a = np.array([0.3 + 0.2j, -0.4 + 1.1j, 1.2 - 0.3j])
    b = np.array([1.0, -2.0 + 0.5j, 0.7])
    np.testing.assert_allclose(special.logsumexp(a, b=b), sp.logsumexp(a, b=b))
    for value, expected in zip(
        special.logsumexp(a, b=b, return_sign=True), sp.logsumexp(a, b=b, return_sign=True)
    ):
        np.testing.assert_allclose(value, expected)


def test_complex_logsumexp_with_return_sign_differentiates_the_phase():
    a = np.array([0.3 + 0.2j, -0.4 + 1.1j, 1.2 - 0.3j])
    b = np.array([1.0, -2.0 + 0.5j, 0.7 - 0.1j])

    def loss(a, b):
        log_size, phase = special.logsumexp(a, b=b, return_sign=True)
        return log_size + anp.real(phase * (0.4 - 0.9j))

    value, sign = sp.logsumexp(a, b=b, return_sign=True)
    np.testing.assert_allclose(loss(a, b), value + np.real(sign * (0.4 - 0.9j)))
    check_grads(loss, (a, b), order=2)
    # A real b with mixed signs and complex a: the phase is differentiated too.
    check_grads(lambda a: loss(a, np.array([1.0, -0.5, 2.0])), (a,), order=1)


def test_complex_softmax_gradient():
    x = np.array([0.3 + 0.2j, -0.4 + 0.1j, 1.2 - 0.3j])
    check(lambda x: special.softmax(x), (x,), order=2)
    check(lambda x: special.log_softmax(x), (x,), order=2)


# --- the complex polygamma series ------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_complex_polygamma_against_mpmath_and_scipy(n):
    points = [0.3 + 0.2j, -2.7 + 1.1j, 3.0 - 3.0j, 0.01 + 4.0j, -7.5 - 0.3j, 30.0 + 20.0j]
    values = complex_polygamma(n, np.array(points))
    expected = [complex(mpmath.polygamma(n, z)) for z in points]
    np.testing.assert_allclose(values, expected, rtol=1e-13)
    x = np.array([0.1, 0.7, 2.5, 17.3, -0.5, -3.7, 40.0])
    np.testing.assert_allclose(complex_polygamma(n, x).real, sp.polygamma(n, x), rtol=1e-13)


def test_complex_polygamma_dtype_and_order():
    assert complex_polygamma(1, np.complex64(1.0 + 1.0j)).dtype == np.complex64
    with pytest.raises(ValueError, match=r"complex_polygamma: the order must be at least 1"):
        complex_polygamma(0, 1.0 + 1.0j)


def test_third_derivative_of_digamma_at_a_complex_value():
    z = 0.9 - 0.7j
    third = ad.grad(
        ad.grad(ad.grad(special.digamma, holomorphic=True), holomorphic=True),
        holomorphic=True,
    )(z)
    np.testing.assert_allclose(third, complex(mpmath.psi(3, z)), rtol=1e-12)


# --- functions SciPy defines for real values only --------------------------------------------

_REAL_ONLY = sorted(
    name
    for name, fun in REGISTRY.items()
    if name.startswith("special.")
    and hasattr(sp, name[len("special.") :])
    and not _scipy_takes_complex(name[len("special.") :])
)
#: The name of the last positional argument, where the tests put the complex value.
_LAST_ARGUMENT = {
    "polygamma": "x",
    "yn": "x",
    "beta": "b",
    "betaln": "b",
    "gammainc": "x",
    "gammaincc": "x",
    "stdtr": "t",
    "rel_entr": "y",
    "kl_div": "y",
    "betainc": "x",
    "betaincc": "x",
}


def _real_only_call(name, z):
    """``special.<name>`` with real arguments and ``z`` as the last one."""
    fun = getattr(special, name)
    count = getattr(getattr(sp, name), "nin", 2)
    leading = {"polygamma": (1,), "yn": (1,)}.get(name, (0.6,) * (count - 1))
    return fun(*leading, z)


def test_the_real_only_functions_are_the_expected_ones():
    names = {name[len("special.") :] for name in _REAL_ONLY}
    assert {"erfinv", "ndtri", "expit", "gammaln", "polygamma", "betainc", "gammasgn"} <= names
    assert not names & {"erf", "gamma", "jv", "logsumexp"}


@pytest.mark.parametrize("registry_name", _REAL_ONLY)
def test_real_only_functions_refuse_complex_values_naming_themselves(registry_name):
    name = registry_name[len("special.") :]
    argument = _LAST_ARGUMENT.get(name, "x")
    message = (
        rf"adfun\.scipy\.special\.{name}: argument {argument} is complex \(complex128\), "
        rf"but SciPy defines {name} for real {argument} only"
    )
    z = np.array([0.4 + 0.1j, 0.3 - 0.2j])
    with pytest.raises(TypeError, match=message):  # traced
        ad.grad(lambda z: anp.sum(anp.abs(_real_only_call(name, z))))(z)
    with pytest.raises(TypeError, match=message):  # plain values
        _real_only_call(name, z)
    with pytest.raises(TypeError, match=message):  # under jit
        ad.jit(lambda z: _real_only_call(name, z))(z)


def test_real_only_errors_suggest_the_complex_function():
    with pytest.raises(TypeError, match=r"gammaln: .*loggamma is defined for complex values"):
        ad.grad(lambda z: anp.abs(special.gammaln(z)))(1.0 + 1.0j)
    with pytest.raises(TypeError, match=r"special\.j0: .*jv\(0, z\) is defined for complex z"):
        special.j0(1.0 + 1.0j)
    # SciPy's ufunc called on a complex traced value gets the same error.
    with pytest.raises(TypeError, match=r"special\.ndtri: argument x is complex \(complex128\)"):
        ad.grad(lambda z: anp.abs(sp.ndtri(z)))(0.4 + 0.1j)


def test_a_complex_order_of_a_bessel_function_is_refused():
    with pytest.raises(TypeError, match=r"special\.jv: argument v is complex .* real v only"):
        special.jv(1.0 + 0.5j, np.array([1.0 + 1.0j]))
    with pytest.raises(TypeError, match=r"special\.hankel1: argument v is complex"):
        ad.grad(lambda z: anp.abs(special.hankel1(z, 2.0)))(1.0 + 0.5j)


def test_multigammaln_refuses_complex_values():
    message = r"adfun\.scipy\.special\.multigammaln: argument a is complex \(complex128\)"
    with pytest.raises(TypeError, match=message):
        special.multigammaln(np.array([3.0 + 1.0j]), 2)
    with pytest.raises(TypeError, match=message):
        ad.grad(lambda z: anp.abs(special.multigammaln(z, 2)))(np.complex128(3.0 + 1.0j))


def test_real_only_functions_keep_other_type_errors():
    with pytest.raises(TypeError, match=r"keyword argument"):
        ad.grad(lambda x: special.ndtri(x, out=None))(0.3)
