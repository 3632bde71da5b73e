"""W1 (the 0-d chain under ``grad``), W7 (under ``jvp``) and W4's per-library callables.

Each ``*_variants`` function returns the variants of one workload; a variant's
``prepare`` builds the callable, checks its derivative against the reference and returns
it.  Peers appear only when they were loaded (``peers`` maps a name to its module).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from _suite.chains import START, chain, check_derivative
from _suite.timing import Target, Variant, Workload

W1_TARGET = Target("value", 2.5, "<= 2.5 us/op")
W1_JIT_TARGET = Target("value", 0.1, "<= 0.1 us/op (staged)")  # issue 22
W7_TARGET = Target("value", 2.5, "<= 2.5 us/op")


def _checked(name: str, ops: int, run: Callable[[], Any], tangent_of=None) -> Callable:
    result = run()
    check_derivative(name, tangent_of(result) if tangent_of else result, ops)
    return run


# --- the plain baseline and each library's chain -------------------------------------------


def plain_numpy(ops: int) -> Callable[[], Any]:
    return lambda: chain(np.float64(START), ops, np.sin, np.tanh)


def adfun_chain(ops: int) -> Callable:
    import adfun.numpy as anp

    return lambda x: chain(x, ops, anp.sin, anp.tanh)


def autograd_chain(ops: int) -> Callable:
    import autograd.numpy as agnp

    return lambda x: chain(x, ops, agnp.sin, agnp.tanh)


def torch_chain(ops: int) -> Callable:
    import torch

    return lambda x: chain(x, ops, torch.sin, torch.tanh)


def jax_chain(ops: int) -> Callable:
    import jax.numpy as jnp

    return lambda x: chain(x, ops, jnp.sin, jnp.tanh)


# --- reverse mode (W1, and W4's timed call) -------------------------------------------------


def adfun_grad(ops: int) -> Callable[[], Any]:
    import adfun as ad

    gradient = ad.grad(adfun_chain(ops))
    return lambda: gradient(START)


def adfun_jit_grad(ops: int) -> Callable[[], Any]:
    import adfun as ad

    gradient = ad.jit(ad.grad(adfun_chain(ops)))
    return lambda: gradient(START)


def autograd_grad(ops: int) -> Callable[[], Any]:
    import autograd

    gradient = autograd.grad(autograd_chain(ops))
    return lambda: gradient(START)


def torch_grad(ops: int) -> Callable[[], Any]:
    import torch

    fun = torch_chain(ops)

    def run():
        x = torch.tensor(START, dtype=torch.float64, requires_grad=True)
        return torch.autograd.grad(fun(x), x)[0]

    return run


def jax_grad(ops: int, jit: bool = False) -> Callable[[], Any]:
    import jax

    gradient = jax.grad(jax_chain(ops))
    if jit:
        gradient = jax.jit(gradient)
    return lambda: gradient(START).block_until_ready()


GRAD_BUILDERS = {
    "adfun": adfun_grad,
    "autograd": autograd_grad,
    "torch": torch_grad,
    "jax": jax_grad,
}


def w1(ops: int, peers: dict[str, Any], has_jit: bool) -> Workload:
    """W1: microseconds per operation of one ``grad`` call on the ``ops``-op chain."""

    def variant(library, label, build, targets=(), note=""):
        return Variant(library, label, lambda: _checked(f"{library} {label}", ops, build()),
                       targets=targets, note=note)

    variants = [
        Variant("numpy", "plain chain, no derivative", lambda: plain_numpy(ops), baseline=True),
        variant("adfun", "grad", lambda: adfun_grad(ops), (W1_TARGET,)),
    ]
    if has_jit:
        variants.append(variant("adfun", "jit(grad)", lambda: adfun_jit_grad(ops),
                                (W1_JIT_TARGET,), "traced and staged once, before timing"))
    if "autograd" in peers:
        variants.append(variant("autograd", "grad", lambda: autograd_grad(ops)))
    if "torch" in peers:
        variants.append(variant("torch", "autograd.grad", lambda: torch_grad(ops)))
    if "jax" in peers:
        variants.append(variant("jax", "grad (eager)", lambda: jax_grad(ops)))
        variants.append(variant("jax", "jit(grad)", lambda: jax_grad(ops, jit=True),
                                note="compiled once, before timing"))
    return Workload(
        "W1", f"{ops:,}-op 0-d chain under grad", "us/op", 1e6 / ops,
        "x plain NumPy chain",
        variants,
        note="us/op: the whole time of one call (forward and backward) / number of ops",
    )


# --- forward mode (W7) ----------------------------------------------------------------------


def _tangent(result: Any) -> Any:
    return result[1]


def adfun_jvp(ops: int, jit: bool = False) -> Callable[[], Any]:
    import adfun as ad

    fun = adfun_chain(ops)
    pushforward = lambda x, t: ad.jvp(fun, (x,), (t,))  # noqa: E731
    if jit:
        pushforward = ad.jit(pushforward)
    return lambda: pushforward(START, 1.0)


def autograd_jvp(ops: int) -> Callable[[], Any]:
    import autograd

    pushforward = autograd.make_jvp(autograd_chain(ops))
    return lambda: pushforward(START)(1.0)


def torch_jvp(ops: int) -> Callable[[], Any]:
    import torch
    import torch.func

    fun = torch_chain(ops)

    def run():
        x = torch.tensor(START, dtype=torch.float64)
        return torch.func.jvp(fun, (x,), (torch.ones_like(x),))

    return run


def jax_jvp(ops: int, jit: bool = False) -> Callable[[], Any]:
    import jax

    fun = jax_chain(ops)
    pushforward = lambda x, t: jax.jvp(fun, (x,), (t,))  # noqa: E731
    if jit:
        pushforward = jax.jit(pushforward)

    def run():
        value, tangent = pushforward(START, 1.0)
        return value.block_until_ready(), tangent.block_until_ready()

    return run


def w7(ops: int, peers: dict[str, Any], has_jit: bool) -> Workload:
    """W7: microseconds per operation of one ``jvp`` call on the ``ops``-op chain."""

    def variant(library, label, build, targets=(), note=""):
        return Variant(
            library, label,
            lambda: _checked(f"{library} {label}", ops, build(), tangent_of=_tangent),
            targets=targets, note=note,
        )

    variants = [
        Variant("numpy", "plain chain, no derivative", lambda: plain_numpy(ops), baseline=True),
        variant("adfun", "jvp", lambda: adfun_jvp(ops), (W7_TARGET,)),
    ]
    if has_jit:
        variants.append(variant("adfun", "jit(jvp)", lambda: adfun_jvp(ops, jit=True),
                                note="traced and staged once, before timing"))
    if "autograd" in peers:
        variants.append(variant("autograd", "make_jvp", lambda: autograd_jvp(ops)))
    if "torch" in peers:
        variants.append(variant("torch", "func.jvp", lambda: torch_jvp(ops)))
    if "jax" in peers:
        variants.append(variant("jax", "jvp (eager)", lambda: jax_jvp(ops)))
        variants.append(variant("jax", "jit(jvp)", lambda: jax_jvp(ops, jit=True),
                                note="compiled once, before timing"))
    return Workload(
        "W7", f"{ops:,}-op 0-d chain under jvp", "us/op", 1e6 / ops,
        "x plain NumPy chain", variants,
    )
