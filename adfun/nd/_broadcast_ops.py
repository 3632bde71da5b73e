"""MXNet's ``broadcast_*`` and ``elemwise_*`` families of binary operators.

``broadcast_add(lhs, rhs)`` and friends broadcast their operands as NumPy does;
``elemwise_add(lhs, rhs)`` and friends require operands of the same shape, as in MXNet.
The arithmetic ones are the functions of :mod:`adfun.nd._ops` under MXNet's names (so they
record and differentiate exactly like them); comparisons and logical operators return
0/1 arrays of ``lhs``'s dtype, constants for differentiation, as in MXNet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import adfun.numpy as anp
from adfun.nd import _ops
from adfun.nd._ndarray import NDArray, apply, value_of


def _dtype(operand: Any) -> np.dtype:
    if isinstance(operand, NDArray):
        return operand._value.dtype
    return np.dtype(np.float32)


def _broadcast(name: str, fun: Any, meaning: str) -> Any:
    def op(lhs: Any, rhs: Any) -> NDArray:
        return fun(lhs, rhs)

    op.__name__ = op.__qualname__ = name
    op.__module__ = "adfun.nd"
    op.__doc__ = (
        f"Elementwise {meaning} with broadcasting (MXNet's ``{name}``).\n\n"
        f"Parameters\n----------\nlhs, rhs : NDArray\n\n"
        f"Returns\n-------\nNDArray\n    Of the broadcast shape; recorded inside "
        f"``autograd.record()``.\n\n"
        f"Examples\n--------\n>>> from adfun import nd\n"
        f">>> nd.{name}(nd.ones((2, 1)), nd.ones((1, 3))).shape\n(2, 3)\n"
    )
    return op


def _hypot(lhs: Any, rhs: Any) -> NDArray:
    return apply(anp.hypot, lhs, rhs)


def _mod(lhs: Any, rhs: Any) -> NDArray:
    return apply(anp.remainder, lhs, rhs)


broadcast_add = _broadcast("broadcast_add", _ops.add, "sum ``lhs + rhs``")
broadcast_plus = _broadcast("broadcast_plus", _ops.add, "sum ``lhs + rhs``")
broadcast_sub = _broadcast("broadcast_sub", _ops.subtract, "difference ``lhs - rhs``")
broadcast_minus = _broadcast("broadcast_minus", _ops.subtract, "difference ``lhs - rhs``")
broadcast_mul = _broadcast("broadcast_mul", _ops.multiply, "product ``lhs * rhs``")
broadcast_div = _broadcast("broadcast_div", _ops.divide, "quotient ``lhs / rhs``")
broadcast_mod = _broadcast("broadcast_mod", _mod, "remainder ``lhs % rhs`` (sign of rhs)")
broadcast_power = _broadcast("broadcast_power", _ops.power, "power ``lhs ** rhs``")
broadcast_maximum = _broadcast("broadcast_maximum", _ops.maximum, "maximum")
broadcast_minimum = _broadcast("broadcast_minimum", _ops.minimum, "minimum")
broadcast_hypot = _broadcast("broadcast_hypot", _hypot, "``sqrt(lhs ** 2 + rhs ** 2)``")


def _comparison(name: str, fun: Any, meaning: str) -> Any:
    def op(lhs: Any, rhs: Any) -> NDArray:
        result = fun(np.asarray(value_of(lhs)), np.asarray(value_of(rhs)))
        return NDArray(np.asarray(result).astype(_dtype(lhs)))

    op.__name__ = op.__qualname__ = name
    op.__module__ = "adfun.nd"
    op.__doc__ = (
        f"Elementwise {meaning} with broadcasting: a 0/1 array of ``lhs``'s dtype (a "
        f"constant for differentiation), as MXNet's ``{name}``.\n\n"
        f"Examples\n--------\n>>> from adfun import nd\n"
        f">>> nd.{name}(nd.array([[0], [1]]), nd.array([0, 1])).shape\n(2, 2)\n"
    )
    return op


broadcast_equal = _comparison("broadcast_equal", np.equal, "``lhs == rhs``")
broadcast_not_equal = _comparison("broadcast_not_equal", np.not_equal, "``lhs != rhs``")
broadcast_greater = _comparison("broadcast_greater", np.greater, "``lhs > rhs``")
broadcast_greater_equal = _comparison("broadcast_greater_equal", np.greater_equal, "``lhs >= rhs``")
broadcast_lesser = _comparison("broadcast_lesser", np.less, "``lhs < rhs``")
broadcast_lesser_equal = _comparison("broadcast_lesser_equal", np.less_equal, "``lhs <= rhs``")
broadcast_logical_and = _comparison(
    "broadcast_logical_and", np.logical_and, "logical and (non-zero is true)"
)
broadcast_logical_or = _comparison(
    "broadcast_logical_or", np.logical_or, "logical or (non-zero is true)"
)
broadcast_logical_xor = _comparison(
    "broadcast_logical_xor", np.logical_xor, "logical exclusive or (non-zero is true)"
)


def _elemwise(name: str, fun: Any, meaning: str) -> Any:
    def op(lhs: NDArray, rhs: NDArray) -> NDArray:
        left, right = np.shape(value_of(lhs)), np.shape(value_of(rhs))
        if left != right:
            raise ValueError(
                f"adfun.nd.{name}: the operands must have the same shape, got {left} and "
                f"{right}; use broadcast_{name.split('_')[1]} to broadcast them"
            )
        return fun(lhs, rhs)

    op.__name__ = op.__qualname__ = name
    op.__module__ = "adfun.nd"
    op.__doc__ = (
        f"Elementwise {meaning} of two arrays of the same shape (MXNet's ``{name}``).\n\n"
        f"Raises\n------\nValueError\n    If the shapes differ (the ``broadcast_*`` "
        f"operator broadcasts).\n\n"
        f"Examples\n--------\n>>> from adfun import nd\n"
        f">>> nd.{name}(nd.array([4, 6]), nd.array([2, 3])).shape\n(2,)\n"
    )
    return op


elemwise_add = _elemwise("elemwise_add", _ops.add, "sum ``lhs + rhs``")
elemwise_sub = _elemwise("elemwise_sub", _ops.subtract, "difference ``lhs - rhs``")
elemwise_mul = _elemwise("elemwise_mul", _ops.multiply, "product ``lhs * rhs``")
elemwise_div = _elemwise("elemwise_div", _ops.divide, "quotient ``lhs / rhs``")
