"""Shared pieces of ``adfun.numpy.linalg``: argument checks, matrix helpers, test matrices.

The primitives are declared with the kit (:mod:`adfun.numpy._declare`: ``primitive``,
``export``) under names ``linalg.<name>``.  Their rules are written with ``adfun.numpy``
functions only, so they are differentiable again.  Constant matrices (identities,
triangular masks) take the dtype of the value they multiply, so float32 stays float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._complex import conjugate, imag, real
from adfun.numpy._elementwise import absolute
from adfun.numpy._indexing import getitem
from adfun.numpy._nondiff import argmax, equal, stop_gradient
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._selection import where
from adfun.numpy._shape import concatenate, expand_dims, reshape, swapaxes


def require_matrix(function: str, argument: str, value: Any, square: bool = True) -> None:
    shape = shape_of(value)
    if len(shape) < 2:
        raise np.linalg.LinAlgError(
            f"adfun.numpy.linalg.{function}: argument '{argument}' has {len(shape)} "
            f"dimension(s); at least two are required (a matrix or a stack of matrices)"
        )
    if square and shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError(
            f"adfun.numpy.linalg.{function}: argument '{argument}' has shape {shape}; the "
            f"last two dimensions must be square"
        )


# --- matrix helpers (differentiable) ------------------------------------------------------


def mT(x: Any) -> Any:
    """Transpose of the last two axes."""
    return swapaxes(x, -1, -2)


def mH(x: Any) -> Any:
    """Conjugate transpose of the last two axes (the transpose for real ``x``)."""
    return conjugate(swapaxes(x, -1, -2))


def eye_like(x: Any, n: int | None = None) -> np.ndarray:
    """The constant identity matrix matching ``x``'s last axis and real dtype."""
    size = shape_of(x)[-1] if n is None else n
    dtype = dtype_of(x)
    return np.eye(size, dtype=dtype if dtype.kind == "f" else np.float64)


def mask(x: Any, k: int, lower: bool = True) -> np.ndarray:
    """Constant 0/1 mask of the triangle on and below (or above) diagonal ``k``."""
    n = shape_of(x)[-1]
    dtype = dtype_of(x)
    ones = np.ones((n, n), dtype=dtype if dtype.kind == "f" else np.float64)
    return np.tril(ones, k) if lower else np.triu(ones, -k)


def diag_embed(v: Any) -> Any:
    """``(..., n)`` -> ``(..., n, n)`` diagonal matrices."""
    return expand_dims(v, -1) * eye_like(v)


def diag_part(m: Any) -> Any:
    """The diagonal ``(..., n)`` of square matrices ``(..., n, n)``."""
    return _sum(m * eye_like(m), axis=-1)


def read_symmetric(t: Any, lower: bool) -> Any:
    """The symmetric matrix LAPACK sees when it reads only one triangle of ``t``."""
    triangle = t * mask(t, 0, lower)
    return triangle + mT(t * mask(t, -1, lower))


def read_symmetric_adjoint(g: Any, lower: bool) -> Any:
    """Adjoint of :func:`read_symmetric`: the gradient lives on the triangle read."""
    return (g + mT(g)) * mask(g, -1, lower) + g * eye_like(g)


def read_hermitian(t: Any, lower: bool) -> Any:
    """The Hermitian matrix LAPACK sees when it reads one triangle of ``t`` (and the real
    part of its diagonal); :func:`read_symmetric` for real ``t``."""
    if dtype_of(t).kind != "c":
        return read_symmetric(t, lower)
    strict = t * mask(t, -1, lower)
    return strict + mH(strict) + real(t) * eye_like(t)


def read_hermitian_adjoint(g: Any, lower: bool) -> Any:
    """Adjoint of :func:`read_hermitian` (for the inner product ``Re sum(g * t)``)."""
    if dtype_of(g).kind != "c":
        return read_symmetric_adjoint(g, lower)
    return (g + mH(g)) * mask(g, -1, lower) + real(g) * eye_like(g)


# --- the phase gauge of complex eigen/singular vectors ------------------------------------


def fix_phase(v: np.ndarray) -> tuple:
    """``(v', phases)``: complex ``v`` with each column multiplied by the unit ``phases``
    that make its largest-magnitude component real and positive (plain arrays).

    Complex eigenvectors (of ``eigh``) and singular vectors (of ``svd``) are unique only
    up to such a phase; fixing it this way makes them a function of the matrix, which
    can be differentiated (see docs/conventions.md, "Phases of complex vectors").
    """
    rows = np.argmax(np.abs(v), axis=-2)[..., None, :]
    largest = np.take_along_axis(v, rows, axis=-2)
    magnitude = np.abs(largest)
    unit = largest / np.where(magnitude == 0, 1.0, magnitude)
    phases = np.conj(np.where(magnitude == 0, 1.0, unit))
    return v * phases, phases


def largest_mask(v: Any) -> Any:
    """One-hot masks of each column's largest-magnitude component, constants for
    differentiation, computed as graph nodes (right under ``jit``)."""
    magnitudes = stop_gradient(absolute(v))
    rows = expand_dims(argmax(magnitudes, axis=-2), -2)
    n = shape_of(v)[-2]
    one = np.ones((), dtype_of(magnitudes))
    return where(equal(np.arange(n)[:, None], rows), one, 0.0 * one)


def phase_correction(y: Any, v: Any, largest: Any) -> Any:
    """The real angles ``c`` (one per column) for which ``y - 1j * v * c`` keeps the
    largest component of each column of ``v + eps y`` real, to first order."""
    return imag(_sum(y * largest, axis=-2)) / real(_sum(v * largest, axis=-2))


def phase_correction_adjoint(h: Any, v: Any, largest: Any) -> Any:
    """Adjoint of ``y -> -1j * v * phase_correction(y, v, largest)``, given
    ``h = imag(sum(g * v, axis=-2))`` from the cotangent ``g``."""
    return largest * expand_dims(-1j * h / real(_sum(v * largest, axis=-2)), -2)


def off_diagonal_inverse(differences: Any) -> Any:
    """``1 / d`` where ``d != 0``, and 0 where ``d == 0``: on the diagonal and at exactly
    repeated eigen/singular values, for matrices ``d`` of pairwise gaps.

    Dropping the terms of exactly equal values is the documented convention (see
    docs/conventions.md, "Repeated eigenvalues and singular values"): it gives the right
    derivative of every function of the vectors that depends on a repeated value's
    vectors only through the space they span, and 0 rather than ``0 * inf = NaN`` where
    the vectors' cotangent is zero.  Written with ``where`` (a safe denominator, then a
    mask), so that it is recorded under ``jit`` and its own derivatives stay finite.
    """
    zero = equal(differences, 0)
    return where(zero, 0.0, 1.0 / where(zero, 1.0, differences))


def safe_reciprocal(s: Any) -> Any:
    """``1 / s`` where ``s != 0`` and 0 where ``s == 0`` (as graph nodes)."""
    zero = equal(s, 0)
    return where(zero, 0.0, 1.0 / where(zero, 1.0, s))


def pack(parts: list, batch: tuple) -> Any:
    """Concatenate several arrays (each raveled past ``batch``) along one last axis."""
    return concatenate([reshape(part, batch + (-1,)) for part in parts], axis=-1)


def unpack(packed: Any, shapes: list) -> list:
    """Inverse of :func:`pack`: the parts, with their trailing ``shapes``."""
    batch = shape_of(packed)[:-1]
    parts = []
    start = 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        part = getitem(packed, (Ellipsis, slice(start, start + size)))
        parts.append(reshape(part, batch + tuple(shape)))
        start += size
    return parts


def pack_values(parts: list, batch: tuple) -> np.ndarray:
    """:func:`pack` for plain arrays (used by the implementations)."""
    return np.concatenate([part.reshape(batch + (-1,)) for part in parts], axis=-1)


# --- Hypothesis helpers for the test domains -----------------------------------------------


def draw_batch(draw: Any, st: Any) -> tuple:
    return draw(st.sampled_from([(), (), (2,)]))


def square_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """A well-conditioned square matrix (or a stack of two), the only argument."""
    n = draw(st.integers(1, 3))
    return (draw_matrix(draw, st, hnp, n, n, draw_batch(draw, st)),), {}


def complex_square_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """A well-conditioned complex square matrix (or a stack of two)."""
    n = draw(st.integers(1, 3))
    return (draw_complex_matrix(draw, st, hnp, n, n, draw_batch(draw, st)),), {}


def draw_complex_matrix(
    draw: Any, st: Any, hnp: Any, m: int, n: int, batch: tuple = ()
) -> np.ndarray:
    """A well-conditioned complex ``(batch..., m, n)`` matrix: ``U S V^H`` with unitary
    ``U``, ``V`` (a real orthogonal factor times a diagonal of phases) and distinct
    singular values in ``[0.5, 3]``."""
    from adfun.numpy._examples import array

    k = min(m, n)
    matrices = []
    for _ in range(int(np.prod(batch, dtype=np.int64))):
        phases = np.exp(1j * array(draw, st, hnp, (-3.0, 3.0), shape=(m + n,)))
        u = draw_orthogonal(draw, st, hnp, m, k) * phases[:m, None]
        v = draw_orthogonal(draw, st, hnp, n, k) * phases[m:, None]
        rotation = draw_orthogonal(draw, st, hnp, k, k) * np.exp(1j * 0.7)
        s = draw_spectrum(draw, st, k, 0.5, 3.0)
        matrices.append(((u @ rotation) * s) @ np.conj(v @ rotation).T)
    return np.asarray(matrices, dtype=np.complex128).reshape(batch + (m, n))


def draw_hermitian(
    draw: Any, st: Any, hnp: Any, n: int, batch: tuple = (), positive: bool = False
) -> np.ndarray:
    """Complex Hermitian ``(batch..., n, n)`` matrices with well-separated eigenvalues."""
    from adfun.numpy._examples import array

    matrices = []
    for _ in range(int(np.prod(batch, dtype=np.int64))):
        phases = np.exp(1j * array(draw, st, hnp, (-3.0, 3.0), shape=(2 * n,)))
        q = draw_orthogonal(draw, st, hnp, n, n) * phases[:n]
        q = (q * phases[n:, None]) @ draw_orthogonal(draw, st, hnp, n, n).T
        w = draw_spectrum(draw, st, n, 0.5 if positive else -3.0, 3.0) + 0.0137
        matrices.append((q * w) @ np.conj(q).T)
    hermitian = np.asarray(matrices, dtype=np.complex128).reshape(batch + (n, n))
    return (hermitian + np.conj(np.swapaxes(hermitian, -1, -2))) / 2.0


def draw_orthogonal(draw: Any, st: Any, hnp: Any, n: int, k: int) -> np.ndarray:
    """An ``n x k`` matrix with orthonormal columns (from a QR of random entries)."""
    from adfun.numpy._examples import array

    entries = array(draw, st, hnp, (-1.0, 1.0), shape=(n, max(n, k)))
    # A fixed generic offset keeps entries away from exact zeros, where LAPACK's choice
    # of signs (Householder reflections) jumps and finite differences would be wrong.
    generic = np.random.default_rng(n).standard_normal((n, max(n, k)))
    q, r = np.linalg.qr(entries + generic + 3.0 * np.eye(n, max(n, k)))
    return q[:, :k]


def draw_spectrum(
    draw: Any, st: Any, count: int, low: float, high: float, signed: bool = False
) -> np.ndarray:
    """``count`` values in ``[low, high]`` at least ``(high - low) / 12`` apart."""
    slots = draw(st.lists(st.integers(0, 11), min_size=count, max_size=count, unique=True))
    values = low + (np.asarray(slots, dtype=float) + 0.5) * (high - low) / 12.0
    if signed:
        signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=count, max_size=count))
        values = values * np.asarray(signs)
    return values


def draw_matrix(
    draw: Any,
    st: Any,
    hnp: Any,
    m: int,
    n: int,
    batch: tuple = (),
    low: float = 0.5,
    high: float = 3.0,
) -> np.ndarray:
    """A well-conditioned ``(batch..., m, n)`` matrix with distinct singular values."""
    k = min(m, n)
    matrices = []
    for _ in range(int(np.prod(batch, dtype=np.int64))):
        u = draw_orthogonal(draw, st, hnp, m, k)
        v = draw_orthogonal(draw, st, hnp, n, k)
        s = draw_spectrum(draw, st, k, low, high)
        matrices.append((u * s) @ v.T)
    return np.asarray(matrices).reshape(batch + (m, n))


def draw_symmetric(
    draw: Any, st: Any, hnp: Any, n: int, batch: tuple = (), positive: bool = False
) -> np.ndarray:
    """Symmetric ``(batch..., n, n)`` matrices with well-separated eigenvalues."""
    matrices = []
    for _ in range(int(np.prod(batch, dtype=np.int64))):
        q = draw_orthogonal(draw, st, hnp, n, n)
        # The generic shift avoids spectra like {-w, w}, on which LAPACK's choice of
        # eigenvector signs is not continuous (finite differences would jump).
        w = draw_spectrum(draw, st, n, 0.5 if positive else -3.0, 3.0) + 0.0137
        matrices.append((q * w) @ q.T)
    symmetric = np.asarray(matrices).reshape(batch + (n, n))
    return (symmetric + np.swapaxes(symmetric, -1, -2)) / 2.0
