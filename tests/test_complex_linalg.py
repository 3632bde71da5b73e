"""Complex linear algebra through the public functions: the decompositions, their phase
gauge, and the norms built on them.

The primitives' rules are checked on their packed outputs by tests/test_complex_rules.py;
here the public functions are checked against finite differences (real and imaginary
directions, through :func:`_checking.check`) on functions that do not depend on the
phases of eigen/singular vectors (``|V|**2``, ``V diag(f(w)) V^H``, ``U diag(s) Vh``),
and the gauge adfun fixes (largest component real and positive) is checked on values.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy as anp
from adfun.numpy import linalg as la
from adfun.numpy.linalg._helpers import draw_complex_matrix, draw_hermitian

from _checking import check


def _joined(*parts):
    """Several outputs as one (complex where one of them is) vector, for ``check``."""
    return anp.concatenate([anp.reshape(part, (-1,)) for part in parts])


def _largest_components(v):
    rows = np.argmax(np.abs(v), axis=-2)[..., None, :]
    return np.take_along_axis(v, rows, axis=-2)[..., 0, :]


@st.composite
def _hermitian(draw, positive=False):
    n = draw(st.integers(1, 3))
    batch = draw(st.sampled_from([(), (2,)]))
    return draw_hermitian(draw, st, hnp, n, batch, positive=positive)


@st.composite
def _matrices(draw, square=False, tall=False):
    n = draw(st.integers(1, 3))
    m = n if square else draw(st.integers(n, 3) if tall else st.integers(1, 3))
    batch = draw(st.sampled_from([(), (2,)]))
    return draw_complex_matrix(draw, st, hnp, m, n, batch) * np.exp(0.3j)


# --- cholesky ------------------------------------------------------------------------------


@settings(max_examples=5)
@given(a=_hermitian(positive=True), upper=st.booleans())
def test_cholesky_of_hermitian_matrices(a, upper):
    assert np.allclose(la.cholesky(a, upper=upper), np.linalg.cholesky(a, upper=upper))
    check(lambda a: la.cholesky(a, upper=upper), [a], order=1)


# --- eigh, eigvalsh ------------------------------------------------------------------------


@settings(max_examples=5)
@given(a=_hermitian(), uplo=st.sampled_from(["L", "U"]))
def test_eigh_of_hermitian_matrices_in_phase_invariant_functions(a, uplo):
    def invariant(a):
        w, v = la.eigh(a, uplo)
        spectral = (v * anp.expand_dims(anp.sin(w), -2)) @ anp.conj(anp.swapaxes(v, -1, -2))
        return _joined(w, anp.abs(v) ** 2, spectral)

    check(invariant, [a], order=1)
    check(lambda a: la.eigvalsh(a, uplo), [a], order=2)


@settings(max_examples=5)
@given(a=_hermitian())
def test_eigh_fixes_the_phase_of_complex_eigenvectors(a):
    w, v = la.eigh(a)
    expected_w, expected_v = np.linalg.eigh(a)
    assert np.allclose(w, expected_w)
    largest = _largest_components(v)
    assert np.allclose(largest.imag, 0.0) and np.all(largest.real > 0)
    # The same eigenvectors up to one phase each.
    overlap = np.abs(np.sum(np.conj(expected_v) * v, axis=-2))
    assert np.allclose(overlap, 1.0)
    # Traced values carry the same phase.
    traced = ad.jvp(lambda a: la.eigh(a)[1], (a,), (np.zeros_like(a),))[0]
    assert np.allclose(traced, v)


# --- svd, svdvals --------------------------------------------------------------------------


@settings(max_examples=5)
@given(a=_matrices())
def test_svd_of_complex_matrices_in_phase_invariant_functions(a):
    def invariant(a):
        u, s, vh = la.svd(a, full_matrices=False)
        rebuilt = (u * anp.expand_dims(s**2, -2)) @ vh
        return _joined(s, anp.abs(u) ** 2, anp.abs(vh) ** 2, rebuilt)

    check(invariant, [a], order=1)
    check(la.svdvals, [a], order=2)


@settings(max_examples=5)
@given(a=_matrices())
def test_svd_fixes_the_phases_of_complex_singular_vectors(a):
    u, s, vh = la.svd(a, full_matrices=False)
    assert np.allclose((u * s[..., None, :]) @ vh, a)
    largest = _largest_components(u)
    assert np.allclose(largest.imag, 0.0) and np.all(largest.real > 0)
    traced = ad.jvp(lambda a: la.svd(a, full_matrices=False)[0], (a,), (np.zeros_like(a),))[0]
    assert np.allclose(traced, u)
    full_u, full_s, full_vh = la.svd(a)  # the first min(m, n) pairs carry the same phases
    k = s.shape[-1]
    assert np.allclose(full_u[..., :k], u) and np.allclose(full_vh[..., :k, :], vh)


@settings(max_examples=5)
@given(a=_hermitian())
def test_hermitian_svd_and_pinv_of_complex_matrices(a):
    values = la.svd(a, hermitian=True, compute_uv=False)
    assert np.allclose(values, np.linalg.svd(a, compute_uv=False))
    check(lambda a: la.svd(a, hermitian=True, compute_uv=False), [a], order=1)

    def rebuilt(a):
        u, s, vh = la.svd(a, hermitian=True)
        return (u * anp.expand_dims(s, -2)) @ vh

    check(rebuilt, [a], order=1)
    assert np.allclose(la.pinv(a, hermitian=True), np.linalg.pinv(a, hermitian=True))
    check(lambda a: la.pinv(a, hermitian=True), [a], order=1)


# --- qr, pinv, lstsq -------------------------------------------------------------------------


@settings(max_examples=5)
@given(a=_matrices(), mode=st.sampled_from(["reduced", "r"]))
def test_qr_of_complex_matrices_wide_ones_too(a, mode):
    result = la.qr(a, mode=mode)
    expected = np.linalg.qr(a, mode=mode)
    for got, want in zip(
        (result,) if mode == "r" else result, (expected,) if mode == "r" else expected
    ):
        assert np.allclose(got, want)
    check(lambda a: _joined(*((la.qr(a, mode=mode),) if mode == "r" else la.qr(a))), [a], order=1)


@settings(max_examples=5)
@given(a=_matrices())
def test_pinv_of_complex_matrices(a):
    assert np.allclose(la.pinv(a), np.linalg.pinv(a))
    check(la.pinv, [a], order=2)


def test_lstsq_of_complex_matrices_has_real_residuals():
    a = np.array([[1.0 + 1.0j, 0.5], [0.2j, 1.0], [1.0, -1.0j]])
    b = np.array([1.0, 2.0 - 1.0j, 0.5j])
    expected = np.linalg.lstsq(a, b, rcond=None)
    x, residuals, rank, s = ad.jvp(lambda a: la.lstsq(a, b), (a,), (np.zeros_like(a),))[0]
    assert np.allclose(x, expected[0]) and rank == expected[2]
    assert residuals.dtype == np.float64 and np.allclose(residuals, expected[1])
    check(lambda a, b: la.lstsq(a, b)[1], [a, b], order=1)


# --- norms -----------------------------------------------------------------------------------


@settings(max_examples=5)
@given(a=_matrices(), ord=st.sampled_from([2, -2, "nuc"]))
def test_singular_value_norms_of_complex_matrices(a, ord):
    assert np.allclose(la.norm(a, ord, axis=(-2, -1)), np.linalg.norm(a, ord, axis=(-2, -1)))
    check(lambda a: la.norm(a, ord, axis=(-2, -1)), [a], order=2)
    check(lambda a: la.matrix_norm(a, ord=ord), [a], order=1)


@settings(max_examples=5)
@given(a=_matrices(square=True), p=st.sampled_from([None, 2, -2, "fro", "nuc", 1, np.inf]))
def test_cond_of_complex_matrices(a, p):
    assert np.allclose(la.cond(a, p), np.linalg.cond(a, p))
    check(lambda a: la.cond(a, p), [a], order=1)


def test_norm_of_the_zero_complex_matrix_has_zero_gradient():
    zero = np.zeros((2, 2), dtype=complex)
    for order in (2, -2, "nuc"):
        assert np.array_equal(ad.grad(lambda a, order=order: la.norm(a, order))(zero), zero)


# --- eig, eigvals ----------------------------------------------------------------------------


@st.composite
def _nonnormal(draw):
    from adfun.numpy.linalg._eig import _complex_nonsymmetric_examples

    return _complex_nonsymmetric_examples(draw, st, hnp)[0][0]


@settings(max_examples=5)
@given(a=_nonnormal())
def test_eig_of_complex_matrices_in_phase_invariant_functions(a):
    w, v = la.eig(a)
    assert np.allclose((v * w[..., None, :]) @ np.linalg.inv(v), a)
    largest = _largest_components(v)
    assert np.allclose(largest.imag, 0.0) and np.all(largest.real > 0)

    def invariant(a):
        w, v = la.eig(a)
        return _joined(w, anp.abs(v) ** 2)

    check(invariant, [a], order=1)
    check(la.eigvals, [a], order=1)


def test_eig_of_complex_matrices_stages():
    a = np.array([[1.0 + 1.0j, 0.5], [0.2j, -1.0 + 0.3j]])

    def loss(a):
        return anp.sum(anp.abs(la.eigvals(a)) ** 2) + anp.sum(anp.abs(la.eig(a)[1]) ** 2)

    assert np.allclose(ad.jit(ad.grad(loss))(a), ad.grad(loss)(a))
    assert np.allclose(ad.jit(loss)(a * 1.1), loss(a * 1.1))


def test_eig_of_real_matrices_still_refuses_staging():
    with pytest.raises(ad.StagingError, match=r"adfun.numpy.linalg.eigvals"):
        ad.jit(lambda a: anp.sum(anp.real(la.eigvals(a))))(np.eye(2))
