"""Write ``numpy.inv`` and ``scipy.inv``: intersphinx inventories made offline.

NumPy's and SciPy's own ``objects.inv`` can only be downloaded from their websites,
which the build machines cannot reach, and no installable package ships them.  This
script builds equivalent inventories from the *installed* packages: every public
function, ufunc and class of ``numpy``, ``numpy.linalg``, ``numpy.fft``, ``numpy.random``
and ``numpy.exceptions``, and of ``scipy.special``, ``scipy.stats``, ``scipy.optimize``,
``scipy.linalg`` and ``scipy.signal``, each pointing at the page where the project's
documentation puts it (``reference/generated/<full name>.html``; NumPy's scalar types
on ``arrays.scalars.html``, its constants on ``constants.html``).  Re-run it after
upgrading NumPy or SciPy::

    python docs/_inventories/make_inventories.py

The file is written in Sphinx's inventory format version 2 (a four-line header, then
zlib-compressed lines ``name domain:role priority uri dispname``).
"""

from __future__ import annotations

import inspect
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SUBMODULES = ("linalg", "fft", "random", "exceptions")
CONSTANTS = ("pi", "e", "inf", "nan", "newaxis", "euler_gamma")


def _entries() -> dict[str, tuple[str, str]]:
    entries: dict[str, tuple[str, str]] = {}
    for name in dir(np):
        if name.startswith("_"):
            continue
        obj = getattr(np, name)
        full = f"numpy.{name}"
        if name in CONSTANTS:
            entries[full] = ("py:data", f"reference/constants.html#{full}")
        elif inspect.isclass(obj) and issubclass(obj, np.generic):
            entries[full] = ("py:class", f"reference/arrays.scalars.html#{full}")
        elif inspect.isclass(obj):
            entries[full] = ("py:class", f"reference/generated/{full}.html#{full}")
        elif callable(obj):
            # An alias (np.abs) is documented on its target's page (numpy.absolute).
            canonical = getattr(obj, "__name__", name)
            page = f"numpy.{canonical}" if hasattr(np, canonical) else full
            entries[full] = ("py:function", f"reference/generated/{page}.html#{page}")
    for module_name in SUBMODULES:
        module = getattr(np, module_name)
        for name in getattr(module, "__all__", dir(module)):
            if name.startswith("_"):
                continue
            obj = getattr(module, name, None)
            if obj is None:
                continue
            full = f"numpy.{module_name}.{name}"
            role = "py:class" if inspect.isclass(obj) else "py:function"
            entries[full] = (role, f"reference/generated/{full}.html#{full}")
        entries[f"numpy.{module_name}"] = (
            "py:module", f"reference/routines.{module_name}.html#module-numpy.{module_name}"
        )
    entries["numpy"] = ("py:module", "reference/index.html#module-numpy")
    entries["numpy.ndarray.shape"] = (
        "py:attribute", "reference/generated/numpy.ndarray.shape.html#numpy.ndarray.shape"
    )
    entries["numpy.ndarray.dtype"] = (
        "py:attribute", "reference/generated/numpy.ndarray.dtype.html#numpy.ndarray.dtype"
    )
    return entries


SCIPY_MODULES = ("special", "stats", "optimize", "linalg", "signal")


def _scipy_entries() -> dict[str, tuple[str, str]]:
    import importlib

    entries: dict[str, tuple[str, str]] = {}
    for module_name in SCIPY_MODULES:
        full_module = f"scipy.{module_name}"
        module = importlib.import_module(full_module)
        entries[full_module] = ("py:module", f"reference/{module_name}.html#module-{full_module}")
        for name in getattr(module, "__all__", dir(module)):
            if name.startswith("_"):
                continue
            obj = getattr(module, name, None)
            if obj is None or inspect.ismodule(obj):
                continue
            full = f"{full_module}.{name}"
            if inspect.isclass(obj):
                role = "py:class"
            elif callable(obj) and (inspect.isfunction(obj) or inspect.isbuiltin(obj)
                                    or type(obj).__name__ == "ufunc"):
                role = "py:function"
            else:
                role = "py:data"  # distribution objects such as scipy.stats.norm
            entries[full] = (role, f"reference/generated/{full}.html#{full}")
    return entries


def write(path: Path, project: str, version: str, entries: dict) -> None:
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = [f"{name} {role} 1 {uri} -\n" for name, (role, uri) in sorted(entries.items())]
    body = zlib.compress("".join(lines).encode("utf-8"), 9)
    path.write_bytes(header.encode("utf-8") + body)
    print(f"wrote {path} ({len(lines)} entries, {project} {version})")


def main() -> None:
    import scipy

    write(HERE / "numpy.inv", "NumPy", ".".join(np.__version__.split(".")[:2]), _entries())
    write(HERE / "scipy.inv", "SciPy", ".".join(scipy.__version__.split(".")[:2]),
          _scipy_entries())


if __name__ == "__main__":
    main()
