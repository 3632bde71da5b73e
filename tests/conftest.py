"""Test configuration: Hypothesis profiles.

* ``ci`` (default): a fixed number of examples, no deadline, derandomized, so a red run
  reproduces exactly.
* ``hunt``: many randomized examples, for hunting bugs by hand:
  ``pytest --hypothesis-profile=hunt``.
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
settings.load_profile("ci")
