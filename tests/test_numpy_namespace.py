"""The classification of NumPy's namespace, its dispatch and its coverage table."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import adfun as ad
import adfun._engine.trace
import adfun.numpy as anp
from adfun._engine.records import NUMPY_OVERRIDES, OPERATIONS
from adfun.numpy import _namespace
from adfun.numpy._declare import COMPOSITES, REGISTRY
from adfun.testing import check_grads


def _public():
    """NumPy's public names, read when a test runs: importing numexpr (as ``jit``'s fused
    kernels do, at any time) adds ``numpy.expm1x``."""
    return sorted(name for name in dir(np) if not name.startswith("_"))


TABLES = {
    "differentiable": [
        name for names in _namespace.DIFFERENTIABLE_FAMILIES.values() for name in names
    ],
    "values": list(_namespace.NONDIFFERENTIABLE_OF_VALUES),
    "static": list(_namespace.NONDIFFERENTIABLE_STATIC),
    "unsupported": list(_namespace.UNSUPPORTED),
    "subpackages": list(_namespace.SUBPACKAGES),
}


def _status(name):
    return _namespace.STATUS[name]


def test_every_public_numpy_name_is_classified():
    assert [name for name in _public() if name not in _namespace.STATUS] == []


def test_no_name_is_classified_twice():
    seen = {}
    for table, names in TABLES.items():
        for name in names:
            assert name not in seen, f"{name} is in {seen.get(name)} and {table}"
            seen[name] = table


def test_every_non_subpackage_name_resolves():
    for name in _public():
        if _status(name) == "subpackage":
            continue
        assert getattr(anp, name) is _namespace.NAMESPACE[name], name
    assert set(_public()) - set(_namespace.SUBPACKAGES) <= set(dir(anp))


@pytest.mark.parametrize("name", sorted(set(TABLES["differentiable"])))
def test_differentiable_names_have_both_rules_and_a_domain(name):
    fun = _namespace.NAMESPACE[name]
    primitive = getattr(fun, "primitive", None)
    if primitive is not None:
        assert not primitive.nondiff
        assert REGISTRY[primitive.name] is fun
        assert primitive.vjps and primitive.jvps is not None and primitive.domain is not None
    else:
        assert COMPOSITES.get(fun.__name__) is fun, f"{name} is neither primitive nor composite"
        assert fun.domain.examples is not None


def _numpy_dispatches(name):
    value = getattr(np, name, None)
    return isinstance(value, np.ufunc) or type(value).__name__ == "_ArrayFunctionDispatcher"


def test_plain_numpy_calls_on_traced_values_route_to_the_table():
    missing = [
        name
        for name in _public()
        if _numpy_dispatches(name) and getattr(np, name) not in NUMPY_OVERRIDES
    ]
    assert missing == []
    for name in TABLES["differentiable"]:
        if _numpy_dispatches(name):
            assert NUMPY_OVERRIDES[getattr(np, name)] is _namespace.NAMESPACE[name], name


@pytest.mark.parametrize("name", sorted(TABLES["unsupported"]))
def test_unsupported_names_refuse_traced_values(name):
    def through_adfun(x):
        return getattr(anp, name)(x)

    with pytest.raises(NotImplementedError, match=rf"adfun\.numpy\.{name} \(numpy\.{name}\)"):
        ad.grad(through_adfun)(np.ones(3))


def test_unsupported_names_are_numpy_on_plain_values():
    values = np.array([3.0, 1.0, 3.0])
    np.testing.assert_array_equal(anp.unique(values), [1.0, 3.0])
    np.testing.assert_allclose(anp.gradient(values), np.gradient(values))


def test_nondifferentiable_functions_of_values_record_a_constant():
    x = np.array([0.3, -1.2, 2.5])

    def f(x):
        index = np.argmax(x)
        (rows,) = np.unravel_index(anp.argsort(x), (3,))
        return x[index] * np.sum(np.floor(x)) + anp.sum(x[rows] * anp.isclose(x, 0.3))

    expected = np.zeros(3)
    expected[2] = np.sum(np.floor(x))
    expected[1] += 1.0  # x[argsort(x)][0] is x[1], picked by isclose(x, 0.3)
    np.testing.assert_allclose(ad.grad(f)(x), expected)
    graph = ad.trace(lambda x: np.signbit(x) * x)(x)
    assert "signbit" in [node.primitive.name for node in graph.nodes]


def test_tuple_results_of_values_functions_are_tuples_of_traced_values():
    def f(x):
        first, second = np.unravel_index(np.argmax(x), (2, 2))
        assert int(first) == 1 and int(second) == 0
        return anp.sum(x)

    ad.grad(f)(np.array([0.0, 1.0, 5.0, 2.0]))


def test_static_functions_give_plain_values_on_traced_arguments():
    def f(x):
        zeros = np.zeros_like(x)
        assert type(zeros) is np.ndarray and zeros.shape == (2, 3)
        assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6
        assert np.result_type(x, 1.0) == np.float64
        return anp.sum(x + zeros)

    np.testing.assert_allclose(ad.grad(f)(np.ones((2, 3))), np.ones((2, 3)))


def test_types_constants_and_modules_are_numpys():
    assert anp.float32 is np.float32 and anp.ndarray is np.ndarray
    assert anp.pi == np.pi and anp.newaxis is None
    # adfun.numpy.random is a module of its own (for `import adfun.numpy.random`), serving
    # numpy.random's objects.
    assert anp.random.randn is np.random.randn and anp.random.RandomState is np.random.RandomState


def test_every_operation_the_tracer_uses_exists():
    source = Path(adfun._engine.trace.__file__).read_text()
    names = set(re.findall(r'operation\("(\w+)"\)', source))
    names.discard("name")
    assert names, "found no operation names in adfun/_engine/trace.py"
    assert sorted(names - set(OPERATIONS)) == []


def test_tracer_methods_work():
    x = np.array([[1.0, 2.0], [0.5, 4.0]])

    def f(x):
        total = x.prod() + x.cumsum(axis=0).sum() + x.var() + x.std(axis=1).sum()
        assert not x.any(axis=0).shape or bool(x.all())
        assert int(x.argmax()) == 3 and int(x.argmin()) == 2
        return total + x.clip(0.8, 3.0).sum() + x.swapaxes(0, 1)[0, 1]

    expected_value = (
        np.prod(x)
        + np.cumsum(x, axis=0).sum()
        + np.var(x)
        + np.std(x, axis=1).sum()
        + np.clip(x, 0.8, 3.0).sum()
        + x[1, 0]
    )
    value, gradient = ad.value_and_grad(f)(x)
    np.testing.assert_allclose(value, expected_value)
    assert gradient.shape == x.shape


def test_coverage_lists_every_name_with_modes():
    rows = anp.coverage()
    assert [row["name"] for row in rows] == _public()
    by_name = {row["name"]: row for row in rows}
    assert by_name["cumprod"] == {
        "name": "cumprod",
        "status": "differentiable",
        "reverse": True,
        "forward": True,
        "kind": "function",
    }
    assert by_name["argmax"]["status"] == "nondifferentiable"
    assert by_name["unique"]["status"] == "unsupported"
    assert by_name["float32"]["kind"] == "type"
    assert by_name["linalg"]["status"] == "subpackage"
    for row in rows:
        if row["status"] == "differentiable":
            assert row["reverse"] and row["forward"], row
        else:
            assert not row["reverse"] and not row["forward"], row


def test_ufunc_methods_on_traced_values():
    x = np.array([[1.0, 2.0], [0.5, 4.0]])
    for fun in (
        lambda x: np.add.reduce(x),
        lambda x: np.multiply.reduce(x, axis=None),
        lambda x: np.maximum.reduce(x, axis=1, keepdims=True),
        lambda x: np.add.accumulate(x, axis=1),
        lambda x: np.multiply.accumulate(x),
        lambda x: np.subtract.outer(x, x[0]),
        lambda x: np.arctan2.outer(x[0], x[1]),
    ):
        np.testing.assert_allclose(ad.vjp(fun, x)[0], fun(x))
        check_grads(fun, (x,), order=1)
    with pytest.raises(TypeError, match=r"numpy\.add\.reduce: the argument\(s\) \['initial'\]"):
        ad.grad(lambda x: np.add.reduce(x, axis=None, initial=1.0))(x)
    with pytest.raises(NotImplementedError, match=r"numpy\.add\.reduceat has no derivative rule"):
        ad.grad(lambda x: np.sum(np.add.reduceat(x, [0], axis=0)))(x)


def test_graphs_with_values_functions_replay_and_compare():
    def f(x):
        return x * np.unravel_index(np.argmax(x), (2, 2))[1] + np.isclose(x, [1.0, 0.0, 0.0, 0.0])

    x = np.array([0.0, 1.0, 5.0, 2.0])
    graph = ad.trace(f)(x)
    assert graph == ad.trace(f)(x)
    other = np.array([0.0, 7.0, 5.0, 1.0])
    np.testing.assert_allclose(graph(other), f(other))


def test_nonzero_and_where_give_tuples_of_index_arrays():
    def f(x):
        rows, columns = np.nonzero(x > 1.0)
        (positions,) = np.where(anp.ravel(x) > 1.0)
        assert len(rows) == 2
        return anp.sum(x[rows, columns]) + anp.sum(anp.ravel(x)[positions])

    x = np.array([[0.5, 2.0], [3.0, 1.0]])
    np.testing.assert_allclose(ad.grad(f)(x), [[0.0, 2.0], [2.0, 0.0]])
