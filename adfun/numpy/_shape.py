"""Shape and layout: reshape, transpose, broadcasting, axes, joining, dtype casts."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import OPERATIONS, Params, Variadic
from adfun._engine.trace import Tracer, any_traced, bind, bind_unary
from adfun.numpy._axes import dtype_of, ndim_of, normalize_axis, shape_of
from adfun.numpy._base import broadcast_to, reshape, shape_examples
from adfun.numpy._batching import elementwise, joining_rule, transpose_rule
from adfun.numpy._declare import Domain, complexified, export, primitive

__all__ = [
    "astype",
    "broadcast_to",
    "concat",
    "concatenate",
    "expand_dims",
    "moveaxis",
    "normalize_axis_list",
    "permute_dims",
    "ravel",
    "reshape",
    "squeeze",
    "stack",
    "swapaxes",
    "transpose",
]


def ravel(a: Any, order: str = "C") -> Any:
    """Differentiable :func:`numpy.ravel` (a reshape to one dimension)."""
    return reshape(a, (-1,), order=order)


def _squeezed_shape(shape: tuple, axis: Any) -> tuple:
    axes = normalize_axis(axis, len(shape), "squeeze")
    if axes is None:
        return tuple(side for side in shape if side != 1)
    for index in axes:
        if shape[index] != 1:
            raise ValueError(
                f"adfun.numpy.squeeze: cannot select axis {index}, whose size is "
                f"{shape[index]}, not 1"
            )
    return tuple(side for index, side in enumerate(shape) if index not in axes)


def squeeze(a: Any, axis: Any = None) -> Any:
    """Differentiable :func:`numpy.squeeze` (a reshape)."""
    if type(a) is not Tracer:
        return np.squeeze(a, axis=axis)
    return reshape(a, _squeezed_shape(shape_of(a), axis))


def expand_dims(a: Any, axis: Any) -> Any:
    """Differentiable :func:`numpy.expand_dims` (a reshape)."""
    if type(a) is not Tracer:
        return np.expand_dims(a, axis)
    shape = list(shape_of(a))
    axes = normalize_axis(
        axis, len(shape) + len(axis if isinstance(axis, tuple) else (axis,)), "expand_dims"
    )
    for index in axes:
        shape.insert(index, 1)
    return reshape(a, tuple(shape))


# --- transpose, swapaxes, moveaxis -------------------------------------------------------


def _transpose_impl(a: Any, axes: Any = None) -> Any:
    return np.transpose(a, axes)


def _inverse_permutation(axes: Any, ndim: int) -> Any:
    if axes is None:
        return None
    return tuple(int(index) for index in np.argsort(axes))


def _transpose_vjp(g: Any, ans: Any, x: Any, axes: Any = None) -> Any:
    return transpose(g, _inverse_permutation(axes, ndim_of(x)))


def _transpose_jvp(t: Any, ans: Any, x: Any, axes: Any = None) -> Any:
    return transpose(t, axes)


def _transpose_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x,), _ = shape_examples(draw, st, hnp)
    axes = tuple(draw(st.permutations(range(x.ndim)))) if draw(st.booleans()) else None
    return (x,), {"axes": axes}


_TRANSPOSE = primitive(
    "transpose",
    _transpose_impl,
    (_transpose_vjp,),
    (_transpose_jvp,),
    domain=Domain(examples=_transpose_examples),
    complex_domain=complexified(_transpose_examples),
    batch=transpose_rule,
)


@export(np.transpose, primitive=_TRANSPOSE, signature="transpose(a, axes=None)")
def transpose(a: Any, axes: Any = None) -> Any:
    """Differentiable :func:`numpy.transpose`.

    Derivative: the cotangent is transposed by the inverse permutation.
    """
    if type(a) is not Tracer:
        return np.transpose(a, axes)
    if axes is not None:
        ndim = ndim_of(a)
        axes = tuple(int(index) % max(ndim, 1) for index in axes)
        if sorted(axes) != list(range(ndim)):
            raise ValueError(
                f"adfun.numpy.transpose: axes {axes} are not a permutation of the {ndim} axes"
            )
    return bind_unary(_TRANSPOSE, a, Params(axes=axes))


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """Differentiable :func:`numpy.swapaxes` (a transpose)."""
    if type(a) is not Tracer:
        return np.swapaxes(a, axis1, axis2)
    ndim = ndim_of(a)
    axes = list(range(ndim))
    first, second = axis1 % ndim, axis2 % ndim
    axes[first], axes[second] = axes[second], axes[first]
    return transpose(a, tuple(axes))


def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """Differentiable :func:`numpy.moveaxis` (a transpose)."""
    if type(a) is not Tracer:
        return np.moveaxis(a, source, destination)
    ndim = ndim_of(a)
    sources = normalize_axis_list(source, ndim)
    destinations = normalize_axis_list(destination, ndim)
    if len(sources) != len(destinations):
        raise ValueError(
            "adfun.numpy.moveaxis: source and destination must have the same number of elements"
        )
    order = [index for index in range(ndim) if index not in sources]
    for target, index in sorted(zip(destinations, sources)):
        order.insert(target, index)
    return transpose(a, tuple(order))


def normalize_axis_list(axis: Any, ndim: int) -> list:
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return [int(index) % ndim for index in axes]


# --- astype ------------------------------------------------------------------------------


def _astype_impl(a: Any, dtype: Any = None) -> Any:
    return np.asarray(a).astype(dtype) if not isinstance(a, np.generic) else a.astype(dtype)


def _astype_rule(seed: Any, ans: Any, x: Any, dtype: Any = None) -> Any:
    if dtype_of(ans).kind not in "fc" or dtype_of(x).kind not in "fc":
        return None  # a cast to integers (or from them) carries no derivative
    if dtype_of(x).kind == "f" and dtype_of(seed).kind == "c":
        seed = OPERATIONS["real"](seed)  # a real value's cotangent is its real part
    return astype(seed, dtype_of(x))


def _astype_jvp(t: Any, ans: Any, x: Any, dtype: Any = None) -> Any:
    if dtype_of(ans).kind not in "fc":
        return None
    if dtype_of(ans).kind == "f" and dtype_of(t).kind == "c":
        t = OPERATIONS["real"](t)  # a cast to reals keeps the real part
    return astype(t, dtype)


def _astype_complex_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import complex_array

    z = complex_array(draw, st, hnp, (-3.0, 3.0))
    dtype = draw(st.sampled_from([np.complex128, np.complex64]))
    return (z,), {"dtype": np.dtype(dtype)}


def _astype_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0))
    return (x,), {"dtype": np.dtype(np.float64)}


_ASTYPE = primitive(
    "astype",
    _astype_impl,
    (_astype_rule,),
    (_astype_jvp,),
    domain=Domain(examples=_astype_examples),
    batch=elementwise,
    complex_domain=Domain(examples=_astype_complex_examples),
)


@export(None, primitive=_ASTYPE, signature="astype(a, dtype)")
def astype(a: Any, dtype: Any, copy: bool = True) -> Any:
    """Cast ``a`` to ``dtype`` (like ``ndarray.astype``), differentiably.

    Derivative: the cotangent cast back to the input's dtype; none through a cast to an
    integer or boolean dtype.
    """
    if type(a) is not Tracer:
        return _astype_impl(a, np.dtype(dtype))
    return bind_unary(_ASTYPE, a, Params(dtype=np.dtype(dtype)))


# --- concatenate and stack ------------------------------------------------------------


def _block_zeros(like: Any, dtype: Any) -> Any:
    return np.zeros(shape_of(like), dtype)


def _concatenate_impl(*arrays: Any, axis: int = 0) -> Any:
    return np.concatenate(arrays, axis=axis)


def _concatenate_vjp(argnum: int, g: Any, ans: Any, *arrays: Any, axis: int = 0) -> Any:
    start = 0
    for array in arrays[:argnum]:
        start += shape_of(array)[axis]
    stop = start + shape_of(arrays[argnum])[axis]
    index = (slice(None),) * axis + (slice(start, stop),)
    return g[index]


def _concatenate_jvp(argnum: int, t: Any, ans: Any, *arrays: Any, axis: int = 0) -> Any:
    dtype = dtype_of(t)
    blocks = [
        t if index == argnum else _block_zeros(array, dtype) for index, array in enumerate(arrays)
    ]
    return concatenate(blocks, axis=axis)


def _joining_examples(draw: Any, st: Any, hnp: Any, stacking: bool = False) -> tuple:
    from adfun.numpy._examples import array

    count = draw(st.integers(1, 3))
    base = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    axis = draw(st.integers(0, len(base) - (0 if stacking else 1)))
    arrays = []
    for _ in range(count):
        shape = list(base)
        if not stacking:
            shape[axis] = draw(st.integers(1, 3))
        arrays.append(array(draw, st, hnp, (-3.0, 3.0), shape=tuple(shape)))
    return tuple(arrays), {"axis": axis}


_CONCATENATE = primitive(
    "concatenate",
    _concatenate_impl,
    Variadic(_concatenate_vjp),
    Variadic(_concatenate_jvp),
    domain=Domain(examples=_joining_examples),
    complex_domain=complexified(_joining_examples),
    batch=joining_rule,
)


@export(np.concatenate, primitive=_CONCATENATE, signature="concatenate(arrays, axis=0)")
def concatenate(arrays: Any, axis: Any = 0, out: Any = None, **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.concatenate`.

    Derivative: each input receives its own slice of the cotangent.
    """
    arrays = tuple(arrays)
    if not any_traced(arrays):
        return np.concatenate(arrays, axis=axis, out=out, **kwargs)
    if out is not None or kwargs:
        raise TypeError(
            "adfun.numpy.concatenate: out= and dtype= are not supported on traced values"
        )
    if axis is None:
        return concatenate([ravel(array) for array in arrays], axis=0)
    ndim = ndim_of(arrays[0])
    return bind(_CONCATENATE, arrays, Params(axis=normalize_axis(axis, ndim, "concatenate")[0]))


def _stack_impl(*arrays: Any, axis: int = 0) -> Any:
    return np.stack(arrays, axis=axis)


def _stack_vjp(argnum: int, g: Any, ans: Any, *arrays: Any, axis: int = 0) -> Any:
    return g[(slice(None),) * axis + (argnum,)]


def _stack_jvp(argnum: int, t: Any, ans: Any, *arrays: Any, axis: int = 0) -> Any:
    dtype = dtype_of(t)
    blocks = [
        t if index == argnum else _block_zeros(array, dtype) for index, array in enumerate(arrays)
    ]
    return stack(blocks, axis=axis)


def _stacking_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return _joining_examples(draw, st, hnp, stacking=True)


_STACK = primitive(
    "stack",
    _stack_impl,
    Variadic(_stack_vjp),
    Variadic(_stack_jvp),
    domain=Domain(examples=_stacking_examples),
    complex_domain=complexified(_stacking_examples),
    batch=joining_rule,
)


@export(np.stack, primitive=_STACK, signature="stack(arrays, axis=0)")
def stack(arrays: Any, axis: int = 0, out: Any = None, **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.stack`.

    Derivative: each input receives its own slice of the cotangent.
    """
    arrays = tuple(arrays)
    if not any_traced(arrays):
        return np.stack(arrays, axis=axis, out=out, **kwargs)
    if out is not None or kwargs:
        raise TypeError("adfun.numpy.stack: out= and dtype= are not supported on traced values")
    shapes = {shape_of(array) for array in arrays}
    if len(shapes) != 1:
        raise ValueError(
            f"adfun.numpy.stack: all input arrays must have the same shape, got {sorted(shapes)}"
        )
    ndim = ndim_of(arrays[0]) + 1
    return bind(_STACK, arrays, Params(axis=normalize_axis(axis, ndim, "stack")[0]))


def _squeeze_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=2))
    x = array(draw, st, hnp, (-3.0, 3.0), shape=shape)
    ones = [index for index, side in enumerate(shape) if side == 1]
    axis = draw(st.one_of(st.none(), st.sampled_from(ones))) if ones else None
    return (x,), {"axis": axis}


def _expand_dims_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x,), _ = shape_examples(draw, st, hnp)
    return (x, draw(st.integers(-x.ndim - 1, x.ndim))), {}


def _swapaxes_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x,), _ = shape_examples(draw, st, hnp)
    return (x, draw(st.integers(-x.ndim, x.ndim - 1)), draw(st.integers(0, x.ndim - 1))), {}


def _moveaxis_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x,), _ = shape_examples(draw, st, hnp)
    source = draw(st.integers(0, x.ndim - 1))
    return (x, source, draw(st.integers(-x.ndim, x.ndim - 1))), {}


ravel = export(np.ravel, domain=Domain(examples=shape_examples))(ravel)
squeeze = export(np.squeeze, domain=Domain(examples=_squeeze_examples))(squeeze)
expand_dims = export(np.expand_dims, domain=Domain(examples=_expand_dims_examples))(expand_dims)
swapaxes = export(np.swapaxes, domain=Domain(examples=_swapaxes_examples))(swapaxes)
moveaxis = export(np.moveaxis, domain=Domain(examples=_moveaxis_examples))(moveaxis)

permute_dims = transpose  # NumPy's array-API names for the same functions
concat = concatenate
