"""Every misuse covered by the core gets a clear exception: type and message."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun._records import Primitive
from adfun.numpy._core import apply
from adfun._records import EMPTY_PARAMS


def test_non_scalar_output_to_grad():
    with pytest.raises(TypeError, match=r"shape \(3,\).*jacobian.*elementwise_grad.*\.sum\(\)"):
        ad.grad(lambda x: x * 2.0)(np.ones(3))


def test_non_scalar_errors_name_the_transform_that_was_called():
    with pytest.raises(TypeError, match=r"^value_and_grad: <lambda> must return a scalar"):
        ad.value_and_grad(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(TypeError, match=r"^grad: <lambda> must return a scalar"):
        ad.grad(lambda x: x * 2.0)(np.ones(3))


def test_tuple_output_to_grad_suggests_has_aux():
    with pytest.raises(TypeError, match="has_aux=True"):
        ad.grad(lambda x: (x, x))(1.0)


def test_has_aux_without_pair():
    with pytest.raises(TypeError, match=r"has_aux=True.*must return a pair"):
        ad.grad(lambda x: x, has_aux=True)(1.0)


def test_integer_output_to_grad():
    with pytest.raises(TypeError, match="Python int"):
        ad.grad(lambda x: 3)(1.0)


@pytest.mark.parametrize(
    "value, pattern",
    [
        (3, r"argument 0 is an integer \(3\).*3\.0 instead of 3"),
        (True, r"argument 0 is a boolean"),
        (np.arange(3), r"argument 0 has dtype int64.*astype\(float\)"),
        (np.array([True, False]), r"argument 0 has dtype bool.*astype\(float\)"),
        (1 + 2j, r"argument 0 is complex"),
        (np.ones(2, complex), r"argument 0 has complex dtype complex128"),
        ("text", r"argument 0 is a str"),
        (None, r"argument 0 is a NoneType"),
    ],
)
def test_non_float_inputs_are_refused(value, pattern):
    with pytest.raises(TypeError, match=pattern):
        ad.grad(lambda x: 1.0)(value)


def test_non_float_leaf_inside_a_pytree_names_its_path():
    with pytest.raises(TypeError, match=r"argument 0\['n'\] is an integer"):
        ad.grad(lambda p: p["x"] * 2.0)({"x": 1.0, "n": 2})


def test_bad_argnums():
    with pytest.raises(ValueError, match="refers to argument 2"):
        ad.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
        ad.grad(lambda x: x, argnums="0")(1.0)
    with pytest.raises(ValueError, match="repeats an argument"):
        ad.grad(lambda x, y: x * y, argnums=(0, 0))(1.0, 2.0)


def test_primitive_without_reverse_rule_names_it_and_the_argument():
    no_rule = Primitive("mystery", np.sin, vjps=(None,), jvps=(None,))
    with pytest.raises(NotImplementedError, match=r"'mystery' has no reverse-mode .* argument 0"):
        ad.grad(lambda x: apply(no_rule, (x,), EMPTY_PARAMS))(1.0)
    with pytest.raises(NotImplementedError, match=r"'mystery' has no forward-mode .* argument 0"):
        ad.jvp(lambda x: apply(no_rule, (x,), EMPTY_PARAMS), (1.0,), (1.0,))


def test_primitive_without_any_forward_rules():
    reverse_only = Primitive("reverse_only", np.sin, vjps=(lambda g, ans, x: g,), jvps=None)
    with pytest.raises(NotImplementedError, match="'reverse_only' has no forward-mode"):
        ad.jvp(lambda x: apply(reverse_only, (x,), EMPTY_PARAMS), (1.0,), (1.0,))


def test_numpy_function_without_rule_on_traced_value():
    with pytest.raises(NotImplementedError, match=r"numpy\.add\.reduceat has no derivative .*"
                                                  r"\(its positional argument 0\)"):
        ad.grad(lambda x: np.add.reduceat(x, [0]).sum())(np.ones(2))
    with pytest.raises(NotImplementedError, match=r"numpy\.unique\) is not supported on traced"
                                                  r".*its positional argument 0 is traced"):
        ad.grad(lambda x: np.unique(x).sum())(np.ones(2))
    with pytest.raises(NotImplementedError, match=r"histogram2d.*its positional argument 1 is"):
        ad.grad(lambda y: np.histogram2d(np.ones(2), y)[0].sum())(np.ones(2))
    with pytest.raises(NotImplementedError, match=r"its argument 'weights' is traced"):
        ad.grad(lambda w: np.histogram2d(np.ones(2), np.ones(2), weights=w)[0].sum())(
            np.ones(2))


def test_asarray_on_traced_value_explains_tracing():
    with pytest.raises(TypeError, match=r"np\.asarray\(\) was called on a value that adfun is "
                                        r"tracing.*stop_gradient"):
        ad.grad(lambda x: np.asarray(x).sum())(np.ones(2))


def test_float_of_traced_value_is_refused_but_constants_convert():
    with pytest.raises(TypeError, match=r"float\(\) was called on a value that adfun is tracing"):
        ad.grad(lambda x: float(x))(1.0)
    assert ad.grad(lambda x: x * float(ad.stop_gradient(x)))(3.0) == 3.0


def test_in_place_assignment_on_tracer():
    def f(x):
        x[0] = 1.0
        return x.sum()

    with pytest.raises(TypeError, match="cannot be modified in place"):
        ad.grad(f)(np.ones(2))


@pytest.mark.parametrize(
    "cotangent, error, pattern",
    [
        (np.ones(2), ValueError, r"cotangent has shape \(2,\).*shape \(3,\)"),
        ((np.ones(3),), TypeError, r"structure"),
        ("x", TypeError, r"must be a float array"),
        (np.ones(3, complex), TypeError, r"dtype complex128"),
    ],
)
def test_cotangent_of_wrong_shape_or_structure(cotangent, error, pattern):
    _, vjp_fn = ad.vjp(anp.sin, np.zeros(3))
    with pytest.raises(error, match=pattern):
        vjp_fn(cotangent)


def test_tangent_of_wrong_shape_or_structure():
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(2,\).*shape \(3,\)"):
        ad.jvp(anp.sin, (np.zeros(3),), (np.zeros(2),))
    with pytest.raises(TypeError, match="one tangent per primal"):
        ad.jvp(anp.sin, (np.zeros(3),), ())
    with pytest.raises(TypeError, match=r"jvp\(f, \(x,\), \(v,\)\)"):
        ad.jvp(anp.sin, np.zeros(3), np.zeros(3))


def test_escaped_tracer_is_detected():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2.0

    ad.grad(f)(1.0)
    with pytest.raises(RuntimeError, match="has already returned"):
        ad.grad(lambda y: y * leaked[0])(2.0)


def test_nodes_are_immutable():
    graph = ad.trace(anp.sin)(1.0)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        graph.nodes[-1].parents = ()
