"""Differentiable ``scipy.integrate``: ``odeint`` and ``solve_ivp``.

Both call SciPy's solvers for the values.  Inside a transform a solve is recorded as one
node (``odeint`` or ``solve_ivp``) whose inputs are the initial state, the start time,
the end time, the output times and the leaves of ``args``; its derivative rules are

* reverse mode, the **adjoint method**: the adjoint ``a`` of the state obeys
  ``da/dt = -(df/dy)^T a`` and the parameters' cotangent accumulates
  ``-(df/dargs)^T a``; the augmented system (state, adjoint, parameter cotangents) is
  integrated backwards from each output time to the one before it, starting from the
  recorded state, with vector-Jacobian products of ``func`` computed by
  :func:`adfun.vjp`.  Moving an output time ``t_i`` moves that output by
  ``func(y_i, t_i)``; moving the start time ``t_0`` moves every later output by
  ``-Phi(t, t_0) func(y_0, t_0)``;
* forward mode, **forward sensitivities**: the tangent ``s`` of the state obeys
  ``ds/dt = (df/dy) s + (df/dargs) args_dot`` (Jacobian-vector products by
  :func:`adfun.jvp`), integrated together with the state.

Both rules call the same solver on the augmented system through the same differentiable
node, so derivatives of any order work (each order integrates a larger system).
"""

from __future__ import annotations

from typing import Any, Callable

import attrs
import numpy as np
import scipy.integrate as _scipy_integrate

import adfun.numpy as anp
from adfun._engine.pytree import tree_flatten, tree_unflatten
from adfun._engine.records import Joint, Params, Primitive
from adfun._engine.trace import Tracer, bind, full_value, read_value
from adfun._transforms.boundary import function_name
from adfun._transforms.functional import jvp, vjp

try:  # SciPy's result class of solve_ivp (a dict with attribute access)
    from scipy.integrate._ivp.ivp import OdeResult
except ImportError:  # pragma: no cover - older or newer SciPy layouts
    from scipy.optimize import OptimizeResult as OdeResult

__all__ = ["odeint", "solve_ivp"]

_FLOAT = np.float64

#: Options of the forward solve that describe the user's Jacobian or the first step:
#: the augmented systems of the derivative rules have neither.
_ODEINT_JACOBIAN_OPTIONS = ("Dfun", "col_deriv", "ml", "mu")
_IVP_JACOBIAN_OPTIONS = ("jac", "jac_sparsity", "lband", "uband", "first_step")


# --------------------------------------------------------------------------------------
# The recorded problem
# --------------------------------------------------------------------------------------


@attrs.define(eq=False)
class _Report:
    """Where the forward solve of one call leaves SciPy's diagnostics (not differentiated)."""

    info: Any = None


@attrs.frozen(eq=False)
class _System:
    """One ODE problem as recorded in a node's parameters (compared and hashed by identity).

    Attributes
    ----------
    kind : str
        ``"odeint"`` (SciPy's ``odeint``; the first output time is the start time) or
        ``"solve_ivp"``.
    rhs : callable
        ``rhs(y, t, *leaves)``: the derivative of the flat float64 state ``y`` at time
        ``t``, written with ``adfun.numpy`` (differentiable).
    options : dict
        Keyword arguments for the SciPy solver (``method`` included for ``solve_ivp``).
    jac : callable or None
        ``jac(y, t, *leaves)``: the user's Jacobian, for the forward solve only.
    report : _Report or None
        Receives SciPy's diagnostics of the forward solve.
    caller : str
        The public function, for messages.
    fun : callable
        The user's function, for messages.
    """

    kind: str
    rhs: Callable[..., Any]
    options: dict
    jac: Callable[..., Any] | None
    report: _Report | None
    caller: str
    fun: Any


def _derivative(system: _System, leaves: tuple, size: int) -> Callable[[Any, Any], Any]:
    """The plain-NumPy derivative ``f(y, t)`` SciPy calls, with its output checked."""
    rhs = system.rhs

    def derivative(y: Any, t: Any) -> Any:
        out = rhs(y, t, *leaves)
        if type(out) is Tracer:
            raise _captured(system)
        out = np.asarray(out)
        if out.shape != (size,):
            raise ValueError(
                f"{system.caller}: {function_name(system.fun)} returned an array of shape "
                f"{out.shape} for a state of shape ({size},); it must return the derivative "
                f"of y, one entry per entry of y"
            )
        return out

    return derivative


def _captured(system: _System) -> TypeError:
    return TypeError(
        f"{system.caller}: {function_name(system.fun)} returned a value traced by adfun "
        f"although {system.caller} called it with plain arrays: it reads a value being "
        f"differentiated from its closure or from a global. Pass that value to "
        f"{system.caller} through args=(...) (the function is called as "
        f"{_call_signature(system.caller)}) so that its derivative can be computed"
    )


def _call_signature(caller: str) -> str:
    return "fun(t, y, *args)" if caller == "solve_ivp" else "func(y, t, *args)"


def _solve_impl(y0: Any, t0: Any, tf: Any, times: Any, *leaves: Any, system: _System) -> Any:
    """The states at ``times`` (shape ``(len(times), len(y0))``), solved by SciPy."""
    y0 = np.asarray(y0, _FLOAT)
    times = np.asarray(times, _FLOAT)
    derivative = _derivative(system, leaves, y0.shape[0])
    jac = system.jac
    if system.kind == "odeint":
        options = dict(system.options)
        if jac is not None:
            options["Dfun"] = lambda y, t: jac(y, t, *leaves)
        if system.report is None:
            return _scipy_integrate.odeint(derivative, y0, times, **options)
        ys, info = _scipy_integrate.odeint(derivative, y0, times, full_output=True, **options)
        system.report.info = info
        return ys
    start = float(t0)
    end = float(tf)
    if start == end:  # SciPy returns no output at all for an empty interval
        return np.tile(y0, (times.shape[0], 1))
    options = dict(system.options)
    if jac is not None:
        options["jac"] = lambda t, y: jac(y, t, *leaves)
    result = _scipy_integrate.solve_ivp(
        lambda t, y: derivative(y, t), (start, end), y0, t_eval=times, **options
    )
    if result.status != 0:
        raise RuntimeError(
            f"solve_ivp: the solver failed ({result.message}) while adfun was "
            f"differentiating the solve of {function_name(system.fun)}, so there is no "
            f"solution to differentiate; tighten or loosen rtol/atol, choose another method "
            f"(e.g. 'Radau' or 'BDF' for a stiff problem) or shorten t_span"
        )
    if system.report is not None:
        system.report.info = result
    return result.y.T


def _solve(system: _System, y0: Any, t0: Any, tf: Any, times: Any, leaves: tuple) -> Any:
    """Record (or, on plain values, compute) one solve of ``system``."""
    args = (y0, t0, tf, times, *leaves)
    primitive = _ODEINT if system.kind == "odeint" else _SOLVE_IVP
    if any(type(arg) is Tracer for arg in args):
        return bind(primitive, args, Params(system=system))
    return _solve_impl(*args, system=system)


# --------------------------------------------------------------------------------------
# Derivative rules
# --------------------------------------------------------------------------------------

#: Positions of the arguments of the solve node.
_Y0, _T0, _TF, _TIMES, _LEAVES = 0, 1, 2, 3, 4


def _ravel_all(values: list) -> list:
    return [anp.ravel(value) for value in values]


def _replace(leaves: tuple, positions: list, values: tuple) -> list:
    merged = list(leaves)
    for position, value in zip(positions, values):
        merged[position] = value
    return merged


def _derived_options(system: _System, size: int, extra: int) -> dict:
    """The solver options for an augmented system of ``size + extra`` components."""
    dropped = _ODEINT_JACOBIAN_OPTIONS if system.kind == "odeint" else _IVP_JACOBIAN_OPTIONS
    options = {key: value for key, value in system.options.items() if key not in dropped}
    if system.kind == "solve_ivp":
        options["vectorized"] = False
    atol = options.get("atol")
    if atol is not None and np.ndim(atol) > 0:
        # a tolerance per state component: the added components get the tightest
        atol = np.asarray(atol, _FLOAT)
        repeats = -(-(size + extra) // atol.size)
        options["atol"] = np.concatenate(
            [np.tile(atol, repeats)[:size], np.full(extra, atol.min())]
        )
    return options


def _adjoint_system(system: _System, size: int, positions: list, sizes: list) -> _System:
    """The system of (state, adjoint, parameter cotangents), integrated backwards."""
    rhs = system.rhs
    count = sum(sizes)

    def adjoint_rhs(state: Any, t: Any, *leaves: Any) -> Any:
        y = state[:size]
        adjoint = state[size : 2 * size]

        def dynamics(y: Any, *differentiated: Any) -> Any:
            return rhs(y, t, *_replace(leaves, positions, differentiated))

        ydot, pullback = vjp(dynamics, y, *[leaves[position] for position in positions])
        cotangents = pullback(adjoint)
        return anp.concatenate([ydot, *(-piece for piece in _ravel_all(list(cotangents)))])

    return _System(
        system.kind,
        adjoint_rhs,
        _derived_options(system, 2 * size, count),
        None,
        None,
        system.caller,
        system.fun,
    )


def _sensitivity_system(system: _System, size: int, positions: list, count: int) -> _System:
    """The system of (state, tangent); the leaves' tangents follow the leaves."""
    rhs = system.rhs

    def sensitivity_rhs(state: Any, t: Any, *arguments: Any) -> Any:
        leaves = arguments[:count]
        tangents = arguments[count:]
        y = state[:size]
        tangent = state[size:]

        def dynamics(y: Any, *differentiated: Any) -> Any:
            return rhs(y, t, *_replace(leaves, positions, differentiated))

        primals = (y, *[leaves[position] for position in positions])
        ydot, sdot = jvp(dynamics, primals, (tangent, *tangents))
        return anp.concatenate([ydot, sdot])

    return _System(
        system.kind,
        sensitivity_rhs,
        _derived_options(system, size, size),
        None,
        None,
        system.caller,
        system.fun,
    )


def _segment(system: _System, state: Any, start: Any, end: Any, leaves: tuple) -> Any:
    """The state of ``system`` at ``end``, integrated from ``state`` at ``start``."""
    if system.kind == "odeint":
        return _solve(system, state, start, end, anp.stack([start, end]), leaves)[1]
    return _solve(system, state, start, end, anp.reshape(end, (1,)), leaves)[0]


def _vjp_rule(
    argnums: tuple, g: Any, ans: Any, y0: Any, t0: Any, tf: Any, times: Any, *leaves: Any,
    system: _System,
) -> list:  # fmt: skip
    size = int(np.shape(full_value(y0))[0])
    count = int(np.shape(full_value(times))[0])
    positions = [argnum - _LEAVES for argnum in argnums if argnum >= _LEAVES]
    sizes = [int(np.size(full_value(leaves[position]))) for position in positions]
    adjoint = _adjoint_system(system, size, positions, sizes)
    rhs = system.rhs
    ys = [ans[i] for i in range(count)]
    cotangents = [g[i] for i in range(count)]
    y_bar = anp.zeros(size)
    parameters_bar = anp.zeros(sum(sizes))
    times_bar: list = [None] * count
    for i in reversed(range(count)):
        y_bar = y_bar + cotangents[i]
        if _TIMES in argnums:
            times_bar[i] = anp.dot(cotangents[i], rhs(ys[i], times[i], *leaves))
        if i > 0:
            end = times[i - 1]
        elif system.kind == "solve_ivp":
            end = t0
        else:
            break  # odeint: the first output time is the start time
        state = anp.concatenate([ys[i], y_bar, parameters_bar])
        state = _segment(adjoint, state, times[i], end, leaves)
        y_bar = state[size : 2 * size]
        parameters_bar = state[2 * size :]
    contributions: list = []
    offsets = np.cumsum([0, *sizes]).tolist()
    for argnum in argnums:
        if argnum == _Y0:
            contributions.append(_like(y_bar, y0))
        elif argnum == _T0:
            contributions.append(_like(-anp.dot(y_bar, rhs(y0, t0, *leaves)), t0))
        elif argnum == _TIMES:
            contributions.append(_like(anp.stack(times_bar), times))
        elif argnum == _TF:
            contributions.append(None)  # the outputs do not depend on the end time
        else:
            index = positions.index(argnum - _LEAVES)
            leaf = leaves[argnum - _LEAVES]
            piece = parameters_bar[offsets[index] : offsets[index + 1]]
            contributions.append(_like(anp.reshape(piece, np.shape(full_value(leaf))), leaf))
    return contributions


def _like(value: Any, primal: Any) -> Any:
    """``value`` in the dtype of ``primal`` (the solver works in float64)."""
    dtype = np.result_type(full_value(primal))
    return value if dtype == _FLOAT else anp.astype(value, dtype)


def _jvp_rule(
    argnums: tuple, tangents: list, ans: Any, y0: Any, t0: Any, tf: Any, times: Any,
    *leaves: Any, system: _System,
) -> Any:  # fmt: skip
    given = {argnum: tangent for argnum, tangent in zip(argnums, tangents) if tangent is not None}
    size = int(np.shape(full_value(y0))[0])
    count = int(np.shape(full_value(times))[0])
    rhs = system.rhs
    positions = [argnum - _LEAVES for argnum in sorted(given) if argnum >= _LEAVES]
    start = anp.astype(given[_Y0], _FLOAT) if _Y0 in given else anp.zeros(size)
    if _T0 in given:
        start = start - rhs(y0, t0, *leaves) * given[_T0]
    if positions or _Y0 in given or _T0 in given:
        sensitivity = _sensitivity_system(system, size, positions, len(leaves))
        leaf_tangents = [anp.astype(given[position + _LEAVES], _FLOAT) for position in positions]
        state = anp.concatenate([y0, start])
        out = _solve(sensitivity, state, t0, tf, times, (*leaves, *leaf_tangents))[:, size:]
    else:
        out = anp.zeros((count, size))
    if _TIMES in given:
        moved = anp.stack([rhs(ans[i], times[i], *leaves) for i in range(count)])
        out = out + moved * anp.reshape(given[_TIMES], (count, 1))
    return out


_ODEINT = Primitive("odeint", _solve_impl, vjps=Joint(_vjp_rule), jvps=Joint(_jvp_rule))
_SOLVE_IVP = Primitive("solve_ivp", _solve_impl, vjps=Joint(_vjp_rule), jvps=Joint(_jvp_rule))


# --------------------------------------------------------------------------------------
# Front ends
# --------------------------------------------------------------------------------------


def _traced(*values: Any) -> bool:
    return any(type(leaf) is Tracer for leaf in tree_flatten(values)[0])


def _checked(caller: str, fun: Callable) -> Callable:
    """``fun`` for SciPy's eager call: a traced result (a captured tracer) is refused."""

    def checked(*args: Any) -> Any:
        out = fun(*args)
        if _traced(out):
            raise TypeError(
                f"{caller}: {function_name(fun)} returned a value traced by adfun although "
                f"{caller} called it with plain arrays: it reads a value being "
                f"differentiated from its closure or from a global. Pass that value to "
                f"{caller} through args=(...) (the function is called as "
                f"{_call_signature(caller)}) so that its derivative can be computed"
            )
        return out

    return checked


def _vector(out: Any, caller: str, fun: Any) -> Any:
    """The function's output as a flat float64 vector (lists of values are accepted)."""
    if type(out) in (list, tuple):
        if not out:
            return anp.zeros(0)
        out = anp.concatenate([anp.ravel(anp.asarray(item)) for item in out])
    else:
        out = anp.ravel(anp.asarray(out))
    dtype = np.result_type(full_value(out))
    if dtype.kind not in "fiub":
        raise TypeError(
            f"{caller}: {function_name(fun)} returned an array of dtype {dtype}; adfun "
            f"differentiates real ODEs only (write a complex state as its real and "
            f"imaginary parts)"
        )
    return out if dtype == _FLOAT else anp.astype(out, _FLOAT)


def _state(y0: Any, caller: str, least: int) -> Any:
    """The initial state as a 1-d float64 vector (SciPy's rules for its shape)."""
    if type(y0) in (list, tuple):
        y0 = anp.stack([anp.asarray(item) for item in y0]) if y0 else anp.zeros(0)
    else:
        y0 = anp.asarray(y0)
    if not least <= y0.ndim <= 1:
        raise ValueError(
            f"{caller}: the initial condition y0 has shape {tuple(y0.shape)}, but it must "
            f"be one-dimensional, as in SciPy; ravel it (y0.ravel()) and reshape inside "
            f"the function"
        )
    dtype = np.result_type(full_value(y0))
    if dtype.kind == "c":
        raise TypeError(
            f"{caller}: the initial condition y0 is complex ({dtype}); adfun differentiates "
            f"real ODEs only (write a complex state as its real and imaginary parts)"
        )
    y0 = anp.ravel(y0)
    return y0 if dtype == _FLOAT else anp.astype(y0, _FLOAT)


def odeint(
    func: Callable,
    y0: Any,
    t: Any,
    args: tuple = (),
    Dfun: Callable | None = None,
    col_deriv: int = 0,
    full_output: int = 0,
    ml: int | None = None,
    mu: int | None = None,
    rtol: Any = None,
    atol: Any = None,
    tcrit: Any = None,
    h0: float = 0.0,
    hmax: float = 0.0,
    hmin: float = 0.0,
    ixpr: int = 0,
    mxstep: int = 0,
    mxhnil: int = 0,
    mxordn: int = 12,
    mxords: int = 5,
    printmessg: int = 0,
    tfirst: bool = False,
) -> Any:
    """Integrate a system of ODEs (``scipy.integrate.odeint``), differentiably.

    Solves ``dy/dt = func(y, t, *args)`` from ``y(t[0]) = y0`` with SciPy's LSODA and
    returns the states at the times ``t``.  The result is differentiable with respect to
    ``y0``, the times ``t`` and every float array of ``args`` (which may be pytrees), in
    reverse mode by the adjoint method and in forward mode by forward sensitivities: no
    step of the solver is recorded, the derivative rules solve their own ODEs.

    Parameters
    ----------
    func : callable
        ``func(y, t, *args)`` (``func(t, y, *args)`` with ``tfirst=True``) returning the
        derivative of ``y``, an array shaped like ``y`` or a list of numbers.  Write it
        with ``adfun.numpy`` (or NumPy functions that dispatch to it): the derivative
        rules call it on traced values.
    y0 : array_like
        The initial state, at most one-dimensional (a scalar is a state of one entry).
    t : array_like
        Monotonic output times; ``t[0]`` is the initial time.
    args : tuple, optional
        Extra arguments of ``func``: arrays, numbers or pytrees of them.  Values being
        differentiated must be passed here, not read from ``func``'s closure.
    Dfun, col_deriv, ml, mu : optional
        SciPy's Jacobian options; used for the forward solve only (the augmented systems
        of the derivative rules have no user Jacobian).
    full_output : bool, optional
        Also return SciPy's dictionary of diagnostics of the forward solve.
    rtol, atol, tcrit, h0, hmax, hmin, ixpr, mxstep, mxhnil, mxordn, mxords, printmessg
        Passed to ``scipy.integrate.odeint``, for the forward solve and for the
        solves of the derivative rules.
    tfirst : bool, optional
        Whether ``func`` takes the time first.

    Returns
    -------
    y : ndarray or traced value
        Shape ``(len(t), len(y0))``: the state at each time, ``y[0]`` being ``y0``.
    infodict : dict
        Only with ``full_output``: SciPy's diagnostics (not differentiable).

    Raises
    ------
    TypeError
        If ``func`` reads a value being differentiated from its closure instead of
        ``args``, or if the state is complex.
    ValueError
        If ``y0`` has more than one dimension, or ``func`` returns the wrong shape.

    Notes
    -----
    The reverse rule integrates the state, its adjoint and the parameters' cotangents
    backwards from each output time to the previous one, starting from the recorded
    state (as HIPS autograd's ``ode_net`` example and JAX's ``odeint`` do); for a
    strongly dissipative system the backward integration of the state can lose accuracy.
    The rules use the solver and tolerances of the forward solve, so their error is of
    the order of ``rtol`` and ``atol``: tighten them for accurate derivatives.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> from adfun.scipy.integrate import odeint
    >>> decay = lambda y, t, k: -k * y
    >>> t = np.array([0.0, 1.0])
    >>> loss = lambda k: odeint(decay, np.array([1.0]), t, args=(k,), rtol=1e-10, atol=1e-10)[1, 0]
    >>> round(float(ad.grad(loss)(0.5)), 6)  # d/dk exp(-k) at k = 0.5
    -0.606531
    """
    if not isinstance(args, tuple):
        raise TypeError(
            f"odeint: args must be a tuple of extra arguments of func (as in SciPy), got "
            f"{type(args).__name__}; write args=(value,)"
        )
    options: dict = {
        "rtol": rtol,
        "atol": atol,
        "tcrit": tcrit,
        "h0": h0,
        "hmax": hmax,
        "hmin": hmin,
        "ixpr": ixpr,
        "mxstep": mxstep,
        "mxhnil": mxhnil,
        "mxordn": mxordn,
        "mxords": mxords,
        "printmessg": printmessg,
    }
    if not _traced(y0, t, args):
        return _scipy_integrate.odeint(
            _checked("odeint", func),
            y0,
            t,
            args,
            None if Dfun is None else _checked("odeint", Dfun),
            col_deriv,
            full_output,
            ml,
            mu,
            tfirst=tfirst,
            **options,
        )
    leaves, tree = tree_flatten(args)
    state = _state(y0, "odeint", 0)
    times = anp.asarray(t)
    if times.ndim != 1:
        raise ValueError(
            f"odeint: t must be a one-dimensional sequence of times, got shape {tuple(times.shape)}"
        )
    if np.result_type(full_value(times)) != _FLOAT:
        times = anp.astype(times, _FLOAT)

    def rhs(y: Any, time: Any, *leaves: Any) -> Any:
        extra = tree_unflatten(tree, list(leaves))
        out = func(time, y, *extra) if tfirst else func(y, time, *extra)
        return _vector(out, "odeint", func)

    jac = None
    if Dfun is not None:
        jacobian = Dfun

        def jac(y: Any, time: Any, *leaves: Any) -> Any:
            extra = tree_unflatten(tree, list(leaves))
            return jacobian(time, y, *extra) if tfirst else jacobian(y, time, *extra)

        options.update(col_deriv=col_deriv, ml=ml, mu=mu)
    elif ml is not None or mu is not None:
        options.update(ml=ml, mu=mu)
    report = _Report() if full_output else None
    system = _System("odeint", rhs, options, jac, report, "odeint", func)
    ys = _solve(system, state, times[0], times[-1], times, tuple(leaves))
    if full_output:
        assert report is not None
        return ys, report.info
    return ys


def solve_ivp(
    fun: Callable,
    t_span: Any,
    y0: Any,
    method: Any = "RK45",
    t_eval: Any = None,
    dense_output: bool = False,
    events: Any = None,
    vectorized: bool = False,
    args: tuple | None = None,
    **options: Any,
) -> Any:
    """Solve an initial value problem (``scipy.integrate.solve_ivp``), differentiably.

    Solves ``dy/dt = fun(t, y, *args)`` from ``y(t_span[0]) = y0`` with SciPy and returns
    SciPy's result object.  Its ``.y`` is differentiable with respect to ``y0``,
    ``t_span``, ``t_eval`` and every float array of ``args`` (pytrees allowed), in reverse
    mode by the adjoint method and in forward mode by forward sensitivities (see
    :func:`odeint`).

    Parameters
    ----------
    fun : callable
        ``fun(t, y, *args)`` returning the derivative of ``y``; written with
        ``adfun.numpy`` (or NumPy functions that dispatch to it).
    t_span : tuple of float
        The interval of integration ``(t0, tf)``.
    y0 : array_like
        The initial state, of shape ``(n,)``.
    method : str, optional
        ``'RK45'`` (default), ``'RK23'``, ``'DOP853'``, ``'Radau'``, ``'BDF'``, ``'LSODA'``
        or a solver class (a subclass of SciPy's ``OdeSolver``); the derivative rules use
        the same method.
    t_eval : array_like, optional
        The output times.  Without it the outputs are at the solver's own steps: these
        times are then constants for differentiation, except the first (``t0``) and the
        last (``tf``), and a staged function (``ad.jit``) must give ``t_eval``.
    dense_output, events : optional
        As in SciPy, but only when nothing is being differentiated: ``.sol`` and the
        events are not differentiable, so a traced call refuses them.
    vectorized : bool, optional
        Passed to SciPy for the forward solve.
    args : tuple, optional
        Extra arguments of ``fun``.  Values being differentiated must be passed here,
        not read from ``fun``'s closure.
    **options
        ``rtol``, ``atol``, ``max_step``, ``first_step``, ``jac``, ... passed to SciPy
        (the Jacobian options and ``first_step`` for the forward solve only).

    Returns
    -------
    OdeResult
        SciPy's bunch: ``t``, ``y`` (shape ``(n, len(t))``, differentiable), ``sol``,
        ``t_events``, ``y_events``, ``nfev``, ``njev``, ``nlu``, ``status``, ``message``,
        ``success``.  In a traced call ``sol``, ``t_events`` and ``y_events`` are
        ``None`` and the counts and message are those of the forward solve.

    Raises
    ------
    NotImplementedError
        For ``events`` or ``dense_output=True`` in a traced call.
    RuntimeError
        If the solver fails in a traced call (an untraced call returns SciPy's result
        with ``success=False``, as SciPy does).
    TypeError
        If ``fun`` reads a value being differentiated from its closure instead of
        ``args``, or ``args`` is not a tuple.

    Examples
    --------
    >>> import numpy as np, adfun as ad
    >>> from adfun.scipy.integrate import solve_ivp
    >>> def final(y0):
    ...     result = solve_ivp(lambda t, y: -2.0 * y, (0.0, 1.0), y0, t_eval=[1.0],
    ...                        rtol=1e-10, atol=1e-12)
    ...     return result.y[0, -1]
    >>> round(float(ad.grad(final)(np.array([1.0]))[0]), 6)  # exp(-2)
    0.135335
    """
    if args is not None and not isinstance(args, tuple):
        raise TypeError(
            f"solve_ivp: args must be a tuple of extra arguments of fun (as in SciPy), "
            f"got {type(args).__name__}; write args=(value,)"
        )
    extra = () if args is None else args
    if not _traced(t_span, y0, t_eval, extra):
        return _scipy_integrate.solve_ivp(
            _checked("solve_ivp", fun),
            t_span,
            y0,
            method=method,
            t_eval=t_eval,
            dense_output=dense_output,
            events=events,
            vectorized=vectorized,
            args=args,
            **options,
        )
    if events is not None or dense_output:
        raise NotImplementedError(
            "solve_ivp: events and dense_output are not differentiable; in a call whose "
            "inputs are being differentiated leave them out (use t_eval for the output "
            "times), or call solve_ivp on plain values (e.g. through ad.stop_gradient)"
        )
    if len(t_span) != 2:
        raise ValueError(f"solve_ivp: t_span must be a pair (t0, tf), got {len(t_span)} value(s)")
    leaves, tree = tree_flatten(extra)
    state = _state(y0, "solve_ivp", 1)
    t0 = anp.astype(anp.asarray(t_span[0]), _FLOAT)
    tf = anp.astype(anp.asarray(t_span[1]), _FLOAT)

    def rhs(y: Any, time: Any, *leaves: Any) -> Any:
        return _vector(fun(time, y, *tree_unflatten(tree, list(leaves))), "solve_ivp", fun)

    jac = options.get("jac")
    recorded = dict(options, method=method, vectorized=vectorized)
    jac_function = None
    if callable(jac):
        jacobian = jac
        del recorded["jac"]

        def jac_function(y: Any, time: Any, *leaves: Any) -> Any:
            return jacobian(time, y, *tree_unflatten(tree, list(leaves)))

    report = _Report()
    system = _System("solve_ivp", rhs, recorded, jac_function, report, "solve_ivp", fun)
    if t_eval is None:
        times = _solver_times(system, state, t0, tf, leaves)
    else:
        times = anp.asarray(t_eval)
        if times.ndim != 1:
            raise ValueError(
                f"solve_ivp: t_eval must be one-dimensional, got shape {tuple(times.shape)}"
            )
        times = anp.astype(times, _FLOAT)
    ys = _solve(system, state, t0, tf, times, tuple(leaves))
    solved = report.info
    return OdeResult(
        t=times,
        y=anp.transpose(ys),
        sol=None,
        t_events=None,
        y_events=None,
        nfev=0 if solved is None else solved.nfev,
        njev=0 if solved is None else solved.njev,
        nlu=0 if solved is None else solved.nlu,
        status=0,
        message=(
            "The solver successfully reached the end of the integration interval."
            if solved is None
            else solved.message
        ),
        success=True,
    )


def _solver_times(system: _System, state: Any, t0: Any, tf: Any, leaves: list) -> Any:
    """The solver's own output times: a plain solve decides them (not recorded)."""
    advice = (
        "Give solve_ivp the output times with t_eval=..., so that they do not depend on the values"
    )
    values = [read_value(value, "solve_ivp", advice) for value in (state, t0, tf, *leaves)]
    y0, start, end = (np.asarray(value, _FLOAT) for value in values[:3])
    fixed = values[3:]
    if float(start) == float(end):
        return anp.reshape(t0, (1,))
    options = dict(system.options)
    if system.jac is not None:
        jac = system.jac
        options["jac"] = lambda t, y: jac(y, t, *fixed)
    derivative = _derivative(system, tuple(fixed), y0.shape[0])
    result = _scipy_integrate.solve_ivp(
        lambda t, y: derivative(y, t), (float(start), float(end)), y0, **options
    )
    if result.status != 0:
        raise RuntimeError(
            f"solve_ivp: the solver failed ({result.message}) while adfun was "
            f"differentiating the solve of {function_name(system.fun)}, so there is no "
            f"solution to differentiate; tighten or loosen rtol/atol, choose another method "
            f"(e.g. 'Radau' or 'BDF' for a stiff problem) or shorten t_span"
        )
    inner = np.asarray(result.t[1:-1], _FLOAT)
    return anp.concatenate([anp.reshape(t0, (1,)), inner, anp.reshape(tf, (1,))])
