"""Dask: the primitives' implementations where Dask differs from the standard's functions.

Dask arrays are chunked and lazy.  adfun runs on them through array-api-compat's
``array_api_compat.dask.array`` namespace like on any Array API library
(:mod:`adfun.numpy._standard`), with these Dask-specific parts, registered under keys
``("dask", name)`` of :data:`~adfun._engine.records.BACKEND_IMPLEMENTATIONS`:

* **Chunks.**  A call's Dask arrays tell the implementations how each axis length is
  chunked (:class:`DaskHooks`, through :data:`~adfun._engine.backend.CALL_HINTS`).  The
  arrays adfun creates take those chunks: a reduction's cotangent broadcast back over the
  data, the zeros an indexing cotangent is scattered into, a NumPy constant (a NumPy
  parameter with Dask data).  A gradient with respect to a chunked array has its chunks.
* **Laziness.**  Nothing computes: every implementation builds a Dask graph, and the
  rules' value reads (an ordering, a mask, a rank) refuse Dask arrays
  (:func:`~adfun._engine.trace.read_value`).
* **Elementwise functions outside the standard** (``scipy.special``'s ``expit``,
  ``gammaln``, ``xlogy``...) run block by block with their NumPy implementation
  (``dask.array``'s ``elemwise``): exact, and chunk for chunk.
* **Linear algebra** is what ``dask.array.linalg`` offers: ``qr`` and ``svd`` of
  tall-and-skinny (or short-and-fat) matrices chunked along one axis, ``cholesky``,
  ``solve``, ``inv`` and ``lstsq`` (through ``pinv`` from the tall-and-skinny SVD) of
  matrices with square chunks.  Where Dask refuses a chunking, the call raises
  :class:`NotImplementedError` naming the function and Dask.
* **Indexing** is Dask's: integers, slices, ``None``, ``...`` and one integer (or
  boolean) NumPy array; its derivative scatters the cotangent into zeros chunked like the
  indexed array, summing repeated indices.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np

from adfun._engine.backend import CALL_HINTS, LIBRARY_HOOKS, Backend, LibraryHooks
from adfun._engine.records import BACKEND_IMPLEMENTATIONS
from adfun.numpy._batching import elementwise
from adfun.numpy._standard import _key

LIBRARY = "dask"


def _is_dask(value: Any) -> bool:
    return type(value).__module__ == "dask.array.core" and hasattr(value, "chunks")


# --- chunks -------------------------------------------------------------------------------
def chunk_hints(leaves: list) -> dict:
    """Axis length -> chunks, from the chunked Dask arrays among ``leaves`` (an axis split
    into several chunks wins over one in a single chunk)."""
    hints: dict = {}
    for leaf in leaves:
        if not _is_dask(leaf):
            continue
        for size, chunks in zip(leaf.shape, leaf.chunks):
            if size > 1 and (size not in hints or len(chunks) > len(hints[size])):
                hints[size] = tuple(chunks)
    return hints


def hinted_chunks(shape: tuple, dtype: Any, known: tuple = ()) -> tuple:
    """Chunks for a new array of ``shape``: ``known`` chunks where given (not ``None``),
    else the call's chunks of that axis length, else Dask's automatic ones."""
    from dask.array.core import normalize_chunks

    hints = CALL_HINTS.get() or {}
    chosen: list = []
    for axis, size in enumerate(shape):
        given = known[axis] if axis < len(known) else None
        if given is not None:
            chosen.append(given)
        elif size in hints:
            chosen.append(hints[size])
        else:
            chosen.append("auto")
    return normalize_chunks(tuple(chosen), shape, dtype=np.dtype(dtype))


#: NumPy constants at least this large that hold one value become ``da.full`` (zeros a rule
#: made for data-sized arrays), not a copy inside the graph.
UNIFORM_CHECK = 1 << 16


class DaskHooks(LibraryHooks):
    """Dask at the boundary: chunk hints, NumPy constants chunked like the data, and
    gradients given their primals' chunks."""

    def from_numpy(self, backend: Backend, value: Any) -> Any:
        import dask.array as da

        value = np.asarray(value)
        if value.ndim == 0:
            return da.from_array(value, chunks=())
        chunks = hinted_chunks(value.shape, value.dtype)
        if value.size > 1 and 0 in value.strides:
            # A broadcast view (a rule's broadcast of a NumPy cotangent over the data):
            # broadcast its compact part lazily instead of copying it into the graph.
            compact = value[
                tuple(slice(0, 1) if stride == 0 else slice(None) for stride in value.strides)
            ]
            return da.broadcast_to(
                da.from_array(np.ascontiguousarray(compact)), value.shape, chunks=chunks
            )
        if value.size >= UNIFORM_CHECK and (value == value.flat[0]).all():
            return da.full(value.shape, value.flat[0], dtype=value.dtype, chunks=chunks)
        return da.from_array(value, chunks=chunks)

    def hints(self, leaves: list) -> dict | None:
        return chunk_hints(leaves) or None

    def conform(self, gradient: Any, primal: Any) -> Any:
        if (
            _is_dask(gradient)
            and _is_dask(primal)
            and gradient.shape == primal.shape
            and gradient.chunks != primal.chunks
        ):
            return gradient.rechunk(primal.chunks)
        return gradient


LIBRARY_HOOKS[LIBRARY] = DaskHooks()


def dask_implementation(name: str) -> Callable[[Callable], Callable]:
    """Decorator: ``factory(xp, primitive)`` is Dask's own implementation of ``name``."""

    def register(factory: Callable) -> Callable:
        BACKEND_IMPLEMENTATIONS[(LIBRARY, name)] = factory
        return factory

    return register


def refused(function: str, reason: str) -> NotImplementedError:
    """The error for a call Dask cannot compute lazily (or at all) with these chunks."""
    return NotImplementedError(
        f"adfun.numpy.{function} is not supported on dask arrays here: {reason}"
    )


# --- shapes -------------------------------------------------------------------------------
@dask_implementation("broadcast_to")
def _broadcast_to(xp: Any, primitive: Any) -> Callable:
    import dask.array as da

    def broadcast_to(a: Any, shape: tuple = ()) -> Any:
        shape = tuple(shape)
        if not _is_dask(a):
            a = da.from_array(np.asarray(a), chunks=())  # a Python number
        lead = len(shape) - a.ndim
        known = [None] * lead + [
            chunks if size == target else None
            for size, target, chunks in zip(a.shape, shape[lead:], a.chunks)
        ]
        return da.broadcast_to(a, shape, chunks=hinted_chunks(shape, a.dtype, tuple(known)))

    return broadcast_to


@dask_implementation("reshape")
def _reshape(xp: Any, primitive: Any) -> Callable:
    def reshape(a: Any, shape: tuple = ()) -> Any:
        a = xp.asarray(a) if not hasattr(a, "shape") else a
        if 0 in a.shape:  # nothing to move (Dask's reshape trips over empty axes)
            return xp.zeros(np.empty(a.shape).reshape(tuple(shape)).shape, dtype=a.dtype)
        try:
            return xp.reshape(a, tuple(shape))
        except (NotImplementedError, ValueError) as error:
            raise refused(
                "reshape",
                f"Dask reshapes an array of shape {tuple(a.shape)} with chunks "
                f"{a.chunks} to {tuple(shape)} only by merging or splitting whole axes "
                f"({str(error).strip().splitlines()[0]}). Rechunk the argument first "
                f"(e.g. x.rechunk({{1: -1}}) to keep the trailing axes in one chunk).",
            ) from None

    return reshape


# --- indexing -----------------------------------------------------------------------------
def _dask_key(key: Any, ndim: int, function: str) -> tuple:
    """NumPy's key as one Dask indexes with: NumPy boolean masks become their integer
    positions; at most one integer array (flattened later when it is multidimensional)."""
    items = key if isinstance(key, tuple) else (key,)
    converted: list = []
    for item in items:
        if isinstance(item, np.ndarray) and item.dtype == bool:
            converted.extend(np.nonzero(item))
        elif isinstance(item, (list, np.ndarray)) and not isinstance(item, bool):
            converted.append(np.asarray(item))
        elif hasattr(item, "__array_namespace__") or _is_dask(item):
            raise refused(
                function,
                "the key holds computed (Dask) indices, whose derivative needs a "
                "scatter-add Dask does not offer; index with NumPy arrays or slices",
            )
        else:
            converted.append(item)
    arrays = [item for item in converted if isinstance(item, np.ndarray)]
    if len(arrays) > 1:
        raise refused(
            function,
            "Dask indexes with one integer (or boolean) array per key; index one axis at "
            "a time (x[i][:, j]) or use slices",
        )
    return tuple(converted)


def _array_position(key: tuple, ndim: int) -> tuple[int, int]:
    """The axis of the indexed array that the key's integer array selects along, and the
    position of its entries in the result."""
    axis = 0
    out = 0
    explicit = sum(1 for item in key if item is not None and item is not Ellipsis)
    for item in key:
        if isinstance(item, np.ndarray):
            return axis, out
        if item is Ellipsis:
            skipped = ndim - explicit
            axis += skipped
            out += skipped
        elif item is None:
            out += 1
        elif isinstance(item, slice):
            axis += 1
            out += 1
        else:  # an integer removes its axis
            axis += 1
    raise AssertionError("no array in the key")


def _without_new_axes(key: tuple, g: Any, ndim: int) -> tuple:
    """The key without its ``None`` entries, and ``g`` (shaped like ``x[key]``) without
    the length-1 axes they added: Dask assigns through keys without ``None``."""
    if not any(item is None for item in key):
        return key, g
    explicit = sum(1 for item in key if item is not None and item is not Ellipsis)
    dropped = []
    out = 0
    for item in key:
        if item is None:
            dropped.append(out)
            out += 1
        elif item is Ellipsis:
            out += ndim - explicit
        elif isinstance(item, np.ndarray):
            out += item.ndim
        elif isinstance(item, slice):
            out += 1
    shape = tuple(size for axis, size in enumerate(g.shape) if axis not in dropped)
    return tuple(item for item in key if item is not None), g.reshape(shape)


@dask_implementation("getitem")
def _getitem(xp: Any, primitive: Any) -> Callable:
    def getitem(a: Any, *parts: Any, key: Any = None, template: Any = None) -> Any:
        key = _dask_key(_key(template, parts, key), a.ndim, "getitem")
        arrays = [item for item in key if isinstance(item, np.ndarray)]
        if arrays and arrays[0].ndim != 1:  # Dask takes 1-D index arrays: flatten, reshape
            index = arrays[0]
            flat_key = tuple(item.reshape(-1) if item is index else item for item in key)
            flat = a[flat_key]
            _, out = _array_position(key, a.ndim)
            shape = flat.shape[:out] + index.shape + flat.shape[out + 1 :]
            return flat.reshape(shape)
        return a[key]

    getitem.raw_arguments = True  # type: ignore[attr-defined]
    return getitem


@dask_implementation("untake")
def _untake(xp: Any, primitive: Any) -> Callable:
    import dask.array as da

    def untake(g: Any, *parts: Any, key: Any = None, template: Any = None, shape: Any = ()) -> Any:
        shape = tuple(shape)
        key = _dask_key(_key(template, parts, key), len(shape), "getitem")
        key, g = _without_new_axes(key, g, len(shape))
        chunks = hinted_chunks(shape, g.dtype)
        arrays = [item for item in key if isinstance(item, np.ndarray)]
        if 0 in g.shape:  # an empty selection: no cotangent reaches x
            return da.zeros(shape, dtype=g.dtype, chunks=chunks)
        if not arrays:
            result = da.zeros(shape, dtype=g.dtype, chunks=chunks)
            result[key] = g
            return result
        index = arrays[0]
        axis, out = _array_position(key, len(shape))
        size = shape[axis]
        flat_index = np.remainder(index.reshape(-1).astype(np.int64), size) if size else index
        g = g.reshape(g.shape[:out] + (flat_index.size,) + g.shape[out + index.ndim :])
        # Repeated indices are summed: split the entries into rounds whose indices are
        # distinct (the r-th occurrence of each index in round r), assign each round into
        # zeros, and add the rounds.
        order = np.argsort(flat_index, kind="stable")
        ordered = flat_index[order]
        starts = np.r_[True, ordered[1:] != ordered[:-1]] if ordered.size else ordered
        run_start = np.maximum.accumulate(np.where(starts, np.arange(ordered.size), 0))
        occurrence = np.empty(ordered.size, dtype=np.int64)
        occurrence[order] = np.arange(ordered.size) - run_start
        total = None
        for round_number in range(int(occurrence.max()) + 1 if occurrence.size else 1):
            members = np.flatnonzero(occurrence == round_number)
            result = da.zeros(shape, dtype=g.dtype, chunks=chunks)
            round_key = tuple(flat_index[members] if item is index else item for item in key)
            g_key = (slice(None),) * out + (members,)
            result[round_key] = g[g_key]
            total = result if total is None else total + result
        return total

    untake.raw_arguments = True  # type: ignore[attr-defined]
    return untake


# --- linear algebra -----------------------------------------------------------------------
def _linalg(function: str, compute: Callable) -> Callable:
    """``compute`` with Dask's refusals of a chunking (``ValueError``) as
    ``NotImplementedError`` naming adfun's function and Dask."""

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return compute(*args, **kwargs)
        except (ValueError, NotImplementedError) as error:
            shapes = ", ".join(f"{tuple(a.shape)} chunked {a.chunks}" for a in args[:2])
            raise refused(
                f"linalg.{function}",
                f"dask.array.linalg cannot compute it for {shapes}: {error}. Dask's qr "
                f"and svd take tall-and-skinny matrices chunked along the rows only; "
                f"cholesky, solve and inv take square matrices with square chunks.",
            ) from None

    return run


@dask_implementation("linalg.cholesky")
def _cholesky(xp: Any, primitive: Any) -> Callable:
    import dask.array as da

    # array-api-compat's wrapper returns Dask's default, the upper factor: ask for L.
    return _linalg("cholesky", lambda a: da.linalg.cholesky(a, lower=True))


@dask_implementation("linalg.qr")
def _qr(xp: Any, primitive: Any) -> Callable:
    import dask.array as da

    def qr(a: Any) -> Any:
        if a.ndim != 2:
            raise refused("linalg.qr", "dask.array.linalg.qr takes 2-D arrays only")
        q, r = da.linalg.qr(a)
        return da.concatenate([q.reshape((-1,)), r.reshape((-1,))])

    return _linalg("qr", qr)


@dask_implementation("linalg.svd")
def _svd(xp: Any, primitive: Any) -> Callable:
    import dask.array as da

    def svd(a: Any) -> Any:
        if a.ndim != 2:
            raise refused("linalg.svd", "dask.array.linalg.svd takes 2-D arrays only")
        u, s, vh = da.linalg.svd(a)
        return da.concatenate([u.reshape((-1,)), s, vh.reshape((-1,))])

    return _linalg("svd", svd)


@dask_implementation("linalg.svdvals")
def _svdvals(xp: Any, primitive: Any) -> Callable:
    import dask.array as da

    def svdvals(a: Any) -> Any:
        if a.ndim != 2:
            raise refused("linalg.svdvals", "dask.array.linalg.svd takes 2-D arrays only")
        return da.linalg.svd(a)[1]

    return _linalg("svdvals", svdvals)


@dask_implementation("linalg.pinv")
def _pinv(xp: Any, primitive: Any) -> Callable:
    import dask.array as da

    def pinv(a: Any, rcond: float = 1e-15) -> Any:
        if a.ndim != 2:
            raise refused("linalg.pinv", "it takes 2-D Dask arrays only")
        u, s, vh = da.linalg.svd(a)
        cutoff = rcond * da.max(s)
        inverse = da.where(s > cutoff, 1.0 / da.where(s > cutoff, s, 1.0), 0.0)
        return (vh.T * inverse[None, :]) @ u.T

    return _linalg("pinv", pinv)


@dask_implementation("linalg.solve")
def _solve(xp: Any, primitive: Any) -> Callable:
    import dask.array as da

    def solve(a: Any, b: Any) -> Any:
        if a.ndim != 2:
            raise refused("linalg.solve", "dask.array.linalg.solve takes one 2-D matrix")
        if b.ndim == 1:
            return da.linalg.solve(a, b[:, None])[:, 0]
        return da.linalg.solve(a, b)

    return _linalg("solve", solve)


@dask_implementation("linalg.inv")
def _inv(xp: Any, primitive: Any) -> Callable:
    import dask.array as da

    def inv(a: Any) -> Any:
        if a.ndim != 2:
            raise refused("linalg.inv", "dask.array.linalg.inv takes one 2-D matrix")
        return da.linalg.inv(a)

    return _linalg("inv", inv)


# --- everything else: elementwise functions block by block ----------------------------------
@dask_implementation("*")
def _blockwise(xp: Any, primitive: Any) -> Any:
    """An elementwise primitive's NumPy implementation applied chunk by chunk."""
    if primitive.batch is not elementwise:
        return None
    from dask.array.core import elemwise

    impl = primitive.impl

    def blockwise(*args: Any, **params: Any) -> Any:
        function = functools.partial(impl, **params) if params else impl
        with np.errstate(all="ignore"):
            sample = function(*(np.ones((), dtype=getattr(a, "dtype", type(a))) for a in args))
        return elemwise(function, *args, dtype=np.result_type(sample))

    return blockwise


def chunk_count(x: Any) -> int:
    """The number of chunks of a Dask array (1 for anything else)."""
    return math.prod(len(c) for c in x.chunks) if _is_dask(x) else 1


# --- FFTs: along one whole axis ---------------------------------------------------------------
def _fft(name: str) -> Callable:
    def factory(xp: Any, primitive: Any) -> Any:
        import dask.array as da

        function = getattr(da.fft, name)

        def transform(a: Any, n: int = 1, axis: int = -1, norm: str = "backward") -> Any:
            # Dask transforms an axis held in one chunk: rechunk that axis only.
            if len(a.chunks[axis]) > 1:
                a = a.rechunk({axis % a.ndim: -1})
            if name != "rfft" and a.dtype.kind != "c":
                a = a.astype(np.complex64 if a.dtype == np.float32 else np.complex128)
            return function(a, n=n, axis=axis, norm=norm)

        return transform

    return factory


for _name in ("fft", "ifft", "rfft", "irfft"):
    BACKEND_IMPLEMENTATIONS[(LIBRARY, f"fft.{_name}")] = _fft(_name)
