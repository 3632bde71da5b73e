"""Differentiable SciPy: :mod:`adfun.scipy.integrate`, :mod:`adfun.scipy.linalg`,
:mod:`adfun.scipy.signal`, :mod:`adfun.scipy.special` and :mod:`adfun.scipy.stats`.

SciPy is not a dependency of adfun; this sub-package needs it (``pip install scipy``).
Plain ``scipy.special`` ufuncs called on traced values dispatch here.
"""

from __future__ import annotations

try:
    import scipy.special as _scipy_special  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only without scipy
    raise ImportError(
        "adfun.scipy needs SciPy, which is not installed (it is not a dependency of adfun "
        "itself); install it with `pip install scipy`"
    ) from error

from adfun.scipy import integrate, linalg, signal, special, stats

__all__ = ["integrate", "linalg", "signal", "special", "stats"]
