"""Derivative checks against central finite differences: ``check_grads``, ``numerical_jacobian``.

Every check works along random directions, so it costs a few function evaluations per
argument whatever the argument's size:

* reverse mode: ``<vjp(u), v>`` against ``<u, (f(x + eps v) - f(x - eps v)) / (2 eps)>``;
* forward mode: ``jvp(v)`` against the same central difference, entry by entry;
* agreement of the two modes (the dot-product test): ``<u, jvp(v)>`` against ``<vjp(u), v>``;
* higher order: the derivative functions ``x -> <w, vjp(f, x)(u)>`` and
  ``x -> jvp(f, x, w)`` are checked the same way, recursively.

Complex arguments and outputs are checked in the real inner product
``<a, b> = Re(sum(conj(a) * b))`` that HIPS autograd's vector spaces use: directions are
complex, the cotangent passed for an output direction ``u`` is ``conj(u)`` (with adfun's
convention ``dL = Re(cotangent * dy)`` that is the covector of ``u``), and a gradient
``g`` is paired with a direction ``v`` as ``Re(sum(g * v))``.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import numpy as np

from adfun import numpy as anp
from adfun._engine.backend import backend_of, is_foreign, to_backend, to_host
from adfun._engine.pytree import leaf_paths, tree_flatten, tree_unflatten
from adfun._engine.trace import full_value as full
from adfun._transforms.functional import jvp, vjp

#: A tolerance's scale: one number, or one per entry of an array.
_Scale = TypeVar("_Scale", float, np.ndarray)

MODES = ("fwd", "rev")
_MODE_NAMES = {"rev": "reverse mode", "fwd": "forward mode"}


class _DefaultTolerance(float):
    """A default of ``check_grads``: replaced by its low-precision value for float32 checks.

    A value the caller passes explicitly is a plain ``float`` and is always used as given.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return float.__repr__(self)


#: Defaults for float64 checks (the values in the signature) ...
_EPS = _DefaultTolerance(1e-6)
_RTOL = _DefaultTolerance(1e-5)
_ATOL = _DefaultTolerance(1e-6)
#: ... and for checks where an argument or an output is float32 (or narrower).
LOW_PRECISION_DEFAULTS = {"eps": 1e-3, "rtol": 2e-3, "atol": 2e-4}


def check_grads(
    fun: Callable,
    args: Any,
    modes: Any = ("fwd", "rev"),
    order: int = 2,
    *,
    eps: float = _EPS,
    rtol: float = _RTOL,
    atol: float = _ATOL,
    seed: int = 0,
) -> None:
    """Check ``fun``'s derivatives against central finite differences.

    Along random directions ``u`` (of the output) and ``v`` (of one argument at a time),
    the check compares

    * ``'rev'``: ``<vjp(u), v>`` with ``<u, (f(x + eps v) - f(x - eps v)) / (2 eps)>``;
    * ``'fwd'``: ``jvp(v)`` with the central difference, entry by entry;
    * both modes: ``<u, jvp(v)>`` with ``<vjp(u), v>`` (forward and reverse must agree);

    and the shape and dtype of every gradient and tangent.  With ``order=2`` the derivative
    functions ``x -> <w, vjp(fun, x)(u)>`` (``'rev'``) and ``x -> jvp(fun, x, w)``
    (``'fwd'``) are checked the same way, which exercises reverse-over-reverse,
    forward-over-reverse, reverse-over-forward and forward-over-forward; higher ``order``
    recurses further.

    Two numbers ``a`` and ``b`` agree when ``|a - b| <= atol + rtol * scale``, where
    ``scale`` is the larger of their magnitudes (for a dot product: the larger of the two
    sums of absolute terms, so that cancellation in the sum does not hide an error).

    Parameters
    ----------
    fun : callable
        ``fun(*args)`` returns an array, a float or a pytree (tuple, list, dict) of them.
    args : tuple or list
        The positional arguments: pytrees of float (or complex) arrays and numbers.
        Every float and complex leaf is checked, along random real (complex)
        directions; other leaves (ints, integer arrays, strings, ``None``) are passed
        through unchanged as constants.
    modes : tuple of str, optional
        ``'fwd'`` (forward mode, :func:`adfun.jvp`), ``'rev'`` (reverse mode,
        :func:`adfun.vjp`) or both; with both, their agreement is checked too.
    order : int, optional
        Highest derivative order to check (1: first derivatives only).
    eps : float, optional
        Step of the central differences.
    rtol, atol : float, optional
        Relative and absolute tolerance.
    seed : int, optional
        Seed of the random directions (the check is deterministic for a given seed).

    Notes
    -----
    **float32.** When an argument or an output is float32 (or narrower), adfun computes
    the derivatives in float32, so the defaults become ``rtol=2e-3`` and ``atol=2e-4``.
    The finite differences are then run on the arguments converted to float64, which
    most NumPy code follows; if ``fun`` still returns float32 there, the default step
    becomes ``eps=1e-3`` (a smaller step would drown in float32 round-off).  Values you
    pass explicitly are always used as given.

    Raises
    ------
    AssertionError
        If a check fails.  The message names the argument by its pytree path (e.g.
        ``args[0]['w']``), the mode (``'fwd'`` or ``'rev'``) and the order, the two
        numbers that disagree, and the tolerance.
    ValueError
        If ``modes`` or ``order`` is invalid, or ``args`` holds no float to check.
    TypeError
        If ``args`` is not a tuple or list.

    Examples
    --------
    >>> import numpy as np
    >>> import adfun.numpy as anp
    >>> from adfun.testing import check_grads
    >>> check_grads(lambda x, y: anp.sin(x) * y, (np.array([0.5, 1.0]), 2.0))
    >>> check_grads(lambda p: anp.tanh(p["w"] * p["b"]), ({"w": 0.3, "b": -1.2},), order=1)
    """
    modes = _validate_modes(modes)
    order = _validate_order(order)
    if not isinstance(args, (tuple, list)):
        raise TypeError(
            f"check_grads: args must be a tuple (or list) of positional arguments for "
            f"{_name(fun)}, got {type(args).__name__}; for a single argument x write "
            f"check_grads(fun, (x,))"
        )
    leaves, tree = tree_flatten(tuple(args))
    backend = backend_of(leaves, "check_grads")
    if backend is not None:
        # Another array library: the derivatives are computed there, the differences on
        # host copies; the function sees the library's arrays and returns to the host
        # through differentiable transfers.
        # Every float goes to the backend (a Python float as a 0-d array there), so that
        # every derivative is computed there and comes back through a transfer.
        foreign = [is_foreign(leaf) or _is_inexact(leaf) for leaf in leaves]
        on_host = [
            to_host(leaf, backend) if moved else leaf for leaf, moved in zip(leaves, foreign)
        ]
        library_fun = fun

        def host_fun(*host_args: Any) -> Any:
            flat, flat_tree = tree_flatten(tuple(host_args))
            inner = [
                to_backend(leaf, backend) if moved else leaf for leaf, moved in zip(flat, foreign)
            ]
            out, out_tree = tree_flatten(library_fun(*tree_unflatten(flat_tree, inner)))
            return tree_unflatten(out_tree, [to_host(leaf, backend) for leaf in out])

        host_fun.__name__ = _name(fun)
        fun = host_fun
        args = tree_unflatten(tree, on_host)
        leaves = on_host
    paths = leaf_paths(tree, "args")
    positions = [index for index, leaf in enumerate(leaves) if _is_inexact(leaf)]
    if not positions:
        raise ValueError(
            f"check_grads: the arguments of {_name(fun)} contain no floating-point value to "
            f"check (integers and other leaves are treated as constants); pass floats, "
            f"e.g. 3.0 instead of 3 or x.astype(float)"
        )

    def flat_fun(*float_leaves: Any) -> Any:
        full = list(leaves)
        for position, value in zip(positions, float_leaves):
            full[position] = value
        return fun(*tree_unflatten(tree, full))

    flat_fun.__name__ = _name(fun)
    primals = [leaves[position] for position in positions]
    outputs = tree_flatten(flat_fun(*primals))[0]
    if any(_is_low_precision(leaf) for leaf in primals + outputs):
        rtol = _low(rtol, "rtol")
        atol = _low(atol, "atol")
        # The differences run on float64 arguments; a function that still answers in
        # float32 there needs a float32-sized step (at every order).
        upcast = [_upcast(primal) for primal in primals]
        if any(_is_low_precision(leaf) for leaf in tree_flatten(flat_fun(*upcast))[0]):
            eps = _low(eps, "eps")
    checker = _Checker(
        fun_name=_name(fun),
        paths=[paths[position] for position in positions],
        modes=modes,
        eps=float(eps),
        rtol=float(rtol),
        atol=float(atol),
        rng=np.random.default_rng(seed),
    )
    checker.check(flat_fun, primals, 1, order, _name(fun))


def numerical_jacobian(fun: Callable, x: Any, eps: float = 1e-6) -> np.ndarray:
    """The Jacobian of ``fun`` at ``x`` by central finite differences.

    Parameters
    ----------
    fun : callable
        ``fun(x)`` returns an array or a float.
    x : array_like of float, or float
        The point; float32 input is evaluated in float64.
    eps : float, optional
        Step of the central differences.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``fun(x).shape + x.shape`` (the layout of
        :func:`adfun.jacobian`): entry ``[i..., j...]`` is ``d fun(x)[i...] / d x[j...]``.

    Raises
    ------
    TypeError
        If ``x`` is not made of floats or ``fun`` returns a tuple, list or dict.

    Examples
    --------
    >>> import numpy as np
    >>> from adfun.testing import numerical_jacobian
    >>> np.round(numerical_jacobian(lambda x: x ** 2, np.array([1.0, 3.0])), 6)
    array([[2., 0.],
           [0., 6.]])
    """
    if not _is_float(x):
        raise TypeError(
            f"numerical_jacobian: x must be a float or a float array, got "
            f"{_describe(x)}; convert it first, e.g. x.astype(float)"
        )
    point = np.array(x, dtype=np.float64)
    out = _as_output_array(fun, fun(point[()] if point.ndim == 0 else point))
    jacobian = np.zeros(out.shape + point.shape)
    for index in np.ndindex(*point.shape):
        plus = point.copy()
        minus = point.copy()
        plus[index] += eps
        minus[index] -= eps
        high = _as_output_array(fun, fun(plus[()] if point.ndim == 0 else plus))
        low = _as_output_array(fun, fun(minus[()] if point.ndim == 0 else minus))
        jacobian[(Ellipsis,) + index] = (high - low) / (2.0 * eps)
    return jacobian


# --------------------------------------------------------------------------------------
# Validation and small helpers
# --------------------------------------------------------------------------------------


def _validate_modes(modes: Any) -> tuple:
    if isinstance(modes, str):
        raise ValueError(
            f"check_grads: modes must be a tuple of modes such as ('fwd', 'rev'), got the "
            f"string {modes!r}; write modes=({modes!r},)"
        )
    try:
        chosen = tuple(modes)
    except TypeError:
        raise ValueError(
            f"check_grads: modes must be a tuple containing 'fwd' and/or 'rev', got {modes!r}"
        ) from None
    unknown = [mode for mode in chosen if mode not in MODES]
    if unknown or not chosen:
        raise ValueError(
            f"check_grads: modes must be a non-empty tuple containing 'fwd' (forward mode) "
            f"and/or 'rev' (reverse mode), got {modes!r}"
        )
    return tuple(mode for mode in MODES if mode in chosen)


def _validate_order(order: Any) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(
            f"check_grads: order must be a positive int (1 checks first derivatives, 2 also "
            f"second derivatives), got {order!r}"
        )
    return int(order)


def _low(value: float, name: str) -> float:
    if isinstance(value, _DefaultTolerance):
        return LOW_PRECISION_DEFAULTS[name]
    return value


def _name(fun: Any) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


def _describe(value: Any) -> str:
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return f"{type(value).__name__} of dtype {dtype}"
    return f"{type(value).__name__} {value!r:.60}"


def _is_float(leaf: Any) -> bool:
    if isinstance(leaf, (bool, np.bool_)):
        return False
    if isinstance(leaf, (float, np.floating)):
        return True
    return isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f"


def _is_complex(leaf: Any) -> bool:
    if isinstance(leaf, (complex, np.complexfloating)):
        return True
    return isinstance(leaf, np.ndarray) and leaf.dtype.kind == "c"


def _is_inexact(leaf: Any) -> bool:
    """A leaf whose derivatives are checked: a float or a complex number or array."""
    return _is_float(leaf) or _is_complex(leaf)


def _is_low_precision(leaf: Any) -> bool:
    dtype = getattr(leaf, "dtype", None)
    if dtype is None:
        return False
    dtype = np.dtype(dtype)
    return (dtype.kind == "f" and dtype.itemsize < 8) or (dtype.kind == "c" and dtype.itemsize < 16)


def _upcast(leaf: Any) -> Any:
    """``leaf`` in float64 or complex128 (Python numbers and double precision unchanged)."""
    if _is_low_precision(leaf):
        wide = np.complex128 if _is_complex(leaf) else np.float64
        return np.asarray(leaf, dtype=wide) if isinstance(leaf, np.ndarray) else wide(leaf)
    return leaf


def _wide(value: Any) -> np.ndarray:
    """``value`` as a float64 array, or a complex128 one if it is complex."""
    value = np.asarray(value)
    return value.astype(np.complex128 if value.dtype.kind == "c" else np.float64)


def _direction(rng: Any, like: Any) -> np.ndarray:
    """A random direction shaped like ``like``: complex for complex values."""
    shape = np.shape(like)
    if _is_complex(like):
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return rng.standard_normal(shape)


def _shifted(value: Any, step: np.ndarray) -> Any:
    """``value + step``, keeping ``value``'s type (0-d arrays stay arrays, floats floats)."""
    if isinstance(value, np.ndarray):
        return np.asarray(value + step)
    if isinstance(value, complex) or isinstance(value, np.complexfloating):
        return type(value)(value + complex(step))
    return type(value)(value + float(step))


def _as_output_array(fun: Any, out: Any) -> np.ndarray:
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(
            f"numerical_jacobian: {_name(fun)} must return a single array or float, but it "
            f"returned a {type(out).__name__}; differentiate one output at a time"
        )
    return np.asarray(out, dtype=np.float64)


def _cast_like(direction: np.ndarray, like: Any) -> Any:
    """A random direction with the type, dtype and shape of ``like`` (a primal or output)."""
    dtype = getattr(like, "dtype", None)
    if dtype is None and isinstance(like, complex):
        dtype = np.complex128
    dtype = np.dtype(dtype) if dtype is not None else np.dtype(np.float64)
    if dtype.kind not in "fc":
        dtype = np.dtype(np.float64)
    if isinstance(like, np.ndarray) or np.ndim(direction) > 0:
        return np.asarray(direction, dtype=dtype)
    return dtype.type(direction)


def _dot(first: Any, second: Any) -> tuple[float, float]:
    """``Re(sum(first * second))`` in double precision and the sum of the absolute terms.

    A cotangent is paired with a direction without conjugation (``dL = Re(g * dz)``);
    an output direction ``u`` enters as its covector ``conj(u)``.
    """
    with np.errstate(invalid="ignore", over="ignore"):  # NaN and inf fail the comparison
        terms = _wide(first) * _wide(second)
        return float(np.real(np.sum(terms))), float(np.sum(np.abs(terms)))


def _fmt(value: float) -> str:
    return f"{value:.10g}"


# --------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------


class _Checker:
    """Runs the checks of one ``check_grads`` call (directions from one random generator)."""

    def __init__(
        self,
        *,
        fun_name: str,
        paths: list,
        modes: tuple,
        eps: float,
        rtol: float,
        atol: float,
        rng: Any,
    ) -> None:
        self.fun_name = fun_name
        self.paths = paths
        self.modes = modes
        self.eps = eps
        self.rtol = rtol
        self.atol = atol
        self.rng = rng

    # -- one level --------------------------------------------------------------------

    def check(
        self, fun: Callable, primals: list, order: int, max_order: int, description: str
    ) -> None:
        out = fun(*primals)
        out_leaves, out_tree = tree_flatten(out)
        out_paths = leaf_paths(out_tree, "out")
        is_float_out = [_is_inexact(leaf) for leaf in out_leaves]
        # u: the output directions, as covectors (conj(u) for complex outputs), which are
        # both the cotangents passed to vjp and the weights of the projections.
        u = [
            np.conj(_direction(self.rng, leaf)) if floating else np.zeros(np.shape(leaf))
            for leaf, floating in zip(out_leaves, is_float_out)
        ]
        directions = [_direction(self.rng, primal) for primal in primals]
        differences = [
            self._difference(fun, primals, index, directions[index], out_tree)
            for index in range(len(primals))
        ]
        context = _Context(description, order, self.eps, out_paths)

        cotangents = None
        if "rev" in self.modes:
            _, vjp_fn = vjp(fun, *primals)
            seed = tree_unflatten(out_tree, [_cast_like(d, leaf) for d, leaf in zip(u, out_leaves)])
            cotangents = vjp_fn(seed)
            for index, primal in enumerate(primals):
                self._check_like("rev", context, index, cotangents[index], primal, "gradient")
                analytic, analytic_scale = _dot(cotangents[index], directions[index])
                numeric, numeric_scale = self._project(u, differences[index])
                self._compare(
                    "rev",
                    context,
                    index,
                    analytic,
                    numeric,
                    max(analytic_scale, numeric_scale),
                    "<vjp(u), v>",
                    "<u, central difference along v>",
                )
        if "fwd" in self.modes:
            for index, primal in enumerate(primals):
                tangents = [_cast_like(np.zeros(np.shape(p)), p) for p in primals]
                tangents[index] = _cast_like(directions[index], primal)
                _, tangent_out = jvp(fun, tuple(primals), tuple(tangents))
                tangent_leaves, tangent_tree = tree_flatten(tangent_out)
                if tangent_tree != out_tree:
                    raise AssertionError(
                        f"{context.head('fwd', self.paths[index])}: the output tangent has "
                        f"structure {tangent_tree}, but the output has structure {out_tree}"
                    )
                for leaf, out_leaf, floating, out_path, difference in zip(
                    tangent_leaves, out_leaves, is_float_out, out_paths, differences[index]
                ):
                    if floating:
                        self._check_like(
                            "fwd", context, index, leaf, out_leaf, f"tangent of {out_path}"
                        )
                        self._compare_entries(context, index, out_path, leaf, difference)
                if cotangents is not None:
                    forward, forward_scale = self._project(u, tangent_leaves)
                    reverse, reverse_scale = _dot(cotangents[index], directions[index])
                    self._compare(
                        "fwd/rev",
                        context,
                        index,
                        forward,
                        reverse,
                        max(forward_scale, reverse_scale),
                        "<u, jvp(v)>",
                        "<vjp(u), v>",
                    )
        if order < max_order:
            self._check_derivatives(fun, primals, out_tree, u, order, max_order, description)

    def _check_derivatives(
        self,
        fun: Callable,
        primals: list,
        out_tree: Any,
        u: list,
        order: int,
        max_order: int,
        description: str,
    ) -> None:
        """Check ``x -> <w, vjp(fun, x)(u)>`` and ``x -> jvp(fun, x, w)`` one order up."""
        weights = [_direction(self.rng, primal) for primal in primals]
        if "rev" in self.modes:

            def reverse_derivative(*point: Any) -> Any:
                out, vjp_fn = vjp(fun, *point)
                leaves = tree_flatten(out)[0]
                seed = tree_unflatten(out_tree, [_cast_like(d, leaf) for d, leaf in zip(u, leaves)])
                total = 0.0
                for cotangent, weight in zip(vjp_fn(seed), weights):
                    term = anp.sum(cotangent * weight)
                    total = total + (anp.real(term) if _is_complex(full(term)) else term)
                return total

            self.check(
                reverse_derivative,
                primals,
                order + 1,
                max_order,
                f"x -> <w, vjp({description}, x)(u)>",
            )
        if "fwd" in self.modes:

            def forward_derivative(*point: Any) -> Any:
                tangents = tuple(_cast_like(weight, p) for weight, p in zip(weights, point))
                return jvp(fun, tuple(point), tangents)[1]

            self.check(
                forward_derivative, primals, order + 1, max_order, f"x -> jvp({description}, x, w)"
            )

    # -- finite differences -----------------------------------------------------------

    def _difference(
        self, fun: Callable, primals: list, index: int, direction: np.ndarray, out_tree: Any
    ) -> list:
        """Central difference of every output leaf along ``direction`` in argument ``index``."""
        point = [_upcast(p) for p in primals]
        plus = list(point)
        minus = list(point)
        plus[index] = _shifted(point[index], self.eps * direction)
        minus[index] = _shifted(point[index], -self.eps * direction)
        # A step may leave the function's domain: the NaN it gives then fails the
        # comparison with a message, rather than a floating-point warning.
        with np.errstate(all="ignore"):
            high, high_tree = tree_flatten(fun(*plus))
            low, low_tree = tree_flatten(fun(*minus))
        if high_tree != out_tree or low_tree != out_tree:
            raise AssertionError(
                f"check_grads({self.fun_name}): the output structure changes near the point: "
                f"{out_tree} at x, {high_tree} and {low_tree} at x +/- eps v"
            )
        return [(_wide(a) - _wide(b)) / (2 * self.eps) for a, b in zip(high, low)]

    @staticmethod
    def _project(u: list, leaves: list) -> tuple[float, float]:
        total = scale = 0.0
        for direction, leaf in zip(u, leaves):
            value, size = _dot(direction, leaf)
            total += value
            scale += size
        return total, scale

    # -- comparisons ------------------------------------------------------------------

    def _tolerance(self, scale: _Scale) -> _Scale:
        return self.atol + self.rtol * scale

    def _compare(
        self,
        mode: str,
        context: Any,
        index: int,
        first: float,
        second: float,
        scale: float,
        first_name: str,
        second_name: str,
    ) -> None:
        tolerance = self._tolerance(scale)
        if abs(first - second) <= tolerance:
            return
        if mode == "fwd/rev":
            what = "forward mode ('fwd') and reverse mode ('rev') disagree"
            second_source = "adfun, reverse mode"
            first_source = "adfun, forward mode"
        else:
            what = "reverse mode disagrees with central finite differences"
            first_source = "adfun"
            second_source = f"finite differences, eps={context.eps:g}"
        raise AssertionError(
            f"{context.head(mode, self.paths[index])}: {what}\n"
            f"  {first_name} = {_fmt(first)}   ({first_source})\n"
            f"  {second_name} = {_fmt(second)}   ({second_source})\n"
            f"  {self._verdict(first, second, tolerance, f'scale {scale:.3g}')}\n"
            f"  (u, v: random directions of the output and of {self.paths[index]})"
        )

    def _compare_entries(
        self, context: Any, index: int, out_path: str, tangent: Any, difference: np.ndarray
    ) -> None:
        analytic = _wide(tangent)
        numeric = _wide(difference)
        tolerance = self._tolerance(np.maximum(np.abs(analytic), np.abs(numeric)))
        with np.errstate(invalid="ignore"):
            excess = np.abs(analytic - numeric) - tolerance
        bad = ~(excess <= 0)
        if not np.any(bad):
            return
        worst = np.unravel_index(
            int(np.argmax(np.where(bad, np.nan_to_num(excess, nan=np.inf), -np.inf))),
            analytic.shape,
        )
        entry = (
            f"{out_path}[{', '.join(str(int(i)) for i in worst)}]" if analytic.ndim else (out_path)
        )
        scale = f"{max(abs(analytic[worst]), abs(numeric[worst])):.3g}"
        raise AssertionError(
            f"{context.head('fwd', self.paths[index])}: forward mode disagrees with central "
            f"finite differences at {entry} ({int(np.sum(bad))} of {analytic.size} "
            f"entries)\n"
            f"  jvp(v) = {_fmt(analytic[worst])}   (adfun)\n"
            f"  central difference along v = {_fmt(numeric[worst])}   (finite differences, "
            f"eps={context.eps:g})\n"
            f"  {self._verdict(analytic[worst], numeric[worst], tolerance[worst], scale)}\n"
            f"  (v: a random direction of {self.paths[index]})"
        )

    def _verdict(self, first: float, second: float, tolerance: float, scale: str) -> str:
        if not (np.isfinite(first) and np.isfinite(second)):
            return "a value is not finite (NaN or infinite derivatives never pass)"
        return (
            f"difference {abs(first - second):.3g} exceeds the tolerance {tolerance:.3g} "
            f"= atol {self.atol:g} + rtol {self.rtol:g} * {scale}"
        )

    def _check_like(
        self, mode: str, context: Any, index: int, value: Any, like: Any, what: str
    ) -> None:
        shape, expected_shape = np.shape(value), np.shape(like)
        dtype, expected_dtype = np.result_type(value), np.result_type(like)
        if shape != expected_shape or dtype != expected_dtype:
            raise AssertionError(
                f"{context.head(mode, self.paths[index])}: the {what} has shape {shape} and "
                f"dtype {dtype}, expected shape {expected_shape} and dtype {expected_dtype}"
            )


class _Context:
    """What is being checked at one level, for the messages."""

    __slots__ = ("description", "order", "eps", "out_paths")

    def __init__(self, description: str, order: int, eps: float, out_paths: list) -> None:
        self.description = description
        self.order = order
        self.eps = eps
        self.out_paths = out_paths

    def head(self, mode: str, path: str) -> str:
        if mode == "fwd/rev":
            label = "modes 'fwd' and 'rev'"
        else:
            label = f"mode '{mode}' ({_MODE_NAMES[mode]})"
        where = (
            f"check_grads({self.description})"
            if self.order == 1
            else (f"check_grads of the derivative function {self.description}")
        )
        return f"{where}: {label}, order {self.order}, argument {path}"
