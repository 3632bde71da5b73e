"""``histogram`` and ``histogram_bin_edges`` on traced values.

The counts of unweighted data are constants (piecewise constant in the data).  What
does carry a derivative is kept: the bin edges follow ``min(a)`` and ``max(a)`` when
NumPy derives them from the data, weighted counts are a scatter-add of the weights, and
densities divide by the (differentiable) bin widths.

The counts, each entry's bin and the single-value test of the data are recorded nodes
(NumPy's own binning), so a staged graph bins its new data; ``bins`` given as an
estimator's name (``"auto"``...) chooses the number of bins from the data and refuses
staging.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from adfun._engine.trace import Tracer, any_traced, read_value
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._creation import linspace
from adfun.numpy._declare import Domain, export, function_of_values
from adfun.numpy._indexing import untake
from adfun.numpy._nondiff import greater_equal
from adfun.numpy._reductions import max, min, sum  # noqa: A004
from adfun.numpy._selection import where
from adfun.numpy._shape import ravel
from adfun.numpy._statistics import diff


def _histogram_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    bins = draw(st.integers(1, 4))
    scale = float(draw(st.sampled_from([0.5, 1.0, 2.0])))
    shift = float(draw(st.sampled_from([-1.0, 0.0, 1.5])))
    explicit = draw(st.booleans())
    count = draw(st.integers(1 if explicit else 0, 5))
    # Entries sit near bin centres, away from every edge, so a small perturbation never
    # moves one into another bin; with edges derived from the data, the data also span
    # [0, bins] exactly (the ends move with the extreme entries).
    inner = [
        draw(st.integers(0, bins - 1)) + 0.5 + draw(st.floats(-0.3, 0.3)) for _ in range(count)
    ]
    ends = [] if explicit else [0.0, float(bins)]
    a = np.asarray(ends + inner) * scale + shift
    a = draw(st.permutations(list(a)))
    kwargs: dict = {"density": draw(st.booleans())}
    if explicit:
        kwargs["bins"] = (np.arange(bins + 1) * scale + shift).tolist()
    else:
        kwargs["bins"] = bins
    args: tuple = (np.asarray(a),)
    if draw(st.booleans()):
        kwargs["weights"] = array(draw, st, hnp, (0.5, 2.0), shape=(len(a),))
    return args, kwargs


def _refuse_traced_range(range: Any, name: str) -> None:  # noqa: A002
    if type(range) is Tracer or (isinstance(range, (tuple, list)) and any_traced(range)):
        raise NotImplementedError(
            f"adfun.numpy.{name}: a traced range= is not supported; pass constant bounds"
        )


def _count_of_bins(bins: Any, name: str) -> Any:
    """``bins`` with a traced number of bins read (the result's length depends on it)."""
    if type(bins) is Tracer and len(shape_of(bins)) == 0:
        return read_value(
            bins,
            f"adfun.numpy.{name}",
            "The number of bins decides the result's length, and a staged "
            "program's shapes are fixed. Pass it as a Python int.",
        )
    return bins


def _edges(a: Any, bins: Any, range: Any, weights: Any, name: str) -> tuple:  # noqa: A002
    """The (differentiable) bin edges, the number of bins, and ``bins`` as NumPy takes it
    in the recorded count nodes (a string estimator replaced by the edges it chose)."""
    if isinstance(bins, str):
        # NumPy's estimators choose the number of bins from the data.
        values = (
            read_value(
                a,
                f"adfun.numpy.{name}",
                f"bins={bins!r} chooses the number of bins from the data, and a "
                f"staged program's shapes are fixed. Pass the number of bins "
                f"(an int) or the edges.",
            )
            if type(a) is Tracer
            else a
        )
        weight_values = None if weights is None else np.ones(shape_of(weights)).ravel()
        chosen = np.histogram_bin_edges(np.ravel(values), bins, range, weight_values)
        bins = chosen.shape[0] - 1
    bins = _count_of_bins(bins, name)
    if len(shape_of(bins)) == 1:  # explicit edges: constants or traced
        edges = bins if type(bins) is Tracer else np.asarray(bins)
        if shape_of(edges)[0] < 2:
            raise ValueError(f"adfun.numpy.{name}: `bins` must have at least two edges")
        return edges, shape_of(edges)[0] - 1, edges
    if len(shape_of(bins)) != 0:
        raise ValueError(f"adfun.numpy.{name}: `bins` must be 1d, when an array")
    count = operator.index(bins)
    if count < 1:
        raise ValueError(f"adfun.numpy.{name}: `bins` must be positive, when an integer")
    size = int(np.prod(shape_of(a), dtype=np.int64))
    if type(a) is not Tracer or range is not None or size == 0:
        # The edges depend on constants only (the range, or plain data).
        data = a if type(a) is not Tracer else np.zeros(0, dtype_of(a))
        return np.histogram_bin_edges(np.ravel(data), count, range), count, count
    # Edges from the data: from min(a) to max(a), half a unit either side of a single
    # value; the choice is a recorded node (which also checks that the range is finite).
    widen = where(_single_value(a, name), 0.5, 0.0)
    first, last = min(a) - widen, max(a) + widen
    return linspace(first, last, count + 1), count, count


def _single_value_impl(a: Any, name: str) -> Any:
    """Whether ``a`` holds one value (min == max); NumPy's error for a non-finite range."""
    first, last = np.min(a), np.max(a)
    if not (np.isfinite(first) and np.isfinite(last)):
        raise ValueError(
            f"adfun.numpy.{name}: autodetected range of [{first}, {last}] is not finite"
        )
    return np.asarray(first == last)


def _edges_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    args, kwargs = _histogram_examples(draw, st, hnp)
    if isinstance(kwargs["bins"], list):  # explicit edges would be constants
        kwargs["bins"] = len(kwargs["bins"]) - 1
        return (np.concatenate([args[0], [args[0].min() - 1.0, args[0].max() + 1.0]]),), {
            "bins": kwargs["bins"]
        }
    return args, {"bins": kwargs["bins"]}


@export(np.histogram_bin_edges, domain=Domain(examples=_edges_examples))
def histogram_bin_edges(
    a: Any,
    bins: Any = 10,
    range: Any = None,  # noqa: A002
    weights: Any = None,
) -> Any:
    """:func:`numpy.histogram_bin_edges`; edges derived from the data follow its minimum
    and maximum (differentiably), explicit edges and ranges are constants."""
    _refuse_traced_range(range, "histogram_bin_edges")
    if not any_traced((a, bins, weights)):
        return np.histogram_bin_edges(a, bins, range, weights)
    return _edges(a, bins, range, weights, "histogram_bin_edges")[0]


@export(np.histogram, domain=Domain(examples=_histogram_examples))
def histogram(
    a: Any,
    bins: Any = 10,
    range: Any = None,
    density: Any = None,  # noqa: A002
    weights: Any = None,
) -> Any:
    """Differentiable :func:`numpy.histogram` where a derivative exists.

    The counts of unweighted data are constants; weighted counts are differentiable in
    the weights; the edges follow ``min(a)`` / ``max(a)`` when NumPy derives them from the
    data; ``density=True`` divides by the differentiable bin widths.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp, numpy as np
    >>> data = np.array([0.1, 0.4, 0.45, 0.9])
    >>> ad.grad(lambda w: anp.histogram(data, bins=2, weights=w)[0][1])(np.ones(4))
    array([0., 0., 0., 1.])
    """
    _refuse_traced_range(range, "histogram")
    if not any_traced((a, bins, weights)):
        return np.histogram(a, bins, range, density, weights)
    if weights is not None and shape_of(weights) != shape_of(a):
        raise ValueError("adfun.numpy.histogram: weights should have the same shape as a.")
    edges, count, numpy_bins = _edges(a, bins, range, weights, "histogram")
    flat = ravel(a) if type(a) is Tracer else np.ravel(a)
    # The counts and each entry's bin are recorded nodes of the values (NumPy's own
    # binning, on the data a staged call is given).
    if weights is None:
        hist = _counts(flat, numpy_bins, range)
    elif type(weights) is Tracer:
        number = _bin_numbers(flat, numpy_bins, range)
        inside = greater_equal(number, 0)
        kept = where(inside, ravel(weights), 0.0)
        hist = untake(kept, where(inside, number, 0), (count,))
    else:
        hist = _weighted_counts(flat, numpy_bins, range, np.ravel(weights))
    if density:
        widths = diff(edges)
        hist = hist / widths / sum(hist)
    return hist, edges


def _count_impl(values: Any, bins: Any, range: Any) -> Any:  # noqa: A002
    return np.histogram(values, bins, range)[0]


def _weighted_count_impl(
    values: Any,
    bins: Any,
    range: Any,  # noqa: A002
    weights: Any,
) -> Any:
    return np.histogram(values, bins, range, weights=weights)[0]


def _bin_number_impl(values: Any, bins: Any, range: Any) -> Any:  # noqa: A002
    """The bin of each entry as NumPy bins it (the last bin is closed), -1 outside."""
    edges = np.histogram_bin_edges(values, bins, range)
    number = np.searchsorted(edges, values, side="right") - 1
    number[values == edges[-1]] = edges.shape[0] - 2
    number[~((values >= edges[0]) & (values <= edges[-1]))] = -1
    return number


#: Recorded (non-differentiable) functions of the data: the count per bin, the weighted
#: count with constant weights, each entry's bin, and whether the data hold one value.
_counts = function_of_values("histogram_counts", _count_impl)
_weighted_counts = function_of_values("histogram_weighted_counts", _weighted_count_impl)
_bin_numbers = function_of_values("histogram_bin_numbers", _bin_number_impl)
_single_value = function_of_values("histogram_single_value", _single_value_impl)
