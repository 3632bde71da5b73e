"""Random differentiable programs, checked with adfun.testing.check_grads in both modes.

``programs()`` composes the registry's primitives (inputs kept inside every primitive's
declared domain), so this exercises the rules *together*: the chain rule through
broadcasting and reductions, second order through every composition, and the agreement
of forward and reverse mode.  The last test runs check_grads on each primitive of the
registry alone, with the arguments its domain declares.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from hypothesis.extra import numpy as hnp

import adfun.numpy  # noqa: F401 - fills the registry
from adfun._engine.records import Params
from adfun._engine.trace import call_primitive
from adfun.numpy._axes import dtype_of
from adfun.numpy._declare import REGISTRY
from adfun.numpy._examples import draw_example
from adfun.testing import check_grads
from adfun.testing import strategies as ads
from adfun.testing._programs import namespace as program_namespace
from adfun.testing._programs import run_step


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
