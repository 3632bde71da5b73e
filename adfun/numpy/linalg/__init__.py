"""Differentiable :mod:`numpy.linalg`.

Every name of NumPy's ``linalg`` namespace is here.  Differentiable (reverse and forward
rules): ``inv solve det slogdet pinv lstsq matrix_power tensorinv tensorsolve cholesky
eigh eigvalsh eig eigvals svd svdvals qr norm vector_norm matrix_norm cond multi_dot
matmul tensordot outer vecdot matrix_transpose diagonal trace cross``.  A constant for
differentiation: ``matrix_rank``.

Plain ``numpy.linalg`` calls on traced values dispatch here.
"""

from __future__ import annotations

from numpy.linalg import LinAlgError

from adfun.numpy.linalg._decompositions import cholesky, eigh, eigvalsh, qr, svd, svdvals
from adfun.numpy.linalg._determinants import det, slogdet
from adfun.numpy.linalg._eig import eig, eigvals
from adfun.numpy.linalg._inverse import inv, matrix_power, solve, tensorinv, tensorsolve
from adfun.numpy.linalg._norms import cond, matrix_norm, norm, vector_norm
from adfun.numpy.linalg._products import (
    cross,
    diagonal,
    matmul,
    matrix_rank,
    matrix_transpose,
    multi_dot,
    outer,
    tensordot,
    trace,
    vecdot,
)
from adfun.numpy.linalg._pseudo_inverse import lstsq, pinv

__all__ = [
    "LinAlgError",
    "cholesky",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "inv",
    "lstsq",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "multi_dot",
    "norm",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "tensorinv",
    "tensorsolve",
    "trace",
    "vecdot",
    "vector_norm",
]
