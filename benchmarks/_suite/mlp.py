"""W2: ``value_and_grad`` of an MLP (tanh, softmax cross-entropy, float64) per library.

adfun's loss, the initialisation and the baseline are ``bench_core.py``'s.  The baseline
is a hand-written NumPy forward and backward pass that, like every library here, computes
the gradient of the parameters only.  Every library's loss subtracts
the row maximum before the log-sum-exp; where the library can stop gradients through it
(adfun, PyTorch, JAX) it does, HIPS autograd differentiates through the maximum (its
contribution cancels, so the gradient is the same).  Every implementation must agree with
the hand-written gradient to 1e-8 before it is timed.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import bench_core
from _suite.timing import Target, Variant, Workload

W2_TARGET = Target("ratio", 1.05, "<= 1.05x")
W2_JIT_TARGET = Target("ratio", 0.95, "<= 0.95x (staged)")  # issue 22
TOLERANCE = 1e-8


def make_problem(batch: int, layers: tuple[int, ...]):
    rng = np.random.default_rng(0)
    params = bench_core.init_mlp(rng, layers)
    inputs = rng.standard_normal((batch, layers[0]))
    labels = np.eye(layers[-1])[rng.integers(0, layers[-1], batch)]
    return params, inputs, labels


def _check(name: str, value: Any, grads: Any, expected) -> None:
    expected_value, expected_grads = expected
    if abs(float(value) - expected_value) > TOLERANCE:
        raise AssertionError(f"{name}: loss {float(value)!r} != {expected_value!r}")
    for layer, (pair, hand) in enumerate(zip(grads, expected_grads)):
        for got, want in zip(pair, hand):
            error = float(np.max(np.abs(np.asarray(got) - want)))
            if error > TOLERANCE:
                raise AssertionError(f"{name}: layer {layer} gradient off by {error:.3g}")


def _generic_loss(params, inputs, labels, tanh, log, exp, total, row_max):
    hidden = inputs
    for w, b in params[:-1]:
        hidden = tanh(hidden @ w + b)
    w, b = params[-1]
    logits = hidden @ w + b
    shifted = logits - row_max(logits)
    log_norm = log(total(exp(shifted), 1))
    return -total(labels * (shifted - log_norm), None) / inputs.shape[0]


def adfun_step(problem, jit: bool = False) -> Callable[[], Any]:
    import adfun as ad

    step = ad.value_and_grad(bench_core.mlp_loss)
    if jit:
        step = ad.jit(step)
    return lambda: step(*problem)


def autograd_step(problem) -> Callable[[], Any]:
    import autograd
    import autograd.numpy as agnp

    def loss(params, inputs, labels):
        return _generic_loss(
            params, inputs, labels, agnp.tanh, agnp.log, agnp.exp,
            lambda a, axis: agnp.sum(a, axis=axis, keepdims=axis is not None),
            lambda a: agnp.max(a, axis=1, keepdims=True),
        )

    step = autograd.value_and_grad(loss)
    return lambda: step(*problem)


def torch_step(problem) -> Callable[[], Any]:
    import torch

    params = [tuple(torch.from_numpy(array).requires_grad_() for array in pair)
              for pair in problem[0]]
    flat = [array for pair in params for array in pair]
    inputs, labels = (torch.from_numpy(array) for array in problem[1:])

    def total(a, axis):
        return a.sum() if axis is None else a.sum(dim=axis, keepdim=True)

    def run():
        loss = _generic_loss(
            params, inputs, labels, torch.tanh, torch.log, torch.exp, total,
            lambda a: a.detach().max(dim=1, keepdim=True).values,
        )
        grads = torch.autograd.grad(loss, flat)
        return loss.item(), [grads[i:i + 2] for i in range(0, len(grads), 2)]

    return run


def jax_step(problem, jit: bool = False) -> Callable[[], Any]:
    import jax
    import jax.numpy as jnp

    def loss(params, inputs, labels):
        return _generic_loss(
            params, inputs, labels, jnp.tanh, jnp.log, jnp.exp,
            lambda a, axis: jnp.sum(a, axis=axis, keepdims=axis is not None),
            lambda a: jax.lax.stop_gradient(jnp.max(a, axis=1, keepdims=True)),
        )

    step = jax.value_and_grad(loss)
    if jit:
        step = jax.jit(step)
    arguments = jax.device_put(problem)

    def run():
        return jax.block_until_ready(step(*arguments))

    return run


def w2(batch: int, layers: tuple[int, ...], peers: dict[str, Any], has_jit: bool) -> Workload:
    """W2: an MLP's value and gradient / the hand-written NumPy forward and backward."""
    problem = make_problem(batch, layers)
    expected = bench_core.mlp_by_hand(*problem)

    def variant(library, label, build, targets=(), note=""):
        def prepare():
            run = build()
            value, grads = run()
            _check(f"{library} {label}", value, grads, expected)
            return run

        return Variant(library, label, prepare, targets=targets, note=note)

    variants = [
        Variant("numpy", "hand-written forward+backward",
                lambda: lambda: bench_core.mlp_by_hand(*problem), baseline=True),
        variant("adfun", "value_and_grad", lambda: adfun_step(problem), (W2_TARGET,)),
    ]
    if has_jit:
        variants.append(variant("adfun", "jit(value_and_grad)",
                                lambda: adfun_step(problem, jit=True), (W2_JIT_TARGET,)))
    if "autograd" in peers:
        variants.append(variant("autograd", "value_and_grad", lambda: autograd_step(problem)))
    if "torch" in peers:
        variants.append(variant("torch", "autograd.grad", lambda: torch_step(problem)))
    if "jax" in peers:
        variants.append(variant("jax", "value_and_grad (eager)", lambda: jax_step(problem)))
        variants.append(variant("jax", "jit(value_and_grad)",
                                lambda: jax_step(problem, jit=True),
                                note="compiled once, before timing"))
    sizes = "-".join(str(size) for size in layers)
    return Workload(
        "W2", f"MLP {sizes}, batch {batch}, value+grad", "ms", 1e3,
        "x hand-written NumPy", variants,
    )
