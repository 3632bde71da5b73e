"""``adfun.nd``: MXNet's NDArray API on adfun's engine (``from adfun import nd``).

Arrays are float32 by default, full reductions have shape ``(1,)`` and printing is
MXNet's.  Inside :func:`adfun.autograd.record` operations on arrays that depend on a
variable (see :meth:`NDArray.attach_grad`) are recorded in adfun's immutable graph.
"""

from __future__ import annotations

from adfun.nd import random
from adfun.nd._creation import (
    arange,
    array,
    full,
    ones,
    ones_like,
    random_normal,
    random_uniform,
    zeros,
    zeros_like,
)
from adfun.nd._ndarray import NDArray
from adfun.nd._ops import (
    Dropout,
    abs,
    add,
    argmax,
    argmin,
    batch_dot,
    broadcast_to,
    clip,
    concat,
    cos,
    divide,
    dot,
    exp,
    expand_dims,
    flatten,
    log,
    log_softmax,
    max,
    maximum,
    mean,
    min,
    minimum,
    multiply,
    negative,
    norm,
    one_hot,
    pick,
    power,
    prod,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    sqrt,
    square,
    stack,
    subtract,
    sum,
    tanh,
    transpose,
    where,
)

__all__ = [
    "Dropout", "NDArray", "abs", "add", "arange", "argmax", "argmin", "array", "batch_dot",
    "broadcast_to", "clip", "concat", "cos", "divide", "dot", "exp", "expand_dims", "flatten",
    "full", "log", "log_softmax", "max", "maximum", "mean", "min", "minimum", "multiply",
    "negative", "norm", "one_hot", "ones", "ones_like", "pick", "power", "prod", "random",
    "random_normal", "random_uniform", "relu", "reshape", "sigmoid", "sin", "softmax", "sqrt",
    "square", "stack", "subtract", "sum", "tanh", "transpose", "where", "zeros", "zeros_like",
]
