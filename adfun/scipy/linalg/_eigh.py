"""The symmetric eigenproblem, standard and generalized: ``eigh`` and ``eigvalsh``.

``eigh(a, b)`` solves ``a v = w b v`` for symmetric (complex: Hermitian) ``a`` and
symmetric (Hermitian) positive definite ``b`` (SciPy's ``type=1``).  The eigenvalues
ascend and the eigenvectors are ``b``-orthonormal, ``V^H b V = I`` (orthonormal for the
standard problem): SciPy's normalization.  Signs and phases: LAPACK leaves each
eigenvector's sign (complex: phase) to chance and its choice flips under arbitrarily
small changes of the matrices (SciPy's default driver ``evr`` does, in practice), so
SciPy's eigenvectors are not a differentiable function of them.  Here each
eigenvector's largest-magnitude component (the first of equal ones) is made real and
positive, on plain and traced values alike -- the gauge of
:func:`adfun.numpy.linalg.eigh` (docs/conventions.md, "Phases of complex eigenvectors
and singular vectors"): the eigenvectors equal SciPy's up to the sign (phase) of each
column, and are smooth wherever the eigenvalues are distinct and no two components of
a vector tie for the largest magnitude.

With ``dA_hat = V^H dA V`` and ``dB_hat = V^H dB V`` (both read from the triangle named
by ``lower``, and the real part of the diagonal, as LAPACK reads them):

* ``dw_i = dA_hat_ii - w_i dB_hat_ii`` (real);
* ``dV = V C``, ``C_ij = (dA_hat - dB_hat diag(w))_ij / (w_j - w_i)`` for ``i != j`` and
  ``C_ii = -dB_hat_ii / 2`` (which keeps ``V^H b V = I``), then for complex vectors the
  gauge term ``-i V diag(c)`` with ``c`` real, which keeps each vector's largest
  component real.

The reverse rules are the adjoints for ``dL = Re(cotangent * dz)``: the cotangent of the
input is ``conj(V) hat V^T`` read back onto the triangle.

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
from adfun.numpy._complex import conjugate, imag, real
from adfun.numpy._declare import Domain, export, primitive
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._shape import expand_dims
from adfun.numpy.linalg._helpers import (
    diag_embed,
    diag_part,
    draw_complex_matrix,
    draw_hermitian,
    draw_matrix,
    draw_spectrum,
    draw_symmetric,
    fix_phase,
    largest_mask,
    mH,
    mT,
    off_diagonal_inverse,
    pack,
    pack_values,
    phase_correction,
    phase_correction_adjoint,
    read_hermitian,
    read_hermitian_adjoint,
    unpack,
)
from adfun.scipy.linalg._common import (
    STACKED,
    draw_batch,
    is_complex,
    refuse_option,
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


def _in_gauge(v: np.ndarray) -> np.ndarray:
    """Eigenvectors with each one's largest component real and positive: the sign for
    real ``v``, the phase for complex ``v`` (:func:`adfun.numpy.linalg.eigh`'s gauge)."""
    return fix_phase(v)[0] if np.iscomplexobj(v) else _positive_largest(v)


def _eigh_impl(a: Any, **params: Any) -> Any:
    w, v = scipy.linalg.eigh(a, **params)
    return pack_values([w, _in_gauge(v)], w.shape[:-1])


def _eigh_generalized_impl(a: Any, b: Any, **params: Any) -> Any:
    w, v = scipy.linalg.eigh(a, b, **params)
    return pack_values([w, _in_gauge(v)], w.shape[:-1])


def _eigvalsh_impl(a: Any, **params: Any) -> Any:
    return scipy.linalg.eigh(a, eigvals_only=True, **params)


def _eigvalsh_generalized_impl(a: Any, b: Any, **params: Any) -> Any:
    return scipy.linalg.eigh(a, b, eigvals_only=True, **params)


def _parts(packed: Any) -> list:
    """``[w, v]`` of a packed result, or of its cotangent or tangent (``w`` is real:
    the real part of a complex packing)."""
    k = shape_of(packed)[-1]
    n = int(round((-1 + np.sqrt(1 + 4 * k)) / 2))  # k = n + n * n
    w, v = unpack(packed, [(n,), (n, n)])
    return [real(w), v]


def _gauge(dv: Any, v: Any) -> Any:
    """The change ``dv`` of complex eigenvectors ``v`` with each vector's largest
    component kept real (the phase gauge); ``dv`` itself for real vectors."""
    if not is_complex(v):
        return dv
    return dv - 1j * v * expand_dims(phase_correction(dv, v, largest_mask(v)), -2)


def _gauge_adjoint(gv: Any, v: Any) -> Any:
    """The adjoint of :func:`_gauge`, on the cotangent ``gv`` of the vectors."""
    if not is_complex(v):
        return gv
    return gv + phase_correction_adjoint(imag(_sum(gv * v, axis=-2)), v, largest_mask(v))


def _gaps(w: Any) -> Any:
    """``F_ij = 1 / (w_j - w_i)`` off the diagonal (and at distinct values), else 0."""
    return off_diagonal_inverse(expand_dims(w, -2) - expand_dims(w, -1))


def _rotated(t: Any, v: Any, lower: bool) -> Any:
    """``V^H dT V`` for the symmetric (Hermitian) matrix read from one triangle of the
    tangent."""
    return mH(v) @ read_hermitian(t, lower) @ v


def _back(hat: Any, v: Any, lower: bool, like: Any) -> Any:
    """The cotangent of the input from that of ``V^H dX V``."""
    return unbroadcast(read_hermitian_adjoint(conjugate(v) @ hat @ mT(v), lower), like)


def _batch(a: Any, b: Any = None) -> tuple:
    shapes = [shape_of(a)[:-2]] + ([] if b is None else [shape_of(b)[:-2]])
    return tuple(np.broadcast_shapes(*shapes))


# Rules of the eigenpairs ---------------------------------------------------------------


def _a_jvp(t: Any, ans: Any, a: Any, *b: Any, lower: bool = True, **params: Any) -> Any:
    w, v = _parts(ans)
    rotated = _rotated(t, v, lower)
    dv = _gauge(v @ (_gaps(w) * rotated), v)
    return pack([real(diag_part(rotated)), dv], _batch(a, *b))


def _a_vjp(g: Any, ans: Any, a: Any, *b: Any, lower: bool = True, **params: Any) -> Any:
    w, v = _parts(ans)
    gw, gv = _parts(g)
    hat = diag_embed(gw) + _gaps(w) * (mT(v) @ _gauge_adjoint(gv, v))
    return _back(hat, v, lower, a)


def _b_jvp(t: Any, ans: Any, a: Any, b: Any, lower: bool = True, **params: Any) -> Any:
    w, v = _parts(ans)
    rotated = _rotated(t, v, lower)
    diagonal = real(diag_part(rotated))
    mixing = -(_gaps(w) * (rotated * expand_dims(w, -2))) - 0.5 * diag_embed(diagonal)
    return pack([-w * diagonal, _gauge(v @ mixing, v)], _batch(a, b))


def _b_vjp(g: Any, ans: Any, a: Any, b: Any, lower: bool = True, **params: Any) -> Any:
    w, v = _parts(ans)
    gw, gv = _parts(g)
    projected = mT(v) @ _gauge_adjoint(gv, v)
    hat = -(
        diag_embed(gw * w)
        + (_gaps(w) * projected) * expand_dims(w, -2)
        + 0.5 * diag_embed(real(diag_part(projected)))
    )
    return _back(hat, v, lower, b)


# Rules of the eigenvalues alone --------------------------------------------------------


def _vectors(a: Any, b: Any, params: dict) -> Any:
    return eigh(a, b, **_options(params))[1]


def _values_a_jvp(t: Any, ans: Any, a: Any, *b: Any, lower: bool = True, **params: Any) -> Any:
    v = _vectors(a, b[0] if b else None, {"lower": lower, **params})
    return real(diag_part(_rotated(t, v, lower)))


def _values_a_vjp(g: Any, ans: Any, a: Any, *b: Any, lower: bool = True, **params: Any) -> Any:
    v = _vectors(a, b[0] if b else None, {"lower": lower, **params})
    return _back(diag_embed(g), v, lower, a)


def _values_b_jvp(t: Any, ans: Any, a: Any, b: Any, lower: bool = True, **params: Any) -> Any:
    v = _vectors(a, b, {"lower": lower, **params})
    return -ans * real(diag_part(_rotated(t, v, lower)))


def _values_b_vjp(g: Any, ans: Any, a: Any, b: Any, lower: bool = True, **params: Any) -> Any:
    v = _vectors(a, b, {"lower": lower, **params})
    return _back(diag_embed(-(g * ans)), v, lower, b)


# Test domains --------------------------------------------------------------------------


def _complex_standard_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    a = draw_hermitian(draw, st, hnp, n, draw_batch(draw, st))
    params = {
        "lower": draw(st.booleans()),
        "driver": draw(st.sampled_from([None, "evd", "evr"])),
        "check_finite": True,
    }
    return (a,), params


def _complex_generalized_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """``a = X^{-H} diag(w) X^{-1}``, ``b = X^{-H} X^{-1}`` with complex well-conditioned
    ``X`` and ``w`` well separated: the generalized eigenvectors are ``X``'s columns
    (up to phases)."""
    n = draw(st.integers(1, 3))
    batch = draw_batch(draw, st)
    pairs = []
    for _ in range(int(np.prod(batch, dtype=np.int64))):
        inverse = np.linalg.inv(draw_complex_matrix(draw, st, hnp, n, n))
        spectrum = draw_spectrum(draw, st, n, -3.0, 3.0) + 0.0137
        a = (inverse.conj().T * spectrum) @ inverse
        b = inverse.conj().T @ inverse
        pairs.append(((a + a.conj().T) / 2.0, (b + b.conj().T) / 2.0))
    shape = batch + (n, n)
    a = np.asarray([pair[0] for pair in pairs], dtype=np.complex128).reshape(shape)
    b = np.asarray([pair[1] for pair in pairs], dtype=np.complex128).reshape(shape)
    params = {
        "lower": draw(st.booleans()),
        "driver": draw(st.sampled_from([None, "gvd"])),
        "check_finite": True,
    }
    return (a, b), params


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


_COMPLEX_STANDARD = Domain(examples=_complex_standard_examples)
_COMPLEX_GENERALIZED = Domain(examples=_complex_generalized_examples)

_EIGH = primitive(
    "scipy.linalg.eigh",
    _eigh_impl,
    (_a_vjp,),
    (_a_jvp,),
    domain=Domain(examples=_standard_examples),
    batch=STACKED,
    complex_domain=_COMPLEX_STANDARD,
)
_EIGH_GENERALIZED = primitive(
    "scipy.linalg.eigh_generalized",
    _eigh_generalized_impl,
    (_a_vjp, _b_vjp),
    (_a_jvp, _b_jvp),
    domain=Domain(examples=_generalized_examples),
    batch=STACKED,
    complex_domain=_COMPLEX_GENERALIZED,
)
_EIGVALSH = primitive(
    "scipy.linalg.eigvalsh",
    _eigvalsh_impl,
    (_values_a_vjp,),
    (_values_a_jvp,),
    domain=Domain(examples=_standard_examples),
    batch=STACKED,
    complex_domain=_COMPLEX_STANDARD,
)
_EIGVALSH_GENERALIZED = primitive(
    "scipy.linalg.eigvalsh_generalized",
    _eigvalsh_generalized_impl,
    (_values_a_vjp, _values_b_vjp),
    (_values_a_jvp, _values_b_jvp),
    domain=Domain(examples=_generalized_examples),
    batch=STACKED,
    complex_domain=_COMPLEX_GENERALIZED,
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
    w, v = _parts(packed)  # w real, v complex when a or b is
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
        Symmetric, or complex Hermitian; only the triangle named by ``lower`` is read
        (and the real part of a complex diagonal).
    b : array_like
        Shape ``(..., n, n)``; optional.
        Symmetric (Hermitian) positive definite (generalized problem); the same triangle
        is read.
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
        The eigenvectors (columns), ``b``-orthonormal: ``v^H b v = I`` (orthonormal
        without ``b``).  Each column's largest-magnitude component is real and
        positive: SciPy's vectors up to the sign (complex: the phase) of each column
        (LAPACK's signs jump, these are differentiable; the gauge of
        :func:`adfun.numpy.linalg.eigh`).  Not returned with ``eigvals_only=True``.

    Notes
    -----
    With ``dA_hat = V^H dA V`` and ``dB_hat = V^H dB V``: ``dw_i = dA_hat_ii -
    w_i dB_hat_ii`` and ``dV = V C`` with ``C_ij = (dA_hat - dB_hat diag(w))_ij /
    (w_j - w_i)`` off the diagonal, ``C_ii = -dB_hat_ii / 2``, plus for complex
    vectors ``i V diag(c)`` (``c`` real) that keeps each largest component real.  The
    eigenvectors need distinct eigenvalues: at a repeated eigenvalue they are not
    unique and have no derivative (the terms of exactly equal eigenvalues are dropped,
    see :doc:`/conventions`).  A function of complex eigenvectors should not depend on
    their phases (``|v|**2``, ``v f(w) v^H``): then its derivative is the same in every
    gauge.

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
        return result if eigvals_only else (result[0], _in_gauge(result[1]))
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
    Derivative: ``dw_i = v_i^H (dA - w_i dB) v_i`` with ``b``-orthonormal eigenvectors
    (computed by :func:`eigh` when a rule needs them); ``a`` and ``b`` may be complex
    Hermitian, the eigenvalues are real.

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
