"""Differentiable :data:`scipy.stats.beta`: the beta distribution.

Every function takes SciPy's arguments ``(x, a, b, loc=0, scale=1)`` and differentiates
in all of them.  The distribution functions differentiate in the shapes ``a`` and ``b``
through the derivatives of :func:`adfun.scipy.special.betainc` in its shapes (no closed
form; computed from its continued fraction, about ``1e-13`` relative accuracy, to second
order).  As in SciPy, ``x`` outside ``[loc, loc + scale]`` lies outside the support and
``a <= 0``, ``b <= 0`` or ``scale <= 0`` gives NaN.
"""

from __future__ import annotations

from typing import Any

import scipy.stats

import adfun.numpy as anp
from adfun._engine.trace import any_traced
from adfun.scipy.special import betainc, betaincc, betaln, xlog1py, xlogy
from adfun.scipy.stats._common import INF, continuous, positive, standardize


def _method(formula: Any, x: Any, a: Any, b: Any, loc: Any, scale: Any, kind: str) -> Any:
    z, scale, ok = standardize(x, loc, scale)
    valid = anp.logical_and(ok, positive(a, b))
    if kind == "density":  # support [0, 1]
        inside = anp.logical_and(anp.greater_equal(z, 0.0), anp.less_equal(z, 1.0))
        outside: Any = -INF
    else:  # distribution functions: constant outside (0, 1)
        inside = anp.logical_and(anp.greater(z, 0.0), anp.less(z, 1.0))
        above = anp.greater_equal(z, 1.0)
        low, high = {"cdf": (0.0, 1.0), "logcdf": (-INF, 0.0), "sf": (1.0, 0.0)}.get(
            kind, (0.0, -INF)
        )
        outside = anp.where(above, high, low)
    return continuous(formula, z, (a, b, scale), valid, inside, outside, 0.5)


def logpdf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.beta.logpdf``:
    ``(a - 1) log z + (b - 1) log(1 - z) - betaln(a, b) - log(scale)``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import beta
    >>> float(ad.grad(beta.logpdf)(0.5, 3.0, 3.0))  # the mode of a symmetric beta
    0.0
    """
    if not any_traced((x, a, b, loc, scale)):
        return scipy.stats.beta.logpdf(x, a, b, loc, scale)
    return _method(
        lambda z, a, b, s: xlogy(a - 1.0, z) + xlog1py(b - 1.0, -z) - betaln(a, b) - anp.log(s),
        x,
        a,
        b,
        loc,
        scale,
        "density",
    )


def pdf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.beta.pdf`` (``exp(logpdf)``)."""
    if not any_traced((x, a, b, loc, scale)):
        return scipy.stats.beta.pdf(x, a, b, loc, scale)
    return anp.exp(logpdf(x, a, b, loc, scale))


def cdf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.beta.cdf``: ``betainc(a, b, z)``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import beta
    >>> round(float(ad.grad(beta.cdf, 1)(0.4, 2.0, 3.0)), 8)  # d/da: no closed form
    -0.24086938
    """
    if not any_traced((x, a, b, loc, scale)):
        return scipy.stats.beta.cdf(x, a, b, loc, scale)
    return _method(lambda z, a, b, s: betainc(a, b, z), x, a, b, loc, scale, "cdf")


def logcdf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.beta.logcdf``: ``log(betainc(a, b, z))``."""
    if not any_traced((x, a, b, loc, scale)):
        return scipy.stats.beta.logcdf(x, a, b, loc, scale)
    return _method(lambda z, a, b, s: anp.log(betainc(a, b, z)), x, a, b, loc, scale, "logcdf")


def sf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.beta.sf``: ``betaincc(a, b, z)``."""
    if not any_traced((x, a, b, loc, scale)):
        return scipy.stats.beta.sf(x, a, b, loc, scale)
    return _method(lambda z, a, b, s: betaincc(a, b, z), x, a, b, loc, scale, "sf")


def logsf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.beta.logsf``: ``log(betaincc(a, b, z))``."""
    if not any_traced((x, a, b, loc, scale)):
        return scipy.stats.beta.logsf(x, a, b, loc, scale)
    return _method(lambda z, a, b, s: anp.log(betaincc(a, b, z)), x, a, b, loc, scale, "logsf")


__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]
