"""W6: one imperative step, ``record(): y = x*2; z = y*x`` then ``z.backward()``.

float32 square arrays, the head gradient is ones (a non-scalar head, as in MXNet).  The
baseline is the same forward and backward written by hand in NumPy.  adfun.nd and MXNet
(when importable) run the very same code with their own ``nd``/``autograd`` modules;
PyTorch runs its equivalent (``x.grad`` reset to ``None`` first, so that it overwrites
like MXNet's ``grad_req='write'`` instead of accumulating).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from _suite.timing import Target, Variant, Workload

W6_SMALL_TARGET = Target("value", 15.0, "<= 15 us")
W6_LARGE_TARGET = Target("ratio", 1.3, "<= 1.3x")


def by_hand(x: np.ndarray) -> np.ndarray:
    """Forward ``z = (x*2)*x`` and backward with a head of ones, in NumPy."""
    y = x * 2
    z = y * x
    head = np.ones_like(z)
    return head * y + (head * x) * 2


def mxnet_style(nd: Any, autograd: Any, value: np.ndarray) -> tuple[Callable, Callable]:
    """``(step, gradient)`` for any library with MXNet 1.x's ``nd`` and ``autograd``."""
    x = nd.array(value)
    x.attach_grad()

    def step():
        with autograd.record():
            y = x * 2
            z = y * x
        z.backward()

    return step, lambda: x.grad.asnumpy()


def torch_style(value: np.ndarray) -> tuple[Callable, Callable]:
    import torch

    x = torch.from_numpy(value).requires_grad_()

    def step():
        x.grad = None
        y = x * 2
        z = y * x
        z.backward(torch.ones_like(z))

    return step, lambda: x.grad.numpy()


def _variant(library, label, build, value, targets=()):
    def prepare():
        step, gradient = build(value)
        step()
        got = gradient()
        if got.dtype != np.float32 or not np.allclose(got, 4 * value, rtol=1e-6):
            raise AssertionError(f"{library}: wrong gradient {got!r}")
        return step

    return Variant(library, label, prepare, targets=targets)


def w6(side: int, peers: dict[str, Any], small: bool) -> Workload:
    """W6 on a ``side`` x ``side`` float32 array (``small``: the 2x2 case, timed in us)."""
    value = np.random.default_rng(0).standard_normal((side, side)).astype(np.float32)
    import adfun

    target = W6_SMALL_TARGET if small else W6_LARGE_TARGET
    variants = [
        Variant("numpy", "hand-written forward+backward", lambda: lambda: by_hand(value),
                baseline=True),
        _variant("adfun", "nd + autograd.record",
                 lambda v: mxnet_style(adfun.nd, adfun.autograd, v), value, (target,)),
    ]
    if "torch" in peers:
        variants.append(_variant("torch", "requires_grad + backward", torch_style, value))
    if "mxnet" in peers:
        mxnet = peers["mxnet"]
        variants.append(_variant("mxnet", "nd + autograd.record",
                                 lambda v: mxnet_style(mxnet.nd, mxnet.autograd, v), value))
    workload_id, unit, scale = ("W6a", "us", 1e6) if small else ("W6b", "ms", 1e3)
    return Workload(
        workload_id, f"imperative record + backward, {side}x{side} float32", unit, scale,
        "x hand-written NumPy", variants,
    )
