"""Reductions over axes: ``sum``, ``mean``, ``max``, ``min``, ``var``, ``std``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import Params
from adfun._engine.trace import Tracer, bind_unary
from adfun.numpy._core import (
    Domain,
    declare,
    kept_shape,
    ndim_of,
    normalize_axis,
    shape_of,
    wrap,
)


def _reduction_examples(draw: Any, st: Any, hnp: Any, low: float = -3.0, high: float = 3.0,
                        distinct: bool = False) -> tuple:
    from adfun.numpy._examples import array, axis_params

    x = array(draw, st, hnp, (low, high), min_dims=0, distinct=distinct)
    return (x,), axis_params(draw, st, x.ndim)


def _expand(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """Broadcast a reduced cotangent ``g`` back to the shape of ``x``."""
    shape = shape_of(x)
    if not keepdims and ndim_of(g) != 0:  # a 0-d g broadcasts as it is
        g = reshape(g, kept_shape(shape, axis))
    return broadcast_to(g, shape)


def _count(x: Any, axis: Any) -> int:
    shape = shape_of(x)
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[index] for index in axis], dtype=np.int64))


def _reduce(primitive: Any, numpy_fun: Any, a: Any, axis: Any, keepdims: bool,
            name: str) -> Any:
    if type(a) is Tracer:
        params = Params(axis=normalize_axis(axis, ndim_of(a), name), keepdims=bool(keepdims))
        return bind_unary(primitive, a, params)
    return numpy_fun(a, axis=axis, keepdims=keepdims)


def _check_unsupported(name: str, a: Any, **options: Any) -> None:
    given = {key: value for key, value in options.items() if value is not None}
    if given and type(a) is Tracer:
        raise TypeError(
            f"adfun.numpy.{name}: the argument(s) {sorted(given)} are not supported on traced "
            f"values; convert with .astype(...) first and drop out="
        )


# --- sum -----------------------------------------------------------------------------


def _sum_impl(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sum(a, axis=axis, keepdims=keepdims)


def _sum_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _expand(g, x, axis, keepdims)


def _sum_jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return sum(t, axis=axis, keepdims=keepdims)


_SUM = declare("sum", _sum_impl, (_sum_vjp,), (_sum_jvp,),
               Domain(examples=_reduction_examples), "")


@wrap(_SUM, np.sum, "", "sum(a, axis=None, keepdims=False)")
def sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,  # noqa: A001
        keepdims: bool = False, **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.sum`.

    Derivative: the cotangent is broadcast back over the summed axes.
    """
    _check_unsupported("sum", a, dtype=dtype, out=out, **kwargs)
    if type(a) is not Tracer:
        return np.sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    return _reduce(_SUM, np.sum, a, axis, keepdims, "sum")


# --- mean ----------------------------------------------------------------------------


def _mean_impl(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.mean(a, axis=axis, keepdims=keepdims)


def _mean_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _expand(g, x, axis, keepdims) / _count(x, axis)


def _mean_jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return mean(t, axis=axis, keepdims=keepdims)


_MEAN = declare("mean", _mean_impl, (_mean_vjp,), (_mean_jvp,),
                Domain(examples=_reduction_examples), "")


@wrap(_MEAN, np.mean, "", "mean(a, axis=None, keepdims=False)")
def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
         keepdims: bool = False, **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.mean`.

    Derivative: the cotangent divided by the number of averaged entries, broadcast back.
    """
    _check_unsupported("mean", a, dtype=dtype, out=out, **kwargs)
    if type(a) is not Tracer:
        return np.mean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    return _reduce(_MEAN, np.mean, a, axis, keepdims, "mean")


# --- max and min (ties split evenly) ---------------------------------------------------


def _extremum_weights(ans: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """1/k on each of the k entries equal to the extremum, 0 elsewhere (a constant)."""
    reference = ans if keepdims else reshape(ans, kept_shape(shape_of(x), axis))
    hits = where(equal(x, reference), 1.0, 0.0)
    return hits / sum(hits, axis=axis, keepdims=True)


def _extremum_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _expand(g, x, axis, keepdims) * _extremum_weights(ans, x, axis, keepdims)


def _extremum_jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return sum(t * _extremum_weights(ans, x, axis, keepdims), axis=axis, keepdims=keepdims)


def _distinct_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return _reduction_examples(draw, st, hnp, distinct=True)


def _max_impl(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.max(a, axis=axis, keepdims=keepdims)


def _min_impl(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.min(a, axis=axis, keepdims=keepdims)


_MAX = declare("max", _max_impl, (_extremum_vjp,), (_extremum_jvp,),
               Domain(examples=_distinct_examples), "")
_MIN = declare("min", _min_impl, (_extremum_vjp,), (_extremum_jvp,),
               Domain(examples=_distinct_examples), "")


@wrap(_MAX, np.max, "", "max(a, axis=None, keepdims=False)")
def max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,  # noqa: A001
        **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.max` (also ``amax``).

    Derivative: 1 at the maximum; tied maxima share it evenly (forward mode: the mean of
    the tied tangents).
    """
    _check_unsupported("max", a, out=out, **kwargs)
    if type(a) is not Tracer:
        return np.max(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    return _reduce(_MAX, np.max, a, axis, keepdims, "max")


@wrap(_MIN, np.min, "", "min(a, axis=None, keepdims=False)")
def min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,  # noqa: A001
        **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.min` (also ``amin``).

    Derivative: 1 at the minimum; tied minima share it evenly (forward mode: the mean of
    the tied tangents).
    """
    _check_unsupported("min", a, out=out, **kwargs)
    if type(a) is not Tracer:
        return np.min(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    return _reduce(_MIN, np.min, a, axis, keepdims, "min")


amax = max
amin = min

# --- variance and standard deviation (composites of differentiable primitives) ---------

#: Marks a keyword argument that was not given (NumPy's ``np._NoValue``).
_NOT_GIVEN: Any = np._NoValue
#: ``mean`` the function: ``var`` and ``std`` take a keyword argument of that name.
_mean = mean


def _degrees_of_freedom(name: str, ddof: Any, correction: Any) -> Any:
    """``ddof``, or NumPy 2's ``correction`` (its Array API name); both is an error."""
    if correction is _NOT_GIVEN:
        return ddof
    if ddof != 0:
        raise ValueError(
            f"adfun.numpy.{name}: ddof and correction can't be provided simultaneously "
            f"(correction is the Array API name of ddof); give only one of them"
        )
    return correction


def var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
        keepdims: bool = False, *, mean: Any = _NOT_GIVEN, correction: Any = _NOT_GIVEN) -> Any:
    """Differentiable :func:`numpy.var`, built from ``mean`` and ``sum``.

    ``mean=`` (NumPy 2: the precomputed mean, shaped as with ``keepdims=True``) may be
    traced: the result is differentiable in it too.  ``correction=`` is another name for
    ``ddof``.
    """
    ddof = _degrees_of_freedom("var", ddof, correction)
    if type(a) is not Tracer and type(mean) is not Tracer:
        extra = {} if mean is _NOT_GIVEN else {"mean": mean}
        return np.var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims,
                      **extra)
    _check_unsupported("var", a if type(a) is Tracer else mean, dtype=dtype, out=out)
    if type(a) is not Tracer:
        a = np.asarray(a)
    axes = normalize_axis(axis, ndim_of(a), "var")
    center = _mean(a, axis=axes, keepdims=True) if mean is _NOT_GIVEN else mean
    centered = a - center
    count = _count(a, axes)
    return sum(centered * centered, axis=axes, keepdims=keepdims) / (count - ddof)


def std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
        keepdims: bool = False, *, mean: Any = _NOT_GIVEN, correction: Any = _NOT_GIVEN) -> Any:
    """Differentiable :func:`numpy.std`: the square root of :func:`var` (same arguments)."""
    ddof = _degrees_of_freedom("std", ddof, correction)
    if type(a) is not Tracer and type(mean) is not Tracer:
        extra = {} if mean is _NOT_GIVEN else {"mean": mean}
        return np.std(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims,
                      **extra)
    _check_unsupported("std", a if type(a) is Tracer else mean, dtype=dtype, out=out)
    return sqrt(var(a, axis=axis, ddof=ddof, keepdims=keepdims, mean=mean))


def _spread_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array, axis_params

    # Distinct entries and at least two per slice: ``std`` has no derivative at zero spread.
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    x = array(draw, st, hnp, (-3.0, 3.0), shape=shape, distinct=True)
    params = axis_params(draw, st, x.ndim)
    params["ddof"] = draw(st.sampled_from([0, 1]))
    return (x,), params


from adfun._engine.records import NUMPY_OVERRIDES  # noqa: E402
from adfun.numpy._core import composite  # noqa: E402

for _composite, _numpy_fun in ((var, np.var), (std, np.std)):
    composite(_numpy_fun, Domain(examples=_spread_examples))(_composite)
NUMPY_OVERRIDES[np.amax] = max
NUMPY_OVERRIDES[np.amin] = min

from adfun.numpy._elementwise import sqrt  # noqa: E402
from adfun.numpy._nondiff import equal  # noqa: E402
from adfun.numpy._selection import where  # noqa: E402
from adfun.numpy._shape import broadcast_to, reshape  # noqa: E402
