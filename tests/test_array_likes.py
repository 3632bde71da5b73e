"""Lists, tuples and nested lists of traced values wherever NumPy accepts array-likes.

``adfun.numpy._arraylike`` assembles such an argument into one traced array (through the
``stack`` primitive) at the entry of every exported function.  The property test below
goes over the whole rule table: for every function and every array argument NumPy also
accepts as a nested list, the function of a list of traced scalars must give the same
value and the same derivatives (reverse, forward, staged) as the function of the array.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adfun as ad
import adfun.numpy as anp
import adfun.scipy.special as special
from adfun import StagingError
from adfun._engine.records import NUMPY_OVERRIDES
from adfun.numpy._declare import COMPOSITES, REGISTRY
from adfun.numpy._examples import broadcast_arrays
from adfun.testing import check_grads

# --- the cases autograd programs write ----------------------------------------------------

X = np.array([0.3, -0.7])
VECTOR = np.array([1.5, -2.0])

CASES = {
    "array": lambda a, b: anp.array([a, b]),
    "array nested": lambda a, b: anp.array([[a, 1.0], [b, a * b]]),
    "array ndmin and dtype": lambda a, b: anp.array([a, b], dtype=np.float64, ndmin=3),
    "asarray": lambda a, b: anp.asarray((a, b)),
    "mean": lambda a, b: anp.mean([a, b]),
    "sum of a tuple": lambda a, b: anp.sum((a, b)),
    "sum axis": lambda a, b: anp.sum([[a, b], [b, 2.0]], axis=0),
    "linalg.norm": lambda a, b: anp.linalg.norm([a, b]),
    "append": lambda a, b: anp.append([1.0, a], b),
    "append lists": lambda a, b: anp.append([a], [b, a]),
    "concatenate nested": lambda a, b: anp.concatenate([[a], [b, 1.0]]),
    "stack nested": lambda a, b: anp.stack([[a, b], [b, a]], axis=1),
    "hstack": lambda a, b: anp.hstack([[a, b], [b]]),
    "vstack": lambda a, b: anp.vstack([[a, b], [b, a]]),
    "dot": lambda a, b: anp.dot([a, b], VECTOR),
    "dot both": lambda a, b: anp.dot([a, b], [b, a]),
    "matmul": lambda a, b: anp.matmul([[a, b]], [[1.0], [b]]),
    "einsum": lambda a, b: anp.einsum("i,i->", [a, b], VECTOR),
    "outer": lambda a, b: anp.outer([a, b], [b, 1.0]),
    "exp": lambda a, b: anp.exp([a, b]),
    "multiply": lambda a, b: anp.multiply([a, b], [[b], [a]]),
    "maximum": lambda a, b: anp.maximum([a, b], 0.0),
    "where": lambda a, b: anp.where([True, False], [a, b], [b, a]),
    "max": lambda a, b: anp.max([a, b, a * b]),
    "var": lambda a, b: anp.var([a, b, 1.0]),
    "std": lambda a, b: anp.std([a, b, 1.0]),
    "prod": lambda a, b: anp.prod((a, b, 3.0)),
    "cumsum": lambda a, b: anp.cumsum([a, b]),
    "sort": lambda a, b: anp.sort([a, b]),
    "diag": lambda a, b: anp.diag([a, b]),
    "reshape": lambda a, b: anp.reshape([a, b], (2, 1)),
    "transpose": lambda a, b: anp.transpose([[a, b]]),
    "clip": lambda a, b: anp.clip([a, b], -0.5, 0.5),
    "logsumexp": lambda a, b: special.logsumexp([a, b]),
    "special.erf": lambda a, b: special.erf([a, b]),
    "r_": lambda a, b: anp.r_[a, [b, 1.0], np.array([2.0]), 0:1:3j],
    "r_ directive": lambda a, b: anp.r_["0,2", [a, b], [b, a]],
    "r_ trans1d": lambda a, b: anp.r_["1,2,0", [a, b], [b, a]],
    "c_": lambda a, b: anp.c_[[a, b], [b, a], VECTOR],
    "c_ blocks": lambda a, b: anp.c_[anp.array([[a, b]]), np.array([[1.0]]), a],
    "plain numpy stack": lambda a, b: np.stack([a, b]),
    "plain numpy append": lambda a, b: np.append([1.0, a], b),
}


def _plain(case: str):
    """The same expression on plain floats, through NumPy."""
    return CASES[case](*X)


@pytest.mark.parametrize("case", sorted(CASES))
def test_list_of_traced_values_matches_numpy_and_differentiates(case):
    fun = CASES[case]

    def of_vector(x):
        return fun(x[0], x[1])

    np.testing.assert_allclose(of_vector(X), _plain(case), rtol=1e-13)
    check_grads(of_vector, (X,), modes=("fwd", "rev"), order=1)
    staged = ad.jit(of_vector)
    other = X + np.array([0.25, -0.5])
    np.testing.assert_allclose(staged(other), of_vector(other), rtol=1e-13)
    np.testing.assert_allclose(
        ad.jit(ad.grad(lambda x: anp.sum(of_vector(x) ** 2)))(other),
        ad.grad(lambda x: anp.sum(of_vector(x) ** 2))(other),
        rtol=1e-12,
    )


def test_second_order_through_a_list():
    def f(x):
        return anp.sum(anp.array([x[0] ** 2, x[0] * x[1], anp.sin(x[1])]) ** 2)

    check_grads(f, (X,), modes=("fwd", "rev"), order=2)


def test_lists_of_scalar_parameters_as_autograd_programs_pass_them():
    """A list argument of grad is a pytree: its floats are traced one by one."""

    def objective(params):
        weights = anp.array(params)
        return anp.mean(weights**2) + anp.linalg.norm(params)

    gradient = ad.grad(objective)([0.5, -1.5, 2.0])
    expected = ad.grad(lambda w: anp.mean(w**2) + anp.linalg.norm(w))(np.array([0.5, -1.5, 2.0]))
    np.testing.assert_allclose(gradient, expected, rtol=1e-13)


def test_items_are_converted_to_the_common_dtype():
    def f(x):
        result = anp.array([x[0], 1, True])
        assert result.dtype == np.float64
        return result

    np.testing.assert_allclose(f(X), [0.3, 1.0, 1.0])
    np.testing.assert_allclose(ad.jacobian(f)(X)[:, 0], [1.0, 0.0, 0.0])


def test_integer_traced_items_stay_integers():
    def f(x):
        indices = anp.array([anp.argmax(x), anp.argmin(x)])
        assert indices.dtype.kind == "i"
        return x[indices]

    np.testing.assert_allclose(ad.jacobian(f)(X), [[1.0, 0.0], [0.0, 1.0]])


def test_items_of_different_shapes_are_refused():
    def f(x):
        return anp.array([x[0], x])

    with pytest.raises(
        ValueError, match=r"items of different shapes \[\(\), \(2,\)\] \(an inhomogeneous"
    ):
        ad.grad(lambda x: anp.sum(f(x)))(X)


def test_plain_numpy_on_a_list_of_traced_values_says_what_to_do():
    """NumPy never dispatches on a list: plain np.mean([a, b]) cannot reach adfun."""
    with pytest.raises(TypeError, match=r"call the adfun\.numpy function instead"):
        ad.grad(lambda x: np.mean([x[0], x[1]]))(X)


def test_plain_values_are_numpy_unchanged():
    assert anp.mean([1.0, 2.0]) == 1.5
    np.testing.assert_array_equal(anp.r_[1, 2, 0:2], np.r_[1, 2, 0:2])
    np.testing.assert_array_equal(anp.c_[[1, 2], [3, 4]], np.c_[[1, 2], [3, 4]])
    assert repr(anp.r_) == "adfun.numpy.r_" and len(anp.c_) == 0


# --- r_ and c_ errors ---------------------------------------------------------------------


def test_r_refuses_matrix_directives_on_traced_values():
    with pytest.raises(NotImplementedError, match=r"adfun\.numpy\.r_: the matrix directives"):
        ad.grad(lambda x: anp.sum(anp.r_["r", x, x]))(X)


def test_r_refuses_unknown_directives():
    with pytest.raises(ValueError, match=r"adfun\.numpy\.r_: unknown special directive 'x,1'"):
        ad.grad(lambda x: anp.sum(anp.r_["x,1", x, x]))(X)
    with pytest.raises(ValueError, match=r"unknown special directive '0,1,2,3'"):
        ad.grad(lambda x: anp.sum(anp.r_["0,1,2,3", x, x]))(X)


def test_c_wants_directives_first():
    with pytest.raises(ValueError, match=r"adfun\.numpy\.c_: special directives must be the"):
        ad.grad(lambda x: anp.sum(anp.c_[x, "0"]))(X)


# --- int() and float() ----------------------------------------------------------------------


def test_int_and_float_of_values_without_derivative():
    def f(x):
        count = int(anp.argmax(x))  # an integer result: no derivative to lose
        floor = float(anp.floor(x[0]))  # a constant for differentiation
        cut = int(ad.stop_gradient(x[1] * 10))
        return x[count] * (floor + cut)

    np.testing.assert_allclose(ad.grad(f)(X), [0.0 - 7.0, 0.0])  # floor(0.3) + int(-7.0)


def test_float_of_a_differentiable_value_keeps_raising():
    with pytest.raises(TypeError, match=r"^float\(\) was called on a value that adfun is"):
        ad.grad(lambda x: float(x[0]))(X)
    with pytest.raises(TypeError, match=r"^int\(\) was called on a value that adfun is"):
        ad.grad(lambda x: int(x[0]))(X)


def test_int_of_a_staged_value_is_refused():
    with pytest.raises(StagingError, match=r"int\(\)"):
        ad.jit(lambda x: x * int(anp.argmax(x)))(X)


# --- the property over the rule table -------------------------------------------------------

_NUMPY_OF = {id(fun): numpy_fun for numpy_fun, fun in NUMPY_OVERRIDES.items()}
#: ``x[key]`` (Python's indexing of a list is not NumPy's) and ``block`` (whose nested
#: lists are its structure, assembled by itself) take no array-likes.
_NOT_ARRAY_LIKES = frozenset({"getitem", "untake", "block"})
_TABLE = sorted(
    (name, fun)
    for name, fun in list(REGISTRY.items()) + list(COMPOSITES.items())
    if name not in _NOT_ARRAY_LIKES
    and (
        getattr(getattr(fun, "primitive", None), "domain", None) is not None
        or getattr(fun, "domain", None) is not None
    )
)


def _domain(fun):
    primitive = getattr(fun, "primitive", None)
    return primitive.domain if primitive is not None else fun.domain


def _draw_call(data, fun):
    domain = _domain(fun)
    if domain.examples is not None:
        return data.draw(_examples(domain))
    ranges = domain.ranges

    @st.composite
    def elementwise(draw_):
        return tuple(broadcast_arrays(draw_, st, hnp, ranges, magnitude=domain.magnitude)), {}

    return data.draw(elementwise())


def _examples(domain):
    @st.composite
    def draw(draw_):
        return domain.examples(draw_, st, hnp)

    return draw()


def _nested(x):
    """``x`` as nested Python lists of 0-d traced values (``tolist`` keeping tracers)."""
    if anp.ndim(x) == 0:
        return x
    return [_nested(x[index]) for index in range(x.shape[0])]


def _same(a, b):
    return np.allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", [name for name, _ in _TABLE])
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_every_function_takes_lists_where_numpy_does(name, data):
    fun = dict(_TABLE)[name]
    numpy_fun = _NUMPY_OF.get(id(fun))
    args, params = _draw_call(data, fun)
    for position, arg in enumerate(args):
        if not (
            isinstance(arg, np.ndarray) and arg.ndim >= 1 and arg.dtype.kind == "f" and arg.size
        ):
            continue
        if not _numpy_accepts_a_list(numpy_fun or fun, args, params, position):
            continue

        def with_array(x, position=position):
            call = list(args)
            call[position] = x
            return fun(*call, **params)

        def with_list(x, position=position):
            call = list(args)
            call[position] = _nested(x)
            return fun(*call, **params)

        try:
            expected = with_array(arg)
        except Exception:  # noqa: BLE001 - a draw the function itself refuses
            continue
        assert _same(with_list(arg), expected), name
        if not isinstance(expected, np.ndarray) or expected.dtype.kind != "f":
            continue  # tuples of results, integer results: the values are checked
        cotangent = np.cos(np.arange(np.size(expected))).reshape(np.shape(expected))
        tangent = np.sin(np.arange(arg.size) + 1.0).reshape(arg.shape)
        try:
            _, pull_array = ad.vjp(with_array, arg)
            reverse = pull_array(cotangent)
            forward = ad.jvp(with_array, (arg,), (tangent,))[1]
        except NotImplementedError:  # not differentiable in this argument (copysign's sign)
            continue
        _, pull_list = ad.vjp(with_list, arg)
        assert _same(pull_list(cotangent), reverse), name
        assert _same(ad.jvp(with_list, (arg,), (tangent,))[1], forward), name
        try:
            ad.jit(with_array)(arg)
        except StagingError:  # the function itself does not stage (eigvals, nonzero...)
            continue
        assert _same(ad.jit(with_list)(arg), expected), name


def _numpy_accepts_a_list(numpy_fun, args, params, position):
    """Whether NumPy's function (or the function itself, on plain values NumPy's) gives
    the same result with ``tolist()`` at ``position``."""
    listed = list(args)
    listed[position] = args[position].tolist()
    try:
        with np.errstate(all="ignore"):
            return _same(numpy_fun(*listed, **params), numpy_fun(*args, **params))
    except Exception:  # noqa: BLE001 - NumPy refuses a list there
        return False
