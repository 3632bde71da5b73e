"""Matrix functions: ``expm``, ``expm_frechet``, ``sqrtm`` and ``solve_sylvester``.

``expm``'s derivative is its Fréchet derivative ``L(A, E)``, read off the exponential of
the block matrix ``[[A, E], [0, A]]`` (Van Loan; Mathias): ``expm`` of it is
``[[expm(A), L(A, E)], [0, expm(A)]]``.  The forward rule is ``L(A, T)`` and the
reverse rule ``L(A^T, G)`` (the adjoint of ``L(A, .)``).  Both call ``expm`` itself, so
they differentiate again.  ``sqrtm``'s derivative solves the Sylvester equation
``X dX + dX X = dA``, with :func:`solve_sylvester`, itself differentiable.

All four are holomorphic in their matrix arguments, so the same rules hold for complex
matrices (with the convention ``dL = Re(cotangent * dz)`` the reverse rules keep plain
transposes, no conjugates: docs/conventions.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from adfun._engine.records import EMPTY_PARAMS
from adfun._engine.trace import Tracer, any_traced, bind
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._broadcast import unbroadcast
from adfun.numpy._complex import conjugate, real
from adfun.numpy._declare import Domain, complexified, export, primitive
from adfun.numpy._indexing import getitem
from adfun.numpy._reductions import sum as _sum
from adfun.numpy._shape import concatenate
from adfun.numpy.linalg._helpers import draw_complex_matrix, draw_matrix, draw_spectrum, mT
from adfun.scipy.linalg._common import STACKED, draw_batch, is_complex, require_square

# --- expm ------------------------------------------------------------------------------


def _block_frechet(a: Any, e: Any) -> tuple:
    """``(expm(a), L(a, e))`` from the exponential of ``[[a, e], [0, a]]``."""
    n = shape_of(a)[-1]
    batch = np.broadcast_shapes(shape_of(a)[:-2], shape_of(e)[:-2])
    dtype = np.result_type(dtype_of(a), dtype_of(e))
    zeros = np.zeros(batch + (n, n), dtype=dtype)
    a_full = a + zeros  # broadcast both blocks to the common batch shape
    top = concatenate([a_full, e + zeros], axis=-1)
    bottom = concatenate([zeros, a_full], axis=-1)
    big = expm(concatenate([top, bottom], axis=-2))
    head = slice(0, n)
    tail = slice(n, 2 * n)
    return getitem(big, (Ellipsis, head, head)), getitem(big, (Ellipsis, head, tail))


def _expm_vjp(g: Any, ans: Any, a: Any) -> Any:
    return _block_frechet(mT(a), g)[1]


def _expm_jvp(t: Any, ans: Any, a: Any) -> Any:
    return _block_frechet(a, t)[1]


def _expm_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    n = draw(st.integers(1, 3))
    return (array(draw, st, hnp, (-1.0, 1.0), shape=draw_batch(draw, st) + (n, n)),), {}


_EXPM = primitive(
    "scipy.linalg.expm",
    scipy.linalg.expm,
    (_expm_vjp,),
    (_expm_jvp,),
    domain=Domain(examples=_expm_examples),
    batch=STACKED,
    complex_domain=complexified(_expm_examples),
)


@export(scipy.linalg.expm, primitive=_EXPM)
def expm(A: Any) -> Any:  # noqa: N803 - SciPy's name
    """Differentiable :func:`scipy.linalg.expm`: the matrix exponential.

    Parameters
    ----------
    A : array_like
        Shape ``(..., n, n)``.
        Square matrices (stacks too, as SciPy takes them), real or complex.

    Returns
    -------
    ndarray
        Shape ``(..., n, n)``.
        ``expm(A)``, SciPy's value.

    Notes
    -----
    Derivative: the Fréchet derivative ``L(A, E)`` from the block matrix
    ``expm([[A, E], [0, A]]) = [[expm(A), L(A, E)], [0, expm(A)]]``: forward
    ``L(A, T)``, reverse ``L(A^T, G)`` (a plain transpose for complex ``A`` too:
    ``expm`` is holomorphic).  Derivatives of every order.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import expm
    >>> ad.grad(lambda a: anp.trace(expm(a)))(np.diag([0.0, 1.0]))  # expm(A)^T
    array([[1.        , 0.        ],
           [0.        , 2.71828183]])
    """
    if type(A) is not Tracer:
        return scipy.linalg.expm(A)
    require_square("expm", "A", A)
    return bind(_EXPM, (A,), EMPTY_PARAMS)


def _frechet_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    n = draw(st.integers(1, 3))
    a = array(draw, st, hnp, (-1.0, 1.0), shape=(n, n))
    e = array(draw, st, hnp, (-1.0, 1.0), shape=(n, n))
    return (a, e), {"compute_expm": draw(st.booleans())}


@export(
    scipy.linalg.expm_frechet,
    domain=Domain(examples=_frechet_examples),
    complex_domain=complexified(_frechet_examples),
    operation=False,
)
def expm_frechet(
    A: Any,  # noqa: N803 - SciPy's name
    E: Any,  # noqa: N803 - SciPy's name
    method: str | None = None,
    compute_expm: bool = True,
    check_finite: bool = True,
) -> Any:
    """Differentiable :func:`scipy.linalg.expm_frechet`: the Fréchet derivative of
    ``expm`` at ``A`` in the direction ``E``.

    Parameters
    ----------
    A, E : array_like
        Shape ``(n, n)``.
        The matrix and the direction, real or complex.
    method : {None, 'SPS', 'blockEnlarge'}
        SciPy's algorithm, for plain values.  Traced values are always differentiated
        through the block-enlargement formula (an exact composite of :func:`expm`).
    compute_expm : bool
        Also return ``expm(A)`` (first), as SciPy does.
    check_finite : bool
        For plain values, passed to SciPy.

    Returns
    -------
    expm_A : ndarray
        ``expm(A)`` (only with ``compute_expm=True``).
    expm_frechet_AE : ndarray
        ``L(A, E)``.

    Notes
    -----
    On traced values the result is the block ``[0:n, n:2n]`` of
    ``expm([[A, E], [0, A]])`` (and ``expm(A)`` its block ``[0:n, 0:n]``), differentiable
    in ``A`` and ``E`` to every order; it equals SciPy's to rounding.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import expm_frechet
    >>> e = np.eye(2)
    >>> ad.grad(lambda a: anp.sum(expm_frechet(a, e, compute_expm=False)))(np.zeros((2, 2)))
    array([[1., 1.],
           [1., 1.]])
    """
    if not any_traced((A, E)):
        return scipy.linalg.expm_frechet(
            A, E, method=method, compute_expm=compute_expm, check_finite=check_finite
        )
    if method not in (None, "SPS", "blockEnlarge"):
        raise ValueError(
            f"adfun.scipy.linalg.expm_frechet: method must be None, 'SPS' or "
            f"'blockEnlarge', got {method!r}"
        )
    n = require_square("expm_frechet", "A", A)
    if shape_of(E) != shape_of(A):
        raise ValueError(
            f"adfun.scipy.linalg.expm_frechet: A has shape {shape_of(A)} and E "
            f"{shape_of(E)}; they must have the same shape (n, n), here n = {n}"
        )
    expm_a, frechet = _block_frechet(A, E)
    return (expm_a, frechet) if compute_expm else frechet


# --- solve_sylvester -------------------------------------------------------------------


def _cotangent_q(g: Any, a: Any, b: Any) -> Any:
    """``Q_bar``: the solution of ``a^T Q_bar + Q_bar b^T = g``."""
    return solve_sylvester(mT(a), mT(b), g)


def _sylvester_vjp_a(g: Any, ans: Any, a: Any, b: Any, q: Any) -> Any:
    return unbroadcast(-(_cotangent_q(g, a, b) @ mT(ans)), a)


def _sylvester_vjp_b(g: Any, ans: Any, a: Any, b: Any, q: Any) -> Any:
    return unbroadcast(-(mT(ans) @ _cotangent_q(g, a, b)), b)


def _sylvester_vjp_q(g: Any, ans: Any, a: Any, b: Any, q: Any) -> Any:
    return unbroadcast(_cotangent_q(g, a, b), q)


def _sylvester_jvp_a(t: Any, ans: Any, a: Any, b: Any, q: Any) -> Any:
    return solve_sylvester(a, b, -(t @ ans))


def _sylvester_jvp_b(t: Any, ans: Any, a: Any, b: Any, q: Any) -> Any:
    return solve_sylvester(a, b, -(ans @ t))


def _sylvester_jvp_q(t: Any, ans: Any, a: Any, b: Any, q: Any) -> Any:
    return solve_sylvester(a, b, t)


def _sylvester_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """``a``, ``b`` with eigenvalues of real part at least 1 (so that no eigenvalue of
    ``a`` is close to minus one of ``b``), any ``q``."""
    from adfun.numpy._examples import array

    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw_batch(draw, st)
    a = draw_matrix(draw, st, hnp, m, m, batch) + 4.0 * np.eye(m)
    b = draw_matrix(draw, st, hnp, n, n, batch) + 4.0 * np.eye(n)
    return (a, b, array(draw, st, hnp, (-2.0, 2.0), shape=batch + (m, n))), {}


def _complex_sylvester_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """Complex ``a``, ``b`` with eigenvalues of real part at least 1, complex ``q``."""
    from adfun.numpy._examples import complex_array

    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw_batch(draw, st)
    a = draw_complex_matrix(draw, st, hnp, m, m, batch) + 4.0 * np.eye(m)
    b = draw_complex_matrix(draw, st, hnp, n, n, batch) + 4.0 * np.eye(n)
    return (a, b, complex_array(draw, st, hnp, (-2.0, 2.0), shape=batch + (m, n))), {}


def _solve_sylvester_impl(a: Any, b: Any, q: Any) -> Any:
    """SciPy's solution; complex as soon as one argument is: SciPy's own solver mixes a
    real Schur form of a real ``a`` or ``b`` with the complex ``trsyl`` of a complex
    other argument, and returns a wrong solution when that real Schur form has 2x2
    blocks (complex eigenvalues), so all three are made complex first."""
    a, b, q = (np.asarray(x) for x in (a, b, q))
    if is_complex(a, b, q):
        dtype = np.result_type(a, b, q, np.complex64)
        a, b, q = (x.astype(dtype, copy=False) for x in (a, b, q))
    return scipy.linalg.solve_sylvester(a, b, q)


_SOLVE_SYLVESTER = primitive(
    "scipy.linalg.solve_sylvester",
    _solve_sylvester_impl,
    (_sylvester_vjp_a, _sylvester_vjp_b, _sylvester_vjp_q),
    (_sylvester_jvp_a, _sylvester_jvp_b, _sylvester_jvp_q),
    domain=Domain(examples=_sylvester_examples),
    batch=STACKED,
    complex_domain=Domain(examples=_complex_sylvester_examples),
)


@export(scipy.linalg.solve_sylvester, primitive=_SOLVE_SYLVESTER)
def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """Differentiable :func:`scipy.linalg.solve_sylvester`: ``X`` with ``a X + X b = q``.

    Parameters
    ----------
    a : array_like
        Shape ``(..., m, m)``.
    b : array_like
        Shape ``(..., n, n)``.
    q : array_like
        Shape ``(..., m, n)``.
        Real or complex.  Stacks of matrices where the installed SciPy takes them.

    Returns
    -------
    ndarray
        Shape ``(..., m, n)``.
        SciPy's solution (Bartels-Stewart).  When one argument is complex all three are
        made complex before SciPy's solver runs (on plain values too): SciPy's own
        mixes a real Schur form with a complex solver and is wrong for a real ``a`` or
        ``b`` with complex eigenvalues next to a complex other argument.

    Notes
    -----
    Derivative: forward ``dX = solve_sylvester(a, b, dq - da X - X db)``; reverse
    ``Q_bar = solve_sylvester(a^T, b^T, G)``, ``a_bar = -Q_bar X^T``,
    ``b_bar = -X^T Q_bar``, ``q_bar = Q_bar``.  The equation must have a unique
    solution (no eigenvalue of ``a`` equal to minus one of ``b``).  The rules keep
    plain transposes for complex matrices (the solution is holomorphic in all three).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import solve_sylvester
    >>> a, b = np.diag([1.0, 2.0]), np.array([[3.0]])
    >>> ad.grad(lambda q: anp.sum(solve_sylvester(a, b, q)))(np.ones((2, 1)))
    array([[0.25],
           [0.2 ]])
    """
    if not any_traced((a, b, q)):
        return _solve_sylvester_impl(a, b, q)
    m = require_square("solve_sylvester", "a", a)
    n = require_square("solve_sylvester", "b", b)
    if shape_of(q)[-2:] != (m, n):
        raise ValueError(
            f"adfun.scipy.linalg.solve_sylvester: q has shape {shape_of(q)}; its last two "
            f"dimensions must be ({m}, {n}) for a of side {m} and b of side {n}"
        )
    return bind(_SOLVE_SYLVESTER, (a, b, q), EMPTY_PARAMS)


# --- sqrtm -----------------------------------------------------------------------------

#: ``disp`` and ``blocksize`` not given (SciPy 1.16 deprecated both: they are passed
#: on only when the caller gives them).
_NOT_GIVEN: Any = object()


def _sqrtm_impl(A: Any) -> Any:  # noqa: N803 - SciPy's name
    root = scipy.linalg.sqrtm(A)
    if np.iscomplexobj(root) and not np.iscomplexobj(A):
        raise ValueError(
            "adfun.scipy.linalg.sqrtm: argument 'A' is a real matrix with no real principal "
            "square root (it has eigenvalues on the closed negative real axis), so SciPy "
            "returns a complex one, and a traced result's dtype cannot depend on its "
            "values. Pass a complex matrix (A.astype(complex)) for the complex root and "
            "its derivative"
        )
    return root


def _sqrtm_vjp(g: Any, ans: Any, A: Any) -> Any:  # noqa: N803 - SciPy's name
    return solve_sylvester(mT(ans), mT(ans), g)


def _sqrtm_jvp(t: Any, ans: Any, A: Any) -> Any:  # noqa: N803 - SciPy's name
    return solve_sylvester(ans, ans, t)


def _sqrtm_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """``S diag(w) S^{-1}`` with ``w`` in ``[0.5, 3]`` and well-conditioned ``S``: real
    square roots with eigenvalues at least ``sqrt(0.5)``."""
    n = draw(st.integers(1, 3))
    batch = draw_batch(draw, st)
    matrices = []
    for _ in range(int(np.prod(batch, dtype=np.int64))):
        basis = draw_matrix(draw, st, hnp, n, n, low=0.7, high=1.5)
        spectrum = draw_spectrum(draw, st, n, 0.5, 3.0)
        matrices.append((basis * spectrum) @ np.linalg.inv(basis))
    return (np.asarray(matrices).reshape(batch + (n, n)),), {}


def _complex_sqrtm_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    """``S diag(w) S^{-1}`` with complex ``S`` and eigenvalues ``w = r e^{i t}``, ``r``
    in ``[0.5, 3]`` and ``|t| < 2.5``: well inside the principal root's domain (away from
    the negative real axis)."""
    n = draw(st.integers(1, 3))
    batch = draw_batch(draw, st)
    matrices = []
    for _ in range(int(np.prod(batch, dtype=np.int64))):
        basis = draw_complex_matrix(draw, st, hnp, n, n)
        radii = draw_spectrum(draw, st, n, 0.5, 3.0)
        angles = draw_spectrum(draw, st, n, -2.5, 2.5)
        spectrum = radii * np.exp(1j * angles)
        matrices.append((basis * spectrum) @ np.linalg.inv(basis))
    return (np.asarray(matrices, dtype=np.complex128).reshape(batch + (n, n)),), {}


_SQRTM = primitive(
    "scipy.linalg.sqrtm",
    _sqrtm_impl,
    (_sqrtm_vjp,),
    (_sqrtm_jvp,),
    domain=Domain(examples=_sqrtm_examples),
    batch=STACKED,
    complex_domain=Domain(examples=_complex_sqrtm_examples),
)


@export(scipy.linalg.sqrtm, primitive=_SQRTM)
def sqrtm(A: Any, disp: Any = _NOT_GIVEN, blocksize: Any = _NOT_GIVEN) -> Any:  # noqa: N803
    """Differentiable :func:`scipy.linalg.sqrtm`: the principal matrix square root.

    Parameters
    ----------
    A : array_like
        Shape ``(..., n, n)``.
        Square matrices (stacks where the installed SciPy takes them), real or complex.
    disp : bool, optional
        SciPy's (deprecated since SciPy 1.16): with ``disp=False`` the result is
        ``(X, errest)``, ``errest = norm(X @ X - A, 'fro')**2 / norm(A, 'fro')`` (SciPy's
        formula; on traced values computed with differentiable functions).
    blocksize : int, optional
        SciPy's (deprecated, unused); passed on for plain values only.

    Returns
    -------
    ndarray
        Shape ``(..., n, n)``.
        ``X`` with ``X @ X == A``, SciPy's value.

    Notes
    -----
    A complex ``A`` has a complex root (the principal one, SciPy's), differentiated by
    the same holomorphic rules.  A *real* traced ``A`` must have a real root: a real
    matrix with an eigenvalue on the closed negative real axis has none, SciPy returns a
    complex one, and a traced call raises ``ValueError`` instead (pass
    ``A.astype(complex)`` for the complex root).

    Derivative: ``dX`` solves ``X dX + dX X = dA`` (:func:`solve_sylvester`); the reverse
    rule solves ``X^T A_bar + A_bar X^T = G``.  Derivatives of every order.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.linalg import sqrtm
    >>> ad.grad(lambda a: anp.trace(sqrtm(a)))(np.diag([4.0, 9.0]))
    array([[0.25      , 0.        ],
           [0.        , 0.16666667]])
    """
    if type(A) is not Tracer:
        options = {}
        if disp is not _NOT_GIVEN:
            options["disp"] = disp
        if blocksize is not _NOT_GIVEN:
            options["blocksize"] = blocksize
        return scipy.linalg.sqrtm(A, **options)
    require_square("sqrtm", "A", A)
    root = bind(_SQRTM, (A,), EMPTY_PARAMS)
    if disp is _NOT_GIVEN or disp:
        return root
    residual = root @ root - A
    squares = real(residual * conjugate(residual))
    errest = _sum(squares) / _sum(real(A * conjugate(A))) ** 0.5
    return root, errest
