"""Admission by answer size: refuse up front what would take too long to build or to send.

A search candidate (layer, derivation, cost, overlap) encodes to about 1 KB in 1-D to 3-D and
takes about 50 µs to build, so the candidates a request asks for bound both its answer and
most of its time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.solver.errors import SolverError

CANDIDATE_BYTES = 1100
DEFAULT_LIMIT = 10  # SearchRequest's default page size


def search_batch_candidates(queries: Sequence[Any]) -> int:
    """The most candidates a search batch can return: each item's ``limit`` (malformed ones count
    their default; they are refused later, item by item).

    >>> search_batch_candidates([{"limit": 100}, {}, {"limit": "x"}])
    120
    """
    total = 0
    for query in queries:
        limit = query.get("limit", DEFAULT_LIMIT) if isinstance(query, dict) else DEFAULT_LIMIT
        total += limit if type(limit) is int and limit > 0 else DEFAULT_LIMIT
    return total


def check_search_batch(queries: Sequence[Any], max_answer_bytes: int) -> None:
    candidates = search_batch_candidates(queries)
    if candidates * CANDIDATE_BYTES > max_answer_bytes:
        raise SolverError(
            "batch_too_large",
            f"the batch asks for up to {candidates:,} candidates, about {candidates * CANDIDATE_BYTES:,} "
            f"bytes; the answer budget is {max_answer_bytes:,} bytes (TCONV_MAX_ANSWER_BYTES): lower "
            "`limit` or split the batch",
            field="queries",
        )
