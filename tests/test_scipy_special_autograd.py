"""adfun.scipy.special offers everything HIPS autograd's ``scipy.special`` does (v1.9.1).

The new functions against SciPy: ``jn`` and ``yn`` (differentiable in ``x``, not in the
integer order ``n``) and ``gammasgn`` (a constant for differentiation).  The primitives
are also checked against finite differences by test_rules.py and under staging by
test_staging.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

scipy = pytest.importorskip("scipy")
import scipy.special as sp  # noqa: E402

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402
from adfun._engine.trace import full_value  # noqa: E402
from adfun.scipy import special  # noqa: E402

from _checking import check  # noqa: E402

#: The public names of autograd v1.9.1's ``autograd/scipy/special.py``.
AUTOGRAD_SPECIAL = [
    "beta",
    "betainc",
    "betaln",
    "polygamma",
    "psi",
    "digamma",
    "gamma",
    "gammaln",
    "gammainc",
    "gammaincc",
    "gammasgn",
    "rgamma",
    "multigammaln",
    "j0",
    "y0",
    "j1",
    "y1",
    "jn",
    "yn",
    "i0",
    "i1",
    "iv",
    "ive",
    "erf",
    "erfc",
    "erfinv",
    "erfcinv",
    "logit",
    "expit",
    "logsumexp",
]


def _traced_value(fun, *args):
    out, _ = ad.vjp(fun, *args)
    return full_value(out)


@pytest.mark.parametrize("name", AUTOGRAD_SPECIAL)
def test_every_function_of_autograd_is_here_and_public(name):
    assert name in special.__all__
    assert callable(getattr(special, name))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_yn_matches_scipy_and_differentiates_in_x(n):
    x = np.array([0.4, 1.5, 3.0, 7.5])
    np.testing.assert_array_equal(special.yn(n, x), sp.yn(n, x))
    np.testing.assert_array_equal(_traced_value(lambda x: special.yn(n, x), x), sp.yn(n, x))
    # d/dx Y_n = (Y_{n-1} - Y_{n+1}) / 2, as SciPy's yvp computes it.
    gradient = ad.elementwise_grad(lambda x: special.yn(n, x))(x)
    np.testing.assert_allclose(gradient, sp.yvp(n, x), rtol=1e-10)
    check(lambda x: special.yn(n, x), (x,))


@pytest.mark.parametrize("n", [0, 1, 2, 4])
def test_jn_is_scipys_alias_of_jv_and_differentiates_in_x(n):
    x = np.array([-2.5, 0.3, 1.5, 6.0])
    np.testing.assert_array_equal(_traced_value(lambda x: special.jn(n, x), x), sp.jn(n, x))
    gradient = ad.elementwise_grad(lambda x: special.jn(n, x))(x)
    np.testing.assert_allclose(gradient, sp.jvp(n, x), rtol=1e-10, atol=1e-14)
    check(lambda x: special.jn(n, x), (x,))


@given(st.integers(0, 4), st.floats(0.3, 8.0))
def test_yn_forward_and_reverse_agree_with_scipy_everywhere(n, x):
    _, tangent = ad.jvp(lambda x: special.yn(n, x), (x,), (1.0,))
    assert tangent == pytest.approx(sp.yvp(n, x), rel=1e-9, abs=1e-12)
    assert ad.grad(lambda x: special.yn(n, x))(x) == pytest.approx(tangent, rel=1e-12)


@pytest.mark.parametrize("name", ["jn", "yn"])
def test_the_integer_order_is_not_differentiable(name):
    fun = getattr(special, name)
    assert "not differentiable" in fun.__doc__
    with pytest.raises(
        NotImplementedError, match=r"no reverse-mode \(VJP\) rule for its positional argument 0"
    ):
        ad.grad(lambda n: anp.sum(fun(n, np.array([1.5, 2.5]))))(2.0)


def test_plain_scipy_yn_on_traced_values_dispatches_here():
    x = np.array([0.7, 2.0])
    np.testing.assert_allclose(
        ad.grad(lambda x: anp.sum(sp.yn(2, x)))(x),
        ad.grad(lambda x: anp.sum(special.yn(2, x)))(x),
    )


def test_gammasgn_matches_scipy_and_is_a_constant():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 3.0])
    np.testing.assert_array_equal(special.gammasgn(x), sp.gammasgn(x))
    np.testing.assert_array_equal(_traced_value(special.gammasgn, x), sp.gammasgn(x))
    np.testing.assert_array_equal(ad.elementwise_grad(special.gammasgn)(x), np.zeros_like(x))
    # |gamma| = gammasgn * gamma: its derivative is gammasgn * gamma'.
    np.testing.assert_allclose(
        ad.elementwise_grad(lambda x: special.gammasgn(x) * special.gamma(x))(x),
        sp.gammasgn(x) * sp.gamma(x) * sp.digamma(x),
        rtol=1e-12,
    )


def test_gammasgn_is_recomputed_by_a_staged_program():
    staged = ad.jit(lambda x: special.gammasgn(x) * x)
    np.testing.assert_array_equal(staged(np.array([0.5, 1.5])), [0.5, 1.5])
    np.testing.assert_array_equal(staged(np.array([-0.5, -1.5])), [0.5, -1.5])


def test_gammasgn_refuses_keywords_on_traced_values():
    with pytest.raises(TypeError, match=r"special\.gammasgn: the keyword argument\(s\) \['out'\]"):
        ad.grad(lambda x: special.gammasgn(x, out=None) * x)(0.5)
