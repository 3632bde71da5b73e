"""The functional transforms: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ...

Every boundary check lives here: argnums, pytrees, input dtypes, output shapes and
cotangent / tangent structure.  The passes themselves are in ``_reverse`` and
``_forward``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Sequence

import numpy as np

from adfun._engine.errors import describe
from adfun._engine.forward import forward
from adfun._engine.graph import Graph
from adfun._engine.pytree import leaf_paths, tree_flatten, tree_unflatten
from adfun._engine.records import OPERATIONS, constant_node
from adfun._engine.reverse import backward
from adfun._engine.trace import Trace, Tracer, full_value, new_input, open_trace

# --------------------------------------------------------------------------------------
# Boundary helpers
# --------------------------------------------------------------------------------------


def _name(fun: Any) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


def _normalize_argnums(transform: str, argnums: Any, nargs: int) -> tuple[tuple[int, ...], bool]:
    """Positions to differentiate, and whether the caller asked with a tuple."""
    as_tuple = isinstance(argnums, (tuple, list))
    positions = tuple(argnums) if as_tuple else (argnums,)
    if not positions:
        raise ValueError(f"{transform}: argnums must name at least one argument, got ()")
    normalized = []
    for position in positions:
        if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
            raise TypeError(
                f"{transform}: argnums must be an int or a tuple of ints, got {argnums!r}"
            )
        if not -nargs <= position < nargs:
            raise ValueError(
                f"{transform}: argnums={argnums!r} refers to argument {position}, but the "
                f"function was called with {nargs} positional argument(s)"
            )
        normalized.append(int(position) % nargs)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{transform}: argnums={argnums!r} repeats an argument")
    return tuple(normalized), as_tuple


def _check_differentiable(transform: str, where: str, leaf: Any) -> Any:
    """Validate one leaf of a differentiated argument; return the value to trace."""
    if type(leaf) is Tracer:
        kind = leaf.dtype.kind
        if kind == "f":
            return leaf
        dtype = leaf.dtype
    elif isinstance(leaf, (bool, np.bool_)):
        raise TypeError(
            f"{transform}: {where} is a boolean ({leaf!r}); only floating-point values can "
            f"be differentiated. Pass a float instead (e.g. 1.0), or move the argument out "
            f"of argnums."
        )
    elif isinstance(leaf, (int, np.integer)):
        raise TypeError(
            f"{transform}: {where} is an integer ({leaf!r}); only floating-point values can "
            f"be differentiated. Pass a float instead (e.g. {float(leaf)!r} instead of "
            f"{leaf!r})."
        )
    elif isinstance(leaf, float):  # Python float and NumPy floating scalars
        return np.float64(leaf) if type(leaf) is float else leaf
    elif isinstance(leaf, np.floating):
        return leaf
    elif isinstance(leaf, (complex, np.complexfloating)):
        raise TypeError(
            f"{transform}: {where} is complex ({leaf!r}); differentiating with respect to "
            f"complex values is not supported. Differentiate with respect to the real and "
            f"imaginary parts as separate float arguments."
        )
    elif isinstance(leaf, np.ndarray):
        if leaf.dtype.kind == "f":
            return leaf
        dtype = leaf.dtype
    else:
        raise TypeError(
            f"{transform}: {where} is a {type(leaf).__name__} ({leaf!r:.60}); a "
            f"differentiated argument may contain only float arrays and floats, nested in "
            f"tuples, lists and dicts. Move it out of argnums or convert it with "
            f"numpy.asarray(..., dtype=float)."
        )
    if dtype.kind in "iub":
        raise TypeError(
            f"{transform}: {where} has dtype {dtype}; only floating-point arrays can be "
            f"differentiated. Convert it first, e.g. x.astype(float)."
        )
    if dtype.kind == "c":
        raise TypeError(
            f"{transform}: {where} has complex dtype {dtype}; differentiating with respect "
            f"to complex arrays is not supported. Differentiate with respect to the real and "
            f"imaginary parts as separate float arrays."
        )
    raise TypeError(
        f"{transform}: {where} has dtype {dtype}, which cannot be differentiated; convert "
        f"it with x.astype(float)."
    )


def _is_index_array(leaf: Any) -> bool:
    """An integer or boolean NumPy array or scalar: an input of a staged graph (recomputed
    at replay), though it cannot be differentiated."""
    return isinstance(leaf, (np.ndarray, np.integer, np.bool_)) and np.dtype(
        leaf.dtype).kind in "iub"


class _Traced:
    """The result of running a function with some arguments replaced by graph inputs."""

    __slots__ = ("trace", "inputs", "in_leaves", "in_trees", "out", "out_leaves", "out_tree",
                 "aux")


def _trace_call(
    transform: str,
    fun: Callable,
    args: Sequence[Any],
    positions: tuple[int, ...],
    has_aux: bool,
    kwargs: dict | None = None,
    staging: bool = False,
    kept: bool = False,
) -> _Traced:
    """Call ``fun(*args)`` with the arguments at ``positions`` traced (in a staging trace,
    whose graph will be replayed, with ``staging=True``; in a trace whose graph is used
    after this call returns, with ``kept=True``: both hold private copies of the arrays
    they capture)."""
    result = _Traced()
    call_args = list(args)
    in_leaves: list = []
    in_trees: list = []
    inputs: list = []
    with open_trace(f"{transform}({_name(fun)})", staging, kept) as trace:
        for position in positions:
            leaves, tree = tree_flatten(args[position])
            paths = leaf_paths(tree, f"argument {position}")
            checked = [
                leaf if staging and _is_index_array(leaf)
                else _check_differentiable(transform, path, leaf)
                for path, leaf in zip(paths, leaves)
            ]
            tracers = [new_input(trace, value) for value in checked]
            in_leaves.append(checked)
            in_trees.append(tree)
            inputs.extend(tracer.node for tracer in tracers)
            call_args[position] = tree_unflatten(tree, tracers)
        out = fun(*call_args, **(kwargs or {}))
    if has_aux:
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(
                f"{transform}(..., has_aux=True): {_name(fun)} must return a pair "
                f"(output, aux), but it returned {describe(out)}"
            )
        out, aux = out
        result.aux = _released(trace, aux) if kept else _strip(trace, aux)
    else:
        result.aux = None
    out_leaves, out_tree = tree_flatten(out)
    result.trace = trace
    result.inputs = inputs
    result.in_leaves = in_leaves
    result.in_trees = in_trees
    result.out = out
    result.out_leaves = out_leaves
    result.out_tree = out_tree
    return result


def _strip(trace: Trace, tree: Any) -> Any:
    """Remove this trace's layer from every leaf of ``tree``."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(
        treedef, [leaf.value if type(leaf) is Tracer and leaf.trace is trace else leaf
                  for leaf in leaves]
    )


def _released(trace: Trace, tree: Any) -> Any:
    """``tree`` with this trace's layer removed and the arrays its graph holds copied.

    The values of ``trace``'s nodes are the graph's own (its rules read them): a caller
    that keeps the graph (``vjp``) receives copies it may modify.
    """
    leaves, treedef = tree_flatten(tree)
    released = []
    for leaf in leaves:
        if type(leaf) is Tracer and leaf.trace is trace:
            leaf = leaf.value
            if type(leaf) is np.ndarray:
                leaf = leaf.copy()
        released.append(leaf)
    return tree_unflatten(treedef, released)


def _own_node(trace: Trace, leaf: Any) -> Any:
    return leaf.node if type(leaf) is Tracer and leaf.trace is trace else None


def _zeros_like(value: Any) -> Any:
    value = full_value(value)
    if isinstance(value, np.ndarray):
        return np.zeros(value.shape, value.dtype)
    if isinstance(value, np.generic):
        return value.dtype.type(0)
    return np.float64(0.0)


def _finish(cotangent: Any, primal: Any) -> Any:
    """Give a gradient its primal's type, shape and dtype."""
    if cotangent is None:
        return _zeros_like(primal)
    base = full_value(primal)
    dtype = _dtype(base)
    if dtype.kind != "c" and (isinstance(cotangent, complex) or _dtype(cotangent).kind == "c"):
        # A real input that fed complex intermediates: its cotangent is the real part.
        cotangent = OPERATIONS["real"](cotangent)
    if type(cotangent) is Tracer:
        if cotangent.dtype != dtype:
            cotangent = OPERATIONS["astype"](cotangent, dtype)
        return cotangent
    if isinstance(base, np.ndarray):
        return np.asarray(cotangent, dtype=dtype)
    if isinstance(cotangent, np.ndarray):
        cotangent = cotangent[()]
    if getattr(cotangent, "dtype", None) != dtype:
        return dtype.type(cotangent)
    return cotangent


def _dtype(value: Any) -> Any:
    dtype = getattr(value, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.dtype(np.float64)


def _shape(value: Any) -> tuple:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return tuple(shape)
    if type(value) is float:  # a Python scalar tangent or seed: skip NumPy's shape()
        return ()
    return np.shape(value)


def _gradients(traced: _Traced, cotangents: list) -> list:
    """Split the flat input cotangents per differentiated argument, rebuilt as pytrees."""
    results = []
    start = 0
    for leaves, tree in zip(traced.in_leaves, traced.in_trees):
        chunk = cotangents[start : start + len(leaves)]
        start += len(leaves)
        results.append(
            tree_unflatten(tree, [_finish(ct, primal) for ct, primal in zip(chunk, leaves)])
        )
    return results


# --------------------------------------------------------------------------------------
# Reverse mode
# --------------------------------------------------------------------------------------


def _single_use_backward(traced: _Traced, seeds: list) -> list:
    """The reverse pass of a graph that nothing else will use: it hands its nodes over.

    ``traced`` lets go of the outputs and ``backward`` consumes the trace's node list, so
    every node (with its value) is freed as soon as the pass is past it.
    """
    traced.out = traced.out_leaves = None
    return backward(seeds, traced.inputs, traced.trace.nodes, consume=True)


def vjp(fun: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Evaluate ``fun(*primals)`` and return a function computing its vector-Jacobian products.

    Parameters
    ----------
    fun : callable
        A function of the ``primals`` (pytrees of float arrays and floats) returning a
        pytree of arrays; with ``has_aux``, a pair ``(output, aux)``.
    *primals
        The point at which to linearize.
    has_aux : bool, optional
        Whether ``fun`` returns an auxiliary value that is not differentiated.

    Returns
    -------
    out : pytree
        ``fun(*primals)`` (the first element of the pair with ``has_aux``).
    vjp_fn : callable
        ``vjp_fn(cotangent)``, with ``cotangent`` shaped like ``out``, returns a tuple with
        one cotangent per primal, each shaped like its primal.
    aux : pytree
        Only with ``has_aux``.

    Notes
    -----
    ``vjp_fn`` uses the values of the call: the recorded graph holds private copies of
    the primals and of the NumPy arrays ``fun`` used, and ``out`` and ``aux`` are the
    caller's to modify, so no in-place change made before ``vjp_fn`` runs alters its
    result.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> out, vjp_fn = ad.vjp(lambda x: anp.sin(x) * 2.0, 0.0)
    >>> float(out), vjp_fn(1.0)
    (0.0, (np.float64(2.0),))
    """
    # The graph outlives this call: a kept trace gives its nodes private copies of the
    # primals and of every array constant, and the caller gets copies of the values the
    # nodes hold, so that no in-place change before vjp_fn runs can alter its result.
    traced = _trace_call("vjp", fun, primals, tuple(range(len(primals))), has_aux,
                         kept=True)
    out = _released(traced.trace, traced.out)
    out_tree = traced.out_tree
    out_nodes = [_own_node(traced.trace, leaf) for leaf in traced.out_leaves]
    out_values = [full_value(leaf) for leaf in traced.out_leaves]

    def vjp_fn(cotangent: Any) -> tuple:
        leaves, tree = tree_flatten(cotangent)
        if tree != out_tree:
            raise TypeError(
                f"vjp_fn: the cotangent must have the structure of the output of "
                f"{_name(fun)}, {out_tree}, but it has structure {tree}"
            )
        seeds = []
        for path, node, value, ct in zip(leaf_paths(tree, "cotangent"), out_nodes, out_values,
                                          leaves):
            ct = _check_cotangent(path, ct, value)
            if node is not None:
                seeds.append((node, ct))
        cotangents = backward(seeds, traced.inputs, traced.trace.nodes)
        return tuple(_gradients(traced, cotangents))

    vjp_fn.__doc__ = f"Vector-Jacobian product of {_name(fun)} at the recorded point."
    if has_aux:
        return out, vjp_fn, traced.aux
    return out, vjp_fn


def _check_cotangent(path: str, cotangent: Any, value: Any) -> Any:
    expected = _shape(value)
    if type(cotangent) is not Tracer:
        if isinstance(cotangent, (bool, np.bool_)) or not isinstance(
            cotangent, (int, float, np.number, np.ndarray)
        ):
            raise TypeError(
                f"vjp_fn: {path} must be a float array shaped like the output {expected}, "
                f"got {describe(cotangent)}"
            )
        cotangent_dtype = _dtype(cotangent) if not isinstance(cotangent, (int, float)) else None
        # A complex output (an FFT, say) takes a complex cotangent: dL = Re(cotangent * dy).
        allowed = "fiuc" if _dtype(full_value(value)).kind == "c" else "fiu"
        if cotangent_dtype is not None and cotangent_dtype.kind not in allowed:
            raise TypeError(
                f"vjp_fn: {path} has dtype {cotangent_dtype}; cotangents must be real "
                f"floating-point arrays shaped like the output {expected}"
            )
        if cotangent_dtype is None or cotangent_dtype.kind in "iu":
            cotangent = np.asarray(cotangent, dtype=_float_dtype(value))
            if cotangent.ndim == 0 and not isinstance(full_value(value), np.ndarray):
                cotangent = cotangent[()]
    if _shape(cotangent) != expected:
        raise ValueError(
            f"vjp_fn: {path} has shape {_shape(cotangent)}, but the output it belongs to has "
            f"shape {expected}; pass a cotangent with exactly the output's shape"
        )
    return cotangent


def _float_dtype(value: Any) -> Any:
    dtype = _dtype(full_value(value))
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _scalar_seed(transform: str, fun: Callable, out: Any) -> Any:
    """The cotangent 1 for a scalar output, or a TypeError explaining what is wrong."""
    value = full_value(out)
    if isinstance(value, (tuple, list, dict)):
        raise TypeError(
            f"{transform}: {_name(fun)} must return a scalar, but it returned a "
            f"{type(value).__name__}; if the extra values are auxiliary data use "
            f"has_aux=True, otherwise use adfun.jacobian or adfun.vjp"
        )
    if not isinstance(value, (float, int, np.ndarray, np.generic)) or isinstance(
        value, (bool, np.bool_)
    ):
        raise TypeError(
            f"{transform}: {_name(fun)} must return a real scalar, but it returned "
            f"{describe(value)}"
        )
    dtype = _dtype(value) if not isinstance(value, (int, float)) else None
    if dtype is not None and dtype.kind != "f":
        raise TypeError(
            f"{transform}: {_name(fun)} must return a real floating-point scalar, but it "
            f"returned dtype {dtype}; gradients are defined for real float outputs only"
        )
    if isinstance(value, int):
        raise TypeError(
            f"{transform}: {_name(fun)} returned the Python int {value!r}, which cannot be "
            f"differentiated; return a float"
        )
    shape = _shape(value)
    if math.prod(shape) != 1:
        raise TypeError(
            f"{transform}: {_name(fun)} must return a scalar (a float, a 0-d array or an "
            f"array of size 1), but it returned an array of shape {shape}. Use "
            f"adfun.jacobian for the full Jacobian, adfun.elementwise_grad for an elementwise "
            f"function, or reduce the output first (e.g. .sum())."
        )
    if isinstance(value, np.ndarray):
        return np.ones(shape, dtype)
    if dtype is not None:
        return dtype.type(1)
    return np.float64(1.0)


def value_and_grad(fun: Callable, argnums: Any = 0, *, has_aux: bool = False) -> Callable:
    """Return a function computing ``fun``'s value and gradient in one forward pass.

    Parameters
    ----------
    fun : callable
        Returns a real scalar (a float, 0-d array or size-1 array); with ``has_aux``, a
        pair ``(scalar, aux)``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    has_aux : bool, optional
        Whether ``fun`` returns ``(value, aux)``.

    Returns
    -------
    callable
        Returns ``(value, gradient)``, or ``((value, aux), gradient)`` with ``has_aux``.
        The gradient is a tuple when ``argnums`` is a tuple.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> ad.value_and_grad(lambda x: x ** 2)(3.0)
    (np.float64(9.0), np.float64(6.0))
    """

    return gradient_function(fun, argnums, has_aux, "value_and_grad")


def gradient_function(fun: Callable, argnums: Any, has_aux: bool, transform: str) -> Callable:
    """``value_and_grad(fun, argnums, has_aux)``, whose errors name ``transform``.

    Transforms built on the gradient (``grad``, ``hvp``, ...) pass their own name, so a
    user reads about the function they called.
    """

    @functools.wraps(fun)
    def value_and_grad_fun(*args: Any, **kwargs: Any) -> Any:
        positions, as_tuple = _normalize_argnums(transform, argnums, len(args))
        traced = _trace_call(transform, fun, args, positions, has_aux, kwargs)
        if traced.out_tree.kind != "leaf":
            _scalar_seed(transform, fun, traced.out)
        out = traced.out_leaves[0]
        seed = _scalar_seed(transform, fun, out)
        node = _own_node(traced.trace, out)
        value = out.value if node is not None else out
        seeds = [(node, seed)] if node is not None else []
        del out, node
        cotangents = _single_use_backward(traced, seeds)
        gradients = _gradients(traced, cotangents)
        gradient = tuple(gradients) if as_tuple else gradients[0]
        if has_aux:
            return (value, traced.aux), gradient
        return value, gradient

    return value_and_grad_fun


def grad(fun: Callable, argnums: Any = 0, *, has_aux: bool = False) -> Callable:
    """Return a function computing the gradient of the scalar function ``fun``.

    Parameters
    ----------
    fun : callable
        Returns a real scalar (a float, 0-d array or size-1 array); with ``has_aux``, a
        pair ``(scalar, aux)``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    has_aux : bool, optional
        Whether ``fun`` returns ``(value, aux)``; the gradient function then returns
        ``(gradient, aux)``.

    Returns
    -------
    callable
        Same arguments as ``fun``; returns the gradient, shaped (and typed) like the
        differentiated argument, or a tuple of them when ``argnums`` is a tuple.

    Raises
    ------
    TypeError
        If ``fun`` does not return a real scalar, or a differentiated argument is not
        made of floats.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> ad.grad(anp.sin)(0.0)
    np.float64(1.0)
    >>> ad.grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 3.0)
    (np.float64(3.0), np.float64(2.0))
    """
    value_and_grad_fun = gradient_function(fun, argnums, has_aux, "grad")

    @functools.wraps(fun)
    def grad_fun(*args: Any, **kwargs: Any) -> Any:
        value, gradient = value_and_grad_fun(*args, **kwargs)
        if has_aux:
            return gradient, value[1]
        return gradient

    return grad_fun


def elementwise_grad(fun: Callable, argnums: Any = 0) -> Callable:
    """Return a function computing the VJP of ``fun`` with a cotangent of ones.

    For a function that acts elementwise this is the derivative at every point.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.elementwise_grad(anp.sin)(np.array([0.0, np.pi]))
    array([ 1., -1.])
    """

    @functools.wraps(fun)
    def elementwise_grad_fun(*args: Any, **kwargs: Any) -> Any:
        positions, as_tuple = _normalize_argnums("elementwise_grad", argnums, len(args))
        traced = _trace_call("elementwise_grad", fun, args, positions, False, kwargs)
        if traced.out_tree.kind != "leaf":
            raise TypeError(
                f"elementwise_grad: {_name(fun)} must return a single array, but it returned "
                f"a {traced.out_tree.kind}"
            )
        out = traced.out_leaves[0]
        node = _own_node(traced.trace, out)
        value = full_value(out)
        dtype = _float_dtype(value)
        seed = np.ones(_shape(value), dtype) if isinstance(value, np.ndarray) else dtype.type(1)
        seeds = [(node, seed)] if node is not None else []
        del out, node
        cotangents = _single_use_backward(traced, seeds)
        gradients = _gradients(traced, cotangents)
        return tuple(gradients) if as_tuple else gradients[0]

    return elementwise_grad_fun


# --------------------------------------------------------------------------------------
# Forward mode
# --------------------------------------------------------------------------------------


def jvp(
    fun: Callable, primals: Sequence[Any], tangents: Sequence[Any], *, has_aux: bool = False
) -> tuple:
    """Evaluate ``fun`` and its Jacobian-vector product in forward mode.

    ``fun`` is traced once at ``primals``; the tangents are then pushed through the
    recorded nodes in topological order with each primitive's forward (JVP) rule.

    Parameters
    ----------
    fun : callable or Graph
        A function of ``len(primals)`` positional arguments.
    primals : tuple or list
        The point (pytrees of float arrays and floats).
    tangents : tuple or list
        One tangent per primal, with the primal's structure, shapes and dtypes (a Python
        number is accepted for a scalar and takes the primal's dtype).
    has_aux : bool, optional
        Whether ``fun`` returns a pair ``(output, aux)``; ``aux`` is returned as is.

    Returns
    -------
    (out, tangent_out) or (out, tangent_out, aux)
        ``fun(*primals)`` and the directional derivative, with the structure of ``out``.

    Raises
    ------
    TypeError
        If a tangent's structure or dtype does not match its primal.
    ValueError
        If a tangent's shape does not match its primal.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> ad.jvp(anp.sin, (0.0,), (2.0,))
    (np.float64(0.0), np.float64(2.0))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "jvp: primals and tangents must be tuples (or lists) with one entry per "
            f"positional argument of {_name(fun)}, got {type(primals).__name__} and "
            f"{type(tangents).__name__}; write jvp(f, (x,), (v,))"
        )
    if len(primals) != len(tangents):
        raise TypeError(
            f"jvp: got {len(primals)} primals but {len(tangents)} tangents; pass one tangent "
            f"per primal"
        )
    traced = _trace_call("jvp", fun, primals, tuple(range(len(primals))), has_aux)
    tangent_leaves = []
    for position, (primal_leaves, tree, tangent) in enumerate(
        zip(traced.in_leaves, traced.in_trees, tangents)
    ):
        leaves, tangent_tree = tree_flatten(tangent)
        if tangent_tree != tree:
            raise TypeError(
                f"jvp: tangent {position} has structure {tangent_tree}, but primal "
                f"{position} has structure {tree}; tangents must match their primals"
            )
        paths = leaf_paths(tree, f"tangent {position}")
        for path, primal, leaf in zip(paths, primal_leaves, leaves):
            tangent_leaves.append(check_tangent("jvp", path, leaf, primal))
    out_tangents = push_tangents(traced, dict(zip(traced.inputs, tangent_leaves)))
    out = _strip(traced.trace, traced.out)
    if has_aux:
        return out, tree_unflatten(traced.out_tree, out_tangents), traced.aux
    return out, tree_unflatten(traced.out_tree, out_tangents)


def push_tangents(traced: _Traced, tangents: dict, order: Any = None) -> list:
    """The output tangents (one per output leaf) for input tangents ``{node: tangent}``.

    ``order`` is a topological order of the nodes to visit; by default the trace's
    creation order (no sort needed).  Pass the outputs' own order (``toposort``) when
    running several passes over one trace, so that nodes the outputs do not depend on
    are skipped.  Outputs no tangent reaches get zeros.
    """
    out_nodes = [_own_node(traced.trace, leaf) for leaf in traced.out_leaves]
    if order is None:
        order = traced.trace.nodes
    tangent_map = forward(order, tangents)
    out_tangents = []
    for node, leaf in zip(out_nodes, traced.out_leaves):
        tangent = tangent_map.get(node) if node is not None else None
        out_tangents.append(_finish(None, leaf) if tangent is None else
                            _match_dtype(tangent, leaf))
    return out_tangents


def _match_dtype(tangent: Any, leaf: Any) -> Any:
    dtype = _dtype(full_value(leaf))
    if dtype.kind == "f" and _dtype(full_value(tangent)) != dtype:
        return OPERATIONS["astype"](tangent, dtype)
    return tangent


def check_tangent(transform: str, path: str, tangent: Any, primal: Any) -> Any:
    """Validate one tangent leaf against its primal; return it with the primal's dtype.

    A Python number takes the primal's dtype; an array must have the primal's shape and
    exactly its floating-point dtype (silently changing precision would hide a bug).
    """
    primal_dtype = _dtype(full_value(primal))
    if type(tangent) is not Tracer and (
        isinstance(tangent, (bool, np.bool_))
        or not isinstance(tangent, (int, float, np.number, np.ndarray))
    ):
        raise TypeError(
            f"{transform}: {path} must be a float array of shape {_shape(primal)} and dtype "
            f"{primal_dtype} like its primal, got {describe(tangent)}"
        )
    if _shape(tangent) != _shape(primal):
        raise ValueError(
            f"{transform}: {path} has shape {_shape(tangent)}, but its primal has shape "
            f"{_shape(primal)}; a tangent must have exactly its primal's shape"
        )
    if isinstance(tangent, (int, float)):
        return primal_dtype.type(tangent)
    dtype = _dtype(full_value(tangent))
    if dtype != primal_dtype:
        raise TypeError(
            f"{transform}: {path} has dtype {dtype}, but its primal has dtype {primal_dtype}; "
            f"a tangent must have its primal's dtype (convert it with "
            f".astype({primal_dtype.name!r}))"
        )
    return tangent


# --------------------------------------------------------------------------------------
# Graph and constants
# --------------------------------------------------------------------------------------


def stop_gradient(x: Any) -> Any:
    """Return ``x``, treated as a constant by every transform.

    Works on pytrees: every leaf is stopped.

    Examples
    --------
    >>> import adfun as ad
    >>> ad.grad(lambda x: x * ad.stop_gradient(x))(3.0)
    np.float64(3.0)
    """
    stop = OPERATIONS["stop_gradient"]
    leaves, tree = tree_flatten(x)
    return tree_unflatten(tree, [stop(leaf) if type(leaf) is Tracer else leaf for leaf in leaves])


def trace(fun: Callable) -> Callable:
    """Return a function that runs ``fun`` once and returns its :class:`Graph`.

    Every positional argument (a pytree of arrays and floats) becomes graph inputs.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> graph = ad.trace(lambda x: anp.sin(x) * 2.0)(1.0)
    >>> [node.primitive.name for node in graph.nodes]
    ['input', 'sin', 'multiply']
    """

    @functools.wraps(fun)
    def trace_fun(*args: Any) -> Graph:
        traced = _trace_call("trace", fun, args, tuple(range(len(args))), False,
                             staging=True)
        outputs = []
        for leaf in traced.out_leaves:
            node = _own_node(traced.trace, leaf)
            outputs.append(node if node is not None else constant_node(leaf))
        in_tree = tree_flatten(tuple(args))[1]
        return Graph.build(traced.inputs, outputs, in_tree=in_tree, out_tree=traced.out_tree,
                           name=_name(fun))

    return trace_fun
