"""The reverse pass: one loop over the nodes in reverse topological order."""

from __future__ import annotations

import contextvars
from typing import Any, Iterable, Iterator, Sequence, cast

import numpy as np

from adfun._engine.errors import no_rule_message
from adfun._engine.graph import toposort
from adfun._engine.records import OPERATIONS, Joint, Node
from adfun._engine.sharing import Sharing, current_sharing

_ndarray = np.ndarray
_add = np.add


def backward(
    seeds: Iterable[tuple[Node, Any]],
    inputs: Iterable[Node],
    order: Sequence[Node] | None = None,
    consume: bool = False,
) -> list[Any]:
    """Propagate output cotangents back to ``inputs``.

    Parameters
    ----------
    seeds : iterable of (Node, cotangent)
        The output nodes and their cotangents (repeated nodes are summed).
    inputs : iterable of Node
        The nodes whose cotangents are wanted.
    order : sequence of Node, optional
        A topological order containing every node the seeds depend on (a trace's
        creation order is one); computed from the seeds when omitted.
    consume : bool, optional
        Empty ``seeds`` (a list) and ``order`` (a list) while the pass runs, so that a
        graph nobody else holds is freed node by node behind the pass (its intermediate
        values with it) instead of at the end.

    Returns
    -------
    list
        One cotangent per input, ``None`` where no path reaches that input.
    """
    cotangents = _seeded(seeds)
    if order is None:
        order = toposort(list(cotangents))
    nodes: Iterable[Node]
    token: contextvars.Token | None
    if consume:  # the caller passes lists here (see the docstring)
        cast(list, seeds).clear()
        nodes = _drain(cast("list[Node]", order))
        # Nobody else holds this graph: its forward values may serve the rules.
        token = current_sharing.set(Sharing(cast("list[Node]", order)))
    else:
        nodes = reversed(order)
        # A pass nested in a sharing one (a checkpoint's) shares nothing.
        token = current_sharing.set(None) if current_sharing.get() is not None else None
    try:
        return _reverse(nodes, cotangents, inputs)
    finally:
        if token is not None:
            current_sharing.reset(token)


def _reverse(nodes: Iterable[Node], cotangents: dict, inputs: Iterable[Node]) -> list[Any]:
    """The loop of :func:`backward`: the nodes last to first, cotangents as they come."""
    add = OPERATIONS["add"]
    # id(node) -> id(the sum this loop made of its contributions), while nobody else has it
    owned: dict[int, int] = {}
    pop = cotangents.pop
    get = cotangents.get
    for node in nodes:
        parents = node.parents
        if not parents:
            continue
        g = pop(node, None)
        if g is None:
            continue
        primitive = node.primitive
        if primitive.nondiff:
            continue
        rules = primitive.vjps
        ans = node.value
        args = node.args
        params = node.params
        if type(rules) is Joint:
            # One call gives the cotangents of all traced arguments (e.g. a checkpoint).
            contributions = rules.rule(node.argnums, g, ans, *args, **params)
            for parent, contribution in zip(parents, contributions):
                if contribution is not None:
                    previous = get(parent)
                    cotangents[parent] = (
                        contribution if previous is None else add(previous, contribution)
                    )
            continue
        # Rules of one or two arguments and no parameters (most of NumPy) are called with
        # the arguments spelled out: a call through *args costs ~0.1 us more.
        arity = 0 if params else len(args)
        for parent, argnum in zip(parents, node.argnums):
            try:
                rule = rules[argnum]
            except IndexError:
                rule = None
            if rule is None:
                _refuse(primitive, parent, argnum)
                continue
            if arity == 2:
                contribution = rule(g, ans, args[0], args[1])
            elif arity == 1:
                contribution = rule(g, ans, args[0])
            elif params:
                contribution = rule(g, ans, *args, **params)
            else:
                contribution = rule(g, ans, *args)
            if contribution is None:
                continue
            previous = get(parent)
            if previous is None:
                cotangents[parent] = contribution
            elif type(previous) is _ndarray and type(contribution) is _ndarray:
                # what add(previous, contribution) computes for two arrays, without its
                # two calls and four type checks; into ``previous`` where the pass made
                # it (a sum of this loop nobody else has seen yet)
                if (
                    owned.get(id(parent)) == id(previous)
                    and previous.dtype == contribution.dtype
                    and previous.shape == contribution.shape
                ):
                    _add(previous, contribution, out=previous)
                else:
                    total = previous + contribution
                    cotangents[parent] = total
                    owned[id(parent)] = id(total)
            else:
                cotangents[parent] = add(previous, contribution)
    gradients = []  # (a loop: a list comprehension costs a function call)
    for node in inputs:
        gradients.append(get(node))
    return gradients


def _seeded(seeds: Iterable[tuple[Node, Any]]) -> dict[Node, Any]:
    """The cotangents of the seeds, summed per node (a function of its own, so that no
    local variable of :func:`backward` keeps an output node alive during the pass)."""
    add = OPERATIONS["add"]
    cotangents: dict[Node, Any] = {}
    for node, cotangent in seeds:
        previous = cotangents.get(node)
        cotangents[node] = cotangent if previous is None else add(previous, cotangent)
    return cotangents


def _drain(order: list[Node]) -> Iterator[Node]:
    """Yield the nodes of ``order`` last to first, removing each from the list."""
    pop = order.pop
    while order:
        yield pop()


def _refuse(primitive: Any, parent: Node, argnum: int) -> None:
    """A missing rule is an error only for arguments that carry a derivative."""
    if parent.dtype.kind in "fc":
        raise NotImplementedError(no_rule_message(primitive.name, argnum, "rev"))
