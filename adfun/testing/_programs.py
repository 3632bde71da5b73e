"""Random differentiable programs: the operations they may use and the program object.

The Hypothesis strategy that draws programs lives in :mod:`adfun.testing.strategies`;
this module does not import Hypothesis.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from adfun._engine.records import EMPTY_PARAMS, Params, Primitive
from adfun._engine.trace import call_primitive
from adfun.numpy._declare import COMPOSITES, REGISTRY

#: Reductions programs may use; ``True`` marks those whose derivative needs a unique extremum.
_REDUCTIONS = {"sum": False, "mean": False, "max": True, "min": True}
#: Binary elementwise primitives that are smooth away from ties of their two arguments.
_SEPARATED = ("maximum", "minimum")
#: How far (as a fraction of the width) a value must stay inside a range to be used as is,
#: and the gap required between tied candidates of ``max``/``min``/``maximum``/``minimum``.
MARGIN = 0.02
SEPARATION = 0.05
#: The value-dependent steps ``programs(value_dependent=...)`` may draw (see
#: :func:`adfun.testing.strategies.programs`): ``sort`` (along the last axis), ``argsort``
#: (a gather ``take_along_axis(y, argsort(x))``, or ``x[argsort(x)]`` in one dimension),
#: ``argmax`` (``ravel(x)[argmax(x)]`` and the same with ``argmin``), ``where`` (``where``
#: with a comparison mask) and ``ties`` (``max``/``min``/``maximum``/``minimum`` applied
#: at ties too).
VALUE_DEPENDENT = ("sort", "argsort", "argmax", "where", "ties")
#: Steps called through their public ``adfun.numpy`` function (with public keywords)
#: rather than through the primitive.
_PUBLIC_STEPS = frozenset(
    {
        "sort",
        "argsort",
        "take_along_axis",
        "getitem",
        "ravel",
        "argmax",
        "argmin",
        "greater",
        "less",
        "where",
    }
)


#: The boxes complex operands are kept in, as ``(re_low, re_high, im_low, im_high)``:
#: ``_NEAR`` for functions that grow exponentially with a part of their argument,
#: ``_RIGHT`` (the right half-plane) away from the branch cut on the negative real axis
#: and from 0, ``_STRIP`` below the poles of ``tanh`` at ``i pi / 2``.
_NEAR = (-3.0, 3.0, -3.0, 3.0)
_RIGHT = (0.2, 4.0, -4.0, 4.0)
_STRIP = (-3.0, 3.0, -1.2, 1.2)
#: No complex intermediate may exceed this size (a step that would is not taken).
LARGEST = 100.0


@attrs.frozen
class ComplexOperation:
    """A primitive that programs with complex intermediates may apply to complex values.

    Attributes
    ----------
    name : str
        The primitive's name in ``adfun.numpy._declare.REGISTRY``.
    boxes : tuple
        One entry per argument: ``None`` (any value) or the box
        ``(re_low, re_high, im_low, im_high)`` the argument must lie in (its real and
        imaginary parts, with a margin), away from branch cuts, poles and kinks.
    holomorphic : bool
        Complex-differentiable: such operations alone make a holomorphic program.
    """

    name: str
    boxes: tuple
    holomorphic: bool = True


#: The primitives programs apply to complex values (``programs(complex_intermediates=True)``).
COMPLEX_OPERATIONS = (
    ComplexOperation("add", (None, None)),
    ComplexOperation("subtract", (None, None)),
    ComplexOperation("multiply", (None, None)),
    ComplexOperation("divide", (None, _RIGHT)),
    ComplexOperation("negative", (None,)),
    ComplexOperation("square", (None,)),
    ComplexOperation("reciprocal", (_RIGHT,)),
    ComplexOperation("exp", (_NEAR,)),
    ComplexOperation("expm1", (_NEAR,)),
    ComplexOperation("sin", (_NEAR,)),
    ComplexOperation("cos", (_NEAR,)),
    ComplexOperation("sinh", (_NEAR,)),
    ComplexOperation("cosh", (_NEAR,)),
    ComplexOperation("tanh", (_STRIP,)),
    ComplexOperation("log", (_RIGHT,)),
    ComplexOperation("log1p", ((-0.8, 3.0, -3.0, 3.0),)),
    ComplexOperation("sqrt", (_RIGHT,)),
    ComplexOperation("conjugate", (None,), holomorphic=False),
    ComplexOperation("real", (None,), holomorphic=False),
    ComplexOperation("imag", (None,), holomorphic=False),
    ComplexOperation("absolute", (_RIGHT,), holomorphic=False),
    ComplexOperation("angle", (_RIGHT,), holomorphic=False),
)
#: Complex-linear steps that keep the shape of their argument: ``matmul`` by a constant
#: complex square matrix, ``fft.fft`` and ``fft.ifft`` along the last axis.
LINEAR_STEPS = ("matmul", "fft.fft", "fft.ifft")


@attrs.frozen
class Operation:
    """A primitive that random programs may apply, and how its inputs are kept valid.

    Attributes
    ----------
    name : str
        The primitive's name in ``adfun.numpy._declare.REGISTRY``.
    primitive : Primitive
        The primitive itself.
    kind : str
        ``"elementwise"`` (broadcasting, one range per argument), ``"separated"``
        (``maximum``/``minimum``: arguments kept apart) or ``"reduction"`` (one array,
        ``axis``/``keepdims`` params).
    ranges : tuple of (low, high)
        The declared domain of each argument (elementwise operations only).
    magnitude : bool
        The ranges bound ``|x|`` (see :class:`adfun.numpy._declare.Domain`).
    needs_unique : bool
        A reduction whose derivative needs a unique extremum (``max``, ``min``).
    """

    name: str
    primitive: Primitive = attrs.field(repr=False)
    kind: str
    ranges: tuple = ()
    magnitude: bool = False
    needs_unique: bool = False

    @property
    def arity(self) -> int:
        return (
            1 if self.kind == "reduction" else (2 if self.kind == "separated" else len(self.ranges))
        )


def operations() -> tuple:
    """The operations random programs draw from, read from the primitive registry.

    Every smooth, differentiable primitive whose domain is a plain range per argument (one
    or two arguments) and which broadcasts like an elementwise function qualifies, plus
    ``maximum``/``minimum`` and the ``sum``, ``mean``,
    ``max`` and ``min`` reductions: the primitives whose argument shapes a program can
    control while keeping every intermediate shape broadcast-compatible.
    """

    chosen = []
    for name in sorted(REGISTRY):
        primitive = REGISTRY[name].primitive
        domain = primitive.domain
        if primitive.nondiff or domain is None or not domain.smooth or primitive.jvps is None:
            continue
        if name in _REDUCTIONS:
            chosen.append(Operation(name, primitive, "reduction", needs_unique=_REDUCTIONS[name]))
        elif name in _SEPARATED:
            chosen.append(Operation(name, primitive, "separated"))
        elif (
            domain.examples is None
            and len(domain.ranges) in (1, 2)
            and isinstance(primitive.vjps, tuple)
            and isinstance(primitive.jvps, tuple)
            and len(primitive.vjps) == len(domain.ranges) == len(primitive.jvps)
            and all(rule is not None for rule in primitive.vjps + primitive.jvps)
            and _broadcasts_elementwise(primitive, domain.ranges)
        ):
            chosen.append(
                Operation(
                    name,
                    primitive,
                    "elementwise",
                    tuple(tuple(map(float, r)) for r in domain.ranges),
                    domain.magnitude,
                )
            )
    return tuple(chosen)


def _broadcasts_elementwise(primitive: Primitive, ranges: tuple) -> bool:
    """Whether ``primitive`` maps broadcast arguments to the broadcast shape, as an
    elementwise function does (probed once on small arrays inside the ranges)."""
    shapes = [(2, 3), (3,)][: len(ranges)]
    args = [np.full(shape, (low + high) / 2.0) for shape, (low, high) in zip(shapes, ranges)]
    try:
        with np.errstate(all="ignore"):
            out = primitive.impl(*args)
    except Exception:  # noqa: BLE001 - anything but an elementwise function is left out
        return False
    return np.shape(out) == (2, 3) and np.result_type(out) == np.float64


# --------------------------------------------------------------------------------------
# Domains
# --------------------------------------------------------------------------------------


def inside(value: Any, low: float, high: float, magnitude: bool, margin: float = MARGIN) -> bool:
    """Whether every entry of ``value`` lies inside ``[low, high]`` with a margin.

    With ``magnitude`` the range bounds ``|value|`` (a ``low <= 0`` then only bounds it
    from above).
    """
    value = np.asarray(value, dtype=np.float64)
    pad = margin * (high - low)
    if magnitude:
        size = np.abs(value)
        return bool(np.all(size <= high - pad) and (low <= 0 or np.all(size >= low + pad)))
    return bool(np.all(value >= low + pad) and np.all(value <= high - pad))


def unique_extremum(value: Any, axis: tuple | None, largest: bool) -> bool:
    """Whether the max (``largest``) or min of ``value`` over ``axis`` is unique, by a gap."""
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 0:
        return True
    axes = tuple(range(value.ndim)) if axis is None else axis
    rest = [index for index in range(value.ndim) if index not in axes]
    rows = np.transpose(value, rest + list(axes)).reshape(
        int(np.prod([value.shape[i] for i in rest], dtype=np.int64)), -1
    )
    if rows.shape[1] < 2:
        return True
    ordered = np.sort(rows, axis=1)
    gaps = ordered[:, -1] - ordered[:, -2] if largest else ordered[:, 1] - ordered[:, 0]
    return bool(np.all(gaps >= SEPARATION))


def separated(first: Any, second: Any) -> bool:
    """Whether two broadcastable values differ by at least the separation everywhere."""
    gap = np.abs(np.asarray(first, dtype=np.float64) - np.asarray(second, dtype=np.float64))
    return bool(np.all(gap >= SEPARATION))


def in_box(value: Any, box: tuple, margin: float = MARGIN) -> bool:
    """Whether the real and imaginary parts of every entry of ``value`` lie inside ``box``
    ``(re_low, re_high, im_low, im_high)`` with a margin (a fraction of each side)."""
    value = np.asarray(value)
    re_low, re_high, im_low, im_high = box
    re_pad, im_pad = margin * (re_high - re_low), margin * (im_high - im_low)
    real, imag = value.real, value.imag
    return bool(
        np.all(real >= re_low + re_pad)
        and np.all(real <= re_high - re_pad)
        and np.all(imag >= im_low + im_pad)
        and np.all(imag <= im_high - im_pad)
    )


def bounded(value: Any) -> bool:
    """Whether every entry of ``value`` is finite and at most :data:`LARGEST` in size."""
    value = np.asarray(value)
    return bool(np.all(np.isfinite(value)) and np.all(np.abs(value) <= LARGEST))


def is_complex(value: Any) -> bool:
    """Whether ``value`` (an array or a scalar) has a complex dtype."""
    return bool(np.iscomplexobj(value))


# --------------------------------------------------------------------------------------
# Programs
# --------------------------------------------------------------------------------------


@attrs.frozen
class Step:
    """One line of a program: ``target = name(*operands, **params)``.

    ``name`` is a registry name (a value-dependent step may also name a public
    ``adfun.numpy`` function such as ``sort``, called with public keywords), or
    ``"squash"`` for the smooth map
    ``low + (high - low) * (tanh(v) + 1) / 2`` into a domain (``params`` holds ``low``,
    ``high`` and ``into``, the primitive whose domain it is), or ``"csquash"`` for the
    same map applied to the real and imaginary parts of a complex value (``params``
    holds ``box``, ``(re_low, re_high, im_low, im_high)``, and ``into``).  An operand is
    a variable name (``str``), a float or complex constant, or a constant matrix given
    as a tuple of rows.
    """

    target: str
    name: str
    operands: tuple
    params: Params = EMPTY_PARAMS

    def source(self) -> str:
        if self.name == "squash":
            low, high = self.params["low"], self.params["high"]
            return (
                f"{self.target} = {_squash_source(self.operands[0], low, high)}"
                f"  # into [{low!r}, {high!r}] for {self.params['into']}"
            )
        if self.name == "csquash":
            re_low, re_high, im_low, im_high = self.params["box"]
            variable = self.operands[0]
            return (
                f"{self.target} = {_squash_source(f'real({variable})', re_low, re_high)}"
                f" + 1j * ({_squash_source(f'imag({variable})', im_low, im_high)})"
                f"  # into [{re_low!r}, {re_high!r}] + [{im_low!r}, {im_high!r}]j"
                f" for {self.params['into']}"
            )
        operands = [_operand_source(operand) for operand in self.operands]
        keywords = [f"{key}={value!r}" for key, value in self.params.items()]
        return f"{self.target} = {self.name}({', '.join(operands + keywords)})"


def _squash_source(variable: str, low: float, high: float) -> str:
    return f"{low!r} + {(high - low) / 2.0!r} * (tanh({variable}) + 1.0)"


def _operand_source(operand: Any) -> str:
    if isinstance(operand, str):
        return operand
    if isinstance(operand, tuple):
        return f"array({[list(row) for row in operand]!r})"
    return repr(operand)


@attrs.frozen(eq=False)
class Program:
    """A random differentiable program over ``adfun.numpy`` primitives.

    Call it like a function of ``num_args`` positional arguments.  Its ``repr`` is the
    program as Python source, runnable in the namespace of the primitives::

        scope = namespace()
        exec(repr(program), scope)
        scope["program"](*args)

    ``run(namespace, *args)`` evaluates it with the functions of another array library
    instead (``program.run(jax.numpy, *args)``).

    Attributes
    ----------
    num_args : int
        Number of positional arguments (``x0``, ``x1``, ...).
    steps : tuple of Step
        The lines of the program, in order.
    outputs : tuple of str
        The variables returned: one is returned as is, several as a tuple.
    """

    num_args: int
    steps: tuple
    outputs: tuple

    def __call__(self, *args: Any) -> Any:
        self._check_arity(args)
        env = {f"x{index}": arg for index, arg in enumerate(args)}
        for step in self.steps:
            env[step.target] = run_step(step, env)
        return self._outputs(env)

    def run(self, namespace: Any, *args: Any) -> Any:
        """Evaluate the program with the functions of another array library.

        Each step ``name(*operands, **params)`` calls the function of that name in
        ``namespace``, with the same keywords (a dotted name such as ``fft.fft`` is looked
        up attribute by attribute); the maps into domains are written with its ``add``,
        ``multiply``, ``tanh``, ``real`` and ``imag``, and constant matrices are passed as
        NumPy arrays.  ``program.run(jax.numpy, *args)`` runs it in JAX, for instance (but
        for ``bessel_i1``, which JAX spells ``jax.scipy.special.i1``), and
        ``program.run(namespace(), *args)`` gives the same values as ``program(*args)``.

        Parameters
        ----------
        namespace : object or dict
            Where the functions are looked up: a module such as ``jax.numpy``, any object
            with those attributes, or a dict of them (as ``namespace()`` returns).
        *args
            The ``num_args`` arguments.
        """
        self._check_arity(args)
        env = {f"x{index}": arg for index, arg in enumerate(args)}
        for step in self.steps:
            env[step.target] = run_step_in(namespace, step, env)
        return self._outputs(env)

    def _check_arity(self, args: tuple) -> None:
        if len(args) != self.num_args:
            raise TypeError(
                f"program takes {self.num_args} positional argument(s) but {len(args)} were given"
            )

    def _outputs(self, env: dict) -> Any:
        if len(self.outputs) == 1:
            return env[self.outputs[0]]
        return tuple(env[name] for name in self.outputs)

    def source(self) -> str:
        """The program as the source of a Python function named ``program``."""
        arguments = ", ".join(f"x{index}" for index in range(self.num_args))
        lines = [f"def program({arguments}):"]
        lines += [f"    {step.source()}" for step in self.steps]
        lines.append(f"    return {', '.join(self.outputs)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.source()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints attrs instances field by field unless told otherwise.
        for index, line in enumerate(self.source().splitlines()):
            if index:
                printer.break_()
            printer.text(line)

    @property
    def __name__(self) -> str:  # so messages of transforms and checks name it
        return "program"


def namespace() -> dict:
    """The registry's functions by name, for running a program's source with ``exec``
    (with the public functions value-dependent steps call, such as ``sort``, and
    ``array`` for constant matrices).

    Dotted registry names (``special.erf``) become attributes of nested namespaces.
    """
    from types import SimpleNamespace

    scope: dict = {name: COMPOSITES[name] for name in _PUBLIC_STEPS if name in COMPOSITES}
    scope["array"] = np.array  # constant matrices
    for name, fun in REGISTRY.items():
        head, *rest = name.split(".")
        if not rest:
            scope[head] = fun
            continue
        node = scope.setdefault(head, SimpleNamespace())
        for part in rest[:-1]:
            if not hasattr(node, part):
                setattr(node, part, SimpleNamespace())
            node = getattr(node, part)
        setattr(node, rest[-1], fun)
    return scope


def run_step(step: Step, env: dict) -> Any:
    """Evaluate one step with the values of ``env`` (plain or traced)."""

    values = _operand_values(step, env)
    if step.name in ("squash", "csquash"):
        return _squash(REGISTRY.__getitem__, step, values[0])
    if step.name in _PUBLIC_STEPS:
        return public_function(step.name)(*values, **step.params)
    return call_primitive(REGISTRY[step.name].primitive, values, step.params)


def run_step_in(namespace: Any, step: Step, env: dict) -> Any:
    """Evaluate one step with the functions of ``namespace`` (see :meth:`Program.run`)."""

    def lookup(name: str) -> Any:
        head, *rest = name.split(".")
        found = namespace[head] if isinstance(namespace, dict) else getattr(namespace, head)
        for part in rest:
            found = getattr(found, part)
        return found

    values = _operand_values(step, env)
    if step.name in ("squash", "csquash"):
        return _squash(lookup, step, values[0])
    if step.name == "getitem":
        return values[0][values[1]]
    return lookup(step.name)(*values, **step.params)


def _operand_values(step: Step, env: dict) -> tuple:
    return tuple(
        env[operand]
        if isinstance(operand, str)
        else (np.array(operand) if isinstance(operand, tuple) else operand)
        for operand in step.operands
    )


def _squash(lookup: Any, step: Step, value: Any) -> Any:
    """The ``squash`` or ``csquash`` step on ``value``, with the functions ``lookup`` names."""
    add, multiply, tanh = lookup("add"), lookup("multiply"), lookup("tanh")

    def into(part: Any, low: float, high: float) -> Any:
        return add(low, multiply((high - low) / 2.0, add(tanh(part), 1.0)))

    if step.name == "squash":
        return into(value, step.params["low"], step.params["high"])
    re_low, re_high, im_low, im_high = step.params["box"]
    real = into(lookup("real")(value), re_low, re_high)
    return add(real, multiply(1j, into(lookup("imag")(value), im_low, im_high)))


def public_function(name: str) -> Any:
    """The ``adfun.numpy`` function a value-dependent step calls."""

    return REGISTRY[name] if name in REGISTRY else COMPOSITES[name]
