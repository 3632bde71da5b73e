"""Functions whose results are constants for differentiation.

Comparisons, rounding, ``sign``, ``argmax``, logical tests...  On traced values they
still record a node, so a traced graph replays them, but no derivative flows through.
"""

from __future__ import annotations

import numpy as np

from adfun._engine.records import NUMPY_OVERRIDES, OPERATIONS
from adfun.numpy._batching import along_axis, axes_reduction
from adfun.numpy._declare import function_of_values, nondifferentiable

_COMPARISON = "comparisons are piecewise constant."
_ROUNDING = "rounding is piecewise constant (its derivative is 0 almost everywhere)."
_INDEX = "the result is an index or a count, not a function of the values' size."
_TEST = "the result is a boolean test."

equal = nondifferentiable("equal", np.equal, _COMPARISON)
not_equal = nondifferentiable("not_equal", np.not_equal, _COMPARISON)
less = nondifferentiable("less", np.less, _COMPARISON)
less_equal = nondifferentiable("less_equal", np.less_equal, _COMPARISON)
greater = nondifferentiable("greater", np.greater, _COMPARISON)
greater_equal = nondifferentiable("greater_equal", np.greater_equal, _COMPARISON)

floor_divide = nondifferentiable("floor_divide", np.floor_divide, _ROUNDING)
floor = nondifferentiable("floor", np.floor, _ROUNDING)
ceil = nondifferentiable("ceil", np.ceil, _ROUNDING)
trunc = nondifferentiable("trunc", np.trunc, _ROUNDING)
rint = nondifferentiable("rint", np.rint, _ROUNDING)
round = nondifferentiable("round", np.round, _ROUNDING)  # noqa: A001 - NumPy's name
sign = nondifferentiable("sign", np.sign, "``sign`` is piecewise constant.")

argmax = nondifferentiable("argmax", np.argmax, _INDEX, batch=axes_reduction())
argmin = nondifferentiable("argmin", np.argmin, _INDEX, batch=axes_reduction())
argsort = nondifferentiable("argsort", np.argsort, _INDEX, batch=along_axis(-1))
#: Advice of the functions whose result's length depends on the values (no staging).
SHAPE_FROM_VALUES_ADVICE = (
    "Its result's length depends on the values, and a staged program's shapes are fixed. "
    "Keep the shapes fixed instead: choose entries with adfun.numpy.where(condition, x, y), "
    "count with adfun.numpy.sum(condition), or call it outside the staged function."
)

nonzero = function_of_values(
    "nonzero",
    np.nonzero,
    several=True,
    refuse_staging=SHAPE_FROM_VALUES_ADVICE,
    doc="nonzero (:func:`numpy.nonzero`) on plain or traced values: a tuple of index "
    "arrays, one per axis (each a constant for differentiation).\n\n"
    "The length of the result depends on the values: under ``jit``/``trace`` it "
    "raises :class:`~adfun.StagingError`.\n",
)
NUMPY_OVERRIDES[np.nonzero] = nonzero
OPERATIONS.setdefault("nonzero", nonzero)
count_nonzero = nondifferentiable("count_nonzero", np.count_nonzero, _INDEX, batch=axes_reduction())

isnan = nondifferentiable("isnan", np.isnan, _TEST)
isinf = nondifferentiable("isinf", np.isinf, _TEST)
isfinite = nondifferentiable("isfinite", np.isfinite, _TEST)
logical_and = nondifferentiable("logical_and", np.logical_and, _TEST)
logical_or = nondifferentiable("logical_or", np.logical_or, _TEST)
logical_not = nondifferentiable("logical_not", np.logical_not, _TEST)
logical_xor = nondifferentiable("logical_xor", np.logical_xor, _TEST)
any = nondifferentiable("any", np.any, _TEST, batch=axes_reduction())  # noqa: A001 - NumPy's name
all = nondifferentiable("all", np.all, _TEST, batch=axes_reduction())  # noqa: A001 - NumPy's name

stop_gradient = nondifferentiable(
    "stop_gradient", lambda x: x, "that is its purpose: ``x`` is returned unchanged."
)
