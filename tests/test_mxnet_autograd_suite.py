"""MXNet 1.9.1's own autograd unit tests, run against adfun through an import shim.

MXNet's ``tests/python/unittest/test_autograd.py`` (Apache-2.0) is not copied into this
repository: point the environment variable ``ADFUN_MXNET_TEST_AUTOGRAD`` at that file from
a checkout of apache/mxnet at tag 1.9.1 (or branch v1.x), e.g.::

    git -C mxnet show 1.9.1:tests/python/unittest/test_autograd.py > /tmp/test_autograd.py
    ADFUN_MXNET_TEST_AUTOGRAD=/tmp/test_autograd.py \
        python -m pytest tests/test_mxnet_autograd_suite.py

The file runs unchanged: its imports (``mxnet.ndarray``, ``mxnet.autograd``,
``mxnet.test_utils``, ``common``) resolve to the small modules built here, which map
them onto ``adfun.nd`` and ``adfun.autograd`` plus the few test helpers it uses
(``same``, ``assert_almost_equal``, ``rand_ndarray``, ...).  Each ``test_*`` function of
the file becomes one test here; one that needs an ``nd`` function adfun does not have
yet is skipped with the function's name as the reason.  Without the variable the whole
module is skipped.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pathlib
import sys
import types
from typing import Any

import numpy as np
import pytest

import adfun
from adfun import autograd, nd

SOURCE = os.environ.get("ADFUN_MXNET_TEST_AUTOGRAD")


def _same(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a, b))


def _assert_almost_equal(a: Any, b: Any, rtol: Any = None, atol: Any = None, **kwargs: Any) -> None:
    a = a.asnumpy() if isinstance(a, nd.NDArray) else a
    b = b.asnumpy() if isinstance(b, nd.NDArray) else b
    np.testing.assert_allclose(a, b, rtol=1e-5 if rtol is None else rtol, atol=atol or 1e-20)


def _rand_ndarray(
    shape: Any, stype: str = "default", density: Any = None, dtype: Any = None, **kwargs: Any
) -> Any:
    generator = np.random.default_rng(0)
    values = generator.uniform(size=shape).astype(dtype or np.float32)
    keep = generator.uniform(size=shape) < (0.5 if density is None else density)
    return nd.array(np.where(keep, values, 0), dtype=dtype).tostype(stype)


@contextlib.contextmanager
def _environment(*args: Any) -> Any:
    """MXNet's ``environment(name, value)`` / ``environment({name: value})``."""
    pairs = args[0] if len(args) == 1 else {args[0]: args[1]}
    saved = {name: os.environ.get(name) for name in pairs}
    os.environ.update({name: str(value) for name, value in pairs.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _discard_stderr() -> Any:
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        yield


def _with_seed(seed: Any = None) -> Any:
    def decorate(test: Any) -> Any:
        @functools.wraps(test)
        def run(*args: Any, **kwargs: Any) -> Any:
            adfun.random.seed(0 if seed is None else seed)
            np.random.seed(0 if seed is None else seed)
            return test(*args, **kwargs)

        return run

    return decorate


def _shim_modules() -> dict:
    """The modules MXNet's test file imports, built on adfun."""
    mxnet = types.ModuleType("mxnet")
    mxnet.nd = mxnet.ndarray = nd  # type: ignore[attr-defined]
    mxnet.autograd = autograd  # type: ignore[attr-defined]
    mxnet.cpu = adfun.cpu  # type: ignore[attr-defined]
    mxnet.random = adfun.random  # type: ignore[attr-defined]

    ndarray = types.ModuleType("mxnet.ndarray")
    ndarray.__dict__.update(
        {name: getattr(nd, name) for name in dir(nd) if not name.startswith("__")}
    )
    ndarray.NDArray = nd.NDArray  # type: ignore[attr-defined]

    mx_autograd = types.ModuleType("mxnet.autograd")
    # MXNet's autograd module has no __all__: a star import also brings NDArray
    exported = {name: getattr(autograd, name) for name in autograd.__all__}
    mx_autograd.__dict__.update(exported, NDArray=nd.NDArray)

    test_utils = types.ModuleType("mxnet.test_utils")
    test_utils.__dict__.update(
        mx=mxnet,
        np=np,
        same=_same,
        assert_almost_equal=_assert_almost_equal,
        rand_ndarray=_rand_ndarray,
        environment=_environment,
        discard_stderr=_discard_stderr,
        default_context=adfun.cpu,
    )
    common = types.ModuleType("common")
    common.__dict__.update(
        setup_module=lambda: None,
        teardown=lambda: None,
        with_seed=_with_seed,
        xfail_when_nonstandard_decimal_separator=lambda test: test,
    )
    return {
        "mxnet": mxnet,
        "mxnet.ndarray": ndarray,
        "mxnet.autograd": mx_autograd,
        "mxnet.test_utils": test_utils,
        "common": common,
    }


def _load() -> dict:
    if not SOURCE:
        return {}
    code = pathlib.Path(SOURCE).read_text()
    saved = {name: sys.modules.get(name) for name in _shim_modules()}
    sys.modules.update(_shim_modules())
    try:
        namespace: dict = {"__name__": "mxnet_test_autograd"}
        exec(compile(code, SOURCE, "exec"), namespace)  # noqa: S102 - the file under test
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return namespace


NAMESPACE = _load()
TESTS = sorted(name for name in NAMESPACE if name.startswith("test_"))

pytestmark = pytest.mark.skipif(
    not SOURCE, reason="set ADFUN_MXNET_TEST_AUTOGRAD to MXNet 1.9.1's test_autograd.py"
)


@pytest.mark.parametrize("name", TESTS or ["test_autograd"])
def test_mxnet_autograd_unit_test(name: str) -> None:
    try:
        NAMESPACE[name]()
    except AttributeError as error:
        missing = getattr(error, "name", None)
        if getattr(error, "obj", None) is nd and missing:
            pytest.skip(f"needs adfun.nd.{missing} (issue 20's operator list)")
        raise
