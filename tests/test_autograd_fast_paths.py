"""The fast paths of the imperative backward pass behave exactly like the general code.

Cached read-only seeds, the one-pass graph walk with its consumed check, the weak
consumed marks and their sweep, the scopes of ``record()`` / ``pause()`` and the
NDArray operators' inlined operand handling.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import adfun._imperative.recording as recording_state
from adfun import autograd, nd
from adfun._engine.graph import toposort
from adfun._imperative.backward import head_seeds, walk
from adfun._imperative.backward import ones as _ones
from adfun.nd import NDArray


def _variable(values, **kwargs):
    x = nd.array(values)
    x.attach_grad(**kwargs)
    return x


def test_default_seed_is_a_shared_read_only_array_of_ones():
    value = np.zeros((2, 3), np.float32)
    ones = _ones(value)
    assert ones is _ones(np.empty((2, 3), np.float32))
    assert ones.dtype == np.float32 and ones.shape == (2, 3) and (ones == 1).all()
    assert not ones.flags.writeable
    assert _ones(np.zeros((2, 3), np.float64)).dtype == np.float64


def test_large_heads_get_a_broadcast_view_of_one():
    ones = _ones(np.zeros((100, 100), np.float32))
    assert ones.strides == (0, 0) and (ones == 1).all() and not ones.flags.writeable


def test_a_gradient_written_from_the_seed_cannot_change_later_seeds():
    x = _variable([[1, 2], [3, 4]])
    x.backward()  # the head is the variable: its gradient is the seed itself
    assert x.grad.asnumpy().tolist() == [[1, 1], [1, 1]]
    x.grad[:] = 7  # copy on write: the shared seed is left alone
    assert x.grad.asnumpy().tolist() == [[7, 7], [7, 7]]
    with autograd.record():
        y = x * 3
    y.backward()
    assert x.grad.asnumpy().tolist() == [[3, 3], [3, 3]]
    assert (_ones(np.zeros((2, 2), np.float32)) == 1).all()


def test_grad_req_add_accumulates_on_top_of_a_seed_gradient():
    x = _variable([1.0, 2.0], grad_req="add")
    x.backward()
    x.backward()
    assert x.grad.asnumpy().tolist() == [2, 2]


def _graph():
    x = _variable([1.0, 2.0])
    w = _variable([3.0, 4.0])
    with autograd.record():
        a = x * w
        b = a + x  # x reached on several paths, a shared by b and c
        c = a * a
        d = (b * c - w) / (x + 1)
    return x, w, d


def test_walk_gives_the_engine_order_and_the_variables():
    x, w, d = _graph()
    seeds = head_seeds("backward", [d], None, False, NDArray)
    order, variables = walk("backward", seeds)
    assert [id(node) for node in order] == [id(node) for node in toposort([d._tracer.node])]
    assert {id(node) for node in variables} == {id(x._tracer.node), id(w._tracer.node)}
    d.backward()
    xv, wv = np.array([1.0, 2.0]), np.array([3.0, 4.0])

    def f(xv, wv):
        a = xv * wv
        return ((a + xv) * a * a - wv) / (xv + 1)

    eps = 1e-3
    numeric = (f(xv + eps, wv) - f(xv - eps, wv)) / (2 * eps)
    np.testing.assert_allclose(x.grad.asnumpy(), numeric, rtol=1e-3)


def test_walk_refuses_an_interior_node_freed_by_another_head():
    x = _variable([1.0, 2.0])
    with autograd.record():
        y = x * x
        z = y * 2
        w = (y + 1) * 3  # reaches the freed y only deep inside its graph
    z.backward()
    with pytest.raises(RuntimeError, match=r"already used by a backward pass that freed it"):
        w.backward()


def test_consumed_marks_of_dead_nodes_are_swept():
    x = _variable([1.0, 2.0])
    with autograd.record():
        kept = x * x
    kept.backward()  # kept's node stays alive and marked
    for _ in range(3 * 1024):
        with autograd.record():
            z = x * 2 + 1
        z.backward()
    del z
    gc.collect()
    recording_state._sweep()
    # only live nodes keep a mark: kept's (plus at most a few recent ones)
    assert len(recording_state.CONSUMED) < 16
    assert recording_state.is_consumed(kept._tracer.node)
    with pytest.raises(RuntimeError, match=r"pass retain_graph=True"):
        kept.backward()


def test_a_new_node_reusing_a_dead_nodes_id_is_not_refused():
    x = _variable([1.0, 2.0])
    for _ in range(200):  # ids of freed nodes are reused by the allocator
        with autograd.record():
            z = x * x
        z.backward()
        assert x.grad.asnumpy().tolist() == [2, 4]


def test_retained_graphs_are_not_marked():
    x = _variable([1.0, 2.0])
    with autograd.record():
        z = x * x
    z.backward(retain_graph=True)
    assert not recording_state.is_consumed(z._tracer.node)
    z.backward()
    assert recording_state.is_consumed(z._tracer.node)


def test_scopes_nest_and_restore_both_flags():
    scope = autograd.record()
    with scope:
        with autograd.pause(train_mode=True):
            assert not autograd.is_recording() and autograd.is_training()
            with scope:  # the same scope object entered again
                assert autograd.is_recording() and autograd.is_training()
            assert not autograd.is_recording() and autograd.is_training()
        assert autograd.is_recording() and autograd.is_training()
    assert not autograd.is_recording() and not autograd.is_training()


def test_backward_leaves_the_flags_as_they_were():
    x = _variable([1.0, 2.0])
    with autograd.record():
        z = x * x
        z.backward(retain_graph=True, train_mode=False)
        assert autograd.is_recording() and autograd.is_training()
    z.backward()
    assert not autograd.is_recording() and not autograd.is_training()


@pytest.mark.parametrize(
    "other", [2, 2.5, True, np.float64(2.0), np.float32(2.0), np.array([2.0, 3.0], np.float32)]
)
def test_operators_with_every_kind_of_operand(other):
    x = _variable([1.0, 2.0])
    with autograd.record():
        left = x * other
        right = other * x
        total = left + right
    total.backward()
    expected = 2 * np.broadcast_to(np.asarray(other, np.float32), (2,))
    assert left.dtype is np.float32 and right.dtype is np.float32
    np.testing.assert_allclose(x.grad.asnumpy(), expected)


def test_operators_on_unrecorded_arrays_inside_record():
    plain = nd.array([1.0, 2.0])
    other = nd.array([3.0, 4.0])
    with autograd.record():
        product = plain * other
        reflected = 2 - plain
    assert product._tracer is None and reflected._tracer is None
    assert product.asnumpy().tolist() == [3, 8] and reflected.asnumpy().tolist() == [1, 0]


def test_operators_refuse_unsupported_operands():
    x = nd.array([1.0, 2.0])
    for recording in (False, True):
        with autograd.record() if recording else autograd.pause():
            with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \*"):
                x * object()
            with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for -"):
                object() - x
