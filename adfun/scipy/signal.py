"""Differentiable :mod:`scipy.signal`: ``convolve`` and ``correlate``.

Both take SciPy's arguments (n-d arrays of the same dimensionality, ``mode`` one of
``'full'``, ``'valid'``, ``'same'``, ``method`` one of ``'auto'``, ``'direct'``,
``'fft'``) and give SciPy's values: on plain arrays they are SciPy's functions, and the
primitives call them.  Both are differentiable in both arguments, in both modes, to any
order: a convolution is linear in each argument, and its derivatives are convolutions
again (of the cotangent with the other argument flipped, for the reverse mode).

:func:`convolve` also takes HIPS autograd's keywords ``axes`` and ``dot_axes``: convolve
along some pairs of axes, contract (sum the product) along others, and keep every other
axis of both arguments, as autograd's ``convnet`` example does to convolve a batch of
images with a bank of filters.

The primitive underneath, ``signal.convolve``, computes one *window* of the full
convolution along each convolved pair of axes: entries ``lo`` to ``lo + n - 1`` of
``sum_j in1[j] in2[k - j]`` (with zeros outside the arguments).  Each mode is one such
window, and so is every derivative (the reverse rule of ``'same'`` with an even kernel is
not a SciPy mode: it is computed as SciPy's ``'full'`` convolution, cut).

Both take complex arguments, with HIPS autograd's and JAX's convention for the
derivatives (docs/conventions.md): a convolution is holomorphic in each argument, so its
rules keep no conjugates; a correlation conjugates its second argument
(``correlate(a, b) = convolve(a, flip(conj(b)))``), and its rules for ``in2`` are
conjugated accordingly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from adfun._engine.records import Params
from adfun._engine.trace import Tracer, any_traced, bind
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._complex import conjugate
from adfun.numpy._declare import Domain, complexified, export, primitive
from adfun.numpy._shape import transpose

_MODES = ("full", "valid", "same")
_METHODS = ("auto", "direct", "fft")

#: The largest block of shifted copies the general layout's product builds at once.
_CHUNK_BYTES = 1 << 25

#: ``(lo, n)`` for each convolved pair of axes: full-convolution entries ``lo .. lo+n-1``.
Window = tuple[tuple[int, int], ...]


def _scipy_signal() -> Any:
    """:mod:`scipy.signal`, imported on first use: it takes longer to import than the rest
    of :mod:`adfun.scipy` together, and users of ``special`` alone need not wait for it."""
    import scipy.signal

    return scipy.signal


# --- the layout: which axes are convolved, contracted and kept ---------------------------


def _check_options(name: str, mode: Any, method: Any) -> None:
    if not isinstance(mode, str) or mode not in _MODES:
        hint = (
            " (autograd passes axes as the third positional argument: pass axes=... "
            "and dot_axes=... by keyword)"
            if not isinstance(mode, str)
            else ""
        )
        raise ValueError(
            f"adfun.scipy.signal.{name}: mode must be 'full', 'valid' or 'same', got {mode!r}{hint}"
        )
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(
            f"adfun.scipy.signal.{name}: method must be 'auto', 'direct' or 'fft', got {method!r}"
        )


def _axis_pair(
    name: str, keyword: str, value: Any, ndims: tuple[int, int]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``value`` as two tuples of non-negative axes, one per argument, of equal length."""
    try:
        first, second = value
        pair = (tuple(first), tuple(second))
    except (TypeError, ValueError):
        raise TypeError(
            f"adfun.scipy.signal.{name}: {keyword} must be a pair of axis lists, one for in1 "
            f"and one for in2 (e.g. {keyword}=([2, 3], [2, 3])), got {value!r}"
        ) from None
    if len(pair[0]) != len(pair[1]):
        raise ValueError(
            f"adfun.scipy.signal.{name}: {keyword} pairs axes of in1 with axes of in2, so its "
            f"two lists must have the same length, got {value!r}"
        )
    normalized: list[tuple[int, ...]] = []
    for which, axes, ndim in zip(("in1", "in2"), pair, ndims):
        out = []
        for axis in axes:
            if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
                raise TypeError(
                    f"adfun.scipy.signal.{name}: {keyword} must hold integer axes, got {axis!r}"
                )
            if not -ndim <= axis < ndim:
                raise ValueError(
                    f"adfun.scipy.signal.{name}: axis {axis} of {keyword} is out of bounds "
                    f"for {which}, which has {ndim} dimension(s)"
                )
            out.append(int(axis) % ndim)
        normalized.append(tuple(out))
    return normalized[0], normalized[1]


def _window(name: str, pairs: Sequence[tuple[int, int]], mode: str) -> Window:
    """The full-convolution entries each mode keeps, for each pair of sizes ``(n1, n2)``."""
    if mode == "full":
        return tuple((0, n1 + n2 - 1) for n1, n2 in pairs)
    if mode == "same":
        return tuple(((n2 - 1) // 2, n1) for n1, n2 in pairs)
    if not (all(n1 >= n2 for n1, n2 in pairs) or all(n2 >= n1 for n1, n2 in pairs)):
        raise ValueError(
            f"adfun.scipy.signal.{name}: for 'valid' mode one argument must be at least as "
            f"large as the other along every convolved axis, got sizes {list(pairs)}"
        )
    return tuple((min(n1, n2) - 1, abs(n1 - n2) + 1) for n1, n2 in pairs)


def _layout(name: str, shape1: tuple, shape2: tuple, axes: Any, dot_axes: Any, mode: str) -> dict:
    """The primitive's params: ``axes``, ``dot_axes`` (pairs of tuples) and ``window``."""
    ndims = (len(shape1), len(shape2))
    if axes is None and dot_axes is None:
        if ndims[0] != ndims[1]:
            raise ValueError(
                f"adfun.scipy.signal.{name}: in1 and in2 should have the same dimensionality, "
                f"got shapes {shape1} and {shape2} (or say which axes to convolve with axes=...)"
            )
        conv = tuple(range(ndims[0]))
        pair_axes: tuple[tuple[int, ...], tuple[int, ...]] = (conv, conv)
        pair_dots: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())
    else:
        if axes is None:
            raise ValueError(
                f"adfun.scipy.signal.{name}: dot_axes needs axes too: say which axes to "
                f"convolve (axes=([...], [...]); ([], []) for none)"
            )
        pair_axes = _axis_pair(name, "axes", axes, ndims)
        pair_dots = _axis_pair(name, "dot_axes", ((), ()) if dot_axes is None else dot_axes, ndims)
        for which, conv, dot in zip(("in1", "in2"), pair_axes, pair_dots):
            used = conv + dot
            if len(set(used)) != len(used):
                raise ValueError(
                    f"adfun.scipy.signal.{name}: an axis of {which} appears twice in axes and "
                    f"dot_axes (axes {conv}, dot_axes {dot}); each axis has one role"
                )
        for axis1, axis2 in zip(*pair_dots):
            if shape1[axis1] != shape2[axis2]:
                raise ValueError(
                    f"adfun.scipy.signal.{name}: dot_axes pairs axis {axis1} of in1 (size "
                    f"{shape1[axis1]}) with axis {axis2} of in2 (size {shape2[axis2]}); "
                    f"contracted axes must have the same size"
                )
    sizes = [(shape1[axis1], shape2[axis2]) for axis1, axis2 in zip(*pair_axes)]
    if any(0 in pair for pair in sizes):
        raise ValueError(
            f"adfun.scipy.signal.{name}: in1 and in2 cannot be empty along a convolved axis, "
            f"got shapes {shape1} and {shape2}"
        )
    return {"axes": pair_axes, "dot_axes": pair_dots, "window": _window(name, sizes, mode)}


def _kept_axes(ndim: int, conv: tuple, dot: tuple) -> tuple:
    return tuple(axis for axis in range(ndim) if axis not in conv and axis not in dot)


# --- computing a window of the convolution -------------------------------------------------


def _scipy_mode(shape1: tuple, shape2: tuple, window: Window) -> str | None:
    """The SciPy mode whose result is exactly ``window`` (None: none is)."""
    pairs = list(zip(shape1, shape2))
    for mode in _MODES:
        try:
            if _window("convolve", pairs, mode) == window:
                return mode
        except ValueError:
            continue
    return None


def _cut(full: np.ndarray, window: Window) -> np.ndarray:
    """Entries ``lo .. lo+n-1`` of each axis of ``full``, zeros outside it."""
    widths = [(max(0, -lo), max(0, lo + n - size)) for (lo, n), size in zip(window, full.shape)]
    if any(left or right for left, right in widths):
        full = np.pad(full, widths)
    return full[
        tuple(slice(lo + left, lo + left + n) for (lo, n), (left, _) in zip(window, widths))
    ]


def _direct(a: np.ndarray, b: np.ndarray, axes: tuple, dot_axes: tuple, window: Window) -> Any:
    """The general layout, by shifts and adds: for each entry ``w`` of the smaller argument
    along the convolved axes, one matrix product of a shifted view of the larger one
    (kept and convolved axes as rows, contracted axes as columns) with that entry."""
    volume = [math.prod(x.shape[axis] for axis in conv) for x, conv in zip((a, b), axes)]
    swapped = volume[1] > volume[0]
    x, y = (b, a) if swapped else (a, b)
    x_conv, y_conv = axes[::-1] if swapped else axes
    x_dot, y_dot = dot_axes[::-1] if swapped else dot_axes
    x_kept, y_kept = _kept_axes(x.ndim, x_conv, x_dot), _kept_axes(y.ndim, y_conv, y_dot)
    # Entry k of the window is the sum over w of x[k - w] y[w]: x's entries lo - (size of
    # y) + 1 .. lo + n - 1 are needed, zeros outside x.
    pads, cuts = [(0, 0)] * x.ndim, [slice(None)] * x.ndim
    for (lo, n), x_axis, y_axis in zip(window, x_conv, y_conv):
        size_x, size_y = x.shape[x_axis], y.shape[y_axis]
        start, length = lo - size_y + 1, n + size_y - 1
        left, right = max(0, -start), max(0, start + length - size_x)
        pads[x_axis] = (left, right)
        cuts[x_axis] = slice(start + left, start + left + length)
    if any(left or right for left, right in pads):
        x = np.pad(x, pads)
    x = x[tuple(cuts)]
    kept_sizes = tuple(x.shape[axis] for axis in x_kept)
    y_kept_sizes = tuple(y.shape[axis] for axis in y_kept)
    y_sizes = tuple(y.shape[axis] for axis in y_conv)
    contracted = math.prod(x.shape[axis] for axis in x_dot)
    # x as (kept, convolved, contracted) and y as (convolved, contracted, kept): each
    # shifted view of x is then a matrix with the contracted axes as its columns.
    x = np.transpose(x, x_kept + tuple(x_conv) + tuple(x_dot))
    x = x.reshape(x.shape[: x.ndim - len(x_dot)] + (contracted,))
    y = np.transpose(y, tuple(y_conv) + tuple(y_dot) + y_kept)
    y = y.reshape(y_sizes + (contracted, math.prod(y_kept_sizes)))
    out_sizes = tuple(n for _, n in window)
    rows = math.prod(kept_sizes) * math.prod(out_sizes)
    shifts = list(np.ndindex(*y_sizes))
    y = y.reshape(len(shifts) * contracted, y.shape[-1])
    dtype = np.result_type(x, y)
    # The shifted views of x side by side (im2col), in chunks of at most _CHUNK_BYTES:
    # one matrix product per chunk.
    per_shift = max(1, _CHUNK_BYTES // max(1, rows * contracted * dtype.itemsize))
    total = np.zeros((rows, y.shape[-1]), dtype=dtype)
    for first in range(0, len(shifts), per_shift):
        chunk = shifts[first : first + per_shift]
        columns = np.empty((rows, len(chunk), contracted), dtype=x.dtype)
        for index, shift in enumerate(chunk):
            view = x[
                (slice(None),) * len(kept_sizes)
                + tuple(
                    slice(size - 1 - w, size - 1 - w + n)
                    for w, size, n in zip(shift, y_sizes, out_sizes)
                )
            ]
            columns[:, index, :] = view.reshape(rows, contracted)
        rows_of_y = slice(first * contracted, (first + len(chunk)) * contracted)
        total += columns.reshape(rows, len(chunk) * contracted) @ y[rows_of_y]
    total = total.reshape(kept_sizes + out_sizes + y_kept_sizes)
    # Its axes: x's kept axes, the convolved ones, y's kept axes; wanted: in1's kept axes,
    # in2's, the convolved ones.
    x_count, conv_count = len(kept_sizes), len(out_sizes)
    conv_order = list(range(x_count, x_count + conv_count))
    x_order = list(range(x_count))
    y_order = list(range(x_count + conv_count, total.ndim))
    order = (y_order + x_order if swapped else x_order + y_order) + conv_order
    return total if order == sorted(order) else np.transpose(total, order)


def _convolve_impl(
    a: Any,
    b: Any,
    axes: tuple = (),
    dot_axes: tuple = (),
    window: Window = (),
    method: str = "auto",
    mode: str | None = None,
) -> Any:
    a, b = np.asarray(a), np.asarray(b)
    everything = tuple(range(a.ndim))
    if a.ndim == b.ndim and axes == (everything, everything) and dot_axes == ((), ()):
        # The mode the user asked for (several may give the same window, by different
        # roundings), else the one that gives this window, if any.
        if mode is None:
            mode = _scipy_mode(a.shape, b.shape, window)
        if mode is not None:
            return _scipy_signal().convolve(a, b, mode=mode, method=method)
        return _cut(_scipy_signal().convolve(a, b, mode="full", method=method), window)
    return _direct(a, b, axes, dot_axes, window)


def _general(
    a: Any,
    b: Any,
    axes: tuple,
    dot_axes: tuple,
    window: Window,
    method: str,
    mode: str | None = None,
) -> Any:
    """A window of the convolution, on plain or traced values (the rules' building block)."""
    if any_traced((a, b)):
        params = Params(axes=axes, dot_axes=dot_axes, window=window, method=method, mode=mode)
        return bind(_CONVOLVE, (a, b), params)
    return _convolve_impl(a, b, axes, dot_axes, window, method, mode)


def _flip(x: Any, axes: tuple) -> Any:
    return x[
        tuple(
            slice(None, None, -1) if axis in axes else slice(None)
            for axis in range(len(shape_of(x)))
        )
    ]


def _cotangent(
    which: int,
    g: Any,
    mine_shape: tuple,
    other: Any,
    axes: tuple,
    dot_axes: tuple,
    window: Window,
    method: str,
) -> Any:
    """The reverse rule for argument ``which`` (0 or 1): the cotangent ``g`` convolved with
    the other argument, flipped, in the window that lands on this argument's entries."""
    other_shape = shape_of(other)
    mine_conv, other_conv = axes[which], axes[1 - which]
    mine_dot, other_dot = dot_axes[which], dot_axes[1 - which]
    shapes = (mine_shape, other_shape) if which == 0 else (other_shape, mine_shape)
    kept = [_kept_axes(len(shape), axes[i], dot_axes[i]) for i, shape in enumerate(shapes)]
    # The cotangent's axes: the kept axes of in1, those of in2, then the convolved ones.
    g_kept = [tuple(range(len(kept[0]))), tuple(range(len(kept[0]), len(kept[0]) + len(kept[1])))]
    g_conv = tuple(range(len(kept[0]) + len(kept[1]), len(shape_of(g))))
    other_kept = kept[1 - which]
    # Entry j of mine is entry j + (other size - 1 - lo) of the full convolution of g with
    # the flipped other argument.
    cut = tuple(
        (other_shape[other_axis] - 1 - lo, mine_shape[mine_axis])
        for (lo, _), mine_axis, other_axis in zip(window, mine_conv, other_conv)
    )
    result = _general(
        g,
        _flip(other, other_conv),
        (g_conv, other_conv),
        (g_kept[1 - which], other_kept),
        cut,
        method,
    )
    # Its axes: my kept axes, the other's contracted axes (in its order, which name my
    # contracted axes), then my convolved axes.
    partner = dict(zip(other_dot, mine_dot))
    source = list(kept[which]) + [partner[axis] for axis in sorted(other_dot)] + list(mine_conv)
    if source == sorted(source):
        return result
    return transpose(result, tuple(int(i) for i in np.argsort(source)))


def _convolve_vjp(which: int) -> Any:
    def rule(
        g: Any,
        ans: Any,
        a: Any,
        b: Any,
        axes: tuple = (),
        dot_axes: tuple = (),
        window: Window = (),
        method: str = "auto",
        mode: str | None = None,
    ) -> Any:
        mine, other = (a, b) if which == 0 else (b, a)
        return _cotangent(which, g, shape_of(mine), other, axes, dot_axes, window, method)

    return rule


def _convolve_jvp_a(
    t: Any,
    ans: Any,
    a: Any,
    b: Any,
    axes: tuple = (),
    dot_axes: tuple = (),
    window: Window = (),
    method: str = "auto",
    mode: str | None = None,
) -> Any:
    return _general(t, b, axes, dot_axes, window, method, mode)


def _convolve_jvp_b(
    t: Any,
    ans: Any,
    a: Any,
    b: Any,
    axes: tuple = (),
    dot_axes: tuple = (),
    window: Window = (),
    method: str = "auto",
    mode: str | None = None,
) -> Any:
    return _general(a, t, axes, dot_axes, window, method, mode)


# --- test domains ----------------------------------------------------------------------------


def _sizes(draw: Any, st: Any, count: int, mode: str) -> list:
    """Sizes ``(n1, n2)`` of ``count`` convolved pairs (ordered alike for 'valid')."""
    pairs = [(draw(st.integers(1, 4)), draw(st.integers(1, 4))) for _ in range(count)]
    if mode == "valid" and draw(st.booleans()):
        return [(max(pair), min(pair)) for pair in pairs]
    if mode == "valid":
        return [(min(pair), max(pair)) for pair in pairs]
    return pairs


def _scipy_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """SciPy's layout: two arrays of the same dimensionality, every axis convolved."""
    from adfun.numpy._examples import array

    mode = draw(st.sampled_from(_MODES))
    pairs = _sizes(draw, st, draw(st.integers(1, 2)), mode)
    a = array(draw, st, hnp, (-2.0, 2.0), shape=tuple(n1 for n1, _ in pairs))
    b = array(draw, st, hnp, (-2.0, 2.0), shape=tuple(n2 for _, n2 in pairs))
    return (a, b), {"mode": mode, "method": draw(st.sampled_from(_METHODS))}


def _convolve_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """Either SciPy's layout or autograd's: convolved, contracted and kept axes, shuffled."""
    from adfun.numpy._examples import array

    (a, b), options = _scipy_examples(draw, st, hnp)
    shapes: tuple = (a.shape, b.shape)
    params: dict = {}
    if draw(st.booleans()):  # autograd's layout
        pairs = _sizes(draw, st, draw(st.integers(0, 2)), options["mode"])
        dots = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2)))]
        kept = [[draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 1)))] for _ in "ab"]
        layouts = []
        for side in (0, 1):
            roles = [("conv", i, pair[side]) for i, pair in enumerate(pairs)]
            roles += [("dot", i, size) for i, size in enumerate(dots)]
            roles += [("kept", i, size) for i, size in enumerate(kept[side])]
            layouts.append(draw(st.permutations(roles)))
        axes = tuple(
            tuple(layout.index(("conv", i, pair[side])) for i, pair in enumerate(pairs))
            for side, layout in enumerate(layouts)
        )
        dot_axes = tuple(
            tuple(layout.index(("dot", i, size)) for i, size in enumerate(dots))
            for layout in layouts
        )
        shapes = tuple(tuple(role[2] for role in layout) for layout in layouts)
        params = {"axes": axes, "dot_axes": dot_axes}
    a = array(draw, st, hnp, (-2.0, 2.0), shape=shapes[0])
    b = array(draw, st, hnp, (-2.0, 2.0), shape=shapes[1])
    layout = _layout(
        "convolve",
        shapes[0],
        shapes[1],
        params.get("axes"),
        params.get("dot_axes"),
        options["mode"],
    )
    return (a, b), dict(layout, method=options["method"], mode=options["mode"])


# --- the primitives and the public functions -------------------------------------------------

_CONVOLVE = primitive(
    "signal.convolve",
    _convolve_impl,
    (_convolve_vjp(0), _convolve_vjp(1)),
    (_convolve_jvp_a, _convolve_jvp_b),
    domain=Domain(examples=_convolve_examples),
    complex_domain=complexified(_convolve_examples),
)


@export(primitive=_CONVOLVE, name="convolve")
def convolve(
    in1: Any,
    in2: Any,
    mode: str = "full",
    method: str = "auto",
    *,
    axes: Any = None,
    dot_axes: Any = None,
) -> Any:
    """Differentiable :func:`scipy.signal.convolve`, with autograd's ``axes`` and ``dot_axes``.

    Parameters
    ----------
    in1, in2 : array_like
        The arrays to convolve: of the same dimensionality unless ``axes`` is given.
    mode : {'full', 'valid', 'same'}
        SciPy's: the whole convolution; the entries where the arguments overlap completely
        (one must then be at least as large as the other along every convolved axis); or
        the entries centred like ``in1``, of its size.
    method : {'auto', 'direct', 'fft'}
        How SciPy computes it (values and derivatives alike).  With ``axes`` in a layout
        other than SciPy's, the convolution is always computed directly (sliding windows
        and :func:`numpy.einsum`), and ``method`` is only checked.
    axes : tuple, optional
        autograd's keyword: a pair ``(axes1, axes2)`` of sequences of int, the axes of
        ``in1`` convolved with the axes of ``in2`` at the same positions.  Default: every
        axis of both, as SciPy does.
    dot_axes : tuple, optional
        autograd's keyword: a pair of sequences of axes of ``in1`` and ``in2`` (of equal
        sizes) summed over in the product, as in :func:`numpy.tensordot`.  Needs ``axes``.

    Returns
    -------
    ndarray
        In SciPy's layout, an array of the dimensionality of the arguments.  With ``axes``:
        the other axes of ``in1`` (in order), then those of ``in2``, then the convolved
        axes (in the order of ``axes``), which have the size ``mode`` gives them
        (``'same'``: that of ``in1``), as autograd's ``convolve`` returns.

    Notes
    -----
    Derivative: linear in each argument.  The reverse rule convolves the cotangent with
    the other argument flipped along the convolved axes (the full convolution's reverse
    rule is a 'valid' one and the other way round); the forward rule convolves the
    tangent with the other argument.  Complex arguments are differentiated by the same
    rules (the convolution is holomorphic in each argument: no conjugates, with the
    convention of :doc:`/conventions`).

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.signal import convolve
    >>> ad.grad(lambda x: convolve(x, np.array([1.0, 2.0]))[1])(np.array([3.0, 4.0]))
    array([2., 1.])

    A batch of two 5x5 one-channel images and a bank of three 3x3 filters, as autograd's
    ``convnet`` example convolves them:

    >>> images, filters = np.ones((2, 1, 5, 5)), np.ones((1, 3, 3, 3))
    >>> convolve(images, filters, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode="valid").shape
    (2, 3, 3, 3)
    """
    _check_options("convolve", mode, method)
    traced = any_traced((in1, in2))
    if axes is None and dot_axes is None and not traced:
        return _scipy_signal().convolve(in1, in2, mode=mode, method=method)
    a = in1 if type(in1) is Tracer else np.asarray(in1)
    b = in2 if type(in2) is Tracer else np.asarray(in2)
    params = _layout("convolve", shape_of(a), shape_of(b), axes, dot_axes, mode)
    if not traced:
        return _convolve_impl(a, b, method=method, mode=mode, **params)
    return bind(_CONVOLVE, (a, b), Params(params, method=method, mode=mode))


def _correlate_impl(a: Any, b: Any, mode: str = "full", method: str = "auto") -> Any:
    return _scipy_signal().correlate(a, b, mode=mode, method=method)


def _correlate_window(a: Any, b: Any, mode: str) -> Window:
    return _window("correlate", list(zip(shape_of(a), shape_of(b))), mode)


def _correlate_vjp_a(
    g: Any, ans: Any, a: Any, b: Any, mode: str = "full", method: str = "auto"
) -> Any:
    # correlate(a, b) = convolve(a, flip(conj(b))): its rule, with flip(flip(b)) = b.
    everything = tuple(range(len(shape_of(a))))
    cut = tuple(
        (size_b - 1 - lo, size_a)
        for (lo, _), size_a, size_b in zip(_correlate_window(a, b, mode), shape_of(a), shape_of(b))
    )
    return _general(g, conjugate(b), (everything, everything), ((), ()), cut, method)


def _correlate_vjp_b(
    g: Any, ans: Any, a: Any, b: Any, mode: str = "full", method: str = "auto"
) -> Any:
    everything = tuple(range(len(shape_of(a))))
    cut = tuple(
        (size_a - 1 - lo, size_b)
        for (lo, _), size_a, size_b in zip(_correlate_window(a, b, mode), shape_of(a), shape_of(b))
    )
    flipped = _general(g, _flip(a, everything), (everything, everything), ((), ()), cut, method)
    # That is the cotangent of flip(conj(b)); b's is its flip, conjugated (for complex b:
    # the correlation is conjugate-linear in it).
    gradient = _flip(flipped, everything)
    return conjugate(gradient) if dtype_of(b).kind == "c" else gradient


def _correlate_jvp_a(
    t: Any, ans: Any, a: Any, b: Any, mode: str = "full", method: str = "auto"
) -> Any:
    return correlate(t, b, mode, method)


def _correlate_jvp_b(
    t: Any, ans: Any, a: Any, b: Any, mode: str = "full", method: str = "auto"
) -> Any:
    return correlate(a, t, mode, method)


_CORRELATE = primitive(
    "signal.correlate",
    _correlate_impl,
    (_correlate_vjp_a, _correlate_vjp_b),
    (_correlate_jvp_a, _correlate_jvp_b),
    domain=Domain(examples=_scipy_examples),
    complex_domain=complexified(_scipy_examples),
)


@export(primitive=_CORRELATE, name="correlate")
def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """Differentiable :func:`scipy.signal.correlate`.

    Parameters
    ----------
    in1, in2 : array_like
        Arrays of the same dimensionality.
    mode : {'full', 'valid', 'same'}
        As for :func:`convolve` (SciPy's meaning).
    method : {'auto', 'direct', 'fft'}
        How SciPy computes it.

    Returns
    -------
    ndarray
        SciPy's result: ``z[k] = sum_l in1[l] conj(in2[l - k + N - 1])`` for ``'full'``
        (``N`` the size of ``in2``), cut as ``mode`` says.

    Notes
    -----
    Derivative: the correlation is the convolution of ``in1`` with ``conj(in2)``
    flipped, and the rules are that convolution's: holomorphic in ``in1``,
    conjugate-linear in a complex ``in2`` (its cotangent is conjugated; the convention of
    :doc:`/conventions`).

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.signal import correlate
    >>> ad.grad(lambda x: correlate(x, np.array([1.0, 2.0]))[0])(np.array([3.0, 4.0]))
    array([2., 0.])
    """
    _check_options("correlate", mode, method)
    if not any_traced((in1, in2)):
        return _scipy_signal().correlate(in1, in2, mode=mode, method=method)
    a = in1 if type(in1) is Tracer else np.asarray(in1)
    b = in2 if type(in2) is Tracer else np.asarray(in2)
    _layout("correlate", shape_of(a), shape_of(b), None, None, mode)
    return bind(_CORRELATE, (a, b), Params(mode=mode, method=method))


__all__ = ["convolve", "correlate"]
