"""Engine properties: deep graphs, threads, the graph records."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun._engine.graph import toposort


def test_chain_of_100000_primitives_differentiates_without_recursion_error():
    steps = 100_000

    def chain(x):
        for _ in range(steps):
            x = x * 1.0000001
        return x

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # make accidental recursion fail loudly
    try:
        g = ad.grad(chain)(1.0)
    finally:
        sys.setrecursionlimit(limit)
    assert g == pytest.approx(1.0000001**steps, rel=1e-9)


def test_toposort_puts_parents_first_on_a_diamond():
    graph = ad.trace(lambda x: anp.sin(x) * anp.cos(x) + anp.sin(x))(0.5)
    position = {id(node): index for index, node in enumerate(graph.nodes)}
    for node in graph.nodes:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    assert len(toposort(graph.outputs)) == len(graph.nodes)


def test_four_threads_compute_different_gradients_at_once():
    functions = [
        (lambda x: anp.sum(anp.sin(x) ** 2), lambda x: 2 * np.sin(x) * np.cos(x)),
        (lambda x: anp.sum(anp.exp(x) * x), lambda x: np.exp(x) * (1 + x)),
        (lambda x: anp.sum(anp.tanh(x)), lambda x: 1 - np.tanh(x) ** 2),
        (lambda x: anp.sum(x**3), lambda x: 3 * x**2),
    ]
    failures = []
    barrier = threading.Barrier(len(functions))

    def work(index):
        fun, expected = functions[index]
        rng = np.random.default_rng(index)
        barrier.wait()
        for _ in range(200):
            x = rng.standard_normal(5)
            outer = ad.grad(lambda y, x=x: fun(y) + ad.grad(lambda z: anp.sum(z * y))(x).sum())(x)
            if not np.allclose(outer, expected(x) + 1.0):
                failures.append((index, x, outer))

    threads = [threading.Thread(target=work, args=(index,)) for index in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_graph_equality_and_hash_are_structural():
    f = lambda x: anp.sum(anp.sin(x) * 2.0)  # noqa: E731
    first = ad.trace(f)(np.ones(3))
    second = ad.trace(f)(np.zeros(3))
    assert first == second and hash(first) == hash(second)
    assert first != ad.trace(f)(np.ones(4))
    assert first != ad.trace(lambda x: anp.sum(anp.cos(x) * 2.0))(np.ones(3))
    assert first != ad.trace(lambda x: anp.sum(anp.sin(x) * 3.0))(np.ones(3))


def test_node_records_what_was_applied():
    graph = ad.trace(lambda x: anp.sum(x * 3.0, axis=0, keepdims=True))(np.ones((2, 2)))
    multiply, total = graph.nodes[1], graph.nodes[2]
    assert multiply.primitive.name == "multiply"
    assert multiply.parents == (graph.inputs[0],)
    assert multiply.argnums == (0,) and multiply.args[1] == 3.0
    assert total.primitive.name == "sum"
    assert dict(total.params) == {"axis": (0,), "keepdims": True}
    assert hash(total.params) == hash(total.params)
    with pytest.raises(TypeError, match="immutable"):
        total.params["axis"] = None
