"""More elementwise mathematics: inverse trigonometric and hyperbolic functions,
exponentials and logarithms in other bases, roots, angles and two-argument functions.

Every function here is a primitive declared with its reverse rule, forward rule and
test domain side by side (see :mod:`adfun.numpy._declare`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from adfun._engine.records import EMPTY_PARAMS
from adfun._engine.trace import Tracer, call_primitive, read_value
from adfun.numpy._axes import dtype_of
from adfun.numpy._batching import elementwise
from adfun.numpy._broadcast import unbroadcast
from adfun.numpy._complex import real
from adfun.numpy._declare import Domain, binary, export, primitive, unary
from adfun.numpy._elementwise import (
    _power_slope,
    absolute,
    cos,
    exp,
    log,
    negative,
    remainder,
    separated_complex_pair,
    sqrt,
)
from adfun.numpy._elementwise import power as pow  # noqa: A004, F401 - NumPy's alias
from adfun.numpy._nondiff import (
    equal,
    floor_divide,
    greater,
    isnan,
    less,
    logical_and,
    logical_not,
    logical_or,
    sign,
    trunc,
)
from adfun.numpy._selection import where
from adfun.numpy._shape import astype

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))
_ANY = Domain(ranges=((-3.0, 3.0),))
_UNIT = Domain(ranges=((-0.9, 0.9),))
_POSITIVE = Domain(ranges=((0.2, 4.0),))
_AWAY_FROM_ZERO = Domain(ranges=((0.2, 3.0),), magnitude=True)
#: Complex domains (real and imaginary parts drawn from the range): inside the unit
#: square, away from the branch cuts of the inverse functions; the first quadrant, away
#: from the cuts of the logarithms; anywhere, away from 0.
_COMPLEX_UNIT = Domain(ranges=((-0.9, 0.9),))
_COMPLEX_FIRST_QUADRANT = Domain(ranges=((0.2, 4.0),))
_COMPLEX_NONZERO = Domain(ranges=((-3.0, 3.0),), magnitude=True)

# --- trigonometric and hyperbolic ------------------------------------------------------

arcsin = unary(
    "arcsin",
    np.arcsin,
    lambda ans, x: 1.0 / sqrt(1.0 - x * x),
    _UNIT,
    "``1 / sqrt(1 - x**2)``.",
    complex_domain=_COMPLEX_UNIT,
)
arccos = unary(
    "arccos",
    np.arccos,
    lambda ans, x: -1.0 / sqrt(1.0 - x * x),
    _UNIT,
    "``-1 / sqrt(1 - x**2)``.",
    complex_domain=_COMPLEX_UNIT,
)
arctan = unary(
    "arctan",
    np.arctan,
    lambda ans, x: 1.0 / (1.0 + x * x),
    _ANY,
    "``1 / (1 + x**2)``.",
    complex_domain=_COMPLEX_UNIT,
)
sinh = unary("sinh", np.sinh, lambda ans, x: cosh(x), _ANY, "``cosh(x)``.", complex_domain=_ANY)
cosh: Callable[..., Any] = unary(
    "cosh", np.cosh, lambda ans, x: sinh(x), _ANY, "``sinh(x)``.", complex_domain=_ANY
)
arcsinh = unary(
    "arcsinh",
    np.arcsinh,
    lambda ans, x: 1.0 / sqrt(x * x + 1.0),
    _ANY,
    "``1 / sqrt(x**2 + 1)``.",
    complex_domain=_COMPLEX_UNIT,
)
arccosh = unary(
    "arccosh",
    np.arccosh,
    lambda ans, x: 1.0 / sqrt(x * x - 1.0),
    Domain(ranges=((1.2, 4.0),)),
    "``1 / sqrt(x**2 - 1)``.",
    complex_domain=Domain(ranges=((1.2, 4.0),)),
)
arctanh = unary(
    "arctanh",
    np.arctanh,
    lambda ans, x: 1.0 / (1.0 - x * x),
    _UNIT,
    "``1 / (1 - x**2)``.",
    complex_domain=_COMPLEX_UNIT,
)


# sinc'(x) = sum_{k>=1} (-1)**k 2k pi**2 x (pi x)**(2k-2) / (2k+1)!; near 0 (|x| < 1/2)
# this series (to k = 14, exact to rounding there) replaces (cos(pi x) - sinc(x)) / x,
# whose cancellation loses the digits of the higher derivatives near 0.
_SINC_SERIES_LIMIT = 0.5
_SINC_SERIES = tuple(
    float((-1) ** k * 2 * k * np.pi ** (2 * k) / np.prod(np.arange(1.0, 2 * k + 2)))
    for k in range(1, 15)
)


def _sinc_derivative(ans: Any, x: Any) -> Any:
    # Polynomials and where only: every derivative order is right near and at 0.
    small = less(absolute(x), _SINC_SERIES_LIMIT)
    near = where(small, x, 0.0)
    square = near * near
    series: Any = _SINC_SERIES[-1]
    for coefficient in reversed(_SINC_SERIES[:-1]):
        series = series * square + coefficient
    far = where(small, 1.0, x)
    return where(small, series * near, (cos(np.pi * far) - sinc(far)) / far)


sinc = unary(
    "sinc",
    np.sinc,
    _sinc_derivative,
    _AWAY_FROM_ZERO,
    "``(cos(pi x) - sinc(x)) / x``, 0 at ``x = 0`` (its series near 0, so that "
    "higher derivatives are right there too).",
    complex_domain=Domain(ranges=((-1.5, 1.5),), magnitude=True),
)

# --- exponentials and logarithms --------------------------------------------------------

exp2 = unary(
    "exp2", np.exp2, lambda ans, x: ans * _LN2, _ANY, "``log(2) 2**x``.", complex_domain=_ANY
)
expm1 = unary("expm1", np.expm1, lambda ans, x: ans + 1.0, _ANY, "``exp(x)``.", complex_domain=_ANY)
log2 = unary(
    "log2",
    np.log2,
    lambda ans, x: 1.0 / (x * _LN2),
    _POSITIVE,
    "``1 / (x log 2)``.",
    complex_domain=_COMPLEX_FIRST_QUADRANT,
)
log10 = unary(
    "log10",
    np.log10,
    lambda ans, x: 1.0 / (x * _LN10),
    _POSITIVE,
    "``1 / (x log 10)``.",
    complex_domain=_COMPLEX_FIRST_QUADRANT,
)
log1p = unary(
    "log1p",
    np.log1p,
    lambda ans, x: 1.0 / (1.0 + x),
    Domain(ranges=((-0.8, 3.0),)),
    "``1 / (1 + x)``.",
    complex_domain=Domain(ranges=((-0.8, 3.0),)),
)

# --- roots, reciprocals, absolute values ------------------------------------------------

cbrt = unary(
    "cbrt",
    np.cbrt,
    lambda ans, x: 1.0 / (3.0 * ans * ans),
    _AWAY_FROM_ZERO,
    "``1 / (3 cbrt(x)**2)`` (``inf`` at 0).",
)
reciprocal = unary(
    "reciprocal",
    np.reciprocal,
    lambda ans, x: negative(ans * ans),
    _AWAY_FROM_ZERO,
    "``-1 / x**2``.",
    complex_domain=_COMPLEX_NONZERO,
)
fabs = unary("fabs", np.fabs, lambda ans, x: sign(x), _AWAY_FROM_ZERO, "``sign(x)`` (0 at 0).")


def _identity_rule(seed: Any, ans: Any, x: Any) -> Any:
    return seed


positive = unary(
    "positive",
    np.positive,
    None,
    _ANY,
    "1.",
    vjp=_identity_rule,
    jvp=_identity_rule,
    complex_domain=_ANY,
)

# --- angles ------------------------------------------------------------------------------

_TO_RADIANS = float(np.pi / 180.0)
_TO_DEGREES = float(180.0 / np.pi)

deg2rad = unary("deg2rad", np.deg2rad, lambda ans, x: _TO_RADIANS, _ANY, "``pi / 180``.")
radians = unary("radians", np.radians, lambda ans, x: _TO_RADIANS, _ANY, "``pi / 180``.")
rad2deg = unary("rad2deg", np.rad2deg, lambda ans, x: _TO_DEGREES, _ANY, "``180 / pi``.")
degrees = unary("degrees", np.degrees, lambda ans, x: _TO_DEGREES, _ANY, "``180 / pi``.")

# --- functions of two arguments -----------------------------------------------------------


def _elementwise_pair(
    name: str,
    numpy_fun: Any,
    dx: Any,
    dy: Any,
    domain: Domain,
    explain: str,
    complex_domain: Domain | None = None,
) -> Any:
    """A broadcasting binary primitive from its two partial derivatives ``d(ans, x, y)``."""

    def vjp_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
        return _cast_like(unbroadcast(g * dx(ans, x, y), x), x)

    def vjp_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
        return _cast_like(unbroadcast(g * dy(ans, x, y), y), y)

    def jvp_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
        return _cast_like(t * dx(ans, x, y), ans)

    def jvp_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
        return _cast_like(t * dy(ans, x, y), ans)

    return binary(
        name,
        numpy_fun,
        (vjp_x, None if dy is None else vjp_y),
        (jvp_x, None if dy is None else jvp_y),
        domain,
        explain,
        complex_domain=complex_domain,
    )


def _cast_like(value: Any, like: Any) -> Any:
    """``float_power`` computes in float64; a gradient keeps its argument's precision.

    The cotangent of a real argument that fed complex intermediates is complex (the
    transforms take its real part at the end): it stays complex, of that precision,
    rather than losing its imaginary part to a cast (and a ``ComplexWarning``) here.
    """
    wanted = dtype_of(like)
    if wanted.kind != "f":
        return value
    if dtype_of(value).kind == "c":
        wanted = np.result_type(wanted, np.complex64)
    if dtype_of(value) != wanted:
        return astype(value, wanted)
    return value


arctan2 = _elementwise_pair(
    "arctan2",
    np.arctan2,
    lambda ans, y, x: x / (x * x + y * y),
    lambda ans, y, x: negative(y) / (x * x + y * y),
    Domain(ranges=((0.3, 3.0), (-3.0, 3.0))),
    "``x / (x**2 + y**2)`` for ``y`` (the first argument), ``-y / (x**2 + y**2)`` for ``x``.",
)
hypot = _elementwise_pair(
    "hypot",
    np.hypot,
    lambda ans, x, y: x / ans,
    lambda ans, x, y: y / ans,
    Domain(ranges=((0.3, 3.0), (0.3, 3.0)), magnitude=True),
    "``x / hypot(x, y)`` and ``y / hypot(x, y)``.",
)
logaddexp = _elementwise_pair(
    "logaddexp",
    np.logaddexp,
    lambda ans, x, y: exp(x - ans),
    lambda ans, x, y: exp(y - ans),
    Domain(ranges=((-3.0, 3.0), (-3.0, 3.0))),
    "``exp(x - ans)`` and ``exp(y - ans)`` (the softmax weights).",
)
logaddexp2 = _elementwise_pair(
    "logaddexp2",
    np.logaddexp2,
    lambda ans, x, y: exp2(x - ans),
    lambda ans, x, y: exp2(y - ans),
    Domain(ranges=((-3.0, 3.0), (-3.0, 3.0))),
    "``2**(x - ans)`` and ``2**(y - ans)``.",
)
float_power: Callable[..., Any] = _elementwise_pair(
    "float_power",
    np.float_power,
    lambda ans, x, y: _power_slope(float_power, x, y),
    lambda ans, x, y: ans * log(where(equal(x, 0.0), 1.0, x)),
    Domain(ranges=((0.3, 3.0), (-2.0, 2.0))),
    "as :func:`power`, computed in float64.",
    Domain(ranges=((0.3, 3.0), (-2.0, 2.0))),
)


def _sign_factor_impl(x: Any, y: Any) -> Any:
    return np.copysign(1.0, x) * np.copysign(1.0, y)


# copysign's derivative in x, a graph node computed from the new inputs at replay.
_SIGN_FACTOR = primitive(
    "copysign_factor", _sign_factor_impl, (), (), nondiff=True, batch=elementwise
)


def _sign_product(x: Any, y: Any) -> Any:
    """``copysign(1, x) * copysign(1, y)`` (recorded under ``jit``), in ``x``'s dtype."""
    return astype(call_primitive(_SIGN_FACTOR, (x, y), EMPTY_PARAMS), dtype_of(x))


copysign = _elementwise_pair(
    "copysign",
    np.copysign,
    lambda ans, x, y: _sign_product(x, y),
    None,
    Domain(ranges=((0.2, 3.0), (0.2, 3.0)), magnitude=True),
    "``sign(x) sign(y)`` for ``x``; none for ``y`` (piecewise constant).",
)
fmod = _elementwise_pair(
    "fmod",
    np.fmod,
    lambda ans, x, y: 1.0,
    lambda ans, x, y: negative(trunc(x / y)),
    Domain(ranges=((0.1, 0.9), (1.0, 2.0))),
    "1 for ``x``, ``-trunc(x / y)`` for ``y`` (away from the jumps).",
)


def _ldexp_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import broadcast_arrays

    x, exponent = broadcast_arrays(draw, st, hnp, ((-3.0, 3.0), (-3.0, 3.0)))
    return (x, np.asarray(np.round(exponent), dtype=np.int64)), {}


ldexp: Callable[..., Any] = _elementwise_pair(
    "ldexp",
    np.ldexp,
    lambda ans, x, exponent: ldexp(np.ones((), dtype_of(x)), exponent),
    None,
    Domain(examples=_ldexp_examples),
    "``2**i`` for ``x``; the integer exponent ``i`` has none.",
)


def _separated_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._elementwise import _separated_pair

    return _separated_pair(draw, st, hnp)


def _extremum_nan(name: str, numpy_fun: Any, compare: Any, explain: str) -> Any:
    """``fmax`` / ``fmin``: like ``maximum`` / ``minimum`` but a NaN loses to a number."""

    def weight(x: Any, y: Any) -> Any:
        chosen = logical_or(compare(x, y), logical_and(isnan(y), logical_not(isnan(x))))
        return where(chosen, 1.0, where(equal(x, y), 0.5, 0.0))

    return _elementwise_pair(
        name,
        numpy_fun,
        lambda ans, x, y: weight(x, y),
        lambda ans, x, y: weight(y, x),
        Domain(examples=_separated_examples),
        explain,
        Domain(examples=separated_complex_pair),
    )


fmax = _extremum_nan(
    "fmax",
    np.fmax,
    lambda x, y: greater(x, y),
    "1 for the larger argument (a NaN loses); ties split evenly.",
)
fmin = _extremum_nan(
    "fmin",
    np.fmin,
    lambda x, y: less(x, y),
    "1 for the smaller argument (a NaN loses); ties split evenly.",
)


# --- two results ----------------------------------------------------------------------------


def _divmod_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import broadcast_arrays

    x, y = broadcast_arrays(draw, st, hnp, ((0.1, 0.9), (1.0, 2.0)))
    return (np.asarray(x + np.floor(x * 7.0)), y), {}


def _divmod_fun(x: Any, y: Any, /, *args: Any, **kwargs: Any) -> Any:
    if type(x) is not Tracer and type(y) is not Tracer:
        return np.divmod(x, y, *args, **kwargs)
    return floor_divide(x, y), remainder(x, y)


_divmod_fun.__name__ = _divmod_fun.__qualname__ = "divmod"
_divmod_fun.__doc__ = """Differentiable :func:`numpy.divmod`: ``(floor_divide(x, y),
remainder(x, y))``; the quotient is a constant, the remainder differentiable.
"""
divmod = export(np.divmod, domain=Domain(examples=_divmod_examples), name="divmod")(  # noqa: A001
    _divmod_fun
)


def _modf_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    x = array(draw, st, hnp, (0.1, 0.9), min_dims=0)
    return (np.asarray(x + np.round(x * 9.0) - 4.0),), {}


def _modf_fun(x: Any, /, *args: Any, **kwargs: Any) -> Any:
    if type(x) is not Tracer:
        return np.modf(x, *args, **kwargs)
    whole = trunc(x)
    return x - whole, whole


_modf_fun.__name__ = _modf_fun.__qualname__ = "modf"
_modf_fun.__doc__ = """Differentiable :func:`numpy.modf`: ``(x - trunc(x), trunc(x))``; the
fractional part has derivative 1, the integral part is a constant.
"""
modf = export(np.modf, domain=Domain(examples=_modf_examples), name="modf")(_modf_fun)


# NumPy's array-API aliases: the same ufuncs under other names.
acos, asin, atan = arccos, arcsin, arctan
acosh, asinh, atanh = arccosh, arcsinh, arctanh
atan2 = arctan2


# --- floating-point decompositions -------------------------------------------------------------


def _frexp_fun(x: Any, /, *args: Any, **kwargs: Any) -> Any:
    if type(x) is not Tracer:
        return np.frexp(x, *args, **kwargs)
    exponent = call_primitive(_FREXP_EXPONENT, (x,), EMPTY_PARAMS)
    return ldexp(x, negative(exponent)), exponent


def _frexp_exponent_impl(x: Any) -> Any:
    return np.frexp(x)[1]


# The exponent as a graph node (computed from the new input when a staged graph replays).
_FREXP_EXPONENT = primitive(
    "frexp_exponent", _frexp_exponent_impl, (), (), nondiff=True, batch=elementwise
)
_frexp_fun.__name__ = _frexp_fun.__qualname__ = "frexp"
_frexp_fun.__doc__ = """Differentiable :func:`numpy.frexp`: ``(x * 2**-e, e)``; the mantissa
has derivative ``2**-e``, the integer exponent ``e`` is a constant.
"""


def _frexp_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    # Mantissas away from 0.5 and 1: the exponent jumps at powers of two.
    mantissa = array(draw, st, hnp, (0.55, 0.95), min_dims=1, magnitude=True)
    exponent = draw(hnp.arrays(np.int64, mantissa.shape, elements=st.integers(-3, 4)))
    return (np.ldexp(mantissa, exponent),), {}


frexp = export(np.frexp, domain=Domain(examples=_frexp_examples), name="frexp")(_frexp_fun)


def _nextafter_fun(x1: Any, x2: Any, /, *args: Any, **kwargs: Any) -> Any:
    if type(x1) is not Tracer and type(x2) is not Tracer:
        return np.nextafter(x1, x2, *args, **kwargs)
    # The step to the next float is a graph node, computed from the new inputs at replay.
    step = call_primitive(_NEXTAFTER_STEP, (x1, x2), EMPTY_PARAMS)
    return x1 + step if type(x1) is Tracer else step + x1


def _nextafter_step_impl(x1: Any, x2: Any) -> Any:
    return np.nextafter(x1, x2) - x1


_NEXTAFTER_STEP = primitive(
    "nextafter_step", _nextafter_step_impl, (), (), nondiff=True, batch=elementwise
)
_nextafter_fun.__name__ = _nextafter_fun.__qualname__ = "nextafter"
_nextafter_fun.__doc__ = """Differentiable :func:`numpy.nextafter`: ``x1`` plus a constant
step of one unit in the last place; derivative 1 in ``x1`` and 0 in ``x2``.
"""


def _nextafter_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import broadcast_arrays

    return tuple(broadcast_arrays(draw, st, hnp, ((-3.0, 3.0), (-3.0, 3.0)))), {}


nextafter = export(np.nextafter, domain=Domain(examples=_nextafter_examples), name="nextafter")(
    _nextafter_fun
)


def _real_if_close_fun(a: Any, tol: float = 100) -> Any:
    if type(a) is not Tracer:
        return np.real_if_close(a, tol)
    if dtype_of(a).kind != "c":
        return a
    value = read_value(
        a,
        "adfun.numpy.real_if_close",
        "Whether the result is real or complex depends on the values, and a staged "
        "program's dtypes are fixed. Use adfun.numpy.real(a) (or keep a complex) instead.",
    )
    if np.iscomplexobj(np.real_if_close(value, tol)):
        return a
    return real(a)


def _real_if_close_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import complex_array

    # Imaginary parts away from 0: the result stays complex near the point (a step of
    # finite differences along the imaginary axis could not cross the tolerance).
    z = complex_array(draw, st, hnp, (0.2, 3.0))
    return (z,), {}


_real_if_close_fun.__name__ = _real_if_close_fun.__qualname__ = "real_if_close"
_real_if_close_fun.__doc__ = """Differentiable :func:`numpy.real_if_close`.

A real value is returned as is (derivative 1); a complex one whose imaginary parts are all
within ``tol`` (machine epsilons) of 0 gives its real part (the derivative of
:func:`real`), otherwise it is returned as is.  The choice reads the values, so under
``jit`` / ``trace`` a complex traced argument raises :class:`~adfun.StagingError`.

Examples
--------
>>> import adfun as ad, adfun.numpy as anp
>>> ad.grad(lambda z: anp.real_if_close(z * anp.conj(z)))(1.0 + 2.0j)
np.complex128(2-4j)
"""
real_if_close = export(
    np.real_if_close,
    domain=Domain(examples=_frexp_examples),
    complex_domain=Domain(examples=_real_if_close_examples),
    name="real_if_close",
)(_real_if_close_fun)


def _heaviside_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import broadcast_arrays

    x, h = broadcast_arrays(draw, st, hnp, ((-2.0, 2.0), (0.0, 1.0)))
    x = np.asarray(np.where(np.abs(x) < 0.5, 0.0, x))  # exact zeros: where h0 is used
    # x1 as a list: a constant for the test (the step has no derivative across its jump).
    return (x.tolist(), h), {}


def _heaviside_fun(x1: Any, x2: Any, /, *args: Any, **kwargs: Any) -> Any:
    if type(x1) is not Tracer and type(x2) is not Tracer:
        return np.heaviside(x1, x2, *args, **kwargs)
    x1 = x1 if type(x1) is Tracer else np.asarray(x1)
    x2 = x2 if type(x2) is Tracer else np.asarray(x2)
    dtype = np.result_type(dtype_of(x1), dtype_of(x2))
    steps = where(greater(x1, 0.0), np.ones((), dtype), np.zeros((), dtype))
    return where(isnan(x1), np.asarray(np.nan, dtype), where(equal(x1, 0.0), x2, steps))


_heaviside_fun.__name__ = _heaviside_fun.__qualname__ = "heaviside"
_heaviside_fun.__doc__ = """Differentiable :func:`numpy.heaviside`: derivative 0 in ``x1``
(a step) and 1 in ``x2`` where ``x1 == 0`` (where the value is ``x2``).
"""
heaviside = export(np.heaviside, domain=Domain(examples=_heaviside_examples), name="heaviside")(
    _heaviside_fun
)


# --- the modified Bessel function of order 0 ----------------------------------------------------


def _bessel_i1_impl(x: Any) -> Any:
    """``I1(x)`` by its power series ``sum (x/2)**(2k+1) / (k! (k+1)!)``.

    Every term has the sign of ``x``, so the sum has no cancellation; it is carried on
    until the terms are negligible (``|x| + 40`` terms, past the largest one at ``k ~
    |x|/2``).
    """
    values = np.asarray(x)
    dtype = np.result_type(values, np.float32) if values.dtype.kind == "f" else np.float64
    half = values.astype(dtype) / 2
    square = half * half
    term = half.copy()
    total = term.copy()
    count = int(np.max(np.abs(values), initial=0.0)) + 40 if values.size else 0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(count):
            term = term * square / ((k + 1) * (k + 2))
            total = total + term
    return total if values.ndim else total[()]


def _bessel_i1_derivative(ans: Any, x: Any) -> Any:
    # I1'(x) = I0(x) - I1(x) / x; near 0 (where I1(x) / x loses its digits, down to 0/0)
    # its series 1/2 + 3 x**2 / 16 is exact to rounding.
    small = less(absolute(x), 1e-4)  # a graph node: right for every input under jit
    safe = where(small, 1.0, x)
    return where(small, 0.5 + 0.1875 * x * x, i0(x) - ans / safe)


bessel_i1 = unary(
    "bessel_i1",
    _bessel_i1_impl,
    _bessel_i1_derivative,
    Domain(ranges=((0.2, 4.0),), magnitude=True),
    "``I0(x) - I1(x) / x`` (1/2 at 0); the derivative of :func:`i0`.",
)
i0 = unary(
    "i0",
    np.i0,
    lambda ans, x: bessel_i1(x),
    Domain(ranges=((-4.0, 4.0),)),
    "``I1(x)``, the modified Bessel function of order 1.",
)
