"""MXNet's sparse storage types: ``csr`` and ``row_sparse`` arrays (``adfun.nd.sparse``).

A :class:`CSRNDArray` (compressed sparse rows, 2-D) and a :class:`RowSparseNDArray` (a
subset of rows of any array) have MXNet's interface: ``stype``, ``data``, ``indices``,
``indptr``, ``tostype``, ``nd.sparse.csr_matrix`` / ``row_sparse_array`` / ``zeros`` /
``array`` / ``dot``, and row-sparse gradient buffers (``attach_grad(stype=...)``).

Storage: a ``csr`` array keeps its values in a ``scipy.sparse.csr_matrix`` (SciPy is
imported the first time a ``csr`` array is made, so it stays an optional dependency; where
it is missing, or for a dtype SciPy's sparse matrices lack such as float16, the values
are held densely with the same interface).  A ``row_sparse`` array holds its values
densely.  Operations without a sparse implementation here compute on a dense copy, made
for the operation and dropped after it, as MXNet's dense fallback does, and differentiate
the same way; while recorded inside ``autograd.record()`` the graph keeps the dense values
it computed with.  Results follow MXNet's storage rules where this module implements them
(``csr + csr`` is ``csr``, ``dot(csr.T, dense)`` is ``row_sparse``, a sparse array times
a scalar keeps its type); every other operation returns a dense array.

Examples
--------
>>> from adfun import nd
>>> a = nd.sparse.csr_matrix(([1.0, 2.0], [1, 0], [0, 1, 2]), shape=(2, 2))
>>> a.stype, a.indptr.asnumpy().tolist()
('csr', [0, 1, 2])
>>> a.asnumpy()
array([[0., 1.],
       [2., 0.]], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

import adfun.numpy as anp
from adfun._engine.trace import Tracer
from adfun._imperative.context import as_context
from adfun._imperative.recording import check_real, recording
from adfun.nd._creation import _shape
from adfun.nd._ndarray import _VALUES as _STORAGE  # a csr array's SciPy matrix is here
from adfun.nd._ndarray import OPS, NDArray, _is_recorded, _owned, apply, value_of

__all__ = [
    "BaseSparseNDArray",
    "CSRNDArray",
    "RowSparseNDArray",
    "add",
    "array",
    "csr_matrix",
    "divide",
    "dot",
    "empty",
    "multiply",
    "row_sparse_array",
    "subtract",
    "zeros",
]

STYPES = ("default", "csr", "row_sparse")


class BaseSparseNDArray(NDArray):
    """The common base of :class:`CSRNDArray` and :class:`RowSparseNDArray`."""

    __slots__ = ()

    def __repr__(self) -> str:
        # MXNet prints no values for a sparse array
        shape = "x".join(str(side) for side in self.shape)
        return f"\n<{type(self).__name__} {shape} @{self.context}>"

    __str__ = __repr__

    def reshape(self, *shape: Any, **kwargs: Any) -> NDArray:
        """Not supported for sparse arrays (as in MXNet): ``tostype('default')`` first."""
        raise NotImplementedError(
            f"{type(self).__name__}.reshape: a sparse array cannot be reshaped (as in "
            f"MXNet); convert it with x.tostype('default') first"
        )

    def check_format(self, full_check: bool = True) -> None:
        """Check the storage format, as MXNet's: a csr array held by SciPy has SciPy check
        its compressed arrays (raising ``ValueError`` if they are inconsistent); values
        held densely are always consistent."""
        storage = self._storage() if isinstance(self, CSRNDArray) else None
        if storage is not None:
            storage.check_format(full_check)

    def __add__(self, other: Any) -> Any:
        return add(self, other)

    def __sub__(self, other: Any) -> Any:
        return subtract(self, other)

    def __mul__(self, other: Any) -> Any:
        return multiply(self, other)

    def __truediv__(self, other: Any) -> Any:
        return divide(self, other)


class CSRNDArray(BaseSparseNDArray):
    """A 2-D array in compressed sparse row storage: ``data``, ``indices`` (the column of
    each stored value) and ``indptr`` (where each row's values start).

    Create one with :func:`csr_matrix`, :func:`zeros` or ``x.tostype('csr')``.
    """

    __slots__ = ()
    stype = "csr"

    # the values: a SciPy CSR matrix in the slot, dense NumPy values when read
    @property
    def _value(self) -> np.ndarray:
        stored = _STORAGE.__get__(self)
        return stored if type(stored) is np.ndarray else stored.toarray()

    @_value.setter
    def _value(self, value: Any) -> None:
        _STORAGE.__set__(self, _compressed(np.asarray(value)))

    def _storage(self) -> Any:
        """The SciPy matrix holding the values (None where they are held densely)."""
        stored = _STORAGE.__get__(self)
        return None if type(stored) is np.ndarray else stored

    # NDArray's attributes, read from the SciPy matrix without a dense copy (undocumented
    # here: NDArray's documentation describes them)
    @property
    def shape(self) -> tuple:
        return tuple(_STORAGE.__get__(self).shape)

    @property
    def size(self) -> int:
        rows, columns = self.shape
        return rows * columns

    @property
    def ndim(self) -> int:
        return 2

    @property
    def context(self) -> Any:
        return as_context("CSRNDArray.context", None)

    ctx = context

    def __len__(self) -> int:
        return self.shape[0]

    def _write_all(self, value: np.ndarray) -> None:
        dense = np.empty(self.shape, _STORAGE.__get__(self).dtype)
        dense[...] = value
        self._value = dense
        self._tracer = None
        self._base = self

    def __setitem__(self, key: Any, value: Any) -> None:
        self._check_writable("CSRNDArray.__setitem__ (x[...] = ...)", value)
        scratch = _owned(self._value)
        NDArray.__setitem__(scratch, key, value)
        self._write_all(scratch._value)

    def detach(self) -> NDArray:
        """The same values, cut from the recorded graph (a copy of the storage)."""
        stored = _STORAGE.__get__(self)
        return _csr_array(stored.copy())

    def _data_and_indices(self) -> tuple:
        storage = self._storage()
        if storage is not None:
            return storage.data, storage.indices, storage.indptr
        value = self._value
        rows, columns = np.nonzero(value)
        counts = np.count_nonzero(value, axis=1)
        return value[rows, columns], columns, np.concatenate([[0], np.cumsum(counts)])

    @property
    def data(self) -> NDArray:
        """The stored (non-zero) values, row by row."""
        return _owned(np.array(self._data_and_indices()[0], order="C"))

    @property
    def indices(self) -> NDArray:
        """The column index of each stored value (int64)."""
        return _owned(self._data_and_indices()[1].astype(np.int64))

    @property
    def indptr(self) -> NDArray:
        """Row ``i``'s values are ``data[indptr[i]:indptr[i + 1]]`` (int64)."""
        return _owned(self._data_and_indices()[2].astype(np.int64))

    def __getitem__(self, key: Any) -> NDArray:
        """Rows ``x[i]`` or ``x[start:stop]`` as a new CSR array (the only keys MXNet
        allows)."""
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            key = slice(int(key), int(key) + 1 if key != -1 else None)
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise ValueError(
                f"CSRNDArray.__getitem__: only rows x[i] or x[start:stop] can be taken from "
                f"a CSR array (as in MXNet), got {key!r}; convert it with "
                f"x.tostype('default') for other keys"
            )
        storage = self._storage()
        if storage is not None and not (recording.get() and _is_recorded(self)):
            return _csr_array(storage[key])  # no dense copy: SciPy slices the rows
        return _cast(apply(lambda value: value[key], self), CSRNDArray)

    def asscipy(self) -> Any:
        """A ``scipy.sparse.csr_matrix`` with these values (needs SciPy installed)."""
        storage = self._storage()
        if storage is not None:
            return storage.copy()
        import scipy.sparse  # noqa: PLC0415 - optional, as for the storage

        return scipy.sparse.csr_matrix(self._value)


class RowSparseNDArray(BaseSparseNDArray):
    """An array of which only some rows (slices along axis 0) are stored: ``data`` (those
    rows) and ``indices`` (their row numbers).  Gradients of embeddings and of
    ``dot(csr.T, x)`` are row-sparse.

    Create one with :func:`row_sparse_array`, :func:`zeros` or ``x.tostype('row_sparse')``.
    """

    __slots__ = ()
    stype = "row_sparse"

    def _stored_rows(self) -> np.ndarray:
        value = self._value
        flat = value.reshape(value.shape[0], -1) if value.ndim else value.reshape(1, 1)
        return np.flatnonzero(np.any(flat != 0, axis=1))

    @property
    def data(self) -> NDArray:
        """The stored rows, shape ``(len(indices),) + shape[1:]``."""
        return _owned(np.array(self._value[self._stored_rows()], order="C"))

    @property
    def indices(self) -> NDArray:
        """The row numbers of the stored rows, increasing (int64)."""
        return _owned(self._stored_rows().astype(np.int64))

    def __getitem__(self, key: Any) -> NDArray:
        """Only ``x[:]`` (the array itself), as in MXNet."""
        if not (isinstance(key, slice) and key == slice(None)):
            raise ValueError(
                f"RowSparseNDArray.__getitem__: only x[:] is supported for a row_sparse "
                f"array (as in MXNet), got {key!r}; use x.tostype('default')[key]"
            )
        return self

    def retain(self, indices: Any) -> RowSparseNDArray:
        """A row-sparse array with only the rows ``indices`` of this one kept."""
        rows = np.asarray(value_of(indices)).astype(np.int64).reshape(-1)
        keep = np.zeros(self.shape[0], bool)
        keep[rows] = True
        mask = keep.reshape((-1,) + (1,) * (self.ndim - 1))
        return _cast(apply(lambda value: anp.where(mask, value, 0.0), self), RowSparseNDArray)


_CLASSES = {"default": NDArray, "csr": CSRNDArray, "row_sparse": RowSparseNDArray}


def _scipy_sparse() -> Any:
    """``scipy.sparse``, imported on first use, or None where SciPy is not installed."""
    try:
        import scipy.sparse  # noqa: PLC0415 - optional: imported when a csr array is made
    except ImportError:
        return None
    return scipy.sparse


def _compressed(dense: np.ndarray) -> Any:
    """``dense`` (2-D) as a canonical SciPy CSR matrix (sorted column indices, no explicit
    zeros), or ``dense`` itself where SciPy or its support for the dtype is missing."""
    sparse = _scipy_sparse()
    if sparse is None or dense.ndim != 2:
        return np.array(dense, order="C")
    try:
        return sparse.csr_matrix(dense)
    except (TypeError, ValueError):  # a dtype scipy.sparse lacks (float16)
        return np.array(dense, order="C")


def _csr_array(storage: Any) -> CSRNDArray:
    """A :class:`CSRNDArray` that owns ``storage`` (a SciPy CSR matrix or dense values)."""
    array = object.__new__(CSRNDArray)
    _STORAGE.__set__(array, storage)
    array._tracer = None
    array._slot = None
    array._base = array
    return array


def _csr_from_parts(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple, dtype: np.dtype
) -> CSRNDArray:
    """A CSR array from its compressed definition, built without a dense copy where SciPy
    holds it (repeated columns of a row are summed, stored zeros dropped)."""
    sparse = _scipy_sparse()
    if sparse is not None:
        try:
            storage = sparse.csr_matrix(
                (data.astype(dtype), indices.astype(np.int64), indptr.astype(np.int64)),
                shape=shape,
            )
        except (TypeError, ValueError):
            storage = None
        if storage is not None:
            storage.sum_duplicates()
            storage.eliminate_zeros()
            return _csr_array(storage)
    dense = np.zeros(shape, dtype)
    row_of = np.repeat(np.arange(shape[0]), np.diff(indptr))
    np.add.at(dense, (row_of, indices.astype(np.int64)), data)
    return _csr_array(_compressed(dense))


def _csr_zeros(shape: tuple, dtype: np.dtype) -> CSRNDArray:
    """An all-zero CSR array (nothing stored)."""
    empty = np.zeros(0, np.int64)
    return _csr_from_parts(
        np.zeros(0, dtype), empty, np.zeros(shape[0] + 1, np.int64), shape, dtype
    )


def _host_only(function: str, ctx: Any) -> None:
    """Sparse arrays live on the CPU: a GPU context is refused (not silently ignored)."""
    if as_context(function, ctx).device_type != "cpu":
        raise NotImplementedError(
            f"{function}: sparse storage is kept in host memory only; ctx={ctx!r} is not "
            f"supported. Make the array on adfun.cpu() and convert it with tostype('default') "
            f"before moving it to a GPU"
        )


def _check_stype(function: str, stype: Any, shape: tuple) -> type:
    if stype not in STYPES:
        raise ValueError(
            f"{function}: stype must be 'default', 'csr' or 'row_sparse', got {stype!r}"
        )
    if stype == "csr" and len(shape) != 2:
        raise ValueError(
            f"{function}: a csr array must be 2-D, but the shape is {shape}; use "
            f"'row_sparse' or 'default' storage"
        )
    if stype == "row_sparse" and len(shape) == 0:
        raise ValueError(f"{function}: a row_sparse array needs at least one dimension")
    return _CLASSES[stype]


def _cast(array: NDArray, cls: type) -> Any:
    """``array`` relabelled with the storage class ``cls``, its values moved into that
    class's storage (a SciPy matrix for ``csr``)."""
    if type(array) is cls:
        return array
    value = array._value
    array.__class__ = cls
    array._value = value
    return array


def _tostype(data: NDArray, stype: str) -> NDArray:
    cls = _check_stype(f"{type(data).__name__}.tostype", stype, data.shape)
    if recording.get() and _is_recorded(data):
        shape = data.shape
        return _cast(apply(lambda value: anp.reshape(value, shape), data), cls)
    if isinstance(data, CSRNDArray):
        copy = _csr_array(_STORAGE.__get__(data).copy())
        return copy if cls is CSRNDArray else _cast(copy, cls)
    return _cast(_owned(np.array(data._value, order="C")), cls)


def _zeros_of_stype(function: str, data: NDArray, stype: Any) -> NDArray:
    stype = data.stype if stype is None else stype
    cls = _check_stype(function, stype, data.shape)
    if cls is CSRNDArray:
        return _csr_zeros(data.shape, np.dtype(data.dtype))
    return _cast(_owned(np.zeros(data.shape, data.dtype)), cls)


def _dtype(function: str, source: Any, dtype: Any) -> np.dtype:
    """``dtype``, else the source's (an NDArray or NumPy array), else float32; never
    complex (MXNet 1.x has none)."""
    if dtype is not None:
        result = np.dtype(dtype)
        check_real(function, "dtype", result)
    elif isinstance(source, (NDArray, np.ndarray)):
        result = np.dtype(source.dtype)
        check_real(function, "the data", result)
    else:
        result = np.dtype(np.float32)
    return result


def _dense_of(function: str, source: Any, dtype: Any) -> np.ndarray:
    """The values of an array-like, an NDArray or a SciPy-like sparse matrix (duck-typed
    by its ``toarray()``) as a NumPy array."""
    if isinstance(source, NDArray):
        return np.array(source._value, dtype=_dtype(function, source, dtype), order="C")
    if hasattr(source, "toarray") and hasattr(source, "nnz"):
        dense = np.asarray(source.toarray())
        return np.array(dense, dtype=_dtype(function, dense, dtype), order="C")
    dtype = _dtype(function, source, dtype)
    try:
        return np.array(source, dtype=dtype, order="C")
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{function}: cannot make an array of {type(source).__name__}: {error}"
        ) from error


def _is_shape(arg: Any) -> bool:
    return isinstance(arg, tuple) and all(
        isinstance(side, (int, np.integer)) and not isinstance(side, bool) for side in arg
    )


def csr_matrix(arg1: Any, shape: Any = None, ctx: Any = None, dtype: Any = None) -> CSRNDArray:
    """A :class:`CSRNDArray`, as ``mxnet.nd.sparse.csr_matrix``.

    Parameters
    ----------
    arg1 : tuple or array_like
        ``(data, indices, indptr)`` (MXNet's and SciPy's CSR definition),
        ``(data, (row, col))`` (coordinates; repeated coordinates are summed), a shape
        ``(M, N)`` (all zeros), a dense array-like or NDArray, or a SciPy sparse matrix.
    shape : tuple of int, optional
        Needed with the compressed definition when it cannot be inferred.
    ctx : Context, optional
        Only ``cpu(0)``: sparse storage lives in host memory.
    dtype : dtype, optional
        float32 by default (the dtype of ``data`` when it is a NumPy array or NDArray).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.sparse.csr_matrix(([5.0], ([1], [2])), shape=(2, 3)).asnumpy()
    array([[0., 0., 0.],
           [0., 0., 5.]], dtype=float32)
    """
    function = "adfun.nd.sparse.csr_matrix"
    _host_only(function, ctx)
    if _is_shape(arg1) and len(arg1) == 2:
        return _csr_zeros(_shape("sparse.csr_matrix", arg1), _dtype(function, None, dtype))
    if isinstance(arg1, tuple) and len(arg1) == 3:
        data, indices, indptr = (np.asarray(value_of(part)) for part in arg1)
        rows = len(indptr) - 1
        if rows < 0 or indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] != len(data):
            raise ValueError(
                f"{function}: indptr must start at 0, never decrease and end at len(data) "
                f"= {len(data)}, got {indptr.tolist()}"
            )
        if len(indices) != len(data):
            raise ValueError(
                f"{function}: indices and data must have the same length, got "
                f"{len(indices)} and {len(data)}"
            )
        columns = int(indices.max()) + 1 if len(indices) else 0
        shape = (rows, columns) if shape is None else _shape("sparse.csr_matrix", shape)
        if shape[0] != rows or (len(indices) and indices.max() >= shape[1]):
            raise ValueError(
                f"{function}: the definition (indptr for {rows} rows, largest column "
                f"{columns - 1}) does not fit the shape {shape}"
            )
        return _csr_from_parts(data, indices, indptr, shape, _dtype(function, arg1[0], dtype))
    if isinstance(arg1, tuple) and len(arg1) == 2 and isinstance(arg1[1], tuple):
        data = np.asarray(value_of(arg1[0]))
        row, col = (np.asarray(value_of(part)).astype(np.int64) for part in arg1[1])
        if shape is None:
            shape = (int(row.max()) + 1 if row.size else 0, int(col.max()) + 1 if col.size else 0)
        shape = _shape("sparse.csr_matrix", shape)
        _check_stype(function, "csr", shape)
        if len(row) != len(data) or len(col) != len(data):
            raise ValueError(
                f"{function}: (data, (row, col)) needs one row and one column index per "
                f"value, got {len(data)} values, {len(row)} rows and {len(col)} columns"
            )
        if len(data) and (
            row.min() < 0 or col.min() < 0 or row.max() >= shape[0] or col.max() >= shape[1]
        ):
            raise ValueError(
                f"{function}: the coordinates (rows up to {row.max()}, columns up to "
                f"{col.max()}) do not fit the shape {shape}"
            )
        order = np.lexsort((col, row))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=shape[0]))])
        dtype = _dtype(function, arg1[0], dtype)
        return _csr_from_parts(data[order], col[order], indptr, shape, dtype)
    if hasattr(arg1, "tocsr") and hasattr(arg1, "nnz") and _scipy_sparse() is not None:
        source = arg1.tocsr()
        parts = (np.asarray(source.data), source.indices, source.indptr)
        shape_of = tuple(source.shape)
        if shape is not None and tuple(shape) != shape_of:
            raise ValueError(f"{function}: shape {shape} differs from the data's {shape_of}")
        return _csr_from_parts(*parts, shape_of, _dtype(function, parts[0], dtype))
    else:
        dense = _dense_of(function, arg1, dtype)
        if shape is not None and tuple(shape) != dense.shape:
            raise ValueError(f"{function}: shape {shape} differs from the data's {dense.shape}")
    _check_stype(function, "csr", dense.shape)
    return _csr_array(_compressed(dense))


def row_sparse_array(
    arg1: Any, shape: Any = None, ctx: Any = None, dtype: Any = None
) -> RowSparseNDArray:
    """A :class:`RowSparseNDArray`, as ``mxnet.nd.sparse.row_sparse_array``.

    Parameters
    ----------
    arg1 : tuple or array_like
        ``(data, indices)``: the stored rows and their row numbers (``shape`` gives the
        full shape; by default ``(max(indices) + 1,) + data.shape[1:]``), a shape
        (all zeros), a dense array-like or NDArray.
    shape : tuple of int, optional
    ctx : Context, optional
        Only ``cpu(0)``: sparse storage lives in host memory.
    dtype : dtype, optional
        float32 by default (the dtype of ``data`` when it is a NumPy array or NDArray).

    Examples
    --------
    >>> from adfun import nd
    >>> a = nd.sparse.row_sparse_array(([[1.0, 2.0]], [1]), shape=(3, 2))
    >>> a.indices.asnumpy().tolist(), a.asnumpy().tolist()
    ([1], [[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]])
    """
    function = "adfun.nd.sparse.row_sparse_array"
    _host_only(function, ctx)
    if _is_shape(arg1):
        dense = np.zeros(_shape("sparse.row_sparse_array", arg1), _dtype(function, None, dtype))
    elif isinstance(arg1, tuple) and len(arg1) == 2:
        data = np.asarray(value_of(arg1[0]))
        indices = np.asarray(value_of(arg1[1])).astype(np.int64).reshape(-1)
        if data.ndim == 0 or data.shape[0] != len(indices):
            raise ValueError(
                f"{function}: data must have one row per index: data has shape "
                f"{data.shape}, indices {len(indices)} entries"
            )
        if shape is None:
            shape = (int(indices.max()) + 1 if len(indices) else 0,) + data.shape[1:]
        shape = _shape("sparse.row_sparse_array", shape)
        if tuple(shape[1:]) != data.shape[1:] or (len(indices) and indices.max() >= shape[0]):
            raise ValueError(
                f"{function}: rows of shape {data.shape[1:]} at indices up to "
                f"{indices.max() if len(indices) else None} do not fit the shape {shape}"
            )
        dense = np.zeros(shape, _dtype(function, arg1[0], dtype))
        dense[indices] = data
    else:
        dense = _dense_of(function, arg1, dtype)
        if shape is not None and tuple(shape) != dense.shape:
            raise ValueError(f"{function}: shape {shape} differs from the data's {dense.shape}")
    _check_stype(function, "row_sparse", dense.shape)
    return _cast(_owned(dense), RowSparseNDArray)


def zeros(stype: str, shape: Any, ctx: Any = None, dtype: Any = None, **kwargs: Any) -> NDArray:
    """An all-zero array of storage ``stype`` (``'csr'``, ``'row_sparse'`` or ``'default'``).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.sparse.zeros('row_sparse', (4, 2)).indices.shape
    (0,)
    """
    _host_only("adfun.nd.sparse.zeros", ctx)
    shape = _shape("sparse.zeros", shape)
    cls = _check_stype("adfun.nd.sparse.zeros", stype, shape)
    if cls is CSRNDArray:
        return _csr_zeros(shape, _dtype("adfun.nd.sparse.zeros", None, dtype))
    return _cast(_owned(np.zeros(shape, _dtype("adfun.nd.sparse.zeros", None, dtype))), cls)


def empty(stype: str, shape: Any, ctx: Any = None, dtype: Any = None) -> NDArray:
    """An array of storage ``stype`` with nothing stored (all zeros), as MXNet's.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.sparse.empty('csr', (2, 2)).stype
    'csr'
    """
    return zeros(stype, shape, ctx, dtype)


def array(source_array: Any, ctx: Any = None, dtype: Any = None) -> NDArray:
    """A sparse array with the values and storage type of ``source_array`` (a sparse
    NDArray, or a SciPy CSR matrix), as ``mxnet.nd.sparse.array``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.sparse.array(nd.ones((2, 2)).tostype('row_sparse')).stype
    'row_sparse'
    """
    function = "adfun.nd.sparse.array"
    _host_only(function, ctx)
    if isinstance(source_array, CSRNDArray) and dtype in (None, source_array.dtype):
        return _csr_array(_STORAGE.__get__(source_array).copy())
    if isinstance(source_array, BaseSparseNDArray):
        dtype = _dtype(function, source_array, dtype)
        dense = np.array(source_array._value, dtype=dtype, order="C")
        return _cast(_owned(dense), type(source_array))
    if hasattr(source_array, "toarray") and hasattr(source_array, "nnz"):
        return csr_matrix(source_array, ctx=ctx, dtype=dtype)
    raise TypeError(
        f"{function}: source_array must be a sparse NDArray or a SciPy sparse matrix, got "
        f"{type(source_array).__name__}; use nd.array for dense data"
    )


def dot(
    lhs: Any,
    rhs: Any,
    transpose_a: bool = False,
    transpose_b: bool = False,
    forward_stype: Any = None,
) -> NDArray:
    """``nd.dot`` with MXNet's storage rules for sparse operands.

    ``dot(csr, dense)`` is dense; ``dot(csr.T, dense)`` (``transpose_a=True``) is
    row-sparse; a ``forward_stype`` overrides the result's storage.  The gradient of a
    dense or row-sparse ``rhs`` flows as for ``nd.dot`` (store it row-sparse with
    ``rhs.attach_grad(stype='row_sparse')``).

    Examples
    --------
    >>> from adfun import nd
    >>> a = nd.array([[0, 1], [0, 0]]).tostype('csr')
    >>> nd.sparse.dot(a, nd.ones((2, 3)), transpose_a=True).stype
    'row_sparse'
    """
    result = OPS["dot"](lhs, rhs, transpose_a, transpose_b)
    stype = forward_stype
    if stype is None and isinstance(lhs, CSRNDArray) and transpose_a:
        stype = "row_sparse"
    if stype is None or stype == "default":
        return result
    return _cast(result, _check_stype("adfun.nd.sparse.dot", stype, result.shape))


def _same_sparse(lhs: Any, rhs: Any) -> type | None:
    kind = type(lhs)
    return kind if issubclass(kind, BaseSparseNDArray) and type(rhs) is kind else None


def _combine(function: str, lhs: Any, rhs: Any, keep: type | None) -> NDArray:
    result = getattr(NDArray, function)(lhs, rhs) if isinstance(lhs, NDArray) else NotImplemented
    if result is NotImplemented:
        result = getattr(NDArray, function.replace("__", "__r", 1))(rhs, lhs)
    return result if keep is None else _cast(result, keep)


def add(lhs: Any, rhs: Any) -> NDArray:
    """``lhs + rhs``; the sum of two arrays of the same sparse storage keeps it.

    Examples
    --------
    >>> from adfun import nd
    >>> a = nd.ones((2, 2)).tostype('csr')
    >>> nd.sparse.add(a, a).stype
    'csr'
    """
    return _combine("__add__", lhs, rhs, _same_sparse(lhs, rhs))


def subtract(lhs: Any, rhs: Any) -> NDArray:
    """``lhs - rhs``; the difference of two arrays of the same sparse storage keeps it.

    Examples
    --------
    >>> from adfun import nd
    >>> a = nd.ones((2, 2)).tostype('row_sparse')
    >>> nd.sparse.subtract(a, a).stype
    'row_sparse'
    """
    return _combine("__sub__", lhs, rhs, _same_sparse(lhs, rhs))


def _scaled(lhs: Any, rhs: Any) -> type | None:
    """The storage a product or quotient keeps: a sparse array with a scalar, or two
    arrays of the same sparse storage."""
    if isinstance(rhs, (int, float, np.generic)) and isinstance(lhs, BaseSparseNDArray):
        return type(lhs)
    return _same_sparse(lhs, rhs)


def multiply(lhs: Any, rhs: Any) -> NDArray:
    """``lhs * rhs``; a sparse array times a scalar (or one of its own storage) keeps it.

    Examples
    --------
    >>> from adfun import nd
    >>> (nd.ones((2, 2)).tostype('csr') * 3).stype
    'csr'
    """
    return _combine("__mul__", lhs, rhs, _scaled(lhs, rhs))


def divide(lhs: Any, rhs: Any) -> NDArray:
    """``lhs / rhs``; a sparse array divided by a scalar keeps its storage.

    Examples
    --------
    >>> from adfun import nd
    >>> (nd.ones((2, 2)).tostype('row_sparse') / 2).stype
    'row_sparse'
    """
    keep = _scaled(lhs, rhs)
    if keep is not None and not isinstance(rhs, (int, float, np.generic)):
        keep = None  # 0 / 0 fills the unstored entries: the quotient is dense
    return _combine("__truediv__", lhs, rhs, keep)


OPS["_tostype"] = _tostype
OPS["_zeros_of_stype"] = _zeros_of_stype


def _csr_dot(lhs: CSRNDArray, rhs: Any, transpose_a: bool, transpose_b: bool) -> Any:
    """``nd.dot(lhs, rhs)`` for a csr ``lhs`` held by SciPy, computed from its stored
    values only (no dense copy of ``lhs``); None where the dense product applies instead:
    ``lhs`` itself recorded (its gradient is dense), ``transpose_b``, or an ``rhs`` that is
    not a 1-D or 2-D NDArray of matching length.

    A recorded ``rhs`` is gathered at the stored columns (rows, for ``transpose_a``) and
    scatter-added per row, so its gradient is the same product with the transpose, as
    ``nd.dot`` differentiates it.
    """
    storage = lhs._storage()
    if storage is None or transpose_b or (recording.get() and _is_recorded(lhs)):
        return None
    if isinstance(rhs, NDArray):
        traced, plain = recording.get() and _is_recorded(rhs), rhs._value
    elif type(rhs) is Tracer:  # a traced value handed to nd.dot (adfun.grad of nd code)
        traced, plain = True, rhs.value
    else:
        return None
    rows, columns = storage.shape
    inner, outer = (rows, columns) if transpose_a else (columns, rows)
    ndim = np.ndim(plain)
    if ndim not in (1, 2) or np.shape(plain)[0] != inner:
        return None  # the dense product raises its own error
    dtype = np.result_type(storage.dtype, plain.dtype)
    if not traced:
        matrix = storage.T if transpose_a else storage
        return _owned(np.array(np.asarray(matrix @ plain).astype(dtype), order="C"))
    row_of = np.repeat(np.arange(rows), np.diff(storage.indptr))
    # each stored value data[j] at (row_of[j], indices[j]) adds data[j] * rhs[source[j]]
    # to the output row target[j]
    source, target = (row_of, storage.indices) if transpose_a else (storage.indices, row_of)
    values = storage.data.astype(dtype)
    width = 1 if ndim == 1 else np.shape(plain)[1]
    bins = (target[:, None] * width + np.arange(width)).reshape(-1)

    def product_of(matrix: Any) -> Any:
        gathered = anp.take(matrix, source, axis=0)
        weighted = gathered * (values if ndim == 1 else values[:, None])
        summed = anp.bincount(bins, anp.reshape(weighted, (-1,)), minlength=outer * width)
        shape = (outer,) if ndim == 1 else (outer, width)
        return anp.astype(anp.reshape(summed, shape), dtype)

    return apply(product_of, rhs)


OPS["_csr_dot"] = _csr_dot
