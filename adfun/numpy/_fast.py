"""Fast paths used by derivative rules, each with its one home here.

Large elementwise gradients spend much of their time allocating: a rule that holds a
temporary nobody else references may form its product in that memory.  Every helper here
computes exactly what the plain expression in its docstring computes (the tests in
``tests/test_fast_paths.py`` compare them), only with fewer allocations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.trace import Tracer


def scale_fresh(fresh: Any, seed: Any) -> Any:
    """``seed * fresh``, computed in the memory of ``fresh`` when that is safe.

    ``fresh`` must be a temporary nobody else holds, or a read-only array (a forward value
    the reverse pass shares, see :mod:`adfun._engine.sharing`), which is never written
    into.  Large elementwise gradients spend much of their time allocating; reusing the
    temporary saves one allocation per rule.
    """
    if (
        type(fresh) is np.ndarray
        and type(seed) is not Tracer
        and getattr(seed, "dtype", None) == fresh.dtype
        and getattr(seed, "shape", ()) == fresh.shape
    ):
        if _broadcast_one(seed):
            # (a shared value is copied: returned as it is, it could reach the user as a
            # gradient sharing memory with a value they hold, such as an auxiliary output)
            return fresh if fresh.flags.writeable else fresh.copy()
        if fresh.flags.writeable:
            return np.multiply(fresh, seed, out=fresh)
        return seed * fresh
    if (
        type(fresh) is Tracer
        and _broadcast_one(seed)
        and seed.dtype == fresh.dtype
        and seed.shape == fresh.shape
    ):
        return fresh  # the same value without recording a multiplication by one
    return seed * fresh


def _broadcast_one(seed: Any) -> bool:
    """Whether ``seed`` is a 1 broadcast to an array (a reduction's cotangent of 1.0).

    ``grad`` of ``sum(f(x))`` hands every rule below the sum such a seed; multiplying by
    it would cost a pass over the data (and under forward-over-reverse, two).
    """
    return (
        type(seed) is np.ndarray
        and seed.size > 0
        and not any(seed.strides)
        and bool(seed.flat[0] == 1)  # a bool, as annotated (mypyc checks it), not np.bool
    )


def negate_fresh(fresh: Any) -> Any:
    """``-fresh``, in place when ``fresh`` is a plain temporary array (not when it is
    read-only: a shared forward value, see :func:`scale_fresh`)."""
    if type(fresh) is np.ndarray and fresh.flags.writeable:
        return np.negative(fresh, out=fresh)
    return -fresh
