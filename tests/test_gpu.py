"""The GPU: CuPy arrays in every transform and ``adfun.gpu`` contexts (issue 15).

The tests marked ``gpu`` run where CuPy reaches a CUDA GPU and skip cleanly elsewhere.
The rest check, on any machine, what a user without a GPU sees: the contexts, and a clear
error naming CuPy when an array is made on a GPU that cannot be reached.
"""

from __future__ import annotations

import numpy as np
import pytest

import adfun as ad
import adfun.numpy as anp
from adfun import nd


def _cupy_with_a_gpu():
    try:
        import cupy
    except ImportError:
        return None
    try:
        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # noqa: BLE001 - a CUDA driver error: no usable GPU
        return None


cupy = _cupy_with_a_gpu()
needs_gpu = pytest.mark.skipif(cupy is None, reason="needs CuPy and a CUDA GPU")


def test_gpu_contexts_print_and_compare_as_in_mxnet():
    assert repr(ad.gpu()) == "gpu(0)"
    assert repr(ad.gpu(1)) == "gpu(1)" and ad.gpu(device_id=1) == ad.gpu(1)
    assert ad.gpu(0) != ad.cpu() and hash(ad.gpu(0)) == hash(ad.gpu(0))
    with pytest.raises(ValueError, match=r"adfun\.gpu: device_id must be an int >= 0"):
        ad.gpu(-1)


@pytest.mark.skipif(cupy is not None, reason="this machine has a GPU")
def test_an_array_on_an_unreachable_gpu_names_cupy():
    with pytest.raises(
        RuntimeError,
        match=r"adfun\.nd\.array: gpu\(0\) needs CuPy|adfun\.nd\."
        r"array: gpu\(0\) is not available",
    ):
        nd.array([1.0, 2.0], ctx=ad.gpu(0))
    with pytest.raises(RuntimeError, match=r"NDArray\.as_in_context: gpu\(0\)"):
        nd.array([1.0]).as_in_context(ad.gpu(0))


def test_sparse_storage_refuses_a_gpu_context():
    with pytest.raises(
        NotImplementedError,
        match=r"adfun\.nd\.sparse\.zeros: sparse storage is "
        r"kept in host memory only",
    ):
        nd.sparse.zeros("csr", (2, 2), ctx=ad.gpu(0))


def test_cpu_context_methods_keep_numpy_arrays():
    x = nd.array([1.0, 2.0])
    assert x.context == ad.cpu() and x.as_in_context(ad.cpu()) is x
    y = x.copyto(ad.cpu())
    assert y is not x and y.context == ad.cpu()


@pytest.mark.gpu
@needs_gpu
def test_transforms_on_cupy_arrays_return_cupy_arrays_on_the_device():
    x = cupy.asarray([0.3, -1.2, 2.0])
    gradient = ad.grad(lambda v: anp.sum(anp.tanh(v) ** 2))(x)
    assert isinstance(gradient, cupy.ndarray) and gradient.device == x.device
    expected = ad.grad(lambda v: anp.sum(anp.tanh(v) ** 2))(cupy.asnumpy(x))
    np.testing.assert_allclose(cupy.asnumpy(gradient), expected, rtol=1e-12)
    hvp = ad.hvp(lambda v: anp.sum(anp.sin(v) * v))(x, cupy.ones(3))
    assert isinstance(hvp, cupy.ndarray)


@pytest.mark.gpu
@needs_gpu
def test_nd_arrays_move_between_cpu_and_gpu():
    x = nd.array([1.0, 2.0], ctx=ad.gpu(0))
    assert x.context == ad.gpu(0)
    back = x.as_in_context(ad.cpu())
    assert back.context == ad.cpu()
    np.testing.assert_allclose(back.asnumpy(), [1.0, 2.0])
