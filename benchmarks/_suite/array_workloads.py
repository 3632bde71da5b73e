"""W3 (an elementwise gradient on 1e6 values) and W5 (a Hessian-vector product).

W3 times ``grad`` of ``sum(sin(x)**2 + exp(-x)*cos(x))`` against one plain NumPy
evaluation of the function; W5 times the Hessian-vector product of
``sum(tanh(A @ x)**2)`` against a hand-written NumPy one.  Each library's result is
checked against the closed form before timing.  JAX's arrays are put on its device once,
outside the timed call (as a JAX user would keep them), and its results are waited for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _suite.timing import Target, Variant, Workload

# Issue 22's targets: eager gradients sharing the forward pass's values, and staged code
# ahead of XLA's (which reaches 0.71-0.82x on one core).
W3_TARGET = Target("ratio", 1.6, "<= 1.6x (eager)")
W3_JIT_TARGET = Target("ratio", 0.6, "<= 0.6x (staged)")
W5_TARGET = Target("ratio", 1.5, "<= 1.5x")


def _close(name: str, got: Any, expected: np.ndarray, rtol: float = 1e-8) -> None:
    got = np.asarray(got)
    error = float(np.max(np.abs(got - expected)))
    scale = float(np.max(np.abs(expected)))
    if got.shape != expected.shape or error > rtol * max(scale, 1.0):
        raise AssertionError(f"{name}: result off by {error:.3g} (shape {got.shape})")


def _variant(library, label, build, check, targets=(), note=""):
    def prepare():
        run = build()
        check(f"{library} {label}", run())
        return run

    return Variant(library, label, prepare, targets=targets, note=note)


# --- W3 -------------------------------------------------------------------------------------


def elementwise(x, sin, cos, exp, total):
    """``sum(sin(x)**2 + exp(-x)*cos(x))`` with the library's functions."""
    return total(sin(x) ** 2 + exp(-x) * cos(x))


def elementwise_gradient(x: np.ndarray) -> np.ndarray:
    """The closed form: ``sin(2x) - exp(-x) (cos x + sin x)``."""
    return np.sin(2 * x) - np.exp(-x) * (np.cos(x) + np.sin(x))


def _adfun_w3(x, jit=False):
    import adfun as ad
    import adfun.numpy as anp

    gradient = ad.grad(lambda v: elementwise(v, anp.sin, anp.cos, anp.exp, anp.sum))
    if jit:
        gradient = ad.jit(gradient)
    return lambda: gradient(x)


def _autograd_w3(x):
    import autograd
    import autograd.numpy as agnp

    gradient = autograd.grad(lambda v: elementwise(v, agnp.sin, agnp.cos, agnp.exp, agnp.sum))
    return lambda: gradient(x)


def _torch_w3(x):
    import torch

    shared = torch.from_numpy(x)

    def run():
        leaf = shared.detach().requires_grad_()
        value = elementwise(leaf, torch.sin, torch.cos, torch.exp, torch.sum)
        return torch.autograd.grad(value, leaf)[0]

    return run


def _jax_w3(x, jit=False):
    import jax
    import jax.numpy as jnp

    gradient = jax.grad(lambda v: elementwise(v, jnp.sin, jnp.cos, jnp.exp, jnp.sum))
    if jit:
        gradient = jax.jit(gradient)
    on_device = jax.device_put(x)
    return lambda: gradient(on_device).block_until_ready()


def w3(size: int, peers: dict[str, Any], has_jit: bool) -> Workload:
    """W3: ``grad`` time / one plain NumPy evaluation of the function."""
    x = np.random.default_rng(0).standard_normal(size)
    expected = elementwise_gradient(x)

    def check(name, got):
        _close(name, got, expected)

    variants = [
        Variant("numpy", "forward only (no derivative)",
                lambda: lambda: elementwise(x, np.sin, np.cos, np.exp, np.sum), baseline=True),
        _variant("adfun", "grad", lambda: _adfun_w3(x), check, (W3_TARGET,)),
    ]
    if has_jit:
        variants.append(_variant("adfun", "jit(grad)", lambda: _adfun_w3(x, jit=True), check,
                                 (W3_JIT_TARGET,)))
    if "autograd" in peers:
        variants.append(_variant("autograd", "grad", lambda: _autograd_w3(x), check))
    if "torch" in peers:
        variants.append(_variant("torch", "autograd.grad", lambda: _torch_w3(x), check))
    if "jax" in peers:
        variants.append(_variant("jax", "grad (eager)", lambda: _jax_w3(x), check))
        variants.append(_variant("jax", "jit(grad)", lambda: _jax_w3(x, jit=True), check,
                                 note="compiled once, before timing"))
    return Workload(
        "W3", f"grad of sum(sin(x)**2 + exp(-x)*cos(x)), {size:,} float64", "ms", 1e3,
        "x NumPy forward", variants,
    )


# --- W5 -------------------------------------------------------------------------------------


def hvp_by_hand(a: np.ndarray, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """H(x) v for ``f(x) = sum(tanh(A x)**2)``: ``A^T (2 (1-t^2)(1-3t^2) * (A v))``."""
    t = np.tanh(a @ x)
    t2 = t * t
    return a.T @ (2.0 * (1.0 - t2) * (1.0 - 3.0 * t2) * (a @ v))


def _adfun_w5(a, x, v, jit=False):
    import adfun as ad
    import adfun.numpy as anp

    product = ad.hvp(lambda y: anp.sum(anp.tanh(a @ y) ** 2))
    if jit:
        product = ad.jit(product)
    return lambda: product(x, v)


def _autograd_w5(a, x, v):
    import autograd
    import autograd.numpy as agnp

    product = autograd.hessian_vector_product(lambda y: agnp.sum(agnp.tanh(agnp.dot(a, y)) ** 2))
    return lambda: product(x, v)


def _torch_w5(a, x, v):
    import torch
    import torch.func

    a_t, x_t, v_t = (torch.from_numpy(array) for array in (a, x, v))
    gradient = torch.func.grad(lambda y: torch.sum(torch.tanh(a_t @ y) ** 2))
    return lambda: torch.func.jvp(gradient, (x_t,), (v_t,))[1]


def _jax_w5(a, x, v, jit=False):
    import jax
    import jax.numpy as jnp

    a_j, x_j, v_j = jax.device_put((a, x, v))
    gradient = jax.grad(lambda y: jnp.sum(jnp.tanh(a_j @ y) ** 2))
    product = lambda y, w: jax.jvp(gradient, (y,), (w,))[1]  # noqa: E731
    if jit:
        product = jax.jit(product)
    return lambda: product(x_j, v_j).block_until_ready()


def w5(side: int, peers: dict[str, Any], has_jit: bool) -> Workload:
    """W5: Hessian-vector product / the hand-written one."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((side, side)) / np.sqrt(side)
    x, v = rng.standard_normal(side), rng.standard_normal(side)
    expected = hvp_by_hand(a, x, v)

    def check(name, got):
        _close(name, got, expected)

    variants = [
        Variant("numpy", "hand-written HVP", lambda: lambda: hvp_by_hand(a, x, v),
                baseline=True),
        _variant("adfun", "hvp (fwd over rev)", lambda: _adfun_w5(a, x, v), check,
                 (W5_TARGET,)),
    ]
    if has_jit:
        variants.append(_variant("adfun", "jit(hvp)", lambda: _adfun_w5(a, x, v, jit=True),
                                 check, (W5_TARGET,)))
    if "autograd" in peers:
        variants.append(_variant("autograd", "hessian_vector_product (rev over rev)",
                                 lambda: _autograd_w5(a, x, v), check))
    if "torch" in peers:
        variants.append(_variant("torch", "func.jvp(func.grad) (fwd over rev)",
                                 lambda: _torch_w5(a, x, v), check))
    if "jax" in peers:
        variants.append(_variant("jax", "jvp(grad) (eager)", lambda: _jax_w5(a, x, v), check))
        variants.append(_variant("jax", "jit(jvp(grad))", lambda: _jax_w5(a, x, v, jit=True),
                                 check, note="compiled once, before timing"))
    return Workload(
        "W5", f"hvp of sum(tanh(A @ x)**2), A {side}x{side}", "ms", 1e3,
        "x hand-written NumPy HVP", variants,
    )
