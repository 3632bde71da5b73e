"""Array creation that can involve traced values: ``array``/``asarray`` of traced values
or of (nested) lists holding them, ``full`` and ``full_like`` with a traced fill value,
``linspace``/``logspace``/``geomspace`` between traced ends, and ``vander``.

On plain arguments every function is NumPy's own.  Checks and choices made on traced
values (``geomspace``'s sign, ``asarray_chkfinite``'s check) are recorded as nodes, so a
staged graph makes them on its new inputs; ``arange`` between traced ends, whose length
depends on the values, refuses staging.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from adfun._engine.trace import Tracer, any_traced, full_value, read_value
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._declare import Domain, export, function_of_values
from adfun.numpy._elementwise import power
from adfun.numpy._math import log10
from adfun.numpy._nondiff import any as any_true
from adfun.numpy._nondiff import equal
from adfun.numpy._scans import cumprod
from adfun.numpy._selection import where
from adfun.numpy._shape import (
    astype,
    broadcast_to,
    concatenate,
    expand_dims,
    moveaxis,
    reshape,
    stack,
)
from adfun.numpy._typing import OrderCF, OrderKACF


def _contains_tracer(value: Any) -> bool:
    if type(value) is Tracer:
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_tracer(item) for item in value)
    return False


def _assemble(value: Any) -> Any:
    """A traced array from a tracer or a nested list/tuple holding tracers (by ``stack``)."""
    if type(value) is Tracer:
        return value
    if isinstance(value, (list, tuple)):
        if not _contains_tracer(value):
            return np.asarray(value)
        items = [_assemble(item) for item in value]
        dtype = np.result_type(*(dtype_of(item) for item in items))
        items = [item if type(item) is Tracer else np.asarray(item, dtype) for item in items]
        return stack(items, axis=0)
    return np.asarray(value)


def _to_array(name: str, obj: Any, dtype: Any, ndmin: int = 0) -> Any:
    result = _assemble(obj)
    if dtype is not None and np.dtype(dtype) != dtype_of(result):
        result = astype(result, dtype)
    missing = ndmin - len(shape_of(result))
    if missing > 0:
        result = reshape(result, (1,) * missing + shape_of(result))
    return result


def _nested_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    rows = [array(draw, st, hnp, (-3.0, 3.0), shape=shape) for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        return ([list(rows)] if draw(st.booleans()) else list(rows),), {}
    return (rows[0],), {}


def _array_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (obj,), _ = _nested_examples(draw, st, hnp)
    return (obj,), {"ndmin": draw(st.integers(0, 4))}


def _as_array_function(name: str, numpy_fun: Callable) -> Callable:
    def fun(a: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
        if not _contains_tracer(a):
            return numpy_fun(a, dtype, *args, **kwargs)
        result = _to_array(name, a, dtype, 1 if name in _AT_LEAST_1D else 0)
        if name == "asarray_chkfinite":
            # The check is a recorded node (a staged call checks its own values); ``where``
            # of the same value in both branches keeps it in the graph.
            return where(_all_finite(result), result, result)
        return result

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = (
        f":func:`numpy.{name}`, also of traced values and of (nested) lists holding them.\n\n"
        f"A traced value is returned as is (cast to ``dtype`` if given); a list of traced "
        f"values is stacked, so the derivative flows back to each item.\n"
    )
    return export(numpy_fun, domain=Domain(examples=_nested_examples), name=name)(fun)


_AT_LEAST_1D = ("ascontiguousarray", "asfortranarray")


def _all_finite_impl(value: Any) -> Any:
    """``True`` when ``value`` has no inf or NaN; ``ValueError`` (as NumPy) otherwise."""
    if not np.all(np.isfinite(value)):
        raise ValueError("adfun.numpy.asarray_chkfinite: array must not contain infs or NaNs")
    return np.True_


def _array_fun(
    object: Any,
    dtype: Any = None,
    *,
    copy: Any = True,
    order: OrderKACF = "K",  # noqa: A002
    subok: bool = False,
    ndmin: int = 0,
    like: Any = None,
) -> Any:
    if not _contains_tracer(object):
        extra = {} if like is None else {"like": like}
        return np.array(object, dtype, copy=copy, order=order, subok=subok, ndmin=ndmin, **extra)
    return _to_array("array", object, dtype, ndmin)


_array_fun.__name__ = _array_fun.__qualname__ = "array"
_array_fun.__doc__ = """:func:`numpy.array`, also of traced values and lists holding them.

A list of traced values is stacked, so the derivative flows back to each item.

Examples
--------
>>> import adfun as ad, adfun.numpy as anp
>>> float(ad.grad(lambda x: anp.sum(anp.array([x, 2.0 * x, 3.0])))(1.0))
3.0
"""
array = export(None, domain=Domain(examples=_array_examples), name="array")(_array_fun)
asarray = _as_array_function("asarray", np.asarray)
asanyarray = _as_array_function("asanyarray", np.asanyarray)
ascontiguousarray = _as_array_function("ascontiguousarray", np.ascontiguousarray)
asfortranarray = _as_array_function("asfortranarray", np.asfortranarray)
asarray_chkfinite = _as_array_function("asarray_chkfinite", np.asarray_chkfinite)


@export(np.require, domain=Domain(examples=_nested_examples))
def require(a: Any, dtype: Any = None, requirements: Any = None, *, like: Any = None) -> Any:
    """:func:`numpy.require`; a traced value is returned as is (cast to ``dtype``)."""
    if not _contains_tracer(a):
        extra = {} if like is None else {"like": like}
        return np.require(a, dtype, requirements, **extra)
    return _to_array("require", a, dtype)


# --- full and full_like ------------------------------------------------------------------


def _full_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    return (shape, array(draw, st, hnp, (-3.0, 3.0), shape=())), {}


@export(np.full, domain=Domain(examples=_full_examples))
def full(
    shape: Any, fill_value: Any, dtype: Any = None, order: OrderCF = "C", **kwargs: Any
) -> Any:
    """:func:`numpy.full`; differentiable in a traced ``fill_value`` (a broadcast)."""
    if type(fill_value) is not Tracer:
        return np.full(shape, fill_value, dtype, order=order, **kwargs)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    value = fill_value if dtype is None else astype(fill_value, dtype)
    return broadcast_to(value, shape)


def _full_like_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    like = np.zeros(tuple(draw(st.lists(st.integers(1, 3), max_size=3))))
    return (like, array(draw, st, hnp, (-3.0, 3.0), shape=())), {}


@export(np.full_like, domain=Domain(examples=_full_like_examples))
def full_like(
    a: Any,
    fill_value: Any,
    dtype: Any = None,
    order: OrderKACF = "K",
    subok: bool = True,
    shape: Any = None,
    **kwargs: Any,
) -> Any:
    """:func:`numpy.full_like`; differentiable in a traced ``fill_value``, constant in ``a``."""
    if type(fill_value) is not Tracer:
        return np.full_like(full_value(a), fill_value, dtype, order, subok, shape, **kwargs)
    target_shape = (
        shape_of(a)
        if shape is None
        else ((int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape))
    )
    value = astype(fill_value, dtype if dtype is not None else dtype_of(a))
    return broadcast_to(value, target_shape)


# --- spaced sequences ---------------------------------------------------------------------


def _linspace_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import broadcast_arrays

    start, stop = broadcast_arrays(draw, st, hnp, ((-3.0, 3.0), (-3.0, 3.0)))
    kwargs = {"num": draw(st.integers(1, 5)), "endpoint": draw(st.booleans())}
    ndim = np.broadcast_shapes(start.shape, stop.shape).__len__()
    if ndim:
        kwargs["axis"] = draw(st.integers(-ndim - 1, ndim))
    return (start, stop), kwargs


def _linspace(start: Any, stop: Any, num: int, endpoint: bool, axis: int) -> tuple:
    if num < 0:
        raise ValueError(f"adfun.numpy.linspace: number of samples, {num}, must be non-negative")
    divisor = (num - 1) if endpoint else num
    shape = np.broadcast_shapes(shape_of(start), shape_of(stop))
    steps = np.arange(num, dtype=np.float64).reshape((-1,) + (1,) * len(shape))
    delta = stop - start
    if divisor > 0:
        step = delta / divisor
        # NumPy's order of operations: if any step is 0 (a denormal delta), every entry is
        # ``(k / divisor) * delta``, else ``k * step`` (a recorded choice when traced).
        result = where(any_true(equal(step, 0)), (steps / divisor) * delta, steps * step) + start
    else:
        step = np.nan
        result = steps * delta + start
    if endpoint and num > 1:
        result = concatenate(
            [result[:-1], reshape(broadcast_to(stop, shape), (1,) + shape)], axis=0
        )
    if axis != 0:
        result = moveaxis(result, 0, axis)
    return result, step


@export(np.linspace, domain=Domain(examples=_linspace_examples))
def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
    **kwargs: Any,
) -> Any:
    """:func:`numpy.linspace`, differentiable in ``start`` and ``stop``.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> float(ad.grad(lambda b: anp.sum(anp.linspace(0.0, b, 5)))(2.0))
    2.5
    """
    if type(start) is not Tracer and type(stop) is not Tracer:
        # NumPy's stubs overload on the literal value of retstep.
        return np.linspace(  # type: ignore[call-overload]
            start, stop, num, endpoint, retstep, dtype, axis, **kwargs
        )
    result, step = _linspace(start, stop, int(num), endpoint, axis)
    if dtype is not None:
        result = astype(result, dtype)
    return (result, step) if retstep else result


def _logspace_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (start, stop), kwargs = _linspace_examples(draw, st, hnp)
    kwargs["base"] = draw(st.sampled_from([10.0, 2.0]))
    return (np.asarray(start * 0.5), np.asarray(stop * 0.5)), kwargs


@export(np.logspace, domain=Domain(examples=_logspace_examples))
def logspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    base: Any = 10.0,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """:func:`numpy.logspace`, differentiable in ``start``, ``stop`` and ``base``."""
    if not any_traced((start, stop, base)):
        return np.logspace(start, stop, num, endpoint, base, dtype, axis)
    exponents, _ = _linspace(start, stop, int(num), endpoint, 0)
    if type(base) is Tracer or np.ndim(base):
        base = expand_dims(base, 0) if len(shape_of(base)) else base
    result = power(base, exponents)
    if axis != 0:
        result = moveaxis(result, 0, axis)
    return result if dtype is None else astype(result, dtype)


def _geomspace_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    start = array(draw, st, hnp, (0.5, 3.0), shape=())
    stop = array(draw, st, hnp, (0.5, 3.0), shape=())
    sign = draw(st.sampled_from([1.0, -1.0]))
    return (np.asarray(start * sign), np.asarray(stop * sign)), {
        "num": draw(st.integers(1, 5)),
        "endpoint": draw(st.booleans()),
    }


@export(np.geomspace, domain=Domain(examples=_geomspace_examples))
def geomspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None, axis: int = 0
) -> Any:
    """:func:`numpy.geomspace` of real ends of one sign, differentiable in both ends."""
    if type(start) is not Tracer and type(stop) is not Tracer:
        return np.geomspace(start, stop, num, endpoint, dtype, axis)
    # The sign of the ends (and their checks) is a recorded node of the values.
    sign = _geomspace_sign(start, stop)
    exponents, _ = _linspace(log10(start * sign), log10(stop * sign), int(num), endpoint, 0)
    result = power(10.0, exponents) * sign
    num = int(num)
    if num > 0:
        first = reshape(broadcast_to(start, shape_of(result)[1:]), (1,) + shape_of(result)[1:])
        pieces = [first, result[1:]]
        if endpoint and num > 1:
            last = reshape(broadcast_to(stop, shape_of(result)[1:]), (1,) + shape_of(result)[1:])
            pieces = [first, result[1:-1], last]
        result = concatenate(pieces, axis=0)
    if axis != 0:
        result = moveaxis(result, 0, axis)
    return result if dtype is None else astype(result, dtype)


def _vander_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (0.2, 2.0), shape=(draw(st.integers(1, 4)),), magnitude=True)
    x[0] = 0.0 if draw(st.booleans()) else x[0]
    return (x,), {
        "N": draw(st.one_of(st.none(), st.integers(0, 4))),
        "increasing": draw(st.booleans()),
    }


@export(np.vander, domain=Domain(examples=_vander_examples))
def vander(x: Any, N: Any = None, increasing: bool = False) -> Any:  # noqa: N803 - NumPy's
    """:func:`numpy.vander`, differentiable (running products, exact at ``x = 0``)."""
    if type(x) is not Tracer:
        return np.vander(x, N, increasing)
    if len(shape_of(x)) != 1:
        raise ValueError("adfun.numpy.vander: x must be a one-dimensional array or sequence.")
    count = shape_of(x)[0] if N is None else int(N)
    if count == 0:
        return np.zeros((shape_of(x)[0], 0), dtype_of(x))
    column = reshape(x, (-1, 1))
    factors = concatenate(
        [
            np.ones((shape_of(x)[0], 1), dtype_of(x)),
            broadcast_to(column, (shape_of(x)[0], count - 1)),
        ],
        axis=1,
    )
    powers = cumprod(factors, axis=1)
    return powers if increasing else powers[:, ::-1]


def _geomspace_sign_impl(start: Any, stop: Any) -> Any:
    """The common sign of ``geomspace``'s ends; errors for a zero or for mixed signs."""
    start, stop = np.asarray(start), np.asarray(stop)
    if np.any(start == 0) or np.any(stop == 0):
        raise ValueError("adfun.numpy.geomspace: geometric sequence cannot include zero")
    sign = np.sign(start)
    if np.any(np.sign(stop) != sign):
        raise NotImplementedError(
            "adfun.numpy.geomspace: ends of different signs (complex "
            "results) are not supported on traced values"
        )
    return sign


_geomspace_sign = function_of_values("geomspace_sign", _geomspace_sign_impl)
_all_finite = function_of_values("all_finite", _all_finite_impl)


def _arange_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    start = array(draw, st, hnp, (-3.0, 3.0), shape=())
    step = array(draw, st, hnp, (0.3, 1.0), shape=())
    # Ends well inside a step: the length must not change under a small perturbation.
    count = draw(st.integers(1, 6))
    stop = np.asarray(start + (count - 0.5) * step)
    return (start, stop, step), {}


@export(np.arange, domain=Domain(examples=_arange_examples))
def arange(*args: Any, **kwargs: Any) -> Any:
    """:func:`numpy.arange`, differentiable in traced float ``start`` and ``step``.

    The number of entries is decided by the values (a constant); entry ``k`` is
    ``start + k * step``, so its derivative is 1 in ``start`` and ``k`` in ``step``.
    As that number depends on the values, traced bounds raise
    :class:`~adfun.StagingError` under ``jit`` or ``trace`` (``start + step * arange(n)``
    with a constant ``n`` stages).
    """
    values = list(args) + [kwargs.get(key) for key in ("start", "stop", "step") if key in kwargs]
    if not any_traced(values):
        return np.arange(*args, **kwargs)
    names = ["start", "stop", "step"]
    given = dict(zip(names if len(args) > 1 else ["stop"], args))
    for key in names:
        if key in kwargs:
            given[key] = kwargs.pop(key)
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"adfun.numpy.arange: unsupported keyword arguments {sorted(kwargs)}")
    start = given.get("start", 0)
    step = given.get("step", 1)
    bounds = [_bound(value) for value in (start, given["stop"], step)]
    concrete = np.arange(*bounds, dtype=dtype)
    counts = np.arange(concrete.shape[0], dtype=concrete.dtype)
    result = start + step * counts if concrete.dtype.kind == "f" else concrete
    return result if type(result) is Tracer else concrete


def _bound(value: Any) -> Any:
    """A bound of ``arange``: it decides the length, so its value is read (no staging)."""
    if type(value) is not Tracer:
        return value
    return read_value(
        value,
        "adfun.numpy.arange",
        "The number of entries depends on the values of start, stop and step, "
        "and a staged program's shapes are fixed. With a known count n, write "
        "start + step * adfun.numpy.arange(n), or pass the bounds as "
        "constants (Python numbers are static arguments of ad.jit).",
    )
