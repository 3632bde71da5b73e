"""Summing cotangents back to an argument's shape after NumPy broadcasting."""

from __future__ import annotations

from typing import Any

from numpy import ndarray

from adfun.numpy._core import shape_of


def unbroadcast(g: Any, x: Any) -> Any:
    """Sum ``g`` (shaped like a broadcast result) down to the shape of ``x``."""
    if type(g) is ndarray and type(x) is ndarray and g.shape == x.shape:
        return g  # the common case, without the general shape look-ups
    target = shape_of(x)
    shape = shape_of(g)
    if shape == target:
        return g
    leading = len(shape) - len(target)
    if leading:
        g = sum(g, axis=tuple(range(leading)))
    axes = tuple(
        index for index, side in enumerate(target) if side == 1 and shape[index + leading] != 1
    )
    if axes:
        g = sum(g, axis=axes, keepdims=True)
    return g


from adfun.numpy._reductions import sum  # noqa: E402, A001
