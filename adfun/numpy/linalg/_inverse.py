"""Inverses and determinants: ``inv solve det slogdet pinv lstsq matrix_power``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._trace import full_value, read_value, staging_trace_of
from adfun.numpy._core import dtype_of, ndim_of, shape_of
from adfun.numpy.linalg._helpers import (
    call,
    draw_batch,
    draw_matrix,
    export,
    eye_like,
    mT,
    primitive,
    require_matrix,
    require_real,
    traced,
)

# --- inv -------------------------------------------------------------------------------


def _inv_vjp(g: Any, ans: Any, a: Any) -> Any:
    inverse_t = mT(ans)
    return -matmul(inverse_t, matmul(g, inverse_t))


def _inv_jvp(t: Any, ans: Any, a: Any) -> Any:
    return -matmul(ans, matmul(t, ans))


def _square_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    n = draw(st.integers(1, 3))
    return (draw_matrix(draw, st, hnp, n, n, draw_batch(draw, st)),), {}


_INV = primitive("inv", np.linalg.inv, (_inv_vjp,), (_inv_jvp,), _square_examples)


@export(_INV, np.linalg.inv)
def inv(a: Any) -> Any:
    """Differentiable :func:`numpy.linalg.inv` (stacks of matrices too).

    Derivative: ``-A^{-T} G A^{-T}`` (reverse), ``-A^{-1} T A^{-1}`` (forward); the
    rules are holomorphic, so complex intermediate matrices are fine.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> a = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> ad.grad(lambda a: anp.sum(anp.linalg.inv(a)))(a)
    array([[-0.25  , -0.125 ],
           [-0.125 , -0.0625]])
    """
    if not traced(a):
        return np.linalg.inv(a)
    require_matrix("inv", "a", a)
    return call(_INV, (a,))


# --- solve -----------------------------------------------------------------------------


def _as_columns(b: Any, x: Any) -> Any:
    """A 1-D right-hand side ``b`` makes ``x`` (and its cotangent) vectors: add an axis."""
    return expand_dims(x, -1) if ndim_of(b) == 1 else x


def _solve_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    gb = solve(mT(a), _as_columns(b, g))
    return unbroadcast(-matmul(gb, mT(_as_columns(b, ans))), a)


def _solve_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    gb = solve(mT(a), _as_columns(b, g))
    if ndim_of(b) == 1:
        gb = squeeze(gb, -1)
    return unbroadcast(gb, b)


def _solve_tangent_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    result = -solve(a, matmul(t, _as_columns(b, ans)))
    return squeeze(result, -1) if ndim_of(b) == 1 else result


def _solve_tangent_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return solve(a, t)


def _solve_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    n = draw(st.integers(1, 3))
    a = draw_matrix(draw, st, hnp, n, n, draw_batch(draw, st))
    b_shape = draw(st.sampled_from([(n,), (n, 2), (2, n, 1), a.shape[:-1] + (1,)]))
    return (a, array(draw, st, hnp, (-2.0, 2.0), shape=b_shape)), {}


_SOLVE = primitive("solve", np.linalg.solve, (_solve_a, _solve_b),
                   (_solve_tangent_a, _solve_tangent_b), _solve_examples)


@export(_SOLVE, np.linalg.solve)
def solve(a: Any, b: Any) -> Any:
    """Differentiable :func:`numpy.linalg.solve`: ``x`` with ``a @ x == b`` (batched).

    As in NumPy 2, ``b`` is a vector only when it is 1-D; otherwise it is a stack of
    matrices whose batch axes broadcast with ``a``'s.

    Derivative: ``gb = solve(a.T, g)`` and ``ga = -gb @ x.T`` (summed over broadcast
    batch axes); forward ``solve(a, tb - ta @ x)``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> a = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> ad.grad(lambda b: anp.sum(anp.linalg.solve(a, b)))(np.ones(2))
    array([0.5 , 0.25])
    """
    if not traced(a, b):
        return np.linalg.solve(a, b)
    require_matrix("solve", "a", a)
    return call(_SOLVE, (a, b))


# --- det -------------------------------------------------------------------------------


def _exclusive_products(s: Any) -> Any:
    """``prod_{j != i} s_j`` for each ``i`` along the last axis, without division."""
    n = shape_of(s)[-1]
    columns = [getitem(s, (Ellipsis, index)) for index in range(n)]
    prefix = [None] * n
    suffix = [None] * n
    running = None
    for index in range(n):
        prefix[index] = running
        running = columns[index] if running is None else running * columns[index]
    running = None
    for index in reversed(range(n)):
        suffix[index] = running
        running = columns[index] if running is None else running * columns[index]
    products = []
    for before, after in zip(prefix, suffix):
        if before is None and after is None:
            products.append(np.ones(shape_of(s)[:-1], dtype_of(s)))
        elif before is None or after is None:
            products.append(after if before is None else before)
        else:
            products.append(before * after)
    return stack(products, axis=-1)


def _orientation_impl(q: Any) -> Any:
    return np.sign(np.linalg.det(q))


_ORIENTATION = primitive("orientation", _orientation_impl, (), (), None, nondiff=True)


def _orientation(q: Any) -> Any:
    return call(_ORIENTATION, (q,)) if traced(q) else _orientation_impl(q)


def _checked_inverse(value: Any) -> tuple:
    """``(inverse, well_conditioned)`` of a stack of matrices: the inverse where it is
    well conditioned (a 1-norm condition number below ``1 / sqrt(eps)``, 1e8 in float64:
    ``det * inv`` keeps half of the digits), zeros elsewhere (never an error, never inf
    or NaN), and the mask of those matrices."""
    value = np.asarray(value)
    batch = value.shape[:-2]
    if value.shape[-1] == 0:
        return np.zeros(value.shape, value.dtype), np.ones(batch, bool)
    flat = value.reshape((-1,) + value.shape[-2:])
    inverse = np.zeros_like(flat)
    invertible = np.zeros(flat.shape[0], bool)
    try:
        inverse[...] = np.linalg.inv(flat)
        invertible[...] = True
    except np.linalg.LinAlgError:
        for index, matrix in enumerate(flat):
            try:
                inverse[index] = np.linalg.inv(matrix)
                invertible[index] = True
            except np.linalg.LinAlgError:
                pass
    with np.errstate(all="ignore"):
        condition = (np.max(np.sum(np.abs(flat), axis=-2), axis=-1)
                     * np.max(np.sum(np.abs(inverse), axis=-2), axis=-1))
        good = invertible & np.isfinite(condition) & (
            condition < 1.0 / np.sqrt(np.finfo(value.dtype).eps))
    inverse[~good] = 0.0
    return inverse.reshape(value.shape), good.reshape(batch)


def _guarded_inverse_impl(a: Any) -> Any:
    return _checked_inverse(a)[0]


def _well_conditioned_impl(a: Any) -> Any:
    return _checked_inverse(a)[1]


# Under staging, cofactor's choice between det * inv and the SVD form is recorded as nodes
# computed from each new input: the inverse (zeros where not well conditioned, so that
# its rules stay finite in the branch not taken) and the mask of well-conditioned
# matrices.
_GUARDED_INVERSE = primitive("guarded_inverse", _guarded_inverse_impl, (_inv_vjp,),
                             (_inv_jvp,), _square_examples)
_WELL_CONDITIONED = primitive("well_conditioned", _well_conditioned_impl, (), (), None,
                              nondiff=True)


def _svd_cofactor(a: Any) -> Any:
    u, s, vh = svd(a)
    orientation = _orientation(u) * _orientation(vh)
    scaled = u * expand_dims(_exclusive_products(s), -2)
    return expand_dims(expand_dims(orientation, -1), -1) * matmul(scaled, vh)


def cofactor(a: Any) -> Any:
    """The cofactor matrix ``adj(A).T`` (the derivative of ``det``), also when singular.

    For well-conditioned matrices ``det(A) * inv(A).T``; otherwise from the SVD
    ``A = U S V^T``: ``det(U) det(V) U diag(prod_{j != i} s_j) V^T``, which has no division
    and stays finite at singular matrices.  Under ``jit`` / ``trace`` both forms are
    recorded and chosen per matrix with ``where`` from each new input's conditioning.
    """
    if staging_trace_of(a) is not None:
        well = expand_dims(expand_dims(call(_WELL_CONDITIONED, (a,)), -1), -1)
        inverse = call(_GUARDED_INVERSE, (a,))
        regular = expand_dims(expand_dims(det(a), -1), -1) * mT(inverse)
        return where(well, regular, _svd_cofactor(a))
    # Eagerly, the same choice per matrix (the mask read from the value): a stack mixing
    # well- and ill-conditioned matrices takes the same form for each as the staged rule.
    value = full_value(a)
    inverse, well = _checked_inverse(value)
    if np.all(well):
        inverse = inv(a) if traced(a) else inverse
        return expand_dims(expand_dims(det(a), -1), -1) * mT(inverse)
    if not np.any(well):
        return _svd_cofactor(a)
    inverse = call(_GUARDED_INVERSE, (a,)) if traced(a) else inverse
    regular = expand_dims(expand_dims(det(a), -1), -1) * mT(inverse)
    return where(well[..., None, None], regular, _svd_cofactor(a))


def _det_vjp(g: Any, ans: Any, a: Any) -> Any:
    return expand_dims(expand_dims(g, -1), -1) * cofactor(a)


def _det_jvp(t: Any, ans: Any, a: Any) -> Any:
    return _sum(cofactor(a) * t, axis=(-2, -1))


_DET = primitive("det", np.linalg.det, (_det_vjp,), (_det_jvp,), _square_examples)


@export(_DET, np.linalg.det)
def det(a: Any) -> Any:
    """Differentiable :func:`numpy.linalg.det` (stacks of matrices too).

    Derivative: the cofactor matrix (the transposed adjugate), which is finite also for
    singular matrices: it is computed from the SVD there, never from ``inv``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(anp.linalg.det)(np.array([[1.0, 2.0], [2.0, 4.0]]))  # singular
    array([[ 4., -2.],
           [-2.,  1.]])
    """
    if not traced(a):
        return np.linalg.det(a)
    require_real("det", a=a)
    require_matrix("det", "a", a)
    return call(_DET, (a,))


# --- slogdet ---------------------------------------------------------------------------


def _logabsdet_impl(a: Any) -> Any:
    return np.linalg.slogdet(a)[1]


def _logabsdet_vjp(g: Any, ans: Any, a: Any) -> Any:
    return expand_dims(expand_dims(g, -1), -1) * mT(inv(a))


def _logabsdet_jvp(t: Any, ans: Any, a: Any) -> Any:
    return _sum(mT(inv(a)) * t, axis=(-2, -1))


_LOGABSDET = primitive("slogdet", _logabsdet_impl, (_logabsdet_vjp,), (_logabsdet_jvp,),
                       _square_examples)


def _sign_impl(a: Any) -> Any:
    return np.linalg.slogdet(a)[0]


_SIGN = primitive("slogdet_sign", _sign_impl, (), (), None, nondiff=True)


@export(_LOGABSDET, np.linalg.slogdet)
def slogdet(a: Any) -> Any:
    """Differentiable :func:`numpy.linalg.slogdet`: ``(sign, logabsdet)``.

    ``sign`` is a constant for differentiation; the derivative of ``logabsdet`` is
    ``inv(a).T``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.linalg.slogdet(a)[1])(np.array([[2.0, 1.0], [1.0, -4.0]]))
    array([[ 0.44444444,  0.11111111],
           [ 0.11111111, -0.22222222]])
    """
    if not traced(a):
        return np.linalg.slogdet(a)
    require_real("slogdet", a=a)
    require_matrix("slogdet", "a", a)
    return _SlogdetResult(call(_SIGN, (a,)), call(_LOGABSDET, (a,)))


_SlogdetResult = type(np.linalg.slogdet(np.eye(1)))

# --- pinv ------------------------------------------------------------------------------


def _pinv_impl(a: Any, rcond: Any = 1e-15) -> Any:
    return np.linalg.pinv(a, rcond=rcond)


def _pinv_vjp(g: Any, ans: Any, a: Any, rcond: Any = 1e-15) -> Any:
    p, pt, gt = ans, mT(ans), mT(g)
    first = -matmul(pt, matmul(g, pt))
    second = matmul(gt - matmul(a, matmul(p, gt)), matmul(p, pt))
    third = matmul(matmul(pt, p), gt - matmul(matmul(gt, p), a))
    return first + second + third


def _pinv_jvp(t: Any, ans: Any, a: Any, rcond: Any = 1e-15) -> Any:
    p, pt, tt = ans, mT(ans), mT(t)
    first = -matmul(p, matmul(t, p))
    second = matmul(matmul(p, pt), tt - matmul(matmul(tt, a), p))
    third = matmul(tt - matmul(p, matmul(a, tt)), matmul(pt, p))
    return first + second + third


def _rectangular_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (draw_matrix(draw, st, hnp, m, n, draw_batch(draw, st)),), {"rcond": 1e-15}


_PINV = primitive("pinv", _pinv_impl, (_pinv_vjp,), (_pinv_jvp,), _rectangular_examples)

_NO_VALUE = object()


@export(_PINV, np.linalg.pinv)
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _NO_VALUE) -> Any:
    """Differentiable :func:`numpy.linalg.pinv` (the Moore-Penrose pseudo-inverse).

    Derivative: Golub and Pereyra's formula for a matrix of locally constant rank,
    ``dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P``; singular values below
    the cutoff are treated as exact zeros, as NumPy does.  With ``hermitian=True`` the
    result is built from ``eigh`` (only the lower triangle is read, as in NumPy).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.sum(anp.linalg.pinv(a)))(np.array([[2.0], [0.0]]))
    array([[-0.25],
           [ 0.25]])
    """
    if not traced(a):
        if rtol is _NO_VALUE:
            return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)
        return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian, rtol=rtol)
    require_real("pinv", a=a)
    require_matrix("pinv", "a", a, square=bool(hermitian))
    cutoff = _cutoff("pinv", a, rcond, rtol)
    if hermitian:
        return _hermitian_pinv(a, cutoff)
    return call(_PINV, (a,), rcond=cutoff)


def _hermitian_pinv(a: Any, cutoff: float) -> Any:
    """NumPy's ``hermitian=True`` pseudo-inverse: from ``eigh`` (lower triangle read),
    ``V diag(1 / w) V^T`` over the eigenvalues above the cutoff."""
    w, v = eigh(a)
    magnitude = stop_gradient(absolute(w))  # the mask is a graph node (right under jit)
    kept = greater(magnitude, cutoff * _max(magnitude, axis=-1, keepdims=True))
    inverse_values = where(kept, 1.0 / where(kept, w, 1.0), 0.0)
    return (v * expand_dims(inverse_values, -2)) @ mT(v)


def _cutoff(function: str, a: Any, rcond: Any, rtol: Any) -> float:
    """NumPy's relative singular-value cutoff for ``pinv`` as one float."""
    if rcond is not None and rtol is not _NO_VALUE:
        raise ValueError(f"adfun.numpy.linalg.{function}: pass rcond or rtol, not both")
    if rcond is None:
        if rtol is _NO_VALUE:
            return 1e-15
        if rtol is None:
            m, n = shape_of(a)[-2:]
            return float(max(m, n) * np.finfo(dtype_of(a)).eps)
        rcond = rtol
    if np.ndim(full_value(rcond)) != 0:
        raise TypeError(f"adfun.numpy.linalg.{function}: on traced values the cutoff must be "
                        f"a scalar, got an array of shape {np.shape(full_value(rcond))}")
    return float(read_value(
        rcond, f"adfun.numpy.linalg.{function}",
        "The cutoff (rcond / rtol) decides which singular values count as zero: pass it "
        "as a Python float, not as a traced value."))


# --- lstsq (composite) -----------------------------------------------------------------


@export(None, np.linalg.lstsq)
def lstsq(a: Any, b: Any, rcond: Any = None) -> Any:
    """Differentiable :func:`numpy.linalg.lstsq`: ``(x, residuals, rank, s)``.

    On traced values ``x = pinv(a, rcond) @ b`` (the same minimum-norm solution), the
    residuals are ``sum((b - a @ x)**2, axis=0)`` (present, as in NumPy, only when
    ``a`` has full column rank and more rows than columns), ``rank`` is a constant and
    ``s = svdvals(a)``.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> a = np.array([[1.0], [1.0]])
    >>> ad.grad(lambda b: anp.linalg.lstsq(a, b)[0][0])(np.array([1.0, 3.0]))
    array([0.5, 0.5])
    """
    if not traced(a, b):
        return np.linalg.lstsq(a, b, rcond=rcond)
    require_real("lstsq", a=a, b=b)
    if ndim_of(a) != 2 or ndim_of(b) not in (1, 2):
        raise np.linalg.LinAlgError(
            f"adfun.numpy.linalg.lstsq: a must be 2-D and b 1-D or 2-D, got shapes "
            f"{shape_of(a)} and {shape_of(b)}"
        )
    m, n = shape_of(a)
    if shape_of(b)[0] != m:
        raise np.linalg.LinAlgError(
            f"adfun.numpy.linalg.lstsq: incompatible dimensions: a has {m} rows, b has "
            f"{shape_of(b)[0]}"
        )
    cutoff = np.finfo(dtype_of(a)).eps * max(m, n) if rcond is None else rcond
    cutoff = float(np.finfo(dtype_of(a)).eps) if cutoff < 0 else float(cutoff)
    x = matmul(call(_PINV, (a,), rcond=cutoff), b) if traced(a) else matmul(
        np.linalg.pinv(a, rcond=cutoff), b)
    rank = np.linalg.lstsq(
        read_value(a, "adfun.numpy.linalg.lstsq",
                   "The rank it returns, and the shape of the residuals (empty unless a has "
                   "full column rank), depend on the values of a. Under jit, compute the "
                   "solution as adfun.numpy.linalg.pinv(a) @ b (or solve for a square, "
                   "regular a) and the residuals with adfun.numpy.sum((b - a @ x)**2, "
                   "axis=0), or call lstsq outside the staged function."),
        full_value(b), rcond=rcond)[2]
    if rank == n and m > n:
        residual = b - matmul(a, x)
        residuals = _sum(residual * residual, axis=0)
        if ndim_of(b) == 1:
            residuals = reshape(residuals, (1,))
    else:
        residuals = np.empty((0,), dtype=dtype_of(x))
    return x, residuals, rank, svdvals(a)


# --- matrix_power (composite) ----------------------------------------------------------


@export(None, np.linalg.matrix_power)
def matrix_power(a: Any, n: int) -> Any:
    """Differentiable :func:`numpy.linalg.matrix_power`: repeated squaring with ``matmul``.

    ``n < 0`` inverts first; ``n == 0`` gives identities (a constant).

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.grad(lambda a: anp.linalg.matrix_power(a, 3)[0, 0])(np.array([[2.0]]))
    array([[12.]])
    """
    if not traced(a):
        return np.linalg.matrix_power(a, n)
    require_matrix("matrix_power", "a", a)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"adfun.numpy.linalg.matrix_power: exponent n must be an integer, "
                        f"got {n!r}")
    n = int(n)
    if n == 0:
        return np.broadcast_to(eye_like(a), shape_of(a)).copy()
    if n < 0:
        a, n = inv(a), -n
    result = None
    power = a
    while n:
        if n & 1:
            result = power if result is None else matmul(result, power)
        n >>= 1
        if n:
            power = matmul(power, power)
    return result


# --- tensorinv and tensorsolve (composites) --------------------------------------------


@export(None, np.linalg.tensorinv)
def tensorinv(a: Any, ind: int = 2) -> Any:
    """Differentiable :func:`numpy.linalg.tensorinv`: ``inv`` of ``a`` seen as a matrix."""
    if not traced(a):
        return np.linalg.tensorinv(a, ind=ind)
    shape = shape_of(a)
    if ind <= 0:
        raise ValueError(f"adfun.numpy.linalg.tensorinv: ind must be positive, got {ind}")
    rows = int(np.prod(shape[:ind], dtype=np.int64))
    inverse = inv(reshape(a, (rows, -1)))
    return reshape(inverse, shape[ind:] + shape[:ind])


@export(None, np.linalg.tensorsolve)
def tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    """Differentiable :func:`numpy.linalg.tensorsolve`: ``solve`` on reshaped operands."""
    if not traced(a, b):
        return np.linalg.tensorsolve(a, b, axes=axes)
    ndim = ndim_of(a)
    if axes is not None:
        order = list(range(ndim))
        for axis in axes:
            order.remove(axis)
            order.insert(ndim, axis)
        a = transpose(a, tuple(order))
    shape = shape_of(a)
    solution_shape = shape[-(ndim - ndim_of(b)):]
    size = int(np.prod(solution_shape, dtype=np.int64))
    if int(np.prod(shape_of(b), dtype=np.int64)) != size:
        raise np.linalg.LinAlgError(
            "adfun.numpy.linalg.tensorsolve: the product of b's dimensions must equal the "
            "product of a's solution dimensions"
        )
    x = solve(reshape(a, (size, size)), reshape(b, (size,)))
    return reshape(x, solution_shape)


from adfun.numpy._broadcast import unbroadcast  # noqa: E402
from adfun.numpy._indexing import getitem  # noqa: E402
from adfun.numpy._linear import matmul  # noqa: E402
from adfun.numpy._reductions import sum as _sum  # noqa: E402
from adfun.numpy._shape import expand_dims, reshape, squeeze, stack, transpose  # noqa: E402
from adfun.numpy._selection import where  # noqa: E402
from adfun.numpy._elementwise import absolute  # noqa: E402
from adfun.numpy._nondiff import greater, stop_gradient  # noqa: E402
from adfun.numpy._reductions import max as _max  # noqa: E402
from adfun.numpy.linalg._decompositions import eigh, svd, svdvals  # noqa: E402
