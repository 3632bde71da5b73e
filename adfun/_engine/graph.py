"""The explicit expression DAG: topological order and the immutable ``Graph`` record."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import attrs
import numpy as np

from adfun._engine.records import Node

#: What a :class:`Graph` does with the staging layer above the engine, which fills this
#: table when it is imported (``adfun/_staging/__init__.py``; ``import adfun`` imports
#: it): ``"replay"`` (``graph(*args)``), ``"listing"`` (``str``), ``"dot"``
#: (``to_dot``), ``"reduce"`` (pickling) and ``"deepcopy"``.  The engine itself imports
#: nothing above it.
GRAPH_HOOKS: dict[str, Callable[..., Any]] = {}


def toposort(outputs: Iterable[Node]) -> list[Node]:
    """All nodes that ``outputs`` depend on, parents before children (iterative DFS).

    The one topological sort of adfun: the functional transforms, :meth:`Graph.build`
    and the imperative layer's backward pass (``adfun._imperative.backward.walk``) use
    it.  Nodes hash by identity, so they go in the visited set themselves (no ``id()``
    calls); the stack holds ``(node, parents, count, next index)`` frames, and a node
    without parents is placed as soon as it is seen.  ``tests/test_fast_paths.py``
    checks the order against a plain recursive definition.
    """
    order: list[Node] = []
    visited: set = set()
    add = visited.add
    place = order.append
    for root in outputs:
        if root in visited:
            continue
        add(root)
        parents = root.parents
        if not parents:
            place(root)
            continue
        stack: list = []
        node = root
        count = len(parents)
        index = 0
        while True:
            if index < count:
                parent = parents[index]
                index += 1
                if parent in visited:
                    continue
                add(parent)
                if parent.parents:
                    stack.append((node, parents, count, index))
                    node = parent
                    parents = parent.parents
                    count = len(parents)
                    index = 0
                else:
                    place(parent)
                continue
            place(node)
            if not stack:
                break
            node, parents, count, index = stack.pop()
    return order


_SCALARS = (bool, int, str, bytes, type(None))
#: ``object.__eq__``, typed loosely: compared with a class's ``__eq__`` (mypy would take
#: ``kind.__eq__`` for a bound method, which an unbound function never is).
_OBJECT_EQ: Callable[..., Any] = object.__eq__


def freeze(value: Any) -> Any:
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
        return (kind.__name__, tuple(freeze(item) for item in value))
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: repr(item[0]))
        return ("dict", tuple((key, freeze(item)) for key, item in items))
    if kind is slice:
        return ("slice", freeze(value.start), freeze(value.stop), freeze(value.step))
    if value is Ellipsis:
        return ("ellipsis",)
    if isinstance(value, np.dtype):
        return ("dtype", value.str)
    if isinstance(value, type):
        return ("type", value.__module__, value.__qualname__)
    if kind.__eq__ is not _OBJECT_EQ and kind.__hash__ is not None:
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
    if (
        type(base) is not np.ndarray
        or base.base is not None
        or not base.flags.c_contiguous
        or base.nbytes != value.nbytes
    ):
        return None
    frozen_base = _frozen_constant(base, copies)
    offset = value.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    view = np.ndarray(
        value.shape, value.dtype, buffer=frozen_base, offset=offset, strides=value.strides
    )
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
            new = Node(
                node.primitive,
                parents,
                argnums,
                args if new_args is None else tuple(new_args),
                node.params,
                node.value,
            )
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
        return GRAPH_HOOKS["reduce"](self)

    def __deepcopy__(self, memo: dict) -> Graph:
        """A graph with copies of its arrays; primitives and parameters are shared."""
        return GRAPH_HOOKS["deepcopy"](self, memo)

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
            constants: tuple  # (declared: mypyc would check the tuple[()] it infers below)
            if len(args) == len(argnums):
                constants = ()
            else:
                constants = tuple(
                    freeze(arg) for position, arg in enumerate(args) if position not in argnums
                )
            params = node.params
            rows.append(
                (
                    node.primitive,
                    parent_positions,
                    argnums,
                    constants,
                    freeze(dict(params)) if params else (),
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
        # (not through `equal = self.__eq__(other)`: compiled by mypyc, that would check
        # the NotImplemented it may return against __eq__'s annotation)
        if not isinstance(other, Graph):
            return NotImplemented
        return not self.__eq__(other)

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
        return GRAPH_HOOKS["replay"](self, args)

    def __str__(self) -> str:
        return GRAPH_HOOKS["listing"](self)

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
        return GRAPH_HOOKS["dot"](self)

    def to_python(self, name: str | None = None, arg_names: Sequence[str] | None = None) -> str:
        """Standalone NumPy source of this program: read it, keep it, run it without adfun.

        Parameters
        ----------
        name : str, optional
            The name of the generated function (default: the graph's name).
        arg_names : list of str, optional
            One parameter name per input (default: from the argument pytree, ``x``,
            ``x0``, ``x1``, ...).

        Returns
        -------
        str
            A Python module: its imports (NumPy; SciPy where the program calls it), the
            helper functions of the primitives that are not NumPy functions (copied from
            adfun), the array constants (exactly: small ones as literals, larger ones as
            their bytes), and one function with a statement per node, named after the
            primitive it computes.  It takes the input leaves in order and returns the
            outputs in the structure of the result (tuples, lists and dicts).

        Raises
        ------
        ValueError
            When a constant or a primitive of the graph has no standalone form (an object
            that is not a number, array, dtype, slice or container of those; a helper that
            uses adfun itself); the message names it.

        See Also
        --------
        adfun.jit : ``jit(f).source(*args)`` is the source of the staged (simplified)
            forward and backward pass.

        Examples
        --------
        >>> import numpy as np, adfun as ad, adfun.numpy as anp
        >>> graph = ad.trace(lambda x: anp.sum(anp.sin(x) * 2.0))(np.zeros(3))
        >>> print(graph.to_python(name="f").split("\\n\\n\\n")[-1])
        def f(x):
            sin = np.sin(x)
            multiply = sin * 2.0
            sum_1 = np.sum(multiply, axis=None, keepdims=False)
            return sum_1
        <BLANKLINE>
        """
        return GRAPH_HOOKS["python"](self, name, arg_names)

    def _repr_html_(self) -> str:
        """Jupyter's display: Graphviz's drawing when ``dot`` is installed, else the
        listing as preformatted text."""
        return GRAPH_HOOKS["html"](self)
