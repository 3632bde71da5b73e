"""Test configuration: Hypothesis profiles.

* ``ci`` (default): a fixed number of examples, no deadline, derandomized, so a red run
  reproduces exactly.
* ``hunt``: many randomized examples, for hunting bugs by hand:
  ``pytest --hypothesis-profile=hunt``.
* ``long``: the long property run of ``tests/test_long_programs.py`` (10,000 randomized
  examples per test, no deadline), run by hand, not in CI:
  ``pytest tests/test_long_programs.py --hypothesis-profile=long -x``.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "hunt",
    max_examples=2000,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=10_000,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile("ci")
