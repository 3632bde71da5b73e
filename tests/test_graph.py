"""The graph as a first-class object: immutability, structure, listing, DOT and replay."""

from __future__ import annotations

import re
import runpy
import shutil
import subprocess
from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy as anp
from adfun._engine.graph import Graph, toposort
from adfun._engine.records import EMPTY_PARAMS, INPUT, Node
from adfun._staging.listing import node_name
from adfun.testing import check_grads


def loss(x, y):
    return anp.sum(anp.sin(x) * y + 2.0)


X = np.array([0.5, -1.0, 2.0])


# --------------------------------------------------------------------------------------
# Records and immutability
# --------------------------------------------------------------------------------------


def test_trace_returns_a_graph_with_inputs_outputs_and_sorted_nodes():
    graph = ad.trace(loss)(X, 3.0)
    assert isinstance(graph, ad.Graph)
    assert graph.name == "loss"
    assert [node.primitive.name for node in graph.nodes] == [
        "input",
        "input",
        "sin",
        "multiply",
        "add",
        "sum",
    ]
    assert graph.inputs == graph.nodes[:2]
    assert graph.outputs == (graph.nodes[-1],)
    sin, multiply = graph.nodes[2], graph.nodes[3]
    assert sin.parents == (graph.inputs[0],)
    assert multiply.parents == (sin, graph.inputs[1])
    assert graph.nodes[-1].params == {"axis": None, "keepdims": False}
    position = {id(node): index for index, node in enumerate(graph.nodes)}
    for index, node in enumerate(graph.nodes):
        assert all(position[id(parent)] < index for parent in node.parents)


def test_nodes_and_graphs_cannot_be_mutated():
    graph = ad.trace(loss)(X, 3.0)
    node = graph.nodes[2]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        node.parents = ()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        node.primitive = graph.nodes[3].primitive
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        node.primitive.name = "cos"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        graph.nodes = graph.nodes[:-1]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        graph.name = "other"
    with pytest.raises(TypeError, match="node parameters are immutable"):
        graph.nodes[-1].params["axis"] = 0
    assert isinstance(graph.nodes, tuple) and isinstance(node.parents, tuple)


def test_graph_does_not_see_later_changes_of_captured_arrays():
    weights = np.arange(3.0)
    index = np.array([2, 0])
    graph = ad.trace(lambda x: anp.sum(x * weights) + anp.sum(x[index]))(np.ones(3))
    listing, key, value = str(graph), hash(graph), graph(np.ones(3))
    weights[:] = 100.0
    index[:] = 1
    assert weights.flags.writeable and index.flags.writeable  # the user's arrays untouched
    assert graph(np.ones(3)) == value == 5.0
    assert str(graph) == listing and hash(graph) == key
    constant = graph.nodes[1].args[1]
    assert not constant.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        constant[0] = 1.0


def test_a_captured_matrix_and_its_transpose_share_one_frozen_buffer():
    matrix = np.arange(6.0).reshape(2, 3)
    reversed_rows = matrix[::-1]
    graph = ad.trace(lambda x: anp.sum(matrix.T @ (matrix @ x)) + anp.sum(reversed_rows @ x))(
        np.ones(3)
    )
    value = graph(np.ones(3))
    constants = [
        arg
        for node in graph.nodes
        for position, arg in enumerate(node.args)
        if position not in node.argnums and isinstance(arg, np.ndarray)
    ]
    frozen, transposed, frozen_reversed = constants
    assert np.shares_memory(transposed, frozen) and np.shares_memory(frozen_reversed, frozen)
    assert np.array_equal(transposed, matrix.T) and np.array_equal(frozen_reversed, reversed_rows)
    assert not transposed.flags.writeable and not frozen.flags.writeable
    matrix[:] = -1.0  # the graph keeps what it traced
    assert graph(np.ones(3)) == value
    assert not np.shares_memory(frozen, matrix)


def test_a_small_view_of_a_large_array_is_copied_on_its_own():
    big = np.arange(1000.0)
    graph = ad.trace(lambda x: anp.sum(x * big[:3]))(np.ones(3))
    (constant,) = [
        arg
        for node in graph.nodes
        for position, arg in enumerate(node.args)
        if position not in node.argnums and isinstance(arg, np.ndarray)
    ]
    assert constant.base is None and constant.shape == (3,)


def test_repr_is_a_short_summary():
    graph = ad.trace(loss)(X, 3.0)
    assert repr(graph) == "<Graph loss: 2 input(s), 6 nodes, 1 output(s)>"


# --------------------------------------------------------------------------------------
# Structural equality and hashing
# --------------------------------------------------------------------------------------


def test_two_traces_on_same_shapes_are_equal_with_equal_hashes():
    first = ad.trace(loss)(X, 3.0)
    second = ad.trace(loss)(np.array([9.0, 8.0, 7.0]), -1.0)
    assert first is not second
    assert first == second
    assert not first != second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1
    assert first.structure() == second.structure()


def _graph(fun, *args):
    return ad.trace(fun)(*args)


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(
            lambda: _graph(lambda x, y: anp.sum(anp.cos(x) * y + 2.0), X, 3.0), id="different-op"
        ),
        pytest.param(
            lambda: _graph(lambda x, y: anp.sum(anp.sin(x) * y + 2.5), X, 3.0),
            id="different-constant",
        ),
        pytest.param(
            lambda: _graph(lambda x, y: anp.sum(anp.sin(x) * y + 2), X, 3.0),
            id="int-instead-of-float-constant",
        ),
        pytest.param(
            lambda: _graph(lambda x, y: anp.sum(y * anp.sin(x) + 2.0), X, 3.0),
            id="different-wiring",
        ),
        pytest.param(lambda: _graph(loss, np.zeros(4), 3.0), id="different-shape"),
        pytest.param(
            lambda: _graph(loss, X.astype(np.float32), np.float32(3.0)), id="different-dtype"
        ),
        pytest.param(
            lambda: _graph(
                lambda x, y: anp.sum(anp.sin(x) * y + 2.0, axis=0, keepdims=True), X, 3.0
            ),
            id="different-params",
        ),
        pytest.param(
            lambda: _graph(lambda x, y: (anp.sum(anp.sin(x) * y + 2.0),), X, 3.0),
            id="different-output-structure",
        ),
        pytest.param(
            lambda: _graph(lambda x, y: loss(x, y[0]), X, (3.0,)), id="different-input-structure"
        ),
    ],
)
def test_different_programs_are_not_equal(other):
    graph = ad.trace(loss)(X, 3.0)
    different = other()
    assert graph != different
    assert not graph == different
    assert hash(graph) != hash(different)


def test_array_constants_compare_by_value():
    def with_weights(weights):
        return lambda x: anp.sum(x * weights)

    graph = _graph(with_weights(np.arange(3.0)), X)
    assert graph == _graph(with_weights(np.arange(3.0)), X)
    assert graph != _graph(with_weights(np.arange(3.0) + 1.0), X)
    assert graph != _graph(with_weights(np.arange(3.0).astype(np.float32)), X)


def test_nan_constants_are_equal_and_signed_zeros_are_not():
    assert _graph(lambda x: x + np.nan, 1.0) == _graph(lambda x: x + np.nan, 2.0)
    assert _graph(lambda x: x * 0.0, 1.0) != _graph(lambda x: x * -0.0, 1.0)


def test_graph_is_not_equal_to_other_types():
    graph = _graph(loss, X, 3.0)
    assert graph != "graph"
    assert (graph == 3) is False


def test_names_do_not_take_part_in_equality():
    def first(x):
        return anp.sin(x)

    def second(x):
        return anp.sin(x)

    assert _graph(first, 1.0).name != _graph(second, 1.0).name
    assert _graph(first, 1.0) == _graph(second, 1.0)


# --------------------------------------------------------------------------------------
# Listing and DOT
# --------------------------------------------------------------------------------------


def test_listing_of_a_small_program():
    graph = ad.trace(loss)(X, 3.0)
    assert str(graph) == "\n".join(
        [
            "graph loss(a:f64[3], b:f64[]) {",
            "  c:f64[3] = sin a",
            "  d:f64[3] = multiply c b",
            "  e:f64[3] = add d 2.0",
            "  f:f64[] = sum[axis=None keepdims=False] e",
            "  return f",
            "}",
        ]
    )


def test_listing_shows_pytrees_array_constants_params_and_constant_outputs():
    weights = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)

    def model(params, x):
        hidden = anp.tanh(anp.dot(weights, x) * params["scale"])
        return {"total": anp.sum(hidden, axis=0), "first": hidden[0], "fixed": 1.5}

    graph = ad.trace(model)({"scale": np.float32(2.0)}, np.ones((2, 3), np.float32))
    assert str(graph) == "\n".join(
        [
            "graph model({'scale': a:f32[]}, b:f32[2,3]) {",
            "  k0:f32[2,2] = const [[1. 2.] [3. 4.]]",
            "  c:f32[2,3] = dot k0 b",
            "  d:f32[2,3] = multiply c a",
            "  e:f32[2,3] = tanh d",
            "  f:f32[3] = sum[axis=(0,) keepdims=False] e",
            "  g:f32[3] = getitem e 0",
            "  h:f64[] = constant 1.5",
            "  return {'total': f, 'first': g, 'fixed': h}",
            "}",
        ]
    )


def test_listing_abbreviates_large_constants_and_names_past_z():
    def long_chain(x):
        for _ in range(30):
            x = x * 1.0
        return x + np.arange(100.0)

    listing = str(ad.trace(long_chain)(np.zeros(100)))
    assert "  k0:f64[100] = const [ 0. 1. ... 98. 99.]" in listing
    assert "  z:f64[100] = multiply y 1.0" in listing
    assert "  aa:f64[100] = multiply z 1.0" in listing
    assert "  af:f64[100] = add ae k0" in listing
    assert listing.endswith("  return af\n}")


def _dot_statements(dot):
    nodes, edges = {}, []
    for line in dot.splitlines()[1:-1]:
        edge = re.fullmatch(r"\s+(\w+) -> (\w+)(?: \[(.*)\])?;", line)
        if edge:
            edges.append(edge.groups())
            continue
        node = re.fullmatch(r'\s+(\w+) \[label="((?:[^"\\]|\\.)*)", (.*)\];', line)
        if node and node.group(1) not in ("node", "edge"):
            nodes[node.group(1)] = (node.group(2), node.group(3))
    return nodes, edges


def test_dot_source_describes_nodes_edges_constants_and_outputs():
    weights = np.arange(3.0)
    graph = ad.trace(lambda x, y: (anp.sum(x * weights) * y, x + weights))(X, 3.0)
    dot = graph.to_dot()
    assert dot.startswith('digraph "<lambda>" {\n')
    assert dot.endswith("}\n")
    nodes, edges = _dot_statements(dot)
    assert nodes["n0"] == (r"a\nf64[3]", 'shape=ellipse, style=filled, fillcolor="#dbe9f6"')
    assert nodes["n1"][0] == r"b\nf64[]"
    assert nodes["n2"] == (r"c = multiply\nf64[3]", "shape=box")
    assert nodes["n3"] == (r"d = sum[axis=None keepdims=False]\nf64[]", "shape=box")
    assert nodes["k0"][0] == r"k0\nf64[3]"
    assert nodes["out0"][0] == "return[0]" and nodes["out1"][0] == "return[1]"
    assert ("n0", "n2", 'label="0"') in edges
    assert ("k0", "n2", 'label="1"') in edges
    assert ("k0", "n5", 'label="1"') in edges  # one shared box for the array constant
    assert ("n2", "n3", None) in edges  # a single argument: no position label
    assert ("n4", "out0", "style=dashed") in edges and ("n5", "out1", "style=dashed") in edges
    declared = set(nodes)
    assert all(source in declared and target in declared for source, target, _ in edges)
    assert len(edges) == 9


def test_dot_escapes_quotes_in_labels():
    def quoted(x):
        return anp.sin(x)

    quoted.__name__ = 'say "hi"'
    assert ad.trace(quoted)(1.0).to_dot().startswith('digraph "say \\"hi\\"" {')


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_graphviz_accepts_the_dot_source(tmp_path):
    source = tmp_path / "graph.dot"
    source.write_text(ad.trace(loss)(X, 3.0).to_dot())
    subprocess.run(["dot", "-Tsvg", str(source), "-o", str(tmp_path / "graph.svg")], check=True)
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith("<")


# --------------------------------------------------------------------------------------
# Replay
# --------------------------------------------------------------------------------------


def _model(params, x):
    hidden = anp.tanh(anp.matmul(x, params["w"]) + params["b"])
    return anp.mean(hidden**2, axis=0)


PROGRAMS = {
    "elementwise": (lambda x: anp.exp(anp.sin(x)) * x - anp.sqrt(x * x + 1.0), (3,)),
    "reductions": (lambda x: anp.max(x, axis=1) + anp.sum(x, axis=0, keepdims=True).T, (2, 2)),
    "indexing": (lambda x: x[::2] * x[1] + anp.where(x > 0.0, x, 0.0)[[0, 2]], (3,)),
    "shapes": (lambda x: anp.reshape(anp.transpose(x), (6,)) @ anp.ravel(x), (2, 3)),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@given(data=st.data())
def test_replay_equals_the_function(name, data):
    fun, shape = PROGRAMS[name]
    traced_at = np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape)
    graph = ad.trace(fun)(traced_at)
    x = data.draw(
        hnp.arrays(np.float64, shape, elements=st.floats(-5, 5, allow_subnormal=False)), label="x"
    )
    np.testing.assert_allclose(graph(x), fun(x), rtol=1e-13, atol=0)


@given(data=st.data())
def test_replay_of_pytree_arguments_and_outputs(data):
    def fun(params, x):
        return {"out": _model(params, x), "pair": (params["b"] * 2.0, 1.0)}

    rng = np.random.default_rng(1)
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    graph = ad.trace(fun)(params, rng.standard_normal((4, 3)))
    floats = st.floats(-3, 3, allow_subnormal=False)
    new_params = {
        "w": data.draw(hnp.arrays(np.float64, (3, 2), elements=floats)),
        "b": data.draw(hnp.arrays(np.float64, (2,), elements=floats)),
    }
    x = data.draw(hnp.arrays(np.float64, (4, 3), elements=floats))
    replayed, expected = graph(new_params, x), fun(new_params, x)
    assert set(replayed) == {"out", "pair"} and isinstance(replayed["pair"], tuple)
    np.testing.assert_allclose(replayed["out"], expected["out"], rtol=1e-13)
    np.testing.assert_allclose(replayed["pair"][0], expected["pair"][0], rtol=1e-13)
    assert replayed["pair"][1] == 1.0


def test_replay_does_not_call_the_function():
    calls = []

    def counted(x):
        calls.append(1)
        return anp.sin(x) * 2.0

    graph = ad.trace(counted)(1.0)
    assert len(calls) == 1
    assert graph(0.5) == pytest.approx(2.0 * np.sin(0.5))
    ad.grad(graph)(0.5)
    ad.jvp(graph, (0.5,), (1.0,))
    assert len(calls) == 1


def test_replay_of_the_identity_and_of_a_python_float():
    graph = ad.trace(lambda x: x)(1.0)
    assert graph(2.0) == 2.0 and type(graph(2.0)) is np.float64
    assert ad.trace(lambda x: (x, 3.0))(X)(X + 1.0)[1] == 3.0


def test_trace_refuses_python_control_flow_on_traced_values():
    # A graph is replayed on new inputs: a branch taken while tracing would be replayed
    # silently for inputs that take the other one.
    def branchy(x):
        return anp.sin(x) if x > 0 else anp.cos(x)

    with pytest.raises(
        ad.StagingError,
        match=r"trace: cannot stage `if` / bool\(\) on a "
        r"traced value .* outside ad\.trace",
    ):
        ad.trace(branchy)(1.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (np.zeros(4), 3.0),
            r"Graph loss: argument 0 \(ndarray\) has shape \(4,\) and dtype "
            r"float64, but the graph was traced with shape \(3,\) and dtype "
            r"float64; .*trace the function again",
        ),
        (
            (X.astype(np.float32), 3.0),
            r"argument 0 \(ndarray\) has shape \(3,\) and dtype "
            r"float32, .*dtype float64; .*\.astype\('float64'\)",
        ),
        (
            (X, 3),
            r"argument 1 \(int\) has shape \(\) and dtype int64, but the graph was "
            r"traced with shape \(\) and dtype float64",
        ),
        (
            (X, None),
            r"Graph loss: argument 1 is a NoneType \(None\), not an array or a "
            r"number; the graph was traced with an array of shape \(\) and dtype "
            r"float64 there",
        ),
        ((X,), r"Graph loss: takes 2 positional argument\(s\), as traced, but got 1"),
        ((X, 3.0, 1.0), r"takes 2 positional argument\(s\), as traced, but got 3"),
        (
            (X, (3.0,)),
            r"Graph loss: argument 1 has pytree structure \(\*,\), but the graph "
            r"was traced with structure \*",
        ),
    ],
)
def test_replay_rejects_arguments_unlike_the_traced_ones(args, message):
    graph = ad.trace(loss)(X, 3.0)
    with pytest.raises(TypeError, match=message):
        graph(*args)


def test_replay_names_the_leaf_inside_a_pytree():
    graph = ad.trace(_model)({"w": np.ones((3, 2)), "b": np.ones(2)}, np.ones((4, 3)))
    with pytest.raises(
        TypeError,
        match=r"_model: argument 0\['b'\] \(ndarray\) has shape "
        r"\(3,\)",
    ):
        graph({"w": np.ones((3, 2)), "b": np.ones(3)}, np.ones((4, 3)))


def test_replay_rejects_keyword_arguments():
    graph = ad.trace(loss)(X, 3.0)
    with pytest.raises(
        TypeError,
        match=r"Graph loss: keyword arguments \['y'\] are not "
        r"accepted",
    ):
        graph(X, y=3.0)


def test_replay_under_a_transform_rejects_a_wrong_shape():
    graph = ad.trace(loss)(X, 3.0)
    with pytest.raises(TypeError, match=r"argument 0 \(Tracer\) has shape \(2,\)"):
        ad.grad(graph)(np.ones(2), 3.0)


# --------------------------------------------------------------------------------------
# Transforms accept graphs
# --------------------------------------------------------------------------------------


@given(
    x=hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2, allow_subnormal=False)),
    y=st.floats(-2, 2, allow_subnormal=False),
)
def test_transforms_of_graphs_equal_transforms_of_functions(x, y):
    graph = ad.trace(loss)(X, 3.0)
    y = np.float64(y)
    for transform in (ad.grad, ad.value_and_grad, ad.elementwise_grad):
        np.testing.assert_allclose(
            transform(graph, argnums=(0, 1))(x, y)[0],
            transform(loss, argnums=(0, 1))(x, y)[0],
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            transform(graph, argnums=1)(x, y), transform(loss, argnums=1)(x, y), rtol=1e-12
        )
    out, vjp_graph = ad.vjp(graph, x, y)
    expected_out, vjp_fun = ad.vjp(loss, x, y)
    assert out == pytest.approx(expected_out, rel=1e-12)
    for got, expected in zip(vjp_graph(2.0), vjp_fun(2.0)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    tangents = (np.ones(3), np.float64(0.5))
    np.testing.assert_allclose(
        ad.jvp(graph, (x, y), tangents), ad.jvp(loss, (x, y), tangents), rtol=1e-12
    )


def test_transforms_of_graphs_against_finite_differences():
    rng = np.random.default_rng(3)
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    graph = ad.trace(lambda w, b, x: _model({"w": w, "b": b}, x))(
        params["w"], params["b"], np.ones((4, 3))
    )
    args = [params["w"], params["b"], rng.standard_normal((4, 3))]
    check_grads(graph, tuple(args), order=1)


def test_second_order_through_a_graph():
    graph = ad.trace(lambda x: anp.sin(x) * x)(1.0)
    second = ad.grad(ad.grad(graph))(0.7)
    assert second == pytest.approx(2 * np.cos(0.7) - 0.7 * np.sin(0.7), rel=1e-12)
    mixed = ad.grad(lambda x: graph(x * 2.0) * x)(0.3)
    assert mixed == pytest.approx(ad.grad(lambda x: anp.sin(2 * x) * 2 * x * x)(0.3))


def test_tracing_a_graph_gives_an_equal_graph():
    graph = ad.trace(_model)({"w": np.ones((3, 2)), "b": np.ones(2)}, np.ones((4, 3)))
    again = ad.trace(graph)({"w": np.zeros((3, 2)), "b": np.ones(2)}, np.ones((4, 3)))
    assert again == graph and hash(again) == hash(graph)
    assert again.name == "_model"


def test_gradient_program_is_a_graph_too():
    gradient_graph = ad.trace(ad.grad(loss))(X, 3.0)
    names = [node.primitive.name for node in gradient_graph.nodes]
    assert "cos" in names  # the derivative of sin, recorded
    np.testing.assert_allclose(gradient_graph(X + 1.0, 2.0), ad.grad(loss)(X + 1.0, 2.0))


# --------------------------------------------------------------------------------------
# Deep graphs
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_100000_node_chain_builds_sorts_lists_and_replays():
    # Built from records directly (tracing 100,000 operations is the core's test): the
    # graph machinery itself must not recurse, whatever the depth.
    length = 100_000
    factor = 1.0000001
    multiply = anp.multiply.primitive
    start = Node(INPUT, (), (), (), EMPTY_PARAMS, np.float64(1.0))
    node = start
    for _ in range(length):
        node = Node(multiply, (node,), (0,), (node.value, factor), EMPTY_PARAMS, node.value)
    graph = Graph.build([start], [node], name="chain")
    assert len(graph.nodes) == length + 1
    assert toposort(graph.outputs) == list(graph.nodes)
    again = Graph.build([start], [node], name="chain")
    assert again == graph and hash(again) == hash(graph)
    listing = str(graph)
    assert listing.count("\n") == length + 2
    assert listing.endswith(
        f"  {node_name(length)}:f64[] = multiply {node_name(length - 1)} "
        f"{factor!r}\n  return {node_name(length)}\n}}"
    )
    assert graph.to_dot().count("->") == 2 * length + 1
    assert graph(2.0) == pytest.approx(2.0 * factor**length)


# --------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_graph_inspection_example_writes_dot(tmp_path, capsys):
    example = runpy.run_path(str(EXAMPLES / "graph_inspection.py"))
    example["main"](tmp_path)
    printed = capsys.readouterr().out
    assert "graph loss({'w': a:f64[3], 'b': b:f64[]}, c:f64[5,3], d:f64[5]) {" in printed
    assert "equal to a second trace: True | equal hashes: True" in printed
    assert (tmp_path / "loss.dot").read_text().startswith('digraph "loss" {')
    assert (tmp_path / "loss.svg").exists() == (shutil.which("dot") is not None)


def test_custom_primitive_example_runs(capsys):
    example = runpy.run_path(str(EXAMPLES / "custom_primitive.py"))
    example["main"]()
    printed = capsys.readouterr().out
    assert "logsumexp(x) = 1001.386305711038" in printed
    assert "Hessian matches diag(p) - p p^T: True" in printed
    assert "  b:f64[] = logsumexp a" in printed
