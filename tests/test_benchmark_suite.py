"""Smoke tests of the benchmark suite (``benchmarks/suite.py``) and its docs extension.

The suite runs in ``--quick`` mode (tiny sizes, few rounds): these tests check that every
workload runs, verifies its results and lands in the table and the JSON document with the
documented structure -- never the timings themselves.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "benchmarks" / "suite.py"
GROUPS = ["W1", "W7", "W2", "W3", "W4", "W4mem", "W5", "W6a", "W6b", "W8", "W9", "W10"]
ROW_KEYS = {
    "library",
    "variant",
    "baseline",
    "seconds",
    "value",
    "ratio",
    "targets",
    "passed",
    "note",
    "error",
}

sys.path.append(str(ROOT / "benchmarks"))
from _suite.report import finish_row, render_table  # noqa: E402
from _suite.timing import Target, Variant, measure, prepare_all  # noqa: E402


def run_suite(*options: str, prelude: str = "") -> subprocess.CompletedProcess:
    """Run the suite in a fresh interpreter (``prelude``: Python run before it starts)."""
    code = (
        f"{prelude}\nimport runpy, sys\nsys.argv = {[str(SUITE), *options]!r}\n"
        f"runpy.run_path({str(SUITE)!r}, run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("suite") / "results.json"
    done = run_suite("--quick", "--peers", "none", "--json", str(output))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout, json.loads(output.read_text())


def test_quick_run_prints_one_table_with_every_workload(quick_run):
    stdout, _ = quick_run
    assert "QUICK mode" in stdout
    assert "threads pinned to 1" in stdout
    header = next(line for line in stdout.splitlines() if "implementation" in line)
    for column in ("median", "ratio", "target"):
        assert column in header
    for group in GROUPS:
        assert any(line.startswith(f"{group}  ") for line in stdout.splitlines()), group
    assert "adfun grad" in stdout and "numpy plain chain" in stdout
    assert "<= 2.5 us/op" in stdout  # the targets are shown...
    # ...but a --quick run (tiny sizes) gives no verdict against the full-size targets
    assert " FAIL" not in stdout and not re.search(r"\s pass$", stdout, re.MULTILINE)


def test_quick_run_json_has_meta_and_one_group_per_workload(quick_run):
    _, document = quick_run
    meta = document["meta"]
    assert meta["quick"] is True and meta["repeat"] == 3
    assert meta["peers"] == {}
    assert meta["skipped"] == {}  # --peers none: none requested, none skipped
    assert meta["adfun_path"] == str(ROOT / "adfun")
    assert set(meta["load_average"]) == {"start", "end"}
    assert [group["id"] for group in document["groups"]] == GROUPS
    for group in document["groups"]:
        assert {"id", "title", "unit", "ratio_to", "note", "rows"} <= set(group)
        for row in group["rows"]:
            assert set(row) == ROW_KEYS
            assert row["error"] is None, (group["id"], row)
            assert math.isfinite(row["value"])
            if group["id"] == "W4mem":  # the quick chain may touch no new page: 0 MiB
                assert row["value"] >= 0
            else:
                assert row["value"] > 0


def test_every_ratio_is_against_a_baseline_of_the_same_group(quick_run):
    _, document = quick_run
    for group in document["groups"]:
        if group["id"] == "W4mem":  # memory has no baseline
            assert all(row["ratio"] is None for row in group["rows"])
            continue
        baselines = [row for row in group["rows"] if row["baseline"]]
        assert len(baselines) == 1 and baselines[0]["ratio"] == pytest.approx(1.0)
        assert baselines[0]["library"] == "numpy"
        for row in group["rows"]:
            if group["id"] != "W4":  # W4's ratios use each subprocess's own baseline
                expected = row["seconds"] / baselines[0]["seconds"]
                assert row["ratio"] == pytest.approx(expected)


def test_adfun_rows_carry_the_issue_targets(quick_run):
    _, document = quick_run
    found = set()
    for group in document["groups"]:
        for row in group["rows"]:
            for target in row["targets"]:
                found.add((group["id"], row["library"], target["text"]))
                measured = row["value"] if target["metric"] == "value" else row["ratio"]
                assert target["passed"] == (measured <= target["limit"])
            if row["targets"]:
                assert row["passed"] == all(t["passed"] for t in row["targets"])
    assert found == {
        ("W1", "adfun", "<= 2.5 us/op"),
        ("W7", "adfun", "<= 2.5 us/op"),
        ("W2", "adfun", "<= 1.05x"),
        ("W3", "adfun", "<= 1.6x (eager)"),
        ("W4", "adfun", "<= 5 us/op"),
        ("W4mem", "adfun", "<= 60 MiB"),
        ("W5", "adfun", "<= 1.5x"),
        ("W6a", "adfun", "<= 15 us"),
        ("W6b", "adfun", "<= 1.3x"),
        ("W8", "adfun", "<= 0.3 ms"),
        ("W9", "adfun", "<= 1 ms"),
        ("W10", "adfun", "<= 1.5x"),
        # ad.jit's own targets, on the staged rows:
        ("W1", "adfun", "<= 0.1 us/op (staged)"),
        ("W2", "adfun", "<= 0.95x (staged)"),
        ("W3", "adfun", "<= 0.6x (staged)"),
    }


def test_only_selects_workloads_and_w6_means_both_sizes(tmp_path):
    output = tmp_path / "only.json"
    done = run_suite(
        "--quick", "--peers", "none", "--only", "w1,W6", "--repeat", "1", "--json", str(output)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(output.read_text())
    assert [group["id"] for group in document["groups"]] == ["W1", "W6a", "W6b"]
    assert document["meta"]["repeat"] == 1


def test_staged_variants_are_timed_when_adfun_has_jit(tmp_path):
    output = tmp_path / "jit.json"
    # A stand-in for ad.jit (another branch builds the real one): the identity.
    done = run_suite(
        "--quick",
        "--peers",
        "none",
        "--only",
        "W1,W3",
        "--json",
        str(output),
        prelude="import adfun\nadfun.jit = lambda fun: fun",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(output.read_text())
    assert document["meta"]["jit"] is True
    w1, w3 = document["groups"]
    staged = {row["variant"]: row for row in w1["rows"] + w3["rows"] if row["library"] == "adfun"}
    assert set(staged) == {"grad", "jit(grad)"}
    assert [t["text"] for t in w1["rows"][2]["targets"]] == ["<= 0.1 us/op (staged)"]
    assert [t["text"] for t in w3["rows"][2]["targets"]] == ["<= 0.6x (staged)"]
    assert [t["text"] for t in w3["rows"][1]["targets"]] == ["<= 1.6x (eager)"]


def test_an_installed_peer_gets_rows_next_to_adfun(tmp_path):
    pytest.importorskip("autograd")
    output = tmp_path / "peer.json"
    done = run_suite("--quick", "--peers", "autograd", "--only", "W1,W4", "--json", str(output))
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(output.read_text())
    assert "autograd" in document["meta"]["peers"]
    for group in document["groups"]:
        libraries = [row["library"] for row in group["rows"] if row["error"] is None]
        assert "autograd" in libraries and "adfun" in libraries, group["id"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--only", "W99"], r"--only got 'W99'; choose among W1, W7, W2, W3, W4, W5, W6, W8"),
        (["--peers", "theano"], r"--peers got unknown peer\(s\) theano"),
        (["--repeat", "0"], r"--repeat must be at least 1"),
        (["--json", "no/such/dir/out.json"], r"no/such/dir/out.json: its directory does not"),
    ],
)
def test_bad_options_are_refused_with_a_message(options, message):
    import re

    done = run_suite(*options)
    assert done.returncode != 0
    assert re.search(message, done.stderr), done.stderr


def test_a_failing_variant_becomes_an_error_row_not_a_crash():
    def broken():
        raise AssertionError("torch autograd.grad: derivative 1.0 != reference 2.0")

    variants = [
        Variant("numpy", "base", lambda: lambda: None, baseline=True),
        Variant("torch", "grad", broken),
    ]
    prepare_all(variants)
    assert variants[1].run is None
    assert (
        variants[1].error == "AssertionError: torch autograd.grad: derivative 1.0 != reference 2.0"
    )
    assert set(measure(variants, repeat=2, min_sample=0.0)) == {0}


def test_target_verdicts_and_the_table_of_an_error_row():
    target = Target("ratio", 1.5, "<= 1.5x")
    assert (
        finish_row(
            {
                "library": "adfun",
                "variant": "grad",
                "seconds": 1.0,
                "ratio": 1.4,
                "targets": [target],
            },
            1e3,
        )["passed"]
        is True
    )
    failed = finish_row(
        {"library": "adfun", "variant": "grad", "seconds": 1.0, "ratio": 1.6, "targets": [target]},
        1e3,
    )
    assert failed["passed"] is False and failed["value"] == 1e3
    error = finish_row(
        {"library": "adfun", "variant": "grad", "error": "boom", "targets": [target]}, 1e3
    )
    assert error["passed"] is False
    table = render_table(
        {
            "groups": [
                {
                    "id": "W3",
                    "title": "t",
                    "unit": "ms",
                    "ratio_to": "",
                    "note": "",
                    "rows": [failed, error],
                }
            ]
        }
    )
    assert "FAIL" in table and "error: boom" in table


def test_docs_extension_renders_the_committed_results(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sphinx")
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        import adfun_benchmarks
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    document = adfun_benchmarks.load_results(ROOT / "docs" / "_static" / "benchmarks.json")
    assert document["meta"]["quick"] is False  # the docs show a full run
    rows = adfun_benchmarks.table_rows(document)
    assert any(cells[1] == "adfun grad" and cells[5] in ("pass", "FAIL") for cells in rows)
    chart = tmp_path / "chart.png"
    adfun_benchmarks.draw_chart(document, chart)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="not a benchmarks/suite.py result"):
        adfun_benchmarks.load_results(bad)


def test_the_processor_time_clock_is_recorded(tmp_path):
    output = tmp_path / "cpu.json"
    done = run_suite(
        "--quick", "--peers", "none", "--only", "W1", "--clock", "cpu", "--json", str(output)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "interleaved rounds of processor time" in done.stdout
    document = json.loads(output.read_text())
    assert document["meta"]["clock"] == "cpu"
    refused = run_suite("--quick", "--clock", "gpu")
    assert refused.returncode == 2 and "--clock: invalid choice: 'gpu'" in refused.stderr
