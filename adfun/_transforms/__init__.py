"""The functional transforms (``grad``, ``vjp``, ``jvp``, Jacobians, ``checkpoint``...)
and the boundary checks they share, on top of the engine."""
