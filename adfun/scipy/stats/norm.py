"""Differentiable :data:`scipy.stats.norm`: the normal distribution.

Every function takes SciPy's arguments (``x`` or ``q``, then ``loc=0, scale=1``) and
differentiates in all of them; plain (untraced) arguments go straight to SciPy.  A
``scale <= 0`` gives NaN, as in SciPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats

import adfun.numpy as anp
from adfun._engine.trace import any_traced
from adfun.scipy.special import log_ndtr, ndtr, ndtri
from adfun.scipy.stats._common import guarded, positive

_LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))
_HALF_LOG_2PI_E = float(0.5 * np.log(2.0 * np.pi * np.e))


def _standard(fun: Any, x: Any, loc: Any, scale: Any) -> Any:
    """``fun(z, scale)`` with ``z = (x - loc) / scale``, NaN where ``scale <= 0``."""
    return guarded(
        lambda x, scale: fun((x - loc) / scale, scale),
        (x, scale),
        (None, 1.0),
        positive(scale),
    )


def logpdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.logpdf``: ``-z**2/2 - log(scale) - log(2 pi)/2``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import norm
    >>> float(ad.grad(norm.logpdf)(1.5))
    -1.5
    """
    if not any_traced((x, loc, scale)):
        return scipy.stats.norm.logpdf(x, loc, scale)
    return _standard(lambda z, s: -0.5 * z * z - anp.log(s) - _LOG_SQRT_2PI, x, loc, scale)


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.pdf`` (``exp(logpdf)``)."""
    if not any_traced((x, loc, scale)):
        return scipy.stats.norm.pdf(x, loc, scale)
    return anp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.cdf`` (``ndtr((x - loc) / scale)``).

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import norm
    >>> round(float(ad.grad(norm.cdf)(0.0)), 6)  # the density at 0
    0.398942
    """
    if not any_traced((x, loc, scale)):
        return scipy.stats.norm.cdf(x, loc, scale)
    return _standard(lambda z, s: ndtr(z), x, loc, scale)


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.logcdf`` (``log_ndtr``, stable in the tails)."""
    if not any_traced((x, loc, scale)):
        return scipy.stats.norm.logcdf(x, loc, scale)
    return _standard(lambda z, s: log_ndtr(z), x, loc, scale)


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.sf`` (``1 - cdf``, computed as ``ndtr(-z)``)."""
    if not any_traced((x, loc, scale)):
        return scipy.stats.norm.sf(x, loc, scale)
    return _standard(lambda z, s: ndtr(-z), x, loc, scale)


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.logsf`` (``log_ndtr(-z)``)."""
    if not any_traced((x, loc, scale)):
        return scipy.stats.norm.logsf(x, loc, scale)
    return _standard(lambda z, s: log_ndtr(-z), x, loc, scale)


def ppf(q: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.ppf``, the quantile function ``loc + scale ndtri(q)``.

    ``q`` outside ``[0, 1]`` gives NaN; ``q = 0`` and ``q = 1`` give ``-inf`` and ``inf``.
    """
    if not any_traced((q, loc, scale)):
        return scipy.stats.norm.ppf(q, loc, scale)
    return guarded(lambda scale: loc + scale * ndtri(q), (scale,), (1.0,), positive(scale))


def isf(q: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.isf``, the inverse survival function
    ``loc - scale ndtri(q)`` (``ppf(1 - q)`` without the rounding of ``1 - q``).

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import norm
    >>> round(float(norm.isf(0.025)), 4), round(float(ad.grad(norm.isf)(0.5)), 4)
    (1.96, -2.5066)
    """
    if not any_traced((q, loc, scale)):
        return scipy.stats.norm.isf(q, loc, scale)
    return guarded(lambda scale: loc - scale * ndtri(q), (scale,), (1.0,), positive(scale))


def entropy(loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.entropy``: ``log(2 pi e)/2 + log(scale)``
    (in nats; it does not depend on ``loc``)."""
    if not any_traced((loc, scale)):
        return scipy.stats.norm.entropy(loc, scale)
    return guarded(
        lambda scale: _HALF_LOG_2PI_E + anp.log(scale) + 0.0 * loc,
        (scale,),
        (1.0,),
        positive(scale),
    )


def mean(loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.mean``: ``loc`` (NaN where ``scale <= 0``)."""
    if not any_traced((loc, scale)):
        return scipy.stats.norm.mean(loc, scale)
    return guarded(lambda scale: loc + 0.0 * scale, (scale,), (1.0,), positive(scale))


def median(loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.median``: ``loc`` (NaN where ``scale <= 0``)."""
    if not any_traced((loc, scale)):
        return scipy.stats.norm.median(loc, scale)
    return mean(loc, scale)


def var(loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.var``: ``scale**2``."""
    if not any_traced((loc, scale)):
        return scipy.stats.norm.var(loc, scale)
    return guarded(lambda scale: scale * scale + 0.0 * loc, (scale,), (1.0,), positive(scale))


def std(loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.std``: ``scale``."""
    if not any_traced((loc, scale)):
        return scipy.stats.norm.std(loc, scale)
    return guarded(lambda scale: scale + 0.0 * loc, (scale,), (1.0,), positive(scale))


__all__ = [
    "cdf",
    "entropy",
    "isf",
    "logcdf",
    "logpdf",
    "logsf",
    "mean",
    "median",
    "pdf",
    "ppf",
    "sf",
    "std",
    "var",
]
