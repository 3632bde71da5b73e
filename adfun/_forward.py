"""The forward pass: tangents pushed through the nodes in topological order."""

from __future__ import annotations

from typing import Any

from adfun._errors import no_rule_message
from adfun._records import OPERATIONS, Node


def forward(order: list[Node], tangents: dict[Node, Any]) -> dict[Node, Any]:
    """Extend ``tangents`` (input node -> tangent) to every node of ``order`` it reaches.

    Nodes reached by no tangent get none (a symbolic zero).
    """
    add = OPERATIONS["add"]
    broadcast_to = OPERATIONS["broadcast_to"]
    for node in order:
        parents = node.parents
        if not parents or node in tangents:
            continue
        primitive = node.primitive
        if primitive.nondiff:
            continue
        rules = primitive.jvps
        ans = node.value
        args = node.args
        params = node.params
        total = None
        for parent, argnum in zip(parents, node.argnums):
            tangent = tangents.get(parent)
            if tangent is None:
                continue
            rule = None if rules is None or argnum >= len(rules) else rules[argnum]
            if rule is None:
                if rules is None:
                    raise NotImplementedError(
                        f"primitive '{primitive.name}' has no forward-mode (JVP) rules, so "
                        f"forward mode (jvp, jacfwd, hessian, hvp) cannot go through it; "
                        f"define them with {primitive.name}.defjvp(...) or use reverse mode"
                    )
                if parent.dtype.kind in "fc":
                    raise NotImplementedError(no_rule_message(primitive.name, argnum, "fwd"))
                continue
            contribution = rule(tangent, ans, *args, **params)
            if contribution is None:
                continue
            total = contribution if total is None else add(total, contribution)
        if total is not None:
            shape = getattr(ans, "shape", ())
            if getattr(total, "shape", ()) != shape:
                total = broadcast_to(total, shape)
            tangents[node] = total
    return tangents
