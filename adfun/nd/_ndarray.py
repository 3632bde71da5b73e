"""The MXNet-style array: a value and, while it is recorded, a tracer of the imperative trace.

An :class:`NDArray` never computes a derivative itself.  Its operations call
``adfun.numpy`` on either its plain value or, inside ``autograd.record()``, its tracer, so
that recorded operations become nodes of the same immutable graph ``adfun.grad`` builds.

Buffers and views, as in MXNet: basic slicing that selects a contiguous block
(``x[0]``, ``x[1:3]``) and :meth:`NDArray.reshape` return *views* that share the buffer of
the array they come from, so ``y = x[0]; y[:] = 9`` changes ``x``; every other operation
returns an array with a buffer of its own (a transpose is a copy, as in MXNet).

An array writes in place only into a buffer it *owns* (the ``_base`` slot, see
:func:`_root`): a buffer created for it, or the buffer of the array it is a view of.  The
result of an operation starts without ownership (its buffer may be the value a recorded
node holds) and copies its values once, at the first in-place write or view.  When a
recording captures a buffer (a variable's value, a constant operand), its owner gives
ownership up, so the next in-place write copies first: a recorded graph never sees a later
change of the values it captured (a view of such an array stops writing through).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

import adfun.numpy as anp
from adfun._engine.records import EMPTY_PARAMS
from adfun._engine.trace import Tracer, bind_binary
from adfun._imperative.backward import head_seeds, ones, run_backward
from adfun._imperative.context import Context, check_context, context_of, cpu, to_context
from adfun._imperative.recording import (
    GradSlot,
    check_grad_req,
    check_real,
    new_variable,
    recording,
)

#: The functions of ``adfun.nd`` that NDArray's methods (``x.sum()``, ``x.T``, ...)
#: delegate to, by name; ``adfun/nd/_ops.py``, which builds on this module, fills it
#: when it is imported (``adfun/nd/__init__.py`` imports it).
OPS: dict[str, Any] = {}


def _new(value: np.ndarray, tracer: Tracer | None = None) -> NDArray:
    """An NDArray around ``value`` (not copied) and, if recorded, its ``tracer``.

    The array does not own ``value``: its first in-place write copies it.
    """
    array = object.__new__(NDArray)
    array._value = value
    array._tracer = tracer
    array._slot = None
    return array


def _owned(value: np.ndarray) -> NDArray:
    """An NDArray that owns ``value``, a fresh C-contiguous buffer nothing else refers to."""
    if value.base is not None or not value.flags.c_contiguous:
        value = np.array(value, order="C")  # views of it must find it as their base
    array = _new(value)
    array._base = array
    return array


def _root(x: NDArray) -> NDArray | None:
    """The array that owns the buffer ``x`` may write into in place (``x`` itself, or the
    array ``x`` is a view of), or None where ``x`` must copy its values before a write.

    The ``_base`` slot is unset or None (no ownership), ``x`` itself (``x`` owns its
    buffer) or the owner ``x`` is a view of; such a view writes through only while that
    owner still owns the buffer the view lives in.
    """
    base: Any = getattr(x, "_base", None)
    if base is x:
        return x
    if base is not None and getattr(base, "_base", None) is base:
        buffer = cast(Any, base)._value
        value = x._value
        if value is buffer or value.base is buffer:
            return base
    return None


def _own(x: NDArray) -> NDArray:
    """Make ``x`` writable in place (copying its values once if it owns no buffer) and
    return the owner of its buffer.  The recorded node of ``x`` is kept: same values."""
    root = _root(x)
    if root is None:
        x._value = np.array(x._value, order="C")
        x._base = root = x
    return root


def _release(x: NDArray) -> None:
    """A recording captured the buffer of ``x``: its owner gives ownership up, so that a
    later in-place write copies first and the recording keeps the values it saw."""
    base = getattr(x, "_base", None)
    if base is not None:
        base._base = None


def _view(source: NDArray, value: np.ndarray) -> NDArray:
    """An NDArray for ``value``, a NumPy view into the buffer of ``source``: a view that
    writes through when ``source`` owns that buffer (else an array of its own)."""
    root = _root(source)
    if root is not None and (value is root._value or value.base is root._value):
        array = _new(value)
        array._base = root
        return array
    return _owned(np.array(value, order="C"))


def _unpickle(value: np.ndarray, device_type: str, device_id: int) -> NDArray:
    """The inverse of ``NDArray.__reduce__``."""
    Context(device_type, device_id)  # refuses a context this adfun does not have
    return _new(value)


def _result(out: Any) -> NDArray:
    """Wrap what an ``adfun.numpy`` call returned (a tracer or a plain value)."""
    array = object.__new__(NDArray)  # _new, inlined
    array._slot = None
    if type(out) is Tracer:
        value = out.value
        array._tracer = out
    else:
        value = out
        array._tracer = None
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    if value.dtype.kind == "c":  # only a complex NumPy operand gets here: creation refuses
        check_real("adfun.nd", "the result of an operation on a complex NumPy array", value.dtype)
    if value.base is not None:
        # a view of another array's buffer (a transpose, a reshape): an operation returns
        # an array of its own, as in MXNet, so that writes into either stay apart
        value = np.array(value, order="C")
    array._value = value
    return array


def _operand(x: Any, is_recording: bool) -> Any:
    """What an operation computes with: the tracer while recording, else the value."""
    if isinstance(x, NDArray):
        if is_recording:
            tracer = x._tracer
            if tracer is not None:
                return tracer
            slot = x._slot
            if slot is not None and slot.req != "null":
                return x._variable_tracer()
            _release(x)  # a constant of the recording: it must not change behind its back
        return x._value
    if isinstance(x, np.generic):
        # a scalar never changes an array's dtype in MXNet: x * np.float64(2) stays float32
        return x.item()
    return x


def value_of(x: Any) -> Any:
    """The plain value of an NDArray (other objects are returned unchanged)."""
    return x._value if isinstance(x, NDArray) else x


def apply(fun: Any, *operands: Any) -> NDArray:
    """``fun(*operands)`` with ``fun`` built from ``adfun.numpy``: recorded when recording.

    ``fun`` receives tracers for the operands that take part in the recording and plain
    values for the others; ``adfun.numpy`` records a node exactly when a tracer is involved.
    """
    is_recording = recording.get()
    return _fresh(_result(fun(*[_operand(x, is_recording) for x in operands])), operands)


def apply_many(fun: Any, operands: Any) -> NDArray:
    """Like :func:`apply` for a function of one sequence of arrays (``concat``, ``stack``)."""
    is_recording = recording.get()
    return _fresh(_result(fun([_operand(x, is_recording) for x in operands])), operands)


def _fresh(result: NDArray, operands: Any) -> NDArray:
    """``result``, with a copy of its values where a function returned an operand's buffer
    unchanged (an identity such as a reshape to the same shape)."""
    value = result._value
    for x in operands:
        if type(x) is NDArray and x._value is value:
            result._value = np.array(value, order="C")
            break
    return result


def _integer_divide(lhs: Any, rhs: Any) -> Any:
    """Integer division rounding toward zero, as C (and MXNet on integer arrays) does."""
    lhs = np.asarray(lhs)
    rhs = np.asarray(rhs)
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = np.floor_divide(lhs, rhs)
        inexact = (np.remainder(lhs, rhs) != 0) & ((lhs < 0) != (rhs < 0))
    return quotient + inexact.astype(quotient.dtype)


def _scalar(value: np.ndarray, other: Any) -> Any:
    """A Python scalar operand as MXNet uses it: converted to the array's dtype first, so
    that integer arrays stay integer (``int32 [1, 2] * 1.5`` is ``[1, 2]``)."""
    if value.dtype.kind in "iu" and type(other) is float:
        if other != other or other in (float("inf"), float("-inf")):
            raise ValueError(
                f"NDArray: the scalar {other!r} cannot be converted to the integer dtype "
                f"{value.dtype} of the array it is combined with (MXNet converts a scalar "
                f"to the array's dtype); convert the array first, e.g. x.astype('float32')"
            )
        return int(other)
    return other


def _binary(fun: Any, name: str, direct: bool = False, integer: Any = None) -> tuple:
    # The common cases (an NDArray or a Python number as the other operand, an array that
    # is already recorded) are inlined; everything else goes through _operand.
    #
    # direct=True: ``fun`` is declared with adfun.numpy's binary(), whose wrapper does
    # nothing on traced operands but bind_binary(primitive, x, y, EMPTY_PARAMS); recorded
    # operations call that directly (a Python call and two type checks fewer per
    # operation, which is measurable in benchmark W6a).
    #
    # integer: the function used instead of ``fun`` when both operands are integer (true
    # division of integer arrays is integer division in MXNet).
    primitive = fun.primitive if direct else None

    def compute(lhs: Any, rhs: Any) -> Any:
        if integer is not None and _dtype_kind(lhs) in "iu" and _dtype_kind(rhs) in "iu":
            return integer(lhs, rhs)
        return fun(lhs, rhs)

    def forward(self: NDArray, other: Any) -> Any:
        lhs: Any  # a tracer while recording, else a value
        rhs: Any
        kind = type(other)
        if kind is not NDArray and kind is not int and kind is not float:
            if not _is_operand(other):
                return _refuse_complex(forward.__name__, other)
            _check_operand(forward.__name__, other)
            if isinstance(other, np.generic):
                other = other.item()
                kind = type(other)
        if kind is float:
            other = _scalar(self._value, other)
            kind = type(other)
        if recording.get():
            lhs = self._tracer
            if lhs is None:
                lhs = _operand(self, True)
            if kind is NDArray:
                rhs = other._tracer
                if rhs is None:
                    rhs = _operand(other, True)
            else:
                rhs = other if kind is int or kind is float else _operand(other, True)
            if primitive is not None and (type(lhs) is Tracer or type(rhs) is Tracer):
                return _result(bind_binary(primitive, lhs, rhs, EMPTY_PARAMS))
        else:
            lhs = self._value
            rhs = _operand(other, False)
        return _result(compute(lhs, rhs))

    def reflected(self: NDArray, other: Any) -> Any:
        lhs: Any  # a tracer while recording, else a value
        rhs: Any
        kind = type(other)
        if kind is not int and kind is not float:
            if not _is_operand(other):
                return _refuse_complex(reflected.__name__, other)
            _check_operand(reflected.__name__, other)
            if isinstance(other, np.generic):
                other = other.item()
                kind = type(other)
        if kind is float:
            other = _scalar(self._value, other)
            kind = type(other)
        if recording.get():
            lhs = other if kind is int or kind is float else _operand(other, True)
            rhs = self._tracer
            if rhs is None:
                rhs = _operand(self, True)
            if primitive is not None and (type(lhs) is Tracer or type(rhs) is Tracer):
                return _result(bind_binary(primitive, lhs, rhs, EMPTY_PARAMS))
        else:
            lhs = _operand(other, False)
            rhs = self._value
        return _result(compute(lhs, rhs))

    def inplace(self: NDArray, other: Any) -> NDArray:
        if not _is_operand(other):
            return _refuse_complex(inplace.__name__, other)
        _check_operand(inplace.__name__, other)
        self._check_writable(f"NDArray.__i{name}__ (x {_SYMBOLS[name]}= ...)", other)
        if isinstance(other, np.generic):
            other = other.item()
        if type(other) is float:
            other = _scalar(self._value, other)
        value = np.asarray(compute(self._value, _operand(other, False)))
        if value.shape != self._value.shape:
            raise ValueError(
                f"NDArray.__i{name}__: the result has shape {value.shape}, but an in-place "
                f"operation cannot change the shape {self._value.shape} of the array; write "
                f"x = x {_SYMBOLS[name]} y instead"
            )
        self._write_all(value.astype(self._value.dtype, copy=False))
        return self

    forward.__name__ = f"__{name}__"
    reflected.__name__ = f"__r{name}__"
    inplace.__name__ = f"__i{name}__"
    return forward, reflected, inplace


def _check_operand(method: str, other: Any) -> None:
    """Refuse a complex NumPy operand of an operator (NDArrays are real)."""
    if type(other) is not NDArray:
        check_real(f"NDArray.{method}", "the other operand", getattr(other, "dtype", None))


def _refuse_complex(method: str, other: Any) -> Any:
    """NotImplemented for an operand an operator does not take, but a clear error for a
    Python complex number (rather than Python's "unsupported operand type")."""
    if isinstance(other, complex):
        check_real(f"NDArray.{method}", "the other operand", np.complex128)
    return NotImplemented


def _dtype_kind(x: Any) -> str:
    """The NumPy dtype kind of an operand (``'i'`` for a Python int, ``'f'`` for a float)."""
    if type(x) is int:
        return "i"
    dtype = getattr(x, "dtype", None)
    return "f" if dtype is None else np.dtype(dtype).kind


_SYMBOLS = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "truediv": "/",
    "floordiv": "//",
    "mod": "%",
    "pow": "**",
    "matmul": "@",
}


def _is_operand(other: Any) -> bool:
    return isinstance(other, (NDArray, int, float, np.ndarray, np.generic))


def _is_recorded(x: Any) -> bool:
    """Whether ``x`` is an NDArray that takes part in recordings (a node or a variable)."""
    if not isinstance(x, NDArray):
        return False
    slot = x._slot
    return x._tracer is not None or (slot is not None and slot.req != "null")


def _comparison(fun: Any, name: str) -> Any:
    def compare(self: NDArray, other: Any) -> Any:
        if not _is_operand(other):
            return NotImplemented
        dtype = self._value.dtype
        return _new(np.asarray(fun(self._value, value_of(other))).astype(dtype))

    compare.__name__ = f"__{name}__"
    compare.__doc__ = f"Elementwise ``{name}``: a 0/1 array of this array's dtype (as MXNet)."
    return compare


def _index(key: Any) -> Any:
    """An index with NDArrays replaced by integer NumPy arrays."""
    if isinstance(key, NDArray):
        return key._value.astype(np.int64)
    if isinstance(key, tuple):
        return tuple(_index(part) for part in key)
    return key


def _is_basic(key: Any) -> bool:
    """Whether ``key`` is a basic index (ints, slices, None, Ellipsis): NumPy gives a view."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(
        part is None
        or part is Ellipsis
        or isinstance(part, slice)
        or (isinstance(part, (int, np.integer)) and not isinstance(part, bool))
        for part in parts
    )


def _at_least_1d(value: Any) -> Any:
    """MXNet has no 0-d arrays: a scalar result becomes shape ``(1,)``."""
    if len(getattr(value, "shape", ())) == 0:
        return anp.reshape(value, (1,))
    return value


class NDArray:
    """An n-dimensional array with MXNet's imperative autograd interface.

    Create arrays with :func:`adfun.nd.array`, :func:`adfun.nd.zeros`, ... rather than with
    this class.  Inside :func:`adfun.autograd.record` every operation on an array that
    depends on a variable (an array that called :meth:`attach_grad`) is recorded in the
    graph, and :meth:`backward` fills the variables' :attr:`grad`.

    Examples
    --------
    >>> from adfun import nd, autograd
    >>> x = nd.array([[1, 2], [3, 4]])
    >>> x.attach_grad()
    >>> with autograd.record():
    ...     z = x * x * 2
    >>> z.backward()
    >>> x.grad
    <BLANKLINE>
    [[ 4.  8.]
     [12. 16.]]
    <NDArray 2x2 @cpu(0)>
    """

    __slots__ = ("_value", "_tracer", "_slot", "_base", "__weakref__")
    # NumPy defers binary operations with an NDArray to the NDArray's reflected operators.
    __array_ufunc__ = None

    def __init__(self, value: Any) -> None:
        self._value: np.ndarray = np.array(value, order="C")
        check_real("NDArray", "value", self._value.dtype)
        self._tracer: Tracer | None = None
        self._slot: GradSlot | None = None
        self._base: NDArray | None = self

    #: The storage type, as in MXNet; ``'default'`` (dense) here, see :mod:`adfun.nd.sparse`.
    stype = "default"

    # --- attributes ------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        """The shape, a tuple of ints."""
        return self._value.shape

    @property
    def dtype(self) -> type:
        """The element type, as a NumPy scalar type (``numpy.float32``), as in MXNet."""
        # read from the slot itself: a sparse array keeps a SciPy matrix there
        return _VALUES.__get__(self).dtype.type

    @property
    def size(self) -> int:
        """The number of elements."""
        return self._value.size

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._value.ndim

    @property
    def context(self) -> Any:
        """Where the array lives, ``cpu(0)`` (NumPy values) or ``gpu(i)`` (CuPy ones)."""
        value = self._value
        return cpu() if type(value) is np.ndarray else context_of(value)

    ctx = context

    @property
    def T(self) -> NDArray:
        """The transpose (axes reversed)."""
        return OPS["transpose"](self)

    @property
    def grad(self) -> NDArray | None:
        """This array's gradient buffer, written by ``backward()``.

        ``None`` before :meth:`attach_grad` and with ``grad_req='null'``.
        """
        slot = self._slot
        if slot is None or slot.req == "null":
            return None
        return slot.grad

    @property
    def _fresh_grad(self) -> bool:
        """Whether a backward pass wrote :attr:`grad` since this flag was last cleared.

        As in MXNet: False after ``attach_grad()``, True once a backward pass computed a
        gradient for this array; set it to False yourself (an optimizer does) to notice
        the next update.  A detached copy used in its place gets no update.
        """
        slot = self._slot
        return slot is not None and slot.fresh

    @_fresh_grad.setter
    def _fresh_grad(self, state: bool) -> None:
        slot = self._slot
        if slot is not None:
            slot.fresh = bool(state)

    # --- printing ----------------------------------------------------------------------
    # --- pickling ------------------------------------------------------------------------
    def __reduce__(self) -> Any:
        """Pickle (and ``copy.deepcopy``) like MXNet: the values, dtype and context only.

        The unpickled array is a plain array: it is not part of any recording and has no
        gradient (call ``attach_grad()`` again), as with MXNet's NDArray.
        """
        context = self.context
        return (_unpickle, (np.array(self._value), context.device_type, context.device_id))

    def __repr__(self) -> str:
        shape = "x".join(str(side) for side in self._value.shape)
        return f"\n{self._value}\n<{type(self).__name__} {shape} @{self.context}>"

    __str__ = __repr__

    # --- conversions ---------------------------------------------------------------------
    def asnumpy(self) -> np.ndarray:
        """A NumPy copy of the values."""
        return self._value.copy()

    def asscalar(self) -> Any:
        """The single element as a NumPy scalar; ``ValueError`` unless the size is 1."""
        if self._value.size != 1:
            raise ValueError(
                f"NDArray.asscalar: the array has shape {self._value.shape} "
                f"({self._value.size} elements); only an array with exactly one element can "
                f"be converted to a scalar. Index or reduce it first (e.g. x.sum())."
            )
        return self._value.reshape(-1)[0]

    def tolist(self) -> list:
        """The values as nested Python lists."""
        return self._value.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.array(self._value, dtype=dtype)

    def __bool__(self) -> bool:
        size = self._value.size
        if size == 0:
            return False
        if size == 1:
            return bool(self._value.reshape(-1)[0])
        raise ValueError(
            f"The truth value of an NDArray with {size} elements is ambiguous; use "
            f"(x != 0).sum().asscalar() or compare .asnumpy() with any()/all()"
        )

    def __float__(self) -> float:
        return float(self.asscalar())

    def __int__(self) -> int:
        return int(self.asscalar())

    def __len__(self) -> int:
        return self._value.shape[0]

    def __iter__(self) -> Any:
        return (self[index] for index in range(len(self)))

    __hash__ = object.__hash__

    def astype(self, dtype: Any, copy: bool = True) -> NDArray:
        """This array converted to ``dtype`` (recorded: the gradient flows back)."""
        dtype = np.dtype(dtype)
        check_real("NDArray.astype", "dtype", dtype)
        if not copy and dtype == self._value.dtype:
            return self
        return apply(lambda value: anp.astype(value, dtype), self)

    def copy(self) -> NDArray:
        """A new array with the same values (recorded, so the gradient flows through)."""
        if not (recording.get() and _is_recorded(self)):
            return _owned(np.array(self._value, order="C"))
        shape = self._value.shape
        return apply(lambda value: anp.reshape(value, shape), self)

    def copyto(self, other: Any) -> NDArray:
        """Copy the values into the NDArray ``other`` (or a new array for a context)."""
        if isinstance(other, NDArray):
            other[:] = self
            return other
        context = check_context("NDArray.copyto", other)
        if context == self.context:
            return self.copy()
        return _new(to_context("NDArray.copyto", self._value, context))

    def as_in_context(self, context: Any) -> NDArray:
        """This array if it is in ``context``, else a copy there (as in MXNet)."""
        target = check_context("NDArray.as_in_context", context)
        if target == self.context:
            return self
        return _new(to_context("NDArray.as_in_context", self._value, target))

    def wait_to_read(self) -> None:
        """Nothing to wait for: adfun computes eagerly."""

    def detach(self) -> NDArray:
        """The same values, cut from the recorded graph (a constant for differentiation).

        As in MXNet the result shares this array's buffer: in-place writes to either are
        seen by both while the buffer is not captured by a recording.
        """
        result = _view(self, self._value)
        if type(self) is not NDArray:
            result.__class__ = type(self)  # keeps a sparse storage type
        return result

    # --- autograd ------------------------------------------------------------------------
    def attach_grad(self, grad_req: str = "write", stype: Any = None) -> None:
        """Make this array a variable: ``backward`` will store its gradient in :attr:`grad`.

        Parameters
        ----------
        grad_req : {'write', 'add', 'null'}, optional
            ``'write'`` overwrites :attr:`grad` at every backward pass, ``'add'``
            accumulates into it, ``'null'`` computes no gradient (:attr:`grad` is None).
        stype : {None, 'default', 'row_sparse', 'csr'}, optional
            The storage type of the gradient buffer (default: this array's ``stype``).
        """
        check_grad_req("NDArray.attach_grad", grad_req)
        check_real("NDArray.attach_grad", "the array", self._value.dtype)
        grad = None
        if grad_req != "null":
            grad = OPS["_zeros_of_stype"]("NDArray.attach_grad", self, stype)
        self._slot = GradSlot(grad, grad_req)
        self._tracer = None  # from now on a leaf of the graphs that use it

    def _variable_tracer(self) -> Tracer:
        _release(self)  # the variable node holds this buffer: later writes copy first
        tracer = new_variable(self._value, cast(GradSlot, self._slot))  # attach_grad() set it
        self._tracer = tracer
        return tracer

    def tostype(self, stype: str) -> NDArray:
        """This array's values in storage ``stype``: ``'default'`` (dense), ``'csr'`` or
        ``'row_sparse'`` (see :mod:`adfun.nd.sparse`); recorded like a copy."""
        return OPS["_tostype"](self, stype)

    def backward(
        self, out_grad: Any = None, retain_graph: bool = False, train_mode: bool = True
    ) -> None:
        """Compute the gradients of this array with respect to the variables it depends on.

        Parameters
        ----------
        out_grad : NDArray, optional
            The head gradient (shape of this array); ones by default.
        retain_graph : bool, optional
            Keep the recorded graph so that it can be differentiated again.
        train_mode : bool, optional
            Whether the backward pass runs in training mode.
        """
        tracer = self._tracer
        if out_grad is None and tracer is not None:  # head_seeds' one-head fast path
            if self._value.dtype.kind == "c":
                check_real("backward", "the array you called backward on", self._value.dtype)
            seeds = [(tracer.node, ones(self._value))]
        else:
            seeds = head_seeds(
                "backward", [self], None if out_grad is None else [out_grad], False, NDArray
            )
        run_backward(seeds, retain_graph, train_mode)

    # --- in-place changes -------------------------------------------------------------
    def _check_writable(self, what: str, source: Any = None) -> None:
        if not recording.get():
            return
        if _is_recorded(source):
            raise RuntimeError(
                f"{what}: the value written is recorded inside autograd.record(), but an "
                f"in-place write cannot be recorded (the recorded graph is immutable), so "
                f"its gradient would be lost. Build a new array instead, e.g. with nd.concat, "
                f"nd.stack or nd.where."
            )
        root = _root(self)
        if _is_recorded(self) or (root is not None and _is_recorded(root)):
            which = "takes" if root is None or root is self else "is a view of an array that takes"
            raise RuntimeError(
                f"{what}: this NDArray {which} "
                f"part in the graph being recorded inside autograd.record() (MXNet also "
                f"refuses assigning to NDArrays that are already in a computational graph), "
                f"and the recorded graph is immutable, so it cannot be modified in place. "
                f"Compute a new array instead (y = x + 1 rather than x += 1), or make the "
                f"change outside the record() block (e.g. after backward())."
            )

    def _set_value(self, value: np.ndarray) -> None:
        """Replace the values by ``value`` (same shape and dtype) in place: views see it."""
        self._write_all(value)

    def _writable(self, whole: bool = False) -> np.ndarray:
        """The buffer to write into in place (after the first copy, see :func:`_own`);
        ``whole``: every element will be overwritten, so an unowned buffer is not copied."""
        root = _root(self)
        if root is None:
            if whole:
                self._value = np.empty(self._value.shape, self._value.dtype)
                self._base = root = self
            else:
                root = _own(self)
        if root is not self:
            root._tracer = None  # the recorded node of the owner describes the old values
        self._tracer = None
        return self._value

    def _write_all(self, value: np.ndarray) -> None:
        if _root(self) is None and type(value) is np.ndarray and value.base is None:
            self._value = value  # a fresh buffer: no copy needed, and no view to update
            self._tracer = None
            return
        self._writable(whole=True)[...] = value

    def __setitem__(self, key: Any, value: Any) -> None:
        self._check_writable("NDArray.__setitem__ (x[...] = ...)", value)
        value = np.asarray(value_of(value))
        check_real("NDArray.__setitem__", "the value written", value.dtype)
        if value.size == 1:
            value = value.reshape(())  # MXNet broadcasts a one-element array like a scalar
        key = _index(key)
        whole = key is Ellipsis or (type(key) is slice and key == slice(None))
        self._writable(whole)[key] = value

    __add__, __radd__, __iadd__ = _binary(anp.add, "add", direct=True)
    __sub__, __rsub__, __isub__ = _binary(anp.subtract, "sub", direct=True)
    __mul__, __rmul__, __imul__ = _binary(anp.multiply, "mul", direct=True)
    __truediv__, __rtruediv__, __itruediv__ = _binary(
        anp.true_divide, "truediv", direct=True, integer=_integer_divide
    )
    __floordiv__, __rfloordiv__, __ifloordiv__ = _binary(anp.floor_divide, "floordiv")
    __mod__, __rmod__, __imod__ = _binary(anp.remainder, "mod", direct=True)
    __pow__, __rpow__, __ipow__ = _binary(anp.power, "pow", direct=True)
    __matmul__, __rmatmul__, __imatmul__ = _binary(anp.matmul, "matmul")

    __eq__ = _comparison(np.equal, "eq")
    __ne__ = _comparison(np.not_equal, "ne")
    __lt__ = _comparison(np.less, "lt")
    __le__ = _comparison(np.less_equal, "le")
    __gt__ = _comparison(np.greater, "gt")
    __ge__ = _comparison(np.greater_equal, "ge")

    def __neg__(self) -> NDArray:
        return apply(anp.negative, self)

    def __pos__(self) -> NDArray:
        return self

    def __abs__(self) -> NDArray:
        return apply(anp.abs, self)

    def __getitem__(self, key: Any) -> NDArray:
        """``x[key]``: basic slicing that selects a contiguous block returns a view that
        writes through (as in MXNet); any other key returns a copy."""
        key = _index(key)
        if _is_basic(key) and not (recording.get() and _is_recorded(self)):
            _own(self)
            value = self._value[key]
            if value.ndim == 0:
                value = value.reshape(1)
            if value.flags.c_contiguous:
                return _view(self, value)
            return _owned(np.array(value, order="C"))
        return apply(lambda value: _at_least_1d(value[key]), self)

    # --- methods (the functions of adfun.nd) -------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        """See :func:`adfun.nd.sum`."""
        return OPS["sum"](self, axis, keepdims, exclude)

    def mean(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        """See :func:`adfun.nd.mean`."""
        return OPS["mean"](self, axis, keepdims, exclude)

    def max(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        """See :func:`adfun.nd.max`."""
        return OPS["max"](self, axis, keepdims, exclude)

    def min(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        """See :func:`adfun.nd.min`."""
        return OPS["min"](self, axis, keepdims, exclude)

    def prod(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        """See :func:`adfun.nd.prod`."""
        return OPS["prod"](self, axis, keepdims, exclude)

    def norm(self, ord: int = 2, axis: Any = None, keepdims: bool = False) -> NDArray:  # noqa: A002
        """See :func:`adfun.nd.norm`."""
        return OPS["norm"](self, ord, axis, keepdims)

    def exp(self) -> NDArray:
        """See :func:`adfun.nd.exp`."""
        return OPS["exp"](self)

    def log(self) -> NDArray:
        """See :func:`adfun.nd.log`."""
        return OPS["log"](self)

    def sqrt(self) -> NDArray:
        """See :func:`adfun.nd.sqrt`."""
        return OPS["sqrt"](self)

    def square(self) -> NDArray:
        """See :func:`adfun.nd.square`."""
        return OPS["square"](self)

    def abs(self) -> NDArray:
        """See :func:`adfun.nd.abs`."""
        return OPS["abs"](self)

    def sin(self) -> NDArray:
        """See :func:`adfun.nd.sin`."""
        return OPS["sin"](self)

    def cos(self) -> NDArray:
        """See :func:`adfun.nd.cos`."""
        return OPS["cos"](self)

    def tanh(self) -> NDArray:
        """See :func:`adfun.nd.tanh`."""
        return OPS["tanh"](self)

    def sigmoid(self) -> NDArray:
        """See :func:`adfun.nd.sigmoid`."""
        return OPS["sigmoid"](self)

    def relu(self) -> NDArray:
        """See :func:`adfun.nd.relu`."""
        return OPS["relu"](self)

    def softmax(self, axis: int = -1, temperature: Any = None) -> NDArray:
        """See :func:`adfun.nd.softmax`."""
        return OPS["softmax"](self, axis, temperature)

    def log_softmax(self, axis: int = -1, temperature: Any = None) -> NDArray:
        """See :func:`adfun.nd.log_softmax`."""
        return OPS["log_softmax"](self, axis, temperature)

    def dot(self, other: Any, transpose_a: bool = False, transpose_b: bool = False) -> NDArray:
        """See :func:`adfun.nd.dot`."""
        return OPS["dot"](self, other, transpose_a, transpose_b)

    def reshape(self, *shape: Any, **kwargs: Any) -> NDArray:
        """See :func:`adfun.nd.reshape`; ``x.reshape(2, 3)`` and ``x.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if "shape" in kwargs:
            shape = kwargs.pop("shape")
        if not (recording.get() and _is_recorded(self)):
            # a view of this array's buffer, as in MXNet
            target = OPS["_reshape_target"](self, shape, **kwargs)
            _own(self)
            return _view(self, self._value.reshape(target))
        return OPS["reshape"](self, shape, **kwargs)

    def transpose(self, *axes: Any) -> NDArray:
        """See :func:`adfun.nd.transpose`; ``x.transpose(1, 0)`` or ``x.transpose((1, 0))``."""
        chosen: Any = axes
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            chosen = axes[0]
        return OPS["transpose"](self, chosen if chosen else None)

    def expand_dims(self, axis: int) -> NDArray:
        """See :func:`adfun.nd.expand_dims`."""
        return OPS["expand_dims"](self, axis)

    def flatten(self) -> NDArray:
        """See :func:`adfun.nd.flatten`."""
        return OPS["flatten"](self)

    def broadcast_to(self, shape: Any) -> NDArray:
        """See :func:`adfun.nd.broadcast_to`."""
        return OPS["broadcast_to"](self, shape)

    def clip(self, a_min: Any, a_max: Any) -> NDArray:
        """See :func:`adfun.nd.clip`."""
        return OPS["clip"](self, a_min, a_max)

    def argmax(self, axis: Any = None, keepdims: bool = False) -> NDArray:
        """See :func:`adfun.nd.argmax`."""
        return OPS["argmax"](self, axis, keepdims)

    def argmin(self, axis: Any = None, keepdims: bool = False) -> NDArray:
        """See :func:`adfun.nd.argmin`."""
        return OPS["argmin"](self, axis, keepdims)

    def pick(self, index: Any, axis: int = -1, keepdims: bool = False) -> NDArray:
        """See :func:`adfun.nd.pick`."""
        return OPS["pick"](self, index, axis, keepdims)

    def zeros_like(self) -> NDArray:
        """Zeros of this array's shape and dtype."""
        return _new(np.zeros_like(self._value))

    def ones_like(self) -> NDArray:
        """Ones of this array's shape and dtype."""
        return _new(np.ones_like(self._value))


#: The slot that holds an array's values (a NumPy or CuPy array; a SciPy matrix for the
#: csr arrays of :mod:`adfun.nd.sparse`, which read it through their own ``_value``).
_VALUES: Any = NDArray.__dict__["_value"]
