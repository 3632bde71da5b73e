"""Complex matrices in adfun.scipy.linalg and adfun.scipy.signal.

The primitives' rules are checked on complex arguments against finite differences by
tests/test_complex_rules.py (through the ``complex_domain`` each declares; the first
test here makes sure none is missing).  Here, through the public functions: values equal
SciPy's on complex (and mixed real and complex) arguments, traced and plain; the
derivatives of the compositions users write (``cho_solve(cho_factor(a), b)``,
``lu_solve(lu_factor(a), b, trans=2)``, phase-independent functions of ``eigh``'s and
``svd``'s vectors), with HIPS autograd's and JAX's convention (real inputs keep real
gradients); the phase gauge of complex eigen- and singular vectors; staging; and the
errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

scipy = pytest.importorskip("scipy")
import scipy.linalg as sl  # noqa: E402
import scipy.signal as ss  # noqa: E402

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402
from adfun._engine.trace import full_value  # noqa: E402
from adfun.numpy._declare import COMPOSITES, REGISTRY  # noqa: E402
from adfun.numpy.linalg._helpers import draw_complex_matrix, draw_hermitian  # noqa: E402
from adfun.scipy import linalg, signal  # noqa: E402
from adfun.scipy.linalg._common import SCIPY_BATCHES  # noqa: E402

from _checking import check  # noqa: E402

RNG = np.random.default_rng(17)
BATCHES = [(), (2,)] if SCIPY_BATCHES else [()]


def _complex(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def _well_conditioned(n, batch=()):
    return _complex(*batch, n, n) + 3.0 * np.eye(n)


def _hpd(n, batch=()):
    x = _complex(*batch, n, n)
    return x @ np.conj(np.swapaxes(x, -1, -2)) + n * np.eye(n)


def _hermitian(n, batch=()):
    x = _complex(*batch, n, n)
    return (x + np.conj(np.swapaxes(x, -1, -2))) / 2.0


def _traced(fun, *args):
    """``fun(*args)`` computed on traced arguments (every leaf of the result)."""
    out, _ = ad.vjp(lambda *xs: fun(*xs), *args)
    return _leaves(out)


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [np.asarray(full_value(value))]


def _joined(*parts):
    """Several outputs as one (complex where one of them is) vector, for ``check``."""
    return anp.concatenate([anp.reshape(part, (-1,)) for part in parts])


def _largest_components(v):
    rows = np.argmax(np.abs(v), axis=-2)[..., None, :]
    return np.take_along_axis(v, rows, axis=-2)[..., 0, :]


def _real_loss(value):
    """A real loss that reads the real and imaginary parts of a complex value."""
    weights = np.linspace(0.5, 1.5, np.size(full_value(value))).reshape(np.shape(value))
    return anp.sum(weights * anp.real(value) + anp.imag(value) ** 2)


# --- coverage --------------------------------------------------------------------------------


def test_every_scipy_linalg_and_signal_function_declares_a_complex_domain():
    primitives = [
        name
        for name, fun in REGISTRY.items()
        if name.startswith(("scipy.linalg.", "signal.")) and not fun.primitive.nondiff
    ]
    assert len(primitives) == 13
    assert [name for name in primitives if REGISTRY[name].primitive.complex_domain is None] == []
    for name in ("cho_factor", "cho_solve", "lu_solve", "expm_frechet"):
        assert getattr(COMPOSITES[name], "complex_domain", None) is not None, name


# --- values equal SciPy's --------------------------------------------------------------------


@pytest.mark.parametrize("batch", BATCHES)
def test_matrix_functions_of_complex_matrices_equal_scipy(batch):
    a = 0.5 * _complex(*batch, 3, 3)
    root = _hpd(3, batch) * np.exp(0.4j)  # eigenvalues off the negative real axis
    b = _well_conditioned(2, batch)
    q = _complex(*batch, 3, 2)
    cases = [
        (linalg.expm, (a,), sl.expm(a)),
        (linalg.sqrtm, (root,), sl.sqrtm(root)),
        (linalg.solve_sylvester, (a + 3.0 * np.eye(3), b, q), None),
        (linalg.inv, (a + 3.0 * np.eye(3),), sl.inv(a + 3.0 * np.eye(3))),
        (linalg.det, (a,), sl.det(a)),
    ]
    for fun, args, want in cases:
        (got,) = _traced(fun, *args)
        if want is None:  # solve_sylvester: the residual (SciPy's is checked below)
            x = got
            a_, b_, q_ = args
            np.testing.assert_allclose(a_ @ x + x @ b_, q_, atol=1e-12)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        assert np.iscomplexobj(got)


def test_expm_frechet_of_complex_matrices_equals_scipy():
    a, e = 0.5 * _complex(3, 3), _complex(3, 3)
    got = _traced(lambda a, e: linalg.expm_frechet(a, e), a, e)
    for got_leaf, want_leaf in zip(got, sl.expm_frechet(a, e)):
        np.testing.assert_allclose(got_leaf, want_leaf, rtol=1e-10, atol=1e-12)


def test_solve_sylvester_with_mixed_real_and_complex_arguments_is_right():
    # SciPy's own solver is wrong here: a real a with complex eigenvalues (a 2x2 block of
    # its real Schur form) next to a complex q.  adfun makes all three complex.
    a = np.array([[3.0, -2.0], [2.0, 3.0]])
    b = np.array([[4.0, 3.0], [-3.0, 4.0]])
    q = _complex(2, 2)
    for args in ((a, b, q), (a.astype(complex), b, q.real)):
        plain = linalg.solve_sylvester(*args)
        (traced,) = _traced(linalg.solve_sylvester, *args)
        for x in (plain, traced):
            np.testing.assert_allclose(args[0] @ x + x @ args[1], args[2], atol=1e-12)
    check(linalg.solve_sylvester, [a, b, q], order=1)


@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower", [False, True])
def test_solve_triangular_with_complex_and_mixed_arguments_equals_scipy(trans, lower):
    a = np.triu(_well_conditioned(3))
    a = a.T if lower else a
    b = _complex(3, 2)
    for a_, b_ in ((a, b), (a.real, b), (a, b.real)):
        (got,) = _traced(
            lambda a_, b_: linalg.solve_triangular(a_, b_, trans=trans, lower=lower), a_, b_
        )
        want = sl.solve_triangular(a_, b_, trans=trans, lower=lower)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_and_cho_solve_of_hermitian_matrices_equal_scipy(lower):
    a = _hpd(3)
    b = _complex(3)
    (factor,) = _traced(lambda a: linalg.cholesky(a, lower=lower), a)
    np.testing.assert_allclose(factor, sl.cholesky(a, lower=lower), rtol=1e-12, atol=1e-12)
    (x,) = _traced(lambda a, b: linalg.cho_solve(linalg.cho_factor(a, lower=lower), b), a, b)
    np.testing.assert_allclose(x, sl.cho_solve(sl.cho_factor(a, lower=lower), b), rtol=1e-12)
    np.testing.assert_allclose(a @ x, b, atol=1e-12)


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_factor_and_lu_solve_of_complex_matrices_equal_scipy(trans):
    a, b = _well_conditioned(3), _complex(3, 2)
    lu, piv = _traced(linalg.lu_factor, a)
    want_lu, want_piv = sl.lu_factor(a)
    np.testing.assert_allclose(lu, want_lu, rtol=1e-12, atol=1e-12)
    assert piv.dtype == np.int32 and np.array_equal(piv, want_piv)
    (x,) = _traced(lambda a, b: linalg.lu_solve(linalg.lu_factor(a), b, trans=trans), a, b)
    np.testing.assert_allclose(x, sl.lu_solve((want_lu, want_piv), b, trans=trans), rtol=1e-11)
    op = [a, a.T, a.conj().T][trans]
    np.testing.assert_allclose(op @ x, b, atol=1e-12)


def test_solve_banded_of_complex_matrices_equals_scipy():
    ab = _complex(3, 4)
    ab[1] += 4.0
    b = _complex(4)
    (got,) = _traced(lambda ab, b: linalg.solve_banded((1, 1), ab, b), ab, b)
    np.testing.assert_allclose(got, sl.solve_banded((1, 1), ab, b), rtol=1e-12)


# --- derivatives of compositions -------------------------------------------------------------


@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_cho_solve_of_cho_factor_is_the_hermitian_solve(data):
    n = data.draw(st.integers(1, 3))
    a = draw_hermitian(data.draw, st, hnp, n, positive=True)
    b = draw_complex_matrix(data.draw, st, hnp, n, 2)
    lower = data.draw(st.booleans())

    def solve(a, b):
        return linalg.cho_solve(linalg.cho_factor(a, lower=lower), b)

    check(solve, [a, b], order=1)


@settings(max_examples=5, deadline=None)
@given(data=st.data(), trans=st.sampled_from([0, 1, 2]))
def test_lu_solve_of_lu_factor_in_every_transposition(data, trans):
    n = data.draw(st.integers(1, 3))
    a = draw_complex_matrix(data.draw, st, hnp, n, n)
    b = draw_complex_matrix(data.draw, st, hnp, n, 1)[:, 0]
    check(lambda a, b: linalg.lu_solve(linalg.lu_factor(a), b, trans=trans), [a, b], order=1)


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_real_inputs_keep_real_gradients_through_complex_solves(trans):
    a = np.triu(RNG.standard_normal((3, 3))) + 3.0 * np.eye(3)
    b = _complex(3)

    def loss(a):
        return _real_loss(linalg.solve_triangular(a, b, trans=trans))

    gradient = ad.grad(loss)(a)
    assert gradient.dtype == np.float64
    check(lambda a: linalg.solve_triangular(a, b, trans=trans), [a], order=2)
    # A complex a with a real right-hand side: a complex gradient.
    complex_a = a + 1j * np.triu(RNG.standard_normal((3, 3)))
    gradient = ad.grad(lambda a: _real_loss(linalg.solve_triangular(a, b.real, trans=trans)))(
        complex_a
    )
    assert gradient.dtype == np.complex128
    check(lambda a: linalg.solve_triangular(a, b.real, trans=trans), [complex_a], order=2)


def test_gradient_follows_the_convention_df_dx_minus_i_df_dy():
    a = 0.5 * _complex(2, 2)

    def loss(a):
        return anp.real(anp.sum(linalg.expm(a) * np.array([[1.0, 2.0j], [3.0, 4.0]])))

    gradient = ad.grad(loss)(a)
    step = 1e-6
    for index in np.ndindex(2, 2):
        e = np.zeros((2, 2))
        e[index] = step
        dx = (loss(a + e) - loss(a - e)) / (2 * step)
        dy = (loss(a + 1j * e) - loss(a - 1j * e)) / (2 * step)
        np.testing.assert_allclose(gradient[index], dx - 1j * dy, rtol=1e-6)


def test_holomorphic_gradient_of_a_matrix_function_is_its_derivative():
    # d/dz trace(expm(z A)) = trace(A expm(z A));
    # d/dz trace(sqrtm(z B)) = trace(sqrtm(B)) / (2 sqrt(z)).
    a, b, z = 0.3 * _complex(3, 3), _hpd(3), 0.7 + 0.2j

    def trace_expm(z):
        return anp.trace(linalg.expm(z * a))

    def trace_sqrtm(z):
        return anp.trace(linalg.sqrtm(z * b))

    got = ad.grad(trace_expm, holomorphic=True)(z)
    np.testing.assert_allclose(got, np.trace(a @ sl.expm(z * a)), rtol=1e-10)
    got = ad.grad(trace_sqrtm, holomorphic=True)(z)
    np.testing.assert_allclose(got, np.trace(sl.sqrtm(b)) / (2.0 * np.sqrt(z)), rtol=1e-9)


def test_sqrtm_error_estimate_of_a_complex_matrix_is_real():
    # SciPy's errest = norm(X @ X - A, 'fro')**2 / norm(A, 'fro'): moduli, not squares.
    a = _hpd(2) * np.exp(0.3j)
    root, errest = _traced(lambda a: linalg.sqrtm(a, disp=False), a)
    np.testing.assert_allclose(root, sl.sqrtm(a), rtol=1e-12)
    assert errest.dtype == np.float64 and 0.0 <= float(errest) < 1e-12
    gradient = ad.grad(lambda a: linalg.sqrtm(a, disp=False)[1])(a)
    assert gradient.dtype == np.complex128 and np.all(np.isfinite(gradient))


@pytest.mark.parametrize("batch", BATCHES)
def test_sqrtm_and_expm_of_complex_matrices_to_second_order(batch):
    a = 0.4 * _complex(*batch, 2, 2)
    root = _hpd(2, batch) * np.exp(-0.5j)
    check(linalg.expm, [a], order=2)
    check(linalg.sqrtm, [root], order=2)


def test_inv_det_and_svdvals_of_complex_matrices():
    a = _well_conditioned(3)
    check(linalg.inv, [a], order=2)
    check(linalg.det, [a], order=2)
    check(lambda a: linalg.svd(a, compute_uv=False), [a], order=1)


# --- eigh, eigvalsh: Hermitian matrices, the phase gauge -------------------------------------


@settings(max_examples=5, deadline=None)
@given(data=st.data(), lower=st.booleans(), generalized=st.booleans())
def test_eigh_of_hermitian_matrices_in_phase_invariant_functions(data, lower, generalized):
    n = data.draw(st.integers(1, 3))
    a = draw_hermitian(data.draw, st, hnp, n)
    b = draw_hermitian(data.draw, st, hnp, n, positive=True) if generalized else None

    def invariant(a, *b):
        w, v = linalg.eigh(a, *b, lower=lower)
        spectral = (v * anp.expand_dims(anp.sin(w), -2)) @ anp.conj(anp.swapaxes(v, -1, -2))
        return _joined(w, anp.abs(v) ** 2, spectral)

    args = [a] if b is None else [a, b]
    check(invariant, args, order=1)
    check(lambda *args: linalg.eigvalsh(*args, lower=lower), args, order=2)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("generalized", [False, True])
def test_eigh_fixes_the_phase_of_complex_eigenvectors(batch, generalized):
    a = _hermitian(3, batch)
    b = _hpd(3, batch) if generalized else None
    args = (a,) if b is None else (a, b)
    want_w, want_v = sl.eigh(*args)
    for w, v in (linalg.eigh(*args), _traced(linalg.eigh, *args)):
        np.testing.assert_allclose(w, want_w, rtol=1e-10, atol=1e-12)
        largest = _largest_components(v)
        np.testing.assert_allclose(largest.imag, 0.0, atol=1e-12)
        assert (largest.real > 0).all()
        # SciPy's vectors up to one phase per column.
        np.testing.assert_allclose(np.abs(v), np.abs(want_v), atol=1e-10)
        overlap = np.sum(np.conj(want_v) * (v if b is None else b @ v), axis=-2)
        np.testing.assert_allclose(np.abs(overlap), 1.0, atol=1e-10)
    assert w.dtype == np.float64


def test_eigh_with_real_a_and_complex_b():
    a = RNG.standard_normal((3, 3))
    a = a + a.T
    b = _hpd(3)

    def invariant(a, b):
        w, v = linalg.eigh(a, b)
        return _joined(w, anp.abs(v) ** 2)

    check(invariant, [a, b], order=1)
    assert ad.grad(lambda a: anp.sum(linalg.eigvalsh(a, b) ** 2))(a).dtype == np.float64


def test_a_phase_dependent_loss_is_differentiated_in_adfuns_gauge():
    # Re(v[0, 0]) reads the phase of the first eigenvector: its derivative is that of the
    # vectors in adfun's gauge (largest component real), which finite differences of
    # the public function (in the same gauge) confirm.
    a = _hermitian(3)
    check(lambda a: anp.real(linalg.eigh(a)[1][0, 0]), [a], order=1)


# --- svd: the phase gauge on plain and traced values ------------------------------------------


@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd_of_complex_matrices_uses_adfuns_phase_gauge(full_matrices):
    a = _complex(3, 2)
    u, s, vh = linalg.svd(a, full_matrices=full_matrices)
    want_u, want_s, want_vh = sl.svd(a, full_matrices=full_matrices)
    np.testing.assert_allclose(s, want_s, rtol=1e-12)
    np.testing.assert_allclose((u[:, :2] * s) @ vh[:2], a, atol=1e-12)
    np.testing.assert_allclose(np.abs(u), np.abs(want_u), atol=1e-12)
    largest = _largest_components(u[:, :2])
    np.testing.assert_allclose(largest.imag, 0.0, atol=1e-12)
    assert (largest.real > 0).all()
    traced = _traced(lambda a: linalg.svd(a, full_matrices=False), a)
    for got, want in zip(traced, (u[:, :2], s, vh[:2])):
        np.testing.assert_allclose(got, want, atol=1e-12)
    # A phase-independent function of the vectors.
    check(lambda a: anp.abs(linalg.svd(a, full_matrices=False)[0]) ** 2, [a], order=1)


# --- signal ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
def test_convolve_and_correlate_of_complex_signals(mode):
    x, k = _complex(5), _complex(3)
    for fun, want in ((signal.convolve, ss.convolve), (signal.correlate, ss.correlate)):

        def call(a, b, fun=fun):
            return fun(a, b, mode=mode)

        for pair in ((x, k), (x.real, k), (x, k.real)):
            (got,) = _traced(call, *pair)
            np.testing.assert_allclose(got, want(*pair, mode=mode), rtol=1e-12, atol=1e-12)
            check(call, list(pair), order=1)


def test_correlate_gradient_in_its_conjugated_argument():
    # correlate(x, k)[j] = sum_l x[l] conj(k[l - j + N - 1]): with the convention
    # grad = df/dx - i df/dy, d/dk of Re(correlate(x, k)[0]) is conj(x[0]) at the last
    # entry of k.
    x, k = _complex(3), _complex(2)
    gradient = ad.grad(lambda k: anp.real(signal.correlate(x, k)[0]))(k)
    np.testing.assert_allclose(gradient, [0.0, np.conj(x[0])], atol=1e-15)


# --- staging ---------------------------------------------------------------------------------


def test_complex_factorizations_stage_and_replay_on_new_matrices():
    def loss(a, b):
        w, v = linalg.eigh(a)
        x = linalg.lu_solve(linalg.lu_factor(a + 4.0 * np.eye(3)), b, trans=2)
        y = linalg.cho_solve(linalg.cho_factor(a @ anp.conj(a.T) + np.eye(3)), b)
        return anp.sum(w**2) + anp.sum(anp.abs(v) ** 4) + _real_loss(x) + _real_loss(y)

    staged = ad.jit(ad.grad(loss, argnums=(0, 1)))
    staged(_hermitian(3), _complex(3))
    for _ in range(2):
        a, b = _hermitian(3), _complex(3)
        for got, want in zip(staged(a, b), ad.grad(loss, argnums=(0, 1))(a, b)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# --- errors ----------------------------------------------------------------------------------


def test_sqrtm_of_a_real_matrix_without_a_real_root_points_to_complex():
    a = np.array([[-2.0, 0.5], [0.5, 1.0]])
    with pytest.raises(
        ValueError,
        match=r"adfun\.scipy\.linalg\.sqrtm: argument 'A' is a real matrix with no real "
        r"principal square root .* Pass a complex matrix \(A\.astype\(complex\)\)",
    ):
        ad.grad(lambda a: anp.sum(linalg.sqrtm(a)))(a)
    # As advised: SciPy's complex root (this matrix lies on the branch cut, so only
    # along directions that keep its eigenvalues off the cut is there a derivative).
    (root,) = _traced(linalg.sqrtm, a.astype(complex))
    np.testing.assert_allclose(root, sl.sqrtm(a), rtol=1e-12)
    assert root.dtype == np.complex128


def test_a_complex_output_needs_holomorphic():
    with pytest.raises(TypeError, match=r"holomorphic=True"):
        ad.grad(lambda a: anp.trace(linalg.expm(a)))(_complex(2, 2))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda a: linalg.eigh(a, a @ a, type=2),
            NotImplementedError,
            r"adfun\.scipy\.linalg\.eigh: type=2 is not supported on traced values",
        ),
        (
            lambda a: linalg.eigvalsh(a, subset_by_index=[0, 0]),
            NotImplementedError,
            r"adfun\.scipy\.linalg\.eigvalsh: subset_by_index=\[0, 0\] is not supported",
        ),
        (
            lambda a: linalg.svd(a[:, :1]),
            NotImplementedError,
            r"adfun\.numpy\.linalg\.svd: the full U and Vh of a non-square 2x1 matrix",
        ),
        (
            lambda a: linalg.solve_banded((1 + 0j, 0), a, a[0]),
            TypeError,
            r"adfun\.scipy\.linalg\.solve_banded: l_and_u must be a pair of plain integers",
        ),
        (
            lambda a: linalg.expm(a[0]),
            ValueError,
            r"adfun\.scipy\.linalg\.expm: argument 'A' has shape \(2,\)",
        ),
        (
            lambda a: linalg.solve_triangular(a, a, trans="H"),
            ValueError,
            r"adfun\.scipy\.linalg\.solve_triangular: trans must be one of 0, 1, 2, 'N', 'T', "
            r"'C', got 'H'",
        ),
        (
            lambda a: signal.correlate(a, a[0], mode="full"),
            ValueError,
            r"adfun\.scipy\.signal\.correlate",
        ),
    ],
)
def test_errors_on_complex_traced_matrices_name_the_function(call, error, match):
    a = np.array([[2.0, 0.5 - 0.5j], [0.5 + 0.5j, 1.0]])
    with pytest.raises(error, match=match):
        ad.grad(lambda a: anp.sum(anp.abs(_joined(*_flat(call(a))))))(a)


def _flat(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]
