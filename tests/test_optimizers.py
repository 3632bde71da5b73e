"""``adfun.optimizers``: HIPS autograd's signatures, defaults and update rules, on pytrees."""

from __future__ import annotations

import collections
import inspect
import re

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun.optimizers import adam, momentum, rmsprop, sgd
from adfun.testing import check_grads

SCALES = np.array([1.0, 3.0])
X0 = np.array([1.0, -2.0])


def quadratic_grad(x, i):
    """The gradient of 0.5 * sum(SCALES * x**2), written out."""
    return SCALES * x


def run_steps(optimizer, num_iters, **kwargs):
    return optimizer(quadratic_grad, X0, num_iters=num_iters, **kwargs)


# --- update rules, against steps computed by hand ------------------------------------------


def test_sgd_two_steps():
    # g0 = [1, -6]; v1 = -0.1 g0 = [-0.1, 0.6]; x1 = x0 + 0.1 v1 = [0.99, -1.94]
    # g1 = [0.99, -5.82]; v2 = 0.9 v1 - 0.1 g1 = [-0.189, 1.122]; x2 = x1 + 0.1 v2
    np.testing.assert_allclose(run_steps(sgd, 1), [0.99, -1.94], rtol=1e-14)
    np.testing.assert_allclose(run_steps(sgd, 2), [0.9711, -1.8278], rtol=1e-14)
    # mass=0 is plain gradient descent: x1 = x0 - 0.5 g0
    np.testing.assert_allclose(run_steps(sgd, 1, mass=0.0, step_size=0.5), [0.5, 1.0])


def test_momentum_two_steps():
    # v1 = g0 = [1, -6]; x1 = x0 - 0.1 v1 = [0.9, -1.4]
    # g1 = [0.9, -4.2]; v2 = 0.9 v1 + g1 = [1.8, -9.6]; x2 = x1 - 0.1 v2 = [0.72, -0.44]
    np.testing.assert_allclose(run_steps(momentum, 1), [0.9, -1.4], rtol=1e-14)
    np.testing.assert_allclose(run_steps(momentum, 2), [0.72, -0.44], rtol=1e-13)


def test_rmsprop_two_steps():
    # The running average starts at ones (as in autograd): a1 = 0.9 + 0.1 g0**2 = [1, 4.5]
    x1 = np.array([1.0 - 0.1 * 1.0 / (1.0 + 1e-8), -2.0 + 0.1 * 6.0 / (np.sqrt(4.5) + 1e-8)])
    np.testing.assert_allclose(run_steps(rmsprop, 1), x1, rtol=1e-14)
    g1 = SCALES * x1
    a2 = 0.9 * np.array([1.0, 4.5]) + 0.1 * g1**2
    x2 = x1 - 0.1 * g1 / (np.sqrt(a2) + 1e-8)
    np.testing.assert_allclose(run_steps(rmsprop, 2), x2, rtol=1e-14)


def test_adam_two_steps():
    # Step 1: mhat = g0 and vhat = g0**2, so x1 = x0 - 0.1 * sign(g0) (up to eps).
    x1 = X0 - 0.1 * np.array([1.0, -6.0]) / (np.array([1.0, 6.0]) + 1e-8)
    np.testing.assert_allclose(run_steps(adam, 1, step_size=0.1), x1, rtol=1e-14)
    g1 = SCALES * x1  # [0.9, -5.7]
    m2 = 0.9 * (0.1 * np.array([1.0, -6.0])) + 0.1 * g1
    v2 = 0.999 * (0.001 * np.array([1.0, 36.0])) + 0.001 * g1**2
    x2 = x1 - 0.1 * (m2 / (1 - 0.9**2)) / (np.sqrt(v2 / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(run_steps(adam, 2, step_size=0.1), x2, rtol=1e-14)


def test_signatures_and_defaults_are_autograds():
    def defaults(function):
        return [(p.name, p.default) for p in inspect.signature(function).parameters.values()]

    empty = inspect.Parameter.empty
    assert defaults(sgd) == [
        ("grad", empty),
        ("x", empty),
        ("callback", None),
        ("num_iters", 200),
        ("step_size", 0.1),
        ("mass", 0.9),
    ]
    assert defaults(momentum) == defaults(sgd)
    assert defaults(rmsprop) == [
        ("grad", empty),
        ("x", empty),
        ("callback", None),
        ("num_iters", 100),
        ("step_size", 0.1),
        ("gamma", 0.9),
        ("eps", 1e-8),
    ]
    assert defaults(adam) == [
        ("grad", empty),
        ("x", empty),
        ("callback", None),
        ("num_iters", 100),
        ("step_size", 0.001),
        ("b1", 0.9),
        ("b2", 0.999),
        ("eps", 1e-8),
    ]
    # Positional hyperparameters, as autograd programs sometimes pass them.
    np.testing.assert_allclose(sgd(quadratic_grad, X0, None, 2, 0.1, 0.9), run_steps(sgd, 2))


@pytest.mark.parametrize("optimizer", [sgd, momentum, rmsprop, adam])
def test_converges_on_a_quadratic(optimizer):
    step_size = {momentum: 0.05, rmsprop: 0.01}.get(optimizer, 0.1)
    result = optimizer(quadratic_grad, X0, num_iters=1000, step_size=step_size)
    # rmsprop's steps keep about step_size in length near the minimum.
    np.testing.assert_allclose(result, [0.0, 0.0], atol=2e-2 if optimizer is rmsprop else 1e-3)


# --- pytrees, callbacks ----------------------------------------------------------------------

Params = collections.namedtuple("Params", "weights bias")


def tree_objective(params, i):
    return (
        anp.sum((params["layer"].weights - 1.0) ** 2)
        + (params["layer"].bias + 2.0) ** 2
        + anp.sum(params["extra"][0] ** 2)
    )


@pytest.mark.parametrize("optimizer", [sgd, momentum, rmsprop, adam])
def test_pytree_parameters_match_the_flat_run(optimizer):
    params = {"layer": Params(np.array([[0.5, -0.5]]), 0.25), "extra": [np.array([3.0])]}
    result = optimizer(ad.grad(tree_objective), params, num_iters=5, step_size=0.05)
    assert type(result["layer"]) is Params and type(result["extra"]) is list
    assert result["layer"].weights.shape == (1, 2) and type(result["layer"].bias) is float

    vector, unflatten = ad.flatten(params)
    flat = optimizer(
        lambda v, i: ad.flatten(ad.grad(tree_objective)(unflatten(v), i))[0],
        vector,
        num_iters=5,
        step_size=0.05,
    )
    np.testing.assert_allclose(ad.flatten(result)[0], flat, rtol=1e-14)


def test_callback_gets_params_iteration_and_gradient_before_each_step():
    seen = []

    def callback(params, i, g):
        seen.append((params, i, g))

    params = {"w": np.array([1.0, 2.0]), "b": 0.5}
    adam(ad.grad(lambda p, i: anp.sum(p["w"] ** 2) + p["b"] ** 2), params, callback, num_iters=3)
    assert [i for _, i, _ in seen] == [0, 1, 2]
    first_params, _, first_grad = seen[0]
    np.testing.assert_array_equal(first_params["w"], params["w"])
    assert first_params["b"] == 0.5
    np.testing.assert_allclose(first_grad["w"], [2.0, 4.0])
    assert first_grad["b"] == 1.0
    assert seen[1][0]["b"] < 0.5


def test_the_iteration_number_reaches_grad():
    calls = []
    sgd(lambda x, i: calls.append(i) or np.zeros(2), X0, num_iters=4)
    assert calls == [0, 1, 2, 3]


def test_float32_parameters_stay_float32():
    x0 = {"w": np.ones(3, np.float32)}
    result = adam(ad.grad(lambda p, i: anp.sum(p["w"] ** 2)), x0, num_iters=3)
    assert result["w"].dtype == np.float32


def test_no_iterations_return_a_copy():
    result = adam(quadratic_grad, X0, num_iters=0)
    np.testing.assert_array_equal(result, X0)
    assert result is not X0 and not np.shares_memory(result, X0)


def test_an_autograd_training_loop_runs_unchanged():
    # The shape of autograd's examples (e.g. neural_net.py): objective(params, iter),
    # grad(objective), a callback printing progress, adam on a list of (W, b) tuples.
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(32, 2))
    targets = np.tanh(inputs @ np.array([[1.0], [-2.0]]) + 0.5)

    def predict(params, inputs):
        for weights, bias in params:
            inputs = anp.tanh(anp.dot(inputs, weights) + bias)
        return inputs

    def objective(params, iter):  # noqa: A002 - as in autograd's examples
        return anp.mean((predict(params, inputs) - targets) ** 2)

    init_params = [
        (rng.normal(size=(2, 4)) * 0.1, np.zeros(4)),
        (rng.normal(size=(4, 1)) * 0.1, np.zeros(1)),
    ]
    losses = []

    def print_perf(params, iter, gradient):  # noqa: A002
        if iter % 50 == 0:
            losses.append(objective(params, iter))

    trained = adam(
        ad.grad(objective), init_params, step_size=0.05, num_iters=300, callback=print_perf
    )
    assert type(trained) is list and type(trained[0]) is tuple
    assert objective(trained, 0) < 0.01 < losses[0]


# --- derivatives through an optimizer ---------------------------------------------------------


@pytest.mark.parametrize("optimizer", [sgd, momentum, rmsprop, adam])
def test_check_grads_through_the_optimizer(optimizer):
    def final_loss(x0, step_size):
        grad = ad.grad(lambda x, i: anp.sum(anp.sin(x) * SCALES * x))
        x = optimizer(grad, x0, num_iters=3, step_size=step_size)
        return anp.sum(x**2)

    check_grads(final_loss, (X0, 0.1), order=1)


def test_meta_gradient_with_respect_to_the_step_size_on_a_pytree():
    def final_loss(step_size):
        params = {"w": np.array([1.0, -1.0]), "b": 0.5}
        grad = ad.grad(lambda p, i: anp.sum(p["w"] ** 2) + p["b"] ** 2)
        result = sgd(grad, params, num_iters=4, step_size=step_size, mass=0.5)
        return anp.sum(result["w"] ** 2) + result["b"] ** 2

    check_grads(final_loss, (0.3,), order=2)


# --- errors -------------------------------------------------------------------------------------


def test_errors_name_the_optimizer_the_argument_and_the_fix():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "adam: grad must be a function grad(params, i) returning the gradient, but got "
            "ndarray; pass e.g. ad.grad(objective) for an objective(params, i)"
        ),
    ):
        adam(X0, X0)
    with pytest.raises(
        TypeError,
        match=re.escape(
            "sgd: callback must be a function callback(params, i, g) or None, but got int"
        ),
    ):
        sgd(quadratic_grad, X0, 3)
    with pytest.raises(
        ValueError, match=re.escape("rmsprop: num_iters must be a non-negative integer, but got -1")
    ):
        rmsprop(quadratic_grad, X0, num_iters=-1)
    with pytest.raises(
        ValueError,
        match=r"momentum: num_iters must be a non-negative integer, "
        r"but got 2\.5",
    ):
        momentum(quadratic_grad, X0, num_iters=2.5)
    with pytest.raises(
        TypeError,
        match=r"adam\(grad, x, callback=None, num_iters=100, "
        r"step_size=0\.001, b1=0\.9, b2=0\.999, eps=1e-08\): got an unexpected "
        r"keyword argument 'beta1'",
    ):
        adam(quadratic_grad, X0, beta1=0.9)


def test_a_gradient_of_another_structure_is_refused():
    params = {"w": np.ones(2), "b": 0.0}
    with pytest.raises(
        TypeError,
        match=re.escape(
            "adam: grad(params, i) must return a gradient with the structure of the "
            "parameters, {'w': *, 'b': *}, but at iteration 0 it returned *; return "
            "ad.grad(objective)(params, i)"
        ),
    ):
        adam(lambda p, i: np.ones(3), params)


def test_non_numeric_parameters_are_refused_by_flatten():
    with pytest.raises(TypeError, match=r"flatten: tree\['name'\] is a str"):
        sgd(quadratic_grad, {"w": X0, "name": "layer"})
