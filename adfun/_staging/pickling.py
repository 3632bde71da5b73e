"""Pickling and deep-copying a :class:`~adfun._engine.graph.Graph`: positions and references.

A pickled graph is plain data: one row per node with its parents as positions, and each
primitive as a reference a new process can resolve (its name in ``adfun.numpy``'s
registry, a module attribute, or a module-level :func:`adfun.primitive`).  The graph
reaches these functions through :data:`~adfun._engine.graph.GRAPH_HOOKS`.
"""

from __future__ import annotations

import copy
import importlib
import sys
from typing import Any

import attrs
import numpy as np

from adfun._custom import CustomPrimitive
from adfun._engine.graph import Graph
from adfun._engine.records import EMPTY_PARAMS, Node, Params, Primitive
from adfun._engine.trace import Tracer
from adfun.numpy._declare import REGISTRY


def reduce_graph(graph: Graph) -> tuple:
    """``graph.__reduce__``: the graph as a portable description (see the module)."""
    return (rebuild_graph, (portable(graph, by_reference=True),))


def copy_graph(graph: Graph, memo: dict) -> Graph:
    """``graph.__deepcopy__``: arrays are copied; primitives and parameters (immutable,
    hashable) are shared."""
    name, in_tree, out_tree, inputs, outputs, rows = portable(graph, by_reference=False)
    rows = tuple(
        (
            primitive,
            parents,
            argnums,
            copy.deepcopy(args, memo),
            shared,
            params,
            copy.deepcopy(value, memo),
        )
        for primitive, parents, argnums, args, shared, params, value in rows
    )
    return rebuild_graph((name, in_tree, out_tree, inputs, outputs, rows))


#: ``id(primitive) -> (module, attribute, via .primitive, primitive)`` for primitives reachable from
#: the globals of adfun's modules; refreshed when a primitive is missing.
_LOCATIONS: dict[int, tuple] = {}


def portable(graph: Graph, by_reference: bool) -> tuple:
    """``graph`` as plain data: one row per node, parents and inputs as positions.

    Each row is ``(primitive, parents, argnums, args, shared, params, value)``; an argument
    that is its parent's value is stored once (``shared`` marks it, ``args`` holds
    ``None`` there).  With ``by_reference`` the primitive is a reference (see
    :func:`_primitive_reference`), else the record itself.
    """
    index = {id(node): position for position, node in enumerate(graph.nodes)}
    references: dict[int, Any] = {}
    rows = []
    for node in graph.nodes:
        parents = node.parents
        args = list(node.args)
        shared = []
        for parent, argnum in zip(parents, node.argnums, strict=True):
            same = args[argnum] is parent.value
            shared.append(same)
            if same:
                args[argnum] = None
        if type(node.value) is Tracer or any(type(arg) is Tracer for arg in args):
            raise TypeError(
                f"cannot pickle or copy Graph {graph.name}: it was traced inside another "
                f"transform, so its values are still traced; trace it on plain values"
            )
        primitive = node.primitive
        if by_reference:
            reference = references.get(id(primitive))
            if reference is None:
                reference = references[id(primitive)] = _primitive_reference(primitive, graph)
            primitive = reference
        rows.append(
            (
                primitive,
                tuple(index[id(parent)] for parent in parents),
                node.argnums,
                tuple(args),
                tuple(shared),
                {key: _encode_parameter(value) for key, value in node.params.items()}
                if by_reference
                else dict(node.params),
                node.value,
            )
        )
    return (
        graph.name,
        graph.in_tree,
        graph.out_tree,
        tuple(index[id(node)] for node in graph.inputs),
        tuple(index[id(node)] for node in graph.outputs),
        tuple(rows),
    )


def rebuild_graph(state: tuple) -> Graph:
    """The inverse of :func:`portable` (the function pickles call)."""
    name, in_tree, out_tree, inputs, outputs, rows = state
    nodes: list[Node] = []
    for primitive, parent_positions, argnums, args, shared, params, value in rows:
        if not isinstance(primitive, Primitive):
            primitive = _resolve_primitive(primitive)
        parents = tuple(nodes[position] for position in parent_positions)
        args = list(args)
        for parent, argnum, same in zip(parents, argnums, shared, strict=True):
            if same:
                args[argnum] = parent.value
        for position, arg in enumerate(args):
            if position not in argnums and isinstance(arg, np.ndarray) and arg.flags.writeable:
                arg.flags.writeable = False  # constants stay read-only snapshots
        params = {key: _decode_parameter(item) for key, item in params.items()}
        nodes.append(
            Node(
                primitive,
                parents,
                argnums,
                tuple(args),
                Params(params) if params else EMPTY_PARAMS,
                value,
            )
        )
    return Graph(
        tuple(nodes[position] for position in inputs),
        tuple(nodes[position] for position in outputs),
        tuple(nodes),
        in_tree=in_tree,
        out_tree=out_tree,
        name=name,
    )


def _primitive_reference(primitive: Primitive, graph: Graph) -> tuple:
    """How a pickle names ``primitive``: registry name, module attribute or custom function.

    Raises ``TypeError`` for a primitive that a new process could not find again.
    """
    name = primitive.name
    module = _registry_module(primitive)
    registered = REGISTRY.get(name)
    if registered is not None and registered.primitive is primitive:
        return ("registry", name, module)
    location = _LOCATIONS.get(id(primitive)) or _find_by_name(primitive)
    if location is not None:
        return ("attribute", *location[:3])
    owner = _custom_owner(primitive)
    if owner is None:
        raise TypeError(
            f"cannot pickle Graph {graph.name}: its primitive '{name}' is neither registered "
            f"in adfun.numpy nor a module-level adfun.primitive, so a new process could not "
            f"find it again (define custom primitives at module level; ad.jit or ad.trace "
            f"the function again after loading instead of pickling the graph)"
        )
    if owner.primitive is not primitive:
        raise TypeError(
            f"cannot pickle Graph {graph.name}: the rules of custom primitive '{name}' were "
            f"redefined (defvjp/defjvp) after the graph was traced, and a pickle refers to "
            f"the primitive's current rules; trace the graph again"
        )
    return ("custom", owner)


@attrs.frozen
class _RegisteredFunction:
    """A pickled stand-in for an ``adfun.numpy`` function held in a node's parameters
    (e.g. the function of a ``checkpoint``): it is found again by its registry name."""

    name: str
    module: str


def _encode_parameter(value: Any) -> Any:
    if callable(value) and not isinstance(value, type):
        inner = getattr(value, "primitive", None)
        if isinstance(inner, Primitive) and REGISTRY.get(inner.name) is value:
            return _RegisteredFunction(inner.name, _registry_module(inner))
    return value


def _decode_parameter(value: Any) -> Any:
    if type(value) is _RegisteredFunction:
        importlib.import_module(value.module)
        return REGISTRY[value.name]
    return value


def _registry_module(primitive: Primitive) -> str:
    """A module whose import registers ``primitive`` (found among adfun's loaded modules)."""
    location = _LOCATIONS.get(id(primitive))
    if location is None or location[3] is not primitive:
        _LOCATIONS.clear()
        _LOCATIONS.update(_scan_locations())
        location = _LOCATIONS.get(id(primitive))
    return location[0] if location is not None else "adfun.numpy"


def _scan_locations() -> dict:
    """Where each primitive reachable from adfun's module globals lives."""
    found: dict[int, tuple] = {}
    modules = sorted(
        (name for name in list(sys.modules) if name == "adfun" or name.startswith("adfun.")),
        key=lambda name: (sum(part.startswith("_") for part in name.split(".")), name),
    )
    for module_name in modules:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if isinstance(value, Primitive):
                found.setdefault(id(value), (module_name, attribute, False, value))
            elif callable(value) and not isinstance(value, (type, CustomPrimitive)):
                inner = getattr(value, "primitive", None)
                if isinstance(inner, Primitive):
                    found.setdefault(id(inner), (module_name, attribute, True, inner))
    return found


def _find_by_name(primitive: Primitive) -> tuple | None:
    """Where ``primitive`` is found as ``module.<its name>.primitive`` (also through a
    module's ``__getattr__``, as ``adfun.numpy`` serves most of NumPy's namespace)."""
    modules = sorted(
        name for name in list(sys.modules) if name == "adfun" or name.startswith("adfun.")
    )
    for module_name in modules:
        found = _attribute(sys.modules.get(module_name), primitive.name)
        if getattr(found, "primitive", None) is primitive:
            location = (module_name, primitive.name, True, primitive)
            _LOCATIONS[id(primitive)] = location
            return location
    return None


def _attribute(target: Any, path: str) -> Any:
    """``target.a.b`` for the dotted ``path`` ``"a.b"``, or ``None``."""
    for part in path.split("."):
        try:
            target = getattr(target, part, None)
        except Exception:  # a module __getattr__ may raise anything for an unknown name
            return None
        if target is None:
            return None
    return target


def _custom_owner(primitive: Primitive) -> CustomPrimitive | None:
    """The module-level custom primitive whose record ``primitive`` is, or ``None``."""
    fun = primitive.impl
    module = sys.modules.get(getattr(fun, "__module__", None) or "")
    qualname = getattr(fun, "__qualname__", "")
    if module is None or "<locals>" in qualname:
        return None
    target: Any = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if isinstance(target, CustomPrimitive) and target.fun is fun:
        return target
    return None


def _resolve_primitive(reference: tuple) -> Primitive:
    """The primitive a pickled reference names, in this process."""
    kind = reference[0]
    if kind == "custom":
        return reference[1].primitive
    module = importlib.import_module(reference[1] if kind == "attribute" else reference[2])
    if kind == "registry":
        found = REGISTRY.get(reference[1])
        if found is not None:
            return found.primitive
    else:
        found = _attribute(module, reference[2])
        if found is not None and reference[3]:
            found = getattr(found, "primitive", None)
        if isinstance(found, Primitive):
            return found
    raise TypeError(
        f"cannot unpickle a Graph: its primitive {reference[1]!r} does not exist in this "
        f"version of adfun; trace the function again"
    )
