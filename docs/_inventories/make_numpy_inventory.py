"""Write ``numpy.inv``: an intersphinx inventory of NumPy's public API, made offline.

NumPy's own ``objects.inv`` can only be downloaded from its website, which the build
machines cannot reach, and no installable package ships it.  This script builds an
equivalent inventory from the *installed* NumPy: every public function, ufunc and class of
``numpy``, ``numpy.linalg``, ``numpy.fft``, ``numpy.random`` and ``numpy.exceptions``,
pointing at the page where NumPy's documentation puts it
(``reference/generated/numpy.<name>.html``; scalar types on ``arrays.scalars.html``;
constants on ``constants.html``).  Re-run it after upgrading NumPy::

    python docs/_inventories/make_numpy_inventory.py

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


def main() -> None:
    version = ".".join(np.__version__.split(".")[:2])
    header = (
        "# Sphinx inventory version 2\n"
        "# Project: NumPy\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = []
    for name, (role, uri) in sorted(_entries().items()):
        lines.append(f"{name} {role} 1 {uri} -\n")
    body = zlib.compress("".join(lines).encode("utf-8"), 9)
    target = HERE / "numpy.inv"
    target.write_bytes(header.encode("utf-8") + body)
    print(f"wrote {target} ({len(lines)} entries, NumPy {np.__version__})")


if __name__ == "__main__":
    main()
