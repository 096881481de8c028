"""Which output lengths a bounded layer family can reach: nearest sizes when a search finds none.

For fixed (kernel k, stride s, dilation d) the output is ``B − 2·p + op`` with
``B = (i − 1)·s + d·(k − 1) + 1``. Over a padding interval and an output_padding
interval of width >= 2 that is one contiguous run; with a single output_padding it is
a run with step 2. Explicit value sets split into such runs. Each run answers
"largest below t" and "smallest above t" in O(1): computed, not searched by trial.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from service.solver.cancel import checkpoint
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


_NONE_ABOVE = np.iinfo(np.int64).max


def _fold(runs: np.ndarray, owner: np.ndarray, targets: np.ndarray) -> list[Reach]:
    """Per target, over the runs it owns (``runs[r]`` is ``(first, last, step)`` of target
    ``owner[r]``): reachable, the largest member below it, the smallest above it.

    One pass of array operations however many targets: each run answers for its target in O(1),
    and the targets' answers are the maxima and minima over their runs.
    """
    count = len(targets)
    first, last, step = runs[:, 0], runs[:, 1], runs[:, 2]
    target = targets[owner]
    hits = (first <= target) & (target <= last) & ((target - first) % step == 0)
    top = np.minimum(last, target - 1)  # each run's largest member below its target ...
    below = top - (top - first) % step
    has_below = (top >= first) & (below >= 1)
    low = np.maximum(first, target + 1)  # ... and its smallest above
    above = low + (-(low - first)) % step
    has_above = (low <= last) & (above >= 1)
    exact = np.bincount(owner[hits], minlength=count) > 0
    best_below = np.zeros(count, dtype=np.int64)
    np.maximum.at(best_below, owner[has_below], below[has_below])
    best_above = np.full(count, _NONE_ABOVE, dtype=np.int64)
    np.minimum.at(best_above, owner[has_above], above[has_above])
    return [
        Reach(e, b or None, None if a == _NONE_ABOVE else a)
        for e, b, a in zip(exact.tolist(), best_below.tolist(), best_above.tolist(), strict=True)
    ]


def _as_array(runs: Iterable[_Run]) -> np.ndarray:
    return np.array(list(runs), dtype=np.int64).reshape(-1, 3)


def reach(input_size: int, target: int, *, k: int, s: int, d: int, bounds: SearchBounds) -> Reach:
    """Within one (k, s, d) and the padding/output_padding bounds (``reach_each`` of one).

    >>> reach(7, 15, k=4, s=2, d=1, bounds=SearchBounds(output_padding=Bound(0, 0)))
    Reach(exact=False, below=14, above=16)
    >>> reach(7, 15, k=4, s=2, d=1, bounds=SearchBounds())
    Reach(exact=True, below=14, above=16)
    """
    return reach_each([(input_size, target, k, s, d)], bounds)[0]


def reach_each(cases: Sequence[tuple[int, int, int, int, int]], bounds: SearchBounds) -> list[Reach]:
    """``reach`` for every ``(input_size, target, k, s, d)`` at once."""
    runs: list[_Run] = []
    owner: list[int] = []
    for n, (input_size, _, k, s, d) in enumerate(cases):
        if n % 1024 == 0:
            checkpoint()
        before = len(runs)
        runs.extend(_runs(input_size, k, s, d, bounds))
        owner.extend([n] * (len(runs) - before))
    targets = np.array([case[1] for case in cases], dtype=np.int64)
    return _fold(_as_array(runs), np.array(owner, dtype=np.intp), targets)


def reach_any(input_size: int, target: int, bounds: SearchBounds) -> Reach:
    """Over every (k, s, d) in the bounds: what an empty search of a square size needs
    (``reach_any_each`` of one).

    >>> reach_any(3, 150, SearchBounds())
    Reach(exact=False, below=31, above=None)
    """
    return reach_any_each([(input_size, target)], bounds)[0]


def reach_any_each(cases: Sequence[tuple[int, int]], bounds: SearchBounds) -> list[Reach]:
    """``reach_any`` for every ``(input_size, target)`` at once: a batch's empty square searches."""
    families = [_family(input_size, bounds) for input_size, _ in cases]
    sizes = [len(family) for family in families]
    runs = np.concatenate(families) if families else _as_array(())
    owner = np.repeat(np.arange(len(cases)), sizes)
    return _fold(runs, owner, np.array([target for _, target in cases], dtype=np.int64))


_FAMILIES: Memo[np.ndarray] = Memo(max_entries=1 << 12, max_item=64)


def _family(input_size: int, bounds: SearchBounds) -> np.ndarray:
    """``_family_runs`` as rows, kept when few: they depend on the input size and the bounds, not
    on the target, so requests from one input size share them."""
    runs = _FAMILIES.get((input_size, bounds))
    if runs is None:
        runs = _as_array(_family_runs(input_size, bounds))
        _FAMILIES.put((input_size, bounds), runs, len(runs))
    return runs


def _family_runs(input_size: int, bounds: SearchBounds) -> Iterator[_Run]:
    if bounds.padding is not None or bounds.output_padding is not None:
        for n, (k, s, d) in enumerate(bounds.triples()):
            if n % 1024 == 0:
                checkpoint()
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
