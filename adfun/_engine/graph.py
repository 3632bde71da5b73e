"""The explicit expression DAG: topological order and the immutable ``Graph`` record."""

from __future__ import annotations

import copy
import importlib
import sys
from typing import Any, Iterable

import attrs
import numpy as np

from adfun._custom import CustomPrimitive
from adfun._engine.records import EMPTY_PARAMS, Node, Params, Primitive
from adfun._engine.trace import Tracer


def toposort(outputs: Iterable[Node]) -> list[Node]:
    """All nodes that ``outputs`` depend on, parents before children (iterative DFS)."""
    order: list[Node] = []
    visited: set[int] = set()
    for root in outputs:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(root.parents))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if id(parent) not in visited:
                    visited.add(id(parent))
                    stack.append((parent, iter(parent.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


_SCALARS = (bool, int, str, bytes, type(None))


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a constant argument, equal exactly for equal constants.

    Floats are keyed by their bit pattern (so ``nan`` equals ``nan`` and ``-0.0`` differs
    from ``0.0``); arrays by type, shape, dtype and bytes.  Objects of unknown types are
    keyed by identity, so two graphs are never called equal on a guess.
    """
    kind = type(value)
    if kind in _SCALARS:
        return (kind.__name__, value)
    if kind is float:
        return ("float", value.hex())
    if kind is complex:
        return ("complex", value.real.hex(), value.imag.hex())
    if isinstance(value, (np.ndarray, np.generic)):
        return (kind.__name__, value.shape, value.dtype.str, value.tobytes())
    if kind is tuple or kind is list:
        return (kind.__name__, tuple(_freeze(item) for item in value))
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: repr(item[0]))
        return ("dict", tuple((key, _freeze(item)) for key, item in items))
    if kind is slice:
        return ("slice", _freeze(value.start), _freeze(value.stop), _freeze(value.step))
    if value is Ellipsis:
        return ("ellipsis",)
    if isinstance(value, np.dtype):
        return ("dtype", value.str)
    if isinstance(value, type):
        return ("type", value.__module__, value.__qualname__)
    if kind.__eq__ is not object.__eq__ and kind.__hash__ is not None:
        # A value type that defines its own equality (e.g. a node parameter record).
        return ("value", kind.__module__, kind.__qualname__, value)
    return ("object", id(value))


def _frozen_constant(value: Any, copies: dict) -> Any:
    """``value``, or a read-only copy of it if it is an array that could still change.

    ``copies`` maps ``id(array)`` to its copy, so an array used twice is copied once.
    """
    if isinstance(value, np.ndarray):
        if value.flags.writeable or value.base is not None:
            copy = copies.get(id(value))
            if copy is None:
                copy = _frozen_view(value, copies)
                if copy is None:
                    copy = value.copy()
                    copy.flags.writeable = False
                copies[id(value)] = copy
            return copy
        return value
    kind = type(value)
    if kind is tuple or kind is list:
        items = [_frozen_constant(item, copies) for item in value]
        if any(new is not old for new, old in zip(items, value)):
            return kind(items)
    return value


def _frozen_view(value: np.ndarray, copies: dict) -> np.ndarray | None:
    """A read-only view into the frozen copy of ``value``'s base, for a view that spans
    its whole base (a transpose, a reshape, a reversal), or ``None``.

    Sharing the base keeps a constant and its transpose (as in ``A @ x`` and the
    ``A.T @ g`` of its gradient) one buffer, as NumPy has them: two separate copies of a
    large matrix double the memory a staged program streams through the caches.
    """
    base = value.base
    if (type(base) is not np.ndarray or base.base is not None
            or not base.flags.c_contiguous or base.nbytes != value.nbytes):
        return None
    frozen_base = _frozen_constant(base, copies)
    offset = value.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    view = np.ndarray(value.shape, value.dtype, buffer=frozen_base, offset=offset,
                      strides=value.strides)
    view.flags.writeable = False
    return view


def _snapshot(order: list) -> tuple[list, dict]:
    """The nodes of ``order`` with array constants frozen (read-only private copies).

    A node whose constants had to be copied, or whose parents were replaced, is rebuilt;
    so a graph never sees later in-place changes of arrays the traced function captured.
    Returns the nodes and a map ``id(old node) -> new node``.
    """
    replaced: dict[int, Node] = {}
    copies: dict[int, Any] = {}
    nodes = []
    for node in order:
        args = node.args
        argnums = node.argnums
        new_args = None
        if len(args) != len(argnums):
            for position, arg in enumerate(args):
                if position in argnums:
                    continue
                frozen = _frozen_constant(arg, copies)
                if frozen is not arg:
                    if new_args is None:
                        new_args = list(args)
                    new_args[position] = frozen
        parents = node.parents
        if replaced and any(id(parent) in replaced for parent in parents):
            parents = tuple(replaced.get(id(parent), parent) for parent in parents)
        if new_args is not None or parents is not node.parents:
            new = Node(node.primitive, parents, argnums,
                       args if new_args is None else tuple(new_args), node.params, node.value)
            replaced[id(node)] = new
            node = new
        nodes.append(node)
    return nodes, replaced


@attrs.frozen(eq=False)
class Graph:
    """A traced program: the immutable expression DAG of one call.

    Build one with :func:`adfun.trace`.  A graph is a value: it cannot be changed, it
    compares and hashes by structure (the same primitives, in the same order, wired the
    same way, with equal constants, parameters, shapes and dtypes), and it can be called
    like the function it was traced from, on new arguments of the same shapes and dtypes.
    Every transform accepts it in place of a function.

    Attributes
    ----------
    inputs : tuple of Node
        The graph's input nodes, one per flattened argument leaf.
    outputs : tuple of Node
        The nodes of the flattened outputs.
    nodes : tuple of Node
        Every node the outputs depend on, in topological order (inputs first).
    in_tree : TreeDef or None
        The pytree structure of the arguments.
    out_tree : TreeDef or None
        The pytree structure of the result.
    name : str
        The name of the traced function (used by listings and error messages; not part
        of the structure).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> def f(x):
    ...     return anp.sum(anp.sin(x) * 2.0)
    >>> graph = ad.trace(f)(np.zeros(3))
    >>> print(graph)
    graph f(a:f64[3]) {
      b:f64[3] = sin a
      c:f64[3] = multiply b 2.0
      d:f64[] = sum[axis=None keepdims=False] c
      return d
    }
    >>> float(graph(np.full(3, np.pi / 2)))
    6.0
    >>> graph == ad.trace(f)(np.ones(3))
    True
    """

    inputs: tuple
    outputs: tuple
    nodes: tuple
    in_tree: Any = None
    out_tree: Any = None
    name: str = "graph"
    # Caches filled on first use (structural key and hash; compiled replay program).
    # init=False keeps attrs.evolve from carrying them over to a different graph.
    _key: Any = attrs.field(default=None, init=False, repr=False)
    _program: Any = attrs.field(default=None, init=False, repr=False)

    @classmethod
    def build(cls, inputs: Iterable[Node], outputs: Iterable[Node], **fields: Any) -> Graph:
        """A graph of ``inputs`` and ``outputs``, with every node they need, sorted.

        Array constants the nodes captured are replaced by read-only copies (the nodes
        holding them are rebuilt), so the graph is a snapshot: changing such an array in
        place afterwards changes neither its replay, nor its listing, nor its hash.
        ``fields`` are the optional attributes (``in_tree``, ``out_tree``, ``name``).
        """
        inputs = tuple(inputs)
        outputs = tuple(outputs)
        order = list(inputs)
        seen = {id(node) for node in inputs}
        for node in toposort(outputs):
            if id(node) not in seen:
                seen.add(id(node))
                order.append(node)
        nodes, replaced = _snapshot(order)
        if replaced:
            inputs = tuple(replaced.get(id(node), node) for node in inputs)
            outputs = tuple(replaced.get(id(node), node) for node in outputs)
        return cls(inputs, outputs, tuple(nodes), **fields)

    # --- pickling and copying ---------------------------------------------------------
    def __reduce__(self) -> Any:
        """Pickle as a portable description: primitives by reference, nodes by position.

        Built-in primitives are referred to by their name in ``adfun.numpy``'s registry
        (or their module attribute), custom primitives by their module-level function; the
        compiled replay program and the cached structural key are not pickled.
        """
        return (_rebuild_graph, (_portable(self, by_reference=True),))

    def __deepcopy__(self, memo: dict) -> Graph:
        name, in_tree, out_tree, inputs, outputs, rows = _portable(self, by_reference=False)
        # Primitives and parameters (immutable, hashable) are shared; arrays are copied.
        rows = tuple(
            (primitive, parents, argnums, copy.deepcopy(args, memo), shared, params,
             copy.deepcopy(value, memo))
            for primitive, parents, argnums, args, shared, params, value in rows
        )
        return _rebuild_graph((name, in_tree, out_tree, inputs, outputs, rows))

    def __copy__(self) -> Graph:
        return self  # immutable

    @property
    def __name__(self) -> str:  # lets transforms and functools.wraps name the graph
        return self.name

    def structure(self) -> tuple:
        """The structural key that equality and hashing use.

        One pass over :attr:`nodes`: each node becomes a row of its primitive, its
        parents' positions, its argument positions, its frozen constants and
        parameters, and its shape and dtype.  Computed once and cached.
        """
        return self._structure()[0]

    def _structure(self) -> tuple:
        cached = self._key
        if cached is not None:
            return cached
        index = {id(node): position for position, node in enumerate(self.nodes)}
        rows = []
        for node in self.nodes:
            argnums = node.argnums
            try:
                parent_positions = tuple(index[id(parent)] for parent in node.parents)
            except KeyError:
                raise ValueError(
                    f"Graph {self.name}: node {node!r} has a parent that is not in the "
                    f"graph's node tuple; build graphs with Graph.build"
                ) from None
            args = node.args
            if len(args) == len(argnums):
                constants = ()
            else:
                constants = tuple(
                    _freeze(arg) for position, arg in enumerate(args) if position not in argnums
                )
            params = node.params
            rows.append(
                (
                    node.primitive,
                    parent_positions,
                    argnums,
                    constants,
                    _freeze(dict(params)) if params else (),
                    tuple(node.shape),
                    node.dtype.str,
                )
            )
        key = (
            tuple(rows),
            tuple(index[id(node)] for node in self.inputs),
            tuple(index[id(node)] for node in self.outputs),
            self.in_tree,
            self.out_tree,
        )
        cached = (key, hash(key))
        object.__setattr__(self, "_key", cached)
        return cached

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Graph):
            return NotImplemented
        if self is other:
            return True
        mine, theirs = self._structure(), other._structure()
        return mine[1] == theirs[1] and mine[0] == theirs[0]

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return self._structure()[1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Evaluate the recorded program on new arguments (same structure, shapes, dtypes).

        The Python function is not called again: the recorded primitives are applied to
        the new values in order.  Python control flow that depended on values at trace
        time is therefore frozen as it was then.
        """
        if kwargs:
            raise TypeError(
                f"Graph {self.name}: keyword arguments {sorted(kwargs)} are not accepted; a "
                f"graph takes the positional arguments it was traced with"
            )
        from adfun._staging.replay import replay

        return replay(self, args)

    def __str__(self) -> str:
        from adfun._staging.listing import graph_listing

        return graph_listing(self)

    def __repr__(self) -> str:
        return (
            f"<Graph {self.name}: {len(self.inputs)} input(s), {len(self.nodes)} nodes, "
            f"{len(self.outputs)} output(s)>"
        )

    def to_dot(self) -> str:
        """Graphviz DOT source for this graph (no Graphviz needed to produce it).

        Returns
        -------
        str
            A ``digraph``: inputs, one box per node with its name, primitive, parameters,
            shape and dtype, constant arguments as notes, and the outputs.  Render it
            with ``dot -Tsvg``.

        Examples
        --------
        >>> import adfun as ad, adfun.numpy as anp
        >>> dot = ad.trace(anp.sin)(1.0).to_dot()
        >>> dot.splitlines()[0]
        'digraph "sin" {'
        """
        from adfun._staging.listing import graph_dot

        return graph_dot(self)


# --------------------------------------------------------------------------------------
# Pickling: a graph as positions and references
# --------------------------------------------------------------------------------------

#: ``id(primitive) -> (module, attribute, via .primitive, primitive)`` for primitives reachable from
#: the globals of adfun's modules; refreshed when a primitive is missing.
_LOCATIONS: dict[int, tuple] = {}


def _portable(graph: Graph, by_reference: bool) -> tuple:
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
        rows.append((
            primitive,
            tuple(index[id(parent)] for parent in parents),
            node.argnums,
            tuple(args),
            tuple(shared),
            {key: _encode_parameter(value) for key, value in node.params.items()}
            if by_reference else dict(node.params),
            node.value,
        ))
    return (
        graph.name,
        graph.in_tree,
        graph.out_tree,
        tuple(index[id(node)] for node in graph.inputs),
        tuple(index[id(node)] for node in graph.outputs),
        tuple(rows),
    )


def _rebuild_graph(state: tuple) -> Graph:
    """The inverse of :func:`_portable` (the function pickles call)."""
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
        nodes.append(Node(primitive, parents, argnums, tuple(args),
                          Params(params) if params else EMPTY_PARAMS, value))
    return Graph(tuple(nodes[position] for position in inputs),
                 tuple(nodes[position] for position in outputs), tuple(nodes),
                 in_tree=in_tree, out_tree=out_tree, name=name)


def _primitive_reference(primitive: Primitive, graph: Graph) -> tuple:
    """How a pickle names ``primitive``: registry name, module attribute or custom function.

    Raises ``TypeError`` for a primitive that a new process could not find again.
    """
    # adfun.numpy imports the engine, so the engine reaches its registry only at run time.
    from adfun.numpy._core import REGISTRY

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
    # adfun.numpy imports the engine, so the engine reaches its registry only at run time.
    from adfun.numpy._core import REGISTRY

    if callable(value) and not isinstance(value, type):
        inner = getattr(value, "primitive", None)
        if isinstance(inner, Primitive) and REGISTRY.get(inner.name) is value:
            return _RegisteredFunction(inner.name, _registry_module(inner))
    return value


def _decode_parameter(value: Any) -> Any:
    from adfun.numpy._core import REGISTRY

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
    modules = sorted(name for name in list(sys.modules)
                     if name == "adfun" or name.startswith("adfun."))
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
    from adfun.numpy._core import REGISTRY

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
