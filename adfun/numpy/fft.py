"""Differentiable :mod:`numpy.fft`.

Four primitives (``fft ifft rfft irfft`` along one axis, with ``n``, ``axis`` and
``norm``); every other transform is an exact composite of them, as in NumPy
(``fft2``/``fftn`` apply 1-D transforms axis by axis, ``hfft``/``ihfft`` conjugate and
swap the normalization), and ``fftshift``/``ifftshift`` are rolls.  ``fftfreq`` and
``rfftfreq`` return constants.

Complex values are fine as intermediates (see :mod:`adfun.numpy._complex` for the
convention): ``fft`` and ``ifft`` are complex-linear, so their reverse rules are their
transposes (``fft`` for ``fft``, ``ifft`` for ``ifft``, undoing the cropping or padding
to ``n``); ``rfft`` and ``irfft`` are real-linear and their rules account for the
Hermitian symmetry.  A real input's cotangent is the real part.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._engine.records import Params, Primitive
from adfun._engine.trace import Tracer, bind
from adfun.numpy._axes import dtype_of, ndim_of, shape_of
from adfun.numpy._batching import along_axis
from adfun.numpy._complex import conjugate, real
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._indexing import getitem
from adfun.numpy._shape import concatenate
from adfun.numpy._typing import FFTNorm

_NORMS = ("backward", "ortho", "forward")
_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}

fftfreq = np.fft.fftfreq
rfftfreq = np.fft.rfftfreq

# --- helpers -------------------------------------------------------------------------------


def _is_complex(x: Any) -> bool:
    return dtype_of(x).kind == "c"


def _resize(z: Any, axis: int, length: int) -> Any:
    """Crop or zero-pad ``z`` along ``axis`` to ``length`` (the adjoint of NumPy's own
    cropping/padding to ``n`` is the opposite resize)."""
    current = shape_of(z)[axis]
    if current == length:
        return z
    if current > length:
        return getitem(z, (slice(None),) * axis + (slice(0, length),))
    shape = list(shape_of(z))
    shape[axis] = length - current
    return concatenate([z, np.zeros(tuple(shape), dtype_of(z))], axis=axis)


def _real_if(g: Any, x: Any) -> Any:
    return g if _is_complex(x) else real(g)


def _check(function: str, a: Any, n: Any, axis: Any, norm: Any, real_input: bool) -> tuple:
    """Normalized ``(n, axis, norm)``; errors name the function and the argument."""
    ndim = ndim_of(a)
    if ndim == 0:
        raise ValueError(
            f"adfun.numpy.fft.{function}: argument 'a' must have at least one "
            f"dimension, got a 0-d value"
        )
    if (
        isinstance(axis, bool)
        or not isinstance(axis, (int, np.integer))
        or not (-ndim <= axis < ndim)
    ):
        raise np.exceptions.AxisError(
            f"adfun.numpy.fft.{function}: axis {axis!r} is out of bounds for an array of "
            f"dimension {ndim}"
        )
    axis = int(axis) % ndim
    if norm is None:
        norm = "backward"
    if norm not in _NORMS:
        raise ValueError(
            f"adfun.numpy.fft.{function}: norm must be one of {_NORMS} or None, got {norm!r}"
        )
    if real_input and _is_complex(a):
        raise TypeError(
            f"adfun.numpy.fft.{function}: argument 'a' must be real on traced "
            f"values (NumPy would discard its imaginary part); take "
            f"adfun.numpy.real(a) explicitly"
        )
    return n, axis, norm


def _examples(
    real_only: bool = False, inverse_real: bool = False, complex_only: bool = False
) -> Any:
    def examples(draw: Any, st: Any, hnp: Any) -> tuple:
        from adfun.numpy._examples import array

        x = array(draw, st, hnp, (-2.0, 2.0), min_dims=1)
        if complex_only or (not real_only and draw(st.booleans())):
            x = np.asarray(x + 1j * array(draw, st, hnp, (-2.0, 2.0), shape=x.shape))
        axis = draw(st.integers(0, x.ndim - 1))
        side = x.shape[axis]
        if inverse_real:
            default = 2 * (side - 1) if side > 1 else 2
            n = draw(st.sampled_from([default, default + 1, max(1, side - 1), side + 2]))
        else:
            n = draw(st.sampled_from([side, max(1, side - 1), side + 2]))
        return (x,), {"n": n, "axis": axis, "norm": draw(st.sampled_from(_NORMS))}

    return examples


# --- the four primitives ---------------------------------------------------------------


def _fft_impl(a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward") -> Any:
    return np.fft.fft(a, n, axis, norm)


def _fft_vjp(
    g: Any, ans: Any, a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward"
) -> Any:
    return _real_if(_resize(fft(g, None, axis, norm), axis, shape_of(a)[axis]), a)


def _fft_jvp(
    t: Any, ans: Any, a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward"
) -> Any:
    return fft(t, n, axis, norm)


_FFT = primitive(
    "fft.fft",
    _fft_impl,
    (_fft_vjp,),
    (_fft_jvp,),
    domain=Domain(examples=_examples()),
    complex_domain=Domain(examples=_examples(complex_only=True)),
    batch=along_axis(-1),
)


def _ifft_impl(a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward") -> Any:
    return np.fft.ifft(a, n, axis, norm)


def _ifft_vjp(
    g: Any, ans: Any, a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward"
) -> Any:
    return _real_if(_resize(ifft(g, None, axis, norm), axis, shape_of(a)[axis]), a)


def _ifft_jvp(
    t: Any, ans: Any, a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward"
) -> Any:
    return ifft(t, n, axis, norm)


_IFFT = primitive(
    "fft.ifft",
    _ifft_impl,
    (_ifft_vjp,),
    (_ifft_jvp,),
    domain=Domain(examples=_examples()),
    complex_domain=Domain(examples=_examples(complex_only=True)),
    batch=along_axis(-1),
)


def _rfft_impl(a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward") -> Any:
    return np.fft.rfft(a, n, axis, norm)


def _rfft_vjp(
    g: Any, ans: Any, a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward"
) -> Any:
    # Zero-pad the half spectrum to n and apply the (symmetric) full transform.
    return real(_resize(fft(g, n, axis, norm), axis, shape_of(a)[axis]))


def _rfft_jvp(
    t: Any, ans: Any, a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward"
) -> Any:
    return rfft(t, n, axis, norm)


_RFFT = primitive(
    "fft.rfft",
    _rfft_impl,
    (_rfft_vjp,),
    (_rfft_jvp,),
    domain=Domain(examples=_examples(real_only=True)),
    batch=along_axis(-1),
)


def _irfft_impl(a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward") -> Any:
    return np.fft.irfft(a, n, axis, norm)


def _hermitian_weights(n: int, axis: int, ndim: int, dtype: Any) -> np.ndarray:
    """1 for the entries counted once by ``irfft`` (index 0 and, for even ``n``, ``n/2``),
    2 for the others, which stand for a conjugate pair."""
    weights = np.full(n // 2 + 1, 2.0, dtype=dtype)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    return weights.reshape((-1,) + (1,) * (ndim - axis - 1))


def _irfft_vjp(
    g: Any, ans: Any, a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward"
) -> Any:
    half = _resize(ifft(real(g), None, axis, norm), axis, n // 2 + 1)
    weights = _hermitian_weights(n, axis, ndim_of(g), np.finfo(dtype_of(g)).dtype)
    return _real_if(_resize(half * weights, axis, shape_of(a)[axis]), a)


def _irfft_jvp(
    t: Any, ans: Any, a: Any, n: int = 1, axis: int = -1, norm: FFTNorm = "backward"
) -> Any:
    return irfft(t, n, axis, norm)


_IRFFT = primitive(
    "fft.irfft",
    _irfft_impl,
    (_irfft_vjp,),
    (_irfft_jvp,),
    domain=Domain(examples=_examples(inverse_real=True)),
    complex_domain=Domain(examples=_examples(inverse_real=True, complex_only=True)),
    batch=along_axis(-1),
)


def _one_axis(
    prim: Primitive,
    numpy_fun: Any,
    name: str,
    a: Any,
    n: Any,
    axis: Any,
    norm: Any,
    out: Any,
    default_n: Any,
) -> Any:
    if type(a) is not Tracer:
        return (
            numpy_fun(a, n, axis, norm, out=out) if out is not None else numpy_fun(a, n, axis, norm)
        )
    if out is not None:
        raise TypeError(f"adfun.numpy.fft.{name}: out= is not supported on traced values")
    n, axis, norm = _check(name, a, n, axis, norm, real_input=prim is _RFFT)
    if n is None:
        n = default_n(shape_of(a)[axis])
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(
            f"adfun.numpy.fft.{name}: invalid number of data points n={n!r}; "
            f"it must be a positive integer"
        )
    return bind(prim, (a,), Params(n=int(n), axis=axis, norm=norm))


def _same(side: int) -> int:
    return side


def _inverse_real_length(side: int) -> int:
    return 2 * (side - 1)


@export(np.fft.fft, primitive=_FFT)
def fft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.fft` (one-dimensional discrete Fourier transform).

    Derivative: complex-linear; the reverse rule applies ``fft`` to the cotangent
    (the DFT matrix is symmetric) and undoes the cropping/padding to ``n``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> x = np.array([1.0, 2.0, 0.0, -1.0])
    >>> energy = lambda x: anp.sum(anp.abs(anp.fft.fft(x)) ** 2)
    >>> ad.grad(energy)(x)  # Parseval: energy = 4 * sum(x**2)
    array([ 8., 16.,  0., -8.])
    """
    return _one_axis(_FFT, np.fft.fft, "fft", a, n, axis, norm, out, _same)


@export(np.fft.ifft, primitive=_IFFT)
def ifft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.ifft`.

    Derivative: complex-linear; the reverse rule applies ``ifft`` to the cotangent.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> f = lambda x: anp.sum(anp.real(anp.fft.ifft(anp.fft.fft(x))) ** 2)
    >>> ad.grad(f)(np.array([1.0, -2.0, 3.0]))
    array([ 2., -4.,  6.])
    """
    return _one_axis(_IFFT, np.fft.ifft, "ifft", a, n, axis, norm, out, _same)


@export(np.fft.rfft, primitive=_RFFT)
def rfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.rfft` of real input (the non-negative frequencies).

    Derivative: the reverse rule zero-pads the cotangent to ``n`` and applies ``fft``,
    keeping the real part.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda x: anp.real(anp.fft.rfft(x)[0]))(np.ones(3))
    array([1., 1., 1.])
    """
    return _one_axis(_RFFT, np.fft.rfft, "rfft", a, n, axis, norm, out, _same)


@export(np.fft.irfft, primitive=_IRFFT)
def irfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.irfft` (real output of length ``n``).

    Like NumPy, the imaginary parts of the zero-frequency entry (and of the Nyquist entry
    for even ``n``) are ignored, so they get no gradient.

    Derivative: real-linear; the cotangent of each entry standing for a conjugate pair is
    twice the corresponding ``ifft`` entry of the output cotangent.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda y: anp.fft.irfft(y)[0])(np.array([1.0, 1.0, 1.0]))
    array([0.25, 0.5 , 0.25])
    """
    return _one_axis(_IRFFT, np.fft.irfft, "irfft", a, n, axis, norm, out, _inverse_real_length)


# --- Hermitian transforms (composites) ------------------------------------------------------


@export(np.fft.hfft, registered=False)
def hfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.hfft`: ``irfft(conj(a))`` with swapped scaling."""
    if type(a) is not Tracer:
        return np.fft.hfft(a, n, axis, norm, out=out)
    _, _, norm = _check("hfft", a, n, axis, norm, real_input=False)
    return irfft(conjugate(a), n, axis, _SWAPPED[norm], out)


@export(np.fft.ihfft, registered=False)
def ihfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.ihfft`: ``conj(rfft(a))`` with swapped scaling."""
    if type(a) is not Tracer:
        return np.fft.ihfft(a, n, axis, norm, out=out)
    _, _, norm = _check("ihfft", a, n, axis, norm, real_input=True)
    return conjugate(rfft(a, n, axis, _SWAPPED[norm], out))


# --- n-dimensional transforms (composites of the 1-D ones, as in NumPy) ------------------


def _axes_and_lengths(function: str, a: Any, s: Any, axes: Any, inverse_real: bool) -> tuple:
    shape = shape_of(a)
    if axes is None:
        axes = list(range(-len(s), 0)) if s is not None else list(range(len(shape)))
    else:
        axes = [int(axis) for axis in axes]
    if s is None:
        lengths = [shape[axis] for axis in axes]
        if inverse_real and lengths:
            lengths[-1] = 2 * (lengths[-1] - 1)
    else:
        lengths = [int(side) for side in s]
    if len(lengths) != len(axes):
        raise ValueError(
            f"adfun.numpy.fft.{function}: s and axes have different lengths "
            f"({len(lengths)} and {len(axes)})"
        )
    return axes, lengths


def _nd(function: str, one_axis: Any, a: Any, s: Any, axes: Any, norm: Any) -> Any:
    axes, lengths = _axes_and_lengths(function, a, s, axes, inverse_real=False)
    for axis, length in reversed(list(zip(axes, lengths))):
        a = one_axis(a, length, axis, norm)
    return a


@export(np.fft.fftn, registered=False)
def fftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.fftn`: ``fft`` along each axis in turn."""
    if type(a) is not Tracer:
        return np.fft.fftn(a, s, axes, norm, out=out)
    return _nd("fftn", fft, a, s, axes, norm)


@export(np.fft.ifftn, registered=False)
def ifftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.ifftn`: ``ifft`` along each axis in turn."""
    if type(a) is not Tracer:
        return np.fft.ifftn(a, s, axes, norm, out=out)
    return _nd("ifftn", ifft, a, s, axes, norm)


@export(np.fft.fft2, registered=False)
def fft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.fft2` (``fftn`` over two axes)."""
    if type(a) is not Tracer:
        return np.fft.fft2(a, s, axes, norm, out=out)
    return _nd("fft2", fft, a, s, axes, norm)


@export(np.fft.ifft2, registered=False)
def ifft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.ifft2` (``ifftn`` over two axes)."""
    if type(a) is not Tracer:
        return np.fft.ifft2(a, s, axes, norm, out=out)
    return _nd("ifft2", ifft, a, s, axes, norm)


def _rfftn(function: str, a: Any, s: Any, axes: Any, norm: Any) -> Any:
    axes, lengths = _axes_and_lengths(function, a, s, axes, inverse_real=False)
    a = rfft(a, lengths[-1], axes[-1], norm)
    for axis, length in reversed(list(zip(axes[:-1], lengths[:-1]))):
        a = fft(a, length, axis, norm)
    return a


def _irfftn(function: str, a: Any, s: Any, axes: Any, norm: Any) -> Any:
    axes, lengths = _axes_and_lengths(function, a, s, axes, inverse_real=True)
    for axis, length in zip(axes[:-1], lengths[:-1]):
        a = ifft(a, length, axis, norm)
    return irfft(a, lengths[-1], axes[-1], norm)


@export(np.fft.rfftn, registered=False)
def rfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.rfftn`: ``rfft`` on the last axis, then ``fft``."""
    if type(a) is not Tracer:
        return np.fft.rfftn(a, s, axes, norm, out=out)
    return _rfftn("rfftn", a, s, axes, norm)


@export(np.fft.irfftn, registered=False)
def irfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.irfftn`: ``ifft`` on leading axes, ``irfft`` last."""
    if type(a) is not Tracer:
        return np.fft.irfftn(a, s, axes, norm, out=out)
    return _irfftn("irfftn", a, s, axes, norm)


@export(np.fft.rfft2, registered=False)
def rfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.rfft2` (``rfftn`` over two axes)."""
    if type(a) is not Tracer:
        return np.fft.rfft2(a, s, axes, norm, out=out)
    return _rfftn("rfft2", a, s, axes, norm)


@export(np.fft.irfft2, registered=False)
def irfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.irfft2` (``irfftn`` over two axes)."""
    if type(a) is not Tracer:
        return np.fft.irfft2(a, s, axes, norm, out=out)
    return _irfftn("irfft2", a, s, axes, norm)


# --- shifts (rolls) ----------------------------------------------------------------------


def _roll(x: Any, shift: int, axis: int) -> Any:
    side = shape_of(x)[axis]
    shift = shift % side if side else 0
    if shift == 0:
        return x
    prefix = (slice(None),) * axis
    return concatenate(
        [
            getitem(x, prefix + (slice(side - shift, None),)),
            getitem(x, prefix + (slice(0, side - shift),)),
        ],
        axis=axis,
    )


def _shift(x: Any, axes: Any, inverse: bool) -> Any:
    ndim = ndim_of(x)
    if axes is None:
        axes = tuple(range(ndim))
    elif isinstance(axes, (int, np.integer)):
        axes = (axes,)
    for axis in axes:
        axis = int(axis) % ndim
        side = shape_of(x)[axis]
        x = _roll(x, -(side // 2) if inverse else side // 2, axis)
    return x


@export(np.fft.fftshift, registered=False)
def fftshift(x: Any, axes: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.fftshift` (a roll; the derivative rolls back).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda x: anp.fft.fftshift(x)[0])(np.arange(4.0))
    array([0., 0., 1., 0.])
    """
    if type(x) is not Tracer:
        return np.fft.fftshift(x, axes)
    return _shift(x, axes, inverse=False)


@export(np.fft.ifftshift, registered=False)
def ifftshift(x: Any, axes: Any = None) -> Any:
    """Differentiable :func:`numpy.fft.ifftshift`, the inverse roll of ``fftshift``."""
    if type(x) is not Tracer:
        return np.fft.ifftshift(x, axes)
    return _shift(x, axes, inverse=True)


__all__ = [
    "fft",
    "fft2",
    "fftfreq",
    "fftn",
    "fftshift",
    "hfft",
    "ifft",
    "ifft2",
    "ifftn",
    "ifftshift",
    "ihfft",
    "irfft",
    "irfft2",
    "irfftn",
    "rfft",
    "rfft2",
    "rfftfreq",
    "rfftn",
]
