"""Complex values: ``real``, ``imag``, ``conjugate``, ``angle``, the ``sign`` of complex
values and the derivative of ``abs``.

Complex values are differentiated as inputs (``grad(f)(z)``), as outputs (with
``holomorphic=True``) and in the middle of a real program (``x -> fft(x) ->
abs(...)**2 -> sum``).

Convention (HIPS autograd's and JAX's): the cotangent of a complex value ``z = u + i v``
is ``dL/du - i dL/dv``, so that ``dL = Re(cotangent * dz)``.  With it, the reverse rule
of every holomorphic function is the same formula as for reals (``g * f'(z)``, a
*transpose* for complex-linear maps, not a conjugate transpose), and the cotangent of a
real value that fed a complex computation is the real part of what arrives at it.
Likewise the cotangent of any real value is its real part: the rules of real-valued
functions of complex arguments (``real``, ``imag``, ``abs``, ``irfft``) drop the
imaginary part of the cotangent they receive.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS, Params
from adfun._engine.trace import Tracer, bind, bind_unary
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._base import where
from adfun.numpy._batching import elementwise
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._nondiff import equal
from adfun.numpy._nondiff import sign as _real_sign


def is_complex(x: Any) -> bool:
    """Whether ``x`` (array, tracer or scalar) has a complex dtype."""
    return dtype_of(x).kind == "c"


def _complex_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import complex_array

    return (complex_array(draw, st, hnp, (-3.0, 3.0)),), {}


def _away_from_zero_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import complex_array

    return (complex_array(draw, st, hnp, (-3.0, 3.0), magnitude=0.2),), {}


def _polar_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """Complex values ``r exp(i t)`` with ``0.2 <= r <= 3`` and ``|t| <= 2.8``: away from 0
    and from the jump of the angle across the negative real axis."""
    from adfun.numpy._examples import array

    radius = array(draw, st, hnp, (0.2, 3.0))
    phase = array(draw, st, hnp, (-2.8, 2.8), shape=radius.shape)
    return (np.asarray(radius * np.exp(1j * phase)),), {}


#: The complex domain of ``real``, ``imag`` and ``conjugate`` (complex-linear or
#: real-linear everywhere).
COMPLEX_PLANE = Domain(examples=_complex_examples)


# --- real ------------------------------------------------------------------------------


def _real_vjp(g: Any, ans: Any, z: Any) -> Any:
    # A real output's cotangent may carry a meaningless imaginary part (from complex
    # constants met on the way back); only its real part counts.
    return real(g)


def _real_jvp(t: Any, ans: Any, z: Any) -> Any:
    return real(t)


_REAL = primitive(
    "real",
    np.real,
    (_real_vjp,),
    (_real_jvp,),
    domain=COMPLEX_PLANE,
    batch=elementwise,
    complex_domain=COMPLEX_PLANE,
)


@export(np.real, primitive=_REAL, signature="real(val)")
def real(val: Any) -> Any:
    """Differentiable :func:`numpy.real`: the real part (the value itself if it is real).

    Derivative: the cotangent ``g`` of ``Re(z)`` is passed to ``z`` unchanged (with the
    convention ``dL = Re(cotangent * dz)``).

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> float(ad.grad(lambda x: anp.real(x * (1.0 + 2.0j)))(3.0))
    1.0
    """
    if type(val) is not Tracer:
        return np.real(val)
    if not is_complex(val):
        return val
    return bind_unary(_REAL, val, EMPTY_PARAMS)


# --- imag ------------------------------------------------------------------------------


def _imag_vjp(g: Any, ans: Any, z: Any) -> Any:
    return real(g) * -1j


def _imag_jvp(t: Any, ans: Any, z: Any) -> Any:
    return imag(t)


_IMAG = primitive(
    "imag",
    np.imag,
    (_imag_vjp,),
    (_imag_jvp,),
    domain=COMPLEX_PLANE,
    batch=elementwise,
    complex_domain=COMPLEX_PLANE,
)


@export(np.imag, primitive=_IMAG, signature="imag(val)")
def imag(val: Any) -> Any:
    """Differentiable :func:`numpy.imag`: the imaginary part (0 for real values).

    Derivative: the cotangent ``g`` of ``Im(z)`` becomes ``-i g`` for ``z``.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> float(ad.grad(lambda x: anp.imag(x * (1.0 + 2.0j)))(3.0))
    2.0
    """
    if type(val) is not Tracer:
        return np.imag(val)
    if not is_complex(val):
        return np.zeros(shape_of(val), dtype_of(val))
    return bind_unary(_IMAG, val, EMPTY_PARAMS)


# --- conjugate -------------------------------------------------------------------------


def _conjugate_rule(seed: Any, ans: Any, z: Any) -> Any:
    return conjugate(seed)


_CONJUGATE = primitive(
    "conjugate",
    np.conjugate,
    (_conjugate_rule,),
    (_conjugate_rule,),
    domain=COMPLEX_PLANE,
    batch=elementwise,
    complex_domain=COMPLEX_PLANE,
)


@export(np.conjugate, primitive=_CONJUGATE, signature="conjugate(x)")
def conjugate(x: Any, /, **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.conjugate` (also ``conj``); the identity on reals.

    Derivative: the conjugate of the cotangent (tangent).

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> float(ad.grad(lambda x: anp.real(anp.conj(x * 1j) * 1j))(2.0))
    1.0
    """
    if type(x) is not Tracer:
        return np.conjugate(x, **kwargs)
    if kwargs:
        raise TypeError(
            f"adfun.numpy.conjugate: keyword arguments {sorted(kwargs)} are not "
            f"supported on traced values"
        )
    if not is_complex(x):
        return x
    return bind_unary(_CONJUGATE, x, EMPTY_PARAMS)


conj = conjugate


# --- the derivative of abs, for real and complex arguments --------------------------------


def _conjugate_phase(x: Any, ans: Any) -> Any:
    """``conj(z) / |z|``, taken as 0 at ``z == 0`` (the subgradient)."""
    return conjugate(x) / where(equal(ans, 0.0), 1.0, ans)


def _safe_reciprocal(z: Any) -> Any:
    """``1 / z``, taken as 0 at ``z == 0``."""
    squared = real(z * conjugate(z))
    return conjugate(z) / where(equal(squared, 0.0), 1.0, squared)


def absolute_vjp(g: Any, ans: Any, x: Any) -> Any:
    """Reverse rule of ``abs``: ``g * sign(x)`` for reals, ``g * conj(z) / |z|`` else."""
    if is_complex(x):
        return real(g) * _conjugate_phase(x, ans)
    return g * sign(x)


def absolute_jvp(t: Any, ans: Any, x: Any) -> Any:
    """Forward rule of ``abs``: ``t * sign(x)`` for reals, ``Re(conj(z) t) / |z|`` else."""
    if is_complex(x):
        return real(t * _conjugate_phase(x, ans))
    return t * sign(x)


# --- angle ----------------------------------------------------------------------------------


def _angle_impl(z: Any, deg: bool = False) -> Any:
    return np.angle(z, deg=deg)


def _angle_scale(deg: bool) -> float:
    return 180.0 / np.pi if deg else 1.0


def _angle_vjp(g: Any, ans: Any, z: Any, deg: bool = False) -> Any:
    # d angle = Im(dz / z), and Im(w) = Re(-i w): the cotangent is -i Re(g) / z.
    if not is_complex(z):
        return None  # 0 or pi: piecewise constant on reals
    return (real(g) * (-1j * _angle_scale(deg))) * _safe_reciprocal(z)


def _angle_jvp(t: Any, ans: Any, z: Any, deg: bool = False) -> Any:
    if not is_complex(z):
        return None
    return imag(t * _safe_reciprocal(z)) * _angle_scale(deg)


_ANGLE = primitive(
    "angle",
    _angle_impl,
    (_angle_vjp,),
    (_angle_jvp,),
    domain=Domain(examples=_polar_examples),
    batch=elementwise,
    complex_domain=Domain(examples=_polar_examples),
)


@export(np.angle, primitive=_ANGLE, signature="angle(z, deg=False)")
def angle(z: Any, deg: bool = False) -> Any:
    """Differentiable :func:`numpy.angle`: the argument (phase) of ``z``, in radians (or
    degrees with ``deg=True``).

    Derivative: ``d angle = Im(dz / z)`` for complex ``z`` (taken as 0 at ``z == 0``);
    0 for real ``z`` (whose angle is 0 or pi).

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> round(float(ad.grad(lambda x: anp.angle(x + 0.5j))(0.3)), 4)
    -1.4706
    """
    if type(z) is not Tracer:
        return np.angle(z, deg=deg)
    return bind(_ANGLE, (z,), Params(deg=bool(deg)) if deg else EMPTY_PARAMS)


# --- sign of complex values -------------------------------------------------------------


def _sign_vjp(g: Any, ans: Any, z: Any) -> Any:
    # s = z / |z|: ds = (dz - s**2 conj(dz)) / (2 |z|), so that Re(g ds) = Re(c dz) with
    # c = (g - conj(g s**2)) / (2 |z|); 0 at z == 0.
    magnitude = real(ans * conjugate(z))
    zero = equal(magnitude, 0.0)
    c = (g - conjugate(g * ans * ans)) / (2.0 * where(zero, 1.0, magnitude))
    return where(zero, 0.0, c)


def _sign_jvp(t: Any, ans: Any, z: Any) -> Any:
    magnitude = real(ans * conjugate(z))
    zero = equal(magnitude, 0.0)
    return where(zero, 0.0, (t - ans * ans * conjugate(t)) / (2.0 * where(zero, 1.0, magnitude)))


_COMPLEX_SIGN = primitive(
    "complex_sign",
    np.sign,
    (_sign_vjp,),
    (_sign_jvp,),
    domain=Domain(examples=_away_from_zero_examples),
    batch=elementwise,
    complex_domain=Domain(examples=_away_from_zero_examples),
)


@export(np.sign, primitive=_COMPLEX_SIGN, name="sign", signature="sign(x)")
def sign(x: Any, /, **kwargs: Any) -> Any:
    """:func:`numpy.sign`: piecewise constant on reals, ``z / |z|`` on complex values.

    Derivative: 0 for real ``x``; for complex ``z`` the derivative of ``z / |z|``,
    ``ds = (dz - s**2 conj(dz)) / (2 |z|)`` (taken as 0 at ``z == 0``, where
    :func:`numpy.sign` gives 0).

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> float(ad.grad(lambda x: anp.sign(x - 2.0))(1.0))
    0.0
    >>> float(ad.grad(lambda y: anp.imag(anp.sign(1.0 + 1j * y)))(0.0))
    1.0
    """
    if type(x) is Tracer and not kwargs and is_complex(x):
        return bind_unary(_COMPLEX_SIGN, x, EMPTY_PARAMS)
    return _real_sign(x, **kwargs)
