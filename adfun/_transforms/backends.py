"""Every transform accepts arrays of any Array API library: array type in, array type out.

:func:`accepts_backends` wraps the function a transform returns (``grad(f)``'s
``grad_fun``, ``vjp`` itself...).  A call whose arguments hold only NumPy values goes
straight through (one scan of the arguments).  Otherwise the call's library is resolved
once (:func:`~adfun._engine.backend.backend_of`, which refuses a mix of libraries), its
arrays become tracers of that library's bottom-level trace, the transform runs as it
would inside an enclosing transform, and the results are unwrapped into the library's
arrays.  Functions among the results (``vjp``'s ``vjp_fn``) are wrapped the same way.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from adfun._engine.backend import backend_of, foreign_leaves, run_on
from adfun._engine.pytree import tree_flatten

F = TypeVar("F", bound=Callable[..., Any])


def accepts_backends(transform: str, call: F) -> F:
    """``call`` made to accept (and return) arrays of the library its arguments use."""

    @functools.wraps(call)
    def call_on_any_backend(*args: Any, **kwargs: Any) -> Any:
        if not foreign_leaves(args) and not (kwargs and foreign_leaves(kwargs)):
            return call(*args, **kwargs)
        leaves, _ = tree_flatten((args, kwargs))
        backend = backend_of(leaves, f"adfun.{transform}")
        if backend is None:
            return call(*args, **kwargs)
        return run_on(backend, transform, call, args, kwargs)

    return call_on_any_backend  # type: ignore[return-value]


def on_any_backend(transform: str) -> Callable[[F], F]:
    """Decorator form of :func:`accepts_backends` (for ``vjp``, ``jvp``...)."""
    return lambda call: accepts_backends(transform, call)
