"""Pytrees as JAX users expect: namedtuples, OrderedDict, defaultdict, dataclasses, attrs
classes and registered classes are containers; gradients keep their types; paths in
messages name fields."""

from __future__ import annotations

import collections
import dataclasses
import re

import attrs
import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun._engine.pytree import LEAF, leaf_paths, tree_flatten, tree_map, tree_text, tree_unflatten
from adfun.testing import check_grads

Pair = collections.namedtuple("Pair", "first second")


@dataclasses.dataclass
class Layer:
    weight: object
    bias: object
    name: str = dataclasses.field(default="dense", metadata={"static": True})


@dataclasses.dataclass(frozen=True, slots=True)
class FrozenLayer:
    weight: object
    bias: object


@attrs.frozen
class AttrsLayer:
    # A converter and a validator that would refuse traced values and gradients: rebuilding
    # a tree must not run them.
    weight: np.ndarray = attrs.field(
        converter=np.asarray, validator=attrs.validators.instance_of(np.ndarray)
    )
    bias: float = 0.0
    activation: str = attrs.field(default="tanh", metadata={"static": True})


class Affine:
    """A plain class, made a pytree by registration in the tests below."""

    def __init__(self, weight, bias, label="affine"):
        self.weight, self.bias, self.label = weight, bias, label


ad.register_pytree_node(
    Affine,
    lambda layer: ((layer.weight, layer.bias), layer.label),
    lambda label, children: Affine(*children, label=label),
)


def loss(tree):
    leaves = tree_flatten(tree)[0]
    return sum(anp.sum(anp.sin(leaf) * (number + 1)) for number, leaf in enumerate(leaves))


def expected_gradient(tree):
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(
        treedef, [np.cos(leaf) * (number + 1) for number, leaf in enumerate(leaves)]
    )


def assert_same_tree(actual, expected):
    actual_leaves, actual_tree = tree_flatten(actual)
    expected_leaves, expected_tree = tree_flatten(expected)
    assert actual_tree == expected_tree
    assert type(actual) is type(expected)
    for a, e in zip(actual_leaves, expected_leaves):
        np.testing.assert_allclose(a, e, rtol=1e-12)


TREES = {
    "namedtuple": Pair(np.array([0.1, 0.2]), 0.3),
    "ordereddict": collections.OrderedDict([("z", 0.4), ("a", np.array([0.5, 0.6]))]),
    "defaultdict": collections.defaultdict(list, {"w": np.array([0.7]), "b": 0.8}),
    "dataclass": Layer(np.array([[0.1, 0.2]]), 0.3, name="first"),
    "frozen-slots-dataclass": FrozenLayer(np.array([0.2, 0.4]), np.array(0.6)),
    "attrs": AttrsLayer(np.array([0.3, 0.1]), 0.2, activation="relu"),
    "registered": Affine(np.array([0.9, 0.8]), 0.7, label="mine"),
    "nested": {
        "layers": [Layer(np.array([0.1]), 0.2), Pair(0.3, FrozenLayer(0.4, 0.5))],
        "opt": collections.OrderedDict(scale=Affine(0.6, np.array([0.7]))),
    },
}


@pytest.mark.parametrize("name", TREES)
def test_gradients_come_back_with_the_same_container_types(name):
    tree = TREES[name]
    gradient = ad.grad(loss)(tree)
    assert_same_tree(gradient, expected_gradient(tree))


@pytest.mark.parametrize("name", TREES)
def test_flatten_and_unflatten_round_trip(name):
    tree = TREES[name]
    leaves, treedef = tree_flatten(tree)
    rebuilt = tree_unflatten(treedef, leaves)
    assert type(rebuilt) is type(tree)
    assert tree_flatten(rebuilt)[1] == treedef
    assert all(a is b for a, b in zip(tree_flatten(rebuilt)[0], leaves))
    assert hash(treedef) == hash(tree_flatten(tree)[1])


@pytest.mark.parametrize("name", TREES)
def test_forward_and_reverse_derivatives_through_each_container(name):
    check_grads(loss, (TREES[name],), order=1)


def test_dict_keys_and_container_details_are_kept():
    ordered = ad.grad(loss)(TREES["ordereddict"])
    assert list(ordered) == ["z", "a"]
    factory = ad.grad(loss)(TREES["defaultdict"])
    assert factory.default_factory is list
    layer = ad.grad(loss)(TREES["dataclass"])
    assert layer.name == "first"  # a static field is structure, copied, not differentiated
    attrs_layer = ad.grad(loss)(TREES["attrs"])
    assert attrs_layer.activation == "relu"
    affine = ad.grad(loss)(TREES["registered"])
    assert affine.label == "mine"


def test_static_fields_are_structure_not_leaves():
    leaves, treedef = tree_flatten(Layer(1.0, 2.0, name="x"))
    assert leaves == [1.0, 2.0]
    assert treedef != tree_flatten(Layer(1.0, 2.0, name="y"))[1]
    assert str(treedef) == "Layer(weight=*, bias=*, name='x')"


def test_rebuilding_runs_no_converter_validator_or_init():
    def inside(layer):
        # The traced layer holds tracers, which the validator and converter would refuse.
        assert type(layer) is AttrsLayer
        return anp.sum(layer.weight**2) + layer.bias

    gradient = ad.grad(inside)(AttrsLayer(np.array([1.0, 2.0]), 3.0))
    np.testing.assert_allclose(gradient.weight, [2.0, 4.0])
    assert gradient.bias == 1.0


def test_namedtuple_in_other_transforms():
    def fun(pair):
        return Pair(anp.sin(pair.first) * pair.second, pair.second**2)

    primal = Pair(np.array([0.1, 0.2]), 0.5)
    out, tangent = ad.jvp(fun, (primal,), (Pair(np.ones(2), 1.0),))
    assert type(out) is Pair and type(tangent) is Pair
    np.testing.assert_allclose(tangent.first, np.cos(primal.first) * 0.5 + np.sin(primal.first))
    out, vjp_fn = ad.vjp(fun, primal)
    (cotangent,) = vjp_fn(Pair(np.ones(2), 0.0))
    assert type(cotangent) is Pair
    np.testing.assert_allclose(cotangent.second, np.sum(np.sin(primal.first)))
    jacobian = ad.jacobian(lambda p: p.first * p.second)(primal)
    assert type(jacobian) is Pair and jacobian.first.shape == (2, 2)
    assert type(ad.hvp(lambda p: anp.sum(p.first**3) * p.second)(primal, primal)) is Pair


def test_jit_stages_pytree_containers_and_keys_on_their_structure():
    staged = ad.jit(lambda layer, pair: Pair(layer.weight * pair.first, layer.bias + 1.0))
    first = staged(Layer(np.ones(2), 1.0), Pair(2.0, None))
    assert type(first) is Pair
    np.testing.assert_allclose(first.first, [2.0, 2.0])
    staged(Layer(np.zeros(2), 3.0), Pair(1.0, None))
    assert staged.cache_info() == {"hits": 1, "misses": 1, "size": 1}
    staged(Layer(np.zeros(2), 3.0, name="other"), Pair(1.0, None))  # static field changed
    assert staged.cache_info()["size"] == 2
    affine = ad.jit(lambda a: a.weight * 2.0)
    affine(Affine(1.0, 2.0, label="a"))
    affine(Affine(1.0, 2.0, label="b"))  # aux_data differs: a new signature
    assert affine.cache_info()["size"] == 2


def test_trace_and_replay_keep_the_structure():
    graph = ad.trace(lambda layer: layer.weight * layer.bias)(Layer(np.ones(2), 2.0))
    np.testing.assert_allclose(graph(Layer(np.full(2, 3.0), 2.0)), [6.0, 6.0])
    with pytest.raises(
        TypeError,
        match=re.escape(
            "argument 0 has pytree structure Pair(first=*, second=*), but the graph was "
            "traced with structure Layer(weight=*, bias=*, name='dense')"
        ),
    ):
        graph(Pair(np.ones(2), 2.0))


# --- paths in messages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "tree, path",
    [
        (Pair(1.0, 2), "argument 0.second"),
        (Layer(1.0, 2), "argument 0.bias"),
        (AttrsLayer(np.ones(1), 2), "argument 0.bias"),
        (collections.OrderedDict(w=1.0, b=2), "argument 0['b']"),
        ({"layers": [Layer(1.0, Pair(0.5, 2))]}, "argument 0['layers'][0].bias.second"),
        (Affine(1.0, 2), "argument 0[1]"),
    ],
)
def test_paths_in_messages_name_fields(tree, path):
    with pytest.raises(TypeError, match=re.escape(f"grad: {path} is an integer (2)")):
        ad.grad(loss)(tree)


def test_leaf_paths_of_each_kind():
    tree = {"pair": Pair(1.0, [2.0]), "layer": Layer(3.0, 4.0), "affine": Affine(5.0, 6.0)}
    assert leaf_paths(tree_flatten(tree)[1], "x") == [
        "x['pair'].first",
        "x['pair'].second[0]",
        "x['layer'].weight",
        "x['layer'].bias",
        "x['affine'][0]",
        "x['affine'][1]",
    ]


def test_structures_print_readably():
    tree = (
        Pair(1.0, 2.0),
        collections.OrderedDict(a=1.0),
        collections.defaultdict(list, b=2.0),
        Affine(1.0, 2.0),
        [AttrsLayer(1.0)],
    )
    assert str(tree_flatten(tree)[1]) == (
        "(Pair(first=*, second=*), OrderedDict({'a': *}), defaultdict(list, {'b': *}), "
        "Affine(*, *), [AttrsLayer(weight=*, bias=*, activation='tanh')])"
    )
    assert tree_text(tree_flatten((1.0, Pair(2.0, [3.0])))[1], ["a", "b", "c"]) == (
        "(a, Pair(first=b, second=[c]))"
    )
    assert str(tree_flatten(((1.0,), {}))[1]) == "((*,), {})"


# --- registration ---------------------------------------------------------------------------


def test_register_pytree_node_errors_name_the_argument_and_the_fix():
    class Box:
        pass

    with pytest.raises(
        TypeError,
        match=r"register_pytree_node: cls must be a class, but got "
        r"Box .*pass the class itself",
    ):
        ad.register_pytree_node(Box(), lambda box: ((), None), lambda aux, children: Box())
    with pytest.raises(
        TypeError,
        match=r"register_pytree_node\(.*Box\): flatten must be a "
        r"function, but got str",
    ):
        ad.register_pytree_node(Box, "flatten", lambda aux, children: Box())
    with pytest.raises(
        TypeError,
        match=r"register_pytree_node\(.*Box\): unflatten must be "
        r"a function, but got NoneType",
    ):
        ad.register_pytree_node(Box, lambda box: ((), None), None)
    for built_in in (tuple, list, dict, collections.OrderedDict):
        with pytest.raises(
            ValueError,
            match=rf"register_pytree_node: {built_in.__name__} is "
            r"a built-in pytree container already",
        ):
            ad.register_pytree_node(built_in, lambda x: ((), None), lambda aux, ch: None)
    with pytest.raises(
        ValueError,
        match=r"register_pytree_node: Affine is registered "
        r"already; register each class once",
    ):
        ad.register_pytree_node(Affine, lambda x: ((), None), lambda aux, ch: None)


def test_a_flatten_function_returning_no_pair_is_named():
    class Broken:
        pass

    ad.register_pytree_node(Broken, lambda obj: [1.0, 2.0, 3.0], lambda aux, ch: Broken())
    with pytest.raises(
        TypeError,
        match=r"register_pytree_node\(.*Broken\): its flatten "
        r"function must return a pair \(children, aux_data\)",
    ):
        tree_flatten([Broken()])


def test_a_class_seen_as_a_leaf_becomes_a_container_when_registered():
    class Later:
        def __init__(self, value):
            self.value = value

    obj = Later(2.0)
    assert tree_flatten((obj, 1.0)) == ([obj, 1.0], tree_flatten((0.0, 0.0))[1])
    ad.register_pytree_node(
        Later, lambda later: ((later.value,), None), lambda aux, children: Later(*children)
    )
    leaves, treedef = tree_flatten((obj, 1.0))
    assert leaves == [2.0, 1.0]
    assert ad.grad(lambda pair: pair[0].value ** 2)((obj, 1.0))[0].value == 4.0


def test_registration_overrides_the_default_rules_of_a_dataclass():
    @dataclasses.dataclass
    class Scaled:
        value: float
        scale: float

    ad.register_pytree_node(
        Scaled,
        lambda obj: ((obj.value,), obj.scale),
        lambda scale, children: Scaled(children[0], scale),
    )
    gradient = ad.grad(lambda s: s.value * s.scale)(Scaled(2.0, 3.0))
    assert gradient == Scaled(3.0, 3.0)


def test_children_of_registered_classes_may_be_pytrees():
    tree = Affine({"w": np.ones(2), "v": [1.0]}, Pair(2.0, 3.0))
    leaves, treedef = tree_flatten(tree)
    assert len(leaves) == 4 and treedef.num_leaves == 4
    gradient = ad.grad(loss)(tree)
    assert type(gradient.weight) is dict and type(gradient.bias) is Pair


# --- what is not a container -----------------------------------------------------------------


def test_other_objects_and_adfun_records_are_leaves():
    class Plain:
        pass

    class MyList(list):  # a subclass of a container, neither registered nor a namedtuple
        pass

    graph = ad.trace(anp.sin)(1.0)
    for leaf in (
        Plain(),
        MyList([1.0]),
        graph,
        graph.nodes[0],
        np.float32(1.0),
        None,
        "s",
        tree_flatten(1.0)[1],
    ):
        assert tree_flatten(leaf) == ([leaf], LEAF)
    assert tree_flatten((1.0, Plain))[0][1] is Plain


def test_deep_trees_flatten_and_rebuild_without_recursion():
    tree = 1.0
    for depth in range(20_000):
        tree = [tree] if depth % 2 else Pair(tree, 2.0)
    leaves, treedef = tree_flatten(tree)
    assert len(leaves) == 10_001
    rebuilt = tree_unflatten(treedef, leaves)
    assert type(rebuilt) is list and type(rebuilt[0]) is Pair
    assert tree_flatten(rebuilt)[0] == leaves  # (TreeDef equality itself is recursive)
    assert str(treedef).startswith("[Pair(first=[Pair(first=")
    assert len(tree_map(lambda leaf: leaf * 2, tree_flatten([Pair(1.0, 2.0)])[0])) == 2
