"""Choosing entries: ``select``, ``choose``, ``compress``, ``extract``, ``nan_to_num``
and piecewise-linear ``interp``, as composites of ``where`` and indexing.

Choices made on traced values are recorded: conditions and index arrays are arguments of
``where`` and ``equal`` nodes, ``interp``'s segments a node of the values, so a staged
graph recomputes them from its new inputs.  Results whose length depends on the values
(``compress``/``extract`` with a traced condition, ``bincount`` of traced positions)
refuse staging with :class:`~adfun.StagingError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.trace import Tracer, any_traced, read_value
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._declare import Domain, export, function_of_values
from adfun.numpy._indexing import getitem, untake
from adfun.numpy._layout import take
from adfun.numpy._nondiff import equal, greater, isnan, less, logical_and, logical_or
from adfun.numpy._selection import where
from adfun.numpy._shape import astype, broadcast_to, ravel
from adfun.numpy._typing import IndexMode
from adfun.numpy._values import concrete, contains_tracer, take_out


def _read_condition(condition: Any, function: str) -> Any:
    """A condition whose number of true entries decides the result's length: its value,
    read with :func:`read_value` (staging refuses)."""
    leaves: list = []
    take_out(condition, leaves)
    for leaf in leaves:
        read_value(
            leaf,
            f"adfun.numpy.{function}",
            "The length of its result is the number of true entries of the traced "
            "condition, and a staged program's shapes are fixed. Keep the shape with "
            "adfun.numpy.where(condition, a, 0) (and sum or count with the "
            f"condition), or call {function} outside the staged function.",
        )
    return concrete(condition)


def _dtype(value: Any) -> np.dtype:
    return dtype_of(value) if type(value) is Tracer else np.asarray(value).dtype


def _arrays(draw: Any, st: Any, hnp: Any, count: int) -> list:
    from adfun.numpy._examples import broadcast_arrays

    return broadcast_arrays(draw, st, hnp, ((-3.0, 3.0),) * count)


def _select_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    count = draw(st.integers(1, 3))
    values = _arrays(draw, st, hnp, 2 * count)
    conditions = [value > 0 for value in values[:count]]
    return (conditions, values[count:]), {"default": draw(st.sampled_from([0.0, -1.0]))}


@export(np.select, domain=Domain(examples=_select_examples))
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """Differentiable :func:`numpy.select`: the first choice whose condition holds.

    Derivative: the cotangent goes to the chosen entry of each choice (``default`` where
    no condition holds).  Traced conditions are arguments of the ``where`` nodes.
    """
    if not any_traced(list(condlist) + list(choicelist) + [default]):
        return np.select(condlist, choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError(
            "adfun.numpy.select: list of cases must be same length as list of conditions"
        )
    result = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        if _dtype(condition) != np.bool_:
            raise TypeError(
                "adfun.numpy.select: invalid entry in condlist: should be boolean ndarray"
            )
        result = where(condition, choice, result)
    shape = np.broadcast_shapes(
        *(shape_of(item) for item in list(condlist) + list(choicelist) + [default])
    )
    return broadcast_to(result, shape) if shape_of(result) != shape else result


def _choose_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    count = draw(st.integers(1, 3))
    choices = _arrays(draw, st, hnp, count)
    shape = np.broadcast_shapes(*(choice.shape for choice in choices))
    index = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, count - 1)))
    return (index, choices), {}


def _choose_index_impl(a: Any, count: int, mode: IndexMode) -> Any:
    """``choose``'s indices after ``mode`` (a function of the values; raises at replay)."""
    index = np.asarray(a)
    if index.dtype.kind not in "iub":
        raise TypeError(f"adfun.numpy.choose: a must hold integers, got dtype {index.dtype}")
    if mode == "wrap":
        return index % count
    if mode == "clip":
        return np.clip(index, 0, count - 1)
    if index.size and (index.min() < 0 or index.max() >= count):
        raise ValueError("adfun.numpy.choose: invalid entry in choice array")
    return index


@export(np.choose, domain=Domain(examples=_choose_examples))
def choose(a: Any, choices: Any, out: Any = None, mode: IndexMode = "raise") -> Any:
    """Differentiable :func:`numpy.choose` (in the ``choices``; ``a`` holds indices).

    A traced ``a`` (indices computed from traced values) is recorded: the checked indices
    are a node, and each choice is taken by a ``where`` node.
    """
    if type(a) is not Tracer and type(choices) is not Tracer and not any_traced(list(choices)):
        return np.choose(a, choices, out=out, mode=mode)
    if out is not None:
        raise TypeError("adfun.numpy.choose: out= is not supported on traced values")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(
            f"adfun.numpy.choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}"
        )
    count = len(choices)
    index = _choose_index(a, count, mode)
    shape = np.broadcast_shapes(
        shape_of(a), *(shape_of(choices[position]) for position in range(count))
    )
    result = broadcast_to(choices[count - 1], shape)
    first = count - 2 if count > 1 and type(index) is not Tracer else count - 1
    # With traced indices the last choice is also taken by a ``where``: the checked
    # indices then always reach the graph (a staged call checks its own ``a``).
    for position in range(first, -1, -1):
        result = where(equal(index, position), choices[position], result)
    return result


def _compress_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=1)
    axis = draw(st.one_of(st.none(), st.integers(0, x.ndim - 1)))
    length = x.size if axis is None else x.shape[axis]
    condition = draw(st.lists(st.booleans(), min_size=0, max_size=length))
    return (condition, x), {"axis": axis}


@export(np.compress, domain=Domain(examples=_compress_examples))
def compress(condition: Any, a: Any, axis: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.compress`: the slices where ``condition`` holds.

    The result's length depends on a traced ``condition``'s values: under ``jit`` or
    ``trace`` such a condition raises :class:`~adfun.StagingError` (a constant condition
    is fine).
    """
    if type(a) is not Tracer and not contains_tracer(condition):
        return np.compress(condition, a, axis=axis, out=out)
    condition = _read_condition(condition, "compress")
    if type(a) is not Tracer:
        return np.compress(condition, a, axis=axis, out=out)
    if out is not None:
        raise TypeError("adfun.numpy.compress: out= is not supported on traced values")
    positions = np.flatnonzero(np.asarray(condition))
    return take(a, positions, axis=axis)


def _extract_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x,) = _arrays(draw, st, hnp, 1)
    return (x > 0, x), {}


@export(np.extract, domain=Domain(examples=_extract_examples))
def extract(condition: Any, arr: Any) -> Any:
    """Differentiable :func:`numpy.extract`: the entries where ``condition`` holds.

    The result's length depends on a traced ``condition``'s values: under ``jit`` or
    ``trace`` such a condition raises :class:`~adfun.StagingError`.
    """
    if type(arr) is not Tracer and not contains_tracer(condition):
        return np.extract(condition, arr)
    condition = _read_condition(condition, "extract")
    if type(arr) is not Tracer:
        return np.extract(condition, arr)
    positions = np.flatnonzero(np.asarray(condition))
    return ravel(arr)[positions]


def _nan_to_num_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (x,) = _arrays(draw, st, hnp, 1)
    mask = draw(hnp.arrays(np.int8, x.shape, elements=st.sampled_from([0, 0, 0, 1, 2, 3])))
    x = np.where(mask == 1, np.nan, np.where(mask == 2, np.inf, np.where(mask == 3, -np.inf, x)))
    return (x,), {
        "nan": draw(st.sampled_from([0.0, 1.5])),
        "posinf": draw(st.sampled_from([None, 9.0])),
    }


@export(np.nan_to_num, domain=Domain(examples=_nan_to_num_examples))
def nan_to_num(
    x: Any, copy: bool = True, nan: Any = 0.0, posinf: Any = None, neginf: Any = None
) -> Any:
    """Differentiable :func:`numpy.nan_to_num`.

    Derivative: 1 on finite entries of ``x`` and 0 on replaced ones; the fill values
    ``nan``, ``posinf`` and ``neginf`` may be traced too, and receive the derivative of the
    entries they replace.  The masks are recorded (``isnan``, ``isposinf``, ``isneginf``
    nodes), so a staged graph recomputes them from new inputs.
    """
    fills = (nan, posinf, neginf)
    if type(x) is not Tracer and not any_traced(fills):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    from adfun.numpy import imag, isnan, isneginf, isposinf, real, where

    if type(x) is not Tracer:
        x = np.asarray(x)
    dtype = np.dtype(x.dtype)
    if dtype.kind == "c":
        parts = [nan_to_num(part, copy, nan, posinf, neginf) for part in (real(x), imag(x))]
        return parts[0] + 1j * parts[1]
    if dtype.kind != "f":
        return x  # NumPy returns integers and booleans unchanged
    info = np.finfo(dtype)
    high = info.max if posinf is None else posinf
    low = info.min if neginf is None else neginf
    result = x
    for mask, fill in ((isposinf, high), (isneginf, low), (isnan, nan)):
        # NumPy casts each fill value to x's dtype (an unsafe cast, as copyto does).
        fill = fill.astype(dtype) if type(fill) is Tracer else np.asarray(fill).astype(dtype)
        result = where(mask(x), fill, result)
    return result


# --- interp ----------------------------------------------------------------------------


def _interp_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    count = draw(st.integers(1, 5))
    steps = array(draw, st, hnp, (0.3, 1.0), shape=(count,))
    xp = np.cumsum(steps) - 1.5
    fp = array(draw, st, hnp, (-2.0, 2.0), shape=(count,))
    x = array(draw, st, hnp, (-2.5, 2.5), min_dims=0)
    # Keep x off the knots: the derivative in x jumps there.
    nearest = np.min(np.abs(x[..., None] - xp), axis=-1)
    x = np.where(nearest < 0.02, x + 0.05, x)
    return (x, xp, fp), {}


@export(np.interp, domain=Domain(examples=_interp_examples))
def interp(
    x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None
) -> Any:
    """Differentiable :func:`numpy.interp` in ``x``, ``xp`` and ``fp`` (real values).

    Derivative: the slope of the segment containing ``x`` (the right-hand segment at a
    knot; 0 outside ``[xp[0], xp[-1]]``), and the linear weights for ``xp`` and ``fp``.
    The segment of each ``x`` is a recorded node (a staged graph finds it again).

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp, numpy as np
    >>> float(ad.grad(lambda x: anp.interp(x, [0.0, 1.0, 2.0], [0.0, 2.0, 3.0]))(0.5))
    2.0
    """
    if not any_traced((x, xp, fp, left, right)):
        return np.interp(x, xp, fp, left=left, right=right, period=period)
    if period is not None:
        raise NotImplementedError("adfun.numpy.interp: period= is not supported on traced values")
    xp, fp, x = (_as_float64(value) for value in (xp, fp, x))
    if len(shape_of(xp)) != 1 or len(shape_of(fp)) != 1:
        raise ValueError("adfun.numpy.interp: xp and fp must be 1-D sequences")
    count = shape_of(xp)[0]
    if count == 0 or shape_of(fp)[0] != count:
        raise ValueError("adfun.numpy.interp: fp and xp are not of the same length (or are empty)")
    left = fp[0] if left is None else left
    right = fp[count - 1] if right is None else right
    if count == 1:  # NumPy: fp[0] unless x < xp[0] or x > xp[0] (a NaN x gives fp[0])
        at = broadcast_to(fp[0], shape_of(x))
        return where(less(x, xp[0]), left, where(greater(x, xp[0]), right, at))
    # The segment NumPy's search picks for each x (-1 left of xp, count right of it), as
    # a recorded node, and NumPy's formula and fallbacks on it, operation for operation.
    found, segment = _interp_segment(xp, x)
    x0, x1 = getitem(xp, segment), getitem(xp[1:], segment)
    y0, y1 = getitem(fp, segment), getitem(fp[1:], segment)
    slope = (y1 - y0) / (x1 - x0)
    forward = slope * (x - x0) + y0
    backward = slope * (x - x1) + y1
    # At a knot x == x0, ``forward`` is y0 exactly unless it is NaN (then NumPy gives y0):
    # the derivative there is the right-hand segment's slope.
    fallback = where(
        logical_or(equal(x, x0), logical_and(isnan(backward), equal(y0, y1))), y0, backward
    )
    inside = where(isnan(forward), fallback, forward)
    inside = where(equal(found, count - 1), fp[count - 1], inside)
    result = where(equal(found, -1), left, where(equal(found, count), right, inside))
    return where(isnan(x), x, result)


def _as_float64(value: Any) -> Any:
    if type(value) is not Tracer:
        return np.asarray(value, dtype=np.float64)
    return value if dtype_of(value) == np.float64 else astype(value, np.float64)


def _interp_search(xp: np.ndarray, x: np.ndarray) -> np.ndarray:
    """For each ``x``, the ``j`` of NumPy's ``interp`` search: ``-1`` when ``x < xp[0]``,
    ``len(xp)`` when ``x > xp[-1]``, else ``j`` with ``xp[j] <= x < xp[j + 1]`` as NumPy's
    ``binary_search_with_guess`` finds it (on an unsorted ``xp`` too, where the answer
    depends on the order of the search; NaN entries of ``x`` are skipped)."""
    length = xp.shape[0]
    flat = np.ravel(x)
    if not np.all(xp[:-1] <= xp[1:]):  # unsorted or NaN: the search itself, in C order
        found = np.zeros(flat.shape, dtype=np.intp)
        arr, guess = xp.tolist(), 0
        for index, key in enumerate(flat.tolist()):
            if key != key:
                continue
            guess = _search_with_guess(key, arr, length, guess)
            found[index] = guess
        return found.reshape(np.shape(x))
    found = np.searchsorted(xp, flat, side="right") - 1
    found[flat > xp[-1]] = length
    return found.reshape(np.shape(x))


def _search_with_guess(key: float, arr: list, length: int, guess: int) -> int:
    """NumPy's ``binary_search_with_guess`` (its result on any ``arr``, sorted or not)."""
    if key > arr[length - 1]:
        return length
    if key < arr[0]:
        return -1
    if length <= 4:
        index = 1
        while index < length and key >= arr[index]:
            index += 1
        return index - 1
    cache = 8
    guess = max(min(guess, length - 3), 1)
    low, high = 0, length
    if key < arr[guess]:  # (the comparisons are NumPy's, literally: NaN makes them differ)
        if not key < arr[guess - 1]:
            return guess - 1
        high = guess - 1
        if guess > cache and key >= arr[guess - cache]:
            low = guess - cache
    else:
        if key < arr[guess + 1]:
            return guess
        if key < arr[guess + 2]:
            return guess + 1
        low = guess + 2
        if guess < length - cache - 1 and key < arr[guess + cache]:
            high = guess + cache
    while low < high:
        middle = low + ((high - low) >> 1)
        if key >= arr[middle]:
            low = middle + 1
        else:
            high = middle
    return low - 1


def _interp_segment_impl(xp: Any, x: Any) -> tuple:
    """NumPy's search result for each ``x`` and the segment used for its formula (the
    search result clipped to ``[0, len(xp) - 2]``)."""
    found = _interp_search(np.asarray(xp, dtype=np.float64), np.asarray(x, dtype=np.float64))
    return found, np.clip(found, 0, np.shape(xp)[0] - 2)


def _bincount_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    count = draw(st.integers(1, 6))
    x = np.asarray(draw(st.lists(st.integers(0, 4), min_size=count, max_size=count)))
    return (x, array(draw, st, hnp, (-3.0, 3.0), shape=(count,))), {
        "minlength": draw(st.integers(0, 7))
    }


@export(np.bincount, domain=Domain(examples=_bincount_examples))
def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
    """:func:`numpy.bincount`; with traced ``weights``, the weighted counts are a
    scatter-add of the weights (differentiable); the counts themselves are constants.

    The result's length, ``max(x) + 1``, depends on the values of ``x``: a traced ``x``
    (positions computed from traced values) raises :class:`~adfun.StagingError` under
    ``jit`` or ``trace``.  With a known number of bins ``n``, write
    ``sum(where(x[:, None] == arange(n), weights[:, None], 0.0), axis=0)`` instead.
    """
    if type(x) is not Tracer and type(weights) is not Tracer:
        return np.bincount(x, weights=weights, minlength=minlength)
    if type(x) is Tracer:
        x = read_value(
            x,
            "adfun.numpy.bincount",
            "The length of its result is max(x) + 1, which depends on the values "
            "of x, and a staged program's shapes are fixed. With a known number "
            "of bins n, write adfun.numpy.sum(adfun.numpy.where(x[:, None] == "
            "adfun.numpy.arange(n), weights[:, None], 0.0), axis=0) (counts: "
            "weights 1.0), or call bincount outside the staged function.",
        )
    if type(weights) is not Tracer:
        return np.bincount(x, weights=weights, minlength=minlength)
    positions = np.asarray(x)
    if positions.dtype.kind not in "iub":
        raise TypeError(
            f"adfun.numpy.bincount: x must hold non-negative integers, got dtype {positions.dtype}"
        )
    if positions.ndim != 1 or shape_of(weights) != positions.shape:
        raise ValueError("adfun.numpy.bincount: x must be 1-D and weights must have its shape")
    if positions.size and positions.min() < 0:
        raise ValueError("adfun.numpy.bincount: x must contain non-negative integers")
    length = max(int(positions.max()) + 1 if positions.size else 0, int(minlength))
    return untake(astype(weights, np.float64), positions, (length,))


#: ``choose``'s checked indices and ``interp``'s segments, as recorded nodes when traced.
_choose_index = function_of_values("choose_index", _choose_index_impl)
_interp_segment = function_of_values("interp_segment", _interp_segment_impl, several=True)
