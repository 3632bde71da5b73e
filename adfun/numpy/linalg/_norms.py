"""Norms: ``norm`` (every NumPy ``ord``), ``vector_norm``, ``matrix_norm``, ``cond``.

One primitive, the vector p-norm over any axes (the Frobenius norm is its ``p = 2`` over
two axes); the other orders are exact composites: ``max``/``min`` of absolute values or
of absolute row/column sums, and singular values for ``2``, ``-2`` and ``'nuc'``.
At the zero vector the derivative of every norm is 0 (the subgradient), not NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import Params
from adfun._engine.trace import Tracer, bind
from adfun.numpy._axes import dtype_of, kept_shape, ndim_of, normalize_axis, shape_of
from adfun.numpy._batching import reduction
from adfun.numpy._complex import conjugate, real, sign
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._elementwise import absolute, power
from adfun.numpy._indexing import getitem
from adfun.numpy._nondiff import any as any_
from adfun.numpy._nondiff import equal, logical_not, not_equal
from adfun.numpy._reductions import amax, amin
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._selection import where
from adfun.numpy._shape import astype, moveaxis, reshape
from adfun.numpy.linalg._decompositions import svdvals
from adfun.numpy.linalg._inverse import inv

# --- the p-norm primitive --------------------------------------------------------------


def _pnorm_impl(
    x: Any,
    ord: float = 2.0,
    axis: Any = None,  # noqa: A002 - NumPy's name
    keepdims: bool = False,
) -> Any:
    magnitude = np.abs(x)
    if ord == 2.0:
        return np.sqrt(np.sum(magnitude * magnitude, axis=axis, keepdims=keepdims))
    if ord == 1.0:
        return np.sum(magnitude, axis=axis, keepdims=keepdims)
    return np.sum(magnitude**ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _pnorm_slope(ans: Any, x: Any, ord: float, axis: Any, keepdims: bool) -> Any:
    """``d ||x||_p / dx = sign(x) |x|^(p-1) / ||x||^(p-1)``, and 0 where the norm is 0.

    For complex ``x`` the slope is ``conj(x) / |x|`` in place of ``sign(x)``: then
    ``d ||x||_p = Re(sum(slope * dx))``.
    """
    norm = ans if keepdims else reshape(ans, kept_shape(shape_of(x), axis))
    zero = equal(norm, 0.0)
    safe = where(zero, 1.0, norm)
    direction = conjugate(x)  # x itself for real x
    if ord == 2.0:
        return direction / safe
    if ord == 1.0:
        return sign(direction)
    return where(zero, 0.0, sign(direction) * power(absolute(x) / safe, ord - 1.0))


def _pnorm_vjp(
    g: Any,
    ans: Any,
    x: Any,
    ord: float = 2.0,
    axis: Any = None,  # noqa: A002
    keepdims: bool = False,
) -> Any:
    if not keepdims:
        g = reshape(g, kept_shape(shape_of(x), axis))
    if dtype_of(x).kind == "c":
        g = real(g)  # the norm is real: only the real part of its cotangent counts
    return g * _pnorm_slope(ans, x, ord, axis, keepdims)


def _pnorm_jvp(
    t: Any,
    ans: Any,
    x: Any,
    ord: float = 2.0,
    axis: Any = None,  # noqa: A002
    keepdims: bool = False,
) -> Any:
    total = _sum(t * _pnorm_slope(ans, x, ord, axis, keepdims), axis=axis, keepdims=keepdims)
    return real(total) if dtype_of(x).kind == "c" else total


def _pnorm_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array, axis_params

    x = array(draw, st, hnp, (0.3, 3.0), min_dims=0, magnitude=True)
    params = axis_params(draw, st, x.ndim)
    params["ord"] = draw(st.sampled_from([2.0, 1.0, 3.0, 1.5, 0.5, -1.0]))
    return (x,), params


def _complex_pnorm_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import axis_params, complex_array

    x = complex_array(draw, st, hnp, (-3.0, 3.0), magnitude=0.3)
    params = axis_params(draw, st, x.ndim)
    params["ord"] = draw(st.sampled_from([2.0, 1.0, 3.0, 1.5, 0.5, -1.0]))
    return (x,), params


_PNORM = primitive(
    "linalg.vector_norm",
    _pnorm_impl,
    (_pnorm_vjp,),
    (_pnorm_jvp,),
    domain=Domain(examples=_pnorm_examples),
    batch=reduction,
    complex_domain=Domain(examples=_complex_pnorm_examples),
)


@export(primitive=_PNORM)
def _pnorm(x: Any, ord: float, axis: Any, keepdims: bool) -> Any:  # noqa: A002
    """The p-norm (``p`` finite, nonzero) over ``axis`` (None: all axes) of a traced array.

    Derivative: ``sign(x) |x|^(p-1) / ||x||^(p-1)``, 0 at the zero vector.
    """
    return bind(_PNORM, (x,), Params(ord=float(ord), axis=axis, keepdims=bool(keepdims)))


# --- norm ------------------------------------------------------------------------------


def _restore_axes(result: Any, shape: tuple, axes: tuple, keepdims: bool) -> Any:
    return reshape(result, kept_shape(shape, axes)) if keepdims else result


def _vector_norm(x: Any, ord: Any, axes: tuple | None, keepdims: bool) -> Any:  # noqa: A002
    if ord is None or ord == 2:
        return _pnorm(x, 2.0, axes, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"adfun.numpy.linalg.norm: invalid norm order {ord!r} for vectors")
    if ord == np.inf:
        return amax(absolute(x), axis=axes, keepdims=keepdims)
    if ord == -np.inf:
        return amin(absolute(x), axis=axes, keepdims=keepdims)
    if ord == 0:
        # The number of nonzero entries: piecewise constant, a constant for differentiation.
        nonzero = astype(not_equal(x, 0.0), dtype_of_real(x))
        return _sum(nonzero, axis=axes, keepdims=keepdims)
    return _pnorm(x, float(ord), axes, keepdims)


def dtype_of_real(x: Any) -> Any:
    dtype = dtype_of(x)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _matrix_norm(x: Any, ord: Any, row: int, col: int, keepdims: bool) -> Any:  # noqa: A002
    shape = shape_of(x)
    if ord in (2, -2, "nuc"):
        matrices = moveaxis(x, (row, col), (-2, -1))
        values = svdvals(matrices)
        if ord == 2:
            result = amax(values, axis=-1)
        elif ord == -2:
            result = amin(values, axis=-1)
        else:
            result = _sum(values, axis=-1)
        # At a zero matrix every singular vector pair is a subgradient; take 0, the
        # subgradient of least norm (as for vectors).
        zero = logical_not(any_(not_equal(matrices, 0.0), axis=(-2, -1)))
        result = where(zero, 0.0, result)
    elif ord in (1, -1, np.inf, -np.inf):
        summed, other = (row, col) if ord in (1, -1) else (col, row)
        sums = _sum(absolute(x), axis=summed)
        other = other - 1 if other > summed else other
        result = (amax if ord > 0 else amin)(sums, axis=other)
    elif ord in (None, "fro", "f"):
        result = _pnorm(x, 2.0, tuple(sorted((row, col))), False)
    else:
        raise ValueError(f"adfun.numpy.linalg.norm: invalid norm order {ord!r} for matrices")
    return _restore_axes(result, shape, (row, col), keepdims)


@export(np.linalg.norm, registered=False)
def norm(
    x: Any,
    ord: Any = None,
    axis: Any = None,  # noqa: A002 - NumPy's name
    keepdims: bool = False,
) -> Any:
    """Differentiable :func:`numpy.linalg.norm`, for every ``ord`` NumPy accepts.

    Vector norms (``axis`` an int, or ``x`` 1-D): ``None``/``2``, any real ``p``, ``inf``,
    ``-inf`` and ``0`` (a count: constant).  Matrix norms (``axis`` a pair, or ``x`` 2-D):
    ``None``/``'fro'``, ``'nuc'``, ``1``, ``-1``, ``2``, ``-2``, ``inf``, ``-inf``.

    Real or complex ``x`` in every order (``2``, ``-2`` and ``'nuc'`` through the
    singular values, whose derivative is ``Re diag(U^H dA V)``).

    Derivative: at the zero vector (matrix) the derivative is 0, the subgradient of
    least norm; ties in ``max``/``min`` based orders split evenly.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(anp.linalg.norm)(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    >>> ad.grad(anp.linalg.norm)(np.zeros(2))
    array([0., 0.])
    """
    if type(x) is not Tracer:
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    ndim = ndim_of(x)
    if axis is None:
        if ord is None or (ord in ("f", "fro") and ndim == 2) or (ord == 2 and ndim == 1):
            return _pnorm(x, 2.0, None, keepdims)
        if ndim not in (1, 2):
            raise ValueError(
                f"adfun.numpy.linalg.norm: ord={ord!r} needs a 1-D or 2-D array (or an "
                f"explicit axis), got {ndim} dimensions"
            )
        axis = tuple(range(ndim))
    elif not isinstance(axis, tuple):
        axis = (axis,)
    if len(axis) == 1:
        return _vector_norm(x, ord, normalize_axis(axis, ndim, "linalg.norm"), keepdims)
    if len(axis) == 2:
        row, col = (int(item) % max(ndim, 1) for item in axis)
        normalize_axis(axis, ndim, "linalg.norm")  # bounds and duplicates
        return _matrix_norm(x, ord, row, col, keepdims)
    raise ValueError(f"adfun.numpy.linalg.norm: axis must name 1 or 2 axes, got {axis!r}")


@export(getattr(np.linalg, "vector_norm", None), registered=False)
def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:  # noqa: A002
    """Differentiable :func:`numpy.linalg.vector_norm` (every entry is a vector entry).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda x: anp.linalg.vector_norm(x, ord=1))(np.array([[1.0, -2.0]]))
    array([[ 1., -1.]])
    """
    if type(x) is not Tracer:
        return np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    axes = normalize_axis(axis, ndim_of(x), "linalg.vector_norm")
    return _vector_norm(x, ord, axes, keepdims)


@export(getattr(np.linalg, "matrix_norm", None), registered=False)
def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:  # noqa: A002
    """Differentiable :func:`numpy.linalg.matrix_norm` over the last two axes.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda x: anp.linalg.matrix_norm(x, ord=1))(np.array([[1.0, -2.0]]))
    array([[ 0., -1.]])
    """
    if type(x) is not Tracer:
        return np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


@export(np.linalg.cond, registered=False)
def cond(x: Any, p: Any = None) -> Any:
    """Differentiable :func:`numpy.linalg.cond`, the condition number.

    ``p`` in ``None, 2, -2``: the ratio of extreme singular values; otherwise
    ``norm(x, p) * norm(inv(x), p)``.  Real or complex ``x``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(anp.linalg.cond)(np.diag([4.0, 2.0]))
    array([[ 0.5,  0. ],
           [ 0. , -1. ]])
    """
    if type(x) is not Tracer:
        return np.linalg.cond(x, p)
    if p is None or p in (2, -2):
        values = svdvals(x)
        largest = getitem(values, (Ellipsis, 0))
        smallest = getitem(values, (Ellipsis, -1))
        return smallest / largest if p == -2 else largest / smallest
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))
