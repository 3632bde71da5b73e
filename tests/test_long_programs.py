"""The long property run: random ``programs()`` checked in both modes and at second order.

In the default ``ci`` profile this runs a few derandomized examples, like every other
property test.  The long run is by hand, on its own profile (see ``tests/conftest.py``)::

    python -m pytest tests/test_long_programs.py --hypothesis-profile=long -x \\
        --hypothesis-show-statistics

which draws 10,000 programs of one to three arguments and up to 12 operations each.
"""

from __future__ import annotations

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
