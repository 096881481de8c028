"""Schemathesis checks of this service, loaded by scripts/fuzz.py (SCHEMATHESIS_HOOKS).

``positive_data_acceptance`` counts every 422 to a schema-valid request as a finding. JSON Schema
cannot state this API's cross-field rules (arrays of one length across fields, a channel schedule
of layers + 1 entries, the budgets, latency needing a worker), so ``schema_valid_is_answered``
replaces it: a schema-valid request may be refused only by one of those rules, named by its
documented code; a refusal by a field rule (a pydantic error type) means the schema and the
validators disagree, and fails the run.
"""

from __future__ import annotations

import schemathesis
from schemathesis import Case, CheckContext, Response

# Codes of the rules that involve several fields, the server's budgets or its state.
CROSS_FIELD_RULES = frozenset(
    {
        "dimension_mismatch",
        "space_too_large",
        "batch_too_large",
        "objective_unavailable",
        "unsupported",
        "invalid_request",  # as a detail's rule (not its code): the channel schedule's length and groups
        "range_order",  # a range's min above its max
        "too_large_to_draw",  # /v1/overlap.svg's picture budget
        "invalid_layer",  # /v1/export of a layer torch refuses (output_padding against stride, ...)
        "not_portable",  # a plan whose layers cannot port to the asked target
    }
)


# Operations whose numbers travel as text (query strings): GET /v1/overlap.svg.
TEXT_ENCODED = frozenset({"/v1/overlap.svg"})


@schemathesis.check
def schema_valid_is_answered(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError) as exc:
        raise AssertionError(f"a 422 without the error body: {response.text[:200]}") from exc
    details = error.get("details") or []
    if case.operation.path in TEXT_ENCODED:
        # Numbers carried as text (`7`, `3,4`): the schema publishes a string, and the route words
        # a malformed or out-of-range one as /v1/shape would (tests/api/test_pictures.py).
        details = [d for d in details if d.get("rule") != "value_error"]
    field_rules = [d for d in details if d.get("rule") not in CROSS_FIELD_RULES]
    if field_rules:
        raise AssertionError(
            f"the schema admits this request but a field rule refused it: {field_rules[0]['message']}"
        )
    return None
