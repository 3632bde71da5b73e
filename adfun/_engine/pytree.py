"""Flatten and rebuild nested tuples, lists and dicts ("pytrees")."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class TreeDef:
    """The structure of a pytree: its container types, dict keys and number of leaves.

    ``kind`` is ``"leaf"``, ``"tuple"``, ``"list"`` or ``"dict"``; for a dict ``keys`` holds
    the keys in their original order.  Tree definitions compare and hash structurally.
    """

    kind: str
    children: tuple = ()
    keys: tuple = ()
    num_leaves: int = 1

    def __str__(self) -> str:
        if self.kind == "leaf":
            return "*"
        inner = [str(child) for child in self.children]
        if self.kind == "dict":
            return "{" + ", ".join(f"{key!r}: {text}" for key, text in zip(self.keys, inner)) + "}"
        if self.kind == "list":
            return "[" + ", ".join(inner) + "]"
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"


LEAF = TreeDef("leaf")
#: The structures of flat tuples of up to 7 leaves, by length.
_FLAT_TUPLES = tuple(TreeDef("tuple", (LEAF,) * count, (), count) for count in range(8))


def tree_flatten(tree: Any) -> tuple[list, TreeDef]:
    """Return the leaves of ``tree`` (depth first, dicts in key order) and its structure."""
    # Fast paths for the commonest trees, a leaf and a flat tuple of leaves: every
    # transform call flattens a few of them.
    kind = type(tree)
    if kind is not tuple and kind is not list and kind is not dict:
        return [tree], LEAF
    if kind is tuple and len(tree) < 8:
        for item in tree:
            item_kind = type(item)
            if item_kind is tuple or item_kind is list or item_kind is dict:
                break
        else:
            return list(tree), _FLAT_TUPLES[len(tree)]
    leaves: list = []
    # Iterative, so deeply nested containers cannot overflow the stack: build each
    # TreeDef after its children, using an explicit stack of pending containers.
    stack: list = [(tree, None)]
    results: list = []
    while stack:
        item, pending = stack.pop()
        if pending is not None:
            kind, keys, count = pending
            children = tuple(results[len(results) - count :]) if count else ()
            del results[len(results) - count :]
            total = sum(child.num_leaves for child in children)
            results.append(TreeDef(kind, children, keys, total))
            continue
        kind = _container_kind(item)
        if kind is None:
            leaves.append(item)
            results.append(LEAF)
            continue
        if kind == "dict":
            keys = tuple(item.keys())
            children = [item[key] for key in keys]
        else:
            keys = ()
            children = list(item)
        stack.append((None, (kind, keys, len(children))))
        for child in reversed(children):
            stack.append((child, None))
    return leaves, results[0]


def _container_kind(item: Any) -> str | None:
    cls = type(item)
    if cls is tuple:
        return "tuple"
    if cls is list:
        return "list"
    if cls is dict:
        return "dict"
    return None


def tree_unflatten(treedef: TreeDef, leaves: Any) -> Any:
    """Rebuild a pytree of structure ``treedef`` from ``leaves`` (in flatten order)."""
    if treedef is LEAF:
        return next(iter(leaves))
    iterator = iter(leaves)
    return _build(treedef, iterator)


def _build(treedef: TreeDef, leaves: Any) -> Any:
    if treedef.kind == "leaf":
        return next(leaves)
    children = [_build(child, leaves) for child in treedef.children]
    if treedef.kind == "tuple":
        return tuple(children)
    if treedef.kind == "list":
        return children
    return dict(zip(treedef.keys, children))


def tree_map(fun: Any, tree: Any) -> Any:
    """Apply ``fun`` to every leaf of ``tree``, keeping its structure."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [fun(leaf) for leaf in leaves])


def leaf_paths(treedef: TreeDef, prefix: str = "") -> list[str]:
    """Readable paths (``[0]['w']``) of the leaves of ``treedef``, in flatten order."""
    if treedef is LEAF:
        return [prefix]
    paths: list[str] = []
    stack = [(treedef, prefix)]
    while stack:
        node, path = stack.pop()
        if node.kind == "leaf":
            paths.append(path)
            continue
        if node.kind == "dict":
            labels = [f"[{key!r}]" for key in node.keys]
        else:
            labels = [f"[{index}]" for index in range(len(node.children))]
        for child, label in reversed(list(zip(node.children, labels))):
            stack.append((child, path + label))
    return paths
