"""adfun.scipy.integrate: odeint and solve_ivp against SciPy, closed forms and finite
differences, in both modes and at second order; staging; errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

scipy = pytest.importorskip("scipy")
import scipy.integrate as si  # noqa: E402
import scipy.linalg as sl  # noqa: E402

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402
from adfun._engine.trace import full_value  # noqa: E402
from adfun.scipy.integrate import odeint, solve_ivp  # noqa: E402
from adfun.testing import check_grads  # noqa: E402
from adfun.testing.strategies import arrays  # noqa: E402

TIGHT = {"rtol": 1e-11, "atol": 1e-11}
A = np.array([[-0.5, 1.0], [-1.0, -0.3]])
Y0 = np.array([1.0, 0.5])
T = np.array([0.0, 0.5, 1.3])


def linear(y, t, A):
    return anp.dot(A, y)


def pendulum(y, t, p):
    """A non-autonomous, nonlinear system with a pytree of parameters."""
    return anp.stack([p["a"] * y[1], -p["b"][0] * anp.sin(y[0]) + 0.1 * t])


PARAMS = {"a": 1.2, "b": np.array([0.7])}


def _check(fun, args, order=1):
    """check_grads with a step that keeps the solver's error out of the differences."""
    check_grads(fun, args, order=order, eps=1e-4, rtol=1e-4, atol=1e-6)


def _traced_value(fun, *args):
    out, _ = ad.vjp(fun, *args)
    return full_value(out)


# --------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------


def test_odeint_on_plain_values_is_scipys():
    expected = si.odeint(lambda y, t, A: A @ y, Y0, T, (A,), **TIGHT)
    np.testing.assert_array_equal(odeint(linear, Y0, T, (A,), **TIGHT), expected)


def test_traced_odeint_value_is_scipys():
    expected = si.odeint(lambda y, t, A: A @ y, Y0, T, (A,), **TIGHT)
    value = _traced_value(lambda y0: odeint(linear, y0, T, (A,), **TIGHT), Y0)
    np.testing.assert_allclose(value, expected, rtol=1e-13, atol=1e-15)


def test_odeint_scalar_state_has_scipys_shape():
    out = _traced_value(lambda y0: odeint(lambda y, t: -y, y0, T), 1.0)
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out[:, 0], np.exp(-T), rtol=1e-6)


def test_odeint_full_output_returns_scipys_diagnostics_when_traced():
    def fun(y0):
        ys, info = odeint(linear, y0, T, (A,), full_output=1)
        assert info["message"] == "Integration successful."
        assert len(info["nst"]) == len(T) - 1
        return anp.sum(ys)

    plain = ad.grad(lambda y0: anp.sum(odeint(linear, y0, T, (A,))))(Y0)
    np.testing.assert_allclose(ad.grad(fun)(Y0), plain, rtol=1e-12)


def test_solve_ivp_on_plain_values_is_scipys():
    ours = solve_ivp(lambda t, y, A: A @ y, (0.0, 1.3), Y0, args=(A,), t_eval=T)
    theirs = si.solve_ivp(lambda t, y, A: A @ y, (0.0, 1.3), Y0, args=(A,), t_eval=T)
    np.testing.assert_array_equal(ours.y, theirs.y)
    assert ours.nfev == theirs.nfev and ours.success


def test_traced_solve_ivp_result_is_scipys():
    theirs = si.solve_ivp(lambda t, y, A: A @ y, (0.0, 1.3), Y0, args=(A,), t_eval=T)
    seen = {}

    def fun(y0):
        result = solve_ivp(lambda t, y, A: A @ y, (0.0, 1.3), y0, args=(A,), t_eval=T)
        seen.update(result)
        return result.y

    value = _traced_value(fun, Y0)
    np.testing.assert_allclose(value, theirs.y, rtol=1e-13, atol=1e-15)
    assert seen["nfev"] == theirs.nfev
    assert seen["message"] == theirs.message
    assert seen["success"] is True and seen["status"] == 0
    assert seen["sol"] is None and seen["t_events"] is None
    np.testing.assert_array_equal(seen["t"], T)


def test_solve_ivp_without_t_eval_outputs_at_the_solvers_steps():
    theirs = si.solve_ivp(lambda t, y: -y, (0.0, 2.0), Y0)
    seen = {}

    def fun(y0):
        result = solve_ivp(lambda t, y: -y, (0.0, 2.0), y0)
        seen["t"] = full_value(result.t)
        return result.y

    value = _traced_value(fun, Y0)
    np.testing.assert_allclose(seen["t"], theirs.t, rtol=0, atol=0)
    np.testing.assert_allclose(value, theirs.y, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------------------
# Closed forms: y' = A y gives y(t) = expm(A t) y0
# --------------------------------------------------------------------------------------


def test_linear_ode_gradients_match_expm():
    weights = np.array([0.3, -1.1])
    end = 1.3

    def loss(y0, A, t):
        return anp.dot(weights, odeint(linear, y0, t, (A,), **TIGHT)[-1])

    times = np.array([0.0, end])
    propagator = sl.expm(A * end)
    g_y0, g_A, g_t = ad.grad(loss, argnums=(0, 1, 2))(Y0, A, times)
    np.testing.assert_allclose(g_y0, propagator.T @ weights, rtol=1e-8)
    # d/dT w.expm(A T) y0 = w.A expm(A T) y0, and moving t0 moves it by the opposite
    moved = weights @ A @ propagator @ Y0
    np.testing.assert_allclose(g_t, [-moved, moved], rtol=1e-8)
    # d/dA: the Frechet derivative of expm along each basis direction
    expected = np.zeros_like(A)
    for i in range(2):
        for j in range(2):
            direction = np.zeros_like(A)
            direction[i, j] = 1.0
            frechet = sl.expm_frechet(A * end, direction * end, compute_expm=False)
            expected[i, j] = weights @ frechet @ Y0
    np.testing.assert_allclose(g_A, expected, rtol=1e-7)
    # forward mode along a direction of A
    direction = np.array([[0.2, -0.4], [0.7, 0.1]])
    _, tangent = ad.jvp(lambda A: loss(Y0, A, times), (A,), (direction,))
    frechet = sl.expm_frechet(A * end, direction * end, compute_expm=False)
    np.testing.assert_allclose(tangent, weights @ frechet @ Y0, rtol=1e-7)


def test_solve_ivp_linear_gradients_match_expm():
    end = 0.9

    def final(y0, tf):
        result = solve_ivp(linear_ivp, (0.2, tf), y0, args=(A,), t_eval=anp.reshape(tf, (1,)),
                           rtol=1e-12, atol=1e-12)  # fmt: skip
        return anp.sum(result.y[:, -1])

    propagator = sl.expm(A * (end - 0.2))
    g_y0, g_tf = ad.grad(final, argnums=(0, 1))(Y0, end)
    np.testing.assert_allclose(g_y0, propagator.T @ np.ones(2), rtol=1e-8)
    np.testing.assert_allclose(g_tf, np.sum(A @ propagator @ Y0), rtol=1e-8)


def linear_ivp(t, y, A):
    return anp.dot(A, y)


# --------------------------------------------------------------------------------------
# Finite differences, both modes
# --------------------------------------------------------------------------------------


@given(
    arrays(shape=(2, 2), elements=st.floats(-1.0, 1.0)),
    arrays(shape=(2,), elements=st.floats(-2.0, 2.0)),
    st.lists(st.floats(0.05, 0.5), min_size=1, max_size=3),
)
def test_odeint_derivatives_match_finite_differences(A, y0, steps):
    times = np.concatenate([[0.1], 0.1 + np.cumsum(steps)])

    def fun(y0, t, A):
        return anp.tanh(odeint(linear, y0, t, (A - 1.5 * np.eye(2),), rtol=1e-12, atol=1e-12))

    _check(fun, (y0, times, A), order=1)


def test_odeint_nonlinear_pytree_parameters_both_modes():
    def fun(y0, t, a, b):
        return odeint(pendulum, y0, t, ({"a": a, "b": b},), **TIGHT)

    _check(fun, (Y0, T, 1.2, np.array([0.7])), order=1)


def test_odeint_second_order():
    def fun(y0, k):
        return odeint(lambda y, t, k: -k * y**2, y0, np.array([0.0, 0.4, 0.8]), (k,), **TIGHT)

    _check(fun, (np.array([0.8]), 1.3), order=2)


def test_odeint_decreasing_times():
    def fun(y0, t, A):
        return odeint(linear, y0, t, (A,), **TIGHT)

    _check(fun, (Y0, T[::-1].copy(), A), order=1)


def test_odeint_time_first_and_jacobian_options():
    def fun(y0, A):
        return odeint(
            lambda t, y, A: anp.dot(A, y),
            y0,
            T,
            (A,),
            Dfun=lambda t, y, A: A,
            tfirst=True,
            **TIGHT,
        )

    _check(fun, (Y0, A), order=1)


def test_odeint_list_output_and_non_float_args():
    def func(y, t, scale, name):
        assert name == "label"
        return [scale * y[1], -y[0]]

    def fun(y0, scale):
        return odeint(func, y0, T, (scale, "label"), **TIGHT)

    _check(fun, (Y0, 0.7), order=1)


def test_odeint_keeps_the_dtype_of_float32_inputs():
    grad = ad.grad(lambda y0: anp.sum(odeint(lambda y, t: -y, y0, T)))(np.float32([1.0, 2.0]))
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, np.sum(np.exp(-T)), rtol=1e-5)


@pytest.mark.parametrize("method", ["RK45", "DOP853", "Radau", "BDF", "LSODA"])
def test_solve_ivp_methods_both_modes(method):
    def fun(y0, span, t_eval, p):
        result = solve_ivp(
            lambda t, y, p: pendulum(y, t, p),
            (span[0], span[1]),
            y0,
            method=method,
            t_eval=t_eval,
            args=(p,),
            rtol=1e-11,
            atol=1e-12,
        )
        return result.y

    _check(
        fun,
        (Y0, np.array([0.05, 1.0]), np.array([0.1, 0.3, 0.8]), PARAMS),
        order=1,
    )


def test_solve_ivp_without_t_eval_differentiates_y0_and_the_ends():
    def fun(y0, t0, tf):
        result = solve_ivp(pendulum_ivp, (t0, tf), y0, args=(PARAMS,), rtol=1e-11, atol=1e-12)
        return result.y[:, -1]

    _check(fun, (Y0, 0.1, 1.2), order=1)


def pendulum_ivp(t, y, p):
    return pendulum(y, t, p)


def test_solve_ivp_second_order():
    def fun(y0):
        return solve_ivp(
            lambda t, y: -(y**3), (0.0, 0.5), y0, t_eval=[0.5], rtol=1e-11, atol=1e-12
        ).y

    _check(fun, (np.array([0.9]),), order=2)


# --------------------------------------------------------------------------------------
# Staging
# --------------------------------------------------------------------------------------


def test_jit_of_grad_replays_on_new_values():
    def loss(y0, p):
        return anp.sum(odeint(pendulum, y0, T, (p,), **TIGHT) ** 2)

    staged = ad.jit(ad.grad(loss, argnums=(0, 1)))
    for shift in (0.0, 0.3):
        y0 = Y0 + shift
        p = {"a": 1.2 + shift, "b": np.array([0.7])}
        got = staged(y0, p)
        expected = ad.grad(loss, argnums=(0, 1))(y0, p)
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)
        np.testing.assert_allclose(got[1]["a"], expected[1]["a"], rtol=1e-12)


def test_jit_of_solve_ivp_with_t_eval_replays():
    def final(y0):
        return solve_ivp(lambda t, y: -2.0 * y, (0.0, 1.0), y0, t_eval=[1.0], **TIGHT).y[:, 0]

    staged = ad.jit(final)
    np.testing.assert_allclose(staged(Y0 * 3), Y0 * 3 * np.exp(-2.0), rtol=1e-9)


def test_jit_of_solve_ivp_without_t_eval_raises_staging_error():
    def final(y0):
        return solve_ivp(lambda t, y: -y, (0.0, 1.0), y0).y[:, -1]

    with pytest.raises(ad.StagingError, match=r"solve_ivp.*t_eval"):
        ad.jit(final)(Y0)


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


def test_closed_over_traced_value_is_refused_with_advice():
    with pytest.raises(
        TypeError, match=r"odeint: <lambda> returned a value traced.*args=\(\.\.\.\)"
    ):
        ad.grad(lambda k: odeint(lambda y, t: -k * y, Y0, T)[-1, 0])(1.0)


def test_closed_over_traced_value_is_refused_when_the_state_is_traced_too():
    with pytest.raises(TypeError, match=r"solve_ivp: <lambda> returned a value traced"):
        ad.grad(lambda k: solve_ivp(lambda t, y: -k * y, (0.0, 1.0), Y0 * k, t_eval=[1.0]).y[0, 0])(
            1.0
        )


def test_two_dimensional_state_is_refused():
    with pytest.raises(ValueError, match=r"odeint: the initial condition y0 has shape \(2, 2\)"):
        ad.grad(lambda y0: anp.sum(odeint(lambda y, t: -y, y0, T)))(np.ones((2, 2)))


def test_wrong_derivative_shape_is_refused():
    with pytest.raises(ValueError, match=r"odeint: <lambda> returned an array of shape \(3,\)"):
        ad.grad(lambda y0: anp.sum(odeint(lambda y, t: anp.ones(3), y0, T)))(Y0)


def test_complex_state_is_refused_when_traced():
    with pytest.raises(TypeError, match=r"solve_ivp: the initial condition y0 is complex"):
        ad.jvp(
            lambda k: solve_ivp(lambda t, y: -y, (0, 1), np.array([1j]) * k, t_eval=[1.0]).y,
            (1.0,),
            (1.0,),
        )


def test_args_must_be_a_tuple():
    with pytest.raises(TypeError, match=r"odeint: args must be a tuple.*args=\(value,\)"):
        odeint(linear, Y0, T, A)
    with pytest.raises(TypeError, match=r"solve_ivp: args must be a tuple.*args=\(value,\)"):
        solve_ivp(linear_ivp, (0, 1), Y0, args=A)


def test_events_and_dense_output_are_refused_when_traced():
    message = r"solve_ivp: events and dense_output are not differentiable"
    with pytest.raises(NotImplementedError, match=message):
        ad.grad(
            lambda y0: solve_ivp(lambda t, y: -y, (0, 1), y0, events=lambda t, y: y[0] - 0.5).y[
                0, -1
            ]
        )(Y0)
    with pytest.raises(NotImplementedError, match=message):
        ad.grad(lambda y0: solve_ivp(lambda t, y: -y, (0, 1), y0, dense_output=True).y[0, -1])(Y0)


def test_events_work_on_plain_values():
    result = solve_ivp(lambda t, y: -y, (0, 1), Y0, events=lambda t, y: y[0] - 0.5)
    np.testing.assert_allclose(result.t_events[0], [np.log(2.0)], rtol=1e-3)


def test_failed_traced_solve_raises_but_plain_solve_reports():
    def blow_up(t, y):
        return y**2

    plain = solve_ivp(blow_up, (0.0, 2.0), np.array([1.0]))
    assert not plain.success
    with pytest.raises(RuntimeError, match=r"solve_ivp: the solver failed .*blow_up"):
        ad.grad(lambda y0: solve_ivp(blow_up, (0.0, 2.0), y0, t_eval=[2.0]).y[0, -1])(
            np.array([1.0])
        )


def test_t_span_must_be_a_pair():
    with pytest.raises(ValueError, match=r"solve_ivp: t_span must be a pair \(t0, tf\)"):
        ad.grad(lambda tf: solve_ivp(linear_ivp, (0.0, 0.5, tf), Y0, args=(A,)).y[0, -1])(1.0)


def test_odeint_excess_work_warns_as_scipy_does():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ad.grad(lambda y0: odeint(lambda y, t: y**2, y0, np.array([0.0, 2.0]), mxstep=5)[1, 0])(
            np.array([1.0])
        )
    assert any("Excess work done" in str(warning.message) for warning in caught)


def test_solve_ivp_output_at_the_start_time_matches_expm():
    def total(y0, A):
        result = solve_ivp(linear_ivp, (0.0, 1.3), y0, t_eval=T, args=(A,), rtol=1e-12, atol=1e-12)
        return anp.sum(result.y)

    expected = sum(sl.expm(A * time).T @ np.ones(2) for time in T)
    np.testing.assert_allclose(ad.grad(total)(Y0, A), expected, rtol=1e-8)
    _check(total, (Y0, A))
