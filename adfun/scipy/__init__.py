"""Differentiable SciPy: :mod:`adfun.scipy.special`, :mod:`adfun.scipy.stats` and
:mod:`adfun.scipy.signal`.

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

from adfun.scipy import signal, special, stats

__all__ = ["signal", "special", "stats"]
