"""Fused loops compiled by numba: elementwise regions with C library functions in them.

numexpr kernels (:mod:`adfun._staging.fusion`) hold arithmetic only, one expression with
one result.  A region of elementwise steps that calls a function NumPy computes with the
C library (``sin`` and ``cos`` on most platforms, see
:func:`~adfun._staging.fusion.exact_math_function`) is compiled by numba instead, when
it is installed, into one loop over the elements:

* every value of the region is a local variable of the loop body, computed once however
  many steps read it, and only the values read outside the region are stored;
* LLVM computes ``sin(x)`` and ``cos(x)`` of the same ``x`` with one call of the C
  library's ``sincos``, which shares the argument reduction (the gradient of
  ``sum(sin(x)**2 + exp(-x)*cos(x))`` needs both: a third less time than two NumPy
  calls).

The loop is compiled with numba's defaults for floating point (no ``fastmath``: no
reassociation, no fused multiply-add) and NumPy's error model (division by zero gives
``inf``), and the C library's ``sin``, ``cos`` and ``sincos`` give the same bits, so the
results are NumPy's exactly.  This is checked once per process on a fixed sample before a
function is used in a loop (:func:`loop_functions`); where it fails, the function stays a
NumPy call.  Two things differ: where both operands of an addition or a multiplication
are NaN, the NaN the loop returns may be the other operand's (its sign bit may differ:
LLVM orders the operands of commutative operations as it likes, and the processor
returns its first NaN operand); and a loop neither warns nor raises on a floating-point
error (under an ``np.errstate`` that raises, the plain program runs instead, see
:func:`~adfun._staging.fusion.strict_errors`).  Compiling a loop takes about 0.1 s
(importing numba, once, about 0.5 s), paid when a program is staged; loops are cached by
their source within the process.  numba is optional (``pip install numba``);
``ADFUN_FUSE=numexpr`` in the environment keeps the numexpr kernels only,
``ADFUN_FUSE=0`` switches both off.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from adfun._staging import fusion
from adfun._staging.fusion import exact_math_function, kernel_operand, sample_points

#: Regions are at most this many operations long (compiling grows with the loop body).
MAX_LOOP_OPERATIONS = 200

#: Python templates of the correctly rounded operations a loop may contain: numexpr's
#: (the same Python syntax), with the square root taken from ``math``.
ARITHMETIC: dict[Any, str] = {**fusion.KERNEL_TEMPLATES, np.sqrt: "math.sqrt({0})"}

#: NumPy ufuncs a loop may compute with the ``math`` function of this name, where
#: NumPy's results are the C library's (checked by :func:`loop_functions`).
LIBRARY_FUNCTIONS: dict[Any, str] = {
    np.sin: "sin",
    np.cos: "cos",
    np.tan: "tan",
    np.arcsin: "asin",
    np.arccos: "acos",
    np.arctan: "atan",
    np.sinh: "sinh",
    np.cosh: "cosh",
    np.tanh: "tanh",
    np.exp: "exp",
    np.expm1: "expm1",
    np.log: "log",
    np.log1p: "log1p",
}

_FLOAT64 = np.dtype(np.float64)
_NUMBA: list = []  # [module or None] once looked up
_FUNCTIONS: list = []  # [dict ufunc -> template] once checked
_COMPILED: dict[str, Any] = {}  # loop source -> compiled function


def fuse_setting() -> str:
    """``ADFUN_FUSE`` as a word: ``"off"``, ``"numexpr"`` or ``"auto"`` (the default)."""
    setting = os.environ.get("ADFUN_FUSE", "1").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return "off"
    if setting == "numexpr":
        return "numexpr"
    return "auto"


def numba_module() -> Any:
    """numba if it is installed and ``ADFUN_FUSE`` allows loops, else ``None``."""
    if fuse_setting() != "auto":
        return None
    if not _NUMBA:
        module: Any
        try:
            import numba as module
        except ImportError:
            module = None
        _NUMBA.append(module)
    return _NUMBA[0]


def loop_functions() -> dict:
    """The ufuncs a loop may call, each with its template (``math.sin({0})``).

    A candidate qualifies where NumPy's results are the ``math`` module's on the sample
    (:func:`~adfun._staging.fusion.exact_math_function`) and a compiled loop computing
    all of them side by side (so that LLVM pairs ``sin`` with ``cos``) gives NumPy's
    results on the sample too.  Checked once per process.
    """
    if _FUNCTIONS:
        return _FUNCTIONS[0]
    chosen = {
        ufunc: name for ufunc, name in LIBRARY_FUNCTIONS.items() if exact_math_function(ufunc)
    }
    if chosen:
        sample = sample_points()
        names = list(chosen.values())
        body = "".join(f"        o{k}[i] = math.{name}(x[i])\n" for k, name in enumerate(names))
        outs = ", ".join(f"o{k}" for k in range(len(names)))
        source = f"def check(x, {outs}):\n    for i in range(x.shape[0]):\n{body}"
        compiled = _compile(source, 1, len(names), 0)
        results = [np.empty_like(sample) for _ in names]
        compiled(sample, *results)
        with np.errstate(all="ignore"):
            for ufunc, got in zip(list(chosen), results):
                expected = ufunc(sample)
                same = (got == expected) | (np.isnan(got) & np.isnan(expected))
                if not (same.all() and np.array_equal(np.signbit(got), np.signbit(expected))):
                    del chosen[ufunc]
    _FUNCTIONS.append({ufunc: f"math.{name}({{0}})" for ufunc, name in chosen.items()})
    return _FUNCTIONS[0]


def _compile(source: str, arrays: int, outputs: int, scalars: int) -> Any:
    """Compile the function ``source`` defines: ``arrays`` 1-d float64 arrays it reads
    (read-only ones too), ``outputs`` it writes, then ``scalars`` float64 numbers."""
    compiled = _COMPILED.get(source)
    if compiled is None:
        numba = numba_module()
        namespace: dict[str, Any] = {"math": math}
        exec(compile(source, "<adfun.jit loop>", "exec"), namespace)  # noqa: S102 - our own source
        (function,) = (
            value for key, value in namespace.items() if key not in ("math", "__builtins__")
        )
        read = numba.types.Array(numba.float64, 1, "C", readonly=True)
        types = [read] * arrays + [numba.float64[::1]] * outputs + [numba.float64] * scalars
        signature = numba.void(*types)
        compiled = numba.njit(signature, fastmath=False, error_model="numpy", nogil=True)(function)
        _COMPILED[source] = compiled
    return compiled


def loopable(node: Any, functions: dict) -> bool:
    """Whether ``node`` is an elementwise float64 step a loop may compute."""
    impl = node.primitive.impl
    if node.params or type(impl) is not np.ufunc:
        return False
    if impl not in ARITHMETIC and impl not in functions:
        return False
    value = node.value
    if type(value) is not np.ndarray or value.dtype != _FLOAT64 or value.ndim == 0:
        return False
    if len(node.args) != impl.nin:
        return False
    return all(kernel_operand(arg, value.shape) for arg in node.args)


class Loop:
    """A compiled loop computing a region of elementwise steps.

    Calling it with the values of its operands (arrays of the region's shape, or 0-d
    numbers) returns a tuple of fresh arrays: the region's stored values, in the order of
    ``outputs``.  With ``out``, a C-contiguous array, the last output is written there
    (the loop reads every operand of an element before writing it, so ``out`` may be one
    of the operands); the arrays are walked in C order (operands that are not
    C-contiguous are copied).
    """

    __slots__ = ("members", "outputs", "operands", "scalar", "shape", "source", "compiled")

    def __init__(
        self,
        members: list,
        outputs: list,
        operands: list,
        scalar: list,
        shape: tuple,
        source: str,
        compiled: Any,
    ) -> None:
        self.members = members  # positions computed, in order
        self.outputs = outputs  # positions stored
        self.operands = operands  # ("v", position) or ("k", constant)
        self.scalar = scalar  # per operand: passed as a number (else a flat array)
        self.shape = shape
        self.source = source
        self.compiled = compiled

    @property
    def expression(self) -> str:
        """A one-line summary for the generated code's comments."""
        return f"numba loop of {len(self.members)} operations, {len(self.outputs)} stored"

    def __call__(self, *values: Any, out: Any = None) -> tuple:
        arrays = []
        scalars = []
        for value, scalar in zip(values, self.scalar):
            if scalar:
                scalars.append(float(value))
            else:
                arrays.append(value.ravel())  # a view if C-contiguous, else a copy
        results = [np.empty(self.shape) for _ in self.outputs[:-1]]
        if out is None or not out.flags.c_contiguous:  # (reshape would copy it)
            out = np.empty(self.shape)
        results.append(out)
        self.compiled(*arrays, *[result.reshape(-1) for result in results], *scalars)
        return tuple(results)


def find_loops(nodes: list, index: dict, keep: set) -> tuple[dict, set]:
    """Group elementwise steps that call C library functions into compiled loops.

    Parameters
    ----------
    nodes : list of Node
        The graph's nodes in order.
    index : dict
        ``id(node)`` to its position.
    keep : set of int
        Positions whose value must exist (the outputs).

    Returns
    -------
    loops : dict
        Position of each loop's last member to its :class:`Loop`.
    members : set of int
        Every position a loop computes.

    Regions are :func:`elementwise_regions` of loopable steps.  Regions of one
    operation, and regions that call no C library function (numexpr fuses those without
    compiling), are left alone.
    """
    if numba_module() is None:
        return {}, set()
    if not any(node.primitive.impl in LIBRARY_FUNCTIONS and _large(node) for node in nodes):
        return {}, set()
    functions = loop_functions()
    if not functions:
        return {}, set()
    regions, readers = elementwise_regions(
        nodes, index, lambda node: _large(node) and loopable(node, functions)
    )
    loops: dict[int, Loop] = {}
    computed: set[int] = set()
    for region in regions:
        if len(region) < 2 or not any(nodes[p].primitive.impl in functions for p in region):
            continue
        loop = _loop(nodes, index, region, keep, functions, readers)
        loops[region[-1]] = loop
        computed.update(region)
    return loops, computed


def elementwise_regions(nodes: list, index: dict, candidate: Any) -> tuple[list, dict]:
    """Regions of ``candidate`` nodes that one pass over the elements may compute.

    A region grows in the order of the nodes while its nodes are candidates of one shape
    (at most :data:`MAX_LOOP_OPERATIONS`); a node outside it that reads one of its values
    ends it, so that the region, computed where its last node stands, is complete
    before any reader outside it runs.  Returns the regions (lists of positions) and
    each position's readers (a set of positions).
    """
    regions: list[list[int]] = []
    current: list[int] = []
    members: set[int] = set()
    shape: Any = None
    readers: dict[int, set[int]] = {}
    for position, node in enumerate(nodes):
        parents = [index[id(parent)] for parent in node.parents]
        for parent in parents:
            readers.setdefault(parent, set()).add(position)
        if candidate(node):
            if current and node.value.shape == shape and len(current) < MAX_LOOP_OPERATIONS:
                current.append(position)
                members.add(position)
                continue
            regions.append(current)
            current, members, shape = [position], {position}, node.value.shape
        elif current and any(parent in members for parent in parents):
            regions.append(current)
            current, members, shape = [], set(), None
    regions.append(current)
    return [region for region in regions if region], readers


def stored_values(region: list, keep: set, readers: dict) -> list:
    """The positions of ``region`` read outside it or kept (its last one always)."""
    inside = set(region)
    stored = [
        position
        for position in region
        if position in keep or not readers.get(position, set()) <= inside
    ]
    if region[-1] not in stored:
        stored.append(region[-1])
    return stored


def _large(node: Any) -> bool:
    value = node.value
    return type(value) is np.ndarray and value.size >= fusion.FUSE_MIN_SIZE


def _loop(
    nodes: list, index: dict, region: list, keep: set, functions: dict, readers: dict
) -> Loop:
    inside = set(region)
    stored = stored_values(region, keep, readers)
    operands: list = []
    scalar: list = []
    names: dict[int, str] = {}
    lines = []
    arrays: list[str] = []
    numbers: list[str] = []
    shape = nodes[region[-1]].value.shape

    def operand(argnum: int, node: Any) -> str:
        parent_of = dict(zip(node.argnums, node.parents))
        parent = parent_of.get(argnum)
        if parent is not None and index[id(parent)] in inside:
            return names[index[id(parent)]]
        if parent is not None:
            key: tuple = ("v", index[id(parent)])
            if key in operands:
                number = operands.index(key)
                name = _operand_name(number, scalar[number])
                return name if scalar[number] else f"{name}_i"
            value = parent.value
        else:
            key = ("k", np.asarray(node.args[argnum], dtype=np.float64))
            value = node.args[argnum]
        is_scalar = np.ndim(value) == 0
        operands.append(key)
        scalar.append(is_scalar)
        name = _operand_name(len(operands) - 1, is_scalar)
        if is_scalar:
            numbers.append(name)
        else:
            arrays.append(name)
            lines.append(f"        {name}_i = {name}[i]")
            return f"{name}_i"
        return name

    body = []
    for position in region:
        node = nodes[position]
        impl = node.primitive.impl
        template = ARITHMETIC.get(impl) or functions[impl]
        parts = [operand(argnum, node) for argnum in range(len(node.args))]
        names[position] = f"t{position}"
        body.append(f"        t{position} = {template.format(*parts)}")
    body.extend(f"        o{k}[i] = t{position}" for k, position in enumerate(stored))
    # Operand reads first (each array element is loaded once), then the region's steps.
    outs = [f"o{k}" for k in range(len(stored))]
    parameters = ", ".join(arrays + outs + numbers)
    source = (
        f"def loop({parameters}):\n    for i in range(o0.shape[0]):\n"
        + "\n".join(lines + body)
        + "\n"
    )
    compiled = _compile(source, len(arrays), len(outs), len(numbers))
    # The call passes array operands first, then outputs, then numbers: order them so.
    order = [k for k in range(len(operands)) if not scalar[k]] + [
        k for k in range(len(operands)) if scalar[k]
    ]
    operands = [operands[k] for k in order]
    scalar = [scalar[k] for k in order]
    return Loop(list(region), stored, operands, scalar, shape, source, compiled)


def _operand_name(number: int, is_scalar: bool) -> str:
    return f"s{number}" if is_scalar else f"x{number}"
