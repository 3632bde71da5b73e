"""Finite-difference checks used by the library's own tests.

Every check works along random directions: for a function ``f`` of several float arrays,
reverse mode must satisfy ``<u, J v> = <vjp(u), v>`` with ``J v`` from a central
difference, and forward mode must give ``J v`` itself.
"""

from __future__ import annotations

import numpy as np

import adfun as ad

EPS = 1e-6


def directional_difference(fun, args, index, direction, eps=EPS):
    """Central difference of ``fun`` at ``args`` along ``direction`` in argument ``index``."""
    plus = list(args)
    minus = list(args)
    plus[index] = args[index] + eps * direction
    minus[index] = args[index] - eps * direction
    return (np.asarray(fun(*plus), float) - np.asarray(fun(*minus), float)) / (2 * eps)


def _random_like(rng, value):
    return rng.standard_normal(np.shape(value))


def check_reverse(fun, args, positions, rng, rtol=1e-5, atol=1e-6):
    """``<u, J_i v>`` by finite differences equals ``<vjp_i(u), v>`` for each position."""
    out = fun(*args)
    u = _random_like(rng, out)

    def restricted(*diff_args):
        full = list(args)
        for position, value in zip(positions, diff_args):
            full[position] = value
        return fun(*full)

    _, vjp_fn = ad.vjp(restricted, *[args[p] for p in positions])
    cotangents = vjp_fn(u if np.ndim(out) else np.asarray(u, dtype=np.result_type(out))[()])
    for slot, position in enumerate(positions):
        arg = args[position]
        cotangent = cotangents[slot]
        assert np.shape(cotangent) == np.shape(arg), (position, np.shape(cotangent))
        assert np.result_type(cotangent) == np.result_type(arg), (
            position, np.result_type(cotangent), np.result_type(arg))
        v = _random_like(rng, arg)
        numeric = np.sum(u * directional_difference(fun, args, position, v))
        analytic = np.sum(np.asarray(cotangent) * v)
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol,
                                   err_msg=f"reverse mode, argument {position}")


def check_forward(fun, args, positions, rng, rtol=1e-5, atol=1e-6):
    """``jvp`` along a random direction equals the central difference, per position."""
    for position in positions:
        arg = args[position]
        v = _random_like(rng, arg)

        def along(x, position=position):
            full = list(args)
            full[position] = x
            return fun(*full)

        out, tangent = ad.jvp(along, (arg,), (np.asarray(v, dtype=np.result_type(arg))
                                              if np.ndim(arg) else np.result_type(arg).type(v),))
        assert np.shape(tangent) == np.shape(out), (position, np.shape(tangent), np.shape(out))
        numeric = directional_difference(fun, args, position, v)
        np.testing.assert_allclose(np.asarray(tangent, float), numeric, rtol=rtol, atol=atol,
                                   err_msg=f"forward mode, argument {position}")


def check_second_order(fun, args, positions, rng, rtol=1e-4, atol=1e-5):
    """Reverse-over-reverse and forward-over-reverse against differences of the gradient."""
    out = fun(*args)
    u = _random_like(rng, out)
    w = [_random_like(rng, args[p]) for p in positions]

    def first_order(*diff_args):
        def restricted(*inner):
            full = list(args)
            for position, value in zip(positions, inner):
                full[position] = value
            return fun(*full)

        _, vjp_fn = ad.vjp(restricted, *diff_args)
        cotangents = vjp_fn(u if np.ndim(out) else np.float64(u))
        total = 0.0
        for cotangent, direction in zip(cotangents, w):
            total = total + ad.numpy.sum(cotangent * direction)
        return total

    diff_args = [args[p] for p in positions]
    check_reverse(first_order, diff_args, list(range(len(positions))), rng, rtol, atol)
    check_forward(first_order, diff_args, list(range(len(positions))), rng, rtol, atol)


def real_view(fun, args, positions):
    """``(fun, args, positions)`` rewritten so that every input and output is real.

    Complex outputs become ``stack([real(out), imag(out)])``; each complex argument is
    passed as two real arrays (its real and imaginary parts) and reassembled as
    ``re + 1j * im`` inside.  Finite differences along real directions then check the
    complex rules through the convention ``dL = Re(cotangent * dz)``, with no change to
    the checks above.  ``positions`` (the differentiated arguments) are renumbered.
    """
    complex_positions = [
        position for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray) and arg.dtype.kind == "c"
    ]
    flat_args = []
    flat_positions = []
    for position, arg in enumerate(args):
        start = len(flat_args)
        if position in complex_positions:
            flat_args.extend([np.array(arg.real), np.array(arg.imag)])
        else:
            flat_args.append(arg)
        if position in positions:
            flat_positions.extend(range(start, len(flat_args)))

    def realified(*flat):
        rebuilt = []
        cursor = 0
        for position in range(len(args)):
            if position in complex_positions:
                rebuilt.append(flat[cursor] + flat[cursor + 1] * 1j)
                cursor += 2
            else:
                rebuilt.append(flat[cursor])
                cursor += 1
        out = fun(*rebuilt)
        if _dtype(out).kind == "c":
            return ad.numpy.stack([ad.numpy.real(out), ad.numpy.imag(out)])
        return out

    return realified, flat_args, flat_positions


def _dtype(value):
    dtype = getattr(value, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.result_type(value)
