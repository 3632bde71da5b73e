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
from adfun._engine.pytree import tree_flatten
from adfun._engine.records import Params
from adfun._engine.trace import call_primitive
from adfun.numpy._declare import COMPOSITES, REGISTRY
from adfun.numpy._examples import draw_example

try:  # registers the scipy.special primitives (scipy is in the test extra)
    import adfun.scipy  # noqa: F401
except ImportError:  # pragma: no cover - scipy missing: only adfun.numpy is checked
    pass

WITH_DOMAIN = sorted(name for name, fun in REGISTRY.items() if fun.primitive.domain is not None)

#: Primitives without a test domain (constants for differentiation): how to draw them.
_BINARY = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}
_BINARY |= {"logical_and", "logical_or", "logical_xor", "floor_divide"}


def _coarse(array):
    """Values on a grid of halves (ties, zeros and halves for comparisons and rounding)."""
    return np.round(array * 2.0) / 2.0


def _draw_without_domain(draw, name):
    from adfun.numpy._examples import array, broadcast_arrays

    if name in ("argmax", "argmin", "argsort", "any", "all", "count_nonzero"):
        x = _coarse(array(draw, st, hnp, (-3.0, 3.0), min_dims=1))
        choices = [st.none(), st.integers(-x.ndim, x.ndim - 1)]
        if name in ("any", "all", "count_nonzero") and x.ndim > 1:
            choices.append(st.just((0, -1)))
        params = (
            {} if draw(st.booleans(), label="default axis") else {"axis": draw(st.one_of(*choices))}
        )
        if name in ("any", "all") and draw(st.booleans(), label="keepdims"):
            params["keepdims"] = True
        return (x,), params
    if name == "linalg.matrix_rank":
        n = draw(st.integers(1, 3))
        batch = draw(st.sampled_from([(), (2,)]))
        x = array(draw, st, hnp, (-2.0, 2.0), shape=batch + (n, n))
        if draw(st.booleans(), label="rank deficient"):
            x[..., -1, :] = x[..., 0, :]
        return (x,), {}
    if name == "floor_divide":
        x, y = broadcast_arrays(draw, st, hnp, ((-3.0, 3.0), (0.5, 3.0)), magnitude=True)
        return (x, y), {}
    count = 2 if name in _BINARY else 1
    args = broadcast_arrays(draw, st, hnp, ((-3.0, 3.0),) * count)
    return tuple(_coarse(arg) for arg in args), {}


WITHOUT_DOMAIN = sorted(name for name, fun in REGISTRY.items() if fun.primitive.domain is None)


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


@pytest.mark.parametrize("name", WITH_DOMAIN + WITHOUT_DOMAIN)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_batching_rule_matches_a_loop(name, data):
    """``vmap(f)(xs)`` equals stacking ``f(x)`` for every x, batch axes drawn at random."""
    primitive = REGISTRY[name].primitive
    if primitive.domain is None:
        args, params = data.draw(st.composite(lambda draw: _draw_without_domain(draw, name))())
    else:
        draw_args = st.composite(lambda draw: draw_example(draw, st, hnp, primitive))
        args, params = data.draw(draw_args())
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


#: Composites whose result's shape depends on the values of a batched argument: refused.
SHAPE_FROM_VALUES = {"arange", "polymul", "trim_zeros"}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_composites_batch_like_a_loop(name, data):
    """Every composite (written with primitives) batches like the loop, pytrees included."""
    fun = COMPOSITES[name]
    holder = type("Holder", (), {"domain": fun.domain})
    args, params = data.draw(st.composite(lambda draw: draw_example(draw, st, hnp, holder))())
    candidates = [
        index
        for index, arg in enumerate(args)
        if isinstance(arg, np.ndarray) and arg.dtype.kind == "f"
    ]
    if not candidates:
        return
    position = data.draw(st.sampled_from(candidates), label="batched")
    copies = [args[position] * (1.0 - 0.01 * index) for index in range(2)]

    def at(value):
        call = list(args)
        call[position] = value
        return fun(*call, **params)

    if name in SHAPE_FROM_VALUES:
        with pytest.raises(ad.StagingError, match="vmap"):
            ad.vmap(at)(np.stack(copies))
        return
    expected = [tree_flatten(at(copy))[0] for copy in copies]
    got = tree_flatten(ad.vmap(at)(np.stack(copies)))[0]
    assert len(got) == len(expected[0])
    for index, leaf in enumerate(got):
        _close(leaf, np.stack([np.asarray(leaves[index]) for leaves in expected]))


# --- semantics ------------------------------------------------------------------------------

RNG = np.random.default_rng(0)


def test_in_axes_none_and_negative_axes():
    w = RNG.standard_normal(3)
    xs = RNG.standard_normal((3, 4))  # batch along the last axis
    out = ad.vmap(lambda w, x: anp.dot(w, x), in_axes=(None, -1))(w, xs)
    _close(out, np.stack([w @ xs[:, b] for b in range(4)]))


def test_pytree_in_axes_and_out_axes():
    params = {"w": RNG.standard_normal((4, 2)), "b": RNG.standard_normal(2)}
    xs = RNG.standard_normal((5, 4))

    def layer(p, x):
        y = x @ p["w"] + p["b"]
        return {"y": y, "norm": anp.sum(y**2)}

    out = ad.vmap(layer, in_axes=({"w": None, "b": None}, 0), out_axes={"y": 1, "norm": 0})(
        params, xs
    )
    expected = [layer(params, x) for x in xs]
    _close(out["y"], np.stack([e["y"] for e in expected], axis=1))
    _close(out["norm"], np.stack([e["norm"] for e in expected]))


def test_keyword_arguments_are_batched_along_axis_0():
    xs = RNG.standard_normal((3, 2))
    out = ad.vmap(lambda x, scale: x * scale, in_axes=(0,))(xs, scale=np.arange(3.0))
    _close(out, xs * np.arange(3.0)[:, None])


def test_axis_size_when_nothing_is_batched():
    out = ad.vmap(lambda c: anp.sin(c) * 2.0, in_axes=None, axis_size=3)(np.ones(2))
    _close(out, np.broadcast_to(np.sin(np.ones(2)) * 2.0, (3, 2)))


def test_unbatched_output_is_broadcast_or_kept():
    xs = RNG.standard_normal((3, 2))
    out = ad.vmap(lambda x, c: (x * 2.0, c), in_axes=(0, None), out_axes=(0, None))(xs, 5.0)
    _close(out[0], xs * 2.0)
    assert out[1] == 5.0
    both = ad.vmap(lambda x, c: (x, c * 1.0), in_axes=(0, None))(xs, np.ones(2))
    _close(both[1], np.ones((3, 2)))


def test_nested_vmap_is_an_outer_product():
    xs = RNG.standard_normal(3)
    ys = RNG.standard_normal(4)
    out = ad.vmap(ad.vmap(lambda x, y: x * anp.sin(y), in_axes=(None, 0)), in_axes=(0, None))(
        xs, ys
    )
    _close(out, xs[:, None] * np.sin(ys)[None, :])


def test_python_control_flow_on_unbatched_arguments_is_allowed():
    def f(x, flag):
        return x * 2.0 if flag else x

    _close(ad.vmap(f, in_axes=(0, None))(np.ones((2, 3)), True), np.full((2, 3), 2.0))


# --- errors ---------------------------------------------------------------------------------


def test_disagreeing_batch_sizes_name_the_sizes():
    with pytest.raises(
        ValueError, match=r"argument 0 has size 3 along axis 0; argument 1 has size 4"
    ):
        ad.vmap(lambda x, y: x + y)(np.ones(3), np.ones(4))


def test_axis_size_that_disagrees_is_an_error():
    with pytest.raises(ValueError, match="axis_size is 5"):
        ad.vmap(anp.sin, axis_size=5)(np.ones(3))


def test_out_of_range_axis():
    with pytest.raises(ValueError, match=r"axis 2 for argument 0, but it has 2 dimension"):
        ad.vmap(anp.sin, in_axes=2)(np.ones((3, 4)))
    with pytest.raises(ValueError, match="a scalar cannot be batched"):
        ad.vmap(lambda x, y: x * y)(2.0, np.ones(3))
    with pytest.raises(ValueError, match=r"out_axes gives axis 3 for output"):
        ad.vmap(anp.sin, out_axes=3)(np.ones((3, 4)))


def test_nothing_batched_needs_axis_size():
    with pytest.raises(ValueError, match="no argument is batched.*pass axis_size"):
        ad.vmap(anp.sin, in_axes=None)(np.ones(3))


def test_bad_axes_specifications():
    with pytest.raises(ValueError, match="in_axes must be an int, None, or a tuple"):
        ad.vmap(anp.sin, in_axes={"x": 0})
    with pytest.raises(ValueError, match=r"out_axes must be .* but it holds 1.5"):
        ad.vmap(anp.sin, out_axes=1.5)
    with pytest.raises(
        ValueError, match="in_axes has 2 entries but the function was called with 1"
    ):
        ad.vmap(anp.sin, in_axes=(0, 0))(np.ones(3))
    with pytest.raises(ValueError, match="must be a pytree prefix"):
        ad.vmap(lambda p: p[0], in_axes=({"a": 0},))((np.ones(3),))
    with pytest.raises(ValueError, match="axis_size must be a non-negative int"):
        ad.vmap(anp.sin, axis_size=-1)


def test_batched_output_with_out_axes_none_is_an_error():
    with pytest.raises(ValueError, match="out_axes is None for output, but it depends on"):
        ad.vmap(anp.sin, out_axes=None)(np.ones(3))


def test_python_control_flow_on_batched_values_is_refused():
    def f(x):
        return x if anp.sum(x) > 0 else -x

    with pytest.raises(ad.StagingError, match=r"vmap: cannot stage `if` / bool\(\)"):
        ad.vmap(f)(np.ones((2, 3)))


# --- compositions ---------------------------------------------------------------------------


def _mlp_loss(params, x, y):
    w1, b1, w2, b2 = params
    h = anp.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    shifted = logits - anp.max(logits)
    log_probs = shifted - anp.log(anp.sum(anp.exp(shifted)))
    return -anp.sum(log_probs * y)


def _mlp_data():
    params = (
        RNG.standard_normal((5, 7)) * 0.3,
        RNG.standard_normal(7) * 0.1,
        RNG.standard_normal((7, 3)) * 0.3,
        RNG.standard_normal(3) * 0.1,
    )
    X = RNG.standard_normal((6, 5))
    Y = np.eye(3)[RNG.integers(0, 3, 6)]
    return params, X, Y


def test_per_example_gradients():
    params, X, Y = _mlp_data()
    per_example = ad.vmap(ad.grad(_mlp_loss), in_axes=(None, 0, 0))(params, X, Y)
    for index in range(len(X)):
        expected = ad.grad(_mlp_loss)(params, X[index], Y[index])
        for got, want in zip(per_example, expected):
            _close(got[index], want)


def test_grad_of_vmap():
    params, X, Y = _mlp_data()

    def total(params):
        return anp.sum(ad.vmap(_mlp_loss, in_axes=(None, 0, 0))(params, X, Y))

    expected = ad.grad(lambda p: sum(_mlp_loss(p, x, y) for x, y in zip(X, Y)))(params)
    for got, want in zip(ad.grad(total)(params), expected):
        _close(got, want)


def test_grad_through_a_closure_over_a_traced_value():
    xs = RNG.standard_normal((4, 3))

    def f(w):
        return anp.sum(ad.vmap(lambda x: anp.sin(w * x))(xs))

    _close(ad.grad(f)(1.3), np.sum(np.cos(1.3 * xs) * xs))


def test_jvp_of_vmap_and_vmap_of_jvp():
    xs = RNG.standard_normal((4, 3))
    ts = RNG.standard_normal((4, 3))
    f = lambda x: anp.tanh(x) * anp.sum(x)  # noqa: E731
    out, tangent = ad.jvp(ad.vmap(f), (xs,), (ts,))
    expected = [ad.jvp(f, (x,), (t,)) for x, t in zip(xs, ts)]
    _close(out, np.stack([e[0] for e in expected]))
    _close(tangent, np.stack([e[1] for e in expected]))
    inner = ad.vmap(lambda x, t: ad.jvp(f, (x,), (t,))[1])(xs, ts)
    _close(inner, np.stack([e[1] for e in expected]))


def test_jit_of_vmap_and_vmap_of_jit():
    xs = RNG.standard_normal((4, 3))
    f = lambda x: anp.sum(anp.exp(x) * x)  # noqa: E731
    expected = np.stack([f(x) for x in xs])
    jitted = ad.jit(ad.vmap(f))
    _close(jitted(xs), expected)
    _close(jitted(xs + 1.0), np.stack([f(x) for x in xs + 1.0]))
    _close(ad.vmap(ad.jit(f))(xs), expected)


def test_vmap_of_checkpoint_and_checkpoint_of_vmap():
    xs = RNG.standard_normal((4, 3))
    f = lambda x: anp.sum(anp.sin(x) ** 2)  # noqa: E731
    expected = np.stack([ad.grad(f)(x) for x in xs])
    _close(ad.vmap(ad.grad(ad.checkpoint(f)))(xs), expected)
    _close(ad.grad(lambda x: anp.sum(ad.checkpoint(ad.vmap(f))(x)))(xs), expected)


def test_custom_primitive_gets_the_loop_and_may_declare_a_rule():
    @ad.primitive
    def cube(x):
        return x**3

    cube.defvjp(lambda g, ans, x: 3.0 * x**2 * g)
    xs = RNG.standard_normal((3, 2))
    _close(ad.vmap(cube)(xs), xs**3)
    _close(ad.vmap(ad.grad(lambda x: anp.sum(cube(x))))(xs), 3.0 * xs**2)
    calls = []

    def rule(size, dims, x):
        calls.append((size, dims))
        return cube(x), dims[0]

    cube.defbatch(rule)
    _close(ad.vmap(cube, in_axes=1)(xs), xs.T**3)
    assert calls == [(2, (1,))]
    with pytest.raises(TypeError, match=r"cube.defbatch: the rule must be a function"):
        cube.defbatch(3)


def test_sort_and_take_along_a_traced_order():
    xs = RNG.standard_normal((4, 5))
    _close(ad.vmap(anp.sort)(xs), np.sort(xs, axis=1))
    _close(ad.vmap(lambda x: x[anp.argsort(x)])(xs), np.sort(xs, axis=1))


def test_vmap_of_vmap_of_grad_matches_hessian_rows():
    x = RNG.standard_normal(3)
    f = lambda x: anp.sum(anp.sin(x) * x**2)  # noqa: E731
    rows = ad.vmap(lambda v: ad.jvp(ad.grad(f), (x,), (v,))[1])(np.eye(3))
    _close(rows, ad.hessian(f)(x))


# --- real rules, not the loop ---------------------------------------------------------------


@pytest.fixture
def loops(monkeypatch):
    """The names of the primitives that fell back to the loop during the test."""
    import adfun._transforms.batching as batching_transform
    import adfun.numpy._batching as batching_rules

    seen: list = []
    original = batching_rules.loop

    def spy(primitive, *args, **params):
        seen.append(primitive.name)
        return original(primitive, *args, **params)

    monkeypatch.setattr(batching_rules, "loop", spy)
    monkeypatch.setattr(batching_transform, "loop", spy)
    return seen


def _against_loop(fun, *args, in_axes=0):
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    size = next(np.shape(arg)[axis] for arg, axis in zip(args, axes) if axis is not None)
    expected = np.stack(
        [
            np.asarray(
                fun(
                    *[
                        arg if axis is None else np.take(arg, index, axis)
                        for arg, axis in zip(args, axes)
                    ]
                )
            )
            for index in range(size)
        ]
    )
    _close(ad.vmap(fun, in_axes=in_axes)(*args), expected)


X3 = RNG.standard_normal((4, 3, 5))
X4 = RNG.standard_normal((4, 3, 2, 5))

TRACED_INDEX_CASES = {
    "x[argsort(x)]": (lambda x: x[anp.argsort(x)], RNG.standard_normal((4, 5))),
    "x[:, argmax]": (lambda x: x[:, anp.argmax(x[0])], X3),
    "x[argmax, None, 1:]": (lambda x: x[anp.argmax(x[:, 0]), None, 1:], X3),
    "x[i, :, j] (separated)": (lambda x: x[anp.argmax(x[:, 0, 0]), :, anp.argmin(x[0, 0])], X4),
    "x[0, :, order[:2]]": (lambda x: x[0, :, anp.argsort(x[0, 0])[:2]], X4),
    "x[..., order]": (lambda x: x[..., anp.argsort(x[0])], X3),
    "sort": (anp.sort, X3),
    "sort axis 0": (lambda x: anp.sort(x, axis=0), X3),
    "sort axis None": (lambda x: anp.sort(x, axis=None), X3),
    "take_along_axis": (lambda x: anp.take_along_axis(x, anp.argsort(x, axis=1), axis=1), X3),
    "take_along_axis None": (
        lambda x: anp.take_along_axis(x, anp.argsort(x, axis=None), axis=None),
        X3,
    ),
    "take axis 1": (lambda x: anp.take(x, anp.argsort(x[0]), axis=1), X3),
    "take flat": (lambda x: anp.take(x, anp.argsort(x[0])), X3),
    "median": (lambda x: anp.median(x, axis=1), X3),
    "grad of a gather": (ad.grad(lambda x: anp.sum(x[:, anp.argsort(x[0])] ** 3)), X3),
    "grad of separated indices": (
        ad.grad(lambda x: anp.sum(x[anp.argmax(x[:, 0, 0]), :, anp.argmin(x[0, 0])] ** 2)),
        X4,
    ),
    "grad of sort": (ad.grad(lambda x: anp.sum(anp.sort(x) * anp.arange(5.0))), X3),
    "argmax None": (anp.argmax, X3),
    "argsort None": (lambda x: anp.argsort(x, axis=None), X3),
    "cumsum None": (anp.cumsum, X3),
    "tensordot, both batched": (
        lambda a, b: anp.tensordot(a, b, axes=([1, 2], [1, 0])),
        X4[:, :, :, :3],
        RNG.standard_normal((4, 3, 2, 2)),
    ),
    "tensordot axes=0, both batched": (
        lambda a, b: anp.tensordot(a, b, axes=0),
        X3[:, 0],
        X3[:, 1, :2],
    ),
    "dot of 3-d operands": (anp.dot, X4, RNG.standard_normal((4, 3, 5, 2))),
    "dot of 1-d and 3-d": (anp.dot, X3[:, 0], RNG.standard_normal((4, 3, 5, 2))),
}


@pytest.mark.parametrize("case", sorted(TRACED_INDEX_CASES))
def test_rules_that_do_not_loop(case, loops):
    fun, *args = TRACED_INDEX_CASES[case]
    _against_loop(fun, *args)
    assert loops == []


def test_indices_batched_with_an_unbatched_array():
    table = X3[0]
    indices = np.array([[0, 1], [2, 0], [1, 1], [4, 4]])
    _against_loop(lambda i, x: anp.take(x, i, axis=-1), indices, table, in_axes=(0, None))
    _against_loop(
        lambda i, x: anp.take_along_axis(x, i, axis=0),
        np.array([[[0, 1, 2, 0, 1]], [[2, 2, 2, 2, 2]], [[1, 0, 1, 0, 1]], [[0, 0, 0, 0, 0]]]),
        table,
        in_axes=(0, None),
    )


def test_grad_and_jit_of_a_batched_gather():
    xs = RNG.standard_normal((4, 5))
    w = np.arange(5.0)
    got = ad.grad(lambda X: anp.sum(ad.vmap(anp.sort)(X) * w))(xs)
    expected = np.stack([ad.grad(lambda x: anp.sum(anp.sort(x) * w))(x) for x in xs])
    _close(got, expected)
    jitted = ad.jit(ad.vmap(anp.sort))
    _close(jitted(xs), np.sort(xs, axis=1))
    _close(jitted(xs[::-1] + 1.0), np.sort(xs[::-1] + 1.0, axis=1))


def test_a_batched_boolean_mask_is_refused():
    """The length of ``x[mask]`` could differ between examples: refused while tracing."""
    xs = RNG.standard_normal((3, 4))
    with pytest.raises(ad.StagingError, match=r"x\[mask\] \(adfun.numpy.getitem\).*vmap"):
        ad.vmap(lambda x: anp.sum(x[x > 10.0]))(xs)


VALUES_CASES = {
    "signbit": (lambda x: anp.signbit(x), X3),
    "isclose": (lambda x, y: anp.isclose(x, y, atol=0.5), X3, X3[::-1]),
    "isclose, one batched": (lambda x, y: anp.isclose(x, y, atol=0.5), X3[0, 0], X3),
    "around": (lambda x: anp.around(x, 1), X3),
    "digitize": (lambda x: anp.digitize(x, np.array([-1.0, 0.0, 1.0])), X3),
    "searchsorted": (lambda v: anp.searchsorted(np.array([-1.0, 0.0, 1.0]), v), X3),
    "isin": (lambda x: anp.isin(anp.round(x), np.array([0.0, 1.0])), X3),
    "grad of copysign": (ad.grad(lambda x: anp.sum(anp.copysign(x, X3[0]))), X3),
    "frexp": (lambda x: anp.frexp(x)[0] * 2.0, X3),
    "nextafter": (lambda x: anp.nextafter(x, 0.0), X3),
}


@pytest.mark.parametrize("case", sorted(VALUES_CASES))
def test_elementwise_functions_of_values(case, loops):
    fun, *args = VALUES_CASES[case]
    in_axes = (None, 0) if case.endswith("one batched") else 0
    _against_loop(fun, *args, in_axes=in_axes)
    assert loops == []


def test_checkpoint_is_batched_as_one_checkpointed_call(loops):
    w = RNG.standard_normal(3)
    block = ad.checkpoint(lambda x, w: (anp.sin(x * w), anp.sum(x**2)))

    def f(x):
        a, b = block(x, w)
        return anp.sum(a) * b

    xs = RNG.standard_normal((4, 3))
    _against_loop(f, xs)
    _against_loop(ad.grad(f), xs)
    got = ad.grad(lambda w: anp.sum(ad.vmap(lambda x: anp.sum(block(x, w)[0]))(xs)))(w)
    expected = sum(ad.grad(lambda w, x=x: anp.sum(block(x, w)[0]))(w) for x in xs)
    _close(got, expected)
    assert loops == []


def test_incomplete_gamma_shape_derivatives_are_batched(loops):
    special = pytest.importorskip("adfun.scipy.special")
    a = np.array([0.5, 1.5, 2.5, 4.0])
    _against_loop(ad.grad(lambda a: special.gammainc(a, 1.3)), a)
    _against_loop(ad.grad(lambda a: special.betainc(a, 2.0, 0.4)), a)
    assert loops == []


# --- primitives batched by the loop (a joint solve would change the adaptive steps) -------


def test_solvers_loop_over_the_examples(loops):
    integrate = pytest.importorskip("adfun.scipy.integrate")
    rates = np.array([0.3, 0.7, 1.1])
    times = np.array([0.0, 0.5, 1.0])

    def decay(k):
        return integrate.odeint(lambda y, t, k: -k * y, np.array([1.0]), times, args=(k,))[-1, 0]

    def decay_ivp(k):
        result = integrate.solve_ivp(
            lambda t, y, k: -k * y, (0.0, 1.0), np.array([1.0]), t_eval=[1.0], args=(k,)
        )
        return result.y[0, -1]

    def heron(a):
        return ad.fixed_point(lambda a: lambda x: 0.5 * (x + a / x), a, 1.0)

    def cube_root(a):
        def newton(g, x):
            for _ in range(60):
                x = x - g(x) / (3.0 * x**2)
            return x

        return ad.custom_root(lambda x, a: x**3 - a, 1.0, newton, args=(a,))

    for fun in (decay, decay_ivp, heron, cube_root):
        _against_loop(fun, rates)
        _against_loop(ad.grad(fun), rates)
    assert {"odeint", "solve_ivp", "fixed_point", "custom_root"} <= set(loops)


def test_evaluate_keeps_only_the_outputs():
    from adfun._engine.graph import toposort
    from adfun._engine.trace import current_trace, new_input
    from adfun._transforms.batching import BatchTrace, evaluate

    trace = BatchTrace("test")
    token = current_trace.set(trace)
    try:
        x = new_input(trace, np.ones(3))
        out = anp.sin(anp.exp(x) * 2.0) + x
    finally:
        trace.active = False
        current_trace.reset(token)
    env = evaluate(toposort([out.node]), {x.node: (np.ones((2, 3)), 0)}, 2, [out.node])
    assert list(env) == [out.node]
    _close(env[out.node][0], np.sin(np.exp(np.ones((2, 3))) * 2.0) + 1.0)
