"""Request and response models: the one source of the wire schema and of /openapi.json.

Ints are strict (no "7", 7.0 or true). Sizes and layer fields accept an int or an array
of 1 to 3 ints; they are normalised to tuples here, at the boundary, and the rest of the
service speaks tuples (as torch's ``_pair`` does).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StrictInt,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from service.solver import limits
from service.solver.enumeration import Bound

IntOrDims = int | tuple[int, ...]


def _dims_validator(lo: int, hi: int) -> PlainValidator:
    """An int or an array of 1..3 ints, each in lo..hi, with a message that names the rule."""

    def check(value: object) -> int:
        if type(value) is not int:
            raise ValueError(f"must be an integer (or an array of integers), got {value!r}")
        if not lo <= value <= hi:
            raise ValueError(f"must be in {lo}..{hi}, got {value}")
        return value

    def validate(value: object) -> IntOrDims:
        if isinstance(value, list | tuple):
            if not 1 <= len(value) <= limits.MAX_SPATIAL_DIMS:
                raise ValueError(f"must have 1 to {limits.MAX_SPATIAL_DIMS} entries, got {len(value)}")
            return tuple(check(v) for v in value)
        return check(value)

    return PlainValidator(validate)


def _dump_dims(value: IntOrDims) -> int | list[int]:
    return list(value) if isinstance(value, tuple) else value


# Requests are also sent onwards (API -> worker), so the int-or-tuple fields serialise too.
_DIMS_SERIALIZER = PlainSerializer(_dump_dims, return_type=int | list[int])


def _dims_schema(lo: int, hi: int, description: str) -> WithJsonSchema:
    item = {"type": "integer", "minimum": lo, "maximum": hi}
    array = {"type": "array", "items": item, "minItems": 1, "maxItems": limits.MAX_SPATIAL_DIMS}
    return WithJsonSchema({"description": description, "anyOf": [item, array]})


Size = Annotated[
    IntOrDims,
    _dims_validator(1, limits.MAX_SIZE),
    _DIMS_SERIALIZER,
    _dims_schema(
        1, limits.MAX_SIZE, "An integer (a square 2-D size) or an array of 1 to 3 integers (1-D, 2-D or 3-D)."
    ),
]
KernelSize = Annotated[
    IntOrDims,
    _dims_validator(1, limits.MAX_KERNEL_SIZE),
    _DIMS_SERIALIZER,
    _dims_schema(1, limits.MAX_KERNEL_SIZE, "Kernel size: an int, or one per dimension."),
]
Stride = Annotated[
    IntOrDims,
    _dims_validator(1, limits.MAX_STRIDE),
    _DIMS_SERIALIZER,
    _dims_schema(1, limits.MAX_STRIDE, "Stride: an int, or one per dimension."),
]
Padding = Annotated[
    IntOrDims,
    _dims_validator(0, limits.MAX_PADDING),
    _DIMS_SERIALIZER,
    _dims_schema(0, limits.MAX_PADDING, "Padding, cropped from both ends of the output."),
]
OutputPadding = Annotated[
    IntOrDims,
    _dims_validator(0, limits.MAX_OUTPUT_PADDING),
    _DIMS_SERIALIZER,
    _dims_schema(0, limits.MAX_OUTPUT_PADDING, "Extra length added to one end of the output."),
]
Dilation = Annotated[
    IntOrDims,
    _dims_validator(1, limits.MAX_DILATION),
    _DIMS_SERIALIZER,
    _dims_schema(1, limits.MAX_DILATION, "Spacing between kernel taps."),
]

Dtype = Literal["float32", "float64", "float16", "bfloat16"]

View = Literal["basic", "full"]
_VIEW_DESCRIPTION = (
    "`full` (the default for a single request): the answer with every explanation. `basic`: only "
    "the fields a machine filters on, exactly the projection of the full answer (AIP-157 partial "
    "responses)."
)
_BATCH_VIEW_DESCRIPTION = (
    "The view of every item's answer, set once for the batch: `basic` (the default for batches) or "
    "`full`. Items themselves take no `view`."
)


ChannelCount = Annotated[StrictInt, Field(ge=1, le=limits.MAX_CHANNELS)]


class ChannelContext(BaseModel):
    """Channels and cost context; used for the groups rule, for cost, and for verification."""

    in_channels: StrictInt = Field(1, ge=1, le=limits.MAX_CHANNELS, description="Input channels.")
    out_channels: StrictInt = Field(1, ge=1, le=limits.MAX_CHANNELS, description="Output channels.")
    groups: StrictInt = Field(
        1, ge=1, le=limits.MAX_CHANNELS, description="Blocked connections; divides both channel counts."
    )
    batch_size: StrictInt = Field(1, ge=1, le=limits.MAX_BATCH_SIZE, description="Batch size, for cost.")
    bias: StrictBool = Field(True, description="Whether the layer has a bias.")
    dtype: Dtype = Field("float32", description="Tensor dtype, for verification and memory.")


class ShapeQuery(ChannelContext):
    """A layer and an input size: what does PyTorch produce? (One item of /v1/shape/batch.)"""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1}]},
    )

    input_size: Size
    kernel_size: KernelSize
    stride: Stride = 1
    padding: Padding = 0
    output_padding: OutputPadding = 0
    dilation: Dilation = 1


class ShapeRequest(ShapeQuery):
    """A layer and an input size: what does PyTorch produce?"""

    view: View = Field("full", description=_VIEW_DESCRIPTION)


class ErrorInfo(BaseModel):
    """A machine-readable ``code`` (stable snake_case) and a message for people."""

    code: str = Field(description="Stable snake_case code, e.g. `output_padding_too_large`.")
    message: str = Field(description="Which rule failed and by how much; wording may change.")
    dim: int | None = Field(None, description="Spatial dimension (0-based) the rule failed in, if any.")


class ErrorDetail(BaseModel):
    field: str | None = Field(description="Dotted path of the offending request field.")
    rule: str = Field(description="The rule that failed (pydantic error type or solver code).")
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx response."""

    error: ErrorBody


class LayerOut(BaseModel):
    """A ConvTranspose layer; every field has one entry per spatial dimension."""

    kernel_size: list[int]
    stride: list[int]
    padding: list[int]
    output_padding: list[int]
    dilation: list[int]


class CostOut(BaseModel):
    """Cost for the request's channel context (in/out channels, groups, batch, bias)."""

    parameters: int = Field(description="Weights plus bias, as `sum(p.numel() for p in layer.parameters())`.")
    macs: int = Field(description="Multiply-accumulates; torch's FlopCounterMode reports 2 × this.")


class DimOverlapOut(BaseModel):
    min_count: int
    max_count: int
    holes: int = Field(description="Output positions along this dimension that no input reaches.")
    interior: list[int] = Field(
        description="[start, stop) of the output positions every kernel tap reaches from inside the input."
    )
    interior_counts: list[int] = Field(description="The distinct overlap counts over the interior.")
    checkerboard: bool = Field(description="The interior count is not constant along this dimension.")
    periodic_counts: list[int] = Field(
        description="The layer's periodic pattern: the overlap count of each residue class "
        "(output position mod stride) over a long input. Depends on kernel_size, stride and dilation only."
    )


class ArtifactsOut(BaseModel):
    """Artifacts as ranking judges them: the layer's periodic pattern (what a long input shows), or
    the output itself along a dimension whose input is a single pixel."""

    holes: bool = Field(description="Some residue class gets no input (or, over one pixel, some output).")
    checkerboard: bool = Field(description="The residue classes get uneven counts (Odena et al., 2016).")


class OverlapOut(BaseModel):
    """The all-ones experiment, computed: ones input, ones weights, no bias; each output pixel
    holds how many (input pixel, kernel tap) pairs reach it. The n-D map is the outer product of
    the per-dimension counts."""

    min_count: int
    max_count: int
    holes: int = Field(description="Output pixels no input pixel reaches (they hold only the bias).")
    uniform_interior: bool | None = Field(
        description="Whether every pixel of the interior gets the same count; null when the interior "
        "is empty (the input is too small for any pixel to see every tap)."
    )
    checkerboard: bool = Field(
        description="Uneven overlap (Odena et al., 2016): in some dimension the interior count, at this "
        "input size, varies."
    )
    artifacts: ArtifactsOut = Field(description="What ranking judges: the layer's own periodic pattern.")
    dims: list[DimOverlapOut]


class DimensionOut(BaseModel):
    input_size: int
    output_size: int = Field(description="May be < 1 when the layer is invalid.")
    derivation: str = Field(description="The forward formula with this dimension's numbers.")


Target = Literal["onnx", "jax", "keras"]


class TargetVerdictOut(BaseModel):
    """Whether one export target reproduces the layer (size and values), as its runtime does."""

    status: Literal["exact", "refused"] = Field(
        description="`exact`: the target gives PyTorch's output size and values (float32 tolerance) from "
        "PyTorch's weights, possibly with a helper op (a Keras Cropping layer). `refused`: it cannot."
    )
    reason: str | None = Field(None, description="When refused: the rule the target's runtime applies.")


class PortabilityOut(BaseModel):
    """Per export target, as measured with onnxruntime, jax and keras (JAX backend); docs/portability.md."""

    onnx: TargetVerdictOut = Field(description="An ONNX ConvTranspose node (opset 17), run by onnxruntime.")
    jax: TargetVerdictOut = Field(description="`jax.lax.conv_general_dilated` with lhs_dilation.")
    keras: TargetVerdictOut = Field(description="Keras 3 `Conv{N}DTranspose` (+ `Cropping{N}D`).")


class ErrorCodeOut(BaseModel):
    """The basic view of an error: its stable code and the dimension it failed in."""

    code: str = Field(description="Stable snake_case code, e.g. `output_padding_too_large`.")
    dim: int | None = Field(None, description="Spatial dimension (0-based) the rule failed in, if any.")


class ShapeBasicResponse(BaseModel):
    """/v1/shape in the basic view: the verdict only."""

    valid: bool
    output_size: list[int] | None = Field(description="PyTorch's output spatial size; null when invalid.")
    error: ErrorCodeOut | None = Field(description="The first rule PyTorch would refuse; null when valid.")


class ShapeResponse(BaseModel):
    valid: bool
    output_size: list[int] | None = Field(description="PyTorch's output spatial size; null when invalid.")
    error: ErrorInfo | None = Field(description="The first rule PyTorch would refuse; null when valid.")
    errors: list[ErrorInfo] = Field(description="Every rule the layer breaks, in dimension order.")
    module: str = Field(description="`ConvTranspose1d`, `ConvTranspose2d` or `ConvTranspose3d`.")
    layer: LayerOut
    dimensions: list[DimensionOut]
    cost: CostOut | None = Field(description="Parameters and MACs; null when the layer is invalid.")
    overlap: OverlapOut | None = Field(description="The overlap analysis; null when the layer is invalid.")
    portability: PortabilityOut | None = Field(
        None, description="Whether ONNX, JAX and Keras reproduce the layer; null when it is invalid."
    )


def _range_shorthands(schema: dict[str, Any]) -> None:
    """Publish the shorthands the validator accepts: an int, an array, or the object."""
    as_object = {key: value for key, value in schema.items() if key not in ("title", "description")}
    description = schema.get("description", "")
    schema.clear()
    schema.update(
        {
            "title": "Range",
            "description": description,
            "examples": [{"min": 1, "max": 8}, {"values": [2, 4]}, 3],
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1},
                as_object,
            ],
        }
    )


class Range(BaseModel):
    """A search bound: ``{"min": a, "max": b}`` (inclusive) or ``{"values": [v, ...]}``.

    A bare integer ``n`` means ``{"values": [n]}`` and a bare array means ``{"values": [...]}``.
    ``min`` defaults to the field's smallest legal value.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_range_shorthands)

    min: StrictInt | None = Field(None, ge=0)
    max: StrictInt | None = Field(None, ge=0)
    values: list[StrictInt] | None = Field(None, min_length=1, max_length=limits.MAX_RANGE_VALUES)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if type(value) is int:
            return {"values": [value]}
        if isinstance(value, list):
            return {"values": value}
        return value

    @model_validator(mode="after")
    def _one_form(self) -> Range:
        if self.values is not None and (self.min is not None or self.max is not None):
            raise ValueError("give either min/max or values, not both")
        if self.values is None and self.max is None:
            raise ValueError("needs max (and optionally min) or values")
        if self.min is not None and self.max is not None and self.min > self.max:
            # Its own rule: JSON Schema cannot compare two fields, so this is the one range rule
            # the published schema leaves to the service (tests/fuzz/checks.py knows it).
            raise PydanticCustomError(
                "range_order", "min {min} is greater than max {max}", {"min": self.min, "max": self.max}
            )
        return self

    def to_bound(self, lo: int) -> Bound:
        if self.values is not None:
            return Bound.of_values(self.values)
        assert self.max is not None
        return Bound(self.min if self.min is not None else lo, self.max)


def _range_within(lo: int, hi: int) -> Any:
    def check(value: Range | None) -> Range | None:
        if value is None:
            return None
        members = (
            value.values
            if value.values is not None
            else [value.min if value.min is not None else lo, value.max]
        )
        bad = [v for v in members if v is not None and not lo <= v <= hi]
        if bad:
            raise ValueError(f"must lie within {lo}..{hi}, got {bad[0]}")
        return value

    return AfterValidator(check)


def _range_schema(lo: int, hi: int, *, nullable: bool = False) -> WithJsonSchema:
    """The published form of one bound: an int, an array of ints, or the Range object, each with
    this field's legal values (the shared Range model cannot say which field it bounds)."""
    item = {"type": "integer", "minimum": lo, "maximum": hi}
    values = {"type": "array", "items": item, "minItems": 1, "maxItems": limits.MAX_RANGE_VALUES}
    forms: list[dict[str, Any]] = [
        item,
        values,
        # The two object forms exclude each other, as the validator does; null means "not given".
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["max"],
            "properties": {"min": {"anyOf": [item, {"type": "null"}]}, "max": item},
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["values"],
            "properties": {"values": values},
        },
    ]
    if nullable:
        forms.append({"type": "null"})
    return WithJsonSchema({"anyOf": forms})


KernelBound = Annotated[
    Range, _range_within(1, limits.MAX_KERNEL_SIZE), _range_schema(1, limits.MAX_KERNEL_SIZE)
]
StrideBound = Annotated[Range, _range_within(1, limits.MAX_STRIDE), _range_schema(1, limits.MAX_STRIDE)]
DilationBound = Annotated[Range, _range_within(1, limits.MAX_DILATION), _range_schema(1, limits.MAX_DILATION)]
PaddingBound = Annotated[
    Range | None, _range_within(0, limits.MAX_PADDING), _range_schema(0, limits.MAX_PADDING, nullable=True)
]
OutputPaddingBound = Annotated[
    Range | None,
    _range_within(0, limits.MAX_OUTPUT_PADDING),
    _range_schema(0, limits.MAX_OUTPUT_PADDING, nullable=True),
]
LayerCountBound = Annotated[
    Range, _range_within(1, limits.MAX_PLAN_LAYERS), _range_schema(1, limits.MAX_PLAN_LAYERS)
]

ObjectiveName = Literal["balanced", "quality", "cost", "conventional", "latency"]
# Plans are ranked by the solver alone: latency (measured per layer on the worker) is not offered.
PlanObjectiveName = Literal["balanced", "quality", "cost", "conventional"]


class LayerBounds(BaseModel):
    """Bounds on the layer parameters a search (or each layer of a plan) may use."""

    kernel_size: KernelBound = Field(
        default_factory=lambda: Range(min=1, max=8), description="Kernel sizes to consider. Default 1..8."
    )
    stride: StrideBound = Field(
        default_factory=lambda: Range(min=1, max=8), description="Strides to consider. Default 1..8."
    )
    dilation: DilationBound = Field(
        default_factory=lambda: Range(values=[1]), description="Dilations to consider. Default [1]."
    )
    padding: PaddingBound = Field(
        None, description="Paddings to consider. Default: 0..dilation·(kernel_size−1) for each candidate."
    )
    output_padding: OutputPaddingBound = Field(
        None, description="Output paddings to consider. Default: the legal 0..max(stride, dilation)−1."
    )
    portable_to: list[Target] = Field(
        default_factory=list,
        max_length=3,
        description="Keep only layers that export exactly to every one of these targets (see "
        "`portability`); `total` counts them exactly.",
    )


class SearchQuery(ChannelContext, LayerBounds):
    """Find and rank every layer that maps ``input_size`` to ``output_size``. (One item of
    /v1/search/batch.)"""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"input_size": 7, "output_size": 14},
                {
                    "input_size": [16, 9],
                    "output_size": [32, 18],
                    "kernel_size": {"min": 2, "max": 6},
                    "limit": 3,
                },
            ]
        },
    )

    input_size: Size
    output_size: Size
    tie_dims: StrictBool = Field(
        True,
        description="Same kernel_size, stride and dilation in every dimension (padding and output_padding "
        "are always per dimension). false: every parameter free per dimension.",
    )
    objective: ObjectiveName = Field("balanced", description="Named ranking; see GET /v1/info for the set.")
    limit: StrictInt = Field(10, ge=1, le=limits.MAX_LIMIT, description="Page size.")
    offset: StrictInt = Field(
        0, ge=0, le=limits.MAX_OFFSET, description="Rank of the page's first candidate, minus one."
    )
    verify: Literal["none", "meta", "device"] = Field(
        "none", description="Attach a verification result to each candidate (see /v1/verify)."
    )


class SearchRequest(SearchQuery):
    """Find and rank every layer that maps ``input_size`` to ``output_size``."""

    view: View = Field("full", description=_VIEW_DESCRIPTION)


class LayerIn(BaseModel):
    """A ConvTranspose layer in a request; each field an int (broadcast) or one per dimension."""

    model_config = ConfigDict(extra="forbid")

    kernel_size: KernelSize
    stride: Stride = 1
    padding: Padding = 0
    output_padding: OutputPadding = 0
    dilation: Dilation = 1


VerifyDevice = Literal["auto", "cuda", "cpu", "meta"]


class VerifyRequest(ChannelContext):
    """Build each layer in real PyTorch, run it on a seeded random input, compare with the solver."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "input_size": 7,
                    "layers": [
                        {"kernel_size": 4, "stride": 2, "padding": 1},
                        {"kernel_size": 3, "stride": 2},
                    ],
                    "in_channels": 64,
                    "out_channels": 32,
                    "device": "auto",
                    "timing": True,
                }
            ]
        },
    )

    layers: list[LayerIn] = Field(min_length=1, max_length=limits.MAX_VERIFY_LAYERS)
    input_size: Size
    device: VerifyDevice = Field(
        "auto",
        description="`auto`: a GPU when the worker has one, else the CPU. `meta` checks shapes only; "
        "it never confirms what the CPU and CUDA kernels refuse.",
    )
    timing: StrictBool = Field(False, description="Measure forward latency (median of `repeats`).")
    backward: StrictBool = Field(False, description="Also run backward (and time it when `timing`).")
    numerics: StrictBool = Field(
        False, description="Compare with a float64 CPU reference of the same weights; report the max error."
    )
    repeats: StrictInt = Field(5, ge=1, le=limits.MAX_VERIFY_REPEATS, description="Timed runs per layer.")
    targets: list[Target] = Field(
        default_factory=list,
        max_length=3,
        description="Also run each layer in these export targets on the same seeded input and weights, "
        "and report the largest absolute difference from PyTorch (CPU, float32).",
    )


class TargetCheckOut(BaseModel):
    """One export target run on the worker against PyTorch (CPU), same seeded input and weights."""

    status: Literal["confirmed", "failed", "unavailable"] = Field(
        description="`confirmed`: same size, values within float32 tolerance (1e-4 relative and absolute). "
        "`failed`: the runtime refused the layer or differs. `unavailable`: not installed on the worker."
    )
    max_abs_difference: float | None = Field(None, description="Largest |target − PyTorch| over the output.")
    error: str | None = Field(None, description="The runtime's own message, or why it was not run.")
    version: str | None = Field(None, description="The runtime's version on the worker.")


class VerificationOut(BaseModel):
    """One layer's verdict from real PyTorch."""

    model_config = ConfigDict(extra="allow")

    status: Literal["confirmed", "failed", "unavailable"] = Field(
        description="`confirmed`: PyTorch built and ran it and produced exactly the predicted, non-empty "
        "size. `failed`: PyTorch refused it or produced something else. `unavailable`: not run (no "
        "worker, worker busy or unreachable, deadline passed, tensors over the cap, no CUDA device)."
    )
    output_size: list[int] | None = Field(None, description="The spatial size PyTorch produced.")
    expected_output_size: list[int] | None = Field(
        None, description="The solver's prediction; null when the solver says PyTorch refuses the layer."
    )
    error: str | None = Field(None, description="What PyTorch said, or why the layer was not run.")
    device: str | None = Field(None, description="`cpu`, `cuda:0` or `meta`.")
    latency_ms: float | None = Field(None, description="Median forward time, when timing was asked.")
    backward_ms: float | None = Field(None, description="Median backward time, when timing and backward.")
    max_abs_error: float | None = Field(None, description="Against a float64 CPU reference, when asked.")
    peak_memory_bytes: int | None = Field(None, description="CUDA only: peak allocated during the run.")
    accepted_by: list[str] = Field(
        default_factory=list, description="Devices that ran the layer, when devices disagree."
    )
    refused_by: list[str] = Field(
        default_factory=list, description="Devices (or kernels, by the solver's rules) that refuse it."
    )
    cached: bool = Field(False, description="Answered from the worker's result cache.")
    targets: dict[str, TargetCheckOut] = Field(
        default_factory=dict, description="Per requested export target: the same layer run there."
    )


class VerifyResponse(BaseModel):
    results: list[VerificationOut] = Field(description="One per requested layer, in order.")
    worker: str = Field(description="`embedded`, the worker's URL, or `none`.")
    device: str | None = Field(None, description="The device `auto` resolved to.")
    device_name: str | None = None
    torch_version: str | None = None
    cuda_version: str | None = None
    cudnn_version: int | None = None


class CandidateOut(BaseModel):
    rank: int = Field(description="1-based position in the whole ranked list.")
    layer: LayerOut
    output_size: list[int]
    score: int = Field(
        description="The objective's score: lower is better. "
        "The sum of score_terms (their product for `cost`)."
    )
    score_terms: dict[str, int] = Field(
        description="The objective's named terms, combined over dimensions as the score is."
    )
    derivation: list[str] = Field(description="Per dimension, the forward formula filled in.")
    snippet: str = Field(description="A ready-to-paste PyTorch constructor.")
    cost: CostOut
    overlap: OverlapOut
    portability: PortabilityOut
    verification: VerificationOut | None = None


class NearestOut(BaseModel):
    direction: Literal["below", "above"]
    output_size: list[int]
    example: CandidateOut


class CandidateBasicOut(BaseModel):
    """A candidate in the basic view."""

    rank: int = Field(description="1-based position in the whole ranked list.")
    layer: LayerOut
    output_size: list[int]
    score: int = Field(description="The objective's score: lower is better.")
    verification: VerificationOut | None = Field(None, description="Only when the search asked `verify`.")


class NearestBasicOut(BaseModel):
    direction: Literal["below", "above"]
    output_size: list[int]
    example: CandidateBasicOut


class SearchBasicResponse(BaseModel):
    """/v1/search in the basic view: the exact count and the ranked page; `reason` and `nearest`
    only when nothing fits."""

    total: int = Field(description="Number of valid configurations in the whole space.")
    candidates: list[CandidateBasicOut] = Field(description="This page, best first.")
    reason: str | None = Field(None, description="Only when total is 0: which bound blocks the request.")
    nearest: list[NearestBasicOut] | None = Field(
        None, description="Only when total is 0: the nearest reachable sizes below and above."
    )


class SearchResponse(BaseModel):
    total: int = Field(description="Number of valid configurations in the whole space.")
    candidates: list[CandidateOut] = Field(description="This page, best first.")
    objective: str
    tie_dims: bool
    module: str
    input_size: list[int]
    output_size: list[int]
    offset: int
    limit: int
    reason: str | None = Field(None, description="When total is 0: which bound blocks the request.")
    nearest: list[NearestOut] = Field(
        default_factory=list, description="When total is 0: the nearest reachable sizes below and above."
    )


class ObjectiveOut(BaseModel):
    name: str
    description: str
    available: bool = Field(
        True, description="False for `latency` while no verification worker is reachable."
    )


class InfoResponse(BaseModel):
    service: str
    version: str
    api_version: str
    python: str = Field(description="The Python version; `hidden` unless TCONV_EXPOSE_INTERNALS is set.")
    limits: dict[str, int]
    objectives: list[ObjectiveOut]
    verification: dict[str, Any]


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadyResponse(BaseModel):
    status: Literal["ready", "degraded"]
    worker: dict[str, Any]


class ConvIn(BaseModel):
    """An encoder Conv layer; each field an int (broadcast) or one per dimension."""

    model_config = ConfigDict(extra="forbid")

    kernel_size: KernelSize
    stride: Stride = 1
    padding: Padding = 0
    dilation: Dilation = 1


class InvertRequest(BaseModel):
    """Undo the shape change of a Conv layer or of an encoder (a list, applied in order)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "input_size": [572, 572],
                    "conv": [{"kernel_size": 3, "stride": 2, "padding": 1}] * 4,
                }
            ]
        },
    )

    input_size: Size
    conv: ConvIn | list[ConvIn] = Field(description="One Conv layer or the encoder's layers in order.")
    view: View = Field("full", description=_VIEW_DESCRIPTION)


class ExactSizesOut(BaseModel):
    below: list[int | None] = Field(
        description="Per dimension, the nearest exact input size <= the given one."
    )
    above: list[int | None] = Field(
        description="Per dimension, the nearest exact input size >= the given one."
    )


class InvertResponse(BaseModel):
    valid: bool
    sizes: list[list[int]] = Field(description="The input size, then the size after each encoder layer.")
    decoder: list[LayerOut] = Field(
        description="ConvTranspose layers in decoder order (last encoder layer first)."
    )
    decoder_sizes: list[list[int]] = Field(
        description="Size after each decoder layer; the last is input_size."
    )
    snippets: list[str] = Field(description="PyTorch constructors of the decoder layers, in decoder order.")
    error: ErrorInfo | None = None
    failed_layer: int | None = Field(None, description="Index of the encoder layer torch would refuse.")
    exact_input_sizes: ExactSizesOut | None = Field(
        None,
        description="Nearest input sizes at which every stage is exact (no output_padding needed, so a "
        "plain mirrored decoder lines up with every skip connection).",
    )
    is_exact: bool = Field(description="Whether every stage is already exact at this input size.")


class InvertBasicResponse(BaseModel):
    """/v1/invert in the basic view (an encoder torch refuses: no decoder, no exact sizes)."""

    sizes: list[list[int]] = Field(description="The input size, then the size after each encoder layer.")
    decoder: list[LayerOut] = Field(
        description="ConvTranspose layers in decoder order (last encoder layer first)."
    )
    is_exact: bool = Field(description="Whether every stage is already exact at this input size.")
    exact_input_sizes: ExactSizesOut | None = Field(
        None, description="Nearest input sizes at which every stage is exact."
    )


class PlanRequest(ChannelContext, LayerBounds):
    """Stacks of ConvTranspose layers from ``input_size`` to ``output_size``, best first."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"input_size": 4, "output_size": 64, "layers": 4, "channels": [512, 256, 128, 64, 3]},
                {"input_size": 4, "output_size": 256, "layers": {"min": 3, "max": 6}},
            ]
        },
    )

    input_size: Size
    output_size: Size
    layers: LayerCountBound = Field(
        default_factory=lambda: Range(min=1, max=4),
        description=f"Number of layers: an int or a range (default 1..4, at most {limits.MAX_PLAN_LAYERS}).",
    )
    same_layer: StrictBool = Field(False, description="Repeat one layer (true) or choose each layer freely.")
    monotonic: StrictBool = Field(
        True,
        description="Sizes never shrink from one layer to the next (default). false: any size from 1 up to "
        "the larger of the current and the target size.",
    )
    tie_dims: StrictBool = Field(
        True,
        description="Each layer has one kernel_size, stride and dilation; dimensions with the same input "
        "and output size also share padding and output_padding (so a square request plans square "
        "layers and square intermediate sizes). false: every parameter free per dimension, each "
        "dimension planned on its own (not with objective `cost`, whose MACs multiply across them).",
    )
    channels: list[ChannelCount] | None = Field(
        None,
        min_length=2,
        max_length=limits.MAX_PLAN_LAYERS + 1,
        description="Channel schedule, one count per size (layers + 1 entries; needs a fixed number of "
        "layers): layer j maps channels[j] to channels[j+1]. Without it every layer maps in_channels to "
        "out_channels. Used for cost, for the snippets and for the groups rule.",
    )
    objective: PlanObjectiveName = Field(
        "balanced",
        description="Named ranking, summed over layers. `cost` sums each layer's MACs for its input size "
        "and channels. `latency` is not available for plans.",
    )
    limit: StrictInt = Field(10, ge=1, le=limits.MAX_PLAN_LIMIT, description="How many plans, best first.")
    view: View = Field("full", description=_VIEW_DESCRIPTION)


class PlanOut(BaseModel):
    rank: int = Field(description="1-based position among all plans.")
    layers: list[LayerOut]
    sizes: list[list[int]] = Field(description="The size after each layer; the last is output_size.")
    score: int = Field(description="The objective's score summed over layers (MACs for `cost`).")
    snippet: str = Field(description="A ready-to-paste `nn.Sequential` of the layers.")
    cost: CostOut = Field(description="Parameters and MACs summed over the layers.")


class PlanBasicOut(BaseModel):
    rank: int = Field(description="1-based position among all plans.")
    layers: list[LayerOut]
    sizes: list[list[int]] = Field(description="The size after each layer; the last is output_size.")
    score: int = Field(description="The objective's score summed over layers (MACs for `cost`).")


class PlanBasicResponse(BaseModel):
    """/v1/plan in the basic view."""

    total: int | None = Field(description="Exact number of plans within the bounds.")
    plans: list[PlanBasicOut]


class PlanResponse(BaseModel):
    total: int | None = Field(description="Exact number of plans within the bounds.")
    plans: list[PlanOut]
    objective: str
    module: str
    input_size: list[int]
    output_size: list[int]


BatchQuery = dict[str, Any]


def _shape_items_as_parsed(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A parsed JSON list of 1 to MAX_SHAPE_BATCH objects is taken as it is: its items are checked
    column by column where they are answered (answers/shape.py), and copying 10,000 dicts here
    cost as much as that check. Anything else gets the usual validation and its usual errors."""
    if type(value) is list and 1 <= len(value) <= limits.MAX_SHAPE_BATCH and set(map(type, value)) == {dict}:
        return value
    return handler(value)


class ShapeBatchRequest(BaseModel):
    """The NAS filter: many /v1/shape requests, each answered alone, in order."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "queries": [
                        {"input_size": 16, "kernel_size": 4, "stride": 2, "padding": 1},
                        {"input_size": 16, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 2},
                    ]
                }
            ]
        },
    )

    queries: Annotated[list[BatchQuery], WrapValidator(_shape_items_as_parsed)] = Field(
        min_length=1,
        max_length=limits.MAX_SHAPE_BATCH,
        description=f"Up to {limits.MAX_SHAPE_BATCH} /v1/shape requests; a malformed one fails alone.",
    )
    view: View = Field("basic", description=_BATCH_VIEW_DESCRIPTION)


class SearchBatchRequest(BaseModel):
    """Many /v1/search requests, answered in order; one item's failure does not fail the others."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "queries": [
                        {"input_size": 8, "output_size": 16, "limit": 1},
                        {"input_size": [4, 6], "output_size": [8, 12], "limit": 1},
                    ]
                }
            ]
        },
    )

    queries: list[BatchQuery] = Field(
        min_length=1,
        max_length=limits.MAX_SEARCH_BATCH,
        description=f"Up to {limits.MAX_SEARCH_BATCH} /v1/search requests; one item's failure fails alone.",
    )
    view: View = Field("basic", description=_BATCH_VIEW_DESCRIPTION)


class BatchError(BaseModel):
    error: ErrorBody


class ShapeBatchResponse(BaseModel):
    results: list[ShapeResponse | ShapeBasicResponse | BatchError] = Field(
        description="In request order, in the batch's view."
    )


class SearchBatchResponse(BaseModel):
    results: list[SearchResponse | SearchBasicResponse | BatchError] = Field(
        description="In request order, in the batch's view."
    )


# Exactly one of `layer` and `layers`, as the validator says (null counts as absent).
_ONE_OF_LAYER_OR_LAYERS: list[JsonValue] = [
    {
        "required": [given],
        "properties": {given: {"not": {"type": "null"}}},
        "not": {"required": [other], "properties": {other: {"not": {"type": "null"}}}},
    }
    for given, other in (("layer", "layers"), ("layers", "layer"))
]


class ExportRequest(ChannelContext):
    """A layer (or a plan's layers) written for one export target."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": _ONE_OF_LAYER_OR_LAYERS,
            "examples": [
                {
                    "input_size": 7,
                    "layer": {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
                    "target": "onnx",
                    "in_channels": 8,
                    "out_channels": 4,
                },
            ],
        },
    )

    input_size: Size
    layer: LayerIn | None = Field(None, description="One layer; give this or `layers`.")
    layers: list[LayerIn] | None = Field(
        None,
        min_length=1,
        max_length=limits.MAX_PLAN_LAYERS,
        description="A plan's layers in order; every layer maps in_channels to out_channels except as "
        "`channels` says.",
    )
    channels: list[ChannelCount] | None = Field(
        None,
        min_length=2,
        max_length=limits.MAX_PLAN_LAYERS + 1,
        description="With `layers`: one channel count per size (layers + 1 entries), as in /v1/plan.",
    )
    target: Target

    @model_validator(mode="after")
    def _one_of_layer_or_layers(self) -> ExportRequest:
        if (self.layer is None) == (self.layers is None):
            raise ValueError("give exactly one of `layer` and `layers`")
        return self


class ExportResponse(BaseModel):
    target: Target
    portability: TargetVerdictOut = Field(
        description="The target's verdict: `exact` when every layer ports exactly; else each refusing "
        "layer's rule (prefixed `layer n:` for several layers)."
    )
    code: str | None = Field(
        description="Equivalent code: the ONNX node's attributes, a JAX function, or a Keras layer stack; "
        "null when a layer is refused."
    )
    onnx_model_base64: str | None = Field(
        description="For `onnx`: the model file (opset 17), base64. Graph inputs `x` and `W` (`B` with a "
        "bias) in PyTorch's layouts, or `W0`, `B0`, `W1`, ... for several layers; output `y`."
    )
    output_size: list[int] = Field(description="The size after the last layer.")
