"""The forward pass: tangents pushed through the nodes in topological order."""

from __future__ import annotations

from typing import Any

from adfun._errors import no_rule_message
from adfun._records import OPERATIONS, Joint, Node


def forward(order: list[Node], tangents: dict[Node, Any]) -> dict[Node, Any]:
    """Extend ``tangents`` (input node -> tangent) to every node of ``order`` it reaches.

    The dictionary is updated in place and returned.  Nodes reached by no tangent get
    none (a symbolic zero), so a tangent given for one input only costs the nodes that
    depend on it.  Running the pass again over the same ``order`` with other tangents
    reuses one trace for many directions (``jacfwd``).
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
        if type(rules) is Joint:
            incoming = [tangents.get(parent) for parent in parents]
            if all(tangent is None for tangent in incoming):
                continue
            total = rules.rule(node.argnums, incoming, node.value, *node.args, **node.params)
        else:
            total = _sum_contributions(node, rules, tangents, add)
        if total is not None:
            shape = getattr(node.value, "shape", ())
            if getattr(total, "shape", ()) != shape:
                total = broadcast_to(total, shape)
            tangents[node] = total
    return tangents


def _sum_contributions(node: Node, rules: Any, tangents: dict, add: Any) -> Any:
    """The output tangent of ``node``: the sum of its per-argument JVP rules."""
    primitive = node.primitive
    ans = node.value
    args = node.args
    params = node.params
    total = None
    for parent, argnum in zip(node.parents, node.argnums):
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
    return total
