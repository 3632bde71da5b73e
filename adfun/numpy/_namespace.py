"""The classification of NumPy's public namespace: the one place that says, for every
public name of ``numpy``, what ``adfun.numpy`` offers under that name.

Each name is in exactly one class:

``differentiable``
    A primitive with a reverse rule, a forward rule and a test domain, or an exact
    composite of such primitives (also with a test domain).
``nondifferentiable``
    A constant for differentiation.  Functions of the *values* (comparisons, rounding,
    ``argmax``...) record a node on traced arguments, so graphs replay them; functions of
    shapes and dtypes only (``zeros_like``, ``shape``, ``result_type``...) and
    constructors run on the concrete values; types, constants and modules are NumPy's own.
``unsupported``
    No derivative is defined: on plain values the function is NumPy's, on traced values
    it raises ``NotImplementedError`` naming it.

:func:`status_table` lists every name with its status, for the documentation.
"""

from __future__ import annotations

import types
from typing import Any, Callable

import numpy as np

from adfun._engine.records import NUMPY_OVERRIDES
from adfun._engine.trace import Tracer, backend_trace_of, read_value, traced_argument
from adfun.numpy import (
    _choosing,
    _complex,
    _concatenators,
    _creation,
    _einsum,
    _elementwise,
    _functional,
    _histograms,
    _joining,
    _layout,
    _linear,
    _math,
    _nondiff,
    _products,
    _reductions,
    _scans,
    _selection,
    _shape,
    _sorting,
    _statistics,
)
from adfun.numpy._batching import values_elementwise
from adfun.numpy._declare import function_of_values
from adfun.numpy._dispatch import holds_foreign, on_foreign_arrays
from adfun.numpy._nondiff import SHAPE_FROM_VALUES_ADVICE
from adfun.numpy._values import concrete as _concrete
from adfun.numpy._values import contains_tracer as _contains_tracer
from adfun.numpy._values import take_out as _take_out


def _names(text: str) -> tuple:
    return tuple(text.split())


# --- the table ------------------------------------------------------------------------------

#: The family modules, by name.
_FAMILIES: dict[str, types.ModuleType] = {
    module.__name__.rpartition(".")[2]: module
    for module in (
        _choosing,
        _complex,
        _creation,
        _einsum,
        _elementwise,
        _functional,
        _histograms,
        _joining,
        _layout,
        _linear,
        _math,
        _products,
        _reductions,
        _scans,
        _selection,
        _shape,
        _sorting,
        _statistics,
    )
}

#: Differentiable names, by the family module that defines them.
DIFFERENTIABLE_FAMILIES: dict[str, tuple] = {
    "_elementwise": _names("""
        add subtract multiply true_divide divide power remainder mod negative exp log sqrt
        square sin cos tan tanh absolute abs maximum minimum"""),
    "_math": _names("""
        arcsin arccos arctan sinh cosh arcsinh arccosh arctanh sinc exp2 expm1 log2 log10
        log1p cbrt reciprocal fabs positive deg2rad radians rad2deg degrees
        arctan2 hypot logaddexp logaddexp2 float_power copysign fmod ldexp fmax fmin divmod
        modf acos asin atan acosh asinh atanh atan2 pow frexp nextafter real_if_close
        heaviside i0"""),
    "_complex": _names("real imag conjugate conj angle sign"),
    "_reductions": _names("sum mean max min amax amin"),
    "_scans": _names("prod cumsum cumprod"),
    "_statistics": _names("""
        var std ptp average nansum nanprod nanmean nanvar nanstd nanmax nanmin nancumsum
        nancumprod cumulative_sum cumulative_prod diff ediff1d trapezoid gradient cov corrcoef
        unwrap trim_zeros"""),
    "_shape": _names("""
        reshape ravel squeeze expand_dims transpose permute_dims swapaxes moveaxis
        broadcast_to astype concatenate concat stack"""),
    "_layout": _names("""
        flip fliplr flipud rot90 roll tile repeat diagonal diag diagflat triu tril resize
        rollaxis delete matrix_transpose take take_along_axis pad trace atleast_1d atleast_2d
        atleast_3d unstack copy broadcast_arrays meshgrid"""),
    "_joining": _names("""
        hstack vstack row_stack dstack column_stack block append insert split array_split
        hsplit vsplit dsplit"""),
    "_linear": _names("dot matmul tensordot"),
    "_einsum": _names("einsum"),
    "_products": _names("""
        vdot inner outer kron cross vecdot matvec vecmat convolve correlate polyval polymul
        polyadd polysub polyder polyint poly"""),
    "_sorting": _names("""
        sort partition quantile percentile median nanquantile nanpercentile nanmedian"""),
    "_selection": _names("where clip"),
    "_histograms": _names("histogram histogram_bin_edges"),
    "_functional": _names("piecewise apply_along_axis apply_over_axes"),
    "_choosing": _names("select choose compress extract nan_to_num interp bincount"),
    "_creation": _names("""
        array asarray asanyarray ascontiguousarray asfortranarray asarray_chkfinite require
        full full_like linspace logspace geomspace vander arange"""),
}

#: Functions of the values whose results are constants for differentiation: on traced
#: arguments they record a node (and run on the values).
NONDIFFERENTIABLE_OF_VALUES = _names("""
    equal not_equal less less_equal greater greater_equal floor_divide floor ceil trunc rint
    round around fix signbit spacing isnan isinf isfinite isposinf isneginf
    isnat isreal iscomplex logical_and logical_or logical_not logical_xor any all argmax
    argmin nanargmax nanargmin argsort argpartition argwhere nonzero flatnonzero
    count_nonzero searchsorted digitize lexsort isclose allclose array_equal array_equiv isin
    bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_invert invert bitwise_count
    left_shift right_shift bitwise_left_shift bitwise_right_shift gcd lcm packbits
    unpackbits unravel_index ravel_multi_index""")

#: Functions of shapes, dtypes or Python values only (or of nothing traced): on traced
#: arguments they run on the concrete values and return plain results.
NONDIFFERENTIABLE_STATIC = _names("""
    shape ndim size zeros_like ones_like empty_like result_type can_cast min_scalar_type
    common_type iscomplexobj isrealobj isscalar isfortran may_share_memory shares_memory
    diag_indices_from tril_indices_from triu_indices_from einsum_path broadcast_shapes
    array_repr array_str array2string ix_ iterable isdtype issubdtype mintypecode typename
    promote_types datetime_as_string datetime_data busday_count busday_offset is_busday
    zeros ones empty eye identity tri diag_indices tril_indices triu_indices indices
    mask_indices fromfunction frombuffer fromfile fromiter fromregex fromstring from_dlpack
    loadtxt genfromtxt load bartlett blackman hamming hanning kaiser base_repr binary_repr
    format_float_positional format_float_scientific get_include get_printoptions
    set_printoptions printoptions getbufsize setbufsize geterr seterr geterrcall seterrcall
    show_config show_runtime info test nested_iters frompyfunc""")

#: Functions with no derivative rule: NumPy's on plain values, NotImplementedError on
#: traced ones.
UNSUPPORTED = _names("""
    sort_complex unique unique_all unique_counts unique_inverse unique_values union1d
    intersect1d setdiff1d setxor1d roots polydiv polyfit histogram2d histogramdd put
    put_along_axis putmask place copyto fill_diagonal
    save savez savez_compressed savetxt asmatrix bmat""")

#: NumPy's objects replaced by differentiable ones: the index-expression concatenators.
DIFFERENTIABLE_OBJECTS: dict[str, Any] = {"r_": _concatenators.r_, "c_": _concatenators.c_}

#: Sub-packages: ``linalg`` and ``fft`` (differentiable functions), ``random`` (NumPy's, for
#: ``import adfun.numpy.random as npr``).
SUBPACKAGES = _names("linalg fft random")

#: Functions of values that return a tuple of arrays.
_SEVERAL_RESULTS = frozenset(("unravel_index",))

#: Functions of values that broadcast their arguments elementwise (a ufunc's batching
#: rule); in parentheses the positions of the broadcast arguments where not all are.
_ELEMENTWISE_OF_VALUES = {
    **dict.fromkeys(
        _names("""
            signbit spacing isposinf isneginf isnat isreal iscomplex isclose bitwise_and
            bitwise_or bitwise_xor bitwise_not bitwise_invert invert bitwise_count left_shift
            right_shift bitwise_left_shift bitwise_right_shift gcd lcm"""),
        (),
    ),
    "around": (0,),
    "fix": (0,),
    "angle": (0,),
    "digitize": (0,),
    "isin": (0,),
    "searchsorted": (1,),
}


def _batch_rule_of_values(name: str) -> Any:
    positions = _ELEMENTWISE_OF_VALUES.get(name)
    return None if positions is None else values_elementwise(*positions)


#: Functions of values whose result's shape depends on the values: no staging.
_SHAPE_FROM_VALUES = frozenset(("nonzero", "flatnonzero", "argwhere"))

#: Static functions that read only the shape and dtype of their traced arguments: how
#: many leading positional arguments are read so (``None``: all of them).  A traced value
#: anywhere else (``zeros(n)``, ``tril_indices_from(a, k)``, ``array_str(x)``) is a read
#: of its value: allowed in eager transforms, refused under staging.
_SHAPE_READS: dict[str, Any] = {
    "shape": 1,
    "ndim": 1,
    "size": 1,
    "zeros_like": 1,
    "ones_like": 1,
    "empty_like": 1,
    "result_type": None,
    "can_cast": 1,
    "common_type": None,
    "iscomplexobj": 1,
    "isrealobj": 1,
    "isscalar": 1,
    "isfortran": 1,
    "may_share_memory": 2,
    "shares_memory": 2,
    "diag_indices_from": 1,
    "tril_indices_from": 1,
    "triu_indices_from": 1,
    "einsum_path": None,
    "iterable": 1,
    "isdtype": 1,
    "issubdtype": 2,
    "mintypecode": 1,
    "typename": 1,
    "promote_types": 2,
}

_IN_PLACE = frozenset(_names("put put_along_axis putmask place copyto fill_diagonal"))


# --- wrappers ---------------------------------------------------------------------------------


def _shapes_or_values(value: Any) -> Any:
    """``concrete(value)``, except that another library's arrays (whose values stay on
    their device) become NumPy zeros of their shape and dtype: the function reads only
    those (its value reads went through ``read_value``, which refuses them)."""
    if type(value) is Tracer and backend_trace_of(value) is not None:
        return np.zeros(value.shape, value.dtype)
    if isinstance(value, (list, tuple)):
        return type(value)(_shapes_or_values(item) for item in value)
    if isinstance(value, dict):
        return {key: _shapes_or_values(item) for key, item in value.items()}
    return _concrete(value)


def static_function(name: str, numpy_fun: Callable) -> Callable:
    """A function of shapes, dtypes or plain values: runs on concrete values.

    Traced arguments whose values it reads (not only their shapes and dtypes, see
    ``_SHAPE_READS``) are read with :func:`read_value`: a staged program could not
    recompute the result, so staging refuses them.
    """
    shape_reads = _SHAPE_READS.get(name, 0)

    def fun(*args: Any, **kwargs: Any) -> Any:
        if _contains_tracer(args) or _contains_tracer(kwargs):
            kept = len(args) if shape_reads is None else shape_reads
            read: list = []
            _take_out(args[kept:], read)
            _take_out(kwargs, read)
            for leaf in read:
                read_value(
                    leaf,
                    f"adfun.numpy.{name}",
                    f"numpy.{name} reads this argument's values (not only its shape "
                    f"and dtype). Pass a constant (a Python int or a NumPy array), or "
                    f"call it outside the staged function.",
                )
            return numpy_fun(*_shapes_or_values(args), **_shapes_or_values(kwargs))
        if holds_foreign(args, kwargs):
            return on_foreign_arrays(name, fun, args, kwargs)
        return numpy_fun(*args, **kwargs)

    _describe(
        fun,
        name,
        f"``{name}`` (:func:`numpy.{name}`), also on traced values.\n\n"
        f"It depends on shapes or dtypes only (or on plain values): a "
        f"constant for differentiation.\n",
    )
    return fun


_ix_values = function_of_values("ix_", np.ix_, several=True)


def _ix(*args: Any) -> Any:
    """:func:`numpy.ix_`, also of traced index arrays (the result is recorded as nodes).

    Traced boolean arrays stand for their ``nonzero`` positions, whose number depends on
    the values: under ``jit``/``trace`` they raise :class:`~adfun.StagingError`.
    """
    if not _contains_tracer(args):
        return np.ix_(*args)
    for arg in args:
        if np.asarray(_concrete(arg)).dtype == np.bool_:
            _take_out_and_refuse(arg, "ix_", SHAPE_FROM_VALUES_ADVICE)
    return _ix_values(*args)


_ix.__name__ = _ix.__qualname__ = "ix_"


def _take_out_and_refuse(value: Any, name: str, advice: str) -> None:
    leaves: list = []
    _take_out(value, leaves)
    for leaf in leaves:
        read_value(leaf, f"adfun.numpy.{name}", advice)


def unsupported_function(name: str, numpy_fun: Callable) -> Callable:
    """NumPy's function on plain values; ``NotImplementedError`` naming it on traced ones."""

    def fun(*args: Any, **kwargs: Any) -> Any:
        if _contains_tracer(args) or _contains_tracer(kwargs):
            raise NotImplementedError(unsupported_message(name, traced_argument(args, kwargs)))
        return numpy_fun(*args, **kwargs)

    _describe(
        fun,
        name,
        f"``{name}`` (:func:`numpy.{name}`) on plain values only.\n\n"
        f"adfun has no derivative rule for it: called on a traced value it "
        f"raises ``NotImplementedError``.\n",
    )
    return fun


def unsupported_message(name: str, argument: str = "argument") -> str:
    """The error for an unsupported function called with a traced ``argument``."""
    if name == "copyto":
        return (
            f"adfun.numpy.copyto (numpy.copyto) cannot write a traced value into a NumPy "
            f"array (the recorded graph is immutable; its {argument} is traced). "
            f"numpy.full_like(a, fill_value) calls it when a is a NumPy array and "
            f"fill_value is traced: use adfun.numpy.full_like(a, fill_value) or "
            f"adfun.numpy.full(shape, fill_value), which are differentiable in the fill "
            f"value; otherwise build a new array with adfun.numpy.where"
        )
    if name in _IN_PLACE:
        return (
            f"adfun.numpy.{name} (numpy.{name}) writes into an array in place, which "
            f"cannot be traced (the recorded graph is immutable; its {argument} is "
            f"traced); build a new array with adfun.numpy.where, concatenate or indexing "
            f"instead"
        )
    return (
        f"adfun.numpy.{name} (numpy.{name}) is not supported on traced values: adfun has "
        f"no derivative rule for it, and its {argument} is traced. Apply "
        f"ad.stop_gradient() to that argument if the result should be a constant, or "
        f"write it with differentiable adfun.numpy functions"
    )


def _describe(fun: Callable, name: str, doc: str) -> None:
    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = doc


# --- building the namespace -------------------------------------------------------------------


def _numpy_object(name: str) -> Any:
    return getattr(np, name, None)


def _build() -> tuple:
    namespace: dict[str, Any] = {}
    status: dict[str, str] = {}
    for module_name, names in DIFFERENTIABLE_FAMILIES.items():
        module = _FAMILIES[module_name]
        for name in names:
            namespace[name] = getattr(module, name)
            status[name] = "differentiable"
    for name in NONDIFFERENTIABLE_OF_VALUES:
        numpy_fun = _numpy_object(name)
        if numpy_fun is None:
            continue
        existing = getattr(_nondiff, name, None)
        if existing is None:
            existing = function_of_values(
                name,
                numpy_fun,
                several=name in _SEVERAL_RESULTS,
                refuse_staging=SHAPE_FROM_VALUES_ADVICE if name in _SHAPE_FROM_VALUES else None,
                batch=_batch_rule_of_values(name),
            )
        namespace[name] = existing
        status[name] = "nondifferentiable"
    for name in NONDIFFERENTIABLE_STATIC:
        numpy_fun = _numpy_object(name)
        if numpy_fun is None:
            continue
        namespace[name] = _ix if name == "ix_" else static_function(name, numpy_fun)
        status[name] = "nondifferentiable"
    for name in UNSUPPORTED:
        numpy_fun = _numpy_object(name)
        if numpy_fun is None:
            continue
        namespace[name] = unsupported_function(name, numpy_fun)
        status[name] = "unsupported"
    for name in SUBPACKAGES:
        status[name] = "subpackage"
    for name, value in DIFFERENTIABLE_OBJECTS.items():
        namespace[name] = value
        status[name] = "differentiable"
    # Everything else public in NumPy that is not a function: types, constants, modules.
    for name in dir(np):
        if name.startswith("_") or name in status:
            continue
        value = getattr(np, name)
        if isinstance(value, type) or not callable(value) or isinstance(value, types.ModuleType):
            namespace[name] = value
            status[name] = "nondifferentiable"
    return namespace, status


NAMESPACE, STATUS = _build()


def _install_overrides() -> None:
    """Plain NumPy functions called on traced values dispatch to the table's entries."""
    for name, fun in NAMESPACE.items():
        numpy_fun = _numpy_object(name)
        if numpy_fun is None or not callable(numpy_fun) or isinstance(numpy_fun, type):
            continue
        if (
            isinstance(numpy_fun, np.ufunc)
            or hasattr(numpy_fun, "__array_function__")
            or type(numpy_fun).__name__ == "_ArrayFunctionDispatcher"
        ):
            NUMPY_OVERRIDES.setdefault(numpy_fun, fun)


_install_overrides()


def lookup(name: str) -> Any:
    """The ``adfun.numpy`` object for a NumPy public name (``AttributeError`` if none)."""
    try:
        return NAMESPACE[name]
    except KeyError:
        if STATUS.get(name) == "subpackage":
            from importlib import import_module

            return import_module(f"adfun.numpy.{name}")
        raise AttributeError(f"module 'adfun.numpy' has no attribute {name!r}") from None


def _kind(name: str) -> str:
    value = getattr(np, name, None)
    if isinstance(value, types.ModuleType):
        return "module"
    if isinstance(value, type):
        return "type"
    if isinstance(value, np.ufunc):
        return "ufunc"
    if callable(value):
        return "function"
    return "constant"


def _modes(name: str) -> tuple:
    """Whether reverse and forward mode go through ``name``."""
    if STATUS.get(name) != "differentiable":
        return False, False
    primitive = getattr(NAMESPACE[name], "primitive", None)
    if primitive is None:  # a composite: both modes through its parts
        return True, True
    return bool(primitive.vjps), primitive.jvps is not None


def status_table() -> list:
    """Every public NumPy name with what ``adfun.numpy`` offers for it.

    Returns
    -------
    list of dict
        One row per name, sorted by name, with keys ``name``, ``status``
        (``"differentiable"``, ``"nondifferentiable"``, ``"unsupported"`` or
        ``"subpackage"``), ``reverse`` and ``forward`` (whether each mode of
        differentiation goes through it) and ``kind`` (``"function"``, ``"ufunc"``,
        ``"type"``, ``"constant"`` or ``"module"``).

    Examples
    --------
    >>> from adfun.numpy import coverage
    >>> row = next(row for row in coverage() if row["name"] == "cumprod")
    >>> row["status"], row["reverse"], row["forward"], row["kind"]
    ('differentiable', True, True, 'function')
    """
    rows = []
    for name in sorted(STATUS):
        if not hasattr(np, name):
            continue
        reverse, forward = _modes(name)
        rows.append(
            {
                "name": name,
                "status": STATUS[name],
                "reverse": reverse,
                "forward": forward,
                "kind": _kind(name),
            }
        )
    return rows
