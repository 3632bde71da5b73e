"""NumPy functions that take functions: ``piecewise``, ``apply_along_axis`` and
``apply_over_axes``.  The user's functions are called on traced values, so they are
differentiated like any other code."""

from __future__ import annotations

import itertools
from typing import Any, Callable

import numpy as np

from adfun._engine.trace import Tracer, read_value
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._declare import Domain, export
from adfun.numpy._indexing import untake
from adfun.numpy._products import outer
from adfun.numpy._reductions import sum  # noqa: A004
from adfun.numpy._shape import astype, broadcast_to, expand_dims, moveaxis, reshape, stack
from adfun.numpy._sorting import sort
from adfun.numpy._values import concrete, contains_tracer, take_out


def _piecewise_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=0)
    conditions = [x < -1.0, (x >= -1.0) & (x < 1.0)]
    functions: list = [np.sin, lambda v: v * v]
    if draw(st.booleans()):
        functions.append(lambda v: 2.0 * v)  # the "otherwise" function
    else:
        functions[0] = -1.0  # a constant piece
    return (x, conditions, functions), {}


@export(np.piecewise, domain=Domain(examples=_piecewise_examples))
def piecewise(x: Any, condlist: Any, funclist: Any, *args: Any, **kw: Any) -> Any:
    """Differentiable :func:`numpy.piecewise`.

    As in NumPy, each function is called only on the entries its condition selects (so a
    piece never sees values outside its domain) and a later condition wins; the pieces
    are scattered back into place, and each entry's derivative is its piece's.

    Conditions computed from traced values decide how many entries each function sees:
    under ``jit`` or ``trace`` they raise :class:`~adfun.StagingError` (write the
    function with ``where`` there); constant conditions stage.
    """
    if type(x) is not Tracer:
        if not contains_tracer(condlist):
            return np.piecewise(x, condlist, funclist, *args, **kw)
        x = np.asarray(x)
    shape = shape_of(x)
    if (
        (type(condlist) is Tracer or isinstance(condlist, np.ndarray))
        and shape_of(condlist) == shape
        and dtype_of(condlist) == np.bool_
    ):
        condlist = [condlist]
    conditions = [
        np.broadcast_to(np.asarray(_condition_value(c), dtype=bool), shape) for c in condlist
    ]
    if len(funclist) == len(conditions) + 1:
        otherwise = ~np.any(conditions, axis=0) if conditions else np.ones(shape, bool)
        conditions.append(otherwise)
    elif len(funclist) != len(conditions):
        raise ValueError(
            f"adfun.numpy.piecewise: with {len(conditions)} condition(s), either "
            f"{len(conditions)} or {len(conditions) + 1} functions are expected"
        )
    taken = np.zeros(shape, dtype=bool)
    result = None
    dtype = dtype_of(x)
    # Later conditions win: walk backwards and give each entry to the first piece seen.
    for condition, piece in reversed(list(zip(conditions, funclist))):
        mine = condition & ~taken
        taken |= condition
        if not np.any(mine):
            continue
        if callable(piece):
            values = piece(x[mine], *args, **kw)
        else:
            values = np.full(int(np.count_nonzero(mine)), piece, dtype=dtype)
        if type(values) is Tracer:
            values = broadcast_to(values, (int(np.count_nonzero(mine)),))
            contribution = untake(astype(values, dtype), mine, shape)
        else:
            contribution = np.zeros(shape, dtype)
            contribution[mine] = values
        result = contribution if result is None else result + contribution
    if result is None:
        return x * 0.0
    return result if type(result) is Tracer else x * 0.0 + result


def _condition_value(condition: Any) -> Any:
    """A condition of ``piecewise``: its value, read with :func:`read_value`."""
    leaves: list = []
    take_out(condition, leaves)
    for leaf in leaves:
        read_value(
            leaf,
            "adfun.numpy.piecewise",
            "Its traced conditions decide which entries each function is called on, "
            "and a staged program's shapes are fixed. Write it with "
            "adfun.numpy.where(condition, f(x), g(x)) instead (apply where to x as "
            "well where a function is not defined everywhere), or pass constant "
            "conditions.",
        )
    return concrete(condition)


def _along_axis_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=1, distinct=True)
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    function = draw(st.sampled_from(["sum", "sort", "outer"]))
    functions = {
        "sum": lambda v: _sum(v * v),
        "sort": lambda v: _sort(v),
        "outer": lambda v: _outer(v, v),
    }
    return (functions[function], axis, x), {}


@export(np.apply_along_axis, domain=Domain(examples=_along_axis_examples))
def apply_along_axis(func1d: Callable, axis: int, arr: Any, *args: Any, **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.apply_along_axis`: ``func1d`` is called on each traced
    1-D slice and the results are stacked as NumPy stacks them."""
    if type(arr) is not Tracer:
        return np.apply_along_axis(func1d, axis, arr, *args, **kwargs)
    shape = shape_of(arr)
    axis = int(axis) % len(shape)
    moved = moveaxis(arr, axis, -1)
    outer_shape = shape_of(moved)[:-1]
    if 0 in outer_shape:
        raise ValueError(
            "adfun.numpy.apply_along_axis: cannot apply_along_axis when any "
            "iteration dimensions are 0"
        )
    results = [
        func1d(moved[index], *args, **kwargs)
        for index in itertools.product(*(range(side) for side in outer_shape))
    ]
    results = [result if type(result) is Tracer else np.asarray(result) for result in results]
    stacked = stack(results, axis=0)
    result_shape = shape_of(stacked)[1:]
    stacked = reshape(stacked, outer_shape + result_shape)
    # NumPy puts the function's output axes where ``axis`` was.
    count = len(result_shape)
    if count == 0:
        return stacked
    source = tuple(range(len(outer_shape), len(outer_shape) + count))
    return moveaxis(stacked, source, tuple(range(axis, axis + count)))


def _over_axes_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=2)
    axes = sorted(draw(st.sets(st.integers(0, x.ndim - 1), min_size=1)))
    return (_sum, x, axes), {}


@export(np.apply_over_axes, domain=Domain(examples=_over_axes_examples))
def apply_over_axes(func: Callable, a: Any, axes: Any) -> Any:
    """Differentiable :func:`numpy.apply_over_axes`: ``func(a, axis)`` applied in turn."""
    if type(a) is not Tracer:
        return np.apply_over_axes(func, a, axes)
    ndim = len(shape_of(a))
    for axis in np.atleast_1d(axes):
        axis = int(axis) % ndim
        result = func(a, axis)
        if len(shape_of(result)) == ndim:
            a = result
        elif len(shape_of(result)) == ndim - 1:
            a = expand_dims(result, axis)
        else:
            raise ValueError(
                "adfun.numpy.apply_over_axes: function is not returning an array "
                "of the correct shape"
            )
    return a


def _sum(value: Any, axis: Any = None) -> Any:
    return sum(value, axis=axis)


def _sort(value: Any) -> Any:
    return sort(value)


def _outer(a: Any, b: Any) -> Any:
    return outer(a, b)
