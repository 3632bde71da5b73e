"""Differentiable :data:`scipy.stats.chi2`: the chi-squared distribution.

Every function takes SciPy's arguments ``(x, df, loc=0, scale=1)`` and differentiates in
all of them, the degrees of freedom ``df`` included (they need not be integers).  The
chi-squared distribution with ``df`` degrees of freedom is the gamma distribution with
shape ``df / 2`` and scale ``2``: these functions are :mod:`adfun.scipy.stats.gamma`'s,
so the distribution functions differentiate in ``df`` through the derivative of
:func:`adfun.scipy.special.gammainc` in its shape (no closed form; about ``1e-13``
relative accuracy, to second order).  ``x`` below ``loc`` lies outside the support;
``df <= 0`` or ``scale <= 0`` gives NaN, as in SciPy.
"""

from __future__ import annotations

from typing import Any

import scipy.stats

from adfun._engine.trace import any_traced
from adfun.scipy.stats import gamma


def logpdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.chi2.logpdf``:
    ``(df/2 - 1) log z - z/2 - gammaln(df/2) - (df/2) log 2 - log(scale)``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import chi2
    >>> float(ad.grad(chi2.logpdf)(2.0, 6.0))  # (df/2 - 1) / x - 1/2
    0.5
    """
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.chi2.logpdf(x, df, loc, scale)
    return gamma.logpdf(x, 0.5 * df, loc, 2.0 * scale)


def pdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.chi2.pdf`` (``exp(logpdf)``)."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.chi2.pdf(x, df, loc, scale)
    return gamma.pdf(x, 0.5 * df, loc, 2.0 * scale)


def cdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.chi2.cdf``: ``gammainc(df/2, z/2)``."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.chi2.cdf(x, df, loc, scale)
    return gamma.cdf(x, 0.5 * df, loc, 2.0 * scale)


def logcdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.chi2.logcdf``: ``log(gammainc(df/2, z/2))``."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.chi2.logcdf(x, df, loc, scale)
    return gamma.logcdf(x, 0.5 * df, loc, 2.0 * scale)


def sf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.chi2.sf``: ``gammaincc(df/2, z/2)``."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.chi2.sf(x, df, loc, scale)
    return gamma.sf(x, 0.5 * df, loc, 2.0 * scale)


def logsf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.chi2.logsf``: ``log(gammaincc(df/2, z/2))``."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.chi2.logsf(x, df, loc, scale)
    return gamma.logsf(x, 0.5 * df, loc, 2.0 * scale)


__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]
