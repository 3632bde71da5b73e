"""Layout functions that only move entries: flips, rolls, tiles, diagonals, padding...

Each is a *gather*: NumPy's own function is applied to an array of entry numbers
(``arange(a.size).reshape(a.shape)``), which tells where every output entry comes from,
and the result is ``ravel(a)[numbers]``.  The derivatives are therefore those of
indexing (a scatter-add back, so repeated entries accumulate), in both modes and to any
order, and the semantics (argument checks and errors included) are NumPy's exactly.
Functions that also fill in zeros (``triu``, ``diag`` of a vector, ``pad``) number the
entries from 1 and read 0 as "a zero here".
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from adfun._engine.trace import Tracer, any_traced, read_value
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._batching import loop, move_axis
from adfun.numpy._declare import Domain, export, function_of_values
from adfun.numpy._elementwise import maximum
from adfun.numpy._indexing import getitem
from adfun.numpy._reductions import sum  # noqa: A004
from adfun.numpy._selection import where
from adfun.numpy._shape import broadcast_to, moveaxis, ravel, reshape
from adfun.numpy._typing import IndexMode, MeshIndexing, OrderKACF, PadMode
from adfun.numpy._values import contains_tracer, put_in


def _static(value: Any, function: str) -> Any:
    """A static argument (a count, a width) of a layout: its concrete value.

    Read with :func:`read_value`: a staged graph cannot recompute a count that decides
    the result's shape.
    """
    if type(value) is Tracer:
        return read_value(
            value,
            f"adfun.numpy.{function}",
            "Pass this argument as a constant (a Python int or a NumPy array).",
        )
    if isinstance(value, (list, tuple)):
        return type(value)(_static(item, function) for item in value)
    return value


def _apply_layout(layout: Callable, numbers: np.ndarray, *args: Any, **kwargs: Any) -> Any:
    return layout(numbers, *args, **kwargs)


def _layout_numbers_batch(
    primitive: Any, size: int, dims: tuple, *leaves: Any, template: Any
) -> tuple:
    """Batching rule of the entry numbers of ``take`` and ``take_along_axis`` with
    batched indices (the gathers of ``sort`` and ``partition``): one call of the layout
    on the indices of the whole batch.  Other layouts loop over the examples."""
    args = put_in(template.args, leaves)
    if (
        len(leaves) == 1
        and template.output is None
        and len(args) >= 3
        and args[2] is leaves[0]
        and args[0] in _BATCHED_LAYOUTS
    ):
        layout, numbers, _, *rest = args
        kwargs = put_in(template.kwargs, leaves)
        front = move_axis(leaves[0], dims[0], 0)
        return _BATCHED_LAYOUTS[layout](numbers, front, *rest, **kwargs)
    return loop(primitive, size, dims, *leaves, template=template)


def _take_along_axis_batch(numbers: np.ndarray, indices: Any, axis: Any = -1) -> tuple:
    if axis is None:
        return layout_numbers(np.take_along_axis, numbers.reshape(1, -1), indices, axis=1), 0
    axis = int(axis) % max(numbers.ndim, 1)
    return layout_numbers(np.take_along_axis, numbers[None], indices, axis=axis + 1), 0


def _take_batch(
    numbers: np.ndarray, indices: Any, axis: Any = None, out: Any = None, mode: IndexMode = "raise"
) -> tuple:
    if axis is None:
        return layout_numbers(_take_layout, numbers, indices, axis=None, mode=mode), 0
    axis = int(axis) % max(numbers.ndim, 1)
    return layout_numbers(_take_layout, numbers, indices, axis=axis, mode=mode), axis


#: The entry numbers of a layout with traced index arguments, as a recorded node.
layout_numbers = function_of_values("entry_numbers", _apply_layout, batch=_layout_numbers_batch)


def _entry_numbers(layout: Callable, numbers: np.ndarray, args: tuple, kwargs: dict) -> Any:
    """``layout(numbers, *args, **kwargs)``: where each output entry comes from.

    Traced index arguments (``take``'s indices computed from traced values) make it a
    recorded node (a function of the values), so a staged graph recomputes it.
    """
    if contains_tracer(args) or contains_tracer(kwargs):
        return layout_numbers(layout, numbers, *args, **kwargs)
    return layout(numbers, *args, **kwargs)


def gather(a: Any, layout: Callable, *args: Any, **kwargs: Any) -> Any:
    """``layout(a, *args, **kwargs)`` for a NumPy ``layout`` that only moves entries."""
    shape = shape_of(a)
    numbers = _entry_numbers(
        layout, np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape), args, kwargs
    )
    return getitem(ravel(a), numbers)


def gather_or_zero(a: Any, layout: Callable, *args: Any, **kwargs: Any) -> Any:
    """Like :func:`gather` for a ``layout`` that also fills in zeros."""
    shape = shape_of(a)
    size = int(np.prod(shape, dtype=np.int64))
    numbers = _entry_numbers(layout, np.arange(1, size + 1).reshape(shape), args, kwargs)
    if size == 0:
        return np.zeros(np.shape(numbers), dtype_of(a))
    values = getitem(ravel(a), maximum(numbers - 1, 0))
    return where(numbers > 0, values, 0.0)


def _array(
    draw: Any, st: Any, hnp: Any, min_dims: int = 1, max_dims: int = 3, shape: Any = None
) -> np.ndarray:
    from adfun.numpy._examples import array

    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4))
    return array(draw, st, hnp, (-3.0, 3.0), shape=shape)


def _axis_or_none(draw: Any, st: Any, ndim: int) -> Any:
    return draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))


def _layout_function(
    name: str, numpy_fun: Callable, examples: Callable, *, zeros: bool = False, summary: str = ""
) -> Callable:
    how = gather_or_zero if zeros else gather

    def fun(a: Any, *args: Any, **kwargs: Any) -> Any:
        if type(a) is not Tracer:
            if not (contains_tracer(args) or contains_tracer(kwargs)):
                return numpy_fun(a, *args, **kwargs)
            a = np.asarray(a)  # a constant array gathered at traced positions
        return how(a, numpy_fun, *args, **kwargs)

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = (
        f"Differentiable :func:`numpy.{name}`{summary}.\n\n"
        f"Same arguments and result as NumPy's.  The entries are moved as NumPy moves "
        f"them; the derivative moves the cotangent back (a scatter-add, so entries used "
        f"several times accumulate).\n"
    )
    return export(numpy_fun, domain=Domain(examples=examples), name=name)(fun)


# --- examples (args, kwargs) for the composite tests ------------------------------------


def _flip_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp)
    return (x,), {"axis": _axis_or_none(draw, st, x.ndim)}


def _matrix_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return (_array(draw, st, hnp, min_dims=2),), {}


def _rot90_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp, min_dims=2)
    return (x,), {"k": draw(st.integers(-2, 3)), "axes": (0, x.ndim - 1)}


def _roll_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp)
    return (x, draw(st.integers(-5, 5))), {"axis": _axis_or_none(draw, st, x.ndim)}


def _tile_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp, min_dims=0, max_dims=2)
    reps = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    return (x, reps), {}


def _repeat_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp)
    axis = _axis_or_none(draw, st, x.ndim)
    length = x.size if axis is None else x.shape[axis]
    repeats = draw(
        st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=length, max_size=length))
    )
    return (x, repeats), {"axis": axis}


def _diagonal_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp, min_dims=2)
    return (x,), {"offset": draw(st.integers(-1, 1)), "axis1": 0, "axis2": x.ndim - 1}


def _diag_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp, min_dims=1, max_dims=2)
    return (x,), {"k": draw(st.integers(-2, 2))}


def _triangle_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp, min_dims=1)
    return (x,), {"k": draw(st.integers(-2, 2))}


def _pad_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp, max_dims=2)
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    width = draw(st.integers(0, 2))
    kwargs: dict = {"mode": mode}
    if mode == "constant":
        kwargs["constant_values"] = draw(st.sampled_from([0.0, 1.5]))
    return (x, width), kwargs


def _resize_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp)
    return (x, tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))), {}


def _rollaxis_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp, min_dims=2)
    return (x, draw(st.integers(0, x.ndim - 1))), {"start": draw(st.integers(0, x.ndim))}


def _take_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp)
    axis = _axis_or_none(draw, st, x.ndim)
    length = x.size if axis is None else x.shape[axis]
    indices = np.asarray(draw(st.lists(st.integers(-length, length - 1), min_size=1, max_size=5)))
    return (x, indices), {"axis": axis}


def _take_along_axis_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp)
    axis = draw(st.integers(0, x.ndim - 1))
    shape = list(x.shape)
    shape[axis] = draw(st.integers(1, 4))
    indices = draw(hnp.arrays(np.int64, tuple(shape), elements=st.integers(0, x.shape[axis] - 1)))
    return (x, indices), {"axis": axis}


def _delete_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp)
    axis = _axis_or_none(draw, st, x.ndim)
    length = x.size if axis is None else x.shape[axis]
    obj = draw(st.lists(st.integers(0, length - 1), max_size=2, unique=True))
    return (x, obj), {"axis": axis}


def _one_array_1d(draw: Any, st: Any, hnp: Any) -> tuple:
    return (_array(draw, st, hnp, min_dims=1),), {}


def _one_array(draw: Any, st: Any, hnp: Any) -> tuple:
    return (_array(draw, st, hnp, min_dims=0),), {}


def _swap_last_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return (_array(draw, st, hnp, min_dims=2),), {}


# --- the layout functions ------------------------------------------------------------------

flip = _layout_function("flip", np.flip, _flip_examples)
fliplr = _layout_function("fliplr", np.fliplr, _matrix_examples)
flipud = _layout_function("flipud", np.flipud, _one_array_1d)
rot90 = _layout_function("rot90", np.rot90, _rot90_examples)
roll = _layout_function("roll", np.roll, _roll_examples)
tile = _layout_function("tile", np.tile, _tile_examples)
repeat = _layout_function("repeat", np.repeat, _repeat_examples)
diagonal = _layout_function("diagonal", np.diagonal, _diagonal_examples)
diag = _layout_function(
    "diag",
    np.diag,
    _diag_examples,
    zeros=True,
    summary=" (a vector's diagonal matrix, or a matrix's diagonal)",
)
diagflat = _layout_function("diagflat", np.diagflat, _diag_examples, zeros=True)
triu = _layout_function("triu", np.triu, _triangle_examples, zeros=True)
tril = _layout_function("tril", np.tril, _triangle_examples, zeros=True)
resize = _layout_function("resize", np.resize, _resize_examples)
rollaxis = _layout_function("rollaxis", np.rollaxis, _rollaxis_examples)
delete = _layout_function("delete", np.delete, _delete_examples)
matrix_transpose = _layout_function("matrix_transpose", np.matrix_transpose, _swap_last_examples)


def _take_layout(
    numbers: Any, indices: Any, axis: Any = None, out: Any = None, mode: IndexMode = "raise"
) -> Any:
    return np.take(numbers, indices, axis=axis, mode=mode)


def _take_impl(
    a: Any, indices: Any, axis: Any = None, out: Any = None, mode: IndexMode = "raise"
) -> Any:
    return np.take(a, indices, axis=axis, out=out, mode=mode)


def _take_fun(
    a: Any, indices: Any, axis: Any = None, out: Any = None, mode: IndexMode = "raise"
) -> Any:
    if type(a) is not Tracer and not contains_tracer(indices):
        return np.take(a, indices, axis=axis, out=out, mode=mode)
    if out is not None:
        raise TypeError("adfun.numpy.take: out= is not supported on traced values")
    return gather(a, _take_layout, indices, axis=axis, mode=mode)


_take_fun.__name__ = _take_fun.__qualname__ = "take"
_take_fun.__doc__ = """Differentiable :func:`numpy.take`.

Derivative: the cotangent is scattered back to the taken entries; an index taken several
times accumulates.

Examples
--------
>>> import adfun as ad, adfun.numpy as anp, numpy as np
>>> ad.grad(lambda x: anp.sum(anp.take(x, [0, 0, 2])))(np.array([1.0, 2.0, 3.0]))
array([2., 0., 1.])
"""
take = export(np.take, domain=Domain(examples=_take_examples), name="take")(_take_fun)

#: Layouts whose entry numbers batch in one call (see :func:`_layout_numbers_batch`).
_BATCHED_LAYOUTS: dict = {np.take_along_axis: _take_along_axis_batch, _take_layout: _take_batch}
take_along_axis = _layout_function("take_along_axis", np.take_along_axis, _take_along_axis_examples)


def _pad_fun(array: Any, pad_width: Any, mode: PadMode = "constant", **kwargs: Any) -> Any:
    if type(array) is not Tracer:
        return np.pad(array, pad_width, mode=mode, **kwargs)
    if mode == "constant":
        constant_values = _static(kwargs.pop("constant_values", 0), "pad")
        if kwargs:
            raise TypeError(
                f"adfun.numpy.pad: unexpected keyword arguments {sorted(kwargs)} "
                f"for mode='constant'"
            )
        inner = gather_or_zero(array, np.pad, pad_width, mode="constant")
        filled = np.pad(
            np.zeros(shape_of(array), dtype_of(array)),
            _static(pad_width, "pad"),
            mode="constant",
            constant_values=constant_values,
        )
        return inner + filled
    if mode in ("edge", "wrap") or (
        mode in ("reflect", "symmetric") and kwargs.get("reflect_type", "even") == "even"
    ):
        return gather(array, np.pad, pad_width, mode=mode, **kwargs)
    reflect = kwargs.get("reflect_type")
    detail = f" with reflect_type={reflect!r}" if reflect is not None else ""
    raise NotImplementedError(
        f"adfun.numpy.pad: mode={mode!r}{detail}"
        f" is not supported on traced values (supported: 'constant', 'edge', 'wrap', and "
        f"'reflect'/'symmetric' with reflect_type='even'); apply ad.stop_gradient() to the "
        f"array if the padding should be a constant"
    )


_pad_fun.__name__ = _pad_fun.__qualname__ = "pad"
_pad_fun.__doc__ = """Differentiable :func:`numpy.pad` for the modes that copy entries.

Supported on traced values: ``'constant'`` (the fill value is a constant), ``'edge'``,
``'wrap'`` and ``'reflect'`` / ``'symmetric'`` with ``reflect_type='even'``;
other modes raise ``NotImplementedError``.  Derivative: the cotangent of every copy of an
entry flows back to it.
"""
pad = export(np.pad, domain=Domain(examples=_pad_examples), name="pad")(_pad_fun)


def _trace_fun(
    a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None
) -> Any:
    if type(a) is not Tracer:
        return np.trace(a, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype, out=out)
    if dtype is not None or out is not None:
        raise TypeError("adfun.numpy.trace: dtype= and out= are not supported on traced values")
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)


_trace_fun.__name__ = _trace_fun.__qualname__ = "trace"
_trace_fun.__doc__ = """Differentiable :func:`numpy.trace`: the sum of a diagonal.

Examples
--------
>>> import adfun as ad, adfun.numpy as anp, numpy as np
>>> ad.grad(anp.trace)(np.ones((2, 2)))
array([[1., 0.],
       [0., 1.]])
"""
trace = export(np.trace, domain=Domain(examples=_diagonal_examples), name="trace")(_trace_fun)


# --- reshaping composites -----------------------------------------------------------------


def _atleast(name: str, numpy_fun: Callable, ndim: int) -> Callable:
    def fun(*arys: Any) -> Any:
        if not any_traced(arys):
            return numpy_fun(*arys)
        results = [_atleast_one(item, numpy_fun) for item in arys]
        return results[0] if len(results) == 1 else tuple(results)

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = (
        f"Differentiable :func:`numpy.{name}`: views with at least {ndim} dimensions (reshapes).\n"
    )
    return export(numpy_fun, domain=Domain(examples=_one_array), name=name)(fun)


def _atleast_one(item: Any, numpy_fun: Callable) -> Any:
    if type(item) is not Tracer:
        return numpy_fun(item)
    target = np.shape(numpy_fun(np.empty(shape_of(item), dtype=np.bool_)))
    return reshape(item, target) if target != shape_of(item) else item


atleast_1d = _atleast("atleast_1d", np.atleast_1d, 1)
atleast_2d = _atleast("atleast_2d", np.atleast_2d, 2)
atleast_3d = _atleast("atleast_3d", np.atleast_3d, 3)


def _unstack_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _array(draw, st, hnp)
    return (x,), {"axis": draw(st.integers(0, x.ndim - 1))}


@export(getattr(np, "unstack", None), domain=Domain(examples=_unstack_examples))
def unstack(x: Any, /, *, axis: int = 0) -> Any:
    """Differentiable :func:`numpy.unstack`: the slices along ``axis``, as a tuple."""
    if type(x) is not Tracer:
        return np.unstack(x, axis=axis)
    moved = moveaxis(x, axis, 0)
    return tuple(moved[index] for index in range(shape_of(moved)[0]))


def _copy_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return (_array(draw, st, hnp, min_dims=0),), {}


@export(np.copy, domain=Domain(examples=_copy_examples))
def copy(a: Any, order: OrderKACF = "K", subok: bool = False) -> Any:
    """:func:`numpy.copy`; a traced value is returned as is (the graph is immutable).

    Derivative: 1.
    """
    if type(a) is not Tracer:
        # Two calls, as NumPy's stubs overload on the literal value of subok.
        if subok:
            return np.copy(a, order=order, subok=True)
        return np.copy(a, order=order, subok=False)
    return a


def _broadcast_arrays_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import broadcast_arrays as draw_broadcast

    return tuple(draw_broadcast(draw, st, hnp, ((-3.0, 3.0),) * draw(st.integers(1, 3)))), {}


@export(np.broadcast_arrays, domain=Domain(examples=_broadcast_arrays_examples))
def broadcast_arrays(*args: Any, subok: bool = False) -> Any:
    """Differentiable :func:`numpy.broadcast_arrays` (a tuple of ``broadcast_to``)."""
    if not any_traced(args):
        return np.broadcast_arrays(*args, subok=subok)
    shape = np.broadcast_shapes(*(shape_of(arg) for arg in args))
    return tuple(broadcast_to(arg, shape) for arg in args)


def _meshgrid_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    count = draw(st.integers(1, 3))
    arrays = tuple(_array(draw, st, hnp, shape=(draw(st.integers(1, 3)),)) for _ in range(count))
    return arrays, {"indexing": draw(st.sampled_from(["xy", "ij"])), "sparse": draw(st.booleans())}


@export(np.meshgrid, domain=Domain(examples=_meshgrid_examples))
def meshgrid(
    *xi: Any, copy: bool = True, sparse: bool = False, indexing: MeshIndexing = "xy"
) -> Any:
    """Differentiable :func:`numpy.meshgrid` (reshapes and ``broadcast_to``)."""
    if not any_traced(xi):
        return np.meshgrid(*xi, copy=copy, sparse=sparse, indexing=indexing)
    shapes = [
        np.shape(grid)
        for grid in np.meshgrid(
            *(np.empty(int(np.prod(shape_of(x)))) for x in xi), sparse=True, indexing=indexing
        )
    ]
    full = np.broadcast_shapes(*shapes)
    grids = []
    for x, shape in zip(xi, shapes):
        grid = reshape(x, shape)
        grids.append(grid if sparse else broadcast_to(grid, full))
    return tuple(grids)
