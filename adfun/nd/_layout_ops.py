"""MXNet's layout and indexing operators: ``take``, ``topk``, ``sort``, ``split``,
``slice``, ``pad``, ``tile`` ... (each a composition of ``adfun.numpy`` functions).

The functions whose name starts with ``_`` and ends with ``_values`` compute on plain
values or tracers (``adfun.numpy`` records them); the public functions check MXNet's
arguments, resolve its conventions (shapes, ``None`` in slices, index modes) and call
them through :func:`adfun.nd._ndarray.apply`, so the gradient flows exactly where MXNet's
does.  Positions computed from the data (``sort``, ``topk``) use ``adfun.numpy``'s
``argsort``, so a staged graph recomputes them.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

import adfun.numpy as anp
from adfun._engine.trace import full_value
from adfun.nd._ndarray import NDArray, _at_least_1d, apply, value_of

# --- argument checks ---------------------------------------------------------------------


def _axis(function: str, axis: Any, ndim: int, name: str = "axis") -> int:
    """One axis in ``[0, ndim)`` (negative axes count from the end)."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"adfun.nd.{function}: {name} must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"adfun.nd.{function}: {name}={axis} is out of range for an array with {ndim} "
            f"dimension(s) (use -{ndim} to {ndim - 1})"
        )
    return int(axis) % ndim


def _axes_tuple(function: str, axis: Any, ndim: int) -> tuple:
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(builtins.sorted({_axis(function, item, ndim) for item in items}))


def _int_tuple(function: str, name: str, value: Any) -> tuple:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),)
    try:
        return tuple(int(item) for item in value)
    except (TypeError, ValueError):
        raise TypeError(
            f"adfun.nd.{function}: {name} must be an int or a tuple of ints, got {value!r}"
        ) from None


def _positions(function: str, indices: Any, side: int, mode: str) -> np.ndarray:
    """MXNet's integer positions from (float) indices: truncated, then clipped or wrapped."""
    if mode not in ("clip", "wrap", "raise"):
        raise ValueError(
            f"adfun.nd.{function}: mode must be 'clip', 'wrap' or 'raise', got {mode!r}"
        )
    positions = np.asarray(value_of(indices)).astype(np.int64)
    if side == 0:
        raise ValueError(f"adfun.nd.{function}: cannot take from an axis of size 0")
    if mode == "clip":
        return np.clip(positions, 0, side - 1)
    if mode == "wrap":
        return positions % side
    bad = (positions < 0) | (positions >= side)
    if bad.any():
        raise IndexError(
            f"adfun.nd.{function}: index {int(positions[bad][0])} is out of range for an "
            f"axis of size {side} (mode='raise'); use mode='clip' or mode='wrap'"
        )
    return positions


# --- take, sort, topk --------------------------------------------------------------------


def take(a: NDArray, indices: Any, axis: int = 0, mode: str = "clip") -> NDArray:
    """The slices of ``a`` at ``indices`` along ``axis``.

    Parameters
    ----------
    a : NDArray
    indices : NDArray
        Positions (floats are truncated to integers, as in MXNet); not differentiated.
    axis : int, optional
    mode : {'clip', 'wrap', 'raise'}, optional
        Out-of-range positions are clipped to the axis, wrapped around it, or refused
        (``IndexError``).

    Returns
    -------
    NDArray
        Shape ``a.shape[:axis] + indices.shape + a.shape[axis + 1:]``; the gradient is
        scattered (and summed) back to the positions taken.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.take(nd.array([[1, 2], [3, 4], [5, 6]]), nd.array([[0, 1], [1, 7]]))
    <BLANKLINE>
    [[[1. 2.]
      [3. 4.]]
    <BLANKLINE>
     [[3. 4.]
      [5. 6.]]]
    <NDArray 2x2x2 @cpu(0)>
    """
    axis = _axis("take", axis, a.ndim)
    positions = _positions("take", indices, a.shape[axis], mode)
    return apply(lambda value: _at_least_1d(anp.take(value, positions, axis=axis)), a)


def _order(value: Any, axis: int, is_ascend: bool) -> Any:
    """Stable sorting positions along ``axis`` (ties keep their order in both directions)."""
    return anp.argsort(value if is_ascend else -value, axis=axis, kind="stable")


def _sort_axis(function: str, data: NDArray, axis: Any) -> tuple[Any, int]:
    """``(reshape, axis)``: ``axis=None`` sorts the flattened array, as in MXNet."""
    if axis is None:
        return (lambda value: anp.reshape(value, (-1,))), 0
    return (lambda value: value), _axis(function, axis, data.ndim)


def sort(data: NDArray, axis: Any = -1, is_ascend: bool = True) -> NDArray:
    """The values sorted along ``axis`` (the flattened array with ``axis=None``).

    The gradient of each sorted element flows to the element it came from.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.sort(nd.array([[1, 4], [3, 1]]), is_ascend=False)
    <BLANKLINE>
    [[4. 1.]
     [3. 1.]]
    <NDArray 2x2 @cpu(0)>
    """
    flat, axis = _sort_axis("sort", data, axis)

    def fun(value: Any) -> Any:
        value = flat(value)
        return anp.take_along_axis(value, _order(value, axis, is_ascend), axis=axis)

    return apply(fun, data)


def argsort(
    data: NDArray, axis: Any = -1, is_ascend: bool = True, dtype: Any = "float32"
) -> NDArray:
    """The positions that sort ``data`` along ``axis``, as an array of ``dtype`` (a constant).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.argsort(nd.array([3, 1, 2]))
    <BLANKLINE>
    [1. 2. 0.]
    <NDArray 3 @cpu(0)>
    """
    flat, axis = _sort_axis("argsort", data, axis)
    dtype = np.dtype(dtype)
    plain = np.asarray(full_value(value_of(data)))
    return NDArray(np.asarray(_order(flat(plain), axis, is_ascend)).astype(dtype))


def topk(
    data: NDArray,
    axis: Any = -1,
    k: int = 1,
    ret_typ: str = "indices",
    is_ascend: bool = False,
    dtype: Any = "float32",
) -> Any:
    """The ``k`` largest (``is_ascend=False``) or smallest elements along ``axis``.

    Parameters
    ----------
    data : NDArray
    axis : int or None, optional
        ``None``: the flattened array.
    k : int, optional
        How many; ``k < 1`` sorts the whole axis.
    ret_typ : {'indices', 'value', 'mask', 'both'}, optional
        The positions (of ``dtype``), the values (differentiable), a 0/1 mask of ``data``'s
        shape and dtype, or ``[values, positions]``.
    is_ascend : bool, optional
    dtype : str, optional
        The dtype of the positions.

    Examples
    --------
    >>> from adfun import nd
    >>> x = nd.array([[0.3, 0.2, 0.4], [0.1, 0.3, 0.2]])
    >>> nd.topk(x, k=2)
    <BLANKLINE>
    [[2. 0.]
     [1. 2.]]
    <NDArray 2x2 @cpu(0)>
    >>> nd.topk(x, k=1, ret_typ="mask").asnumpy().tolist()
    [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    if ret_typ not in ("indices", "value", "mask", "both"):
        raise ValueError(
            f"adfun.nd.topk: ret_typ must be 'indices', 'value', 'mask' or 'both', got {ret_typ!r}"
        )
    flat, axis = _sort_axis("topk", data, axis)
    plain = np.asarray(full_value(value_of(data)))
    size = flat(plain).shape[axis]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"adfun.nd.topk: k must be an int, got {k!r}")
    if k > size:
        raise ValueError(f"adfun.nd.topk: k={k} is larger than the {size} elements along the axis")
    count = size if k < 1 else int(k)
    order = np.asarray(_order(flat(plain), axis, is_ascend))
    chosen = np.take(order, np.arange(count), axis=axis)
    if ret_typ == "mask":
        mask = np.zeros(flat(plain).shape, dtype=plain.dtype)
        np.put_along_axis(mask, chosen, 1, axis=axis)
        return NDArray(mask.reshape(data.shape))
    positions = NDArray(chosen.astype(np.dtype(dtype)))
    if ret_typ == "indices":
        return positions

    def fun(value: Any) -> Any:
        value = flat(value)
        top = anp.take_along_axis(value, _order(value, axis, is_ascend), axis=axis)
        return anp.take(top, np.arange(count), axis=axis)

    values = apply(fun, data)
    return values if ret_typ == "value" else [values, positions]


# --- split and slices --------------------------------------------------------------------


def split(data: NDArray, num_outputs: int, axis: int = 1, squeeze_axis: bool = False) -> Any:
    """Split ``data`` into ``num_outputs`` equal parts along ``axis`` (MXNet's
    ``SliceChannel``).

    Returns
    -------
    list of NDArray or NDArray
        A list, or the single array when ``num_outputs`` is 1; with ``squeeze_axis=True``
        (parts of size 1 only) ``axis`` is removed from each part.

    Examples
    --------
    >>> from adfun import nd
    >>> [part.shape for part in nd.split(nd.zeros((2, 6)), num_outputs=3)]
    [(2, 2), (2, 2), (2, 2)]
    """
    axis = _axis("split", axis, data.ndim)
    side = data.shape[axis]
    if isinstance(num_outputs, bool) or not isinstance(num_outputs, (int, np.integer)):
        raise TypeError(f"adfun.nd.split: num_outputs must be an int, got {num_outputs!r}")
    if num_outputs < 1 or side % num_outputs:
        raise ValueError(
            f"adfun.nd.split: num_outputs={num_outputs} must be positive and divide the size "
            f"{side} of axis {axis}"
        )
    width = side // num_outputs
    if squeeze_axis and width != 1:
        raise ValueError(
            f"adfun.nd.split: squeeze_axis=True needs parts of size 1 along axis {axis}, "
            f"but they have size {width} (use num_outputs={side})"
        )

    def part(start: int) -> NDArray:
        key = (builtins.slice(None),) * axis + (builtins.slice(start, start + width),)

        def fun(value: Any) -> Any:
            piece = value[key]
            return _at_least_1d(anp.squeeze(piece, axis)) if squeeze_axis else piece

        return apply(fun, data)

    parts = [part(index * width) for index in range(num_outputs)]
    return parts[0] if num_outputs == 1 else parts


SliceChannel = split


def _optional(value: Any) -> int | None:
    return None if value is None else int(value)


def slice(data: NDArray, begin: Any, end: Any, step: Any = ()) -> NDArray:  # noqa: A001
    """The slice ``data[begin[0]:end[0]:step[0], begin[1]:end[1]:step[1], ...]``.

    ``begin``, ``end`` and ``step`` may be shorter than ``data.ndim`` (the other axes are
    kept whole) and may contain ``None`` (the default bound, as in Python slicing).

    Examples
    --------
    >>> from adfun import nd
    >>> x = nd.arange(12).reshape((3, 4))
    >>> nd.slice(x, begin=(0, 1), end=(2, 4))
    <BLANKLINE>
    [[1. 2. 3.]
     [5. 6. 7.]]
    <NDArray 2x3 @cpu(0)>
    >>> nd.slice(x, begin=(None, 0), end=(None, 3), step=(-1, 2))
    <BLANKLINE>
    [[ 8. 10.]
     [ 4.  6.]
     [ 0.  2.]]
    <NDArray 3x2 @cpu(0)>
    """
    begin, end = tuple(begin), tuple(end)
    step = tuple(step) if step is not None else ()
    if len(begin) != len(end) or (step and len(step) != len(begin)):
        raise ValueError(
            f"adfun.nd.slice: begin {begin}, end {end} and step {step} must have the same "
            f"length (step may be empty)"
        )
    if len(begin) > data.ndim:
        raise ValueError(
            f"adfun.nd.slice: begin has {len(begin)} entries but the array has only "
            f"{data.ndim} dimension(s)"
        )
    key = []
    for index, (start, stop) in enumerate(zip(begin, end)):
        stride = _optional(step[index]) if step else None
        if stride == 0:
            raise ValueError(f"adfun.nd.slice: step cannot be 0 (axis {index})")
        key.append(builtins.slice(_optional(start), _optional(stop), stride))
    chosen = tuple(key)
    return apply(lambda value: value[chosen], data)


def slice_axis(data: NDArray, axis: int, begin: int, end: Any) -> NDArray:
    """The slice ``begin:end`` of ``data`` along ``axis`` (``end=None``: to the end).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.slice_axis(nd.arange(6).reshape((2, 3)), axis=1, begin=1, end=None)
    <BLANKLINE>
    [[1. 2.]
     [4. 5.]]
    <NDArray 2x2 @cpu(0)>
    """
    axis = _axis("slice_axis", axis, data.ndim)
    key = (builtins.slice(None),) * axis + (builtins.slice(int(begin), _optional(end)),)
    return apply(lambda value: value[key], data)


def slice_like(data: NDArray, shape_like: NDArray, axes: Any = ()) -> NDArray:
    """``data`` sliced (from the start) to the shape of ``shape_like`` on ``axes``
    (every axis by default); ``shape_like`` only lends its shape.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.slice_like(nd.zeros((3, 4)), nd.zeros((2, 3)), axes=(0,)).shape
    (2, 4)
    """
    target = shape_like.shape
    if axes is None or tuple(axes) == ():
        if len(target) != data.ndim:
            raise ValueError(
                f"adfun.nd.slice_like: shape_like has {len(target)} dimension(s) but data "
                f"has {data.ndim}; pass axes=... to slice only some axes"
            )
        chosen = tuple(range(data.ndim))
    else:
        chosen = _axes_tuple("slice_like", axes, data.ndim)
    key = []
    for index in range(data.ndim):
        if index in chosen:
            if index >= len(target) or target[index] > data.shape[index]:
                raise ValueError(
                    f"adfun.nd.slice_like: shape_like {target} is larger than data "
                    f"{data.shape} on axis {index}"
                )
            key.append(builtins.slice(0, target[index]))
        else:
            key.append(builtins.slice(None))
    whole = tuple(key)
    return apply(lambda value: value[whole], data)


# --- axes and repetition -----------------------------------------------------------------


def squeeze(data: NDArray, axis: Any = None) -> NDArray:
    """Remove axes of size 1 (all of them by default); a result with no axis has shape
    ``(1,)``, as in MXNet.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.squeeze(nd.zeros((1, 3, 1))).shape
    (3,)
    >>> nd.squeeze(nd.zeros((1, 1))).shape
    (1,)
    """
    if axis is None:
        chosen = tuple(index for index, side in enumerate(data.shape) if side == 1)
    else:
        chosen = _axes_tuple("squeeze", axis, data.ndim)
        for index in chosen:
            if data.shape[index] != 1:
                raise ValueError(
                    f"adfun.nd.squeeze: axis {index} has size {data.shape[index]}; only axes "
                    f"of size 1 can be removed"
                )
    return apply(lambda value: _at_least_1d(anp.squeeze(value, chosen)), data)


def flip(data: NDArray, axis: Any) -> NDArray:
    """Reverse the order of the elements along ``axis`` (an int or a tuple of ints).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.flip(nd.array([[1, 2], [3, 4]]), axis=1)
    <BLANKLINE>
    [[2. 1.]
     [4. 3.]]
    <NDArray 2x2 @cpu(0)>
    """
    chosen = _axes_tuple("flip", axis, data.ndim)
    return apply(lambda value: anp.flip(value, chosen), data)


def reverse(data: NDArray, axis: Any) -> NDArray:
    """MXNet's other name of :func:`~adfun.nd.flip`.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.reverse(nd.array([1, 2, 3]), axis=0).asnumpy().tolist()
    [3.0, 2.0, 1.0]
    """
    return flip(data, axis)


def tile(data: NDArray, reps: Any) -> NDArray:
    """Repeat the whole array ``reps[i]`` times along each axis (NumPy's ``tile``).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.tile(nd.array([[1, 2]]), reps=(2, 2))
    <BLANKLINE>
    [[1. 2. 1. 2.]
     [1. 2. 1. 2.]]
    <NDArray 2x4 @cpu(0)>
    """
    counts = _int_tuple("tile", "reps", reps)
    if any(count < 0 for count in counts):
        raise ValueError(f"adfun.nd.tile: reps must not be negative, got {reps!r}")
    return apply(lambda value: _at_least_1d(anp.tile(value, counts)), data)


def repeat(data: NDArray, repeats: int, axis: Any = None) -> NDArray:
    """Repeat each element ``repeats`` times along ``axis`` (of the flattened array with
    ``axis=None``).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.repeat(nd.array([[1, 2], [3, 4]]), repeats=2, axis=1)
    <BLANKLINE>
    [[1. 1. 2. 2.]
     [3. 3. 4. 4.]]
    <NDArray 2x4 @cpu(0)>
    """
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 0:
        raise ValueError(f"adfun.nd.repeat: repeats must be an int >= 0, got {repeats!r}")
    chosen = None if axis is None else _axis("repeat", axis, data.ndim)
    return apply(lambda value: anp.repeat(value, int(repeats), axis=chosen), data)


def pad(
    data: NDArray, mode: str = "constant", pad_width: Any = (), constant_value: float = 0.0
) -> NDArray:
    """Pad a 4-D or 5-D array on its spatial axes (MXNet's ``Pad``).

    Parameters
    ----------
    data : NDArray
        Shape ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
    mode : {'constant', 'edge', 'reflect'}, optional
        Fill with ``constant_value``, repeat the edge value, or reflect around the edge
        (without repeating it), as NumPy's modes of the same names.
    pad_width : tuple of int
        MXNet's flat form ``(before_0, after_0, before_1, after_1, ...)``, two entries per
        axis; the entries of the first two axes must be 0.
    constant_value : float, optional

    Examples
    --------
    >>> from adfun import nd
    >>> x = nd.arange(4).reshape((1, 1, 2, 2))
    >>> nd.pad(x, mode="edge", pad_width=(0, 0, 0, 0, 1, 0, 0, 1))[0, 0]
    <BLANKLINE>
    [[0. 1. 1.]
     [0. 1. 1.]
     [2. 3. 3.]]
    <NDArray 3x3 @cpu(0)>
    """
    if mode not in ("constant", "edge", "reflect"):
        raise ValueError(
            f"adfun.nd.pad: mode must be 'constant', 'edge' or 'reflect', got {mode!r}"
        )
    if data.ndim not in (4, 5):
        raise ValueError(
            f"adfun.nd.pad: data must be 4-D or 5-D (as in MXNet), got shape {data.shape}"
        )
    widths = _int_tuple("pad", "pad_width", pad_width)
    if len(widths) != 2 * data.ndim:
        raise ValueError(
            f"adfun.nd.pad: pad_width must have 2 * ndim = {2 * data.ndim} entries "
            f"(before and after for each axis), got {len(widths)}"
        )
    if any(widths[:4]) or builtins.min(widths) < 0:
        raise ValueError(
            f"adfun.nd.pad: pad_width {widths} must be non-negative and 0 for the first two "
            f"axes (only the spatial axes are padded)"
        )
    pairs = tuple((widths[2 * index], widths[2 * index + 1]) for index in range(data.ndim))
    if mode == "reflect":
        for index, (before, after) in enumerate(pairs):
            if builtins.max(before, after) >= data.shape[index] and (before or after):
                raise ValueError(
                    f"adfun.nd.pad: reflect padding of {builtins.max(before, after)} on axis "
                    f"{index} needs the axis to be longer than that (size "
                    f"{data.shape[index]})"
                )

    def fun(value: Any) -> Any:
        if mode == "constant":
            return anp.pad(value, pairs, mode="constant", constant_values=constant_value)
        return anp.pad(value, pairs, mode=mode)

    return apply(fun, data)


def broadcast_axis(data: NDArray, axis: Any = (), size: Any = ()) -> NDArray:
    """Broadcast the axes ``axis`` (of size 1) to the sizes ``size``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.broadcast_axis(nd.ones((1, 2, 1)), axis=(0, 2), size=(2, 3)).shape
    (2, 2, 3)
    """
    axes = _int_tuple("broadcast_axis", "axis", axis)
    sizes = _int_tuple("broadcast_axis", "size", size)
    if len(axes) != len(sizes):
        raise ValueError(
            f"adfun.nd.broadcast_axis: axis {axes} and size {sizes} must have the same length"
        )
    target = list(data.shape)
    for item, side in zip(axes, sizes):
        index = _axis("broadcast_axis", item, data.ndim)
        if target[index] != 1:
            raise ValueError(
                f"adfun.nd.broadcast_axis: axis {index} has size {target[index]}; only axes "
                f"of size 1 can be broadcast"
            )
        target[index] = side
    shape = tuple(target)
    return apply(lambda value: anp.broadcast_to(value, shape), data)


broadcast_axes = broadcast_axis


def broadcast_like(
    lhs: NDArray, rhs: NDArray, lhs_axes: Any = None, rhs_axes: Any = None
) -> NDArray:
    """Broadcast ``lhs`` to the shape of ``rhs`` (or its ``lhs_axes`` to the sizes of
    ``rhs``'s ``rhs_axes``); ``rhs`` only lends its shape.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.broadcast_like(nd.ones((1, 3)), nd.zeros((2, 3))).shape
    (2, 3)
    """
    if lhs_axes is None and rhs_axes is None:
        target = rhs.shape
    else:
        left = _int_tuple("broadcast_like", "lhs_axes", lhs_axes or ())
        right = _int_tuple("broadcast_like", "rhs_axes", rhs_axes or ())
        if len(left) != len(right):
            raise ValueError(
                f"adfun.nd.broadcast_like: lhs_axes {left} and rhs_axes {right} must have "
                f"the same length"
            )
        sizes = [rhs.shape[_axis("broadcast_like", item, rhs.ndim)] for item in right]
        return broadcast_axis(lhs, left, tuple(sizes))
    return apply(lambda value: anp.broadcast_to(value, target), lhs)


def diag(data: NDArray, k: int = 0, axis1: int = 0, axis2: int = 1) -> NDArray:
    """A diagonal: built from a 1-D array, or taken from an array of 2 or more axes.

    Parameters
    ----------
    data : NDArray
        A 1-D array becomes the ``k``-th diagonal of a square matrix (zeros elsewhere); from
        an N-D array the ``k``-th diagonal of the planes spanned by ``axis1`` and ``axis2``
        is taken, those two axes are removed and the diagonal becomes the last axis.
    k : int, optional
        0 for the main diagonal, above it for ``k > 0``, below it for ``k < 0``.
    axis1, axis2 : int, optional
        The plane's axes (for N-D ``data``); must differ.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.diag(nd.array([[1, 2], [3, 4]]))
    <BLANKLINE>
    [1. 4.]
    <NDArray 2 @cpu(0)>
    >>> nd.diag(nd.array([1, 2]), k=1)
    <BLANKLINE>
    [[0. 1. 0.]
     [0. 0. 2.]
     [0. 0. 0.]]
    <NDArray 3x3 @cpu(0)>
    """
    if type(k) is not int:
        raise TypeError(f"adfun.nd.diag: k must be an int, got {k!r}")
    if data.ndim == 0:
        raise ValueError("adfun.nd.diag: data must have at least 1 axis, got a 0-d array")
    if data.ndim == 1:
        return apply(lambda value: anp.diag(value, k), data)
    first = _axis("diag", axis1, data.ndim, "axis1")
    second = _axis("diag", axis2, data.ndim, "axis2")
    if first == second:
        raise ValueError(f"adfun.nd.diag: axis1 and axis2 must be different axes, both are {first}")
    return apply(lambda value: anp.diagonal(value, k, first, second), data)


def _index_shape(function: str, shape: Any) -> tuple:
    sizes = _int_tuple(function, "shape", shape)
    if not sizes or any(size < 0 for size in sizes):
        raise ValueError(
            f"adfun.nd.{function}: shape must be a non-empty tuple of sizes >= 0, got {shape!r}"
        )
    return sizes


def ravel_multi_index(data: NDArray, shape: Any) -> NDArray:
    """Flat (row-major) positions of multi-indices into an array of ``shape``.

    Parameters
    ----------
    data : NDArray
        Shape ``(len(shape), ...)``: ``data[i]`` holds the indices along axis ``i``.
    shape : tuple of int
        The shape the indices point into.

    Returns
    -------
    NDArray
        Shape ``data.shape[1:]``, in ``data``'s dtype, a constant (MXNet gives the
        operator no gradient).  As in MXNet, the indices are not checked against
        ``shape``: the result is ``sum(data[i] * stride[i])``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.ravel_multi_index(nd.array([[3, 6, 6], [4, 5, 1]]), shape=(7, 6))
    <BLANKLINE>
    [22. 41. 37.]
    <NDArray 3 @cpu(0)>
    """
    sizes = _index_shape("ravel_multi_index", shape)
    indices = np.asarray(value_of(data))
    if indices.ndim == 0 or indices.shape[0] != len(sizes):
        raise ValueError(
            f"adfun.nd.ravel_multi_index: data must have shape ({len(sizes)}, ...), one row "
            f"of indices per axis of shape {sizes}, got shape {indices.shape}"
        )
    strides = np.cumprod((sizes[1:] + (1,))[::-1])[::-1]
    flat = np.tensordot(strides, indices.astype(np.int64), axes=1)
    return NDArray(np.asarray(flat).astype(indices.dtype))


def unravel_index(data: NDArray, shape: Any) -> NDArray:
    """Multi-indices of flat (row-major) positions into an array of ``shape``.

    The inverse of :func:`ravel_multi_index`: the result has shape
    ``(len(shape),) + data.shape``, in ``data``'s dtype, and is a constant.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.unravel_index(nd.array([22, 41, 37]), shape=(7, 6))
    <BLANKLINE>
    [[3. 6. 6.]
     [4. 5. 1.]]
    <NDArray 2x3 @cpu(0)>
    """
    sizes = _index_shape("unravel_index", shape)
    flat = np.asarray(value_of(data))
    remaining = flat.astype(np.int64)
    rows = []
    for size in sizes[::-1]:
        rows.append(np.remainder(remaining, size) if size else remaining * 0)
        remaining = np.floor_divide(remaining, size) if size else remaining
    return NDArray(np.stack(rows[::-1]).astype(flat.dtype))
