"""User-defined primitives: ``adfun.primitive``, ``defvjp`` and ``defjvp``.

A custom primitive is a function the engine treats as one operation: on traced
arguments it records a single node (named after the function) instead of tracing
through the body, and differentiates it with the rules given to ``defvjp`` and
``defjvp``.  The rules are stored in the frozen :class:`~adfun._engine.records.Primitive`
record; defining rules builds a new record, so a graph traced earlier keeps the rules
it was traced with.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any, Callable, Generic, ParamSpec, TypeVar

import attrs
import numpy as np

from adfun._engine.pytree import tree_flatten
from adfun._engine.records import ANY_BACKEND, EMPTY_PARAMS, Params
from adfun._engine.sharing import current_sharing
from adfun._engine.trace import Tracer, any_traced, bind, full_value
from adfun.numpy import _declare as kit

#: How each kind of rule is called, for error messages.
_SIGNATURES = {"vjp": "rule(g, ans, *args, **kwargs)", "jvp": "rule(t, ans, *args, **kwargs)"}


P = ParamSpec("P")
R = TypeVar("R")


class CustomPrimitive(Generic[P, R]):
    """A function made into a primitive by :func:`primitive` (see there).

    Attributes
    ----------
    primitive : Primitive
        The current frozen record: name, implementation and rules.
    """

    def __init__(self, fun: Callable[P, R]) -> None:
        if not callable(fun):
            raise TypeError(
                f"adfun.primitive: expected a function, got {type(fun).__name__} {fun!r:.60}"
            )
        functools.update_wrapper(self, fun)
        self.fun = fun
        # The user's function runs on whatever arrays it is given: on any array library.
        self.primitive = kit.primitive(_name(fun), fun, vjps=(), jvps=None, backends=ANY_BACKEND)
        self._positional = _positional_count(fun)
        self._required = _required_count(fun)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if not any_traced(args):
            for arg in args:
                if type(arg) in (tuple, list, dict):
                    self._refuse_nested_tracers(arg)
            for key, value in kwargs.items():
                self._refuse_traced_keyword(key, value)
            return self.fun(*args, **kwargs)
        params = self._params(kwargs) if kwargs else EMPTY_PARAMS
        out = bind(self.primitive, args, params)
        value = full_value(out)
        if type(value) in (tuple, list, dict):
            raise TypeError(
                f"custom primitive '{self.primitive.name}' returned a "
                f"{type(value).__name__}; a primitive must return a single array or number. "
                f"Split it into one primitive per output"
            )
        return out

    # --- rules ----------------------------------------------------------------------
    def defvjp(self, *rules: Callable | None) -> None:
        """Define the reverse-mode rules, one per positional argument.

        Parameters
        ----------
        *rules : callable or None
            Rule *i* is ``rule(g, ans, *args, **kwargs)``: given the cotangent ``g`` of the
            output, the output ``ans`` and the primitive's arguments, it returns the
            cotangent of positional argument *i* (or ``None`` for zero).  ``None`` in
            place of a rule marks the argument as not differentiable: differentiating
            with respect to it raises ``NotImplementedError``.  Arguments beyond the
            last rule are not differentiable either.

        Examples
        --------
        >>> import adfun as ad, adfun.numpy as anp
        >>> @ad.primitive
        ... def cube(x):
        ...     return x ** 3
        >>> cube.defvjp(lambda g, ans, x: g * 3.0 * x ** 2)
        >>> float(ad.grad(cube)(2.0))
        12.0
        """
        rules = self._check_rules("defvjp", rules)
        self.primitive = attrs.evolve(self.primitive, vjps=self._wrap_rules("vjp", rules))

    def defjvp(self, *rules: Callable | None) -> None:
        """Define the forward-mode rules, one per positional argument.

        Parameters
        ----------
        *rules : callable or None
            Rule *i* is ``rule(t, ans, *args, **kwargs)``: given the tangent ``t`` of
            positional argument *i*, the output ``ans`` and the arguments, it returns
            that argument's contribution to the output tangent (or ``None`` for zero).
            ``None`` marks an argument as not differentiable.

        Examples
        --------
        >>> import adfun as ad
        >>> @ad.primitive
        ... def cube(x):
        ...     return x ** 3
        >>> cube.defjvp(lambda t, ans, x: t * 3.0 * x ** 2)
        >>> ad.jvp(cube, (2.0,), (1.0,))
        (np.float64(8.0), np.float64(12.0))
        """
        rules = self._check_rules("defjvp", rules)
        self.primitive = attrs.evolve(self.primitive, jvps=self._wrap_rules("jvp", rules))

    def defbatch(self, rule: Callable) -> None:
        """Define the batching rule used by :func:`adfun.vmap` (default: a loop).

        Parameters
        ----------
        rule : callable
            ``rule(size, dims, *args, **kwargs)``: ``dims`` holds, per positional
            argument, the axis of ``args[i]`` that is the batch axis (``None`` for an
            argument that is the same for every example), ``size`` the batch size.  It
            returns ``(out, out_dim)``: the results of all examples at once and the axis
            of ``out`` along which they are stacked.  Write it with ``adfun.numpy`` (or
            call the primitive itself) so that transforms around ``vmap`` record it.

        Examples
        --------
        >>> import numpy as np, adfun as ad
        >>> @ad.primitive
        ... def cube(x):
        ...     return x ** 3
        >>> cube.defbatch(lambda size, dims, x: (cube(x), dims[0]))
        >>> ad.vmap(cube)(np.array([1.0, 2.0]))
        array([1., 8.])
        """
        if not callable(rule):
            raise TypeError(
                f"{self.primitive.name}.defbatch: the rule must be a function "
                f"rule(size, dims, *args, **kwargs), got {type(rule).__name__} {rule!r:.60}"
            )

        def batch(primitive: Any, size: int, dims: tuple, *args: Any, **params: Any) -> Any:
            return rule(size, dims, *args, **params)

        self.primitive = attrs.evolve(self.primitive, batch=batch)

    def _check_rules(self, method: str, rules: tuple) -> tuple:
        name = self.primitive.name
        if not rules:
            raise TypeError(
                f"{name}.{method}() needs at least one rule (one per positional argument, "
                f"None for an argument that is not differentiable)"
            )
        for position, rule in enumerate(rules):
            if rule is not None and not callable(rule):
                raise TypeError(
                    f"{name}.{method}: rule {position} (for positional argument {position}) "
                    f"must be a function or None, got {type(rule).__name__} {rule!r:.60}"
                )
        if self._positional is not None and len(rules) > self._positional:
            raise TypeError(
                f"{name}.{method}: got {len(rules)} rules, but {name} takes only "
                f"{self._positional} positional argument(s); give one rule per positional "
                f"argument"
            )
        for position, rule in enumerate(rules):
            if rule is not None:
                self._check_arity(method, position, rule)
        return tuple(rules)

    def _check_arity(self, method: str, position: int, rule: Callable) -> None:
        """Refuse a rule that cannot take ``(g, ans, *args)``, e.g. autograd's curried style."""
        name = self.primitive.name
        if self._required is None:
            return
        accepted = _positional_count(rule)
        if accepted is None or accepted >= self._required + 2:
            return
        kind = method[3:]
        signature = _SIGNATURES[kind]
        seed = "g" if kind == "vjp" else "t"
        example = ", ".join([seed, "ans", *self._argument_names()])
        if kind == "vjp" and accepted == self._required + 1:
            raise TypeError(
                f"{name}.{method}: rule {position} (for positional argument {position}) takes "
                f"{accepted} positional argument(s), like autograd's curried style "
                f"'lambda ans, x: lambda g: ...'; adfun calls a VJP rule once as {signature} "
                f"and it returns the cotangent: write it as 'lambda {example}: ...'"
            )
        raise TypeError(
            f"{name}.{method}: rule {position} (for positional argument {position}) takes "
            f"{accepted} positional argument(s), but it is called as {signature} with "
            f"{name}'s {self._required} positional argument(s): write it as "
            f"'lambda {example}: ...'"
        )

    def _argument_names(self) -> list:
        try:
            parameters = inspect.signature(self.fun).parameters.values()
        except (TypeError, ValueError):
            return ["*args"]
        return [
            parameter.name
            for parameter in parameters
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
            and parameter.default is parameter.empty
        ]

    def _wrap_rules(self, kind: str, rules: tuple) -> tuple:
        name = self.primitive.name
        return tuple(
            None if rule is None else _checked_rule(name, kind, position, rule)
            for position, rule in enumerate(rules)
        )

    # --- pickling -------------------------------------------------------------------
    def __reduce__(self) -> Any:
        """Pickled by reference: the module and qualified name of the decorated function."""
        module = getattr(self.fun, "__module__", None)
        qualname = getattr(self.fun, "__qualname__", None)
        if module is None or qualname is None or "<locals>" in qualname or "<lambda>" in qualname:
            raise TypeError(
                f"cannot pickle custom primitive '{self.primitive.name}': it is pickled by "
                f"reference to its module and name, and {qualname or self.primitive.name!r} "
                f"is not reachable from module {module!r}; define it at module level"
            )
        return (_resolve_custom, (module, qualname))

    # --- helpers --------------------------------------------------------------------
    def _params(self, kwargs: dict) -> Params:
        frozen = {}
        for key, value in kwargs.items():
            value = _freeze(value)
            self._refuse_traced_keyword(key, value)
            try:
                hash(value)
            except TypeError:
                raise TypeError(
                    f"custom primitive '{self.primitive.name}': keyword argument {key!r} is a "
                    f"{type(value).__name__}, which is not hashable; keyword arguments are "
                    f"static parameters recorded in the graph, so use numbers, strings or "
                    f"tuples (pass arrays as positional arguments)"
                ) from None
            frozen[key] = value
        return Params(frozen)

    def _refuse_traced_keyword(self, key: str, value: Any) -> None:
        if type(value) is Tracer or (
            type(value) in (tuple, list, dict)
            and any(type(leaf) is Tracer for leaf in tree_flatten(value)[0])
        ):
            raise TypeError(
                f"custom primitive '{self.primitive.name}': keyword argument {key!r} is a "
                f"traced value; keyword arguments are static parameters, so pass values "
                f"to differentiate as positional arguments"
            )

    def _refuse_nested_tracers(self, container: Any) -> None:
        if any(type(leaf) is Tracer for leaf in tree_flatten(container)[0]):
            raise TypeError(
                f"custom primitive '{self.primitive.name}': a positional argument is a "
                f"{type(container).__name__} containing traced values; a primitive takes "
                f"arrays as separate positional arguments (write f(*values))"
            )

    def __repr__(self) -> str:
        return f"<adfun.primitive {self.primitive.name}>"


def _name(fun: Callable) -> str:
    return getattr(fun, "__name__", None) or type(fun).__name__


def _positional_count(fun: Callable) -> int | None:
    """How many positional arguments ``fun`` accepts (``None``: any number / unknown)."""
    try:
        signature = inspect.signature(fun)
    except (TypeError, ValueError):
        return None
    count = 0
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def _required_count(fun: Callable) -> int | None:
    """How many positional arguments a call of ``fun`` passes at least (``None``: unknown)."""
    try:
        signature = inspect.signature(fun)
    except (TypeError, ValueError):
        return None
    return sum(
        1
        for parameter in signature.parameters.values()
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        and parameter.default is parameter.empty
    )


def _resolve_custom(module: str, qualname: str) -> CustomPrimitive:
    """The custom primitive named ``qualname`` in ``module`` (the inverse of pickling it)."""
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part, None)
        if target is None:
            break
    if not isinstance(target, CustomPrimitive):
        raise TypeError(
            f"cannot unpickle custom primitive {module}.{qualname}: that name is "
            f"{type(target).__name__}, not an adfun.primitive; the pickle refers to it by "
            f"name, so it must still be defined there"
        )
    return target


# --------------------------------------------------------------------------------------
# Checking what user rules return
# --------------------------------------------------------------------------------------

_ARRAY_TYPES = (np.ndarray, np.generic, Tracer)


def _checked_rule(name: str, kind: str, position: int, rule: Callable) -> Callable:
    """``rule`` wrapped so that a failure or a malformed result names the primitive.

    Only user rules pay for this: the engine's built-in rules are checked by the tests.
    """
    try:
        signature = inspect.signature(rule)
    except (TypeError, ValueError):
        signature = None
    check = _check_cotangent if kind == "vjp" else _check_tangent

    def checked(seed: Any, ans: Any, *args: Any, **params: Any) -> Any:
        # A user rule gets no shared forward values (adfun._engine.sharing): they are
        # read-only, and a rule may write into what it computes or return it.
        token = current_sharing.set(None)
        try:
            out = rule(seed, ans, *args, **params)
        except Exception as err:
            raise _rule_failure(
                name, kind, position, signature, err, (seed, ans, *args), params
            ) from err
        finally:
            current_sharing.reset(token)
        if out is None:
            return None
        check(name, position, out, args[position] if kind == "vjp" else ans)
        return out

    checked.__name__ = getattr(rule, "__name__", "rule")
    checked.__qualname__ = getattr(rule, "__qualname__", checked.__name__)
    checked.__wrapped__ = rule  # type: ignore[attr-defined]
    return checked


def _rule_name(name: str, kind: str, position: int) -> str:
    return f"custom primitive '{name}': its {kind.upper()} rule for positional argument {position}"


def _rule_failure(
    name: str, kind: str, position: int, signature: Any, err: Exception, args: tuple, params: dict
) -> Exception:
    """The exception to raise when a user rule raised ``err``: same type, named message."""
    where = _rule_name(name, kind, position)
    message = None
    if type(err) is TypeError and signature is not None:
        try:
            signature.bind(*args, **params)
        except TypeError as mismatch:
            keywords = f" and keyword argument(s) {sorted(params)}" if params else ""
            message = (
                f"{where} cannot be called as {_SIGNATURES[kind]} ({len(args)} positional "
                f"argument(s){keywords}): {mismatch}. Give it the signature "
                f"{_SIGNATURES[kind]}"
            )
    if message is None:
        message = f"{where} raised {type(err).__name__}: {err}"
    try:
        failure = type(err)(message)
    except Exception:
        failure = RuntimeError(message)
    if not isinstance(failure, type(err)) or str(failure) != message:
        failure = RuntimeError(message)
    return failure


def _describe(value: Any) -> tuple[tuple, Any]:
    """Shape and dtype of an array-like value (a Python scalar's dtype: NumPy's default)."""
    if isinstance(value, _ARRAY_TYPES):
        return tuple(value.shape), value.dtype
    return (), np.result_type(value)


def _check_type(name: str, kind: str, position: int, out: Any) -> None:
    if isinstance(out, _ARRAY_TYPES) or type(out) in (float, complex, int, bool):
        return
    where = _rule_name(name, kind, position)
    what = "cotangent" if kind == "vjp" else "tangent"
    if callable(out):
        hint = (
            " It returned a function: a rule written in autograd's curried style "
            "('lambda ans, x: lambda g: ...') must be written "
            f"as {_SIGNATURES[kind]} returning the {what} directly"
        )
    else:
        hint = " Return an array (e.g. with adfun.numpy.stack or asarray)"
    raise TypeError(
        f"{where} returned a {type(out).__name__}; a rule must return the {what} as an "
        f"array or number (or None for zero).{hint}"
    )


def _check_cotangent(name: str, position: int, out: Any, arg: Any) -> None:
    """A VJP rule's result must have its argument's shape and a float dtype of its precision."""
    _check_type(name, "vjp", position, out)
    shape, dtype = _describe(out)
    expected_shape, expected_dtype = _describe(arg)
    where = _rule_name(name, "vjp", position)
    if shape != expected_shape:
        raise ValueError(
            f"{where} returned a cotangent of shape {shape}, but argument {position} has "
            f"shape {expected_shape}; the cotangent must have exactly its argument's shape "
            f"(sum over broadcast axes, e.g. with adfun.numpy.sum(..., axis=...), or reshape)"
        )
    expected_kind = expected_dtype.kind
    if expected_kind not in "fc":
        return  # an integer or boolean argument: its cotangent is dropped
    if type(out) is float and expected_kind == "f":
        return  # a Python float is weakly typed: it takes the argument's precision
    if type(out) is complex and expected_kind == "c":
        return
    if dtype.kind == "c" and expected_kind == "f":
        problem = "complex, but the argument is real"
    elif dtype.kind not in "fc":
        problem = "not a floating-point dtype"
    elif _precision(dtype) != _precision(expected_dtype):
        problem = "of another precision than the argument's"
    else:
        return
    allowed = (
        f"{expected_dtype}"
        if expected_kind == "f"
        else f"{expected_dtype} (or {np.dtype(f'f{_precision(expected_dtype)}')})"
    )
    raise TypeError(
        f"{where} returned a cotangent of dtype {dtype}, which is {problem}; argument "
        f"{position} has dtype {expected_dtype}, so its cotangent must have dtype {allowed} "
        f"(cast it with .astype(x.dtype))"
    )


def _check_tangent(name: str, position: int, out: Any, ans: Any) -> None:
    """A JVP rule's result must have the output's shape (and be real for a real output)."""
    _check_type(name, "jvp", position, out)
    shape, dtype = _describe(out)
    expected_shape, expected_dtype = _describe(ans)
    where = _rule_name(name, "jvp", position)
    if shape != expected_shape:
        raise ValueError(
            f"{where} returned a tangent of shape {shape}, but the primitive's output has "
            f"shape {expected_shape}; the tangent must have exactly the output's shape "
            f"(use adfun.numpy.broadcast_to(t, ans.shape) for a broadcast argument)"
        )
    if expected_dtype.kind in "fc" and (
        dtype.kind not in "fc" or (dtype.kind == "c" and expected_dtype.kind == "f")
    ):
        raise TypeError(
            f"{where} returned a tangent of dtype {dtype}, but the primitive's output has "
            f"dtype {expected_dtype}; the tangent must be "
            f"{'real ' if expected_dtype.kind == 'f' else ''}floating point of the output's "
            f"precision"
        )


def _precision(dtype: Any) -> int:
    """Bytes per real component: 8 for float64 and complex128."""
    return dtype.itemsize // 2 if dtype.kind == "c" else dtype.itemsize


def _freeze(value: Any) -> Any:
    """Lists become tuples (recursively), so parameters can be hashed."""
    if type(value) is list or type(value) is tuple:
        return tuple(_freeze(item) for item in value)
    return value


def primitive(fun: Callable[P, R]) -> CustomPrimitive[P, R]:
    """Make ``fun`` a primitive with derivative rules you define.

    On plain values the result just calls ``fun``.  On traced values it records one
    node, named ``fun.__name__``, whose derivatives come from the rules given to
    :meth:`~adfun._custom.CustomPrimitive.defvjp` (reverse mode) and
    :meth:`~adfun._custom.CustomPrimitive.defjvp`
    (forward mode), instead of tracing through ``fun``'s body.  Use it for a numerically
    stable formula, a call into code adfun cannot trace, or a cheaper derivative.

    Positional arguments are the arrays that may be differentiated; keyword arguments
    are static parameters, recorded in the graph (they must be hashable: lists become
    tuples) and passed to ``fun`` and to every rule.  Rules written with
    ``adfun.numpy`` are themselves differentiable, so higher derivatives work.

    Parameters
    ----------
    fun : callable
        Computes the value on plain NumPy arrays and returns a single array or number.

    Returns
    -------
    CustomPrimitive
        A callable with the methods ``defvjp(*rules)`` and ``defjvp(*rules)``.

    Raises
    ------
    NotImplementedError
        When differentiating with respect to an argument whose rule is missing or
        ``None`` (naming the primitive and the argument), and in forward mode when no
        forward rules were defined.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> @ad.primitive
    ... def logsumexp(x):
    ...     m = np.max(x)
    ...     return m + np.log(np.sum(np.exp(x - m)))
    >>> logsumexp.defvjp(lambda g, ans, x: g * anp.exp(x - ans))
    >>> logsumexp.defjvp(lambda t, ans, x: anp.sum(t * anp.exp(x - ans)))
    >>> x = np.array([0.0, np.log(3.0)])
    >>> ad.grad(logsumexp)(x)
    array([0.25, 0.75])
    >>> [node.primitive.name for node in ad.trace(logsumexp)(x).nodes]
    ['input', 'logsumexp']
    """
    return CustomPrimitive(fun)
