"""The solver's memo keeps small results only, and a bounded number of them."""

from __future__ import annotations

from service.solver.memo import Memo


def test_keeps_small_results_and_drops_the_oldest() -> None:
    memo: Memo[str] = Memo(max_entries=2, max_item=3)
    assert memo.put("big", "x" * 4, 4) == "x" * 4
    assert memo.get("big") is None
    memo.put("a", "a", 1)
    memo.put("b", "b", 1)
    memo.put("c", "c", 1)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (None, "b", "c")
