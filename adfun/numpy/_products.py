"""More products, as composites: ``vdot inner outer kron cross vecdot matvec vecmat``,
``convolve`` and ``correlate``, and the polynomial helpers ``polyval polymul polyadd
polysub polyder``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from adfun._engine.trace import Tracer, any_traced, read_value
from adfun.numpy._arraylike import as_traced, holds_tracer
from adfun.numpy._axes import dtype_of, ndim_of, shape_of
from adfun.numpy._declare import Domain, export
from adfun.numpy._elementwise import multiply
from adfun.numpy._joining import concatenate
from adfun.numpy._layout import atleast_1d, broadcast_arrays
from adfun.numpy._linear import matmul, tensordot
from adfun.numpy._reductions import sum  # noqa: A004
from adfun.numpy._selection import where
from adfun.numpy._shape import expand_dims, moveaxis, ravel, reshape, stack
from adfun.numpy._typing import CorrelateMode


def _pair_examples(shapes_of: Callable) -> Callable:
    def examples(draw: Any, st: Any, hnp: Any) -> tuple:
        from adfun.numpy._examples import array

        shapes = shapes_of(draw, st, hnp)
        return tuple(array(draw, st, hnp, (-2.0, 2.0), shape=shape) for shape in shapes), {}

    return examples


def _same_size(draw: Any, st: Any, hnp: Any) -> list:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    return [shape, shape]


def _last_axis_match(draw: Any, st: Any, hnp: Any) -> list:
    k = draw(st.integers(1, 3))
    first = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    second = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    return [first + (k,), second + (k,)]


def _any_two(draw: Any, st: Any, hnp: Any) -> list:
    return [
        draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)) for _ in range(2)
    ]


def _vectors_3(draw: Any, st: Any, hnp: Any) -> list:
    shapes = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2)
    ).input_shapes
    return [shape + (3,) for shape in shapes]


def _matrix_vector(draw: Any, st: Any, hnp: Any) -> list:
    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=1, min_side=1, max_side=2))
    return [batch + (n, k), (k,)]


def _vector_matrix(draw: Any, st: Any, hnp: Any) -> list:
    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return [(k,), (n,) * 0 + (2, k, n)]


def _sequences(draw: Any, st: Any, hnp: Any) -> list:
    return [(draw(st.integers(1, 5)),), (draw(st.integers(1, 5)),)]


@export(np.vdot, domain=Domain(examples=_pair_examples(_same_size)))
def vdot(a: Any, b: Any, /) -> Any:
    """Differentiable :func:`numpy.vdot` for real arrays: ``sum(ravel(a) * ravel(b))``."""
    if not any_traced((a, b)):
        return np.vdot(a, b)
    return sum(ravel(a) * ravel(b))


@export(np.inner, domain=Domain(examples=_pair_examples(_last_axis_match)))
def inner(a: Any, b: Any, /) -> Any:
    """Differentiable :func:`numpy.inner`: a contraction over the last axes."""
    if not any_traced((a, b)):
        return np.inner(a, b)
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return multiply(a, b)
    return tensordot(a, b, ((ndim_of(a) - 1,), (ndim_of(b) - 1,)))


@export(np.outer, domain=Domain(examples=_pair_examples(_any_two)))
def outer(a: Any, b: Any, out: Any = None) -> Any:
    """Differentiable :func:`numpy.outer` (of the flattened inputs)."""
    if not any_traced((a, b)):
        return np.outer(a, b, out=out)
    return reshape(ravel(a), (-1, 1)) * reshape(ravel(b), (1, -1))


@export(np.kron, domain=Domain(examples=_pair_examples(_any_two)))
def kron(a: Any, b: Any) -> Any:
    """Differentiable :func:`numpy.kron`: an interleaved outer product, reshaped."""
    if not any_traced((a, b)):
        return np.kron(a, b)
    ndim = max(ndim_of(a), ndim_of(b))
    a_shape = (1,) * (ndim - ndim_of(a)) + shape_of(a)
    b_shape = (1,) * (ndim - ndim_of(b)) + shape_of(b)
    a_spread = reshape(a, tuple(side for pair in zip(a_shape, (1,) * ndim) for side in pair))
    b_spread = reshape(b, tuple(side for pair in zip((1,) * ndim, b_shape) for side in pair))
    return reshape(a_spread * b_spread, tuple(x * y for x, y in zip(a_shape, b_shape)))


@export(np.cross, domain=Domain(examples=_pair_examples(_vectors_3)))
def cross(
    a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None
) -> Any:
    """Differentiable :func:`numpy.cross` of 3-vectors (batched, with broadcasting)."""
    if not any_traced((a, b)):
        return np.cross(a, b, axisa, axisb, axisc, axis)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(a, axisa, -1)
    b = moveaxis(b, axisb, -1)
    if shape_of(a)[-1] != 3 or shape_of(b)[-1] != 3:
        raise ValueError(
            "adfun.numpy.cross: on traced values both vectors must have 3 "
            "components (2-component cross products are deprecated in NumPy)"
        )
    a0, a1, a2 = (a[..., index] for index in range(3))
    b0, b1, b2 = (b[..., index] for index in range(3))
    result = stack(
        broadcast_arrays(a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1
    )
    return moveaxis(result, -1, axisc)


def _vecdot_fun(x1: Any, x2: Any, /, *, axis: int = -1, **kwargs: Any) -> Any:
    if not any_traced((x1, x2)):
        # NumPy's stubs type vecdot as a generic gufunc, whose call takes no axis=.
        return np.vecdot(x1, x2, axis=axis, **kwargs)  # type: ignore[call-overload]
    if kwargs:
        raise TypeError(f"adfun.numpy.vecdot: {sorted(kwargs)} are not supported on traced values")
    return sum(x1 * x2, axis=axis)


_vecdot_fun.__name__ = _vecdot_fun.__qualname__ = "vecdot"
_vecdot_fun.__doc__ = "Differentiable :func:`numpy.vecdot` for real arrays.\n"
vecdot = export(
    getattr(np, "vecdot", None), domain=Domain(examples=_pair_examples(_same_size)), name="vecdot"
)(_vecdot_fun)


def _matvec_fun(x1: Any, x2: Any, /, **kwargs: Any) -> Any:
    if not any_traced((x1, x2)):
        return np.matvec(x1, x2, **kwargs)
    return matmul(x1, expand_dims(x2, -1))[..., 0]


def _vecmat_fun(x1: Any, x2: Any, /, **kwargs: Any) -> Any:
    if not any_traced((x1, x2)):
        return np.vecmat(x1, x2, **kwargs)
    return matmul(expand_dims(x1, -2), x2)[..., 0, :]


_matvec_fun.__name__ = _matvec_fun.__qualname__ = "matvec"
_matvec_fun.__doc__ = "Differentiable :func:`numpy.matvec` (a batched ``matmul``).\n"
_vecmat_fun.__name__ = _vecmat_fun.__qualname__ = "vecmat"
_vecmat_fun.__doc__ = "Differentiable :func:`numpy.vecmat` for real arrays.\n"
matvec = export(
    getattr(np, "matvec", None),
    domain=Domain(examples=_pair_examples(_matrix_vector)),
    name="matvec",
)(_matvec_fun)
vecmat = export(
    getattr(np, "vecmat", None),
    domain=Domain(examples=_pair_examples(_vector_matrix)),
    name="vecmat",
)(_vecmat_fun)

# --- convolution ---------------------------------------------------------------------------


def _full_convolution(a: Any, v: Any) -> Any:
    n, m = shape_of(a)[0], shape_of(v)[0]
    rows = np.arange(n + m - 1)[:, None] - np.arange(m)[None, :]  # a index of each term
    valid = (rows >= 0) & (rows < n)
    windows = where(valid, a[np.clip(rows, 0, n - 1)], 0.0)
    return matmul(windows, v)


def _window(full: Any, n: int, m: int, mode: str) -> Any:
    if mode == "full":
        return full
    short, long = min(n, m), max(n, m)
    if mode == "same":
        start = (short - 1) // 2
        return full[start : start + long]
    if mode == "valid":
        return full[short - 1 : long]
    raise ValueError(f"adfun.numpy.convolve: mode must be 'full', 'same' or 'valid', got {mode!r}")


def _check_vectors(name: str, a: Any, v: Any) -> None:
    if ndim_of(a) != 1 or ndim_of(v) != 1:
        raise ValueError(
            f"adfun.numpy.{name}: both arguments must be 1-D, got shapes "
            f"{shape_of(a)} and {shape_of(v)}"
        )
    if shape_of(a)[0] == 0 or shape_of(v)[0] == 0:
        raise ValueError(f"adfun.numpy.{name}: arguments cannot be empty")


def _convolution_examples(mode_default: str) -> Callable:
    def examples(draw: Any, st: Any, hnp: Any) -> tuple:
        args, _ = _pair_examples(_sequences)(draw, st, hnp)
        return args, {"mode": draw(st.sampled_from(["full", "same", "valid"]))}

    return examples


@export(np.convolve, domain=Domain(examples=_convolution_examples("full")))
def convolve(a: Any, v: Any, mode: CorrelateMode = "full") -> Any:
    """Differentiable :func:`numpy.convolve` (a matrix of shifted windows times ``v``).

    Derivative: in ``a``, the correlation of the cotangent with ``v``; in ``v``, with ``a``.
    """
    if not any_traced((a, v)):
        return np.convolve(a, v, mode=mode)
    a, v = atleast_1d(a), atleast_1d(v)
    _check_vectors("convolve", a, v)
    return _window(_full_convolution(a, v), shape_of(a)[0], shape_of(v)[0], mode)


@export(np.correlate, domain=Domain(examples=_convolution_examples("valid")))
def correlate(a: Any, v: Any, mode: CorrelateMode = "valid") -> Any:
    """Differentiable :func:`numpy.correlate` for real sequences."""
    if not any_traced((a, v)):
        return np.correlate(a, v, mode=mode)
    a, v = atleast_1d(a), atleast_1d(v)
    _check_vectors("correlate", a, v)
    n, m = shape_of(a)[0], shape_of(v)[0]
    if n >= m:
        return _window(_full_convolution(a, v[::-1]), n, m, mode)
    # NumPy swaps the arguments (and reverses the result) when v is the longer one.
    return _window(_full_convolution(v, a[::-1]), m, n, mode)[::-1]


# --- polynomials -------------------------------------------------------------------------


def _poly_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    p = array(draw, st, hnp, (-2.0, 2.0), shape=(draw(st.integers(1, 4)),))
    x = array(draw, st, hnp, (-2.0, 2.0), min_dims=0)
    return (p, x), {}


@export(np.polyval, domain=Domain(examples=_poly_examples))
def polyval(p: Any, x: Any) -> Any:
    """Differentiable :func:`numpy.polyval` (Horner's scheme) in ``p`` and ``x``."""
    if not any_traced((p, x)):
        return np.polyval(p, x)
    result = np.zeros(shape_of(x), dtype=np.result_type(dtype_of(p), dtype_of(x)))
    for index in range(shape_of(p)[0]):
        result = result * x + p[index]
    return result


def _two_polys(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    # Leading coefficients away from 0: NumPy drops exact leading zeros (a shape change).
    return tuple(
        array(draw, st, hnp, (0.2, 2.0), shape=shape, magnitude=True)
        for shape in _sequences(draw, st, hnp)
    ), {}


@export(np.polymul, domain=Domain(examples=_two_polys))
def polymul(a1: Any, a2: Any) -> Any:
    """Differentiable :func:`numpy.polymul` (a full convolution of the coefficients)."""
    if not any_traced((a1, a2)):
        return np.polymul(a1, a2)
    return convolve(_strip_leading_zeros(atleast_1d(a1)), _strip_leading_zeros(atleast_1d(a2)))


def _strip_leading_zeros(p: Any) -> Any:
    """As NumPy's ``poly1d`` does (keeping one coefficient): the result's length depends on
    which leading coefficients are exactly zero."""
    nonzero = np.flatnonzero(
        read_value(
            p,
            "adfun.numpy.polymul",
            "The length of the product depends on which leading coefficients are exactly "
            "zero. Under jit, use adfun.numpy.convolve(a1, a2) (the same product without "
            "the leading zeros removed), or call polymul outside the staged function.",
        )
    )
    start = int(nonzero[0]) if nonzero.size else shape_of(p)[0] - 1
    return p[start:] if start else p


def _aligned(a1: Any, a2: Any) -> tuple:
    a1, a2 = atleast_1d(a1), atleast_1d(a2)
    n1, n2 = shape_of(a1)[0], shape_of(a2)[0]
    if n1 < n2:
        a1 = concatenate([np.zeros(n2 - n1, dtype_of(a1)), a1])
    elif n2 < n1:
        a2 = concatenate([np.zeros(n1 - n2, dtype_of(a2)), a2])
    return a1, a2


@export(np.polyadd, domain=Domain(examples=_two_polys))
def polyadd(a1: Any, a2: Any) -> Any:
    """Differentiable :func:`numpy.polyadd` (coefficients aligned at the constant term)."""
    if not any_traced((a1, a2)):
        return np.polyadd(a1, a2)
    first, second = _aligned(a1, a2)
    return first + second


@export(np.polysub, domain=Domain(examples=_two_polys))
def polysub(a1: Any, a2: Any) -> Any:
    """Differentiable :func:`numpy.polysub` (coefficients aligned at the constant term)."""
    if not any_traced((a1, a2)):
        return np.polysub(a1, a2)
    first, second = _aligned(a1, a2)
    return first - second


def _polyder_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    return (array(draw, st, hnp, (-2.0, 2.0), shape=(draw(st.integers(2, 5)),)),), {
        "m": draw(st.integers(0, 2))
    }


@export(np.polyder, domain=Domain(examples=_polyder_examples))
def polyder(p: Any, m: int = 1) -> Any:
    """Differentiable :func:`numpy.polyder` (coefficients times exponents)."""
    if type(p) is not Tracer:
        return np.polyder(p, m)
    if m < 0:
        raise ValueError("adfun.numpy.polyder: order of derivative must be positive (see polyint)")
    for _ in range(m):
        count = shape_of(p)[0]
        p = p[:-1] * np.arange(count - 1, 0, -1, dtype=dtype_of(p))
    return p


zeros_like = np.zeros_like


def _polyint_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    p = array(draw, st, hnp, (-2.0, 2.0), shape=(draw(st.integers(1, 4)),))
    m = draw(st.integers(0, 2))
    return (p,), {"m": m, "k": draw(st.sampled_from([None, 0.5]))}


@export(np.polyint, domain=Domain(examples=_polyint_examples))
def polyint(p: Any, m: int = 1, k: Any = None) -> Any:
    """Differentiable :func:`numpy.polyint` in ``p`` and the integration constants ``k``."""
    if type(p) is not Tracer and type(k) is not Tracer:
        return np.polyint(p, m, k)
    m = int(m)
    if m < 0:
        raise ValueError("adfun.numpy.polyint: order of integral must be positive (see polyder)")
    if k is None:
        constants: Any = [0.0] * m
    elif type(k) is Tracer:
        constants = [k[index] for index in range(m)] if shape_of(k) else [k] * m
    else:
        constants = list(np.atleast_1d(k))
        if len(constants) == 1 and m > 1:
            constants = constants * m
        if len(constants) < m:
            raise ValueError(
                "adfun.numpy.polyint: k must be a scalar or a rank-1 array of length 1 or m."
            )
    p = atleast_1d(p)
    for index in range(m):
        count = shape_of(p)[0]
        scaled = p / np.arange(count, 0, -1, dtype=np.float64)
        constant = constants[index]
        tail = (
            reshape(constant, (1,))
            if type(constant) is Tracer
            else np.asarray([constant], dtype=dtype_of(scaled))
        )
        p = concatenate([scaled, tail])
    return p


def _poly_roots_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    return (array(draw, st, hnp, (-2.0, 2.0), shape=(draw(st.integers(1, 4)),)),), {}


@export(np.poly, domain=Domain(examples=_poly_roots_examples))
def poly(seq_of_zeros: Any) -> Any:
    """Differentiable :func:`numpy.poly` of a 1-D sequence of real roots (the product of
    the factors ``x - r``, as repeated convolutions)."""
    if holds_tracer(seq_of_zeros):  # NumPy's dispatcher reads a list's items as the arrays
        seq_of_zeros = as_traced(seq_of_zeros)
    if type(seq_of_zeros) is not Tracer:
        return np.poly(seq_of_zeros)
    shape = shape_of(seq_of_zeros)
    if len(shape) != 1:
        raise NotImplementedError(
            "adfun.numpy.poly: only a 1-D sequence of roots is supported "
            "on traced values (the characteristic polynomial of a matrix "
            "needs its eigenvalues)"
        )
    coefficients: Any = np.ones(1, dtype_of(seq_of_zeros))
    for index in range(shape[0]):
        factor = concatenate(
            [np.ones(1, dtype_of(seq_of_zeros)), reshape(-seq_of_zeros[index], (1,))]
        )
        coefficients = convolve(coefficients, factor)
    return coefficients
