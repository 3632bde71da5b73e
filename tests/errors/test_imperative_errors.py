"""Errors of the imperative layer (adfun.nd, adfun.autograd): type and message."""

from __future__ import annotations

import numpy as np
import pytest

import adfun
from adfun import autograd, nd


def test_invalid_grad_req():
    with pytest.raises(ValueError, match=r"attach_grad: grad_req must be 'write', 'add' or"):
        nd.zeros(1).attach_grad("sometimes")
    with pytest.raises(ValueError, match=r"attach_grad: a csr array must be 2-D, but the shape"):
        nd.zeros(1).attach_grad(stype="csr")
    with pytest.raises(ValueError, match=r"attach_grad: stype must be"):
        nd.zeros(1).attach_grad(stype="coo")


def test_mark_variables_errors():
    with pytest.raises(ValueError, match=r"got 1 variables, 2 gradients"):
        autograd.mark_variables([nd.zeros(1)], [nd.zeros(1), nd.zeros(1)])
    with pytest.raises(ValueError, match=r"gradients\[0\] has shape \(2,\)"):
        autograd.mark_variables(nd.zeros(1), nd.zeros(2))
    with pytest.raises(ValueError, match=r"mark_variables: grad_req must be"):
        autograd.mark_variables(nd.zeros(1), nd.zeros(1), "often")
    with pytest.raises(TypeError, match=r"must be NDArrays"):
        autograd.mark_variables([np.zeros(1)], [nd.zeros(1)])


def test_creation_errors_name_the_function():
    with pytest.raises(TypeError, match=r"adfun\.nd\.zeros: shape must be"):
        nd.zeros("3")
    with pytest.raises(ValueError, match=r"adfun\.nd\.array: ctx='tpu' is not a context"):
        nd.array([1], ctx="tpu")
    with pytest.raises(TypeError, match=r"random_normal: loc must be a number"):
        nd.random_normal(nd.zeros(1))
    with pytest.raises(TypeError, match=r"seed_state must be a non-negative int"):
        adfun.random.seed(1.5)
    with pytest.raises(ValueError, match=r"seed_state must be non-negative"):
        adfun.random.seed(-1)
    with pytest.raises(ValueError, match=r"repeat must be a positive int"):
        nd.arange(3, repeat=0)


def test_unsupported_operand_is_a_type_error():
    with pytest.raises(TypeError):
        nd.array([1]) + "a"
