"""Write the API reference pages (``docs/api/*.rst``) from the installed modules.

For every module named in ``conf.API_MODULES`` (and every importable one of
``conf.API_MODULES_WHEN_PRESENT``) this writes ``api/<module>.rst`` with the module
docstring, a summary table and one autodoc entry per public function or class that adfun
defines; every function gets a page of its own (``api/generated/<module>.<name>.rst``,
written by ``adfun_rules.function_page``: the docstring, then for the functions of the
rule table their derivative rules and an example).  Names that a module re-exports
unchanged from NumPy (constructors, dtypes) are listed with links to NumPy's
documentation, aliases (``abs`` for ``absolute``) point to
their target.  ``api/index.rst`` lists the modules.  Adding a module to the reference is
one line in ``conf.py``.
"""

from __future__ import annotations

import importlib
import inspect
import types
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

INDEX_HEADER = """\
API reference
=============

Every public module of adfun, generated from the docstrings of the installed package
(the examples in them run as doctests during the documentation build).

.. toctree::
   :maxdepth: 1

"""


def _public_names(module: types.ModuleType) -> list[str]:
    """``__all__``, else every public name of ``dir(module)`` (which honours a module
    ``__dir__``, for namespaces that provide names through a module ``__getattr__``)."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in dir(module) if not name.startswith("_")]
    return [name for name in names if _safe_getattr(module, name) is not _ABSENT]


_ABSENT = object()


def _safe_getattr(module: types.ModuleType, name: str) -> Any:
    try:
        return getattr(module, name)
    except Exception:  # a lazy namespace may refuse a name it lists  # noqa: BLE001
        return _ABSENT


def _origin(obj: Any) -> str:
    return getattr(obj, "__module__", None) or ""


def _is_adfun(obj: Any) -> bool:
    return _origin(obj).split(".")[0] == "adfun"


_NUMPY_NAMES: set[str] = set()


def _load_numpy_names(srcdir: Path) -> None:
    """The names NumPy's (shipped) inventory can link to."""
    from sphinx.util.inventory import InventoryFile

    path = srcdir / "_inventories" / "numpy.inv"
    if not path.is_file():
        return
    with path.open("rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda base, uri: uri)
    data = getattr(inventory, "data", inventory)
    for entries in data.values():
        _NUMPY_NAMES.update(entries)


def _numpy_target(obj: Any, name: str) -> str | None:
    """The public ``numpy.*`` name under which NumPy documents ``obj``, if it is NumPy's."""
    origin = _origin(obj)
    if not origin.startswith("numpy"):
        return None
    import numpy

    own_name = getattr(obj, "__name__", name)
    public_module = ".".join(part for part in origin.split(".") if not part.startswith("_"))
    for candidate_module in (public_module, "numpy"):
        module = numpy
        for part in candidate_module.split(".")[1:]:
            module = getattr(module, part, None)
        target = f"{candidate_module}.{own_name}"
        if module is not None and getattr(module, own_name, None) is obj:
            return target if not _NUMPY_NAMES or target in _NUMPY_NAMES else None
    return None


def _summary(obj: Any) -> str:
    """The first sentence of ``obj``'s docstring (never cut inside a ````literal````)."""
    doc = inspect.getdoc(obj) or ""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    position = 0
    while True:
        end = paragraph.find(". ", position)
        if end < 0:
            return paragraph
        if paragraph[:end].count("``") % 2 == 0:
            return paragraph[: end + 1]
        position = end + 2


def _attrs_fields(cls: type) -> list[str]:
    fields = getattr(cls, "__attrs_attrs__", None)
    return [field.name for field in fields] if fields is not None else []


def _import_object(path: str) -> Any:
    module_name, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


def _functions(module_name: str) -> list[str]:
    """The functions of ``module_name`` that get a page of their own."""
    module = importlib.import_module(module_name)
    objects = {name: _safe_getattr(module, name) for name in _public_names(module)}
    canonical: dict[int, str] = {}
    for name, obj in objects.items():
        if getattr(obj, "__name__", None) == name:
            canonical.setdefault(id(obj), name)
    names = []
    for name, obj in objects.items():
        if isinstance(obj, types.ModuleType) or inspect.isclass(obj):
            continue
        if _is_adfun(obj) and callable(obj) and canonical.get(id(obj), name) == name:
            canonical.setdefault(id(obj), name)
            names.append(name)
    return names


def module_page(module_name: str, config_extra: dict | None = None) -> str:
    config_extra = config_extra or {}
    module = importlib.import_module(module_name)
    functions: list[str] = []
    classes: list[str] = []
    aliases: list[tuple[str, str]] = []
    from_numpy: list[tuple[str, str]] = []
    constants: list[tuple[str, Any]] = []
    canonical: dict[int, str] = {}
    names = _public_names(module)
    # First pass: the canonical name of each object is the one equal to its __name__.
    objects = {name: _safe_getattr(module, name) for name in names}
    for name, obj in objects.items():
        if getattr(obj, "__name__", None) == name:
            canonical.setdefault(id(obj), name)
    for name, obj in objects.items():
        if isinstance(obj, types.ModuleType):
            continue
        if _is_adfun(obj) and callable(obj):
            target = canonical.get(id(obj), name)
            if target != name:
                aliases.append((name, target))
            elif inspect.isclass(obj):
                classes.append(name)
            else:
                functions.append(name)
            canonical.setdefault(id(obj), name)
            continue
        numpy_target = _numpy_target(obj, name)
        if numpy_target is not None and callable(obj):
            from_numpy.append((name, numpy_target))
        elif callable(obj) and _origin(obj).startswith("numpy"):
            from_numpy.append((name, ""))
        elif isinstance(obj, (int, float, type(None))):
            constants.append((name, obj))
    title = f"``{module_name}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {module_name}", "   :no-members:",
             ""]
    documented = classes + functions
    if documented:
        lines += [".. currentmodule:: " + module_name, "", ".. list-table::",
                  "   :widths: 30 70", "   :class: adfun-summary", ""]
        for name in documented:
            role = "class" if name in classes else "func"
            lines += [f"   * - :{role}:`{name}`", f"     - {_summary(getattr(module, name))}"]
        lines.append("")
    if classes:
        lines += ["Classes", "-------", ""]
        for name in classes:
            lines += [f".. autoclass:: {name}", "   :members:", "   :special-members: __call__"]
            fields = _attrs_fields(getattr(module, name))
            if fields:
                # attrs fields are described in the class docstring's Attributes section.
                lines.append("   :exclude-members: " + ", ".join(fields))
            lines.append("")
    if functions:
        # One page per function (api/generated/<module>.<name>.rst, see function_page).
        lines += [".. toctree::", "   :hidden:", ""]
        lines += [f"   generated/{module_name}.{name}" for name in functions]
        lines.append("")
    extra = config_extra.get(module_name, {})
    if extra:
        lines += [
            "Records and helper classes",
            "--------------------------",
            "",
            "Objects of these classes are returned by the functions above (graph nodes, "
            "custom",
            "primitives); they are not created directly.",
            "",
        ]
        for path, members in extra.items():
            try:
                _import_object(path)
            except (ImportError, AttributeError):
                continue  # not in this version of adfun
            lines.append(f".. autoclass:: {path}")
            if members:
                lines.append("   :members: " + ", ".join(members))
            lines.append("")
    if aliases:
        lines += ["Aliases", "-------", "", ".. list-table::", "   :widths: 30 70", ""]
        for name, target in aliases:
            lines += [f"   * - ``{name}``", f"     - the same function as :func:`{target}`"]
        lines.append("")
    if from_numpy or constants:
        lines += [
            "From NumPy, unchanged",
            "---------------------",
            "",
            "These names are NumPy's own objects, re-exported so that code written against",
            f"``{module_name}`` finds them.  Constructors and dtypes build plain arrays,",
            "which are constants for differentiation.",
            "",
        ]
        if from_numpy:
            lines.append(", ".join(f":obj:`{name} <{target}>`" if target else f"``{name}``"
                                   for name, target in from_numpy))
            lines.append("")
        if constants:
            lines.append(", ".join(f"``{name}``" for name, _ in constants))
            lines.append("")
    return "\n".join(lines)


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _importable(name: str) -> bool:
    """Whether module ``name`` exists in the adfun being documented.

    Decided from the files of that adfun, before importing anything: an editable install
    of another checkout can otherwise make ``adfun.<sub>`` importable from *that*
    checkout (setuptools' path finder), with a mix of both as the result.
    """
    package = Path(importlib.import_module("adfun").__file__).resolve().parent
    parts = name.split(".")[1:]
    base = package.joinpath(*parts) if parts else package
    if not (base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()):
        logger.info("adfun_api: %s is not in %s yet; not documented", name, package)
        return False
    importlib.import_module(name)
    return True


def generate(app: Sphinx) -> None:
    config = app.config
    _load_numpy_names(Path(app.srcdir))
    modules = list(config.API_MODULES)
    for name in config.API_MODULES_WHEN_PRESENT:
        if _importable(name):
            modules.append(name)
        else:
            logger.info("adfun_api: %s is not present yet; not documented", name)
    api_dir = Path(app.srcdir) / "api"
    from adfun_rules import function_page

    wanted = set()
    for name in modules:
        page = module_page(name, config.API_EXTRA_CLASSES)
        _write_if_changed(api_dir / f"{name}.rst", page)
        for function in _functions(name):
            path = api_dir / "generated" / f"{name}.{function}.rst"
            wanted.add(path.name)
            _write_if_changed(path, function_page(name, function))
    generated = api_dir / "generated"
    for stale in generated.glob("*.rst"):  # functions removed since the last build
        if stale.name not in wanted:
            stale.unlink()
    index = INDEX_HEADER + "".join(f"   {name}\n" for name in modules)
    _write_if_changed(api_dir / "index.rst", index)


def setup(app: Sphinx) -> dict:
    app.add_config_value("API_MODULES", [], "env")
    app.add_config_value("API_MODULES_WHEN_PRESENT", [], "env")
    app.add_config_value("API_EXTRA_CLASSES", {}, "env")
    app.connect("builder-inited", generate)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
