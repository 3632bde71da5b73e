"""Array-likes holding traced values: the one place they become traced arrays.

NumPy accepts an *array-like* wherever it wants an array: a list, a tuple or a nested
list of numbers and arrays.  A list holding traced values (``[a, b]`` with ``a`` and
``b`` traced scalars, as autograd programs write ``np.array([a, b])`` or
``np.mean([a, b])``) cannot be handed to NumPy: NumPy would convert each traced value
to a plain number and drop its derivative.  :func:`as_traced` assembles such a list
into one traced array with the ``stack`` primitive (so the derivative flows back to
each item, in both modes and under staging), and :func:`arraylike_entry` wraps a
public function so that its array-like arguments are assembled before it runs.

Which arguments are array-likes is NumPy's own answer, not a list kept here:

* for a ufunc (``np.sin``, ``scipy.special.erf``...), its ``nin`` positional inputs;
* for a function with NumPy's ``__array_function__`` dispatch (``np.mean``,
  ``np.concatenate``, ``np.linalg.norm``...), the arguments its dispatcher names as
  relevant: the arguments themselves, or the items of a sequence argument (the arrays
  of ``concatenate``, ``stack``, ``einsum``).  NumPy keeps its dispatchers out of
  reach, so they are asked through stand-in objects (:func:`_relevant`), once per
  function and layout of the call;
* for any other function (SciPy's Python functions, adfun's own), every positional or
  keyword argument.

Only lists and tuples that hold a traced value are touched: every other call goes to the
function unchanged, after one check of the argument types.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from adfun._engine.backend import NATIVE_TYPES
from adfun._engine.trace import Tracer, full_value, operation
from adfun.numpy._dispatch import holds_foreign, on_foreign_arrays

_TRACER = Tracer
_ARRAY = np.ndarray

_DISPATCHER = type(np.concatenate)


def holds_tracer(value: Any) -> bool:
    """Whether ``value`` is a list or tuple with a traced value somewhere inside."""
    if type(value) is not list and type(value) is not tuple:
        return False
    for item in value:
        kind = type(item)
        if kind is Tracer or ((kind is list or kind is tuple) and holds_tracer(item)):
            return True
    return False


def _dtype(item: Any) -> np.dtype:
    dtype = getattr(item, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.asarray(full_value(item)).dtype


def as_traced(value: Any) -> Any:
    """``value`` as an array: a tracer stays, a (nested) list holding tracers is stacked.

    The items of a list are assembled first, then converted to their common dtype (the
    plain ones with NumPy, the traced ones with ``astype``), then stacked along a new
    first axis, as ``np.array`` would lay them out.  Items of different shapes raise
    the ``ValueError`` NumPy raises for an inhomogeneous list.
    """
    if type(value) is Tracer:
        return value
    if not holds_tracer(value):
        return np.asarray(value)
    items = [as_traced(item) for item in value]
    dtype = np.result_type(*(_dtype(item) for item in items))
    astype = operation("astype")
    items = [
        (astype(item, dtype) if item.dtype != dtype else item)
        if type(item) is Tracer
        else np.asarray(item, dtype)
        for item in items
    ]
    shapes = {tuple(item.shape) for item in items}
    if len(shapes) != 1:
        raise ValueError(
            f"setting an array element with a sequence: a list holding traced values has "
            f"items of different shapes {sorted(shapes)} (an inhomogeneous array); "
            f"give every item the same shape"
        )
    return operation("stack")(items, axis=0)


# --- which arguments are array-likes ---------------------------------------------------------


class _Relevant(Exception):
    """Raised by a stand-in when NumPy's dispatch consults it: carries the types seen."""

    def __init__(self, types: Any) -> None:
        super().__init__()
        self.types = types


def _consulted(self: Any, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    raise _Relevant(types)


#: Stand-in classes, one per slot of a call (NumPy consults each *type* once): plain
#: objects for arguments and items, lists for sequence arguments (a dispatcher may read
#: the sequence itself, like ``mean``'s, or iterate over it, like ``concatenate``'s).
_STAND_INS: dict = {object: [], list: []}
#: Which slots NumPy's dispatcher reads as arrays, by function and layout of the call.
_RELEVANCE: dict = {}


def _stand_in(base: type, number: int) -> type:
    made = _STAND_INS[base]
    while len(made) <= number:
        made.append(type(f"_StandIn{len(made)}", (base,), {"__array_function__": _consulted}))
    return made[number]


def _relevant(numpy_fun: Any, args: tuple, kwargs: dict) -> frozenset:
    """The slots NumPy's dispatcher for ``numpy_fun`` reads as arrays, for this layout.

    Every argument is replaced by a stand-in of a type of its own (a sequence by a list
    of stand-ins), so the call dispatches to the first stand-in NumPy consults, which
    reports the types of all the relevant ones; nothing is computed.
    """
    layout = tuple(
        (key, len(arg) if type(arg) is list or type(arg) is tuple else None)
        for key, arg in list(enumerate(args)) + list(kwargs.items())
    )
    cache_key = (numpy_fun, len(args), layout)
    found = _RELEVANCE.get(cache_key)
    if found is not None:
        return found
    kinds: dict = {}
    stand_args: list = []
    stand_kwargs: dict = {}
    for key, length in layout:
        stand: Any
        if length is None:
            kind = kinds[(key, None)] = _stand_in(object, len(kinds))
            stand = kind()
        else:
            items = []
            for index in range(length):
                kind = kinds[(key, index)] = _stand_in(object, len(kinds))
                items.append(kind())
            kind = kinds[(key, None)] = _stand_in(list, len(kinds))
            stand = kind(items)
        if isinstance(key, int):
            stand_args.append(stand)
        else:
            stand_kwargs[key] = stand
    try:
        numpy_fun(*stand_args, **stand_kwargs)
    except _Relevant as relevant:
        types = set(relevant.types)
        found = frozenset(slot for slot, kind in kinds.items() if kind in types)
    except Exception:  # a layout NumPy's dispatcher rejects: nothing to assemble
        found = frozenset()
    else:
        found = frozenset()
    _RELEVANCE[cache_key] = found
    return found


def assemble_arguments(numpy_fun: Any, args: tuple, kwargs: dict) -> tuple | None:
    """``(args, kwargs)`` with their array-likes holding tracers assembled, or ``None``.

    ``None`` when no array-like argument (or item of a sequence argument) holds a traced
    value: the call goes on unchanged.  Which arguments are array-likes is decided by
    ``numpy_fun``, NumPy's (or SciPy's) function of the same name (see the module
    docstring); without one, every argument is.
    """
    if isinstance(numpy_fun, np.ufunc):
        count = numpy_fun.nin
        if not any(holds_tracer(arg) for arg in args[:count]):
            return None
        return (
            tuple(as_traced(arg) if holds_tracer(arg) else arg for arg in args[:count])
            + args[count:],
            kwargs,
        )
    if type(numpy_fun) is not _DISPATCHER:
        if not (
            any(holds_tracer(arg) for arg in args)
            or any(holds_tracer(arg) for arg in kwargs.values())
        ):
            return None
        return (
            tuple(as_traced(arg) if holds_tracer(arg) else arg for arg in args),
            {key: as_traced(arg) if holds_tracer(arg) else arg for key, arg in kwargs.items()},
        )
    if not (
        any(holds_tracer(arg) for arg in args) or any(holds_tracer(arg) for arg in kwargs.values())
    ):
        return None
    relevant = _relevant(numpy_fun, args, kwargs)
    changed = False
    new_args = list(args)
    new_kwargs = dict(kwargs)
    for key, arg in list(enumerate(args)) + list(kwargs.items()):
        if not holds_tracer(arg):
            continue
        if (key, None) in relevant:
            arg = as_traced(arg)
            changed = True
        else:
            items = [
                as_traced(item) if (key, index) in relevant and holds_tracer(item) else item
                for index, item in enumerate(arg)
            ]
            if any(new is not old for new, old in zip(items, arg)):
                arg = items if type(arg) is list else tuple(items)
                changed = True
        if isinstance(key, int):
            new_args[key] = arg
        else:
            new_kwargs[key] = arg
    return (tuple(new_args), new_kwargs) if changed else None


def arraylike_entry(fun: Callable, numpy_fun: Any, name: str | None = None) -> Callable:
    """``fun`` with its array-like arguments that hold traced values assembled first.

    The returned function carries ``fun``'s name, docstring and attributes (and
    ``fun`` itself as ``__wrapped__``).  A call whose arguments are no lists or tuples
    goes straight to ``fun`` after one look at each argument's type.  Arrays of another
    array library go through :func:`~adfun.numpy._dispatch.on_foreign_arrays`.
    """
    name = name or fun.__name__

    def entry(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            kind = type(arg)
            if kind is _TRACER or kind is _ARRAY or kind in NATIVE_TYPES:
                continue
            if (kind is list or kind is tuple) and holds_tracer(arg):
                break
            if holds_foreign((arg,), {}):
                return on_foreign_arrays(name, entry, args, kwargs)
        else:
            if not kwargs:
                return fun(*args)
            for arg in kwargs.values():
                kind = type(arg)
                if (kind is list or kind is tuple) and holds_tracer(arg):
                    break
            else:
                if holds_foreign((), kwargs):
                    return on_foreign_arrays(name, entry, args, kwargs)
                return fun(*args, **kwargs)
        assembled = assemble_arguments(numpy_fun, args, kwargs)
        if assembled is None:
            return fun(*args, **kwargs)
        return fun(*assembled[0], **assembled[1])

    entry.__dict__.update(fun.__dict__)
    entry.__name__ = fun.__name__
    entry.__qualname__ = fun.__qualname__
    entry.__doc__ = fun.__doc__
    entry.__module__ = fun.__module__
    entry.__wrapped__ = fun  # type: ignore[attr-defined]
    return entry
