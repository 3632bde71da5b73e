"""Errors of staging (jit) and of staged rules: type and message."""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun import StagingError


def test_jit_rejects_non_callables():
    with pytest.raises(TypeError, match=r"jit: expected a function to stage, got int"):
        ad.jit(3)


@pytest.mark.parametrize(
    "fun, kind, operation",
    [
        (lambda x: float(anp.sum(x)), r"float\(\)", "sum"),
        (lambda x: x[int(anp.argmax(x))], r"int\(\)", "argmax"),
        (lambda x: anp.sin(x).item(), r"\.item\(\)", "sin"),
        (lambda x: [1.0, 2.0, 3.0][anp.argmax(x)], "an index", "argmax"),
        (lambda x: x if x else -x, r"`if` / bool\(\)", None),
    ],
)
def test_conversions_to_python_values_are_refused(fun, kind, operation):
    x = np.array([0.5, 2.0, 1.0])
    what = (
        r"an argument of the jitted function"
        if operation is None
        else rf"the result of `{operation}`"
    )
    with pytest.raises(
        StagingError,
        match=rf"cannot stage {kind} on a traced value "
        rf"\({what}\)",
    ):
        ad.jit(fun)(x[:1] if operation is None else x)


def test_lstsq_on_a_staged_matrix_refuses_with_advice():
    with pytest.raises(ad.StagingError, match=r"adfun\.numpy\.linalg\.lstsq: .*rank.*pinv"):
        ad.jit(lambda a, b: anp.linalg.lstsq(a, b)[0])(np.eye(2), np.ones(2))


def test_pinv_with_a_traced_cutoff_refuses_with_advice():
    with pytest.raises(ad.StagingError, match=r"adfun\.numpy\.linalg\.pinv: .*Python float"):
        ad.jit(lambda a, r: anp.linalg.pinv(a, rcond=r))(np.eye(2), np.float64(1e-10))


def test_polymul_on_staged_coefficients_refuses_with_advice():
    with pytest.raises(ad.StagingError, match=r"adfun\.numpy\.polymul: .*convolve"):
        ad.jit(anp.polymul)(np.array([1.0, 2.0]), np.array([0.0, 3.0]))
