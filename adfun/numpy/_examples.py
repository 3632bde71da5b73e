"""Hypothesis helpers for the primitives' test domains (imported only by tests and
``adfun.testing``, never at import time of ``adfun.numpy``)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _elements(st: Any, low: float, high: float, magnitude: bool) -> Any:
    values = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    if magnitude:
        return st.tuples(values, st.sampled_from([-1.0, 1.0])).map(lambda pair: pair[0] * pair[1])
    return values


def array(
    draw: Any,
    st: Any,
    hnp: Any,
    bounds: tuple,
    *,
    shape: tuple | None = None,
    min_dims: int = 0,
    magnitude: bool = False,
    distinct: bool = False,
) -> np.ndarray:
    """A float64 array with entries in ``bounds`` (a random shape unless ``shape``)."""
    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    low, high = bounds
    if distinct:
        # Spread entries at least 0.05 apart so that no max/min tie is hit by a small step.
        count = int(np.prod(shape, dtype=np.int64))
        slots = draw(st.lists(st.integers(0, 120), min_size=count, max_size=count, unique=True))
        values = low + (np.asarray(slots, dtype=float) + 0.5) * (high - low) / 121.0
        return values.reshape(shape)
    return draw(hnp.arrays(np.float64, shape, elements=_elements(st, low, high, magnitude)))


def complex_array(
    draw: Any,
    st: Any,
    hnp: Any,
    bounds: tuple,
    *,
    shape: tuple | None = None,
    min_dims: int = 0,
    magnitude: float = 0.0,
) -> np.ndarray:
    """A complex128 array whose real and imaginary parts lie in ``bounds`` (a random
    shape unless ``shape``), with ``|z| >= magnitude`` (entries nearer 0 are pushed out
    along their direction, or to ``magnitude`` on the real axis)."""
    real_part = array(draw, st, hnp, bounds, shape=shape, min_dims=min_dims)
    imag_part = array(draw, st, hnp, bounds, shape=real_part.shape)
    z = np.asarray(real_part + 1j * imag_part)
    if magnitude > 0.0:
        size = np.abs(z)
        usable = size > 1e-100  # a direction to push along (else the real axis)
        direction = np.where(usable, z / np.where(usable, size, 1.0), 1.0)
        z = np.where(size < magnitude, direction * magnitude, z)
    return np.asarray(z, dtype=np.complex128)


def with_imaginary_parts(
    draw: Any, st: Any, hnp: Any, args: tuple, positions: tuple | None = None
) -> tuple:
    """``args`` with a random imaginary part added to each float array (at ``positions``
    only, if given), scaled like the array's real part; other arguments unchanged."""
    result = []
    for position, arg in enumerate(args):
        if (
            isinstance(arg, np.ndarray)
            and arg.dtype.kind == "f"
            and (positions is None or position in positions)
        ):
            scale = float(np.max(np.abs(arg), initial=1.0))
            imag_part = array(draw, st, hnp, (-scale, scale), shape=arg.shape)
            # No tiny imaginary parts: an exact 0 or a value of the real part's size.
            imag_part = np.where(np.abs(imag_part) < 1e-3 * scale, 0.0, imag_part)
            arg = np.asarray(arg + 1j * imag_part)
        result.append(arg)
    return tuple(result)


def broadcast_complex_arrays(
    draw: Any, st: Any, hnp: Any, ranges: tuple, magnitude: float = 0.0
) -> list:
    """One complex array per range, with shapes that broadcast together (0-d included)."""
    shapes = draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=len(ranges), min_dims=0, max_dims=3, max_side=3
        )
    ).input_shapes
    return [
        complex_array(draw, st, hnp, bounds, shape=shape, magnitude=magnitude)
        for shape, bounds in zip(shapes, ranges)
    ]


def broadcast_arrays(draw: Any, st: Any, hnp: Any, ranges: tuple, magnitude: bool = False) -> list:
    """One array per range, with shapes that broadcast together (0-d included)."""
    shapes = draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=len(ranges), min_dims=0, max_dims=3, max_side=3
        )
    ).input_shapes
    return [
        array(draw, st, hnp, bounds, shape=shape, magnitude=magnitude)
        for shape, bounds in zip(shapes, ranges)
    ]


def axis_params(draw: Any, st: Any, ndim: int) -> dict:
    """``axis`` (None or a sorted tuple, as primitives store it) and ``keepdims``."""
    choice = draw(st.sampled_from(["none", "int", "tuple"])) if ndim else "none"
    if choice == "none":
        axis: Any = None
    elif choice == "int":
        axis = (draw(st.integers(0, ndim - 1)),)
    else:
        axis = tuple(sorted(draw(st.sets(st.integers(0, ndim - 1), min_size=1))))
    return {"axis": axis, "keepdims": draw(st.booleans())}


def draw_example(draw: Any, st: Any, hnp: Any, primitive: Any) -> tuple:
    """``(args, params)`` inside ``primitive``'s declared domain."""
    domain = primitive.domain
    if domain.examples is not None:
        return domain.examples(draw, st, hnp)
    args = broadcast_arrays(draw, st, hnp, domain.ranges, magnitude=domain.magnitude)
    return tuple(args), {}


def draw_complex_example(draw: Any, st: Any, hnp: Any, primitive: Any) -> tuple:
    """``(args, params)`` inside ``primitive``'s declared complex domain.

    For elementwise primitives (``ranges``), each argument's real and imaginary parts are
    drawn from its range; ``magnitude=True`` keeps ``|z| >= 0.2`` (away from a branch
    point or pole at 0).
    """
    domain = primitive.complex_domain
    if domain.examples is not None:
        return domain.examples(draw, st, hnp)
    args = broadcast_complex_arrays(
        draw, st, hnp, domain.ranges, magnitude=0.2 if domain.magnitude else 0.0
    )
    return tuple(args), {}
