"""Rows, the printed table and the JSON document of one run of the suite.

A *group* is one workload: ``{"id", "title", "unit", "ratio_to", "note", "rows"}``; a *row*
is one implementation: ``{"library", "variant", "baseline", "seconds", "value", "ratio",
"targets", "passed", "note", "error"}`` where ``value`` is the median in ``unit``,
``ratio`` the median over the baseline's (``None`` when the group has no ratio),
``targets`` a list of ``{"text", "metric", "limit", "passed"}`` and ``passed`` whether
every target is met (``None`` when the row has no target).
"""

from __future__ import annotations

import json
import math
from typing import Any

from _suite.timing import Target, Workload

SCHEMA_VERSION = 1
ROW_KEYS = ("library", "variant", "baseline", "seconds", "value", "ratio", "targets",
            "passed", "note", "error")


def finish_row(row: dict[str, Any], scale: float | None) -> dict[str, Any]:
    """Fill a row's defaults, its ``value`` (from ``seconds`` and ``scale``) and verdicts."""
    row = {"baseline": False, "seconds": None, "value": None, "ratio": None, "targets": [],
           "note": "", "error": None, **row}
    if row["value"] is None and row["seconds"] is not None and scale is not None:
        row["value"] = row["seconds"] * scale
    targets = []
    for target in row["targets"]:
        if isinstance(target, Target):
            measured = row["value"] if target.metric == "value" else row["ratio"]
            passed = None if measured is None or math.isnan(measured) else (
                measured <= target.limit)
            target = {"text": target.text, "metric": target.metric, "limit": target.limit,
                      "passed": passed}
        targets.append(target)
    row["targets"] = targets
    verdicts = [target["passed"] for target in targets]
    if row["error"] is not None and targets:
        row["passed"] = False
    elif not verdicts or None in verdicts:
        row["passed"] = None
    else:
        row["passed"] = all(verdicts)
    return {key: row[key] for key in ROW_KEYS}


def group_of(workload: Workload, medians: dict[int, float]) -> dict[str, Any]:
    """The group of a timed ``Workload`` (``medians`` from ``timing.measure``)."""
    baseline = next((index for index, variant in enumerate(workload.variants)
                     if variant.baseline and index in medians), None)
    rows = []
    for index, variant in enumerate(workload.variants):
        seconds = medians.get(index)
        ratio = None
        if seconds is not None and baseline is not None:
            ratio = seconds / medians[baseline]
        rows.append(finish_row({
            "library": variant.library, "variant": variant.label,
            "baseline": variant.baseline, "seconds": seconds, "ratio": ratio,
            "targets": list(variant.targets), "note": variant.note, "error": variant.error,
        }, workload.scale))
    return {"id": workload.id, "title": workload.title, "unit": workload.unit,
            "ratio_to": workload.ratio_to, "note": workload.note, "rows": rows}


def group_of_rows(spec: dict[str, Any]) -> dict[str, Any]:
    """The group of a workload measured elsewhere (W4's subprocesses)."""
    rows = [finish_row(row, spec["scale"]) for row in spec["rows"]]
    return {"id": spec["id"], "title": spec["title"], "unit": spec["unit"],
            "ratio_to": spec["ratio_to"], "note": spec["note"], "rows": rows}


# --- printing -------------------------------------------------------------------------------


def format_number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _verdict(row: dict[str, Any], quick: bool = False) -> str:
    """pass / FAIL against the targets; nothing in a --quick run, whose tiny sizes are not
    what the targets are stated for."""
    if quick:
        return ""
    return {True: "pass", False: "FAIL", None: ""}[row["passed"]]


def render_table(document: dict[str, Any]) -> str:
    """The one table of the run, as text: a header line per workload, a line per row."""
    header = ("", "implementation", "median", "ratio", "target", "")
    lines = []
    body = []
    quick = document.get("meta", {}).get("quick", False)
    for group in document["groups"]:
        ratio_to = f"   [ratio: {group['ratio_to']}]" if group["ratio_to"] else ""
        body.append((f"{group['id']}  {group['title']}{ratio_to}",))
        for row in group["rows"]:
            name = f"{row['library']} {row['variant']}"
            if row["error"]:
                body.append(("", name, f"error: {row['error']}"))
                continue
            median = f"{format_number(row['value'])} {group['unit']}"
            ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}x"
            target = "; ".join(target["text"] for target in row["targets"])
            body.append(("", name, median, ratio, target, _verdict(row, quick)))
        if group["note"]:
            body.append(("", f"({group['note']})"))
    widths = [4, 0, 0, 0, 0, 0]
    for line in body + [header]:
        if len(line) == 6:
            widths = [max(width, len(cell)) for width, cell in zip(widths, line)]
    align = ("<", "<", ">", ">", "<", "<")

    def render(line):
        if len(line) == 1:
            return line[0]
        if len(line) < 6:  # a note (2 cells) or an error (3 cells): no columns after them
            padded = [f"{cell:<{width}}" for cell, width in zip(line[:-1], widths)]
            return "  ".join(padded + [line[-1]])
        cells = [f"{cell:{how}{width}}" for cell, how, width in zip(line, align, widths)]
        return "  ".join(cells).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    lines.append(render(header))
    lines.append(rule)
    for line in body:
        if len(line) == 1 and lines[-1] != rule:
            lines.append("")
        lines.append(render(line))
    return "\n".join(lines)


def render_header(document: dict[str, Any]) -> str:
    meta = document["meta"]
    peers = ", ".join(f"{name} {version}" for name, version in meta["peers"].items()) or "none"
    skipped = "; ".join(f"{name} ({why})" for name, why in meta["skipped"].items())
    load = meta["load_average"]
    lines = [
        f"adfun benchmark suite: medians of {meta['repeat']} interleaved rounds"
        f"{' of processor time' if meta.get('clock') == 'cpu' else ''}"
        f"{' (QUICK mode: tiny sizes, not representative; no verdicts)' if meta['quick'] else ''}",
        f"{meta['platform']}; Python {meta['python']}; NumPy {meta['numpy']}; "
        f"adfun {meta['adfun']} ({meta['adfun_path']}); threads pinned to 1, "
        f"{meta.get('cpu', 'CPU affinity not recorded')}; numexpr {meta.get('numexpr', 'absent')}; "
        f"numba {meta.get('numba', 'not recorded')}",
        f"peers: {peers}" + (f"; skipped: {skipped}" if skipped else ""),
        f"adfun.jit: {'present, staged variants timed' if meta['jit'] else 'absent'}; "
        f"load average at start {load['start']}, at end {load['end']}",
    ]
    return "\n".join(lines)


def write_json(document: dict[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=1, sort_keys=False)
        stream.write("\n")
