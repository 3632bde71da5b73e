"""What the distributions share: SciPy's conventions outside the support and for
invalid parameters, written so that derivatives stay finite.

SciPy's distribution methods return a fixed value outside the support (``0`` for a
density, ``-inf`` for its logarithm, ``0`` or ``1`` for a distribution function) and NaN
where a parameter is invalid (``scale <= 0``, a shape ``<= 0``...).  A formula evaluated
there would give NaN or infinite values whose derivatives poison the rest of an array
(``0 * nan`` is NaN in a reverse pass), so :func:`guarded` evaluates it on safe stand-ins
and selects SciPy's value afterwards: the selected constants have zero derivative.
"""

from __future__ import annotations

from typing import Any, Callable

import adfun.numpy as anp

NAN = float("nan")
INF = float("inf")


def guarded(
    formula: Callable[..., Any],
    arguments: tuple,
    stand_ins: tuple,
    valid: Any,
    inside: Any = True,
    outside: Any = 0.0,
) -> Any:
    """``formula(*arguments)`` where ``valid & inside``, ``outside`` where ``valid`` only,
    NaN elsewhere.

    ``formula`` is evaluated once, on ``arguments`` with every entry outside
    ``valid & inside`` replaced by the matching entry of ``stand_ins`` (a point where it
    is finite), so that no NaN or infinity reaches a derivative.
    """
    usable = anp.logical_and(valid, inside)
    safe = tuple(
        argument if stand_in is None else anp.where(usable, argument, stand_in)
        for argument, stand_in in zip(arguments, stand_ins, strict=True)
    )
    value = formula(*safe)
    return anp.where(valid, anp.where(inside, value, outside), NAN)


def positive(*values: Any) -> Any:
    """Whether every value is ``> 0``, entry by entry (broadcast)."""
    mask: Any = True
    for value in values:
        mask = anp.logical_and(mask, anp.greater(value, 0.0))
    return mask


def standardize(x: Any, loc: Any, scale: Any) -> tuple[Any, Any, Any]:
    """``((x - loc) / scale, scale, ok)``: ``scale`` replaced by 1 where ``scale <= 0``
    (those entries are NaN in the end; ``ok`` marks the others)."""
    ok = positive(scale)
    safe_scale = anp.where(ok, scale, 1.0)
    return (x - loc) / safe_scale, safe_scale, ok


def continuous(
    formula: Callable[..., Any],
    z: Any,
    shapes: tuple,
    valid: Any,
    inside: Any,
    outside: Any,
    stand_in: float,
) -> Any:
    """A method of a continuous distribution in standard form: ``formula(z, *shapes)``
    where ``valid`` and ``inside``, ``outside`` where only ``valid``, NaN elsewhere (the
    shapes are replaced by 1 and ``z`` by ``stand_in`` where unused)."""
    return guarded(
        formula,
        (z, *shapes),
        (stand_in,) + (1.0,) * len(shapes),
        valid,
        inside,
        outside,
    )


__all__ = ["INF", "NAN", "continuous", "guarded", "positive", "standardize"]
