"""adfun: automatic differentiation of NumPy code you can see and trust.

The functional core::

    import adfun as ad
    import adfun.numpy as anp

    ad.grad(lambda x: anp.sum(anp.sin(x) ** 2))(x)

"""

from __future__ import annotations

from typing import Any

# adfun.numpy fills the engine's dispatch tables; importing adfun._staging (through jit)
# fills Graph's hooks; testing's check_grads imports Hypothesis only on use; autograd, nd
# and random are the MXNet-style imperative layer (``from adfun import nd, autograd``).
from adfun import autograd, nd, numpy, optimizers, random, testing  # noqa: F401
from adfun._custom import primitive
from adfun._engine.errors import StagingError, TracerEscapeError
from adfun._engine.graph import Graph
from adfun._engine.pytree import register_pytree_node
from adfun._engine.trace import install_operators as _install_operators
from adfun._flatten import flatten
from adfun._imperative.context import cpu, gpu
from adfun._implicit import custom_root, fixed_point
from adfun._staging.jit import jit
from adfun._transforms.batching import vmap
from adfun._transforms.checkpoint import checkpoint
from adfun._transforms.functional import (
    elementwise_grad,
    grad,
    jvp,
    stop_gradient,
    trace,
    value_and_grad,
    vjp,
)
from adfun._transforms.jacobians import hessian, hvp, jacfwd, jacobian, jacrev

_install_operators()

__version__ = "0.1.0.dev0"

__all__ = [
    "Graph",
    "StagingError",
    "TracerEscapeError",
    "autograd",
    "checkpoint",
    "cpu",
    "custom_root",
    "elementwise_grad",
    "fixed_point",
    "flatten",
    "gpu",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jit",
    "jvp",
    "nd",
    "optimizers",
    "primitive",
    "random",
    "register_pytree_node",
    "stop_gradient",
    "testing",
    "trace",
    "value_and_grad",
    "vjp",
    "vmap",
]


def __getattr__(name: str) -> Any:
    # ``adfun.scipy`` needs SciPy, which adfun does not depend on: import it on first use.
    if name == "scipy":
        import importlib

        return importlib.import_module("adfun.scipy")
    raise AttributeError(f"module 'adfun' has no attribute {name!r}")
