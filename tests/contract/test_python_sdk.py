"""The Python SDK's models and method parameters agree with the service's /openapi.json.

One source of truth: the service's schema. ``contract_problems`` lists every disagreement; the
last two tests show it failing when a field is renamed on either side.
"""

from __future__ import annotations

import copy
import inspect
import typing
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, create_model
from tconv_client import AsyncClient, Client, types
from tconv_client.types import BASIC_OF, SCHEMA_NAMES

from service.api.config import Settings
from service.api.main import create_app

# Each SDK method and the request schema its keyword parameters must come from.
METHODS = {
    "shape": "ShapeRequest",
    "search": "SearchRequest",
    "plan": "PlanRequest",
    "verify": "VerifyRequest",
    "invert": "InvertRequest",
}
# Each request TypedDict and the schema whose properties are its keys.
REQUESTS: dict[Any, str] = {
    types.ShapeQuery: "ShapeRequest",
    types.SearchQuery: "SearchRequest",
    types.LayerSpec: "LayerIn",
    types.ConvSpec: "ConvIn",
}
# The query TypedDicts are also batch items, and a batch sets `view` once, at its top level: the
# methods take `view` as their own argument instead.
NOT_IN_QUERIES = {"view"}
# The basic view of each answer, as the contract (api-v1.md, "Views") lists it.
BASIC_FIELDS = {
    types.ShapeBasic: {"valid", "output_size", "error"},
    types.ErrorCode: {"code", "dim"},
    types.CandidateBasic: {"rank", "layer", "output_size", "score"},
    types.SearchBasic: {"total", "candidates", "reason", "nearest"},
    types.PlanBasic: {"rank", "layers", "sizes", "score"},
    types.InvertBasic: {"sizes", "decoder", "is_exact", "exact_input_sizes"},
}


def parameters(method: Callable[..., Any]) -> set[str]:
    """A method's keyword parameters, with the keys of its ``**params: Unpack[TypedDict]``."""
    names = set()
    hints = typing.get_type_hints(method)
    for p in inspect.signature(method).parameters.values():
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
            names.add(p.name)
        elif p.kind is p.VAR_KEYWORD:
            (typed_dict,) = typing.get_args(hints[p.name])
            names |= set(typed_dict.__annotations__)
    return names


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return create_app(Settings(verify_mode="off")).openapi()


def contract_problems(
    models: dict[type[BaseModel], str], clients: list[type], schema: dict[str, Any]
) -> list[str]:
    components = schema["components"]["schemas"]
    problems = []
    for model, name in models.items():
        if name not in components:
            problems.append(f"{model.__name__}: no component {name} in the schema")
            continue
        theirs = set(components[name].get("properties", {}))
        ours = set(model.model_fields)
        problems += [f"{model.__name__}.{f}: not in {name}" for f in sorted(ours - theirs)]
        problems += [f"{model.__name__}: misses {name}.{f}" for f in sorted(theirs - ours)]
    for client in clients:
        for method, request in METHODS.items():
            properties = set(components[request]["properties"])
            ours = parameters(getattr(client, method))
            extra = ours - properties
            problems += [f"{client.__name__}.{method}({p}=): not in {request}" for p in sorted(extra)]
            problems += [
                f"{client.__name__}.{method}: misses {request}.{p}" for p in sorted(properties - ours)
            ]
    for typed_dict, name in REQUESTS.items():
        properties = set(components[name]["properties"]) - NOT_IN_QUERIES
        ours = set(typed_dict.__annotations__)
        problems += [f"{typed_dict.__name__}[{f!r}]: not in {name}" for f in sorted(ours - properties)]
        problems += [f"{typed_dict.__name__}: misses {name}.{f}" for f in sorted(properties - ours)]
    return problems


def test_sdk_agrees_with_the_service_schema(schema: dict[str, Any]) -> None:
    assert contract_problems(SCHEMA_NAMES, [Client, AsyncClient], schema) == []


def test_basic_models_are_the_contracts_projections() -> None:
    for basic, full in BASIC_OF.items():
        assert issubclass(full, basic), (basic, full)
        assert set(basic.model_fields) <= set(full.model_fields), basic
    for basic, fields in BASIC_FIELDS.items():
        assert set(basic.model_fields) == fields, basic


def test_a_field_renamed_in_the_service_is_caught(schema: dict[str, Any]) -> None:
    renamed = copy.deepcopy(schema)
    properties = renamed["components"]["schemas"]["CandidateOut"]["properties"]
    properties["ranking"] = properties.pop("rank")
    problems = contract_problems(SCHEMA_NAMES, [Client], renamed)
    assert "Candidate.rank: not in CandidateOut" in problems
    assert "Candidate: misses CandidateOut.ranking" in problems
    request = renamed["components"]["schemas"]["SearchRequest"]["properties"]
    request["max_results"] = request.pop("limit")
    problems = contract_problems(SCHEMA_NAMES, [Client], renamed)
    assert "Client.search(limit=): not in SearchRequest" in problems
    assert "Client.search: misses SearchRequest.max_results" in problems
    assert "SearchQuery['limit']: not in SearchRequest" in problems


def test_a_field_renamed_in_the_sdk_is_caught(schema: dict[str, Any]) -> None:
    from tconv_client.types import Cost

    fields: dict[str, Any] = {"parameters": (int, ...), "multiply_accumulates": (int, ...)}
    renamed = create_model("Cost", **fields)
    models = {**SCHEMA_NAMES, renamed: "CostOut"}
    del models[Cost]
    problems = contract_problems(models, [], schema)
    assert "Cost.multiply_accumulates: not in CostOut" in problems
    assert "Cost: misses CostOut.macs" in problems


def test_the_committed_openapi_json_is_current() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "scripts/export_openapi.py", "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
