"""Error paths of adfun.numpy functions on traced values: type and message."""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun.numpy import linalg as la

X = np.array([1.0, 2.0, 3.0])
M = np.arange(6.0).reshape(2, 3) + 1.0

CASES = [
    # (function of a traced vector x, exception type, message pattern)
    (
        lambda x: anp.apply_along_axis(anp.sum, 0, anp.reshape(x, (3, 1))[:, :0]),
        ValueError,
        r"apply_along_axis: cannot apply_along_axis when any iteration dimensions are 0",
    ),
    (
        lambda x: anp.apply_over_axes(lambda a, axis: anp.sum(a), anp.reshape(x, (1, 3)), [1]),
        ValueError,
        r"apply_over_axes: function is not returning an array of the correct shape",
    ),
    (
        lambda x: anp.arange(x[0], 3.0, like=None),
        TypeError,
        r"arange: unsupported keyword arguments \['like'\]",
    ),
    (
        lambda x: anp.asarray_chkfinite(x * np.inf),
        ValueError,
        r"asarray_chkfinite: array must not contain infs or NaNs",
    ),
    (
        lambda x: anp.average(anp.ones((2, 3)) * x, axis=0, weights=np.ones((2, 2))),
        TypeError,
        r"average: 1-D weights expected when the shapes of a and weights differ",
    ),
    (
        lambda x: anp.average(M, weights=x),
        TypeError,
        r"average: axis must be specified when the shapes of a and weights differ",
    ),
    (
        lambda x: anp.average(M, axis=0, weights=x),
        ValueError,
        r"average: length of weights differs from that of a along axis",
    ),
    (
        lambda x: anp.bincount(np.array([[0, 1, 2]]), weights=x),
        ValueError,
        r"bincount: x must be 1-D and weights must have its shape",
    ),
    (
        lambda x: anp.bincount(np.array([0, -1, 2]), weights=x),
        ValueError,
        r"bincount: x must contain non-negative integers",
    ),
    (lambda x: anp.block([[], [x]]), ValueError, r"block: lists cannot be empty"),
    (
        lambda x: anp.choose([0, 1, 0], [x, x], mode="bad"),
        ValueError,
        r"choose: mode must be 'raise', 'wrap' or 'clip', got 'bad'",
    ),
    (
        lambda x: anp.choose([0, 1, 0], [x, x], out=np.zeros(3)),
        TypeError,
        r"choose: out= is not supported on traced values",
    ),
    (
        lambda x: anp.compress([True], x, out=np.zeros(1)),
        TypeError,
        r"compress: out= is not supported on traced values",
    ),
    (
        lambda x: anp.convolve(x, x, mode="bad"),
        ValueError,
        r"convolve: mode must be 'full', 'same' or 'valid', got 'bad'",
    ),
    (
        lambda x: anp.correlate(anp.reshape(x, (3, 1)), x),
        ValueError,
        r"correlate: both arguments must be 1-D",
    ),
    (lambda x: anp.cov(anp.reshape(x, (1, 1, 3))), ValueError, r"cov: m has more than 2"),
    (lambda x: anp.diff(x, n=-1), ValueError, r"diff: order must be non-negative but got -1"),
    (
        lambda x: anp.diff(x[0]),
        ValueError,
        r"diff: requires input that is at least one dimensional",
    ),
    (
        lambda x: anp.einsum("i->", x, out=np.zeros(())),
        TypeError,
        r"einsum: out= and \[\] are not supported on traced values",
    ),
    (
        lambda x: anp.geomspace(x[0], -x[1], 3),
        NotImplementedError,
        r"geomspace: ends of different signs \(complex results\) are not supported",
    ),
    (lambda x: anp.interp(x, M, [1.0, 2.0]), ValueError, r"interp: xp and fp must be 1-D"),
    (
        lambda x: anp.interp(x, [1.0, 2.0], [1.0]),
        ValueError,
        r"interp: fp and xp are not of the same length \(or are empty\)",
    ),
    (
        lambda x: anp.linspace(x[0], x[1], -2),
        ValueError,
        r"linspace: number of samples, -2, must be non-negative",
    ),
    (
        lambda x: anp.median(x, out=np.zeros(())),
        TypeError,
        r"median: out= is not supported on traced values",
    ),
    (
        lambda x: anp.nanmedian(x, out=np.zeros(())),
        TypeError,
        r"nanmedian: out= is not supported on traced values",
    ),
    (
        lambda x: anp.quantile(x, 0.5, out=np.zeros(())),
        TypeError,
        r"quantile: out= and weights= are not supported on traced values",
    ),
    (lambda x: anp.quantile(x, 1.5), ValueError, r"quantile: quantiles must be in the range"),
    (
        lambda x: anp.percentile(x, 50.0, out=np.zeros(())),
        TypeError,
        r"percentile: out= and weights= are not supported on traced values",
    ),
    (
        lambda x: anp.nanquantile(x, 0.5, out=np.zeros(())),
        TypeError,
        r"nanquantile: out= and weights= are not supported on traced values",
    ),
    (
        lambda x: anp.nanpercentile(x, 50.0, out=np.zeros(())),
        TypeError,
        r"nanpercentile: out= and weights= are not supported on traced values",
    ),
    (
        lambda x: anp.pad(x, 1, constant_values=0.0, stat_length=2),
        TypeError,
        r"pad: unexpected keyword arguments \['stat_length'\] for mode='constant'",
    ),
    (
        lambda x: anp.pad(x, 1, mode="reflect", reflect_type="odd"),
        NotImplementedError,
        r"pad: mode='reflect' with reflect_type='odd' is not supported on traced values",
    ),
    (
        lambda x: anp.partition(x, 1, order="a"),
        TypeError,
        r"partition: order= is not supported on traced values",
    ),
    (
        lambda x: anp.piecewise(x, [x > 1.0], [1.0, 2.0, 3.0]),
        ValueError,
        r"piecewise: with 1 condition\(s\), either 1 or 2 functions are expected",
    ),
    (
        lambda x: anp.poly(anp.reshape(x[:2], (1, 2))),
        NotImplementedError,
        r"poly: only a 1-D sequence of roots is supported on traced values",
    ),
    (
        lambda x: anp.polyder(x, -1),
        ValueError,
        r"polyder: order of derivative must be "
        r"positive",
    ),
    (
        lambda x: anp.polyint(x, 3, k=[1.0, 2.0]),
        ValueError,
        r"polyint: k must be a scalar or a rank-1 array of length 1 or m",
    ),
    (lambda x: anp.polyint(x, -1), ValueError, r"polyint: order of integral must be positive"),
    (
        lambda x: anp.select([x > 1.0], [x, x]),
        ValueError,
        r"select: list of cases must be same length as list of conditions",
    ),
    (
        lambda x: anp.select([np.array([1, 0, 1])], [x]),
        TypeError,
        r"select: invalid entry in condlist: should be boolean ndarray",
    ),
    (
        lambda x: anp.take(x, [0], out=np.zeros(1)),
        TypeError,
        r"take: out= is not supported on traced values",
    ),
    (
        lambda x: anp.trace(anp.outer(x, x), dtype=np.float32),
        TypeError,
        r"trace: dtype= and out= are not supported on traced values",
    ),
    (
        lambda x: anp.trim_zeros(anp.outer(x, x)),
        NotImplementedError,
        r"trim_zeros: only 1-D arrays are supported on traced values",
    ),
    (
        lambda x: anp.vander(anp.outer(x, x)),
        ValueError,
        r"vander: x must be a one-dimensional array or sequence",
    ),
    (
        lambda x: anp.vecdot(x, x, dtype=np.float32),
        TypeError,
        r"vecdot: \['dtype'\] are not supported on traced values",
    ),
    (
        lambda x: anp.hstack([x, x], dtype=np.float32),
        TypeError,
        r"hstack: keyword arguments \['dtype'\] are not supported on traced values",
    ),
    (
        lambda x: anp.cumulative_sum(anp.outer(x, x)),
        ValueError,
        r"cumulative_sum: axis must be given for arrays with more than one dimension",
    ),
    (
        lambda x: anp.cumulative_prod(x, dtype=np.float32),
        TypeError,
        r"cumulative_prod: the argument\(s\) \['dtype'\] are not supported on traced values",
    ),
    (
        lambda x: anp.nansum(x, dtype=np.float32),
        TypeError,
        r"nansum: the argument\(s\) \['dtype'\] are not supported on traced values",
    ),
    (
        lambda x: anp.nanmax(x, out=np.zeros(())),
        TypeError,
        r"nanmax: the argument\(s\) \['out'\] are not supported on traced values",
    ),
    (
        lambda x: anp.nancumsum(x, dtype=np.float32),
        TypeError,
        r"nancumsum: the argument\(s\) \['dtype'\] are not supported on traced values",
    ),
    (
        lambda x: anp.ptp(x, out=np.zeros(())),
        TypeError,
        r"ptp: the argument\(s\) \['out'\] are not supported on traced values",
    ),
    (
        lambda x: anp.cumprod(x, dtype=np.float32),
        TypeError,
        r"cumprod: the argument\(s\) \['dtype'\] are not supported on traced values",
    ),
    (
        lambda x: np.add.accumulate(x, dtype=np.float32),
        TypeError,
        r"numpy\.add\.accumulate: the argument\(s\) \['dtype'\] are not supported",
    ),
    (
        lambda x: np.multiply.outer(x, x, dtype=np.float32),
        TypeError,
        r"numpy\.multiply\.outer: the argument\(s\) \['dtype'\] are not supported",
    ),
]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_error_path(index):
    fun, error, pattern = CASES[index]
    with pytest.raises(error, match=pattern):
        ad.grad(lambda x: anp.sum(anp.ravel(anp.asarray(fun(x)))))(X)


def test_all_nan_slices_warn_as_numpy_does():
    x = np.array([[np.nan, np.nan], [1.0, 2.0]])
    with pytest.warns(RuntimeWarning, match="All-NaN slice encountered"):
        gradient = ad.grad(lambda x: anp.nansum(anp.nanmax(x, axis=1)))(x)
    np.testing.assert_array_equal(gradient, [[0.0, 0.0], [0.0, 1.0]])
    with pytest.warns(RuntimeWarning, match="All-NaN slice encountered"):
        ad.grad(lambda x: anp.nansum(anp.nanmedian(x, axis=1)))(x)


def test_cholesky_of_a_non_positive_definite_matrix_raises_numpy_error():
    with pytest.raises(np.linalg.LinAlgError, match="positive definite"):
        ad.grad(lambda a: anp.sum(la.cholesky(a)))(-np.eye(2))


def test_gradient_refuses_traced_spacing():
    with pytest.raises(
        NotImplementedError,
        match=r"adfun\.numpy\.gradient: differentiating "
        r"with respect to the spacing",
    ):
        ad.grad(lambda h: anp.sum(anp.gradient(np.arange(4.0) ** 2, h)))(0.5)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'adfun.numpy' has no attribute 'nope'"):
        anp.nope  # noqa: B018


@pytest.mark.parametrize(
    "name", ["unique", "sort_complex", "unique_values", "roots", "unique_counts"]
)
def test_plain_numpy_unsupported_functions_refuse_traced_values(name):
    with pytest.raises(
        NotImplementedError,
        match=rf"adfun\.numpy\.{name} \(numpy\.{name}\) "
        r"is not supported on traced values",
    ):
        ad.grad(lambda x: np.sum(getattr(np, name)(x)))(np.ones(3))


def test_in_place_functions_explain_why():
    with pytest.raises(NotImplementedError, match="writes into an array in place"):
        ad.grad(lambda x: np.place(x, x > 0, [1.0]))(np.ones(3))


def test_staged_boolean_mask_index_is_refused():
    with pytest.raises(
        ad.StagingError,
        match=r"x\[mask\] \(adfun\.numpy\.getitem\): the result "
        r"depends on the values of a traced argument .*"
        r"adfun\.numpy\.where\(mask, x, 0\)",
    ):
        ad.jit(lambda x, m: x[m])(np.ones(3), np.array([True, False, True]))
    with pytest.raises(ad.StagingError, match=r"x\[mask\]"):
        ad.jit(lambda x: anp.sum(x[x > 1]))(np.arange(3.0))
