"""Errors of the core transforms and the imperative layer: type and message."""

from __future__ import annotations

import pickle

import attrs
import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun import autograd, nd
from adfun._engine.records import EMPTY_PARAMS, Primitive
from adfun._engine.trace import call_primitive


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
        ("text", r"argument 0 is a str"),
        (None, r"argument 0 is a NoneType"),
    ],
)
def test_non_float_inputs_are_refused(value, pattern):
    with pytest.raises(TypeError, match=pattern):
        ad.grad(lambda x: 1.0)(value)


@pytest.mark.parametrize("value", [1 + 2j, np.ones(2, complex)])
def test_a_complex_output_needs_holomorphic(value):
    with pytest.raises(
        TypeError,
        match=r"grad: the output of <lambda> is complex \(complex128\); a complex output is "
        r"differentiated only with holomorphic=True",
    ):
        ad.grad(lambda z: anp.sum(z * z))(value)


@pytest.mark.parametrize("transform", [ad.grad, ad.value_and_grad, ad.jacrev, ad.jacfwd])
def test_holomorphic_needs_complex_inputs_and_outputs(transform):
    with pytest.raises(
        TypeError,
        match=r"\(\.\.\., holomorphic=True\): argument 0 has dtype float64, but holomorphic "
        r"differentiation needs complex inputs; convert it with x.astype\(complex\)",
    ):
        transform(lambda z: z * 1j, holomorphic=True)(1.0)
    with pytest.raises(
        TypeError,
        match=r"\(\.\.\., holomorphic=True\): the output of absolute has dtype float64, but "
        r"holomorphic differentiation needs a complex output",
    ):
        transform(anp.abs, holomorphic=True)(1.0 + 1.0j)


def test_hessian_of_a_real_function_of_complex_input_points_to_hvp():
    with pytest.raises(
        TypeError,
        match=r"hessian: the gradient of <lambda> is complex, as its argument is: the Hessian "
        r"of a real-valued function of complex input is a real-linear map .* Use "
        r"adfun.hvp\(f\)\(z, v\)",
    ):
        ad.hessian(lambda z: anp.abs(z) ** 2)(1.0 + 1.0j)


def test_a_complex_tangent_of_a_real_primal_is_refused():
    with pytest.raises(
        TypeError,
        match=r"jvp: tangent 0 is complex \(1j\), but its primal has dtype float64; a real "
        r"primal takes a real tangent",
    ):
        ad.jvp(anp.sin, (1.0,), (1j,))


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
        ad.grad(lambda x: call_primitive(no_rule, (x,), EMPTY_PARAMS))(1.0)
    with pytest.raises(NotImplementedError, match=r"'mystery' has no forward-mode .* argument 0"):
        ad.jvp(lambda x: call_primitive(no_rule, (x,), EMPTY_PARAMS), (1.0,), (1.0,))


def test_primitive_without_any_forward_rules():
    reverse_only = Primitive("reverse_only", np.sin, vjps=(lambda g, ans, x: g,), jvps=None)
    with pytest.raises(NotImplementedError, match="'reverse_only' has no forward-mode"):
        ad.jvp(lambda x: call_primitive(reverse_only, (x,), EMPTY_PARAMS), (1.0,), (1.0,))


def test_numpy_function_without_rule_on_traced_value():
    with pytest.raises(
        NotImplementedError,
        match=r"numpy\.add\.reduceat has no derivative .*"
        r"\(its positional argument 0\)",
    ):
        ad.grad(lambda x: np.add.reduceat(x, [0]).sum())(np.ones(2))
    with pytest.raises(
        NotImplementedError,
        match=r"numpy\.unique\) is not supported on traced"
        r".*its positional argument 0 is traced",
    ):
        ad.grad(lambda x: np.unique(x).sum())(np.ones(2))
    with pytest.raises(NotImplementedError, match=r"histogram2d.*its positional argument 1 is"):
        ad.grad(lambda y: np.histogram2d(np.ones(2), y)[0].sum())(np.ones(2))
    with pytest.raises(NotImplementedError, match=r"its argument 'weights' is traced"):
        ad.grad(lambda w: np.histogram2d(np.ones(2), np.ones(2), weights=w)[0].sum())(np.ones(2))


def test_asarray_on_traced_value_explains_tracing():
    with pytest.raises(
        TypeError,
        match=r"np\.asarray\(\) was called on a value that adfun is "
        r"tracing.*stop_gradient",
    ):
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


# --- custom rules (issue 13, section 5) ----------------------------------------------------


def _custom_double():
    @ad.primitive
    def double(x):
        return 2.0 * x

    return double


@pytest.mark.parametrize(
    ("mode", "rule", "error", "pattern"),
    [
        (
            "vjp",
            lambda g, ans, x: np.ones((3, 1)),
            ValueError,
            r"^custom primitive 'double': its VJP rule for positional argument 0 returned a "
            r"cotangent of shape \(3, 1\), but argument 0 has shape \(3,\)",
        ),
        (
            "vjp",
            lambda g, ans, x: [1.0, 1.0, 1.0],
            TypeError,
            r"^custom primitive 'double': its VJP rule for positional argument 0 returned a list",
        ),
        (
            "vjp",
            lambda g, ans, x: g.astype(np.float32),
            TypeError,
            r"^custom primitive 'double': .*dtype float32.*must have dtype float64",
        ),
        (
            "jvp",
            lambda t, ans, x: 2.0,
            ValueError,
            r"^custom primitive 'double': its JVP rule for positional argument 0 returned a "
            r"tangent of shape \(\), but the primitive's output has shape \(3,\)",
        ),
    ],
)
def test_custom_rule_results_are_checked(mode, rule, error, pattern):
    double = _custom_double()
    getattr(double, "def" + mode)(rule)
    with pytest.raises(error, match=pattern):
        if mode == "vjp":
            ad.grad(lambda x: anp.sum(double(x)))(np.ones(3))
        else:
            ad.jvp(double, (np.ones(3),), (np.ones(3),))


def test_custom_rule_that_raises_names_the_primitive_and_chains():
    double = _custom_double()
    double.defvjp(lambda g, ans, x: g / np.zeros(0)[0])
    with pytest.raises(
        IndexError,
        match=r"^custom primitive 'double': its VJP rule for "
        r"positional argument 0 raised IndexError: index 0 "
        r"is out of bounds",
    ) as info:
        ad.grad(double)(1.0)
    assert isinstance(info.value.__cause__, IndexError)


def test_autograd_style_vjp_rule_is_refused_with_adfuns_signature():
    double = _custom_double()
    with pytest.raises(
        TypeError,
        match=r"^double\.defvjp: rule 0 .*autograd's curried style "
        r"'lambda ans, x: lambda g: \.\.\.'; adfun calls a VJP "
        r"rule once as rule\(g, ans, \*args, \*\*kwargs\)",
    ):
        double.defvjp(lambda ans, x: lambda g: 2.0 * g)


# --- fill values and spread keywords -------------------------------------------------------


def test_numpy_full_like_of_a_numpy_array_with_a_traced_fill_names_full_like():
    with pytest.raises(
        NotImplementedError,
        match=r"numpy\.full_like\(a, fill_value\) calls it when a is a NumPy "
        r"array and fill_value is traced: use "
        r"adfun\.numpy\.full_like\(a, fill_value\)",
    ):
        ad.grad(lambda v: np.sum(np.full_like(np.ones(3), v)))(2.0)


@pytest.mark.parametrize("name", ["var", "std"])
def test_ddof_and_correction_together(name):
    with pytest.raises(
        ValueError,
        match=rf"^adfun\.numpy\.{name}: ddof and correction can't "
        rf"be provided simultaneously",
    ):
        ad.grad(lambda x: getattr(np, name)(x, ddof=1, correction=1))(np.arange(3.0))
    with pytest.raises(ValueError, match=rf"^adfun\.numpy\.{name}: ddof and correction"):
        getattr(anp, name)(np.arange(3.0), ddof=1, correction=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"aweights": -np.ones(4)}, ValueError, r"^adfun\.numpy\.cov: aweights cannot be negative"),
        (
            {"aweights": np.ones(3)},
            RuntimeError,
            r"^adfun\.numpy\.cov: incompatible numbers of samples and aweights",
        ),
        ({"fweights": np.full(4, 1.5)}, TypeError, r"^adfun\.numpy\.cov: fweights must be integer"),
        ({"ddof": 1.5}, ValueError, r"^adfun\.numpy\.cov: ddof must be integer"),
    ],
)
def test_cov_weight_errors_on_traced_values(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        ad.grad(lambda m: np.sum(np.cov(m, **kwargs)))(np.arange(8.0).reshape(2, 4))


# --- pickling and the imperative layer -----------------------------------------------------


def test_pickling_a_graph_of_a_local_custom_primitive():
    double = _custom_double()
    with pytest.raises(
        TypeError,
        match=r"^cannot pickle Graph double: its primitive 'double' "
        r"is neither registered in adfun\.numpy nor a "
        r"module-level adfun\.primitive",
    ):
        pickle.dumps(ad.trace(double)(1.0))


def test_backward_on_an_array_computed_inside_record_from_no_variable():
    plain = nd.array([1, 2])
    with autograd.record():
        z = plain * 2
    with pytest.raises(
        RuntimeError,
        match=r"^backward: the array you called backward on is "
        r"not in a recorded graph: none of the arrays it "
        r"was computed from has attach_grad\(\)",
    ):
        z.backward()
