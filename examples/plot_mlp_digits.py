"""
An MLP classifier trained with the imperative layer
===================================================

The MXNet way of training: parameters are ``NDArray`` s with a gradient buffer
(``attach_grad``), the forward pass is recorded inside ``autograd.record()``,
``loss.backward()`` fills the buffers, and a plain SGD step updates the parameters in
place, outside the recording.  The data are scikit-learn's bundled handwritten digits
(8x8 images, 10 classes), which come with the package, so nothing is downloaded.

This is MXNet 1.x code with ``adfun`` in place of ``mxnet`` on the import lines; the
gradients come from the same engine and rules as :func:`adfun.grad`.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import adfun as mx
from adfun import autograd, nd

mx.random.seed(0)

# %%
# The data: pixel intensities scaled to [0, 1], one-hot labels, a held-out test set.

digits = load_digits()
rng = np.random.default_rng(0)
order = rng.permutation(len(digits.target))
images = digits.data[order] / 16.0
labels = digits.target[order]
train, test = slice(0, 1400), slice(1400, None)
x_train, x_test = nd.array(images[train]), nd.array(images[test])
y_train = nd.array(np.eye(10)[labels[train]])

# %%
# A network with one hidden layer of 64 tanh units, its parameters with gradient
# buffers, and the softmax cross-entropy loss.

sizes = [(64, 64), (64, 10)]
params = []
for fan_in, fan_out in sizes:
    weight = nd.random.normal(0.0, 1.0 / np.sqrt(fan_in), shape=(fan_in, fan_out))
    bias = nd.zeros((fan_out,))
    params += [weight, bias]
for param in params:
    param.attach_grad()


def net(x):
    w1, b1, w2, b2 = params
    hidden = nd.tanh(nd.dot(x, w1) + b1)
    return nd.dot(hidden, w2) + b2


def cross_entropy(logits, onehot):
    return -nd.sum(nd.log_softmax(logits, axis=1) * onehot) / logits.shape[0]


# %%
# Training: minibatch SGD, recording only the forward pass.

batch_size, learning_rate = 100, 0.5
losses = []
for epoch in range(30):
    permutation = rng.permutation(1400)
    epoch_loss = 0.0
    for start in range(0, 1400, batch_size):
        index = permutation[start:start + batch_size]
        x_batch, y_batch = x_train[index], y_train[index]
        with autograd.record():
            loss = cross_entropy(net(x_batch), y_batch)
        loss.backward()
        for param in params:
            param[:] = param - learning_rate * param.grad
        epoch_loss += loss.asscalar() * len(index) / 1400
    losses.append(epoch_loss)
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1:2d}: training loss {epoch_loss:.4f}")

predictions = net(x_test).asnumpy().argmax(axis=1)
accuracy = float(np.mean(predictions == labels[test]))
print(f"test accuracy: {accuracy:.1%} on {len(predictions)} held-out digits")

# %%
# The loss curve:

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(np.arange(1, len(losses) + 1), losses, marker="o", markersize=3)
ax.set_xlabel("epoch")
ax.set_ylabel("training cross-entropy")
ax.set_yscale("log")
ax.set_title(f"MLP on scikit-learn's digits (test accuracy {accuracy:.1%})")
ax.grid(alpha=0.3)
plt.show()
