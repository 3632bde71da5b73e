"""Complex intermediates: ``real``, ``imag``, ``conjugate`` and the derivative of ``abs``.

Complex *inputs* to differentiation are outside adfun's contract, but complex values in
the middle of a real program (``x -> fft(x) -> abs(...)**2 -> sum``) are differentiated.

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

from adfun._engine.records import EMPTY_PARAMS
from adfun._engine.trace import Tracer, bind_unary
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._base import where
from adfun.numpy._batching import elementwise
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._nondiff import equal, sign


def is_complex(x: Any) -> bool:
    """Whether ``x`` (array, tracer or scalar) has a complex dtype."""
    return dtype_of(x).kind == "c"


def _complex_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    real_part = array(draw, st, hnp, (-3.0, 3.0))
    imag_part = array(draw, st, hnp, (-3.0, 3.0), shape=real_part.shape)
    return (np.asarray(real_part + 1j * imag_part),), {}


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
    domain=Domain(examples=_complex_examples),
    batch=elementwise,
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
    domain=Domain(examples=_complex_examples),
    batch=elementwise,
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
    domain=Domain(examples=_complex_examples),
    batch=elementwise,
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
