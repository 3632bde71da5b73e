"""``r_`` and ``c_``: NumPy's index-expression concatenators, also of traced values.

``anp.r_[a, b, 1.0]`` concatenates along the first axis and ``anp.c_[u, v]`` stacks
columns, as :data:`numpy.r_` and :data:`numpy.c_` do, with the same rules for slices
(``0:1:5j``), scalars, directives (``"0,2,1"``) and ``ndmin``/``trans1d``.  An
expression with no traced value is NumPy's own; one with traced values (or lists
holding them) is built with ``array``, ``transpose`` and ``concatenate``, so the
derivative flows back to each piece.  NumPy's matrix directives (``"r"``, ``"c"``)
build ``numpy.matrix`` objects, which have no traced counterpart, and are refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.trace import Tracer
from adfun.numpy._arraylike import as_traced
from adfun.numpy._axes import dtype_of, ndim_of
from adfun.numpy._creation import array
from adfun.numpy._shape import concatenate, transpose
from adfun.numpy._values import contains_tracer


class AxisConcatenator:
    """Concatenation along an axis by an index expression (``r_[...]``, ``c_[...]``).

    Parameters
    ----------
    name : str
        ``"r_"`` or ``"c_"``, for error messages.
    numpy_object : numpy.lib.index_tricks.AxisConcatenator
        NumPy's object, which serves expressions without traced values.
    axis, ndmin, trans1d : int
        NumPy's defaults for the object (``r_``: 0, 1, -1; ``c_``: -1, 2, 0).
    """

    def __init__(self, name: str, numpy_object: Any, axis: int, ndmin: int, trans1d: int) -> None:
        self.name = name
        self.numpy_object = numpy_object
        self.axis = axis
        self.ndmin = ndmin
        self.trans1d = trans1d

    def __repr__(self) -> str:
        return f"adfun.numpy.{self.name}"

    def __len__(self) -> int:
        return 0

    def __getitem__(self, key: Any) -> Any:
        if not contains_tracer(key):
            return self.numpy_object[key]
        if not isinstance(key, tuple):
            key = (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        pieces = []
        kinds = []  # scalars (weakly typed) or dtypes, for the common type
        for position, item in enumerate(key):
            if isinstance(item, str):
                if position != 0:
                    raise ValueError(
                        f"adfun.numpy.{self.name}: special directives must be the first entry"
                    )
                axis, ndmin, trans1d = self._directive(item, axis, ndmin, trans1d)
                continue
            if isinstance(item, slice):
                piece: Any = self.numpy_object[item]
                if ndmin > 1:
                    piece = np.array(piece, ndmin=ndmin)
                    if trans1d != -1:
                        piece = piece.swapaxes(-1, trans1d)
                pieces.append(piece)
                kinds.append(piece.dtype)
                continue
            if type(item) in np.ScalarType:
                pieces.append(item)
                kinds.append(item)
                continue
            item = as_traced(item)
            item_ndim = ndim_of(item)
            piece = array(item, ndmin=ndmin)
            if trans1d != -1 and item_ndim < ndmin:
                low = trans1d + (ndmin - item_ndim + 1 if trans1d < 0 else 0)
                order = list(range(ndmin))
                piece = transpose(
                    piece,
                    order[:low] + order[ndmin - item_ndim :] + order[low : ndmin - item_ndim],
                )
            pieces.append(piece)
            kinds.append(dtype_of(piece))
        if not pieces:
            return self.numpy_object[key]
        dtype = np.result_type(*kinds)
        pieces = [
            array(piece, dtype=dtype, ndmin=ndmin)
            if type(piece) is Tracer
            else np.array(piece, dtype=dtype, ndmin=ndmin)
            for piece in pieces
        ]
        return concatenate(pieces, axis=axis)

    def _directive(self, item: str, axis: int, ndmin: int, trans1d: int) -> tuple:
        if item in ("r", "c"):
            raise NotImplementedError(
                f"adfun.numpy.{self.name}: the matrix directives 'r' and 'c' build "
                f"numpy.matrix objects, which cannot hold traced values; use "
                f"adfun.numpy.{self.name}[...] without them (and reshape the result)"
            )
        try:
            if "," in item:
                parts = [int(part) for part in item.split(",")]
                if len(parts) > 3:
                    raise ValueError(item)
                axis, ndmin = parts[:2]
                return axis, ndmin, parts[2] if len(parts) == 3 else trans1d
            return int(item), ndmin, trans1d
        except ValueError:
            raise ValueError(
                f"adfun.numpy.{self.name}: unknown special directive {item!r} (expected "
                f"'axis', 'axis,ndmin' or 'axis,ndmin,trans1d' with integers)"
            ) from None


r_ = AxisConcatenator("r_", np.r_, axis=0, ndmin=1, trans1d=-1)
c_ = AxisConcatenator("c_", np.c_, axis=-1, ndmin=2, trans1d=0)
