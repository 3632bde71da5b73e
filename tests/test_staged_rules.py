"""Derivative rules and functions that look at values, under staging (issue 13, section 1).

A rule that branched on a value read while tracing (``full_value``, ``np.`` on the value,
a Python ``if``) kept that branch as a constant of the staged program, so ``jit(grad(f))``
traced at one input gave a silently wrong answer at another.  Each test here stages a
transform at one input, calls it at another whose branch differs, and compares with the
unstaged transform at that input; value-dependent steps that cannot be recorded must
raise ``StagingError`` naming the function.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import adfun as ad
import adfun.numpy as anp
import adfun.scipy.special as asp


def _staged_matches(transform, first, second, rtol=0.0, atol=0.0):
    """Stage ``transform`` at ``first``, call it at ``second``: as the unstaged one."""
    staged = ad.jit(transform)
    staged(*first)
    got, expected = staged(*second), transform(*second)
    for got_part, expected_part in zip(_leaves(got), _leaves(expected), strict=True):
        assert np.shape(got_part) == np.shape(expected_part)
        assert np.all(np.isfinite(got_part)) == np.all(np.isfinite(expected_part))
        np.testing.assert_allclose(got_part, expected_part, rtol=rtol, atol=atol)
    return got


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [np.asarray(value)]


def _jvp(fun):
    def tangent(x, t):
        return ad.jvp(fun, (x,), (t,))[1]

    return tangent


# --- copysign, ldexp, frexp, nextafter ----------------------------------------------------


def test_copysign_derivative_follows_the_signs_of_each_call():
    y = np.array([1.0, -1.0, 2.0])
    fun = lambda x: anp.sum(anp.copysign(x, y) * np.array([1.0, 2.0, 3.0]))  # noqa: E731
    got = _staged_matches(
        ad.grad(fun), (np.array([1.0, 2.0, 3.0]),), (np.array([-1.0, 2.0, -3.0]),)
    )
    np.testing.assert_array_equal(got, [-1.0, -2.0, -3.0])
    _staged_matches(
        _jvp(lambda x: anp.copysign(x, y)),
        (np.array([1.0, 2.0, 3.0]), np.ones(3)),
        (np.array([-1.0, -2.0, 3.0]), np.ones(3)),
    )


def test_copysign_derivative_follows_a_traced_sign_argument():
    fun = ad.grad(lambda x, y: anp.sum(anp.copysign(x, y)))
    got = _staged_matches(
        fun,
        (np.array([1.0, 2.0]), np.array([1.0, 1.0])),
        (np.array([1.0, 2.0]), np.array([-1.0, 1.0])),
    )
    np.testing.assert_array_equal(got, [-1.0, 1.0])


def test_ldexp_derivative_uses_each_calls_exponent():
    fun = ad.grad(lambda x, e: anp.sum(anp.ldexp(x, e)))
    got = _staged_matches(
        fun, (np.array([1.0, 2.0]), np.array([1, 2])), (np.array([1.0, 2.0]), np.array([3, -1]))
    )
    np.testing.assert_array_equal(got, [8.0, 0.5])


def test_frexp_mantissa_and_exponent_are_computed_at_each_call():
    got = _staged_matches(anp.frexp, (np.array([1.5, 3.0]),), (np.array([5.0, 0.1]),))
    np.testing.assert_array_equal(got[0], np.frexp(np.array([5.0, 0.1]))[0])
    np.testing.assert_array_equal(got[1], np.frexp(np.array([5.0, 0.1]))[1])
    grad = _staged_matches(
        ad.grad(lambda x: anp.sum(anp.frexp(x)[0])), (np.array([1.5]),), (np.array([5.0]),)
    )
    np.testing.assert_array_equal(grad, [0.125])


def test_nextafter_steps_towards_each_calls_target():
    first = (np.array([1.0, 1.0]), np.array([2.0, 2.0]))
    second = (np.array([1.0, 1.0]), np.array([0.0, 2.0]))
    got = _staged_matches(anp.nextafter, first, second)
    np.testing.assert_array_equal(got, np.nextafter(*second))


# --- i0, sinc, powers -------------------------------------------------------------------------


def test_i0_second_derivative_at_zero_after_staging_elsewhere():
    got = _staged_matches(ad.grad(ad.grad(anp.i0)), (1.0,), (0.0,))
    assert got == 0.5


def test_sinc_higher_derivatives_staged_away_from_zero_and_called_at_zero():
    got = _staged_matches(ad.grad(ad.grad(anp.sinc)), (1.0,), (0.0,), rtol=1e-15)
    np.testing.assert_allclose(got, -(np.pi**2) / 3, rtol=1e-14)
    _staged_matches(ad.grad(ad.grad(ad.grad(anp.sinc))), (0.0,), (0.7,), rtol=1e-15)


def test_power_with_a_traced_exponent_staged_at_one_and_called_at_zero():
    fun = ad.grad(lambda x, y: anp.power(x, y))
    got = _staged_matches(fun, (2.0, 3.0), (0.0, 0.0))
    assert got == 0.0
    got = _staged_matches(ad.grad(lambda x, y: anp.float_power(x, y)), (2.0, 3.0), (0.0, 0.0))
    assert got == 0.0


def test_clip_with_crossed_bounds_after_staging_with_ordered_ones():
    fun = ad.grad(lambda x, lo, hi: anp.sum(anp.clip(x, lo, hi)), argnums=(0, 1, 2))
    x = np.array([0.0, 2.0, 5.0])
    got = _staged_matches(fun, (x, 1.0, 3.0), (x, 3.0, 1.0))
    np.testing.assert_array_equal(got[0], [0.0, 0.0, 0.0])
    assert (got[1], got[2]) == (0.0, 3.0)


# --- cumprod ------------------------------------------------------------------------------------


_NO_ZEROS = np.array([[1.0, 2.0, 3.0], [0.5, 1.5, 2.0]])
_ZEROS = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 2.0]])


@pytest.mark.parametrize("axis", [0, 1, None])
def test_cumprod_gradient_staged_without_zeros_and_called_with_zeros(axis):
    """cumprod's rules find the zeros with recorded nodes, and take one level of zeros per
    differentiation ahead (not as many as the values hold): the same rules eagerly and
    staged, so they agree bit for bit at every order."""
    weights = np.arange(1.0, 7.0).reshape(2, 3)

    def fun(x):
        return anp.sum(
            anp.cumprod(x, axis=axis) * (weights if axis is not None else weights.ravel())
        )

    got = _staged_matches(ad.grad(fun), (_NO_ZEROS,), (_ZEROS,))
    assert np.all(np.isfinite(got))
    _staged_matches(ad.grad(fun), (_ZEROS,), (_NO_ZEROS,))
    _staged_matches(ad.hessian(fun), (_NO_ZEROS,), (_ZEROS,))


@pytest.mark.parametrize("axis", [0, 1])
def test_cumprod_tangent_staged_without_zeros_and_called_with_zeros(axis):
    tangent = _jvp(lambda x: anp.cumprod(x, axis=axis))
    _staged_matches(tangent, (_NO_ZEROS, np.ones((2, 3))), (_ZEROS, _NO_ZEROS))


def test_cumprod_higher_derivatives_with_several_zeros_per_line():
    """Three zeros in a line: the third derivative (three levels of zeros) is the exact
    one (cumprod is a polynomial: its derivatives are sums of products of the entries)."""
    x = np.array([0.0, 2.0, 0.0, 0.0, 3.0])

    def third(x):
        def line(x):
            return anp.sum(anp.cumprod(x) * np.arange(1.0, 6.0))

        return ad.jacobian(ad.hessian(line))(x)

    got = _staged_matches(third, (np.arange(1.0, 6.0),), (x,))
    # d^3 / dx0 dx2 dx3 of sum_j w_j prod_{i<=j} x_i: sum over j >= 3 of w_j prod of the
    # other entries up to j: 4 * 2 + 5 * 2 * 3.
    assert got[0, 2, 3] == got[3, 0, 2] == 38.0
    assert got[0, 0, 0] == 0.0


def test_prod_hessian_staged_without_zeros_and_called_with_zeros():
    _staged_matches(
        ad.hessian(anp.prod), (np.array([1.0, 2.0, 3.0]),), (np.array([0.0, 0.0, 3.0]),), rtol=1e-14
    )


# --- linalg --------------------------------------------------------------------------------------


_SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])


def test_det_gradient_staged_at_a_regular_matrix_is_the_adjugate_at_a_singular_one():
    got = _staged_matches(ad.grad(anp.linalg.det), (np.eye(2),), (_SINGULAR,), rtol=1e-12)
    np.testing.assert_allclose(got, [[4.0, -2.0], [-2.0, 1.0]], rtol=1e-12)
    _staged_matches(
        ad.grad(anp.linalg.det), (_SINGULAR,), (np.array([[2.0, 1.0], [0.5, 3.0]]),), rtol=1e-12
    )
    _staged_matches(
        _jvp(anp.linalg.det),
        (np.eye(2), np.ones((2, 2))),
        (_SINGULAR, np.ones((2, 2))),
        rtol=1e-12,
        atol=1e-12,
    )


def test_det_gradient_of_a_stack_mixing_regular_and_singular_matrices():
    """Each matrix of a stack takes the same form (det * inv^-T or the SVD form) eagerly
    as staged, so the two agree bit for bit (eagerly, one ill-conditioned matrix used to
    move the whole stack to the SVD form)."""
    stack = np.stack([np.array([[2.0, 1.0], [0.5, 3.0]]), _SINGULAR])
    regular = np.stack([np.eye(2), np.eye(2)])
    got = _staged_matches(ad.grad(lambda a: anp.sum(anp.linalg.det(a))), (regular,), (stack,))
    np.testing.assert_array_equal(got[0], np.linalg.det(stack[0]) * np.linalg.inv(stack[0]).T)
    _staged_matches(
        _jvp(anp.linalg.det),
        (regular, np.ones((2, 2, 2))),
        (stack[::-1].copy(), np.ones((2, 2, 2))),
    )


def test_det_hessian_staged_at_a_regular_matrix_and_called_at_singular_ones():
    regular = np.eye(3) + 0.1
    _staged_matches(ad.hessian(anp.linalg.det), (regular,), (np.zeros((3, 3)),), atol=1e-12)
    rank_two = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.5], [1.0, 0.0, 1.0]])
    rank_two[1] = 2.0 * rank_two[0]
    _staged_matches(ad.hessian(anp.linalg.det), (regular,), (rank_two,), rtol=1e-9, atol=1e-12)


def test_hermitian_pinv_staged_at_full_rank_and_called_at_rank_deficient():
    full, deficient = np.array([[2.0, 1.0], [1.0, 2.0]]), np.ones((2, 2))
    got = _staged_matches(
        lambda a: anp.linalg.pinv(a, hermitian=True), (full,), (deficient,), rtol=1e-12
    )
    np.testing.assert_allclose(got, np.linalg.pinv(deficient, hermitian=True), rtol=1e-12)
    _staged_matches(
        ad.grad(lambda a: anp.sum(anp.linalg.pinv(a, hermitian=True))),
        (full,),
        (deficient,),
        rtol=1e-12,
    )


@pytest.mark.parametrize("name", ["eig", "eigvals"])
def test_eig_refuses_staging_its_dtype_depends_on_the_values(name):
    """eig's results are real or complex depending on whether complex eigenvalues
    appear: staged, the program would keep the dtype (and the rules' branch) seen while
    tracing, so jit and trace refuse naming the function; eager transforms work."""
    fun = getattr(anp.linalg, name)
    real_spectrum, complex_spectrum = np.diag([1.0, 2.0]), np.array([[0.0, 1.0], [-1.0, 0.0]])
    pattern = (
        rf"^adfun\.numpy\.linalg\.{name}: the result depends on the values .*real or "
        r"complex depending on the values of a .*eigh or eigvalsh"
    )
    for stage in (ad.jit, lambda f: lambda *args: ad.trace(f)(*args)):
        with pytest.raises(ad.StagingError, match=pattern):
            stage(fun)(real_spectrum)
        with pytest.raises(ad.StagingError, match=pattern):
            stage(ad.grad(lambda a: anp.sum(anp.real(fun(a) if name == "eigvals" else fun(a)[0]))))(
                complex_spectrum
            )

    # The primitive's rules refuse too (a graph holding the eig node, differentiated
    # staged).
    def reverse(a):
        return ad.vjp(lambda a: anp.real(anp.linalg.eigvals(a)), a)[1](np.ones(2))

    with pytest.raises(ad.StagingError, match=r"adfun\.numpy\.linalg\.eigvals"):
        ad.jit(reverse)(real_spectrum)
    np.testing.assert_allclose(reverse(complex_spectrum)[0], np.eye(2), atol=1e-12)


def test_eigh_and_svd_value_gradients_staged_at_distinct_and_called_at_repeated_values():
    spread = np.diag([1.0, 2.0, 3.0])
    for fun in (
        lambda a: anp.sum(anp.linalg.eigh(a)[0] ** 2),
        lambda a: anp.sum(anp.linalg.svd(a)[1] ** 2),
    ):
        got = _staged_matches(ad.grad(fun), (spread,), (np.eye(3),), atol=1e-14)
        np.testing.assert_allclose(got, 2.0 * np.eye(3), atol=1e-14)


def test_lstsq_with_a_constant_matrix_stages():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    _staged_matches(
        lambda b: anp.linalg.lstsq(a, b)[0], (np.ones(3),), (np.array([1.0, 2.0, 3.0]),), rtol=1e-12
    )


# --- polymul, multigammaln ---------------------------------------------------------------------


def test_multigammaln_staged_gives_nan_outside_its_domain():
    staged = ad.jit(lambda a: asp.multigammaln(a, 3))
    np.testing.assert_allclose(
        staged(np.array([2.0, 3.0])), sp.multigammaln(np.array([2.0, 3.0]), 3), rtol=1e-14
    )
    got = staged(np.array([0.5, 3.0]))
    assert np.isnan(got[0]) and got[1] == pytest.approx(sp.multigammaln(3.0, 3), rel=1e-14)
    with pytest.raises(ValueError, match="multigammaln: every entry of a must exceed"):
        ad.grad(lambda a: anp.sum(asp.multigammaln(a, 3)))(np.array([0.5, 3.0]))
