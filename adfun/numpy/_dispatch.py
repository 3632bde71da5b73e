"""``adfun.numpy`` functions called on plain arrays of another library compute there.

Inside a transform, every array of another library is already a tracer of its backend's
bottom-level trace (:mod:`adfun._engine.backend`), so the functions bind their
primitives and the backend computes.  A function called *outside* any transform on, say,
array-api-strict arrays does the same for the length of the call:
:func:`on_foreign_arrays` resolves the library, traces its arrays at its bottom level,
calls the function and hands back the library's arrays.  NumPy calls pay one type test
per argument (:func:`public`).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from adfun._engine.backend import NATIVE_TYPES, backend_of, foreign_leaves, run_on
from adfun._engine.pytree import tree_flatten
from adfun._engine.trace import Tracer

_ARRAY = np.ndarray


def on_foreign_arrays(name: str, fun: Callable, args: tuple, kwargs: dict) -> Any:
    """``fun(*args, **kwargs)`` where some argument holds another library's arrays."""
    leaves, _ = tree_flatten((args, kwargs))
    backend = backend_of(leaves, f"adfun.numpy.{name}")
    if backend is None:
        return fun(*args, **kwargs)
    return run_on(backend, f"numpy.{name}", fun, args, kwargs)


def holds_foreign(args: tuple, kwargs: dict) -> bool:
    """Whether a call's arguments hold an array of a library other than NumPy."""
    for arg in args:
        kind = type(arg)
        if kind is Tracer or kind is _ARRAY or kind in NATIVE_TYPES:
            continue
        if foreign_leaves(arg):
            return True
    return bool(kwargs) and bool(foreign_leaves(kwargs))


def dispatching(name: str, fun: Callable) -> Callable:
    """``fun`` as users call it: also on plain arrays of other array libraries."""

    @functools.wraps(fun)
    def public_fun(*args: Any, **kwargs: Any) -> Any:
        if holds_foreign(args, kwargs):
            return on_foreign_arrays(name, fun, args, kwargs)
        return fun(*args, **kwargs)

    public_fun.internal = fun  # type: ignore[attr-defined]
    return public_fun
