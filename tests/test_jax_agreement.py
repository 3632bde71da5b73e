"""adfun agrees with JAX (in float64) on random programs, real and complex.

Issue 17 asks that random programs with complex intermediates agree with JAX in value,
gradient and JVP: JAX follows the same complex convention (for a real-valued ``f`` of
``z = x + iy``, ``grad(f)(z) = df/dx - i df/dy``; ``holomorphic=True`` gives ``f'(z)``).
Each drawn :class:`~adfun.testing._programs.Program` is also run with ``jax.numpy``
(``program.run(JAX, *args)``) and differentiated by ``jax.grad`` and ``jax.jvp``; the
results must agree to ``1e-10`` relative (in norm, over each array; ``1e-13`` absolute).
A few fixed losses (an FFT power spectrum, ``angle``, a complex matrix product) are
checked the same way.

The programs draw from the primitives of ``adfun.numpy`` (``jax.numpy`` has them all
under the same names, with ``bessel_i1`` as ``jax.scipy.special.i1``), whether or not
``adfun.scipy`` has added its special functions to the registry: the examples do not
depend on which test modules ran before.
"""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402 - after the skip and the float64 switch
import jax.scipy.special as jss  # noqa: E402
from hypothesis import given, settings  # noqa: E402

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402
from adfun.testing._programs import operations  # noqa: E402
from adfun.testing.strategies import _programs  # noqa: E402

#: Relative tolerance, in norm over each array, and an absolute one for derivatives that
#: are all tiny (such as those through a saturated ``tanh``, where ``1 - tanh(v) ** 2``
#: cancels and different roundings differ by far more than 1e-10 relative).
RTOL, ATOL = 1e-10, 1e-13


class _JaxNumpy:
    """``jax.numpy`` under the names of adfun's registry (``program.run`` looks them up)."""

    bessel_i1 = staticmethod(jss.i1)

    def __getattr__(self, name: str):
        return getattr(jnp, name)


JAX = _JaxNumpy()


def _catalog():
    """The real operations of ``programs()`` that live in ``adfun.numpy`` (no ``special.``)."""
    return tuple(operation for operation in operations() if "." not in operation.name)


def _drawn(mode, max_ops=10, num_args=2):
    return _programs(_catalog(), max_ops, num_args, frozenset(), mode)


def _assert_close(got, expected, what):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, (what, got.shape, expected.shape)
    assert np.iscomplexobj(got) == np.iscomplexobj(expected), (what, got.dtype, expected.dtype)
    scale = max(np.linalg.norm(np.ravel(expected)), np.linalg.norm(np.ravel(got)), 1e-8)
    difference = np.linalg.norm(np.ravel(got - expected))
    assert difference <= RTOL * scale + ATOL, (
        f"{what}: adfun and JAX differ by {difference:.3g} (relative {difference / scale:.3g})"
        f"\n  adfun: {got!r}\n  JAX:   {expected!r}"
    )


def _tangents(args, seed=0):
    rng = np.random.default_rng(seed)
    tangents = []
    for arg in args:
        shape = np.shape(arg)
        tangent = rng.standard_normal(shape)
        if np.iscomplexobj(arg):
            tangent = tangent + 1j * rng.standard_normal(shape)
        tangents.append(float(tangent) if isinstance(arg, float) else np.asarray(tangent))
    return tuple(tangents)


def _total(xp, out):
    """A scalar of every output of a program that returns arrays or a tuple of them:
    ``sum(out_k * (k + 1) * linspace(1, 2, size))`` added up (weights, so that the
    gradient is not that of a plain sum)."""
    leaves = out if isinstance(out, tuple) else (out,)
    total = 0.0
    for k, leaf in enumerate(leaves):
        size = int(np.size(leaf))
        weights = np.linspace(1.0, 2.0, size).reshape(np.shape(leaf)) * (k + 1)
        total = total + xp.sum(leaf * weights)
    return total


def _agree(fun, jax_fun, args, holomorphic=False, scalar=True):
    """Value, gradient (with respect to every argument) and JVP of ``fun`` against
    ``jax_fun``; without ``scalar``, the gradients are those of :func:`_total` of the
    outputs.  JAX computes all three in one ``jax.jit`` (one compilation per program
    instead of one per operation and shape: it is many times faster)."""
    argnums = tuple(range(len(args)))
    tangents = _tangents(args)
    loss, jax_loss = fun, jax_fun
    if not scalar:

        def loss(*xs):
            return _total(anp, fun(*xs))

        def jax_loss(*xs):
            return _total(jnp, jax_fun(*xs))

    def reference(args, tangents):
        gradient = jax.grad(jax_loss, argnums=argnums, holomorphic=holomorphic)(*args)
        return jax_fun(*args), gradient, jax.jvp(jax_fun, args, tangents)[1]

    value, gradient, derivative = jax.jit(reference)(args, tangents)
    for what, got, expected in _leaves("value", fun(*args), value):
        _assert_close(got, expected, what)
    ours = ad.grad(loss, argnums=argnums, holomorphic=holomorphic)(*args)
    for index, (got, expected) in enumerate(zip(ours, gradient)):
        _assert_close(got, expected, f"gradient with respect to args[{index}]")
    for what, got, expected in _leaves("jvp", ad.jvp(fun, args, tangents)[1], derivative):
        _assert_close(got, expected, what)


def _leaves(what, got, expected):
    if not isinstance(got, tuple):
        return [(what, got, expected)]
    assert isinstance(expected, tuple) and len(got) == len(expected), (what, got, expected)
    return [(f"{what}, output {k}", a, b) for k, (a, b) in enumerate(zip(got, expected))]


def _agree_on_program(program, args, holomorphic=False, scalar=True):
    _agree(program, lambda *xs: program.run(JAX, *xs), args, holomorphic, scalar)


# --- random programs -----------------------------------------------------------------------


@settings(max_examples=15)
@given(_drawn("complex"))
def test_programs_with_complex_intermediates_agree_with_jax(program_and_args):
    program, args = program_and_args
    _agree_on_program(program, args)


@settings(max_examples=10)
@given(_drawn("holomorphic"))
def test_holomorphic_programs_agree_with_jax(program_and_args):
    program, args = program_and_args
    assert all(np.iscomplexobj(arg) for arg in args)
    _agree_on_program(program, args, holomorphic=True)


@settings(max_examples=10)
@given(_drawn("real", max_ops=8))
def test_real_programs_agree_with_jax(program_and_args):
    program, args = program_and_args
    _agree_on_program(program, args, scalar=False)


# --- fixed cases ---------------------------------------------------------------------------

RNG = np.random.default_rng(17)
X = RNG.standard_normal(6)
Z = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))


def test_an_fft_power_spectrum_loss_agrees_with_jax():
    def loss(xp):
        def f(x):
            spectrum = xp.fft.fft(x * xp.exp(0.3j * x))
            return xp.sum(xp.abs(spectrum) ** 2 * xp.arange(6.0)) + xp.sum(
                xp.angle(spectrum + 20.0)
            )

        return f

    _agree(loss(anp), loss(jnp), (X,))


def test_an_ifft_of_a_complex_input_agrees_with_jax():
    def loss(xp):
        return lambda z: xp.sum(xp.real(xp.fft.ifft(z * xp.conj(z[::-1]), axis=0)) ** 3)

    _agree(loss(anp), loss(jnp), (Z,))


@pytest.mark.parametrize("x", [0.3, -0.7, 1.5])
def test_angle_of_a_complex_intermediate_agrees_with_jax(x):
    def f(xp):
        return lambda x: xp.angle(x + 0.5j) * xp.angle(xp.exp(1j * x) * (2.0 - 1.0j))

    _agree(f(anp), f(jnp), (x,))


def test_angle_of_a_complex_input_agrees_with_jax():
    def f(xp):
        return lambda z: xp.sum(xp.angle(z) * xp.abs(z))

    _agree(f(anp), f(jnp), (Z,))


def test_a_complex_matrix_product_agrees_with_jax():
    weights = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))

    def f(xp):
        def loss(z, w):
            product = z @ w
            return xp.sum(xp.real(product * xp.conj(product))) + xp.imag(xp.trace(z @ z))

        return loss

    _agree(f(anp), f(jnp), (Z, weights))


def test_a_holomorphic_matrix_function_agrees_with_jax():
    def f(xp):
        return lambda z: xp.sum(xp.exp(z @ z.T) / (z + 3.0))

    _agree(f(anp), f(jnp), (Z,), holomorphic=True)


def test_real_input_complex_intermediate_keeps_a_real_gradient_like_jax():
    def f(xp):
        return lambda x: xp.real(xp.sum(xp.exp(1j * x) * (1.0 + 2.0j)))

    gradient = ad.grad(f(anp))(X)
    assert gradient.dtype == np.float64
    _agree(f(anp), f(jnp), (X,))


@pytest.mark.parametrize(
    "name", ["arctan2", "hypot", "logaddexp", "logaddexp2", "float_power", "fmod"]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_real_binary_functions_feeding_complex_intermediates(name, dtype):
    # Their reverse rules receive complex cotangents (the real part is taken at the end):
    # a cast to the argument's float dtype once dropped the imaginary part with a
    # ComplexWarning (an error under this suite's warning filter).
    x, y = np.array([1.3, 0.6], dtype=dtype), np.array([0.4, 1.1], dtype=dtype)

    def f(xp):
        def loss(x, y):
            value = getattr(xp, name)(x, y)
            return xp.sum(xp.imag(value * (0.5 + 2.0j)) + xp.abs(value * (1.0 - 1.0j)) ** 2)

        return loss

    if dtype == np.float64:
        _agree(f(anp), f(jnp), (x, y))
    gradients = ad.grad(f(anp), argnums=(0, 1))(x, y)
    assert all(gradient.dtype == dtype for gradient in gradients)
    expected = ad.grad(f(anp), argnums=(0, 1))(x.astype(np.float64), y.astype(np.float64))
    for gradient, wanted in zip(gradients, expected):
        np.testing.assert_allclose(gradient, wanted, rtol=1e-4)
