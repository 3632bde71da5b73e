"""Forward values shared with the reverse rules (``adfun._engine.sharing``).

In a reverse pass over a graph nobody else holds (``grad``), a rule that applies an
elementwise function to a large argument the forward pass applied it to gets the forward
value (read-only) instead of computing it again: ``cos(x)`` for the rule of ``sin``,
``sin(x)`` for that of ``cos``.  These tests check that the values are right, that the
sharing happens where it should and nowhere else, that nothing shared is ever written
into (forward values, user arrays, cotangents handed to rules), that higher-order and
staged derivatives are unchanged, and that the memo dies with its pass.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun._engine import sharing
from adfun._engine.sharing import MIN_SIZE, Sharing, current_sharing, read_only
from adfun.numpy._fast import negate_fresh, scale_fresh

N = 2 * MIN_SIZE


def _w3(x):
    return anp.sum(anp.sin(x) ** 2 + anp.exp(-x) * anp.cos(x))


def _w3_gradient(x):
    return np.sin(2 * x) - np.exp(-x) * (np.cos(x) + np.sin(x))


def _w3_second(x):
    """The second derivative of the summand of :func:`_w3`."""
    return 2 * np.cos(2 * x) + 2 * np.exp(-x) * np.sin(x)


@pytest.fixture
def x():
    return np.random.default_rng(0).standard_normal(N)


@pytest.fixture
def lookups(monkeypatch):
    """Every lookup of the passes: ``(primitive name, shared?)``."""
    seen: list = []
    lookup = Sharing.lookup

    def recording(self, primitive, value):
        result = lookup(self, primitive, value)
        seen.append((primitive.name, result is not None))
        return result

    monkeypatch.setattr(Sharing, "lookup", recording)
    return seen


@pytest.fixture
def handed_out(monkeypatch):
    """Every shared value handed to a rule, with a copy of its values at that time."""
    seen: list = []

    def recording(value):
        view = read_only(value)
        seen.append((view, view.copy()))
        return view

    monkeypatch.setattr(sharing, "read_only", recording)
    return seen


# --- what is shared ----------------------------------------------------------------------


def test_grad_shares_sin_and_cos_and_is_exact(x, lookups):
    gradient = ad.grad(_w3)(x)
    np.testing.assert_allclose(gradient, _w3_gradient(x), rtol=1e-12, atol=1e-12)
    shared = {name for name, hit in lookups if hit}
    assert shared == {"sin", "cos"}


def test_shared_gradient_equals_the_unshared_one_bit_for_bit(x, monkeypatch):
    shared = ad.grad(_w3)(x)
    monkeypatch.setattr(sharing.Sharing, "lookup", lambda self, primitive, value: None)
    monkeypatch.setattr(sharing.Sharing, "offer", lambda self, primitive, value, ans: None)
    recomputed = ad.grad(_w3)(x)
    np.testing.assert_array_equal(shared, recomputed)


@pytest.mark.parametrize("first", ["sin", "cos"])
def test_either_order_of_the_forward_calls_shares(x, lookups, first):
    """The node later in the forward order finds the earlier one in the order; the earlier
    one gets the later one's value kept for it (the pass has freed that node by then)."""

    def f(v):
        a, b = (anp.sin(v), anp.cos(v)) if first == "sin" else (anp.cos(v), anp.sin(v))
        return anp.sum(a * b)

    gradient = ad.grad(f)(x)
    np.testing.assert_allclose(gradient, np.cos(2 * x), rtol=1e-12, atol=1e-12)
    assert {name for name, hit in lookups if hit} == {"sin", "cos"}


def test_value_and_grad_and_elementwise_grad_share(x, lookups):
    value, gradient = ad.value_and_grad(_w3)(x)
    assert value == pytest.approx(float(np.sum(np.sin(x) ** 2 + np.exp(-x) * np.cos(x))))
    np.testing.assert_allclose(gradient, _w3_gradient(x), rtol=1e-12, atol=1e-12)
    elementwise = ad.elementwise_grad(lambda v: anp.sin(v) * anp.cos(v))(x)
    np.testing.assert_allclose(elementwise, np.cos(2 * x), rtol=1e-12, atol=1e-12)
    assert sum(hit for _, hit in lookups) >= 4


def test_small_arrays_are_not_looked_up(lookups):
    small = np.linspace(-1.0, 1.0, MIN_SIZE - 1)
    np.testing.assert_allclose(ad.grad(_w3)(small), _w3_gradient(small), rtol=1e-12, atol=1e-12)
    ad.grad(lambda v: anp.tanh(anp.sin(v * 0.9 + 0.1)))(0.3)
    assert lookups == []


def test_vjp_shares_nothing_and_sees_its_own_values(x, lookups):
    """The outputs of ``vjp`` are the user's: the pass of ``vjp_fn`` recomputes instead of
    reading values the user may have changed."""
    (s, c), vjp_fn = ad.vjp(lambda v: (anp.sin(v), anp.cos(v)), x)
    s[...] = 100.0  # the user's arrays: changing them must not change the derivative
    c[...] = -7.0
    ones = np.ones(N)
    (gradient,) = vjp_fn((ones, ones))
    np.testing.assert_allclose(gradient, np.cos(x) - np.sin(x), rtol=1e-12, atol=1e-12)
    assert lookups == []


def test_no_gradient_shares_memory_with_an_auxiliary_output(x, lookups):
    """``cos(x)``, computed for the auxiliary output only, serves the rule of ``sin``; the
    gradient ``1 * cos(x)`` must still be an array of its own, not a view of ``aux``."""

    def f(v):
        c = anp.cos(v)  # before sin: still in the order when the rule of sin runs
        return anp.sum(anp.sin(v)), c

    gradient, aux = ad.grad(f, has_aux=True)(x)
    assert ("cos", True) in lookups
    assert gradient.flags.writeable and not np.shares_memory(gradient, aux)
    aux[...] = 0.0
    np.testing.assert_allclose(gradient, np.cos(x), rtol=1e-12, atol=1e-12)


def test_a_different_argument_object_is_not_shared(x, lookups):
    """Sharing is by identity: ``cos`` of an equal copy of ``x`` is computed."""

    def f(v):
        return anp.sum(anp.sin(v) * anp.cos(v * 1.0))

    gradient = ad.grad(f)(x)
    expected = np.cos(x) ** 2 - np.sin(x) ** 2
    np.testing.assert_allclose(gradient, expected, rtol=1e-12, atol=1e-12)
    assert not any(hit for _, hit in lookups)


# --- nothing shared is written into --------------------------------------------------------


def test_shared_values_are_read_only_and_never_modified(x, handed_out):
    before = x.copy()
    ad.grad(_w3)(x)
    ad.grad(lambda v: anp.sum(anp.cos(v) * anp.sin(v) + anp.sin(v) ** 3))(x)
    assert handed_out
    for view, copy in handed_out:
        assert not view.flags.writeable
        np.testing.assert_array_equal(view, copy)
    np.testing.assert_array_equal(x, before)


def test_fresh_paths_do_not_write_into_read_only_arrays():
    value = np.linspace(0.0, 1.0, N)
    shared = read_only(value)
    seed = np.full(N, 3.0)
    np.testing.assert_array_equal(scale_fresh(shared, seed), 3.0 * value)
    np.testing.assert_array_equal(negate_fresh(shared), -value)
    np.testing.assert_array_equal(value, np.linspace(0.0, 1.0, N))
    ones = np.broadcast_to(np.float64(1.0), (N,))
    copied = scale_fresh(shared, ones)  # the shortcut copies a shared value
    assert copied.flags.writeable and not np.shares_memory(copied, value)
    np.testing.assert_array_equal(copied, value)
    fresh = value.copy()
    assert scale_fresh(fresh, seed) is fresh  # a writeable temporary is still reused
    assert negate_fresh(fresh) is fresh


def test_read_only_keeps_read_only_arrays_and_views_writeable_ones():
    value = np.arange(5.0)
    view = read_only(value)
    assert view.base is value and not view.flags.writeable and value.flags.writeable
    assert read_only(view) is view


def test_cotangents_handed_to_rules_are_never_modified(x):
    """The pass adds contributions in place only into sums it made itself."""
    seen: list = []

    @ad.primitive
    def probe(v):
        return v * 1.0

    def remember(g, ans, v):
        seen.append((g, g.copy()))
        return g

    probe.defvjp(remember)

    def f(v):
        p = probe(v)
        q = probe(v)
        r = probe(v)
        return anp.sum(p * p + anp.sin(q) + 3.0 * r + anp.cos(v))

    gradient = ad.grad(f)(x)
    np.testing.assert_allclose(
        gradient, 2 * x + np.cos(x) + 3.0 - np.sin(x), rtol=1e-12, atol=1e-12
    )
    assert len(seen) == 3
    for g, copy in seen:
        np.testing.assert_array_equal(g, copy)


def test_the_users_seed_is_never_modified(x):
    seed = np.linspace(1.0, 2.0, N)
    before = seed.copy()
    _, vjp_fn = ad.vjp(lambda v: anp.sin(v) + v + anp.cos(v) * 2.0, x)
    (gradient,) = vjp_fn(seed)
    np.testing.assert_allclose(gradient, seed * (np.cos(x) + 1.0 - 2.0 * np.sin(x)))
    np.testing.assert_array_equal(seed, before)


def test_in_place_sums_keep_the_result_dtype():
    """A complex contribution to a real sum is not added in place (it would not fit)."""
    x = np.linspace(0.1, 1.0, N)

    def f(v):
        z = v * (1.0 + 2.0j)
        return anp.sum(anp.real(z * z)) + anp.sum(v * v) + anp.sum(anp.sin(v))

    gradient = ad.grad(f)(x)
    np.testing.assert_allclose(gradient, -6.0 * x + 2.0 * x + np.cos(x), rtol=1e-12)


# --- higher order and staging --------------------------------------------------------------


def test_grad_of_grad(x, lookups):
    w = np.linspace(0.5, 1.5, N)
    second = ad.grad(lambda v: anp.sum(ad.grad(_w3)(v) * w))(x)
    np.testing.assert_allclose(second, w * _w3_second(x), rtol=1e-10, atol=1e-10)
    assert any(hit for _, hit in lookups)  # the outer pass shares


def test_jvp_of_grad_and_hvp(x):
    v = np.linspace(-1.0, 1.0, N)
    _, tangent = ad.jvp(ad.grad(_w3), (x,), (v,))
    np.testing.assert_allclose(tangent, _w3_second(x) * v, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ad.hvp(_w3)(x, v), _w3_second(x) * v, rtol=1e-10, atol=1e-10)


def test_hessian_with_sharing_on_small_arrays(monkeypatch):
    """The Hessian (a reverse pass nested in others) with sharing from one element on."""
    monkeypatch.setattr(sharing, "MIN_SIZE", 1)
    monkeypatch.setattr("adfun.numpy._declare.SHARED_SIZE", 1)
    x = np.linspace(-1.0, 1.0, 6)
    hessian = ad.hessian(_w3)(x)
    np.testing.assert_allclose(hessian, np.diag(_w3_second(x)), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ad.grad(_w3)(x), _w3_gradient(x), rtol=1e-12, atol=1e-12)


def test_jit_of_grad_is_unchanged(x):
    staged = ad.jit(ad.grad(_w3))
    for point in (x, x[::-1].copy()):
        np.testing.assert_allclose(staged(point), _w3_gradient(point), rtol=1e-12, atol=1e-12)


def test_checkpointed_pass_inside_a_sharing_pass(x, lookups):
    """A checkpoint's own (nested) pass shares nothing; the outer one still does."""
    inner = ad.checkpoint(lambda v: anp.sin(v) * anp.cos(v))

    def f(v):
        return anp.sum(inner(v) + anp.sin(v) ** 2 + anp.cos(v))

    gradient = ad.grad(f)(x)
    np.testing.assert_allclose(
        gradient, np.cos(2 * x) + np.sin(2 * x) - np.sin(x), rtol=1e-12, atol=1e-12
    )
    assert any(hit for _, hit in lookups)


# --- memory ------------------------------------------------------------------------------


def test_the_memo_dies_with_its_pass(x, handed_out):
    created: list = []
    init = Sharing.__init__

    def tracking(self, order):
        init(self, order)
        created.append(weakref.ref(self))

    Sharing.__init__ = tracking  # type: ignore[method-assign]
    try:
        gc.disable()
        ad.grad(_w3)(x)
        bases = [weakref.ref(view.base) for view, _ in handed_out]
        handed_out.clear()
        assert created and all(ref() is None for ref in created)
        assert bases and all(ref() is None for ref in bases)  # the forward values are freed
    finally:
        gc.enable()
        Sharing.__init__ = init  # type: ignore[method-assign]
    assert current_sharing.get() is None


def test_the_memo_is_reset_when_a_rule_raises(x):
    @ad.primitive
    def failing(v):
        return v * 1.0

    def rule(g, ans, v):
        assert current_sharing.get() is None  # a user rule shares nothing (review5)
        raise RuntimeError("rule failed")

    failing.defvjp(rule)
    with pytest.raises(RuntimeError, match="rule failed"):
        ad.grad(lambda v: anp.sum(anp.sin(failing(v))))(x)
    assert current_sharing.get() is None


def test_a_value_is_kept_only_for_a_node_still_to_come(x):
    """``offer`` keeps ``cos(x)`` while ``sin(x)`` waits, nothing in a plain chain."""
    kept_sizes: list = []
    offer = Sharing.offer

    def recording(self, primitive, value, ans):
        offer(self, primitive, value, ans)
        kept_sizes.append(len(self.kept))

    Sharing.offer = recording  # type: ignore[method-assign]
    try:
        ad.grad(lambda v: anp.sum(anp.sin(anp.sin(anp.sin(v)))))(x)
        assert kept_sizes and max(kept_sizes) == 0
        kept_sizes.clear()
        ad.grad(lambda v: anp.sum(anp.sin(v) * anp.cos(v)))(x)
        assert max(kept_sizes) == 1
    finally:
        Sharing.offer = offer  # type: ignore[method-assign]
