"""Sorting and order statistics: ``sort``, ``partition``, ``median``, ``quantile`` and
``percentile``.

The order is computed on the values (it carries no derivative) and the entries are then
gathered with ``take_along_axis``, so the gradient follows the permutation.  The order is
a recorded node (``argsort``, ``argpartition``), as are the counts of non-NaN entries of
the NaN-ignoring quantiles, so a staged graph recomputes them from its new inputs.  Ties are
resolved deterministically: ``sort`` uses a stable order, so among equal entries the one
that comes first in the input goes first and keeps its own cotangent.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from adfun._engine.trace import Tracer, full_value, values_hidden
from adfun.numpy._axes import dtype_of, ndim_of, normalize_axis, shape_of
from adfun.numpy._declare import Domain, export, function_of_values
from adfun.numpy._elementwise import maximum
from adfun.numpy._layout import take_along_axis
from adfun.numpy._nondiff import (
    any,  # noqa: A004
    argsort,
    ceil,
    equal,
    floor,
    isnan,
    logical_not,
    rint,
    stop_gradient,
)
from adfun.numpy._reductions import sum  # noqa: A004
from adfun.numpy._selection import where
from adfun.numpy._shape import astype, broadcast_to, moveaxis, ravel, reshape, transpose
from adfun.numpy._typing import PartitionKind, QuantileMethod


def _values_examples(draw: Any, st: Any, hnp: Any, *, ties: bool = True) -> np.ndarray:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=1, distinct=True)
    return x


def _sort_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _values_examples(draw, st, hnp)
    return (x,), {"axis": draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))}


def _partition_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _values_examples(draw, st, hnp)
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    return (x, draw(st.integers(0, x.shape[axis] - 1))), {"axis": axis}


@export(np.sort, domain=Domain(examples=_sort_examples))
def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.sort`.

    Derivative: the cotangent of each sorted position goes back to the entry that landed
    there.  Ties are broken by a stable order (first in the input, first in the output).

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp, numpy as np
    >>> ad.grad(lambda x: anp.sort(x)[0])(np.array([3.0, 1.0, 2.0]))
    array([0., 1., 0.])
    """
    if type(a) is not Tracer:
        return np.sort(a, axis=axis, kind=kind, order=order, **kwargs)
    if order is not None:
        raise TypeError(
            "adfun.numpy.sort: order= (structured arrays) is not supported on traced values"
        )
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, argsort(a, axis=axis, kind="stable"), axis=axis)


@export(np.partition, domain=Domain(examples=_partition_examples))
def partition(
    a: Any, kth: Any, axis: Any = -1, kind: PartitionKind = "introselect", order: Any = None
) -> Any:
    """Differentiable :func:`numpy.partition`: the entries are arranged exactly as NumPy's
    ``partition`` arranges them (NaN entries included, which ``argpartition`` may place
    elsewhere), and the gradient follows that arrangement (among equal entries, in their
    order in ``a``)."""
    if type(a) is not Tracer:
        return np.partition(a, kth, axis=axis, kind=kind, order=order)
    if order is not None:
        raise TypeError("adfun.numpy.partition: order= is not supported on traced values")
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, _partition_order(a, kth, axis, kind), axis=axis)


def _partition_order_impl(a: Any, kth: Any, axis: int, kind: PartitionKind) -> np.ndarray:
    """Indices ``i`` with ``take_along_axis(a, i, axis)`` equal to ``np.partition(a, kth,
    axis, kind)``, signs of zeros included: the partition's entries matched with ``a``'s in
    sorted order (by value, then sign bit), equal entries in their order in ``a``."""
    a = np.asarray(a)
    arranged = np.moveaxis(np.partition(a, kth, axis=axis, kind=kind), axis, -1)
    a = np.moveaxis(a, axis, -1)
    if a.dtype.kind in "fc":
        order_a = np.lexsort((np.signbit(a.real), a), axis=-1)
        order_p = np.lexsort((np.signbit(arranged.real), arranged), axis=-1)
    else:
        order_a = np.argsort(a, axis=-1, kind="stable")
        order_p = np.argsort(arranged, axis=-1, kind="stable")
    indices = np.empty(a.shape, dtype=np.intp)
    np.put_along_axis(indices, order_p, order_a, axis=-1)
    return np.moveaxis(indices, -1, axis)


# --- quantiles --------------------------------------------------------------------------

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _lerp(low: Any, high: Any, t: Any) -> Any:
    """NumPy's interpolation formula (exact at both ends)."""
    difference = high - low
    return where(t >= 0.5, high - difference * (1.0 - t), low + difference * t)


def _quantile(
    a: Any,
    q: Any,
    axis: Any,
    method: str,
    keepdims: bool,
    name: str,
    ignore_nan: bool = False,
    weak: bool = True,
) -> Any:
    """NumPy's quantile steps on traced ``a``.  ``weak``: ``q`` was a Python number, so
    that (as in NumPy) the interpolation weight takes ``a``'s dtype; otherwise it stays
    float64 and promotes the result."""
    if type(q) is Tracer:
        raise NotImplementedError(
            f"adfun.numpy.{name}: differentiating with respect to the quantile q is not "
            f"supported; pass q as a constant (ad.stop_gradient(q))"
        )
    if method not in _METHODS and method != "median":
        raise NotImplementedError(
            f"adfun.numpy.{name}: method={method!r} is not supported on traced values "
            f"(supported: {', '.join(_METHODS)})"
        )
    q = np.asarray(q, dtype=np.float64)
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"adfun.numpy.{name}: quantiles must be in the range [0, 1]")
    shape = shape_of(a)
    axes = normalize_axis(axis, len(shape), name)
    reduced = tuple(range(len(shape))) if axes is None else axes
    kept = [index for index in range(len(shape)) if index not in reduced]
    moved = (
        transpose(a, tuple(kept) + reduced)
        if kept + list(reduced) != list(range(len(shape)))
        else a
    )
    rest = tuple(shape[index] for index in kept)
    flat = reshape(moved, rest + (-1,))
    ordered = sort(flat, axis=-1)  # NaNs sort last
    length = shape_of(flat)[-1]
    kept_q = rest + (1,) * q.ndim
    if ignore_nan:
        # How many numbers each slice holds: a recorded node (NaNs sort last).
        count = reshape(sum(logical_not(isnan(flat)), axis=-1), kept_q)
        last = stop_gradient(maximum(count - 1, 0))
    else:
        count = np.full(kept_q, length)
        last = np.maximum(count - 1, 0)
    position = q * last  # shape rest + q.shape: NumPy's (n - 1) * q

    def pick(index: Any) -> Any:
        index = reshape(broadcast_to(index, rest + q.shape), rest + (-1,))
        return reshape(take_along_axis(ordered, index, axis=-1), rest + q.shape)

    if method == "lower":
        result = pick(astype(floor(position), np.intp))
    elif method == "higher":
        result = pick(astype(ceil(position), np.intp))
    elif method == "nearest":
        result = pick(astype(rint(position), np.intp))
    elif method == "median":  # np.median: the mean of the one or two middle entries
        low, high = floor(position), ceil(position)
        middle = pick(astype(low, np.intp))
        result = where(equal(low, high), middle, (middle + pick(astype(high, np.intp))) / 2.0)
    else:
        # NumPy's steps, operation for operation: the virtual index, its neighbours (both
        # the last entry from n - 1 on, where NumPy's gamma is measured from index -1) and
        # NumPy's lerp with gamma (0.5 between two entries for midpoint, else 0).
        if method == "midpoint":
            virtual = 0.5 * (floor(position) + ceil(position))
        else:
            virtual = position
        previous = floor(virtual)
        above = virtual >= last
        low = astype(where(above, last, previous), np.intp)
        high = astype(where(above, last, previous + 1), np.intp)
        if method == "midpoint":
            gamma = where(equal(virtual, previous), 0.0, 0.5)
        else:
            gamma = virtual - where(above, -1.0, previous)
        gamma = broadcast_to(gamma, rest + q.shape)
        if weak:
            gamma = astype(gamma, dtype_of(a))
        gamma = stop_gradient(gamma)
        result = _lerp(pick(low), pick(high), gamma)
    if ignore_nan:
        empty = broadcast_to(equal(count, 0), rest + q.shape)
        if not values_hidden(count) and np.any(full_value(empty)):
            warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
        result = where(empty, np.nan, result)
    else:
        # NumPy's quantiles of a slice holding a NaN are NaN.
        has_nan = reshape(any(isnan(flat), axis=-1), kept_q)
        result = where(broadcast_to(has_nan, rest + q.shape), np.nan, result)
    # The q axes come last here; NumPy puts them first.
    if q.ndim:
        result = moveaxis(result, tuple(range(len(rest), len(rest) + q.ndim)), tuple(range(q.ndim)))
    if keepdims:
        result_shape = q.shape + tuple(
            1 if index in reduced else side for index, side in enumerate(shape)
        )
        result = reshape(result, result_shape)
    return result


def _weak(q: Any) -> bool:
    """Whether ``q`` is a Python number (NumPy's weak promotion of the result)."""
    return type(q) in (int, float)


def _quantile_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import axis_params

    x = _values_examples(draw, st, hnp)
    params = axis_params(draw, st, x.ndim)
    q = draw(st.sampled_from([0.5, 0.0, 1.0, 0.3, [0.25, 0.8]]))
    method = draw(st.sampled_from(_METHODS))
    return (x, q), {"axis": params["axis"], "keepdims": params["keepdims"], "method": method}


def _percentile_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x, q), kwargs = _quantile_examples(draw, st, hnp)
    return (x, np.multiply(q, 100.0).tolist()), kwargs


def _median_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x, _), kwargs = _quantile_examples(draw, st, hnp)
    return (x,), {"axis": kwargs["axis"], "keepdims": kwargs["keepdims"]}


@export(np.quantile, domain=Domain(examples=_quantile_examples))
def quantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: QuantileMethod = "linear",
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    """Differentiable :func:`numpy.quantile` (in ``a``; ``q`` is a constant).

    Methods ``linear`` (default), ``lower``, ``higher``, ``midpoint`` and ``nearest`` are
    supported on traced values.  Derivative: the interpolation weights of the two order
    statistics around each quantile.
    """
    if type(a) is not Tracer and type(q) is not Tracer:
        return np.quantile(
            a,
            q,
            axis=axis,
            out=out,
            overwrite_input=overwrite_input,
            method=method,
            keepdims=keepdims,
            **kwargs,
        )
    if out is not None or kwargs:
        raise TypeError(
            "adfun.numpy.quantile: out= and weights= are not supported on traced values"
        )
    return _quantile(a, q, axis, method, keepdims, "quantile", weak=_weak(q))


@export(np.percentile, domain=Domain(examples=_percentile_examples))
def percentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: QuantileMethod = "linear",
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    """Differentiable :func:`numpy.percentile`: :func:`quantile` of ``q / 100``."""
    if type(a) is not Tracer and type(q) is not Tracer:
        return np.percentile(
            a,
            q,
            axis=axis,
            out=out,
            overwrite_input=overwrite_input,
            method=method,
            keepdims=keepdims,
            **kwargs,
        )
    if out is not None or kwargs:
        raise TypeError(
            "adfun.numpy.percentile: out= and weights= are not supported on traced values"
        )
    if type(q) is Tracer:
        return _quantile(a, q, axis, method, keepdims, "percentile")
    return _quantile(a, np.true_divide(q, 100), axis, method, keepdims, "percentile", weak=_weak(q))


@export(np.median, domain=Domain(examples=_median_examples))
def median(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False
) -> Any:
    """Differentiable :func:`numpy.median` (the mean of the middle order statistics).

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp, numpy as np
    >>> ad.grad(anp.median)(np.array([4.0, 1.0, 3.0, 2.0]))
    array([0. , 0. , 0.5, 0.5])
    """
    if type(a) is not Tracer:
        return np.median(a, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims)
    if out is not None:
        raise TypeError("adfun.numpy.median: out= is not supported on traced values")
    return _quantile(a, 0.5, axis, "median", keepdims, "median")


def _nan_quantile_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x, q), kwargs = _quantile_examples(draw, st, hnp)
    mask = draw(hnp.arrays(np.bool_, x.shape, elements=st.sampled_from([False, False, True])))
    with_nans = np.where(mask, np.nan, x)
    # Slices left without a number keep their (distinct) values.
    axis = kwargs["axis"]
    all_nan = np.all(np.isnan(with_nans), axis=axis, keepdims=True)
    x = np.where(all_nan, x, with_nans)
    return (x, q), kwargs


def _nan_percentile_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x, q), kwargs = _nan_quantile_examples(draw, st, hnp)
    return (x, np.multiply(q, 100.0).tolist()), kwargs


def _nan_median_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x, _), kwargs = _nan_quantile_examples(draw, st, hnp)
    return (x,), {"axis": kwargs["axis"], "keepdims": kwargs["keepdims"]}


@export(np.nanquantile, domain=Domain(examples=_nan_quantile_examples))
def nanquantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: QuantileMethod = "linear",
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    """Differentiable :func:`numpy.nanquantile`: :func:`quantile` of the non-NaN entries."""
    if type(a) is not Tracer and type(q) is not Tracer:
        return np.nanquantile(
            a,
            q,
            axis=axis,
            out=out,
            overwrite_input=overwrite_input,
            method=method,
            keepdims=keepdims,
            **kwargs,
        )
    if out is not None or kwargs:
        raise TypeError(
            "adfun.numpy.nanquantile: out= and weights= are not supported on traced values"
        )
    return _quantile(a, q, axis, method, keepdims, "nanquantile", ignore_nan=True, weak=_weak(q))


@export(np.nanpercentile, domain=Domain(examples=_nan_percentile_examples))
def nanpercentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: QuantileMethod = "linear",
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    """Differentiable :func:`numpy.nanpercentile`: :func:`nanquantile` of ``q / 100``."""
    if type(a) is not Tracer and type(q) is not Tracer:
        return np.nanpercentile(
            a,
            q,
            axis=axis,
            out=out,
            overwrite_input=overwrite_input,
            method=method,
            keepdims=keepdims,
            **kwargs,
        )
    if out is not None or kwargs:
        raise TypeError(
            "adfun.numpy.nanpercentile: out= and weights= are not supported on traced values"
        )
    weak = _weak(q)
    if type(q) is not Tracer:
        q = np.true_divide(q, 100)
    return _quantile(a, q, axis, method, keepdims, "nanpercentile", ignore_nan=True, weak=weak)


@export(np.nanmedian, domain=Domain(examples=_nan_median_examples))
def nanmedian(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False
) -> Any:
    """Differentiable :func:`numpy.nanmedian`: the median of the non-NaN entries."""
    if type(a) is not Tracer:
        return np.nanmedian(
            a, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims
        )
    if out is not None:
        raise TypeError("adfun.numpy.nanmedian: out= is not supported on traced values")
    return _quantile(a, 0.5, axis, "median", keepdims, "nanmedian", ignore_nan=True)


del ndim_of


#: NumPy's ``argpartition``, as a recorded node.
argpartition = function_of_values("argpartition", np.argpartition)
#: The arrangement ``partition`` gathers with, as a recorded node.
_partition_order = function_of_values("partition_order", _partition_order_impl)
