"""Named edge cases of adfun.numpy: ties, repeated indices, zeros in products and scans,
einsum subscripts, and a few error messages."""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun.testing import check_grads


def _both_modes(fun, *args):
    check_grads(fun, args, order=1, seed=1)


def _hessian_row(fun, x, index):
    return ad.grad(lambda y: ad.grad(fun)(y)[index])(x)


def _numeric_hessian_row(fun, x, index, eps=1e-5):
    row = np.zeros_like(x)
    for position in range(x.size):
        step = np.zeros_like(x)
        step.flat[position] = eps
        row.flat[position] = (ad.grad(fun)(x + step)[index] - ad.grad(fun)(x - step)[index]) / (
            2 * eps
        )
    return row


# --- ties -------------------------------------------------------------------------------


def test_sort_ties_follow_the_stable_order():
    x = np.array([1.0, 2.0, 1.0])
    np.testing.assert_array_equal(ad.grad(lambda x: anp.sort(x)[0])(x), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(ad.grad(lambda x: anp.sort(x)[1])(x), [0.0, 0.0, 1.0])
    _, tangent = ad.jvp(anp.sort, (x,), (np.array([10.0, 20.0, 30.0]),))
    np.testing.assert_array_equal(tangent, [10.0, 30.0, 20.0])
    # plain NumPy dispatches to the same rule
    np.testing.assert_array_equal(ad.grad(lambda x: np.sort(x)[1])(x), [0.0, 0.0, 1.0])


def test_max_ties_split_evenly_in_both_modes():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    np.testing.assert_allclose(
        ad.grad(lambda x: anp.sum(anp.max(x, axis=1)))(x), [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]
    )
    _, tangent = ad.jvp(lambda x: np.max(x, axis=1), (x,), (np.arange(6.0).reshape(2, 3),))
    np.testing.assert_allclose(tangent, [1.5, 3.5])
    np.testing.assert_allclose(
        ad.grad(lambda x: anp.nanmax(x))(np.array([3.0, np.nan, 3.0])), [0.5, 0.0, 0.5]
    )
    np.testing.assert_allclose(
        ad.grad(lambda x: anp.ptp(x))(np.array([1.0, 1.0, 4.0])), [-0.5, -0.5, 1.0]
    )


def test_median_of_ties_and_even_counts():
    np.testing.assert_allclose(
        ad.grad(anp.median)(np.array([4.0, 1.0, 3.0, 2.0])), [0.0, 0.0, 0.5, 0.5]
    )
    np.testing.assert_allclose(ad.grad(anp.median)(np.array([2.0, 2.0, 2.0])), [0.0, 1.0, 0.0])


# --- repeated indices ---------------------------------------------------------------------


def test_repeated_indices_accumulate():
    x = np.array([1.0, 2.0, 3.0])
    index = np.array([0, 0, 2, 0])
    np.testing.assert_array_equal(ad.grad(lambda x: anp.sum(x[index]))(x), [3.0, 0.0, 1.0])
    np.testing.assert_array_equal(ad.grad(lambda x: anp.sum(np.take(x, index)))(x), [3.0, 0.0, 1.0])
    np.testing.assert_array_equal(ad.grad(lambda x: anp.sum(anp.repeat(x, 2)))(x), [2.0] * 3)
    np.testing.assert_array_equal(ad.grad(lambda x: anp.sum(np.tile(x, (2, 2))))(x), [4.0] * 3)
    _, tangent = ad.jvp(lambda x: x[index], (x,), (np.array([1.0, 10.0, 100.0]),))
    np.testing.assert_array_equal(tangent, [1.0, 1.0, 100.0, 1.0])
    _both_modes(lambda x: x[index] * x[index[::-1]], x)


def test_take_along_axis_and_choose_with_repeats():
    x = np.arange(6.0).reshape(2, 3) + 1.0
    indices = np.array([[2, 2], [0, 1]])
    expected = np.array([[0.0, 0.0, 2.0], [1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(
        ad.grad(lambda x: anp.sum(np.take_along_axis(x, indices, axis=1)))(x), expected
    )
    choices = [np.zeros(3), np.ones(3)]
    np.testing.assert_array_equal(
        ad.grad(lambda c: anp.sum(anp.choose([1, 0, 1], [choices[0], c])))(np.ones(3)),
        [1.0, 0.0, 1.0],
    )


# --- zeros in products and scans ----------------------------------------------------------


@pytest.mark.parametrize(
    "x",
    [
        np.array([2.0, 0.0, 3.0, 0.0, 5.0]),
        np.array([0.0, 0.0, 0.0]),
        np.array([1.5, -2.0, 0.0]),
        np.array([[0.0, 2.0, 3.0], [4.0, 0.0, 0.0]]),
    ],
)
def test_cumprod_with_zeros_matches_finite_differences(x):
    for axis in range(x.ndim):
        _both_modes(lambda x, axis=axis: anp.cumprod(x, axis=axis), x)
    gradient = ad.grad(lambda x: anp.sum(anp.cumprod(x, axis=-1)))(x)
    assert np.all(np.isfinite(gradient))


def test_cumprod_with_zeros_second_order():
    x = np.array([2.0, 0.0, 3.0, 0.0, 1.5])
    weights = np.array([1.0, -2.0, 0.5, 3.0, 1.0])

    def fun(x):
        return anp.sum(weights * anp.cumprod(x))

    for index in range(x.size):
        np.testing.assert_allclose(
            _hessian_row(fun, x, index), _numeric_hessian_row(fun, x, index), atol=1e-6
        )
    # forward over reverse agrees
    _, tangent = ad.jvp(ad.grad(fun), (x,), (np.eye(5)[1],))
    np.testing.assert_allclose(tangent, _numeric_hessian_row(fun, x, 1), atol=1e-6)


def test_prod_with_zeros():
    np.testing.assert_array_equal(ad.grad(anp.prod)(np.array([2.0, 0.0, 3.0])), [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(ad.grad(anp.prod)(np.array([0.0, 0.0, 3.0])), [0.0, 0.0, 0.0])
    x = np.array([0.0, 0.0, 3.0])
    np.testing.assert_allclose(_hessian_row(anp.prod, x, 0), [0.0, 3.0, 0.0])
    _both_modes(lambda x: anp.prod(x, axis=0), np.array([[0.0, 2.0], [0.0, 0.0], [1.5, 3.0]]))
    _, tangent = ad.jvp(anp.prod, (np.array([2.0, 0.0, 3.0]),), (np.array([1.0, 1.0, 1.0]),))
    np.testing.assert_allclose(tangent, 6.0)


# --- einsum -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subscripts, shapes",
    [
        ("ii->", [(3, 3)]),
        ("ii", [(3, 3)]),
        ("ii->i", [(2, 2)]),
        ("ijj->i", [(2, 3, 3)]),
        ("iij,jk", [(2, 2, 3), (3, 2)]),
        ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),
        ("i...,i...->...", [(3, 2, 2), (3, 1, 2)]),
        ("...i,...i", [(4, 3), (1, 3)]),
        ("ij,ij,ij->", [(2, 3), (2, 3), (2, 3)]),
        ("i,j->ij", [(2,), (3,)]),
    ],
)
def test_einsum_subscripts_in_both_modes(subscripts, shapes):
    rng = np.random.default_rng(0)
    operands = [rng.standard_normal(shape) for shape in shapes]

    def fun(*operands):
        return anp.einsum(subscripts, *operands)

    expected = np.einsum(subscripts, *operands)
    value, _ = ad.vjp(fun, *operands)
    np.testing.assert_allclose(value, expected)
    _both_modes(fun, *operands)
    _both_modes(lambda *ops: np.einsum(subscripts, *ops), *operands)


def test_einsum_sublist_form():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    _both_modes(lambda a, b: anp.einsum(a, [0, 1], b, [1, 2], [0, 2]), a, b)
    np.testing.assert_allclose(
        ad.vjp(lambda a, b: anp.einsum(a, [0, 1], b, [1, 2]), a, b)[0], a @ b
    )


# --- plain NumPy code differentiates unchanged ----------------------------------------------


def test_plain_numpy_program():
    def program(x):
        y = np.concatenate([np.flip(x), np.cumsum(x)])
        z = np.stack([np.roll(y, 1), np.tril(np.outer(x, x)).ravel()[:6]])
        return np.sum(np.arctan2(z, 2.0) * np.linspace(0.0, 1.0, 6)) + np.trace(np.diag(x))

    x = np.array([0.3, -1.2, 2.0])
    _both_modes(program, x)


# --- errors ---------------------------------------------------------------------------------


def test_error_messages():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(
        NotImplementedError,
        match=r"adfun\.numpy\.pad: mode='mean' is not "
        r"supported on traced values",
    ):
        ad.grad(lambda x: anp.sum(anp.pad(x, 1, mode="mean")))(x)
    with pytest.raises(
        NotImplementedError,
        match=r"adfun\.numpy\.quantile: differentiating "
        r"with respect to the quantile q",
    ):
        ad.grad(lambda q: anp.quantile(x, q))(0.5)
    with pytest.raises(NotImplementedError, match=r"method='weibull' is not supported"):
        ad.grad(lambda x: anp.quantile(x, 0.5, method="weibull"))(x)
    with pytest.raises(TypeError, match=r"adfun\.numpy\.cumsum: axis must be an int or None"):
        ad.grad(lambda x: anp.sum(anp.cumsum(x, axis=(0,))))(x)
    with pytest.raises(TypeError, match=r"adfun\.numpy\.prod: the argument\(s\) \['dtype'\]"):
        ad.grad(lambda x: anp.prod(x, dtype=np.float32))(x)
    with pytest.raises(TypeError, match=r"adfun\.numpy\.sort: order= \(structured arrays\)"):
        ad.grad(lambda x: anp.sum(anp.sort(x, order="a")))(x)
    with pytest.raises(ValueError, match=r"adfun\.numpy\.einsum: 1 operand subscripts for 2"):
        ad.grad(lambda x: anp.einsum("i->", x, x))(x)
    with pytest.raises(ValueError, match=r"adfun\.numpy\.choose: invalid entry in choice array"):
        ad.grad(lambda x: anp.sum(anp.choose([0, 3, 1], [x, x])))(x)
    with pytest.raises(NotImplementedError, match=r"adfun\.numpy\.interp: period="):
        ad.grad(lambda x: anp.sum(anp.interp(x, [0.0, 1.0], [1.0, 2.0], period=2.0)))(x)
    with pytest.raises(
        ValueError,
        match=r"adfun\.numpy\.geomspace: geometric sequence cannot "
        r"include zero",
    ):
        ad.grad(lambda a: anp.sum(anp.geomspace(a, 2.0, 3)))(0.0)
    with pytest.raises(ValueError, match=r"adfun\.numpy\.convolve: both arguments must be 1-D"):
        ad.grad(lambda x: anp.sum(anp.convolve(anp.reshape(x, (3, 1)), x)))(x)
    with pytest.raises(
        ValueError,
        match=r"adfun\.numpy\.cross: on traced values both vectors "
        r"must have 3 components",
    ):
        ad.grad(lambda x: anp.sum(anp.cross(x[:2], x[1:])))(x)
    with pytest.raises(TypeError, match=r"adfun\.numpy\.average: axis must be specified"):
        ad.grad(lambda w: anp.average(np.ones((2, 3)), weights=w))(x)
    # Complex intermediates are differentiable: real(x * 1j + x) is x.
    np.testing.assert_allclose(ad.grad(lambda x: anp.real(x * 1j + x).sum())(x), np.ones(3))


def test_trim_zeros_slices_the_traced_array():
    x = np.array([0.0, 0.0, 1.5, 0.0, -2.0, 0.0])
    value, vjp_fn = ad.vjp(anp.trim_zeros, x)
    np.testing.assert_array_equal(value, [1.5, 0.0, -2.0])
    np.testing.assert_array_equal(
        vjp_fn(np.array([1.0, 2.0, 3.0]))[0], [0.0, 0.0, 1.0, 2.0, 3.0, 0.0]
    )
    np.testing.assert_array_equal(
        ad.vjp(lambda x: anp.trim_zeros(x, "f"), x)[0], [1.5, 0.0, -2.0, 0.0]
    )


def test_piecewise_evaluates_each_piece_on_its_own_entries():
    x = np.array([-4.0, 0.25, 9.0])

    # sqrt would give NaN (and a NaN derivative) on the negative entry if it saw it
    def fun(x):
        return anp.sum(anp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, anp.sqrt]))

    np.testing.assert_allclose(ad.grad(fun)(x), [-1.0, 1.0, 1.0 / 6.0])
    np.testing.assert_allclose(fun(x), 4.0 + 0.5 + 3.0)


def test_arange_and_heaviside_carry_their_derivatives():
    np.testing.assert_allclose(ad.grad(lambda s: anp.sum(anp.arange(s, 3.0, 0.5)))(0.2), 6.0)
    np.testing.assert_allclose(
        ad.grad(lambda h: anp.sum(anp.arange(0.0, 2.0, h)))(0.5), 0.0 + 1.0 + 2.0 + 3.0
    )
    # NumPy's arange does not dispatch: it refuses the traced value with a clear error
    with pytest.raises(TypeError, match="adfun is tracing"):
        ad.grad(lambda h: anp.sum(np.arange(0.0, 2.0, h)))(0.5)
    x = np.array([-1.0, 0.0, 2.0, 0.0])
    np.testing.assert_allclose(ad.grad(lambda h: anp.sum(np.heaviside(x, h)))(0.5), 2.0)
    np.testing.assert_allclose(
        ad.grad(lambda x: anp.sum(np.heaviside(x, 0.5) * x))(x), np.heaviside(x, 0.5)
    )


def test_histogram_counts_are_constants_and_edges_follow_the_data():
    a = np.array([0.0, 0.7, 1.2, 3.0])

    def edges_sum(a):
        counts, edges = np.histogram(a, bins=3)
        assert counts.tolist() == [2, 1, 1]  # a constant: its values can be read
        return anp.sum(edges)

    # edges = linspace(min, max, 4): each edge moves with min and max
    np.testing.assert_allclose(ad.grad(edges_sum)(a), [2.0, 0.0, 0.0, 2.0])
    with pytest.raises(NotImplementedError, match=r"adfun\.numpy\.histogram: a traced range="):
        ad.grad(lambda r: anp.sum(anp.histogram(a, 2, range=(0.0, r))[1]))(4.0)


def test_i0_derivative_is_the_bessel_function_of_order_one():
    special = pytest.importorskip("scipy.special")
    x = np.array([-3.0, -0.1, 0.0, 0.7, 5.0, 40.0, 300.0])
    np.testing.assert_allclose(ad.elementwise_grad(anp.i0)(x), special.i1(x), rtol=1e-13)
    _, tangent = ad.jvp(anp.i0, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(tangent, special.i1(x), rtol=1e-13)
