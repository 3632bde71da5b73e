"""Differentiable :data:`scipy.stats.t`: Student's t distribution.

``logpdf`` and ``pdf`` differentiate in ``x``, ``df``, ``loc`` and ``scale``; ``cdf`` in
``x``, ``loc`` and ``scale`` (not in ``df``: raises ``NotImplementedError``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats

from adfun._engine.trace import any_traced
from adfun.numpy._elementwise import exp, log
from adfun.scipy.special import gammaln, log1p, stdtr

_HALF_LOG_PI = float(0.5 * np.log(np.pi))


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
    z = (x - loc) / scale
    half = 0.5 * (df + 1.0)
    return (
        gammaln(half)
        - gammaln(0.5 * df)
        - 0.5 * log(df)
        - _HALF_LOG_PI
        - log(scale)
        - half * log1p(z * z / df)
    )


def pdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.t.pdf`` (``exp(logpdf)``)."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.t.pdf(x, df, loc, scale)
    return exp(logpdf(x, df, loc, scale))


def cdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """Differentiable ``scipy.stats.t.cdf`` in ``x``, ``loc`` and ``scale``
    (``stdtr(df, z)``, whose derivative in ``z`` is the density)."""
    if not any_traced((x, df, loc, scale)):
        return scipy.stats.t.cdf(x, df, loc, scale)
    return stdtr(df, (x - loc) / scale)


__all__ = ["cdf", "logpdf", "pdf"]
