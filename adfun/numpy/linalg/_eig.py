"""The general eigenproblem: ``eig`` and ``eigvals`` of real or complex square matrices.

Eigenvalues of a real matrix may be complex (then NumPy returns complex arrays); the
rules follow the complex convention of :mod:`adfun.numpy._complex` and return a real
cotangent for a real input, a complex one for a complex input.  Eigenvectors are
differentiated in LAPACK's gauge: each has unit Euclidean norm and its largest component
real (and positive).  Derivatives need distinct eigenvalues.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS
from adfun._engine.trace import Tracer, bind, read_value
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._batching import leading
from adfun.numpy._complex import conjugate, imag, real
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._elementwise import absolute
from adfun.numpy._nondiff import argmax, equal, stop_gradient
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._selection import where
from adfun.numpy._shape import expand_dims
from adfun.numpy.linalg._helpers import (
    diag_embed,
    diag_part,
    draw_batch,
    mT,
    off_diagonal_inverse,
    pack,
    pack_values,
    require_matrix,
    unpack,
)
from adfun.numpy.linalg._inverse import inv

_EigResult = type(np.linalg.eig(np.eye(1)))


def _eig_impl(a: Any) -> Any:
    w, v = np.linalg.eig(a)
    return pack_values([w, _positive_largest(v)], a.shape[:-2])


def _positive_largest(v: np.ndarray) -> np.ndarray:
    """``v`` with each eigenvector's largest component (LAPACK makes it real) positive.

    LAPACK leaves that component's sign to chance, and it flips under the smallest change
    of the matrix: the eigenvectors would not be a function of it to differentiate.
    """
    rows = np.argmax(np.abs(v), axis=-2)[..., None, :]
    largest = np.take_along_axis(v, rows, axis=-2).real
    return v * np.where(largest < 0, -1.0, 1.0).astype(v.real.dtype)


def _parts(packed: Any, n: int) -> list:
    return unpack(packed, [(n,), (n, n)])


def _gaps(w: Any) -> Any:
    return off_diagonal_inverse(expand_dims(w, -2) - expand_dims(w, -1))


def _largest(v: Any) -> Any:
    """One-hot masks of each eigenvector's largest component (LAPACK makes it real),
    constants for differentiation, computed as graph nodes (right under ``jit``)."""
    magnitudes = stop_gradient(absolute(v))
    rows = expand_dims(argmax(magnitudes, axis=-2), -2)
    n = shape_of(v)[-2]
    one = np.ones((), dtype_of(magnitudes))
    return where(equal(np.arange(n)[:, None], rows), one, 0.0 * one)


def _refuse_staging(a: Any, name: str) -> None:
    """Under ``jit`` / ``trace``, refuse real ``a``: whether the results are real or
    complex depends on the values (complex eigenvalues appear or not), so a staged
    program, whose dtypes are fixed when it is traced, would give the wrong kind of
    result at other values.  The results of a complex ``a`` are always complex."""
    if dtype_of(a).kind == "c":
        return
    read_value(
        a,
        f"adfun.numpy.linalg.{name}",
        f"Its results are real or complex depending on the values of a (whether "
        f"complex eigenvalues appear), and a staged program's dtypes are fixed. "
        f"For a symmetric matrix use adfun.numpy.linalg.eigh or eigvalsh, which "
        f"stage; otherwise call {name} outside the staged function.",
    )


def _eig_jvp(t: Any, ans: Any, a: Any) -> Any:
    _refuse_staging(a, "eig")
    n = shape_of(a)[-1]
    w, v = _parts(ans, n)
    rotated = inv(v) @ t @ v
    y = v @ (_gaps(w) * rotated)
    # Gauge: Re(v_j^H dv_j) = 0 (unit norm) and Im(dv_kj) = 0 (largest component real).
    gauge = -real(_sum(conjugate(v) * y, axis=-2))
    if dtype_of(v).kind == "c":
        largest = _largest(v)
        gauge = gauge - 1j * (imag(_sum(y * largest, axis=-2)) / real(_sum(v * largest, axis=-2)))
    return pack([diag_part(rotated), y + v * expand_dims(gauge, -2)], shape_of(a)[:-2])


def _eig_vjp(g: Any, ans: Any, a: Any) -> Any:
    _refuse_staging(a, "eig")
    n = shape_of(a)[-1]
    w, v = _parts(ans, n)
    gw, gv = _parts(g, n)
    gauge_bar = _sum(gv * v, axis=-2)
    y_bar = gv
    if dtype_of(v).kind == "c":
        largest = _largest(v)
        imag_bar = -imag(gauge_bar)
        y_bar = y_bar + largest * expand_dims(1j * imag_bar / real(_sum(v * largest, axis=-2)), -2)
        gauge_bar = real(gauge_bar)
    y_bar = y_bar - expand_dims(gauge_bar, -2) * conjugate(v)
    rotated_bar = _gaps(w) * (mT(v) @ y_bar) + diag_embed(gw)
    a_bar = mT(inv(v)) @ rotated_bar @ mT(v)
    return a_bar if dtype_of(a).kind == "c" else real(a_bar)


def _nonsymmetric_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """``S B S^{-1}`` with ``B`` block diagonal: well-separated real eigenvalues and
    complex pairs ``a +- ib``, and a well-conditioned, generic ``S``."""
    from adfun.numpy._examples import array

    n = draw(st.integers(1, 3))
    batch = draw_batch(draw, st)
    matrices = []
    for _ in range(int(np.prod(batch, dtype=np.int64))):
        slots = draw(st.lists(st.integers(0, 9), min_size=n, max_size=n, unique=True))
        values = -2.0 + 0.4 * np.asarray(slots, dtype=float) + 0.0137
        block = np.diag(values)
        if n >= 2 and draw(st.booleans()):
            spread = 0.5 + 0.1 * draw(st.integers(0, 10))
            block[:2, :2] = [[values[0], spread], [-spread, values[0]]]
        generic = np.random.default_rng(n).standard_normal((n, n))
        basis = array(draw, st, hnp, (-0.5, 0.5), shape=(n, n)) + generic + 3.0 * np.eye(n)
        matrices.append(basis @ block @ np.linalg.inv(basis))
    return (np.asarray(matrices).reshape(batch + (n, n)),), {}


def _complex_nonsymmetric_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """``S D S^{-1}`` with well-separated complex eigenvalues on ``D``'s diagonal and a
    well-conditioned, generic complex ``S``."""
    from adfun.numpy._examples import array

    n = draw(st.integers(1, 3))
    batch = draw_batch(draw, st)
    matrices = []
    for _ in range(int(np.prod(batch, dtype=np.int64))):
        slots = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n, unique=True))
        values = np.asarray([(-1.5 + 0.8 * (k % 4)) + 1j * (-1.5 + 0.8 * (k // 4)) for k in slots])
        generic = np.random.default_rng(n).standard_normal((2, n, n))
        entries = array(draw, st, hnp, (-0.5, 0.5), shape=(2, n, n)) + generic
        basis = entries[0] + 1j * entries[1] + 3.0 * np.eye(n)
        matrices.append((basis * (values + 0.0137 + 0.0071j)) @ np.linalg.inv(basis))
    return (np.asarray(matrices, dtype=np.complex128).reshape(batch + (n, n)),), {}


_EIG = primitive(
    "linalg.eig",
    _eig_impl,
    (_eig_vjp,),
    (_eig_jvp,),
    domain=Domain(examples=_nonsymmetric_examples),
    batch=leading,
    complex_domain=Domain(examples=_complex_nonsymmetric_examples),
)


@export(np.linalg.eig, primitive=_EIG)
def eig(a: Any) -> Any:
    """Differentiable :func:`numpy.linalg.eig` of real or complex square matrices (stacks
    too).

    Returns ``(eigenvalues, eigenvectors)``, complex when some eigenvalues are.  The
    eigenvectors are normalized as LAPACK does (unit norm, largest component real), with
    that component made positive (LAPACK leaves its sign to chance, so NumPy's
    eigenvectors may differ from these by a sign, and would not be a differentiable
    function of ``a``).  The eigenvector derivative needs distinct eigenvalues.  Under
    ``jit`` / ``trace`` it raises :class:`~adfun.StagingError` for a real ``a``: whether
    the results are complex depends on the values (a complex ``a`` stages).

    Derivative: with ``P = V^{-1} dA V``, ``dw = diag(P)`` and
    ``dV = V (F o P) + V diag(c)``, ``F_ij = 1 / (w_j - w_i)``, ``c`` fixing the gauge.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> a = np.array([[2.0, 1.0], [0.0, 3.0]])
    >>> ad.grad(lambda a: anp.real(anp.linalg.eig(a)[0][1]))(a)
    array([[0., 0.],
           [1., 1.]])
    """
    if type(a) is not Tracer:
        result = np.linalg.eig(a)
        return type(result)(result.eigenvalues, _positive_largest(result.eigenvectors))
    require_matrix("eig", "a", a)
    _refuse_staging(a, "eig")
    w, v = _parts(bind(_EIG, (a,), EMPTY_PARAMS), shape_of(a)[-1])
    return _EigResult(w, v)


def _eigvals_vjp(g: Any, ans: Any, a: Any) -> Any:
    _refuse_staging(a, "eigvals")
    v = eig(a)[1]
    a_bar = mT(inv(v)) @ diag_embed(g) @ mT(v)
    return a_bar if dtype_of(a).kind == "c" else real(a_bar)


def _eigvals_jvp(t: Any, ans: Any, a: Any) -> Any:
    _refuse_staging(a, "eigvals")
    v = eig(a)[1]
    return diag_part(inv(v) @ t @ v)


_EIGVALS = primitive(
    "linalg.eigvals",
    np.linalg.eigvals,
    (_eigvals_vjp,),
    (_eigvals_jvp,),
    domain=Domain(examples=_nonsymmetric_examples),
    batch=leading,
    complex_domain=Domain(examples=_complex_nonsymmetric_examples),
)


@export(np.linalg.eigvals, primitive=_EIGVALS)
def eigvals(a: Any) -> Any:
    """Differentiable :func:`numpy.linalg.eigvals` of real or complex square matrices.

    Derivative: ``dw = diag(V^{-1} dA V)``; the gradient of ``Re w_i`` is
    ``Re(V^{-T} e_i e_i^T V^T)`` (without ``Re`` for complex ``a``).  Under ``jit`` /
    ``trace`` it raises :class:`~adfun.StagingError` for a real ``a`` (the results'
    dtype depends on the values).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.sum(anp.real(anp.linalg.eigvals(a))))(np.eye(2))
    array([[1., 0.],
           [0., 1.]])
    """
    if type(a) is not Tracer:
        return np.linalg.eigvals(a)
    require_matrix("eigvals", "a", a)
    _refuse_staging(a, "eigvals")
    return bind(_EIGVALS, (a,), EMPTY_PARAMS)
