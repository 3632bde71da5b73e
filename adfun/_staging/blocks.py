"""Elementwise regions run block by block: NumPy's own ufuncs, temporaries kept in cache.

A region of elementwise steps on large float64 arrays that neither numexpr (arithmetic
only) nor a compiled loop (:mod:`adfun._staging.loops`, which needs numba) takes - for
instance ``exp``, ``tanh`` or ``sin`` next to arithmetic when numba is not installed - is
run as the same NumPy ufunc calls, one block of elements at a time: each step writes into
a small scratch buffer that stays in the processor's cache for the next step, and only
the region's stored values (those read outside it) are full-size arrays.  A plain program
writes every temporary to main memory and reads it back, and the operating system hands
each fresh array out as zeroed pages; here neither happens.

Each block is computed by the very ufuncs of the plain program, so the results are
NumPy's; that a ufunc's result does not depend on where a block starts or ends (NumPy's
SIMD loops treat every element alike) is checked once per ufunc and process on a fixed
sample cut into unaligned blocks (:func:`blockwise_exact`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adfun._staging import fusion
from adfun._staging.fusion import KERNEL_TEMPLATES, kernel_operand, sample_points
from adfun._staging.loops import elementwise_regions, fuse_setting, stored_values

#: Elements per block: the scratch buffers of a region share about 1 MiB of cache.
BLOCK_BYTES = 1 << 20
MIN_BLOCK = 2048
MAX_BLOCK = 16384

#: Shorter regions stay NumPy calls (one step gains nothing from blocks; two already
#: gain: ``exp(-x)`` in blocks skips the full-size array of ``-x``).
MIN_OPERATIONS = 2

_FLOAT64 = np.dtype(np.float64)
_EXACT: dict[Any, bool] = {}


def blockwise_exact(ufunc: Any) -> bool:
    """Whether ``ufunc``'s float64 results on blocks are its results on the whole array.

    Checked once per ufunc on the fixed sample of
    :func:`~adfun._staging.fusion.sample_points`, cut into blocks of 1,000 and 37
    elements starting at every offset parity (so that blocks are unaligned).
    """
    found = _EXACT.get(ufunc)
    if found is None:
        sample = sample_points()
        with np.errstate(all="ignore"):
            arguments = [sample] * ufunc.nin
            whole = ufunc(*arguments)
            found = True
            for size in (1000, 37):
                parts = np.empty_like(whole)
                for start in range(0, sample.size, size):
                    stop = start + size
                    ufunc(*[a[start:stop] for a in arguments], out=parts[start:stop])
                if not np.array_equal(whole.view(np.int64), parts.view(np.int64)):
                    found = False
        _EXACT[ufunc] = found
    return found


def blockable(node: Any) -> bool:
    """Whether ``node`` is a large elementwise float64 ufunc step a block may compute."""
    impl = node.primitive.impl
    if node.params or type(impl) is not np.ufunc or impl.nout != 1:
        return False
    value = node.value
    if type(value) is not np.ndarray or value.dtype != _FLOAT64:
        return False
    if value.size < fusion.FUSE_MIN_SIZE or len(node.args) != impl.nin:
        return False
    if not all(kernel_operand(arg, value.shape) for arg in node.args):
        return False
    return impl in KERNEL_TEMPLATES or blockwise_exact(impl)


class Blocks:
    """A region of ufunc steps run block by block (see the module's text).

    Called with the values of its operands (arrays of the region's shape, or 0-d
    values, passed to the ufuncs as recorded), it returns a tuple of fresh arrays, the
    region's stored values in the order of ``outputs``; with ``out`` (C-contiguous and
    none of the operands) the last one is written there.
    """

    __slots__ = ("members", "outputs", "operands", "scalar", "shape", "program", "scratch")

    def __init__(
        self,
        members: list,
        outputs: list,
        operands: list,
        scalar: list,
        shape: tuple,
        program: tuple,
        scratch: int,
    ) -> None:
        self.members = members
        self.outputs = outputs
        self.operands = operands  # ("v", position) or ("k", constant)
        self.scalar = scalar  # per operand: a 0-d value, passed whole to every block
        self.shape = shape
        # Per step: (ufunc, sources, target); a source or target is ("o", operand
        # number), ("s", scratch number) or ("r", output number).
        self.program = program
        self.scratch = scratch

    @property
    def expression(self) -> str:
        """A one-line summary for the generated code's comments."""
        names = ", ".join(step[0].__name__ for step in self.program)
        return f"blocks of {names}; {len(self.outputs)} stored"

    def __call__(self, *values: Any, out: Any = None) -> tuple:
        if not all(
            scalar or value.flags.c_contiguous or value.flags.f_contiguous
            for value, scalar in zip(values, self.scalar)
        ):
            return self._whole(values)
        shape = self.shape
        results = [np.empty(shape) for _ in self.outputs[:-1]]
        if out is None or not out.flags.c_contiguous:
            out = np.empty(shape)
        results.append(out)
        flat_results = [result.reshape(-1) for result in results]
        flat = [value if scalar else value.ravel() for value, scalar in zip(values, self.scalar)]
        size = out.size
        block = min(MAX_BLOCK, max(MIN_BLOCK, BLOCK_BYTES // (8 * max(self.scratch, 1))))
        scratch = [np.empty(block) for _ in range(self.scratch)]
        program = self.program
        scalar = self.scalar
        for start in range(0, size, block):
            stop = min(start + block, size)
            pieces = {
                "o": [v if s else v[start:stop] for v, s in zip(flat, scalar)],
                "s": scratch if stop - start == block else [b[: stop - start] for b in scratch],
                "r": [result[start:stop] for result in flat_results],
            }
            for ufunc, sources, (kind, number) in program:
                ufunc(*[pieces[k][n] for k, n in sources], out=pieces[kind][number])
        return tuple(results)

    def _whole(self, values: tuple) -> tuple:
        """The region as the plain program runs it: one ufunc call per step on whole
        arrays.  Used where an operand is strided (a slice, a reversal, a broadcast):
        NumPy may compute a strided operand with another inner loop than a contiguous
        copy of it (``exp`` of a reversed array differs in the last bit on some
        processors), so blocks of a contiguous copy would not give the plain results."""
        places: dict[str, dict[int, Any]] = {"o": dict(enumerate(values)), "s": {}, "r": {}}
        for ufunc, sources, (kind, number) in self.program:
            places[kind][number] = ufunc(*[places[k][n] for k, n in sources])
        return tuple(places["r"][number] for number in range(len(self.outputs)))


def find_blocks(nodes: list, index: dict, keep: set, exclude: Any) -> tuple[dict, set]:
    """Regions of large elementwise ufunc steps to run block by block.

    Only regions of :data:`MIN_OPERATIONS` or more steps with one that numexpr cannot compute (a
    transcendental function) are taken: numexpr fuses arithmetic alone.  Positions in
    ``exclude`` (computed by compiled loops) are left alone.  Returns the position of
    each region's last step to its :class:`Blocks`, and every position they compute.
    """
    if fuse_setting() == "off":
        return {}, set()
    regions, readers = elementwise_regions(
        nodes, index, lambda node: index[id(node)] not in exclude and blockable(node)
    )
    found: dict[int, Blocks] = {}
    computed: set[int] = set()
    for region in regions:
        if len(region) < MIN_OPERATIONS:
            continue
        if all(nodes[position].primitive.impl in KERNEL_TEMPLATES for position in region):
            if fusion.numexpr_module() is not None:
                continue
        found[region[-1]] = _blocks(nodes, index, region, stored_values(region, keep, readers))
        computed.update(region)
    return found, computed


def _blocks(nodes: list, index: dict, region: list, stored: list) -> Blocks:
    inside = set(region)
    operands: list = []
    scalar: list = []
    where: dict[int, tuple] = {}
    results = {position: number for number, position in enumerate(stored)}
    # Scratch buffers: one per value computed but not stored, reused once it is dead.
    last_read: dict[int, int] = {}
    for position in region:
        for parent in nodes[position].parents:
            last_read[index[id(parent)]] = position
    free: list[int] = []
    scratch = 0
    program = []
    for position in region:
        node = nodes[position]
        parent_of = dict(zip(node.argnums, node.parents))
        sources = []
        for argnum, arg in enumerate(node.args):
            parent = parent_of.get(argnum)
            if parent is not None and index[id(parent)] in inside:
                sources.append(where[index[id(parent)]])
                continue
            key: tuple = ("v", index[id(parent)]) if parent is not None else ("k", arg)
            seen = [n for n, known in enumerate(operands) if key[0] == "v" and known == key]
            if seen:
                number = seen[0]
            else:
                number = len(operands)
                operands.append(key)
                value = parent.value if parent is not None else arg
                scalar.append(np.ndim(value) == 0)
            sources.append(("o", number))
        # Scratch of values whose last reader is this step may take its result.
        for parent in set(node.parents):
            parent_position = index[id(parent)]
            if (
                parent_position in inside
                and last_read.get(parent_position) == position
                and where[parent_position][0] == "s"
            ):
                free.append(where[parent_position][1])
        if position in results:
            target: tuple = ("r", results[position])
        elif free:
            target = ("s", free.pop())
        else:
            target = ("s", scratch)
            scratch += 1
        where[position] = target
        program.append((node.primitive.impl, tuple(sources), target))
    shape = nodes[region[-1]].value.shape
    return Blocks(list(region), stored, operands, scalar, shape, tuple(program), scratch)
