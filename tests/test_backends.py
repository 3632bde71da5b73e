"""Array backends: the rule table on array-api-strict, against NumPy (issue 15).

array-api-strict is the Array API standard's reference implementation: it offers only
the standard's functions and refuses everything else (NumPy scalars as operands, NumPy
arrays, conversions to NumPy off its CPU device).  Its extra device ``device1`` refuses
conversion to NumPy outright, as CuPy's GPU arrays do, so every example below runs there:
any conversion to NumPy behind the user's back raises.

For every differentiable primitive of the registry, Hypothesis draws an example from its
declared domain; the primitive's value, its vector-Jacobian product and its
Jacobian-vector product computed on array-api-strict arrays must equal NumPy's (to
rounding), come back as array-api-strict arrays on the inputs' device, with the inputs'
shapes; or, for a primitive the backend does not support, raise ``NotImplementedError``
naming the function and the library.  The composites of the registry are checked the
same way (they may also be unsupported, never wrong).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy as anp
from adfun._engine.backend import implemented
from adfun._engine.records import Params
from adfun._engine.trace import call_primitive
from adfun.numpy._declare import COMPOSITES, REGISTRY
from adfun.numpy._examples import draw_example

xp = pytest.importorskip("array_api_strict")

import adfun.scipy  # noqa: E402,F401 - registers the scipy.special primitives

DEVICE = xp.Device("device1")
STRICT_ARRAY = type(xp.asarray(0.0))

DIFFERENTIABLE = sorted(
    name
    for name, fun in REGISTRY.items()
    if not fun.primitive.nondiff and fun.primitive.domain is not None
)
COMPOSITE_NAMES = sorted(COMPOSITES)


def to_strict(value):
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        return xp.asarray(value, device=DEVICE)
    if isinstance(value, (list, tuple)):
        return type(value)(to_strict(item) for item in value)
    return value


def to_numpy(value):
    if isinstance(value, STRICT_ARRAY):
        assert value.device == DEVICE, f"result on {value.device}, not on the inputs' device"
        return np.asarray(value.to_device(xp.Device("CPU_DEVICE")))
    if isinstance(value, (list, tuple)):
        return type(value)(to_numpy(item) for item in value)
    return value


def assert_same(strict_value, numpy_value, what):
    if isinstance(numpy_value, (list, tuple)):
        assert len(strict_value) == len(numpy_value)
        for s, n in zip(strict_value, numpy_value):
            assert_same(s, n, what)
        return
    if isinstance(numpy_value, np.ndarray) or isinstance(numpy_value, np.generic):
        assert isinstance(strict_value, STRICT_ARRAY), (
            f"{what}: got {type(strict_value).__name__}, not an array-api-strict array"
        )
    converted = to_numpy(strict_value)
    assert np.shape(converted) == np.shape(numpy_value), what
    np.testing.assert_allclose(converted, numpy_value, rtol=1e-9, atol=1e-12, err_msg=what)


def _float_positions(primitive, args):
    rules = primitive.vjps
    return [
        position
        for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray)
        and arg.dtype.kind == "f"
        and (position >= len(rules) or rules[position] is not None)
    ]


def _compare(name, fun, args, positions, data):
    numpy_args = list(args)
    strict_args = [to_strict(arg) for arg in args]

    def on(values):
        def restricted(*diff_args):
            full = list(values)
            for position, value in zip(positions, diff_args):
                full[position] = value
            return fun(*full)

        return restricted, [values[position] for position in positions]

    numpy_fun, numpy_primals = on(numpy_args)
    numpy_out, numpy_vjp = ad.vjp(numpy_fun, *numpy_primals)
    if not isinstance(numpy_out, np.ndarray) or numpy_out.dtype.kind != "f":
        return  # complex or integer outputs: the complex-numbers issue covers them
    seed = np.random.default_rng(0)
    cotangent = seed.standard_normal(numpy_out.shape)
    tangents = [seed.standard_normal(np.shape(p)).astype(p.dtype) for p in numpy_primals]
    numpy_cotangents = numpy_vjp(cotangent)
    _, numpy_tangent_out = ad.jvp(numpy_fun, numpy_primals, tangents)

    strict_fun, strict_primals = on(strict_args)
    supported = name in SUPPORTED  # composites: never "supported" by declaration
    try:
        strict_out, strict_vjp = ad.vjp(strict_fun, *strict_primals)
        strict_cotangents = strict_vjp(to_strict(cotangent))
        _, strict_tangent_out = ad.jvp(strict_fun, strict_primals, to_strict(tangents))
    except NotImplementedError as error:
        assert "array_api_strict" in str(error), str(error)
        # A supported primitive may still refuse a value-dependent case (a boolean mask,
        # whose result's shape depends on its values), never compute a wrong one.
        assert not supported or "depends on the values" in str(error), f"{name}: {error}"
        return
    assert_same(strict_out, numpy_out, f"{name}: value")
    assert_same(strict_cotangents, numpy_cotangents, f"{name}: vjp")
    assert_same(strict_tangent_out, numpy_tangent_out, f"{name}: jvp")


def _primitive_function(primitive, params):
    frozen = Params(params)

    def fun(*args):
        return call_primitive(primitive, tuple(args), frozen)

    return fun


#: The primitives the array-api-strict backend computes (the coverage table's column).
SUPPORTED = frozenset(name for name in DIFFERENTIABLE if implemented(REGISTRY[name].primitive, xp))


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@given(data=st.data())
def test_primitives_on_array_api_strict(name, data):
    primitive = REGISTRY[name].primitive
    args, params = data.draw(
        st.composite(lambda draw: draw_example(draw, st, hnp, primitive))(), label="example"
    )
    positions = _float_positions(primitive, args)
    if not positions:
        return
    if name == "linalg.eigh":
        # LAPACK's eigenvector signs for UPLO='U' depend on its code path; the standard's
        # eigh has no UPLO (adfun passes the matrix the upper triangle stands for), so
        # only the default lower=True is compared entry for entry.
        params = {**params, "lower": True}
    _compare(name, _primitive_function(primitive, params), args, positions, data)


def test_the_namespace_of_a_traced_value_is_adfun_numpy():
    seen = []

    def f(x):
        seen.append(x.__array_namespace__())
        return anp.sum(x)

    ad.grad(f)(np.ones(2))
    assert seen == [anp]


@pytest.mark.parametrize("name", COMPOSITE_NAMES)
@given(data=st.data())
def test_composites_on_array_api_strict(name, data):
    """A composite computes NumPy's numbers on array-api-strict arrays, or refuses with
    ``NotImplementedError`` naming the library: never a wrong value, never a conversion."""
    composite = COMPOSITES[name]
    args, kwargs = data.draw(
        st.composite(lambda draw: composite.domain.examples(draw, st, hnp))(), label="example"
    )
    positions = [
        position
        for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray) and arg.dtype.kind == "f"
    ]
    if not positions:
        return
    _compare(name, lambda *values: composite(*values, **kwargs), list(args), positions, data)


# --- the transforms, array type in and out ----------------------------------------------


def strict(values, dtype=None):
    return xp.asarray(np.asarray(values, dtype=dtype or np.float64), device=DEVICE)


def loss(x):
    return anp.sum(anp.tanh(x) ** 2 * 3.0 + anp.exp(-x) / 2)


@pytest.mark.parametrize(
    "transform",
    [
        lambda x: ad.grad(loss)(x),
        lambda x: ad.value_and_grad(loss)(x)[1],
        lambda x: ad.elementwise_grad(lambda v: anp.tanh(v) ** 2 * 3.0 + anp.exp(-v) / 2)(x),
        lambda x: ad.jvp(loss, (x,), (anp.ones_like(x),))[1],
        lambda x: (lambda out, vjp_fn: vjp_fn(anp.ones_like(out))[0])(*ad.vjp(loss, x)),
        lambda x: ad.hessian(loss)(x),
        lambda x: ad.jacobian(lambda v: anp.sin(v) * v[0])(x),
        lambda x: ad.jacfwd(lambda v: anp.sin(v) * v[0])(x),
        lambda x: ad.hvp(loss)(x, anp.ones_like(x)),
        lambda x: ad.jit(ad.grad(loss))(x),
        lambda x: ad.grad(ad.jit(loss))(x),
        lambda x: ad.grad(ad.grad(lambda v: anp.sum(anp.sin(v) ** 3)))(x[0]),
    ],
    ids=[
        "grad",
        "value_and_grad",
        "elementwise_grad",
        "jvp",
        "vjp",
        "hessian",
        "jacobian",
        "jacfwd",
        "hvp",
        "jit(grad)",
        "grad(jit)",
        "grad(grad)",
    ],
)
def test_every_transform_returns_the_input_library_and_numpys_numbers(transform):
    values = np.array([0.3, -1.2, 2.0])
    expected = transform(values)
    result = transform(strict(values))
    assert isinstance(result, STRICT_ARRAY)
    assert result.device == DEVICE
    assert to_numpy(result).shape == np.shape(expected)
    np.testing.assert_allclose(to_numpy(result), expected, rtol=1e-12)


def test_float32_stays_float32():
    x = strict([0.5, 1.5], dtype=np.float32)
    gradient = ad.grad(loss)(x)
    assert gradient.dtype == xp.float32
    np.testing.assert_allclose(
        to_numpy(gradient), ad.grad(loss)(np.array([0.5, 1.5], np.float32)), rtol=1e-6
    )


def test_jit_stages_once_per_signature_and_replays_on_new_values():
    staged = ad.jit(loss)
    first = staged(strict([0.1, 0.2]))
    second = staged(strict([1.0, -2.0]))
    assert staged.cache_info()["misses"] == 1
    assert staged.cache_info()["hits"] == 1
    np.testing.assert_allclose(to_numpy(first), loss(np.array([0.1, 0.2])), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(second), loss(np.array([1.0, -2.0])), rtol=1e-12)


def test_adfun_numpy_on_plain_arrays_of_another_library_calls_that_library():
    x = strict([0.5, 1.0])
    for result in (anp.sin(x), anp.add(x, 1.0), anp.sum(x), anp.concatenate([x, x]), x @ x):
        assert isinstance(result, STRICT_ARRAY) and result.device == DEVICE
    np.testing.assert_allclose(to_numpy(anp.concatenate([x, x])), [0.5, 1.0, 0.5, 1.0])


def test_array_api_code_is_differentiable_as_it_is():
    from array_api_compat import array_namespace

    def standard_code(x):
        namespace = array_namespace(x)
        return namespace.sum(namespace.asin(x / 2) * namespace.pow(x, 2.0))

    gradient = ad.grad(standard_code)(strict([0.2, 0.4]))
    expected = ad.grad(standard_code)(np.array([0.2, 0.4]))
    np.testing.assert_allclose(to_numpy(gradient), expected, rtol=1e-12)


def test_two_libraries_mixed_raise_a_type_error_naming_both():
    with pytest.raises(
        TypeError,
        match=r"adfun\.grad: arrays of two different libraries were "
        r"mixed \(numpy and array_api_strict\)",
    ):
        ad.grad(lambda a, b: anp.sum(a * b))(strict([1.0]), np.ones(1))
    with pytest.raises(TypeError, match=r"adfun\.numpy\.add: arrays of two different libraries"):
        anp.add(strict([1.0]), np.ones(1))
    # Python scalars (and NumPy scalars) mix with either.
    assert isinstance(
        ad.grad(lambda a: anp.sum(a * 2.0 + np.float64(1.0)))(strict([1.0])), STRICT_ARRAY
    )


def test_two_devices_mixed_raise_a_type_error():
    other = xp.asarray([1.0], device=xp.Device("device2"))
    with pytest.raises(TypeError, match=r"adfun\.grad: arrays on two devices were mixed"):
        ad.grad(lambda a, b: anp.sum(a * b))(strict([1.0]), other)


def test_a_function_outside_the_standard_names_itself_and_the_library():
    with pytest.raises(
        NotImplementedError,
        match=r"adfun\.numpy\.einsum is not supported on "
        r"array_api_strict arrays",
    ):
        ad.grad(lambda a: anp.einsum("i,i->", a, a))(strict([1.0, 2.0]))


def test_a_value_dependent_step_refuses_instead_of_converting():
    with pytest.raises(NotImplementedError, match=r"array_api_strict"):
        ad.grad(lambda a: anp.sum(anp.median(a)))(strict([1.0, 2.0, 3.0]))


def test_numpy_arrays_stay_on_the_numpy_path():
    assert type(ad.grad(loss)(np.array([0.5]))) is np.ndarray
    assert type(ad.grad(lambda v: anp.sin(v))(0.5)) is np.float64


# --- check_grads and custom primitives on another library ----------------------------------


def test_check_grads_checks_derivatives_computed_on_the_library():
    from adfun.testing import check_grads

    x = strict([0.5, 1.0])
    check_grads(lambda v: anp.sum(anp.sin(v) * v), (x,))
    check_grads(lambda v, c: anp.tanh(v) * c, (x, 2.0))
    check_grads(lambda p: anp.sum(anp.exp(p["w"]) * p["b"]), ({"w": x, "b": 0.3},))


def test_check_grads_catches_a_wrong_rule_run_on_the_library():
    from adfun.testing import check_grads

    @ad.primitive
    def cube(v):
        return v**3

    cube.defvjp(lambda g, ans, v: g * 2.0 * v**2)  # should be 3 v**2
    with pytest.raises(AssertionError, match=r"reverse mode disagrees with central finite"):
        check_grads(lambda v: anp.sum(cube(v)), (strict([0.5, 1.0]),), modes=["rev"], order=1)


def test_a_custom_primitive_runs_its_function_on_the_library():
    @ad.primitive
    def scaled_square(v):
        return 3.0 * v * v

    scaled_square.defvjp(lambda g, ans, v: g * 6.0 * v)
    gradient = ad.grad(lambda v: anp.sum(scaled_square(v)))(strict([1.0, 2.0]))
    assert isinstance(gradient, STRICT_ARRAY)
    np.testing.assert_allclose(to_numpy(gradient), [6.0, 12.0])
