"""How ``adfun.numpy`` declares its functions: primitives, wrappers and the registry.

Every differentiable function is declared **once**, with its reverse (VJP) rule, its
forward (JVP) rule and its test domain side by side.  The wrapper that users call goes
straight to NumPy when no argument is traced (one type check) and to the engine's
``bind`` otherwise.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs
import numpy as np

from adfun._records import EMPTY_PARAMS, NUMPY_OVERRIDES, OPERATIONS, Params, Primitive
from adfun._trace import Tracer, bind, bind_binary, bind_unary, full_value

#: Every primitive declared by ``adfun.numpy`` (and its sub-packages), by public name.
REGISTRY: dict[str, Any] = {}
#: Every differentiable function built from other differentiable functions (exactly), by
#: public name; each has a ``domain`` attribute for the composite test.
COMPOSITES: dict[str, Any] = {}


@attrs.frozen
class Domain:
    """Where a primitive's rules are tested.

    Attributes
    ----------
    ranges : tuple of (low, high)
        For elementwise primitives: the interval each positional argument is drawn from.
        A negative ``low`` with ``magnitude=True`` means ``low <= |x| <= high`` instead.
    magnitude : bool
        Draw ``|x|`` from the range and a random sign (keeps away from a kink at 0).
    smooth : bool
        Whether second derivatives are checked too.
    examples : callable or None
        ``examples(draw, st, hnp) -> (args, params)`` for primitives whose arguments are
        not simply broadcastable arrays (shapes, indices, axes, matrices...).
    """

    ranges: tuple = ()
    magnitude: bool = False
    smooth: bool = True
    examples: Callable | None = None


def _register(fun: Callable, primitive: Primitive, numpy_fun: Any, doc: str) -> Callable:
    name = primitive.name
    fun.__name__ = name
    fun.__qualname__ = name
    fun.__doc__ = doc
    fun.primitive = primitive  # type: ignore[attr-defined]
    REGISTRY[name] = fun
    OPERATIONS.setdefault(name, fun)
    if numpy_fun is not None:
        NUMPY_OVERRIDES[numpy_fun] = fun
    return fun


def _doc(name: str, numpy_name: str | None, derivative: str, signature: str) -> str:
    reference = f":func:`numpy.{numpy_name}`" if numpy_name else f"``{name}``"
    return (
        f"Differentiable {reference}.\n\n"
        f"``{signature}``: same arguments and result as NumPy's.\n\n"
        f"Derivative: {derivative}\n"
    )


def unary(
    name: str,
    numpy_fun: Callable,
    derivative: Callable,
    domain: Domain,
    explain: str,
    *,
    vjp: Callable | None = None,
    jvp: Callable | None = None,
    fresh: bool = False,
) -> Callable:
    """Declare an elementwise function of one argument.

    ``derivative(ans, x)`` is the pointwise derivative; the reverse rule multiplies it by
    the cotangent, the forward rule by the tangent (unless ``vjp`` / ``jvp`` are given).
    ``fresh=True`` promises that ``derivative`` returns a new array (never ``ans``, ``x``
    or a view of them), so the product may be formed in its memory.
    """

    if fresh:

        def default_rule(seed: Any, ans: Any, x: Any) -> Any:
            slope = derivative(ans, x)
            if type(slope) is np.ndarray:  # large arrays: reuse the fresh temporary
                return scale_fresh(slope, seed)
            return seed * slope

    else:

        def default_rule(seed: Any, ans: Any, x: Any) -> Any:
            return seed * derivative(ans, x)

    primitive = Primitive(name, numpy_fun, (vjp or default_rule,), (jvp or default_rule,), domain)

    def fun(x: Any, /, **kwargs: Any) -> Any:
        if type(x) is Tracer:
            if kwargs:
                _refuse_kwargs(name, kwargs)
            return bind_unary(primitive, x, EMPTY_PARAMS)
        return numpy_fun(x, **kwargs)

    return _register(fun, primitive, numpy_fun, _doc(name, name, explain, f"{name}(x)"))


def binary(
    name: str,
    numpy_fun: Callable,
    vjps: tuple,
    jvps: tuple,
    domain: Domain,
    explain: str,
    *,
    operator: Callable | None = None,
) -> Callable:
    """Declare a broadcasting function of two arguments with explicit rules.

    ``operator`` (e.g. :func:`operator.mul`) computes the same as ``numpy_fun`` on NumPy
    scalars and arrays; the recorded path uses it for them (see :func:`operator_impl`).
    """
    traced_impl = operator_impl(operator, numpy_fun) if operator is not None else None
    primitive = Primitive(name, numpy_fun, vjps, jvps, domain, traced_impl=traced_impl)

    plain = traced_impl or numpy_fun

    def fun(x: Any, y: Any, /, **kwargs: Any) -> Any:
        if type(x) is Tracer or type(y) is Tracer:
            if kwargs:
                _refuse_kwargs(name, kwargs)
            return bind_binary(primitive, x, y, EMPTY_PARAMS)
        if kwargs:
            return numpy_fun(x, y, **kwargs)
        return plain(x, y)

    def method(x: Any, y: Any) -> Any:
        # The tracer's operator (``x * y`` with ``x`` traced): no keywords, no type checks.
        return bind_binary(primitive, x, y, EMPTY_PARAMS)

    method.__name__ = method.__qualname__ = name
    fun.tracer_method = method  # type: ignore[attr-defined]
    return _register(fun, primitive, numpy_fun, _doc(name, name, explain, f"{name}(x, y)"))


#: Operand types on which Python's arithmetic operators give exactly the ufunc's result.
_OPERATOR_OPERANDS = frozenset((np.ndarray, np.float64, np.float32, np.float16, float, int))
_PYTHON_NUMBERS = frozenset((float, int))


def operator_impl(operator: Callable, ufunc: Callable) -> Callable:
    """``ufunc(x, y)``, through Python's ``operator`` where that is the same and cheaper.

    On 0-d NumPy values an operator costs a tenth of a ufunc call.  Other operands (lists,
    array subclasses, two Python numbers, which the operator would not turn into NumPy
    values) go to the ufunc.
    """

    def impl(x: Any, y: Any) -> Any:
        x_type = type(x)
        y_type = type(y)
        if (
            x_type in _OPERATOR_OPERANDS
            and y_type in _OPERATOR_OPERANDS
            and not (x_type in _PYTHON_NUMBERS and y_type in _PYTHON_NUMBERS)
        ):
            return operator(x, y)
        return ufunc(x, y)

    impl.__name__ = ufunc.__name__
    return impl


def declare(
    name: str,
    impl: Callable,
    vjps: Any,
    jvps: Any,
    domain: Domain | None,
    explain: str,
    *,
    numpy_fun: Any = None,
    nondiff: bool = False,
) -> Primitive:
    """Declare a primitive whose wrapper is written by hand (see :func:`wrap`)."""
    return Primitive(name, impl, vjps, jvps, domain, nondiff)


def wrap(
    primitive: Primitive, numpy_fun: Any, explain: str, signature: str
) -> Callable[[Callable], Callable]:
    """Decorator registering a hand-written wrapper for ``primitive``."""

    def decorate(fun: Callable) -> Callable:
        numpy_name = getattr(numpy_fun, "__name__", None) if numpy_fun is not None else None
        doc = fun.__doc__ or _doc(primitive.name, numpy_name, explain, signature)
        return _register(fun, primitive, numpy_fun, doc)

    return decorate


def scale_fresh(fresh: Any, seed: Any) -> Any:
    """``seed * fresh``, computed in the memory of ``fresh`` when that is safe.

    ``fresh`` must be a temporary nobody else holds.  Large elementwise gradients spend
    much of their time allocating; reusing the temporary saves one allocation per rule.
    """
    if (
        type(fresh) is np.ndarray
        and type(seed) is not Tracer
        and getattr(seed, "dtype", None) == fresh.dtype
        and getattr(seed, "shape", ()) == fresh.shape
    ):
        if _broadcast_one(seed):
            return fresh
        return np.multiply(fresh, seed, out=fresh)
    if (type(fresh) is Tracer and _broadcast_one(seed) and seed.dtype == fresh.dtype
            and seed.shape == fresh.shape):
        return fresh  # the same value without recording a multiplication by one
    return seed * fresh


def _broadcast_one(seed: Any) -> bool:
    """Whether ``seed`` is a 1 broadcast to an array (a reduction's cotangent of 1.0).

    ``grad`` of ``sum(f(x))`` hands every rule below the sum such a seed; multiplying by
    it would cost a pass over the data (and under forward-over-reverse, two).
    """
    return (type(seed) is np.ndarray and seed.size > 0 and not any(seed.strides)
            and seed.flat[0] == 1)


def negate_fresh(fresh: Any) -> Any:
    """``-fresh``, in place when ``fresh`` is a plain temporary array."""
    if type(fresh) is np.ndarray:
        return np.negative(fresh, out=fresh)
    return -fresh


def composite(numpy_fun: Any, domain: Domain, *, name: str | None = None,
              operation: bool = True) -> Callable[[Callable], Callable]:
    """Decorator registering a differentiable *composite*: a function written with other
    differentiable ``adfun.numpy`` functions, exactly (its derivatives follow from theirs).

    ``domain.examples(draw, st, hnp)`` gives ``(args, kwargs)``; the composite test checks
    both modes against finite differences in every float array argument.  ``numpy_fun``
    (if not ``None``) dispatches plain NumPy calls on traced values here.
    """

    def decorate(fun: Callable) -> Callable:
        public = name or fun.__name__
        fun.domain = domain  # type: ignore[attr-defined]
        COMPOSITES[public] = fun
        if operation:
            OPERATIONS.setdefault(public, fun)
        if numpy_fun is not None:
            NUMPY_OVERRIDES[numpy_fun] = fun
        return fun

    return decorate


def apply(primitive: Primitive, args: tuple, params: Params) -> Any:
    """Call ``primitive`` on ``args``: traced through ``bind``, else directly."""
    for arg in args:
        if type(arg) is Tracer:
            return bind(primitive, args, params)
    return primitive.impl(*args, **params)


def nondifferentiable(name: str, numpy_fun: Callable, explain: str) -> Callable:
    """Declare a function whose result is a constant for differentiation.

    On traced arguments it still records a node (so graphs replay it), but no derivative
    flows through it.
    """
    primitive = Primitive(name, numpy_fun, (), (), None, nondiff=True)

    def fun(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if type(arg) is Tracer:
                return bind(primitive, args, Params(_freeze_params(kwargs)))
        return numpy_fun(*args, **kwargs)

    reference = f" (:func:`numpy.{name}`)" if hasattr(np, name) else ""
    return _register(
        fun,
        primitive,
        numpy_fun,
        f"``{name}``{reference} on plain or traced values.\n\n"
        f"The result is a constant for differentiation: {explain}\n",
    )


def _freeze_params(kwargs: dict) -> dict:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in kwargs.items()}


def _refuse_kwargs(name: str, kwargs: dict) -> None:
    raise TypeError(
        f"adfun.numpy.{name}: the keyword argument(s) {sorted(kwargs)} are not supported on "
        f"traced values; call {name} with positional arrays only"
    )


# --- shape helpers used by the rules -------------------------------------------------


def shape_of(x: Any) -> tuple:
    """The shape of an array, a tracer, a NumPy scalar or a Python number."""
    shape = getattr(x, "shape", None)
    if shape is not None:
        return tuple(shape)
    return np.shape(full_value(x))


def ndim_of(x: Any) -> int:
    return len(shape_of(x))


def dtype_of(x: Any) -> np.dtype:
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return np.dtype(dtype)
    return np.result_type(full_value(x))


def normalize_axis(axis: Any, ndim: int, function: str) -> tuple | None:
    """``None`` or a sorted tuple of non-negative axes; errors name the function."""
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    normalized = []
    for item in axes:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"adfun.numpy.{function}: axis must be an int or tuple of ints, "
                            f"got {axis!r}")
        if not -ndim <= item < max(ndim, 1) or (ndim == 0 and item not in (0, -1)):
            raise np.exceptions.AxisError(
                f"adfun.numpy.{function}: axis {item} is out of bounds for an array of "
                f"dimension {ndim}"
            )
        normalized.append(int(item) % max(ndim, 1))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"adfun.numpy.{function}: repeated axis in {axis!r}")
    return tuple(sorted(normalized))


def kept_shape(shape: tuple, axes: tuple | None) -> tuple:
    """``shape`` with the reduced ``axes`` set to 1 (as ``keepdims=True`` gives)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if index in axes else side for index, side in enumerate(shape))
