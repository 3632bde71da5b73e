"""Gradient-based optimizers with HIPS autograd's ``autograd.misc.optimizers`` interface.

Every optimizer is called as ``optimizer(grad, x0, callback=None, num_iters=...,
step_size=..., ...)`` and returns the parameters after ``num_iters`` steps:

* ``grad(params, i)`` returns the gradient at ``params`` for iteration ``i`` (usually
  ``ad.grad(objective)`` of an ``objective(params, i)``), a pytree like ``params``;
* ``callback(params, i, g)``, if given, is called at each iteration with the parameters
  and the gradient, before the step;
* ``x0`` may be any pytree of float arrays and floats (nested tuples, lists, dicts,
  namedtuples, dataclasses, ...): it is flattened to one vector with
  :func:`adfun.flatten`, and the result comes back with the same structure and types.

The steps are written with ``adfun.numpy``, so an optimizer's result can itself be
differentiated (with respect to ``x0``, ``step_size``, ... or anything ``grad`` closes
over), as for meta-learning.  So that an autograd training loop runs unchanged after
``from adfun.optimizers import adam``, the defaults and the update rules are autograd's,
including its quirks: ``sgd``'s velocity is an exponential moving average of gradients
and ``rmsprop``'s running average of squared gradients starts at ones.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from typing import Any, Callable

import adfun.numpy as anp
from adfun._engine.pytree import tree_flatten
from adfun._flatten import flatten

__all__ = ["adam", "momentum", "rmsprop", "sgd"]


def _on_pytrees(optimizer: Callable) -> Callable:
    """Make an optimizer over 1-d vectors take and return pytrees (and check its inputs)."""
    signature = inspect.signature(optimizer)
    shown = ", ".join(
        name if parameter.default is inspect.Parameter.empty else f"{name}={parameter.default!r}"
        for name, parameter in signature.parameters.items()
    )

    @functools.wraps(optimizer)
    def run(
        grad: Callable, x0: Any, callback: Callable | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        name = optimizer.__name__
        if not callable(grad):
            raise TypeError(
                f"{name}: grad must be a function grad(params, i) returning the gradient, "
                f"but got {type(grad).__name__}; pass e.g. ad.grad(objective) for an "
                f"objective(params, i)"
            )
        if callback is not None and not callable(callback):
            raise TypeError(
                f"{name}: callback must be a function callback(params, i, g) or None, but "
                f"got {type(callback).__name__}"
            )
        try:
            bound = signature.bind(grad, x0, callback, *args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{name}({shown}): {error}") from None
        bound.apply_defaults()
        num_iters = bound.arguments["num_iters"]
        if (
            isinstance(num_iters, bool)
            or not isinstance(num_iters, numbers.Integral)
            or num_iters < 0
        ):
            raise ValueError(
                f"{name}: num_iters must be a non-negative integer, but got {num_iters!r}"
            )
        vector, unflatten = flatten(x0)
        structure = tree_flatten(x0)[1]

        def flat_grad(x: Any, i: int) -> Any:
            g = grad(unflatten(x), i)
            g_structure = tree_flatten(g)[1]
            if g_structure != structure:
                raise TypeError(
                    f"{name}: grad(params, i) must return a gradient with the structure of "
                    f"the parameters, {structure}, but at iteration {i} it returned "
                    f"{g_structure}; return ad.grad(objective)(params, i)"
                )
            return flatten(g)[0]

        flat_callback = None
        if callback is not None:

            def flat_callback(x: Any, i: int, g: Any) -> None:
                callback(unflatten(x), i, unflatten(g))

        return unflatten(optimizer(flat_grad, vector, flat_callback, *args, **kwargs))

    return run


def _zeros(x: Any) -> Any:
    return anp.zeros(x.shape, dtype=x.dtype)


@_on_pytrees
def sgd(
    grad: Callable,
    x: Any,
    callback: Callable | None = None,
    num_iters: int = 200,
    step_size: float = 0.1,
    mass: float = 0.9,
) -> Any:
    """Stochastic gradient descent with momentum, as HIPS autograd's ``sgd``.

    Each iteration, with ``g = grad(x, i)``::

        velocity = mass * velocity - (1 - mass) * g     # starts at zero
        x = x + step_size * velocity

    Parameters
    ----------
    grad : callable
        ``grad(params, i)``: the gradient (a pytree like ``params``) at iteration ``i``.
    x : pytree
        The initial parameters: float arrays and floats in any pytree.
    callback : callable, optional
        ``callback(params, i, g)``, called each iteration before the step.
    num_iters : int, optional
        Number of steps (default 200).
    step_size : float, optional
        Learning rate (default 0.1).
    mass : float, optional
        Momentum decay, between 0 and 1 (default 0.9); ``mass=0`` is plain gradient
        descent.

    Returns
    -------
    pytree
        The parameters after ``num_iters`` steps, with the structure and types of ``x``.

    See Also
    --------
    momentum : the classical ("heavy ball") momentum, whose velocity sums gradients.

    Examples
    --------
    >>> import numpy as np
    >>> import adfun as ad
    >>> from adfun.optimizers import sgd
    >>> objective = lambda params, i: (params["x"] - 3.0) ** 2
    >>> result = sgd(ad.grad(objective), {"x": 0.0}, num_iters=500)
    >>> round(result["x"], 6)
    3.0
    """
    velocity = _zeros(x)
    for i in range(num_iters):
        g = grad(x, i)
        if callback is not None:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


@_on_pytrees
def momentum(
    grad: Callable,
    x: Any,
    callback: Callable | None = None,
    num_iters: int = 200,
    step_size: float = 0.1,
    mass: float = 0.9,
) -> Any:
    """Gradient descent with classical ("heavy ball") momentum.

    As JAX's ``example_libraries.optimizers.momentum`` and PyTorch's ``SGD(momentum=...)``:
    each iteration, with ``g = grad(x, i)``::

        velocity = mass * velocity + g     # starts at zero
        x = x - step_size * velocity

    HIPS autograd has no ``momentum``; its :func:`sgd` averages instead of summing
    (``velocity = mass * velocity - (1 - mass) * g``), so its steps are ``1 - mass``
    times smaller at the same ``step_size``.

    Parameters
    ----------
    grad : callable
        ``grad(params, i)``: the gradient (a pytree like ``params``) at iteration ``i``.
    x : pytree
        The initial parameters: float arrays and floats in any pytree.
    callback : callable, optional
        ``callback(params, i, g)``, called each iteration before the step.
    num_iters : int, optional
        Number of steps (default 200).
    step_size : float, optional
        Learning rate (default 0.1).
    mass : float, optional
        Momentum decay, between 0 and 1 (default 0.9).

    Returns
    -------
    pytree
        The parameters after ``num_iters`` steps, with the structure and types of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> import adfun as ad
    >>> from adfun.optimizers import momentum
    >>> objective = lambda w, i: np.sum((w - np.array([1.0, -2.0])) ** 2)
    >>> momentum(ad.grad(objective), np.zeros(2), num_iters=300, step_size=0.05).round(6)
    array([ 1., -2.])
    """
    velocity = _zeros(x)
    for i in range(num_iters):
        g = grad(x, i)
        if callback is not None:
            callback(x, i, g)
        velocity = mass * velocity + g
        x = x - step_size * velocity
    return x


@_on_pytrees
def rmsprop(
    grad: Callable,
    x: Any,
    callback: Callable | None = None,
    num_iters: int = 100,
    step_size: float = 0.1,
    gamma: float = 0.9,
    eps: float = 10**-8,
) -> Any:
    """Root-mean-square propagation, as HIPS autograd's ``rmsprop``.

    Each iteration, with ``g = grad(x, i)``::

        avg_sq_grad = gamma * avg_sq_grad + (1 - gamma) * g**2     # starts at ones
        x = x - step_size * g / (sqrt(avg_sq_grad) + eps)

    Parameters
    ----------
    grad : callable
        ``grad(params, i)``: the gradient (a pytree like ``params``) at iteration ``i``.
    x : pytree
        The initial parameters: float arrays and floats in any pytree.
    callback : callable, optional
        ``callback(params, i, g)``, called each iteration before the step.
    num_iters : int, optional
        Number of steps (default 100).
    step_size : float, optional
        Learning rate (default 0.1).
    gamma : float, optional
        Decay of the running average of squared gradients (default 0.9).
    eps : float, optional
        Added to the root mean square to avoid division by zero (default 1e-8).

    Returns
    -------
    pytree
        The parameters after ``num_iters`` steps, with the structure and types of ``x``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.optimizers import rmsprop
    >>> objective = lambda params, i: (params[0] - 1.0) ** 2 + (params[1] + 2.0) ** 2
    >>> x = rmsprop(ad.grad(objective), (0.0, 0.0), num_iters=1000, step_size=0.01)
    >>> [round(value, 2) for value in x]
    [1.0, -2.0]
    """
    avg_sq_grad = anp.ones(x.shape, dtype=x.dtype)
    for i in range(num_iters):
        g = grad(x, i)
        if callback is not None:
            callback(x, i, g)
        avg_sq_grad = avg_sq_grad * gamma + g**2 * (1 - gamma)
        x = x - step_size * g / (anp.sqrt(avg_sq_grad) + eps)
    return x


@_on_pytrees
def adam(
    grad: Callable,
    x: Any,
    callback: Callable | None = None,
    num_iters: int = 100,
    step_size: float = 0.001,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 10**-8,
) -> Any:
    """Adam (Kingma and Ba, 2015), as HIPS autograd's ``adam``.

    Each iteration, with ``g = grad(x, i)``::

        m = (1 - b1) * g + b1 * m          # first moment, starts at zero
        v = (1 - b2) * g**2 + b2 * v       # second moment, starts at zero
        mhat = m / (1 - b1**(i + 1))       # bias corrections
        vhat = v / (1 - b2**(i + 1))
        x = x - step_size * mhat / (sqrt(vhat) + eps)

    Parameters
    ----------
    grad : callable
        ``grad(params, i)``: the gradient (a pytree like ``params``) at iteration ``i``.
    x : pytree
        The initial parameters: float arrays and floats in any pytree.
    callback : callable, optional
        ``callback(params, i, g)``, called each iteration before the step.
    num_iters : int, optional
        Number of steps (default 100).
    step_size : float, optional
        Learning rate (default 0.001).
    b1, b2 : float, optional
        Decay rates of the first and second moment estimates (defaults 0.9 and 0.999).
    eps : float, optional
        Added to the root of the second moment to avoid division by zero (default 1e-8).

    Returns
    -------
    pytree
        The parameters after ``num_iters`` steps, with the structure and types of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> import adfun as ad
    >>> import adfun.numpy as anp
    >>> from adfun.optimizers import adam
    >>> def objective(params, i):
    ...     w, b = params
    ...     return anp.sum((w - 1.0) ** 2) + (b + 0.5) ** 2
    >>> w, b = adam(ad.grad(objective), (np.zeros(3), 0.0), num_iters=2000, step_size=0.01)
    >>> w.round(4), round(b, 4)
    (array([1., 1., 1.]), -0.5)
    """
    m = _zeros(x)
    v = _zeros(x)
    for i in range(num_iters):
        g = grad(x, i)
        if callback is not None:
            callback(x, i, g)
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * (g**2) + b2 * v
        mhat = m / (1 - b1 ** (i + 1))
        vhat = v / (1 - b2 ** (i + 1))
        x = x - step_size * mhat / (anp.sqrt(vhat) + eps)
    return x
