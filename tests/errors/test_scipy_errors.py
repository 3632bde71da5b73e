"""Errors of adfun.scipy: type and message."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402
from adfun.scipy import special  # noqa: E402


# gammainc (in a) and stdtr (in df) are differentiable in their first argument.
@pytest.mark.parametrize("name", ["polygamma", "jv"])
def test_order_arguments_are_not_differentiable(name):
    fun = getattr(special, name)
    with pytest.raises(NotImplementedError, match=f"special.{name}"):
        ad.grad(lambda n: anp.sum(fun(n, np.array([1.5, 2.0]))))(1.0)
