"""Tools to test derivatives: the checks and Hypothesis strategies adfun tests itself with.

* :func:`check_grads` compares forward and reverse mode (and their derivatives) with
  central finite differences along random directions, and with each other.
* :func:`numerical_jacobian` is the finite-difference Jacobian.
* :mod:`adfun.testing.strategies` holds Hypothesis strategies (arrays, shapes, random
  differentiable programs); it needs Hypothesis (``python -m pip install hypothesis``)
  and is only imported when you use it, so ``import adfun`` never imports Hypothesis.
"""

from __future__ import annotations

import importlib
from typing import Any

from adfun.testing._check import check_grads, numerical_jacobian

__all__ = ["check_grads", "numerical_jacobian", "strategies"]


def __getattr__(name: str) -> Any:
    if name == "strategies":
        return importlib.import_module("adfun.testing.strategies")
    raise AttributeError(f"module 'adfun.testing' has no attribute {name!r}")
