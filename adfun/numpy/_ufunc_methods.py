"""Methods of NumPy's ufuncs on traced values: ``np.add.reduce``, ``np.multiply.accumulate``,
``np.maximum.reduce``, ``np.subtract.outer``...

They are registered in the dispatch table under ``(ufunc, method)`` and expressed with the
differentiable reductions, scans and broadcasting; other methods (``at``, ``reduceat``)
raise ``NotImplementedError`` from the tracer's ``__array_ufunc__``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from adfun._engine.records import NUMPY_OVERRIDES

# The namespace table first: ``outer`` is installed for every two-argument ufunc that
# table puts in NUMPY_OVERRIDES.
from adfun.numpy import _namespace  # noqa: F401
from adfun.numpy._axes import ndim_of, shape_of
from adfun.numpy._reductions import max, min, sum  # noqa: A004
from adfun.numpy._scans import cumprod, cumsum, prod
from adfun.numpy._shape import reshape


def _refuse(ufunc: Any, method: str, options: dict) -> None:
    given = sorted(
        key
        for key, value in options.items()
        if value is not None and value is not np._NoValue and value is not True
    )
    if given:
        raise TypeError(
            f"numpy.{ufunc.__name__}.{method}: the argument(s) {given} are not "
            f"supported on traced values"
        )


def _reducer(ufunc: Any, reduce: Callable) -> Callable:
    def method(
        array: Any,
        axis: Any = 0,
        dtype: Any = None,
        out: Any = None,
        keepdims: bool = False,
        initial: Any = np._NoValue,
        where: Any = True,
    ) -> Any:
        _refuse(ufunc, "reduce", {"dtype": dtype, "out": out, "initial": initial, "where": where})
        return reduce(array, axis=axis, keepdims=keepdims)

    return method


def _accumulator(ufunc: Any, scan: Callable) -> Callable:
    def method(array: Any, axis: int = 0, dtype: Any = None, out: Any = None) -> Any:
        _refuse(ufunc, "accumulate", {"dtype": dtype, "out": out})
        return scan(array, axis=axis)

    return method


def _outer(ufunc: Any) -> Callable:
    def method(a: Any, b: Any, /, **kwargs: Any) -> Any:
        _refuse(ufunc, "outer", kwargs)
        call = NUMPY_OVERRIDES[ufunc]
        if ndim_of(b):
            a = reshape(a, shape_of(a) + (1,) * ndim_of(b))
        return call(a, b)

    return method


def _install() -> None:
    for ufunc, reduce in ((np.add, sum), (np.multiply, prod), (np.maximum, max), (np.minimum, min)):
        NUMPY_OVERRIDES[(ufunc, "reduce")] = _reducer(ufunc, reduce)
    for ufunc, scan in ((np.add, cumsum), (np.multiply, cumprod)):
        NUMPY_OVERRIDES[(ufunc, "accumulate")] = _accumulator(ufunc, scan)
    for ufunc in list(NUMPY_OVERRIDES):
        if isinstance(ufunc, np.ufunc) and ufunc.nin == 2 and ufunc.nout == 1:
            NUMPY_OVERRIDES[(ufunc, "outer")] = _outer(ufunc)


_install()
