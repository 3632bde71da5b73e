"""The forward pass: tangents pushed through the nodes in topological order."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.errors import no_rule_message
from adfun._engine.records import OPERATIONS, Joint, Node

#: Value types whose shape is always ``()``: a tangent of one of them for a value of one
#: of them needs no shape check.
_SCALAR_TYPES = frozenset(
    (
        np.float64,
        np.float32,
        np.float16,
        np.longdouble,
        np.complex128,
        np.complex64,
        np.clongdouble,
        float,
        complex,
    )
)


def forward(order: list[Node], tangents: dict[Node, Any]) -> dict[Node, Any]:
    """Extend ``tangents`` (input node -> tangent) to every node of ``order`` it reaches.

    The dictionary is updated in place and returned.  Nodes reached by no tangent get
    none (a symbolic zero), so a tangent given for one input only costs the nodes that
    depend on it.  Running the pass again over the same ``order`` with other tangents
    reuses one trace for many directions (``jacfwd``).
    """
    add = OPERATIONS["add"]
    broadcast_to = OPERATIONS["broadcast_to"]
    get = tangents.get
    for node in order:
        parents = node.parents
        if not parents or node in tangents:
            continue
        primitive = node.primitive
        if primitive.nondiff:
            continue
        rules = primitive.jvps
        if type(rules) is tuple and len(parents) == 1:
            # Almost every node has one traced argument with a rule of its own: the loop
            # of _sum_contributions, inlined (it is most of the pass's cost per node).
            tangent = get(parents[0])
            if tangent is None:
                continue
            try:
                rule = rules[node.argnums[0]]
            except IndexError:
                rule = None
            if rule is None:  # an error, or no contribution from a non-float argument
                total = _sum_contributions(node, rules, tangents, add)
            elif node.params:
                total = rule(tangent, node.value, *node.args, **node.params)
            else:
                total = rule(tangent, node.value, *node.args)
        elif type(rules) is Joint:
            incoming = [get(parent) for parent in parents]
            if all(tangent is None for tangent in incoming):
                continue
            total = rules.rule(node.argnums, incoming, node.value, *node.args, **node.params)
        else:
            total = _sum_contributions(node, rules, tangents, add)
        if total is not None:
            value = node.value
            if type(total) not in _SCALAR_TYPES or type(value) not in _SCALAR_TYPES:
                shape = getattr(value, "shape", ())
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
