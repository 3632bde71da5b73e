"""``jacrev``, ``jacfwd``, ``jacobian``, ``hessian`` and ``hvp``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import adfun as ad
import adfun.numpy as anp
from adfun.testing import numerical_jacobian
from adfun.testing.strategies import programs


def _one_array(program_and_args):
    """A random program of one argument as ``(fun, x)``: ``x`` an array, and the results
    of a program with several joined into one vector (``concatenate`` of their ``ravel``)."""
    fun, (x,) = program_and_args
    x = np.asarray(x, dtype=np.float64)
    if not isinstance(fun(x), tuple):
        return fun, x

    def joined(y):
        return anp.concatenate([anp.ravel(value) for value in fun(y)])

    return joined, x


def mixed(x):
    """A 2x3 -> (3, 2) function mixing elements."""
    return anp.tanh(x.T * anp.sum(x, axis=1)) + anp.sin(x).T ** 2


X = np.array([[0.3, -1.2, 0.8], [1.1, 0.4, -0.5]])


# --- Jacobians --------------------------------------------------------------------------


@pytest.mark.parametrize("transform", [ad.jacrev, ad.jacfwd, ad.jacobian])
def test_jacobian_shape_and_values(transform):
    jac = transform(mixed)(X)
    assert jac.shape == (3, 2, 2, 3)
    np.testing.assert_allclose(jac, numerical_jacobian(mixed, X), rtol=1e-6, atol=1e-8)


@given(program=programs(max_ops=8).map(_one_array))
def test_jacfwd_equals_jacrev_on_random_programs(program):
    fun, x = program
    forward = ad.jacfwd(fun)(x)
    reverse = ad.jacrev(fun)(x)
    assert forward.shape == reverse.shape == np.shape(fun(x)) + x.shape
    np.testing.assert_allclose(forward, reverse, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(reverse, numerical_jacobian(fun, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("transform", [ad.jacrev, ad.jacfwd])
def test_jacobian_of_scalars_keeps_scalar_types(transform):
    assert np.isclose(transform(anp.sin)(0.5), np.cos(0.5))
    assert np.ndim(transform(anp.sin)(0.5)) == 0
    jac = transform(lambda x: anp.stack([x, 2 * x]))(1.0)
    np.testing.assert_allclose(jac, [1.0, 2.0])
    jac = transform(anp.sum)(np.ones(3))
    np.testing.assert_allclose(jac, np.ones(3))


def test_jacobian_dtypes():
    x = np.array([1.0, 2.0], dtype=np.float32)
    assert ad.jacrev(anp.sin)(x).dtype == np.float32
    assert ad.jacfwd(anp.sin)(x).dtype == np.float32


@pytest.mark.parametrize("transform", [ad.jacrev, ad.jacfwd])
def test_jacobian_with_argnums_and_pytrees(transform):
    def f(params, x, label):
        assert label == "not differentiated"
        return {"y": params["w"] * x, "s": (anp.sum(x) * params["b"],)}

    params = {"w": np.array([1.0, 2.0]), "b": 3.0}
    x = np.array([0.5, -1.0])
    jac = transform(f, argnums=(0, 1))(params, x, "not differentiated")
    assert set(jac) == {"y", "s"}
    d_params, d_x = jac["y"]
    np.testing.assert_allclose(d_params["w"], np.diag(x))
    np.testing.assert_allclose(d_params["b"], np.zeros(2))
    np.testing.assert_allclose(d_x, np.diag(params["w"]))
    d_params_s, d_x_s = jac["s"][0]
    np.testing.assert_allclose(d_params_s["w"], np.zeros(2))
    assert np.isclose(d_params_s["b"], np.sum(x))
    np.testing.assert_allclose(d_x_s, [3.0, 3.0])
    single = transform(f, argnums=1)(params, x, "not differentiated")
    np.testing.assert_allclose(single["y"], np.diag(params["w"]))


@pytest.mark.parametrize("transform", [ad.jacrev, ad.jacfwd])
def test_jacobian_has_aux(transform):
    jac, aux = transform(lambda x: (x * 2.0, "aux"), has_aux=True)(np.ones(2))
    np.testing.assert_allclose(jac, 2 * np.eye(2))
    assert aux == "aux"


@pytest.mark.parametrize("transform", [ad.jacrev, ad.jacfwd])
def test_jacobian_of_constant_and_empty_outputs(transform):
    np.testing.assert_array_equal(transform(lambda x: np.ones(2))(np.ones(3)), np.zeros((2, 3)))
    assert transform(lambda x: x * 2.0)(np.zeros(0)).shape == (0, 0)


# --- Hessians ---------------------------------------------------------------------------


def scalar_fun(x):
    return anp.sum(anp.tanh(x) ** 2 * anp.sin(x[::-1])) + anp.sum(x) ** 3 / 10


@given(x=st.lists(st.floats(-2, 2), min_size=1, max_size=5).map(np.array))
def test_hessian_is_symmetric_and_matches_differences_of_the_gradient(x):
    hess = ad.hessian(scalar_fun)(x)
    assert hess.shape == x.shape + x.shape
    np.testing.assert_allclose(hess, hess.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        hess, numerical_jacobian(ad.grad(scalar_fun), x), rtol=1e-5, atol=1e-6
    )
    for other in (
        ad.jacrev(ad.jacrev(scalar_fun)),
        ad.jacfwd(ad.jacfwd(scalar_fun)),
        ad.jacrev(ad.jacfwd(scalar_fun)),
    ):
        np.testing.assert_allclose(other(x), hess, rtol=1e-10, atol=1e-12)


def test_hessian_of_matrix_argument_and_argnums():
    hess = ad.hessian(lambda a: anp.sum(a**3))(X)
    assert hess.shape == X.shape + X.shape
    np.testing.assert_allclose(hess.reshape(6, 6), np.diag(6 * X.ravel()))
    blocks = ad.hessian(lambda x, y: anp.sum(x * x * y), argnums=(0, 1))(np.ones(2), 3.0)
    np.testing.assert_allclose(blocks[0][0], 6 * np.eye(2))
    np.testing.assert_allclose(blocks[0][1], [2.0, 2.0])
    np.testing.assert_allclose(blocks[1][0], [2.0, 2.0])
    assert blocks[1][1] == 0.0 and np.ndim(blocks[1][1]) == 0


def test_hessian_has_aux():
    hess, aux = ad.hessian(lambda x: (anp.sum(x**3), {"n": 3}), has_aux=True)(np.ones(2))
    np.testing.assert_allclose(hess, 6 * np.eye(2))
    assert aux == {"n": 3}


def test_hvp_equals_hessian_times_vector():
    x = np.array([0.3, -1.2, 0.8, 2.0])
    v = np.array([1.0, 0.5, -2.0, 0.25])
    np.testing.assert_allclose(ad.hvp(scalar_fun)(x, v), ad.hessian(scalar_fun)(x) @ v, rtol=1e-12)
    hess = ad.hessian(lambda a: anp.sum(anp.sin(a) * a[0, 0]))(X)
    v = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(
        ad.hvp(lambda a: anp.sum(anp.sin(a) * a[0, 0]))(X, v), np.tensordot(hess, v, 2), rtol=1e-12
    )


def test_hvp_on_pytrees():
    def f(p):
        return anp.sum(p["a"] ** 2 * p["b"])

    p = {"a": np.array([1.0, 2.0]), "b": 3.0}
    v = {"a": np.array([1.0, 0.0]), "b": 1.0}
    result = ad.hvp(f)(p, v)
    np.testing.assert_allclose(result["a"], [2 * 3.0 + 2 * 1.0, 2 * 2.0])
    assert np.isclose(result["b"], 2 * 1.0)


# --- hvp's skipped last step ---------------------------------------------------------------
# Where x enters through a product with a constant (A @ x, x @ W, dot, tensordot), hvp
# applies the product's transpose to the derivative of its cotangent instead of
# differentiating the gradient's last step; these cases check that path in particular.

A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def _tanh_loss(x):
    return anp.sum(anp.tanh(A @ x) ** 2)


def _hvp_by_hand(x, v):
    t = np.tanh(A @ x)
    return A.T @ (2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t) * (A @ v))


@pytest.mark.parametrize(
    "fun",
    [
        _tanh_loss,
        lambda x: anp.sum(anp.tanh(x @ A.T) ** 2),
        lambda x: anp.sum(anp.tanh(anp.dot(A, x)) ** 2),
        lambda x: anp.sum(anp.tanh(anp.tensordot(A, x, 1)) ** 2),
    ],
    ids=["matmul", "matmul-right", "dot", "tensordot"],
)
def test_hvp_through_a_constant_product_matches_the_closed_form(fun):
    x, v = np.array([0.3, -0.4, 0.9]), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(ad.hvp(fun)(x, v), _hvp_by_hand(x, v), rtol=1e-12)
    np.testing.assert_allclose(ad.hvp(fun)(x, v), ad.hessian(fun)(x) @ v, rtol=1e-12)


def test_hvp_computes_three_matrix_products_as_by_hand_not_four(monkeypatch):
    # A @ x, A @ v and A.T @ (...): the gradient's own A.T @ g is never computed.
    from adfun._engine.records import OPERATIONS

    primitive = OPERATIONS["matmul"].primitive
    impl = primitive.impl
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return impl(*args, **kwargs)

    x, v = np.array([0.3, -0.4, 0.9]), np.array([1.0, -2.0, 0.5])
    monkeypatch.setattr(np, "matmul", counting)  # products of untraced arrays
    object.__setattr__(primitive, "impl", counting)  # products recorded on a trace
    try:
        result = ad.hvp(_tanh_loss)(x, v)
    finally:
        object.__setattr__(primitive, "impl", impl)
    assert len(calls) == 3
    np.testing.assert_allclose(result, _hvp_by_hand(x, v), rtol=1e-12)


def test_a_reduction_seed_of_ones_is_not_multiplied_in():
    x, v = np.array([0.3, -0.4, 0.9]), np.array([1.0, -2.0, 0.5])
    graph = ad.trace(ad.hvp(_tanh_loss))(x, v)
    ones = [
        node
        for node in graph.nodes
        if node.primitive.name == "multiply"
        and any(isinstance(arg, np.ndarray) and arg.ndim and (arg == 1).all() for arg in node.args)
    ]
    assert ones == []
    np.testing.assert_allclose(graph(x, v), _hvp_by_hand(x, v), rtol=1e-12)
    gradient = ad.grad(lambda y: anp.sum(y**2))(np.array([1.0, -2.0], np.float32))
    assert gradient.dtype == np.float32 and gradient.tolist() == [2.0, -4.0]
    empty = ad.grad(lambda y: anp.sum(anp.sin(y)))(np.zeros((3, 0)))  # a seed of no ones
    assert empty.shape == (3, 0)


def test_hvp_mixes_skipped_and_ordinary_steps_into_one_input():
    def f(x):  # x enters through A @ x and also directly
        return anp.sum(anp.sin(A @ x)) * anp.sum(x**2) + anp.sum(x @ (A.T @ A) * x)

    x, v = np.array([0.3, -0.4, 0.9]), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(ad.hvp(f)(x, v), ad.hessian(f)(x) @ v, rtol=1e-11)


def test_hvp_skips_the_last_step_in_pytrees_and_keeps_float32():
    def f(p):
        return anp.sum(anp.tanh(p["w"] @ B) ** 2) + anp.sum(p["b"] ** 3) * anp.sum(p["w"])

    B = np.array([[1.0, -0.5], [0.25, 2.0]], np.float32)
    p = {"w": np.array([[0.1, -0.2], [0.3, 0.4]], np.float32), "b": np.float32(0.7)}
    v = {"w": np.array([[1.0, 0.0], [-1.0, 2.0]], np.float32), "b": np.float32(-1.0)}
    result = ad.hvp(f)(p, v)
    assert result["w"].dtype == np.float32 and result["b"].dtype == np.float32
    p64 = {"w": p["w"].astype(float), "b": np.float64(p["b"])}
    v64 = {"w": v["w"].astype(float), "b": np.float64(v["b"])}
    expected = ad.jvp(
        lambda w, b: ad.grad(lambda q: f(q))({"w": w, "b": b}),
        (p64["w"], p64["b"]),
        (v64["w"], v64["b"]),
    )[1]
    np.testing.assert_allclose(result["w"], expected["w"], rtol=1e-5)
    np.testing.assert_allclose(result["b"], expected["b"], rtol=1e-5)


def test_hvp_of_a_linear_function_is_zero():
    x, v = np.array([0.3, -0.4, 0.9]), np.ones(3)
    result = ad.hvp(lambda y: anp.sum(A @ y))(x, v)
    np.testing.assert_array_equal(result, np.zeros(3))


def test_hvp_differentiates_through_the_constant_of_a_skipped_step():
    # The matrix is constant for hvp's own traces, but traced by an enclosing grad.
    x, v = np.array([0.3, -0.4, 0.9]), np.array([1.0, -2.0, 0.5])

    def outer(matrix):
        return anp.sum(ad.hvp(lambda y: anp.sum(anp.tanh(matrix @ y) ** 2))(x, v))

    def by_hand(matrix):
        t = np.tanh(matrix @ x)
        return np.sum(matrix.T @ (2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t) * (matrix @ v)))

    np.testing.assert_allclose(ad.grad(outer)(A), numerical_jacobian(by_hand, A), rtol=1e-6)


def test_jit_of_hvp_through_a_constant_product_equals_hvp():
    x, v = np.array([0.3, -0.4, 0.9]), np.array([1.0, -2.0, 0.5])
    staged = ad.jit(ad.hvp(_tanh_loss))
    np.testing.assert_allclose(staged(x, v), ad.hvp(_tanh_loss)(x, v), rtol=1e-14)
    np.testing.assert_allclose(staged(v, x), ad.hvp(_tanh_loss)(v, x), rtol=1e-14)


# --- errors -----------------------------------------------------------------------------


@given(program=programs(max_ops=8).map(_one_array).filter(lambda drawn: drawn[1].ndim <= 2))
def test_hvp_through_a_constant_product_equals_jvp_of_grad_on_random_programs(program):
    fun, x = program
    if np.ndim(x) == 0:
        x = np.reshape(x, (1,))
    rng = np.random.default_rng(x.size)
    # matrix @ x == x (matrix = I + a b^T with b orthogonal to the columns of x), so the
    # program is evaluated at its drawn point, inside the domains of its steps.
    columns = np.reshape(x, (x.shape[0], -1))
    b = rng.standard_normal(x.shape[0])
    basis, _ = np.linalg.qr(columns)
    b = b - basis @ (basis.T @ b) if np.any(columns) else b
    matrix = np.eye(x.shape[0]) + np.outer(rng.standard_normal(x.shape[0]), b)
    v = rng.standard_normal(x.shape)

    def f(y):  # y reaches the program through matrix @ y (the skipped step) and directly
        return anp.sum(fun(matrix @ y)) + 0.5 * anp.sum(fun(y))

    got = ad.hvp(f)(x, v)
    expected = ad.jvp(ad.grad(f), (x,), (v,))[1]  # forward over reverse without the skip
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    fd = numerical_jacobian(ad.grad(f), x)
    np.testing.assert_allclose(got, np.tensordot(fd, v, v.ndim), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "transform",
    [
        lambda f: ad.jacrev(f)(X),
        lambda f: ad.jacfwd(f)(X),
        lambda f: ad.hvp(lambda x: anp.sum(f(x)))(X, X),
    ],
    ids=["jacrev", "jacfwd", "hvp"],
)
def test_function_is_traced_once(transform):
    calls = []

    def counted(x):
        calls.append(1)
        return mixed(x)

    transform(counted)
    assert len(calls) == 1
