"""Traced fill values (``full_like``, ``nan_to_num``) and NumPy 2's spread keywords
(``var``/``std`` with ``mean=`` and ``correction=``; ``cov`` with traced weights).

Each is compared with NumPy on plain values and checked against finite differences in
both modes; staged graphs (``ad.jit``) are called on new inputs and compared with the
unstaged function.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy as anp
from adfun.testing import check_grads

SPECIAL = np.array([np.nan, 1.5, np.inf, -np.inf, np.nan, -0.5])


# --------------------------------------------------------------------------------------
# nan_to_num with traced fill values
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("keyword, count", [("nan", 2), ("posinf", 1), ("neginf", 1)])
def test_nan_to_num_is_differentiable_in_each_fill_value(keyword, count):
    def fun(fill):
        return anp.sum(anp.nan_to_num(SPECIAL, **{keyword: fill}))

    expected = np.sum(np.nan_to_num(SPECIAL, **{keyword: 2.5}))
    assert fun(2.5) == expected
    assert ad.grad(fun)(2.5) == count  # used to be nan (the fill became an object array)
    assert ad.jvp(fun, (2.5,), (1.0,))[1] == count
    assert ad.jit(fun)(4.0) == np.sum(np.nan_to_num(SPECIAL, **{keyword: 4.0}))


def test_nan_to_num_in_x_and_the_fills_against_finite_differences():
    def fun(x, nan, posinf, neginf):
        return anp.nan_to_num(x * SPECIAL, nan=nan, posinf=posinf, neginf=neginf) * x

    x = np.array(0.7)
    result = fun(x, 1.0, 2.0, -3.0)
    np.testing.assert_array_equal(
        result, np.nan_to_num(0.7 * SPECIAL, nan=1.0, posinf=2.0, neginf=-3.0) * 0.7
    )
    check_grads(
        lambda nan, posinf, neginf: fun(np.array(0.7), nan, posinf, neginf),
        (np.array(1.0), np.array(2.0), np.array(-3.0)),
    )


def test_nan_to_num_masks_are_recomputed_by_a_staged_graph():
    def fun(x, fill):
        return anp.nan_to_num(x, nan=fill, posinf=fill * 2.0)

    staged = ad.jit(fun)
    staged(SPECIAL, 1.0)
    other = np.array([1.0, np.nan, np.nan, 2.0, np.inf, np.inf])
    np.testing.assert_array_equal(staged(other, 3.0), np.nan_to_num(other, nan=3.0, posinf=6.0))
    np.testing.assert_array_equal(
        ad.jit(ad.grad(lambda f: anp.sum(fun(other, f))))(3.0),
        ad.grad(lambda f: anp.sum(fun(other, f)))(3.0),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.complex64, np.int64])
def test_nan_to_num_keeps_numpys_dtype_with_a_traced_fill(dtype):
    x = (
        np.array([1.0, 2.0, 3.0])
        if dtype is np.int64
        else SPECIAL * (1 + 2j)
        if np.dtype(dtype).kind == "c"
        else SPECIAL
    ).astype(dtype)
    traced = ad.jvp(lambda fill: anp.nan_to_num(x, nan=fill), (2.0,), (1.0,))[0]
    expected = np.nan_to_num(x, nan=2.0)
    assert traced.dtype == expected.dtype
    np.testing.assert_array_equal(traced, expected)


# --------------------------------------------------------------------------------------
# full_like
# --------------------------------------------------------------------------------------


def test_full_like_is_differentiable_in_the_fill_value():
    like = np.ones((2, 3), np.float32)
    assert ad.grad(lambda v: anp.sum(anp.full_like(like, v)))(2.0) == 6.0
    out = ad.jvp(lambda v: anp.full_like(like, v), (2.0,), (1.0,))
    assert out[0].dtype == np.float32 and out[1].dtype == np.float32
    assert ad.grad(lambda x: anp.sum(np.full_like(x, anp.sum(x)) * x))(np.ones(2)).tolist() == [
        4.0,
        4.0,
    ]
    check_grads(lambda v: anp.full_like(np.zeros(3), v, shape=(2, 2)), (np.array(1.5),))


# --------------------------------------------------------------------------------------
# var and std: mean= and correction=
# --------------------------------------------------------------------------------------

X = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"correction": 1},
        {"axis": 1, "correction": 0.5},
        {"axis": 0, "keepdims": True, "correction": 1},
    ],
)
def test_var_and_std_take_mean_and_correction(name, kwargs):
    numpy_fun, adfun_fun = getattr(np, name), getattr(anp, name)
    axis = kwargs.get("axis")
    center = np.mean(X, axis=axis, keepdims=True)
    expected = numpy_fun(X, mean=center, **kwargs)
    np.testing.assert_allclose(adfun_fun(X, mean=center, **kwargs), expected)
    traced = ad.jvp(
        lambda x: numpy_fun(x, mean=anp.mean(x, axis=axis, keepdims=True), **kwargs), (X,), (X,)
    )[0]
    np.testing.assert_allclose(traced, expected, rtol=1e-14)
    without = {key: value for key, value in kwargs.items() if key != "correction"}
    np.testing.assert_allclose(
        ad.grad(
            lambda x: anp.sum(numpy_fun(x, mean=anp.mean(x, axis=axis, keepdims=True), **kwargs))
        )(X),
        ad.grad(lambda x: anp.sum(numpy_fun(x, ddof=kwargs["correction"], **without)))(X),
        rtol=1e-12,
    )
    check_grads(lambda x, m: adfun_fun(x, mean=m, **kwargs), (X, center + 0.25))


def test_var_is_differentiable_in_a_given_mean():
    # d/dmu mean((x - mu)**2) = -2 mean(x - mu)
    assert ad.grad(lambda mu: np.var(X, mean=mu))(1.0) == pytest.approx(
        -2.0 * np.mean(X - 1.0), rel=1e-14
    )
    assert ad.jit(lambda mu: anp.std(X, mean=mu, correction=1))(2.0) == pytest.approx(
        np.std(X, mean=2.0, correction=1), rel=1e-14
    )


@given(
    hnp.arrays(
        np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=2), elements=st.floats(-5, 5)
    ),
    st.sampled_from([0, 1]),
)
def test_correction_is_ddof(x, correction):
    for fun, numpy_fun in ((anp.var, np.var), (anp.std, np.std)):
        np.testing.assert_allclose(
            ad.vjp(lambda x, fun=fun: fun(x, correction=correction), x)[0],
            numpy_fun(x, ddof=correction),
            rtol=1e-12,
            atol=1e-300,
        )


# --------------------------------------------------------------------------------------
# cov with traced weights
# --------------------------------------------------------------------------------------

M = np.random.default_rng(0).normal(size=(3, 6))
AWEIGHTS = np.array([0.5, 1.0, 2.0, 1.5, 0.75, 1.25])
FWEIGHTS = np.array([1, 2, 1, 3, 1, 2])


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"fweights": FWEIGHTS}, {"ddof": 0}, {"bias": True}, {"fweights": FWEIGHTS, "ddof": 2}],
)
def test_cov_with_traced_aweights(kwargs):
    expected = np.cov(M, aweights=AWEIGHTS, **kwargs)
    # np.cov(m, aweights=traced) used to recurse until RecursionError
    result = ad.jvp(lambda w: np.cov(M, aweights=w, **kwargs), (AWEIGHTS,), (AWEIGHTS,))[0]
    np.testing.assert_allclose(result, expected, rtol=1e-13)
    check_grads(lambda w: anp.cov(M, aweights=w, **kwargs), (AWEIGHTS,))
    check_grads(lambda m, w: anp.cov(m, aweights=w, **kwargs), (M, AWEIGHTS))
    staged = ad.jit(lambda w: anp.cov(M, aweights=w, **kwargs))
    staged(AWEIGHTS)
    np.testing.assert_allclose(
        staged(AWEIGHTS[::-1] * 2.0), np.cov(M, aweights=AWEIGHTS[::-1] * 2.0, **kwargs), rtol=1e-13
    )


@pytest.mark.parametrize("kwargs", [{"fweights": FWEIGHTS}, {"rowvar": False}, {}])
def test_cov_with_traced_observations_matches_numpy(kwargs):
    m = M.T if kwargs.get("rowvar") is False else M
    np.testing.assert_allclose(
        ad.jvp(lambda m: anp.cov(m, **kwargs), (m,), (m,))[0], np.cov(m, **kwargs), rtol=1e-13
    )
    check_grads(lambda m: anp.cov(m, **kwargs), (m,))


def test_cov_result_dtype_is_numpys():
    m = M.astype(np.float32)
    assert ad.jvp(anp.cov, (m,), (m,))[0].dtype == np.cov(m).dtype == np.float64
    traced = ad.jvp(lambda m: anp.cov(m, dtype=np.float32), (m,), (m,))[0]
    assert traced.dtype == np.cov(m, dtype=np.float32).dtype == np.float32
