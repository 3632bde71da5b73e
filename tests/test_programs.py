"""Random differentiable programs, checked with adfun.testing.check_grads in both modes.

``programs()`` composes the registry's primitives (inputs kept inside every primitive's
declared domain), so this exercises the rules *together*: the chain rule through
broadcasting and reductions, second order through every composition, and the agreement
of forward and reverse mode.  The last test runs check_grads on each primitive of the
registry alone, with the arguments its domain declares.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy
import adfun.numpy as anp
from adfun._engine.records import Params
from adfun._engine.trace import call_primitive
from adfun.numpy._axes import dtype_of
from adfun.numpy._declare import REGISTRY
from adfun.numpy._examples import draw_example
from adfun.testing import check_grads
from adfun.testing import strategies as ads
from adfun.testing._programs import (
    COMPLEX_OPERATIONS,
    Program,
    Step,
    bounded,
    in_box,
    inside,
    operations,
    run_step,
)
from adfun.testing._programs import namespace as program_namespace


@given(ads.programs())
def test_random_programs_of_one_argument(program_and_args):
    program, args = program_and_args
    check_grads(program, args, modes=("fwd", "rev"), order=2)


@given(ads.programs(max_ops=8, num_args=3))
def test_random_programs_of_three_arguments(program_and_args):
    program, args = program_and_args
    check_grads(program, args, modes=("fwd", "rev"), order=2)


@settings(max_examples=10)
@given(ads.programs(max_ops=8, num_args=2))
def test_random_programs_in_float32(program_and_args):
    program, args = program_and_args
    args32 = tuple(
        np.asarray(arg, np.float32) if isinstance(arg, np.ndarray) else np.float32(arg)
        for arg in args
    )
    check_grads(program, args32, order=2)  # float32 tolerances, differences in float64


@settings(max_examples=10)
@given(ads.programs(max_ops=6, num_args=2))
def test_random_programs_with_pytree_arguments(program_and_args):
    program, (first, second) = program_and_args

    def on_pytree(params):
        return {"out": program(params["a"], params["rest"][0])}

    check_grads(on_pytree, ({"a": first, "rest": [second]},), order=2)


# --- every primitive alone ----------------------------------------------------------

DIFFERENTIABLE = sorted(
    name
    for name, fun in REGISTRY.items()
    if not fun.primitive.nondiff and fun.primitive.domain is not None
)


@st.composite
def _examples(draw, primitive):
    return draw_example(draw, st, hnp, primitive)


def _differentiable_positions(primitive, args):
    rules = primitive.vjps
    return [
        position
        for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray)
        and arg.dtype.kind in "fc"
        and (position >= len(rules) or rules[position] is not None)
    ]


def _real_view(fun, args):
    """``fun`` and ``args`` with every complex argument passed as its real and imaginary
    parts and a complex output returned as ``(real, imag)``: check_grads takes reals."""
    is_complex = [arg.dtype.kind == "c" for arg in args]
    flat = []
    for arg, complex_arg in zip(args, is_complex):
        flat.extend([np.array(arg.real), np.array(arg.imag)] if complex_arg else [arg])

    def realified(*flat_args):
        parts = iter(flat_args)
        rebuilt = [
            next(parts) + 1j * next(parts) if complex_arg else next(parts)
            for complex_arg in is_complex
        ]
        out = fun(*rebuilt)
        if dtype_of(out).kind == "c":
            return adfun.numpy.real(out), adfun.numpy.imag(out)
        return out

    return realified, tuple(flat)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@settings(max_examples=5)
@given(data=st.data())
def test_check_grads_on_every_primitive(name, data):
    primitive = REGISTRY[name].primitive
    args, params = data.draw(_examples(primitive), label="args, params")
    positions = _differentiable_positions(primitive, args)
    constants = {position: arg for position, arg in enumerate(args) if position not in positions}
    frozen = Params(params)

    def fun(*differentiated):
        full = list(differentiated)
        for position in sorted(constants):
            full.insert(position, constants[position])
        return call_primitive(primitive, tuple(full), frozen)

    fun, flat = _real_view(fun, [args[position] for position in positions])
    check_grads(fun, flat, order=2 if primitive.domain.smooth else 1)


# --- value-dependent steps ----------------------------------------------------------


@settings(max_examples=10)
@given(ads.programs(max_ops=8, num_args=2, value_dependent=True))
def test_value_dependent_programs_run_as_their_listing(program_and_args):
    program, args = program_and_args
    scope = program_namespace()
    exec(repr(program), scope)  # noqa: S102 - the listing is runnable Python
    expected = program(*args)
    got = scope["program"](*args)
    for got_leaf, expected_leaf in zip(
        got if isinstance(got, tuple) else (got,),
        expected if isinstance(got, tuple) else (expected,),
    ):
        np.testing.assert_array_equal(got_leaf, expected_leaf)


@pytest.mark.parametrize(
    "step, name",
    [("sort", "sort"), ("argsort", "argsort"), ("argmax", "getitem"), ("where", "where")],
)
def test_each_value_dependent_step_is_drawn(step, name):
    program, _ = find(
        ads.programs(max_ops=6, value_dependent=(step,)),
        lambda drawn: any(line.name == name for line in drawn[0].steps),
        settings=settings(database=None, max_examples=500),
    )
    assert f"= {name}(" in repr(program)


def _max_at_a_tie(drawn):
    program, args = drawn
    env = {f"x{index}": arg for index, arg in enumerate(args)}
    for step in program.steps:
        if step.name == "max" and step.params["axis"] is None:
            value = np.asarray(env[step.operands[0]])
            if np.sum(value == value.max()) > 1:
                return True
        env[step.target] = run_step(step, env)
    return False


def test_ties_are_allowed_only_when_asked():
    program, _ = find(
        ads.programs(max_ops=3, value_dependent=("ties",)),
        _max_at_a_tie,
        settings=settings(database=None, max_examples=2000),
    )
    assert "max(" in repr(program)
    with pytest.raises(NoSuchExample):
        find(
            ads.programs(max_ops=3),
            _max_at_a_tie,
            settings=settings(database=None, max_examples=300),
        )


# --- complex intermediates ------------------------------------------------------------


def _values(program, args):
    """The value of every variable of ``program`` at ``args``, step by step."""
    env = {f"x{index}": arg for index, arg in enumerate(args)}
    for step in program.steps:
        env[step.target] = run_step(step, env)
    return env


@settings(max_examples=15)
@given(ads.programs(max_ops=8, num_args=2, complex_intermediates=True))
def test_programs_with_complex_intermediates(program_and_args):
    program, args = program_and_args
    out = program(*args)
    assert np.ndim(out) == 0 and not np.iscomplexobj(out)
    check_grads(program, args, modes=("fwd", "rev"), order=2)
    for arg, gradient in zip(args, ad.grad(program, argnums=(0, 1))(*args)):
        assert np.iscomplexobj(gradient) == np.iscomplexobj(arg)


@settings(max_examples=10)
@given(ads.programs(max_ops=8, num_args=2, holomorphic=True))
def test_holomorphic_programs(program_and_args):
    program, args = program_and_args
    assert all(np.iscomplexobj(arg) for arg in args)
    out = program(*args)
    assert np.ndim(out) == 0 and np.iscomplexobj(out)
    check_grads(program, args, modes=("fwd", "rev"), order=2)
    # Holomorphic: the derivative along i*v is i times the derivative along v.
    tangent = np.ones_like(args[0])
    along = ad.jvp(lambda z: program(z, args[1]), (args[0],), (tangent,))[1]
    rotated = ad.jvp(lambda z: program(z, args[1]), (args[0],), (1j * tangent,))[1]
    np.testing.assert_allclose(rotated, 1j * along, rtol=1e-9, atol=1e-12)
    gradient = ad.grad(program, holomorphic=True)(*args)
    np.testing.assert_allclose(np.sum(gradient * tangent), along, rtol=1e-9, atol=1e-12)


@settings(max_examples=10)
@given(ads.programs(max_ops=8, num_args=2, complex_intermediates=True, value_dependent=True))
def test_complex_programs_with_value_dependent_steps_under_jit(program_and_args):
    program, args = program_and_args
    eager = ad.value_and_grad(program, argnums=(0, 1))(*args)
    staged = ad.value_and_grad(ad.jit(program), argnums=(0, 1))(*args)
    np.testing.assert_allclose(staged[0], eager[0], rtol=1e-12)
    for got, expected in zip(staged[1], eager[1]):
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def _complex_programs_drawn():
    return ads.programs(max_ops=10, num_args=2, complex_intermediates=True)


@settings(max_examples=15)
@given(_complex_programs_drawn())
def test_complex_steps_stay_inside_their_boxes(program_and_args):
    program, args = program_and_args
    boxes = {operation.name: operation.boxes for operation in COMPLEX_OPERATIONS}
    ranges = {operation.name: operation for operation in operations()}
    env = {f"x{index}": arg for index, arg in enumerate(args)}
    for step in program.steps:
        for slot, box in enumerate(boxes.get(step.name, ())):
            operand = step.operands[slot]
            value = env[operand] if isinstance(operand, str) else operand
            if box is None or in_box(value, box, margin=0.0):
                continue
            # Only a real value may be outside the box: one inside the range of the
            # real operation of that name (tests above check those).
            real = ranges[step.name]
            low, high = real.ranges[slot]
            assert not np.iscomplexobj(value), (step, value)
            assert inside(value, low, high, real.magnitude, margin=0.0), (step, value)
        env[step.target] = run_step(step, env)
        assert np.all(np.isfinite(env[step.target])), step
        if step.name in boxes and step.name not in ("add", "real"):
            assert bounded(env[step.target]), step


@settings(max_examples=10)
@given(_complex_programs_drawn())
def test_complex_program_listings_and_run_give_the_same_values(program_and_args):
    program, args = program_and_args
    scope = program_namespace()
    exec(repr(program), scope)  # noqa: S102 - the listing is runnable Python
    expected = program(*args)
    assert scope["program"](*args) == expected
    assert program.run(scope, *args) == expected
    # Steps from adfun.scipy (drawn once another test module has imported it) are not
    # attributes of adfun.numpy.
    if all(
        step.name in ("squash", "csquash") or _in_adfun_numpy(step.name) for step in program.steps
    ):
        assert program.run(anp, *args) == pytest.approx(expected, rel=1e-12)


def _in_adfun_numpy(name):
    node = anp
    for part in name.split("."):
        node = getattr(node, part, None)
        if node is None:
            return False
    return True


def test_each_complex_step_is_drawn():
    wanted = {"csquash", "matmul", "fft.fft", "fft.ifft", "angle", "conjugate", "log"}
    seen: set = set()

    def more(drawn):
        seen.update(step.name for step in drawn[0].steps)
        return wanted <= seen

    find(
        ads.programs(max_ops=10, complex_intermediates=True),
        more,
        settings=settings(database=None, max_examples=2000),
    )
    assert wanted <= seen


def test_programs_without_the_option_stay_real():
    def complex_anywhere(drawn):
        program, args = drawn
        env = _values(program, args)
        return any(np.iscomplexobj(value) for value in env.values())

    with pytest.raises(NoSuchExample):
        find(
            ads.programs(max_ops=10, num_args=2, value_dependent=True),
            complex_anywhere,
            settings=settings(database=None, max_examples=200),
        )


def test_a_complex_program_listing():
    program = Program(
        1,
        (
            Step("v0", "multiply", ("x0", 1j)),
            Step("v1", "exp", ("v0",)),
            Step("v2", "matmul", ("v1", ((1.0, 1j), (0.5, 0.5 - 2j)))),
            Step("v3", "csquash", ("v2",), Params(box=(0.2, 4.0, -4.0, 4.0), into="log")),
            Step("v4", "log", ("v3",)),
            Step("v5", "fft.fft", ("v4",), Params(n=2, axis=-1, norm="backward")),
            Step("v6", "angle", ("v5",)),
            Step("v7", "sum", ("v6",), Params(axis=None, keepdims=False)),
        ),
        ("v7",),
    )
    assert repr(program) == textwrap.dedent("""\
        def program(x0):
            v0 = multiply(x0, 1j)
            v1 = exp(v0)
            v2 = matmul(v1, array([[1.0, 1j], [0.5, (0.5-2j)]]))
            v3 = 0.2 + 1.9 * (tanh(real(v2)) + 1.0) + 1j * (-4.0 + 4.0 * (tanh(imag(v2)) + 1.0))  # into [0.2, 4.0] + [-4.0, 4.0]j for log
            v4 = log(v3)
            v5 = fft.fft(v4, n=2, axis=-1, norm='backward')
            v6 = angle(v5)
            v7 = sum(v6, axis=None, keepdims=False)
            return v7""")  # noqa: E501 - the listing's line
    x = np.array([0.5, -1.0])
    w = np.exp(1j * x) @ np.array([[1.0, 1j], [0.5, 0.5 - 2j]])
    squashed = 0.2 + 1.9 * (np.tanh(w.real) + 1.0) + 1j * (-4.0 + 4.0 * (np.tanh(w.imag) + 1.0))
    expected = np.sum(np.angle(np.fft.fft(np.log(squashed))))
    np.testing.assert_allclose(program(x), expected)
    np.testing.assert_allclose(program.run(np, x), expected)
    check_grads(program, (x,))


@pytest.mark.parametrize(
    "keywords, message",
    [
        (
            {"complex_intermediates": "yes"},
            r"programs: complex_intermediates must be True or False, got 'yes'",
        ),
        ({"holomorphic": 1}, r"programs: holomorphic must be True or False, got 1"),
        (
            {"holomorphic": True, "value_dependent": ("sort",)},
            r"programs: holomorphic programs take no value-dependent steps .* leave it out",
        ),
    ],
)
def test_invalid_complex_options(keywords, message):
    with pytest.raises(ValueError, match=message):
        ads.programs(**keywords)


def test_program_run_checks_arity():
    program = Program(2, (), ("x1",))
    assert program.run(np, 1.0, 2.0) == 2.0
    with pytest.raises(TypeError, match=r"program takes 2 positional argument\(s\) but 3 were"):
        program.run(np, 1.0, 2.0, 3.0)
