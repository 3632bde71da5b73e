"""Derivatives of the regularized incomplete gamma and beta functions in their shapes.

``P(a, x) = gammainc(a, x)`` and ``I_x(a, b) = betainc(a, b, x)`` have derivatives in
``x`` in closed form (the densities), but none in the shape parameters ``a`` and ``b``.
This module computes those, to second order, on plain NumPy arrays, by evaluating the
classical expansions on *jets*: numbers carrying their first and second derivatives in
the shape parameters, propagated exactly through every arithmetic step (forward-mode
differentiation of the algorithm, not finite differences).

* ``P(a, x)`` for ``x < a + 1``: the power series
  ``x**a exp(-x) / gamma(a + 1) * sum_k x**k / ((a + 1) ... (a + k))``; otherwise
  ``1 - Q(a, x)`` with ``Q`` from its continued fraction (Legendre's), evaluated by the
  modified Lentz method.
* ``I_x(a, b)`` for ``x < (a + 1) / (a + b + 2)``: the continued fraction
  ``x**a (1 - x)**b / (a B(a, b)) * cf``; otherwise ``1 - I_{1-x}(b, a)``.

Each expansion is summed until the value and every derivative change by less than a
relative ``2**-52`` (at most :data:`MAX_TERMS` terms), so that the derivatives are
accurate to about ``1e-13`` relative to the largest of the derivatives' terms (absolute
error ``~1e-15`` where the derivative itself is tiny, far in a tail), for shapes up to
about ``1e5``.  Arguments outside the domain (``a <= 0``, ``b <= 0``, ``x < 0``, ``x > 1``
for the beta function, NaN) give NaN; ``x = 0`` (and ``x = 1`` for the beta function)
give exact zeros, where the functions are constant in the shapes.

This module works on plain values only: :mod:`adfun.scipy.special` wraps it in
primitives with derivative rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

#: Most terms (series) or iterations (continued fractions) summed for one value.
MAX_TERMS = 20000
_EPS = 2.0**-52
_TINY = 1e-300


class _Jet:
    """A value with its gradient ``d`` (shape ``(p, n)``) and Hessian ``h`` (``(p, p, n)``)
    in ``p`` parameters; every entry of the flat value array ``v`` (shape ``(n,)``) is
    independent."""

    __slots__ = ("d", "h", "v")
    __array_ufunc__ = None  # ``array + jet`` and friends are the jet's operations

    def __init__(self, v: Any, d: Any, h: Any) -> None:
        self.v = v
        self.d = d
        self.h = h

    @classmethod
    def variable(cls, v: np.ndarray, index: int, p: int) -> _Jet:
        d = np.zeros((p,) + v.shape)
        d[index] = 1.0
        return cls(v, d, np.zeros((p, p) + v.shape))

    def __add__(self, other: Any) -> _Jet:
        if isinstance(other, _Jet):
            return _Jet(self.v + other.v, self.d + other.d, self.h + other.h)
        return _Jet(self.v + other, self.d, self.h)

    __radd__ = __add__

    def __neg__(self) -> _Jet:
        return _Jet(-self.v, -self.d, -self.h)

    def __sub__(self, other: Any) -> _Jet:
        return self + (-other)

    def __rsub__(self, other: Any) -> _Jet:
        return (-self) + other

    def __mul__(self, other: Any) -> _Jet:
        if not isinstance(other, _Jet):
            return _Jet(self.v * other, self.d * other, self.h * other)
        cross = self.d[:, None] * other.d[None, :]
        return _Jet(
            self.v * other.v,
            self.d * other.v + self.v * other.d,
            self.h * other.v + self.v * other.h + cross + np.swapaxes(cross, 0, 1),
        )

    __rmul__ = __mul__

    def compose(self, f: Any, f1: Any, f2: Any) -> _Jet:
        """``f(self)`` given ``f``, ``f'`` and ``f''`` at ``self.v``."""
        return _Jet(f, f1 * self.d, f2 * (self.d[:, None] * self.d[None, :]) + f1 * self.h)

    def reciprocal(self) -> _Jet:
        r = 1.0 / self.v
        return self.compose(r, -r * r, 2.0 * r * r * r)

    def __truediv__(self, other: Any) -> _Jet:
        if isinstance(other, _Jet):
            return self * other.reciprocal()
        return self * (1.0 / other)

    def __rtruediv__(self, other: Any) -> _Jet:
        return self.reciprocal() * other

    def exp(self) -> _Jet:
        e = np.exp(self.v)
        return self.compose(e, e, e)

    def size(self) -> np.ndarray:
        """The largest magnitude of the value and its derivatives, entry by entry."""
        p = self.d.shape[0]
        return np.maximum(
            np.abs(self.v),
            np.maximum(
                np.abs(self.d).max(axis=0), np.abs(self.h.reshape((p * p,) + self.v.shape)).max(0)
            ),
        )


def _constant(v: np.ndarray, p: int) -> _Jet:
    return _Jet(v, np.zeros((p,) + v.shape), np.zeros((p, p) + v.shape))


def _converged(step: _Jet, total: _Jet) -> bool:
    """Whether every entry of ``step`` is negligible beside ``total`` (a sum's terms)."""
    return bool(np.all(step.size() <= _EPS * total.size()))


def _ratio_converged(delta: _Jet) -> bool:
    """Whether every factor ``delta`` of a continued fraction is 1 with zero derivatives."""
    one = _Jet(delta.v - 1.0, delta.d, delta.h)
    return bool(np.all(one.size() <= _EPS))


# --- the incomplete gamma function ------------------------------------------------------


def _gamma_series(a: np.ndarray, x: np.ndarray) -> _Jet:
    """``P(a, x)`` with its derivatives in ``a`` (for ``x < a + 1``)."""
    shape = _Jet.variable(a, 0, 1)
    term = _constant(np.ones_like(a), 1)
    total = term
    for k in range(1, MAX_TERMS):
        term = term * x / (shape + float(k))
        total = total + term
        if _converged(term, total):
            break
    log_x = np.log(x)
    front = _Jet(
        a * log_x - x - sp.gammaln(a + 1.0),
        (log_x - sp.digamma(a + 1.0))[None],
        -sp.polygamma(1, a + 1.0)[None, None],
    ).exp()
    return front * total


def _gamma_fraction(a: np.ndarray, x: np.ndarray) -> _Jet:
    """``Q(a, x) = 1 - P(a, x)`` with its derivatives in ``a`` (for ``x >= a + 1``)."""
    shape = _Jet.variable(a, 0, 1)
    b = x + 1.0 - shape
    c = _constant(np.full_like(a, 1.0 / _TINY), 1)
    d = b.reciprocal()
    fraction = d
    for i in range(1, MAX_TERMS):
        an = (shape - float(i)) * float(i)
        b = b + 2.0
        d = (an * d + b).reciprocal()
        c = b + an / c
        delta = d * c
        fraction = fraction * delta
        if _ratio_converged(delta):
            break
    log_x = np.log(x)
    front = _Jet(
        a * log_x - x - sp.gammaln(a),
        (log_x - sp.digamma(a))[None],
        -sp.polygamma(1, a)[None, None],
    ).exp()
    return front * fraction


def gammainc_shape_derivatives(a: Any, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(dP/da, d2P/da2)`` of ``P(a, x) = scipy.special.gammainc(a, x)``, broadcast.

    Examples
    --------
    >>> first, second = gammainc_shape_derivatives(2.0, 1.0)
    >>> round(float(first), 8), round(float(second), 8)
    (-0.27619605, 0.20511882)
    """
    a, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(x, dtype=float))
    shape = a.shape
    a = a.ravel()
    x = x.ravel()
    first = np.full(a.shape, np.nan)
    second = np.full(a.shape, np.nan)
    valid = (a > 0) & (x >= 0)
    zero = valid & ((x == 0) | np.isinf(x))
    first[zero] = second[zero] = 0.0
    inside = valid & ~zero
    series = inside & (x < a + 1.0)
    fraction = inside & ~series
    if series.any():
        jet = _gamma_series(a[series], x[series])
        first[series] = jet.d[0]
        second[series] = jet.h[0, 0]
    if fraction.any():
        jet = _gamma_fraction(a[fraction], x[fraction])
        first[fraction] = -jet.d[0]
        second[fraction] = -jet.h[0, 0]
    return first.reshape(shape), second.reshape(shape)


# --- the incomplete beta function -------------------------------------------------------


def _beta_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> _Jet:
    """``I_x(a, b)`` with its derivatives in ``(a, b)`` (for ``x < (a+1)/(a+b+2)``)."""
    ja = _Jet.variable(a, 0, 2)
    jb = _Jet.variable(b, 1, 2)
    total = ja + jb
    c = _constant(np.ones_like(a), 2)
    d = (1.0 - total * x / (ja + 1.0)).reciprocal()
    fraction = d
    for m in range(1, MAX_TERMS):
        twice = float(2 * m)
        even = (jb - float(m)) * (float(m) * x) / ((ja + (twice - 1.0)) * (ja + twice))
        d = (1.0 + even * d).reciprocal()
        c = 1.0 + even / c
        fraction = fraction * (d * c)
        odd = -((ja + float(m)) * (total + float(m))) * x / ((ja + twice) * (ja + (twice + 1.0)))
        d = (1.0 + odd * d).reciprocal()
        c = 1.0 + odd / c
        delta = d * c
        fraction = fraction * delta
        if _ratio_converged(delta):
            break
    log_x = np.log(x)
    log_1mx = np.log1p(-x)
    both = sp.polygamma(1, a + b)
    gradient = np.stack(
        [
            log_x - sp.digamma(a) + sp.digamma(a + b) - 1.0 / a,
            log_1mx - sp.digamma(b) + sp.digamma(a + b),
        ]
    )
    hessian = np.stack(
        [
            np.stack([both - sp.polygamma(1, a) + 1.0 / (a * a), both]),
            np.stack([both, both - sp.polygamma(1, b)]),
        ]
    )
    front = _Jet(a * log_x + b * log_1mx - sp.betaln(a, b) - np.log(a), gradient, hessian).exp()
    return front * fraction


def betainc_shape_derivatives(a: Any, b: Any, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """The derivatives of ``I_x(a, b) = scipy.special.betainc(a, b, x)`` in ``(a, b)``.

    Returns ``(gradient, hessian)`` of shapes ``(2,) + shape`` and ``(2, 2) + shape``
    (``shape`` the broadcast shape of the arguments): ``gradient[0] = dI/da``,
    ``hessian[0, 1] = d2I/(da db)``...

    Examples
    --------
    >>> gradient, hessian = betainc_shape_derivatives(2.0, 3.0, 0.4)
    >>> [round(float(value), 8) for value in gradient]
    [-0.24086938, 0.15634434]
    """
    a, b, x = np.broadcast_arrays(*(np.asarray(value, dtype=float) for value in (a, b, x)))
    shape = a.shape
    a, b, x = a.ravel(), b.ravel(), x.ravel()
    gradient = np.full((2,) + a.shape, np.nan)
    hessian = np.full((2, 2) + a.shape, np.nan)
    valid = (a > 0) & (b > 0) & (x >= 0) & (x <= 1)
    edge = valid & ((x == 0) | (x == 1))
    gradient[:, edge] = 0.0
    hessian[:, :, edge] = 0.0
    inside = valid & ~edge
    direct = inside & (x < (a + 1.0) / (a + b + 2.0))
    mirrored = inside & ~direct
    if direct.any():
        jet = _beta_fraction(a[direct], b[direct], x[direct])
        gradient[:, direct] = jet.d
        hessian[:, :, direct] = jet.h
    if mirrored.any():
        # I_x(a, b) = 1 - I_{1-x}(b, a): the roles of the two shapes swap.
        jet = _beta_fraction(b[mirrored], a[mirrored], 1.0 - x[mirrored])
        gradient[:, mirrored] = -jet.d[::-1]
        hessian[:, :, mirrored] = -jet.h[::-1, ::-1]
    return gradient.reshape((2,) + shape), hessian.reshape((2, 2) + shape)


__all__ = ["MAX_TERMS", "betainc_shape_derivatives", "gammainc_shape_derivatives"]
