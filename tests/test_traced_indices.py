"""Indices computed from traced values: they index constant tables in every transform, and
staged programs (``jit``, ``Graph`` replay) recompute them instead of keeping the ones
seen while tracing."""

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp

TABLE = np.arange(5.0) ** 2
X = np.array([0.5, 2.5])
X_OTHER = np.array([3.5, 1.25])


def _floor_index(x):
    return np.floor(x).astype(int)


# --- eager transforms: integer and boolean values index constant tables -----------------


@pytest.mark.parametrize(
    ("name", "fun", "expected"),
    [
        ("integer index", lambda x: np.sum(TABLE[_floor_index(x)] * x), TABLE[[0, 2]]),
        ("boolean mask", lambda x: np.sum(TABLE[:2][x > 1] * x[x > 1]), np.array([0.0, 1.0])),
        ("argsort", lambda x: np.sum(TABLE[:2][np.argsort(x)] * x), TABLE[:2][[0, 1]]),
        ("nonzero", lambda x: np.sum(TABLE[:2][np.nonzero(x > 1)] * 2.0) + np.sum(x), np.ones(2)),
        ("take", lambda x: np.sum(np.take(TABLE, np.round(x).astype(int)) * x), TABLE[[0, 2]]),
        (
            "stop_gradient index",
            lambda x: np.sum(TABLE[ad.stop_gradient(x).astype(int)] * x),
            TABLE[[0, 2]],
        ),
        (
            "stop_gradient float converted",
            lambda x: np.sum(TABLE[np.asarray(ad.stop_gradient(x)).astype(int)] * x),
            TABLE[[0, 2]],
        ),
    ],
)
def test_indices_from_traced_values_index_constant_tables(name, fun, expected):
    np.testing.assert_array_equal(ad.grad(fun)(X), expected)
    out, tangent = ad.jvp(fun, (X,), (np.ones(2),))
    assert tangent == pytest.approx(np.sum(expected))
    assert out == pytest.approx(fun(X))


def test_index_from_traced_values_in_higher_order():
    fun = lambda x: np.sum(TABLE[_floor_index(x)] * x**3)  # noqa: E731
    np.testing.assert_allclose(ad.hessian(fun)(X), np.diag(6 * X * TABLE[[0, 2]]))


def test_float_traced_value_still_refuses_conversion():
    with pytest.raises(
        TypeError,
        match=r"np\.asarray\(\) was called on a value that adfun is "
        r"tracing",
    ):
        ad.grad(lambda x: np.sum(np.asarray(x)))(X)


# --- staged: recomputed, never reused ----------------------------------------------------


def _same(staged, eager):
    np.testing.assert_array_equal(staged, eager)
    assert np.asarray(staged).dtype == np.asarray(eager).dtype


@pytest.mark.parametrize(
    ("name", "fun"),
    [
        ("sort", anp.sort),
        ("sort 2-d", lambda x: anp.sort(anp.reshape(x, (2, 2)), axis=0)),
        ("partition", lambda x: anp.partition(x, 1)),
        ("median", anp.median),
        ("quantile", lambda x: anp.quantile(x, [0.1, 0.5, 0.9])),
        ("percentile nearest", lambda x: anp.percentile(x, 40, method="nearest")),
        ("nanmedian", anp.nanmedian),
        ("nanquantile", lambda x: anp.nanquantile(x, 0.3)),
        ("argmax index", lambda x: x[anp.argmax(x)]),
        ("argsort index", lambda x: x[anp.argsort(x)]),
        ("take at computed index", lambda x: anp.take(TABLE, anp.floor(x).astype(int))),
        ("take_along_axis", lambda x: anp.take_along_axis(x, anp.argsort(-x), axis=0)),
        ("table index tuple", lambda x: anp.take(TABLE, (anp.floor(x).astype(int),))),
    ],
)
@pytest.mark.parametrize("stage", ["jit", "trace"])
def test_staged_value_dependent_steps_are_recomputed(name, fun, stage):
    first = np.array([3.0, 1.0, 2.0, 0.5])
    others = [np.array([0.5, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.25, 4.5])]
    if "take" not in name and "table" not in name:  # (a NaN is no index)
        others.append(np.array([2.0, np.nan, 0.5, 1.0]))
    if stage == "jit":
        staged = ad.jit(fun)
        staged(first)
    else:
        staged = ad.trace(fun)(first)
    for other in others:
        _same(staged(other), ad.vjp(fun, other)[0])


def test_staged_partition_arranges_as_numpy_does_with_nan_and_signed_zeros():
    """np.argpartition may place NaN entries elsewhere than np.partition: the staged and
    the traced partition arrange exactly as np.partition (NaN and the sign of zeros too),
    and the gradient follows the arrangement."""
    first = np.array([3.0, 1.0, 2.0, 0.5, -1.0])
    others = [
        np.array([np.nan, np.nan, np.nan, -0.5, 7.0]),
        np.array([np.nan, 1.0, np.nan, -0.0, 0.0]),
        np.array([0.0, -0.0, 0.0, -0.0, 1.0]),
    ]
    for kth in (1, 3, (0, 4)):
        fun = lambda x, kth=kth: anp.partition(x, kth)  # noqa: E731
        staged = ad.jit(fun)
        staged(first)
        for other in others:
            expected = np.partition(other, kth)
            for got in (staged(other), ad.vjp(fun, other)[0]):
                np.testing.assert_array_equal(got, expected)
                assert np.array_equal(np.signbit(got), np.signbit(expected))
        weights = np.arange(1.0, 6.0)
        gradient = ad.grad(lambda x, kth=kth, w=weights: anp.sum(anp.partition(x, kth) * w))
        staged_gradient = ad.jit(gradient)
        staged_gradient(first)
        for other in others:
            got = staged_gradient(other)
            _same(got, gradient(other))
            assert sorted(got.tolist()) == weights.tolist()  # a permutation of the weights


@pytest.mark.parametrize(
    ("name", "fun"),
    [
        ("sort", lambda x: anp.sum(anp.sort(x) * np.arange(4.0))),
        ("median", anp.median),
        ("nanquantile", lambda x: anp.nanquantile(x, 0.3)),
        ("argmax index", lambda x: x[anp.argmax(x)] ** 2),
        (
            "table at computed index",
            lambda x: anp.sum(anp.take(TABLE, anp.floor(x).astype(int)) * x),
        ),
    ],
)
def test_staged_gradients_of_value_dependent_steps_are_recomputed(name, fun):
    staged = ad.jit(ad.grad(fun))
    staged(np.array([3.0, 1.0, 2.0, 0.5]))
    for other in [np.array([0.5, 1.0, 2.0, 3.0]), np.array([1.0, 4.0, 0.25, 4.5])]:
        _same(staged(other), ad.grad(fun)(other))


def test_integer_array_and_integer_scalar_arguments_are_inputs_of_the_staged_program():
    pick = ad.jit(lambda x, i: x[i])
    x = np.array([3.0, 1.0, 2.0])
    _same(pick(x, np.array([0, 1])), x[[0, 1]])
    _same(pick(x, np.array([2, 2])), x[[2, 2]])
    _same(pick(x, np.int64(0)), x[0])
    _same(pick(x, np.int64(2)), x[2])
    scatter = ad.jit(ad.grad(lambda x, i: anp.sum(x[i] ** 2)))
    _same(scatter(x, np.array([0, 1])), np.array([6.0, 2.0, 0.0]))
    _same(scatter(x, np.array([2, 2])), np.array([0.0, 0.0, 8.0]))


def test_graph_replay_uses_the_new_index_argument():
    graph = ad.trace(lambda x, i: anp.take(x, i))(np.arange(4.0), np.array([0, 1]))
    _same(graph(np.arange(4.0), np.array([3, 2])), np.array([3.0, 2.0]))


def test_staged_derivative_of_untake_at_a_traced_mask_names_untake():
    """untake's value at a traced mask stages (its shape is given); its derivative, the
    cotangent indexed by the mask, refuses naming untake (not the getitem it calls)."""
    from adfun.numpy._indexing import untake

    mask = np.array([True, False, True])
    staged = ad.jit(lambda v, m: untake(v, m, (3,)))
    _same(staged(np.array([1.0, 2.0]), mask), np.array([1.0, 0.0, 2.0]))
    _same(staged(np.array([1.0, 2.0]), np.array([False, True, True])), np.array([0.0, 1.0, 2.0]))

    def reverse(v, m):
        return ad.vjp(lambda v: untake(v, m, (3,)), v)[1](np.array([1.0, 2.0, 3.0]))

    for stage in (ad.jit, lambda fun: lambda *args: ad.trace(fun)(*args)):
        with pytest.raises(
            ad.StagingError,
            match=r"^the derivative of adfun\.numpy\.untake\("
            r"values, mask, shape\): the result depends on "
            r"the values .*adfun\.numpy\.where\(mask",
        ):
            stage(reverse)(np.array([1.0, 2.0]), mask)
    _same(reverse(np.array([1.0, 2.0]), mask), (np.array([1.0, 3.0]),))


def test_staged_numpy_table_indexed_by_traced_value_says_how_to_write_it():
    with pytest.raises(
        ad.StagingError,
        match=r"jit: cannot stage np\.asarray\(\) on a traced "
        r"value .*adfun\.numpy\.take\(table, i, axis=0\)",
    ):
        ad.jit(lambda x: np.sum(TABLE[_floor_index(x)] * x))(X)
    # ... and the advice works when followed:
    fun = ad.jit(ad.grad(lambda x: anp.sum(anp.take(TABLE, anp.floor(x).astype(int), axis=0) * x)))
    _same(fun(X), TABLE[[0, 2]])
    _same(fun(X_OTHER), TABLE[[3, 1]])


def test_key_index_array_changed_after_use_does_not_move_the_gradient():
    def fun(x):
        index = np.array([0, 0, 1])
        y = x[index]
        index[:] = 2
        return anp.sum(y * np.array([1.0, 2.0, 3.0]))

    np.testing.assert_array_equal(ad.grad(fun)(np.zeros(3)), [3.0, 3.0, 0.0])
