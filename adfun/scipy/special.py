"""Differentiable :mod:`scipy.special`.

Every function here is a primitive with reverse and forward rules (or an exact
composite of them) and works on plain values too (straight to SciPy).  Arguments that
are orders or counts (``n`` of ``polygamma``, ``v`` of ``jv``, ``a`` of ``gammainc``...)
are not differentiable: differentiating with respect to them raises
``NotImplementedError``.  ``scipy.special`` ufuncs called on traced values dispatch here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

from adfun._engine.records import EMPTY_PARAMS, Params, Primitive
from adfun._engine.trace import Tracer, bind, bind_unary, full_value, staging_trace_of
from adfun.numpy._core import (
    Domain,
    _register,
    binary,
    kept_shape,
    ndim_of,
    normalize_axis,
    shape_of,
    unary,
)

_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def _rename(fun: Any, name: str, formula: str) -> Any:
    """Give a declared function its SciPy name and a docstring of its own."""
    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = (
        f"Differentiable :func:`scipy.special.{name}`, on plain or traced values.\n\n"
        f"Derivative: {formula}\n"
    )
    return fun


def _unary(name: str, derivative: Any, low: float, high: float, formula: str, *,
           magnitude: bool = False) -> Any:
    fun = unary("special." + name, getattr(sp, name), derivative,
                Domain(ranges=((low, high),), magnitude=magnitude), formula)
    return _rename(fun, name, formula)


def _binary(name: str, vjps: tuple, jvps: tuple, domain: Domain, formula: str) -> Any:
    fun = binary("special." + name, getattr(sp, name), vjps, jvps, domain, formula)
    return _rename(fun, name, formula)


# --- error functions and the normal distribution ----------------------------------------

erf = _unary("erf", lambda ans, x: (2.0 / _SQRT_PI) * exp(-x * x), -3.0, 3.0,
             "``2 / sqrt(pi) * exp(-x**2)``.")
erfc = _unary("erfc", lambda ans, x: (-2.0 / _SQRT_PI) * exp(-x * x), -3.0, 3.0,
              "``-2 / sqrt(pi) * exp(-x**2)``.")
erfcx = _unary("erfcx", lambda ans, x: 2.0 * x * ans - 2.0 / _SQRT_PI, -3.0, 3.0,
               "``2 x erfcx(x) - 2 / sqrt(pi)``.")
erfinv = _unary("erfinv", lambda ans, x: (_SQRT_PI / 2.0) * exp(ans * ans), -0.9, 0.9,
                "``sqrt(pi) / 2 * exp(erfinv(x)**2)``.")
erfcinv = _unary("erfcinv", lambda ans, x: (-_SQRT_PI / 2.0) * exp(ans * ans), 0.1, 1.9,
                 "``-sqrt(pi) / 2 * exp(erfcinv(x)**2)``.")
ndtr = _unary("ndtr", lambda ans, x: exp(-0.5 * x * x) / _SQRT_2PI, -4.0, 4.0,
              "the standard normal density ``exp(-x**2 / 2) / sqrt(2 pi)``.")
log_ndtr = _unary("log_ndtr", lambda ans, x: exp(-0.5 * x * x - ans) / _SQRT_2PI, -6.0, 4.0,
                  "``pdf(x) / ndtr(x)``, computed as ``exp(-x**2/2 - log_ndtr(x)) / "
                  "sqrt(2 pi)`` (stable in the far left tail).")
ndtri = _unary("ndtri", lambda ans, x: _SQRT_2PI * exp(0.5 * ans * ans), 0.05, 0.95,
               "``sqrt(2 pi) * exp(ndtri(x)**2 / 2)``.")

# --- logistic --------------------------------------------------------------------------

expit = _unary("expit", lambda ans, x: ans * (1.0 - ans), -4.0, 4.0,
               "``expit(x) * (1 - expit(x))``.")
logit = _unary("logit", lambda ans, x: 1.0 / (x * (1.0 - x)), 0.05, 0.95,
               "``1 / (x (1 - x))``.")
log_expit = _unary("log_expit", lambda ans, x: expit(-x), -4.0, 4.0, "``expit(-x)``.")

# --- logarithms and exponentials -----------------------------------------------------------

log1p = _unary("log1p", lambda ans, x: 1.0 / (1.0 + x), -0.8, 3.0, "``1 / (1 + x)``.")
expm1 = _unary("expm1", lambda ans, x: ans + 1.0, -3.0, 3.0, "``exp(x)``.")
entr = _unary("entr", lambda ans, x: -(log(x) + 1.0), 0.1, 3.0, "``-(log(x) + 1)``.")

# --- gamma family ------------------------------------------------------------------------

gammaln = _unary("gammaln", lambda ans, x: digamma(x), 0.2, 5.0, "``digamma(x)``.")
gamma = _unary("gamma", lambda ans, x: ans * digamma(x), 0.2, 4.0,
               "``gamma(x) * digamma(x)``.")
rgamma = _unary("rgamma", lambda ans, x: -ans * digamma(x), 0.2, 4.0,
                "``-digamma(x) / gamma(x)``.")
digamma = _unary("digamma", lambda ans, x: polygamma(1, x), 0.2, 5.0,
                 "``polygamma(1, x)`` (the trigamma function).")
psi = digamma


def _polygamma_x(g: Any, ans: Any, n: Any, x: Any) -> Any:
    return unbroadcast(g * polygamma(n + 1, x), x)


def _polygamma_tangent_x(t: Any, ans: Any, n: Any, x: Any) -> Any:
    return t * polygamma(n + 1, x)


def _order_examples(orders: list, low: float, high: float) -> Any:
    def examples(draw: Any, st: Any, hnp: Any) -> tuple:
        from adfun.numpy._examples import array

        x = array(draw, st, hnp, (low, high))
        return (np.asarray(draw(st.sampled_from(orders))), x), {}

    return examples


polygamma = _binary("polygamma", (None, _polygamma_x), (None, _polygamma_tangent_x),
                    Domain(examples=_order_examples([0, 1, 2], 0.3, 4.0)),
                    "``polygamma(n + 1, x)`` for ``x``; ``n`` is an integer order.")


def _beta_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(g * ans * (digamma(a) - digamma(a + b)), a)


def _beta_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(g * ans * (digamma(b) - digamma(a + b)), b)


def _beta_tangent_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return t * ans * (digamma(a) - digamma(a + b))


def _beta_tangent_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return t * ans * (digamma(b) - digamma(a + b))


_POSITIVE_PAIR = Domain(ranges=((0.3, 4.0), (0.3, 4.0)))

beta = _binary("beta", (_beta_a, _beta_b), (_beta_tangent_a, _beta_tangent_b), _POSITIVE_PAIR,
               "``beta(a, b) (digamma(a) - digamma(a + b))`` for ``a``, symmetrically ``b``.")


def _betaln_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(g * (digamma(a) - digamma(a + b)), a)


def _betaln_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(g * (digamma(b) - digamma(a + b)), b)


def _betaln_tangent_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return t * (digamma(a) - digamma(a + b))


def _betaln_tangent_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return t * (digamma(b) - digamma(a + b))


betaln = _binary("betaln", (_betaln_a, _betaln_b), (_betaln_tangent_a, _betaln_tangent_b),
                 _POSITIVE_PAIR, "``digamma(a) - digamma(a + b)`` for ``a``, symmetrically "
                 "``b``.")


def _gammainc_slope(a: Any, x: Any) -> Any:
    return exp((a - 1.0) * log(x) - x - gammaln(a))


def _gammainc_x(g: Any, ans: Any, a: Any, x: Any) -> Any:
    return unbroadcast(g * _gammainc_slope(a, x), x)


def _gammainc_tangent_x(t: Any, ans: Any, a: Any, x: Any) -> Any:
    return t * _gammainc_slope(a, x)


def _gammaincc_x(g: Any, ans: Any, a: Any, x: Any) -> Any:
    return unbroadcast(-g * _gammainc_slope(a, x), x)


def _gammaincc_tangent_x(t: Any, ans: Any, a: Any, x: Any) -> Any:
    return -t * _gammainc_slope(a, x)


gammainc = _binary("gammainc", (None, _gammainc_x), (None, _gammainc_tangent_x),
                   _POSITIVE_PAIR, "``x**(a-1) exp(-x) / gamma(a)`` for ``x``; none for ``a``.")
gammaincc = _binary("gammaincc", (None, _gammaincc_x), (None, _gammaincc_tangent_x),
                    _POSITIVE_PAIR, "``-x**(a-1) exp(-x) / gamma(a)`` for ``x``; none for "
                    "``a``.")


def multigammaln(a: Any, d: int) -> Any:
    """Differentiable :func:`scipy.special.multigammaln`, the log multivariate gamma.

    ``d (d - 1) / 4 log(pi) + sum_{j=0}^{d-1} gammaln(a - j / 2)`` (a composite).
    An entry ``a <= (d - 1) / 2`` raises ``ValueError``, as SciPy does; under ``jit`` /
    ``trace``, where the graph is replayed on values not seen while tracing, it gives NaN.
    """
    if type(a) is not Tracer:
        return sp.multigammaln(a, d)
    d = int(d)
    staged = staging_trace_of(a) is not None
    if not staged and np.any(full_value(a) <= 0.5 * (d - 1)):
        raise ValueError(f"adfun.scipy.special.multigammaln: every entry of a must exceed "
                         f"(d - 1) / 2 = {0.5 * (d - 1)} for d = {d}")
    total = 0.25 * d * (d - 1) * float(np.log(np.pi))
    for j in range(d):
        total = total + gammaln(a - 0.5 * j)
    if staged:
        # A staged graph cannot raise at replay: entries outside the domain give NaN.
        total = where(less_equal(a, 0.5 * (d - 1)), np.nan, total)
    return total


# --- xlogy and xlog1py ----------------------------------------------------------------------


def _xlogy_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * log(y), x)


def _xlogy_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * x / y, y)


def _xlogy_tangent_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * log(y)


def _xlogy_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * x / y


xlogy = _binary("xlogy", (_xlogy_x, _xlogy_y), (_xlogy_tangent_x, _xlogy_tangent_y),
                Domain(ranges=((-3.0, 3.0), (0.2, 4.0))),
                "``log(y)`` for ``x``, ``x / y`` for ``y``.")


def _xlog1py_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * log1p(y), x)


def _xlog1py_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * x / (1.0 + y), y)


def _xlog1py_tangent_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * log1p(y)


def _xlog1py_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * x / (1.0 + y)


xlog1py = _binary("xlog1py", (_xlog1py_x, _xlog1py_y), (_xlog1py_tangent_x, _xlog1py_tangent_y),
                  Domain(ranges=((-3.0, 3.0), (-0.7, 3.0))),
                  "``log1p(y)`` for ``x``, ``x / (1 + y)`` for ``y``.")



def _stdtr_slope(df: Any, t: Any) -> Any:
    """Student's t density ``(1 + t**2/df)**(-(df+1)/2) / (sqrt(df) B(1/2, df/2))``."""
    half = 0.5 * (df + 1.0)
    return exp(gammaln(half) - gammaln(0.5 * df) - 0.5 * log(df * np.pi)
               - half * log1p(t * t / df))


def _stdtr_t(g: Any, ans: Any, df: Any, t: Any) -> Any:
    return unbroadcast(g * _stdtr_slope(df, t), t)


def _stdtr_tangent_t(t_dot: Any, ans: Any, df: Any, t: Any) -> Any:
    return t_dot * _stdtr_slope(df, t)


stdtr = _binary("stdtr", (None, _stdtr_t), (None, _stdtr_tangent_t),
                Domain(ranges=((0.5, 6.0), (-3.0, 3.0))),
                "the t density for ``t``; none for the degrees of freedom ``df``.")



def _betainc_slope(a: Any, b: Any, x: Any) -> Any:
    """The beta density ``x**(a-1) (1-x)**(b-1) / B(a, b)``."""
    return exp((a - 1.0) * log(x) + (b - 1.0) * log1p(-x) - betaln(a, b))


def _ternary(name: str, vjps: tuple, jvps: tuple, domain: Domain, formula: str) -> Any:
    scipy_fun = getattr(sp, name)
    prim = Primitive("special." + name, scipy_fun, vjps, jvps, domain)

    def fun(a: Any, b: Any, x: Any, /, **kwargs: Any) -> Any:
        if type(a) is Tracer or type(b) is Tracer or type(x) is Tracer:
            if kwargs:
                raise TypeError(f"adfun.scipy.special.{name}: keyword arguments "
                                f"{sorted(kwargs)} are not supported on traced values")
            return bind(prim, (a, b, x), EMPTY_PARAMS)
        return scipy_fun(a, b, x, **kwargs)

    _register(fun, prim, scipy_fun, "")
    return _rename(fun, name, formula)


def _incomplete_beta(name: str, sign_: float) -> Any:
    def vjp(g: Any, ans: Any, a: Any, b: Any, x: Any) -> Any:
        return unbroadcast(sign_ * g * _betainc_slope(a, b, x), x)

    def jvp(t: Any, ans: Any, a: Any, b: Any, x: Any) -> Any:
        return sign_ * t * _betainc_slope(a, b, x)

    return _ternary(name, (None, None, vjp), (None, None, jvp),
                    Domain(ranges=((0.5, 3.0), (0.5, 3.0), (0.1, 0.9))),
                    f"``{'' if sign_ > 0 else '-'}x**(a-1) (1-x)**(b-1) / beta(a, b)`` for "
                    f"``x``; none for ``a`` and ``b``.")


betainc = _incomplete_beta("betainc", 1.0)
betaincc = _incomplete_beta("betaincc", -1.0)


def _rel_entr_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * (log(x / y) + 1.0), x)


def _rel_entr_tangent_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * (log(x / y) + 1.0)


def _kl_div_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * log(x / y), x)


def _kl_div_tangent_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * log(x / y)


def _entropy_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(-g * x / y, y)


def _entropy_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return -t * x / y


def _kl_div_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * (1.0 - x / y), y)


def _kl_div_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * (1.0 - x / y)


rel_entr = _binary("rel_entr", (_rel_entr_x, _entropy_y),
                   (_rel_entr_tangent_x, _entropy_tangent_y), _POSITIVE_PAIR,
                   "``log(x / y) + 1`` for ``x``, ``-x / y`` for ``y`` (``x, y > 0``).")
kl_div = _binary("kl_div", (_kl_div_x, _kl_div_y), (_kl_div_tangent_x, _kl_div_tangent_y),
                 _POSITIVE_PAIR, "``log(x / y)`` for ``x``, ``1 - x / y`` for ``y``.")

erfi = _unary("erfi", lambda ans, x: (2.0 / _SQRT_PI) * exp(x * x), -2.0, 2.0,
              "``2 / sqrt(pi) * exp(x**2)``.")
dawsn = _unary("dawsn", lambda ans, x: 1.0 - 2.0 * x * ans, -3.0, 3.0,
               "``1 - 2 x dawsn(x)``.")
exp1 = _unary("exp1", lambda ans, x: -exp(-x) / x, 0.2, 4.0, "``-exp(-x) / x``.")
expi = _unary("expi", lambda ans, x: exp(x) / x, 0.2, 4.0, "``exp(x) / x``.",
              magnitude=True)
wrightomega = _unary("wrightomega", lambda ans, x: ans / (1.0 + ans), -3.0, 3.0,
                     "``w / (1 + w)`` with ``w = wrightomega(x)``.")
cosm1 = _unary("cosm1", lambda ans, x: -sin(x), -3.0, 3.0, "``-sin(x)``.")


def _spence_derivative(ans: Any, z: Any) -> Any:
    # log(z) / (1 - z) is 0/0 at z = 1; near it use its Taylor series in u = z - 1,
    # -1 + u/2 - u**2/3, which also gives the right higher derivatives there.
    u = z - 1.0
    near_one = less(absolute(u), 1e-4)
    safe = where(near_one, 2.0, z)
    return where(near_one, -1.0 + u * (0.5 - u / 3.0), log(safe) / (1.0 - safe))


spence = _unary("spence", _spence_derivative, 0.2, 3.0,
                "``log(z) / (1 - z)`` (``-1`` at ``z = 1``).")

# --- Bessel functions -----------------------------------------------------------------------


def _order_rule(name: str, derivative: Any) -> tuple:
    def vjp(g: Any, ans: Any, v: Any, x: Any) -> Any:
        return unbroadcast(g * derivative(ans, v, x), x)

    def jvp(t: Any, ans: Any, v: Any, x: Any) -> Any:
        return t * derivative(ans, v, x)

    return (None, vjp), (None, jvp)


def _bessel(name: str, derivative: Any, low: float, formula: str) -> Any:
    vjps, jvps = _order_rule(name, derivative)
    domain = Domain(examples=_order_examples([0.0, 0.5, 1.0, 2.0], low, 4.0))
    return _binary(name, vjps, jvps, domain, formula + " ``v`` is an order.")


jv = _bessel("jv", lambda ans, v, x: 0.5 * (jv(v - 1.0, x) - jv(v + 1.0, x)), 0.3,
             "``(jv(v - 1, x) - jv(v + 1, x)) / 2`` for ``x``.")
yv = _bessel("yv", lambda ans, v, x: 0.5 * (yv(v - 1.0, x) - yv(v + 1.0, x)), 0.5,
             "``(yv(v - 1, x) - yv(v + 1, x)) / 2`` for ``x``.")
iv = _bessel("iv", lambda ans, v, x: 0.5 * (iv(v - 1.0, x) + iv(v + 1.0, x)), 0.3,
             "``(iv(v - 1, x) + iv(v + 1, x)) / 2`` for ``x``.")
ive = _bessel("ive", lambda ans, v, x: 0.5 * (ive(v - 1.0, x) + ive(v + 1.0, x))
              - sign(x) * ans, 0.3,
              "``(ive(v - 1, x) + ive(v + 1, x)) / 2 - sign(x) ive(v, x)`` for ``x``.")
kv = _bessel("kv", lambda ans, v, x: -0.5 * (kv(v - 1.0, x) + kv(v + 1.0, x)), 0.3,
             "``-(kv(v - 1, x) + kv(v + 1, x)) / 2`` for ``x``.")

j0 = _unary("j0", lambda ans, x: -j1(x), -6.0, 6.0, "``-j1(x)``.")
j1 = _unary("j1", lambda ans, x: 0.5 * (j0(x) - jv(2.0, x)), -6.0, 6.0,
            "``(j0(x) - jv(2, x)) / 2``.")
y0 = _unary("y0", lambda ans, x: -y1(x), 0.5, 6.0, "``-y1(x)``.")
y1 = _unary("y1", lambda ans, x: 0.5 * (y0(x) - yv(2.0, x)), 0.5, 6.0,
            "``(y0(x) - yv(2, x)) / 2``.")
i0 = _unary("i0", lambda ans, x: i1(x), -3.0, 3.0, "``i1(x)``.")
def _i1_derivative(ans: Any, x: Any) -> Any:
    # SciPy's iv(2, x) is NaN for subnormal x; near 0 use i1'(x) = 1/2 + 3 x**2 / 16 + ...
    near_zero = less(absolute(x), 1e-6)
    safe = where(near_zero, 1.0, x)
    return where(near_zero, 0.5 + 0.1875 * x * x, 0.5 * (i0(safe) + iv(2.0, safe)))


i1 = _unary("i1", _i1_derivative, -3.0, 3.0, "``(i0(x) + iv(2, x)) / 2``.")
i0e = _unary("i0e", lambda ans, x: i1e(x) - sign(x) * ans, 0.2, 3.0,
             "``i1e(x) - sign(x) i0e(x)``.", magnitude=True)
i1e = _unary("i1e", lambda ans, x: 0.5 * (i0e(x) + ive(2.0, x)) - sign(x) * ans, 0.2, 3.0,
             "``(i0e(x) + ive(2, x)) / 2 - sign(x) i1e(x)``.", magnitude=True)

# --- reductions along axes: logsumexp, softmax, log_softmax --------------------------------


def _declare(name: str, impl: Any, vjps: tuple, jvps: tuple, examples: Any) -> Primitive:
    return Primitive("special." + name, impl, vjps, jvps, Domain(examples=examples))


def _export(prim: Primitive, numpy_fun: Any) -> Any:
    def decorate(fun: Any) -> Any:
        name, doc = fun.__name__, fun.__doc__
        _register(fun, prim, numpy_fun, doc)
        fun.__name__ = fun.__qualname__ = name
        return fun

    return decorate


def _kept(value: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    return value if keepdims else reshape(value, kept_shape(shape_of(x), axis))


def _logsumexp_impl(a: Any, b: Any, axis: Any = None, keepdims: bool = False,
                    signed: bool = False) -> Any:
    if signed:
        return sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)[0]
    return sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims)


def _logsumexp_weights(ans: Any, a: Any, b: Any, axis: Any, keepdims: bool,
                       signed: bool) -> Any:
    """``d lse / d a = b exp(a - lse) / s`` with ``s`` the sign of the sum (a constant)."""
    weights = b * exp(a - _kept(ans, a, axis, keepdims))
    if signed:
        weights = weights * stop_gradient(sign(_sum(weights, axis=axis, keepdims=True)))
    return weights


def _logsumexp_a(g: Any, ans: Any, a: Any, b: Any, axis: Any = None, keepdims: bool = False,
                 signed: bool = False) -> Any:
    weights = _logsumexp_weights(ans, a, b, axis, keepdims, signed)
    return unbroadcast(_kept(g, a, axis, keepdims) * weights, a)


def _logsumexp_b(g: Any, ans: Any, a: Any, b: Any, axis: Any = None, keepdims: bool = False,
                 signed: bool = False) -> Any:
    weights = _logsumexp_weights(ans, a, 1.0, axis, keepdims, signed)
    if signed:
        weights = weights * stop_gradient(sign(_sum(b * weights, axis=axis, keepdims=True)))
    return unbroadcast(_kept(g, a, axis, keepdims) * weights, b)


def _logsumexp_tangent_a(t: Any, ans: Any, a: Any, b: Any, axis: Any = None,
                         keepdims: bool = False, signed: bool = False) -> Any:
    weights = _logsumexp_weights(ans, a, b, axis, keepdims, signed)
    return _sum(t * weights, axis=axis, keepdims=keepdims)


def _logsumexp_tangent_b(t: Any, ans: Any, a: Any, b: Any, axis: Any = None,
                         keepdims: bool = False, signed: bool = False) -> Any:
    weights = _logsumexp_weights(ans, a, 1.0, axis, keepdims, signed)
    if signed:
        weights = weights * stop_gradient(sign(_sum(b * weights, axis=axis, keepdims=True)))
    return _sum(t * weights, axis=axis, keepdims=keepdims)


def _logsumexp_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array, axis_params

    a = array(draw, st, hnp, (-3.0, 3.0), min_dims=0)
    params = axis_params(draw, st, a.ndim)
    signed = draw(st.booleans())
    b = array(draw, st, hnp, (0.3, 2.0), shape=a.shape)
    if signed:
        b = b * np.where(np.arange(b.size).reshape(b.shape) % 2 == 0, 1.0, -0.3)
    return (a, b), dict(params, signed=signed)


def _logsumexp_sign_impl(a: Any, b: Any, axis: Any = None, keepdims: bool = False,
                         signed: bool = True) -> Any:
    return sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)[1]


#: The sign returned with ``return_sign=True``: a constant for differentiation.
_LOGSUMEXP_SIGN = Primitive("special.logsumexp_sign", _logsumexp_sign_impl, (), (), None,
                            nondiff=True)

_LOGSUMEXP = _declare("logsumexp", _logsumexp_impl, (_logsumexp_a, _logsumexp_b),
                      (_logsumexp_tangent_a, _logsumexp_tangent_b), _logsumexp_examples)


@_export(_LOGSUMEXP, None)
def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """Differentiable :func:`scipy.special.logsumexp`: ``log(sum(b * exp(a), axis))``.

    With ``return_sign=True`` returns ``(log|sum|, sign)``; the sign is a constant.

    Derivative: ``b * exp(a - logsumexp(a))`` (a softmax) for ``a``, ``exp(a - lse)`` for
    ``b`` (each divided by the sign of the sum when ``return_sign``).

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.special import logsumexp
    >>> ad.grad(logsumexp)(np.log(np.array([1.0, 3.0])))
    array([0.25, 0.75])
    """
    if type(a) is not Tracer and type(b) is not Tracer:
        return sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    weights = 1.0 if b is None else b
    axes = normalize_axis(axis, ndim_of(a), "scipy.special.logsumexp")
    params = Params(axis=axes, keepdims=bool(keepdims), signed=bool(return_sign))
    value = bind(_LOGSUMEXP, (a, weights), params)
    if not return_sign:
        return value
    return value, bind(_LOGSUMEXP_SIGN, (a, weights), params)


def _softmax_impl(x: Any, axis: Any = None) -> Any:
    return sp.softmax(x, axis=axis)


def _softmax_vjp(g: Any, ans: Any, x: Any, axis: Any = None) -> Any:
    return ans * (g - _sum(g * ans, axis=axis, keepdims=True))


def _softmax_jvp(t: Any, ans: Any, x: Any, axis: Any = None) -> Any:
    return ans * (t - _sum(t * ans, axis=axis, keepdims=True))


def _softmax_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array, axis_params

    x = array(draw, st, hnp, (-3.0, 3.0), min_dims=0)
    return (x,), {"axis": axis_params(draw, st, x.ndim)["axis"]}


_SOFTMAX = _declare("softmax", _softmax_impl, (_softmax_vjp,), (_softmax_jvp,),
                    _softmax_examples)


@_export(_SOFTMAX, None)
def softmax(x: Any, axis: Any = None) -> Any:
    """Differentiable :func:`scipy.special.softmax` (over all axes when ``axis`` is None).

    Derivative: ``s * (g - sum(g * s, axis))`` with ``s = softmax(x)``.

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.special import softmax
    >>> ad.grad(lambda x: softmax(x)[0])(np.zeros(2))
    array([ 0.25, -0.25])
    """
    if type(x) is not Tracer:
        return sp.softmax(x, axis=axis)
    axes = normalize_axis(axis, ndim_of(x), "scipy.special.softmax")
    return bind_unary(_SOFTMAX, x, Params(axis=axes))


def _log_softmax_impl(x: Any, axis: Any = None) -> Any:
    return sp.log_softmax(x, axis=axis)


def _log_softmax_vjp(g: Any, ans: Any, x: Any, axis: Any = None) -> Any:
    return g - exp(ans) * _sum(g, axis=axis, keepdims=True)


def _log_softmax_jvp(t: Any, ans: Any, x: Any, axis: Any = None) -> Any:
    return t - _sum(exp(ans) * t, axis=axis, keepdims=True)


_LOG_SOFTMAX = _declare("log_softmax", _log_softmax_impl, (_log_softmax_vjp,),
                        (_log_softmax_jvp,), _softmax_examples)


@_export(_LOG_SOFTMAX, None)
def log_softmax(x: Any, axis: Any = None) -> Any:
    """Differentiable :func:`scipy.special.log_softmax`.

    Derivative: ``g - softmax(x) * sum(g, axis)``.

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.special import log_softmax
    >>> ad.grad(lambda x: log_softmax(x)[0])(np.zeros(2))
    array([ 0.5, -0.5])
    """
    if type(x) is not Tracer:
        return sp.log_softmax(x, axis=axis)
    axes = normalize_axis(axis, ndim_of(x), "scipy.special.log_softmax")
    return bind_unary(_LOG_SOFTMAX, x, Params(axis=axes))


__all__ = [
    "beta", "betainc", "betaincc", "betaln", "cosm1", "dawsn", "digamma", "entr", "erf",
    "erfc", "erfcinv", "erfcx", "erfi", "erfinv", "exp1", "expi", "expit", "expm1", "gamma",
    "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "iv", "ive", "j0", "j1",
    "jv", "kl_div", "kv", "log1p", "log_expit", "log_ndtr", "log_softmax", "logit",
    "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "rel_entr", "rgamma",
    "softmax", "spence", "stdtr", "wrightomega", "xlog1py", "xlogy", "y0", "y1", "yv",
]

from adfun.numpy._broadcast import unbroadcast  # noqa: E402
from adfun.numpy._elementwise import absolute, exp, log, sin  # noqa: E402
from adfun.numpy._nondiff import less, less_equal, sign, stop_gradient  # noqa: E402
from adfun.numpy._selection import where  # noqa: E402
from adfun.numpy._reductions import sum as _sum  # noqa: E402
from adfun.numpy._shape import reshape  # noqa: E402
