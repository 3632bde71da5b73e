"""Differentiable :data:`scipy.stats.poisson`: the Poisson distribution.

Every function takes SciPy's arguments ``(k, mu, loc=0)`` and differentiates in the mean
``mu``.  ``k`` and ``loc`` are counts: SciPy's functions are piecewise constant in them,
so their derivatives are zero (the functions stop the gradient there).  As in SciPy,
``k - loc`` that is negative or not an integer has probability 0 (``logpmf`` ``-inf``),
and ``mu < 0`` gives NaN.
"""

from __future__ import annotations

from typing import Any

import scipy.stats

import adfun.numpy as anp
from adfun._engine.trace import any_traced
from adfun.scipy.special import gammainc, gammaincc, gammaln, xlogy
from adfun.scipy.stats._common import INF, guarded


def _counts(k: Any, mu: Any, loc: Any) -> tuple[Any, Any]:
    """``(k - loc, mu >= 0)``, the count a constant for differentiation."""
    return anp.stop_gradient(k - loc), anp.greater_equal(mu, 0.0)


def logpmf(k: Any, mu: Any, loc: Any = 0) -> Any:
    """Differentiable ``scipy.stats.poisson.logpmf``: ``k log(mu) - gammaln(k + 1) - mu``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import poisson
    >>> float(ad.grad(poisson.logpmf, 1)(3, 2.0))  # k / mu - 1
    0.5
    """
    if not any_traced((k, mu, loc)):
        return scipy.stats.poisson.logpmf(k, mu, loc)
    count, valid = _counts(k, mu, loc)
    inside = anp.logical_and(anp.greater_equal(count, 0.0), anp.equal(anp.floor(count), count))
    return guarded(
        lambda count, mu: xlogy(count, mu) - gammaln(count + 1.0) - mu,
        (count, mu),
        (0.0, 1.0),
        valid,
        inside,
        -INF,
    )


def pmf(k: Any, mu: Any, loc: Any = 0) -> Any:
    """Differentiable ``scipy.stats.poisson.pmf`` (``exp(logpmf)``)."""
    if not any_traced((k, mu, loc)):
        return scipy.stats.poisson.pmf(k, mu, loc)
    return anp.exp(logpmf(k, mu, loc))


def _tail(k: Any, mu: Any, loc: Any, upper: bool, logarithm: bool) -> Any:
    """``cdf`` (``upper=False``) or ``sf``: ``gammaincc`` / ``gammainc`` of
    ``(floor(k) + 1, mu)``, whose derivative in ``mu`` is ``-pmf`` / ``pmf``."""
    count, valid = _counts(k, mu, loc)
    count = anp.floor(count)
    inside = anp.greater_equal(count, 0.0)
    below = 1.0 if upper else 0.0  # the value for k < 0

    def formula(count: Any, mu: Any) -> Any:
        value = gammainc(count + 1.0, mu) if upper else gammaincc(count + 1.0, mu)
        return anp.log(value) if logarithm else value

    outside = (0.0 if upper else -INF) if logarithm else below
    return guarded(formula, (count, mu), (0.0, 1.0), valid, inside, outside)


def cdf(k: Any, mu: Any, loc: Any = 0) -> Any:
    """Differentiable ``scipy.stats.poisson.cdf``: ``gammaincc(floor(k) + 1, mu)``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import poisson
    >>> round(float(ad.grad(poisson.cdf, 1)(2, 1.5)), 8)  # -pmf(2, mu)
    -0.25102143
    """
    if not any_traced((k, mu, loc)):
        return scipy.stats.poisson.cdf(k, mu, loc)
    return _tail(k, mu, loc, upper=False, logarithm=False)


def logcdf(k: Any, mu: Any, loc: Any = 0) -> Any:
    """Differentiable ``scipy.stats.poisson.logcdf`` (``log(cdf)``)."""
    if not any_traced((k, mu, loc)):
        return scipy.stats.poisson.logcdf(k, mu, loc)
    return _tail(k, mu, loc, upper=False, logarithm=True)


def sf(k: Any, mu: Any, loc: Any = 0) -> Any:
    """Differentiable ``scipy.stats.poisson.sf``: ``gammainc(floor(k) + 1, mu)``."""
    if not any_traced((k, mu, loc)):
        return scipy.stats.poisson.sf(k, mu, loc)
    return _tail(k, mu, loc, upper=True, logarithm=False)


def logsf(k: Any, mu: Any, loc: Any = 0) -> Any:
    """Differentiable ``scipy.stats.poisson.logsf`` (``log(sf)``)."""
    if not any_traced((k, mu, loc)):
        return scipy.stats.poisson.logsf(k, mu, loc)
    return _tail(k, mu, loc, upper=True, logarithm=True)


__all__ = ["cdf", "logcdf", "logpmf", "logsf", "pmf", "sf"]
