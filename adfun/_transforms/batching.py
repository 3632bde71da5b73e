"""``vmap``: apply a function to a batch of examples at once.

The function is traced once, on one example (a slice of each batched argument), in a
staging trace of its own: Python control flow on batched values is refused there (it
could differ between examples), exactly as under ``jit``.  The recorded nodes are then
evaluated once on the whole batch: a node none of whose arguments is batched keeps the
value it was traced with; any other node is evaluated by its primitive's batching rule
(``Primitive.batch``, see :mod:`adfun.numpy._batching`), which returns the batched result
and where its batch axis is.  The rules call primitives and ``adfun.numpy`` functions, so
a transform around ``vmap`` (``grad``, ``jvp``, ``jit``, another ``vmap``) records them
as ordinary nodes; a transform inside it is simply part of what is traced.

The tracing machinery is not changed: the trace is a :class:`StagingTrace` that keeps no
private copies of constants (its graph never outlives the call).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, ParamSpec, TypeVar

import numpy as np

from adfun._engine.graph import toposort
from adfun._engine.pytree import TreeDef, leaf_paths, tree_flatten, tree_unflatten
from adfun._engine.records import INPUT, OPERATIONS
from adfun._engine.trace import (
    StagingTrace,
    Tracer,
    current_trace,
    full_value,
    new_input,
)
from adfun._transforms.boundary import function_name
from adfun.numpy._batching import loop, move_axis, shape_of

P = ParamSpec("P")
R = TypeVar("R")


class BatchTrace(StagingTrace):
    """The trace ``vmap`` records one example in: staging (no value may steer Python),
    without private copies of constants (its graph is evaluated before ``vmap`` returns)."""

    __slots__ = ()
    freezes = False


def vmap(
    fun: Callable[P, R],
    in_axes: Any = 0,
    out_axes: Any = 0,
    axis_size: int | None = None,
) -> Callable[P, Any]:
    """Vectorize ``fun`` over a batch axis of its arguments.

    ``vmap(fun)(xs)`` equals ``stack([fun(x) for x in xs])``, computed in one pass: each
    primitive is applied once, to the whole batch, by its batching rule.

    Parameters
    ----------
    fun : callable
        A function of pytrees of arrays, returning a pytree of arrays.
    in_axes : int, None or tuple, optional
        Which axis of each argument is the batch axis (default 0, for all of them).  A
        tuple gives one entry per positional argument; each entry is an int (negative
        counts from the end), ``None`` (the argument is the same for every example), or
        a pytree prefix of the argument with such leaves.  Keyword arguments are batched
        along axis 0.
    out_axes : int, None or pytree, optional
        Where the batch axis goes in each output (default 0): a pytree prefix of the
        result.  ``None`` for an output that does not depend on the batch (it is
        returned as it is).
    axis_size : int, optional
        The batch size, needed where no argument is batched (the result is then the one
        value repeated); where arguments are batched it must agree with them.

    Returns
    -------
    callable
        ``fun`` vectorized: same arguments with the batch axes added, same result with
        the batch axis at ``out_axes``.

    Raises
    ------
    ValueError
        If the batched arguments disagree on the batch size (the message names each
        argument and its size), an axis is out of range, ``in_axes``/``out_axes`` is not
        a prefix of the arguments/result, no argument is batched and ``axis_size`` is not
        given, or an output that depends on the batch has ``out_axes`` ``None``.
    StagingError
        If ``fun`` turns a batched value into a Python value (``if``, ``float()``...):
        the decision could differ between examples.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.vmap(lambda x, y: anp.dot(x, y))(np.ones((3, 2)), np.arange(6.0).reshape(3, 2))
    array([1., 5., 9.])
    >>> ad.vmap(lambda w, x: w * x, in_axes=(None, 0))(2.0, np.arange(3.0))
    array([0., 2., 4.])
    """
    _check_axes_spec("in_axes", in_axes, top=True)
    _check_axes_spec("out_axes", out_axes, top=False)
    if axis_size is not None and (
        isinstance(axis_size, bool) or not isinstance(axis_size, (int, np.integer)) or axis_size < 0
    ):
        raise ValueError(f"vmap: axis_size must be a non-negative int or None, got {axis_size!r}")

    @functools.wraps(fun)
    def vmapped(*args: P.args, **kwargs: P.kwargs) -> Any:
        return _vmap_call(fun, in_axes, out_axes, axis_size, args, kwargs)

    return vmapped


def _check_axes_spec(name: str, spec: Any, top: bool) -> None:
    if top and not (spec is None or isinstance(spec, (int, np.integer, tuple, list))):
        raise ValueError(
            f"vmap: {name} must be an int, None, or a tuple with one entry per positional "
            f"argument, got {spec!r}"
        )
    leaves, _ = tree_flatten(spec)
    for leaf in leaves:
        if leaf is not None and (
            isinstance(leaf, (bool, np.bool_)) or not isinstance(leaf, (int, np.integer))
        ):
            raise ValueError(
                f"vmap: {name} must be an int, None, or a container with those at its leaves, "
                f"but it holds {leaf!r}"
            )


def _broadcast_prefix(spec: Any, tree: TreeDef, name: str, where: str) -> list:
    """One axis per leaf of ``tree``, from ``spec``, a pytree prefix of it."""
    if spec is None or isinstance(spec, (int, np.integer)):
        return [spec] * tree.num_leaves
    spec_leaves, spec_tree = tree_flatten(spec)
    result: list = []
    position = 0

    def walk(node: TreeDef, target: TreeDef) -> None:
        nonlocal position
        if node.kind == "leaf":
            result.extend([spec_leaves[position]] * target.num_leaves)
            position += 1
            return
        if (
            node.kind != target.kind
            or node.keys != target.keys
            or len(node.children) != len(target.children)
        ):
            raise ValueError(
                f"vmap: {name} for {where} must be a pytree prefix of it: the axes have "
                f"structure {spec_tree} but {where} has structure {target}"
            )
        for child, target_child in zip(node.children, target.children):
            walk(child, target_child)

    walk(spec_tree, tree)
    return result


def _vmap_call(
    fun: Callable, in_axes: Any, out_axes: Any, axis_size: Any, args: tuple, kwargs: dict
) -> Any:
    name = function_name(fun)
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if isinstance(in_axes, tuple):
        if len(in_axes) != len(args):
            raise ValueError(
                f"vmap({name}): in_axes has {len(in_axes)} entries but the function was "
                f"called with {len(args)} positional argument(s); give one entry per "
                f"positional argument"
            )
        specs = list(in_axes)
    else:
        specs = [in_axes] * len(args)
    leaves: list = []
    axes: list = []
    owners: list = []  # per leaf: (tree, where, index), for the path in an error message
    trees: list = []
    for position, (arg, spec) in enumerate(zip(args, specs)):
        arg_leaves, tree = tree_flatten(arg)
        where = f"argument {position}"
        leaves.extend(arg_leaves)
        axes.extend(_broadcast_prefix(spec, tree, "in_axes", where))
        owners.extend((tree, where, index) for index in range(len(arg_leaves)))
        trees.append(tree)
    kw_leaves, kw_tree = tree_flatten(kwargs)
    if kw_leaves:
        leaves.extend(kw_leaves)
        axes.extend([0] * len(kw_leaves))
        owners.extend((kw_tree, "keyword arguments", index) for index in range(len(kw_leaves)))

    def path(index: int) -> str:
        tree, where, position = owners[index]
        return leaf_paths(tree, where)[position]

    # Normalize the axes and find the batch size.
    sizes: list = []
    for index, (leaf, axis) in enumerate(zip(leaves, axes)):
        if axis is None:
            continue
        shape = shape_of(leaf)
        rank = len(shape)
        if not -rank <= axis < rank:
            raise ValueError(
                f"vmap({name}): in_axes gives axis {axis} for {path(index)}, but it has "
                f"{rank} dimension(s) (shape {shape}); the batch axis must be in range "
                f"[{-rank}, {rank})"
                + (" (a scalar cannot be batched: give it in_axes None)" if rank == 0 else "")
            )
        axis = int(axis) % rank
        axes[index] = axis
        sizes.append((index, axis, shape[axis]))
    if sizes:
        size = sizes[0][2]
        if any(item[2] != size for item in sizes) or (axis_size is not None and axis_size != size):
            described = "; ".join(
                f"{path(index)} has size {n} along axis {axis}" for index, axis, n in sizes
            )
            given = f"; axis_size is {axis_size}" if axis_size is not None else ""
            raise ValueError(
                f"vmap({name}): the batched arguments disagree on the batch size: "
                f"{described}{given}. Every batched axis must have the same length"
            )
    elif axis_size is None:
        raise ValueError(
            f"vmap({name}): no argument is batched (every in_axes entry is None, or there are "
            f"no array arguments), so the batch size is unknown; pass axis_size"
        )
    else:
        size = int(axis_size)

    # Trace one example.
    trace = BatchTrace(f"vmap({name})")
    token = current_trace.set(trace)
    inputs: dict = {}
    try:
        call_leaves = []
        for leaf, axis in zip(leaves, axes):
            if axis is None:
                call_leaves.append(leaf)
                continue
            tracer = new_input(trace, _example(leaf, axis, size))
            inputs[tracer.node] = (leaf, axis)
            call_leaves.append(tracer)
        start = 0
        call_args = []
        for tree in trees:
            call_args.append(tree_unflatten(tree, call_leaves[start : start + tree.num_leaves]))
            start += tree.num_leaves
        call_kwargs = tree_unflatten(kw_tree, call_leaves[start:])
        out = fun(*call_args, **call_kwargs)
    finally:
        trace.active = False
        current_trace.reset(token)

    out_leaves, out_tree = tree_flatten(out)
    out_specs = _broadcast_prefix(out_axes, out_tree, "out_axes", "the result")
    roots = [leaf.node for leaf in out_leaves if type(leaf) is Tracer and leaf.trace is trace]
    env = evaluate(toposort(roots), inputs, size, roots)
    results = []
    for index, (leaf, spec) in enumerate(zip(out_leaves, out_specs)):
        if type(leaf) is Tracer and leaf.trace is trace:
            value, dim = env.get(leaf.node, (leaf.node.value, None))
        else:
            value, dim = leaf, None
        results.append(_place(value, dim, spec, size, name, out_tree, index))
    return tree_unflatten(out_tree, results)


def _example(leaf: Any, axis: int, size: int) -> Any:
    """One example of ``leaf`` (its first slice along ``axis``), as a plain value."""
    value = full_value(leaf)
    if size == 0:
        shape = list(np.shape(value))
        del shape[axis]
        return np.zeros(shape, np.result_type(value))
    return np.asarray(value)[(slice(None),) * axis + (0,)]


def evaluate(order: list, inputs: dict, size: int, keep: Any = ()) -> dict:
    """The batched values of the nodes of ``order``: ``node -> (value, batch axis)``.

    Only nodes that depend on a batched input are in the result; the others keep the
    values they were traced with.  Of those, only the nodes in ``keep`` (the outputs) are
    still there at the end: a batched value is dropped as soon as its last consumer has
    run, so that a long chain of large temporaries does not stay alive (fresh memory for
    every step costs more than the arithmetic on it).
    """
    env: dict = {}
    # How many nodes of ``order`` still have to read each node's batched value.
    readers: dict = {}
    for node in order:
        for parent in node.parents:
            readers[parent] = readers.get(parent, 0) + 1
    for node in keep:
        readers[node] = readers.get(node, 0) + 1
    for node in order:
        primitive = node.primitive
        if primitive is INPUT:
            entry = inputs.get(node)
            if entry is not None:
                env[node] = entry
            continue
        parents = node.parents
        batched = False
        for parent in parents:
            if parent in env:
                batched = True
                break
        if not batched:
            continue
        args = list(node.args)
        dims: list = [None] * len(args)
        for parent, argnum in zip(parents, node.argnums):
            entry = env.get(parent)
            if entry is None:
                args[argnum] = parent.value
            else:
                args[argnum], dims[argnum] = entry
        rule = primitive.batch or loop
        out, dim = rule(primitive, size, tuple(dims), *args, **node.params)
        env[node] = (out, dim)
        del args, entry
        for parent in parents:
            left = readers[parent] - 1
            readers[parent] = left
            if left == 0 and parent in env:
                del env[parent]
    return env


def _place(
    value: Any, dim: int | None, spec: Any, size: int, name: str, tree: TreeDef, index: int
) -> Any:
    """Move (or broadcast) the batch axis of output leaf ``index`` to where ``out_axes``
    puts it."""
    if spec is None:
        if dim is not None:
            raise ValueError(
                f"vmap({name}): out_axes is None for {leaf_paths(tree, 'output')[index]}, but "
                f"it depends on the batched arguments; give it a batch axis in out_axes"
            )
        return value
    rank = len(shape_of(value)) + (dim is None)
    if not -rank <= spec < rank:
        raise ValueError(
            f"vmap({name}): out_axes gives axis {spec} for {leaf_paths(tree, 'output')[index]}, "
            f"which has {rank} "
            f"dimension(s) with the batch axis; the axis must be in range [{-rank}, {rank})"
        )
    target = int(spec) % rank
    if dim is None:
        shape = shape_of(value)
        if type(value) is Tracer:
            expanded = OPERATIONS["reshape"](value, (1, *shape))
            value = OPERATIONS["broadcast_to"](expanded, (size, *shape))
        else:
            value = np.broadcast_to(np.asarray(value)[None], (size, *shape)).copy()
        dim = 0
    return move_axis(value, dim, target)
