"""Device contexts of the imperative layer: there is one, the CPU, printed ``cpu(0)``."""

from __future__ import annotations

from typing import Any


class Context:
    """Where an :class:`~adfun.nd.NDArray` lives: always ``cpu(0)`` in adfun.

    MXNet code passes contexts around (``ctx=mx.cpu()``); adfun accepts them so that such
    code runs unchanged, and keeps every array in host memory.

    Attributes
    ----------
    device_type : str
        Always ``'cpu'``.
    device_id : int
        Always ``0``.
    """

    __slots__ = ("device_type", "device_id")

    def __init__(self, device_type: str = "cpu", device_id: int = 0) -> None:
        if device_type != "cpu" or device_id != 0:
            raise ValueError(
                f"Context: adfun runs on the CPU only and has a single context cpu(0); got "
                f"{device_type}({device_id}). Use adfun.cpu() (or drop the ctx= argument)."
            )
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
    """Return the CPU context, printed ``cpu(0)`` (the only context adfun has).

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


def check_context(function: str, ctx: Any) -> None:
    """Accept ``None`` or the CPU context; anything else is an error naming ``function``."""
    if ctx is None or ctx is _CPU or ctx == _CPU or ctx == "cpu":
        return
    raise ValueError(
        f"{function}: ctx={ctx!r} is not available; adfun keeps every array on cpu(0). "
        f"Pass ctx=adfun.cpu() or leave it out."
    )
