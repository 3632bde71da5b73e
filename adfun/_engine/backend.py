"""Array backends: which array library a computation runs on.

NumPy is the default and costs nothing here: a transform call whose arrays are all NumPy
arrays, NumPy scalars or Python numbers never reaches this module.  Arrays of another
library that implements the Python Array API standard (CuPy, array-api-strict, PyTorch
through array-api-compat, Dask) are found once per call (:func:`backend_of`) and wrapped
in tracers of that library's :class:`BackendTrace`: the bottom level of tracing, below
every transform.  From then on adfun works exactly as for nested differentiation: every
primitive applied to those tracers goes through :func:`~adfun._engine.trace.bind`, which
at the bottom level asks the :class:`Backend` for the primitive's implementation in that
library (:data:`~adfun._engine.records.BACKEND_IMPLEMENTATIONS`, filled by
``adfun.numpy``) instead of calling NumPy.  Derivative rules, written with
``adfun.numpy``, run through the same path, so nothing is converted to NumPy.

A backend trace records no nodes (it is an evaluator, not a graph) and never closes.
"""

from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar
from types import FunctionType
from typing import Any, Callable

import numpy as np

from adfun._engine.pytree import tree_flatten, tree_unflatten
from adfun._engine.records import ANY_BACKEND, BACKEND_IMPLEMENTATIONS, Node, Params, Primitive
from adfun._engine.trace import Trace, Tracer, new_input, record

#: Types that are NumPy's (or Python's) own: a value of one of them never needs a backend.
NATIVE_TYPES = frozenset(
    (
        np.ndarray,
        float,
        int,
        bool,
        complex,
        np.float64,
        np.float32,
        np.float16,
        np.int64,
        np.int32,
        np.int8,
        np.int16,
        np.uint8,
        np.uint16,
        np.uint32,
        np.uint64,
        np.bool_,
        np.complex128,
        np.complex64,
        type(None),
        str,
    )
)


def is_foreign(value: Any) -> bool:
    """Whether ``value`` is an array of a library other than NumPy."""
    kind = type(value)
    if kind in NATIVE_TYPES or kind is Tracer or isinstance(value, (np.ndarray, np.generic)):
        return False
    if isinstance(value, type):
        return False
    return hasattr(value, "__array_namespace__") or kind.__module__ in _NAMESPACELESS_MODULES


#: Modules of array types that array-api-compat wraps in a namespace because the arrays
#: themselves have no ``__array_namespace__`` (Dask's).
_NAMESPACELESS_MODULES = frozenset(("dask.array.core",))


def foreign_leaves(tree: Any) -> list:
    """The arrays of other libraries in ``tree`` (searched through lists, tuples, dicts)."""
    found: list = []
    pending = [tree]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind in NATIVE_TYPES:
            continue
        if kind is list or kind is tuple:
            pending.extend(item)
        elif kind is dict:
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
        elif is_foreign(item):
            found.append(item)
    return found


def library_name(value: Any) -> str:
    """The array library of ``value``, as users know it (``"cupy"``, ``"numpy"``...)."""
    module = type(value).__module__.split(".", 1)[0]
    return "numpy" if module in ("numpy", "builtins") else module


class Backend:
    """An array library (and device) that adfun computes with.

    Attributes
    ----------
    name : str
        The library's name: ``"array_api_strict"``, ``"cupy"``, ``"torch"``, ``"dask"``.
    namespace : module
        Its Array API namespace (array-api-compat's wrapper where the library needs one).
    device : object
        The device of the arrays that selected the backend: constants are created there.
    array_type : type
        The type of the library's arrays.
    trace : BackendTrace
        The bottom-level trace whose tracers carry this library's arrays.
    """

    def __init__(self, name: str, namespace: Any, device: Any, array_type: type) -> None:
        self.name = name
        self.namespace = namespace
        self.device = device
        self.array_type = array_type
        self.hooks = LIBRARY_HOOKS.get(name) or LibraryHooks()
        self._implementations: dict[Any, Callable] = {}
        self._dtypes: dict[Any, Any] = {}
        self.trace = BackendTrace(self)

    def __repr__(self) -> str:
        return f"<backend {self.name} on {self.device}>"

    # --- running primitives ------------------------------------------------------------
    def implementation(self, primitive: Any) -> Callable:
        """The implementation of ``primitive`` in this library (cached)."""
        impl = self._implementations.get(primitive)
        if impl is None:
            if primitive.backends is ANY_BACKEND:
                impl = primitive.impl
            else:
                impl = _implementation(self.name, self.namespace, primitive)
            if impl is None:
                impl = functools.partial(_unsupported, primitive.name, self.name)
            self._implementations[primitive] = impl
        return impl

    def apply(self, primitive: Any, args: tuple, params: Params) -> Any:
        """``primitive`` applied to plain ``args`` of this library (or NumPy constants)."""
        impl = self.implementation(primitive)
        if getattr(impl, "raw_arguments", False):  # converts the NumPy constants it needs
            converted = (self.operand(args[0], primitive.name),) + args[1:]
        else:
            converted = tuple(self.operand(arg, primitive.name) for arg in args)
        if params:
            dtype = params.get("dtype")
            if dtype is not None and not isinstance(dtype, str):
                params = Params({**params, "dtype": self.dtype(dtype)})
            return impl(*converted, **params)
        return impl(*converted)

    def operand(self, value: Any, function: str) -> Any:
        """``value`` as an operand in this library: NumPy constants (a rule's ``np.eye``,
        a NumPy scalar) move to the backend's device; Python numbers stay as they are."""
        kind = type(value)
        if kind is self.array_type or kind in _PYTHON_SCALARS:
            return value
        if isinstance(value, (np.ndarray, np.generic)):
            if value.dtype.kind not in "biufc":
                return value
            return self.from_numpy(value)
        if kind is tuple or kind is list:
            return kind(self.operand(item, function) for item in value)
        if is_foreign(value) and not isinstance(value, self.array_type):
            raise mixed_libraries(function, self.name, library_name(value))
        return value

    def from_numpy(self, value: Any) -> Any:
        """A NumPy constant (or result) as an array of this library, on its device."""
        converted = self.hooks.from_numpy(self, value)
        if converted is None:
            converted = self.namespace.asarray(value, device=self.device)
        return converted

    # --- dtypes --------------------------------------------------------------------------
    def dtype(self, dtype: Any) -> Any:
        """The library's dtype for a NumPy dtype (or dtype-like)."""
        key = np.dtype(dtype)
        found = self._dtypes.get(key)
        if found is None:
            found = getattr(self.namespace, key.name, None)
            if found is None:
                raise TypeError(
                    f"the {self.name} backend has no dtype {key.name}; use one of "
                    f"{sorted(self.namespace.__array_namespace_info__().dtypes())}"
                )
            self._dtypes[key] = found
        return found


def _implementation(library: str, namespace: Any, primitive: Any) -> Callable | None:
    """The implementation of ``primitive`` for ``library``: its own, the standard's, or
    its fallback, the first that exists (``None`` if none does)."""
    for key in ((library, primitive.name), primitive.name, (library, "*")):
        factory = BACKEND_IMPLEMENTATIONS.get(key)
        if factory is not None:
            impl = factory(namespace, primitive)
            if impl is not None:
                return impl
    return None


def implemented(primitive: Any, namespace: Any, library: str | None = None) -> bool:
    """Whether ``primitive`` has an implementation in the Array API ``namespace`` (of
    ``library``, by default the namespace's own: ``"dask"`` for array-api-compat's
    ``array_api_compat.dask.array``)."""
    if library is None:
        parts = namespace.__name__.split(".")
        library = parts[1] if parts[0] == "array_api_compat" else parts[0]
    impl = _implementation(library, namespace, primitive)
    return impl is not None and not getattr(impl, "refuses", False)


class LibraryHooks:
    """What one array library does differently at the boundary (none by default).

    A library registers a subclass in :data:`LIBRARY_HOOKS` under its name
    (``adfun.numpy._dask`` does for Dask, whose arrays are chunked and lazy).
    """

    def from_numpy(self, backend: Backend, value: Any) -> Any:
        """A NumPy constant as the library's array, or ``None`` for ``namespace.asarray``."""
        return None

    def hints(self, leaves: list) -> dict | None:
        """What the call's arrays tell the implementations (chunks...), or ``None``."""
        return None

    def conform(self, gradient: Any, primal: Any) -> Any:
        """A gradient made like its primal beyond shape and dtype (its chunks...)."""
        return gradient


#: Library name -> its :class:`LibraryHooks`.
LIBRARY_HOOKS: dict[str, LibraryHooks] = {}

#: What the arrays of the current call told their library's hooks (see
#: :meth:`LibraryHooks.hints`): for Dask, the chunks of each axis length.
CALL_HINTS: ContextVar[dict | None] = ContextVar("adfun_call_hints", default=None)


_PYTHON_SCALARS = frozenset((float, int, bool, complex, type(None)))


def _unsupported(function: str, backend: str, *args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(
        f"adfun.numpy.{function} is not supported on {backend} arrays: it has no "
        f"implementation in the Array API standard or in {backend}. Convert the argument "
        f"to a NumPy array first (e.g. with numpy.asarray on a CPU array), or write the "
        f"computation with the standard's functions."
    )


def mixed_libraries(function: str, first: str, second: str) -> TypeError:
    """The error for a computation that mixes arrays of two libraries."""
    return TypeError(
        f"{function}: arrays of two different libraries were mixed ({first} and {second}); "
        f"adfun computes with one array library at a time. Convert one side first (e.g. "
        f"{first}.asarray(...) or {second}.asarray(...)); Python scalars may be mixed "
        f"with either."
    )


_BACKENDS: dict[tuple, Backend] = {}


def backend_of(values: list, function: str) -> Backend | None:
    """The backend of a call's arrays: ``None`` for NumPy, else the one library they share.

    ``values`` are the call's leaves (NumPy arrays, Python numbers, arrays of other
    libraries).  Mixing NumPy arrays with another library's arrays, or two libraries, or
    two devices, raises :class:`TypeError` naming both.
    """
    foreign = foreign_leaves(values)
    if not foreign:
        return None
    first = foreign[0]
    for other in foreign[1:]:
        if type(other) is not type(first):
            raise mixed_libraries(function, library_name(first), library_name(other))
    if library_name(first) not in ABSORBS_NUMPY:
        for _ in numpy_arrays_in(values):
            raise mixed_libraries(function, "numpy", library_name(first))
    from array_api_compat import array_namespace, device

    namespace = array_namespace(first)
    place = device(first)
    for other in foreign[1:]:
        if device(other) != place:
            raise TypeError(
                f"{function}: arrays on two devices were mixed ({place} and "
                f"{device(other)}); move them to one device first"
            )
    key = (type(first), namespace.__name__, repr(place))
    backend = _BACKENDS.get(key)
    if backend is None:
        backend = _BACKENDS[key] = Backend(library_name(first), namespace, place, type(first))
    return backend


#: Libraries whose arrays combine with NumPy arrays in their own arithmetic (``numpy_array
#: + dask_array`` is a Dask array): with them, a call's NumPy arrays join the backend (a
#: NumPy parameter with Dask data gives Dask results) instead of being refused.  Other
#: libraries (CuPy, PyTorch, array-api-strict) refuse the mix, as their arithmetic does.
ABSORBS_NUMPY = frozenset(("dask",))


def numpy_arrays_in(values: Any) -> list:
    """The NumPy arrays (not scalars) of ``values``: these may not meet foreign arrays."""
    found: list = []
    pending = [values]
    while pending:
        item = pending.pop()
        if type(item) is np.ndarray and item.ndim > 0:
            found.append(item)
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
    return found


class _NoNodes:
    """The node list of a backend trace: it keeps nothing (no graph, no memory)."""

    __slots__ = ()

    def append(self, node: Node) -> None:
        pass

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


class BackendTrace(Trace):
    """The bottom level of tracing for one backend: its tracers carry the library's arrays.

    Its level (0.5) is below every transform's trace and above the "no trace" sentinel,
    so ``bind`` reaches it last, where it applies the backend's implementation.
    """

    __slots__ = ("backend",)

    def __init__(self, backend: Backend) -> None:
        super().__init__(f"the {backend.name} backend")
        self.level = 0.5  # type: ignore[assignment]  # below every transform's trace
        self.nodes = _NoNodes()  # type: ignore[assignment]
        self.backend = backend  # the slot shadows Trace.backend (None: NumPy)


def wrap(backend: Backend, value: Any) -> Any:
    """``value`` as a tracer of ``backend``'s trace if it is one of its arrays."""
    if type(value) is backend.array_type:
        return new_input(backend.trace, value)
    return value


def unwrap(backend: Backend, value: Any) -> Any:
    """The library array inside a tracer of ``backend``'s trace; NumPy results (a rule's
    constant zeros, say) become arrays of the backend."""
    if type(value) is Tracer and value.trace is backend.trace:
        return value.value
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biufc":
        return backend.from_numpy(value)
    return value


def conform(gradient: Any, primal: Any) -> Any:
    """``gradient`` made like ``primal`` where both are arrays of one backend at its
    bottom level (a Dask gradient takes its primal's chunks); otherwise as it is."""
    if (
        type(gradient) is Tracer
        and type(primal) is Tracer
        and gradient.trace is primal.trace
        and isinstance(gradient.trace, BackendTrace)
    ):
        value = gradient.trace.backend.hooks.conform(gradient.value, primal.value)
        if value is not gradient.value:
            return new_input(gradient.trace, value)
    return gradient


def backend_value(x: Any) -> Any:
    """``x`` with every level of tracing above its backend's trace removed: the tracer of
    the bottom-level backend trace for another library's values, the plain value for
    NumPy's (``full_value``)."""
    while type(x) is Tracer and x.trace.backend is None:
        x = x.value
    return x


def run_on(
    backend: Backend,
    transform: str,
    call: Callable,
    args: tuple,
    kwargs: dict,
    hints: dict | None = None,
) -> Any:
    """``call(*args, **kwargs)`` with ``backend``'s arrays traced at the bottom level
    (``hints``: those of the call that created ``call``, for a returned ``vjp_fn``)."""
    leaves, tree = tree_flatten((args, kwargs))
    check_one_library(backend, leaves, transform)
    own = backend.hooks.hints(leaves)
    if hints is not None:
        own = {**hints, **own} if own else hints
    with _hinted(own):
        inner_args, inner_kwargs = tree_unflatten(tree, [wrap(backend, leaf) for leaf in leaves])
        return unwrap_results(backend, transform, call(*inner_args, **inner_kwargs))


@contextlib.contextmanager
def _hinted(hints: dict | None) -> Any:
    if hints is None:
        yield
        return
    token = CALL_HINTS.set(hints)
    try:
        yield
    finally:
        CALL_HINTS.reset(token)


def check_one_library(backend: Backend, leaves: list, transform: str) -> None:
    for leaf in leaves:
        backend.operand(leaf, f"adfun.{transform}")


def unwrap_results(backend: Backend, transform: str, result: Any) -> Any:
    """The library's arrays in place of the backend trace's tracers in ``result``."""
    leaves, tree = tree_flatten(result)
    return tree_unflatten(
        tree,
        [
            _on_backend(backend, transform, leaf)
            if type(leaf) is FunctionType
            else unwrap(backend, leaf)
            for leaf in leaves
        ],
    )


def _on_backend(backend: Backend, transform: str, function: Callable) -> Callable:
    """A function returned by a transform (``vjp_fn``), run on ``backend`` as well."""

    hints = CALL_HINTS.get()

    @functools.wraps(function)
    def function_on_backend(*args: Any, **kwargs: Any) -> Any:
        return run_on(backend, transform, function, args, kwargs, hints)

    return function_on_backend


# --- differentiable transfers between NumPy and a backend ----------------------------------
# ``adfun.testing.check_grads`` compares derivatives computed on another library with
# finite differences computed on the host: it moves the arguments to the backend and the
# results back through these two primitives, whose derivatives move the cotangents and
# tangents the other way.  They are recorded at every transform level above the backend's
# trace (by :func:`_transfer`), never at the backend level itself, where the value leaves
# (or enters) the backend.


def host_copy(value: Any) -> Any:
    """A NumPy copy of another library's array (an explicit transfer to host memory)."""
    if isinstance(value, (np.ndarray, np.generic, float, int, complex)):
        return value  # already on the host (a rule's NumPy constant)
    if hasattr(value, "get") and callable(value.get):  # CuPy
        return np.asarray(value.get())
    try:
        return np.from_dlpack(value)
    except Exception:  # noqa: BLE001 - a device NumPy cannot read: move it to the CPU first
        namespace = value.__array_namespace__()
        host = namespace.__array_namespace_info__().default_device()
        return np.from_dlpack(value.to_device(host))


def to_host(x: Any, backend: Backend) -> Any:
    """``x`` (a backend value, possibly traced above its backend's trace) as NumPy values."""
    return _transfer(TO_HOST, x, backend)


def to_backend(x: Any, backend: Backend) -> Any:
    """``x`` (NumPy values, possibly traced) as ``backend``'s arrays, traced at its level."""
    return _transfer(TO_BACKEND, x, backend)


def _transfer(primitive: Any, x: Any, backend: Backend) -> Any:
    if type(x) is Tracer and x.trace.backend is None:
        inner = _transfer(primitive, x.value, backend)
        return record(
            x.trace, primitive, (x.node,), (0,), (x.value,), Params(backend=backend), inner
        )
    if primitive is TO_HOST:
        return host_copy(x.value if type(x) is Tracer else x)
    return wrap(backend, backend.namespace.asarray(x, device=backend.device))


def _onto_backend(seed: Any, ans: Any, x: Any, backend: Backend) -> Any:
    """A cotangent of ``to_host`` (or a tangent of ``to_backend``) moved to the backend."""
    return to_backend(seed, backend)


def _onto_host(seed: Any, ans: Any, x: Any, backend: Backend) -> Any:
    """A cotangent of ``to_backend`` (or a tangent of ``to_host``) moved to the host."""
    return to_host(seed, backend)


def _as_is(x: Any, backend: Backend) -> Any:
    return x


TO_HOST = Primitive("to_host", _as_is, (_onto_backend,), (_onto_host,))
TO_BACKEND = Primitive("to_backend", _as_is, (_onto_host,), (_onto_backend,))
