"""NumPy's namespace with derivative rules.

Import it as ``import adfun.numpy as anp`` and write NumPy code with it; every function
works on plain arrays (straight to NumPy) and on the traced values of a transform.
Plain ``numpy`` functions called on traced values dispatch here as well.

Every public NumPy name is available here, classified once in
:mod:`adfun.numpy._namespace` as differentiable, non-differentiable (a constant for
differentiation) or unsupported on traced values; :func:`coverage` lists them all.  The
most used functions are imported explicitly below; the rest of the namespace is served
from that table.
"""

from __future__ import annotations

import sys as _sys
from typing import Any as _Any

import numpy as _np

from adfun._engine.records import ARRAY_NAMESPACE as _ARRAY_NAMESPACE
from adfun.numpy import (
    _dask,  # noqa: F401 - Dask's own implementations (chunks, laziness)
    _namespace,
    _standard,  # noqa: F401 - the primitives' implementations on other array libraries
    _ufunc_methods,  # noqa: F401 - np.add.reduce & co. on traced values
    fft,
    linalg,
)
from adfun.numpy._complex import angle, conj, conjugate, imag, real, sign
from adfun.numpy._creation import array, asarray, linspace
from adfun.numpy._declare import COMPOSITES, REGISTRY
from adfun.numpy._einsum import einsum
from adfun.numpy._elementwise import (
    abs,
    absolute,
    add,
    cos,
    divide,
    exp,
    log,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    power,
    remainder,
    sin,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    true_divide,
)
from adfun.numpy._indexing import getitem, untake
from adfun.numpy._joining import hstack, split, vstack
from adfun.numpy._layout import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_arrays,
    diag,
    diagonal,
    flip,
    pad,
    repeat,
    roll,
    take,
    take_along_axis,
    tile,
    trace,
    tril,
    triu,
)
from adfun.numpy._linear import dot, matmul, tensordot
from adfun.numpy._math import (
    arccos,
    arcsin,
    arctan,
    arctan2,
    cosh,
    expm1,
    hypot,
    log1p,
    log2,
    log10,
    logaddexp,
    reciprocal,
    sinh,
)
from adfun.numpy._namespace import status_table as coverage
from adfun.numpy._nondiff import (
    all,
    any,
    argmax,
    argmin,
    argsort,
    ceil,
    count_nonzero,
    equal,
    floor,
    floor_divide,
    greater,
    greater_equal,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    nonzero,
    not_equal,
    rint,
    round,
    stop_gradient,
    trunc,
)
from adfun.numpy._products import inner, outer, vdot
from adfun.numpy._reductions import amax, amin, max, mean, min, sum
from adfun.numpy._scans import cumprod, cumsum, prod
from adfun.numpy._selection import clip, where
from adfun.numpy._shape import (
    astype,
    broadcast_to,
    concatenate,
    expand_dims,
    moveaxis,
    ravel,
    reshape,
    squeeze,
    stack,
    swapaxes,
    transpose,
)
from adfun.numpy._sorting import median, sort
from adfun.numpy._statistics import std, var

#: The names imported above; every other public NumPy name comes from ``__getattr__``.
__all__ = [
    "abs",
    "absolute",
    "add",
    "all",
    "amax",
    "amin",
    "any",
    "arccos",
    "arcsin",
    "arctan",
    "arctan2",
    "argmax",
    "argmin",
    "argsort",
    "array",
    "asarray",
    "astype",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_arrays",
    "broadcast_to",
    "ceil",
    "clip",
    "concatenate",
    "conj",
    "conjugate",
    "cos",
    "cosh",
    "count_nonzero",
    "coverage",
    "cumprod",
    "cumsum",
    "diag",
    "diagonal",
    "divide",
    "dot",
    "einsum",
    "equal",
    "exp",
    "expand_dims",
    "expm1",
    "fft",
    "flip",
    "floor",
    "floor_divide",
    "getitem",
    "greater",
    "greater_equal",
    "hstack",
    "hypot",
    "imag",
    "inner",
    "isfinite",
    "isinf",
    "isnan",
    "less",
    "less_equal",
    "linalg",
    "linspace",
    "log",
    "log10",
    "log1p",
    "log2",
    "logaddexp",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "matmul",
    "max",
    "maximum",
    "mean",
    "median",
    "min",
    "minimum",
    "mod",
    "moveaxis",
    "multiply",
    "negative",
    "nonzero",
    "not_equal",
    "outer",
    "pad",
    "power",
    "prod",
    "ravel",
    "real",
    "reciprocal",
    "remainder",
    "repeat",
    "reshape",
    "rint",
    "roll",
    "round",
    "sign",
    "sin",
    "sinh",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "stop_gradient",
    "subtract",
    "sum",
    "swapaxes",
    "take",
    "take_along_axis",
    "tan",
    "tanh",
    "tensordot",
    "tile",
    "trace",
    "transpose",
    "tril",
    "triu",
    "true_divide",
    "trunc",
    "untake",
    "var",
    "vdot",
    "vstack",
    "where",
]

#: The version of the Array API standard whose names and semantics this namespace offers
#: to traced values (their ``__array_namespace__()`` returns this module).
__array_api_version__ = "2023.12"


def __array_namespace_info__() -> _Any:
    """The Array API inspection object: NumPy's (adfun computes with NumPy's dtypes)."""
    import numpy

    return numpy.__array_namespace_info__()


_ARRAY_NAMESPACE.append(_sys.modules[__name__])


def __getattr__(name: str) -> _Any:
    """Every other public NumPy name, from the classification table."""
    return _namespace.lookup(name)


def __dir__() -> list:
    return sorted(set(globals()) | set(_namespace.NAMESPACE))


del _np, _sys
