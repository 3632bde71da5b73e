"""The ``adfun-benchmarks`` directive: the benchmark suite's table and chart, from its JSON.

``benchmarks/suite.py --json docs/_static/benchmarks.json`` writes the results of a run;
this extension reads that file at build time, so the page shows exactly what the run
measured and nothing is copied by hand:

* ``{adfun-benchmarks} run`` -- one paragraph: when, on what, with which command;
* ``{adfun-benchmarks} table`` -- the suite's table (medians, ratios, targets);
* ``{adfun-benchmarks} chart`` -- a bar chart per workload, drawn with Matplotlib into
  ``docs/_generated/`` (not committed) while the page is read.

The option ``:source: _static/other.json`` reads another result file (a run of some
workloads only, ``--only W8,W9,W10``); its chart is named after that file.

The build stays offline and deterministic: the figure depends only on the JSON file.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

CHART_NAME = "benchmarks.png"
VERDICTS = {True: "pass", False: "FAIL", None: ""}
COLOURS = {"adfun": "#2f6db5", "numpy": "#9a9a9a"}
PEER_COLOUR = "#e0a040"


def load_results(path: Path) -> dict[str, Any]:
    """The suite's JSON document, checked for the keys the page needs."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if "meta" not in document or "groups" not in document:
        raise ValueError(f"{path}: not a benchmarks/suite.py result (no 'meta'/'groups')")
    return document


def number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def unit_text(unit: str) -> str:
    return unit.replace("us", "µs")


def target_text(text: str) -> str:
    """``<= 1.5x`` as ``≤ 1.5×``, ``us`` as ``µs``."""
    return re.sub(r"(\d)x\b", "\\1×", unit_text(text).replace("<=", "≤"))


def short_label(row: dict[str, Any]) -> str:
    """A bar's label: library and variant without the parenthesised details."""
    if row["baseline"]:
        return f"{row['library']} (baseline)"
    variant = re.sub(r"\s+\((?!eager)[^)]*\)", "", row["variant"]).split(",")[0]
    return f"{row['library']} {variant}"[:40]


def chart_metric(group: dict[str, Any]) -> str:
    """What a group's bars show: the metric its targets are stated in (value by default)."""
    for row in group["rows"]:
        for target in row["targets"]:
            return target["metric"]
    return "value"


# --- the table ------------------------------------------------------------------------------


def _entry(text: str, strong: bool = False) -> nodes.entry:
    entry = nodes.entry()
    paragraph = nodes.paragraph()
    paragraph += nodes.strong(text=text) if strong else nodes.Text(text)
    entry += paragraph
    return entry


def _row(cells: list[str], strong: bool = False) -> nodes.row:
    row = nodes.row()
    for index, cell in enumerate(cells):
        row += _entry(cell, strong=strong and index > 0)
    return row


def table_rows(document: dict[str, Any]) -> list[list[str]]:
    """The table's body as text cells: workload, implementation, median, ratio, target."""
    body = []
    for group in document["groups"]:
        first = True
        for row in group["rows"]:
            workload = f"{group['id']}: {group['title']} ({unit_text(group['unit'])})"
            workload = workload if first else ""
            first = False
            name = f"{row['library']} {row['variant']}"
            if row["baseline"]:
                name += " [baseline]"
            if row["error"]:
                body.append([workload, name, f"error: {row['error']}", "", "", ""])
                continue
            ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}×"
            targets = "; ".join(target_text(target["text"]) for target in row["targets"])
            body.append([workload, name, number(row["value"]), ratio, targets,
                         VERDICTS[row["passed"]]])
    return body


def build_table(document: dict[str, Any]) -> nodes.table:
    header = ["workload (unit of the median)", "implementation", "median", "ratio",
              "target", "result"]
    widths = [30, 30, 9, 9, 15, 7]
    table = nodes.table(classes=["adfun-benchmarks"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    head += _row(header)
    group += head
    body = nodes.tbody()
    for cells in table_rows(document):
        body += _row(cells, strong=cells[1].startswith("adfun "))
    group += body
    return table


# --- the run paragraph ------------------------------------------------------------------------


def run_paragraph(document: dict[str, Any]) -> nodes.paragraph:
    meta = document["meta"]
    peers = ", ".join(f"{name} {version}" for name, version in meta["peers"].items())
    skipped = ", ".join(f"{name} ({why})" for name, why in meta["skipped"].items())
    paragraph = nodes.paragraph()
    paragraph += nodes.Text(f"Measured on {meta['date']} with ")
    paragraph += nodes.literal(text=meta["command"])
    paragraph += nodes.Text(
        f": {meta['platform']}, Python {meta['python']}, NumPy {meta['numpy']}, "
        f"adfun {meta['adfun']}; peers: {peers or 'none'}"
        f"{'; skipped: ' + skipped if skipped else ''}. Medians of {meta['repeat']} "
        f"interleaved rounds, every library pinned to one thread; load average (1, 5, 15 "
        f"min) {meta['load_average']['start']} at the start and "
        f"{meta['load_average']['end']} at the end"
        f"{'; adfun.jit was timed too' if meta['jit'] else ''}."
    )
    return paragraph


# --- the chart --------------------------------------------------------------------------------


def draw_chart(document: dict[str, Any], output: Path) -> None:
    """One horizontal bar panel per workload; dashed line: adfun's target."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups = [group for group in document["groups"]
              if any(row["error"] is None for row in group["rows"])]
    columns = 2
    rows = max(1, math.ceil(len(groups) / columns))
    figure = Figure(figsize=(9.5, 2.4 * rows), layout="constrained")
    FigureCanvasAgg(figure)
    for index, group in enumerate(groups):
        axes = figure.add_subplot(rows, columns, index + 1)
        metric = chart_metric(group)
        shown = [row for row in group["rows"]
                 if row["error"] is None and row[metric] is not None]
        labels = [short_label(row) for row in shown]
        values = [row[metric] for row in shown]
        colours = [COLOURS.get(row["library"], PEER_COLOUR) for row in shown]
        positions = list(range(len(shown)))[::-1]
        axes.barh(positions, values, color=colours)
        axes.set_yticks(positions, labels, fontsize=8)
        for position, value in zip(positions, values):
            axes.annotate(number(value), (value, position), xytext=(3, 0),
                          textcoords="offset points", va="center", fontsize=8)
        limits = [target["limit"] for row in shown for target in row["targets"]
                  if target["metric"] == metric]
        if limits:
            axes.axvline(min(limits), color="#c03030", linestyle="--", linewidth=1)
        positive = [value for value in values + limits if value > 0]
        if positive and max(positive) / min(positive) > 30:
            axes.set_xscale("log")
        axes.set_xlim(right=max(positive, default=1) * (4 if axes.get_xscale() == "log"
                                                       else 1.25))
        unit = "× baseline" if metric == "ratio" else unit_text(group["unit"])
        axes.set_xlabel(unit, fontsize=8)
        title = textwrap.fill(f"{group['id']}: {group['title']}", 38)
        axes.set_title(title, fontsize=8.5, loc="left")
        axes.tick_params(axis="x", labelsize=7)
    figure.suptitle("adfun and its peers (lower is better; dashed: adfun's target)",
                    fontsize=10)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=100)


# --- the directive ----------------------------------------------------------------------------


class BenchmarksDirective(SphinxDirective):
    """``{adfun-benchmarks} run|table|chart``: a part of the committed benchmark results."""

    required_arguments = 1
    has_content = False
    option_spec = {"source": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        part = self.arguments[0]
        relative = self.options.get("source", self.config.adfun_benchmarks_json)
        source = Path(self.env.srcdir) / relative
        self.env.note_dependency(str(source))
        document = load_results(source)
        if part == "run":
            return [run_paragraph(document)]
        if part == "table":
            return [build_table(document)]
        if part == "chart":
            name = CHART_NAME if "source" not in self.options else f"{source.stem}.png"
            output = Path(self.env.srcdir) / "_generated" / name
            draw_chart(document, output)
            image = nodes.image(uri=f"/_generated/{name}",
                                alt="Bar chart of the benchmark suite's medians")
            return [image]
        raise self.error(
            f"adfun-benchmarks: unknown part {part!r}; use 'run', 'table' or 'chart'"
        )


def setup(app: Any) -> dict:
    app.add_config_value("adfun_benchmarks_json", "_static/benchmarks.json", "env")
    app.add_directive("adfun-benchmarks", BenchmarksDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
