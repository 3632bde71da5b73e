"""Peak resident-memory growth of one call, measured the same way for every library.

Resident set size (RSS) counts what NumPy, PyTorch and Python allocate alike, which
``tracemalloc`` would not (it does not see PyTorch's allocator).  On Linux the kernel's
high-water mark is reset first (``/proc/self/clear_refs``), so that the peak reflects the
measured call and not an earlier import; elsewhere the peak since process start is used,
which can only under-report the growth.
"""

from __future__ import annotations

import gc
import resource
import sys
from pathlib import Path
from typing import Any, Callable

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_KIB = 1024


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _peak_kib_since_start() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // _KIB if sys.platform == "darwin" else peak  # macOS reports bytes


def peak_growth_mib(fun: Callable[[], Any]) -> tuple[float, str]:
    """Run ``fun()`` once; return (peak RSS minus RSS before the call in MiB, method)."""
    gc.collect()
    exact = _reset_peak()
    before = _status_kib("VmRSS")
    result = fun()
    peak = _status_kib("VmHWM") if exact else _peak_kib_since_start()
    del result
    if before is None or peak is None:
        return float("nan"), "unavailable"
    method = "peak RSS growth" if exact else "peak RSS growth (peak since start)"
    return max(peak - before, 0) / _KIB, method
