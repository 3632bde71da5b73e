"""Instructions per traced operation, counted by valgrind's callgrind.

Wall-clock timings on a shared machine are noisy; instruction counts are repeatable for
the same interpreter, inputs and environment.  This script runs the 1,000-op 0-d chain of
``bench_core.py`` under ``grad`` N times and 0 times inside callgrind and prints the
difference per operation.

Run:  python benchmarks/instructions.py   (needs ``valgrind`` on the PATH)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = 20
OPS = 1000

WORKLOAD = """
import sys
sys.path.insert(0, {benchmarks!r})
import adfun as ad
from bench_core import scalar_chain
gradient = ad.grad(scalar_chain)
gradient(0.3)
for _ in range(int(sys.argv[1])):
    gradient(0.3)
"""


def count_instructions(script: Path, runs: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
             sys.executable, str(script), str(runs)],
            capture_output=True, text=True, check=True,
        )
    match = re.search(r"Collected : (\d+)", result.stderr)
    if match is None:
        raise RuntimeError("callgrind printed no instruction count:\n" + result.stderr[-2000:])
    return int(match.group(1))


def main() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    benchmarks = str(Path(__file__).resolve().parent)
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "workload.py"
        script.write_text(WORKLOAD.format(benchmarks=benchmarks))
        baseline = count_instructions(script, 0)
        loaded = count_instructions(script, RUNS)
    per_op = (loaded - baseline) / RUNS / OPS
    print(f"grad of a 1,000-op 0-d chain: {per_op:,.0f} instructions per op "
          f"(forward trace + reverse pass)")


if __name__ == "__main__":
    main()
