"""
Newton's method on the Rosenbrock function
==========================================

Newton's method needs the Hessian, but only through products :math:`H v`: solving
:math:`H p = -\\nabla f` with conjugate gradients (CG) touches :math:`H` through such
products alone.  A Hessian-vector product is forward mode applied to the gradient
(*forward over reverse*), so it costs a few gradient evaluations and never forms
:math:`H`::

    hvp(x, v) = jvp(grad(f), (x,), (v,))[1]

This example runs Newton-CG on the two-dimensional Rosenbrock function from the classic
start :math:`(-1.2, 1)` and draws the path to the minimum at :math:`(1, 1)`.
"""

import matplotlib.pyplot as plt
import numpy as np

import adfun as ad
import adfun.numpy as anp


def rosenbrock(x):
    return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


gradient = ad.grad(rosenbrock)


def hessian_vector_product(x, v):
    """H(x) @ v by forward mode over reverse mode, without forming H."""
    return ad.jvp(gradient, (x,), (v,))[1]


# %%
# Conjugate gradients solve :math:`H p = b` from products :math:`H v` only.  Stopping
# when the curvature turns non-positive keeps the step a descent direction.


def conjugate_gradient(matvec, b, steps=10, tolerance=1e-10):
    p = np.zeros_like(b)
    residual = b.copy()
    direction = residual.copy()
    for _ in range(steps):
        h_direction = matvec(direction)
        curvature = direction @ h_direction
        if curvature <= 0:
            return p if p.any() else b  # fall back to steepest descent
        alpha = (residual @ residual) / curvature
        p = p + alpha * direction
        new_residual = residual - alpha * h_direction
        if np.linalg.norm(new_residual) < tolerance:
            break
        beta = (new_residual @ new_residual) / (residual @ residual)
        direction = new_residual + beta * direction
        residual = new_residual
    return p


# %%
# Each Newton step solves for the direction with a few CG steps and backtracks until
# the function decreases enough (an Armijo line search).

x = np.array([-1.2, 1.0])
path = [x]
for iteration in range(50):
    g = gradient(x)
    if np.linalg.norm(g) < 1e-10:
        break
    step = conjugate_gradient(lambda v: hessian_vector_product(x, v), -g)
    t = 1.0
    while rosenbrock(x + t * step) > rosenbrock(x) + 1e-4 * t * (g @ step):
        t *= 0.5
    x = x + t * step
    path.append(x)
path = np.array(path)
print(f"{len(path) - 1} Newton steps, x = {np.round(x, 8)}, f(x) = {rosenbrock(x):.2e}")

# %%
# The Hessian-vector product agrees with the Hessian formed from the closed-form
# second derivatives at the start point:

x0 = np.array([-1.2, 1.0])
exact_hessian = np.array(
    [[1200 * x0[0] ** 2 - 400 * x0[1] + 2, -400 * x0[0]], [-400 * x0[0], 200.0]]
)
v = np.array([0.3, -0.7])
print("H v by forward-over-reverse:", hessian_vector_product(x0, v))
print("H v from the exact Hessian: ", exact_hessian @ v)

# %%
# The path on the contours of :math:`\log(1 + f)`:

grid_x, grid_y = np.meshgrid(np.linspace(-1.6, 1.6, 300), np.linspace(-0.6, 1.8, 300))
values = 100.0 * (grid_y - grid_x**2) ** 2 + (1.0 - grid_x) ** 2
fig, ax = plt.subplots(figsize=(7, 5.5))
ax.contour(grid_x, grid_y, np.log1p(values), levels=30, cmap="viridis", linewidths=0.8)
ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", markersize=4, label="Newton-CG")
ax.plot([1.0], [1.0], "k*", markersize=14, label="minimum (1, 1)")
ax.set_xlabel("$x_0$")
ax.set_ylabel("$x_1$")
ax.set_title("Newton's method with Hessian-vector products on Rosenbrock")
ax.legend()
plt.show()
