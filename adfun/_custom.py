"""User-defined primitives: ``adfun.primitive``, ``defvjp`` and ``defjvp``.

A custom primitive is a function the engine treats as one operation: on traced
arguments it records a single node (named after the function) instead of tracing
through the body, and differentiates it with the rules given to ``defvjp`` and
``defjvp``.  The rules are stored in the frozen :class:`~adfun._records.Primitive`
record; defining rules builds a new record, so a graph traced earlier keeps the rules
it was traced with.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import attrs

from adfun._pytree import tree_flatten
from adfun._records import EMPTY_PARAMS, Params, Primitive
from adfun._trace import Tracer, bind, full_value


class CustomPrimitive:
    """A function made into a primitive by :func:`primitive` (see there).

    Attributes
    ----------
    primitive : Primitive
        The current frozen record: name, implementation and rules.
    """

    def __init__(self, fun: Callable) -> None:
        if not callable(fun):
            raise TypeError(
                f"adfun.primitive: expected a function, got {type(fun).__name__} {fun!r:.60}"
            )
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.primitive = Primitive(_name(fun), fun, vjps=(), jvps=None)
        self._positional = _positional_count(fun)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if type(arg) is Tracer:
                break
        else:
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
        self.primitive = attrs.evolve(self.primitive, vjps=self._check_rules("defvjp", rules))

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
        self.primitive = attrs.evolve(self.primitive, jvps=self._check_rules("defjvp", rules))

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
        return tuple(rules)

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


def _freeze(value: Any) -> Any:
    """Lists become tuples (recursively), so parameters can be hashed."""
    if type(value) is list or type(value) is tuple:
        return tuple(_freeze(item) for item in value)
    return value


def primitive(fun: Callable) -> CustomPrimitive:
    """Make ``fun`` a primitive with derivative rules you define.

    On plain values the result just calls ``fun``.  On traced values it records one
    node, named ``fun.__name__``, whose derivatives come from the rules given to
    :meth:`~CustomPrimitive.defvjp` (reverse mode) and :meth:`~CustomPrimitive.defjvp`
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
