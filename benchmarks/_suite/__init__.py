"""Parts of ``benchmarks/suite.py``: timing, memory, peers, workloads and the report.

Not a public package: ``suite.py`` puts ``benchmarks/`` on ``sys.path`` and imports these
modules after it has pinned the BLAS and XLA thread counts (which must happen before
NumPy, PyTorch or JAX is imported).
"""
