"""Arrays a staged program allocated on earlier calls, allocated from again.

A fresh NumPy array of a few megabytes comes from the operating system as zeroed pages,
and a program that allocates the same large arrays on every call pays for that every
time (about a tenth of the MLP benchmark's time).  Each allocation site of a compiled
program (:mod:`adfun._staging.codegen`) may instead own a :class:`Recycler`: the array a
call computed into is remembered, and a later call writes into it again (``out=``) -
but only once nothing outside the recycler refers to it.

"Nothing refers to it" is read from the reference count: the recycler's own list holds
one reference, and any other - the caller keeping a result, a view of it (a view refers
to its base), a container, a running call's local variable - makes the count larger, and
a weak reference to it is counted apart.  So a result the caller can still see is never
written over, and two threads running one program never share an array.  Arrays that
the program returns are recycled too: when the caller drops a result, the next call
reuses its memory.

The memory stays allocated between calls: at most :data:`KEPT_PER_SITE` arrays per site,
and a program recycles sites only while their arrays fit in :data:`BUDGET_BYTES`.
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any, Literal

import numpy as np

#: Arrays smaller than this are left to NumPy's allocator (no fresh pages to zero).
MIN_BYTES = 1 << 16
#: Arrays kept per allocation site: two let a caller keep the previous result while the
#: next call runs.
KEPT_PER_SITE = 2
#: At most this many bytes of arrays kept per staged program (sites in program order).
BUDGET_BYTES = 256 << 20


def _alone() -> int:
    """``sys.getrefcount`` of a loop's item that only its list and the loop refer to
    (measured as :meth:`Recycler.take` measures; :func:`_counts_read_right` checks it)."""
    if not hasattr(sys, "getrefcount"):
        return -1
    kept = [object()]
    for item in kept:
        return sys.getrefcount(item)
    raise AssertionError("unreachable")


#: The reference count of an array of a recycler that nothing else refers to.
ALONE = _alone()


class Recycler:
    """The arrays of one allocation site: ``take()`` gives one nothing else refers to."""

    __slots__ = ("shape", "dtype", "order", "kept", "lock")

    def __init__(self, value: np.ndarray) -> None:
        self.shape = value.shape
        self.dtype = value.dtype
        # The layout a fresh result would have (ufuncs keep Fortran order).
        fortran = value.flags.f_contiguous and not value.flags.c_contiguous
        self.order: Literal["C", "F"] = "F" if fortran else "C"
        self.kept: list = []
        self.lock = threading.Lock()

    def take(self) -> np.ndarray:
        """An array of the site's shape, dtype and layout, to write a result into."""
        kept = self.kept
        with self.lock:
            for array in kept:
                if sys.getrefcount(array) == ALONE and not weakref.getweakrefcount(array):
                    return array
            array = np.empty(self.shape, self.dtype, order=self.order)
            if len(kept) < KEPT_PER_SITE:
                kept.append(array)
            return array


def _counts_read_right() -> bool:
    """Whether :meth:`Recycler.take` tells a held array from a free one on this Python.

    The test of :data:`ALONE` depends on how the interpreter counts the references of
    a loop's item (Python 3.14 borrows some; PyPy has no ``sys.getrefcount``): checked
    once at import, and where it fails nothing is recycled.
    """
    if not hasattr(sys, "getrefcount"):
        return False
    recycler = Recycler(np.empty(1))
    held = recycler.take()
    other = recycler.take()  # ``held`` is referred to here: never handed out again
    if other is held:
        return False
    freed = id(other)
    del other
    again = recycler.take()  # nothing refers to the second one any more: it comes back
    return id(again) == freed and again is not held


#: Whether reference counts are read as :meth:`Recycler.take` expects (else no recycling).
COUNTS_READ_RIGHT = _counts_read_right()


def recyclable(value: Any) -> bool:
    """Whether a site computing ``value`` (as recorded) is worth a recycler."""
    return (
        COUNTS_READ_RIGHT
        and type(value) is np.ndarray
        and value.nbytes >= MIN_BYTES
        and value.ndim > 0
    )
