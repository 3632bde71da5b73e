"""The symmetric eigenproblem, standard and generalized: ``eigh`` and ``eigvalsh``.

``eigh(a, b)`` solves ``a v = w b v`` for symmetric ``a`` and symmetric positive
definite ``b`` (SciPy's ``type=1``).  The eigenvalues ascend and the eigenvectors are
``b``-orthonormal, ``V^T b V = I`` (orthonormal for the standard problem): SciPy's
normalization.  Signs: LAPACK leaves each eigenvector's sign to chance and its choice
flips under arbitrarily small changes of the matrices (SciPy's default driver ``evr``
does, in practice), so SciPy's eigenvectors are not a differentiable function of them.
Here each eigenvector's largest-magnitude component (the first of equal ones) is made
positive, on plain and traced values alike: the eigenvectors equal SciPy's up to the
sign of each column, and are smooth wherever the eigenvalues are distinct and no two
components of a vector tie for the largest magnitude.

With ``dA_hat = V^T dA V`` and ``dB_hat = V^T dB V`` (both read from the triangle named
by ``lower``):

* ``dw_i = dA_hat_ii - w_i dB_hat_ii``;
* ``dV = V C``, ``C_ij = (dA_hat - dB_hat diag(w))_ij / (w_j - w_i)`` for ``i != j`` and
  ``C_ii = -dB_hat_ii / 2`` (which keeps ``V^T b V = I``).

The eigenvectors of a repeated eigenvalue are not unique and have no derivative: the
terms of exactly equal eigenvalues are dropped (docs/conventions.md, "Repeated
eigenvalues and singular values"), which is right for functions of the vectors that
depend only on the space a repeated eigenvalue's vectors span.  The eigenvalues alone
(``eigvals_only=True``, :func:`eigvalsh`) are differentiable at repeated ones too
(their sum is; each one separately is not).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from adfun._engine.records import Params
from adfun._engine.trace import any_traced, bind, call_primitive
from adfun.numpy._axes import shape_of
from adfun.numpy._broadcast import unbroadcast
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._shape import expand_dims
from adfun.numpy.linalg._helpers import (
    diag_embed,
    diag_part,
    draw_matrix,
    draw_spectrum,
    draw_symmetric,
    mT,
    off_diagonal_inverse,
    pack,
    pack_values,
    read_symmetric,
    read_symmetric_adjoint,
    unpack,
)
from adfun.scipy.linalg._common import (
    STACKED,
    draw_batch,
    refuse_option,
    require_real,
    require_square,
)

_LAPACK_OPTIONS = ("lower", "driver", "check_finite")


def _options(params: dict) -> dict:
    return {key: params[key] for key in _LAPACK_OPTIONS if key in params}


def _positive_largest(v: np.ndarray) -> np.ndarray:
    """``v`` with each column's largest-magnitude component (the first of equal ones)
    made positive.

    LAPACK leaves each eigenvector's sign to chance, and its choice (SciPy's default
    driver ``evr`` especially) flips under the smallest change of the matrix: SciPy's
    eigenvectors are not a function of the matrix to differentiate, these are.
    """
    rows = np.argmax(np.abs(v), axis=-2)[..., None, :]
    largest = np.take_along_axis(v, rows, axis=-2)
    return v * np.where(largest < 0, -1.0, 1.0).astype(v.dtype)


def _eigh_impl(a: Any, **params: Any) -> Any:
    w, v = scipy.linalg.eigh(a, **params)
    return pack_values([w, _positive_largest(v)], w.shape[:-1])


def _eigh_generalized_impl(a: Any, b: Any, **params: Any) -> Any:
    w, v = scipy.linalg.eigh(a, b, **params)
    return pack_values([w, _positive_largest(v)], w.shape[:-1])


def _eigvalsh_impl(a: Any, **params: Any) -> Any:
    return scipy.linalg.eigh(a, eigvals_only=True, **params)


def _eigvalsh_generalized_impl(a: Any, b: Any, **params: Any) -> Any:
    return scipy.linalg.eigh(a, b, eigvals_only=True, **params)


def _parts(packed: Any) -> list:
    k = shape_of(packed)[-1]
    n = int(round((-1 + np.sqrt(1 + 4 * k)) / 2))  # k = n + n * n
    return unpack(packed, [(n,), (n, n)])


def _gaps(w: Any) -> Any:
    """``F_ij = 1 / (w_j - w_i)`` off the diagonal (and at distinct values), else 0."""
    return off_diagonal_inverse(expand_dims(w, -2) - expand_dims(w, -1))


def _rotated(t: Any, v: Any, lower: bool) -> Any:
    """``V^T dT V`` for the symmetric matrix read from one triangle of the tangent."""
    return mT(v) @ read_symmetric(t, lower) @ v


def _back(hat: Any, v: Any, lower: bool, like: Any) -> Any:
    """The cotangent of the input from that of ``V^T dX V``."""
    return unbroadcast(read_symmetric_adjoint(v @ hat @ mT(v), lower), like)


def _batch(a: Any, b: Any = None) -> tuple:
    shapes = [shape_of(a)[:-2]] + ([] if b is None else [shape_of(b)[:-2]])
    return tuple(np.broadcast_shapes(*shapes))


# Rules of the eigenpairs ---------------------------------------------------------------


def _a_jvp(t: Any, ans: Any, a: Any, *b: Any, lower: bool = True, **params: Any) -> Any:
    w, v = _parts(ans)
    rotated = _rotated(t, v, lower)
    return pack([diag_part(rotated), v @ (_gaps(w) * rotated)], _batch(a, *b))


def _a_vjp(g: Any, ans: Any, a: Any, *b: Any, lower: bool = True, **params: Any) -> Any:
    w, v = _parts(ans)
    gw, gv = _parts(g)
    hat = diag_embed(gw) + _gaps(w) * (mT(v) @ gv)
    return _back(hat, v, lower, a)


def _b_jvp(t: Any, ans: Any, a: Any, b: Any, lower: bool = True, **params: Any) -> Any:
    w, v = _parts(ans)
    rotated = _rotated(t, v, lower)
    diagonal = diag_part(rotated)
    mixing = -(_gaps(w) * (rotated * expand_dims(w, -2))) - 0.5 * diag_embed(diagonal)
    return pack([-w * diagonal, v @ mixing], _batch(a, b))


def _b_vjp(g: Any, ans: Any, a: Any, b: Any, lower: bool = True, **params: Any) -> Any:
    w, v = _parts(ans)
    gw, gv = _parts(g)
    projected = mT(v) @ gv
    hat = -(
        diag_embed(gw * w)
        + (_gaps(w) * projected) * expand_dims(w, -2)
        + 0.5 * diag_embed(diag_part(projected))
    )
    return _back(hat, v, lower, b)


# Rules of the eigenvalues alone --------------------------------------------------------


def _vectors(a: Any, b: Any, params: dict) -> Any:
    return eigh(a, b, **_options(params))[1]


def _values_a_jvp(t: Any, ans: Any, a: Any, *b: Any, lower: bool = True, **params: Any) -> Any:
    v = _vectors(a, b[0] if b else None, {"lower": lower, **params})
    return diag_part(_rotated(t, v, lower))


def _values_a_vjp(g: Any, ans: Any, a: Any, *b: Any, lower: bool = True, **params: Any) -> Any:
    v = _vectors(a, b[0] if b else None, {"lower": lower, **params})
    return _back(diag_embed(g), v, lower, a)


def _values_b_jvp(t: Any, ans: Any, a: Any, b: Any, lower: bool = True, **params: Any) -> Any:
    v = _vectors(a, b, {"lower": lower, **params})
    return -ans * diag_part(_rotated(t, v, lower))


def _values_b_vjp(g: Any, ans: Any, a: Any, b: Any, lower: bool = True, **params: Any) -> Any:
    v = _vectors(a, b, {"lower": lower, **params})
    return _back(diag_embed(-(g * ans)), v, lower, b)


# Test domains --------------------------------------------------------------------------


def _standard_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    a = draw_symmetric(draw, st, hnp, n, draw_batch(draw, st))
    params = {
        "lower": draw(st.booleans()),
        "driver": draw(st.sampled_from([None, "evd", "evr"])),
        "check_finite": True,
    }
    return (a,), params


def _generalized_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """``a = X^{-T} diag(w) X^{-1}``, ``b = X^{-T} X^{-1}`` with ``X`` well-conditioned
    and ``w`` well separated: the generalized eigenvectors are ``X``'s columns."""
    n = draw(st.integers(1, 3))
    batch = draw_batch(draw, st)
    pairs = []
    for _ in range(int(np.prod(batch, dtype=np.int64))):
        inverse = np.linalg.inv(draw_matrix(draw, st, hnp, n, n, low=0.7, high=1.5))
        spectrum = draw_spectrum(draw, st, n, -3.0, 3.0) + 0.0137
        a = (inverse.T * spectrum) @ inverse
        b = inverse.T @ inverse
        pairs.append(((a + a.T) / 2.0, (b + b.T) / 2.0))
    a = np.asarray([pair[0] for pair in pairs]).reshape(batch + (n, n))
    b = np.asarray([pair[1] for pair in pairs]).reshape(batch + (n, n))
    params = {
        "lower": draw(st.booleans()),
        "driver": draw(st.sampled_from([None, "gvd"])),
        "check_finite": True,
    }
    return (a, b), params


_EIGH = primitive(
    "scipy.linalg.eigh",
    _eigh_impl,
    (_a_vjp,),
    (_a_jvp,),
    domain=Domain(examples=_standard_examples),
    batch=STACKED,
)
_EIGH_GENERALIZED = primitive(
    "scipy.linalg.eigh_generalized",
    _eigh_generalized_impl,
    (_a_vjp, _b_vjp),
    (_a_jvp, _b_jvp),
    domain=Domain(examples=_generalized_examples),
    batch=STACKED,
)
_EIGVALSH = primitive(
    "scipy.linalg.eigvalsh",
    _eigvalsh_impl,
    (_values_a_vjp,),
    (_values_a_jvp,),
    domain=Domain(examples=_standard_examples),
    batch=STACKED,
)
_EIGVALSH_GENERALIZED = primitive(
    "scipy.linalg.eigvalsh_generalized",
    _eigvalsh_generalized_impl,
    (_values_a_vjp, _values_b_vjp),
    (_values_a_jvp, _values_b_jvp),
    domain=Domain(examples=_generalized_examples),
    batch=STACKED,
)


def _traced_eigh(
    function: str,
    a: Any,
    b: Any,
    eigvals_only: bool,
    kind: int,
    subset_by_index: Any,
    subset_by_value: Any,
    params: Params,
) -> Any:
    require_real(function, a=a, b=b)
    require_square(function, "a", a)
    if b is not None:
        require_square(function, "b", b)
    if kind != 1:
        refuse_option(
            function,
            "type",
            kind,
            "only the problem a v = w b v (type=1) is differentiated; for type=2 "
            "(a b v = w v) or 3 (b a v = w v) use type=1 with a matrix built from a and b",
        )
    for option, value in (
        ("subset_by_index", subset_by_index),
        ("subset_by_value", subset_by_value),
    ):
        if value is not None:
            refuse_option(
                function,
                option,
                value,
                "compute every eigenpair and select with indexing (the derivative of a "
                "subset needs the whole spectrum)",
            )
    if eigvals_only:
        if b is None:
            return bind(_EIGVALSH, (a,), params)
        return bind(_EIGVALSH_GENERALIZED, (a, b), params)
    packed = bind(_EIGH, (a,), params) if b is None else bind(_EIGH_GENERALIZED, (a, b), params)
    w, v = _parts(packed)
    return w, v


def _registered(prim: Any, name: str, problem: str) -> Any:
    """The rule table's entry for one of the four primitives behind :func:`eigh` and
    :func:`eigvalsh` (which pick one by their arguments)."""

    def entry(*args: Any, **params: Any) -> Any:
        return call_primitive(prim, args, Params(params))

    entry.__doc__ = (
        f"The primitive behind :func:`adfun.scipy.linalg.{name}` for {problem}: "
        f"``entry(a[, b], lower=True, driver=None, check_finite=True)``."
    )
    return export(primitive=prim, name=f"_{prim.name.rsplit('.', 1)[-1]}", operation=False)(entry)


_registered(_EIGH, "eigh", "the standard problem")
_registered(_EIGH_GENERALIZED, "eigh", "the generalized problem")
_registered(_EIGVALSH, "eigvalsh", "the standard problem")
_registered(_EIGVALSH_GENERALIZED, "eigvalsh", "the generalized problem")


def eigh(
    a: Any,
    b: Any = None,
    *,
    lower: bool = True,
    eigvals_only: bool = False,
    overwrite_a: bool = False,
    overwrite_b: bool = False,
    type: int = 1,  # noqa: A002 - SciPy's name
    check_finite: bool = True,
    subset_by_index: Any = None,
    subset_by_value: Any = None,
    driver: str | None = None,
) -> Any:
    """Differentiable :func:`scipy.linalg.eigh`: ``(w, v)`` of ``a v = w v`` or of the
    generalized problem ``a v = w b v``.

    Parameters
    ----------
    a : array_like
        Shape ``(..., n, n)``.
        Symmetric; only the triangle named by ``lower`` is read.
    b : array_like
        Shape ``(..., n, n)``; optional.
        Symmetric positive definite (generalized problem); the same triangle is read.
    lower : bool
        Read the lower (default) or upper triangles.
    eigvals_only : bool
        Return the eigenvalues alone (then repeated eigenvalues are no obstacle).
    overwrite_a, overwrite_b
        Passed to SciPy for plain values; traced values are never overwritten.
    type : int
        SciPy's problem type; traced values support ``type=1`` (``a v = w b v``) only.
    check_finite, driver
        As in SciPy (passed to it, so values equal SciPy's).
    subset_by_index, subset_by_value
        As in SciPy for plain values; refused on traced values (a subset's derivative
        needs the whole spectrum: select from the full result instead).

    Returns
    -------
    w : ndarray
        Shape ``(..., n)``.
        The eigenvalues, ascending.
    v : ndarray
        Shape ``(..., n, n)``.
        The eigenvectors (columns), ``b``-orthonormal: ``v^T b v = I`` (orthonormal
        without ``b``).  Each column's largest-magnitude component is positive: SciPy's
        vectors up to the sign of each column (LAPACK's signs jump, these are
        differentiable).  Not returned with ``eigvals_only=True``.

    Notes
    -----
    With ``dA_hat = V^T dA V`` and ``dB_hat = V^T dB V``: ``dw_i = dA_hat_ii -
    w_i dB_hat_ii`` and ``dV = V C`` with ``C_ij = (dA_hat - dB_hat diag(w))_ij /
    (w_j - w_i)`` off the diagonal, ``C_ii = -dB_hat_ii / 2``.  The eigenvectors need
    distinct eigenvalues: at a repeated eigenvalue they are not unique and have no
    derivative (the terms of exactly equal eigenvalues are dropped, see
    :doc:`/conventions`).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import eigh
    >>> a, b = np.diag([2.0, 6.0]), np.diag([1.0, 2.0])
    >>> ad.grad(lambda b: eigh(a, b, eigvals_only=True)[1])(b)  # w = 3 = 6 / b_11
    array([[ 0. ,  0. ],
           [ 0. , -1.5]])
    """
    if not any_traced((a, b)):
        result = scipy.linalg.eigh(
            a,
            b,
            lower=lower,
            eigvals_only=eigvals_only,
            overwrite_a=overwrite_a,
            overwrite_b=overwrite_b,
            type=type,
            check_finite=check_finite,
            subset_by_index=subset_by_index,
            subset_by_value=subset_by_value,
            driver=driver,
        )
        return result if eigvals_only else (result[0], _positive_largest(result[1]))
    params = Params(lower=bool(lower), driver=driver, check_finite=bool(check_finite))
    return _traced_eigh("eigh", a, b, eigvals_only, type, subset_by_index, subset_by_value, params)


def eigvalsh(
    a: Any,
    b: Any = None,
    *,
    lower: bool = True,
    overwrite_a: bool = False,
    overwrite_b: bool = False,
    type: int = 1,  # noqa: A002 - SciPy's name
    check_finite: bool = True,
    subset_by_index: Any = None,
    subset_by_value: Any = None,
    driver: str | None = None,
) -> Any:
    """Differentiable :func:`scipy.linalg.eigvalsh`: the eigenvalues of ``a v = w v`` or
    ``a v = w b v``, ascending (``eigh(..., eigvals_only=True)``).

    Parameters
    ----------
    a, b, lower, overwrite_a, overwrite_b, type, check_finite, subset_by_index, \
subset_by_value, driver
        As for :func:`eigh`.

    Returns
    -------
    ndarray
        Shape ``(..., n)``.
        The eigenvalues, ascending.

    Notes
    -----
    Derivative: ``dw_i = v_i^T (dA - w_i dB) v_i`` with ``b``-orthonormal eigenvectors
    (computed by :func:`eigh` when a rule needs them).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import eigvalsh
    >>> ad.grad(lambda a: anp.sum(eigvalsh(a)))(np.eye(2))  # the trace
    array([[1., 0.],
           [0., 1.]])
    """
    if not any_traced((a, b)):
        return scipy.linalg.eigvalsh(
            a,
            b,
            lower=lower,
            overwrite_a=overwrite_a,
            overwrite_b=overwrite_b,
            type=type,
            check_finite=check_finite,
            subset_by_index=subset_by_index,
            subset_by_value=subset_by_value,
            driver=driver,
        )
    params = Params(lower=bool(lower), driver=driver, check_finite=bool(check_finite))
    return _traced_eigh("eigvalsh", a, b, True, type, subset_by_index, subset_by_value, params)
