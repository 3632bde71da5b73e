"""Shared by the single-area benchmark scripts: one BLAS thread and median timings.

Import it before NumPy: it pins the BLAS thread pools to one thread (unless the caller
has set them), so that ratios compare like with like.
"""

from __future__ import annotations

import os
import statistics
import time

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


def median_time(fun, repeat, number=1):
    """Median seconds per call of ``fun`` over ``repeat`` rounds of ``number`` calls.

    ``fun`` is called once first (a warm-up; for jitted functions, the trace).
    """
    fun()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fun()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)
