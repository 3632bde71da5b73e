"""Reductions built from other reductions: ``var``, ``std``, ``ptp``, ``average``, the
NaN-ignoring family, differences (``diff``, ``ediff1d``), ``trapezoid`` and the array-API
cumulative scans.

All are exact composites of differentiable primitives.  Their value-dependent steps are
recorded as graph nodes (the NaN masks are ``isnan`` nodes, ``unwrap``'s added multiples
of the period a node of the values), so a staged graph recomputes them from its new
inputs; ``trim_zeros``, whose result's length depends on the values, refuses staging.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Literal

import numpy as np

from adfun._engine.trace import Tracer, any_traced, full_value, read_value, values_hidden
from adfun.numpy._axes import dtype_of, ndim_of, normalize_axis, shape_of
from adfun.numpy._base import (
    broadcast_to,
    check_unsupported,
    reshape,
    sum,  # noqa: A004
    where,
)
from adfun.numpy._complex import conjugate
from adfun.numpy._declare import Domain, export, function_of_values
from adfun.numpy._elementwise import sqrt
from adfun.numpy._layout import atleast_2d, diagonal
from adfun.numpy._linear import matmul, tensordot
from adfun.numpy._nondiff import any as any_true
from adfun.numpy._nondiff import isnan, less_equal, logical_not
from adfun.numpy._reductions import max, mean, min, reduced_size  # noqa: A004
from adfun.numpy._scans import cumprod, cumsum, prod
from adfun.numpy._selection import clip
from adfun.numpy._shape import astype, concatenate, moveaxis, ravel, squeeze, transpose
from adfun.numpy._typing import TrimSide

_NO_VALUE = np._NoValue  # NumPy's marker for "argument not given"


# --- variance and standard deviation (composites of differentiable primitives) ---------


def _spread_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array, axis_params

    # Distinct entries and at least two per slice: ``std`` has no derivative at zero spread.
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    x = array(draw, st, hnp, (-3.0, 3.0), shape=shape, distinct=True)
    params = axis_params(draw, st, x.ndim)
    params["ddof"] = draw(st.sampled_from([0, 1]))
    return (x,), params


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


@export(np.var, domain=Domain(examples=_spread_examples))
def var(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: bool = False,
    *,
    mean: Any = _NOT_GIVEN,
    correction: Any = _NOT_GIVEN,
) -> Any:
    """Differentiable :func:`numpy.var`, built from ``mean`` and ``sum``.

    ``mean=`` (NumPy 2: the precomputed mean, shaped as with ``keepdims=True``) may be
    traced: the result is differentiable in it too.  ``correction=`` is another name for
    ``ddof``.
    """
    ddof = _degrees_of_freedom("var", ddof, correction)
    if type(a) is not Tracer and type(mean) is not Tracer:
        extra = {} if mean is _NOT_GIVEN else {"mean": mean}
        return np.var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **extra)
    check_unsupported("var", a if type(a) is Tracer else mean, dtype=dtype, out=out)
    if type(a) is not Tracer:
        a = np.asarray(a)
    axes = normalize_axis(axis, ndim_of(a), "var")
    center = _mean(a, axis=axes, keepdims=True) if mean is _NOT_GIVEN else mean
    centered = a - center
    size = reduced_size(a, axes)
    return sum(centered * centered, axis=axes, keepdims=keepdims) / (size - ddof)


@export(np.std, domain=Domain(examples=_spread_examples))
def std(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: bool = False,
    *,
    mean: Any = _NOT_GIVEN,
    correction: Any = _NOT_GIVEN,
) -> Any:
    """Differentiable :func:`numpy.std`: the square root of :func:`var` (same arguments)."""
    ddof = _degrees_of_freedom("std", ddof, correction)
    if type(a) is not Tracer and type(mean) is not Tracer:
        extra = {} if mean is _NOT_GIVEN else {"mean": mean}
        return np.std(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **extra)
    check_unsupported("std", a if type(a) is Tracer else mean, dtype=dtype, out=out)
    return sqrt(var(a, axis=axis, ddof=ddof, keepdims=keepdims, mean=mean))


# --- the other reductions ------------------------------------------------------------------


def _reduction_examples(
    draw: Any, st: Any, hnp: Any, *, nans: bool = False, distinct: bool = False, ddof: bool = False
) -> tuple:
    from adfun.numpy._examples import array, axis_params

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=1, distinct=distinct)
    params = axis_params(draw, st, x.ndim)
    if nans:
        mask = draw(hnp.arrays(np.bool_, x.shape, elements=st.sampled_from([False, False, True])))
        with_nans = np.where(mask, np.nan, x)
        # Reduced slices left without a number keep their own values (no new ties).
        empty = np.all(np.isnan(with_nans), axis=params["axis"], keepdims=True)
        x = np.where(empty, x, with_nans)
    if ddof:
        params["ddof"] = draw(st.sampled_from([0, 1])) if x.size > 1 else 0
        count = (
            x.size
            if params["axis"] is None
            else int(np.prod([x.shape[index] for index in params["axis"]]))
        )
        if count <= params["ddof"]:
            params["ddof"] = 0
    return (x,), params


def _named(name: str, numpy_fun: Callable | None, examples: Callable, doc: str) -> Callable:
    def decorate(fun: Callable) -> Callable:
        fun.__name__ = fun.__qualname__ = name
        fun.__doc__ = doc
        return export(numpy_fun, domain=Domain(examples=examples), name=name)(fun)

    return decorate


def _refuse(name: str, **options: Any) -> None:
    given = sorted(
        key for key, value in options.items() if value is not None and value is not _NO_VALUE
    )
    if given:
        raise TypeError(
            f"adfun.numpy.{name}: the argument(s) {given} are not supported on "
            f"traced values; cast with .astype(...) first and drop out="
        )


def _distinct(draw: Any, st: Any, hnp: Any) -> tuple:
    return _reduction_examples(draw, st, hnp, distinct=True)


@_named("ptp", np.ptp, _distinct, "Differentiable :func:`numpy.ptp`: ``max - min``.\n")
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    if type(a) is not Tracer:
        return np.ptp(a, axis=axis, out=out, keepdims=keepdims)
    _refuse("ptp", out=out)
    return max(a, axis=axis, keepdims=keepdims) - min(a, axis=axis, keepdims=keepdims)


# --- average -----------------------------------------------------------------------------


def _average_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=1)
    choice = draw(st.sampled_from(["none", "full", "axis"]))
    if choice == "none":
        return (x,), {"axis": draw(st.one_of(st.none(), st.integers(0, x.ndim - 1)))}
    if choice == "full":
        weights = array(draw, st, hnp, (0.5, 2.0), shape=x.shape)
        return (x, None, weights), {"keepdims": draw(st.booleans())}
    axis = draw(st.integers(0, x.ndim - 1))
    weights = array(draw, st, hnp, (0.5, 2.0), shape=(x.shape[axis],))
    return (x, axis, weights), {"returned": draw(st.booleans())}


@_named(
    "average",
    np.average,
    _average_examples,
    "Differentiable :func:`numpy.average` in ``a`` and ``weights``.\n\n"
    "``sum(a * w) / sum(w)`` over ``axis``, with 1-D weights laid along ``axis``.\n",
)
def average(
    a: Any,
    axis: Any = None,
    weights: Any = None,
    returned: bool = False,
    *,
    keepdims: Any = _NO_VALUE,
) -> Any:
    if type(a) is not Tracer and type(weights) is not Tracer:
        # NumPy's stubs overload on the literal values of returned and keepdims.
        return np.average(  # type: ignore[call-overload]
            a, axis=axis, weights=weights, returned=returned, keepdims=keepdims
        )
    keep = bool(keepdims) if keepdims is not _NO_VALUE else False
    if weights is None:
        result = mean(a, axis=axis, keepdims=keep)
        if returned:
            count = np.asarray(
                int(np.prod(shape_of(a), dtype=np.int64))
                / int(np.prod(shape_of(result), dtype=np.int64)),
                dtype_of(result),
            )
            return result, np.broadcast_to(count, shape_of(result)).copy()
        return result
    a_shape, w_shape = shape_of(a), shape_of(weights)
    if a_shape != w_shape:
        if axis is None:
            raise TypeError(
                "adfun.numpy.average: axis must be specified when the shapes of "
                "a and weights differ"
            )
        if len(w_shape) != 1 or isinstance(axis, (tuple, list)):
            raise TypeError(
                "adfun.numpy.average: 1-D weights expected when the shapes of a and weights differ"
            )
        position = normalize_axis(axis, len(a_shape), "average")[0]
        if w_shape[0] != a_shape[position]:
            raise ValueError(
                "adfun.numpy.average: length of weights differs from that of a along axis"
            )
        weights = reshape(
            weights, tuple(-1 if index == position else 1 for index in range(len(a_shape)))
        )
        weights = broadcast_to(weights, a_shape)
    total = sum(weights, axis=axis, keepdims=keep)
    result = sum(a * weights, axis=axis, keepdims=keep) / total
    if returned:
        return result, broadcast_to(total, shape_of(result)) if shape_of(total) != shape_of(
            result
        ) else total
    return result


# --- NaN-ignoring reductions --------------------------------------------------------------


def _nan_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return _reduction_examples(draw, st, hnp, nans=True)


def _nan_ddof_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array, axis_params

    # Sides of at least 3 and one NaN: every slice keeps two distinct numbers (a slice of
    # equal numbers has zero spread, where the standard deviation has no derivative).
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=3, max_side=4))
    x = array(draw, st, hnp, (-3.0, 3.0), shape=shape, distinct=True)
    x[(0,) * x.ndim] = np.nan
    params = axis_params(draw, st, x.ndim)
    params["ddof"] = draw(st.sampled_from([0, 1]))
    return (x,), params


def _nan_distinct_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return _reduction_examples(draw, st, hnp, nans=True, distinct=True)


def _numbers(a: Any) -> Any:
    """Where ``a`` holds a number (not NaN): a recorded node, recomputed on replay."""
    return logical_not(isnan(a))


def _nan_reduction(
    name: str, numpy_fun: Callable, examples: Callable, fill: float, reduce: Callable, explain: str
) -> Callable:
    def fun(
        a: Any,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        keepdims: Any = _NO_VALUE,
        **kwargs: Any,
    ) -> Any:
        if type(a) is not Tracer:
            extra = {} if keepdims is _NO_VALUE else {"keepdims": keepdims}
            if dtype is not None:
                extra["dtype"] = dtype
            return numpy_fun(a, axis=axis, out=out, **extra, **kwargs)
        _refuse(name, dtype=dtype, out=out, **kwargs)
        keep = False if keepdims is _NO_VALUE else bool(keepdims)
        return reduce(where(_numbers(a), a, fill), axis, keep)

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = (
        f"Differentiable :func:`numpy.{name}`: NaN entries are ignored {explain}; "
        f"they get a zero derivative.\n"
    )
    return export(numpy_fun, domain=Domain(examples=examples), name=name)(fun)


nansum = _nan_reduction(
    "nansum",
    np.nansum,
    _nan_examples,
    0.0,
    lambda a, axis, keep: sum(a, axis=axis, keepdims=keep),
    "(as zeros)",
)


def _nan_product_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    (x,), params = _reduction_examples(draw, st, hnp, nans=True)
    # Magnitudes from 0.2: prod's higher derivatives go through cumprod's rules, which
    # divide by the entries before a zero.
    magnitudes = array(draw, st, hnp, (0.2, 2.0), shape=x.shape, magnitude=True)
    return (np.where(np.isnan(x), np.nan, magnitudes),), params


nanprod = _nan_reduction(
    "nanprod",
    np.nanprod,
    _nan_product_examples,
    1.0,
    lambda a, axis, keep: prod(a, axis=axis, keepdims=keep),
    "(as ones)",
)


def _count_numbers(a: Any, axis: Any, keep: bool) -> Any:
    """How many numbers each reduced slice holds, in ``a``'s dtype (a recorded node)."""
    return astype(sum(_numbers(a), axis=axis, keepdims=keep), dtype_of(a))


def _nanmean_fun(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NO_VALUE,
    **kwargs: Any,
) -> Any:
    if type(a) is not Tracer:
        extra = {} if keepdims is _NO_VALUE else {"keepdims": keepdims}
        return np.nanmean(a, axis=axis, dtype=dtype, out=out, **extra, **kwargs)
    _refuse("nanmean", dtype=dtype, out=out, **kwargs)
    keep = False if keepdims is _NO_VALUE else bool(keepdims)
    total = sum(where(_numbers(a), a, 0.0), axis=axis, keepdims=keep)
    return total / _count_numbers(a, axis, keep)


nanmean = _named(
    "nanmean",
    np.nanmean,
    _nan_examples,
    "Differentiable :func:`numpy.nanmean`: the mean of the non-NaN entries.\n",
)(_nanmean_fun)


def _nanvar_fun(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: int = 0,
    keepdims: Any = _NO_VALUE,
    **kwargs: Any,
) -> Any:
    if type(a) is not Tracer:
        extra = {} if keepdims is _NO_VALUE else {"keepdims": keepdims}
        return np.nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, **extra, **kwargs)
    _refuse("nanvar", dtype=dtype, out=out, **kwargs)
    keep = False if keepdims is _NO_VALUE else bool(keepdims)
    numbers = _numbers(a)
    centered = where(numbers, a - nanmean(a, axis=axis, keepdims=True), 0.0)
    freedom = _count_numbers(a, axis, keep) - ddof
    # NumPy gives NaN where the degrees of freedom are not positive (an all-NaN slice);
    # the division there uses 1, so that the derivative is 0, not 0 / 0.
    bad = less_equal(freedom, 0)
    total = sum(centered * centered, axis=axis, keepdims=keep)
    return where(bad, np.nan, total / where(bad, 1.0, freedom))


nanvar = _named(
    "nanvar",
    np.nanvar,
    _nan_ddof_examples,
    "Differentiable :func:`numpy.nanvar` (NaN entries ignored).\n",
)(_nanvar_fun)


def _nanstd_fun(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: int = 0,
    keepdims: Any = _NO_VALUE,
    **kwargs: Any,
) -> Any:
    if type(a) is not Tracer:
        extra = {} if keepdims is _NO_VALUE else {"keepdims": keepdims}
        return np.nanstd(a, axis=axis, dtype=dtype, out=out, ddof=ddof, **extra, **kwargs)
    return sqrt(nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs))


nanstd = _named(
    "nanstd",
    np.nanstd,
    _nan_ddof_examples,
    "Differentiable :func:`numpy.nanstd`: the square root of :func:`nanvar`.\n",
)(_nanstd_fun)


def _nan_extremum(name: str, numpy_fun: Callable, fill: float, reduce: Callable) -> Callable:
    def fun(
        a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NO_VALUE, **kwargs: Any
    ) -> Any:
        if type(a) is not Tracer:
            extra = {} if keepdims is _NO_VALUE else {"keepdims": keepdims}
            return numpy_fun(a, axis=axis, out=out, **extra, **kwargs)
        _refuse(name, out=out, **kwargs)
        keep = False if keepdims is _NO_VALUE else bool(keepdims)
        numbers = _numbers(a)
        result = reduce(where(numbers, a, fill), axis=axis, keepdims=keep)
        # Slices without a number give NaN: chosen by a recorded node, so that a staged
        # graph decides it on its new inputs (the warning is only given eagerly).
        empty = logical_not(any_true(numbers, axis=axis, keepdims=keep))
        if not values_hidden(empty) and np.any(full_value(empty)):
            warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=2)
        return where(empty, np.nan, result)

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = (
        f"Differentiable :func:`numpy.{name}`: NaN entries are ignored (ties "
        f"split the derivative evenly, as for ``{name[3:]}``).\n"
    )
    return export(numpy_fun, domain=Domain(examples=_nan_distinct_examples), name=name)(fun)


nanmax = _nan_extremum("nanmax", np.nanmax, -np.inf, lambda a, **kw: max(a, **kw))
nanmin = _nan_extremum("nanmin", np.nanmin, np.inf, lambda a, **kw: min(a, **kw))


def _nan_scan_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    (x,), _ = _reduction_examples(draw, st, hnp, nans=True)
    # Magnitudes from 0.2 (cumprod's rules divide by the entries before a zero).
    x = np.where(
        np.isnan(x), np.nan, array(draw, st, hnp, (0.2, 3.0), shape=x.shape, magnitude=True)
    )
    return (x,), {"axis": draw(st.one_of(st.none(), st.integers(0, x.ndim - 1)))}


def _nan_scan(name: str, numpy_fun: Callable, fill: float, scan: Callable) -> Callable:
    def fun(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        if type(a) is not Tracer:
            return numpy_fun(a, axis=axis, dtype=dtype, out=out)
        _refuse(name, dtype=dtype, out=out)
        return scan(where(_numbers(a), a, fill), axis=axis)

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = (
        f"Differentiable :func:`numpy.{name}`: NaN entries count as "
        f"{int(fill)} and get a zero derivative.\n"
    )
    return export(numpy_fun, domain=Domain(examples=_nan_scan_examples), name=name)(fun)


nancumsum = _nan_scan("nancumsum", np.nancumsum, 0.0, lambda a, axis: cumsum(a, axis=axis))
nancumprod = _nan_scan("nancumprod", np.nancumprod, 1.0, lambda a, axis: cumprod(a, axis=axis))


# --- cumulative_sum / cumulative_prod (array API) -------------------------------------------


def _cumulative_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    # Magnitudes from 0.2: cumprod's rules divide by entries before the first zero.
    x = array(draw, st, hnp, (0.2, 2.0), min_dims=1, magnitude=True)
    axis = None if x.ndim == 1 and draw(st.booleans()) else draw(st.integers(0, x.ndim - 1))
    return (x,), {"axis": axis, "include_initial": draw(st.booleans())}


def _cumulative(name: str, numpy_fun: Any, scan: Callable, initial: float) -> Callable:
    def fun(
        x: Any,
        /,
        *,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        include_initial: bool = False,
    ) -> Any:
        if type(x) is not Tracer:
            return numpy_fun(x, axis=axis, dtype=dtype, out=out, include_initial=include_initial)
        _refuse(name, dtype=dtype, out=out)
        shape = shape_of(x)
        if axis is None:
            if len(shape) != 1:
                raise ValueError(
                    f"adfun.numpy.{name}: axis must be given for arrays with "
                    f"more than one dimension"
                )
            axis = 0
        axis = normalize_axis(axis, len(shape), name)[0]
        result = scan(x, axis=axis)
        if include_initial:
            start_shape = tuple(1 if index == axis else side for index, side in enumerate(shape))
            result = concatenate([np.full(start_shape, initial, dtype_of(x)), result], axis=axis)
        return result

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = f"Differentiable :func:`numpy.{name}` (with ``include_initial``).\n"
    return export(numpy_fun, domain=Domain(examples=_cumulative_examples), name=name)(fun)


cumulative_sum = _cumulative(
    "cumulative_sum", getattr(np, "cumulative_sum", None), lambda x, axis: cumsum(x, axis=axis), 0.0
)
cumulative_prod = _cumulative(
    "cumulative_prod",
    getattr(np, "cumulative_prod", None),
    lambda x, axis: cumprod(x, axis=axis),
    1.0,
)


# --- differences and the trapezoidal rule --------------------------------------------------


def _diff_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=1)
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    kwargs: dict = {"n": draw(st.integers(0, 2)), "axis": axis}
    if draw(st.booleans()):
        kwargs["prepend"] = 0.5
    return (x,), kwargs


@_named(
    "diff",
    np.diff,
    _diff_examples,
    "Differentiable :func:`numpy.diff` (differences of shifted slices).\n",
)
def diff(
    a: Any, n: int = 1, axis: int = -1, prepend: Any = _NO_VALUE, append: Any = _NO_VALUE
) -> Any:
    traced = type(a) is Tracer or type(prepend) is Tracer or type(append) is Tracer
    if not traced:
        return np.diff(a, n=n, axis=axis, prepend=prepend, append=append)
    if n < 0:
        raise ValueError(f"adfun.numpy.diff: order must be non-negative but got {n}")
    if n == 0:
        return a
    shape = shape_of(a)
    if not shape:
        raise ValueError("adfun.numpy.diff: requires input that is at least one dimensional")
    axis = normalize_axis(axis, len(shape), "diff")[0]
    pieces = []
    for extra in (prepend,):
        if extra is not _NO_VALUE:
            pieces.append(_along(extra, shape, axis))
    pieces.append(a)
    if append is not _NO_VALUE:
        pieces.append(_along(append, shape, axis))
    if len(pieces) > 1:
        a = concatenate(pieces, axis=axis)
    for _ in range(n):
        length = shape_of(a)[axis]
        head = (slice(None),) * axis
        a = a[head + (slice(1, length),)] - a[head + (slice(0, length - 1),)]
    return a


def _along(value: Any, shape: tuple, axis: int) -> Any:
    """``prepend``/``append`` as NumPy uses them: a scalar is broadcast to one slice."""
    if len(shape_of(value)) == 0:
        slice_shape = tuple(1 if index == axis else side for index, side in enumerate(shape))
        return (
            broadcast_to(value, slice_shape)
            if type(value) is Tracer
            else np.broadcast_to(value, slice_shape)
        )
    return value


def _ediff1d_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=1)
    return (x,), {"to_begin": draw(st.sampled_from([None, 1.0, [2.0, 3.0]]))}


@_named(
    "ediff1d",
    np.ediff1d,
    _ediff1d_examples,
    "Differentiable :func:`numpy.ediff1d` (differences of the flattened array).\n",
)
def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    if type(ary) is not Tracer and type(to_end) is not Tracer and type(to_begin) is not Tracer:
        return np.ediff1d(ary, to_end=to_end, to_begin=to_begin)
    flat = ravel(ary)
    pieces = []
    if to_begin is not None:
        pieces.append(ravel(to_begin) if type(to_begin) is Tracer else np.ravel(to_begin))
    pieces.append(flat[1:] - flat[:-1])
    if to_end is not None:
        pieces.append(ravel(to_end) if type(to_end) is Tracer else np.ravel(to_end))
    pieces = [piece if type(piece) is Tracer else piece.astype(dtype_of(ary)) for piece in pieces]
    return concatenate(pieces) if len(pieces) > 1 else pieces[0]


def _trapezoid_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    y = array(draw, st, hnp, (-3.0, 3.0), min_dims=1)
    axis = draw(st.integers(-y.ndim, y.ndim - 1))
    if draw(st.booleans()):
        steps = array(draw, st, hnp, (0.1, 1.0), shape=(y.shape[axis],))
        return (y, np.cumsum(steps)), {"axis": axis}
    return (y,), {"dx": draw(st.sampled_from([1.0, 0.5])), "axis": axis}


@_named(
    "trapezoid",
    getattr(np, "trapezoid", None),
    _trapezoid_examples,
    "Differentiable :func:`numpy.trapezoid` in ``y`` and ``x``.\n",
)
def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    if type(y) is not Tracer and type(x) is not Tracer and type(dx) is not Tracer:
        return np.trapezoid(y, x=x, dx=dx, axis=axis)
    shape = shape_of(y)
    axis = normalize_axis(axis, len(shape), "trapezoid")[0]
    length = shape[axis]
    head = (slice(None),) * axis
    if x is None:
        step = dx
    else:
        step = diff(x, axis=-1 if len(shape_of(x)) == 1 else axis)
        if len(shape_of(x)) == 1:
            step = reshape(step, tuple(-1 if index == axis else 1 for index in range(len(shape))))
    pairs = y[head + (slice(1, length),)] + y[head + (slice(0, length - 1),)]
    return sum(step * pairs / 2.0, axis=axis)


# --- gradient, cov, corrcoef, unwrap, trim_zeros -------------------------------------------


def _gradient_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=3, max_side=5))
    f = array(draw, st, hnp, (-3.0, 3.0), shape=shape)
    edge_order = draw(st.sampled_from([1, 2]))
    choice = draw(st.sampled_from(["none", "scalar", "coordinates", "axis"]))
    if choice == "none":
        return (f,), {"edge_order": edge_order}
    if choice == "scalar":
        return (f, 0.5), {"edge_order": edge_order}
    if choice == "axis":
        return (f,), {"axis": draw(st.integers(-f.ndim, f.ndim - 1)), "edge_order": edge_order}
    # Coordinates as lists: constants for the composite test (spacings carry no derivative).
    coordinates = tuple(
        np.cumsum(np.asarray(array(draw, st, hnp, (0.5, 1.5), shape=(side,)))).tolist()
        for side in shape
    )
    return (f,) + coordinates, {"edge_order": edge_order}


@_named(
    "gradient",
    np.gradient,
    _gradient_examples,
    "Differentiable :func:`numpy.gradient` in ``f`` (the spacings are constants).\n\n"
    "It is linear in ``f``: along each axis the result is ``J @ f`` with the matrix "
    "``J = numpy.gradient(eye(n), spacing, axis=0)``, so its derivatives are exact; the "
    "matrix costs ``n**2`` memory per axis.\n",
)
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: Literal[1, 2] = 1) -> Any:
    if type(f) is not Tracer:
        if any_traced(varargs):
            raise NotImplementedError(
                "adfun.numpy.gradient: differentiating with respect to "
                "the spacing is not supported; pass constant spacings"
            )
        return np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    if any_traced(varargs):
        raise NotImplementedError(
            "adfun.numpy.gradient: differentiating with respect to the "
            "spacing is not supported; pass constant spacings"
        )
    shape = shape_of(f)
    # NumPy's own call on zeros checks every argument and gives the result's structure.
    probe = np.gradient(np.zeros(shape), *varargs, axis=axis, edge_order=edge_order)
    axes = (
        tuple(range(len(shape))) if axis is None else normalize_axis(axis, len(shape), "gradient")
    )
    if axis is not None and not isinstance(axis, (tuple, list)):
        axes = (axes[0],)
    elif axis is not None:
        axes = tuple(int(item) % len(shape) for item in axis)
    spacings: list[tuple[Any, ...]]
    if len(varargs) == 0:
        spacings = [()] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = [(varargs[0],)] * len(axes)
    else:
        spacings = [(value,) for value in varargs]
    results = []
    for position, spacing in zip(axes, spacings):
        size = shape[position]
        matrix = np.gradient(
            np.eye(size, dtype=dtype_of(f)), *spacing, axis=0, edge_order=edge_order
        )
        moved = moveaxis(f, position, 0)
        results.append(moveaxis(tensordot(matrix, moved, 1), 0, position))
    if isinstance(probe, (tuple, list)):
        return type(probe)(results)
    return results[0]


def _cov_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    variables, observations = draw(st.integers(1, 3)), draw(st.integers(2, 5))
    # Distinct values (correlations are undefined for constant variables), bent by a
    # quadratic so that no two variables are exactly linearly related (correlation +-1
    # is a kink of corrcoef's clip).
    m = array(
        draw,
        st,
        hnp,
        (-3.0, 3.0),
        distinct=True,
        shape=draw(st.sampled_from([(variables, observations), (observations,)])),
    )
    m = m + 0.05 * np.square(np.arange(m.size, dtype=float)).reshape(m.shape) % 0.7
    kwargs = {"rowvar": True, "bias": draw(st.booleans())}
    if draw(st.booleans()):
        kwargs["rowvar"] = False
        m = np.asarray(m.T)
    if draw(st.booleans()) and m.ndim == 2:
        y = array(draw, st, hnp, (-3.0, 3.0), shape=m.shape, distinct=True)
        y = y + 0.03 * np.power(np.arange(y.size, dtype=float), 3).reshape(y.shape) % 0.9
        return (m, y), kwargs
    return (m,), kwargs


def _observations(m: Any, y: Any, rowvar: bool, name: str) -> Any:
    if len(shape_of(m)) > 2:
        raise ValueError(f"adfun.numpy.{name}: m has more than 2 dimensions")
    x = atleast_2d(m)
    if not rowvar and shape_of(x)[0] != 1:
        x = transpose(x)
    if y is not None:
        other = atleast_2d(y)
        if not rowvar and shape_of(other)[0] != 1:
            other = transpose(other)
        x = concatenate([x, other], axis=0)
    return x


@_named(
    "cov",
    np.cov,
    _cov_examples,
    "Differentiable :func:`numpy.cov` in ``m``, ``y`` and the weights ``aweights`` "
    "(``fweights`` are counts: constants).\n",
)
def cov(
    m: Any,
    y: Any = None,
    rowvar: bool = True,
    bias: bool = False,
    ddof: Any = None,
    fweights: Any = None,
    aweights: Any = None,
    *,
    dtype: Any = None,
) -> Any:
    if not any_traced((m, y, fweights, aweights)):
        return np.cov(m, y, rowvar, bias, ddof, fweights, aweights, dtype=dtype)
    if ddof is not None and ddof != int(ddof):
        raise ValueError("adfun.numpy.cov: ddof must be integer")
    if type(m) is not Tracer:
        m = np.asarray(m)
    if y is not None and type(y) is not Tracer:
        y = np.asarray(y)
    if dtype is None:
        dtype = np.result_type(dtype_of(m), *(() if y is None else (dtype_of(y),)), np.float64)
    x = _observations(m, y, rowvar, "cov")
    if dtype_of(x) != np.dtype(dtype):
        x = x.astype(dtype)
    count = shape_of(x)[1]
    if ddof is None:
        ddof = 0 if bias else 1
    fweights = _cov_weights(fweights, "fweights", count)
    aweights = _cov_weights(aweights, "aweights", count)
    weights = (
        fweights if aweights is None else (aweights if fweights is None else fweights * aweights)
    )
    if weights is None:
        centered = x - mean(x, axis=1, keepdims=True)
        factor: Any = float(count - ddof)
        if factor <= 0:
            _warn_degrees_of_freedom()
            factor = 0.0
        product = matmul(centered, conjugate(transpose(centered)))
    else:
        total = sum(weights)
        centered = x - reshape(sum(x * weights, axis=1) / total, (-1, 1))
        if ddof == 0:
            factor = total
        elif aweights is None:
            factor = total - ddof
        else:
            factor = total - ddof * sum(weights * aweights) / total
        if np.any(np.asarray(full_value(factor)) <= 0):  # a warning only: values at tracing
            _warn_degrees_of_freedom()
        factor = where(factor > 0, factor, 0.0)
        product = matmul(centered, conjugate(transpose(centered * weights)))
    return squeeze(product / factor)


def _cov_weights(weights: Any, name: str, count: int) -> Any:
    """Check ``fweights`` / ``aweights`` as NumPy does; a traced array's values are
    checked where they are traced (a staged graph does not check them again)."""
    if weights is None:
        return None
    if type(weights) is not Tracer:
        weights = np.asarray(weights, dtype=float)
    elif dtype_of(weights).kind != "f":
        weights = weights.astype(float)
    values = np.asarray(full_value(weights))
    if name == "fweights" and not np.all(values == np.around(values)):
        raise TypeError("adfun.numpy.cov: fweights must be integer")
    if values.ndim > 1:
        raise RuntimeError(f"adfun.numpy.cov: cannot handle multidimensional {name}")
    if values.ndim == 0 or values.shape[0] != count:
        raise RuntimeError(f"adfun.numpy.cov: incompatible numbers of samples and {name}")
    if np.any(values < 0):
        raise ValueError(f"adfun.numpy.cov: {name} cannot be negative")
    return weights


def _warn_degrees_of_freedom() -> None:
    warnings.warn(
        "adfun.numpy.cov: degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3
    )


@_named(
    "corrcoef",
    np.corrcoef,
    _cov_examples,
    "Differentiable :func:`numpy.corrcoef`: the covariance scaled by the standard deviations.\n",
)
def corrcoef(
    x: Any,
    y: Any = None,
    rowvar: bool = True,
    bias: Any = _NO_VALUE,
    ddof: Any = _NO_VALUE,
    *,
    dtype: Any = None,
) -> Any:
    if type(x) is not Tracer and type(y) is not Tracer:
        return np.corrcoef(x, y, rowvar, dtype=dtype)
    covariance = cov(x, y, rowvar)
    if len(shape_of(covariance)) == 0:
        return covariance / covariance
    deviations = sqrt(diagonal(covariance))
    scaled = covariance / reshape(deviations, (-1, 1)) / reshape(deviations, (1, -1))
    return clip(scaled, -1.0, 1.0)


def _unwrap_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    p = array(draw, st, hnp, (-9.0, 9.0), min_dims=1)
    return (p,), {"axis": draw(st.integers(-p.ndim, p.ndim - 1))}


@_named(
    "unwrap",
    np.unwrap,
    _unwrap_examples,
    "Differentiable :func:`numpy.unwrap`: the added multiples of the period are "
    "constants, so the derivative is 1.\n",
)
def unwrap(p: Any, discont: Any = None, axis: int = -1, *, period: float = 2 * np.pi) -> Any:
    if not any_traced((p, discont, period)):
        return np.unwrap(p, discont, axis, period=period)
    # The added multiples of the period depend on the values: a recorded node.
    return p + _unwrap_shift(p, discont, axis, period=period)


def _unwrap_shift_impl(p: Any, discont: Any, axis: int, *, period: Any) -> Any:
    """What ``unwrap`` adds to ``p``: multiples of the period (a function of the values)."""
    return np.unwrap(p, discont, axis, period=period) - p


def _trim_zeros_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    # No zeros at the ends: trimming them changes the shape, which finite differences
    # cannot follow (the edge-case tests cover trimming).
    x = array(draw, st, hnp, (0.5, 3.0), shape=(draw(st.integers(1, 5)),), magnitude=True)
    return (x,), {"trim": draw(st.sampled_from(["fb", "f", "b"]))}


@_named(
    "trim_zeros",
    np.trim_zeros,
    _trim_zeros_examples,
    "Differentiable :func:`numpy.trim_zeros` of a 1-D array (a slice of it).\n",
)
def trim_zeros(filt: Any, trim: TrimSide = "fb", axis: Any = None) -> Any:
    if type(filt) is not Tracer:
        return np.trim_zeros(filt, trim) if axis is None else np.trim_zeros(filt, trim, axis)
    if len(shape_of(filt)) != 1:
        raise NotImplementedError(
            "adfun.numpy.trim_zeros: only 1-D arrays are supported on traced values"
        )
    value = read_value(
        filt,
        "adfun.numpy.trim_zeros",
        "The length of its result depends on where the zeros are, and a "
        "staged program's shapes are fixed. Keep the shape with "
        "adfun.numpy.where(mask, filt, 0) for a mask of the kept entries, or "
        "call trim_zeros outside the staged function.",
    )
    nonzero = np.flatnonzero(value)
    if nonzero.size == 0:
        return filt[0:0]
    start = int(nonzero[0]) if "f" in trim.lower() else 0
    stop = int(nonzero[-1]) + 1 if "b" in trim.lower() else shape_of(filt)[0]
    return filt[start:stop]


_unwrap_shift = function_of_values("unwrap_shift", _unwrap_shift_impl)
