"""The rest of :mod:`numpy.linalg`: products and views (exact composites) and the
constant ``matrix_rank``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import Params
from adfun._engine.trace import Tracer, any_traced, bind
from adfun.numpy._axes import ndim_of, shape_of
from adfun.numpy._batching import leading
from adfun.numpy._complex import conjugate
from adfun.numpy._declare import export, primitive
from adfun.numpy._indexing import getitem
from adfun.numpy._linear import dot
from adfun.numpy._linear import matmul as _matmul
from adfun.numpy._linear import tensordot as _tensordot
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._shape import moveaxis, reshape, stack
from adfun.numpy.linalg._helpers import mT


@export(getattr(np.linalg, "matrix_transpose", None), registered=False)
def matrix_transpose(x: Any, /) -> Any:
    """Differentiable :func:`numpy.linalg.matrix_transpose` (swap the last two axes)."""
    if type(x) is not Tracer:
        return np.swapaxes(x, -1, -2)
    return mT(x)


@export(getattr(np.linalg, "matmul", None), registered=False)
def matmul(x1: Any, x2: Any, /) -> Any:
    """Differentiable :func:`numpy.linalg.matmul` (the same as ``adfun.numpy.matmul``)."""
    return _matmul(x1, x2)


@export(getattr(np.linalg, "tensordot", None), registered=False)
def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
    """Differentiable :func:`numpy.linalg.tensordot` (``adfun.numpy.tensordot``)."""
    return _tensordot(x1, x2, axes)


@export(getattr(np.linalg, "outer", None), registered=False)
def outer(x1: Any, x2: Any, /) -> Any:
    """Differentiable :func:`numpy.linalg.outer` of two vectors."""
    if not any_traced((x1, x2)):
        return np.linalg.outer(x1, x2)
    if ndim_of(x1) != 1 or ndim_of(x2) != 1:
        raise ValueError(
            f"adfun.numpy.linalg.outer: both arguments must be 1-D, got shapes "
            f"{shape_of(x1)} and {shape_of(x2)}"
        )
    return reshape(x1, (-1, 1)) * reshape(x2, (1, -1))


@export(getattr(np.linalg, "vecdot", None), registered=False)
def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Differentiable :func:`numpy.linalg.vecdot`: ``sum(conj(x1) * x2, axis)``."""
    if not any_traced((x1, x2)):
        # NumPy's stubs type vecdot as a generic gufunc, whose call takes no axis=.
        return np.linalg.vecdot(x1, x2, axis=axis)  # type: ignore[call-overload]
    return _sum(conjugate(x1) * x2, axis=axis)


def _diagonal_key(shape: tuple, offset: int) -> tuple:
    rows_count, cols_count = shape[-2:]
    if offset >= 0:
        length = max(0, min(rows_count, cols_count - offset))
        rows = np.arange(length)
        return (Ellipsis, rows, rows + offset)
    length = max(0, min(rows_count + offset, cols_count))
    cols = np.arange(length)
    return (Ellipsis, cols - offset, cols)


@export(getattr(np.linalg, "diagonal", None), registered=False)
def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """Differentiable :func:`numpy.linalg.diagonal` (of the last two axes)."""
    if type(x) is not Tracer:
        return np.linalg.diagonal(x, offset=offset)
    return getitem(x, _diagonal_key(shape_of(x), int(offset)))


@export(getattr(np.linalg, "trace", None), registered=False)
def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """Differentiable :func:`numpy.linalg.trace` (of the last two axes)."""
    if type(x) is not Tracer:
        return np.linalg.trace(x, offset=offset, dtype=dtype)
    if dtype is not None:
        raise TypeError(
            "adfun.numpy.linalg.trace: dtype= is not supported on traced values; "
            "cast the argument with astype first"
        )
    return _sum(diagonal(x, offset=offset), axis=-1)


@export(getattr(np.linalg, "cross", None), registered=False)
def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Differentiable :func:`numpy.linalg.cross` of 3-element vectors."""
    if not any_traced((x1, x2)):
        return np.linalg.cross(x1, x2, axis=axis)
    if shape_of(x1)[axis] != 3 or shape_of(x2)[axis] != 3:
        raise ValueError(
            "adfun.numpy.linalg.cross: both arguments must have 3 entries "
            f"along axis {axis}, got shapes {shape_of(x1)} and {shape_of(x2)}"
        )
    a = [getitem(moveaxis(x1, axis, -1), (Ellipsis, index)) for index in range(3)]
    b = [getitem(moveaxis(x2, axis, -1), (Ellipsis, index)) for index in range(3)]
    parts = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    return moveaxis(stack(parts, axis=-1), -1, axis)


@export(np.linalg.multi_dot, registered=False)
def multi_dot(arrays: Any, *, out: Any = None) -> Any:
    """Differentiable :func:`numpy.linalg.multi_dot`: a chain of ``dot`` products.

    On traced values the products are taken left to right (same value up to rounding;
    NumPy may choose another parenthesization for speed).
    """
    if not any_traced(arrays):
        return np.linalg.multi_dot(arrays, out=out)
    if out is not None:
        raise TypeError("adfun.numpy.linalg.multi_dot: out= is not supported on traced values")
    if len(arrays) < 2:
        raise ValueError("adfun.numpy.linalg.multi_dot: expecting at least two arrays")
    result = arrays[0]
    for array in arrays[1:]:
        result = dot(result, array)
    return result


def _matrix_rank_impl(a: Any, **options: Any) -> Any:
    return np.linalg.matrix_rank(a, **options)


_MATRIX_RANK = primitive(
    "linalg.matrix_rank", _matrix_rank_impl, (), (), nondiff=True, batch=leading
)


@export(np.linalg.matrix_rank, primitive=_MATRIX_RANK)
def matrix_rank(
    A: Any,
    tol: Any = None,
    hermitian: bool = False,
    *,  # noqa: N803
    rtol: Any = None,
) -> Any:
    """:func:`numpy.linalg.matrix_rank` on plain or traced values: a constant
    (an integer) for differentiation."""
    if type(A) is not Tracer:
        return np.linalg.matrix_rank(A, tol=tol, hermitian=hermitian, rtol=rtol)
    return bind(_MATRIX_RANK, (A,), Params(tol=tol, hermitian=hermitian, rtol=rtol))
