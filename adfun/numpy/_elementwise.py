"""Elementwise functions: arithmetic, powers, exponentials, trigonometry, extrema."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from adfun._engine.records import numpy_dtype
from adfun._engine.trace import Tracer
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._base import unbroadcast, where
from adfun.numpy._complex import absolute_jvp, absolute_vjp
from adfun.numpy._declare import Domain, binary, unary
from adfun.numpy._fast import negate_fresh, scale_fresh
from adfun.numpy._nondiff import (
    equal,
    floor_divide,
    greater,
    greater_equal,
    less,
    logical_and,
    sign,
)

_ANY = Domain(ranges=((-3.0, 3.0), (-3.0, 3.0)))
_POSITIVE = Domain(ranges=((0.2, 4.0),))
#: Complex domains: each argument's real and imaginary parts are drawn from its range.
COMPLEX_ANY = Domain(ranges=((-3.0, 3.0),))
COMPLEX_ANY_PAIR = Domain(ranges=((-3.0, 3.0), (-3.0, 3.0)))
#: The first quadrant: away from the branch cut of log, sqrt and power on (-inf, 0].
COMPLEX_FIRST_QUADRANT = Domain(ranges=((0.2, 3.0),))

# --- arithmetic ---------------------------------------------------------------------


def _add_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g, x)


def _add_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g, y)


def _tangent_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t


_tangent_y = _tangent_x

add = binary(
    "add",
    np.add,
    (_add_x, _add_y),
    (_tangent_x, _tangent_y),
    _ANY,
    "1 for each argument.",
    operator=operator.add,
    complex_domain=COMPLEX_ANY_PAIR,
)


def _subtract_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(negative(g), y)


def _subtract_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return negative(t)


subtract = binary(
    "subtract",
    np.subtract,
    (_add_x, _subtract_y),
    (_tangent_x, _subtract_tangent_y),
    _ANY,
    "1 for ``x``, -1 for ``y``.",
    operator=operator.sub,
    complex_domain=COMPLEX_ANY_PAIR,
)


def _multiply_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * y, x)


def _multiply_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(x * g, y)


def _multiply_tangent_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * y


def _multiply_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return x * t


multiply = binary(
    "multiply",
    np.multiply,
    (_multiply_x, _multiply_y),
    (_multiply_tangent_x, _multiply_tangent_y),
    _ANY,
    "``y`` for ``x``, ``x`` for ``y``.",
    operator=operator.mul,
    complex_domain=COMPLEX_ANY_PAIR,
)


def _divide_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g / y, x)


def _divide_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(negative(g) * ans / y, y)


def _divide_tangent_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t / y


def _divide_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return negative(t) * ans / y


_DIVIDE_DOMAIN = Domain(ranges=((-3.0, 3.0), (0.5, 3.0)), magnitude=True)

true_divide = binary(
    "divide",
    np.true_divide,
    (_divide_x, _divide_y),
    (_divide_tangent_x, _divide_tangent_y),
    _DIVIDE_DOMAIN,
    "``1 / y`` for ``x``, ``-x / y**2`` for ``y``.",
    operator=operator.truediv,
    complex_domain=Domain(ranges=((-3.0, 3.0), (0.5, 3.0)), magnitude=True),
)
divide = true_divide


def _safe_log_base(ans: Any, x: Any) -> Any:
    """``log(x)`` for ``d(x**y)/dy = x**y * log(x)``, with ``log(1)`` where ``x == 0``
    (there the product is ``0 * log(0)``).

    When the power is complex and ``x`` is real, NumPy computes ``x**y`` on the complex
    plane (a negative ``x`` as ``x + 0j``, on the principal branch): the logarithm is then
    the complex one, ``log|x| + i pi`` for ``x < 0``, not the real one (NaN there).  A
    real power keeps the real logarithm, so a real negative base stays NaN in ``y``.
    """
    safe = where(equal(x, 0.0), 1.0, x)
    if _kind(ans) == "c" and _kind(x) != "c":
        safe = safe + 0j
    return log(safe)


def _kind(value: Any) -> str:
    """The NumPy dtype kind of an array of any library, a tracer or a Python number."""
    dtype = getattr(value, "dtype", None)
    return np.result_type(value).kind if dtype is None else numpy_dtype(dtype).kind


def _power_slope(power_fun: Any, x: Any, y: Any) -> Any:
    """``y * x**(y-1)``, and 0 where ``x == 0`` and ``y == 0`` (``x**0`` is the constant 1,
    also at 0, where the product would be ``0 * inf``).  Written with ``where`` on a safe
    base, so that higher derivatives are finite there too and a staged graph is right for
    every input."""
    zero = logical_and(equal(x, 0), equal(y, 0))
    safe = where(zero, 1.0, x)
    return where(zero, 0.0, y * power_fun(safe, y - 1.0))


def _power_derivative_x(ans: Any, x: Any, y: Any) -> Any:
    """``y * x**(y-1)``, with the common constant exponents done in fewer passes."""
    if type(y) in (float, int):
        if y == 2:
            return x * 2.0
        if y == 1:
            return 1.0
        if y == 0:
            return np.zeros(shape_of(x), dtype_of(x))  # the shape only: x**0 is constant
        return y * power(x, y - 1.0)
    return _power_slope(power, x, y)


def _power_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(scale_fresh(_power_derivative_x(ans, x, y), g), x)


def _power_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(g * ans * _safe_log_base(ans, x), y)


def _power_tangent_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * _power_derivative_x(ans, x, y)


def _power_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * ans * _safe_log_base(ans, x)


power = binary(
    "power",
    np.power,
    (_power_x, _power_y),
    (_power_tangent_x, _power_tangent_y),
    Domain(ranges=((0.3, 3.0), (-2.0, 2.0))),
    "``y * x**(y-1)`` for ``x``, ``log(x) * x**y`` for ``y`` (taken as 0 where ``x == 0``).",
    operator=operator.pow,
    complex_domain=Domain(ranges=((0.3, 3.0), (-2.0, 2.0))),
)


def _remainder_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return unbroadcast(negative(g) * floor_divide(x, y), y)


def _remainder_tangent_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return negative(t) * floor_divide(x, y)


remainder = binary(
    "remainder",
    np.remainder,
    (_add_x, _remainder_y),
    (_tangent_x, _remainder_tangent_y),
    Domain(ranges=((0.1, 0.9), (1.0, 2.0)), smooth=True),
    "1 for ``x``, ``-floor(x / y)`` for ``y`` (away from the jumps).",
)
mod = remainder


def _negative_rule(seed: Any, ans: Any, x: Any) -> Any:
    return negative(seed)


negative = unary(
    "negative",
    np.negative,
    None,
    Domain(ranges=((-3.0, 3.0),)),
    "-1.",
    vjp=_negative_rule,
    jvp=_negative_rule,
    complex_domain=COMPLEX_ANY,
)

# --- exponentials, logarithms, roots -----------------------------------------------------

exp = unary(
    "exp",
    np.exp,
    lambda ans, x: ans,
    Domain(ranges=((-3.0, 3.0),)),
    "``exp(x)``.",
    complex_domain=COMPLEX_ANY,
)
log = unary(
    "log",
    np.log,
    lambda ans, x: 1.0 / x,
    _POSITIVE,
    "``1 / x``.",
    fresh=True,
    complex_domain=COMPLEX_FIRST_QUADRANT,
)
sqrt = unary(
    "sqrt",
    np.sqrt,
    lambda ans, x: 0.5 / ans,
    _POSITIVE,
    "``1 / (2 sqrt(x))`` (``inf`` at 0).",
    fresh=True,
    complex_domain=COMPLEX_FIRST_QUADRANT,
)


def _square_derivative(ans: Any, x: Any) -> Any:
    return 2.0 * x


square = unary(
    "square",
    np.square,
    _square_derivative,
    Domain(ranges=((-3.0, 3.0),)),
    "``2 x``.",
    fresh=True,
    complex_domain=COMPLEX_ANY,
)

# --- trigonometric and hyperbolic --------------------------------------------------------

sin = unary(
    "sin",
    np.sin,
    lambda ans, x: cos(x),
    Domain(ranges=((-4.0, 4.0),)),
    "``cos(x)``.",
    fresh=True,
    complex_domain=COMPLEX_ANY,
)
cos: Callable[..., Any] = unary(
    "cos",
    np.cos,
    lambda ans, x: negate_fresh(sin(x)),
    Domain(ranges=((-4.0, 4.0),)),
    "``-sin(x)``.",
    fresh=True,
    complex_domain=COMPLEX_ANY,
)
tan = unary(
    "tan",
    np.tan,
    lambda ans, x: 1.0 + ans * ans,
    Domain(ranges=((-1.2, 1.2),)),
    "``1 + tan(x)**2``.",
    fresh=True,
    complex_domain=Domain(ranges=((-1.2, 1.2),)),
)


def _tanh_derivative(ans: Any, x: Any) -> Any:
    """``1 - tanh(x)**2``; below double precision, ``sech(x)**2`` from ``x`` itself.

    Near ``tanh(x) = ±1`` the difference ``1 - ans**2`` keeps only the digits that ``ans``
    has beyond 1: in float32 it can be wrong by tens of percent for ``|x| > 5``.  The
    form ``4u / (1 + u)**2`` with ``u = exp(-2|x|)`` has no cancellation.
    """
    if type(ans) is np.float64:  # the common 0-d case, without the dtype look-up
        return 1.0 - ans * ans
    dtype = getattr(ans, "dtype", None)
    if dtype is None or dtype.itemsize >= 8:
        return 1.0 - ans * ans
    # sech(x)**2 = 4u / (1 + u)**2 with u = exp(-2s) holds for s = x and for s = -x; s = |x|
    # keeps u from overflowing.  On traced values s is chosen with where (s = x at 0), not
    # abs (whose derivative sign(0) = 0 would lose the odd higher derivatives at 0: the
    # third derivative of tanh there is -2).
    s = where(greater_equal(x, 0.0), x, negative(x)) if type(x) is Tracer else absolute(x)
    u = exp(-2.0 * s)
    return 4.0 * u / square(1.0 + u)


tanh = unary(
    "tanh",
    np.tanh,
    _tanh_derivative,
    Domain(ranges=((-3.0, 3.0),)),
    "``1 - tanh(x)**2`` (in single precision computed as ``sech(x)**2`` from ``x``).",
    fresh=True,
    complex_domain=Domain(ranges=((-1.2, 1.2),)),
)

# --- absolute value and extrema ----------------------------------------------------------

absolute = unary(
    "absolute",
    np.absolute,
    lambda ans, x: sign(x),
    Domain(ranges=((0.1, 3.0),), magnitude=True),
    "``sign(x)`` (0 at 0); ``conj(z) / |z|`` for complex intermediates.",
    vjp=absolute_vjp,
    jvp=absolute_jvp,
    complex_domain=Domain(ranges=((-3.0, 3.0),), magnitude=True),
)
abs = absolute  # noqa: A001 - NumPy's alias


def _tie_weights(x: Any, y: Any, first_wins: Any) -> Any:
    """1 where ``x`` is the chosen value, 0.5 at ties, 0 elsewhere."""
    return where(first_wins, 1.0, where(equal(x, y), 0.5, 0.0))


def _extremum(name: str, numpy_fun: Any, compare: Any, explain: str) -> Any:
    def weight_x(x: Any, y: Any) -> Any:
        return _tie_weights(x, y, compare(x, y))

    def weight_y(x: Any, y: Any) -> Any:
        return _tie_weights(y, x, compare(y, x))

    def vjp_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
        return unbroadcast(g * weight_x(x, y), x)

    def vjp_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
        return unbroadcast(g * weight_y(x, y), y)

    def jvp_x(t: Any, ans: Any, x: Any, y: Any) -> Any:
        return t * weight_x(x, y)

    def jvp_y(t: Any, ans: Any, x: Any, y: Any) -> Any:
        return t * weight_y(x, y)

    return binary(
        name,
        numpy_fun,
        (vjp_x, vjp_y),
        (jvp_x, jvp_y),
        Domain(examples=_separated_pair),
        explain,
        complex_domain=Domain(examples=separated_complex_pair),
    )


def _separated_pair(draw: Any, st: Any, hnp: Any) -> tuple:
    """Two broadcastable arrays whose entries differ by at least 0.1 (no ties)."""
    from adfun.numpy._examples import broadcast_arrays

    x, offset = broadcast_arrays(draw, st, hnp, ((-3.0, 3.0), (0.1, 2.0)), magnitude=True)
    return (x, x + offset), {}


def separated_complex_pair(draw: Any, st: Any, hnp: Any) -> tuple:
    """Two broadcastable complex arrays whose real parts differ by at least 0.1 (NumPy
    orders complex values by real part first: no ties)."""
    from adfun.numpy._examples import broadcast_arrays, complex_array

    x, offset = broadcast_arrays(draw, st, hnp, ((-3.0, 3.0), (0.1, 2.0)), magnitude=True)
    z = complex_array(draw, st, hnp, (-3.0, 3.0), shape=x.shape)
    w = complex_array(draw, st, hnp, (-3.0, 3.0), shape=offset.shape)
    return (z, np.asarray(z.real + offset + 1j * w.imag)), {}


maximum = _extremum(
    "maximum",
    np.maximum,
    lambda x, y: greater(x, y),
    "1 for the larger argument; ties split the derivative evenly (0.5 each).",
)
minimum = _extremum(
    "minimum",
    np.minimum,
    lambda x, y: less(x, y),
    "1 for the smaller argument; ties split the derivative evenly (0.5 each).",
)
