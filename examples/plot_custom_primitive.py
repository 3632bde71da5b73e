"""
A custom primitive: Kepler's equation, differentiated implicitly
================================================================

A planet on an elliptical orbit of eccentricity :math:`e` is at *eccentric anomaly*
:math:`E` when its *mean anomaly* (the time since perihelion, as an angle) is :math:`M`,
where

.. math::

    E - e \\sin E = M .

There is no closed form for :math:`E(M, e)`: it is found by Newton's method.  Tracing
through the iterations would record every step and differentiate the convergence of the
solver rather than the solution.  Instead, :func:`adfun.primitive` makes the solver one
operation, and the implicit function theorem gives its derivatives: differentiating
:math:`E - e \\sin E = M` gives

.. math::

    \\frac{\\partial E}{\\partial M} = \\frac{1}{1 - e \\cos E}, \\qquad
    \\frac{\\partial E}{\\partial e} = \\frac{\\sin E}{1 - e \\cos E}.
"""

import matplotlib.pyplot as plt
import numpy as np

import adfun as ad
import adfun.numpy as anp


@ad.primitive
def eccentric_anomaly(mean_anomaly, eccentricity):
    """Solve E - e sin E = M for E by Newton's method (plain NumPy, elementwise)."""
    mean_anomaly, eccentricity = np.broadcast_arrays(mean_anomaly, eccentricity)
    anomaly = np.where(eccentricity > 0.8, np.pi, mean_anomaly).astype(float)
    for _ in range(50):
        step = (anomaly - eccentricity * np.sin(anomaly) - mean_anomaly) / (
            1.0 - eccentricity * np.cos(anomaly)
        )
        anomaly = anomaly - step
        if np.max(np.abs(step)) < 1e-14:
            break
    return anomaly


# The rules use adfun.numpy, so they can be differentiated again (second derivatives).
# Each returns the contribution for one argument; with broadcasting, an argument that was
# a scalar gets the sum over the broadcast entries.
def _vjp_mean_anomaly(g, ans, mean_anomaly, eccentricity):
    return _sum_to(g / (1.0 - eccentricity * anp.cos(ans)), mean_anomaly)


def _vjp_eccentricity(g, ans, mean_anomaly, eccentricity):
    return _sum_to(g * anp.sin(ans) / (1.0 - eccentricity * anp.cos(ans)), eccentricity)


def _sum_to(value, like):
    """Sum a broadcast contribution back to a scalar argument."""
    return anp.sum(value) if len(getattr(like, "shape", ())) == 0 else value


eccentric_anomaly.defvjp(_vjp_mean_anomaly, _vjp_eccentricity)
eccentric_anomaly.defjvp(
    lambda t, ans, mean_anomaly, eccentricity: t / (1.0 - eccentricity * anp.cos(ans)),
    lambda t, ans, mean_anomaly, eccentricity: t * anp.sin(ans)
    / (1.0 - eccentricity * anp.cos(ans)),
)

# %%
# The solver is one node of the graph, whatever the number of Newton steps:

print(ad.trace(eccentric_anomaly)(1.0, 0.5))

# %%
# Check the rules against finite differences, in both modes and for both arguments:

M, e, h = 1.0, 0.5, 1e-6
dE_dM, dE_de = ad.grad(eccentric_anomaly, argnums=(0, 1))(M, e)
fd_M = (eccentric_anomaly(M + h, e) - eccentric_anomaly(M - h, e)) / (2 * h)
fd_e = (eccentric_anomaly(M, e + h) - eccentric_anomaly(M, e - h)) / (2 * h)
forward = ad.jvp(eccentric_anomaly, (M, e), (1.0, 0.0))[1]
print(f"dE/dM: reverse {dE_dM:.10f}  forward {forward:.10f}  finite differences {fd_M:.10f}")
print(f"dE/de: reverse {dE_de:.10f}  finite differences {fd_e:.10f}")

# %%
# The eccentric anomaly and its derivative along the orbit, for several eccentricities.
# ``elementwise_grad`` goes through the primitive's reverse rule; the steep rise of
# :math:`dE/dM` near perihelion for large :math:`e` is where the planet moves fastest.

mean_anomalies = np.linspace(0.0, 2.0 * np.pi, 400)
fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
for eccentricity in (0.0, 0.3, 0.6, 0.9):
    top.plot(mean_anomalies, eccentric_anomaly(mean_anomalies, eccentricity),
             label=f"e = {eccentricity}")
    bottom.plot(mean_anomalies, ad.elementwise_grad(eccentric_anomaly)(mean_anomalies,
                                                                       eccentricity),
                label=f"e = {eccentricity}")
top.set_ylabel("eccentric anomaly E")
top.set_title("Kepler's equation solved by a custom primitive")
top.legend()
bottom.set_ylabel("dE/dM (implicit rule)")
bottom.set_xlabel("mean anomaly M")
bottom.set_yscale("log")
plt.show()
