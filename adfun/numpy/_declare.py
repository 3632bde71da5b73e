"""The declaration kit: the one way to declare a primitive and export a NumPy-named function.

Everything ``adfun.numpy``, ``adfun.numpy.linalg``, ``adfun.numpy.fft``, ``adfun.scipy``
and the user-facing :func:`adfun.primitive` offer is declared with two calls:

* :func:`primitive` builds the record of an operation the engine can differentiate: its
  name, its implementation on plain values, its reverse (VJP) and forward (JVP) rules,
  its test domain, and the room the coming rules need (a batching rule, a complex test
  domain, the array backends it supports).  Rules are flat functions
  ``rule(g, ans, *args, **params)`` / ``rule(t, ans, *args, **params)``, one per
  positional argument (``None``: not differentiable in that argument), declared beside
  the primitive.
* :func:`export` is the decorator that makes a function public under its NumPy (or SciPy)
  name: it registers it in the rule table (:data:`REGISTRY` for a primitive's wrapper,
  :data:`COMPOSITES` for a function written exactly with other differentiable functions),
  in the engine's operation table, and as the override NumPy's dispatch protocols call
  for ``numpy_fun``.

:func:`unary`, :func:`binary`, :func:`nondifferentiable` and :func:`function_of_values`
are shorthands built on those two for the commonest shapes of primitive (elementwise in
one or two arguments, a constant for differentiation, a function of nested values).  A
wrapper tests ``any_traced`` (or ``type(x) is Tracer`` for one argument) and either goes
straight to NumPy or binds the primitive.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs
import numpy as np

from adfun._engine.backend import NATIVE_TYPES
from adfun._engine.records import EMPTY_PARAMS, NUMPY_OVERRIDES, OPERATIONS, Params, Primitive
from adfun._engine.sharing import MIN_SIZE as SHARED_SIZE
from adfun._engine.sharing import offer, shared_value
from adfun._engine.trace import (
    Tracer,
    any_traced,
    backend_trace_of,
    bind,
    bind_binary,
    bind_unary,
    read_value,
)
from adfun.numpy._arraylike import arraylike_entry, as_traced, holds_tracer
from adfun.numpy._batching import elementwise
from adfun.numpy._dispatch import dispatching, holds_foreign, on_foreign_arrays
from adfun.numpy._fast import scale_fresh
from adfun.numpy._values import (
    Template,
    concrete,
    contains_tracer,
    put_in,
    refuse_staged_leaves,
    take_out,
)

#: Every primitive's public function, by the primitive's name (``"sin"``,
#: ``"linalg.det"``, ``"special.erf"``).
REGISTRY: dict[str, Any] = {}
#: Every differentiable function built exactly from other differentiable functions (its
#: derivatives follow from theirs), by public name; each has a ``domain`` attribute.
COMPOSITES: dict[str, Any] = {}

#: NumPy's and Python's own scalar types: a unary function's argument of one of them goes
#: straight to NumPy (plain arrays first ask for a value the reverse pass shares).
_SCALAR_TYPES = NATIVE_TYPES - {np.ndarray}

#: The backends every primitive supports today.
NUMPY_ONLY = frozenset({"numpy"})


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


def complexified(examples: Callable | Domain, positions: tuple | None = None) -> Domain:
    """The complex test domain of a function NumPy also defines on complex values.

    ``examples`` (an examples function, or a :class:`Domain`) draws real arguments; the
    complex domain adds a random imaginary part, of the same size, to each of their float
    arrays (those at ``positions`` only, if given), keeping every other argument and
    parameter.  Right for functions with no branch cut or constraint on complex values
    (sums, products, shapes, indexing); others declare complex examples of their own.
    """
    domain = examples if isinstance(examples, Domain) else Domain(examples=examples)

    def complex_examples(draw: Any, st: Any, hnp: Any) -> tuple:
        from adfun.numpy._examples import broadcast_arrays, with_imaginary_parts

        if domain.examples is not None:
            args, params = domain.examples(draw, st, hnp)
        else:
            args, params = tuple(broadcast_arrays(draw, st, hnp, domain.ranges)), {}
        return with_imaginary_parts(draw, st, hnp, args, positions), params

    return Domain(examples=complex_examples, smooth=domain.smooth)


def primitive(
    name: str,
    impl: Callable,
    vjps: Any = (),
    jvps: Any = None,
    *,
    domain: Domain | None = None,
    nondiff: bool = False,
    traced_impl: Callable | None = None,
    batch: Callable | None = None,
    complex_domain: Domain | None = None,
    backends: frozenset = NUMPY_ONLY,
) -> Primitive:
    """Declare an operation the engine can differentiate.

    Parameters
    ----------
    name : str
        The name in graphs and in :data:`REGISTRY`: NumPy's (``"sin"``), prefixed by the
        sub-namespace (``"linalg.det"``, ``"fft.fft"``, ``"special.erf"``).
    impl : callable
        Computes the value on plain (untraced) arguments.
    vjps, jvps : tuple, Variadic or Joint
        The reverse and forward rules, one per positional argument (``None`` where the
        argument cannot be differentiated); ``jvps=None``: no forward rules.
    domain : Domain, optional
        Where the rules are tested (every differentiable primitive has one).
    nondiff : bool
        The result is a constant for differentiation (comparisons, ``argsort``...).
    traced_impl : callable, optional
        The same results as ``impl``, faster on the mostly 0-d values seen while tracing.
    batch, complex_domain, backends
        The batching rule, the complex test domain, and whether ``impl`` runs on any
        array library as it is (see :class:`~adfun._engine.records.Primitive`; other
        libraries' implementations are declared in :mod:`adfun.numpy._standard`).
    """
    return Primitive(
        name,
        impl,
        vjps,
        jvps,
        domain,
        nondiff,
        traced_impl=traced_impl,
        batch=batch,
        complex_domain=complex_domain,
        backends=backends,
    )


def export(
    numpy_fun: Any = None,
    *,
    primitive: Primitive | None = None,
    domain: Domain | None = None,
    complex_domain: Domain | None = None,
    name: str | None = None,
    explain: str | None = None,
    signature: str | None = None,
    operation: bool = True,
    registered: bool = True,
    arraylike: bool = True,
) -> Callable[[Callable], Callable]:
    """Decorator: make ``fun`` a public adfun function under NumPy's name.

    Parameters
    ----------
    numpy_fun : callable, optional
        NumPy's (or SciPy's) function: plain NumPy calls of it on traced values dispatch
        to ``fun``.
    primitive : Primitive, optional
        The primitive ``fun`` binds: ``fun`` is registered under the primitive's name in
        :data:`REGISTRY` and carries it as ``fun.primitive``.  Without one, ``fun`` is a
        *composite* (written exactly with other differentiable functions), registered in
        :data:`COMPOSITES` with its test ``domain``.
    complex_domain : Domain, optional
        A composite's test domain on complex arguments (for a primitive, give it to
        :func:`primitive`), where it is defined for them.
    name : str, optional
        The public name (default ``fun.__name__``), given to ``fun``.
    explain : str, optional
        How the derivative is computed, for a docstring written when ``fun`` has none.
    signature : str, optional
        The call shown in that docstring (default ``name(...)``).
    operation : bool
        Also register ``fun`` as the engine's operation of that name (tracer operators
        and methods call these).
    registered : bool
        ``False`` for a composite of a sub-namespace (``linalg.norm``, ``fft.fftn``,
        ``scipy.stats``...): it gets its name, docstring and NumPy override only, and stays
        out of :data:`COMPOSITES` (keyed by ``adfun.numpy``'s names) and of the operations.
    arraylike : bool
        Assemble the array-like arguments that hold traced values (``f([a, b])``) into
        traced arrays before ``fun`` runs (see :mod:`adfun.numpy._arraylike`); ``False``
        for a function that takes no array-likes (indexing) or assembles them itself.
        The public function is then a thin entry in front of ``fun``; the engine's
        operation (what a tracer's operators and methods call) stays ``fun`` itself.
    """

    def decorate(fun: Callable) -> Callable:
        public = name or fun.__name__
        fun.__name__ = fun.__qualname__ = public
        if fun.__doc__ is None:
            fun.__doc__ = _doc(public, numpy_fun, explain or "", signature or f"{public}(...)")
        if primitive is not None:
            fun.primitive = primitive  # type: ignore[attr-defined]
        elif registered:
            if domain is None:
                raise TypeError(f"export({public}): a composite needs a test domain")
            fun.domain = domain  # type: ignore[attr-defined]
            fun.complex_domain = complex_domain  # type: ignore[attr-defined]
        if operation and (registered or primitive is not None):
            OPERATIONS.setdefault(primitive.name if primitive is not None else public, fun)
        if arraylike:  # array-likes holding traced values, and other libraries' arrays
            entry = arraylike_entry(fun, numpy_fun, public)
        elif not getattr(fun, "dispatches", False):  # other libraries' arrays only
            entry = dispatching(public, fun)
        else:  # the function tests its arguments itself
            entry = fun
        if primitive is not None:
            REGISTRY[primitive.name] = entry
        elif registered:
            COMPOSITES[public] = entry
        if numpy_fun is not None:
            NUMPY_OVERRIDES[numpy_fun] = entry
        return entry

    return decorate


def _doc(name: str, numpy_fun: Any, derivative: str, signature: str) -> str:
    module = getattr(numpy_fun, "__module__", None) or "numpy"
    reference = (
        f":func:`{module.replace('numpy._core', 'numpy')}.{numpy_fun.__name__}`"
        if getattr(numpy_fun, "__name__", None)
        else f"``{name}``"
    )
    return (
        f"Differentiable {reference}.\n\n"
        f"``{signature}``: same arguments and result as NumPy's.\n\n"
        f"Derivative: {derivative}\n"
    )


# --- shorthands for the common shapes of primitive -------------------------------------


def unary(
    name: str,
    numpy_fun: Callable,
    derivative: Callable | None,
    domain: Domain,
    explain: str,
    *,
    vjp: Callable | None = None,
    jvp: Callable | None = None,
    fresh: bool = False,
    public: str | None = None,
    doc: str | None = None,
    complex_domain: Domain | None = None,
) -> Callable:
    """Declare and export an elementwise function of one argument.

    ``derivative(ans, x)`` is the pointwise derivative; the reverse rule multiplies it by
    the cotangent, the forward rule by the tangent (unless ``vjp`` / ``jvp`` are given;
    with both given, ``derivative`` may be ``None``).
    ``fresh=True`` promises that ``derivative`` returns a new array (never ``ans``, ``x``
    or a view of them) or a read-only one (a forward value the reverse pass shares), so
    the product may be formed in its memory where it is writeable (see
    :func:`adfun.numpy._fast.scale_fresh`); its reverse rule also offers ``ans`` on large
    arrays to the rules still to come (:mod:`adfun._engine.sharing`: ``sin`` and ``cos``
    each reuse the other's forward value).  On a plain array of at least
    :data:`~adfun._engine.sharing.MIN_SIZE` elements, the function itself first asks the
    running reverse pass for a value its forward pass computed.  ``public`` is the
    exported name when it differs from ``name`` (``"erf"`` for ``"special.erf"``); ``doc``
    replaces the docstring written from ``explain`` (SciPy's functions word their own).
    ``complex_domain`` is where the rules are tested on complex arguments, for functions
    NumPy defines on them.
    """
    if derivative is None:
        if vjp is None or jvp is None:
            raise TypeError(f"unary {name!r}: a derivative, or both vjp and jvp, are needed")
        rules = (vjp, jvp)
    elif fresh:

        def default_rule(seed: Any, ans: Any, x: Any) -> Any:
            slope = derivative(ans, x)
            if type(slope) is np.ndarray:  # arrays: reuse the fresh temporary
                offer(prim, x, ans)  # a node still to come may want ans (see sharing)
                return scale_fresh(slope, seed)
            return seed * slope

        rules = (vjp or default_rule, jvp or default_rule)
    else:

        def plain_rule(seed: Any, ans: Any, x: Any) -> Any:
            return seed * derivative(ans, x)

        rules = (vjp or plain_rule, jvp or plain_rule)
    prim = primitive(
        name,
        numpy_fun,
        (rules[0],),
        (rules[1],),
        domain=domain,
        batch=elementwise,
        complex_domain=complex_domain,
    )

    def fun(x: Any, /, **kwargs: Any) -> Any:
        if type(x) is Tracer:
            if kwargs:
                refuse_keywords(name, kwargs)
            return bind_unary(prim, x, EMPTY_PARAMS)
        kind = type(x)
        if kind not in _SCALAR_TYPES:
            if kind is np.ndarray:
                if x.size >= SHARED_SIZE and not kwargs:
                    # Inside a reverse pass: the forward pass may have computed it.
                    shared = shared_value(prim, x)
                    if shared is not None:
                        return shared
            elif kind not in NATIVE_TYPES:
                if (kind is list or kind is tuple) and holds_tracer(x):
                    return fun(as_traced(x), **kwargs)  # an array-like holding traced values
                if holds_foreign((x,), kwargs):
                    return on_foreign_arrays(public or name, fun, (x,), kwargs)
        return numpy_fun(x, **kwargs)

    public = public or name
    fun.__doc__ = doc
    fun.dispatches = True  # type: ignore[attr-defined]
    return export(
        numpy_fun,
        primitive=prim,
        name=public,
        explain=explain,
        signature=f"{public}(x)",
        arraylike=False,  # assembled above, off the traced path
    )(fun)


def binary(
    name: str,
    numpy_fun: Callable,
    vjps: tuple,
    jvps: tuple,
    domain: Domain,
    explain: str,
    *,
    operator: Callable | None = None,
    public: str | None = None,
    doc: str | None = None,
    complex_domain: Domain | None = None,
) -> Callable:
    """Declare and export a broadcasting function of two arguments with explicit rules.

    ``operator`` (e.g. :func:`operator.mul`) computes the same as ``numpy_fun`` on NumPy
    scalars and arrays; the recorded path uses it for them (see :func:`operator_impl`).
    ``public``, ``doc`` and ``complex_domain`` as for :func:`unary`.
    """
    traced_impl = operator_impl(operator, numpy_fun) if operator is not None else None
    prim = primitive(
        name,
        numpy_fun,
        vjps,
        jvps,
        domain=domain,
        traced_impl=traced_impl,
        batch=elementwise,
        complex_domain=complex_domain,
    )
    plain = traced_impl or numpy_fun

    def fun(x: Any, y: Any, /, **kwargs: Any) -> Any:
        if type(x) is Tracer or type(y) is Tracer:
            if type(x) is list or type(x) is tuple or type(y) is list or type(y) is tuple:
                return fun(*_assembled(x, y), **kwargs)
            if kwargs:
                refuse_keywords(name, kwargs)
            return bind_binary(prim, x, y, EMPTY_PARAMS)
        if type(x) not in NATIVE_TYPES or type(y) not in NATIVE_TYPES:
            if holds_tracer(x) or holds_tracer(y):
                return fun(*_assembled(x, y), **kwargs)
            if holds_foreign((x, y), kwargs):
                return on_foreign_arrays(public or name, fun, (x, y), kwargs)
        if kwargs:
            return numpy_fun(x, y, **kwargs)
        return plain(x, y)

    def method(x: Any, y: Any) -> Any:
        # The tracer's operator (``x * y`` with ``x`` traced): no keywords, no type checks.
        return bind_binary(prim, x, y, EMPTY_PARAMS)

    public = public or name
    method.__name__ = method.__qualname__ = public
    fun.tracer_method = method  # type: ignore[attr-defined]
    fun.__doc__ = doc
    fun.dispatches = True  # type: ignore[attr-defined]
    return export(
        numpy_fun,
        primitive=prim,
        name=public,
        explain=explain,
        signature=f"{public}(x, y)",
        arraylike=False,  # assembled above, off the common traced path
    )(fun)


def _assembled(x: Any, y: Any) -> tuple:
    """Both arguments of a binary function, array-likes holding traced values assembled."""
    return (
        as_traced(x) if holds_tracer(x) else x,
        as_traced(y) if holds_tracer(y) else y,
    )


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


def nondifferentiable(
    name: str, numpy_fun: Callable, explain: str, *, batch: Callable = elementwise
) -> Callable:
    """Declare and export a function whose result is a constant for differentiation.

    On traced values it still records a node (so graphs replay it), but no derivative
    flows through it.  ``batch`` is its batching rule (default: elementwise).
    """
    prim = primitive(name, numpy_fun, (), (), nondiff=True, batch=batch)

    def fun(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if type(arg) is Tracer:
                return bind(prim, args, Params(_freeze_params(kwargs)))
        if holds_foreign(args, kwargs):
            return on_foreign_arrays(name, fun, args, kwargs)
        return numpy_fun(*args, **kwargs)

    fun.dispatches = True  # type: ignore[attr-defined]

    reference = f" (:func:`numpy.{name}`)" if hasattr(np, name) else ""
    fun.__doc__ = (
        f"``{name}``{reference} on plain or traced values.\n\n"
        f"The result is a constant for differentiation: {explain}\n"
    )
    return export(numpy_fun, primitive=prim, name=name)(fun)


def function_of_values(
    name: str,
    numpy_fun: Callable,
    *,
    several: bool = False,
    doc: str | None = None,
    refuse_staging: str | None = None,
    batch: Callable | None = None,
) -> Callable:
    """Declare a function of the values that is a constant for differentiation.

    Unlike :func:`nondifferentiable`, traced arguments may sit anywhere in its arguments
    (inside lists, tuples or keyword arguments): they are taken out into the node's
    parents and the rest of the call is kept, as a :class:`~adfun.numpy._values.Template`,
    in its params, so that a graph replays the call.  The returned function carries the
    primitive as ``fun.primitive``; it is not exported (the caller registers it where it
    belongs: a family, the namespace table, or a private helper of a composite).

    Parameters
    ----------
    name : str
        The primitive's name in graphs.
    numpy_fun : callable
        The function on plain values.
    several : bool
        ``numpy_fun`` returns a tuple of arrays (like ``nonzero``): the result is a tuple
        of traced values, one node per item.
    doc : str, optional
        The docstring (default: a sentence naming ``numpy.<name>``).
    refuse_staging : str, optional
        Advice for the user, for functions whose result's *shape* depends on the values:
        under a staging trace (``jit``, ``trace``) the call raises
        :class:`~adfun.StagingError` naming the function, with that advice.
    batch : callable, optional
        The batching rule (default: a loop over the examples); it receives the traced
        leaves as positional arguments and the ``template`` param.
    """

    def impl(*leaves: Any, template: Any = None) -> Any:
        result = numpy_fun(*put_in(template.args, leaves), **put_in(template.kwargs, leaves))
        if template.output is not None:
            result = result[template.output]
        return result

    prim = primitive(name, impl, (), (), nondiff=True, batch=batch)

    def fun(*args: Any, **kwargs: Any) -> Any:
        if not any_traced(args) and not (contains_tracer(args) or contains_tracer(kwargs)):
            if holds_foreign(args, kwargs):
                return on_foreign_arrays(name, fun, args, kwargs)
            return numpy_fun(*args, **kwargs)
        leaves: list = []
        args_out = take_out(args, leaves)
        kwargs_out = take_out(kwargs, leaves)
        leaves_tuple = tuple(leaves)
        if refuse_staging is not None:
            refuse_staged_leaves(leaves_tuple, f"adfun.numpy.{name}", refuse_staging)
        if several:
            for leaf in leaves_tuple:  # the count of results is read from the values
                if backend_trace_of(leaf) is not None:
                    read_value(leaf, f"adfun.numpy.{name}", "Call it on concrete values.")
            count = len(numpy_fun(*concrete(args), **concrete(kwargs)))
            return tuple(
                bind(prim, leaves_tuple, Params(template=Template(args_out, kwargs_out, index)))
                for index in range(count)
            )
        return bind(prim, leaves_tuple, Params(template=Template(args_out, kwargs_out, None)))

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = doc or (
        f"{name} (:func:`numpy.{name}`) on plain or traced values.\n\n"
        f"The result is a constant for differentiation.\n"
    )
    fun.primitive = prim  # type: ignore[attr-defined]
    return fun


def _freeze_params(kwargs: dict) -> dict:
    return {
        key: tuple(value) if isinstance(value, list) else value for key, value in kwargs.items()
    }


def refuse_keywords(name: str, kwargs: dict) -> None:
    """The error for keyword arguments a traced call of ``name`` does not support."""
    raise TypeError(
        f"adfun.numpy.{name}: the keyword argument(s) {sorted(kwargs)} are not supported on "
        f"traced values; call {name} with positional arrays only"
    )
