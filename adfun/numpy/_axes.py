"""Shapes, dimensions, dtypes and axes of plain and traced values, for rules and wrappers."""

from __future__ import annotations

from typing import Any, overload

import numpy as np

from adfun._engine.trace import full_value


def shape_of(x: Any) -> tuple:
    """The shape of an array, a tracer, a NumPy scalar or a Python number."""
    shape = getattr(x, "shape", None)
    if shape is not None:
        return tuple(shape)
    return np.shape(full_value(x))


def ndim_of(x: Any) -> int:
    return len(shape_of(x))


def dtype_of(x: Any) -> np.dtype:
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return np.dtype(dtype)
    return np.result_type(full_value(x))


@overload
def normalize_axis(axis: None, ndim: int, function: str) -> None: ...
@overload
def normalize_axis(
    axis: int | np.integer | tuple | list, ndim: int, function: str
) -> tuple[int, ...]: ...
@overload
def normalize_axis(axis: Any, ndim: int, function: str) -> tuple[int, ...] | None: ...
def normalize_axis(axis: Any, ndim: int, function: str) -> tuple[int, ...] | None:
    """``None`` or a sorted tuple of non-negative axes; errors name the function."""
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    normalized = []
    for item in axes:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(
                f"adfun.numpy.{function}: axis must be an int or tuple of ints, got {axis!r}"
            )
        if not -ndim <= item < max(ndim, 1) or (ndim == 0 and item not in (0, -1)):
            raise np.exceptions.AxisError(
                f"adfun.numpy.{function}: axis {item} is out of bounds for an array of "
                f"dimension {ndim}"
            )
        normalized.append(int(item) % max(ndim, 1))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"adfun.numpy.{function}: repeated axis in {axis!r}")
    return tuple(sorted(normalized))


def kept_shape(shape: tuple, axes: tuple | None) -> tuple:
    """``shape`` with the reduced ``axes`` set to 1 (as ``keepdims=True`` gives)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if index in axes else side for index, side in enumerate(shape))
