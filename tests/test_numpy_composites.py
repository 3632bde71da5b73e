"""The composite test: every differentiable composite of ``adfun.numpy`` in both modes.

Composites are functions written exactly with other differentiable functions (``var``,
``flip``, ``einsum`` helpers, ...).  Each declares a domain giving ``(args, kwargs)``;
reverse and forward mode are checked against central finite differences in every float
array argument, and the value against NumPy's own function.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy  # noqa: F401 - fills the registry
from adfun.numpy._core import COMPOSITES

from _gradcheck import check_forward, check_reverse

NAMES = sorted(COMPOSITES)


def _flat(value):
    """A tuple or list of arrays (``split``, ``meshgrid``, ...) as one vector."""
    if isinstance(value, (tuple, list)):
        return adfun.numpy.concatenate([adfun.numpy.ravel(item) for item in value]) if value \
            else np.zeros(0)
    return value


@st.composite
def _examples(draw, fun):
    return fun.domain.examples(draw, st, hnp)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_composite_against_finite_differences(name, data):
    fun = COMPOSITES[name]
    args, kwargs = data.draw(_examples(fun), label="args, kwargs")
    positions = [index for index, arg in enumerate(args)
                 if isinstance(arg, np.ndarray) and arg.dtype.kind == "f"]
    assert positions, f"{name}: the domain drew no float array"

    def call(*values):
        return _flat(fun(*values, **kwargs))

    expected = _flat(fun(*args, **kwargs))  # plain call: NumPy's own result

    def traced(*floats):
        full = list(args)
        for position, value in zip(positions, floats):
            full[position] = value
        return call(*full)

    value, _ = ad.vjp(traced, *[args[p] for p in positions])
    np.testing.assert_allclose(np.asarray(value), np.asarray(expected), rtol=1e-12, atol=1e-12)
    assert np.shape(value) == np.shape(expected)
    rng = np.random.default_rng(0)
    check_reverse(call, args, positions, rng)
    check_forward(call, args, positions, rng)
