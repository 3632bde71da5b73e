"""Bad inputs that are refused (rather than computed through): type and message."""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun import nd


def test_max_of_empty_array_raises_numpys_error():
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        np.max(np.zeros(0))
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        ad.grad(anp.max)(np.zeros(0))


def test_grad_of_empty_output_is_refused_as_not_scalar():
    with pytest.raises(TypeError, match=r"grad: <lambda> must return a scalar .* shape \(0,\)"):
        ad.grad(lambda x: x * 2.0)(np.zeros(0))


@pytest.mark.parametrize(
    "source", [[1.0, None], [[1.0], [None]], np.array([1.0, None], dtype=object)]
)
def test_nd_array_refuses_none_inside(source):
    with pytest.raises(TypeError, match="adfun.nd.array: source_array is or contains None"):
        nd.array(source)


def test_nd_array_names_itself_when_numpy_cannot_convert():
    with pytest.raises(ValueError, match=r"adfun\.nd\.array: source_array \(list .*inhomogeneous"):
        nd.array([[1.0, 2.0], [3.0]])
