"""``adfun.flatten``: a pytree of arrays as one vector, and back (autograd's ``misc.flatten``,
JAX's ``ravel_pytree``)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import adfun.numpy as anp
from adfun._engine.pytree import leaf_paths, tree_flatten, tree_unflatten
from adfun._engine.trace import Tracer

_PYTHON_NUMBERS = (bool, int, float, complex)


def flatten(tree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """Concatenate the leaves of a pytree into one 1-d vector; return it and its inverse.

    The vector holds every leaf raveled, in the order of the tree's leaves (sequences in
    order, dicts in insertion order, fields in declaration order).  ``unflatten(vector)``
    cuts a vector of the same length back into a tree of the same structure, container
    types, shapes and dtypes.  Both directions are made of differentiable ``adfun.numpy``
    operations, so they work on traced values inside every transform: differentiate a
    function of the tree with respect to the vector, or a function of the vector with
    respect to the tree.

    Parameters
    ----------
    tree : pytree
        Nested tuples, lists, dicts, namedtuples, dataclasses, ... (see
        :func:`adfun.register_pytree_node`) whose leaves are arrays or numbers.

    Returns
    -------
    vector : ndarray or traced value
        Shape ``(n,)``, ``n`` the total number of entries of the leaves.  Its dtype is the
        common type of the floating-point and complex leaves (float32 leaves give a float32
        vector); integer and boolean leaves are stored as that type, float64 if the tree
        has no floating-point leaf.
    unflatten : callable
        ``unflatten(vector)`` returns a pytree like ``tree``.  Each leaf gets its original
        shape and dtype back (integer and boolean leaves are cast back, so a fractional
        entry is truncated); Python numbers come back as Python numbers unless the vector
        is traced (then as 0-d traced values).

    Raises
    ------
    TypeError
        If a leaf is not an array or a number (the message names its path).

    Notes
    -----
    ``adfun.optimizers`` flattens its parameters this way.

    HIPS autograd's ``flatten`` visits dict entries in sorted key order; this one (like
    every adfun transform) keeps insertion order, so the vectors differ only in the order of
    their entries when a dict's keys are not inserted sorted.

    Examples
    --------
    >>> import numpy as np
    >>> import adfun as ad
    >>> params = {"w": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": 0.5}
    >>> vector, unflatten = ad.flatten(params)
    >>> vector
    array([1. , 2. , 3. , 4. , 0.5])
    >>> unflatten(vector * 2)
    {'w': array([[2., 4.],
           [6., 8.]]), 'b': 1.0}

    Differentiable both ways:

    >>> import adfun.numpy as anp
    >>> ad.grad(lambda v: anp.sum(unflatten(v)["w"] ** 2))(vector)
    array([2., 4., 6., 8., 0.])
    >>> ad.grad(lambda p: anp.sum(ad.flatten(p)[0] * 3.0))(params)["b"]
    np.float64(3.0)
    """
    leaves, treedef = tree_flatten(tree)
    specs = [_leaf_spec(path, leaf) for path, leaf in zip(leaf_paths(treedef, "tree"), leaves)]
    inexact = [dtype for _, dtype, _ in specs if dtype.kind in "fc"]
    dtype = np.result_type(*inexact) if inexact else np.dtype(np.float64)
    pieces = []
    for leaf, (_, leaf_dtype, _) in zip(leaves, specs):
        piece = anp.ravel(leaf)
        if leaf_dtype != dtype:
            piece = piece.astype(dtype)
        pieces.append(piece)
    vector = anp.concatenate(pieces) if pieces else np.zeros(0, dtype)
    sizes = [int(np.prod(shape, dtype=np.int64)) for shape, _, _ in specs]
    size = sum(sizes)
    bounds = np.cumsum([0] + sizes).tolist()

    def unflatten(vector: Any) -> Any:
        if type(vector) is not Tracer and not hasattr(vector, "__array_namespace__"):
            vector = np.asarray(vector)
        shape = getattr(vector, "shape", None)
        if shape != (size,):
            raise ValueError(
                f"flatten(...)'s unflatten: expected a vector of shape ({size},), like the "
                f"one flatten returned, but got {_describe_shape(vector)}; pass a vector "
                f"of the same length (vector.ravel() if it has the right size)"
            )
        traced = type(vector) is Tracer
        complex_vector = np.dtype(vector.dtype).kind == "c"
        rebuilt = []
        for number, (leaf_shape, leaf_dtype, restore) in enumerate(specs):
            piece = vector[bounds[number] : bounds[number + 1]]
            piece = anp.reshape(piece, leaf_shape)
            if complex_vector and leaf_dtype.kind != "c":
                piece = anp.real(piece)
            if piece.dtype != leaf_dtype:
                piece = piece.astype(leaf_dtype)
            elif not traced and restore is None:
                piece = piece.copy()  # not a view: writing to the leaf leaves the vector be
            if not traced and restore is not None:
                # Python numbers and NumPy scalars come back as such.
                piece = piece[()] if restore is np.generic else restore(piece)
            rebuilt.append(piece)
        return tree_unflatten(treedef, rebuilt)

    return vector, unflatten


def _leaf_spec(path: str, leaf: Any) -> tuple:
    """``(shape, dtype, restore)`` of one leaf, or a TypeError; ``restore`` turns a 0-d
    array back into the leaf's type: a Python number type, ``np.generic`` for a NumPy
    scalar, None for arrays."""
    kind = type(leaf)
    if kind in _PYTHON_NUMBERS:
        return (), np.result_type(leaf), kind
    shape = getattr(leaf, "shape", None)
    dtype = getattr(leaf, "dtype", None)
    if shape is not None and dtype is not None and np.dtype(dtype).kind in "biufc":
        return tuple(shape), np.dtype(dtype), np.generic if isinstance(leaf, np.generic) else None
    raise TypeError(
        f"flatten: {path} is {_describe(leaf)}, not an array or a number; flatten takes "
        f"pytrees whose leaves are arrays and numbers. Take it out of the tree, or, if it "
        f"is a container of arrays, make its class a pytree with "
        f"adfun.register_pytree_node"
    )


def _describe(leaf: Any) -> str:
    dtype = getattr(leaf, "dtype", None)
    if dtype is not None:
        return f"an array of dtype {dtype}"
    return f"a {type(leaf).__name__} ({leaf!r:.40})"


def _describe_shape(vector: Any) -> str:
    shape = getattr(vector, "shape", None)
    if shape is None:
        return f"a {type(vector).__name__}"
    return f"shape {tuple(shape)}"
