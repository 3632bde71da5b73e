"""``einsum``: one primitive, with subscripts normalized to explicit form.

Ellipses are expanded to letters and the output is made explicit before the primitive
is bound, so the rules see plain letter subscripts like ``"iij,jk->ik"``.  The product is
linear in each operand: the forward rule replaces one operand by its tangent; the
reverse rule contracts the cotangent with the other operands onto the operand's
distinct letters, broadcasts letters summed only inside that operand, and puts repeated
letters (diagonals) back with identity matrices.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from adfun._engine.records import Params, Variadic
from adfun._engine.trace import any_traced, bind, full_value
from adfun.numpy._axes import dtype_of, shape_of
from adfun.numpy._batching import einsum_rule
from adfun.numpy._declare import Domain, complexified, export, primitive
from adfun.numpy._reductions import sum  # noqa: A004
from adfun.numpy._shape import broadcast_to, reshape

_LETTERS = string.ascii_letters


def _sublist_to_letters(sublist: Any) -> str:
    parts = []
    for item in sublist:
        parts.append("..." if item is Ellipsis else _LETTERS[int(item)])
    return "".join(parts)


def _parse(args: tuple) -> tuple:
    """``(subscripts, operands)`` from either calling convention of :func:`numpy.einsum`."""
    if isinstance(args[0], str):
        return args[0].replace(" ", ""), list(args[1:])
    operands, inputs = [], []
    items = list(args)
    while len(items) >= 2:
        operands.append(items.pop(0))
        inputs.append(_sublist_to_letters(items.pop(0)))
    subscripts = ",".join(inputs)
    if items:
        subscripts += "->" + _sublist_to_letters(items[0])
    return subscripts, operands


def normalize_subscripts(subscripts: str, shapes: list) -> str:
    """Explicit subscripts with every ellipsis replaced by letters."""
    if "->" in subscripts:
        inputs_text, output = subscripts.split("->")
        explicit = True
    else:
        inputs_text, output, explicit = subscripts, "", False
    inputs = inputs_text.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(
            f"adfun.numpy.einsum: {len(inputs)} operand subscripts for {len(shapes)} operands"
        )
    used = set(subscripts) - set(".,->")
    spare = [letter for letter in _LETTERS if letter not in used]
    ellipsis_ndim = 0
    for text, shape in zip(inputs, shapes):
        if "..." in text:
            ellipsis_ndim = max(ellipsis_ndim, len(shape) - (len(text) - 3))
    ellipsis = "".join(spare[:ellipsis_ndim])
    expanded = []
    for text, shape in zip(inputs, shapes):
        if "..." in text:
            count = len(shape) - (len(text) - 3)
            text = text.replace("...", ellipsis[ellipsis_ndim - count :] if count else "")
        expanded.append(text)
    if explicit:
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(expanded)
        output = ellipsis + "".join(
            sorted(
                letter
                for letter in set(letters)
                if letters.count(letter) == 1 and letter not in ellipsis
            )
        )
    return ",".join(expanded) + "->" + output


def _split(subscripts: str) -> tuple:
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _einsum_impl(*operands: Any, subscripts: str = "") -> Any:
    return np.einsum(subscripts, *operands)


def _einsum_vjp(argnum: int, g: Any, ans: Any, *operands: Any, subscripts: str = "") -> Any:
    inputs, output = _split(subscripts)
    mine = inputs[argnum]
    shape = shape_of(operands[argnum])
    sizes = dict(zip(mine, shape))
    distinct = "".join(dict.fromkeys(mine))
    others = [text for index, text in enumerate(inputs) if index != argnum]
    reachable = set(output).union(*others) if others else set(output)
    present = "".join(letter for letter in distinct if letter in reachable)
    operands_rest = [operand for index, operand in enumerate(operands) if index != argnum]
    contracted = einsum(",".join([output] + others) + "->" + present, g, *operands_rest)
    # Letters summed only inside this operand: the cotangent is constant along them.
    if present != distinct:
        contracted_shape = dict(zip(present, shape_of(contracted)))
        expanded = tuple(contracted_shape.get(letter, 1) for letter in distinct)
        contracted = reshape(
            contracted,
            tuple(contracted_shape[letter] if letter in present else 1 for letter in distinct),
        )
        target = tuple(
            max(side, sizes[letter]) if letter not in present else side
            for side, letter in zip(expanded, distinct)
        )
        contracted = broadcast_to(contracted, target)
    # Letters repeated inside this operand (a diagonal): identity matrices put them back.
    if len(distinct) != len(mine):
        fresh = iter(letter for letter in _LETTERS if letter not in subscripts)
        seen: set = set()
        renamed, eyes, eye_subscripts = [], [], []
        for letter in mine:
            if letter in seen:
                new = next(fresh)
                renamed.append(new)
                eyes.append(np.eye(sizes[letter], dtype=dtype_of(g)))
                eye_subscripts.append(letter + new)
            else:
                seen.add(letter)
                renamed.append(letter)
        contracted = einsum(
            ",".join([distinct] + eye_subscripts) + "->" + "".join(renamed), contracted, *eyes
        )
    # Letters of size 1 here but broadcast against larger ones elsewhere.
    result_shape = shape_of(contracted)
    axes = tuple(
        index
        for index, (side, mine_side) in enumerate(zip(result_shape, shape))
        if mine_side == 1 and side != 1
    )
    if axes:
        contracted = sum(contracted, axis=axes, keepdims=True)
    return contracted


def _einsum_jvp(argnum: int, t: Any, ans: Any, *operands: Any, subscripts: str = "") -> Any:
    replaced = list(operands)
    replaced[argnum] = t
    return einsum(subscripts, *replaced)


def _einsum_examples(draw: Any, st: Any, hnp: Any) -> tuple:
    from adfun.numpy._examples import array

    i, j, k = (draw(st.integers(1, 3)) for _ in range(3))
    cases = {
        "ij,jk->ik": [(i, j), (j, k)],
        "ii->i": [(i, i)],
        "ii->": [(i, i)],
        "ij->": [(i, j)],
        "iij,jk->ik": [(i, i, j), (j, k)],
        "ij,j->ij": [(i, j), (j,)],
        "i,i,i->": [(i,), (i,), (i,)],
        "abi,aic->abc": [(1, j, i), (2, i, k)],
        "ijk->kji": [(i, j, k)],
        "i,j->": [(i,), (j,)],
    }
    subscripts = draw(st.sampled_from(sorted(cases)))
    operands = tuple(array(draw, st, hnp, (-2.0, 2.0), shape=shape) for shape in cases[subscripts])
    return operands, {"subscripts": subscripts}


_EINSUM = primitive(
    "einsum",
    _einsum_impl,
    Variadic(_einsum_vjp),
    Variadic(_einsum_jvp),
    domain=Domain(examples=_einsum_examples),
    complex_domain=complexified(_einsum_examples),
    batch=einsum_rule,
)


@export(np.einsum, primitive=_EINSUM, signature="einsum(subscripts, *operands)")
def einsum(*operands: Any, out: Any = None, optimize: Any = False, **kwargs: Any) -> Any:
    """Differentiable :func:`numpy.einsum`: ellipses, repeated subscripts (diagonals),
    implicit output and the sublist calling convention included.

    Derivative: linear in each operand; the reverse rule contracts the cotangent with
    the other operands (see the module docstring).

    Examples
    --------
    >>> import adfun as ad, adfun.numpy as anp, numpy as np
    >>> ad.grad(lambda a: anp.einsum("ii", a))(np.ones((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """
    subscripts, arrays = _parse(operands)
    if not any_traced(arrays):
        return np.einsum(*operands, out=out, optimize=optimize, **kwargs)
    if out is not None or kwargs:
        raise TypeError(
            f"adfun.numpy.einsum: out= and {sorted(kwargs)} are not supported on traced values"
        )
    normalized = normalize_subscripts(subscripts, [shape_of(array) for array in arrays])
    return bind(_EINSUM, tuple(arrays), Params(subscripts=normalized))


del full_value
