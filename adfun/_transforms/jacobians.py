"""Jacobians and Hessians built on the reverse and forward passes.

``jacrev`` traces the function once and runs the reverse pass once, batched over every
output element (``vmap`` of the pass over the rows of the identity); ``jacfwd`` traces it
once and runs the forward pass once, batched over every input element.  Where the pass
cannot be batched (a rule that reads a value to decide what to do, which a batch cannot
share), they fall back to one pass per element.  Both work on traced values too, so they
nest (``hessian`` is ``jacfwd`` of ``jacrev``) and compose with every other transform.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Iterator, ParamSpec

import numpy as np

from adfun._engine.backend import is_foreign
from adfun._engine.errors import StagingError, describe
from adfun._engine.graph import toposort
from adfun._engine.pytree import leaf_paths, tree_flatten, tree_unflatten
from adfun._engine.records import OPERATIONS
from adfun._engine.reverse import backward
from adfun._engine.trace import Tracer, full_value
from adfun._transforms.backends import accepts_backends
from adfun._transforms.batching import vmap
from adfun._transforms.boundary import (
    Argnums,
    Traced,
    argument_gradients,
    check_complex_output,
    check_differentiable,
    check_holomorphic_inputs,
    check_tangent,
    dtype_of,
    finish,
    function_name,
    normalize_argnums,
    own_node,
    push_tangents,
    scalar_seed,
    shape_of,
    trace_call,
)

P = ParamSpec("P")


def _check_outputs(
    transform: str, fun: Callable, traced: Traced, holomorphic: bool = False, outer: bool = False
) -> None:
    """Every output leaf must be a float array or a float: a Jacobian needs real outputs
    (complex ones with ``holomorphic=True``, which needs them)."""
    paths = leaf_paths(traced.out_tree, "output")
    for path, leaf in zip(paths, traced.out_leaves):
        value = full_value(leaf)
        if type(value) is complex or isinstance(value, np.complexfloating):
            value = np.asarray(value)
        if holomorphic or dtype_of(value).kind == "c":
            _check_complex_output(transform, fun, path, value, holomorphic, outer)
            continue
        if is_foreign(value):
            if dtype_of(value).kind != "f":
                raise TypeError(
                    f"{transform}: {function_name(fun)} must return float arrays, but its "
                    f"{path} has dtype {dtype_of(value)}; convert it with astype or return "
                    f"it through has_aux=True"
                )
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (float, np.floating, np.ndarray)
        ):
            raise TypeError(
                f"{transform}: {function_name(fun)} must return float arrays or floats (or a "
                f"tuple/list/dict of them), but its {path} is {describe(value)}; return "
                f"non-differentiable values through has_aux=True instead"
            )
        if isinstance(value, np.ndarray) and value.dtype.kind != "f":
            raise TypeError(
                f"{transform}: {function_name(fun)} must return float arrays, but its {path} has "
                f"dtype {value.dtype}; convert it with .astype(float) or return it through "
                f"has_aux=True"
            )


def _check_complex_output(
    transform: str, fun: Callable, path: str, value: Any, holomorphic: bool, outer: bool
) -> None:
    if outer and not holomorphic:  # hessian's jacfwd, over the gradient
        raise TypeError(
            f"hessian: the gradient of {function_name(fun)} is complex, as its argument is: "
            f"the Hessian of a real-valued function of complex input is a real-linear map "
            f"(v -> A v + B conj(v)), not one complex matrix. Use adfun.hvp(f)(z, v) for "
            f"its products, pass holomorphic=True for a holomorphic f (f''(z)), or take the "
            f"Hessian with respect to the real and imaginary parts as float arguments"
        )
    check_complex_output(transform, fun, path, dtype_of(value), holomorphic)


def _one_hots(value: Any) -> Iterator[Any]:
    """Yield the one-hot arrays (seeds or tangents) for every element of ``value``."""
    value = full_value(value)
    shape = shape_of(value)
    dtype = dtype_of(value)
    size = int(np.prod(shape))
    array = isinstance(value, np.ndarray) or is_foreign(value)
    for flat in range(size):
        seed = np.zeros(size, dtype)
        seed[flat] = 1
        seed = seed.reshape(shape)
        yield seed if array else seed[()]


def _assemble(rows: list, lead_shape: tuple, tail_shape: tuple, template: Any) -> Any:
    """Stack ``rows`` (one per element of ``lead_shape``) into ``lead_shape + tail_shape``."""
    if lead_shape == ():
        return rows[0]  # one row, already of tail_shape and of the right type
    if any(type(row) is Tracer for row in rows):
        stacked = OPERATIONS["stack"](rows)
        return OPERATIONS["reshape"](stacked, lead_shape + tail_shape)
    result = (
        np.stack([np.asarray(row) for row in rows])
        if rows
        else np.zeros((0,) + tail_shape, np.result_type(full_value(template)))
    )
    return result.reshape(lead_shape + tail_shape)


def _per_argument(traced: Traced, flat: list, as_tuple: bool) -> Any:
    """Group per-input-leaf blocks by differentiated argument, rebuilt as its pytree."""
    results = []
    start = 0
    for leaves, tree in zip(traced.in_leaves, traced.in_trees):
        results.append(tree_unflatten(tree, flat[start : start + len(leaves)]))
        start += len(leaves)
    return tuple(results) if as_tuple else results[0]


def jacrev(
    fun: Callable[P, Any], argnums: Argnums = 0, *, has_aux: bool = False, holomorphic: bool = False
) -> Callable[P, Any]:
    """Return a function computing the Jacobian of ``fun`` in reverse mode.

    ``fun`` is traced once; one reverse pass runs per output element, so ``jacrev`` suits
    functions with fewer outputs than inputs.

    Parameters
    ----------
    fun : callable or Graph
        Returns a float array or float, or a tuple/list/dict of them.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    has_aux : bool, optional
        Whether ``fun`` returns ``(output, aux)``; the result is then ``(jacobian, aux)``.
    holomorphic : bool, optional
        Whether ``fun`` is holomorphic, with complex arguments and outputs: the result is
        then the complex Jacobian ``df_i / dz_j``.  Without it, outputs must be real;
        complex arguments give rows ``df_i/dx_j - i df_i/dy_j`` (as :func:`grad`).

    Returns
    -------
    callable
        Same arguments as ``fun``.  For one output array ``y`` and one argument ``x`` it
        returns an array of shape ``y.shape + x.shape`` (``[i, j] = dy_i / dx_j``) with
        ``x``'s dtype.  Pytree outputs give the output's structure with, at each leaf, the
        argument's structure (a tuple over ``argnums`` when ``argnums`` is a tuple).

    Raises
    ------
    TypeError
        If an output is not a float array or float.

    See Also
    --------
    adfun.jacfwd : The same Jacobian in forward mode (fewer inputs than outputs).
    adfun.jacobian : The default choice.
    adfun.vjp : One row.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.jacrev(lambda x: x[:2] * x[1:])(np.array([1.0, 2.0, 3.0]))
    array([[2., 1., 0.],
           [0., 3., 2.]])
    """

    return accepts_backends("jacrev", _jacrev(fun, argnums, has_aux, "jacrev", holomorphic))


def _jacrev(
    fun: Callable[P, Any],
    argnums: Argnums,
    has_aux: bool,
    transform: str,
    holomorphic: bool = False,
) -> Callable[P, Any]:
    @functools.wraps(fun)
    def jacrev_fun(*args: Any, **kwargs: Any) -> Any:
        positions, as_tuple = normalize_argnums(transform, argnums, len(args))
        traced = trace_call(transform, fun, args, positions, has_aux, kwargs)
        if holomorphic:
            check_holomorphic_inputs(transform, traced, positions)
        _check_outputs(transform, fun, traced, holomorphic)
        in_values = [leaf for leaves in traced.in_leaves for leaf in leaves]
        per_output = []
        for leaf in traced.out_leaves:
            node = own_node(traced.trace, leaf)
            value = full_value(leaf)
            blocks = _batched_rows(traced, node, value, in_values)
            if blocks is None:
                blocks = _looped_rows(traced, node, value, in_values)
            per_output.append(_per_argument(traced, blocks, as_tuple))
        jacobian = tree_unflatten(traced.out_tree, per_output)
        return (jacobian, traced.aux) if has_aux else jacobian

    return jacrev_fun


def _looped_rows(traced: Traced, node: Any, value: Any, in_values: list) -> list:
    """The Jacobian blocks of one output, one reverse pass per output element."""
    rows: list[list] = [[] for _ in in_values]
    for seed in _one_hots(value):
        cotangents = backward(
            [(node, seed)] if node is not None else [], traced.inputs, traced.trace.nodes
        )
        for row, cotangent, primal in zip(rows, cotangents, in_values):
            row.append(finish(cotangent, primal))
    return [
        _assemble(row, shape_of(value), shape_of(primal), primal)
        for row, primal in zip(rows, in_values)
    ]


def _basis(value: Any) -> tuple[Any, int]:
    """The rows of the identity for the elements of ``value``, shaped ``(n, *shape)``."""
    value = full_value(value)
    shape = shape_of(value)
    size = math.prod(shape)
    return np.eye(size, dtype=dtype_of(value)).reshape((size, *shape)), size


def _reshaped(block: Any, shape: tuple) -> Any:
    if shape_of(block) == shape:
        return block
    if type(block) is Tracer:
        return OPERATIONS["reshape"](block, shape)
    return np.reshape(block, shape)


def _batched_rows(traced: Traced, node: Any, value: Any, in_values: list) -> list | None:
    """The Jacobian blocks of one output by one reverse pass batched over its elements
    (``None`` if the pass cannot be batched)."""
    out_shape = shape_of(value)
    if node is None:
        return [
            np.zeros(out_shape + shape_of(primal), np.result_type(full_value(primal)))
            for primal in in_values
        ]

    def pullback(seed: Any) -> list:
        cotangents = backward([(node, seed)], traced.inputs, traced.trace.nodes)
        return [finish(cotangent, primal) for cotangent, primal in zip(cotangents, in_values)]

    basis, size = _basis(value)
    if size == 0:
        return None
    if size == 1:
        rows = pullback(basis[0])
    else:
        try:
            rows = vmap(pullback)(basis)
        except StagingError:
            return None  # a rule decides on a value: one pass per element
    return [_reshaped(row, out_shape + shape_of(primal)) for row, primal in zip(rows, in_values)]


def jacobian(
    fun: Callable[P, Any], argnums: Argnums = 0, *, has_aux: bool = False, holomorphic: bool = False
) -> Callable[P, Any]:
    """Return a function computing the Jacobian of ``fun`` (reverse mode, see :func:`jacrev`).

    See Also
    --------
    adfun.jacrev : Reverse mode.
    adfun.jacfwd : Forward mode.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.jacobian(anp.sin)(np.zeros(2))
    array([[1., 0.],
           [0., 1.]])
    """
    return jacrev(fun, argnums, has_aux=has_aux, holomorphic=holomorphic)


def jacfwd(
    fun: Callable[P, Any], argnums: Argnums = 0, *, has_aux: bool = False, holomorphic: bool = False
) -> Callable[P, Any]:
    """Return a function computing the Jacobian of ``fun`` in forward mode.

    ``fun`` is traced once; one forward pass runs over the recorded nodes per input
    element, so ``jacfwd`` suits functions with more outputs than inputs.  The result has
    the same layout as :func:`jacrev`'s, with each output's dtype.

    Parameters
    ----------
    fun : callable or Graph
        Returns a float array or float, or a tuple/list/dict of them.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate with respect to (default 0).
    has_aux : bool, optional
        Whether ``fun`` returns ``(output, aux)``; the result is then ``(jacobian, aux)``.
    holomorphic : bool, optional
        As for :func:`jacrev`: the complex Jacobian of a holomorphic ``fun``.  Without it,
        complex arguments of a real-valued ``fun`` give ``df_i/dx_j - i df_i/dy_j`` (two
        forward passes per element, along ``1`` and ``1j``).

    Returns
    -------
    callable
        Same arguments as ``fun``, returning an array of shape ``y.shape + x.shape`` for
        one output ``y`` and one argument ``x`` (pytrees as for :func:`jacrev`).

    See Also
    --------
    adfun.jacrev : The same Jacobian in reverse mode (fewer outputs than inputs).
    adfun.jacobian : The default choice.
    adfun.jvp : One column.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """

    return accepts_backends("jacfwd", _jacfwd(fun, argnums, has_aux, "jacfwd", holomorphic))


def _jacfwd(
    fun: Callable[P, Any],
    argnums: Argnums,
    has_aux: bool,
    transform: str,
    holomorphic: bool = False,
) -> Callable[P, Any]:
    @functools.wraps(fun)
    def jacfwd_fun(*args: Any, **kwargs: Any) -> Any:
        positions, as_tuple = normalize_argnums(transform, argnums, len(args))
        traced = trace_call(transform, fun, args, positions, has_aux, kwargs)
        if holomorphic:
            check_holomorphic_inputs(transform, traced, positions)
        _check_outputs(transform, fun, traced, holomorphic, outer=transform == "hessian")
        out_nodes = [own_node(traced.trace, leaf) for leaf in traced.out_leaves]
        order = toposort([node for node in out_nodes if node is not None])
        in_values = [leaf for leaves in traced.in_leaves for leaf in leaves]
        # blocks[i][j]: the Jacobian block of output i with respect to input leaf j.
        blocks: list[list] = [[] for _ in traced.out_leaves]
        for node, primal in zip(traced.inputs, in_values):
            columns = _columns(traced, node, primal, order)
            if not holomorphic and dtype_of(full_value(primal)).kind == "c":
                # Real outputs of a complex leaf: df/dx - i df/dy, from the tangents 1, 1j.
                along_imag = _columns(traced, node, primal, order, 1j)
                columns = [
                    _combine(along_real, along_y)
                    for along_real, along_y in zip(columns, along_imag)
                ]
            for column, block in zip(blocks, columns):
                column.append(block)
        per_output = [_per_argument(traced, column, as_tuple) for column in blocks]
        jacobian = tree_unflatten(traced.out_tree, per_output)
        return (jacobian, traced.aux) if has_aux else jacobian

    return jacfwd_fun


def _columns(traced: Traced, node: Any, primal: Any, order: list, scale: Any = None) -> list:
    """The Jacobian blocks with respect to one input leaf (its tangents times ``scale``)."""
    columns = _batched_columns(traced, node, primal, order, scale)
    if columns is None:
        columns = _looped_columns(traced, node, primal, order, scale)
    return columns


def _combine(along_x: Any, along_y: Any) -> Any:
    """``along_x - 1j * along_y``: the column of a real output for a complex leaf."""
    if type(along_x) is Tracer or type(along_y) is Tracer:
        return OPERATIONS["subtract"](along_x, OPERATIONS["multiply"](along_y, 1j))
    return along_x - 1j * np.asarray(along_y)


def _batched_columns(
    traced: Traced, node: Any, primal: Any, order: list, scale: Any = None
) -> list | None:
    """The Jacobian blocks with respect to one input leaf, for every output, by one
    forward pass batched over the leaf's elements (``None`` if it cannot be batched)."""
    in_shape = shape_of(full_value(primal))
    basis, size = _basis(primal)
    if size == 0:
        return None
    if scale is not None:
        basis = basis * scale

    def push(tangent: Any) -> list:
        return push_tangents(traced, {node: tangent}, order)

    if size == 1:
        columns = push(basis[0])
    else:
        try:
            columns = vmap(push, out_axes=-1)(basis)
        except StagingError:
            return None
    return [
        _reshaped(column, shape_of(full_value(leaf)) + in_shape)
        for column, leaf in zip(columns, traced.out_leaves)
    ]


def _looped_columns(traced: Traced, node: Any, primal: Any, order: list, scale: Any = None) -> list:
    """The same blocks as :func:`_batched_columns`, one forward pass per element."""
    columns: list[list] = [[] for _ in traced.out_leaves]
    for tangent in _one_hots(primal):
        if scale is not None:
            tangent = tangent * scale
        for column, out_tangent in zip(columns, push_tangents(traced, {node: tangent}, order)):
            column.append(out_tangent)
    blocks = []
    for column, leaf in zip(columns, traced.out_leaves):
        block = _assemble(column, shape_of(primal), shape_of(full_value(leaf)), leaf)
        blocks.append(_move_front_to_back(block, len(shape_of(primal))))
    return blocks


def _move_front_to_back(block: Any, count: int) -> Any:
    """Move the first ``count`` axes of ``block`` to the end."""
    ndim = len(shape_of(block))
    if count == 0 or count == ndim:
        return block
    axes = tuple(range(count, ndim)) + tuple(range(count))
    if type(block) is Tracer:
        return OPERATIONS["transpose"](block, axes)
    return np.transpose(block, axes)


def hessian(
    fun: Callable[P, Any], argnums: Argnums = 0, *, has_aux: bool = False, holomorphic: bool = False
) -> Callable[P, Any]:
    """Return a function computing the Hessian of the scalar function ``fun``.

    Forward over reverse: ``jacfwd(jacrev(fun, argnums), argnums)``.

    Parameters
    ----------
    fun : callable or Graph
        Returns a real scalar (or, more generally, float arrays: the result then has shape
        ``out.shape + x.shape + x.shape``).
    argnums : int or tuple of int, optional
        With a tuple, the result is a nested tuple: ``H[i][j]`` has shape
        ``x_i.shape + x_j.shape``.
    has_aux : bool, optional
        Whether ``fun`` returns ``(output, aux)``; the result is then ``(hessian, aux)``.
    holomorphic : bool, optional
        Whether ``fun`` is holomorphic (complex arguments and output): the result is then
        ``f''(z)``.  A real-valued function of complex arguments has no Hessian matrix
        (its second derivative is real-linear, not complex-linear): use :func:`hvp`.

    Returns
    -------
    callable
        Same arguments as ``fun``, returning an array of shape ``x.shape + x.shape``.

    See Also
    --------
    adfun.hvp : A Hessian-vector product, without forming the matrix.
    adfun.jacfwd : Forward mode.
    adfun.jacrev : Reverse mode.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.hessian(lambda x: anp.sum(x ** 3))(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return accepts_backends(
        "hessian",
        _jacfwd(
            _jacrev(fun, argnums, has_aux, "hessian", holomorphic),
            argnums,
            has_aux,
            "hessian",
            holomorphic,
        ),
    )


def hvp(fun: Callable[..., Any]) -> Callable[[Any, Any], Any]:
    """Return a function computing Hessian-vector products of the scalar function ``fun``.

    ``hvp(fun)(x, v)`` is ``H(x) @ v`` (for arrays: ``tensordot(H, v, v.ndim)``), computed
    forward over reverse, as the forward-mode derivative of ``grad(fun)`` at ``x`` along
    ``v``, without forming the Hessian: it costs a small multiple of one gradient.

    The gradient itself is not wanted, only its derivative, so its last step is not
    computed where that step is a product with a constant (``A @ x``, ``dot(x, w)``,
    ``tensordot``): the transposed product is applied to the derivative of its cotangent
    directly, which is exact, as the step is linear in the cotangent.  For
    ``sum(tanh(A @ x)**2)`` that leaves three matrix-vector products, as by hand.

    Parameters
    ----------
    fun : callable or Graph
        A function of one argument ``x`` (a float array, float or pytree of them)
        returning a real scalar.

    Returns
    -------
    callable
        ``hvp_fun(x, v)``, with ``v`` of ``x``'s structure, shapes and dtypes, returning a
        value of that structure too.

    See Also
    --------
    adfun.hessian : The whole matrix.
    adfun.jvp : Forward mode.
    adfun.grad : Reverse mode.

    Examples
    --------
    >>> import numpy as np, adfun as ad, adfun.numpy as anp
    >>> ad.hvp(lambda x: anp.sum(x ** 3))(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """

    @functools.wraps(fun)
    def hvp_fun(x: Any, v: Any) -> Any:
        x_leaves, x_tree = tree_flatten(x)
        v_leaves, v_tree = tree_flatten(v)
        if v_tree != x_tree:
            raise TypeError(
                f"hvp: v has structure {v_tree}, but x has structure {x_tree}; v must have "
                f"exactly x's structure"
            )
        primals = [
            check_differentiable("hvp", path, leaf)
            for path, leaf in zip(leaf_paths(x_tree, "argument 0"), x_leaves)
        ]
        tangents = [
            check_tangent("hvp", path, leaf, primal)
            for path, primal, leaf in zip(leaf_paths(x_tree, "v"), primals, v_leaves)
        ]
        last_steps: list = []  # the skipped steps, found while the gradient is traced
        moving: list = []  # per leaf of x: whether the rest of its gradient depends on x

        def gradient(x: Any) -> tuple:
            partial, carried, steps, depends = _gradient_but_last_steps(fun, x)
            last_steps.extend(steps)
            moving.extend(depends)
            return partial, carried

        # jvp(gradient, (x,), (v,)) without what hvp does not need: v is checked above,
        # and the primal outputs (the gradient) are not unwrapped.
        traced = trace_call("hvp", gradient, (x,), (0,), False)
        # Only the nodes the gradient needs: not those of fun's value, whose tangent
        # (the directional derivative of fun) hvp does not return.
        needed = toposort(
            [
                leaf.node
                for leaf in traced.out_leaves
                if type(leaf) is Tracer and leaf.trace is traced.trace
            ]
        )
        partial, carried = tree_unflatten(
            traced.out_tree, push_tangents(traced, dict(zip(traced.inputs, tangents)), needed)
        )
        if not last_steps:
            return partial
        leaves, tree = tree_flatten(partial)
        totals: dict[int, Any] = {}
        for index, rule, g_index, ans, args, params in last_steps:
            if g_index is None:  # a constant cotangent: no derivative
                continue
            contribution = rule(carried[g_index], ans, *args, **params)
            if contribution is not None:
                previous = totals.get(index)
                totals[index] = (
                    contribution if previous is None else OPERATIONS["add"](previous, contribution)
                )
        for index, total in totals.items():
            total = finish(total, primals[index])
            # Where nothing else of the gradient moves with x, its tangent is zeros.
            leaves[index] = OPERATIONS["add"](leaves[index], total) if moving[index] else total
        return tree_unflatten(tree, leaves)

    return accepts_backends("hvp", hvp_fun)


def _gradient_but_last_steps(fun: Callable, x: Any) -> tuple:
    """``grad(fun)(x)`` without the steps that end in ``x`` and are products with constants.

    Returns the gradient of the other steps, the cotangents of the skipped nodes that
    depend on ``x``'s trace (whose tangents ``hvp`` needs), the skipped steps as
    ``(input index, rule, index into those cotangents or None, ans, args, params)``, and
    per input whether the gradient of the other steps depends on ``x``'s trace.
    """
    traced = trace_call("hvp", fun, (x,), (0,), False)
    if traced.out_tree.kind != "leaf":
        scalar_seed("hvp", fun, traced.out)
    out = traced.out_leaves[0]
    seed = scalar_seed("hvp", fun, out)
    node = own_node(traced.trace, out)
    seeds = [(node, seed)] if node is not None else []
    del out, node
    x_leaves = tree_flatten(x)[0]
    outer = x_leaves[0].trace if x_leaves and type(x_leaves[0]) is Tracer else None
    skipped = _last_linear_steps(traced, outer)
    nodes = traced.trace.nodes
    if skipped:
        skipped_ids = {id(node) for node in skipped}
        order = [node for node in nodes if id(node) not in skipped_ids]
        nodes.clear()
    else:
        order = nodes
    traced.out = None
    traced.out_leaves = []
    cotangents = backward(seeds, traced.inputs + skipped, order, consume=True)
    count = len(traced.inputs)
    partial = argument_gradients(traced, cotangents[:count])[0]
    depends = [type(g) is Tracer and g.trace is outer for g in cotangents[:count]]
    position = {id(node): index for index, node in enumerate(traced.inputs)}
    carried: list = []
    steps: list = []
    for node, g in zip(skipped, cotangents[count:]):
        if g is None:
            continue
        g_index = None
        if type(g) is Tracer and g.trace is outer:
            g_index = len(carried)
            carried.append(g)
        ans = _strip_layer(node.value, outer)
        args = tuple(_strip_layer(arg, outer) for arg in node.args)
        for parent, argnum in zip(node.parents, node.argnums):
            steps.append(
                (position[id(parent)], node.primitive.vjps[argnum], g_index, ans, args, node.params)
            )
    return partial, carried, steps, depends


def _last_linear_steps(traced: Traced, outer: Any) -> list:
    """The nodes fed by the traced inputs alone whose reverse rules read only constants.

    Their contributions to the gradient are linear in their cotangents with constant
    coefficients (see :func:`adfun._engine.records.reads_only`), so their derivative is the rule
    applied to the derivative of the cotangent.
    """
    inputs = {id(node) for node in traced.inputs}
    found = []
    for node in traced.trace.nodes:
        parents = node.parents
        if not parents or node.primitive.nondiff:
            continue
        rules = node.primitive.vjps
        if type(rules) is not tuple or any(id(parent) not in inputs for parent in parents):
            continue
        argnums = node.argnums
        for argnum in argnums:
            reads = getattr(rules[argnum] if argnum < len(rules) else None, "reads", None)
            if reads is None or any(
                position in argnums
                or (type(node.args[position]) is Tracer and node.args[position].trace is outer)
                for position in reads
            ):
                break
        else:
            found.append(node)
    return found


def _strip_layer(value: Any, trace: Any) -> Any:
    """``value`` without ``trace``'s layer of tracing (outer layers are kept)."""
    return value.value if type(value) is Tracer and value.trace is trace else value
