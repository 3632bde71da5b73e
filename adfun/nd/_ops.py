"""The functions of ``adfun.nd``: each one is a composition of ``adfun.numpy`` functions.

No derivative is written here: recording and differentiation come from ``adfun.numpy``.
What this module adds is MXNet's conventions (full reductions give shape ``(1,)``,
``concat`` joins along ``dim=1``, ``flatten`` keeps the first axis, ``reshape`` codes 0 and
-1 to -4, ...).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

import adfun.numpy as anp
from adfun._engine.trace import Tracer, full_value
from adfun._imperative.recording import training
from adfun.nd._ndarray import (
    OPS,
    NDArray,
    _at_least_1d,
    _integer_divide,
    apply,
    apply_many,
    value_of,
)
from adfun.random import generator

# --- elementwise -------------------------------------------------------------------------


def _rounded(fun: Any) -> Any:
    """``fun`` computed in float64 and rounded to the input's float32 / float16: the
    correctly rounded result MXNet's ``expf``-style kernels give (NumPy's float32 SIMD
    ``exp`` is sometimes one unit in the last place off: ``exp(1)`` gives 2.7182820
    where MXNet gives 2.7182817)."""

    def rounded(value: Any) -> Any:
        dtype = np.dtype(value.dtype)
        if dtype.kind != "f" or dtype.itemsize >= 8:
            return fun(value)
        return anp.astype(fun(anp.astype(value, np.float64)), dtype)

    return rounded


def _elementwise(name: str, fun: Any, meaning: str) -> Any:
    def op(data: NDArray) -> NDArray:
        return apply(fun, data)

    op.__name__ = op.__qualname__ = name
    op.__module__ = "adfun.nd"
    op.__doc__ = (
        f"Elementwise {meaning}.\n\n"
        f"Parameters\n----------\ndata : NDArray\n\n"
        f"Returns\n-------\nNDArray\n    Same shape and dtype as ``data``; recorded inside "
        f"``autograd.record()``.\n"
    )
    return op


def _sigmoid(value: Any) -> Any:
    # 1 / (1 + exp(-x)) written with tanh: no overflow for large |x|.
    return 0.5 * (anp.tanh(0.5 * value) + 1.0)


def _relu(value: Any) -> Any:
    # The derivative at 0 is 0, as in MXNet (maximum(x, 0) would split the tie).
    return anp.where(full_value(value) > 0, value, 0.0)


exp = _elementwise("exp", _rounded(anp.exp), "exponential ``e ** x``")
log = _elementwise("log", _rounded(anp.log), "natural logarithm")
sqrt = _elementwise("sqrt", _rounded(anp.sqrt), "square root")
square = _elementwise("square", anp.square, "square ``x * x``")
abs = _elementwise("abs", anp.abs, "absolute value (derivative 0 at 0)")  # noqa: A001
sin = _elementwise("sin", _rounded(anp.sin), "sine")
cos = _elementwise("cos", _rounded(anp.cos), "cosine")
tanh = _elementwise("tanh", _rounded(anp.tanh), "hyperbolic tangent")
negative = _elementwise("negative", anp.negative, "negation ``-x``")
sigmoid = _elementwise("sigmoid", _sigmoid, "logistic sigmoid ``1 / (1 + exp(-x))``")
relu = _elementwise("relu", _relu, "rectified linear unit ``max(x, 0)`` (derivative 0 at 0)")


def _binary_function(name: str, fun: Any, meaning: str) -> Any:
    def op(lhs: Any, rhs: Any) -> NDArray:
        return apply(fun, lhs, rhs)

    op.__name__ = op.__qualname__ = name
    op.__module__ = "adfun.nd"
    op.__doc__ = (
        f"Elementwise {meaning}, with NumPy broadcasting.\n\n"
        f"Parameters\n----------\nlhs, rhs : NDArray or scalar\n\n"
        f"Returns\n-------\nNDArray\n"
    )
    return op


add = _binary_function("add", anp.add, "sum ``lhs + rhs``")
subtract = _binary_function("subtract", anp.subtract, "difference ``lhs - rhs``")
multiply = _binary_function("multiply", anp.multiply, "product ``lhs * rhs``")
divide = _binary_function("divide", anp.true_divide, "quotient ``lhs / rhs``")
power = _binary_function("power", anp.power, "power ``lhs ** rhs``")


def _choose(name: str, compare: Any, meaning: str) -> Any:
    # MXNet's maximum / minimum: the gradient goes to lhs where compare(lhs, rhs) holds
    # (ties included), else to rhs; a tie is not split as in adfun.numpy.
    def fun(lhs: Any, rhs: Any) -> Any:
        mask = compare(np.asarray(full_value(lhs)), np.asarray(full_value(rhs)))
        return anp.where(mask, lhs, rhs)

    op = _binary_function(name, fun, meaning)
    op.__doc__ += (
        "\nAt a tie the whole gradient goes to ``lhs``, as in MXNet (``adfun.numpy`` splits "
        "it evenly).\n"
    )
    return op


maximum = _choose("maximum", np.greater_equal, "maximum")
minimum = _choose("minimum", np.less_equal, "minimum")


def clip(data: NDArray, a_min: Any, a_max: Any) -> NDArray:
    """Clip the values of ``data`` to ``[a_min, a_max]``, as MXNet does.

    An element above ``a_max`` becomes ``a_max``, else one below ``a_min`` becomes
    ``a_min``; the gradient passes where ``a_min <= x <= a_max`` (bounds included).  With
    reversed bounds (``a_min > a_max``) that gives ``a_max`` above ``a_max``, ``a_min``
    elsewhere and a zero gradient, MXNet's result (``numpy.clip`` gives ``a_max``
    everywhere).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.clip(nd.array([-2, 0.5, 3]), -1, 1)
    <BLANKLINE>
    [-1.   0.5  1. ]
    <NDArray 3 @cpu(0)>
    """
    if a_min is None and a_max is None:
        raise ValueError("adfun.nd.clip: pass a_min or a_max (both are None)")

    def fun(value: Any) -> Any:
        plain = np.asarray(full_value(value))
        dtype = plain.dtype
        high = np.inf if a_max is None else np.asarray(a_max, np.float32)
        low = -np.inf if a_min is None else np.asarray(a_min, np.float32)
        above = plain > high
        below = ~above & (plain < low)
        bound = np.where(above, high, low).astype(dtype)
        return anp.where(above | below, bound, value)

    return apply(fun, data)


def where(condition: Any, x: Any, y: Any) -> NDArray:
    """``x`` where ``condition`` is non-zero, else ``y`` (``condition`` is not differentiated).

    ``condition`` has the shape of ``x`` or, as in MXNet, is 1-D with one entry per row
    (first axis) of ``x``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.where(nd.array([1, 0]), nd.array([1, 2]), nd.array([3, 4]))
    <BLANKLINE>
    [1. 4.]
    <NDArray 2 @cpu(0)>
    """
    mask = np.asarray(value_of(condition)) != 0
    shape = np.shape(value_of(x))
    if mask.ndim == 1 and len(shape) > 1 and mask.shape[0] == shape[0]:
        # MXNet: a 1-D condition chooses whole rows (slices along the first axis)
        mask = mask.reshape(mask.shape + (1,) * (len(shape) - 1))
    return apply(lambda a, b: anp.where(mask, a, b), x, y)


# --- reductions --------------------------------------------------------------------------


def _axes(function: str, axis: Any, ndim: int, exclude: bool) -> tuple | None:
    """MXNet's ``axis`` / ``exclude`` as a sorted tuple of axes (``None``: every axis)."""
    if axis is None or axis == ():
        if exclude:
            return ()
        return None
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    axes = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(
                f"adfun.nd.{function}: axis must be an int or a tuple of ints, got {axis!r}"
            )
        if not -ndim <= item < ndim:
            raise ValueError(
                f"adfun.nd.{function}: axis {item} is out of range for an array "
                f"with {ndim} dimension(s)"
            )
        axes.append(int(item) % ndim)
    if exclude:
        return tuple(index for index in range(ndim) if index not in axes)
    return tuple(sorted(set(axes)))


def _reduction(name: str, fun: Any, meaning: str) -> Any:
    def op(
        data: NDArray, axis: Any = None, keepdims: bool = False, exclude: bool = False
    ) -> NDArray:
        axes = _axes(name, axis, data.ndim, exclude)
        dtype = data._value.dtype
        if dtype.kind in "iub":
            # MXNet reduces integer arrays in their dtype (numpy.sum of int32 is int64,
            # numpy.mean a float): integers are not differentiated, so plain NumPy
            value = _integer_reduction(name, data._value, axes, keepdims)
            return NDArray(_at_least_1d(value).astype(dtype))
        return apply(lambda value: _at_least_1d(fun(value, axes, keepdims)), data)

    op.__name__ = op.__qualname__ = name
    op.__module__ = "adfun.nd"
    op.__doc__ = (
        f"The {meaning} of the elements over ``axis``.\n\n"
        f"Parameters\n----------\n"
        f"data : NDArray\n"
        f"axis : int or tuple of int, optional\n    Axes to reduce (default: all of them).\n"
        f"keepdims : bool, optional\n    Keep the reduced axes with size 1.\n"
        f"exclude : bool, optional\n    Reduce over every axis *except* ``axis``.\n\n"
        f"Returns\n-------\nNDArray\n    A full reduction has shape ``(1,)``, as in MXNet.\n\n"
        f"Examples\n--------\n>>> from adfun import nd\n"
        f">>> nd.{name}(nd.array([[1, 2], [3, 4]])).shape\n(1,)\n"
    )
    return op


def _integer_reduction(name: str, value: np.ndarray, axes: Any, keepdims: bool) -> np.ndarray:
    if name == "mean":
        total = np.sum(value, axis=axes, keepdims=keepdims, dtype=np.int64)
        count = value.size // np.asarray(total).size if value.size else 1
        return np.asarray(_integer_divide(total, np.int64(count or 1)))
    if name == "prod":
        return np.asarray(np.prod(value, axis=axes, keepdims=keepdims))
    reducer: Any = {"sum": np.sum, "max": np.max, "min": np.min}[name]
    return np.asarray(reducer(value, axis=axes, keepdims=keepdims))


def _sum(value: Any, axes: Any, keepdims: bool) -> Any:
    return anp.sum(value, axis=axes, keepdims=keepdims)


def _mean(value: Any, axes: Any, keepdims: bool) -> Any:
    return anp.mean(value, axis=axes, keepdims=keepdims)


def _extremum(reducer: Any, value: Any, axes: Any, keepdims: bool) -> Any:
    """MXNet's max / min: every element equal to the extremum gets the whole gradient.

    The result is ``m + sum(where(x == m, x - m, 0))`` with ``m`` the extremum as a
    constant: its value is ``m`` and its derivative is 1 at each tied element (adfun.numpy's
    ``max`` splits a tie evenly instead).
    """
    plain = np.asarray(full_value(value))
    extremum = reducer(plain, axis=axes, keepdims=True)
    if type(value) is not Tracer:
        return reducer(plain, axis=axes, keepdims=keepdims)
    mask = plain == extremum
    offsets = anp.sum(anp.where(mask, value - extremum, 0.0), axis=axes, keepdims=keepdims)
    return offsets + (extremum if keepdims else np.squeeze(extremum, axis=axes))


def _max(value: Any, axes: Any, keepdims: bool) -> Any:
    return _extremum(np.max, value, axes, keepdims)


def _min(value: Any, axes: Any, keepdims: bool) -> Any:
    return _extremum(np.min, value, axes, keepdims)


def _prod(value: Any, axes: Any, keepdims: bool) -> Any:
    """The product over ``axes`` as a balanced tree of multiplications (exact with zeros)."""
    shape = tuple(value.shape)
    ndim = len(shape)
    reduced = tuple(range(ndim)) if axes is None else axes
    kept = tuple(index for index in range(ndim) if index not in reduced)
    count = 1
    for index in reduced:
        count *= shape[index]
    kept_sides = tuple(shape[index] for index in kept)
    value = anp.reshape(anp.transpose(value, kept + reduced), kept_sides + (count,))
    if count == 0:
        value = anp.sum(value, axis=-1, keepdims=True) + 1.0  # the empty product
        count = 1
    while count > 1:
        half = count // 2
        paired = value[..., :half] * value[..., half : 2 * half]
        value = (
            paired if count % 2 == 0 else anp.concatenate([paired, value[..., 2 * half :]], axis=-1)
        )
        count = half + count % 2
    value = anp.reshape(value, kept_sides)
    if keepdims:
        value = anp.reshape(
            value, tuple(1 if index in reduced else side for index, side in enumerate(shape))
        )
    return value


sum = _reduction("sum", _sum, "sum")  # noqa: A001
mean = _reduction("mean", _mean, "mean")
max = _reduction("max", _max, "maximum (each tied element gets the whole gradient)")  # noqa: A001
min = _reduction("min", _min, "minimum (each tied element gets the whole gradient)")  # noqa: A001
prod = _reduction("prod", _prod, "product")


def norm(
    data: NDArray,
    ord: int = 2,
    axis: Any = None,  # noqa: A002 - MXNet's name
    keepdims: bool = False,
) -> NDArray:
    """The L2 (``ord=2``) or L1 (``ord=1``) norm over ``axis`` (all elements by default).

    The gradient of the L2 norm at the zero vector is 0 (a subgradient), not NaN.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.norm(nd.array([3, 4]))
    <BLANKLINE>
    [5.]
    <NDArray 1 @cpu(0)>
    """
    if ord not in (1, 2):
        raise ValueError(f"adfun.nd.norm: ord must be 1 or 2, got {ord!r}")
    axes = _axes("norm", axis, data.ndim, False)

    def l1(value: Any) -> Any:
        return _at_least_1d(anp.sum(anp.abs(value), axis=axes, keepdims=keepdims))

    def l2(value: Any) -> Any:
        squares = anp.sum(anp.square(value), axis=axes, keepdims=keepdims)
        positive = np.asarray(full_value(squares)) > 0
        # "double where": sqrt is never differentiated at 0, so no 0 * inf = NaN.
        safe = anp.where(positive, squares, 1.0)
        return _at_least_1d(anp.where(positive, anp.sqrt(safe), 0.0))

    return apply(l1 if ord == 1 else l2, data)


def softmax(data: NDArray, axis: int = -1, temperature: Any = None) -> NDArray:
    """``exp(x) / sum(exp(x))`` along ``axis`` (computed stably).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.softmax(nd.array([0, 0]))
    <BLANKLINE>
    [0.5 0.5]
    <NDArray 2 @cpu(0)>
    """

    def fun(value: Any) -> Any:
        shifted = _shifted(value, axis, temperature)
        exps = anp.exp(shifted)
        return exps / anp.sum(exps, axis=axis, keepdims=True)

    return apply(fun, data)


def log_softmax(data: NDArray, axis: int = -1, temperature: Any = None) -> NDArray:
    """``log(softmax(x))`` along ``axis``, computed without overflow or ``log(0)``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.log_softmax(nd.array([0, 0])).asnumpy().round(4)
    array([-0.6931, -0.6931], dtype=float32)
    """

    def fun(value: Any) -> Any:
        shifted = _shifted(value, axis, temperature)
        return shifted - anp.log(anp.sum(anp.exp(shifted), axis=axis, keepdims=True))

    return apply(fun, data)


def _shifted(value: Any, axis: int, temperature: Any) -> Any:
    if temperature is not None:
        value = value / temperature
    # Softmax does not change when a constant is subtracted: the shift is a plain array.
    return value - np.max(full_value(value), axis=axis, keepdims=True)


# --- indices -----------------------------------------------------------------------------


def _arg_extremum(name: str, fun: Any) -> Any:
    def op(data: NDArray, axis: Any = None, keepdims: bool = False) -> NDArray:
        value = data._value
        if axis is None:
            indices = np.asarray(fun(value)).reshape(1)
        else:
            indices = np.asarray(fun(value, axis=axis, keepdims=keepdims))
        return _at_least_1d_plain(indices.astype(value.dtype))

    op.__name__ = op.__qualname__ = name
    op.__module__ = "adfun.nd"
    op.__doc__ = (
        f"The indices of the {name[3:]}imum values along ``axis`` (of the flattened array "
        f"by default), as an array of ``data``'s dtype like MXNet (a constant: it has no "
        f"gradient).\n\n"
        f"Examples\n--------\n>>> from adfun import nd\n"
        f">>> nd.{name}(nd.array([[1, 5], [7, 2]]), axis=1).asnumpy().tolist()\n"
        f"[{1.0 if name == 'argmax' else 0.0}, {0.0 if name == 'argmax' else 1.0}]\n"
    )
    return op


def _at_least_1d_plain(value: np.ndarray) -> NDArray:
    return NDArray(value.reshape(1) if value.ndim == 0 else value)


argmax = _arg_extremum("argmax", np.argmax)
argmin = _arg_extremum("argmin", np.argmin)


def pick(
    data: NDArray, index: Any, axis: int = -1, keepdims: bool = False, mode: str = "clip"
) -> NDArray:
    """The elements of ``data`` at positions ``index`` along ``axis``.

    ``index`` has the shape of ``data`` without ``axis``; the gradient flows to the picked
    elements (for example ``nd.pick(nd.log_softmax(scores), labels)`` in a loss).

    Parameters
    ----------
    data : NDArray
    index : NDArray
        Positions (stored as floats, as MXNet does).
    axis : int, optional
    keepdims : bool, optional
        Keep ``axis`` with size 1.
    mode : {'clip', 'wrap'}, optional
        How out-of-range positions are handled.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.pick(nd.array([[1, 2], [3, 4]]), nd.array([1, 0]))
    <BLANKLINE>
    [2. 3.]
    <NDArray 2 @cpu(0)>
    """
    if mode not in ("clip", "wrap"):
        raise ValueError(f"adfun.nd.pick: mode must be 'clip' or 'wrap', got {mode!r}")
    shape = data.shape
    axis = cast(tuple, _axes("pick", axis, len(shape), False))[0]  # an int axis: a tuple
    positions = np.asarray(value_of(index)).astype(np.int64)
    expected = shape[:axis] + shape[axis + 1 :]
    if positions.shape != expected:
        raise ValueError(
            f"adfun.nd.pick: index has shape {positions.shape}, but data of shape {shape} "
            f"needs an index of shape {expected} (data's shape without axis {axis})"
        )
    side = shape[axis]
    positions = np.clip(positions, 0, side - 1) if mode == "clip" else positions % side
    grids = list(np.indices(expected, sparse=True)) if expected else []
    key = tuple(grids[:axis]) + (positions,) + tuple(grids[axis:])

    def fun(value: Any) -> Any:
        picked = value[key]
        return anp.expand_dims(picked, axis) if keepdims else _at_least_1d(picked)

    return apply(fun, data)


def one_hot(
    indices: Any, depth: int, on_value: float = 1.0, off_value: float = 0.0, dtype: Any = None
) -> NDArray:
    """One-hot encoding: a new last axis of size ``depth`` (a constant array).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.one_hot(nd.array([1, 0]), 3)
    <BLANKLINE>
    [[0. 1. 0.]
     [1. 0. 0.]]
    <NDArray 2x3 @cpu(0)>
    """
    positions = np.asarray(value_of(indices)).astype(np.int64)
    hot = positions[..., None] == np.arange(depth)
    dtype = np.float32 if dtype is None else np.dtype(dtype)
    return NDArray(np.where(hot, on_value, off_value).astype(dtype))


# --- linear algebra ----------------------------------------------------------------------


def dot(lhs: Any, rhs: Any, transpose_a: bool = False, transpose_b: bool = False) -> NDArray:
    """The dot product: the last axis of ``lhs`` contracted with the first axis of ``rhs``.

    Parameters
    ----------
    lhs, rhs : NDArray
    transpose_a, transpose_b : bool, optional
        Contract the *first* axis of ``lhs`` (its other axes come first in the result, in
        order) / the *last* axis of ``rhs``; for matrices, the transposes.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.dot(nd.array([[1, 2]]), nd.array([[3], [4]]))
    <BLANKLINE>
    [[11.]]
    <NDArray 1x1 @cpu(0)>
    """

    csr_dot = OPS.get("_csr_dot")  # adfun.nd.sparse: a product that keeps a csr lhs sparse
    if csr_dot is not None and getattr(lhs, "stype", None) == "csr":
        product = csr_dot(lhs, rhs, transpose_a, transpose_b)
        if product is not None:
            return product
    for name, operand, flag in (("lhs", lhs, transpose_a), ("rhs", rhs, transpose_b)):
        ndim = operand.ndim if isinstance(operand, NDArray) else np.ndim(operand)
        if flag and ndim < 2:
            raise ValueError(
                f"adfun.nd.dot: cannot transpose the 1-D {name} "
                f"(transpose_{'a' if name == 'lhs' else 'b'}=True needs 2 or more dimensions)"
            )

    def fun(a: Any, b: Any) -> Any:
        # MXNet's N-D transposes: lhs contracts its first axis, rhs its last one
        if transpose_a:
            a = anp.moveaxis(a, 0, -1)
        if transpose_b:
            b = anp.moveaxis(b, -1, 0)
        if len(a.shape) <= 2 and len(b.shape) <= 2:
            return _at_least_1d(anp.dot(a, b))
        return _at_least_1d(anp.tensordot(a, b, 1))

    return apply(fun, lhs, rhs)


def batch_dot(lhs: Any, rhs: Any, transpose_a: bool = False, transpose_b: bool = False) -> NDArray:
    """Matrix products of matching batches: ``(B, M, K) x (B, K, N) -> (B, M, N)``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.batch_dot(nd.ones((2, 1, 3)), nd.ones((2, 3, 1))).shape
    (2, 1, 1)
    """

    def fun(a: Any, b: Any) -> Any:
        if transpose_a:
            a = anp.swapaxes(a, -1, -2)
        if transpose_b:
            b = anp.swapaxes(b, -1, -2)
        return anp.matmul(a, b)

    return apply(fun, lhs, rhs)


# --- shapes ------------------------------------------------------------------------------


def _mxnet_shape(function: str, codes: Any, source: tuple) -> tuple:
    """Resolve MXNet's reshape codes (0: copy, -1: infer, -2: copy the rest, -3: merge two,
    -4: split one into the next two codes)."""
    codes = list(codes)
    target: list = []
    position = 0
    index = 0
    try:
        while index < len(codes):
            code = codes[index]
            if code == 0:
                target.append(source[position])
                position += 1
            elif code == -2:
                target.extend(source[position:])
                position = len(source)
            elif code == -3:
                target.append(source[position] * source[position + 1])
                position += 2
            elif code == -4:
                first, second = codes[index + 1], codes[index + 2]
                index += 2
                side = source[position]
                if first == -1:
                    first = side // second
                if second == -1:
                    second = side // first
                target.extend((first, second))
                position += 1
            else:
                target.append(code)
                position += 1
            index += 1
    except IndexError:
        raise ValueError(
            f"adfun.nd.{function}: the shape codes {tuple(codes)} refer to more dimensions "
            f"than the input shape {source} has"
        ) from None
    return tuple(int(side) for side in target)


def _reshape_target(data: NDArray, shape: Any, reverse: bool = False) -> tuple:
    """The shape ``reshape(data, shape, reverse)`` gives (MXNet's codes resolved)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    if reverse:
        return _mxnet_shape("reshape", tuple(shape)[::-1], data.shape[::-1])[::-1]
    return _mxnet_shape("reshape", shape, data.shape)


def reshape(data: NDArray, shape: Any, reverse: bool = False) -> NDArray:
    """``data`` with a new shape; MXNet's codes 0, -1, -2, -3 and -4 are understood.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.reshape(nd.zeros((2, 3, 4)), (0, -1)).shape
    (2, 12)
    """
    target = _reshape_target(data, shape, reverse)
    return apply(lambda value: anp.reshape(value, target), data)


def transpose(data: NDArray, axes: Any = None) -> NDArray:
    """Permute the axes (reverse them by default).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.transpose(nd.zeros((2, 3))).shape
    (3, 2)
    """
    axes = None if axes is None or axes == () else tuple(axes)
    return apply(lambda value: anp.transpose(value, axes), data)


def expand_dims(data: NDArray, axis: int) -> NDArray:
    """Insert an axis of size 1 at position ``axis``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.expand_dims(nd.zeros(3), axis=0).shape
    (1, 3)
    """
    return apply(lambda value: anp.expand_dims(value, axis), data)


def flatten(data: NDArray) -> NDArray:
    """Collapse every axis but the first: shape ``(d1, d2 * ... * dk)``, as MXNet does.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.flatten(nd.zeros((2, 3, 4))).shape
    (2, 12)
    """
    shape = data.shape
    first = shape[0] if shape else 1
    rest = int(np.prod(shape[1:], dtype=np.int64))
    return apply(lambda value: anp.reshape(value, (first, rest)), data)


def broadcast_to(data: NDArray, shape: Any) -> NDArray:
    """Broadcast to ``shape``; a 0 in ``shape`` keeps the input's size on that axis.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.broadcast_to(nd.ones((1, 3)), (2, 0)).shape
    (2, 3)
    """
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    source = data.shape
    offset = len(shape) - len(source)
    target = tuple(
        source[index - offset] if side == 0 and index >= offset else int(side)
        for index, side in enumerate(shape)
    )
    return apply(lambda value: anp.broadcast_to(value, target), data)


def concat(*data: NDArray, dim: int = 1, num_args: Any = None) -> NDArray:
    """Join arrays along the existing axis ``dim`` (1 by default, as in MXNet).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.concat(nd.ones((2, 1)), nd.zeros((2, 2))).shape
    (2, 3)
    """
    if not data:
        raise ValueError("adfun.nd.concat: pass at least one array")
    return apply_many(lambda values: anp.concatenate(values, axis=dim), data)


def stack(*data: NDArray, axis: int = 0, num_args: Any = None) -> NDArray:
    """Join arrays of the same shape along a new axis ``axis``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.stack(nd.ones(3), nd.zeros(3)).shape
    (2, 3)
    """
    if not data:
        raise ValueError("adfun.nd.stack: pass at least one array")
    return apply_many(lambda values: anp.stack(values, axis=axis), data)


# --- synchronisation ---------------------------------------------------------------------


def waitall() -> None:
    """Wait until every pending operation has finished, as ``mxnet.nd.waitall``.

    adfun computes eagerly (there is no asynchronous engine), so nothing is pending and
    this returns at once; it is here so that MXNet code that calls it runs unchanged.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.waitall()
    """


# --- dropout -----------------------------------------------------------------------------


def Dropout(
    data: NDArray,
    p: float = 0.5,
    mode: str = "training",  # noqa: N802 - MXNet
    axes: Any = (),
    **kwargs: Any,
) -> NDArray:
    """Zero each element with probability ``p`` and scale the others by ``1 / (1 - p)``.

    Active only in training mode (inside ``autograd.record()`` or ``autograd.train_mode()``)
    unless ``mode='always'``; otherwise the identity.

    Parameters
    ----------
    data : NDArray
    p : float, optional
        The probability of dropping an element, in ``[0, 1]``.
    mode : {'training', 'always'}, optional
    axes : tuple of int, optional
        Axes along which the same mask is shared (variational dropout).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.Dropout(nd.ones(3), p=0.5)  # not training: unchanged
    <BLANKLINE>
    [1. 1. 1.]
    <NDArray 3 @cpu(0)>
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"adfun.nd.Dropout: p must be in [0, 1], got {p!r}")
    if mode not in ("training", "always"):
        raise ValueError(f"adfun.nd.Dropout: mode must be 'training' or 'always', got {mode!r}")
    shape = data.shape
    if p == 0.0 or (mode == "training" and not training.get()):
        return apply(lambda value: anp.reshape(value, shape), data)
    mask_shape = shape
    if axes:
        shared = _axes("Dropout", axes, len(shape), False) or ()
        mask_shape = tuple(1 if index in shared else side for index, side in enumerate(shape))
    dtype = data._value.dtype
    if p == 1.0:
        mask = np.zeros(mask_shape, dtype)
    else:
        keep = generator().random(mask_shape) >= p
        mask = (keep / (1.0 - p)).astype(dtype)
    return apply(lambda value: value * mask, data)


# The functions NDArray's methods delegate to (see ``adfun.nd._ndarray.OPS``).
OPS.update(
    {
        "abs": abs,
        "argmax": argmax,
        "argmin": argmin,
        "broadcast_to": broadcast_to,
        "clip": clip,
        "cos": cos,
        "dot": dot,
        "exp": exp,
        "expand_dims": expand_dims,
        "flatten": flatten,
        "log": log,
        "log_softmax": log_softmax,
        "max": max,
        "mean": mean,
        "min": min,
        "norm": norm,
        "pick": pick,
        "prod": prod,
        "relu": relu,
        "reshape": reshape,
        "_reshape_target": _reshape_target,
        "sigmoid": sigmoid,
        "sin": sin,
        "softmax": softmax,
        "sqrt": sqrt,
        "square": square,
        "sum": sum,
        "tanh": tanh,
        "transpose": transpose,
    }
)
