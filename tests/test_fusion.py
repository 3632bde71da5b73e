"""``ad.jit``'s accelerations: fused numexpr kernels and Python float code give NumPy's numbers.

Fused kernels contain only correctly rounded IEEE operations, and the ``math`` functions
used for 0-d values are those that agree with NumPy bit for bit here, so the staged
results are compared for exact equality with the plain program's (the documented
tolerance is zero).
"""

from __future__ import annotations

import math
import threading
import warnings
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import adfun as ad
import adfun.numpy as anp
from adfun._staging import blocks, fusion, loops, recycle

needs_numexpr = pytest.mark.skipif(
    fusion.numexpr_module() is None,
    reason="numexpr is not installed (pip install numexpr): fused kernels are off",
)


needs_numba = pytest.mark.skipif(
    loops.numba_module() is None,
    reason="numba is not installed (pip install numba): compiled loops are off",
)


def _source(jitted) -> str:
    (staged,) = jitted._cache.values()
    return staged.run.source


def _w3(x):
    return anp.sum(anp.sin(x) ** 2 + anp.exp(-x) * anp.cos(x))


# --- fused kernels -----------------------------------------------------------------------------


def test_without_numba_the_elementwise_gradient_runs_in_blocks(monkeypatch):
    monkeypatch.setenv("ADFUN_FUSE", "numexpr")  # no numba loops
    x = np.random.default_rng(0).standard_normal(fusion.FUSE_MIN_SIZE)
    staged = ad.jit(ad.grad(_w3))
    got = staged(x)
    assert "# blocks of negative, exp, sin" in _source(staged)
    np.testing.assert_array_equal(got, ad.grad(_w3)(x))
    np.testing.assert_array_equal(staged(x), got)  # replayed with the buffers it reused


@needs_numexpr
def test_forward_and_backward_fuse_together():
    def loss(w, x):
        h = w * x + 1.0
        return anp.sum((h * h - x) / (1.0 + h * h))

    rng = np.random.default_rng(1)
    w, x = rng.standard_normal((2, fusion.FUSE_MIN_SIZE))
    value_and_grad = ad.value_and_grad(loss, argnums=(0, 1))
    staged = ad.jit(value_and_grad)
    value, (dw, dx) = staged(w, x)
    expected_value, (expected_dw, expected_dx) = value_and_grad(w, x)
    assert value == expected_value
    np.testing.assert_array_equal(dw, expected_dw)
    np.testing.assert_array_equal(dx, expected_dx)
    assert _source(staged).count("numexpr:") >= 2


def test_small_arrays_and_missing_numexpr_take_the_plain_path(monkeypatch):
    x = np.linspace(-1.0, 1.0, 64)
    staged = ad.jit(ad.grad(_w3))
    np.testing.assert_array_equal(staged(x), ad.grad(_w3)(x))
    assert "numexpr" not in _source(staged)  # below FUSE_MIN_SIZE
    monkeypatch.setattr(fusion, "_NUMEXPR", [None])  # as if numexpr were not installed
    monkeypatch.setattr(loops, "_NUMBA", [None])  # nor numba
    big = np.linspace(-1.0, 1.0, fusion.FUSE_MIN_SIZE)
    staged = ad.jit(ad.grad(_w3))
    np.testing.assert_array_equal(staged(big), ad.grad(_w3)(big))
    assert "numexpr" not in _source(staged)


@needs_numexpr
def test_the_environment_switches_fusion_off(monkeypatch):
    monkeypatch.setenv("ADFUN_FUSE", "0")
    x = np.linspace(-1.0, 1.0, fusion.FUSE_MIN_SIZE)
    staged = ad.jit(ad.grad(_w3))
    np.testing.assert_array_equal(staged(x), ad.grad(_w3)(x))
    assert "numexpr" not in _source(staged)
    assert "numba" not in _source(staged)


@needs_numexpr
def test_a_raising_errstate_runs_the_plain_program():
    x = np.zeros(fusion.FUSE_MIN_SIZE)
    staged = ad.jit(lambda x: (x + 1.0) / (x * 2.0))
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(staged(x), np.full(x.shape, np.inf))
    assert "numexpr:" in _source(staged)
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError, match="divide by zero"):
        staged(x)


@needs_numexpr
def test_kernels_never_write_over_their_own_operands():
    # Every intermediate dies young, so buffers are reused as often as possible.
    def f(x, y):
        a = anp.sin(x)
        b = anp.cos(y)
        c = a * b + a - b * 2.0
        d = anp.exp(c)
        return d * a - d / (b + 3.0) + c

    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((2, fusion.FUSE_MIN_SIZE))
    staged = ad.jit(f)
    np.testing.assert_array_equal(staged(x, y), f(x, y))
    np.testing.assert_array_equal(staged(x, y), f(x, y))
    gradient = ad.grad(lambda x, y: anp.sum(f(x, y)), argnums=(0, 1))
    for got, expected in zip(ad.jit(gradient)(x, y), gradient(x, y)):
        np.testing.assert_array_equal(got, expected)


_BINARY = [anp.add, anp.subtract, anp.multiply, anp.true_divide]
_UNARY = [anp.negative, anp.square, anp.absolute, anp.sqrt, anp.sin, anp.exp, anp.cos]


@st.composite
def _programs(draw):
    """A random program of elementwise steps over two inputs and constants."""
    steps = []
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            steps.append(("unary", draw(st.sampled_from(range(len(_UNARY))))))
        else:
            constant = draw(st.sampled_from([None, 0.5, -3.0, 2, 1.0]))
            steps.append(("binary", draw(st.sampled_from(range(len(_BINARY)))), constant))
        steps[-1] += (draw(st.integers(0, 100)), draw(st.integers(0, 100)))
    return steps


def _run(steps, x, y):
    values = [x, y]
    for step in steps:
        first = values[step[-2] % len(values)]
        if step[0] == "unary":
            values.append(_UNARY[step[1]](first))
        else:
            second = step[2] if step[2] is not None else values[step[-1] % len(values)]
            values.append(_BINARY[step[1]](first, second))
    return values[-1], values[len(values) // 2]


@needs_numexpr
@given(_programs())
def test_random_programs_give_numpys_numbers_exactly(steps):
    previous = fusion.FUSE_MIN_SIZE
    fusion.FUSE_MIN_SIZE = 4  # fuse small arrays, so that Hypothesis runs quickly
    try:
        rng = np.random.default_rng(len(steps))
        x, y = rng.standard_normal((2, 16))
        staged = ad.jit(lambda x, y: _run(steps, x, y))
        with np.errstate(all="ignore"):
            got, expected = staged(x, y), _run(steps, x, y)
            again = staged(x, y)
    finally:
        fusion.FUSE_MIN_SIZE = previous
    for a, b, c in zip(got, expected, again):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(c, b)


# --- Python float code -------------------------------------------------------------------------


def test_scalar_chains_return_numpy_scalars_with_numpys_values():
    def chain(x):
        for _ in range(5):
            x = anp.tanh(anp.sin(x * 0.9 + 0.1)) / (1.0 + anp.sqrt(anp.cos(x) ** 2))
        return x

    for f in (chain, ad.grad(chain)):
        staged = ad.jit(f)
        for x in (0.3, np.float64(-1.7), 12.5):
            got = staged(x)
            assert type(got) is np.float64
            assert got == f(x)
    assert "_float(" in _source(staged)


def test_python_floats_keep_numpys_dtypes():
    def f(s, a):
        t = s * 2.0 + 1.0
        return a * t, a + anp.sin(t), t

    a = np.ones(3, np.float32)
    staged = ad.jit(f)
    for got, expected in zip(staged(0.5, a), f(np.float64(0.5), a)):
        assert type(got) is type(expected)
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(got, expected)
    float32 = ad.jit(lambda s: s * 2.0 + 1.0)(np.float32(0.5))
    assert type(float32) is np.float32 and float32 == np.float32(2.0)


def test_float_code_reruns_numpy_for_its_warnings():
    staged = ad.jit(lambda x: 1.0 / (x * 2.0))
    assert staged(4.0) == 0.125
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert staged(0.0) == np.inf
    sine = ad.jit(lambda x: anp.sin(x) * 2.0)
    with pytest.warns(RuntimeWarning, match="invalid value"):
        assert np.isnan(sine(np.inf))
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        ad.jit(lambda x: x * 1e300)(1e300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(sine(np.nan))  # NaN in, NaN out: NumPy does not warn either


def test_math_functions_are_used_only_where_exact():
    assert fusion.exact_math_function(np.sqrt) is math.sqrt  # correctly rounded
    assert fusion.exact_math_function(np.absolute) is math.fabs
    assert fusion.exact_math_function(np.add) is None  # not a candidate
    sample = np.random.default_rng(7).standard_normal(5000) * 10.0
    for ufunc in (np.sin, np.cos, np.tanh, np.exp, np.log1p, np.arctan):
        function = fusion.exact_math_function(ufunc)
        if function is None:
            continue
        with np.errstate(all="ignore"):
            expected = ufunc(sample)
        for value, want in zip(sample.tolist(), expected.tolist()):
            try:
                assert function(value) == want or (math.isnan(want) and value != value)
            except (ValueError, OverflowError):
                pass


# --- compiled loops (numba) --------------------------------------------------------------------


@needs_numba
def test_the_elementwise_gradient_is_one_loop_with_numpys_numbers():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2, fusion.FUSE_MIN_SIZE))
    staged = ad.jit(ad.grad(_w3))
    first = staged(x)
    kept = first.copy()
    source = _source(staged)
    assert "numba loop" in source and "numexpr" not in source
    np.testing.assert_array_equal(first, ad.grad(_w3)(x))
    # The loop writes into buffers the program reuses: never into a result it returned.
    second = staged(y)
    np.testing.assert_array_equal(second, ad.grad(_w3)(y))
    np.testing.assert_array_equal(first, kept)
    assert second is not first


@needs_numba
def test_a_loop_stores_the_values_read_outside_it():
    def f(x, s):
        a = anp.sin(x)
        b = anp.cos(x) * s  # s: a 0-d value of the program, a number in the loop
        c = a * b - 2.0
        return anp.tanh(a) + c, b, anp.exp(c)  # tanh, exp: NumPy's own (SIMD) code

    x = np.random.default_rng(4).standard_normal((256, 256)).T  # not C-contiguous
    s = np.float64(1.5)
    staged = ad.jit(f)
    for got, expected in zip(staged(x, s), f(x, s)):
        np.testing.assert_array_equal(got, expected)
    source = _source(staged)
    assert "numba loop of 5 operations, 3 stored" in source
    results = staged(x, s)
    again = staged(x * 2.0, s)
    for got, expected, other in zip(results, f(x, s), again):
        np.testing.assert_array_equal(got, expected)  # not overwritten by the later call
        assert not np.shares_memory(got, other)


@needs_numba
def test_loops_follow_numpy_on_special_values():
    x = np.tile(
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, 5e-324, -2.5], fusion.FUSE_MIN_SIZE // 8
    )

    def f(x):
        return anp.sin(x) / anp.cos(x) * x + anp.cos(x) / x

    staged = ad.jit(f)
    with np.errstate(all="ignore"):
        got, expected = staged(x), f(x)
    assert "numba loop" in _source(staged)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
    with np.errstate(divide="raise", invalid="ignore"):
        with pytest.raises(FloatingPointError, match="divide by zero"):
            staged(x)  # a raising errstate runs the plain program


@needs_numba
def test_adfun_fuse_numexpr_keeps_numexpr_kernels_only(monkeypatch):
    monkeypatch.setenv("ADFUN_FUSE", "numexpr")
    assert loops.numba_module() is None
    x = np.linspace(-1.0, 1.0, fusion.FUSE_MIN_SIZE)
    staged = ad.jit(ad.grad(_w3))
    np.testing.assert_array_equal(staged(x), ad.grad(_w3)(x))
    assert "numba" not in _source(staged)


@needs_numba
def test_loops_call_only_functions_that_give_numpys_numbers():
    functions = loops.loop_functions()
    for ufunc, template in functions.items():
        assert fusion.exact_math_function(ufunc) is not None
        assert template == f"math.{loops.LIBRARY_FUNCTIONS[ufunc]}({{0}})"
    # NumPy's SIMD exp differs from the C library's in the last place here: not in loops.
    if fusion.exact_math_function(np.exp) is None:
        assert np.exp not in functions


def test_a_region_without_library_functions_is_left_to_numexpr():
    nodes_source = ad.jit(lambda x: (x * 2.0 + 1.0) * x)
    x = np.linspace(-1.0, 1.0, fusion.FUSE_MIN_SIZE)
    np.testing.assert_array_equal(nodes_source(x), (x * 2.0 + 1.0) * x)
    assert "numba" not in _source(nodes_source)


# --- regions run block by block ----------------------------------------------------------------


def _mixed(x, y):
    a = anp.tanh(x) * y + 1.0  # tanh, exp, log: NumPy's SIMD code, so never numba's
    b = anp.exp(-a) / (y * y + 2.0)
    return anp.log(b * b + 1.0) - a, b


def test_regions_run_in_blocks_give_numpys_numbers(monkeypatch):
    monkeypatch.setenv("ADFUN_FUSE", "numexpr")
    rng = np.random.default_rng(5)
    size = fusion.FUSE_MIN_SIZE + 37  # the last block short
    x, y = rng.standard_normal((2, size))
    staged = ad.jit(_mixed)
    first = staged(x, y)
    kept = [value.copy() for value in first]
    assert "# blocks of tanh, multiply, add" in _source(staged)
    for got, expected in zip(first, _mixed(x, y)):
        np.testing.assert_array_equal(got, expected)
    again = staged(y, x)  # a later call never writes over earlier results
    for got, expected, old, value in zip(again, _mixed(y, x), kept, first):
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(value, old)
    gradient = ad.value_and_grad(lambda x, y: anp.sum(_mixed(x, y)[0]), argnums=(0, 1))
    (value, grads), (expected_value, expected_grads) = ad.jit(gradient)(x, y), gradient(x, y)
    assert value == expected_value
    for got, expected in zip(grads, expected_grads):
        np.testing.assert_array_equal(got, expected)


def test_blocks_read_arrays_that_are_not_contiguous(monkeypatch):
    monkeypatch.setenv("ADFUN_FUSE", "numexpr")
    x = np.random.default_rng(6).standard_normal((300, 400)).T
    y = np.linspace(-2.0, 2.0, x.size).reshape(x.shape)
    staged = ad.jit(_mixed)
    for got, expected in zip(staged(x, y), _mixed(x, y)):
        np.testing.assert_array_equal(got, expected)
    assert "blocks of" in _source(staged)


def test_a_ufunc_that_depends_on_its_blocks_is_not_blocked(monkeypatch):
    monkeypatch.setenv("ADFUN_FUSE", "numexpr")
    monkeypatch.setitem(blocks._EXACT, np.tanh, False)  # as if it failed the check
    x = np.linspace(-1.0, 1.0, fusion.FUSE_MIN_SIZE)
    staged = ad.jit(_mixed)
    for got, expected in zip(staged(x, x), _mixed(x, x)):
        np.testing.assert_array_equal(got, expected)
    source = _source(staged)
    assert "blocks of tanh" not in source and "blocks of" in source


def test_numpys_ufuncs_do_not_depend_on_blocks_here():
    for ufunc in (np.exp, np.tanh, np.log, np.sin, np.cos, np.expm1, np.add, np.multiply):
        assert blocks.blockwise_exact(ufunc), ufunc.__name__


def test_fusion_off_leaves_regions_alone(monkeypatch):
    monkeypatch.setenv("ADFUN_FUSE", "0")
    x = np.linspace(-1.0, 1.0, fusion.FUSE_MIN_SIZE)
    staged = ad.jit(_mixed)
    for got, expected in zip(staged(x, x), _mixed(x, x)):
        np.testing.assert_array_equal(got, expected)
    assert "#" not in _source(staged)


def test_threads_calling_one_staged_program_get_their_own_results():
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal(fusion.FUSE_MIN_SIZE) for _ in range(4)]
    staged = ad.jit(_mixed)
    staged(inputs[0], inputs[0])  # staged once, before the threads start
    results: dict = {}

    def work(number):
        x = inputs[number]
        results[number] = [staged(x, x) for _ in range(3)]

    threads = [threading.Thread(target=work, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for number, x in enumerate(inputs):
        expected = _mixed(x, x)
        for got in results[number]:
            for value, want in zip(got, expected):
                np.testing.assert_array_equal(value, want)


# --- arrays recycled across calls --------------------------------------------------------------


def _layer(w, x):
    return anp.tanh(x @ w) @ w.T


def test_dropped_results_are_recycled_and_kept_ones_never_written_over():
    rng = np.random.default_rng(8)
    w = rng.standard_normal((128, 128)) / 12.0
    x, y = rng.standard_normal((2, 256, 128))
    staged = ad.jit(_layer)
    first = staged(w, x)
    assert "out=t" in _source(staged)  # the matmuls write into recycled arrays
    expected_x, expected_y = _layer(w, x), _layer(w, y)
    np.testing.assert_array_equal(first, expected_x)
    second = staged(w, y)  # ``first`` is kept: never written over
    np.testing.assert_array_equal(first, expected_x)
    np.testing.assert_array_equal(second, expected_y)
    address = first.ctypes.data
    del first
    third = staged(w, y)  # ``first`` was dropped: its memory is used again
    assert third.ctypes.data == address
    np.testing.assert_array_equal(third, expected_y)
    np.testing.assert_array_equal(second, expected_y)


def test_views_and_weak_references_keep_results_out_of_reach():
    rng = np.random.default_rng(9)
    w = rng.standard_normal((128, 128)) / 12.0
    x, y = rng.standard_normal((2, 256, 128))
    staged = ad.jit(_layer)
    expected = _layer(w, x)
    view = staged(w, x)[:3]  # the result itself is dropped, a view of it kept
    watched = staged(w, x)
    reference = weakref.ref(watched)
    watched_copy = watched.copy()
    del watched  # the recycler keeps it alive: the weak reference must not see it change
    for _ in range(3):
        staged(w, y)
    np.testing.assert_array_equal(view, expected[:3])
    assert reference() is not None
    np.testing.assert_array_equal(reference(), watched_copy)


def test_the_recycling_budget_is_respected(monkeypatch):
    monkeypatch.setattr("adfun._staging.codegen.BUDGET_BYTES", 0)
    w = np.eye(128)
    staged = ad.jit(_layer)
    np.testing.assert_array_equal(staged(w, np.ones((256, 128))), _layer(w, np.ones((256, 128))))
    assert "out=t" not in _source(staged)


def test_threads_never_share_recycled_arrays():
    rng = np.random.default_rng(10)
    w = rng.standard_normal((128, 128)) / 12.0
    inputs = [rng.standard_normal((256, 128)) for _ in range(4)]
    staged = ad.jit(ad.value_and_grad(lambda w, x: anp.sum(_layer(w, x) ** 2)))
    staged(w, inputs[0])
    results: dict = {}

    def work(number):
        results[number] = [staged(w, inputs[number]) for _ in range(5)]

    threads = [threading.Thread(target=work, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    plain = ad.value_and_grad(lambda w, x: anp.sum(_layer(w, x) ** 2))
    for number, x in enumerate(inputs):
        value, gradient = plain(w, x)
        for got_value, got_gradient in results[number]:
            assert got_value == value
            np.testing.assert_array_equal(got_gradient, gradient)


def test_a_recycler_hands_out_each_array_once_while_it_is_held():
    recycler = recycle.Recycler(np.zeros((300, 300), order="F"))
    first, second = recycler.take(), recycler.take()
    assert first is not second and first.flags.f_contiguous and first.shape == (300, 300)
    third = recycler.take()  # both kept arrays are held: a new one, not kept
    assert third is not first and third is not second and len(recycler.kept) == 2
    del first
    assert recycler.take() is recycler.kept[0]
