"""Products and scans: ``prod``, ``cumsum`` and ``cumprod``.

The rules never divide by the input, so they are exact when entries are zero:
``prod`` uses the product of all *other* entries (exclusive prefix times exclusive
suffix products), and ``cumprod`` treats the first zero of each scan line apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import Params
from adfun._engine.trace import Tracer, bind_unary, full_value, values_hidden
from adfun.numpy._axes import dtype_of, kept_shape, ndim_of, normalize_axis, shape_of
from adfun.numpy._batching import along_axis, reduction
from adfun.numpy._declare import Domain, complexified, export, primitive
from adfun.numpy._nondiff import equal, logical_and, logical_or
from adfun.numpy._reductions import sum  # noqa: A004
from adfun.numpy._selection import where
from adfun.numpy._shape import astype, broadcast_to, concatenate, ravel, reshape, transpose


def _with_zeros(draw: Any, st: Any, hnp: Any, min_dims: int = 0) -> Any:
    """An array of moderate entries where some entries are exactly zero."""
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (0.3, 1.6), min_dims=min_dims, magnitude=True)
    mask = draw(hnp.arrays(np.bool_, x.shape, elements=st.sampled_from([False, False, True])))
    return np.where(mask, 0.0, x)


def _prod_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import axis_params

    x = _with_zeros(draw, st, hnp)
    return (x,), axis_params(draw, st, x.ndim)


def _scan_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    x = _with_zeros(draw, st, hnp, min_dims=1)
    return (x,), {"axis": draw(st.integers(0, x.ndim - 1))}


def _scan_axis(a: Any, axis: Any, name: str) -> int:
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"adfun.numpy.{name}: axis must be an int or None, got {axis!r}")
    return normalize_axis(axis, ndim_of(a), name)[0]


# --- helpers on the last axis -------------------------------------------------------------


def _last(x: Any, start: Any, stop: Any) -> Any:
    return x[..., start:stop]


def _reverse_cumsum(v: Any, axis: int) -> Any:
    """``out[i] = sum(v[j] for j >= i)`` along ``axis`` (summed from the end: no
    cancellation when late entries are much smaller than early ones)."""
    backwards = (slice(None),) * axis + (slice(None, None, -1),)
    return cumsum(v[backwards], axis=axis)[backwards]


def _moved_to_end(x: Any, axes: tuple | None) -> tuple:
    """``x`` with the ``axes`` moved last and flattened into one; and how to undo it."""
    shape = shape_of(x)
    ndim = len(shape)
    axes = tuple(range(ndim)) if axes is None else axes
    kept = [index for index in range(ndim) if index not in axes]
    order = tuple(kept + list(axes))
    moved = transpose(x, order) if order != tuple(range(ndim)) else x
    moved_shape = tuple(shape[index] for index in order)
    flat = reshape(moved, tuple(shape[index] for index in kept) + (-1,))

    def restore(y: Any) -> Any:
        y = reshape(y, moved_shape)
        if order == tuple(range(ndim)):
            return y
        return transpose(y, tuple(int(index) for index in np.argsort(order)))

    return flat, restore


def _product_of_others(x: Any, axes: tuple | None) -> Any:
    """For each entry, the product of the other entries of its reduced group."""
    flat, restore = _moved_to_end(x, axes)
    length = shape_of(flat)[-1]
    if length == 0:
        return restore(flat)
    ones = np.ones(shape_of(flat)[:-1] + (1,), dtype_of(x))
    before = cumprod(concatenate([ones, _last(flat, None, -1)], axis=-1), axis=ndim_of(flat) - 1)
    shifted = concatenate([_last(flat, 1, None), ones], axis=-1)
    after = cumprod(shifted[..., ::-1], axis=ndim_of(flat) - 1)[..., ::-1]
    return restore(before * after)


# --- prod --------------------------------------------------------------------------------


def _prod_impl(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.prod(a, axis=axis, keepdims=keepdims)


def _prod_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    shape = shape_of(x)
    if not keepdims:
        g = reshape(g, kept_shape(shape, axis))
    return broadcast_to(g, shape) * _product_of_others(x, axis)


def _prod_jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return sum(t * _product_of_others(x, axis), axis=axis, keepdims=keepdims)


_PROD = primitive(
    "prod",
    _prod_impl,
    (_prod_vjp,),
    (_prod_jvp,),
    domain=Domain(examples=_prod_examples),
    complex_domain=complexified(_prod_examples),
    batch=reduction,
)


@export(np.prod, primitive=_PROD, signature="prod(a, axis=None, keepdims=False)")
def prod(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    """Differentiable :func:`numpy.prod`.

    Derivative: for each entry, the product of the other entries of its group, computed
    without division (exact when entries are zero).

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp, numpy as np
    >>> ad.grad(anp.prod)(np.array([2.0, 0.0, 3.0]))
    array([0., 6., 0.])
    """
    if type(a) is not Tracer:
        return np.prod(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    _refuse_options("prod", dtype=dtype, out=out, **kwargs)
    params = Params(axis=normalize_axis(axis, ndim_of(a), "prod"), keepdims=bool(keepdims))
    return bind_unary(_PROD, a, params)


def _refuse_options(name: str, **options: Any) -> None:
    given = sorted(key for key, value in options.items() if value is not None)
    if given:
        raise TypeError(
            f"adfun.numpy.{name}: the argument(s) {given} are not supported on "
            f"traced values; cast with .astype(...) first and drop out="
        )


# --- cumsum ------------------------------------------------------------------------------


def _cumsum_impl(a: Any, axis: int = 0) -> Any:
    return np.cumsum(a, axis=axis)


def _cumsum_vjp(g: Any, ans: Any, x: Any, axis: int = 0) -> Any:
    return _reverse_cumsum(g, axis)


def _cumsum_jvp(t: Any, ans: Any, x: Any, axis: int = 0) -> Any:
    return cumsum(t, axis=axis)


_CUMSUM = primitive(
    "cumsum",
    _cumsum_impl,
    (_cumsum_vjp,),
    (_cumsum_jvp,),
    domain=Domain(examples=_scan_examples),
    complex_domain=complexified(_scan_examples),
    batch=along_axis(),
)


@export(np.cumsum, primitive=_CUMSUM, signature="cumsum(a, axis=None)")
def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.cumsum` (``axis=None`` scans the flattened array).

    Derivative: the reversed cumulative sum of the cotangent.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp, numpy as np
    >>> ad.grad(lambda x: anp.sum(anp.cumsum(x)))(np.array([1.0, 2.0, 3.0]))
    array([3., 2., 1.])
    """
    if type(a) is not Tracer:
        return np.cumsum(a, axis=axis, dtype=dtype, out=out)
    _refuse_options("cumsum", dtype=dtype, out=out)
    if axis is None:
        a, axis = ravel(a), 0
    return bind_unary(_CUMSUM, a, Params(axis=_scan_axis(a, axis, "cumsum")))


# --- cumprod -----------------------------------------------------------------------------


def _zero_structure(x: Any, axis: int) -> tuple:
    """Masks along each scan line: entries before the first zero, and the first zero.

    Computed with ``equal`` and ``cumsum`` (recorded nodes when ``x`` is traced, so that a
    staged graph finds the zeros of each new input)."""
    zeros = equal(x, 0)
    seen = cumsum(astype(zeros, np.intp), axis=axis)
    return equal(seen, 0), logical_and(zeros, equal(seen, 1))


def _differentiations_ahead(x: Any) -> int:
    """How many more times a rule applied to ``x`` will be differentiated: the
    differentiation traces among ``x``'s levels (a staging trace is none)."""
    count = 0
    while type(x) is Tracer:
        count += not x.trace.staging
        x = x.value
    return count


def _further(x: Any, order: int) -> int:
    """How many more times the rule of a cumprod node of ``x`` will be differentiated
    to effect: the differentiations ahead, at most ``order - 1`` when the node's own
    derivatives matter only to ``order`` (``order < 0``: no bound)."""
    ahead = _differentiations_ahead(x)
    return ahead if order < 0 else max(min(ahead, order - 1), 0)


def _zero_levels(x: Any, axis: int, further: int) -> list:
    """The scan lines of ``x`` peeled zero by zero: ``(current, before, first)`` per level.

    Level 0 is ``x``; level ``l + 1`` is level ``l`` with its first zeros replaced by 1.
    The rule's value needs only level 0; each further differentiation of the rule needs
    one more level (the dependence of the result on the next zero), so there are
    ``1 + further`` levels.  Under staging the number of levels depends only on the
    tracing, never on the values; eagerly the peeling also stops at a level without
    zeros.
    """
    levels: list[tuple[Any, Any, Any]] = []
    current = x
    eager = not values_hidden(x)
    for level in range(1 + further):
        if level:
            current = where(levels[-1][2], 1.0, current)
        before, first = _zero_structure(current, axis)
        levels.append((current, before, first))
        if eager and not np.any(full_value(first)):
            # Eagerly, a level without zeros ends the peeling: the staged rule's further
            # levels are never selected there (their values are the same; their
            # derivatives add zeros).
            break
    return levels


def _first_zero(current: Any, first: Any, axis: int) -> Any:
    """The value (0, but carrying its derivative) of each line's first zero."""
    return sum(where(first, current, 0.0), axis=axis, keepdims=True)


def _scan(x: Any, axis: int, order: int) -> Any:
    """``cumprod(x, axis)`` whose derivatives matter only to ``order``.

    Level ``l`` of a rule is multiplied by the values of ``l`` zeros: of ``d`` further
    derivatives, at most ``d - l`` reach it, so its own cumprods are bounded to that
    order (without the bound, each order multiplies the levels of every nested rule).
    """
    if type(x) is not Tracer:
        return np.cumprod(x, axis=axis)
    return bind_unary(_CUMPROD, x, Params(axis=axis, order=order))


def _scan_last(x: Any, axis: int, order: int) -> Any:
    """The product along ``axis`` (kept as a length-1 axis): the scan's last entry."""
    key = [slice(None)] * ndim_of(x)
    key[axis] = slice(-1, None)
    return _scan(x, axis, order)[tuple(key)]


def _cumprod_vjp(g: Any, ans: Any, x: Any, axis: int = 0, order: int = -1) -> Any:
    if order == 0:  # only the value of this scan matters (see _scan)
        return np.zeros(shape_of(x), dtype_of(x))
    further = _further(x, order)
    levels = _zero_levels(x, axis, further)
    result = None
    for level, (current, before, first) in reversed(list(enumerate(levels))):
        bound = further - level
        value = ans if level == 0 else _scan(current, axis, bound)
        safe = where(before, current, 1.0)
        regular = _reverse_cumsum(g * value, axis) / safe
        prefix = _scan_last(safe, axis, bound)
        after_first = _scan(where(logical_or(before, first), 1.0, current), axis, bound)
        at_zero = prefix * sum(where(before, 0.0, g * after_first), axis=axis, keepdims=True)
        later = 0.0 if result is None else _first_zero(current, first, axis) * result
        result = where(before, regular, where(first, at_zero, later))
    return result


def _cumprod_jvp(t: Any, ans: Any, x: Any, axis: int = 0, order: int = -1) -> Any:
    if order == 0:  # only the value of this scan matters (see _scan)
        return np.zeros(shape_of(ans), dtype_of(ans))
    further = _further(x, order)
    total = None
    scale: Any = 1.0
    for level, (current, before, first) in enumerate(_zero_levels(x, axis, further)):
        bound = further - level
        value = ans if level == 0 else _scan(current, axis, bound)
        safe = where(before, current, 1.0)
        prefix = _scan_last(safe, axis, bound)
        after_first = _scan(where(logical_or(before, first), 1.0, current), axis, bound)
        t_first = sum(where(first, t, 0.0), axis=axis, keepdims=True)
        term = value * cumsum(where(before, t / safe, 0.0), axis=axis) + where(
            before, 0.0, t_first * prefix * after_first
        )
        total = term if level == 0 else total + scale * term
        scale = scale * _first_zero(current, first, axis)
        t = where(logical_or(before, first), 0.0, t)
    return total


def _cumprod_impl(a: Any, axis: int = 0, order: int = -1) -> Any:
    return np.cumprod(a, axis=axis)


_CUMPROD = primitive(
    "cumprod",
    _cumprod_impl,
    (_cumprod_vjp,),
    (_cumprod_jvp,),
    domain=Domain(examples=_scan_examples),
    complex_domain=complexified(_scan_examples),
    batch=along_axis(),
)


@export(np.cumprod, primitive=_CUMPROD, signature="cumprod(a, axis=None)")
def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.cumprod` (``axis=None`` scans the flattened array).

    Derivative: exact with zeros (no division by the input): entries before the first
    zero of a scan line get ``revcumsum(g * ans) / x``, the first zero gets the product
    of the entries before it times the cotangent-weighted running products after it,
    and entries after it get 0.  (Entries of magnitude below about ``1e-150`` but not
    zero make second derivatives inaccurate: the regular part divides by them.)  The zeros
    are found with recorded nodes (``equal``, ``cumsum``), so the rules are the same under
    ``jit`` / ``trace`` as eagerly, and take O(n) memory.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp, numpy as np
    >>> ad.grad(lambda x: anp.sum(anp.cumprod(x)))(np.array([2.0, 0.0, 3.0]))
    array([1., 8., 0.])
    """
    if type(a) is not Tracer:
        return np.cumprod(a, axis=axis, dtype=dtype, out=out)
    _refuse_options("cumprod", dtype=dtype, out=out)
    if axis is None:
        a, axis = ravel(a), 0
    return bind_unary(_CUMPROD, a, Params(axis=_scan_axis(a, axis, "cumprod")))
