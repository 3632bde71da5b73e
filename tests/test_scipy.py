"""adfun.scipy: special functions and distributions against SciPy, in both modes.

Every primitive of ``adfun.scipy.special`` is checked against finite differences by
test_rules.py; here: values equal SciPy's, the composites (``multigammaln``,
``logsumexp`` options, the distributions), dispatch of SciPy's ufuncs, and errors.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

scipy = pytest.importorskip("scipy")
import scipy.special as sp  # noqa: E402
import scipy.stats  # noqa: E402, F811 - loads the submodule

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402
from adfun._engine.trace import full_value  # noqa: E402
from adfun.scipy import special, stats  # noqa: E402

from _checking import check  # noqa: E402

RNG = np.random.default_rng(11)


def _check(fun, *args, order=2, positions=None):
    check(fun, args, positions, order=order)


def _traced_value(fun, *args):
    out, _ = ad.vjp(fun, *args)
    return full_value(out)


_UNARY = {
    "erf": 0.7,
    "erfc": 0.7,
    "erfcx": 0.7,
    "erfinv": 0.4,
    "erfcinv": 0.6,
    "ndtr": 0.3,
    "log_ndtr": -2.0,
    "ndtri": 0.3,
    "expit": 0.3,
    "logit": 0.3,
    "log_expit": 0.3,
    "log1p": 0.5,
    "expm1": 0.5,
    "entr": 0.5,
    "gammaln": 2.5,
    "gamma": 2.5,
    "rgamma": 2.5,
    "digamma": 2.5,
    "psi": 2.5,
    "j0": 1.5,
    "j1": 1.5,
    "y0": 1.5,
    "y1": 1.5,
    "i0": 1.5,
    "i1": 1.5,
    "i0e": 1.5,
    "i1e": -1.5,
    "erfi": 0.7,
    "dawsn": 0.7,
    "exp1": 1.5,
    "expi": -1.5,
    "wrightomega": 0.7,
    "cosm1": 0.7,
    "spence": 1.5,
}
_BINARY = {
    "xlogy": (1.5, 2.5),
    "xlog1py": (1.5, 0.5),
    "beta": (1.5, 2.5),
    "betaln": (1.5, 2.5),
    "gammainc": (1.5, 2.5),
    "gammaincc": (1.5, 2.5),
    "polygamma": (1, 2.5),
    "jv": (1.5, 2.5),
    "yv": (1.5, 2.5),
    "iv": (1.5, 2.5),
    "ive": (1.5, 2.5),
    "kv": (1.5, 2.5),
    "stdtr": (3.0, 0.5),
    "rel_entr": (1.5, 2.5),
    "kl_div": (1.5, 2.5),
}


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_unary_functions_match_scipy_and_dispatch(name):
    x = np.array([_UNARY[name], _UNARY[name] * 0.8])
    expected = getattr(sp, name)(x)
    np.testing.assert_allclose(getattr(special, name)(x), expected, rtol=1e-12)
    np.testing.assert_allclose(_traced_value(getattr(special, name), x), expected, rtol=1e-12)
    # Plain SciPy ufuncs on traced values dispatch here, with the same derivative.
    np.testing.assert_allclose(
        ad.grad(lambda x: anp.sum(getattr(sp, name)(x)))(x),
        ad.grad(lambda x: anp.sum(getattr(special, name)(x)))(x),
    )
    _check(getattr(special, name), x, order=1)


@pytest.mark.parametrize("name", sorted(_BINARY))
def test_binary_functions_match_scipy(name):
    first, second = _BINARY[name]
    x = np.array([second, second * 1.3])
    expected = getattr(sp, name)(first, x)
    np.testing.assert_allclose(getattr(special, name)(first, x), expected, rtol=1e-12)
    np.testing.assert_allclose(
        _traced_value(lambda x: getattr(special, name)(first, x), x), expected, rtol=1e-12
    )


@pytest.mark.parametrize("name", ["betainc", "betaincc"])
def test_incomplete_beta_differentiates_in_every_argument(name):
    a, b, x = np.array(1.5), np.array(2.5), np.array([0.2, 0.7])
    fun = getattr(special, name)
    np.testing.assert_allclose(_traced_value(lambda x: fun(a, b, x), x), getattr(sp, name)(a, b, x))
    _check(fun, a, b, x)


def test_spence_derivative_at_one():
    np.testing.assert_allclose(ad.grad(special.spence)(1.0), -1.0)


def test_multigammaln_matches_scipy_in_both_modes():
    a = np.array([3.0, 4.5])
    np.testing.assert_allclose(
        _traced_value(lambda a: special.multigammaln(a, 3), a), sp.multigammaln(a, 3)
    )
    _check(lambda a: special.multigammaln(a, 3), a)
    with pytest.raises(ValueError, match=r"multigammaln: every entry of a must exceed"):
        ad.grad(lambda a: anp.sum(special.multigammaln(a, 3)))(np.array([0.5, 3.0]))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"axis": 0},
        {"axis": (0, 1), "keepdims": True},
        {"axis": -1, "keepdims": True},
    ],
)
def test_logsumexp_matches_scipy_with_and_without_weights(options):
    a = RNG.standard_normal((2, 3))
    b = RNG.uniform(0.5, 2.0, (2, 3))
    np.testing.assert_allclose(
        _traced_value(lambda a: special.logsumexp(a, **options), a), sp.logsumexp(a, **options)
    )
    np.testing.assert_allclose(
        _traced_value(lambda a, b: special.logsumexp(a, b=b, **options), a, b),
        sp.logsumexp(a, b=b, **options),
    )
    _check(lambda a, b: special.logsumexp(a, b=b, **options), a, b)


def test_logsumexp_with_negative_weights_and_return_sign():
    a = np.array([0.5, 1.0, -0.3])
    b = np.array([1.0, -2.0, 0.5])

    def fun(a, b):
        value, sign = special.logsumexp(a, b=b, return_sign=True)
        assert full_value(sign) == -1.0
        return value * sign

    expected = -sp.logsumexp(a, b=b, return_sign=True)[0]
    np.testing.assert_allclose(_traced_value(fun, a, b), expected)
    _check(fun, a, b)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_softmax_family_matches_scipy(name, axis):
    x = RNG.standard_normal((2, 3))
    fun = getattr(special, name)
    np.testing.assert_allclose(
        _traced_value(lambda x: fun(x, axis=axis), x), getattr(sp, name)(x, axis=axis)
    )
    _check(lambda x: fun(x, axis=axis), x)


# --- distributions ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"])
def test_norm_matches_scipy_in_every_argument(name):
    x = np.array([-1.2, 0.3, 2.0])
    loc, scale = np.array(0.4), np.array(1.7)
    fun = getattr(stats.norm, name)
    np.testing.assert_allclose(
        _traced_value(fun, x, loc, scale),
        getattr(scipy.stats.norm, name)(x, loc, scale),
        rtol=1e-12,
    )
    np.testing.assert_allclose(fun(x), getattr(scipy.stats.norm, name)(x))
    _check(fun, x, loc, scale)


def test_norm_ppf_matches_scipy():
    q = np.array([0.1, 0.5, 0.8])
    np.testing.assert_allclose(_traced_value(stats.norm.ppf, q), scipy.stats.norm.ppf(q))
    _check(stats.norm.ppf, q, np.array(1.0), np.array(2.0))


def test_norm_logcdf_far_in_the_left_tail_is_finite():
    gradient = ad.grad(stats.norm.logcdf)(-40.0)
    np.testing.assert_allclose(gradient, 40.0, rtol=1e-3)


@pytest.mark.parametrize("name", ["pdf", "logpdf"])
def test_t_matches_scipy_in_every_argument(name):
    x = np.array([-1.2, 0.3, 2.0])
    df, loc, scale = np.array(3.5), np.array(0.4), np.array(1.7)
    fun = getattr(stats.t, name)
    np.testing.assert_allclose(
        _traced_value(fun, x, df, loc, scale),
        getattr(scipy.stats.t, name)(x, df, loc, scale),
        rtol=1e-12,
    )
    _check(fun, x, df, loc, scale)


def test_t_cdf_differentiates_in_every_argument():
    x = np.array([-1.2, 0.3, 2.0])
    df, loc, scale = np.array(3.5), np.array(0.4), np.array(1.7)
    np.testing.assert_allclose(
        _traced_value(stats.t.cdf, x, df, loc, scale), scipy.stats.t.cdf(x, df, loc, scale)
    )
    _check(stats.t.cdf, x, df, loc, scale)


@pytest.mark.parametrize("x_shape", [(3,), (4, 3), (2, 2, 3)])
def test_multivariate_normal_logpdf_matches_scipy_in_every_argument(x_shape):
    x = RNG.standard_normal(x_shape)
    mean = RNG.standard_normal(3)
    factor = RNG.standard_normal((3, 3))
    cov = factor @ factor.T + 3.0 * np.eye(3)
    expected = scipy.stats.multivariate_normal.logpdf(x, mean, cov)
    np.testing.assert_allclose(
        _traced_value(stats.multivariate_normal.logpdf, x, mean, cov), expected, rtol=1e-12
    )
    _check(stats.multivariate_normal.logpdf, x, mean, cov, order=1)
    np.testing.assert_allclose(
        _traced_value(stats.multivariate_normal.pdf, x, mean, cov),
        scipy.stats.multivariate_normal.pdf(x, mean, cov),
        rtol=1e-12,
    )


def test_multivariate_normal_scalar_covariance_and_default_mean():
    x = RNG.standard_normal((4, 2))
    np.testing.assert_allclose(
        _traced_value(lambda x: stats.multivariate_normal.logpdf(x, None, 2.0), x),
        scipy.stats.multivariate_normal.logpdf(x, None, 2.0 * np.eye(2)),
    )
    np.testing.assert_allclose(
        ad.grad(
            lambda x: anp.sum(
                stats.multivariate_normal.logpdf(x, np.zeros(2), np.eye(2), allow_singular=True)
            )
        )(x),
        -x,
    )


# --- packaging ---------------------------------------------------------------------------


def test_adfun_scipy_is_a_lazy_attribute():
    assert ad.scipy.special.erf is special.erf
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        ad.nonexistent  # noqa: B018


def test_missing_scipy_gives_an_import_error_saying_how_to_install_it():
    code = (
        "import sys; sys.modules['scipy'] = None; sys.modules['scipy.special'] = None\n"
        "import adfun\n"
        "try:\n"
        "    import adfun.scipy\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install scipy" in result.stdout


def test_i1_derivative_is_finite_at_subnormal_arguments():
    # SciPy's iv(2, x) is NaN for subnormal x; the rule switches to the Taylor series there.
    assert ad.grad(special.i1)(1e-310) == 0.5
    assert ad.grad(ad.grad(special.i1))(1e-310) == pytest.approx(0.375e-310, rel=1e-6)
    assert ad.grad(special.i1)(0.7) == pytest.approx(sp.i0(0.7) - sp.i1(0.7) / 0.7)


def test_spence_second_derivative_at_one():
    assert ad.grad(special.spence)(1.0) == -1.0
    assert ad.grad(ad.grad(special.spence))(1.0) == pytest.approx(0.5)
