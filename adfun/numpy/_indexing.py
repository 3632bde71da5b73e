"""Indexing: ``x[key]`` and its adjoint, scattering a cotangent back with accumulation.

A key holds no derivative, but it may be computed from traced values (``x[argsort(x)]``,
``table[floor(x).astype(int)]``).  Such a key's traced parts become *arguments* of the
node (``getitem`` with a key template), so a staged graph recomputes them from its new
inputs instead of keeping the indices it saw while tracing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS, Params
from adfun._engine.trace import Tracer, bind, read_value
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._batching import getitem_at_rule, getitem_rule, untake_at_rule, untake_rule
from adfun.numpy._declare import Domain, complexified, export, primitive
from adfun.numpy._values import Template, contains_tracer, put_in, take_out


def _snapshot(key: Any) -> Any:
    """``key`` with its NumPy index arrays copied: the graph must not see a later change."""
    if type(key) is np.ndarray:
        return key.copy() if key.flags.writeable else key
    if type(key) is tuple:
        return tuple(_snapshot(part) for part in key)
    if type(key) is list:
        return [_snapshot(part) for part in key]
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
        key = np.asarray(draw(st.lists(st.booleans(), min_size=x.shape[0], max_size=x.shape[0])))
    else:
        key = (Ellipsis, None, draw(st.integers(0, x.shape[-1] - 1)))
    return (x, key), {}


_GETITEM = primitive(
    "getitem",
    _getitem_impl,
    (_getitem_vjp, None),
    (_getitem_jvp, None),
    domain=Domain(examples=_getitem_examples),
    complex_domain=complexified(_getitem_examples),
    batch=getitem_rule,
)


def _refuse_staged_masks(parts: list, function: str = "x[mask] (adfun.numpy.getitem)") -> None:
    """A traced boolean mask gives a result whose shape depends on its values: a staged
    program, whose shapes are fixed, cannot record it.  ``function`` names the function
    being staged in the error."""
    for part in parts:
        if dtype_of(part) == np.bool_:
            read_value(
                part,
                function,
                "Indexing with a traced boolean mask gives a result whose length "
                "depends on the mask's values. Keep the shape with "
                "adfun.numpy.where(mask, x, 0) (and sum or count with the mask), "
                "or index outside the staged function.",
            )


def _getitem_at_impl(a: Any, *parts: Any, template: Any) -> Any:
    return a[put_in(template.args, parts)]


def _getitem_at_vjp(g: Any, ans: Any, x: Any, *parts: Any, template: Any) -> Any:
    return untake(g, put_in(template.args, parts), shape_of(x))


def _getitem_at_jvp(t: Any, ans: Any, x: Any, *parts: Any, template: Any) -> Any:
    return getitem(t, put_in(template.args, parts))


#: ``a[key]`` where parts of the key are traced: ``(a, *parts)`` with the key's template.
_GETITEM_AT = primitive(
    "getitem", _getitem_at_impl, (_getitem_at_vjp,), (_getitem_at_jvp,), batch=getitem_at_rule
)


@export(None, primitive=_GETITEM, signature="x[key]", arraylike=False)  # x[key]: no array-likes
def getitem(a: Any, key: Any) -> Any:
    """``a[key]`` for basic and advanced indexing, differentiably.

    The key may hold traced integer or boolean arrays (computed from traced values); they
    carry no derivative, and are recorded as arguments of the node.

    Derivative: the cotangent is scattered back into a zero array of ``a``'s shape;
    entries selected several times accumulate.
    """
    if type(key) is Tracer or (type(key) in (tuple, list) and contains_tracer(key)):
        parts: list = []
        template = Template(take_out(_snapshot(key), parts), {}, None)
        _refuse_staged_masks(parts)
        return bind(_GETITEM_AT, (a, *parts), Params(template=template))
    if type(a) is not Tracer:
        return a[key]
    return bind(_GETITEM, (a, _snapshot(key)), EMPTY_PARAMS)


def _untake_impl(g: Any, key: Any, shape: tuple = ()) -> Any:
    result = np.zeros(shape, dtype_of(g))
    if _is_basic(key):
        result[key] = g
    else:
        np.add.at(result, key, g)
    return result


def _untake_cotangent(g: Any, key: Any) -> Any:
    """``g[key]``, refusing a traced mask under staging with an error naming ``untake``."""
    if type(key) is Tracer or (type(key) in (tuple, list) and contains_tracer(key)):
        parts: list = []
        take_out(key, parts)
        _refuse_staged_masks(parts, "the derivative of adfun.numpy.untake(values, mask, shape)")
    return getitem(g, key)


def _untake_vjp(g: Any, ans: Any, values: Any, key: Any, shape: tuple = ()) -> Any:
    return _untake_cotangent(g, key)


def _untake_jvp(t: Any, ans: Any, values: Any, key: Any, shape: tuple = ()) -> Any:
    return untake(t, key, shape)


def _untake_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x, key), _ = _getitem_examples(draw, st, hnp)
    return (np.asarray(x[key], dtype=float), key), {"shape": x.shape}


_UNTAKE = primitive(
    "untake",
    _untake_impl,
    (_untake_vjp, None),
    (_untake_jvp, None),
    domain=Domain(examples=_untake_examples),
    complex_domain=complexified(_untake_examples),
    batch=untake_rule,
)


def _untake_at_impl(values: Any, *parts: Any, template: Any, shape: tuple = ()) -> Any:
    return _untake_impl(values, put_in(template.args, parts), shape)


def _untake_at_vjp(
    g: Any, ans: Any, values: Any, *parts: Any, template: Any, shape: tuple = ()
) -> Any:
    return _untake_cotangent(g, put_in(template.args, parts))


def _untake_at_jvp(
    t: Any, ans: Any, values: Any, *parts: Any, template: Any, shape: tuple = ()
) -> Any:
    return untake(t, put_in(template.args, parts), shape)


#: ``untake`` where parts of the key are traced (see ``_GETITEM_AT``).
_UNTAKE_AT = primitive(
    "untake", _untake_at_impl, (_untake_at_vjp,), (_untake_at_jvp,), batch=untake_at_rule
)


@export(None, primitive=_UNTAKE, signature="untake(values, key, shape)", arraylike=False)
def untake(values: Any, key: Any, shape: Any) -> Any:
    """Scatter-add ``values`` into zeros of ``shape`` at ``key`` (the adjoint of indexing).

    Derivative: indexing the cotangent with ``key``.
    """
    shape = tuple(int(side) for side in shape)
    if type(key) is Tracer or (type(key) in (tuple, list) and contains_tracer(key)):
        parts: list = []
        template = Template(take_out(_snapshot(key), parts), {}, None)
        return bind(_UNTAKE_AT, (values, *parts), Params(template=template, shape=shape))
    if type(values) is not Tracer:
        return _untake_impl(values, key, shape)
    return bind(_UNTAKE, (values, _snapshot(key)), Params(shape=shape))
