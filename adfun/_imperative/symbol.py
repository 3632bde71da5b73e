"""A symbol-like view of a recorded graph: what ``autograd.get_symbol(y)`` returns.

MXNet's ``get_symbol`` turns the recorded history of an array into a ``Symbol``.  adfun's
recording already is an immutable graph (:class:`~adfun._engine.graph.Graph`); this module
gives it the part of the ``Symbol`` interface that code inspecting a recording uses:
``list_arguments()``, ``list_outputs()``, ``tojson()``, ``get_internals``-free printing
and the :class:`~adfun._engine.graph.Graph` itself (``.graph``).

Naming follows MXNet's recordings: variables (arrays that called ``attach_grad()``) are
``var0``, ``var1``, ... in the order the graph meets them, array constants an operation
used are ``null0``, ``null1``, ... (MXNet lists them among the arguments too), operations
are ``node_0``, ``node_1``, ... and an output is ``<operation>_output``.  The operation
names are adfun's primitives (``multiply``, ``sin``), not MXNet's operator names.
"""

from __future__ import annotations

import json

import numpy as np

from adfun._engine.graph import Graph, toposort
from adfun._engine.records import INPUT, Node
from adfun._imperative.recording import VariableNode


class Symbol:
    """The recorded graph of one or more arrays, seen as an MXNet ``Symbol``.

    Attributes
    ----------
    graph : Graph
        The recorded graph (inputs: the variables, outputs: the heads).
    """

    def __init__(self, heads: list) -> None:
        order = toposort(heads)
        self._entries: list = []  # (name, op, node or constant, inputs, attrs)
        position: dict = {}
        variables = 0
        constants = 0
        operations = 0
        for node in order:
            if node.primitive is INPUT:
                name = f"var{variables}" if type(node) is VariableNode else f"null{constants}"
                if type(node) is VariableNode:
                    variables += 1
                else:
                    constants += 1
                position[id(node)] = len(self._entries)
                self._entries.append((name, "null", node, [], {}))
                continue
            inputs = []
            attrs: dict = {str(key): repr(value) for key, value in node.params.items()}
            parents = dict(zip(node.argnums, node.parents))
            for index, arg in enumerate(node.args):
                parent = parents.get(index)
                if parent is not None:
                    inputs.append(position[id(parent)])
                elif isinstance(arg, np.ndarray) and arg.ndim > 0:
                    position_of_constant = len(self._entries)
                    self._entries.append((f"null{constants}", "null", arg, [], {}))
                    constants += 1
                    inputs.append(position_of_constant)
                else:
                    attrs[f"arg{index}"] = repr(arg.item() if isinstance(arg, np.generic) else arg)
            position[id(node)] = len(self._entries)
            self._entries.append((f"node_{operations}", node.primitive.name, node, inputs, attrs))
            operations += 1
        self._heads = [position[id(node)] for node in heads]
        variable_nodes = [node for node in order if type(node) is VariableNode]
        self.graph = Graph.build(variable_nodes, heads, name="autograd.get_symbol")

    @property
    def name(self) -> str:
        """The name of the (first) output's operation, as ``Symbol.name``."""
        return self._entries[self._heads[0]][0]

    def list_arguments(self) -> list:
        """The names of the graph's inputs: variables (``var0``, ...) and array constants
        (``null0``, ...), in the order the graph uses them."""
        return [name for name, op, *_ in self._entries if op == "null"]

    def list_outputs(self) -> list:
        """The names of the outputs: ``<operation>_output`` (``var0`` for a variable)."""
        names = []
        for head in self._heads:
            name, op = self._entries[head][:2]
            names.append(name if op == "null" else f"{name}_output")
        return names

    def list_inputs(self) -> list:
        """All inputs, as :meth:`list_arguments` (a recording has no auxiliary states)."""
        return self.list_arguments()

    def tojson(self) -> str:
        """The graph in the layout of MXNet's symbol JSON (``nodes``, ``arg_nodes``,
        ``node_row_ptr``, ``heads``), with adfun's operation names."""
        nodes = []
        for name, op, _, inputs, attrs in self._entries:
            entry: dict = {"op": op, "name": name}
            if attrs:
                entry["attrs"] = attrs
            entry["inputs"] = [[index, 0, 0] for index in inputs]
            nodes.append(entry)
        document = {
            "nodes": nodes,
            "arg_nodes": [index for index, entry in enumerate(self._entries) if entry[1] == "null"],
            "node_row_ptr": list(range(len(self._entries) + 1)),
            "heads": [[index, 0, 0] for index in self._heads],
            "attrs": {"producer": ["str", "adfun"]},
        }
        return json.dumps(document, indent=2)

    def debug_str(self) -> str:
        """One line per operation: ``name = op(inputs) attrs``."""
        lines = []
        for name, op, _, inputs, attrs in self._entries:
            if op == "null":
                lines.append(f"Variable:{name}")
                continue
            arguments = ", ".join(self._entries[index][0] for index in inputs)
            extra = "".join(f" {key}={value}" for key, value in attrs.items())
            lines.append(f"{name} = {op}({arguments}){extra}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.debug_str()

    def __repr__(self) -> str:
        return f"<Symbol {self.name}>"

    def __len__(self) -> int:
        return len(self._heads)


def symbol_of(heads: list[Node]) -> Symbol:
    """The :class:`Symbol` of the recorded nodes ``heads``."""
    return Symbol(heads)
