"""Factorizations: ``cholesky eigh eigvalsh svd svdvals qr``.

Factorizations with several outputs are one primitive each whose value packs the
outputs along one last axis (one LAPACK call); the public function unpacks them with
differentiable indexing and returns NumPy's named tuples.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS, Params
from adfun._engine.trace import Tracer, bind
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._batching import leading
from adfun.numpy._complex import conjugate, imag, real
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._elementwise import absolute
from adfun.numpy._indexing import getitem
from adfun.numpy._nondiff import sign
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._shape import concatenate, expand_dims, squeeze
from adfun.numpy._typing import UPLO, QRMode
from adfun.numpy.linalg._helpers import (
    diag_embed,
    diag_part,
    draw_batch,
    draw_complex_matrix,
    draw_hermitian,
    draw_matrix,
    draw_symmetric,
    eye_like,
    fix_phase,
    largest_mask,
    mask,
    mH,
    mT,
    off_diagonal_inverse,
    pack,
    pack_values,
    phase_correction,
    phase_correction_adjoint,
    read_hermitian,
    read_hermitian_adjoint,
    require_matrix,
    safe_reciprocal,
    unpack,
)
from adfun.numpy.linalg._inverse import inv, solve

_EighResult = type(np.linalg.eigh(np.eye(1)))
_SVDResult = type(np.linalg.svd(np.eye(1)))
_QRResult = type(np.linalg.qr(np.eye(1)))

# --- cholesky --------------------------------------------------------------------------


def _phi(x: Any) -> Any:
    """The lower triangle of ``x`` with its diagonal halved."""
    return x * mask(x, -1) + 0.5 * (x * eye_like(x))


def _cholesky_vjp(g: Any, ans: Any, a: Any) -> Any:
    inverse = inv(ans)
    middle = mT(inverse) @ _phi(mT(ans) @ g) @ conjugate(inverse)
    return read_hermitian_adjoint(middle, lower=True)


def _cholesky_jvp(t: Any, ans: Any, a: Any) -> Any:
    inverse = inv(ans)
    return ans @ _phi(inverse @ read_hermitian(t, lower=True) @ mH(inverse))


def _spd_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    return (draw_symmetric(draw, st, hnp, n, draw_batch(draw, st), positive=True),), {}


def _hpd_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    return (draw_hermitian(draw, st, hnp, n, draw_batch(draw, st), positive=True),), {}


_CHOLESKY = primitive(
    "linalg.cholesky",
    np.linalg.cholesky,
    (_cholesky_vjp,),
    (_cholesky_jvp,),
    domain=Domain(examples=_spd_examples),
    batch=leading,
    complex_domain=Domain(examples=_hpd_examples),
)


@export(np.linalg.cholesky, primitive=_CHOLESKY)
def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """Differentiable :func:`numpy.linalg.cholesky` of symmetric (Hermitian) positive
    definite matrices, real or complex.

    Like NumPy, only the lower triangle of ``a`` is read (the upper one with
    ``upper=True``; of a complex diagonal only the real part), so the gradient lives on
    that triangle.

    Derivative (Murray, 2016): ``dL = L Phi(L^{-1} dA L^{-H})`` with ``Phi`` the lower
    triangle with a halved diagonal; the reverse rule is its adjoint.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.linalg.cholesky(a)[0, 0])(np.array([[4.0, 1.0], [1.0, 2.0]]))
    array([[0.25, 0.  ],
           [0.  , 0.  ]])
    """
    if type(a) is not Tracer:
        return np.linalg.cholesky(a, upper=upper)
    require_matrix("cholesky", "a", a)
    if upper:
        return mT(bind(_CHOLESKY, (mT(a),), EMPTY_PARAMS))
    return bind(_CHOLESKY, (a,), EMPTY_PARAMS)


# --- eigh ------------------------------------------------------------------------------


def _eigh_impl(a: Any, lower: bool = True) -> Any:
    w, v = np.linalg.eigh(a, UPLO="L" if lower else "U")
    if np.iscomplexobj(v):
        v = fix_phase(v)[0]
    return pack_values([w, v], a.shape[:-2])


def _eigh_parts(packed: Any, n: int) -> list:
    return unpack(packed, [(n,), (n, n)])


def _gaps(w: Any) -> Any:
    """``F_ij = 1 / (w_j - w_i)`` off the diagonal, 0 on it."""
    return off_diagonal_inverse(expand_dims(w, -2) - expand_dims(w, -1))


def _eigh_vjp(g: Any, ans: Any, a: Any, lower: bool = True) -> Any:
    n = shape_of(a)[-1]
    w, v = _eigh_parts(ans, n)
    gw, gv = _eigh_parts(g, n)
    w = real(w)
    if dtype_of(v).kind == "c":
        # The adjoint of the phase gauge (see _eigh_jvp).
        gv = gv + phase_correction_adjoint(imag(_sum(gv * v, axis=-2)), v, largest_mask(v))
    inner = diag_embed(real(gw)) + _gaps(w) * (mT(v) @ gv)
    return read_hermitian_adjoint(conjugate(v) @ inner @ mT(v), lower)


def _eigh_jvp(t: Any, ans: Any, a: Any, lower: bool = True) -> Any:
    n = shape_of(a)[-1]
    w, v = _eigh_parts(ans, n)
    w = real(w)
    rotated = mH(v) @ read_hermitian(t, lower) @ v
    dv = v @ (_gaps(w) * rotated)
    if dtype_of(v).kind == "c":
        # Gauge: the largest component of each eigenvector stays real (fix_phase).
        dv = dv - 1j * v * expand_dims(phase_correction(dv, v, largest_mask(v)), -2)
    return pack([real(diag_part(rotated)), dv], shape_of(a)[:-2])


def _symmetric_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    return (draw_symmetric(draw, st, hnp, n, draw_batch(draw, st)),), {"lower": draw(st.booleans())}


def _hermitian_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    return (draw_hermitian(draw, st, hnp, n, draw_batch(draw, st)),), {"lower": draw(st.booleans())}


_EIGH = primitive(
    "linalg.eigh",
    _eigh_impl,
    (_eigh_vjp,),
    (_eigh_jvp,),
    domain=Domain(examples=_symmetric_examples),
    batch=leading,
    complex_domain=Domain(examples=_hermitian_examples),
)


def _uplo(function: str, uplo: str) -> bool:
    if uplo not in ("L", "U"):
        raise ValueError(f"adfun.numpy.linalg.{function}: UPLO must be 'L' or 'U', got {uplo!r}")
    return uplo == "L"


@export(np.linalg.eigh, primitive=_EIGH)
def eigh(a: Any, UPLO: UPLO = "L") -> Any:  # noqa: N803 - NumPy's name
    """Differentiable :func:`numpy.linalg.eigh`: ``(eigenvalues, eigenvectors)``.

    Only the triangle named by ``UPLO`` is read, as in NumPy.  Eigenvector derivatives
    require distinct eigenvalues (they divide by the gaps ``w_j - w_i``).  For complex
    Hermitian ``a`` each eigenvector is multiplied by the phase that makes its
    largest-magnitude component real and positive (NumPy leaves the phase to LAPACK):
    this makes the eigenvectors a function of ``a`` (docs/conventions.md, "Phases of
    complex vectors"); a function of them that does not depend on the phases (``|V|**2``,
    ``V diag(f(w)) V^H``) has the same derivative in every gauge.

    Derivative: ``dw = diag(V^H dA V)``, ``dV = V (F o (V^H dA V)) + i V diag(c)`` with
    ``F_ij = 1 / (w_j - w_i)`` and ``c`` real (0 for real ``a``) fixing the phases.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.linalg.eigh(a)[0][1])(np.diag([1.0, 2.0]))
    array([[0., 0.],
           [0., 1.]])
    """
    if type(a) is not Tracer:
        result = np.linalg.eigh(a, UPLO=UPLO)
        if np.iscomplexobj(result.eigenvectors):
            return type(result)(result.eigenvalues, fix_phase(result.eigenvectors)[0])
        return result
    require_matrix("eigh", "a", a)
    n = shape_of(a)[-1]
    w, v = _eigh_parts(bind(_EIGH, (a,), Params(lower=_uplo("eigh", UPLO))), n)
    return _EighResult(real(w), v)


def _eigvalsh_impl(a: Any, lower: bool = True) -> Any:
    return np.linalg.eigvalsh(a, UPLO="L" if lower else "U")


def _eigvalsh_vjp(g: Any, ans: Any, a: Any, lower: bool = True) -> Any:
    v = eigh(a, "L" if lower else "U")[1]
    return read_hermitian_adjoint(conjugate(v) @ diag_embed(real(g)) @ mT(v), lower)


def _eigvalsh_jvp(t: Any, ans: Any, a: Any, lower: bool = True) -> Any:
    v = eigh(a, "L" if lower else "U")[1]
    return real(diag_part(mH(v) @ read_hermitian(t, lower) @ v))


_EIGVALSH = primitive(
    "linalg.eigvalsh",
    _eigvalsh_impl,
    (_eigvalsh_vjp,),
    (_eigvalsh_jvp,),
    domain=Domain(examples=_symmetric_examples),
    batch=leading,
    complex_domain=Domain(examples=_hermitian_examples),
)


@export(np.linalg.eigvalsh, primitive=_EIGVALSH)
def eigvalsh(a: Any, UPLO: UPLO = "L") -> Any:  # noqa: N803 - NumPy's name
    """Differentiable :func:`numpy.linalg.eigvalsh`.

    Real or complex Hermitian ``a``; the eigenvalues are real.

    Derivative: ``dw = diag(V^H dA V)`` (defined also at repeated eigenvalues' sum).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.sum(anp.linalg.eigvalsh(a)))(np.eye(2))
    array([[1., 0.],
           [0., 1.]])
    """
    if type(a) is not Tracer:
        return np.linalg.eigvalsh(a, UPLO=UPLO)
    require_matrix("eigvalsh", "a", a)
    return bind(_EIGVALSH, (a,), Params(lower=_uplo("eigvalsh", UPLO)))


# --- svd -------------------------------------------------------------------------------


def _svd_impl(a: Any) -> Any:
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    if np.iscomplexobj(u):
        u, vh = _svd_phase(u, vh)
    return pack_values([u, s, vh], a.shape[:-2])


def _svd_phase(u: np.ndarray, vh: np.ndarray) -> tuple:
    """``U`` and ``Vh`` with each pair ``(u_j, v_j)`` multiplied by the phase that makes
    ``u_j``'s largest-magnitude component real and positive (``U S Vh`` unchanged)."""
    u, phases = fix_phase(u)
    return u, vh * np.conj(np.swapaxes(phases, -1, -2))


def _svd_parts(packed: Any, a: Any) -> list:
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    return unpack(packed, [(m, k), (k,), (k, n)])


def _squared_gaps(s: Any) -> Any:
    """``F_ij = 1 / (s_j^2 - s_i^2)`` off the diagonal, 0 on it."""
    squares = s * s
    return off_diagonal_inverse(expand_dims(squares, -2) - expand_dims(squares, -1))


def _svd_vjp(g: Any, ans: Any, a: Any) -> Any:
    # The adjoint of _svd_jvp, for the inner product Re sum(g * t).
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    u, s, vh = _svd_parts(ans, a)
    gu, gs, gvh = _svd_parts(g, a)
    s = real(s)
    v = mH(vh)
    gv = mH(gvh)
    complex_ = dtype_of(u).kind == "c"
    if complex_:
        h = imag(_sum(gu * u, axis=-2)) + imag(_sum(gv * v, axis=-2))
        gu = gu + phase_correction_adjoint(h, u, largest_mask(u))
    gaps = _squared_gaps(s)
    inverse = safe_reciprocal(s)
    sigma = diag_embed(s)
    j_bar = gaps * (mT(u) @ gu)
    k_bar = gaps * (mT(v) @ gv)
    p_bar = j_bar @ sigma + mH(sigma @ j_bar) + sigma @ k_bar + mH(k_bar @ sigma)
    p_bar = p_bar + diag_embed(real(gs))
    if complex_:
        p_bar = p_bar + diag_embed(1j * imag(diag_part(mT(u) @ gu)) * inverse)
    result = None
    if m > k:
        x = gu * expand_dims(inverse, -2)
        result = x @ mT(v)
        p_bar = p_bar - mT(u) @ x
    if n > k:
        y = gv * expand_dims(inverse, -2)
        extra = conjugate(u) @ mH(y)
        result = extra if result is None else result + extra
        p_bar = p_bar - mH(mT(v) @ y)
    main = conjugate(u) @ p_bar @ mT(v)
    return main if result is None else main + result


def _svd_jvp(t: Any, ans: Any, a: Any) -> Any:
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    u, s, vh = _svd_parts(ans, a)
    s = real(s)
    v = mH(vh)
    rotated = mH(u) @ t @ v
    gaps = _squared_gaps(s)
    sigma = diag_embed(s)
    inverse = safe_reciprocal(s)
    du = u @ (gaps * (rotated @ sigma + sigma @ mH(rotated)))
    dv = v @ (gaps * (sigma @ rotated + mH(rotated) @ sigma))
    complex_ = dtype_of(u).kind == "c"
    if complex_:
        # diag(U^H dU) - diag(V^H dV) = i Im(diag(P)) / s: put it on U.
        du = du + u * expand_dims(1j * imag(diag_part(rotated)) * inverse, -2)
    if m > k:
        du = du + (t @ v - u @ rotated) * expand_dims(inverse, -2)
    if n > k:
        dv = dv + (mH(t) @ u - v @ mH(rotated)) * expand_dims(inverse, -2)
    if complex_:
        # Gauge: the largest component of each u_j stays real (_svd_phase).
        c = expand_dims(phase_correction(du, u, largest_mask(u)), -2)
        du = du - 1j * u * c
        dv = dv - 1j * v * c
    return pack([du, real(diag_part(rotated)), mH(dv)], shape_of(a)[:-2])


def _svd_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (draw_matrix(draw, st, hnp, m, n, draw_batch(draw, st)),), {}


def _complex_svd_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (draw_complex_matrix(draw, st, hnp, m, n, draw_batch(draw, st)),), {}


_SVD = primitive(
    "linalg.svd",
    _svd_impl,
    (_svd_vjp,),
    (_svd_jvp,),
    domain=Domain(examples=_svd_examples),
    batch=leading,
    complex_domain=Domain(examples=_complex_svd_examples),
)


@export(np.linalg.svd, primitive=_SVD)
def svd(
    a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """Differentiable :func:`numpy.linalg.svd`: ``(U, S, Vh)``, or ``S`` alone.

    The derivative of ``U`` and ``Vh`` needs distinct, nonzero singular values, and
    ``full_matrices=False`` for non-square matrices (the extra columns of a full ``U``
    or ``Vh`` are not unique, hence not differentiable).  ``hermitian=True`` follows
    NumPy: it is computed from ``eigh``, which reads only the lower triangle.  For
    complex ``a`` each pair ``(u_j, v_j)`` is multiplied by the phase that makes the
    largest-magnitude component of ``u_j`` real and positive (docs/conventions.md,
    "Phases of complex vectors"); functions of ``U`` and ``Vh`` that do not depend on
    these phases (``U diag(f(s)) Vh``, ``|U|**2``) have the same derivative in any gauge.

    Derivative (Townsend, 2016): with ``F_ij = 1 / (s_j^2 - s_i^2)`` and
    ``P = U^H dA V``, ``dS = Re diag(P)``,
    ``dU = U (F o (P S + S P^H) + i diag(Im diag(P) / s)) + (I - U U^H) dA V S^{-1}``
    and ``dV = V (F o (S P + P^H S)) + (I - V V^H) dA^H U S^{-1}``, then the phase
    gauge ``dU += i U diag(c)``, ``dV += i V diag(c)`` (``c`` real; 0 for real ``a``).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.linalg.svd(a, compute_uv=False)[0])(np.diag([3.0, 1.0]))
    array([[1., 0.],
           [0., 0.]])
    """
    if type(a) is not Tracer:
        # NumPy's stubs overload on the literal value of compute_uv.
        result = np.linalg.svd(  # type: ignore[call-overload]
            a, full_matrices=full_matrices, compute_uv=compute_uv, hermitian=hermitian
        )
        if not compute_uv or not np.iscomplexobj(result[0]):
            return result
        if hermitian:
            return result
        return _phased_full_svd(*result)
    require_matrix("svd", "a", a, square=not not hermitian)
    if hermitian:
        return _hermitian_svd(a, compute_uv)
    if not compute_uv:
        return bind(_SVDVALS, (a,), EMPTY_PARAMS)
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            f"adfun.numpy.linalg.svd: the full U and Vh of a non-square {m}x{n} matrix are "
            f"not unique, so they have no derivative; pass full_matrices=False"
        )
    return _SVDResult(*_svd_parts(bind(_SVD, (a,), EMPTY_PARAMS), a))


def _phased_full_svd(u: np.ndarray, s: np.ndarray, vh: np.ndarray) -> Any:
    """NumPy's complex SVD in adfun's phase gauge (the first ``k`` pairs; the extra
    columns of a full ``U`` or ``Vh`` are left as LAPACK returns them)."""
    k = s.shape[-1]
    u, vh = u.copy(), vh.copy()
    u[..., :k], vh[..., :k, :] = _svd_phase(u[..., :k], vh[..., :k, :])
    return _SVDResult(u, s, vh)


def _descending_magnitude_impl(w: Any) -> Any:
    """One-hot matrices ``P`` with ``(w @ P)`` sorted by decreasing ``|w|`` (stable)."""
    order = np.argsort(-np.abs(w), axis=-1, kind="stable")
    n = w.shape[-1]
    return (np.arange(n)[:, None] == order[..., None, :]).astype(w.dtype)


_DESCENDING = primitive(
    "linalg.descending_magnitude", _descending_magnitude_impl, (), (), nondiff=True, batch=leading
)


def _hermitian_svd(a: Any, compute_uv: bool) -> Any:
    """NumPy's ``hermitian=True`` SVD, from ``eigh`` (which reads the lower triangle):
    singular values ``|w|`` in decreasing order, ``U = V P``, ``Vh = (U sign(w P))^H``."""
    w, v = eigh(a)
    permutation = bind(_DESCENDING, (w,), EMPTY_PARAMS)
    ordered = squeeze(expand_dims(w, -2) @ permutation, -2)
    values = absolute(ordered)
    if not compute_uv:
        return values
    u = v @ permutation
    return _SVDResult(u, values, mH(u * expand_dims(sign(ordered), -2)))


def _svdvals_impl(a: Any) -> Any:
    return np.linalg.svd(a, compute_uv=False)


def _svdvals_vjp(g: Any, ans: Any, a: Any) -> Any:
    u, _, vh = svd(a, full_matrices=False)
    return conjugate((u * expand_dims(real(g), -2)) @ vh)


def _svdvals_jvp(t: Any, ans: Any, a: Any) -> Any:
    u, _, vh = svd(a, full_matrices=False)
    return real(_sum(conjugate(u) * (t @ mH(vh)), axis=-2))


_SVDVALS = primitive(
    "linalg.svdvals",
    _svdvals_impl,
    (_svdvals_vjp,),
    (_svdvals_jvp,),
    domain=Domain(examples=_svd_examples),
    batch=leading,
    complex_domain=Domain(examples=_complex_svd_examples),
)


@export(getattr(np.linalg, "svdvals", None), primitive=_SVDVALS)
def svdvals(x: Any, /) -> Any:
    """Differentiable :func:`numpy.linalg.svdvals` (singular values, descending).

    Real or complex ``x``; the singular values are real.

    Derivative: ``ds = Re diag(U^H dA V)``, so the gradient of ``s_i`` is
    ``conj(u_i v_i^H)`` (``u_i v_i^T`` for real ``x``).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.linalg.svdvals(a)[1])(np.diag([3.0, -1.0]))
    array([[ 0.,  0.],
           [ 0., -1.]])
    """
    if type(x) is not Tracer:
        return np.linalg.svd(x, compute_uv=False)
    require_matrix("svdvals", "x", x, square=False)
    return bind(_SVDVALS, (x,), EMPTY_PARAMS)


# --- qr --------------------------------------------------------------------------------


def _qr_impl(a: Any) -> Any:
    q, r = np.linalg.qr(a)
    return pack_values([q, r], a.shape[:-2])


def _qr_parts(packed: Any, a: Any) -> list:
    m, n = shape_of(a)[-2:]
    return unpack(packed, [(m, n), (n, n)])


def _skew_part(x: Any) -> Any:
    """``Q^H dQ`` from ``X = Q^H dA R^{-1}``: the strictly lower triangle of ``X``, minus
    its conjugate transpose above, and ``i Im(diag X)`` on the diagonal (``dR R^{-1}``
    is upper triangular with a real diagonal, as ``R``'s diagonal is real)."""
    lower = x * mask(x, -1)
    skew = lower - mH(lower)
    if dtype_of(x).kind == "c":
        skew = skew + 1j * imag(x) * eye_like(x)
    return skew


def _skew_part_adjoint(w: Any) -> Any:
    """Adjoint of :func:`_skew_part` (for the inner product ``Re sum(w * x)``)."""
    adjoint = w * mask(w, -1) - mH(w) * mask(w, -1)
    if dtype_of(w).kind == "c":
        adjoint = adjoint + 1j * imag(w) * eye_like(w)
    return adjoint


def _qr_vjp(g: Any, ans: Any, a: Any) -> Any:
    # The adjoint of _qr_jvp, for the inner product Re sum(g * t).
    q, r = _qr_parts(ans, a)
    gq, gr = _qr_parts(g, a)
    w = mT(q) @ gq - gr @ mT(r)
    x_bar = _skew_part_adjoint(w) - w
    b_bar = gq + conjugate(q) @ x_bar
    return mT(solve(r, mT(b_bar)))


def _qr_jvp(t: Any, ans: Any, a: Any) -> Any:
    q, r = _qr_parts(ans, a)
    t_rinv = mT(solve(mT(r), mT(t)))
    rotated = mH(q) @ t_rinv
    skew = _skew_part(rotated)
    return pack([q @ (skew - rotated) + t_rinv, (rotated - skew) @ r], shape_of(a)[:-2])


def _tall_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    m = draw(st.integers(n, 3))
    return (draw_matrix(draw, st, hnp, m, n, draw_batch(draw, st)),), {}


def _complex_tall_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    m = draw(st.integers(n, 3))
    # A generic phase: LAPACK's last Householder reflection is skipped exactly when the
    # last pivot is real (R's sign jumps there), which would break finite differences.
    a = draw_complex_matrix(draw, st, hnp, m, n, draw_batch(draw, st)) * np.exp(0.3j)
    return (a,), {}


_QR = primitive(
    "linalg.qr",
    _qr_impl,
    (_qr_vjp,),
    (_qr_jvp,),
    domain=Domain(examples=_tall_examples),
    batch=leading,
    complex_domain=Domain(examples=_complex_tall_examples),
)


@export(np.linalg.qr, primitive=_QR)
def qr(a: Any, mode: QRMode = "reduced") -> Any:
    """Differentiable :func:`numpy.linalg.qr` (``mode`` ``'reduced'``, ``'complete'``, ``'r'``).

    For ``m >= n`` the factors of a full-rank matrix are differentiated directly; for
    ``m < n``, ``Q, R1 = qr(a[..., :m])`` and ``R = [R1, Q^T a[..., m:]]`` (the same
    factorization).  ``mode='complete'`` with ``m > n`` is not unique, hence refused on
    traced values, as is ``mode='raw'``.  Complex matrices too: LAPACK makes the
    diagonal of ``R`` real, which fixes the phases of ``Q``'s columns (where a pivot is
    exactly real, as in a real matrix cast to complex, LAPACK skips a reflection and the
    sign of ``R``'s diagonal entry jumps under imaginary changes; the derivative is the
    one that keeps that sign).

    Derivative: with ``X = Q^H dA R^{-1}`` and ``Omega`` its strictly lower triangle
    minus that triangle's conjugate transpose, plus ``i Im(diag X)``:
    ``dQ = Q (Omega - X) + dA R^{-1}``, ``dR = (X - Omega) R``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.linalg.qr(a)[1][0, 0])(np.array([[3.0], [4.0]]))  # R = -5
    array([[-0.6],
           [-0.8]])
    """
    if type(a) is not Tracer:
        return np.linalg.qr(a, mode=mode)
    require_matrix("qr", "a", a, square=False)
    m, n = shape_of(a)[-2:]
    if mode not in ("reduced", "complete", "r") or (mode == "complete" and m > n):
        raise NotImplementedError(
            f"adfun.numpy.linalg.qr: mode={mode!r} has no derivative for a {m}x{n} matrix; "
            f"use mode='reduced' (or 'r')"
        )
    if m >= n:
        q, r = _qr_parts(bind(_QR, (a,), EMPTY_PARAMS), a)
    else:
        q, left = _qr_parts(
            bind(_QR, (getitem(a, (Ellipsis, slice(0, m))),), EMPTY_PARAMS),
            getitem(a, (Ellipsis, slice(0, m))),
        )
        r = concatenate([left, mH(q) @ getitem(a, (Ellipsis, slice(m, None)))], axis=-1)
    return r if mode == "r" else _QRResult(q, r)
