"""The ``adfun-coverage`` directive: the derivative-coverage table, read from the registry.

Nothing in the table is written by hand: every row comes from
``adfun.numpy._declare.REGISTRY`` (the primitives that ``adfun.numpy`` and its sub-packages
declare) at build time, so the page cannot drift from the code.  A second table lists the
public functions of the documented modules that are not primitives themselves but are
built from them (and so are differentiable through them).
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

YES = "yes"
NO = "no"
DASH = "—"
REAL_ONLY = "real only"


def complex_column(domain: Any) -> str:
    """``yes`` where the entry declares a complex test domain (its rules are checked on
    complex arguments by ``tests/test_complex_rules.py``), ``real only`` otherwise."""
    return YES if domain is not None else REAL_ONLY


def _rule_names(rules: Any) -> list[bool] | None:
    """Which positional arguments have a rule (``None``: all of a variadic primitive)."""
    from adfun._engine.records import Variadic

    if rules is None:
        return []
    if isinstance(rules, Variadic):
        return None
    return [rule is not None for rule in rules]


def _argument_names(fun: Any, count: int) -> list[str]:
    try:
        parameters = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) < count:
        return [f"arg {index}" for index in range(count)]
    return positional[:count]


def describe_rules(fun: Any, rules: Any) -> str:
    """``yes`` (every argument), ``x, y`` (only those), ``no``, for one rule table."""
    present = _rule_names(rules)
    if present is None:
        return f"{YES} (every array)"
    if not present or not any(present):
        return NO
    if all(present):
        return YES
    names = _argument_names(fun, len(present))
    return "only " + ", ".join(f"``{name}``" for name, has in zip(names, present) if has)


def public_modules(config: Any) -> list[Any]:
    from adfun_api import _importable

    names = list(config.API_MODULES)
    names += [name for name in config.API_MODULES_WHEN_PRESENT if _importable(name)]
    return [importlib.import_module(name) for name in names]


def public_names(modules: list[Any]) -> dict[int, list[str]]:
    """For every public object of ``modules``: its qualified public names, in order."""
    from adfun_api import _ABSENT, _public_names, _safe_getattr

    names: dict[int, list[str]] = {}
    for module in modules:
        for name in _public_names(module):
            obj = _safe_getattr(module, name)
            if obj is not _ABSENT:
                names.setdefault(id(obj), []).append(f"{module.__name__}.{name}")
    return names


def public_name(fun: Any, names: dict[int, list[str]], key: str) -> str | None:
    """The public name of a registry entry, preferring the one that matches its key."""
    candidates = names.get(id(fun), [])
    for candidate in candidates:
        if candidate.endswith("." + key.split(".")[-1]):
            return candidate
    return candidates[0] if candidates else None


def coverage_rows(config: Any) -> list[list[str]]:
    from adfun.numpy._declare import REGISTRY

    names = public_names(public_modules(config))
    rows = []
    for key in sorted(REGISTRY, key=lambda name: (REGISTRY[name].primitive.nondiff, name)):
        fun = REGISTRY[key]
        primitive = fun.primitive
        target = public_name(fun, names, key)
        label = f":func:`{key} <{target}>`" if target else f"``{key}``"
        if primitive.nondiff:
            rows.append([label, DASH, DASH, YES, DASH, DASH])
            continue
        domain = primitive.domain
        smooth = YES if domain is not None and getattr(domain, "smooth", False) else NO
        rows.append(
            [
                label,
                describe_rules(fun, primitive.vjps),
                describe_rules(fun, primitive.jvps),
                NO,
                smooth,
                complex_column(primitive.complex_domain),
            ]
        )
    return rows


def composite_names(config: Any) -> list[str]:
    """Public adfun functions that are not primitives (built from primitives)."""
    from adfun.numpy._declare import REGISTRY

    from adfun_api import _public_names, _safe_getattr

    registered = {id(fun) for fun in REGISTRY.values()}
    names = []
    for module in public_modules(config):
        if module.__name__ == "adfun":
            continue  # the transforms are not array functions
        for name in _public_names(module):
            obj = _safe_getattr(module, name)
            origin = (getattr(obj, "__module__", None) or "").split(".")[0]
            if (
                callable(obj)
                and not inspect.isclass(obj)
                and origin == "adfun"
                and id(obj) not in registered
                and getattr(obj, "__name__", name) == name
            ):
                names.append(f"{module.__name__}.{name}")
    return sorted(names)


def composite_rows(names: list[str]) -> list[list[str]]:
    """One row per composite: differentiated through its primitives, and how checked."""
    from adfun.numpy._declare import COMPOSITES

    in_table = {id(fun): fun for fun in COMPOSITES.values()}
    rows = []
    for name in names:
        module_name, _, attribute = name.rpartition(".")
        fun = getattr(importlib.import_module(module_name), attribute)
        through = "yes (through its primitives)"
        registered = in_table.get(id(fun))
        if registered is None:
            rows.append([f":func:`~{name}`", through, through, NO, DASH, DASH])
            continue
        smooth = YES if getattr(registered.domain, "smooth", False) else NO
        complex_checked = complex_column(getattr(registered, "complex_domain", None))
        rows.append([f":func:`~{name}`", through, through, YES, smooth, complex_checked])
    return rows


def _table(header: list[str], rows: list[list[str]], widths: str) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in [header] + rows:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    lines.append("")
    return lines


class CoverageDirective(SphinxDirective):
    """``.. adfun-coverage::`` inserts the generated tables.

    Its content is reStructuredText: in a MyST page, put it inside an ``{eval-rst}`` block.
    """

    has_content = False

    def run(self) -> list[nodes.Node]:
        config = self.env.config
        rows = coverage_rows(config)
        differentiable = [row for row in rows if row[3] == NO]
        constants = len(rows) - len(differentiable)
        with_vjp = sum(row[1] != NO for row in differentiable)
        with_jvp = sum(row[2] != NO for row in differentiable)
        with_complex = sum(row[5] == YES for row in differentiable)
        lines = [
            f"The registry holds **{len(rows)} primitives**: {len(differentiable)} "
            f"differentiable ({with_vjp} with reverse-mode rules, {with_jvp} with "
            f"forward-mode rules, {with_complex} of them checked on complex arguments too) "
            f"and {constants} whose results are constants for differentiation.",
            "",
        ]
        lines += _table(
            ["primitive", "reverse (VJP)", "forward (JVP)", "constant", "2nd order checked",
             "complex"],
            rows,
            "26 18 18 12 14 12",
        )
        composites = composite_names(config)
        if composites:
            rows = composite_rows(composites)
            checked = sum(row[3] != NO for row in rows)
            complex_checked = sum(row[5] == YES for row in rows)
            lines += [
                ".. rubric:: Built from primitives",
                "",
                f"These **{len(rows)} public functions** are not primitives: they are "
                "written with the ones above and differentiate through them, in both modes "
                f"and to any order. {checked} of them are in the rule table's composites "
                "(``adfun.numpy._declare.COMPOSITES``), whose test domain checks both "
                "modes against finite differences like a primitive's "
                f"({complex_checked} on complex arguments too); the others are checked "
                "by their own tests.",
                "",
            ]
            lines += _table(
                ["function", "reverse (VJP)", "forward (JVP)", "rule-table check",
                 "2nd order checked", "complex"],
                rows,
                "26 18 18 12 14 12",
            )
        # Re-read this page whenever a source file of adfun changes.
        package = Path(importlib.import_module("adfun").__file__).parent
        for path in sorted(package.rglob("*.py")):
            self.env.note_dependency(str(path))
        container = nodes.container(classes=["adfun-coverage"])
        self.state.nested_parse(StringList(lines, source="adfun-coverage"), self.content_offset,
                                container)
        return [container]


def setup(app: Any) -> dict:
    app.add_directive("adfun-coverage", CoverageDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
