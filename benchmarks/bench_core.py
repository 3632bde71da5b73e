"""Benchmarks of the functional core (issue: the functional core).

Prints, in one run on this machine:

1. microseconds of overhead per primitive for a 1,000-op 0-d chain under ``grad``;
2. gradient time / plain NumPy forward time for ``sum(sin(x)**2 + exp(-x)*cos(x))`` on
   1,000,000 float64 values;
3. ``value_and_grad`` time of an MLP (batch 256, 784-512-512-10, tanh, softmax
   cross-entropy, float64) / a hand-written NumPy forward+backward of the same model
   (after checking that both agree to 1e-8).

Run:  python benchmarks/bench_core.py  [--repeat N]
Medians over the repeats are reported; BLAS threads are pinned to 1 so the ratios compare
like with like.
"""

from __future__ import annotations

import argparse

from _timing import median_time  # pins BLAS threads to one before NumPy is imported

import numpy as np  # noqa: E402, I001

import adfun as ad  # noqa: E402
import adfun.numpy as anp  # noqa: E402


# --- 1. per-op overhead -----------------------------------------------------------------

CHAIN_OPS = 1000


def scalar_chain(x):
    """1,000 primitive applications on a 0-d value: multiply, add, sin, tanh repeated."""
    for _ in range(CHAIN_OPS // 4):
        x = anp.tanh(anp.sin(x * 0.9 + 0.1))
    return x


def per_op_overhead(repeat):
    gradient = ad.grad(scalar_chain)
    x = 0.3
    with_grad = median_time(lambda: gradient(x), repeat)
    plain = median_time(lambda: scalar_chain(np.float64(x)), repeat)
    return (with_grad - plain) / CHAIN_OPS * 1e6, with_grad / CHAIN_OPS * 1e6


# --- 2. elementwise gradient / forward ----------------------------------------------------


def elementwise(x):
    return anp.sum(anp.sin(x) ** 2 + anp.exp(-x) * anp.cos(x))


def elementwise_ratio(repeat):
    x = np.random.default_rng(0).standard_normal(1_000_000)
    forward = median_time(lambda: elementwise(x), repeat)
    gradient = ad.grad(elementwise)
    backward = median_time(lambda: gradient(x), repeat)
    return backward / forward


# --- 3. MLP value_and_grad / hand-written ---------------------------------------------------


def init_mlp(rng, sizes=(784, 512, 512, 10)):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in),
                       np.zeros(fan_out)))
    return params


def mlp_loss(params, inputs, labels_onehot):
    hidden = inputs
    for w, b in params[:-1]:
        hidden = anp.tanh(hidden @ w + b)
    w, b = params[-1]
    logits = hidden @ w + b
    shifted = logits - ad.stop_gradient(anp.max(logits, axis=1, keepdims=True))
    log_norm = anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
    return -anp.sum(labels_onehot * (shifted - log_norm)) / inputs.shape[0]


def mlp_by_hand(params, inputs, labels_onehot):
    """Loss and parameter gradients of the same MLP, forward and backward in NumPy.

    Like the libraries, it stops at the parameters: no gradient flows into the inputs.
    """
    activations = [inputs]
    hidden = inputs
    for w, b in params[:-1]:
        hidden = np.tanh(hidden @ w + b)
        activations.append(hidden)
    w, b = params[-1]
    logits = hidden @ w + b
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    batch = inputs.shape[0]
    loss = -np.sum(labels_onehot * (shifted - np.log(total))) / batch
    delta = (exp / total - labels_onehot) / batch  # d loss / d logits
    grads = [None] * len(params)
    for layer in range(len(params) - 1, -1, -1):
        grads[layer] = (activations[layer].T @ delta, delta.sum(axis=0))
        if layer:  # into the previous layer's tanh; never into the inputs
            delta = (delta @ params[layer][0].T) * (1.0 - activations[layer] ** 2)
    return loss, grads


def mlp_ratio(repeat):
    rng = np.random.default_rng(0)
    params = init_mlp(rng)
    inputs = rng.standard_normal((256, 784))
    labels = np.eye(10)[rng.integers(0, 10, 256)]
    step = ad.value_and_grad(mlp_loss)
    value, grads = step(params, inputs, labels)
    value_hand, grads_hand = mlp_by_hand(params, inputs, labels)
    assert abs(value - value_hand) < 1e-8
    for (gw, gb), (hw, hb) in zip(grads, grads_hand):
        assert np.max(np.abs(gw - hw)) < 1e-8 and np.max(np.abs(gb - hb)) < 1e-8
    ours = median_time(lambda: step(params, inputs, labels), repeat)
    hand = median_time(lambda: mlp_by_hand(params, inputs, labels), repeat)
    return ours / hand, ours * 1e3, hand * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args()
    overhead, total = per_op_overhead(options.repeat)
    print(f"1. per-op overhead, 1,000-op 0-d chain under grad: {overhead:.2f} us/op "
          f"({total:.2f} us/op in all; target <= 5)")
    print(f"2. grad / forward, sum(sin(x)**2 + exp(-x)*cos(x)), 1e6 float64: "
          f"{elementwise_ratio(options.repeat):.2f}x (target <= 2.2)")
    ratio, ours, hand = mlp_ratio(options.repeat)
    print(f"3. MLP 784-512-512-10, batch 256, value_and_grad / hand-written: {ratio:.3f}x "
          f"({ours:.1f} ms vs {hand:.1f} ms; target <= 1.10)")


if __name__ == "__main__":
    main()
