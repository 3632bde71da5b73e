"""Tracing: the tracer value type, trace levels and ``bind``.

A *trace* is opened by a transform (``grad``, ``vjp``, ``trace``, ...).  Its arguments
are wrapped in :class:`Tracer` objects that carry a value and a leaf :class:`Node`.  A
primitive applied to a tracer computes its value at once and returns a new tracer whose
node records the application.  Traces are ordered by a global counter: a trace opened
while another is running always has the higher level, so when tracers of several traces
meet in one call, the highest level is the innermost transform and is handled first
(its tracers unwrapped, the call repeated on what is inside, the result re-wrapped).
That ordering is what rules out perturbation confusion.
"""

from __future__ import annotations

import contextvars
import itertools
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from adfun._engine.errors import StagingError, TracerEscapeError, traced_conversion_message
from adfun._engine.records import (
    ARRAY_NAMESPACE,
    EMPTY_PARAMS,
    INPUT,
    NUMPY_OVERRIDES,
    OPERATIONS,
    Node,
    NodeLayout,
    Params,
)

_levels = itertools.count(1)

#: The versions of the Array API standard whose names and semantics adfun.numpy offers.
SUPPORTED_API_VERSIONS = ("2022.12", "2023.12", "2024.12")

#: The innermost open trace of this thread / task (``None`` outside every transform).
current_trace: contextvars.ContextVar[Trace | None] = contextvars.ContextVar(
    "adfun_current_trace", default=None
)


class Trace:
    """Bookkeeping of one transform invocation (not part of the immutable graph)."""

    __slots__ = ("level", "active", "owner", "nodes", "copies")
    #: True for a trace that stages a program (``ad.jit``): its values may not be read
    #: back into Python (``bool()``, ``float()``...), its ``refuse(kind, node)`` raises.
    staging = False
    #: True for a trace whose graph outlives the call that records it (``vjp``'s
    #: ``vjp_fn``, staged graphs, the imperative recording): ``bind`` then gives each node
    #: a private read-only copy of every NumPy array constant it is passed (see
    #: :func:`frozen`), so that no later in-place change of the caller's array reaches
    #: the graph.  A trace differentiated before its transform returns (``grad``,
    #: ``jvp``, ``hessian``...) skips the copies.
    freezes = False
    #: The array library whose implementations this trace applies, for the bottom-level
    #: trace of a non-NumPy backend (:mod:`adfun._engine.backend`); ``None``: NumPy.
    backend: Any = None

    def __init__(self, owner: str) -> None:
        self.level = next(_levels)
        self.active = True
        self.owner = owner
        #: Every node recorded in this trace, in creation order (a topological order).
        self.nodes: list[Node] = []
        #: The private copies of array constants (see :func:`frozen`), where it freezes.
        self.copies: dict | None = {} if self.freezes else None

    def __repr__(self) -> str:
        state = "open" if self.active else "closed"
        return f"<trace {self.level} of {self.owner}, {state}>"


#: Stands below every trace (level 0) where ``bind`` starts its search for the top one.
_NO_TRACE = Trace("no transform")
_NO_TRACE.level = 0
_NO_TRACE.active = False


class StagingTrace(Trace):
    """A trace whose graph is replayed on new inputs (``ad.jit``, ``ad.trace``).

    Its values may not become Python values (``bool()``, ``float()``, ...), and no
    function may read one to make a decision the graph does not record (see
    :func:`read_value`): the decision would be made once, at tracing time, and replay
    would silently keep it.
    """

    __slots__ = ()
    staging = True
    freezes = True

    @property
    def transform(self) -> str:
        """The public name of the staging transform (``"jit"``, ``"trace"``)."""
        return self.owner.split("(", 1)[0]

    def refuse(self, kind: str, node: Any) -> None:
        """Raise :class:`StagingError` for ``kind`` (``"float()"``...) applied to ``node``."""
        what = (
            f"an argument of the {'jitted' if self.transform == 'jit' else 'traced'} function"
            if node.primitive is INPUT
            else f"the result of `{node.primitive.name}`"
        )
        raise StagingError(
            f"{self.transform}: cannot stage {kind} on a traced value ({what}) while tracing "
            f"{self.owner}: Python control flow and conversions to Python values run only "
            f"once, when the function is traced, so the staged program would silently keep "
            f"that one outcome. Use adfun.numpy.where (or maximum, minimum, clip) to choose "
            f"between values inside the program, pass the value as a static argument (a "
            f"Python int, bool or string), or call this part of the function outside "
            f"ad.{self.transform}."
            + (
                " If a NumPy array is being indexed with a traced index (table[i]), write "
                "adfun.numpy.take(table, i, axis=0) instead: it is recorded in the program."
                if kind == "np.asarray()"
                else ""
            )
        )


class KeptTrace(Trace):
    """A trace whose graph is used after the call that records it returns (``vjp``, the
    imperative recording): its nodes hold private copies of array constants."""

    __slots__ = ()
    freezes = True


def frozen(value: Any, copies: dict | None = None) -> Any:
    """``value``, or a private read-only copy of it if it is an array that could change.

    A writeable array is copied (the copy is read-only, so freezing it again costs
    nothing).  A view of a whole array (a transpose, a reversal, ``np.broadcast_to``)
    becomes the same view of the frozen copy of that array, so a constant and its
    transpose stay one buffer; another view is copied.  Tuples and lists (index keys) are
    frozen item by item; anything else is returned unchanged.

    ``copies`` (``id(array) -> (array, copy)``, one per trace) lets a trace that uses an
    array several times keep one copy: it is reused only while it still equals the array
    bit for bit (comparing costs half a copy), so an array modified in place between two
    uses is copied again and each node keeps the values it computed with.
    """
    kind = type(value)
    if kind is np.ndarray:
        base = value.base
        if base is None:
            return _frozen_owner(value, copies) if value.flags.writeable else value
        if type(base) is not np.ndarray or base.base is not None:
            return _frozen_owner(value, None)
        if not (base.flags.writeable or value.flags.writeable):
            return value  # a read-only view of read-only memory (e.g. of a frozen copy)
        if base.flags.c_contiguous and base.nbytes <= value.nbytes:
            offset = value.__array_interface__["data"][0] - base.__array_interface__["data"][0]
            view = np.ndarray(
                value.shape,
                value.dtype,
                buffer=_frozen_owner(base, copies),
                offset=offset,
                strides=value.strides,
            )
            view.flags.writeable = False
            return view
        return _frozen_owner(value, None)
    if kind is tuple or kind is list:
        items = [frozen(item, copies) for item in value]
        if any(new is not old for new, old in zip(items, value)):
            return kind(items)
    return value


def _frozen_owner(value: np.ndarray, copies: dict | None) -> np.ndarray:
    """A read-only copy of ``value``, reusing the one in ``copies`` if it still matches."""
    if copies is not None:
        entry = copies.get(id(value))
        if (
            entry is not None
            and entry[0] is value
            and value.flags.c_contiguous
            and value.dtype.kind != "O"
        ):
            copy = entry[1]
            if np.array_equal(value.reshape(-1).view(np.uint8), copy.reshape(-1).view(np.uint8)):
                return copy
    copy = value.copy()
    copy.flags.writeable = False
    if copies is not None:
        copies[id(value)] = (value, copy)
    return copy


def staging_trace_of(x: Any) -> StagingTrace | None:
    """The staging trace among the levels of ``x``, if any (``None`` for eager values)."""
    while type(x) is Tracer:
        trace = x.trace
        if trace.staging:
            return trace  # type: ignore[return-value]
        x = x.value
    return None


def values_hidden(x: Any) -> bool:
    """Whether code must not read the values of ``x`` to decide what to compute: under a
    staging trace (the decision would be replayed), or on another array library (its
    values stay where they are, on their device)."""
    while type(x) is Tracer:
        trace = x.trace
        if trace.staging or trace.backend is not None:
            return True
        x = x.value
    return False


def backend_trace_of(x: Any) -> Any:
    """The bottom-level backend trace of ``x`` (``None`` for NumPy values)."""
    while type(x) is Tracer:
        if x.trace.backend is not None:
            return x.trace
        x = x.value
    return None


def read_value(x: Any, function: str, advice: str) -> Any:
    """The concrete value of ``x``, read to make a decision the graph will not record.

    Eager transforms may read a value (an ordering, a mask, a count): the graph is
    differentiated once, at the values it was traced with.  A staged graph is replayed
    on other values, so the read raises :class:`StagingError` naming ``function`` and
    giving ``advice`` (how to write the step so that it is recorded, or to leave it
    outside the staged function).  Reads of shapes and dtypes need no such care.
    """
    trace = staging_trace_of(x)
    if trace is not None:
        raise StagingError(
            f"{function}: the result depends on the values of a traced argument in a way "
            f"{trace.transform} cannot record as graph nodes (while tracing {trace.owner}), "
            f"so the staged program would silently reuse the values seen while tracing. "
            f"{advice}"
        )
    backend_trace = backend_trace_of(x)
    if backend_trace is not None:
        raise NotImplementedError(
            f"{function}: the result depends on the values of an argument in a way adfun "
            f"decides in Python from NumPy values, which {backend_trace.backend.name} "
            f"arrays do not offer; this function is not supported on "
            f"{backend_trace.backend.name} arrays. Compute this step on NumPy arrays."
        )
    return full_value(x)


class open_trace:
    """Context manager: a new trace, innermost while the block runs."""

    __slots__ = ("trace", "_token")

    def __init__(self, owner: str, staging: bool = False, kept: bool = False) -> None:
        self.trace = StagingTrace(owner) if staging else KeptTrace(owner) if kept else Trace(owner)

    def __enter__(self) -> Trace:
        self._token = current_trace.set(self.trace)
        return self.trace

    def __exit__(self, *exc_info: Any) -> None:
        self.trace.active = False
        self.trace.copies = None  # the nodes hold the copies they need
        current_trace.reset(self._token)


def new_input(trace: Trace, value: Any) -> Tracer:
    """A tracer for ``value`` whose node is a fresh graph input of ``trace``.

    A trace that :attr:`~Trace.freezes` its constants holds a private copy of a caller's
    writeable array: its graph is used after the caller regains control of the array.
    """
    if trace.freezes and type(value) is np.ndarray:
        value = frozen(value, trace.copies)
    return _record(trace, INPUT, (), (), (), EMPTY_PARAMS, value)


def bind(primitive: Any, args: tuple, params: Params) -> Any:
    """Apply ``primitive`` to ``args`` of which at least one is a :class:`Tracer`."""
    top = _NO_TRACE  # below every trace: the first tracer's trace replaces it
    for arg in args:
        if type(arg) is Tracer:
            trace = arg.trace
            if trace.level > top.level:
                top = trace
    if not top.active:
        raise TracerEscapeError(primitive.name, top)
    values = []
    parents = []
    argnums = []
    lower = False
    for position, arg in enumerate(args):
        if type(arg) is Tracer:
            if arg.trace is top:
                parents.append(arg.node)
                argnums.append(position)
                value = arg.value
                values.append(value)
                if type(value) is Tracer:
                    lower = True
                continue
            lower = True
        elif top.freezes:
            arg = frozen(arg, top.copies)
        values.append(arg)
    inner = tuple(values)
    if lower:
        ans = bind(primitive, inner, params)
    elif top.backend is None:
        ans = primitive.impl(*inner, **params)
    else:
        ans = top.backend.apply(primitive, inner, params)
    return _record(top, primitive, tuple(parents), tuple(argnums), inner, params, ans)


_FIRST = (0,)
_ARRAY = np.ndarray  # one global lookup for bind_binary's constant check
_SECOND = (1,)
_BOTH = (0, 1)


def bind_binary(primitive: Any, x: Any, y: Any, params: Params) -> Tracer:
    """``bind`` for a primitive with two positional arguments, at least one a tracer."""
    parents: tuple[Node, ...]
    argnums: tuple[int, ...]
    if type(x) is Tracer:
        top = x.trace
        if type(y) is not Tracer:
            if type(y) is _ARRAY and top.freezes:
                y = frozen(y, top.copies)
            x_value, y_value, parents, argnums = x.value, y, (x.node,), _FIRST
        elif y.trace is top:
            x_value, y_value, parents, argnums = x.value, y.value, (x.node, y.node), _BOTH
        elif y.trace.level > top.level:
            top = y.trace
            x_value, y_value, parents, argnums = x, y.value, (y.node,), _SECOND
        else:
            x_value, y_value, parents, argnums = x.value, y, (x.node,), _FIRST
    else:
        top = y.trace
        if type(x) is _ARRAY and top.freezes:
            x = frozen(x, top.copies)
        x_value, y_value, parents, argnums = x, y.value, (y.node,), _SECOND
    if not top.active:
        raise TracerEscapeError(primitive.name, top)
    if type(x_value) is Tracer or type(y_value) is Tracer:
        ans = bind_binary(primitive, x_value, y_value, params)
    elif top.backend is not None:
        ans = top.backend.apply(primitive, (x_value, y_value), params)
    elif params:
        ans = primitive.impl(x_value, y_value, **params)
    else:
        ans = (primitive.traced_impl or primitive.impl)(x_value, y_value)
    return _record(top, primitive, parents, argnums, (x_value, y_value), params, ans)


def bind_unary(primitive: Any, x: Tracer, params: Params) -> Tracer:
    """``bind`` for a primitive with a single positional argument, which is a tracer."""
    trace = x.trace
    if not trace.active:
        raise TracerEscapeError(primitive.name, trace)
    value = x.value
    if type(value) is Tracer:
        ans = bind_unary(primitive, value, params)
    elif trace.backend is not None:
        ans = trace.backend.apply(primitive, (value,), params)
    else:
        ans = primitive.impl(value, **params) if params else primitive.impl(value)
    return _record(trace, primitive, (x.node,), _FIRST, (value,), params, ans)


def _record(
    trace: Trace,
    primitive: Any,
    parents: tuple,
    argnums: tuple,
    args: tuple,
    params: Params,
    ans: Any,
) -> Tracer:
    """Record one application of ``primitive`` in ``trace``; return the tracer of ``ans``.

    This runs once per traced operation, so both objects are built with plain slot stores:
    the node as a :class:`NodeLayout` made a ``Node`` (see there), the tracer without a
    call to ``Tracer.__init__`` (a third less than ``Tracer(ans, Node(...), trace)``).
    """
    layout = NodeLayout()
    layout.primitive = primitive
    layout.parents = parents
    layout.argnums = argnums
    layout.args = args
    layout.params = params
    layout.value = ans
    layout.__class__ = Node
    node: Node = layout  # type: ignore[assignment]  # a Node now: its class was just set
    trace.nodes.append(node)
    tracer = _new_object(Tracer)
    tracer.value = ans
    tracer.node = node
    tracer.trace = trace
    return tracer


_new_object = object.__new__

#: :func:`_record` for the engine's own primitives recorded without ``bind`` (the
#: transfers of :mod:`adfun._engine.backend`, which stop at the backend's level).
record = _record


def traced_argument(args: Any, kwargs: Any) -> str:
    """Which argument of a call holds a tracer: ``"positional argument 1"`` or
    ``"argument 'weights'"`` (containers are searched, for messages only)."""
    for position, arg in enumerate(args):
        if _holds_tracer(arg):
            return f"positional argument {position}"
    for name, arg in kwargs.items():
        if _holds_tracer(arg):
            return f"argument {name!r}"
    return "argument"


def _holds_tracer(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if type(item) is Tracer:
            return True
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
    return False


def full_value(x: Any) -> Any:
    """``x`` with every level of tracing removed."""
    while type(x) is Tracer:
        x = x.value
    return x


def operation(name: str) -> Any:
    """The differentiable function registered for ``name`` by ``adfun.numpy``."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise NotImplementedError(
            f"'{name}' is not available on traced values yet (adfun.numpy defines no "
            f"differentiable version of it)"
        ) from None


#: Python's operators on a tracer, all bound from this one table by
#: :func:`install_operators`: ``(method, reflected method or None, operation name)``.
OPERATORS = (
    ("__add__", "__radd__", "add"),
    ("__sub__", "__rsub__", "subtract"),
    ("__mul__", "__rmul__", "multiply"),
    ("__truediv__", "__rtruediv__", "divide"),
    ("__floordiv__", "__rfloordiv__", "floor_divide"),
    ("__mod__", "__rmod__", "remainder"),
    ("__pow__", "__rpow__", "power"),
    ("__matmul__", "__rmatmul__", "matmul"),
    ("__lt__", None, "less"),
    ("__le__", None, "less_equal"),
    ("__gt__", None, "greater"),
    ("__ge__", None, "greater_equal"),
    ("__eq__", None, "equal"),
    ("__ne__", None, "not_equal"),
    ("__getitem__", None, "getitem"),
    ("__neg__", None, "negative"),
    ("__abs__", None, "absolute"),
)


def install_operators() -> None:
    """Bind the tracer's operators from :data:`OPERATORS` (the one place they are bound).

    Run when this module is imported, and again by ``import adfun`` once ``adfun.numpy``
    has filled ``OPERATIONS``.  An operator whose function is registered then goes
    straight to it (one call instead of a call and a table lookup), or to the function's
    ``tracer_method`` where it offers one: the same operation for a tracer first argument
    and no keywords, without the checks a public function needs (the fast path;
    ``tests/test_fast_paths.py`` checks it against the public function).  Reflected
    operators, and operators whose function is not registered, look the function up on
    each call (with a clear error for one that does not exist).
    """
    for method, reflected, name in OPERATORS:
        function = OPERATIONS.get(name)
        looked_up, looked_up_reflected = _operation(name)
        setattr(
            Tracer,
            method,
            looked_up if function is None else getattr(function, "tracer_method", function),
        )
        if reflected is not None:
            setattr(Tracer, reflected, looked_up_reflected)


def _operation(name: str) -> Any:
    """The operator and the reflected operator that look ``name`` up on each call."""

    def forward(self: Tracer, *args: Any) -> Any:
        function = OPERATIONS.get(name)
        return (function or operation(name))(self, *args)

    def reflected(self: Tracer, other: Any) -> Any:
        function = OPERATIONS.get(name)
        return (function or operation(name))(other, self)

    forward.__name__ = name
    reflected.__name__ = "r" + name
    return forward, reflected


class Tracer:
    """A value being traced: it behaves like a NumPy array and records what is done to it.

    Tracers exist only inside a transform.  Use ``adfun.numpy`` (or plain NumPy, which
    dispatches to it) on them; converting one to a NumPy array or a Python number is an
    error, because the derivative would be lost.
    """

    __slots__ = ("value", "node", "trace")
    __array_priority__ = 1000.0

    def __init__(self, value: Any, node: Node, trace: Trace) -> None:
        self.value = value
        self.node = node
        self.trace = trace

    # --- array attributes -------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return getattr(self.value, "shape", ())

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        size = 1
        for side in self.shape:
            size *= side
        return size

    @property
    def dtype(self) -> Any:
        return self.node.dtype

    @property
    def T(self) -> Any:
        return operation("transpose")(self)

    @property
    def real(self) -> Any:
        return operation("real")(self)

    @property
    def imag(self) -> Any:
        return operation("imag")(self)

    def conj(self) -> Any:
        return operation("conjugate")(self)

    conjugate = conj

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of unsized object (a 0-d traced value)")
        return shape[0]

    def __iter__(self) -> Any:
        getitem = operation("getitem")
        return (getitem(self, index) for index in range(len(self)))

    def __repr__(self) -> str:
        return f"Tracer({full_value(self)!r}, level={self.trace.level})"

    def __str__(self) -> str:
        return str(full_value(self))

    # --- conversions ----------------------------------------------------------------
    def __bool__(self) -> bool:
        _refuse_staged(self, "`if` / bool()")
        return bool(full_value(self))

    def _concrete(self, kind: str) -> Any:
        _refuse_staged(self, kind)
        if not self.node.primitive.nondiff and self.node.dtype.kind in "fc":
            raise TypeError(traced_conversion_message(kind))
        return full_value(self)

    def __float__(self) -> float:
        return float(self._concrete("float()"))

    def __int__(self) -> int:
        return int(self._concrete("int()"))

    def __index__(self) -> int:
        return self._concrete("an index").__index__()

    def __complex__(self) -> complex:
        return complex(self._concrete("complex()"))

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        # A value that carries no derivative (an integer or boolean result, a comparison,
        # ``stop_gradient(...)``) may become a plain array in an eager transform: indexing
        # a constant table with it loses nothing.  A staged one may not (see read_value).
        _refuse_staged(self, "np.asarray()")
        if not self.node.primitive.nondiff and self.node.dtype.kind in "fc":
            raise TypeError(traced_conversion_message("np.asarray()"))
        value = full_value(self)
        return np.asarray(value, dtype=dtype) if dtype is not None else np.asarray(value)

    def __hash__(self) -> int:
        return id(self)

    def __array_namespace__(self, *, api_version: str | None = None) -> Any:
        """``adfun.numpy``: code written against the Array API standard
        (``xp = array_namespace(x)``) is differentiable as it is."""
        if api_version is not None and api_version not in SUPPORTED_API_VERSIONS:
            raise ValueError(
                f"adfun.numpy implements the Array API standard versions "
                f"{', '.join(SUPPORTED_API_VERSIONS)}; api_version={api_version!r} is not one"
            )
        return ARRAY_NAMESPACE[0]

    @property
    def device(self) -> Any:
        """The device of the value (``"cpu"`` for NumPy values)."""
        value = full_value(self)
        return getattr(value, "device", "cpu")

    def to_device(self, device: Any, /, *, stream: Any = None) -> Any:
        """The value on ``device``: only its own device is accepted while tracing."""
        if device != self.device:
            raise ValueError(
                f"to_device: a traced value on {self.device} cannot move to {device} inside "
                f"a transform; move the arguments before calling the transform"
            )
        return self

    @property
    def mT(self) -> Any:
        """The matrix transpose (the last two axes swapped)."""
        return OPERATIONS["matrix_transpose"](self)

    # --- NumPy protocols ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        override = NUMPY_OVERRIDES.get(ufunc if method == "__call__" else (ufunc, method))
        if override is None:
            what = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            raise NotImplementedError(
                f"{what} has no derivative rule in adfun and cannot be applied to a traced "
                f"value (its {traced_argument(inputs, kwargs)}); use an adfun.numpy function "
                f"instead, or ad.stop_gradient() the argument if it should be a constant"
            )
        if kwargs.get("out") is not None:
            raise TypeError(
                f"numpy.{ufunc.__name__}(..., out=...) cannot write into an array while "
                f"tracing: the recorded graph is immutable; drop the out= argument"
            )
        kwargs.pop("out", None)
        return override(*inputs, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        override = NUMPY_OVERRIDES.get(func)
        if override is None:
            module = getattr(func, "__module__", "numpy") or "numpy"
            raise NotImplementedError(
                f"{module}.{func.__name__} is not supported on traced values by adfun "
                f"(no derivative rule), and its {traced_argument(args, kwargs)} is traced; "
                f"apply ad.stop_gradient() to that argument if the result should be a "
                f"constant"
            )
        return override(*args, **kwargs)

    # --- operators ------------------------------------------------------------------
    # The other operators (+, *, <, [], unary -, abs, ...) are bound from OPERATORS by
    # install_operators, below the class; their signatures, for the type checker only:
    if TYPE_CHECKING:

        def __add__(self, other: Any) -> Any: ...
        def __radd__(self, other: Any) -> Any: ...
        def __sub__(self, other: Any) -> Any: ...
        def __rsub__(self, other: Any) -> Any: ...
        def __mul__(self, other: Any) -> Any: ...
        def __rmul__(self, other: Any) -> Any: ...
        def __truediv__(self, other: Any) -> Any: ...
        def __rtruediv__(self, other: Any) -> Any: ...
        def __floordiv__(self, other: Any) -> Any: ...
        def __rfloordiv__(self, other: Any) -> Any: ...
        def __mod__(self, other: Any) -> Any: ...
        def __rmod__(self, other: Any) -> Any: ...
        def __pow__(self, other: Any) -> Any: ...
        def __rpow__(self, other: Any) -> Any: ...
        def __matmul__(self, other: Any) -> Any: ...
        def __rmatmul__(self, other: Any) -> Any: ...
        def __lt__(self, other: Any) -> Any: ...
        def __le__(self, other: Any) -> Any: ...
        def __gt__(self, other: Any) -> Any: ...
        def __ge__(self, other: Any) -> Any: ...
        def __eq__(self, other: Any) -> Any: ...
        def __ne__(self, other: Any) -> Any: ...
        def __getitem__(self, key: Any) -> Any: ...
        def __neg__(self) -> Any: ...
        def __abs__(self) -> Any: ...

    def __pos__(self) -> Any:
        return self

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError(
            "a traced value cannot be modified in place (the recorded graph is immutable); "
            "build a new array instead, e.g. with adfun.numpy.where or concatenate"
        )

    # --- methods --------------------------------------------------------------------
    def sum(self, *args: Any, **kwargs: Any) -> Any:
        return operation("sum")(self, *args, **kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        return operation("mean")(self, *args, **kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        return operation("max")(self, *args, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return operation("min")(self, *args, **kwargs)

    def prod(self, *args: Any, **kwargs: Any) -> Any:
        return operation("prod")(self, *args, **kwargs)

    def reshape(self, *shape: Any, **kwargs: Any) -> Any:
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return operation("reshape")(self, shape, **kwargs)

    def transpose(self, *axes: Any) -> Any:
        chosen: Any = axes
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
            chosen = axes[0]
        return operation("transpose")(self, chosen if chosen else None)

    def dot(self, other: Any) -> Any:
        return operation("dot")(self, other)

    def ravel(self) -> Any:
        return operation("ravel")(self)

    def flatten(self) -> Any:
        return operation("ravel")(self)

    def squeeze(self, axis: Any = None) -> Any:
        return operation("squeeze")(self, axis)

    def astype(self, dtype: Any, **kwargs: Any) -> Any:
        return operation("astype")(self, dtype, **kwargs)

    def clip(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002 - NumPy's names
        return operation("clip")(self, min, max)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        return operation("swapaxes")(self, axis1, axis2)

    def cumsum(self, *args: Any, **kwargs: Any) -> Any:
        return operation("cumsum")(self, *args, **kwargs)

    def var(self, *args: Any, **kwargs: Any) -> Any:
        return operation("var")(self, *args, **kwargs)

    def std(self, *args: Any, **kwargs: Any) -> Any:
        return operation("std")(self, *args, **kwargs)

    def any(self, *args: Any, **kwargs: Any) -> Any:
        return operation("any")(self, *args, **kwargs)

    def all(self, *args: Any, **kwargs: Any) -> Any:
        return operation("all")(self, *args, **kwargs)

    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        return operation("argmax")(self, *args, **kwargs)

    def argmin(self, *args: Any, **kwargs: Any) -> Any:
        return operation("argmin")(self, *args, **kwargs)

    def item(self) -> Any:
        return self._concrete(".item()").item()

    def tolist(self) -> Any:
        return self._concrete(".tolist()").tolist()


install_operators()  # the table-lookup operators; `import adfun` binds them again


def _refuse_staged(x: Any, kind: str) -> None:
    """Raise if ``x`` carries a value of a staging trace (it cannot become a Python value)."""
    while type(x) is Tracer:
        if x.trace.staging:
            cast(StagingTrace, x.trace).refuse(kind, x.node)
        x = x.value


def any_traced(args: Any) -> bool:
    """Whether any item of ``args`` (a tuple or list; not searched deeper) is a tracer."""
    for arg in args:
        if type(arg) is Tracer:
            return True
    return False


def call_primitive(primitive: Any, args: tuple, params: Params) -> Any:
    """Apply ``primitive``: through :func:`bind` if any argument is traced, else directly."""
    for arg in args:
        if type(arg) is Tracer:
            return bind(primitive, args, params)
    return primitive.impl(*args, **params)
