"""Overhead of the imperative layer against the functional core on the same computation.

For a float32 array ``x`` of shape 2x2 and 1000x1000 this times, per iteration,

* imperative: ``with autograd.record(): y = x * 2; z = y * x`` then ``z.backward()``
  (a non-scalar head: the head gradient is ones);
* functional: ``adfun.grad(lambda x: anp.sum((x * 2) * x))(x)``, and
  ``adfun.elementwise_grad(lambda x: (x * 2) * x)(x)`` (the same ones cotangent),

and prints microseconds per iteration and the ratio imperative / functional grad (the
target is at most 1.5).  Run with ``python benchmarks/bench_imperative.py``.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

import adfun
import adfun.numpy as anp
from adfun import autograd, nd


def imperative_step(x: nd.NDArray) -> None:
    with autograd.record():
        y = x * 2
        z = y * x
    z.backward()


def best_times(funs: list, number: int, repeat: int) -> list:
    """Seconds per call of each function: the best of ``repeat`` runs of ``number`` calls.

    The runs are interleaved, so that load from other processes hits every variant alike.
    """
    best = [float("inf")] * len(funs)
    for _ in range(repeat):
        for index, fun in enumerate(funs):
            best[index] = min(best[index], timeit.timeit(fun, number=number) / number)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    functional_grad = adfun.grad(lambda v: anp.sum((v * 2) * v))
    functional_elementwise = adfun.elementwise_grad(lambda v: (v * 2) * v)
    print(f"{'shape':>10} {'imperative':>12} {'grad':>12} {'elementwise':>12} {'ratio':>7}")
    for side, number in ((2, 2000), (1000, 5)):
        value = np.random.default_rng(0).standard_normal((side, side)).astype(np.float32)
        x = nd.array(value)
        x.attach_grad()
        imperative_step(x)
        expected = 4 * value
        assert np.allclose(x.grad.asnumpy(), expected, rtol=1e-5)
        assert np.allclose(functional_grad(value), expected, rtol=1e-5)
        imperative, functional, elementwise = best_times(
            [lambda: imperative_step(x), lambda: functional_grad(value),
             lambda: functional_elementwise(value)],
            number,
            args.repeat,
        )
        print(
            f"{side}x{side:<{8 - len(str(side))}} {imperative * 1e6:10.1f}us "
            f"{functional * 1e6:10.1f}us {elementwise * 1e6:10.1f}us "
            f"{imperative / functional:7.2f}"
        )


if __name__ == "__main__":
    main()
