"""Staging: ``ad.jit`` and graph replay (simplification, code generation, listing, pickling).

Importing this package fills :data:`adfun._engine.graph.GRAPH_HOOKS`, through which a
``Graph`` (in the engine, which imports nothing above it) is replayed, listed, drawn,
pickled and deep-copied.
"""

from adfun._engine.graph import GRAPH_HOOKS
from adfun._staging.listing import graph_dot, graph_html, graph_listing
from adfun._staging.pickling import copy_graph, reduce_graph
from adfun._staging.replay import replay
from adfun._staging.source import graph_source

GRAPH_HOOKS.update(
    replay=replay,
    listing=graph_listing,
    dot=graph_dot,
    reduce=reduce_graph,
    deepcopy=copy_graph,
    python=graph_source,
    html=graph_html,
)
