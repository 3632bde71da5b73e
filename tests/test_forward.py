"""Forward mode: ``jvp`` against reverse mode, finite differences and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import adfun as ad
import adfun.numpy as anp
from adfun._engine.forward import forward
from adfun._engine.records import Params, Primitive
from adfun._engine.trace import call_primitive
from adfun.testing.strategies import programs

# Random programs of one or two arguments (a program returns a tuple when it has several
# results: _outputs lists them).
PROGRAMS = st.integers(1, 2).flatmap(lambda num_args: programs(max_ops=8, num_args=num_args))


def _outputs(value):
    return value if isinstance(value, tuple) else (value,)


# --- dot-product test on random programs -------------------------------------------------


@given(program=PROGRAMS, data=st.data())
def test_forward_and_reverse_agree_on_random_programs(program, data):
    fun, args = program
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    tangents = tuple(rng.standard_normal(np.shape(arg)) for arg in args)
    out, out_tangent = ad.jvp(fun, args, tangents)
    u = tuple(rng.standard_normal(np.shape(value)) for value in _outputs(out))
    out_again, vjp_fn = ad.vjp(fun, *args)
    cotangents = vjp_fn(u if isinstance(out, tuple) else u[0])
    for value, again in zip(_outputs(out), _outputs(out_again), strict=True):
        np.testing.assert_allclose(value, again)
    forward_side = sum(np.sum(w * t) for w, t in zip(u, _outputs(out_tangent), strict=True))
    reverse_side = sum(np.sum(c * t) for c, t in zip(cotangents, tangents))
    np.testing.assert_allclose(forward_side, reverse_side, rtol=1e-9, atol=1e-9)


@given(program=PROGRAMS)
def test_forward_matches_finite_differences_on_random_programs(program):
    fun, args = program
    rng = np.random.default_rng(1)
    tangents = tuple(rng.standard_normal(np.shape(arg)) for arg in args)
    _, out_tangent = ad.jvp(fun, args, tangents)
    eps = 1e-6
    plus = _outputs(fun(*[a + eps * t for a, t in zip(args, tangents)]))
    minus = _outputs(fun(*[a - eps * t for a, t in zip(args, tangents)]))
    for tangent, high, low in zip(_outputs(out_tangent), plus, minus, strict=True):
        np.testing.assert_allclose(tangent, (high - low) / (2 * eps), rtol=1e-5, atol=1e-6)


# --- closed forms -----------------------------------------------------------------------

THIRD_DERIVATIVES = [
    (anp.sin, lambda x: -np.cos(x)),
    (anp.exp, np.exp),
    (anp.tanh, lambda x: -2 * (1 - np.tanh(x) ** 2) * (1 - 3 * np.tanh(x) ** 2)),
]


def _fwd(f):
    return lambda x: ad.jvp(f, (x,), (np.ones(x.shape),))[1]


def _third_derivatives(f):
    """The third derivative of ``f`` in every mix of forward and reverse mode."""
    rev = ad.elementwise_grad
    return {
        "rev-rev-rev": rev(rev(rev(f))),
        "fwd-fwd-fwd": _fwd(_fwd(_fwd(f))),
        "fwd-rev-rev": _fwd(rev(rev(f))),
        "rev-fwd-rev": rev(_fwd(rev(f))),
        "rev-rev-fwd": rev(rev(_fwd(f))),
        "fwd-fwd-rev": _fwd(_fwd(rev(f))),
        "rev-fwd-fwd": rev(_fwd(_fwd(f))),
    }


@pytest.mark.parametrize("fun, third", THIRD_DERIVATIVES, ids=["sin", "exp", "tanh"])
def test_third_derivatives_against_closed_forms(fun, third):
    x = np.linspace(-2.0, 2.0, 7)
    for mode, derivative in _third_derivatives(fun).items():
        np.testing.assert_allclose(derivative(x), third(x), rtol=1e-12, atol=1e-12, err_msg=mode)


@pytest.mark.parametrize("fun, third", THIRD_DERIVATIVES, ids=["sin", "exp", "tanh"])
def test_third_derivatives_of_scalars(fun, third):
    assert np.isclose(ad.grad(ad.grad(ad.grad(fun)))(0.7), third(0.7), rtol=1e-12)
    assert np.isclose(ad.jacfwd(ad.jacfwd(ad.jacfwd(fun)))(0.7), third(0.7), rtol=1e-12)
    assert np.isclose(ad.jacfwd(ad.jacrev(ad.grad(fun)))(0.7), third(0.7), rtol=1e-12)


# --- behaviour --------------------------------------------------------------------------


def test_jvp_with_pytrees_and_several_primals():
    x = {"a": np.array([1.0, 2.0]), "b": (3.0,)}
    t = {"a": np.array([0.5, -1.0]), "b": (2.0,)}

    def f(tree, scale):
        return [tree["a"] * tree["b"][0] * scale, anp.sum(tree["a"])]

    out, tangent = ad.jvp(f, (x, 2.0), (t, 0.5))
    assert isinstance(tangent, list) and len(tangent) == 2
    expected0 = t["a"] * 3.0 * 2.0 + x["a"] * 2.0 * 2.0 + x["a"] * 3.0 * 0.5
    np.testing.assert_allclose(tangent[0], expected0)
    np.testing.assert_allclose(tangent[1], -0.5)
    np.testing.assert_allclose(out[0], x["a"] * 6.0)


def test_jvp_keeps_dtypes_and_scalar_types():
    x = np.array([1.0, 2.0], dtype=np.float32)
    out, tangent = ad.jvp(anp.sin, (x,), (np.ones(2, np.float32),))
    assert tangent.dtype == np.float32 and out.dtype == np.float32
    out, tangent = ad.jvp(lambda s: s * 2.0, (3.0,), (1,))  # a Python int tangent is fine
    assert tangent == 2.0 and np.ndim(tangent) == 0


def test_jvp_outputs_that_do_not_depend_on_the_input_get_zero_tangents():
    out, tangent = ad.jvp(lambda x: (x, np.ones(3), anp.floor(x)), (2.5,), (1.0,))
    assert tangent[0] == 1.0
    np.testing.assert_array_equal(tangent[1], np.zeros(3))
    assert tangent[2] == 0.0


def test_jvp_has_aux():
    out, tangent, aux = ad.jvp(lambda x: (x**2, "note"), (3.0,), (1.0,), has_aux=True)
    assert (out, tangent, aux) == (9.0, 6.0, "note")


def test_jvp_is_true_forward_mode():
    # A primitive with forward rules but no reverse rules still goes through jvp.
    twice = Primitive("twice", lambda x: 2 * x, vjps=(None,), jvps=(lambda t, ans, x: 2 * t,))
    out, tangent = ad.jvp(lambda x: call_primitive(twice, (x,), Params()), (1.5,), (1.0,))
    assert (out, tangent) == (3.0, 2.0)


def test_forward_pass_can_be_rerun_over_one_trace():
    graph = ad.trace(lambda x, y: anp.sin(x) * y)(0.5, 2.0)
    order = list(graph.nodes)
    first = forward(order, {graph.inputs[0]: 1.0})
    second = forward(order, {graph.inputs[1]: 1.0})
    assert np.isclose(first[graph.outputs[0]], np.cos(0.5) * 2.0)
    assert np.isclose(second[graph.outputs[0]], np.sin(0.5))


def test_deep_chain_under_jvp():
    def chain(x):
        for _ in range(100_000):
            x = x * 1.0
        return x

    assert ad.jvp(chain, (2.0,), (3.0,)) == (2.0, 3.0)


# --- errors -----------------------------------------------------------------------------


def test_forward_mode_through_an_argument_without_a_rule():
    half = Primitive(
        "half", lambda x, y: x * y, vjps=(None, None), jvps=(lambda t, ans, x, y: t * y, None)
    )
    f = lambda x, y: call_primitive(half, (x, y), Params())  # noqa: E731
    assert ad.jvp(lambda x: f(x, 3.0), (2.0,), (1.0,))[1] == 3.0
    with pytest.raises(
        NotImplementedError,
        match=r"primitive 'half' has no forward-mode "
        r"\(JVP\) rule for its positional argument 1",
    ):
        ad.jvp(lambda y: f(2.0, y), (3.0,), (1.0,))
