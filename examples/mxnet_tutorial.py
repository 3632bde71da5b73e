"""MXNet's autograd tutorial, run on adfun: only the import lines differ from MXNet.

With MXNet the first two lines would read ``import mxnet as mx`` and
``from mxnet import nd, autograd``; everything below is unchanged MXNet 1.x code and prints
what MXNet prints (the last part depends on random numbers).

Run with ``python examples/mxnet_tutorial.py``.
"""

import adfun as mx
from adfun import autograd, nd

mx.random.seed(1)

# --- Attaching gradients -------------------------------------------------------------------
# We differentiate f(x) = 2 * x**2 at a 2x2 point.  attach_grad() allocates x.grad, where
# backward() will store df/dx.
x = nd.array([[1, 2], [3, 4]])
x.attach_grad()

# Operations inside autograd.record() are recorded as a graph, on the fly.
with autograd.record():
    y = x * 2
    z = y * x

# z is not a scalar: backward() then uses a head gradient of ones, i.e. it computes the
# gradient of nd.sum(z).  dz/dx = 4 * x.
z.backward()
print(x.grad)
print(mx.nd.sum(x))

# --- Head gradients and the chain rule -------------------------------------------------------
# If z is an intermediate value of a larger computation whose gradient dL/dz is known,
# pass it to backward(): x.grad becomes dL/dz * dz/dx.
with autograd.record():
    y = x * 2
    z = y * x

head_gradient = nd.array([[10, 1.], [.1, .01]])
z.backward(head_gradient)
print(x.grad)

# --- Python control flow ---------------------------------------------------------------------
# The graph records what actually ran, so loops and branches that depend on the values
# are differentiated like any other code.
a = nd.random_normal(shape=3)
a.attach_grad()

with autograd.record():
    b = a * 2
    while (nd.norm(b) < 1000).asscalar():
        b = b * 2

    if (mx.nd.sum(b) > 0).asscalar():
        c = b
    else:
        c = 100 * b

# c is a linear function of a (c = k * a for the k the loop and branch chose), so the
# gradient is head_gradient * c / a.
head_gradient = nd.array([0.01, 1.0, .1])
c.backward(head_gradient)

print(a.grad)
print(head_gradient * c / a)
