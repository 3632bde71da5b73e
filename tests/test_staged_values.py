"""Staged graphs recompute every value-dependent step (issue 13, section 1).

Each function of ``adfun.numpy`` that decides something from the values of a traced
argument (a NaN mask, a branch, an index, a segment, a bin) either records that decision
as graph nodes - so ``ad.jit`` and ``ad.trace`` graphs staged at one input give, at
another input, bit for bit what the unstaged call gives - or refuses at trace time with
a ``StagingError`` naming the function and what to do.  Eager transforms (``grad``,
``jvp`` without staging) may still read values.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun.testing import check_grads

NAN = np.nan


# --- helpers ------------------------------------------------------------------------------


def _assert_same(got, expected) -> None:
    """Bit-for-bit equality of (nested tuples/lists of) arrays, shapes and dtypes."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(expected)
        for got_item, expected_item in zip(got, expected, strict=True):
            _assert_same(got_item, expected_item)
        return
    got_array, expected_array = np.asarray(got), np.asarray(expected)
    assert got_array.shape == expected_array.shape
    assert got_array.dtype == expected_array.dtype
    assert np.array_equal(got_array, expected_array, equal_nan=True), (got, expected)
    if got_array.dtype.kind == "f":  # the signs of zeros too (NaNs' signs aside)
        numbers = ~np.isnan(expected_array)
        assert np.array_equal(np.signbit(got_array[numbers]), np.signbit(expected_array[numbers]))


def _quiet(fun, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fun(*args)


def _floats(args: tuple) -> bool:
    return all(np.asarray(arg).dtype.kind == "f" for arg in args)


def assert_staged(fun, first: tuple, *later: tuple) -> None:
    """Stage ``fun`` at ``first`` with ``ad.jit`` (and ``ad.trace``, whose inputs are
    float arrays); at each of ``later`` the staged programs give what the unstaged call
    gives, without tracing again."""
    jitted = ad.jit(fun)
    _assert_same(_quiet(jitted, *first), _quiet(fun, *first))
    graph = _quiet(ad.trace(fun), *first) if _floats(first) else None
    for args in later:
        expected = _quiet(fun, *args)
        _assert_same(_quiet(jitted, *args), expected)
        if graph is not None:
            _assert_same(_quiet(graph, *args), expected)
    assert jitted.cache_info()["misses"] == 1


def assert_staged_grad(fun, first: tuple, *later: tuple) -> None:
    """``assert_staged`` for the function and for ``ad.grad`` of its weighted sum."""
    assert_staged(fun, first, *later)

    def total(*args):
        out = fun(*args)
        weights = np.linspace(0.5, 1.5, int(np.prod(np.shape(out))) or 1)[
            : int(np.prod(np.shape(out)))
        ].reshape(np.shape(out))
        return anp.sum(out * weights)

    assert_staged(ad.grad(total), first, *later)


def refuses(fun, *args, function: str, advice: str):
    """``fun`` under ``ad.jit`` and ``ad.trace`` raises StagingError naming ``function``."""
    pattern = (
        rf"adfun\.numpy\.{function}: the result depends on the values of a traced "
        rf"argument.*{advice}"
    )
    with pytest.raises(ad.StagingError, match=pattern):
        ad.jit(fun)(*args)
    if _floats(args):
        with pytest.raises(ad.StagingError, match=pattern):
            ad.trace(fun)(*args)


# --- NaN-ignoring reductions and scans ----------------------------------------------------

NAN_REDUCTIONS = ["nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanprod"]

FIRST = np.array([[3.0, NAN, 1.0], [2.0, 5.0, NAN]])
OTHERS = (
    np.array([[NAN, 1.0, 4.0], [NAN, NAN, 2.0]]),  # NaNs elsewhere
    np.array([[2.0, 2.0, NAN], [1.0, 7.0, 7.0]]),  # ties
    np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),  # no NaN
)


@pytest.mark.parametrize("name", NAN_REDUCTIONS)
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_nan_reductions_recompute_their_masks(name, axis):
    fun = getattr(anp, name)
    assert_staged_grad(lambda x: fun(x, axis=axis), (FIRST,), *((x,) for x in OTHERS))


@pytest.mark.parametrize("name", ["nancumsum", "nancumprod", "nanargmax", "nanargmin"])
def test_nan_scans_and_arg_reductions_recompute_their_masks(name):
    fun = getattr(anp, name)
    assert_staged(lambda x: fun(x, axis=1), (FIRST,), *((x,) for x in OTHERS))
    if name == "nancumsum":
        assert_staged_grad(lambda x: fun(x, axis=1), (FIRST,), *((x,) for x in OTHERS))
    elif name == "nancumprod":  # cumprod's rules are the same staged and eager
        weights = np.arange(1.0, 4.0)
        assert_staged_grad(lambda x: fun(x, axis=1) * weights, (FIRST,), *((x,) for x in OTHERS))


@pytest.mark.parametrize("name", ["nanmax", "nanmin"])
def test_all_nan_slices_give_nan_when_staged(name):
    fun = getattr(anp, name)
    all_nan = np.array([[NAN, NAN, NAN], [2.0, NAN, 1.0]])
    assert_staged_grad(lambda x: fun(x, axis=1), (FIRST,), (all_nan,))
    staged = ad.jit(lambda x: fun(x, axis=1))
    staged(FIRST)
    assert np.isnan(staged(all_nan)[0])
    with pytest.warns(RuntimeWarning, match="All-NaN slice encountered"):
        ad.grad(lambda x: anp.sum(anp.nan_to_num(fun(x, axis=1))))(all_nan)


@pytest.mark.parametrize("name", ["nanvar", "nanstd"])
@pytest.mark.parametrize("ddof", [0, 1])
def test_nanvar_without_degrees_of_freedom_gives_nan_when_staged(name, ddof):
    """NumPy's nanvar is NaN where the count of numbers is at most ddof (an all-NaN slice,
    one number with ddof=1), not ``0 / -1``; the derivative there is 0."""
    fun = getattr(anp, name)
    few = np.array([[NAN, NAN, NAN], [NAN, 2.0, NAN]])
    assert_staged_grad(lambda x: fun(x, axis=1, ddof=ddof), (FIRST,), (few,))
    assert_staged_grad(lambda x: fun(x, ddof=ddof), (FIRST,), (np.full((2, 3), NAN),))
    staged = ad.jit(lambda x: fun(x, axis=1, ddof=ddof))
    staged(FIRST)
    _assert_same(_quiet(staged, few), np.array([NAN, NAN if ddof else 0.0]))
    if ddof or name == "nanvar":
        gradient = _quiet(ad.jit(ad.grad(lambda x: anp.sum(fun(x, axis=1, ddof=ddof)[:1]))), few)
        _assert_same(gradient, np.zeros((2, 3)))


@pytest.mark.parametrize("name", ["quantile", "percentile", "nanquantile", "nanpercentile"])
@pytest.mark.parametrize("method", ["linear", "midpoint"])
def test_quantiles_compute_numpys_operations(name, method):
    """Traced and staged quantiles take NumPy's steps (its lerp, midpoint's weight 0.5 and
    the weight from index -1 at the last entry), so they agree with NumPy bit for bit, at
    infinite entries too; the median is the mean of the middle entries, as np.median."""
    rng = np.random.default_rng(11)
    scale = 100.0 if "percentile" in name else 1.0
    # Ties, but no zeros: which of 0.0 and -0.0 is the middle one is NumPy's partition's
    # choice (here the stable order's), a difference the sign of a zero shows.
    samples = [np.round(rng.standard_normal((3, 5)), 1) * 3.1 + 0.05 for _ in range(6)]
    samples[1][0, 2] = np.inf
    samples[2][1, :2] = NAN
    quantiles = [0.0, 0.25, 0.3, 0.5, 0.8, 1.0]
    fun = lambda x: getattr(anp, name)(
        x,
        [scale * q for q in quantiles],
        axis=1,  # noqa: E731
        method=method,
    )
    for sample in samples:
        expected = _quiet(
            getattr(np, name), sample, [scale * q for q in quantiles], 1, None, False, method
        )
        _assert_same(_quiet(lambda x: ad.vjp(fun, x)[0], sample), expected)
    assert_staged_grad(fun, (samples[0],), *((sample,) for sample in samples[1:]))
    for median in (anp.median, anp.nanmedian):
        for sample in samples:
            _assert_same(
                _quiet(lambda x, f=median: ad.vjp(lambda y: f(y, axis=1), x)[0], sample),
                _quiet(getattr(np, median.__name__), sample, 1),
            )


@pytest.mark.parametrize("name", NAN_REDUCTIONS[:4])
def test_nan_reductions_eager_derivatives(name):
    fun = getattr(anp, name)
    check_grads(lambda x: fun(x, axis=1), (np.array([[3.0, NAN, 1.0], [2.0, 5.0, 0.5]]),))


def test_ptp_and_average_stage():
    assert_staged_grad(
        lambda x: anp.ptp(x, axis=1),
        (FIRST[:, :1] + OTHERS[2],),
        (OTHERS[1] * 0 + np.array([[2.0, 2.0, 1.0], [1.0, 7.0, 7.0]]),),
    )
    weights = np.array([1.0, 2.0, 3.0])
    assert_staged_grad(
        lambda x, w: anp.average(x, axis=1, weights=w),
        (OTHERS[2], weights),
        (OTHERS[2] * 2.0, weights[::-1].copy()),
    )
    assert_staged(lambda x: anp.average(x, axis=1, returned=True), (OTHERS[2],), (OTHERS[2] + 1.0,))


# --- unwrap and trim_zeros --------------------------------------------------------------------


def test_unwrap_recomputes_its_multiples_of_the_period():
    first = np.array([0.0, 3.0, 6.0, 0.5])
    assert_staged_grad(
        anp.unwrap, (first,), (np.array([0.0, 1.0, 2.0, 3.0]),), (np.array([6.0, -1.0, 5.0, 12.0]),)
    )
    assert_staged(lambda p: anp.unwrap(p, period=4.0), (first,), (first[::-1].copy(),))
    check_grads(anp.unwrap, (first,))


def test_trim_zeros_refuses_staging_and_works_eagerly():
    refuses(
        anp.trim_zeros,
        np.array([0.0, 3.0, 0.0]),
        function="trim_zeros",
        advice=r"depends on where the zeros are.*adfun\.numpy\.where",
    )
    grad = ad.grad(lambda x: anp.sum(anp.trim_zeros(x) ** 2))(np.array([0.0, 3.0, 1.0, 0.0]))
    np.testing.assert_array_equal(grad, [0.0, 6.0, 2.0, 0.0])


# --- select, choose, compress, extract --------------------------------------------------------


def test_select_with_traced_conditions():
    def fun(x):
        return anp.select([x > 1.5, x < 0.0], [x, -2.0 * x], 7.0)

    assert_staged_grad(
        fun,
        (np.array([1.0, 2.0, -1.0]),),
        (np.array([2.0, -1.0, 1.0]),),
        (np.array([-3.0, 0.5, 4.0]),),
    )
    # Constant choices chosen by traced conditions.
    assert_staged(
        lambda x: anp.select([x > 0], [np.arange(3.0)], -1.0),
        (np.array([1.0, -2.0, 3.0]),),
        (np.array([-1.0, 2.0, -3.0]),),
    )
    with pytest.raises(TypeError, match=r"adfun\.numpy\.select: invalid entry in condlist"):
        ad.jit(lambda x: anp.select([x], [x]))(np.ones(2))


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose_with_traced_indices(mode):
    def fun(index, x):
        return anp.choose(index, [x, 2.0 * x, -x], mode=mode)

    x = np.array([1.0, 2.0, 3.0])
    later = [(np.array([2, 1, 0]), x), (np.array([0, 0, 2]), x + 1.0)]
    if mode != "raise":
        later.append((np.array([5, -1, 4]), x))
    assert_staged(fun, (np.array([0, 1, 0]), x), *later)
    # Indices computed from the traced values, and the derivative.
    derived = lambda x: anp.choose((x > 1.5).astype(int), [x, x * x])  # noqa: E731
    assert_staged_grad(derived, (np.array([1.0, 2.0, 1.0]),), (np.array([2.0, 1.0, 3.0]),))


def test_choose_checks_its_indices_at_every_call():
    staged = ad.jit(lambda index, x: anp.choose(index, [x, 2.0 * x]))
    staged(np.array([0, 1]), np.ones(2))
    with pytest.raises(ValueError, match=r"adfun\.numpy\.choose: invalid entry in choice array"):
        staged(np.array([0, 2]), np.ones(2))
    single = ad.jit(lambda index, x: anp.choose(index, [x]))
    single(np.array([0, 0]), np.ones(2))
    with pytest.raises(ValueError, match=r"adfun\.numpy\.choose: invalid entry"):
        single(np.array([0, 1]), np.ones(2))


@pytest.mark.parametrize("name", ["compress", "extract"])
def test_compress_and_extract_refuse_traced_conditions(name):
    fun = getattr(anp, name)
    refuses(
        lambda x: fun(x > 1.0, x),
        np.array([0.0, 3.0, 6.0]),
        function=name,
        advice=r"number of true entries of the traced condition.*adfun\.numpy\.where",
    )
    refuses(
        lambda x: fun(x > 1.0, np.arange(3.0)),
        np.array([0.0, 3.0, 6.0]),
        function=name,
        advice="number of true entries",
    )
    # Constant conditions stage; eager transforms read traced ones.
    condition = np.array([True, False, True])
    assert_staged_grad(
        lambda x: fun(condition, x), (np.array([0.0, 3.0, 6.0]),), (np.array([1.0, -2.0, 4.0]),)
    )
    grad = ad.grad(lambda x: anp.sum(fun(x > 1.0, x) ** 2))(np.array([0.0, 3.0, 6.0]))
    np.testing.assert_array_equal(grad, [0.0, 6.0, 12.0])


# --- interp -----------------------------------------------------------------------------------


def test_interp_finds_the_segments_again():
    xp, fp = np.array([0.0, 1.0, 2.0, 4.0]), np.array([0.0, 2.0, 3.0, -1.0])
    fun = lambda x: anp.interp(x, xp, fp)  # noqa: E731
    first = np.array([0.5, 1.5, 3.0])
    assert_staged_grad(
        fun,
        (first,),
        (first[::-1].copy(),),
        (np.array([-1.0, 2.0, 5.0]),),
        (np.array([4.0, 0.0, 1.0]),),
        (np.array([NAN, 2.5, 0.25]),),
    )
    # Traced knots and values, and left/right.
    both = lambda x, xp, fp: anp.interp(x, xp, fp, left=-5.0, right=fp[0])  # noqa: E731
    assert_staged_grad(
        both, (first, xp, fp), (np.array([3.5, -2.0, 0.5]), xp * 2.0, fp[::-1].copy())
    )
    check_grads(fun, (first,))


def test_interp_gives_numpys_values_on_any_knots():
    """Staged ``interp`` computes what NumPy's does on knots NumPy does not check:
    unsorted (its search's answer depends on the order it visits x), NaN knots and values,
    infinite values (NumPy's fallback to the other end of the segment), a single knot
    (NumPy gives fp[0] at a NaN x), and knots at x."""
    rng = np.random.default_rng(5)
    fun = lambda x, xp, fp: anp.interp(x, xp, fp)  # noqa: E731
    for length in (1, 2, 4, 5, 12, 30):
        xp, fp = np.sort(rng.standard_normal(length)), rng.standard_normal(length)
        x = np.concatenate([rng.standard_normal(9) * 1.5, xp[:2], [NAN]])
        later = []
        for _ in range(6):
            new_xp, new_fp, new_x = rng.standard_normal(length), fp.copy(), x.copy()
            new_xp[rng.integers(length)] = NAN
            new_fp[rng.integers(length)] = np.inf
            new_x[rng.integers(x.size)] = new_xp[rng.integers(length)]
            later.append((new_x, new_xp, new_fp))
            later.append((x[::-1].copy(), new_xp, new_fp))
        for args in [(x, xp, fp)] + later:  # the eager traced path is NumPy's too
            _assert_same(_quiet(lambda *a: ad.vjp(fun, *a)[0], *args), _quiet(np.interp, *args))
        assert_staged(fun, (x, xp, fp), *later)
    # The derivative in x is still the right-hand segment's slope at a knot.
    knots, values = np.array([0.0, 1.0, 2.0]), np.array([0.0, 2.0, 3.0])
    slope = ad.grad(lambda x: anp.sum(anp.interp(x, knots, values)))
    _assert_same(slope(np.array([0.0, 1.0, 0.5, 2.0, 3.0])), np.array([2.0, 1.0, 2.0, 0.0, 0.0]))


# --- bincount, arange -------------------------------------------------------------------------


def test_bincount_refuses_traced_positions_and_the_advice_works():
    weights = np.array([1.0, 2.0, 3.0])
    refuses(
        lambda x, w: anp.bincount(anp.floor(x).astype(int), w),
        np.array([0.5, 1.5, 1.0]),
        weights,
        function="bincount",
        advice=r"max\(x\) \+ 1.*known number of bins n",
    )

    def advised(x, w):
        positions = anp.floor(x).astype(int)
        return anp.sum(anp.where(positions[:, None] == anp.arange(3), w[:, None], 0.0), axis=0)

    assert_staged_grad(
        advised, (np.array([0.5, 1.5, 1.0]), weights), (np.array([2.5, 0.5, 0.0]), weights)
    )
    np.testing.assert_array_equal(
        ad.jit(advised)(np.array([2.5, 0.5, 0.0]), weights),
        np.bincount([2, 0, 0], weights, minlength=3),
    )
    # Constant positions with traced weights stage; eager transforms read traced ones.
    positions = np.array([0, 2, 2])
    assert_staged_grad(
        lambda w: anp.bincount(positions, w, minlength=4), (weights,), (weights * -2.0,)
    )
    grad = ad.grad(lambda x: anp.sum(anp.bincount(anp.floor(x).astype(int), x) ** 2))(
        np.array([0.5, 1.5, 1.0])
    )
    np.testing.assert_array_equal(grad, [1.0, 5.0, 5.0])


def test_arange_refuses_traced_bounds_and_the_advice_works():
    refuses(
        lambda s: anp.arange(s),
        np.array(3.0),
        function="arange",
        advice=r"number of entries depends on the values.*start \+ step \* "
        r"adfun\.numpy\.arange\(n\)",
    )
    assert_staged_grad(
        lambda start, step: start + step * anp.arange(4),
        (np.array(1.0), np.array(0.5)),
        (np.array(-2.0), np.array(3.0)),
    )
    grad = ad.grad(lambda s: anp.sum(anp.arange(s, 3.0)))(np.array(0.5))
    assert grad == 3.0


# --- creation: geomspace, asarray_chkfinite ---------------------------------------------------


def test_linspace_and_logspace_take_numpys_steps_when_a_step_is_zero():
    """NumPy computes every entry as ``(k / div) * delta`` when any step is 0 (else
    ``k * step``): the traced and staged linspace choose the same way, per call."""
    starts = np.array([[0.5, 0.0], [1.0, -0.7]])
    with_zero_step = np.array([[0.5, 0.0], [0.3, 1.7]])
    for fun, numpy_fun in ((anp.linspace, np.linspace), (anp.logspace, np.logspace)):
        staged = lambda s, f=fun: f(s, np.zeros(2), num=5, endpoint=False, axis=-1)  # noqa: E731
        for args in ((starts,), (with_zero_step,)):
            expected = numpy_fun(args[0], np.zeros(2), num=5, endpoint=False, axis=-1)
            _assert_same(ad.vjp(staged, *args)[0], expected)
        assert_staged_grad(staged, (with_zero_step,), (starts,), (np.full((2, 2), 0.3),))


def test_geomspace_records_the_sign_of_its_ends():
    fun = lambda a: anp.geomspace(a, 4.0 * a, 3)  # noqa: E731
    assert_staged_grad(fun, (np.array(1.0),), (np.array(-1.0),), (np.array(2.5),))
    staged = ad.jit(fun)
    staged(np.array(1.0))
    with pytest.raises(
        ValueError,
        match=r"adfun\.numpy\.geomspace: geometric sequence cannot "
        r"include zero",
    ):
        staged(np.array(0.0))
    with pytest.raises(NotImplementedError, match=r"adfun\.numpy\.geomspace: ends of different"):
        ad.jit(lambda a, b: anp.geomspace(a, b, 3))(np.array(1.0), np.array(-2.0))


def test_asarray_chkfinite_checks_at_every_call():
    staged = ad.jit(lambda x: anp.asarray_chkfinite(x) * 2.0)
    staged(np.array([1.0, 2.0]))
    with pytest.raises(
        ValueError,
        match=r"adfun\.numpy\.asarray_chkfinite: array must not "
        r"contain infs or NaNs",
    ):
        staged(np.array([1.0, NAN]))
    assert_staged_grad(
        lambda x: anp.asarray_chkfinite(x) * x, (np.array([1.0, 2.0]),), (np.array([-3.0, 0.5]),)
    )


# --- histogram --------------------------------------------------------------------------------


@pytest.mark.parametrize("bins", [2, 3, [0.0, 0.5, 1.0, 5.0]])
@pytest.mark.parametrize("range_", [None, (0.0, 2.0)])
def test_histogram_bins_the_new_data(bins, range_):
    first = np.array([0.1, 0.4, 0.45, 0.9, 2.0])
    later = [
        (np.array([1.5, 1.0, 0.2, 3.0, 0.0]),),
        (np.array([1.0, 1.0, 1.0, 1.0, 1.0]),),
        (first[::-1] * 3.0,),
    ]
    assert_staged(lambda a: anp.histogram(a, bins, range_), (first,), *later)
    assert_staged(lambda a: anp.histogram(a, bins, range_, density=True)[0], (first,), *later)
    assert_staged(lambda a: anp.histogram_bin_edges(a, bins, range_), (first,), *later)
    weights = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert_staged_grad(
        lambda a, w: anp.histogram(a, bins, range_, weights=w)[0],
        (first, weights),
        *((args[0], weights[::-1].copy()) for args in later),
    )
    assert_staged(lambda a: anp.histogram(a, bins, range_, weights=weights)[0], (first,), *later)
    if range_ is None and not isinstance(bins, list):
        # The edges follow min(a) and max(a).
        assert_staged_grad(lambda a: anp.histogram(a, bins)[1], (first,), *later)


def test_histogram_checks_and_refusals():
    staged = ad.jit(lambda a: anp.histogram(a, 2))
    staged(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"autodetected range of \[nan, nan\] is not finite"):
        staged(np.array([0.0, NAN]))
    refuses(
        lambda a: anp.histogram(a, "auto"),
        np.array([0.0, 1.0]),
        function="histogram",
        advice=r"bins='auto' chooses the number of bins from the data",
    )
    refuses(
        lambda a, n: anp.histogram(a, n),
        np.array([0.0, 1.0]),
        np.array(2),
        function="histogram",
        advice="number of bins decides the result's length",
    )
    counts, edges = ad.jit(lambda a: anp.histogram(a, 2))(np.array([0.0, 1.0]))
    np.testing.assert_array_equal(counts, [1, 1])


# --- joining, splitting -----------------------------------------------------------------------


def test_insert_at_traced_positions():
    fun = lambda x, i: anp.insert(x, i, 9.0 * x[0])  # noqa: E731
    x = np.array([0.0, 3.0, 6.0])
    assert_staged_grad(fun, (x, np.array(1)), (x, np.array(2)), (x * 2.0, np.array(-1)))
    assert_staged(
        lambda x, i: anp.insert(x, i, [7.0, 8.0]), (x, np.array([0, 2])), (x, np.array([3, 1]))
    )
    refuses(
        lambda x: anp.insert(x, x > 1.0, 0.0),
        x,
        function="insert",
        advice="boolean obj inserts at its true entries",
    )


@pytest.mark.parametrize("name", ["split", "array_split"])
def test_split_refuses_traced_points_and_works_eagerly(name):
    fun = getattr(anp, name)
    x = np.array([0.0, 3.0, 6.0, 1.0])
    refuses(
        lambda x, i: fun(x, i),
        x,
        np.array([1]),
        function=name,
        advice="split points decide the lengths of the pieces",
    )
    grad = ad.grad(lambda x: anp.sum(fun(x, anp.argmax(x)[None])[0] ** 2))(x)
    np.testing.assert_array_equal(grad, [0.0, 6.0, 0.0, 0.0])
    assert_staged_grad(lambda x: fun(x, [1, 3])[1], (x,), (x[::-1].copy(),))


# --- piecewise --------------------------------------------------------------------------------


def test_piecewise_refuses_traced_conditions_and_stages_constant_ones():
    functions = [lambda v: v * v, lambda v: 2.0 * v]
    refuses(
        lambda x: anp.piecewise(x, [x < 1.0], functions),
        np.array([0.0, 3.0]),
        function="piecewise",
        advice=r"adfun\.numpy\.where\(condition, f\(x\), g\(x\)\)",
    )
    condition = np.array([True, False, True])
    assert_staged_grad(
        lambda x: anp.piecewise(x, [condition], functions),
        (np.array([0.0, 3.0, 6.0]),),
        (np.array([1.0, 3.0, 2.0]),),
    )
    check_grads(lambda x: anp.piecewise(x, [x < 1.0], functions), (np.array([0.5, 3.0, 2.0]),))


# --- values functions whose shape depends on the values; static functions --------------------


@pytest.mark.parametrize(
    "fun, name",
    [
        (lambda x: anp.nonzero(x > 1.0), "nonzero"),
        (lambda x: anp.where(x > 1.0), "nonzero"),
        (lambda x: anp.flatnonzero(x > 1.0), "flatnonzero"),
        (lambda x: anp.argwhere(x > 1.0), "argwhere"),
        (lambda x: anp.ix_(x > 1.0), "ix_"),
    ],
)
def test_results_whose_shape_depends_on_the_values_refuse_staging(fun, name):
    refuses(
        fun,
        np.array([0.0, 3.0, 6.0]),
        function=name,
        advice=r"result's length depends on the values.*adfun\.numpy\.where",
    )
    fun(np.array([0.0, 3.0, 6.0]))  # plain values
    grad = ad.grad(lambda x: anp.sum(x[anp.nonzero(x > 1.0)] ** 2))(np.array([0.0, 3.0, 6.0]))
    np.testing.assert_array_equal(grad, [0.0, 6.0, 12.0])


def test_ix_of_traced_indices_stages():
    table = np.arange(16.0).reshape(4, 4)

    def fun(x):
        order = anp.argsort(x)
        return anp.getitem(table * x[0], anp.ix_(order[:2], order[1:]))

    assert_staged_grad(fun, (np.array([1.0, 2.0, 3.0, 0.5]),), (np.array([3.0, -1.0, 2.0, 0.0]),))


@pytest.mark.parametrize(
    "fun, name",
    [
        (lambda n: anp.zeros(n), "zeros"),
        (lambda n: anp.eye(n), "eye"),
        (lambda n: anp.tril_indices_from(np.ones((3, 3)), n), "tril_indices_from"),
        (lambda n: anp.array_str(n[None]), "array_str"),
    ],
)
def test_static_functions_refuse_traced_values(fun, name):
    refuses(fun, np.array(2), function=name, advice="reads this argument's values")
    refuses(
        lambda x: fun(anp.argmax(x)),
        np.array([0.0, 1.0, 5.0]),
        function=name,
        advice="reads this argument's values",
    )
    # Eager transforms read them.
    grad = ad.grad(lambda x: anp.sum(x) + 0.0 * len(np.atleast_1d(fun(anp.argmax(x)))))(
        np.array([0.0, 1.0, 5.0])
    )
    np.testing.assert_array_equal(grad, [1.0, 1.0, 1.0])


def test_static_functions_of_shapes_stage():
    assert_staged(
        lambda x: anp.zeros_like(x) + anp.ones(anp.shape(x)) * anp.size(x) * x,
        (np.array([1.0, 2.0]),),
        (np.array([3.0, 4.0]),),
    )
