"""Inverses and solutions: ``inv solve matrix_power tensorinv tensorsolve``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS
from adfun._engine.trace import Tracer, any_traced, bind
from adfun.numpy._axes import ndim_of, shape_of
from adfun.numpy._batching import leading, solve_rule
from adfun.numpy._broadcast import unbroadcast
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._linear import matmul
from adfun.numpy._shape import expand_dims, reshape, squeeze, transpose
from adfun.numpy.linalg._helpers import (
    complex_square_examples,
    draw_batch,
    draw_complex_matrix,
    draw_matrix,
    eye_like,
    mT,
    require_matrix,
    square_examples,
)

# --- inv -------------------------------------------------------------------------------


def inv_vjp(g: Any, ans: Any, a: Any) -> Any:
    """The reverse rule of ``inv`` (also of ``det``'s guarded inverse)."""
    inverse_t = mT(ans)
    return -matmul(inverse_t, matmul(g, inverse_t))


def inv_jvp(t: Any, ans: Any, a: Any) -> Any:
    """The forward rule of ``inv`` (also of ``det``'s guarded inverse)."""
    return -matmul(ans, matmul(t, ans))


_INV = primitive(
    "linalg.inv",
    np.linalg.inv,
    (inv_vjp,),
    (inv_jvp,),
    domain=Domain(examples=square_examples),
    batch=leading,
    complex_domain=Domain(examples=complex_square_examples),
)


@export(np.linalg.inv, primitive=_INV)
def inv(a: Any) -> Any:
    """Differentiable :func:`numpy.linalg.inv` (stacks of matrices too).

    Derivative: ``-A^{-T} G A^{-T}`` (reverse), ``-A^{-1} T A^{-1}`` (forward); the
    rules are holomorphic, so complex intermediate matrices are fine.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> a = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> ad.grad(lambda a: anp.sum(anp.linalg.inv(a)))(a)
    array([[-0.25  , -0.125 ],
           [-0.125 , -0.0625]])
    """
    if type(a) is not Tracer:
        return np.linalg.inv(a)
    require_matrix("inv", "a", a)
    return bind(_INV, (a,), EMPTY_PARAMS)


# --- solve -----------------------------------------------------------------------------


def _as_columns(b: Any, x: Any) -> Any:
    """A 1-D right-hand side ``b`` makes ``x`` (and its cotangent) vectors: add an axis."""
    return expand_dims(x, -1) if ndim_of(b) == 1 else x


def _solve_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    gb = solve(mT(a), _as_columns(b, g))
    return unbroadcast(-matmul(gb, mT(_as_columns(b, ans))), a)


def _solve_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    gb = solve(mT(a), _as_columns(b, g))
    if ndim_of(b) == 1:
        gb = squeeze(gb, -1)
    return unbroadcast(gb, b)


def _solve_tangent_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    result = -solve(a, matmul(t, _as_columns(b, ans)))
    return squeeze(result, -1) if ndim_of(b) == 1 else result


def _solve_tangent_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return solve(a, t)


def _solve_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    n = draw(st.integers(1, 3))
    a = draw_matrix(draw, st, hnp, n, n, draw_batch(draw, st))
    b_shape = draw(st.sampled_from([(n,), (n, 2), (2, n, 1), a.shape[:-1] + (1,)]))
    return (a, array(draw, st, hnp, (-2.0, 2.0), shape=b_shape)), {}


def _complex_solve_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import complex_array

    n = draw(st.integers(1, 3))
    a = draw_complex_matrix(draw, st, hnp, n, n, draw_batch(draw, st))
    b_shape = draw(st.sampled_from([(n,), (n, 2), (2, n, 1), a.shape[:-1] + (1,)]))
    return (a, complex_array(draw, st, hnp, (-2.0, 2.0), shape=b_shape)), {}


_SOLVE = primitive(
    "linalg.solve",
    np.linalg.solve,
    (_solve_a, _solve_b),
    (_solve_tangent_a, _solve_tangent_b),
    domain=Domain(examples=_solve_examples),
    batch=solve_rule,
    complex_domain=Domain(examples=_complex_solve_examples),
)


@export(np.linalg.solve, primitive=_SOLVE)
def solve(a: Any, b: Any) -> Any:
    """Differentiable :func:`numpy.linalg.solve`: ``x`` with ``a @ x == b`` (batched).

    As in NumPy 2, ``b`` is a vector only when it is 1-D; otherwise it is a stack of
    matrices whose batch axes broadcast with ``a``'s.

    Derivative: ``gb = solve(a.T, g)`` and ``ga = -gb @ x.T`` (summed over broadcast
    batch axes); forward ``solve(a, tb - ta @ x)``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> a = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> ad.grad(lambda b: anp.sum(anp.linalg.solve(a, b)))(np.ones(2))
    array([0.5 , 0.25])
    """
    if not any_traced((a, b)):
        return np.linalg.solve(a, b)
    require_matrix("solve", "a", a)
    return bind(_SOLVE, (a, b), EMPTY_PARAMS)


# --- matrix_power (composite) ----------------------------------------------------------


@export(np.linalg.matrix_power, registered=False)
def matrix_power(a: Any, n: int) -> Any:
    """Differentiable :func:`numpy.linalg.matrix_power`: repeated squaring with ``matmul``.

    ``n < 0`` inverts first; ``n == 0`` gives identities (a constant).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.linalg.matrix_power(a, 3)[0, 0])(np.array([[2.0]]))
    array([[12.]])
    """
    if type(a) is not Tracer:
        return np.linalg.matrix_power(a, n)
    require_matrix("matrix_power", "a", a)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(
            f"adfun.numpy.linalg.matrix_power: exponent n must be an integer, got {n!r}"
        )
    n = int(n)
    if n == 0:
        return np.broadcast_to(eye_like(a), shape_of(a)).copy()
    if n < 0:
        a, n = inv(a), -n
    result = None
    power = a
    while n:
        if n & 1:
            result = power if result is None else matmul(result, power)
        n >>= 1
        if n:
            power = matmul(power, power)
    return result


# --- tensorinv and tensorsolve (composites) --------------------------------------------


@export(np.linalg.tensorinv, registered=False)
def tensorinv(a: Any, ind: int = 2) -> Any:
    """Differentiable :func:`numpy.linalg.tensorinv`: ``inv`` of ``a`` seen as a matrix."""
    if type(a) is not Tracer:
        return np.linalg.tensorinv(a, ind=ind)
    shape = shape_of(a)
    if ind <= 0:
        raise ValueError(f"adfun.numpy.linalg.tensorinv: ind must be positive, got {ind}")
    rows = int(np.prod(shape[:ind], dtype=np.int64))
    inverse = inv(reshape(a, (rows, -1)))
    return reshape(inverse, shape[ind:] + shape[:ind])


@export(np.linalg.tensorsolve, registered=False)
def tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    """Differentiable :func:`numpy.linalg.tensorsolve`: ``solve`` on reshaped operands."""
    if not any_traced((a, b)):
        return np.linalg.tensorsolve(a, b, axes=axes)
    ndim = ndim_of(a)
    if axes is not None:
        order = list(range(ndim))
        for axis in axes:
            order.remove(axis)
            order.insert(ndim, axis)
        a = transpose(a, tuple(order))
    shape = shape_of(a)
    solution_shape = shape[-(ndim - ndim_of(b)) :]
    size = int(np.prod(solution_shape, dtype=np.int64))
    if int(np.prod(shape_of(b), dtype=np.int64)) != size:
        raise np.linalg.LinAlgError(
            "adfun.numpy.linalg.tensorsolve: the product of b's dimensions must equal the "
            "product of a's solution dimensions"
        )
    x = solve(reshape(a, (size, size)), reshape(b, (size,)))
    return reshape(x, solution_shape)
