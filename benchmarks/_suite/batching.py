"""W8-W10: batched derivatives (issue 18).

* W8  ``jacrev`` of ``tanh(A @ x) * x``, 100 -> 100 / the hand-written NumPy Jacobian;
* W9  ``hessian`` of ``sum(tanh(A @ x)**2) + sum(x**4) / 4``, 100-d / the hand-written one;
* W10 per-example gradients of the W2 MLP (``vmap(grad(loss), in_axes=(None, 0, 0))``) /
  hand-written NumPy per-example gradients; a Python loop of ``grad`` is timed beside it.

Every result is checked against the hand-written one before timing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import bench_core
from _suite.mlp import make_problem
from _suite.timing import Target, Variant, Workload

W8_TARGET = Target("value", 0.3, "<= 0.3 ms")
W9_TARGET = Target("value", 1.0, "<= 1 ms")
W10_TARGET = Target("ratio", 1.5, "<= 1.5x")


def _close(name: str, got: Any, expected: np.ndarray, rtol: float = 1e-8) -> None:
    got = np.asarray(got)
    error = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else np.inf
    if error > rtol * max(float(np.max(np.abs(expected))), 1.0):
        raise AssertionError(f"{name}: result off by {error:.3g} (shape {got.shape})")


def _variant(library, label, build, check, targets=(), note=""):
    def prepare():
        run = build()
        check(f"{library} {label}", run())
        return run

    return Variant(library, label, prepare, targets=targets, note=note)


def _matrix(side: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((side, side)) / np.sqrt(side), rng.standard_normal(side)


# --- W8 -------------------------------------------------------------------------------------


def jacobian_by_hand(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d/dx of ``tanh(A x) * x``: ``diag(x) (1 - t^2) A + diag(t)``."""
    t = np.tanh(a @ x)
    jacobian = ((1.0 - t * t) * x)[:, None] * a
    jacobian[np.diag_indices_from(jacobian)] += t
    return jacobian


def w8(side: int, peers: dict[str, Any], has_jit: bool) -> Workload:
    """W8: ``jacrev`` of a ``side -> side`` function."""
    import adfun as ad
    import adfun.numpy as anp

    a, x = _matrix(side)
    expected = jacobian_by_hand(a, x)

    def check(name, got):
        _close(name, got, expected)

    def f(y):
        return anp.tanh(a @ y) * y

    variants = [
        Variant("numpy", "hand-written Jacobian", lambda: lambda: jacobian_by_hand(a, x),
                baseline=True),
        _variant("adfun", "jacrev (one batched pass)", lambda: lambda: ad.jacrev(f)(x), check,
                 (W8_TARGET,)),
        _variant("adfun", "jacfwd (one batched pass)", lambda: lambda: ad.jacfwd(f)(x), check),
    ]
    if has_jit:
        jitted = ad.jit(ad.jacrev(f))
        variants.append(_variant("adfun", "jit(jacrev)", lambda: lambda: jitted(x), check))
    if "autograd" in peers:
        import autograd
        import autograd.numpy as agnp

        jac = autograd.jacobian(lambda y: agnp.tanh(agnp.dot(a, y)) * y)
        variants.append(_variant("autograd", "jacobian (a loop)", lambda: lambda: jac(x), check))
    if "torch" in peers:
        import torch
        import torch.func

        a_t, x_t = torch.from_numpy(a), torch.from_numpy(x)
        jac_t = torch.func.jacrev(lambda y: torch.tanh(a_t @ y) * y)
        variants.append(_variant("torch", "func.jacrev", lambda: lambda: jac_t(x_t), check))
    if "jax" in peers:
        import jax
        import jax.numpy as jnp

        a_j, x_j = jax.device_put((a, x))
        jac_j = jax.jacrev(lambda y: jnp.tanh(a_j @ y) * y)
        jit_j = jax.jit(jac_j)
        variants.append(_variant("jax", "jacrev (eager)",
                                 lambda: lambda: jac_j(x_j).block_until_ready(), check))
        variants.append(_variant("jax", "jit(jacrev)",
                                 lambda: lambda: jit_j(x_j).block_until_ready(), check,
                                 note="compiled once, before timing"))
    return Workload("W8", f"jacrev of tanh(A @ x) * x, {side} -> {side}", "ms", 1e3,
                    "x hand-written NumPy", variants)


# --- W9 -------------------------------------------------------------------------------------


def hessian_by_hand(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The Hessian of ``sum(tanh(A x)**2) + sum(x**4) / 4``."""
    t = np.tanh(a @ x)
    t2 = t * t
    return (a.T * (2.0 * (1.0 - t2) * (1.0 - 3.0 * t2))) @ a + np.diag(3.0 * x * x)


def w9(side: int, peers: dict[str, Any], has_jit: bool) -> Workload:
    """W9: ``hessian`` of a ``side``-d scalar function."""
    import adfun as ad
    import adfun.numpy as anp

    a, x = _matrix(side)
    expected = hessian_by_hand(a, x)

    def check(name, got):
        _close(name, got, expected)

    def f(y):
        return anp.sum(anp.tanh(a @ y) ** 2) + anp.sum(y**4) / 4.0

    variants = [
        Variant("numpy", "hand-written Hessian", lambda: lambda: hessian_by_hand(a, x),
                baseline=True),
        _variant("adfun", "hessian (fwd over rev, batched)", lambda: lambda: ad.hessian(f)(x),
                 check, (W9_TARGET,)),
    ]
    if has_jit:
        jitted = ad.jit(ad.hessian(f))
        variants.append(_variant("adfun", "jit(hessian)", lambda: lambda: jitted(x), check))
    if "autograd" in peers:
        import autograd
        import autograd.numpy as agnp

        hess = autograd.hessian(
            lambda y: agnp.sum(agnp.tanh(agnp.dot(a, y)) ** 2) + agnp.sum(y**4) / 4.0
        )
        variants.append(_variant("autograd", "hessian (a loop)", lambda: lambda: hess(x), check))
    if "torch" in peers:
        import torch
        import torch.func

        a_t, x_t = torch.from_numpy(a), torch.from_numpy(x)
        hess_t = torch.func.hessian(
            lambda y: torch.sum(torch.tanh(a_t @ y) ** 2) + torch.sum(y**4) / 4.0
        )
        variants.append(_variant("torch", "func.hessian", lambda: lambda: hess_t(x_t), check))
    if "jax" in peers:
        import jax
        import jax.numpy as jnp

        a_j, x_j = jax.device_put((a, x))
        hess_j = jax.hessian(lambda y: jnp.sum(jnp.tanh(a_j @ y) ** 2) + jnp.sum(y**4) / 4.0)
        jit_j = jax.jit(hess_j)
        variants.append(_variant("jax", "hessian (eager)",
                                 lambda: lambda: hess_j(x_j).block_until_ready(), check))
        variants.append(_variant("jax", "jit(hessian)",
                                 lambda: lambda: jit_j(x_j).block_until_ready(), check,
                                 note="compiled once, before timing"))
    return Workload("W9", f"hessian of sum(tanh(A @ x)**2) + sum(x**4)/4, {side}-d", "ms", 1e3,
                    "x hand-written NumPy", variants)


# --- W10 ------------------------------------------------------------------------------------


def example_loss(params, x, y):
    """W2's loss of one example (a batch of one)."""
    return bench_core.mlp_loss(params, x[None], y[None])


def per_example_by_hand(params, inputs, labels):
    """Every example's parameter gradients, forward and backward in NumPy, batched."""
    activations = [inputs]
    hidden = inputs
    for w, b in params[:-1]:
        hidden = np.tanh(hidden @ w + b)
        activations.append(hidden)
    w, b = params[-1]
    logits = hidden @ w + b
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    delta = exp / exp.sum(axis=1, keepdims=True) - labels
    grads = [None] * len(params)
    for layer in range(len(params) - 1, -1, -1):
        grads[layer] = (activations[layer][:, :, None] * delta[:, None, :], delta)
        if layer:
            delta = (delta @ params[layer][0].T) * (1.0 - activations[layer] ** 2)
    return grads


def w10(batch: int, layers: tuple[int, ...], peers: dict[str, Any], has_jit: bool) -> Workload:
    """W10: per-example gradients of the MLP / the hand-written batched NumPy ones."""
    import adfun as ad

    params, inputs, labels = make_problem(batch, layers)
    expected = per_example_by_hand(params, inputs, labels)

    def check(name, got):
        for (gw, gb), (hw, hb) in zip(got, expected):
            _close(name, gw, hw)
            _close(name, gb, hb)

    per_example = ad.vmap(ad.grad(example_loss), in_axes=(None, 0, 0))
    gradient = ad.grad(example_loss)

    def loop():
        rows = [gradient(params, x, y) for x, y in zip(inputs, labels)]
        return [tuple(np.stack([row[layer][k] for row in rows]) for k in range(2))
                for layer in range(len(params))]

    variants = [
        Variant("numpy", "hand-written per-example",
                lambda: lambda: per_example_by_hand(params, inputs, labels), baseline=True),
        _variant("adfun", "vmap(grad)", lambda: lambda: per_example(params, inputs, labels),
                 check, (W10_TARGET,)),
        _variant("adfun", "a loop of grad", lambda: loop, check),
    ]
    if "torch" in peers:
        import torch
        import torch.func

        params_t = [tuple(torch.from_numpy(array) for array in pair) for pair in params]
        inputs_t, labels_t = torch.from_numpy(inputs), torch.from_numpy(labels)

        def loss_t(p, x, y):
            hidden = x
            for w, b in p[:-1]:
                hidden = torch.tanh(hidden @ w + b)
            logits = hidden @ p[-1][0] + p[-1][1]
            shifted = logits - logits.detach().max()
            return -torch.sum(y * (shifted - torch.log(torch.sum(torch.exp(shifted)))))

        batched_t = torch.func.vmap(torch.func.grad(loss_t), in_dims=(None, 0, 0))
        variants.append(_variant("torch", "func.vmap(func.grad)",
                                 lambda: lambda: batched_t(params_t, inputs_t, labels_t), check))
    return Workload("W10", f"per-example gradients of the W2 MLP, batch {batch}", "ms", 1e3,
                    "x hand-written NumPy", variants)
