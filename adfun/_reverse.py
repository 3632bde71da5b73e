"""The reverse pass: one loop over the nodes in reverse topological order."""

from __future__ import annotations

from typing import Any, Iterable

from adfun._errors import no_rule_message
from adfun._graph import toposort
from adfun._records import OPERATIONS, Joint, Node


def backward(seeds: Iterable[tuple[Node, Any]], inputs: Iterable[Node]) -> list[Any]:
    """Propagate output cotangents back to ``inputs``.

    Parameters
    ----------
    seeds : iterable of (Node, cotangent)
        The output nodes and their cotangents (repeated nodes are summed).
    inputs : iterable of Node
        The nodes whose cotangents are wanted.

    Returns
    -------
    list
        One cotangent per input, ``None`` where no path reaches that input.
    """
    add = OPERATIONS["add"]
    cotangents: dict[Node, Any] = {}
    for node, cotangent in seeds:
        previous = cotangents.get(node)
        cotangents[node] = cotangent if previous is None else add(previous, cotangent)
    for node in reversed(toposort(list(cotangents))):
        parents = node.parents
        if not parents:
            continue
        g = cotangents.pop(node, None)
        if g is None:
            continue
        primitive = node.primitive
        if primitive.nondiff:
            continue
        rules = primitive.vjps
        ans = node.value
        args = node.args
        params = node.params
        joint = rules.rule(node.argnums, g, ans, *args, **params) if type(rules) is Joint else None
        for index, (parent, argnum) in enumerate(zip(parents, node.argnums)):
            if joint is not None:
                contribution = joint[index]
            else:
                rule = rules[argnum] if argnum < len(rules) else None
                if rule is None:
                    _refuse(primitive, parent, argnum)
                    continue
                contribution = rule(g, ans, *args, **params)
            if contribution is None:
                continue
            previous = cotangents.get(parent)
            cotangents[parent] = (
                contribution if previous is None else add(previous, contribution)
            )
    return [cotangents.get(node) for node in inputs]


def _refuse(primitive: Any, parent: Node, argnum: int) -> None:
    """A missing rule is an error only for arguments that carry a derivative."""
    if parent.dtype.kind in "fc":
        raise NotImplementedError(no_rule_message(primitive.name, argnum, "rev"))
