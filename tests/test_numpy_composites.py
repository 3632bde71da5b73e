"""The composite test: every differentiable composite of ``adfun.numpy`` in both modes.

Composites are functions written exactly with other differentiable functions (``var``,
``flip``, ``take``, ...).  Each declares a domain giving ``(args, kwargs)``; the traced
value is checked against NumPy's own function, reverse and forward mode against central
finite differences in every float array argument, and (where the domain is smooth)
second order too.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy  # noqa: F401 - fills the registry
from adfun.numpy._declare import COMPOSITES
from adfun.testing import check_grads

from _checking import expensive_examples

try:  # registers the scipy.linalg composites (scipy is in the test extra), whatever ran first
    import adfun.scipy  # noqa: F401
except ImportError:  # pragma: no cover - scipy missing: only adfun.numpy is checked
    pass

NAMES = sorted(COMPOSITES)


def _flat(value):
    """A tuple or list of arrays (``split``, ``meshgrid``, ...) as one vector."""
    if isinstance(value, (tuple, list)):
        return (
            adfun.numpy.concatenate([adfun.numpy.ravel(item) for item in value])
            if value
            else np.zeros(0)
        )
    return value


@st.composite
def _examples(draw, fun):
    return fun.domain.examples(draw, st, hnp)


def _split_leaves(args):
    """The float arrays of ``args`` (inside lists too), and a function putting them back."""
    leaves = []

    def template(value):
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            leaves.append(value)
            return len(leaves) - 1
        if isinstance(value, list):
            return [template(item) for item in value]
        return ("constant", value)

    shape = [template(arg) for arg in args]

    def rebuild(values):
        def fill(item):
            if isinstance(item, int):
                return values[item]
            if isinstance(item, list):
                return [fill(part) for part in item]
            return item[1]

        return [fill(item) for item in shape]

    return leaves, rebuild


#: Composites whose one example costs about a second (stacks of matrices to second
#: order): fewer examples under the ``ci`` profile, every composite still checked.
EXPENSIVE = frozenset({"expm_frechet", "lu_solve", "cho_solve"})


@pytest.mark.parametrize("name", [name for name in NAMES if name not in EXPENSIVE])
@given(data=st.data())
def test_composite_against_finite_differences(name, data):
    _check_composite(name, data)


@pytest.mark.parametrize("name", [name for name in NAMES if name in EXPENSIVE])
@settings(max_examples=expensive_examples(8))
@given(data=st.data())
def test_expensive_composite_against_finite_differences(name, data):
    _check_composite(name, data)


def _check_composite(name, data):
    fun = COMPOSITES[name]
    args, kwargs = data.draw(_examples(fun), label="args, kwargs")
    leaves, rebuild = _split_leaves(args)
    assert leaves, f"{name}: the domain drew no float array"

    def call(*values):
        return _flat(fun(*rebuild(values), **kwargs))

    expected = _flat(fun(*args, **kwargs))  # plain call: NumPy's own result
    value, _ = ad.vjp(call, *leaves)
    np.testing.assert_allclose(np.asarray(value), np.asarray(expected), rtol=1e-12, atol=1e-12)
    assert np.shape(value) == np.shape(expected)
    check_grads(call, tuple(leaves), order=2 if fun.domain.smooth else 1)
