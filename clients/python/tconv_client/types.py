"""Request and response types. Unknown response fields are kept (a newer server never breaks an
older client).

Each answer comes in two views (AIP-157). A basic model holds the fields of the basic view; the
full model subclasses it, so code written for the basic view accepts a full answer too.

Each full model mirrors one component of the service's ``/openapi.json`` (``SCHEMA_NAMES``); the
contract test fails when a field differs on either side. Requests are TypedDicts: the keys are
the contract's field names, checked by mypy at the call site.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Required, TypedDict

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from torch import nn

Dims = list[int]
View = Literal["basic", "full"]
ObjectiveName = Literal["balanced", "quality", "cost", "conventional", "latency"]
VerifyMode = Literal["none", "meta", "device"]
Device = Literal["auto", "cuda", "cpu", "meta"]

# --- requests -------------------------------------------------------------------------------

Size = int | Sequence[int]
"""7 (a square 2-D size), [16, 9] (2-D) or [5, 5, 5] (3-D)."""

# In the request TypedDicts below, a None value means "the server's default" and is not sent.


class Range(TypedDict, total=False):
    """A search bound: ``{"min": 1, "max": 8}`` (inclusive) or ``{"values": [2, 4]}``."""

    min: int
    max: int
    values: Sequence[int]


Bound = int | Sequence[int] | Range


class ChannelContext(TypedDict, total=False):
    """Channels and batch, for cost and verification; optional on every request with a size."""

    in_channels: int | None
    out_channels: int | None
    groups: int | None
    batch_size: int | None
    bias: bool | None
    dtype: str | None


class LayerParams(TypedDict, total=False):
    stride: Size | None
    padding: Size | None
    output_padding: Size | None
    dilation: Size | None


class LayerSpec(LayerParams, total=False):
    """A ConvTranspose layer in a request; integers broadcast to every dimension."""

    kernel_size: Required[Size]


class ConvSpec(TypedDict, total=False):
    """An encoder's Conv layer (for ``invert``)."""

    kernel_size: Required[Size]
    stride: Size | None
    padding: Size | None
    dilation: Size | None


class ShapeParams(LayerParams, ChannelContext, total=False):
    pass


class ShapeQuery(ShapeParams, total=False):
    """One ``/v1/shape`` request, e.g. an item of ``shape_many``."""

    input_size: Required[Size]
    kernel_size: Required[Size]


class SearchParams(ChannelContext, total=False):
    kernel_size: Bound | None
    stride: Bound | None
    dilation: Bound | None
    padding: Bound | None
    output_padding: Bound | None
    tie_dims: bool | None
    objective: ObjectiveName | None
    limit: int | None
    offset: int | None
    verify: VerifyMode | None


class SearchQuery(SearchParams, total=False):
    """One ``/v1/search`` request, e.g. an item of ``search_many``."""

    input_size: Required[Size]
    output_size: Required[Size]


class PlanParams(ChannelContext, total=False):
    layers: Bound | None
    kernel_size: Bound | None
    stride: Bound | None
    dilation: Bound | None
    padding: Bound | None
    output_padding: Bound | None
    same_layer: bool | None
    monotonic: bool | None
    tie_dims: bool | None
    channels: Sequence[int] | None
    objective: ObjectiveName | None
    limit: int | None


class VerifyParams(ChannelContext, total=False):
    device: Device | None
    timing: bool | None
    backward: bool | None
    numerics: bool | None
    repeats: int | None


# --- answers --------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Layer(_Model):
    """A ConvTranspose layer; every field one entry per spatial dimension."""

    kernel_size: Dims
    stride: Dims
    padding: Dims
    output_padding: Dims
    dilation: Dims

    def to_torch(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        *,
        groups: int = 1,
        bias: bool = True,
        padding_mode: Literal["zeros"] = "zeros",
    ) -> nn.Module:
        """Build the ``torch.nn.ConvTranspose{1,2,3}d`` (needs ``pip install 'tconv-client[torch]'``);
        move it with ``.to(device, dtype)``."""
        try:
            from torch import nn
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("Layer.to_torch() needs torch: pip install 'tconv-client[torch]'") from exc
        module = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[len(self.kernel_size)]
        return module(
            in_channels,
            out_channels,
            groups=groups,
            bias=bias,
            padding_mode=padding_mode,
            **self.model_dump(include=set(Layer.model_fields)),
        )


class Cost(_Model):
    parameters: int
    macs: int


class DimOverlap(_Model):
    """One dimension of the all-ones experiment. ``interior`` is [first, last] output index of
    the periodic part; ``interior_counts`` is one period of its counts."""

    min_count: int
    max_count: int
    holes: int
    interior: Dims
    interior_counts: Dims
    checkerboard: bool
    periodic_counts: Dims = []
    """The layer's own periodic pattern: the count of each residue class (position mod stride)."""


class Artifacts(_Model):
    """Holes and checkerboard as the service ranks them: the layer's periodic pattern."""

    holes: bool
    checkerboard: bool


class Overlap(_Model):
    """The all-ones experiment: how many (input pixel, tap) pairs reach each output pixel."""

    min_count: int
    max_count: int
    holes: int
    uniform_interior: bool | None
    checkerboard: bool
    artifacts: Artifacts | None = None
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


class ErrorCode(_Model):
    """The basic view's error: which rule (``code``) failed, in which dimension."""

    code: str
    dim: int | None = None


class ErrorInfo(ErrorCode):
    message: str


class CandidateBasic(_Model):
    rank: int
    layer: Layer
    output_size: Dims
    score: int


class Candidate(CandidateBasic):
    score_terms: dict[str, int]
    derivation: list[str]
    snippet: str
    cost: Cost
    overlap: Overlap
    verification: Verification | None = None


class NearestBasic(_Model):
    direction: Literal["below", "above"]
    output_size: Dims
    example: CandidateBasic


class NearestSize(NearestBasic):
    example: Candidate


class SearchBasic(_Model):
    """A search in the basic view: the page's candidates and ``total``; ``reason`` and
    ``nearest`` when nothing fits."""

    total: int
    candidates: Sequence[CandidateBasic]
    reason: str | None = None
    nearest: Sequence[NearestBasic] = ()

    @property
    def best(self) -> CandidateBasic | None:
        """The first candidate of this page (rank 1 on the first page), or None when nothing fits."""
        return self.candidates[0] if self.candidates else None


class SearchResult(SearchBasic):
    candidates: Sequence[Candidate]
    nearest: Sequence[NearestSize] = ()
    objective: str
    tie_dims: bool
    module: str
    input_size: Dims
    output_size: Dims
    offset: int
    limit: int

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class Dimension(_Model):
    input_size: int
    output_size: int
    derivation: str


class ShapeBasic(_Model):
    valid: bool
    output_size: Dims | None
    error: ErrorCode | None


class ShapeResult(ShapeBasic):
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


class InvertBasic(_Model):
    sizes: list[Dims]
    decoder: list[Layer]
    is_exact: bool
    exact_input_sizes: ExactSizes | None = None


class InvertResult(InvertBasic):
    valid: bool
    decoder_sizes: list[Dims]
    snippets: list[str]
    error: ErrorInfo | None = None
    failed_layer: int | None = None


class PlanBasic(_Model):
    rank: int
    layers: list[Layer]
    sizes: list[Dims]
    score: int


class Plan(PlanBasic):
    snippet: str
    cost: Cost


class PlanResultBasic(_Model):
    plans: Sequence[PlanBasic]
    total: int | None = None

    @property
    def best(self) -> PlanBasic | None:
        return self.plans[0] if self.plans else None


class PlanResult(PlanResultBasic):
    plans: Sequence[Plan]
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


class WorkerInfo(_Model):
    """Where verification runs: ``mode`` off, embedded or remote; the rest when it is known."""

    mode: str
    available: bool
    reason: str | None = None
    url: str | None = None
    device: str | None = None
    device_name: str | None = None
    torch_version: str | None = None
    cuda_version: str | None = None


class Info(_Model):
    service: str
    version: str
    api_version: str
    python: str
    limits: dict[str, int]
    objectives: list[Objective]
    verification: WorkerInfo


class ErrorDetail(_Model):
    field: str | None
    rule: str
    message: str


class ErrorBody(_Model):
    code: str
    message: str
    details: list[ErrorDetail] | None = None


class BatchError(_Model):
    """A batch item the server refused as a request (the others are answered)."""

    error: ErrorBody


# Which component of the service's /openapi.json each full model mirrors (the contract test reads
# it). The basic models are projections of these; a unit test holds them to that.
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
    ErrorDetail: "ErrorDetail",
    ErrorBody: "ErrorBody",
    BatchError: "BatchError",
}

# Each basic model and the full model it projects.
BASIC_OF: dict[type[BaseModel], type[BaseModel]] = {
    ErrorCode: ErrorInfo,
    CandidateBasic: Candidate,
    NearestBasic: NearestSize,
    SearchBasic: SearchResult,
    ShapeBasic: ShapeResult,
    InvertBasic: InvertResult,
    PlanBasic: Plan,
    PlanResultBasic: PlanResult,
}
