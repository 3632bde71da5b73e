"""Hypothesis strategies for testing code written with adfun.

Each function returns a Hypothesis strategy::

    from hypothesis import given
    from adfun.testing import check_grads, strategies as ads

    @given(ads.programs())
    def test_random_programs(program_and_args):
        program, args = program_and_args
        check_grads(program, args)

This module needs Hypothesis (``python -m pip install hypothesis``).
"""

from __future__ import annotations

import functools
from typing import Any, Literal, cast

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as error:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "adfun.testing.strategies needs the Hypothesis library, which is not installed; "
        "install it with `python -m pip install hypothesis`. "
        "adfun.testing.check_grads and numerical_jacobian work without it."
    ) from error

from adfun._engine.records import Params
from adfun.testing._programs import (
    COMPLEX_OPERATIONS,
    LINEAR_STEPS,
    MARGIN,
    VALUE_DEPENDENT,
    ComplexOperation,
    Operation,
    Program,
    Step,
    bounded,
    in_box,
    inside,
    is_complex,
    operations,
    run_step,
    separated,
    unique_extremum,
)

__all__ = ["arrays", "broadcastable_shapes", "complex_arrays", "floats", "programs", "shapes"]


def floats(
    min_value: float = -10, max_value: float = 10, *, width: Literal[16, 32, 64] = 64
) -> Any:
    """Finite floats in ``[min_value, max_value]`` (no NaN, no infinity).

    Parameters
    ----------
    min_value, max_value : float, optional
        The closed interval drawn from.
    width : {64, 32, 16}, optional
        Draw floats exactly representable in that many bits (32 for float32 arrays).

    Examples
    --------
    >>> from hypothesis import given
    >>> from adfun.testing import strategies as ads
    >>> @given(ads.floats(-1, 1))
    ... def test_in_range(value):
    ...     assert -1.0 <= value <= 1.0
    >>> test_in_range()
    """
    if not min_value <= max_value:
        raise ValueError(
            f"floats: min_value must not exceed max_value, got min_value={min_value!r} and "
            f"max_value={max_value!r}"
        )
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4, *, min_side: int = 1) -> Any:
    """Array shapes with ``min_dims`` to ``max_dims`` dimensions of ``min_side`` to
    ``max_side`` entries each.

    Examples
    --------
    >>> from hypothesis import given
    >>> from adfun.testing import strategies as ads
    >>> @given(ads.shapes(min_dims=2, max_dims=2))
    ... def test_two_dimensions(shape):
    ...     assert len(shape) == 2
    >>> test_two_dimensions()
    """
    _check_dims("shapes", min_dims, max_dims, min_side, max_side)
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def arrays(shape: Any = None, dtype: Any = np.float64, elements: Any = None) -> Any:
    """Float arrays of ``dtype`` with finite entries.

    Parameters
    ----------
    shape : tuple of int, int, or strategy, optional
        The shape; a random one from :func:`shapes` when ``None``.
    dtype : numpy dtype, optional
        A floating dtype (float64 by default; float32 gives float32 arrays).
    elements : strategy, optional
        The entries; by default :func:`floats` in ``[-10, 10]`` representable in ``dtype``.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from adfun.testing import strategies as ads
    >>> @given(ads.arrays((2, 3), dtype=np.float32))
    ... def test_float32(x):
    ...     assert x.shape == (2, 3) and x.dtype == np.float32
    >>> test_float32()
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(
            f"arrays: dtype must be a floating-point dtype (derivatives are taken with "
            f"respect to floats), got {dtype}; use float64 or float32"
        )
    if elements is None:
        # float16, float32 or float64 (a wider float is refused by hypothesis)
        elements = floats(width=cast("Literal[16, 32, 64]", 8 * dtype.itemsize))
    return hnp.arrays(dtype, shapes() if shape is None else shape, elements=elements)


def broadcastable_shapes(
    num_shapes: int = 2,
    min_dims: int = 0,
    max_dims: int = 3,
    max_side: int = 4,
    *,
    min_side: int = 1,
) -> Any:
    """Tuples of ``num_shapes`` shapes that broadcast together (NumPy rules).

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from adfun.testing import strategies as ads
    >>> @given(ads.broadcastable_shapes(num_shapes=3))
    ... def test_broadcast(shapes):
    ...     np.broadcast_shapes(*shapes)
    >>> test_broadcast()
    """
    if isinstance(num_shapes, bool) or not isinstance(num_shapes, int) or num_shapes < 1:
        raise ValueError(
            f"broadcastable_shapes: num_shapes must be a positive int, got {num_shapes!r}"
        )
    _check_dims("broadcastable_shapes", min_dims, max_dims, min_side, max_side)
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda drawn: tuple(drawn.input_shapes))


def complex_arrays(shape: Any = None, dtype: Any = np.complex128, elements: Any = None) -> Any:
    """Complex arrays of ``dtype`` with finite real and imaginary parts.

    Parameters
    ----------
    shape : tuple of int, int, or strategy, optional
        The shape; a random one from :func:`shapes` when ``None``.
    dtype : numpy dtype, optional
        A complex dtype (complex128 by default; complex64 gives complex64 arrays).
    elements : strategy, optional
        The entries; by default ``complex(re, im)`` with ``re`` and ``im`` drawn by
        :func:`floats` in ``[-10, 10]``, representable in ``dtype``.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> import adfun.numpy as anp
    >>> from adfun.testing import check_grads, strategies as ads
    >>> @given(ads.complex_arrays((3,)))
    ... def test_complex(z):
    ...     assert z.shape == (3,) and z.dtype == np.complex128
    ...     check_grads(lambda z: anp.conj(z) * z + 2.0 * z, (z,))
    >>> test_complex()
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "c":
        raise ValueError(
            f"complex_arrays: dtype must be a complex dtype, got {dtype}; use complex128 or "
            f"complex64 (or ads.arrays for float arrays)"
        )
    if elements is None:
        part = floats(width=cast("Literal[16, 32, 64]", 4 * dtype.itemsize))
        elements = st.builds(complex, part, part)
    return hnp.arrays(dtype, shapes() if shape is None else shape, elements=elements)


def programs(
    max_ops: int = 10,
    num_args: int = 1,
    *,
    value_dependent: Any = (),
    complex_intermediates: bool = False,
    holomorphic: bool = False,
) -> Any:
    """Random differentiable programs and arguments for them: pairs ``(fun, args)``.

    ``fun`` is a :class:`~adfun.testing._programs.Program`: up to ``max_ops`` applications
    of ``adfun.numpy`` primitives (elementwise functions of one or two arguments,
    ``maximum``/``minimum``, and ``sum``/``mean``/``max``/``min`` over drawn axes) to the
    arguments, to float constants and to earlier results; it returns every result that
    no later step uses (several as a tuple), so every step counts.  ``args`` is a tuple of
    ``num_args`` float64 arrays (or floats) whose shapes broadcast together.

    Every primitive only ever sees inputs inside its declared test domain: a value that
    falls outside (or within 2% of the edge) is first mapped smoothly into the domain by
    ``low + (high - low) * (tanh(v) + 1) / 2``, a step that appears in the listing;
    ``max``, ``min``, ``maximum`` and ``minimum`` are only applied away from ties.  Only
    primitives declared smooth are used, so the programs can be checked to second order.
    The ``repr`` of ``fun`` is the program as Python source, so a failing Hypothesis
    example shows it.

    With ``value_dependent``, programs also take steps whose result depends on the order
    or comparison of values: ``sort`` (``sort(v, axis=-1)``), ``argsort`` (a gather
    ``take_along_axis(w, argsort(v, axis=-1), axis=-1)``, or ``v[argsort(v)]`` in one
    dimension), ``argmax`` (``ravel(v)[argmax(v)]``, or with ``argmin``), ``where``
    (``where(greater(v, w), a, b)``, or ``less``) and ``ties`` (``max``, ``min``,
    ``maximum`` and ``minimum`` applied at ties too, where the gradient is split).  Such
    programs may be evaluated at kinks (ties), so they are meant for comparing transforms
    with each other (``jit`` against eager, for instance), not with finite differences.

    With ``complex_intermediates=True``, each argument is a float64 or a complex128 array
    (or a float), and programs move into the complex plane and back: ``v * c`` with a
    complex constant ``c``, ``v + 1j * w``, ``exp(1j * v)``, ``matmul`` by a constant
    complex matrix, ``fft.fft`` and ``fft.ifft``; they apply the primitives of
    ``adfun.testing._programs.COMPLEX_OPERATIONS`` (arithmetic, ``exp``,
    ``log`` and ``sqrt`` away from their branch cut, ``sin``, ``cos``, ``tanh``, ...,
    ``conjugate``, ``real``, ``imag``, ``absolute``, ``angle``) and ``sum``/``mean`` to
    complex values, and the real ones above to real values (a complex value is first
    mapped to its ``real`` or ``imag`` part).  Each complex argument of a step is kept in
    a box of the plane, away from branch cuts, poles and zeros, by the same ``tanh`` map
    applied to its real and imaginary parts; a step whose result would exceed 100 in size
    is not taken.  The program returns one real scalar: every unused result, taken as its
    ``real`` or ``imag`` part or ``|v|**2`` when complex, summed and added up, so that
    ``grad`` applies.  With ``holomorphic=True``, the arguments are complex, only
    complex-differentiable steps are used (arithmetic, the elementary functions, ``sum``,
    ``mean``, ``matmul`` and the FFTs; a step whose argument would leave its box is left
    out instead of mapped), and the result is a complex scalar, for
    ``grad(..., holomorphic=True)``.

    Parameters
    ----------
    max_ops : int, optional
        The most primitive applications drawn (domain-keeping steps come on top).
    num_args : int, optional
        Number of positional arguments.
    value_dependent : bool or tuple of str, optional
        The value-dependent steps allowed, among ``"sort"``, ``"argsort"``, ``"argmax"``,
        ``"where"`` and ``"ties"``; ``True`` for all of them.  None by default.
    complex_intermediates : bool, optional
        Programs with complex intermediate values (and complex arguments) and a real
        scalar result.  ``False`` by default: float arguments and values only.
    holomorphic : bool, optional
        Holomorphic programs of complex arguments with a complex scalar result (no
        value-dependent steps).  ``False`` by default.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from adfun.testing import check_grads, strategies as ads
    >>> @settings(max_examples=10)
    ... @given(ads.programs(max_ops=5, num_args=2))
    ... def test_programs(program_and_args):
    ...     fun, args = program_and_args
    ...     check_grads(fun, args)
    >>> test_programs()
    >>> import adfun as ad
    >>> @settings(max_examples=10)
    ... @given(ads.programs(max_ops=5, complex_intermediates=True))
    ... def test_complex_programs(program_and_args):
    ...     fun, args = program_and_args  # a real scalar of real or complex arguments
    ...     check_grads(fun, args)
    >>> test_complex_programs()
    >>> @settings(max_examples=10)
    ... @given(ads.programs(max_ops=5, holomorphic=True))
    ... def test_holomorphic_programs(program_and_args):
    ...     fun, (z,) = program_and_args
    ...     derivative = ad.grad(fun, holomorphic=True)(z)  # f'(z) entry by entry
    ...     assert derivative.dtype == z.dtype
    >>> test_holomorphic_programs()
    """
    for name, value, smallest in (("max_ops", max_ops, 1), ("num_args", num_args, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
            raise ValueError(f"programs: {name} must be a positive int, got {value!r}")
    for name, flag in (
        ("complex_intermediates", complex_intermediates),
        ("holomorphic", holomorphic),
    ):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"programs: {name} must be True or False, got {flag!r}")
    value_steps = _value_steps(value_dependent)
    if holomorphic and value_steps:
        raise ValueError(
            f"programs: holomorphic programs take no value-dependent steps (they compare "
            f"real values), got value_dependent={value_dependent!r}; leave it out"
        )
    mode = "holomorphic" if holomorphic else ("complex" if complex_intermediates else "real")
    return _programs(operations(), max_ops, num_args, value_steps, mode)


def _value_steps(value_dependent: Any) -> frozenset:
    if value_dependent is True:
        return frozenset(VALUE_DEPENDENT)
    if value_dependent is False or value_dependent is None:
        return frozenset()
    if isinstance(value_dependent, str):
        value_dependent = (value_dependent,)
    try:
        chosen = frozenset(value_dependent)
    except TypeError:
        chosen = None
    if chosen is None or not chosen <= set(VALUE_DEPENDENT):
        raise ValueError(
            f"programs: value_dependent must be True, False or an iterable of step names "
            f"among {list(VALUE_DEPENDENT)}, got {value_dependent!r}"
        )
    return chosen


_KIND_WEIGHTS = {"elementwise": 4, "reduction": 2, "separated": 1, "value": 2}
#: The weights of the kinds of steps of programs with complex intermediates (and of
#: holomorphic ones, which have no elementwise, separated or value-dependent steps).
_COMPLEX_WEIGHTS = {
    "elementwise": 2,
    "reduction": 1,
    "separated": 1,
    "value": 1,
    "complex": 5,
    "linear": 2,
    "enter": 3,
}
#: How real values enter the complex plane (see ``_Builder.enter_step``).
_ENTER_STEPS = ("times", "plus_i_times", "phase")


@st.composite
def _programs(
    draw: Any,
    catalog: tuple,
    max_ops: int,
    num_args: int,
    value_steps: frozenset = frozenset(),
    mode: str = "real",
) -> tuple:
    """``mode`` is ``"real"`` (float values only), ``"complex"`` (complex intermediates,
    a real scalar result) or ``"holomorphic"`` (complex arguments, holomorphic steps, a
    complex scalar result)."""
    # Each argument's shape is a common shape with some leading axes dropped and some
    # sides set to 1, so that they broadcast together and are usually not tiny.
    common = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    args = []
    for _ in range(num_args):
        dropped = draw(st.integers(0, len(common)))
        shape = tuple(1 if draw(st.integers(0, 3)) == 3 else side for side in common[dropped:])
        complex_arg = mode == "holomorphic" or (mode == "complex" and draw(st.booleans()))
        if complex_arg:
            part = floats(-3.0, 3.0)
            args.append(
                draw(hnp.arrays(np.complex128, shape, elements=st.builds(complex, part, part)))
            )
        elif shape == () and draw(st.booleans()):
            args.append(draw(floats(-3.0, 3.0)))
        else:
            args.append(draw(hnp.arrays(np.float64, shape, elements=floats(-3.0, 3.0))))
    builder = _Builder(
        draw, {f"x{index}": arg for index, arg in enumerate(args)}, value_steps, mode
    )
    # Draw the kind of operation first, so that the few reductions are not drowned out
    # by the many elementwise functions (roughly 4 : 2 : 1).
    by_kind: dict = {}
    for operation in catalog:
        if mode != "holomorphic" or (operation.kind == "reduction" and not operation.needs_unique):
            by_kind.setdefault(operation.kind, []).append(operation)
    steps = sorted(value_steps - {"ties"})
    if steps:
        by_kind["value"] = steps
    weights = _KIND_WEIGHTS
    if mode != "real":
        by_kind["complex"] = [
            operation
            for operation in COMPLEX_OPERATIONS
            if mode == "complex" or operation.holomorphic
        ]
        by_kind["linear"] = list(LINEAR_STEPS)
        if mode == "complex":
            by_kind["enter"] = list(_ENTER_STEPS)
        weights = _COMPLEX_WEIGHTS
    kinds = [kind for kind, weight in weights.items() if kind in by_kind for _ in range(weight)]
    for _ in range(draw(st.integers(1, max_ops))):
        kind = draw(st.sampled_from(kinds))
        if kind == "value":
            builder.value_step(draw(st.sampled_from(by_kind["value"])))
        elif kind == "complex":
            builder.complex_step(draw(st.sampled_from(by_kind["complex"])))
        elif kind == "linear":
            builder.linear_step(draw(st.sampled_from(by_kind["linear"])))
        elif kind == "enter":
            builder.enter_step(draw(st.sampled_from(by_kind["enter"])))
        else:
            builder.add(draw(st.sampled_from(by_kind[kind])))
    outputs = builder.sinks() if mode == "real" else builder.scalar_result()
    return Program(num_args, tuple(builder.steps), outputs), tuple(args)


class _Builder:
    """Grows a program step by step, keeping the value of every variable at the point."""

    def __init__(
        self, draw: Any, values: dict, value_steps: frozenset = frozenset(), mode: str = "real"
    ) -> None:
        self.draw = draw
        self.values = dict(values)
        self.pool = list(values)
        self.steps: list = []
        self.ties = "ties" in value_steps
        self.mode = mode

    def sinks(self) -> tuple:
        """The results no later step uses: the program returns them all, so that every
        step counts (the last input when there are no steps)."""
        used = {operand for step in self.steps for operand in step.operands}
        unused = tuple(step.target for step in self.steps if step.target not in used)
        return unused or (self.pool[-1],)

    def scalar_result(self) -> tuple:
        """Adds up the sinks into one scalar: real (each complex sink through ``real``,
        ``imag`` or ``|v|**2 = real(v * conjugate(v))``), or complex for holomorphic
        programs."""
        totals = []
        for sink in self.sinks():
            if self.mode == "complex" and is_complex(self.values[sink]):
                how = self.draw(st.sampled_from(["real", "imag", "abs2"]))
                if how == "abs2":
                    conjugate = self._new("conjugate", (sink,), Params(), pick=False)
                    product = self._new("multiply", (sink, conjugate), Params(), pick=False)
                    sink = self._new("real", (product,), Params(), pick=False)
                else:
                    sink = self._new(how, (sink,), Params(), pick=False)
            if np.ndim(self.values[sink]):
                sink = self._new("sum", (sink,), Params(axis=None, keepdims=False), pick=False)
            totals.append(sink)
        total = totals[0]
        for other in totals[1:]:
            total = self._new("add", (total, other), Params(), pick=False)
        return (total,)

    def _new(self, name: str, operands: tuple, params: Params, pick: bool = True) -> str:
        """Append a step; ``pick=False`` for an index or mask, which later steps do not
        pick as an operand."""
        step = Step(f"v{len(self.steps)}", name, operands, params)
        return self._keep(step, run_step(step, self.values), pick)

    def _new_bounded(self, name: str, operands: tuple, params: Params) -> None:
        """Append a step unless its result is not :func:`bounded` (then it is not taken)."""
        step = Step(f"v{len(self.steps)}", name, operands, params)
        value = run_step(step, self.values)
        if bounded(value):
            self._keep(step, value, True)

    def _keep(self, step: Step, value: Any, pick: bool) -> str:
        self.steps.append(step)
        self.values[step.target] = value
        if pick:
            self.pool.append(step.target)
        return step.target

    def _pick(self, prefer: Any = None) -> str:
        """A variable, counting back from the newest (shrinks towards a plain chain); with
        ``prefer``, among the values it accepts when there are any."""
        pool = self.pool
        if prefer is not None:
            pool = [name for name in pool if prefer(self.values[name])] or pool
        back = self.draw(st.integers(0, len(pool) - 1))
        return pool[-1 - back]

    def _pick_real(self, prefer: Any = None) -> str:
        """A real variable: complex ones are preferred less and mapped to their ``real``
        or ``imag`` part (programs without complex intermediates draw as ``_pick``)."""
        if self.mode == "real":
            return self._pick(prefer)
        variable = self._pick(
            lambda value: not is_complex(value) and (prefer is None or prefer(value))
        )
        if not is_complex(self.values[variable]):
            return variable
        part = self.draw(st.sampled_from(["real", "imag"]))
        return self._new(part, (variable,), Params())

    def _into(self, variable: str, low: float, high: float, magnitude: bool, operation: str) -> str:
        if inside(self.values[variable], low, high, magnitude):
            return variable
        return self._new("squash", (variable,), Params(low=low, high=high, into=operation))

    def add(self, operation: Operation) -> None:
        if operation.kind == "elementwise":
            self._elementwise(operation)
        elif operation.kind == "separated":
            self._separated(operation)
        else:
            self._reduction(operation)

    def _elementwise(self, operation: Operation) -> None:
        constant_slot = None
        if operation.arity == 2:
            constant_slot = self.draw(st.sampled_from([None, 1, 0]))
        operands = []
        for slot, (low, high) in enumerate(operation.ranges):
            if slot == constant_slot:
                pad = MARGIN * (high - low)
                bottom = max(low, 0.0) if operation.magnitude else low
                operands.append(self.draw(floats(bottom + pad, high - pad)))
            else:
                operands.append(
                    self._into(self._pick_real(), low, high, operation.magnitude, operation.name)
                )
        self._new(operation.name, tuple(operands), Params())

    def _separated(self, operation: Operation) -> None:
        first = self._pick_real()
        if self.draw(st.booleans()):
            second: Any = self.draw(floats(-3.0, 3.0))
            value = second
        else:
            second = self._pick_real()
            value = self.values[second]
        if self.ties or separated(self.values[first], value):
            self._new(operation.name, (first, second), Params())

    def _reduction(self, operation: Operation) -> None:
        big = self._pick_real if operation.needs_unique else self._pick
        variable = big(lambda value: np.size(value) > 1)
        ndim = np.ndim(self.values[variable])
        how = self.draw(st.sampled_from(["all", "keepdims", "leading"])) if ndim else "all"
        if how == "all":
            axis, keepdims = None, False
        elif how == "keepdims":
            axis = tuple(sorted(self.draw(st.sets(st.integers(0, ndim - 1), min_size=1))))
            keepdims = True
        else:
            # Dropping leading axes keeps the result broadcastable with every other value.
            axis, keepdims = tuple(range(self.draw(st.integers(1, ndim)))), False
        if (
            operation.needs_unique
            and not self.ties
            and not unique_extremum(self.values[variable], axis, operation.name == "max")
        ):
            return
        self._new(operation.name, (variable,), Params(axis=axis, keepdims=keepdims))

    def complex_step(self, operation: ComplexOperation) -> None:
        """A step of :data:`~adfun.testing._programs.COMPLEX_OPERATIONS` on values real or
        complex, each kept inside its box: mapped into it (``squash`` or ``csquash``), or,
        in a holomorphic program, the step is left out when no value lies inside.  A
        constant operand is complex more often than not (which is how real values enter
        the complex plane), and a step whose result would not be bounded is left out."""
        draw = self.draw
        holomorphic = self.mode == "holomorphic"
        constant_slot = None
        if len(operation.boxes) == 2:
            constant_slot = draw(st.sampled_from([None, 1, 0]))
        operands: list = []
        for slot, box in enumerate(operation.boxes):
            if slot == constant_slot:
                operands.append(self._constant(box))
                continue
            prefer: Any
            if holomorphic:
                prefer = None if box is None else functools.partial(in_box, box=box)
            else:
                # Half the time among complex values, so that steps stay in the plane.
                prefer = is_complex if draw(st.booleans()) else None
            variable = self._pick(prefer)
            if box is None:
                operands.append(variable)
                continue
            value = self.values[variable]
            if in_box(value, box):
                operands.append(variable)
            elif holomorphic:
                return
            elif is_complex(value):
                operands.append(
                    self._new("csquash", (variable,), Params(box=box, into=operation.name))
                )
            else:
                low, high = box[0], box[1]
                operands.append(
                    self._new(
                        "squash", (variable,), Params(low=low, high=high, into=operation.name)
                    )
                )
        self._new_bounded(operation.name, tuple(operands), Params())

    def _constant(self, box: tuple | None) -> Any:
        re_low, re_high, im_low, im_high = (-2.0, 2.0, -2.0, 2.0) if box is None else box
        re_pad, im_pad = MARGIN * (re_high - re_low), MARGIN * (im_high - im_low)
        real = self.draw(floats(re_low + re_pad, re_high - re_pad))
        if self.draw(st.integers(0, 3)) == 0:
            return real
        return complex(real, self.draw(floats(im_low + im_pad, im_high - im_pad)))

    def enter_step(self, how: str) -> None:
        """A real value (preferably) into the complex plane: ``times`` a complex constant,
        ``plus_i_times`` another value (``v + 1j * w``) or ``phase`` (``exp(1j * v)``)."""
        variable = self._pick(lambda value: not is_complex(value))
        if how == "phase" and is_complex(self.values[variable]):
            return  # exp(1j * v) of a complex v could overflow
        if how == "times":
            part = floats(-2.0, 2.0)
            constant = complex(self.draw(part), self.draw(part.filter(bool)))
            self._new_bounded("multiply", (variable, constant), Params())
            return
        other = (
            self._pick(lambda value: not is_complex(value)) if how == "plus_i_times" else variable
        )
        rotated = self._new("multiply", (other, 1j), Params(), pick=False)
        if how == "plus_i_times":
            self._new_bounded("add", (variable, rotated), Params())
        else:
            self._new_bounded("exp", (rotated,), Params())

    def linear_step(self, name: str) -> None:
        """``matmul`` by a constant complex square matrix on the right, or ``fft.fft`` /
        ``fft.ifft`` along the last axis: complex-linear steps that keep the shape."""
        variable = self._pick(lambda value: np.ndim(value) >= 1)
        shape = np.shape(self.values[variable])
        if not shape:
            return
        side = shape[-1]
        if name == "matmul":
            part = floats(-1.0, 1.0)
            entries = self.draw(
                st.lists(st.builds(complex, part, part), min_size=side * side, max_size=side * side)
            )
            matrix = tuple(tuple(entries[row * side : (row + 1) * side]) for row in range(side))
            self._new_bounded("matmul", (variable, matrix), Params())
        else:
            self._new_bounded(name, (variable,), Params(n=side, axis=-1, norm="backward"))

    def value_step(self, kind: str) -> None:
        """A value-dependent step (see :func:`programs`)."""
        draw = self.draw
        if kind == "where":
            first = self._pick_real()
            second: Any = self.draw(floats(-3.0, 3.0)) if draw(st.booleans()) else self._pick_real()
            mask = self._new(
                draw(st.sampled_from(["greater", "less"])), (first, second), Params(), pick=False
            )
            self._new("where", (mask, self._pick(), self._pick()), Params())
            return
        variable = self._pick_real(lambda value: np.size(value) > 1)
        value = self.values[variable]
        if np.size(value) < 2:
            return
        if kind == "sort":
            self._new("sort", (variable,), Params(axis=-1))
        elif kind == "argsort":
            order = self._new("argsort", (variable,), Params(axis=-1), pick=False)
            source = self._pick(lambda other: np.shape(other) == np.shape(value))
            if np.shape(self.values[source]) != np.shape(value):
                source = variable
            if np.ndim(value) == 1 and draw(st.booleans()):
                self._new("getitem", (source, order), Params())
            else:
                self._new("take_along_axis", (source, order), Params(axis=-1))
        else:
            index = self._new(
                draw(st.sampled_from(["argmax", "argmin"])), (variable,), Params(), pick=False
            )
            flat = variable
            if np.ndim(value) != 1:
                flat = self._new("ravel", (variable,), Params(), pick=False)
            self._new("getitem", (flat, index), Params())


def _check_dims(function: str, min_dims: int, max_dims: int, min_side: int, max_side: int) -> None:
    if not 0 <= min_dims <= max_dims:
        raise ValueError(
            f"{function}: need 0 <= min_dims <= max_dims, got min_dims={min_dims!r} and "
            f"max_dims={max_dims!r}"
        )
    if not 0 <= min_side <= max_side:
        raise ValueError(
            f"{function}: need 0 <= min_side <= max_side, got min_side={min_side!r} and "
            f"max_side={max_side!r}"
        )
