"""The boundary of the functional transforms: what happens before and after a pass.

Every check at a transform's edge lives here, shared by ``functional``, ``jacobians``,
``checkpoint`` and ``adfun._staging.jit``: argnums (:func:`normalize_argnums`), the leaves
of differentiated arguments (:func:`check_differentiable`), opening a trace and calling
the function in it (:func:`trace_call`, which returns a :class:`Traced`), scalar outputs
(:func:`scalar_seed`), cotangents and tangents (:func:`check_cotangent`,
:func:`check_tangent`), and giving each result its primal's type, shape and dtype
(:func:`finish`, :func:`argument_gradients`, :func:`push_tangents`).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from adfun._engine.backend import backend_value, conform, is_foreign
from adfun._engine.errors import describe
from adfun._engine.forward import forward
from adfun._engine.pytree import TreeDef, leaf_paths, tree_flatten, tree_unflatten
from adfun._engine.records import OPERATIONS, Node, numpy_dtype
from adfun._engine.trace import Trace, Tracer, full_value, new_input, open_trace

#: What ``argnums`` may be: one argument's position, or a tuple of them.
Argnums = int | tuple[int, ...]


def function_name(fun: Any) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


def normalize_argnums(transform: str, argnums: Any, nargs: int) -> tuple[tuple[int, ...], bool]:
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


def check_differentiable(transform: str, where: str, leaf: Any) -> Any:
    """Validate one leaf of a differentiated argument; return the value to trace.

    Floating-point and complex leaves are accepted (complex ones follow the convention
    ``grad(f)(z) = df/dx - i df/dy``, see :mod:`adfun.numpy._complex`).
    """
    if type(leaf) is Tracer:
        kind = leaf.dtype.kind
        if kind == "f" or kind == "c":
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
    elif isinstance(leaf, complex):  # Python complex and NumPy complex128 scalars
        return np.complex128(leaf) if type(leaf) is complex else leaf
    elif isinstance(leaf, np.complexfloating):
        return leaf
    elif isinstance(leaf, np.ndarray):
        if leaf.dtype.kind == "f" or leaf.dtype.kind == "c":
            return leaf
        dtype = leaf.dtype
    else:
        raise TypeError(
            f"{transform}: {where} is a {type(leaf).__name__} ({leaf!r:.60}); a "
            f"differentiated argument may contain only float (or complex) arrays and "
            f"numbers, nested in tuples, lists and dicts. Move it out of argnums or convert "
            f"it with numpy.asarray(..., dtype=float)."
        )
    if dtype.kind in "iub":
        raise TypeError(
            f"{transform}: {where} has dtype {dtype}; only floating-point arrays can be "
            f"differentiated. Convert it first, e.g. x.astype(float)."
        )
    raise TypeError(
        f"{transform}: {where} has dtype {dtype}, which cannot be differentiated; convert "
        f"it with x.astype(float)."
    )


def is_index_array(leaf: Any) -> bool:
    """An integer or boolean NumPy array or scalar: an input of a staged graph (recomputed
    at replay), though it cannot be differentiated."""
    return (
        isinstance(leaf, (np.ndarray, np.integer, np.bool_)) and np.dtype(leaf.dtype).kind in "iub"
    )


class Traced:
    """The result of running a function with some arguments replaced by graph inputs."""

    __slots__ = ("trace", "inputs", "in_leaves", "in_trees", "out", "out_leaves", "out_tree", "aux")

    trace: Trace
    #: The graph inputs, one per leaf of the traced arguments, in order.
    inputs: list[Node]
    #: Per traced argument: its checked leaves, and its tree structure.
    in_leaves: list[list[Any]]
    in_trees: list[TreeDef]
    #: What the function returned (without aux), flattened.
    out: Any
    out_leaves: list[Any]
    out_tree: TreeDef
    aux: Any


def trace_call(
    transform: str,
    fun: Callable,
    args: Sequence[Any],
    positions: tuple[int, ...],
    has_aux: bool,
    kwargs: dict | None = None,
    staging: bool = False,
    kept: bool = False,
) -> Traced:
    """Call ``fun(*args)`` with the arguments at ``positions`` traced (in a staging trace,
    whose graph will be replayed, with ``staging=True``; in a trace whose graph is used
    after this call returns, with ``kept=True``: both hold private copies of the arrays
    they capture)."""
    result = Traced()
    call_args = list(args)
    in_leaves: list[list[Any]] = []
    in_trees: list[TreeDef] = []
    inputs: list[Node] = []
    with open_trace(f"{transform}({function_name(fun)})", staging, kept) as trace:
        for position in positions:
            leaves, tree = tree_flatten(args[position])
            paths = leaf_paths(tree, f"argument {position}")
            checked = [
                leaf
                if staging and is_index_array(leaf)
                else check_differentiable(transform, path, leaf)
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
                f"{transform}(..., has_aux=True): {function_name(fun)} must return a pair "
                f"(output, aux), but it returned {describe(out)}"
            )
        out, aux = out
        result.aux = release(trace, aux) if kept else strip_trace(trace, aux)
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


def check_holomorphic_inputs(transform: str, traced: Traced, positions: tuple) -> None:
    """With ``holomorphic=True`` every differentiated leaf must be complex (as in JAX)."""
    for leaves, tree, position in zip(traced.in_leaves, traced.in_trees, positions):
        for path, leaf in zip(leaf_paths(tree, f"argument {position}"), leaves):
            if dtype_of(full_value(leaf)).kind != "c":
                raise TypeError(
                    f"{transform}(..., holomorphic=True): {path} has dtype "
                    f"{dtype_of(full_value(leaf))}, but holomorphic differentiation needs "
                    f"complex inputs; convert it with x.astype(complex), or leave "
                    f"holomorphic=False for a real-valued function"
                )


def strip_trace(trace: Trace, tree: Any) -> Any:
    """Remove this trace's layer from every leaf of ``tree``."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(
        treedef,
        [leaf.value if type(leaf) is Tracer and leaf.trace is trace else leaf for leaf in leaves],
    )


def release(trace: Trace, tree: Any) -> Any:
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


def own_node(trace: Trace, leaf: Any) -> Any:
    return leaf.node if type(leaf) is Tracer and leaf.trace is trace else None


def zeros_like(value: Any) -> Any:
    value = full_value(value)
    if isinstance(value, np.ndarray) or is_foreign(value):
        # On another library, the backend boundary converts these zeros to its arrays.
        return np.zeros(value.shape, dtype_of(value))
    if isinstance(value, np.generic):
        return value.dtype.type(0)
    return np.float64(0.0)


def finish(cotangent: Any, primal: Any) -> Any:
    """Give a gradient its primal's type, shape and dtype."""
    if cotangent is None:
        return zeros_like(primal)
    base = full_value(primal)
    dtype = dtype_of(base)
    if dtype.kind != "c" and (isinstance(cotangent, complex) or dtype_of(cotangent).kind == "c"):
        # A real input that fed complex intermediates: its cotangent is the real part.
        cotangent = OPERATIONS["real"](cotangent)
    if type(cotangent) is Tracer:
        if cotangent.dtype != dtype:
            cotangent = OPERATIONS["astype"](cotangent, dtype)
        return conform(cotangent, primal) if cotangent.trace.backend is not None else cotangent
    if isinstance(base, np.ndarray):
        result = np.asarray(cotangent, dtype=dtype)
        if not result.flags.writeable:
            # a reduction's broadcast cotangent or a shared forward value: the caller
            # gets an array of their own, as from NumPy
            result = result.copy()
        return result
    if is_foreign(cotangent):
        return cotangent if dtype_of(cotangent) == dtype else OPERATIONS["astype"](cotangent, dtype)
    if isinstance(cotangent, np.ndarray):
        cotangent = cotangent[()]
    if getattr(cotangent, "dtype", None) != dtype:
        return dtype.type(cotangent)
    return cotangent


def dtype_of(value: Any) -> Any:
    dtype = getattr(value, "dtype", None)
    return numpy_dtype(dtype) if dtype is not None else np.dtype(np.float64)


def shape_of(value: Any) -> tuple:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return tuple(shape)
    if type(value) is float:  # a Python scalar tangent or seed: skip NumPy's shape()
        return ()
    return np.shape(value)


def argument_gradients(traced: Traced, cotangents: list) -> list:
    """Split the flat input cotangents per differentiated argument, rebuilt as pytrees."""
    results = []
    start = 0
    for leaves, tree in zip(traced.in_leaves, traced.in_trees):
        chunk = cotangents[start : start + len(leaves)]
        start += len(leaves)
        results.append(
            tree_unflatten(tree, [finish(ct, primal) for ct, primal in zip(chunk, leaves)])
        )
    return results


def check_cotangent(path: str, cotangent: Any, value: Any) -> Any:
    expected = shape_of(value)
    if type(cotangent) is not Tracer:
        if isinstance(cotangent, (bool, np.bool_)) or not isinstance(
            cotangent, (int, float, complex, np.number, np.ndarray)
        ):
            raise TypeError(
                f"vjp_fn: {path} must be a float array shaped like the output {expected}, "
                f"got {describe(cotangent)}"
            )
        cotangent_dtype = dtype_of(cotangent) if not isinstance(cotangent, (int, float)) else None
        # A complex output (an FFT, say) takes a complex cotangent: dL = Re(cotangent * dy).
        allowed = "fiuc" if dtype_of(full_value(value)).kind == "c" else "fiu"
        if cotangent_dtype is not None and cotangent_dtype.kind not in allowed:
            raise TypeError(
                f"vjp_fn: {path} has dtype {cotangent_dtype}; cotangents must be real "
                f"floating-point arrays shaped like the output {expected}"
            )
        if cotangent_dtype is None or cotangent_dtype.kind in "iu":
            cotangent = np.asarray(cotangent, dtype=float_dtype(value))
            if cotangent.ndim == 0 and not isinstance(full_value(value), np.ndarray):
                cotangent = cotangent[()]
    if shape_of(cotangent) != expected:
        raise ValueError(
            f"vjp_fn: {path} has shape {shape_of(cotangent)}, but the output it belongs to has "
            f"shape {expected}; pass a cotangent with exactly the output's shape"
        )
    return cotangent


def float_dtype(value: Any) -> Any:
    dtype = dtype_of(full_value(value))
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def scalar_seed(transform: str, fun: Callable, out: Any, holomorphic: bool = False) -> Any:
    """The cotangent 1 for a scalar output, or a TypeError explaining what is wrong.

    A complex output needs ``holomorphic=True`` (its seed is then the complex 1, and the
    gradient is ``f'(z)``); with ``holomorphic=True`` the output must be complex.
    """
    value = full_value(out)
    if type(value) is complex:
        value = np.complex128(value)
    if isinstance(value, (tuple, list, dict)):
        raise TypeError(
            f"{transform}: {function_name(fun)} must return a scalar, but it returned a "
            f"{type(value).__name__}; if the extra values are auxiliary data use "
            f"has_aux=True, otherwise use adfun.jacobian or adfun.vjp"
        )
    if not (isinstance(value, (float, int, np.ndarray, np.generic)) or is_foreign(value)) or (
        isinstance(value, (bool, np.bool_))
    ):
        raise TypeError(
            f"{transform}: {function_name(fun)} must return a real scalar, but it returned "
            f"{describe(value)}"
        )
    dtype = dtype_of(value) if not isinstance(value, (int, float)) else None
    if holomorphic or (dtype is not None and dtype.kind == "c"):
        check_complex_output(transform, fun, "output", dtype, holomorphic)
    if dtype is not None and dtype.kind not in "fc":
        raise TypeError(
            f"{transform}: {function_name(fun)} must return a real floating-point scalar, but it "
            f"returned dtype {dtype}; gradients are defined for real float outputs only"
        )
    if isinstance(value, int):
        raise TypeError(
            f"{transform}: {function_name(fun)} returned the Python int {value!r}, which cannot be "
            f"differentiated; return a float"
        )
    shape = shape_of(value)
    if math.prod(shape) != 1:
        raise TypeError(
            f"{transform}: {function_name(fun)} must return a scalar (a float, a 0-d array or an "
            f"array of size 1), but it returned an array of shape {shape}. Use "
            f"adfun.jacobian for the full Jacobian, adfun.elementwise_grad for an elementwise "
            f"function, or reduce the output first (e.g. .sum())."
        )
    if is_foreign(value):
        # An array of the backend, so that the rules broadcasting it over the data (a
        # sum's) compute in that library, not with NumPy on the client.
        inner = backend_value(out)
        if type(inner) is Tracer:
            return new_input(inner.trace, inner.trace.backend.from_numpy(np.ones(shape, dtype)))
        return np.ones(shape, dtype)
    if isinstance(value, np.ndarray):
        return np.ones(shape, dtype)
    if dtype is not None:
        return dtype.type(1)
    return np.float64(1.0)


def check_complex_output(
    transform: str, fun: Callable, path: str, dtype: Any, holomorphic: bool
) -> None:
    """A complex output needs ``holomorphic=True``; ``holomorphic=True`` needs one."""
    complex_output = dtype is not None and dtype.kind == "c"
    if complex_output and not holomorphic:
        raise TypeError(
            f"{transform}: the {path} of {function_name(fun)} is complex ({dtype}); a complex "
            f"output is differentiated only with holomorphic=True (for a holomorphic "
            f"function, which gives f'(z)). For a non-holomorphic function, differentiate "
            f"a real value instead, e.g. its real part, imag part or abs(...)**2"
        )
    if holomorphic and not complex_output:
        raise TypeError(
            f"{transform}(..., holomorphic=True): the {path} of {function_name(fun)} has "
            f"dtype {dtype if dtype is not None else 'float64'}, but holomorphic "
            f"differentiation needs a complex output; leave holomorphic=False for a "
            f"real-valued function"
        )


def push_tangents(traced: Traced, tangents: dict, order: Any = None) -> list:
    """The output tangents (one per output leaf) for input tangents ``{node: tangent}``.

    ``order`` is a topological order of the nodes to visit; by default the trace's
    creation order (no sort needed).  Pass the outputs' own order (``toposort``) when
    running several passes over one trace, so that nodes the outputs do not depend on
    are skipped.  Outputs no tangent reaches get zeros.
    """
    out_nodes = [own_node(traced.trace, leaf) for leaf in traced.out_leaves]
    if order is None:
        order = traced.trace.nodes
    tangent_map = forward(order, tangents)
    out_tangents = []
    for node, leaf in zip(out_nodes, traced.out_leaves):
        tangent = tangent_map.get(node) if node is not None else None
        out_tangents.append(finish(None, leaf) if tangent is None else match_dtype(tangent, leaf))
    return out_tangents


def match_dtype(tangent: Any, leaf: Any) -> Any:
    dtype = dtype_of(full_value(leaf))
    if dtype.kind == "f" and dtype_of(full_value(tangent)) != dtype:
        return OPERATIONS["astype"](tangent, dtype)
    return tangent


def check_tangent(transform: str, path: str, tangent: Any, primal: Any) -> Any:
    """Validate one tangent leaf against its primal; return it with the primal's dtype.

    A Python number takes the primal's dtype; an array must have the primal's shape and
    exactly its floating-point dtype (silently changing precision would hide a bug).
    """
    primal_dtype = dtype_of(full_value(primal))
    if type(tangent) is not Tracer and (
        isinstance(tangent, (bool, np.bool_))
        or not isinstance(tangent, (int, float, complex, np.number, np.ndarray))
    ):
        raise TypeError(
            f"{transform}: {path} must be a float array of shape {shape_of(primal)} and dtype "
            f"{primal_dtype} like its primal, got {describe(tangent)}"
        )
    if shape_of(tangent) != shape_of(primal):
        raise ValueError(
            f"{transform}: {path} has shape {shape_of(tangent)}, but its primal has shape "
            f"{shape_of(primal)}; a tangent must have exactly its primal's shape"
        )
    if isinstance(tangent, (int, float)):
        return primal_dtype.type(tangent)
    if type(tangent) is complex:
        if primal_dtype.kind != "c":
            raise TypeError(
                f"{transform}: {path} is complex ({tangent!r}), but its primal has dtype "
                f"{primal_dtype}; a real primal takes a real tangent"
            )
        return primal_dtype.type(tangent)
    dtype = dtype_of(full_value(tangent))
    if dtype != primal_dtype:
        raise TypeError(
            f"{transform}: {path} has dtype {dtype}, but its primal has dtype {primal_dtype}; "
            f"a tangent must have its primal's dtype (convert it with "
            f".astype({primal_dtype.name!r}))"
        )
    return tangent
