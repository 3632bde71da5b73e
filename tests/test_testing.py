"""adfun.testing: check_grads catches wrong rules, names what is wrong; numerical_jacobian;
the Hypothesis strategies."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given

import adfun as ad
import adfun.numpy as anp
from adfun._engine.records import EMPTY_PARAMS, Primitive
from adfun._engine.trace import call_primitive
from adfun.numpy._declare import REGISTRY
from adfun.testing import check_grads, numerical_jacobian
from adfun.testing import strategies as ads
from adfun.testing._programs import Program, inside, operations, run_step
from adfun.testing._programs import namespace as program_namespace

# --------------------------------------------------------------------------------------
# A custom primitive, cube(x) = x**3, with right or deliberately wrong rules
# --------------------------------------------------------------------------------------


def _cube_vjp(g, ans, x):
    return g * 3.0 * x * x


def _cube_jvp(t, ans, x):
    return t * 3.0 * x * x


def _cube_vjp_wrong(g, ans, x):
    return g * 2.0 * x * x


def _cube_jvp_wrong(t, ans, x):
    return t * 2.0 * x * x


def _cube_vjp_first_order_only(g, ans, x):
    # Right value, but the rule is invisible to differentiation: second order is wrong.
    return g * 3.0 * ad.stop_gradient(x * x)


def _cube_jvp_first_order_only(t, ans, x):
    return t * 3.0 * ad.stop_gradient(x * x)


def _cube_jvp_biased(t, ans, x):
    # Off by 5e-7 in every entry: within atol entry by entry, not in a dot product.
    return t * 3.0 * x * x + 5e-7


def make_cube(vjp_rule=_cube_vjp, jvp_rule=_cube_jvp):
    primitive = Primitive("cube", lambda x: x**3, (vjp_rule,), (jvp_rule,))

    def cube(x):
        return call_primitive(primitive, (x,), EMPTY_PARAMS)

    return cube


X = np.array([0.3, -1.2, 0.8])


def test_right_rules_pass_to_third_order():
    cube = make_cube()
    check_grads(lambda x: anp.sin(cube(x)), (X,), order=3)


def test_wrong_vjp_is_caught_in_reverse_mode():
    cube = make_cube(vjp_rule=_cube_vjp_wrong)
    with pytest.raises(
        AssertionError,
        match=r"(?s)check_grads\(cube\): mode 'rev' \(reverse "
        r"mode\), order 1, argument args\[0\]: reverse mode disagrees with "
        r"central finite differences.*<vjp\(u\), v> = .*\(adfun\).*"
        r"<u, central difference along v> = .*eps=1e-06.*exceeds the tolerance "
        r".* = atol 1e-06 \+ rtol 1e-05 \* scale",
    ):
        check_grads(cube, (X,))


def test_wrong_vjp_passes_forward_only_check():
    cube = make_cube(vjp_rule=_cube_vjp_wrong)
    check_grads(cube, (X,), modes=("fwd",))


def test_wrong_jvp_is_caught_in_forward_mode():
    cube = make_cube(jvp_rule=_cube_jvp_wrong)
    check_grads(cube, (X,), modes=("rev",))
    with pytest.raises(
        AssertionError,
        match=r"(?s)check_grads\(cube\): mode 'fwd' \(forward "
        r"mode\), order 1, argument args\[0\]: forward mode disagrees with "
        r"central finite differences at out\[\d\] \(3 of 3 entries\).*"
        r"jvp\(v\) = .*central difference along v = .*tolerance",
    ):
        check_grads(cube, (X,))


def test_the_two_numbers_in_the_message_are_the_analytic_and_numeric_values():
    cube = make_cube(vjp_rule=_cube_vjp_wrong)
    with pytest.raises(AssertionError) as info:
        check_grads(cube, (1.0,), modes=("rev",))
    lines = str(info.value).splitlines()
    analytic = float(lines[1].split("=")[1].split()[0])
    numeric = float(lines[2].split("=")[1].split()[0])
    # d/dx x**3 at 1 is 3; the wrong rule says 2: <vjp(u), v> = 2uv, <u, J v> = 3uv.
    assert analytic / numeric == pytest.approx(2.0 / 3.0, rel=1e-6)


def test_second_order_errors_need_order_two():
    cube = make_cube(vjp_rule=_cube_vjp_first_order_only)
    check_grads(cube, (X,), modes=("rev",), order=1)
    with pytest.raises(
        AssertionError,
        match=r"check_grads of the derivative function "
        r"x -> <w, vjp\(cube, x\)\(u\)>: mode 'rev' \(reverse mode\), order 2, "
        r"argument args\[0\]",
    ):
        check_grads(cube, (X,), modes=("rev",), order=2)


def test_second_order_errors_in_forward_rules():
    cube = make_cube(jvp_rule=_cube_jvp_first_order_only)
    check_grads(cube, (X,), modes=("fwd",), order=1)
    with pytest.raises(
        AssertionError,
        match=r"check_grads of the derivative function "
        r"x -> jvp\(cube, x, w\): mode 'fwd' \(forward mode\), order 2, "
        r"argument args\[0\]",
    ):
        check_grads(cube, (X,), modes=("fwd",), order=2)


def test_third_order_description_nests():
    # square's rule hides its own derivative, so cube (whose rule uses square) is right to
    # second order and wrong at third order.
    square = Primitive(
        "square", lambda x: x * x, (lambda g, ans, x: g * 2.0 * ad.stop_gradient(x),), None
    )
    cube = make_cube(
        vjp_rule=lambda g, ans, x: g * 3.0 * call_primitive(square, (x,), EMPTY_PARAMS)
    )
    check_grads(cube, (X,), modes=("rev",), order=2)
    with pytest.raises(
        AssertionError,
        match=r"check_grads of the derivative function "
        r"x -> <w, vjp\(x -> <w, vjp\(cube, x\)\(u\)>, x\)\(u\)>: mode 'rev' "
        r"\(reverse mode\), order 3",
    ):
        check_grads(cube, (X,), modes=("rev",), order=3)


def test_modes_disagreeing_within_entrywise_tolerance_fail_the_dot_product_test():
    cube = make_cube(jvp_rule=_cube_jvp_biased)
    x = np.linspace(-1.0, 1.0, 1000)
    check_grads(cube, (x,), modes=("fwd",), order=1, rtol=0.0, atol=1e-6)
    check_grads(cube, (x,), modes=("rev",), order=1, rtol=0.0, atol=1e-6)
    with pytest.raises(
        AssertionError,
        match=r"(?s)check_grads\(cube\): modes 'fwd' and 'rev', "
        r"order 1, argument args\[0\]: forward mode \('fwd'\) and reverse mode "
        r"\('rev'\) disagree.*<u, jvp\(v\)> = .*<vjp\(u\), v> = ",
    ):
        check_grads(cube, (x,), order=1, rtol=0.0, atol=1e-6)


def test_nan_and_infinite_derivatives_fail():
    # sqrt'(0) is inf and the central difference at 0 is NaN: never a silent pass.
    x = np.array([0.0, 1.0])
    with np.errstate(divide="ignore", invalid="ignore"):  # the rule divides by sqrt(0)
        with pytest.raises(
            AssertionError,
            match=r"(?s)mode 'rev' .* = (nan|-?inf).*a value is "
            r"not finite \(NaN or infinite derivatives never pass\)",
        ):
            check_grads(anp.sqrt, (x,), order=1)
        with pytest.raises(AssertionError, match=r"mode 'fwd' .* at out\[0\] \(1 of 2 "):
            check_grads(anp.sqrt, (x,), modes=("fwd",), order=1)


def test_the_check_is_deterministic_for_a_seed():
    cube = make_cube(vjp_rule=_cube_vjp_wrong)
    messages = set()
    for seed in (0, 0, 1):
        with pytest.raises(AssertionError) as info:
            check_grads(cube, (X,), seed=seed)
        messages.add(str(info.value))
    assert len(messages) == 2


def test_a_public_custom_primitive_with_a_wrong_rule():
    @ad.primitive
    def logsumexp(x):
        m = anp.max(x)
        return m + anp.log(anp.sum(anp.exp(x - m)))

    logsumexp.defvjp(lambda g, ans, x: g * anp.exp(x))  # forgot "- ans"
    logsumexp.defjvp(lambda t, ans, x: anp.sum(t * anp.exp(x - ans)))
    x = np.array([0.5, -1.0, 2.0])
    check_grads(logsumexp, (x,), modes=("fwd",))
    with pytest.raises(AssertionError, match=r"check_grads\(logsumexp\): mode 'rev'"):
        check_grads(logsumexp, (x,))


# --------------------------------------------------------------------------------------
# Pytrees, constants, Python floats
# --------------------------------------------------------------------------------------


def test_pytree_path_names_the_wrong_leaf():
    cube = make_cube(vjp_rule=_cube_vjp_wrong)

    def model(params, data):
        return anp.tanh(params["w"] * data[2]) + cube(params["b"])

    params = {"w": np.array([0.5, -0.25]), "b": np.array([0.1, 0.7])}
    data = [1.0, "label", np.array([1.0, 2.0])]
    check_grads(model, (params, data), modes=("fwd",))
    with pytest.raises(AssertionError, match=r"argument args\[0\]\['b'\]: reverse mode"):
        check_grads(model, (params, data))


def test_pytree_path_in_a_list_argument():
    cube = make_cube(jvp_rule=_cube_jvp_wrong)
    with pytest.raises(AssertionError, match=r"mode 'fwd' .* argument args\[1\]\[1\]: forward"):
        check_grads(lambda a, pair: a * pair[0] + cube(pair[1]), (0.5, [0.2, 0.9]))


def test_pytree_outputs_are_checked_leaf_by_leaf():
    cube = make_cube(jvp_rule=_cube_jvp_wrong)

    def fun(x):
        return {"ok": anp.sin(x), "bad": (x * 2.0, cube(x))}

    check_grads(fun, (X,), modes=("rev",))
    with pytest.raises(AssertionError, match=r"at out\['bad'\]\[1\]\[\d\]"):
        check_grads(fun, (X,), modes=("fwd",))


def test_python_floats_and_integer_constants():
    check_grads(lambda x, n: x**n * anp.exp(x), (0.7, 3))
    check_grads(lambda x, k: anp.sum(anp.sin(x) * k), (X, np.arange(3)))


def test_zero_dimensional_arrays_and_constant_outputs():
    check_grads(lambda x: anp.exp(x) * x, (np.array(0.4),))
    check_grads(lambda x: (x * 2.0, 1.5), (X,))


def test_non_float_output_leaves_are_ignored():
    check_grads(lambda x: (anp.sin(x), anp.argmax(x)), (X,))


# --------------------------------------------------------------------------------------
# float32
# --------------------------------------------------------------------------------------


def test_float32_arguments_pass_with_the_float32_defaults():
    x = np.array([0.3, -1.2, 0.8, 2.0], dtype=np.float32)
    check_grads(lambda x: anp.sum(anp.exp(anp.sin(x)) * x) / anp.tanh(x), (x,))


def test_float32_default_tolerances_are_looser_and_stated_in_messages():
    cube = make_cube(vjp_rule=_cube_vjp_wrong)
    x = np.array([0.3, -1.2, 0.8], dtype=np.float32)
    with pytest.raises(AssertionError, match=r"(?s)eps=1e-06.* = atol 0.0002 \+ rtol 0.002 "):
        check_grads(cube, (x,))


def test_float32_functions_get_a_float32_step():
    cube = make_cube(vjp_rule=_cube_vjp_wrong)

    def stays_float32(x):
        return cube(anp.astype(x, np.float32))

    x = np.array([0.3, -1.2, 0.8], dtype=np.float32)
    check_grads(lambda x: anp.sin(anp.astype(x, np.float32)), (x,))
    with pytest.raises(AssertionError, match=r"eps=0.001"):
        check_grads(stays_float32, (x,))


def test_gradient_dtype_and_shape_are_checked(monkeypatch):
    import adfun.testing._check as check_module

    def float64_vjp(fun, *primals):
        out, vjp_fn = ad.vjp(fun, *primals)
        return out, lambda ct: tuple(np.asarray(g, np.float64) for g in vjp_fn(ct))

    def wrong_shape_jvp(fun, primals, tangents):
        out, tangent = ad.jvp(fun, primals, tangents)
        return out, np.append(tangent, 0.0)

    x = np.array([0.3, -1.2], dtype=np.float32)
    monkeypatch.setattr(check_module, "vjp", float64_vjp)
    with pytest.raises(
        AssertionError,
        match=r"mode 'rev' .* the gradient has shape \(2,\) and "
        r"dtype float64, expected shape \(2,\) and dtype float32",
    ):
        check_grads(anp.sin, (x,), order=1)
    monkeypatch.setattr(check_module, "vjp", ad.vjp)
    monkeypatch.setattr(check_module, "jvp", wrong_shape_jvp)
    with pytest.raises(
        AssertionError,
        match=r"mode 'fwd' .* the tangent of out has shape "
        r"\(3,\)",
    ):
        check_grads(anp.sin, (x.astype(float),), order=1)


# --------------------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------------------


def test_args_must_be_a_tuple():
    with pytest.raises(
        TypeError,
        match=r"args must be a tuple \(or list\) .* got ndarray; for "
        r"a single argument x write check_grads\(fun, \(x,\)\)",
    ):
        check_grads(anp.sin, X)


# --------------------------------------------------------------------------------------
# numerical_jacobian
# --------------------------------------------------------------------------------------


def test_numerical_jacobian_of_a_linear_map():
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(numerical_jacobian(lambda x: a @ x, X), a, atol=1e-8)


def test_numerical_jacobian_layout_matrix_in_vector_out():
    x = np.arange(6.0).reshape(2, 3)
    jacobian = numerical_jacobian(lambda m: np.sum(m**2, axis=0), x)
    assert jacobian.shape == (3, 2, 3)
    expected = np.zeros((3, 2, 3))
    for i in range(3):
        expected[i, :, i] = 2.0 * x[:, i]
    np.testing.assert_allclose(jacobian, expected, atol=1e-7)


def test_numerical_jacobian_scalar_cases():
    assert numerical_jacobian(np.sin, 0.5).shape == ()
    assert numerical_jacobian(np.sin, 0.5) == pytest.approx(np.cos(0.5), abs=1e-9)
    gradient = numerical_jacobian(lambda x: np.sum(x**3), X)
    np.testing.assert_allclose(gradient, 3 * X**2, atol=1e-8)
    column = numerical_jacobian(lambda t: np.array([t, t**2]), 1.5)
    np.testing.assert_allclose(column, [1.0, 3.0], atol=1e-8)


def test_numerical_jacobian_float32_is_computed_in_float64():
    x = np.array([0.5, 2.0], dtype=np.float32)
    jacobian = numerical_jacobian(lambda x: np.exp(x), x)
    assert jacobian.dtype == np.float64
    np.testing.assert_allclose(jacobian, np.diag(np.exp(x.astype(float))), rtol=1e-8)


def test_numerical_jacobian_agrees_with_reverse_mode():
    def fun(x):
        return anp.tanh(x) * anp.sum(x**2)

    _, vjp_fn = ad.vjp(fun, X)
    rows = np.stack([vjp_fn(row)[0] for row in np.eye(3)])
    np.testing.assert_allclose(numerical_jacobian(fun, X), rows, rtol=1e-6, atol=1e-8)


def test_numerical_jacobian_errors():
    with pytest.raises(
        TypeError,
        match=r"numerical_jacobian: x must be a float or a float "
        r"array, got ndarray of dtype int64; convert it first",
    ):
        numerical_jacobian(np.sin, np.arange(3))
    with pytest.raises(
        TypeError,
        match=r"numerical_jacobian: <lambda> must return a single "
        r"array or float, but it returned a tuple",
    ):
        numerical_jacobian(lambda x: (x, x), X)


# --------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------


@given(ads.floats(-2.5, 1.0))
def test_floats_stay_in_range(value):
    assert isinstance(value, float) and -2.5 <= value <= 1.0


@given(ads.shapes(min_dims=1, max_dims=2, max_side=3))
def test_shapes_stay_in_bounds(shape):
    assert 1 <= len(shape) <= 2 and all(1 <= side <= 3 for side in shape)


@given(ads.arrays())
def test_arrays_default_is_float64_with_random_shape(array):
    assert array.dtype == np.float64 and array.ndim <= 3
    assert np.all(np.abs(array) <= 10)


@given(ads.arrays((2, 3), dtype=np.float32, elements=ads.floats(0, 1, width=32)))
def test_arrays_with_given_shape_dtype_and_elements(array):
    assert array.shape == (2, 3) and array.dtype == np.float32
    assert np.all((array >= 0) & (array <= 1))


@given(ads.broadcastable_shapes(num_shapes=3, max_dims=2, max_side=3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3 and all(len(shape) <= 2 for shape in shapes)
    np.broadcast_shapes(*shapes)


def test_programs_use_the_registry():
    names = {operation.name for operation in operations()}
    assert {"add", "multiply", "exp", "log", "sum", "max", "maximum", "divide"} <= names
    assert not names & {"equal", "floor", "argmax", "getitem", "reshape"}
    for operation in operations():
        assert REGISTRY[operation.name].primitive is operation.primitive


@given(ads.programs(max_ops=8, num_args=2))
def test_program_repr_is_its_source(program_and_args):
    program, args = program_and_args
    assert isinstance(program, Program) and len(args) == 2
    namespace = program_namespace()
    exec(repr(program), namespace)  # noqa: S102 - the listing is runnable Python
    expected = program(*args)
    got = namespace["program"](*args)
    assert type(got) is type(expected)
    for got_leaf, expected_leaf in zip(
        got if isinstance(got, tuple) else (got,),
        expected if isinstance(got, tuple) else (expected,),
    ):
        np.testing.assert_array_equal(got_leaf, expected_leaf)
    assert repr(program).startswith("def program(x0, x1):\n")


@given(ads.programs(max_ops=10, num_args=2))
def test_programs_keep_every_primitive_inside_its_domain(program_and_args):
    program, args = program_and_args
    env = {f"x{index}": arg for index, arg in enumerate(args)}
    by_name = {operation.name: operation for operation in operations()}
    for step in program.steps:
        operation = by_name.get(step.name)
        if operation is not None and operation.kind == "elementwise":
            for operand, (low, high) in zip(step.operands, operation.ranges):
                value = env[operand] if isinstance(operand, str) else operand
                assert inside(value, low, high, operation.magnitude, margin=0.0), (step, value)
        env[step.target] = run_step(step, env)
        assert np.all(np.isfinite(env[step.target]))


def test_program_call_checks_arity():
    program = Program(2, (), ("x1",))
    assert program(1.0, 2.0) == 2.0
    with pytest.raises(TypeError, match=r"program takes 2 positional argument\(s\) but 1 were"):
        program(1.0)


def test_a_program_listing():
    from adfun._engine.records import Params
    from adfun.testing._programs import Step

    program = Program(
        1,
        (
            Step("v0", "exp", ("x0",)),
            Step("v1", "squash", ("v0",), Params(low=0.2, high=4.0, into="log")),
            Step("v2", "log", ("v1",)),
            Step("v3", "sum", ("v2",), Params(axis=(0,), keepdims=True)),
            Step("v4", "multiply", ("v3", 1.5)),
        ),
        ("v4",),
    )
    assert repr(program) == textwrap.dedent("""\
        def program(x0):
            v0 = exp(x0)
            v1 = 0.2 + 1.9 * (tanh(v0) + 1.0)  # into [0.2, 4.0] for log
            v2 = log(v1)
            v3 = sum(v2, axis=(0,), keepdims=True)
            v4 = multiply(v3, 1.5)
            return v4""")
    x = np.array([0.5, 2.0])
    expected = 1.5 * np.sum(np.log(0.2 + 1.9 * (np.tanh(np.exp(x)) + 1.0)), keepdims=True)
    np.testing.assert_allclose(program(x), expected)
    check_grads(program, (x,))


@given(ads.programs(max_ops=6, num_args=2))
def test_check_grads_catches_a_wrong_rule_inside_a_random_program(program_and_args):
    program, args = program_and_args
    check_grads(program, args, order=1)
    cube = make_cube(vjp_rule=_cube_vjp_wrong)

    def with_wrong_step(*call_args):
        return program(*call_args), cube(anp.exp(call_args[0]))

    with pytest.raises(AssertionError, match=r"mode 'rev' .* argument args\[0\]: reverse"):
        check_grads(with_wrong_step, args, modes=("rev",), order=1)


def test_failing_programs_are_shown_as_source_by_hypothesis():
    from hypothesis import Phase, settings

    @settings(max_examples=5, database=None, phases=[Phase.generate])
    @given(ads.programs(max_ops=3))
    def always_fails(program_and_args):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom") as info:
        always_fails()
    report = "\n".join(getattr(info.value, "__notes__", []))
    assert "def program(x0):" in report and "return v" in report, report


# --------------------------------------------------------------------------------------
# Imports
# --------------------------------------------------------------------------------------


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )


def test_importing_adfun_does_not_import_hypothesis():
    result = _run("""
        import sys
        import adfun
        assert adfun.testing.check_grads is not None
        assert "hypothesis" not in sys.modules, "hypothesis was imported"
        adfun.testing.strategies
        assert "hypothesis" in sys.modules
    """)
    assert result.returncode == 0, result.stderr


def test_strategies_without_hypothesis_explain_how_to_install_it():
    result = _run("""
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "hypothesis" or name.startswith("hypothesis."):
                    raise ImportError("No module named 'hypothesis' (blocked)")

        sys.meta_path.insert(0, Block())
        import adfun
        from adfun.testing import check_grads
        check_grads(lambda x: x * x, (2.0,))
        try:
            from adfun.testing import strategies
        except ImportError as error:
            print(error)
        else:
            raise SystemExit("no ImportError")
    """)
    assert result.returncode == 0, result.stderr
    assert "adfun.testing.strategies needs the Hypothesis library" in result.stdout
    assert "install it with `python -m pip install hypothesis`" in result.stdout
    assert "adfun[" not in result.stdout  # adfun is not on an index: name what to install


# --------------------------------------------------------------------------------------
# Engine regressions these tools found
# --------------------------------------------------------------------------------------


def test_real_input_feeding_a_python_complex_constant():
    # np.float64 is a float subclass, so 1j * np.float64(g) is a Python complex: the
    # cotangent of ``im`` must still be reduced to its real part (0-d arrays, scalar seed).
    def fun(re, im):
        return anp.real(re + 1j * im)

    x = np.array(0.5)
    out, vjp_fn = ad.vjp(fun, x, x)
    assert vjp_fn(np.float64(1.0)) == (np.array(1.0), np.array(0.0))
    check_grads(fun, (x, x))
