"""Differentiable :data:`scipy.stats.multivariate_normal`: ``logpdf``, ``pdf``, ``entropy``.

All three differentiate in ``x``, ``mean`` and ``cov``.  A positive definite ``cov`` goes
through a Cholesky factorization (derivatives of every order), which reads its lower
triangle only (as SciPy's ``eigh`` does): the gradient in ``cov`` is then lower
triangular, and equals the symmetric gradient along every symmetric direction.

``allow_singular=True`` (and ``entropy``, which SciPy always computes with a possibly
singular ``cov``) follows SciPy: eigenvalues below ``1e6 * eps * max|eigenvalue|`` count
as zero, the density lives on the range of ``cov`` with the pseudo-determinant, and points
off that range have ``logpdf = -inf``.  A singular ``cov`` is differentiated along its
range, with the eigenvectors held fixed: derivatives in ``x`` and ``mean`` are exact to
every order, derivatives in ``cov`` exact at first order (the rotation of the eigenvectors
only enters at second order), so a second derivative with respect to a singular ``cov``
raises ``NotImplementedError``.  (Under ``jit`` / ``trace`` the rank cannot be read, and
every ``cov`` with ``allow_singular=True`` is treated this way.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats

import adfun.numpy as anp
from adfun._engine.trace import Tracer, any_traced, full_value, staging_trace_of
from adfun.numpy._axes import ndim_of, shape_of
from adfun.numpy.linalg import cholesky, diagonal, eigh, solve

_LOG_2PI = float(np.log(2.0 * np.pi))
_NAME = "adfun.scipy.stats.multivariate_normal"


def _dimension(mean: Any, cov: Any, x: Any = None) -> int:
    if mean is not None and ndim_of(mean):
        return shape_of(mean)[-1]
    if ndim_of(cov) >= 1:
        return shape_of(cov)[-1]
    if x is not None and ndim_of(x):
        return shape_of(x)[-1]
    return 1


def _matrix(cov: Any, k: int) -> Any:
    """``cov`` as a ``(k, k)`` matrix: a scalar means ``cov * I``, a vector the diagonal."""
    return cov * np.eye(k) if ndim_of(cov) < 2 else cov


def _differentiation_levels(cov: Any) -> int:
    """How many (non-staging) differentiation traces ``cov`` is traced by."""
    levels = 0
    while type(cov) is Tracer:
        levels += not cov.trace.staging
        cov = cov.value
    return levels


def _singular(cov: Any, function: str) -> bool:
    """Whether ``cov`` must go through the eigendecomposition (rank-deficient, or staged).

    Raises ``ValueError`` for a matrix with a clearly negative eigenvalue (as SciPy does),
    ``NotImplementedError`` for a second derivative with respect to a singular ``cov``.
    """
    staged = staging_trace_of(cov) is not None
    if not staged:
        values = np.linalg.eigvalsh(np.asarray(full_value(cov), dtype=float))
        cutoff = _cutoff(np.max(np.abs(values)))
        if np.min(values) < -cutoff:
            raise ValueError(
                f"{_NAME}.{function}: cov must be symmetric positive semidefinite, but "
                f"it has the eigenvalue {np.min(values):.3g}"
            )
        if np.all(values > cutoff):
            return False
    if _differentiation_levels(cov) >= 2:
        raise NotImplementedError(
            f"{_NAME}.{function}: second derivatives with respect to a singular cov (or "
            f"any cov under jit/trace with allow_singular=True) are not implemented; "
            f"first derivatives are, and derivatives of every order in x and mean"
        )
    return True


def _cutoff(largest: Any) -> Any:
    return 1e6 * np.finfo(float).eps * largest


def _cholesky_parts(cov: Any, k: int) -> tuple:
    """``(rank, log pseudo-determinant, whiten, support)`` of a positive definite ``cov``."""
    factor = cholesky(cov)
    log_det = 2.0 * anp.sum(anp.log(diagonal(factor)))

    def whiten(centered: Any) -> Any:  # (points, k) -> (k, points)
        return solve(factor, centered.T)

    return float(k), log_det, whiten, None


def _eigen_parts(cov: Any, k: int) -> tuple:
    """The same for a positive semidefinite ``cov``, along its range (eigenvectors fixed)."""
    values, vectors = eigh(anp.stop_gradient(cov))
    keep = anp.greater(values, _cutoff(anp.max(anp.absolute(values))))
    # cov in its (fixed) eigenbasis; the null block is replaced by the identity, so that
    # its Cholesky factor carries the pseudo-determinant and the pseudo-inverse.
    projected = anp.matmul(anp.matmul(vectors.T, cov), vectors)
    block = anp.logical_and(anp.expand_dims(keep, 1), anp.expand_dims(keep, 0))
    inner = anp.where(block, projected, np.eye(k))
    factor = cholesky(inner)
    log_det = 2.0 * anp.sum(anp.log(diagonal(factor)))
    rank = anp.sum(anp.where(keep, 1.0, 0.0))
    tolerance = 1e3 * _cutoff(anp.max(anp.absolute(values)))

    def whiten(centered: Any) -> Any:
        coordinates = anp.matmul(centered, vectors)
        return solve(factor, anp.where(keep, coordinates, 0.0).T)

    def support(centered: Any) -> Any:
        off = anp.where(keep, 0.0, anp.matmul(centered, vectors))
        return anp.less(anp.sqrt(anp.sum(off * off, axis=-1)), tolerance)

    return rank, log_det, whiten, support


def logpdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """Differentiable ``scipy.stats.multivariate_normal.logpdf``.

    ``x`` has shape ``(..., k)`` (the last axis is the dimension; a 1-D ``x`` with
    ``k > 1`` is one point), ``mean`` shape ``(k,)``, ``cov`` shape ``(k, k)``, ``(k,)``
    (the diagonal) or a scalar (``cov * I``).  The result has shape ``x.shape[:-1]``,
    squeezed like SciPy's.  With ``allow_singular=True`` a singular ``cov`` is accepted
    (see the module's notes on its derivatives).

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.stats import multivariate_normal
    >>> ad.grad(multivariate_normal.logpdf)(np.array([1.0, 2.0]), np.zeros(2), np.eye(2))
    array([-1., -2.])
    """
    if not any_traced((x, mean, cov)):
        return scipy.stats.multivariate_normal.logpdf(x, mean, cov, allow_singular=allow_singular)
    mean_value = 0.0 if mean is None else mean
    k = _dimension(mean, cov, x)
    cov = _matrix(cov, k)
    if allow_singular and _singular(cov, "logpdf"):
        rank, log_det, whiten, support = _eigen_parts(cov, k)
    else:
        rank, log_det, whiten, support = _cholesky_parts(cov, k)
    if ndim_of(x) == 0 or (ndim_of(x) == 1 and k == 1):
        x = anp.expand_dims(x, -1)  # scalar points of a 1-D distribution
    centered = x - mean_value
    points = anp.reshape(centered, (-1, k))
    whitened = whiten(points)  # (k, points)
    mahalanobis = anp.sum(whitened * whitened, axis=0)
    values = -0.5 * (rank * _LOG_2PI + log_det + mahalanobis)
    if support is not None:
        values = anp.where(support(points), values, -np.inf)
    values = anp.reshape(values, shape_of(centered)[:-1])
    return anp.squeeze(values) if ndim_of(values) else values


def pdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """Differentiable ``scipy.stats.multivariate_normal.pdf`` (``exp(logpdf)``)."""
    if not any_traced((x, mean, cov)):
        return scipy.stats.multivariate_normal.pdf(x, mean, cov, allow_singular=allow_singular)
    return anp.exp(logpdf(x, mean, cov, allow_singular))


def entropy(mean: Any = None, cov: Any = 1) -> Any:
    """Differentiable ``scipy.stats.multivariate_normal.entropy``:
    ``(rank (1 + log(2 pi)) + log pdet(cov)) / 2``, in nats.

    As in SciPy a singular ``cov`` is allowed (its pseudo-determinant and rank are used);
    the entropy does not depend on ``mean``.  Derivative in ``cov``: ``pinv(cov) / 2``.

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.stats import multivariate_normal
    >>> ad.grad(multivariate_normal.entropy, 1)(np.zeros(2), np.diag([2.0, 4.0]))
    array([[0.25 , 0.   ],
           [0.   , 0.125]])
    """
    if not any_traced((mean, cov)):
        return scipy.stats.multivariate_normal.entropy(mean, cov)
    k = _dimension(mean, cov)
    cov = _matrix(cov, k)
    if _singular(cov, "entropy"):
        rank, log_det, _, _ = _eigen_parts(cov, k)
    else:
        rank, log_det, _, _ = _cholesky_parts(cov, k)
    return 0.5 * (rank * (1.0 + _LOG_2PI) + log_det)


__all__ = ["entropy", "logpdf", "pdf"]
