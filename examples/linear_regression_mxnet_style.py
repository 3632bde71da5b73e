"""Linear regression with MXNet-style imperative autograd, on adfun.

A training loop as MXNet 1.x users write it: parameters with ``attach_grad()``, the loss
computed inside ``autograd.record()``, ``loss.backward()``, and a hand-written SGD step on
``w.grad``.  It fits ``y = X @ [2, -3.4] + 4.2`` plus noise and prints the loss falling.

Run with ``python examples/linear_regression_mxnet_style.py``.
"""

import adfun as mx
from adfun import autograd, nd

mx.random.seed(42)

num_examples, num_inputs = 1000, 2
true_w = nd.array([[2], [-3.4]])
true_b = 4.2
X = nd.random_normal(shape=(num_examples, num_inputs))
y = nd.dot(X, true_w) + true_b + 0.01 * nd.random_normal(shape=(num_examples, 1))

w = nd.random_normal(scale=0.01, shape=(num_inputs, 1))
b = nd.zeros((1,))
params = [w, b]
for param in params:
    param.attach_grad()


def net(inputs):
    return nd.dot(inputs, w) + b


def square_loss(prediction, label):
    return (prediction - label.reshape(prediction.shape)) ** 2 / 2


def sgd(params, learning_rate, batch_size):
    for param in params:
        param[:] = param - learning_rate * param.grad / batch_size


batch_size, learning_rate, epochs = 10, 0.03, 3
for epoch in range(epochs):
    for start in range(0, num_examples, batch_size):
        data, label = X[start:start + batch_size], y[start:start + batch_size]
        with autograd.record():
            loss = square_loss(net(data), label)
        loss.backward()  # non-scalar: the gradient of loss.sum()
        sgd(params, learning_rate, batch_size)
    train_loss = square_loss(net(X), y).mean().asscalar()
    print(f"epoch {epoch + 1}, loss {train_loss:.6f}")

print("estimated w:", w.reshape((-1,)).asnumpy(), "true w: [ 2.  -3.4]")
print("estimated b:", b.asscalar(), "true b:", true_b)
