"""Summing cotangents back to an argument's shape after NumPy broadcasting.

:func:`unbroadcast` lives in :mod:`adfun.numpy._base` (beside ``sum``, its transpose);
this module keeps the import path the linalg, fft and scipy families use.
"""

from __future__ import annotations

from adfun.numpy._base import unbroadcast

__all__ = ["unbroadcast"]
