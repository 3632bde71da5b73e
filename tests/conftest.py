"""Test configuration: Hypothesis profiles.

* ``ci`` (default): a fixed number of examples, no deadline, derandomized, so a red run
  reproduces exactly.
* ``hunt``: many randomized examples, for hunting bugs by hand:
  ``pytest --hypothesis-profile=hunt``.
* ``long``: the long property run of ``tests/test_long_programs.py`` (10,000 randomized
  examples per test, no deadline), run by hand, not in CI:
  ``pytest tests/test_long_programs.py --hypothesis-profile=long -x``.

Under ``ci``, the few functions whose examples cost about a second each (``EXPENSIVE``
in tests/test_rules.py and tests/test_numpy_composites.py) draw fewer examples
(``_checking.expensive_examples``); the long profiles draw their full count for them too.

Under the long profiles (``hunt``, ``long``), which take minutes to hours, every finished
test prints a progress line: how many tests are done, its time, and an estimate of the
time left (the average time per test so far, times the tests left).
"""

import time

import pytest
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


LONG_PROFILES = ("hunt", "long")
_progress = {"total": 0, "done": 0, "spent": 0.0, "started": 0.0}


def _long_profile(config: pytest.Config) -> bool:
    return config.getoption("hypothesis_profile", None) in LONG_PROFILES


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    _progress["total"] = len(items)


def pytest_runtest_logstart(nodeid: str, location: tuple) -> None:
    _progress["started"] = time.perf_counter()


def pytest_runtest_logfinish(nodeid: str, location: tuple) -> None:
    config = _CONFIG.get("config")
    if config is None or not _long_profile(config):
        return
    seconds = time.perf_counter() - _progress["started"]
    _progress["done"] += 1
    _progress["spent"] += seconds
    done, total = _progress["done"], _progress["total"]
    left = (total - done) * _progress["spent"] / done
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"[{done}/{total}] {nodeid}: {seconds:.1f} s; about {left / 60:.1f} min left"
        )


_CONFIG: dict = {}


def pytest_configure(config: pytest.Config) -> None:
    _CONFIG["config"] = config
