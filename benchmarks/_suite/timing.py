"""Interleaved median timing of the variants of one workload.

Every variant of a workload is timed in the same rounds: round ``r`` takes one sample of
each variant in turn (the order rotating from round to round), so that a burst of load
from other processes hits every variant alike and ratios between variants stay honest on
a shared machine.  A sample runs the variant ``number`` times, with ``number`` chosen so
that a sample lasts at least ``min_sample`` seconds.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Target:
    """A target of the issue's table: ``metric`` (``"value"`` or ``"ratio"``) <= ``limit``."""

    metric: str
    limit: float
    text: str

    def check(self, value: float, ratio: float) -> bool:
        return (value if self.metric == "value" else ratio) <= self.limit


@dataclass
class Variant:
    """One implementation of a workload: ``run()`` performs one timed call.

    ``prepare`` (optional) builds the callable and checks its result against the
    reference before any timing; an exception there turns the variant into an error row.
    """

    library: str
    label: str
    prepare: Callable[[], Callable[[], Any]]
    baseline: bool = False
    targets: tuple[Target, ...] = ()
    note: str = ""
    run: Callable[[], Any] | None = field(default=None, repr=False)
    error: str | None = None


@dataclass
class Workload:
    """A row group of the table: variants timed together, one of them the baseline.

    ``scale`` turns median seconds per call into ``unit`` (e.g. ``1e6 / ops`` for µs per
    operation); every ratio is a variant's median over the baseline's, both measured in
    the same rounds of the same process.
    """

    id: str
    title: str
    unit: str
    scale: float
    ratio_to: str
    variants: list[Variant]
    note: str = ""


#: The clock of every timing: ``time.perf_counter`` (wall) or ``time.process_time`` (the
#: processor time of this process, all its threads).
_CLOCK: list[Callable[[], float]] = [time.perf_counter]


def use_clock(name: str) -> None:
    """Time by the wall clock (``"wall"``) or by this process's processor time (``"cpu"``)."""
    _CLOCK[0] = {"wall": time.perf_counter, "cpu": time.process_time}[name]


def _call_time(fun: Callable[[], Any]) -> float:
    clock = _CLOCK[0]
    start = clock()
    fun()
    return clock() - start


def prepare_all(variants: list[Variant]) -> None:
    """Build and verify every variant; a failure is recorded on the variant, not raised."""
    for variant in variants:
        try:
            variant.run = variant.prepare()
            variant.run()  # warm up: caches, imports, JAX compilation
        except Exception as error:  # noqa: BLE001 - reported in the table, never hidden
            variant.run = None
            variant.error = f"{type(error).__name__}: {error}".splitlines()[0][:160]


def measure(variants: list[Variant], repeat: int, min_sample: float) -> dict[int, float]:
    """Median seconds per call of each runnable variant (keyed by index in ``variants``)."""
    runnable = [index for index, variant in enumerate(variants) if variant.run is not None]
    numbers = {}
    for index in runnable:
        once = max(_call_time(variants[index].run), 1e-9)
        numbers[index] = max(1, math.ceil(min_sample / once))
    samples: dict[int, list[float]] = {index: [] for index in runnable}
    for round_number in range(repeat):
        shift = round_number % max(len(runnable), 1)
        for index in runnable[shift:] + runnable[:shift]:
            fun, number = variants[index].run, numbers[index]
            gc.collect()
            clock = _CLOCK[0]
            start = clock()
            for _ in range(number):
                fun()
            samples[index].append((clock() - start) / number)
    return {index: statistics.median(values) for index, values in samples.items()}
