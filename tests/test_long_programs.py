"""The long property run: random ``programs()`` checked in both modes and at second order.

In the default ``ci`` profile this runs a few derandomized examples, like every other
property test.  The long run is by hand, on its own profile (see ``tests/conftest.py``)::

    python -m pytest tests/test_long_programs.py --hypothesis-profile=long -x \\
        --hypothesis-show-statistics

which draws 10,000 programs per test: of one to three arguments and up to 12 operations
(in float64 and in float32), and of one or two arguments and up to 24
operations.  The last test stages programs with value-dependent steps (``sort``, gathers
at ``argsort``/``argmax``, ``where`` with a comparison mask, ``max``/``min`` at ties) with
``ad.jit`` and calls them on new arguments, against the eager program and gradient (10
examples in CI).
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy as anp
from adfun.testing import check_grads
from adfun.testing import strategies as ads
from adfun.testing._programs import VALUE_DEPENDENT

_PROGRAMS = st.integers(1, 3).flatmap(lambda num_args: ads.programs(max_ops=12, num_args=num_args))


@given(_PROGRAMS)
def test_long_run_of_random_programs(program_and_args):
    program, args = program_and_args
    check_grads(program, args, modes=("fwd", "rev"), order=2)


_DEEP_PROGRAMS = st.integers(1, 2).flatmap(
    lambda num_args: ads.programs(max_ops=24, num_args=num_args)
)


@given(_DEEP_PROGRAMS)
def test_long_run_of_deep_random_programs(program_and_args):
    program, args = program_and_args
    check_grads(program, args, modes=("fwd", "rev"), order=2)


@given(st.integers(1, 3).flatmap(lambda num_args: ads.programs(max_ops=12, num_args=num_args)))
def test_long_run_of_random_programs_in_float32(program_and_args):
    """Both modes to second order in float32.  The long run once found second derivatives
    through a saturated ``tanh`` off by a third (``1 - tanh(x)**2`` formed from a float32
    ``tanh(x)`` near 1); the rule now uses ``sech(x)**2`` from ``x`` below double
    precision."""
    program, args = program_and_args
    args32 = tuple(
        np.asarray(arg, np.float32) if isinstance(arg, np.ndarray) else np.float32(arg)
        for arg in args
    )
    check_grads(program, args32, modes=("fwd", "rev"), order=2)


# --- jit against eager on programs with value-dependent steps --------------------------
#: Every value-dependent step: staged programs recompute each of them.
STAGED_STEPS = tuple(VALUE_DEPENDENT)
_STAGED_EXAMPLES = 10 if settings.default.max_examples <= 25 else settings.default.max_examples


@st.composite
def _same_shapes(draw, args):
    """New arguments of the shapes and types of ``args``: values in [-3, 3], or drawn
    from two values (ties)."""
    pool = draw(st.lists(ads.floats(-3.0, 3.0), min_size=1, max_size=2))
    elements = st.one_of(ads.floats(-3.0, 3.0), st.sampled_from(pool))
    new = []
    for arg in args:
        if isinstance(arg, np.ndarray):
            new.append(draw(hnp.arrays(arg.dtype, arg.shape, elements=elements)))
        else:
            new.append(draw(elements))
    return tuple(new)


def _loss(program):
    def loss(*args):
        out = program(*args)
        leaves = out if isinstance(out, tuple) else (out,)
        return sum(anp.sum(leaf) for leaf in leaves)

    return loss


def _assert_identical(got, expected, what):
    got_leaves = got if isinstance(got, tuple) else (got,)
    expected_leaves = expected if isinstance(expected, tuple) else (expected,)
    assert len(got_leaves) == len(expected_leaves), what
    for got_leaf, expected_leaf in zip(got_leaves, expected_leaves):
        np.testing.assert_array_equal(
            np.asarray(got_leaf), np.asarray(expected_leaf), strict=True, err_msg=what
        )


@settings(max_examples=_STAGED_EXAMPLES)
@given(st.data())
def test_long_run_of_staged_programs_with_value_dependent_steps(data):
    """``jit`` of a program (and of its gradient), staged on one set of arguments and
    called on others of the same shapes (with ties), equals the eager program."""
    program, args = data.draw(
        st.integers(1, 3).flatmap(
            lambda num_args: ads.programs(
                max_ops=10, num_args=num_args, value_dependent=STAGED_STEPS
            )
        ),
        label="program, args",
    )
    new_args = data.draw(_same_shapes(args), label="new args")
    argnums = tuple(range(len(args)))
    staged = ad.jit(program)
    staged_grad = ad.jit(ad.grad(_loss(program), argnums))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        staged(*args)
        staged_grad(*args)
        _assert_identical(staged(*new_args), program(*new_args), "values")
        got = staged_grad(*new_args)
        expected = ad.grad(_loss(program), argnums)(*new_args)
    for got_leaf, expected_leaf in zip(got, expected):
        np.testing.assert_allclose(
            got_leaf, expected_leaf, rtol=1e-12, atol=1e-300, err_msg="gradients"
        )
