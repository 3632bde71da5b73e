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

import math
import operator
from typing import Any, Callable

import numpy as np

from adfun._engine.records import CONSTANT, INPUT
from adfun._staging.blocks import Blocks, find_blocks
from adfun._staging.fusion import (
    FLOAT_TEMPLATES,
    exact_math_function,
    find_kernels,
    float_operand,
    strict_errors,
)
from adfun._staging.loops import Loop, find_loops
from adfun._staging.recycle import BUDGET_BYTES, Recycler, recyclable

#: NumPy evaluates operators on scalars of these dtypes with the ufunc's own arithmetic.
_SCALAR_DTYPES = tuple(np.dtype(name) for name in ("float32", "float64", "complex64", "complex128"))
_FLOAT64 = np.dtype(np.float64)
_OPERATORS = {np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/"}
#: Arrays at least this large are deleted as soon as no later statement reads them.
_RELEASE_BYTES = 1 << 16


def _region(kernel: Any) -> bool:
    """Whether ``kernel`` computes a region with several stored values (else numexpr's)."""
    return type(kernel) is Loop or type(kernel) is Blocks


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

    __slots__ = (
        "position",
        "function",
        "operands",
        "params",
        "out",
        "symbol",
        "released",
        "kernel",
        "template",
        "to_float",
        "defines",
        "recycler",
    )

    def __init__(self, position: int, function: Any, operands: list, params: Any) -> None:
        self.position = position
        self.function = function
        self.operands = operands  # ("v", position) of a value, or ("k", constant)
        self.params = params
        self.out: int | None = None  # position of a dead buffer to write into
        self.symbol: str | None = None  # a Python operator giving the same result
        self.released: list[int] = []  # positions of large values nothing reads any more
        self.kernel: Any = None  # a fused kernel computing this node and those it inlines
        self.template: str | None = None  # Python float code computing it (its function
        # is then a math function, or None for arithmetic)
        self.to_float = False  # make the result a Python float (read by Python float code)
        self.defines: list[int] = [position]  # positions the step stores (a loop: several)
        self.recycler: Recycler | None = None  # arrays of earlier calls to write into


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
    steps, constants = _plan(graph, accelerate=True)
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
    accelerated = any(step.kernel is not None or step.template is not None for step in steps)
    if len(steps) <= MAX_GENERATED_STEPS:
        if not accelerated:
            return _generate(graph.name, inputs, steps, constants, outputs)
        plain = _generate(graph.name, inputs, *_plan(graph, accelerate=False), outputs)
        return _generate(graph.name, inputs, steps, constants, outputs, plain, graph.nodes)
    if accelerated:
        steps, constants = _plan(graph, accelerate=False)
    return _interpreter(len(nodes), inputs, steps, constants, outputs)


def _plan(graph: Any, accelerate: bool = False) -> tuple[list, dict]:
    """The steps of ``graph`` in order, with buffer reuse decided, and its constants.

    With ``accelerate``, chains of large elementwise arithmetic become fused kernels and
    0-d float64 steps Python float code (:mod:`adfun._staging.fusion`).
    """
    nodes = graph.nodes
    index = {id(node): position for position, node in enumerate(nodes)}
    output_positions = {index[id(node)] for node in graph.outputs}
    input_positions = {index[id(node)] for node in graph.inputs}
    kernels: dict[int, Any] = {}
    inlined: set[int] = set()
    if accelerate:
        loops, looped = find_loops(nodes, index, output_positions)
        blocks, blocked = find_blocks(nodes, index, output_positions, exclude=looped)
        kernels, inlined = find_kernels(nodes, index, output_positions, exclude=looped | blocked)
        # A region is a kernel stored at its last position, computing the others.
        kernels.update(loops)
        kernels.update(blocks)
        inlined |= (looped - loops.keys()) | (blocked - blocks.keys())
    # What each stored step reads: a kernel reads its operands, not the nodes it inlines.
    reads: dict[int, list[int]] = {}
    for position, node in enumerate(nodes):
        if position in inlined:
            continue
        kernel = kernels.get(position)
        if kernel is not None:
            reads[position] = [item for kind, item in kernel.operands if kind == "v"]
        else:
            reads[position] = [index[id(parent)] for parent in node.parents]
    last_use: dict[int, int] = {}
    only_ufunc_readers: dict[int, bool] = {}
    for position, parents in reads.items():
        reads_elementwise = position in kernels or _is_ufunc(nodes[position])
        for parent_position in parents:
            last_use[parent_position] = position
            if not reads_elementwise:
                only_ufunc_readers[parent_position] = False
    constants: dict[int, Any] = {}
    owned: set[int] = set()
    pool: dict[tuple, list[int]] = {}
    steps = []
    for position, node in enumerate(nodes):
        if position in input_positions or position in inlined:
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
        kernel = kernels.get(position)
        if type(kernel) is Loop or type(kernel) is Blocks:
            step = _Step(position, kernel, kernel.operands, None)
            step.kernel = kernel
            step.defines = list(kernel.outputs)
            owned.update(kernel.outputs[:-1])  # fresh arrays, read elementwise or returned
        elif kernel is not None:
            step = _Step(position, kernel.compiled, kernel.operands, None)
            step.kernel = kernel
        else:
            parent_of = dict(zip(node.argnums, node.parents))
            operands = [
                ("v", index[id(parent_of[argnum])]) if argnum in parent_of else ("k", arg)
                for argnum, arg in enumerate(node.args)
            ]
            step = _Step(position, primitive.impl, operands, node.params)
        # Buffers whose last reader is this node become free before it runs: an
        # elementwise ufunc may write over an argument of exactly its own shape.
        for parent_position in sorted(set(reads[position])):
            parent = nodes[parent_position]
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
        if kernel is None:
            step.symbol = _operator_symbol(node)
            if accelerate:
                _float_template(step, node)
        if _owns_buffer(node):
            owned.add(position)
            value = node.value
            free = pool.get((value.shape, value.dtype.str))
            if free:
                # Not over one of a kernel's operands: numexpr may use its output as a
                # temporary of an earlier operation, before every operand is read (a
                # loop reads each element's operands before writing its result).
                reading = set(reads[position]) if kernel is not None else set()
                if type(kernel) is Loop:
                    reading = set()
                for number in range(len(free) - 1, -1, -1):
                    if free[number] not in reading:
                        step.out = free.pop(number)
                        break
        steps.append(step)
    if accelerate:
        _mark_float_results(steps, nodes, input_positions)
        _recycle(steps, nodes)
    return steps, constants


def _recycle(steps: list, nodes: list) -> None:
    """Give recyclers (:mod:`adfun._staging.recycle`) to the steps that allocate a large
    array for their result: ufuncs (``matmul`` among them) and numexpr kernels."""
    budget = BUDGET_BYTES
    for step in steps:
        if step.out is not None or step.symbol is not None or step.template is not None:
            continue
        if step.kernel is not None and _region(step.kernel):
            continue
        node = nodes[step.position]
        if step.kernel is None and not _owns_buffer(node):
            continue
        value = node.value
        if not recyclable(value) or value.nbytes * 2 > budget:
            continue
        budget -= value.nbytes * 2
        step.recycler = Recycler(value)


def _float_template(step: _Step, node: Any) -> None:
    """Write ``node`` as Python float code, if that gives exactly NumPy's result."""
    if not _is_ufunc(node) or type(node.value) is not np.float64:
        return
    if not all(float_operand(arg) for arg in node.args):
        return
    impl = node.primitive.impl
    template = FLOAT_TEMPLATES.get(impl)
    if template is not None and len(node.args) == impl.nin:
        step.template = template
        step.function = None
        return
    if len(node.args) == 1:
        function = exact_math_function(impl)
        if function is not None:
            step.template = "{f}({0})"
            step.function = function


def _mark_float_results(steps: list, nodes: list, input_positions: set) -> None:
    """Convert to Python floats the NumPy scalars that Python float code reads twice."""
    float_reads: dict[int, int] = {}
    for step in steps:
        if step.template is not None:
            for kind, item in step.operands:
                if kind == "v":
                    float_reads[item] = float_reads.get(item, 0) + 1
    for step in steps:
        if (
            step.template is None
            and step.kernel is None
            and float_reads.get(step.position, 0) >= 2
            and type(nodes[step.position].value) is np.float64
        ):
            step.to_float = True


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


def _generate(
    name: str,
    inputs: list,
    steps: list,
    constants: dict,
    outputs: list,
    plain: Callable | None = None,
    nodes: Any = (),
) -> Callable:
    """Compile ``steps`` to Python source.

    With ``plain`` (the same program without fused kernels and Python float code) and
    ``nodes``, the steps may hold kernels and float code: the function then runs
    ``plain`` instead where NumPy's floating-point error handling must be seen (an
    ``np.errstate`` that raises, when there are kernels; a Python float operation that
    raises, or a float result that is infinite or NaN, so that NumPy warns or raises).
    """
    namespace: dict[str, Any] = {"_copy": _fresh, "_plain": plain}
    names = {position: f"a{number}" for number, position in enumerate(inputs)}
    floats: dict[int, str] = {}  # positions whose value is (maybe) a Python float
    for position, value in constants.items():
        names[position] = f"c{position}"
        namespace[f"c{position}"] = value
    lines = []
    kernels = any(step.kernel is not None for step in steps)
    float_code = any(step.template is not None for step in steps)
    if float_code:
        namespace["_float"] = float
        namespace["_f64"] = np.float64
        read_as_float = {
            item
            for step in steps
            if step.template is not None
            for kind, item in step.operands
            if kind == "v"
        }
        for number, position in enumerate(inputs):
            if position in read_as_float and type(nodes[position].value) is np.float64:
                floats[position] = f"a{number}f"
                lines.append(f"a{number}f = _float(a{number})")
        for position, value in constants.items():
            if position in read_as_float and float_operand(value):
                floats[position] = f"c{position}f"
                namespace[f"c{position}f"] = float(value)
    for step in steps:
        position = step.position
        operands = []
        for number, (kind, item) in enumerate(step.operands):
            if kind == "v":
                operands.append(_operand_name(step, item, names, floats, nodes))
            else:
                operands.append(f"k{position}_{number}")
                namespace[f"k{position}_{number}"] = (
                    float(item) if step.template is not None else item
                )
        if step.template is not None:
            if step.function is not None:
                namespace[f"f{position}"] = step.function
            expression = step.template.format(*operands, f=f"f{position}")
            floats[position] = f"v{position}"
        elif step.symbol == "neg":
            expression = f"-{operands[0]}"
        elif step.symbol is not None:
            expression = f"{operands[0]} {step.symbol} {operands[1]}"
        else:
            namespace[f"f{position}"] = step.function
            if step.out is not None:
                operands.append(f"out={names[step.out]}")
            elif step.recycler is not None:
                namespace[f"t{position}"] = step.recycler.take
                operands.append(f"out=t{position}()")
            elif step.params:
                namespace[f"p{position}"] = step.params
                operands.append(f"**p{position}")
            if step.kernel is not None and not _region(step.kernel):
                operands.append("ex_uses_vml=False")
            expression = f"f{position}({', '.join(operands)})"
            if step.to_float:
                expression = f"_float({expression})"
                floats[position] = f"v{position}"
        names[position] = f"v{position}"
        if _region(step.kernel):
            for item in step.defines:
                names[item] = f"v{item}"
            targets = ", ".join(f"v{item}" for item in step.defines)
            lines.append(f"{targets}, = {expression}  # {step.kernel.expression}")
        else:
            comment = f"  # numexpr: {step.kernel.expression}" if step.kernel is not None else ""
            lines.append(f"v{position} = {expression}{comment}")
        if step.released:
            lines.append(f"del {', '.join(names[item] for item in step.released)}")
    parameters = ", ".join(f"a{number}" for number in range(len(inputs)))
    body = []
    if kernels:
        namespace["_strict"] = strict_errors
        body.append("if _strict():")
        body.append(f"    return _plain({parameters})")
    if float_code:
        namespace["_errors"] = (ArithmeticError, ValueError)
        body.append("try:")
        body.extend(f"    {line}" for line in lines)
        body.append("except _errors:")
        body.append(f"    return _plain({parameters})")
        checked = [names[position] for position, _ in outputs if position in floats]
        if checked:
            namespace["_finite"] = math.isfinite
            condition = " and ".join(f"_finite({item})" for item in checked)
            body.append(f"if not ({condition}):")
            body.append(f"    return _plain({parameters})")
    else:
        body.extend(lines)
    results = []
    for position, copy in outputs:
        item = names[position]
        if position in floats:
            item = f"_f64({item})"
        elif copy:
            item = f"_copy({item})"
        results.append(item)
    body.append(f"return ({', '.join(results)}{',' if results else ''})")
    source = f"def staged({parameters}):\n" + "".join(f"    {line}\n" for line in body)
    code = compile(source, f"<adfun.jit {name}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source, over our own names
    run = namespace["staged"]
    run.source = source
    return run


def _operand_name(step: _Step, item: int, names: dict, floats: dict, nodes: Any) -> str:
    """The name ``step`` reads the value at ``item`` by (a Python float only if it may)."""
    if step.template is not None:
        return floats.get(item, names[item])
    name = names[item]
    if item not in floats or floats[item] != name:
        return name  # a NumPy value (an input or constant has its float copy aside)
    if step.kernel is not None or _float64_ufunc(nodes[step.position], nodes):
        return name  # float64 throughout: a Python float gives the same result
    return f"_f64({name})"


def _float64_ufunc(node: Any, nodes: Any) -> bool:
    """Whether ``node`` is a ufunc on and to float64 values only (so that a Python float
    operand, weak under NEP 50, gives the same dtype as a NumPy float64)."""
    if not _is_ufunc(node) or getattr(node.value, "dtype", None) != _FLOAT64:
        return False
    return all(getattr(arg, "dtype", None) == _FLOAT64 or type(arg) is float for arg in node.args)


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
