"""
Logistic regression with SciPy's optimiser
==========================================

:func:`adfun.value_and_grad` returns the loss and its gradient from one forward pass,
which is exactly what :func:`scipy.optimize.minimize` asks for with ``jac=True``.  Here it
fits a logistic regression with an L2 penalty on a synthetic two-class problem and draws
the decision boundary.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize

import adfun as ad
import adfun.numpy as anp

# %%
# The data: two Gaussian clouds in the plane, with a column of ones for the intercept.

rng = np.random.default_rng(0)
n = 200
labels = rng.integers(0, 2, n).astype(float)
centers = np.where(labels[:, None] == 1.0, [1.5, 1.0], [-1.0, -1.0])
points = centers + rng.standard_normal((n, 2))
features = np.hstack([points, np.ones((n, 1))])

# %%
# The loss is the mean negative log-likelihood, written in the numerically stable form
# :math:`\log(1 + e^{z}) - y z = \max(z, 0) + \log(1 + e^{-|z|}) - y z`, plus a small
# penalty on the weights (not on the intercept).


def loss(weights, features, labels, penalty=1e-2):
    logits = features @ weights
    log_one_plus_exp = anp.maximum(logits, 0.0) + anp.log(1.0 + anp.exp(-anp.abs(logits)))
    data_term = anp.mean(log_one_plus_exp - labels * logits)
    return data_term + penalty * anp.sum(weights[:2] ** 2)


value_and_gradient = ad.value_and_grad(loss)

result = minimize(
    value_and_gradient, np.zeros(3), args=(features, labels), jac=True, method="BFGS"
)
weights = result.x
accuracy = np.mean((features @ weights > 0) == (labels == 1.0))
print(f"converged: {result.success}, {result.nit} iterations, loss {result.fun:.4f}")
print(f"weights: {np.round(weights, 3)}, training accuracy: {accuracy:.1%}")

# %%
# ``jac=True`` trusts our gradient, so compare it once with SciPy's finite differences:

from scipy.optimize import check_grad  # noqa: E402

error = check_grad(
    lambda w: loss(w, features, labels),
    lambda w: ad.grad(loss)(w, features, labels),
    np.array([0.3, -0.2, 0.1]),
)
print(f"|adfun gradient - finite differences| = {error:.2e}")

# %%
# The fitted probability and the decision boundary :math:`w_0 x + w_1 y + b = 0`:

grid_x, grid_y = np.meshgrid(np.linspace(-4, 5, 200), np.linspace(-4, 4.5, 200))
grid = np.stack([grid_x.ravel(), grid_y.ravel(), np.ones(grid_x.size)], axis=1)
probability = 1.0 / (1.0 + np.exp(-(grid @ weights)))

fig, ax = plt.subplots(figsize=(7, 6))
contour = ax.contourf(grid_x, grid_y, probability.reshape(grid_x.shape), levels=20,
                      cmap="RdBu_r", alpha=0.6)
fig.colorbar(contour, ax=ax, label="P(class 1)")
ax.contour(grid_x, grid_y, probability.reshape(grid_x.shape), levels=[0.5], colors="k")
ax.scatter(*points[labels == 0].T, s=12, c="tab:blue", edgecolors="k", linewidths=0.3,
           label="class 0")
ax.scatter(*points[labels == 1].T, s=12, c="tab:red", edgecolors="k", linewidths=0.3,
           label="class 1")
ax.set_title("Logistic regression fitted with BFGS and adfun's gradient")
ax.legend(loc="upper left")
plt.show()
