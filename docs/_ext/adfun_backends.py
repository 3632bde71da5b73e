"""The ``adfun-backend-coverage`` directive: which primitives run on which array library.

Generated at build time from ``adfun.numpy._declare.REGISTRY`` and the backends'
implementation table (``adfun._engine.records.BACKEND_IMPLEMENTATIONS``), so the page
cannot drift from the code.  Two columns: a library offering exactly the Array API
standard (array-api-strict, the reference implementation, which CI runs the rule table
on), and a library offering the standard with its ``linalg`` and ``fft`` extensions and
``einsum`` (CuPy, PyTorch through array-api-compat), for which array-api-compat's NumPy
namespace stands in here; and Dask (its own implementations where it differs, see
``adfun.numpy._dask``).
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

YES = "yes"
NO = "—"


def backend_rows() -> list[list[str]]:
    import array_api_compat.dask.array as dask_namespace
    import array_api_compat.numpy as with_extensions
    import array_api_strict

    import adfun.numpy  # noqa: F401 - fills the registry
    import adfun.scipy  # noqa: F401
    from adfun._engine.backend import implemented
    from adfun.numpy._declare import REGISTRY

    rows = []
    for name in sorted(REGISTRY):
        primitive = REGISTRY[name].primitive
        if primitive.nondiff:
            continue
        rows.append(
            [
                f"``{name}``",
                YES if implemented(primitive, array_api_strict) else NO,
                YES if implemented(primitive, with_extensions) else NO,
                YES if implemented(primitive, dask_namespace) else NO,
            ]
        )
    return rows


class BackendCoverageDirective(SphinxDirective):
    """``.. adfun-backend-coverage::`` inserts the generated table."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        rows = backend_rows()
        strict = sum(row[1] == YES for row in rows)
        extended = sum(row[2] == YES for row in rows)
        lazy = sum(row[3] == YES for row in rows)
        lines = [
            f"Of the **{len(rows)} differentiable primitives**, {strict} run on a library "
            f"offering exactly the standard, {extended} on one offering its extensions "
            f"too, and {lazy} on Dask arrays (see :doc:`dask`).",
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 34 22 22 22",
            "",
            "   * - primitive",
            "     - the standard (array-api-strict)",
            "     - with extensions (CuPy, PyTorch)",
            "     - Dask",
        ]
        for row in rows:
            lines.append(f"   * - {row[0]}")
            lines.extend(f"     - {cell}" for cell in row[1:])
        lines.append("")
        container = nodes.container(classes=["adfun-backend-coverage"])
        self.state.nested_parse(StringList(lines, source="adfun-backend-coverage"),
                                self.content_offset, container)
        return [container]


def setup(app: Any) -> dict:
    app.add_directive("adfun-backend-coverage", BackendCoverageDirective)
    return {"parallel_read_safe": True}
