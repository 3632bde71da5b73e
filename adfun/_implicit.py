"""Implicit differentiation: ``fixed_point`` and ``custom_root``.

A solution found by iterating or by a root finder is differentiated through the
equation it satisfies (the implicit function theorem), not through the iterations:

* ``x* = fixed_point(f, a, x0)`` satisfies ``x* = f(a)(x*)``, so
  ``dx* = J_x dx* + J_a da``; the reverse rule solves the adjoint fixed point
  ``w = g + J_x^T w`` by the same iteration and returns ``J_a^T w``, the forward rule
  solves ``v = J_x v + J_a da``;
* ``x* = custom_root(f, x0, solve, tangent_solve, args)`` satisfies ``f(x*, *args) = 0``,
  so ``dx* = -J_x^{-1} J_args dargs``; the rules call ``tangent_solve`` with the linear
  map ``v -> J_x v`` (forward) or its transpose (reverse).

Each call is recorded as one node whose implementation runs the iteration or the solver
on plain values.  The rules are ordinary adfun code (and the adjoint fixed point is
itself such a node), so derivatives of every order work.  A solution with several
leaves is recorded as one flat vector (see :func:`adfun.flatten`).
"""

from __future__ import annotations

from typing import Any, Callable

import attrs
import numpy as np

import adfun.numpy as anp
from adfun._engine.pytree import tree_flatten, tree_unflatten
from adfun._engine.records import Joint, Params, Primitive
from adfun._engine.trace import Tracer, bind, full_value
from adfun._flatten import flatten
from adfun._transforms.boundary import function_name
from adfun._transforms.functional import jvp, vjp
from adfun._transforms.jacobians import jacfwd

__all__ = ["custom_root", "fixed_point"]


def _traced(tree: Any) -> bool:
    return any(type(leaf) is Tracer for leaf in tree_flatten(tree)[0])


def _max_abs_difference(x: Any, y: Any) -> Any:
    """The largest absolute difference between two pytrees of the same structure."""
    largest = 0.0
    for a, b in zip(tree_flatten(x)[0], tree_flatten(y)[0]):
        difference = np.abs(np.asarray(a) - np.asarray(b))
        if difference.size:
            largest = max(largest, float(np.max(difference)))
    return largest


def _record(primitive: Primitive, args: tuple, params: Params) -> Any:
    if any(type(arg) is Tracer for arg in args):
        return bind(primitive, args, params)
    return primitive.impl(*args, **params)


def _captured(caller: str, fun: Any) -> TypeError:
    through = "a" if caller == "fixed_point" else "args=(...)"
    return TypeError(
        f"{caller}: {function_name(fun)} returned a value traced by adfun although "
        f"{caller} called it with plain values: it reads a value being differentiated "
        f"from its closure or from a global. Pass that value through {through} instead, "
        f"so that its derivative can be computed"
    )


def _untraced(caller: str, fun: Any, tree: Any) -> Any:
    """``tree``, or the error for a function that captured a traced value."""
    if _traced(tree):
        raise _captured(caller, fun)
    return tree


def _vector_of(caller: str, fun: Any, tree: Any, like: Any, unflatten: Callable) -> Any:
    """``tree`` as a plain float vector of ``like``'s layout, or a named error."""
    _untraced(caller, fun, tree)
    try:
        vector = np.asarray(flatten(tree)[0])
        unflatten(vector)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{caller}: {function_name(fun)} returned {_describe(tree)}, which does not "
            f"have the structure and shapes of the initial guess ({_describe(like)}): {error}"
        ) from None
    return vector.astype(np.result_type(like), copy=False)


def _check_floats(caller: str, what: str, tree: Any) -> None:
    for leaf in tree_flatten(tree)[0]:
        dtype = np.result_type(full_value(leaf))
        if dtype.kind != "f":
            raise TypeError(
                f"{caller}: {what} must hold floats (float arrays or Python floats), but "
                f"it holds a value of dtype {dtype}; pass 1.0 rather than 1, or "
                f"x0.astype(float)"
            )


def _describe(tree: Any) -> str:
    leaves, treedef = tree_flatten(tree)
    shapes = [np.shape(full_value(leaf)) for leaf in leaves]
    return f"a pytree {treedef} with leaf shapes {shapes}"


# --------------------------------------------------------------------------------------
# fixed_point
# --------------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class _FixedPoint:
    """What a ``fixed_point`` node iterates (compared and hashed by identity)."""

    f: Callable[..., Any]
    a_tree: Any
    unflatten: Callable[[Any], Any]
    distance: Callable[[Any, Any], Any]
    tol: float
    max_iter: int


def _fixed_point_impl(x0: Any, *a_leaves: Any, problem: _FixedPoint) -> Any:
    a = tree_unflatten(problem.a_tree, list(a_leaves))
    f = problem.f
    step = f(a)
    x_prev = problem.unflatten(x0)
    x = _untraced("fixed_point", f, step(x_prev))
    distance = problem.distance(x, x_prev)
    for _ in range(problem.max_iter):
        if not distance > problem.tol:
            return _vector_of("fixed_point", f, x, x0, problem.unflatten)
        x_prev, x = x, _untraced("fixed_point", f, step(x))
        distance = problem.distance(x, x_prev)
    raise RuntimeError(
        f"fixed_point: iterating {function_name(problem.f)}(a) did not converge in "
        f"{problem.max_iter} iterations (the distance between the last two iterates is "
        f"{float(distance):.3g} > tol={problem.tol:g}); check that it is a contraction near "
        f"the solution, start closer to it, loosen tol or raise max_iter"
    )


def _fixed_point_vjp(
    argnums: tuple, g: Any, ans: Any, x0: Any, *a_leaves: Any, problem: _FixedPoint
) -> list:
    positions = [argnum - 1 for argnum in argnums if argnum >= 1]
    unflatten = problem.unflatten
    a_tree = problem.a_tree
    f = problem.f
    x_star = unflatten(ans)

    def adjoint_step(parameters: tuple) -> Callable[[Any], Any]:
        leaves, point, seed = parameters
        _, pullback = vjp(lambda x: f(tree_unflatten(a_tree, list(leaves)))(x), point)

        def step(w: Any) -> Any:
            return _tree_add(seed, pullback(w)[0])

        return step

    w = fixed_point(
        adjoint_step,
        (tuple(a_leaves), x_star, unflatten(g)),
        unflatten(anp.zeros_like(g)),
        problem.distance,
        problem.tol,
        max_iter=problem.max_iter,
    )

    def image(*differentiated: Any) -> Any:
        leaves = list(a_leaves)
        for position, value in zip(positions, differentiated):
            leaves[position] = value
        return flatten(f(tree_unflatten(a_tree, leaves))(x_star))[0]

    _, pullback = vjp(image, *[a_leaves[position] for position in positions])
    cotangents = iter(pullback(flatten(w)[0]))
    return [None if argnum == 0 else next(cotangents) for argnum in argnums]


def _fixed_point_jvp(
    argnums: tuple, tangents: list, ans: Any, x0: Any, *a_leaves: Any, problem: _FixedPoint
) -> Any:
    given = [
        (argnum - 1, tangent)
        for argnum, tangent in zip(argnums, tangents)
        if argnum >= 1 and tangent is not None
    ]
    if not given:
        return None  # the solution does not depend on the initial guess
    positions = [position for position, _ in given]
    unflatten = problem.unflatten
    a_tree = problem.a_tree
    f = problem.f
    x_star = unflatten(ans)

    def image(*differentiated: Any) -> Any:
        leaves = list(a_leaves)
        for position, value in zip(positions, differentiated):
            leaves[position] = value
        return f(tree_unflatten(a_tree, leaves))(x_star)

    primals = [a_leaves[position] for position in positions]
    _, offset = jvp(image, primals, [tangent for _, tangent in given])

    def tangent_step(parameters: tuple) -> Callable[[Any], Any]:
        leaves, point, constant = parameters
        step = f(tree_unflatten(a_tree, list(leaves)))

        def iterate(v: Any) -> Any:
            return _tree_add(constant, jvp(step, (point,), (v,))[1])

        return iterate

    v = fixed_point(
        tangent_step,
        (tuple(a_leaves), x_star, offset),
        unflatten(anp.zeros_like(ans)),
        problem.distance,
        problem.tol,
        max_iter=problem.max_iter,
    )
    return flatten(v)[0]


def _tree_add(x: Any, y: Any) -> Any:
    x_leaves, tree = tree_flatten(x)
    y_leaves = tree_flatten(y)[0]
    return tree_unflatten(tree, [a + b for a, b in zip(x_leaves, y_leaves)])


_FIXED_POINT = Primitive(
    "fixed_point",
    _fixed_point_impl,
    vjps=Joint(_fixed_point_vjp),
    jvps=Joint(_fixed_point_jvp),
)


def fixed_point(
    f: Callable[[Any], Callable[[Any], Any]],
    a: Any,
    x0: Any,
    distance: Callable[[Any, Any], Any] | None = None,
    tol: float = 1e-10,
    *,
    max_iter: int = 10_000,
) -> Any:
    """The fixed point ``x = f(a)(x)``, found by iteration, differentiated implicitly.

    Iterates ``x = f(a)(x)`` from ``x0`` until ``distance(x, x_prev) <= tol`` (HIPS
    autograd's ``misc.fixed_points.fixed_point``).  The result is differentiable with
    respect to ``a`` in reverse and forward mode by the implicit function theorem: the
    iterations are not recorded, and the derivative is itself found by iterating (the
    adjoint equation ``w = g + J_x^T w`` in reverse mode, ``v = J_x v + J_a da`` in
    forward mode), so ``f(a)`` must be a contraction near the solution.  The result does
    not depend on ``x0``: its derivative with respect to ``x0`` is zero.

    Parameters
    ----------
    f : callable
        ``f(a)`` returns the map to iterate, ``x -> f(a)(x)``, written with
        ``adfun.numpy``; it takes and returns pytrees shaped like ``x0``.
    a : pytree
        The parameters (arrays, floats or pytrees of them).  Values being differentiated
        must reach ``f`` through ``a``, not through its closure.
    x0 : pytree
        The initial guess (float arrays or floats).
    distance : callable, optional
        ``distance(x, x_prev)`` returns a number; the default is the largest absolute
        difference between the entries of the two pytrees.
    tol : float, optional
        The iteration stops when ``distance(x, x_prev) <= tol`` (default ``1e-10``).
    max_iter : int, optional
        The most iterations (default 10,000) before ``RuntimeError``.

    Returns
    -------
    pytree
        The fixed point, with ``x0``'s structure, shapes and dtypes.

    Raises
    ------
    RuntimeError
        If the iteration (or that of a derivative) does not converge in ``max_iter``
        iterations.
    TypeError
        If ``f`` reads a value being differentiated from its closure instead of ``a``.
    ValueError
        If ``f(a)(x)`` does not have ``x0``'s structure and shapes.

    Examples
    --------
    The square root of ``a`` by Newton's (Heron's) iteration, and its derivative
    ``1 / (2 sqrt(a))``:

    >>> import adfun as ad
    >>> newton = lambda a: lambda x: 0.5 * (x + a / x)
    >>> round(float(ad.fixed_point(newton, 2.0, 1.0)), 12)
    1.414213562373
    >>> round(float(ad.grad(lambda a: ad.fixed_point(newton, a, 1.0))(4.0)), 12)
    0.25
    """
    if not callable(f):
        raise TypeError(
            f"fixed_point: f must be a function with f(a) returning the map to iterate, "
            f"got {type(f).__name__}"
        )
    if int(max_iter) < 1:
        raise ValueError(f"fixed_point: max_iter must be at least 1, got {max_iter}")
    _check_floats("fixed_point", "the initial guess x0", x0)
    x_vector, unflatten = flatten(x0)
    a_leaves, a_tree = tree_flatten(a)
    problem = _FixedPoint(
        f, a_tree, unflatten, distance or _max_abs_difference, float(tol), int(max_iter)
    )
    solution = _record(_FIXED_POINT, (x_vector, *a_leaves), Params(problem=problem))
    return unflatten(solution)


# --------------------------------------------------------------------------------------
# custom_root
# --------------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class _Root:
    """What a ``custom_root`` node solves (compared and hashed by identity)."""

    f: Callable[..., Any]
    args_tree: Any
    unflatten: Callable[[Any], Any]
    solve: Callable[..., Any]
    tangent_solve: Callable[..., Any]


def _root_impl(guess: Any, *arg_leaves: Any, problem: _Root) -> Any:
    args = tree_unflatten(problem.args_tree, list(arg_leaves))
    f = problem.f

    def residual(x: Any) -> Any:
        return _untraced("custom_root", f, f(x, *args))

    solution = problem.solve(residual, problem.unflatten(guess))
    return _vector_of("custom_root", problem.solve, solution, guess, problem.unflatten)


def _root_parts(problem: _Root, ans: Any, arg_leaves: tuple, positions: list) -> tuple:
    """The solution as a pytree and ``f`` as a function of the differentiated leaves."""
    x_star = problem.unflatten(ans)
    f = problem.f
    args_tree = problem.args_tree

    def of_args(*differentiated: Any) -> Any:
        leaves = list(arg_leaves)
        for position, value in zip(positions, differentiated):
            leaves[position] = value
        return f(x_star, *tree_unflatten(args_tree, leaves))

    def of_x(x: Any) -> Any:
        return f(x, *tree_unflatten(args_tree, list(arg_leaves)))

    return x_star, of_args, of_x


def _root_vjp(
    argnums: tuple, g: Any, ans: Any, guess: Any, *arg_leaves: Any, problem: _Root
) -> list:
    positions = [argnum - 1 for argnum in argnums if argnum >= 1]
    if not positions:
        return [None for _ in argnums]
    x_star, of_args, of_x = _root_parts(problem, ans, arg_leaves, positions)
    _, pullback_x = vjp(of_x, x_star)
    w = problem.tangent_solve(lambda v: pullback_x(v)[0], problem.unflatten(g))
    _, pullback = vjp(of_args, *[arg_leaves[position] for position in positions])
    cotangents = iter(pullback(_negate(w)))
    return [None if argnum == 0 else next(cotangents) for argnum in argnums]


def _root_jvp(
    argnums: tuple, tangents: list, ans: Any, guess: Any, *arg_leaves: Any, problem: _Root
) -> Any:
    given = [
        (argnum - 1, tangent)
        for argnum, tangent in zip(argnums, tangents)
        if argnum >= 1 and tangent is not None
    ]
    if not given:
        return None  # the solution does not depend on the initial guess
    positions = [position for position, _ in given]
    x_star, of_args, of_x = _root_parts(problem, ans, arg_leaves, positions)
    primals = [arg_leaves[position] for position in positions]
    _, moved = jvp(of_args, primals, [tangent for _, tangent in given])
    v = problem.tangent_solve(lambda u: jvp(of_x, (x_star,), (u,))[1], _negate(moved))
    return flatten(v)[0]


def _negate(tree: Any) -> Any:
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [-leaf for leaf in leaves])


def dense_tangent_solve(g: Callable[[Any], Any], y: Any) -> Any:
    """Solve the linear equation ``g(x) = y`` by forming ``g``'s matrix (the default).

    ``g`` maps a pytree to a pytree of the same layout as ``y``; its matrix is built by
    forward mode and the system solved with ``adfun.numpy.linalg.solve``, so the result
    is differentiable.  Suited to small systems; for large ones pass an iterative
    solver as ``tangent_solve``.
    """
    vector, unflatten = flatten(y)
    size = int(np.shape(full_value(vector))[0])
    matrix = jacfwd(lambda u: flatten(g(unflatten(u)))[0])(anp.zeros(size, vector.dtype))
    return unflatten(anp.linalg.solve(matrix, vector))


_CUSTOM_ROOT = Primitive("custom_root", _root_impl, vjps=Joint(_root_vjp), jvps=Joint(_root_jvp))


def custom_root(
    f: Callable[..., Any],
    initial_guess: Any,
    solve: Callable[[Callable[[Any], Any], Any], Any],
    tangent_solve: Callable[[Callable[[Any], Any], Any], Any] | None = None,
    args: tuple = (),
) -> Any:
    """A root of ``f(x, *args)`` found by ``solve``, differentiated implicitly.

    Like JAX's ``lax.custom_root``: ``solve`` finds ``x`` with ``f(x, *args) = 0`` by
    any means (a SciPy root finder, Newton's method, bisection...), on plain values and
    unrecorded; the result is differentiable with respect to ``args`` in reverse and
    forward mode by the implicit function theorem,
    ``dx = -(df/dx)^{-1} (df/dargs) dargs``.  The linear systems with ``df/dx`` are
    solved by ``tangent_solve``.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returns the residual, a pytree with ``x``'s layout, written with
        ``adfun.numpy`` (its derivatives are taken with respect to ``x`` and ``args``).
    initial_guess : pytree
        Where ``solve`` starts (float arrays or floats); the result has its structure,
        shapes and dtypes and does not depend on it (zero derivative).
    solve : callable
        ``solve(g, initial_guess)`` returns a root of ``g``, a function of ``x`` alone
        (``g(x) = f(x, *args)`` with plain arrays in ``args``).  It is never
        differentiated, so it may use plain NumPy and SciPy.
    tangent_solve : callable, optional
        ``tangent_solve(g, y)`` returns ``x`` with ``g(x) = y``, for a linear ``g``
        (``v -> (df/dx) v`` in forward mode, its transpose ``v -> (df/dx)^T v`` in reverse
        mode).  Write it with ``adfun.numpy`` for higher derivatives.  The default forms
        the matrix of ``g`` by forward mode and solves with ``adfun.numpy.linalg.solve``;
        for a scalar ``x``, ``lambda g, y: y / g(1.0)`` is enough.
    args : tuple, optional
        The parameters of ``f`` (arrays, floats, pytrees).  Values being differentiated
        must reach ``f`` through ``args``, not through its closure.

    Returns
    -------
    pytree
        The root, with ``initial_guess``'s structure, shapes and dtypes.

    Raises
    ------
    TypeError
        If ``f`` reads a value being differentiated from its closure instead of ``args``,
        or ``args`` is not a tuple.
    ValueError
        If ``solve`` returns a value without the layout of ``initial_guess``.

    Examples
    --------
    The cube root of ``a`` with SciPy's ``brentq``, and its derivative
    ``1 / (3 a^(2/3))``:

    >>> import adfun as ad
    >>> from scipy.optimize import brentq
    >>> solve = lambda g, x0: brentq(g, 0.0, 10.0, xtol=1e-14)
    >>> cube_root = lambda a: ad.custom_root(lambda x, a: x ** 3 - a, 1.0, solve, args=(a,))
    >>> round(float(cube_root(8.0)), 12)
    2.0
    >>> round(float(ad.grad(cube_root)(8.0)), 12)  # 1 / (3 * 4)
    0.083333333333
    """
    if not isinstance(args, tuple):
        raise TypeError(
            f"custom_root: args must be a tuple of the extra arguments of f, got "
            f"{type(args).__name__}; write args=(value,)"
        )
    for name, value in (("f", f), ("solve", solve)):
        if not callable(value):
            raise TypeError(f"custom_root: {name} must be a function, got {type(value).__name__}")
    _check_floats("custom_root", "the initial guess", initial_guess)
    guess, unflatten = flatten(initial_guess)
    arg_leaves, args_tree = tree_flatten(args)
    problem = _Root(f, args_tree, unflatten, solve, tangent_solve or dense_tangent_solve)
    solution = _record(_CUSTOM_ROOT, (guess, *arg_leaves), Params(problem=problem))
    return unflatten(solution)
