"""The engine's fast paths behave exactly like the general code they stand in for.

Each speed-up of the engine has one home and is checked here against a plain version:
the one topological sort (``adfun._engine.graph.toposort``) against a recursive
definition; ``bind_unary`` / ``bind_binary`` and ``_record`` against ``bind`` and the
``Node`` constructor; the tracer's operators (bound from ``OPERATORS`` to a function's
``tracer_method``) against the public functions; the reverse pass's spelled-out rule
calls, in-place-free array sums and ``consume`` mode against a reference reverse pass;
the forward pass's inlined one-parent step against its general ``_sum_contributions``.
The imperative layer's fast paths are in ``tests/test_autograd_fast_paths.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun._engine.forward import _sum_contributions, forward
from adfun._engine.graph import toposort
from adfun._engine.records import EMPTY_PARAMS, OPERATIONS, Joint, Node, Params
from adfun._engine.reverse import backward
from adfun._engine.trace import (
    OPERATORS,
    Tracer,
    bind,
    bind_binary,
    bind_unary,
    new_input,
    open_trace,
)


def _program(x, y):
    a = anp.sin(x) * y
    b = a + x  # x reached on several paths, a shared by b and c
    c = anp.sum(a * a, axis=0)
    d = anp.exp(-b) / (y + 2.0)
    return anp.sum(d * c) + anp.sum(anp.tanh(x) ** 2)


def _traced(fun, *values):
    """The trace, the input nodes and the output tracer of ``fun(*values)``."""
    with open_trace("test") as trace:
        inputs = [new_input(trace, np.asarray(value, dtype=float)) for value in values]
        out = fun(*inputs)
    return trace, [tracer.node for tracer in inputs], out


def _recursive_toposort(outputs):
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.parents:
            visit(parent)
        order.append(node)

    for node in outputs:
        visit(node)
    return order


def test_toposort_is_the_recursive_depth_first_order():
    trace, inputs, out = _traced(_program, [[0.3, 1.0], [2.0, -0.5]], [1.5, 0.25])
    expected = _recursive_toposort([out.node])
    assert [id(node) for node in toposort([out.node])] == [id(node) for node in expected]
    # several roots, one of them an input, one reached from another
    roots = [inputs[1], out.node, out.node.parents[0], inputs[0]]
    assert [id(n) for n in toposort(roots)] == [id(n) for n in _recursive_toposort(roots)]


def test_toposort_of_a_long_chain_needs_no_recursion():
    with open_trace("test") as trace:
        x = new_input(trace, np.float64(0.5))
        y = x
        for _ in range(20_000):
            y = anp.sin(y)
    order = toposort([y.node])
    assert len(order) == 20_001 and order[0] is x.node and order[-1] is y.node


def _same_node(fast, general):
    assert type(fast) is Node and type(general) is Node
    assert fast.primitive is general.primitive
    assert fast.parents == general.parents and fast.argnums == general.argnums
    assert fast.params == general.params
    assert len(fast.args) == len(general.args)
    for a, b in zip((*fast.args, fast.value), (*general.args, general.value), strict=True):
        assert type(a) is type(b)
        if type(a) is Tracer:  # a value of an outer trace: its own node was compared
            assert a.trace is b.trace
        else:
            assert np.array_equal(a, b)


@pytest.mark.parametrize("name", ["multiply", "subtract", "power", "divide"])
@pytest.mark.parametrize("which", ["both", "left", "right"])
def test_bind_binary_records_what_bind_records(name, which):
    primitive = OPERATIONS[name].primitive
    with open_trace("test") as trace:
        x = new_input(trace, np.array([1.5, 2.0]))
        y = new_input(trace, np.array([0.5, 3.0]))
        left = x if which != "right" else np.array([2.0, 4.0])
        right = y if which != "left" else np.array([0.25, 1.0])
        fast = bind_binary(primitive, left, right, EMPTY_PARAMS)
        general = bind(primitive, (left, right), EMPTY_PARAMS)
    _same_node(fast.node, general.node)


def test_bind_unary_records_what_bind_records():
    params = Params(axis=0, keepdims=False)
    with open_trace("test") as trace:
        x = new_input(trace, np.array([[1.0, 2.0], [3.0, 4.0]]))
        for primitive, prm in [
            (OPERATIONS["sin"].primitive, EMPTY_PARAMS),
            (OPERATIONS["sum"].primitive, params),
        ]:
            _same_node(bind_unary(primitive, x, prm).node, bind(primitive, (x,), prm).node)


def test_nested_levels_take_the_same_path_in_fast_and_general_bind():
    primitive = OPERATIONS["multiply"].primitive
    with open_trace("outer") as outer:
        x = new_input(outer, np.float64(2.0))
        with open_trace("inner") as inner:
            y = new_input(inner, np.float64(3.0))
            fast = bind_binary(primitive, x, y, EMPTY_PARAMS)
            general = bind(primitive, (x, y), EMPTY_PARAMS)
    assert fast.trace is inner and general.trace is inner
    _same_node(fast.node, general.node)
    _same_node(fast.value.node, general.value.node)


_OPERANDS = {
    "getitem": (np.array([1.0, 2.0, 3.0]), 1),
    "matmul": (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -1.0])),
}


@pytest.mark.parametrize("method,reflected,name", OPERATORS)
def test_tracer_operators_equal_the_public_functions(method, reflected, name):
    function = OPERATIONS[name]
    left, right = _OPERANDS.get(name, (np.array([1.5, -2.0]), np.array([0.5, 3.0])))
    unary = method in ("__neg__", "__abs__")
    with open_trace("test") as trace:
        x = new_input(trace, left)
        by_operator = getattr(Tracer, method)(x) if unary else getattr(Tracer, method)(x, right)
        by_function = function(x) if unary else function(x, right)
        if reflected is not None:
            y = new_input(trace, right)
            by_reflected = getattr(Tracer, reflected)(y, left)
            _same_node(by_reflected.node, function(left, y).node)
    _same_node(by_operator.node, by_function.node)


def test_python_operators_reach_the_tracer_methods():
    def f(x):
        return -((x * 2.0 + 1.0 - x / 3.0) ** 2.0) + abs(x) @ x - (2.0 - x)[0] * (1.0 / x)[1]

    x = np.array([0.5, 1.5])
    gradient = ad.grad(lambda x: anp.sum(f(x)))(x)
    assert gradient.shape == (2,) and gradient.dtype == np.float64
    numeric = [(anp.sum(f(x + h)) - anp.sum(f(x - h))) / 2e-6 for h in np.eye(2) * 1e-6]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6)


def _reference_backward(seeds, inputs):
    """The reverse pass with none of ``backward``'s shortcuts."""
    add = OPERATIONS["add"]
    cotangents = {}
    for node, g in seeds:
        cotangents[node] = g if node not in cotangents else add(cotangents[node], g)
    for node in reversed(toposort([node for node, _ in seeds])):
        g = cotangents.pop(node, None) if node.parents else None
        if g is None or node.primitive.nondiff:
            continue
        rules = node.primitive.vjps
        if type(rules) is Joint:
            contributions = rules.rule(node.argnums, g, node.value, *node.args, **node.params)
        else:
            contributions = [
                rules[argnum](g, node.value, *node.args, **node.params) for argnum in node.argnums
            ]
        for parent, contribution in zip(node.parents, contributions, strict=True):
            if contribution is not None:
                previous = cotangents.get(parent)
                cotangents[parent] = (
                    contribution if previous is None else add(previous, contribution)
                )
    return [cotangents.get(node) for node in inputs]


@pytest.mark.parametrize("consume", [False, True])
def test_reverse_pass_equals_the_reference_pass(consume):
    values = ([[0.3, 1.0], [2.0, -0.5]], [1.5, 0.25])
    trace, inputs, out = _traced(_program, *values)
    expected = _reference_backward([(out.node, np.float64(1.0))], inputs)
    order = list(trace.nodes) if consume else trace.nodes
    seeds = [(out.node, np.float64(1.0))]
    result = backward(seeds, inputs, order, consume=consume)
    for got, want in zip(result, expected, strict=True):
        assert type(got) is type(want) and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    if consume:
        assert order == [] and seeds == []
    assert [np.asarray(g).tolist() for g in backward([(out.node, np.float64(1.0))], inputs)] == [
        np.asarray(g).tolist() for g in expected
    ]


def test_forward_pass_equals_its_general_step():
    values = ([[0.3, 1.0], [2.0, -0.5]], [1.5, 0.25])
    trace, inputs, out = _traced(_program, *values)
    tangents = {inputs[0]: np.array([[1.0, -2.0], [0.5, 3.0]]), inputs[1]: np.array([2.0, 1.0])}
    fast = forward(trace.nodes, dict(tangents))
    general = dict(tangents)
    add = OPERATIONS["add"]
    for node in trace.nodes:
        if node.parents and node not in general and not node.primitive.nondiff:
            total = _sum_contributions(node, node.primitive.jvps, general, add)
            if total is not None:
                general[node] = anp.broadcast_to(total, np.shape(node.value))
    assert set(fast) == set(general)
    for node in general:
        np.testing.assert_allclose(fast[node], general[node], rtol=1e-15, atol=0)
