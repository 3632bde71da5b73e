"""The primitives every family builds on, whose rules use one another.

``sum`` and ``broadcast_to`` are each other's transposes (the cotangent of a sum is
broadcast back, that of a broadcast is summed by :func:`unbroadcast`); ``reshape`` shapes
a reduced cotangent for that broadcast; ``where`` selects in the rules of almost every
family.  They live together here, below the families (elementwise, complex, selection,
reductions, shape...), so that every import points down.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS, Params
from adfun._engine.trace import Tracer, bind_unary, call_primitive
from adfun.numpy._axes import kept_shape, ndim_of, normalize_axis, shape_of
from adfun.numpy._batching import broadcast_rule, elementwise, reduction, reshape_rule
from adfun.numpy._declare import Domain, complexified, export, primitive
from adfun.numpy._nondiff import nonzero
from adfun.numpy._typing import OrderACF


def shape_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """A test array of at least one dimension, for the shape primitives."""
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=1)
    return (x,), {}


def as_shape(shape: Any) -> tuple:
    """A shape argument (an int or a sequence of ints) as a tuple of ints."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(side) for side in shape)


# --- reshape -----------------------------------------------------------------------------


def _reshape_impl(a: Any, shape: tuple = ()) -> Any:
    return np.reshape(a, shape)


def _reshape_vjp(g: Any, ans: Any, x: Any, shape: tuple = ()) -> Any:
    return reshape(g, shape_of(x))


def _reshape_jvp(t: Any, ans: Any, x: Any, shape: tuple = ()) -> Any:
    return reshape(t, shape)


def _reshape_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x,), _ = shape_examples(draw, st, hnp)
    return (x,), {"shape": (-1,) if draw(st.booleans()) else (x.size, 1)}


_RESHAPE = primitive(
    "reshape",
    _reshape_impl,
    (_reshape_vjp,),
    (_reshape_jvp,),
    domain=Domain(examples=_reshape_examples),
    complex_domain=complexified(_reshape_examples),
    batch=reshape_rule,
)


@export(np.reshape, primitive=_RESHAPE, signature="reshape(a, shape)")
def reshape(a: Any, shape: Any = None, order: OrderACF = "C", **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.reshape`.

    Derivative: the cotangent is reshaped back to the input's shape.
    """
    if shape is None:
        shape = kwargs.pop("newshape", None)
    if order != "C" and type(a) is Tracer:
        raise TypeError("adfun.numpy.reshape: only order='C' is supported on traced values")
    if type(a) is not Tracer:
        return np.reshape(a, shape, order=order)
    return bind_unary(_RESHAPE, a, Params(shape=as_shape(shape)))


# --- broadcast_to and its transpose, unbroadcast ----------------------------------------


def _broadcast_to_impl(a: Any, shape: tuple = ()) -> Any:
    return np.broadcast_to(a, shape)


def _broadcast_to_vjp(g: Any, ans: Any, x: Any, shape: tuple = ()) -> Any:
    return unbroadcast(g, x)


def _broadcast_to_jvp(t: Any, ans: Any, x: Any, shape: tuple = ()) -> Any:
    return broadcast_to(t, shape)


def _broadcast_to_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    target = draw(hnp.broadcastable_shapes(shape, min_dims=len(shape), max_dims=4, max_side=3))
    x = array(draw, st, hnp, (-3.0, 3.0), shape=shape)
    full = np.broadcast_shapes(shape, target)
    return (x,), {"shape": tuple(full)}


_BROADCAST_TO = primitive(
    "broadcast_to",
    _broadcast_to_impl,
    (_broadcast_to_vjp,),
    (_broadcast_to_jvp,),
    domain=Domain(examples=_broadcast_to_examples),
    complex_domain=complexified(_broadcast_to_examples),
    batch=broadcast_rule,
)


@export(np.broadcast_to, primitive=_BROADCAST_TO, signature="broadcast_to(a, shape)")
def broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    """Differentiable :func:`numpy.broadcast_to`.

    Derivative: the cotangent is summed over the broadcast axes.
    """
    if type(array) is not Tracer:
        return np.broadcast_to(array, shape)
    return bind_unary(_BROADCAST_TO, array, Params(shape=as_shape(shape)))


def unbroadcast(g: Any, x: Any) -> Any:
    """Sum ``g`` (shaped like a broadcast result) down to the shape of ``x``."""
    shape = getattr(g, "shape", None)
    if shape is not None and shape == getattr(x, "shape", None):
        return g  # the common case, decided without building shape tuples
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


# --- sum, and what every reduction shares -------------------------------------------------


def reduction_examples(
    draw: Any, st: Any, hnp: Any, low: float = -3.0, high: float = 3.0, distinct: bool = False
) -> tuple:
    """A test array and ``axis``/``keepdims`` params for a reduction."""
    from adfun.numpy._examples import array, axis_params

    x = array(draw, st, hnp, (low, high), min_dims=0, distinct=distinct)
    return (x,), axis_params(draw, st, x.ndim)


def expand_reduced(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """Broadcast a reduced cotangent ``g`` back to the shape of ``x``."""
    shape = shape_of(x)
    if not keepdims and ndim_of(g) != 0:  # a 0-d g broadcasts as it is
        g = reshape(g, kept_shape(shape, axis))
    return broadcast_to(g, shape)


def reduce_traced(
    primitive: Any, numpy_fun: Any, a: Any, axis: Any, keepdims: bool, name: str
) -> Any:
    """Bind a reduction ``primitive`` with normalized ``axis``/``keepdims`` params."""
    if type(a) is Tracer:
        params = Params(axis=normalize_axis(axis, ndim_of(a), name), keepdims=bool(keepdims))
        return bind_unary(primitive, a, params)
    return numpy_fun(a, axis=axis, keepdims=keepdims)


def check_unsupported(name: str, a: Any, **options: Any) -> None:
    """Refuse the options (``dtype=``, ``out=``...) a traced reduction does not take."""
    given = {key: value for key, value in options.items() if value is not None}
    if given and type(a) is Tracer:
        raise TypeError(
            f"adfun.numpy.{name}: the argument(s) {sorted(given)} are not supported on traced "
            f"values; convert with .astype(...) first and drop out="
        )


def _sum_impl(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sum(a, axis=axis, keepdims=keepdims)


def _sum_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return expand_reduced(g, x, axis, keepdims)


def _sum_jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return sum(t, axis=axis, keepdims=keepdims)


_SUM = primitive(
    "sum",
    _sum_impl,
    (_sum_vjp,),
    (_sum_jvp,),
    domain=Domain(examples=reduction_examples),
    complex_domain=complexified(reduction_examples),
    batch=reduction,
)


@export(np.sum, primitive=_SUM, signature="sum(a, axis=None, keepdims=False)")
def sum(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,  # noqa: A001
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    """Differentiable :func:`numpy.sum`.

    Derivative: the cotangent is broadcast back over the summed axes.
    """
    check_unsupported("sum", a, dtype=dtype, out=out, **kwargs)
    if type(a) is not Tracer:
        return np.sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    return reduce_traced(_SUM, np.sum, a, axis, keepdims, "sum")


# --- where ---------------------------------------------------------------------------------


def _no_contribution(seed: Any, ans: Any, *args: Any, **params: Any) -> None:
    """The condition of ``where`` has a zero derivative."""
    return None


def _where_x(g: Any, ans: Any, condition: Any, x: Any, y: Any) -> Any:
    return unbroadcast(where(condition, g, 0.0), x)


def _where_y(g: Any, ans: Any, condition: Any, x: Any, y: Any) -> Any:
    return unbroadcast(where(condition, 0.0, g), y)


def _where_tangent_x(t: Any, ans: Any, condition: Any, x: Any, y: Any) -> Any:
    return where(condition, t, 0.0)


def _where_tangent_y(t: Any, ans: Any, condition: Any, x: Any, y: Any) -> Any:
    return where(condition, 0.0, t)


def _where_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import broadcast_arrays

    condition, x, y = broadcast_arrays(draw, st, hnp, ((-1.0, 1.0), (-3.0, 3.0), (-3.0, 3.0)))
    return (condition > 0, x, y), {}


_WHERE = primitive(
    "where",
    np.where,
    (_no_contribution, _where_x, _where_y),
    (_no_contribution, _where_tangent_x, _where_tangent_y),
    domain=Domain(examples=_where_examples),
    complex_domain=complexified(_where_examples, positions=(1, 2)),
    batch=elementwise,
)


@export(np.where, primitive=_WHERE, signature="where(condition, x, y)")
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """Differentiable :func:`numpy.where`: ``x`` where ``condition`` holds, else ``y``.

    The derivative follows the chain rule in each branch: the cotangent goes to ``x``
    where ``condition`` holds and to ``y`` elsewhere.  A branch that is masked away still
    contributes ``0 * (its derivative)``, which is NaN where that derivative is infinite
    or NaN; apply ``where`` to the *input* of such a branch as well ("double where").
    With only ``condition``, returns the indices of the true entries (a constant).
    """
    if x is None and y is None:
        return nonzero(condition)
    if x is None or y is None:
        raise TypeError("adfun.numpy.where: pass both x and y, or neither")
    return call_primitive(_WHERE, (condition, x, y), EMPTY_PARAMS)
