"""Simplify a traced :class:`~adfun._engine.graph.Graph` before it is staged by ``ad.jit``.

One pass over the nodes in topological order rebuilds the graph with:

* **constant folding** - a node none of whose parents depends on a graph input is
  replaced by a constant holding the value it had while tracing (the program is pure, so
  that value is the same on every call); arguments that became constants are moved from
  the node's parents into its recorded arguments;
* **algebraic identities** - ``x * 1`` and ``x / 1`` become ``x`` when that changes
  neither the shape, the dtype nor the type of the value (the backward pass multiplies
  by a seed of ones); negations are absorbed (``x + (-y)`` is ``x - y``, ``x - (-y)``
  is ``x + y``, ``-(-y)`` is ``y``), which the rules of ``cos``, ``exp(-x)``... produce;
* **common-subexpression elimination** - nodes with the same primitive, the same
  (already simplified) parents in the same argument positions, equal constants and
  equal parameters are merged, so the ``cos(x)`` of the forward pass serves the VJP of
  ``sin`` too;
* **dead-code elimination** - the result is rebuilt from the outputs, so nodes no output
  needs are dropped.

Every primitive is assumed to be a pure function of its arguments and parameters, which
is what the engine assumes when it differentiates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.graph import Graph, freeze
from adfun._engine.records import CONSTANT, EMPTY_PARAMS, INPUT, OPERATIONS, Node, constant_node

#: Arrays larger than this are compared by identity, not by content, when looking for
#: common subexpressions (hashing megabytes of constants would cost more than it saves).
_HASHED_CONSTANT_SIZE = 4096

_SCALING = (np.multiply, np.true_divide)


def _constant_key(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.size > _HASHED_CONSTANT_SIZE:
        return ("array", id(value))
    return freeze(value)


def _is_one(value: Any) -> bool:
    """Whether the constant ``value`` is a number or array that is exactly one everywhere."""
    kind = type(value)
    if kind is float or kind is int:
        return value == 1
    if not isinstance(value, (np.ndarray, np.generic)):
        return False
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        return False
    # Large arrays too (once, while staging): the VJP of ``sum`` seeds the backward pass
    # with ones of the input's shape, and a multiplication by them is a full pass.
    return bool(np.all(array == 1))


def _identity_operand(node: Node, parents: tuple) -> Node | None:
    """The parent ``node`` equals when it multiplies (or divides) it by one, else None."""
    primitive = node.primitive
    if primitive.impl not in _SCALING or node.params or len(parents) != 1:
        return None
    (parent,), (argnum,) = parents, node.argnums
    if primitive.impl is np.true_divide and argnum != 0:
        return None
    if not _is_one(node.args[1 - argnum]):
        return None
    value, result = parent.value, node.value
    if (
        type(value) is not type(result)
        or np.shape(value) != np.shape(result)
        or np.result_type(value) != np.result_type(result)
    ):
        return None
    return parent


def _negated(node: Node) -> Node | None:
    """The operand of ``node`` if it is ``negative(operand)``, else None."""
    if (
        node.primitive.impl is np.negative
        and not node.params
        and len(node.args) == 1
        and node.argnums == (0,)
    ):
        return node.parents[0]
    return None


def _binary(primitive: Any, first: Any, second: Any, value: Any) -> Node:
    """A node applying ``primitive`` to two operands, each a node or a constant."""
    parents, argnums, args = [], [], []
    for position, operand in enumerate((first, second)):
        if isinstance(operand, Node):
            parents.append(operand)
            argnums.append(position)
            args.append(operand.value)
        else:
            args.append(operand)
    return Node(primitive, tuple(parents), tuple(argnums), tuple(args), EMPTY_PARAMS, value)


def _absorb_negation(node: Node) -> Node | None:
    """``x + (-y)`` as ``x - y``, ``x - (-y)`` as ``x + y``, ``-(-y)`` as ``y``: one pass
    over the data fewer, and the same IEEE result (negation is exact).

    Returns the rewritten node, the operand of a double negation, or None.
    """
    impl = node.primitive.impl
    if node.params:
        return None
    if impl is np.negative:
        inner = _negated(node.parents[0]) if node.argnums == (0,) else None
        if (
            inner is not None
            and type(inner.value) is type(node.value)
            and np.shape(inner.value) == np.shape(node.value)
            and np.result_type(inner.value) == np.result_type(node.value)
        ):
            return inner
        return None
    if (impl is not np.add and impl is not np.subtract) or len(node.args) != 2:
        return None
    operands: list = list(node.args)
    for parent, argnum in zip(node.parents, node.argnums):
        operands[argnum] = parent
    for parent, argnum in zip(node.parents, node.argnums):
        inner = _negated(parent)
        if inner is None:
            continue
        other = operands[1 - argnum]
        if impl is np.add:
            target = _primitive("subtract", np.subtract)
            first, second = other, inner  # x + (-y) and (-y) + x are both x - y
        elif argnum == 1:
            target = _primitive("add", np.add)
            first, second = other, inner
        else:
            continue
        if target is None:
            return None
        return _binary(target, first, second, node.value)
    return None


def _primitive(name: str, impl: Any) -> Any:
    """The primitive ``adfun.numpy`` registered for ``name``, if it applies ``impl``."""
    primitive = getattr(OPERATIONS.get(name), "primitive", None)
    return primitive if getattr(primitive, "impl", None) is impl else None


def simplify(graph: Graph) -> Graph:
    """Return an equivalent graph with constants folded and duplicates and dead nodes removed.

    Parameters
    ----------
    graph : Graph
        A traced graph (from :func:`adfun.trace` or ``ad.jit``).

    Returns
    -------
    Graph
        A graph with the same inputs, outputs, pytree structures and name that computes
        the same values, usually with fewer nodes.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> from adfun._staging.simplify import simplify
    >>> graph = ad.trace(lambda x: anp.sin(x) + anp.sin(x))(1.0)
    >>> [node.primitive.name for node in simplify(graph).nodes]
    ['input', 'sin', 'add']
    """
    inputs = set(id(node) for node in graph.inputs)
    replacement: dict[int, Node] = {}
    seen: dict[Any, Node] = {}
    for node in graph.nodes:
        if id(node) in inputs:
            replacement[id(node)] = node
            continue
        if node.primitive is INPUT:  # an input of the trace the graph does not take
            replacement[id(node)] = node
            continue
        new = _rebuild(node, replacement)
        if new.primitive is not CONSTANT and new.parents:
            rewritten = _absorb_negation(new)
            if rewritten is not None and rewritten.primitive is not new.primitive:
                new = rewritten
            elif rewritten is not None:  # a double negation: the inner operand
                replacement[id(node)] = rewritten
                continue
            identity = _identity_operand(new, new.parents)
            if identity is not None:
                replacement[id(node)] = identity
                continue
        key = _key(new)
        if key is not None:
            existing = seen.get(key)
            if existing is not None:
                new = existing
            else:
                seen[key] = new
        replacement[id(node)] = new
    outputs = [replacement[id(node)] for node in graph.outputs]
    return Graph.build(
        graph.inputs, outputs, in_tree=graph.in_tree, out_tree=graph.out_tree, name=graph.name
    )


def _rebuild(node: Node, replacement: dict) -> Node:
    """``node`` over simplified parents; a constant if no parent depends on an input."""
    if node.primitive is CONSTANT:
        return node
    parents = tuple([replacement[id(parent)] for parent in node.parents])
    folded = [parent.primitive is CONSTANT for parent in parents]
    if True not in folded:
        if parents == node.parents:  # Node equality is identity
            return node
        return Node(node.primitive, parents, node.argnums, node.args, node.params, node.value)
    if all(folded):
        return constant_node(node.value)
    args = list(node.args)
    kept_parents, kept_argnums = [], []
    for parent, argnum, is_constant in zip(parents, node.argnums, folded):
        if is_constant:
            args[argnum] = parent.args[0]
        else:
            kept_parents.append(parent)
            kept_argnums.append(argnum)
    return Node(
        node.primitive,
        tuple(kept_parents),
        tuple(kept_argnums),
        tuple(args),
        node.params,
        node.value,
    )


def _key(node: Node) -> Any:
    """The structural key of ``node`` for common-subexpression elimination (None: unique)."""
    if node.primitive is CONSTANT:
        value = node.args[0]
        if isinstance(value, np.ndarray) and value.size > _HASHED_CONSTANT_SIZE:
            return None
        try:
            return (CONSTANT, freeze(value))
        except TypeError:
            return None
    argnums: tuple | str = node.argnums  # "commutative" below: either order
    constants = tuple(
        (position, _constant_key(arg))
        for position, arg in enumerate(node.args)
        if position not in argnums
    )
    params = node.params
    parents = tuple(id(parent) for parent in node.parents)
    if node.primitive.impl in _COMMUTATIVE and not params and len(node.args) == 2:
        # x * y and y * x are the same value (IEEE addition and multiplication commute,
        # broadcasting and type promotion too): one key for both orders.
        parents = tuple(sorted(parents))
        argnums = "commutative"
        constants = tuple(key for _, key in constants)
    try:
        key = (
            node.primitive,
            parents,
            argnums,
            constants,
            freeze(dict(params)) if params else (),
        )
        hash(key)
    except TypeError:
        return None
    return key


#: Implementations whose two operands may be swapped without changing the result.
_COMMUTATIVE = (np.add, np.multiply)
