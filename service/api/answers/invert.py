"""/v1/invert answers: an encoder request as ``planning.mirror_encoder``'s input, its decoder as
the wire response."""

from __future__ import annotations

from service.api.answers.views import basic_invert
from service.api.dims import dims, ndim_of
from service.api.explain import JSON, layer_out, snippet
from service.solver.errors import SolverError
from service.solver.planning import ConvLayer, mirror_encoder
from service.wire.schemas import ErrorInfo, ExactSizesOut, InvertRequest, InvertResponse


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
    layers = [
        ConvLayer(
            kernel_size=dims(conv.kernel_size, ndim, f"conv[{n}].kernel_size"),
            stride=dims(conv.stride, ndim, f"conv[{n}].stride"),
            padding=dims(conv.padding, ndim, f"conv[{n}].padding"),
            dilation=dims(conv.dilation, ndim, f"conv[{n}].dilation"),
        )
        for n, conv in enumerate(convs)
    ]
    decoder = mirror_encoder(dims(request.input_size, ndim, "input_size"), layers)
    inversion = decoder.inversion
    full = InvertResponse(
        valid=inversion.is_valid,
        sizes=[list(size) for size in inversion.sizes],
        decoder=[layer_out(layer) for layer in decoder.layers],
        decoder_sizes=[list(size) for size in decoder.sizes],
        snippets=[snippet(layer) for layer in decoder.layers],
        error=ErrorInfo(
            code="conv_kernel_larger_than_input", message=inversion.error, dim=inversion.failed_dim
        )
        if inversion.error
        else None,
        failed_layer=inversion.failed_layer,
        exact_input_sizes=ExactSizesOut(below=list(decoder.exact_below), above=list(decoder.exact_above))
        if decoder.exact_below is not None and decoder.exact_above is not None
        else None,
        is_exact=decoder.is_exact,
    )
    return basic_invert(full.model_dump()) if request.view == "basic" else full
