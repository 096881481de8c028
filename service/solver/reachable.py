"""Which output lengths a bounded layer family can reach: nearest sizes when a search finds none.

For fixed (kernel k, stride s, dilation d) the output is ``B − 2·p + op`` with
``B = (i − 1)·s + d·(k − 1) + 1``. Over a padding interval and an output_padding
interval of width >= 2 that is one contiguous run; with a single output_padding it is
a run with step 2. Explicit value sets split into such runs. Each run answers
"largest below t" and "smallest above t" in O(1): computed, not searched by trial.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from service.solver.enumeration import Bound, SearchBounds


@dataclass(frozen=True, slots=True)
class _Run:
    """The lengths ``first, first + step, ..., last``."""

    first: int
    last: int
    step: int

    def below(self, target: int) -> int | None:
        top = min(self.last, target - 1)
        if top < self.first:
            return None
        return top - (top - self.first) % self.step

    def above(self, target: int) -> int | None:
        low = max(self.first, target + 1)
        if low > self.last:
            return None
        return low + (-(low - self.first)) % self.step

    def __contains__(self, target: object) -> bool:
        return (
            isinstance(target, int)
            and self.first <= target <= self.last
            and (target - self.first) % self.step == 0
        )


def _runs(input_size: int, k: int, s: int, d: int, bounds: SearchBounds) -> Iterator[_Run]:
    base = (input_size - 1) * s + d * (k - 1) + 1
    op_legal = Bound(0, max(s, d) - 1)
    op = bounds.output_padding
    op_values = list(op.within(0, op_legal.hi)) if op is not None else list(op_legal)
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
    """Within one (k, s, d): is the target reachable, and the nearest reachable lengths around it."""

    exact: bool
    below: int | None
    above: int | None


def reach(input_size: int, target: int, *, k: int, s: int, d: int, bounds: SearchBounds) -> Reach:
    """Nearest output lengths >= 1 that (k, s, d) reaches within the bounds.

    >>> reach(7, 15, k=4, s=2, d=1, bounds=SearchBounds(output_padding=Bound(0, 0)))
    Reach(exact=False, below=14, above=16)
    >>> reach(7, 15, k=4, s=2, d=1, bounds=SearchBounds())
    Reach(exact=True, below=14, above=16)
    """
    if bounds.padding is None and bounds.output_padding is None:
        # The contract's default bounds (every empty search with them lands here, for every
        # triple): one run, from padding d·(k−1) and output_padding 0 up to padding 0 and the
        # largest legal output_padding; step 2 when that is 0 too (only padding moves it).
        # _Run's arithmetic, inlined.
        base = (input_size - 1) * s + d * (k - 1) + 1
        top_op = max(s, d) - 1
        first, last, step = base - 2 * d * (k - 1), base + top_op, 1 if top_op else 2
        top = min(last, target - 1)
        low = max(first, target + 1)
        nearest_below = top - (top - first) % step if top >= first else None
        nearest_above = low + (-(low - first)) % step if low <= last else None
        return Reach(
            first <= target <= last and (target - first) % step == 0,
            nearest_below if nearest_below is not None and nearest_below >= 1 else None,
            nearest_above if nearest_above is not None and nearest_above >= 1 else None,
        )
    exact = False
    below: int | None = None
    above: int | None = None
    for run in _runs(input_size, k, s, d, bounds):
        exact = exact or target in run
        b = run.below(target)
        if b is not None and b >= 1 and (below is None or b > below):
            below = b
        a = run.above(target)
        if a is not None and a >= 1 and (above is None or a < above):
            above = a
    return Reach(exact, below, above)
