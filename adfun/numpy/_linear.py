"""Linear algebra products: ``matmul``, ``dot`` and ``tensordot``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS, Params, reads_only
from adfun._engine.trace import Tracer, bind
from adfun.numpy._axes import ndim_of
from adfun.numpy._batching import dot_rule, matmul_rule, tensordot_rule
from adfun.numpy._broadcast import unbroadcast
from adfun.numpy._declare import Domain, complexified, export, primitive
from adfun.numpy._shape import expand_dims, reshape, squeeze, swapaxes, transpose

# --- matmul ------------------------------------------------------------------------------


def _matmul_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=2))
    other_batch = draw(hnp.broadcastable_shapes(batch, min_dims=0, max_dims=2, max_side=2))
    x_shape = draw(st.sampled_from([(k,), batch + (n, k)]))
    y_shape = draw(st.sampled_from([(k,), other_batch + (k, m)]))
    x = array(draw, st, hnp, (-2.0, 2.0), shape=x_shape)
    y = array(draw, st, hnp, (-2.0, 2.0), shape=y_shape)
    return (x, y), {}


def _matrix_forms(g: Any, x: Any, y: Any) -> tuple:
    """Promote 1-D operands (and the matching axes of ``g``) to matrices."""
    x_matrix = x if ndim_of(x) > 1 else reshape(x, (1, -1))
    y_matrix = y if ndim_of(y) > 1 else reshape(y, (-1, 1))
    if ndim_of(x) == 1 and ndim_of(y) == 1:
        g = reshape(g, (1, 1))
    elif ndim_of(x) == 1:
        g = expand_dims(g, -2)
    elif ndim_of(y) == 1:
        g = expand_dims(g, -1)
    return g, x_matrix, y_matrix


@reads_only(1)
def _matmul_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    if ndim_of(x) == 1 and ndim_of(y) == 2:  # vector @ matrix: g @ y.T is y @ g
        return matmul(y, g)
    g, _, y_matrix = _matrix_forms(g, x, y)
    result = matmul(g, swapaxes(y_matrix, -1, -2))
    if ndim_of(x) == 1:
        result = squeeze(result, -2)
    return unbroadcast(result, x)


@reads_only(0)
def _matmul_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    if ndim_of(x) == 2 and ndim_of(y) == 1:  # matrix @ vector: x.T @ g, no reshaping
        return matmul(swapaxes(x, 0, 1), g)
    g, x_matrix, _ = _matrix_forms(g, x, y)
    result = matmul(swapaxes(x_matrix, -1, -2), g)
    if ndim_of(y) == 1:
        result = squeeze(result, -1)
    return unbroadcast(result, y)


def _matmul_tangent_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return matmul(t, y)


def _matmul_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return matmul(x, t)


_MATMUL = primitive(
    "matmul",
    np.matmul,
    (_matmul_x, _matmul_y),
    (_matmul_tangent_x, _matmul_tangent_y),
    domain=Domain(examples=_matmul_examples),
    complex_domain=complexified(_matmul_examples),
    batch=matmul_rule,
)


@export(np.matmul, primitive=_MATMUL, signature="matmul(x, y)")
def matmul(x: Any, y: Any, /, **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.matmul` (the ``@`` operator), batch dimensions included.

    Derivative: ``g @ y.T`` for ``x`` and ``x.T @ g`` for ``y`` (over the last two axes),
    summed over broadcast batch axes.
    """
    if type(x) is not Tracer and type(y) is not Tracer:
        return np.matmul(x, y, **kwargs)
    if kwargs:
        raise TypeError(
            f"adfun.numpy.matmul: keyword arguments {sorted(kwargs)} are not "
            f"supported on traced values"
        )
    if ndim_of(x) == 0 or ndim_of(y) == 0:
        raise ValueError("adfun.numpy.matmul: operands must not be 0-d (use multiply)")
    return bind(_MATMUL, (x, y), EMPTY_PARAMS)


# --- tensordot ---------------------------------------------------------------------------


def _normalize_tensordot_axes(axes: Any, a_ndim: int, b_ndim: int) -> tuple:
    if isinstance(axes, (int, np.integer)):
        count = int(axes)
        return tuple(range(a_ndim - count, a_ndim)), tuple(range(count))
    a_axes, b_axes = axes
    a_axes = (a_axes,) if isinstance(a_axes, (int, np.integer)) else tuple(a_axes)
    b_axes = (b_axes,) if isinstance(b_axes, (int, np.integer)) else tuple(b_axes)
    return (
        tuple(int(index) % a_ndim for index in a_axes),
        tuple(int(index) % b_ndim for index in b_axes),
    )


def _tensordot_impl(a: Any, b: Any, axes: tuple = ((), ())) -> Any:
    return np.tensordot(a, b, axes)


@reads_only(1)
def _tensordot_a(g: Any, ans: Any, a: Any, b: Any, axes: tuple = ((), ())) -> Any:
    a_axes, b_axes = axes
    a_free = [index for index in range(ndim_of(a)) if index not in a_axes]
    b_free = [index for index in range(ndim_of(b)) if index not in b_axes]
    g_b_positions = list(range(len(a_free), len(a_free) + len(b_free)))
    result = tensordot(g, b, (g_b_positions, b_free))  # axes: a_free..., a_axes...
    return transpose(result, tuple(int(i) for i in np.argsort(a_free + list(a_axes))))


@reads_only(0)
def _tensordot_b(g: Any, ans: Any, a: Any, b: Any, axes: tuple = ((), ())) -> Any:
    a_axes, b_axes = axes
    a_free = [index for index in range(ndim_of(a)) if index not in a_axes]
    b_free = [index for index in range(ndim_of(b)) if index not in b_axes]
    result = tensordot(a, g, (a_free, list(range(len(a_free)))))  # axes: b_axes..., b_free...
    return transpose(result, tuple(int(i) for i in np.argsort(list(b_axes) + b_free)))


def _tensordot_tangent_a(t: Any, ans: Any, a: Any, b: Any, axes: tuple = ((), ())) -> Any:
    return tensordot(t, b, axes)


def _tensordot_tangent_b(t: Any, ans: Any, a: Any, b: Any, axes: tuple = ((), ())) -> Any:
    return tensordot(a, t, axes)


def _tensordot_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    a_shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    count = draw(st.integers(0, min(2, len(a_shape))))
    extra = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    b_shape = a_shape[len(a_shape) - count :] + extra
    a = array(draw, st, hnp, (-2.0, 2.0), shape=a_shape)
    b = array(draw, st, hnp, (-2.0, 2.0), shape=b_shape)
    return (a, b), {"axes": _normalize_tensordot_axes(count, a.ndim, b.ndim)}


_TENSORDOT = primitive(
    "tensordot",
    _tensordot_impl,
    (_tensordot_a, _tensordot_b),
    (_tensordot_tangent_a, _tensordot_tangent_b),
    domain=Domain(examples=_tensordot_examples),
    complex_domain=complexified(_tensordot_examples),
    batch=tensordot_rule,
)


@export(np.tensordot, primitive=_TENSORDOT, signature="tensordot(a, b, axes=2)")
def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """Differentiable :func:`numpy.tensordot`.

    Derivative: contractions of the cotangent with the other operand over its free axes.
    """
    if type(a) is not Tracer and type(b) is not Tracer:
        return np.tensordot(a, b, axes)
    normalized = _normalize_tensordot_axes(axes, ndim_of(a), ndim_of(b))
    return bind(_TENSORDOT, (a, b), Params(axes=normalized))


# --- dot ---------------------------------------------------------------------------------


def _dot_axes(a: Any, b: Any) -> tuple:
    return ((ndim_of(a) - 1,), (max(ndim_of(b) - 2, 0),))


@reads_only(1)
def _dot_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return unbroadcast(g * b, a)
    return _tensordot_a(g, ans, a, b, _dot_axes(a, b))


@reads_only(0)
def _dot_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return unbroadcast(a * g, b)
    return _tensordot_b(g, ans, a, b, _dot_axes(a, b))


def _dot_tangent_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return dot(t, b)


def _dot_tangent_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return dot(a, t)


def _dot_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    k = draw(st.integers(1, 3))
    a_shape = draw(st.sampled_from([(), (k,), (2, k), (2, 2, k)]))
    b_shape = draw(st.sampled_from([(), (k,), (k, 2), (2, k, 3)]))
    return (
        array(draw, st, hnp, (-2.0, 2.0), shape=a_shape),
        array(draw, st, hnp, (-2.0, 2.0), shape=b_shape),
    ), {}


_DOT = primitive(
    "dot",
    np.dot,
    (_dot_a, _dot_b),
    (_dot_tangent_a, _dot_tangent_b),
    domain=Domain(examples=_dot_examples),
    complex_domain=complexified(_dot_examples),
    batch=dot_rule,
)


@export(np.dot, primitive=_DOT, signature="dot(a, b)")
def dot(a: Any, b: Any, out: Any = None) -> Any:
    """Differentiable :func:`numpy.dot`.

    Derivative: for matrices, ``g @ b.T`` for ``a`` and ``a.T @ g`` for ``b``; in general the
    contraction of the cotangent with the other operand over its free axes.
    """
    if type(a) is not Tracer and type(b) is not Tracer:
        return np.dot(a, b, out=out)
    if out is not None:
        raise TypeError("adfun.numpy.dot: out= is not supported on traced values")
    return bind(_DOT, (a, b), EMPTY_PARAMS)
