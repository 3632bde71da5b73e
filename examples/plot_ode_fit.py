"""
Fitting the parameters of an ODE
================================

The Lotka-Volterra equations describe prey :math:`u` and predators :math:`v`:

.. math::

    u' = \\alpha u - \\beta u v, \\qquad v' = \\delta u v - \\gamma v.

Given noisy observations of both populations, we recover :math:`(\\alpha, \\beta,
\\gamma, \\delta)` by least squares with :func:`scipy.optimize.minimize`.  The loss
integrates the ODE with :func:`adfun.scipy.integrate.odeint`; its gradient with respect
to the parameters (and the initial state, fitted too) comes from the adjoint method: one
backward integration of the state, its adjoint and the parameters' cotangents, not a
derivative of the solver's steps.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize

import adfun as ad
import adfun.numpy as anp
from adfun.scipy.integrate import odeint


def lotka_volterra(y, t, theta):
    u, v = y[0], y[1]
    alpha, beta, gamma, delta = theta[0], theta[1], theta[2], theta[3]
    return anp.stack([alpha * u - beta * u * v, delta * u * v - gamma * v])


true_theta = np.array([1.0, 0.5, 1.5, 0.6])
true_y0 = np.array([2.0, 1.0])
times = np.linspace(0.0, 8.0, 17)
rng = np.random.default_rng(0)
observed = odeint(lotka_volterra, true_y0, times, args=(true_theta,))
observed = observed * np.exp(0.05 * rng.standard_normal(observed.shape))

# %%
# The loss compares log-populations (both are positive and vary by an order of
# magnitude).  Parameters are fitted on a log scale so that they stay positive.


def loss(log_params):
    theta = anp.exp(log_params[:4])
    y0 = anp.exp(log_params[4:])
    predicted = odeint(lotka_volterra, y0, times, args=(theta,), rtol=1e-8, atol=1e-8)
    return anp.sum((anp.log(predicted) - np.log(observed)) ** 2)


start = np.log(np.array([0.8, 0.4, 1.2, 0.5, 1.5, 1.5]))
result = minimize(ad.value_and_grad(loss), start, jac=True, method="L-BFGS-B")
fitted = np.exp(result.x)
print("converged:", result.success, "after", result.nit, "iterations")
print("true   alpha, beta, gamma, delta:", true_theta)
print("fitted alpha, beta, gamma, delta:", np.round(fitted[:4], 3))

# %%
# The fitted trajectories through the observations:

dense = np.linspace(0.0, 8.0, 200)
curve = odeint(lotka_volterra, fitted[4:], dense, args=(fitted[:4],))
fig, ax = plt.subplots(figsize=(6, 3.5))
for index, (name, color) in enumerate([("prey", "C0"), ("predators", "C3")]):
    ax.plot(times, observed[:, index], "o", color=color, label=f"{name}, observed")
    ax.plot(dense, curve[:, index], "-", color=color, label=f"{name}, fitted")
ax.set_xlabel("t")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
