"""Determinants: ``det`` (with its cofactor matrix, finite at singular matrices) and
``slogdet``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS
from adfun._engine.trace import Tracer, bind, full_value, values_hidden
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._batching import leading
from adfun.numpy._complex import imag, real
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._indexing import getitem
from adfun.numpy._linear import matmul
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._selection import where
from adfun.numpy._shape import expand_dims, stack
from adfun.numpy.linalg._decompositions import svd
from adfun.numpy.linalg._helpers import (
    complex_square_examples,
    mT,
    require_matrix,
    square_examples,
)
from adfun.numpy.linalg._inverse import inv, inv_jvp, inv_vjp

# --- det -------------------------------------------------------------------------------


def _exclusive_products(s: Any) -> Any:
    """``prod_{j != i} s_j`` for each ``i`` along the last axis, without division."""
    n = shape_of(s)[-1]
    columns = [getitem(s, (Ellipsis, index)) for index in range(n)]
    prefix = [None] * n
    suffix = [None] * n
    running = None
    for index in range(n):
        prefix[index] = running
        running = columns[index] if running is None else running * columns[index]
    running = None
    for index in reversed(range(n)):
        suffix[index] = running
        running = columns[index] if running is None else running * columns[index]
    products = []
    for before, after in zip(prefix, suffix):
        if before is None and after is None:
            products.append(np.ones(shape_of(s)[:-1], dtype_of(s)))
        elif before is None or after is None:
            products.append(after if before is None else before)
        else:
            products.append(before * after)
    return stack(products, axis=-1)


def _orientation_impl(q: Any) -> Any:
    return np.sign(np.linalg.det(q))


_ORIENTATION = primitive(
    "linalg.orientation", _orientation_impl, (), (), nondiff=True, batch=leading
)


def _orientation(q: Any) -> Any:
    return bind(_ORIENTATION, (q,), EMPTY_PARAMS) if type(q) is Tracer else _orientation_impl(q)


def _checked_inverse(value: Any) -> tuple:
    """``(inverse, well_conditioned)`` of a stack of matrices: the inverse where it is
    well conditioned (a 1-norm condition number below ``1 / sqrt(eps)``, 1e8 in float64:
    ``det * inv`` keeps half of the digits), zeros elsewhere (never an error, never inf
    or NaN), and the mask of those matrices."""
    value = np.asarray(value)
    batch = value.shape[:-2]
    if value.shape[-1] == 0:
        return np.zeros(value.shape, value.dtype), np.ones(batch, bool)
    flat = value.reshape((-1,) + value.shape[-2:])
    inverse = np.zeros_like(flat)
    invertible = np.zeros(flat.shape[0], bool)
    try:
        inverse[...] = np.linalg.inv(flat)
        invertible[...] = True
    except np.linalg.LinAlgError:
        for index, matrix in enumerate(flat):
            try:
                inverse[index] = np.linalg.inv(matrix)
                invertible[index] = True
            except np.linalg.LinAlgError:
                pass
    with np.errstate(all="ignore"):
        condition = np.max(np.sum(np.abs(flat), axis=-2), axis=-1) * np.max(
            np.sum(np.abs(inverse), axis=-2), axis=-1
        )
        good = (
            invertible
            & np.isfinite(condition)
            & (condition < 1.0 / np.sqrt(np.finfo(value.dtype).eps))
        )
    inverse[~good] = 0.0
    return inverse.reshape(value.shape), good.reshape(batch)


def _guarded_inverse_impl(a: Any) -> Any:
    return _checked_inverse(a)[0]


def _well_conditioned_impl(a: Any) -> Any:
    return _checked_inverse(a)[1]


# Under staging, cofactor's choice between det * inv and the SVD form is recorded as nodes
# computed from each new input: the inverse (zeros where not well conditioned, so that
# its rules stay finite in the branch not taken) and the mask of well-conditioned
# matrices.
_GUARDED_INVERSE = primitive(
    "linalg.guarded_inverse",
    _guarded_inverse_impl,
    (inv_vjp,),
    (inv_jvp,),
    domain=Domain(examples=square_examples),
    batch=leading,
)
_WELL_CONDITIONED = primitive(
    "linalg.well_conditioned", _well_conditioned_impl, (), (), nondiff=True, batch=leading
)


def _svd_cofactor(a: Any) -> Any:
    u, s, vh = svd(a)
    orientation = _orientation(u) * _orientation(vh)
    scaled = u * expand_dims(_exclusive_products(s), -2)
    return expand_dims(expand_dims(orientation, -1), -1) * matmul(scaled, vh)


def cofactor(a: Any) -> Any:
    """The cofactor matrix ``adj(A).T`` (the derivative of ``det``), also when singular.

    For well-conditioned matrices ``det(A) * inv(A).T``; otherwise from the SVD
    ``A = U S V^T``: ``det(U) det(V) U diag(prod_{j != i} s_j) V^T``, which has no division
    and stays finite at singular matrices.  Under ``jit`` / ``trace`` both forms are
    recorded and chosen per matrix with ``where`` from each new input's conditioning.
    """
    if dtype_of(a).kind == "c":
        # det(A) inv(A)^T (complex matrices: no SVD form, whose rules are real-only; a
        # singular complex matrix raises LinAlgError from inv rather than give a wrong
        # derivative).
        return expand_dims(expand_dims(det(a), -1), -1) * mT(inv(a))
    if values_hidden(a):
        well = expand_dims(expand_dims(bind(_WELL_CONDITIONED, (a,), EMPTY_PARAMS), -1), -1)
        inverse = bind(_GUARDED_INVERSE, (a,), EMPTY_PARAMS)
        regular = expand_dims(expand_dims(det(a), -1), -1) * mT(inverse)
        return where(well, regular, _svd_cofactor(a))
    # Eagerly, the same choice per matrix (the mask read from the value): a stack mixing
    # well- and ill-conditioned matrices takes the same form for each as the staged rule.
    inverse, well = _checked_inverse(full_value(a))
    if np.all(well):
        inverse = inv(a) if type(a) is Tracer else inverse
        return expand_dims(expand_dims(det(a), -1), -1) * mT(inverse)
    if not np.any(well):
        return _svd_cofactor(a)
    if type(a) is Tracer:
        inverse = bind(_GUARDED_INVERSE, (a,), EMPTY_PARAMS)
    regular = expand_dims(expand_dims(det(a), -1), -1) * mT(inverse)
    return where(well[..., None, None], regular, _svd_cofactor(a))


def _det_vjp(g: Any, ans: Any, a: Any) -> Any:
    return expand_dims(expand_dims(g, -1), -1) * cofactor(a)


def _det_jvp(t: Any, ans: Any, a: Any) -> Any:
    return _sum(cofactor(a) * t, axis=(-2, -1))


_DET = primitive(
    "linalg.det",
    np.linalg.det,
    (_det_vjp,),
    (_det_jvp,),
    domain=Domain(examples=square_examples),
    batch=leading,
    complex_domain=Domain(examples=complex_square_examples),
)


@export(np.linalg.det, primitive=_DET)
def det(a: Any) -> Any:
    """Differentiable :func:`numpy.linalg.det` (stacks of matrices too).

    Derivative: the cofactor matrix (the transposed adjugate), which is finite also for
    singular matrices: it is computed from the SVD there, never from ``inv``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(anp.linalg.det)(np.array([[1.0, 2.0], [2.0, 4.0]]))  # singular
    array([[ 4., -2.],
           [-2.,  1.]])
    """
    if type(a) is not Tracer:
        return np.linalg.det(a)
    require_matrix("det", "a", a)
    return bind(_DET, (a,), EMPTY_PARAMS)


# --- slogdet ---------------------------------------------------------------------------


def _logabsdet_impl(a: Any) -> Any:
    return np.linalg.slogdet(a)[1]


def _logabsdet_vjp(g: Any, ans: Any, a: Any) -> Any:
    # d log|det A| = Re(tr(A^{-1} dA)): for complex A the real part of the cotangent.
    if dtype_of(a).kind == "c":
        g = real(g)
    return expand_dims(expand_dims(g, -1), -1) * mT(inv(a))


def _logabsdet_jvp(t: Any, ans: Any, a: Any) -> Any:
    trace = _sum(mT(inv(a)) * t, axis=(-2, -1))
    return real(trace) if dtype_of(a).kind == "c" else trace


_LOGABSDET = primitive(
    "linalg.slogdet",
    _logabsdet_impl,
    (_logabsdet_vjp,),
    (_logabsdet_jvp,),
    domain=Domain(examples=square_examples),
    batch=leading,
    complex_domain=Domain(examples=complex_square_examples),
)


def _sign_impl(a: Any) -> Any:
    return np.linalg.slogdet(a)[0]


_SIGN = primitive("linalg.slogdet_sign", _sign_impl, (), (), nondiff=True, batch=leading)


def _phase_vjp(g: Any, ans: Any, a: Any) -> Any:
    # d sign = sign * i Im(tr(A^{-1} dA)), so Re(g d sign) = Re(c dA) with
    # c = i Im(g sign) A^{-T}.
    weight = imag(g * ans) * 1j
    return expand_dims(expand_dims(weight, -1), -1) * mT(inv(a))


def _phase_jvp(t: Any, ans: Any, a: Any) -> Any:
    return ans * (imag(_sum(mT(inv(a)) * t, axis=(-2, -1))) * 1j)


# The sign of a complex determinant is a phase that moves with the matrix (of a real one
# it is +-1, a constant).
_PHASE = primitive(
    "linalg.slogdet_phase",
    _sign_impl,
    (_phase_vjp,),
    (_phase_jvp,),
    domain=Domain(examples=complex_square_examples),
    batch=leading,
    complex_domain=Domain(examples=complex_square_examples),
)


@export(primitive=_PHASE)
def _slogdet_phase(a: Any) -> Any:
    """The ``sign`` of :func:`slogdet` of complex matrices, ``det / |det|``: derivative
    ``sign * i Im(tr(A^{-1} dA))``."""
    return bind(_PHASE, (a,), EMPTY_PARAMS)


@export(np.linalg.slogdet, primitive=_LOGABSDET)
def slogdet(a: Any) -> Any:
    """Differentiable :func:`numpy.linalg.slogdet`: ``(sign, logabsdet)``.

    ``sign`` is a constant for differentiation; the derivative of ``logabsdet`` is
    ``inv(a).T``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.linalg.slogdet(a)[1])(np.array([[2.0, 1.0], [1.0, -4.0]]))
    array([[ 0.44444444,  0.11111111],
           [ 0.11111111, -0.22222222]])
    """
    if type(a) is not Tracer:
        return np.linalg.slogdet(a)
    require_matrix("slogdet", "a", a)
    sign = _slogdet_phase(a) if dtype_of(a).kind == "c" else bind(_SIGN, (a,), EMPTY_PARAMS)
    return _SlogdetResult(sign, bind(_LOGABSDET, (a,), EMPTY_PARAMS))


_SlogdetResult = type(np.linalg.slogdet(np.eye(1)))
