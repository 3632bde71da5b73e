"""Dask arrays (issue 16): the rule table against NumPy, laziness, chunks, the supported
list, the refusals, and a real ``dask.distributed`` cluster.

Every transform call below runs under :func:`no_compute`, a Dask scheduler that raises if
anything is computed: tracing and the backward pass must only build a lazy graph.  The
numbers are then computed (with the synchronous scheduler, or on a ``LocalCluster`` the
tests start and stop themselves on 127.0.0.1) and compared with NumPy's.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun as ad
import adfun.numpy as anp
from adfun._engine.backend import implemented
from adfun._engine.records import Params
from adfun._engine.trace import call_primitive
from adfun.numpy._declare import COMPOSITES, REGISTRY
from adfun.numpy._examples import draw_example

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
compat_dask = pytest.importorskip("array_api_compat.dask.array")

import adfun.scipy  # noqa: E402,F401 - registers the scipy primitives
from adfun.scipy.special import expit, logsumexp  # noqa: E402

DASK_ARRAY = da.Array
DIFFERENTIABLE = sorted(
    name
    for name, fun in REGISTRY.items()
    if not fun.primitive.nondiff and fun.primitive.domain is not None
)
COMPOSITE_NAMES = sorted(COMPOSITES)
#: The primitives the Dask backend computes (it may still refuse a chunking).
SUPPORTED = frozenset(
    name for name in DIFFERENTIABLE if implemented(REGISTRY[name].primitive, compat_dask)
)


class ComputedError(AssertionError):
    """Something was computed during a transform call."""


def _refuse(*args, **kwargs):
    raise ComputedError("a Dask graph was computed during the transform call")


@contextlib.contextmanager
def no_compute():
    """Every Dask computation in the block raises :class:`ComputedError`."""
    with dask.config.set(scheduler=_refuse):
        yield


def compute(*values):
    return dask.compute(*values, scheduler="sync")


def to_dask(value, rows_only=False):
    """NumPy float arrays as Dask arrays split in (up to) two chunks along every axis
    (along the first only with ``rows_only``: Dask's tall-and-skinny decompositions)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        chunks = tuple(
            max(1, (size + 1) // 2) if axis == 0 or not rows_only else size
            for axis, size in enumerate(value.shape)
        )
        return da.from_array(value, chunks=chunks)
    if isinstance(value, (list, tuple)):
        return type(value)(to_dask(item, rows_only) for item in value)
    return value


def from_dask(value):
    if isinstance(value, (list, tuple)):
        return type(value)(from_dask(item) for item in value)
    return value


def assert_same(dask_value, numpy_value, what):
    if isinstance(numpy_value, (list, tuple)):
        assert len(dask_value) == len(numpy_value)
        for d, n in zip(dask_value, numpy_value):
            assert_same(d, n, what)
        return
    if isinstance(numpy_value, (np.ndarray, np.generic)):
        assert isinstance(dask_value, DASK_ARRAY), (
            f"{what}: got {type(dask_value).__name__}, not a Dask array"
        )
    (computed,) = compute(dask_value)
    assert np.shape(computed) == np.shape(numpy_value), what
    np.testing.assert_allclose(computed, numpy_value, rtol=1e-8, atol=1e-11, err_msg=what)


#: Dask decomposes these for matrices chunked along the rows only.
TALL_AND_SKINNY = frozenset(("linalg.qr", "linalg.svd", "linalg.svdvals", "linalg.pinv"))


def _compare(name, fun, args, positions, supported):
    def on(values):
        def restricted(*diff_args):
            full = list(values)
            for position, value in zip(positions, diff_args):
                full[position] = value
            return fun(*full)

        return restricted, [values[position] for position in positions]

    numpy_fun, numpy_primals = on(list(args))
    numpy_out, numpy_vjp = ad.vjp(numpy_fun, *numpy_primals)
    if not isinstance(numpy_out, np.ndarray) or numpy_out.dtype.kind != "f":
        return
    seed = np.random.default_rng(0)
    cotangent = seed.standard_normal(numpy_out.shape)
    tangents = [seed.standard_normal(np.shape(p)).astype(p.dtype) for p in numpy_primals]
    numpy_cotangents = numpy_vjp(cotangent)
    _, numpy_tangent_out = ad.jvp(numpy_fun, numpy_primals, tangents)

    rows_only = name in TALL_AND_SKINNY
    dask_fun, dask_primals = on([to_dask(arg, rows_only) for arg in args])
    try:
        with no_compute():
            dask_out, dask_vjp = ad.vjp(dask_fun, *dask_primals)
            dask_cotangents = dask_vjp(to_dask(cotangent))
            _, dask_tangent_out = ad.jvp(dask_fun, dask_primals, to_dask(tangents))
    except NotImplementedError as error:
        message = str(error)
        assert "dask" in message, message
        # A supported primitive may refuse a chunking Dask cannot compute, or a case
        # that depends on the values; never a wrong number.
        assert not supported or "here:" in message or "depends on the values" in message, (
            f"{name}: {message}"
        )
        return
    assert_same(dask_out, numpy_out, f"{name}: value")
    assert_same(dask_cotangents, numpy_cotangents, f"{name}: vjp")
    assert_same(dask_tangent_out, numpy_tangent_out, f"{name}: jvp")
    for gradient, primal in zip(dask_cotangents, dask_primals):
        if isinstance(primal, DASK_ARRAY):
            assert gradient.chunks == primal.chunks, f"{name}: the gradient's chunks"


def _float_positions(primitive, args):
    rules = primitive.vjps
    return [
        position
        for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray)
        and arg.dtype.kind == "f"
        and (position >= len(rules) or rules[position] is not None)
    ]


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@settings(max_examples=8)
@given(data=st.data())
def test_primitives_on_dask(name, data):
    """Each primitive computes NumPy's value, VJP and JVP on chunked Dask arrays without
    computing anything during the transform call, gradients chunked like their
    primals; or refuses with ``NotImplementedError`` naming Dask."""
    primitive = REGISTRY[name].primitive
    args, params = data.draw(
        st.composite(lambda draw: draw_example(draw, st, hnp, primitive))(), label="example"
    )
    positions = _float_positions(primitive, args)
    if not positions:
        return
    if name == "linalg.eigh":
        params = {**params, "lower": True}  # LAPACK's UPLO='U' signs (see test_backends)
    frozen = Params(params)

    def fun(*values):
        return call_primitive(primitive, tuple(values), frozen)

    if name in SIGN_FREE:
        if np.ndim(args[0]) != 2:
            return  # dask.array.linalg decomposes one matrix at a time
        fun = SIGN_FREE[name]
    _compare(name, fun, args, positions, name in SUPPORTED)


def _qr_without_signs(a):
    q, r = anp.linalg.qr(a)
    k = r.shape[0]
    signs = anp.sign(anp.sum(r[:, :k] * anp.eye(k), axis=1))
    return anp.concatenate([anp.reshape(q * signs, (-1,)), anp.reshape(r * signs[:, None], (-1,))])


def _svd_without_signs(a):
    u, s, vh = anp.linalg.svd(a, full_matrices=False)
    return anp.concatenate([s, anp.reshape(anp.einsum("ik,kj->kij", u, vh), (-1,))])


#: Decompositions whose factors' signs are a library's choice (Dask's tall-and-skinny QR
#: and LAPACK choose differently): compared through sign-free functions of the factors.
SIGN_FREE = {"linalg.qr": _qr_without_signs, "linalg.svd": _svd_without_signs}


@pytest.mark.parametrize("name", COMPOSITE_NAMES)
@settings(max_examples=5)
@given(data=st.data())
def test_composites_on_dask(name, data):
    composite = COMPOSITES[name]
    args, kwargs = data.draw(
        st.composite(lambda draw: composite.domain.examples(draw, st, hnp))(), label="example"
    )
    positions = [
        position
        for position, arg in enumerate(args)
        if isinstance(arg, np.ndarray) and arg.dtype.kind == "f"
    ]
    if not positions:
        return
    _compare(name, lambda *values: composite(*values, **kwargs), list(args), positions, False)


# --- the supported list, on larger chunked data -------------------------------------------
RNG = np.random.default_rng(0)
X_NP = RNG.standard_normal((60, 4))
Y_NP = (RNG.random(60) > 0.5).astype(float)
W_NP = RNG.standard_normal(4)
A_NP = RNG.standard_normal((30, 30))
X = da.from_array(X_NP, chunks=(15, 4))
Y = da.from_array(Y_NP, chunks=15)
A = da.from_array(A_NP, chunks=(10, 10))


def logistic_loss(w, X, y):
    z = X @ w
    return anp.sum(anp.logaddexp(0.0, z) - y * z) / y.shape[0]


def log_softmax_loss(w, X):
    z = X * w
    shifted = z - anp.max(z, axis=1, keepdims=True)
    return -anp.mean(shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True)))


SUPPORTED_CASES = {
    "logistic regression (NumPy parameter)": (logistic_loss, (W_NP, X, Y)),
    "elementwise and broadcasting": (
        lambda X: anp.sum(anp.sin(X) * anp.exp(-(X**2)) / (1.0 + X[:1] ** 2)),
        (X,),
    ),
    "reductions with axis and keepdims": (
        lambda X: (
            anp.sum(anp.mean(X, axis=0, keepdims=True) * anp.max(X, axis=1, keepdims=True))
            + anp.sum(anp.min(X, axis=1) * anp.prod(X, axis=1))
            + anp.std(X, axis=0).sum()
        ),
        (X,),
    ),
    "matmul, dot, tensordot, einsum": (
        lambda w, X: (
            anp.sum((X @ w) ** 2)
            + anp.sum(anp.dot(X, w))
            + anp.sum(anp.tensordot(X, w, axes=1) ** 3)
            + anp.sum(anp.einsum("ij,j->i", X, w) ** 2)
        ),
        (da.from_array(W_NP, chunks=4), X),
    ),
    "reshape and transpose": (
        lambda X: (
            anp.sum(anp.reshape(X, (30, 2, 4)) ** 2 * anp.arange(4.0))
            + anp.sum(anp.transpose(X) @ X)
        ),
        (X,),
    ),
    "indexing": (
        lambda X: (
            anp.sum(X[5:40:3, 1] ** 2)
            + anp.sum(X[np.array([0, 3, 3, 17, 59])] ** 3)
            + anp.sum(X[:, None, 2])
            + anp.sum(X[..., np.array([1, 1, 0])])
            + anp.sum(X[np.array([[0, 1], [1, 2]])])
        ),
        (X,),
    ),
    "where and clip": (
        lambda X: anp.sum(anp.where(X > 0, X**2, -X)) + anp.sum(anp.clip(X, -0.5, 0.5) ** 2),
        (X,),
    ),
    "logsumexp-style code": (log_softmax_loss, (da.from_array(W_NP, chunks=2), X)),
    "scipy.special.logsumexp and expit": (
        lambda X: anp.sum(logsumexp(X, axis=1)) + anp.sum(expit(X)),
        (X,),
    ),
    "linalg.qr (tall and skinny)": (lambda X: anp.sum(anp.linalg.qr(X)[1] ** 2), (X,)),
    "linalg.svd (tall and skinny)": (
        lambda X: anp.sum(anp.linalg.svd(X, full_matrices=False)[1]),
        (X,),
    ),
    "linalg.cholesky": (
        lambda A: anp.sum(anp.linalg.cholesky(A.T @ A + 30.0 * anp.eye(30))),
        (A,),
    ),
    "linalg.solve": (
        lambda A, b: anp.sum(anp.linalg.solve(A + 10.0 * anp.eye(30), b) ** 2),
        (A, da.from_array(RNG.standard_normal(30), chunks=10)),
    ),
    "linalg.lstsq": (
        lambda X, y: anp.sum(anp.linalg.lstsq(X, y, rcond=None)[0] ** 2),
        (X, Y),
    ),
    "linalg.inv and norm": (
        lambda A: anp.sum(anp.linalg.inv(A + 10.0 * anp.eye(30))) + anp.linalg.norm(A),
        (A,),
    ),
    "concatenate, stack, cumsum": (
        lambda X: (
            anp.sum(anp.concatenate([X, X**2], axis=1))
            + anp.sum(anp.stack([X, X]) ** 2)
            + anp.sum(anp.cumsum(X, axis=0) ** 2)
        ),
        (X,),
    ),
}


def _numpy_args(args):
    return tuple(np.asarray(compute(a)[0]) if isinstance(a, DASK_ARRAY) else a for a in args)


@pytest.mark.parametrize("case", sorted(SUPPORTED_CASES))
def test_supported_functions(case):
    fun, args = SUPPORTED_CASES[case]
    argnums = tuple(range(len(args)))
    with no_compute():
        value, gradients = ad.value_and_grad(fun, argnums=argnums)(*args)
    expected_value, expected_gradients = ad.value_and_grad(fun, argnums=argnums)(*_numpy_args(args))
    assert isinstance(value, DASK_ARRAY)
    assert all(isinstance(g, DASK_ARRAY) for g in gradients)
    for gradient, arg in zip(gradients, args):
        if isinstance(arg, DASK_ARRAY):
            assert gradient.chunks == arg.chunks
    computed = compute(value, *gradients)
    np.testing.assert_allclose(computed[0], expected_value, rtol=1e-9)
    for got, expected in zip(computed[1:], expected_gradients):
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-10)


# --- transforms ---------------------------------------------------------------------------
def test_every_transform_accepts_dask_arrays():
    w = da.from_array(W_NP, chunks=2)
    v = da.from_array(np.ones(4), chunks=2)
    with no_compute():
        gradient = ad.grad(logistic_loss)(w, X, Y)
        _, vjp_fn = ad.vjp(logistic_loss, w, X, Y)
        (cotangent,) = [vjp_fn(da.ones((), chunks=()))[0]]
        _, tangent = ad.jvp(lambda w: logistic_loss(w, X, Y), (w,), (v,))
        hessian = ad.hessian(logistic_loss)(w, X, Y)
        product = ad.hvp(lambda w: logistic_loss(w, X, Y))(w, v)
        staged = ad.jit(ad.grad(logistic_loss))
        jitted = staged(w, X, Y)
        again = staged(w * 2.0, X, Y)
    for result in (gradient, cotangent, tangent, hessian, product, jitted, again):
        assert isinstance(result, DASK_ARRAY)
    assert gradient.chunks == w.chunks
    expected_gradient = ad.grad(logistic_loss)(W_NP, X_NP, Y_NP)
    expected_hessian = ad.hessian(logistic_loss)(W_NP, X_NP, Y_NP)
    got = compute(gradient, cotangent, tangent, hessian, product, jitted, again)
    np.testing.assert_allclose(got[0], expected_gradient, rtol=1e-9)
    np.testing.assert_allclose(got[1], expected_gradient, rtol=1e-9)
    np.testing.assert_allclose(got[2], expected_gradient @ np.ones(4), rtol=1e-9)
    np.testing.assert_allclose(got[3], expected_hessian, rtol=1e-9)
    np.testing.assert_allclose(got[4], expected_hessian @ np.ones(4), rtol=1e-9)
    np.testing.assert_allclose(got[5], expected_gradient, rtol=1e-9)
    np.testing.assert_allclose(got[6], ad.grad(logistic_loss)(2.0 * W_NP, X_NP, Y_NP), rtol=1e-9)


def test_numpy_parameters_with_dask_data_give_dask_results():
    with no_compute():
        value, gradient = ad.value_and_grad(logistic_loss)(W_NP, X, Y)
        # A part that touches no Dask array is still returned as Dask.
        constant = ad.grad(lambda w, X: anp.sum(w**2) + anp.sum(X))(W_NP, X)
    assert isinstance(value, DASK_ARRAY) and isinstance(gradient, DASK_ARRAY)
    assert isinstance(constant, DASK_ARRAY)
    np.testing.assert_allclose(compute(constant)[0], 2.0 * W_NP)


def test_numpy_functions_on_plain_dask_arrays_stay_lazy():
    with no_compute():
        result = anp.sum(anp.exp(X) * W_NP, axis=0)
    assert isinstance(result, DASK_ARRAY)
    np.testing.assert_allclose(compute(result)[0], np.sum(np.exp(X_NP) * W_NP, axis=0))


def test_reductions_and_their_vjps_keep_the_chunks():
    big = da.ones((400, 6), chunks=(50, 3))
    with no_compute():
        gradient = ad.grad(lambda x: anp.sum(x) + anp.sum(anp.mean(x, axis=0) ** 2))(big)
    assert gradient.chunks == big.chunks
    graph = dict(gradient.__dask_graph__())
    assert not any("rechunk" in str(key[0] if isinstance(key, tuple) else key) for key in graph)
    assert max(c for c in gradient.chunks[0]) == 50


# --- refusals -----------------------------------------------------------------------------
def test_unsupported_function_names_it_and_dask():
    with pytest.raises(NotImplementedError, match=r"adfun\.numpy\.linalg\.det .*dask"):
        ad.grad(lambda A: anp.linalg.det(A))(A)


def test_value_dependent_shape_is_refused():
    with pytest.raises(NotImplementedError, match=r"getitem.*dask arrays"):
        ad.grad(lambda X: anp.sum(X[X > 0]))(X)


def test_reshape_dask_cannot_do_is_refused_with_advice():
    with pytest.raises(NotImplementedError, match=r"adfun\.numpy\.reshape .*dask.*rechunk"):
        ad.grad(lambda X: anp.sum(anp.reshape(X, (40, 6)) ** 2))(
            da.from_array(np.ones((60, 4)), chunks=(15, 2))
        )


def test_linalg_chunking_dask_refuses_is_not_implemented():
    square = da.from_array(A_NP, chunks=(10, 10))
    with pytest.raises(NotImplementedError, match=r"adfun\.numpy\.linalg\.qr .*dask.*tall"):
        ad.grad(lambda A: anp.sum(anp.linalg.qr(A)[1]))(square)


def test_two_index_arrays_are_refused():
    with pytest.raises(NotImplementedError, match=r"getitem .*dask.*one integer"):
        ad.grad(lambda X: anp.sum(X[np.array([0, 1]), np.array([1, 2])]))(X)


def test_other_libraries_still_refuse_numpy_arrays():
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=r"mixed \(numpy and array_api_strict\)"):
        ad.grad(logistic_loss)(W_NP, strict.asarray(X_NP), strict.asarray(Y_NP))


def test_dask_and_another_library_are_refused():
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=r"two different libraries were mixed"):
        ad.grad(logistic_loss)(strict.asarray(W_NP), X, Y)


# --- on a dask.distributed cluster ----------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit="1GiB",
        silence_logs=50,
    )
    client = distributed.Client(cluster, timeout="60s")
    try:
        yield client
    finally:
        client.close(timeout=30)
        cluster.close(timeout=30)


def test_gradient_on_a_local_cluster(client):
    data = da.random.default_rng(1).standard_normal((20_000, 5), chunks=(2_500, 5))
    labels = (data[:, 0] + 0.5 * data[:, 1] > 0).astype(float)
    w = np.full(5, 0.1)
    with no_compute():
        value, gradient = ad.value_and_grad(logistic_loss)(w, data, labels)
    value, gradient = client.compute([value, gradient], sync=True)
    local_data, local_labels = dask.compute(data, labels, scheduler="sync")
    expected_value, expected_gradient = ad.value_and_grad(logistic_loss)(
        w, local_data, local_labels
    )
    np.testing.assert_allclose(value, expected_value, rtol=1e-10)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-9)


def test_no_data_sized_numpy_array_is_made_on_the_client(monkeypatch):
    """The seed and the rules' broadcasts over the data compute in Dask: no NumPy array
    the size of the data is built on the client and copied into the graph."""
    from adfun.numpy import _dask

    sizes = []
    original = _dask.DaskHooks.from_numpy

    def spy(self, backend, value):
        sizes.append(np.size(value))
        return original(self, backend, value)

    monkeypatch.setattr(_dask.DaskHooks, "from_numpy", spy)
    rows = da.ones((10_000, 3), chunks=(1_000, 3))
    labels = da.ones(10_000, chunks=1_000)
    with no_compute():
        ad.value_and_grad(logistic_loss)(np.zeros(3), rows, labels)
        ad.grad(lambda x: anp.sum(x**2) + anp.mean(anp.max(x, axis=1)))(rows)
    assert max(sizes, default=0) <= 3


@pytest.mark.slow
def test_the_example_fits_data_bigger_than_a_worker():
    """examples/dask_logistic_regression.py, smaller: 269 MB of data, workers of 250 MiB."""
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("distributed")
    pytest.importorskip("scipy")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [
            sys.executable,
            str(root / "examples" / "dask_logistic_regression.py"),
            "--rows=1100000",
            "--memory-limit=250MiB",
            "--subsample=20000",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env={**__import__("os").environ, "PYTHONPATH": str(root)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Dask and NumPy agree" in done.stdout
