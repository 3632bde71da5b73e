"""Differentiable distributions of :mod:`scipy.stats`.

``norm``, ``t``, ``gamma``, ``chi2``, ``beta`` (densities, distribution and survival
functions and their logarithms; ``norm`` also its quantiles and moments), ``poisson``
(``pmf``, ``cdf``, ``sf`` and logarithms), ``dirichlet`` and ``multivariate_normal``.
Each module takes SciPy's arguments, defaults and broadcasting, returns SciPy's values,
goes straight to SciPy on plain arguments, and differentiates in every argument where
SciPy's function is smooth (points, ``loc``, ``scale`` and shape parameters; not the
counts of ``poisson``).
"""

from __future__ import annotations

from adfun.scipy.stats import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t

__all__ = ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"]
