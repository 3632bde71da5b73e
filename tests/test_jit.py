"""``ad.jit``: staged results equal unstaged ones; caching, simplification, buffer reuse,
control-flow errors, threads and composition with every transform."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy as anp
from adfun import StagingError
from adfun._engine.graph import Graph
from adfun._engine.records import EMPTY_PARAMS, INPUT, Node, Params, constant_node
from adfun._engine.trace import call_primitive
from adfun._staging.simplify import simplify
from adfun.numpy._declare import REGISTRY
from adfun.numpy._examples import draw_example
from adfun.testing import strategies as ads

try:  # registers the scipy.special primitives (scipy is in the test extra)
    import adfun.scipy  # noqa: F401
except ImportError:  # pragma: no cover - scipy missing: only adfun.numpy is checked
    pass


def _names(graph):
    return [node.primitive.name for node in graph.nodes]


def _source(jitted):
    (staged,) = jitted._cache.values()
    return staged.run.source


def _assert_same(staged, unstaged, rtol=None):
    """Equal pytrees: same structure, shapes and dtypes, bit-identical values (or within
    ``rtol``)."""
    if isinstance(unstaged, dict):
        assert type(staged) is dict and list(staged) == list(unstaged)
        staged, unstaged = list(staged.values()), list(unstaged.values())
    if isinstance(unstaged, (tuple, list)):
        assert type(staged) is type(unstaged) and len(staged) == len(unstaged)
        for a, b in zip(staged, unstaged):
            _assert_same(a, b, rtol)
        return
    assert np.shape(staged) == np.shape(unstaged)
    assert np.result_type(staged) == np.result_type(unstaged)
    if rtol is None:
        np.testing.assert_array_equal(staged, unstaged)
    else:
        np.testing.assert_allclose(staged, unstaged, rtol=rtol, atol=1e-300)


def _loss(program):
    def loss(*args):
        out = program(*args)
        outs = out if isinstance(out, tuple) else (out,)
        return sum(anp.sum(item) for item in outs)

    return loss


# --- every staged result equals the unstaged one ------------------------------------------


@given(ads.programs(max_ops=8, num_args=2))
def test_random_programs_values_and_gradients(program_and_args):
    program, args = program_and_args
    _assert_same(ad.jit(program)(*args), program(*args))
    loss = _loss(program)
    argnums = tuple(range(len(args)))
    _assert_same(ad.jit(ad.grad(loss, argnums))(*args), ad.grad(loss, argnums)(*args))
    _assert_same(ad.jit(ad.value_and_grad(loss))(*args), ad.value_and_grad(loss)(*args))
    for staged, unstaged in zip(
        ad.grad(ad.jit(loss), argnums)(*args), ad.grad(loss, argnums)(*args)
    ):
        np.testing.assert_allclose(staged, unstaged, rtol=1e-12, atol=1e-300)


@given(ads.programs(max_ops=8, num_args=1), st.floats(-2, 2))
def test_random_programs_jvps(program_and_args, scale):
    program, (x,) = program_and_args
    tangent = np.full(np.shape(x), scale)

    def pushed(x):
        return ad.jvp(program, (x,), (tangent,))

    _assert_same(ad.jit(pushed)(x), pushed(x))
    _assert_same(ad.jvp(ad.jit(program), (x,), (tangent,)), pushed(x), rtol=1e-12)
    loss = _loss(program)
    _assert_same(ad.jit(ad.hvp(loss))(x, tangent), ad.hvp(loss)(x, tangent), rtol=1e-12)


@settings(max_examples=10)
@given(ads.programs(max_ops=8, num_args=2))
def test_random_programs_in_float32(program_and_args):
    program, args = program_and_args
    args = tuple(np.asarray(arg, np.float32) for arg in args)
    _assert_same(ad.jit(program)(*args), program(*args))
    loss = _loss(program)
    _assert_same(ad.jit(ad.grad(loss, (0, 1)))(*args), ad.grad(loss, (0, 1))(*args))


#: eig and eigvals refuse staging (real or complex results, decided by the values):
#: tests/test_staging.py checks the refusal.
DIFFERENTIABLE = sorted(
    name
    for name, fun in REGISTRY.items()
    if not fun.primitive.nondiff
    and fun.primitive.domain is not None
    and name not in ("linalg.eig", "linalg.eigvals")
)


@st.composite
def _examples(draw, primitive):
    return draw_example(draw, st, hnp, primitive)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@settings(max_examples=2)
@given(data=st.data())
def test_every_primitive_staged_with_its_rules(name, data):
    """jit of the function, of its gradient and of its JVP equals the unstaged result."""
    primitive = REGISTRY[name].primitive
    args, params = data.draw(_examples(primitive), label="args, params")
    rules = primitive.vjps
    positions = [
        position
        for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray)
        and arg.dtype.kind == "f"
        and (position >= len(rules) or rules[position] is not None)
    ]
    if not positions:
        return
    frozen = Params(params)

    def fun(*xs):
        full = list(args)
        for position, x in zip(positions, xs):
            full[position] = x
        return call_primitive(primitive, tuple(full), frozen)

    def loss(*xs):
        out = fun(*xs)
        return anp.sum(anp.real(out) if out.dtype.kind == "c" else out)

    xs = [args[position] for position in positions]
    argnums = tuple(range(len(xs)))
    tangents = tuple(np.ones_like(x) for x in xs)
    with np.errstate(all="ignore"):
        _assert_same(ad.jit(fun)(*xs), fun(*xs))
        for staged, unstaged in zip(
            ad.jit(ad.grad(loss, argnums))(*xs), ad.grad(loss, argnums)(*xs)
        ):
            np.testing.assert_allclose(staged, unstaged, rtol=1e-12, atol=1e-300)
        staged = ad.jit(lambda *xs: ad.jvp(fun, tuple(xs), tangents))(*xs)
        np.testing.assert_allclose(
            staged[1], ad.jvp(fun, tuple(xs), tangents)[1], rtol=1e-12, atol=1e-300
        )


# --- the signature cache -------------------------------------------------------------------


def test_cache_hits_and_misses_follow_the_signature():
    calls = []

    def f(x, n, options):
        calls.append(1)
        return anp.sin(x) * n if options["scale"] else anp.sin(x)

    staged = ad.jit(f)
    x = np.linspace(0, 1, 3)
    staged(x, 2, {"scale": True})
    staged(x + 1.0, 2, {"scale": True})  # same signature, new values
    assert staged.cache_info() == {"hits": 1, "misses": 1, "size": 1}
    assert len(calls) == 1
    staged(np.zeros(4), 2, {"scale": True})  # shape
    staged(x.astype(np.float32), 2, {"scale": True})  # dtype
    staged(x, 3, {"scale": True})  # static value
    staged(x, 2, {"scale": False})  # static value inside a pytree
    staged(x, 2.0, {"scale": True})  # a float is dynamic: a different leaf kind
    staged(x, 5.0, {"scale": True})  # ...and then a hit
    assert staged.cache_info() == {"hits": 2, "misses": 6, "size": 6}
    np.testing.assert_array_equal(staged(x, 3, {"scale": True}), np.sin(x) * 3)
    np.testing.assert_array_equal(staged(x, 2, {"scale": False}), np.sin(x))
    np.testing.assert_array_equal(staged(x, 5.0, {"scale": True}), np.sin(x) * 5.0)
    staged.clear_cache()
    staged(x, 2, {"scale": True})
    assert staged.cache_info()["size"] == 1 and len(calls) == 7


def test_pytree_structure_and_keywords_are_part_of_the_signature():
    staged = ad.jit(lambda pair, scale=1.0: pair[0] * pair[1] * scale)
    assert staged((2.0, 3.0)) == 6.0
    assert staged([2.0, 3.0]) == 6.0
    assert staged((2.0, 3.0), scale=2.0) == 12.0
    assert staged.cache_info() == {"hits": 0, "misses": 3, "size": 3}
    out = ad.jit(lambda d: {"y": d["a"] * 2.0, "z": [d["b"]]})({"a": 1.0, "b": np.ones(2)})
    assert out.keys() == {"y", "z"} and isinstance(out["z"], list)
    np.testing.assert_array_equal(out["z"][0], np.ones(2))


def test_static_leaves_of_any_type_pass_through():
    staged = ad.jit(lambda x, name, nothing: (x * 2.0, name, nothing))
    assert staged(1.5, "label", None) == (3.0, "label", None)
    assert staged(2.5, "label", None) == (5.0, "label", None)
    assert staged.cache_info()["hits"] == 1


def test_a_staged_program_does_not_call_the_function_again():
    calls = []

    def f(x):
        calls.append(1)
        return anp.exp(x)

    staged = ad.jit(ad.grad(f))
    assert [staged(value) for value in (0.0, 1.0, 2.0)] == [np.exp(0.0), np.exp(1.0), np.exp(2.0)]
    assert len(calls) == 1


def test_jitted_methods_take_the_instance_as_a_static_argument():
    class Model:
        def __init__(self, scale):
            self.scale = scale

        @ad.jit
        def predict(self, x):
            return anp.sin(x) * self.scale

    first, second = Model(2.0), Model(3.0)
    assert first.predict(0.5) == np.sin(0.5) * 2.0
    assert second.predict(0.5) == np.sin(0.5) * 3.0
    assert Model.predict.cache_info()["size"] == 2


# --- Python control flow cannot be staged --------------------------------------------------


def test_if_on_a_traced_value_names_the_operation():
    def relu(x):
        if x > 0:
            return x
        return 0.0 * x

    assert ad.grad(relu)(2.0) == 1.0  # unstaged, Python branches are fine
    with pytest.raises(
        StagingError,
        match=r"jit: cannot stage `if` / bool\(\) on a traced "
        r"value \(the result of `greater`\) while tracing jit\(relu\).*"
        r"adfun\.numpy\.where",
    ):
        ad.jit(relu)(2.0)
    with pytest.raises(TypeError, match=r"the result of `greater`"):
        ad.jit(ad.grad(relu))(2.0)  # also under an inner transform


def test_where_is_the_staged_alternative():
    staged = ad.jit(ad.grad(lambda x: anp.sum(anp.where(x > 0, x, 0.0 * x))))
    np.testing.assert_array_equal(staged(np.array([-1.0, 2.0])), [0.0, 1.0])


def test_a_failed_trace_leaves_nothing_behind():
    staged = ad.jit(lambda x: x if x > 0 else -x)
    with pytest.raises(StagingError):
        staged(1.0)
    assert staged.cache_info()["size"] == 0
    assert ad.grad(lambda x: x if x > 0 else -x)(-1.0) == -1.0


# --- simplification ------------------------------------------------------------------------


def test_cse_reuses_the_forward_cos_in_the_vjp_of_sin():
    def f(x):
        return anp.sum(anp.sin(x) * anp.cos(x))

    x = np.linspace(0, 1, 4)
    traced = ad.trace(ad.value_and_grad(f))(x)
    staged = ad.jit(ad.value_and_grad(f))
    graph = staged.graph(x)
    assert _names(traced).count("cos") == 2 and _names(traced).count("sin") == 2
    assert _names(graph).count("cos") == 1 and _names(graph).count("sin") == 1
    (cos,) = [node for node in graph.nodes if node.primitive.name == "cos"]
    readers = [node for node in graph.nodes if any(p is cos for p in node.parents)]
    assert len(readers) >= 2  # the forward product and the backward pass
    _assert_same(staged(x), ad.value_and_grad(f)(x))


def test_cse_merges_equal_constants_and_parameters_only():
    def f(x):
        return (
            anp.sum(x, axis=0)
            + anp.sum(x, axis=0)
            + anp.sum(x, axis=1)
            + x * 2.0
            + x * 2.0
            + x * 3.0
        )[0]

    graph = simplify(ad.trace(f)(np.ones((2, 2))))
    assert _names(graph).count("sum") == 2
    assert _names(graph).count("multiply") == 2


def test_cse_merges_both_orders_of_commutative_operations_only():
    def f(x, y):
        return (x * y, y * x, x + y, y + x, x - y, y - x, x * 2.0, 2.0 * x, x / y, y / x)

    x, y = np.array([1.5, -2.0]), np.array([0.25, 3.0])
    graph = simplify(ad.trace(f)(x, y))
    names = _names(graph)
    assert (names.count("multiply"), names.count("add")) == (2, 1)
    assert (names.count("subtract"), names.count("divide")) == (2, 2)
    staged = ad.jit(f)
    for staged_out, out in zip(staged(x, y), f(x, y)):
        np.testing.assert_array_equal(staged_out, out)


def test_multiplying_by_one_is_removed_only_when_exact():
    traced = ad.trace(ad.grad(lambda x: anp.sin(x)))(0.5)
    assert "multiply" in _names(traced)  # the seed 1.0 times cos
    assert _names(simplify(traced)) == ["input", "cos"]
    # x * 1 where the result is broadcast or promoted must stay.
    graph = simplify(ad.trace(lambda x: (x * np.ones(3), x * np.int64(1)))(np.float32(2.0)))
    assert _names(graph).count("multiply") == 2


def test_negations_are_absorbed_exactly():
    def f(x, y):
        return x + (-y), (-y) + x, x - (-y), -(-y) * x  # noqa: B002 - a double negation

    x, y = np.array([1.0, -0.0, 0.0, -0.0]), np.array([0.0, 0.0, -0.0, -0.0])
    staged = ad.jit(f)
    assert "negative" not in _names(staged.graph(x, y))
    assert _names(staged.graph(x, y)).count("subtract") == 1  # the two x - y merged
    _assert_same(staged(x, y), f(x, y))
    for staged_out, out in zip(staged(x, y), f(x, y)):
        np.testing.assert_array_equal(np.signbit(staged_out), np.signbit(out))


def test_dead_code_is_dropped():
    x_node = Node(INPUT, (), (), (), EMPTY_PARAMS, np.float64(1.0))
    sin = REGISTRY["sin"].primitive
    exp = REGISTRY["exp"].primitive
    used = Node(sin, (x_node,), (0,), (x_node.value,), EMPTY_PARAMS, np.sin(1.0))
    dead = Node(exp, (x_node,), (0,), (x_node.value,), EMPTY_PARAMS, np.exp(1.0))
    graph = Graph((x_node,), (used,), (x_node, used, dead))
    assert _names(simplify(graph)) == ["input", "sin"]
    # Nodes made redundant by CSE are dropped too.
    traced = ad.trace(lambda x: anp.exp(anp.sin(x)) + anp.exp(anp.sin(x)))(1.0)
    assert _names(simplify(traced)) == ["input", "sin", "exp", "add"]


def test_constants_are_folded():
    x_node = Node(INPUT, (), (), (), EMPTY_PARAMS, np.float64(1.0))
    two = constant_node(np.float64(2.0))
    sin, add = REGISTRY["sin"].primitive, REGISTRY["add"].primitive
    sin_two = Node(sin, (two,), (0,), (two.value,), EMPTY_PARAMS, np.sin(2.0))
    total = Node(
        add,
        (x_node, sin_two),
        (0, 1),
        (x_node.value, sin_two.value),
        EMPTY_PARAMS,
        x_node.value + sin_two.value,
    )
    graph = Graph.build((x_node,), (total,))
    simplified = simplify(graph)
    assert _names(simplified) == ["input", "add"]
    (node,) = simplified.nodes[1:]
    assert node.parents == (x_node,) and node.args[1] == np.sin(2.0)
    assert simplified(np.float64(3.0)) == graph(np.float64(3.0)) == 3.0 + np.sin(2.0)


def test_simplify_keeps_inputs_outputs_and_structure():
    f = ad.value_and_grad(lambda x, y: anp.sum(anp.tanh(x * y)), argnums=(0, 1))
    args = (np.ones(3), np.full(3, 0.5))
    graph = ad.trace(f)(*args)
    simplified = simplify(graph)
    assert simplified.inputs == graph.inputs
    assert simplified.in_tree == graph.in_tree and simplified.out_tree == graph.out_tree
    assert len(simplified.nodes) < len(graph.nodes)
    _assert_same(simplified(*args), graph(*args))


def test_scalar_arithmetic_is_written_with_operators():
    staged = ad.jit(ad.grad(lambda x: anp.tanh(x * 0.9 + 0.1)))
    assert staged(0.3) == ad.grad(lambda x: anp.tanh(x * 0.9 + 0.1))(0.3)
    source = _source(staged)
    # Python floats: the input is converted once, the arithmetic written with operators
    assert "a0f = _float(a0)" in source and "a0f * k" in source
    assert " + k" in source and " - " in source


# --- buffer reuse --------------------------------------------------------------------------


def test_dead_buffers_are_reused_without_touching_inputs_or_outputs():
    def f(x, w):
        a = anp.sin(x) * w
        b = anp.exp(a) + anp.cos(a)
        c = b * b - x
        return c, a * 2.0

    x, w = np.linspace(-1, 1, 50), np.linspace(1, 2, 50)
    x_copy, w_copy = x.copy(), w.copy()
    staged = ad.jit(f)
    first = staged(x, w)
    assert "out=" in _source(staged)
    second = staged(x, w)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(w, w_copy)
    _assert_same(first, f(x, w))
    _assert_same(second, f(x, w))
    assert first[0] is not second[0] and not np.shares_memory(first[0], second[0])
    assert not np.shares_memory(first[0], first[1])


def test_buffers_with_views_are_not_reused():
    def f(x):
        y = anp.sin(x)
        view = anp.reshape(y, (2, 3))  # a view of y's buffer
        z = anp.cos(y)  # y's last elementwise reader
        return anp.sum(view, axis=0) + anp.sum(z)

    x = np.linspace(0, 1, 6)
    staged = ad.jit(f)
    _assert_same(staged(x), f(x))
    staged_grad = ad.jit(ad.grad(lambda x: anp.sum(f(x))))
    _assert_same(staged_grad(x), ad.grad(lambda x: anp.sum(f(x)))(x))


def test_constant_outputs_are_fresh_copies():
    staged = ad.jit(lambda x: (x * 2.0, np.arange(3.0)))
    _, constant = staged(1.0)
    constant[0] = 99.0
    np.testing.assert_array_equal(staged(1.0)[1], [0.0, 1.0, 2.0])


def test_simplification_does_not_make_outputs_share_memory():
    x = np.linspace(0, 1, 3)
    staged = ad.jit(lambda x: (x * 1.0, anp.sin(x), anp.sin(x), x))
    scaled, first, second, same = staged(x)
    assert "multiply" not in _names(staged.graph(x))
    assert scaled is not x and not np.shares_memory(scaled, x)
    assert not np.shares_memory(first, second)
    assert same is x  # the unstaged function returns its argument too
    _assert_same(staged(x), (x * 1.0, np.sin(x), np.sin(x), x))
    assert ad.jit(lambda x: (x * 1.0, x * 1.0))(np.float64(2.0)) == (2.0, 2.0)


def test_fast_and_general_signatures_agree():
    from adfun._engine.pytree import tree_flatten
    from adfun._staging.jit import _flat_key, _leaf_spec

    for args in [(np.ones(3),), (np.ones(2), 2.0), (np.float64(1), np.float32(2), np.ones(1))]:
        leaves, tree = tree_flatten((args, {}))
        assert _flat_key(args) == (tree, tuple(map(_leaf_spec, leaves)))
    assert _flat_key((1,)) is None and _flat_key((np.int64(1),)) is None


def test_captured_arrays_are_snapshots():
    weights = np.ones(3)
    staged = ad.jit(lambda x: anp.sum(x * weights))
    assert staged(np.ones(3)) == 3.0
    weights[:] = 5.0  # captured at tracing time, like ad.trace
    assert staged(np.ones(3)) == 3.0


# --- composition ---------------------------------------------------------------------------

X = np.linspace(-1.0, 1.0, 5)
V = np.linspace(0.2, 0.6, 5)


def _f(x):
    return anp.sum(anp.tanh(x) * anp.sin(x) ** 2)


@pytest.mark.parametrize(
    "staged, unstaged",
    [
        (lambda: ad.jit(ad.grad(_f))(X), lambda: ad.grad(_f)(X)),
        (lambda: ad.grad(ad.jit(_f))(X), lambda: ad.grad(_f)(X)),
        (lambda: ad.jvp(ad.jit(_f), (X,), (V,)), lambda: ad.jvp(_f, (X,), (V,))),
        (lambda: ad.jit(lambda x: ad.jvp(_f, (x,), (V,)))(X), lambda: ad.jvp(_f, (X,), (V,))),
        (lambda: ad.hessian(ad.jit(_f))(X), lambda: ad.hessian(_f)(X)),
        (lambda: ad.jit(ad.hessian(_f))(X), lambda: ad.hessian(_f)(X)),
        (lambda: ad.jit(ad.hvp(_f))(X, V), lambda: ad.hvp(_f)(X, V)),
        (lambda: ad.jit(ad.jit(_f))(X), lambda: _f(X)),
        (lambda: ad.jit(ad.grad(ad.jit(_f)))(X), lambda: ad.grad(_f)(X)),
        (
            lambda: ad.grad(ad.grad(ad.jit(lambda x: anp.sin(x) ** 3)))(0.7),
            lambda: ad.grad(ad.grad(lambda x: anp.sin(x) ** 3))(0.7),
        ),
        (lambda: ad.jit(ad.jacfwd(anp.sin))(X), lambda: ad.jacfwd(anp.sin)(X)),
        (lambda: ad.jit(ad.grad(ad.checkpoint(_f)))(X), lambda: ad.grad(_f)(X)),
        (
            lambda: ad.jit(ad.elementwise_grad(anp.tanh))(X),
            lambda: ad.elementwise_grad(anp.tanh)(X),
        ),
        (lambda: ad.jit(ad.trace(_f)(X))(X), lambda: _f(X)),
    ],
)
def test_jit_composes_with_every_transform(staged, unstaged):
    np.testing.assert_allclose(staged(), unstaged(), rtol=1e-12, atol=1e-15)


def test_jit_of_a_function_calling_vjp():
    def pullback(x):
        out, back = ad.vjp(lambda x: anp.exp(x) * anp.sin(x), x)
        return out, back(np.ones(x.shape))

    _assert_same(ad.jit(pullback)(X), pullback(X))


def test_value_and_grad_with_aux_is_staged():
    f = ad.value_and_grad(
        lambda x: (anp.sum(x**2), {"norm": anp.sqrt(anp.sum(x**2))}), has_aux=True
    )
    _assert_same(ad.jit(f)(X), f(X))


def test_closures_over_outer_tracers_run_unstaged():
    def outer(x):
        inner = ad.jit(lambda y: x * y)
        value = inner(2.0)
        assert inner.cache_info() == {"hits": 0, "misses": 1, "size": 0}
        return value

    assert ad.grad(outer)(3.0) == 2.0
    # No perturbation confusion through a staged gradient.
    assert ad.grad(lambda x: x * ad.jit(ad.grad(lambda y: x + y))(2.0))(3.0) == 1.0


def test_outputs_that_are_not_pytrees_run_unstaged():
    class Pair:  # a plain class: not a pytree (namedtuples are; see test_pytrees.py)
        def __init__(self, first, second):
            self.first, self.second = first, second

        def __eq__(self, other):
            return (self.first, self.second) == (other.first, other.second)

    staged = ad.jit(lambda x: Pair(anp.sin(x), anp.cos(x)))
    assert staged(0.5) == Pair(np.sin(0.5), np.cos(0.5))
    assert staged(1.5) == Pair(np.sin(1.5), np.cos(1.5))
    assert staged.cache_info()["size"] == 0


def test_graph_of_unstaged_arguments_is_an_error():
    def outer(x):
        with pytest.raises(
            TypeError,
            match=r"jit\(<lambda>\): these arguments are not "
            r"staged",
        ):
            ad.jit(lambda y: x * y).graph(2.0)
        return x

    ad.grad(outer)(1.0)


# --- threads -------------------------------------------------------------------------------


def test_one_jitted_function_from_many_threads():
    staged = ad.jit(ad.value_and_grad(lambda x: anp.sum(anp.exp(anp.sin(x)) * x)))
    inputs = [np.linspace(0, 1, n) for n in (1, 2, 3, 4)] * 2
    expected = [ad.value_and_grad(lambda x: anp.sum(anp.exp(anp.sin(x)) * x))(x) for x in inputs]
    failures = []
    barrier = threading.Barrier(8)

    def work(number):
        barrier.wait()
        for repeat in range(100):
            index = (number + repeat) % len(inputs)
            value, gradient = staged(inputs[index])
            if value != expected[index][0] or not np.array_equal(gradient, expected[index][1]):
                failures.append((number, repeat))

    threads = [threading.Thread(target=work, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    info = staged.cache_info()
    assert info["size"] == 4 and info["hits"] + info["misses"] == 800


# --- long programs run by a loop -----------------------------------------------------------


def test_long_programs_are_run_by_a_loop(monkeypatch):
    import adfun._staging.codegen as codegen

    monkeypatch.setattr(codegen, "MAX_GENERATED_STEPS", 0)

    def f(x, w):
        a = anp.sin(x) * w
        view = anp.reshape(a, (5, 10))
        b = anp.exp(a) + anp.cos(a)
        return anp.sum(b * b - x) + anp.sum(view[0]), np.arange(2.0), -(x[0] * 0.5 + 1.0)

    x, w = np.linspace(-1, 1, 50), np.linspace(1, 2, 50)
    x_copy = x.copy()
    staged = ad.jit(f)
    _assert_same(staged(x, w), f(x, w))
    (entry,) = staged._cache.values()
    assert not hasattr(entry.run, "source")
    staged(x, w)[1][0] = 7.0
    _assert_same(staged(x, w), f(x, w))
    np.testing.assert_array_equal(x, x_copy)
    loss = lambda x, w: f(x, w)[0]  # noqa: E731
    _assert_same(ad.jit(ad.grad(loss, (0, 1)))(x, w), ad.grad(loss, (0, 1))(x, w))
    chain = ad.jit(ad.grad(lambda x: anp.tanh(anp.sin(x * 0.9 + 0.1))))
    assert chain(0.3) == ad.grad(lambda x: anp.tanh(anp.sin(x * 0.9 + 0.1)))(0.3)


def test_cache_keeps_a_bounded_number_of_signatures(monkeypatch):
    import adfun._staging.jit as jit_module

    monkeypatch.setattr(jit_module, "MAX_SIGNATURES", 3)
    staged = ad.jit(lambda x: x * 2.0)
    for size in range(1, 7):
        np.testing.assert_allclose(staged(np.ones(size)), np.full(size, 2.0))
    assert staged.cache_info()["size"] == 3
    assert staged.cache_info()["misses"] == 6
    staged(np.ones(6))  # the newest signature is still staged
    assert staged.cache_info()["hits"] == 1
