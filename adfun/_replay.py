"""Evaluate a recorded :class:`~adfun._graph.Graph` on new arguments."""

from __future__ import annotations

from typing import Any

from adfun._errors import describe
from adfun._pytree import tree_flatten, tree_unflatten
from adfun._trace import call_primitive


def replay(graph: Any, args: tuple) -> Any:
    """Run the nodes of ``graph`` in order on ``args`` (pytrees like the traced ones)."""
    leaves, in_tree = tree_flatten(tuple(args))
    if graph.in_tree is not None and in_tree != graph.in_tree:
        raise TypeError(
            f"Graph call: the arguments have structure {in_tree}, but the graph was traced "
            f"with {graph.in_tree}; pass arguments of the traced structure"
        )
    if len(leaves) != len(graph.inputs):
        raise TypeError(
            f"Graph call: expected {len(graph.inputs)} array arguments, got {len(leaves)}"
        )
    env: dict[int, Any] = {}
    for position, (node, leaf) in enumerate(zip(graph.inputs, leaves)):
        _check_same_kind(position, node, leaf)
        env[id(node)] = leaf
    for node in graph.nodes:
        if id(node) in env:
            continue
        if not node.parents and node.primitive.name == "constant":
            env[id(node)] = node.value
            continue
        args_now = list(node.args)
        for parent, argnum in zip(node.parents, node.argnums):
            args_now[argnum] = env[id(parent)]
        env[id(node)] = call_primitive(node.primitive, tuple(args_now), node.params)
    outputs = [env[id(node)] for node in graph.outputs]
    if graph.out_tree is None:
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
    return tree_unflatten(graph.out_tree, outputs)


def _check_same_kind(position: int, node: Any, leaf: Any) -> None:
    import numpy as np

    shape = tuple(getattr(leaf, "shape", np.shape(leaf) if not hasattr(leaf, "node") else ()))
    dtype = getattr(leaf, "dtype", None)
    if dtype is None:
        dtype = np.result_type(leaf)
    if shape != tuple(node.shape) or np.dtype(dtype) != np.dtype(node.dtype):
        raise TypeError(
            f"Graph call: argument leaf {position} is a {describe(leaf)}, but the graph was "
            f"traced with shape {tuple(node.shape)} and dtype {node.dtype}; trace the "
            f"function again for new shapes or dtypes"
        )
