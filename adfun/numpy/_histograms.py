"""``histogram`` and ``histogram_bin_edges`` on traced values.

The counts of unweighted data are constants (piecewise constant in the data).  What
does carry a derivative is kept: the bin edges follow ``min(a)`` and ``max(a)`` when
NumPy derives them from the data, weighted counts are a scatter-add of the weights, and
densities divide by the (differentiable) bin widths.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._trace import Tracer, full_value
from adfun.numpy._core import Domain, composite


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
    inner = [draw(st.integers(0, bins - 1)) + 0.5 + draw(st.floats(-0.3, 0.3))
             for _ in range(count)]
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
    if type(range) is Tracer or (isinstance(range, (tuple, list))
                                 and any(type(end) is Tracer for end in range)):
        raise NotImplementedError(f"adfun.numpy.{name}: a traced range= is not supported; "
                                  f"pass constant bounds")


def _edges(a: Any, bins: Any, range: Any, weights: Any, name: str) -> tuple:  # noqa: A002
    """Differentiable edges and NumPy's concrete edges."""
    values = np.ravel(np.asarray(full_value(a)))
    weight_values = None if weights is None else np.ravel(np.asarray(full_value(weights)))
    concrete = np.histogram_bin_edges(values, np.asarray(full_value(bins)) if np.ndim(
        full_value(bins)) else full_value(bins), range, weight_values)
    if np.ndim(full_value(bins)) == 1:
        return (bins if type(bins) is Tracer else concrete), concrete
    if range is not None or values.size == 0 or type(a) is not Tracer:
        return concrete, concrete
    first, last = min(a), max(a)
    if values.min() == values.max():
        first, last = first - 0.5, last + 0.5
    return linspace(first, last, concrete.shape[0]), concrete


def _edges_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    args, kwargs = _histogram_examples(draw, st, hnp)
    if isinstance(kwargs["bins"], list):  # explicit edges would be constants
        kwargs["bins"] = len(kwargs["bins"]) - 1
        return (np.concatenate([args[0], [args[0].min() - 1.0, args[0].max() + 1.0]]),), {
            "bins": kwargs["bins"]}
    return args, {"bins": kwargs["bins"]}


@composite(np.histogram_bin_edges, Domain(examples=_edges_examples))
def histogram_bin_edges(a: Any, bins: Any = 10, range: Any = None,  # noqa: A002
                        weights: Any = None) -> Any:
    """:func:`numpy.histogram_bin_edges`; edges derived from the data follow its minimum
    and maximum (differentiably), explicit edges and ranges are constants."""
    _refuse_traced_range(range, "histogram_bin_edges")
    if not any(type(value) is Tracer for value in (a, bins, weights)):
        return np.histogram_bin_edges(a, bins, range, weights)
    return _edges(a, bins, range, weights, "histogram_bin_edges")[0]


_counts = None  # set below: a recorded (non-differentiable) count of the data per bin


@composite(np.histogram, Domain(examples=_histogram_examples))
def histogram(a: Any, bins: Any = 10, range: Any = None, density: Any = None,  # noqa: A002
              weights: Any = None) -> Any:
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
    if not any(type(value) is Tracer for value in (a, bins, weights)):
        return np.histogram(a, bins, range, density, weights)
    edges, concrete = _edges(a, bins, range, weights, "histogram")
    values = np.ravel(np.asarray(full_value(a)))
    count = concrete.shape[0] - 1
    if weights is None:
        hist = _counts(ravel(a) if type(a) is Tracer else values, concrete)
    else:
        if type(weights) is Tracer:
            flat_weights = ravel(weights)
        else:
            flat_weights = np.ravel(np.asarray(weights))
        index = np.searchsorted(concrete, values, side="right") - 1
        index[values == concrete[-1]] = count - 1
        keep = (values >= concrete[0]) & (values <= concrete[-1])
        positions = np.flatnonzero(keep)
        if type(flat_weights) is Tracer:
            hist = untake(flat_weights[positions], index[positions], (count,))
        else:
            hist = np.histogram(values, concrete, weights=flat_weights)[0]
    if density:
        widths = diff(edges)
        hist = hist / widths / sum(hist)
    return hist, edges


def _count_impl(values: Any, edges: Any) -> Any:
    return np.histogram(values, edges)[0]


from adfun.numpy._creation import linspace  # noqa: E402
from adfun.numpy._indexing import untake  # noqa: E402
from adfun.numpy._reductions import max, min, sum  # noqa: E402, A001
from adfun.numpy._shape import ravel  # noqa: E402
from adfun.numpy._statistics import diff  # noqa: E402
from adfun.numpy._values import values_function  # noqa: E402

_counts = values_function("histogram counts", _count_impl)
