"""The optional peer libraries: which are installed, importing them pinned to one thread.

None of them is a dependency of adfun.  ``autograd`` is in the ``bench`` extra; PyTorch
(``pip install torch``) and JAX (``pip install jax jaxlib``) are installed by hand; MXNet
is measured when it happens to be importable.  A peer that is missing or fails to import
is skipped with a note in the report.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
from typing import Any

#: Peers in the order of the table's rows.
PEERS = ("autograd", "torch", "jax", "mxnet")

#: Environment variables that pin NumPy's BLAS, OpenMP and XLA to one thread.  They must be
#: set before NumPy / PyTorch / JAX are imported: ``suite.py`` calls ``pin_threads`` first.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
#: XLA's CPU backend: single-threaded Eigen kernels (matmul, convolutions, reductions).
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false"


def pin_to_one_cpu() -> int | None:
    """Bind this process (and the subprocesses it starts) to one CPU; return its number.

    Thread variables alone are not enough: XLA ignores them for part of its work and used
    every core, which made its figures look better than one core can give.  The CPU is
    the first one this process may run on; ``None`` where the platform cannot pin
    (``os.sched_setaffinity`` exists on Linux only).
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def pin_threads() -> int | None:
    """Pin every library to one CPU and its thread pools to one thread; return the CPU."""
    cpu = pin_to_one_cpu()
    for variable in THREAD_VARIABLES:
        os.environ[variable] = "1"
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {XLA_ONE_THREAD}".strip()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # XLA's start-up chatter
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    return cpu


def _configure(name: str, module: Any) -> None:
    if name == "torch":
        module.set_num_threads(1)
        try:
            module.set_num_interop_threads(1)
        except RuntimeError:  # only allowed before the first parallel work; already 1 then
            pass
    elif name == "jax":
        module.config.update("jax_enable_x64", True)  # every workload is float64


def load(name: str) -> tuple[Any | None, str]:
    """``(module, version)`` of an installed peer, or ``(None, reason it is skipped)``."""
    if importlib.util.find_spec(name) is None:
        return None, "not installed"
    try:
        module = importlib.import_module(name)
        _configure(name, module)
    except Exception as error:  # noqa: BLE001 - a broken peer is skipped, not fatal
        return None, f"import failed: {type(error).__name__}: {error}".splitlines()[0]
    return module, _version(name, module)


def _version(name: str, module: Any) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return str(getattr(module, "__version__", "unknown version"))


def select(requested: str | None) -> list[str]:
    """The peers named by ``--peers`` (``None``: all; ``"none"``: no peer)."""
    if requested is None:
        return list(PEERS)
    names = [name.strip() for name in requested.split(",") if name.strip()]
    if names == ["none"]:
        return []
    unknown = sorted(set(names) - set(PEERS))
    if unknown:
        raise SystemExit(
            f"suite.py: --peers got unknown peer(s) {', '.join(unknown)}; "
            f"choose among {', '.join(PEERS)} or 'none'"
        )
    return [name for name in PEERS if name in names]
