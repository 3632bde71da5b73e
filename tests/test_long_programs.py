"""The long property run: random ``programs()`` checked in both modes and at second order.

In the default ``ci`` profile this runs a few derandomized examples, like every other
property test.  The long run is by hand, on its own profile (see ``tests/conftest.py``)::

    python -m pytest tests/test_long_programs.py --hypothesis-profile=long -x \\
        --hypothesis-show-statistics

which draws 10,000 programs per test: of one to three arguments and up to 12 operations
(in float64 and in float32), and of one or two arguments and up to 24
operations.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from adfun.testing import check_grads
from adfun.testing import strategies as ads

_PROGRAMS = st.integers(1, 3).flatmap(lambda num_args: ads.programs(max_ops=12,
                                                                    num_args=num_args))


@given(_PROGRAMS)
def test_long_run_of_random_programs(program_and_args):
    program, args = program_and_args
    check_grads(program, args, modes=("fwd", "rev"), order=2)


_DEEP_PROGRAMS = st.integers(1, 2).flatmap(lambda num_args: ads.programs(max_ops=24,
                                                                         num_args=num_args))


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
    args32 = tuple(np.asarray(arg, np.float32) if isinstance(arg, np.ndarray) else
                   np.float32(arg) for arg in args)
    check_grads(program, args32, modes=("fwd", "rev"), order=2)
