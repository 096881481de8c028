"""Which output lengths a bounded layer family can reach: nearest sizes when a search finds none.

For fixed (kernel k, stride s, dilation d) the output is ``B − 2·p + op`` with
``B = (i − 1)·s + d·(k − 1) + 1``. Over a padding interval and an output_padding
interval of width >= 2 that is one contiguous run; with a single output_padding it is
a run with step 2. Explicit value sets split into such runs. Each run answers
"largest below t" and "smallest above t" in O(1): computed, not searched by trial.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from service.solver.enumeration import Bound, SearchBounds
from service.solver.memo import Memo


class _Run(NamedTuple):
    """The lengths ``first, first + step, ..., last``."""

    first: int
    last: int
    step: int


def _runs(input_size: int, k: int, s: int, d: int, bounds: SearchBounds) -> Iterator[_Run]:
    base = (input_size - 1) * s + d * (k - 1) + 1
    top_op = max(s, d) - 1
    if bounds.padding is None and bounds.output_padding is None:
        # The contract's default bounds, the common case, without building Bounds: padding
        # 0..d·(k−1) and output_padding 0..top_op make one run, of step 2 when top_op is 0.
        yield _Run(base - 2 * d * (k - 1), base + top_op, 1 if top_op else 2)
        return
    op = bounds.output_padding
    op_values = list(op.within(0, top_op)) if op is not None else list(range(top_op + 1))
    pad = bounds.padding if bounds.padding is not None else Bound(0, d * (k - 1))
    if not op_values:
        return
    op_contiguous = op_values[-1] - op_values[0] + 1 == len(op_values) and len(op_values) >= 2
    if pad.values is None and op_contiguous:
        # Padding steps the output by 2 and the output_padding run is >= 2 wide: no gaps.
        yield _Run(base - 2 * pad.hi + op_values[0], base - 2 * pad.lo + op_values[-1], 1)
    elif pad.values is None:
        for v in op_values:
            yield _Run(base - 2 * pad.hi + v, base - 2 * pad.lo + v, 2)
    elif op_contiguous:
        for p in pad.values:
            yield _Run(base - 2 * p + op_values[0], base - 2 * p + op_values[-1], 1)
    else:
        for p in pad.values:
            for v in op_values:
                yield _Run(base - 2 * p + v, base - 2 * p + v, 1)


class Reach(NamedTuple):
    """Is the target reachable, and the nearest reachable lengths (>= 1) around it."""

    exact: bool
    below: int | None
    above: int | None


def _fold(runs: Iterable[_Run], target: int) -> Reach:
    exact = False
    below: int | None = None
    above: int | None = None
    for first, last, step in runs:
        if first <= target <= last and (target - first) % step == 0:
            exact = True
        top = min(last, target - 1)  # the run's largest member below the target ...
        if top >= first:
            b = top - (top - first) % step
            if b >= 1 and (below is None or b > below):
                below = b
        low = max(first, target + 1)  # ... and its smallest above
        if low <= last:
            a = low + (-(low - first)) % step
            if a >= 1 and (above is None or a < above):
                above = a
    return Reach(exact, below, above)


def reach(input_size: int, target: int, *, k: int, s: int, d: int, bounds: SearchBounds) -> Reach:
    """Within one (k, s, d) and the padding/output_padding bounds.

    >>> reach(7, 15, k=4, s=2, d=1, bounds=SearchBounds(output_padding=Bound(0, 0)))
    Reach(exact=False, below=14, above=16)
    >>> reach(7, 15, k=4, s=2, d=1, bounds=SearchBounds())
    Reach(exact=True, below=14, above=16)
    """
    return _fold(_runs(input_size, k, s, d, bounds), target)


def reach_any(input_size: int, target: int, bounds: SearchBounds) -> Reach:
    """Over every (k, s, d) in the bounds: what an empty search of a square size needs.

    >>> reach_any(3, 150, SearchBounds())
    Reach(exact=False, below=31, above=None)
    """
    return _fold(_family(input_size, bounds), target)


_FAMILIES: Memo[tuple[_Run, ...]] = Memo(max_entries=1 << 12, max_item=64)


def _family(input_size: int, bounds: SearchBounds) -> tuple[_Run, ...]:
    """``_family_runs``, kept when few: they depend on the input size and the bounds, not on the
    target, so requests from one input size share them."""
    runs = _FAMILIES.get((input_size, bounds))
    if runs is None:
        runs = tuple(_family_runs(input_size, bounds))
        _FAMILIES.put((input_size, bounds), runs, len(runs))
    return runs


def _family_runs(input_size: int, bounds: SearchBounds) -> Iterator[_Run]:
    if bounds.padding is not None or bounds.output_padding is not None:
        for k, s, d in bounds.triples():
            yield from _runs(input_size, k, s, d, bounds)
        return
    # Default bounds: for fixed (s, d) a kernel's run is
    # [(i−1)·s + 1 − d·(k−1), (i−1)·s + 1 + d·(k−1) + max(s, d) − 1], so the runs nest as k grows and
    # the largest kernel's run holds the others'. Step-2 runs (s = d = 1) nest within one parity of
    # k, so the largest kernel of each parity is enough there.
    largest = {k % 2: k for k in sorted(bounds.kernel_size)}
    k_max = max(largest.values())
    for s in bounds.stride:
        for d in bounds.dilation:
            if max(s, d) > 1:
                yield from _runs(input_size, k_max, s, d, bounds)
            else:
                for k in largest.values():
                    yield from _runs(input_size, k, s, d, bounds)
