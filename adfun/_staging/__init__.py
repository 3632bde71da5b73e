"""Staging: ``ad.jit`` and graph replay (simplification, code generation, listing)."""
