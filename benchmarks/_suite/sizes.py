"""Problem sizes: the issue's (full) and a tiny set for smoke tests (``--quick``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Sizes:
    chain_ops: int  # W1, W7: operations of the 0-d chain
    deep_ops: int  # W4
    mlp_batch: int  # W2
    mlp_layers: tuple[int, ...]
    elementwise: int  # W3: length of x
    hvp_side: int  # W5: A is hvp_side x hvp_side
    imperative_small: int  # W6: side of the small square array
    imperative_large: int  # W6: side of the large one
    min_sample: float  # seconds: a timing sample repeats a call until it lasts this long
    deep_repeat_cap: int  # W4 repeats at most this many rounds (one call takes seconds)
    jacobian_side: int = 100  # W8, W9: the functions map R^n -> R^n, R^n -> R
    per_example_batch: int = 256  # W10: examples (with W2's layers)

    def as_dict(self) -> dict:
        return asdict(self)


FULL = Sizes(
    chain_ops=1000,
    deep_ops=100_000,
    mlp_batch=256,
    mlp_layers=(784, 512, 512, 10),
    elementwise=1_000_000,
    hvp_side=1000,
    imperative_small=2,
    imperative_large=1000,
    min_sample=0.02,
    deep_repeat_cap=5,
)

QUICK = Sizes(
    chain_ops=40,
    deep_ops=400,
    mlp_batch=8,
    mlp_layers=(16, 8, 8, 4),
    elementwise=1000,
    hvp_side=20,
    imperative_small=2,
    imperative_large=20,
    min_sample=0.0005,
    deep_repeat_cap=2,
    jacobian_side=6,
    per_example_batch=4,
)
