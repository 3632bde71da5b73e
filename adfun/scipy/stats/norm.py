"""Differentiable :data:`scipy.stats.norm`: the normal distribution.

Every function takes ``(x, loc=0, scale=1)`` and differentiates in all three.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats

from adfun._engine.trace import any_traced
from adfun.numpy._elementwise import exp, log
from adfun.scipy.special import log_ndtr, ndtr, ndtri

_LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))


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
    z = (x - loc) / scale
    return -0.5 * z * z - log(scale) - _LOG_SQRT_2PI


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.pdf`` (``exp(logpdf)``)."""
    if not any_traced((x, loc, scale)):
        return scipy.stats.norm.pdf(x, loc, scale)
    return exp(logpdf(x, loc, scale))


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
    return ndtr((x - loc) / scale)


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.logcdf`` (``log_ndtr``, stable in the tails)."""
    if not any_traced((x, loc, scale)):
        return scipy.stats.norm.logcdf(x, loc, scale)
    return log_ndtr((x - loc) / scale)


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.sf`` (``1 - cdf``, computed as ``ndtr(-z)``)."""
    if not any_traced((x, loc, scale)):
        return scipy.stats.norm.sf(x, loc, scale)
    return ndtr((loc - x) / scale)


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.logsf`` (``log_ndtr(-z)``)."""
    if not any_traced((x, loc, scale)):
        return scipy.stats.norm.logsf(x, loc, scale)
    return log_ndtr((loc - x) / scale)


def ppf(q: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.norm.ppf``, the quantile function ``loc + scale ndtri(q)``."""
    if not any_traced((q, loc, scale)):
        return scipy.stats.norm.ppf(q, loc, scale)
    return loc + scale * ndtri(q)


__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]
