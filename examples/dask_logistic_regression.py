"""Logistic regression on data bigger than a worker's memory, with Dask and adfun.

The dataset is a chunked Dask array generated chunk by chunk on the workers of a
``dask.distributed`` cluster (two worker processes on 127.0.0.1, each with a memory limit
smaller than the dataset): the client never holds it, and no worker holds it whole.  The
loss is ordinary ``adfun.numpy`` code; :func:`adfun.value_and_grad` turns it into a lazy
Dask graph of the loss and its gradient (nothing is computed while adfun traces), the
cluster computes both, and :func:`scipy.optimize.minimize` (``jac=True``) takes the two
floats it needs.  The weights are a NumPy array: with Dask data, adfun returns Dask
results, as NumPy-with-Dask arithmetic does.

At the end, the loss and gradient adfun computes on Dask arrays are checked against the
same code run on NumPy arrays of a subsample, and the fitted weights against the true ones.

Run it as ``python examples/dask_logistic_regression.py`` (about 512 MB of data, two
workers of 400 MiB each, under a minute on two cores); ``--help`` lists the sizes you can
change, e.g. ``--rows 20000000`` for 6.4 GB.
"""

from __future__ import annotations

import argparse
import time

import dask
import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster, progress
from scipy.optimize import minimize

import adfun as ad
import adfun.numpy as anp

PENALTY = 1e-4


def make_data(rows: int, features: int, chunk_rows: int, seed: int = 0) -> tuple:
    """``(X, y, true_weights)``: ``X`` of shape (rows, features) and labels ``y`` drawn
    from a logistic model, each chunk generated on a worker from its own seed."""
    true_weights = np.random.default_rng(seed).standard_normal(features) / np.sqrt(features)

    def block(block_info=None):
        info = block_info[None]
        (start, stop), _ = info["array-location"]
        rng = np.random.default_rng([seed, start])
        x = rng.standard_normal((stop - start, features))
        p = 1.0 / (1.0 + np.exp(-4.0 * (x @ true_weights)))
        y = (rng.random(stop - start) < p).astype(float)
        return np.concatenate([x, y[:, None]], axis=1)

    chunks = (
        (chunk_rows,) * (rows // chunk_rows) + ((rows % chunk_rows,) if rows % chunk_rows else ()),
        (features + 1,),
    )
    both = da.map_blocks(block, chunks=chunks, dtype=float, meta=np.empty((0, 0)))
    return both[:, :features], both[:, features], 4.0 * true_weights


def loss(weights, X, y):
    """Mean negative log-likelihood of a logistic model, plus a small L2 penalty."""
    z = X @ weights
    return anp.mean(anp.logaddexp(0.0, z) - y * z) + PENALTY * anp.sum(weights**2)


value_and_gradient = ad.value_and_grad(loss)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=31)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--memory-limit", default="400MiB", help="per worker")
    parser.add_argument("--subsample", type=int, default=50_000)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    X, y, true_weights = make_data(args.rows, args.features, args.chunk_rows)
    data_bytes = X.nbytes + y.nbytes
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit=args.memory_limit,
        ) as cluster,
        Client(cluster) as client,
    ):
        limit = min(w["memory_limit"] for w in client.scheduler_info()["workers"].values())
        print(
            f"data: {X.shape[0]:,} x {X.shape[1]} in {X.npartitions} chunks, "
            f"{data_bytes / 2**20:,.0f} MiB; worker memory limit {limit / 2**20:,.0f} MiB"
        )
        assert data_bytes > limit, "the data should not fit in one worker"
        evaluations = []

        def fun(weights):
            # adfun builds the lazy graph (no computation), the cluster computes it.
            value, gradient = value_and_gradient(weights, X, y)
            futures = client.compute([value, gradient])
            if not args.quiet:
                progress(futures)
                print()
            value, gradient = client.gather(futures)
            evaluations.append(float(value))
            return float(value), np.asarray(gradient)

        start = time.perf_counter()
        result = minimize(fun, np.zeros(args.features), jac=True, method="L-BFGS-B")
        elapsed = time.perf_counter() - start
        peak = max(client.run(_peak_rss).values())
        print(
            f"L-BFGS-B: {result.nit} iterations, {len(evaluations)} evaluations in "
            f"{elapsed:.1f} s, loss {result.fun:.6f}; peak worker memory "
            f"{peak / 2**20:,.0f} MiB"
        )

        # Check: on a subsample, the same code on NumPy arrays gives the same numbers.
        X_small, y_small = X[: args.subsample], y[: args.subsample]
        value, gradient = value_and_gradient(result.x, X_small, y_small)
        value, gradient = dask.compute(value, gradient)
        X_numpy, y_numpy = dask.compute(X_small, y_small)
        expected_value, expected_gradient = value_and_gradient(result.x, X_numpy, y_numpy)
        np.testing.assert_allclose(value, expected_value, rtol=1e-12)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-9, atol=1e-14)
        error = np.max(np.abs(result.x - true_weights))
        print(
            f"subsample of {args.subsample:,} rows: Dask and NumPy agree "
            f"(loss {float(value):.6f}); largest error of the fitted weights: {error:.3f}"
        )
    return {"result": result, "true_weights": true_weights, "peak": peak, "limit": limit}


def _peak_rss() -> int:
    """The peak resident memory of this (worker) process, in bytes."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


if __name__ == "__main__":
    main()
