"""Benchmarks of forward mode and the Jacobian transforms (issue: forward mode).

Prints, in one run on this machine:

1. ``hvp`` time / ``grad`` time for ``sum(tanh(A @ x) ** 2)`` with ``A`` 1000x1000
   (target: at most 3);
2. ``jacfwd`` and ``jacrev`` times on a 100 -> 100 function (after checking they agree),
   next to the plain NumPy evaluation of the function;
3. microseconds of overhead per primitive for a 1,000-op 0-d chain under ``jvp`` (and
   under ``grad``, for comparison).

Run:  python benchmarks/bench_forward.py  [--repeat N]
Medians over the repeats are reported (compared functions are timed in alternation and
their ratio is the median of the per-round ratios); BLAS threads are pinned to 1 so the
ratios compare like with like.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _timing import median_time  # pins BLAS threads to one before NumPy is imported

import numpy as np  # noqa: E402, I001

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402


def interleaved_times(funs, repeat, number=1):
    """Median time of each function, timed in alternation so that a machine shared with
    other jobs slows them alike; also the median of the per-round ratios to the first."""
    for fun in funs:
        fun()  # warm up
    samples = [[] for _ in funs]
    for _ in range(repeat):
        for fun, bucket in zip(funs, samples):
            start = time.perf_counter()
            for _ in range(number):
                fun()
            bucket.append((time.perf_counter() - start) / number)
    medians = [statistics.median(bucket) for bucket in samples]
    ratios = [
        statistics.median(b / a for a, b in zip(samples[0], bucket)) for bucket in samples
    ]
    return medians, ratios


# --- 1. hvp / grad ----------------------------------------------------------------------


def hvp_over_grad(repeat):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((1000, 1000)) / 30.0
    x = rng.standard_normal(1000)
    v = rng.standard_normal(1000)

    def loss(x):
        return anp.sum(anp.tanh(A @ x) ** 2)

    gradient = ad.grad(loss)
    hessian_vector = ad.hvp(loss)
    # Check against the closed form: H = A^T diag(2 (1 - t^2)(1 - 3 t^2)) A, t = tanh(Ax).
    t = np.tanh(A @ x)
    expected = A.T @ (2 * (1 - t**2) * (1 - 3 * t**2) * (A @ v))
    np.testing.assert_allclose(hessian_vector(x, v), expected, rtol=1e-8, atol=1e-10)
    (grad_time, hvp_time), (_, ratio) = interleaved_times(
        [lambda: gradient(x), lambda: hessian_vector(x, v)], repeat, number=5
    )
    return grad_time, hvp_time, ratio


# --- 2. jacfwd vs jacrev ----------------------------------------------------------------


def jacobians(repeat):
    rng = np.random.default_rng(1)
    B = rng.standard_normal((100, 100)) / 10.0
    x = rng.standard_normal(100)

    def fun(x):
        return anp.tanh(B @ x) * x + anp.sin(x)

    forward = ad.jacfwd(fun)
    reverse = ad.jacrev(fun)
    np.testing.assert_allclose(forward(x), reverse(x), rtol=1e-12, atol=1e-14)
    plain = median_time(lambda: fun(x), repeat, number=50)
    (rev, fwd), (_, ratio) = interleaved_times([lambda: reverse(x), lambda: forward(x)], repeat)
    return plain, fwd, rev, ratio


# --- 3. per-op overhead under jvp -------------------------------------------------------

CHAIN_OPS = 1000


def scalar_chain(x):
    """1,000 primitive applications on a 0-d value: multiply, add, sin, tanh repeated."""
    for _ in range(CHAIN_OPS // 4):
        x = anp.tanh(anp.sin(x * 0.9 + 0.1))
    return x


def per_op_overhead(repeat):
    x = 0.3
    gradient = ad.grad(scalar_chain)
    (plain, with_jvp, with_grad), _ = interleaved_times(
        [lambda: scalar_chain(x), lambda: ad.jvp(scalar_chain, (x,), (1.0,)),
         lambda: gradient(x)], repeat
    )
    return plain, with_jvp, with_grad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat

    grad_time, hvp_time, ratio = hvp_over_grad(repeat)
    print(f"1. sum(tanh(A @ x)**2), A 1000x1000: grad {grad_time * 1e3:.2f} ms, "
          f"hvp {hvp_time * 1e3:.2f} ms, hvp/grad = {ratio:.2f} (target <= 3)")

    plain, fwd, rev, ratio = jacobians(repeat)
    print(f"2. 100 -> 100 function (plain {plain * 1e6:.0f} us): jacfwd {fwd * 1e3:.1f} ms, "
          f"jacrev {rev * 1e3:.1f} ms, jacfwd/jacrev = {ratio:.2f}")

    plain, with_jvp, with_grad = per_op_overhead(repeat)
    per_op_jvp = (with_jvp - plain) / CHAIN_OPS * 1e6
    per_op_grad = (with_grad - plain) / CHAIN_OPS * 1e6
    print(f"3. 1,000-op 0-d chain: plain {plain * 1e3:.2f} ms; overhead per op "
          f"{per_op_jvp:.2f} us under jvp, {per_op_grad:.2f} us under grad")


if __name__ == "__main__":
    main()
