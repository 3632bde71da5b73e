"""The imperative layer's backward pass: heads to seeds, the graph walk, gradient buffers.

``adfun.autograd.backward`` / ``grad`` and ``NDArray.backward`` share this machinery.  It
sits below ``adfun.nd``: it works on the layer's arrays through their slots (``_value``,
``_tracer``, ``_slot``, ``_variable_tracer()``), and the functions that must tell an
array from anything else take its class as ``array_type`` (``NDArray``), so that
``adfun.nd`` and ``adfun.autograd`` import this module and it imports neither.

Fast paths (each checked against the general code in
``tests/test_autograd_fast_paths.py``): the one-head seed of :func:`seeds`, cached
read-only seeds of ones (:func:`ones`), the inlined consumed check of :func:`walk`, the
one-variable write and the inlined flag scopes of :func:`run_backward`.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

import adfun.numpy as anp
from adfun._engine.graph import Graph, toposort
from adfun._engine.records import INPUT
from adfun._engine.reverse import backward as reverse_pass
from adfun._engine.trace import Tracer, full_value, new_input, open_trace
from adfun._imperative.recording import (
    CONSUMED,
    TRACE,
    GradSlot,
    VariableNode,
    check_real,
    consume,
    recording,
    training,
)
from adfun._staging.replay import replay


class LayerArray(Protocol):
    """What this module uses of the layer's array class (``NDArray``): its slots."""

    _value: np.ndarray
    _tracer: Tracer | None
    _slot: GradSlot | None
    _base: Any

    def _variable_tracer(self) -> Tracer: ...


def as_list(function: str, name: str, value: Any, array_type: type[LayerArray]) -> list:
    """``value`` as a list: one array (an ``array_type``), or a list or tuple of them."""
    if isinstance(value, array_type):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(
        f"{function}: {name} must be an NDArray or a list of NDArrays, got {type(value).__name__}"
    )


def head_seeds(
    function: str, heads: Any, head_grads: Any, recorded: bool, array_type: type[LayerArray]
) -> list:
    """``(node, cotangent)`` for each head; ones where no head gradient is given.

    ``array_type`` is the layer's array class (``NDArray``); with ``recorded``, a head
    gradient that is a recorded array enters the pass as its tracer.
    """
    if type(heads) is not list:
        heads = as_list(function, "heads", heads, array_type)
    if head_grads is None and len(heads) == 1:  # the common case: one recorded head
        head = heads[0]
        if type(head) is array_type and head._tracer is not None:
            if head._value.dtype.kind == "c":
                check_real(function, "the array you called backward on", head._value.dtype)
            return [(head._tracer.node, ones(head._value))]
    if head_grads is None:
        head_grads = [None] * len(heads)
    else:
        head_grads = as_list(function, "head_grads", head_grads, array_type)
        if len(head_grads) != len(heads):
            raise ValueError(
                f"{function}: got {len(heads)} head(s) but {len(head_grads)} head gradient(s); "
                f"pass one head gradient per head (None for ones)"
            )
    seeds = []
    for position, (head, head_grad) in enumerate(zip(heads, head_grads)):
        if type(head) is not array_type and not isinstance(head, array_type):
            raise TypeError(
                f"{function}: heads[{position}] must be an NDArray, got {type(head).__name__}"
            )
        check_real(function, f"heads[{position}]", head._value.dtype)
        tracer = head._tracer
        if tracer is None:
            slot = head._slot
            if slot is None or slot.req == "null":
                raise RuntimeError(
                    f"{function}: the array {_which(heads, position)} is not in a "
                    f"recorded graph: none of the arrays it was computed from has "
                    f"attach_grad() (or it was computed outside autograd.record(), or under "
                    f"autograd.pause()), so there is nothing to differentiate. Call "
                    f"attach_grad() on the inputs to differentiate with respect to, then "
                    f"compute the array inside a `with autograd.record():` block."
                )
            tracer = head._variable_tracer()
        seeds.append(
            (
                tracer.node,
                ones(head._value)
                if head_grad is None
                else _head_seed(function, position, head, head_grad, recorded, array_type),
            )
        )
    return seeds


def _which(heads: list, position: int) -> str:
    return "you called backward on" if len(heads) == 1 else f"heads[{position}]"


def _head_seed(
    function: str,
    position: int,
    head: Any,
    head_grad: Any,
    recorded: bool,
    array_type: type[LayerArray],
) -> Any:
    value = head._value
    if isinstance(head_grad, array_type):
        seed = (
            head_grad._tracer if recorded and head_grad._tracer is not None else (head_grad._value)
        )
    else:
        seed = np.array(head_grad)  # a copy: later changes by the caller cannot leak in
    plain = full_value(seed)
    check_real(function, f"head_grads[{position}]", plain.dtype)
    if tuple(plain.shape) != value.shape:
        raise ValueError(
            f"{function}: head_grads[{position}] has shape {tuple(plain.shape)}, but its head "
            f"has shape {value.shape}; a head gradient must have its head's shape"
        )
    if plain.dtype != value.dtype:
        seed = anp.astype(seed, value.dtype)
    return seed


#: Read-only arrays of ones, the default head gradients of small heads, by (shape, dtype).
_ONES: dict = {}


def ones(value: np.ndarray) -> np.ndarray:
    """Read-only ones of ``value``'s shape and dtype (no rule writes into a cotangent)."""
    if value.size > 4096:  # a view of a single one: no memory traffic
        return np.broadcast_to(np.ones((), value.dtype), value.shape)
    key = (value.shape, value.dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = np.ones(value.shape, value.dtype)
        ones.flags.writeable = False
        if len(_ONES) >= 256:
            _ONES.clear()
        _ONES[key] = ones
    return ones


def walk(function: str, seeds: list) -> tuple[list, list]:
    """The nodes the heads depend on, parents before children, and the variable nodes
    among them; refuses a graph that a backward pass already freed.

    The order is the engine's :func:`~adfun._engine.graph.toposort`; one more pass over
    it picks the variables (inputs made by ``attach_grad()``) and checks the consumed
    marks of the other nodes (:func:`~adfun._imperative.recording.is_consumed`, inlined).
    """
    order = toposort([root for root, _ in seeds])
    variables = []
    marked = CONSUMED.get
    for node in order:
        if node.parents:
            mark = marked(id(node))
            if mark is not None and mark() is node:
                raise RuntimeError(
                    f"{function}: the recorded graph was already used by a backward "
                    f"pass that freed it. To run backward through the same graph more "
                    f"than once, pass retain_graph=True to the earlier backward call, "
                    f"or record the computation again."
                )
        elif type(node) is VariableNode:
            variables.append(node)
    return order, variables


def per_slot(nodes: list, cotangents: list) -> dict:
    """Sum the cotangents of the nodes that share a gradient slot (a variable changed in
    place between two recorded uses has one node per value)."""
    totals: dict = {}
    for node, cotangent in zip(nodes, cotangents):
        slot = node.slot
        entry = totals.get(id(slot))
        if entry is None:
            totals[id(slot)] = [slot, cotangent]
        elif cotangent is not None:
            entry[1] = cotangent if entry[1] is None else anp.add(entry[1], cotangent)
    return totals


def write(slot: GradSlot, cotangent: Any) -> None:
    gradient = slot.grad
    current = gradient._value
    if cotangent is None:
        value = np.zeros_like(current)
    elif type(cotangent) is np.ndarray and cotangent.dtype == current.dtype:
        value = cotangent
    else:
        value = np.asarray(cotangent, dtype=current.dtype)
    if slot.req == "add":
        value = current + value
    slot.fresh = True
    # the new values replace the buffer; they may be a rule's read-only array, so the
    # buffer is owned by nobody (the first in-place write copies it)
    gradient._value = value
    gradient._tracer = None
    gradient._base = None


def enter_pass(train: bool, record_pass: bool) -> tuple:
    """Set the flags of a backward pass: training as asked, and recording only when the
    pass itself is recorded (``create_graph=True``), as in MXNet.  Returns the tokens
    that :func:`exit_pass` restores."""
    record_pass = bool(record_pass)
    train = bool(train)
    # a flag that already has the wanted value is left alone (a get is cheaper than a set)
    return (
        None if recording.get() is record_pass else recording.set(record_pass),
        None if training.get() is train else training.set(train),
    )


def exit_pass(tokens: tuple) -> None:
    if tokens[0] is not None:
        recording.reset(tokens[0])
    if tokens[1] is not None:
        training.reset(tokens[1])


def run_backward(seeds: list, retain_graph: bool, train_mode: bool) -> None:
    order, variables = walk("backward", seeds)
    for node in variables:
        if node.slot.req == "null":
            variables = [node for node in variables if node.slot.req != "null"]
            break
    # enter_pass / exit_pass inlined: the pass is not recorded, training as asked
    train = bool(train_mode)
    recording_token = recording.set(False) if recording.get() else None
    training_token = None if training.get() is train else training.set(train)
    try:
        cotangents = reverse_pass(seeds, variables, order)
    finally:
        if training_token is not None:
            training.reset(training_token)
        if recording_token is not None:
            recording.reset(recording_token)
    if not retain_graph:
        consume(order)
    if len(variables) == 1:  # one variable: no slot is shared
        slot = variables[0].slot
        if slot.grad is not None:
            write(slot, cotangents[0])
        return
    for slot, cotangent in per_slot(variables, cotangents).values():
        if slot.req != "null" and slot.grad is not None:
            write(slot, cotangent)


def recorded_pass(seeds: list, order: list, nodes: list) -> list:
    """The reverse pass, recorded: replay the graph one trace level up, then reverse it.

    Every node's arguments in the replayed graph are tracers of the imperative trace, so
    the derivative rules -- written with ``adfun.numpy`` -- record their work there.
    """
    inputs = [node for node in order if node.primitive is INPUT]
    graph = Graph.build(inputs, [node for node, _ in seeds])
    with open_trace("autograd.grad(create_graph=True)") as trace:
        lifted = [new_input(trace, Tracer(node.value, node, TRACE)) for node in inputs]
        outputs = replay(graph, tuple(lifted))
    if len(seeds) == 1:
        outputs = (outputs,)
    where = {id(node): tracer.node for node, tracer in zip(inputs, lifted)}
    lifted_seeds = [(output.node, seed) for output, (_, seed) in zip(outputs, seeds)]
    # the replay trace's creation order is a topological order of its nodes
    return reverse_pass(lifted_seeds, [where[id(node)] for node in nodes], trace.nodes)
