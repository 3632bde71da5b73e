"""Batching rules: how each primitive applies to a whole batch of arguments at once.

``ad.vmap`` (:mod:`adfun._transforms.batching`) traces a function on one example and then
evaluates the recorded nodes on batched values.  For a node with at least one batched
argument it calls the primitive's rule::

    rule(primitive, size, dims, *args, **params) -> (out, out_dim)

``dims`` holds, per positional argument, the axis of ``args[i]`` that is the batch axis
(``None``: the argument is the same for every example); ``size`` is the batch size.  The
rule returns the batched result and the axis of it that is the batch axis.  Rules are
written with the primitives themselves and ``adfun.numpy`` operations (reached through
the engine's operation table, so this module imports no family): on traced values they
are recorded, so ``grad``, ``jvp`` and ``jit`` of a batched function see ordinary nodes.

A primitive declared without a rule gets :func:`loop`: the primitive applied to each
example in turn, the results stacked.  It is always right, and as slow as a Python loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS, OPERATIONS, Params
from adfun._engine.trace import Tracer, call_primitive, full_value
from adfun.numpy._values import put_in

# --- moving, inserting and broadcasting the batch axis ------------------------------------


def shape_of(x: Any) -> tuple:
    """The shape of an array, a tracer or a scalar."""
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(full_value(x))


def transpose(x: Any, axes: tuple) -> Any:
    """``x`` with its axes permuted (a NumPy view, or a recorded transpose)."""
    if axes == tuple(range(len(axes))):
        return x
    if type(x) is Tracer:
        return OPERATIONS["transpose"](x, axes)
    return np.transpose(x, axes)


def reshape(x: Any, shape: tuple) -> Any:
    """``x`` reshaped (a NumPy view where possible, or a recorded reshape)."""
    if shape_of(x) == tuple(shape):
        return x
    if type(x) is Tracer:
        return OPERATIONS["reshape"](x, shape)
    return np.reshape(x, shape)


def move_axis(x: Any, source: int, destination: int) -> Any:
    """``x`` with axis ``source`` moved to ``destination`` (both non-negative)."""
    if source == destination:
        return x
    order = [axis for axis in range(len(shape_of(x))) if axis != source]
    order.insert(destination, source)
    return transpose(x, tuple(order))


def to_front(x: Any, dim: int | None, size: int) -> Any:
    """``x`` with its batch axis first; an unbatched ``x`` is broadcast along a new one."""
    if dim is None:
        shape = shape_of(x)
        expanded = reshape(x, (1, *shape))
        if type(expanded) is Tracer:
            return OPERATIONS["broadcast_to"](expanded, (size, *shape))
        return np.broadcast_to(expanded, (size, *shape))
    return move_axis(x, dim, 0)


def pad_after_batch(x: Any, rank: int) -> Any:
    """``x`` (batch axis first) with unit axes after the batch axis up to ``rank`` example
    dimensions, so that it broadcasts against unbatched values of that rank."""
    shape = shape_of(x)
    missing = rank - (len(shape) - 1)
    if missing <= 0:
        return x
    return reshape(x, (shape[0],) + (1,) * missing + shape[1:])


def example_rank(x: Any, dim: int | None) -> int:
    """The number of dimensions of one example of ``x``."""
    return len(shape_of(x)) - (dim is not None)


def shift_axis(axis: int, rank: int) -> int:
    """A non-negative axis of an example of ``rank`` dimensions, in the batched value
    whose batch axis is first."""
    return (axis % max(rank, 1)) + 1


# --- the default: a loop ------------------------------------------------------------------


def index_batch(x: Any, dim: int | None, index: int) -> Any:
    """Example ``index`` of ``x`` (``x`` itself if it is not batched)."""
    if dim is None:
        return x
    key = (slice(None),) * dim + (index,)
    if type(x) is Tracer:
        return OPERATIONS["getitem"](x, key)
    return x[key]


def stack(values: list, axis: int = 0) -> Any:
    """Stack the per-example results along a new axis."""
    if any(type(value) is Tracer for value in values):
        return OPERATIONS["stack"](values, axis=axis)
    return np.stack([np.asarray(value) for value in values], axis=axis)


def loop(primitive: Any, size: int, dims: tuple, *args: Any, **params: Any) -> tuple:
    """The default rule: apply ``primitive`` to each example in turn and stack the results."""
    frozen = Params(params)
    results = [
        call_primitive(
            primitive,
            tuple(index_batch(arg, dim, index) for arg, dim in zip(args, dims)),
            frozen,
        )
        for index in range(size)
    ]
    if not results:
        example = call_primitive(
            primitive,
            tuple(_empty_example(arg, dim) for arg, dim in zip(args, dims)),
            frozen,
        )
        value = full_value(example)
        return np.zeros((0, *np.shape(value)), np.result_type(value)), 0
    return stack(results), 0


def _empty_example(x: Any, dim: int | None) -> Any:
    if dim is None:
        return x
    shape = list(shape_of(x))
    del shape[dim]
    return np.ones(shape, np.result_type(full_value(x)))


# --- elementwise and broadcasting primitives ------------------------------------------------


def elementwise(primitive: Any, size: int, dims: tuple, *args: Any, **params: Any) -> tuple:
    """The rule of every elementwise (broadcasting) primitive, of any number of arguments.

    Where every batched argument has its batch axis at the same place ``d`` and the same
    rank, and no unbatched argument reaches that far from the end, the primitive applies
    as it is (unbatched arguments broadcast against trailing axes as they did in one
    example); otherwise each batched argument gets its batch axis first and unit axes
    after it, up to the rank of the broadcast example.
    """
    frozen = Params(params) if params else EMPTY_PARAMS
    first_dim = -1
    batched_rank = -1
    other_rank = 0
    direct = True
    for arg, dim in zip(args, dims):
        rank = len(shape_of(arg))
        if dim is None:
            other_rank = max(other_rank, rank)
        elif first_dim < 0:
            first_dim, batched_rank = dim, rank
        elif dim != first_dim or rank != batched_rank:
            direct = False
            break
    if direct and other_rank <= batched_rank - 1 - first_dim:
        return call_primitive(primitive, args, frozen), first_dim
    rank = max(example_rank(arg, dim) for arg, dim in zip(args, dims))
    moved = tuple(
        arg if dim is None else pad_after_batch(move_axis(arg, dim, 0), rank)
        for arg, dim in zip(args, dims)
    )
    return call_primitive(primitive, moved, frozen), 0


def leading(primitive: Any, size: int, dims: tuple, *args: Any, **params: Any) -> tuple:
    """For primitives on the trailing axes of their arguments that broadcast the leading
    ones (the linear algebra of stacked matrices): the batch axis goes first."""
    rank = max(example_rank(arg, dim) for arg, dim in zip(args, dims))
    moved = tuple(
        arg if dim is None else pad_after_batch(move_axis(arg, dim, 0), rank)
        for arg, dim in zip(args, dims)
    )
    return call_primitive(primitive, moved, Params(params)), 0


def first_only(rule: Any) -> Any:
    """``rule`` where only the first argument is batched; :func:`loop` otherwise."""

    def guarded(primitive: Any, size: int, dims: tuple, *args: Any, **params: Any) -> tuple:
        if any(dim is not None for dim in dims[1:]):
            return loop(primitive, size, dims, *args, **params)
        return rule(primitive, size, dims, *args, **params)

    guarded.__name__ = getattr(rule, "__name__", "rule")
    return guarded


def values_elementwise(*positions: int) -> Any:
    """The rule of a function of the values (:func:`~adfun.numpy._declare.function_of_values`)
    that broadcasts its positional arguments at ``positions`` (default: all of them)
    elementwise, like a ufunc (``signbit``, ``gcd``, ``isclose``, ``digitize`` in its
    first argument): batched leaves there get their batch axis first and unit axes up to
    the broadcast rank.  A batched leaf anywhere else (a list, a keyword) loops."""

    def rule(primitive: Any, size: int, dims: tuple, *leaves: Any, template: Any) -> tuple:
        if template.output is not None:
            return loop(primitive, size, dims, *leaves, template=template)
        marked = tuple(
            leaf if dim is None else _Batched(leaf, dim) for leaf, dim in zip(leaves, dims)
        )
        args = put_in(template.args, marked)
        chosen = range(len(args)) if not positions else [p for p in positions if p < len(args)]
        found = [args[p] for p in chosen if type(args[p]) is _Batched]
        if len(found) != sum(dim is not None for dim in dims):
            return loop(primitive, size, dims, *leaves, template=template)
        rank = 0
        for p in chosen:
            part = args[p]
            if type(part) is _Batched:
                rank = max(rank, example_rank(part.value, part.dim))
            else:
                rank = max(rank, len(np.shape(full_value(part))))
        moved = tuple(
            leaf if dim is None else pad_after_batch(move_axis(leaf, dim, 0), rank)
            for leaf, dim in zip(leaves, dims)
        )
        return call_primitive(primitive, moved, Params(template=template)), 0

    return rule


# --- reductions, scans and other primitives with an axis parameter -----------------------


def _shifted_axes(axis: Any, rank: int) -> Any:
    if axis is None:
        return tuple(range(1, rank + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(shift_axis(item, rank) for item in axis)
    return shift_axis(axis, rank)


@first_only
def reduction(primitive: Any, size: int, dims: tuple, x: Any, *rest: Any, **params: Any) -> tuple:
    """Reductions over ``axis`` (an int, a tuple or ``None`` for all): the batch axis goes
    first and is never reduced."""
    rank = example_rank(x, dims[0])
    params = dict(params)
    params["axis"] = _shifted_axes(params.get("axis"), rank)
    moved = move_axis(x, dims[0], 0)
    return call_primitive(primitive, (moved, *rest), Params(params)), 0


def nonscalar_reduction(
    primitive: Any, size: int, dims: tuple, x: Any, *rest: Any, **params: Any
) -> tuple:
    """:func:`reduction` for SciPy's reductions, which loops for 0-d examples: SciPy gives
    ``logsumexp`` of a 0-d array with ``keepdims=True`` the shape ``(1,)``, which no
    reduction over the example's (absent) axes reproduces."""
    if dims[0] is not None and example_rank(x, dims[0]) == 0:
        return loop(primitive, size, dims, x, *rest, **params)
    return reduction(primitive, size, dims, x, *rest, **params)


def along_axis(default: Any = None) -> Any:
    """The rule of a primitive working along one ``axis`` (a scan, a sort, an FFT, a
    softmax): the batch axis goes first and ``axis`` moves one place on.  ``default`` is
    the axis when ``params`` has none; ``axis=None`` (the flattened example, as for
    ``cumsum``) flattens each example and works along axis 1."""

    @first_only
    def rule(primitive: Any, size: int, dims: tuple, x: Any, *rest: Any, **params: Any) -> tuple:
        axis = params.get("axis", default)
        moved = move_axis(x, dims[0], 0)
        params = dict(params)
        if axis is None:
            # The example is flattened first: flatten each example, then work along axis 1.
            params["axis"] = 1
            flat = _flat_examples(moved, size)
            return call_primitive(primitive, (flat, *rest), Params(params)), 0
        params["axis"] = _shifted_axes(axis, example_rank(x, dims[0]))
        return call_primitive(primitive, (moved, *rest), Params(params)), 0

    return rule


def _flat_examples(x: Any, size: int) -> Any:
    """``x`` (batch axis first) with each example flattened: shape ``(size, n)``."""
    shape = shape_of(x)
    return reshape(x, (size, int(np.prod(shape[1:], dtype=np.int64))))


def axes_reduction(default: Any = None) -> Any:
    """Like :func:`reduction` for functions whose ``axis`` may be missing from ``params``
    (``any``, ``all``, ``count_nonzero``: ``None``) or an int only (``argmax``,
    ``argmin``, ``argsort``: ``axis=None`` there indexes the flattened example, so each
    example is flattened)."""

    @first_only
    def rule(primitive: Any, size: int, dims: tuple, x: Any, *rest: Any, **params: Any) -> tuple:
        axis = params.get("axis", default)
        moved = move_axis(x, dims[0], 0)
        params = dict(params)
        if axis is None and primitive.name in ("argmax", "argmin", "argsort"):
            # An index into the flattened example: flatten each example, work along axis 1.
            params["axis"] = 1
            flat = _flat_examples(moved, size)
            return call_primitive(primitive, (flat, *rest), Params(params)), 0
        params["axis"] = _shifted_axes(axis, example_rank(x, dims[0]))
        return call_primitive(primitive, (moved, *rest), Params(params)), 0

    return rule


# --- shapes ---------------------------------------------------------------------------------


@first_only
def reshape_rule(primitive: Any, size: int, dims: tuple, x: Any, **params: Any) -> tuple:
    """``reshape``: the batch axis first, then the example's new shape."""
    moved = move_axis(x, dims[0], 0)
    return call_primitive(primitive, (moved,), Params(shape=(size, *params["shape"]))), 0


@first_only
def broadcast_rule(primitive: Any, size: int, dims: tuple, x: Any, **params: Any) -> tuple:
    """``broadcast_to``: unit axes after the batch axis up to the target's rank."""
    shape = tuple(params["shape"])
    moved = pad_after_batch(move_axis(x, dims[0], 0), len(shape))
    return call_primitive(primitive, (moved,), Params(shape=(size, *shape))), 0


@first_only
def transpose_rule(primitive: Any, size: int, dims: tuple, x: Any, **params: Any) -> tuple:
    """``transpose``: the batch axis stays where it is, the example's axes are permuted."""
    dim = dims[0]
    rank = example_rank(x, dim)
    axes = params.get("axes")
    example_axes = tuple(reversed(range(rank))) if axes is None else tuple(axes)
    # The example's axis k sits at k (k < dim) or k + 1 (k >= dim) of the batched value.
    full = [axis + (axis >= dim) for axis in example_axes]
    full.insert(dim, dim)
    return call_primitive(primitive, (x,), Params(axes=tuple(full))), dim


def joining_rule(primitive: Any, size: int, dims: tuple, *arrays: Any, **params: Any) -> tuple:
    """``concatenate`` and ``stack``: every array with its batch axis first (unbatched
    ones broadcast along it), ``axis`` one place on."""
    moved = tuple(to_front(array, dim, size) for array, dim in zip(arrays, dims))
    params = dict(params)
    params["axis"] = params["axis"] + 1
    return call_primitive(primitive, moved, Params(params)), 0


# --- indexing -------------------------------------------------------------------------------


def _advanced(part: Any) -> bool:
    return isinstance(part, (np.ndarray, list, Tracer))


def _index_batch_position(key: Any) -> int | None:
    """Where ``x[(slice(None),) + key]`` puts the leading (batch) axis of ``x``, or ``None``
    for keys this rule leaves to the loop (boolean scalars, other objects)."""
    parts = key if type(key) is tuple else (key,)
    arrays = []
    positions = []
    for position, part in enumerate(parts):
        if part is None or part is Ellipsis or type(part) is slice:
            continue
        if isinstance(part, (bool, np.bool_)):
            return None
        if isinstance(part, (int, np.integer)):
            positions.append(position)
            continue
        if not _advanced(part):
            return None
        value = np.asarray(full_value(part)) if type(part) is not Tracer else full_value(part)
        if np.asarray(value).dtype == np.bool_:
            arrays.append((int(np.count_nonzero(value)),))
        else:
            arrays.append(np.shape(value))
        positions.append(position)
    if not arrays:
        return 0
    if positions == list(range(positions[0], positions[-1] + 1)):
        return 0  # adjacent advanced indices stay behind the leading slice
    return len(np.broadcast_shapes(*arrays))  # separated: their axes come first


@first_only
def getitem_rule(primitive: Any, size: int, dims: tuple, x: Any, key: Any) -> tuple:
    """``x[key]`` with a constant key: the key gets a leading full slice."""
    position = _index_batch_position(key)
    if position is None:
        return loop(primitive, size, dims, x, key)
    parts = key if type(key) is tuple else (key,)
    moved = move_axis(x, dims[0], 0)
    return call_primitive(primitive, (moved, (slice(None), *parts)), Params()), position


@first_only
def untake_rule(
    primitive: Any, size: int, dims: tuple, values: Any, key: Any, **params: Any
) -> tuple:
    """``untake`` (the adjoint of ``getitem``): the values' batch axis goes where
    ``getitem``'s rule puts it, the key gets a leading full slice."""
    position = _index_batch_position(key)
    if position is None:
        return loop(primitive, size, dims, values, key, **params)
    parts = key if type(key) is tuple else (key,)
    moved = move_axis(values, dims[0], position)
    shape = (size, *params["shape"])
    return call_primitive(primitive, (moved, (slice(None), *parts)), Params(shape=shape)), 0


class _Batched:
    """A traced index array of a key, batched along ``dim`` (a marker while the key is
    rebuilt from its template)."""

    __slots__ = ("value", "dim")

    def __init__(self, value: Any, dim: int) -> None:
        self.value = value
        self.dim = dim


def _integer_part(part: Any) -> bool:
    """Whether ``part`` of a key is an integer index (a scalar or an integer array)."""
    if isinstance(part, (bool, np.bool_)):
        return False
    if isinstance(part, (int, np.integer)):
        return True
    if type(part) is _Batched:
        part = part.value
    if isinstance(part, (np.ndarray, Tracer)):
        return np.result_type(full_value(part)).kind in "iu"
    return False


def _key_plan(parts: tuple, rank: int) -> tuple | None:
    """How to batch ``x[parts]`` when some integer arrays of the key are batched.

    ``rank`` is the number of dimensions of one example of ``x``.  Returns ``(first,
    adjacent, consumed, before, advanced_rank)``: the key position of the first advanced
    (integer) part, whether the advanced parts are adjacent (NumPy then puts their
    broadcast dimensions where they are, otherwise first), how many dimensions of ``x``
    and of the result come before the first advanced part, and the rank of the broadcast
    advanced parts.  ``None`` for keys left to the loop (boolean masks, lists).
    """
    advanced = []
    shapes = []
    used = 0  # dimensions of x that the parts other than Ellipsis and None index
    for position, part in enumerate(parts):
        if part is None or part is Ellipsis or type(part) is slice:
            used += type(part) is slice
            continue
        if not _integer_part(part):
            return None
        advanced.append(position)
        shapes.append(
            shape_of(part.value)[: part.dim] + shape_of(part.value)[part.dim + 1 :]
            if type(part) is _Batched
            else np.shape(full_value(part))
        )
        used += 1
    if not advanced or sum(part is Ellipsis for part in parts) > 1:
        return None
    first = advanced[0]
    adjacent = advanced == list(range(first, advanced[-1] + 1))
    consumed = before = 0
    for part in parts[:first]:
        if part is Ellipsis:
            consumed += rank - used
            before += rank - used
        else:
            consumed += type(part) is slice
            before += 1
    return first, adjacent, consumed, before, len(np.broadcast_shapes(*shapes))


def _batched_key(parts: tuple, plan: tuple, size: int, with_batch_index: bool) -> tuple:
    """The key of the whole batch: batched index arrays with their batch axis first and
    unit axes up to the advanced rank, and (``with_batch_index``) the batch index itself
    among them, at the first advanced position when they are adjacent, first otherwise."""
    first, adjacent, _, _, advanced_rank = plan
    key = []
    for part in parts:
        if type(part) is _Batched:
            part = pad_after_batch(move_axis(part.value, part.dim, 0), advanced_rank)
        key.append(part)
    if with_batch_index:
        batch_index = np.arange(size).reshape((size,) + (1,) * advanced_rank)
        key.insert(first if adjacent else 0, batch_index)
    return tuple(key)


def _key_parts(args: tuple, dims: tuple, template: Any) -> Any:
    """The key of a ``getitem``/``untake`` node with traced parts, batched parts marked."""
    marked = tuple(arg if dim is None else _Batched(arg, dim) for arg, dim in zip(args, dims))
    key = put_in(template.args, marked)
    return key if type(key) is tuple else (key,)


def getitem_at_rule(
    primitive: Any, size: int, dims: tuple, x: Any, *parts: Any, template: Any
) -> tuple:
    """``x[key]`` with traced parts in the key (``x[argsort(x)]``, the gathers of
    ``sort`` and ``take_along_axis``): batched integer index arrays become index arrays
    of the whole batch, together with the batch index ``arange(size)`` when ``x`` is
    batched, so that one gather serves every example."""
    if all(dim is None for dim in dims[1:]):
        key = put_in(template.args, parts)
        position = _index_batch_position(key)
        if position is None:
            return loop(primitive, size, dims, x, *parts, template=template)
        whole = key if type(key) is tuple else (key,)
        return OPERATIONS["getitem"](move_axis(x, dims[0], 0), (slice(None), *whole)), position
    key = _key_parts(parts, dims[1:], template)
    if any(type(part) is list for part in key):
        return loop(primitive, size, dims, x, *parts, template=template)
    plan = _key_plan(key, example_rank(x, dims[0]))
    if plan is None:
        return loop(primitive, size, dims, x, *parts, template=template)
    _, adjacent, consumed, before, _ = plan
    if dims[0] is not None:
        x = move_axis(x, dims[0], consumed if adjacent else 0)
    out = OPERATIONS["getitem"](x, _batched_key(key, plan, size, dims[0] is not None))
    return out, before if adjacent else 0


def untake_at_rule(
    primitive: Any, size: int, dims: tuple, values: Any, *parts: Any, template: Any, shape: Any
) -> tuple:
    """``untake`` (the scatter-add adjoint of ``getitem``) with traced parts in the key:
    one scatter-add into the whole batch, with the key of :func:`getitem_at_rule`."""
    if all(dim is None for dim in dims[1:]):
        key = put_in(template.args, parts)
        position = _index_batch_position(key)
        if position is None:
            return loop(primitive, size, dims, values, *parts, template=template, shape=shape)
        whole = key if type(key) is tuple else (key,)
        moved = move_axis(values, dims[0], position)
        return OPERATIONS["untake"](moved, (slice(None), *whole), (size, *shape)), 0
    key = _key_parts(parts, dims[1:], template)
    if any(type(part) is list for part in key):
        return loop(primitive, size, dims, values, *parts, template=template, shape=shape)
    plan = _key_plan(key, len(shape))
    if plan is None:
        return loop(primitive, size, dims, values, *parts, template=template, shape=shape)
    _, adjacent, consumed, before, _ = plan
    position = before if adjacent else 0
    values = move_axis(to_front(values, dims[0], size), 0, position)
    at = consumed if adjacent else 0
    batched_shape = (*shape[:at], size, *shape[at:])
    out = OPERATIONS["untake"](values, _batched_key(key, plan, size, True), batched_shape)
    return out, at


# --- products -------------------------------------------------------------------------------


def matmul_rule(primitive: Any, size: int, dims: tuple, x: Any, y: Any) -> tuple:
    """``x @ y``: one matrix product of the stacked operands where possible."""
    x_dim, y_dim = dims
    x_rank = example_rank(x, x_dim)
    y_rank = example_rank(y, y_dim)
    empty = Params()
    if y_dim is None and y_rank <= 2 and x_rank <= 2:
        # Stack the examples' rows: (B*n, k) @ y, one product.
        front = move_axis(x, x_dim, 0)
        shape = shape_of(front)
        rows = reshape(front, (-1, shape[-1])) if x_rank == 2 else front
        out = call_primitive(primitive, (rows, y), empty)
        if x_rank == 2:
            out = reshape(out, (size, shape[1], *shape_of(out)[1:]))
        return out, 0
    if x_dim is None and x_rank == 2 and y_rank == 1:
        # A @ v for a batch of v: the rows v_b @ A.T.
        return call_primitive(primitive, (move_axis(y, y_dim, 0), transpose(x, (1, 0))), empty), 0
    # General case: as stacked matrices (vectors made matrices, then squeezed).
    x_front = x if x_dim is None else move_axis(x, x_dim, 0)
    y_front = y if y_dim is None else move_axis(y, y_dim, 0)
    if x_rank == 1:
        x_front = _insert_unit(x_front, -2)
    if y_rank == 1:
        y_front = _insert_unit(y_front, -1)
    rank = max(max(x_rank, 2), max(y_rank, 2))
    if x_dim is not None:
        x_front = pad_after_batch(x_front, rank)
    if y_dim is not None:
        y_front = pad_after_batch(y_front, rank)
    if shape_of(x_front)[-1] == 1:
        # Outer products (a contraction of length 1): NumPy's stacked matmul runs them
        # element by element, a broadcast product streams them.
        out = call_primitive(_primitive_of("multiply"), (x_front, y_front), empty)
    else:
        out = call_primitive(primitive, (x_front, y_front), empty)
    out_shape = list(shape_of(out))
    if y_rank == 1:
        del out_shape[-1]
    if x_rank == 1:
        del out_shape[-1 if y_rank == 1 else -2]
    return reshape(out, tuple(out_shape)), 0


def _primitive_of(name: str) -> Any:
    """The primitive behind the ``adfun.numpy`` function ``name``."""
    return getattr(OPERATIONS[name], "primitive")  # noqa: B009 - set by export, untyped


def _insert_unit(x: Any, axis: int) -> Any:
    shape = list(shape_of(x))
    shape.insert(len(shape) + 1 + axis if axis < 0 else axis, 1)
    return reshape(x, tuple(shape))


def dot_rule(primitive: Any, size: int, dims: tuple, a: Any, b: Any) -> tuple:
    """``dot``: the matrix product for examples of at most two dimensions (there ``dot``
    is ``matmul``), a product for scalars, a ``tensordot`` otherwise."""
    a_rank = example_rank(a, dims[0])
    b_rank = example_rank(b, dims[1])
    if a_rank == 0 or b_rank == 0:
        return elementwise(_primitive_of("multiply"), size, dims, a, b)
    if a_rank <= 2 and b_rank <= 2:
        return matmul_rule(_primitive_of("matmul"), size, dims, a, b)
    # dot(a, b) sums over the last axis of a and the second-to-last of b: a tensordot.
    axes = ((a_rank - 1,), (max(b_rank - 2, 0),))
    return tensordot_rule(_primitive_of("tensordot"), size, dims, a, b, axes=axes)


def tensordot_rule(primitive: Any, size: int, dims: tuple, a: Any, b: Any, **params: Any) -> tuple:
    """``tensordot``: one batched operand keeps its batch axis among its free axes; with
    both batched, an ``einsum`` whose batch index is in both operands and the result."""
    a_dim, b_dim = dims
    a_axes, b_axes = params["axes"]
    if a_dim is not None and b_dim is not None:
        a_rank = example_rank(a, a_dim)
        b_rank = example_rank(b, b_dim)
        letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY")
        a_terms = [next(letters) for _ in range(a_rank)]
        b_terms = [next(letters) for _ in range(b_rank)]
        for a_axis, b_axis in zip(a_axes, b_axes):
            b_terms[b_axis % b_rank] = a_terms[a_axis % a_rank]
        a_free = [a_terms[k] for k in range(a_rank) if k not in {x % a_rank for x in a_axes}]
        b_free = [b_terms[k] for k in range(b_rank) if k not in {x % b_rank for x in b_axes}]
        subscripts = (
            "Z" + "".join(a_terms) + ",Z" + "".join(b_terms) + "->Z" + "".join(a_free + b_free)
        )
        operands = (move_axis(a, a_dim, 0), move_axis(b, b_dim, 0))
        return call_primitive(_primitive_of("einsum"), operands, Params(subscripts=subscripts)), 0
    if a_dim is not None:
        a_rank = example_rank(a, a_dim)
        moved = move_axis(a, a_dim, 0)
        axes = (tuple(shift_axis(axis, a_rank) for axis in a_axes), tuple(b_axes))
        return call_primitive(primitive, (moved, b), Params(axes=axes)), 0
    b_rank = example_rank(b, b_dim)
    moved = move_axis(b, b_dim, 0)
    axes = (tuple(a_axes), tuple(shift_axis(axis, b_rank) for axis in b_axes))
    free = len(shape_of(a)) - len(a_axes)
    return call_primitive(primitive, (a, moved), Params(axes=axes)), free


def einsum_rule(primitive: Any, size: int, dims: tuple, *operands: Any, **params: Any) -> tuple:
    """``einsum``: a new index letter for the batch axis, leading in every batched
    operand and in the output."""
    subscripts = params["subscripts"]
    inputs, output = subscripts.split("->")
    used = set(subscripts)
    letter = next(
        char for char in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if char not in used
    )
    terms = inputs.split(",")
    moved = []
    for index, (operand, dim) in enumerate(zip(operands, dims)):
        if dim is None:
            moved.append(operand)
        else:
            moved.append(move_axis(operand, dim, 0))
            terms[index] = letter + terms[index]
    new = ",".join(terms) + "->" + letter + output
    params = dict(params)
    params["subscripts"] = new
    return call_primitive(primitive, tuple(moved), Params(params)), 0


def solve_rule(primitive: Any, size: int, dims: tuple, a: Any, b: Any, **params: Any) -> tuple:
    """``linalg.solve``: a vector right-hand side becomes a one-column matrix, so that a
    batch of vectors is not read as one matrix."""
    a_rank = example_rank(a, dims[0])
    b_rank = example_rank(b, dims[1])
    if b_rank == 1:
        b = _insert_unit(b, -1)
    a_front = a if dims[0] is None else move_axis(a, dims[0], 0)
    b_front = b if dims[1] is None else move_axis(b, dims[1], 0)
    rank = max(a_rank, b_rank + (b_rank == 1))
    if dims[0] is not None:
        a_front = pad_after_batch(a_front, rank)
    if dims[1] is not None:
        b_front = pad_after_batch(b_front, rank)
    if dims[1] is None and b_rank == 1:
        b_front = b
    out = call_primitive(primitive, (a_front, b_front), Params(params))
    if b_rank == 1:
        out = reshape(out, shape_of(out)[:-1])
    return out, 0
