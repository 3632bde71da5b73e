"""The primitives' implementations in any Array API namespace (CuPy, array-api-strict...).

NumPy runs each primitive's own ``impl``.  Another library runs what this module
declares for it in the engine's :data:`~adfun._engine.records.BACKEND_IMPLEMENTATIONS`:
``factory(xp, primitive)`` returns the implementation written with the standard's
functions of the namespace ``xp`` (array-api-compat's wrapper, where the library needs
one), with the primitive's own signature and NumPy's semantics; or ``None`` where the
library has no way to compute it (the call then raises ``NotImplementedError`` naming
the function and the library).  Functions outside the standard (``einsum``, ``fft``,
``linalg``, ``scipy.special``...) use the library's own function of the same name where
it has one (CuPy, PyTorch and Dask mostly do; array-api-strict does not).

The rule-table test (``tests/test_backends.py``) runs every primitive on
array-api-strict arrays against NumPy, in value and in both derivative modes.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from adfun._engine.records import BACKEND_IMPLEMENTATIONS

#: NumPy's elementwise functions whose standard function has the same name and meaning.
SAME_NAME = (
    "add subtract multiply divide floor_divide remainder negative positive equal not_equal "
    "less less_equal greater greater_equal logical_and logical_or logical_xor logical_not "
    "isfinite isinf isnan sign sqrt square exp expm1 log log1p log2 log10 logaddexp "
    "maximum minimum hypot copysign floor ceil trunc sin cos tan sinh cosh tanh real imag "
    "matmul bitwise_and bitwise_or bitwise_xor bitwise_invert bitwise_left_shift "
    "bitwise_right_shift reciprocal signbit nextafter"
).split()

#: NumPy's name -> the standard's name, for the same function under another name.
RENAMED = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arctan2": "atan2",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "power": "pow",
    "absolute": "abs",
    "fabs": "abs",
    "conjugate": "conj",
    "bitwise_not": "bitwise_invert",
    "invert": "bitwise_invert",
    "left_shift": "bitwise_left_shift",
    "right_shift": "bitwise_right_shift",
    "rint": "round",
}

_PYTHON_SCALARS = (bool, int, float, complex)


def _scalar_operand(xp: Any, value: Any, other: Any, device: Any = None) -> Any:
    """A Python number as an array for a standard function, with NumPy's promotion: it
    takes the other operand's dtype where its kind fits (``x * 2`` stays float32)."""
    dtype = getattr(other, "dtype", None)
    kind = _kind(xp, dtype) if dtype is not None else None
    if isinstance(value, bool):
        wanted = xp.bool if kind in (None, "b") else dtype
    elif isinstance(value, int):
        wanted = dtype if kind in ("i", "u", "f", "c") else None
    elif isinstance(value, float):
        wanted = dtype if kind in ("f", "c") else None
    else:
        wanted = dtype if kind == "c" else None
    device = getattr(other, "device", device)
    return xp.asarray(value, dtype=wanted, device=device)


def _device(x: Any) -> Any:
    """The device of a library array (``None`` for Dask's, which have no ``device``:
    its namespace puts new arrays on the CPU)."""
    return getattr(x, "device", None)


def _kind(xp: Any, dtype: Any) -> str:
    if dtype == xp.bool:
        return "b"
    for kind, name in (("i", "signed integer"), ("u", "unsigned integer")):
        if xp.isdtype(dtype, name):
            return kind
    if xp.isdtype(dtype, "real floating"):
        return "f"
    return "c"


def _elementwise(xp: Any, function: Callable) -> Callable:
    def impl(*args: Any) -> Any:
        if len(args) == 2:
            x, y = args
            if isinstance(x, _PYTHON_SCALARS):
                x = _scalar_operand(xp, x, y)
            if isinstance(y, _PYTHON_SCALARS):
                y = _scalar_operand(xp, y, x)
            return function(x, y)
        (x,) = args
        if isinstance(x, _PYTHON_SCALARS):
            x = xp.asarray(x)
        return function(x)

    return impl


def _by_name(standard: str) -> Callable:
    def factory(xp: Any, primitive: Any) -> Any:
        function = getattr(xp, standard, None)
        return _elementwise(xp, function) if function is not None else None

    return factory


for _name in SAME_NAME:
    BACKEND_IMPLEMENTATIONS[_name] = _by_name(_name)
for _name, _standard in RENAMED.items():
    BACKEND_IMPLEMENTATIONS[_name] = _by_name(_standard)


def declare(name: str) -> Callable[[Callable], Callable]:
    """Decorator: ``factory(xp, primitive)`` is the implementation of primitive ``name``."""

    def register(factory: Callable) -> Callable:
        BACKEND_IMPLEMENTATIONS[name] = factory
        return factory

    return register


def _own(xp: Any, name: str) -> Any:
    """The library's own function ``name`` (outside the standard), or ``None``."""
    return getattr(xp, name, None)


# --- elementwise functions with NumPy-only names ------------------------------------------
@declare("deg2rad")
@declare("radians")
def _radians(xp: Any, primitive: Any) -> Callable:
    return lambda x: x * (math.pi / 180.0)


@declare("rad2deg")
@declare("degrees")
def _degrees(xp: Any, primitive: Any) -> Callable:
    return lambda x: x * (180.0 / math.pi)


@declare("exp2")
def _exp2(xp: Any, primitive: Any) -> Callable:
    return lambda x: xp.pow(xp.asarray(2.0, dtype=x.dtype, device=_device(x)), x)


@declare("cbrt")
def _cbrt(xp: Any, primitive: Any) -> Callable:
    return lambda x: xp.sign(x) * xp.pow(xp.abs(x), 1.0 / 3.0)


@declare("logaddexp2")
def _logaddexp2(xp: Any, primitive: Any) -> Callable:
    log2 = math.log(2.0)
    return lambda x, y: xp.logaddexp(x * log2, y * log2) / log2


@declare("fmax")
def _fmax(xp: Any, primitive: Any) -> Callable:
    def fmax(x: Any, y: Any) -> Any:
        x, y = _pair(xp, x, y)
        return xp.where(xp.isnan(y), x, xp.where(xp.isnan(x), y, xp.maximum(x, y)))

    return fmax


@declare("fmin")
def _fmin(xp: Any, primitive: Any) -> Callable:
    def fmin(x: Any, y: Any) -> Any:
        x, y = _pair(xp, x, y)
        return xp.where(xp.isnan(y), x, xp.where(xp.isnan(x), y, xp.minimum(x, y)))

    return fmin


@declare("fmod")
def _fmod(xp: Any, primitive: Any) -> Callable:
    def fmod(x: Any, y: Any) -> Any:
        x, y = _pair(xp, x, y)
        return x - y * xp.trunc(x / y)

    return fmod


@declare("float_power")
def _float_power(xp: Any, primitive: Any) -> Callable:
    def float_power(x: Any, y: Any) -> Any:
        x, y = _pair(xp, x, y)
        return xp.pow(xp.astype(x, xp.float64), xp.astype(y, xp.float64))

    return float_power


def _pair(xp: Any, x: Any, y: Any) -> tuple:
    if isinstance(x, _PYTHON_SCALARS):
        x = _scalar_operand(xp, x, y)
    if isinstance(y, _PYTHON_SCALARS):
        y = _scalar_operand(xp, y, x)
    return x, y


@declare("sinc")
def _sinc(xp: Any, primitive: Any) -> Callable:
    def sinc(x: Any) -> Any:
        y = math.pi * xp.where(x == 0, xp.asarray(1.0e-20, dtype=x.dtype, device=_device(x)), x)
        return xp.where(x == 0, xp.ones_like(x), xp.sin(y) / y)

    return sinc


@declare("copysign_factor")
def _copysign_factor(xp: Any, primitive: Any) -> Callable:
    def factor(x: Any, y: Any) -> Any:
        x, y = _pair(xp, x, y)
        one = xp.ones_like(x) if hasattr(x, "dtype") else 1.0
        return xp.copysign(one, x) * xp.copysign(xp.ones_like(y), y)

    return factor


# --- reductions -------------------------------------------------------------------------
#: Reductions NumPy applies to booleans as numbers, and the dtype it counts them in.
_COUNTING = {"sum": "int64", "prod": "int64", "mean": "float64"}


def _reduction(name: str) -> Callable:
    def factory(xp: Any, primitive: Any) -> Any:
        function = getattr(xp, name)

        def reduce(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
            a = _array(xp, a)
            if a.dtype == xp.bool and name in _COUNTING:
                a = xp.astype(a, getattr(xp, _COUNTING[name]))  # NumPy counts booleans
            return function(a, axis=axis, keepdims=keepdims)

        return reduce

    return factory


def _array(xp: Any, value: Any) -> Any:
    return xp.asarray(value) if isinstance(value, _PYTHON_SCALARS) else value


for _name in ("sum", "mean", "max", "min", "prod", "all", "any"):
    BACKEND_IMPLEMENTATIONS[_name] = _reduction(_name)


@declare("argmax")
@declare("argmin")
def _argextreme(xp: Any, primitive: Any) -> Callable:
    function = getattr(xp, primitive.name)

    def arg(a: Any, axis: Any = None, keepdims: bool = False, **ignored: Any) -> Any:
        return function(a, axis=axis, keepdims=keepdims)

    return arg


@declare("count_nonzero")
def _count_nonzero(xp: Any, primitive: Any) -> Callable:
    return lambda a, axis=None, keepdims=False: xp.count_nonzero(a, axis=axis, keepdims=keepdims)


@declare("cumsum")
def _cumsum(xp: Any, primitive: Any) -> Callable:
    return lambda a, axis=0: xp.cumulative_sum(a, axis=axis)


@declare("cumprod")
def _cumprod(xp: Any, primitive: Any) -> Any:
    function = getattr(xp, "cumulative_prod", None)
    if function is None:
        return None
    return lambda a, axis=0, order=-1: function(a, axis=axis)


# --- shapes -----------------------------------------------------------------------------
@declare("reshape")
def _reshape(xp: Any, primitive: Any) -> Callable:
    return lambda a, shape=(): xp.reshape(_array(xp, a), tuple(shape))


@declare("broadcast_to")
def _broadcast_to(xp: Any, primitive: Any) -> Callable:
    return lambda a, shape=(): xp.broadcast_to(_array(xp, a), tuple(shape))


@declare("transpose")
def _transpose(xp: Any, primitive: Any) -> Callable:
    def transpose(a: Any, axes: Any = None) -> Any:
        if axes is None:
            axes = tuple(range(a.ndim - 1, -1, -1))
        return xp.permute_dims(a, tuple(axes))

    return transpose


@declare("concatenate")
def _concatenate(xp: Any, primitive: Any) -> Callable:
    return lambda *arrays, axis=0: xp.concat(arrays, axis=axis)


@declare("stack")
def _stack(xp: Any, primitive: Any) -> Callable:
    return lambda *arrays, axis=0: xp.stack(arrays, axis=axis)


@declare("astype")
def _astype(xp: Any, primitive: Any) -> Callable:
    return lambda a, dtype=None: xp.astype(_array(xp, a), dtype)


@declare("where")
def _where(xp: Any, primitive: Any) -> Callable:
    def where(condition: Any, x: Any, y: Any) -> Any:
        device = _device(condition)
        if isinstance(x, _PYTHON_SCALARS) and isinstance(y, _PYTHON_SCALARS):
            x = xp.asarray(x, device=device)
        if isinstance(x, _PYTHON_SCALARS):
            x = _scalar_operand(xp, x, y, device)
        if isinstance(y, _PYTHON_SCALARS):
            y = _scalar_operand(xp, y, x, device)
        return xp.where(condition, x, y)

    return where


@declare("clip")
def _clip(xp: Any, primitive: Any) -> Callable:
    def clip(a: Any, a_min: Any = None, a_max: Any = None, **kwargs: Any) -> Any:
        low = kwargs.get("min", a_min)
        high = kwargs.get("max", a_max)
        return xp.clip(a, min=low, max=high)

    return clip


# --- indexing ---------------------------------------------------------------------------
# The standard indexes with integers, slices, ``...``, ``None``, a sole boolean mask, and
# integer arrays combined with integers only.  NumPy's other keys, where they are constants
# of the program (NumPy arrays, Python values), become flat positions computed with NumPy
# from the key alone (never from the data), gathered with ``take`` and scattered back
# with a sort-and-cumulative-sum (the standard has no scatter-add).
def _key(template: Any, parts: tuple, key: Any) -> Any:
    from adfun.numpy._values import put_in

    if template is not None:
        return put_in(template.args, parts)
    return parts[0] if parts else key


def _holds_library_arrays(key: Any) -> bool:
    items = key if isinstance(key, tuple) else (key,)
    return any(
        hasattr(item, "__array_namespace__") and not isinstance(item, (np.ndarray, np.generic))
        for item in items
    )


def _flat_positions(key: Any, shape: tuple) -> np.ndarray:
    """Where each entry of ``x[key]`` sits in ``x.ravel()``, for an ``x`` of ``shape``."""
    return np.arange(math.prod(shape), dtype=np.int64).reshape(shape)[key]


@declare("getitem")
def _getitem(xp: Any, primitive: Any) -> Callable:
    def getitem(a: Any, *parts: Any, key: Any = None, template: Any = None) -> Any:
        key = _key(template, parts, key)
        if _holds_library_arrays(key):
            key = _mask_as_indices(xp, key, a.ndim)
            positions = _library_positions(xp, key, tuple(a.shape))
            if positions is None:  # a sole mask, or another form of the standard
                return a[_standard_key(key, a.ndim)]
            flat = xp.take(xp.reshape(a, (-1,)), xp.reshape(positions, (-1,)))
            return xp.reshape(flat, positions.shape)
        if _is_basic(key):
            try:
                return a[_standard_key(key, a.ndim)]
            except IndexError:  # a form NumPy allows and the standard does not (a slice
                pass  # starting past the end): through flat positions below
        positions = _flat_positions(key, tuple(a.shape))
        flat = xp.take(xp.reshape(a, (-1,)), xp.asarray(positions.reshape(-1), device=_device(a)))
        return xp.reshape(flat, positions.shape)

    getitem.raw_arguments = True  # type: ignore[attr-defined]
    return getitem


@declare("untake")
def _untake(xp: Any, primitive: Any) -> Callable:
    def untake(g: Any, *parts: Any, key: Any = None, template: Any = None, shape: Any = ()) -> Any:
        key = _key(template, parts, key)
        shape = tuple(shape)
        result = xp.zeros(shape, dtype=g.dtype, device=_device(g))
        if _is_basic(key):
            try:
                result[_standard_key(key, len(shape))] = g
                return result
            except IndexError:
                pass
        if _holds_library_arrays(key):
            return _library_scatter_add(xp, key, g, result)
        positions = _flat_positions(key, shape)
        values = xp.reshape(xp.broadcast_to(g, positions.shape), (-1,))
        return xp.reshape(_scatter_add(xp, positions.reshape(-1), values, result), shape)

    untake.raw_arguments = True  # type: ignore[attr-defined]
    return untake


def _library_positions(xp: Any, key: Any, shape: tuple) -> Any:
    """The flat positions selected by a key of integer arrays (of the library) and
    integers, one per leading axis, computed with the standard's arithmetic; ``None`` for
    other keys."""
    items = key if isinstance(key, tuple) else (key,)
    if not items or len(items) > len(shape):
        return None
    for item in items:
        if isinstance(item, (bool, slice)) or item is None or item is Ellipsis:
            return None
        if hasattr(item, "dtype") and not xp.isdtype(item.dtype, "integral"):
            return None
    device = next((item.device for item in items if hasattr(item, "device")), None)
    rest = math.prod(shape[len(items) :])
    positions: Any = None
    stride = rest
    for axis in range(len(items) - 1, -1, -1):
        size = shape[axis]
        index = items[axis]
        index = xp.asarray(index, device=device) if isinstance(index, int) else index
        term = xp.remainder(index, size) * stride
        positions = term if positions is None else term + positions
        stride *= size
    offsets = xp.reshape(xp.arange(rest, device=device), (1,) * positions.ndim + (rest,))
    positions = xp.reshape(positions, positions.shape + (1,)) + offsets
    return xp.reshape(positions, positions.shape[:-1] + shape[len(items) :])


def _mask_as_indices(xp: Any, key: Any, ndim: int) -> Any:
    """A sole boolean mask indexing fewer than ``ndim`` axes, as the integer arrays of its
    ``True`` entries (the standard allows a mask only as an array's full index)."""
    items = key if isinstance(key, tuple) else (key,)
    if len(items) == 1 and hasattr(items[0], "dtype") and items[0].dtype == xp.bool:
        if items[0].ndim < ndim or ndim == 0:
            return xp.nonzero(items[0])
    return key


#: Above this many entries, a one-hot scatter-add would take too much memory.
ONE_HOT_LIMIT = 1 << 24


def _library_scatter_add(xp: Any, key: Any, g: Any, result: Any) -> Any:
    """``result`` with ``g`` added at ``result[key]`` for a key of the library's integer
    arrays (or a sole boolean mask): a one-hot product, the standard's only scatter-add
    (exact: each output sums its own entries)."""
    key = _mask_as_indices(xp, key, 0)
    positions = _library_positions(xp, key, tuple(result.shape))
    size = math.prod(result.shape)
    if positions is None or math.prod(positions.shape) * size > ONE_HOT_LIMIT:
        raise NotImplementedError(
            f"the derivative of indexing with this key of computed indices is not "
            f"supported on {xp.__name__} arrays (the Array API standard has no "
            f"scatter-add); index with NumPy arrays, or compute this step on NumPy arrays"
        )
    flat_positions = xp.reshape(positions, (-1,))
    values = xp.reshape(xp.broadcast_to(g, positions.shape), (-1,))
    one_hot = xp.astype(
        flat_positions[:, None] == xp.arange(size, device=_device(result))[None, :], g.dtype
    )
    return xp.reshape(values @ one_hot, result.shape)


def _standard_key(key: Any, ndim: int) -> Any:
    """NumPy's key with the trailing ``...`` the standard requires where a key indexes
    fewer axes than the array has (NumPy implies it)."""
    items = key if isinstance(key, tuple) else (key,)
    if any(item is Ellipsis for item in items):
        return key
    indexed = sum(
        1 if not hasattr(item, "ndim") or item.dtype != bool else max(item.ndim, 1)
        for item in items
        if item is not None
    )
    if indexed < ndim:
        return items + (Ellipsis,)
    return key


def _is_basic(key: Any) -> bool:
    """A key of integers, slices and ``...`` (``None`` goes through flat positions)."""
    items = key if isinstance(key, tuple) else (key,)
    return all(item is Ellipsis or isinstance(item, (int, slice)) for item in items)


def _scatter_add(xp: Any, positions: np.ndarray, values: Any, result: Any) -> Any:
    """``result.ravel()`` with ``values`` added at the flat ``positions`` (NumPy constants),
    repeated positions summed: sort by position, sum each run by differences of a
    cumulative sum, and gather the sums into place."""
    if positions.size == 0:
        return xp.zeros((math.prod(result.shape),), dtype=values.dtype, device=_device(result))
    order = np.argsort(positions, kind="stable")
    ordered = positions[order]
    device = _device(result)
    sorted_values = xp.take(values, xp.asarray(order, device=device))
    running = xp.cumulative_sum(sorted_values, include_initial=True)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size]
    sums = xp.take(running, xp.asarray(ends, device=device)) - xp.take(
        running, xp.asarray(starts, device=device)
    )
    lookup = np.zeros(math.prod(result.shape), dtype=np.int64)
    lookup[ordered[starts]] = np.arange(1, starts.size + 1)
    padded = xp.concat([xp.zeros((1,), dtype=values.dtype, device=device), sums])
    return xp.take(padded, xp.asarray(lookup, device=device))


# --- products ---------------------------------------------------------------------------
@declare("tensordot")
def _tensordot(xp: Any, primitive: Any) -> Callable:
    return lambda a, b, axes=((), ()): xp.tensordot(a, b, axes=(tuple(axes[0]), tuple(axes[1])))


@declare("dot")
def _dot(xp: Any, primitive: Any) -> Callable:
    def dot(a: Any, b: Any) -> Any:
        a, b = _pair(xp, a, b)
        if a.ndim == 0 or b.ndim == 0:
            return a * b
        if b.ndim == 1:
            return xp.tensordot(a, b, axes=((a.ndim - 1,), (0,)))
        return xp.tensordot(a, b, axes=((a.ndim - 1,), (b.ndim - 2,)))

    return dot


@declare("einsum")
def _einsum(xp: Any, primitive: Any) -> Any:
    function = _own(xp, "einsum")
    if function is None:
        return None
    return lambda *operands, subscripts="": function(subscripts, *operands)


# --- linalg and fft extensions ------------------------------------------------------------
def _extension(module: str, name: str, own: str | None = None) -> Callable:
    def factory(xp: Any, primitive: Any) -> Any:
        namespace = getattr(xp, module, None)
        function = getattr(namespace, own or name, None) if namespace is not None else None
        return function

    return factory


for _name in ("inv", "det", "cholesky", "svdvals"):
    BACKEND_IMPLEMENTATIONS[f"linalg.{_name}"] = _extension("linalg", _name)


@declare("linalg.solve")
def _solve(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    if linalg is None:
        return None

    def solve(a: Any, b: Any) -> Any:
        # NumPy: b is a stack of vectors only when it is 1-D.
        if b.ndim == 1:
            return linalg.solve(a, b[:, None])[..., 0]
        return linalg.solve(a, b)

    return solve


@declare("linalg.slogdet")
def _logabsdet(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    return (lambda a: linalg.slogdet(a)[1]) if hasattr(linalg, "slogdet") else None


@declare("linalg.slogdet_sign")
def _slogdet_sign(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    return (lambda a: linalg.slogdet(a)[0]) if hasattr(linalg, "slogdet") else None


def _packed(xp: Any, parts: list, batch: tuple) -> Any:
    """The parts of a decomposition flattened and joined along the last axis (the layout
    of the NumPy implementations, which the rules unpack)."""
    return xp.concat([xp.reshape(part, batch + (-1,)) for part in parts], axis=-1)


def _phases(xp: Any, v: Any) -> Any:
    """The unit phases ``(..., 1, k)`` that make each column's largest-magnitude component
    real and positive (the gauge of ``adfun.numpy.linalg.eigh`` and ``svd`` for complex
    matrices, which their rules differentiate)."""
    magnitude = xp.abs(v)
    rows = xp.argmax(magnitude, axis=-2)
    numbers = xp.arange(v.shape[-2], device=v.device)[:, None]
    one_hot = xp.astype(numbers == rows[..., None, :], v.dtype)
    largest = xp.sum(v * one_hot, axis=-2, keepdims=True)
    size = xp.abs(largest)
    safe = xp.where(size == 0, xp.ones_like(size), size)
    return xp.where(size == 0, xp.ones_like(largest), xp.conj(largest) / xp.astype(safe, v.dtype))


def _hermitian_part(xp: Any, a: Any, lower: bool) -> Any:
    """The Hermitian matrix read from the ``lower`` (or upper) triangle of ``a``."""
    triangle = xp.tril(a) if lower else xp.triu(a)
    diagonal = xp.tril(triangle) * xp.triu(xp.ones_like(a))
    return triangle + xp.conj(_swap(xp, triangle)) - diagonal


@declare("linalg.eigh")
def _eigh(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    if not hasattr(linalg, "eigh"):
        return None

    def eigh(a: Any, lower: bool = True) -> Any:
        w, v = linalg.eigh(_hermitian_part(xp, a, lower))
        if xp.isdtype(v.dtype, "complex floating"):
            v = v * _phases(xp, v)
        return _packed(xp, [w, v], tuple(a.shape[:-2]))

    return eigh


@declare("linalg.eigvalsh")
def _eigvalsh(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    if not hasattr(linalg, "eigvalsh"):
        return None
    return lambda a, lower=True: linalg.eigvalsh(_hermitian_part(xp, a, lower))


def _swap(xp: Any, a: Any) -> Any:
    return xp.matrix_transpose(a) if hasattr(xp, "matrix_transpose") else xp.swapaxes(a, -1, -2)


@declare("linalg.qr")
def _qr(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    if linalg is None:
        return None

    def qr(a: Any) -> Any:
        q, r = linalg.qr(a)
        return _packed(xp, [q, r], tuple(a.shape[:-2]))

    return qr


@declare("linalg.svd")
def _svd(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    if linalg is None:
        return None

    def svd(a: Any) -> Any:
        u, s, vh = linalg.svd(a, full_matrices=False)
        if xp.isdtype(u.dtype, "complex floating"):
            phases = _phases(xp, u)
            u, vh = u * phases, vh * xp.conj(_swap(xp, phases))
        return _packed(xp, [u, s, vh], tuple(a.shape[:-2]))

    return svd


@declare("linalg.pinv")
def _pinv(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    if linalg is None:
        return None
    return lambda a, rcond=1e-15: linalg.pinv(a, rtol=rcond)


@declare("linalg.vector_norm")
def _vector_norm(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    if linalg is None:
        return None

    def vector_norm(x: Any, axis: Any = None, keepdims: bool = False, **order: Any) -> Any:
        return linalg.vector_norm(x, ord=order.get("ord", 2.0), axis=axis, keepdims=keepdims)

    return vector_norm


def _fft(name: str) -> Callable:
    def factory(xp: Any, primitive: Any) -> Any:
        fft = getattr(xp, "fft", None)
        function = getattr(fft, name, None) if fft is not None else None
        if function is None:
            return None

        def transform(a: Any, n: int = 1, axis: int = -1, norm: str = "backward") -> Any:
            if name != "rfft" and not xp.isdtype(a.dtype, "complex floating"):
                complex_type = xp.complex64 if a.dtype == xp.float32 else xp.complex128
                a = xp.astype(a, complex_type)
            return function(a, n=n, axis=axis, norm=norm)

        return transform

    return factory


for _name in ("fft", "ifft", "rfft", "irfft"):
    BACKEND_IMPLEMENTATIONS[f"fft.{_name}"] = _fft(_name)


# --- scipy.special's reductions ----------------------------------------------------------
def _logsumexp_parts(xp: Any, a: Any, b: Any, axis: Any, keepdims: bool) -> tuple:
    """``(log|s|, sign(s))`` of ``s = sum(b * exp(a))`` over ``axis``, shifted by the
    largest finite entry (SciPy's way)."""
    a = _array(xp, a)
    if hasattr(b, "shape") and tuple(b.shape) != tuple(a.shape):
        a, b = xp.broadcast_arrays(a, b)
    if a.ndim == 0 and keepdims:  # SciPy keeps a 0-d argument's dimension as (1,)
        a = xp.reshape(a, (1,))
        b = xp.reshape(b, (1,)) if hasattr(b, "shape") else b
    shift = xp.max(a, axis=axis, keepdims=True)
    shift = xp.where(xp.isfinite(shift), shift, xp.zeros_like(shift))
    total = xp.sum(b * xp.exp(a - shift), axis=axis, keepdims=True)
    value = xp.log(xp.abs(total)) + shift
    sign = xp.sign(total)
    if not keepdims:
        axes = tuple(range(a.ndim)) if axis is None else tuple(axis)
        kept = tuple(size for position, size in enumerate(a.shape) if position not in axes)
        value, sign = xp.reshape(value, kept), xp.reshape(sign, kept)
    return value, sign


@declare("special.logsumexp")
def _logsumexp(xp: Any, primitive: Any) -> Callable:
    def logsumexp(a: Any, b: Any, axis: Any = None, keepdims: bool = False, **signed: Any) -> Any:
        return _logsumexp_parts(xp, a, b, axis, keepdims)[0]

    return logsumexp


@declare("special.logsumexp_sign")
def _logsumexp_sign(xp: Any, primitive: Any) -> Callable:
    def logsumexp_sign(
        a: Any, b: Any, axis: Any = None, keepdims: bool = False, **signed: Any
    ) -> Any:
        return _logsumexp_parts(xp, a, b, axis, keepdims)[1]

    return logsumexp_sign


# --- sorting ----------------------------------------------------------------------------
@declare("argsort")
def _argsort(xp: Any, primitive: Any) -> Callable:
    def argsort(a: Any, axis: int = -1, **ignored: Any) -> Any:
        if axis is None:
            a, axis = xp.reshape(a, (-1,)), 0
        return xp.argsort(a, axis=axis, stable=True)

    return argsort


# --- constants and identities -----------------------------------------------------------
@declare("stop_gradient")
def _identity(xp: Any, primitive: Any) -> Callable:
    return lambda x: x


# --- the determinant's guarded inverse ------------------------------------------------------
# NumPy chooses per matrix by a 1-norm condition number; the standard has no condition
# number, so the backends choose by the 2-norm one from the singular values (the two
# forms of the determinant's derivative agree wherever both are accurate).
def _well_conditioned_mask(xp: Any, s: Any) -> Any:
    largest = xp.max(s, axis=-1)
    smallest = xp.min(s, axis=-1)
    return smallest > largest * math.sqrt(float(xp.finfo(s.dtype).eps))


@declare("linalg.well_conditioned")
def _well_conditioned(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    if linalg is None:
        return None
    return lambda a: _well_conditioned_mask(xp, linalg.svdvals(a))


@declare("linalg.guarded_inverse")
def _guarded_inverse(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    if linalg is None:
        return None

    def guarded_inverse(a: Any) -> Any:
        u, s, vh = linalg.svd(a, full_matrices=False)
        well = _well_conditioned_mask(xp, s)
        safe = xp.where(well[..., None], s, xp.ones_like(s))
        inverse = (_swap(xp, vh) / safe[..., None, :]) @ _swap(xp, u)
        return xp.where(well[..., None, None], inverse, xp.zeros_like(inverse))

    return guarded_inverse


@declare("linalg.orientation")
def _orientation(xp: Any, primitive: Any) -> Any:
    linalg: Any = getattr(xp, "linalg", None)
    return (lambda q: xp.sign(linalg.det(q))) if hasattr(linalg, "det") else None


@declare("linalg.descending_magnitude")
def _descending_magnitude(xp: Any, primitive: Any) -> Callable:
    def descending(w: Any) -> Any:
        order = xp.argsort(-xp.abs(w), axis=-1, stable=True)
        n = w.shape[-1]
        numbers = xp.arange(n, device=_device(w))[:, None]
        return xp.astype(numbers == order[..., None, :], w.dtype)

    return descending
