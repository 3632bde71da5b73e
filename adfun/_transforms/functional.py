"""The functional transforms: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ...

The checks at their edges (argnums, pytrees, input dtypes, output shapes, cotangent and
tangent structure) are in :mod:`adfun._transforms.boundary`; the passes themselves are
in ``adfun._engine.reverse`` and ``adfun._engine.forward``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, ParamSpec, Sequence

import numpy as np

from adfun._engine.graph import Graph
from adfun._engine.pytree import leaf_paths, tree_flatten, tree_unflatten
from adfun._engine.records import OPERATIONS, constant_node
from adfun._engine.reverse import backward
from adfun._engine.trace import Tracer, full_value
from adfun._transforms.backends import accepts_backends, on_any_backend
from adfun._transforms.boundary import (
    Argnums,
    Traced,
    argument_gradients,
    check_complex_output,
    check_cotangent,
    check_holomorphic_inputs,
    check_tangent,
    dtype_of,
    float_dtype,
    function_name,
    normalize_argnums,
    own_node,
    push_tangents,
    release,
    scalar_seed,
    shape_of,
    strip_trace,
    trace_call,
)

P = ParamSpec("P")

# --------------------------------------------------------------------------------------
# Reverse mode
# --------------------------------------------------------------------------------------


def _single_use_backward(traced: Traced, seeds: list) -> list:
    """The reverse pass of a graph that nothing else will use: it hands its nodes over.

    ``traced`` lets go of the outputs and ``backward`` consumes the trace's node list, so
    every node (with its value) is freed as soon as the pass is past it.
    """
    traced.out = None
    traced.out_leaves = []
    return backward(seeds, traced.inputs, traced.trace.nodes, consume=True)


@on_any_backend("vjp")
def vjp(fun: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Evaluate ``fun(*primals)`` and return a function computing its vector-Jacobian products.

    Parameters
    ----------
    fun : callable
        A function of the ``primals`` (pytrees of float arrays and floats) returning a
        pytree of arrays; with ``has_aux``, a pair ``(output, aux)``.
    *primals
        The point at which to linearize.
    has_aux : bool, optional
        Whether ``fun`` returns an auxiliary value that is not differentiated.

    Returns
    -------
    out : pytree
        ``fun(*primals)`` (the first element of the pair with ``has_aux``).
    vjp_fn : callable
        ``vjp_fn(cotangent)``, with ``cotangent`` shaped like ``out``, returns a tuple with
        one cotangent per primal, each shaped like its primal.
    aux : pytree
        Only with ``has_aux``.

    See Also
    --------
    adfun.jvp : Forward mode.
    adfun.grad : For a scalar output.
    adfun.jacrev : Every row of the Jacobian.

    Notes
    -----
    ``vjp_fn`` uses the values of the call: the recorded graph holds private copies of
    the primals and of the NumPy arrays ``fun`` used, and ``out`` and ``aux`` are the
    caller's to modify, so no in-place change made before ``vjp_fn`` runs alters its
    result.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> out, vjp_fn = ad.vjp(lambda x: anp.sin(x) * 2.0, 0.0)
    >>> float(out), vjp_fn(1.0)
    (0.0, (np.float64(2.0),))
    """
    # The graph outlives this call: a kept trace gives its nodes private copies of the
    # primals and of every array constant, and the caller gets copies of the values the
    # nodes hold, so that no in-place change before vjp_fn runs can alter its result.
    traced = trace_call("vjp", fun, primals, tuple(range(len(primals))), has_aux, kept=True)
    out = release(traced.trace, traced.out)
    out_tree = traced.out_tree
    out_nodes = [own_node(traced.trace, leaf) for leaf in traced.out_leaves]
    out_values = [full_value(leaf) for leaf in traced.out_leaves]

    def vjp_fn(cotangent: Any) -> tuple:
        leaves, tree = tree_flatten(cotangent)
        if tree != out_tree:
            raise TypeError(
                f"vjp_fn: the cotangent must have the structure of the output of "
                f"{function_name(fun)}, {out_tree}, but it has structure {tree}"
            )
        seeds = []
        for path, node, value, ct in zip(
            leaf_paths(tree, "cotangent"), out_nodes, out_values, leaves
        ):
            ct = check_cotangent(path, ct, value)
            if node is not None:
                seeds.append((node, ct))
        cotangents = backward(seeds, traced.inputs, traced.trace.nodes)
        return tuple(argument_gradients(traced, cotangents))

    vjp_fn.__doc__ = f"Vector-Jacobian product of {function_name(fun)} at the recorded point."
    if has_aux:
        return out, vjp_fn, traced.aux
    return out, vjp_fn


def value_and_grad(
    fun: Callable[P, Any], argnums: Argnums = 0, *, has_aux: bool = False, holomorphic: bool = False
) -> Callable[P, tuple[Any, Any]]:
    """Return a function computing ``fun``'s value and gradient in one forward pass.

    Parameters
    ----------
    fun : callable
        Returns a real scalar (a float, 0-d array or size-1 array); with ``has_aux``, a
        pair ``(scalar, aux)``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    has_aux : bool, optional
        Whether ``fun`` returns ``(value, aux)``.
    holomorphic : bool, optional
        Whether ``fun`` is holomorphic (complex in, complex out): see :func:`grad`.

    Returns
    -------
    callable
        Returns ``(value, gradient)``, or ``((value, aux), gradient)`` with ``has_aux``.
        The gradient is a tuple when ``argnums`` is a tuple.

    See Also
    --------
    adfun.grad : The gradient alone.
    adfun.vjp : For non-scalar outputs.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> ad.value_and_grad(lambda x: x ** 2)(3.0)
    (np.float64(9.0), np.float64(6.0))
    """

    return accepts_backends(
        "value_and_grad",
        gradient_function(fun, argnums, has_aux, "value_and_grad", holomorphic),
    )


def gradient_function(
    fun: Callable[P, Any],
    argnums: Argnums,
    has_aux: bool,
    transform: str,
    holomorphic: bool = False,
) -> Callable[P, tuple[Any, Any]]:
    """``value_and_grad(fun, argnums, has_aux)``, whose errors name ``transform``.

    Transforms built on the gradient (``grad``, ``hvp``, ...) pass their own name, so a
    user reads about the function they called.
    """

    @functools.wraps(fun)
    def value_and_grad_fun(*args: Any, **kwargs: Any) -> Any:
        positions, as_tuple = normalize_argnums(transform, argnums, len(args))
        traced = trace_call(transform, fun, args, positions, has_aux, kwargs)
        if holomorphic:
            check_holomorphic_inputs(transform, traced, positions)
        if traced.out_tree.kind != "leaf":
            scalar_seed(transform, fun, traced.out)
        out = traced.out_leaves[0]
        seed = scalar_seed(transform, fun, out, holomorphic)
        node = own_node(traced.trace, out)
        value = out.value if node is not None else out
        seeds = [(node, seed)] if node is not None else []
        del out, node
        cotangents = _single_use_backward(traced, seeds)
        gradients = argument_gradients(traced, cotangents)
        gradient = tuple(gradients) if as_tuple else gradients[0]
        if has_aux:
            return (value, traced.aux), gradient
        return value, gradient

    return value_and_grad_fun


def grad(
    fun: Callable[P, Any], argnums: Argnums = 0, *, has_aux: bool = False, holomorphic: bool = False
) -> Callable[P, Any]:
    """Return a function computing the gradient of the scalar function ``fun``.

    Parameters
    ----------
    fun : callable
        Returns a real scalar (a float, 0-d array or size-1 array); with ``has_aux``, a
        pair ``(scalar, aux)``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    has_aux : bool, optional
        Whether ``fun`` returns ``(value, aux)``; the gradient function then returns
        ``(gradient, aux)``.
    holomorphic : bool, optional
        Whether ``fun`` is a holomorphic function of complex arguments with a complex
        output; the gradient is then the complex derivative ``f'(z)``.

    Returns
    -------
    callable
        Same arguments as ``fun``; returns the gradient, shaped (and typed) like the
        differentiated argument, or a tuple of them when ``argnums`` is a tuple.

    Raises
    ------
    TypeError
        If ``fun`` does not return a real scalar (a complex one with
        ``holomorphic=True``), or a differentiated argument is not made of floats or
        complex numbers (complex numbers only, with ``holomorphic=True``).

    Notes
    -----
    Complex arguments follow HIPS autograd's and JAX's convention: for a real-valued
    ``f`` of ``z = x + iy``, ``grad(f)(z) = df/dx - i df/dy`` (the conjugate of
    PyTorch's ``z.grad``; descend along ``conj(grad(f)(z))``).  A real argument has a real
    gradient even when ``fun`` computes with complex intermediates.

    See Also
    --------
    adfun.value_and_grad : The value too, from the same pass.
    adfun.elementwise_grad : For elementwise functions of arrays.
    adfun.vjp : The vector-Jacobian product behind it.
    adfun.jacrev : The whole Jacobian of a vector output.
    adfun.hessian : Second derivatives.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> ad.grad(anp.sin)(0.0)
    np.float64(1.0)
    >>> ad.grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 3.0)
    (np.float64(3.0), np.float64(2.0))
    >>> ad.grad(lambda z: anp.real(z * anp.conj(z)))(3.0 + 4.0j)
    np.complex128(6-8j)
    >>> ad.grad(lambda z: z ** 2, holomorphic=True)(3.0 + 4.0j)
    np.complex128(6+8j)
    """
    value_and_grad_fun = gradient_function(fun, argnums, has_aux, "grad", holomorphic)

    @functools.wraps(fun)
    def grad_fun(*args: Any, **kwargs: Any) -> Any:
        value, gradient = value_and_grad_fun(*args, **kwargs)
        if has_aux:
            return gradient, value[1]
        return gradient

    return accepts_backends("grad", grad_fun)


def elementwise_grad(
    fun: Callable[P, Any], argnums: Argnums = 0, *, holomorphic: bool = False
) -> Callable[P, Any]:
    """Return a function computing the VJP of ``fun`` with a cotangent of ones.

    For a function that acts elementwise this is the derivative at every point.

    Parameters
    ----------
    fun : callable
        Returns a single array (or scalar) of floats; of complex numbers with
        ``holomorphic=True``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    holomorphic : bool, optional
        Whether ``fun`` is a holomorphic function of complex arguments with a complex
        output, as for :func:`grad`; the result is then the complex derivative
        ``f'(z)`` at every point of an elementwise ``fun``.

    Returns
    -------
    callable
        Same arguments as ``fun``; returns the gradient, shaped (and typed) like the
        differentiated argument, or a tuple of them when ``argnums`` is a tuple.

    Raises
    ------
    TypeError
        If ``fun`` returns a pytree, a complex array without ``holomorphic=True`` or a
        real one with it, or (with ``holomorphic=True``) a differentiated argument is not
        complex.

    See Also
    --------
    adfun.grad : For a scalar output.
    adfun.jacobian : The whole Jacobian.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.elementwise_grad(anp.sin)(np.array([0.0, np.pi]))
    array([ 1., -1.])
    >>> ad.elementwise_grad(lambda z: z ** 2, holomorphic=True)(np.array([1j, 2.0 + 0j]))
    array([0.+2.j, 4.+0.j])
    """

    @functools.wraps(fun)
    def elementwise_grad_fun(*args: Any, **kwargs: Any) -> Any:
        positions, as_tuple = normalize_argnums("elementwise_grad", argnums, len(args))
        traced = trace_call("elementwise_grad", fun, args, positions, False, kwargs)
        if holomorphic:
            check_holomorphic_inputs("elementwise_grad", traced, positions)
        if traced.out_tree.kind != "leaf":
            raise TypeError(
                f"elementwise_grad: {function_name(fun)} must return a single array, but it "
                f"returned "
                f"a {traced.out_tree.kind}"
            )
        out = traced.out_leaves[0]
        node = own_node(traced.trace, out)
        value = full_value(out)
        dtype = dtype_of(value)
        if holomorphic or dtype.kind == "c":
            check_complex_output("elementwise_grad", fun, "output", dtype, holomorphic)
        else:
            dtype = float_dtype(value)
        seed = np.ones(shape_of(value), dtype) if isinstance(value, np.ndarray) else dtype.type(1)
        seeds = [(node, seed)] if node is not None else []
        del out, node
        cotangents = _single_use_backward(traced, seeds)
        gradients = argument_gradients(traced, cotangents)
        return tuple(gradients) if as_tuple else gradients[0]

    return accepts_backends("elementwise_grad", elementwise_grad_fun)


# --------------------------------------------------------------------------------------
# Forward mode
# --------------------------------------------------------------------------------------


@on_any_backend("jvp")
def jvp(
    fun: Callable, primals: Sequence[Any], tangents: Sequence[Any], *, has_aux: bool = False
) -> tuple:
    """Evaluate ``fun`` and its Jacobian-vector product in forward mode.

    ``fun`` is traced once at ``primals``; the tangents are then pushed through the
    recorded nodes in topological order with each primitive's forward (JVP) rule.

    Parameters
    ----------
    fun : callable or Graph
        A function of ``len(primals)`` positional arguments.
    primals : tuple or list
        The point (pytrees of float arrays and floats).
    tangents : tuple or list
        One tangent per primal, with the primal's structure, shapes and dtypes (a Python
        number is accepted for a scalar and takes the primal's dtype).
    has_aux : bool, optional
        Whether ``fun`` returns a pair ``(output, aux)``; ``aux`` is returned as is.

    Returns
    -------
    (out, tangent_out) or (out, tangent_out, aux)
        ``fun(*primals)`` and the directional derivative, with the structure of ``out``.

    Raises
    ------
    TypeError
        If a tangent's structure or dtype does not match its primal.
    ValueError
        If a tangent's shape does not match its primal.

    See Also
    --------
    adfun.vjp : Reverse mode.
    adfun.jacfwd : Every column of the Jacobian.
    adfun.hvp : Forward over reverse.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> ad.jvp(anp.sin, (0.0,), (2.0,))
    (np.float64(0.0), np.float64(2.0))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "jvp: primals and tangents must be tuples (or lists) with one entry per "
            f"positional argument of {function_name(fun)}, got {type(primals).__name__} and "
            f"{type(tangents).__name__}; write jvp(f, (x,), (v,))"
        )
    if len(primals) != len(tangents):
        raise TypeError(
            f"jvp: got {len(primals)} primals but {len(tangents)} tangents; pass one tangent "
            f"per primal"
        )
    traced = trace_call("jvp", fun, primals, tuple(range(len(primals))), has_aux)
    tangent_leaves = []
    for position, (primal_leaves, tree, tangent) in enumerate(
        zip(traced.in_leaves, traced.in_trees, tangents)
    ):
        leaves, tangent_tree = tree_flatten(tangent)
        if tangent_tree != tree:
            raise TypeError(
                f"jvp: tangent {position} has structure {tangent_tree}, but primal "
                f"{position} has structure {tree}; tangents must match their primals"
            )
        paths = leaf_paths(tree, f"tangent {position}")
        for path, primal, leaf in zip(paths, primal_leaves, leaves):
            tangent_leaves.append(check_tangent("jvp", path, leaf, primal))
    out_tangents = push_tangents(traced, dict(zip(traced.inputs, tangent_leaves)))
    out = strip_trace(traced.trace, traced.out)
    if has_aux:
        return out, tree_unflatten(traced.out_tree, out_tangents), traced.aux
    return out, tree_unflatten(traced.out_tree, out_tangents)


# --------------------------------------------------------------------------------------
# Graph and constants
# --------------------------------------------------------------------------------------


def stop_gradient(x: Any) -> Any:
    """Return ``x``, treated as a constant by every transform.

    Works on pytrees: every leaf is stopped.

    See Also
    --------
    adfun.grad : What it stops.

    Examples
    --------
    >>> import adfun as ad
    >>> ad.grad(lambda x: x * ad.stop_gradient(x))(3.0)
    np.float64(3.0)
    """
    stop = OPERATIONS["stop_gradient"]
    leaves, tree = tree_flatten(x)
    return tree_unflatten(tree, [stop(leaf) if type(leaf) is Tracer else leaf for leaf in leaves])


def trace(fun: Callable[..., Any]) -> Callable[..., Graph]:
    """Return a function that runs ``fun`` once and returns its :class:`Graph`.

    Every positional argument (a pytree of arrays and floats) becomes graph inputs.

    See Also
    --------
    adfun.jit : Stage and replay a function.
    adfun.Graph : What it returns.

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp
    >>> graph = ad.trace(lambda x: anp.sin(x) * 2.0)(1.0)
    >>> [node.primitive.name for node in graph.nodes]
    ['input', 'sin', 'multiply']
    """

    @functools.wraps(fun)
    def trace_fun(*args: Any) -> Graph:
        traced = trace_call("trace", fun, args, tuple(range(len(args))), False, staging=True)
        outputs = []
        for leaf in traced.out_leaves:
            node = own_node(traced.trace, leaf)
            outputs.append(node if node is not None else constant_node(leaf))
        in_tree = tree_flatten(tuple(args))[1]
        return Graph.build(
            traced.inputs,
            outputs,
            in_tree=in_tree,
            out_tree=traced.out_tree,
            name=function_name(fun),
        )

    return trace_fun
