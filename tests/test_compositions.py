"""Every transform composed with every other, and no perturbation confusion."""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp


def d_rev(f):
    return ad.grad(f)


def d_fwd(f):
    return lambda x: ad.jvp(f, (x,), (1.0,))[1]


def d_jacrev(f):
    return ad.jacrev(f)


def d_jacfwd(f):
    return ad.jacfwd(f)


def d_vjp(f):
    return lambda x: ad.vjp(f, x)[1](1.0)[0]


DERIVATIVES = {"grad": d_rev, "jvp": d_fwd, "jacrev": d_jacrev, "jacfwd": d_jacfwd, "vjp": d_vjp}
PAIRS = [(outer, inner) for outer in DERIVATIVES for inner in DERIVATIVES]


@pytest.mark.parametrize("outer, inner", PAIRS)
def test_no_perturbation_confusion(outer, inner):
    D_outer, D_inner = DERIVATIVES[outer], DERIVATIVES[inner]
    # d/dx [x * d/dy (x + y)] = d/dx [x] = 1 (a confused implementation gives 2).
    assert D_outer(lambda x: x * D_inner(lambda y: x + y)(2.0))(3.0) == 1.0
    # d/dx [x * d/dy (x * y)] at y = x: d/dx [x * x] = 2x.
    assert np.isclose(D_outer(lambda x: x * D_inner(lambda y: x * y)(x))(3.0), 6.0)
    # The inner derivative closes over the outer variable in a nonlinear way.
    value = D_outer(lambda x: D_inner(lambda y: anp.sin(x * y))(1.0))(0.5)
    # d/dy sin(xy) at y=1 is x cos(x); its derivative is cos(x) - x sin(x).
    assert np.isclose(value, np.cos(0.5) - 0.5 * np.sin(0.5))


@pytest.mark.parametrize("outer, inner", PAIRS)
def test_second_derivative_in_every_mix(outer, inner):
    f = lambda x: anp.exp(anp.sin(x))  # noqa: E731
    expected = np.exp(np.sin(0.4)) * (np.cos(0.4) ** 2 - np.sin(0.4))
    assert np.isclose(DERIVATIVES[outer](DERIVATIVES[inner](f))(0.4), expected, rtol=1e-12)


def test_grad_of_grad_of_grad():
    assert np.isclose(ad.grad(ad.grad(ad.grad(lambda x: x**4)))(2.0), 48.0)
    f = lambda x: anp.sum(anp.sin(x) ** 3)  # noqa: E731
    x = np.array([0.2, 1.3])
    third = ad.elementwise_grad(ad.elementwise_grad(ad.elementwise_grad(f)))(x)
    s, c = np.sin(x), np.cos(x)
    np.testing.assert_allclose(third, 6 * c**3 - 21 * s**2 * c, rtol=1e-12)


def test_jacfwd_of_jacrev_matches_jacrev_of_jacfwd():
    f = lambda x: anp.tanh(x) * x[::-1]  # noqa: E731
    x = np.array([0.3, -0.7, 1.1])
    a = ad.jacfwd(ad.jacrev(f))(x)
    b = ad.jacrev(ad.jacfwd(f))(x)
    assert a.shape == (3, 3, 3)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_grad_of_function_calling_vjp_and_jvp():
    def via_vjp(x):
        out, vjp_fn = ad.vjp(lambda y: anp.sin(y) * x, x)
        return vjp_fn(1.0)[0]  # cos(x) * x

    def via_jvp(x):
        return ad.jvp(lambda y: anp.sin(y) * x, (x,), (x,))[1]  # cos(x) * x * x

    x = 0.8
    assert np.isclose(ad.grad(via_vjp)(x), -np.sin(x) * x + np.cos(x))
    expected = -np.sin(x) * x * x + 2 * x * np.cos(x)
    assert np.isclose(ad.grad(via_jvp)(x), expected)
    assert np.isclose(ad.jvp(via_jvp, (x,), (1.0,))[1], expected)


def test_jvp_of_grad():
    x = np.array([0.1, 0.5])
    f = lambda x: anp.sum(anp.exp(x) * x)  # noqa: E731
    _, tangent = ad.jvp(ad.grad(f), (x,), (np.array([1.0, 0.0]),))
    np.testing.assert_allclose(tangent, [np.exp(0.1) * 2.1, 0.0])


def test_hessian_with_stop_gradient():
    f = lambda x: anp.sum(x**2 * ad.stop_gradient(x))  # noqa: E731
    x = np.array([1.0, -2.0, 3.0])
    expected = np.diag(2 * x)
    np.testing.assert_allclose(ad.hessian(f)(x), expected)
    np.testing.assert_allclose(ad.jacrev(ad.jacrev(f))(x), expected)
    np.testing.assert_allclose(ad.hvp(f)(x, np.ones(3)), 2 * x)
    # stop_gradient stops every transform, the outer ones included: the inner gradient
    # is the value 2x, but a constant for the outer grad, so d/dx [x * 2x] gives 2x.
    g = lambda x: x * ad.grad(lambda y: y * ad.stop_gradient(x * y))(2.0)  # noqa: E731
    assert np.isclose(ad.grad(g)(3.0), 6.0)


def test_hvp_of_hvp_and_grad_of_hvp():
    f = lambda x: anp.sum(x**4)  # noqa: E731
    x = np.array([1.0, 2.0])
    v = np.array([1.0, 1.0])
    # H(x) v = 12 x^2 v, so d/dx [(H(x) v) . v] = 24 x v^2 and the Hessian of
    # sum(H(x) v) is diag(24 v).
    np.testing.assert_allclose(ad.grad(lambda y: anp.sum(ad.hvp(f)(y, v) * v))(x), 24 * x)
    np.testing.assert_allclose(ad.hvp(lambda y: anp.sum(ad.hvp(f)(y, v)))(x, v), 24 * v)


# --- Graphs in place of functions -------------------------------------------------------


def scalar_program(x, y):
    return anp.sum(anp.sin(x) * y) + anp.sum(x**2)


X = np.array([0.3, -1.2, 0.8])
Y = np.array([1.5, 0.5, -1.0])


@pytest.fixture(scope="module")
def graph():
    return ad.trace(scalar_program)(X, Y)


def _equal(a, b):
    flat_a = a if isinstance(a, (tuple, list)) else (a,)
    flat_b = b if isinstance(b, (tuple, list)) else (b,)
    assert len(flat_a) == len(flat_b)
    for left, right in zip(flat_a, flat_b):
        np.testing.assert_allclose(left, right, rtol=1e-12)


@pytest.mark.parametrize(
    "transform",
    [
        lambda f: ad.grad(f)(X, Y),
        lambda f: ad.grad(f, argnums=(0, 1))(X, Y),
        lambda f: ad.value_and_grad(f)(X, Y),
        lambda f: ad.elementwise_grad(f)(X, Y),
        lambda f: ad.vjp(f, X, Y)[1](1.0),
        lambda f: ad.jvp(f, (X, Y), (Y, X)),
        lambda f: ad.jacrev(f)(X, Y),
        lambda f: ad.jacfwd(f, argnums=1)(X, Y),
        lambda f: ad.jacobian(f)(X, Y),
        lambda f: ad.hessian(f)(X, Y),
        lambda f: ad.hvp(lambda x: f(x, Y))(X, Y),
        lambda f: ad.grad(ad.checkpoint(f))(X, Y),
        lambda f: ad.trace(f)(X, Y)(X, Y),
    ],
    ids=[
        "grad",
        "grad-argnums",
        "value_and_grad",
        "elementwise_grad",
        "vjp",
        "jvp",
        "jacrev",
        "jacfwd",
        "jacobian",
        "hessian",
        "hvp",
        "checkpoint",
        "trace",
    ],
)
def test_every_transform_accepts_a_graph(graph, transform):
    _equal(transform(graph), transform(scalar_program))


def test_graph_nested_transforms(graph):
    for transform in (
        lambda f: ad.grad(ad.grad(f)),
        lambda f: d_fwd(ad.grad(f)),
        lambda f: ad.hessian(f),
    ):
        got = transform(lambda s: graph(s * X, Y))(0.5)
        expected = transform(lambda s: scalar_program(s * X, Y))(0.5)
        assert np.isclose(got, expected, rtol=1e-12)


def test_transforms_are_safe_from_several_threads():
    from concurrent.futures import ThreadPoolExecutor

    f = lambda x: anp.sum(anp.tanh(x) ** 3)  # noqa: E731
    points = [np.linspace(-1, 1, 4) * scale for scale in np.linspace(0.1, 2.0, 16)]
    expected = [(ad.hessian(f)(x), ad.hvp(f)(x, x), ad.jvp(f, (x,), (x,))) for x in points]
    with ThreadPoolExecutor(4) as pool:
        got = list(
            pool.map(lambda x: (ad.hessian(f)(x), ad.hvp(f)(x, x), ad.jvp(f, (x,), (x,))), points)
        )
    for (h1, v1, (o1, t1)), (h2, v2, (o2, t2)) in zip(got, expected):
        np.testing.assert_array_equal(h1, h2)
        np.testing.assert_array_equal(v1, v2)
        assert o1 == o2 and t1 == t2
