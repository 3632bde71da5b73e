"""Degenerate spectra and singular points (issue 13, section 3; docs/conventions.md).

Repeated eigen/singular values, the determinant's Hessian at the zero matrix, ``sinc``
and ``tanh`` at 0, ``x**0`` at 0 and ``clip`` with crossed bounds: each gives the
documented finite answer, never NaN, in reverse and forward mode, and matches finite
differences wherever the function is smooth.
"""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun.testing import check_grads


def _jvp(fun, x, t):
    return ad.jvp(fun, (x,), (t,))[1]


_T = np.array([[0.3, -1.2, 0.5], [0.7, 0.1, -0.4], [-0.9, 0.6, 0.2]])


# --- repeated eigenvalues and singular values ---------------------------------------------


@pytest.mark.parametrize("a", [np.eye(3), np.zeros((3, 3)), np.diag([2.0, 2.0, 5.0])])
def test_eigh_values_only_equal_eigvalsh_at_repeated_eigenvalues(a):
    from_eigh = ad.grad(lambda m: anp.sum(anp.linalg.eigh(m)[0] ** 2))(a)
    from_eigvalsh = ad.grad(lambda m: anp.sum(anp.linalg.eigvalsh(m) ** 2))(a)
    np.testing.assert_array_equal(from_eigh, from_eigvalsh)
    np.testing.assert_allclose(from_eigh, 2.0 * a, atol=1e-15)
    tangent = _jvp(lambda m: anp.linalg.eigh(m)[0], a, _T)
    np.testing.assert_array_equal(tangent, _jvp(anp.linalg.eigvalsh, a, _T))
    assert np.all(np.isfinite(_jvp(lambda m: anp.linalg.eigh(m)[1], a, _T)))


def test_eigh_of_the_identity_gradient_is_two_identity():
    got = ad.grad(lambda a: anp.sum(anp.linalg.eigh(a)[0] ** 2))(np.eye(3))
    np.testing.assert_array_equal(got, 2.0 * np.eye(3))


@pytest.mark.parametrize(
    "a", [np.eye(3), np.zeros((3, 3)), np.zeros((3, 2)), np.zeros((2, 3)), np.diag([1.0, 1.0, 0.0])]
)
def test_svd_values_only_equal_svdvals_at_repeated_and_zero_singular_values(a):
    def from_svd(m):
        return anp.sum(anp.linalg.svd(m, full_matrices=False)[1] ** 2)

    got = ad.grad(from_svd)(a)
    np.testing.assert_array_equal(got, ad.grad(lambda m: anp.sum(anp.linalg.svdvals(m) ** 2))(a))
    np.testing.assert_allclose(got, 2.0 * a, atol=1e-15)
    t = _T[: a.shape[0], : a.shape[1]]
    np.testing.assert_array_equal(
        _jvp(lambda m: anp.linalg.svd(m, full_matrices=False)[1], a, t),
        _jvp(anp.linalg.svdvals, a, t),
    )
    nuclear = ad.grad(lambda m: anp.sum(anp.linalg.svd(m, full_matrices=False)[1]))(a)
    np.testing.assert_array_equal(nuclear, ad.grad(lambda m: anp.sum(anp.linalg.svdvals(m)))(a))
    tangents = ad.jvp(lambda m: tuple(anp.linalg.svd(m, full_matrices=False)), (a,), (t,))[1]
    assert all(np.all(np.isfinite(part)) for part in tangents)


def test_eig_of_the_identity_values_only():
    got = ad.grad(lambda a: anp.sum(anp.real(anp.linalg.eig(a)[0]) ** 2))(np.eye(3))
    np.testing.assert_array_equal(got, 2.0 * np.eye(3))
    expected = ad.grad(lambda a: anp.sum(anp.real(anp.linalg.eigvals(a)) ** 2))(np.eye(3))
    np.testing.assert_array_equal(got, expected)
    tangent = _jvp(lambda a: anp.real(anp.linalg.eig(a)[0]), np.eye(3), _T)
    np.testing.assert_array_equal(tangent, np.diag(_T))


def test_value_gradients_at_repeated_values_under_jit():
    for fun in (
        lambda a: anp.sum(anp.linalg.eigh(a)[0] ** 2),
        lambda a: anp.sum(anp.linalg.svd(a)[1] ** 2),
    ):
        np.testing.assert_array_equal(ad.jit(ad.grad(fun))(np.eye(3)), 2.0 * np.eye(3))
    # (eig does not stage: whether its results are complex depends on the values.)
    with pytest.raises(ad.StagingError, match=r"adfun\.numpy\.linalg\.eig: "):
        ad.jit(ad.grad(lambda a: anp.sum(anp.real(anp.linalg.eig(a)[0]) ** 2)))(np.eye(3))


def test_a_projector_onto_a_repeated_eigenspace_has_its_true_derivative():
    # P = V_k V_k^T for the repeated eigenvalue 1 is smooth at diag(1, 1, 3) (the gap to 3
    # is 2): the dropped 1/0 terms cancel exactly for it.
    weights = np.arange(9.0).reshape(3, 3)

    def projector(a):
        v = anp.linalg.eigh(a)[1][:, :2]
        return anp.sum((v @ v.T) * weights)

    a = np.diag([1.0, 1.0, 3.0])
    check_grads(projector, (a,), order=1)
    got = ad.grad(projector)(a)
    assert np.all(np.isfinite(got))


def test_basis_dependent_functions_at_repeated_values_are_finite():
    # The basis of a repeated eigenvalue has no derivative: adfun drops the 1/0 terms
    # (documented), and in particular never returns NaN.
    for fun in (
        lambda a: anp.sum(anp.linalg.eigh(a)[1][:, 0]),
        lambda a: anp.sum(anp.linalg.svd(a)[0][:, 0]),
        lambda a: anp.sum(anp.real(anp.linalg.eig(a)[1][:, 0])),
    ):
        for a in (np.eye(3), np.zeros((3, 3))):
            assert np.all(np.isfinite(ad.grad(fun)(a)))
            assert np.all(np.isfinite(_jvp(fun, a, _T)))


# --- the determinant's Hessian ------------------------------------------------------------


def test_det_hessian_at_the_zero_matrix_is_zero_in_both_modes():
    zero = np.zeros((3, 3))
    np.testing.assert_array_equal(ad.hessian(anp.linalg.det)(zero), np.zeros((3, 3, 3, 3)))
    forward = _jvp(ad.grad(anp.linalg.det), zero, _T)  # forward over reverse
    np.testing.assert_array_equal(forward, np.zeros((3, 3)))
    check_grads(anp.linalg.det, (zero,), order=2)


def test_det_hessian_at_a_rank_one_matrix_against_finite_differences():
    a = np.outer([1.0, 2.0, 0.5], [0.3, -1.0, 2.0])
    check_grads(anp.linalg.det, (a,), order=2)


# --- sinc and tanh at 0 ---------------------------------------------------------------------


def test_sinc_second_and_third_derivatives_at_zero():
    second = ad.grad(ad.grad(anp.sinc))(0.0)
    np.testing.assert_allclose(second, -(np.pi**2) / 3, rtol=1e-15)
    assert ad.grad(ad.grad(ad.grad(anp.sinc)))(0.0) == 0.0
    fourth = ad.grad(ad.grad(ad.grad(ad.grad(anp.sinc))))(0.0)
    np.testing.assert_allclose(fourth, np.pi**4 / 5, rtol=1e-14)
    forward = ad.jvp(lambda x: ad.jvp(anp.sinc, (x,), (1.0,))[1], (0.0,), (1.0,))[1]
    np.testing.assert_allclose(forward, -(np.pi**2) / 3, rtol=1e-15)


@pytest.mark.parametrize("x", [1e-9, -1e-9, 1e-5, 0.3, 0.4999, 0.5001, -0.7, 2.5])
def test_sinc_derivatives_near_zero_match_the_series_and_finite_differences(x):
    second = ad.grad(ad.grad(anp.sinc))(x)
    third = ad.grad(ad.grad(ad.grad(anp.sinc)))(x)
    if abs(x) < 1e-4:  # Taylor: -pi**2/3 + pi**4 x**2 / 10 and pi**4 x / 5
        np.testing.assert_allclose(second, -(np.pi**2) / 3 + np.pi**4 * x * x / 10, rtol=1e-14)
        np.testing.assert_allclose(third, np.pi**4 * x / 5, rtol=1e-6)
    check_grads(anp.sinc, (np.float64(x),), order=3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_tanh_third_derivative_at_zero_in_every_precision(dtype):
    third = ad.grad(ad.grad(ad.grad(anp.tanh)))(dtype(0.0))
    assert third == -2.0 and third.dtype == dtype
    forward = ad.jvp(
        lambda x: ad.jvp(lambda y: ad.jvp(anp.tanh, (y,), (dtype(1.0),))[1], (x,), (dtype(1.0),))[
            1
        ],
        (dtype(0.0),),
        (dtype(1.0),),
    )[1]
    assert forward == -2.0


def test_tanh_float32_derivative_is_accurate_on_both_sides_of_the_switch():
    x = np.array([-8.0, -1.0001, -0.9999, 0.0, 0.5, 0.9999, 1.0001, 8.0])
    got = ad.grad(lambda v: anp.sum(anp.tanh(v)))(x.astype(np.float32))
    expected = 1.0 / np.cosh(x) ** 2
    np.testing.assert_allclose(got, expected, rtol=2e-6)
    check_grads(anp.tanh, (np.array([0.0, 0.9, 1.1, -2.0]),), order=3)


# --- x**0 at 0 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: x**0,
        lambda x: x**0.0,
        lambda x: anp.power(x, 0),
        lambda x: anp.power(x, 0.0),
        lambda x: anp.float_power(x, 0),
        lambda x: anp.power(x, np.zeros(2)),
        lambda x: anp.float_power(x, np.zeros(2)),
    ],
    ids=[
        "pow-int",
        "pow-float",
        "power-int",
        "power-float",
        "float_power",
        "power-array",
        "float_power-array",
    ],
)
def test_the_zeroth_power_has_derivative_zero_at_zero(fun):
    x = np.array([0.0, 2.0])

    def total(v):
        return anp.sum(fun(v))

    np.testing.assert_array_equal(ad.grad(total)(x), [0.0, 0.0])
    np.testing.assert_array_equal(_jvp(fun, x, np.ones(2)), [0.0, 0.0])
    np.testing.assert_array_equal(ad.hessian(total)(x), np.zeros((2, 2)))
    np.testing.assert_array_equal(_jvp(ad.grad(total), x, np.ones(2)), [0.0, 0.0])


def test_power_in_a_traced_exponent_at_zero_zero_is_finite():
    dx, dy = ad.grad(lambda x, y: anp.power(x, y), argnums=(0, 1))(0.0, 0.0)
    assert (dx, dy) == (0.0, 0.0)
    hessian = ad.hessian(lambda v: anp.power(v[0], v[1]))(np.array([0.0, 0.0]))
    assert np.all(np.isfinite(hessian))
    check_grads(lambda x, y: anp.power(x, y), (np.array([0.5, 2.0]), np.array([0.0, 0.0])), order=2)


# --- clip with crossed bounds -----------------------------------------------------------------


def test_clip_with_a_min_above_a_max_gives_numpys_values_and_a_max_the_derivative():
    x = np.array([0.0, 2.0, 5.0])

    def fun(v, lo, hi):
        return anp.clip(v, lo, hi)

    np.testing.assert_array_equal(fun(ad.stop_gradient(x), 3.0, 1.0), np.clip(x, 3.0, 1.0))
    dx, dlo, dhi = ad.grad(
        lambda v, lo, hi: anp.sum(fun(v, lo, hi) * np.array([1.0, 2.0, 4.0])), argnums=(0, 1, 2)
    )(x, 3.0, 1.0)
    np.testing.assert_array_equal(dx, [0.0, 0.0, 0.0])
    assert (dlo, dhi) == (0.0, 7.0)
    tangent = ad.jvp(fun, (x, 3.0, 1.0), (np.ones(3), 10.0, 100.0))[1]
    np.testing.assert_array_equal(tangent, [100.0, 100.0, 100.0])
    check_grads(fun, (x, np.float64(3.0), np.float64(1.0)), order=2)


def test_clip_with_array_bounds_crossed_in_some_entries():
    x = np.array([0.0, 2.0, 5.0, 2.0])
    lo = np.array([1.0, 3.0, 3.0, 1.0])
    hi = np.array([4.0, 1.0, 1.0, 3.0])
    np.testing.assert_array_equal(anp.clip(x, lo, hi), np.clip(x, lo, hi))
    dx, dlo, dhi = ad.grad(lambda *args: anp.sum(anp.clip(*args)), argnums=(0, 1, 2))(x, lo, hi)
    np.testing.assert_array_equal(dx, [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(dlo, [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(dhi, [0.0, 1.0, 1.0, 0.0])
    check_grads(anp.clip, (x, lo, hi), order=2)
