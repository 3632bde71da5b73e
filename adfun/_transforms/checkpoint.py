"""``checkpoint``: trade memory for compute by recomputing a function in the backward pass.

A checkpointed call is recorded as one ``checkpoint`` node whose implementation runs the
function on plain values, so none of its intermediates are kept.  The node's derivative
rules trace the function again when they are needed: the reverse rule runs a reverse
pass over a fresh trace at backward time, the forward rule a forward pass.  Both rules
are ordinary adfun code, so they are recorded by any outer transform: checkpointing
composes with forward mode and with every order of differentiation.

A function with several output leaves is recorded as one node whose value packs them
into a flat vector; the leaves are cut out of it again (``getitem``, ``reshape``,
``astype``) outside the node.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, ParamSpec, TypeVar

import numpy as np

from adfun._engine.errors import TracerEscapeError, describe
from adfun._engine.pytree import tree_flatten, tree_unflatten
from adfun._engine.records import OPERATIONS, Joint, Node, Params, Primitive
from adfun._engine.reverse import backward
from adfun._engine.trace import Tracer, frozen, full_value
from adfun._transforms.batching import vmap
from adfun._transforms.boundary import finish, function_name, own_node, push_tangents, trace_call

P = ParamSpec("P")
R = TypeVar("R")


def checkpoint(fun: Callable[P, R]) -> Callable[P, R]:
    """Return ``fun`` with its intermediates recomputed in the backward pass.

    Inside a transform, a call of the returned function is recorded as a single node
    that keeps only its inputs and its output; the values computed inside ``fun`` are
    released at once and recomputed when a derivative is needed.  Results and
    derivatives are the same as ``fun``'s; gradients of long chains of checkpointed
    blocks need memory for one block's intermediates plus the block boundaries.

    Parameters
    ----------
    fun : callable or Graph
        A pure function of pytrees of arrays (keyword arguments allowed) returning a
        float array or float, or a tuple/list/dict of them.

    Returns
    -------
    callable
        Same signature as ``fun``.  Called outside every transform it simply calls ``fun``.

    See Also
    --------
    adfun.jit : Stage a function.
    adfun.vjp : Reverse mode.

    Notes
    -----
    The backward pass runs ``fun`` once more per checkpointed call; forward mode
    (``jvp``, ``jacfwd``, ``hvp``) runs it once more per pass.  ``fun`` must be pure:
    it is called again on the same values and must return the same structure.

    Pass the values being differentiated to ``fun`` as arguments.  If ``fun`` instead
    reads one from its closure (``checkpoint(lambda h: layer(h, w))`` inside
    ``grad`` with respect to ``w``), the result is still correct, but that call is
    recorded as if it were not checkpointed (``fun`` runs twice and saves no memory);
    write ``checkpoint(layer)(h, w)``.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> block = ad.checkpoint(lambda x: anp.sin(anp.sin(x)))
    >>> float(ad.grad(lambda x: block(block(x)))(0.0))
    1.0
    """

    @functools.wraps(fun)
    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        flat_args, in_tree = tree_flatten((args, kwargs))
        if not any(type(leaf) is Tracer for leaf in flat_args):
            return fun(*args, **kwargs)
        params = Params(fun=fun, in_tree=in_tree)
        try:
            packed, out_tree, layout = _bind(tuple(flat_args), params, _lowest_level(flat_args))
        except _CapturedTracer:
            # fun closes over a value traced at one of its arguments' levels (or deeper):
            # recomputing it later could not reach that value, so record fun as usual.
            return fun(*args, **kwargs)
        return tree_unflatten(out_tree, _unpack(packed, layout))

    return checkpointed


class _CapturedTracer(Exception):
    """Raised inside :func:`_bind` when ``fun``'s output depends on a closed-over tracer."""


def _lowest_level(flat_args: list) -> int:
    """The lowest trace level found in any layer of any argument."""
    lowest: int | None = None
    for leaf in flat_args:
        while type(leaf) is Tracer:
            level = leaf.trace.level
            lowest = level if lowest is None else min(lowest, level)
            leaf = leaf.value
    assert lowest is not None, "called only with at least one traced argument"
    return lowest


def _call(flat_args: tuple, fun: Callable, in_tree: Any) -> tuple:
    """Run ``fun`` on flattened arguments: ``(packed output, out_tree, layout)``."""
    args, kwargs = tree_unflatten(in_tree, flat_args)
    leaves, out_tree = tree_flatten(fun(*args, **kwargs))
    packed, layout = _pack(fun, leaves)
    return packed, out_tree, layout


def _impl(*flat_args: Any, fun: Callable, in_tree: Any) -> Any:
    return _call(flat_args, fun, in_tree)[0]


def _bind(flat_args: tuple, params: Params, lowest: int) -> tuple:
    """Record one checkpoint node at every trace level present in ``flat_args``.

    Like the engine's ``bind``, but it also reports the output structure, which is only
    known once ``fun`` has run on plain values at the innermost level.  There the output
    may still be traced if ``fun`` closes over traced values: that is fine for traces
    below ``lowest`` (they record ``fun``'s operations as usual), but a closed-over
    tracer of an argument's level or above raises :class:`_CapturedTracer`.
    """
    top = None
    for arg in flat_args:
        if type(arg) is Tracer and (top is None or arg.trace.level > top.level):
            top = arg.trace
    if top is None:
        result = _call(flat_args, **params)
        packed = result[0]  # traced at the highest level of any traced output leaf
        if type(packed) is Tracer and packed.trace.level >= lowest:
            raise _CapturedTracer
        return result
    if not top.active:
        raise TracerEscapeError(f"checkpoint({function_name(params['fun'])})", top)
    value_list = []
    parents = []
    argnums = []
    for position, arg in enumerate(flat_args):
        if type(arg) is Tracer and arg.trace is top:
            parents.append(arg.node)
            argnums.append(position)
            value_list.append(arg.value)
        else:
            value_list.append(
                frozen(arg, top.copies) if top.freezes and type(arg) is not Tracer else arg
            )
    values = tuple(value_list)
    ans, out_tree, layout = _bind(values, params, lowest)
    node = Node(CHECKPOINT, tuple(parents), tuple(argnums), values, params, ans)
    top.nodes.append(node)
    return Tracer(ans, node, top), out_tree, layout


def _pack(fun: Callable, leaves: list) -> tuple:
    """One value standing for all output leaves, and how to cut it apart again."""
    if len(leaves) == 1:
        return leaves[0], None
    dtypes = []
    for index, leaf in enumerate(leaves):
        value = full_value(leaf)
        dtype = getattr(value, "dtype", None)
        if isinstance(value, float) and not isinstance(value, np.floating):
            dtype = np.dtype(np.float64)
        if dtype is None or np.dtype(dtype).kind != "f":
            raise TypeError(
                f"checkpoint({function_name(fun)}): a checkpointed function returning several "
                f"values must return float arrays or floats only, but output leaf {index} "
                f"is {describe(value)}; return it from a separate, uncheckpointed function"
            )
        dtypes.append(np.dtype(dtype))
    common = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)
    pieces = []
    for leaf, dtype in zip(leaves, dtypes):
        if type(leaf) is Tracer:
            piece = OPERATIONS["ravel"](leaf)
            pieces.append(piece if dtype == common else OPERATIONS["astype"](piece, common))
        else:
            pieces.append(np.ravel(np.asarray(leaf, common)))
    packed = OPERATIONS["concatenate"](pieces) if pieces else np.zeros(0, common)
    layout = tuple((np.shape(full_value(leaf)), dtype) for leaf, dtype in zip(leaves, dtypes))
    return packed, layout


def _unpack(packed: Any, layout: tuple | None) -> list:
    if layout is None:
        return [packed]
    getitem = OPERATIONS["getitem"]
    reshape = OPERATIONS["reshape"]
    astype = OPERATIONS["astype"]
    common = full_value(packed).dtype
    leaves = []
    start = 0
    for shape, dtype in layout:
        stop = start + int(np.prod(shape))
        leaf = reshape(getitem(packed, slice(start, stop)), shape)
        leaves.append(leaf if dtype == common else astype(leaf, dtype))
        start = stop
    return leaves


def _retrace(argnums: tuple, flat_args: tuple, fun: Callable, in_tree: Any) -> tuple:
    """Trace ``fun`` again with its float arguments at ``argnums`` as inputs.

    Returns the trace and the positions (into ``argnums``) that were traced.
    """
    slots = [
        index
        for index, position in enumerate(argnums)
        if np.result_type(full_value(flat_args[position])).kind == "f"
    ]

    def rebuild(*traced_args: Any) -> Any:
        call_args = list(flat_args)
        for index, traced in zip(slots, traced_args):
            call_args[argnums[index]] = traced
        return _call(tuple(call_args), fun, in_tree)[0]

    primals = [flat_args[argnums[index]] for index in slots]
    traced = trace_call("checkpoint", rebuild, primals, tuple(range(len(primals))), False)
    return traced, slots


def _check_recomputed(fun: Callable, traced: Any, ans: Any) -> None:
    """Raise if recomputing ``fun`` gave another value than the call being differentiated.

    The derivative is taken at the recomputation, so a difference means it would belong
    to another function: ``fun`` read something that changed since the call (an array
    of its closure or a global modified in place, a random draw).  Comparing the one
    output costs far less than the recomputation.
    """
    recomputed = np.asarray(full_value(traced.out_leaves[0]))
    recorded = np.asarray(full_value(ans))
    nan_aware = recorded.dtype.kind in "fc" and recomputed.dtype.kind in "fc"
    if recomputed.shape == recorded.shape and np.array_equal(
        recomputed, recorded, equal_nan=nan_aware
    ):
        return
    raise RuntimeError(
        f"checkpoint({function_name(fun)}): recomputing {function_name(fun)} for its "
        f"derivative gave a "
        f"different value than the checkpointed call did, so the derivative would belong "
        f"to another function. A checkpointed function is run again in the backward pass "
        f"and must be pure: it probably reads an array (from its closure or a global) that "
        f"was modified in place after the call, or draws random numbers. Pass such arrays "
        f"as arguments of the checkpointed function, or copy them before modifying them."
    )


def _vjp_rule(
    argnums: tuple, g: Any, ans: Any, *flat_args: Any, fun: Callable, in_tree: Any
) -> list:
    traced, slots = _retrace(argnums, flat_args, fun, in_tree)
    _check_recomputed(fun, traced, ans)
    node = own_node(traced.trace, traced.out_leaves[0])
    cotangents = backward(
        [(node, g)] if node is not None else [], traced.inputs, traced.trace.nodes
    )
    contributions: list = [None] * len(argnums)
    for index, cotangent in zip(slots, cotangents):
        if cotangent is not None:
            contributions[index] = finish(cotangent, flat_args[argnums[index]])
    return contributions


def _jvp_rule(
    argnums: tuple, tangents: list, ans: Any, *flat_args: Any, fun: Callable, in_tree: Any
) -> Any:
    traced, slots = _retrace(argnums, flat_args, fun, in_tree)
    _check_recomputed(fun, traced, ans)
    seeds = {
        node: tangents[index]
        for node, index in zip(traced.inputs, slots)
        if tangents[index] is not None
    }
    return push_tangents(traced, seeds)[0]


def _batch_rule(
    primitive: Any, size: int, dims: tuple, *flat_args: Any, fun: Callable, in_tree: Any
) -> tuple:
    """``vmap`` of a checkpointed call: one checkpointed call of the vectorized function
    (so an outer ``grad`` still recomputes it instead of keeping its intermediates)."""

    def packed(*flat: Any) -> Any:
        return _call(flat, fun, in_tree)[0]

    packed.__name__ = packed.__qualname__ = function_name(fun)
    return checkpoint(vmap(packed, in_axes=tuple(dims), axis_size=size))(*flat_args), 0


#: The primitive of checkpointed calls; ``params`` holds the function and argument tree.
CHECKPOINT = Primitive(
    "checkpoint", _impl, vjps=Joint(_vjp_rule), jvps=Joint(_jvp_rule), batch=_batch_rule
)
