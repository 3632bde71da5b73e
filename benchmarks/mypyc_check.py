"""What compiling adfun's hot modules with mypyc buys per traced operation.

The check builds a compiled variant of this checkout in a temporary directory (nothing is
written into the repository: the ``.so`` files, the C sources and the build folder stay
in the copy, which is deleted at the end unless ``--keep`` is given) and compares it with
the pure-Python checkout on:

* W1 and W7 of ``benchmarks/suite.py`` (microseconds per op of ``grad`` and ``jvp`` of a
  1,000-op 0-d chain), both trees run alternately ``--rounds`` times, medians reported;
* instructions per op (``benchmarks/instructions.py``, under valgrind's callgrind), where
  valgrind is installed: repeatable on a shared machine, where the timings are not;
* optionally (``--tests``), test files run against the compiled copy.

Run from the repository root (needs mypy with mypyc and a C compiler)::

    python benchmarks/mypyc_check.py
    python benchmarks/mypyc_check.py --tests tests/test_engine.py,tests/test_forward.py
    python benchmarks/mypyc_check.py --no-valgrind --rounds 5 --keep /tmp/adfun-mypyc

The findings (which modules compile, what they needed, the figures) are in
``docs/performance.md``, section "Compiling the engine with mypyc".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The modules compiled by default: the reverse and forward passes, the graph helpers,
#: and the declaration kit's wrappers that every adfun.numpy function goes through.  They
#: compile as they are.  Two hot modules are left out (see docs/performance.md):
#: ``adfun/_engine/trace.py`` (the tracer and ``bind``) does not compile without changes
#: that are not behaviour-neutral, and ``adfun/_engine/records.py`` is attrs classes and
#: tables with no hot code of its own, on which mypyc 2.4 stops with an internal error
#: (``Variadic.__getitem__``: a closure in a method of a class it cannot compile natively).
DEFAULT_MODULES = (
    "adfun/_engine/graph.py",
    "adfun/_engine/reverse.py",
    "adfun/_engine/forward.py",
    "adfun/numpy/_declare.py",
    "adfun/numpy/_fast.py",
)

#: What the compiled copy needs besides the package: the benchmarks, the tests (run
#: against the copy) and the examples some of them run, and the project file (mypy's and
#: pytest's configuration).
COPIED = ("adfun", "benchmarks", "tests", "examples", "pyproject.toml", "README.md", "LICENSE")

SETUP = """\
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="adfun-mypyc-check",
    py_modules=[],
    ext_modules=mypycify({modules!r}, opt_level="3"),
)
"""

#: The suite's rows this check reports: (workload, variant) -> label.
ROWS = {("W1", "grad"): "W1 grad, us/op", ("W7", "jvp"): "W7 jvp, us/op"}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/mypyc_check.py",
        description="Build adfun's hot modules with mypyc in a temporary copy and compare "
        "it with the pure-Python checkout (W1/W7 us/op, instructions/op, tests).",
    )
    parser.add_argument(
        "--modules",
        default=",".join(DEFAULT_MODULES),
        help="comma-separated module paths to compile (default: %(default)s)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="suite runs per tree, alternating (default 3)"
    )
    parser.add_argument(
        "--repeat", type=int, default=7, help="the suite's --repeat per run (default 7)"
    )
    parser.add_argument("--no-valgrind", action="store_true", help="skip the instruction counts")
    parser.add_argument(
        "--tests",
        default="",
        help="comma-separated test files to run against the compiled copy (default: none)",
    )
    parser.add_argument(
        "--keep",
        default=None,
        metavar="DIR",
        help="build in DIR (created; must not exist) and keep it, instead of a temporary "
        "directory that is deleted",
    )
    return parser.parse_args(argv)


def require_tools() -> None:
    """Stop with a message if mypyc or a C compiler is missing."""
    try:
        import mypyc  # noqa: F401
    except ImportError:
        sys.exit("mypyc is not installed: pip install mypy (mypyc ships with it)")
    if not any(shutil.which(name) for name in ("cc", "gcc", "clang")):
        sys.exit("no C compiler found (cc, gcc or clang): mypyc compiles through one")


def copy_tree(destination: Path) -> None:
    """Copy the parts of the checkout the check needs, without caches or built files."""
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", ".hypothesis", "*.c")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, destination / name)


def build(folder: Path, modules: list[str]) -> float:
    """Compile ``modules`` in place inside ``folder``; return the build time in seconds."""
    (folder / "mypyc_setup.py").write_text(SETUP.format(modules=modules))
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "mypyc_setup.py", "build_ext", "--inplace"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        messages = [
            line
            for line in (result.stdout + result.stderr).splitlines()
            if ": error:" in line or "Error" in line
        ]
        sys.exit(
            "mypyc could not compile the modules:\n"
            + "\n".join(messages[-40:] or (result.stdout + result.stderr).splitlines()[-40:])
        )
    return elapsed


def check_compiled(folder: Path, modules: list[str]) -> None:
    """Stop unless every module imports from its compiled extension in ``folder``."""
    names = [module[: -len(".py")].replace("/", ".") for module in modules]
    code = (
        "import importlib, adfun\n"
        f"for name in {names!r}:\n"
        "    path = importlib.import_module(name).__file__\n"
        "    if not path.endswith(('.so', '.pyd')):\n"
        "        raise SystemExit(f'{name} was imported from {path}, not compiled')\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=folder, env=environment(folder), check=True)


def environment(tree: Path) -> dict[str, str]:
    """The environment in which ``tree``'s adfun is the one imported."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    return env


def suite_run(tree: Path, repeat: int) -> dict[str, float]:
    """One run of the suite's W1 and W7 in ``tree``: label -> microseconds per op."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "suite.json"
        result = subprocess.run(
            [
                sys.executable,
                str(tree / "benchmarks" / "suite.py"),
                "--only",
                "W1,W7",
                "--peers",
                "none",
                "--repeat",
                str(repeat),
                "--json",
                str(output),
            ],
            cwd=tree,
            env=environment(tree),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not output.exists():
            raise RuntimeError(f"the suite failed in {tree}:\n{result.stderr[-3000:]}")
        document = json.loads(output.read_text())
    if document["meta"]["adfun_path"] != str(tree / "adfun"):
        raise RuntimeError(f"the suite measured {document['meta']['adfun_path']}, not {tree}")
    values = {}
    for group in document["groups"]:
        for row in group["rows"]:
            label = ROWS.get((group["id"], row["variant"]))
            if label is not None and row["library"] == "adfun":
                values[label] = row["value"]
    return values


def instructions(tree: Path) -> int:
    """Instructions per op of ``tree`` (``benchmarks/instructions.py``)."""
    result = subprocess.run(
        [sys.executable, str(tree / "benchmarks" / "instructions.py")],
        cwd=tree,
        env=environment(tree),
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"([\d,]+) instructions per op", result.stdout)
    if match is None:
        raise RuntimeError("instructions.py printed no count:\n" + result.stdout)
    return int(match.group(1).replace(",", ""))


def run_tests(folder: Path, files: list[str]) -> tuple[int, str]:
    """Run ``files`` with pytest against the compiled copy: exit status and summary line."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files],
        cwd=folder,
        env=environment(folder),
        capture_output=True,
        text=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    failures = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    summary = "\n".join([*failures[:30], lines[-1] if lines else "(no output)"])
    return result.returncode, summary


def change(pure: float, compiled: float) -> str:
    return f"{(compiled - pure) / pure * 100:+.1f}%"


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    modules = [module.strip() for module in arguments.modules.split(",") if module.strip()]
    for module in modules:
        if not (ROOT / module).is_file():
            sys.exit(f"--modules: {module} is not a file of this checkout")
    require_tools()
    if arguments.keep is not None:
        folder = Path(arguments.keep).resolve()
        folder.mkdir(parents=True)
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="adfun-mypyc-")
        folder = Path(cleanup.name)
    try:
        copy_tree(folder)
        print(f"compiling {len(modules)} modules with mypyc in {folder} ...", flush=True)
        seconds = build(folder, modules)
        check_compiled(folder, modules)
        print(f"built in {seconds:.0f} s: {', '.join(modules)}", flush=True)

        timings: dict[str, dict[str, list[float]]] = {"pure": {}, "compiled": {}}
        for round_index in range(arguments.rounds):
            print(f"suite round {round_index + 1}/{arguments.rounds} ...", flush=True)
            for variant, tree in (("pure", ROOT), ("compiled", folder)):
                for label, value in suite_run(tree, arguments.repeat).items():
                    timings[variant].setdefault(label, []).append(value)

        counts = None
        if arguments.no_valgrind or shutil.which("valgrind") is None:
            if not arguments.no_valgrind:
                print("valgrind is not installed: no instruction counts")
        else:
            print("counting instructions under callgrind (minutes) ...", flush=True)
            counts = (instructions(ROOT), instructions(folder))

        tests = None
        files = [name.strip() for name in arguments.tests.split(",") if name.strip()]
        if files:
            print(f"running {', '.join(files)} against the compiled copy ...", flush=True)
            tests = run_tests(folder, files)
    finally:
        if cleanup is not None:
            cleanup.cleanup()

    print()
    print(f"{'':24}{'pure':>12}{'compiled':>12}{'change':>10}")
    for label in ROWS.values():
        pure = statistics.median(timings["pure"][label])
        compiled = statistics.median(timings["compiled"][label])
        print(f"{label:24}{pure:12.2f}{compiled:12.2f}{change(pure, compiled):>10}")
    if counts is not None:
        pure_count, compiled_count = counts
        print(
            f"{'instructions/op (W1)':24}{pure_count:12,}{compiled_count:12,}"
            f"{change(pure_count, compiled_count):>10}"
        )
    print(
        f"(timings: medians of {arguments.rounds} alternating suite runs, "
        f"--repeat {arguments.repeat}; load average now {os.getloadavg()[0]:.1f})"
    )
    if tests is not None:
        status, summary = tests
        print(f"\ntests against the compiled copy (exit status {status}):\n{summary}")
        return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
