"""The GPU check: the rule table and three workloads on CuPy, against NumPy.

Run on a machine with a CUDA GPU and CuPy (``pip install cupy-cuda12x``)::

    python benchmarks/gpu_check.py            # about a minute
    python benchmarks/gpu_check.py --json out.json

Without CuPy or a GPU it says so and exits 0 (nothing to check).  It

1. runs every differentiable primitive of the registry that has an implementation on
   CuPy once, on an example drawn from its declared domain, and compares the value, the
   VJP and the JVP with NumPy's (any disagreement is listed and the exit status is 1);
2. times the elementwise gradient (1e6 and 1e7 elements), the MLP's value and gradient
   and a Hessian-vector product on CuPy and on NumPy, each median of several runs after
   a warm-up, with the GPU synchronized before the clock stops.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np


def _cupy() -> Any:
    try:
        import cupy
    except ImportError:
        return None
    try:
        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # noqa: BLE001 - no usable CUDA driver
        return None


def rule_table(cupy: Any) -> list[str]:
    """Every primitive with a CuPy implementation, compared with NumPy on one example."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    import adfun as ad
    import adfun.scipy  # noqa: F401 - registers scipy.special
    from adfun._engine.backend import implemented
    from adfun._engine.records import Params
    from adfun._engine.trace import call_primitive
    from adfun.numpy._declare import REGISTRY
    from adfun.numpy._examples import draw_example

    namespace = __import__("array_api_compat").array_namespace(cupy.zeros(1))
    failures: list[str] = []
    for name, public in sorted(REGISTRY.items()):
        primitive = public.primitive
        if primitive.nondiff or primitive.domain is None or not implemented(primitive, namespace):
            continue

        @settings(max_examples=1, database=None, suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def check(data: Any, primitive: Any = primitive, name: str = name) -> None:
            args, params = data.draw(
                st.composite(lambda draw: draw_example(draw, st, hnp, primitive))()
            )
            frozen = Params(params)
            floats = [
                i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
            ]
            if not floats:
                return

            def run(values: list) -> tuple:
                def applied(*diff: Any) -> Any:
                    full = list(values)
                    for position, value in zip(floats, diff):
                        full[position] = value
                    return call_primitive(primitive, tuple(full), frozen)

                primals = [values[i] for i in floats]
                out, vjp_fn = ad.vjp(applied, *primals)
                return out, vjp_fn(out * 0 + 1), ad.jvp(applied, primals, primals)[1]

            expected = run(list(args))
            if not isinstance(expected[0], np.ndarray) or expected[0].dtype.kind != "f":
                return
            moved = [cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
            got = run(moved)
            for what, mine, theirs in zip(("value", "vjp", "jvp"), got, expected):
                mine = [cupy.asnumpy(m) for m in (mine if isinstance(mine, tuple) else (mine,))]
                theirs = list(theirs) if isinstance(theirs, tuple) else [theirs]
                for m, t in zip(mine, theirs):
                    np.testing.assert_allclose(
                        m, t, rtol=1e-9, atol=1e-12, err_msg=f"{name} {what}"
                    )

        try:
            check()
        except NotImplementedError:
            pass  # a value-dependent case this backend refuses: never a wrong value
        except Exception as error:  # noqa: BLE001 - listed and reported
            failures.append(f"{name}: {type(error).__name__}: {str(error)[:200]}")
    return failures


def _median_ms(run: Callable[[], Any], sync: Callable[[], None], repeat: int = 7) -> float:
    run()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def workloads(cupy: Any) -> list[dict]:
    import adfun as ad
    import adfun.numpy as anp

    def elementwise(v: Any) -> Any:
        return anp.sum(anp.sin(v) ** 2 + anp.exp(-v) * anp.cos(v))

    def mlp_loss(params: Any, x: Any, y: Any) -> Any:
        hidden = anp.tanh(x @ params[0] + params[1])
        return anp.mean((hidden @ params[2] - y) ** 2)

    rows = []
    sync = cupy.cuda.Device().synchronize
    for size in (10**6, 10**7):
        host = np.random.default_rng(0).standard_normal(size)
        device = cupy.asarray(host)
        gradient = ad.grad(elementwise)
        rows.append(
            {
                "workload": f"elementwise grad, {size:.0e} elements",
                "numpy_ms": _median_ms(lambda g=gradient, h=host: g(h), lambda: None),
                "cupy_ms": _median_ms(lambda g=gradient, d=device: g(d), sync),
            }
        )
    rng = np.random.default_rng(1)
    host_params = [
        rng.standard_normal((784, 1024)) * 0.03,
        np.zeros(1024),
        rng.standard_normal((1024, 10)) * 0.03,
    ]
    host_x, host_y = rng.standard_normal((512, 784)), rng.standard_normal((512, 10))
    device_params = [cupy.asarray(p) for p in host_params]
    device_x, device_y = cupy.asarray(host_x), cupy.asarray(host_y)
    step = ad.value_and_grad(mlp_loss)
    rows.append(
        {
            "workload": "MLP value and gradient (512 x 784 -> 1024 -> 10)",
            "numpy_ms": _median_ms(lambda: step(host_params, host_x, host_y), lambda: None),
            "cupy_ms": _median_ms(lambda: step(device_params, device_x, device_y), sync),
        }
    )
    a_host = rng.standard_normal((2000, 2000)) / 50
    a_device = cupy.asarray(a_host)
    v_host = rng.standard_normal(2000)
    v_device = cupy.asarray(v_host)

    def hvp_host() -> Any:
        return ad.hvp(lambda y: anp.sum(anp.tanh(a_host @ y) ** 2))(v_host, v_host)

    def hvp_device() -> Any:
        return ad.hvp(lambda y: anp.sum(anp.tanh(a_device @ y) ** 2))(v_device, v_device)

    rows.append(
        {
            "workload": "Hessian-vector product (2000 x 2000)",
            "numpy_ms": _median_ms(hvp_host, lambda: None),
            "cupy_ms": _median_ms(hvp_device, sync),
        }
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the results as JSON to this path")
    options = parser.parse_args()
    cupy = _cupy()
    if cupy is None:
        print("gpu_check: CuPy with a CUDA GPU is not available here; nothing to check.")
        return 0
    failures = rule_table(cupy)
    rows = workloads(cupy)
    print(f"rule table on CuPy: {len(failures)} disagreement(s) with NumPy")
    for failure in failures:
        print("  " + failure)
    print(f"{'workload':55} {'NumPy ms':>10} {'CuPy ms':>10} {'speed-up':>9}")
    for row in rows:
        ratio = row["numpy_ms"] / row["cupy_ms"]
        print(f"{row['workload']:55} {row['numpy_ms']:10.2f} {row['cupy_ms']:10.2f} {ratio:8.1f}x")
    if options.json:
        with open(options.json, "w") as handle:
            json.dump({"failures": failures, "workloads": rows}, handle, indent=2)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
