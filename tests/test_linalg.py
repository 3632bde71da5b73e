"""adfun.numpy.linalg: values equal NumPy's, named edge cases, composites, errors.

The primitives' rules are checked against finite differences by test_rules.py; here are
the conventions (singular ``det``, ``norm`` at zero), every ``ord`` of ``norm``, the
composites (checked in both modes too) and the error paths.
"""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun.numpy import linalg as la
from adfun.testing import check_grads

from _checking import check

RNG = np.random.default_rng(1234)


def _matrix(*shape, shift=3.0):
    """A well-conditioned (diagonally dominant) matrix or stack."""
    values = RNG.uniform(-1.0, 1.0, shape)
    if shape[-1] == shape[-2]:
        values = values + shift * np.eye(shape[-1])
    return values


def _spd(n):
    m = RNG.standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


def _check(fun, *args, order=2):
    check(fun, args, order=order)


def _traced_value(fun, *args):
    """The value ``fun`` computes on traced arguments (through ``vjp``)."""
    out, _ = ad.vjp(fun, *args)
    return out


def _adjugate_transpose(a):
    """The cofactor matrix by minors (independent of the library)."""
    n = a.shape[0]
    cofactors = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, axis=0), j, axis=1)
            cofactors[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return cofactors


# --- values on traced arguments equal NumPy's ----------------------------------------------


@pytest.mark.parametrize(
    "name, make",
    [
        ("inv", lambda: (_matrix(2, 3, 3),)),
        ("det", lambda: (_matrix(2, 3, 3),)),
        ("solve", lambda: (_matrix(2, 3, 3), RNG.standard_normal(3))),
        ("solve", lambda: (_matrix(3, 3), RNG.standard_normal((2, 3, 2)))),
        ("cholesky", lambda: (_spd(3),)),
        ("eigvalsh", lambda: (_spd(3),)),
        ("svdvals", lambda: (_matrix(3, 2),)),
        ("pinv", lambda: (_matrix(3, 2),)),
        ("matrix_rank", lambda: (_matrix(3, 3),)),
        ("cond", lambda: (_matrix(3, 3),)),
        ("tensorinv", lambda: (_matrix(4, 4).reshape(2, 2, 4),)),
        ("matrix_transpose", lambda: (_matrix(2, 3, 4),)),
        ("diagonal", lambda: (_matrix(2, 3, 4),)),
        ("trace", lambda: (_matrix(2, 3, 4),)),
        ("outer", lambda: (RNG.standard_normal(3), RNG.standard_normal(2))),
        ("vecdot", lambda: (RNG.standard_normal((2, 3)), RNG.standard_normal(3))),
        ("cross", lambda: (RNG.standard_normal((2, 3)), RNG.standard_normal(3))),
    ],
)
def test_values_match_numpy(name, make):
    args = make()
    expected = getattr(np.linalg, name)(*args)
    actual = _traced_value(getattr(la, name), *args)
    np.testing.assert_allclose(
        ad.numpy.asarray(actual) if False else _plain(actual), expected, rtol=1e-10, atol=1e-12
    )


def _plain(value):
    from adfun._engine.trace import full_value

    return full_value(value)


def test_factorizations_match_numpy_on_traced_values():
    a = _matrix(2, 3, 2)
    square = _spd(3)
    seen = {}

    def record(a, square):
        seen["svd"] = la.svd(a, full_matrices=False)
        seen["qr"] = la.qr(a)
        seen["eigh"] = la.eigh(square, UPLO="U")
        seen["slogdet"] = la.slogdet(square)
        seen["lstsq"] = la.lstsq(a[0], square[:, 0])
        return anp.sum(seen["svd"][1])

    ad.grad(record)(a, square)
    for mine, reference in [
        (seen["svd"], np.linalg.svd(a, full_matrices=False)),
        (seen["qr"], np.linalg.qr(a)),
        (seen["eigh"], np.linalg.eigh(square, UPLO="U")),
        (seen["slogdet"], np.linalg.slogdet(square)),
        (seen["lstsq"][:2], np.linalg.lstsq(a[0], square[:, 0])[:2]),
    ]:
        assert type(mine) is type(reference) or isinstance(mine, tuple)
        for part, expected in zip(mine, reference):
            np.testing.assert_allclose(_plain(part), expected, rtol=1e-10, atol=1e-12)
    assert seen["lstsq"][2] == 2
    np.testing.assert_allclose(_plain(seen["lstsq"][3]), np.linalg.svd(a[0], compute_uv=False))


def test_plain_numpy_linalg_calls_dispatch_on_traced_values():
    a = _matrix(3, 3)
    expected = ad.grad(lambda a: anp.sum(la.inv(a)))(a)
    np.testing.assert_allclose(ad.grad(lambda a: np.sum(np.linalg.inv(a)))(a), expected)
    np.testing.assert_allclose(ad.grad(lambda a: np.linalg.norm(a))(a), a / np.linalg.norm(a))
    np.testing.assert_allclose(
        ad.grad(lambda a: np.linalg.det(a))(a), np.linalg.det(a) * np.linalg.inv(a).T
    )


# --- det: the convention at singular matrices ------------------------------------------------


@pytest.mark.parametrize(
    "a",
    [
        np.array([[1.0, 2.0], [2.0, 4.0]]),
        np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]),
        np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 0.5], [3.0, -1.0, 2.0]]),
        np.zeros((3, 3)),
    ],
)
def test_det_gradient_at_singular_matrices_is_the_transposed_adjugate(a):
    expected = _adjugate_transpose(a)
    gradient = ad.grad(la.det)(a)
    assert np.all(np.isfinite(gradient))
    np.testing.assert_allclose(gradient, expected, atol=1e-10)
    _, tangent = ad.jvp(la.det, (a,), (np.ones_like(a),))
    np.testing.assert_allclose(tangent, expected.sum(), atol=1e-10)


def test_det_gradient_batched_mixes_singular_and_regular():
    batch = np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[2.0, 1.0], [0.5, 3.0]])])
    gradient = ad.grad(lambda a: anp.sum(la.det(a)))(batch)
    np.testing.assert_allclose(gradient, [_adjugate_transpose(m) for m in batch], atol=1e-12)


def test_det_second_order_at_a_regular_matrix():
    _check(la.det, _matrix(3, 3))


def test_det_second_order_at_a_rank_deficient_matrix():
    # Rank 2 with distinct singular values: the SVD path is differentiable there too.
    u, _, vh = np.linalg.svd(RNG.standard_normal((3, 3)))
    a = (u * np.array([2.0, 1.0, 0.0])) @ vh
    hessian_column = ad.grad(lambda a: anp.sum(ad.grad(la.det)(a) * np.eye(3)))(a)
    check_grads(lambda a: anp.sum(ad.grad(la.det)(a) * np.eye(3)), (a,), modes=("rev",), order=1)
    assert np.all(np.isfinite(hessian_column))


# --- norm --------------------------------------------------------------------------------

_VECTOR_ORDS = [None, 2, 1, 3, 0.5, -1, np.inf, -np.inf, 0]
_MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("ord", _VECTOR_ORDS)
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (-1, True), (0, True)])
def test_vector_norms_match_numpy_and_finite_differences(ord, axis, keepdims):
    x = np.array([[0.4, -1.3, 2.2], [-0.7, 1.9, -2.6]])
    if axis is None:
        x = x[0]

    def fun(x):
        return la.norm(x, ord=ord, axis=axis, keepdims=keepdims)

    np.testing.assert_allclose(
        _traced_value(fun, x), np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    )
    _check(fun, x, order=2 if ord not in (np.inf, -np.inf, 0) else 1)


@pytest.mark.parametrize("ord", _MATRIX_ORDS)
@pytest.mark.parametrize("axis, keepdims", [(None, False), ((2, 0), True), ((-2, -1), False)])
def test_matrix_norms_match_numpy_and_finite_differences(ord, axis, keepdims):
    x = np.array([[0.4, -1.3, 2.2], [-0.7, 1.9, -2.5], [1.1, 0.2, -0.3]])
    if axis is not None:
        x = np.stack([x, 0.5 * x[[1, 2, 0]]], axis=1)

    def fun(x):
        return la.norm(x, ord=ord, axis=axis, keepdims=keepdims)

    np.testing.assert_allclose(
        _traced_value(fun, x), np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    )
    _check(fun, x, order=1)


@pytest.mark.parametrize(
    "fun",
    [
        la.norm,
        lambda x: la.norm(x, 1),
        lambda x: la.norm(x, np.inf),
        lambda x: la.norm(x, 3),
        lambda x: la.norm(x, axis=0),
        lambda x: la.vector_norm(x),
    ],
)
def test_norm_at_the_zero_vector_has_gradient_zero(fun):
    zero = np.zeros(3)
    gradient = ad.grad(lambda x: anp.sum(fun(x)))(zero)
    np.testing.assert_array_equal(gradient, np.zeros(3))
    _, tangent = ad.jvp(lambda x: anp.sum(fun(x)), (zero,), (np.ones(3),))
    assert tangent == 0.0


@pytest.mark.parametrize("ord", _MATRIX_ORDS)
def test_matrix_norms_at_the_zero_matrix_have_gradient_zero(ord):
    zero = np.zeros((2, 2, 3))
    gradient = ad.grad(lambda x: anp.sum(la.norm(x, ord, axis=(1, 2))))(zero)
    np.testing.assert_array_equal(gradient, np.zeros_like(zero))
    _, tangent = ad.jvp(
        lambda x: anp.sum(la.norm(x, ord, axis=(1, 2))), (zero,), (np.ones_like(zero),)
    )
    assert tangent == 0.0


def test_vector_norm_and_matrix_norm_match_numpy():
    x = np.array([[0.4, -1.3, 2.2], [-0.7, 1.9, -2.6]])
    np.testing.assert_allclose(
        _traced_value(lambda x: la.vector_norm(x, ord=3, axis=0), x),
        np.linalg.vector_norm(x, ord=3, axis=0),
    )
    np.testing.assert_allclose(
        _traced_value(lambda x: la.matrix_norm(x, ord="nuc"), x),
        np.linalg.matrix_norm(x, ord="nuc"),
    )
    _check(lambda x: la.vector_norm(x, ord=3, axis=0), x)


# --- batched solve and inv, composites, in both modes --------------------------------------


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [
        ((2, 3, 3), (3,)),
        ((3, 3), (2, 3, 2)),
        ((2, 1, 3, 3), (4, 3, 1)),
        ((3, 3), (3,)),
    ],
)
def test_batched_solve_in_both_modes(a_shape, b_shape):
    a = _matrix(*a_shape)
    b = RNG.standard_normal(b_shape)
    np.testing.assert_allclose(_traced_value(la.solve, a, b), np.linalg.solve(a, b))
    _check(la.solve, a, b)


def test_batched_inv_in_both_modes_and_float32():
    a = _matrix(2, 2, 3, 3)
    _check(la.inv, a)
    single = a.astype(np.float32)
    gradient = ad.grad(lambda a: anp.sum(la.inv(a)))(single)
    assert gradient.dtype == np.float32


@pytest.mark.parametrize(
    "fun, make",
    [
        (lambda a: la.matrix_power(a, 3), lambda: (_matrix(3, 3, shift=1.0),)),
        (lambda a: la.matrix_power(a, -2), lambda: (_matrix(2, 3, 3),)),
        (lambda a: la.matrix_power(a, 1), lambda: (_matrix(3, 3),)),
        (lambda a, b: la.lstsq(a, b)[0], lambda: (_matrix(4, 2), RNG.standard_normal(4))),
        (lambda a, b: la.lstsq(a, b)[1], lambda: (_matrix(4, 2), RNG.standard_normal((4, 2)))),
        (la.tensorinv, lambda: (_matrix(4, 4).reshape(2, 2, 4),)),
        (
            lambda a, b: la.tensorsolve(a, b),
            lambda: (_matrix(6, 6).reshape(2, 3, 6), RNG.standard_normal((2, 3))),
        ),
        (
            lambda a, b, c: la.multi_dot([a, b, c]),
            lambda: (
                RNG.standard_normal(3),
                RNG.standard_normal((3, 2)),
                RNG.standard_normal((2, 2)),
            ),
        ),
        (
            lambda a, b: la.cross(a, b),
            lambda: (RNG.standard_normal((2, 3)), RNG.standard_normal(3)),
        ),
        (lambda a: la.trace(a, offset=1), lambda: (RNG.standard_normal((2, 3, 4)),)),
        (lambda a: la.diagonal(a, offset=-1), lambda: (RNG.standard_normal((3, 4)),)),
        (la.outer, lambda: (RNG.standard_normal(2), RNG.standard_normal(3))),
        (la.vecdot, lambda: (RNG.standard_normal((2, 3)), RNG.standard_normal(3))),
        (la.cond, lambda: (_matrix(3, 3),)),
        (lambda a: la.cond(a, "fro"), lambda: (_matrix(3, 3),)),
        (lambda a: la.cholesky(a, upper=True), lambda: (_spd(3),)),
        (lambda a: la.eigh(a, UPLO="U")[0], lambda: (_spd(3),)),
        (lambda a: la.eigvalsh(a, UPLO="U"), lambda: (_spd(3),)),
        (lambda a: la.qr(a)[1], lambda: (_matrix(2, 4),)),
        (lambda a: la.qr(a)[0], lambda: (_matrix(2, 4),)),
        (lambda a: la.qr(a, mode="r"), lambda: (_matrix(4, 2),)),
        (lambda a: la.svd(a, compute_uv=False), lambda: (_matrix(2, 3),)),
        (lambda a: la.slogdet(a)[1], lambda: (_matrix(2, 3, 3),)),
        (lambda a: la.pinv(a, rtol=1e-12), lambda: (_matrix(2, 3),)),
    ],
)
def test_composites_and_options_in_both_modes(fun, make):
    _check(fun, *make())


_SYMMETRIC = np.array([[1.0, 0.4, -0.3], [0.4, -2.0, 0.5], [-0.3, 0.5, 0.6]])


@pytest.mark.parametrize(
    "fun",
    [
        lambda a: la.svd(a, hermitian=True),
        lambda a: la.svd(a, compute_uv=False, hermitian=True),
        lambda a: la.pinv(a, hermitian=True),
    ],
)
def test_hermitian_options_match_numpy_in_both_modes(fun):
    a_lower = _SYMMETRIC + np.triu(RNG.standard_normal((3, 3)), 1)  # upper part is ignored
    for matrix in (_SYMMETRIC, a_lower):
        expected = fun(matrix)
        actual = _traced_value(fun, matrix)
        for part, reference in zip(
            actual if isinstance(actual, tuple) else (actual,),
            expected if isinstance(expected, tuple) else (expected,),
        ):
            np.testing.assert_allclose(_plain(part), reference, atol=1e-12)
    _check(lambda a: fun(a)[0] if isinstance(fun(a), tuple) else fun(a), a_lower)


def test_qr_of_wide_matrices_matches_numpy():
    a = _matrix(2, 4)
    q, r = _traced_value(lambda a: la.qr(a), a)
    expected_q, expected_r = np.linalg.qr(a)
    np.testing.assert_allclose(_plain(q), expected_q, atol=1e-12)
    np.testing.assert_allclose(_plain(r), expected_r, atol=1e-12)


def test_eigh_vectors_second_order_and_symmetric_gradient_on_lower_triangle():
    a = _spd(3)
    gradient = ad.grad(lambda a: anp.sum(la.eigh(a)[1][:, 0] ** 3))(a)
    assert np.all(np.triu(gradient, 1) == 0.0)  # NumPy reads only the lower triangle
    _check(lambda a: la.eigh(a)[1] ** 3, a)


def test_matrix_rank_is_a_constant():
    a = _matrix(3, 3)
    gradient = ad.grad(lambda a: la.matrix_rank(a) * anp.sum(a))(a)
    np.testing.assert_allclose(gradient, 3.0 * np.ones((3, 3)))


# --- errors --------------------------------------------------------------------------------


def _grad_raises(fun, arg, error, match):
    with pytest.raises(error, match=match):
        ad.grad(lambda x: anp.sum(fun(x)))(arg)


def test_errors_name_the_function_and_the_fix():
    wide = _matrix(2, 3)
    _grad_raises(
        lambda a: la.svd(a)[0],
        wide,
        NotImplementedError,
        r"linalg.svd: .*not unique.*full_matrices=False",
    )
    _grad_raises(
        lambda a: la.qr(a, mode="complete")[0],
        wide.T,
        NotImplementedError,
        r"linalg.qr: mode='complete'",
    )
    _grad_raises(
        lambda a: la.norm(a, "nuc"),
        np.ones(3),
        ValueError,
        r"linalg.norm: invalid norm order 'nuc' for vectors",
    )
    _grad_raises(
        lambda a: la.norm(a, 3),
        np.ones((2, 2)),
        ValueError,
        r"linalg.norm: invalid norm order 3 for matrices",
    )
    _grad_raises(
        lambda a: la.norm(a, 1),
        np.ones((2, 2, 2)),
        ValueError,
        r"linalg.norm: ord=1 needs a 1-D or 2-D array",
    )
    _grad_raises(
        lambda a: la.matrix_power(a, 1.5),
        _matrix(2, 2),
        TypeError,
        r"matrix_power: exponent n must be an integer",
    )
    _grad_raises(
        lambda a: la.inv(a),
        np.ones(3),
        np.linalg.LinAlgError,
        r"linalg.inv: argument 'a' has 1 dimension",
    )
    _grad_raises(
        lambda a: la.det(a), np.ones((2, 3)), np.linalg.LinAlgError, r"linalg.det: .*must be square"
    )
    _grad_raises(
        lambda a: la.lstsq(a, np.ones(3))[0],
        np.ones((2, 2)),
        np.linalg.LinAlgError,
        r"lstsq: incompatible dimensions",
    )
    _grad_raises(
        lambda a: la.pinv(a, rcond=0.1, rtol=0.1),
        np.ones((2, 2)),
        ValueError,
        r"linalg.pinv: pass rcond or rtol, not both",
    )


def test_inv_and_solve_of_complex_intermediates_in_both_modes():
    a = _matrix(2, 2)
    b = RNG.standard_normal(2)

    def fun(a, b):
        return la.solve(a * (1.0 + 0.5j), b) + la.inv(a + 0.3j)[0]

    check(fun, (a, b), order=1)


# --- the general eigenproblem ------------------------------------------------------------


_REAL_SPECTRUM = np.array([[2.0, 1.0, 0.3], [0.2, -1.0, 0.5], [0.1, 0.4, 0.7]])
_COMPLEX_SPECTRUM = np.array([[1.0, 2.5, 0.1], [-2.0, 1.5, 0.3], [0.2, -0.4, -0.8]])


@pytest.mark.parametrize(
    "a", [_REAL_SPECTRUM, _COMPLEX_SPECTRUM, np.stack([_REAL_SPECTRUM, _COMPLEX_SPECTRUM])]
)
def test_eig_matches_numpy_and_differentiates_in_both_modes(a):
    w, v = _traced_value(la.eig, a)
    expected = np.linalg.eig(a)
    np.testing.assert_allclose(_plain(w), expected.eigenvalues, atol=1e-12)
    # (the eigenvectors' largest components are made positive: LAPACK's sign is arbitrary)
    signs = np.sign(
        np.take_along_axis(
            expected.eigenvectors,
            np.argmax(np.abs(expected.eigenvectors), axis=-2)[..., None, :],
            axis=-2,
        ).real
    )
    np.testing.assert_allclose(_plain(v), expected.eigenvectors * signs, atol=1e-12)
    np.testing.assert_array_equal(la.eig(a).eigenvectors, _plain(v))
    np.testing.assert_allclose(_traced_value(la.eigvals, a), np.linalg.eigvals(a), atol=1e-12)
    for fun in (lambda a: la.eig(a)[0], lambda a: la.eig(a)[1], la.eigvals):
        check(fun, (a,), order=2)


def test_eig_gradient_of_a_triangular_matrix_eigenvalue():
    a = np.array([[2.0, 1.0], [0.0, 3.0]])
    gradient = ad.grad(lambda a: anp.real(la.eigvals(a)[1]))(a)
    # Left eigenvector (0, 1), right eigenvector (1, 1): the gradient is their outer product.
    np.testing.assert_allclose(gradient, [[0.0, 0.0], [1.0, 1.0]], atol=1e-12)
