"""Custom primitives: ``adfun.primitive`` with ``defvjp`` and ``defjvp`` (API.md section 3)."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy as anp
from adfun.testing import check_grads


@ad.primitive
def logsumexp(x):
    """Stable log(sum(exp(x)))."""
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


logsumexp.defvjp(lambda g, ans, x: g * np.exp(x - ans))
logsumexp.defjvp(lambda t, ans, x: np.sum(t * np.exp(x - ans)))


@ad.primitive
def scaled_power(x, y, exponent=2):
    """``x ** exponent * y``; the rules use adfun.numpy, so they differentiate again."""
    return x**exponent * y


scaled_power.defvjp(
    lambda g, ans, x, y, exponent=2: g * exponent * x ** (exponent - 1) * y,
    lambda g, ans, x, y, exponent=2: anp.sum(g * x**exponent),
)
scaled_power.defjvp(
    lambda t, ans, x, y, exponent=2: t * exponent * x ** (exponent - 1) * y,
    lambda t, ans, x, y, exponent=2: t * x**exponent,
)

vectors = hnp.arrays(
    np.float64, st.integers(1, 4), elements=st.floats(-3, 3, allow_subnormal=False)
)


# --------------------------------------------------------------------------------------
# Calling
# --------------------------------------------------------------------------------------


def test_on_plain_values_it_just_runs_the_function():
    x = np.array([1.0, 2.0, 3.0])
    assert logsumexp(x) == pytest.approx(np.log(np.sum(np.exp(x))))
    assert logsumexp(np.array([1000.0, 1000.0])) == pytest.approx(1000.0 + np.log(2.0))
    assert scaled_power(2.0, 3.0, exponent=3) == 24.0


def test_it_keeps_the_function_name_and_docstring():
    assert logsumexp.__name__ == "logsumexp"
    assert logsumexp.__doc__ == "Stable log(sum(exp(x)))."
    assert logsumexp.primitive.name == "logsumexp"
    assert repr(logsumexp) == "<adfun.primitive logsumexp>"


def test_on_traced_values_it_records_one_node_named_after_the_function():
    graph = ad.trace(lambda x: logsumexp(x) * 2.0)(np.ones(3))
    assert [node.primitive.name for node in graph.nodes] == ["input", "logsumexp", "multiply"]
    assert graph.nodes[1].primitive is logsumexp.primitive
    assert "  b:f64[] = logsumexp a" in str(graph)


def test_keyword_arguments_become_hashable_node_params():
    graph = ad.trace(lambda x: scaled_power(x, 1.5, exponent=3))(2.0)
    node = graph.nodes[-1]
    assert node.params == {"exponent": 3}
    assert "scaled_power[exponent=3] a 1.5" in str(graph)

    @ad.primitive
    def pick(x, indices=()):
        return np.sum(x[list(indices)])

    pick.defvjp(
        lambda g, ans, x, indices=(): anp.untake(g * np.ones(len(indices)), tuple(indices), x.shape)
    )
    graph = ad.trace(lambda x: pick(x, indices=[0, 2]))(np.ones(3))
    assert graph.nodes[-1].params == {"indices": (0, 2)}
    hash(graph)
    assert graph(np.array([1.0, 2.0, 4.0])) == 5.0


def test_replay_and_transforms_of_a_graph_with_a_custom_primitive():
    x = np.array([0.5, -1.0, 2.0])
    graph = ad.trace(logsumexp)(np.zeros(3))
    assert graph(x) == pytest.approx(logsumexp(x))
    np.testing.assert_allclose(ad.grad(graph)(x), ad.grad(logsumexp)(x))
    assert ad.trace(logsumexp)(x) == graph


# --------------------------------------------------------------------------------------
# Derivatives, both modes, second order
# --------------------------------------------------------------------------------------


@given(x=vectors)
def test_logsumexp_gradient_is_the_softmax(x):
    softmax = np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x)))
    np.testing.assert_allclose(ad.grad(logsumexp)(x), softmax, rtol=1e-12)
    _, tangent = ad.jvp(logsumexp, (x,), (np.ones_like(x),))
    assert tangent == pytest.approx(1.0, rel=1e-12)


@given(x=vectors)
def test_logsumexp_against_finite_differences_in_both_modes_and_second_order(x):
    check_grads(logsumexp, (x,), order=2)


@given(x=vectors, y=st.floats(-2, 2, allow_subnormal=False))
def test_two_argument_primitive_with_params_in_both_modes(x, y):
    def fun(x, y):
        return scaled_power(x, y, exponent=3)

    check_grads(fun, (x, np.float64(y)), order=2, seed=1)


def test_hessian_of_logsumexp_by_reverse_over_reverse_and_forward_over_reverse():
    x = np.array([0.3, -1.2, 2.0])
    p = np.exp(x - logsumexp(x))
    expected = np.diag(p) - np.outer(p, p)
    rows = [ad.grad(lambda y, i=i: ad.grad(logsumexp)(y)[i])(x) for i in range(3)]
    np.testing.assert_allclose(np.stack(rows), expected, rtol=1e-10, atol=1e-12)
    columns = [ad.jvp(ad.grad(logsumexp), (x,), (np.eye(3)[j],))[1] for j in range(3)]
    np.testing.assert_allclose(np.stack(columns, axis=1), expected, rtol=1e-10, atol=1e-12)


def test_no_perturbation_confusion_through_a_custom_primitive():
    @ad.primitive
    def plus(x, y):
        return x + y

    plus.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: g)
    assert ad.grad(lambda x: x * ad.grad(lambda y: plus(x, y))(2.0))(3.0) == 1.0


def test_rules_redefined_later_apply_to_new_traces_only():
    @ad.primitive
    def double(x):
        return 2.0 * x

    double.defvjp(lambda g, ans, x: g * 2.0)
    before = ad.trace(double)(1.0)
    old_primitive = double.primitive
    double.defvjp(lambda g, ans, x: g * 3.0)  # deliberately wrong, to tell them apart
    assert double.primitive is not old_primitive
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        double.primitive.vjps = ()
    assert ad.grad(before)(1.0) == 2.0
    assert ad.grad(double)(1.0) == 3.0
    assert ad.trace(double)(1.0) != before


def test_integer_argument_without_a_rule_is_fine_when_not_differentiated():
    @ad.primitive
    def power(x, n):
        return x**n

    power.defvjp(lambda g, ans, x, n: g * n * x ** (n - 1), None)
    power.defjvp(lambda t, ans, x, n: t * n * x ** (n - 1), None)
    assert ad.grad(lambda x: power(x, 3))(2.0) == 12.0
    assert ad.jvp(lambda x: power(x, 3), (2.0,), (1.0,))[1] == 12.0


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


@ad.primitive
def half_known(x, y):
    return x * y


half_known.defvjp(lambda g, ans, x, y: g * y, None)
half_known.defjvp(lambda t, ans, x, y: t * y, None)


def test_none_rule_refuses_that_argument_in_reverse_mode():
    assert ad.grad(half_known)(2.0, 3.0) == 3.0
    with pytest.raises(
        NotImplementedError,
        match=r"primitive 'half_known' has no reverse-mode \(VJP\) rule for its "
        r"positional argument 1.*half_known\.defvjp",
    ):
        ad.grad(half_known, argnums=1)(2.0, 3.0)


def test_none_rule_refuses_that_argument_in_forward_mode():
    assert ad.jvp(lambda x: half_known(x, 3.0), (2.0,), (1.0,))[1] == 3.0
    with pytest.raises(
        NotImplementedError,
        match=r"primitive 'half_known' has no forward-mode \(JVP\) rule for its "
        r"positional argument 1.*half_known\.defjvp",
    ):
        ad.jvp(lambda y: half_known(2.0, y), (3.0,), (1.0,))


def test_missing_rules_refuse_differentiation():
    @ad.primitive
    def bare(x, y):
        return x - y

    with pytest.raises(
        NotImplementedError,
        match=r"primitive 'bare' has no reverse-mode "
        r"\(VJP\) rule for its positional argument 0",
    ):
        ad.grad(bare)(1.0, 2.0)
    bare.defvjp(lambda g, ans, x, y: g)
    with pytest.raises(
        NotImplementedError,
        match=r"'bare' has no reverse-mode \(VJP\) rule "
        r"for its positional argument 1",
    ):
        ad.grad(bare, argnums=1)(1.0, 2.0)


def test_forward_mode_without_jvp_rules_names_the_primitive():
    @ad.primitive
    def reverse_only(x):
        return x * 2.0

    reverse_only.defvjp(lambda g, ans, x: g * 2.0)
    assert ad.grad(reverse_only)(1.0) == 2.0
    with pytest.raises(
        NotImplementedError,
        match=r"primitive 'reverse_only' has no forward-mode \(JVP\) rules.*"
        r"reverse_only\.defjvp",
    ):
        ad.jvp(reverse_only, (1.0,), (1.0,))


@pytest.mark.parametrize(
    ("method", "rules", "message"),
    [
        ("defvjp", (), r"logsumexp\.defvjp\(\) needs at least one rule"),
        (
            "defjvp",
            ("rule",),
            r"logsumexp\.defjvp: rule 0 \(for positional argument 0\) must "
            r"be a function or None, got str",
        ),
        (
            "defvjp",
            (None, lambda g, ans, x: g),
            r"logsumexp\.defvjp: got 2 rules, but logsumexp takes only 1 positional argument",
        ),
    ],
)
def test_bad_rule_definitions(method, rules, message):
    before = logsumexp.primitive
    with pytest.raises(TypeError, match=message):
        getattr(logsumexp, method)(*rules)
    assert logsumexp.primitive is before


def test_unhashable_keyword_argument_is_refused():
    with pytest.raises(
        TypeError,
        match=r"custom primitive 'scaled_power': keyword argument "
        r"'exponent' is a ndarray, which is not hashable",
    ):
        ad.grad(lambda x: scaled_power(x, 1.0, exponent=np.array(2)))(1.0)


def test_traced_keyword_argument_is_refused():
    with pytest.raises(
        TypeError,
        match=r"keyword argument 'exponent' is a traced value; .*"
        r"pass values to differentiate as positional",
    ):
        ad.grad(lambda x: scaled_power(1.0, 2.0, exponent=x))(1.0)


def test_traced_values_inside_a_container_argument_are_refused():
    @ad.primitive
    def total(values):
        return sum(values)

    with pytest.raises(
        TypeError,
        match=r"custom primitive 'total': a positional argument is a "
        r"list containing traced values",
    ):
        ad.grad(lambda x: total([x, x]))(1.0)
    assert total([1.0, 2.0]) == 3.0


def test_several_outputs_are_refused():
    @ad.primitive
    def both(x):
        return x, 2.0 * x

    assert both(1.0) == (1.0, 2.0)
    with pytest.raises(
        TypeError,
        match=r"custom primitive 'both' returned a tuple; a "
        r"primitive must return a single array",
    ):
        ad.grad(lambda x: both(x)[0])(1.0)


def test_forward_rules_alone_give_forward_mode_only():
    @ad.primitive
    def forward_only(x):
        return np.sin(x)

    forward_only.defjvp(lambda t, ans, x: t * anp.cos(x))
    assert ad.jvp(forward_only, (0.0,), (2.0,))[1] == 2.0
    with pytest.raises(
        NotImplementedError,
        match=r"'forward_only' has no reverse-mode \(VJP\) "
        r"rule for its positional argument 0",
    ):
        ad.grad(forward_only)(0.0)


# --------------------------------------------------------------------------------------
# What user rules return is checked against the argument (VJP) or the output (JVP)
# --------------------------------------------------------------------------------------


def _doubler():
    @ad.primitive
    def doubler(x):
        return 2.0 * x

    return doubler


def _grad_of_sum(prim, x):
    return ad.grad(lambda x: anp.sum(prim(x)))(x)


@pytest.mark.parametrize(
    ("rule", "error", "message"),
    [
        (
            lambda g, ans, x: [2.0, 2.0, 2.0],
            TypeError,
            r"custom primitive 'doubler': its VJP rule for positional argument 0 returned a "
            r"list; a rule must return the cotangent as an array",
        ),
        (
            lambda g, ans, x: 2.0,
            ValueError,
            r"'doubler': its VJP rule for positional argument 0 returned a cotangent of shape "
            r"\(\), but argument 0 has shape \(3,\); the cotangent must have exactly",
        ),
        (
            lambda g, ans, x: 2.0 * g[:, None],
            ValueError,
            r"returned a cotangent of shape \(3, 1\), but argument 0 has shape \(3,\)",
        ),
        (
            lambda g, ans, x: (2.0 * g).astype(np.float32),
            TypeError,
            r"VJP rule for positional argument 0 returned a cotangent of dtype float32, which is "
            r"of another precision than the argument's; argument 0 has dtype float64",
        ),
        (
            lambda g, ans, x: 2.0 * g + 0j,
            TypeError,
            r"cotangent of dtype complex128, which is complex, but the argument is real",
        ),
        (
            lambda g, ans, x: np.full(3, 2),
            TypeError,
            r"cotangent of dtype int64, which is not a floating-point dtype",
        ),
        (
            lambda g, ans, x, scale=2.0: lambda h: h * scale,
            TypeError,
            r"returned a function; .*It returned a function: a rule written in autograd's "
            r"curried style",
        ),
    ],
)
def test_malformed_vjp_results_are_refused(rule, error, message):
    doubler = _doubler()
    doubler.defvjp(rule)
    with pytest.raises(error, match=message):
        _grad_of_sum(doubler, np.ones(3))


def test_these_results_were_silently_broadcast_before():
    # (3, 1) for (3,) used to give a (3, 1) "gradient"; a scalar, a scalar.
    doubler = _doubler()
    doubler.defvjp(lambda g, ans, x: 2.0 * g[:, None])
    with pytest.raises(ValueError):
        ad.vjp(doubler, np.ones(3))[1](np.ones(3))


@pytest.mark.parametrize(
    ("rule", "error", "message"),
    [
        (
            lambda t, ans, x: 2.0,
            ValueError,
            r"custom primitive 'doubler': its JVP rule for positional argument 0 returned a "
            r"tangent of shape \(\), but the primitive's output has shape \(3,\); .*"
            r"broadcast_to",
        ),
        (
            lambda t, ans, x: 2.0 * t[:, None],
            ValueError,
            r"returned a tangent of shape \(3, 1\), but the primitive's output has shape \(3,\)",
        ),
        (
            lambda t, ans, x: list(2.0 * t),
            TypeError,
            r"its JVP rule for positional argument 0 returned a list",
        ),
        (
            lambda t, ans, x: 2.0 * t + 1j,
            TypeError,
            r"returned a tangent of dtype complex128, but the primitive's output has dtype "
            r"float64; the tangent must be real floating point",
        ),
    ],
)
def test_malformed_jvp_results_are_refused(rule, error, message):
    doubler = _doubler()
    doubler.defjvp(rule)
    with pytest.raises(error, match=message):
        ad.jvp(doubler, (np.ones(3),), (np.ones(3),))


@pytest.mark.parametrize(
    ("x", "rule"),
    [
        (1.0, lambda g, ans, x: 2.0),  # a Python float for a Python float
        (np.float32(1.0), lambda g, ans, x: 2.0),  # weakly typed: takes float32
        (np.array(1.0), lambda g, ans, x: np.float64(2.0) * g),  # a scalar for a 0-d array
        (np.ones(3, np.float32), lambda g, ans, x: 2.0 * g),
        (np.ones(2, np.complex64), lambda g, ans, x: 2.0 * g),
        (np.ones(2, np.complex128), lambda g, ans, x: np.real(2.0 * g)),  # real for complex
    ],
)
def test_well_formed_results_are_accepted(x, rule):
    doubler = _doubler()
    doubler.defvjp(rule)
    if np.iscomplexobj(x):  # a complex intermediate of a real function
        unit = np.ones((), x.dtype)
        out = ad.grad(lambda r: anp.sum(anp.real(doubler(r * unit))))(x.real.copy())
        np.testing.assert_allclose(out, 2.0)
        return
    out = ad.grad(lambda z: anp.sum(doubler(z)))(x)
    np.testing.assert_allclose(out, 2.0)
    assert np.result_type(out) == np.result_type(x)


def test_checked_rules_still_give_higher_derivatives_and_work_under_jit():
    @ad.primitive
    def cube(x):
        return x**3

    cube.defvjp(lambda g, ans, x: g * 3.0 * x**2)
    cube.defjvp(lambda t, ans, x: t * 3.0 * x**2)
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(ad.hessian(lambda x: anp.sum(cube(x)))(x), np.diag(6.0 * x))
    np.testing.assert_allclose(ad.jit(ad.grad(lambda x: anp.sum(cube(x))))(x), 3.0 * x**2)
    ad.testing.check_grads(lambda x: cube(x), (x,))


def test_a_rule_that_raises_is_named_and_chained():
    doubler = _doubler()
    doubler.defvjp(lambda g, ans, x: g * {}["missing"])
    with pytest.raises(
        RuntimeError,
        match=r"custom primitive 'doubler': its VJP rule for "
        r"positional argument 0 raised KeyError",
    ) as info:
        _grad_of_sum(doubler, np.ones(3))
    assert type(info.value.__cause__) is KeyError

    doubler.defjvp(lambda t, ans, x: t / np.zeros(0)[0])
    with pytest.raises(
        IndexError,
        match=r"custom primitive 'doubler': its JVP rule for "
        r"positional argument 0 raised IndexError: ",
    ) as info:
        ad.jvp(doubler, (np.ones(3),), (np.ones(3),))
    assert type(info.value.__cause__) is IndexError


def test_a_rule_with_the_wrong_signature_shows_adfuns_signature():
    @ad.primitive
    def scale(x, factor=2.0):
        return factor * x

    scale.defvjp(lambda g, ans, x: g * 2.0)  # lacks the keyword argument
    with pytest.raises(
        TypeError,
        match=r"custom primitive 'scale': its VJP rule for positional "
        r"argument 0 cannot be called as rule\(g, ans, \*args, "
        r"\*\*kwargs\) \(3 positional argument\(s\) and keyword "
        r"argument\(s\) \['factor'\]\)",
    ) as info:
        ad.grad(lambda x: scale(x, factor=3.0))(1.0)
    assert type(info.value.__cause__) is TypeError


def test_autograd_curried_rules_are_recognised_at_defvjp_time():
    doubler = _doubler()
    before = doubler.primitive
    with pytest.raises(
        TypeError,
        match=r"doubler\.defvjp: rule 0 \(for positional argument 0\) "
        r"takes 2 positional argument\(s\), like autograd's "
        r"curried style .*rule\(g, ans, \*args, \*\*kwargs\).*"
        r"'lambda g, ans, x: \.\.\.'",
    ):
        doubler.defvjp(lambda ans, x: lambda g: 2.0 * g)
    assert doubler.primitive is before
    with pytest.raises(
        TypeError,
        match=r"doubler\.defjvp: rule 0 \(for positional argument 0\) "
        r"takes 1 positional argument\(s\), but it is called as "
        r"rule\(t, ans, \*args, \*\*kwargs\)",
    ):
        doubler.defjvp(lambda t: 2.0 * t)
