"""A custom primitive: a numerically stable ``logsumexp`` with its own derivative rules.

Run it with ``python examples/custom_primitive.py``.

Traced naively, ``log(sum(exp(x)))`` overflows for large ``x``.  The stable formula
subtracts the maximum first, and its derivative is simply ``softmax(x)``; declaring
``logsumexp`` a primitive records it as one node and differentiates it with that rule
instead of tracing through ``max``.
"""

from __future__ import annotations

import numpy as np

import adfun as ad
import adfun.numpy as anp


@ad.primitive
def logsumexp(x):
    """``log(sum(exp(x)))`` over all entries, computed without overflow."""
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


# Reverse rule for argument 0: g * softmax(x).  Forward rule: <t, softmax(x)>.
# Written with adfun.numpy, so the rules are themselves differentiable (higher order).
logsumexp.defvjp(lambda g, ans, x: g * anp.exp(x - ans))
logsumexp.defjvp(lambda t, ans, x: anp.sum(t * anp.exp(x - ans)))


def main() -> None:
    x = np.array([1000.0, 1000.0 + np.log(3.0), 990.0])

    print("logsumexp(x) =", logsumexp(x), " (naive:", end=" ")
    with np.errstate(over="ignore"):
        print(np.log(np.sum(np.exp(x))), ")")

    gradient = ad.grad(logsumexp)(x)
    print("gradient (softmax):", gradient)

    _, tangent = ad.jvp(logsumexp, (x,), (np.ones(3),))
    print("forward mode along ones:", tangent, "(the softmax sums to 1)")

    # Second order: the Hessian of logsumexp is diag(p) - p p^T, p = softmax(x).
    hessian = np.stack([ad.grad(lambda y, i=i: ad.grad(logsumexp)(y)[i])(x) for i in range(3)])
    p = gradient
    assert np.allclose(hessian, np.diag(p) - np.outer(p, p))
    print("Hessian matches diag(p) - p p^T:", True)

    # One node in the graph, named after the function.
    print(ad.trace(lambda y: logsumexp(y) * 2.0)(x))


if __name__ == "__main__":
    main()
