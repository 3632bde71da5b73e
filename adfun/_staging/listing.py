"""Text forms of a :class:`~adfun._engine.graph.Graph`: a readable listing and Graphviz DOT.

The listing reads like a small program, one line per node.  For
``def f(x, y): return anp.sum(anp.sin(x) * w * y)`` with ``w = np.array([1., 2., 3.])``::

    graph f(a:f64[3], b:f64[]) {
      k0:f64[3] = const [1. 2. 3.]
      c:f64[3] = sin a
      d:f64[3] = multiply c k0
      e:f64[3] = multiply d b
      f:f64[] = sum[axis=None keepdims=False] e
      return f
    }

Each node gets a short name (``a``, ``b``, ..., ``z``, ``aa``, ...) and a type, dtype
abbreviated and shape in brackets (``f64[3,4]``, ``f32[]``).  Parameters follow the
primitive's name in brackets; arguments are names of earlier nodes or literal
constants.  Array constants (of one or more dimensions) are bound first to names
``k0``, ``k1``, ... so that long values do not clutter the program lines.
"""

from __future__ import annotations

import functools
import html
import shutil
import subprocess
from typing import Any

import numpy as np

from adfun._engine.pytree import leaf_paths

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_KIND_PREFIX = {"f": "f", "i": "i", "u": "u", "c": "c"}


def node_name(position: int) -> str:
    """The listing name of the node at ``position``: a, ..., z, aa, ab, ..., zz, aaa, ..."""
    letters = []
    position += 1
    while position:
        position, digit = divmod(position - 1, 26)
        letters.append(_LETTERS[digit])
    return "".join(reversed(letters))


def short_dtype(dtype: Any) -> str:
    """``f64``, ``f32``, ``i64``, ``u8``, ``c128``, ``bool`` ... for a NumPy dtype."""
    dtype = np.dtype(dtype)
    prefix = _KIND_PREFIX.get(dtype.kind)
    if prefix is not None:
        return f"{prefix}{dtype.itemsize * 8}"
    if dtype.kind == "b":
        return "bool"
    return str(dtype)


@functools.lru_cache(maxsize=512)
def type_text(shape: tuple, dtype: Any) -> str:
    """``f64[3,4]`` for shape ``(3, 4)`` and dtype float64."""
    return f"{short_dtype(dtype)}[{','.join(str(side) for side in shape)}]"


def _node_type(node: Any) -> str:
    return type_text(tuple(node.shape), node.dtype)


def _is_named_constant(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.ndim > 0


def _array_text(value: np.ndarray) -> str:
    text = np.array2string(value, threshold=8, edgeitems=2, max_line_width=10**6)
    return " ".join(text.split())


def constant_text(value: Any) -> str:
    """A short literal for a constant argument or a parameter value."""
    kind = type(value)
    if value is None or kind in (bool, int, float, complex, str):
        return repr(value)
    if isinstance(value, np.generic) and not isinstance(value, np.void):
        return repr(value.item())
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return repr(value[()].item())
        return _array_text(value)
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, type):
        return value.__name__
    if kind is slice:
        parts = [
            "" if part is None else constant_text(part)
            for part in (value.start, value.stop, value.step)
        ]
        return ":".join(parts[:2] if value.step is None else parts)
    if value is Ellipsis:
        return "..."
    if kind is tuple:
        inner = ", ".join(constant_text(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if kind is list:
        return "[" + ", ".join(constant_text(item) for item in value) + "]"
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        try:
            return f"<{kind.__name__} {type_text(tuple(shape), dtype)}>"
        except TypeError:
            pass
    return f"<{kind.__name__}>"


def params_text(params: Any) -> str:
    """``[axis=(0,) keepdims=False]`` for a node's parameters, ``""`` when there are none."""
    if not params:
        return ""
    return "[" + " ".join(f"{key}={constant_text(value)}" for key, value in params.items()) + "]"


class _Namer:
    """Names for the nodes of one graph and for its array constants."""

    def __init__(self, graph: Any) -> None:
        self.names = {id(node): node_name(position) for position, node in enumerate(graph.nodes)}
        self.constants: dict[int, tuple[str, Any]] = {}

    def node(self, node: Any) -> str:
        return self.names[id(node)]

    def argument_texts(self, node: Any) -> list[str]:
        """The text of each positional argument of ``node``: a node name or a constant."""
        names = self.names
        if len(node.args) == len(node.parents):  # no constants: the common case
            texts = [""] * len(node.args)
            for parent, argnum in zip(node.parents, node.argnums):
                texts[argnum] = names[id(parent)]
            return texts
        texts = [""] * len(node.args)
        for parent, argnum in zip(node.parents, node.argnums):
            texts[argnum] = self.names[id(parent)]
        for position, value in enumerate(node.args):
            if position in node.argnums:
                continue
            if _is_named_constant(value):
                entry = self.constants.get(id(value))
                if entry is None:
                    entry = (f"k{len(self.constants)}", value)
                    self.constants[id(value)] = entry
                texts[position] = entry[0]
            else:
                texts[position] = constant_text(value)
        return texts


def _tree_text(tree: Any, leaves: list[str]) -> str:
    """``leaves`` arranged in the pytree structure ``tree`` (``(a, {'w': b})``)."""
    iterator = iter(leaves)

    def build(node: Any) -> str:
        if node.kind == "leaf":
            return next(iterator)
        inner = [build(child) for child in node.children]
        if node.kind == "dict":
            return "{" + ", ".join(f"{key!r}: {text}" for key, text in zip(node.keys, inner)) + "}"
        if node.kind == "list":
            return "[" + ", ".join(inner) + "]"
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"

    return build(tree)


def _signature(graph: Any, namer: _Namer) -> str:
    leaves = [f"{namer.node(node)}:{_node_type(node)}" for node in graph.inputs]
    tree = graph.in_tree
    if tree is None or tree.kind != "tuple" or tree.num_leaves != len(leaves):
        return ", ".join(leaves)
    iterator = iter(leaves)
    parts = []
    for child in tree.children:
        parts.append(_tree_text(child, [next(iterator) for _ in range(child.num_leaves)]))
    return ", ".join(parts)


def _returned(graph: Any, namer: _Namer) -> str:
    names = [namer.node(node) for node in graph.outputs]
    tree = graph.out_tree
    if tree is None or tree.num_leaves != len(names):
        return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
    return _tree_text(tree, names)


def graph_listing(graph: Any) -> str:
    """The readable listing of ``graph`` (what ``str(graph)`` returns).

    Parameters
    ----------
    graph : Graph
        A traced program.

    Returns
    -------
    str
        ``graph NAME(INPUTS) {``, then one line per array constant and per node
        (``name:type = primitive[params] arguments``), then ``return OUTPUTS`` and ``}``.
    """
    namer = _Namer(graph)
    inputs = {id(node) for node in graph.inputs}
    lines = []
    for node in graph.nodes:
        if id(node) in inputs:
            continue
        arguments = " ".join(namer.argument_texts(node))
        head = f"{namer.node(node)}:{_node_type(node)} = "
        lines.append(
            f"  {head}{node.primitive.name}{params_text(node.params)}"
            + (f" {arguments}" if arguments else "")
        )
    constants = [
        f"  {name}:{type_text(tuple(value.shape), value.dtype)} = const {_array_text(value)}"
        for name, value in namer.constants.values()
    ]
    header = f"graph {graph.name}({_signature(graph, namer)}) {{"
    footer = f"  return {_returned(graph, namer)}"
    return "\n".join([header, *constants, *lines, footer, "}"])


# --------------------------------------------------------------------------------------
# Graphviz
# --------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    """A DOT double-quoted string; newlines become DOT's centred line break."""
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def graph_dot(graph: Any) -> str:
    """Graphviz DOT source for ``graph`` (what ``graph.to_dot()`` returns).

    Inputs are shaded ellipses, each node a box labelled with its listing name, its
    primitive and parameters, and its type; constant arguments are grey notes; every
    output gets a ``return`` marker labelled with its place in the output pytree.  Edges
    into a node of several arguments are labelled with the argument position.
    """
    namer = _Namer(graph)
    index = {id(node): position for position, node in enumerate(graph.nodes)}
    inputs = {id(node) for node in graph.inputs}
    drawn: set[str] = set()
    lines = [
        f"digraph {_quote(graph.name)} {{",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9, color="#444444"];',
    ]
    for position, node in enumerate(graph.nodes):
        name = namer.node(node)
        if id(node) in inputs:
            label = f"{name}\n{_node_type(node)}"
            lines.append(
                f"  n{position} [label={_quote(label)}, shape=ellipse, "
                f'style=filled, fillcolor="#dbe9f6"];'
            )
            continue
        label = f"{name} = {node.primitive.name}{params_text(node.params)}\n{_node_type(node)}"
        lines.append(f"  n{position} [label={_quote(label)}, shape=box];")
        several = len(node.args) > 1
        constants = len(node.args) != len(node.parents)
        texts = namer.argument_texts(node) if constants else ()
        for argument, value in enumerate(node.args if constants else ()):
            if argument in node.argnums:
                continue
            edge_label = f' [label="{argument}"]' if several else ""
            text = texts[argument]
            if _is_named_constant(value):
                # one shared box per array constant, however often it is used
                constant = text
                if constant in drawn:
                    lines.append(f"  {constant} -> n{position}{edge_label};")
                    continue
                drawn.add(constant)
                text = f"{text}\n{type_text(tuple(value.shape), value.dtype)}"
            else:
                constant = f"c{position}_{argument}"
            lines.append(
                f"  {constant} [label={_quote(text)}, shape=note, "
                f'fontcolor="#555555", color="#999999"];'
            )
            lines.append(f"  {constant} -> n{position}{edge_label};")
        for parent, argument in zip(node.parents, node.argnums):
            edge_label = f' [label="{argument}"]' if several else ""
            lines.append(f"  n{index[id(parent)]} -> n{position}{edge_label};")
    tree = graph.out_tree
    if tree is not None and tree.num_leaves == len(graph.outputs):
        paths = leaf_paths(tree, "return")
    else:
        paths = [f"return[{number}]" for number in range(len(graph.outputs))]
    for number, (node, path) in enumerate(zip(graph.outputs, paths)):
        lines.append(f"  out{number} [label={_quote(path)}, shape=plaintext];")
        lines.append(f"  n{index[id(node)]} -> out{number} [style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# Notebook display
# --------------------------------------------------------------------------------------

#: Graphs with more nodes are shown as a table: Graphviz takes seconds on them.
MAX_DRAWN_NODES = 400


def graph_svg(graph: Any) -> str | None:
    """The graph drawn by Graphviz as SVG, or ``None`` without a working ``dot``."""
    dot = shutil.which("dot")
    if dot is None or len(graph.nodes) > MAX_DRAWN_NODES:
        return None
    try:
        result = subprocess.run(
            [dot, "-Tsvg"], input=graph_dot(graph), capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0 or "<svg" not in result.stdout:
        return None
    return result.stdout[result.stdout.index("<svg") :]


def graph_table(graph: Any) -> str:
    """The listing as an HTML table: one row per input, constant and node."""
    namer = _Namer(graph)
    inputs = {id(node) for node in graph.inputs}
    rows = []
    for node in graph.nodes:
        name = html.escape(namer.node(node))
        kind = html.escape(_node_type(node))
        if id(node) in inputs:
            rows.append(f"<tr><td><b>{name}</b></td><td>{kind}</td><td><i>input</i></td></tr>")
            continue
        operation = html.escape(node.primitive.name + params_text(node.params))
        arguments = html.escape(" ".join(namer.argument_texts(node)))
        rows.append(
            f"<tr><td><b>{name}</b></td><td>{kind}</td><td>{operation} {arguments}</td></tr>"
        )
    constants = [
        f"<tr><td><b>{html.escape(name)}</b></td>"
        f"<td>{html.escape(type_text(tuple(value.shape), value.dtype))}</td>"
        f"<td>const {html.escape(_array_text(value))}</td></tr>"
        for name, value in namer.constants.values()
    ]
    returned = html.escape(_returned(graph, namer))
    return (
        '<table class="adfun-graph">'
        f"<caption>graph {html.escape(graph.name)}: {len(graph.nodes)} nodes</caption>"
        "<thead><tr><th>name</th><th>type</th><th>computes</th></tr></thead><tbody>"
        + "".join(constants + rows)
        + f"<tr><td colspan='3'>return <b>{returned}</b></td></tr></tbody></table>"
    )


def graph_html(graph: Any) -> str:
    """What a notebook shows for a graph: Graphviz's SVG when ``dot`` is installed (and
    the graph is not huge), else :func:`graph_table`."""
    svg = graph_svg(graph)
    if svg is not None:
        return f'<div class="adfun-graph" title="graph {html.escape(graph.name)}">{svg}</div>'
    return graph_table(graph)
