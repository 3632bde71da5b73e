"""W4: a 100,000-op 0-d chain under ``grad``, one fresh subprocess per library.

A subprocess per library keeps the memory peaks apart (and a library's caches out of
another's timings).  Inside it, ``worker`` first measures the peak resident-memory growth
of one full-size ``grad`` call (see ``memory.py``), then times that call against the plain
NumPy chain of the same length, interleaved, so each library's ratio has a baseline
measured in its own process.  The parent (``measure_w4``) starts the workers, reads the
JSON line each prints and turns it into rows of the table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from _suite import peers as peer_modules
from _suite.chain_workloads import GRAD_BUILDERS, plain_numpy
from _suite.chains import check_derivative
from _suite.memory import peak_growth_mib
from _suite.timing import Target, Variant, measure, prepare_all

W4_TIME_TARGET = Target("value", 5.0, "<= 5 us/op")
W4_MEMORY_TARGET = Target("value", 60.0, "<= 60 MiB")
#: Libraries W4 runs (the issue's peers for it); JAX's eager ``grad`` would take tens of
#: seconds per call at this depth and compiling 100,000 unrolled ops is not meaningful.
LIBRARIES = ("adfun", "autograd", "torch")
LABELS = {"adfun": "grad", "autograd": "grad", "torch": "autograd.grad"}
WORKER_TIMEOUT = 900  # seconds


def worker(library: str, ops: int, repeat: int) -> dict[str, Any]:
    """Run in the subprocess: memory, then timings, of ``library``'s ``grad`` of the chain."""
    version = "adfun"
    if library != "adfun":
        module, version = peer_modules.load(library)
        if module is None:
            return {"library": library, "error": version}
    else:
        import adfun

        version = adfun.__version__
    GRAD_BUILDERS[library](8)()  # import and warm up everything on a short chain
    run = GRAD_BUILDERS[library](ops)
    results = []
    peak, method = peak_growth_mib(lambda: results.append(run()))
    check_derivative(library, results.pop(), ops)
    variants = [
        Variant("numpy", "plain", lambda: plain_numpy(ops), baseline=True),
        Variant(library, "grad", lambda: run),
    ]
    prepare_all(variants)
    medians = measure(variants, repeat, min_sample=0.0)
    return {
        "library": library,
        "version": version,
        "plain_seconds": medians[0],
        "grad_seconds": medians[1],
        "peak_mib": peak,
        "memory_method": method,
    }


def run_worker(script: str, library: str, ops: int, repeat: int) -> dict[str, Any]:
    """Start ``script --w4-worker library`` in a fresh interpreter; its JSON result."""
    command = [sys.executable, script, "--w4-worker", library, "--ops", str(ops),
               "--repeat", str(repeat)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=WORKER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"library": library, "error": f"timed out after {WORKER_TIMEOUT} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"library": library, "error": f"worker failed: {tail}"[:200]}
    return json.loads(lines[-1])


def measure_w4(script: str, ops: int, repeat: int, peers: dict[str, Any]) -> list[dict]:
    """The rows of W4 (time) and W4mem (peak memory), one worker per library."""
    time_rows: list[dict] = []
    memory_rows: list[dict] = []
    title = f"{ops:,}-op 0-d chain under grad (fresh process per library)"
    memory_title = f"{ops:,}-op 0-d chain under grad: peak memory"
    for library in LIBRARIES:
        if library != "adfun" and library not in peers:
            continue
        result = run_worker(script, library, ops, repeat)
        targets = library == "adfun"
        common = {"library": library, "variant": LABELS[library]}
        if "error" in result:
            time_rows.append({**common, "error": result["error"]})
            memory_rows.append({**common, "error": result["error"]})
            continue
        if library == "adfun":
            time_rows.append({
                "library": "numpy", "variant": "plain chain, no derivative (adfun's process)",
                "baseline": True, "seconds": result["plain_seconds"],
                "ratio": 1.0,
            })
        time_rows.append({
            **common, "seconds": result["grad_seconds"],
            "ratio": result["grad_seconds"] / result["plain_seconds"],
            "targets": [W4_TIME_TARGET] if targets else [],
        })
        memory_rows.append({
            **common, "value": result["peak_mib"], "note": result["memory_method"],
            "targets": [W4_MEMORY_TARGET] if targets else [],
        })
    skipped = "JAX not run: eager grad takes tens of seconds per call at this depth"
    return [
        {"id": "W4", "title": title, "unit": "us/op", "scale": 1e6 / ops,
         "ratio_to": "x plain NumPy chain (same process)", "rows": time_rows,
         "note": skipped if "jax" in peers else ""},
        {"id": "W4mem", "title": memory_title, "unit": "MiB", "scale": None,
         "ratio_to": "", "rows": memory_rows,
         "note": "peak resident memory during one call, minus the resident memory before"},
    ]
