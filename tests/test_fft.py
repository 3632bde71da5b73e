"""adfun.numpy.fft: values equal NumPy's, complex intermediates, composites, errors.

The four primitives are checked against finite differences by test_rules.py (complex
inputs included, through ``tests/_checking.real_view``); here the n-dimensional composites, shifts,
real -> complex -> real programs and the error paths.
"""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun._engine.trace import full_value
from adfun.numpy import fft

from _checking import check

RNG = np.random.default_rng(7)


def _check(fun, *args, order=2):
    check(fun, args, order=order)


def _traced_value(fun, *args):
    out, _ = ad.vjp(lambda *a: anp.real(fun(*a)) if False else fun(*a), *args)
    return full_value(out)


_ONE_AXIS = [
    ("fft", {}),
    ("fft", {"n": 3, "axis": 0, "norm": "ortho"}),
    ("fft", {"n": 7}),
    ("ifft", {"norm": "forward"}),
    ("ifft", {"n": 2, "axis": 0}),
    ("rfft", {}),
    ("rfft", {"n": 6, "axis": 0, "norm": "ortho"}),
    ("rfft", {"n": 3}),
    ("irfft", {}),
    ("irfft", {"n": 5}),
    ("irfft", {"n": 4, "axis": 0, "norm": "forward"}),
    ("hfft", {}),
    ("hfft", {"n": 5, "norm": "ortho"}),
    ("ihfft", {"n": 4}),
]


@pytest.mark.parametrize("name, options", _ONE_AXIS)
def test_one_axis_transforms_match_numpy_and_finite_differences(name, options):
    x = RNG.standard_normal((4, 5))
    fun = getattr(fft, name)
    np.testing.assert_allclose(
        _traced_value(lambda x: fun(x, **options), x),
        getattr(np.fft, name)(x, **options),
        atol=1e-12,
    )
    _check(lambda x: fun(x, **options), x)


_N_DIMENSIONAL = [
    ("fft2", {}),
    ("ifft2", {"s": (3, 6), "norm": "ortho"}),
    ("fftn", {}),
    ("fftn", {"axes": (0, 2)}),
    ("ifftn", {"s": (2, 4), "axes": (2, 1)}),
    ("rfft2", {}),
    ("rfftn", {"s": (3, 4, 4), "axes": (0, 1, 2)}),
    ("rfftn", {"axes": (0, 1), "norm": "forward"}),
    ("irfft2", {}),
    ("irfftn", {"s": (2, 3, 5), "axes": (0, 1, 2)}),
    ("irfftn", {"axes": (1, 0)}),
]


@pytest.mark.parametrize("name, options", _N_DIMENSIONAL)
def test_n_dimensional_transforms_match_numpy_and_finite_differences(name, options):
    x = RNG.standard_normal((2, 3, 4))
    fun = getattr(fft, name)
    np.testing.assert_allclose(
        _traced_value(lambda x: fun(x, **options), x),
        getattr(np.fft, name)(x, **options),
        atol=1e-12,
    )
    _check(lambda x: fun(x, **options), x, order=1)


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("axes", [None, 0, (1,), (0, -1)])
def test_shifts_match_numpy_and_roll_the_gradient_back(name, axes):
    x = RNG.standard_normal((3, 4))
    fun = getattr(fft, name)
    np.testing.assert_allclose(
        _traced_value(lambda x: fun(x, axes), x), getattr(np.fft, name)(x, axes)
    )
    _check(lambda x: fun(x, axes), x, order=1)


def test_complex_input_to_the_full_transforms_in_both_modes():
    z = RNG.standard_normal(5) + 1j * RNG.standard_normal(5)
    _check(lambda z: fft.ifft(fft.fft(z, 7) * z[0], 6), z)
    _check(lambda z: fft.irfft(z, 6, norm="ortho"), z)


# --- real -> complex -> real programs --------------------------------------------------------


def test_parseval_energy_gradient():
    x = RNG.standard_normal(6)

    def energy(x):
        return anp.sum(anp.abs(fft.fft(x)) ** 2)

    np.testing.assert_allclose(ad.grad(energy)(x), 2 * 6 * x)
    _, tangent = ad.jvp(energy, (x,), (np.ones(6),))
    np.testing.assert_allclose(tangent, 2 * 6 * x.sum())
    _check(energy, x)


def test_round_trip_is_the_identity_in_both_modes():
    x = RNG.standard_normal(5)

    def round_trip(x):
        return anp.real(fft.ifft(fft.fft(x)))

    np.testing.assert_allclose(
        ad.jacobian(round_trip)(x)
        if hasattr(ad, "jacobian")
        else np.stack([ad.grad(lambda x, i=i: round_trip(x)[i])(x) for i in range(5)]),
        np.eye(5),
        atol=1e-12,
    )
    _check(round_trip, x)
    _check(lambda x: fft.irfft(fft.rfft(x), 5), x)


def test_plain_numpy_fft_calls_dispatch_on_traced_values():
    x = RNG.standard_normal(4)
    gradient = ad.grad(lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 2))(x)
    np.testing.assert_allclose(gradient, ad.grad(lambda x: anp.sum(anp.abs(fft.rfft(x)) ** 2))(x))


def test_complex_constant_times_real_input_gives_a_real_gradient():
    x = RNG.standard_normal(3)
    phase = np.exp(1j * np.arange(3.0))

    def fun(x):
        return anp.sum(anp.imag(x * phase))

    gradient = ad.grad(fun)(x)
    assert gradient.dtype == np.float64
    np.testing.assert_allclose(gradient, np.sin(np.arange(3.0)))


def test_abs_of_complex_intermediates_in_both_modes_and_at_zero():
    x = np.array([0.3, -1.2])
    _check(lambda x: anp.abs(x * (1.0 + 2.0j) + 0.5j), x)
    np.testing.assert_array_equal(ad.grad(lambda x: anp.abs(x * 1j))(0.0), 0.0)


def test_float32_input_keeps_single_precision():
    x = RNG.standard_normal(4).astype(np.float32)
    gradient = ad.grad(lambda x: anp.sum(anp.abs(fft.fft(x)) ** 2))(x)
    assert gradient.dtype == np.float32


def test_frequencies_are_numpy_constants():
    assert fft.fftfreq is np.fft.fftfreq and fft.rfftfreq is np.fft.rfftfreq


# --- errors --------------------------------------------------------------------------------


def _grad_raises(fun, arg, error, match):
    with pytest.raises(error, match=match):
        ad.grad(lambda x: anp.sum(anp.real(fun(x))))(arg)


def test_errors_name_the_function_and_the_argument():
    x = np.ones(4)
    _grad_raises(lambda x: fft.rfft(x * 1j), x, TypeError, r"fft.rfft: argument 'a' must be real")
    _grad_raises(lambda x: fft.fft(x, norm="unitary"), x, ValueError, r"fft.fft: norm must be")
    _grad_raises(lambda x: fft.ifft(x, n=0), x, ValueError, r"fft.ifft: invalid number of data")
    _grad_raises(
        lambda x: fft.fft(x, axis=1),
        x,
        np.exceptions.AxisError,
        r"fft.fft: axis 1 is out of bounds",
    )
    _grad_raises(lambda x: fft.fft(x[0]), x, ValueError, r"fft.fft: argument 'a' must have")
    _grad_raises(
        lambda x: fft.fftn(x, s=(4,), axes=(0, 0, 0)),
        x,
        ValueError,
        r"fft.fftn: s and axes have different lengths",
    )
    _grad_raises(
        lambda x: fft.fft(x, out=np.empty(4, complex)),
        x,
        TypeError,
        r"fft.fft: out= is not supported",
    )


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: anp.real((anp.abs(x * (1.0 + 2.0j) + 0.5j) * (1.0 + 2.0j)) ** 2),
        lambda x: anp.imag((fft.irfft(fft.rfft(x) * (0.5 + 1.0j), 4) * (2.0 + 1.0j)) ** 2),
        lambda x: anp.real(anp.imag(x * (1.0 + 1.0j)) * (1.0 + 3.0j)) ** 3,
    ],
)
def test_real_values_drop_the_imaginary_part_of_their_cotangent(fun):
    # A real intermediate multiplied by a complex constant receives a complex cotangent;
    # only its real part may flow on (abs, real, imag and irfft rules project it).
    _check(fun, RNG.standard_normal(4))


def test_traced_values_have_real_imag_and_conj():
    x = RNG.standard_normal(4)

    def fun(x):
        z = fft.fft(x)
        return anp.sum(z.real**2 + z.imag**2 - anp.real(z * z.conj()) + x.real * x.imag)

    np.testing.assert_allclose(ad.grad(fun)(x), np.zeros(4), atol=1e-12)
    np.testing.assert_allclose(
        ad.grad(lambda x: anp.sum(fft.fft(x).conjugate().imag))(x),
        ad.grad(lambda x: -anp.sum(anp.imag(fft.fft(x))))(x),
    )


def test_vjp_of_a_complex_output_takes_a_complex_cotangent():
    x = RNG.standard_normal(4)
    cotangent = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    out, vjp_fn = ad.vjp(fft.fft, x)
    (gradient,) = vjp_fn(cotangent)
    # dL = Re(cotangent * d fft(x)) = Re(fft(cotangent)) . dx  (the DFT matrix is symmetric)
    np.testing.assert_allclose(gradient, np.real(np.fft.fft(cotangent)))
    assert gradient.dtype == np.float64
    _, tangent = ad.jvp(fft.fft, (x,), (np.ones(4),))
    np.testing.assert_allclose(tangent, np.fft.fft(np.ones(4)))
    real_out, real_vjp = ad.vjp(fft.irfft, x[:3] + 0.0)
    with pytest.raises(TypeError, match="cotangents must be real"):
        real_vjp(np.ones(real_out.shape, complex))
