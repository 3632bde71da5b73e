"""Evaluate a recorded :class:`~adfun._engine.graph.Graph` on new arguments.

The first call compiles the node tuple into a flat list of instructions (the primitive,
its recorded arguments with the slots that come from other nodes, its parameters), kept
with the graph.  Each call then checks the arguments against the traced ones and runs
the instructions on a list of values indexed by node position: no tracers and no nodes
are created, which is why replaying a graph is cheaper than tracing the function again.
When an argument is itself a traced value (a transform applied to the graph), every
instruction goes through :func:`~adfun._engine.trace.call_primitive`, so it is recorded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.pytree import leaf_paths, tree_flatten, tree_unflatten
from adfun._engine.records import INPUT
from adfun._engine.trace import Tracer, bind_unary, call_primitive


class _Program:
    """The compiled form of a graph (internal, built once per graph)."""

    __slots__ = ("size", "input_slots", "steps", "output_slots", "traced_constants", "expected")

    def __init__(self, graph: Any) -> None:
        index = {id(node): position for position, node in enumerate(graph.nodes)}
        inputs = {id(node) for node in graph.inputs}
        steps = []
        traced_constants = False
        for position, node in enumerate(graph.nodes):
            if id(node) in inputs:
                continue
            if node.primitive is INPUT:
                raise ValueError(
                    f"Graph {graph.name}: node {node!r} is an input of the trace but not one "
                    f"of the graph's inputs, so the graph cannot be evaluated"
                )
            links = tuple(
                (argnum, index[id(parent)]) for parent, argnum in zip(node.parents, node.argnums)
            )
            traced_constants = traced_constants or any(type(arg) is Tracer for arg in node.args)
            steps.append((node.primitive, node.args, links, node.params, position))
        self.size = len(graph.nodes)
        self.input_slots = tuple(index[id(node)] for node in graph.inputs)
        self.steps = tuple(steps)
        self.output_slots = tuple(index[id(node)] for node in graph.outputs)
        self.traced_constants = traced_constants
        self.expected = tuple((tuple(node.shape), np.dtype(node.dtype)) for node in graph.inputs)


def program(graph: Any) -> _Program:
    """The compiled program of ``graph`` (built on first use and cached on the graph)."""
    compiled = graph._program
    if compiled is None:
        compiled = _Program(graph)
        object.__setattr__(graph, "_program", compiled)
    return compiled


def replay(graph: Any, args: tuple) -> Any:
    """Run the nodes of ``graph`` in order on ``args`` (pytrees like the traced ones).

    Raises
    ------
    TypeError
        If the arguments differ from the traced ones in number, pytree structure, or
        the shape or dtype of a leaf.
    """
    compiled = program(graph)
    leaves, in_tree = tree_flatten(args)
    if graph.in_tree is not None and in_tree != graph.in_tree:
        _structure_error(graph, args, in_tree)
    if len(leaves) != len(compiled.input_slots):
        raise TypeError(
            f"Graph {graph.name}: expected {len(compiled.input_slots)} array leaves in the "
            f"arguments, got {len(leaves)}"
        )
    env: list = [None] * compiled.size
    traced = compiled.traced_constants
    for number, (slot, (shape, dtype), leaf) in enumerate(
        zip(compiled.input_slots, compiled.expected, leaves)
    ):
        if type(leaf) is Tracer:
            traced = True
            leaf_shape, leaf_dtype = tuple(leaf.shape), np.dtype(leaf.dtype)
        else:
            leaf = _as_input(leaf, dtype)
            leaf_shape, leaf_dtype = _shape_and_dtype(leaf)
        if leaf_shape != shape or leaf_dtype != dtype:
            _leaf_error(graph, number, leaf, leaf_shape, leaf_dtype, shape, dtype)
        env[slot] = leaf
    if traced:
        for primitive, recorded, links, params, position in compiled.steps:
            if len(recorded) == 1 and links:  # one argument, from a node: the common case
                value = env[links[0][1]]
                env[position] = (
                    bind_unary(primitive, value, params)
                    if type(value) is Tracer
                    else primitive.impl(value, **params)
                )
                continue
            if links:
                recorded = list(recorded)
                for argnum, source in links:
                    recorded[argnum] = env[source]
            env[position] = call_primitive(primitive, tuple(recorded), params)
    else:
        for primitive, recorded, links, params, position in compiled.steps:
            if links:
                recorded = list(recorded)
                for argnum, source in links:
                    recorded[argnum] = env[source]
            env[position] = primitive.impl(*recorded, **params)
    outputs = [env[slot] for slot in compiled.output_slots]
    if graph.out_tree is None:
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
    return tree_unflatten(graph.out_tree, outputs)


def _as_input(leaf: Any, dtype: np.dtype) -> Any:
    """A Python float becomes a NumPy scalar of the traced dtype, as tracing made it."""
    if type(leaf) is float and dtype.kind == "f":
        return dtype.type(leaf)
    return leaf


def _shape_and_dtype(leaf: Any) -> tuple:
    if isinstance(leaf, (np.ndarray, np.generic)):
        return leaf.shape, leaf.dtype
    if isinstance(leaf, (bool, int, float, complex)):
        return (), np.result_type(leaf)
    return None, None


def _structure_error(graph: Any, args: tuple, in_tree: Any) -> None:
    expected = graph.in_tree
    if expected.kind == "tuple" and len(args) != len(expected.children):
        raise TypeError(
            f"Graph {graph.name}: takes {len(expected.children)} positional argument(s), as "
            f"traced, but got {len(args)}"
        )
    for position, (given, traced) in enumerate(zip(in_tree.children, expected.children)):
        if given != traced:
            raise TypeError(
                f"Graph {graph.name}: argument {position} has pytree structure {given}, but "
                f"the graph was traced with structure {traced}; pass an argument of the "
                f"traced structure, or trace the function again"
            )
    raise TypeError(
        f"Graph {graph.name}: the arguments have structure {in_tree}, but the graph was "
        f"traced with {expected}"
    )


def _leaf_error(
    graph: Any,
    number: int,
    leaf: Any,
    shape: tuple,
    dtype: Any,
    expected_shape: tuple,
    expected_dtype: Any,
) -> None:
    where = f"leaf {number}"
    if graph.in_tree is not None and graph.in_tree.kind == "tuple":
        paths = []
        for position, child in enumerate(graph.in_tree.children):
            paths.extend(leaf_paths(child, f"argument {position}"))
        where = paths[number]
    if dtype is None:
        raise TypeError(
            f"Graph {graph.name}: {where} is a {type(leaf).__name__} ({leaf!r:.40}), not an "
            f"array or a number; the graph was traced with an array of shape "
            f"{expected_shape} and dtype {expected_dtype} there"
        )
    raise TypeError(
        f"Graph {graph.name}: {where} ({type(leaf).__name__}) has shape {shape} and dtype "
        f"{dtype}, but the graph was traced with shape {expected_shape} and dtype "
        f"{expected_dtype}; a graph replays only on arguments like the traced ones, so "
        f"convert the argument (e.g. .astype({str(expected_dtype)!r})) or trace the "
        f"function again for new shapes or dtypes"
    )
