"""The polygamma functions of complex arguments, which SciPy does not provide.

``scipy.special.polygamma`` (through ``scipy.special.zeta``) is defined for real
arguments only, but the derivatives of ``gamma``, ``rgamma`` and ``digamma`` at a complex
``z`` need ``psi^(n)(z)`` for ``n >= 1``.  This module evaluates

    psi^(n)(z) = (-1)**(n + 1) n! zeta(n + 1, z)

with the Hurwitz zeta function summed by the Euler-Maclaurin formula: the first ``N``
terms ``(z + k)**-s`` directly, with ``N`` chosen so that ``Re(z) + N >= 16``, then the
integral, the half term and :data:`_BERNOULLI_TERMS` Bernoulli corrections at
``w = z + N``.  The first omitted correction is below ``1e-17`` relative to the result
for the orders used (``n <= 8``), so the values agree with SciPy's on the real axis to
about ``1e-15`` relative.  Poles (``z`` a non-positive integer) give infinities or NaN.

This module works on plain NumPy values only: :mod:`adfun.scipy.special` wraps it in a
primitive with derivative rules.
"""

from __future__ import annotations

from math import factorial
from typing import Any

import numpy as np

#: ``B_2j / (2j)!`` for ``j = 1 .. 10`` (Bernoulli numbers over factorials).
_BERNOULLI_OVER_FACTORIAL = (
    1.0 / 12.0,
    -1.0 / 720.0,
    1.0 / 30240.0,
    -1.0 / 1209600.0,
    1.0 / 47900160.0,
    -691.0 / 1307674368000.0,
    1.0 / 74724249600.0,
    -3617.0 / 10670622842880000.0,
    43867.0 / 5109094217170944000.0,
    -174611.0 / 802857662698291200000.0,
)
_BERNOULLI_TERMS = len(_BERNOULLI_OVER_FACTORIAL)
#: The real part ``w = z + N`` reaches before the asymptotic terms are used.
_SHIFT_TO = 16.0


def hurwitz_zeta(s: int, z: Any) -> np.ndarray:
    """``zeta(s, z) = sum_{k >= 0} (z + k)**-s`` for an integer ``s >= 2`` and complex ``z``."""
    z = np.asarray(z)
    dtype = np.result_type(z.dtype, np.complex64)
    z = z.astype(np.complex128)
    low = float(np.min(z.real, initial=_SHIFT_TO)) if np.all(np.isfinite(z.real)) else 0.0
    count = max(0, int(np.ceil(_SHIFT_TO - low)))
    total = np.zeros(z.shape, dtype=np.complex128)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for k in range(count):
            total += (z + k) ** -s
        w = z + count
        inverse = 1.0 / w
        power = inverse**s  # w**-s
        total += power * w / (s - 1) + 0.5 * power
        rising = float(s)  # s (s + 1) ... (s + 2j - 2), for j = 1
        power = power * inverse  # w**(-s - 1)
        square = inverse * inverse
        for j in range(_BERNOULLI_TERMS):
            total += _BERNOULLI_OVER_FACTORIAL[j] * rising * power
            rising *= (s + 2 * j + 1) * (s + 2 * j + 2)
            power = power * square
    return total.astype(dtype, copy=False)


def complex_polygamma(n: int, z: Any) -> np.ndarray:
    """``psi^(n)(z)`` for an integer order ``n >= 1`` and complex ``z`` (complex result)."""
    if n < 1:
        raise ValueError(f"complex_polygamma: the order must be at least 1, got {n}")
    sign = 1.0 if n % 2 == 1 else -1.0
    return sign * float(factorial(n)) * hurwitz_zeta(n + 1, z)
