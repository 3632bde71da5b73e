"""adfun.autograd: MXNet's recording semantics on the shared immutable graph."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adfun
import adfun.numpy
from adfun import autograd, nd
from adfun._imperative.recording import TRACE, VariableNode


def _variable(values, **kwargs):
    x = nd.array(values)
    x.attach_grad(**kwargs)
    return x


# --- grad buffers and grad_req -----------------------------------------------------------


def test_grad_is_none_before_attach_grad_and_zeros_right_after():
    x = nd.array([[1, 2], [3, 4]])
    assert x.grad is None
    x.attach_grad()
    assert x.grad.shape == (2, 2) and x.grad.dtype is np.float32
    assert x.grad.asnumpy().tolist() == [[0, 0], [0, 0]]


def test_the_tutorial_gradient():
    x = _variable([[1, 2], [3, 4]])
    with autograd.record():
        y = x * 2
        z = y * x
    z.backward()
    assert x.grad.asnumpy().tolist() == [[4, 8], [12, 16]]
    assert x.grad.dtype is np.float32


def test_float64_variables_get_float64_gradients():
    x = nd.array([1, 2], dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = x * x
    y.backward()
    assert x.grad.dtype is np.float64 and x.grad.asnumpy().tolist() == [2, 4]


def test_grad_req_write_overwrites():
    x = _variable([1, 2])
    buffer = x.grad
    for _ in range(2):
        with autograd.record():
            y = x * 3
        y.backward()
    assert x.grad is buffer  # the same array object, refreshed
    assert x.grad.asnumpy().tolist() == [3, 3]


def test_grad_req_add_accumulates_across_backward_calls():
    x = _variable([1, 2], grad_req="add")
    for _ in range(3):
        with autograd.record():
            y = x * x
        y.backward()
    assert x.grad.asnumpy().tolist() == [6, 12]


def test_grad_req_null_computes_no_gradient():
    x = _variable([1, 2], grad_req="null")
    w = _variable([3, 4])
    assert x.grad is None
    with autograd.record():
        y = x * w
    y.backward()
    assert x.grad is None
    assert w.grad.asnumpy().tolist() == [1, 2]


def test_variable_not_reached_through_a_derivative_gets_zeros():
    x = _variable([1, 2])
    w = _variable([5, 5])
    with autograd.record():
        y = w * (x > 1)  # the comparison is a constant
    x.grad[:] = 7
    y.backward()
    assert w.grad.asnumpy().tolist() == [0, 1]


# --- heads ----------------------------------------------------------------------------


def test_non_scalar_head_defaults_to_ones():
    x = _variable([[1, 2], [3, 4]])
    with autograd.record():
        z = x * x
    z.backward()
    assert x.grad.asnumpy().tolist() == [[2, 4], [6, 8]]


def test_head_gradient():
    x = _variable([[1, 2], [3, 4]])
    with autograd.record():
        z = x * 2 * x
    z.backward(nd.array([[10, 1], [0.1, 0.01]]))
    np.testing.assert_allclose(x.grad.asnumpy(), [[40, 8], [1.2, 0.16]], rtol=1e-6)


def test_backward_of_several_heads():
    x = _variable([1, 2])
    with autograd.record():
        a = x * 2
        b = x * x
    autograd.backward([a, b], [None, nd.array([10, 10])])
    assert x.grad.asnumpy().tolist() == [22, 42]


def test_head_gradient_shape_is_checked():
    x = _variable([1, 2])
    with autograd.record():
        y = x * 2
    with pytest.raises(ValueError, match=r"head_grads\[0\] has shape \(3,\), but its head"):
        y.backward(nd.ones(3))
    with pytest.raises(ValueError, match=r"got 1 head\(s\) but 2 head gradient"):
        autograd.backward([y], [None, None])
    with pytest.raises(TypeError, match=r"heads must be an NDArray or a list"):
        autograd.backward("y")
    with pytest.raises(TypeError, match=r"heads\[0\] must be an NDArray"):
        autograd.backward([1.0])


UNRECORDED = (
    r"is not in a recorded graph: none of the arrays it was computed from has "
    r"attach_grad\(\) \(or it was computed outside autograd\.record\(\), or under "
    r"autograd\.pause\(\)\), so there is nothing to differentiate\. Call attach_grad\(\) "
    r"on the inputs"
)


def test_backward_on_an_unrecorded_array_says_so():
    x = _variable([1, 2])
    y = x * 2  # outside record()
    with pytest.raises(RuntimeError, match=UNRECORDED):
        y.backward()
    plain = nd.array([1, 2])
    with autograd.record():
        z = plain * 2  # nothing it depends on is a variable
    with pytest.raises(RuntimeError, match=UNRECORDED) as info:
        z.backward()
    assert "was not recorded" not in str(info.value)  # it was computed inside record()


def test_second_backward_needs_retain_graph():
    x = _variable([1, 2])
    with autograd.record():
        y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.asnumpy().tolist() == [2, 4]
    with pytest.raises(RuntimeError, match=r"pass retain_graph=True"):
        y.backward()


def test_a_freed_graph_cannot_be_reused_by_another_head():
    x = _variable([1, 2])
    with autograd.record():
        y = x * x
        z = y + 1
    y.backward()
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        z.backward()


def test_backward_on_a_variable_itself():
    x = _variable([1, 2])
    x.backward()
    assert x.grad.asnumpy().tolist() == [1, 1]


# --- recording scopes ---------------------------------------------------------------------


def test_flags_and_scopes():
    assert not autograd.is_recording() and not autograd.is_training()
    with autograd.record():
        assert autograd.is_recording() and autograd.is_training()
        with autograd.pause():
            assert not autograd.is_recording() and not autograd.is_training()
            with autograd.train_mode():
                assert autograd.is_training()
        with autograd.predict_mode():
            assert autograd.is_recording() and not autograd.is_training()
    with autograd.record(train_mode=False):
        assert autograd.is_recording() and not autograd.is_training()
    with autograd.pause(train_mode=True):
        assert autograd.is_training()
    assert not autograd.is_recording() and not autograd.is_training()


def test_set_recording_and_set_training_return_the_previous_state():
    assert autograd.set_recording(True) is False
    try:
        assert autograd.is_recording()
        assert autograd.set_recording(False) is True
    finally:
        autograd.set_recording(False)
    assert autograd.set_training(True) is False
    assert autograd.set_training(False) is True
    assert not autograd.is_training()


def test_scopes_restore_flags_after_an_exception():
    with pytest.raises(KeyError):
        with autograd.record():
            raise KeyError("boom")
    assert not autograd.is_recording()


def test_nothing_is_recorded_under_pause():
    x = _variable([1, 2])
    with autograd.record():
        y = x * 2
        with autograd.pause():
            constant = x * 10
        z = y * constant
    assert constant._tracer is None
    with pytest.raises(RuntimeError, match=UNRECORDED):
        constant.backward()
    z.backward()
    assert x.grad.asnumpy().tolist() == [20, 40]  # d(2x * constant)/dx = 2 * (10 x)


def test_operations_outside_record_are_not_recorded():
    x = _variable([1, 2])
    y = x * 2
    assert y._tracer is None


def test_graph_spans_several_record_blocks_and_backward_after_exit():
    x = _variable([1, 2])
    with autograd.record():
        y = x * 3
    with autograd.record():
        z = y * x
    assert not autograd.is_recording()
    z.backward()
    assert x.grad.asnumpy().tolist() == [6, 12]


def test_variable_attached_inside_record():
    with autograd.record():
        x = nd.array([1, 2])
        x.attach_grad()
        y = x * x
    y.backward()
    assert x.grad.asnumpy().tolist() == [2, 4]


def test_attach_grad_makes_an_intermediate_a_new_leaf():
    x = _variable([1, 2])
    with autograd.record():
        y = x * 3
        y.attach_grad()
        z = y * y
    z.backward()
    assert y.grad.asnumpy().tolist() == [6, 12]
    assert x.grad.asnumpy().tolist() == [0, 0]


def test_detach_cuts_the_graph():
    x = _variable([1, 2])
    with autograd.record():
        y = (x * 2).detach() * x
    y.backward()
    assert x.grad.asnumpy().tolist() == [2, 4]


def test_recorded_nodes_belong_to_the_shared_immutable_graph():
    import attrs

    x = _variable([1, 2])
    with autograd.record():
        y = x * 2
    node = y._tracer.node
    assert y._tracer.trace is TRACE
    assert node.primitive.name == "multiply"
    assert type(node.parents[0]) is VariableNode
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        node.value = None
    graph = adfun.Graph.build(node.parents[:1], [node])
    assert [n.primitive.name for n in graph.nodes] == ["input", "multiply"]


def test_recording_state_is_per_thread():
    seen = {}

    def worker():
        seen["recording"] = autograd.is_recording()
        seen["training"] = autograd.is_training()
        x = _variable([1, 2])
        y = x * 2
        seen["recorded"] = y._tracer is not None

    with autograd.record():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen == {"recording": False, "training": False, "recorded": False}


def test_threads_record_and_differentiate_concurrently():
    results = {}
    errors = []

    def worker(index):
        try:
            for _ in range(30):
                x = _variable([index, index + 1.0])
                with autograd.record():
                    y = x * x * index
                y.backward()
                results[index] = x.grad.asnumpy().tolist()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(index,)) for index in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == {i: [2.0 * i * i, 2.0 * i * (i + 1)] for i in (1, 2, 3)}


# --- in-place changes -----------------------------------------------------------------------


def test_in_place_change_of_a_recorded_array_inside_record_is_an_error():
    x = _variable([1, 2])
    with autograd.record():
        y = x * 2
        with pytest.raises(RuntimeError, match=r"immutable, so it cannot be modified in place"):
            y[:] = 0
        with pytest.raises(RuntimeError, match=r"__iadd__ \(x \+= \.\.\.\).*in place"):
            y += 1
        with pytest.raises(RuntimeError, match=r"__setitem__.*autograd\.record\(\)"):
            x[0] = 5
        with pytest.raises(RuntimeError, match=r"__imul__"):
            x *= 2
    y.backward()
    assert x.grad.asnumpy().tolist() == [2, 2]
    assert y.asnumpy().tolist() == [2, 4]


def test_in_place_change_of_an_unrelated_array_inside_record_works():
    constant = nd.array([1, 2])
    with autograd.record():
        constant[:] = 3
        constant += 1
    assert constant.asnumpy().tolist() == [4, 4]


def test_writing_a_recorded_value_into_an_array_inside_record_is_an_error():
    x = _variable([1, 2])
    target = nd.zeros(2)
    with autograd.record():
        y = x * 2
        with pytest.raises(RuntimeError, match=r"__setitem__.*the value written is recorded"):
            target[:] = y
        with pytest.raises(RuntimeError, match=r"__iadd__.*its gradient would be lost"):
            target += x
    target[:] = y  # outside record() this is an ordinary copy of the values
    assert target.asnumpy().tolist() == [2, 4]


def test_in_place_update_outside_record_does_not_change_the_recorded_graph():
    x = _variable([1, 2])
    c = nd.array([10, 10])
    with autograd.record():
        y = x * x * c
    x[:] = 100  # the recorded graph keeps the values it saw
    c += 1
    y.backward()
    assert x.grad.asnumpy().tolist() == [20, 40]
    with autograd.record():  # the next recording sees the new value
        z = x * x
    z.backward()
    assert x.grad.asnumpy().tolist() == [200, 200]


def test_sgd_step_with_in_place_update():
    w = _variable([1.0])
    for _ in range(3):
        with autograd.record():
            loss = (w * w).sum()
        loss.backward()
        w[:] = w - 0.25 * w.grad
    assert w.asnumpy().tolist() == [0.125]


# --- autograd.grad -------------------------------------------------------------------------


def test_grad_returns_new_arrays_and_leaves_dot_grad_alone():
    x = _variable([1, 2])
    w = _variable([3, 4])
    with autograd.record():
        y = x * w
    gx, gw = autograd.grad(y, [x, w])
    assert gx.asnumpy().tolist() == [3, 4] and gw.asnumpy().tolist() == [1, 2]
    assert x.grad.asnumpy().tolist() == [0, 0]
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        autograd.grad(y, [x])


def test_grad_of_a_single_variable_returns_an_array():
    x = _variable([1, 2])
    with autograd.record():
        y = x * x
    assert isinstance(autograd.grad(y, x), nd.NDArray)


def test_grad_create_graph_gives_differentiable_gradients():
    x = _variable([1, 2, 3])
    with autograd.record():
        y = x**3
        dy = autograd.grad(y, [x], create_graph=True)[0]
    assert dy.asnumpy().tolist() == [3, 12, 27]
    assert dy._tracer is not None
    dy.backward()
    assert x.grad.asnumpy().tolist() == [6, 12, 18]
    y.backward()  # create_graph retains the first graph by default
    assert x.grad.asnumpy().tolist() == [3, 12, 27]


def test_third_derivative_through_create_graph():
    x = _variable([0.5, 2.0])
    with autograd.record():
        y = nd.sin(x) * x
        (d1,) = autograd.grad(y, [x], create_graph=True)
        (d2,) = autograd.grad(d1, [x], create_graph=True)
    d2.backward()
    value = np.array([0.5, 2.0])
    expected = -3 * np.sin(value) - value * np.cos(value)  # (x sin x)'''
    np.testing.assert_allclose(x.grad.asnumpy(), expected, rtol=1e-5)


def test_create_graph_gradient_depends_on_every_variable():
    x = _variable([2.0])
    w = _variable([3.0])
    with autograd.record():
        y = x * x * w
        (gx,) = autograd.grad(y, [x], create_graph=True)  # 2 x w
        loss = gx * gx
    loss.backward()
    assert x.grad.asnumpy().tolist() == [2 * (2 * 2 * 3) * 2 * 3]
    assert w.grad.asnumpy().tolist() == [2 * (2 * 2 * 3) * 2 * 2]


def test_create_graph_with_a_recorded_head_gradient():
    x = _variable([1.0, 2.0])
    with autograd.record():
        y = x * x
        (g,) = autograd.grad(y, [x], head_grads=[x * 1], create_graph=True)  # 2 x * x
    g.backward()
    assert x.grad.asnumpy().tolist() == [4, 8]


def test_grad_without_create_graph_is_not_recorded():
    x = _variable([1.0])
    with autograd.record():
        y = x * x
        (g,) = autograd.grad(y, [x])
    assert g._tracer is None


def test_grad_requires_variables():
    x = _variable([1.0])
    with autograd.record():
        y = x * x
    with pytest.raises(ValueError, match=r"variables\[0\] is not a variable"):
        autograd.grad(y, [nd.array([1.0])])
    with pytest.raises(TypeError, match=r"variables must be an NDArray or a list"):
        autograd.grad(y, 3)


def test_grad_of_a_variable_the_head_does_not_use_is_zero():
    x = _variable([1.0])
    unused = _variable([5.0, 6.0])
    with autograd.record():
        y = x * 2
    gx, gu = autograd.grad(y, [x, unused])
    assert gx.asnumpy().tolist() == [2] and gu.asnumpy().tolist() == [0, 0]


def test_same_variable_changed_between_two_recorded_uses():
    w = _variable([1.0])
    with autograd.record():
        a = w * 3
    w[:] = 2  # outside record: allowed; later uses see the new value
    with autograd.record():
        b = a * w
    (g,) = autograd.grad(b, [w])
    assert g.asnumpy().tolist() == [3 * 2 + 3 * 1]  # both uses contribute


# --- mark_variables -------------------------------------------------------------------------


def test_mark_variables():
    x, y = nd.array([1, 2]), nd.array([3])
    gx, gy = nd.zeros(2), nd.ones(1)
    autograd.mark_variables([x, y], [gx, gy], grad_reqs=["write", "add"])
    with autograd.record():
        z = x * y
    z.backward()
    assert gx.asnumpy().tolist() == [3, 3]
    assert gy.asnumpy().tolist() == [4]
    assert x.grad is gx


# --- Function --------------------------------------------------------------------------------


class Sigmoid(autograd.Function):
    def forward(self, x):
        y = 1 / (1 + nd.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)


class MulAdd(autograd.Function):
    """Two inputs, two outputs: (x * y, x + y)."""

    calls = 0

    def forward(self, x, y):
        assert not autograd.is_recording()
        self.save_for_backward(x, y)
        return x * y, x + y

    def backward(self, d_product, d_sum):
        MulAdd.calls += 1
        x, y = self.saved_tensors
        return d_product * y + d_sum, d_product * x + d_sum


def test_function_single_output():
    x = _variable([0.0, 1.0])
    with autograd.record():
        y = Sigmoid()(x)
        z = y * 2
    z.backward()
    s = 1 / (1 + np.exp(-np.array([0.0, 1.0])))
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * s * (1 - s), rtol=1e-6)
    assert y._tracer.node.primitive.name == "Sigmoid"


def test_function_several_inputs_and_outputs():
    x = _variable([2.0])
    y = _variable([5.0])
    with autograd.record():
        product, total = MulAdd()(x, y)
        out = product * 3 + total * 10
    out.backward()
    assert x.grad.asnumpy().tolist() == [3 * 5 + 10]
    assert y.grad.asnumpy().tolist() == [3 * 2 + 10]


def test_function_backward_runs_once_per_output():
    MulAdd.calls = 0
    x = _variable([1.0])
    y = _variable([1.0])
    with autograd.record():
        product, _ = MulAdd()(x, y)
    product.backward()
    assert MulAdd.calls == 1


class Cube(autograd.Function):
    """x ** 3, whose backward uses the input itself (so it can be differentiated again)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x * x

    def backward(self, dy):
        (x,) = self.saved_tensors
        return dy * 3 * x * x


def test_function_backward_called_inside_record():
    x = _variable([2.0])
    with autograd.record():
        y = Cube()(x)
        y.backward()
        assert autograd.is_recording()
    assert x.grad.asnumpy().tolist() == [12]


def test_function_differentiated_twice_with_create_graph():
    x = _variable([2.0])
    with autograd.record():
        y = Cube()(x)
        (dy,) = autograd.grad(y, [x], create_graph=True)
    dy.backward()
    assert dy.asnumpy().tolist() == [12] and x.grad.asnumpy().tolist() == [12]  # 6 x


def test_function_outside_record_is_plain():
    y = Sigmoid()(nd.array([0.0]))
    assert y._tracer is None and y.asnumpy().tolist() == [0.5]


def test_function_errors():
    class Missing(autograd.Function):
        pass

    class WrongCount(autograd.Function):
        def forward(self, x):
            return x * 1

        def backward(self, dy):
            return dy, dy

    class WrongShape(autograd.Function):
        def forward(self, x):
            return x * 1

        def backward(self, dy):
            return nd.ones(5)

    class NotArray(autograd.Function):
        def forward(self, x):
            return 3

    with pytest.raises(NotImplementedError, match=r"Missing\.forward: subclasses"):
        Missing()(nd.ones(1))
    with pytest.raises(TypeError, match=r"NotArray\.forward must return NDArrays"):
        NotArray()(nd.ones(1))
    x = _variable([1.0])
    for function, error, message in [
        (WrongCount, ValueError, r"WrongCount\.backward returned 2 gradient\(s\) for 1"),
        (WrongShape, ValueError, r"WrongShape\.backward: gradient 0 has shape \(5,\)"),
    ]:
        with autograd.record():
            y = function()(x)
        with pytest.raises(error, match=message):
            y.backward()


SECOND_ORDER = {
    "sin_x": (lambda x: nd.sin(x) * x, lambda x: adfun.numpy.sin(x) * x),
    "tanh": (nd.tanh, lambda x: adfun.numpy.tanh(x)),
    "sigmoid_square": (
        lambda x: nd.sigmoid(x) * nd.square(x),
        lambda x: 1 / (1 + adfun.numpy.exp(-x)) * x * x,
    ),
    "exp_over": (lambda x: nd.exp(x) / (x * x + 1), lambda x: adfun.numpy.exp(x) / (x * x + 1)),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
@given(values=hnp.arrays(np.float64, 3, elements=st.floats(-2, 2)))
def test_create_graph_second_derivative_matches_the_functional_core(name, values):
    imperative, functional = SECOND_ORDER[name]
    x = nd.array(values, dtype="float64")
    x.attach_grad()
    with autograd.record():
        (first,) = autograd.grad(imperative(x), [x], create_graph=True)
    first.backward()
    derivative = adfun.elementwise_grad(functional)
    second = adfun.elementwise_grad(derivative)(values)
    np.testing.assert_allclose(first.asnumpy(), derivative(values), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.asnumpy(), second, rtol=1e-10, atol=1e-12)


def test_large_non_scalar_head_uses_ones_and_gradients_stay_usable():
    x = _variable(np.arange(10000.0).reshape(100, 100))
    with autograd.record():
        y = x.reshape((10000,))  # the gradient is the head gradient itself
    y.backward()
    assert x.grad.shape == (100, 100) and (x.grad.asnumpy() == 1).all()
    x.grad[:] = 0  # the gradient buffer can be changed like any array
    x.grad[0, 0] = 3
    exported = x.grad.asnumpy()
    exported[1, 1] = 5
    assert x.grad.asnumpy().sum() == 3
    z = _variable(np.ones(5000), grad_req="add")
    for _ in range(2):
        with autograd.record():
            w = z * 3
        w.backward()
    assert (z.grad.asnumpy() == 6).all()


def test_recorded_graphs_are_freed_with_their_arrays():
    import gc
    import weakref

    x = _variable([1.0])
    with autograd.record():
        y = x * 2
        z = y + 1
    z.backward()
    refs = [weakref.ref(y._tracer.node), weakref.ref(z._tracer.node)]
    del y, z
    gc.collect()
    assert [ref() for ref in refs] == [None, None]
