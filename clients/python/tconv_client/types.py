"""Response models. Unknown fields are kept (a newer server never breaks an older client).

Each model mirrors one component of the service's ``/openapi.json`` (``SCHEMA_NAMES``); the
contract test in the service's repository fails when a field differs on either side.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Dims = list[int]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Layer(_Model):
    """A ConvTranspose layer; every field one entry per spatial dimension."""

    kernel_size: Dims
    stride: Dims
    padding: Dims
    output_padding: Dims
    dilation: Dims

    def to_torch(self, in_channels: int = 1, out_channels: int = 1, **kwargs: Any) -> Any:
        """Build the ``torch.nn.ConvTranspose{1,2,3}d`` (needs ``pip install 'tconv-client[torch]'``)."""
        try:
            from torch import nn
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("Layer.to_torch() needs torch: pip install 'tconv-client[torch]'") from exc
        module = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[len(self.kernel_size)]
        return module(in_channels, out_channels, **self.model_dump(include=set(Layer.model_fields)), **kwargs)


class Cost(_Model):
    parameters: int
    macs: int


class DimOverlap(_Model):
    min_count: int
    max_count: int
    holes: int
    interior: list[int]
    interior_counts: list[int]
    checkerboard: bool


class Overlap(_Model):
    """The all-ones experiment: how many (input pixel, tap) pairs reach each output pixel."""

    min_count: int
    max_count: int
    holes: int
    uniform_interior: bool | None
    checkerboard: bool
    dims: list[DimOverlap]


class Verification(_Model):
    status: Literal["confirmed", "failed", "unavailable"]
    output_size: Dims | None = None
    expected_output_size: Dims | None = None
    error: str | None = None
    device: str | None = None
    latency_ms: float | None = None
    backward_ms: float | None = None
    max_abs_error: float | None = None
    peak_memory_bytes: int | None = None
    accepted_by: list[str] = []
    refused_by: list[str] = []
    cached: bool = False


class Candidate(_Model):
    rank: int
    layer: Layer
    output_size: Dims
    score: int
    score_terms: dict[str, int]
    derivation: list[str]
    snippet: str
    cost: Cost
    overlap: Overlap
    verification: Verification | None = None


class NearestSize(_Model):
    direction: Literal["below", "above"]
    output_size: Dims
    example: Candidate


class SearchResult(_Model):
    total: int
    candidates: list[Candidate]
    objective: str
    tie_dims: bool
    module: str
    input_size: Dims
    output_size: Dims
    offset: int
    limit: int
    reason: str | None = None
    nearest: list[NearestSize] = []

    @property
    def best(self) -> Candidate | None:
        """The first candidate of this page (rank 1 on the first page), or None when nothing fits."""
        return self.candidates[0] if self.candidates else None


class ErrorInfo(_Model):
    code: str
    message: str
    dim: int | None = None


class Dimension(_Model):
    input_size: int
    output_size: int
    derivation: str


class ShapeResult(_Model):
    valid: bool
    output_size: Dims | None
    error: ErrorInfo | None
    errors: list[ErrorInfo]
    module: str
    layer: Layer
    dimensions: list[Dimension]
    cost: Cost | None
    overlap: Overlap | None


class ExactSizes(_Model):
    below: list[int | None]
    above: list[int | None]


class InvertResult(_Model):
    valid: bool
    sizes: list[Dims]
    decoder: list[Layer]
    decoder_sizes: list[Dims]
    snippets: list[str]
    error: ErrorInfo | None = None
    failed_layer: int | None = None
    exact_input_sizes: ExactSizes | None = None
    is_exact: bool


class Plan(_Model):
    rank: int
    layers: list[Layer]
    sizes: list[Dims]
    score: int
    snippet: str
    cost: Cost


class PlanResult(_Model):
    total: int | None
    plans: list[Plan]
    objective: str
    module: str
    input_size: Dims
    output_size: Dims

    @property
    def best(self) -> Plan | None:
        return self.plans[0] if self.plans else None


class VerifyResult(_Model):
    results: list[Verification]
    worker: str
    device: str | None = None
    device_name: str | None = None
    torch_version: str | None = None
    cuda_version: str | None = None
    cudnn_version: int | None = None


class Objective(_Model):
    name: str
    description: str
    available: bool = True


class Info(_Model):
    service: str
    version: str
    api_version: str
    python: str
    limits: dict[str, int]
    objectives: list[Objective]
    verification: dict[str, Any]


class BatchError(_Model):
    error: dict[str, Any]


# Which component of the service's /openapi.json each model mirrors (the contract test reads it).
SCHEMA_NAMES: dict[type[BaseModel], str] = {
    Layer: "LayerOut",
    Cost: "CostOut",
    DimOverlap: "DimOverlapOut",
    Overlap: "OverlapOut",
    Verification: "VerificationOut",
    Candidate: "CandidateOut",
    NearestSize: "NearestOut",
    SearchResult: "SearchResponse",
    ErrorInfo: "ErrorInfo",
    Dimension: "DimensionOut",
    ShapeResult: "ShapeResponse",
    ExactSizes: "ExactSizesOut",
    InvertResult: "InvertResponse",
    Plan: "PlanOut",
    PlanResult: "PlanResponse",
    VerifyResult: "VerifyResponse",
    Objective: "ObjectiveOut",
    Info: "InfoResponse",
    BatchError: "BatchError",
}
