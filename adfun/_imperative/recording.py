"""State of the imperative layer: recording / training flags and its long-lived trace.

``autograd.record()`` does not open a new trace per block.  Every recorded ``NDArray``
operation binds into one trace, :data:`TRACE`, that never closes: MXNet lets a graph span
several ``record()`` blocks and be differentiated after they exit, and the nodes are
immutable anyway.  Whether an operation is recorded is decided by the ``nd`` layer from
the per-thread flag :data:`recording`; the engine itself only sees ``bind`` calls.

Graph inputs of the imperative layer are :class:`VariableNode` objects: ordinary input
nodes that also point to the gradient buffer (:class:`GradSlot`) of the array that
``attach_grad()`` marked.  Nodes used by a backward pass without ``retain_graph=True`` are
remembered (weakly) in :data:`CONSUMED` so that a second pass can be refused as MXNet does.
"""

from __future__ import annotations

import collections
import contextvars
import threading
import weakref
from typing import Any

import attrs
import numpy as np

from adfun._engine.records import EMPTY_PARAMS, INPUT, Node
from adfun._engine.trace import KeptTrace, Tracer

#: Whether ``NDArray`` operations of this thread are recorded (``autograd.record()``).
recording: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "adfun_autograd_recording", default=False
)
#: Whether this thread runs in training mode (``nd.Dropout`` is active).
training: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "adfun_autograd_training", default=False
)

#: The one trace every recorded ``NDArray`` operation binds into; it is never closed.  Its
#: graphs are differentiated after the operations return, so it is a kept trace: a NumPy
#: array passed to a recorded operation is copied (``NDArray`` values are copy-on-write).
TRACE = KeptTrace("autograd.record")
#: A NumPy constant used by several recorded operations is copied for each: a table of
#: the copies (see ``frozen``) would keep them for ever.
TRACE.copies = None
#: Stands in for ``Trace.nodes``: a trace that lives as long as the process must not keep
#: every node it ever records (each recorded graph is reached from the arrays that use it,
#: and freed with them).  A deque of length 0 drops what is appended to it, in one C call
#: per recorded operation rather than a call of a Python method.
TRACE.nodes = collections.deque(maxlen=0)  # type: ignore[assignment]

#: Non-input nodes already differentiated by a backward pass that did not retain them:
#: ``id(node)`` -> a weak reference to the node.  A plain dict of callback-free weak
#: references (rather than a ``WeakSet``) costs one C call per node to mark and nothing
#: when the node dies; entries of dead nodes are swept once the dict has doubled.  An id
#: reused by a new node is told apart by its reference no longer pointing to that node.
CONSUMED: dict = {}
_SWEEP_LOCK = threading.Lock()
_sweep_at = 1024


def is_consumed(node: Node) -> bool:
    """Whether ``node`` was differentiated by a backward pass that freed its graph."""
    reference = CONSUMED.get(id(node))
    return reference is not None and reference() is node


def consume(nodes: Any) -> None:
    """Mark the non-input ``nodes`` as used by a backward pass that did not retain them."""
    ref = weakref.ref
    consumed = CONSUMED
    for node in nodes:
        if node.parents:
            consumed[id(node)] = ref(node)
    if len(consumed) >= _sweep_at:
        _sweep()


def _sweep() -> None:
    """Drop the marks of nodes that died (one thread at a time; marking needs no lock)."""
    global _sweep_at
    if not _SWEEP_LOCK.acquire(blocking=False):
        return
    try:
        for key, reference in list(CONSUMED.items()):
            if reference() is None:
                current = CONSUMED.pop(key, None)
                if current is not None and current is not reference:
                    # another thread marked a new node with this id meanwhile: keep it
                    CONSUMED.setdefault(key, current)
        _sweep_at = max(1024, 2 * len(CONSUMED))
    finally:
        _SWEEP_LOCK.release()


GRAD_REQS = ("write", "add", "null")


class GradSlot:
    """The gradient buffer of a variable and how ``backward`` writes into it; ``fresh``
    (MXNet's ``_fresh_grad``) says whether a backward pass wrote it since it was cleared."""

    __slots__ = ("grad", "req", "fresh")

    def __init__(self, grad: Any, req: str) -> None:
        self.grad = grad
        self.req = req
        self.fresh = False


@attrs.frozen(eq=False)
class VariableNode(Node):
    """A graph input created by ``attach_grad()``: it knows its array's gradient slot."""

    slot: Any = attrs.field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"<variable node {self.shape} at {id(self):#x}>"


def new_variable(value: Any, slot: GradSlot) -> Tracer:
    """A tracer of :data:`TRACE` whose node is a fresh variable input holding ``value``."""
    return Tracer(value, VariableNode(INPUT, (), (), (), EMPTY_PARAMS, value, slot), TRACE)


def check_grad_req(function: str, grad_req: Any) -> str:
    if grad_req not in GRAD_REQS:
        raise ValueError(f"{function}: grad_req must be 'write', 'add' or 'null', got {grad_req!r}")
    return grad_req


def check_real(function: str, what: str, dtype: Any) -> None:
    """Refuse a complex ``dtype``: the imperative layer is real, as MXNet 1.x is.

    MXNet 1.x has no complex dtypes and no complex autograd, so an ``NDArray`` of complex
    values has no MXNet meaning (and NumPy would silently drop imaginary parts on the way
    into a float32 array).  Complex code is differentiated functionally instead.
    """
    if dtype is not None and np.dtype(dtype).kind == "c":
        raise TypeError(
            f"{function}: {what} is complex ({np.dtype(dtype)}), but adfun.nd and "
            f"adfun.autograd follow MXNet 1.x, which has no complex dtypes and no complex "
            f"autograd. Differentiate complex code with adfun.numpy and adfun.grad (see "
            f"the conventions page), or keep the real and imaginary parts as two real "
            f"arrays"
        )
