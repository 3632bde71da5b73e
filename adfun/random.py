"""The random state of the imperative layer (``mx.random.seed``).

``adfun.nd.random_normal``, ``adfun.nd.random.uniform``, ``adfun.nd.Dropout``, ... draw from
one NumPy :class:`numpy.random.Generator` shared by the process, as MXNet's generator is;
:func:`seed` replaces it so that a program's random numbers are reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._imperative.context import check_context


class _State:
    """Holder of the shared generator (a scope object rather than a module global)."""

    __slots__ = ("generator",)

    def __init__(self) -> None:
        self.generator = np.random.default_rng()


_STATE = _State()


def seed(seed_state: int, ctx: Any = "all") -> None:
    """Seed the random number generator used by ``adfun.nd``.

    Parameters
    ----------
    seed_state : int
        A non-negative integer; the same seed gives the same random numbers.
    ctx : Context or 'all', optional
        Accepted for MXNet compatibility (there is only ``cpu(0)``).

    Examples
    --------
    >>> import adfun as mx
    >>> from adfun import nd
    >>> mx.random.seed(7)
    >>> a = nd.random.uniform(shape=2).asnumpy()
    >>> mx.random.seed(7)
    >>> bool((a == nd.random.uniform(shape=2).asnumpy()).all())
    True
    """
    if isinstance(seed_state, bool) or not isinstance(seed_state, (int, np.integer)):
        raise TypeError(
            f"adfun.random.seed: seed_state must be a non-negative int, got {seed_state!r}"
        )
    if seed_state < 0:
        raise ValueError(f"adfun.random.seed: seed_state must be non-negative, got {seed_state}")
    if ctx != "all":
        check_context("adfun.random.seed", ctx)
    _STATE.generator = np.random.default_rng(int(seed_state))


def generator() -> np.random.Generator:
    """The generator ``adfun.nd`` draws from (replaced by every :func:`seed`)."""
    return _STATE.generator
