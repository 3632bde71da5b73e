"""adfun.scipy.signal: convolve and correlate against SciPy, and autograd's axes/dot_axes.

The primitives ``signal.convolve`` and ``signal.correlate`` are also checked against
finite differences (both modes, second order) by test_rules.py and under staging by
test_staging.py, on their declared domains.  Here: values equal SciPy's on plain and
traced arguments (every mode and method), derivatives of SciPy's layout and of
autograd's, autograd's semantics for ``axes`` / ``dot_axes`` against an explicit loop,
and every error.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

scipy = pytest.importorskip("scipy")
import scipy.signal  # noqa: E402, F811 - loads the submodule

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402
from adfun._engine.trace import full_value  # noqa: E402
from adfun.scipy import signal  # noqa: E402

from _checking import check  # noqa: E402

RNG = np.random.default_rng(19)
MODES = ["full", "valid", "same"]
METHODS = ["auto", "direct", "fft"]

#: Pairs of shapes in SciPy's layout: longer first, longer second, equal, 0-d to 3-d.
SHAPES = [
    ((), ()),
    ((5,), (3,)),
    ((3,), (6,)),
    ((4,), (4,)),
    ((1,), (3,)),
    ((4, 5), (2, 3)),
    ((2, 3), (4, 5)),
    ((4, 5), (3, 2)),
    ((3, 4, 2), (2, 2, 2)),
]


def _traced_value(fun, *args):
    out, _ = ad.vjp(fun, *args)
    return full_value(out)


def _scipy_accepts(name, a, b, mode):
    try:
        getattr(scipy.signal, name)(a, b, mode)
    except ValueError:
        return False
    return True


def _loop_reference(a, b, axes, dot_axes, mode):
    """autograd's ``convolve(a, b, axes, dot_axes, mode)``, by an explicit loop.

    Output axes: the kept axes of ``a``, those of ``b``, then the convolved ones; entry
    ``k`` of the full convolution sums ``a[.., j, ..] b[.., k - j, ..]`` over ``j`` and the
    contracted axes; 'valid' keeps the complete overlaps, 'same' the entries centred like
    ``a``.
    """
    (a_conv, b_conv), (a_dot, b_dot) = axes, dot_axes
    a_kept = [axis for axis in range(a.ndim) if axis not in a_conv and axis not in a_dot]
    b_kept = [axis for axis in range(b.ndim) if axis not in b_conv and axis not in b_dot]
    at = a.transpose(a_kept + list(a_dot) + list(a_conv))
    bt = b.transpose(b_kept + list(b_dot) + list(b_conv))
    n_dot = len(a_dot)
    a_sizes = at.shape[len(a_kept) + n_dot :]
    b_sizes = bt.shape[len(b_kept) + n_dot :]
    full_sizes = tuple(n1 + n2 - 1 for n1, n2 in zip(a_sizes, b_sizes))
    full = np.zeros(at.shape[: len(a_kept)] + bt.shape[: len(b_kept)] + full_sizes)
    a_contracted = list(range(len(a_kept), len(a_kept) + n_dot))
    b_contracted = list(range(len(b_kept), len(b_kept) + n_dot))
    for j in np.ndindex(*a_sizes):
        for i in np.ndindex(*b_sizes):
            k = tuple(x + y for x, y in zip(j, i))
            term = np.tensordot(
                at[(Ellipsis, *j)], bt[(Ellipsis, *i)], axes=(a_contracted, b_contracted)
            )
            full[(Ellipsis, *k)] += term
    cuts = []
    for n1, n2 in zip(a_sizes, b_sizes):
        if mode == "full":
            cuts.append(slice(None))
        elif mode == "valid":
            cuts.append(slice(min(n1, n2) - 1, max(n1, n2)))
        else:
            start = (n2 - 1) // 2
            cuts.append(slice(start, start + n1))
    return full[(Ellipsis, *cuts)]


# --- values: SciPy's layout ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["convolve", "correlate"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", METHODS)
def test_values_equal_scipy_on_plain_and_traced_arguments(name, shapes, mode, method):
    a, b = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    if not _scipy_accepts(name, a, b, mode):
        pytest.skip("SciPy refuses this 'valid' case (tested with the errors)")
    expected = getattr(scipy.signal, name)(a, b, mode, method)
    ours = getattr(signal, name)
    np.testing.assert_array_equal(ours(a, b, mode, method), expected)
    for traced in (
        _traced_value(lambda a, b: ours(a, b, mode, method), a, b),
        _traced_value(lambda a: ours(a, b, mode=mode, method=method), a),
        _traced_value(lambda b: ours(a, b, mode=mode, method=method), b),
    ):
        assert traced.shape == np.shape(expected)
        np.testing.assert_array_equal(traced, expected)


@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_float32_stays_float32(name):
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    b = RNG.standard_normal((2, 2)).astype(np.float32)
    value = _traced_value(lambda a, b: getattr(signal, name)(a, b), a, b)
    assert value.dtype == np.float32
    gradient = ad.grad(lambda a: anp.sum(getattr(signal, name)(a, b) ** 2))(a)
    assert gradient.dtype == np.float32


# --- derivatives: SciPy's layout -------------------------------------------------------------


@pytest.mark.parametrize("name", ["convolve", "correlate"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_derivatives_in_both_arguments(name, shapes, mode):
    a, b = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    if not _scipy_accepts(name, a, b, mode):
        pytest.skip("SciPy refuses this 'valid' case")
    fun = getattr(signal, name)
    check(lambda a, b: fun(a, b, mode), (a, b))


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_derivatives_with_each_method(method):
    a, b = RNG.standard_normal((6, 5)), RNG.standard_normal((4, 2))
    check(lambda a, b: signal.convolve(a, b, "same", method), (a, b), order=1)
    check(lambda a, b: signal.correlate(a, b, "valid", method), (a, b), order=1)


def test_same_mode_gradient_with_an_even_kernel_is_the_transpose():
    # The reverse rule of 'same' with an even kernel is not a SciPy mode: check it is the
    # transpose of the linear map, column by column.
    a, b = RNG.standard_normal(5), RNG.standard_normal(4)
    matrix = np.stack([scipy.signal.convolve(e, b, "same") for e in np.eye(5)], axis=1)
    g = RNG.standard_normal(5)
    gradient = ad.grad(lambda a: anp.sum(g * signal.convolve(a, b, "same")))(a)
    np.testing.assert_allclose(gradient, matrix.T @ g, rtol=1e-12, atol=1e-14)


@given(
    st.integers(1, 2).flatmap(
        lambda ndim: st.tuples(
            st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim),
            st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim),
        )
    ),
    st.sampled_from(MODES),
    st.sampled_from(["convolve", "correlate"]),
    st.integers(0, 2**31 - 1),
)
def test_random_shapes_against_scipy_in_both_modes(shapes, mode, name, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    if not _scipy_accepts(name, a, b, mode):
        return
    fun = getattr(signal, name)
    np.testing.assert_array_equal(
        _traced_value(lambda a, b: fun(a, b, mode), a, b),
        getattr(scipy.signal, name)(a, b, mode),
    )
    check(lambda a, b: fun(a, b, mode), (a, b), order=1)


def test_jvp_and_vjp_agree_with_the_matrix_of_the_linear_map():
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((2, 3))
    t = RNG.standard_normal((3, 4))
    _, tangent = ad.jvp(lambda a: signal.convolve(a, b, "valid"), (a,), (t,))
    np.testing.assert_allclose(tangent, scipy.signal.convolve(t, b, "valid"), rtol=1e-12)
    _, tangent = ad.jvp(lambda b: signal.correlate(a, b), (b,), (t[:2, :3],))
    np.testing.assert_allclose(tangent, scipy.signal.correlate(a, t[:2, :3]), rtol=1e-12)


# --- autograd's axes and dot_axes ---------------------------------------------------------------

#: ``(shape1, shape2, axes, dot_axes)`` in autograd's layout (its own tests and convnet).
LAYOUTS = [
    ((3, 5), (3, 4), ([1], [0]), None),
    ((3, 5), (3, 4), ([], []), ([0], [0])),
    ((3, 5), (3, 4, 2), ([1], [2]), ([0], [0])),
    ((2, 5, 4, 3), (2, 4, 2, 3, 2), ([1, 2], [2, 4]), ([0, 3], [0, 3])),
    ((2, 5, 4, 3), (3, 4, 2, 2, 2), ([1, 2], [2, 4]), ([0, 3], [3, 0])),  # crossed dots
    ((4, 3), (3, 2), ([0], [0]), None),
    ((4, 3), (3, 2), ([1], [1]), None),
    ((4, 3), (3, 2), ([0], [1]), None),
    ((4, 3), (3, 2), ([1], [0]), None),
    ((4, 3), (3, 2), ([1, 0], [1, 0]), None),
    ((3, 3, 2), (3, 2, 3), ([1], [1]), ([0], [2])),
    ((3, 3, 2), (3, 2, 3), ([1], [1]), ([0], [0])),
    ((2, 1, 6, 5), (1, 3, 3, 2), ([2, 3], [2, 3]), ([1], [0])),  # convnet: images, filters
    ((2, 5, 4), (2, 4, 3), ([-1, 1], [1, 2]), ([0], [0])),  # negative axes, reordered
]


def _valid_ok(shape1, shape2, axes):
    pairs = [(shape1[i], shape2[j]) for i, j in zip(*axes)]
    return all(x >= y for x, y in pairs) or all(y >= x for x, y in pairs)


@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_axes_and_dot_axes_follow_autograd(layout, mode):
    shape1, shape2, axes, dot_axes = layout
    if mode == "valid" and not _valid_ok(shape1, shape2, axes):
        pytest.skip("no complete overlap")
    a, b = RNG.standard_normal(shape1), RNG.standard_normal(shape2)
    normalized = tuple(tuple(axis % len(s) for axis in ax) for ax, s in zip(axes, (shape1, shape2)))
    expected = _loop_reference(a, b, normalized, dot_axes or ((), ()), mode)
    kwargs = {"axes": axes, "dot_axes": dot_axes, "mode": mode}
    np.testing.assert_allclose(signal.convolve(a, b, **kwargs), expected, rtol=1e-12, atol=1e-12)
    traced = _traced_value(lambda a, b: signal.convolve(a, b, **kwargs), a, b)
    np.testing.assert_allclose(traced, expected, rtol=1e-12, atol=1e-12)
    check(lambda a, b: signal.convolve(a, b, **kwargs), (a, b), order=1)


@given(st.data())
def test_random_layouts_of_the_domain_against_the_loop(data):
    (a, b), params = data.draw(
        st.composite(lambda draw: signal._convolve_examples(draw, st, hnp))()
    )
    axes, dot_axes = params["axes"], params["dot_axes"]
    # The domain stores windows; the mode they came from is the one whose window matches.
    pairs = [(a.shape[i], b.shape[j]) for i, j in zip(*axes)]
    modes = [mode for mode in MODES if _window_or_none(pairs, mode) == params["window"]]
    expected = _loop_reference(a, b, axes, dot_axes, modes[0])
    value = _traced_value(
        lambda a, b: signal.convolve(a, b, modes[0], axes=axes, dot_axes=dot_axes), a, b
    )
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)


def _window_or_none(pairs, mode):
    try:
        return signal._window("convolve", pairs, mode)
    except ValueError:
        return None


def test_autograd_generalization_cases_against_scipy():
    # autograd's own test of the generalization, restated with SciPy.
    a35, a34 = RNG.standard_normal((3, 5)), RNG.standard_normal((3, 4))
    a342, a2543 = RNG.standard_normal((3, 4, 2)), RNG.standard_normal((2, 5, 4, 3))
    a24232 = RNG.standard_normal((2, 4, 2, 3, 2))
    for mode in ["valid", "full"]:
        np.testing.assert_allclose(
            signal.convolve(a35, a34, axes=([1], [0]), mode=mode)[1, 2],
            scipy.signal.convolve(a35[1, :], a34[:, 2], mode),
        )
        np.testing.assert_allclose(
            signal.convolve(a35, a34, axes=([], []), dot_axes=([0], [0]), mode=mode),
            np.tensordot(a35, a34, axes=([0], [0])),
        )
        np.testing.assert_allclose(
            signal.convolve(a35, a342, axes=([1], [2]), dot_axes=([0], [0]), mode=mode)[2],
            sum(scipy.signal.convolve(a35[i, :], a342[i, 2, :], mode) for i in range(3)),
        )
        np.testing.assert_allclose(
            signal.convolve(
                a2543, a24232, axes=([1, 2], [2, 4]), dot_axes=([0, 3], [0, 3]), mode=mode
            )[2],
            sum(
                scipy.signal.convolve(a2543[i, :, :, j], a24232[i, 2, :, j, :], mode)
                for i in range(2)
                for j in range(3)
            ),
        )


def test_convnet_layer_and_its_gradient_under_jit():
    images = RNG.standard_normal((4, 2, 7, 6))
    filters = RNG.standard_normal((2, 3, 3, 2))
    expected = np.zeros((4, 3, 5, 5))
    for n in range(4):
        for o in range(3):
            for c in range(2):
                expected[n, o] += scipy.signal.convolve2d(images[n, c], filters[c, o], "valid")

    def layer(filters, images):
        return signal.convolve(
            images, filters, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode="valid"
        )

    np.testing.assert_allclose(layer(filters, images), expected, rtol=1e-12)

    def loss(filters, images):
        return anp.sum(anp.tanh(layer(filters, images)) ** 2)

    eager = ad.grad(loss)(filters, images)
    staged = ad.jit(ad.grad(loss))
    np.testing.assert_array_equal(staged(filters, images), eager)
    other = RNG.standard_normal(images.shape)
    np.testing.assert_array_equal(staged(filters, other), ad.grad(loss)(filters, other))


def test_scipy_layout_through_axes_uses_scipy():
    a, b = RNG.standard_normal((4, 5)), RNG.standard_normal((2, 3))
    np.testing.assert_array_equal(
        signal.convolve(a, b, "same", axes=([0, 1], [0, 1])), scipy.signal.convolve(a, b, "same")
    )


def test_plain_lists_and_zero_d_arguments():
    np.testing.assert_allclose(
        signal.convolve([[1.0, 2.0]], [[3.0], [4.0]], axes=([1], [0])),
        _loop_reference(
            np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]]), ((1,), (0,)), ((), ()), "full"
        ),
    )
    assert ad.grad(lambda x: signal.convolve(x, 3.0))(2.0) == 3.0
    assert ad.grad(lambda x: signal.correlate(2.0, x))(5.0) == 2.0


# --- errors ---------------------------------------------------------------------------------------


def _grad_of(fun):
    return ad.grad(lambda a: anp.sum(fun(a)))


@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_errors_of_both_functions(name):
    fun = getattr(signal, name)
    a = np.ones(3)
    with pytest.raises(
        ValueError, match=rf"signal\.{name}: mode must be 'full', 'valid' or 'same', got 'wide'"
    ):
        _grad_of(lambda a: fun(a, np.ones(2), "wide"))(a)
    with pytest.raises(
        ValueError, match=rf"signal\.{name}: method must be 'auto', 'direct' or 'fft', got 'fast'"
    ):
        _grad_of(lambda a: fun(a, np.ones(2), "full", "fast"))(a)
    with pytest.raises(
        ValueError,
        match=rf"signal\.{name}: in1 and in2 should have the same dimensionality, "
        r"got shapes \(3,\) and \(2, 2\)",
    ):
        _grad_of(lambda a: fun(a, np.ones((2, 2))))(a)
    with pytest.raises(
        ValueError,
        match=rf"signal\.{name}: for 'valid' mode one argument must be at least as large",
    ):
        ad.grad(lambda a: anp.sum(fun(a, np.ones((2, 3)), "valid")))(np.ones((3, 2)))
    with pytest.raises(
        ValueError, match=rf"signal\.{name}: in1 and in2 cannot be empty along a convolved axis"
    ):
        _grad_of(lambda a: fun(a, np.ones(0)))(a)


def test_mode_given_where_autograd_puts_axes_says_to_use_keywords():
    with pytest.raises(ValueError, match=r"convolve: mode must be .* \(autograd passes axes"):
        signal.convolve(np.ones((2, 2)), np.ones((2, 2)), ([1], [0]))
    with pytest.raises(
        ValueError, match=r"mode must be .* got \(\[1\], \[0\]\) \(autograd passes axes"
    ):
        _grad_of(lambda a: signal.convolve(a, np.ones((2, 2)), ([1], [0])))(np.ones((2, 2)))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"axes": [0]},
            TypeError,
            r"axes must be a pair of axis lists, one for in1 and one for in2",
        ),
        ({"axes": ([0, 1], [0])}, ValueError, r"axes pairs axes .* must have the same length"),
        (
            {"axes": ([2], [0])},
            ValueError,
            r"axis 2 of axes is out of bounds for in1, which has 2 dimension",
        ),
        ({"axes": ([0.5], [0])}, TypeError, r"axes must hold integer axes, got 0.5"),
        (
            {"axes": ([0], [0]), "dot_axes": ([0], [1])},
            ValueError,
            r"an axis of in1 appears twice in axes and dot_axes",
        ),
        (
            {"axes": ([0], [0]), "dot_axes": ([1], [1])},
            ValueError,
            r"dot_axes pairs axis 1 of in1 \(size 3\) with axis 1 of in2 \(size 4\); "
            r"contracted axes must have the same size",
        ),
        (
            {"dot_axes": ([1], [1])},
            ValueError,
            r"dot_axes needs axes too: say which axes to convolve",
        ),
        (
            {"axes": ([0, 1], [0, 1]), "mode": "valid"},
            ValueError,
            r"for 'valid' mode one argument must be at least as large as the other along "
            r"every convolved axis, got sizes \[\(2, 3\), \(3, 2\)\]",
        ),
    ],
)
def test_errors_of_axes_and_dot_axes(kwargs, error, message):
    a, b = np.ones((2, 3)), np.ones((3, 4))
    kwargs = dict(kwargs)
    kwargs["mode"] = kwargs.get("mode", "full")
    if kwargs["mode"] == "valid":
        b = np.ones((3, 2))
    for call in (
        lambda: signal.convolve(a, b, **kwargs),  # plain values: same checks
        lambda: _grad_of(lambda a: signal.convolve(a, b, **kwargs))(a),
    ):
        with pytest.raises(error, match=r"adfun\.scipy\.signal\.convolve: " + message):
            call()
