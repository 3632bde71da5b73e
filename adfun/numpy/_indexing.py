"""Indexing: ``x[key]`` and its adjoint, scattering a cotangent back with accumulation."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._records import EMPTY_PARAMS, Params
from adfun._trace import Tracer, bind, full_value
from adfun.numpy._core import Domain, declare, dtype_of, shape_of, wrap


def _concrete_key(key: Any) -> Any:
    """An index with every traced part made concrete (indices carry no derivative)."""
    if type(key) is Tracer:
        return full_value(key)
    if isinstance(key, tuple):
        return tuple(_concrete_key(part) for part in key)
    if isinstance(key, list):
        return np.asarray([full_value(part) for part in key]) if key and not isinstance(
            key[0], (list, tuple, slice)) else [_concrete_key(part) for part in key]
    return key


def _is_basic(key: Any) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return all(
        part is None or part is Ellipsis or isinstance(part, (slice, int, np.integer))
        for part in parts
    ) and not any(isinstance(part, (bool, np.bool_)) for part in parts)


def _getitem_impl(a: Any, key: Any) -> Any:
    return a[key]


def _getitem_vjp(g: Any, ans: Any, x: Any, key: Any) -> Any:
    return untake(g, key, shape_of(x))


def _getitem_jvp(t: Any, ans: Any, x: Any, key: Any) -> Any:
    return t[key]


def _getitem_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=1)
    kind = draw(st.sampled_from(["int", "slice", "array", "mask", "tuple"]))
    if kind == "int":
        key: Any = draw(st.integers(-x.shape[0], x.shape[0] - 1))
    elif kind == "slice":
        key = slice(draw(st.integers(0, x.shape[0])), None, draw(st.sampled_from([1, 2, -1])))
    elif kind == "array":  # repeated indices accumulate
        key = np.asarray(draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=5)))
    elif kind == "mask":
        key = np.asarray(draw(st.lists(st.booleans(), min_size=x.shape[0],
                                       max_size=x.shape[0])))
    else:
        key = (Ellipsis, None, draw(st.integers(0, x.shape[-1] - 1)))
    return (x, key), {}


_GETITEM = declare("getitem", _getitem_impl, (_getitem_vjp, None), (_getitem_jvp, None),
                   Domain(examples=_getitem_examples), "")


@wrap(_GETITEM, None, "", "x[key]")
def getitem(a: Any, key: Any) -> Any:
    """``a[key]`` for basic and advanced indexing, differentiably.

    Derivative: the cotangent is scattered back into a zero array of ``a``'s shape;
    entries selected several times accumulate.
    """
    key = _concrete_key(key)
    if type(a) is not Tracer:
        return a[key]
    return bind(_GETITEM, (a, key), EMPTY_PARAMS)


def _untake_impl(g: Any, key: Any, shape: tuple = ()) -> Any:
    result = np.zeros(shape, dtype_of(g))
    if _is_basic(key):
        result[key] = g
    else:
        np.add.at(result, key, g)
    return result


def _untake_vjp(g: Any, ans: Any, values: Any, key: Any, shape: tuple = ()) -> Any:
    return getitem(g, key)


def _untake_jvp(t: Any, ans: Any, values: Any, key: Any, shape: tuple = ()) -> Any:
    return untake(t, key, shape)


def _untake_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x, key), _ = _getitem_examples(draw, st, hnp)
    return (np.asarray(x[key], dtype=float), key), {"shape": x.shape}


_UNTAKE = declare("untake", _untake_impl, (_untake_vjp, None), (_untake_jvp, None),
                  Domain(examples=_untake_examples), "")


@wrap(_UNTAKE, None, "", "untake(values, key, shape)")
def untake(values: Any, key: Any, shape: Any) -> Any:
    """Scatter-add ``values`` into zeros of ``shape`` at ``key`` (the adjoint of indexing).

    Derivative: indexing the cotangent with ``key``.
    """
    shape = tuple(int(side) for side in shape)
    if type(values) is not Tracer:
        return _untake_impl(values, key, shape)
    return bind(_UNTAKE, (values, key), Params(shape=shape))
