"""Differentiable :data:`scipy.stats.gamma`: the gamma distribution.

Every function takes SciPy's arguments ``(x, a, loc=0, scale=1)`` and differentiates in
all of them.  The distribution functions differentiate in the shape ``a`` through the
derivative of :func:`adfun.scipy.special.gammainc` in ``a`` (no closed form; computed from
its series and continued fraction, about ``1e-13`` relative accuracy, to second order).
As in SciPy, ``x`` below ``loc`` lies outside the support (density 0, distribution
function 0) and ``a <= 0`` or ``scale <= 0`` gives NaN.
"""

from __future__ import annotations

from typing import Any

import scipy.stats

import adfun.numpy as anp
from adfun._engine.trace import any_traced
from adfun.scipy.special import gammainc, gammaincc, gammaln, xlogy
from adfun.scipy.stats._common import INF, continuous, positive, standardize


def _method(formula: Any, x: Any, a: Any, loc: Any, scale: Any, kind: str) -> Any:
    z, scale, ok = standardize(x, loc, scale)
    valid = anp.logical_and(ok, positive(a))
    if kind == "density":  # support [0, inf)
        inside, outside = anp.greater_equal(z, 0.0), -INF
    else:  # distribution functions: constant at and below 0
        inside = anp.greater(z, 0.0)
        outside = {"cdf": 0.0, "logcdf": -INF, "sf": 1.0, "logsf": 0.0}[kind]
    return continuous(lambda z, a, s: formula(z, a, s), z, (a, scale), valid, inside, outside, 1.0)


def logpdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.gamma.logpdf``:
    ``(a - 1) log z - z - gammaln(a) - log(scale)`` with ``z = (x - loc) / scale``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import gamma
    >>> float(ad.grad(gamma.logpdf)(2.0, 3.0))  # (a - 1) / x - 1
    0.0
    """
    if not any_traced((x, a, loc, scale)):
        return scipy.stats.gamma.logpdf(x, a, loc, scale)
    return _method(
        lambda z, a, s: xlogy(a - 1.0, z) - z - gammaln(a) - anp.log(s), x, a, loc, scale, "density"
    )


def pdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.gamma.pdf`` (``exp(logpdf)``)."""
    if not any_traced((x, a, loc, scale)):
        return scipy.stats.gamma.pdf(x, a, loc, scale)
    return anp.exp(logpdf(x, a, loc, scale))


def cdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.gamma.cdf``: ``gammainc(a, z)``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import gamma
    >>> round(float(ad.grad(gamma.cdf, 1)(2.0, 3.0)), 8)  # d/da: no closed form
    -0.23184867
    """
    if not any_traced((x, a, loc, scale)):
        return scipy.stats.gamma.cdf(x, a, loc, scale)
    return _method(lambda z, a, s: gammainc(a, z), x, a, loc, scale, "cdf")


def logcdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.gamma.logcdf``: ``log(gammainc(a, z))``."""
    if not any_traced((x, a, loc, scale)):
        return scipy.stats.gamma.logcdf(x, a, loc, scale)
    return _method(lambda z, a, s: anp.log(gammainc(a, z)), x, a, loc, scale, "logcdf")


def sf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.gamma.sf``: ``gammaincc(a, z)``."""
    if not any_traced((x, a, loc, scale)):
        return scipy.stats.gamma.sf(x, a, loc, scale)
    return _method(lambda z, a, s: gammaincc(a, z), x, a, loc, scale, "sf")


def logsf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.gamma.logsf``: ``log(gammaincc(a, z))``."""
    if not any_traced((x, a, loc, scale)):
        return scipy.stats.gamma.logsf(x, a, loc, scale)
    return _method(lambda z, a, s: anp.log(gammaincc(a, z)), x, a, loc, scale, "logsf")


__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]
