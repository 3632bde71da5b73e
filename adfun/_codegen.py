"""Turn a simplified :class:`~adfun._graph.Graph` into one straight-line Python function.

``ad.jit`` replays a staged graph many times, so each call should cost little more than
the NumPy calls themselves.  The graph is compiled once into the source of a function
with one statement per node (``v7 = f7(v3, k7_1)``): no per-call loop, no argument lists
to rebuild, no dictionary lookups.  Two cheap specialisations:

* arithmetic on NumPy floating scalars (``add``, ``subtract``, ``multiply``,
  ``true_divide``, ``negative`` on 0-d values) is written with Python operators, which
  NumPy evaluates with the same IEEE operation as the ufunc but without the ufunc's
  per-call machinery (ten times cheaper on scalars);
* an elementwise ufunc whose result has exactly the shape and dtype of a buffer that is
  provably dead writes into that buffer (``out=``) instead of allocating.  A buffer is
  *provably dead* when it was produced by a ufunc of this program (so it is a fresh array,
  not an input, a constant or a view), every node that reads it is an elementwise ufunc
  (so nothing can hold a view of it), it is not an output, and its last reader has run.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from adfun._records import CONSTANT, INPUT

_OPERATORS = {np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/"}
#: Arrays at least this large are deleted as soon as no later statement reads them.
_RELEASE_BYTES = 1 << 16


def _is_ufunc(node: Any) -> bool:
    impl = node.primitive.impl
    return type(impl) is np.ufunc and impl.nout == 1 and not node.params


def _owns_buffer(node: Any) -> bool:
    """Whether ``node``'s value is a fresh ndarray made by a ufunc of the program."""
    value = node.value
    return _is_ufunc(node) and type(value) is np.ndarray and value.ndim > 0


def _numeric_scalar(value: Any) -> bool:
    if isinstance(value, np.generic):
        return True
    if type(value) is np.ndarray:
        return value.ndim == 0
    return type(value) in (int, float)


def _operator_form(node: Any, operands: list) -> str | None:
    """``node`` written with a Python operator, when that gives the ufunc's exact result."""
    impl = node.primitive.impl
    if node.params or not isinstance(node.value, (np.floating, np.complexfloating)):
        return None
    values = node.args
    if not all(_numeric_scalar(value) for value in values):
        return None
    if not any(isinstance(value, (np.generic, np.ndarray)) for value in values):
        return None
    if impl is np.negative and len(operands) == 1:
        return f"-{operands[0]}"
    symbol = _OPERATORS.get(impl)
    if symbol is None or len(operands) != 2:
        return None
    return f"{operands[0]} {symbol} {operands[1]}"


def compile_graph(graph: Any, copy_constant_outputs: bool = True) -> Callable:
    """A function of the graph's input values returning the tuple of its output values.

    Parameters
    ----------
    graph : Graph
        A graph whose inputs are exactly the input nodes it uses (as ``ad.jit`` builds).
    copy_constant_outputs : bool, optional
        Return a fresh copy of array constants that are outputs, so callers may modify
        the results without changing the staged program.

    Returns
    -------
    callable
        ``run(*input_values) -> tuple`` of the output values, in order.
    """
    nodes = graph.nodes
    index = {id(node): position for position, node in enumerate(nodes)}
    output_positions = {index[id(node)] for node in graph.outputs}
    last_use: dict[int, int] = {}
    only_ufunc_readers: dict[int, bool] = {}
    for position, node in enumerate(nodes):
        reads_elementwise = _is_ufunc(node)
        for parent in node.parents:
            parent_position = index[id(parent)]
            last_use[parent_position] = position
            if not reads_elementwise:
                only_ufunc_readers[parent_position] = False

    namespace: dict[str, Any] = {"_copy": np.copy}
    names: dict[int, str] = {}
    parameters = []
    for number, node in enumerate(graph.inputs):
        names[index[id(node)]] = f"a{number}"
        parameters.append(f"a{number}")
    owned: set[int] = set()
    pool: dict[tuple, list[str]] = {}
    lines = []
    for position, node in enumerate(nodes):
        if position in names:
            continue
        primitive = node.primitive
        if primitive is INPUT:
            raise ValueError(
                f"Graph {graph.name}: node {node!r} is an input of the trace but not one of "
                f"the graph's inputs, so the graph cannot be staged"
            )
        if primitive is CONSTANT:
            names[position] = f"c{position}"
            namespace[f"c{position}"] = node.args[0]
            continue
        operands = []
        parent_of = dict(zip(node.argnums, node.parents))
        for argnum, arg in enumerate(node.args):
            parent = parent_of.get(argnum)
            if parent is not None:
                operands.append(names[index[id(parent)]])
            else:
                name = f"k{position}_{argnum}"
                namespace[name] = arg
                operands.append(name)
        # Buffers whose last reader is this node become free before it runs: an
        # elementwise ufunc may write over an argument of exactly its own shape.
        released = []
        for parent in set(node.parents):
            parent_position = index[id(parent)]
            if last_use.get(parent_position) != position:
                continue
            if (
                parent_position in owned
                and only_ufunc_readers.get(parent_position, True)
                and parent_position not in output_positions
            ):
                value = parent.value
                pool.setdefault((value.shape, value.dtype.str), []).append(
                    names[parent_position]
                )
            elif (
                parent_position not in output_positions
                and names[parent_position].startswith("v")
                and getattr(parent.value, "nbytes", 0) >= _RELEASE_BYTES
            ):
                released.append(names[parent_position])
        name = f"v{position}"
        names[position] = name
        expression = _operator_form(node, operands)
        if expression is None:
            function = f"f{position}"
            namespace[function] = primitive.impl
            arguments = ", ".join(operands)
            if _owns_buffer(node):
                value = node.value
                free = pool.get((value.shape, value.dtype.str))
                if free:
                    arguments += f", out={free.pop()}"
            elif node.params:
                namespace[f"p{position}"] = node.params
                arguments += f", **p{position}" if arguments else f"**p{position}"
            expression = f"{function}({arguments})"
        if _owns_buffer(node):
            owned.add(position)
        lines.append(f"    {name} = {expression}")
        if released:
            lines.append(f"    del {', '.join(released)}")

    results = []
    for node in graph.outputs:
        name = names[index[id(node)]]
        if (
            copy_constant_outputs
            and node.primitive is CONSTANT
            and isinstance(node.args[0], np.ndarray)
        ):
            name = f"_copy({name})"
        results.append(name)
    lines.append(f"    return ({', '.join(results)}{',' if results else ''})")
    source = f"def staged({', '.join(parameters)}):\n" + "\n".join(lines) + "\n"
    code = compile(source, f"<adfun.jit {graph.name}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source, over our own names
    run = namespace["staged"]
    run.source = source  # type: ignore[attr-defined]
    return run
