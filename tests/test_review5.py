"""Regression tests from the adversarial review of recycled arrays, compiled loops, blocks
and shared forward values (review5)."""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun._staging import fusion


def _source(jitted) -> str:
    (staged,) = jitted._cache.values()
    return staged.run.source


def _exps(x):
    return anp.tanh(x) * 2.0 + anp.exp(x) - anp.log1p(anp.abs(x))


def _plain_exps(x):
    return np.tanh(x) * 2.0 + np.exp(x) - np.log1p(np.abs(x))


_SIZE = fusion.FUSE_MIN_SIZE + 37


@pytest.mark.parametrize(
    "layout",
    [
        lambda x: x[::-1],  # NumPy's exp of a reversed array differs from a copy's on AVX-512
        lambda x: np.repeat(x, 3)[::3],
        lambda x: np.broadcast_to(x[:1000], (_SIZE // 1000 + 1, 1000)),
    ],
    ids=["reversed", "strided", "broadcast"],
)
def test_blocks_on_strided_operands_give_the_plain_programs_numbers(monkeypatch, layout):
    monkeypatch.setenv("ADFUN_FUSE", "numexpr")  # blocks, not numba loops
    x = layout(np.random.default_rng(0).standard_normal(_SIZE))
    staged = ad.jit(_exps)
    staged(np.ascontiguousarray(x))  # traced on a contiguous array, replayed on x
    assert "blocks of" in _source(staged)
    np.testing.assert_array_equal(staged(x), _plain_exps(x))
    gradient = ad.grad(lambda x: anp.sum(_exps(x)))
    np.testing.assert_array_equal(ad.jit(gradient)(x), gradient(x))


# --- shared forward values never reach user rules ----------------------------------------

_X = np.random.default_rng(1).standard_normal(20_000)  # above sharing.MIN_SIZE


@ad.primitive
def _mysin(x):
    return np.sin(x)


def _in_place_rule(g, ans, x):
    c = anp.cos(x)
    c *= g  # a rule may write into what it computed
    return c


_mysin.defvjp(_in_place_rule)


@ad.primitive
def _mysin2(x):
    return np.sin(x)


_mysin2.defvjp(lambda g, ans, x: anp.cos(x))  # ignores g: right for a scalar output of 1.0


def test_a_custom_rule_may_write_into_what_it_computes_while_the_forward_has_it():
    gradient = ad.grad(lambda x: anp.sum(_mysin(x)) + anp.sum(anp.cos(x)))(_X)
    np.testing.assert_array_equal(gradient, np.cos(_X) - np.sin(_X))


def test_a_gradient_a_custom_rule_returns_is_not_a_forward_value_the_user_holds():
    def f(x):
        c = anp.cos(x)  # before the custom primitive: still unreversed when its rule runs
        return anp.sum(_mysin2(x)), c

    gradient, aux = ad.grad(f, has_aux=True)(_X)
    assert gradient.flags.writeable
    assert not np.shares_memory(gradient, aux)
    np.testing.assert_array_equal(gradient, np.cos(_X))
    (_, aux), gradient = ad.value_and_grad(f, has_aux=True)(_X)
    assert gradient.flags.writeable
    assert not np.shares_memory(gradient, aux)


# --- compiled loops ----------------------------------------------------------------------


def _nan_operands(x, y):
    return y + anp.sin(x), anp.cos(y) * x


def test_loops_differ_from_numpy_only_in_nans_made_of_two_nans():
    """Documented in adfun._staging.loops: LLVM may swap the operands of ``+`` and ``*``,
    so where both are NaN the loop may return the other's NaN (its sign bit)."""
    specials = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, 1e308, 5e-324])
    size = fusion.FUSE_MIN_SIZE + 37
    x = np.resize(np.repeat(specials, specials.size), size)
    y = np.resize(np.tile(specials, specials.size), size)
    with np.errstate(all="ignore"):
        expected = _nan_operands(x, y)
        got = ad.jit(_nan_operands)(x, y)
    for value, reference in zip(got, expected):
        nans = np.isnan(value)
        np.testing.assert_array_equal(nans, np.isnan(reference))
        np.testing.assert_array_equal(value[~nans].view(np.int64), reference[~nans].view(np.int64))


# --- recycled arrays ---------------------------------------------------------------------


def test_recycling_is_off_where_reference_counts_read_otherwise(monkeypatch):
    from adfun._staging import recycle

    assert recycle.COUNTS_READ_RIGHT  # CPython: checked at import
    monkeypatch.setattr(recycle, "ALONE", recycle.ALONE + 1)  # a held array would look free
    assert not recycle._counts_read_right()
    monkeypatch.setattr(recycle, "ALONE", recycle.ALONE - 2)  # nothing would look free
    assert not recycle._counts_read_right()
    monkeypatch.delattr(recycle.sys, "getrefcount")  # PyPy
    assert not recycle._counts_read_right()
    assert recycle._alone() == -1


def _chain(x):
    return anp.exp(x) * 2.0 + 1.0


def test_results_held_in_any_way_are_never_written_over():
    size = 20_000  # 160 kB results: recycled
    xs = [np.full(size, float(k)) for k in range(8)]
    staged = ad.jit(_chain)
    staged(xs[0])
    held = [
        memoryview(staged(xs[1])),
        staged(xs[2])[::2],
        {"a": [staged(xs[3])]},
        np.frombuffer(staged(xs[4])),
        staged(xs[5]).reshape(100, 200).T,
    ]
    for x in xs:  # later calls, each free to recycle what nobody holds
        staged(x)
    expected = [_chain(x) for x in np.asarray(xs)]
    np.testing.assert_array_equal(np.frombuffer(held[0]), expected[1])
    np.testing.assert_array_equal(held[1], expected[2][::2])
    np.testing.assert_array_equal(held[2]["a"][0], expected[3])
    np.testing.assert_array_equal(held[3], expected[4])
    np.testing.assert_array_equal(held[4], expected[5].reshape(100, 200).T)
    x = xs[1].copy()
    for _ in range(4):  # a result passed back as the next input
        x = staged(staged(x) * 1e-3)
    reference = xs[1].copy()
    for _ in range(4):
        reference = _chain(_chain(reference) * 1e-3)
    np.testing.assert_array_equal(x, reference)
