"""adfun.scipy.stats: every distribution against SciPy's values, and its derivatives in
every smooth argument against finite differences, in both modes (and under staging).

The shape derivatives of ``gammainc``, ``betainc`` and ``stdtr`` (no closed form) are
checked here against mpmath's high-precision derivatives as well.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

scipy = pytest.importorskip("scipy")
import scipy.special as sp  # noqa: E402
import scipy.stats  # noqa: E402, F811 - loads the submodule

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402
from adfun._engine.trace import full_value  # noqa: E402
from adfun.scipy import special, stats  # noqa: E402
from adfun.scipy._incomplete import (  # noqa: E402
    betainc_shape_derivatives,
    gammainc_shape_derivatives,
)

from _checking import check  # noqa: E402


def _traced_value(fun, *args):
    out, _ = ad.vjp(fun, *args)
    return full_value(out)


# --- the univariate continuous distributions ---------------------------------------------

_METHODS = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]
#: name -> (points, shape parameters), the points inside the support.
_CONTINUOUS = {
    "norm": (np.array([-1.2, 0.3, 2.0]), ()),
    "t": (np.array([-1.2, 0.3, 2.0]), (np.array(3.5),)),
    "gamma": (np.array([0.4, 1.3, 3.0]), (np.array(2.5),)),
    "chi2": (np.array([0.4, 1.3, 5.0]), (np.array(3.5),)),
    "beta": (np.array([0.15, 0.5, 0.8]), (np.array(1.5), np.array(2.5))),
}


@pytest.mark.parametrize("method", _METHODS)
@pytest.mark.parametrize("name", sorted(_CONTINUOUS))
def test_continuous_methods_match_scipy_and_differentiate_in_every_argument(name, method):
    x, shapes = _CONTINUOUS[name]
    loc, scale = np.array(-0.05), np.array(1.1)
    fun = getattr(getattr(stats, name), method)
    expected = getattr(getattr(scipy.stats, name), method)(x, *shapes, loc, scale)
    np.testing.assert_allclose(_traced_value(fun, x, *shapes, loc, scale), expected, rtol=1e-12)
    np.testing.assert_allclose(
        fun(x, *shapes), getattr(getattr(scipy.stats, name), method)(x, *shapes)
    )
    check(fun, (x, *shapes, loc, scale))


@pytest.mark.parametrize("method", _METHODS)
@pytest.mark.parametrize("name", sorted(_CONTINUOUS))
def test_continuous_methods_broadcast_like_scipy(name, method):
    x, shapes = _CONTINUOUS[name]
    x = x.reshape(3, 1)
    shapes = tuple(shape * np.array([1.0, 1.4]) for shape in shapes)
    scale = np.array([[1.0], [1.5], [0.7]])
    fun = getattr(getattr(stats, name), method)
    expected = getattr(getattr(scipy.stats, name), method)(x, *shapes, 0.0, scale)
    value = _traced_value(fun, x, *shapes, 0.0, scale)
    assert value.shape == expected.shape
    np.testing.assert_allclose(value, expected, rtol=1e-12)


_OUTSIDE = {
    "gamma": (np.array([-1.0, 0.0, 2.0]), (np.array(2.5),)),
    "chi2": (np.array([-1.0, 0.0, 2.0]), (np.array(3.5),)),
    "beta": (np.array([-0.5, 0.0, 1.0, 1.5]), (np.array(1.5), np.array(2.5))),
}


@pytest.mark.parametrize("method", _METHODS)
@pytest.mark.parametrize("name", sorted(_OUTSIDE))
def test_outside_the_support_gives_scipys_constants_with_zero_derivative(name, method):
    x, shapes = _OUTSIDE[name]
    fun = getattr(getattr(stats, name), method)
    expected = getattr(getattr(scipy.stats, name), method)(x, *shapes)
    np.testing.assert_allclose(_traced_value(fun, x, *shapes), expected, rtol=1e-12)
    outside = x[(x < 0) | (x > 1)] if name == "beta" else x[x < 0]
    np.testing.assert_array_equal(ad.grad(lambda x: anp.sum(fun(x, *shapes)))(outside), 0.0)
    if shapes:
        gradient = ad.grad(lambda a: anp.sum(fun(outside, a, *shapes[1:])))(shapes[0])
        assert gradient == 0.0


@pytest.mark.parametrize("name", sorted(_CONTINUOUS))
def test_invalid_parameters_give_nan_like_scipy(name):
    x, shapes = _CONTINUOUS[name]
    bad_shapes = tuple(np.array([-1.0, 0.0, 1.5]) for _ in shapes)
    for method in _METHODS:
        fun = getattr(getattr(stats, name), method)
        scipy_fun = getattr(getattr(scipy.stats, name), method)
        np.testing.assert_array_equal(
            _traced_value(lambda x, fun=fun: fun(x, *shapes, 0.0, -1.0), x),
            scipy_fun(x, *shapes, 0.0, -1.0),
        )
        if shapes:
            np.testing.assert_allclose(
                _traced_value(lambda x, fun=fun: fun(x, *bad_shapes), x),
                scipy_fun(x, *bad_shapes),
                rtol=1e-12,
            )


_DRAWS = {
    "norm": lambda draw: (draw(st.floats(-3.0, 3.0)), ()),
    "t": lambda draw: (draw(st.floats(-3.0, 3.0)), (draw(st.floats(0.6, 8.0)),)),
    "gamma": lambda draw: (draw(st.floats(0.2, 6.0)), (draw(st.floats(0.4, 6.0)),)),
    "chi2": lambda draw: (draw(st.floats(0.2, 8.0)), (draw(st.floats(0.8, 8.0)),)),
    "beta": lambda draw: (
        draw(st.floats(0.05, 0.95)),
        (draw(st.floats(0.4, 5.0)), draw(st.floats(0.4, 5.0))),
    ),
}


@pytest.mark.parametrize("name", sorted(_DRAWS))
@given(data=st.data())
def test_continuous_derivatives_against_finite_differences(name, data):
    x, shapes = _DRAWS[name](data.draw)
    method = data.draw(st.sampled_from(_METHODS), label="method")
    fun = getattr(getattr(stats, name), method)
    loc, scale = 0.1, 0.9  # x is drawn in standard form
    args = (
        np.array(loc + scale * x),
        *(np.array(s) for s in shapes),
        np.array(loc),
        np.array(scale),
    )
    check(fun, args, order=1)


@pytest.mark.parametrize("name", ["ppf", "isf"])
def test_norm_quantiles_match_scipy(name):
    q = np.array([0.1, 0.5, 0.8])
    fun = getattr(stats.norm, name)
    np.testing.assert_allclose(
        _traced_value(fun, q, 0.5, 2.0), getattr(scipy.stats.norm, name)(q, 0.5, 2.0), rtol=1e-12
    )
    check(fun, (q, np.array(0.5), np.array(2.0)))


@pytest.mark.parametrize("name", ["entropy", "mean", "median", "var", "std"])
def test_norm_moments_match_scipy(name):
    loc, scale = np.array([0.0, 1.5]), np.array([[0.5], [2.0]])
    fun = getattr(stats.norm, name)
    expected = getattr(scipy.stats.norm, name)(loc, scale)
    value = _traced_value(fun, loc, scale)
    assert value.shape == np.shape(expected)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    check(fun, (loc, scale))
    np.testing.assert_array_equal(_traced_value(fun, loc, -1.0), [np.nan, np.nan])


def test_t_distribution_functions_differentiate_in_df_to_second_order():
    x, df = np.array([-2.0, 0.4, 3.0]), np.array(2.5)
    for method in ["cdf", "logcdf", "sf", "logsf"]:
        check(getattr(stats.t, method), (x, df, np.array(0.2), np.array(1.3)), order=2)
    # Against a high-precision difference of SciPy's values.
    step = 1e-5
    expected = (scipy.stats.t.cdf(x, df + step) - scipy.stats.t.cdf(x, df - step)) / (2 * step)
    np.testing.assert_allclose(
        ad.elementwise_grad(lambda df: stats.t.cdf(x, df))(np.full(3, 2.5)), expected, rtol=1e-7
    )


def test_gamma_and_beta_cdfs_differentiate_in_their_shapes_to_second_order():
    check(stats.gamma.cdf, (np.array([0.5, 2.0, 9.0]), np.array(2.5)), order=2)
    check(stats.chi2.sf, (np.array([0.5, 2.0, 9.0]), np.array(3.0)), order=2)
    check(stats.beta.cdf, (np.array([0.1, 0.5, 0.95]), np.array(1.5), np.array(0.7)), order=2)


# --- poisson -----------------------------------------------------------------------------

_POISSON = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"]


@pytest.mark.parametrize("method", _POISSON)
def test_poisson_matches_scipy_and_differentiates_in_mu(method):
    k = np.array([-1.0, 0.0, 2.0, 2.5, 7.0])
    mu = np.array(2.3)
    fun = getattr(stats.poisson, method)
    expected = getattr(scipy.stats.poisson, method)(k, mu)
    np.testing.assert_allclose(_traced_value(lambda mu: fun(k, mu), mu), expected, rtol=1e-12)
    np.testing.assert_allclose(
        _traced_value(lambda mu: fun(k + 1, mu, 1), mu), expected, rtol=1e-12
    )
    finite = np.isfinite(expected) & (expected != 0)
    check(lambda mu: fun(k[finite], mu), (mu,))
    # k is a count: SciPy's function is piecewise constant in it.
    np.testing.assert_array_equal(ad.grad(lambda k: anp.sum(fun(k, mu)))(k), 0.0)
    np.testing.assert_array_equal(
        _traced_value(lambda mu: fun(k, mu), np.array(-1.0)),
        getattr(scipy.stats.poisson, method)(k, -1.0),
    )


def test_poisson_cdf_derivative_is_minus_the_pmf():
    mu = np.array([0.5, 3.0, 10.0])
    np.testing.assert_allclose(
        ad.elementwise_grad(lambda mu: stats.poisson.cdf(4, mu))(mu),
        -scipy.stats.poisson.pmf(4, mu),
        rtol=1e-12,
    )


# --- dirichlet ---------------------------------------------------------------------------

_ALPHA = np.array([1.5, 2.0, 3.0])


@pytest.mark.parametrize(
    "x",
    [
        np.array([0.2, 0.3, 0.5]),
        np.array([[0.2, 0.1], [0.3, 0.6], [0.5, 0.3]]),
        np.array([0.2, 0.3]),
        np.array([[0.2, 0.1], [0.3, 0.6]]),
    ],
    ids=["point", "points", "point-K-1", "points-K-1"],
)
@pytest.mark.parametrize("method", ["logpdf", "pdf"])
def test_dirichlet_matches_scipy_in_x_and_alpha(method, x):
    fun = getattr(stats.dirichlet, method)
    expected = getattr(scipy.stats.dirichlet, method)(x, _ALPHA)
    value = _traced_value(fun, x, _ALPHA)
    assert np.shape(value) == np.shape(expected)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    if x.shape[0] == 2:  # K - 1 components: free to move in every direction
        check(fun, (x, _ALPHA))
    else:  # on the simplex: move along it only
        check(lambda y, alpha: fun(x + y - anp.mean(y, axis=0), alpha), (0.0 * x, _ALPHA))


@pytest.mark.parametrize("method", ["mean", "var", "entropy"])
def test_dirichlet_moments_match_scipy(method):
    fun = getattr(stats.dirichlet, method)
    np.testing.assert_allclose(
        _traced_value(fun, _ALPHA), getattr(scipy.stats.dirichlet, method)(_ALPHA), rtol=1e-12
    )
    check(fun, (_ALPHA,))


def test_dirichlet_logpdf_gradient_in_alpha_is_the_score():
    x = np.array([0.2, 0.3, 0.5])
    expected = np.log(x) - sp.digamma(_ALPHA) + sp.digamma(_ALPHA.sum())
    np.testing.assert_allclose(ad.grad(stats.dirichlet.logpdf, 1)(x, _ALPHA), expected)


@pytest.mark.parametrize(
    ("x", "alpha", "message"),
    [
        (np.array([0.2, 0.8]), np.array([[1.0, 2.0]]), "alpha must be one-dimensional"),
        (np.array([0.2, 0.8]), np.array([1.0, -2.0]), "every entry of alpha must be greater"),
        (np.array([0.2, 0.3, 0.2, 0.3]), _ALPHA, "x must have K = 3 or K - 1 = 2 entries"),
        (np.array([0.2, 0.3, 0.6]), _ALPHA, "x must lie in the simplex"),
        (np.array([-0.2, 0.7, 0.5]), _ALPHA, r"every entry of x must lie in \[0, 1\]"),
        (np.array([0.0, 0.5, 0.5]), np.array([0.5, 2.0, 2.0]), "an entry of x is 0"),
        (np.ones((2, 2, 2)) * 0.25, _ALPHA, "with K - 1 components given, x must be one- or two"),
    ],
)
def test_dirichlet_errors_name_the_function_and_the_argument(x, alpha, message):
    with pytest.raises(ValueError, match=f"adfun.scipy.stats.dirichlet.logpdf: {message}"):
        ad.grad(lambda x: anp.sum(stats.dirichlet.logpdf(x, alpha)))(x)


def test_dirichlet_under_jit_replays_and_gives_nan_off_the_simplex():
    fun = ad.jit(stats.dirichlet.logpdf)
    x = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(fun(x, _ALPHA), scipy.stats.dirichlet.logpdf(x, _ALPHA))
    other = np.array([0.6, 0.3, 0.1])
    np.testing.assert_allclose(fun(other, _ALPHA), scipy.stats.dirichlet.logpdf(other, _ALPHA))
    assert np.isnan(fun(np.array([0.6, 0.3, 0.4]), _ALPHA))
    with pytest.raises(ValueError, match="dirichlet.mean: every entry of alpha"):
        ad.grad(lambda a: anp.sum(stats.dirichlet.mean(a)))(np.array([1.0, 0.0]))


# --- multivariate_normal -----------------------------------------------------------------

RNG = np.random.default_rng(5)
_FACTOR = RNG.standard_normal((3, 2))
_SINGULAR = _FACTOR @ _FACTOR.T  # rank 2
_MEAN = RNG.standard_normal(3)


def test_multivariate_normal_entropy_matches_scipy_in_every_argument():
    cov = _SINGULAR + np.eye(3)
    np.testing.assert_allclose(
        _traced_value(stats.multivariate_normal.entropy, _MEAN, cov),
        scipy.stats.multivariate_normal.entropy(_MEAN, cov),
    )
    check(stats.multivariate_normal.entropy, (_MEAN, cov))
    gradient = ad.grad(stats.multivariate_normal.entropy, 1)(_MEAN, cov)
    # The Cholesky path reads cov's lower triangle (as SciPy's eigh does): compare along
    # symmetric directions, i.e. the symmetric part.
    np.testing.assert_allclose(0.5 * (gradient + gradient.T), 0.5 * np.linalg.inv(cov))
    np.testing.assert_allclose(
        _traced_value(lambda c: stats.multivariate_normal.entropy(None, c), np.array(2.0)),
        scipy.stats.multivariate_normal.entropy(None, 2.0),
    )


def test_multivariate_normal_singular_covariance_values_and_support():
    points = _MEAN + (_FACTOR @ RNG.standard_normal((2, 4))).T
    points[0] += 1.0  # off the range of cov: -inf
    for method in ["logpdf", "pdf"]:
        fun = getattr(stats.multivariate_normal, method)
        np.testing.assert_allclose(
            _traced_value(lambda x, fun=fun: fun(x, _MEAN, _SINGULAR, allow_singular=True), points),
            getattr(scipy.stats.multivariate_normal, method)(
                points, _MEAN, _SINGULAR, allow_singular=True
            ),
            rtol=1e-10,
        )
    np.testing.assert_allclose(
        _traced_value(lambda c: stats.multivariate_normal.entropy(_MEAN, c), _SINGULAR),
        scipy.stats.multivariate_normal.entropy(_MEAN, _SINGULAR),
    )


def test_multivariate_normal_singular_covariance_derivatives():
    # In x and mean, along the range of cov, to second order.
    def along_range(z, w):
        return stats.multivariate_normal.logpdf(
            _MEAN + z @ _FACTOR.T, _MEAN + _FACTOR @ w, _SINGULAR, allow_singular=True
        )

    check(along_range, (RNG.standard_normal((4, 2)), RNG.standard_normal(2)))

    # In cov, first order, along perturbations that keep its range.
    x = _MEAN + (_FACTOR @ RNG.standard_normal((2, 3))).T
    turn = _FACTOR @ RNG.standard_normal((2, 2))
    direction = _FACTOR @ turn.T + turn @ _FACTOR.T

    def scipy_value(step, method):
        moved = (_FACTOR + step * turn) @ (_FACTOR + step * turn).T
        if method == "entropy":
            return scipy.stats.multivariate_normal.entropy(_MEAN, moved)
        return np.sum(scipy.stats.multivariate_normal.logpdf(x, _MEAN, moved, allow_singular=True))

    for method, fun in [
        ("logpdf", lambda c: anp.sum(stats.multivariate_normal.logpdf(x, _MEAN, c, True))),
        ("entropy", lambda c: stats.multivariate_normal.entropy(_MEAN, c)),
    ]:
        expected = (scipy_value(1e-6, method) - scipy_value(-1e-6, method)) / 2e-6
        np.testing.assert_allclose(np.sum(ad.grad(fun)(_SINGULAR) * direction), expected, rtol=1e-6)
        with pytest.raises(NotImplementedError, match=f"{method}: second derivatives with respect"):
            ad.hessian(fun)(_SINGULAR)


def test_multivariate_normal_allow_singular_on_a_full_rank_cov_is_exact_to_second_order():
    cov = _SINGULAR + np.eye(3)
    x = RNG.standard_normal((2, 3))
    check(
        lambda x, m, c: stats.multivariate_normal.logpdf(x, m, c, allow_singular=True),
        (x, _MEAN, cov),
    )
    staged = ad.jit(lambda x, m, c: stats.multivariate_normal.logpdf(x, m, c, allow_singular=True))
    np.testing.assert_allclose(
        staged(x, _MEAN, cov), scipy.stats.multivariate_normal.logpdf(x, _MEAN, cov)
    )
    np.testing.assert_allclose(
        staged(x, _MEAN, _SINGULAR),
        scipy.stats.multivariate_normal.logpdf(x, _MEAN, _SINGULAR, allow_singular=True),
    )


def test_multivariate_normal_refuses_an_indefinite_cov():
    with pytest.raises(ValueError, match="entropy: cov must be symmetric positive semidefinite"):
        ad.grad(stats.multivariate_normal.entropy, 1)(_MEAN, np.diag([1.0, -1.0, 2.0]))


# --- the shape derivatives of the incomplete functions ------------------------------------


def test_gammainc_shape_derivatives_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    for a, x in [(0.05, 0.01), (0.5, 3.0), (2.5, 1.0), (10.0, 25.0), (60.0, 45.0), (300.0, 310.0)]:
        first, second = gammainc_shape_derivatives(a, x)
        regularized = lambda a, x=x: mpmath.gammainc(a, 0, x, regularized=True)  # noqa: E731
        np.testing.assert_allclose(first, float(mpmath.diff(regularized, a)), rtol=1e-11)
        np.testing.assert_allclose(second, float(mpmath.diff(regularized, a, 2)), rtol=1e-10)


def test_betainc_shape_derivatives_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    for a, b, x in [(0.05, 0.5, 0.3), (2.0, 3.0, 0.4), (30.0, 0.1, 0.9999), (0.5, 80.0, 1e-4)]:
        gradient, hessian = betainc_shape_derivatives(a, b, x)

        def regularized(a, b, x=x):
            return mpmath.betainc(a, b, 0, x, regularized=True)

        for (i, j), value in [((1, 0), gradient[0]), ((0, 1), gradient[1]),
                              ((2, 0), hessian[0, 0]), ((1, 1), hessian[0, 1]),
                              ((0, 2), hessian[1, 1])]:  # fmt: skip
            expected = float(mpmath.diff(regularized, (a, b), (i, j)))
            np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-14)


def test_shape_derivatives_at_the_edges_and_outside_the_domain():
    first, second = gammainc_shape_derivatives([2.0, 2.0, -1.0, np.nan], [0.0, np.inf, 1.0, 1.0])
    np.testing.assert_array_equal(first, [0.0, 0.0, np.nan, np.nan])
    np.testing.assert_array_equal(second, [0.0, 0.0, np.nan, np.nan])
    gradient, hessian = betainc_shape_derivatives(2.0, [1.0, 1.0, 0.0], [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(gradient[:, :2], 0.0)
    assert np.isnan(gradient[:, 2]).all() and np.isnan(hessian[:, :, 2]).all()


def test_large_shapes_agree_with_differences_of_scipy():
    a, x, step = 1e4, 1e4 + 50.0, 1e-3
    expected = (sp.gammainc(a + step, x) - sp.gammainc(a - step, x)) / (2 * step)
    np.testing.assert_allclose(gammainc_shape_derivatives(a, x)[0], expected, rtol=1e-6)
    a, b, x = 1e4, 2e4, 0.334
    expected = (sp.betainc(a, b + step, x) - sp.betainc(a, b - step, x)) / (2 * step)
    np.testing.assert_allclose(betainc_shape_derivatives(a, b, x)[0][1], expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("name", "fun", "shapes"),
    [
        ("gammainc", lambda a: special.gammainc(a, 1.5), "a"),
        ("gammainc", lambda a: special.gammaincc(a, 1.5), "a"),
        ("betainc", lambda a: special.betainc(a, 2.0, 0.3), "a and b"),
        ("betainc", lambda b: special.betaincc(1.5, b, 0.3), "a and b"),
    ],
)
def test_third_shape_derivatives_raise(name, fun, shapes):
    second = ad.grad(ad.grad(fun))(2.0)
    assert np.isfinite(second)
    with pytest.raises(
        NotImplementedError,
        match=f"special.{name}: derivatives of third order with respect to {shapes}",
    ):
        ad.grad(ad.grad(ad.grad(fun)))(2.0)


def test_stdtr_df_derivative_near_zero_is_smooth():
    for t in [0.0, 1e-8, -1e-8]:
        hessian = ad.hessian(lambda v: special.stdtr(v[0], v[1]))(np.array([3.0, t]))
        assert np.all(np.isfinite(hessian))
    expected = (scipy.stats.t.pdf(0.0, 3.0 + 1e-5) - scipy.stats.t.pdf(0.0, 3.0 - 1e-5)) / 2e-5
    np.testing.assert_allclose(
        ad.hessian(lambda v: special.stdtr(v[0], v[1]))(np.array([3.0, 0.0]))[0, 1],
        expected,
        rtol=1e-6,
    )


def test_staged_distribution_functions_replay_on_new_values():
    fun = ad.jit(ad.grad(lambda a, x: anp.sum(stats.gamma.cdf(x, a)), 0))
    x = np.array([0.5, 2.0])
    for a in [1.5, 4.0]:
        step = 1e-6
        expected = np.sum(
            scipy.stats.gamma.cdf(x, a + step) - scipy.stats.gamma.cdf(x, a - step)
        ) / (2 * step)
        np.testing.assert_allclose(fun(a, x), expected, rtol=1e-6)
