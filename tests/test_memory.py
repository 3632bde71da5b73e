"""Memory: repeated transforms do not grow memory, graphs die with their transform.

* 10,000 calls of ``grad``, ``vjp``, ``jvp`` and the imperative ``record``/``backward``
  loop, and 1,000 of the composite workloads (nested, forward-over-reverse, checkpointed,
  ``create_graph=True``, a call that raises), leave the traced memory where it was after a
  warm-up (``tracemalloc``; a leak of one small object per call would show).
* Everything a transform records (nodes and intermediate values) is freed by reference
  counting alone as soon as the transform returns (weak references die with the garbage
  collector disabled, and ``gc.collect()`` finds nothing to collect): no reference cycle
  keeps a graph alive.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun import autograd, nd
from adfun._engine.trace import Tracer

CALLS = 10_000
#: The cheaper loop for the composite workloads (nested, forward-over-reverse, ...).
FEWER_CALLS = 1_000
#: The workloads run CALLS times; the others FEWER_CALLS times.
MAIN_WORKLOADS = ("grad", "vjp", "jvp", "record_backward")
#: Traced-memory growth allowed over CALLS calls: NumPy's and Python's caches settle within
#: a few KiB; a leak of 10 bytes per call would already exceed it.
ALLOWED_GROWTH = 96 * 1024


def _loss(x):
    return anp.sum(anp.tanh(x) ** 2 * anp.exp(-x))


X = np.linspace(-1.0, 1.0, 5)
V = np.ones(5)


def _imperative_step(variable, retain_graph=False):
    with autograd.record():
        y = (variable * 2.0 * variable).sum()
    y.backward(retain_graph=retain_graph)


def _imperative_grad(variable):
    with autograd.record():
        y = nd.sin(variable) * variable
        (dy,) = autograd.grad(y, [variable], create_graph=True)
    dy.backward()


def _failing_grad():
    with pytest.raises(TypeError, match="must return a scalar"):
        ad.grad(lambda x: x * 2.0)(X)


def _raising(x):
    y = anp.sin(x) * 2.0
    raise ValueError(f"stop at {y.shape}")


def _error_inside_function():
    with pytest.raises(ValueError, match="stop at"):
        ad.grad(_raising)(X)


_VARIABLE = nd.array(X)
_VARIABLE.attach_grad()

WORKLOADS = {
    "grad": lambda: ad.grad(_loss)(X),
    "value_and_grad": lambda: ad.value_and_grad(_loss)(X),
    "vjp": lambda: ad.vjp(_loss, X)[1](1.0),
    "jvp": lambda: ad.jvp(_loss, (X,), (V,)),
    "grad_of_grad": lambda: ad.grad(ad.grad(lambda x: anp.sin(x) * x))(0.3),
    "hvp": lambda: ad.hvp(_loss)(X, V),
    "checkpoint": lambda: ad.grad(ad.checkpoint(_loss))(X),
    "record_backward": lambda: _imperative_step(_VARIABLE),
    "record_backward_retain_graph": lambda: _imperative_step(_VARIABLE, retain_graph=True),
    "autograd_grad_create_graph": lambda: _imperative_grad(_VARIABLE),
    "failing_grad": _failing_grad,
    "error_inside_function": _error_inside_function,
}


def _traced_growth(workload, calls):
    for _ in range(200):  # warm-up: caches, lazily built tables
        workload()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(calls):
            workload()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_no_memory_growth_over_many_calls(name):
    calls = CALLS if name in MAIN_WORKLOADS else FEWER_CALLS
    growth = _traced_growth(WORKLOADS[name], calls)
    assert growth < ALLOWED_GROWTH, f"{name}: {growth} bytes more after {calls} calls"


def test_growth_check_detects_a_leak():
    """The measurement above is sensitive enough to see a leak of one small object per call."""
    kept = []

    def leaky():
        ad.grad(_loss)(X)
        kept.append(bytes(160))  # about 200 bytes with the list slot

    assert _traced_growth(leaky, FEWER_CALLS) > ALLOWED_GROWTH


# --- intermediates die with the transform ----------------------------------------------


class _Spy:
    """Collects weak references to the nodes and values a traced function creates."""

    def __init__(self):
        self.refs = []

    def watch(self, tracer):
        if type(tracer) is not Tracer:  # a checkpoint's plain forward run: nothing traced
            return tracer
        self.refs.append(weakref.ref(tracer.node))
        value = tracer.value
        while type(value) is type(tracer):  # nested transforms: watch every level
            self.refs.append(weakref.ref(value.node))
            value = value.value
        if isinstance(value, np.ndarray):
            self.refs.append(weakref.ref(value))
        return tracer

    def alive(self):
        return sum(ref() is not None for ref in self.refs)


def _watched(spy):
    def fun(x):
        a = spy.watch(anp.sin(x))
        b = spy.watch(a * x)
        c = spy.watch(anp.exp(-b))
        return spy.watch(anp.sum(c * a))

    return fun


def _no_gc(call):
    """Run ``call`` with the collector off: only reference counting may free things."""
    gc.collect()
    gc.disable()
    try:
        call()
    finally:
        gc.enable()


TRANSFORMS = {
    "grad": lambda f: ad.grad(f)(X),
    "value_and_grad": lambda f: ad.value_and_grad(f)(X),
    "elementwise_grad": lambda f: ad.elementwise_grad(f)(X),
    "vjp": lambda f: ad.vjp(f, X)[1](1.0),
    "jvp": lambda f: ad.jvp(f, (X,), (V,)),
    "jacfwd": lambda f: ad.jacfwd(f)(X),
    "jacrev": lambda f: ad.jacrev(f)(X),
    "hessian": lambda f: ad.hessian(f)(X),
    "hvp": lambda f: ad.hvp(f)(X, V),
    "checkpoint": lambda f: ad.grad(ad.checkpoint(f))(X),
    "grad_of_grad": lambda f: ad.grad(lambda y: ad.grad(f)(y * X).sum())(0.5),
    "trace_then_drop": lambda f: ad.trace(f)(X),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_intermediates_are_freed_when_the_transform_returns(name):
    spy = _Spy()
    _no_gc(lambda: TRANSFORMS[name](_watched(spy)))
    assert spy.refs, "the spy saw no intermediate"
    assert spy.alive() == 0, f"{spy.alive()} of {len(spy.refs)} intermediates still alive"


def test_vjp_keeps_its_graph_exactly_as_long_as_vjp_fn():
    spy = _Spy()
    holder = {}

    def run():
        out, holder["vjp_fn"] = ad.vjp(_watched(spy), X)
        holder["vjp_fn"](1.0)

    _no_gc(run)
    assert spy.alive() > 0  # the graph is what vjp_fn differentiates
    gc.disable()
    try:
        del holder["vjp_fn"]
        assert spy.alive() == 0
    finally:
        gc.enable()


def test_recorded_graph_dies_with_its_arrays():
    spy = _Spy()
    x = nd.array(X)
    x.attach_grad()

    def run():
        with autograd.record():
            y = x * 2.0
            spy.watch(y._tracer)
            z = (nd.sin(y) * x).sum()
            spy.watch(z._tracer)
        z.backward()

    _no_gc(run)
    assert spy.alive() == 0
    assert x.grad.shape == X.shape


@pytest.mark.parametrize(
    "name", ["grad", "vjp", "jvp", "record_backward", "failing_grad", "error_inside_function"]
)
def test_no_reference_cycles(name):
    """The collector finds nothing to free after many calls: no cyclic garbage at all."""
    workload = WORKLOADS[name]
    workload()
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            workload()
        collected = gc.collect()
    finally:
        gc.enable()
    assert collected == 0


# --- what the backward pass keeps ------------------------------------------------------

ROWS = 200_000
STEPS = 8


def test_backward_releases_intermediates_it_no_longer_needs():
    """At the last VJP of a chain, only the incoming cotangent is still alive.

    ``grad`` hands its graph to the reverse pass, which consumes the trace's node list, so
    each node (and its value) is freed once the pass is past it.  Before that, all STEPS
    forward intermediates were alive there (STEPS + 1 arrays with the cotangent).
    """
    live = {}

    @ad.primitive
    def probe(x):
        return x

    def measure(g, ans, x):
        live["bytes"] = tracemalloc.get_traced_memory()[0]
        return g

    probe.defvjp(measure)

    def chain(x):
        x = probe(x)
        for _ in range(STEPS):
            x = anp.sin(x)
        return anp.sum(x)

    x = np.random.default_rng(0).random(ROWS)
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        ad.grad(chain)(x)
    finally:
        tracemalloc.stop()
    arrays = (live["bytes"] - start) / x.nbytes
    # At the last VJP only the incoming cotangent (and the input itself) are needed.
    assert arrays < 3, f"{arrays:.1f} arrays of the forward pass alive at the last VJP step"
