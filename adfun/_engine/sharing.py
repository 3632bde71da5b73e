"""Forward values shared with the derivative rules of one reverse pass.

The reverse rule of ``sin`` computes ``cos(x)`` and that of ``cos`` computes ``sin(x)``.
When the traced function computed both, the forward pass already holds them: on large
arrays, recomputing them is most of the gradient's cost.  During a reverse pass over a
graph nobody else holds (``grad``, ``value_and_grad``, ``elementwise_grad``: the passes
with ``consume=True``), an elementwise function of ``adfun.numpy`` called by a rule on a
large plain array ``x`` asks :func:`shared_value` first: if a node of the graph applied
the same primitive to the very same ``x`` (the same object, so the same values), its
value is returned, as a read-only view, instead of being computed again.

Three rules keep this safe and cheap:

* **Nothing a user holds is shared.**  Only passes that consume their graph share, and
  the values of such a graph never leave the transform.
* **A shared value is never written into.**  It is handed out as a read-only view, and
  the in-place fast paths of the rules (:mod:`adfun.numpy._fast`) write only into
  writeable arrays.
* **Nothing outlives the pass.**  The memo (:class:`Sharing`) is reachable only from a
  context variable that the pass resets when it ends; it refers to nodes weakly, and
  keeps a value alive only where a node not yet reached applies another primitive to
  the same argument (``cos(x)`` while ``sin(x)`` waits: the pass frees each node behind
  it).

Small arrays never get here: the lookup starts at :data:`MIN_SIZE` elements, on a path
the 0-d values of scalar code do not take, so per-operation tracing costs are unchanged.
"""

from __future__ import annotations

import contextvars
from typing import Any
from weakref import ref

import numpy as np

#: The size (in elements) from which a rule's elementwise result is looked up among the
#: forward values: below it, computing is cheaper than looking.
MIN_SIZE = 4096

_ndarray = np.ndarray

#: The memo of the running reverse pass that shares (``None`` elsewhere).
current_sharing: contextvars.ContextVar[Sharing | None] = contextvars.ContextVar(
    "adfun_shared_values", default=None
)


class Sharing:
    """The forward values of one reverse pass, found for its rules on demand.

    The pass walks ``order`` (the trace's creation order) backwards and empties it as it
    goes.  Nodes are indexed lazily, by a scan from the end of what is left of ``order``
    down to the node that created the argument asked about: every node applied to that
    argument lies between the two.  Each node is scanned at most once per pass, and one
    lookup scans at most ``max(256, x.size // 64)`` nodes (the scan's cost stays below the
    elementwise work of the rule that asked).

    Attributes
    ----------
    order : list of Node
        The creation order the pass consumes.
    position : int
        ``order[position:]`` has been scanned (or consumed before any scan).
    found : dict
        ``id(argument) -> [(position, primitive, weakref(node)), ...]`` for the scanned
        nodes of one positional argument and no parameters.
    creators : set
        ``id`` of the values of the scanned nodes (whose creator needs no further scan).
    kept : dict
        ``(primitive, id(argument)) -> (argument, value)``: values of nodes the pass has
        passed, kept for the nodes still to come that apply another primitive to the
        same argument.
    """

    __slots__ = ("order", "position", "found", "creators", "kept", "__weakref__")

    def __init__(self, order: list) -> None:
        self.order = order
        self.position = len(order)
        self.found: dict[int, list] = {}
        self.creators: set[int] = set()
        self.kept: dict[tuple, tuple] = {}

    def _scan(self, x: np.ndarray) -> None:
        """Index the nodes from the end of the unscanned part down to the creator of ``x``."""
        order = self.order
        position = min(self.position, len(order))
        stop = max(position - max(256, x.size >> 6), 0)
        found = self.found
        creators = self.creators
        while position > stop:
            position -= 1
            node = order[position]
            value = node.value
            if type(value) is _ndarray:
                creators.add(id(value))
            args = node.args
            if len(args) == 1 and not node.params and type(args[0]) is _ndarray:
                key = id(args[0])
                entries = found.get(key)
                entry = (position, node.primitive, ref(node))
                if entries is None:
                    found[key] = [entry]
                else:
                    entries.append(entry)
            if value is x:
                break
        self.position = position

    def lookup(self, primitive: Any, x: np.ndarray) -> np.ndarray | None:
        """``primitive(x)`` as a node of the pass computed it (read-only), or ``None``."""
        kept = self.kept.get((primitive, id(x)))
        if kept is not None and kept[0] is x:
            return read_only(kept[1])
        if id(x) not in self.creators and self.position > 0:
            self._scan(x)
        for _, applied, reference in self.found.get(id(x), ()):
            if applied is primitive:
                node = reference()
                if node is not None and node.args[0] is x and type(node.value) is _ndarray:
                    return read_only(node.value)
        return None

    def offer(self, primitive: Any, x: np.ndarray, value: np.ndarray) -> None:
        """Keep ``value = primitive(x)`` (of the node being reversed) if a node still to come
        applies another primitive to ``x``: its rule may ask for ``value``."""
        if id(x) not in self.creators and self.position > 0:
            self._scan(x)
        remaining = len(self.order)
        for position, applied, reference in self.found.get(id(x), ()):
            if position < remaining and applied is not primitive:
                node = reference()
                if node is not None and node.args[0] is x:
                    self.kept[(primitive, id(x))] = (x, value)
                    return


def read_only(value: np.ndarray) -> np.ndarray:
    """``value`` itself if it is read-only, else a read-only view of it."""
    if not value.flags.writeable:
        return value
    view = value.view()
    view.flags.writeable = False
    return view


def shared_value(primitive: Any, x: np.ndarray) -> np.ndarray | None:
    """``primitive(x)`` from the forward pass, read-only, where the running reverse pass
    holds it; ``None`` otherwise (outside a sharing pass, or not computed there).

    Called by the elementwise functions of ``adfun.numpy`` on plain arrays of at least
    :data:`MIN_SIZE` elements, with no keyword arguments.
    """
    sharing = current_sharing.get()
    if sharing is None:
        return None
    return sharing.lookup(primitive, x)


def offer(primitive: Any, x: Any, value: Any) -> None:
    """Tell the running reverse pass that the node ``primitive(x) = value`` is being
    reversed; it keeps ``value`` where a node still to come may ask for it.

    Called by the elementwise reverse rules on array results (a no-op on small ones and
    outside a sharing pass).
    """
    if (
        type(value) is _ndarray
        and type(x) is _ndarray
        and value.size >= MIN_SIZE
        and x.size >= MIN_SIZE
    ):
        sharing = current_sharing.get()
        if sharing is not None:
            sharing.offer(primitive, x, value)
