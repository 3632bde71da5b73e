"""Differentiable :data:`scipy.stats.dirichlet`: the Dirichlet distribution.

``logpdf(x, alpha)`` and ``pdf(x, alpha)`` differentiate in the point ``x`` and the
concentrations ``alpha``; ``mean``, ``var`` and ``entropy`` in ``alpha``.  As in SciPy,
``alpha`` is one-dimensional with ``K`` entries and the *first* axis of ``x`` holds the
components: ``x`` has shape ``(K, ...)``, or ``(K - 1, ...)`` with the last component
``1 - sum(x, axis=0)`` implied (and differentiated through).

Arguments are checked as SciPy checks them (every ``alpha > 0``, ``x`` in the simplex...)
and errors raise ``ValueError``.  Under ``jit`` / ``trace``, where a graph is replayed on
values not seen while tracing, the value checks cannot raise: invalid entries give NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats

import adfun.numpy as anp
from adfun._engine.trace import any_traced, full_value, staging_trace_of
from adfun.numpy._axes import ndim_of, shape_of
from adfun.scipy.special import digamma, gammaln, xlogy

_NAME = "adfun.scipy.stats.dirichlet"


def _check_alpha(alpha: Any, function: str) -> bool:
    """Check ``alpha``; whether its values were read (``False`` under staging)."""
    if ndim_of(alpha) != 1:
        raise ValueError(
            f"{_NAME}.{function}: alpha must be one-dimensional (one concentration per "
            f"component), but alpha.shape = {shape_of(alpha)}"
        )
    if staging_trace_of(alpha) is not None:
        return False
    if np.min(full_value(alpha)) <= 0:
        raise ValueError(f"{_NAME}.{function}: every entry of alpha must be greater than 0")
    return True


def _components(x: Any, alpha: Any) -> Any:
    """``x`` with its implied last component appended, after SciPy's shape checks."""
    k = shape_of(alpha)[0]
    rows = shape_of(x)[0] if ndim_of(x) else None
    if rows not in (k, k - 1):
        raise ValueError(
            f"{_NAME}.logpdf: x must have K = {k} or K - 1 = {k - 1} entries along its "
            f"first axis (one per component of alpha), but x.shape = {shape_of(x)} and "
            f"alpha.shape = {shape_of(alpha)}"
        )
    if rows == k:
        return x
    if ndim_of(x) > 2:
        raise ValueError(
            f"{_NAME}.logpdf: with K - 1 components given, x must be one- or "
            f"two-dimensional, but x.shape = {shape_of(x)}; pass all K components"
        )
    last = 1.0 - anp.sum(x, axis=0)
    return anp.concatenate([x, anp.expand_dims(last, 0)], axis=0)


def _check_x(x: Any, alpha: Any) -> None:
    x, alpha = np.asarray(full_value(x)), np.asarray(full_value(alpha))
    if np.min(x) < 0 or np.max(x) > 1:
        raise ValueError(f"{_NAME}.logpdf: every entry of x must lie in [0, 1]")
    column = alpha.reshape((-1,) + (1,) * (x.ndim - 1))
    if np.any((x == 0) & (column < 1)):
        raise ValueError(
            f"{_NAME}.logpdf: an entry of x is 0 where its alpha is below 1 (the density "
            f"is infinite there); move x inside the simplex"
        )
    if np.any(np.abs(np.sum(x, 0) - 1.0) > 1e-9):
        raise ValueError(
            f"{_NAME}.logpdf: x must lie in the simplex (its components sum to 1 along "
            f"the first axis), but they sum to {np.sum(x, 0)}"
        )


def _log_beta(alpha: Any) -> Any:
    return anp.sum(gammaln(alpha)) - gammaln(anp.sum(alpha))


def logpdf(x: Any, alpha: Any) -> Any:
    """Differentiable ``scipy.stats.dirichlet.logpdf``:
    ``sum_i (alpha_i - 1) log x_i - log B(alpha)`` over the first axis of ``x``.

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.stats import dirichlet
    >>> ad.grad(dirichlet.logpdf, 1)(np.array([0.2, 0.3, 0.5]), np.ones(3)).round(6)
    array([-0.109438,  0.296027,  0.806853])
    """
    if not any_traced((x, alpha)):
        return scipy.stats.dirichlet.logpdf(x, alpha)
    read = _check_alpha(alpha, "logpdf")
    x = _components(x, alpha)
    column = anp.reshape(alpha, (-1,) + (1,) * (ndim_of(x) - 1))
    value = anp.sum(xlogy(column - 1.0, x), axis=0) - _log_beta(alpha)
    if read and staging_trace_of(x) is None:
        _check_x(x, alpha)
    else:  # staged: the checks become NaN entries
        inside = anp.logical_and(
            anp.all(anp.greater_equal(x, 0.0), axis=0), anp.all(anp.less_equal(x, 1.0), axis=0)
        )
        simplex = anp.less_equal(anp.absolute(anp.sum(x, axis=0) - 1.0), 1e-9)
        valid = anp.logical_and(anp.logical_and(inside, simplex), anp.all(anp.greater(alpha, 0.0)))
        value = anp.where(valid, value, np.nan)
    return anp.squeeze(value)


def pdf(x: Any, alpha: Any) -> Any:
    """Differentiable ``scipy.stats.dirichlet.pdf`` (``exp(logpdf)``)."""
    if not any_traced((x, alpha)):
        return scipy.stats.dirichlet.pdf(x, alpha)
    return anp.exp(logpdf(x, alpha))


def _parameters_only(alpha: Any, function: str) -> Any:
    """``alpha``, checked; NaN-filled where invalid under staging."""
    if not _check_alpha(alpha, function):
        alpha = anp.where(anp.all(anp.greater(alpha, 0.0)), alpha, np.nan)
    return alpha


def mean(alpha: Any) -> Any:
    """Differentiable ``scipy.stats.dirichlet.mean``: ``alpha / sum(alpha)``."""
    if not any_traced((alpha,)):
        return scipy.stats.dirichlet.mean(alpha)
    alpha = _parameters_only(alpha, "mean")
    return alpha / anp.sum(alpha)


def var(alpha: Any) -> Any:
    """Differentiable ``scipy.stats.dirichlet.var``:
    ``alpha (alpha0 - alpha) / (alpha0**2 (alpha0 + 1))`` with ``alpha0 = sum(alpha)``."""
    if not any_traced((alpha,)):
        return scipy.stats.dirichlet.var(alpha)
    alpha = _parameters_only(alpha, "var")
    total = anp.sum(alpha)
    return alpha * (total - alpha) / (total * total * (total + 1.0))


def entropy(alpha: Any) -> Any:
    """Differentiable ``scipy.stats.dirichlet.entropy``:
    ``log B(alpha) + (alpha0 - K) digamma(alpha0) - sum((alpha - 1) digamma(alpha))``."""
    if not any_traced((alpha,)):
        return scipy.stats.dirichlet.entropy(alpha)
    alpha = _parameters_only(alpha, "entropy")
    total = anp.sum(alpha)
    count = shape_of(alpha)[0]
    return (
        _log_beta(alpha)
        + (total - count) * digamma(total)
        - anp.sum((alpha - 1.0) * digamma(alpha))
    )


__all__ = ["entropy", "logpdf", "mean", "pdf", "var"]
