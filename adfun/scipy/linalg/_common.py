"""Shared pieces of ``adfun.scipy.linalg``: argument checks and test-domain helpers.

The primitives here are declared with the kit (:mod:`adfun.numpy._declare`) under names
``scipy.linalg.<name>``; their implementations call SciPy, so values equal SciPy's, and
their rules are written with differentiable adfun functions (``adfun.numpy`` and this
package), so they differentiate again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy

from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._batching import leading, solve_rule

#: Whether the installed SciPy accepts stacks of matrices (``(..., n, n)``) in the
#: functions of :mod:`scipy.linalg` (SciPy 1.15 and later); earlier releases take
#: 2-D arrays only, and the test domains then draw single matrices.
SCIPY_BATCHES = tuple(int(part) for part in scipy.__version__.split(".")[:2]) >= (1, 15)

#: The batching rules of the primitives on stacks of matrices (``ad.vmap``): the batch
#: axis becomes a leading stack axis where SciPy takes stacks, a loop over the examples
#: where it does not.  ``STACKED_SOLVE`` is for solves whose right-hand side may be a
#: vector (a batch of vectors is made a stack of one-column matrices).
STACKED = leading if SCIPY_BATCHES else None
STACKED_SOLVE = solve_rule if SCIPY_BATCHES else None


def is_complex(*values: Any) -> bool:
    """Whether one of ``values`` (plain or traced arrays, ``None`` skipped) is complex."""
    return any(value is not None and dtype_of(value).kind == "c" for value in values)


def require_square(function: str, argument: str, value: Any) -> int:
    """``value`` is a square matrix (or a stack of them): its side; else SciPy's
    ``ValueError``, naming the function and the argument."""
    shape = shape_of(value)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(
            f"adfun.scipy.linalg.{function}: argument '{argument}' has shape {shape}; a "
            f"square matrix (or a stack of square matrices, shape (..., n, n)) is required"
        )
    return shape[-1]


def refuse_option(function: str, option: str, value: Any, advice: str) -> None:
    """An option SciPy has but whose result has no derivative here."""
    raise NotImplementedError(
        f"adfun.scipy.linalg.{function}: {option}={value!r} is not supported on traced "
        f"values; {advice}"
    )


def transposition(function: str, trans: Any, letters: bool = True) -> int:
    """SciPy's ``trans`` (``0, 1, 2``, and ``'N', 'T', 'C'`` where ``letters``) as
    ``0, 1, 2``."""
    codes: dict = {0: 0, 1: 1, 2: 2}
    if letters:
        codes.update({"N": 0, "T": 1, "C": 2})
    if isinstance(trans, (bool, np.bool_)) or not isinstance(trans, (int, np.integer, str)):
        trans_ok = False
    else:
        trans_ok = trans in codes
    if not trans_ok:
        allowed = "0, 1, 2, 'N', 'T', 'C'" if letters else "0, 1, 2"
        raise ValueError(
            f"adfun.scipy.linalg.{function}: trans must be one of {allowed}, got {trans!r}"
        )
    return codes[trans]


# --- Hypothesis helpers for the test domains -----------------------------------------------


def draw_batch(draw: Any, st: Any) -> tuple:
    """``()`` mostly, ``(2,)`` sometimes where SciPy takes stacks of matrices."""
    return draw(st.sampled_from([(), (), (2,)])) if SCIPY_BATCHES else ()


def draw_triangular(draw: Any, st: Any, hnp: Any, n: int, batch: tuple) -> np.ndarray:
    """Square matrices whose triangles are well conditioned: entries in ``[-1, 1]`` and a
    diagonal of magnitude in ``[1.5, 2.5]`` with random signs."""
    from adfun.numpy._examples import array

    entries = array(draw, st, hnp, (-1.0, 1.0), shape=batch + (n, n))
    diagonal = array(draw, st, hnp, (1.5, 2.5), shape=batch + (n,), magnitude=True)
    index = np.arange(n)
    entries[..., index, index] = diagonal
    return entries
