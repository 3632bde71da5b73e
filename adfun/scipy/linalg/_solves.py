"""Triangular, Cholesky, LU and banded solves: ``solve_triangular cholesky cho_factor
cho_solve lu_factor lu_solve solve_banded``.

Each solve is differentiated by the usual adjoint solves: for ``op(A) x = b``,
``b_bar = op(A)^{-T} g`` (the same solver with the transposition flipped) and
``A_bar = -b_bar x^T`` (transposed back through ``op``), restricted to the entries the
solver reads (one triangle, the band).  ``cho_factor``, ``cho_solve`` and ``lu_solve``
are exact composites of :func:`cholesky` and :func:`solve_triangular`.

Complex matrices: with the convention ``dL = Re(cotangent * dz)`` (docs/conventions.md)
the rules of holomorphic maps keep plain transposes, so the solves with ``A`` and
``A^T`` and the LU factorization need nothing new.  Conjugates enter where the map is
not holomorphic: a solve with ``A^H`` (``trans=2``, conjugate-linear in ``A``), and the
Cholesky factorization (``A = L L^H``, which reads the real part of the diagonal).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from adfun._engine.records import EMPTY_PARAMS, Params
from adfun._engine.trace import Tracer, any_traced, bind, call_primitive
from adfun.numpy._arraylike import as_traced, holds_tracer
from adfun.numpy._axes import dtype_of, ndim_of, shape_of
from adfun.numpy._base import broadcast_to
from adfun.numpy._batching import elementwise, leading
from adfun.numpy._broadcast import unbroadcast
from adfun.numpy._complex import conjugate
from adfun.numpy._declare import Domain, complexified, export, primitive
from adfun.numpy._indexing import getitem
from adfun.numpy._layout import take_along_axis
from adfun.numpy._shape import expand_dims, squeeze
from adfun.numpy.linalg._helpers import (
    draw_complex_matrix,
    draw_hermitian,
    draw_matrix,
    draw_symmetric,
    eye_like,
    mask,
    mH,
    mT,
    pack,
    pack_values,
    read_hermitian,
    read_hermitian_adjoint,
    unpack,
)
from adfun.scipy.linalg._common import (
    STACKED,
    STACKED_SOLVE,
    draw_batch,
    draw_triangular,
    is_complex,
    require_square,
    transposition,
)


def _as_columns(b: Any, x: Any) -> Any:
    """A 1-D right-hand side ``b`` makes ``x`` (and its cotangent) vectors: add an axis."""
    return expand_dims(x, -1) if ndim_of(b) == 1 else x


def _rhs_examples(
    draw: Any, st: Any, hnp: Any, n: int, batch: tuple, complex_values: bool = False
) -> np.ndarray:
    """A right-hand side for ``(batch..., n, n)`` matrices: a vector, a matrix, a stack."""
    from adfun.numpy._examples import array, complex_array

    shapes = [(n,), (n, 2)] + ([batch + (n, 1)] if batch else [])
    shape = draw(st.sampled_from(shapes))
    if complex_values:
        return complex_array(draw, st, hnp, (-2.0, 2.0), shape=shape)
    return array(draw, st, hnp, (-2.0, 2.0), shape=shape)


def _conjugate_code(*values: Any) -> int:
    """The ``trans`` code of a solve with a conjugate transpose: 2 (``A^H``) for complex
    values, 1 (``A^T``, the same matrix) for real ones."""
    return 2 if is_complex(*values) else 1


# --- solve_triangular ------------------------------------------------------------------


def _solve_triangular_impl(
    a: Any,
    b: Any,
    trans: int = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
    check_finite: bool = True,
    check_singular: bool = True,
) -> Any:
    try:
        return scipy.linalg.solve_triangular(
            a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal, check_finite=check_finite
        )
    except np.linalg.LinAlgError:
        if check_singular:
            raise
        return _substitution(a, b, trans, lower, unit_diagonal)


def _substitution(a: Any, b: Any, trans: int, lower: bool, unit_diagonal: bool) -> Any:
    """``op(a)^{-1} b`` by BLAS's ``trsm`` without the singularity check of LAPACK's
    ``trtrs`` (which ``solve_triangular`` calls): a zero on the diagonal gives infinities
    and NaN, as in the solves of ``getrs`` and ``potrs`` (``lu_solve``, ``cho_solve``)."""
    a = np.asarray(a)
    b = np.asarray(b)
    columns = b[..., None] if b.ndim == 1 else b
    (trsm,) = scipy.linalg.blas.get_blas_funcs(("trsm",), (a, columns))
    batch = np.broadcast_shapes(a.shape[:-2], columns.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    columns = np.broadcast_to(columns, batch + columns.shape[-2:])
    out = np.empty(columns.shape, dtype=trsm.dtype)
    with np.errstate(all="ignore"):
        for index in np.ndindex(*batch):
            out[index] = trsm(
                1.0,
                a[index],
                columns[index],
                lower=int(lower),
                trans_a=int(trans),
                diag=int(unit_diagonal),
            )
    return out[..., 0] if b.ndim == 1 else out


def _triangle(x: Any, lower: bool, unit_diagonal: bool) -> Any:
    """The entries of ``x`` the solver reads: a triangle, without the diagonal if unit."""
    return x * mask(x, -1 if unit_diagonal else 0, lower)


def _triangular(
    a: Any,
    b: Any,
    trans: int = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
    check_finite: bool = True,
    check_singular: bool = True,
) -> Any:
    """The triangular solve with all the primitive's parameters (``check_singular``
    too), on plain or traced values: what the rules and the composites call."""
    params: dict[str, Any] = {
        "trans": int(trans),
        "lower": bool(lower),
        "unit_diagonal": bool(unit_diagonal),
        "check_finite": bool(check_finite),
    }
    if not check_singular:
        params["check_singular"] = False
    if not any_traced((a, b)):
        return _solve_triangular_impl(a, b, **params)
    return bind(_SOLVE_TRIANGULAR, (a, b), Params(params))


def _rule_params(params: dict) -> dict:
    """The parameters of the solves in the rules: ``check_finite`` was for the inputs,
    checked by the solve itself; a cotangent or tangent with infinities or NaN (from a
    zero pivot of ``lu_solve``, say) gives infinities or NaN, not an error."""
    return {**params, "check_finite": False}


def _adjoint_rhs(g: Any, a: Any, b: Any, trans: int, **params: Any) -> Any:
    """``op(A)^{-T} g``: the same solver, transposition flipped (``g`` is a stack of
    vectors when ``b`` is a vector and ``a`` a stack).  For ``op(A) = A^H`` of a complex
    ``A`` that is ``conj(A)^{-1} g = conj(A^{-1} conj(g))``."""
    columns = _as_columns(b, g)
    if trans == 2 and is_complex(a):
        result = conjugate(_triangular(a, conjugate(columns), trans=0, **_rule_params(params)))
    else:
        result = _triangular(a, columns, trans=1 if trans == 0 else 0, **_rule_params(params))
    return squeeze(result, -1) if ndim_of(b) == 1 else result


def _triangular_vjp_a(g: Any, ans: Any, a: Any, b: Any, trans: int = 0, **params: Any) -> Any:
    gb = _adjoint_rhs(g, a, b, trans, **params)
    outer = -(_as_columns(b, gb) @ mT(_as_columns(b, ans)))
    gradient = outer if trans == 0 else mT(outer)
    if trans == 2 and is_complex(a):  # x depends on conj(A): the cotangent is conjugated
        gradient = conjugate(gradient)
    return unbroadcast(_triangle(gradient, params["lower"], params["unit_diagonal"]), a)


def _triangular_vjp_b(g: Any, ans: Any, a: Any, b: Any, trans: int = 0, **params: Any) -> Any:
    return unbroadcast(_adjoint_rhs(g, a, b, trans, **params), b)


def _triangular_jvp_a(t: Any, ans: Any, a: Any, b: Any, trans: int = 0, **params: Any) -> Any:
    change = _triangle(t, params["lower"], params["unit_diagonal"])
    change = change if trans == 0 else mT(change) if trans == 1 else mH(change)
    result = _triangular(a, -(change @ _as_columns(b, ans)), trans=trans, **_rule_params(params))
    return squeeze(result, -1) if ndim_of(b) == 1 else result


def _triangular_jvp_b(t: Any, ans: Any, a: Any, b: Any, trans: int = 0, **params: Any) -> Any:
    return _triangular(a, t, trans=trans, **_rule_params(params))


def _triangular_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    batch = draw_batch(draw, st)
    a = draw_triangular(draw, st, hnp, n, batch)
    params = {
        "trans": draw(st.sampled_from([0, 1, 2])),
        "lower": draw(st.booleans()),
        "unit_diagonal": draw(st.booleans()),
        "check_finite": True,
    }
    return (a, _rhs_examples(draw, st, hnp, n, batch)), params


_SOLVE_TRIANGULAR = primitive(
    "scipy.linalg.solve_triangular",
    _solve_triangular_impl,
    (_triangular_vjp_a, _triangular_vjp_b),
    (_triangular_jvp_a, _triangular_jvp_b),
    domain=Domain(examples=_triangular_examples),
    batch=STACKED_SOLVE,
    complex_domain=complexified(_triangular_examples),
)


@export(scipy.linalg.solve_triangular, primitive=_SOLVE_TRIANGULAR)
def solve_triangular(
    a: Any,
    b: Any,
    trans: Any = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
    overwrite_b: bool = False,
    check_finite: bool = True,
) -> Any:
    """Differentiable :func:`scipy.linalg.solve_triangular`: ``x`` with ``op(a) x = b``.

    Parameters
    ----------
    a : array_like
        Shape ``(..., n, n)``.
        Only its lower (``lower=True``) or upper triangle is read; with
        ``unit_diagonal=True`` its diagonal is taken to be ones and not read either.
    b : array_like
        Shape ``(..., n)`` or ``(..., n, k)``.
        The right-hand side: a vector when 1-D, else a (stack of) matrix.
    trans : {0, 1, 2, 'N', 'T', 'C'}
        Solve ``a x = b`` (0, ``'N'``), ``a^T x = b`` (1, ``'T'``) or ``a^H x = b``
        (2, ``'C'``; the same as 1 for real ``a``).  ``a`` and ``b`` may be complex.
    lower, unit_diagonal, check_finite
        As in SciPy.
    overwrite_b : bool
        Passed to SciPy for plain values; traced values are never overwritten.

    Returns
    -------
    ndarray
        SciPy's solution, shaped like ``b`` (broadcast with ``a``'s batch).

    Notes
    -----
    Derivative: ``b_bar = op(a)^{-T} g`` and ``a_bar = -b_bar x^T`` (transposed for
    ``trans`` 1 or 2), restricted to the triangle read; forward
    ``dx = op(a)^{-1} (db - op(da) x)``.  Entries that are not read get zero gradient.
    For complex ``a`` and ``trans=2`` the solution depends on ``conj(a)``:
    ``b_bar = conj(a)^{-1} g`` and ``a_bar = -conj(x b_bar^T)``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import solve_triangular
    >>> a = np.array([[2.0, 0.0], [1.0, 4.0]])
    >>> ad.grad(lambda b: anp.sum(solve_triangular(a, b, lower=True)))(np.ones(2))
    array([0.375, 0.25 ])
    """
    if not any_traced((a, b)):
        return scipy.linalg.solve_triangular(
            a,
            b,
            trans=trans,
            lower=lower,
            unit_diagonal=unit_diagonal,
            overwrite_b=overwrite_b,
            check_finite=check_finite,
        )
    require_square("solve_triangular", "a", a)
    params = Params(
        trans=transposition("solve_triangular", trans),
        lower=bool(lower),
        unit_diagonal=bool(unit_diagonal),
        check_finite=bool(check_finite),
    )
    return bind(_SOLVE_TRIANGULAR, (a, b), params)


# --- cholesky, cho_factor, cho_solve ---------------------------------------------------


def _cholesky_impl(a: Any, lower: bool = False, check_finite: bool = True) -> Any:
    return scipy.linalg.cholesky(a, lower=lower, check_finite=check_finite)


def _phi(x: Any) -> Any:
    """The lower triangle of ``x`` with its diagonal halved."""
    return x * mask(x, -1) + 0.5 * (x * eye_like(x))


def _cholesky_vjp(g: Any, ans: Any, a: Any, lower: bool = False, check_finite: bool = True) -> Any:
    factor = ans if lower else mH(ans)  # L, with A = L L^H
    g_factor = g if lower else mH(g)  # the cotangent of L = U^H
    middle = _phi(mT(factor) @ g_factor)
    left = solve_triangular(factor, middle, trans=1, lower=True)  # L^{-T} M
    code = _conjugate_code(factor)
    both = mT(solve_triangular(factor, mT(left), trans=code, lower=True))  # ... conj(L)^{-1}
    return read_hermitian_adjoint(both, lower)


def _cholesky_jvp(t: Any, ans: Any, a: Any, lower: bool = False, check_finite: bool = True) -> Any:
    factor = ans if lower else mH(ans)
    left = solve_triangular(factor, read_hermitian(t, lower), lower=True)  # L^{-1} dA
    both = mH(solve_triangular(factor, mH(left), lower=True))  # L^{-1} dA L^{-H}
    change = factor @ _phi(both)
    return change if lower else mH(change)


def _positive_definite(draw: Any, st: Any, hnp: Any, complex_values: bool = False) -> np.ndarray:
    n = draw(st.integers(1, 3))
    if complex_values:
        return draw_hermitian(draw, st, hnp, n, draw_batch(draw, st), positive=True)
    return draw_symmetric(draw, st, hnp, n, draw_batch(draw, st), positive=True)


def _cholesky_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    a = _positive_definite(draw, st, hnp)
    return (a,), {"lower": draw(st.booleans()), "check_finite": True}


def _complex_cholesky_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    a = _positive_definite(draw, st, hnp, complex_values=True)
    return (a,), {"lower": draw(st.booleans()), "check_finite": True}


_CHOLESKY = primitive(
    "scipy.linalg.cholesky",
    _cholesky_impl,
    (_cholesky_vjp,),
    (_cholesky_jvp,),
    domain=Domain(examples=_cholesky_examples),
    batch=STACKED,
    complex_domain=Domain(examples=_complex_cholesky_examples),
)


@export(scipy.linalg.cholesky, primitive=_CHOLESKY)
def cholesky(
    a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True
) -> Any:
    """Differentiable :func:`scipy.linalg.cholesky`: ``U`` with ``a = U^H U`` (default),
    or ``L`` with ``a = L L^H`` (``lower=True``).

    Unlike :func:`numpy.linalg.cholesky`, SciPy's returns the *upper* factor by default.
    Only the triangle named by ``lower`` is read (the upper one by default; of a complex
    diagonal only the real part, as LAPACK), so the gradient lives on that triangle.

    Parameters
    ----------
    a : array_like
        Shape ``(..., n, n)``.
        Symmetric (complex: Hermitian) positive definite.
    lower, check_finite
        As in SciPy.
    overwrite_a : bool
        Passed to SciPy for plain values.

    Returns
    -------
    ndarray
        Shape ``(..., n, n)``.
        The triangular factor (zeros in the other triangle).

    Notes
    -----
    Derivative (Murray, 2016): ``dL = L Phi(L^{-1} dA L^{-H})``, ``Phi`` taking the lower
    triangle with the diagonal halved; the reverse rule is its adjoint,
    ``L^{-T} Phi(L^T G) conj(L)^{-1}`` read back onto the triangle, written with
    triangular solves.

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.linalg import cholesky
    >>> ad.grad(lambda a: cholesky(a)[0, 0])(np.array([[4.0, 1.0], [1.0, 2.0]]))
    array([[0.25, 0.  ],
           [0.  , 0.  ]])
    """
    if type(a) is not Tracer:
        return scipy.linalg.cholesky(
            a, lower=lower, overwrite_a=overwrite_a, check_finite=check_finite
        )
    require_square("cholesky", "a", a)
    return bind(_CHOLESKY, (a,), Params(lower=bool(lower), check_finite=bool(check_finite)))


def _cho_factor_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return (_positive_definite(draw, st, hnp),), {"lower": draw(st.booleans())}


def _complex_cho_factor_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    a = _positive_definite(draw, st, hnp, complex_values=True)
    return (a,), {"lower": draw(st.booleans())}


@export(
    scipy.linalg.cho_factor,
    domain=Domain(examples=_cho_factor_examples),
    complex_domain=Domain(examples=_complex_cho_factor_examples),
    operation=False,
)
def cho_factor(
    a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True
) -> Any:
    """Differentiable :func:`scipy.linalg.cho_factor`: ``(c, lower)`` for :func:`cho_solve`.

    Parameters
    ----------
    a : array_like
        Shape ``(..., n, n)``.
        Symmetric (complex: Hermitian) positive definite; only the triangle named by
        ``lower`` is read.
    lower, overwrite_a, check_finite
        As in SciPy (``overwrite_a`` for plain values only).

    Returns
    -------
    c : ndarray
        Shape ``(..., n, n)``.
        The Cholesky factor in the triangle named by ``lower``; the other triangle
        holds ``a``'s entries, as SciPy leaves them (SciPy calls them arbitrary).
    lower : bool
        Which triangle holds the factor (for a stack of matrices, SciPy's batched
        result: a list ``[c, lower]`` with one flag per matrix).

    Notes
    -----
    An exact composite: ``c = cholesky(a, lower) + (a's other strict triangle)``, so the
    derivative is :func:`cholesky`'s on the factor and the identity on the rest.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import cho_factor, cho_solve
    >>> a = np.array([[4.0, 1.0], [1.0, 2.0]])
    >>> b = np.array([1.0, 0.0])
    >>> ad.grad(lambda a: cho_solve(cho_factor(a), b)[0])(a)  # on the upper triangle
    array([[-0.08163265,  0.08163265],
           [ 0.        , -0.02040816]])
    """
    if type(a) is not Tracer:
        return scipy.linalg.cho_factor(
            a, lower=lower, overwrite_a=overwrite_a, check_finite=check_finite
        )
    factor = cholesky(a, lower=lower, check_finite=check_finite)
    c = factor + a * mask(a, -1, not lower)
    batch = shape_of(a)[:-2]
    if batch:  # SciPy's batched result: a list, with one ``lower`` flag per matrix
        return [c, np.full(batch, bool(lower))]
    return c, lower


def _assembled(*values: Any) -> tuple:
    """The arrays of a solve that takes SciPy's factorization tuple as it is (so is not
    wrapped by the array-like entry): each list holding traced values stacked."""
    return tuple(as_traced(value) if holds_tracer(value) else value for value in values)


def _one_flag(lower: Any) -> bool:
    """``lower`` as one bool (a batched ``cho_factor`` gives an array of equal flags)."""
    if isinstance(lower, np.ndarray) and lower.size:
        if not (lower == lower.flat[0]).all():
            raise NotImplementedError(
                "adfun.scipy.linalg.cho_solve: the flags 'lower' of c_and_lower differ "
                "between the matrices of the stack; on traced values factor the whole "
                "stack with one cho_factor call (one value of lower)"
            )
        return bool(lower.flat[0])
    return bool(lower)


def _cho_solve_examples(draw: Any, st: Any, hnp: Any, complex_values: bool = False) -> tuple:
    a = _positive_definite(draw, st, hnp, complex_values)
    lower = draw(st.booleans())
    c = scipy.linalg.cho_factor(a, lower=lower)[0]
    b = _rhs_examples(draw, st, hnp, a.shape[-1], a.shape[:-2], complex_values)
    return ([c, lower], b), {}


def _complex_cho_solve_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return _cho_solve_examples(draw, st, hnp, complex_values=True)


# The first argument is SciPy's factorization tuple, not an array-like.
@export(
    scipy.linalg.cho_solve,
    domain=Domain(examples=_cho_solve_examples),
    complex_domain=Domain(examples=_complex_cho_solve_examples),
    operation=False,
    arraylike=False,
)
def cho_solve(
    c_and_lower: Any, b: Any, overwrite_b: bool = False, check_finite: bool = True
) -> Any:
    """Differentiable :func:`scipy.linalg.cho_solve`: ``x`` with ``A x = b`` from
    :func:`cho_factor`'s ``(c, lower)``.

    Parameters
    ----------
    c_and_lower : tuple
        ``(c, lower)``, the factorization; only the factor's triangle of ``c`` is read.
    b : array_like
        Shape ``(..., n)`` or ``(..., n, k)``.
        The right-hand side.
    overwrite_b, check_finite
        As in SciPy (``overwrite_b`` for plain values only).

    Returns
    -------
    ndarray
        The solution, shaped like ``b``.

    Notes
    -----
    An exact composite of two :func:`solve_triangular` calls (``L y = b``,
    ``L^H x = y``), so its derivatives in ``c`` and ``b`` are their adjoint solves.  As
    SciPy's (LAPACK's ``potrs``), a zero on the diagonal of ``c`` gives infinities or
    NaN, not an error.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import cho_factor, cho_solve
    >>> c = cho_factor(np.array([[4.0, 0.0], [0.0, 1.0]]))
    >>> ad.grad(lambda b: anp.sum(cho_solve(c, b)))(np.ones(2))
    array([0.25, 1.  ])
    """
    c, lower = c_and_lower
    c, b = _assembled(c, b)
    if not any_traced((c, b)):
        return scipy.linalg.cho_solve(
            (c, lower), b, overwrite_b=overwrite_b, check_finite=check_finite
        )
    require_square("cho_solve", "c", c)
    # SciPy checks the inputs only: the intermediate solution may overflow.  As LAPACK's
    # potrs, the triangular solves do not refuse a zero on the diagonal.
    columns = _as_columns(b, b)
    checks = {"check_finite": bool(check_finite), "check_singular": False}
    unchecked = {"check_finite": False, "check_singular": False}
    code = _conjugate_code(c)  # A = L L^H = U^H U
    if _one_flag(lower):
        inner = _triangular(c, columns, lower=True, **checks)
        result = _triangular(c, inner, trans=code, lower=True, **unchecked)
    else:
        inner = _triangular(c, columns, trans=code, lower=False, **checks)
        result = _triangular(c, inner, lower=False, **unchecked)
    return squeeze(result, -1) if ndim_of(b) == 1 else result


# --- lu_factor, lu_solve ---------------------------------------------------------------


def _lu_factor_impl(a: Any, check_finite: bool = True) -> Any:
    lu, piv = scipy.linalg.lu_factor(a, check_finite=check_finite)
    return pack_values([lu, piv.astype(lu.dtype)], lu.shape[:-2])


def _pivots_impl(packed_pivots: Any) -> Any:
    return np.real(packed_pivots).astype(np.int32)


def _row_order_impl(piv: Any, inverse: bool = False) -> Any:
    """The row order of LAPACK's pivots ``piv`` (row ``i`` interchanged with row
    ``piv[i]``, for ``i = 0, 1, ...``): ``b[order]`` is ``b`` with its rows interchanged
    (``inverse``: the order that undoes them)."""
    piv = np.real(piv).astype(np.intp)  # packed with a complex factor: real parts
    n = piv.shape[-1]
    order = np.array(np.broadcast_to(np.arange(n), piv.shape))
    for i in range(n):
        other = piv[..., i : i + 1]
        here = order[..., i : i + 1].copy()
        order[..., i : i + 1] = np.take_along_axis(order, other, axis=-1)
        np.put_along_axis(order, other, here, axis=-1)
    return np.argsort(order, axis=-1) if inverse else order


def _permutation_impl(piv: Any, dtype: str = "float64") -> Any:
    """The 0/1 matrices ``P`` with ``P @ b`` the rows of ``b`` interchanged as LAPACK's
    pivots ``piv`` say (row ``i`` with row ``piv[i]``, for ``i = 0, 1, ...``)."""
    order = _row_order_impl(piv)
    return (order[..., :, None] == np.arange(order.shape[-1])).astype(dtype)


#: The pivots of a packed ``lu_factor`` result, as SciPy's int32 array (a constant).
_PIVOTS = primitive("scipy.linalg.lu_pivots", _pivots_impl, (), (), nondiff=True, batch=elementwise)
#: The row order of LAPACK pivots, or its inverse (a constant for differentiation).
_ROW_ORDER = primitive(
    "scipy.linalg.pivot_order", _row_order_impl, (), (), nondiff=True, batch=leading
)
#: The row-interchange matrix of LAPACK pivots (a constant for differentiation).
_PERMUTATION = primitive(
    "scipy.linalg.pivot_matrix", _permutation_impl, (), (), nondiff=True, batch=leading
)


def _interchange(piv: Any, like: Any) -> Any:
    dtype = dtype_of(like)
    name = dtype.name if dtype.kind == "f" else "float64"
    return call_primitive(_PERMUTATION, (piv,), Params(dtype=name))


def _interchange_rows(columns: Any, piv: Any, batch: tuple, inverse: bool = False) -> Any:
    """The rows of ``columns`` (``(..., n, k)``) interchanged as the pivots ``piv`` say (or
    back, ``inverse``), for the stack shape ``batch``.  An exact gather, like LAPACK's
    ``laswp``: infinities stay infinities (a product with the 0/1 matrix would make NaN
    of them)."""
    n, k = shape_of(columns)[-2:]
    order = call_primitive(_ROW_ORDER, (piv,), Params(inverse=bool(inverse)))
    index = broadcast_to(expand_dims(order, -1), batch + (n, 1))
    return take_along_axis(broadcast_to(columns, batch + (n, k)), index, axis=-2)


def _unit_lower(lu: Any) -> Any:
    return lu * mask(lu, -1) + eye_like(lu)


def _upper(lu: Any) -> Any:
    return lu * mask(lu, 0, lower=False)


def _lu_parts(packed: Any, n: int) -> list:
    return unpack(packed, [(n, n), (n,)])


def _lu_factor_jvp(t: Any, ans: Any, a: Any, check_finite: bool = True) -> Any:
    n = shape_of(a)[-1]
    lu, pivots = _lu_parts(ans, n)
    rows = _interchange(pivots, a) @ t
    left = solve_triangular(lu, rows, lower=True, unit_diagonal=True)  # L^{-1} P^T dA
    both = mT(solve_triangular(lu, mT(left), trans=1))  # ... U^{-1}
    change = _unit_lower(lu) @ (both * mask(both, -1)) + _upper(both) @ _upper(lu)
    return pack([change, np.zeros(shape_of(pivots), dtype_of(ans))], shape_of(a)[:-2])


def _lu_factor_vjp(g: Any, ans: Any, a: Any, check_finite: bool = True) -> Any:
    n = shape_of(a)[-1]
    lu, pivots = _lu_parts(ans, n)
    g_lu = _lu_parts(g, n)[0]
    strict = mask(g_lu, -1)
    middle = (mT(_unit_lower(lu)) @ (g_lu * strict)) * strict + _upper(
        _upper(g_lu) @ mT(_upper(lu))
    )
    left = solve_triangular(lu, middle, trans=1, lower=True, unit_diagonal=True)  # L^{-T} M
    both = mT(solve_triangular(lu, mT(left)))  # ... U^{-T}
    return mT(_interchange(pivots, a)) @ both


def _lu_factor_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    return (draw_matrix(draw, st, hnp, n, n, draw_batch(draw, st)),), {"check_finite": True}


def _complex_lu_factor_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    a = draw_complex_matrix(draw, st, hnp, n, n, draw_batch(draw, st))
    return (a,), {"check_finite": True}


_LU_FACTOR = primitive(
    "scipy.linalg.lu_factor",
    _lu_factor_impl,
    (_lu_factor_vjp,),
    (_lu_factor_jvp,),
    domain=Domain(examples=_lu_factor_examples),
    batch=STACKED,
    complex_domain=Domain(examples=_complex_lu_factor_examples),
)


@export(scipy.linalg.lu_factor, primitive=_LU_FACTOR)
def lu_factor(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """Differentiable :func:`scipy.linalg.lu_factor`: ``(lu, piv)`` for :func:`lu_solve`.

    Parameters
    ----------
    a : array_like
        Shape ``(..., n, n)``.
        Square matrices, real or complex (SciPy also factors rectangular ones: plain
        values only).
    overwrite_a, check_finite
        As in SciPy (``overwrite_a`` for plain values only).

    Returns
    -------
    lu : ndarray
        Shape ``(..., n, n)``.
        ``U`` in the upper triangle and the unit lower triangular ``L`` below it, with
        ``a = P L U``.
    piv : ndarray of int32
        Shape ``(..., n)``.
        LAPACK's pivots (row ``i`` was interchanged with row ``piv[i]``): a constant for
        differentiation.

    Notes
    -----
    Derivative, with the pivots fixed (they are locally constant where no two candidate
    pivots tie): ``F = L^{-1} P^T dA U^{-1}``, ``dL = L strict_lower(F)``,
    ``dU = upper(F) U``; the reverse rule is its adjoint (with plain transposes for
    complex ``a``: the factors are holomorphic in it).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import lu_factor, lu_solve
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> ad.grad(lambda a: lu_solve(lu_factor(a), np.array([1.0, 0.0]))[0])(a)
    array([[-4. ,  3. ],
           [ 2. , -1.5]])
    """
    if type(a) is not Tracer:
        return scipy.linalg.lu_factor(a, overwrite_a=overwrite_a, check_finite=check_finite)
    n = require_square("lu_factor", "a", a)
    packed = bind(_LU_FACTOR, (a,), Params(check_finite=bool(check_finite)))
    lu, pivots = _lu_parts(packed, n)
    return lu, bind(_PIVOTS, (pivots,), EMPTY_PARAMS)


def _lu_solve_examples(draw: Any, st: Any, hnp: Any, complex_values: bool = False) -> tuple:
    n = draw(st.integers(1, 3))
    batch = draw_batch(draw, st)
    if complex_values:
        a = draw_complex_matrix(draw, st, hnp, n, n, batch)
    else:
        a = draw_matrix(draw, st, hnp, n, n, batch)
    lu, piv = scipy.linalg.lu_factor(a)
    b = _rhs_examples(draw, st, hnp, n, batch, complex_values)
    return ([lu, piv], b), {"trans": draw(st.sampled_from([0, 1, 2]))}


def _complex_lu_solve_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    return _lu_solve_examples(draw, st, hnp, complex_values=True)


# The first argument is SciPy's factorization tuple, not an array-like.
@export(
    scipy.linalg.lu_solve,
    domain=Domain(examples=_lu_solve_examples),
    complex_domain=Domain(examples=_complex_lu_solve_examples),
    operation=False,
    arraylike=False,
)
def lu_solve(
    lu_and_piv: Any,
    b: Any,
    trans: Any = 0,
    overwrite_b: bool = False,
    check_finite: bool = True,
) -> Any:
    """Differentiable :func:`scipy.linalg.lu_solve`: ``x`` with ``op(A) x = b`` from
    :func:`lu_factor`'s ``(lu, piv)``.

    Parameters
    ----------
    lu_and_piv : tuple
        ``(lu, piv)``, the factorization; ``piv`` (integers) is a constant for
        differentiation.
    b : array_like
        Shape ``(..., n)`` or ``(..., n, k)``.
        The right-hand side.
    trans : {0, 1, 2}
        Solve ``A x = b`` (0), ``A^T x = b`` (1) or ``A^H x = b`` (2).
    overwrite_b, check_finite
        As in SciPy (``overwrite_b`` for plain values only).

    Returns
    -------
    ndarray
        The solution, shaped like ``b``.

    Notes
    -----
    An exact composite: the row interchanges (a gather by the pivots, a constant) and two
    :func:`solve_triangular` calls, so its derivatives in ``lu`` and ``b`` are their
    adjoint solves.  As SciPy's (LAPACK's ``getrs``), a zero on the diagonal of ``U``
    gives infinities or NaN, not an error.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import lu_factor, lu_solve
    >>> factors = lu_factor(np.array([[0.0, 1.0], [2.0, 0.0]]))
    >>> ad.grad(lambda b: lu_solve(factors, b)[0])(np.ones(2))
    array([0. , 0.5])
    """
    lu, piv = lu_and_piv
    lu, piv, b = _assembled(lu, piv, b)
    if not any_traced((lu, piv, b)):
        return scipy.linalg.lu_solve(
            (lu, piv), b, trans=trans, overwrite_b=overwrite_b, check_finite=check_finite
        )
    code = transposition("lu_solve", trans, letters=False)
    require_square("lu_solve", "lu", lu)
    columns = _as_columns(b, b)
    batch = np.broadcast_shapes(shape_of(lu)[:-2], shape_of(piv)[:-1], shape_of(columns)[:-2])
    # As LAPACK's getrs: interchanges and triangular solves that do not refuse a zero on
    # the diagonal (SciPy's lu_solve gives infinities or NaN there, not an error).
    if code == 0:
        rows = _interchange_rows(columns, piv, batch)
        inner = _triangular(
            lu,
            rows,
            lower=True,
            unit_diagonal=True,
            check_finite=bool(check_finite),
            check_singular=False,
        )
        result = _triangular(lu, inner, check_finite=False, check_singular=False)
    else:
        # A^T = U^T L^T P^T, and A^H = U^H L^H P^T (the same for real lu).
        transposed = 2 if code == 2 and is_complex(lu) else 1
        inner = _triangular(
            lu, columns, trans=transposed, check_finite=bool(check_finite), check_singular=False
        )
        inner = _triangular(
            lu,
            inner,
            trans=transposed,
            lower=True,
            unit_diagonal=True,
            check_finite=False,
            check_singular=False,
        )
        result = _interchange_rows(inner, piv, batch, inverse=True)
    return squeeze(result, -1) if ndim_of(b) == 1 else result


# --- solve_banded ----------------------------------------------------------------------


def _solve_banded_impl(
    ab: Any, b: Any, lower_bands: int = 0, upper_bands: int = 0, check_finite: bool = True
) -> Any:
    return scipy.linalg.solve_banded((lower_bands, upper_bands), ab, b, check_finite=check_finite)


def _dense(ab: Any, lower_bands: int, upper_bands: int) -> Any:
    """The ``(n, n)`` matrix of the band storage ``ab``: ``A[i, j] = ab[u + i - j, j]``."""
    n = shape_of(ab)[-1]
    i, j = np.indices((n, n))
    rows = upper_bands + i - j
    inside = (rows >= 0) & (rows <= lower_bands + upper_bands)
    entries = getitem(ab, (np.where(inside, rows, 0), j))
    return entries * inside.astype(dtype_of(ab))


def _banded(matrix: Any, lower_bands: int, upper_bands: int) -> Any:
    """The band storage (``(l + u + 1, n)``) of the band of a ``(n, n)`` matrix."""
    n = shape_of(matrix)[-1]
    k, j = np.indices((lower_bands + upper_bands + 1, n))
    rows = k - upper_bands + j
    inside = (rows >= 0) & (rows < n)
    entries = getitem(matrix, (np.where(inside, rows, 0), j))
    return entries * inside.astype(dtype_of(matrix))


def _banded_cotangent_b(g: Any, ab: Any, lower_bands: int, upper_bands: int, **p: Any) -> Any:
    """``A^{-T} g``: ``A^T`` is banded with the bands swapped."""
    transposed = _banded(mT(_dense(ab, lower_bands, upper_bands)), upper_bands, lower_bands)
    return solve_banded((upper_bands, lower_bands), transposed, g, **p)


def _banded_vjp_ab(
    g: Any, ans: Any, ab: Any, b: Any, lower_bands: int = 0, upper_bands: int = 0, **p: Any
) -> Any:
    gb = _banded_cotangent_b(g, ab, lower_bands, upper_bands, **p)
    outer = -(_as_columns(b, gb) @ mT(_as_columns(b, ans)))
    return _banded(outer, lower_bands, upper_bands)


def _banded_vjp_b(
    g: Any, ans: Any, ab: Any, b: Any, lower_bands: int = 0, upper_bands: int = 0, **p: Any
) -> Any:
    return _banded_cotangent_b(g, ab, lower_bands, upper_bands, **p)


def _banded_jvp_ab(
    t: Any, ans: Any, ab: Any, b: Any, lower_bands: int = 0, upper_bands: int = 0, **p: Any
) -> Any:
    change = -(_dense(t, lower_bands, upper_bands) @ _as_columns(b, ans))
    result = solve_banded((lower_bands, upper_bands), ab, change, **p)
    return squeeze(result, -1) if ndim_of(b) == 1 else result


def _banded_jvp_b(
    t: Any, ans: Any, ab: Any, b: Any, lower_bands: int = 0, upper_bands: int = 0, **p: Any
) -> Any:
    return solve_banded((lower_bands, upper_bands), ab, t, **p)


def _complex_banded_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """A complex diagonally dominant banded matrix in band storage: entries of real and
    imaginary parts in ``[-1, 1]``, diagonal entries of magnitude ``1 + 1.5 (l + u)`` to
    ``2 + 1.5 (l + u)`` in any direction."""
    from adfun.numpy._examples import array, complex_array

    n = draw(st.integers(1, 4))
    lower_bands = draw(st.integers(0, min(2, n - 1)))
    upper_bands = draw(st.integers(0, min(2, n - 1)))
    ab = complex_array(draw, st, hnp, (-1.0, 1.0), shape=(lower_bands + upper_bands + 1, n))
    radii = array(draw, st, hnp, (1.0, 2.0), shape=(n,)) + 1.5 * (lower_bands + upper_bands)
    ab[upper_bands] = radii * np.exp(1j * array(draw, st, hnp, (-3.0, 3.0), shape=(n,)))
    shape = draw(st.sampled_from([(n,), (n, 2)]))
    b = complex_array(draw, st, hnp, (-2.0, 2.0), shape=shape)
    params = {"lower_bands": lower_bands, "upper_bands": upper_bands, "check_finite": True}
    return (ab, b), params


def _banded_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """A diagonally dominant banded matrix in band storage (the unused corners of the
    storage hold random entries too: their gradient must be zero)."""
    from adfun.numpy._examples import array

    n = draw(st.integers(1, 4))
    lower_bands = draw(st.integers(0, min(2, n - 1)))
    upper_bands = draw(st.integers(0, min(2, n - 1)))
    ab = array(draw, st, hnp, (-1.0, 1.0), shape=(lower_bands + upper_bands + 1, n))
    diagonal = array(draw, st, hnp, (1.0, 2.0), shape=(n,), magnitude=True)
    ab[upper_bands] = diagonal + np.sign(diagonal) * (lower_bands + upper_bands)
    b = array(draw, st, hnp, (-2.0, 2.0), shape=draw(st.sampled_from([(n,), (n, 2)])))
    params = {"lower_bands": lower_bands, "upper_bands": upper_bands, "check_finite": True}
    return (ab, b), params


_SOLVE_BANDED = primitive(
    "scipy.linalg.solve_banded",
    _solve_banded_impl,
    (_banded_vjp_ab, _banded_vjp_b),
    (_banded_jvp_ab, _banded_jvp_b),
    domain=Domain(examples=_banded_examples),
    complex_domain=Domain(examples=_complex_banded_examples),
)


@export(scipy.linalg.solve_banded, primitive=_SOLVE_BANDED)
def solve_banded(
    l_and_u: Any,
    ab: Any,
    b: Any,
    overwrite_ab: bool = False,
    overwrite_b: bool = False,
    check_finite: bool = True,
) -> Any:
    """Differentiable :func:`scipy.linalg.solve_banded`: ``x`` with ``A x = b``, ``A``
    banded and given in band storage.

    Parameters
    ----------
    l_and_u : (int, int)
        The numbers of nonzero lower and upper diagonals (plain integers).
    ab : array_like
        Shape ``(l + u + 1, n)``.
        The band storage: ``ab[u + i - j, j] == A[i, j]``, real or complex.  Its unused
        corners are not read (zero gradient).
    b : array_like
        Shape ``(n,)`` or ``(n, k)``.
        The right-hand side.
    overwrite_ab, overwrite_b, check_finite
        As in SciPy (the ``overwrite_*`` flags for plain values only).

    Returns
    -------
    ndarray
        SciPy's solution, shaped like ``b``.

    Notes
    -----
    Derivative: ``b_bar = A^{-T} g`` (a banded solve with the bands swapped) and
    ``ab_bar`` the band of ``-b_bar x^T``; forward ``dx = A^{-1} (db - dA x)``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import solve_banded
    >>> ab = np.array([[0.0, 1.0], [2.0, 2.0]])  # [[2, 1], [0, 2]]
    >>> ad.grad(lambda b: anp.sum(solve_banded((0, 1), ab, b)))(np.ones(2))
    array([0.5 , 0.25])
    """
    if not any_traced((ab, b)):
        return scipy.linalg.solve_banded(
            l_and_u,
            ab,
            b,
            overwrite_ab=overwrite_ab,
            overwrite_b=overwrite_b,
            check_finite=check_finite,
        )
    if not (
        isinstance(l_and_u, (tuple, list))
        and len(l_and_u) == 2
        and all(
            isinstance(count, (int, np.integer)) and not isinstance(count, bool)
            for count in l_and_u
        )
    ):
        raise TypeError(
            f"adfun.scipy.linalg.solve_banded: l_and_u must be a pair of plain integers "
            f"(the numbers of lower and upper diagonals), got {l_and_u!r}"
        )
    lower_bands, upper_bands = (int(count) for count in l_and_u)
    if ndim_of(ab) != 2 or shape_of(ab)[0] != lower_bands + upper_bands + 1:
        raise ValueError(
            f"adfun.scipy.linalg.solve_banded: ab has shape {shape_of(ab)}; for "
            f"l_and_u={l_and_u!r} it must be ({lower_bands + upper_bands + 1}, n)"
        )
    params = Params(
        lower_bands=lower_bands, upper_bands=upper_bands, check_finite=bool(check_finite)
    )
    return bind(_SOLVE_BANDED, (ab, b), params)
