"""Differentiable :mod:`scipy.linalg`.

SciPy's names, signatures and defaults; values are SciPy's own (the implementations
call it), and every function is differentiable in its array arguments in reverse and
forward mode, to every order: ``expm expm_frechet sqrtm solve_sylvester
solve_triangular cholesky cho_factor cho_solve lu_factor lu_solve solve_banded eigh
eigvalsh``, and ``inv det svd`` (SciPy's signatures over :mod:`adfun.numpy.linalg`).
Plain arrays go straight to SciPy.  Every function takes complex matrices too (complex
Hermitian ones for ``cholesky cho_factor eigh eigvalsh``), with HIPS autograd's and
JAX's convention for the derivatives (docs/conventions.md).  Stacks of matrices
(``(..., n, n)``) work wherever the installed SciPy takes them (SciPy 1.15 and later,
except ``solve_banded``).  ``eigh``'s eigenvectors are SciPy's up to the sign (complex:
the phase) of each column (each one's largest component is made real and positive:
LAPACK's signs jump), and so are complex ``svd``'s singular vector pairs.
"""

from __future__ import annotations

from adfun.scipy.linalg._eigh import eigh, eigvalsh
from adfun.scipy.linalg._functions import expm, expm_frechet, solve_sylvester, sqrtm
from adfun.scipy.linalg._numpy_names import det, inv, svd
from adfun.scipy.linalg._solves import (
    cho_factor,
    cho_solve,
    cholesky,
    lu_factor,
    lu_solve,
    solve_banded,
    solve_triangular,
)

__all__ = [
    "cho_factor",
    "cho_solve",
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "expm",
    "expm_frechet",
    "inv",
    "lu_factor",
    "lu_solve",
    "solve_banded",
    "solve_sylvester",
    "solve_triangular",
    "sqrtm",
    "svd",
]
