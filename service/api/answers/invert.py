"""/v1/invert answers: the solver's inversion of an encoder as a wire response."""

from __future__ import annotations

from service.api.answers.views import basic_invert
from service.api.dims import dims, ndim_of
from service.api.explain import JSON, layer_out, snippet
from service.solver.enumeration import DimParams
from service.solver.errors import SolverError
from service.solver.planning import ConvLayer, exact_input_sizes, invert_encoder
from service.wire.schemas import ErrorInfo, ExactSizesOut, InvertRequest, InvertResponse, LayerOut


def answer_invert(request: InvertRequest) -> InvertResponse | JSON:
    """The /v1/invert answer: the full model, or in the basic view its projection."""
    convs = request.conv if isinstance(request.conv, list) else [request.conv]
    if not convs:
        raise SolverError("invalid_request", "conv: give at least one layer", field="conv")
    array_lengths = [
        len(value)
        for conv in convs
        for value in (conv.kernel_size, conv.stride, conv.padding, conv.dilation)
        if isinstance(value, tuple)
    ]
    ndim = ndim_of(input_size=request.input_size, **{f"conv_{n}": (0,) * n for n in set(array_lengths)})
    input_size = dims(request.input_size, ndim, "input_size")
    layers = [
        ConvLayer(
            kernel_size=dims(conv.kernel_size, ndim, f"conv[{n}].kernel_size"),
            stride=dims(conv.stride, ndim, f"conv[{n}].stride"),
            padding=dims(conv.padding, ndim, f"conv[{n}].padding"),
            dilation=dims(conv.dilation, ndim, f"conv[{n}].dilation"),
        )
        for n, conv in enumerate(convs)
    ]
    inversion = invert_encoder(input_size, layers)
    decoder: list[LayerOut] = []
    snippets: list[str] = []
    # A decoder exists only for an encoder torch accepts in full.
    for index in reversed(range(len(inversion.output_paddings) if inversion.is_valid else 0)):
        layer = layers[index]
        transposed = [
            DimParams(k, s, d, p, op)
            for k, s, d, p, op in zip(
                layer.kernel_size,
                layer.stride,
                layer.dilation,
                layer.padding,
                inversion.output_paddings[index],
                strict=True,
            )
        ]
        decoder.append(layer_out(transposed))
        snippets.append(snippet(tuple(transposed)))
    exact = None
    if inversion.is_valid:
        per_dim = [
            exact_input_sizes(
                input_size[dim],
                [(c.kernel_size[dim], c.stride[dim], c.padding[dim], c.dilation[dim]) for c in layers],
            )
            for dim in range(ndim)
        ]
        exact = ExactSizesOut(below=[b for b, _ in per_dim], above=[a for _, a in per_dim])
    full = InvertResponse(
        valid=inversion.is_valid,
        sizes=[list(size) for size in inversion.sizes],
        decoder=decoder,
        decoder_sizes=[list(size) for size in reversed(inversion.sizes[:-1])] if inversion.is_valid else [],
        snippets=snippets,
        error=ErrorInfo(
            code="conv_kernel_larger_than_input", message=inversion.error, dim=inversion.failed_dim
        )
        if inversion.error
        else None,
        failed_layer=inversion.failed_layer,
        exact_input_sizes=exact,
        is_exact=inversion.is_valid and not any(any(ops) for ops in inversion.output_paddings),
    )
    return basic_invert(full.model_dump()) if request.view == "basic" else full
