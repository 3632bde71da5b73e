"""Selecting between values: ``where`` (declared in :mod:`adfun.numpy._base`) and ``clip``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS
from adfun._engine.trace import call_primitive
from adfun.numpy._base import unbroadcast, where
from adfun.numpy._batching import elementwise
from adfun.numpy._declare import Domain, complexified, export, primitive
from adfun.numpy._nondiff import (
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_or,
)

__all__ = ["clip", "where"]


# NumPy's clip is minimum(maximum(a, a_min), a_max): where a_min > a_max the value is
# a_max everywhere.  Each entry's derivative goes to the argument its value came from.


def _from_low(x: Any, low: Any, high: Any) -> Any:
    """Where the value is ``a_min`` (``x < a_min``, and ``a_min`` not above ``a_max``)."""
    below = less(x, low)
    return below if high is None else logical_and(below, less_equal(low, high))


def _from_high(x: Any, low: Any, high: Any) -> Any:
    """Where the value is ``a_max``: ``maximum(x, a_min) > a_max``."""
    above = greater(x, high)
    if low is None:
        return above
    return logical_or(above, logical_and(less(x, low), greater(low, high)))


def _clip_mask(x: Any, low: Any, high: Any) -> Any:
    inside = 1.0
    if low is not None:
        inside = where(greater_equal(x, low), inside, 0.0)
    if high is not None:
        inside = where(less_equal(x, high), inside, 0.0)
        if low is not None:
            inside = where(greater(low, high), 0.0, inside)
    return inside


def _clip_x(g: Any, ans: Any, x: Any, low: Any, high: Any) -> Any:
    return unbroadcast(g * _clip_mask(x, low, high), x)


def _clip_low(g: Any, ans: Any, x: Any, low: Any, high: Any) -> Any:
    return unbroadcast(where(_from_low(x, low, high), g, 0.0), low)


def _clip_high(g: Any, ans: Any, x: Any, low: Any, high: Any) -> Any:
    return unbroadcast(where(_from_high(x, low, high), g, 0.0), high)


def _clip_tangent_x(t: Any, ans: Any, x: Any, low: Any, high: Any) -> Any:
    return t * _clip_mask(x, low, high)


def _clip_tangent_low(t: Any, ans: Any, x: Any, low: Any, high: Any) -> Any:
    return where(_from_low(x, low, high), t, 0.0)


def _clip_tangent_high(t: Any, ans: Any, x: Any, low: Any, high: Any) -> Any:
    return where(_from_high(x, low, high), t, 0.0)


def _clip_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import broadcast_arrays

    (x,) = broadcast_arrays(draw, st, hnp, ((-3.0, 3.0),))
    # Keep x away from the bounds so that finite differences do not straddle a kink.
    x = np.where(np.abs(x - 1.0) < 0.05, x + 0.2, x)
    x = np.where(np.abs(x + 1.0) < 0.05, x + 0.2, x)
    return (x, -1.0, 1.0), {}


_CLIP = primitive(
    "clip",
    np.clip,
    (_clip_x, _clip_low, _clip_high),
    (_clip_tangent_x, _clip_tangent_low, _clip_tangent_high),
    domain=Domain(examples=_clip_examples),
    complex_domain=complexified(_clip_examples, positions=(0,)),
    batch=elementwise,
)


@export(np.clip, primitive=_CLIP, signature="clip(x, a_min, a_max)")
def clip(a: Any, a_min: Any = None, a_max: Any = None, **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.clip`.

    Derivative: 1 for ``a`` strictly inside ``[a_min, a_max]`` (and on the bounds), and
    1 for the bound that is active where ``a`` is outside it.  Where ``a_min > a_max``
    the value is ``a_max`` (as NumPy computes it) and so is the derivative.
    """
    if "min" in kwargs or "max" in kwargs:
        a_min = kwargs.pop("min", a_min)
        a_max = kwargs.pop("max", a_max)
    if kwargs:
        raise TypeError(f"adfun.numpy.clip: unsupported keyword arguments {sorted(kwargs)}")
    return call_primitive(_CLIP, (a, a_min, a_max), EMPTY_PARAMS)
