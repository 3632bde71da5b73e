"""adfun.scipy.linalg against SciPy, in both modes.

Every primitive (``expm sqrtm solve_sylvester solve_triangular cholesky lu_factor
solve_banded`` and the four behind ``eigh``/``eigvalsh``) is checked against finite
differences, in both modes and at second order, by test_rules.py, and staged by
test_staging.py and test_jit.py.  Here: values equal SciPy's on traced arguments
(stacks of matrices too), the composites (``cho_factor cho_solve lu_solve
expm_frechet``) on their declared domains, derivative identities (the Fréchet
derivative, the Sylvester equation of ``sqrtm``, the generalized eigenproblem's
normalization), and every error.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

scipy = pytest.importorskip("scipy")
import scipy.linalg as sl  # noqa: E402

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402
from adfun._engine.trace import full_value  # noqa: E402
from adfun.scipy import linalg  # noqa: E402
from adfun.scipy.linalg._common import SCIPY_BATCHES  # noqa: E402
from adfun.testing import check_grads  # noqa: E402

from _checking import expensive_examples  # noqa: E402

RNG = np.random.default_rng(19)
BATCHED = pytest.mark.skipif(not SCIPY_BATCHES, reason="SciPy < 1.15 takes 2-D arrays only")


def _traced(fun, *args):
    """``fun(*args)`` computed on traced arguments (every leaf of the result)."""
    out, _ = ad.vjp(lambda *xs: fun(*xs), *args)
    return _leaves(out)


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [np.asarray(full_value(value))]


def _assert_leaves_close(got, want, rtol=1e-12, atol=1e-12):
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want)
    for got_leaf, want_leaf in zip(got, want):
        assert got_leaf.shape == np.shape(want_leaf)
        np.testing.assert_allclose(got_leaf, want_leaf, rtol=rtol, atol=atol)


def _spd(n, batch=()):
    x = RNG.standard_normal(batch + (n, n))
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def _symmetric(n, batch=()):
    x = RNG.standard_normal(batch + (n, n))
    return (x + np.swapaxes(x, -1, -2)) / 2


def _well_conditioned(n, batch=()):
    return RNG.standard_normal(batch + (n, n)) + 3.0 * np.eye(n)


# --- values on traced arguments equal SciPy's ---------------------------------------------


def _value_cases(batch):
    a = _well_conditioned(3, batch)
    spd = _spd(3, batch)
    b = RNG.standard_normal(batch + (3, 2))
    vector = RNG.standard_normal(3)
    return {
        "expm": (lambda a: linalg.expm(a), (0.3 * a,), lambda a: sl.expm(a)),
        "sqrtm": (lambda a: linalg.sqrtm(a), (spd,), lambda a: sl.sqrtm(a)),
        "solve_sylvester": (
            lambda a, q: linalg.solve_sylvester(a, a + 1.0, q),
            (a, RNG.standard_normal(batch + (3, 3))),
            lambda a, q: sl.solve_sylvester(a, a + 1.0, q),
        ),
        "solve_triangular": (
            lambda a, b: linalg.solve_triangular(a, b, trans="T", lower=True),
            (a, b),
            lambda a, b: sl.solve_triangular(a, b, trans="T", lower=True),
        ),
        "solve_triangular vector": (
            lambda a, b: linalg.solve_triangular(a, b, unit_diagonal=True),
            (a, vector),
            lambda a, b: sl.solve_triangular(a, b, unit_diagonal=True),
        ),
        "cholesky": (lambda a: linalg.cholesky(a), (spd,), lambda a: sl.cholesky(a)),
        "cholesky lower": (
            lambda a: linalg.cholesky(a, lower=True),
            (spd,),
            lambda a: sl.cholesky(a, lower=True),
        ),
        "cho_factor": (
            lambda a: linalg.cho_factor(a, lower=True)[0],
            (spd,),
            lambda a: sl.cho_factor(a, lower=True)[0],
        ),
        "cho_solve": (
            lambda a, b: linalg.cho_solve(linalg.cho_factor(a), b),
            (spd, b),
            lambda a, b: sl.cho_solve(sl.cho_factor(a), b),
        ),
        "cho_solve vector": (
            lambda a, b: linalg.cho_solve(linalg.cho_factor(a, lower=True), b),
            (spd, vector),
            lambda a, b: sl.cho_solve(sl.cho_factor(a, lower=True), b),
        ),
        "lu_factor": (lambda a: linalg.lu_factor(a), (a,), lambda a: sl.lu_factor(a)),
        "lu_solve": (
            lambda a, b: linalg.lu_solve(linalg.lu_factor(a), b),
            (a, b),
            lambda a, b: sl.lu_solve(sl.lu_factor(a), b),
        ),
        "lu_solve transposed": (
            lambda a, b: linalg.lu_solve(linalg.lu_factor(a), b, trans=1),
            (a, vector),
            lambda a, b: sl.lu_solve(sl.lu_factor(a), b, trans=1),
        ),
        "eigvalsh": (lambda a: linalg.eigvalsh(a), (spd,), lambda a: sl.eigvalsh(a)),
        "eigh generalized values": (
            lambda a, b: linalg.eigh(a, b, eigvals_only=True),
            (_symmetric(3, batch), spd),
            lambda a, b: sl.eigh(a, b, eigvals_only=True),
        ),
    }


@pytest.mark.parametrize("name", sorted(_value_cases(())))
def test_traced_values_equal_scipy(name):
    fun, args, reference = _value_cases(())[name]
    _assert_leaves_close(_traced(fun, *args), reference(*args))


@BATCHED
@pytest.mark.parametrize("name", sorted(_value_cases((2,))))
def test_traced_values_equal_scipy_on_stacks(name):
    fun, args, reference = _value_cases((2,))[name]
    _assert_leaves_close(_traced(fun, *args), reference(*args))


def test_plain_values_are_scipy_itself():
    a = _spd(3)
    assert np.array_equal(linalg.expm(a / 10), sl.expm(a / 10))
    assert np.array_equal(linalg.sqrtm(a), sl.sqrtm(a))
    assert np.array_equal(linalg.cho_factor(a)[0], sl.cho_factor(a)[0])
    lu, piv = linalg.lu_factor(a)
    assert np.array_equal(lu, sl.lu_factor(a)[0]) and piv.dtype == sl.lu_factor(a)[1].dtype


def test_traced_lu_factor_pivots_are_scipy_integers():
    a = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0], [0.0, 5.0, 6.0]])

    def pivots(a):
        lu, piv = linalg.lu_factor(a)
        assert piv.dtype == np.int32
        return lu

    ad.grad(lambda a: anp.sum(pivots(a)))(a)
    lu, piv = _traced(linalg.lu_factor, a)
    want_lu, want_piv = sl.lu_factor(a)
    np.testing.assert_allclose(lu, want_lu, rtol=1e-14)
    assert np.array_equal(piv, want_piv) and piv.dtype == want_piv.dtype


def test_eigh_vectors_are_scipys_up_to_sign_with_the_largest_component_positive():
    a, b = _symmetric(4), _spd(4)
    for args in ((a,), (a, b)):
        w, v = linalg.eigh(*args)
        want_w, want_v = sl.eigh(*args)
        np.testing.assert_array_equal(w, want_w)
        np.testing.assert_allclose(np.abs(v), np.abs(want_v), rtol=1e-13, atol=1e-13)
        signs = np.sign(np.sum(v * want_v, axis=0))
        np.testing.assert_allclose(v, want_v * signs, rtol=1e-13, atol=1e-13)
        largest = v[np.argmax(np.abs(v), axis=0), np.arange(4)]
        assert np.all(largest > 0)
        traced_w, traced_v = _traced(lambda *xs: linalg.eigh(*xs), *args)
        np.testing.assert_array_equal(traced_v, v)
        np.testing.assert_array_equal(traced_w, w)


def test_generalized_eigenvectors_are_b_orthonormal_and_stay_so():
    a, b = _symmetric(3), _spd(3)
    w, v = linalg.eigh(a, b)
    np.testing.assert_allclose(v.T @ b @ v, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(a @ v, b @ v * w, atol=1e-12)
    # d(V^T B V) = 0 along any direction of a and b.
    da, db = _symmetric(3), _symmetric(3)

    def gram(a, b):
        v = linalg.eigh(a, b)[1]
        return anp.swapaxes(v, -1, -2) @ b @ v

    _, tangent = ad.jvp(gram, (a, b), (da, db))
    np.testing.assert_allclose(tangent, np.zeros((3, 3)), atol=1e-10)


def test_generalized_eigh_reads_one_triangle_of_both_matrices():
    a, b = _symmetric(3), _spd(3)
    for lower in (True, False):
        grads = ad.grad(
            lambda a, b, lower=lower: anp.sum(linalg.eigh(a, b, lower=lower)[1] ** 3), (0, 1)
        )(a, b)
        for grad in grads:
            other = np.triu(grad, 1) if lower else np.tril(grad, -1)
            assert np.all(other == 0.0)


# --- derivatives ---------------------------------------------------------------------------


def test_expm_directional_derivative_is_scipys_frechet_derivative():
    a, e = 0.5 * RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))
    _, tangent = ad.jvp(linalg.expm, (a,), (e,))
    np.testing.assert_allclose(tangent, sl.expm_frechet(a, e, compute_expm=False), rtol=1e-12)
    g = RNG.standard_normal((3, 3))
    _, pullback = ad.vjp(linalg.expm, a)
    # <g, L(a, e)> = <L(a^T, g), e>
    np.testing.assert_allclose(
        np.sum(pullback(g) * e), np.sum(g * sl.expm_frechet(a, e, compute_expm=False))
    )


def test_sqrtm_derivative_solves_the_sylvester_equation():
    a, da = _spd(3), _symmetric(3)
    root, tangent = ad.jvp(linalg.sqrtm, (a,), (da,))
    np.testing.assert_allclose(root @ tangent + tangent @ root, da, atol=1e-12)


def test_sqrtm_of_a_nonsymmetric_matrix_third_order():
    a = np.array([[4.0, 1.0, 0.5], [0.0, 3.0, 0.2], [0.3, 0.0, 2.0]])
    check_grads(lambda a: anp.sum(linalg.sqrtm(a) ** 2), (a,), order=3)


def test_expm_third_order_and_stacks():
    a = 0.4 * RNG.standard_normal((2, 2, 2)) if SCIPY_BATCHES else 0.4 * RNG.standard_normal((2, 2))
    check_grads(lambda a: anp.sum(anp.sin(linalg.expm(a))), (a,), order=3)


def test_eigvalsh_at_a_repeated_eigenvalue():
    """The sum of a repeated eigenvalue's copies is smooth: its gradient is the projector."""
    a = np.diag([1.0, 1.0, 3.0])
    grad = ad.grad(lambda a: anp.sum(linalg.eigvalsh(a)[:2]))(a)
    np.testing.assert_allclose(grad, np.diag([1.0, 1.0, 0.0]), atol=1e-12)
    b = np.diag([2.0, 2.0, 1.0])
    grad_b = ad.grad(lambda b: anp.sum(linalg.eigh(a, b, eigvals_only=True)))(b)
    np.testing.assert_allclose(grad_b, -np.diag([0.25, 0.25, 3.0]), atol=1e-12)


def test_solve_banded_gradients_match_the_dense_solve():
    n = 5
    dense = np.triu(np.tril(RNG.standard_normal((n, n)), 2), -1) + 4 * np.eye(n)
    ab = np.zeros((4, n))
    for i in range(n):
        for j in range(n):
            if -1 <= j - i <= 2:
                ab[2 + i - j, j] = dense[i, j]
    b = RNG.standard_normal((n, 2))
    np.testing.assert_allclose(
        _traced(lambda ab, b: linalg.solve_banded((1, 2), ab, b), ab, b)[0],
        np.linalg.solve(dense, b),
        rtol=1e-12,
    )
    weights = RNG.standard_normal((n, 2))
    g_ab, g_b = ad.grad(
        lambda ab, b: anp.sum(weights * linalg.solve_banded((1, 2), ab, b)), (0, 1)
    )(ab, b)
    g_dense, g_b_dense = ad.grad(lambda a, b: anp.sum(weights * anp.linalg.solve(a, b)), (0, 1))(
        dense, b
    )
    np.testing.assert_allclose(g_b, g_b_dense, rtol=1e-12)
    for i in range(n):
        for j in range(n):
            if -1 <= j - i <= 2:
                assert np.isclose(g_ab[2 + i - j, j], g_dense[i, j], rtol=1e-12)
    assert g_ab[0, 0] == g_ab[0, 1] == g_ab[1, 0] == g_ab[3, n - 1] == 0.0


def test_cho_factor_gradient_lives_on_the_triangle_read():
    a = _spd(3)
    grad = ad.grad(lambda a: anp.sum(linalg.cho_solve(linalg.cho_factor(a), np.ones(3))))(a)
    assert np.all(np.tril(grad, -1) == 0.0)
    # Equal to the gradient of the symmetric solve, folded onto the upper triangle.
    full = ad.grad(lambda a: anp.sum(anp.linalg.solve(a, np.ones(3))))(a)
    np.testing.assert_allclose(grad, np.triu(full + full.T, 1) + np.diag(np.diag(full)))


# --- the composites on their declared domains ------------------------------------------------

COMPOSITES = {
    "cho_factor": linalg.cho_factor,
    "cho_solve": linalg.cho_solve,
    "lu_solve": linalg.lu_solve,
    "expm_frechet": linalg.expm_frechet,
}


def _split(args):
    """The float arrays of ``args`` (inside lists too) and a function putting them back."""
    leaves = []

    def template(value):
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            leaves.append(value)
            return ("leaf", len(leaves) - 1)
        if isinstance(value, list):
            return ("list", [template(item) for item in value])
        return ("constant", value)

    shape = [template(arg) for arg in args]

    def fill(item, values):
        kind, content = item
        if kind == "leaf":
            return values[content]
        if kind == "list":
            return [fill(part, values) for part in content]
        return content

    return leaves, lambda values: [fill(item, values) for item in shape]


def _flat(value):
    if isinstance(value, (tuple, list)):
        return anp.concatenate(
            [anp.ravel(item) for item in value if np.result_type(item).kind == "f"]
        )
    return value


# The composites' rule-table check (tests/test_numpy_composites.py) draws from the same
# domains with the profile's count; here a few examples with second order for every one.
@pytest.mark.parametrize("name", sorted(COMPOSITES))
@settings(max_examples=expensive_examples(5))
@given(data=st.data())
def test_composite_on_its_domain(name, data):
    fun = COMPOSITES[name]
    args, kwargs = data.draw(_domain(fun), label="args, kwargs")
    leaves, rebuild = _split(args)

    def call(*values):
        return _flat(fun(*rebuild(values), **kwargs))

    value, _ = ad.vjp(call, *leaves)
    expected = _flat(fun(*args, **kwargs))  # plain arguments: SciPy's own result
    np.testing.assert_allclose(full_value(value), expected, rtol=1e-12, atol=1e-12)
    check_grads(call, tuple(leaves), order=2)


@st.composite
def _domain(draw, fun):
    return fun.domain.examples(draw, st, hnp)


# --- sqrtm's disp ----------------------------------------------------------------------------


def test_sqrtm_disp_false_returns_the_error_estimate():
    a = _spd(3)
    root, errest = _traced(lambda a: linalg.sqrtm(a, disp=False), a)
    np.testing.assert_allclose(root, sl.sqrtm(a), rtol=1e-12)
    assert 0.0 <= float(errest) < 1e-12
    grad = ad.grad(lambda a: linalg.sqrtm(a, disp=False)[1])(a)
    assert grad.shape == (3, 3) and np.all(np.isfinite(grad))


# --- errors ----------------------------------------------------------------------------------


def _grad_of(fun):
    return lambda *args: ad.grad(lambda *xs: anp.sum(_flat(fun(*xs))))(*args)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda a: linalg.expm(a[:, :1]), r"linalg\.expm: argument 'A' has shape \(2, 1\)"),
        (lambda a: linalg.sqrtm(a[0]), r"linalg\.sqrtm: argument 'A' has shape \(2,\)"),
        (
            lambda a: linalg.solve_triangular(a[:, :1], a),
            r"solve_triangular: argument 'a' has shape \(2, 1\)",
        ),
        (lambda a: linalg.cholesky(a[:1]), r"cholesky: argument 'a' has shape \(1, 2\)"),
        (lambda a: linalg.lu_factor(a[:1]), r"lu_factor: argument 'a' has shape \(1, 2\)"),
        (lambda a: linalg.eigh(a, a[:1]), r"eigh: argument 'b' has shape \(1, 2\)"),
        (
            lambda a: linalg.solve_sylvester(a, a, a[:1]),
            r"solve_sylvester: q has shape \(1, 2\); its last two dimensions must be \(2, 2\)",
        ),
        (
            lambda a: linalg.expm_frechet(a, a[:1]),
            r"expm_frechet: A has shape \(2, 2\) and E \(1, 2\)",
        ),
        (
            lambda a: linalg.expm_frechet(a, a, method="Pade"),
            r"expm_frechet: method must be None, 'SPS' or 'blockEnlarge', got 'Pade'",
        ),
        (
            lambda a: linalg.solve_triangular(a, a, trans="X"),
            r"solve_triangular: trans must be one of 0, 1, 2, 'N', 'T', 'C', got 'X'",
        ),
        (
            lambda a: linalg.lu_solve(linalg.lu_factor(a), a, trans="T"),
            r"lu_solve: trans must be one of 0, 1, 2, got 'T'",
        ),
        (
            lambda a: linalg.solve_banded((1, 1), a, a[0]),
            r"solve_banded: ab has shape \(2, 2\); for l_and_u=\(1, 1\) it must be \(3, n\)",
        ),
        (
            lambda a: linalg.sqrtm(-a),
            r"sqrtm: argument 'A' is a real matrix with no real principal square root",
        ),
    ],
)
def test_bad_arguments_raise_value_errors_naming_the_function(call, match):
    a = np.array([[2.0, 0.5], [0.5, 1.0]])
    with pytest.raises(ValueError, match=match):
        _grad_of(call)(a)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda a: linalg.eigh(a, a, type=2),
            r"eigh: type=2 is not supported on traced values; only the problem a v = w b v",
        ),
        (
            lambda a: linalg.eigvalsh(a, subset_by_index=[0, 0]),
            r"eigvalsh: subset_by_index=\[0, 0\] is not supported on traced values",
        ),
        (
            lambda a: linalg.eigh(a, subset_by_value=(0.0, 1.0)),
            r"eigh: subset_by_value=\(0\.0, 1\.0\) is not supported on traced values",
        ),
        (
            lambda a: linalg.cho_solve([anp.stack([a, a]), np.array([True, False])], a),
            r"cho_solve: the flags 'lower' of c_and_lower differ",
        ),
    ],
)
def test_options_without_derivative_raise_not_implemented(call, match):
    a = np.array([[2.0, 0.5], [0.5, 1.0]])
    with pytest.raises(NotImplementedError, match=match):
        _grad_of(call)(a)


def test_solve_banded_needs_plain_integer_bands():
    ab, b = np.array([[0.0, 1.0], [2.0, 2.0]]), np.ones(2)
    with pytest.raises(TypeError, match=r"solve_banded: l_and_u must be a pair of plain"):
        ad.grad(lambda ab: anp.sum(linalg.solve_banded((0.0, 1), ab, b)))(ab)
    with pytest.raises(TypeError, match=r"solve_banded: l_and_u must be a pair of plain"):
        ad.grad(lambda ab: anp.sum(linalg.solve_banded((0, 1, 2), ab, b)))(ab)


def test_scipy_errors_surface_unchanged_on_traced_values():
    """Errors SciPy itself raises (not positive definite, not finite) are SciPy's."""
    with pytest.raises(np.linalg.LinAlgError):
        ad.grad(lambda a: anp.sum(linalg.cholesky(a)))(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="infs or NaNs"):
        ad.grad(lambda b: anp.sum(linalg.solve_triangular(np.eye(2), b)))(np.array([np.nan, 1.0]))


@pytest.mark.parametrize("trans", [0, 1, 2])
@pytest.mark.parametrize("rhs", [(3,), (3, 2)])
def test_lu_and_cho_solve_with_a_zero_pivot_give_scipys_infinities(trans, rhs):
    """SciPy's ``lu_solve`` and ``cho_solve`` (LAPACK's getrs, potrs) do not check the
    diagonal: a zero there gives infinities and NaN, not the LinAlgError of
    ``solve_triangular``; traced and staged calls give the same values."""
    lu = np.array([[0.0, 1.5, 2.0], [0.25, 2.0, 1.5], [0.75, 0.5, 0.0]])
    piv = np.array([1, 2, 2], dtype=np.int32)
    b = np.arange(1.0, 1.0 + np.prod(rhs)).reshape(rhs)
    stack, pivots = np.stack([lu, lu + np.eye(3)]), np.stack([piv, np.array([2, 1, 2])])
    with np.errstate(all="ignore"):
        for lu_, piv_ in ((lu, piv), (stack, pivots)):
            want = sl.lu_solve((lu_, piv_), b, trans=trans)
            assert not np.isfinite(want).all()
            traced = ad.jit(lambda lu, b, piv=piv_: linalg.lu_solve((lu, piv), b, trans=trans))
            np.testing.assert_allclose(traced(lu_, b), want, rtol=1e-13, equal_nan=True)
            value = ad.value_and_grad(
                lambda b, lu=lu_, piv=piv_: anp.sum(linalg.lu_solve((lu, piv), b, trans=trans))
            )
            np.testing.assert_allclose(value(b)[0], np.sum(want), rtol=1e-13, equal_nan=True)
        want = sl.cho_solve((lu, trans == 1), b)
        staged = ad.jit(lambda c, b: linalg.cho_solve((c, trans == 1), b))
        np.testing.assert_allclose(staged(lu, b), want, rtol=1e-13, equal_nan=True)
    with pytest.raises(np.linalg.LinAlgError, match="singular matrix"):
        ad.grad(lambda b: anp.sum(linalg.solve_triangular(lu, b)))(b)


# --- SciPy's names for adfun.numpy.linalg functions ------------------------------------------


def test_inv_det_svd_with_scipys_signatures():
    a = _well_conditioned(3)
    for fun, reference in (
        (lambda a: linalg.inv(a, check_finite=True), sl.inv),
        (linalg.det, sl.det),
        (lambda a: linalg.svd(a, full_matrices=False), lambda a: sl.svd(a, full_matrices=False)),
        (lambda a: linalg.svd(a, compute_uv=False), lambda a: sl.svd(a, compute_uv=False)),
    ):
        _assert_leaves_close(_traced(fun, a), reference(a), rtol=1e-10, atol=1e-12)
        check_grads(lambda a, fun=fun: _flat(fun(a)), (a,), order=2)


def test_inv_det_svd_errors():
    a = np.eye(2)
    with pytest.raises(NotImplementedError, match=r"inv: assume_a='pos' is not supported"):
        ad.grad(lambda a: anp.sum(linalg.inv(a, assume_a="pos")))(a)
    with pytest.raises(ValueError, match=r"det: argument 'a' has shape \(1, 2\)"):
        ad.grad(lambda a: linalg.det(a[:1]))(a)
    with pytest.raises(ValueError, match=r"svd: lapack_driver must be 'gesdd' or 'gesvd'"):
        ad.grad(lambda a: anp.sum(linalg.svd(a, lapack_driver="x")[1]))(a)
