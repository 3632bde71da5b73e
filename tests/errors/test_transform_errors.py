"""Errors of the forward-mode and Jacobian transforms: type and message."""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun._engine.records import Params, Primitive
from adfun._engine.trace import call_primitive


def test_primals_must_be_tuples():
    with pytest.raises(
        TypeError,
        match=r"jvp: primals and tangents must be tuples .*"
        r"jvp\(f, \(x,\), \(v,\)\)",
    ):
        ad.jvp(anp.sin, 1.0, 1.0)


def test_one_tangent_per_primal():
    with pytest.raises(TypeError, match="jvp: got 2 primals but 1 tangents"):
        ad.jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))


def test_tangent_structure_must_match():
    with pytest.raises(
        TypeError,
        match=r"jvp: tangent 0 has structure \[\*, \*\], but "
        r"primal 0 has structure \(\*, \*\)",
    ):
        ad.jvp(lambda p: p[0] * p[1], ((1.0, 2.0),), ([1.0, 2.0],))


def test_tangent_shape_must_match():
    with pytest.raises(
        ValueError,
        match=r"jvp: tangent 0\['w'\] has shape \(2,\), but its "
        r"primal has shape \(3,\)",
    ):
        ad.jvp(lambda p: p["w"], ({"w": np.ones(3)},), ({"w": np.ones(2)},))


def test_tangent_dtype_must_match():
    with pytest.raises(
        TypeError,
        match=r"jvp: tangent 0 has dtype float64, but its primal "
        r"has dtype float32.*astype\('float32'\)",
    ):
        ad.jvp(anp.sin, (np.ones(2, np.float32),), (np.ones(2),))
    with pytest.raises(
        TypeError,
        match=r"jvp: tangent 0 has dtype int64, but its primal "
        r"has dtype float64",
    ):
        ad.jvp(anp.sin, (np.ones(2),), (np.ones(2, np.int64),))


def test_tangent_must_be_numeric():
    with pytest.raises(
        TypeError,
        match=r"jvp: tangent 1 must be a float array of shape "
        r"\(\) and dtype float64 like its primal, got str",
    ):
        ad.jvp(lambda x, y: x * y, (1.0, 2.0), (1.0, "one"))
    with pytest.raises(TypeError, match=r"jvp: tangent 0 must be a float array .* got bool"):
        ad.jvp(anp.sin, (1.0,), (True,))


def test_integer_primal_is_refused():
    with pytest.raises(TypeError, match=r"jvp: argument 0 is an integer \(3\).*3\.0"):
        ad.jvp(anp.sin, (3,), (1.0,))


def test_forward_mode_through_a_primitive_without_forward_rules():
    reverse_only = Primitive("reverse_only", lambda x: x, vjps=(lambda g, ans, x: g,))
    with pytest.raises(
        NotImplementedError,
        match=r"primitive 'reverse_only' has no "
        r"forward-mode \(JVP\) rules.*defjvp",
    ):
        ad.jvp(lambda x: call_primitive(reverse_only, (x,), Params()), (1.0,), (1.0,))


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobian_of_non_array_output(transform):
    jac = getattr(ad, transform)
    with pytest.raises(
        TypeError,
        match=rf"{transform}: <lambda> must return float arrays "
        rf"or floats .* but its output\[1\] is str",
    ):
        jac(lambda x: (x, "text"))(1.0)
    with pytest.raises(
        TypeError,
        match=rf"{transform}: <lambda> must return float arrays, "
        rf"but its output has dtype int64.*astype\(float\)",
    ):
        jac(lambda x: np.arange(3))(1.0)
    with pytest.raises(TypeError, match=rf"{transform}: .* but its output is bool"):
        jac(lambda x: True)(1.0)


def test_jacobian_of_integer_argument():
    with pytest.raises(TypeError, match=r"jacrev: argument 0 has dtype int64; .*astype"):
        ad.jacobian(anp.sin)(np.arange(3))
    with pytest.raises(TypeError, match=r"hessian: argument 0 is an integer \(2\)"):
        ad.hessian(anp.sin)(2)


def test_jacobian_argnums_out_of_range():
    with pytest.raises(
        ValueError,
        match=r"jacfwd: argnums=3 refers to argument 3, but the "
        r"function was called with 1 positional",
    ):
        ad.jacfwd(anp.sin, argnums=3)(1.0)


def test_hvp_names_an_integer_point_before_its_vector():
    f = lambda x: anp.sum(x**2)  # noqa: E731
    with pytest.raises(TypeError, match=r"hvp: argument 0 has dtype int64; .*astype\(float\)"):
        ad.hvp(f)(np.arange(3), np.ones(3))
    with pytest.raises(TypeError, match=r"hvp: argument 0 is an integer \(3\); .*3\.0"):
        ad.hvp(f)(3, 1.0)


def test_hvp_vector_must_match():
    f = lambda x: anp.sum(x**2)  # noqa: E731
    with pytest.raises(
        ValueError,
        match=r"hvp: v has shape \(2,\), but its primal has "
        r"shape \(3,\)",
    ):
        ad.hvp(f)(np.ones(3), np.ones(2))
    with pytest.raises(
        TypeError,
        match=r"hvp: v has structure \(\*, \*\), but x has "
        r"structure \*",
    ):
        ad.hvp(f)(np.ones(3), (np.ones(3), np.ones(3)))
    with pytest.raises(
        TypeError,
        match=r"hvp: v has dtype float32, but its primal has "
        r"dtype float64",
    ):
        ad.hvp(f)(np.ones(3), np.ones(3, np.float32))


def test_hvp_of_non_scalar_function():
    with pytest.raises(TypeError, match=r"^hvp: <lambda> must return a scalar .* shape \(3,\)"):
        ad.hvp(lambda x: x**2)(np.ones(3), np.ones(3))
