"""``ad.vmap``: semantics (axes, pytrees, sizes, errors), compositions, and the batching
rule of every primitive of the registry against a loop over the examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy as anp
from adfun._engine.records import Params
from adfun._engine.trace import call_primitive
from adfun.numpy._declare import REGISTRY
from adfun.numpy._examples import draw_example

try:  # registers the scipy.special primitives (scipy is in the test extra)
    import adfun.scipy  # noqa: F401
except ImportError:  # pragma: no cover - scipy missing: only adfun.numpy is checked
    pass

WITH_DOMAIN = sorted(name for name, fun in REGISTRY.items() if fun.primitive.domain is not None)


def _as_function(primitive, params):
    frozen = Params(params)

    def fun(*args):
        return call_primitive(primitive, tuple(args), frozen)

    return fun


def _close(actual, expected):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype or actual.dtype.kind == expected.dtype.kind
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("name", WITH_DOMAIN)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_batching_rule_matches_a_loop(name, data):
    """``vmap(f)(xs)`` equals stacking ``f(x)`` for every x, batch axes drawn at random."""
    primitive = REGISTRY[name].primitive
    args, params = data.draw(st.composite(lambda draw: draw_example(draw, st, hnp, primitive))())
    fun = _as_function(primitive, params)
    size = data.draw(st.integers(1, 3), label="batch size")
    candidates = [
        position
        for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray) and arg.dtype.kind in "fc"
    ]
    if not candidates:
        return
    chosen = data.draw(
        st.lists(st.sampled_from(candidates), min_size=1, unique=True), label="batched"
    )
    examples = [list(args) for _ in range(size)]
    in_axes = []
    batched_args = []
    for position, arg in enumerate(args):
        if position not in chosen:
            in_axes.append(None)
            batched_args.append(arg)
            continue
        # Distinct examples that stay in the domain: the drawn value, slightly shrunk.
        copies = [arg * (1.0 - 0.01 * index) for index in range(size)]
        for index in range(size):
            examples[index][position] = copies[index]
        axis = data.draw(st.integers(-arg.ndim - 1, arg.ndim), label=f"axis of {position}")
        in_axes.append(axis)
        batched_args.append(np.stack(copies, axis=axis))
    expected = np.stack([np.asarray(fun(*example)) for example in examples])
    actual = ad.vmap(fun, in_axes=tuple(in_axes))(*batched_args)
    _close(actual, expected)
