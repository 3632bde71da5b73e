"""Transforms: argnums, has_aux, pytrees, nesting, dtypes, purity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy as anp


def test_grad_of_sin_is_cos():
    assert ad.grad(anp.sin)(0.3) == pytest.approx(np.cos(0.3))


def test_python_float_in_gives_float_out():
    result = ad.grad(lambda x: x * x)(3.0)
    assert isinstance(result, float)
    assert result == 6.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_keeps_dtype_and_shape(dtype):
    x = np.arange(6, dtype=dtype).reshape(2, 3)
    g = ad.grad(lambda x: anp.sum(anp.sin(x) * 2.0))(x)
    assert isinstance(g, np.ndarray)
    assert g.dtype == dtype
    assert g.shape == (2, 3)
    np.testing.assert_allclose(g, 2 * np.cos(x), rtol=1e-6)


def test_float32_survives_float64_constants():
    x = np.ones(3, np.float32)
    g = ad.grad(lambda x: anp.sum(x * np.float64(2.5)))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2.5)


def test_zero_d_array_input_gives_zero_d_array_gradient():
    g = ad.grad(lambda x: x**3)(np.array(2.0))
    assert isinstance(g, np.ndarray) and g.shape == () and g == 12.0


def test_argnums_int_and_tuple():
    f = lambda x, y, z: x * y + anp.sin(z)  # noqa: E731
    assert ad.grad(f, argnums=1)(2.0, 3.0, 0.0) == 2.0
    gx, gz = ad.grad(f, argnums=(0, 2))(2.0, 3.0, 0.0)
    assert (gx, gz) == (3.0, 1.0)
    (only,) = ad.grad(f, argnums=(1,))(2.0, 3.0, 0.0)
    assert only == 2.0
    assert ad.grad(f, argnums=-1)(2.0, 3.0, 0.0) == 1.0


def test_has_aux_returns_aux_untouched():
    def f(x):
        return x**2, {"note": "aux", "value": x * 10}

    g, aux = ad.grad(f, has_aux=True)(3.0)
    assert g == 6.0
    assert aux["note"] == "aux" and aux["value"] == 30.0
    (value, aux2), g2 = ad.value_and_grad(f, has_aux=True)(3.0)
    assert value == 9.0 and g2 == 6.0 and aux2["value"] == 30.0


def test_pytrees_come_back_with_the_same_containers():
    params = {"w": np.ones((2, 2)), "layers": [1.0, (np.zeros(3), 2.0)]}

    def f(p):
        return (
            anp.sum(p["w"] * 3.0)
            + p["layers"][0] * p["layers"][1][1]
            + anp.sum(anp.exp(p["layers"][1][0]))
        )

    g = ad.grad(f)(params)
    assert type(g) is dict and list(g) == ["w", "layers"]
    assert type(g["layers"]) is list and type(g["layers"][1]) is tuple
    np.testing.assert_allclose(g["w"], 3.0)
    assert g["layers"][0] == 2.0 and g["layers"][1][1] == 1.0
    np.testing.assert_allclose(g["layers"][1][0], np.ones(3))


def test_non_differentiated_arguments_pass_through_untouched():
    seen = {}

    def f(x, n, label, flag, nothing):
        seen.update(n=n, label=label, flag=flag, nothing=nothing)
        return x * n

    assert ad.grad(f)(2.0, 3, "hello", True, None) == 3.0
    assert seen == {"n": 3, "label": "hello", "flag": True, "nothing": None}


def test_value_and_grad_single_forward_pass():
    calls = []

    def f(x):
        calls.append(1)
        return anp.sum(x**2)

    value, g = ad.value_and_grad(f)(np.array([1.0, 2.0]))
    assert value == 5.0 and calls == [1]
    np.testing.assert_allclose(g, [2.0, 4.0])


def test_size_one_output_is_accepted():
    g = ad.grad(lambda x: anp.reshape(anp.sum(x), (1, 1)))(np.ones(3))
    np.testing.assert_allclose(g, np.ones(3))


def test_constant_output_has_zero_gradient():
    g = ad.grad(lambda x: 5.0)(np.ones(3))
    np.testing.assert_array_equal(g, np.zeros(3))
    assert ad.grad(lambda x: 5.0)(2.0) == 0.0


def test_elementwise_grad():
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(ad.elementwise_grad(anp.tanh)(x), 1 - np.tanh(x) ** 2)


def test_vjp_with_pytree_output_and_cotangent():
    def f(x, y):
        return {"a": x * y, "b": (anp.sin(x),)}

    x, y = np.array([1.0, 2.0]), 3.0
    out, vjp_fn = ad.vjp(f, x, y)
    np.testing.assert_allclose(out["a"], x * y)
    gx, gy = vjp_fn({"a": np.array([1.0, 1.0]), "b": (np.array([0.5, 0.0]),)})
    np.testing.assert_allclose(gx, [y + 0.5 * np.cos(1.0), y])
    assert gy == pytest.approx(3.0)
    assert isinstance(gy, float)


def test_vjp_function_can_be_called_twice():
    _, vjp_fn = ad.vjp(anp.sin, np.array([0.0, 1.0]))
    first = vjp_fn(np.ones(2))[0]
    second = vjp_fn(np.full(2, 2.0))[0]
    np.testing.assert_allclose(second, 2 * first)


def test_vjp_has_aux():
    out, vjp_fn, aux = ad.vjp(lambda x: (x * 2.0, "aux"), 1.5, has_aux=True)
    assert out == 3.0 and aux == "aux" and vjp_fn(1.0) == (2.0,)


def test_perturbation_confusion_example_from_the_contract():
    assert ad.grad(lambda x: x * ad.grad(lambda y: x + y)(2.0))(3.0) == 1.0


def test_perturbation_confusion_other_order():
    # d/dx [ x * d/dy (x * y) ] = d/dx [x * x] = 2x
    assert ad.grad(lambda x: x * ad.grad(lambda y: x * y)(5.0))(3.0) == 6.0


@pytest.mark.parametrize(
    "fun, derivatives",
    [
        (anp.sin, [np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), np.sin]),
        (anp.exp, [np.exp] * 4),
        (
            anp.tanh,
            [
                lambda x: 1 - np.tanh(x) ** 2,
                lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
                lambda x: (6 * np.tanh(x) ** 2 - 2) * (1 - np.tanh(x) ** 2),
                lambda x: (16 * np.tanh(x) - 24 * np.tanh(x) ** 3) * (1 - np.tanh(x) ** 2),
            ],
        ),
    ],
)
def test_reverse_over_reverse_to_fourth_order(fun, derivatives):
    x = 0.7
    current = fun
    for derivative in derivatives:
        current = ad.grad(current)
        assert current(x) == pytest.approx(derivative(x), rel=1e-10)


def test_inputs_are_never_mutated():
    x = np.array([1.0, -2.0, 3.0])
    before = x.copy()
    ad.grad(lambda x: anp.sum(anp.maximum(x, 0.0) ** 2 + x[[0, 0]].sum()))(x)
    ad.vjp(lambda x: x[1:] * 2.0, x)[1](np.ones(2))
    np.testing.assert_array_equal(x, before)


def test_stop_gradient_blocks_derivatives_at_every_order():
    f = lambda x: x**2 * ad.stop_gradient(x)  # noqa: E731
    assert ad.grad(f)(3.0) == 18.0  # 2x * x, not 3x^2
    assert ad.grad(ad.grad(f))(3.0) == 6.0
    assert ad.stop_gradient(4.0) == 4.0  # plain values pass through


def test_plain_numpy_functions_dispatch_on_traced_values():
    x = np.array([0.5, 1.5])
    g = ad.grad(lambda x: np.sum(np.sin(x) * np.exp(x)))(x)
    np.testing.assert_allclose(g, np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x))
    w = np.ones((2, 3))
    gw = ad.grad(lambda w: np.sum(np.tanh(x @ w)), argnums=0)(w)
    assert gw.shape == (2, 3)


def test_tracer_attributes_and_methods():
    def f(x):
        assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
        assert x.dtype == np.float64
        assert x.T.shape == (3, 2)
        total = (
            x.sum()
            + x.mean(axis=0).sum()
            + x.max()
            + x.min(axis=1).sum()
            + x.reshape(3, 2).sum()
            + x.transpose().sum()
            + x.dot(np.ones(3)).sum()
            + x.ravel().sum()
            + x[None].squeeze().sum()
            + x.astype(np.float64).sum()
            + x.clip(-1.0, 10.0).sum()
            + abs(-x).sum()
            + (x // 2).sum()
            + (x % 2).sum()
        )
        assert (x > 0).shape == (2, 3)
        return total

    x = np.arange(6.0).reshape(2, 3)
    g = ad.grad(f)(x)
    assert g.shape == (2, 3) and np.all(np.isfinite(g))


def test_tracer_control_flow_on_comparisons():
    def f(x):
        return x * 2.0 if x > 0 else x * -3.0

    assert ad.grad(f)(1.0) == 2.0
    assert ad.grad(f)(-1.0) == -3.0


def test_trace_returns_graph_in_topological_order():
    graph = ad.trace(lambda x, y: anp.sin(x) * y)(1.0, 2.0)
    names = [node.primitive.name for node in graph.nodes]
    assert names == ["input", "input", "sin", "multiply"]
    assert graph(0.5, 3.0) == pytest.approx(np.sin(0.5) * 3.0)


@given(
    hnp.arrays(
        np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), elements=st.floats(-3, 3)
    )
)
def test_grad_matches_closed_form_for_random_arrays(x):
    g = ad.grad(lambda x: anp.sum(anp.sin(x) ** 2 + anp.exp(-x) * anp.cos(x)))(x)
    expected = 2 * np.sin(x) * np.cos(x) - np.exp(-x) * np.cos(x) - np.exp(-x) * np.sin(x)
    np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-12)
    assert np.shape(g) == np.shape(x)


def test_jvp_of_sin():
    out, tangent = ad.jvp(anp.sin, (0.5,), (2.0,))
    assert out == pytest.approx(np.sin(0.5)) and tangent == pytest.approx(2 * np.cos(0.5))


def test_jvp_with_broadcasting():
    x = np.ones(3)
    out, tangent = ad.jvp(lambda x, y: x * y, (x, 2.0), (np.zeros(3), 1.0))
    np.testing.assert_allclose(tangent, np.ones(3))
    assert tangent.shape == out.shape == (3,)


def test_tanh_derivative_keeps_its_digits_in_float32():
    # 1 - tanh(x)**2 from a float32 tanh near 1 is off by ~35% at x = 8.27.
    x = np.array([8.27, -6.0, 0.5], np.float32)
    expected = 1.0 / np.cosh(x.astype(np.float64)) ** 2
    first = ad.elementwise_grad(anp.tanh)(x)
    assert first.dtype == np.float32
    np.testing.assert_allclose(first, expected, rtol=1e-5)
    second = ad.elementwise_grad(ad.elementwise_grad(anp.tanh))(x)
    np.testing.assert_allclose(second, -2 * np.tanh(x.astype(np.float64)) * expected, rtol=1e-5)


@pytest.mark.parametrize(
    "gradient",
    [
        lambda x: ad.grad(anp.sum)(x),
        lambda x: ad.value_and_grad(lambda x: anp.mean(x) * 3.0)(x)[1],
        lambda x: ad.jacobian(anp.sum)(x),
        lambda x: ad.jacrev(anp.sum)(x),
        lambda x: ad.vjp(anp.sum, x)[1](1.0)[0],
        lambda x: ad.grad(lambda x: anp.sum(anp.broadcast_to(x, (2, 3))))(x),
    ],
    ids=["grad", "value_and_grad", "jacobian", "jacrev", "vjp", "broadcast_to"],
)
def test_gradients_are_arrays_of_the_callers_own(gradient):
    # A sum's cotangent is a broadcast (read-only, zero strides) inside the pass; the
    # caller gets a writeable array with memory of its own, as NumPy would give.
    x = np.arange(3.0)
    g = gradient(x)
    assert g.flags.writeable and g.flags.owndata and g.strides == (8,)
    g *= 2.0
    assert not np.shares_memory(g, x)
