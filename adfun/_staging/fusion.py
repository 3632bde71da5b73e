"""What ``ad.jit`` may evaluate faster than one NumPy call per node, exactly as NumPy would.

Accelerations of the generated code (:mod:`adfun._staging.codegen`), all for the NumPy
backend only, all giving NumPy's own numbers:

* **Compiled loops** (:mod:`adfun._staging.loops`, with numba): a region of elementwise
  steps that calls ``sin`` or ``cos`` (the functions NumPy computes with the C library)
  becomes one loop over the elements, ``sin`` and ``cos`` of one value one ``sincos``.
* **Blocks** (:mod:`adfun._staging.blocks`): a region with other functions (``exp``,
  ``tanh``, ... NumPy's SIMD code), or any region when numba is absent, runs as NumPy's
  own ufuncs one cache-sized block at a time.
* **Fused kernels** (this module).  A chain of elementwise arithmetic on large float64
  arrays (``+ - * /``, negation, ``square``, ``absolute``, ``sqrt``) is evaluated by one
  numexpr kernel instead of one NumPy call per node: numexpr works through the arrays
  block by block in cache, so the temporaries between the steps never travel to main
  memory.  These operations are correctly rounded in IEEE arithmetic, so the kernel's
  results are bit for bit NumPy's (transcendental functions are not put in kernels:
  NumPy's SIMD ``exp``, ``log``, ``tanh`` are faster than numexpr's and differ from the C
  library's in the last place).  numexpr is optional (``python -m pip install -e
  ".[fast]"`` in adfun's clone, or ``pip install numexpr``); without it the program runs
  as plain NumPy calls.
* **Recycled arrays** (:mod:`adfun._staging.recycle`): large results are written into
  arrays of earlier calls that nothing refers to any more.
* **Python floats.**  0-d float64 arithmetic, and the ``math`` functions that give exactly
  NumPy's result on this platform (checked once per function, on a fixed sample of 20,000
  points spanning the float range, see :func:`exact_math_function`), is written with Python
  floats: ``math.sin(v)`` costs a third of ``np.sin`` on a NumPy scalar.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

#: Elementwise results with fewer elements are not fused: smaller arrays stay in cache
#: between NumPy calls anyway, and a numexpr call costs a few microseconds more.
FUSE_MIN_SIZE = 1 << 16
#: At most this many distinct operands, and operations, in one kernel.
MAX_KERNEL_OPERANDS = 24
MAX_KERNEL_OPERATIONS = 48

#: numexpr templates of the elementwise ufuncs a kernel may contain (all exactly rounded).
KERNEL_TEMPLATES: dict[Any, str] = {
    np.add: "({0} + {1})",
    np.subtract: "({0} - {1})",
    np.multiply: "({0} * {1})",
    np.true_divide: "({0} / {1})",
    np.negative: "(-{0})",
    np.square: "({0} * {0})",
    np.absolute: "abs({0})",
    np.sqrt: "sqrt({0})",
}

_FLOAT64 = np.dtype(np.float64)
_NUMEXPR: list = []  # [module or None] once looked up


def numexpr_module() -> Any:
    """numexpr if it is installed and fusion is not switched off, else ``None``.

    ``ADFUN_FUSE=0`` in the environment switches fused kernels off (read when a program
    is staged).
    """
    if os.environ.get("ADFUN_FUSE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    if not _NUMEXPR:
        try:
            import numexpr
        except ImportError:
            numexpr = None
        _NUMEXPR.append(numexpr)
    return _NUMEXPR[0]


# --- Python float arithmetic -----------------------------------------------------------------


#: ufuncs whose float64 result is exactly a Python float operation (IEEE, correctly
#: rounded, or exact), as the template of a Python expression.
FLOAT_TEMPLATES: dict[Any, str] = {
    np.add: "{0} + {1}",
    np.subtract: "{0} - {1}",
    np.multiply: "{0} * {1}",
    np.true_divide: "{0} / {1}",
    np.negative: "-{0}",
    np.square: "{0} * {0}",
}

#: ufuncs that may be replaced by a ``math`` function if it agrees with NumPy here.
_MATH_CANDIDATES = {
    np.sin: math.sin,
    np.cos: math.cos,
    np.tan: math.tan,
    np.arcsin: math.asin,
    np.arccos: math.acos,
    np.arctan: math.atan,
    np.sinh: math.sinh,
    np.cosh: math.cosh,
    np.tanh: math.tanh,
    np.arcsinh: math.asinh,
    np.arccosh: math.acosh,
    np.arctanh: math.atanh,
    np.exp: math.exp,
    np.expm1: math.expm1,
    np.log: math.log,
    np.log1p: math.log1p,
    np.log2: math.log2,
    np.log10: math.log10,
    np.sqrt: math.sqrt,
    np.absolute: math.fabs,
}
_EXACT: dict[Any, Any] = {}


def sample_points() -> np.ndarray:
    """The fixed sample of 20,009 float64 points that exactness is checked on."""
    rng = np.random.default_rng(20240607)
    magnitudes = np.exp(rng.uniform(-700.0, 700.0, 4000))
    return np.concatenate(
        [
            rng.standard_normal(4000),
            rng.standard_normal(2000) * 30.0,
            rng.standard_normal(2000) * 1e4,
            rng.uniform(-1.0, 1.0, 4000),
            magnitudes,
            -magnitudes,
            np.array([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, np.pi, 1e-300, 5e-324]),
        ]
    )


def exact_math_function(ufunc: Any) -> Any:
    """The ``math`` function giving exactly ``ufunc``'s float64 results here, or ``None``.

    NumPy computes some functions with the C library (then ``math``, which calls the same
    library, agrees bit for bit) and others with its own SIMD code (which differs in the
    last place on some inputs).  Which is which depends on the NumPy build and the CPU,
    so each candidate is compared once, on a fixed sample of 20,000 points spanning the
    float64 range, through both the array and the scalar path; one differing result
    rules the function out.  Points outside ``math``'s domain are skipped: there it
    raises, and the generated code then reruns the plain NumPy program.
    """
    if ufunc in _EXACT:
        return _EXACT[ufunc]
    function = _MATH_CANDIDATES.get(ufunc)
    if function is not None:
        sample = sample_points()
        with np.errstate(all="ignore"):
            expected = ufunc(sample).tolist()
            scalars = [ufunc(np.float64(value)) for value in sample[::40].tolist()]
        for value, want in zip(sample.tolist(), expected):
            try:
                got = function(value)
            except (ValueError, OverflowError):
                continue
            if got != want and not (got != got and want != want):
                function = None
                break
        if function is not None:
            for value, want in zip(sample[::40].tolist(), scalars):
                try:
                    got = function(value)
                except (ValueError, OverflowError):
                    continue
                if got != want and not (got != got and want != want):
                    function = None
                    break
    _EXACT[ufunc] = function
    return function


def float_operand(value: Any) -> bool:
    """Whether ``value`` (an argument as recorded) is a float64 number for Python."""
    kind = type(value)
    if kind is float or kind is np.float64:
        return True
    if kind is int:
        return abs(value) < 2**53  # converted to float64 exactly, as NumPy does
    return kind is np.ndarray and value.shape == () and value.dtype == _FLOAT64


def strict_errors() -> bool:
    """Whether NumPy's floating-point error handling is set to more than warn (a fused
    kernel neither raises nor warns, so the plain program runs instead)."""
    return any(mode not in ("ignore", "warn") for mode in np.geterr().values())


# --- fused kernels ---------------------------------------------------------------------------


def kernel_operand(value: Any, shape: tuple) -> bool:
    """Whether an operand recorded as ``value`` may enter a kernel computing ``shape``."""
    kind = type(value)
    if kind is np.ndarray:
        return value.dtype == _FLOAT64 and (value.shape == shape or value.shape == ())
    if kind is float or kind is np.float64:
        return True
    if kind is int:
        return abs(value) < 2**53
    return False


def fusable(node: Any) -> bool:
    """Whether ``node`` is an elementwise step that a kernel may compute."""
    impl = node.primitive.impl
    if node.params or impl not in KERNEL_TEMPLATES or type(impl) is not np.ufunc:
        return False
    value = node.value
    if type(value) is not np.ndarray or value.dtype != _FLOAT64 or value.size < FUSE_MIN_SIZE:
        return False
    expected = 2 if impl.nin == 2 else 1
    if len(node.args) != expected:
        return False
    return all(kernel_operand(arg, value.shape) for arg in node.args)


class Kernel:
    """A fused kernel: its numexpr expression over its operands, compiled once."""

    __slots__ = ("expression", "operands", "compiled", "size")

    def __init__(self, expression: str, operands: list, size: int) -> None:
        self.expression = expression
        self.operands = operands  # ("v", position) or ("k", 0-d float64 array)
        self.size = size  # number of operations
        numexpr = numexpr_module()
        signature = [(f"x{number}", np.float64) for number in range(len(operands))]
        self.compiled = numexpr.NumExpr(expression, signature)


def find_kernels(
    nodes: list, index: dict, keep: set, exclude: Any = frozenset()
) -> tuple[dict, set]:
    """Group the fusable nodes of ``nodes`` into kernels.

    Parameters
    ----------
    nodes : list of Node
        The graph's nodes in order.
    index : dict
        ``id(node)`` to its position.
    keep : set of int
        Positions whose value must exist (the outputs).
    exclude : set of int, optional
        Positions computed otherwise (by compiled loops, :mod:`adfun._staging.loops`).

    Returns
    -------
    kernels : dict
        Position of the node a kernel computes to its :class:`Kernel` (kernels of two or
        more operations only).
    inlined : set of int
        Positions computed inside a kernel, never stored.

    A fusable node is computed inside its reader's kernel when that reader is fusable
    too and is its only reader (reading it once): a value read twice is stored, so that
    no work is repeated.
    """
    if numexpr_module() is None:
        return {}, set()
    candidates = {
        position for position, node in enumerate(nodes) if position not in exclude and fusable(node)
    }
    if not candidates:
        return {}, set()
    readers: dict[int, list[int]] = {}
    for position, node in enumerate(nodes):
        uses = list(node.parents)
        if node.primitive.impl is np.square and position in candidates:
            uses = uses * 2  # the template names its operand twice
        for parent in uses:
            readers.setdefault(index[id(parent)], []).append(position)
    inlined: set[int] = set()
    for position in candidates:
        reading = readers.get(position, [])
        if position not in keep and len(reading) == 1 and reading[0] in candidates:
            inlined.add(position)
    # Bound the size of each kernel: bottom up, a node whose kernel would grow too large
    # stores its inlined operands instead.
    leaves: dict[int, set] = {}  # the stored values a kernel at this node reads
    constants: dict[int, int] = {}  # and how many constants
    operations: dict[int, int] = {}
    for position in sorted(candidates):
        node = nodes[position]
        parents = [index[id(parent)] for parent in node.parents]
        own_constants = len(node.args) - len(node.argnums)
        gathered: set = set()
        count, constant_count = 1, own_constants
        for parent in parents:
            if parent in inlined:
                gathered |= leaves[parent]
                count += operations[parent]
                constant_count += constants[parent]
            else:
                gathered.add(parent)
        if len(gathered) + constant_count > MAX_KERNEL_OPERANDS or count > MAX_KERNEL_OPERATIONS:
            inlined.difference_update(parents)
            gathered, count, constant_count = set(parents), 1, own_constants
        leaves[position], operations[position] = gathered, count
        constants[position] = constant_count
    kernels = {}
    for position in sorted(candidates - inlined):
        if operations[position] < 2:
            continue
        operands: list = []
        expression = _expression(nodes, index, position, inlined, operands)
        kernels[position] = Kernel(expression, operands, operations[position])
    return kernels, inlined


def _expression(nodes: list, index: dict, position: int, inlined: set, operands: list) -> str:
    node = nodes[position]
    parent_of = dict(zip(node.argnums, node.parents))
    parts = []
    for argnum, arg in enumerate(node.args):
        parent = parent_of.get(argnum)
        if parent is not None and index[id(parent)] in inlined:
            parts.append(_expression(nodes, index, index[id(parent)], inlined, operands))
            continue
        operand = ("v", index[id(parent)]) if parent is not None else ("k", _constant(arg))
        if operand[0] == "v" and operand in operands:
            parts.append(f"x{operands.index(operand)}")
            continue
        operands.append(operand)
        parts.append(f"x{len(operands) - 1}")
    return KERNEL_TEMPLATES[node.primitive.impl].format(*parts)


def _constant(value: Any) -> Any:
    """A constant operand as numexpr takes it: a float64 array (NumPy converts it so)."""
    return np.asarray(value, dtype=np.float64)
