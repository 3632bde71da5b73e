"""``adfun.numpy.random``: NumPy's random module, under the name autograd programs import.

HIPS autograd programs write ``import autograd.numpy.random as npr``; with
``import adfun.numpy.random as npr`` they get :mod:`numpy.random` itself (every name
here is NumPy's object: ``npr.randn``, ``npr.RandomState``, ``npr.default_rng``...), so
seeded programs draw the same numbers.  Random draws are constants for
differentiation; to differentiate through a sample, write it as a differentiable
function of parameters and noise (``mean + std * npr.randn(n)``).
"""

from __future__ import annotations

from typing import Any

import numpy.random as _random


def __getattr__(name: str) -> Any:
    """Every name of :mod:`numpy.random`."""
    try:
        return getattr(_random, name)
    except AttributeError:
        raise AttributeError(f"module 'adfun.numpy.random' has no attribute {name!r}") from None


def __dir__() -> list:
    return sorted(set(dir(_random)) | {"__getattr__", "__dir__"})
