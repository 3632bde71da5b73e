"""Random smooth programs built from ``adfun.numpy``, for the forward/reverse tests.

A program has one or two float array arguments of one shape.  Each step applies a unary
or binary operation to values computed so far (reductions keep their axis, so later
binary operations broadcast).  Every operation is smooth and stays in its domain for
any finite input, so finite differences are meaningful everywhere.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun.numpy as anp

UNARY = {
    "sin": anp.sin,
    "cos": anp.cos,
    "tanh": anp.tanh,
    "exp_tanh": lambda a: anp.exp(anp.tanh(a)),
    "square": lambda a: a * a,
    "soft_abs": lambda a: anp.sqrt(1.0 + a * a),
    "sum_keep": lambda a: anp.sum(a, axis=-1, keepdims=True) if a.ndim else a,
    "mean_keep": lambda a: anp.mean(a, axis=0, keepdims=True) if a.ndim else a,
    "scale": lambda a: 0.5 * a - 1.0,
}
BINARY = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "safe_divide": lambda a, b: a / (1.0 + b * b),
    "maximum_smooth": lambda a, b: anp.sqrt(a * a + b * b + 1.0),
}


class Program:
    """A callable list of steps ``(name, operand indices)`` with a readable ``repr``."""

    def __init__(self, steps, num_args):
        self.steps = steps
        self.num_args = num_args

    def __call__(self, *args):
        values = list(args)
        for name, operands in self.steps:
            op = UNARY.get(name) or BINARY[name]
            values.append(op(*[values[i] for i in operands]))
        return values[-1]

    def __repr__(self):
        lines = [f"v{i} = arg{i}" for i in range(self.num_args)]
        for index, (name, operands) in enumerate(self.steps, start=self.num_args):
            lines.append(f"v{index} = {name}({', '.join(f'v{i}' for i in operands)})")
        return "Program(" + "; ".join(lines) + ")"


@st.composite
def programs(draw, max_ops=8, max_args=2):
    """``(fun, args)``: a random smooth program and float64 arguments for it."""
    num_args = draw(st.integers(1, max_args))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    steps = []
    for count in range(draw(st.integers(1, max_ops))):
        available = num_args + count
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(UNARY)))
            operands = (draw(st.integers(0, available - 1)),)
        else:
            name = draw(st.sampled_from(sorted(BINARY)))
            operands = (draw(st.integers(0, available - 1)), draw(st.integers(0, available - 1)))
        steps.append((name, operands))
    elements = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
    args = tuple(
        draw(hnp.arrays(np.float64, shape, elements=elements)) for _ in range(num_args)
    )
    return Program(steps, num_args), args
