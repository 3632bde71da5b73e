"""NumPy's namespace with derivative rules.

Import it as ``import adfun.numpy as anp`` and write NumPy code with it; every function
works on plain arrays (straight to NumPy) and on the traced values of a transform.
Plain ``numpy`` functions called on traced values dispatch here as well.
"""

from __future__ import annotations

import numpy as _np

from adfun.numpy._core import REGISTRY
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
from adfun.numpy._linear import dot, matmul, tensordot
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
    sign,
    stop_gradient,
    trunc,
)
from adfun.numpy._reductions import amax, amin, max, mean, min, std, sum, var
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

# Constants and types, as NumPy has them.
pi = _np.pi
e = _np.e
inf = _np.inf
nan = _np.nan
newaxis = None
float16, float32, float64 = _np.float16, _np.float32, _np.float64
int32, int64, bool_ = _np.int32, _np.int64, _np.bool_
ndarray = _np.ndarray

# Constructors return plain (constant) arrays.
array = _np.array
asarray = _np.asarray
zeros = _np.zeros
ones = _np.ones
full = _np.full
empty = _np.empty
eye = _np.eye
arange = _np.arange
linspace = _np.linspace
zeros_like = _np.zeros_like
ones_like = _np.ones_like
full_like = _np.full_like
shape = _np.shape
ndim = _np.ndim
size = _np.size

from adfun.numpy import (  # noqa: E402, F401, I001
    _choosing, _einsum, _joining, _layout, _math, _products, _scans, _sorting, _statistics,
)
