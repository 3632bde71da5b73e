"""Kept: check_grads checks every float argument and refuses complex ones; check() adapts both.

* :func:`check` runs :func:`adfun.testing.check_grads` on the arguments at ``positions``
  only (the others, floats included, are held fixed), through :func:`real_view` when an
  argument or the output is complex.
* :func:`real_view` rewrites a function of complex arrays as a function of real ones.
* :func:`expensive_examples`: the example count of the property tests whose examples
  cost about a second each.
"""

from __future__ import annotations

import numpy as np
from hypothesis import settings

import adfun as ad
from adfun.testing import check_grads


def check(fun, args, positions=None, order=2):
    """``check_grads`` of ``fun`` in the arguments at ``positions`` (all by default).

    Complex arguments and outputs go through :func:`real_view`; the arguments not at
    ``positions`` are passed unchanged.  ``order=2`` also checks second derivatives.
    """
    args = list(args)
    positions = list(range(len(args))) if positions is None else list(positions)
    fun, args, positions = real_view(fun, args, positions)

    def restricted(*diff_args):
        full = list(args)
        for position, value in zip(positions, diff_args, strict=True):
            full[position] = value
        return fun(*full)

    restricted.__name__ = getattr(fun, "__name__", "fun")
    check_grads(restricted, tuple(args[position] for position in positions), order=order)


def real_view(fun, args, positions):
    """``(fun, args, positions)`` rewritten so that every input and output is real.

    Complex outputs become ``stack([real(out), imag(out)])``; each complex argument is
    passed as two real arrays (its real and imaginary parts) and reassembled as
    ``re + 1j * im`` inside.  Finite differences along real directions then check the
    complex rules through the convention ``dL = Re(cotangent * dz)``.  ``positions``
    (the differentiated arguments) are renumbered.
    """
    complex_positions = [
        position
        for position, arg in enumerate(args)
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
        return _split_complex(fun(*rebuilt))

    realified.__name__ = getattr(fun, "__name__", "fun")
    return realified, flat_args, flat_positions


def _split_complex(out):
    """Each complex array of ``out`` (an array, or a tuple or list of outputs, such as
    ``cho_factor``'s ``(c, lower)``) as ``stack([real, imag])``; other values unchanged."""
    if isinstance(out, (tuple, list)):
        return type(out)(_split_complex(part) for part in out)
    if isinstance(out, (bool, np.bool_)):
        return out
    if _dtype(out).kind == "c":
        return ad.numpy.stack([ad.numpy.real(out), ad.numpy.imag(out)])
    return out


def _dtype(value):
    dtype = getattr(value, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.result_type(value)


def expensive_examples(ci: int) -> int:
    """Examples for a property test whose one example costs about a second (stacks of
    matrices checked to second order by finite differences, continued fractions): ``ci``
    under the default ``ci`` profile, the profile's own count under the long ones."""
    default = settings.default.max_examples
    return min(ci, default) if default <= 25 else default
