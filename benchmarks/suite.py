"""The benchmark suite: workloads W1-W7 of adfun and its peers, side by side, in one table.

Run from the repository root::

    python benchmarks/suite.py                      # every workload, every installed peer
    python benchmarks/suite.py --only W1,W3 --repeat 15
    python benchmarks/suite.py --json docs/_static/benchmarks.json   # the docs' figures
    python benchmarks/suite.py --quick --peers none # seconds: tiny sizes, a smoke test

Workloads (the table of issue 9):

* W1  microseconds per operation of ``grad`` of a 1,000-op 0-d chain;
* W7  the same chain under ``jvp``;
* W2  MLP value and gradient (batch 256, 784-512-512-10, tanh, softmax cross-entropy,
  float64) / the hand-written NumPy forward and backward (checked to agree to 1e-8);
* W3  ``grad`` of ``sum(sin(x)**2 + exp(-x)*cos(x))`` on 1e6 float64 / NumPy forward;
* W4  a 100,000-op 0-d chain under ``grad``: us/op and peak memory (MiB), each library in
  a fresh subprocess;
* W5  ``hvp`` of ``sum(tanh(A @ x)**2)``, A 1000x1000 / a hand-written NumPy HVP;
* W6  ``with record(): y = x*2; z = y*x`` + ``z.backward()`` on 2x2 (W6a, us) and
  1000x1000 (W6b, / hand-written NumPy) float32;
* W8  ``jacrev`` of ``tanh(A @ x) * x``, 100 -> 100 (ms);
* W9  ``hessian`` of a 100-d scalar function (ms);
* W10 per-example gradients of the W2 MLP, ``vmap(grad(loss), in_axes=(None, 0, 0))`` /
  hand-written batched NumPy per-example gradients.

Peers are optional: HIPS ``autograd`` (``pip install -e ".[bench]"``), PyTorch
(``pip install torch``) and JAX (``pip install jax jaxlib``); MXNet if importable.  A peer
that is not installed is skipped with a note.  Every ratio is a median over the median of
a baseline timed in the same rounds of the same process; BLAS, OpenMP, PyTorch and XLA
are pinned to one thread, and the process (with its W4 subprocesses) to one CPU with
``os.sched_setaffinity`` (thread variables alone do not stop XLA from using every core);
numexpr, which ``adfun.jit`` uses for fused kernels when it is installed, runs one
thread.  If ``adfun.jit`` exists, its staged variants are timed too.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the _suite helpers and bench_core
sys.path.insert(1, str(HERE.parent))  # measure this checkout's adfun, not another install

from _suite.peers import pin_threads  # noqa: E402 - imports nothing heavy

PINNED_CPU = pin_threads()  # before NumPy, PyTorch, JAX or numexpr is imported

WORKLOADS = ("W1", "W7", "W2", "W3", "W4", "W5", "W6", "W8", "W9", "W10")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/suite.py",
        description="Workloads W1-W7 on adfun and the installed peers, one table of medians "
        "and ratios measured in the same run.",
    )
    parser.add_argument("--repeat", type=int, default=None,
                        help="interleaved timing rounds per workload (default 9; 3 with "
                        "--quick); W4 runs at most 5 (2 with --quick)")
    parser.add_argument("--only", default=None,
                        help="comma-separated workloads to run, e.g. W1,W3 (default: all)")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="also write the results as JSON to PATH")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and few rounds: checks that everything runs, "
                        "the figures mean nothing")
    parser.add_argument("--peers", default=None,
                        help="comma-separated peers to include among autograd, torch, jax, "
                        "mxnet, or 'none' (default: every installed one)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time calls by the wall clock (default) or by the processor "
                        "time of this process (steadier on a machine shared with other "
                        "jobs: time spent waiting for the CPU is not counted; W4's "
                        "subprocesses keep the wall clock)")
    parser.add_argument("--w4-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ops", type=int, default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.repeat is not None and arguments.repeat < 1:
        parser.error("--repeat must be at least 1")
    if arguments.json is not None and not Path(arguments.json).resolve().parent.is_dir():
        parser.error(f"--json {arguments.json}: its directory does not exist; create it "
                     f"first or write elsewhere")
    arguments.workloads = _selected_workloads(parser, arguments.only)
    return arguments


def _selected_workloads(parser: argparse.ArgumentParser, only: str | None) -> list[str]:
    if only is None:
        return list(WORKLOADS)
    names = [name.strip().upper() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in WORKLOADS]
    if unknown or not names:
        parser.error(f"--only got {only!r}; choose among {', '.join(WORKLOADS)}, "
                     f"comma-separated (e.g. --only W1,W3)")
    return [name for name in WORKLOADS if name in names]


def _load_peers(names: list[str]) -> tuple[dict, dict, dict]:
    from _suite import peers as peer_modules

    loaded, versions, skipped = {}, {}, {}
    for name in names:
        module, version = peer_modules.load(name)
        if module is None:
            skipped[name] = version
        else:
            loaded[name], versions[name] = module, version
    return loaded, versions, skipped


def _numexpr_version() -> str:
    """numexpr's version (adfun.jit's fused kernels use it) or why it is absent."""
    try:
        import numexpr
    except ImportError:
        return "not installed: jit runs without fused kernels"
    return f"{numexpr.__version__}, {numexpr.get_num_threads()} thread(s)"


def _numba_version() -> str:
    """numba's version (adfun.jit compiles loops with it) or why it is absent."""
    try:
        import numba
    except ImportError:
        return "not installed: jit runs without compiled loops"
    return numba.__version__


def _load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unavailable"


def run_suite(arguments: argparse.Namespace) -> dict:
    """Run the selected workloads; return the JSON document (meta and groups)."""
    import numpy as np

    import adfun as ad
    from _suite import array_workloads, batching, chain_workloads, deep, imperative, mlp
    from _suite import peers as peer_modules
    from _suite.report import SCHEMA_VERSION, group_of, group_of_rows
    from _suite.sizes import FULL, QUICK
    from _suite.timing import measure, prepare_all, use_clock

    sizes = QUICK if arguments.quick else FULL
    repeat = arguments.repeat or (3 if arguments.quick else 9)
    use_clock(arguments.clock)
    peers, versions, skipped = _load_peers(peer_modules.select(arguments.peers))
    has_jit = hasattr(ad, "jit")
    meta = {
        "schema": SCHEMA_VERSION,
        "command": "python benchmarks/suite.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numexpr": _numexpr_version(),
        "numba": _numba_version(),
        "adfun": ad.__version__,
        "adfun_path": str(Path(ad.__file__).resolve().parent),
        "peers": versions,
        "skipped": skipped,
        "jit": has_jit,
        "threads": {variable: os.environ.get(variable, "")
                    for variable in (*peer_modules.THREAD_VARIABLES, "XLA_FLAGS")},
        "cpu": "unpinned" if PINNED_CPU is None else f"pinned to CPU {PINNED_CPU}",
        "repeat": repeat,
        "clock": arguments.clock,
        "quick": arguments.quick,
        "sizes": sizes.as_dict(),
        "load_average": {"start": _load_average(), "end": None},
    }
    builders = {
        "W1": lambda: [chain_workloads.w1(sizes.chain_ops, peers, has_jit)],
        "W7": lambda: [chain_workloads.w7(sizes.chain_ops, peers, has_jit)],
        "W2": lambda: [mlp.w2(sizes.mlp_batch, sizes.mlp_layers, peers, has_jit)],
        "W3": lambda: [array_workloads.w3(sizes.elementwise, peers, has_jit)],
        "W5": lambda: [array_workloads.w5(sizes.hvp_side, peers, has_jit)],
        "W6": lambda: [imperative.w6(sizes.imperative_small, peers, small=True),
                       imperative.w6(sizes.imperative_large, peers, small=False)],
        "W8": lambda: [batching.w8(sizes.jacobian_side, peers, has_jit)],
        "W9": lambda: [batching.w9(sizes.jacobian_side, peers, has_jit)],
        "W10": lambda: [batching.w10(sizes.per_example_batch, sizes.mlp_layers, peers,
                                     has_jit)],
    }
    groups = []
    progress = _Progress(arguments.workloads)
    for name in arguments.workloads:
        started = time.perf_counter()
        progress.start(name)
        if name == "W4":
            specs = deep.measure_w4(str(Path(__file__).resolve()), sizes.deep_ops,
                                    min(repeat, sizes.deep_repeat_cap), peers)
            groups.extend(group_of_rows(spec) for spec in specs)
        else:
            for workload in builders[name]():
                prepare_all(workload.variants)
                groups.append(group_of(workload, measure(workload.variants, repeat,
                                                         sizes.min_sample)))
        progress.done(name, time.perf_counter() - started)
    progress.close()
    meta["load_average"]["end"] = _load_average()
    return {"meta": meta, "groups": groups}


class _Progress:
    """Progress on stderr, one step per workload, with an estimate of the time left: a
    tqdm bar when tqdm is installed (the ``bench`` extra), else a line per workload."""

    def __init__(self, workloads: tuple[str, ...] | list[str]) -> None:
        self.total = len(workloads)
        self.finished = 0
        self.spent = 0.0
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=self.total, unit="workload", file=sys.stderr,
                            bar_format="{desc} {n}/{total} workloads [{elapsed}<{remaining}]")

    def start(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_description_str(f"running {name}")
        else:
            print(f"{name} ({self.finished + 1}/{self.total}) ...", end="", file=sys.stderr,
                  flush=True)

    def done(self, name: str, seconds: float) -> None:
        self.finished += 1
        self.spent += seconds
        if self.bar is not None:
            self.bar.write(f"{name} {seconds:.1f} s", file=sys.stderr)
            self.bar.update(1)
            return
        left = self.total - self.finished
        estimate = (
            f", about {self.spent / self.finished * left:.0f} s left (the average so far)"
            if left
            else ""
        )
        print(f" {seconds:.1f} s{estimate}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_w4_worker(arguments: argparse.Namespace) -> int:
    import json

    from _suite.deep import worker

    result = worker(arguments.w4_worker, arguments.ops, arguments.repeat or 1)
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if arguments.w4_worker:
        return _run_w4_worker(arguments)
    from _suite.report import render_header, render_table, write_json

    document = run_suite(arguments)
    print(render_header(document))
    print()
    print(render_table(document))
    if arguments.json:
        write_json(document, arguments.json)
        print(f"\nresults written to {arguments.json}")
    failed = [f"{group['id']} {row['library']} {row['variant']}: {row['error']}"
              for group in document["groups"] for row in group["rows"]
              if row["error"] and row["library"] in ("adfun", "numpy")]
    for line in failed:
        print(f"error: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
