"""The ``adfun-nd-coverage`` directive: the table of ``adfun.nd``'s MXNet operators.

The rows come from the code at build time: every public name of ``adfun.nd``
(``adfun.nd.__all__``), its signature (MXNet's argument names and defaults) and the first
line of its docstring.  Only the gradient column's exceptions are written here (which
arguments are not differentiated, which results are constants); a function not named in
:data:`GRADIENTS` is differentiable in every array argument, in both modes, because every
``adfun.nd`` operator is written with ``adfun.numpy``.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

DIFFERENTIABLE = "yes (reverse and forward mode)"
CONSTANT = "constant (no gradient)"

#: The exceptions of the gradient column, by name.
GRADIENTS = {
    "argmax": CONSTANT,
    "argmin": CONSTANT,
    "argsort": CONSTANT,
    "one_hot": CONSTANT,
    "broadcast_equal": CONSTANT,
    "broadcast_not_equal": CONSTANT,
    "broadcast_greater": CONSTANT,
    "broadcast_greater_equal": CONSTANT,
    "broadcast_lesser": CONSTANT,
    "broadcast_lesser_equal": CONSTANT,
    "broadcast_logical_and": CONSTANT,
    "broadcast_logical_or": CONSTANT,
    "broadcast_logical_xor": CONSTANT,
    "topk": "``ret_typ='value'`` / ``'both'``: the values; positions and masks are constants",
    "where": "``x`` and ``y`` (not ``condition``)",
    "pick": "``data`` (not ``index``)",
    "take": "``a`` (not ``indices``)",
    "Embedding": "``weight`` (not ``data``)",
    "slice_like": "``data`` (``shape_like`` lends its shape)",
    "broadcast_like": "``lhs`` (``rhs`` lends its shape)",
    "SoftmaxOutput": "MXNet's loss gradient ``(softmax - one_hot(label)) * grad_scale`` "
    "(not the derivative of the output); ``label``: none",
    "BatchNorm": "``data``, ``gamma`` (unless ``fix_gamma``), ``beta``; the moving "
    "statistics are constants",
    "LayerNorm": "``data``, ``gamma``, ``beta`` (the optional mean and std outputs are constants)",
    "Dropout": "``data`` (through the same mask)",
    "LeakyReLU": "``data`` and ``gamma``",
}


def _kind(obj: Any) -> str:
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    return "function"


def _signature(name: str, obj: Any) -> str:
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return "``...``"
    shown = [
        str(parameter).replace("'", '"')
        for parameter in parameters
        if parameter.kind is not parameter.VAR_KEYWORD
    ]
    return f"``{name}({', '.join(shown)})``"


def _summary(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ")
    return first.replace("|", "\\|")


def nd_rows() -> list[list[str]]:
    nd = importlib.import_module("adfun.nd")
    created = importlib.import_module("adfun.nd._creation")
    rows = []
    for name in sorted(nd.__all__, key=str.lower):
        obj = getattr(nd, name)
        kind = _kind(obj)
        if kind == "module":
            rows.append([f"``{name}``", "module", "", _summary(obj)])
            continue
        if getattr(obj, "__name__", name) != name:
            original = obj.__name__
            rows.append(
                [f"``{name}``", "", "", f"MXNet's other name of :func:`~adfun.nd.{original}`"]
            )
            continue
        if kind == "class":
            rows.append([f":class:`{name} <adfun.nd.{name}>`", "class", "", _summary(obj)])
            continue
        if getattr(obj, "__module__", "") == created.__name__:
            gradient = "creates a constant array"
        else:
            gradient = GRADIENTS.get(name, DIFFERENTIABLE)
        rows.append(
            [f":func:`{name} <adfun.nd.{name}>`", _signature(name, obj), gradient, _summary(obj)]
        )
    return rows


class NdCoverageDirective(SphinxDirective):
    """``.. adfun-nd-coverage::`` inserts the generated table (in an ``{eval-rst}`` block)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        rows = nd_rows()
        functions = sum(row[1] not in ("module", "class") for row in rows)
        lines = [
            f"``adfun.nd`` has **{functions} functions** (and the ``NDArray`` class).",
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 16 38 18 28",
            "",
        ]
        for row in [["name", "arguments (MXNet's names and defaults)", "gradient", "what"]] + rows:
            lines.append(f"   * - {row[0]}")
            lines.extend(f"     - {cell}" for cell in row[1:])
        lines.append("")
        package = Path(importlib.import_module("adfun.nd").__file__).parent
        for path in sorted(package.rglob("*.py")):
            self.env.note_dependency(str(path))
        container = nodes.container(classes=["adfun-nd-coverage"])
        self.state.nested_parse(
            StringList(lines, source="adfun-nd-coverage"), self.content_offset, container
        )
        return [container]


def setup(app: Any) -> dict:
    app.add_directive("adfun-nd-coverage", NdCoverageDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
