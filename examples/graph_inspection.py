"""Hold the program you differentiate: trace, print, draw, replay and differentiate a graph.

Run it with ``python examples/graph_inspection.py [OUTPUT_DIR]``.  It writes
``OUTPUT_DIR/loss.dot`` (default: the current directory) and, if Graphviz's ``dot``
program is installed, renders ``loss.svg`` next to it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import adfun as ad
import adfun.numpy as anp


def loss(params, inputs, targets):
    """Squared error of a tiny linear model with a tanh output."""
    prediction = anp.tanh(inputs @ params["w"] + params["b"])
    return anp.mean((prediction - targets) ** 2)


def main(output_dir: Path) -> None:
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal(3), "b": 0.1}
    inputs = rng.standard_normal((5, 3))
    targets = rng.standard_normal(5)

    # 1. Trace once: the result is an immutable Graph, not a number.
    graph = ad.trace(loss)(params, inputs, targets)
    print(graph)
    print("primitives:", [node.primitive.name for node in graph.nodes])

    # 2. Replay on new values of the same shapes and dtypes: loss itself is not called.
    new_inputs = rng.standard_normal((5, 3))
    assert np.isclose(graph(params, new_inputs, targets), loss(params, new_inputs, targets))
    print("replayed loss:", float(graph(params, new_inputs, targets)))

    # 3. Every transform accepts the graph in place of the function.
    gradient = ad.grad(graph)(params, inputs, targets)
    expected = ad.grad(loss)(params, inputs, targets)
    assert np.allclose(gradient["w"], expected["w"])
    print("gradient of the graph:", gradient)

    # 4. Graphs compare by structure: a second trace on same-shaped inputs is equal.
    again = ad.trace(loss)(params, new_inputs, targets)
    print("equal to a second trace:", graph == again, "| equal hashes:",
          hash(graph) == hash(again))

    # 5. The gradient computation is itself a program: trace it and count its nodes.
    gradient_graph = ad.trace(ad.grad(loss))(params, inputs, targets)
    print(f"the gradient program has {len(gradient_graph.nodes)} nodes")

    # 6. Draw it: DOT source needs no Graphviz; rendering does.
    output_dir.mkdir(parents=True, exist_ok=True)
    dot_path = output_dir / "loss.dot"
    dot_path.write_text(graph.to_dot())
    print("wrote", dot_path)
    dot_program = shutil.which("dot")
    if dot_program is None:
        print("Graphviz 'dot' not found: render later with  dot -Tsvg loss.dot -o loss.svg")
        return
    svg_path = output_dir / "loss.svg"
    subprocess.run([dot_program, "-Tsvg", str(dot_path), "-o", str(svg_path)], check=True)
    print("wrote", svg_path)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
