"""``ad.jit``: trace a function once per input signature, simplify, replay the program.

A call first computes the *signature* of its arguments: the pytree structure, and for
each leaf either its array type, shape and dtype (arrays, NumPy scalars, Python floats
and complexes: the *dynamic* leaves) or its value (every other leaf - ints, bools,
strings, ``None``, ... - is *static*: part of the program).  The first call with a new
signature runs the function under a *staging trace*, simplifies the recorded graph
(:mod:`adfun._staging.simplify`) and compiles it into straight-line Python
(:mod:`adfun._staging.codegen`);
later calls with that signature only run the compiled function on the dynamic leaves.

Because the rules of the transforms are written with ``adfun.numpy``, tracing
``grad(f)`` records its backward pass too: ``jit(grad(f))`` stages the forward and the
backward program as one graph, and simplification shares work between them.

When a dynamic leaf is a value traced by an enclosing transform (``grad(jit(f))``), the
staged graph is replayed through each primitive's ``bind``, so the transform records and
differentiates it like any other function.
"""

from __future__ import annotations

import functools
import gc
import inspect
import logging
import re
import threading
import time
from typing import Any, Callable, Generic, ParamSpec, Sequence, TypeVar, cast

import attrs
import numpy as np

from adfun._engine.backend import backend_of, backend_value, foreign_leaves, is_foreign, run_on
from adfun._engine.errors import StagingError  # noqa: F401 - its historical home
from adfun._engine.graph import Graph, freeze
from adfun._engine.pytree import LEAF, leaf_paths, tree_flatten, tree_unflatten
from adfun._engine.records import INPUT, constant_node
from adfun._engine.trace import (
    StagingTrace,
    Trace,
    Tracer,
    call_primitive,
    current_trace,
    full_value,
    new_input,
)
from adfun._staging.codegen import compile_graph
from adfun._staging.replay import program
from adfun._staging.simplify import simplify


class _StagingTrace(StagingTrace):
    """The trace ``ad.jit`` records a program in.

    See :class:`~adfun._engine.trace.StagingTrace`.
    """

    __slots__ = ()


def _leaf_spec(leaf: Any) -> Any:
    """The signature entry of one leaf: ``("array", ...)`` for dynamic ones, else static."""
    value = full_value(leaf) if type(leaf) is Tracer else leaf
    kind = type(value)
    if isinstance(value, np.ndarray):
        return ("array", kind, value.shape, value.dtype.str)
    if is_foreign(value):  # another library's array, traced at its bottom level
        return (
            "array",
            kind,
            tuple(value.shape),
            str(value.dtype),
            str(getattr(value, "device", None)),
        )
    if isinstance(value, np.generic):
        return ("array", kind)
    if kind is float:
        return ("array", np.float64)
    if kind is complex:
        return ("array", np.complex128)
    return ("static", freeze(value))


_FLAT_TREES: dict[int, Any] = {}


def _flat_key(args: tuple) -> Any:
    """The signature of ``args`` if each is an ndarray or a float (else None), quickly.

    Equal to the key the general path computes for the same arguments.
    """
    specs: list[tuple] = []
    for arg in args:
        kind = type(arg)
        if kind is np.ndarray:
            specs.append(("array", kind, arg.shape, arg.dtype.str))
        elif kind is float:
            specs.append(("array", np.float64))
        elif kind is np.float64 or kind is np.float32:
            specs.append(("array", kind))
        else:
            return None
    tree = _FLAT_TREES.get(len(args))
    if tree is None:
        tree = _FLAT_TREES.setdefault(len(args), tree_flatten((args, {}))[1])
    return (tree, tuple(specs))


def _dynamic_value(leaf: Any) -> Any:
    """A dynamic leaf as the staged program sees it (Python numbers become NumPy scalars)."""
    kind = type(leaf)
    if kind is float:
        return np.float64(leaf)
    if kind is complex:
        return np.complex128(leaf)
    return leaf


#: Output leaves that are not traced and may be returned as constants of the program.
_CONSTANT_OUTPUTS = (np.ndarray, np.generic, int, float, complex, str, bytes, type(None))


class _Staged:
    """One cache entry: the program staged for one signature."""

    __slots__ = ("graph", "run", "dynamic", "out_tree", "static_leaves")

    def __init__(
        self,
        graph: Graph | None,
        run: Callable | None,
        dynamic: tuple,
        out_tree: Any,
        static_leaves: list,
    ) -> None:
        self.graph = graph  # None: the function must run unstaged (see _stage)
        self.run = run
        self.dynamic = dynamic
        self.out_tree = out_tree
        # Static leaves compared by identity must stay alive while their id is a key.
        self.static_leaves = static_leaves


#: The library's logger (``logging.getLogger("adfun")``): silent unless configured.
logger = logging.getLogger("adfun")
#: Staging that takes at least this long is reported at INFO level (else DEBUG).
SLOW_STAGING_SECONDS = 1.0

#: Signatures kept per jitted function; beyond it the oldest staged program is dropped.
MAX_SIGNATURES = 256


P = ParamSpec("P")
R = TypeVar("R")


class Jitted(Generic[P, R]):
    """A function staged by :func:`jit` (see there); call it like the original."""

    def __init__(self, fun: Callable[P, R]) -> None:
        self.fun = fun
        self._cache: dict[Any, _Staged] = {}
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        functools.update_wrapper(self, fun, updated=())

    @property
    def _name(self) -> str:
        return getattr(self.fun, "__name__", type(self.fun).__name__)

    def __repr__(self) -> str:
        return f"<jit {self._name}: {len(self._cache)} staged signature(s)>"

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        # A jitted method: the instance is a static argument (compared by identity).
        if instance is None:
            return self
        return functools.partial(self, instance)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if foreign_leaves(args) or (kwargs and foreign_leaves(kwargs)):
            leaves, _ = tree_flatten((args, kwargs))
            backend = backend_of(leaves, "adfun.jit")
            if backend is not None:
                # The library's arrays become tracers of its bottom-level trace: the
                # program is staged once per signature and replayed through them.
                return cast(R, run_on(backend, "jit", self._call, args, kwargs))
        return self._call(*args, **kwargs)

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        key = None if kwargs else _flat_key(args)
        leaves: Sequence[Any]
        if key is not None:  # every argument an array: the leaves are the arguments
            leaves = args
        else:
            leaves, in_tree = tree_flatten((args, kwargs))
            key = (in_tree, tuple(map(_leaf_spec, leaves)))
        staged = self._cache.get(key)
        if staged is None:
            staged = self._stage(key, list(leaves), key[0])
        else:
            with self._lock:
                self._hits += 1
        run = staged.run
        if run is None:  # staged.graph is None too: the function runs unstaged
            return self.fun(*args, **kwargs)
        values = [_dynamic_value(leaves[position]) for position in staged.dynamic]
        for value in values:
            if type(value) is Tracer:
                outputs = _replay_traced(cast(Graph, staged.graph), values)
                break
        else:
            outputs = run(*values)
        if staged.out_tree is LEAF:
            return outputs[0]
        return tree_unflatten(staged.out_tree, list(outputs))

    def _stage(self, key: Any, leaves: list, in_tree: Any) -> _Staged:
        started = time.perf_counter()
        dynamic = tuple(position for position, spec in enumerate(key[1]) if spec[0] == "array")
        trace = _StagingTrace(f"jit({self._name})")
        token = current_trace.set(trace)
        try:
            call_leaves = list(leaves)
            for position in dynamic:
                value = _dynamic_value(backend_value(leaves[position]))
                call_leaves[position] = new_input(trace, value)
            inputs = [call_leaves[position].node for position in dynamic]
            args, kwargs = tree_unflatten(in_tree, call_leaves)
            out = self.fun(*args, **kwargs)
        finally:
            trace.active = False
            trace.copies = None  # the nodes hold the copies of the constants they use
            current_trace.reset(token)
        out_leaves, out_tree = tree_flatten(out)
        dynamic_positions = set(dynamic)
        static_leaves = [
            leaf for position, leaf in enumerate(leaves) if position not in dynamic_positions
        ]
        outputs = []
        unstageable = _closes_over_tracers(trace)
        for leaf in out_leaves:
            if type(leaf) is Tracer:
                if leaf.trace is not trace:
                    unstageable = True
                    break
                outputs.append(leaf.node)
            elif isinstance(leaf, _CONSTANT_OUTPUTS):
                outputs.append(constant_node(leaf))
            else:  # an object of another type might hold traced values: do not guess
                unstageable = True
                break
        if unstageable:
            # The function reads values traced by an enclosing transform (a closure), so
            # its program differs from call to call, or it returns objects that are not
            # pytrees of arrays and numbers: run it unstaged, and do not cache.
            with self._lock:
                self._misses += 1
            return _Staged(None, None, dynamic, out_tree, static_leaves)
        collecting = gc.isenabled()
        gc.disable()  # staging allocates many long-lived objects and frees none
        try:
            traced_at = time.perf_counter()
            traced = Graph.build(inputs, outputs, name=self._name)
            graph = simplify(traced)
            simplified_at = time.perf_counter()
            run = compile_graph(graph, copy_outputs=_new_aliases(traced, graph))
        finally:
            if collecting:
                gc.enable()
        done = time.perf_counter()
        # Staging a large program takes seconds: say so at INFO, every staging at DEBUG.
        logger.log(
            logging.INFO if done - started >= SLOW_STAGING_SECONDS else logging.DEBUG,
            "jit(%s): staged a new signature in %.2f s (tracing %.2f s: %d nodes; "
            "simplifying %.2f s: %d nodes left; compiling %.2f s)",
            self._name,
            done - started,
            traced_at - started,
            len(traced.nodes),
            simplified_at - traced_at,
            len(graph.nodes),
            done - simplified_at,
        )
        staged = _Staged(graph, run, dynamic, out_tree, static_leaves)
        with self._lock:
            self._misses += 1
            kept = self._cache.setdefault(key, staged)
            while len(self._cache) > MAX_SIGNATURES:  # dicts keep insertion order
                del self._cache[next(iter(self._cache))]
            return kept

    def graph(self, *args: Any, **kwargs: Any) -> Graph:
        """The simplified graph staged for arguments like these (tracing it if needed).

        Examples
        --------
        >>> import adfun as ad, adfun.numpy as anp
        >>> staged = ad.jit(ad.grad(anp.sin))
        >>> print(staged.graph(0.5))
        graph sin(a:f64[]) {
          b:f64[] = cos a
          return b
        }
        """
        leaves, in_tree = tree_flatten((args, kwargs))
        key = (in_tree, tuple(map(_leaf_spec, leaves)))
        staged = self._cache.get(key) or self._stage(key, leaves, in_tree)
        if staged.graph is None:
            raise TypeError(
                f"jit({self._name}): these arguments are not staged, because the function "
                f"reads values traced by an enclosing transform; it runs unstaged"
            )
        return staged.graph

    def source(self, *args: Any, **kwargs: Any) -> str:
        """Standalone NumPy source of the program staged for arguments like these.

        The staged program is the simplified forward pass of ``fun`` and, for
        ``jit(grad(f))`` or ``jit(value_and_grad(f))``, its backward pass too: the text
        runs without adfun and computes the same numbers (see
        :meth:`adfun.Graph.to_python`).  Its parameters are named after ``fun``'s (a
        pytree argument ``params`` gives ``params_w``, ``params_b``, ...); static
        arguments (ints, strings, ``None``...) are part of the program, not parameters.

        Examples
        --------
        >>> import numpy as np, adfun as ad, adfun.numpy as anp
        >>> def f(x):
        ...     return anp.sum(anp.sin(x) ** 2)
        >>> text = ad.jit(ad.grad(f)).source(np.zeros(3))
        >>> print(text.split("\\n\\n\\n")[-1])
        def f(x):
            sin = np.sin(x)
            multiply = sin * 2.0
            cos = np.cos(x)
            multiply_1 = multiply * cos
            return multiply_1
        <BLANKLINE>
        >>> namespace = {}
        >>> exec(text, namespace)
        >>> namespace["f"](np.array([0.5]))
        array([0.84147098])
        """
        graph = self.graph(*args, **kwargs)
        leaves, in_tree = tree_flatten((args, kwargs))
        staged = self._cache.get((in_tree, tuple(map(_leaf_spec, leaves))))
        if staged is not None and staged.out_tree is not LEAF:
            graph = attrs.evolve(graph, out_tree=staged.out_tree)
        dynamic = [
            position for position, leaf in enumerate(leaves) if _leaf_spec(leaf)[0] == "array"
        ]
        paths = leaf_paths(in_tree, "")
        names = _parameter_names(self.fun, [paths[position] for position in dynamic])
        return graph.to_python(name=self._name, arg_names=names)

    def cache_info(self) -> dict:
        """Counts of calls that reused a staged program (``hits``), that traced one
        (``misses``), and of the signatures staged (``size``)."""
        with self._lock:
            return {"hits": self._hits, "misses": self._misses, "size": len(self._cache)}

    def clear_cache(self) -> None:
        """Forget every staged program (the next calls trace again)."""
        with self._lock:
            self._cache.clear()


def _parameter_names(fun: Callable, paths: list[str]) -> list[str]:
    """Readable names for argument leaves at ``paths`` (``[0][1]['w']`` of ``(args,
    kwargs)``): ``fun``'s parameter name, then the path inside the argument."""
    try:
        parameters = [
            parameter.name
            for parameter in inspect.signature(fun).parameters.values()
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        parameters = []
    names = []
    for path in paths:
        match = re.match(r"\[(0|1)\]\[('?)([^'\]]*)\2\](.*)", path)
        if match is None:
            names.append("x")
            continue
        group, _, key, rest = match.groups()
        if group == "0":
            index = int(key)
            base = parameters[index] if index < len(parameters) else f"arg{index}"
        else:
            base = key
        rest_name = re.sub(r"\W+", "_", rest).strip("_")
        names.append(f"{base}_{rest_name}" if rest_name else base)
    return names


def _new_aliases(traced: Graph, simplified: Graph) -> list:
    """Per output: whether to copy it, because simplification made it an input or an
    array already returned (``x * 1`` becoming ``x``, ``(sin(x), sin(x))`` merged) where
    the traced program returned a distinct array."""
    flags = []
    seen_before: set = set()
    returned: set = set()  # outputs of the simplified graph returned without a copy
    for before, after in zip(traced.outputs, simplified.outputs):
        copy = (after.primitive is INPUT and before.primitive is not INPUT) or (
            id(after) in returned and id(before) not in seen_before
        )
        if not copy:
            returned.add(id(after))
        seen_before.add(id(before))
        flags.append(copy)
    return flags


def _closes_over_tracers(trace: Trace) -> bool:
    """Whether a node of ``trace`` received a value traced by another (enclosing) trace."""
    for node in trace.nodes:
        if len(node.args) != len(node.argnums):
            for arg in node.args:
                # A tracer of a backend's bottom-level trace is a value, not a closure:
                # that trace evaluates, it does not differentiate.
                if type(arg) is Tracer and arg.trace.backend is None:
                    return True
    return False


def _replay_traced(graph: Graph, values: list) -> list:
    """Evaluate ``graph`` on ``values`` of which some are traced, through ``bind``."""
    compiled = program(graph)
    env: list = [None] * compiled.size
    for slot, value in zip(compiled.input_slots, values):
        env[slot] = value
    for primitive, recorded, links, params, position in compiled.steps:
        if links:
            recorded = list(recorded)
            for argnum, source in links:
                recorded[argnum] = env[source]
            recorded = tuple(recorded)
        env[position] = call_primitive(primitive, recorded, params)
    return [env[slot] for slot in compiled.output_slots]


def jit(fun: Callable[P, R]) -> Jitted[P, R]:
    """Stage ``fun``: trace it once per input signature, simplify, and replay the program.

    Parameters
    ----------
    fun : callable
        A function of pytrees of arrays and numbers, written with ``adfun.numpy``; it may
        itself be a transform (``grad(f)``, ``value_and_grad(f)``, a function calling
        ``vjp`` or ``jvp``), whose forward and backward passes are then staged together.

    Returns
    -------
    callable
        A callable with ``fun``'s signature and results.  The first call with a new
        *signature* - the pytree structure of the arguments, the shape, dtype and type
        of each array or float leaf, and the value of every other leaf (ints, bools,
        strings, ``None`` are static) - traces ``fun``, removes duplicate and dead work
        (common subexpressions, dead code, constants, identities), and compiles the
        program into straight-line NumPy calls that reuse dead buffers; later calls with
        the same signature only run that program (the last 256 signatures are kept).
        ``graph(*args)`` returns the staged graph, ``cache_info()`` the hit and miss
        counts.

    Raises
    ------
    TypeError
        (``adfun.StagingError``, a subclass) when ``fun`` uses a traced value in
        Python control flow or converts it to a Python value (``if x > 0``, ``bool``,
        ``float``, ``int``, ``.item()``): use ``adfun.numpy.where``, pass the value as
        a static argument, or leave that part outside ``jit``.

    See Also
    --------
    adfun.trace : The graph of one call, unsimplified.
    adfun.Graph.to_python : The staged program as NumPy source.
    adfun.checkpoint : Trade memory for recomputation.

    Notes
    -----
    ``fun`` must be pure: side effects (printing, appending to lists, reading global
    arrays that change later) happen once, at tracing time.  The staged program holds a
    private copy of every NumPy array ``fun`` used as a constant, taken when it was used
    (as JAX does): a global array modified in place after staging does not change later
    results; pass it as an argument instead.  A jitted function composes
    with every transform: ``jit(grad(f))``, ``grad(jit(f))``, ``jvp(jit(f), ...)``,
    ``jit(jit(f))``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> f = ad.jit(ad.grad(lambda x: anp.sum(anp.sin(x) ** 2)))
    >>> f(np.array([0.0, np.pi / 4]))
    array([0., 1.])
    >>> f.cache_info()
    {'hits': 0, 'misses': 1, 'size': 1}
    """
    if not callable(fun):
        raise TypeError(
            f"jit: expected a function to stage, got {type(fun).__name__} ({fun!r:.40})"
        )
    return Jitted(fun)
