"""The complex rule table: every primitive and composite NumPy defines on complex values.

For each primitive of the registry (and each composite) that declares a
``complex_domain``, Hypothesis draws complex arguments from it and the rules are checked
against central finite differences in both modes, along real *and* imaginary directions
(each complex argument is passed as its real and imaginary parts, each complex output is
split into its real and imaginary parts: :func:`_checking.real_view`), to second order
for smooth functions.  The convention checked is ``dL = Re(cotangent * dz)`` (HIPS
autograd's and JAX's).  A second test checks the same rules through
:func:`adfun.testing.check_grads` called on the complex values themselves.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun.numpy  # noqa: F401 - fills the registry
import adfun.scipy  # noqa: F401 - the scipy.special primitives
from adfun._engine.records import Params
from adfun._engine.trace import call_primitive
from adfun.numpy._declare import COMPOSITES, REGISTRY
from adfun.numpy._examples import draw_complex_example
from adfun.testing import check_grads

from _checking import check

COMPLEX_PRIMITIVES = sorted(
    name
    for name, fun in REGISTRY.items()
    if not fun.primitive.nondiff and fun.primitive.complex_domain is not None
)
COMPLEX_COMPOSITES = sorted(
    name for name, fun in COMPOSITES.items() if getattr(fun, "complex_domain", None) is not None
)

#: What NumPy (and SciPy) define on complex values and adfun must differentiate there:
#: the registry names of the primitives.
EXPECTED_PRIMITIVES = frozenset(
    """
    add subtract multiply divide power negative positive exp log sqrt square sin cos tan
    tanh absolute arcsin arccos arctan sinh cosh arcsinh arccosh arctanh exp2 expm1 log2
    log10 log1p reciprocal sinc float_power maximum minimum fmax fmin
    real imag conjugate angle complex_sign
    sum mean prod cumsum cumprod max min
    dot matmul tensordot einsum
    reshape transpose broadcast_to concatenate stack getitem untake where astype clip
    fft.fft fft.ifft
    linalg.inv linalg.solve linalg.det linalg.slogdet linalg.slogdet_phase
    linalg.vector_norm linalg.cholesky linalg.eigh linalg.eigvalsh linalg.svd
    linalg.svdvals linalg.qr linalg.pinv linalg.eig linalg.eigvals
    """.split()
)


def test_the_complex_domains_cover_numpy_complex_functions():
    missing = sorted(EXPECTED_PRIMITIVES - set(COMPLEX_PRIMITIVES))
    assert missing == []


def _complex_positions(primitive, args):
    rules = primitive.vjps
    return [
        position
        for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray)
        and arg.dtype.kind in "fc"
        and (type(rules) is not tuple or position >= len(rules) or rules[position] is not None)
    ]


def _as_function(primitive, params):
    frozen = Params(params)

    def fun(*args):
        return call_primitive(primitive, tuple(args), frozen)

    fun.__name__ = primitive.name
    return fun


@st.composite
def _examples(draw, primitive):
    return draw_complex_example(draw, st, hnp, primitive)


@pytest.mark.parametrize("name", COMPLEX_PRIMITIVES)
@given(data=st.data())
def test_complex_rules_against_finite_differences(name, data):
    primitive = REGISTRY[name].primitive
    args, params = data.draw(_examples(primitive), label="args, params")
    assert any(np.iscomplexobj(arg) for arg in args), f"{name}: no complex argument drawn"
    positions = _complex_positions(primitive, args)
    order = 2 if primitive.complex_domain.smooth else 1
    check(_as_function(primitive, params), args, positions, order=order)


@pytest.mark.parametrize("name", COMPLEX_COMPOSITES)
@given(data=st.data())
def test_complex_composites_against_finite_differences(name, data):
    composite = COMPOSITES[name]
    args, kwargs = composite.complex_domain.examples(data.draw, st, hnp)

    def fun(*call_args):
        return composite(*call_args, **kwargs)

    fun.__name__ = name
    positions = [
        position
        for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray) and arg.dtype.kind in "fc"
    ]
    check(fun, args, positions, order=2 if composite.complex_domain.smooth else 1)


@pytest.mark.parametrize("name", COMPLEX_PRIMITIVES)
@settings(max_examples=5)
@given(data=st.data())
def test_complex_rules_through_check_grads_on_complex_values(name, data):
    # The same rules, checked by check_grads itself on the complex arguments and outputs
    # (complex random directions, the real inner product Re(conj(a) b)).
    primitive = REGISTRY[name].primitive
    args, params = data.draw(_examples(primitive), label="args, params")
    positions = _complex_positions(primitive, args)
    fun = _as_function(primitive, params)

    def restricted(*diff_args):
        full = list(args)
        for position, value in zip(positions, diff_args, strict=True):
            full[position] = value
        return fun(*full)

    restricted.__name__ = name
    check_grads(restricted, tuple(args[position] for position in positions), order=1)
