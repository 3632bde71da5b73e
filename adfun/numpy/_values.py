"""Traced values inside nested arguments: finding them, taking them out of a call and
putting them back.

:func:`adfun.numpy._declare.function_of_values` (functions of the values that are
constants for differentiation) and indexing record a call with its traced leaves taken
out (:func:`take_out`) into a :class:`Template`, a node param, and replay it by putting
the new leaves in (:func:`put_in`).

A function whose result's *shape* depends on the values (``nonzero``, ``flatnonzero``,
``argwhere``) cannot be staged: a staged program's shapes are fixed when it is traced.
:func:`refuse_staged_leaves` raises :class:`~adfun.StagingError` for them under
``jit``/``trace`` (eager transforms still record them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.trace import Tracer, full_value, read_value


def contains_tracer(value: Any) -> bool:
    if type(value) is Tracer:
        return True
    if isinstance(value, (list, tuple)):
        return any(contains_tracer(item) for item in value)
    if isinstance(value, dict):
        return any(contains_tracer(item) for item in value.values())
    return False


def concrete(value: Any) -> Any:
    if type(value) is Tracer:
        return full_value(value)
    if isinstance(value, (list, tuple)):
        return type(value)(concrete(item) for item in value)
    if isinstance(value, dict):
        return {key: concrete(item) for key, item in value.items()}
    return value


class Template:
    """The call of a function of values with its traced leaves taken out (a node param).

    Equal (and equally hashed) when the constant parts of two calls are equal, so that
    graphs traced twice from the same program compare equal.
    """

    __slots__ = ("args", "kwargs", "output", "_key")

    def __init__(self, args: Any, kwargs: Any, output: Any) -> None:
        self.args = args
        self.kwargs = kwargs
        self.output = output
        self._key = (_frozen(args), _frozen(kwargs), output)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        suffix = "" if self.output is None else f", output {self.output}"
        return f"<call template{suffix}>"


def _frozen(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return ("array", value.shape, str(value.dtype), value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return ("dict",) + tuple((key, _frozen(item)) for key, item in value.items())
    if value is _SLOT:
        return ("slot",)
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return value


class _Slot:
    """Where a traced leaf was taken out of a call; pickles and copies as the one ``_SLOT``
    (templates find their slots by identity, also in an unpickled graph)."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "_SLOT"

    def __repr__(self) -> str:
        return "<slot>"


_SLOT = _Slot()


def take_out(value: Any, leaves: list) -> Any:
    if type(value) is Tracer:
        leaves.append(value)
        return (_SLOT, len(leaves) - 1)
    if isinstance(value, (list, tuple)):
        return type(value)(take_out(item, leaves) for item in value)
    if isinstance(value, dict):
        return {key: take_out(item, leaves) for key, item in value.items()}
    return value


def put_in(value: Any, leaves: tuple) -> Any:
    if isinstance(value, tuple) and len(value) == 2 and value[0] is _SLOT:
        return leaves[value[1]]
    if isinstance(value, (list, tuple)):
        return type(value)(put_in(item, leaves) for item in value)
    if isinstance(value, dict):
        return {key: put_in(item, leaves) for key, item in value.items()}
    return value


def refuse_staged_leaves(leaves: Any, function: str, advice: str) -> None:
    """Raise :class:`~adfun.StagingError` (naming ``function``, with ``advice``) if a
    traced value among ``leaves`` belongs to a staging trace (``jit``, ``trace``)."""
    for leaf in leaves:
        read_value(leaf, function, advice)
