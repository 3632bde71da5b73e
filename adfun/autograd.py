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
from adfun._engine.graph import Graph
from adfun._engine.records import EMPTY_PARAMS, INPUT, Primitive, Variadic
from adfun._imperative.recording import (
    CONSUMED,
    TRACE,
    GradSlot,
    VariableNode,
    check_grad_req,
    consume,
    recording,
    training,
)
from adfun._staging.replay import replay
from adfun._engine.reverse import backward as reverse_pass
from adfun._engine.trace import Tracer, bind, full_value, new_input, open_trace
from adfun.nd._ndarray import NDArray, _new, _operand

__all__ = [
    "Function",
    "backward",
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
        self._tokens.append((
            None if is_recording is None else recording.set(is_recording),
            None if is_training is None else training.set(is_training),
        ))
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

    def __enter__(self) -> _Scope:
        self._tokens.append(
            (recording.set(self._recording), training.set(self._training)))
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


# --- heads, graph walk, gradient buffers -------------------------------------------------


def _as_list(function: str, name: str, value: Any) -> list:
    if isinstance(value, NDArray):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(
        f"{function}: {name} must be an NDArray or a list of NDArrays, got "
        f"{type(value).__name__}"
    )


def _seeds(function: str, heads: Any, head_grads: Any, recorded: bool) -> list:
    """``(node, cotangent)`` for each head; ones where no head gradient is given."""
    if type(heads) is not list:
        heads = _as_list(function, "heads", heads)
    if head_grads is None and len(heads) == 1:  # the common case: one recorded head
        head = heads[0]
        if type(head) is NDArray and head._tracer is not None:
            return [(head._tracer.node, _ones(head._value))]
    if head_grads is None:
        head_grads = [None] * len(heads)
    else:
        head_grads = _as_list(function, "head_grads", head_grads)
        if len(head_grads) != len(heads):
            raise ValueError(
                f"{function}: got {len(heads)} head(s) but {len(head_grads)} head gradient(s); "
                f"pass one head gradient per head (None for ones)"
            )
    seeds = []
    for position, (head, head_grad) in enumerate(zip(heads, head_grads)):
        if type(head) is not NDArray and not isinstance(head, NDArray):
            raise TypeError(
                f"{function}: heads[{position}] must be an NDArray, got {type(head).__name__}"
            )
        tracer = head._tracer
        if tracer is None:
            slot = head._slot
            if slot is None or slot.req == "null":
                raise RuntimeError(
                    f"{function}: the array {_which(heads, position)} is not in a "
                    f"recorded graph: none of the arrays it was computed from has "
                    f"attach_grad() (or it was computed outside autograd.record(), or under "
                    f"autograd.pause()), so there is nothing to differentiate. Call "
                    f"attach_grad() on the inputs to differentiate with respect to, then "
                    f"compute the array inside a `with autograd.record():` block."
                )
            tracer = head._variable_tracer()
        seeds.append((tracer.node, _ones(head._value) if head_grad is None else
                      _head_seed(function, position, head, head_grad, recorded)))
    return seeds


def _which(heads: list, position: int) -> str:
    return "you called backward on" if len(heads) == 1 else f"heads[{position}]"


def _head_seed(function: str, position: int, head: NDArray, head_grad: Any,
               recorded: bool) -> Any:
    value = head._value
    if isinstance(head_grad, NDArray):
        seed = head_grad._tracer if recorded and head_grad._tracer is not None else (
            head_grad._value)
    else:
        seed = np.array(head_grad)  # a copy: later changes by the caller cannot leak in
    plain = full_value(seed)
    if tuple(plain.shape) != value.shape:
        raise ValueError(
            f"{function}: head_grads[{position}] has shape {tuple(plain.shape)}, but its head "
            f"has shape {value.shape}; a head gradient must have its head's shape"
        )
    if plain.dtype != value.dtype:
        seed = anp.astype(seed, value.dtype)
    return seed


#: Read-only arrays of ones, the default head gradients of small heads, by (shape, dtype).
_ONES: dict = {}


def _ones(value: np.ndarray) -> np.ndarray:
    """Read-only ones of ``value``'s shape and dtype (no rule writes into a cotangent)."""
    if value.size > 4096:  # a view of a single one: no memory traffic
        return np.broadcast_to(np.ones((), value.dtype), value.shape)
    key = (value.shape, value.dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = np.ones(value.shape, value.dtype)
        ones.flags.writeable = False
        if len(_ONES) >= 256:
            _ONES.clear()
        _ONES[key] = ones
    return ones


def _walk(function: str, seeds: list) -> tuple[list, list]:
    """The nodes the heads depend on, parents before children, and the variable nodes
    among them; refuses a graph that a backward pass already freed.

    One depth-first pass (the order is the one ``adfun._engine.graph.toposort`` gives) that also
    does the checks; an input is placed as soon as it is seen, as it has no parents.
    """
    order: list = []
    variables: list = []
    visited: set = set()  # nodes compare and hash by identity
    add = visited.add
    place = order.append
    marked = CONSUMED.get
    for root, _ in seeds:
        if root in visited:
            continue
        add(root)
        parents = root.parents
        if not parents:
            place(root)
            if type(root) is VariableNode:
                variables.append(root)
            continue
        # depth-first, with (node, its parents, their number, next index) frames on a stack
        stack: list = []
        node = root
        count = len(parents)
        index = 0
        while True:
            if index < count:
                parent = parents[index]
                index += 1
                if parent in visited:
                    continue
                add(parent)
                if parent.parents:
                    stack.append((node, parents, count, index))
                    node = parent
                    parents = parent.parents
                    count = len(parents)
                    index = 0
                    continue
                place(parent)
                if type(parent) is VariableNode:
                    variables.append(parent)
                continue
            mark = marked(id(node))  # is_consumed(node), inlined
            if mark is not None and mark() is node:
                raise RuntimeError(
                    f"{function}: the recorded graph was already used by a backward "
                    f"pass that freed it. To run backward through the same graph more "
                    f"than once, pass retain_graph=True to the earlier backward call, "
                    f"or record the computation again."
                )
            place(node)
            if not stack:
                break
            node, parents, count, index = stack.pop()
    return order, variables


def _per_slot(nodes: list, cotangents: list) -> dict:
    """Sum the cotangents of the nodes that share a gradient slot (a variable changed in
    place between two recorded uses has one node per value)."""
    totals: dict = {}
    for node, cotangent in zip(nodes, cotangents):
        slot = node.slot
        entry = totals.get(id(slot))
        if entry is None:
            totals[id(slot)] = [slot, cotangent]
        elif cotangent is not None:
            entry[1] = cotangent if entry[1] is None else anp.add(entry[1], cotangent)
    return totals


def _write(slot: GradSlot, cotangent: Any) -> None:
    gradient = slot.grad
    current = gradient._value
    if cotangent is None:
        value = np.zeros_like(current)
    elif type(cotangent) is np.ndarray and cotangent.dtype == current.dtype:
        value = cotangent
    else:
        value = np.asarray(cotangent, dtype=current.dtype)
    if slot.req == "add":
        value = current + value
    gradient._value = value  # gradient._set_value(value), inlined
    gradient._tracer = None


def _enter_pass(train: bool, record_pass: bool) -> tuple:
    """Set the flags of a backward pass: training as asked, and recording only when the
    pass itself is recorded (``create_graph=True``), as in MXNet.  Returns the tokens
    that :func:`_exit_pass` restores."""
    record_pass = bool(record_pass)
    train = bool(train)
    # a flag that already has the wanted value is left alone (a get is cheaper than a set)
    return (None if recording.get() is record_pass else recording.set(record_pass),
            None if training.get() is train else training.set(train))


def _exit_pass(tokens: tuple) -> None:
    if tokens[0] is not None:
        recording.reset(tokens[0])
    if tokens[1] is not None:
        training.reset(tokens[1])


# --- backward and grad -------------------------------------------------------------------


def backward(heads: Any, head_grads: Any = None, retain_graph: bool = False,
             train_mode: bool = True) -> None:  # noqa: F811
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
    _backward(_seeds("backward", heads, head_grads, False), retain_graph, train_mode)


def _backward_array(head: NDArray, out_grad: Any, retain_graph: bool, train_mode: bool) -> None:
    """``head.backward(out_grad, retain_graph, train_mode)`` (see :meth:`NDArray.backward`)."""
    tracer = head._tracer
    if out_grad is None and tracer is not None:  # _seeds' one-head fast path
        seeds = [(tracer.node, _ones(head._value))]
    else:
        seeds = _seeds("backward", [head], None if out_grad is None else [out_grad], False)
    _backward(seeds, retain_graph, train_mode)


def _backward(seeds: list, retain_graph: bool, train_mode: bool) -> None:
    order, variables = _walk("backward", seeds)
    for node in variables:
        if node.slot.req == "null":
            variables = [node for node in variables if node.slot.req != "null"]
            break
    # _enter_pass / _exit_pass inlined: the pass is not recorded, training as asked
    train = bool(train_mode)
    recording_token = recording.set(False) if recording.get() else None
    training_token = None if training.get() is train else training.set(train)
    try:
        cotangents = reverse_pass(seeds, variables, order)
    finally:
        if training_token is not None:
            training.reset(training_token)
        if recording_token is not None:
            recording.reset(recording_token)
    if not retain_graph:
        consume(order)
    if len(variables) == 1:  # one variable: no slot is shared
        slot = variables[0].slot
        if slot.grad is not None:
            _write(slot, cotangents[0])
        return
    for slot, cotangent in _per_slot(variables, cotangents).values():
        if slot.req != "null" and slot.grad is not None:
            _write(slot, cotangent)


def grad(heads: Any, variables: Any, head_grads: Any = None, retain_graph: Any = None,
         create_graph: bool = False, train_mode: bool = True) -> Any:  # noqa: F811
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
    variables = _as_list("autograd.grad", "variables", variables)
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
    seeds = _seeds("autograd.grad", heads, head_grads, create_graph)
    order, inputs = _walk("autograd.grad", seeds)
    wanted = {id(slot) for slot in slots}
    nodes = [node for node in inputs if id(node.slot) in wanted]
    tokens = _enter_pass(train_mode, create_graph)
    try:
        if create_graph:
            cotangents = _recorded_pass(seeds, order, nodes)
        else:
            cotangents = reverse_pass(seeds, nodes, order)
        totals = _per_slot(nodes, cotangents)
    finally:
        _exit_pass(tokens)
    if not retain_graph:
        consume(order)
    gradients = []
    for variable, slot in zip(variables, slots):
        entry = totals.get(id(slot))
        gradients.append(_gradient(variable, None if entry is None else entry[1]))
    return gradients[0] if single else gradients


def _recorded_pass(seeds: list, order: list, nodes: list) -> list:
    """The reverse pass, recorded: replay the graph one trace level up, then reverse it.

    Every node's arguments in the replayed graph are tracers of the imperative trace, so
    the derivative rules -- written with ``adfun.numpy`` -- record their work there.
    """
    inputs = [node for node in order if node.primitive is INPUT]
    graph = Graph.build(inputs, [node for node, _ in seeds])
    with open_trace("autograd.grad(create_graph=True)") as trace:
        lifted = [new_input(trace, Tracer(node.value, node, TRACE)) for node in inputs]
        outputs = replay(graph, tuple(lifted))
    if len(seeds) == 1:
        outputs = (outputs,)
    where = {id(node): tracer.node for node, tracer in zip(inputs, lifted)}
    lifted_seeds = [(output.node, seed) for output, (_, seed) in zip(outputs, seeds)]
    # the replay trace's creation order is a topological order of its nodes
    return reverse_pass(lifted_seeds, [where[id(node)] for node in nodes], trace.nodes)


def _gradient(variable: NDArray, cotangent: Any) -> NDArray:
    dtype = variable._value.dtype
    if cotangent is None:
        return _new(np.zeros_like(variable._value))
    if type(cotangent) is Tracer:
        if cotangent.dtype != dtype:
            cotangent = anp.astype(cotangent, dtype)
        return _new(np.asarray(full_value(cotangent)), cotangent)
    return _new(np.asarray(cotangent, dtype=dtype))


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
    variables = _as_list("autograd.mark_variables", "variables", variables)
    gradients = _as_list("autograd.mark_variables", "gradients", gradients)
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
        output_list = [outputs] if single else (
            list(outputs) if isinstance(outputs, (tuple, list)) else [outputs])
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
                self._last = (g, position, self._input_grads(position, g, outputs, inputs))
            return self._last[2][argnum]

        return rule

    def _input_grads(self, position: int, g: Any, outputs: list, inputs: tuple) -> list:
        name = type(self).__name__
        output_grads = [
            (_new(np.asarray(full_value(g)), g if type(g) is Tracer else None)
             if index == position else _new(np.zeros_like(output._value)))
            for index, output in enumerate(outputs)
        ]
        result = self.backward(*output_grads)
        grads = [result] if isinstance(result, NDArray) else list(result)
        if len(grads) != len(inputs):
            raise ValueError(
                f"{name}.backward returned {len(grads)} gradient(s) for {len(inputs)} input(s); "
                f"return one gradient per input of forward"
            )
        converted = []
        for index, (gradient, source) in enumerate(zip(grads, inputs)):
            if gradient is None:
                converted.append(None)
                continue
            if not isinstance(gradient, NDArray):
                raise TypeError(f"{name}.backward must return NDArrays, but gradient {index} "
                                f"is a {type(gradient).__name__}")
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
