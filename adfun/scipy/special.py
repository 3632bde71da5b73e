"""Differentiable :mod:`scipy.special`.

Every function here is a primitive with reverse and forward rules (or an exact
composite of them) and works on plain values too (straight to SciPy); ``gammasgn`` is a
constant for differentiation (a sign).  Arguments that are orders or counts (``n`` of
``polygamma``, ``jn`` and ``yn``, ``v`` of ``jv``...) are not differentiable:
differentiating with respect to them raises ``NotImplementedError``.  The shapes of the
incomplete gamma and beta functions (``a`` of ``gammainc``, ``a`` and ``b`` of
``betainc``) and the degrees of freedom of ``stdtr`` are differentiable to second order,
through derivatives of the functions' expansions (no closed form exists; see
:mod:`adfun.scipy._incomplete`).  ``scipy.special`` ufuncs called on traced values
dispatch here.

Complex arguments are differentiated wherever SciPy defines the function for them
(``erf``, ``gamma``, ``loggamma``, ``digamma``, ``wofz``, the Bessel and Hankel functions
of complex argument, ``xlogy``, ``logsumexp``...), with HIPS autograd's and JAX's
convention (see the conventions page); the functions SciPy defines for real values only
raise a ``TypeError`` naming the function and the complex argument.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sp

from adfun._engine.records import EMPTY_PARAMS, NUMPY_OVERRIDES, Params
from adfun._engine.trace import (
    Tracer,
    any_traced,
    bind,
    bind_unary,
    full_value,
    values_hidden,
)
from adfun.numpy._axes import kept_shape, ndim_of, normalize_axis, shape_of
from adfun.numpy._batching import elementwise, nonscalar_reduction, reduction
from adfun.numpy._broadcast import unbroadcast
from adfun.numpy._complex import conjugate, imag, is_complex, real
from adfun.numpy._declare import (
    REGISTRY,
    Domain,
    binary,
    export,
    primitive,
    refuse_keywords,
    unary,
)
from adfun.numpy._elementwise import absolute, exp, log, sin
from adfun.numpy._nondiff import less, less_equal, sign, stop_gradient
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._selection import where
from adfun.numpy._shape import reshape
from adfun.scipy._incomplete import betainc_shape_derivatives, gammainc_shape_derivatives
from adfun.scipy._polygamma import complex_polygamma

_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))
#: Entire functions: real and imaginary parts in (-2, 2).
_COMPLEX_ENTIRE = Domain(ranges=((-2.0, 2.0),))


def _doc(name: str, formula: str) -> str:
    """The docstring of a primitive of this module: SciPy's function and the derivative."""
    return (
        f"Differentiable :func:`scipy.special.{name}`, on plain or traced values.\n\n"
        f"Derivative: {formula}\n"
    )


def _scipy(name: str, formula: str) -> dict:
    """The kit's keywords (for :func:`~adfun.numpy._declare.unary` and ``binary``) that
    export a primitive ``special.<name>`` under SciPy's name with its docstring."""
    return {"explain": formula, "public": name, "doc": _doc(name, formula)}


# --- complex arguments --------------------------------------------------------------------
#
# Where SciPy defines a function for complex arguments (``erf``, ``gamma``, ``jv`` in
# ``z``...), adfun differentiates it there with HIPS autograd's and JAX's convention (see
# :mod:`adfun.numpy._complex`): the reverse rule of a holomorphic function is
# ``g * f'(z)``, the forward rule ``f'(z) * t``, so the real formulas serve as they are,
# and each such function declares a ``complex_domain`` (away from its branch cuts and
# poles) where the rule-table tests check it.  Where SciPy has no complex loop, the
# function refuses complex arguments with a ``TypeError`` naming it (``_real_only``).

#: What to call instead, for a complex argument of a function SciPy defines on reals only.
_COMPLEX_ALTERNATIVES = {
    "gammaln": " (loggamma is defined for complex values)",
    "polygamma": " (digamma is defined for complex values)",
    "i0": " (iv(0, z) is defined for complex z)",
    "i1": " (iv(1, z) is defined for complex z)",
    "i0e": " (ive(0, z) is defined for complex z)",
    "i1e": " (ive(1, z) is defined for complex z)",
    "j0": " (jv(0, z) is defined for complex z)",
    "j1": " (jv(1, z) is defined for complex z)",
    "y0": " (yv(0, z) is defined for complex z)",
    "y1": " (yv(1, z) is defined for complex z)",
    "yn": " (yv(n, z) is defined for complex z)",
    "expit": " (write 1 / (1 + exp(-z)) with adfun.numpy)",
    "cosm1": " (write cos(z) - 1 with adfun.numpy)",
}


def _complex_argument_error(name: str, argument: str, value: Any) -> TypeError:
    """The ``TypeError`` for a complex ``argument`` of ``scipy.special.<name>``, which
    SciPy defines for real values only."""
    dtype = getattr(value, "dtype", None) or type(value).__name__
    return TypeError(
        f"adfun.scipy.special.{name}: argument {argument} is complex ({dtype}), but SciPy "
        f"defines {name} for real {argument} only{_COMPLEX_ALTERNATIVES.get(name, '')}; pass "
        f"real values (for a complex z, write the function of np.real(z) and np.imag(z) "
        f"that you mean)"
    )


def _holds_complex(arg: Any) -> bool:
    """Whether ``arg`` (an array, traced value, number or nested list) is complex."""
    dtype = getattr(arg, "dtype", None)
    if dtype is not None:
        return np.dtype(dtype).kind == "c"
    if isinstance(arg, (list, tuple)):
        return any(_holds_complex(item) for item in arg)
    return isinstance(arg, complex)


def _real_only(entry: Any, arguments: tuple) -> Any:
    """The public function ``entry``, with a clear ``TypeError`` for complex arguments.

    ``arguments`` names the positional arguments (``None`` for one SciPy accepts complex
    values for).  SciPy's own error (a ufunc's "not supported for the input types", raised
    on plain values or while a traced call computes its value) is replaced, after the
    fact, when a named argument is complex, so real calls cost one frame more.  The
    guarded function takes ``entry``'s place in the rule table and as the override of the
    SciPy function.
    """
    name = entry.__name__

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return entry(*args, **kwargs)
        except TypeError:
            for arg, argument in zip(args, arguments):
                if argument is not None and _holds_complex(arg):
                    raise _complex_argument_error(name, argument, arg) from None
            raise

    functools.update_wrapper(guarded, entry)
    primitive_ = entry.primitive
    REGISTRY[primitive_.name] = guarded
    NUMPY_OVERRIDES[getattr(sp, name)] = guarded
    return guarded


def _complex_box(real_part: tuple, imag_part: tuple, *, imag_magnitude: bool = False) -> Any:
    """Complex arrays of a given shape with real and imaginary parts drawn from separate
    ranges (``|Im|`` from ``imag_part`` with a random sign when ``imag_magnitude``: away
    from the real axis, where branch cuts and poles lie)."""

    def examples(draw: Any, st: Any, hnp: Any, shape: tuple) -> np.ndarray:
        from adfun.numpy._examples import array

        x = array(draw, st, hnp, real_part, shape=shape)
        y = array(draw, st, hnp, imag_part, shape=shape, magnitude=imag_magnitude)
        return np.asarray(x + 1j * y)

    return examples


def _complex_domain(*boxes: Any) -> Domain:
    """The complex domain of an elementwise function: one box (see :func:`_complex_box`)
    per argument, with shapes that broadcast together."""

    def examples(draw: Any, st: Any, hnp: Any) -> tuple:
        shapes = draw(
            hnp.mutually_broadcastable_shapes(
                num_shapes=len(boxes), min_dims=0, max_dims=3, max_side=3
            )
        ).input_shapes
        return tuple(box(draw, st, hnp, shape) for box, shape in zip(boxes, shapes)), {}

    return Domain(examples=examples)


#: Away from the real axis (where the poles of gamma and the cuts of exp1, expi, spence
#: and the Bessel functions lie).
_OFF_AXIS = _complex_domain(_complex_box((-3.0, 3.0), (0.3, 3.0), imag_magnitude=True))


# --- error functions and the normal distribution ----------------------------------------

erf = unary(
    "special.erf",
    sp.erf,
    lambda ans, x: (2.0 / _SQRT_PI) * exp(-x * x),
    Domain(ranges=((-3.0, 3.0),)),
    complex_domain=_COMPLEX_ENTIRE,
    **_scipy("erf", "``2 / sqrt(pi) * exp(-x**2)``."),
)
erfc = unary(
    "special.erfc",
    sp.erfc,
    lambda ans, x: (-2.0 / _SQRT_PI) * exp(-x * x),
    Domain(ranges=((-3.0, 3.0),)),
    complex_domain=_COMPLEX_ENTIRE,
    **_scipy("erfc", "``-2 / sqrt(pi) * exp(-x**2)``."),
)
erfcx = unary(
    "special.erfcx",
    sp.erfcx,
    lambda ans, x: 2.0 * x * ans - 2.0 / _SQRT_PI,
    Domain(ranges=((-3.0, 3.0),)),
    complex_domain=_COMPLEX_ENTIRE,
    **_scipy("erfcx", "``2 x erfcx(x) - 2 / sqrt(pi)``."),
)
erfinv = unary(
    "special.erfinv",
    sp.erfinv,
    lambda ans, x: (_SQRT_PI / 2.0) * exp(ans * ans),
    Domain(ranges=((-0.9, 0.9),)),
    **_scipy("erfinv", "``sqrt(pi) / 2 * exp(erfinv(x)**2)``."),
)
erfinv = _real_only(erfinv, ("x",))
erfcinv = unary(
    "special.erfcinv",
    sp.erfcinv,
    lambda ans, x: (-_SQRT_PI / 2.0) * exp(ans * ans),
    Domain(ranges=((0.1, 1.9),)),
    **_scipy("erfcinv", "``-sqrt(pi) / 2 * exp(erfcinv(x)**2)``."),
)
erfcinv = _real_only(erfcinv, ("x",))
ndtr = unary(
    "special.ndtr",
    sp.ndtr,
    lambda ans, x: exp(-0.5 * x * x) / _SQRT_2PI,
    Domain(ranges=((-4.0, 4.0),)),
    complex_domain=Domain(ranges=((-3.0, 3.0),)),
    **_scipy("ndtr", "the standard normal density ``exp(-x**2 / 2) / sqrt(2 pi)``."),
)
log_ndtr = unary(
    "special.log_ndtr",
    sp.log_ndtr,
    lambda ans, x: exp(-0.5 * x * x - ans) / _SQRT_2PI,
    Domain(ranges=((-6.0, 4.0),)),
    complex_domain=_complex_domain(_complex_box((-2.0, 3.0), (-1.2, 1.2))),
    **_scipy(
        "log_ndtr",
        "``pdf(x) / ndtr(x)``, computed as ``exp(-x**2/2 - "
        "log_ndtr(x)) / sqrt(2 pi)`` (stable in the far left "
        "tail).",
    ),
)
ndtri = unary(
    "special.ndtri",
    sp.ndtri,
    lambda ans, x: _SQRT_2PI * exp(0.5 * ans * ans),
    Domain(ranges=((0.05, 0.95),)),
    **_scipy("ndtri", "``sqrt(2 pi) * exp(ndtri(x)**2 / 2)``."),
)
ndtri = _real_only(ndtri, ("x",))

# --- logistic --------------------------------------------------------------------------

expit = unary(
    "special.expit",
    sp.expit,
    lambda ans, x: ans * (1.0 - ans),
    Domain(ranges=((-4.0, 4.0),)),
    **_scipy("expit", "``expit(x) * (1 - expit(x))``."),
)
expit = _real_only(expit, ("x",))
logit = unary(
    "special.logit",
    sp.logit,
    lambda ans, x: 1.0 / (x * (1.0 - x)),
    Domain(ranges=((0.05, 0.95),)),
    **_scipy("logit", "``1 / (x (1 - x))``."),
)
logit = _real_only(logit, ("x",))
log_expit = unary(
    "special.log_expit",
    sp.log_expit,
    lambda ans, x: expit(-x),
    Domain(ranges=((-4.0, 4.0),)),
    **_scipy("log_expit", "``expit(-x)``."),
)
log_expit = _real_only(log_expit, ("x",))

# --- logarithms and exponentials -----------------------------------------------------------

log1p = unary(
    "special.log1p",
    sp.log1p,
    lambda ans, x: 1.0 / (1.0 + x),
    Domain(ranges=((-0.8, 3.0),)),
    complex_domain=_complex_domain(_complex_box((-0.8, 3.0), (-3.0, 3.0))),
    **_scipy("log1p", "``1 / (1 + x)``."),
)
expm1 = unary(
    "special.expm1",
    sp.expm1,
    lambda ans, x: ans + 1.0,
    Domain(ranges=((-3.0, 3.0),)),
    complex_domain=Domain(ranges=((-3.0, 3.0),)),
    **_scipy("expm1", "``exp(x)``."),
)
entr = unary(
    "special.entr",
    sp.entr,
    lambda ans, x: -(log(x) + 1.0),
    Domain(ranges=((0.1, 3.0),)),
    **_scipy("entr", "``-(log(x) + 1)``."),
)
entr = _real_only(entr, ("x",))

# --- gamma family ------------------------------------------------------------------------

gammaln = unary(
    "special.gammaln",
    sp.gammaln,
    lambda ans, x: digamma(x),
    Domain(ranges=((0.2, 5.0),)),
    **_scipy("gammaln", "``digamma(x)``."),
)
gammaln = _real_only(gammaln, ("x",))
loggamma = unary(
    "special.loggamma",
    sp.loggamma,
    lambda ans, x: digamma(x),
    Domain(ranges=((0.2, 5.0),)),
    complex_domain=_OFF_AXIS,
    **_scipy(
        "loggamma",
        "``digamma(x)`` (the principal branch for complex ``x``: the cut is the negative "
        "real axis).",
    ),
)
gamma = unary(
    "special.gamma",
    sp.gamma,
    lambda ans, x: ans * digamma(x),
    Domain(ranges=((0.2, 4.0),)),
    complex_domain=_OFF_AXIS,
    **_scipy("gamma", "``gamma(x) * digamma(x)``."),
)
rgamma = unary(
    "special.rgamma",
    sp.rgamma,
    lambda ans, x: -ans * digamma(x),
    Domain(ranges=((0.2, 4.0),)),
    complex_domain=_OFF_AXIS,
    **_scipy("rgamma", "``-digamma(x) / gamma(x)``."),
)
digamma: Callable[..., Any] = unary(
    "special.digamma",
    sp.digamma,
    lambda ans, x: _polygamma_any(1, x),
    Domain(ranges=((0.2, 5.0),)),
    complex_domain=_OFF_AXIS,
    **_scipy("digamma", "``polygamma(1, x)`` (the trigamma function)."),
)
psi = digamma


def _complex_polygamma_impl(z: Any, order: int = 1) -> Any:
    return complex_polygamma(order, z)


def _complex_polygamma_vjp(g: Any, ans: Any, z: Any, order: int = 1) -> Any:
    return g * _complex_polygamma(order + 1, z)


#: ``polygamma(order, z)`` (``order >= 1``) of complex ``z``, which SciPy does not
#: provide: the derivatives of ``gamma``, ``rgamma`` and ``digamma`` at complex values.
#: Holomorphic, so both rules multiply by the next order.
_COMPLEX_POLYGAMMA = primitive(
    "special.complex_polygamma",
    _complex_polygamma_impl,
    (_complex_polygamma_vjp,),
    (_complex_polygamma_vjp,),
    batch=elementwise,
)


def _complex_polygamma(order: int, z: Any) -> Any:
    if type(z) is not Tracer:
        return complex_polygamma(order, z)
    return bind_unary(_COMPLEX_POLYGAMMA, z, Params(order=order))


def _polygamma_any(order: int, x: Any) -> Any:
    """``polygamma(order, x)``: SciPy's for real ``x``, adfun's series for complex ``x``."""
    return _complex_polygamma(order, x) if is_complex(x) else polygamma(order, x)


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


polygamma: Callable[..., Any] = binary(
    "special.polygamma",
    sp.polygamma,
    (None, _polygamma_x),
    (None, _polygamma_tangent_x),
    Domain(examples=_order_examples([0, 1, 2], 0.3, 4.0)),
    **_scipy("polygamma", "``polygamma(n + 1, x)`` for ``x``; ``n`` is an integer order."),
)
polygamma = _real_only(polygamma, ("n", "x"))


def _beta_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(g * ans * (digamma(a) - digamma(a + b)), a)


def _beta_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(g * ans * (digamma(b) - digamma(a + b)), b)


def _beta_tangent_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return t * ans * (digamma(a) - digamma(a + b))


def _beta_tangent_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return t * ans * (digamma(b) - digamma(a + b))


_POSITIVE_PAIR = Domain(ranges=((0.3, 4.0), (0.3, 4.0)))

beta = binary(
    "special.beta",
    sp.beta,
    (_beta_a, _beta_b),
    (_beta_tangent_a, _beta_tangent_b),
    _POSITIVE_PAIR,
    **_scipy(
        "beta", "``beta(a, b) (digamma(a) - digamma(a + b))`` for ``a``, symmetrically ``b``."
    ),
)
beta = _real_only(beta, ("a", "b"))


def _betaln_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(g * (digamma(a) - digamma(a + b)), a)


def _betaln_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(g * (digamma(b) - digamma(a + b)), b)


def _betaln_tangent_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return t * (digamma(a) - digamma(a + b))


def _betaln_tangent_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return t * (digamma(b) - digamma(a + b))


betaln = binary(
    "special.betaln",
    sp.betaln,
    (_betaln_a, _betaln_b),
    (_betaln_tangent_a, _betaln_tangent_b),
    _POSITIVE_PAIR,
    **_scipy("betaln", "``digamma(a) - digamma(a + b)`` for ``a``, symmetrically ``b``."),
)
betaln = _real_only(betaln, ("a", "b"))


def _gammainc_slope(a: Any, x: Any) -> Any:
    return exp((a - 1.0) * log(x) - x - gammaln(a))


def _no_third_order(name: str, shapes: str) -> NotImplementedError:
    return NotImplementedError(
        f"adfun.scipy.special.{name}: derivatives of third order with respect to {shapes} "
        f"are not implemented (first and second order are)"
    )


def _gammainc_shape_impl(a: Any, x: Any, order: int = 1) -> Any:
    return gammainc_shape_derivatives(a, x)[order - 1]


def _gammainc_shape_slope(a: Any, x: Any, order: int) -> Any:
    """``d/dx`` of ``d^order P / da^order``: the density's derivative in ``a``."""
    score = log(x) - digamma(a)
    factor = score if order == 1 else score * score - polygamma(1, a)
    return _gammainc_slope(a, x) * factor


def _gammainc_shape_a(g: Any, ans: Any, a: Any, x: Any, order: int = 1) -> Any:
    if order >= 2:
        raise _no_third_order("gammainc", "a")
    return unbroadcast(g * _gammainc_shape(a, x, order + 1), a)


def _gammainc_shape_x(g: Any, ans: Any, a: Any, x: Any, order: int = 1) -> Any:
    return unbroadcast(g * _gammainc_shape_slope(a, x, order), x)


def _gammainc_shape_tangent_a(t: Any, ans: Any, a: Any, x: Any, order: int = 1) -> Any:
    if order >= 2:
        raise _no_third_order("gammainc", "a")
    return t * _gammainc_shape(a, x, order + 1)


def _gammainc_shape_tangent_x(t: Any, ans: Any, a: Any, x: Any, order: int = 1) -> Any:
    return t * _gammainc_shape_slope(a, x, order)


#: ``d^order gammainc(a, x) / da^order`` (``order`` 1 or 2), computed by
#: :func:`adfun.scipy._incomplete.gammainc_shape_derivatives`.
_GAMMAINC_SHAPE = primitive(
    "special.gammainc_shape",
    _gammainc_shape_impl,
    (_gammainc_shape_a, _gammainc_shape_x),
    (_gammainc_shape_tangent_a, _gammainc_shape_tangent_x),
    batch=elementwise,
)


def _gammainc_shape(a: Any, x: Any, order: int) -> Any:
    if not any_traced((a, x)):
        return _gammainc_shape_impl(a, x, order)
    return bind(_GAMMAINC_SHAPE, (a, x), Params(order=order))


def _gammainc_a(g: Any, ans: Any, a: Any, x: Any) -> Any:
    return unbroadcast(g * _gammainc_shape(a, x, 1), a)


def _gammainc_tangent_a(t: Any, ans: Any, a: Any, x: Any) -> Any:
    return t * _gammainc_shape(a, x, 1)


def _gammaincc_a(g: Any, ans: Any, a: Any, x: Any) -> Any:
    return unbroadcast(-g * _gammainc_shape(a, x, 1), a)


def _gammaincc_tangent_a(t: Any, ans: Any, a: Any, x: Any) -> Any:
    return -t * _gammainc_shape(a, x, 1)


def _gammainc_x(g: Any, ans: Any, a: Any, x: Any) -> Any:
    return unbroadcast(g * _gammainc_slope(a, x), x)


def _gammainc_tangent_x(t: Any, ans: Any, a: Any, x: Any) -> Any:
    return t * _gammainc_slope(a, x)


def _gammaincc_x(g: Any, ans: Any, a: Any, x: Any) -> Any:
    return unbroadcast(-g * _gammainc_slope(a, x), x)


def _gammaincc_tangent_x(t: Any, ans: Any, a: Any, x: Any) -> Any:
    return -t * _gammainc_slope(a, x)


_SHAPE_NOTE = (
    " for ``a``: no closed form; computed by differentiating the series / continued "
    "fraction exactly (forward mode on the expansion, about 1e-13 relative accuracy; "
    "first and second order)."
)

gammainc = binary(
    "special.gammainc",
    sp.gammainc,
    (_gammainc_a, _gammainc_x),
    (_gammainc_tangent_a, _gammainc_tangent_x),
    _POSITIVE_PAIR,
    **_scipy("gammainc", "``x**(a-1) exp(-x) / gamma(a)`` for ``x``;" + _SHAPE_NOTE),
)
gammainc = _real_only(gammainc, ("a", "x"))
gammaincc = binary(
    "special.gammaincc",
    sp.gammaincc,
    (_gammaincc_a, _gammaincc_x),
    (_gammaincc_tangent_a, _gammaincc_tangent_x),
    _POSITIVE_PAIR,
    **_scipy("gammaincc", "``-x**(a-1) exp(-x) / gamma(a)`` for ``x``;" + _SHAPE_NOTE),
)
gammaincc = _real_only(gammaincc, ("a", "x"))


_GAMMASGN = primitive("special.gammasgn", sp.gammasgn, (), (), nondiff=True, batch=elementwise)


@export(sp.gammasgn, primitive=_GAMMASGN, name="gammasgn")
def gammasgn(x: Any, /, **kwargs: Any) -> Any:
    """:func:`scipy.special.gammasgn`, the sign of the gamma function, on plain or traced values.

    The result is a constant for differentiation: the sign is piecewise constant (its
    derivative is 0 wherever it exists), so no derivative flows through it.  On traced
    values it still records a node, which a staged graph recomputes.

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.special import gamma, gammasgn
    >>> float(ad.grad(gammasgn)(-0.5))
    0.0
    >>> bool(ad.grad(lambda x: gammasgn(x) * gamma(x))(-0.5) == -ad.grad(gamma)(-0.5))
    True
    """
    if type(x) is Tracer:
        if kwargs:
            refuse_keywords("special.gammasgn", kwargs)
        return bind_unary(_GAMMASGN, x, EMPTY_PARAMS)
    return sp.gammasgn(x, **kwargs)


gammasgn = _real_only(gammasgn, ("x",))


def multigammaln(a: Any, d: int) -> Any:
    """Differentiable :func:`scipy.special.multigammaln`, the log multivariate gamma.

    ``d (d - 1) / 4 log(pi) + sum_{j=0}^{d-1} gammaln(a - j / 2)`` (a composite).
    An entry ``a <= (d - 1) / 2`` raises ``ValueError``, as SciPy does; under ``jit`` /
    ``trace``, where the graph is replayed on values not seen while tracing, it gives NaN.
    """
    if is_complex(a):
        raise _complex_argument_error("multigammaln", "a", a)
    if type(a) is not Tracer:
        return sp.multigammaln(a, d)
    d = int(d)
    staged = values_hidden(a)
    if not staged and np.any(full_value(a) <= 0.5 * (d - 1)):
        raise ValueError(
            f"adfun.scipy.special.multigammaln: every entry of a must exceed "
            f"(d - 1) / 2 = {0.5 * (d - 1)} for d = {d}"
        )
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


xlogy = binary(
    "special.xlogy",
    sp.xlogy,
    (_xlogy_x, _xlogy_y),
    (_xlogy_tangent_x, _xlogy_tangent_y),
    Domain(ranges=((-3.0, 3.0), (0.2, 4.0))),
    complex_domain=_complex_domain(
        _complex_box((-3.0, 3.0), (-3.0, 3.0)), _complex_box((0.2, 4.0), (-3.0, 3.0))
    ),
    **_scipy("xlogy", "``log(y)`` for ``x``, ``x / y`` for ``y``."),
)


def _xlog1py_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * log1p(y), x)


def _xlog1py_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * x / (1.0 + y), y)


def _xlog1py_tangent_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * log1p(y)


def _xlog1py_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * x / (1.0 + y)


xlog1py = binary(
    "special.xlog1py",
    sp.xlog1py,
    (_xlog1py_x, _xlog1py_y),
    (_xlog1py_tangent_x, _xlog1py_tangent_y),
    Domain(ranges=((-3.0, 3.0), (-0.7, 3.0))),
    complex_domain=_complex_domain(
        _complex_box((-3.0, 3.0), (-3.0, 3.0)), _complex_box((-0.7, 3.0), (-3.0, 3.0))
    ),
    **_scipy("xlog1py", "``log1p(y)`` for ``x``, ``x / (1 + y)`` for ``y``."),
)


def _stdtr_slope(df: Any, t: Any) -> Any:
    """Student's t density ``(1 + t**2/df)**(-(df+1)/2) / (sqrt(df) B(1/2, df/2))``."""
    half = 0.5 * (df + 1.0)
    return exp(gammaln(half) - gammaln(0.5 * df) - 0.5 * log(df * np.pi) - half * log1p(t * t / df))


def _stdtr_df_slope(df: Any, t: Any) -> Any:
    """``d stdtr / d df``.

    ``stdtr(df, t) = 1/2 + sign(t)/2 I_w(1/2, df/2)`` with ``w = t**2 / (df + t**2)``, so
    the derivative is ``sign(t)/4 dI/db`` plus ``dI/dw dw/ddf``, which simplifies to
    ``-t/2 (df / (df + t**2))**(df/2 - 1) / (B(1/2, df/2) (df + t**2)**(3/2))``.  For
    ``|t| < 1e-6`` it is ``t`` times the derivative of the density at 0 in ``df`` (the
    error is ``O(t**3)``), which keeps the higher derivatives finite and right at 0.
    """
    small = less(absolute(t), 1e-6)
    t_safe = where(small, 1.0, t)
    half = 0.5 * df
    spread = df + t_safe * t_safe
    shape_part = 0.25 * sign(t_safe) * _betainc_shape(0.5, half, t_safe * t_safe / spread, 0, 1)
    point_part = (
        -0.5
        * t_safe
        * exp((half - 1.0) * (log(df) - log(spread)) - betaln(0.5, half) - 1.5 * log(spread))
    )
    at_zero = _stdtr_slope(df, 0.0) * 0.5 * (digamma(half + 0.5) - digamma(half) - 1.0 / df)
    return where(small, t * at_zero, shape_part + point_part)


def _stdtr_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array, broadcast_arrays

    # |t| >= 0.1: SciPy's stdtr is accurate to only ~1e-11 near t = 0, which spoils
    # the finite differences there.
    df, t = broadcast_arrays(draw, st, hnp, ((0.5, 6.0), (0.1, 3.0)))
    signs = array(draw, st, hnp, (-1.0, 1.0), shape=t.shape)
    return (df, np.where(signs < 0, -t, t)), {}


def _stdtr_df(g: Any, ans: Any, df: Any, t: Any) -> Any:
    return unbroadcast(g * _stdtr_df_slope(df, t), df)


def _stdtr_tangent_df(t_dot: Any, ans: Any, df: Any, t: Any) -> Any:
    return t_dot * _stdtr_df_slope(df, t)


def _stdtr_t(g: Any, ans: Any, df: Any, t: Any) -> Any:
    return unbroadcast(g * _stdtr_slope(df, t), t)


def _stdtr_tangent_t(t_dot: Any, ans: Any, df: Any, t: Any) -> Any:
    return t_dot * _stdtr_slope(df, t)


stdtr = binary(
    "special.stdtr",
    sp.stdtr,
    (_stdtr_df, _stdtr_t),
    (_stdtr_tangent_df, _stdtr_tangent_t),
    Domain(examples=_stdtr_examples),
    **_scipy(
        "stdtr",
        "the t density for ``t``; for the degrees of freedom ``df``, through the "
        "derivative of ``betainc`` in its shape (no closed form; about 1e-13 relative "
        "accuracy, first and second order).",
    ),
)
stdtr = _real_only(stdtr, ("df", "t"))


def _betainc_slope(a: Any, b: Any, x: Any) -> Any:
    """The beta density ``x**(a-1) (1-x)**(b-1) / B(a, b)``."""
    return exp((a - 1.0) * log(x) + (b - 1.0) * log1p(-x) - betaln(a, b))


def _betainc_shape_impl(a: Any, b: Any, x: Any, da: int = 1, db: int = 0) -> Any:
    gradient, hessian = betainc_shape_derivatives(a, b, x)
    if da + db == 1:
        return gradient[0 if da else 1]
    row, column = {(2, 0): (0, 0), (1, 1): (0, 1), (0, 2): (1, 1)}[(da, db)]
    return hessian[row, column]


def _betainc_shape_slope(a: Any, b: Any, x: Any, da: int, db: int) -> Any:
    """``d/dx`` of ``d^(da+db) I / da^da db^db``: the density's derivatives in the shapes."""
    both = polygamma(1, a + b)
    score_a = log(x) - digamma(a) + digamma(a + b)
    score_b = log1p(-x) - digamma(b) + digamma(a + b)
    if (da, db) == (1, 0):
        factor = score_a
    elif (da, db) == (0, 1):
        factor = score_b
    elif (da, db) == (2, 0):
        factor = score_a * score_a + both - polygamma(1, a)
    elif (da, db) == (1, 1):
        factor = score_a * score_b + both
    else:
        factor = score_b * score_b + both - polygamma(1, b)
    return _betainc_slope(a, b, x) * factor


def _betainc_shape_rules(position: int) -> tuple:
    def higher(a: Any, b: Any, x: Any, da: int, db: int) -> Any:
        if da + db >= 2:
            raise _no_third_order("betainc", "a and b")
        return _betainc_shape(a, b, x, da + (position == 0), db + (position == 1))

    def vjp(g: Any, ans: Any, a: Any, b: Any, x: Any, da: int = 1, db: int = 0) -> Any:
        return unbroadcast(g * higher(a, b, x, da, db), (a, b)[position])

    def jvp(t: Any, ans: Any, a: Any, b: Any, x: Any, da: int = 1, db: int = 0) -> Any:
        return t * higher(a, b, x, da, db)

    return vjp, jvp


def _betainc_shape_x(g: Any, ans: Any, a: Any, b: Any, x: Any, da: int = 1, db: int = 0) -> Any:
    return unbroadcast(g * _betainc_shape_slope(a, b, x, da, db), x)


def _betainc_shape_tangent_x(
    t: Any, ans: Any, a: Any, b: Any, x: Any, da: int = 1, db: int = 0
) -> Any:
    return t * _betainc_shape_slope(a, b, x, da, db)


_BETAINC_SHAPE_A = _betainc_shape_rules(0)
_BETAINC_SHAPE_B = _betainc_shape_rules(1)

#: ``d^(da+db) betainc(a, b, x) / da^da db^db`` (``da + db`` 1 or 2), computed by
#: :func:`adfun.scipy._incomplete.betainc_shape_derivatives`.
_BETAINC_SHAPE = primitive(
    "special.betainc_shape",
    _betainc_shape_impl,
    (_BETAINC_SHAPE_A[0], _BETAINC_SHAPE_B[0], _betainc_shape_x),
    (_BETAINC_SHAPE_A[1], _BETAINC_SHAPE_B[1], _betainc_shape_tangent_x),
    batch=elementwise,
)


def _betainc_shape(a: Any, b: Any, x: Any, da: int, db: int) -> Any:
    if not any_traced((a, b, x)):
        return _betainc_shape_impl(a, b, x, da, db)
    return bind(_BETAINC_SHAPE, (a, b, x), Params(da=da, db=db))


def _incomplete_beta(name: str, sign_: float) -> Any:
    """``betainc`` or ``betaincc``: differentiable in ``a``, ``b`` and ``x``."""
    scipy_fun = getattr(sp, name)

    def vjp_a(g: Any, ans: Any, a: Any, b: Any, x: Any) -> Any:
        return unbroadcast(sign_ * g * _betainc_shape(a, b, x, 1, 0), a)

    def vjp_b(g: Any, ans: Any, a: Any, b: Any, x: Any) -> Any:
        return unbroadcast(sign_ * g * _betainc_shape(a, b, x, 0, 1), b)

    def vjp_x(g: Any, ans: Any, a: Any, b: Any, x: Any) -> Any:
        return unbroadcast(sign_ * g * _betainc_slope(a, b, x), x)

    def jvp_a(t: Any, ans: Any, a: Any, b: Any, x: Any) -> Any:
        return sign_ * t * _betainc_shape(a, b, x, 1, 0)

    def jvp_b(t: Any, ans: Any, a: Any, b: Any, x: Any) -> Any:
        return sign_ * t * _betainc_shape(a, b, x, 0, 1)

    def jvp_x(t: Any, ans: Any, a: Any, b: Any, x: Any) -> Any:
        return sign_ * t * _betainc_slope(a, b, x)

    prim = primitive(
        "special." + name,
        scipy_fun,
        (vjp_a, vjp_b, vjp_x),
        (jvp_a, jvp_b, jvp_x),
        domain=Domain(ranges=((0.5, 3.0), (0.5, 3.0), (0.1, 0.9))),
        batch=elementwise,
    )

    def fun(a: Any, b: Any, x: Any, /, **kwargs: Any) -> Any:
        if type(a) is Tracer or type(b) is Tracer or type(x) is Tracer:
            if kwargs:
                raise TypeError(
                    f"adfun.scipy.special.{name}: keyword arguments "
                    f"{sorted(kwargs)} are not supported on traced values"
                )
            return bind(prim, (a, b, x), EMPTY_PARAMS)
        return scipy_fun(a, b, x, **kwargs)

    fun.__doc__ = _doc(
        name,
        f"``{'' if sign_ > 0 else '-'}x**(a-1) (1-x)**(b-1) / beta(a, b)`` for ``x``; "
        f"for ``a`` and ``b`` no closed form: computed by differentiating the continued "
        f"fraction exactly (forward mode on the expansion, about 1e-13 relative accuracy; "
        f"first and second order).",
    )
    return _real_only(export(scipy_fun, primitive=prim, name=name)(fun), ("a", "b", "x"))


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


rel_entr = binary(
    "special.rel_entr",
    sp.rel_entr,
    (_rel_entr_x, _entropy_y),
    (_rel_entr_tangent_x, _entropy_tangent_y),
    _POSITIVE_PAIR,
    **_scipy("rel_entr", "``log(x / y) + 1`` for ``x``, ``-x / y`` for ``y`` (``x, y > 0``)."),
)
rel_entr = _real_only(rel_entr, ("x", "y"))
kl_div = binary(
    "special.kl_div",
    sp.kl_div,
    (_kl_div_x, _kl_div_y),
    (_kl_div_tangent_x, _kl_div_tangent_y),
    _POSITIVE_PAIR,
    **_scipy("kl_div", "``log(x / y)`` for ``x``, ``1 - x / y`` for ``y``."),
)
kl_div = _real_only(kl_div, ("x", "y"))

erfi = unary(
    "special.erfi",
    sp.erfi,
    lambda ans, x: (2.0 / _SQRT_PI) * exp(x * x),
    Domain(ranges=((-2.0, 2.0),)),
    complex_domain=_COMPLEX_ENTIRE,
    **_scipy("erfi", "``2 / sqrt(pi) * exp(x**2)``."),
)
dawsn = unary(
    "special.dawsn",
    sp.dawsn,
    lambda ans, x: 1.0 - 2.0 * x * ans,
    Domain(ranges=((-3.0, 3.0),)),
    complex_domain=_COMPLEX_ENTIRE,
    **_scipy("dawsn", "``1 - 2 x dawsn(x)``."),
)
wofz = unary(
    "special.wofz",
    sp.wofz,
    lambda ans, x: (2j / _SQRT_PI) - 2.0 * x * ans,
    Domain(ranges=((-3.0, 3.0),)),
    complex_domain=_COMPLEX_ENTIRE,
    **_scipy("wofz", "``2i / sqrt(pi) - 2 z wofz(z)`` (complex even for real ``z``)."),
)
exp1 = unary(
    "special.exp1",
    sp.exp1,
    lambda ans, x: -exp(-x) / x,
    Domain(ranges=((0.2, 4.0),)),
    complex_domain=_OFF_AXIS,
    **_scipy("exp1", "``-exp(-x) / x``."),
)
expi = unary(
    "special.expi",
    sp.expi,
    lambda ans, x: exp(x) / x,
    Domain(ranges=((0.2, 4.0),), magnitude=True),
    complex_domain=_OFF_AXIS,
    **_scipy("expi", "``exp(x) / x``."),
)
wrightomega = unary(
    "special.wrightomega",
    sp.wrightomega,
    lambda ans, x: ans / (1.0 + ans),
    Domain(ranges=((-3.0, 3.0),)),
    complex_domain=Domain(ranges=((-2.5, 2.5),)),
    **_scipy("wrightomega", "``w / (1 + w)`` with ``w = wrightomega(x)``."),
)
cosm1 = unary(
    "special.cosm1",
    sp.cosm1,
    lambda ans, x: -sin(x),
    Domain(ranges=((-3.0, 3.0),)),
    **_scipy("cosm1", "``-sin(x)``."),
)
cosm1 = _real_only(cosm1, ("x",))


def _spence_derivative(ans: Any, z: Any) -> Any:
    # log(z) / (1 - z) is 0/0 at z = 1; near it use its Taylor series in u = z - 1,
    # -1 + u/2 - u**2/3, which also gives the right higher derivatives there.
    u = z - 1.0
    near_one = less(absolute(u), 1e-4)
    safe = where(near_one, 2.0, z)
    return where(near_one, -1.0 + u * (0.5 - u / 3.0), log(safe) / (1.0 - safe))


spence = unary(
    "special.spence",
    sp.spence,
    _spence_derivative,
    Domain(ranges=((0.2, 3.0),)),
    complex_domain=_OFF_AXIS,
    **_scipy("spence", "``log(z) / (1 - z)`` (``-1`` at ``z = 1``)."),
)

# --- Bessel functions -----------------------------------------------------------------------


def _order_rule(name: str, derivative: Any) -> tuple:
    def vjp(g: Any, ans: Any, v: Any, x: Any) -> Any:
        return unbroadcast(g * derivative(ans, v, x), x)

    def jvp(t: Any, ans: Any, v: Any, x: Any) -> Any:
        return t * derivative(ans, v, x)

    return (None, vjp), (None, jvp)


def _complex_order_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """A real order and complex arguments off the real axis (away from the branch cut
    on the negative axis) and off the imaginary axis (where ``ive`` has a kink)."""
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (0.3, 4.0), magnitude=True)
    y = array(draw, st, hnp, (0.3, 3.0), shape=x.shape, magnitude=True)
    return (np.asarray(draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]))), np.asarray(x + 1j * y)), {}


def _bessel(name: str, derivative: Any, low: float, formula: str, rules: Any = None) -> Any:
    """A Bessel function ``f(v, x)`` of order ``v`` (not differentiable in it), defined
    for complex ``x`` too; ``rules``: ``(vjps, jvps)`` instead of ``derivative``'s."""
    vjps, jvps = rules or _order_rule(name, derivative)
    domain = Domain(examples=_order_examples([0.0, 0.5, 1.0, 2.0], low, 4.0))
    entry = binary(
        "special." + name,
        getattr(sp, name),
        vjps,
        jvps,
        domain,
        complex_domain=Domain(examples=_complex_order_examples),
        **_scipy(
            name,
            formula + " ``v`` is an order: not differentiable (differentiating with respect to it "
            "raises ``NotImplementedError``).",
        ),
    )
    return _real_only(entry, ("v", None))


jv: Callable[..., Any] = _bessel(
    "jv",
    lambda ans, v, x: 0.5 * (jv(v - 1.0, x) - jv(v + 1.0, x)),
    0.3,
    "``(jv(v - 1, x) - jv(v + 1, x)) / 2`` for ``x``.",
)
yv: Callable[..., Any] = _bessel(
    "yv",
    lambda ans, v, x: 0.5 * (yv(v - 1.0, x) - yv(v + 1.0, x)),
    0.5,
    "``(yv(v - 1, x) - yv(v + 1, x)) / 2`` for ``x``.",
)
iv: Callable[..., Any] = _bessel(
    "iv",
    lambda ans, v, x: 0.5 * (iv(v - 1.0, x) + iv(v + 1.0, x)),
    0.3,
    "``(iv(v - 1, x) + iv(v + 1, x)) / 2`` for ``x``.",
)


def _ive_parts(ans: Any, v: Any, x: Any) -> tuple:
    """``ive = iv(v, x) exp(-|Re x|)`` changes by ``A dx + B conj(dx)``: ``(A, B)``.

    ``B`` (the derivative of ``|Re x|``, which is not holomorphic) is ``None`` for real
    ``x``, where the two terms are one: ``(iv(v-1) + iv(v+1)) exp(-|x|) / 2 - sign(x)
    ive``.
    """
    slope = 0.5 * (ive(v - 1.0, x) + ive(v + 1.0, x))
    if not is_complex(x):
        return slope - sign(x) * ans, None
    kink = -0.5 * sign(real(x)) * ans
    return slope + kink, kink


def _ive_x(g: Any, ans: Any, v: Any, x: Any) -> Any:
    holomorphic, kink = _ive_parts(ans, v, x)
    if kink is None:
        return unbroadcast(g * holomorphic, x)
    return unbroadcast(g * holomorphic + conjugate(g * kink), x)


def _ive_tangent_x(t: Any, ans: Any, v: Any, x: Any) -> Any:
    holomorphic, kink = _ive_parts(ans, v, x)
    if kink is None:
        return t * holomorphic
    return t * holomorphic + kink * conjugate(t)


ive: Callable[..., Any] = _bessel(
    "ive",
    None,
    0.3,
    "``(ive(v - 1, x) + ive(v + 1, x)) / 2 - sign(x) ive(v, x)`` for real ``x``; for "
    "complex ``x``, where ``ive = iv exp(-|Re x|)`` is not holomorphic, the change is "
    "``(ive(v - 1, x) + ive(v + 1, x)) / 2 dx - sign(Re x) ive(v, x) dRe(x)``.",
    rules=((None, _ive_x), (None, _ive_tangent_x)),
)
kv: Callable[..., Any] = _bessel(
    "kv",
    lambda ans, v, x: -0.5 * (kv(v - 1.0, x) + kv(v + 1.0, x)),
    0.3,
    "``-(kv(v - 1, x) + kv(v + 1, x)) / 2`` for ``x``.",
)

#: :func:`scipy.special.jn` is SciPy's other name for ``jv`` (the same ufunc): the order
#: ``n`` is not differentiable, ``x`` is.
kve: Callable[..., Any] = _bessel(
    "kve",
    lambda ans, v, x: ans - 0.5 * (kve(v - 1.0, x) + kve(v + 1.0, x)),
    0.3,
    "``kve(v, x) - (kve(v - 1, x) + kve(v + 1, x)) / 2`` for ``x``.",
)
hankel1: Callable[..., Any] = _bessel(
    "hankel1",
    lambda ans, v, x: 0.5 * (hankel1(v - 1.0, x) - hankel1(v + 1.0, x)),
    0.3,
    "``(hankel1(v - 1, x) - hankel1(v + 1, x)) / 2`` for ``x``.",
)
hankel2: Callable[..., Any] = _bessel(
    "hankel2",
    lambda ans, v, x: 0.5 * (hankel2(v - 1.0, x) - hankel2(v + 1.0, x)),
    0.3,
    "``(hankel2(v - 1, x) - hankel2(v + 1, x)) / 2`` for ``x``.",
)
hankel1e: Callable[..., Any] = _bessel(
    "hankel1e",
    lambda ans, v, x: 0.5 * (hankel1e(v - 1.0, x) - hankel1e(v + 1.0, x)) - 1j * ans,
    0.3,
    "``(hankel1e(v - 1, x) - hankel1e(v + 1, x)) / 2 - i hankel1e(v, x)`` for ``x``.",
)
hankel2e: Callable[..., Any] = _bessel(
    "hankel2e",
    lambda ans, v, x: 0.5 * (hankel2e(v - 1.0, x) - hankel2e(v + 1.0, x)) + 1j * ans,
    0.3,
    "``(hankel2e(v - 1, x) - hankel2e(v + 1, x)) / 2 + i hankel2e(v, x)`` for ``x``.",
)

jn = jv


def _spherical_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (n, z), _ = _order_examples([0, 1, 2, 3], 0.3, 4.0)(draw, st, hnp)
    return (n, z), {"derivative": draw(st.booleans())}


def _complex_spherical_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    (_, z), _ = _complex_order_examples(draw, st, hnp)
    n = np.asarray(draw(st.sampled_from([0, 1, 2, 3])))
    return (n, z), {"derivative": draw(st.booleans())}


def _spherical_bessel(name: str, shift: float) -> Any:
    """``spherical_jn`` and ``spherical_yn`` (``shift = -1``), ``spherical_in`` and
    ``spherical_kn`` (``shift = 1``): differentiable in ``z``, for real or complex ``z``.

    The derivative of ``f`` is SciPy's ``f(n, z, derivative=True)``; that of ``f'``
    follows from the (modified) spherical Bessel equation,
    ``f'' = -2 f' / z + (n (n + 1) / z**2 + shift) f``.
    """
    scipy_fun = getattr(sp, name)

    def impl(n: Any, z: Any, derivative: bool = False) -> Any:
        return scipy_fun(n, z, derivative)

    def slope(ans: Any, n: Any, z: Any, derivative: bool) -> Any:
        if not derivative:
            return public(n, z, True)
        return -2.0 * ans / z + (n * (n + 1) / (z * z) + shift) * public(n, z, False)

    def vjp_z(g: Any, ans: Any, n: Any, z: Any, derivative: bool = False) -> Any:
        return unbroadcast(g * slope(ans, n, z, derivative), z)

    def jvp_z(t: Any, ans: Any, n: Any, z: Any, derivative: bool = False) -> Any:
        return t * slope(ans, n, z, derivative)

    prim = primitive(
        "special." + name,
        impl,
        (None, vjp_z),
        (None, jvp_z),
        domain=Domain(examples=_spherical_examples),
        batch=elementwise,
        complex_domain=Domain(examples=_complex_spherical_examples),
    )

    def fun(n: Any, z: Any, derivative: bool = False) -> Any:
        if type(n) is Tracer or type(z) is Tracer:
            return bind(prim, (n, z), Params(derivative=bool(derivative)))
        return scipy_fun(n, z, derivative)

    fun.__doc__ = _doc(
        name,
        f"``{name}(n, z, derivative=True)`` for ``z``; of that, ``-2 f' / z + (n (n + 1) / "
        f"z**2 {'-' if shift < 0 else '+'} 1) f`` (the spherical Bessel equation).  ``n`` "
        f"is an integer order: not differentiable (differentiating with respect to it "
        f"raises ``NotImplementedError``).",
    )
    public = _real_only(export(scipy_fun, primitive=prim, name=name)(fun), ("n", None))
    return public


spherical_jn = _spherical_bessel("spherical_jn", -1.0)
spherical_yn = _spherical_bessel("spherical_yn", -1.0)
spherical_in = _spherical_bessel("spherical_in", 1.0)
spherical_kn = _spherical_bessel("spherical_kn", 1.0)


def _yn_derivative(ans: Any, n: Any, x: Any) -> Any:
    return 0.5 * (yn(n - 1, x) - yn(n + 1, x))


def _yn_x(g: Any, ans: Any, n: Any, x: Any) -> Any:
    return unbroadcast(g * _yn_derivative(ans, n, x), x)


def _yn_tangent_x(t: Any, ans: Any, n: Any, x: Any) -> Any:
    return t * _yn_derivative(ans, n, x)


yn: Callable[..., Any] = binary(
    "special.yn",
    sp.yn,
    (None, _yn_x),
    (None, _yn_tangent_x),
    Domain(examples=_order_examples([0, 1, 2, 3], 0.5, 4.0)),
    **_scipy(
        "yn",
        "``(yn(n - 1, x) - yn(n + 1, x)) / 2`` for ``x``.  ``n`` is an integer order: not "
        "differentiable (differentiating with respect to it raises ``NotImplementedError``).",
    ),
)
yn = _real_only(yn, ("n", "x"))

j0 = unary(
    "special.j0",
    sp.j0,
    lambda ans, x: -j1(x),
    Domain(ranges=((-6.0, 6.0),)),
    **_scipy("j0", "``-j1(x)``."),
)
j0 = _real_only(j0, ("x",))
j1: Callable[..., Any] = unary(
    "special.j1",
    sp.j1,
    lambda ans, x: 0.5 * (j0(x) - jv(2.0, x)),
    Domain(ranges=((-6.0, 6.0),)),
    **_scipy("j1", "``(j0(x) - jv(2, x)) / 2``."),
)
j1 = _real_only(j1, ("x",))
y0 = unary(
    "special.y0",
    sp.y0,
    lambda ans, x: -y1(x),
    Domain(ranges=((0.5, 6.0),)),
    **_scipy("y0", "``-y1(x)``."),
)
y0 = _real_only(y0, ("x",))
y1: Callable[..., Any] = unary(
    "special.y1",
    sp.y1,
    lambda ans, x: 0.5 * (y0(x) - yv(2.0, x)),
    Domain(ranges=((0.5, 6.0),)),
    **_scipy("y1", "``(y0(x) - yv(2, x)) / 2``."),
)
y1 = _real_only(y1, ("x",))
i0 = unary(
    "special.i0",
    sp.i0,
    lambda ans, x: i1(x),
    Domain(ranges=((-3.0, 3.0),)),
    **_scipy("i0", "``i1(x)``."),
)
i0 = _real_only(i0, ("x",))


def _i1_derivative(ans: Any, x: Any) -> Any:
    # SciPy's iv(2, x) is NaN for subnormal x; near 0 use i1'(x) = 1/2 + 3 x**2 / 16 + ...
    near_zero = less(absolute(x), 1e-6)
    safe = where(near_zero, 1.0, x)
    return where(near_zero, 0.5 + 0.1875 * x * x, 0.5 * (i0(safe) + iv(2.0, safe)))


i1: Callable[..., Any] = unary(
    "special.i1",
    sp.i1,
    _i1_derivative,
    Domain(ranges=((-3.0, 3.0),)),
    **_scipy("i1", "``(i0(x) + iv(2, x)) / 2``."),
)
i1 = _real_only(i1, ("x",))
i0e = unary(
    "special.i0e",
    sp.i0e,
    lambda ans, x: i1e(x) - sign(x) * ans,
    Domain(ranges=((0.2, 3.0),), magnitude=True),
    **_scipy("i0e", "``i1e(x) - sign(x) i0e(x)``."),
)
i0e = _real_only(i0e, ("x",))
i1e: Callable[..., Any] = unary(
    "special.i1e",
    sp.i1e,
    lambda ans, x: 0.5 * (i0e(x) + ive(2.0, x)) - sign(x) * ans,
    Domain(ranges=((0.2, 3.0),), magnitude=True),
    **_scipy("i1e", "``(i0e(x) + ive(2, x)) / 2 - sign(x) i1e(x)``."),
)
i1e = _real_only(i1e, ("x",))

# --- reductions along axes: logsumexp, softmax, log_softmax --------------------------------


def _kept(value: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    return value if keepdims else reshape(value, kept_shape(shape_of(x), axis))


def _logsumexp_impl(
    a: Any, b: Any, axis: Any = None, keepdims: bool = False, signed: bool = False
) -> Any:
    if signed:
        return sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)[0]
    return sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims)


def _logsumexp_weights(ans: Any, a: Any, b: Any, axis: Any, keepdims: bool, signed: bool) -> Any:
    """``d lse / d a = b exp(a - lse) / s`` with ``s`` the sign of the sum (a constant)."""
    weights = b * exp(a - _kept(ans, a, axis, keepdims))
    if signed:
        weights = weights * stop_gradient(sign(_sum(weights, axis=axis, keepdims=True)))
    return weights


def _logsumexp_a(
    g: Any, ans: Any, a: Any, b: Any, axis: Any = None, keepdims: bool = False, signed: bool = False
) -> Any:
    weights = _logsumexp_weights(ans, a, b, axis, keepdims, signed)
    return unbroadcast(_kept(g, a, axis, keepdims) * weights, a)


def _logsumexp_b(
    g: Any, ans: Any, a: Any, b: Any, axis: Any = None, keepdims: bool = False, signed: bool = False
) -> Any:
    weights = _logsumexp_weights(ans, a, 1.0, axis, keepdims, signed)
    if signed:
        weights = weights * stop_gradient(sign(_sum(b * weights, axis=axis, keepdims=True)))
    return unbroadcast(_kept(g, a, axis, keepdims) * weights, b)


def _logsumexp_tangent_a(
    t: Any, ans: Any, a: Any, b: Any, axis: Any = None, keepdims: bool = False, signed: bool = False
) -> Any:
    weights = _logsumexp_weights(ans, a, b, axis, keepdims, signed)
    return _sum(t * weights, axis=axis, keepdims=keepdims)


def _logsumexp_tangent_b(
    t: Any, ans: Any, a: Any, b: Any, axis: Any = None, keepdims: bool = False, signed: bool = False
) -> Any:
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


def _complex_logsumexp_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """Complex ``a`` and ``b`` whose terms ``b exp(a)`` all lie in the right half-plane:
    the sum stays away from 0 and from the cut of the logarithm."""
    from adfun.numpy._examples import array, axis_params

    a = array(draw, st, hnp, (-3.0, 3.0), min_dims=0)
    params = axis_params(draw, st, a.ndim)
    b = array(draw, st, hnp, (0.3, 2.0), shape=a.shape)
    a = a + 1j * array(draw, st, hnp, (-0.5, 0.5), shape=a.shape)
    b = b * (1.0 + 1j * array(draw, st, hnp, (-0.8, 0.8), shape=a.shape))
    return (np.asarray(a), np.asarray(b)), dict(params, signed=False)


def _logsumexp_sign_impl(
    a: Any, b: Any, axis: Any = None, keepdims: bool = False, signed: bool = True
) -> Any:
    return sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)[1]


#: The sign returned with ``return_sign=True``: a constant for differentiation.
_LOGSUMEXP_SIGN = primitive(
    "special.logsumexp_sign",
    _logsumexp_sign_impl,
    (),
    (),
    nondiff=True,
    batch=nonscalar_reduction,
)

_LOGSUMEXP = primitive(
    "special.logsumexp",
    _logsumexp_impl,
    (_logsumexp_a, _logsumexp_b),
    (_logsumexp_tangent_a, _logsumexp_tangent_b),
    domain=Domain(examples=_logsumexp_examples),
    batch=nonscalar_reduction,
    complex_domain=Domain(examples=_complex_logsumexp_examples),
)


@export(primitive=_LOGSUMEXP)
def logsumexp(
    a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, return_sign: bool = False
) -> Any:
    """Differentiable :func:`scipy.special.logsumexp`: ``log(sum(b * exp(a), axis))``.

    With ``return_sign=True`` returns ``(log|sum|, sign)``; the sign is a constant for
    real values, and for complex ones the phase ``sum / |sum|``, differentiated (both are
    computed from the complex logarithm of the sum).  Complex ``a`` and ``b`` give the
    principal complex logarithm, as SciPy's.

    Derivative: ``b * exp(a - logsumexp(a))`` (a softmax) for ``a``, ``exp(a - lse)`` for
    ``b`` (each divided by the sign of the sum when ``return_sign``).

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.special import logsumexp
    >>> ad.grad(logsumexp)(np.log(np.array([1.0, 3.0])))
    array([0.25, 0.75])
    """
    if not any_traced((a, b)):
        return sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    weights = 1.0 if b is None else b
    axes = normalize_axis(axis, ndim_of(a), "scipy.special.logsumexp")
    params = Params(axis=axes, keepdims=bool(keepdims), signed=bool(return_sign))
    if return_sign and (is_complex(a) or is_complex(weights)):
        # log|S| and S / |S| are the real part and the phase of the complex log S.
        complex_log = logsumexp(a, axis=axis, b=b, keepdims=keepdims)
        return real(complex_log), exp(1j * imag(complex_log))
    value = bind(_LOGSUMEXP, (a, weights), params)
    if not return_sign:
        return value
    return value, bind(_LOGSUMEXP_SIGN, (a, weights), params)


def _complex_softmax_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """Complex values with imaginary parts in (-0.5, 0.5): every ``exp(x)`` lies in the
    right half-plane, so the sum is away from 0 (and from the cut of its logarithm)."""
    (x,), params = _softmax_examples(draw, st, hnp)
    from adfun.numpy._examples import array

    return (np.asarray(x + 1j * array(draw, st, hnp, (-0.5, 0.5), shape=x.shape)),), params


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


_SOFTMAX = primitive(
    "special.softmax",
    _softmax_impl,
    (_softmax_vjp,),
    (_softmax_jvp,),
    domain=Domain(examples=_softmax_examples),
    batch=reduction,
    complex_domain=Domain(examples=_complex_softmax_examples),
)


@export(primitive=_SOFTMAX)
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


_LOG_SOFTMAX = primitive(
    "special.log_softmax",
    _log_softmax_impl,
    (_log_softmax_vjp,),
    (_log_softmax_jvp,),
    domain=Domain(examples=_softmax_examples),
    batch=reduction,
    complex_domain=Domain(examples=_complex_softmax_examples),
)


@export(primitive=_LOG_SOFTMAX)
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
    "beta",
    "betainc",
    "betaincc",
    "betaln",
    "cosm1",
    "dawsn",
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfcinv",
    "erfcx",
    "erfi",
    "erfinv",
    "exp1",
    "expi",
    "expit",
    "expm1",
    "gamma",
    "gammainc",
    "gammaincc",
    "gammaln",
    "gammasgn",
    "hankel1",
    "hankel1e",
    "hankel2",
    "hankel2e",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "iv",
    "ive",
    "j0",
    "j1",
    "jn",
    "jv",
    "kl_div",
    "kv",
    "kve",
    "log1p",
    "log_expit",
    "log_ndtr",
    "log_softmax",
    "loggamma",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "rel_entr",
    "rgamma",
    "softmax",
    "spence",
    "spherical_in",
    "spherical_jn",
    "spherical_kn",
    "spherical_yn",
    "stdtr",
    "wofz",
    "wrightomega",
    "xlog1py",
    "xlogy",
    "y0",
    "y1",
    "yn",
    "yv",
]
