"""MXNet's neural-network operators: ``FullyConnected``, ``Activation``, ``LeakyReLU``,
``SoftmaxOutput``, ``Embedding``, the normalizations, ``Convolution`` and ``Pooling``.

Each operator checks MXNet's arguments, then calls a ``_*_values`` function written with
``adfun.numpy`` (which records it and supplies both derivative rules) through
:func:`adfun.nd._ndarray.apply`.  The exception is ``SoftmaxOutput``, whose MXNet gradient
is by design not the derivative of its output (it is the gradient of the cross-entropy
loss the layer stands for): it is a custom primitive with that rule.

Training-mode behaviour (``BatchNorm``'s batch statistics, ``LeakyReLU``'s random
``rrelu`` slopes) follows :func:`adfun.autograd.is_training`, i.e. ``record(train_mode=...)``,
``train_mode()`` and ``predict_mode()``, as in MXNet.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

import adfun.numpy as anp
from adfun._custom import primitive
from adfun._engine.trace import full_value
from adfun._imperative.recording import training
from adfun.nd._ndarray import NDArray, apply, value_of
from adfun.random import generator

# --- shared helpers ----------------------------------------------------------------------


def _tuple(function: str, name: str, value: Any, count: int, default: int) -> tuple:
    """A tuple of ``count`` ints from MXNet's ``()`` / int / tuple argument forms."""
    if value is None or (isinstance(value, (tuple, list)) and len(value) == 0):
        return (default,) * count
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * count
    try:
        items = tuple(int(item) for item in value)
    except (TypeError, ValueError):
        raise TypeError(
            f"adfun.nd.{function}: {name} must be an int or a tuple of ints, got {value!r}"
        ) from None
    if len(items) != count:
        raise ValueError(
            f"adfun.nd.{function}: {name}={items} must have {count} entries (one per spatial "
            f"axis of the kernel)"
        )
    return items


def _need(function: str, name: str, array: Any) -> None:
    if array is None:
        raise TypeError(f"adfun.nd.{function}: the input {name} is required")


def _plain(data: Any) -> np.ndarray:
    """The plain value of an NDArray, array or traced value (for constants and checks)."""
    return np.asarray(full_value(value_of(data)))


def _value_dtype(data: Any) -> np.dtype:
    return _plain(data).dtype


def _check_layout(function: str, layout: Any, spatial: int) -> None:
    expected = {1: "NCW", 2: "NCHW", 3: "NCDHW"}[spatial]
    if layout not in (None, expected):
        raise ValueError(
            f"adfun.nd.{function}: layout={layout!r} is not supported; adfun supports the "
            f"channel-first layout {expected!r} (transpose the data first)"
        )


# --- FullyConnected ----------------------------------------------------------------------


def _fully_connected_values(data: Any, weight: Any, bias: Any, flatten: bool) -> Any:
    if flatten:
        data = anp.reshape(data, (data.shape[0], -1))
    out = anp.matmul(data, anp.transpose(weight))
    return out if bias is None else out + bias


def FullyConnected(  # noqa: N802 - MXNet's name
    data: NDArray,
    weight: NDArray,
    bias: Any = None,
    num_hidden: Any = None,
    no_bias: bool = False,
    flatten: bool = True,
    **kwargs: Any,
) -> NDArray:
    """A dense layer: ``data @ weight.T + bias``.

    Parameters
    ----------
    data : NDArray
        With ``flatten=True`` reshaped to ``(batch, -1)``; otherwise the last axis is the
        input axis and the others are kept.
    weight : NDArray
        Shape ``(num_hidden, input_dim)``.
    bias : NDArray, optional
        Shape ``(num_hidden,)``; required unless ``no_bias=True``.
    num_hidden : int
        The number of outputs.
    no_bias : bool, optional
    flatten : bool, optional

    Returns
    -------
    NDArray
        ``(batch, num_hidden)``, or ``data.shape[:-1] + (num_hidden,)`` with
        ``flatten=False``.

    Examples
    --------
    >>> from adfun import nd
    >>> x, w, b = nd.ones((2, 3, 4)), nd.ones((5, 12)), nd.zeros(5)
    >>> nd.FullyConnected(x, w, b, num_hidden=5).shape
    (2, 5)
    >>> nd.FullyConnected(x, nd.ones((5, 4)), no_bias=True, num_hidden=5, flatten=False).shape
    (2, 3, 5)
    """
    _need("FullyConnected", "weight", weight)
    if num_hidden is None:
        raise TypeError("adfun.nd.FullyConnected: num_hidden is required")
    shape = data.shape
    inputs = int(np.prod(shape[1:], dtype=np.int64)) if flatten else shape[-1]
    if weight.shape != (num_hidden, inputs):
        raise ValueError(
            f"adfun.nd.FullyConnected: weight has shape {weight.shape}, expected "
            f"{(num_hidden, inputs)} (num_hidden, input size) for data of shape {shape} "
            f"with flatten={flatten}"
        )
    if no_bias:
        return apply(lambda x, w: _fully_connected_values(x, w, None, flatten), data, weight)
    _need("FullyConnected", "bias (or pass no_bias=True)", bias)
    if bias.shape != (num_hidden,):
        raise ValueError(
            f"adfun.nd.FullyConnected: bias has shape {bias.shape}, expected ({num_hidden},)"
        )
    return apply(lambda x, w, b: _fully_connected_values(x, w, b, flatten), data, weight, bias)


# --- activations -------------------------------------------------------------------------


def _relu_values(value: Any) -> Any:
    # derivative 0 at 0, as in MXNet (the mask is recomputed when a graph is replayed)
    return anp.where(value > 0, value, anp.zeros_like(value))


def _sigmoid_values(value: Any) -> Any:
    return 0.5 * (anp.tanh(0.5 * value) + 1.0)


def _softrelu_values(value: Any) -> Any:
    return anp.logaddexp(anp.zeros_like(value), value)


def _softsign_values(value: Any) -> Any:
    return value / (1.0 + anp.abs(value))


_ACTIVATIONS = {
    "relu": _relu_values,
    "sigmoid": _sigmoid_values,
    "tanh": anp.tanh,
    "softrelu": _softrelu_values,
    "softsign": _softsign_values,
}


def Activation(data: NDArray, act_type: Any = None, **kwargs: Any) -> NDArray:  # noqa: N802
    """An elementwise activation function.

    Parameters
    ----------
    data : NDArray
    act_type : {'relu', 'sigmoid', 'tanh', 'softrelu', 'softsign'}
        ``max(x, 0)``, ``1 / (1 + exp(-x))``, ``tanh(x)``, ``log(1 + exp(x))`` or
        ``x / (1 + |x|)``.

    Examples
    --------
    >>> from adfun import nd
    >>> nd.Activation(nd.array([-1, 0, 2]), act_type="softsign")
    <BLANKLINE>
    [-0.5        0.         0.6666667]
    <NDArray 3 @cpu(0)>
    """
    if act_type not in _ACTIVATIONS:
        raise ValueError(
            f"adfun.nd.Activation: act_type must be one of {sorted(_ACTIVATIONS)}, got {act_type!r}"
        )
    return apply(_ACTIVATIONS[act_type], data)


#: SELU's constants (Klambauer et al. 2017), as MXNet uses them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946


def _leaky_values(value: Any, slope: Any) -> Any:
    return anp.where(value > 0, value, value * slope)


def _elu_values(value: Any, slope: float) -> Any:
    # expm1 at min(x, 0): the branch not taken never overflows
    negative = anp.minimum(value, anp.zeros_like(value))
    return anp.where(value > 0, value, slope * anp.expm1(negative))


def _selu_values(value: Any) -> Any:
    return SELU_LAMBDA * _elu_values(value, SELU_ALPHA)


def _gelu_values(value: Any) -> Any:
    # SciPy is optional for adfun (and adfun.nd): only GELU's erf needs it
    import adfun.scipy.special as special  # noqa: PLC0415

    return 0.5 * value * (1.0 + special.erf(value / math.sqrt(2.0)))


def _prelu_shape(function: str, gamma: tuple, data: tuple) -> tuple:
    """Where ``gamma`` lies along ``data`` (MXNet: its last axes against axes 0 and 1)."""
    result = [1] * len(data)
    position = len(gamma) - 1
    for index in range(len(data) - 1, -1, -1):
        if position >= 0 and index <= 1 and gamma[position] in (data[index], 1):
            result[index] = gamma[position]
            position -= 1
    if position != -1:
        raise ValueError(
            f"adfun.nd.{function}: gamma of shape {gamma} cannot be broadcast to data of "
            f"shape {data} (gamma is one slope per channel, i.e. per entry of axis 1)"
        )
    return tuple(result)


def LeakyReLU(  # noqa: N802 - MXNet's name
    data: NDArray,
    gamma: Any = None,
    act_type: str = "leaky",
    slope: float = 0.25,
    lower_bound: float = 0.125,
    upper_bound: float = 0.334,
    **kwargs: Any,
) -> NDArray:
    """The leaky family of activations.

    Parameters
    ----------
    data : NDArray
    gamma : NDArray, optional
        The learned slopes of ``'prelu'`` (one per channel of axis 1, or one in all).
    act_type : {'leaky', 'prelu', 'rrelu', 'elu', 'selu', 'gelu'}, optional
        ``x if x > 0 else slope * x``; the same with ``gamma``; the same with a random slope
        in ``[lower_bound, upper_bound]`` while training (their mean otherwise);
        ``slope * (exp(x) - 1)`` for ``x <= 0``; SELU (``lambda * elu(x, alpha)``);
        ``0.5 * x * (1 + erf(x / sqrt(2)))``.
    slope, lower_bound, upper_bound : float, optional

    Examples
    --------
    >>> from adfun import nd
    >>> nd.LeakyReLU(nd.array([-2, 3]), slope=0.1)
    <BLANKLINE>
    [-0.2  3. ]
    <NDArray 2 @cpu(0)>
    """
    if act_type == "leaky":
        return apply(lambda value: _leaky_values(value, float(slope)), data)
    if act_type == "elu":
        return apply(lambda value: _elu_values(value, float(slope)), data)
    if act_type == "selu":
        return apply(_selu_values, data)
    if act_type == "gelu":
        return apply(_gelu_values, data)
    if act_type == "prelu":
        _need("LeakyReLU", "gamma (act_type='prelu')", gamma)
        where = _prelu_shape("LeakyReLU", gamma.shape, data.shape)
        return apply(
            lambda value, weights: _leaky_values(value, anp.reshape(weights, where)),
            data,
            gamma,
        )
    if act_type == "rrelu":
        if training.get():
            slopes = generator().uniform(lower_bound, upper_bound, data.shape)
            mask = slopes.astype(_value_dtype(data))
            return apply(lambda value: _leaky_values(value, mask), data)
        middle = (lower_bound + upper_bound) / 2.0
        return apply(lambda value: _leaky_values(value, middle), data)
    raise ValueError(
        f"adfun.nd.LeakyReLU: act_type must be 'leaky', 'prelu', 'rrelu', 'elu', 'selu' or "
        f"'gelu', got {act_type!r}"
    )


# --- SoftmaxOutput -----------------------------------------------------------------------


def _softmax_values(value: Any, axis: int) -> Any:
    exps = anp.exp(value - anp.max(value, axis=axis, keepdims=True))
    return exps / anp.sum(exps, axis=axis, keepdims=True)


@primitive
def softmax_output(
    data: Any, target: Any, scale: Any, axis: int = 1, out_grad: bool = False
) -> Any:
    """The softmax of ``data`` along ``axis`` whose gradient is MXNet's loss gradient
    ``(softmax - target) * scale`` (times the head gradient when ``out_grad``)."""
    exps = np.exp(data - np.max(data, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=axis, keepdims=True)


def _softmax_output_vjp(
    g: Any, ans: Any, data: Any, target: Any, scale: Any, axis: int = 1, out_grad: bool = False
) -> Any:
    gradient = (ans - target) * scale
    return gradient * g if out_grad else gradient


def _softmax_output_jvp(
    t: Any, ans: Any, data: Any, target: Any, scale: Any, axis: int = 1, out_grad: bool = False
) -> Any:
    # the transpose of the reverse rule read as the diagonal map g -> (ans - target) * g
    return (ans - target) * scale * t


softmax_output.defvjp(_softmax_output_vjp, None, None)
softmax_output.defjvp(_softmax_output_jvp, None, None)


def SoftmaxOutput(  # noqa: N802 - MXNet's name
    data: NDArray,
    label: Any,
    grad_scale: float = 1.0,
    ignore_label: float = -1.0,
    multi_output: bool = False,
    use_ignore: bool = False,
    preserve_shape: bool = False,
    normalization: str = "null",
    out_grad: bool = False,
    smooth_alpha: float = 0.0,
    **kwargs: Any,
) -> NDArray:
    """The softmax of ``data``, whose backward pass is the cross-entropy gradient.

    The output is the softmax over axis 1 of ``data`` reshaped to ``(batch, -1)``
    (``preserve_shape=True``: over the last axis; ``multi_output=True``: over axis 1 of
    ``(batch, classes, ...)``).  As in MXNet, ``backward`` does *not* differentiate this
    output: the gradient of ``data`` is ``(softmax - one_hot(label)) * grad_scale``,
    whatever the head gradient (with ``out_grad=True`` it is multiplied by it); ``label``
    gets no gradient.  Forward mode (``adfun.jvp``) uses the same matrix, read as the
    diagonal map ``t -> (softmax - one_hot(label)) * grad_scale * t``.

    Parameters
    ----------
    data : NDArray
    label : NDArray
        Class positions, shape ``(batch,)`` (``multi_output``: ``(batch, ...)``;
        ``preserve_shape``: ``data.shape[:-1]``); or probabilities of the output's shape.
    grad_scale : float, optional
    ignore_label : float, optional
        With ``use_ignore=True`` the rows with this label get a zero gradient.
    multi_output, use_ignore, preserve_shape : bool, optional
    normalization : {'null', 'batch', 'valid'}, optional
        Divide the gradient by 1, the batch size, or the number of labels not ignored.
    out_grad : bool, optional
    smooth_alpha : float, optional
        Label smoothing: the target is ``1 - smooth_alpha`` at the label and
        ``smooth_alpha / (classes - 1)`` elsewhere.

    Examples
    --------
    >>> from adfun import nd, autograd
    >>> x = nd.array([[1, 2, 3], [1, 1, 1]])
    >>> x.attach_grad()
    >>> with autograd.record():
    ...     p = nd.SoftmaxOutput(x, nd.array([2, 0]))
    >>> p.backward()
    >>> x.grad.asnumpy().round(4)
    array([[ 0.09  ,  0.2447, -0.3348],
           [-0.6667,  0.3333,  0.3333]], dtype=float32)
    """
    if normalization not in ("null", "batch", "valid"):
        raise ValueError(
            f"adfun.nd.SoftmaxOutput: normalization must be 'null', 'batch' or 'valid', "
            f"got {normalization!r}"
        )
    shape = data.shape
    if len(shape) < 1:
        raise ValueError("adfun.nd.SoftmaxOutput: data needs at least one axis")
    labels = np.asarray(value_of(label))
    dtype = _value_dtype(data)
    # the working shape: (rows, classes) or (batch, classes, rest) for multi_output
    work: tuple[int, ...]
    label_shape: tuple[int, ...]
    if multi_output:
        work = (shape[0], shape[1] if len(shape) > 1 else 1, -1)
    elif preserve_shape:
        work = (-1, shape[-1])
    else:
        work = (shape[0], -1)
    axis = 1
    probe: tuple[int, ...] = tuple(np.empty(shape, dtype=np.bool_).reshape(work).shape)
    classes = probe[1]
    if labels.shape == shape:
        target = labels.reshape(work).astype(dtype)
        scale = np.asarray(grad_scale, dtype=dtype)
    else:
        if multi_output:
            count = probe[0] * probe[2]
            label_shape = (probe[0], probe[2])
        else:
            count = probe[0]
            label_shape = (probe[0],)
        if labels.size != count:
            raise ValueError(
                f"adfun.nd.SoftmaxOutput: label has shape {labels.shape} ({labels.size} "
                f"labels) but data of shape {shape} needs {count} labels (or probabilities "
                f"of the data's shape)"
            )
        positions = labels.reshape(label_shape).astype(np.int64)
        hot = np.expand_dims(positions, 1) == np.arange(classes).reshape(
            (1, classes) + (1,) * (len(label_shape) - 1)
        )
        if smooth_alpha:
            off = smooth_alpha / (classes - 1) if classes > 1 else 0.0
            target = np.where(hot, 1.0 - smooth_alpha, off).astype(dtype)
        else:
            target = hot.astype(dtype)
        keep = np.ones(label_shape, dtype=dtype)
        if use_ignore:
            keep = (positions != int(ignore_label)).astype(dtype)
        if normalization == "batch":
            valid = label_shape[0]
        elif normalization == "valid":
            valid = int(np.sum(positions != int(ignore_label))) or 1
        else:
            valid = 1
        factor = grad_scale / valid
        if multi_output and normalization != "valid":
            factor /= probe[2]
        scale = (np.expand_dims(keep, 1) * factor).astype(dtype)

    def fun(value: Any) -> Any:
        out = softmax_output(
            anp.reshape(value, work), target, scale, axis=axis, out_grad=bool(out_grad)
        )
        return anp.reshape(out, shape)

    return apply(fun, data)


# --- Embedding ---------------------------------------------------------------------------


def Embedding(  # noqa: N802 - MXNet's name
    data: Any,
    weight: NDArray,
    input_dim: Any = None,
    output_dim: Any = None,
    dtype: Any = "float32",
    sparse_grad: bool = False,
    **kwargs: Any,
) -> NDArray:
    """Look up the rows of ``weight`` at the (integer-valued) positions ``data``.

    Parameters
    ----------
    data : NDArray
        Positions, clipped to ``[0, input_dim - 1]`` as in MXNet; not differentiated.
    weight : NDArray
        Shape ``(input_dim, output_dim)``; its gradient sums the rows' head gradients.
    input_dim, output_dim : int
    dtype : str, optional
    sparse_grad : bool, optional
        Accepted for compatibility; the gradient of ``weight`` is dense.

    Returns
    -------
    NDArray
        Shape ``data.shape + (output_dim,)``.

    Examples
    --------
    >>> from adfun import nd
    >>> w = nd.array([[0, 1], [2, 3], [4, 5]])
    >>> nd.Embedding(nd.array([[2, 0]]), w, input_dim=3, output_dim=2)
    <BLANKLINE>
    [[[4. 5.]
      [0. 1.]]]
    <NDArray 1x2x2 @cpu(0)>
    """
    _need("Embedding", "weight", weight)
    if input_dim is None or output_dim is None:
        raise TypeError("adfun.nd.Embedding: input_dim and output_dim are required")
    if weight.shape != (input_dim, output_dim):
        raise ValueError(
            f"adfun.nd.Embedding: weight has shape {weight.shape}, expected "
            f"{(input_dim, output_dim)} (input_dim, output_dim)"
        )
    positions = np.clip(np.asarray(value_of(data)).astype(np.int64), 0, input_dim - 1)
    return apply(lambda rows: anp.take(rows, positions, axis=0), weight)


# --- normalizations ----------------------------------------------------------------------


def L2Normalization(  # noqa: N802 - MXNet's name
    data: NDArray, eps: float = 1e-10, mode: str = "instance", **kwargs: Any
) -> NDArray:
    """``data / sqrt(sum(data ** 2) + eps)``, the sum over the axes ``mode`` names.

    Parameters
    ----------
    data : NDArray
    eps : float, optional
    mode : {'instance', 'channel', 'spatial'}, optional
        Normalize each sample (every axis but 0), each position across channels (axis 1),
        or each channel over its spatial axes (axes 2 and on).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.L2Normalization(nd.array([[3, 4], [0, 2]]))
    <BLANKLINE>
    [[0.6 0.8]
     [0.  1. ]]
    <NDArray 2x2 @cpu(0)>
    """
    ndim = data.ndim
    if mode == "instance":
        axes: tuple = tuple(range(1, ndim))
    elif mode == "channel":
        axes = (1,)
    elif mode == "spatial":
        axes = tuple(range(2, ndim))
    else:
        raise ValueError(
            f"adfun.nd.L2Normalization: mode must be 'instance', 'channel' or 'spatial', "
            f"got {mode!r}"
        )
    minimum = {"instance": 2, "channel": 2, "spatial": 3}[mode]
    if ndim < minimum:
        raise ValueError(
            f"adfun.nd.L2Normalization: mode={mode!r} needs data with at least {minimum} "
            f"dimensions, got shape {data.shape}"
        )

    def fun(value: Any) -> Any:
        norm = anp.sqrt(anp.sum(anp.square(value), axis=axes, keepdims=True) + eps)
        return value / norm

    return apply(fun, data)


def _layer_norm_values(value: Any, gamma: Any, beta: Any, axis: int, eps: float) -> Any:
    mean = anp.mean(value, axis=axis, keepdims=True)
    centred = value - mean
    variance = anp.mean(anp.square(centred), axis=axis, keepdims=True)
    where = [1] * len(value.shape)
    where[axis] = value.shape[axis]
    scale = anp.reshape(gamma, tuple(where))
    shift = anp.reshape(beta, tuple(where))
    return centred / anp.sqrt(variance + eps) * scale + shift


def LayerNorm(  # noqa: N802 - MXNet's name
    data: NDArray,
    gamma: NDArray,
    beta: NDArray,
    axis: int = -1,
    eps: float = 1e-5,
    output_mean_var: bool = False,
    **kwargs: Any,
) -> Any:
    """Layer normalization along ``axis``: ``(x - mean) / sqrt(var + eps) * gamma + beta``.

    Parameters
    ----------
    data : NDArray
    gamma, beta : NDArray
        Shape ``(data.shape[axis],)``.
    axis : int, optional
    eps : float, optional
    output_mean_var : bool, optional
        Also return the mean and the standard deviation ``sqrt(var + eps)`` (shape of
        ``data`` with ``axis`` of size 1; no gradient flows through them).

    Examples
    --------
    >>> from adfun import nd
    >>> nd.LayerNorm(nd.array([[1, 3]]), nd.ones(2), nd.zeros(2)).asnumpy().round(4)
    array([[-1.,  1.]], dtype=float32)
    """
    for name, array in (("gamma", gamma), ("beta", beta)):
        _need("LayerNorm", name, array)
    ndim = data.ndim
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"adfun.nd.LayerNorm: axis {axis} is out of range for data of shape {data.shape}"
        )
    axis = axis % ndim
    side = data.shape[axis]
    for name, array in (("gamma", gamma), ("beta", beta)):
        if array.shape != (side,):
            raise ValueError(
                f"adfun.nd.LayerNorm: {name} has shape {array.shape}, expected ({side},) "
                f"(the size of axis {axis})"
            )
    out = apply(lambda x, g, b: _layer_norm_values(x, g, b, axis, eps), data, gamma, beta)
    if not output_mean_var:
        return out
    values = _plain(data)
    mean = values.mean(axis=axis, keepdims=True)
    std = np.sqrt(np.square(values - mean).mean(axis=axis, keepdims=True) + eps)
    dtype = values.dtype
    return [out, NDArray(mean.astype(dtype)), NDArray(std.astype(dtype))]


def _batch_norm_values(
    value: Any, gamma: Any, beta: Any, mean: Any, variance: Any, axis: int, eps: float
) -> Any:
    where = [1] * len(value.shape)
    where[axis] = value.shape[axis]
    shape = tuple(where)
    inverse = 1.0 / anp.sqrt(anp.reshape(variance, shape) + eps)
    out = (value - anp.reshape(mean, shape)) * inverse
    if gamma is not None:
        out = out * anp.reshape(gamma, shape)
    return out + anp.reshape(beta, shape)


def _batch_statistics(value: Any, axis: int) -> tuple:
    axes = tuple(index for index in range(len(value.shape)) if index != axis)
    mean = anp.mean(value, axis=axes)
    where = [1] * len(value.shape)
    where[axis] = value.shape[axis]
    variance = anp.mean(anp.square(value - anp.reshape(mean, tuple(where))), axis=axes)
    return mean, variance


def BatchNorm(  # noqa: N802 - MXNet's name
    data: NDArray,
    gamma: NDArray,
    beta: NDArray,
    moving_mean: NDArray,
    moving_var: NDArray,
    eps: float = 1e-3,
    momentum: float = 0.9,
    fix_gamma: bool = True,
    use_global_stats: bool = False,
    output_mean_var: bool = False,
    axis: int = 1,
    cudnn_off: bool = False,
    **kwargs: Any,
) -> Any:
    """Batch normalization over every axis but ``axis`` (the channel axis).

    In training mode (:func:`adfun.autograd.is_training`, e.g. inside
    ``autograd.record()``) and without ``use_global_stats``, the batch mean and (biased)
    variance normalize ``data`` and the gradient flows through them; ``moving_mean`` and
    ``moving_var`` are then updated in place,
    ``moving = moving * momentum + batch * (1 - momentum)``.  Otherwise (prediction
    mode, or ``use_global_stats=True``) the moving statistics are used, as constants.

    Parameters
    ----------
    data : NDArray
    gamma, beta : NDArray
        The scale and shift, shape ``(data.shape[axis],)``.  With ``fix_gamma=True``
        (MXNet's default) ``gamma`` is taken as 1 and gets a zero gradient.
    moving_mean, moving_var : NDArray
        The running statistics, shape ``(data.shape[axis],)``.
    eps, momentum : float, optional
    fix_gamma, use_global_stats : bool, optional
    output_mean_var : bool, optional
        Also return the mean and the inverse standard deviation ``1 / sqrt(var + eps)``
        that normalized the data (MXNet's outputs; no gradient flows through them).
    axis : int, optional

    Notes
    -----
    MXNet updates the moving statistics during the backward pass; adfun updates them
    when the forward pass runs in training mode, with the same values (they depend on the
    batch only), so they differ only when read between the forward and backward passes or
    after a training-mode forward pass that is never differentiated.

    Examples
    --------
    >>> from adfun import nd, autograd
    >>> x = nd.array([[1, 2], [3, 6]])
    >>> mean, var = nd.zeros(2), nd.ones(2)
    >>> with autograd.record():
    ...     y = nd.BatchNorm(x, nd.ones(2), nd.zeros(2), mean, var)
    >>> y.asnumpy().round(4)
    array([[-0.9995, -0.9999],
           [ 0.9995,  0.9999]], dtype=float32)
    >>> print(mean.asnumpy(), var.asnumpy())  # updated: training mode
    [0.2 0.4] [1.  1.3]
    """
    for name, array in (
        ("gamma", gamma),
        ("beta", beta),
        ("moving_mean", moving_mean),
        ("moving_var", moving_var),
    ):
        _need("BatchNorm", name, array)
    ndim = data.ndim
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"adfun.nd.BatchNorm: axis {axis} is out of range for data of shape {data.shape}"
        )
    axis = axis % ndim
    side = data.shape[axis]
    for name, array in (
        ("gamma", gamma),
        ("beta", beta),
        ("moving_mean", moving_mean),
        ("moving_var", moving_var),
    ):
        if array.shape != (side,):
            raise ValueError(
                f"adfun.nd.BatchNorm: {name} has shape {array.shape}, expected ({side},) "
                f"(the size of the channel axis {axis})"
            )
    batch = training.get() and not use_global_stats
    dtype = _value_dtype(data)
    if batch:

        def fun(value: Any, scale: Any, shift: Any) -> Any:
            mean, variance = _batch_statistics(value, axis)
            return _batch_norm_values(
                value, None if fix_gamma else scale, shift, mean, variance, axis, eps
            )

        out = apply(fun, data, gamma, beta)
        values = _plain(data).astype(np.float64)
        axes = tuple(index for index in range(ndim) if index != axis)
        mean = values.mean(axis=axes)
        variance = values.var(axis=axes)
        running_mean = _plain(moving_mean)
        running_var = _plain(moving_var)
        moving_mean[:] = (running_mean * momentum + mean * (1.0 - momentum)).astype(
            running_mean.dtype
        )
        moving_var[:] = (running_var * momentum + variance * (1.0 - momentum)).astype(
            running_var.dtype
        )
    else:
        mean = _plain(moving_mean)
        variance = _plain(moving_var)
        frozen_mean, frozen_var = mean.astype(dtype), variance.astype(dtype)

        def fun(value: Any, scale: Any, shift: Any) -> Any:
            return _batch_norm_values(
                value, None if fix_gamma else scale, shift, frozen_mean, frozen_var, axis, eps
            )

        out = apply(fun, data, gamma, beta)
    if not output_mean_var:
        return out
    inverse = 1.0 / np.sqrt(np.asarray(variance, dtype=np.float64) + eps)
    return [out, NDArray(np.asarray(mean).astype(dtype)), NDArray(inverse.astype(dtype))]


# --- Convolution -------------------------------------------------------------------------

_LETTERS = "uvw"


def _windows(value: Any, kernel: tuple, stride: tuple, dilate: tuple, out: tuple) -> list:
    """The strided views of ``value`` (already padded) for each kernel offset, row-major."""
    views = []
    for offsets in itertools.product(*(range(side) for side in kernel)):
        key: tuple = (slice(None), slice(None))
        for offset, step, gap, count in zip(offsets, stride, dilate, out):
            start = offset * gap
            key += (slice(start, start + step * (count - 1) + 1, step),)
        views.append(value[key])
    return views


def _convolution_values(
    value: Any,
    weight: Any,
    bias: Any,
    kernel: tuple,
    stride: tuple,
    dilate: tuple,
    pad: tuple,
    groups: int,
    out: tuple,
) -> Any:
    spatial = len(kernel)
    if any(pad):
        value = anp.pad(value, ((0, 0), (0, 0)) + tuple((side, side) for side in pad))
    batch, channels = value.shape[0], value.shape[1]
    filters = weight.shape[0]
    # (N, G, C/G, K, out...) patches against (G, F/G, C/G, K) weights
    patches = anp.stack(_windows(value, kernel, stride, dilate, out), axis=2)
    patches = anp.reshape(patches, (batch, groups, channels // groups, -1) + out)
    weights = anp.reshape(weight, (groups, filters // groups, channels // groups, -1))
    letters = _LETTERS[:spatial]
    result = anp.einsum(f"ngck{letters},gfck->ngf{letters}", patches, weights)
    result = anp.reshape(result, (batch, filters) + out)
    if bias is not None:
        result = result + anp.reshape(bias, (1, filters) + (1,) * spatial)
    return result


def Convolution(  # noqa: N802 - MXNet's name
    data: NDArray,
    weight: NDArray,
    bias: Any = None,
    kernel: Any = None,
    stride: Any = (),
    dilate: Any = (),
    pad: Any = (),
    num_filter: Any = None,
    num_group: int = 1,
    workspace: int = 1024,
    no_bias: bool = False,
    cudnn_tune: Any = None,
    cudnn_off: bool = False,
    layout: Any = None,
    **kwargs: Any,
) -> NDArray:
    """1-D, 2-D or 3-D convolution (cross-correlation) in the channel-first layout.

    Parameters
    ----------
    data : NDArray
        ``(batch, channel, width)``, ``(batch, channel, height, width)`` or
        ``(batch, channel, depth, height, width)``.
    weight : NDArray
        ``(num_filter, channel // num_group) + kernel``.
    bias : NDArray, optional
        ``(num_filter,)``; required unless ``no_bias=True``.
    kernel : tuple of int
        The window size, one entry per spatial axis.
    stride, dilate, pad : tuple of int, optional
        Default 1, 1 and 0 on every spatial axis; ``pad`` adds zeros on both sides.
    num_filter : int
        The number of output channels.
    num_group : int, optional
        Split the channels and filters into this many independent groups.
    workspace, cudnn_tune, cudnn_off : optional
        Accepted for compatibility (they tune MXNet's GPU kernels only).
    layout : {None, 'NCW', 'NCHW', 'NCDHW'}, optional

    Returns
    -------
    NDArray
        ``(batch, num_filter) + out`` with
        ``out[i] = (size[i] + 2 * pad[i] - dilate[i] * (kernel[i] - 1) - 1) // stride[i] + 1``.

    Examples
    --------
    >>> from adfun import nd
    >>> x = nd.arange(16).reshape((1, 1, 4, 4))
    >>> nd.Convolution(x, nd.ones((1, 1, 2, 2)), kernel=(2, 2), stride=(2, 2),
    ...                num_filter=1, no_bias=True)
    <BLANKLINE>
    [[[[10. 18.]
       [42. 50.]]]]
    <NDArray 1x1x2x2 @cpu(0)>
    """
    _need("Convolution", "weight", weight)
    if kernel is None or num_filter is None:
        raise TypeError("adfun.nd.Convolution: kernel and num_filter are required")
    spatial = data.ndim - 2
    if spatial not in (1, 2, 3):
        raise ValueError(
            f"adfun.nd.Convolution: data must be 3-D, 4-D or 5-D (batch, channel, "
            f"spatial...), got shape {data.shape}"
        )
    kernel = _tuple("Convolution", "kernel", kernel, spatial, 1)
    _check_layout("Convolution", layout, spatial)
    stride = _tuple("Convolution", "stride", stride, spatial, 1)
    dilate = _tuple("Convolution", "dilate", dilate, spatial, 1)
    pad = _tuple("Convolution", "pad", pad, spatial, 0)
    if min(stride + dilate) < 1 or min(pad) < 0:
        raise ValueError(
            f"adfun.nd.Convolution: stride {stride} and dilate {dilate} must be positive "
            f"and pad {pad} non-negative"
        )
    channels = data.shape[1]
    if num_group < 1 or channels % num_group or num_filter % num_group:
        raise ValueError(
            f"adfun.nd.Convolution: num_group={num_group} must divide the {channels} input "
            f"channels and num_filter={num_filter}"
        )
    expected = (num_filter, channels // num_group) + kernel
    if weight.shape != expected:
        raise ValueError(
            f"adfun.nd.Convolution: weight has shape {weight.shape}, expected {expected} "
            f"(num_filter, channels // num_group, *kernel)"
        )
    out = tuple(
        (side + 2 * border - gap * (width - 1) - 1) // step + 1
        for side, border, gap, width, step in zip(data.shape[2:], pad, dilate, kernel, stride)
    )
    if min(out) < 1:
        raise ValueError(
            f"adfun.nd.Convolution: the dilated kernel {kernel} (dilate {dilate}) is larger "
            f"than the padded input {tuple(s + 2 * p for s, p in zip(data.shape[2:], pad))}"
        )
    settings = (kernel, stride, dilate, pad, num_group, out)
    if no_bias:
        return apply(lambda x, w: _convolution_values(x, w, None, *settings), data, weight)
    _need("Convolution", "bias (or pass no_bias=True)", bias)
    if bias.shape != (num_filter,):
        raise ValueError(
            f"adfun.nd.Convolution: bias has shape {bias.shape}, expected ({num_filter},)"
        )
    return apply(lambda x, w, b: _convolution_values(x, w, b, *settings), data, weight, bias)


# --- Pooling -----------------------------------------------------------------------------


def _pool_sizes(
    sizes: tuple, kernel: tuple, stride: tuple, pad: tuple, out: tuple, include_pad: bool
) -> np.ndarray:
    """The divisor of every average-pooling window, as MXNet computes it."""
    factors = []
    for side, width, step, border, count in zip(sizes, kernel, stride, pad, out):
        start = np.arange(count) * step - border
        end = np.minimum(start + width, side + border)
        if include_pad:
            factors.append(end - start)
        else:
            factors.append(np.minimum(end, side) - np.maximum(start, 0))
    total = factors[0]
    for factor in factors[1:]:
        total = np.multiply.outer(total, factor)
    return np.maximum(total, 1)


def _pooling_values(
    value: Any,
    pool_type: str,
    kernel: tuple,
    stride: tuple,
    pad: tuple,
    out: tuple,
    include_pad: bool,
    p_value: int,
) -> Any:
    sizes = tuple(value.shape[2:])
    # pad both sides, plus what the 'full' convention's last windows reach beyond
    widths = [(0, 0), (0, 0)]
    for side, width, step, border, count in zip(sizes, kernel, stride, pad, out):
        reach = (count - 1) * step + width
        widths.append((border, max(border, reach - side - border)))
    if pool_type == "max":
        dtype = np.dtype(value.dtype)
        lowest = np.finfo(dtype).min if dtype.kind == "f" else np.iinfo(dtype).min
        padded = anp.pad(value, tuple(widths), constant_values=lowest)
    else:
        padded = anp.pad(value, tuple(widths))
    windows = anp.stack(_windows(padded, kernel, stride, (1,) * len(kernel), out), axis=2)
    if pool_type == "max":
        # MXNet sends the gradient to the first maximum of each window (row-major)
        first = anp.expand_dims(anp.argmax(windows, axis=2), 2)
        return anp.squeeze(anp.take_along_axis(windows, first, axis=2), 2)
    if pool_type == "avg":
        divisor = _pool_sizes(sizes, kernel, stride, pad, out, include_pad)
        return anp.sum(windows, axis=2) / divisor.astype(value.dtype)
    if pool_type == "sum":
        return anp.sum(windows, axis=2)
    powered = windows if p_value == 1 else windows**p_value
    total = anp.sum(powered, axis=2)
    if p_value == 1:
        return total
    return anp.sqrt(total) if p_value == 2 else anp.cbrt(total)


def Pooling(  # noqa: N802 - MXNet's name
    data: NDArray,
    kernel: Any = (),
    pool_type: str = "max",
    global_pool: bool = False,
    cudnn_off: bool = False,
    pooling_convention: str = "valid",
    stride: Any = (),
    pad: Any = (),
    p_value: Any = None,
    count_include_pad: Any = None,
    layout: Any = None,
    **kwargs: Any,
) -> NDArray:
    """1-D, 2-D or 3-D pooling in the channel-first layout.

    Parameters
    ----------
    data : NDArray
        ``(batch, channel) + spatial``.
    kernel : tuple of int
        The window size (ignored with ``global_pool=True``).
    pool_type : {'max', 'avg', 'sum', 'lp'}, optional
        The maximum (the gradient goes to the first maximal element of each window, as
        in MXNet; padding is never the maximum), the mean, the sum, or
        ``(sum x ** p) ** (1 / p)`` for ``p_value`` 1, 2 or 3.
    global_pool : bool, optional
        Pool over the whole spatial extent (output spatial size 1).
    pooling_convention : {'valid', 'full'}, optional
        Output size ``floor`` or ``ceil`` of ``(size + 2 * pad - kernel) / stride`` plus 1.
    stride, pad : tuple of int, optional
        Default 1 and 0 per spatial axis.
    p_value : int, optional
        For ``pool_type='lp'``.
    count_include_pad : bool, optional
        Whether average pooling divides by the window size including the padding
        (default True, as in MXNet).
    layout : {None, 'NCW', 'NCHW', 'NCDHW'}, optional

    Examples
    --------
    >>> from adfun import nd
    >>> x = nd.arange(16).reshape((1, 1, 4, 4))
    >>> nd.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max")
    <BLANKLINE>
    [[[[ 5.  7.]
       [13. 15.]]]]
    <NDArray 1x1x2x2 @cpu(0)>
    >>> nd.Pooling(x, kernel=(3, 3), stride=(2, 2), pool_type="avg",
    ...            pooling_convention="full").shape
    (1, 1, 2, 2)
    """
    if pool_type not in ("max", "avg", "sum", "lp"):
        raise ValueError(
            f"adfun.nd.Pooling: pool_type must be 'max', 'avg', 'sum' or 'lp', got {pool_type!r}"
        )
    if pooling_convention not in ("valid", "full"):
        raise ValueError(
            f"adfun.nd.Pooling: pooling_convention must be 'valid' or 'full', got "
            f"{pooling_convention!r} (MXNet's 'same' is not supported)"
        )
    spatial = data.ndim - 2
    if spatial not in (1, 2, 3):
        raise ValueError(
            f"adfun.nd.Pooling: data must be 3-D, 4-D or 5-D (batch, channel, spatial...), "
            f"got shape {data.shape}"
        )
    _check_layout("Pooling", layout, spatial)
    sizes = data.shape[2:]
    p = 0
    if pool_type == "lp":
        if p_value not in (1, 2, 3):
            raise ValueError(
                f"adfun.nd.Pooling: pool_type='lp' needs p_value 1, 2 or 3, got {p_value!r}"
            )
        p = int(p_value)
    if global_pool:
        kernel, stride, pad = tuple(sizes), (1,) * spatial, (0,) * spatial
    else:
        if kernel is None or (isinstance(kernel, (tuple, list)) and len(kernel) == 0):
            raise TypeError("adfun.nd.Pooling: kernel is required unless global_pool=True")
        kernel = _tuple("Pooling", "kernel", kernel, spatial, 1)
        stride = _tuple("Pooling", "stride", stride, spatial, 1)
        pad = _tuple("Pooling", "pad", pad, spatial, 0)
    if min(stride) < 1 or min(pad) < 0 or min(kernel) < 1:
        raise ValueError(
            f"adfun.nd.Pooling: kernel {kernel} and stride {stride} must be positive and pad "
            f"{pad} non-negative"
        )
    for side, width, border in zip(sizes, kernel, pad):
        if width > side + 2 * border:
            raise ValueError(
                f"adfun.nd.Pooling: kernel size {width} exceeds the input size {side} padded "
                f"to {side + 2 * border}"
            )
    if pooling_convention == "valid":
        out = tuple(
            (side + 2 * border - width) // step + 1
            for side, width, step, border in zip(sizes, kernel, stride, pad)
        )
    else:
        out = tuple(
            1 + math.ceil((side + 2 * border - width) / step)
            for side, width, step, border in zip(sizes, kernel, stride, pad)
        )
    include_pad = True if count_include_pad is None else bool(count_include_pad)
    settings = (pool_type, kernel, stride, pad, out, include_pad, p)
    return apply(lambda value: _pooling_values(value, *settings), data)
