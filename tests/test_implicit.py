"""ad.fixed_point and ad.custom_root: implicit derivatives against closed forms and
finite differences, in both modes and at second order; the iterations are not recorded;
errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import adfun as ad
import adfun.numpy as anp
from adfun.testing import check_grads
from adfun.testing.strategies import arrays


def newton_sqrt(a):
    return lambda x: 0.5 * (x + a / x)


def cosine_map(a):
    return lambda x: a * anp.cos(x)


# --------------------------------------------------------------------------------------
# fixed_point
# --------------------------------------------------------------------------------------


def test_fixed_point_value_and_closed_form_derivative():
    assert ad.fixed_point(newton_sqrt, 2.0, 1.0) == pytest.approx(np.sqrt(2.0), rel=1e-15)
    assert ad.grad(lambda a: ad.fixed_point(newton_sqrt, a, 1.0))(4.0) == pytest.approx(0.25)


@given(st.floats(0.1, 0.9))
def test_fixed_point_derivatives_match_the_implicit_function_theorem(a):
    # x = a cos x  =>  dx/da = cos x / (1 + a sin x)
    def solution(a):
        return ad.fixed_point(cosine_map, a, 0.0, tol=1e-14)

    x = solution(a)
    expected = np.cos(x) / (1.0 + a * np.sin(x))
    assert float(ad.grad(solution)(a)) == pytest.approx(expected, rel=1e-9)
    assert float(ad.jvp(solution, (a,), (1.0,))[1]) == pytest.approx(expected, rel=1e-9)
    check_grads(solution, (a,), order=2, rtol=1e-5)


@given(
    arrays(shape=(3, 3), elements=st.floats(-0.3, 0.3)),
    arrays(shape=(3,), elements=st.floats(-2.0, 2.0)),
)
def test_fixed_point_of_a_linear_contraction_solves_the_linear_system(M, b):
    # x = M x + b  =>  x = (I - M)^-1 b, a closed form adfun differentiates directly
    def by_iteration(M, b):
        return ad.fixed_point(lambda p: lambda x: p[0] @ x + p[1], (M, b), np.zeros(3), tol=1e-14)

    def by_solve(M, b):
        return anp.linalg.solve(anp.eye(3) - M, b)

    np.testing.assert_allclose(by_iteration(M, b), by_solve(M, b), atol=1e-12)
    for argnum in (0, 1):
        np.testing.assert_allclose(
            ad.jacobian(by_iteration, argnum)(M, b),
            ad.jacobian(by_solve, argnum)(M, b),
            atol=1e-10,
        )
        np.testing.assert_allclose(
            ad.jacfwd(by_iteration, argnum)(M, b), ad.jacfwd(by_solve, argnum)(M, b), atol=1e-10
        )
    check_grads(by_iteration, (M, b), order=2)


def test_fixed_point_pytrees_and_a_custom_distance():
    def step(p):
        return lambda x: {
            "u": 0.3 * (p["A"] @ x["u"]) + p["b"],
            "v": 0.5 * anp.tanh(x["u"][:1]) + 0.2 * x["v"],
        }

    def distance(x, y):
        return np.max(np.abs(x["u"] - y["u"])) + np.max(np.abs(x["v"] - y["v"]))

    params = {"A": np.array([[0.5, 0.2], [0.1, 0.4]]), "b": np.array([1.0, -1.0])}
    x0 = {"u": np.zeros(2), "v": np.zeros(1)}

    def solution(A, b):
        return ad.fixed_point(step, {"A": A, "b": b}, x0, distance, 1e-14)

    out = solution(params["A"], params["b"])
    assert set(out) == {"u", "v"} and out["v"].shape == (1,)
    check_grads(solution, (params["A"], params["b"]), order=2)


def test_fixed_point_derivative_does_not_depend_on_x0():
    grad = ad.grad(lambda x0: ad.fixed_point(cosine_map, 0.5, x0, tol=1e-14), 0)(0.3)
    assert grad == 0.0


def test_fixed_point_iterations_are_not_recorded():
    graph = ad.trace(lambda a: ad.fixed_point(cosine_map, a, 0.0))(0.5)
    names = [node.primitive.name for node in graph.nodes]
    assert names.count("fixed_point") == 1 and "cos" not in names


def test_fixed_point_keeps_float32():
    x = ad.fixed_point(newton_sqrt, np.float32(2.0), np.float32(1.0), tol=1e-6)
    assert x.dtype == np.float32
    grad = ad.grad(lambda a: ad.fixed_point(newton_sqrt, a, np.float32(1.0), tol=1e-6))(
        np.float32(4.0)
    )
    assert grad.dtype == np.float32 and grad == pytest.approx(0.25, rel=1e-5)


def test_fixed_point_under_jit_replays():
    staged = ad.jit(ad.grad(lambda a: ad.fixed_point(cosine_map, a, 0.0, tol=1e-14)))
    for a in (0.3, 0.6):
        x = ad.fixed_point(cosine_map, a, 0.0, tol=1e-14)
        assert float(staged(a)) == pytest.approx(np.cos(x) / (1.0 + a * np.sin(x)), rel=1e-9)


def test_fixed_point_non_convergence_names_the_function():
    def diverging(a):
        return lambda x: 2.0 * x + a

    with pytest.raises(RuntimeError, match=r"fixed_point: iterating diverging\(a\) did not conv"):
        ad.fixed_point(diverging, 1.0, 0.0, max_iter=50)
    with pytest.raises(RuntimeError, match=r"in 50 iterations"):
        ad.grad(lambda a: ad.fixed_point(diverging, a, 0.0, max_iter=50))(1.0)


def test_fixed_point_refuses_a_closed_over_traced_value():
    with pytest.raises(TypeError, match=r"fixed_point: <lambda> returned a value traced.*thr"):
        ad.grad(lambda a: ad.fixed_point(lambda _: lambda x: a * anp.cos(x), 0.0, 0.0))(0.5)


def test_fixed_point_refuses_a_change_of_structure():
    with pytest.raises(ValueError, match=r"fixed_point: <lambda> returned a pytree"):
        ad.fixed_point(lambda a: lambda x: np.array([x, x]), 1.0, 0.5)


def test_fixed_point_argument_errors():
    with pytest.raises(
        TypeError,
        match=r"fixed_point: the initial guess x0 must hold floats.*dtype int64; pass 1.0",
    ):
        ad.fixed_point(newton_sqrt, 2.0, 1)
    with pytest.raises(TypeError, match=r"fixed_point: f must be a function"):
        ad.fixed_point(3.0, 2.0, 1.0)
    with pytest.raises(ValueError, match=r"fixed_point: max_iter must be at least 1"):
        ad.fixed_point(newton_sqrt, 2.0, 1.0, max_iter=0)


# --------------------------------------------------------------------------------------
# custom_root
# --------------------------------------------------------------------------------------


def _brentq(g, x0):
    from scipy.optimize import brentq

    return brentq(g, 0.0, 10.0, xtol=1e-15)


def _newton(g, x0):
    """Newton's method on plain values, with a finite-difference Jacobian."""
    x = np.array(x0, dtype=float)
    for _ in range(100):
        r = np.asarray(g(x))
        if np.max(np.abs(r)) < 1e-14:
            break
        jac = np.empty((x.size, x.size))
        for i in range(x.size):
            step = np.zeros_like(x)
            step[i] = 1e-7
            jac[:, i] = (np.asarray(g(x + step)) - np.asarray(g(x - step))) / 2e-7
        x = x - np.linalg.solve(jac, r)
    return x


def test_custom_root_scalar_closed_form_with_a_scalar_tangent_solve():
    def cube_root(a):
        return ad.custom_root(
            lambda x, a: x**3 - a, 1.0, _brentq, lambda g, y: y / g(1.0), args=(a,)
        )

    assert float(cube_root(8.0)) == pytest.approx(2.0, rel=1e-14)
    assert float(ad.grad(cube_root)(8.0)) == pytest.approx(1.0 / 12.0, rel=1e-10)
    assert float(ad.jvp(cube_root, (8.0,), (1.0,))[1]) == pytest.approx(1.0 / 12.0, rel=1e-10)
    check_grads(cube_root, (8.0,), order=2)


@given(
    arrays(shape=(2, 2), elements=st.floats(-0.4, 0.4)),
    arrays(shape=(2,), elements=st.floats(-2.0, 2.0)),
)
def test_custom_root_of_a_system_matches_finite_differences(M, b):
    def solve_system(M, b):
        def f(x, M, b):
            return (M + 2.0 * anp.eye(2)) @ x + 0.1 * anp.sin(x) - b

        return ad.custom_root(f, np.zeros(2), _newton, args=(M, b))

    x = solve_system(M, b)
    np.testing.assert_allclose((M + 2 * np.eye(2)) @ x + 0.1 * np.sin(x), b, atol=1e-12)
    check_grads(solve_system, (M, b), order=2)


def test_custom_root_pytree_solution_and_parameters():
    def f(x, p):
        return {"s": x["s"] ** 2 - p["a"], "v": p["B"] @ x["v"] - x["s"] * p["c"]}

    def solve(g, guess):
        s = np.sqrt(np.asarray(g({"s": 0.0, "v": np.zeros(2)})["s"]) * -1.0)
        rhs = -np.asarray(g({"s": s, "v": np.zeros(2)})["v"])
        B = np.column_stack([np.asarray(g({"s": s, "v": e})["v"]) + rhs for e in np.eye(2)])
        return {"s": s, "v": np.linalg.solve(B, rhs)}

    def solution(a, B, c):
        return ad.custom_root(
            f, {"s": 1.0, "v": np.zeros(2)}, solve, args=({"a": a, "B": B, "c": c},)
        )

    B = np.array([[2.0, 0.5], [0.3, 1.5]])
    c = np.array([1.0, -2.0])
    out = solution(4.0, B, c)
    assert out["s"] == pytest.approx(2.0)
    np.testing.assert_allclose(out["v"], np.linalg.solve(B, 2.0 * c))
    # v = sqrt(a) B^-1 c: dv/da = B^-1 c / (2 sqrt(a))
    np.testing.assert_allclose(
        ad.jacobian(lambda a: solution(a, B, c)["v"])(4.0), np.linalg.solve(B, c) / 4.0
    )
    check_grads(solution, (4.0, B, c), order=2)


def test_custom_root_with_scipy_root_and_under_jit():
    from scipy.optimize import root

    def solve(g, guess):
        return root(lambda v: np.asarray(g(v)), guess, tol=1e-14).x

    def solution(b):
        return ad.custom_root(lambda x, b: x + 0.5 * anp.tanh(x) - b, np.zeros(2), solve, args=(b,))

    b = np.array([0.3, -1.0])
    staged = ad.jit(ad.jacobian(solution))
    for shift in (0.0, 0.5):
        x = solution(b + shift)
        expected = np.diag(1.0 / (1.0 + 0.5 / np.cosh(x) ** 2))
        np.testing.assert_allclose(staged(b + shift), expected, rtol=1e-10)


def test_custom_root_initial_guess_has_zero_derivative():
    grad = ad.grad(lambda g0: ad.custom_root(lambda x, a: x**3 - a, g0, _brentq, args=(8.0,)))(1.0)
    assert grad == 0.0


def test_custom_root_errors():
    with pytest.raises(TypeError, match=r"custom_root: args must be a tuple.*args=\(value,\)"):
        ad.custom_root(lambda x, a: x - a, 1.0, _brentq, args=2.0)
    with pytest.raises(TypeError, match=r"custom_root: solve must be a function"):
        ad.custom_root(lambda x: x, 1.0, None)
    with pytest.raises(TypeError, match=r"custom_root: the initial guess must hold floats"):
        ad.custom_root(lambda x: x, 1, _brentq)
    with pytest.raises(TypeError, match=r"custom_root: <lambda> returned a value traced.*args="):
        ad.grad(lambda a: ad.custom_root(lambda x: x**3 - a, 1.0, _brentq))(8.0)
    with pytest.raises(ValueError, match=r"custom_root: <lambda> returned a pytree"):
        ad.custom_root(lambda x: x, np.zeros(2), lambda g, x0: np.zeros(3))
