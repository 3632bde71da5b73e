"""The pseudo-inverse and least squares: ``pinv`` and ``lstsq``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import Params
from adfun._engine.trace import (
    Tracer,
    any_traced,
    backend_trace_of,
    bind,
    full_value,
    read_value,
    staging_trace_of,
)
from adfun.numpy._axes import dtype_of, ndim_of, shape_of
from adfun.numpy._batching import leading
from adfun.numpy._complex import conjugate, real
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._elementwise import absolute
from adfun.numpy._linear import matmul
from adfun.numpy._nondiff import greater, stop_gradient
from adfun.numpy._reductions import max as _max
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._selection import where
from adfun.numpy._shape import expand_dims, reshape
from adfun.numpy.linalg._decompositions import eigh, svdvals
from adfun.numpy.linalg._helpers import (
    draw_batch,
    draw_complex_matrix,
    draw_matrix,
    mH,
    mT,
    require_matrix,
)

# --- pinv ------------------------------------------------------------------------------


def _pinv_impl(a: Any, rcond: Any = 1e-15) -> Any:
    return np.linalg.pinv(a, rcond=rcond)


def _pinv_vjp(g: Any, ans: Any, a: Any, rcond: Any = 1e-15) -> Any:
    # The adjoint of _pinv_jvp for the inner product Re sum(g * t): its terms in dA^H
    # give conjugated cotangents.
    p, pt, gh = ans, mT(ans), mH(g)
    first = -matmul(pt, matmul(g, pt))
    p_bar = conjugate(p)
    second = matmul(gh - matmul(conjugate(a), matmul(p_bar, gh)), matmul(p_bar, pt))
    third = matmul(matmul(pt, p_bar), gh - matmul(matmul(gh, p_bar), conjugate(a)))
    return first + second + third


def _pinv_jvp(t: Any, ans: Any, a: Any, rcond: Any = 1e-15) -> Any:
    p, ph, th = ans, mH(ans), mH(t)
    first = -matmul(p, matmul(t, p))
    second = matmul(matmul(p, ph), th - matmul(matmul(th, a), p))
    third = matmul(th - matmul(p, matmul(a, th)), matmul(ph, p))
    return first + second + third


def _rectangular_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (draw_matrix(draw, st, hnp, m, n, draw_batch(draw, st)),), {"rcond": 1e-15}


def _complex_rectangular_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a = draw_complex_matrix(draw, st, hnp, m, n, draw_batch(draw, st))
    return (a,), {"rcond": 1e-15}


_PINV = primitive(
    "linalg.pinv",
    _pinv_impl,
    (_pinv_vjp,),
    (_pinv_jvp,),
    domain=Domain(examples=_rectangular_examples),
    batch=leading,
    complex_domain=Domain(examples=_complex_rectangular_examples),
)

_NO_VALUE = object()


def _on_lazy_backend(a: Any, b: Any) -> bool:
    """Whether ``lstsq``'s arguments live in another array library (not under staging)."""
    traced = [value for value in (a, b) if type(value) is Tracer]
    return any(
        backend_trace_of(value) is not None and staging_trace_of(value) is None for value in traced
    )


@export(np.linalg.pinv, primitive=_PINV)
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _NO_VALUE) -> Any:
    """Differentiable :func:`numpy.linalg.pinv` (the Moore-Penrose pseudo-inverse).

    Derivative: Golub and Pereyra's formula for a matrix of locally constant rank,
    ``dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P`` (real or complex
    ``a``); singular values below the cutoff are treated as exact zeros, as NumPy does.
    With ``hermitian=True`` the result is built from ``eigh`` (only the lower triangle is
    read, as in NumPy).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.sum(anp.linalg.pinv(a)))(np.array([[2.0], [0.0]]))
    array([[-0.25],
           [ 0.25]])
    """
    if type(a) is not Tracer:
        if rtol is _NO_VALUE:
            return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)
        return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian, rtol=rtol)
    require_matrix("pinv", "a", a, square=bool(hermitian))
    cutoff = _cutoff("pinv", a, rcond, rtol)
    if hermitian:
        return _hermitian_pinv(a, cutoff)
    return bind(_PINV, (a,), Params(rcond=cutoff))


def _hermitian_pinv(a: Any, cutoff: float) -> Any:
    """NumPy's ``hermitian=True`` pseudo-inverse: from ``eigh`` (lower triangle read),
    ``V diag(1 / w) V^H`` over the eigenvalues above the cutoff."""
    w, v = eigh(a)
    magnitude = stop_gradient(absolute(w))  # the mask is a graph node (right under jit)
    kept = greater(magnitude, cutoff * _max(magnitude, axis=-1, keepdims=True))
    inverse_values = where(kept, 1.0 / where(kept, w, 1.0), 0.0)
    return (v * expand_dims(inverse_values, -2)) @ mH(v)


def _cutoff(function: str, a: Any, rcond: Any, rtol: Any) -> float:
    """NumPy's relative singular-value cutoff for ``pinv`` as one float."""
    if rcond is not None and rtol is not _NO_VALUE:
        raise ValueError(f"adfun.numpy.linalg.{function}: pass rcond or rtol, not both")
    if rcond is None:
        if rtol is _NO_VALUE:
            return 1e-15
        if rtol is None:
            m, n = shape_of(a)[-2:]
            return float(max(m, n) * np.finfo(dtype_of(a)).eps)
        rcond = rtol
    if np.ndim(full_value(rcond)) != 0:
        raise TypeError(
            f"adfun.numpy.linalg.{function}: on traced values the cutoff must be "
            f"a scalar, got an array of shape {np.shape(full_value(rcond))}"
        )
    return float(
        read_value(
            rcond,
            f"adfun.numpy.linalg.{function}",
            "The cutoff (rcond / rtol) decides which singular values count as zero: pass it "
            "as a Python float, not as a traced value.",
        )
    )


# --- lstsq (composite) -----------------------------------------------------------------


@export(np.linalg.lstsq, registered=False)
def lstsq(a: Any, b: Any, rcond: Any = None) -> Any:
    """Differentiable :func:`numpy.linalg.lstsq`: ``(x, residuals, rank, s)``.

    On traced values ``x = pinv(a, rcond) @ b`` (the same minimum-norm solution), the
    residuals are ``sum(abs(b - a @ x)**2, axis=0)`` (present, as in NumPy, only when
    ``a`` has full column rank and more rows than columns), ``rank`` is a constant and
    ``s = svdvals(a)``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> a = np.array([[1.0], [1.0]])
    >>> ad.grad(lambda b: anp.linalg.lstsq(a, b)[0][0])(np.array([1.0, 3.0]))
    array([0.5, 0.5])
    """
    if not any_traced((a, b)):
        return np.linalg.lstsq(a, b, rcond=rcond)
    if ndim_of(a) != 2 or ndim_of(b) not in (1, 2):
        raise np.linalg.LinAlgError(
            f"adfun.numpy.linalg.lstsq: a must be 2-D and b 1-D or 2-D, got shapes "
            f"{shape_of(a)} and {shape_of(b)}"
        )
    m, n = shape_of(a)
    if shape_of(b)[0] != m:
        raise np.linalg.LinAlgError(
            f"adfun.numpy.linalg.lstsq: incompatible dimensions: a has {m} rows, b has "
            f"{shape_of(b)[0]}"
        )
    cutoff = np.finfo(dtype_of(a)).eps * max(m, n) if rcond is None else rcond
    cutoff = float(np.finfo(dtype_of(a)).eps) if cutoff < 0 else float(cutoff)
    x = (
        matmul(bind(_PINV, (a,), Params(rcond=cutoff)), b)
        if type(a) is Tracer
        else matmul(np.linalg.pinv(a, rcond=cutoff), b)
    )
    if _on_lazy_backend(a, b):
        # The values stay in their library (Dask computes nothing yet): as
        # dask.array.linalg.lstsq does, the residuals are always returned and the rank is
        # a 0-d integer array of the library.
        s = svdvals(a)
        tolerance = _max(s) * cutoff
        residual = b - matmul(a, x)
        residuals = _sum(residual * residual, axis=0)
        if ndim_of(b) == 1:
            residuals = reshape(residuals, (1,))
        return x, residuals, _sum(greater(s, tolerance)), s
    rank = np.linalg.lstsq(
        read_value(
            a,
            "adfun.numpy.linalg.lstsq",
            "The rank it returns, and the shape of the residuals (empty unless a has "
            "full column rank), depend on the values of a. Under jit, compute the "
            "solution as adfun.numpy.linalg.pinv(a) @ b (or solve for a square, "
            "regular a) and the residuals with adfun.numpy.sum((b - a @ x)**2, "
            "axis=0), or call lstsq outside the staged function.",
        ),
        full_value(b),
        rcond=rcond,
    )[2]
    if rank == n and m > n:
        residual = b - matmul(a, x)
        residuals = _sum(real(residual * conjugate(residual)), axis=0)
        if ndim_of(b) == 1:
            residuals = reshape(residuals, (1,))
    else:
        residuals = np.empty((0,), dtype=np.finfo(dtype_of(x)).dtype)
    return x, residuals, rank, svdvals(a)
