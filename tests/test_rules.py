"""The rule-table property test: every primitive of the registry, in both modes.

For each differentiable primitive declared in ``adfun.numpy`` (and its sub-packages),
Hypothesis draws arguments inside the primitive's declared domain, and the test checks
reverse mode and forward mode against central finite differences, the shape and dtype
of every gradient, and (for smooth primitives) second order.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun.numpy  # noqa: F401 - fills the registry
from adfun._engine.records import Params
from adfun._engine.trace import call_primitive
from adfun.numpy._declare import REGISTRY
from adfun.numpy._examples import draw_example

from _checking import check, expensive_examples

try:  # registers the scipy.special primitives (scipy is in the test extra)
    import adfun.scipy  # noqa: F401
except ImportError:  # pragma: no cover - scipy missing: only adfun.numpy is checked
    pass

DIFFERENTIABLE = sorted(
    name
    for name, fun in REGISTRY.items()
    if not fun.primitive.nondiff and fun.primitive.domain is not None
)


def _float_positions(primitive, args):
    rules = primitive.vjps
    return [
        position
        for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray)
        and arg.dtype.kind in "fc"
        and (position >= len(rules) or rules[position] is not None)
    ]


def _as_function(primitive, params):
    frozen = Params(params)

    def fun(*args):
        return call_primitive(primitive, tuple(args), frozen)

    return fun


def test_every_differentiable_primitive_declares_a_domain():
    missing = sorted(
        name
        for name, fun in REGISTRY.items()
        if not fun.primitive.nondiff and fun.primitive.domain is None
    )
    assert missing == []


def test_every_differentiable_primitive_has_both_rules():
    missing = sorted(
        name
        for name, fun in REGISTRY.items()
        if not fun.primitive.nondiff and fun.primitive.jvps is None
    )
    assert missing == []


@st.composite
def _examples(draw, primitive):
    return draw_example(draw, st, hnp, primitive)


#: Primitives whose one example costs about a second (stacks of matrices to second order,
#: the incomplete beta function's continued fraction): fewer examples under the ``ci``
#: profile, every function still checked.
EXPENSIVE = frozenset(
    {"scipy.linalg.lu_factor", "scipy.linalg.expm", "special.betainc", "special.betaincc"}
)


@pytest.mark.parametrize("name", [name for name in DIFFERENTIABLE if name not in EXPENSIVE])
@given(data=st.data())
def test_rules_against_finite_differences(name, data):
    _check_rules(name, data)


@pytest.mark.parametrize("name", [name for name in DIFFERENTIABLE if name in EXPENSIVE])
@settings(max_examples=expensive_examples(8))
@given(data=st.data())
def test_expensive_rules_against_finite_differences(name, data):
    _check_rules(name, data)


def _check_rules(name, data):
    primitive = REGISTRY[name].primitive
    args, params = data.draw(_examples(primitive), label="args, params")
    positions = _float_positions(primitive, args)
    assert positions, f"{name}: the domain drew no differentiable argument"
    check(
        _as_function(primitive, params), args, positions, order=2 if primitive.domain.smooth else 1
    )


# --- reverse rules marked reads_only ----------------------------------------------------
# hvp applies such a rule to the derivative of its cotangent (adfun._engine.records.reads_only);
# that is exact only if the rule really ignores the values of every other argument.

READS_ONLY = sorted(
    name
    for name, fun in REGISTRY.items()
    if type(fun.primitive.vjps) is tuple
    and any(getattr(rule, "reads", None) is not None for rule in fun.primitive.vjps)
)


def test_the_matrix_products_are_marked_reads_only():
    assert {"dot", "matmul", "tensordot"} <= set(READS_ONLY)


@pytest.mark.parametrize("name", READS_ONLY)
@given(data=st.data())
def test_a_reads_only_rule_ignores_the_other_values(name, data):
    primitive = REGISTRY[name].primitive
    args, params = data.draw(_examples(primitive), label="args, params")
    ans = primitive.impl(*args, **params)
    rng = np.random.default_rng(0)
    g = rng.standard_normal(np.shape(ans)).astype(np.result_type(ans))

    def other(value):
        return (rng.standard_normal(np.shape(value)) + 5.0).astype(np.result_type(value))

    for argnum, rule in enumerate(primitive.vjps):
        reads = getattr(rule, "reads", None)
        if reads is None:
            continue
        expected = rule(g, ans, *args, **params)
        changed = [arg if position in reads else other(arg) for position, arg in enumerate(args)]
        np.testing.assert_array_equal(
            rule(g, other(ans), *changed, **params),
            expected,
            err_msg=f"{name}: rule {argnum} reads an unmarked value",
        )
