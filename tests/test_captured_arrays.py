"""Arrays captured by a graph: a later in-place change of the caller's array never reaches it.

A graph that outlives the call recording it (``vjp``'s ``vjp_fn``, ``ad.trace`` and
``ad.jit`` programs, the imperative recording, ``checkpoint``'s recomputation) must give
the answer of the values it was recorded with, or refuse; never the answer of values
changed behind its back (issue 13, section 4).
"""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun import autograd, nd

X = np.array([0.3, -1.2, 0.8])


# --- vjp: constants, index arrays, masks, inputs and outputs ------------------------------


def _mutate_all(arrays):
    for array in arrays:
        array[...] = (
            array.dtype.type(2)
            if array.dtype.kind in "iu"
            else (True if array.dtype.kind == "b" else -7.0)
        )


CASES = {
    "multiply by a constant": lambda: ((c := np.array([1.0, 2.0, 3.0])), lambda x: x * c, [c]),
    "constant on the left": lambda: (
        (c := np.array([1.0, 2.0, 3.0])),
        lambda x: anp.arctan2(c, x),
        [c],
    ),
    "matmul with a constant matrix": lambda: (
        (a := np.arange(9.0).reshape(3, 3)),
        lambda x: a @ x + a.T @ x,
        [a],
    ),
    "where with a constant mask": lambda: (
        (m := np.array([True, False, True])),
        lambda x: anp.where(m, x, 0.0),
        [m],
    ),
    # (the index arrays of take, take_along_axis and getitem were already copied)
    "take with an index array": lambda: ((i := np.array([0, 0, 1])), lambda x: anp.take(x, i), [i]),
    "take_along_axis": lambda: (
        (i := np.array([1, 1, 0])),
        lambda x: anp.take_along_axis(x, i, axis=0),
        [i],
    ),
    "getitem with an index array": lambda: ((i := np.array([2, 0])), lambda x: x[i] * 2.0, [i]),
    "a broadcast view of a constant": lambda: (
        (c := np.array([1.0, 2.0, 3.0])),
        lambda x: x * np.broadcast_to(c, (2, 3)),
        [c],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_vjp_fn_ignores_constants_changed_after_the_call(case):
    _, fun, arrays = CASES[case]()
    expected_out, expected_vjp = ad.vjp(fun, X.copy())
    cotangent = np.linspace(1.0, 2.0, np.size(expected_out)).reshape(np.shape(expected_out))
    expected = expected_vjp(cotangent)[0]

    _, fun, arrays = CASES[case]()
    out, vjp_fn = ad.vjp(fun, X.copy())
    _mutate_all(arrays)
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_array_equal(vjp_fn(cotangent)[0], expected)
    assert all(array.flags.writeable for array in arrays)  # the caller's arrays untouched


def test_vjp_fn_ignores_a_primal_changed_after_the_call():
    x = X.copy()
    out, vjp_fn = ad.vjp(anp.sin, x)
    x[:] = 0.0
    np.testing.assert_allclose(vjp_fn(np.ones(3))[0], np.cos(X))
    assert x.flags.writeable


def test_vjp_returns_outputs_the_caller_may_change():
    out, vjp_fn = ad.vjp(anp.exp, X.copy())  # exp's rule reads its output
    assert out.flags.writeable
    out[:] = 0.0
    np.testing.assert_allclose(vjp_fn(np.ones(3))[0], np.exp(X))


def test_vjp_returns_an_output_that_views_an_input_as_a_copy():
    out, vjp_fn = ad.vjp(lambda x: x[::-1], X.copy())
    out[:] = 5.0
    np.testing.assert_array_equal(vjp_fn(np.array([1.0, 2.0, 3.0]))[0], [3.0, 2.0, 1.0])


def test_vjp_aux_values_are_copies():
    def fun(x):
        y = anp.exp(x)
        return y, ad.stop_gradient(y)

    out, vjp_fn, aux = ad.vjp(fun, X.copy(), has_aux=True)
    aux[:] = 0.0
    out[:] = 0.0
    np.testing.assert_allclose(vjp_fn(np.ones(3))[0], np.exp(X))


def test_vjp_keeps_each_use_of_an_array_changed_between_uses():
    buffer = np.zeros(3)

    def fun(x):
        buffer[:] = [1.0, 2.0, 3.0]
        first = x * buffer
        buffer[:] = [10.0, 20.0, 30.0]
        return first + x * buffer

    out, vjp_fn = ad.vjp(fun, X.copy())
    np.testing.assert_allclose(out, X * 11.0 * np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(vjp_fn(np.ones(3))[0], [11.0, 22.0, 33.0])


def test_one_copy_per_unchanged_constant_and_its_transpose_shares_it():
    a = np.arange(9.0).reshape(3, 3)
    out, vjp_fn = ad.vjp(lambda x: a @ (a @ x) + a.T @ x, X.copy())
    a[:] = 0.0
    expected = (
        np.arange(9.0).reshape(3, 3).T @ np.arange(9.0).reshape(3, 3).T
        + np.arange(9.0).reshape(3, 3)
    ) @ np.ones(3)
    np.testing.assert_allclose(vjp_fn(np.ones(3))[0], expected)


def test_grad_of_a_vjp_inside_keeps_its_constants():
    c = np.array([1.0, 2.0, 3.0])

    def inner(x):
        out, vjp_fn = ad.vjp(lambda y: anp.sin(y) * c, x)
        c[:] = 0.0  # changed between the forward call and vjp_fn
        result = anp.sum(vjp_fn(np.ones(3))[0])
        c[:] = [1.0, 2.0, 3.0]
        return result

    np.testing.assert_allclose(ad.grad(inner)(X.copy()), -np.sin(X) * [1.0, 2.0, 3.0])


# --- staged graphs: ad.trace and ad.jit --------------------------------------------------


def _reused_buffer_function():
    buffer = np.zeros(3)

    def fun(x):
        buffer[:] = [1.0, 2.0, 3.0]
        first = x * buffer
        buffer[:] = 0.0  # the buffer is reused after the multiplication
        return anp.sum(first)

    return fun


def test_trace_replays_the_values_each_operation_used():
    graph = ad.trace(_reused_buffer_function())(X.copy())
    assert graph(np.ones(3)) == 6.0


def test_jit_stages_the_values_each_operation_used():
    fun = ad.jit(_reused_buffer_function())
    assert fun(np.ones(3)) == 6.0
    assert fun(np.ones(3)) == 6.0  # the staged program


def test_jit_snapshots_globals_at_staging_like_jax():
    c = np.array([1.0, 2.0, 3.0])
    fun = ad.jit(lambda x: anp.sum(x * c))
    assert fun(np.ones(3)) == 6.0
    c[:] = 0.0
    assert fun(np.ones(3)) == 6.0  # documented: the program holds the staged value


# --- the imperative layer ----------------------------------------------------------------


def test_imperative_backward_ignores_a_numpy_constant_changed_after_recording():
    c = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    x = nd.array([3.0, 4.0, 5.0])
    x.attach_grad()
    with autograd.record():
        y = x * c
        z = nd.dot(x, c)
    c[:] = 0.0
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [1.0, 2.0, 3.0])
    z.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [1.0, 2.0, 3.0])
    assert c.flags.writeable


def test_imperative_constant_changed_between_two_recorded_uses():
    c = np.array([1.0, 2.0], dtype=np.float32)
    x = nd.array([3.0, 4.0])
    x.attach_grad()
    with autograd.record():
        y = x * c
        c[:] = 10.0
        y = y + x * c
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [11.0, 12.0])


# --- checkpoint --------------------------------------------------------------------------


def test_checkpoint_keeps_a_constant_argument():
    c = np.array([1.0, 2.0, 3.0])
    block = ad.checkpoint(lambda x, w: anp.sin(x) * w)
    out, vjp_fn = ad.vjp(lambda x: block(x, c), X.copy())
    c[:] = 0.0
    np.testing.assert_allclose(vjp_fn(np.ones(3))[0], np.cos(X) * [1.0, 2.0, 3.0])


def test_checkpoint_refuses_a_recomputation_that_differs():
    c = np.array([1.0, 2.0, 3.0])
    block = ad.checkpoint(lambda x: anp.sin(x) * c)  # reads c from its closure
    out, vjp_fn = ad.vjp(block, X.copy())
    c[:] = 0.0
    with pytest.raises(
        RuntimeError,
        match=r"checkpoint\(<lambda>\): recomputing <lambda> "
        r"for its derivative gave a different value.*modified in place",
    ):
        vjp_fn(np.ones(3))


def test_checkpoint_refuses_in_forward_mode_too():
    c = np.array([1.0, 2.0, 3.0])
    block = ad.checkpoint(lambda x: anp.sin(x) * c)

    def fun(x):
        y = block(x)
        c[:] = 0.0  # before the forward pass over the recorded nodes runs
        return y

    with pytest.raises(RuntimeError, match=r"checkpoint\(<lambda>\): recomputing"):
        ad.jvp(fun, (X.copy(),), (np.ones(3),))
    c[:] = [1.0, 2.0, 3.0]
    _, tangent = ad.jvp(lambda x: block(x), (X.copy(),), (np.ones(3),))
    np.testing.assert_allclose(tangent, np.cos(X) * [1.0, 2.0, 3.0])


def test_checkpoint_with_nan_outputs_is_not_refused():
    block = ad.checkpoint(lambda x: anp.log(x))
    gradient = ad.grad(lambda x: anp.sum(anp.where(x > 0, block(x), 0.0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_allclose(gradient(np.array([1.0, -1.0])), [1.0, 0.0])
