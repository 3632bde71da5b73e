"""
tanh and its first four derivatives
===================================

Nesting :func:`adfun.elementwise_grad` four times gives the first four derivatives of
``tanh`` at every point of a grid, from one definition of ``tanh`` and no formulas.
"""

import matplotlib.pyplot as plt
import numpy as np

import adfun as ad
import adfun.numpy as anp

x = np.linspace(-7.0, 7.0, 500)

# %%
# Each application of ``elementwise_grad`` differentiates the previous function; the
# rules of ``tanh`` are themselves written with ``adfun.numpy``, so they can be
# differentiated again.

functions = [anp.tanh]
for _ in range(4):
    functions.append(ad.elementwise_grad(functions[-1]))

labels = ["tanh", "first derivative", "second", "third", "fourth"]
fig, ax = plt.subplots(figsize=(8, 5))
for function, label in zip(functions, labels):
    ax.plot(x, function(x), label=label)
ax.set_xlabel("x")
ax.set_title("tanh and its first four derivatives")
ax.legend()
ax.grid(alpha=0.3)

# %%
# The first derivative is :math:`1 - \tanh^2 x`; check it against the closed form:

print("max |d tanh - (1 - tanh^2)| =", np.max(np.abs(functions[1](x) - (1 - np.tanh(x) ** 2))))
plt.show()
