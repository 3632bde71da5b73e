"""The explicit expression DAG: topological order and the immutable ``Graph`` record."""

from __future__ import annotations

from typing import Any, Iterable

import attrs

from adfun._records import Node


def toposort(outputs: Iterable[Node]) -> list[Node]:
    """All nodes that ``outputs`` depend on, parents before children (iterative DFS)."""
    order: list[Node] = []
    visited: set[int] = set()
    for root in outputs:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(root.parents))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if id(parent) not in visited:
                    visited.add(id(parent))
                    stack.append((parent, iter(parent.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a constant argument, equal for equal constants."""
    if isinstance(value, (int, float, complex, str, bytes, bool, type(None))):
        return (type(value).__name__, value)
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "tobytes"):
        return ("array", tuple(shape), str(value.dtype), value.tobytes())
    if isinstance(value, slice):
        return ("slice", _freeze(value.start), _freeze(value.stop), _freeze(value.step))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_freeze(item) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple((key, _freeze(item)) for key, item in value.items()))
    if value is Ellipsis:
        return ("ellipsis",)
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return ("object", value)


@attrs.frozen(eq=False)
class Graph:
    """A traced program: the immutable expression DAG of one call.

    Attributes
    ----------
    inputs : tuple of Node
        The graph's input nodes, one per flattened argument leaf.
    outputs : tuple of Node
        The nodes of the flattened outputs.
    nodes : tuple of Node
        Every node the outputs depend on, in topological order (inputs included).
    in_tree, out_tree : TreeDef or None
        The pytree structures of the arguments and of the result.
    """

    inputs: tuple
    outputs: tuple
    nodes: tuple
    in_tree: Any = None
    out_tree: Any = None
    _key: Any = attrs.field(default=None, alias="_key", repr=False)

    @classmethod
    def build(cls, inputs: Iterable[Node], outputs: Iterable[Node], **trees: Any) -> Graph:
        inputs = tuple(inputs)
        outputs = tuple(outputs)
        nodes = list(inputs)
        seen = {id(node) for node in inputs}
        for node in toposort(outputs):
            if id(node) not in seen:
                seen.add(id(node))
                nodes.append(node)
        return cls(inputs, outputs, tuple(nodes), **trees)

    def structure(self) -> tuple:
        """The structural key that equality and hashing use (computed in one pass)."""
        if self._key is not None:
            return self._key
        index = {id(node): position for position, node in enumerate(self.nodes)}
        rows = []
        for node in self.nodes:
            parent_positions = tuple(index[id(parent)] for parent in node.parents)
            constants = tuple(
                _freeze(arg)
                for position, arg in enumerate(node.args)
                if position not in node.argnums
            )
            rows.append(
                (
                    node.primitive,
                    parent_positions,
                    node.argnums,
                    constants,
                    _freeze(dict(node.params)),
                    tuple(node.shape),
                    str(node.dtype),
                )
            )
        key = (
            tuple(rows),
            tuple(index[id(node)] for node in self.inputs),
            tuple(index[id(node)] for node in self.outputs),
            self.in_tree,
            self.out_tree,
        )
        object.__setattr__(self, "_key", key)
        return key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Graph):
            return NotImplemented
        return self is other or self.structure() == other.structure()

    def __hash__(self) -> int:
        return hash(self.structure())

    def __call__(self, *args: Any) -> Any:
        """Evaluate the recorded program on new arguments (same shapes and dtypes)."""
        from adfun._replay import replay

        return replay(self, args)

    def __str__(self) -> str:
        from adfun._listing import graph_listing

        return graph_listing(self)

    def to_dot(self) -> str:
        """Graphviz DOT source for this graph (no Graphviz needed to produce it)."""
        from adfun._listing import graph_dot

        return graph_dot(self)
