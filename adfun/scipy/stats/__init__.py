"""Differentiable distributions of :mod:`scipy.stats`: ``norm``, ``t``,
``multivariate_normal`` (log-densities and friends, as exact composites of
differentiable primitives)."""

from __future__ import annotations

from adfun.scipy.stats import multivariate_normal, norm, t

__all__ = ["multivariate_normal", "norm", "t"]
