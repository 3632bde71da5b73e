"""Frozen records of the expression graph: primitives, nodes and their parameters.

This module knows nothing about tracing or NumPy.  It also owns the *dispatch tables*
through which the engine reaches the few primitives it needs itself (``add`` to sum
cotangents, the operators on tracers, NumPy's protocol hooks); ``adfun.numpy`` fills
them when it is imported, so no engine module has to import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import attrs

#: Operator name (``"add"``, ``"getitem"``, ...) -> differentiable function.
OPERATIONS: dict[str, Callable[..., Any]] = {}
#: NumPy ufunc or function object -> the ``adfun.numpy`` function that replaces it.
NUMPY_OVERRIDES: dict[Any, Callable[..., Any]] = {}
#: ``Primitive.backends`` of a primitive whose implementation runs on any array library
#: as it is (a user's :func:`adfun.primitive`, written with operators or the standard).
ANY_BACKEND = frozenset({"any"})
#: The namespace a tracer's ``__array_namespace__()`` returns (``adfun.numpy`` fills it).
ARRAY_NAMESPACE: list = []
#: Primitive name -> ``factory(namespace, primitive)`` returning the primitive's
#: implementation in an Array API namespace (or ``None`` where it has none); see
#: :mod:`adfun._engine.backend`.  A key ``(library, name)`` declares one library's own
#: implementation, tried first; ``(library, "*")`` is that library's fallback for the
#: primitives nothing else implements.
BACKEND_IMPLEMENTATIONS: dict[Any, Callable[[Any, Any], Any]] = {}


class Params(dict):
    """The static (non-array) keyword arguments of a node: an immutable, hashable mapping."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda item: item[0])))

    def _immutable(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("node parameters are immutable")

    __setitem__ = __delitem__ = _immutable
    clear = pop = popitem = setdefault = update = _immutable  # type: ignore[assignment]
    __ior__ = _immutable  # type: ignore[assignment]

    def __repr__(self) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in self.items())


EMPTY_PARAMS = Params()


@attrs.frozen
class Variadic:
    """A derivative rule shared by every positional argument of a variadic primitive.

    ``rule(argnum, g_or_t, ans, *args, **params)`` receives the argument's position first.
    """

    rule: Callable[..., Any]

    def __getitem__(self, argnum: int) -> Callable[..., Any]:
        rule = self.rule

        def rule_for_argument(seed: Any, ans: Any, *args: Any, **params: Any) -> Any:
            return rule(argnum, seed, ans, *args, **params)

        return rule_for_argument

    def __len__(self) -> int:
        return 1 << 30


@attrs.frozen
class Joint:
    """A derivative rule that serves every traced argument of a node in one call.

    Reverse: ``rule(argnums, g, ans, *args, **params)`` returns one cotangent (or ``None``)
    per entry of ``argnums``.  Forward: ``rule(argnums, tangents, ans, *args, **params)``
    receives one tangent (or ``None`` for zero) per entry of ``argnums`` and returns the
    output tangent.  For primitives whose derivative costs the same for all arguments
    together as for one (``checkpoint`` recomputes a whole function).
    """

    rule: Callable[..., Any]


def reads_only(*positions: int) -> Callable[[Callable], Callable]:
    """Mark a reverse rule that reads the values of only the arguments at ``positions``.

    The rule may look at the other arguments and at ``ans`` for their shapes and dtypes,
    never their values.  As every reverse rule is linear in its cotangent, the derivative
    of such a rule, where the marked arguments are constants, is the rule itself applied
    to the derivative of the cotangent: ``hvp`` uses that to skip the last step of the
    gradient it differentiates (see :func:`adfun.hvp`).
    """

    def mark(rule: Callable) -> Callable:
        rule.reads = frozenset(positions)  # type: ignore[attr-defined]
        return rule

    return mark


@attrs.frozen(eq=False)
class Primitive:
    """An operation the engine knows how to differentiate.

    Attributes
    ----------
    name : str
        The NumPy name (``"multiply"``) or the custom function's ``__name__``.
    impl : callable
        Computes the value on plain (untraced) arguments.
    vjps : tuple, Variadic or Joint
        One reverse rule ``rule(g, ans, *args, **params)`` per positional argument; ``None``
        marks an argument that cannot be differentiated.  A rule may return ``None`` for
        "no contribution" (a zero cotangent).
    jvps : tuple, Variadic, Joint or None
        One forward rule ``rule(t, ans, *args, **params)`` per positional argument, or
        ``None`` when the primitive has no forward rules.
    domain : object or None
        Where the rules may be tested (used by ``adfun.testing``).
    nondiff : bool
        The output is a constant for differentiation (comparisons, ``floor``, ...).
    traced_impl : callable or None
        Used instead of ``impl`` when recording, where the arguments are mostly 0-d
        values: the same results, computed faster (e.g. Python's ``*`` on NumPy scalars
        costs a tenth of a ufunc call).
    batch : callable or None
        The batching rule (for ``vmap``), where one is declared.
    complex_domain : object or None
        Where the rules may be tested on complex arguments, where they support them.
    backends : frozenset of str
        ``{"numpy"}`` (the default): ``impl`` computes on NumPy values, and other array
        libraries use the implementation ``BACKEND_IMPLEMENTATIONS`` declares for the
        primitive's name (see ``adfun._engine.backend``); ``ANY_BACKEND``: ``impl``
        itself runs on any library's arrays (a user's custom primitive).
    """

    name: str
    impl: Callable[..., Any]
    vjps: Any = ()
    jvps: Any = None
    domain: Any = None
    nondiff: bool = False
    traced_impl: Any = attrs.field(default=None, repr=False)
    batch: Any = attrs.field(default=None, repr=False)
    complex_domain: Any = attrs.field(default=None, repr=False)
    backends: frozenset = attrs.field(default=frozenset({"numpy"}), repr=False)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


class NodeLayout:
    """The slots of :class:`Node`, without attrs' frozen ``__setattr__``.

    Tracing records one node per primitive call.  ``Node(...)`` stores each field through
    ``object.__setattr__`` (its own ``__setattr__`` refuses), a slow generic call per field;
    the tracer instead fills a bare ``NodeLayout()`` with plain slot stores and then sets
    its ``__class__`` to ``Node`` (the same layout), which makes it an ordinary, immutable
    node at a fraction of the cost.
    """

    __slots__ = ("primitive", "parents", "argnums", "args", "params", "value", "__weakref__")

    if TYPE_CHECKING:  # the slots' types, as in Node (declared only for the type checker)
        primitive: Primitive
        parents: tuple
        argnums: tuple
        args: tuple
        params: Params
        value: Any


@attrs.frozen(eq=False)
class Node(NodeLayout):
    """One recorded application of a primitive.

    Attributes
    ----------
    primitive : Primitive
        What was applied.
    parents : tuple of Node
        The nodes of the traced arguments, in argument order.
    argnums : tuple of int
        The position of each parent among the primitive's positional arguments.
    args : tuple
        The positional argument values the primitive saw (constants included).
    params : Params
        The static keyword arguments.
    value : object
        The computed output.
    """

    primitive: Primitive
    parents: tuple
    argnums: tuple
    args: tuple
    params: Params
    value: Any

    @property
    def shape(self) -> tuple:
        return getattr(self.value, "shape", ())

    @property
    def dtype(self) -> Any:
        value = self.value
        dtype = getattr(value, "dtype", None)
        if dtype is None:
            import numpy

            dtype = numpy.result_type(value)
        elif type(dtype) not in _NUMPY_DTYPE_TYPES:
            if type(dtype).__module__ == "numpy.dtypes":
                _NUMPY_DTYPE_TYPES.add(type(dtype))
            else:
                dtype = numpy_dtype(dtype)
        return dtype

    def __repr__(self) -> str:
        return f"<node {self.primitive.name} {self.shape} at {id(self):#x}>"


#: The classes of NumPy's dtypes seen so far (``Float64DType``...).
_NUMPY_DTYPE_TYPES: set = set()


def numpy_dtype(dtype: Any) -> Any:
    """The NumPy dtype of another array library's dtype (by name: ``float32``...).

    Inside adfun, dtypes are NumPy's whatever the backend: rules compare and combine them
    with NumPy's functions, and a backend converts them back where it computes.
    """
    import numpy

    try:
        return numpy.dtype(dtype)
    except TypeError:
        return numpy.dtype(str(dtype).rsplit(".", 1)[-1])


def _input_impl(value: Any) -> Any:
    return value


#: The primitive of graph inputs (leaves).
INPUT = Primitive("input", _input_impl, vjps=(), jvps=())


def _constant_impl(value: Any) -> Any:
    return value


#: The primitive of constant outputs: its single argument is the constant.
CONSTANT = Primitive("constant", _constant_impl, vjps=(), jvps=(), nondiff=True)


def constant_node(value: Any) -> Node:
    """A parentless node standing for a constant value (e.g. an output not traced)."""
    return Node(CONSTANT, (), (), (value,), EMPTY_PARAMS, value)
