"""
The graph of a small program, as a picture
==========================================

:func:`adfun.trace` returns the expression graph that the transforms walk: every node
with its primitive, its parents and its params.  Because the graph is plain data, a few
lines of Matplotlib draw it: here, the loss of a one-layer network with a softplus
output.  Each box is a node (primitive name and shape); arrows go from parents to
children; inputs are at the top, the loss at the bottom.
"""

import matplotlib.pyplot as plt
import numpy as np

import adfun as ad
import adfun.numpy as anp


def loss(w, b, x, y):
    z = anp.tanh(x @ w + b)
    softplus = anp.log(1.0 + anp.exp(z))
    return anp.mean((softplus - y) ** 2)


rng = np.random.default_rng(0)
w, b = rng.standard_normal((3, 2)), np.zeros(2)
x, y = rng.standard_normal((5, 3)), np.ones((5, 2))
args = (w, b, x, y)
graph = ad.trace(loss)(*args)
print(f"{len(graph.nodes)} nodes, {len(graph.inputs)} inputs, {len(graph.outputs)} output")

# %%
# The layout: the depth of a node is one more than the deepest of its parents (nodes are
# in topological order, so one pass suffices), and an input sits just above its first
# use.  Nodes of equal depth share a row, inputs to the right of the computation.

index = {id(node): position for position, node in enumerate(graph.nodes)}
inputs = {id(node) for node in graph.inputs}
outputs = {id(node) for node in graph.outputs}
depth = []
for node in graph.nodes:
    depth.append(1 + max((depth[index[id(p)]] for p in node.parents), default=-1))
for node in graph.nodes:
    for parent in node.parents:
        if id(parent) in inputs:
            position = index[id(parent)]
            first_use = depth[index[id(node)]] - 1
            depth[position] = first_use if depth[position] == 0 else min(depth[position],
                                                                           first_use)
rows = {}
for position, level in enumerate(depth):
    rows.setdefault(level, []).append(position)
coordinates = {}
for level, members in rows.items():
    inner = [p for p in members if id(graph.nodes[p]) not in inputs]
    leaves = [p for p in members if id(graph.nodes[p]) in inputs]
    if not inner:
        inner, leaves = leaves, []
    for slot, position in enumerate(inner):
        coordinates[position] = (slot - (len(inner) - 1) / 2.0, -level)
    for slot, position in enumerate(leaves):
        coordinates[position] = (len(inner) / 2.0 + 0.7 + slot, -level)

# %%
# The picture: inputs in blue, the output in red, every other node a primitive.

fig, ax = plt.subplots(figsize=(7, 8))
for position, node in enumerate(graph.nodes):
    x, y = coordinates[position]
    for parent in node.parents:
        px, py = coordinates[index[id(parent)]]
        ax.annotate("", xy=(x, y + 0.18), xytext=(px, py - 0.18),
                    arrowprops=dict(arrowstyle="->", color="0.4", lw=1.0))
    color = ("#cfe2ff" if id(node) in inputs else "#f8d7da" if id(node) in outputs
             else "#f1f3f5")
    params = ", ".join(f"{key}={value}" for key, value in node.params.items())
    label = f"{node.primitive.name}\n{node.shape}" + (f"\n{params}" if params else "")
    ax.text(x, y, label, ha="center", va="center", fontsize=8.5, family="monospace",
            bbox=dict(boxstyle="round,pad=0.35", facecolor=color, edgecolor="0.3"))
ax.set_xlim(-2.0, 2.4)
ax.set_ylim(-max(depth) - 0.6, 0.6)
ax.axis("off")
ax.set_title("ad.trace(loss)(w, b, x, y)")
plt.show()

# %%
# The same graph as adfun prints it: one line per node, like a jaxpr.  ``graph.to_dot()``
# gives the Graphviz source of the same picture.

print(graph)
