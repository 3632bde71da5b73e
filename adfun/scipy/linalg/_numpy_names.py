"""SciPy's names for functions :mod:`adfun.numpy.linalg` already differentiates:
``inv``, ``det`` and ``svd``, with SciPy's signatures.

Plain arrays go to SciPy; traced ones to the ``adfun.numpy.linalg`` function, whose
LAPACK routine is the same (``getrf``/``getri``, ``getrf``, ``gesdd``), so the values
agree with SciPy's to rounding.  Complex matrices are differentiated as there (with
the convention of docs/conventions.md); a complex ``svd`` returns its singular vectors
in :func:`adfun.numpy.linalg.svd`'s phase gauge, on plain values too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from adfun._engine.trace import Tracer
from adfun.numpy.linalg import det as _numpy_det
from adfun.numpy.linalg import inv as _numpy_inv
from adfun.numpy.linalg import svd as _numpy_svd
from adfun.numpy.linalg._decompositions import _svd_phase
from adfun.scipy.linalg._common import refuse_option, require_square


def inv(a: Any, overwrite_a: bool = False, check_finite: bool = True, **options: Any) -> Any:
    """Differentiable :func:`scipy.linalg.inv` (through :func:`adfun.numpy.linalg.inv`).

    Parameters
    ----------
    a : array_like
        Shape ``(..., n, n)``.
        Square matrices, real or complex.
    overwrite_a, check_finite
        As in SciPy, for plain values.
    **options
        SciPy's further keywords (``assume_a``, ``lower`` in recent SciPy), passed to it
        for plain values; refused on traced values (a general inverse is computed).

    Returns
    -------
    ndarray
        Shape ``(..., n, n)``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import inv
    >>> ad.grad(lambda a: inv(a)[0, 0])(np.array([[2.0]]))
    array([[-0.25]])
    """
    if type(a) is not Tracer:
        return scipy.linalg.inv(a, overwrite_a=overwrite_a, check_finite=check_finite, **options)
    for option, value in options.items():
        refuse_option("inv", option, value, "leave it out: a general inverse is computed")
    require_square("inv", "a", a)
    return _numpy_inv(a)


def det(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """Differentiable :func:`scipy.linalg.det` (through :func:`adfun.numpy.linalg.det`).

    Parameters
    ----------
    a : array_like
        Shape ``(..., n, n)``.
        Square matrices, real or complex.
    overwrite_a, check_finite
        As in SciPy, for plain values.

    Returns
    -------
    float or ndarray
        Shape ``(...)``.

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.linalg import det
    >>> ad.grad(det)(np.array([[2.0, 1.0], [0.0, 3.0]]))  # det(a) a^{-T}
    array([[ 3.,  0.],
           [-1.,  2.]])
    """
    if type(a) is not Tracer:
        return scipy.linalg.det(a, overwrite_a=overwrite_a, check_finite=check_finite)
    require_square("det", "a", a)
    return _numpy_det(a)


def svd(
    a: Any,
    full_matrices: bool = True,
    compute_uv: bool = True,
    overwrite_a: bool = False,
    check_finite: bool = True,
    lapack_driver: str = "gesdd",
) -> Any:
    """Differentiable :func:`scipy.linalg.svd` (through :func:`adfun.numpy.linalg.svd`).

    Parameters
    ----------
    a : array_like
        Shape ``(..., m, n)``.
        Real or complex.
    full_matrices, compute_uv
        As in SciPy; like :func:`adfun.numpy.linalg.svd`, the full ``U`` and ``Vh`` of a
        non-square traced matrix have no derivative (pass ``full_matrices=False``).
    overwrite_a, check_finite
        As in SciPy, for plain values.
    lapack_driver : {'gesdd', 'gesvd'}
        SciPy's driver for plain values; traced values use ``gesdd`` (SciPy's default).

    Returns
    -------
    U, s, Vh : ndarray
        Or ``s`` alone with ``compute_uv=False``.  For complex ``a`` each pair
        ``(u_j, v_j)`` is multiplied by the phase that makes ``u_j``'s largest-magnitude
        component real and positive, on plain values too (the extra columns of a full
        ``U`` or ``Vh`` are SciPy's): the gauge of :func:`adfun.numpy.linalg.svd`, which
        makes the vectors a function of ``a`` (docs/conventions.md).  ``U S Vh`` is
        unchanged, and so is every phase-independent function of the vectors.

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.linalg import svd
    >>> ad.grad(lambda a: svd(a, compute_uv=False)[0])(np.diag([3.0, 1.0]))
    array([[1., 0.],
           [0., 0.]])
    """
    if type(a) is not Tracer:
        result = scipy.linalg.svd(
            a,
            full_matrices=full_matrices,
            compute_uv=compute_uv,
            overwrite_a=overwrite_a,
            check_finite=check_finite,
            lapack_driver=lapack_driver,
        )
        if not compute_uv or not np.iscomplexobj(result[0]):
            return result
        u, s, vh = result
        k = s.shape[-1]
        u, vh = u.copy(), vh.copy()
        u[..., :k], vh[..., :k, :] = _svd_phase(u[..., :k], vh[..., :k, :])
        return u, s, vh
    if lapack_driver not in ("gesdd", "gesvd"):
        raise ValueError(
            f"adfun.scipy.linalg.svd: lapack_driver must be 'gesdd' or 'gesvd', got "
            f"{lapack_driver!r}"
        )
    result = _numpy_svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return result if not compute_uv else (result[0], result[1], result[2])
