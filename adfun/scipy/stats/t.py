"""Differentiable :data:`scipy.stats.t`: Student's t distribution.

Every function takes SciPy's arguments ``(x, df, loc=0, scale=1)`` and differentiates in
all of them, ``df`` included: the distribution functions through the derivative of
:func:`adfun.scipy.special.stdtr` in ``df``, which has no closed form and is computed
from the incomplete beta function's derivative in its shape (about ``1e-13`` relative
accuracy, to second order).  ``df <= 0`` or ``scale <= 0`` gives NaN, as in SciPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats

import adfun.numpy as anp
from adfun._engine.trace import any_traced
from adfun.scipy.special import gammaln, log1p, stdtr
from adfun.scipy.stats._common import guarded, positive

_HALF_LOG_PI = float(0.5 * np.log(np.pi))


def _standard(fun: Any, x: Any, df: Any, loc: Any, scale: Any) -> Any:
    """``fun(z, df, scale)`` with ``z = (x - loc) / scale``; NaN for invalid parameters."""
    return guarded(
        lambda x, df, scale: fun((x - loc) / scale, df, scale),
        (x, df, scale),
        (None, 1.0, 1.0),
        positive(df, scale),
    )


def _logpdf(z: Any, df: Any, scale: Any) -> Any:
    half = 0.5 * (df + 1.0)
    return (
        gammaln(half)
        - gammaln(0.5 * df)
        - 0.5 * anp.log(df)
        - _HALF_LOG_PI
        - anp.log(scale)
        - half * log1p(z * z / df)
    )


def logpdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.t.logpdf``.

    ``gammaln((df+1)/2) - gammaln(df/2) - log(df pi)/2 - log(scale)
    - (df+1)/2 log1p(z**2 / df)`` with ``z = (x - loc) / scale``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import t
    >>> float(ad.grad(t.logpdf)(1.0, 3.0))  # -(df + 1) z / (df + z**2)
    -1.0
    """
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.t.logpdf(x, df, loc, scale)
    return _standard(_logpdf, x, df, loc, scale)


def pdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.t.pdf`` (``exp(logpdf)``)."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.t.pdf(x, df, loc, scale)
    return anp.exp(logpdf(x, df, loc, scale))


def cdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.t.cdf``: ``stdtr(df, (x - loc) / scale)``.

    Examples
    --------
    >>> import adfun as ad
    >>> from adfun.scipy.stats import t
    >>> round(float(ad.grad(t.cdf, 1)(-1.0, 3.0)), 8)  # the lower tail thins as df grows
    -0.01111046
    """
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.t.cdf(x, df, loc, scale)
    return _standard(lambda z, df, scale: stdtr(df, z), x, df, loc, scale)


def logcdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.t.logcdf``: ``log(stdtr(df, z))``."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.t.logcdf(x, df, loc, scale)
    return _standard(lambda z, df, scale: anp.log(stdtr(df, z)), x, df, loc, scale)


def sf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.t.sf``: ``stdtr(df, -z)`` (the distribution is
    symmetric)."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.t.sf(x, df, loc, scale)
    return _standard(lambda z, df, scale: stdtr(df, -z), x, df, loc, scale)


def logsf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.t.logsf``: ``log(stdtr(df, -z))``."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.t.logsf(x, df, loc, scale)
    return _standard(lambda z, df, scale: anp.log(stdtr(df, -z)), x, df, loc, scale)


__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]
