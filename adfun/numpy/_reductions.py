"""Reductions over axes: ``sum`` (declared in :mod:`adfun.numpy._base`), ``mean``,
``max``, ``min``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import NUMPY_OVERRIDES
from adfun._engine.trace import Tracer
from adfun.numpy._axes import kept_shape, shape_of
from adfun.numpy._base import (
    check_unsupported,
    expand_reduced,
    reduce_traced,
    reduction_examples,
    reshape,
    sum,  # noqa: A004
    where,
)
from adfun.numpy._batching import reduction
from adfun.numpy._declare import Domain, complexified, export, primitive
from adfun.numpy._nondiff import equal

__all__ = ["amax", "amin", "max", "mean", "min", "reduced_size", "sum"]


def reduced_size(x: Any, axis: Any) -> int:
    """The number of entries of ``x`` a reduction over ``axis`` (normalized) combines."""
    shape = shape_of(x)
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[index] for index in axis], dtype=np.int64))


# --- mean ----------------------------------------------------------------------------


def _mean_impl(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.mean(a, axis=axis, keepdims=keepdims)


def _mean_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return expand_reduced(g, x, axis, keepdims) / reduced_size(x, axis)


def _mean_jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return mean(t, axis=axis, keepdims=keepdims)


_MEAN = primitive(
    "mean",
    _mean_impl,
    (_mean_vjp,),
    (_mean_jvp,),
    domain=Domain(examples=reduction_examples),
    complex_domain=complexified(reduction_examples),
    batch=reduction,
)


@export(np.mean, primitive=_MEAN, signature="mean(a, axis=None, keepdims=False)")
def mean(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    """Differentiable :func:`numpy.mean`.

    Derivative: the cotangent divided by the number of averaged entries, broadcast back.
    """
    check_unsupported("mean", a, dtype=dtype, out=out, **kwargs)
    if type(a) is not Tracer:
        return np.mean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    return reduce_traced(_MEAN, np.mean, a, axis, keepdims, "mean")


# --- max and min (ties split evenly) ---------------------------------------------------


def _extremum_weights(ans: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """1/k on each of the k entries equal to the extremum, 0 elsewhere (a constant)."""
    reference = ans if keepdims else reshape(ans, kept_shape(shape_of(x), axis))
    hits = where(equal(x, reference), 1.0, 0.0)
    return hits / sum(hits, axis=axis, keepdims=True)


def _extremum_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return expand_reduced(g, x, axis, keepdims) * _extremum_weights(ans, x, axis, keepdims)


def _extremum_jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return sum(t * _extremum_weights(ans, x, axis, keepdims), axis=axis, keepdims=keepdims)


def _distinct_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return reduction_examples(draw, st, hnp, distinct=True)


def _max_impl(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.max(a, axis=axis, keepdims=keepdims)


def _min_impl(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.min(a, axis=axis, keepdims=keepdims)


_MAX = primitive(
    "max",
    _max_impl,
    (_extremum_vjp,),
    (_extremum_jvp,),
    domain=Domain(examples=_distinct_examples),
    complex_domain=complexified(_distinct_examples),
    batch=reduction,
)
_MIN = primitive(
    "min",
    _min_impl,
    (_extremum_vjp,),
    (_extremum_jvp,),
    domain=Domain(examples=_distinct_examples),
    complex_domain=complexified(_distinct_examples),
    batch=reduction,
)


@export(np.max, primitive=_MAX, signature="max(a, axis=None, keepdims=False)")
def max(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: bool = False,  # noqa: A001
    **kwargs: Any,
) -> Any:
    """Differentiable :func:`numpy.max` (also ``amax``).

    Derivative: 1 at the maximum; tied maxima share it evenly (forward mode: the mean of
    the tied tangents).
    """
    check_unsupported("max", a, out=out, **kwargs)
    if type(a) is not Tracer:
        return np.max(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    return reduce_traced(_MAX, np.max, a, axis, keepdims, "max")


@export(np.min, primitive=_MIN, signature="min(a, axis=None, keepdims=False)")
def min(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: bool = False,  # noqa: A001
    **kwargs: Any,
) -> Any:
    """Differentiable :func:`numpy.min` (also ``amin``).

    Derivative: 1 at the minimum; tied minima share it evenly (forward mode: the mean of
    the tied tangents).
    """
    check_unsupported("min", a, out=out, **kwargs)
    if type(a) is not Tracer:
        return np.min(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    return reduce_traced(_MIN, np.min, a, axis, keepdims, "min")


amax = max
amin = min

NUMPY_OVERRIDES[np.amax] = max
NUMPY_OVERRIDES[np.amin] = min
