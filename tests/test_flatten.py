"""``adfun.flatten``: a pytree as one vector and back, differentiable both ways."""

from __future__ import annotations

import collections
import dataclasses
import re

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun.testing import check_grads

Pair = collections.namedtuple("Pair", "first second")


@dataclasses.dataclass
class Layer:
    weight: object
    bias: object


def params():
    return {
        "layers": [
            Layer(np.arange(6.0).reshape(2, 3) / 10, np.array([0.1, 0.2, 0.25])),
            Layer(np.array([[0.3], [0.4]]), 0.5),
        ],
        "scale": Pair(np.float64(1.5), (2.5,)),
    }


def test_vector_concatenates_raveled_leaves_in_tree_order():
    vector, _ = ad.flatten(params())
    expected = np.concatenate(
        [np.arange(6.0) / 10, [0.1, 0.2, 0.25], [0.3, 0.4], [0.5], [1.5], [2.5]]
    )
    np.testing.assert_array_equal(vector, expected)
    assert vector.dtype == np.float64 and vector.shape == (14,)


def test_unflatten_rebuilds_types_shapes_and_dtypes():
    tree = params()
    vector, unflatten = ad.flatten(tree)
    rebuilt = unflatten(vector)
    assert type(rebuilt["layers"][0]) is Layer and type(rebuilt["scale"]) is Pair
    np.testing.assert_array_equal(rebuilt["layers"][0].weight, tree["layers"][0].weight)
    assert type(rebuilt["layers"][1].bias) is float and rebuilt["layers"][1].bias == 0.5
    assert type(rebuilt["scale"].first) is np.float64  # a NumPy scalar stays one
    assert type(rebuilt["scale"].second) is tuple and rebuilt["scale"].second == (2.5,)
    doubled = unflatten(vector * 2)
    np.testing.assert_array_equal(doubled["layers"][1].weight, [[0.6], [0.8]])


def test_the_vector_is_a_copy():
    weight = np.ones(3)
    vector, unflatten = ad.flatten([weight])
    vector[0] = 5.0
    assert weight[0] == 1.0
    rebuilt = unflatten(vector)
    vector[1] = 7.0
    assert rebuilt[0][1] == 1.0


def test_dtypes_float32_integers_and_complex():
    vector, unflatten = ad.flatten([np.ones(2, np.float32), np.float32(3)])
    assert vector.dtype == np.float32
    vector, unflatten = ad.flatten({"f": np.ones(2, np.float32), "i": np.array([1, 2]), "n": 3})
    assert vector.dtype == np.float32
    rebuilt = unflatten(vector + 0.25)
    assert rebuilt["i"].dtype == np.array([1, 2]).dtype
    np.testing.assert_array_equal(rebuilt["i"], [1, 2])  # cast back, truncated
    assert rebuilt["n"] == 3 and type(rebuilt["n"]) is int
    assert rebuilt["f"].dtype == np.float32
    vector, unflatten = ad.flatten({"i": 1, "b": np.array([True])})
    assert vector.dtype == np.float64
    vector, unflatten = ad.flatten([1.0, np.array([1j])])
    assert vector.dtype == np.complex128
    assert type(unflatten(vector)[0]) is float


def test_empty_trees():
    vector, unflatten = ad.flatten({"a": [], "b": ()})
    assert vector.shape == (0,) and vector.dtype == np.float64
    assert unflatten(vector) == {"a": [], "b": ()}


def test_non_numeric_leaves_are_refused_with_their_path():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "flatten: tree['layers'][0].bias is a str ('zero'), not an array or a number"
        ),
    ):
        ad.flatten({"layers": [Layer(np.ones(2), "zero")]})
    with pytest.raises(
        TypeError,
        match=r"flatten: tree\[1\] is a NoneType \(None\).*make its "
        r"class a pytree with adfun.register_pytree_node",
    ):
        ad.flatten([1.0, None])
    with pytest.raises(TypeError, match=r"flatten: tree is an array of dtype <U1"):
        ad.flatten(np.array(["a"]))


def test_unflatten_refuses_a_vector_of_another_length():
    _, unflatten = ad.flatten(params())
    with pytest.raises(
        ValueError,
        match=re.escape(
            "flatten(...)'s unflatten: expected a vector of shape (14,), like the one flatten "
            "returned, but got shape (13,)"
        ),
    ):
        unflatten(np.zeros(13))
    with pytest.raises(
        ValueError,
        match=r"expected a vector of shape \(14,\).*got shape "
        r"\(14, 1\); pass a vector of the same length \(vector.ravel\(\)",
    ):
        unflatten(np.zeros((14, 1)))


def test_unflatten_accepts_lists():
    _, unflatten = ad.flatten((1.0, np.zeros(2)))
    first, second = unflatten([1.0, 2.0, 3.0])
    assert first == 1.0
    np.testing.assert_array_equal(second, [2.0, 3.0])


# --- derivatives -----------------------------------------------------------------------------


def test_gradient_through_unflatten_matches_the_tree_gradient():
    tree = params()
    vector, unflatten = ad.flatten(tree)

    def objective(tree):
        first, second = tree["layers"]
        hidden = anp.tanh(anp.array([[1.0, -1.0]]) @ first.weight + first.bias)
        out = hidden @ anp.ones((3, 1)) * second.bias
        return anp.sum(out**2) * tree["scale"].first + tree["scale"].second[0]

    tree_gradient = ad.grad(objective)(tree)
    vector_gradient = ad.grad(lambda v: objective(unflatten(v)))(vector)
    np.testing.assert_allclose(vector_gradient, ad.flatten(tree_gradient)[0], rtol=1e-12)


def test_check_grads_through_unflatten():
    vector, unflatten = ad.flatten(params())

    def fun(v):
        tree = unflatten(v)
        first = tree["layers"][0]
        return anp.sum(anp.sin(first.weight) * first.bias[0]) * tree["scale"].second[0]

    check_grads(fun, (vector,), order=2)


def test_check_grads_through_flatten():
    def fun(tree):
        vector = ad.flatten(tree)[0]
        return anp.sin(vector) * vector[::-1]

    check_grads(fun, (params(),), order=2)


def test_flatten_of_traced_values_and_unflatten_of_a_traced_vector():
    def fun(x):
        vector, unflatten = ad.flatten({"a": x, "b": [x * 2.0, 3.0]})
        tree = unflatten(vector * vector)
        return anp.sum(tree["a"]) + anp.sum(tree["b"][0]) + tree["b"][1]

    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(ad.grad(fun)(x), 2 * x + 8 * x)
    out, tangent = ad.jvp(fun, (x,), (np.ones(2),))
    np.testing.assert_allclose(tangent, np.sum(10 * x))
    assert ad.hessian(fun)(x).shape == (2, 2)


def test_float32_gradient_keeps_float32():
    weight = np.ones(3, np.float32)
    vector, unflatten = ad.flatten({"w": weight})
    gradient = ad.grad(lambda v: anp.sum(unflatten(v)["w"] ** 2))(vector)
    assert gradient.dtype == np.float32


def test_flatten_under_jit():
    tree = params()
    staged = ad.jit(lambda tree: anp.sum(ad.flatten(tree)[0] ** 2))
    assert staged(tree) == pytest.approx(np.sum(ad.flatten(tree)[0] ** 2))
