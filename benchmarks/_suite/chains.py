"""The 0-d chain of W1, W4 and W7, written once for every library.

``chain(x, ops, sin, tanh)`` applies ``ops`` primitive operations to a 0-d value:
``x * 0.9``, ``+ 0.1``, ``sin``, ``tanh``, repeated.  Each library passes its own ``sin``
and ``tanh`` (the arithmetic goes through its operators), so every library runs exactly
the same Python code and the figures differ only by the library's own cost per operation.
"""

from __future__ import annotations

import math
from typing import Any, Callable

START = 0.3  # the point where the chain is differentiated


def chain(x: Any, ops: int, sin: Callable, tanh: Callable) -> Any:
    """``ops`` (a multiple of 4) operations: multiply, add, sin, tanh, repeated."""
    for _ in range(ops // 4):
        x = tanh(sin(x * 0.9 + 0.1))
    return x


def reference_derivative(ops: int, x: float = START) -> float:
    """d chain / dx at ``x``, by forward accumulation in plain Python floats."""
    derivative = 1.0
    for _ in range(ops // 4):
        inner = x * 0.9 + 0.1
        sine = math.sin(inner)
        x = math.tanh(sine)
        derivative *= 0.9 * math.cos(inner) * (1.0 - x * x)
    return derivative


def check_derivative(name: str, got: Any, ops: int) -> None:
    """Raise ``AssertionError`` unless ``got`` is the chain's derivative to 1e-10."""
    expected = reference_derivative(ops)
    value = float(got)
    if not math.isclose(value, expected, rel_tol=1e-10, abs_tol=1e-300):
        raise AssertionError(f"{name}: derivative {value!r} != reference {expected!r}")
