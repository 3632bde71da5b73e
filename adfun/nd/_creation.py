"""Creating NDArrays: ``array``, ``zeros``, ``ones``, ``full``, ``arange``, random arrays.

As in MXNet, the default dtype is float32, even for float64 NumPy input, and there are no
0-d arrays: a scalar becomes shape ``(1,)``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np

from adfun._imperative.context import check_context
from adfun._imperative.recording import check_real
from adfun.nd._ndarray import OPS, NDArray, _owned
from adfun.random import generator

FLOAT32 = np.dtype(np.float32)


def _in_context(function: Any) -> Any:
    """``function`` (which makes a CPU array) placed in the context its ``ctx`` names:
    made on the CPU, then copied once to a ``gpu(i)`` context (CuPy)."""
    position = list(inspect.signature(function).parameters).index("ctx")
    name = f"adfun.nd.{function.__name__}"

    @functools.wraps(function)
    def create(*args: Any, **kwargs: Any) -> Any:
        if len(args) > position:
            ctx = args[position]
            args = args[:position] + (None,) + args[position + 1 :]
        else:
            ctx = kwargs.pop("ctx", None)
        if ctx is None:
            return function(*args, **kwargs)
        context = check_context(name, ctx)
        result = function(*args, **kwargs)
        return result if context.device_type == "cpu" else result.as_in_context(context)

    return create


def _dtype(function: str, dtype: Any) -> np.dtype:
    if dtype is None:
        return FLOAT32
    dtype = np.dtype(dtype)
    check_real(f"adfun.nd.{function}", "dtype", dtype)
    return dtype


def _shape(function: str, shape: Any) -> tuple:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(side, (int, np.integer)) and not isinstance(side, bool) and side >= 0
        for side in shape
    ):
        raise TypeError(
            f"adfun.nd.{function}: shape must be a non-negative int or a tuple of them, got "
            f"{shape!r}"
        )
    return tuple(int(side) for side in shape)


@_in_context
def array(source_array: Any, ctx: Any = None, dtype: Any = None) -> NDArray:
    """An NDArray holding a copy of ``source_array``.

    Parameters
    ----------
    source_array : array_like or NDArray
    ctx : Context, optional
        ``cpu(0)`` (NumPy, the default) or ``gpu(i)`` (CuPy).
    dtype : dtype, optional
        Default: the source's dtype for an NDArray, float32 for anything else (float64
        NumPy arrays included), as in MXNet.

    Examples
    --------
    >>> import numpy as np
    >>> from adfun import nd
    >>> nd.array(np.array([1.0, 2.0])).dtype
    <class 'numpy.float32'>
    """
    if isinstance(source_array, NDArray):
        value = source_array._value
        dtype = value.dtype if dtype is None else _dtype("array", dtype)
        return _owned(np.array(value, dtype=dtype, order="C"))
    value = _convert(source_array, _dtype("array", dtype))
    if value.ndim == 0:
        value = value.reshape(1)
    return _owned(value)


def _convert(source_array: Any, dtype: np.dtype) -> np.ndarray:
    """``np.array(source_array, dtype)``, refusing what NumPy would turn into NaN or garbage
    (None, complex values: a float32 array would silently drop their imaginary parts)."""
    _check_source(source_array)
    try:
        return np.array(source_array, dtype=dtype, order="C")
    except (TypeError, ValueError) as error:
        raise type(error)(
            f"adfun.nd.array: source_array ({type(source_array).__name__} {source_array!r:.60}) "
            f"cannot be converted to an array of dtype {dtype}: {error}"
        ) from error


def _check_source(source_array: Any) -> None:
    """Refuse a source that is or contains None or complex numbers (one walk for both)."""
    pending = [source_array]
    while pending:
        item = pending.pop()
        if item is None:
            raise TypeError(
                "adfun.nd.array: source_array is or contains None, which has no numeric "
                "value (NumPy would silently turn it into NaN); pass numbers, e.g. "
                "float('nan') if a missing value is meant"
            )
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif type(item) is complex:
            check_real("adfun.nd.array", "source_array", np.complex128)
        else:
            dtype = getattr(item, "dtype", None)
            if isinstance(dtype, np.dtype):
                check_real("adfun.nd.array", "source_array", dtype)
                if dtype.kind == "O" and isinstance(item, np.ndarray):
                    pending.extend(item.flat)


@_in_context
def zeros(
    shape: Any, ctx: Any = None, dtype: Any = None, stype: Any = None, **kwargs: Any
) -> NDArray:
    """An array of zeros (float32 by default).

    ``stype='csr'`` or ``'row_sparse'`` gives a sparse array (see :mod:`adfun.nd.sparse`).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.zeros((2, 3)).shape
    (2, 3)
    """
    dense = _owned(np.zeros(_shape("zeros", shape), _dtype("zeros", dtype)))
    if stype is None or stype == "default":
        return dense
    return OPS["_tostype"](dense, stype)


@_in_context
def ones(shape: Any, ctx: Any = None, dtype: Any = None, **kwargs: Any) -> NDArray:
    """An array of ones (float32 by default).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.ones(2)
    <BLANKLINE>
    [1. 1.]
    <NDArray 2 @cpu(0)>
    """
    return _owned(np.ones(_shape("ones", shape), _dtype("ones", dtype)))


@_in_context
def full(shape: Any, val: Any, ctx: Any = None, dtype: Any = None, **kwargs: Any) -> NDArray:
    """An array filled with ``val`` (float32 by default).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.full((1, 2), 7)
    <BLANKLINE>
    [[7. 7.]]
    <NDArray 1x2 @cpu(0)>
    """
    val_dtype = np.complex128 if isinstance(val, complex) else getattr(val, "dtype", None)
    check_real("adfun.nd.full", "val", val_dtype)
    return _owned(np.full(_shape("full", shape), val, _dtype("full", dtype)))


@_in_context
def arange(
    start: Any,
    stop: Any = None,
    step: Any = 1.0,
    repeat: int = 1,
    infer_range: Any = None,
    ctx: Any = None,
    dtype: Any = None,
) -> NDArray:
    """Evenly spaced values in ``[start, stop)``, each repeated ``repeat`` times.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.arange(3)
    <BLANKLINE>
    [0. 1. 2.]
    <NDArray 3 @cpu(0)>
    """
    if not isinstance(repeat, (int, np.integer)) or repeat < 1:
        raise ValueError(f"adfun.nd.arange: repeat must be a positive int, got {repeat!r}")
    values = np.arange(start, stop, step) if stop is not None else np.arange(0, start, step)
    return _owned(np.repeat(values, repeat).astype(_dtype("arange", dtype)))


def zeros_like(data: NDArray) -> NDArray:
    """Zeros with the shape and dtype of ``data``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.zeros_like(nd.ones(2)).asnumpy()
    array([0., 0.], dtype=float32)
    """
    return _like(data, _owned(np.zeros_like(_plain("zeros_like", data))))


def ones_like(data: NDArray) -> NDArray:
    """Ones with the shape and dtype of ``data``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.ones_like(nd.zeros(2)).asnumpy()
    array([1., 1.], dtype=float32)
    """
    return _like(data, _owned(np.ones_like(_plain("ones_like", data))))


def _like(data: NDArray, result: NDArray) -> NDArray:
    """``result`` with the storage type (class) of ``data``, as MXNet's ``*_like``."""
    if type(data) is not NDArray:
        result.__class__ = type(data)
    return result


def _plain(function: str, data: Any) -> np.ndarray:
    if not isinstance(data, NDArray):
        raise TypeError(f"adfun.nd.{function}: expected an NDArray, got {type(data).__name__}")
    return data._value


def _number(function: str, name: str, value: Any) -> float:
    if isinstance(value, NDArray) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"adfun.nd.{function}: {name} must be a number, got {type(value).__name__}")
    return float(value)


@_in_context
def random_normal(
    loc: float = 0.0,
    scale: float = 1.0,
    shape: Any = (1,),
    ctx: Any = None,
    dtype: Any = None,
    **kwargs: Any,
) -> NDArray:
    """Samples of the normal distribution ``N(loc, scale**2)``, drawn with
    :func:`adfun.random.seed`'s generator.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.random_normal(shape=3).shape
    (3,)
    """
    loc = _number("random_normal", "loc", loc)
    scale = _number("random_normal", "scale", scale)
    values = generator().normal(loc, scale, _shape("random_normal", shape))
    return _owned(values.astype(_dtype("random_normal", dtype)))


@_in_context
def random_uniform(
    low: float = 0.0,
    high: float = 1.0,
    shape: Any = (1,),
    ctx: Any = None,
    dtype: Any = None,
    **kwargs: Any,
) -> NDArray:
    """Samples of the uniform distribution on ``[low, high)``, drawn with
    :func:`adfun.random.seed`'s generator.

    Examples
    --------
    >>> from adfun import nd
    >>> bool((nd.random_uniform(2, 3, shape=(4,)) >= 2).prod().asscalar())
    True
    """
    low = _number("random_uniform", "low", low)
    high = _number("random_uniform", "high", high)
    values = generator().uniform(low, high, _shape("random_uniform", shape))
    return _owned(values.astype(_dtype("random_uniform", dtype)))
