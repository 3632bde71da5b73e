"""Benchmarks of the graph (issue 7): replaying a traced graph versus re-tracing.

Prints, for a chain of primitive operations on a 0-d value and on a length-100 vector:

1. the plain NumPy call of the function (no tracing at all);
2. ``ad.trace(fun)(x)``: running the Python function again and recording its graph;
3. ``graph(x)``: replaying the recorded graph (the function is not called);
4. ``ad.grad(fun)(x)`` and ``ad.grad(graph)(x)``: the gradient, tracing the function or
   replaying the graph under the transform.

All times are medians, in microseconds per call and per primitive operation.

Run:  python benchmarks/bench_graph.py  [--ops N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402


def median_times(cases, repeat, number):
    """Median seconds per call of each case, measured round-robin.

    Interleaving the cases (one sample of each per round) keeps a change in the load of
    a shared machine from favouring whichever case happened to run during a quiet spell.
    """
    for _, fun in cases:
        fun()  # warm up (and compile the graph's program on its first replay)
    samples = {name: [] for name, _ in cases}
    for _ in range(repeat):
        for name, fun in cases:
            start = time.perf_counter()
            for _ in range(number):
                fun()
            samples[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(values) for name, values in samples.items()}


def make_chain(ops):
    """``ops`` primitive applications: multiply, add, sin, tanh repeated, then a sum."""

    def chain(x):
        for _ in range(ops // 4):
            x = anp.tanh(anp.sin(x * 0.9 + 0.1))
        return anp.sum(x)

    return chain


def run(ops, repeat):
    chain = make_chain(ops)
    total_ops = (ops // 4) * 4 + 1
    print(f"chain of {total_ops} primitive operations; medians of {repeat} repeats")
    header = f"{'input':>8} {'what':<28} {'us/call':>10} {'us/op':>8}"
    print(header)
    print("-" * len(header))
    for label, x in (("0-d", np.float64(0.3)), ("(100,)", np.linspace(-1.0, 1.0, 100))):
        graph = ad.trace(chain)(x)
        assert np.allclose(graph(x), chain(x))
        assert np.allclose(ad.grad(graph)(x), ad.grad(chain)(x))
        grad_fun, grad_graph = ad.grad(chain), ad.grad(graph)
        cases = [
            ("plain call (NumPy)", lambda: chain(x)),
            ("trace(fun)(x)", lambda: ad.trace(chain)(x)),
            ("graph(x)  [replay]", lambda: graph(x)),
            ("grad(fun)(x)", lambda: grad_fun(x)),
            ("grad(graph)(x)", lambda: grad_graph(x)),
        ]
        results = median_times(cases, repeat, number=3)
        for name, seconds in results.items():
            print(f"{label:>8} {name:<28} {seconds * 1e6:10.1f} {seconds * 1e6 / total_ops:8.2f}")
        ratio = results["trace(fun)(x)"] / results["graph(x)  [replay]"]
        print(f"{label:>8} {'re-tracing / replay':<28} {ratio:10.1f}x")
        print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=21)
    arguments = parser.parse_args()
    run(arguments.ops, arguments.repeat)


if __name__ == "__main__":
    main()
