"""Flatten and rebuild pytrees: nested containers with arrays and numbers at the leaves.

Containers are ``tuple``, ``list`` and ``dict`` (in insertion order), namedtuples,
``collections.OrderedDict`` and ``defaultdict``, dataclasses, attrs classes, and classes
registered with :func:`register_pytree_node`.  Everything else is a leaf.

``tree_flatten`` runs a few times in every transform call, so the commonest trees (a leaf,
a flat tuple of leaves) take a fast path: one set membership test per value against the
types already known to be leaves.  A type seen for the first time is classified once
(registered? namedtuple? dataclass? ...) and remembered.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Any, Callable

import attrs


@attrs.frozen
class TreeDef:
    """The structure of a pytree: its container types, keys and number of leaves.

    ``kind`` is ``"leaf"``, ``"tuple"``, ``"list"``, ``"dict"``, ``"namedtuple"``,
    ``"ordereddict"``, ``"defaultdict"``, ``"dataclass"``, ``"attrs"`` or ``"custom"`` (a
    class registered with :func:`adfun.register_pytree_node`).  ``keys`` holds the dict keys in
    their original order, or the field names of a namedtuple, dataclass or attrs class.
    ``meta`` holds what else rebuilding needs: the namedtuple class; the defaultdict's
    default factory; ``(cls, static fields)`` of a dataclass or attrs class; ``(cls,
    aux_data)`` of a registered class.  Tree definitions compare and hash structurally.
    """

    kind: str
    children: tuple = ()
    keys: tuple = ()
    num_leaves: int = 1
    meta: Any = None

    def __str__(self) -> str:
        return tree_text(self, ["*"] * self.num_leaves)


def _name(obj: Any) -> str:
    return getattr(obj, "__qualname__", None) or repr(obj)


LEAF = TreeDef("leaf")
#: The structures of flat tuples of up to 7 leaves, by length.
_FLAT_TUPLES = tuple(TreeDef("tuple", (LEAF,) * count, (), count) for count in range(8))

#: Types known to be leaves: the fast paths test membership here.  Filled as types are
#: first seen (at most ``_MAX_REMEMBERED`` of them, so classes made in a loop cannot grow
#: it without bound); a class registered later is taken out again.
_LEAF_TYPES: set = {float, int, complex, bool, str, bytes, type(None)}
_MAX_REMEMBERED = 4096


class _Node:
    """How to take apart and rebuild one container class.

    ``flatten(obj)`` returns ``(children, keys, meta)``; ``rebuild(treedef, children)``
    returns the container.  ``user_unflatten`` is a registered class's own function.
    """

    __slots__ = ("kind", "flatten", "rebuild", "user_unflatten")

    def __init__(
        self,
        kind: str,
        flatten: Callable,
        rebuild: Callable,
        user_unflatten: Callable | None = None,
    ) -> None:
        self.kind = kind
        self.flatten = flatten
        self.rebuild = rebuild
        self.user_unflatten = user_unflatten


#: Container classes other than tuple, list and dict, by class: registered ones and the
#: namedtuples, dataclasses and attrs classes met so far.
_NODES: dict = {}
#: Classes registered with ``register_pytree_node`` (registering one twice is an error).
_REGISTERED: set = set()


def tree_flatten(tree: Any) -> tuple[list, TreeDef]:
    """Return the leaves of ``tree`` (depth first, dicts in key order) and its structure."""
    # Fast paths for the commonest trees, a leaf and a flat tuple of leaves: every
    # transform call flattens a few of them.
    kind = type(tree)
    if kind in _LEAF_TYPES:
        return [tree], LEAF
    if kind is tuple and len(tree) < 8:
        for item in tree:
            if type(item) not in _LEAF_TYPES:
                break
        else:
            return list(tree), _FLAT_TUPLES[len(tree)]
    leaves: list = []
    # Iterative, so deeply nested containers cannot overflow the stack: one frame per
    # container being taken apart, (iterator over its children, their TreeDefs so far,
    # kind, keys, meta, number of leaves before it); the first frame holds the root.
    root: list = []
    frames: list = [(iter((tree,)), root, "", (), None, 0)]
    while frames:
        children, definitions, kind, keys, meta, start = frames[-1]
        for item in children:
            cls = type(item)
            if cls in _LEAF_TYPES:
                leaves.append(item)
                definitions.append(LEAF)
                continue
            frame: tuple[Any, list[TreeDef], str, tuple, Any, int]
            if cls is tuple:
                frame = (iter(item), [], "tuple", (), None, len(leaves))
            elif cls is list:
                frame = (iter(item), [], "list", (), None, len(leaves))
            elif cls is dict:
                item_keys = tuple(item)
                frame = (
                    iter([item[key] for key in item_keys]),
                    [],
                    "dict",
                    item_keys,
                    None,
                    len(leaves),
                )
            else:
                node = _NODES.get(cls) or _classify(cls)
                if node is None:
                    leaves.append(item)
                    definitions.append(LEAF)
                    continue
                item_children, item_keys, item_meta = node.flatten(item)
                frame = (iter(item_children), [], node.kind, item_keys, item_meta, len(leaves))
            frames.append(frame)
            break
        else:  # every child done: this container's TreeDef goes to its parent
            frames.pop()
            if frames:
                frames[-1][1].append(
                    TreeDef(kind, tuple(definitions), keys, len(leaves) - start, meta)
                )
    return leaves, root[0]


def tree_unflatten(treedef: TreeDef, leaves: Any) -> Any:
    """Rebuild a pytree of structure ``treedef`` from ``leaves`` (in flatten order)."""
    if treedef is LEAF:
        return next(iter(leaves))
    iterator = iter(leaves)
    # Iterative, like tree_flatten: one frame [node, next child, rebuilt children] per
    # container being rebuilt.
    frames: list[list[Any]] = [[treedef, 0, []]]
    while True:
        frame = frames[-1]
        node, index, built = frame
        if index < len(node.children):
            frame[1] = index + 1
            child = node.children[index]
            if child.kind == "leaf":
                built.append(next(iterator))
            else:
                frames.append([child, 0, []])
            continue
        frames.pop()
        kind = node.kind
        value: Any
        if kind == "tuple":
            value = tuple(built)
        elif kind == "list":
            value = built
        elif kind == "dict":
            value = dict(zip(node.keys, built))
        elif kind == "leaf":
            value = next(iterator)
        else:
            value = _REBUILD[kind](node, built)
        if not frames:
            return value
        frames[-1][2].append(value)


def tree_map(fun: Any, tree: Any) -> Any:
    """Apply ``fun`` to every leaf of ``tree``, keeping its structure."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [fun(leaf) for leaf in leaves])


def tree_text(treedef: TreeDef, leaves: list[str]) -> str:
    """``leaves`` (strings, in flatten order) written in the structure ``treedef``.

    ``tree_text(treedef, ["*"] * treedef.num_leaves)`` is ``str(treedef)``: ``(*, {'w': *})``,
    ``Pair(first=*, second=*)``, ``OrderedDict({'a': *})``.  Iterative, like
    :func:`tree_unflatten`.
    """
    iterator = iter(leaves)
    frames: list[list[Any]] = [[treedef, 0, []]]
    while True:
        frame = frames[-1]
        node, index, built = frame
        if index < len(node.children):
            frame[1] = index + 1
            child = node.children[index]
            if child.kind == "leaf":
                built.append(next(iterator))
            else:
                frames.append([child, 0, []])
            continue
        frames.pop()
        text = next(iterator) if node.kind == "leaf" else _container_text(node, built)
        if not frames:
            return text
        frames[-1][2].append(text)


def _container_text(node: TreeDef, inner: list[str]) -> str:
    kind = node.kind
    if kind == "list":
        return "[" + ", ".join(inner) + "]"
    if kind == "tuple":
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
    if kind in ("dict", "ordereddict", "defaultdict"):
        items = "{" + ", ".join(f"{key!r}: {text}" for key, text in zip(node.keys, inner)) + "}"
        if kind == "dict":
            return items
        if kind == "ordereddict":
            return f"OrderedDict({items})"
        return f"defaultdict({_name(node.meta)}, {items})"
    cls = node.meta if kind == "namedtuple" else node.meta[0]
    if kind == "custom":
        return f"{_name(cls)}(" + ", ".join(inner) + ")"
    fields = [f"{name}={text}" for name, text in zip(node.keys, inner)]
    if kind != "namedtuple":  # a dataclass's or attrs class's static fields
        fields += [f"{name}={value!r:.40}" for name, value in node.meta[1]]
    return f"{_name(cls)}(" + ", ".join(fields) + ")"


def leaf_paths(treedef: TreeDef, prefix: str = "") -> list[str]:
    """Readable paths of the leaves of ``treedef``, in flatten order.

    Sequence entries read ``[0]``, dict entries ``['w']``, and the fields of namedtuples,
    dataclasses and attrs classes ``.w``: ``argument 0.layers[1]['w']``.
    """
    if treedef is LEAF:
        return [prefix]
    paths: list[str] = []
    stack = [(treedef, prefix)]
    while stack:
        node, path = stack.pop()
        kind = node.kind
        if kind == "leaf":
            paths.append(path)
            continue
        if kind in ("dict", "ordereddict", "defaultdict"):
            labels = [f"[{key!r}]" for key in node.keys]
        elif kind in ("namedtuple", "dataclass", "attrs"):
            labels = [f".{name}" for name in node.keys]
        else:
            labels = [f"[{index}]" for index in range(len(node.children))]
        for child, label in reversed(list(zip(node.children, labels))):
            stack.append((child, path + label))
    return paths


# --- container classes other than tuple, list and dict -------------------------------------


def _classify(cls: type) -> _Node | None:
    """The container rules for ``cls``, or None for a leaf type (remembered either way)."""
    node = _NODES.get(cls)
    if node is not None:
        return node
    node = _default_node(cls)
    if node is None:
        if len(_LEAF_TYPES) < _MAX_REMEMBERED:
            _LEAF_TYPES.add(cls)
    elif len(_NODES) < _MAX_REMEMBERED:
        _NODES[cls] = node
    return node


def _default_node(cls: type) -> _Node | None:
    if issubclass(cls, tuple):
        fields = getattr(cls, "_fields", None)
        if isinstance(fields, tuple) and all(type(name) is str for name in fields):
            return _NAMEDTUPLE
        return None
    if cls is collections.OrderedDict:
        return _ORDEREDDICT
    if cls is collections.defaultdict:
        return _DEFAULTDICT
    module = getattr(cls, "__module__", None) or ""
    if module == "adfun" or module.startswith("adfun."):
        return None  # the engine's own records (nodes, graphs, tree definitions) are leaves
    if dataclasses.is_dataclass(cls):
        fields = [
            (field.name, bool(field.metadata.get("static"))) for field in dataclasses.fields(cls)
        ]
        return _fields_node("dataclass", cls, fields)
    if attrs.has(cls):
        fields = [(field.name, bool(field.metadata.get("static"))) for field in attrs.fields(cls)]
        return _fields_node("attrs", cls, fields)
    return None


def _flatten_namedtuple(obj: Any) -> tuple:
    return list(obj), type(obj)._fields, type(obj)


def _flatten_ordereddict(obj: Any) -> tuple:
    keys = tuple(obj.keys())
    return [obj[key] for key in keys], keys, None


def _flatten_defaultdict(obj: Any) -> tuple:
    keys = tuple(obj.keys())
    return [obj[key] for key in keys], keys, obj.default_factory


_NAMEDTUPLE = _Node(
    "namedtuple", _flatten_namedtuple, lambda treedef, children: treedef.meta._make(children)
)
_ORDEREDDICT = _Node(
    "ordereddict",
    _flatten_ordereddict,
    lambda treedef, children: collections.OrderedDict(zip(treedef.keys, children)),
)
_DEFAULTDICT = _Node(
    "defaultdict",
    _flatten_defaultdict,
    lambda treedef, children: collections.defaultdict(treedef.meta, zip(treedef.keys, children)),
)


def _fields_node(kind: str, cls: type, fields: list) -> _Node:
    """Rules for a dataclass or attrs class: every field is a child, except fields whose
    metadata says ``static=True``, which are part of the structure (like JAX's
    ``meta_fields`` and Equinox's ``field(static=True)``)."""
    children_names = tuple(name for name, static in fields if not static)
    static_names = tuple(name for name, static in fields if static)

    def flatten(obj: Any) -> tuple:
        children = [getattr(obj, name) for name in children_names]
        statics = tuple((name, getattr(obj, name)) for name in static_names)
        return children, children_names, (cls, statics)

    return _Node(kind, flatten, _rebuild_fields)


def _rebuild_fields(treedef: TreeDef, children: list) -> Any:
    # Without calling __init__: validators, converters and __post_init__ would see traced
    # values or gradients where they expect the user's parameters.
    cls, statics = treedef.meta
    obj = object.__new__(cls)
    for name, value in zip(treedef.keys, children):
        object.__setattr__(obj, name, value)
    for name, value in statics:
        object.__setattr__(obj, name, value)
    return obj


def _rebuild_custom(treedef: TreeDef, children: list) -> Any:
    cls, aux_data = treedef.meta
    return _NODES[cls].user_unflatten(aux_data, tuple(children))


_REBUILD = {
    "namedtuple": _NAMEDTUPLE.rebuild,
    "ordereddict": _ORDEREDDICT.rebuild,
    "defaultdict": _DEFAULTDICT.rebuild,
    "dataclass": _rebuild_fields,
    "attrs": _rebuild_fields,
    "custom": _rebuild_custom,
}

_BUILT_IN = (tuple, list, dict, collections.OrderedDict, collections.defaultdict, type(None))


def register_pytree_node(cls: type, flatten: Callable, unflatten: Callable) -> None:
    """Make instances of ``cls`` pytree containers, as JAX's function of the same name does.

    Every transform then looks inside them: their children are traced and differentiated,
    and gradients come back as instances of ``cls``.  Register a class once, when it is
    defined (registering the same class again is an error).

    Parameters
    ----------
    cls : type
        The container class.
    flatten : callable
        ``flatten(obj) -> (children, aux_data)``: the children (an iterable of pytrees,
        in a fixed order) and whatever else is needed to rebuild ``obj``.  ``aux_data`` is
        part of the tree's structure: it must be hashable and compare with ``==`` (``ad.jit``
        keys its cache on it).
    unflatten : callable
        ``unflatten(aux_data, children) -> obj``, with ``children`` a tuple in the order
        ``flatten`` gave.  It may receive traced values or gradients as children, so it
        should not validate or convert them.

    Raises
    ------
    TypeError
        If ``cls`` is not a class, or ``flatten`` or ``unflatten`` is not callable.
    ValueError
        If ``cls`` is a built-in pytree container or was registered before.

    Notes
    -----
    Namedtuples, ``collections.OrderedDict`` and ``defaultdict``, dataclasses and attrs
    classes are pytrees without registration (fields with ``metadata={"static": True}``
    are structure, not children); registering one of them replaces the default rules.
    The path of a child of a registered class reads ``[0]``, ``[1]``, ... in messages.

    Examples
    --------
    >>> import numpy as np
    >>> import adfun as ad
    >>> class Affine:
    ...     def __init__(self, weight, bias):
    ...         self.weight, self.bias = weight, bias
    >>> ad.register_pytree_node(
    ...     Affine,
    ...     lambda layer: ((layer.weight, layer.bias), None),
    ...     lambda aux_data, children: Affine(*children),
    ... )
    >>> g = ad.grad(lambda layer: layer.weight * 3.0 + layer.bias)(Affine(2.0, 1.0))
    >>> print(type(g).__name__, g.weight, g.bias)
    Affine 3.0 1.0
    """
    if not isinstance(cls, type):
        raise TypeError(
            f"register_pytree_node: cls must be a class, but got {type(cls).__name__} "
            f"({cls!r:.60}); pass the class itself, e.g. register_pytree_node(MyClass, ...)"
        )
    for argument, function in (("flatten", flatten), ("unflatten", unflatten)):
        if not callable(function):
            raise TypeError(
                f"register_pytree_node({cls.__qualname__}): {argument} must be a function, "
                f"but got {type(function).__name__} ({function!r:.60})"
            )
    if cls in _BUILT_IN:
        raise ValueError(
            f"register_pytree_node: {cls.__qualname__} is a built-in pytree container "
            f"already; it cannot be registered again"
        )
    if cls in _REGISTERED:
        raise ValueError(
            f"register_pytree_node: {cls.__qualname__} is registered already; register "
            f"each class once, where it is defined"
        )
    name = cls.__qualname__

    def flatten_node(obj: Any) -> tuple:
        result = flatten(obj)
        try:
            children, aux_data = result
            children = tuple(children)
        except (TypeError, ValueError):
            raise TypeError(
                f"register_pytree_node({name}): its flatten function must return a pair "
                f"(children, aux_data) with an iterable of children, but it returned "
                f"{result!r:.80}"
            ) from None
        return children, (), (cls, aux_data)

    _NODES[cls] = _Node("custom", flatten_node, _rebuild_custom, unflatten)
    _REGISTERED.add(cls)
    _LEAF_TYPES.discard(cls)
