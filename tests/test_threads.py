"""Thread safety: 8 threads x 1,000 mixed transform calls, every result exactly as when run alone.

Each thread has its own functions and shapes, and interleaves ``grad``, ``jvp``, ``vjp``,
nested transforms (``grad`` of ``grad``, ``hvp``) and the imperative ``record`` /
``backward`` loop on its own variables.  Expected values are computed beforehand on the
main thread; every threaded result must equal them exactly (same operations, same
order, so the same floating-point numbers).
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun import autograd, nd

THREADS = 8
CALLS_PER_THREAD = 1_000


def _make_tasks(seed):
    """The calls one thread makes: (name, zero-argument callable) pairs."""
    rng = np.random.default_rng(seed)
    shape = ((seed % 3) + 1, (seed % 4) + 2)
    x = rng.normal(size=shape)
    v = rng.normal(size=shape)
    scale = 0.5 + seed / 10

    def f(x):
        return anp.sum(anp.tanh(x * scale) ** 2 + anp.sin(x) * seed)

    def g(x):
        return anp.exp(-x * scale) * anp.cos(x)

    variable = nd.array(x)
    variable.attach_grad()

    def imperative():
        with autograd.record():
            y = nd.sin(variable) * variable * scale
            z = (y * y).sum()
        z.backward()
        return variable.grad.asnumpy()

    def imperative_second_order():
        with autograd.record():
            y = nd.tanh(variable) * scale
            (dy,) = autograd.grad(y, [variable], create_graph=True)
            s = (dy * dy).sum()
        return autograd.grad(s, [variable])[0].asnumpy()

    return [
        ("grad", lambda: ad.grad(f)(x)),
        ("jvp", lambda: ad.jvp(g, (x,), (v,))),
        ("vjp", lambda: ad.vjp(g, x)[1](v)),
        ("record-backward", imperative),
        ("grad-of-grad", lambda: ad.grad(lambda t: ad.grad(f)(x * t).sum())(scale)),
        ("hvp", lambda: ad.hvp(f)(x, v)),
        ("jvp-of-grad", lambda: ad.jvp(ad.grad(f), (x,), (v,))),
        ("record-create_graph", imperative_second_order),
    ]


def _flatten(result):
    if isinstance(result, (tuple, list)):
        return [leaf for item in result for leaf in _flatten(item)]
    return [np.asarray(result)]


def _same(first, second):
    a, b = _flatten(first), _flatten(second)
    return len(a) == len(b) and all(
        x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b)
    )


@pytest.mark.slow
def test_eight_threads_of_mixed_transforms_give_single_thread_results():
    tasks = [_make_tasks(seed) for seed in range(THREADS)]
    expected = [[call() for _, call in thread_tasks] for thread_tasks in tasks]
    barrier = threading.Barrier(THREADS)
    failures = []
    counts = [0] * THREADS

    def worker(index):
        thread_tasks = tasks[index]
        barrier.wait()
        try:
            for step in range(CALLS_PER_THREAD):
                which = (step * (index + 3)) % len(thread_tasks)  # a different mix per thread
                name, call = thread_tasks[which]
                result = call()
                if not _same(result, expected[index][which]):
                    failures.append(f"thread {index}, call {step} ({name}): {result!r}")
                counts[index] += 1
        except Exception as error:  # reported below, with the thread that hit it
            failures.append(f"thread {index}: {type(error).__name__}: {error}")

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # switch threads often: more interleavings per run
    try:
        threads = [threading.Thread(target=worker, args=(index,)) for index in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert not failures, "\n".join(failures[:10])
    assert counts == [CALLS_PER_THREAD] * THREADS


def test_recording_state_is_per_thread():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def recorder():
        with autograd.record():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=recorder)
    thread.start()
    inside.wait(5)
    seen["main"] = autograd.is_recording()
    release.set()
    thread.join()
    assert seen["main"] is False
