"""
Per-example gradients with ``vmap``: finding mislabelled examples
=================================================================

``ad.grad`` of a batch loss returns one gradient, the sum over the examples.  Some
methods need each example's own gradient: differentially private training clips every
one before averaging, and the size of an example's gradient says how much the model
would have to change to fit it, which makes unusually large ones a good hint of a wrong
label.  :func:`adfun.vmap` of :func:`adfun.grad` computes all of them in one pass, each
operation of the network applied once to the whole batch.

Here a small network is trained on two noisy spirals in which a few labels were flipped
on purpose; the per-example gradient norms then point at the flipped examples.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

import adfun as ad
import adfun.numpy as anp

# %%
# The data: two interleaved spirals, 400 points, and 5 % of the labels flipped.

rng = np.random.default_rng(0)
n = 400
labels = rng.integers(0, 2, n).astype(float)
radius = rng.uniform(0.3, 1.0, n)
angle = 3.0 * np.pi * radius + np.pi * labels
points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
points += 0.03 * rng.standard_normal(points.shape)
flipped = rng.choice(n, size=n // 20, replace=False)
noisy_labels = labels.copy()
noisy_labels[flipped] = 1.0 - noisy_labels[flipped]

# %%
# The model is a network with two hidden layers of 32 units.  The loss is written for
# *one* example (a vector ``x`` and its label ``y``); the batch loss is its mean.


def init(sizes, rng):
    return [
        (rng.standard_normal((m, k)) / np.sqrt(m), np.zeros(k))
        for m, k in zip(sizes[:-1], sizes[1:])
    ]


def example_loss(params, x, y):
    hidden = x
    for w, b in params[:-1]:
        hidden = anp.tanh(hidden @ w + b)
    w, b = params[-1]
    logit = anp.sum(hidden @ w + b)
    return anp.logaddexp(0.0, logit) - y * logit  # the logistic loss


def batch_loss(params, xs, ys):
    return anp.mean(ad.vmap(example_loss, in_axes=(None, 0, 0))(params, xs, ys))


params = init([2, 32, 32, 1], rng)
value_and_gradient = ad.jit(ad.value_and_grad(batch_loss))
step, moments = 0.05, [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
steps = 1500
for _ in range(steps):  # gradient descent with momentum, on the noisy labels
    loss, grads = value_and_gradient(params, points, noisy_labels)
    moments = [(0.9 * mw + gw, 0.9 * mb + gb) for (mw, mb), (gw, gb) in zip(moments, grads)]
    params = [(w - step * mw, b - step * mb) for (w, b), (mw, mb) in zip(params, moments)]
print(f"training loss after {steps} steps: {loss:.3f}")

# %%
# One gradient per example: ``vmap`` of ``grad``, with the parameters shared
# (``in_axes=None``) and the examples batched along axis 0.  The result has the
# parameters' structure, with a leading axis of 400 on every array.

per_example = ad.vmap(ad.grad(example_loss), in_axes=(None, 0, 0))
gradients = per_example(params, points, noisy_labels)
print("shapes:", [(w.shape, b.shape) for w, b in gradients])

norms = np.sqrt(sum(np.sum(w**2, axis=(1, 2)) + np.sum(b**2, axis=1) for w, b in gradients))

# %%
# The same gradients by a Python loop of ``grad``, for comparison: equal, and much slower,
# since the loop pays Python's cost of every operation once per example.

start = time.perf_counter()
gradients = per_example(params, points, noisy_labels)
batched_time = time.perf_counter() - start
start = time.perf_counter()
looped = [ad.grad(example_loss)(params, x, y) for x, y in zip(points, noisy_labels)]
loop_time = time.perf_counter() - start
same = all(
    np.allclose(gw, np.stack([g[layer][0] for g in looped]))
    and np.allclose(gb, np.stack([g[layer][1] for g in looped]))
    for layer, (gw, gb) in enumerate(gradients)
)
print(
    f"vmap(grad): {batched_time * 1e3:.1f} ms, a loop of grad: {loop_time * 1e3:.1f} ms, "
    f"equal: {same}"
)

# %%
# The examples with the largest gradients are mostly the flipped ones:

suspects = np.argsort(norms)[::-1][: len(flipped)]
found = np.intersect1d(suspects, flipped).size
print(f"{found} of the {len(flipped)} largest per-example gradients are flipped labels")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
bins = np.linspace(0.0, norms.max(), 40)
clean = np.setdiff1d(np.arange(n), flipped)
left.hist(norms[clean], bins=bins, color="tab:blue", alpha=0.7, label="correct label")
left.hist(norms[flipped], bins=bins, color="tab:red", alpha=0.8, label="flipped label")
left.set_xlabel("norm of the example's gradient")
left.set_ylabel("examples")
left.set_yscale("log")
left.legend()
left.set_title("Per-example gradient norms")
colours = np.where(noisy_labels == 1.0, "tab:orange", "tab:green")
right.scatter(*points.T, c=colours, s=10)
right.scatter(
    *points[suspects].T, s=90, facecolors="none", edgecolors="k", label="largest gradients"
)
right.scatter(*points[flipped].T, s=14, marker="x", c="tab:red", label="flipped label")
right.set_aspect("equal")
right.legend(loc="lower left", fontsize=8)
right.set_title("The spirals, as labelled")
fig.tight_layout()
plt.show()
