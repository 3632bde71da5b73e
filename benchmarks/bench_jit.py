"""Benchmarks of staged graphs (``ad.jit``), issues 9 and 22.

Prints, in one run on this machine:

* W1 - microseconds per primitive of the 1,000-op 0-d chain (multiply, add, sin, tanh
  repeated) under ``jit(grad(f))``, against ``grad(f)`` and the plain NumPy forward
  pass measured in the same run (target: <= 0.1 us/op);
* W3 - time of the gradient of ``sum(sin(x)**2 + exp(-x)*cos(x))`` on 1,000,000
  float64 values under ``jit``, divided by the plain NumPy forward pass (target: <= 0.6x),
  and the same ratio for ``jit(value_and_grad(f))`` and unstaged ``grad``;
* the cost of the first (tracing) call and the node counts before and after
  simplification.

Run:  python benchmarks/bench_jit.py  [--repeat N]
Medians over the repeats; BLAS threads pinned to 1.
"""

from __future__ import annotations

import argparse
import time

from _timing import median_time  # pins BLAS threads to one before NumPy is imported

import numpy as np  # noqa: E402, I001

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402

CHAIN_OPS = 1000



def scalar_chain(x):
    """1,000 primitive applications on a 0-d value: multiply, add, sin, tanh repeated."""
    for _ in range(CHAIN_OPS // 4):
        x = anp.tanh(anp.sin(x * 0.9 + 0.1))
    return x


def elementwise(x):
    return anp.sum(anp.sin(x) ** 2 + anp.exp(-x) * anp.cos(x))


def w1(repeat):
    x = 0.3
    staged = ad.jit(ad.grad(scalar_chain))
    start = time.perf_counter()
    staged(x)
    first = time.perf_counter() - start
    assert staged(x) == ad.grad(scalar_chain)(x)
    jitted = median_time(lambda: staged(x), repeat, 5)
    unstaged = median_time(lambda: ad.grad(scalar_chain)(x), repeat)
    plain = median_time(lambda: scalar_chain(np.float64(x)), repeat)
    traced = ad.trace(ad.grad(scalar_chain))(x)
    simplified = staged.graph(x)
    return {
        "jit(grad) us/op": jitted / CHAIN_OPS * 1e6,
        "grad us/op": unstaged / CHAIN_OPS * 1e6,
        "plain forward us/op": plain / CHAIN_OPS * 1e6,
        "first call (trace+simplify+compile) ms": first * 1e3,
        "nodes traced -> staged": f"{len(traced.nodes)} -> {len(simplified.nodes)}",
    }


def w3(repeat):
    x = np.random.default_rng(0).standard_normal(1_000_000)
    forward = median_time(lambda: elementwise(x), repeat)
    staged_grad = ad.jit(ad.grad(elementwise))
    staged_both = ad.jit(ad.value_and_grad(elementwise))
    staged_forward = ad.jit(elementwise)
    np.testing.assert_allclose(staged_grad(x), ad.grad(elementwise)(x), rtol=1e-13)
    return {
        "jit(grad) / forward": median_time(lambda: staged_grad(x), repeat) / forward,
        "jit(value_and_grad) / forward": median_time(lambda: staged_both(x), repeat) / forward,
        "grad (unstaged) / forward": median_time(lambda: ad.grad(elementwise)(x), repeat)
        / forward,
        "jit(f) / forward": median_time(lambda: staged_forward(x), repeat) / forward,
        "forward ms": forward * 1e3,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    options = parser.parse_args()
    print(f"numpy {np.__version__}, medians of {options.repeat} runs")
    for title, results in (("W1 1,000-op 0-d chain", w1(options.repeat)),
                           ("W3 sum(sin(x)**2 + exp(-x)*cos(x)), 1e6 float64",
                            w3(options.repeat))):
        print(title)
        for name, value in results.items():
            text = f"{value:.3f}" if isinstance(value, float) else str(value)
            print(f"  {name:42s} {text}")


if __name__ == "__main__":
    main()
