"""Benchmark (issue 16): adfun's gradient of the logistic loss on Dask arrays against
dask-glm's hand-written one.

On one ``dask.distributed`` cluster (a ``LocalCluster`` of two worker processes on
127.0.0.1), with the same data (a chunked Dask array generated chunk by chunk on the
workers and persisted there) and the same chunking, it times

* **adfun**: ``ad.grad(loss)`` of the logistic loss written as ordinary code,
  ``sum(logaddexp(0, X @ w) - y * (X @ w))``, with a NumPy ``w``;
* **dask-glm**: ``dask_glm.families.Logistic.pointwise_gradient(w, X, y)``, its
  hand-written ``X.T @ (sigmoid(X @ w) - y)``.  Without dask-glm installed
  (``pip install dask-glm``), the benchmark writes that same formula itself and says so.

For each: the median wall time of one gradient (building the graph on the client, the
cluster computing it, the result gathered), the number of tasks of its graph (as built,
and after Dask's optimization), and the peak memory of the workers while it computes
(over the persisted data).  Target (issue 16): adfun within 1.2x of dask-glm's time and
peak worker memory.

Run:  python benchmarks/bench_dask.py [--rows N] [--features D] [--chunk-rows C]
                                       [--repeat R] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import dask
import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster, wait

import adfun as ad
import adfun.numpy as anp

try:
    from dask_glm.families import Logistic

    HAND_WRITTEN = "dask-glm " + __import__("dask_glm").__version__
except ImportError:  # the same formula, written here
    Logistic = None
    HAND_WRITTEN = "dask-glm's formula written in this benchmark (dask-glm not installed)"


def hand_written_gradient(w, X, y):
    """dask-glm's logistic gradient: ``X.T @ (sigmoid(X @ w) - y)``."""
    if Logistic is not None:
        return Logistic.pointwise_gradient(w, X, y)
    z = X.dot(w)
    return X.T.dot(1.0 / (1.0 + da.exp(-z)) - y)


def logistic_loss(w, X, y):
    z = X @ w
    return anp.sum(anp.logaddexp(0.0, z) - y * z)


adfun_gradient = ad.grad(logistic_loss)


def make_data(rows, features, chunk_rows, seed=0):
    def block(block_info=None):
        (start, stop), _ = block_info[None]["array-location"]
        rng = np.random.default_rng([seed, start])
        x = rng.standard_normal((stop - start, features))
        y = (rng.random(stop - start) < 1.0 / (1.0 + np.exp(-x[:, 0]))).astype(float)
        return np.concatenate([x, y[:, None]], axis=1)

    count, rest = divmod(rows, chunk_rows)
    chunks = ((chunk_rows,) * count + ((rest,) if rest else ()), (features + 1,))
    both = da.map_blocks(block, chunks=chunks, dtype=float, meta=np.empty((0, 0)))
    return both[:, :features], both[:, features]


def task_counts(result):
    built = len(dict(result.__dask_graph__()))
    (optimized,) = dask.optimize(result)
    return built, len(dict(optimized.__dask_graph__()))


def _start_sampling(dask_worker=None):
    """On a worker: sample this process's resident memory every 5 ms in a thread."""
    import threading

    import psutil

    process = psutil.Process()
    state = {"peak": process.memory_info().rss, "running": True}

    def sample():
        while state["running"]:
            state["peak"] = max(state["peak"], process.memory_info().rss)
            time.sleep(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    dask_worker._adfun_memory = (state, thread)


def _stop_sampling(dask_worker=None):
    state, thread = dask_worker._adfun_memory
    state["running"] = False
    thread.join()
    return state["peak"]


def measure(client, gradient, w, X, y, repeat):
    """The gradient's value, its median time, and the peak resident memory of the
    busiest worker while it computed."""
    times = []
    peak = 0
    for _ in range(repeat):
        client.run(_start_sampling)
        start = time.perf_counter()
        result = client.compute(gradient(w, X, y)).result()
        times.append(time.perf_counter() - start)
        peak = max(peak, max(client.run(_stop_sampling).values()))
    return np.asarray(result), statistics.median(times), peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit="2GiB",
        ) as cluster,
        Client(cluster) as client,
    ):
        X, y = make_data(args.rows, args.features, args.chunk_rows)
        X, y = client.persist([X, y])
        wait([X, y])
        w = np.full(args.features, 0.01)

        adfun_graph = adfun_gradient(w, X, y)
        hand_graph = hand_written_gradient(w, X, y)
        counts = {"adfun": task_counts(adfun_graph), "hand": task_counts(hand_graph)}

        # Warm up both (imports on the workers, caches), then alternate the measurements.
        client.compute([adfun_graph, hand_graph], sync=True)
        results = {"adfun": [], "hand": []}
        peaks = {"adfun": [], "hand": []}
        values = {}
        for _ in range(2):
            for key, gradient in (("adfun", adfun_gradient), ("hand", hand_written_gradient)):
                value, seconds, peak = measure(client, gradient, w, X, y, args.repeat)
                results[key].append(seconds)
                peaks[key].append(peak)
                values[key] = value
        np.testing.assert_allclose(values["adfun"], values["hand"], rtol=1e-9)

    timing = {key: min(found) for key, found in results.items()}
    memory = {key: max(found) for key, found in peaks.items()}
    report = {
        "rows": args.rows,
        "features": args.features,
        "chunk_rows": args.chunk_rows,
        "chunks": X.npartitions,
        "data_MiB": (X.nbytes + y.nbytes) / 2**20,
        "workers": 2,
        "hand_written": HAND_WRITTEN,
        "seconds": timing,
        "time_ratio": timing["adfun"] / timing["hand"],
        "peak_worker_memory_MiB": {key: value / 2**20 for key, value in memory.items()},
        "memory_ratio": memory["adfun"] / memory["hand"],
        "tasks_built": {key: value[0] for key, value in counts.items()},
        "tasks_optimized": {key: value[1] for key, value in counts.items()},
        "machine": f"{platform.machine()}, {platform.python_version()}, dask {dask.__version__}",
    }
    print(
        f"{args.rows:,} x {args.features} float64 in {X.npartitions} chunks "
        f"({report['data_MiB']:,.0f} MiB), 2 worker processes; against {HAND_WRITTEN}"
    )
    print(f"{'':10s} {'time (s)':>10s} {'peak memory (MiB)':>18s} {'tasks':>8s} {'optimized':>10s}")
    for key, label in (("adfun", "adfun"), ("hand", "dask-glm")):
        print(
            f"{label:10s} {timing[key]:10.3f} {memory[key] / 2**20:18.0f} "
            f"{counts[key][0]:8d} {counts[key][1]:10d}"
        )
    print(
        f"adfun / dask-glm: time {report['time_ratio']:.2f}x, peak worker memory "
        f"{report['memory_ratio']:.2f}x (target: within 1.2x)"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2)
            file.write("\n")
    return report


if __name__ == "__main__":
    main()
