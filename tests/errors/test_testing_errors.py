"""Errors of adfun.testing (check_grads, numerical_jacobian, strategies): type and message."""

from __future__ import annotations

import numpy as np
import pytest

import adfun.numpy as anp
from adfun._engine.records import EMPTY_PARAMS, Primitive
from adfun._engine.trace import call_primitive
from adfun.testing import check_grads
from adfun.testing import strategies as ads


def test_value_dependent_must_name_known_steps():
    with pytest.raises(
        ValueError,
        match=r"programs: value_dependent must be True, False or "
        r"an iterable of step names among \['sort'",
    ):
        ads.programs(value_dependent=("shuffle",))


def test_float32_explicit_tolerances_are_used_as_given():
    x = np.array([0.3, -1.2, 0.8, 2.0], dtype=np.float32)
    with pytest.raises(AssertionError, match=r"atol 0 \+ rtol 1e-12"):
        check_grads(lambda x: anp.exp(anp.sin(x)) * x, (x,), rtol=1e-12, atol=0.0)


def test_float32_tiny_explicit_step_is_not_replaced():
    x = np.array([0.3, -1.2, 0.8], dtype=np.float32)
    with pytest.raises(AssertionError, match=r"eps=1e-09"):
        check_grads(lambda x: anp.sin(anp.astype(x, np.float32)), (x,), eps=1e-9)


@pytest.mark.parametrize("modes", [(), ("bwd",), ("fwd", "reverse"), 3])
def test_invalid_modes(modes):
    with pytest.raises(
        ValueError,
        match=r"check_grads: modes must be a non-empty tuple "
        r"containing 'fwd' \(forward mode\) and/or 'rev'|modes must be a tuple",
    ):
        check_grads(anp.sin, (1.0,), modes=modes)


def test_a_mode_string_suggests_a_tuple():
    with pytest.raises(ValueError, match=r"got the string 'rev'; write modes=\('rev',\)"):
        check_grads(anp.sin, (1.0,), modes="rev")


@pytest.mark.parametrize("order", [0, -1, 1.5, True, "2"])
def test_invalid_order(order):
    with pytest.raises(ValueError, match=r"check_grads: order must be a positive int"):
        check_grads(anp.sin, (1.0,), order=order)


def _square_with_rules(vjp_rule, jvp_rule):
    primitive = Primitive("csquare", lambda z: z * z, (vjp_rule,), (jvp_rule,))

    def csquare(z):
        return call_primitive(primitive, (z,), EMPTY_PARAMS)

    return csquare


Z = np.array([0.3 + 1.0j, -1.2 + 0.5j])


def test_a_conjugated_complex_reverse_rule_is_caught():
    # The conjugate transpose (PyTorch's convention) instead of the transpose.
    csquare = _square_with_rules(
        lambda g, ans, z: g * 2.0 * np.conj(z), lambda t, ans, z: t * 2.0 * z
    )
    with pytest.raises(
        AssertionError,
        match=r"(?s)check_grads\(csquare\): mode 'rev' \(reverse mode\), order 1, "
        r"argument args\[0\]: reverse mode disagrees with central finite differences",
    ):
        check_grads(csquare, (Z,), order=1)


def test_a_wrong_complex_forward_rule_is_caught_entry_by_entry():
    csquare = _square_with_rules(
        lambda g, ans, z: g * 2.0 * z, lambda t, ans, z: np.conj(t) * 2.0 * z
    )
    with pytest.raises(
        AssertionError,
        match=r"(?s)mode 'fwd' \(forward mode\), order 1, argument args\[0\]: forward mode "
        r"disagrees with central finite differences at out\[\d\]"
        r".*jvp\(v\) = [-+0-9.e]+[-+][0-9.e]+j",
    ):
        check_grads(csquare, (Z,), order=1, modes=("fwd",))


def test_args_without_floats():
    with pytest.raises(ValueError, match=r"contain no floating-point value .* 3.0 instead of 3"):
        check_grads(lambda n: n * 2, (3,))


def test_strategy_argument_errors():
    with pytest.raises(ValueError, match=r"floats: min_value must not exceed max_value"):
        ads.floats(1, 0)
    with pytest.raises(
        ValueError,
        match=r"arrays: dtype must be a floating-point dtype .* got "
        r"int64",
    ):
        ads.arrays(dtype=np.int64)
    with pytest.raises(ValueError, match=r"shapes: need 0 <= min_dims <= max_dims"):
        ads.shapes(min_dims=3, max_dims=1)
    with pytest.raises(ValueError, match=r"broadcastable_shapes: num_shapes must be a positive"):
        ads.broadcastable_shapes(num_shapes=0)
    with pytest.raises(ValueError, match=r"programs: max_ops must be a positive int, got 0"):
        ads.programs(max_ops=0)
    with pytest.raises(ValueError, match=r"programs: num_args must be a positive int"):
        ads.programs(num_args=1.5)
