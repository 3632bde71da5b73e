"""``checkpoint``: same values and derivatives, intermediates recomputed, less memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp


def block(x, w):
    return anp.tanh(x * w) * w + anp.sin(x)


checkpointed_block = ad.checkpoint(block)


def chain(x, w, layer):
    for _ in range(3):
        x = layer(x, w)
    return anp.sum(x**2)


X = np.array([0.3, -1.2, 0.8, 0.1])
W = 1.3


def test_plain_call_is_the_function():
    np.testing.assert_array_equal(checkpointed_block(X, W), block(X, W))
    assert checkpointed_block.__name__ == "block"


@pytest.mark.parametrize(
    "name, transform",
    [
        ("grad", lambda f: ad.grad(f, argnums=(0, 1))(X, W)),
        ("grad-grad", lambda f: ad.grad(ad.grad(f, 1), 1)(X, W)),
        ("jvp", lambda f: ad.jvp(f, (X, W), (np.arange(4.0), 0.5))),
        ("jacfwd", lambda f: ad.jacfwd(f)(X, W)),
        ("hessian", lambda f: ad.hessian(f)(X, W)),
        ("hvp", lambda f: ad.hvp(lambda x: f(x, W))(X, np.ones(4))),
        ("jvp-of-grad", lambda f: ad.jvp(ad.grad(f), (X, W), (np.ones(4), 1.0))),
        ("grad-of-jvp", lambda f: ad.grad(lambda x: ad.jvp(f, (x, W), (x, 1.0))[1])(X)),
    ],
)
def test_same_derivatives_in_every_transform(name, transform):
    expected = transform(lambda x, w: chain(x, w, block))
    got = transform(lambda x, w: chain(x, w, checkpointed_block))
    flat_expected = expected if isinstance(expected, tuple) else (expected,)
    flat_got = got if isinstance(got, tuple) else (got,)
    for left, right in zip(flat_got, flat_expected):
        np.testing.assert_allclose(left, right, rtol=1e-12, atol=1e-14, err_msg=name)


def test_intermediates_are_not_recorded_but_recomputed():
    calls = []

    def counted(x):
        calls.append(1)
        return anp.exp(anp.sin(x))

    graph = ad.trace(ad.checkpoint(counted))(X)
    assert [node.primitive.name for node in graph.nodes] == ["input", "checkpoint"]
    calls.clear()
    gradient = ad.grad(lambda x: anp.sum(ad.checkpoint(counted)(x)))(X)
    assert len(calls) == 2  # once forward, once more in the backward pass
    np.testing.assert_allclose(gradient, np.exp(np.sin(X)) * np.cos(X))
    np.testing.assert_allclose(graph(X + 1.0), np.exp(np.sin(X + 1.0)))  # replay


def test_pytrees_keywords_several_outputs_and_dtypes():
    def layer(params, x, *, activation):
        hidden = params["w"] * x + params["b"][0]
        return {"out": activation(hidden), "pre": (hidden.astype(np.float32),)}

    params = {"w": np.array([0.5, -1.0]), "b": [0.25]}
    x = np.array([1.0, 2.0])

    def loss(layer_fun, params, x):
        result = layer_fun(params, x, activation=anp.tanh)
        assert result["pre"][0].dtype == np.float32
        return anp.sum(result["out"] ** 2) + anp.sum(result["pre"][0] * 3.0)

    expected = ad.grad(lambda p: loss(layer, p, x))(params)
    got = ad.grad(lambda p: loss(ad.checkpoint(layer), p, x))(params)
    np.testing.assert_allclose(got["w"], expected["w"], rtol=1e-6)
    np.testing.assert_allclose(got["b"][0], expected["b"][0], rtol=1e-6)
    assert isinstance(got["b"], list)


def test_nested_checkpoints_and_constant_arguments():
    inner = ad.checkpoint(lambda x, n: anp.sin(x) ** n)
    outer = ad.checkpoint(lambda x: inner(inner(x, 2), 3))
    f = lambda x: anp.sum(outer(x))  # noqa: E731
    g = lambda x: anp.sum((anp.sin(anp.sin(x) ** 2)) ** 3)  # noqa: E731
    np.testing.assert_allclose(ad.grad(f)(X), ad.grad(g)(X), rtol=1e-12)
    np.testing.assert_allclose(ad.hessian(f)(X), ad.hessian(g)(X), rtol=1e-10, atol=1e-14)


def _peak_memory_of_gradient(segment_fun, x):
    def loss(x):
        for _ in range(10):
            x = segment_fun(x)
        return anp.sum(x)

    tracemalloc.start()
    try:
        gradient = ad.grad(loss)(x)
        return tracemalloc.get_traced_memory()[1], gradient
    finally:
        tracemalloc.stop()


def test_checkpointing_a_long_chain_lowers_peak_memory():
    def segment(x):
        for _ in range(20):
            x = anp.tanh(x * 1.01)
        return x

    x = np.linspace(-1.0, 1.0, 20_000)
    plain_peak, plain_gradient = _peak_memory_of_gradient(segment, x)
    checkpoint_peak, checkpoint_gradient = _peak_memory_of_gradient(ad.checkpoint(segment), x)
    np.testing.assert_allclose(checkpoint_gradient, plain_gradient, rtol=1e-12)
    # 200 tanh and 200 multiply results are kept without checkpointing; with it, 10
    # block boundaries plus one block's 40 intermediates while it is recomputed.
    assert plain_peak > 300 * x.nbytes
    assert checkpoint_peak < 100 * x.nbytes
    assert checkpoint_peak < plain_peak / 4


def test_several_outputs_must_be_floats():
    f = ad.checkpoint(lambda x: (x * 2.0, np.arange(3)))
    with pytest.raises(
        TypeError,
        match=r"checkpoint\(<lambda>\): a checkpointed function "
        r"returning several values must return float arrays "
        r"or floats only, but output leaf 1 is ndarray of "
        r"shape \(3,\) and dtype int64",
    ):
        ad.grad(lambda x: anp.sum(f(x)[0]))(X)


def test_escaped_tracer_is_refused():
    escaped = []
    ad.grad(lambda x: escaped.append(x) or anp.sum(x))(X)
    with pytest.raises(
        RuntimeError,
        match=r"checkpoint\(block\): an argument is a traced "
        r"value of a transform .* that has already returned",
    ):
        checkpointed_block(escaped[0], W)


def test_closures_over_traced_values_stay_correct():
    w0 = 1.3
    h0 = np.array([0.5, -1.0])

    def loss(w, use_checkpoint):
        layer = lambda h: anp.tanh(h * w)  # noqa: E731 - closes over the traced w
        if use_checkpoint:
            layer = ad.checkpoint(layer)
        return anp.sum(layer(layer(h0 * w)))

    assert np.isclose(ad.grad(loss)(w0, True), ad.grad(loss)(w0, False), rtol=1e-14)
    assert np.isclose(ad.hessian(loss)(w0, True), ad.hessian(loss)(w0, False), rtol=1e-12)


@pytest.mark.parametrize("outer", [ad.grad, lambda f: lambda x: ad.jvp(f, (x,), (1.0,))[1]])
def test_no_perturbation_confusion_through_checkpoints(outer):
    # The checkpointed function closes over the outer variable (a lower trace level).
    assert outer(lambda x: x * ad.grad(ad.checkpoint(lambda y: x + y))(2.0))(3.0) == 1.0
    assert outer(lambda x: x * ad.grad(ad.checkpoint(lambda y: x * y))(2.0))(3.0) == 6.0

    # ... or over the inner one (a higher level than the checkpoint's argument).
    def inner_closure(x):
        return ad.grad(lambda y: ad.checkpoint(lambda a: a * y * y)(x))(2.0)

    assert outer(inner_closure)(3.0) == 4.0
