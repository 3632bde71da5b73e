"""The string options of NumPy's functions, as the literal types NumPy's stubs expect.

The wrappers of :mod:`adfun.numpy` pass these options straight to NumPy on plain values;
annotating them with the same literal types as NumPy's stubs lets a type checker match
the call to NumPy's overloads (a plain ``str`` matches none of them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeAlias

OrderKACF: TypeAlias = Literal["K", "A", "C", "F"] | None
OrderACF: TypeAlias = Literal["A", "C", "F"] | None
OrderCF: TypeAlias = Literal["C", "F"] | None
IndexMode: TypeAlias = Literal["raise", "wrap", "clip"]
PartitionKind: TypeAlias = Literal["introselect"]
CorrelateMode: TypeAlias = Literal["valid", "same", "full"]
MeshIndexing: TypeAlias = Literal["ij", "xy"]
FFTNorm: TypeAlias = Literal["backward", "ortho", "forward"] | None
TrimSide: TypeAlias = Literal["f", "b", "fb", "bf"]
UPLO: TypeAlias = Literal["L", "U", "l", "u"]
QRMode: TypeAlias = Literal["reduced", "complete", "r", "raw"]
PadMode: TypeAlias = (
    Literal[
        "constant",
        "edge",
        "linear_ramp",
        "maximum",
        "mean",
        "median",
        "minimum",
        "reflect",
        "symmetric",
        "wrap",
        "empty",
    ]
    | Callable[..., Any]
)
QuantileMethod: TypeAlias = Literal[
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "linear",
    "median_unbiased",
    "normal_unbiased",
    "lower",
    "higher",
    "midpoint",
    "nearest",
]
