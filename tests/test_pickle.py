"""Pickling and deep-copying: ``Graph`` (section 4 of API.md) and ``NDArray`` (section 5).

A graph round trip gives an equal graph with the same hash whose replay and derivatives
are those of the original; built-in primitives travel by registered name, custom ones by
reference to their module-level function.  An ``NDArray`` pickles like MXNet's: values,
dtype and context, without the recording or the gradient.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given

import adfun as ad
import adfun.numpy as anp
from adfun import autograd, nd
from adfun._engine.pytree import tree_flatten
from adfun.testing import strategies

TABLE = np.arange(6.0).reshape(2, 3)


@ad.primitive
def softplus(x):
    """A module-level custom primitive: pickled by reference."""
    return np.logaddexp(0.0, x)


softplus.defvjp(lambda g, ans, x: g / (1.0 + anp.exp(-x)))
softplus.defjvp(lambda t, ans, x: t / (1.0 + anp.exp(-x)))


def program(x):
    """Constants, parameters, slices, a cast, a checkpoint, linalg, a values function."""
    y = x[1:, ::2].astype(np.float32) * TABLE[:, ::2][1:]
    rows = anp.isclose(x, 1.0)  # a function of values (a fixed-shape one: it stages)
    total = anp.sum(y) + anp.sum(ad.checkpoint(anp.tanh)(x))
    total = total + anp.linalg.det(x[:, :2] + anp.eye(2)) + anp.sum(rows)
    return total + anp.sum(softplus(x)) + anp.sum(anp.sort(x, axis=1)[:, 0] * 2.0)


X = np.arange(6.0).reshape(2, 3) / 3.0
OTHER = np.array([[2.0, -1.0, 0.5], [0.25, 3.0, -2.0]])


def round_trips(graph):
    return [pickle.loads(pickle.dumps(graph)), copy.deepcopy(graph)]


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_graph_round_trip_is_equal_hashes_equal_and_replays_the_same(how):
    graph = ad.trace(program)(X)
    graph(OTHER)  # fills the compiled-program cache, which is not carried over
    copied = pickle.loads(pickle.dumps(graph)) if how == "pickle" else copy.deepcopy(graph)
    assert copied is not graph
    assert copied == graph and hash(copied) == hash(graph)
    assert str(copied) == str(graph)
    assert copied.nodes[0] is not graph.nodes[0]
    assert copied(X) == graph(X) == program(X)
    for args in (X, OTHER):
        assert copied(args) == graph(args)
        np.testing.assert_array_equal(ad.grad(copied)(args), ad.grad(graph)(args))
    np.testing.assert_array_equal(
        ad.jvp(copied, (OTHER,), (X,))[1], ad.jvp(graph, (OTHER,), (X,))[1]
    )
    np.testing.assert_array_equal(ad.jit(copied)(OTHER), graph(OTHER))


def test_primitives_are_the_registered_ones_and_constants_stay_read_only():
    graph = ad.trace(program)(X)
    copied = pickle.loads(pickle.dumps(graph))
    for old, new in zip(graph.nodes, copied.nodes, strict=True):
        assert new.primitive is old.primitive
        assert new.params == old.params
        for position, arg in enumerate(new.args):
            if position not in new.argnums and isinstance(arg, np.ndarray):
                assert not arg.flags.writeable
    assert (
        copied.nodes[[node.primitive.name for node in copied.nodes].index("softplus")].primitive
        is softplus.primitive
    )


def test_functions_of_values_pickle_by_name():
    # isclose, isposinf: served by adfun.numpy's module __getattr__
    def fun(x):
        counts = anp.sum(anp.isclose(x, 1.0)) + anp.sum(anp.isposinf(x))
        return anp.sum(anp.nan_to_num(x, nan=x[1], posinf=2.0 * x[1])) + counts

    graph = ad.trace(fun)(np.array([0.5, 2.5, 1.0]))
    copied = pickle.loads(pickle.dumps(graph))
    assert copied == graph
    for new in (np.array([np.nan, 1.0, np.inf]), np.array([1.0, -2.0, 3.0])):
        assert copied(new) == graph(new)
        np.testing.assert_array_equal(ad.grad(copied)(new), ad.grad(graph)(new))


def test_pytree_arguments_and_outputs_survive():
    def fun(params, x):
        return {"out": anp.tanh(params["w"] @ x + params["b"]), "n": anp.sum(x)}

    args = ({"w": np.eye(2), "b": np.ones(2)}, np.array([0.5, -0.5]))
    graph = ad.trace(fun)(*args)
    copied = pickle.loads(pickle.dumps(graph))
    assert copied == graph and copied.in_tree == graph.in_tree
    new = ({"w": 2.0 * np.eye(2), "b": np.zeros(2)}, np.array([1.0, 2.0]))
    result, expected = copied(*new), graph(*new)
    np.testing.assert_array_equal(result["out"], expected["out"])
    assert result["n"] == expected["n"]


def test_a_pickled_graph_loads_in_a_new_process():
    graph = ad.trace(lambda x: anp.sum(anp.sin(x) * TABLE[0] + anp.sort(x)))(np.zeros(3))
    data = pickle.dumps(graph)
    script = (
        "import pickle, sys, numpy as np\n"
        "graph = pickle.loads(sys.stdin.buffer.read())\n"
        "print(repr(float(graph(np.array([3.0, 1.0, 2.0])))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=data, capture_output=True, check=True, timeout=120
    )
    assert float(done.stdout.decode()) == graph(np.array([3.0, 1.0, 2.0]))


@given(strategies.programs(max_ops=6))
def test_random_programs_round_trip(drawn):
    fun, args = drawn
    graph = ad.trace(fun)(*args)
    for copied in round_trips(graph):
        assert copied == graph and hash(copied) == hash(graph)
        new, old = tree_flatten(copied(*args)), tree_flatten(graph(*args))
        assert new[1] == old[1]
        for new_leaf, old_leaf in zip(new[0], old[0], strict=True):
            np.testing.assert_array_equal(new_leaf, old_leaf)


def test_a_custom_primitive_pickles_by_reference():
    assert pickle.loads(pickle.dumps(softplus)) is softplus


def test_a_local_custom_primitive_cannot_be_pickled():
    @ad.primitive
    def local(x):
        return 2.0 * x

    local.defvjp(lambda g, ans, x: 2.0 * g)
    graph = ad.trace(local)(1.0)
    with pytest.raises(
        TypeError,
        match=r"cannot pickle Graph local: its primitive 'local' is "
        r"neither registered in adfun.numpy nor a module-level "
        r"adfun.primitive",
    ):
        pickle.dumps(graph)
    with pytest.raises(
        TypeError,
        match=r"cannot pickle custom primitive 'local': .*define it "
        r"at module level",
    ):
        pickle.dumps(local)
    copied = copy.deepcopy(graph)  # a copy keeps the primitive itself: no reference needed
    assert copied == graph and copied(3.0) == 6.0


def test_a_graph_whose_custom_rules_were_redefined_is_refused():
    graph = ad.trace(softplus)(1.0)
    rules = softplus.primitive
    softplus.defvjp(lambda g, ans, x: g / (1.0 + anp.exp(-x)))
    try:
        with pytest.raises(
            TypeError,
            match=r"the rules of custom primitive 'softplus' were "
            r"redefined .*trace the graph again",
        ):
            pickle.dumps(graph)
    finally:
        softplus.primitive = rules


# --------------------------------------------------------------------------------------
# NDArray
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_ndarray_pickles_values_dtype_and_context_only(how):
    x = nd.array([[1, 2], [3, 4]])
    x.attach_grad()
    with autograd.record():
        z = x * x * 2
    z.backward()
    for array in (x, z, x.grad, nd.array(np.arange(3), dtype=np.int32)):
        copied = pickle.loads(pickle.dumps(array)) if how == "pickle" else copy.deepcopy(array)
        assert copied is not array
        assert copied.dtype is array.dtype and copied.shape == array.shape
        assert copied.context == array.context
        np.testing.assert_array_equal(copied.asnumpy(), array.asnumpy())
        assert copied.grad is None  # not the gradient: attach_grad() again
    copied = pickle.loads(pickle.dumps(z))
    with pytest.raises(Exception, match=r"attach_grad"):
        copied.backward()  # not the recording either
    x.grad[:] = 0  # the copy does not share memory
    assert pickle.loads(pickle.dumps(x)).asnumpy()[0, 0] == 1.0
