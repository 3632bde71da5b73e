"""Quickstart: gradients of a small model with adfun's functional transforms.

Run it with ``python examples/quickstart.py``.
"""

import numpy as np

import adfun as ad
import adfun.numpy as anp


def predict(params, inputs):
    """A one-hidden-layer network: tanh hidden units and a linear output."""
    hidden = anp.tanh(inputs @ params["w1"] + params["b1"])
    return hidden @ params["w2"] + params["b2"]


def loss(params, inputs, targets):
    """Mean squared error of the network on a batch."""
    return anp.mean((predict(params, inputs) - targets) ** 2)


def main():
    rng = np.random.default_rng(0)
    params = {
        "w1": rng.standard_normal((3, 4)) * 0.5,
        "b1": np.zeros(4),
        "w2": rng.standard_normal((4, 1)) * 0.5,
        "b2": np.zeros(1),
    }
    inputs = rng.standard_normal((8, 3))
    targets = np.sin(inputs.sum(axis=1, keepdims=True))

    # grad: the derivative of a scalar function, with the structure of its argument.
    print("d/dx sin(x) at 0:", ad.grad(anp.sin)(0.0))
    gradients = ad.grad(loss)(params, inputs, targets)
    print("gradient shapes:", {name: g.shape for name, g in gradients.items()})

    # value_and_grad: one forward pass, both results; a few steps of gradient descent.
    step = ad.value_and_grad(loss)
    for iteration in range(5):
        value, gradients = step(params, inputs, targets)
        params = {name: params[name] - 0.1 * gradients[name] for name in params}
        print(f"step {iteration}: loss = {value:.6f}")

    # vjp: the vector-Jacobian product of a vector-valued function.
    out, vjp_fn = ad.vjp(lambda x: anp.sin(x) * x, np.array([0.0, 1.0, 2.0]))
    (cotangent,) = vjp_fn(np.ones(3))
    print("f(x) =", out)
    print("ones @ J =", cotangent)

    # Nesting: second derivative of tanh, no perturbation confusion.
    print("tanh''(0.5) =", ad.grad(ad.grad(anp.tanh))(0.5))
    print("nested:", ad.grad(lambda x: x * ad.grad(lambda y: x + y)(2.0))(3.0))


if __name__ == "__main__":
    main()
