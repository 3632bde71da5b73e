"""``adfun.nd.random``: random arrays (``nd.random.normal``, ``nd.random.uniform``).

They draw from the generator that :func:`adfun.random.seed` seeds.
"""

from __future__ import annotations

from typing import Any

from adfun.nd._creation import random_normal, random_uniform
from adfun.nd._ndarray import NDArray


def normal(
    loc: float = 0.0,
    scale: float = 1.0,
    shape: Any = (1,),
    dtype: Any = None,
    ctx: Any = None,
    **kwargs: Any,
) -> NDArray:
    """Samples of ``N(loc, scale**2)`` (float32 by default); see :func:`adfun.nd.random_normal`.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.random.normal(0, 1, shape=(2, 2)).shape
    (2, 2)
    """
    return random_normal(loc, scale, shape, ctx=ctx, dtype=dtype)


def uniform(
    low: float = 0.0,
    high: float = 1.0,
    shape: Any = (1,),
    dtype: Any = None,
    ctx: Any = None,
    **kwargs: Any,
) -> NDArray:
    """Samples of the uniform distribution on ``[low, high)``; see
    :func:`adfun.nd.random_uniform`.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.random.uniform(shape=3).shape
    (3,)
    """
    return random_uniform(low, high, shape, ctx=ctx, dtype=dtype)


__all__ = ["normal", "uniform"]
