"""The engine: frozen records, the graph, tracing, and the reverse and forward passes.

Nothing here imports the transforms, staging, ``adfun.numpy`` or the imperative layer;
the primitives the engine needs itself are reached through the dispatch tables of
:mod:`adfun._engine.records`.
"""
