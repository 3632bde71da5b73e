"""Differentiable :data:`scipy.stats.multivariate_normal` (``logpdf`` and ``pdf``).

Both differentiate in ``x``, ``mean`` and ``cov`` through a Cholesky factorization
(``cov`` must be symmetric positive definite; ``allow_singular=True`` is not supported
on traced values).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats

from adfun._engine.trace import any_traced
from adfun.numpy._axes import ndim_of, shape_of
from adfun.numpy._elementwise import exp, log
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._shape import expand_dims, reshape, squeeze
from adfun.numpy.linalg import cholesky, diagonal, solve

_LOG_2PI = float(np.log(2.0 * np.pi))


def logpdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """Differentiable ``scipy.stats.multivariate_normal.logpdf``.

    ``x`` has shape ``(..., k)`` (the last axis is the dimension; a 1-D ``x`` with
    ``k > 1`` is one point), ``mean`` shape ``(k,)``, ``cov`` shape ``(k, k)`` or a
    scalar (``cov * I``).  The result has shape ``x.shape[:-1]``, squeezed like SciPy's.

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.stats import multivariate_normal
    >>> ad.grad(multivariate_normal.logpdf)(np.array([1.0, 2.0]), np.zeros(2), np.eye(2))
    array([-1., -2.])
    """
    mean_value = 0.0 if mean is None else mean
    if not any_traced((x, mean, cov)):
        return scipy.stats.multivariate_normal.logpdf(x, mean, cov, allow_singular=allow_singular)
    if allow_singular:
        raise NotImplementedError(
            "adfun.scipy.stats.multivariate_normal.logpdf: allow_singular=True is not "
            "supported on traced values; pass a positive definite cov"
        )
    k = (
        shape_of(mean_value)[-1]
        if ndim_of(mean_value)
        else (shape_of(cov)[-1] if ndim_of(cov) == 2 else shape_of(x)[-1] if ndim_of(x) else 1)
    )
    if ndim_of(cov) < 2:
        cov = cov * np.eye(k)
    if ndim_of(x) == 0 or (ndim_of(x) == 1 and k == 1):
        x = expand_dims(x, -1)  # scalar points of a 1-D distribution
    centered = x - mean_value
    factor = cholesky(cov)
    half_logdet = _sum(log(diagonal(factor)))
    whitened = solve(factor, reshape(centered, (-1, k)).T)  # (k, points)
    mahalanobis = _sum(whitened * whitened, axis=0)
    values = -0.5 * (k * _LOG_2PI + mahalanobis) - half_logdet
    values = reshape(values, shape_of(centered)[:-1])
    return squeeze(values) if ndim_of(values) else values


def pdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """Differentiable ``scipy.stats.multivariate_normal.pdf`` (``exp(logpdf)``)."""
    if not any_traced((x, mean, cov)):
        return scipy.stats.multivariate_normal.pdf(x, mean, cov, allow_singular=allow_singular)
    return exp(logpdf(x, mean, cov, allow_singular))


__all__ = ["logpdf", "pdf"]
