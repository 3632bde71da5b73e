"""MXNet's ``autograd`` module on adfun's engine (``from adfun import autograd``).

``record()`` switches recording on for the current thread; operations on arrays that
depend on a variable (``attach_grad()``) then become nodes of adfun's immutable graph.
``backward`` and ``grad`` run the same reverse pass as :func:`adfun.grad`
(``adfun._engine.reverse.backward``) over those nodes.  With ``create_graph=True`` the recorded
program is replayed under one more trace level first, so the reverse pass itself is
recorded and its results can be differentiated again, exactly as ``grad(grad(f))`` works
in the functional core.

Examples
--------
>>> from adfun import nd, autograd
>>> x = nd.array([1, 2, 3])
>>> x.attach_grad()
>>> with autograd.record():
...     y = (x * x).sum()
>>> y.backward()
>>> x.grad
<BLANKLINE>
[2. 4. 6.]
<NDArray 3 @cpu(0)>
"""

from __future__ import annotations

from typing import Any

import numpy as np

import adfun.numpy as anp
from adfun._engine.records import EMPTY_PARAMS, Primitive, Variadic
from adfun._engine.reverse import backward as reverse_pass
from adfun._engine.trace import Tracer, bind, full_value
from adfun._imperative.backward import (
    as_list,
    enter_pass,
    exit_pass,
    head_seeds,
    per_slot,
    recorded_pass,
    run_backward,
    walk,
)
from adfun._imperative.recording import (
    GradSlot,
    check_grad_req,
    check_real,
    consume,
    recording,
    training,
)
from adfun._imperative.symbol import Symbol, symbol_of
from adfun.nd._ndarray import NDArray, _new, _operand

__all__ = [
    "Function",
    "backward",
    "get_symbol",
    "grad",
    "is_recording",
    "is_training",
    "mark_variables",
    "pause",
    "predict_mode",
    "record",
    "set_recording",
    "set_training",
    "train_mode",
]

# --- scopes and flags --------------------------------------------------------------------


class _Scope:
    """Sets the recording and / or training flag of this thread while the block runs."""

    __slots__ = ("_recording", "_training", "_tokens")

    def __init__(self, is_recording: bool | None, is_training: bool | None) -> None:
        self._recording = is_recording
        self._training = is_training
        self._tokens: list = []

    def __enter__(self) -> _Scope:
        # one (recording token, training token) pair per entry: a scope may be re-entered
        is_recording = self._recording
        is_training = self._training
        self._tokens.append(
            (
                None if is_recording is None else recording.set(is_recording),
                None if is_training is None else training.set(is_training),
            )
        )
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        recording_token, training_token = self._tokens.pop()
        if training_token is not None:
            training.reset(training_token)
        if recording_token is not None:
            recording.reset(recording_token)


class _BothScope(_Scope):
    """A :class:`_Scope` that sets both flags (``record()``, ``pause()``): no None checks."""

    __slots__ = ()
    _recording: bool
    _training: bool

    def __enter__(self) -> _Scope:
        self._tokens.append((recording.set(self._recording), training.set(self._training)))
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        recording_token, training_token = self._tokens.pop()
        training.reset(training_token)
        recording.reset(recording_token)


def record(train_mode: bool = True) -> _Scope:  # noqa: F811 - MXNet's argument name
    """Context manager: record the operations of this thread for differentiation.

    Parameters
    ----------
    train_mode : bool, optional
        Also switch training mode on (``nd.Dropout`` active); default True.

    Examples
    --------
    >>> from adfun import autograd
    >>> with autograd.record():
    ...     autograd.is_recording(), autograd.is_training()
    (True, True)
    >>> autograd.is_recording()
    False
    """
    return _BothScope(True, bool(train_mode))


def pause(train_mode: bool = False) -> _Scope:  # noqa: F811
    """Context manager: stop recording inside a ``record()`` block.

    Parameters
    ----------
    train_mode : bool, optional
        Training mode while paused; default False.

    Examples
    --------
    >>> from adfun import autograd
    >>> with autograd.record():
    ...     with autograd.pause():
    ...         autograd.is_recording()
    False
    """
    return _BothScope(False, bool(train_mode))


def train_mode() -> _Scope:
    """Context manager: training mode on (recording unchanged).

    Examples
    --------
    >>> from adfun import autograd
    >>> with autograd.train_mode():
    ...     autograd.is_training()
    True
    """
    return _Scope(None, True)


def predict_mode() -> _Scope:
    """Context manager: training mode off (recording unchanged).

    Examples
    --------
    >>> from adfun import autograd
    >>> with autograd.record():
    ...     with autograd.predict_mode():
    ...         autograd.is_training()
    False
    """
    return _Scope(None, False)


def is_recording() -> bool:
    """Whether operations of this thread are being recorded."""
    return recording.get()


def is_training() -> bool:
    """Whether this thread is in training mode."""
    return training.get()


def set_recording(is_recording: bool) -> bool:  # noqa: F811
    """Switch recording on or off for this thread; returns the previous state.

    Examples
    --------
    >>> from adfun import autograd
    >>> previous = autograd.set_recording(True)
    >>> autograd.set_recording(previous)
    True
    """
    previous = recording.get()
    recording.set(bool(is_recording))
    return previous


def set_training(train_mode: bool) -> bool:  # noqa: F811
    """Switch training mode on or off for this thread; returns the previous state.

    Examples
    --------
    >>> from adfun import autograd
    >>> previous = autograd.set_training(True)
    >>> autograd.set_training(previous)
    True
    """
    previous = training.get()
    training.set(bool(train_mode))
    return previous


# --- backward and grad -------------------------------------------------------------------


def backward(
    heads: Any, head_grads: Any = None, retain_graph: bool = False, train_mode: bool = True
) -> None:  # noqa: F811
    """Compute the gradients of ``heads`` and store them in the variables' ``.grad``.

    Parameters
    ----------
    heads : NDArray or list of NDArray
        Arrays recorded inside ``autograd.record()``.
    head_grads : NDArray or list, optional
        The gradient arriving at each head (None entries: ones, also for non-scalar heads).
    retain_graph : bool, optional
        Keep the graph, so that it can be differentiated again; by default a second
        backward through the same graph raises ``RuntimeError``.
    train_mode : bool, optional
        Training mode during the pass.

    Raises
    ------
    RuntimeError
        If a head is not in a recorded graph (nothing it was computed from has
        ``attach_grad()``, or it was computed outside ``record()``), or its graph was
        already freed by a backward pass.

    Examples
    --------
    >>> from adfun import nd, autograd
    >>> x = nd.array([1, 2])
    >>> x.attach_grad()
    >>> with autograd.record():
    ...     y = 3 * x
    >>> autograd.backward(y, nd.array([1, 10]))
    >>> x.grad
    <BLANKLINE>
    [ 3. 30.]
    <NDArray 2 @cpu(0)>
    """
    run_backward(
        head_seeds("backward", heads, head_grads, False, NDArray), retain_graph, train_mode
    )


def grad(
    heads: Any,
    variables: Any,
    head_grads: Any = None,
    retain_graph: Any = None,
    create_graph: bool = False,
    train_mode: bool = True,
) -> Any:  # noqa: F811
    """Return the gradients of ``heads`` with respect to ``variables`` (``.grad`` untouched).

    Parameters
    ----------
    heads : NDArray or list of NDArray
        Recorded outputs.
    variables : NDArray or list of NDArray
        Arrays that called ``attach_grad()`` (or ``mark_variables``).
    head_grads : NDArray or list, optional
        Gradients arriving at the heads (ones by default).
    retain_graph : bool, optional
        Keep the graph for another backward pass; defaults to ``create_graph``.
    create_graph : bool, optional
        Record the gradient computation, so that the returned gradients can themselves be
        differentiated (higher-order derivatives).
    train_mode : bool, optional
        Training mode during the pass.

    Returns
    -------
    NDArray or list of NDArray
        One gradient per variable (a list when ``variables`` is a list).

    Examples
    --------
    >>> from adfun import nd, autograd
    >>> x = nd.array([1, 2])
    >>> x.attach_grad()
    >>> with autograd.record():
    ...     y = x ** 3
    ...     dy = autograd.grad(y, [x], create_graph=True)[0]
    >>> dy
    <BLANKLINE>
    [ 3. 12.]
    <NDArray 2 @cpu(0)>
    >>> dy.backward()
    >>> x.grad
    <BLANKLINE>
    [ 6. 12.]
    <NDArray 2 @cpu(0)>
    """
    single = isinstance(variables, NDArray)
    variables = as_list("autograd.grad", "variables", variables, NDArray)
    slots = []
    for position, variable in enumerate(variables):
        slot = variable._slot if isinstance(variable, NDArray) else None
        if slot is None or slot.req == "null":
            raise ValueError(
                f"autograd.grad: variables[{position}] is not a variable (or has "
                f"grad_req='null'); call attach_grad() on it before recording"
            )
        slots.append(slot)
    if retain_graph is None:
        retain_graph = create_graph
    seeds = head_seeds("autograd.grad", heads, head_grads, create_graph, NDArray)
    order, inputs = walk("autograd.grad", seeds)
    wanted = {id(slot) for slot in slots}
    nodes = [node for node in inputs if id(node.slot) in wanted]
    tokens = enter_pass(train_mode, create_graph)
    try:
        if create_graph:
            cotangents = recorded_pass(seeds, order, nodes)
        else:
            cotangents = reverse_pass(seeds, nodes, order)
        totals = per_slot(nodes, cotangents)
    finally:
        exit_pass(tokens)
    if not retain_graph:
        consume(order)
    gradients = []
    for variable, slot in zip(variables, slots):
        entry = totals.get(id(slot))
        gradients.append(_gradient(variable, None if entry is None else entry[1]))
    return gradients[0] if single else gradients


def _gradient(variable: NDArray, cotangent: Any) -> NDArray:
    dtype = variable._value.dtype
    if cotangent is None:
        return _new(np.zeros_like(variable._value))
    if type(cotangent) is Tracer:
        if cotangent.dtype != dtype:
            cotangent = anp.astype(cotangent, dtype)
        return _new(np.asarray(full_value(cotangent)), cotangent)
    return _new(np.asarray(cotangent, dtype=dtype))


def get_symbol(x: Any) -> Symbol:
    """The recorded history of ``x`` as a symbol-like view of adfun's graph.

    Parameters
    ----------
    x : NDArray or list of NDArray
        Arrays recorded inside ``autograd.record()`` (or variables).

    Returns
    -------
    Symbol
        ``list_arguments()`` names the variables (``var0``, ...) and array constants
        (``null0``, ...), ``list_outputs()`` the outputs, ``tojson()`` gives the graph in
        the layout of MXNet's symbol JSON and ``.graph`` the :class:`adfun.Graph`.

    Raises
    ------
    RuntimeError
        If an array is not in a recorded graph.

    Examples
    --------
    >>> from adfun import nd, autograd
    >>> x = nd.ones(1)
    >>> x.attach_grad()
    >>> with autograd.record():
    ...     y = x * x + 2 * x - 1
    >>> symbol = autograd.get_symbol(y)
    >>> symbol.list_arguments(), symbol.list_outputs()
    (['var0'], ['node_3_output'])
    """
    heads = as_list("autograd.get_symbol", "x", x, NDArray)
    nodes = []
    for position, head in enumerate(heads):
        if not isinstance(head, NDArray):
            raise TypeError(
                f"autograd.get_symbol: x[{position}] must be an NDArray, got {type(head).__name__}"
            )
        tracer = head._tracer
        if tracer is None:
            slot = head._slot
            if slot is None or slot.req == "null":
                raise RuntimeError(
                    "autograd.get_symbol: the array is not in a recorded graph (nothing it "
                    "was computed from has attach_grad(), or it was computed outside "
                    "autograd.record()); compute it inside `with autograd.record():` from "
                    "arrays that called attach_grad()"
                )
            tracer = head._variable_tracer()
        nodes.append(tracer.node)
    return symbol_of(nodes)


def mark_variables(variables: Any, gradients: Any, grad_reqs: Any = "write") -> None:
    """Make ``variables`` variables whose gradients ``backward`` stores in ``gradients``.

    Parameters
    ----------
    variables : NDArray or list of NDArray
    gradients : NDArray or list of NDArray
        One buffer per variable, with its shape.
    grad_reqs : str or list of str, optional
        ``'write'``, ``'add'`` or ``'null'`` (for all, or one per variable).

    Examples
    --------
    >>> from adfun import nd, autograd
    >>> x, buffer = nd.array([1, 2]), nd.zeros(2)
    >>> autograd.mark_variables(x, buffer)
    >>> with autograd.record():
    ...     y = x * 5
    >>> y.backward()
    >>> buffer
    <BLANKLINE>
    [5. 5.]
    <NDArray 2 @cpu(0)>
    """
    variables = as_list("autograd.mark_variables", "variables", variables, NDArray)
    gradients = as_list("autograd.mark_variables", "gradients", gradients, NDArray)
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    if not len(variables) == len(gradients) == len(grad_reqs):
        raise ValueError(
            f"autograd.mark_variables: got {len(variables)} variables, {len(gradients)} "
            f"gradients and {len(grad_reqs)} grad_reqs; pass one of each per variable"
        )
    for position, (variable, gradient, req) in enumerate(zip(variables, gradients, grad_reqs)):
        check_grad_req("autograd.mark_variables", req)
        if not isinstance(variable, NDArray) or not isinstance(gradient, NDArray):
            raise TypeError(
                f"autograd.mark_variables: variables[{position}] and gradients[{position}] "
                f"must be NDArrays"
            )
        check_real("autograd.mark_variables", f"variables[{position}]", variable._value.dtype)
        check_real("autograd.mark_variables", f"gradients[{position}]", gradient._value.dtype)
        if gradient.shape != variable.shape:
            raise ValueError(
                f"autograd.mark_variables: gradients[{position}] has shape {gradient.shape}, "
                f"but its variable has shape {variable.shape}"
            )
        variable._slot = GradSlot(gradient, req)
        variable._tracer = None


# --- custom functions --------------------------------------------------------------------


class Function:
    """A differentiable operation with a hand-written backward pass.

    Subclass it and define ``forward(self, *inputs)`` and ``backward(self, *output_grads)``
    (both on NDArrays); ``backward`` returns one gradient per input.  Call an instance
    once, like a function.  ``forward`` runs with recording paused; the call is recorded as
    one node per output of the graph.

    Examples
    --------
    >>> from adfun import nd, autograd
    >>> class Sigmoid(autograd.Function):
    ...     def forward(self, x):
    ...         y = 1 / (1 + nd.exp(-x))
    ...         self.save_for_backward(y)
    ...         return y
    ...     def backward(self, dy):
    ...         (y,) = self.saved_tensors
    ...         return dy * y * (1 - y)
    >>> x = nd.array([0.0])
    >>> x.attach_grad()
    >>> with autograd.record():
    ...     y = Sigmoid()(x)
    >>> y.backward()
    >>> x.grad
    <BLANKLINE>
    [0.25]
    <NDArray 1 @cpu(0)>
    """

    def __init__(self) -> None:
        self._saved_tensors: tuple = ()
        self._last: tuple | None = None

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for :meth:`backward` (see :attr:`saved_tensors`)."""
        self._saved_tensors = arrays

    @property
    def saved_tensors(self) -> tuple:
        """The arrays given to :meth:`save_for_backward`."""
        return self._saved_tensors

    def forward(self, *inputs: Any) -> Any:
        """The computation: NDArrays in, an NDArray or a tuple of NDArrays out."""
        raise NotImplementedError(
            f"{type(self).__name__}.forward: subclasses of autograd.Function must define "
            f"forward(self, *inputs)"
        )

    def backward(self, *output_grads: Any) -> Any:
        """The gradients of the inputs, given one gradient per output."""
        raise NotImplementedError(
            f"{type(self).__name__}.backward: subclasses of autograd.Function must define "
            f"backward(self, *output_grads)"
        )

    def __call__(self, *inputs: Any) -> Any:
        with pause():
            outputs = self.forward(*inputs)
        single = isinstance(outputs, NDArray)
        output_list = (
            [outputs]
            if single
            else (list(outputs) if isinstance(outputs, (tuple, list)) else [outputs])
        )
        for position, output in enumerate(output_list):
            if not isinstance(output, NDArray):
                raise TypeError(
                    f"{type(self).__name__}.forward must return NDArrays, but output "
                    f"{position} is a {type(output).__name__}"
                )
        if not recording.get():
            return outputs
        operands = tuple(_operand(value, True) for value in inputs)
        if not any(type(operand) is Tracer for operand in operands):
            return outputs
        recorded = []
        for position, output in enumerate(output_list):
            primitive = Primitive(
                type(self).__name__,
                _constant(output._value),
                Variadic(self._rule(position, output_list, inputs)),
                None,
            )
            tracer = bind(primitive, operands, EMPTY_PARAMS)
            recorded.append(_new(output._value, tracer))
        return recorded[0] if single else tuple(recorded)

    def _rule(self, position: int, outputs: list, inputs: tuple) -> Any:
        def rule(argnum: int, g: Any, ans: Any, *args: Any) -> Any:
            last = self._last
            if last is None or last[0] is not g or last[1] != position:
                last = self._last = (g, position, self._input_grads(position, g, outputs, inputs))
            return last[2][argnum]

        return rule

    def _input_grads(self, position: int, g: Any, outputs: list, inputs: tuple) -> list:
        name = type(self).__name__
        output_grads = [
            (
                _new(np.asarray(full_value(g)), g if type(g) is Tracer else None)
                if index == position
                else _new(np.zeros_like(output._value))
            )
            for index, output in enumerate(outputs)
        ]
        result = self.backward(*output_grads)
        grads = [result] if isinstance(result, NDArray) else list(result)
        if len(grads) != len(inputs):
            raise ValueError(
                f"{name}.backward returned {len(grads)} gradient(s) for {len(inputs)} input(s); "
                f"return one gradient per input of forward"
            )
        converted: list[Any] = []
        for index, (gradient, source) in enumerate(zip(grads, inputs)):
            if gradient is None:
                converted.append(None)
                continue
            if not isinstance(gradient, NDArray):
                raise TypeError(
                    f"{name}.backward must return NDArrays, but gradient {index} "
                    f"is a {type(gradient).__name__}"
                )
            if isinstance(source, NDArray) and gradient.shape != source.shape:
                raise ValueError(
                    f"{name}.backward: gradient {index} has shape {gradient.shape}, but input "
                    f"{index} has shape {source.shape}"
                )
            recorded = gradient._tracer is not None and recording.get()
            converted.append(gradient._tracer if recorded else gradient._value)
        return converted


def _constant(value: Any) -> Any:
    def forward_value(*args: Any) -> Any:
        return value

    return forward_value
