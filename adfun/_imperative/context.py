"""Device contexts of the imperative layer: there is one, the CPU, printed ``cpu(0)``."""

from __future__ import annotations

from typing import Any


class Context:
    """Where an :class:`~adfun.nd.NDArray` lives: ``cpu(0)`` (NumPy) or ``gpu(i)`` (CuPy).

    MXNet code passes contexts around (``ctx=mx.cpu()``, ``ctx=mx.gpu(0)``); adfun keeps
    ``cpu(0)`` arrays in NumPy and ``gpu(i)`` arrays in CuPy on CUDA device ``i`` (CuPy
    and a GPU are needed only when such an array is made).

    Attributes
    ----------
    device_type : str
        ``'cpu'`` or ``'gpu'``.
    device_id : int
        The device number (always 0 for the CPU).
    """

    __slots__ = ("device_type", "device_id")

    def __init__(self, device_type: str = "cpu", device_id: int = 0) -> None:
        if device_type not in ("cpu", "gpu") or (device_type == "cpu" and device_id != 0):
            raise ValueError(
                f"Context: adfun has the contexts cpu(0) and gpu(i) (CuPy); got "
                f"{device_type}({device_id}). Use adfun.cpu() or adfun.gpu(i)."
            )
        if not isinstance(device_id, int) or device_id < 0:
            raise ValueError(f"Context: device_id must be an int >= 0, got {device_id!r}")
        self.device_type = device_type
        self.device_id = device_id

    def __repr__(self) -> str:
        return f"{self.device_type}({self.device_id})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and (
            (self.device_type, self.device_id) == (other.device_type, other.device_id)
        )

    def __hash__(self) -> int:
        return hash((self.device_type, self.device_id))


_CPU = Context()


def cpu(i: int = 0, *, device_id: int | None = None) -> Context:
    """Return the CPU context, printed ``cpu(0)``.

    Parameters
    ----------
    i : int, optional
        The device number; must be 0.
    device_id : int, optional
        MXNet's name for ``i`` (``mx.cpu(device_id=0)``), accepted as well.

    Examples
    --------
    >>> import adfun as mx
    >>> mx.cpu()
    cpu(0)
    """
    if device_id is None:
        device_id = i
    if device_id != 0:
        raise ValueError(
            f"adfun.cpu: there is a single CPU context, cpu(0); got device_id={device_id!r}"
        )
    return _CPU


def gpu(i: int = 0, *, device_id: int | None = None) -> Context:
    """Return the context of CUDA device ``i``, printed ``gpu(i)``: arrays there are CuPy's.

    Making the context needs nothing; making an array in it (``nd.array(x,
    ctx=adfun.gpu(0))``, ``x.as_in_context(adfun.gpu(0))``) needs CuPy and that GPU.

    Parameters
    ----------
    i : int, optional
        The device number (default 0).
    device_id : int, optional
        MXNet's name for ``i``, accepted as well.

    Examples
    --------
    >>> import adfun as mx
    >>> mx.gpu(1)
    gpu(1)
    """
    if device_id is None:
        device_id = i
    if isinstance(device_id, bool) or not isinstance(device_id, int) or device_id < 0:
        raise ValueError(f"adfun.gpu: device_id must be an int >= 0, got {device_id!r}")
    return Context("gpu", device_id)


def as_context(function: str, ctx: Any) -> Context:
    """``ctx`` (``None``, a Context, ``'cpu'`` or ``'gpu'``) as a Context; CPU by default."""
    if ctx is None or ctx is _CPU or ctx == "cpu":
        return _CPU
    if ctx == "gpu":
        return gpu(0)
    if isinstance(ctx, Context):
        return ctx
    raise ValueError(
        f"{function}: ctx={ctx!r} is not a context; pass adfun.cpu(), adfun.gpu(i) or leave it out"
    )


def check_context(function: str, ctx: Any) -> Context:
    """Validate ``ctx`` for ``function``: the CPU, or a GPU that CuPy can reach."""
    context = as_context(function, ctx)
    if context.device_type == "gpu":
        cupy_for(function, context)
    return context


def cupy_for(function: str, context: Context) -> Any:
    """The ``cupy`` module, checked to reach ``context``'s device, or a clear error."""
    try:
        import cupy
    except ImportError:
        raise RuntimeError(
            f"{function}: {context} needs CuPy, which is not installed; install the CuPy "
            f"wheel for your CUDA version (e.g. `pip install cupy-cuda12x`), or use "
            f"adfun.cpu()"
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDA driver missing or failing
        raise RuntimeError(
            f"{function}: {context} is not available: CuPy cannot reach a GPU ({error})"
        ) from None
    if context.device_id >= count:
        raise RuntimeError(
            f"{function}: {context} is not available: this machine has {count} GPU(s)"
        )
    return cupy


def context_of(value: Any) -> Context:
    """The context of an array: ``cpu(0)`` for NumPy, ``gpu(i)`` for CuPy on device ``i``."""
    if type(value).__module__.split(".", 1)[0] == "cupy":
        return gpu(int(value.device.id))
    return _CPU


def to_context(function: str, value: Any, context: Context) -> Any:
    """``value`` (a NumPy or CuPy array) copied to ``context`` if it is not there."""
    if context_of(value) == context:
        return value
    if context.device_type == "cpu":
        return value.get()  # CuPy -> NumPy, the user's explicit request
    cupy = cupy_for(function, context)
    with cupy.cuda.Device(context.device_id):
        return cupy.asarray(value)
