"""Functions of the values that are constants for differentiation, with traced arguments
anywhere in their (nested) arguments; they record a node so that graphs replay them.

A function whose result's *shape* depends on the values (``nonzero``, ``flatnonzero``,
``argwhere``) cannot be staged: a staged program's shapes are fixed when it is traced.
Such functions are declared with ``refuse_staging`` advice and raise
:class:`~adfun.StagingError` under ``jit``/``trace`` (eager transforms still record them).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from adfun._engine.records import Params, Primitive
from adfun._engine.trace import Tracer, bind, full_value, read_value


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


def values_function(name: str, numpy_fun: Callable, *, several: bool = False,
                    doc: str | None = None, refuse_staging: str | None = None) -> Callable:
    """A non-differentiable function of the values that records a node when traced.

    Traced arguments may sit inside lists, tuples or keyword arguments.  With
    ``several=True`` (functions returning a tuple of arrays, like ``nonzero``) the result
    is a tuple of traced values, one node per item.  With ``refuse_staging`` (advice for
    the user) the result's shape depends on the values: under a staging trace the call
    raises :class:`~adfun.StagingError` naming the function, with that advice.
    """

    def impl(*leaves: Any, template: Any = None) -> Any:
        result = numpy_fun(*put_in(template.args, leaves), **put_in(template.kwargs, leaves))
        if template.output is not None:
            result = result[template.output]
        return result

    primitive = Primitive(name, impl, (), (), None, nondiff=True)

    def fun(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if type(arg) is Tracer:
                break
        else:
            if not (contains_tracer(args) or contains_tracer(kwargs)):
                return numpy_fun(*args, **kwargs)
        leaves: list = []
        args_out = take_out(args, leaves)
        kwargs_out = take_out(kwargs, leaves)
        leaves_tuple = tuple(leaves)
        if refuse_staging is not None:
            refuse_staged_leaves(leaves_tuple, f"adfun.numpy.{name}", refuse_staging)
        if several:
            count = len(numpy_fun(*concrete(args), **concrete(kwargs)))
            return tuple(bind(primitive, leaves_tuple,
                              Params(template=Template(args_out, kwargs_out, index)))
                         for index in range(count))
        return bind(primitive, leaves_tuple, Params(template=Template(args_out, kwargs_out,
                                                                        None)))

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = doc or (f"{name} (:func:`numpy.{name}`) on plain or traced values.\n\n"
                          f"The result is a constant for differentiation.\n")
    fun.primitive = primitive  # type: ignore[attr-defined]
    return fun
