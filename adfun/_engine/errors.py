"""Exception types and message builders shared by the engine and the transforms."""

from __future__ import annotations

from typing import Any


class StagingError(TypeError):
    """A staged program (``ad.jit``, or a :class:`~adfun.Graph` from ``ad.trace``) would
    keep a value seen while tracing instead of recomputing it from new inputs.

    Raised while tracing, where a function decides something from a traced value in a way
    the graph cannot record (Python control flow, a conversion to a Python value, a result
    whose shape depends on the values).  The message names the function and what to do.
    """

    __module__ = "adfun"  # its public name: adfun.StagingError


class TracerEscapeError(RuntimeError):
    """A traced value was used after the transform that created it had returned.

    Raised when a value traced by ``grad``, ``jvp``, ``jit``... was stored (in a list, a
    global, an attribute) and used once its transform had finished: return such values
    from the transformed function instead.
    """

    __module__ = "adfun"  # its public name: adfun.TracerEscapeError

    def __init__(self, operation: str, trace: Any) -> None:
        super().__init__(
            f"{operation}: an argument is a traced value of a transform ({trace.owner}) that "
            f"has already returned; a traced value must not be stored and used outside the "
            f"function being transformed. Return it from that function instead."
        )


def traced_conversion_message(kind: str) -> str:
    message = (
        f"{kind} was called on a value that adfun is tracing to compute a derivative; "
        f"converting it to a plain NumPy value would silently drop that derivative. Keep "
        f"computing with adfun.numpy (or plain NumPy functions, which dispatch to it), or "
        f"wrap the value in adfun.stop_gradient(...) if it should be treated as a constant."
    )
    if kind == "np.asarray()":
        # The usual way in: a list of tracers (a differentiated list argument is a pytree,
        # so its floats are traced one by one) handed to a function that wants an array.
        message += (
            " A list or tuple of traced values is converted this way when it is passed to "
            "a plain NumPy function (np.mean([a, b]): NumPy does not look inside lists for "
            "traced values): call the adfun.numpy function instead (import adfun.numpy as "
            "np), which accepts such lists, or combine them with adfun.numpy.stack(...) "
            "first."
        )
    return message


def describe(value: Any) -> str:
    """A short description of a value for error messages: type, shape and dtype."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {dtype}"
    return f"{type(value).__name__} {value!r}"


def no_rule_message(primitive_name: str, argnum: int, mode: str) -> str:
    kind = "reverse-mode (VJP)" if mode == "rev" else "forward-mode (JVP)"
    return (
        f"primitive '{primitive_name}' has no {kind} rule for its positional argument "
        f"{argnum}, so it cannot be differentiated with respect to it; define one with "
        f"{primitive_name}.{'defvjp' if mode == 'rev' else 'defjvp'}(...) or apply "
        f"adfun.stop_gradient() to that argument"
    )
