"""``Graph.to_python()`` and ``jit(f).source(*args)``: standalone NumPy source that runs
without adfun and computes the same numbers as the staged program."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adfun as ad
import adfun.numpy as anp
from adfun._staging.source import SourceError

# Functions whose staged programs hold a value without a source form (the message says
# which); every other function of the rule table is written out and checked.
NO_SOURCE: dict[str, str] = {}


def _run_source(source: str, name: str, *args):
    """Execute ``source`` in a fresh namespace and call its function ``name``."""
    assert not re.search(r"^\s*(import|from) adfun", source, re.MULTILINE), source
    namespace: dict = {}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace[name](*args)


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for key in value for leaf in _leaves(value[key])]
    return [value]


def _assert_same(got, want):
    got_leaves, want_leaves = _leaves(got), _leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for a, b in zip(got_leaves, want_leaves):
        assert type(a) is type(b), (type(a), type(b))
        np.testing.assert_array_equal(a, b, strict=True)


def _mlp_loss(params, x, labels):
    hidden = anp.tanh(x @ params["w1"] + params["b1"])
    logits = hidden @ params["w2"]
    shifted = logits - anp.max(logits, axis=1, keepdims=True)
    log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
    return -anp.mean(anp.sum(log_probs * labels, axis=1))


def _mlp_data():
    rng = np.random.default_rng(0)
    params = {
        "w1": rng.standard_normal((4, 8)),
        "b1": rng.standard_normal(8),
        "w2": rng.standard_normal((8, 3)),
    }
    x = rng.standard_normal((5, 4))
    labels = np.eye(3)[[0, 2, 1, 1, 0]]
    return params, x, labels


def test_value_and_grad_of_an_mlp_is_written_out_and_gives_the_same_numbers():
    params, x, labels = _mlp_data()
    staged = ad.jit(ad.value_and_grad(_mlp_loss))
    source = staged.source(params, x, labels)
    assert "def _mlp_loss(params_w1, params_b1, params_w2, x, labels):" in source
    assert "import numpy as np" in source
    got = _run_source(source, "_mlp_loss", params["w1"], params["b1"], params["w2"], x, labels)
    want = staged(params, x, labels)
    _assert_same(got, want)  # the same operations as the staged program: bit for bit
    value, gradient = got
    assert set(gradient) == {"w1", "b1", "w2"}  # the result keeps its structure
    eager_value, eager_gradient = ad.value_and_grad(_mlp_loss)(params, x, labels)
    np.testing.assert_allclose(value, eager_value, rtol=1e-13)
    for key in gradient:
        np.testing.assert_allclose(gradient[key], eager_gradient[key], rtol=1e-12, atol=1e-15)


def test_the_source_runs_where_adfun_cannot_be_imported(tmp_path):
    params, x, labels = _mlp_data()
    staged = ad.jit(ad.value_and_grad(_mlp_loss))
    (tmp_path / "generated.py").write_text(staged.source(params, x, labels))
    np.savez(tmp_path / "data.npz", x=x, labels=labels, **params)
    script = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "adfun" or name.startswith("adfun."):
                    raise ImportError("adfun is blocked in this test")

        sys.meta_path.insert(0, Block())
        import numpy as np
        import generated
        assert "adfun" not in sys.modules
        data = np.load("data.npz")
        value, gradient = generated._mlp_loss(
            data["w1"], data["b1"], data["w2"], data["x"], data["labels"]
        )
        np.save("value.npy", value)
        for key, array in gradient.items():
            np.save(f"grad_{key}.npy", array)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    value, gradient = staged(params, x, labels)
    np.testing.assert_array_equal(np.load(tmp_path / "value.npy"), value)
    for key in gradient:
        np.testing.assert_array_equal(np.load(tmp_path / f"grad_{key}.npy"), gradient[key])


def test_graph_to_python_names_values_after_their_primitives():
    graph = ad.trace(lambda x: anp.sum(anp.sin(x) * 2.0))(np.zeros(3))
    source = graph.to_python(name="f")
    assert source.split("\n\n\n")[-1] == (
        "def f(x):\n"
        "    sin = np.sin(x)\n"
        "    multiply = sin * 2.0\n"
        "    sum_1 = np.sum(multiply, axis=None, keepdims=False)\n"
        "    return sum_1\n"
    )
    assert _run_source(source, "f", np.full(3, 0.5)) == graph(np.full(3, 0.5))


def test_constants_are_exact_with_their_dtypes():
    big = np.linspace(0.0, 1.0, 50).reshape(5, 10) / 3.0  # written as bytes
    small = np.array([1.0 / 3.0, np.inf, -0.0], dtype=np.float32)  # as a literal

    def f(x, y):
        return anp.sum(x * big) + anp.sum(y * small) + np.float32(0.1) * anp.sum(y)

    x = np.ones((5, 10))
    y = np.ones(3, dtype=np.float32)
    staged = ad.jit(f)
    source = staged.source(x, y)
    assert "base64" in source
    assert "np.float32" in source
    _assert_same(_run_source(source, "f", x, y), staged(x, y))


def test_empty_constants_keep_their_shapes():
    """``compress([], x, axis=0)`` gathers with an empty ``(0, 1)`` index array, whose
    ``tolist()`` (``[]``) has lost its shape."""
    from adfun._staging.source import _Writer

    writer = _Writer()
    for value in (np.empty((0, 1)), np.empty((3, 0), np.float32), np.empty(0, np.int64)):
        text = writer.array_text(value, "an empty array")
        rebuilt = eval(text, {"np": np})  # noqa: S307 - the writer's own output
        assert rebuilt.shape == value.shape and rebuilt.dtype == value.dtype, text

    def f(x):
        return anp.compress([], x, axis=0)

    x = np.ones((2, 1))
    staged = ad.jit(f)
    _assert_same(_run_source(staged.source(x), "f", x), staged(x))


def test_a_class_the_helpers_compute_with_is_copied():
    """The shape derivatives of the incomplete gamma function compute with the jets of
    ``adfun.scipy._incomplete._Jet`` (a class method, operators): the class is written
    out whole, not as the empty stand-in a type test gets."""
    from adfun.scipy import special

    def f(a):
        return ad.grad(lambda a: anp.sum(special.gammainc(a, 1.5)))(a)

    a = np.array([0.5, 2.0, 7.0])
    staged = ad.jit(f)
    source = staged.source(a)
    assert "class _Jet:" in source and "def variable(cls, v, index, p):" in source
    assert "Stands for adfun" not in source
    _assert_same(_run_source(source, "f", a), staged(a))


def test_a_class_read_only_in_type_tests_gets_a_stand_in():
    import ast

    from adfun._staging.source import _only_type_tests

    def uses(text):
        return _only_type_tests(ast.parse(textwrap.dedent(text)), "Tracer")

    assert uses("isinstance(x, Tracer) or type(y) is Tracer or issubclass(c, (int, Tracer))")
    assert uses("type(x) is not Tracer")
    assert not uses("Tracer(x)")
    assert not uses("isinstance(x, Tracer) and Tracer.variable(x)")
    assert not uses("x + 1")  # not read at all


def test_arguments_are_named_after_the_parameters_and_argument_names_can_be_given():
    def f(weights, *, scale):
        return anp.sum(weights * scale)

    source = ad.jit(f).source(np.ones(2), scale=np.float64(3.0))
    assert "def f(weights, scale):" in source
    graph = ad.trace(lambda a, b: a * b)(1.0, 2.0)
    assert "def product(u, v):" in graph.to_python(name="product", arg_names=["u", "v"])


def test_wrong_number_of_argument_names_is_refused():
    graph = ad.trace(lambda a, b: a * b)(1.0, 2.0)
    with pytest.raises(ValueError, match=r"to_python: arg_names has 1 names, but graph"):
        graph.to_python(arg_names=["u"])


def test_a_value_without_source_form_is_refused_with_its_name():
    from adfun._staging.source import _Writer

    with pytest.raises(SourceError, match=r"to_python: the answer is object .* no standalone"):
        _Writer().value_text(object(), "the answer")
    assert issubclass(SourceError, ValueError)


# --------------------------------------------------------------------------------------
# Every function of the rule table: its staged program and its staged reverse pass
# --------------------------------------------------------------------------------------

try:
    import test_staging as staging_tests
except ImportError:  # pragma: no cover - run from another directory
    staging_tests = None

NAMES = sorted(staging_tests.ALL_NAMES) if staging_tests is not None else []


def _flat(fun, args, kwargs):
    leaves, owners, rebuild = staging_tests._split(args)

    def flat_fun(*values):
        return fun(*rebuild(values), **kwargs)

    return flat_fun, leaves, owners


def _check_written_out(name, staged, leaves):
    try:
        want = staged(*leaves)
    except (ad.StagingError, NotImplementedError, TypeError):
        return  # refused by jit itself (tested in test_staging)
    if name in NO_SOURCE:
        with pytest.raises(SourceError, match=NO_SOURCE[name]):
            staged.source(*leaves)
        return
    source = staged.source(*leaves)
    got = _run_source(source, staged._name, *leaves)
    _assert_same(got, want)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_staged_function_and_its_vjp_is_written_out_exactly(name, data):
    fun, args, kwargs, _ = data.draw(staging_tests._example(name))
    flat_fun, leaves, owners = _flat(fun, args, kwargs)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        _check_written_out(name, ad.jit(flat_fun), leaves)
        positions = [index for index, leaf in enumerate(leaves) if leaf.dtype.kind == "f"]
        registry = ad.numpy.REGISTRY
        if not positions or (name in registry and registry[name].primitive.nondiff):
            return
        outputs = _leaves(flat_fun(*leaves))
        if not all(np.result_type(out).kind == "f" for out in outputs):
            return
        cotangents = tuple(np.ones_like(out) for out in outputs)

        def reverse(*values):
            def of_floats(*floats):
                full = list(values)
                for index, value in zip(positions, floats):
                    full[index] = value
                return tuple(_leaves(flat_fun(*full)))

            _, vjp_fn = ad.vjp(of_floats, *(values[index] for index in positions))
            return vjp_fn(cotangents)

        _check_written_out(name, ad.jit(reverse), leaves)


# --------------------------------------------------------------------------------------
# Notebook display and the adfun logger
# --------------------------------------------------------------------------------------


def test_graph_displays_as_a_table_without_graphviz(monkeypatch):
    import shutil

    from adfun._staging import listing

    monkeypatch.setattr(shutil, "which", lambda name: None)
    graph = ad.trace(lambda x: anp.sum(anp.sin(x) * np.arange(3.0)))(np.zeros(3))
    html = graph._repr_html_()
    assert html.startswith('<table class="adfun-graph">')
    assert "<td>sin a</td>" in html
    assert "const [0. 1. 2.]" in html
    assert "&lt;lambda&gt;" in html  # names are escaped
    assert listing.graph_svg(graph) is None


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="Graphviz is absent")
def test_graph_displays_as_svg_with_graphviz():
    graph = ad.trace(lambda x: anp.sin(x))(np.zeros(3))
    assert "<svg" in graph._repr_html_()


def test_jit_reports_staging_on_the_adfun_logger(caplog):
    with caplog.at_level("DEBUG", logger="adfun"):
        ad.jit(lambda x: anp.sin(x) * 2.0)(np.ones(2))
    (record,) = [record for record in caplog.records if record.name == "adfun"]
    assert record.levelname == "DEBUG"
    assert "jit(<lambda>): staged a new signature in" in record.getMessage()
    assert "3 nodes" in record.getMessage()
