"""Transitional: the names of the old declaration vocabulary, on top of the kit.

The families move to :mod:`adfun.numpy._declare` (``primitive``/``export``) and
:mod:`adfun.numpy._axes`; this module goes when the last one has moved.
"""

from __future__ import annotations

from typing import Any, Callable

from adfun._engine.records import Params, Primitive
from adfun._engine.trace import call_primitive
from adfun.numpy._axes import dtype_of, kept_shape, ndim_of, normalize_axis, shape_of
from adfun.numpy._declare import (
    COMPOSITES,
    REGISTRY,
    Domain,
    binary,
    export,
    nondifferentiable,
    operator_impl,
    primitive,
    refuse_keywords,
    unary,
)
from adfun.numpy._fast import _broadcast_one, negate_fresh, scale_fresh

__all__ = [
    "COMPOSITES", "REGISTRY", "Domain", "binary", "export", "nondifferentiable",
    "operator_impl", "primitive", "unary", "dtype_of", "kept_shape", "ndim_of",
    "normalize_axis", "shape_of", "_broadcast_one", "negate_fresh", "scale_fresh",
]


def _register(fun: Callable, prim: Primitive, numpy_fun: Any, doc: str) -> Callable:
    name = fun.__name__ if fun.__name__ not in ("fun", "<lambda>") else prim.name
    fun.__doc__ = doc or fun.__doc__ or ""
    return export(numpy_fun, primitive=prim, name=prim.name if "." not in prim.name else name
                  )(fun)


def declare(name: str, impl: Callable, vjps: Any, jvps: Any, domain: Domain | None,
            explain: str, *, numpy_fun: Any = None, nondiff: bool = False) -> Primitive:
    return primitive(name, impl, vjps, jvps, domain=domain, nondiff=nondiff)


def wrap(prim: Primitive, numpy_fun: Any, explain: str, signature: str
         ) -> Callable[[Callable], Callable]:
    return export(numpy_fun, primitive=prim, name=prim.name, explain=explain,
                  signature=signature)


def composite(numpy_fun: Any, domain: Domain, *, name: str | None = None,
              operation: bool = True) -> Callable[[Callable], Callable]:
    return export(numpy_fun, domain=domain, name=name, operation=operation)


def apply(prim: Primitive, args: tuple, params: Params) -> Any:
    return call_primitive(prim, args, params)


def _refuse_kwargs(name: str, kwargs: dict) -> None:
    refuse_keywords(name, kwargs)
