"""Every generated search answers exactly as recorded (tests/api/search_regression.py): the same
candidates, order, totals, scores, terms, nearest sizes and reasons, in both views. Re-record only
for an intended change of answers."""

from __future__ import annotations

import json

from tests.api.search_regression import COUNT, FIXTURE, SEED, digests, generate


def test_search_answers_match_the_recording() -> None:
    recorded = json.loads(FIXTURE.read_text())
    assert (recorded["seed"], recorded["count"]) == (SEED, COUNT)
    requests = generate()
    now = digests(requests)
    for view in ("full", "basic"):
        changed = [n for n, (a, b) in enumerate(zip(recorded[view], now[view], strict=True)) if a != b]
        assert not changed, f"{view}: {len(changed)} answers changed, first {requests[changed[0]]}"
