"""Turn a simplified :class:`~adfun._engine.graph.Graph` into one straight-line Python function.

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

import operator
from typing import Any, Callable

import numpy as np

from adfun._engine.records import CONSTANT, INPUT

#: NumPy evaluates operators on scalars of these dtypes with the ufunc's own arithmetic.
_SCALAR_DTYPES = tuple(np.dtype(name) for name in ("float32", "float64", "complex64", "complex128"))
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


#: Larger programs are run by a loop instead: compiling Python source grows faster than
#: linearly with its length (about 4 s for 250,000 statements).
MAX_GENERATED_STEPS = 20_000


class _Step:
    """One node of the plan: what to call, on which values, into which buffer."""

    __slots__ = ("position", "function", "operands", "params", "out", "symbol", "released")

    def __init__(self, position: int, function: Any, operands: list, params: Any) -> None:
        self.position = position
        self.function = function
        self.operands = operands  # ("v", position) of a value, or ("k", constant)
        self.params = params
        self.out: int | None = None  # position of a dead buffer to write into
        self.symbol: str | None = None  # a Python operator giving the same result
        self.released: list[int] = []  # positions of large values nothing reads any more


def _fresh(value: Any) -> Any:
    """A copy of an array (NumPy scalars are immutable and returned as they are)."""
    return value.copy() if isinstance(value, np.ndarray) else value


def compile_graph(
    graph: Any, copy_constant_outputs: bool = True, copy_outputs: Any = ()
) -> Callable:
    """A function of the graph's input values returning the tuple of its output values.

    Parameters
    ----------
    graph : Graph
        A graph whose inputs are exactly the input nodes it uses (as ``ad.jit`` builds).
    copy_constant_outputs : bool, optional
        Return a fresh copy of array constants that are outputs, so callers may modify
        the results without changing the staged program.
    copy_outputs : sequence of bool, optional
        Per output, whether to return a copy of its value (``ad.jit`` asks for one where
        simplification made an output the same array as an input or an earlier output,
        which the unstaged function would not return).

    Returns
    -------
    callable
        ``run(*input_values) -> tuple`` of the output values, in order.  Programs of up
        to :data:`MAX_GENERATED_STEPS` steps are compiled to Python source (kept in
        ``run.source``); longer ones are run by a loop over precomputed slots.
    """
    steps, constants = _plan(graph)
    nodes = graph.nodes
    index = {id(node): position for position, node in enumerate(nodes)}
    inputs = [index[id(node)] for node in graph.inputs]
    outputs: list[tuple[int, bool]] = []
    for node in graph.outputs:
        position = index[id(node)]
        copy = (
            copy_constant_outputs
            and node.primitive is CONSTANT
            and isinstance(node.args[0], np.ndarray)
        )
        if len(outputs) < len(copy_outputs) and copy_outputs[len(outputs)]:
            copy = True
        outputs.append((position, copy))
    if len(steps) <= MAX_GENERATED_STEPS:
        return _generate(graph.name, inputs, steps, constants, outputs)
    return _interpreter(len(nodes), inputs, steps, constants, outputs)


def _plan(graph: Any) -> tuple[list, dict]:
    """The steps of ``graph`` in order, with buffer reuse decided, and its constants."""
    nodes = graph.nodes
    index = {id(node): position for position, node in enumerate(nodes)}
    output_positions = {index[id(node)] for node in graph.outputs}
    input_positions = {index[id(node)] for node in graph.inputs}
    last_use: dict[int, int] = {}
    only_ufunc_readers: dict[int, bool] = {}
    for position, node in enumerate(nodes):
        reads_elementwise = _is_ufunc(node)
        for parent in node.parents:
            parent_position = index[id(parent)]
            last_use[parent_position] = position
            if not reads_elementwise:
                only_ufunc_readers[parent_position] = False
    constants: dict[int, Any] = {}
    owned: set[int] = set()
    pool: dict[tuple, list[int]] = {}
    steps = []
    for position, node in enumerate(nodes):
        if position in input_positions:
            continue
        primitive = node.primitive
        if primitive is INPUT:
            raise ValueError(
                f"Graph {graph.name}: node {node!r} is an input of the trace but not one of "
                f"the graph's inputs, so the graph cannot be staged"
            )
        if primitive is CONSTANT:
            constants[position] = node.args[0]
            continue
        parent_of = dict(zip(node.argnums, node.parents))
        operands = [
            ("v", index[id(parent_of[argnum])]) if argnum in parent_of else ("k", arg)
            for argnum, arg in enumerate(node.args)
        ]
        step = _Step(position, primitive.impl, operands, node.params)
        # Buffers whose last reader is this node become free before it runs: an
        # elementwise ufunc may write over an argument of exactly its own shape.
        for parent in set(node.parents):
            parent_position = index[id(parent)]
            if last_use.get(parent_position) != position or parent_position in output_positions:
                continue
            if parent_position in owned and only_ufunc_readers.get(parent_position, True):
                value = parent.value
                pool.setdefault((value.shape, value.dtype.str), []).append(parent_position)
            elif (
                parent_position not in input_positions
                and parent_position not in constants
                and getattr(parent.value, "nbytes", 0) >= _RELEASE_BYTES
            ):
                step.released.append(parent_position)
        step.symbol = _operator_symbol(node)
        if _owns_buffer(node):
            owned.add(position)
            value = node.value
            free = pool.get((value.shape, value.dtype.str))
            if free:
                step.out = free.pop()
        steps.append(step)
    return steps, constants


def _operator_symbol(node: Any) -> str | None:
    """The Python operator giving exactly the ufunc's result for ``node``, if any."""
    impl = node.primitive.impl
    if impl is np.negative:
        symbol = "neg" if len(node.args) == 1 else None
    else:
        symbol = _OPERATORS.get(impl) if len(node.args) == 2 else None
    if symbol is None or node.params:
        return None
    value = node.value
    if not isinstance(value, np.generic) or value.dtype not in _SCALAR_DTYPES:
        return None
    values = node.args
    if not all(_numeric_scalar(value) for value in values):
        return None
    if not any(isinstance(value, (np.generic, np.ndarray)) for value in values):
        return None
    return symbol


def _generate(name: str, inputs: list, steps: list, constants: dict, outputs: list) -> Callable:
    namespace: dict[str, Any] = {"_copy": _fresh}
    names = {position: f"a{number}" for number, position in enumerate(inputs)}
    for position, value in constants.items():
        names[position] = f"c{position}"
        namespace[f"c{position}"] = value
    lines = []
    for step in steps:
        position = step.position
        operands = []
        for number, (kind, item) in enumerate(step.operands):
            if kind == "v":
                operands.append(names[item])
            else:
                operands.append(f"k{position}_{number}")
                namespace[f"k{position}_{number}"] = item
        if step.symbol == "neg":
            expression = f"-{operands[0]}"
        elif step.symbol is not None:
            expression = f"{operands[0]} {step.symbol} {operands[1]}"
        else:
            namespace[f"f{position}"] = step.function
            if step.out is not None:
                operands.append(f"out={names[step.out]}")
            elif step.params:
                namespace[f"p{position}"] = step.params
                operands.append(f"**p{position}")
            expression = f"f{position}({', '.join(operands)})"
        names[position] = f"v{position}"
        lines.append(f"    v{position} = {expression}")
        if step.released:
            lines.append(f"    del {', '.join(names[item] for item in step.released)}")
    results = [
        f"_copy({names[position]})" if copy else names[position] for position, copy in outputs
    ]
    lines.append(f"    return ({', '.join(results)}{',' if results else ''})")
    parameters = ", ".join(f"a{number}" for number in range(len(inputs)))
    source = f"def staged({parameters}):\n" + "\n".join(lines) + "\n"
    code = compile(source, f"<adfun.jit {name}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source, over our own names
    run = namespace["staged"]
    run.source = source
    return run


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "neg": operator.neg,
}


def _interpreter(size: int, inputs: list, steps: list, constants: dict, outputs: list) -> Callable:
    entries = []
    for step in steps:
        template = [item if kind == "k" else None for kind, item in step.operands]
        links = tuple(
            (number, item) for number, (kind, item) in enumerate(step.operands) if kind == "v"
        )
        function: Callable[..., Any] = (
            _FUNCTIONS[step.symbol] if step.symbol is not None else step.function
        )
        params = None if step.symbol is not None else (step.params or None)
        entries.append(
            (
                function,
                tuple(template),
                links,
                params,
                step.out,
                step.position,
                tuple(step.released),
            )
        )
    program = tuple(entries)
    initial = [None] * size
    for position, value in constants.items():
        initial[position] = value

    def staged(*values: Any) -> tuple:
        env = list(initial)
        for position, value in zip(inputs, values):
            env[position] = value
        for function, template, links, params, out, position, released in program:
            args = list(template)
            for number, source in links:
                args[number] = env[source]
            if out is not None:
                env[position] = function(*args, out=env[out])
            elif params is not None:
                env[position] = function(*args, **params)
            else:
                env[position] = function(*args)
            for item in released:
                env[item] = None
        return tuple(_fresh(env[position]) if copy else env[position] for position, copy in outputs)

    return staged
