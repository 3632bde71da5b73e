"""Joining and splitting: ``hstack``, ``vstack``, ``dstack``, ``column_stack``, ``block``,
``append``, ``insert``, ``split`` and its variants.

All are composites of ``concatenate``, ``stack``, reshapes and slicing, so their
derivatives are those of these primitives.  ``insert``'s positions, when traced, are
arguments of a recorded node; traced split points (which decide the pieces' lengths)
refuse staging.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from adfun._engine.trace import Tracer, any_traced, read_value
from adfun.numpy._axes import dtype_of, ndim_of, normalize_axis, shape_of
from adfun.numpy._declare import Domain, export, function_of_values
from adfun.numpy._indexing import getitem
from adfun.numpy._layout import atleast_1d, atleast_2d, atleast_3d
from adfun.numpy._shape import astype, concatenate, ravel, reshape
from adfun.numpy._values import concrete, contains_tracer, take_out


def _arrays(draw: Any, st: Any, hnp: Any, shapes: list) -> tuple:
    from adfun.numpy._examples import array

    return tuple(array(draw, st, hnp, (-3.0, 3.0), shape=shape) for shape in shapes)


def _join_examples(axis_of: Callable, min_dims: int = 1, max_dims: int = 3) -> Callable:
    def examples(draw: Any, st: Any, hnp: Any) -> tuple:
        base = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=3))
        axis = axis_of(len(base))
        shapes = []
        for _ in range(draw(st.integers(1, 3))):
            shape = list(base)
            if axis is not None and axis < len(shape):
                shape[axis] = draw(st.integers(1, 3))
            shapes.append(tuple(shape))
        return (list(_arrays(draw, st, hnp, shapes)),), {}

    return examples


def _joiner(name: str, numpy_fun: Callable, examples: Callable, build: Callable) -> Callable:
    def fun(tup: Any, **kwargs: Any) -> Any:
        items = list(tup)
        if not any_traced(items):
            return numpy_fun(items, **kwargs)
        if kwargs:
            raise TypeError(
                f"adfun.numpy.{name}: keyword arguments {sorted(kwargs)} are not "
                f"supported on traced values"
            )
        return build(items)

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = (
        f"Differentiable :func:`numpy.{name}` (``concatenate`` of reshaped "
        f"inputs).\n\nDerivative: each input receives its slice of the "
        f"cotangent.\n"
    )
    return export(numpy_fun, domain=Domain(examples=examples), name=name)(fun)


def _hstack(items: list) -> Any:
    items = [atleast_1d(item) for item in items]
    return concatenate(items, axis=0 if ndim_of(items[0]) == 1 else 1)


def _vstack(items: list) -> Any:
    return concatenate([atleast_2d(item) for item in items], axis=0)


def _dstack(items: list) -> Any:
    return concatenate([atleast_3d(item) for item in items], axis=2)


def _column_stack(items: list) -> Any:
    columns = []
    for item in items:
        if ndim_of(item) < 2:
            item = reshape(item, (-1, 1))
        columns.append(item)
    return concatenate(columns, axis=1)


hstack = _joiner("hstack", np.hstack, _join_examples(lambda ndim: min(1, ndim - 1)), _hstack)
vstack = _joiner("vstack", np.vstack, _join_examples(lambda ndim: 0, min_dims=2), _vstack)
dstack = _joiner("dstack", np.dstack, _join_examples(lambda ndim: 2), _dstack)
column_stack = _joiner(
    "column_stack", np.column_stack, _join_examples(lambda ndim: None, max_dims=1), _column_stack
)


def _block_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    heights = [draw(st.integers(1, 2)) for _ in range(2)]
    widths = [draw(st.integers(1, 2)) for _ in range(2)]
    a, b, c, d = _arrays(
        draw,
        st,
        hnp,
        [
            (heights[0], widths[0]),
            (heights[0], widths[1]),
            (heights[1], widths[0]),
            (heights[1], widths[1]),
        ],
    )
    del rows, cols
    return ([[a, b], [c, d]],), {}


def _has_tracer(nested: Any) -> bool:
    if type(nested) is Tracer:
        return True
    if isinstance(nested, list):
        return any(_has_tracer(item) for item in nested)
    return False


def _depth(nested: Any) -> int:
    depth = 0
    while isinstance(nested, list):
        if not nested:
            raise ValueError("adfun.numpy.block: lists cannot be empty")
        nested = nested[0]
        depth += 1
    return depth


# block assembles its nested lists itself (NumPy's dispatcher walks only exact lists).
@export(np.block, domain=Domain(examples=_block_examples), arraylike=False)
def block(arrays: Any) -> Any:
    """Differentiable :func:`numpy.block` (nested ``concatenate``).

    Derivative: each block receives its part of the cotangent.
    """
    if not _has_tracer(arrays):
        return np.block(arrays)
    depth = _depth(arrays)
    leaves: list = []

    def collect(nested: Any) -> None:
        if isinstance(nested, list):
            for item in nested:
                collect(item)
        else:
            leaves.append(nested)

    collect(arrays)
    result_ndim = max([depth] + [ndim_of(leaf) for leaf in leaves])

    def build(nested: Any, level: int) -> Any:
        if not isinstance(nested, list):
            shape = shape_of(nested)
            full = (1,) * (result_ndim - len(shape)) + shape
            return reshape(nested, full) if full != shape else nested
        parts = [build(item, level + 1) for item in nested]
        return concatenate(parts, axis=result_ndim - depth + level)

    return build(arrays, 0)


# --- append and insert ---------------------------------------------------------------------


def _append_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    if draw(st.booleans()):
        other = list(shape)
        other[0] = draw(st.integers(1, 3))
        return _arrays(draw, st, hnp, [shape, tuple(other)]), {"axis": 0}
    return _arrays(draw, st, hnp, [shape, (draw(st.integers(1, 3)),)]), {}


@export(np.append, domain=Domain(examples=_append_examples))
def append(arr: Any, values: Any, axis: Any = None) -> Any:
    """Differentiable :func:`numpy.append` (``concatenate``; flattened when ``axis=None``)."""
    if type(arr) is not Tracer and type(values) is not Tracer:
        return np.append(arr, values, axis=axis)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def _insert_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x,) = _arrays(
        draw, st, hnp, [draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))]
    )
    axis = draw(st.one_of(st.none(), st.integers(0, x.ndim - 1)))
    length = x.size if axis is None else x.shape[axis]
    obj = draw(st.integers(0, length))
    (values,) = _arrays(draw, st, hnp, [()])
    return (x, obj, values), {"axis": axis}


@export(np.insert, domain=Domain(examples=_insert_examples))
def insert(arr: Any, obj: Any, values: Any, axis: Any = None) -> Any:
    """Differentiable :func:`numpy.insert` in ``arr`` and ``values``.

    NumPy inserts entry numbers into an array of entry numbers (so its broadcasting rules
    hold exactly); the result gathers from ``arr`` and ``values``.
    """
    traced_obj = contains_tracer(obj)
    if type(arr) is not Tracer and type(values) is not Tracer and not traced_obj:
        return np.insert(arr, obj, values, axis=axis)
    arr_shape = shape_of(arr)
    values_shape = shape_of(values)
    size = int(np.prod(arr_shape, dtype=np.int64))
    value_count = int(np.prod(values_shape, dtype=np.int64))
    if traced_obj:
        leaves: list = []
        take_out(obj, leaves)
        for leaf in leaves:
            if dtype_of(leaf) == np.bool_:
                read_value(
                    leaf,
                    "adfun.numpy.insert",
                    "A boolean obj inserts at its true entries, whose number depends "
                    "on the values. Pass integer positions, or a constant mask.",
                )
    # Where each entry of the result comes from (a recorded node for traced positions).
    numbers = _insert_numbers(
        np.arange(size).reshape(arr_shape),
        obj,
        np.arange(size, size + value_count).reshape(values_shape),
        axis=axis,
    )
    return getitem(concatenate([ravel(arr), ravel(astype(values, dtype_of(arr)))], axis=0), numbers)


# --- splitting -----------------------------------------------------------------------------


def _split_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    (x,) = _arrays(draw, st, hnp, [shape])
    axis = draw(st.integers(0, x.ndim - 1))
    sections = draw(st.sampled_from([1, [1], [0, 2]]))
    return (x, sections), {"axis": axis}


def _even_split_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    shape = list(draw(hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=3)))
    shape = [side * 2 for side in shape]
    (x,) = _arrays(draw, st, hnp, [tuple(shape)])
    return (x, 2), {}


def _pieces(ary: Any, numpy_fun: Callable, args: tuple, kwargs: dict) -> list:
    """Split with NumPy's own rules, applied to entry numbers; gather each piece."""
    shape = shape_of(ary)
    numbers = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    flat = ravel(ary)
    return [flat[piece] for piece in numpy_fun(numbers, *args, **kwargs)]


def _splitter(name: str, numpy_fun: Callable, examples: Callable) -> Callable:
    def fun(ary: Any, indices_or_sections: Any, *args: Any, **kwargs: Any) -> Any:
        if type(ary) is not Tracer and not contains_tracer(indices_or_sections):
            return numpy_fun(ary, indices_or_sections, *args, **kwargs)
        leaves: list = []
        take_out(indices_or_sections, leaves)
        for leaf in leaves:
            read_value(
                leaf,
                f"adfun.numpy.{name}",
                "The split points decide the lengths of the pieces, and a staged "
                "program's shapes are fixed. Pass them as constants (Python ints or "
                "a NumPy array).",
            )
        if type(ary) is not Tracer:
            return numpy_fun(ary, concrete(indices_or_sections), *args, **kwargs)
        return _pieces(ary, numpy_fun, (concrete(indices_or_sections),) + args, kwargs)

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = (
        f"Differentiable :func:`numpy.{name}`: a list of pieces of the array.\n\n"
        f"Derivative: each piece's cotangent goes back to its place.\n"
    )
    return export(numpy_fun, domain=Domain(examples=examples), name=name)(fun)


split = _splitter("split", np.split, _split_examples)
array_split = _splitter("array_split", np.array_split, _split_examples)
hsplit = _splitter("hsplit", np.hsplit, _even_split_examples)
vsplit = _splitter("vsplit", np.vsplit, _even_split_examples)
dsplit = _splitter("dsplit", np.dsplit, _even_split_examples)

del normalize_axis


#: ``numpy.insert`` applied to entry numbers (a recorded node when the positions are traced).
_insert_numbers = function_of_values("insert_numbers", np.insert)

row_stack = vstack  # NumPy's deprecated alias
